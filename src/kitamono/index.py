"""A rebuildable index of the case files, so that repeated reads skip parsing YAML.

Parsing YAML, not reading the disk, is what costs: ten thousand case files take seconds to
parse and a few milliseconds to stat. The index (``.kitamono/index.pickle``, never in git)
keeps each file's size, modification time and validated case (or the reason it could not be
read). A command stats every file, reuses the entries whose size and time are unchanged, parses
only the rest (on every core when there are many) and rewrites the index atomically.

What the index keeps of a case is every field but the contact details (personal data stays in
the case files alone), as plain tuples, plus a *digest* of four numbers: the 年度 it was received in, its first and last event dates and the date support
started. Plain tuples load several times faster than objects; a command turns into
``CaseRecord``s (named tuples with the attribute names of ``models.Case``, so the pure functions
of ``cases``, ``followup`` and ``reports`` take either) only the cases its digest says can
matter: a quarter's report builds the cases active in that quarter, ``case list --fy`` those of
that 年度, ``followups`` the supported ones::

    loaded = load_cases(repo)
    loaded.cases                                  # every case, as records
    loaded.active_between(date(2022, 10, 1), date(2022, 12, 31))   # only those that can count

The file is a pickle of nothing but tuples, lists, strings, numbers and dates, read by an
unpickler that admits no other class, so a tampered index cannot run code; anything else in it makes it
"damaged".

The case files stay the source of truth: a damaged index, or one written by another version of
kitamono, is discarded and rebuilt with a note, and an entry whose file changed within the same
clock tick as the index was written is never trusted (the racy-clean rule of git's own index).
"""

from __future__ import annotations

import io
import os
import pickle
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from kitamono import __version__
from kitamono.errors import DataError
from kitamono.i18n import t

if TYPE_CHECKING:  # the models (and pydantic) load only when a file must be parsed
    from kitamono.models import Case

INDEX_FORMAT = 2
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


# --- the stored form: plain tuples --------------------------------------------------------------------
#
# raw case:  (id, demo, received_on, received_by, channel, (company name, municipality, bank),
#             title, summary, field, needs, approved_project, events, conflicts, None)
# raw event: (type, date, by, to, lead, supporting, members, outcome, note)
# raw conflict: (field, ours, theirs)
# A raw tuple is its record's fields in order, so a record is made without parsing arguments;
# equal dates are one shared object, which the pickle stores (and rebuilds) once.
# digest: (fy received, first event, last event, start) as day numbers (date.toordinal()).

RAW_FIELDS = len(CaseRecord._fields)

#: Digest positions.
D_FY, D_FIRST, D_LAST, D_START = range(4)


def to_raw(case: Case) -> tuple:
    """The stored form of a case. Repeated values (ids, kinds, notes) are shared objects, which
    the pickle stores once and rebuilds once."""
    share = _shared

    def ids(values: list[str]) -> tuple[str, ...]:
        return tuple(share(v) for v in values)

    company = case.company
    return (
        case.id,
        case.demo,
        share(case.received_on),
        share(case.received_by),
        share(case.channel),
        (company.name, share(company.municipality), company.bank and share(company.bank)),
        case.title,
        case.summary,
        share(case.field),
        ids(case.needs),
        case.approved_project,
        tuple(
            (
                share(e.type), share(e.date), share(e.by), e.to and share(e.to), e.lead and share(e.lead),
                ids(e.supporting), ids(e.members), e.outcome, e.note and share(e.note),
            )
            for e in case.events
        ),
        tuple((c.field, c.ours, c.theirs) for c in case.conflicts),
        None,  # contact: never in the index
    )


def digest_of(case) -> tuple[int, int, int, int]:  # noqa: ANN001 - a models.Case or a CaseRecord
    """(年度 received, first event day, last event day, first start day or 0) of a case.

    What a command needs to know to leave a case out unread: a case whose events all fall
    outside a span counts for nothing in it, and one not started by a day owes nothing on it.
    Minimum and maximum (not first and last in the list), so a file whose events are out of
    order, which ``check`` reports, is still never left out wrongly.
    """
    from kitamono.fiscal import fiscal_year

    days = [e.date.toordinal() for e in case.events]
    starts = [e.date.toordinal() for e in case.events if e.type == "started"]
    return (
        fiscal_year(case.received_on),
        min(days, default=0),
        max(days, default=0),
        min(starts, default=0),
    )


