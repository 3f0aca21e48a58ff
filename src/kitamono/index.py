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
DELTA_NAME = "index-delta.pickle"
#: A change of up to this many files (or a twentieth of them) is written beside the index.
DELTA_MIN = 256
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
    """The record of a case. Repeated values (dates, ids, kinds) are shared objects, which the
    pickle stores once and rebuilds once: that is most of what loading the index costs."""
    share = _shared

    def ids(values: list[str]) -> tuple[str, ...]:
        return tuple(share(v) for v in values)

    return CaseRecord(
        id=case.id,
        demo=case.demo,
        received_on=share(case.received_on),
        received_by=share(case.received_by),
        channel=share(case.channel),
        company=CompanyRecord(case.company.name, share(case.company.municipality), case.company.bank and share(case.company.bank)),
        title=case.title,
        summary=case.summary,
        field=share(case.field),
        needs=ids(case.needs),
        approved_project=case.approved_project,
        events=tuple(
            EventRecord(
                share(e.type), share(e.date), share(e.by), e.to and share(e.to), e.lead and share(e.lead),
                ids(e.supporting), ids(e.members), e.outcome, e.note and share(e.note),
            )
            for e in case.events
        ),
        conflicts=tuple(ConflictRecord(c.field, c.ours, c.theirs) for c in case.conflicts),
    )


_SHARED: dict[object, object] = {}


def _shared(value):  # type: ignore[no-untyped-def]
    """One object for equal values within this process (a small, bounded cache)."""
    if len(_SHARED) > 200_000:
        _SHARED.clear()
    return _SHARED.setdefault(value, value)


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


@dataclass(frozen=True)
class _Main:
    """The whole index: every file's size and time, and its record or why it is unreadable."""

    built_ns: int
    files: list[tuple[str, int, int]]
    records: list[CaseRecord | None]
    errors: list[str | None]


@dataclass(frozen=True)
class _Delta:
    """The files changed since the main index was written (small rewrites stay small)."""

    main_built_ns: int
    built_ns: int
    entries: list[Entry]
    removed: list[str]


def _unpickle(path: Path) -> object:
    with path.open("rb") as handle:
        return _Unpickler(handle).load()


def _looks_like_version(value: object) -> bool:
    """``0.1.0/1``: what another kitamono (older or newer) writes first."""
    import re

    return isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)*[^/]*/\d+", value) is not None


def _read_main(path: Path, notes: list[str]) -> _Main | None:
    """The main index, or None (with a note when it was there but unusable)."""
    try:
        data = _unpickle(path)
    except FileNotFoundError:
        return None
    except Exception:  # noqa: BLE001 - whatever is wrong with it, the index is rebuilt
        notes.append(t("index.damaged", path=path))
        return None
    if isinstance(data, tuple) and data and data[0] != INDEX_VERSION and _looks_like_version(data[0]):
        notes.append(t("index.other_version", path=path))
        return None
    if not (isinstance(data, tuple) and len(data) == 6 and data[1] == "main"):
        notes.append(t("index.damaged", path=path))
        return None
    _, _, built_ns, files, records, errors = data
    if not (
        isinstance(built_ns, int) and isinstance(files, list) and isinstance(records, list)
        and isinstance(errors, list) and len(files) == len(records) == len(errors)
        and all(r is None or isinstance(r, CaseRecord) for r in records)
        and all(isinstance(f, tuple) and len(f) == 3 for f in files)
    ):  # fmt: skip
        notes.append(t("index.damaged", path=path))
        return None
    return _Main(built_ns, files, records, errors)


def _read_delta(path: Path, main: _Main) -> _Delta | None:
    """The changes written since ``main``; anything unusable is simply ignored (main still holds)."""
    try:
        data = _unpickle(path)
    except Exception:  # noqa: BLE001
        return None
    if not (isinstance(data, tuple) and len(data) == 6 and data[0] == INDEX_VERSION and data[1] == "delta"):
        return None
    _, _, main_built_ns, built_ns, entries, removed = data
    if main_built_ns != main.built_ns or not isinstance(built_ns, int):
        return None
    if not (isinstance(entries, list) and all(isinstance(e, Entry) for e in entries) and isinstance(removed, list)):
        return None
    return _Delta(main_built_ns, built_ns, entries, removed)


