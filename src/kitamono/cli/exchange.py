"""``kitamono export`` and ``kitamono import``: the case repository in and out of spreadsheets."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from kitamono.cli.common import auto_commit, fail, format_option, info, reference, repository, today
from kitamono.failures import failure
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
    events: Annotated[bool, typer.Option("--events", help=t("exchange.opt.events"))] = False,
) -> None:  # fmt: skip
    from kitamono.exchange import export_bytes, has_contacts, load_for_export

    chosen = _choose_format(fmt, output)
    if events and chosen != "csv":
        raise typer.BadParameter(t("exchange.events_only_csv"), param_hint="--events")
    if chosen == "xlsx" and output is None and sys.stdout.isatty():
        fail(t("opt.xlsx_needs_output"))
    repo = repository()
    ref = reference(repo)
    cases = load_for_export(repo)  # a damaged case file: one line naming the files, nothing written
    data = export_bytes(cases, ref, chosen, redact, as_of=today(), events=events)
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
    if not redact and not events and has_contacts(cases):
        info(t("exchange.contacts_included"))
    info(t("exchange.exported", n=len(cases)))


def _maps(values: list[str]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for value in values:
        header, sep, item = value.partition("=")
        if not sep or not header.strip() or not item.strip():
            raise typer.BadParameter(t("exchange.bad_map", value=value), param_hint="--map")
        pairs.append((header.strip(), item.strip()))
    return tuple(pairs)


def import_cases(
    file: Annotated[Path, typer.Argument(help=t("exchange.arg.file"), metavar="FILE", show_default=False)],
    dry_run: Annotated[bool, typer.Option("--dry-run", help=t("exchange.opt.dry_run"))] = False,
    maps: Annotated[
        list[str] | None, typer.Option("--map", help=t("exchange.opt.map"), metavar=t("exchange.metavar.map"),
                                        show_default=False)
    ] = None,
    ignored: Annotated[
        list[str] | None,
        typer.Option("--ignore-column", help=t("exchange.opt.ignore_column"), metavar=t("exchange.metavar.column"),
                     show_default=False),
    ] = None,
) -> None:
    from kitamono.exchange import (
        MAX_LISTED_PROBLEMS,
        DamagedCases,
        ImportOptions,
        ImportPlan,
        ImportRejected,
        import_file,
        plan_lines,
        preview_lines,
        unknown_columns,
    )

    options = ImportOptions(_maps(maps or []), tuple(name.strip() for name in ignored or []))
    repo = repository()
    ref = reference(repo)
    try:
        result = import_file(repo, file, ref, today(), dry_run=dry_run, options=options)
    except (ImportRejected, DamagedCases) as error:
        for problem in error.problems[:MAX_LISTED_PROBLEMS]:
            info(failure(problem))
        if len(error.problems) > MAX_LISTED_PROBLEMS:
            info(failure(t("exchange.more_problems", n=len(error.problems) - MAX_LISTED_PROBLEMS)))
        raise
    plan = result.plan
    if dry_run:
        for line in preview_lines(result.source, plan):
            info(line)
        info(t("exchange.preview_summary", added=len(plan.of("add")), unchanged=len(plan.of("unchanged")),
               errors=len(plan.of("error"))))  # fmt: skip
        if plan.problems:
            fail(t("exchange.preview_problems", n=len(plan.problems)))
        return
    for case in result.created:
        typer.echo(case.id)
    for line in plan_lines(ImportPlan(plan.of("duplicate"))):
        info(line)
    unknown = unknown_columns(result.source)
    if unknown and result.created:
        info(t("exchange.kept_unknown", columns="、".join(f"「{name}」" for name in unknown)))
    info(t("exchange.summary", added=len(result.created), unchanged=len(plan.of("unchanged"))))
    if result.created:
        auto_commit(repo, [c.id for c in result.created])
