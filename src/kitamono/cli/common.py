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

from kitamono.i18n import label, t
from kitamono.reports.rows import FORMATS, TEXT_FORMATS  # the --format choices

if TYPE_CHECKING:  # loaded by the commands that use them, not by every --help
    from kitamono.index import CaseRecord, Loaded
    from kitamono.reference import Reference
    from kitamono.reports.rows import Problems, Report
    from kitamono.store import Repository

#: Set by the root callback from ``--repo``; read by ``repository()``.
STATE: dict[str, Any] = {"repo": None}

OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help=t("opt.output"), metavar="FILE", show_default=False)
]
EraOpt = Annotated[bool, typer.Option("--era", help=t("opt.era"))]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help=t("opt.as_of"), metavar="DATE", show_default=False)]
AllowDamagedOpt = Annotated[bool, typer.Option("--allow-damaged", help=t("opt.allow_damaged"))]

#: A shell completion (see ``complete``): the command line so far and the word being typed -> the offers.
Completion = Callable[[typer.Context, str], list[Any]]


#: What ``--help`` calls the value of a text option that completes these (see ``kitamono.cli._METAVARS``).
_COMPLETED_METAVARS = {"institutions": "INST", "municipalities": "MUNICIPALITY", "fiscal_years": "FY", "case_ids": "ID"}


def text_option(name: str, key: str, completion: Completion | None = None, metavar: str | None = None) -> Any:
    """A text option with its help in the user's language, for ``Annotated[str | None, text_option(…)]``."""
    metavar = metavar or _COMPLETED_METAVARS.get(getattr(completion, "__name__", ""))
    return typer.Option(name, help=t(key), show_default=False, autocompletion=completion, metavar=metavar)


def fail(message: str) -> NoReturn:
    """One line on stderr and exit 1: the way every domain error leaves kitamono."""
    from kitamono.failures import failure

    info(failure(message))
    raise typer.Exit(1)


def warn(message: str) -> None:
    info(f"{t('warning.prefix')}: {message}")


def info(message: str) -> None:
    """A message on stderr; text quoted from a file never sends a control character to the terminal."""
    from kitamono.controls import printable

    typer.echo(printable(message), err=True)


def load_cases(repo: Repository, allow_damaged: bool = False, withdrawn: bool = False) -> Loaded[CaseRecord]:
    """All cases for a listing or a report (withdrawn ones only with ``withdrawn``), telling the
    user of a rebuilt index on stderr.

    A case file that cannot be read (or an ambiguous id) stops the command with one line naming
    the files; with ``allow_damaged`` they are left out, said once on stderr and carried inside
    the output (``carried_problems``)."""
    from kitamono.casework import load_records

    loaded = load_records(repo, allow_damaged, withdrawn=withdrawn)
    for note in loaded.notes:
        info(note)
    if loaded.problems:
        warn(t("damaged.left_out", n=len(loaded.problems)))
    loaded.tell = info  # a damaged index found only when its cases are read
    return loaded


def carried_problems(repo: Repository, loaded: Loaded[Any]) -> Problems | None:
    """The files a listing or report was made without (``--allow-damaged``), for it to carry."""
    if not loaded.problems:
        return None
    from kitamono.casework import damaged_files
    from kitamono.reports.rows import Problems

    return Problems(t("damaged.left_out", n=len(loaded.problems)), damaged_files(repo, loaded))


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
    report: Report, fmt: str | None, output: Path | None, era: bool = False, formats: tuple[str, ...] = FORMATS,
    problems: Problems | None = None,
) -> None:
    """Render ``report`` in the chosen format to ``-o FILE`` or stdout, carrying ``problems``
    (the case files it was made without) when there are any."""
    from kitamono.render import render_text, xlsx_bytes

    if problems is not None:
        report = report._replace(problems=problems)
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


# --- closed choices -------------------------------------------------------------------------------
# Every option whose value is one of a fixed list (--channel, --field, --needs, --status, --kind,
# --format …) is declared with ``choice_option`` or ``format_option``, so each accepts the same
# words and refuses the same way::
#
#     kitamono case new --channel 電話 …          # phone: the label, its id or a short form
#     kitamono route --text … --needs 融資,販路    # a comma list: finance, market
#
# What a word means is ``Reference.choice`` (data/words.yaml, and a repository's own); an unknown
# word is a usage error (exit 2) in one line that names the choices; ``--help`` shows the labels in
# the user's language (``--channel [来訪|電話|メール|…]``). Typer coerces values with its own
# machinery (this Typer has no Click ``ParamType`` to subclass), so a choice is a ``parser=``
# callable, and its metavar, ``choice:<kind>``, tells the help formatter which labels to list.
# Nothing here costs at start-up: choice ids and reference data are read when a value needs them.

#: The metavar of a choice option: ``choice:<kind>[:<ids>]``, read back by ``metavar_labels``.
PREFIX = "choice:"


