"""The reports the センター and the review meeting read: targets, follow-ups, quarter and year.

Pure builders from cases and reference data to a ``render.Report``: Japanese tables for people,
English-keyed ``data`` for tools. Nothing dated after ``as_of`` is counted, so a report can be
made again exactly as it looked on that day::

    kitamono report quarterly --fy 2019 --quarter 3 --format json
    {"fiscal_year": 2019, "quarter": 3, "start": "2019-10-01", "end": "2019-12-31",
     "institutions": [{"institution": "hro", "received": 4, "referred_out": 2, ...}], ...}

The quarter's counts, per institution (who acted) and per field (of the case):
received (by the window that took the inquiry), referred_out / referred_in (each referral
counts once for the sender and once for the receiver), started (for the lead), supported,
followed_up and closed (for the institution that recorded them).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from kitamono.cases import last_contact, status
from kitamono.errors import InputError
from kitamono.fiscal import (
    fiscal_year,
    format_date,
    format_fiscal_year,
    format_period,
    format_quarter,
    fy_bounds,
    last_completed_quarter,
    parse_fiscal_year,
    parse_quarter,
    quarter_bounds,
)
from kitamono.followup import (
    FollowupList,
    Obligation,
    PeriodCount,
    TargetCount,
    count_targets,
    lead_of,
    obligations,
)
from kitamono.i18n import label, t
from kitamono.listings import field_name, institution_name
from kitamono.models import CASE_FIELDS, SUBPREFECTURES, Case
from kitamono.reference import Reference
from kitamono.render import Chart, Column, Report, Table

MEASURES: tuple[str, ...] = (
    "received", "referred_out", "referred_in", "started", "supported", "followed_up", "closed",
)  # fmt: skip
#: A case with no event for longer than this is listed in the year-end review.
STALE_DAYS = 180


# --- choosing the period --------------------------------------------------------------------------


def choose_quarter(fy_text: str | None, quarter_text: str | None, as_of: date) -> tuple[int, int]:
    """The (fy, q) a quarterly report covers: the options given, else the last completed quarter.

    ``--quarter 3`` belongs to ``--fy`` (or to the 年度 of ``as_of``); ``--quarter 2019Q3``
    carries its own; ``--fy`` alone means its last quarter that has ended by ``as_of``.
    """
    fy = parse_fiscal_year(fy_text) if fy_text else None
    if quarter_text:
        default = fy if fy is not None else fiscal_year(as_of)
        chosen_fy, q = parse_quarter(quarter_text, default_fy=default)
        if fy is not None and chosen_fy != fy:
            raise InputError(t("reports.quarter_fy_mismatch", quarter=quarter_text, fy=fy_text))
    elif fy is not None:
        last_fy, last_q = last_completed_quarter(as_of)
        if fy < last_fy:
            chosen_fy, q = fy, 4
        elif fy == last_fy:
            chosen_fy, q = fy, last_q
        else:
            raise InputError(t("reports.no_completed_quarter", fy=format_fiscal_year(fy), as_of=as_of))
    else:
        chosen_fy, q = last_completed_quarter(as_of)
    if quarter_bounds(chosen_fy, q)[0] > as_of:
        raise InputError(t("reports.quarter_not_begun", quarter=format_quarter(chosen_fy, q), as_of=as_of))
    return chosen_fy, q


def choose_fiscal_year(fy_text: str | None, as_of: date) -> int:
    """The 年度 a year-end review covers: ``--fy``, else the last one ended by ``as_of``."""
    fy = parse_fiscal_year(fy_text) if fy_text else fiscal_year(as_of) - 1
    if fy_bounds(fy)[0] > as_of:
        raise InputError(t("reports.year_not_begun", fy=format_fiscal_year(fy), as_of=as_of))
    return fy


# --- counting activity ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """The activity counts of a span of days, by institution and by field."""

    first: date
    last: date
    institutions: dict[str, Counter]
    fields: dict[str, Counter]

    @property
    def total(self) -> Counter:
        total: Counter = Counter()
        for counts in self.institutions.values():
            total.update(counts)
        return total


def _attributions(event) -> list[tuple[str, str]]:
    """(institution, measure) pairs one event counts for."""
    if event.type == "received":
        return [(event.by, "received")]
    if event.type == "referred":
        return [(event.by, "referred_out")] + ([(event.to, "referred_in")] if event.to else [])
    if event.type == "started":
        return [(event.lead or event.by, "started")]
    if event.type in ("supported", "followed_up", "closed"):
        return [(event.by, event.type)]
    return []  # team_formed, reopened: part of a case's story, not counted


def tally(cases: Iterable[Case], first: date, last: date, ref: Reference) -> Tally:
    """Every counted event dated from ``first`` to ``last`` (both included)."""
    institutions: dict[str, Counter] = defaultdict(Counter)
    fields: dict[str, Counter] = defaultdict(Counter, {f: Counter() for f in CASE_FIELDS})
    for case in cases:
        for event in case.events:
            if not first <= event.date <= last:
                continue
            for ident, measure in _attributions(event):
                institutions[ident][measure] += 1
                fields[case.field][measure] += 1
    fields = dict(fields)
    order = {ident: i for i, ident in enumerate(ref.institutions)}
    ordered = dict(sorted(institutions.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))
    return Tally(first, last, ordered, fields)


def _counts(counter: Counter) -> dict[str, int]:
    return {m: counter.get(m, 0) for m in MEASURES}


def _measure_columns(first_key: str, first_label: str) -> list[Column]:
    return [Column(first_key, first_label)] + [Column(m, t(f"reports.measure.{m}"), numeric=True) for m in MEASURES]


def _tally_tables(tally_: Tally, ref: Reference, title_inst: str, title_field: str) -> list[Table]:
    inst_rows = [[institution_name(ref, i), *_counts(c).values()] for i, c in tally_.institutions.items()]
    inst_rows.append([t("reports.total_row"), *_counts(tally_.total).values()])
    field_rows = [[field_name(ref, f), *_counts(c).values()] for f, c in tally_.fields.items()]
    field_rows.append([t("reports.total_row"), *_counts(tally_.total).values()])
    return [
        Table(title_inst, _measure_columns("institution", t("reports.col.institution")), inst_rows),
        Table(title_field, _measure_columns("field", t("reports.col.field")), field_rows),
    ]


def _tally_data(tally_: Tally) -> dict[str, Any]:
    return {
        "start": tally_.first,
        "end": tally_.last,
        "institutions": [{"institution": i, **_counts(c)} for i, c in tally_.institutions.items()],
        "fields": {f: _counts(c) for f, c in tally_.fields.items()},
        "total": _counts(tally_.total),
    }


# --- the quarterly aggregation --------------------------------------------------------------------


def quarterly_report(cases: list[Case], ref: Reference, fy: int, q: int, as_of: date, era: bool = False) -> Report:
    """One quarter's activity per institution and per field, with the 年度 to date beside it."""
    start, end = quarter_bounds(fy, q)
    last = min(end, as_of)
    in_quarter = tally(cases, start, last, ref)
    to_date = tally(cases, fy_bounds(fy)[0], last, ref)
    name = format_quarter(fy, q, era)
    title = t("reports.quarterly.title", quarter=name)
    tables = _tally_tables(
        in_quarter, ref,
        t("reports.quarterly.by_institution", quarter=name), t("reports.quarterly.by_field", quarter=name),
    )
    side = [
        [t(f"reports.measure.{m}"), in_quarter.total.get(m, 0), to_date.total.get(m, 0)] for m in MEASURES
    ]
    ytd_label = t("reports.col.year_to_date", fy=format_fiscal_year(fy, era), end=format_date(last, era))
    tables.insert(
        2,
        Table(
            t("reports.quarterly.beside", quarter=name),
            [Column("measure", t("reports.col.measure")), Column("quarter", t("reports.col.quarter"), numeric=True),
             Column("year_to_date", ytd_label, numeric=True)],
            side,
        ),
    )  # fmt: skip
    tables += _tally_tables(
        to_date, ref, t("reports.ytd.by_institution", label=ytd_label), t("reports.ytd.by_field", label=ytd_label)
    )
    summary = []
    if last < end:
        summary.append(t("reports.quarterly.partial", as_of=format_date(as_of, era)))
    data = {
        "fiscal_year": fy,
        "quarter": q,
        "start": start,
        "end": end,
        "as_of": as_of,
        **{k: v for k, v in _tally_data(in_quarter).items() if k not in ("start", "end")},
        "year_to_date": _tally_data(to_date),
    }
    return Report(title, tables, data, summary=summary)


