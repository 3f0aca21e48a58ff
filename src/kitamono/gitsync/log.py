"""``kitamono log``: who recorded what, when, read back from the commits that touched the cases.

Each commit that changed a case file becomes one ``LogEntry`` per thing it did to the case, in
the order the commits were made: the case created, an event recorded or removed, a header field
changed, a conflict recorded or resolved, and the corrections (an event amended, voided or its
void taken back; the case's fields set, the case withdrawn or restored) with who, when and why.
A merge of two clones' versions is read the way the merge driver would have merged them, so
that what the log shows for it is what a person chose or typed, not what the merge brought from
the other side::

    commit 3f2a…  2026-11-05  北洋 花子  Kitamono-Institution: hokuyo
        cases/2026/hro-2026-0001.yaml   → LogEntry(change="event", event=followed_up 2026-11-05 …)

Entries are data (values as stored, the event itself); how they read in a table is up to the
report that shows them. The institution is the commit's ``Kitamono-Institution`` trailer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from kitamono.errors import RepositoryError
from kitamono.gitsync.clone import TRAILER, case_changes, case_id_of
from kitamono.gitsync.git import GitError, git_ok, head, is_work_tree, read_blobs, run_git
from kitamono.i18n import t
from kitamono.merge import MergeError, added_events, header_leaves, merge_sequences, parse_case, record_key
from kitamono.models import Case, Event
from kitamono.store import CASES_DIR, Repository


@dataclass(frozen=True)
class LogEntry:
    """One thing a commit did to one case: the values as stored, for a report to put in words."""

    commit: str
    when: datetime
    author: str
    institution: str | None
    case_id: str
    change: Literal[
        "created", "event", "event_removed", "field", "chosen", "conflict", "resolved", "removed", "merged",
        "unreadable", "amended", "voided", "unvoided", "set", "withdrawn", "restored",
    ]
    # models.Event for event, event_removed and the corrections of an event (as it is after them),
    # models.Conflict for conflict/resolved
    event: Any = None
    field: str | None = None
    old: Any = None
    new: Any = None
    title: str | None = None


@dataclass
class History:
    entries: list[LogEntry]
    pending: list[str]  # case files changed in this clone and not yet committed


_RECORD, _UNIT = "\x1e", "\x1f"


@dataclass(frozen=True)
class _Commit:
    sha: str
    parents: list[str]
    when: datetime
    author: str
    institution: str | None
    files: list[tuple[str, list[str], str]]  # case path, the parents' blobs, the result's blob


def history(repo: Repository, case_id: str | None = None) -> History:
    """Every commit that touched the cases (or one case), oldest first, as LogEntry rows."""
    root = repo.root
    if not is_work_tree(root):
        raise GitError(t("git.not_a_work_tree", path=root))
    if case_id is not None:
        try:
            target = str(repo.find_case_file(case_id).relative_to(root))
        except RepositoryError:
            target = str(repo.case_path(case_id).relative_to(root))
    else:
        target = CASES_DIR
    pending = [c.case_id for c in case_changes(_porcelain_changes(root, target))]
    if head(root) is None:
        return History([], pending)
    commits = _read_log(root, target)
    wanted = {sha for c in commits for _, parents, result in c.files for sha in (*parents, result)}
    names = sorted(sha for sha in wanted if set(sha) != {"0"})  # all zeros: no file on that side
    blobs = dict(zip(names, read_blobs(root, names), strict=True))
    bases = _merge_bases(root, commits)
    entries: list[LogEntry] = []
    for commit in commits:
        for path, parents, result in commit.files:
            common = dict(commit=commit.sha, when=commit.when, author=commit.author,
                          institution=commit.institution, case_id=case_id_of(path) or path)  # fmt: skip
            texts = [blobs.get(p) for p in parents]
            if len(parents) > 1:
                entries += _describe_merge(common, bases.get((commit.sha, path)), texts, blobs.get(result))
            else:
                entries += _describe(common, texts[0] if texts else None, blobs.get(result))
    return History(entries, pending)


def _read_log(root: Path, target: str) -> list[_Commit]:
    """``git log --raw`` of ``target``, oldest first; a merge lists the files it changed itself."""
    fields = ["%H", "%P", "%aI", "%an", f"%(trailers:key={TRAILER},valueonly,separator=%x2C)"]
    out = git_ok(root, "log", "--reverse", "--full-history", "-c", "--raw", "--relative", "--no-abbrev",
                 "--no-renames", f"--format={_RECORD}{_UNIT.join(fields)}", "--", target)  # fmt: skip
    commits: list[_Commit] = []
    for record in out.split(_RECORD)[1:]:
        first, _, rest = record.partition("\n")
        sha, parents, when, author, trailer = (first.split(_UNIT) + [""] * 5)[:5]
        files = []
        for line in rest.splitlines():
            meta, _, path = line.partition("\t")
            if not meta.startswith(":") or case_id_of(path) is None:
                continue
            colons = len(meta) - len(meta.lstrip(":"))  # one per parent
            shas = meta.lstrip(":").split()[colons + 1: 2 * colons + 2]  # after the modes
            files.append((path, shas[:-1], shas[-1]))
        if files:
            commits.append(_Commit(sha, parents.split(), datetime.fromisoformat(when), author,
                                   trailer.strip() or None, files))  # fmt: skip
    return commits


def _merge_bases(root: Path, commits: list[_Commit]) -> dict[tuple[str, str], str | None]:
    """For each file a merge changed, its text in the merge's common ancestor."""
    names: dict[tuple[str, str], str] = {}
    prefix = run_git(root, "rev-parse", "--show-prefix").stdout.strip()
    for commit in commits:
        if len(commit.parents) != 2:
            continue
        base = run_git(root, "merge-base", *commit.parents).stdout.strip()
        if base:
            names.update({(commit.sha, path): f"{base}:{prefix}{path}" for path, _, _ in commit.files})
    if not names:
        return {}
    return dict(zip(names, read_blobs(root, list(names.values())), strict=True))


