"""What a sync did, in the sentences people read: one wording for ``kitamono sync`` and the 同期 page.

``kitamono.gitsync.sync`` returns a ``SyncResult``; ``sync_said`` turns it into the lines to say,
each with its kind, and the sentence a stopped sync ends on. The command line prints the lines on
stderr and ends with ``エラー: <failure>`` (exit 1); the page shows them as notices, the failure
last. Where the two must word a thing differently (a conflict is settled on the case's page, not
with ``kitamono resolve``), ``page`` decides it here, so the two can never drift apart::

    北洋銀行 の変更をコミットしました(案件 1件)          info
    届いた案件: 新着 1件、更新 0件、削除 0件               info
    origin に push しました。同期は完了です                info
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from kitamono.i18n import t
from kitamono.reports.conflicts import conflict_line

if TYPE_CHECKING:
    from kitamono.gitsync import SyncResult, Trouble
    from kitamono.reference import Reference

Kind = Literal["info", "warning", "error"]

#: The outcomes after which what arrived from the other clones is told (and listed).
_ARRIVALS_TOLD = ("check_failed", "rejected", "refused", "done")


@dataclass(frozen=True)
class Said:
    """One line to say: ``warning`` lines are warnings, ``error`` lines explain a failure."""

    kind: Kind
    text: str


@dataclass(frozen=True)
class SyncSaid:
    """What to tell of one sync: the lines in order, then the failure (None when it went through).

    ``arrivals``: whether the arrivals (``history.sync_report``) are shown with the lines.
    """

    lines: list[Said]
    failure: str | None
    arrivals: bool

    @property
    def failed(self) -> bool:
        return self.failure is not None


def sync_said(result: SyncResult, ref: Reference | None, *, page: bool = False) -> SyncSaid:
    """The lines that tell what ``result`` did; ``ref`` words the conflicts it stopped on (it
    may be None when there are none); ``page``: said on the 同期 page rather than the command line."""
    lines = [Said("warning", message) for message in result.warnings]
    if result.outcome == "removed_by_hand":
        return SyncSaid(lines, t("sync.removed_by_hand", paths=", ".join(result.removed)), arrivals=False)
    if result.committed:
        lines.append(Said("info", t("sync.committed", n=len(result.committed), institution=result.institution)))
    if result.outcome == "conflicted":
        for trouble in result.troubles:
            if ref is not None:
                name = trouble.case_id or trouble.path
                lines.extend(Said("error", conflict_line(name, conflict, ref)) for conflict in trouble.conflicts)
            if trouble.problem:
                lines.append(Said("error", trouble.problem))
        return SyncSaid(lines, _stopped_by(result.troubles, page), arrivals=False)
    if result.outcome == "no_remote":
        return SyncSaid(lines, t("sync.no_remote"), arrivals=False)
    if result.outcome == "unreachable":
        return SyncSaid(lines, t("sync.unreachable", remote=result.remote, reason=result.reason), arrivals=False)
    if result.arrived:
        counts = {kind: sum(1 for c in result.arrived if c.kind == kind) for kind in ("added", "changed", "removed")}
        lines.append(Said("info", t("sync.arrived", **counts)))
    else:
        lines.append(Said("info", t("sync.nothing_arrived")))
    if result.outcome == "check_failed":
        lines.extend(Said("error", problem.line()) for problem in result.problems)
        return SyncSaid(lines, t("sync.check_failed", n=len(result.problems)), arrivals=True)
    if result.outcome in ("rejected", "refused"):
        return SyncSaid(lines, t(f"sync.{result.outcome}", remote=result.remote, reason=result.reason), arrivals=True)
    lines.append(Said("info", t("sync.done", remote=result.remote) if result.pushed else t("sync.nothing_to_push")))
    return SyncSaid(lines, None, arrivals=True)


def _stopped_by(troubles: list[Trouble], page: bool) -> str:
    """The sentence a sync stopped by ``troubles`` ends on, with what to do next: recorded
    conflicts first (settled with ``kitamono resolve``, or on the page), then unreadable case
    files, then other files that did not merge."""
    first: dict[str, list[str]] = {}
    for trouble in troubles:
        first.setdefault(trouble.kind, []).append(trouble.case_id or trouble.path)
    if "conflicts" in first:
        ids = first["conflicts"]
        return t("web.sync_conflicted") if page else t("sync.conflicted", ids=", ".join(ids), first=ids[0])
    if "unreadable" in first:
        ids = first["unreadable"]
        return t("sync.unreadable_cases", ids=", ".join(ids), first=ids[0])
    return t("sync.files_conflicted", paths=", ".join(trouble.path for trouble in troubles))
