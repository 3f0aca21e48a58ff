"""The pages: each reads what the request asks, makes the core calls a command makes, renders.

A report on a page is drawn from the same rows as on the terminal (``table_view``); a form is
checked by the same core functions as the command line, and a refused value comes back with the
command line's own message, next to the field it is about, with what was typed kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as Answer

from kitamono.errors import FieldError, InputError, KitamonoError
from kitamono.fiscal import fiscal_year, format_fiscal_year, parse_date, quarter, today
from kitamono.i18n import label, lang, t
from kitamono.models import CASE_FIELDS, CHANNELS, INSTITUTION_KINDS, STATUSES, SUBPREFECTURES
from kitamono.reference import Reference
from kitamono.render import cell_text, render_text, shown_rows, svg_chart, xlsx_bytes
from kitamono.reports.rows import ABSENT, Report, Table
from kitamono.web.workspace import Snapshot, Workspace

pages = Blueprint("web", __name__)

#: Rows a page shows of a long table (a download has them all).
PAGE_ROWS = 200
#: Rows the dashboard shows of each list.
DASHBOARD_ROWS = 15

#: The forms of the case page: what can be recorded, and the values each asks for besides
#: date, by and note (the command line's options, in its order).
EVENT_FORMS: dict[str, tuple[str, ...]] = {
    "referred": ("to",),
    "started": ("lead", "supporting"),
    "supported": (),
    "followed_up": (),
    "team_formed": ("members",),
    "closed": ("outcome", "outcome_kind", "no_follow_up", "reason"),
    "reopened": (),
}
#: Values a form cannot do without (the command line's required options).
REQUIRED = {"to", "lead", "members", "outcome"}


def _workspace() -> Workspace:
    workspace: Workspace = current_app.extensions["kitamono"]["workspace"]
    return workspace


# --- reports as the page shows them ---------------------------------------------------------------


def table_view(table: Table, era: bool = False, head: int | None = None, skip: int = 0) -> dict[str, Any]:
    """A table's title, headings and rows as the page shows them: each value in its display form,
    as every text format shows it (``render.shown_rows``); ``head`` rows from ``skip`` at most."""
    chosen = table._replace(rows=table.rows[skip:]) if skip else table
    rows = list(shown_rows(chosen, lambda v: cell_text(v, era), head))
    at = table.shown_columns
    more = len(table.rows) - skip - head if head is not None and len(table.rows) - skip > head else 0
    return {
        "title": table.title,
        "keys": [table.columns[n].key for n in at],
        "headings": [table.columns[n].heading for n in at],
        "numeric": [table.columns[n].numeric for n in at],
        "rows": rows,
        "note": table.note,
        "more": t("web.more_rows", n=more) if more else None,
        "none": None if rows else t("reports.none"),  # an empty table says so, as the printed review does
    }


def report_view(report: Report, era: bool = False, head: int | None = None) -> dict[str, Any]:
    return {
        "title": report.title,
        "summary": list(report.summary),
        "charts": [svg_chart(chart) for chart in report.charts],
        "tables": [table_view(table, era, head) for table in report.shown_tables],
    }


def _download(report: Report, kind: str, name: str, era: bool = False) -> Response:
    """A report as a file to save: CSV, XLSX, HTML or Markdown, made by the one renderer."""
    if kind == "xlsx":
        data: str | bytes = xlsx_bytes(report, era)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    elif kind in ("csv", "html", "markdown"):
        data = render_text(report, kind, era=era)
        mime = {"csv": "text/csv", "html": "text/html", "markdown": "text/markdown"}[kind] + "; charset=utf-8"
    else:
        abort(404)
    suffix = {"markdown": "md"}.get(kind, kind)
    response = Response(data, mimetype=mime)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{suffix}"'
    return response


def _flag(name: str) -> bool:
    return request.args.get(name, "") in ("1", "on", "true")


# --- the dashboard ------------------------------------------------------------------------------


def _dashboard(snapshot: Snapshot, ref: Reference, now: date) -> dict[str, Any]:
    from kitamono.reports.activity import quarterly_needs, quarterly_report
    from kitamono.reports.annual import Year, stale
    from kitamono.reports.targets import followups_needs, followups_report, targets_needs, targets_report

    loaded = snapshot.loaded
    if loaded is None:
        return {}
    fy, q = fiscal_year(now), quarter(now)
    targets = targets_report(targets_needs(ref.targets, now).pick(loaded), ref, now)
    follow = followups_report(followups_needs(now).pick(loaded), ref, now)
    quiet = stale(loaded.cases, ref, Year.of(fy, now))  # type: ignore[arg-type]  # records read as cases
    quarterly = quarterly_report(quarterly_needs(fy, q, now).pick(loaded), ref, fy, q, now)
    return {
        "count": len(loaded),
        "count_fy": loaded.count_received_in(fy),
        "fy": format_fiscal_year(fy),
        "targets": report_view(targets),
        "followups": report_view(follow, head=DASHBOARD_ROWS),
        "stale": {"tables": [table_view(table, head=DASHBOARD_ROWS) for table in quiet.tables],
                  "summary": list(quiet.summary)},
        "quarterly": table_view(quarterly.tables[0]),
        "conflicted": sorted(case.id for case in loaded.cases if case.conflicts),
    }


def prepare(app: Flask) -> None:
    """Load now what the first page (the dashboard) loads as it is asked for: the reference data,
    the report modules it computes with, its templates, the routes' matcher. ``kitamono web``
    does this while the case files are parsed, so that the first page only computes."""
    import kitamono.reports.activity
    import kitamono.reports.annual
    import kitamono.reports.targets  # noqa: F401

    app.extensions["kitamono"]["workspace"].reference()
    for name in ("base.html", "_macros.html", "_banner.html", "dashboard.html"):
        app.jinja_env.get_template(name)
    app.url_map.bind("localhost").match("/")


@pages.get("/")
def dashboard() -> str:
    workspace = _workspace()
    snapshot, ref, now = workspace.snapshot(), workspace.reference(), today()
    data = snapshot.compute(("dashboard", lang(), now), lambda: _dashboard(snapshot, ref, now))
    return render_template("dashboard.html", data=data, snapshot=snapshot, now=now)


# --- the list of cases --------------------------------------------------------------------------

#: The filters of the list: the options of ``kitamono case list``, and the region (振興局).
FILTERS = ("fy", "status", "field", "institution", "municipality", "subprefecture", "plan", "text")


def _sorted(table: Table, key: str | None, descending: bool) -> Table:
    """The rows in the order of one column's values (empty values last), else as they came."""
    if not key or key not in [c.key for c in table.columns]:
        return table
    at = table.position(key)

    def order(row: Sequence[Any]) -> tuple[bool, Any]:
        value = row[at]
        missing = value is None or value is ABSENT
        return (missing != descending, "" if missing else value if not isinstance(value, list) else str(value))

    return table._replace(rows=sorted(table.rows, key=order, reverse=descending))