def _porcelain_changes(root: Path, target: str) -> str:
    """``git status`` of ``target`` as name-status lines (what is not yet committed)."""
    lines = []
    prefix = run_git(root, "rev-parse", "--show-prefix").stdout.strip()
    for line in run_git(root, "status", "--porcelain", "-uall", "--", target).stdout.splitlines():
        code, path = line[:2], line[3:].removeprefix(prefix)
        status = "A" if "?" in code or "A" in code else ("D" if "D" in code else "M")
        lines.append(f"{status}\t{path}")
    return "\n".join(lines)


def _case_or_none(text: str | None) -> Any:
    """The Case in a blob's text, None without a text, _UNREADABLE when it is no readable case."""
    if text is None:
        return None
    try:
        return parse_case(text, "blob")
    except MergeError:
        return _UNREADABLE


_UNREADABLE = object()
_ABSENT = object()


def _describe(common: dict[str, Any], old_text: str | None, new_text: str | None) -> list[LogEntry]:
    """What one ordinary commit did to one case file."""
    old, new = _case_or_none(old_text), _case_or_none(new_text)
    if new is _UNREADABLE:
        return [LogEntry(**common, change="unreadable")]
    if new is None:
        return [LogEntry(**common, change="removed")]
    title = new.title
    if old is _UNREADABLE:
        return [LogEntry(**common, change="field", field="*", title=title)]
    if old is None:
        first = new.events[0] if new.events else None
        entries = [LogEntry(**common, change="created", title=title, event=first)]
        return entries + [LogEntry(**common, change="event", event=e, title=title) for e in new.events[1:]]
    added, removed = added_events(old.events, new.events), added_events(new.events, old.events)
    entries = _corrected_events(common, title, added, removed)
    entries += [LogEntry(**common, change="event", event=e, title=title) for e in added]
    entries += [LogEntry(**common, change="event_removed", event=e, title=title) for e in removed]
    before, after = header_leaves(old), header_leaves(new)
    entries += _corrected_case(common, title, old, new)
    told = {"withdrawn", "changes"} | {f.field for c in new.changes[len(old.changes):] for f in c.fields}
    for key, value in after.items():
        if before.get(key) != value and key not in told:
            entries.append(LogEntry(**common, change="field", field=key, old=before.get(key), new=value, title=title))
    old_conflicts = {record_key(c) for c in old.conflicts}
    new_conflicts = {record_key(c) for c in new.conflicts}
    entries += [LogEntry(**common, change="conflict", event=c, title=title)
                for c in new.conflicts if record_key(c) not in old_conflicts]  # fmt: skip
    entries += [LogEntry(**common, change="resolved", event=c, title=title)
                for c in old.conflicts if record_key(c) not in new_conflicts]  # fmt: skip
    return entries


