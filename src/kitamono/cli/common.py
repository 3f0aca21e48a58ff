"""What every command shares: the repository option, --format/-o, errors and warnings.

Commands stay thin: read options, make one core call, hand the result to ``emit``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from kitamono.i18n import t
from kitamono.reports.rows import FORMATS, Format, TextFormat  # the --format choices

if TYPE_CHECKING:  # loaded by the commands that use them, not by every --help
    from kitamono.index import CaseRecord, Loaded
    from kitamono.reference import Reference
    from kitamono.reports.rows import Report
    from kitamono.store import Repository

#: Set by the root callback from ``--repo``; read by ``repository()``.
STATE: dict[str, Any] = {"repo": None}

FormatOpt = Annotated[
    Format | None, typer.Option("--format", "-f", help=t("opt.format"), case_sensitive=False, show_default=False)
]
TextFormatOpt = Annotated[
    TextFormat | None, typer.Option("--format", "-f", help=t("opt.format"), case_sensitive=False, show_default=False)
]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help=t("opt.output"), metavar="FILE", show_default=False)
]
EraOpt = Annotated[bool, typer.Option("--era", help=t("opt.era"))]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help=t("opt.as_of"), metavar="DATE", show_default=False)]

#: A shell completion (see ``complete``): the command line so far and the word being typed -> the offers.
Completion = Callable[[typer.Context, str], list[Any]]


def text_option(name: str, key: str, completion: Completion | None = None) -> Any:
    """A text option with its help in the user's language, for ``Annotated[str | None, text_option(…)]``."""
    return typer.Option(name, help=t(key), show_default=False, autocompletion=completion)


def fail(message: str) -> NoReturn:
    """One line on stderr and exit 1: the way every domain error leaves kitamono."""
    info(f"{t('error.prefix')}: {message}")
    raise typer.Exit(1)


def warn(message: str) -> None:
    info(f"{t('warning.prefix')}: {message}")


def info(message: str) -> None:
    """A message on stderr; text quoted from a file never sends a control character to the terminal."""
    from kitamono.controls import printable

    typer.echo(printable(message), err=True)


def load_cases(repo: Repository) -> Loaded[CaseRecord]:
    """All cases, telling the user on stderr of every unreadable file and of a rebuilt index."""
    from kitamono.casework import load_records

    loaded = load_records(repo)
    for note in loaded.notes:
        info(note)
    for problem in loaded.problems:
        warn(problem)
    loaded.tell = info  # a damaged index found only when its cases are read
    return loaded


def today() -> date:
    """Today, or ``KITAMONO_TODAY`` (ISO) so that demos and tests are reproducible."""
    from kitamono.fiscal import today as today_or_fixed

    return today_or_fixed()


def as_of_date(value: str | None) -> date:
    from kitamono.fiscal import parse_date

    return parse_date(value, today=today()) if value else today()


def repository() -> Repository:
    from kitamono.store import open_repository

    return open_repository(STATE["repo"])


def optional_repository() -> Repository | None:
    """The repository when there is one; None outside any (reference commands work anywhere)."""
    from kitamono.errors import RepositoryError
    from kitamono.store import open_repository

    try:
        return open_repository(STATE["repo"])
    except RepositoryError:
        if STATE["repo"] is not None or os.environ.get("KITAMONO_REPO"):
            raise
        return None


def reference(repo: Repository | None = None) -> Reference:
    from kitamono.reference import load_reference

    if repo is None:
        return load_reference(None)
    return load_reference(repo.data_dir, cache_dir=repo.local_dir)


def choose_format(fmt: str | None, output: Path | None, formats: tuple[str, ...] = FORMATS) -> str:
    """``--format``, else what ``-o FILE``'s extension says, else a table on a terminal and plain
    text in a pipe; one of ``formats``, the ones the command writes."""
    from kitamono.render import format_for_path

    if fmt is None and output is not None:
        fmt = format_for_path(output)
    if fmt is None:
        fmt = "table" if sys.stdout.isatty() else "plain"
    fmt = fmt.lower()
    if fmt not in formats:
        raise typer.BadParameter(t("opt.format_choices", value=fmt, choices=", ".join(formats)), param_hint="--format")
    return fmt


def emit(
    report: Report, fmt: str | None, output: Path | None, era: bool = False, formats: tuple[str, ...] = FORMATS
) -> None:
    """Render ``report`` in the chosen format to ``-o FILE`` or stdout."""
    from kitamono.render import render_text, xlsx_bytes

    fmt = choose_format(fmt, output, formats)
    if fmt == "xlsx":
        if output is None and sys.stdout.isatty():
            fail(t("opt.xlsx_needs_output"))
        _write(output, xlsx_bytes(report, era))
        return
    width = None
    if fmt == "table":
        import shutil

        width = shutil.get_terminal_size((120, 24)).columns
    text = render_text(report, fmt, era=era, width=width)
    if output is None and sys.stdout.isatty():  # csv or json read on a terminal: no control character sent to it
        from kitamono.controls import printable

        text = printable(text)
    _write(output, text)


def _write(output: Path | None, data: str | bytes) -> None:
    """``data`` to ``-o FILE`` (text as UTF-8, the file written whole or not at all), else to stdout."""
    if output is None:
        if isinstance(data, str):
            sys.stdout.write(data)
            sys.stdout.flush()
        else:
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        return
    from kitamono.store import atomic_write_bytes

    atomic_write_bytes(output, data.encode("utf-8") if isinstance(data, str) else data)
    info(t("opt.written", path=output))


def split_list(values: list[str] | None) -> list[str]:
    """``--needs a,b --needs c`` and ``--with 道総研、北洋銀行`` alike, as one flat list."""
    items: list[str] = []
    for value in values or []:
        for part in value.replace("、", ",").replace("，", ",").split(","):
            if part.strip():
                items.append(part.strip())
    return items


def auto_commit(repo: Repository, case_ids: list[str]) -> None:
    """After a writing command: one git commit of the cases it wrote, when ``auto_commit: true``.

    The command has succeeded already; what kept the commit from being made is said as warnings.
    """
    from kitamono import gitsync

    for message in gitsync.auto_commit(repo, sys.argv[1:], case_ids):
        warn(message)
