"""The cases a running server holds in memory, and when it reads them again.

Every request looks at the case files' stamps (size and time, one folder listing, as the index
does); while they are what they were, the cases already loaded serve the page, and what pages
computed from them (a report, the dashboard) is kept beside them. A file changed by the command
line, by git or by another browser tab changes its stamp, and the next request reads the cases
again through the index (which parses only the changed files). A stamp is trusted only for a
file older than the load by more than a clock tick (``cache.RACY_*``, git's racy-clean rule):
a file written within the same tick could change without changing its stamp.

Writes never go through here: they go through ``casework`` and ``store`` (the one writer, under
the repository's write lock, for threads as for processes), and the next read sees them.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from kitamono import cache
from kitamono.errors import KitamonoError
from kitamono.index import CaseRecord, Loaded
from kitamono.reference import Reference, load_reference, shipped_data_dir
from kitamono.store import Repository, scan_cases

T = TypeVar("T")


@dataclass
class Snapshot:
    """The cases as one load read them, and what pages computed from them since."""

    repo: Repository
    files: list[tuple[str, int, int]]
    loaded: Loaded[CaseRecord] | None  # None when the cases cannot be counted (ambiguous ids)
    error: str | None  # why not
    taken_ns: int
    computed: dict[Any, Any] = field(default_factory=dict)
    folders: list[tuple[str, int]] = field(default_factory=list)  # cases/ and its folders, with their times
    verified: bool = False  # the last look at every file found them as loaded
    lock: threading.RLock = field(default_factory=threading.RLock)  # a page may build on another's result

    @property
    def cases(self) -> list[CaseRecord]:
        return self.loaded.cases if self.loaded is not None else []

    @property
    def problems(self) -> list[str]:
        """A line for each case file that could not be read: its path in the repository, what is wrong."""
        return [f"{path}: {problem}" for path, problem in self.damaged]

    @property
    def damaged(self) -> list[tuple[str, str]]:
        from kitamono.casework import damaged_files

        return damaged_files(self.repo, self.loaded) if self.loaded is not None else []

    def trusted(self, files: list[tuple[str, int, int]]) -> bool:
        """Whether the files listed now are the ones loaded, each older than the load by a tick."""
        if files != self.files:
            return False
        fine = any(mtime % 1_000_000_000 for _, _, mtime in files)
        margin = cache.RACY_FINE_NS if fine else cache.RACY_NS
        return max((mtime for _, _, mtime in files), default=0) < self.taken_ns - margin

    def compute(self, key: Any, build: Callable[[], T]) -> T:
        """``build()`` once per snapshot and ``key`` (which names the page, its choices, the language)."""
        with self.lock:
            if key not in self.computed:
                with _collector_paused():
                    self.computed[key] = build()
            return self.computed[key]


class Workspace:
    """One repository served: its reference data and the latest snapshot of its cases."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._verifying = threading.Lock()
        self._verifier: threading.Thread | None = None
        self._reference: tuple[list[cache.Stamp], Reference] | None = None
        self._unverified: Snapshot | None = None  # a new load, to be looked at again by ``settle``
        self._saves: list[Callable[[], None]] = []  # the first load's index, written by ``settle``
        self._folders = _Folders()
        self._saver: threading.Thread | None = None  # writing the first load's index

    @property
    def repo(self) -> Repository:
        """The repository, its settings read afresh (``kitamono init --institution`` may change them)."""
        return Repository(self.root)

    def reference(self) -> Reference:
        """The reference data (shipped and the repository's own ``data_dir``), read again when a file changes."""
        repo = self.repo
        stamps = cache.stamps([shipped_data_dir(), repo.data_dir])
        known = self._reference
        if known is not None and known[0] == stamps:
            return known[1]
        ref = load_reference(repo.data_dir, cache_dir=repo.local_dir)
        self._reference = (stamps, ref)
        return ref

    def snapshot(self) -> Snapshot:
        """The cases as they are in the files now: the last load while no file changed, else a new one.

        Looking at every file's stamp costs a stat per case (a tenth of a second and more at
        10,000 cases), so a request looks at the folders' stamps only (a file written by kitamono,
        git or most editors is a new file, which changes its folder's time) while the last look at
        every file, made after the previous request, found them as loaded. A file edited in place
        shows once that look has run: at the next request, or the one after when it came first."""
        from kitamono.casework import load_records

        repo = self.repo
        with self._lock:
            current = self._snapshot
            taken = time.time_ns()  # before the listing: a file changed after it is not trusted
            # The first load lists the folders itself, as it lists the files; a later one is made
            # when these differ from the last load's (or a file did).
            folders: list[tuple[str, int]] | None = None
            if current is not None:  # the first load has nothing to compare with: it lists the files itself
                folders = self._folders(repo.cases_dir)
                if current.verified and folders == current.folders and _steady(folders, taken):
                    self._verify_later(current)
                    return current
                files = scan_cases(repo.root, repo.cases_dir).files
                if current.trusted(files):
                    current.folders, current.verified = folders, True
                    return current
            try:  # a damaged file is left out, and every page's banner names it and says what to do
                loaded: Loaded[CaseRecord] | None = load_records(repo, allow_damaged=True)
                error = None
                assert loaded is not None
                files = loaded.files  # as the load listed them: the files are listed once
                loaded.cases  # noqa: B018 - built now, once, not by the first page that needs them
                if folders is None:
                    folders = self._folders.listed(loaded.folders, taken)
            except KitamonoError as problem:  # ambiguous ids: nothing can be counted
                loaded, error = None, str(problem)
                files = scan_cases(repo.root, repo.cases_dir).files
            if folders is None:
                folders = self._folders(repo.cases_dir)
            snapshot = Snapshot(repo, files, loaded, error, taken, folders=folders)
            # The load listed every file, after the folders: that is a look at every file. A file
            # edited in place since then shows once the look after this request has run.
            snapshot.verified = snapshot.trusted(files)
            self._snapshot = self._unverified = snapshot  # looked at again once the page that loaded it is sent
            return snapshot

    def load_first(self, meanwhile: Callable[[], object]) -> Snapshot | None:
        """Read the cases before the first page is asked for, doing ``meanwhile()`` (load Flask,
        open the server) while worker processes parse the case files; without workers (the index
        is current, or there are few files) the caller does it afterwards. The index is written
        after the first page is sent (``settle``). The snapshot read, or None when reading failed."""
        from kitamono import index

        failed: list[BaseException] = []

        def work() -> None:
            try:
                meanwhile()
            except BaseException as error:
                failed.append(error)
                raise

        try:
            with index.meanwhile(work), index.save_later() as saves:
                snapshot = self.snapshot()
        except Exception:
            if failed:
                raise
            return None  # reading the cases failed: the first page reads them again and says what is wrong
        self._saves = saves  # the index is written once the first page is sent
        return snapshot

    def settle(self) -> None:
        """After a response is sent: look at every file of a new load once more, beside the next
        requests (not while the first page that needed the load is computed), and write the first
        load's index."""
        with self._lock:  # the thread started before it is known: ``close`` may join it at once
            snapshot, self._unverified = self._unverified, None
            saves, self._saves = self._saves, []
            if saves:
                saver = threading.Thread(target=lambda: [save() for save in saves], name="kitamono-web-index",
                                         daemon=True)  # fmt: skip
                saver.start()
                self._saver = saver
        if snapshot is not None:
            self._verify_later(snapshot)

    def close(self) -> None:
        """As the server stops: write what is still to be written (the first load's index, when no
        page was asked for), so that the next command finds it."""
        with self._lock:
            saves, self._saves = self._saves, []
            saver = self._saver
        for save in saves:
            save()
        if saver is not None:
            saver.join()

    def _verify_later(self, snapshot: Snapshot) -> None:
        """Look at every file's stamp once more, beside the requests, and mark ``snapshot`` as
        verified (the files are the ones loaded, each older than the load) or not."""
        with self._verifying:
            if self._verifier is not None and self._verifier.is_alive():
                return

            def verify() -> None:
                files = scan_cases(snapshot.repo.root, snapshot.repo.cases_dir).files
                snapshot.verified = snapshot.trusted(files)

            self._verifier = threading.Thread(target=verify, name="kitamono-web-verify", daemon=True)
            self._verifier.start()

    def with_withdrawn(self, snapshot: Snapshot) -> Loaded[CaseRecord] | None:
        """The cases of ``snapshot`` with the withdrawn ones too (``case list --all``), read once per snapshot."""
        from kitamono.casework import load_records

        if snapshot.loaded is None:
            return None
        return snapshot.compute(("withdrawn",), lambda: load_records(snapshot.repo, allow_damaged=True, withdrawn=True))