def _corrected_events(common: dict[str, Any], title: str, added: list[Event], removed: list[Event]) -> list[LogEntry]:
    """The events a commit corrected, each an added event paired with the one it replaced (both
    taken out of ``added`` and ``removed``): amended, voided, or its void taken back."""
    entries = []
    for event in list(added):
        for before in removed:
            kind = _correction_kind(before, event)
            if kind is not None:
                added.remove(event)
                removed.remove(before)
                entries.append(LogEntry(**common, change=kind, event=event, old=before, title=title,
                                        new=event.amendments[-1] if kind != "voided" else event.voided))  # fmt: skip
                break
    return entries


def _correction_kind(before: Event, after: Event) -> Literal["amended", "voided", "unvoided"] | None:
    """How ``after`` corrects ``before``, or None when it is another event."""
    if len(after.amendments) == len(before.amendments) + 1 and after.amendments[:-1] == before.amendments:
        fields = [f.field for f in after.amendments[-1].fields]
        return "unvoided" if fields == ["voided"] else "amended"
    if after.voided is not None and before.voided is None and after.model_copy(update={"voided": None}) == before:
        return "voided"
    return None


def _corrected_case(common: dict[str, Any], title: str, old: Case, new: Case) -> list[LogEntry]:
    """The corrections of the case itself a commit made: fields set, withdrawn, restored."""
    entries = []
    for correction in new.changes[len(old.changes):] if new.changes[: len(old.changes)] == old.changes else []:
        undone = [f.field for f in correction.fields] == ["withdrawn"]
        kind: Literal["restored", "set"] = "restored" if undone else "set"
        entries.append(LogEntry(**common, change=kind, new=correction, title=title))
    if new.withdrawn is not None and old.withdrawn != new.withdrawn:
        entries.append(LogEntry(**common, change="withdrawn", new=new.withdrawn, title=title))
    return entries


def _describe_merge(
    common: dict[str, Any], base_text: str | None, parent_texts: list[str | None], new_text: str | None
) -> list[LogEntry]:
    """What a merge did to a case both sides had changed: joined them, and what a person chose."""
    new = _case_or_none(new_text)
    if new is None or new is _UNREADABLE:
        return [LogEntry(**common, change="removed" if new is None else "unreadable")]
    title = new.title
    entries = [LogEntry(**common, change="merged", title=title)]
    parents = [_case_or_none(text) for text in parent_texts]
    if len(parents) != 2 or any(p is None or p is _UNREADABLE for p in parents):
        return entries
    base = _case_or_none(base_text)
    base = base if base is not _UNREADABLE else None
    ours, theirs = parents
    # Events: what the rules of the merge driver would give, against what was committed.
    expected = merge_sequences(base.events if base else [], ours.events, theirs.events, record_key)
    entries += [LogEntry(**common, change="event", event=e, title=title) for e in added_events(expected, new.events)]
    entries += [LogEntry(**common, change="event_removed", event=e, title=title)
                for e in added_events(new.events, expected)]  # fmt: skip
    old = header_leaves(base) if base else {}
    mine, other = header_leaves(ours), header_leaves(theirs)
    for key, value in header_leaves(new).items():
        if value not in (mine.get(key), other.get(key)):
            entries.append(LogEntry(**common, change="field", field=key, old=mine.get(key), new=value, title=title))
        elif mine.get(key) != other.get(key) and old.get(key, _ABSENT) not in (mine.get(key), other.get(key)):
            entries.append(LogEntry(**common, change="chosen", field=key, old=(mine.get(key), other.get(key)),
                                    new=value, title=title))  # fmt: skip
    return entries
