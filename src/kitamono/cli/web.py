"""``kitamono web``: serve this repository's pages on this machine (see ``kitamono.web``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from kitamono.cli.common import info, repository
from kitamono.i18n import t

if TYPE_CHECKING:
    from werkzeug.serving import BaseWSGIServer


def register(app: typer.Typer) -> None:
    app.command("web", help=t("web.help"))(web)


def web(
    port: Annotated[int, typer.Option("--port", help=t("web.opt_port"), min=1, max=65535)] = 8470,
    host: Annotated[str, typer.Option("--host", help=t("web.opt_host"), show_default=True)] = "127.0.0.1",
    open_: Annotated[bool, typer.Option("--open", help=t("web.opt_open"))] = False,
) -> None:
    import secrets

    from kitamono.errors import InputError
    from kitamono.web.workspace import Workspace

    if host in ("0.0.0.0", "::", ""):
        raise InputError(t("web.host_any"))
    repo = repository()
    workspace = Workspace(repo.root)
    servers: list[tuple[BaseWSGIServer, str]] = []  # the one server, once started, and its address

    def start() -> None:
        """Flask loaded, the address open and printed: done while the case files are parsed."""
        if servers:
            return
        from werkzeug.serving import make_server

        from kitamono.web import LOCAL_HOSTS, create_app

        token = None if host in LOCAL_HOSTS else secrets.token_urlsafe(18)
        app = create_app(repo.root, host=host, port=port, token=token, workspace=workspace)
        server = make_server(host, port, app, threaded=True)
        app.jinja_env.get_template("dashboard.html")  # the first page's template, compiled meanwhile too
        shown = f"[{host}]" if ":" in host else host
        servers.append((server, f"http://{shown}:{server.server_port}/"))
        info(t("web.serving", root=repo.root, address=servers[0][1]))
        if token:
            info(t("web.token_printed", token=token))
        info(t("web.stop_hint"))

    try:
        # The cases are read before the first page is asked for; requests wait for them in the
        # server's queue, and the first page is answered from them at once.
        first = workspace.load_first(start)
        start()
        if first is not None and first.loaded is not None:
            info(t("web.loaded", n=len(first.loaded)))
            if first.damaged:
                info(t("web.loaded_damaged", n=len(first.damaged)))
        server, address = servers[0]
        if open_:
            import webbrowser

            webbrowser.open(address)
        server.serve_forever()
    except KeyboardInterrupt:
        info(t("web.stopped"))
    finally:
        for server, _ in servers:
            server.server_close()
