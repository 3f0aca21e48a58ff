"""Working together over git: ``sync``, ``log``, and the merge driver git calls for case files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kitamono.cli import complete
from kitamono.cli.common import OutputOpt, TextFormatOpt, emit, fail, info, reference, repository, today, warn
from kitamono.i18n import t
from kitamono.reports.rows import TEXT_FORMATS

if TYPE_CHECKING:
    from kitamono.checks import Problem
    from kitamono.gitsync.syncing import SyncResult
    from kitamono.models import Case
    from kitamono.store import Repository


def register(app: typer.Typer) -> None:
    from kitamono.cli import conflicts

    app.command("sync", help=t("sync.help"))(sync)
    conflicts.register(app)  # what stops a sync, and settling it
    app.command("log", help=t("log.help"))(log)
    app.command("merge-driver", hidden=True, help=t("sync.help_driver"))(merge_driver)


def repository_check(repo: Repository) -> list[Problem]:
    """``kitamono check`` as sync runs it: every case, the reference data, the merge driver."""
    from kitamono.casework import check_before_push

    return check_before_push(repo, today())


def sync(
    fmt: TextFormatOpt = None,
    output: OutputOpt = None,
    allow_delete: Annotated[bool, typer.Option("--allow-delete", help=t("sync.opt_allow_delete"))] = False,
) -> None:
    from kitamono import gitsync
    from kitamono.reports.syncing import sync_said

    repo = repository()
    result = gitsync.sync(repo, repository_check, allow_delete=allow_delete)
    conflicts = any(trouble.conflicts for trouble in result.troubles)
    said = sync_said(result, reference(repo) if conflicts else None)
    for line in said.lines:
        (warn if line.kind == "warning" else info)(line.text)
    if said.arrivals:
        _show_arrivals(repo, result, fmt, output)
    if said.failure is not None:
        fail(said.failure)


def _show_arrivals(repo: Repository, result: SyncResult, fmt: str | None, output: Path | None) -> None:
    from kitamono.caseio import load_case_file
    from kitamono.reports.history import sync_report

    if not result.arrived:
        if fmt == "json":  # scripts always get a list
            emit(sync_report(result, {}), fmt, output, formats=TEXT_FORMATS)
        return
    cases: dict[str, Case] = {}
    for change in result.arrived:
        path = repo.root / change.path
        if path.is_file():
            try:
                cases[change.case_id] = load_case_file(path)
            except Exception:  # noqa: BLE001 - an unreadable case is reported by the check
                continue
    emit(sync_report(result, cases), fmt, output, formats=TEXT_FORMATS)


def log(
    case_id: Annotated[
        str | None,
        typer.Argument(help=t("log.arg_case_id"), metavar="ID", show_default=False, autocompletion=complete.case_ids),
    ] = None,
    fmt: TextFormatOpt = None,
    output: OutputOpt = None,
) -> None:
    from kitamono.gitsync import history
    from kitamono.reports.history import log_report

    repo = repository()
    found = history(repo, case_id)
    if case_id is not None and not found.entries and not found.pending:
        repo.find_case_file(case_id)  # an unknown id is an error; a known one just has no history
    if found.pending:
        warn(t("log.pending", n=len(found.pending), ids=", ".join(found.pending[:5])))
    emit(log_report(found, reference(repo), case_id), fmt, output, formats=TEXT_FORMATS)


def merge_driver(
    base: Annotated[Path, typer.Argument(show_default=False)],
    ours: Annotated[Path, typer.Argument(show_default=False)],
    theirs: Annotated[Path, typer.Argument(show_default=False)],
    name: Annotated[str, typer.Argument(show_default=False)] = "",
) -> None:
    from kitamono.gitsync import run_merge_driver

    outcome = run_merge_driver(base, ours, theirs, name)
    for message in outcome.messages:
        warn(message)
    raise typer.Exit(0 if outcome.clean else 1)
