"""Working together over git: sync, the case merge driver, auto-commit and the case log.

Every institution works in its own clone of the case repository and all clones meet in a shared
remote. This module is kitamono's only caller of git (through ``subprocess``)::

    kitamono sync          commit this clone's changes → fetch and merge → check → push
    kitamono log [ID]      who recorded what, when, read back from the commits
    auto_commit: true      (kitamono.yaml) one commit per writing command

Case files merge through kitamono's merge driver (``merge.py`` holds the rules); ``init``
registers it in the clone's ``.git/config`` and ``.gitattributes`` routes case files to it::

    # .gitattributes (committed, shared by every clone)
    cases/**/*.yaml merge=kitamono
    # .git/config (this clone only)
    [merge "kitamono"]
        driver = '/path/to/python' -m kitamono merge-driver %O %A %B %P

Commits kitamono makes carry a ``Kitamono-Institution: <id>`` trailer so that the log can name
the institution that recorded each change. Nothing here prints: results come back as values
and problems as ``GitError``.

What must never happen is a case file committed without the other clone's records in it. So
``sync`` stages the shared files one by one (never ``.kitamono/`` nor the ``*.tmp`` files of an
interrupted write, both also in the clone's own ``.git/info/exclude``), refuses while any case
file would be merged by something other than the driver (its effective ``merge`` attribute),
and finishes a merge that git left unfinished with kitamono's own merge of git's three
versions instead of committing this clone's version as it stands.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from kitamono.errors import DataError, RepositoryError
from kitamono.i18n import label, t
from kitamono.store import CASES_DIR, LOCAL_DIR, SETTINGS_FILE

DRIVER = "kitamono"
ATTRIBUTES_FILE = ".gitattributes"
ATTRIBUTES_RULE = f"{CASES_DIR}/**/*.yaml merge={DRIVER}"
TRAILER = "Kitamono-Institution"
#: Variables a git hook exports that would point our git calls at another repository.
_REPOSITORY_VARIABLES = (
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_PREFIX", "GIT_NAMESPACE",
)  # fmt: skip
#: Options whose values are personal data: kept out of commit messages.
_PRIVATE_OPTIONS = ("--contact-name", "--contact-phone", "--contact-email")
_CASE_PATH = re.compile(rf"^{CASES_DIR}/(?:[^/]+/)*(?P<id>[^/]+)\.yaml$")


class GitError(RepositoryError):
    """git is missing, or a git step failed in a way the user has to act on."""


# --- running git ------------------------------------------------------------------------------------


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _REPOSITORY_VARIABLES}
    env["LC_ALL"] = "C"  # git's own messages in English, so that they can be recognised
    env.pop("LANGUAGE", None)
    return env


def git_available() -> bool:
    return shutil.which("git") is not None


def run_git(root: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """``git -C root args…`` with output captured; never raises for a non-zero exit."""
    command = ["git", "-C", str(root), "-c", "core.quotepath=off", "-c", "color.ui=never", *args]
    try:
        return subprocess.run(
            command, capture_output=True, text=True, encoding="utf-8", errors="replace",
            input=input, env=_environment(), check=False,
        )  # fmt: skip
    except FileNotFoundError:
        raise GitError(t("git.not_installed")) from None


def _git_ok(root: Path, *args: str, input: str | None = None) -> str:
    """Run git and return its stdout, or raise GitError with git's own last words."""
    result = run_git(root, *args, input=input)
    if result.returncode != 0:
        raise GitError(t("git.failed", command="git " + " ".join(args[:2]), reason=_last_line(result)))
    return result.stdout


#: What git adds after its reason when a remote cannot be read: advice, not the reason.
_GIT_BOILERPLATE = (
    "fatal: Could not read from remote repository.", "Please make sure you have the correct access rights",
    "and the repository exists.",
)  # fmt: skip


def _last_line(result: subprocess.CompletedProcess[str]) -> str:
    """git's own reason for a failure, in one line: its last words but hints and boilerplate."""
    lines = [line.strip() for line in (result.stderr + "\n" + result.stdout).splitlines() if line.strip()]
    said = [line for line in lines if not line.startswith("hint:") and line not in _GIT_BOILERPLATE]
    line = (said or lines or ["?"])[-1]
    for prefix in ("fatal: ", "error: "):
        line = line.removeprefix(prefix)
    return line


def is_work_tree(root: Path) -> bool:
    if not git_available():
        return False
    result = run_git(root, "rev-parse", "--is-inside-work-tree")
    return result.returncode == 0 and result.stdout.strip() == "true"


def _git_dir(root: Path) -> Path:
    return Path(_git_ok(root, "rev-parse", "--absolute-git-dir").strip())


def merge_in_progress(root: Path) -> bool:
    return (_git_dir(root) / "MERGE_HEAD").exists()


def _head(root: Path) -> str | None:
    result = run_git(root, "rev-parse", "--verify", "-q", "HEAD")
    return result.stdout.strip() or None if result.returncode == 0 else None


def identity_problem(root: Path) -> str | None:
    """Why git could not sign a commit here (no user.name / user.email), or None."""
    for variable in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
        result = run_git(root, "var", variable)
        if result.returncode != 0:
            return t("git.no_identity")
    return None


# --- the merge driver: registration and the check that it is there --------------------------------


def driver_command() -> str:
    """The command git runs for a case file, with this Python (git's PATH may not find kitamono)."""
    return f"{shlex.quote(sys.executable)} -m kitamono merge-driver %O %A %B %P"


