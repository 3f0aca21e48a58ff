"""The plan's targets against the cases, and the follow-ups each supported case owes.

``targets`` is the plan's table (new 10 and continuing per period) beside what the cases show;
``followups`` lists every follow-up year: overdue first, then due this 年度, then done. The
counting itself is ``kitamono.followup``; this module lays it out::

    kitamono targets --format json
    {"as_of": "2026-11-28", "institution": null, "periods": [{"label": "2017–2018年度",
     "fiscal_years": [2017, 2018], "target": {"new": 10, ...}, "actual": {...}, ...}], ...}
"""

from __future__ import annotations

from datetime import date
from typing import Any

from kitamono.fiscal import fiscal_year, format_date, format_fiscal_year, format_period
from kitamono.followup import (
    FollowupList,
    Obligation,
    PeriodCount,
    TargetCount,
    count_targets,
    follow_up_count,
    followups,
    plan_starts,
)
from kitamono.i18n import t
from kitamono.models import Case, Targets
from kitamono.reference import Reference
from kitamono.reports.needs import Needs
from kitamono.reports.rows import Column, Report, Rows, Table, Total

#: How many follow-up rows a terminal shows before it says how many more there are.
SHOWN_AT_A_TERMINAL = 50


def _state_label(state: str) -> str:
    return t(f"reports.state.{state}")


def rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _period_column(era: bool, heading: str) -> Column:
    return Column("fiscal_years", heading, show=lambda years: format_period(years, era))


# --- targets --------------------------------------------------------------------------------------

_PERIOD_KEYS = (
    "label", "fiscal_years", "target.new", "target.continuing", "target.total",
    "actual.new", "actual.continuing", "actual.total", "expected_continuing", "status",
)  # fmt: skip


def targets_table(count: TargetCount, era: bool = False) -> Table:
    """The plan's periods: targets, actuals, the gap, the rate and the running total; then the
    plan's total row."""
    columns = [
        _period_column(era, t("reports.col.period")),
        Column("target.new", t("reports.col.target_new"), numeric=True),
        Column("actual.new", t("reports.col.actual_new"), numeric=True),
        Column("target.continuing", t("reports.col.target_continuing"), numeric=True),
        Column("expected_continuing", t("reports.col.expected_continuing"), numeric=True),
        Column("actual.continuing", t("reports.col.actual_continuing"), numeric=True),
        Column("target.total", t("reports.col.target_total"), numeric=True),
        Column("actual.total", t("reports.col.actual_total"), numeric=True),
        Column("gap", t("reports.col.gap"), numeric=True, only="table"),
        Column("percent", t("reports.col.percent"), numeric=True, only="table"),
        Column("cumulative", t("reports.col.cumulative"), numeric=True, only="table"),
        Column("status", t("reports.col.state"), show=_state_label),
        Column("label", "label", only="json"),
    ]
    rows = [
        [list(r.fiscal_years), r.target_new, r.new, r.target_continuing, r.expected_continuing, r.continuing,
         r.target_total, r.total, r.gap, rounded(r.percent), running, r.state, r.label]
        for r, running in zip(count.periods, count.cumulative(), strict=True)
    ]  # fmt: skip
    p, target, actual = count.periods, count.target_total, count.actual_total
    total = [
        t("reports.plan_total_row"), sum(r.target_new or 0 for r in p), sum(r.new for r in p),
        sum(r.target_continuing or 0 for r in p), sum(r.expected_continuing for r in p),
        sum(r.continuing for r in p), target, actual, actual - target,
        rounded(100.0 * actual / target) if target else None, actual, "", None,
    ]  # fmt: skip
    note = t("reports.targets.note", actual=actual, target=target,
             percent=f"{100.0 * actual / target:.1f}" if target else "-")  # fmt: skip
    return Table(t("reports.targets.table"), columns, rows, note=note, total=total, json_order=_PERIOD_KEYS)


