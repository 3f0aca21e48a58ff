"""``kitamono sync``: commit this clone's changes → fetch and merge → check → push.

Every institution works in its own clone of the case repository and all clones meet in a shared
remote. What must never happen is a case file committed without the other clone's records in
it. So ``sync`` stages the shared files one by one (never ``.kitamono/`` nor the ``*.tmp`` files
of an interrupted write, both also in the clone's own ``.git/info/exclude``), refuses while any
case file would be merged by something other than the driver (its effective ``merge``
attribute), and finishes a merge that git left unfinished with kitamono's own merge of git's
three versions instead of committing this clone's version as it stands.

Nothing here prints: the result comes back as a ``SyncResult`` (what was committed, what
arrived, what stops the sync) and what the user has to act on as ``GitError``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from kitamono.caseio import CONFLICT_MARKERS, case_text, load_case_file
from kitamono.checks import Problem
from kitamono.errors import DataError
from kitamono.gitsync.clone import TRAILER, Change, case_changes, case_id_of, is_private, shown, trailer
from kitamono.gitsync.driver import (
    ATTRIBUTES_FILE,
    attribute_problem,
    driver_problem,
    ensure_excludes,
    forget_merges,
    merge_key,
    merge_versions,
    private_tracked_problem,
    remember_merge,
    remembered_merges,
)
from kitamono.gitsync.git import (
    GitError,
    git_available,
    git_ok,
    head,
    identity_problem,
    is_work_tree,
    last_line,
    listed,
    merge_in_progress,
    read_blobs,
    run_git,
)
from kitamono.i18n import t
from kitamono.merge import (
    MergeError,
    describe_value,
    header_leaves,
    merge_cases,
    parse_case,
    parse_choices,
    record_key,
    resolve_conflicts,
)
from kitamono.models import Case, CaseLike, Conflict, Recorded
from kitamono.reference import Reference
from kitamono.store import (
    CASES_DIR,
    LOCAL_DIR,
    SETTINGS_FILE,
    Repository,
    atomic_write,
    open_repository,
    update_case,
    write_lock,
)

# --- committing this clone's changes ------------------------------------------------------------


def _shared_paths(repo: Repository) -> list[str]:
    """Where sync looks for this clone's changes: the cases and the files every clone shares."""
    paths = [CASES_DIR, SETTINGS_FILE, ATTRIBUTES_FILE, ".gitignore"]
    data_dir = repo.data_dir  # inside the repository, outside .kitamono/ (checked as it is read)
    if data_dir is not None:
        paths.append(data_dir.relative_to(repo.root.resolve()).as_posix())
    return paths


def _changed_shared_files(repo: Repository) -> list[str]:
    """This clone's changed, new and deleted shared files, one by one.

    Never a file of this clone only (``.kitamono/``) nor a temporary file an interrupted write
    left, whatever the ignore rules say; never a file git has not merged yet.
    """
    root = repo.root
    prefix = run_git(root, "rev-parse", "--show-prefix").stdout.strip()
    listing = git_ok(root, "--literal-pathspecs", "status", "--porcelain", "-z", "-uall", "--no-renames", "--",
                     *_shared_paths(repo))  # fmt: skip
    files = []
    for entry in listing.split("\0"):
        code, path = entry[:2], entry[3:].removeprefix(prefix)  # porcelain paths start at the top
        if path and "U" not in code and code not in ("AA", "DD") and not is_private(path):
            files.append(path)
    return files


def sync_commit_message(changes: list[Change], institution: str, merging: bool) -> str:
    ids = [c.case_id for c in changes]
    if merging:
        subject = t("git.merge_subject", institution=institution)
    elif ids:
        subject = t("git.sync_subject", institution=institution, n=len(ids), ids=shown(ids, limit=3))
    else:
        subject = t("git.sync_other_subject", institution=institution)
    body = [f"{t(f'git.kind_{c.kind}')}: {c.case_id}" for c in changes]
    return subject + ("\n\n" + "\n".join(body) if body else "") + trailer(institution)