def register_driver(root: Path) -> bool:
    """Register the case merge driver in this clone's git config; False when there is no git."""
    if not is_work_tree(root):
        return False
    _git_ok(root, "config", f"merge.{DRIVER}.name", t("git.driver_name"))
    _git_ok(root, "config", f"merge.{DRIVER}.driver", driver_command())
    return True


def ensure_attributes(root: Path) -> bool:
    """Route case files to the driver in ``.gitattributes``; True when the file was changed."""
    from kitamono.store import atomic_write

    path = root / ATTRIBUTES_FILE
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if ATTRIBUTES_RULE in (line.strip() for line in text.splitlines()):
        return False
    if text and not text.endswith("\n"):
        text += "\n"
    atomic_write(path, text + ATTRIBUTES_RULE + "\n")
    return True


def driver_problems(repo) -> list:
    """Warnings for ``check`` (and what stops ``sync``): this clone cannot share cases safely.

    The driver is not registered or its program cannot run; some case file would be merged by
    something other than the driver (the effective ``merge`` attribute of every case file, from
    ``.gitattributes``, ``.git/info/attributes`` or the user's git settings); git tracks files
    that belong to this clone only.
    """
    from kitamono.checks import Problem

    root = repo.root
    if not is_work_tree(root):
        return []
    problems = []
    driver = _driver_problem(root)
    if driver:
        problems.append(Problem("", driver, level="warning"))
    attributes = _attribute_problem(root)
    if attributes:
        problems.append(Problem(ATTRIBUTES_FILE, attributes, level="warning"))
    private = _private_tracked_problem(root)
    if private:
        problems.append(Problem("", private, level="warning"))
    return problems


def _driver_problem(root: Path) -> str | None:
    configured = run_git(root, "config", "--get", f"merge.{DRIVER}.driver").stdout.strip()
    if not configured:
        return t("git.driver_missing")
    try:
        program = shlex.split(configured)[0]
    except (ValueError, IndexError):
        program = ""
    if not program:
        return t("git.driver_broken", program=program)
    if os.sep not in program:
        return None  # found on git's PATH when git runs it
    try:
        usable = Path(program).is_file() and os.access(program, os.X_OK)
    except OSError:  # a folder on the way that this user may not read, a name too long, …
        return t("git.driver_unchecked", program=program)
    return None if usable else t("git.driver_broken", program=program)


def _attribute_problem(root: Path) -> str | None:
    """Which case files git would merge without kitamono's driver (all of them are asked)."""
    probe = f"{CASES_DIR}/2000/x-2000-0001.yaml"  # stands for the case files still to come
    listed = _listed(root, "ls-files", "--cached", "--others", "--exclude-standard", "--", CASES_DIR)
    paths = sorted({path for path in listed if _case_id(path) and not _is_private(path)})
    out = _git_ok(root, "check-attr", "-z", "--stdin", "merge", input="".join(f"{p}\0" for p in [probe, *paths]))
    fields = out.split("\0")
    merge = {fields[i]: fields[i + 2] for i in range(0, len(fields) - 2, 3)}
    if merge.get(probe) != DRIVER and not _has_attributes_rule(root):
        return t("git.attributes_missing", rule=ATTRIBUTES_RULE)
    others = [path for path in paths if merge.get(path) != DRIVER]
    if not others and merge.get(probe) != DRIVER:
        others = [f"{CASES_DIR}/**/*.yaml"]
    if not others:
        return None
    return t("git.attributes_other", n=len(others), paths=_shown(others), rule=ATTRIBUTES_RULE)


def _has_attributes_rule(root: Path) -> bool:
    path = root / ATTRIBUTES_FILE
    text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    return ATTRIBUTES_RULE in (line.strip() for line in text.splitlines())


def _listed(root: Path, *args: str) -> list[str]:
    """The paths a git listing command prints with ``-z`` (relative to ``root``)."""
    return [path for path in _git_ok(root, *args[:1], "-z", *args[1:]).split("\0") if path]


# --- this clone's own files: never shared -------------------------------------------------------------

#: Lines this clone's own ignore rules (``.git/info/exclude``) hold: its settings and index, and the
#: temporary files an interrupted write leaves (full case texts, contact details included).
EXCLUDE_RULES = (f"{LOCAL_DIR}/", "*.tmp")


def _is_private(path: str) -> bool:
    """A file of this clone only (in ``.kitamono/``) or a half-written temporary file."""
    parts = path.split("/")
    return LOCAL_DIR in parts or parts[-1].endswith(".tmp")


def ensure_excludes(root: Path) -> bool:
    """Add the missing EXCLUDE_RULES to this clone's ``.git/info/exclude``; True when changed.

    The tracked ``.gitignore`` says the same, but any clone can change that file for everyone.
    """
    from kitamono.store import atomic_write

    path = root / _git_ok(root, "rev-parse", "--git-path", "info/exclude").strip()
    text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    present = {line.strip() for line in text.splitlines()}
    missing = [rule for rule in EXCLUDE_RULES if rule not in present]
    if not missing:
        return False
    if text and not text.endswith("\n"):
        text += "\n"
    atomic_write(path, text + "".join(f"{rule}\n" for rule in missing))
    return True


def _private_tracked_problem(root: Path) -> str | None:
    tracked = [path for path in _listed(root, "ls-files") if _is_private(path)]
    if not tracked:
        return None
    targets = sorted({LOCAL_DIR if path.split("/")[0] == LOCAL_DIR else path for path in tracked})
    command = "git rm --cached -r " + " ".join(shlex.quote(target) for target in targets)
    return t("git.private_tracked", paths=_shown(tracked), command=command)


def _shown(paths: list[str], limit: int = 5) -> str:
    return ", ".join(paths[:limit]) + (", …" if len(paths) > limit else "")


