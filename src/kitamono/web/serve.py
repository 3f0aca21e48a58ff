"""Starting ``kitamono web``: the address taken first, the cases read while Flask loads, then the pages.

Both ways into ``kitamono web`` come here: the full command line (``cli/web.py``) and the
entry point's quick start (``launch.py``), which begins before the command-line framework
loads. Nothing here imports Typer::

    listening = listen("127.0.0.1", 8470)              # InputError: in use, or an address of no use
    serve(repo, listening, "127.0.0.1", False, tell=say)  # until Ctrl+C; ``say`` writes a line to stderr
"""

from __future__ import annotations

import errno
import gc
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from kitamono.errors import InputError
from kitamono.i18n import t
from kitamono.web.addresses import ANY_ADDRESS, LOCAL_HOSTS

if TYPE_CHECKING:  # socket and the server load when a server starts: the command line imports this module
    import socket

    from werkzeug.serving import BaseWSGIServer

    from kitamono.store import Repository


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port``, taken before anything is read, so that a port in use
    is one line and nothing else is done. InputError when it cannot be taken."""
    import socket

    if host in ANY_ADDRESS:
        raise InputError(t("web.host_any"))
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
    except socket.gaierror:  # a name that is no address of any machine
        raise InputError(t("web.host_unknown", host=host)) from None
    try:
        return socket.create_server((host, port), family=family)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise InputError(t("web.port_in_use", port=port)) from None
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise InputError(t("web.address_unusable", host=host, port=port, reason=reason)) from None


def serve(repo: Repository, listening: socket.socket, host: str, open_browser: bool,
          tell: Callable[[str], None]) -> None:  # fmt: skip
    """Serve ``repo``'s pages on ``listening`` until Ctrl+C, saying where and how it goes with ``tell``.

    The cases are read first; while worker processes parse them, this process loads Flask and
    makes the server, so a page asked for meanwhile waits in the socket's queue and is answered
    from them at once. The address is said once the server exists; how many cases were read,
    once they are. A long-running server then collects reference cycles again (the entry point
    pauses the collector for short commands), with the cases read set apart from its scans."""
    from kitamono.web.workspace import Workspace

    port = listening.getsockname()[1]
    workspace = Workspace(repo.root)
    servers: list[tuple[BaseWSGIServer, str]] = []  # the one server, once made, and its address

    def start() -> None:
        """Flask loaded, the server made and its address said: done while the case files are parsed."""
        if servers:
            return
        import secrets

        from werkzeug.serving import make_server

        from kitamono.web.app import create_app

        token = None if host in LOCAL_HOSTS else secrets.token_urlsafe(18)
        app = create_app(repo.root, host=host, port=port, token=token, workspace=workspace)
        server = make_server(host, port, app, threaded=True, fd=listening.fileno())
        from kitamono.web.views import prepare

        prepare(app)  # what the first page needs but the cases, loaded meanwhile too
        shown = f"[{host}]" if ":" in host else host
        servers.append((server, f"http://{shown}:{port}/"))
        tell(t("web.serving", root=repo.root, address=servers[0][1]))
        if token:
            tell(t("web.token_printed", token=token))
        tell(t("web.stop_hint"))

    try:
        first = workspace.load_first(start)
        start()
        if first is not None and first.loaded is not None:
            tell(t("web.loaded", n=len(first.loaded)))
            if first.damaged:
                tell(t("web.loaded_damaged", n=len(first.damaged)))
        gc.freeze()  # what is read so far stays: the collector's scans skip it
        gc.enable()
        server, address = servers[0]
        if open_browser:
            import webbrowser

            webbrowser.open(address)
        server.serve_forever()
    except KeyboardInterrupt:
        tell(t("web.stopped"))
    finally:
        for server, _ in servers:
            server.server_close()
        listening.close()
        workspace.close()