def after_plan_table(count: TargetCount, era: bool = False, *, targets: Targets) -> Table:
    """The years after the plan, one line each: actuals only (実績のみ), no target, outside the
    plan's totals. ``targets`` (the plan's table) lets the note name its years."""
    columns = [
        _period_column(era, t("reports.col.fiscal_year")),
        Column("actual.new", t("reports.col.actual_new"), numeric=True),
        Column("expected_continuing", t("reports.col.expected_continuing"), numeric=True),
        Column("actual.continuing", t("reports.col.actual_continuing"), numeric=True),
        Column("percent", t("reports.col.rate"), numeric=True, only="table"),
        Column("actual.total", t("reports.col.actual_total"), numeric=True),
        Column("status", t("reports.col.state"), show=_state_label),
        Column("label", "label", only="json"),
    ]
    rows = [
        [list(r.fiscal_years), r.new, r.expected_continuing, r.continuing,
         rounded(100.0 * r.continuing / r.expected_continuing) if r.expected_continuing else None, r.total, r.state,
         r.label]
        for r in count.after_plan
    ]  # fmt: skip
    order = ("label", "fiscal_years", "actual.new", "actual.continuing", "actual.total", "expected_continuing",
             "status")  # fmt: skip
    return Table(t("reports.targets.after_plan"), columns, rows, note=after_plan_note(count, targets, era),
                 json_order=order)  # fmt: skip


def after_plan_note(count: TargetCount, targets: Targets, era: bool = False) -> str:
    """What the post-plan lines are, the plan's last year and the follow-ups that run past it
    named as ``--era`` asks (2022年度 or 令和4年度)."""
    plan_years = [fy for p in count.periods for fy in p.fiscal_years]
    back = follow_up_count(targets)
    last_starts = [p.fiscal_years for p in count.periods[-back:]] if back else []
    until = max(plan_years) + back
    return t(
        "reports.targets.after_plan_note", end=format_fiscal_year(max(plan_years), era),
        starts=t("list.sep").join(format_period(p, era) for p in last_starts), until=format_fiscal_year(until, era),
    )  # fmt: skip


def targets_document(count: TargetCount, table: Table, after_plan: Table) -> dict[str, Any]:
    return {
        "as_of": count.as_of,
        "institution": count.institution,
        "periods": Rows(table),
        "total": Total(table, {"target": "target.total", "actual": "actual.total"}),
        "after_plan": Rows(after_plan),
    }


# --- one institution's contribution to the joint targets -----------------------------------------

_SHARE_KEYS = (
    "label", "fiscal_years", "target.new", "target.continuing", "target.total", "joint_actual.new",
    "joint_actual.continuing", "joint_actual.total", "actual.new", "actual.continuing", "actual.total",
    "expected_continuing", "share", "status",
)  # fmt: skip


def share(part: int, whole: int) -> float | None:
    """``part`` as a percentage of ``whole`` (one decimal), None when there is no whole."""
    return rounded(100.0 * part / whole) if whole else None


def _joint_actual_columns() -> list[Column]:
    """The joint actual of a period: its total in the table, all three numbers in JSON."""
    return [
        Column("joint_actual.new", "joint_actual.new", only="json"),
        Column("joint_actual.continuing", "joint_actual.continuing", only="json"),
        Column("joint_actual.total", t("reports.col.joint_actual"), numeric=True),
    ]


def _joint_actual(joint: PeriodCount) -> list[Any]:
    return [joint.new, joint.continuing, joint.total]


def _own_part_columns(name: str) -> list[Column]:
    """One institution's part of a period's joint actual (``name``: its short name), and its share."""
    return [
        Column("actual.new", t("reports.col.own_new", name=name), numeric=True),
        Column("expected_continuing", t("reports.col.own_expected", name=name), numeric=True),
        Column("actual.continuing", t("reports.col.own_continuing", name=name), numeric=True),
        Column("actual.total", t("reports.col.own_total", name=name), numeric=True),
        Column("share", t("reports.col.share"), numeric=True),
    ]


def _own_part(mine: PeriodCount, joint: PeriodCount) -> list[Any]:
    return [mine.new, mine.expected_continuing, mine.continuing, mine.total, share(mine.total, joint.total)]


