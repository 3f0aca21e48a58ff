"""The ``kitamono`` command: one Typer sub-app per command group, joined here.

Where errors become exit codes: a KitamonoError or an OS error becomes one line on stderr and
exit 1 (``failures.one_line``, which ``kitamono web``'s quick start in ``launch`` uses too); usage
errors stay with Typer (exit 2); nothing else shows a traceback unless ``KITAMONO_DEBUG=1``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup, TyperOption
from typer.models import DefaultPlaceholder

from kitamono.failures import failure
from kitamono.i18n import t

if TYPE_CHECKING:
    # The Click bundled with Typer: what Typer's classes take (``typer.Context`` is a subclass of it).
    from typer._click import Context, HelpFormatter, Parameter


def _in_language(option: TyperOption | None) -> TyperOption | None:
    """Typer's own ``--help`` text is English; give it the user's language."""
    if option is not None:
        option.help = t("opt.help")
    return option


class _InLanguage:
    """What commands and groups share: ``-h/--help``, the usage line, usage errors that know their command."""

    def get_help_option(self, ctx: Context) -> TyperOption | None:
        return _in_language(super().get_help_option(ctx))  # type: ignore[misc]

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)  # type: ignore[misc]
        except typer.TyperException as error:  # a usage error the parser raised without its command
            if getattr(error, "ctx", False) is None:
                error.ctx = ctx  # type: ignore[attr-defined]
            raise


class Command(_InLanguage, TyperCommand):
    """Every command: its help (headings, value names, ``-h/--help``) in the user's language."""

    def format_usage(self, ctx: Context, formatter: HelpFormatter) -> None:
        _write_usage(self, ctx, formatter)

    def format_options(self, ctx: Context, formatter: HelpFormatter) -> None:
        _write_params(self, ctx, formatter)


