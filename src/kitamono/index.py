"""A rebuildable index of the case files, so that repeated reads skip parsing YAML.

Parsing YAML, not reading the disk, is what costs: ten thousand case files take seconds to
parse and a few milliseconds to stat. The index (``.kitamono/index.pickle``, never in git)
keeps each file's size, modification time and validated case (or the reason it could not be
read). A command stats every file, reuses the entries whose size and time are unchanged, parses
only the rest (on every core when there are many) and rewrites the index atomically.

What the index keeps of a case is every field but the contact details (personal data stays in
the case files alone), as plain tuples, plus a *digest* of four numbers: the 年度 it was
received in, its first and last event dates and the date support started. An index file is a
head (every file's size, time, digest or error) and a body (the cases), read only when a command
needs the cases: counting never does. Plain tuples load several times faster than objects, and
a command turns into ``CaseRecord``s (named tuples with the attribute names of ``models.Case``,
so the pure functions of ``cases``, ``followup`` and ``reports`` take either) only the cases
their digests say can matter: a quarter's report those active in that quarter, ``case list
--fy`` those of that 年度, ``followups`` the supported ones::

    loaded = load_cases(repo)
    len(loaded)                                   # from the head alone
    loaded.cases                                  # every case, as records
    loaded.active_between(date(2022, 10, 1), date(2022, 12, 31))   # only those that can count

A few changed files are written beside the main index (``index-delta.pickle``: a whole head
and only the changed cases), so that a small edit does not rewrite a hundred thousand cases;
many are written as a new main index.

The head also says which files make ids ambiguous (a case whose id is not its file's name, an id
held by two files), so that commands can refuse to count them without reading any case; and a
symbolic link under ``cases/`` is listed as a file that cannot be read, never followed.

The files are pickles of nothing but tuples, lists, dicts, strings, numbers and dates, read by
an unpickler that admits no other class (``cache.SafeUnpickler``), so a tampered index cannot
run code; anything else in it makes it "damaged". The case files stay the source of truth: a
damaged index, or one written by another version of kitamono, is discarded and rebuilt with a
note, and an entry whose file changed within the same clock tick as the index was written is
never trusted (``cache.trusted_before``: the racy-clean rule of git's own index).
"""

from __future__ import annotations

import gc
import os
import pickle
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from datetime import date
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar, cast

from kitamono import __version__, cache
from kitamono.caseio import load_case_file
from kitamono.errors import DataError
from kitamono.i18n import t
from kitamono.records import CaseRecord, CompanyRecord, ConflictRecord, CorrectionRaw, EventRecord
from kitamono.store import Repository, Scan, scan_cases

if TYPE_CHECKING:  # the models (and pydantic) load only when a file must be parsed
    from kitamono.models import Case, CaseLike

INDEX_FORMAT = 6
INDEX_VERSION = f"{__version__}/{INDEX_FORMAT}"
INDEX_NAME = "index.pickle"
DELTA_NAME = "index-delta.pickle"
#: A change of up to this many files (or a twentieth of them) is written beside the index.
DELTA_MIN = 256
#: Below this many files to parse, one process is faster than starting workers.
PARALLEL_FROM = 400


# --- the stored form: plain tuples --------------------------------------------------------------------
#
# raw case:  (id, demo, received_on, received_by, channel, (company name, municipality, bank),
#             title, summary, field, needs, approved_project, events, conflicts, withdrawn, changes, None)
# raw event: (type, date, by, to, lead, supporting, members, outcome, note, outcome_kind, follow_up_waiver,
#             voided, amendments)
# raw conflict: (field, ours, theirs)
# voided, withdrawn: None or (by, date, reason); amendments, changes: corrections (``CorrectionRaw``)
# A raw tuple is its record's fields in order, so a record is made without parsing arguments;
# equal dates are one shared object, which the pickle stores (and rebuilds) once.
# digest: (fy received, first event, last event, start) as day numbers (date.toordinal()), and 1
# for a withdrawn case (0 otherwise), so that it is left out without reading it.

RAW_FIELDS = len(CaseRecord._fields)

#: A stored case (see above), a digest, a case file as scanned: (path, size, mtime_ns).
Raw = tuple[Any, ...]
Digest = tuple[int, int, int, int, int]
File = tuple[str, int, int]
#: The files that make ids ambiguous: ({path: the id its case has}, [(id, the paths that hold it)]).
Duplicates = list[tuple[str, tuple[str, ...]]]
Ids = tuple[dict[str, str], Duplicates]

#: Digest positions.
D_FY, D_FIRST, D_LAST, D_START, D_WITHDRAWN = range(5)