def choice_ids(kind: str) -> tuple[str, ...]:
    """A closed choice's ids in the order kitamono lists them."""
    from kitamono.reference import CHOICES

    return CHOICES[kind]


def labels(kind: str, ids: tuple[str, ...] | None = None) -> list[str]:
    """The labels of a choice's values (or of ``ids``), as kitamono prints them."""
    return [label(kind, ident) for ident in (ids if ids is not None else choice_ids(kind))]


def metavar_labels(metavar: str) -> str | None:
    """What ``--help`` shows for a choice option's metavar (``[来訪|電話|…]``); None for others."""
    if not metavar.startswith(PREFIX):
        return None
    kind, _, subset = metavar.removeprefix(PREFIX).partition(":")
    if kind == "format":
        return "[" + "|".join(subset.split(",")) + "]"
    ids = tuple(subset.split(",")) if subset else None
    return "[" + "|".join(labels(kind, ids)) + "]"


def _reference() -> Reference:
    """The reference data of the repository the command runs in (its words.yaml too), else the shipped."""
    try:
        return reference(optional_repository())
    except Exception:  # noqa: BLE001 - a broken repository is the command's to report, not the option's
        return reference(None)


class Choice:
    """The ``parser=`` of a closed-choice option: what was typed -> the choice's id.

    ``many``: a comma list (``融資,販路``, ``融資、販路``), given back as ids joined by commas so the
    command splits it as before. ``ids``: only these values are offered (``plans --field`` has no
    ``other``).
    """

    def __init__(self, kind: str, *, many: bool = False, ids: tuple[str, ...] | None = None) -> None:
        self.kind = kind
        self.many = many
        self.ids = ids

    def __call__(self, value: Any) -> str:
        text = str(value)
        parts = split_list([text]) if self.many else [text]
        return ",".join(self.one(part) for part in parts)

    def one(self, text: str) -> str:
        """The id ``text`` means, or a usage error that lists the choices."""
        from kitamono.errors import InputError

        ref = _reference()
        try:
            ident = ref.choice(self.kind, text)
        except InputError as error:
            raise typer.BadParameter(str(error)) from None
        if self.ids is not None and ident not in self.ids:
            choices = t("routing.sep").join(labels(self.kind, self.ids))
            raise typer.BadParameter(
                t("ref.unknown_choice", value=text.strip(), what=t(f"choice.{self.kind}"), choices=choices, near="")
            )
        return ident

    def complete(self, ctx: typer.Context, incomplete: str) -> list[str]:
        """Tab offers the labels (and ids) that start with what is typed."""
        try:
            ids = self.ids if self.ids is not None else choice_ids(self.kind)
            offers = dict.fromkeys([*labels(self.kind, ids), *ids])
        except Exception:  # noqa: BLE001 - a completion offers nothing rather than a traceback
            return []
        head = incomplete.rsplit(",", 1)[-1] if self.many else incomplete
        done = incomplete[: len(incomplete) - len(head)]
        return [done + word for word in offers if word.startswith(head)]


def choice_option(
    name: str, kind: str, help_key: str, *, many: bool = False, ids: tuple[str, ...] | None = None
) -> Any:
    """An option whose value is one of a closed choice, for ``Annotated[str | None, choice_option(…)]``
    (``list[str] | None`` when ``many``)."""
    choice = Choice(kind, many=many, ids=ids)
    metavar = PREFIX + kind + (":" + ",".join(ids) if ids else "")
    return typer.Option(name, help=t(help_key), parser=choice, metavar=metavar, show_default=False,
                        autocompletion=choice.complete)  # fmt: skip


class FormatChoice:
    """The ``parser=`` of ``--format``: one of the formats this command writes, in any case."""

    def __init__(self, formats: tuple[str, ...]) -> None:
        self.formats = formats

    def __call__(self, value: Any) -> str:
        text = str(value).strip().lower()
        if text not in self.formats:
            shown = str(value).strip()
            raise typer.BadParameter(t("opt.format_choices", value=shown, choices=", ".join(self.formats)))
        return text

    def complete(self, ctx: typer.Context, incomplete: str) -> list[str]:
        return [f for f in self.formats if f.startswith(incomplete.lower())]


def format_option(formats: tuple[str, ...], help_key: str = "opt.format") -> Any:
    """``--format/-f``, listing in ``--help`` only the formats this command can write."""
    chosen = FormatChoice(formats)
    metavar = PREFIX + "format:" + ",".join(formats)
    return typer.Option("--format", "-f", help=t(help_key), parser=chosen, metavar=metavar, show_default=False,
                        autocompletion=chosen.complete)  # fmt: skip


#: ``--format`` of a command that renders a report: every format (``TextFormatOpt``: a few lines of text).
FormatOpt = Annotated[str | None, format_option(FORMATS)]
TextFormatOpt = Annotated[str | None, format_option(TEXT_FORMATS)]
#: ``--format`` of a command that prints lines or their JSON (``check``, ``case new``).
LinesFormatOpt = Annotated[str | None, format_option(("plain", "json"))]