@dataclass(frozen=True)
class DriverOutcome:
    clean: bool
    messages: list[str]
    text: str = ""  # the merged file
    by_fields: bool = True  # False: git's line merge (a side is not a readable case)


def run_merge_driver(base: Path, ours: Path, theirs: Path, name: str) -> DriverOutcome:
    """What git's ``merge=kitamono`` runs: merge into ``ours``; not clean → git marks a conflict.

    git hands the three versions over as temporary files at the top of the work tree, and
    ``name`` is the case file's path there; kitamono remembers that it merged these three, so
    that ``sync`` can tell its own merge from a file that git left as this clone's version.
    """
    from kitamono.store import atomic_write

    texts = [path.read_text(encoding="utf-8") if path.is_file() else "" for path in (base, ours, theirs)]
    outcome = merge_versions(*texts, case_name=Path(name).stem if name else ours.name)
    atomic_write(ours, outcome.text)
    top = ours.absolute().parent
    if name and (top / name).exists():  # run by git for this work tree (not by hand on loose files)
        _remember_merge(top, texts)
    return outcome


def merge_versions(base: str, ours: str, theirs: str, case_name: str) -> DriverOutcome:
    """Three versions of a case file merged by kitamono's rules (``merge.py``).

    When a side is not a readable case (a broken hand edit), git's line merge instead, so that
    the conflict markers show both versions and ``check`` names the file.
    """
    from kitamono.merge import MergeError, merge_case_texts

    try:
        result = merge_case_texts(base, ours, theirs)
    except MergeError as error:
        text, clean = _line_merge(base, ours, theirs)
        return DriverOutcome(clean, [t("git.driver_unreadable", id=case_name, problem=error)], text, by_fields=False)
    messages = [
        t("git.driver_conflict", id=case_name, field=c.field, ours=c.ours, theirs=c.theirs) for c in result.conflicts
    ]
    return DriverOutcome(result.clean, messages, result.text)


def _line_merge(base: str, ours: str, theirs: str) -> tuple[str, bool]:
    """``git merge-file``: the merged text, with conflict markers where the sides differ."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="kitamono-merge-") as folder:
        paths = []
        for name, text in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(folder) / name
            path.write_text(text, encoding="utf-8", newline="\n")
            paths.append(str(path))
        merged = subprocess.run(
            ["git", "merge-file", "-p", "-L", t("git.label_ours"), "-L", t("git.label_base"),
             "-L", t("git.label_theirs"), *paths],
            capture_output=True, env=_environment(), check=False,
        )  # fmt: skip
    if not 0 <= merged.returncode <= 127:  # git could not merge at all: this clone's text, unmerged
        return ours, False
    return merged.stdout.decode("utf-8", errors="replace"), merged.returncode == 0


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


# --- what kitamono merged: remembered for the merge in progress ----------------------------------------

#: In the git folder (never in the work tree): one line per three versions kitamono merged.
MERGED_RECORD = "kitamono-merged"


def _merge_key(texts: list[str]) -> str:
    import hashlib

    return hashlib.sha256("\0".join(texts).encode("utf-8")).hexdigest()


def _remember_merge(root: Path, texts: list[str]) -> None:
    found = run_git(root, "rev-parse", "--absolute-git-dir")
    if found.returncode != 0:
        return
    try:
        with (Path(found.stdout.strip()) / MERGED_RECORD).open("a", encoding="utf-8") as handle:
            handle.write(_merge_key(texts) + "\n")
    except OSError:
        pass  # sync merges the file again from git's three versions: nothing is lost


def _remembered_merges(root: Path) -> set[str]:
    try:
        return set((_git_dir(root) / MERGED_RECORD).read_text(encoding="utf-8").split())
    except OSError:
        return set()


def _forget_merges(root: Path) -> None:
    (_git_dir(root) / MERGED_RECORD).unlink(missing_ok=True)


# --- committing -------------------------------------------------------------------------------------


def _case_id(path: str) -> str | None:
    match = _CASE_PATH.match(path)
    return match["id"] if match else None


def _trailer(institution: str | None) -> str:
    return f"\n\n{TRAILER}: {institution}\n" if institution else "\n"


def _command_words(argv: list[str]) -> list[str]:
    """``case follow-up hro-2026-0001`` out of a full command line (root options skipped)."""
    words: list[str] = []
    skip = False
    for item in argv:
        if skip:
            skip = False
            continue
        if item == "--repo":
            skip = True
            continue
        if item.startswith("-"):
            if words:
                break
            continue
        words.append(item)
    return words


def _masked(argv: list[str]) -> list[str]:
    shown: list[str] = []
    hide = False
    for item in argv:
        if hide:
            shown.append("…")
            hide = False
        elif item in _PRIVATE_OPTIONS:
            shown.append(item)
            hide = True
        elif item.split("=", 1)[0] in _PRIVATE_OPTIONS:
            shown.append(item.split("=", 1)[0] + "=…")
        else:
            shown.append(item)
    return shown


def auto_commit_message(argv: list[str], case_ids: list[str], institution: str | None) -> str:
    words = _command_words(argv)
    subject = t("git.auto_subject", command=" ".join(words) or "?", institution=institution or "?")
    unnamed = [case_id for case_id in case_ids if case_id not in words]
    if unnamed:
        subject += ": " + ", ".join(unnamed)
    line = " ".join(item if item.endswith("…") else shlex.quote(item) for item in _masked(argv))
    return f"{subject}\n\n$ kitamono {line}{_trailer(institution)}"


def auto_commit(repo, argv: list[str], case_ids: list[str]) -> list[str]:
    """One commit per writing command when ``kitamono.yaml`` says ``auto_commit: true``.

    Commits only the named cases' files (anything else staged stays staged, uncommitted).
    Returns warnings: the command itself has already succeeded when this runs.
    """
    if not repo.settings.auto_commit or not is_work_tree(repo.root):
        return []
    root = repo.root
    if merge_in_progress(root):
        return [t("git.auto_commit_merging")]
    problem = identity_problem(root)
    if problem:
        return [t("git.auto_commit_failed", reason=problem)]
    paths = []
    for case_id in case_ids:
        try:
            paths.append(str(repo.find_case_file(case_id).relative_to(root)))
        except (RepositoryError, ValueError):
            continue
    if not paths:
        return []
    added = run_git(root, "add", "--", *paths)
    if added.returncode != 0:
        return [t("git.auto_commit_failed", reason=_last_line(added))]
    if run_git(root, "diff", "--cached", "--quiet", "--", *paths).returncode == 0:
        return []  # nothing changed in those files
    message = auto_commit_message(argv, case_ids, repo.local.institution)
    result = run_git(root, "commit", "-q", "-F", "-", "--only", "--", *paths, input=message)
    if result.returncode != 0:
        return [t("git.auto_commit_failed", reason=_last_line(result))]
    return []


def _shared_paths(repo) -> list[str]:
    """Where sync looks for this clone's changes: the cases and the files every clone shares."""
    paths = [CASES_DIR, SETTINGS_FILE, ATTRIBUTES_FILE, ".gitignore"]
    data_dir = repo.data_dir  # inside the repository, outside .kitamono/ (checked as it is read)
    if data_dir is not None:
        paths.append(data_dir.relative_to(repo.root.resolve()).as_posix())
    return paths


