"""A rebuildable index of the case files, so that repeated reads skip parsing YAML.

Parsing YAML, not reading the disk, is what costs: ten thousand case files take seconds to
parse and a few milliseconds to stat. The index (``.kitamono/index.json``, never in git) keeps
each file's size, modification time and validated case (or the reason it could not be read).
A command stats every file, reuses the entries whose size and time are unchanged, parses only
the rest (on every core when there are many) and rewrites the index atomically.

What the index keeps of a case is a ``CaseRecord``: every field of the case but the contact
details (personal data stays in the case files alone), as plain named tuples that load in
milliseconds. Reports, listings and checks read records; a record has the same attribute names
as ``models.Case``, so the pure functions of ``cases`` and ``checks`` take either. The file is a
pickle read by an unpickler that admits only these record types and ``datetime.date``, so a
tampered index cannot run code; anything else in it makes it "damaged".

The case files stay the source of truth: a damaged index, or one written by another version of
kitamono, is discarded and rebuilt with a note, and an entry whose file changed within the same
clock tick as the index was written is never trusted (the racy-clean rule of git's own index).
"""

from __future__ import annotations

import os
import pickle
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from kitamono import __version__
from kitamono.errors import DataError
from kitamono.i18n import t

if TYPE_CHECKING:  # the models (and pydantic) load only when a file must be parsed
    from kitamono.models import Case

INDEX_FORMAT = 1
INDEX_VERSION = f"{__version__}/{INDEX_FORMAT}"
INDEX_NAME = "index.pickle"
#: Files modified this close to the index's build are parsed again next time.
RACY_NS = 2_000_000_000
#: Below this many files to parse, one process is faster than starting workers.
PARALLEL_FROM = 400


class CompanyRecord(NamedTuple):
    name: str
    municipality: str
    bank: str | None


class EventRecord(NamedTuple):
    type: str
    date: date
    by: str
    to: str | None
    lead: str | None
    supporting: tuple[str, ...]
    members: tuple[str, ...]
    outcome: str | None
    note: str | None


class ConflictRecord(NamedTuple):
    field: str
    ours: str | None
    theirs: str | None


class CaseRecord(NamedTuple):
    """A case as reports need it: all of ``models.Case`` but ``contact``."""

    id: str
    demo: bool
    received_on: date
    received_by: str
    channel: str
    company: CompanyRecord
    title: str
    summary: str
    field: str
    needs: tuple[str, ...]
    approved_project: date | None
    events: tuple[EventRecord, ...]
    conflicts: tuple[ConflictRecord, ...]
    contact: None = None


def to_record(case: Case) -> CaseRecord:
    return CaseRecord(
        id=case.id,
        demo=case.demo,
        received_on=case.received_on,
        received_by=case.received_by,
        channel=case.channel,
        company=CompanyRecord(case.company.name, case.company.municipality, case.company.bank),
        title=case.title,
        summary=case.summary,
        field=case.field,
        needs=tuple(case.needs),
        approved_project=case.approved_project,
        events=tuple(
            EventRecord(e.type, e.date, e.by, e.to, e.lead, tuple(e.supporting), tuple(e.members), e.outcome, e.note)
            for e in case.events
        ),
        conflicts=tuple(ConflictRecord(c.field, c.ours, c.theirs) for c in case.conflicts),
    )


class Entry(NamedTuple):
    path: str
    size: int
    mtime_ns: int
    record: CaseRecord | None
    error: str | None


_ALLOWED = {
    ("kitamono.index", "Entry"): Entry,
    ("kitamono.index", "CaseRecord"): CaseRecord,
    ("kitamono.index", "CompanyRecord"): CompanyRecord,
    ("kitamono.index", "EventRecord"): EventRecord,
    ("kitamono.index", "ConflictRecord"): ConflictRecord,
    ("datetime", "date"): date,
}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):  # type: ignore[no-untyped-def]
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in the index") from None


@dataclass
class Loaded:
    """Every readable case with its file, and one line for each file that is not readable."""

    cases: list = field(default_factory=list)  # CaseRecord, or models.Case from load_full
    paths: list[str] = field(default_factory=list)  # relative to the repository's root
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _stat_files(root: Path, cases_dir: Path) -> list[tuple[str, int, int]]:
    """(path relative to the root, size, mtime_ns) of every case file, sorted by path."""
    found: list[tuple[str, int, int]] = []
    skip = len(str(root)) + 1
    stack = [str(cases_dir)]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
            elif entry.name.endswith(".yaml"):
                info = entry.stat()
                found.append((entry.path[skip:], info.st_size, info.st_mtime_ns))
    found.sort()
    return found