def _commit_local(repo: Repository, institution: str, merging: bool) -> list[Change]:
    """Stage and commit this clone's changes (and finish a merge in progress)."""
    root = repo.root
    files = _changed_shared_files(repo)
    if merging:  # files other than cases that git could not merge, repaired since (no markers left)
        files += [path for path in _unmerged(root) if case_id_of(path) is None and not is_private(path)]
    if files:
        git_ok(root, "--literal-pathspecs", "add", "-A", "--pathspec-from-file=-", "--pathspec-file-nul",
               input="\0".join(files))  # fmt: skip
    staged = git_ok(root, "diff", "--cached", "--name-status", "--no-renames", "--relative")
    if not staged.strip() and not merging:
        return []
    changes = case_changes(staged)
    message = sync_commit_message(changes, institution, merging)
    result = run_git(root, "commit", "-q", "-F", "-", input=message)
    if result.returncode != 0:
        raise GitError(t("git.commit_failed", reason=last_line(result)))
    return [] if merging else changes


# --- sync ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trouble:
    """A file that stops sync: a case with recorded conflicts, or a file that cannot be read."""

    path: str
    case_id: str | None
    kind: Literal["conflicts", "unreadable", "minted_twice", "unmerged"]
    conflicts: list[Conflict] = field(default_factory=list)
    problem: str | None = None


Outcome = Literal[
    "done", "conflicted", "check_failed", "no_remote", "unreachable", "rejected", "refused", "removed_by_hand"
]


@dataclass
class SyncResult:
    institution: str
    outcome: Outcome = "done"
    committed: list[Change] = field(default_factory=list)
    arrived: list[Change] = field(default_factory=list)
    troubles: list[Trouble] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # the errors that stopped the push
    warnings: list[str] = field(default_factory=list)
    remote: str | None = None
    pushed: bool = False
    reason: str | None = None  # git's own words when the remote failed
    removed: list[str] = field(default_factory=list)  # case files deleted by hand, when that stops the sync


def case_troubles(repo: Repository, paths: list[Path] | None = None) -> list[Trouble]:
    """Case files that are unreadable (markers, broken YAML) or still hold recorded conflicts."""
    troubles: list[Trouble] = []
    for path in paths if paths is not None else repo.case_files():
        relative = str(path.relative_to(repo.root))
        try:
            case = load_case_file(path)
        except DataError as error:
            problem = str(error).replace(str(path), relative, 1)
            troubles.append(Trouble(relative, path.stem, "unreadable", problem=problem))
            continue
        if case.conflicts:
            troubles.append(Trouble(relative, case.id, "conflicts", conflicts=list(case.conflicts)))
    return troubles


def _unmerged(root: Path) -> dict[str, set[int]]:
    """Unmerged paths with the index stages they have (1 base, 2 ours, 3 theirs)."""
    stages: dict[str, set[int]] = {}
    for line in git_ok(root, "ls-files", "-u").splitlines():
        meta, _, path = line.partition("\t")
        parts = meta.split()
        if len(parts) == 3:
            stages.setdefault(path, set()).add(int(parts[2]))
    return stages


def _other_troubles(repo: Repository, unmerged: dict[str, set[int]]) -> list[Trouble]:
    """Unmerged files outside ``cases/`` that still carry conflict markers (or are missing)."""
    troubles = []
    for path in sorted(unmerged):
        if case_id_of(path) is not None:
            continue
        full = repo.root / path
        try:
            text = full.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            troubles.append(Trouble(path, None, "unmerged", problem=t("git.file_unmerged", path=path)))
            continue
        if CONFLICT_MARKERS.search(text):
            troubles.append(Trouble(path, None, "unmerged", problem=t("git.file_markers", path=path)))
    return troubles


def _resolve_deleted(repo: Repository, unmerged: dict[str, set[int]]) -> tuple[list[str], dict[str, set[int]]]:
    """A case deleted on one side and changed on the other is kept (the changed version)."""
    warnings: list[str] = []
    left: dict[str, set[int]] = {}
    for path, stages in unmerged.items():
        case_id = case_id_of(path)
        one_sided = 2 not in stages or 3 not in stages
        if case_id is not None and one_sided and 1 in stages and (repo.root / path).is_file():
            git_ok(repo.root, "--literal-pathspecs", "add", "--", path)
            warnings.append(t("git.kept_deleted", id=case_id))
        else:
            left[path] = stages
    return warnings, left