class _Folders:
    """``cases/`` and every folder below it with its time: adding, removing or replacing a file
    (as every writer of kitamono, git and most editors do) changes its folder's time.

    A folder's entries are listed again only when its time has changed since they were last
    listed (a new or removed subfolder changes it too): a look costs a stat per folder, not a
    listing of every case file. Entries listed within a clock tick of a folder's time are not
    kept (the folder could change again without changing its time: git's racy-clean rule)."""

    def __init__(self) -> None:
        self._subfolders: dict[str, tuple[int, list[str]]] = {}  # folder: (its time, its subfolders)

    def __call__(self, cases_dir: Path) -> list[tuple[str, int]]:
        found: list[tuple[str, int]] = []
        kept: dict[str, tuple[int, list[str]]] = {}
        stack = [str(cases_dir)]
        while stack:
            folder = stack.pop()
            try:
                mtime = os.lstat(folder).st_mtime_ns
                known = self._subfolders.get(folder)
                if known is not None and known[0] == mtime:
                    subfolders = known[1]
                else:
                    listed = time.time_ns()
                    with os.scandir(folder) as entries:
                        subfolders = [e.path for e in entries
                                      if not e.name.startswith(".") and e.is_dir(follow_symlinks=False)]  # fmt: skip
                    if not _steady([(folder, mtime)], listed):
                        found.append((folder, mtime))
                        stack.extend(subfolders)
                        continue
            except (FileNotFoundError, NotADirectoryError):
                found.append((folder, -1))
                continue
            found.append((folder, mtime))
            kept[folder] = (mtime, subfolders)
            stack.extend(subfolders)
        self._subfolders = kept
        return sorted(found)

    def listed(self, folders: dict[str, tuple[int, list[str]]], taken: int) -> list[tuple[str, int]]:
        """The folders a load listed (``store.Scan.folders``, each listed after ``taken``), as a
        look here would give them, and kept as if listed here."""
        self._subfolders = {folder: seen for folder, seen in folders.items() if _steady([(folder, seen[0])], taken)}
        return sorted((folder, mtime) for folder, (mtime, _) in folders.items())


def _steady(folders: list[tuple[str, int]], taken: int) -> bool:
    """Whether every folder is older than ``taken`` by a clock tick (git's racy-clean rule)."""
    fine = any(mtime % 1_000_000_000 for _, mtime in folders)
    return max((mtime for _, mtime in folders), default=0) < taken - (cache.RACY_FINE_NS if fine else cache.RACY_NS)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a page's numbers are built (as the index
    pauses it while it builds the cases).

    They are many small objects and no cycles; with the cases of a large repository in memory,
    each collection their allocations start walks all of them (a third of the dashboard's time
    at 10,000 cases). The collector is restored, if it was on, however the block ends; whatever the
    block left behind is collected as usual afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
