"""取り込み: a 相談記録簿 (xlsx or csv) into cases, as ``kitamono import`` does it.

The file sent is kept in the repository's local folder (``.kitamono/uploads/``, never shared)
and checked with ``import --dry-run``'s own preview: the table found, how each column is read,
the rows skipped and why, what each row becomes or what is wrong with it. Importing it is
``kitamono import``: all or nothing, checked again against the cases as they are then::

    POST /import  action=preview, file=相談記録簿.xlsx  → the preview, and a button to import it
    POST /import  action=confirm, upload=<token>        → the cases written, or why none were
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as Answer

from kitamono.errors import InputError, KitamonoError
from kitamono.fiscal import today
from kitamono.i18n import t
from kitamono.store import Repository
from kitamono.web.views import _workspace, pages


def _uploads(repo: Repository) -> Path:
    return repo.local_dir / "uploads"


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
    confirm = request.form.get("action") == "confirm"
    token = request.form.get("upload", "") if confirm else None
    path: Path | None = None
    try:
        options = _options()
        path = _kept(repo, token) if token else _keep(repo)[1]
        result = exchange.import_file(repo, path, ref, today(), dry_run=not confirm, options=options)  # type: ignore[arg-type]
    except KitamonoError as error:
        if path is not None and not confirm:  # a file that cannot be read is not kept
            shutil.rmtree(path.parent, ignore_errors=True)
        listed = getattr(error, "problems", [])[: exchange.MAX_LISTED_PROBLEMS]
        return _page(400, problems=[str(error), *listed])
    token = path.parent.name
    plan = result.plan
    if not confirm:
        summary = t("exchange.preview_summary", added=len(plan.of("add")), unchanged=len(plan.of("unchanged")),
                    errors=len(plan.of("error")))  # fmt: skip
        problems = [t("exchange.preview_problems", n=len(plan.problems))] if plan.problems else []
        ready = not plan.problems and bool(plan.of("add"))
        return _page(400 if problems else 200, lines=exchange.preview_lines(result.source, plan), summary=summary,
                     problems=problems, token=token if ready else None)  # fmt: skip
    shutil.rmtree(path.parent, ignore_errors=True)
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
