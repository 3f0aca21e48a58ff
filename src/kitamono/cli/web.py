"""``kitamono web``: serve this repository's pages on this machine (see ``kitamono.web``)."""

from __future__ import annotations

from typing import Annotated

import typer

from kitamono.cli.common import info, repository
from kitamono.i18n import t
from kitamono.web.addresses import DEFAULT_HOST, DEFAULT_PORT


def register(app: typer.Typer) -> None:
    app.command("web", help=t("web.help"))(web)


def web(
    port: Annotated[int, typer.Option("--port", help=t("web.opt_port"), min=1, max=65535)] = DEFAULT_PORT,
    host: Annotated[str, typer.Option("--host", help=t("web.opt_host"), show_default=True)] = DEFAULT_HOST,
    open_: Annotated[bool, typer.Option("--open", help=t("web.opt_open"))] = False,
) -> None:
    from kitamono.web.serve import listen, serve

    repo = repository()
    serve(repo, listen(host, port), host, open_, tell=info)