def _parse(job: tuple[str, str, bool]) -> tuple[str, Case | CaseRecord | None, str | None]:
    """Parse one case file (in a worker process or in this one); a record unless ``full``."""
    from kitamono.store import load_case_file

    root, relative, full = job
    path = Path(root) / relative
    try:
        case = load_case_file(path)
        return relative, case if full else to_record(case), None
    except DataError as error:
        message = str(error)
        prefix = f"{path}: "
        return relative, None, message[len(prefix):] if message.startswith(prefix) else message


def _parse_all(root: Path, relatives: list[str], full: bool = False) -> list[tuple[str, Case | CaseRecord | None, str | None]]:
    jobs = [(str(root), r, full) for r in relatives]
    workers = min(os.cpu_count() or 1, 8)
    if len(jobs) < PARALLEL_FROM or workers < 2:
        return [_parse(job) for job in jobs]
    import multiprocessing

    try:
        context = multiprocessing.get_context("fork")
    except ValueError:  # pragma: no cover - platforms without fork
        return [_parse(job) for job in jobs]
    with context.Pool(workers) as pool:
        return pool.map(_parse, jobs, chunksize=max(16, len(jobs) // (workers * 8)))


def _read_index(path: Path, notes: list[str]) -> tuple[dict[str, Entry], int]:
    """The index's entries and the time before which an unchanged entry can be trusted."""
    try:
        with path.open("rb") as handle:
            data = _Unpickler(handle).load()
    except FileNotFoundError:
        return {}, 0
    except Exception:  # noqa: BLE001 - whatever is wrong with it, the index is rebuilt
        notes.append(t("index.damaged", path=path))
        return {}, 0
    if not (isinstance(data, tuple) and len(data) == 3 and isinstance(data[0], str)):
        notes.append(t("index.damaged", path=path))
        return {}, 0
    version, built_ns, entries = data
    if version != INDEX_VERSION:
        notes.append(t("index.other_version", path=path))
        return {}, 0
    if not isinstance(built_ns, int) or not isinstance(entries, list) or not all(isinstance(e, Entry) for e in entries):
        notes.append(t("index.damaged", path=path))
        return {}, 0
    return {e.path: e for e in entries}, built_ns - RACY_NS


def _write_index(path: Path, entries: list[Entry], built_ns: int) -> None:
    from kitamono.store import atomic_write_bytes

    try:
        atomic_write_bytes(path, pickle.dumps((INDEX_VERSION, built_ns, entries), protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        pass  # an index that cannot be written only costs speed next time


def load_full(repo) -> Loaded:
    """Every case as the full model, contacts included, parsed from the files themselves."""
    loaded = Loaded()
    files = _stat_files(repo.root, repo.cases_dir)
    for relative, case, error in _parse_all(repo.root, [r for r, _, _ in files], full=True):
        if case is not None:
            loaded.cases.append(case)
            loaded.paths.append(relative)
        else:
            loaded.problems.append(f"{repo.root / relative}: {error}")
    return loaded


def load_cases(repo, use_index: bool = True) -> Loaded:
    """Every case of the repository as a CaseRecord, through the index when it is current."""
    built_ns = time.time_ns()
    files = _stat_files(repo.root, repo.cases_dir)
    notes: list[str] = []
    index_path = repo.local_dir / INDEX_NAME
    known, trusted_before = _read_index(index_path, notes) if use_index else ({}, 0)
    entries: dict[str, Entry] = {}
    stale: list[str] = []
    for relative, size, mtime_ns in files:
        entry = known.get(relative)
        if entry is not None and entry.size == size and entry.mtime_ns == mtime_ns and mtime_ns < trusted_before:
            entries[relative] = entry
        else:
            stale.append(relative)
    sizes = {relative: (size, mtime_ns) for relative, size, mtime_ns in files}
    changed = bool(notes) or len(known) != len(files)
    for relative, record, error in _parse_all(repo.root, stale):
        size, mtime_ns = sizes[relative]
        entries[relative] = Entry(relative, size, mtime_ns, record, error)
        changed = changed or entries[relative] != known.get(relative)
    if use_index and changed and (repo.local_dir.is_dir() or _can_make(repo.local_dir)):
        _write_index(index_path, [entries[r] for r, _, _ in files], built_ns)
    loaded = Loaded(notes=notes)
    for relative, _, _ in files:
        entry = entries[relative]
        if entry.record is not None:
            loaded.cases.append(entry.record)
            loaded.paths.append(relative)
        else:
            loaded.problems.append(f"{repo.root / relative}: {entry.error}")
    return loaded


def _can_make(folder: Path) -> bool:
    try:
        folder.mkdir(exist_ok=True)
    except OSError:
        return False
    return True