def _changed_shared_files(repo) -> list[str]:
    """This clone's changed, new and deleted shared files, one by one.

    Never a file of this clone only (``.kitamono/``) nor a temporary file an interrupted write
    left, whatever the ignore rules say; never a file git has not merged yet.
    """
    root = repo.root
    prefix = run_git(root, "rev-parse", "--show-prefix").stdout.strip()
    listing = _git_ok(root, "--literal-pathspecs", "status", "--porcelain", "-z", "-uall", "--no-renames", "--",
                      *_shared_paths(repo))  # fmt: skip
    files = []
    for entry in listing.split("\0"):
        code, path = entry[:2], entry[3:].removeprefix(prefix)  # porcelain paths start at the top
        if path and "U" not in code and code not in ("AA", "DD") and not _is_private(path):
            files.append(path)
    return files


@dataclass(frozen=True)
class Change:
    """A case file that a commit (or a sync) added, changed or removed."""

    kind: Literal["added", "changed", "removed"]
    case_id: str
    path: str


_KINDS = {"A": "added", "M": "changed", "D": "removed", "T": "changed"}


def _changes(name_status: str) -> list[Change]:
    """Case files out of ``git diff --name-status --no-renames`` lines."""
    changes: list[Change] = []
    for line in name_status.splitlines():
        parts = line.split("\t")
        if len(parts) < 2:
            continue
        status, path = parts[0][:1], parts[-1]
        case_id = _case_id(path)
        if case_id is None:
            continue
        kind = _KINDS.get(status)
        if kind:
            changes.append(Change(kind, case_id, path))  # type: ignore[arg-type]
    return changes


def sync_commit_message(changes: list[Change], institution: str, merging: bool) -> str:
    ids = [c.case_id for c in changes]
    if merging:
        subject = t("git.merge_subject", institution=institution)
    elif ids:
        shown = ", ".join(ids[:3]) + (", …" if len(ids) > 3 else "")
        subject = t("git.sync_subject", institution=institution, n=len(ids), ids=shown)
    else:
        subject = t("git.sync_other_subject", institution=institution)
    body = [f"{t(f'git.kind_{c.kind}')}: {c.case_id}" for c in changes]
    return subject + ("\n\n" + "\n".join(body) if body else "") + _trailer(institution)


def _commit_local(repo, institution: str, merging: bool) -> list[Change]:
    """Stage and commit this clone's changes (and finish a merge in progress)."""
    root = repo.root
    files = _changed_shared_files(repo)
    if merging:  # files other than cases that git could not merge, repaired since (no markers left)
        files += [path for path in _unmerged(root) if _case_id(path) is None and not _is_private(path)]
    if files:
        _git_ok(root, "--literal-pathspecs", "add", "-A", "--pathspec-from-file=-", "--pathspec-file-nul",
                input="\0".join(files))  # fmt: skip
    staged = _git_ok(root, "diff", "--cached", "--name-status", "--no-renames", "--relative")
    if not staged.strip() and not merging:
        return []
    changes = _changes(staged)
    message = sync_commit_message(changes, institution, merging)
    result = run_git(root, "commit", "-q", "-F", "-", input=message)
    if result.returncode != 0:
        raise GitError(t("git.commit_failed", reason=_last_line(result)))
    return [] if merging else changes


# --- sync -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trouble:
    """A file that stops sync: a case with recorded conflicts, or a file that cannot be read."""

    path: str
    case_id: str | None
    kind: Literal["conflicts", "unreadable", "minted_twice", "unmerged"]
    conflicts: list = field(default_factory=list)  # models.Conflict
    problem: str | None = None


Outcome = Literal["done", "conflicted", "check_failed", "no_remote", "unreachable", "rejected", "refused"]