def _settle_unmerged(repo: Repository) -> tuple[list[str], list[Trouble]]:
    """Finish, with kitamono's own merge, the case files that a stopped merge left unmerged.

    git leaves a case file unmerged when the driver recorded conflicts in it, but also when the
    file never reached the driver (a rule that switched it off, a driver that could not run):
    then the file holds this clone's version alone, and committing it would drop the other
    clone's records. So each unmerged case is merged here from git's three versions (common
    base ``:1:``, this clone's ``:2:``, the other clone's ``:3:``), unless kitamono merged those
    three already; what was recorded in the file meanwhile is kept as well. A case that is then
    readable and free of conflicts is marked merged (``git add``); the others are troubles.
    Returns warnings and troubles (files that still stop the merge).
    """
    root = repo.root
    warnings, left = _resolve_deleted(repo, _unmerged(root))
    troubles = _other_troubles(repo, left)
    both = sorted(path for path, stages in left.items() if case_id_of(path) and {2, 3} <= stages)
    versions = read_blobs(root, [f":{n}:./{path}" for path in both for n in (1, 2, 3)])
    remembered = remembered_merges(root)
    settled = []
    for number, path in enumerate(both):
        texts = [text or "" for text in versions[3 * number: 3 * number + 3]]
        case_id, full = case_id_of(path), root / path
        if merge_key(texts) not in remembered:
            current = _read_text(full) if full.is_file() else None
            text = _finish_merge(texts, current, case_id or path)
            if text is None:
                troubles.append(Trouble(path, case_id, "unmerged", problem=t("git.file_unmerged", path=path)))
                continue
            if text != current:
                atomic_write(full, text)
            remember_merge(root, texts)
        found = case_troubles(repo, [full])
        if found and 1 not in left[path]:
            # Added on both sides with different content: one id minted twice (two clones of one
            # institution), not one case changed twice. Field conflicts would only confuse.
            found = [Trouble(path, case_id, "minted_twice", problem=t("git.id_minted_twice", id=case_id))]
        troubles += found
        if not found:
            settled.append(path)
    for path in sorted(left):
        if case_id_of(path) and path not in both:  # deleted on one side, and gone from the folder
            troubles.append(Trouble(path, case_id_of(path), "unmerged", problem=t("git.file_unmerged", path=path)))
    if settled:
        git_ok(root, "--literal-pathspecs", "add", "--", *settled)
    return warnings, troubles


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _finish_merge(texts: list[str], current: str | None, case_id: str) -> str | None:
    """The text of a case file that git left unmerged, merged by kitamono's rules.

    ``current`` is the file as it is now: this clone's version as git left it, git's line
    merge, or either with a change made since (an event recorded while the merge waited, a
    person's repair). A change made since is merged in too; None when that cannot be done.
    """
    ours = texts[1]
    merged = merge_versions(texts, case_name=case_id)
    if current is None or current in (ours, merged.text):
        return merged.text
    if not merged.by_fields:
        return current  # a side is no readable case: git's line merge, or a person's repair of it
    try:
        changed = parse_case(current, "current")
    except MergeError:
        return merged.text  # git's conflict markers (or a broken edit): kitamono's merge instead
    try:
        return merge_cases(parse_case(ours, "ours"), changed, parse_case(merged.text, "merged")).text
    except MergeError:
        return None


# --- who recorded each side of a conflict ------------------------------------------------------------


