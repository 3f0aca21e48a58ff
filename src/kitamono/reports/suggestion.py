"""A routing suggestion as people read it: ``kitamono route`` and the lines ``case new`` shows.

``kitamono.routing`` decides who should handle an inquiry and why, with institution ids; this
module lays the decisions out by name, with the reasons beside them. Its JSON is the suggestion
itself, ids and all, for tools::

    kitamono route hro-2019-0001 --format json
    {"case": "hro-2019-0001", "received_by": "hro", ..., "lead": "hro", "coordinator": null, ...}
"""

from __future__ import annotations

from collections.abc import Sequence

from kitamono.i18n import t
from kitamono.reference import Reference
from kitamono.reports.rows import Column, Report, Table, Values
from kitamono.routing import Routing, center_text, needs_text


def routing_report(routing: Routing, ref: Reference) -> Report:
    """The suggestion as two tables for people, the decisions (names) then the reasons; its JSON
    is the suggestion itself, with institution ids and the reasons as lines."""
    title = t("routing.title_case", id=routing.case_id) if routing.case_id else t("routing.title")
    decisions = Table(title, [Column("item", t("col.item")), Column("value", t("col.value"))],
                      [[label_, value] for label_, value in _decisions(routing, ref)])  # fmt: skip
    reasons = Table(
        t("routing.title_reasons"),
        [Column("clause", t("routing.col_clause")), Column("reason", t("routing.col_reason")),
         Column("line", "line", only="json")],
        [[r.clause, r.text, str(r)] for r in routing.reasons],
    )  # fmt: skip
    document = {
        "case": routing.case_id,
        "received_by": routing.received_by,
        "municipality": routing.municipality,
        "field": routing.field,
        "clause": routing.clause,
        "lead": routing.lead,
        "coordinator": routing.coordinator,
        "supporting": list(routing.supporting),
        "regional": list(routing.regional),
        "academia": list(routing.academia),
        "external": list(routing.external),
        "team": list(routing.team),
        "team_roles": _roles(routing),
        "government": list(routing.government),
        "plan_fit": {
            "plan": routing.plan_fit.plan,
            "plans": list(routing.plan_fit.plans),
            "fits": routing.plan_fit.fits,
        },
        "needs": [{"need": m.need, "matched": list(m.matched)} for m in routing.needs],
        "reasons": Values(reasons, "line"),
    }
    return Report(title, [decisions, reasons], document)


def _roles(routing: Routing) -> dict[str, str | None] | None:
    """Who fills each letter of a suggested team (ids; ``industry`` is the company's name)."""
    roles = routing.team_roles
    if roles is None:
        return None
    return {"industry": roles.industry, "academia": roles.academia, "government": roles.government,
            "finance": roles.finance, "coordinator": roles.coordinator}  # fmt: skip


def suggestion_lines(routing: Routing, ref: Reference) -> list[str]:
    """A few lines for ``case new``: the suggestion at a glance and how to see why / record it."""
    lines = [t("routing.suggestion_head", clause=routing.clause)]
    shown = {"routing.row_lead", "routing.row_coordinator", "routing.row_supporting", "routing.row_regional",
             "routing.row_academia", "routing.row_external", "routing.row_government",
             "routing.row_team"}  # fmt: skip
    for key, value in _decisions(routing, ref, keys=True):
        if key in shown and value:
            lines.append(f"  {t(key)}: {value}")
    if routing.case_id:
        lines.append("  " + t("routing.suggestion_hint", id=routing.case_id))
    return lines


def _decisions(routing: Routing, ref: Reference, keys: bool = False) -> list[tuple[str, str]]:
    def names(ids: Sequence[str]) -> str:
        return "、".join(ref.short_name(i) for i in ids)

    fit = routing.plan_fit
    if not fit.plans:
        fit_text = t("routing.fit_no_plan")
    elif routing.field == "other":
        fit_text = t("routing.fit_unknown")
    else:
        fit_text = t("routing.fit_yes") if fit.fits else t("routing.fit_no")
    pairs = [
        ("routing.row_received_by", ref.short_name(routing.received_by)),
        ("routing.row_municipality", f"{routing.municipality}({routing.subprefecture})"),
        ("routing.row_field", ref.field_name(routing.field)),
        ("routing.row_needs", needs_text([m.need for m in routing.needs]) or t("routing.none_recognised")),
        ("routing.row_clause", f"3(2)②{routing.clause}"),
        ("routing.row_lead", ref.short_name(routing.lead)),
        ("routing.row_coordinator", center_text(ref) if routing.coordinator else ""),
        ("routing.row_supporting", names(routing.supporting)),
        ("routing.row_regional", names(routing.regional)),
        ("routing.row_academia", names(routing.academia)),
        ("routing.row_external", names(routing.external)),
        ("routing.row_government", names(routing.government)),
        ("routing.row_team", names(routing.team)),
        ("routing.row_plan", "、".join(ref.plans[p].name for p in fit.plans) or t("routing.fit_no_plan")),
        ("routing.row_fit", fit_text),
    ]
    return pairs if keys else [(t(k), v) for k, v in pairs]
