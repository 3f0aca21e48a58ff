"""``kitamono export`` and ``kitamono import``: the case repository in and out of spreadsheets."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from kitamono.cli.common import auto_commit, fail, format_option, info, reference, repository, today
from kitamono.i18n import t


def register(app: typer.Typer) -> None:
    app.command("export", help=t("exchange.help.export"))(export)
    app.command("import", help=t("exchange.help.import"))(import_cases)


def _choose_format(fmt: str | None, output: Path | None) -> str:
    from kitamono.exchange import EXTENSIONS, FORMATS

    if fmt is not None:
        fmt = fmt.strip().lower()
        if fmt not in FORMATS:
            raise typer.BadParameter(t("exchange.bad_format", value=fmt, choices=", ".join(FORMATS)),
                                     param_hint="--format")  # fmt: skip
        return fmt
    if output is None:
        return "csv"
    chosen = EXTENSIONS.get(output.suffix.lower())
    if chosen is None:
        raise typer.BadParameter(t("exchange.unknown_extension", path=output), param_hint="--output")
    return chosen


def export(
    fmt: Annotated[str | None, format_option(("csv", "xlsx", "jsonl"), "exchange.opt.format")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help=t("exchange.opt.output"), metavar="FILE", show_default=False)
    ] = None,
    redact: Annotated[bool, typer.Option("--redact", help=t("exchange.opt.redact"))] = False,
) -> None:  # fmt: skip
    from kitamono.exchange import export_bytes, has_contacts, load_for_export

    chosen = _choose_format(fmt, output)
    if chosen == "xlsx" and output is None and sys.stdout.isatty():
        fail(t("opt.xlsx_needs_output"))
    repo = repository()
    ref = reference(repo)
    cases = load_for_export(repo)  # a damaged case file: one line naming the files, nothing written
    data = export_bytes(cases, ref, chosen, redact)
    if output is None:
        if chosen != "xlsx" and sys.stdout.isatty():  # read on a terminal: no control character sent to it
            from kitamono.controls import printable

            data = printable(data.decode("utf-8")).encode("utf-8")
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        from kitamono.store import atomic_write_bytes

        atomic_write_bytes(output, data)
        info(t("opt.written", path=output))
    if not redact and has_contacts(cases):
        info(t("exchange.contacts_included"))
    info(t("exchange.exported", n=len(cases)))


def import_cases(
    file: Annotated[Path, typer.Argument(help=t("exchange.arg.file"), metavar="FILE", show_default=False)],
    dry_run: Annotated[bool, typer.Option("--dry-run", help=t("exchange.opt.dry_run"))] = False,
) -> None:
    from kitamono.exchange import MAX_LISTED_PROBLEMS, DamagedCases, ImportPlan, ImportRejected, import_file, plan_lines

    repo = repository()
    ref = reference(repo)
    try:
        result = import_file(repo, file, ref, today(), dry_run=dry_run)
    except (ImportRejected, DamagedCases) as error:
        for problem in error.problems[:MAX_LISTED_PROBLEMS]:
            info(f"{t('error.prefix')}: {problem}")
        if len(error.problems) > MAX_LISTED_PROBLEMS:
            info(f"{t('error.prefix')}: {t('exchange.more_problems', n=len(error.problems) - MAX_LISTED_PROBLEMS)}")
        raise
    plan = result.plan
    if dry_run:
        for line in plan_lines(plan):
            info(line)
        info(t("exchange.dry_run_summary", added=len(plan.added), unchanged=len(plan.unchanged)))
        return
    for case in result.created:
        typer.echo(case.id)
    for line in plan_lines(ImportPlan(plan.duplicates)):
        info(line)
    info(t("exchange.summary", added=len(result.created), unchanged=len(plan.unchanged)))
    if result.created:
        auto_commit(repo, [c.id for c in result.created])