def _stamp_recorded(repo: Repository, troubles: list[Trouble]) -> list[Trouble]:
    """Put on each new conflict who recorded each side and when, from the commits of the merge
    in progress: on this clone's side (HEAD) and the other's (MERGE_HEAD), the commit since their
    common ancestor from which that side's value has stood. Returns the troubles as now stored."""
    root = repo.root
    if not merge_in_progress(root):
        return troubles
    base = run_git(root, "merge-base", "HEAD", "MERGE_HEAD").stdout.strip()
    stamped = []
    for trouble in troubles:
        if trouble.kind != "conflicts" or all(_stamped(c) for c in trouble.conflicts):
            stamped.append(trouble)
            continue
        full = root / trouble.path
        case = load_case_file(full)
        sides = {side: _side_versions(root, base, ref, trouble.path) for side, ref in
                 (("ours", "HEAD"), ("theirs", "MERGE_HEAD"))}  # fmt: skip
        conflicts = [c if _stamped(c) else c.model_copy(update={
            "ours_recorded": _who(c, "ours", sides["ours"]) or c.ours_recorded,
            "theirs_recorded": _who(c, "theirs", sides["theirs"]) or c.theirs_recorded,
        }) for c in case.conflicts]  # fmt: skip
        updated = case.model_copy(update={"conflicts": conflicts})
        atomic_write(full, case_text(updated))
        stamped.append(Trouble(trouble.path, trouble.case_id, "conflicts", conflicts=conflicts))
    return stamped


def _stamped(conflict: Conflict) -> bool:
    return all(side is not None and side.person for side in (conflict.ours_recorded, conflict.theirs_recorded))


def _side_versions(root: Path, base: str, ref: str, path: str) -> list[tuple[Recorded, Case | None]]:
    """The commits on one side of the merge that changed ``path``, newest first: who made each
    (institution, person, day) and the case as it left it."""
    fields = ["%H", "%an", "%aI", f"%(trailers:key={TRAILER},valueonly,separator=%x2C)"]
    span = f"{base}..{ref}" if base else ref
    out = run_git(root, "log", f"--format=%x1e{'%x1f'.join(fields)}", span, "--", path).stdout
    commits = [(record.strip("\n").split("\x1f") + [""] * 4)[:4] for record in out.split("\x1e")[1:]]
    texts = read_blobs(root, [f"{sha}:{path}" for sha, *_ in commits])
    versions = []
    for (_, author, when, institution), text in zip(commits, texts, strict=True):
        recorded = Recorded(institution=institution.strip() or None, person=author or None,
                            on=datetime.fromisoformat(when).date())  # fmt: skip
        try:
            case = parse_case(text, "blob") if text is not None else None
        except MergeError:
            case = None
        versions.append((recorded, case))
    return versions


def _who(conflict: Conflict, side: str, versions: list[tuple[Recorded, Case | None]]) -> Recorded | None:
    """The commit from which one side's value has stood (the oldest of the newest run holding it)."""
    found = None
    for recorded, case in versions:
        if case is None or not _holds(conflict, side, case):
            break
        found = recorded
    return found


def _holds(conflict: Conflict, side: str, case: Case) -> bool:
    events = conflict.ours_events if side == "ours" else conflict.theirs_events
    if conflict.kind == "field" or (conflict.kind == "withdrawn" and not events):
        value = conflict.ours if side == "ours" else conflict.theirs
        return describe_value(header_leaves(case).get(conflict.field)) == value
    present = {record_key(e) for e in case.events}
    return bool(events) and all(record_key(e) in present for e in events)


# --- looking at and settling conflicts --------------------------------------------------------------


def _git_person(root: Path) -> str | None:
    """The name git signs this clone's commits with (as ``git var`` says, settings and variables
    alike), or None without git."""
    if not is_work_tree(root):
        return None
    ident = run_git(root, "var", "GIT_AUTHOR_IDENT").stdout
    return ident.partition(" <")[0].strip() or None


def cases_with_conflicts(repo: Repository, records: Sequence[CaseLike]) -> list[Case]:
    """The cases among ``records`` that hold open conflicts, read whole from their files."""
    return [load_case_file(repo.find_case_file(r.id)) for r in records if r.conflicts]