# --- targets --------------------------------------------------------------------------------------


def _state_label(state: str) -> str:
    return t(f"reports.state.{state}")


def _period_label(row: PeriodCount, era: bool) -> str:
    return format_period(row.fiscal_years, era)


def targets_table(count: TargetCount, era: bool = False) -> Table:
    columns = [
        Column("period", t("reports.col.period")),
        Column("target_new", t("reports.col.target_new"), numeric=True),
        Column("new", t("reports.col.actual_new"), numeric=True),
        Column("target_continuing", t("reports.col.target_continuing"), numeric=True),
        Column("expected_continuing", t("reports.col.expected_continuing"), numeric=True),
        Column("continuing", t("reports.col.actual_continuing"), numeric=True),
        Column("target_total", t("reports.col.target_total"), numeric=True),
        Column("total", t("reports.col.actual_total"), numeric=True),
        Column("gap", t("reports.col.gap"), numeric=True),
        Column("percent", t("reports.col.percent"), numeric=True),
        Column("cumulative", t("reports.col.cumulative"), numeric=True),
        Column("state", t("reports.col.state")),
    ]
    rows: list[list[Any]] = []
    for row, running in zip(count.periods, count.cumulative()):
        rows.append([
            _period_label(row, era), row.target_new, row.new, row.target_continuing, row.expected_continuing,
            row.continuing, row.target_total, row.total, row.gap, _round(row.percent), running, _state_label(row.state),
        ])  # fmt: skip
    p = count.periods
    target_total = count.target_total
    rows.append([
        t("reports.plan_total_row"), sum(r.target_new or 0 for r in p), sum(r.new for r in p),
        sum(r.target_continuing or 0 for r in p), sum(r.expected_continuing for r in p),
        sum(r.continuing for r in p), target_total, count.actual_total, count.actual_total - target_total,
        _round(100.0 * count.actual_total / target_total) if target_total else None, count.actual_total, "",
    ])  # fmt: skip
    note = t(
        "reports.targets.note", actual=count.actual_total, target=target_total,
        percent=f"{100.0 * count.actual_total / target_total:.1f}" if target_total else "-",
    )  # fmt: skip
    return Table(t("reports.targets.table"), columns, rows, note=note)


