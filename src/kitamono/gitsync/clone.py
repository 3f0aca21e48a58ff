"""A clone's files and commits as kitamono names them in git.

Which paths are case files (the file's name is the case id), which files belong to this clone
only and are never shared, what a commit did to a case, and the trailer that signs every
commit kitamono makes::

    cases/2026/hro-2026-0001.yaml      a case file, shared by every clone
    .kitamono/local.yaml               this clone only: never staged, never taken from a remote
    cases/2026/.hro-….yaml.k3j9.tmp    what an interrupted write left: never staged
    Kitamono-Institution: hro          the last line of a commit kitamono made for the センター
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from kitamono.store import CASES_DIR, LOCAL_DIR

TRAILER = "Kitamono-Institution"
#: Lines this clone's own ignore rules (``.git/info/exclude``) hold: its settings and index, and the
#: temporary files an interrupted write leaves (full case texts, contact details included).
EXCLUDE_RULES = (f"{LOCAL_DIR}/", "*.tmp")
_CASE_PATH = re.compile(rf"^{CASES_DIR}/(?:[^/]+/)*(?P<id>[^/]+)\.yaml$")


def case_id_of(path: str) -> str | None:
    """The case id of a path relative to the top of the clone, or None if it is no case file."""
    match = _CASE_PATH.match(path)
    return match["id"] if match else None


def is_private(path: str) -> bool:
    """A file of this clone only (in ``.kitamono/``) or a half-written temporary file."""
    parts = path.split("/")
    return LOCAL_DIR in parts or parts[-1].endswith(".tmp")


def trailer(institution: str | None) -> str:
    """The end of a commit message: the institution that made it, for ``log``."""
    return f"\n\n{TRAILER}: {institution}\n" if institution else "\n"


def shown(paths: list[str], limit: int = 5) -> str:
    """A few paths for a message, and ``…`` for the rest."""
    return ", ".join(paths[:limit]) + (", …" if len(paths) > limit else "")


Kind = Literal["added", "changed", "removed"]


@dataclass(frozen=True)
class Change:
    """A case file that a commit (or a sync) added, changed or removed."""

    kind: Kind
    case_id: str
    path: str


_KINDS: dict[str, Kind] = {"A": "added", "M": "changed", "D": "removed", "T": "changed"}


def case_changes(name_status: str) -> list[Change]:
    """Case files out of ``git diff --name-status --no-renames`` lines."""
    changes: list[Change] = []
    for line in name_status.splitlines():
        parts = line.split("\t")
        if len(parts) < 2:
            continue
        status, path = parts[0][:1], parts[-1]
        case_id = case_id_of(path)
        kind = _KINDS.get(status)
        if case_id is not None and kind:
            changes.append(Change(kind, case_id, path))
    return changes
