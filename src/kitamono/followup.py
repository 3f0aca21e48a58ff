"""What each supported case owes, per fiscal year, and the counting of the plan's targets.

A case is *supported* from its ``started`` event. The plan counts in periods: FY2017 and FY2018
are one merged first period, then one period per 年度 (``data/targets.yaml``); after the plan
every 年度 is a period of its own. A case started in period s owes a follow-up in each of the
next ``follow_up_periods - 1`` periods (two: the plan says
"2018年度に新たに支援した案件→2020年度までフォローアップ"), and one ``supported`` or
``followed_up`` event dated in such a period settles it::

    started 2019-06-10 (FY2019)  ->  owes FY2020 and FY2021
    followed_up 2020-11-04       ->  FY2020 done; FY2021 due while it runs, overdue after

The targets: *new* in a period = cases started in it; *continuing* = cases started in one of the
two previous plan periods with a support or follow-up event in it; *expected continuing* = all
cases started in those two periods. Cases started in FY2021–2022 still owe follow-ups in
FY2023–2024, and support goes on after the plan: every 年度 from FY2023 on (up to the year of
``as_of``, and at least the last starts' follow-up years) is a line of its own (``after_plan``)
with the same counts and no target (実績のみ), outside the plan's totals.

Closing a case does not end what it owes: the plan asks for 「少なくとも3年度継続して支援
（フォローアップ）」 with no exception, so a closed case's follow-ups stay due (and a follow-up
recorded after the close settles them). Only a close that records a waiver
(``case close --no-follow-up --reason …``) waives those not done, until the case is reopened.

Everything here is pure: cases (``models.Case`` or the index's ``CaseRecord``, which has the
same attribute names) and reference data in, plain records out; nothing after ``as_of`` is
seen, so a report can be reproduced as it stood on any day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal, NamedTuple

from kitamono.cases import events_until, start_event, status_after
from kitamono.fiscal import fiscal_year, fy_bounds
from kitamono.models import CaseLike, EventLike, Targets

#: The events that show a case was supported or followed up in a period.
CONTACT_EVENTS = ("supported", "followed_up")

Period = tuple[int, ...]  # the fiscal years of one period, in order


# --- periods --------------------------------------------------------------------------------------


def period_of(fy: int, targets: Targets) -> Period:
    """The period containing 年度 fy: a plan period, or the single year outside the plan."""
    for period in targets.periods:
        if fy in period.fiscal_years:
            return tuple(sorted(period.fiscal_years))
    return (fy,)


def following_periods(period: Period, n: int, targets: Targets) -> list[Period]:
    """The n periods after ``period``."""
    found: list[Period] = []
    current = period
    for _ in range(n):
        current = period_of(current[-1] + 1, targets)
        found.append(current)
    return found


def period_bounds(period: Period) -> tuple[date, date]:
    return fy_bounds(period[0])[0], fy_bounds(period[-1])[1]


def plan_years(targets: Targets) -> set[int]:
    return {fy for p in targets.periods for fy in p.fiscal_years}


def plan_starts(targets: Targets, as_of: date) -> tuple[date, date]:
    """The days a start must fall on to count at all: from the plan's first day to ``as_of``
    (starts after the plan count on the post-plan lines, 実績のみ)."""
    years = plan_years(targets)
    return fy_bounds(min(years))[0], as_of


def follow_up_count(targets: Targets) -> int:
    """How many periods after the start a case is followed up (2 for "three fiscal years")."""
    return targets.follow_up_periods - 1


# --- one case -------------------------------------------------------------------------------------


def supporters(case: CaseLike, as_of: date | None = None) -> list[str]:
    """The lead and the supporting institutions named when support started."""
    event = start_event(case, as_of)
    return named_at_start(event) if event is not None else []


def named_at_start(started: EventLike) -> list[str]:
    """The lead and the supporting institutions a ``started`` event names."""
    named = ([started.lead] if started.lead else []) + list(started.supporting)
    return list(dict.fromkeys(named))


def lead_of(case: CaseLike, as_of: date | None = None) -> str | None:
    event = start_event(case, as_of)
    if event is None:
        return None
    return lead_named(event)


def lead_named(started: EventLike) -> str:
    """Who leads a case from its ``started`` event: the lead it names, else who recorded it."""
    return started.lead or started.by


def contact_days(events: Iterable[EventLike]) -> list[date]:
    """The days of the supports and follow-ups among ``events``."""
    return [e.date for e in events if e.type in CONTACT_EVENTS]


def first_between(days: list[date], first: date, last: date) -> date | None:
    """The first of ``days`` from ``first`` to ``last``: when a period's follow-up was done."""
    return next((day for day in days if first <= day <= last), None)