def after_plan_table(count: TargetCount, era: bool = False) -> Table:
    columns = [
        Column("fiscal_year", t("reports.col.fiscal_year")),
        Column("expected_continuing", t("reports.col.expected_continuing"), numeric=True),
        Column("continuing", t("reports.col.actual_continuing"), numeric=True),
        Column("percent", t("reports.col.rate"), numeric=True),
        Column("state", t("reports.col.state")),
    ]
    rows = [
        [
            _period_label(r, era), r.expected_continuing, r.continuing,
            _round(100.0 * r.continuing / r.expected_continuing) if r.expected_continuing else None,
            _state_label(r.state),
        ]
        for r in count.after_plan
    ]  # fmt: skip
    return Table(t("reports.targets.after_plan"), columns, rows, note=t("reports.targets.after_plan_note"))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def targets_data(count: TargetCount) -> dict[str, Any]:
    def period(row: PeriodCount) -> dict[str, Any]:
        return {
            "label": row.label,
            "fiscal_years": list(row.fiscal_years),
            "target": {"new": row.target_new, "continuing": row.target_continuing, "total": row.target_total},
            "actual": {"new": row.new, "continuing": row.continuing, "total": row.total},
            "expected_continuing": row.expected_continuing,
            "status": row.state,
        }

    return {
        "as_of": count.as_of,
        "institution": count.institution,
        "periods": [period(r) for r in count.periods],
        "total": {"target": count.target_total, "actual": count.actual_total},
        "after_plan": [
            {
                "label": r.label,
                "fiscal_years": list(r.fiscal_years),
                "actual": {"continuing": r.continuing},
                "expected_continuing": r.expected_continuing,
                "status": r.state,
            }
            for r in count.after_plan
        ],
    }


