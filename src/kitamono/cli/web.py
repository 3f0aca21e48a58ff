"""``kitamono web``: serve this repository's pages on this machine (see ``kitamono.web``)."""

from __future__ import annotations

from typing import Annotated

import typer

from kitamono.cli.common import info, repository
from kitamono.i18n import t


def register(app: typer.Typer) -> None:
    app.command("web", help=t("web.help"))(web)


def web(
    port: Annotated[int, typer.Option("--port", help=t("web.opt_port"), min=1, max=65535)] = 8470,
    host: Annotated[str, typer.Option("--host", help=t("web.opt_host"), show_default=True)] = "127.0.0.1",
    open_: Annotated[bool, typer.Option("--open", help=t("web.opt_open"))] = False,
) -> None:
    import secrets

    from werkzeug.serving import make_server

    from kitamono.errors import InputError
    from kitamono.web import LOCAL_HOSTS, create_app

    if host in ("0.0.0.0", "::", ""):
        raise InputError(t("web.host_any"))
    repo = repository()
    token = None if host in LOCAL_HOSTS else secrets.token_urlsafe(18)
    app = create_app(repo.root, host=host, port=port, token=token)
    server = make_server(host, port, app, threaded=True)
    shown = f"[{host}]" if ":" in host else host
    address = f"http://{shown}:{server.server_port}/"
    info(t("web.serving", root=repo.root, address=address))
    if token:
        info(t("web.token_printed", token=token))
    info(t("web.stop_hint"))
    if open_:
        import webbrowser

        webbrowser.open(address)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        info(t("web.stopped"))
    finally:
        server.server_close()
