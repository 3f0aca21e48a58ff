"""The year-end review (section 3(2)④ of the plan), in its seven sections.

Each section is a function from the cases of a 年度 to its tables, its keys in the JSON and its
line of the written summary; ``annual_report`` puts them in order:

1. ``activity``: each institution's and each field's activity, and the four quarters;
2. ``targets``: the plan's targets against the cases, as they stood at the year's end;
3. ``compliance``: the follow-ups owed in the year, done or missing, by the year support began;
4. ``groups``: the cases by field, by basic plan and by 振興局;
5. ``referrals``: who referred cases to whom;
6. ``stale``: cases open for long without an event;
7. ``outcomes``: the verification of effects (3(2)④): closed cases by outcome kind, supported
   cases with an approved 地域経済牽引事業計画 per period (1(5)), the median days from receipt to
   start and from start to the first follow-up, and the referrals that led to a start;
8. ``overview``: the written summary and the charts of the HTML page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from statistics import median
from typing import Any

from kitamono.cases import counted_events, events_until, start_event, status, status_after
from kitamono.errors import InputError
from kitamono.fiscal import (
    fiscal_year,
    format_date,
    format_fiscal_year,
    format_period,
    fy_bounds,
    parse_fiscal_year,
    quarter_bounds,
)
from kitamono.followup import PeriodCount, count_targets, lead_named, named_at_start, obligations, period_bounds
from kitamono.i18n import label, t
from kitamono.models import CASE_FIELDS, SUBPREFECTURES, Case, EventLike
from kitamono.reference import Reference
from kitamono.reports.activity import (
    counts,
    listed_institutions,
    measure_columns,
    tally,
    tally_document,
    tally_tables,
)
from kitamono.reports.needs import Needs
from kitamono.reports.rows import Chart, Column, Report, Rows, Table, Total
from kitamono.reports.targets import after_plan_table, followups_table, rounded, targets_document, targets_table

#: A case with no event for longer than this is listed in the year-end review.
STALE_DAYS = 180


def choose_fiscal_year(fy_text: str | None, as_of: date) -> int:
    """The 年度 a year-end review covers: ``--fy``, else the last one ended by ``as_of``."""
    fy = parse_fiscal_year(fy_text) if fy_text else fiscal_year(as_of) - 1
    if fy_bounds(fy)[0] > as_of:
        raise InputError(t("reports.year_not_begun", fy=format_fiscal_year(fy), as_of=as_of))
    return fy


def annual_needs(fy: int, as_of: date) -> Needs:
    """Every case: a case open since long before the year is still listed if it went quiet."""
    return Needs()


@dataclass(frozen=True)
class Year:
    """The 年度 a review covers: its first day, the last day seen (its end, or ``as_of`` before
    it), its end, and whether dates are shown in 和暦."""

    fy: int
    first: date
    last: date
    end: date
    era: bool = False

    @classmethod
    def of(cls, fy: int, as_of: date, era: bool = False) -> Year:
        first, end = fy_bounds(fy)
        return cls(fy, first, min(end, as_of), end, era)

    @property
    def name(self) -> str:
        return format_fiscal_year(self.fy, self.era)

    def holds(self, day: date) -> bool:
        return self.first <= day <= self.last


@dataclass(frozen=True)
class Section:
    """One part of the review: its tables, its keys in the JSON, its lines of the summary."""

    tables: list[Table]
    document: dict[str, Any]
    summary: list[str] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)


# --- 1. activity ----------------------------------------------------------------------------------


def activity(cases: list[Case], ref: Reference, year: Year) -> Section:
    """The year's activity by institution and by field, and each quarter's totals."""
    found = tally(cases, year.first, year.last, ref, listed_institutions(ref))  # every support institution
    by_institution, by_field = tally_tables(found, ref, t("reports.annual.by_institution", fy=year.name),
                                            t("reports.annual.by_field_activity", fy=year.name))  # fmt: skip
    rows = []
    for q in range(1, 5):
        first, last = quarter_bounds(year.fy, q)
        total = tally(cases, first, min(last, year.last), ref).total if first <= year.last else Counter()
        rows.append([q, first, last, *counts(total)])
    quarters = Table(
        t("reports.annual.by_quarter", fy=year.name),
        [Column("quarter", t("reports.col.quarter_name"), show=_quarter_label),
         Column("start", "start", only="json"), Column("end", "end", only="json"), *measure_columns()],
        rows, total=[t("reports.total_row"), None, None, *counts(found.total)],
    )  # fmt: skip
    chart = Chart(
        t("reports.chart.per_quarter", fy=year.name),
        [_quarter_label(q) for q in range(1, 5)],
        {t(f"reports.measure.{m}"): [float(v) for v in quarters.values(m)]
         for m in ("received", "started", "supported", "followed_up")},
    )  # fmt: skip
    total = found.total
    line = t("reports.summary.activity", fy=year.name, received=total.get("received", 0),
             started=total.get("started", 0), supported=total.get("supported", 0),
             followed_up=total.get("followed_up", 0), closed=total.get("closed", 0))  # fmt: skip
    document = {"activity": tally_document(found, by_institution, by_field), "quarters": Rows(quarters)}
    return Section([by_institution, by_field, quarters], document, [line], [chart])


def _quarter_label(q: int) -> str:
    return t("reports.quarter_short", q=q)


# --- 2. targets -----------------------------------------------------------------------------------


def targets(cases: list[Case], ref: Reference, year: Year) -> Section:
    """The plan's targets as they stood on the year's last day seen, and this year's line."""
    count = count_targets(cases, ref.targets, year.last)
    table, after_plan = targets_table(count, year.era), after_plan_table(count, year.era, targets=ref.targets)
    row = next((r for r in count.periods + count.after_plan if year.fy in r.fiscal_years), None)
    lines = [_target_line(row, year.era)] if row is not None else []
    lines.append(t("reports.summary.cumulative", actual=count.actual_total, target=count.target_total))
    shown = count.periods + [r for r in count.after_plan if r.state != "future"]  # after the plan: actuals only
    chart = Chart(
        t("reports.chart.targets"),
        [format_period(r.fiscal_years, year.era) for r in shown],
        {t("reports.col.target_total"): [None if r.target_total is None else float(r.target_total) for r in shown],
         t("reports.col.actual_total"): [float(r.total) for r in shown]},
    )  # fmt: skip
    return Section([table, after_plan], {"targets": targets_document(count, table, after_plan)}, lines, [chart])