def targets_report(cases: list[Case], ref: Reference, as_of: date, institution: str | None = None,
                   era: bool = False) -> Report:  # fmt: skip
    """The plan's target table against what the cases show on ``as_of``."""
    count = count_targets(cases, ref.targets, as_of, institution)
    title = t("reports.targets.title", as_of=format_date(as_of, era))
    if institution:
        title += t("reports.for_institution", name=institution_name(ref, institution))
    tables = [targets_table(count, era), after_plan_table(count, era)]
    summary = [t("reports.targets.institution_note")] if institution else []
    return Report(title, tables, targets_data(count), summary=summary)


# --- follow-ups -----------------------------------------------------------------------------------


def _obligation_data(item: Obligation) -> dict[str, Any]:
    return {
        "id": item.case.id,
        "fiscal_year": item.fiscal_year,
        "lead": item.lead,
        "last_contact": item.last_contact,
        "company": item.case.company.name,
        "started": item.started,
        "done_on": item.done_on,
    }


def followups_table(items: list[Obligation], ref: Reference, title: str, era: bool = False,
                    note: str | None = None, with_done: bool = False) -> Table:  # fmt: skip
    """The follow-up periods as rows; the 実施日 column only when done ones are listed (else it is
    always empty)."""
    columns = [
        Column("state", t("reports.col.state")), Column("id", t("col.id")),
        Column("company", t("col.company")), Column("started", t("reports.col.started")),
        Column("fiscal_year", t("reports.col.follow_up_year")),
        Column("lead", t("col.lead")), Column("last_contact", t("reports.col.last_contact")),
    ]  # fmt: skip
    states = {s: t(f"reports.followup.{s}") for s in ("overdue", "due", "done", "upcoming", "waived")}
    periods = {p: format_period(p, era) for p in {i.period for i in items}}
    rows = [
        [
            states[i.state], i.case.id, i.case.company.name, i.started,
            periods[i.period], institution_name(ref, i.lead), i.last_contact,
        ]
        for i in items
    ]  # fmt: skip
    if with_done:
        columns.append(Column("done_on", t("reports.col.done_on")))
        for row, item in zip(rows, items):
            row.append(item.done_on)
    return Table(title, columns, rows, note=note)


def followups_report(cases: list[Case], ref: Reference, as_of: date, institution: str | None = None,
                     era: bool = False, with_done: bool = False) -> Report:  # fmt: skip
    """Every supported case's follow-up years on ``as_of``: overdue first, then due, then done.

    The table lists what staff must act on (overdue and due) and counts the done ones, unless
    ``with_done``; the JSON always holds all three lists.
    """
    from kitamono.followup import followups

    found: FollowupList = followups(cases, ref.targets, as_of, institution)
    title = t("reports.followups.title", as_of=format_date(as_of, era))
    if institution:
        title += t("reports.for_institution", name=institution_name(ref, institution))
    note = t(
        "reports.followups.note", overdue=len(found.overdue), due=len(found.due), done=len(found.done),
        fy=format_fiscal_year(fiscal_year(as_of), era), waived=len(found.waived),
    )  # fmt: skip
    if not with_done and found.done:
        note += t("reports.followups.done_hidden")
    rows = found.overdue + found.due + (found.done if with_done else [])
    table = followups_table(rows, ref, title, era, note, with_done)

    def data() -> dict[str, Any]:
        return {
            "as_of": as_of,
            "institution": institution,
            "overdue": [_obligation_data(i) for i in found.overdue],
            "due": [_obligation_data(i) for i in found.due],
            "done": [_obligation_data(i) for i in found.done],
        }

    return Report(title, [table], data)


