"""Running git: the one way kitamono calls it, and what it asks of any clone.

Every call is ``git -C root …`` with its output captured, git's own messages in English (so that
they can be recognised) and none of the variables a git hook exports (they would point the call
at another repository)::

    run_git(root, "status", "--porcelain")      the CompletedProcess, whatever the exit code
    git_ok(root, "rev-parse", "HEAD")           stdout, or GitError with git's own last words
    read_blobs(root, ["HEAD:cases/…"])          many files' texts in one ``cat-file`` run

This module knows nothing of cases, settings or merges: it sits below the store, which asks it
whether git tracks a file, and imports only the errors and the message catalogue.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from kitamono.errors import RepositoryError
from kitamono.i18n import t

#: Variables a git hook exports that would point our git calls at another repository.
_REPOSITORY_VARIABLES = (
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_PREFIX", "GIT_NAMESPACE",
)  # fmt: skip
#: What git adds after its reason when a remote cannot be read: advice, not the reason.
_GIT_BOILERPLATE = (
    "fatal: Could not read from remote repository.", "Please make sure you have the correct access rights",
    "and the repository exists.",
)  # fmt: skip


class GitError(RepositoryError):
    """git is missing, or a git step failed in a way the user has to act on."""


def git_environment() -> dict[str, str]:
    """The environment every git process runs in (``run_git`` and the few that need bytes)."""
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
            input=input, env=git_environment(), check=False,
        )  # fmt: skip
    except FileNotFoundError:
        raise GitError(t("git.not_installed")) from None


def git_ok(root: Path, *args: str, input: str | None = None) -> str:
    """Run git and return its stdout, or raise GitError with git's own last words."""
    result = run_git(root, *args, input=input)
    if result.returncode != 0:
        raise GitError(t("git.failed", command="git " + " ".join(args[:2]), reason=last_line(result)))
    return result.stdout


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    """git's own reason for a failure, in one line: its last words but hints and boilerplate."""
    lines = [line.strip() for line in (result.stderr + "\n" + result.stdout).splitlines() if line.strip()]
    said = [line for line in lines if not line.startswith("hint:") and line not in _GIT_BOILERPLATE]
    line = (said or lines or ["?"])[-1]
    for prefix in ("fatal: ", "error: "):
        line = line.removeprefix(prefix)
    return line


def listed(root: Path, *args: str) -> list[str]:
    """The paths a git listing command prints with ``-z`` (relative to ``root``)."""
    return [path for path in git_ok(root, *args[:1], "-z", *args[1:]).split("\0") if path]


def is_work_tree(root: Path) -> bool:
    if not git_available():
        return False
    result = run_git(root, "rev-parse", "--is-inside-work-tree")
    return result.returncode == 0 and result.stdout.strip() == "true"


def git_dir(root: Path) -> Path:
    return Path(git_ok(root, "rev-parse", "--absolute-git-dir").strip())


def merge_in_progress(root: Path) -> bool:
    return (git_dir(root) / "MERGE_HEAD").exists()


def head(root: Path) -> str | None:
    """The commit HEAD names, or None in a repository without commits."""
    result = run_git(root, "rev-parse", "--verify", "-q", "HEAD")
    return result.stdout.strip() or None if result.returncode == 0 else None


def identity_problem(root: Path) -> str | None:
    """Why git could not sign a commit here (no user.name / user.email), or None."""
    for variable in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
        result = run_git(root, "var", variable)
        if result.returncode != 0:
            return t("git.no_identity")
    return None


def read_blobs(root: Path, names: list[str]) -> list[str | None]:
    """The texts of git objects (``sha`` or ``rev:path``) in one ``cat-file`` run, in the order
    asked, None for one that is missing or not a file."""
    texts: list[str | None] = []
    if names:
        try:
            process = subprocess.run(
                ["git", "-C", str(root), "cat-file", "--batch"], input="\n".join(names).encode() + b"\n",
                capture_output=True, env=git_environment(), check=False,
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
    return texts
