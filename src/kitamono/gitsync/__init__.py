"""Working together over git: kitamono's only caller of git, in one module per job.

Every institution works in its own clone of the case repository and all clones meet in a shared
remote::

    git.py         running git, reading many files' texts at once; below the store, knows no cases
    clone.py       which paths are cases and which files are this clone's own; the commit trailer
    driver.py      the case merge driver: registered by ``init``, checked by ``check``, run by git
    syncing.py     kitamono sync: commit this clone's changes → fetch and merge → check → push
    log.py         kitamono log: who recorded what, when, read back from the commits (data only)
    autocommit.py  auto_commit: true (kitamono.yaml): one commit per writing command

Nothing here prints: results come back as values and what the user must act on as ``GitError``.
The names other modules use are importable from here (``from kitamono.gitsync import sync``).
Each is imported when first asked for, so that the store can ask ``kitamono.gitsync.git``
whether git tracks a file without loading the merge rules and the store itself above it (and no
module is named like a function it exports: a module, once imported, would take its place).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: The public names, by the module that owns them.
_OWNERS = {
    "git": ("GitError", "git_available", "run_git", "is_work_tree", "merge_in_progress", "identity_problem"),
    "clone": ("Change", "EXCLUDE_RULES", "TRAILER"),
    "driver": (
        "ATTRIBUTES_FILE", "ATTRIBUTES_RULE", "DRIVER", "MERGED_RECORD", "DriverOutcome", "attribute_problem",
        "driver_command", "driver_problem", "driver_problems", "ensure_attributes", "ensure_excludes",
        "merge_versions", "private_tracked_problem", "register_driver", "run_merge_driver",
    ),
    "syncing": (
        "Outcome", "SyncResult", "SyncState", "Trouble", "case_troubles", "cases_with_conflicts", "resolve", "sync",
        "sync_commit_message", "sync_state",
    ),
    "log": ("History", "LogEntry", "history"),
    "autocommit": ("auto_commit", "auto_commit_message"),
}  # fmt: skip
_OWNER = {name: module for module, names in _OWNERS.items() for name in names}
__all__ = sorted(_OWNER)


def __getattr__(name: str) -> Any:
    module = _OWNER.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