# --- the year-end review --------------------------------------------------------------------------


def _quarter_label(q: int) -> str:
    return t("reports.quarter_short", q=q)


def _group_rows(
    cases: list[Case], first: date, last: date, keys_of, names: dict[str, str]
) -> list[dict[str, Any]]:
    """Cases received, started and supported or followed up in the span, per group key."""
    counts: dict[str, Counter] = {k: Counter() for k in names}
    for case in cases:
        events = [e for e in case.events if first <= e.date <= last]
        flags = {
            "received": any(e.type == "received" for e in events),
            "started": any(e.type == "started" for e in events),
            "contacted": any(e.type in ("supported", "followed_up") for e in events),
        }
        if not any(flags.values()):
            continue
        for key in keys_of(case):
            bucket = counts.setdefault(key, Counter())
            for flag, on in flags.items():
                bucket[flag] += int(on)
    return [
        {"key": k, "name": names.get(k, k), **{f: c.get(f, 0) for f in ("received", "started", "contacted")}}
        for k, c in counts.items()
    ]


def _group_table(title: str, key_label: str, rows: list[dict[str, Any]], note: str | None = None) -> Table:
    columns = [
        Column("name", key_label),
        Column("received", t("reports.col.cases_received"), numeric=True),
        Column("started", t("reports.col.cases_started"), numeric=True),
        Column("contacted", t("reports.col.cases_contacted"), numeric=True),
    ]
    return Table(title, columns, [[r["name"], r["received"], r["started"], r["contacted"]] for r in rows], note=note)