def _target_line(row: PeriodCount, era: bool) -> str:
    period = format_period(row.fiscal_years, era)
    if not row.in_plan:
        return t("reports.summary.after_plan", period=period, new=row.new, continuing=row.continuing,
                 expected=row.expected_continuing, total=row.total)  # fmt: skip
    return t(
        "reports.summary.target", period=period, new=row.new, target_new=row.target_new,
        continuing=row.continuing, expected=row.expected_continuing, total=row.total, target=row.target_total,
        percent=f"{row.percent or 0:.1f}", state=t(f"reports.state.{row.state}"),
    )  # fmt: skip


# --- 3. follow-up compliance ----------------------------------------------------------------------


def compliance(cases: list[Case], ref: Reference, year: Year) -> Section:
    """The follow-ups owed in the year: done, missing (due or overdue) or waived (closed), by the
    年度 support began; the rate is done over done and missing. Then the missing ones."""
    owed = [o for c in cases for o in obligations(c, ref.targets, year.last) if year.fy in o.period]
    missing = [o for o in owed if o.state in ("due", "overdue")]
    by_start: dict[int, Counter] = {}
    for o in owed:
        bucket = o.state if o.state in ("done", "waived") else "missing"
        by_start.setdefault(fiscal_year(o.started), Counter())[bucket] += 1
    rows = [_compliance_row(start, by_start[start]) for start in sorted(by_start)]
    total = [t("reports.total_row"), *_compliance_row(0, sum(by_start.values(), Counter()))[1:]]
    table = Table(
        t("reports.annual.compliance", fy=year.name),
        [Column("start_fiscal_year", t("reports.col.start_year"), show=lambda fy: format_fiscal_year(fy, year.era)),
         Column("owed", t("reports.col.owed"), numeric=True), Column("done", t("reports.col.done"), numeric=True),
         Column("missing", t("reports.col.missing"), numeric=True),
         Column("waived", t("reports.col.waived"), numeric=True), Column("rate", t("reports.col.rate"), numeric=True)],
        rows, note=t("reports.annual.compliance_note"), total=total,
    )  # fmt: skip
    listed = followups_table(missing, ref, t("reports.annual.missing", fy=year.name), year.era)
    _, _, done, not_done, _, rate = total
    if done + not_done:
        line = t("reports.summary.compliance", owed=done + not_done, done=done, percent=f"{rate:.1f}")
    else:
        line = t("reports.summary.no_followups")
    document = {"followup_compliance": Total(table, then={"by_start_year": Rows(table), "missing_cases": Rows(listed)})}
    return Section([table, listed], document, [line])