def resolve(repo: Repository, case_id: str, takes: list[str], values: list[str], ref: Reference,
            by: str, today: date) -> tuple[Case, list[Conflict]]:  # fmt: skip
    """Settle open conflicts of a case (``kitamono resolve``): the case as written and the
    conflicts settled. Who decided is this clone's institution (or ``by``) and git's user name;
    ``sync`` then finishes the merge it stopped."""
    person = _git_person(repo.root)
    settled = [0]

    def change(case: Case) -> Case:
        choices = parse_choices(case, takes, values)
        settled[0] = len(choices)
        return resolve_conflicts(case, choices, ref, by, today, person)

    case = update_case(repo, case_id, change)
    return case, case.resolved_conflicts[len(case.resolved_conflicts) - settled[0]:]


def _remote(root: Path) -> tuple[str, str, bool] | None:
    """(remote, branch on the remote, whether the branch already tracks it), or None."""
    branch_result = run_git(root, "symbolic-ref", "--short", "-q", "HEAD")
    branch = branch_result.stdout.strip()
    if not branch:
        raise GitError(t("git.detached"))
    remote = run_git(root, "config", "--get", f"branch.{branch}.remote").stdout.strip()
    merge = run_git(root, "config", "--get", f"branch.{branch}.merge").stdout.strip()
    if remote and merge and remote != ".":
        return remote, merge.removeprefix("refs/heads/"), True
    remotes = git_ok(root, "remote").split()
    if not remotes:
        return None
    chosen = "origin" if "origin" in remotes else remotes[0]
    return chosen, branch, False


def removed_by_hand(repo: Repository) -> list[str]:
    """Case files this clone deleted without kitamono (no kitamono command deletes one): gone from
    the folder, deletion staged, or deleted by a commit the shared remote does not have yet."""
    root = repo.root
    found = set(listed(root, "ls-files", "--deleted", "--", CASES_DIR))
    if head(root) is not None:
        found |= set(listed(root, "diff", "--cached", "--name-only", "--relative", "--diff-filter=D", "--", CASES_DIR))
        try:
            target = _remote(root)
        except GitError:  # a detached HEAD: sync says so itself
            target = None
        remote_ref = f"refs/remotes/{target[0]}/{target[1]}" if target else ""
        base = run_git(root, "merge-base", "HEAD", remote_ref).stdout.strip() if target else ""
        if base:
            found |= set(listed(root, "diff", "--name-only", "--relative", "--diff-filter=D", base, "HEAD", "--",
                                CASES_DIR))  # fmt: skip
    return sorted(path for path in found if case_id_of(path))



@dataclass
class SyncState:
    """Where this clone stands against the shared remote, as of the last fetch (no network used).

    ``ahead``: this clone's commits the remote has not had; ``behind``: the remote's commits this
    clone has not merged; ``changed``: this clone's shared files not yet committed (sync commits
    them first). The case files that would stop a sync are the readers' to find (``case_troubles``
    reads every file; a page that holds the cases knows them already).
    """

    git: bool
    remote: str | None = None
    branch: str | None = None
    ahead: int = 0
    behind: int = 0
    fetched: bool = False  # whether the remote branch has been fetched at all
    changed: list[str] = field(default_factory=list)
    merging: bool = False


def sync_state(repo: Repository) -> SyncState:
    """This clone's state against its remote, read from git alone (``sync`` fetches; this does not)."""
    root = repo.root
    if not git_available() or not is_work_tree(root):
        return SyncState(git=False)
    state = SyncState(git=True, merging=merge_in_progress(root))
    state.changed = _changed_shared_files(repo)
    try:
        target = _remote(root)
    except GitError:  # a detached head: sync says so when it is run
        return state
    if target is None:
        return state
    state.remote, state.branch, _ = target
    remote_ref = f"refs/remotes/{state.remote}/{state.branch}"
    if run_git(root, "rev-parse", "--verify", "-q", remote_ref).returncode != 0:
        state.ahead = int(git_ok(root, "rev-list", "--count", "HEAD") or 0) if head(root) else 0
        return state
    state.fetched = True
    if head(root) is None:
        return state
    counts = git_ok(root, "rev-list", "--left-right", "--count", f"HEAD...{remote_ref}").split()
    state.ahead, state.behind = int(counts[0]), int(counts[1])
    return state