@dataclass
class SyncResult:
    institution: str
    outcome: Outcome = "done"
    committed: list[Change] = field(default_factory=list)
    arrived: list[Change] = field(default_factory=list)
    troubles: list[Trouble] = field(default_factory=list)
    problems: list = field(default_factory=list)  # checks.Problem that stopped the push
    warnings: list[str] = field(default_factory=list)
    remote: str | None = None
    pushed: bool = False
    reason: str | None = None  # git's own words when the remote failed


def case_troubles(repo, paths: list[Path] | None = None) -> list[Trouble]:
    """Case files that are unreadable (markers, broken YAML) or still hold recorded conflicts."""
    from kitamono.store import load_case_file

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
    for line in _git_ok(root, "ls-files", "-u").splitlines():
        meta, _, path = line.partition("\t")
        parts = meta.split()
        if len(parts) == 3:
            stages.setdefault(path, set()).add(int(parts[2]))
    return stages


_MARKERS = re.compile(r"^(<{7}|>{7}|={7})( |$)", re.MULTILINE)


def _other_troubles(repo, unmerged: dict[str, set[int]]) -> list[Trouble]:
    """Unmerged files outside ``cases/`` that still carry conflict markers (or are missing)."""
    troubles = []
    for path in sorted(unmerged):
        if _case_id(path) is not None:
            continue
        full = repo.root / path
        try:
            text = full.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            troubles.append(Trouble(path, None, "unmerged", problem=t("git.file_unmerged", path=path)))
            continue
        if _MARKERS.search(text):
            troubles.append(Trouble(path, None, "unmerged", problem=t("git.file_markers", path=path)))
    return troubles


def _resolve_deleted(repo, unmerged: dict[str, set[int]]) -> tuple[list[str], dict[str, set[int]]]:
    """A case deleted on one side and changed on the other is kept (the changed version)."""
    warnings: list[str] = []
    left: dict[str, set[int]] = {}
    for path, stages in unmerged.items():
        case_id = _case_id(path)
        one_sided = 2 not in stages or 3 not in stages
        if case_id is not None and one_sided and 1 in stages and (repo.root / path).is_file():
            _git_ok(repo.root, "--literal-pathspecs", "add", "--", path)
            warnings.append(t("git.kept_deleted", id=case_id))
        else:
            left[path] = stages
    return warnings, left


def _settle_unmerged(repo) -> tuple[list[str], list[Trouble]]:
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
    from kitamono.store import atomic_write

    root = repo.root
    warnings, left = _resolve_deleted(repo, _unmerged(root))
    troubles = _other_troubles(repo, left)
    both = sorted(path for path, stages in left.items() if _case_id(path) and {2, 3} <= stages)
    versions = _read_blobs(root, [f":{n}:./{path}" for path in both for n in (1, 2, 3)], keyed=False)
    remembered = _remembered_merges(root)
    settled = []
    for number, path in enumerate(both):
        texts = [text or "" for text in versions[3 * number: 3 * number + 3]]
        case_id, full = _case_id(path), root / path
        if _merge_key(texts) not in remembered:
            current = _read_text(full) if full.is_file() else None
            text = _finish_merge(texts, current, case_id)
            if text is None:
                troubles.append(Trouble(path, case_id, "unmerged", problem=t("git.file_unmerged", path=path)))
                continue
            if text != current:
                atomic_write(full, text)
            _remember_merge(root, texts)
        found = case_troubles(repo, [full])
        if found and 1 not in left[path]:
            # Added on both sides with different content: one id minted twice (two clones of one
            # institution), not one case changed twice. Field conflicts would only confuse.
            found = [Trouble(path, case_id, "minted_twice", problem=t("git.id_minted_twice", id=case_id))]
        troubles += found
        if not found:
            settled.append(path)
    for path in sorted(left):
        if _case_id(path) and path not in both:  # deleted on one side, and gone from the folder
            troubles.append(Trouble(path, _case_id(path), "unmerged", problem=t("git.file_unmerged", path=path)))
    if settled:
        _git_ok(root, "--literal-pathspecs", "add", "--", *settled)
    return warnings, troubles


def _finish_merge(texts: list[str], current: str | None, case_id: str) -> str | None:
    """The text of a case file that git left unmerged, merged by kitamono's rules.

    ``current`` is the file as it is now: this clone's version as git left it, git's line
    merge, or either with a change made since (an event recorded while the merge waited, a
    person's repair). A change made since is merged in too; None when that cannot be done.
    """
    from kitamono.merge import MergeError, merge_cases, parse_case

    ours = texts[1]
    merged = merge_versions(*texts, case_name=case_id)
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
    remotes = _git_ok(root, "remote").split()
    if not remotes:
        return None
    chosen = "origin" if "origin" in remotes else remotes[0]
    return chosen, branch, False