ObligationState = Literal["done", "due", "overdue", "upcoming", "waived"]


class Obligation(NamedTuple):
    """One period in which a supported case must be followed up, and where it stands."""

    case: CaseLike
    period: Period
    state: ObligationState
    done_on: date | None
    started: date
    lead: str | None
    last_contact: date | None
    closed: bool = False  # the case was closed on ``as_of`` (its follow-ups are owed all the same)

    @property
    def fiscal_year(self) -> int:
        return self.period[0]


def obligations(case: CaseLike, targets: Targets, as_of: date, owed: dict[int, list] | None = None) -> list[Obligation]:
    """Every follow-up period a case owes, as it stood on ``as_of``.

    done: a support or follow-up is recorded in the period; due: the period is running and
    none is recorded yet; overdue: the period has ended with none; upcoming: it has not begun;
    waived: the case was closed with a recorded waiver (``follow_up_waiver``), and not reopened,
    by ``as_of``. A case closed without a waiver owes its follow-ups as any other (1(5)).
    ``owed``, shared across calls, keeps the periods owed by each start year once worked out.
    """
    seen = events_until(case, as_of)  # read once: the start, the status, the contacts
    started = next((e for e in seen if e.type == "started"), None)
    if started is None:
        return []
    start = started.date
    closed = status_after(seen) == "closed"
    closing = next((e for e in reversed(seen) if e.type == "closed"), None) if closed else None
    waived = closing is not None and bool(closing.follow_up_waiver)
    current = fiscal_year(as_of)
    lead = lead_named(started)
    contact = seen[-1].date
    contacts = contact_days(seen)
    found: list[Obligation] = []
    for period, first, last in _periods_owed(fiscal_year(start), targets, {} if owed is None else owed):
        done_on = first_between(contacts, first, last)
        state: ObligationState
        if done_on is not None:
            state = "done"
        elif waived:
            state = "waived"
        elif period[-1] < current:
            state = "overdue"
        elif period[0] <= current:
            state = "due"
        else:
            state = "upcoming"
        found.append(Obligation(case, period, state, done_on, start, lead, contact, closed))
    return found


def _periods_owed(start_fy: int, targets: Targets, known: dict[int, list]) -> list[tuple[Period, date, date]]:
    """(period, first day, last day) of each period a case started in 年度 ``start_fy`` is
    followed up in: the same for every such case, so kept in ``known`` once worked out."""
    if start_fy not in known:
        periods = following_periods(period_of(start_fy, targets), follow_up_count(targets), targets)
        known[start_fy] = [(p, *period_bounds(p)) for p in periods]
    return known[start_fy]


@dataclass(frozen=True)
class FollowupList:
    as_of: date
    overdue: list[Obligation]
    due: list[Obligation]
    done: list[Obligation]
    upcoming: list[Obligation]
    waived: list[Obligation]


def followups(cases: Iterable[CaseLike], targets: Targets, as_of: date, institution: str | None = None) -> FollowupList:
    """Every supported case's follow-up periods, sorted: overdue, due, done (oldest first)."""
    buckets: dict[str, list[Obligation]] = {s: [] for s in ("overdue", "due", "done", "upcoming", "waived")}
    owed: dict[int, list] = {}  # the periods owed, by start year: the same for every case
    for case in cases:
        if institution is not None and institution not in supporters(case, as_of):
            continue
        for item in obligations(case, targets, as_of, owed):
            buckets[item.state].append(item)

    def order(item: Obligation) -> tuple:
        return (item.fiscal_year, item.last_contact or date.min, item.case.id)

    return FollowupList(as_of, *(sorted(buckets[s], key=order) for s in buckets))


# --- the targets ----------------------------------------------------------------------------------

#: met / missed / in_progress / future for the plan's periods; after the plan, a line that has
#: begun is actual_only (実績のみ: no target to meet).
PeriodState = Literal["met", "missed", "in_progress", "future", "actual_only"]