def contribution_table(mine: TargetCount, joint: TargetCount, ref: Reference, era: bool = False) -> Table:
    """The plan's periods for one institution: the joint target and the joint actual, this
    institution's part of it (the supported cases it leads or supports) and its share. The
    target is joint (1(5)), so the state is the joint one: no institution has a target alone."""
    name = ref.short_name(mine.institution)
    columns = [
        _period_column(era, t("reports.col.period")),
        Column("target.new", "target.new", only="json"),
        Column("target.continuing", "target.continuing", only="json"),
        Column("target.total", t("reports.col.joint_target"), numeric=True),
        *_joint_actual_columns(),
        Column("status", t("reports.col.joint_state"), show=_state_label),
        *_own_part_columns(name),
        Column("label", "label", only="json"),
    ]
    rows = [
        [list(r.fiscal_years), r.target_new, r.target_continuing, r.target_total, *_joint_actual(j), j.state,
         *_own_part(r, j), r.label]
        for r, j in zip(mine.periods, joint.periods, strict=True)
    ]  # fmt: skip
    p, q = mine.periods, joint.periods
    total = [
        t("reports.plan_total_row"), None, None, mine.target_total, sum(j.new for j in q),
        sum(j.continuing for j in q), joint.actual_total, "", sum(r.new for r in p),
        sum(r.expected_continuing for r in p), sum(r.continuing for r in p), mine.actual_total,
        share(mine.actual_total, joint.actual_total), None,
    ]  # fmt: skip
    note = t("reports.targets.contribution_note", name=name, actual=mine.actual_total, joint=joint.actual_total,
             target=mine.target_total)  # fmt: skip
    return Table(t("reports.targets.contribution", name=name), columns, rows, note=note, total=total,
                 json_order=_SHARE_KEYS)  # fmt: skip


def contribution_after_plan(mine: TargetCount, joint: TargetCount, ref: Reference, era: bool = False) -> Table:
    """The years after the plan for one institution: the joint actual, its part and its share."""
    name = ref.short_name(mine.institution)
    columns = [
        _period_column(era, t("reports.col.fiscal_year")),
        *_joint_actual_columns(),
        *_own_part_columns(name),
        Column("status", t("reports.col.state"), show=_state_label),
        Column("label", "label", only="json"),
    ]
    rows = [
        [list(r.fiscal_years), *_joint_actual(j), *_own_part(r, j), r.state, r.label]
        for r, j in zip(mine.after_plan, joint.after_plan, strict=True)
    ]  # fmt: skip
    order = ("label", "fiscal_years", "joint_actual.new", "joint_actual.continuing", "joint_actual.total",
             "actual.new", "actual.continuing", "actual.total", "expected_continuing", "share", "status")  # fmt: skip
    return Table(t("reports.targets.after_plan"), columns, rows, note=after_plan_note(mine, ref.targets, era),
                 json_order=order)  # fmt: skip


def contribution_document(mine: TargetCount, joint: TargetCount, table: Table, after_plan: Table) -> dict[str, Any]:
    return {
        "as_of": mine.as_of,
        "institution": mine.institution,
        "periods": Rows(table),
        "total": Total(table, {"target": "target.total", "actual": "actual.total",
                               "joint_actual": "joint_actual.total", "share": "share"}),
        "after_plan": Rows(after_plan),
    }  # fmt: skip


def targets_needs(targets: Targets, as_of: date) -> Needs:
    """Only cases started from the plan's first day to ``as_of`` can count (after the plan, on
    the post-plan lines)."""
    first, last = plan_starts(targets, as_of)
    return Needs.started_by(last, since=first)


def targets_report(cases: list[Case], ref: Reference, as_of: date, institution: str | None = None,
                   era: bool = False) -> Report:  # fmt: skip
    """The plan's target table against what the cases show on ``as_of``; for one institution,
    its contribution to the joint actual beside the joint target."""
    joint = count_targets(cases, ref.targets, as_of)
    title = t("reports.targets.title", as_of=format_date(as_of, era))
    if not institution:
        tables = [targets_table(joint, era), after_plan_table(joint, era, targets=ref.targets)]
        return Report(title, tables, targets_document(joint, *tables))
    mine = count_targets(cases, ref.targets, as_of, institution)
    title += t("reports.for_institution", name=ref.short_name(institution))
    tables = [contribution_table(mine, joint, ref, era), contribution_after_plan(mine, joint, ref, era)]
    summary = [t("reports.targets.institution_note")]
    return Report(title, tables, contribution_document(mine, joint, *tables), summary=summary)