_make_case = CaseRecord._make
_make_company = CompanyRecord._make
_make_event = EventRecord._make
_make_conflict = ConflictRecord._make


def record_of(raw: tuple) -> CaseRecord:
    """The CaseRecord of a stored case."""
    return _make_case((
        *raw[:5], _make_company(raw[5]), *raw[6:11],
        tuple(map(_make_event, raw[11])), tuple(map(_make_conflict, raw[12])), None,
    ))  # fmt: skip


_SHARED: dict[object, object] = {}


def _shared(value):  # type: ignore[no-untyped-def]
    """One object for equal values within this process (a small, bounded cache)."""
    if len(_SHARED) > 200_000:
        _SHARED.clear()
    return _SHARED.setdefault(value, value)


class Entry(NamedTuple):
    """One file's line in the index (stored as a plain tuple)."""

    path: str
    size: int
    mtime_ns: int
    raw: tuple | None
    digest: tuple[int, int, int, int] | None
    error: str | None


class _Unpickler(pickle.Unpickler):
    """Admits one class, ``datetime.date``: the rest is tuples, lists, strings and numbers."""

    def find_class(self, module: str, name: str):  # type: ignore[no-untyped-def]
        if (module, name) == ("datetime", "date"):
            return date
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in the index")


class Loaded:
    """Every readable case with its file, one line for each file that is not readable, notes.

    ``cases`` holds them all (built on first use); ``received_in``, ``active_between`` and
    ``started_by`` build only the cases that can matter to a question, unless ``narrow`` is off
    (``KITAMONO_INDEX=off``), when they too return every case: the report functions never rely
    on the narrowing, which only saves them work, so the answer is the same either way. Counting
    (``len``, ``count_received_in``) reads only the digests, never the cases themselves.
    """

    def __init__(self, paths: list[str], problems: list[str], notes: list[str], *,
                 digests: list[tuple[int, int, int, int]], raws=None, cases: list | None = None,
                 narrow: bool = True, recover=None) -> None:  # fmt: skip
        self.paths = paths  # relative to the repository's root
        self.problems = problems
        self.notes = notes
        self.digests = digests
        self.narrow = narrow
        self._raws = raws  # a list, or a function that reads it from the index when first needed
        self._cases = cases
        self._recover = recover  # reads everything again, should the index prove damaged
        self.tell = None  # the caller's way to show a note that comes after ``notes`` were shown

    def __len__(self) -> int:
        return len(self.paths)

    def _raw_list(self) -> list[tuple]:
        if callable(self._raws):
            try:
                self._raws = self._raws()
            except _Damaged as damaged:
                fresh = self._recover()
                note = t("index.damaged", path=damaged.path)
                self.notes.append(note)
                if self.tell is not None:
                    self.tell(note)
                self.paths, self.problems, self.digests = fresh.paths, fresh.problems, fresh.digests
                self._raws = fresh._raw_list()
        return self._raws or []

    @property
    def cases(self) -> list:
        """Every readable case: CaseRecords (or models.Case from ``load_full``), in path order."""
        if self._cases is None:
            self._cases = [record_of(raw) for raw in self._raw_list()]
        return self._cases

    def _where(self, keep) -> list:  # noqa: ANN001
        if not self.narrow:
            return self.cases
        if self._cases is not None:
            return [case for case, digest in zip(self._cases, self.digests) if keep(digest)]
        raws = self._raw_list()
        return [record_of(raw) for raw, digest in zip(raws, self.digests) if keep(digest)]

    def received_in(self, fy: int) -> list:
        """The cases received in 年度 ``fy``."""
        return self._where(lambda d: d[D_FY] == fy)

    def count_received_in(self, fy: int) -> int:
        """How many cases were received in 年度 ``fy`` (no case is built to count them)."""
        return sum(1 for d in self.digests if d[D_FY] == fy)

    def active_between(self, first: date, last: date) -> list:
        """The cases with an event dated from ``first`` to ``last``, and maybe a few more."""
        low, high = first.toordinal(), last.toordinal()
        return self._where(lambda d: d[D_FIRST] <= high and d[D_LAST] >= low)

    def started_by(self, as_of: date, since: date | None = None) -> list:
        """The cases whose support had started on or before ``as_of`` (and on or after ``since``)."""
        low, high = since.toordinal() if since else 1, as_of.toordinal()
        return self._where(lambda d: low <= d[D_START] <= high)