def _compliance_row(start_fy: int, c: Counter) -> list[Any]:
    counted = c["done"] + c["missing"]
    rate = rounded(100.0 * c["done"] / counted) if counted else None
    return [start_fy, counted + c["waived"], c["done"], c["missing"], c["waived"], rate]


# --- 4. cases by field, basic plan and 振興局 --------------------------------------------------------


def groups(cases: list[Case], ref: Reference, year: Year) -> Section:
    """The cases received, started and supported or followed up in the year, per field (all four),
    per basic plan and per 振興局 (those with any)."""
    fields = _group_rows(cases, year, lambda c: [c.field], {f: ref.field_name(f) for f in CASE_FIELDS})
    plan_names = {p.id: p.name for p in ref.plans.values()} | {"": t("reports.no_plan")}
    plans = _group_rows(cases, year, lambda c: [p.id for p in ref.plans_for(c.company.municipality)] or [""],
                        plan_names, only_active=True)  # fmt: skip

    def subprefecture(case: Case) -> list[str]:
        m = ref.municipalities.get(case.company.municipality)
        return [m.subprefecture] if m else [""]

    sub_names = {s: s for s in SUBPREFECTURES} | {"": t("reports.unknown")}
    subs = _group_rows(cases, year, subprefecture, sub_names, only_active=True)
    tables = [
        _group_table(t("reports.annual.cases_by_field", fy=year.name), t("reports.col.field"), fields),
        _group_table(t("reports.annual.cases_by_plan", fy=year.name), t("col.plan_name"), plans,
                     note=t("reports.annual.plan_note")),
        _group_table(t("reports.annual.cases_by_subprefecture", fy=year.name), t("col.subprefecture"), subs),
    ]  # fmt: skip
    keys = ("cases_by_field", "cases_by_plan", "cases_by_subprefecture")
    return Section(tables, {key: Rows(table) for key, table in zip(keys, tables, strict=True)})


_GROUP_COUNTS = ("received", "started", "contacted")


def _group_rows(cases: list[Case], year: Year, keys_of: Callable[[Case], list[str]], names: dict[str, str],
                only_active: bool = False) -> list[list[Any]]:  # fmt: skip
    """[key, name, received, started, contacted] per group key: the cases with such an event in
    the year. Every key of ``names`` has a row unless ``only_active``, when rows of zeros go."""
    tallies: dict[str, Counter] = {k: Counter() for k in names}
    for case in cases:
        events = [e for e in counted_events(case) if year.holds(e.date)]
        flags = {
            "received": any(e.type == "received" for e in events),
            "started": any(e.type == "started" for e in events),
            "contacted": any(e.type in ("supported", "followed_up") for e in events),
        }
        if not any(flags.values()):
            continue
        for key in keys_of(case):
            bucket = tallies.setdefault(key, Counter())
            for flag, on in flags.items():
                bucket[flag] += int(on)
    rows = [[k, names.get(k, k), *(c.get(f, 0) for f in _GROUP_COUNTS)] for k, c in tallies.items()]
    return [r for r in rows if any(r[2:])] if only_active else rows


