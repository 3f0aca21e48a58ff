"""``kitamono web``: the case repository of this clone as pages in a browser, on this machine.

The pages are one more way to read and write the same case files, beside the command line and
git: every page calls the core functions the commands call (``casework``, ``listings``,
``reports``, ``gitsync``), reports are drawn from the same rows (``reports.rows``), and every
string comes from the same catalogue (the ``web.*`` keys). Flask serves them; Jinja2 escapes
everything it writes::

    workspace.py   the cases kept in memory, reloaded when a case file's stamp changes
    app.py         the Flask application: security (Host, token, CSRF, CSP), language, errors
    views.py       one function per page and per form
    templates/     the pages; static/ one style sheet and one small script of our own

Nothing here imports the command line; ``cli/web.py`` starts the server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kitamono.web.app import DEFAULT_PORT, LOCAL_HOSTS, create_app

__all__ = ["DEFAULT_PORT", "LOCAL_HOSTS", "create_app"]


def __getattr__(name: str) -> Any:
    """Flask loads with the application (``app.py``), not with this package: ``kitamono web``
    starts reading the cases (``workspace.py``) while it loads."""
    if name in __all__:
        from kitamono.web import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
