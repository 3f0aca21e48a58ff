"""The case merge driver: set up in a clone, checked, and run when git merges a case file.

Case files merge through kitamono's rules (``merge.py``); ``init`` registers the driver in the
clone's ``.git/config`` and ``.gitattributes`` routes case files to it::

    # .gitattributes (committed, shared by every clone)
    cases/**/*.yaml merge=kitamono
    # .git/config (this clone only)
    [merge "kitamono"]
        driver = '/path/to/python' -m kitamono merge-driver %O %A %B %P

A clone is fit to share cases when the driver is registered and can run, when every case file
would be merged by it (its effective ``merge`` attribute), and when git tracks none of this
clone's own files (``.kitamono/``, also kept in ``.git/info/exclude``). ``driver_problems``
says what is wrong, for ``check``; ``sync`` refuses to start until it is right.

The driver remembers (in the git folder) each three versions it merged, so that ``sync`` can
tell its own merge from a file that git left as this clone's version alone.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kitamono.checks import Problem
from kitamono.gitsync.clone import EXCLUDE_RULES, case_id_of, is_private, shown
from kitamono.gitsync.git import git_dir, git_environment, git_ok, is_work_tree, listed, run_git
from kitamono.i18n import t
from kitamono.merge import MergeError, merge_case_texts
from kitamono.store import CASES_DIR, LOCAL_DIR, Repository, atomic_write

DRIVER = "kitamono"
ATTRIBUTES_FILE = ".gitattributes"
ATTRIBUTES_RULE = f"{CASES_DIR}/**/*.yaml merge={DRIVER}"
#: In the git folder (never in the work tree): one line per three versions kitamono merged.
MERGED_RECORD = "kitamono-merged"


# --- setting up a clone ---------------------------------------------------------------------------


def driver_command() -> str:
    """The command git runs for a case file, with this Python (git's PATH may not find kitamono)."""
    return f"{shlex.quote(sys.executable)} -m kitamono merge-driver %O %A %B %P"


def register_driver(root: Path) -> bool:
    """Register the case merge driver in this clone's git config; False when there is no git."""
    if not is_work_tree(root):
        return False
    git_ok(root, "config", f"merge.{DRIVER}.name", t("git.driver_name"))
    git_ok(root, "config", f"merge.{DRIVER}.driver", driver_command())
    return True


def ensure_attributes(root: Path) -> bool:
    """Route case files to the driver in ``.gitattributes``; True when the file was changed."""
    path = root / ATTRIBUTES_FILE
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if ATTRIBUTES_RULE in (line.strip() for line in text.splitlines()):
        return False
    if text and not text.endswith("\n"):
        text += "\n"
    atomic_write(path, text + ATTRIBUTES_RULE + "\n")
    return True


def ensure_excludes(root: Path) -> bool:
    """Add the missing EXCLUDE_RULES to this clone's ``.git/info/exclude``; True when changed.

    The tracked ``.gitignore`` says the same, but any clone can change that file for everyone.
    """
    path = root / git_ok(root, "rev-parse", "--git-path", "info/exclude").strip()
    text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    present = {line.strip() for line in text.splitlines()}
    missing = [rule for rule in EXCLUDE_RULES if rule not in present]
    if not missing:
        return False
    if text and not text.endswith("\n"):
        text += "\n"
    atomic_write(path, text + "".join(f"{rule}\n" for rule in missing))
    return True


# --- what stops a clone from sharing cases safely -------------------------------------------------


def driver_problems(repo: Repository) -> list[Problem]:
    """Warnings for ``check`` (and what stops ``sync``): this clone cannot share cases safely.

    The driver is not registered or its program cannot run; some case file would be merged by
    something other than the driver (the effective ``merge`` attribute of every case file, from
    ``.gitattributes``, ``.git/info/attributes`` or the user's git settings); git tracks files
    that belong to this clone only.
    """
    root = repo.root
    if not is_work_tree(root):
        return []
    problems = []
    driver = driver_problem(root)
    if driver:
        problems.append(Problem("", driver, level="warning"))
    attributes = attribute_problem(root)
    if attributes:
        problems.append(Problem(ATTRIBUTES_FILE, attributes, level="warning"))
    private = private_tracked_problem(root)
    if private:
        problems.append(Problem("", private, level="warning"))
    return problems


def driver_problem(root: Path) -> str | None:
    """Why git could not run the driver in this clone (not registered, program gone), or None."""
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


def attribute_problem(root: Path) -> str | None:
    """Which case files git would merge without kitamono's driver (all of them are asked)."""
    probe = f"{CASES_DIR}/2000/x-2000-0001.yaml"  # stands for the case files still to come
    found = listed(root, "ls-files", "--cached", "--others", "--exclude-standard", "--", CASES_DIR)
    paths = sorted({path for path in found if case_id_of(path) and not is_private(path)})
    out = git_ok(root, "check-attr", "-z", "--stdin", "merge", input="".join(f"{p}\0" for p in [probe, *paths]))
    fields = out.split("\0")
    merge = {fields[i]: fields[i + 2] for i in range(0, len(fields) - 2, 3)}
    if merge.get(probe) != DRIVER and not _has_attributes_rule(root):
        return t("git.attributes_missing", rule=ATTRIBUTES_RULE)
    others = [path for path in paths if merge.get(path) != DRIVER]
    if not others and merge.get(probe) != DRIVER:
        others = [f"{CASES_DIR}/**/*.yaml"]
    if not others:
        return None
    return t("git.attributes_other", n=len(others), paths=shown(others), rule=ATTRIBUTES_RULE)


def _has_attributes_rule(root: Path) -> bool:
    path = root / ATTRIBUTES_FILE
    text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    return ATTRIBUTES_RULE in (line.strip() for line in text.splitlines())


def private_tracked_problem(root: Path) -> str | None:
    """The files of this clone only that git tracks (and the command that stops it), or None."""
    tracked = [path for path in listed(root, "ls-files") if is_private(path)]
    if not tracked:
        return None
    targets = sorted({LOCAL_DIR if path.split("/")[0] == LOCAL_DIR else path for path in tracked})
    command = "git rm --cached -r " + " ".join(shlex.quote(target) for target in targets)
    return t("git.private_tracked", paths=shown(tracked), command=command)


# --- running the driver ---------------------------------------------------------------------------


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
    texts = [path.read_text(encoding="utf-8") if path.is_file() else "" for path in (base, ours, theirs)]
    outcome = merge_versions(texts, case_name=Path(name).stem if name else ours.name)
    atomic_write(ours, outcome.text)
    top = ours.absolute().parent
    if name and (top / name).exists():  # run by git for this work tree (not by hand on loose files)
        remember_merge(top, texts)
    return outcome


def merge_versions(texts: list[str], case_name: str) -> DriverOutcome:
    """Three versions of a case file (base, ours, theirs) merged by kitamono's rules (``merge.py``).

    When a side is not a readable case (a broken hand edit), git's line merge instead, so that
    the conflict markers show both versions and ``check`` names the file.
    """
    base, ours, theirs = texts
    try:
        result = merge_case_texts(base, ours, theirs)
    except MergeError as error:
        text, clean = _line_merge(base, ours, theirs)
        return DriverOutcome(clean, [t("git.driver_unreadable", id=case_name, problem=error)], text, by_fields=False)
    messages = [
        t("git.driver_conflict", id=case_name, field=c.field, ours=c.ours, theirs=c.theirs) if c.kind == "field"
        else t("git.driver_conflict_events", id=case_name, what=t(f"conflicts.what_{c.kind}"))
        for c in result.conflicts
    ]  # fmt: skip
    return DriverOutcome(result.clean, messages, result.text)


def _line_merge(base: str, ours: str, theirs: str) -> tuple[str, bool]:
    """``git merge-file``: the merged text, with conflict markers where the sides differ."""
    with tempfile.TemporaryDirectory(prefix="kitamono-merge-") as folder:
        paths = []
        for name, text in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(folder) / name
            path.write_text(text, encoding="utf-8", newline="\n")
            paths.append(str(path))
        merged = subprocess.run(
            ["git", "merge-file", "-p", "-L", t("git.label_ours"), "-L", t("git.label_base"),
             "-L", t("git.label_theirs"), *paths],
            capture_output=True, env=git_environment(), check=False,
        )  # fmt: skip
    if not 0 <= merged.returncode <= 127:  # git could not merge at all: this clone's text, unmerged
        return ours, False
    return merged.stdout.decode("utf-8", errors="replace"), merged.returncode == 0


# --- what kitamono merged: remembered for the merge in progress -----------------------------------


def merge_key(texts: list[str]) -> str:
    """What names three versions of a file in the record of the merges kitamono made."""
    return hashlib.sha256("\0".join(texts).encode("utf-8")).hexdigest()


def remember_merge(root: Path, texts: list[str]) -> None:
    found = run_git(root, "rev-parse", "--absolute-git-dir")
    if found.returncode != 0:
        return
    try:
        with (Path(found.stdout.strip()) / MERGED_RECORD).open("a", encoding="utf-8") as handle:
            handle.write(merge_key(texts) + "\n")
    except OSError:
        pass  # sync merges the file again from git's three versions: nothing is lost


def remembered_merges(root: Path) -> set[str]:
    try:
        return set((git_dir(root) / MERGED_RECORD).read_text(encoding="utf-8").split())
    except OSError:
        return set()


def forget_merges(root: Path) -> None:
    (git_dir(root) / MERGED_RECORD).unlink(missing_ok=True)