def _write(path: Path, data: tuple) -> None:
    from kitamono.store import atomic_write_bytes

    try:
        atomic_write_bytes(path, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        pass  # an index that cannot be written only costs speed next time


def load_full(repo) -> Loaded:
    """Every case as the full model, contacts included, parsed from the files themselves."""
    files = _stat_files(repo.root, repo.cases_dir)
    parsed = _parse_all(repo.root, [path for path, _, _ in files], full=True)  # in the files' order
    return _loaded(repo, files, [case for _, case, _ in parsed], [error for _, _, error in parsed], [])


def load_cases(repo, use_index: bool = True) -> Loaded:
    """Every case of the repository as a CaseRecord, through the index when it is current."""
    built_ns = time.time_ns()
    files = _stat_files(repo.root, repo.cases_dir)
    notes: list[str] = []
    main_path = repo.local_dir / INDEX_NAME
    delta_path = repo.local_dir / DELTA_NAME
    main = _read_main(main_path, notes) if use_index else None
    delta = _read_delta(delta_path, main) if main is not None else None
    if (
        main is not None and delta is None and files == main.files
        and max((m for _, _, m in files), default=0) < main.built_ns - RACY_NS
    ):  # fmt: skip
        return _loaded(repo, files, main.records, main.errors, notes)  # the index is current

    # (size, mtime_ns, record, error, trusted_before) of every file the index knows
    known: dict[str, tuple[int, int, CaseRecord | None, str | None, int]] = {}
    if main is not None:
        trusted = main.built_ns - RACY_NS
        for (path, size, mtime_ns), record, error in zip(main.files, main.records, main.errors):
            known[path] = (size, mtime_ns, record, error, trusted)
    if delta is not None:
        trusted = delta.built_ns - RACY_NS
        for path in delta.removed:
            known.pop(path, None)
        for entry in delta.entries:
            known[entry.path] = (entry.size, entry.mtime_ns, entry.record, entry.error, trusted)
    found: dict[str, tuple[CaseRecord | None, str | None]] = {}
    stale: list[str] = []
    stat_of = {path: (size, mtime_ns) for path, size, mtime_ns in files}
    for path, size, mtime_ns in files:
        entry = known.get(path)
        if entry is not None and entry[0] == size and entry[1] == mtime_ns and mtime_ns < entry[4]:
            found[path] = (entry[2], entry[3])
        else:
            stale.append(path)
    changed: list[Entry] = []
    for path, record, error in _parse_all(repo.root, stale):
        found[path] = (record, error)
        size, mtime_ns = stat_of[path]
        entry = known.get(path)
        # New, changed, or trusted only now: a racy entry read again is recorded with this run's time.
        if entry is None or entry[:4] != (size, mtime_ns, record, error) or mtime_ns >= entry[4]:
            changed.append(Entry(path, size, mtime_ns, record, error))
    removed = [path for path in known if path not in stat_of]
    if use_index and (changed or removed or main is None) and (repo.local_dir.is_dir() or _can_make(repo.local_dir)):
        _save(main_path, delta_path, main, delta, files, found, changed, removed, built_ns)
    records = [found[path][0] for path, _, _ in files]
    errors = [found[path][1] for path, _, _ in files]
    return _loaded(repo, files, records, errors, notes)


def _save(main_path: Path, delta_path: Path, main: _Main | None, delta: _Delta | None, files, found,
          changed: list[Entry], removed: list[str], built_ns: int) -> None:  # fmt: skip
    """Write the few changes beside the main index, or the whole index when they are many."""
    if main is not None:
        entries = {e.path: e for e in (delta.entries if delta else [])}
        gone = set(delta.removed if delta else [])
        for entry in changed:
            entries[entry.path] = entry
            gone.discard(entry.path)
        for path in removed:
            entries.pop(path, None)
            if any(f[0] == path for f in main.files):
                gone.add(path)
        if len(entries) + len(gone) <= max(DELTA_MIN, len(files) // 20):
            _write(delta_path, (INDEX_VERSION, "delta", main.built_ns, built_ns, list(entries.values()), sorted(gone)))
            return
    records = [found[path][0] for path, _, _ in files]
    errors = [found[path][1] for path, _, _ in files]
    _write(main_path, (INDEX_VERSION, "main", built_ns, files, records, errors))
    try:
        delta_path.unlink()
    except OSError:
        pass


def _loaded(repo, files, records, errors, notes: list[str]) -> Loaded:
    loaded = Loaded(notes=notes)
    for (path, _, _), record, error in zip(files, records, errors):
        if record is not None:
            loaded.cases.append(record)
            loaded.paths.append(path)
        else:
            loaded.problems.append(f"{repo.root / path}: {error}")
    return loaded


def _can_make(folder: Path) -> bool:
    try:
        folder.mkdir(exist_ok=True)
    except OSError:
        return False
    return True