def _stat_files(root: Path, cases_dir: Path) -> list[tuple[str, int, int]]:
    """(path relative to the root, size, mtime_ns) of every case file, sorted by path."""
    found: list[tuple[str, int, int]] = []
    skip = len(str(root)) + 1
    stack = [str(cases_dir)]
    while stack:
        folder = stack.pop()
        prefix = folder[skip:] + "/"
        try:
            entries = os.scandir(folder)
        except FileNotFoundError:
            continue
        with entries:
            for entry in entries:
                name = entry.name
                if name.startswith("."):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif name.endswith(".yaml"):
                    info = entry.stat()
                    found.append((prefix + name, info.st_size, info.st_mtime_ns))
    found.sort()
    return found


def _parse(job: tuple[str, str, bool]) -> tuple[str, object, tuple | None, str | None]:
    """Parse one case file (in a worker process or in this one): (path, raw or full case, digest, error)."""
    from kitamono.store import load_case_file

    root, relative, full = job
    path = Path(root) / relative
    try:
        case = load_case_file(path)
        return relative, case if full else to_raw(case), digest_of(case), None
    except DataError as error:
        message = str(error)
        prefix = f"{path}: "
        return relative, None, None, message[len(prefix):] if message.startswith(prefix) else message


def _parse_all(root: Path, relatives: list[str], full: bool = False) -> list[tuple[str, object, tuple | None, str | None]]:
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


class _Damaged(Exception):
    def __init__(self, path: Path) -> None:
        self.path = path


class _Main:
    """The whole index: every file's size and time, digest and case or why it is unreadable.

    The file is two pickles: a head (files, digests, errors) and a body (the cases), read only
    when a command needs the cases themselves, so that counting never pays for them.
    """

    def __init__(self, path: Path, built_ns: int, files: list[tuple[str, int, int]], digests: list, errors: list,
                 handle=None, body_at: int = 0) -> None:  # fmt: skip
        self.path = path
        self.built_ns = built_ns
        self.files = files
        self.digests = digests
        self.errors = errors
        self._handle = handle  # the file as it was opened: a newer index renamed over it changes nothing
        self._body_at = body_at
        self._raws: list | None = None

    def raws(self) -> list[tuple | None]:
        """Every file's stored case (None when unreadable); _Damaged when the body is."""
        if self._raws is None:
            try:
                with self._handle:
                    self._handle.seek(self._body_at)
                    raws = _Unpickler(self._handle).load()
            except Exception:  # noqa: BLE001
                raise _Damaged(self.path) from None
            if not (isinstance(raws, list) and len(raws) == len(self.files)
                    and all(map(_entry_ok, raws, self.digests, self.errors))):  # fmt: skip
                raise _Damaged(self.path)
            self._raws = raws
        return self._raws

    def files_ok(self) -> bool:
        return all(type(f) is tuple and len(f) == 3 for f in self.files)


class _Delta(NamedTuple):
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


def _entry_ok(raw: object, digest: object, error: object) -> bool:
    """The shape of one stored case (what ``record_of`` relies on), or of an unreadable file's line."""
    if raw is None:
        return digest is None and isinstance(error, str)
    return type(raw) is tuple and len(raw) == RAW_FIELDS and type(digest) is tuple and len(digest) == 4


