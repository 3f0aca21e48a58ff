"""The forms of the case page that correct a case or settle its conflicts.

Each is one command: ``case amend``, ``case void`` (and ``--unvoid``), ``case set``,
``case withdraw`` / ``restore`` and ``kitamono resolve``, calling the same core function with
what was typed. A field left empty is left as it is, as an option not given; a refused value
comes back with the command line's message next to its field, and the case file stays as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, request, url_for
from werkzeug.wrappers import Response as Answer

from kitamono.errors import FieldError, InputError
from kitamono.fiscal import parse_date, today
from kitamono.i18n import t
from kitamono.reference import Reference
from kitamono.web.views import _auto_commit, _case_page, _workspace, form_values, pages, write_refused

#: What each correction form asks for, besides the reason (the command's options).
AMEND_FIELDS = ("date", "by", "to", "lead", "outcome", "note")
SET_FIELDS = ("title", "company", "municipality", "summary", "field", "bank", "approved_project")


def _checked(values: dict[str, Any], ref: Reference, checks: dict[str, Callable[[str], object]]) -> dict[str, str]:
    """The command line's message for each value typed that its check refuses."""
    errors = {}
    for name, check in checks.items():
        given = values.get(name)
        for value in given if isinstance(given, list) else [given] if given else []:
            try:
                check(value)
            except InputError as error:
                errors[name] = str(error)
    return errors


def _number(values: dict[str, Any], errors: dict[str, str]) -> int:
    text = values["number"]
    if not text.isdigit() or int(text) < 1:
        errors["number"] = t("web.required")
        return 0
    return int(text)


def _done(case_id: str, message: str) -> Answer:
    flash(message)
    _auto_commit(_workspace().repo, case_id)
    back = request.form.get("next", "")
    own_page = back.startswith("/") and not back.startswith("//")  # never to another site
    return redirect(back if own_page else url_for("web.case_page", case_id=case_id), 303)


@pages.post("/cases/<case_id>/correct/<kind>")
def correct(case_id: str, kind: str) -> Answer | tuple[str, int]:
    """``case amend``, ``void``, ``set``, ``withdraw`` or ``restore`` from its form."""
    form = {"amend": _amend, "void": _void, "set": _set, "withdraw": _withdraw}.get(kind)
    if form is None:
        abort(404)
    return form(case_id)


def _amend(case_id: str) -> Answer | tuple[str, int]:
    from kitamono.casework import EventChanges, amend_event

    workspace = _workspace()
    repo, ref, now = workspace.repo, workspace.reference(), today()
    values = form_values(("number", "reason", *AMEND_FIELDS), ("supporting", "members"))
    errors = _checked(values, ref, {"date": lambda v: parse_date(v, today=now), **dict.fromkeys(
        ("by", "to", "lead", "supporting", "members"), ref.institution)})  # fmt: skip
    number = _number(values, errors)
    after = [number]

    def amend() -> None:
        changes = EventChanges(
            date=parse_date(values["date"], today=now) if values["date"] else None,
            **{name: values[name] or None for name in ("by", "to", "lead", "outcome", "note")},
            supporting=values["supporting"] or None, members=values["members"] or None,
        )  # fmt: skip
        after[0] = amend_event(repo, case_id, number, changes, _reason(values), ref, now)[1]

    if errors or not write_refused(errors, amend):
        return _case_page(case_id, errors, values, "amend", 400)
    moved = t("correct.moved", number=after[0]) if after[0] != number else ""
    return _done(case_id, t("correct.amended", id=case_id, number=number) + moved)


def _reason(values: dict[str, Any]) -> str:
    """The reason, required: a FieldError next to it (the command line's message) when empty."""
    if not values["reason"]:
        raise FieldError(t("correct.reason_required"), "reason")
    return str(values["reason"])


def _void(case_id: str) -> Answer | tuple[str, int]:
    from kitamono.casework import void_event

    workspace = _workspace()
    repo, ref, now = workspace.repo, workspace.reference(), today()
    values = form_values(("number", "reason", "action"))
    undo = values["action"] == "unvoid"
    errors: dict[str, str] = {}
    number = _number(values, errors)

    def void() -> None:
        void_event(repo, case_id, number, values["reason"] or None if undo else _reason(values), ref, now, undo=undo)

    if errors or not write_refused(errors, void):
        return _case_page(case_id, errors, values, "void", 400)
    return _done(case_id, t("correct.unvoided" if undo else "correct.voided", id=case_id, number=number))


def _set(case_id: str) -> Answer | tuple[str, int]:
    from kitamono.casework import CaseFields, set_case

    workspace = _workspace()
    repo, ref, now = workspace.repo, workspace.reference(), today()
    values = form_values(("reason", *SET_FIELDS))
    values["summary"] = request.form.get("summary", "")
    errors = _checked(values, ref, {"municipality": ref.municipality, "bank": ref.institution,
                                    "approved_project": lambda v: parse_date(v, today=now)})  # fmt: skip

    def change() -> None:
        given = CaseFields(
            **{name: values[name] or None for name in ("title", "company", "municipality", "field", "bank")},
            summary=values["summary"] or None,
            approved_project=parse_date(values["approved_project"], today=now) if values["approved_project"] else None,
        )  # fmt: skip
        set_case(repo, case_id, given, _reason(values), ref, now)

    if errors or not write_refused(errors, change):
        return _case_page(case_id, errors, values, "set", 400)
    return _done(case_id, t("correct.set", id=case_id))


def _withdraw(case_id: str) -> Answer | tuple[str, int]:
    from kitamono.casework import withdraw_case

    repo = _workspace().repo
    values = form_values(("reason", "action"))
    undo = values["action"] == "restore"
    errors: dict[str, str] = {}
    if not write_refused(errors, lambda: withdraw_case(
            repo, case_id, values["reason"] or None if undo else _reason(values), today(), undo=undo)):  # fmt: skip
        return _case_page(case_id, errors, values, "withdraw", 400)
    return _done(case_id, t("correct.restored" if undo else "correct.withdrew", id=case_id))


@pages.post("/cases/<case_id>/resolve")
def resolve(case_id: str) -> Answer | tuple[str, int]:
    """``kitamono resolve``: for each conflict chosen, this clone's value, the other's, or one typed."""
    from kitamono import gitsync
    from kitamono.reports.conflicts import conflict_subject

    workspace = _workspace()
    repo, ref = workspace.repo, workspace.reference()
    values = {name: value.strip() for name, value in request.form.items() if name.startswith(("take_", "value_"))}
    chosen = {name.removeprefix("take_"): value for name, value in values.items() if name.startswith("take_") and value}
    takes = [f"{n}={take}" for n, take in chosen.items() if take in ("ours", "theirs")]
    typed = [f"{n}={values.get(f'value_{n}', '')}" for n, take in chosen.items() if take == "value"]
    errors: dict[str, str] = {}
    settled: list[Any] = []

    def settle() -> None:
        actor = repo.local.institution
        if not actor:
            raise InputError(t("case.missing_by"))
        case, done = gitsync.resolve(repo, case_id, takes, typed, ref, ref.institution(actor).id, today())
        settled.extend(done)
        settled.append(case)

    if not write_refused(errors, settle):
        return _case_page(case_id, errors, values, "resolve", 400)
    *done, case = settled
    for conflict in done:
        took = conflict.decided.took if conflict.decided else "ours"
        flash(t("resolve.settled", id=case_id, what=conflict_subject(conflict), took=t(f"resolve.took_{took}")))
    still = t("resolve.still_open", id=case_id, n=len(case.conflicts)) if case.conflicts else t("web.resolve_done")
    return _done(case_id, still)