def sync(repo, check: Callable[[Any], list]) -> SyncResult:
    """Commit, fetch and merge, check, push. Stops (outcome ≠ done) at the first step that fails.

    ``check(repo)`` returns the problems of a repository (``checks.check_repository``); any
    error among them stops the push. The local commit is kept whatever happens later. The
    repository's write lock is held while case files are merged and committed, not while
    the network is used.
    """
    from kitamono.store import open_repository, write_lock

    root = repo.root
    institution = _ready_to_sync(repo)
    result = SyncResult(institution)

    # 1. Commit this clone's work; nothing unreadable, conflicted or unmerged goes into a commit.
    with write_lock(repo):
        merging = merge_in_progress(root)
        troubles: list[Trouble] = []
        if merging:  # a merge that stopped earlier: its case files are merged by kitamono first
            warnings, troubles = _settle_unmerged(repo)
            result.warnings += warnings
        named = {trouble.path for trouble in troubles}
        troubles += [trouble for trouble in case_troubles(repo) if trouble.path not in named]
        if troubles:
            result.outcome, result.troubles = "conflicted", troubles
            return result
        before_merge = _head(root) if merging else None
        result.committed = _commit_local(repo, institution, merging)
        if merging:
            _forget_merges(root)

    # 2. Fetch and merge what the other clones pushed.
    target = _remote(root)
    if target is None:
        result.outcome = "no_remote"
        return result
    remote, branch, tracking = target
    result.remote = remote
    fetched = run_git(root, "fetch", "-q", remote)
    if fetched.returncode != 0:
        result.outcome, result.reason = "unreachable", _last_line(fetched)
        return result
    remote_ref = f"refs/remotes/{remote}/{branch}"
    _refuse_private_files(root, remote, remote_ref)
    with write_lock(repo):
        before = before_merge or _head(root)
        if not _merge_remote(repo, remote_ref, institution, result):
            return result
        after = _head(root)
        result.arrived = _arrivals(root, before, after)

    # 3. Check what we now hold; push only a repository that passes.
    found = check(open_repository(root))
    result.problems = [p for p in found if p.level == "error"]
    result.warnings += [p.line() for p in found if p.level == "warning"]
    if result.problems:
        result.outcome = "check_failed"
        return result
    if after is not None:
        _push(root, remote, branch, tracking, result)
    return result


def _ready_to_sync(repo) -> str:
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
    for problem in (_driver_problem(root), _attribute_problem(root), _private_tracked_problem(root)):
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
        listed = _listed(root, "diff", "--name-only", "--no-renames", "--relative", base, remote_ref, "--", LOCAL_DIR)
    else:
        listed = _listed(root, "ls-tree", "-r", "--name-only", remote_ref)
    held = [path for path in listed if LOCAL_DIR in path.split("/")]
    if held:
        raise GitError(t("git.remote_private", remote=remote, paths=_shown(held)))


def _merge_remote(repo, remote_ref: str, institution: str, result: SyncResult) -> bool:
    """Merge the remote branch (when it exists); False, with the troubles, when it stops."""
    root = repo.root
    if run_git(root, "rev-parse", "--verify", "-q", remote_ref).returncode != 0:
        return True  # an empty remote: nothing to merge yet
    _forget_merges(root)
    message = t("git.merge_subject", institution=institution) + _trailer(institution)
    merged = run_git(root, "merge", "--no-edit", "-m", message, remote_ref)
    if merged.returncode != 0:
        if not merge_in_progress(root):
            raise GitError(t("git.merge_failed", reason=_last_line(merged)))
        warnings, troubles = _settle_unmerged(repo)
        result.warnings += warnings
        named = {trouble.path for trouble in troubles}
        troubles += [Trouble(path, None, "unmerged", problem=t("git.file_unmerged", path=path))
                     for path in sorted(_unmerged(root)) if path not in named]  # fmt: skip
        if troubles:
            result.outcome, result.troubles = "conflicted", troubles
            return False
        concluded = run_git(root, "commit", "-q", "--no-edit")
        if concluded.returncode != 0:
            raise GitError(t("git.commit_failed", reason=_last_line(concluded)))
    _forget_merges(root)
    return True


def _arrivals(root: Path, before: str | None, after: str | None) -> list[Change]:
    """The case files the merge brought in (between this clone's head before and after)."""
    if after is None or before == after:
        return []
    if before is None:
        listing = _git_ok(root, "diff-tree", "-r", "--no-commit-id", "--name-status", "--root", "--relative",
                          after, "--", CASES_DIR)  # fmt: skip
    else:
        listing = _git_ok(root, "diff", "--name-status", "--no-renames", "--relative", before, after, "--", CASES_DIR)
    return _changes(listing)


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
        result.outcome, result.reason = "unreachable", _last_line(pushed)
        return
    if any(words in refused[0] for words in _MOVED_ON):
        result.outcome, result.reason = "rejected", refused[0]
        return
    said = [line.removeprefix("remote:").strip() for line in pushed.stderr.splitlines() if line.startswith("remote:")]
    result.outcome, result.reason = "refused", "; ".join([refused[0], *(line for line in said if line)])


# --- the log ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LogEntry:
    """One thing a commit did to one case, in words the log can show."""

    commit: str
    when: datetime
    author: str
    institution: str | None
    case_id: str
    change: Literal[
        "created", "event", "event_removed", "field", "chosen", "conflict", "resolved", "removed", "merged",
        "unreadable",
    ]
    event: Any = None  # models.Event for event and event_removed, models.Conflict for conflict/resolved
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


def history(repo, case_id: str | None = None) -> History:
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
    pending = [c.case_id for c in _changes(_porcelain_changes(root, target))]
    if _head(root) is None:
        return History([], pending)
    commits = _read_log(root, target)
    wanted = {sha for c in commits for _, parents, result in c.files for sha in (*parents, result)}
    blobs = _read_blobs(root, sorted(s for s in wanted if set(s) != {"0"}))
    bases = _merge_bases(root, commits)
    entries: list[LogEntry] = []
    for commit in commits:
        for path, parents, result in commit.files:
            common = dict(commit=commit.sha, when=commit.when, author=commit.author,
                          institution=commit.institution, case_id=_case_id(path) or path)  # fmt: skip
            texts = [blobs.get(p) for p in parents]
            if len(parents) > 1:
                entries += _describe_merge(common, bases.get((commit.sha, path)), texts, blobs.get(result))
            else:
                entries += _describe(common, texts[0] if texts else None, blobs.get(result))
    return History(entries, pending)


