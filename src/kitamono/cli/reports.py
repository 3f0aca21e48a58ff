"""``kitamono targets``, ``kitamono followups`` and ``kitamono report quarterly|annual``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from kitamono.cli import complete
from kitamono.cli.common import (
    AllowDamagedOpt,
    AsOfOpt,
    EraOpt,
    FormatOpt,
    OutputOpt,
    as_of_date,
    carried_problems,
    emit,
    reference,
    repository,
    today,
)
from kitamono.i18n import t

if TYPE_CHECKING:
    from kitamono.index import CaseRecord, Loaded
    from kitamono.reference import Reference
    from kitamono.store import Repository

#: Reading more case files than this shows a spinner on stderr (on a terminal only).
PROGRESS_THRESHOLD = 2000

InstitutionOpt = Annotated[
    str | None,
    typer.Option("--institution", help=t("reports.opt.institution"), metavar="INST", show_default=False,
                 autocompletion=complete.institutions),
]
FyOpt = Annotated[
    str | None,
    typer.Option("--fy", help=t("reports.opt.fy"), metavar="FY", show_default=False,
                 autocompletion=complete.fiscal_years),
]
QuarterOpt = Annotated[
    str | None, typer.Option("--quarter", "-q", help=t("reports.opt.quarter"), metavar="Q", show_default=False)
]

report_app = typer.Typer(no_args_is_help=True, help=t("reports.help.report"), rich_markup_mode=None)


def register(app: typer.Typer) -> None:
    app.command("targets", help=t("reports.help.targets"))(targets)
    app.command("followups", help=t("reports.help.followups"))(followups)
    app.add_typer(report_app, name="report", help=t("reports.help.report"))


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


def _load(repo: Repository, allow_damaged: bool = False) -> Loaded[CaseRecord]:
    """Every case (through the index); a spinner on a terminal while many are read. A damaged
    case file refuses the report, unless ``allow_damaged`` (then the report carries it)."""
    from kitamono.cli.common import load_cases

    count = len(repo.case_files()) if _stderr_is_terminal() else 0
    if count > PROGRESS_THRESHOLD:
        from rich.console import Console

        with Console(stderr=True).status(t("reports.progress", n=count)):
            return load_cases(repo, allow_damaged)
    return load_cases(repo, allow_damaged)


def _open() -> tuple[Repository, Reference]:
    """The repository and its reference data."""
    repo = repository()
    return repo, reference(repo)


def _this_institution(repo: Repository) -> str | None:
    """This clone's institution for a document's byline; None when not set, or when this clone's
    own settings cannot be read (a report does not fail over its byline)."""
    from kitamono.errors import KitamonoError

    try:
        return repo.local.institution
    except (KitamonoError, OSError):
        return None


def _institution(ref: Reference, value: str | None) -> str | None:
    return ref.institution(value).id if value else None


def targets(
    as_of: AsOfOpt = None, institution: InstitutionOpt = None, era: EraOpt = False,
    fmt: FormatOpt = None, output: OutputOpt = None, allow_damaged: AllowDamagedOpt = False,
) -> None:  # fmt: skip
    from kitamono.reports.targets import targets_needs, targets_report

    when = as_of_date(as_of)
    repo, ref = _open()
    inst = _institution(ref, institution)
    loaded = _load(repo, allow_damaged)
    report = targets_report(targets_needs(ref.targets, when).pick(loaded), ref, when, inst, era)
    emit(report, fmt, output, era, problems=carried_problems(repo, loaded))


def followups(
    as_of: AsOfOpt = None, institution: InstitutionOpt = None, era: EraOpt = False,
    all_: Annotated[bool, typer.Option("--all", help=t("reports.opt.all"))] = False,
    closed_apart: Annotated[bool, typer.Option("--closed-apart", help=t("reports.opt.closed_apart"))] = False,
    fmt: FormatOpt = None, output: OutputOpt = None, allow_damaged: AllowDamagedOpt = False,
) -> None:  # fmt: skip
    from kitamono.reports.targets import followups_needs, followups_report

    when = as_of_date(as_of)
    repo, ref = _open()
    loaded = _load(repo, allow_damaged)
    report = followups_report(followups_needs(when).pick(loaded), ref, when, _institution(ref, institution), era,
                              with_done=all_, closed_apart=closed_apart)  # fmt: skip
    emit(report, fmt, output, era, problems=carried_problems(repo, loaded))


@report_app.command("quarterly", help=t("reports.help.quarterly"))
def quarterly(
    fy: FyOpt = None, quarter: QuarterOpt = None, as_of: AsOfOpt = None, era: EraOpt = False,
    all_: Annotated[bool, typer.Option("--all", help=t("reports.opt.all_institutions"))] = False,
    fmt: FormatOpt = None, output: OutputOpt = None, allow_damaged: AllowDamagedOpt = False,
) -> None:  # fmt: skip
    from kitamono.reports.activity import choose_quarter, quarterly_needs, quarterly_report

    when = as_of_date(as_of)
    chosen_fy, q = choose_quarter(fy, quarter, when)  # a quarter that cannot be is refused before any case is read
    repo, ref = _open()
    loaded = _load(repo, allow_damaged)
    cases = quarterly_needs(chosen_fy, q, when).pick(loaded)
    emit(quarterly_report(cases, ref, chosen_fy, q, when, era, every_network=all_), fmt, output, era,
         problems=carried_problems(repo, loaded))  # fmt: skip


@report_app.command("annual", help=t("reports.help.annual"))
def annual(
    fy: FyOpt = None, as_of: AsOfOpt = None, era: EraOpt = False, fmt: FormatOpt = None, output: OutputOpt = None,
    allow_damaged: AllowDamagedOpt = False,
) -> None:  # fmt: skip
    from kitamono.reports.annual import annual_needs, annual_report, choose_fiscal_year

    when = as_of_date(as_of)
    chosen = choose_fiscal_year(fy, when)
    repo, ref = _open()
    loaded = _load(repo, allow_damaged)
    report = annual_report(annual_needs(chosen, when).pick(loaded), ref, chosen, when, era, made_on=today(),
                           made_by=_this_institution(repo))  # fmt: skip
    emit(report, fmt, output, era, problems=carried_problems(repo, loaded))