def _group_table(title: str, heading: str, rows: list[list[Any]], note: str | None = None) -> Table:
    columns = [
        Column("key", "key", only="json"),
        Column("name", heading),
        Column("received", t("reports.col.cases_received"), numeric=True),
        Column("started", t("reports.col.cases_started"), numeric=True),
        Column("contacted", t("reports.col.cases_contacted"), numeric=True),
    ]
    return Table(title, columns, rows, note=note)


# --- 5. referrals ---------------------------------------------------------------------------------


def referrals(cases: list[Case], ref: Reference, year: Year) -> Section:
    """How many cases each institution referred to each other one in the year, most first."""
    flow: Counter = Counter()
    for case in cases:
        for e in counted_events(case):
            if e.type == "referred" and e.to and year.holds(e.date):
                flow[(e.by, e.to)] += 1
    order = {ident: i for i, ident in enumerate(ref.institutions)}
    ranked = sorted(flow.items(), key=lambda kv: (-kv[1], order.get(kv[0][0], 999), order.get(kv[0][1], 999)))
    table = Table(
        t("reports.annual.referrals", fy=year.name),
        [Column("from", t("reports.col.from"), show=ref.short_name),
         Column("to", t("reports.col.to"), show=ref.short_name), Column("count", t("reports.col.count"), numeric=True)],
        [[a, b, n] for (a, b), n in ranked],
    )  # fmt: skip
    if ranked:
        (a, b), n = ranked[0]
        line = t("reports.summary.referrals", n=sum(flow.values()), top=f"{ref.short_name(a)}→{ref.short_name(b)}", k=n)
    else:
        line = t("reports.summary.no_referrals")
    return Section([table], {"referrals": Rows(table)}, [line])


# --- 6. stale cases -------------------------------------------------------------------------------


def stale(cases: list[Case], ref: Reference, year: Year) -> Section:
    """The cases received by the year's last day seen, not closed then, whose last event was more
    than ``STALE_DAYS`` before it: the quietest first."""
    last = year.last
    found = []
    for case in cases:
        if case.received_on > last:
            continue
        seen = events_until(case, last)  # read once: the status and the last contact
        if not seen:
            continue  # nothing recorded yet by then: not quiet for a number of days
        contact = seen[-1].date
        days = (last - contact).days
        if days > STALE_DAYS and (state := status_after(seen)) != "closed":
            started = next((e for e in seen if e.type == "started"), None)
            found.append((days, case, contact, state, lead_named(started) if started else case.received_by))
    found.sort(key=lambda item: (-item[0], item[1].id))
    table = Table(
        t("reports.annual.stale", days=STALE_DAYS, date=format_date(last, year.era)),
        [Column("id", t("col.id")), Column("company", t("col.company")), Column("title", t("col.title"), only="table"),
         Column("status", t("col.status"), show=lambda s: label("status", s)),
         Column("in_charge", t("reports.col.in_charge"), show=ref.short_name, only="table"),
         Column("last_event", t("reports.col.last_event")), Column("days", t("reports.col.days"), numeric=True)],
        [[c.id, c.company.name, c.title, state, in_charge, contact, days]
         for days, c, contact, state, in_charge in found],
    )  # fmt: skip
    return Section([table], {"stale": Rows(table)}, [t("reports.summary.stale", n=len(found), days=STALE_DAYS)])


# --- 7. outcomes: the verification of effects -----------------------------------------------------