def _read_log(root: Path, target: str) -> list[_Commit]:
    """``git log --raw`` of ``target``, oldest first; a merge lists the files it changed itself."""
    fields = ["%H", "%P", "%aI", "%an", f"%(trailers:key={TRAILER},valueonly,separator=%x2C)"]
    out = _git_ok(root, "log", "--reverse", "--full-history", "-c", "--raw", "--relative", "--no-abbrev",
                  "--no-renames", f"--format={_RECORD}{_UNIT.join(fields)}", "--", target)  # fmt: skip
    commits: list[_Commit] = []
    for record in out.split(_RECORD)[1:]:
        head, _, rest = record.partition("\n")
        sha, parents, when, author, trailer = (head.split(_UNIT) + [""] * 5)[:5]
        files = []
        for line in rest.splitlines():
            meta, _, path = line.partition("\t")
            if not meta.startswith(":") or _case_id(path) is None:
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
    return dict(zip(names, _read_blobs(root, list(names.values()), keyed=False), strict=True))


def _porcelain_changes(root: Path, target: str) -> str:
    """``git status`` of ``target`` as name-status lines (what is not yet committed)."""
    lines = []
    prefix = run_git(root, "rev-parse", "--show-prefix").stdout.strip()
    for line in run_git(root, "status", "--porcelain", "-uall", "--", target).stdout.splitlines():
        code, path = line[:2], line[3:].removeprefix(prefix)
        status = "A" if "?" in code or "A" in code else ("D" if "D" in code else "M")
        lines.append(f"{status}\t{path}")
    return "\n".join(lines)


def _read_blobs(root: Path, names: list[str], keyed: bool = True):
    """The texts of git objects (``sha`` or ``rev:path``) in one ``cat-file`` run.

    Keyed by name, or (``keyed=False``) a list in the order asked with None for missing ones.
    """
    texts: list[str | None] = []
    if names:
        try:
            process = subprocess.run(
                ["git", "-C", str(root), "cat-file", "--batch"], input="\n".join(names).encode() + b"\n",
                capture_output=True, env=_environment(), check=False,
            )  # fmt: skip
        except FileNotFoundError:
            raise GitError(t("git.not_installed")) from None
        data, position = process.stdout, 0
        for _name in names:
            end = data.find(b"\n", position)
            if end < 0:
                texts.append(None)
                continue
            header = data[position:end].split()
            position = end + 1
            if len(header) < 3 or header[-1] == b"missing" or header[1] != b"blob":
                texts.append(None)
                if len(header) == 3 and header[1] != b"missing":
                    position += int(header[2]) + 1
                continue
            size = int(header[2])
            texts.append(data[position: position + size].decode("utf-8", errors="replace"))
            position += size + 1
    if not keyed:
        return texts
    return {name: text for name, text in zip(names, texts, strict=True) if text is not None}


def _case_or_none(text: str | None):
    from kitamono.merge import MergeError, parse_case

    if text is None:
        return None
    try:
        return parse_case(text, "blob")
    except MergeError:
        return _UNREADABLE


_UNREADABLE = object()
_ABSENT = object()


def _event_counts(case) -> Counter:
    from kitamono.merge import _event_key

    return Counter(_event_key(event) for event in case.events)


def _added_events(old, new) -> list:
    """The events of ``new`` beyond those ``old`` had (as multisets, in ``new``'s order)."""
    from kitamono.merge import _event_key

    budget = _event_counts(old) if old is not None else Counter()
    added = []
    for event in new.events:
        key = _event_key(event)
        if budget[key] > 0:
            budget[key] -= 1
        else:
            added.append(event)
    return added


def _describe(common: dict, old_text: str | None, new_text: str | None) -> list[LogEntry]:
    """What one ordinary commit did to one case file."""
    from kitamono.merge import _conflict_key, header_leaves

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
    entries = [LogEntry(**common, change="event", event=e, title=title) for e in _added_events(old, new)]
    entries += [LogEntry(**common, change="event_removed", event=e, title=title) for e in _added_events(new, old)]
    before, after = header_leaves(old), header_leaves(new)
    for key, value in after.items():
        if before.get(key) != value:
            entries.append(LogEntry(**common, change="field", field=key, old=before.get(key), new=value, title=title))
    old_conflicts = {_conflict_key(c) for c in old.conflicts}
    new_conflicts = {_conflict_key(c) for c in new.conflicts}
    entries += [LogEntry(**common, change="conflict", event=c, title=title)
                for c in new.conflicts if _conflict_key(c) not in old_conflicts]  # fmt: skip
    entries += [LogEntry(**common, change="resolved", event=c, title=title)
                for c in old.conflicts if _conflict_key(c) not in new_conflicts]  # fmt: skip
    return entries


def _describe_merge(common: dict, base_text: str | None, parent_texts: list, new_text: str | None) -> list[LogEntry]:
    """What a merge did to a case both sides had changed: joined them, and what a person chose."""
    from kitamono.merge import header_leaves, merge_sequences, _event_key

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
    joined = merge_sequences(base.events if base else [], ours.events, theirs.events, _event_key)
    expected = new.model_copy(update={"events": joined})
    entries += [LogEntry(**common, change="event", event=e, title=title) for e in _added_events(expected, new)]
    entries += [LogEntry(**common, change="event_removed", event=e, title=title) for e in _added_events(new, expected)]
    old = header_leaves(base) if base else {}
    mine, other = header_leaves(ours), header_leaves(theirs)
    for key, value in header_leaves(new).items():
        if value not in (mine.get(key), other.get(key)):
            entries.append(LogEntry(**common, change="field", field=key, old=mine.get(key), new=value, title=title))
        elif mine.get(key) != other.get(key) and old.get(key, _ABSENT) not in (mine.get(key), other.get(key)):
            entries.append(LogEntry(**common, change="chosen", field=key, old=(mine.get(key), other.get(key)),
                                    new=value, title=title))  # fmt: skip
    return entries



