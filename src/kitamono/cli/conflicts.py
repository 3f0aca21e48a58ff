"""``kitamono conflicts`` and ``kitamono resolve``: what two clones recorded differently, and settling it."""

from __future__ import annotations

from typing import Annotated

import typer

from kitamono.cli.case import ByOpt, CaseIdArg
from kitamono.cli.common import (
    OutputOpt,
    TextFormatOpt,
    auto_commit,
    emit,
    info,
    load_cases,
    reference,
    repository,
    today,
)
from kitamono.i18n import t
from kitamono.reports.rows import TEXT_FORMATS


def register(app: typer.Typer) -> None:
    app.command("conflicts", help=t("conflicts.help"))(conflicts)
    app.command("resolve", help=t("resolve.help"))(resolve)


def conflicts(fmt: TextFormatOpt = None, output: OutputOpt = None) -> None:
    from kitamono.gitsync import cases_with_conflicts
    from kitamono.reports.conflicts import conflicts_report

    repo = repository()
    found = cases_with_conflicts(repo, load_cases(repo).cases)
    if not found:
        info(t("conflicts.none"))
    emit(conflicts_report(found, reference(repo)), fmt, output, formats=TEXT_FORMATS)


def resolve(
    case_id: CaseIdArg,
    take: Annotated[
        list[str] | None,
        typer.Option("--take", help=t("resolve.opt_take"), metavar="[ITEM=]ours|theirs", show_default=False),
    ] = None,
    value: Annotated[
        list[str] | None,
        typer.Option("--value", help=t("resolve.opt_value"), metavar="[ITEM=]VALUE", show_default=False),
    ] = None,
    by: ByOpt = None,
) -> None:
    from kitamono import gitsync
    from kitamono.casework import acting_institution
    from kitamono.reports.conflicts import conflict_subject

    repo = repository()
    ref = reference(repo)
    actor = ref.institution(acting_institution(by, repo.local.institution)).id
    case, settled = gitsync.resolve(repo, case_id, take or [], value or [], ref, actor, today())
    for conflict in settled:
        took = conflict.decided.took if conflict.decided else "ours"
        info(t("resolve.settled", id=case_id, what=conflict_subject(conflict), took=t(f"resolve.took_{took}")))
    if case.conflicts:
        info(t("resolve.still_open", id=case_id, n=len(case.conflicts)))
    else:
        info(t("resolve.done", id=case_id))
    auto_commit(repo, [case_id])
