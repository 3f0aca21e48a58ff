"""Repository commands: init and check."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kitamono.cli import complete
from kitamono.cli.common import LinesFormatOpt, emit, info, reference, repository, today, warn
from kitamono.i18n import t


def register(app: typer.Typer) -> None:
    app.command("init", help=t("help.init"))(init)
    app.command("check", help=t("help.check"))(check)


def init(
    path: Annotated[Path, typer.Argument(help=t("arg.init_path"), metavar="PATH", show_default=False)] = Path("."),
    institution: Annotated[
        str | None, typer.Option("--institution", help=t("opt.institution_local"), show_default=False,
                                  autocompletion=complete.institutions)
    ] = None,
    git_config: Annotated[bool, typer.Option("--git-config", help=t("init.opt_git_config"))] = False,
) -> None:
    from kitamono.repository import init_repository

    result = init_repository(path, institution, git_config)
    for line in result.messages:
        info(line)


def check(fmt: LinesFormatOpt = None) -> None:
    from kitamono.casework import load_checked
    from kitamono.checks import check_repository
    from kitamono.controls import printable
    from kitamono.gitsync import driver_problems
    from kitamono.reports.rows import Column, Report, Table

    repo = repository()
    loaded = load_checked(repo)
    for note in loaded.notes:  # a rebuilt index; unreadable files are among the problems below
        info(note)
    loaded.tell = info  # a damaged index found only when its cases are read
    problems = check_repository(
        repo, today(), lambda: reference(repo), extra_checks=(driver_problems,), loaded=loaded
    )
    errors = [p for p in problems if p.level == "error"]
    if fmt == "json":
        columns = [Column("path", "path"), Column("message", "message"), Column("level", "level")]
        rows = [[p.path, p.message, p.level] for p in problems]
        emit(Report("check", [Table("check", columns, rows)]), "json", None)
    else:
        for problem in problems:
            if problem.level == "warning":
                warn(problem.line())
            else:
                typer.echo(printable(problem.line()))  # a problem may quote a hand-edited file
    if errors:
        raise typer.Exit(1)