def outcomes(cases: list[Case], ref: Reference, year: Year) -> Section:
    """What the support led to (3(2)④ 「レビューや効果の検証」): the cases closed in the year by the
    kind of their outcome; per period, the supported cases with an approved 地域経済牽引事業計画
    (1(5) 「承認を受けた事業を含む」); the median days from receipt to the start of support and from
    the start to the first follow-up; and how many of the year's referrals led to a start."""
    tables = [
        _closed_by_kind(cases, ref, year), _approved_projects(cases, ref, year), _durations(cases, year),
        _referrals_to_start(cases, ref, year),
    ]  # fmt: skip
    by_kind, approved, durations, referred = tables
    document = {
        "outcomes": {
            "closed_by_kind": Rows(by_kind),
            "approved_projects": Rows(approved),
            "durations": Rows(durations),
            "referrals_to_start": Total(referred, {"referrals": "referrals", "started": "started", "rate": "rate"},
                                        then={"by_institution": Rows(referred)}),
        }
    }  # fmt: skip
    closed = sum(by_kind.values("cases"))
    if closed:
        ranked = sorted((row for row in by_kind.rows if row[2]), key=lambda row: -row[2])
        top = t("list.sep").join(t("reports.summary.outcome_kind", name=row[1], n=row[2]) for row in ranked[:3])
        line = t("reports.summary.outcomes", fy=year.name, n=closed, top=top)
    else:
        line = t("reports.summary.no_outcomes", fy=year.name)
    return Section(tables, document, [line])


def _closing(case: Case, last: date) -> EventLike | None:
    """The close in force on ``last`` (the case's last close, when it was not reopened since)."""
    if status(case, last) != "closed":
        return None
    return next(e for e in reversed([e for e in case.events if e.date <= last]) if e.type == "closed")


def _closed_by_kind(cases: list[Case], ref: Reference, year: Year) -> Table:
    """The cases closed in the year and still closed at its last day seen, by outcome kind: every
    kind of data/outcomes.yaml, then those closed without one (未分類)."""
    found: Counter = Counter()
    for case in cases:
        closing = _closing(case, year.last)
        if closing is not None and year.holds(closing.date):
            found[closing.outcome_kind] += 1
    kinds: list[str | None] = [*ref.outcomes, *sorted(k for k in found if k and k not in ref.outcomes), None]
    return Table(
        t("reports.annual.closed_by_kind", fy=year.name),
        [Column("kind", "kind", only="json"), Column("name", t("reports.col.outcome_kind")),
         Column("cases", t("reports.col.cases"), numeric=True)],
        [[k, ref.outcome_name(k), found.get(k, 0)] for k in kinds],
        note=t("reports.annual.closed_by_kind_note"), total=[None, t("reports.total_row"), sum(found.values())],
    )  # fmt: skip


def _approved_projects(cases: list[Case], ref: Reference, year: Year) -> Table:
    """Per period of the plan (and after it) up to the year: the supported cases it counts (new and
    continuing) and those of them whose 地域経済牽引事業計画 was approved by the period's end."""
    count = count_targets(cases, ref.targets, year.last)
    approved_on = {c.id: c.approved_project for c in cases if c.approved_project is not None}
    rows = []
    for row in count.periods + count.after_plan:
        first, end = period_bounds(row.fiscal_years)
        if first > year.last:
            continue
        ids = row.new_ids + row.continuing_ids
        day = min(end, year.last)
        approved = sum(1 for i in ids if i in approved_on and approved_on[i] <= day)
        share = rounded(100.0 * approved / len(ids)) if ids else None
        rows.append([list(row.fiscal_years), len(ids), approved, share, row.label])
    return Table(
        t("reports.annual.approved_projects", date=format_date(year.last, year.era)),
        [Column("fiscal_years", t("reports.col.period"), show=lambda fys: format_period(fys, year.era)),
         Column("supported", t("reports.col.supported_cases"), numeric=True),
         Column("approved", t("reports.col.approved_cases"), numeric=True),
         Column("share", t("reports.col.share"), numeric=True), Column("label", "label", only="json")],
        rows, note=t("reports.annual.approved_projects_note"),
    )  # fmt: skip