class Group(_InLanguage, TyperGroup):
    """Every command group: its help in the user's language; an unknown command named in it, near
    names suggested."""

    def format_usage(self, ctx: Context, formatter: HelpFormatter) -> None:
        _write_usage(self, ctx, formatter, t("help.command_metavar"))

    def format_options(self, ctx: Context, formatter: HelpFormatter) -> None:
        _write_params(self, ctx, formatter)
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(formatter.width)))
        if rows:
            with formatter.section(t("help.commands")):
                _write_rows(formatter, rows)

    def resolve_command(self, ctx: Context, args: list[str]) -> tuple[str | None, Any, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None and not ctx.resilient_parsing:
            import difflib

            shown = [n for n in self.list_commands(ctx) if not getattr(self.get_command(ctx, n), "hidden", False)]
            near = difflib.get_close_matches(name, shown, n=3)
            ctx.fail(t("usage.no_command", name=name) + (t("usage.did_you_mean", names=_quoted(near)) if near else ""))
        return super().resolve_command(ctx, args)


# --- help and usage errors in the user's language -------------------------------------------------
# Click writes its help and its usage errors in English ("Usage:", "Options", "Error: No such
# command 'lsit'."), and Typer names value types as a programmer would (<str>, <list[str]>). The
# classes above write both with the user's words, through Click's own formatter and exceptions.

#: Value names as commands declare them (``metavar=``) -> the catalogue key of their display name.
_METAVARS = {
    "DATE": "metavar.date", "INST": "metavar.institution", "MUNICIPALITY": "metavar.municipality",
    "FY": "metavar.fy", "Q": "metavar.quarter", "ID": "metavar.case_id", "FILE": "metavar.file",
    "PATH": "metavar.path", "TEXT": "metavar.text", "N": "metavar.number", "KIND": "metavar.outcome_kind",
}  # fmt: skip


def _quoted(names: list[str]) -> str:
    return t("routing.sep").join(t("usage.quoted", name=name) for name in names)


def _value_name(param: Parameter) -> str:
    """What a parameter's value is called in help: 日付, 機関, [来訪|電話|…], 文字列 …"""
    from kitamono.cli.common import metavar_labels

    metavar = (param.metavar or "").strip("[]") or None
    if metavar is None:
        return t("metavar.text")
    if metavar in _METAVARS:
        return t(_METAVARS[metavar])
    return metavar_labels(param.metavar or "") or metavar


def _is_flag(param: Parameter) -> bool:
    return bool(getattr(param, "is_flag", False) or getattr(param, "count", False))


def _usage_piece(param: Parameter) -> str:
    name = _value_name(param)
    name = name if param.required else f"[{name}]"
    return name + ("..." if param.nargs != 1 else "")


def _write_usage(command: Any, ctx: Context, formatter: HelpFormatter, tail: str = "") -> None:
    pieces = [t("help.options_metavar")]
    pieces += [_usage_piece(p) for p in command.get_params(ctx) if p.param_type_name == "argument"]
    formatter.write_usage(ctx.command_path, " ".join([*pieces, tail]).strip(), prefix=t("help.usage") + ": ")


def _help_record(param: Parameter, ctx: Context) -> tuple[str, str] | None:
    if getattr(param, "hidden", False):
        return None
    if param.param_type_name == "argument":
        name = _value_name(param)
    else:
        opts = sorted(param.opts, key=lambda o: o.startswith("--"))  # -f, --format
        name = ", ".join(opts) + (" / " + ", ".join(param.secondary_opts) if param.secondary_opts else "")
        if not _is_flag(param):
            name += " " + _value_name(param) + ("..." if param.multiple else "")
    extra = []
    default = param.default
    if getattr(param, "show_default", False) is True and default not in (None, False, "", (), []):
        extra.append(t("help.default", value=default))
    if param.required:
        extra.append(t("help.required"))
    text = getattr(param, "help", None) or ""
    if extra:
        text = f"{text}  [{'; '.join(extra)}]".strip()
    return name, text


def _write_params(command: Any, ctx: Context, formatter: HelpFormatter) -> None:
    records = [(p.param_type_name, _help_record(p, ctx)) for p in command.get_params(ctx)]
    for kind, heading in (("argument", "help.arguments"), ("option", "help.options")):
        rows = [record for k, record in records if k == kind and record is not None]
        if rows:
            with formatter.section(t(heading)):
                _write_rows(formatter, rows)


def _write_rows(formatter: HelpFormatter, rows: list[tuple[str, str]]) -> None:
    """Terms and their help in two columns, measured as a terminal shows them (日付 takes four)."""
    from kitamono.sheets import display_width

    first = min(max(display_width(term) for term, _ in rows), 30)
    indent = " " * formatter.current_indent
    room = max(formatter.width - formatter.current_indent - first - 2, 20)
    for term, text in rows:
        lines = _wrap(text, room, display_width)
        pad = first - display_width(term)
        if pad >= 0 and lines:
            formatter.write(f"{indent}{term}{' ' * (pad + 2)}{lines.pop(0)}\n")
        else:
            formatter.write(f"{indent}{term}\n")
        for line in lines:
            formatter.write(f"{indent}{' ' * (first + 2)}{line}\n")


#: A Japanese character, or an English word with the spaces after it: where a help line may break.
_PIECES = r"[\u3000-\u9fff\uff00-\uffef][)）、。」]*|[^\s\u3000-\u9fff\uff00-\uffef]+\s*|\s+"


def _wrap(text: str, width: int, measure: Callable[[str], int]) -> list[str]:
    import re

    lines: list[str] = []
    line = ""
    for piece in re.findall(_PIECES, text):
        if line and measure((line + piece).rstrip()) > width:
            lines.append(line.rstrip())
            line = piece.lstrip()
        else:
            line += piece
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _param_name(param: Parameter) -> str:
    """An option by its long name (--format), an argument by what its value is called (案件ID)."""
    return max(param.opts, key=len) if param.param_type_name == "option" and param.opts else _value_name(param)


def _in_words(error: Exception) -> str | None:
    """What a value typed is refused for, in the user's language, when Typer asked Pydantic
    (a number out of range, not a number: Typer converts each value through it)."""
    from pydantic import ValidationError

    cause = error.__cause__
    if isinstance(cause, ValidationError) and cause.errors():
        from kitamono.caseio import validation_problem

        return validation_problem(cause.errors()[0])
    return None


def usage_line(error: Exception) -> str:
    """A usage error as one line in the user's language, with where to read how to use the command.

    Click's usage errors are told apart by what they carry (an unknown option its name and near
    names, a bad value its parameter): Typer keeps Click's exception classes private.
    """
    ctx = getattr(error, "ctx", None)
    message = getattr(error, "message", str(error))
    option = getattr(error, "option_name", None)
    param = getattr(error, "param", None)
    kind = type(error).__name__
    if kind == "NoSuchOption" and option:
        import difflib

        known = [o for p in (ctx.command.get_params(ctx) if ctx else []) for o in p.opts if o.startswith("--")]
        near = difflib.get_close_matches(option, known, n=3, cutoff=0.75)
        message = t("usage.no_option", name=option) + (t("usage.did_you_mean", names=_quoted(near)) if near else "")
    elif option:  # BadOptionUsage: a value given to a flag, or none to an option that needs one
        flags = {o for p in (ctx.command.params if ctx else []) if _is_flag(p) for o in p.opts}
        message = t("usage.no_value" if option in flags else "usage.needs_value", name=option)
    elif kind == "MissingParameter" and param is not None:
        message = t("usage.missing", name=_param_name(param))
    elif param is not None:  # BadParameter: the message already says what is wrong with the value
        message = f"{_param_name(param)}: {_in_words(error) or message}"
    elif getattr(error, "param_hint", None):
        message = f"{error.param_hint}: {message}"  # type: ignore[attr-defined]
    else:
        import re

        extra = re.fullmatch(r"Got unexpected extra arguments? \((.*)\)", message)
        if extra:
            message = t("usage.extra_arguments", args=extra.group(1))
        elif message == "Missing command.":
            message = t("usage.missing_command")
    hint = t("usage.hint", command=f"{ctx.command_path} -h") if ctx is not None else ""
    return failure(f"{message}{hint}")


#: Typer's shell-completion options, by parameter name, and their help in the user's language.
_COMPLETION_HELP = {"install_completion": "opt.install_completion", "show_completion": "opt.show_completion"}


class _Group(Group):
    """The root group: every command runs inside its error handling."""

    def main(
        self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
        standalone_mode: bool = True, windows_expand_args: bool = True, **extra: Any,
    ) -> Any:  # fmt: skip
        """As Click's, with a usage error said in one line of the user's language (exit 2)."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        import sys

        try:
            code = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except typer.Abort:
            typer.echo(t("error.aborted"), err=True)
            sys.exit(1)
        except typer.TyperException as error:  # Click's exceptions, usage errors among them
            if type(error).__name__ == "NoArgsIsHelpError":  # a group named alone: its help
                error.show()  # type: ignore[attr-defined]
                sys.exit(2)
            code = getattr(error, "exit_code", 1)
            if code == 2:
                typer.echo(usage_line(error), err=True)
            else:
                message = error.format_message() if hasattr(error, "format_message") else str(error)
                typer.echo(failure(message), err=True)
            sys.exit(code)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: Context) -> Any:
        from kitamono.cli.common import fail
        from kitamono.failures import one_line

        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException, KeyboardInterrupt):
            raise  # usage errors (exit 2) and deliberate exits stay with Typer
        except Exception as error:  # the last line of defence against tracebacks
            line = one_line(error)
            if line is None:  # KITAMONO_DEBUG=1
                raise
            fail(line)

    def list_commands(self, ctx: Context) -> list[str]:
        return list(self.commands)  # in the order they were added, not alphabetical

    def get_params(self, ctx: Context) -> list[Parameter]:
        params = super().get_params(ctx)
        for param in params:
            if isinstance(param, TyperOption) and param.name in _COMPLETION_HELP:
                param.help = t(_COMPLETION_HELP[param.name])
        return params


app = typer.Typer(
    cls=_Group,
    help=t("help.root"),
    no_args_is_help=True,
    # Plain help: it reads as well in Japanese, and skips importing rich on every --help.
    rich_markup_mode=None,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from kitamono import __version__

        typer.echo(f"kitamono {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    repo: Annotated[
        Path | None, typer.Option("--repo", help=t("opt.repo"), metavar="PATH", show_default=False)
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help=t("opt.version"))
    ] = False,
) -> None:
    from kitamono.cli.common import STATE

    STATE["repo"] = repo


def _register() -> None:
    from kitamono.cli import case, correct, exchange, reference, repo, reports, route, sync

    repo.register(app)
    correct.register(case.app)
    app.add_typer(case.app, name="case", help=t("help.case"))
    route.register(app)
    reports.register(app)
    reference.register(app)
    exchange.register(app)
    sync.register(app)
    from kitamono.cli import web  # the pages (kitamono web)

    web.register(app)


def _first_sentence(text: str) -> str:
    """A command's line in a listing: its help up to the first 。 (or the first line)."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    head, mark, _ = line.partition("。")
    return head + mark if mark else line


def _unset(value: object) -> bool:
    """Not given to Typer: None, or for a group the placeholder Typer stores (its types say None)."""
    return value is None or isinstance(value, DefaultPlaceholder)


def _settle(typer_app: typer.Typer) -> None:
    """Build every command and group from the classes above, with a short help Japanese fits.

    Click cuts a command's line in a listing at a space; Japanese help has none, so each gets
    its first sentence instead.
    """
    for info in typer_app.registered_commands:
        if info.cls in (None, TyperCommand):  # not chosen with cls= (Typer's default)
            info.cls = Command
        if info.short_help is None and isinstance(info.help, str):
            info.short_help = _first_sentence(info.help)
    for group in typer_app.registered_groups:
        if _unset(group.cls):
            group.cls = Group
        if _unset(group.short_help) and isinstance(group.help, str):
            group.short_help = _first_sentence(group.help)
        if group.typer_instance is not None:
            _settle(group.typer_instance)


_register()
_settle(app)


def main() -> None:
    app(prog_name="kitamono")