def sync(repo: Repository, check: Callable[[Repository], list[Problem]], allow_delete: bool = False) -> SyncResult:
    """Commit, fetch and merge, check, push. Stops (outcome ≠ done) at the first step that fails.

    ``check(repo)`` returns the problems of a repository (``checks.check_repository``); any
    error among them stops the push. A sync that refuses (no remote, a conflict, a problem in
    this clone's cases) stops before it commits anything; once this clone's changes are
    committed, the commit is kept whatever happens later (an unreachable remote: the work is
    safe in this clone). The repository's write lock is held while case files are merged and
    committed, not while the network is used. Case files deleted by hand stop it before anything is
    committed, unless ``allow_delete``.
    """
    root = repo.root
    institution = _ready_to_sync(repo)
    result = SyncResult(institution)
    target = _remote(root)
    if target is None:
        result.outcome = "no_remote"
        return result
    remote, branch, tracking = target
    result.remote = remote
    fetched = run_git(root, "fetch", "-q", remote)
    remote_ref = f"refs/remotes/{remote}/{branch}"
    if fetched.returncode == 0:
        _refuse_private_files(root, remote, remote_ref)

    # 1. Commit this clone's work; nothing unreadable, conflicted, unmerged or failing the check.
    with write_lock(repo):
        merging = merge_in_progress(root)
        troubles: list[Trouble] = []
        if merging:  # a merge that stopped earlier: its case files are merged by kitamono first
            warnings, troubles = _settle_unmerged(repo)
            result.warnings += warnings
        named = {trouble.path for trouble in troubles}
        troubles += [trouble for trouble in case_troubles(repo) if trouble.path not in named]
        if troubles:
            result.outcome, result.troubles = "conflicted", _stamp_recorded(repo, troubles)
            return result
        result.removed = [] if allow_delete else removed_by_hand(repo)
        if result.removed:
            result.outcome = "removed_by_hand"
            return result
    # Checked before anything is committed, outside the lock (it only reads): others may record meanwhile.
    if not _passes(check, repo, result):
        return result
    with write_lock(repo):
        before_merge = head(root) if merging else None
        result.committed = _commit_local(repo, institution, merging)
        if merging:
            forget_merges(root)

    # 2. Merge what the other clones pushed (fetched above).
    if fetched.returncode != 0:
        result.outcome, result.reason = "unreachable", last_line(fetched)
        return result
    with write_lock(repo):
        before = before_merge or head(root)
        if not _merge_remote(repo, remote_ref, institution, result):
            return result
        after = head(root)
        result.arrived = _arrivals(root, before, after)

    # 3. Check what we now hold; push only a repository that passes.
    if not _passes(check, repo, result):
        return result
    if after is not None:
        _push(root, remote, branch, tracking, result)
    return result


def _passes(check: Callable[[Repository], list[Problem]], repo: Repository, result: SyncResult) -> bool:
    """Run the check; its errors stop the sync (``check_failed``), its warnings are passed on."""
    found = check(open_repository(repo.root))
    result.problems = [p for p in found if p.level == "error"]
    warnings = [p.line() for p in found if p.level == "warning"]
    result.warnings += [line for line in warnings if line not in result.warnings]
    if result.problems:
        result.outcome = "check_failed"
        return False
    return True


def _ready_to_sync(repo: Repository) -> str:
    """This clone's institution, once git, its identity, the merge driver, the merge rules of
    every case file and the repository's settings are all fit to share cases."""
    root = repo.root
    if not git_available():
        raise GitError(t("git.not_installed"))
    if not is_work_tree(root):
        raise GitError(t("git.not_a_work_tree", path=root))
    if not repo.local.institution:
        raise GitError(t("git.no_institution"))
    problem = identity_problem(root)
    if problem:
        raise GitError(problem)
    repo.data_dir  # noqa: B018 - a data_dir outside the repository stops here, before anything is staged
    # Without the driver, case files merge line by line; this clone's own files must not be shared.
    for problem in (driver_problem(root), attribute_problem(root), private_tracked_problem(root)):
        if problem:
            raise GitError(problem)
    ensure_excludes(root)
    return repo.local.institution


