"""The ``kitamono`` command: one Typer sub-app per command group, joined here.

The only place that turns errors into exit codes: a KitamonoError or an OS error becomes one
line on stderr and exit 1; usage errors stay with Typer (exit 2); nothing else shows a traceback
unless ``KITAMONO_DEBUG=1``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup, TyperOption
from typer.models import DefaultPlaceholder

from kitamono.i18n import t

if TYPE_CHECKING:
    # The Click bundled with Typer: what Typer's classes take (``typer.Context`` is a subclass of it).
    from typer._click import Context, Parameter


def _in_language(option: TyperOption | None) -> TyperOption | None:
    """Typer's own ``--help`` text is English; give it the user's language."""
    if option is not None:
        option.help = t("opt.help")
    return option


class Command(TyperCommand):
    """Every command: its ``-h/--help`` in the user's language."""

    def get_help_option(self, ctx: Context) -> TyperOption | None:
        return _in_language(super().get_help_option(ctx))


class Group(TyperGroup):
    """Every command group: its ``-h/--help`` in the user's language."""

    def get_help_option(self, ctx: Context) -> TyperOption | None:
        return _in_language(super().get_help_option(ctx))


#: Typer's shell-completion options, by parameter name, and their help in the user's language.
_COMPLETION_HELP = {"install_completion": "opt.install_completion", "show_completion": "opt.show_completion"}


class _Group(Group):
    """The root group: every command runs inside its error handling."""

    def invoke(self, ctx: Context) -> Any:
        from kitamono.cli.common import fail
        from kitamono.errors import KitamonoError

        try:
            return super().invoke(ctx)
        except KitamonoError as error:
            fail(str(error))
        except OSError as error:
            where = f" ({error.filename})" if error.filename else ""
            fail(f"{t('error.os', reason=error.strerror or error)}{where}")
        except (typer.Exit, typer.Abort, typer.TyperException, KeyboardInterrupt):
            raise  # usage errors (exit 2) and deliberate exits stay with Typer
        except Exception as error:  # the last line of defence against tracebacks
            from pydantic import ValidationError

            if isinstance(error, ValidationError):  # a value typed on the command line, e.g. a --note
                from kitamono.caseio import validation_message

                fail(validation_message(error))
            if os.environ.get("KITAMONO_DEBUG"):
                raise
            fail(t("error.unexpected", kind=type(error).__name__))

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
    from kitamono.cli import case, exchange, reference, repo, reports, route, sync

    repo.register(app)
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
