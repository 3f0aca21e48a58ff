"""``auto_commit: true`` in ``kitamono.yaml``: one commit per writing command.

The commit holds only the files of the cases the command wrote (anything else the user staged
stays staged, uncommitted); its subject is the command, its body the command line with personal
data masked, its last line the trailer that names the institution::

    kitamono case follow-up hro-2026-0001 (hro)

    $ kitamono case follow-up hro-2026-0001 --date 2026-11-10 --contact-phone …

    Kitamono-Institution: hro

The command has succeeded when this runs: what stops the commit comes back as warnings.
"""

from __future__ import annotations

import shlex

from kitamono.errors import RepositoryError
from kitamono.gitsync.clone import trailer
from kitamono.gitsync.git import identity_problem, is_work_tree, last_line, merge_in_progress, run_git
from kitamono.i18n import t
from kitamono.store import Repository

#: Options whose values are personal data: kept out of commit messages.
_PRIVATE_OPTIONS = ("--contact-name", "--contact-phone", "--contact-email")


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
    """The command line with the values of personal options replaced by ``…``."""
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
    """The command as subject, the command line (personal values masked) as body, the trailer."""
    words = _command_words(argv)
    subject = t("git.auto_subject", command=" ".join(words) or "?", institution=institution or "?")
    unnamed = [case_id for case_id in case_ids if case_id not in words]
    if unnamed:
        subject += ": " + ", ".join(unnamed)
    line = " ".join(item if item.endswith("…") else shlex.quote(item) for item in _masked(argv))
    return f"{subject}\n\n$ kitamono {line}{trailer(institution)}"


def auto_commit(repo: Repository, argv: list[str], case_ids: list[str]) -> list[str]:
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
        return [t("git.auto_commit_failed", reason=last_line(added))]
    if run_git(root, "diff", "--cached", "--quiet", "--", *paths).returncode == 0:
        return []  # nothing changed in those files
    message = auto_commit_message(argv, case_ids, repo.local.institution)
    result = run_git(root, "commit", "-q", "-F", "-", "--only", "--", *paths, input=message)
    if result.returncode != 0:
        return [t("git.auto_commit_failed", reason=last_line(result))]
    return []
