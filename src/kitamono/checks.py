"""``kitamono check``: plain functions that return the problems they find, never print.

Each check takes what it needs and returns ``list[Problem]``; ``check_repository`` runs them
all, over cases the command has loaded (``casework.load_checked``). A problem is one
``path: message`` line; warnings are shown but do not fail the check.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from kitamono.cases import event_problems
from kitamono.errors import DataError
from kitamono.i18n import t
from kitamono.models import CaseLike
from kitamono.reference import Reference

if TYPE_CHECKING:
    from kitamono.store import Repository


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    level: Literal["error", "warning"] = "error"

    def line(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def check_case(case: CaseLike, path: str, ref: Reference, today: date) -> list[Problem]:
    """The references and the event rules of one case."""
    problems: list[Problem] = []

    def add(key: str, **values: object) -> None:
        problems.append(Problem(path, t(key, **values)))

    if Path(path).stem != case.id:
        add("check.name_mismatch", id=case.id)
    if case.received_by not in ref.institutions:
        add("check.unknown_institution", where="received_by", value=case.received_by)
    if case.company.bank and case.company.bank not in ref.institutions:
        add("check.unknown_institution", where="company.bank", value=case.company.bank)
    if case.company.municipality not in ref.municipalities:
        add("check.unknown_municipality", value=case.company.municipality)
    if case.received_on > today:
        add("check.future_received", date=case.received_on)
    for conflict in case.conflicts:
        add("check.conflict", field=conflict.field, ours=conflict.ours, theirs=conflict.theirs)
    for _, message in event_problems(case, ref, today):
        problems.append(Problem(path, message))
    return problems


def check_unique_ids(seen: dict[str, list[str]]) -> list[Problem]:
    return [
        Problem(paths[1], t("check.duplicate_id", id=case_id, other=paths[0]))
        for case_id, paths in sorted(seen.items())
        if len(paths) > 1
    ]


class LoadedCases(Protocol):
    """What ``check_repository`` reads of the loaded cases (an ``index.Loaded``)."""

    @property
    def cases(self) -> Sequence[CaseLike]: ...

    paths: list[str]  # each readable case's file, relative to the repository
    problems: list[str]  # a line for each file that could not be read
    leftovers: list[str]  # the temporary files of interrupted writes


def check_repository(
    repo: Repository,
    today: date,
    load_reference: Callable[[], Reference],
    extra_checks: tuple[Callable[[Repository], list[Problem]], ...] = (),
    *,
    loaded: LoadedCases,
) -> list[Problem]:
    """Every case file and the repository's own data; unreadable files are problems too.

    ``loaded`` is what ``casework.load_checked`` returned: ``kitamono check`` parses every file
    again (it is what people run to be sure), ``sync`` reads them through the index before a push.
    """
    try:
        ref = load_reference()
    except DataError as error:
        return [Problem("", str(error))]
    cases = loaded.cases  # first: should the index prove damaged now, it is read again
    root = f"{repo.root}{os.sep}"
    problems = [Problem("", line.removeprefix(root)) for line in loaded.problems]
    problems.extend(Problem(path, t("check.interrupted_write"), "warning") for path in loaded.leftovers)
    seen: dict[str, list[str]] = {}
    for case, relative in zip(cases, loaded.paths, strict=True):
        seen.setdefault(case.id, []).append(relative)
        problems.extend(check_case(case, relative, ref, today))
    problems.extend(check_unique_ids(seen))
    for extra in extra_checks:
        problems.extend(extra(repo))
    return problems
