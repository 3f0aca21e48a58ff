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

import threading
import time
from collections.abc import Callable
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
                self.computed[key] = build()
            return self.computed[key]


class Workspace:
    """One repository served: its reference data and the latest snapshot of its cases."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._reference: tuple[list[cache.Stamp], Reference] | None = None

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
        """The cases as they are in the files now: the last load while no file changed, else a new one."""
        from kitamono.casework import load_records

        repo = self.repo
        with self._lock:
            taken = time.time_ns()  # before the listing: a file changed after it is not trusted
            files = scan_cases(repo.root, repo.cases_dir).files
            current = self._snapshot
            if current is not None and current.trusted(files):
                return current
            try:  # a damaged file is left out, and every page's banner names it and says what to do
                loaded: Loaded[CaseRecord] | None = load_records(repo, allow_damaged=True)
                error = None
                assert loaded is not None
                loaded.cases  # noqa: B018 - built now, once, not by the first page that needs them
            except KitamonoError as problem:  # ambiguous ids: nothing can be counted
                loaded, error = None, str(problem)
            self._snapshot = Snapshot(repo, files, loaded, error, taken)
            return self._snapshot

    def with_withdrawn(self, snapshot: Snapshot) -> Loaded[CaseRecord] | None:
        """The cases of ``snapshot`` with the withdrawn ones too (``case list --all``), read once per snapshot."""
        from kitamono.casework import load_records

        if snapshot.loaded is None:
            return None
        return snapshot.compute(("withdrawn",), lambda: load_records(snapshot.repo, allow_damaged=True, withdrawn=True))