# --- follow-ups -----------------------------------------------------------------------------------

_OBLIGATION_KEYS = ("id", "fiscal_year", "lead", "last_contact", "company", "started", "done_on", "case_closed")


def followups_table(items: list[Obligation], ref: Reference, title: str, era: bool = False,
                    note: str | None = None, with_done: bool = False, **more: Any) -> Table:  # fmt: skip
    """The follow-up periods as rows; the 実施日 column only when done ones are listed (else it is
    always empty, and only in the JSON)."""
    columns = [
        Column("state", t("reports.col.state"), show=lambda s: t(f"reports.followup.{s}"), only="table"),
        Column("id", t("col.id")), Column("company", t("col.company")), Column("started", t("reports.col.started")),
        Column("period", t("reports.col.follow_up_year"), show=lambda p: format_period(p, era), only="table"),
        Column("lead", t("col.lead"), show=ref.short_name), Column("last_contact", t("reports.col.last_contact")),
        Column("done_on", t("reports.col.done_on"), only=None if with_done else "json"),
        Column("fiscal_year", "fiscal_year", only="json"),
        Column("case_closed", "case_closed", only="json"),
    ]  # fmt: skip
    rows = [
        [i.state, i.case.id, i.case.company.name, i.started, i.period, i.lead, i.last_contact, i.done_on, i.fiscal_year,
         i.closed]
        for i in items
    ]
    return Table(title, columns, rows, note=note, json_order=_OBLIGATION_KEYS, **more)


def followups_needs(as_of: date) -> Needs:
    """A case owes follow-ups only once support has started."""
    return Needs.started_by(as_of)


def followups_report(cases: list[Case], ref: Reference, as_of: date, institution: str | None = None,
                     era: bool = False, with_done: bool = False, closed_apart: bool = False) -> Report:  # fmt: skip
    """Every supported case's follow-up years on ``as_of``: overdue first, then due, then done.

    The table lists what staff must act on (overdue and due) and counts the done ones, unless
    ``with_done``; a terminal shows the first ``SHOWN_AT_A_TERMINAL`` rows and how many more
    there are, unless ``with_done``. A closed case owes its follow-ups like any other (1(5));
    ``closed_apart`` lists those of closed cases in a table of their own. The JSON always holds
    all three lists, each row saying whether its case is closed (``case_closed``).
    """
    found: FollowupList = followups(cases, ref.targets, as_of, institution)
    title = t("reports.followups.title", as_of=format_date(as_of, era))
    if institution:
        title += t("reports.for_institution", name=ref.short_name(institution))
    open_items = found.overdue + found.due
    note = t(
        "reports.followups.note", overdue=len(found.overdue), due=len(found.due), done=len(found.done),
        fy=format_fiscal_year(fiscal_year(as_of), era), waived=len(found.waived),
        closed=sum(1 for i in open_items if i.closed),
    )  # fmt: skip
    if not with_done and found.done:
        note += t("reports.followups.done_hidden")
    listed = open_items + (found.done if with_done else [])
    apart = [i for i in listed if i.closed] if closed_apart else []
    if closed_apart:
        listed = [i for i in listed if not i.closed]
    head = None if with_done else SHOWN_AT_A_TERMINAL
    more = t("reports.followups.more", n=len(listed) - SHOWN_AT_A_TERMINAL) if head and len(listed) > head else None
    table = followups_table(listed, ref, title, era, note, with_done, head=head, more=more)
    shown = [table]
    if closed_apart:
        shown.append(followups_table(apart, ref, t("reports.followups.closed_title"), era,
                                     t("reports.followups.closed_note"), with_done))  # fmt: skip
    every = followups_table(open_items + found.done, ref, title, only="json")
    document = {
        "as_of": as_of,
        "institution": institution,
        "overdue": Rows(every, ("state", "overdue")),
        "due": Rows(every, ("state", "due")),
        "done": Rows(every, ("state", "done")),
    }
    return Report(title, [*shown, every], document)
