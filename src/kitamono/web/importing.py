"""取り込み: a 相談記録簿 (xlsx or csv) into cases, as ``kitamono import`` does it.

The file sent is kept in the repository's local folder (``.kitamono/uploads/``, never shared)
and checked with ``import --dry-run``'s own preview: the table found, how each column is read,
the rows skipped and why, what each row becomes or what is wrong with it. Importing it is
``kitamono import``: all or nothing, checked again against the cases as they are then::

    POST /import  action=preview, file=相談記録簿.xlsx  → the preview, and a button to import it
    POST /import  action=confirm, upload=<token>        → the cases written, or why none were
    POST /import  action=cancel, upload=<token>         → nothing imported, the file removed

A 相談記録簿 holds contact persons, so no upload stays longer than it is of use: one is removed
once imported, cancelled, or not importable (its preview offers no import); one previewed and
never confirmed is removed when a new file is sent a day (``KEPT_FOR``) after it was kept.
"""

from __future__ import annotations

import secrets
import shutil
import time
from datetime import timedelta
from pathlib import Path

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as Answer

from kitamono.errors import InputError, KitamonoError
from kitamono.fiscal import today
from kitamono.i18n import t
from kitamono.store import Repository
from kitamono.web.views import _workspace, pages

#: How long a kept upload waits for its preview's 「取り込む」: a preview page offers it for this long.
KEPT_FOR = timedelta(days=1)


def _uploads(repo: Repository) -> Path:
    return repo.local_dir / "uploads"


def _remove(path: Path) -> None:
    """Remove a kept upload (its folder), if another request has not already."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _sweep(repo: Repository) -> None:
    """Remove the uploads kept more than ``KEPT_FOR`` ago: previews never confirmed. An upload's
    age is that of the newest stamp of its folder and its file, so one touched within the day stays."""
    folder = _uploads(repo)
    if not folder.is_dir():
        return
    oldest_kept = time.time() - KEPT_FOR.total_seconds()
    for entry in folder.iterdir():
        try:
            inside = list(entry.iterdir()) if entry.is_dir() else []
            newest = max(p.stat().st_mtime for p in [entry, *inside])
        except OSError:  # removed meanwhile (a confirm, another sweep)
            continue
        if newest < oldest_kept:
            _remove(entry)


def _kept(repo: Repository, token: str) -> Path:
    """The file kept for ``token`` (one folder per upload, the file under the name it was sent with)."""
    folder = _uploads(repo) / token
    found = sorted(folder.iterdir()) if token.isalnum() and folder.is_dir() else []
    if not found:
        raise InputError(t("web.import_expired"))
    return found[0]


def _keep(repo: Repository) -> tuple[str, Path]:
    """The file sent, kept under its own name (the preview names it) in a folder of its own."""
    sent = request.files.get("file")
    name = Path((sent.filename or "") if sent else "").name.replace("\\", "_")
    if sent is None or not name or name in (".", ".."):
        raise InputError(t("web.import_no_file"))
    _sweep(repo)
    token = secrets.token_hex(16)
    path = _uploads(repo) / token / name
    path.parent.mkdir(parents=True)
    sent.save(path)
    return token, path


def _options() -> object:
    """``--map`` and ``--ignore-column`` from the form: one per line."""
    from kitamono.exchange import ImportOptions

    maps = []
    for line in request.form.get("maps", "").splitlines():
        header, sep, item = line.partition("=")
        if not line.strip():
            continue
        if not sep or not header.strip() or not item.strip():
            raise InputError(t("exchange.bad_map", value=line.strip()))
        maps.append((header.strip(), item.strip()))
    ignored = tuple(line.strip() for line in request.form.get("ignored", "").splitlines() if line.strip())
    return ImportOptions(tuple(maps), ignored)


def _page(code: int = 200, **shown: object) -> tuple[str, int]:
    given = {"maps": request.form.get("maps", ""), "ignored": request.form.get("ignored", "")}
    return render_template("import.html", given=given, **{"lines": [], "problems": [], "token": None,
                                                          "summary": None, **shown}), code  # fmt: skip


@pages.get("/import")
def import_form() -> tuple[str, int]:
    return _page()


@pages.post("/import")
def import_file() -> Answer | tuple[str, int]:
    from kitamono import exchange

    repo, ref = _workspace().repo, _workspace().reference()
    action = request.form.get("action")
    confirm = action == "confirm"
    token = request.form.get("upload", "") if action in ("confirm", "cancel") else None
    if action == "cancel":
        if token and token.isalnum():
            _remove(_uploads(repo) / token)
        flash(t("web.import_cancelled"))
        return redirect(url_for("web.import_form"), 303)
    path: Path | None = None
    try:
        options = _options()
        path = _kept(repo, token) if token else _keep(repo)[1]
        result = exchange.import_file(repo, path, ref, today(), dry_run=not confirm, options=options)  # type: ignore[arg-type]
    except KitamonoError as error:
        if path is not None:  # a file that cannot be read, or whose import failed, is offered no more
            _remove(path.parent)
        listed = getattr(error, "problems", [])[: exchange.MAX_LISTED_PROBLEMS]
        return _page(400, problems=[str(error), *listed])
    token = path.parent.name
    plan = result.plan
    if not confirm:
        summary = t("exchange.preview_summary", added=len(plan.of("add")), unchanged=len(plan.of("unchanged")),
                    errors=len(plan.of("error")))  # fmt: skip
        problems = [t("exchange.preview_problems", n=len(plan.problems))] if plan.problems else []
        ready = not plan.problems and bool(plan.of("add"))
        if not ready:  # the page offers no import of it: nothing will ask for the file again
            _remove(path.parent)
        return _page(400 if problems else 200, lines=exchange.preview_lines(result.source, plan), summary=summary,
                     problems=problems, token=token if ready else None)  # fmt: skip
    _remove(path.parent)
    for line in exchange.plan_lines(exchange.ImportPlan(plan.of("duplicate"))):
        flash(line, "warning")
    unknown = exchange.unknown_columns(result.source)
    if unknown and result.created:
        flash(t("exchange.kept_unknown", columns="、".join(f"「{name}」" for name in unknown)))
    flash(t("exchange.summary", added=len(result.created), unchanged=len(plan.of("unchanged"))))
    if result.created:
        from kitamono import gitsync

        for message in gitsync.auto_commit(repo, ["web", "import"], [c.id for c in result.created]):
            flash(message, "warning")
    return redirect(url_for("web.case_list"), 303)