def to_raw(case: Case) -> Raw:
    """The stored form of a case. Repeated values (ids, kinds, notes) are shared objects, which
    the pickle stores once and rebuilds once."""
    share = _shared

    def ids(values: Sequence[str]) -> tuple[str, ...]:
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
                e.outcome_kind and share(e.outcome_kind), e.follow_up_waiver,
                e.voided and (e.voided.by, e.voided.date, e.voided.reason), _corrections(e.amendments),
            )
            for e in case.events
        ),
        tuple((c.field, c.ours, c.theirs) for c in case.conflicts),
        case.withdrawn and (case.withdrawn.by, case.withdrawn.date, case.withdrawn.reason),
        _corrections(case.changes),
        None,  # contact: never in the index
    )


def _corrections(found: Sequence[Any]) -> tuple[CorrectionRaw, ...]:
    """Corrections (``models.Correction``) as stored: plain tuples, lists as tuples."""

    def plain(value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    return tuple(
        (c.by, c.date, c.reason, tuple((f.field, plain(f.old), plain(f.new)) for f in c.fields)) for c in found
    )


def digest_of(case: CaseLike) -> Digest:
    """(年度 received, first event day, last event day, first start day or 0, withdrawn 1 or 0).

    What a command needs to know to leave a case out unread: a case whose events all fall
    outside a span counts for nothing in it, one not started by a day owes nothing on it, and a
    withdrawn one counts nowhere. Minimum and maximum (not first and last in the list), so a file
    whose events are out of order, which ``check`` reports, is still never left out wrongly; a
    voided start is no start.
    """
    from kitamono.cases import counted_events, counts
    from kitamono.fiscal import fiscal_year

    days = [e.date.toordinal() for e in case.events]
    starts = [e.date.toordinal() for e in counted_events(case) if e.type == "started"]
    return (
        fiscal_year(case.received_on),
        min(days, default=0),
        max(days, default=0),
        min(starts, default=0),
        0 if counts(case) else 1,
    )


class _NoGC:
    """Pause the cyclic garbage collector while tuples are made by the thousand.

    Building the index's tuples allocates many objects and no cycles; each allocation count
    reached would start a collection scanning everything built so far, which costs a third of
    the time. The collector is restored (if it was on) however the block ends.
    """

    def __enter__(self) -> None:
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.was_enabled:
            gc.enable()


_make_case = CaseRecord._make
_make_company = CompanyRecord._make
_make_event = EventRecord._make
_make_conflict = ConflictRecord._make


def record_of(raw: Raw) -> CaseRecord:
    """The CaseRecord of a stored case."""
    return _make_case((
        *raw[:5], _make_company(raw[5]), *raw[6:11],
        tuple(map(_make_event, raw[11])), tuple(map(_make_conflict, raw[12])), raw[13], raw[14], None,
    ))  # fmt: skip


_SHARED: dict[Any, Any] = {}
T = TypeVar("T")


def _shared(value: T) -> T:
    """One object for equal values within this process (a small, bounded cache)."""
    if len(_SHARED) > 200_000:
        _SHARED.clear()
    return _SHARED.setdefault(value, value)


class _Unpickler(cache.SafeUnpickler):
    """Admits one class, ``datetime.date``: the rest is tuples, lists, strings and numbers."""

    allowed: ClassVar[dict[tuple[str, str], type]] = {("datetime", "date"): date}


class _Source(Protocol):
    """Where a Loaded reads its stored cases from: an index file, or this run's view over one."""

    def raws_at(self, positions: list[int]) -> list[Raw | None]: ...


#: What a Loaded holds: ``CaseRecord``s (``load_cases``), or ``models.Case``s (``load_full``).
C = TypeVar("C", bound="CaseLike")


class Loaded(Generic[C]):
    """Every readable case with its file, one line for each file that is not readable, notes.

    ``cases`` holds them all (built on first use); ``received_in``, ``active_between`` and
    ``started_by`` read and build only the cases that can matter to a question, unless
    ``narrow`` is off (``KITAMONO_INDEX=off``), when they too return every case: the report
    functions never rely on the narrowing, which only saves them work, so the answer is the same
    either way. Counting (``len``, ``count_received_in``) reads only the digests.
    """

    def __init__(self, paths: list[str], problems: list[str], notes: list[str], *,
                 digests: list[Digest], source: _Source | None = None, positions: list[int] | None = None,
                 cases: list[C] | None = None, narrow: bool = True, recover: Callable[[], Loaded[C]] | None = None,
                 ids: Ids | None = None, leftovers: list[str] | None = None,
                 files: list[File] | None = None, folders: dict[str, tuple[int, list[str]]] | None = None,
                 ) -> None:  # fmt: skip
        self.paths = paths  # relative to the repository's root
        #: The case files as this load listed them, (path, size, mtime_ns): a caller that keeps the
        #: cases (``kitamono web``) knows from them when to load again, without listing twice.
        self.files = files or []
        self.folders = folders or {}  # and the folders, as ``store.Scan.folders``
        self.problems = problems
        self.notes = notes
        self.renamed, self.duplicates = ids or ({}, [])  # see ``clashes``
        self.leftovers = leftovers or []  # temporary files of interrupted writes (relative)
        self.digests = digests
        self.narrow = narrow
        self._source = source  # where the stored cases are read from: ``raws_at(positions)``
        self._positions = positions  # each readable case's position in the source
        self._cases = cases
        self._recover = recover  # reads everything again, should the index prove damaged
        self._left_out: dict[str, str] = {}  # files read but set aside (``leave_out``), with why
        #: The caller's way to show a note that comes after ``notes`` were shown.
        self.tell: Callable[[str], object] | None = None

    def __len__(self) -> int:
        return len(self.paths)

    def clashes(self) -> list[str]:
        """The files (relative, sorted) that make ids ambiguous: a case whose id is not its
        file's name, and every file of an id that more than one file holds. Empty as a rule."""
        found = set(self.renamed)
        for _, paths in self.duplicates:
            found.update(paths)
        return sorted(found)

    def leave_out(self, root: Path, paths: Collection[str], reason: str) -> None:
        """Set readable files aside as if they could not be read: their cases are no longer
        among the cases, and each is a line of ``problems`` (``root / path: reason``), as for an
        ambiguous id in a report made with ``--allow-damaged``. Kept when a damaged index is
        read again."""
        self._left_out.update((path, f"{root / path}: {reason}") for path in paths)
        self._apply_left_out()

    def _apply_left_out(self) -> None:
        if not self._left_out:
            return
        keep = [n for n, path in enumerate(self.paths) if path not in self._left_out]
        gone = [path for path in self.paths if path in self._left_out]
        self.paths = [self.paths[n] for n in keep]
        self.digests = [self.digests[n] for n in keep]
        if self._positions is not None:
            self._positions = [self._positions[n] for n in keep]
        if self._cases is not None:
            self._cases = [self._cases[n] for n in keep]
        self.problems.extend(self._left_out[path] for path in gone)
        self.renamed, self.duplicates = {}, []

    def _build(self, chosen: list[int]) -> list[C]:
        """The records of the readable cases numbered ``chosen`` (a damaged index is rebuilt)."""
        assert self._source is not None and self._positions is not None and self._recover is not None
        positions = self._positions
        try:
            raws = self._source.raws_at([positions[n] for n in chosen])
        except _Damaged as damaged:
            fresh = self._recover()
            note = t("index.damaged", path=damaged.path)
            self.notes.append(note)
            if self.tell is not None:
                self.tell(note)
            self.paths, self.problems, self.digests = fresh.paths, fresh.problems, fresh.digests
            self.renamed, self.duplicates = fresh.renamed, fresh.duplicates
            self._source, self._positions = fresh._source, fresh._positions
            self._apply_left_out()
            raise _Retry from None
        # Positions of readable files only, so no stored case is None; and a Loaded that reads its
        # cases from a source is one of CaseRecords.
        with _NoGC():
            return cast("list[C]", [record_of(raw) for raw in cast("list[Raw]", raws)])

    def _select(self, keep: Callable[[Digest], bool]) -> list[C]:
        """The cases whose digest ``keep`` accepts (every case when narrowing is off)."""
        if not self.narrow:
            return self.cases
        if self._cases is not None:
            return [case for case, digest in zip(self._cases, self.digests, strict=True) if keep(digest)]
        while True:
            try:
                return self._build([n for n, d in enumerate(self.digests) if keep(d)])
            except _Retry:
                continue  # the digests are new: choose again

    @property
    def cases(self) -> list[C]:
        """Every readable case: CaseRecords (or models.Case from ``load_full``), in path order."""
        while self._cases is None:
            try:
                self._cases = self._build(list(range(len(self.paths))))
            except _Retry:
                continue
        return self._cases

    def received_in(self, fy: int) -> list[C]:
        """The cases received in 年度 ``fy``."""
        return self._select(lambda d: d[D_FY] == fy)

    def count_received_in(self, fy: int) -> int:
        """How many cases were received in 年度 ``fy`` (no case is read to count them)."""
        return sum(1 for d in self.digests if d[D_FY] == fy)

    def active_between(self, first: date, last: date) -> list[C]:
        """The cases with an event dated from ``first`` to ``last``, and maybe a few more."""
        low, high = first.toordinal(), last.toordinal()
        return self._select(lambda d: d[D_FIRST] <= high and d[D_LAST] >= low)

    def started_by(self, as_of: date, since: date | None = None) -> list[C]:
        """The cases whose support had started on or before ``as_of`` (and on or after ``since``)."""
        low, high = since.toordinal() if since else 1, as_of.toordinal()
        return self._select(lambda d: low <= d[D_START] <= high)


class _Retry(Exception):
    """A damaged index was replaced while reading: choose the cases again."""


def _ambiguous(files: list[File], errors: list[str | None], renamed: dict[str, str]) -> Duplicates:
    """The ids that more than one readable file holds, with those files: [(id, paths)]."""
    holders: dict[str, list[str]] = {}
    for (path, _, _), error in zip(files, errors, strict=True):
        if error is None:
            holders.setdefault(renamed.get(path) or _stem(path), []).append(path)
    return [(case_id, tuple(paths)) for case_id, paths in sorted(holders.items()) if len(paths) > 1]


def _renamed(parsed: dict[str, Parsed]) -> dict[str, str]:
    """The parsed files whose case's id is not their name: {path: id}."""
    return {path: raw[0] for path, (raw, _, _) in parsed.items() if raw is not None and raw[0] != _stem(path)}


def _stem(path: str) -> str:
    """The id a case file's name says: ``cases/2019/hro-2019-0001.yaml`` -> ``hro-2019-0001``."""
    return path[path.rfind("/") + 1 : -len(".yaml")]


#: What parsing a file gave: (its case, stored or full; its digest; why it cannot be read), all
#: None but the reason for an unreadable file.
Parsed = tuple[Any, Digest | None, str | None]


def _parse(job: tuple[str, str, bool]) -> tuple[str, Any, Digest | None, str | None]:
    """Parse one case file (in a worker process or in this one): (path, raw or full case, digest, error)."""
    root, relative, full = job
    path = Path(root) / relative
    try:
        case = load_case_file(path)
        return relative, case if full else to_raw(case), digest_of(case), None
    except DataError as error:
        message = str(error)
        prefix = f"{path}: "
        return relative, None, None, message[len(prefix):] if message.startswith(prefix) else message


#: What this process does while worker processes parse case files (see ``meanwhile``).
_MEANWHILE: ContextVar[Callable[[], object] | None] = ContextVar("kitamono_meanwhile", default=None)


@contextmanager
def meanwhile(work: Callable[[], object]) -> Iterator[None]:
    """Within the block, a load that parses case files in worker processes calls ``work()`` while
    they parse, instead of waiting idle (``kitamono web`` starts its server meanwhile). ``work``
    may be called more than once, or not at all (nothing to parse, or too little for workers); an
    error it raises ends the load."""
    token = _MEANWHILE.set(work)
    try:
        yield
    finally:
        _MEANWHILE.reset(token)


#: Where a load leaves the writing of the index to its caller (see ``save_later``).
_SAVE_LATER: ContextVar[list[Callable[[], None]] | None] = ContextVar("kitamono_save_later", default=None)


@contextmanager
def save_later() -> Iterator[list[Callable[[], None]]]:
    """Within the block, a load that would write the index leaves the writing in the list this
    yields, for the caller to call once it has answered (``kitamono web`` sends its first page
    first): the cases loaded are the same either way. A writing that cannot be done (a read-only
    ``.kitamono/``, an index damaged meanwhile) is left for the next load."""
    later: list[Callable[[], None]] = []
    token = _SAVE_LATER.set(later)
    try:
        yield later
    finally:
        _SAVE_LATER.reset(token)


def _parse_all(
    root: Path, relatives: list[str], full: bool = False
) -> list[tuple[str, Any, Digest | None, str | None]]:
    jobs = [(str(root), r, full) for r in relatives]
    workers = min(os.cpu_count() or 1, 8)
    if len(jobs) < PARALLEL_FROM or workers < 2:
        return [_parse(job) for job in jobs]
    import multiprocessing

    from kitamono.caseio import prepare_reading

    try:
        context = multiprocessing.get_context("fork")
    except ValueError:  # pragma: no cover - platforms without fork
        return [_parse(job) for job in jobs]
    prepare_reading()  # once, here, rather than once in every worker
    with context.Pool(workers) as pool:  # the workers are forked now: this process is free meanwhile
        parsed = pool.map_async(_parse, jobs, chunksize=max(16, len(jobs) // (workers * 8)))
        work = _MEANWHILE.get()
        if work is not None:
            work()
        return parsed.get()


class _Damaged(Exception):
    def __init__(self, path: Path) -> None:
        self.path = path


class _State:
    """What an index file says: every case file's size and time, digest and error, as they were
    at ``built_ns``; and the stored cases themselves, read only as far as a command needs them.

    ``index.pickle`` (the main index) is a head pickle, then the cases in one pickle per 年度
    received, so that a question about one year reads that year. ``index-delta.pickle``, written
    instead when few files changed, is a whole head again (the files, digests and errors are read
    from one place, whichever is newer), then only the cases that differ from the main index.
    """

    def __init__(self, path: Path, kind: str, built_ns: int, files: list[File], digests: list[Digest | None],
                 errors: list[str | None], ids: Ids, main_built_ns: int, chunks: list[tuple[object, int]],
                 handle: IO[bytes], body_at: int) -> None:  # fmt: skip
        self.path = path
        self.kind = kind  # "main" or "delta"
        self.built_ns = built_ns
        self.files = files
        self.digests = digests
        self.errors = errors
        self.ids = ids  # (renamed {path: id}, duplicates [(id, paths)]): see ``Loaded.clashes``
        self.main_built_ns = main_built_ns  # the main index a delta builds on (its own time for a main)
        # Files modified from this time on may have changed again within the same clock tick.
        self.trusted_before = cache.trusted_before(built_ns, handle)
        self._handle = handle  # the file as it was opened: a newer index renamed over it changes nothing
        self._offsets: dict[object, tuple[int, int]] = {}  # chunk key -> (offset, size)
        at = body_at
        for key, size in chunks:
            self._offsets[key] = (at, size)
            at += size
        self._read: dict[object, Any] = {}  # chunk key -> what it holds, once read
        self._slots: list[int] | None = None  # each case's place in its 年度's chunk (-1: none)
        self._counts: dict[int, int] = {}  # how many cases each 年度's chunk holds
        self._main: _State | None = None
        self._over_main: _Overlay | None = None  # a delta's cases: its changes over the main index's

    def __del__(self) -> None:
        self._handle.close()  # kept open for the chunks that may be read; closed with the state

    def _chunk(self, key: object, shape_ok: Callable[[object], bool]) -> Any:
        """One chunk of the body, read (and its shape checked) the first time it is needed."""
        if key not in self._read:
            if key not in self._offsets:
                raise _Damaged(self.path)
            try:
                self._handle.seek(self._offsets[key][0])
                with _NoGC():
                    value = _Unpickler(self._handle).load()
            except Exception:  # noqa: BLE001
                raise _Damaged(self.path) from None
            if not shape_ok(value):
                raise _Damaged(self.path)
            self._read[key] = value
        return self._read[key]

    def raws_at(self, positions: list[int]) -> list[Raw | None]:
        """The stored cases at these positions of ``files`` (None for an unreadable file)."""
        if self.kind == "delta":
            return self._delta_raws_at(positions)
        if self._slots is None:
            slots: list[int] = []
            counts = self._counts
            for digest in self.digests:
                if digest is None:
                    slots.append(-1)
                else:
                    slots.append(counts.get(digest[D_FY], 0))
                    counts[digest[D_FY]] = slots[-1] + 1
            self._slots = slots
        # A case with a slot has a digest (only an unreadable file has none).
        digests, slots = cast("list[Digest]", self.digests), self._slots
        chunks = {
            fy: self._chunk(fy, partial(_raws_ok, count=self._counts[fy]))
            for fy in {digests[n][D_FY] for n in positions if slots[n] >= 0}
        }
        return [chunks[digests[n][D_FY]][slots[n]] if slots[n] >= 0 else None for n in positions]

    def changes(self) -> dict[str, Raw | None]:
        """A delta's cases that differ from the main index's (path: raw, None if unreadable)."""
        changes: dict[str, Raw | None] = self._chunk("changes", lambda changes: isinstance(changes, dict) and all(
            isinstance(k, str) and (v is None or (type(v) is tuple and len(v) == RAW_FIELDS))
            for k, v in changes.items()))  # fmt: skip
        return changes

    def main(self) -> _State:
        """The main index a delta builds on (_Damaged if it is gone or another one)."""
        if self._main is None:
            main = _read_state(self.path.with_name(INDEX_NAME), "main", [])
            if main is None or main.built_ns != self.main_built_ns:
                raise _Damaged(self.path)
            self._main = main
        return self._main

    def _delta_raws_at(self, positions: list[int]) -> list[Raw | None]:
        if self._over_main is None:
            main = self.main()
            position = {f[0]: n for n, f in enumerate(main.files)}
            self._over_main = _Overlay(self.files, self.changes(), main, position)
        try:
            found = self._over_main.raws_at(positions)
        except KeyError:  # a file neither changed nor in the main index
            raise _Damaged(self.path) from None
        if any((raw is None) != (self.errors[n] is not None) for raw, n in zip(found, positions, strict=True)):
            raise _Damaged(self.path)
        return found

    def files_ok(self) -> bool:
        return all(type(f) is tuple and len(f) == 3 for f in self.files)


class _Overlay:
    """Some files' cases given anew (``new``: path -> raw), the rest read from ``base`` at their
    position there: this run's view over the index, and a delta's over the main index."""

    def __init__(self, files: list[File], new: dict[str, Raw | None], base: _State | None,
                 base_position: dict[str, int]) -> None:  # fmt: skip
        self.files, self.new, self.base, self.base_position = files, new, base, base_position

    def raws_at(self, positions: list[int]) -> list[Raw | None]:
        found: list[Raw | None] = [None] * len(positions)
        wanted: list[tuple[int, int]] = []  # (place in the answer, position in base)
        for place, n in enumerate(positions):
            path = self.files[n][0]
            if path in self.new:
                found[place] = self.new[path]
            else:
                wanted.append((place, self.base_position[path]))
        if wanted:  # only with a base: without one, every file is new
            assert self.base is not None
            for (place, _), raw in zip(wanted, self.base.raws_at([m for _, m in wanted]), strict=True):
                found[place] = raw
        return found


def _looks_like_version(value: object) -> bool:
    """``0.1.0/1``: what another kitamono (older or newer) writes first."""
    import re

    return isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)*[^/]*/\d+", value) is not None


def _raws_ok(chunk: object, count: int) -> bool:
    """``count`` stored cases of the shape ``record_of`` relies on."""
    return (
        isinstance(chunk, list) and len(chunk) == count
        and set(map(type, chunk)) <= {tuple} and set(map(len, chunk)) <= {RAW_FIELDS}
    )  # fmt: skip


def _read_state(path: Path, kind: str, notes: list[str]) -> _State | None:
    """The head of an index file (its body is read when needed), or None: missing, or unusable
    (a main index with a note; a delta silently, as the main index still holds)."""
    damaged = t("index.damaged", path=path) if kind == "main" else None
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return None
    except OSError:
        if kind == "main":
            notes.append(t("index.unreadable", path=path))
        return None
    try:
        size = os.fstat(handle.fileno()).st_size
        with _NoGC():
            head = _Unpickler(handle).load()
    except Exception:  # noqa: BLE001 - whatever is wrong with it, the index is rebuilt
        head = None
    if isinstance(head, tuple) and head and head[0] != INDEX_VERSION and _looks_like_version(head[0]):
        damaged = t("index.other_version", path=path) if kind == "main" else None
    elif isinstance(head, tuple) and len(head) == 9 and head[:2] == (INDEX_VERSION, kind):
        _, _, built_ns, files, digests, errors, ids, main_built_ns, chunks = head
        chunks_ok = isinstance(chunks, list) and all(
            type(c) is tuple and len(c) == 2 and type(c[1]) is int and c[1] > 0 for c in chunks
        )
        start = size - sum(c[1] for c in chunks) if chunks_ok else -1
        # The body is the file's last bytes, right after the head's closing STOP opcode; a file
        # cut off or lengthened fails this (or, by chance not, reading the body later).
        if (
            isinstance(built_ns, int) and isinstance(main_built_ns, int) and isinstance(files, list)
            and isinstance(digests, list) and isinstance(errors, list) and len(files) == len(digests) == len(errors)
            and _ids_ok(ids)
            and 0 < start <= size and os.pread(handle.fileno(), 1, start - 1) == pickle.STOP
            and all((type(d) is tuple and len(d) == 5) if e is None else (d is None and isinstance(e, str))
                    for d, e in zip(digests, errors, strict=True))
        ):  # fmt: skip
            return _State(path, kind, built_ns, files, digests, errors, ids, main_built_ns, chunks, handle, start)
    handle.close()
    if damaged:
        notes.append(damaged)
    return None


def _ids_ok(ids: object) -> bool:
    """The head's (renamed, duplicates) has the shape ``Loaded.clashes`` relies on."""
    if not (type(ids) is tuple and len(ids) == 2 and type(ids[0]) is dict and type(ids[1]) is list):
        return False
    renamed, duplicates = ids
    return all(type(k) is str and type(v) is str for k, v in renamed.items()) and all(
        type(d) is tuple and len(d) == 2 and type(d[0]) is str and type(d[1]) is tuple
        and all(type(p) is str for p in d[1]) for d in duplicates
    )  # fmt: skip


def _write(path: Path, head: tuple, chunks: list[tuple[object, object]]) -> None:
    """Write an index file atomically: its head (with the table of chunks), then each chunk of
    its body, every one a pickle of its own. OSError if it cannot be written."""
    pickled = [(key, cache.pickled(value)) for key, value in chunks]
    table = [(key, len(data)) for key, data in pickled]
    cache.write(path, b"".join([cache.pickled((*head, table)), *(data for _, data in pickled)]))


def enabled() -> bool:
    """Whether commands use the index: yes, unless ``KITAMONO_INDEX=off`` (the answer is the same)."""
    return os.environ.get("KITAMONO_INDEX", "").lower() not in ("off", "0", "no")


def load_full(repo: Repository) -> Loaded[Case]:
    """Every case as the full model, contacts included, parsed from the files themselves."""
    scan = scan_cases(repo.root, repo.cases_dir)
    parsed = _parse_all(repo.root, [path for path, _, _ in scan.files], full=True)  # in the files' order
    renamed = {path: case.id for path, case, _, _ in parsed if case is not None and case.id != _stem(path)}
    ids = (renamed, _ambiguous(scan.files, [error for _, _, _, error in parsed], renamed))
    cases: list[Case] = []
    loaded = Loaded([], [], [], digests=[], cases=cases, ids=ids, leftovers=scan.leftovers)
    for (path, case, digest, error) in parsed:
        if case is not None and digest is not None:  # read: it has both
            cases.append(case)
            loaded.digests.append(digest)
            loaded.paths.append(path)
        else:
            loaded.problems.append(f"{repo.root / path}: {error}")
    return loaded


def load_cases(repo: Repository, use_index: bool = True, reread: bool = False,
               withdrawn: bool = False) -> Loaded[CaseRecord]:  # fmt: skip
    """Every case of the repository (as CaseRecords), through the index when it is current.

    ``reread`` parses every file again, trusting nothing the index says (``kitamono check``),
    and writes what it read as the new index. Withdrawn cases (取下げ) count nowhere and are left
    out, by their digests alone, unless ``withdrawn`` (``check``, ``case list --all``).
    """
    built_ns = time.time_ns()
    scan = scan_cases(repo.root, repo.cases_dir)
    files = scan.files
    notes: list[str] = []
    main_path = repo.local_dir / INDEX_NAME
    delta_path = repo.local_dir / DELTA_NAME
    state = None
    if use_index:
        state = _read_state(delta_path, "delta", notes) or _read_state(main_path, "main", notes)
    if reread:
        state = None  # its head was read only to say if it was damaged
    if (
        state is not None and files == state.files
        and max((m for _, _, m in files), default=0) < state.trusted_before
    ):  # fmt: skip
        return _current(repo, state, notes, scan, withdrawn)  # the index is current

    # What the index knows of each path, trusted while the file is as it was then and was
    # already older than the index (a file changed within the same clock tick is read again).
    known: dict[str, int] = {}
    if state is not None and state.files_ok():
        known = {f[0]: n for n, f in enumerate(state.files)}
    trusted = state.trusted_before if state is not None else 0
    old_files = state.files if state is not None else []
    stale = []
    for path, size, mtime_ns in files:
        n = known.get(path)
        if n is None or old_files[n][1:] != (size, mtime_ns) or mtime_ns >= trusted:
            stale.append(path)
    parsed: dict[str, Parsed] = {
        path: (raw, digest, error) for path, raw, digest, error in _parse_all(repo.root, stale)
    }
    # A path not parsed again is one the index knows (so there is an index).
    old_digests = state.digests if state is not None else []
    old_errors = state.errors if state is not None else []
    digests = [parsed[p][1] if p in parsed else old_digests[known[p]] for p, _, _ in files]
    errors = [parsed[p][2] if p in parsed else old_errors[known[p]] for p, _, _ in files]
    source = _Overlay(files, {path: value[0] for path, value in parsed.items()}, state, known)
    removed = len(known) - (len(files) - sum(1 for p in parsed if p not in known))
    ids = _ids_after(state, known, files, errors, parsed, removed)
    if use_index and (parsed or removed or state is None):
        later = _SAVE_LATER.get()
        if later is not None:  # the caller writes it once it has answered
            later.append(partial(_save_quietly, repo.local_dir, state, files, digests, errors, ids, parsed, source,
                                 built_ns))  # fmt: skip
            return _loaded(repo, files, digests, errors, source, notes, use_index, ids, scan, withdrawn)
        try:
            _save(repo.local_dir, state, files, digests, errors, ids, parsed, source, built_ns)
        except _Damaged:
            notes.append(t("index.damaged", path=main_path))
            again = _rebuild(repo, withdrawn)
            again.notes[:0] = notes
            return again
        except OSError:  # a read-only .kitamono/: the answer is the same, only slower next time
            unreadable = t("index.unreadable", path=main_path)
            notes[:] = [note for note in notes if note != unreadable]
            notes.append(t("index.not_saved", path=repo.local_dir))
    return _loaded(repo, files, digests, errors, source, notes, use_index, ids, scan, withdrawn)


def _ids_after(state: _State | None, known: dict[str, int], files: list[File], errors: list[str | None],
               parsed: dict[str, Parsed], removed: int) -> Ids:  # fmt: skip
    """The index's (renamed, duplicates) after these changes: worked out again only when a case
    was added, removed, renamed, or became readable or unreadable (a look at every path)."""
    renamed = _renamed(parsed)
    if state is None:
        return renamed, _ambiguous(files, errors, renamed)
    old_renamed, old_duplicates = state.ids
    if old_renamed:  # those of the files unchanged and still there
        current: Collection[str] = {p for p, _, _ in files} if removed else known
        renamed.update((p, i) for p, i in old_renamed.items() if p not in parsed and p in current)
    same = not removed and renamed == old_renamed and all(
        p in known and (state.errors[known[p]] is None) == (value[2] is None) for p, value in parsed.items()
    )  # fmt: skip
    return renamed, old_duplicates if same else _ambiguous(files, errors, renamed)


def _save(local_dir: Path, state: _State | None, files: list[File], digests: list[Digest | None],
          errors: list[str | None], ids: Ids, parsed: dict[str, Parsed], source: _Overlay,
          built_ns: int) -> None:  # fmt: skip
    """Write the few changes as a delta beside the main index, or the whole index when they are
    many; OSError if ``.kitamono/`` cannot be written."""
    local_dir.mkdir(exist_ok=True)
    main_path, delta_path = local_dir / INDEX_NAME, local_dir / DELTA_NAME
    head = (files, digests, errors, ids)
    if state is not None:
        changes = dict(state.changes()) if state.kind == "delta" else {}
        paths = {p for p, _, _ in files}
        for path in [p for p in changes if p not in paths]:
            del changes[path]
        changes.update((path, value[0]) for path, value in parsed.items())
        main_count = len((state if state.kind == "main" else state.main()).files)
        if len(changes) + abs(main_count - len(files)) <= max(DELTA_MIN, len(files) // 20):
            _write(delta_path, (INDEX_VERSION, "delta", built_ns, *head, state.main_built_ns), [("changes", changes)])
            return
    raws = source.raws_at(list(range(len(files))))
    by_year: dict[int, list[Raw]] = {}
    for raw, digest in zip(raws, digests, strict=True):
        if raw is not None and digest is not None:  # a readable file has both
            by_year.setdefault(digest[D_FY], []).append(raw)
    _write(main_path, (INDEX_VERSION, "main", built_ns, *head, built_ns), sorted(by_year.items()))
    delta_path.unlink(missing_ok=True)


def _save_quietly(*args: Any) -> None:
    """``_save``, left undone when it cannot be: the index is a cache, and the next load that
    finds it missing, damaged or out of date writes it (with a note when it was damaged)."""
    with suppress(_Damaged, OSError):
        _save(*args)


def _rebuild(repo: Repository, withdrawn: bool = False) -> Loaded[CaseRecord]:
    """Read every case file again and write a new index (when a damaged one is found)."""
    try:
        for name in (INDEX_NAME, DELTA_NAME):
            (repo.local_dir / name).unlink(missing_ok=True)
    except OSError:  # a read-only .kitamono/: read the files without the index
        loaded = load_cases(repo, use_index=False, withdrawn=withdrawn)
        loaded.notes.append(t("index.not_saved", path=repo.local_dir))
        return loaded
    return load_cases(repo, withdrawn=withdrawn)


def _current(repo: Repository, state: _State, notes: list[str], scan: Scan,
             withdrawn: bool) -> Loaded[CaseRecord]:  # fmt: skip
    """What a current index holds; its cases are read from it only when first needed."""
    return _loaded(repo, state.files, state.digests, state.errors, state, notes, True, state.ids, scan, withdrawn)


def _loaded(repo: Repository, files: list[File], digests: list[Digest | None], errors: list[str | None],
            source: _Source, notes: list[str], narrow: bool, ids: Ids,
            scan: Scan, withdrawn: bool = False) -> Loaded[CaseRecord]:  # fmt: skip
    """The Loaded of the readable files (withdrawn cases only with ``withdrawn``), their cases
    read from ``source`` when needed."""
    recover = partial(_rebuild, repo, withdrawn)
    if all(e is None for e in errors) and (
        withdrawn or not any(d[D_WITHDRAWN] for d in cast("list[Digest]", digests))
    ):  # the usual case: every file readable (so each has a digest), none withdrawn
        return Loaded([path for path, _, _ in files], [], notes, digests=cast("list[Digest]", digests), source=source,
                      positions=list(range(len(files))), narrow=narrow, recover=recover, ids=ids,
                      leftovers=scan.leftovers, files=files, folders=scan.folders)  # fmt: skip
    positions: list[int] = []
    loaded: Loaded[CaseRecord] = Loaded([], [], notes, digests=[], source=source, positions=positions, narrow=narrow,
                                        recover=recover, ids=ids, leftovers=scan.leftovers, files=files,
                                        folders=scan.folders)  # fmt: skip
    for n, ((path, _, _), digest, error) in enumerate(zip(files, digests, errors, strict=True)):
        if error is None and digest is not None:
            if digest[D_WITHDRAWN] and not withdrawn:
                continue
            loaded.paths.append(path)
            loaded.digests.append(digest)
            positions.append(n)
        else:
            loaded.problems.append(f"{repo.root / path}: {error}")
    return loaded