def annual_report(cases: list[Case], ref: Reference, fy: int, as_of: date, era: bool = False) -> Report:
    """What the review meeting reads at a year's end (section 3(2)④ of the plan)."""
    first, end = fy_bounds(fy)
    last = min(end, as_of)  # nothing after the year's end (or as_of) is seen below
    fy_name = format_fiscal_year(fy, era)
    title = t("reports.annual.title", fy=fy_name)
    tables: list[Table] = []

    # 1. each institution's activity, and the quarters
    year = tally(cases, first, last, ref)
    tables += _tally_tables(
        year, ref, t("reports.annual.by_institution", fy=fy_name), t("reports.annual.by_field_activity", fy=fy_name)
    )
    quarter_rows, quarter_data = [], []
    for q in range(1, 5):
        q_first, q_last = quarter_bounds(fy, q)
        if q_first > last:
            counts = Counter()
        else:
            counts = tally(cases, q_first, min(q_last, last), ref).total
        quarter_rows.append([_quarter_label(q), *_counts(counts).values()])
        quarter_data.append({"quarter": q, "start": q_first, "end": q_last, **_counts(counts)})
    quarter_rows.append([t("reports.total_row"), *_counts(year.total).values()])
    quarter_columns = _measure_columns("quarter", t("reports.col.quarter_name"))
    tables.append(Table(t("reports.annual.by_quarter", fy=fy_name), quarter_columns, quarter_rows))

    # 2. targets against actuals, as they stood at the year's end
    count = count_targets(cases, ref.targets, last)
    tables.append(targets_table(count, era))
    tables.append(after_plan_table(count, era))

    # 3. follow-up compliance for this year
    owed = [
        o for c in cases for o in obligations(c, ref.targets, last) if fy in o.period
    ]
    done = [o for o in owed if o.state == "done"]
    waived = [o for o in owed if o.state == "waived"]
    missing = [o for o in owed if o.state in ("due", "overdue")]
    by_start: dict[int, Counter] = {}
    for o in owed:
        bucket = o.state if o.state in ("done", "waived") else "missing"
        by_start.setdefault(fiscal_year(o.started), Counter())[bucket] += 1
    compliance_rows = []
    compliance_data = []
    for start_fy in sorted(by_start):
        c = by_start[start_fy]
        counted = c["done"] + c["missing"]
        rate = _round(100.0 * c["done"] / counted) if counted else None
        compliance_rows.append(
            [format_fiscal_year(start_fy, era), counted + c["waived"], c["done"], c["missing"], c["waived"], rate]
        )
        compliance_data.append({"start_fiscal_year": start_fy, "owed": counted + c["waived"], "done": c["done"],
                                "missing": c["missing"], "waived": c["waived"], "rate": rate})  # fmt: skip
    counted_all = len(done) + len(missing)
    rate_all = _round(100.0 * len(done) / counted_all) if counted_all else None
    compliance_rows.append([t("reports.total_row"), len(owed), len(done), len(missing), len(waived), rate_all])
    tables.append(Table(
        t("reports.annual.compliance", fy=fy_name),
        [Column("start", t("reports.col.start_year")), Column("owed", t("reports.col.owed"), numeric=True),
         Column("done", t("reports.col.done"), numeric=True), Column("missing", t("reports.col.missing"), numeric=True),
         Column("waived", t("reports.col.waived"), numeric=True), Column("rate", t("reports.col.rate"), numeric=True)],
        compliance_rows, note=t("reports.annual.compliance_note"),
    ))  # fmt: skip
    tables.append(followups_table(missing, ref, t("reports.annual.missing", fy=fy_name), era))

    # 4. cases by field, by basic plan and by 振興局
    field_names = {f: field_name(ref, f) for f in CASE_FIELDS}
    by_field = _group_rows(cases, first, last, lambda c: [c.field], field_names)
    plan_names = {p.id: p.name for p in ref.plans.values()} | {"": t("reports.no_plan")}
    by_plan = _group_rows(
        cases, first, last, lambda c: [p.id for p in ref.plans_for(c.company.municipality)] or [""], plan_names
    )
    by_plan = [r for r in by_plan if r["received"] or r["started"] or r["contacted"]]
    sub_names = {s: s for s in SUBPREFECTURES}

    def subprefecture(case: Case) -> list[str]:
        m = ref.municipalities.get(case.company.municipality)
        return [m.subprefecture] if m else [""]

    by_sub = _group_rows(cases, first, last, subprefecture, sub_names | {"": t("reports.unknown")})
    by_sub = [r for r in by_sub if r["received"] or r["started"] or r["contacted"]]
    tables.append(_group_table(t("reports.annual.cases_by_field", fy=fy_name), t("reports.col.field"), by_field))
    tables.append(_group_table(t("reports.annual.cases_by_plan", fy=fy_name), t("col.plan_name"), by_plan,
                               note=t("reports.annual.plan_note")))  # fmt: skip
    tables.append(_group_table(t("reports.annual.cases_by_subprefecture", fy=fy_name), t("col.subprefecture"), by_sub))

    # 5. the flow of referrals
    flow: Counter = Counter()
    for case in cases:
        for e in case.events:
            if e.type == "referred" and e.to and first <= e.date <= last:
                flow[(e.by, e.to)] += 1
    order = {ident: i for i, ident in enumerate(ref.institutions)}
    flow_items = sorted(flow.items(), key=lambda kv: (-kv[1], order.get(kv[0][0], 999), order.get(kv[0][1], 999)))
    tables.append(Table(
        t("reports.annual.referrals", fy=fy_name),
        [Column("from", t("reports.col.from")), Column("to", t("reports.col.to")),
         Column("count", t("reports.col.count"), numeric=True)],
        [[institution_name(ref, a), institution_name(ref, b), n] for (a, b), n in flow_items],
    ))  # fmt: skip

    # 6. cases open for long without an event
    stale = []
    for case in cases:
        if case.received_on > last or status(case, last) == "closed":
            continue
        contact = last_contact(case, last)
        days = (last - contact).days if contact else 0
        if days > STALE_DAYS:
            stale.append((days, case, contact))
    stale.sort(key=lambda item: (-item[0], item[1].id))
    tables.append(Table(
        t("reports.annual.stale", days=STALE_DAYS, date=format_date(last, era)),
        [Column("id", t("col.id")), Column("company", t("col.company")), Column("title", t("col.title")),
         Column("status", t("col.status")), Column("in_charge", t("reports.col.in_charge")),
         Column("last_event", t("reports.col.last_event")), Column("days", t("reports.col.days"), numeric=True)],
        [[c.id, c.company.name, c.title, label("status", status(c, last)),
          institution_name(ref, lead_of(c, last) or c.received_by), d, n] for n, c, d in stale],
    ))  # fmt: skip

    # 7. the written summary and the charts
    period_row = next((r for r in count.periods + count.after_plan if fy in r.fiscal_years), None)
    summary = _annual_summary(
        fy_name, year, period_row, count, len(done), counted_all, rate_all, flow_items, len(stale), ref, era
    )
    if last < end:
        summary.insert(0, t("reports.annual.partial", fy=fy_name, as_of=format_date(last, era)))
    charts = [
        Chart(
            t("reports.chart.per_quarter", fy=fy_name),
            [_quarter_label(q) for q in range(1, 5)],
            {t(f"reports.measure.{m}"): [float(d[m]) for d in quarter_data]
             for m in ("received", "started", "supported", "followed_up")},
        ),
        Chart(
            t("reports.chart.targets"),
            [_period_label(r, era) for r in count.periods],
            {t("reports.col.target_total"): [float(r.target_total or 0) for r in count.periods],
             t("reports.col.actual_total"): [float(r.total) for r in count.periods]},
        ),
    ]  # fmt: skip
    data = {
        "fiscal_year": fy,
        "start": first,
        "end": end,
        "as_of": as_of,
        "activity": _tally_data(year),
        "quarters": quarter_data,
        "targets": targets_data(count),
        "followup_compliance": {
            "owed": len(owed), "done": len(done), "missing": len(missing), "waived": len(waived), "rate": rate_all,
            "by_start_year": compliance_data, "missing_cases": [_obligation_data(o) for o in missing],
        },  # fmt: skip
        "cases_by_field": by_field,
        "cases_by_plan": by_plan,
        "cases_by_subprefecture": by_sub,
        "referrals": [{"from": a, "to": b, "count": n} for (a, b), n in flow_items],
        "stale": [
            {"id": c.id, "company": c.company.name, "status": status(c, last), "last_event": d, "days": n}
            for n, c, d in stale
        ],
        "summary": summary,
    }
    return Report(title, tables, data, summary=summary, charts=charts)