def _durations(cases: list[Case], year: Year) -> Table:
    """The median days from receipt to the start of support, over the cases started in the year,
    and from the start to the first follow-up, over the cases first followed up in the year."""
    to_start: list[int] = []
    to_follow_up: list[int] = []
    for case in cases:
        started = start_event(case, year.last)
        if started is None:
            continue
        if year.holds(started.date):
            to_start.append((started.date - case.received_on).days)
        first = next((e for e in case.events if e.type == "followed_up" and e.date >= started.date), None)
        if first is not None and year.holds(first.date):
            to_follow_up.append((first.date - started.date).days)
    rows = [
        ["receipt_to_start", len(to_start), median(to_start) if to_start else None],
        ["start_to_first_follow_up", len(to_follow_up), median(to_follow_up) if to_follow_up else None],
    ]
    return Table(
        t("reports.annual.durations", fy=year.name),
        [Column("measure", t("reports.col.measure"), show=lambda m: t(f"reports.duration.{m}")),
         Column("cases", t("reports.col.cases"), numeric=True),
         Column("median_days", t("reports.col.median_days"), numeric=True)],
        rows,
    )  # fmt: skip


def _referrals_to_start(cases: list[Case], ref: Reference, year: Year) -> Table:
    """The referrals made in the year, per receiving institution, and how many led to a start:
    support started on or after the referral's day (by the year's last day seen) with the
    receiver as lead or supporting body."""
    referrals: Counter = Counter()
    started: Counter = Counter()
    for case in cases:
        start = start_event(case, year.last)
        for e in case.events:
            if e.type != "referred" or not e.to or not year.holds(e.date):
                continue
            referrals[e.to] += 1
            if start is not None and start.date >= e.date and e.to in named_at_start(start):
                started[e.to] += 1
    order = {ident: i for i, ident in enumerate(ref.institutions)}
    ranked = sorted(referrals, key=lambda ident: (order.get(ident, len(order)), ident))
    rows = [[i, referrals[i], started[i], rounded(100.0 * started[i] / referrals[i])] for i in ranked]
    n, k = sum(referrals.values()), sum(started.values())
    return Table(
        t("reports.annual.referrals_to_start", fy=year.name),
        [Column("institution", t("reports.col.to"), show=ref.short_name),
         Column("referrals", t("reports.col.referrals"), numeric=True),
         Column("started", t("reports.col.led_to_start"), numeric=True),
         Column("rate", t("reports.col.start_rate"), numeric=True)],
        rows, note=t("reports.annual.referrals_to_start_note"),
        total=[t("reports.total_row"), n, k, rounded(100.0 * k / n) if n else None],
    )  # fmt: skip


# --- 8. the overview, and the whole review --------------------------------------------------------


def overview(sections: list[Section], year: Year) -> Section:
    """The written summary, one line or two from each section (and first, when the year is still
    running, that it is), and the charts."""
    lines = [line for s in sections for line in s.summary]
    if year.last < year.end:
        lines.insert(0, t("reports.annual.partial", fy=year.name, as_of=format_date(year.last, year.era)))
    return Section([], {"summary": lines}, lines, [chart for s in sections for chart in s.charts])


SECTIONS = (activity, targets, compliance, groups, referrals, stale, outcomes)


def annual_report(cases: list[Case], ref: Reference, fy: int, as_of: date, era: bool = False,
                  made_on: date | None = None, made_by: str | None = None) -> Report:  # fmt: skip
    """What the review meeting reads at a year's end: the seven sections, then the overview.

    Its byline says when it was made (``made_on``, default ``as_of``), by which institution
    (``made_by``, this clone's) and as of which day the records were read."""
    year = Year.of(fy, as_of, era)
    sections = [section(cases, ref, year) for section in SECTIONS]
    summary = overview(sections, year)
    document: dict[str, Any] = {"fiscal_year": fy, "start": year.first, "end": year.end, "as_of": as_of}
    for part in [*sections, summary]:
        document.update(part.document)
    tables = [table for s in sections for table in s.tables]
    byline = t("reports.byline", made_on=format_date(made_on or as_of, era), as_of=format_date(as_of, era),
               made_by=ref.short_name(made_by) if made_by else t("reports.byline_no_institution"))  # fmt: skip
    return Report(t("reports.annual.title", fy=year.name), tables, document, summary=summary.summary,
                  charts=summary.charts, byline=byline)  # fmt: skip