def _refuse_private_files(root: Path, remote: str, remote_ref: str) -> None:
    """Stop before merging a remote that holds ``.kitamono/`` files: git would write them over
    this clone's own settings (its institution) without a word, as they are ignored here."""
    if run_git(root, "rev-parse", "--verify", "-q", remote_ref).returncode != 0:
        return
    base = run_git(root, "merge-base", "HEAD", remote_ref).stdout.strip()
    if base:  # what the merge would bring: the remote's changes since the common ancestor
        paths = listed(root, "diff", "--name-only", "--no-renames", "--relative", base, remote_ref, "--", LOCAL_DIR)
    else:
        paths = listed(root, "ls-tree", "-r", "--name-only", remote_ref)
    held = [path for path in paths if LOCAL_DIR in path.split("/")]
    if held:
        raise GitError(t("git.remote_private", remote=remote, paths=shown(held)))


def _merge_remote(repo: Repository, remote_ref: str, institution: str, result: SyncResult) -> bool:
    """Merge the remote branch (when it exists); False, with the troubles, when it stops."""
    root = repo.root
    if run_git(root, "rev-parse", "--verify", "-q", remote_ref).returncode != 0:
        return True  # an empty remote: nothing to merge yet
    forget_merges(root)
    message = t("git.merge_subject", institution=institution) + trailer(institution)
    merged = run_git(root, "merge", "--no-edit", "-m", message, remote_ref)
    if merged.returncode != 0:
        if not merge_in_progress(root):
            raise GitError(t("git.merge_failed", reason=last_line(merged)))
        warnings, troubles = _settle_unmerged(repo)
        result.warnings += warnings
        named = {trouble.path for trouble in troubles}
        troubles += [Trouble(path, None, "unmerged", problem=t("git.file_unmerged", path=path))
                     for path in sorted(_unmerged(root)) if path not in named]  # fmt: skip
        if troubles:
            result.outcome, result.troubles = "conflicted", _stamp_recorded(repo, troubles)
            return False
        concluded = run_git(root, "commit", "-q", "--no-edit")
        if concluded.returncode != 0:
            raise GitError(t("git.commit_failed", reason=last_line(concluded)))
    forget_merges(root)
    return True


def _arrivals(root: Path, before: str | None, after: str | None) -> list[Change]:
    """The case files the merge brought in (between this clone's head before and after)."""
    if after is None or before == after:
        return []
    if before is None:
        listing = git_ok(root, "diff-tree", "-r", "--no-commit-id", "--name-status", "--root", "--relative",
                         after, "--", CASES_DIR)  # fmt: skip
    else:
        listing = git_ok(root, "diff", "--name-status", "--no-renames", "--relative", before, after, "--", CASES_DIR)
    return case_changes(listing)


#: What git says when the remote branch moved between our fetch and our push.
_MOVED_ON = ("[rejected]", "failed to update ref", "cannot lock ref", "failed to lock", "stale info")


def _push(root: Path, remote: str, branch: str, tracking: bool, result: SyncResult) -> None:
    arguments = ["push", "--porcelain"] + ([] if tracking else ["--set-upstream"])
    pushed = run_git(root, *arguments, remote, f"HEAD:refs/heads/{branch}")
    if pushed.returncode == 0:
        result.pushed = True
        return
    refused = [line.split("\t")[-1] for line in pushed.stdout.splitlines() if line.startswith("!")]
    if not refused:
        result.outcome, result.reason = "unreachable", last_line(pushed)
        return
    if any(words in refused[0] for words in _MOVED_ON):
        result.outcome, result.reason = "rejected", refused[0]
        return
    said = [line.removeprefix("remote:").strip() for line in pushed.stderr.splitlines() if line.startswith("remote:")]
    result.outcome, result.reason = "refused", "; ".join([refused[0], *(line for line in said if line)])
