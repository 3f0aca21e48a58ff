"""The Flask application: which requests it answers, and how it keeps a local server safe.

- **Host.** Only requests whose ``Host`` header names the address served (``127.0.0.1:8470``,
  ``localhost:8470``) are answered; a page on another site that gets its name pointed at this
  machine (DNS rebinding) is refused.
- **Token.** Served on any other address, the pages ask for the token printed at start, once
  per browser (kept in a signed cookie that scripts cannot read and other sites do not send).
- **CSRF.** Every request that changes a file is a POST carrying this server's form token;
  one without it, or from a page of another origin, is refused before anything is read.
- **What the browser may run.** Templates escape every value; the Content-Security-Policy lets
  the page load only this server's own style sheet and script, no inline code, no frames.
- **Errors.** No debug mode and no traceback in a response or in the server's log (a traceback
  could quote a case's contacts): a refused input shows the command line's own message, anything
  unexpected a line naming its kind.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, g, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response
from werkzeug.wsgi import ClosingIterator

from kitamono.errors import KitamonoError
from kitamono.i18n import LANGUAGES, chosen_language, lang, t
from kitamono.sheets import MAX_FILE_BYTES
from kitamono.web.addresses import DEFAULT_HOST, DEFAULT_PORT, LOCAL_HOSTS
from kitamono.web.workspace import Workspace

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: Only this server's own files: no inline script or style, nothing from elsewhere, no frames.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
LANGUAGE_COOKIE = "kitamono_lang"


class _App(Flask):
    def log_exception(self, exc_info: Any) -> None:
        """One line naming the error's kind: a traceback could quote a case's contacts."""
        error = exc_info[1] if isinstance(exc_info, tuple) else exc_info
        self.logger.error("%s %s: %s", request.method, request.path, type(error).__name__)


def _settling(wsgi_app: WSGIApplication, workspace: Workspace) -> WSGIApplication:
    """``wsgi_app``, after whose every answer is sent the workspace settles (``Workspace.settle``:
    a new load looked at again, the index written): the server closes an answer once it has
    written it, so that work never delays the page it follows."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return ClosingIterator(wsgi_app(environ, start_response), workspace.settle)

    return app


def _names(host: str, port: int) -> set[str]:
    """The ``Host`` headers that name this server."""
    hosts = {"127.0.0.1", "localhost"} if host in ("127.0.0.1", "localhost") else {host}
    if host == "::1":
        hosts = {"[::1]", "localhost"}
    return {f"{name}:{port}" for name in hosts} | ({*hosts} if port == 80 else set())


def create_app(root: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, token: str | None = None,
               workspace: Workspace | None = None) -> Flask:  # fmt: skip
    """The application serving the repository at ``root``; ``token`` is required on a non-local ``host``.
    ``workspace``: the cases of ``root`` already being read (``kitamono web`` starts before Flask loads)."""
    if host not in LOCAL_HOSTS and not token:
        raise KitamonoError(t("web.token_required"))
    app = _App(__name__)
    app.config.update(
        SECRET_KEY=secrets.token_bytes(32),  # new at every start: cookies of an earlier run are void
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_NAME="kitamono_session",
        MAX_CONTENT_LENGTH=MAX_FILE_BYTES + 1024 * 1024,  # an import file as large as import reads, and its form
        MAX_FORM_MEMORY_SIZE=1024 * 1024,  # any other field: a megabyte is plenty
        TEMPLATES_AUTO_RELOAD=False,
        PROPAGATE_EXCEPTIONS=False,
        TRAP_HTTP_EXCEPTIONS=False,
    )
    app.debug = False
    app.jinja_env.autoescape = True  # every template, whatever its name
    app.extensions["kitamono"] = {
        "workspace": workspace or Workspace(root),
        "hosts": _names(host, port),
        "token": token,
        "csrf": secrets.token_urlsafe(32),
    }
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request: URLs hold search text
    app.wsgi_app = _settling(app.wsgi_app, app.extensions["kitamono"]["workspace"])  # type: ignore[method-assign, assignment]

    @app.before_request
    def _guard() -> Response | tuple[str, int] | None:
        own = app.extensions["kitamono"]
        if request.host not in own["hosts"]:
            return _refused(t("web.foreign_host", host=request.host), 400)
        _choose_language()
        if own["token"] and not session.get("signed_in") and request.endpoint not in ("web.sign_in", "static"):
            return redirect(url_for("web.sign_in", next=request.full_path))
        if request.method not in ("GET", "HEAD"):
            origin = request.headers.get("Origin")
            if origin and origin not in {f"{request.scheme}://{name}" for name in own["hosts"]}:
                return _refused(t("web.foreign_origin"), 403)
            given = request.form.get("csrf_token", "")
            if not hmac.compare_digest(given.encode(), own["csrf"].encode()):
                return _refused(t("web.csrf_missing"), 403)
        return None

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        # Not no-referrer: with it a browser sends "Origin: null" even on its own forms.
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cache-Control"] = "no-store"  # pages show the files as they are now
        chosen = g.get("set_language")
        if chosen:
            response.set_cookie(LANGUAGE_COOKIE, chosen, samesite="Strict", httponly=True)
        return response

    @app.teardown_request
    def _forget_language(_: BaseException | None) -> None:
        reset = g.get("language_token")
        if reset is not None:
            chosen_language.reset(reset)

    @app.errorhandler(KitamonoError)
    def _refused_input(error: KitamonoError) -> tuple[str, int]:
        return _refused(str(error), 400)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[str, int]:
        code = error.code or 500
        key = {404: "web.not_found", 405: "web.not_allowed", 413: "web.too_large"}.get(code, "web.bad_request")
        return _refused(t(key), code)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[str, int]:
        return _refused(t("error.unexpected", kind=type(error).__name__), 500)

    @app.context_processor
    def _everywhere() -> dict[str, Any]:
        return {"t": t, "csrf_token": app.extensions["kitamono"]["csrf"], "language": lang(), "languages": LANGUAGES}

    from kitamono.web import corrections, importing  # noqa: F401  (their forms join the pages)
    from kitamono.web.views import pages

    app.register_blueprint(pages)
    return app


def _choose_language() -> None:
    """``?lang=en`` (remembered in a cookie), else the cookie, else ``KITAMONO_LANG``."""
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        g.set_language = asked
    chosen = asked if asked in LANGUAGES else request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        g.language_token = chosen_language.set(chosen)


def _refused(message: str, code: int) -> tuple[str, int]:
    return render_template("error.html", message=message, code=code), code