@pages.get("/cases")
def case_list() -> str | Response | tuple[str, int]:
    from kitamono.listings import CaseFilter, case_list_report

    workspace = _workspace()
    snapshot, ref = workspace.snapshot(), workspace.reference()
    given = {name: request.args.get(name, "").strip() for name in FILTERS}
    sort, descending = request.args.get("sort") or None, _flag("desc")
    error = None
    try:
        chosen = CaseFilter.parse(ref, **{k: v or None for k, v in given.items()})
    except KitamonoError as problem:
        error, chosen = str(problem), CaseFilter()
    everything = _flag("all")  # withdrawn cases too, as ``case list --all``
    key = ("cases", lang(), tuple(given.items()), sort, descending, everything)

    def build() -> Report:
        loaded = workspace.with_withdrawn(snapshot) if everything else snapshot.loaded
        cases = chosen.needs.pick(loaded) if loaded is not None else []
        report = case_list_report(cases, ref, chosen)
        return report._replace(tables=[_sorted(report.tables[0], sort, descending)])

    report = snapshot.compute(key, build) if error is None else None
    download = request.args.get("download")
    if download and report is not None and error is None:
        return _download(report, download, t("web.file_cases"))
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    view = table_view(report.tables[0], head=PAGE_ROWS, skip=(page - 1) * PAGE_ROWS) if report else None
    total = len(report.tables[0].rows) if report else 0
    given["all"] = "1" if everything else ""
    body = render_template(
        "cases.html", view=view, total=total, given=given, error=error, sort=sort, descending=descending,
        page=page, pages=max((total + PAGE_ROWS - 1) // PAGE_ROWS, 1), snapshot=snapshot,
        statuses=[(s, label("status", s)) for s in STATUSES], fields=[(f, ref.field_name(f)) for f in CASE_FIELDS],
        subprefectures=SUBPREFECTURES, plans=list(ref.plans.values()), ref=ref,
        years=snapshot.compute("years", lambda: sorted({str(fiscal_year(c.received_on)) for c in snapshot.cases},
                                                      reverse=True)),
    )  # fmt: skip
    return (body, 400) if error else body


# --- one case -----------------------------------------------------------------------------------


def _case_page(case_id: str, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
               opened: str | None = None, code: int = 200) -> tuple[str, int]:  # fmt: skip
    from kitamono.casework import load_case
    from kitamono.listings import case_history_report, case_show_report
    from kitamono.reports.conflicts import conflicts_report
    from kitamono.reports.suggestion import routing_report
    from kitamono.routing import route_case

    workspace = _workspace()
    repo, ref = workspace.repo, workspace.reference()
    case = load_case(repo, case_id)
    fields = case_show_report(case, ref, with_contacts=True).tables[0]  # the one page that shows contacts
    events, *changes = case_history_report(case, ref).tables
    timeline = zip(table_view(events)["rows"], case.events, strict=True)
    own = repo.local.institution
    return render_template(
        "case.html", case=case, fields=table_view(fields),
        routing=report_view(routing_report(route_case(case, ref), ref)),
        conflicts=table_view(conflicts_report([case], ref).tables[0]) if case.conflicts else None,
        timeline=[(row, _marks(event)) for row, event in timeline], changes=[table_view(c) for c in changes],
        forms=EVENT_FORMS, required=REQUIRED, errors=errors or {}, values=values or {}, opened=opened,
        own=ref.short_name(own) if own else "", institutions=_institution_choices(ref),
        event_label=lambda kind: label("event", kind), outcome_kinds=[(k, ref.outcome_name(k)) for k in ref.outcomes],
        numbers=[(n, f"{n}. {e.date.isoformat()} {label('event', e.type)}") for n, e in enumerate(case.events, 1)],
        case_fields=[(f, ref.field_name(f)) for f in CASE_FIELDS], municipalities=list(ref.municipalities),
    ), code  # fmt: skip


def _marks(event: Any) -> list[str]:
    """What the timeline marks an event with: 取消 (voided), 訂正 (amended)."""
    return [t("correct.col_voided")] * (event.voided is not None) + [t("web.mark_amended")] * bool(event.amendments)


def _institution_choices(ref: Reference) -> list[tuple[str, str]]:
    """(id, short name) of every institution, support institutions first, as the forms offer them."""
    order = {kind: n for n, kind in enumerate(INSTITUTION_KINDS)}
    chosen = sorted(ref.institutions.values(), key=lambda i: (order.get(i.kind, 99), i.id))
    return [(i.id, i.short_name) for i in chosen]


@pages.get("/cases/<case_id>")
def case_page(case_id: str) -> tuple[str, int]:
    return _case_page(case_id)


@pages.post("/cases/<case_id>/record/<kind>")
def record(case_id: str, kind: str) -> Answer | tuple[str, int]:
    from kitamono.casework import EventInput, event_from_input, follow_up_waiver, record_event

    if kind not in EVENT_FORMS:
        abort(404)
    workspace = _workspace()
    repo, ref, now = workspace.repo, workspace.reference(), today()
    values = form_values(("date", "by", "note", "to", "lead", "outcome", "outcome_kind", "no_follow_up", "reason"),
                         ("supporting", "members"))  # fmt: skip
    extra = EVENT_FORMS[kind]
    errors = {name: t("web.required") for name in extra if name in REQUIRED and not values[name]}

    def given() -> EventInput:
        return EventInput(
            kind, values["date"] or None, values["by"] or None, values["note"] or None,  # type: ignore[arg-type]
            to=values["to"] or None if "to" in extra else None,
            lead=values["lead"] or None if "lead" in extra else None,
            supporting=values["supporting"] if "supporting" in extra else (),
            members=values["members"] if "members" in extra else (),
            outcome=values["outcome"] or None if "outcome" in extra else None,
            outcome_kind=values["outcome_kind"] or None if "outcome_kind" in extra else None,
            follow_up_waiver=follow_up_waiver(bool(values["no_follow_up"]), values["reason"] or None)
            if "reason" in extra else None,
        )  # fmt: skip

    if not errors and write_refused(errors, lambda: record_event(
            repo, case_id, event_from_input(given(), ref, now, repo.local.institution), ref, now)):  # fmt: skip
        flash(t("case.event_recorded", id=case_id, event=label("event", kind)))
        _auto_commit(repo, case_id)
        return redirect(url_for("web.case_page", case_id=case_id), 303)
    return _case_page(case_id, errors, values, kind, 400)


def form_values(texts: Iterable[str], lists: Iterable[str] = ()) -> dict[str, Any]:
    """What a form sent, as typed (trimmed; the lists of a multiple choice), to check and to show again."""
    values: dict[str, Any] = {name: request.form.get(name, "").strip() for name in texts}
    values.update((name, request.form.getlist(name)) for name in lists)
    return values


def write_refused(errors: dict[str, str], write: Callable[[], object]) -> bool:
    """``write()``; False with the command line's message in ``errors`` (by field, else ``_form``) when refused."""
    try:
        write()
    except FieldError as error:
        errors[error.field] = str(error)
    except KitamonoError as error:
        errors["_form"] = str(error)
    return not errors


def _auto_commit(repo: Any, case_id: str) -> None:
    """One commit of the case written, when ``auto_commit: true``, as every writing command makes."""
    from kitamono import gitsync

    for message in gitsync.auto_commit(repo, ["web", case_id], [case_id]):
        flash(message, "warning")


# --- a new inquiry ------------------------------------------------------------------------------

NEW_FIELDS = ("company", "municipality", "title", "summary", "received_on", "received_by", "channel", "field",
              "contact_name", "contact_phone", "contact_email", "bank", "note")  # fmt: skip
NEW_REQUIRED = ("company", "municipality", "title", "received_by", "channel")


def _new_values() -> dict[str, str]:
    source = request.form if request.method == "POST" else request.args
    return {name: source.get(name, "").strip() if name != "summary" else source.get(name, "") for name in NEW_FIELDS}


def _checked_new(values: dict[str, str], ref: Reference, now: date, required: Iterable[str]) -> dict[str, str]:
    """What is wrong with each value typed, field by field, by the rules ``case new`` applies."""
    errors = {name: t("web.required") for name in required if not values[name]}
    checks = {
        "received_on": lambda v: parse_date(v, today=now),
        "municipality": ref.municipality,
        "received_by": ref.institution,
        "bank": ref.institution,
    }
    for name, check in checks.items():
        if values[name] and name not in errors:
            try:
                check(values[name])
            except InputError as error:
                errors[name] = str(error)
    if values["channel"] and values["channel"] not in CHANNELS:
        errors["channel"] = t("case.bad_channel", value=values["channel"], choices=", ".join(CHANNELS))
    if values["field"] and values["field"] not in CASE_FIELDS:
        errors["field"] = t("case.bad_field", value=values["field"], choices=", ".join(CASE_FIELDS))
    return errors


def _new_case(values: dict[str, str], now: date) -> Any:
    from kitamono.casework import NewCase

    return NewCase(
        company=values["company"], municipality=values["municipality"], title=values["title"],
        received_by=values["received_by"], channel=values["channel"],
        received_on=parse_date(values["received_on"], today=now) if values["received_on"] else now,
        summary=values["summary"], field=values["field"] or None, contact_name=values["contact_name"] or None,
        contact_phone=values["contact_phone"] or None, contact_email=values["contact_email"] or None,
        bank=values["bank"] or None, note=values["note"] or None,
    )  # fmt: skip


def _suggestion(values: dict[str, str], ref: Reference) -> dict[str, Any] | None:
    """The routing suggestion for what was typed, as ``case new`` shows it once the case is saved:
    the same text (title, then summary), receiver, field and bank go to the same ``route``."""
    from kitamono.reports.suggestion import routing_report
    from kitamono.routing import Inquiry, route

    if not values["municipality"] or not (values["title"] or values["summary"]):
        return None
    inquiry = Inquiry(
        text=f"{values['title']}\n{values['summary']}", municipality=values["municipality"],
        received_by=values["received_by"] or ref.center().id, title=values["title"], field=values["field"] or None,
        bank=values["bank"] or None,
    )  # fmt: skip
    return report_view(routing_report(route(inquiry, ref), ref))


def _new_form(values: dict[str, str], errors: dict[str, str], suggestion: dict[str, Any] | None,
              warnings: Sequence[str] = (), code: int = 200) -> tuple[str, int]:  # fmt: skip
    ref = _workspace().reference()
    return render_template(
        "new.html", values=values, errors=errors, suggestion=suggestion, warnings=warnings,
        municipalities=list(ref.municipalities), institutions=_institution_choices(ref),
        channels=[(c, label("channel", c)) for c in CHANNELS], fields=[(f, ref.field_name(f)) for f in CASE_FIELDS],
    ), code  # fmt: skip


#: How the new-case page tells that the field was guessed: choose it in the form, not with --field.
FIELD_NOTICE = "web.field_suggested"


@pages.get("/new")
def new_form() -> tuple[str, int]:
    workspace = _workspace()
    own = workspace.repo.local.institution
    values = dict.fromkeys(NEW_FIELDS, "")
    values["received_by"] = workspace.reference().short_name(own) if own else ""
    return _new_form(values, {}, None)


@pages.get("/new/suggestion")
def new_suggestion() -> str:
    """The suggestion alone, for the page's script to show while the form is filled in."""
    values = _new_values()
    ref = _workspace().reference()
    errors = _checked_new(values, ref, today(), ())
    error = next((errors[k] for k in ("municipality", "received_by", "bank", "field") if k in errors), None)
    suggestion = None
    if error is None:
        try:
            suggestion = _suggestion(values, ref)
        except KitamonoError as problem:
            error = str(problem)
    return render_template("_suggestion.html", suggestion=suggestion, problem=error)


@pages.post("/new")
def new_case() -> Answer | tuple[str, int]:
    from kitamono.casework import build_case, log_case

    workspace = _workspace()
    repo, ref, now = workspace.repo, workspace.reference(), today()
    values = _new_values()
    saving = request.form.get("action") == "save"
    errors = _checked_new(values, ref, now, NEW_REQUIRED if saving else ())
    suggestion = None
    warnings: list[str] = []
    if not errors:
        try:
            suggestion = _suggestion(values, ref)
            if saving:
                logged = log_case(repo, _new_case(values, now), ref, now, field_notice=FIELD_NOTICE)
                for message in logged.warnings:
                    flash(message, "warning")
                flash(t("case.created", id=logged.case.id))
                _auto_commit(repo, logged.case.id)
                return redirect(url_for("web.case_page", case_id=logged.case.id), 303)
            if all(values[name] for name in NEW_REQUIRED):
                warnings = build_case(_new_case(values, now), ref, now, field_notice=FIELD_NOTICE).warnings
        except KitamonoError as error:
            errors["_form"] = str(error)
    return _new_form(values, errors, suggestion, warnings, 400 if errors else 200)


# --- reports ------------------------------------------------------------------------------------


def _as_of(now: date) -> tuple[date, str | None]:
    text = request.args.get("as_of", "").strip()
    if not text:
        return now, None
    return parse_date(text, today=now), text


@pages.get("/reports")
def reports() -> str | Response:
    from kitamono.reports.activity import choose_quarter, quarterly_needs, quarterly_report

    when, _ = _as_of(today())
    fy, q = choose_quarter(request.args.get("fy") or None, request.args.get("quarter") or None, when)
    return _report_page("quarterly", (fy, q), when, f"quarterly-{fy}Q{q}", lambda loaded, ref, era: quarterly_report(
        quarterly_needs(fy, q, when).pick(loaded) if loaded is not None else [], ref, fy, q, when, era))  # fmt: skip


@pages.get("/reports/annual")
def annual() -> str | Response:
    from kitamono.reports.annual import annual_needs, annual_report, choose_fiscal_year

    when, _ = _as_of(today())
    fy = choose_fiscal_year(request.args.get("fy") or None, when)
    return _report_page("annual", (fy, None), when, f"annual-{fy}", lambda loaded, ref, era: annual_report(
        annual_needs(fy, when).pick(loaded) if loaded is not None else [], ref, fy, when, era))  # fmt: skip


def _report_page(kind: str, period: tuple[int, int | None], when: date, name: str,
                 build: Callable[[Any, Reference, bool], Report]) -> str | Response:  # fmt: skip
    """A report's page (or, with ``?download=``, its file): built once per change of the cases and
    choice, and its tables rendered once too (at 10,000 cases the annual review has thousands of rows)."""
    from markupsafe import Markup

    workspace = _workspace()
    snapshot, ref = workspace.snapshot(), workspace.reference()
    era = _flag("era")
    key = (kind, lang(), period, when, era)
    report = snapshot.compute(key, lambda: build(snapshot.loaded, ref, era))
    download = request.args.get("download")
    if download:
        return _download(report, download, name, era)
    shown = snapshot.compute((*key, "page"),
                             lambda: Markup(render_template("_report.html", report=report_view(report, era))))
    return render_template("reports.html", kind=kind, title=report.title, shown=shown, fy=period[0], q=period[1],
                           when=when, era=era, years=_years(snapshot, when), snapshot=snapshot)  # fmt: skip


def _years(snapshot: Snapshot, when: date) -> list[int]:
    """The 年度 a picker offers: from the first case received to the one of ``when``."""
    first = snapshot.compute("first year", lambda: min((fiscal_year(c.received_on) for c in snapshot.cases),
                                                       default=fiscal_year(when)))  # fmt: skip
    return list(range(fiscal_year(when), min(first, fiscal_year(when)) - 1, -1))


# --- reference data -----------------------------------------------------------------------------

REFERENCE_PAGES = ("fields", "institutions", "plans", "municipalities")


@pages.get("/reference")
def reference() -> str:
    from kitamono.listings import fields_report, institutions_report, municipalities_report, plans_report

    ref = _workspace().reference()
    what = request.args.get("what", "institutions")
    if what not in REFERENCE_PAGES:
        abort(404)
    kind = request.args.get("kind") or None
    if kind is not None:
        kind = ref.choice("kind", kind)
    report = {
        "fields": lambda: fields_report(ref),
        "institutions": lambda: institutions_report(ref, kind),
        "plans": lambda: plans_report(ref),
        "municipalities": lambda: municipalities_report(ref),
    }[what]()
    words = request.args.get("q", "").strip()
    view = report_view(report)
    if words:  # a search over what is shown: every word somewhere in the row
        folded = words.casefold().split()
        for table in view["tables"]:
            table["rows"] = [row for row in table["rows"] if all(w in " ".join(row).casefold() for w in folded)]
    return render_template("reference.html", view=view, what=what, kind=kind, q=words, pages=REFERENCE_PAGES,
                           kinds=[(k, label("kind", k)) for k in INSTITUTION_KINDS])  # fmt: skip


# --- sharing ------------------------------------------------------------------------------------


def _sync_page(outcome: list[tuple[str, str]] | None = None, arrived: Report | None = None,
               code: int = 200) -> tuple[str, int]:  # fmt: skip
    from kitamono import gitsync
    from kitamono.reports.conflicts import conflicts_report

    workspace = _workspace()
    snapshot = workspace.snapshot()
    state = gitsync.sync_state(workspace.repo)
    ref = workspace.reference()
    conflicted = [(case, table_view(conflicts_report([case], ref).tables[0]))
                  for case in gitsync.cases_with_conflicts(workspace.repo, snapshot.cases)]  # fmt: skip
    return render_template(
        "sync.html", state=state, conflicted=conflicted, problems=snapshot.problems, error=snapshot.error,
        outcome=outcome or [], arrived=report_view(arrived) if arrived else None,
    ), code  # fmt: skip


@pages.get("/sync")
def sync_page() -> tuple[str, int]:
    return _sync_page()


@pages.post("/sync")
def sync() -> tuple[str, int]:
    """``kitamono sync``, its messages as the command line words them (``sync_said``, for a page)."""
    from kitamono import gitsync
    from kitamono.casework import check_before_push
    from kitamono.reports.history import sync_report
    from kitamono.reports.syncing import sync_said

    workspace = _workspace()
    try:
        result = gitsync.sync(workspace.repo, lambda r: check_before_push(r, today()))
    except KitamonoError as error:
        return _sync_page([("error", str(error))], code=400)
    said = sync_said(result, workspace.reference(), page=True)
    lines: list[tuple[str, str]] = [(line.kind, line.text) for line in said.lines]
    if said.failure is not None:
        lines.append(("error", said.failure))
    arrived = None
    if said.arrivals and result.arrived:  # listed with their company and title, as the command line lists them
        loaded = workspace.with_withdrawn(workspace.snapshot())  # the cases as they are now, after the sync
        wanted = {change.case_id for change in result.arrived}
        arrived = sync_report(result, {case.id: case for case in (loaded.cases if loaded else []) if case.id in wanted})
    return _sync_page(lines, arrived, 400 if said.failed else 200)


# --- signing in (served beyond this machine only) -----------------------------------------------


@pages.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Answer | tuple[str, int]:
    import hmac

    from flask import session

    error = None
    token = current_app.extensions["kitamono"]["token"]
    if request.method == "POST":
        given = request.form.get("token", "").strip().encode()
        if token and hmac.compare_digest(given, token.encode()):
            session["signed_in"] = True
            target = request.args.get("next", "/")
            return redirect(target if target.startswith("/") and not target.startswith("//") else "/", 303)
        error = t("web.token_wrong")
    return render_template("sign_in.html", error=error), 401 if error else 200