@dataclass(frozen=True)
class PeriodCount:
    """One row of the target table: the plan's numbers beside what the cases show."""

    label: str
    fiscal_years: Period
    in_plan: bool
    target_new: int | None
    target_continuing: int | None
    target_total: int | None
    new_ids: tuple[str, ...]  # the cases started in the period
    continuing_ids: tuple[str, ...]  # the cases followed up in it
    expected_ids: tuple[str, ...]  # the cases whose follow-up falls in it
    state: PeriodState
    new: int  # how many of each
    continuing: int
    expected_continuing: int
    total: int  # new + continuing

    @property
    def gap(self) -> int | None:
        return None if self.target_total is None else self.total - self.target_total

    @property
    def percent(self) -> float | None:
        if not self.target_total:
            return None
        return 100.0 * self.total / self.target_total


@dataclass(frozen=True)
class TargetCount:
    as_of: date
    periods: list[PeriodCount]  # the plan's periods
    after_plan: list[PeriodCount]  # every 年度 after the plan (actuals only), outside the totals
    target_total: int
    institution: str | None = None

    @property
    def actual_total(self) -> int:
        return sum(p.total for p in self.periods)

    def cumulative(self) -> list[int]:
        running, found = 0, []
        for p in self.periods:
            running += p.total
            found.append(running)
        return found


def count_targets(
    cases: Iterable[CaseLike], targets: Targets, as_of: date, institution: str | None = None
) -> TargetCount:
    """The target table as it stood on ``as_of`` (for one institution's supported cases, if given).

    After the plan's periods come its post-plan years, one 年度 each: the follow-up years of
    the last starts, and every year up to that of ``as_of``. There a start is new and a contact
    continuing by the same rules, but no target stands beside them.
    """
    back = follow_up_count(targets)
    plan_periods: list[Period] = [tuple(sorted(p.fiscal_years)) for p in targets.periods]
    after: list[Period] = following_periods(plan_periods[-1], back, targets) if plan_periods else []
    while after and after[-1][-1] < fiscal_year(as_of):
        after.append(period_of(after[-1][-1] + 1, targets))
    every = plan_periods + after
    period_of_year = {fy: period for period in every for fy in period}

    started: dict[Period, list[CaseLike]] = {p: [] for p in every}
    contacts: dict[int, list[date]] = {}  # each counted case's support and follow-up days
    for case in cases:
        seen = events_until(case, as_of)  # read once: its start, who supports it, its contacts
        start = next((e for e in seen if e.type == "started"), None)
        if start is None or fiscal_year(start.date) not in period_of_year:
            continue  # a start before the plan counts nowhere
        if institution is not None and institution not in named_at_start(start):
            continue
        started[period_of_year[fiscal_year(start.date)]].append(case)
        contacts[id(case)] = contact_days(seen)

    rows: list[PeriodCount] = []
    for index, period in enumerate(every):
        in_plan = index < len(plan_periods)
        spec = targets.periods[index] if in_plan else None
        earlier = every[max(0, index - back) : index]
        expected = [c for p in earlier for c in started[p]]
        first, last = period_bounds(period)
        continuing = [c for c in expected if first_between(contacts[id(c)], first, last) is not None]
        total = len(started[period]) + len(continuing)
        if as_of < first:
            state: PeriodState = "future"
        elif not in_plan:
            state = "actual_only"
        elif as_of < last:
            state = "in_progress"
        else:
            state = "met" if total >= (spec.total if spec else 0) else "missed"
        rows.append(PeriodCount(
            label=spec.label if spec else f"{period[0]}年度",
            fiscal_years=period,
            in_plan=in_plan,
            target_new=spec.new if spec else None,
            target_continuing=spec.continuing if spec else None,
            target_total=spec.total if spec else None,
            new_ids=tuple(sorted(c.id for c in started[period])),
            continuing_ids=tuple(sorted(c.id for c in continuing)),
            expected_ids=tuple(sorted(c.id for c in expected)),
            state=state,
            new=len(started[period]),
            continuing=len(continuing),
            expected_continuing=len(expected),
            total=total,
        ))  # fmt: skip
    return TargetCount(as_of, rows[: len(plan_periods)], rows[len(plan_periods) :], targets.total, institution)