# --- reports -------------------------------------------------------------------------------------------

_FIELD_LABELS = {
    "id": "col.id", "received_on": "col.received_on", "received_by": "col.received_by",
    "channel": "col.channel", "company.name": "col.company", "company.municipality": "col.municipality",
    "company.bank": "col.bank", "contact.person": "col.contact_person", "contact.phone": "col.contact_phone",
    "contact.email": "col.contact_email", "title": "col.title", "summary": "col.summary",
    "field": "col.field_name", "needs": "col.needs", "approved_project": "col.approved_project",
    "demo": "col.demo",
}  # fmt: skip


def field_label(key: str) -> str:
    return t(_FIELD_LABELS[key]) if key in _FIELD_LABELS else key


def _private(key: str | None) -> bool:
    return bool(key) and key.startswith("contact.")


def _value_text(value: Any) -> str:
    from kitamono.merge import describe_value

    text = describe_value(value)
    return t("log.empty") if text in (None, "") else text


def _institution_name(ref, ident: str | None) -> str:
    if not ident:
        return ""
    found = ref.institutions.get(ident) if ref is not None else None
    return found.short_name if found else ident


def describe_entry(entry: LogEntry, ref) -> str:
    """What a log entry did, in one sentence for people."""
    change, event = entry.change, entry.event
    if change == "created":
        by = _institution_name(ref, event.by if event else None)
        return t("log.created", title=entry.title, by=by)
    if change in ("event", "event_removed"):
        key = "log.event" if change == "event" else "log.event_removed"
        by = _institution_name(ref, event.by)
        text = t(key, event=label("event", event.type), date=event.date.isoformat(), by=by)
        return text + (f": {event.note}" if event.note else "")
    if change == "field":
        if entry.field == "*":
            return t("log.repaired")
        if _private(entry.field):
            return t("log.field_private", field=field_label(entry.field))
        return t("log.field", field=field_label(entry.field), old=_value_text(entry.old), new=_value_text(entry.new))
    if change == "chosen":
        if _private(entry.field):
            return t("log.chosen_private", field=field_label(entry.field))
        ours, theirs = entry.old
        return t("log.chosen", field=field_label(entry.field), ours=_value_text(ours), theirs=_value_text(theirs),
                 value=_value_text(entry.new))  # fmt: skip
    if change in ("conflict", "resolved"):
        name = field_label(event.field)
        if change == "resolved":
            return t("log.resolved", field=name)
        if _private(event.field):
            return t("log.conflict_private", field=name)
        return t("log.conflict", field=name, ours=event.ours or t("log.empty"), theirs=event.theirs or t("log.empty"))
    return t(f"log.{change}")


def _entry_institution(entry: LogEntry) -> str | None:
    if entry.institution:
        return entry.institution
    if entry.change in ("created", "event", "event_removed") and entry.event is not None:
        return entry.event.by
    return None


def log_report(found: History, ref, case_id: str | None):
    """The case log as a Report: one row per thing a commit did to a case."""
    from kitamono.render import Column, Report, Table

    columns = [
        Column("when", t("log.col_when")), Column("author", t("log.col_author")),
        Column("institution", t("log.col_institution")), Column("case", t("col.id")),
        Column("what", t("log.col_what")),
    ]  # fmt: skip
    rows, data = [], []
    for entry in found.entries:
        what = describe_entry(entry, ref)
        institution = _entry_institution(entry)
        rows.append([entry.when.strftime("%Y-%m-%d %H:%M"), entry.author, _institution_name(ref, institution),
                     entry.case_id, what])  # fmt: skip
        item: dict[str, Any] = {
            "commit": entry.commit, "date": entry.when.isoformat(), "author": entry.author,
            "institution": institution, "case": entry.case_id, "change": entry.change, "description": what,
        }  # fmt: skip
        if entry.change in ("created", "event", "event_removed") and entry.event is not None:
            item["event"] = entry.event.model_dump(mode="json", exclude_defaults=True)
        if entry.change in ("field", "chosen") and entry.field != "*":
            from kitamono.merge import describe_value

            item["field"] = entry.field
            if not _private(entry.field):
                if entry.change == "chosen":
                    item["ours"], item["theirs"] = (describe_value(v) for v in entry.old)
                else:
                    item["old"] = describe_value(entry.old)
                item["new"] = describe_value(entry.new)
        if entry.change in ("conflict", "resolved"):
            item["field"] = entry.event.field
        data.append(item)
    title = t("log.title_of", id=case_id) if case_id else t("log.title")
    note = t("log.count", n=len(rows))
    return Report(title, [Table(title, columns, rows, note=note)], data)


def sync_report(result: SyncResult, cases: dict[str, Any]):
    """The cases that arrived or changed in this sync (``cases``: id → Case as now stored)."""
    from kitamono.render import Column, Report, Table

    columns = [Column("change", t("sync.col_change")), Column("id", t("col.id")),
               Column("company", t("col.company")), Column("title", t("col.title"))]  # fmt: skip
    rows, data = [], []
    for change in result.arrived:
        case = cases.get(change.case_id)
        company = case.company.name if case is not None else None
        title = case.title if case is not None else None
        rows.append([t(f"sync.kind_{change.kind}"), change.case_id, company, title])
        data.append({"change": change.kind, "id": change.case_id, "company": company, "title": title})
    heading = t("sync.title")
    return Report(heading, [Table(heading, columns, rows, note=t("log.count", n=len(rows)))], data)