def _annual_summary(fy_name, year: Tally, period_row: PeriodCount | None, count: TargetCount, done: int,
                    counted: int, rate, flow_items, stale: int, ref: Reference, era: bool) -> list[str]:  # fmt: skip
    total = year.total
    lines = [
        t("reports.summary.activity", fy=fy_name, received=total.get("received", 0), started=total.get("started", 0),
          supported=total.get("supported", 0), followed_up=total.get("followed_up", 0), closed=total.get("closed", 0)),
    ]  # fmt: skip
    if period_row is not None and period_row.in_plan:
        lines.append(t(
            "reports.summary.target", period=_period_label(period_row, era), new=period_row.new,
            target_new=period_row.target_new, continuing=period_row.continuing,
            expected=period_row.expected_continuing, total=period_row.total, target=period_row.target_total,
            percent=f"{period_row.percent or 0:.1f}", state=_state_label(period_row.state),
        ))  # fmt: skip
    elif period_row is not None:
        lines.append(t("reports.summary.after_plan", period=_period_label(period_row, era),
                       continuing=period_row.continuing, expected=period_row.expected_continuing))  # fmt: skip
    lines.append(t("reports.summary.cumulative", actual=count.actual_total, target=count.target_total))
    if counted:
        lines.append(t("reports.summary.compliance", owed=counted, done=done, percent=f"{rate:.1f}"))
    else:
        lines.append(t("reports.summary.no_followups"))
    if flow_items:
        (a, b), n = flow_items[0]
        lines.append(t("reports.summary.referrals", n=sum(k for _, k in flow_items),
                       top=f"{institution_name(ref, a)}→{institution_name(ref, b)}", k=n))  # fmt: skip
    else:
        lines.append(t("reports.summary.no_referrals"))
    lines.append(t("reports.summary.stale", n=stale, days=STALE_DAYS))
    return lines