def _read_main(path: Path, notes: list[str]) -> _Main | None:
    """The main index's head (its body is read when needed), or None (with a note when it was
    there but unusable)."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return None
    except OSError:
        notes.append(t("index.unreadable", path=path))
        return None
    try:
        size = os.fstat(handle.fileno()).st_size
        data = _Unpickler(handle).load()
    except Exception:  # noqa: BLE001 - whatever is wrong with it, the index is rebuilt
        handle.close()
        notes.append(t("index.damaged", path=path))
        return None
    main = _head(path, data, handle, size, notes)
    if main is None:
        handle.close()
    return main


def _head(path: Path, data: object, handle, size: int, notes: list[str]) -> _Main | None:  # noqa: ANN001
    if isinstance(data, tuple) and data and data[0] != INDEX_VERSION and _looks_like_version(data[0]):
        notes.append(t("index.other_version", path=path))
        return None
    if not (isinstance(data, tuple) and len(data) == 7 and data[1] == "main"):
        notes.append(t("index.damaged", path=path))
        return None
    _, _, built_ns, files, digests, errors, body_size = data
    # The body is the file's last body_size bytes, right after the head's closing STOP opcode;
    # a file cut off or lengthened fails this (or, by chance not, reading the body later).
    start = size - body_size if isinstance(body_size, int) else -1
    if not (
        isinstance(built_ns, int) and isinstance(files, list) and isinstance(digests, list)
        and isinstance(errors, list) and len(files) == len(digests) == len(errors)
        and 0 < start <= size and os.pread(handle.fileno(), 1, start - 1) == pickle.STOP
        and all((type(d) is tuple and len(d) == 4) if e is None else (d is None and isinstance(e, str))
                for d, e in zip(digests, errors))
    ):  # fmt: skip
        notes.append(t("index.damaged", path=path))
        return None
    return _Main(path, built_ns, files, digests, errors, handle, start)


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
    if not (
        isinstance(entries, list) and isinstance(removed, list)
        and all(type(e) is tuple and len(e) == 6 and _entry_ok(e[3], e[4], e[5]) for e in entries)
    ):  # fmt: skip
        return None
    return _Delta(main_built_ns, built_ns, [Entry(*e) for e in entries], removed)


def _write(path: Path, *parts: object) -> None:
    """Write the index (one pickle after another; bytes are pickled already) atomically."""
    from kitamono.store import atomic_write_bytes

    pickled = [p if isinstance(p, bytes) else pickle.dumps(p, protocol=pickle.HIGHEST_PROTOCOL) for p in parts]
    try:
        atomic_write_bytes(path, b"".join(pickled))
    except OSError:
        pass  # an index that cannot be written only costs speed next time


def enabled() -> bool:
    """Whether commands use the index: yes, unless ``KITAMONO_INDEX=off`` (the answer is the same)."""
    return os.environ.get("KITAMONO_INDEX", "").lower() not in ("off", "0", "no")


def load_full(repo) -> Loaded:
    """Every case as the full model, contacts included, parsed from the files themselves."""
    files = _stat_files(repo.root, repo.cases_dir)
    parsed = _parse_all(repo.root, [path for path, _, _ in files], full=True)  # in the files' order
    loaded = Loaded([], [], [], digests=[], cases=[])
    for (path, case, digest, error) in parsed:
        if case is not None:
            loaded.cases.append(case)
            loaded.digests.append(digest)
            loaded.paths.append(path)
        else:
            loaded.problems.append(f"{repo.root / path}: {error}")
    return loaded


def load_cases(repo, use_index: bool = True) -> Loaded:
    """Every case of the repository (as CaseRecords), through the index when it is current."""
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
        return _current(repo, main, notes)  # the index is current
    if main is not None:
        try:
            if not main.files_ok():
                raise _Damaged(main_path)
            main.raws()
        except _Damaged:
            notes.append(t("index.damaged", path=main_path))
            main, delta = None, None

    # (size, mtime_ns, raw, digest, error, trusted_before) of every file the index knows
    known: dict[str, tuple[int, int, tuple | None, tuple | None, str | None, int]] = {}
    if main is not None:
        trusted = main.built_ns - RACY_NS
        for (path, size, mtime_ns), raw, digest, error in zip(main.files, main.raws(), main.digests, main.errors):
            known[path] = (size, mtime_ns, raw, digest, error, trusted)
    if delta is not None:
        trusted = delta.built_ns - RACY_NS
        for path in delta.removed:
            known.pop(path, None)
        for entry in delta.entries:
            known[entry.path] = (entry.size, entry.mtime_ns, entry.raw, entry.digest, entry.error, trusted)
    found: dict[str, tuple[tuple | None, tuple | None, str | None]] = {}
    stale: list[str] = []
    stat_of = {path: (size, mtime_ns) for path, size, mtime_ns in files}
    for path, size, mtime_ns in files:
        entry = known.get(path)
        if entry is not None and entry[0] == size and entry[1] == mtime_ns and mtime_ns < entry[5]:
            found[path] = entry[2:5]
        else:
            stale.append(path)
    changed: list[Entry] = []
    for path, raw, digest, error in _parse_all(repo.root, stale):
        found[path] = (raw, digest, error)
        size, mtime_ns = stat_of[path]
        entry = known.get(path)
        # New, changed, or trusted only now: a racy entry read again is recorded with this run's time.
        if entry is None or entry[:5] != (size, mtime_ns, raw, digest, error) or mtime_ns >= entry[5]:
            changed.append(Entry(path, size, mtime_ns, raw, digest, error))
    removed = [path for path in known if path not in stat_of]
    if use_index and (changed or removed or main is None) and (repo.local_dir.is_dir() or _can_make(repo.local_dir)):
        _save(main_path, delta_path, main, delta, files, found, changed, removed, built_ns)
    columns = [found[path] for path, _, _ in files]
    return _loaded(repo, files, [c[0] for c in columns], [c[1] for c in columns], [c[2] for c in columns], notes,
                   use_index)  # fmt: skip


def _save(main_path: Path, delta_path: Path, main: _Main | None, delta: _Delta | None, files, found,
          changed: list[Entry], removed: list[str], built_ns: int) -> None:  # fmt: skip
    """Write the few changes beside the main index, or the whole index when they are many."""
    if main is not None:
        entries = {e.path: e for e in (delta.entries if delta else [])}
        gone = set(delta.removed if delta else [])
        for entry in changed:
            entries[entry.path] = entry
            gone.discard(entry.path)
        main_paths = {f[0] for f in main.files}
        for path in removed:
            entries.pop(path, None)
            if path in main_paths:
                gone.add(path)
        if len(entries) + len(gone) <= max(DELTA_MIN, len(files) // 20):
            stored = [tuple(e) for e in entries.values()]
            _write(delta_path, (INDEX_VERSION, "delta", main.built_ns, built_ns, stored, sorted(gone)))
            return
    columns = [found[path] for path, _, _ in files]
    raws = [c[0] for c in columns]
    digests = [c[1] for c in columns]
    errors = [c[2] for c in columns]
    body = pickle.dumps(raws, protocol=pickle.HIGHEST_PROTOCOL)
    _write(main_path, (INDEX_VERSION, "main", built_ns, files, digests, errors, len(body)), body)
    try:
        delta_path.unlink()
    except OSError:
        pass


def _current(repo, main: _Main, notes: list[str]) -> Loaded:
    """What a current index holds; its cases are read from it only when first needed."""
    def recover() -> Loaded:
        try:
            main.path.unlink()
        except OSError:
            pass
        return load_cases(repo)

    if all(e is None for e in main.errors):  # the usual case: every file readable
        paths = [path for path, _, _ in main.files]
        return Loaded(paths, [], notes, digests=main.digests, raws=main.raws, recover=recover)
    readable = [e is None for e in main.errors]
    loaded = _loaded(repo, main.files, [() if ok else None for ok in readable], main.digests, main.errors, notes, True)
    loaded._raws = lambda: [raw for raw, ok in zip(main.raws(), readable) if ok]
    loaded._recover = recover
    return loaded


def _loaded(repo, files, raws, digests, errors, notes: list[str], narrow: bool) -> Loaded:
    if None not in raws:  # the usual case: every file readable
        return Loaded([path for path, _, _ in files], [], notes, raws=raws, digests=digests, narrow=narrow)
    loaded = Loaded([], [], notes, raws=[], digests=[], narrow=narrow)
    for (path, _, _), raw, digest, error in zip(files, raws, digests, errors):
        if raw is not None:
            loaded._raws.append(raw)  # type: ignore[union-attr]
            loaded.digests.append(digest)
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
