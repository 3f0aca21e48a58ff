"""What each institution did: the counting of events, and the quarterly aggregation.

Nothing dated after ``as_of`` is counted, so a report can be made again exactly as it looked on
that day::

    kitamono report quarterly --fy 2019 --quarter 3 --format json
    {"fiscal_year": 2019, "quarter": 3, "start": "2019-10-01", "end": "2019-12-31",
     "institutions": [{"institution": "hro", "received": 4, "referred_out": 2, ...}], ...}

The counts, per institution (who acted) and per field (of the case): received (by the window
that took the inquiry), referred_out / referred_in (each referral counts once for the sender and
once for the receiver), started (for the lead), supported, followed_up and closed (for the
institution that recorded them).

The plan gathers 「各地域経済牽引支援機関における連携支援事業の実施状況を四半期毎に」 (3(2)③): every
support institution has its row, zeros included, so a quarter with nothing done shows as such.
The network's bodies (and any other body) appear when they acted, or all of them with ``--all``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from kitamono.cases import counted_events
from kitamono.errors import InputError
from kitamono.fiscal import (
    fiscal_year,
    format_date,
    format_fiscal_year,
    format_quarter,
    fy_bounds,
    last_completed_quarter,
    parse_fiscal_year,
    parse_quarter,
    quarter_bounds,
)
from kitamono.i18n import t
from kitamono.models import CASE_FIELDS, Case, EventLike
from kitamono.reference import Reference
from kitamono.reports.needs import Needs
from kitamono.reports.rows import Column, Keyed, Report, Rows, Table, Total

MEASURES: tuple[str, ...] = (
    "received", "referred_out", "referred_in", "started", "supported", "followed_up", "closed",
)  # fmt: skip


# --- choosing the quarter -------------------------------------------------------------------------


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


def _attributions(event: EventLike) -> list[tuple[str, str]]:
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


def listed_institutions(ref: Reference, every_network: bool = False) -> list[str]:
    """The institutions an aggregation lists even when they did nothing: the support
    institutions (3(2)③), and with ``every_network`` the network's participants too."""
    return [
        ident for ident, inst in ref.institutions.items()
        if inst.kind == "support" or (every_network and (inst.kind == "network" or inst.network_member))
    ]  # fmt: skip


def tally(cases: Iterable[Case], first: date, last: date, ref: Reference, listed: Iterable[str] = ()) -> Tally:
    """Every counted event dated from ``first`` to ``last`` (both included); the ``listed``
    institutions have a row (of zeros, if nothing happened), the others only when they acted."""
    institutions: dict[str, Counter] = defaultdict(Counter, {ident: Counter() for ident in listed})
    fields: dict[str, Counter] = defaultdict(Counter, {f: Counter() for f in CASE_FIELDS})
    for case in cases:
        for event in counted_events(case):
            if not first <= event.date <= last:
                continue
            for ident, measure in _attributions(event):
                institutions[ident][measure] += 1
                fields[case.field][measure] += 1
    order = {ident: i for i, ident in enumerate(ref.institutions)}
    ordered = dict(sorted(institutions.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))
    return Tally(first, last, ordered, dict(fields))


def counts(counter: Counter) -> list[int]:
    """The measures of a counter, in ``MEASURES`` order."""
    return [counter.get(m, 0) for m in MEASURES]


def measure_columns() -> list[Column]:
    """One numeric column per measure, in ``MEASURES`` order."""
    return [Column(m, t(f"reports.measure.{m}"), numeric=True) for m in MEASURES]


def tally_tables(found: Tally, ref: Reference, title_inst: str, title_field: str) -> tuple[Table, Table]:
    """The counts by institution and by field, each with the total as its last row."""
    total = [t("reports.total_row"), *counts(found.total)]
    by_institution = Table(
        title_inst, [Column("institution", t("reports.col.institution"), show=ref.short_name), *measure_columns()],
        [[ident, *counts(c)] for ident, c in found.institutions.items()], total=total,
    )  # fmt: skip
    by_field = Table(
        title_field, [Column("field", t("reports.col.field"), show=ref.field_name), *measure_columns()],
        [[f, *counts(c)] for f, c in found.fields.items()], total=total,
    )  # fmt: skip
    return by_institution, by_field


def tally_document(found: Tally, by_institution: Table, by_field: Table) -> dict[str, Any]:
    """Where a tally's rows go in the JSON: its span, the institutions, the fields, the total."""
    return {
        "start": found.first,
        "end": found.last,
        "institutions": Rows(by_institution),
        "fields": Keyed(by_field, "field"),
        "total": Total(by_institution),
    }


# --- the quarterly aggregation --------------------------------------------------------------------


def quarterly_needs(fy: int, q: int, as_of: date) -> Needs:
    """The quarter and the 年度 up to it: only cases with an event in that span can count."""
    return Needs.active_between(fy_bounds(fy)[0], min(quarter_bounds(fy, q)[1], as_of))


def quarterly_report(cases: list[Case], ref: Reference, fy: int, q: int, as_of: date, era: bool = False,
                     every_network: bool = False) -> Report:  # fmt: skip
    """One quarter's activity per institution and per field, with the 年度 to date beside it:
    every support institution, and the network's bodies that acted (all of them with
    ``every_network``)."""
    start, end = quarter_bounds(fy, q)
    last = min(end, as_of)
    listed = listed_institutions(ref, every_network)
    in_quarter = tally(cases, start, last, ref, listed)
    to_date = tally(cases, fy_bounds(fy)[0], last, ref, listed)
    name = format_quarter(fy, q, era)
    ytd_label = t("reports.col.year_to_date", fy=format_fiscal_year(fy, era), end=format_date(last, era))
    quarter_tables = tally_tables(in_quarter, ref, t("reports.quarterly.by_institution", quarter=name),
                                  t("reports.quarterly.by_field", quarter=name))  # fmt: skip
    ytd_tables = tally_tables(
        to_date, ref, t("reports.ytd.by_institution", label=ytd_label), t("reports.ytd.by_field", label=ytd_label)
    )
    beside = Table(
        t("reports.quarterly.beside", quarter=name),
        [Column("measure", t("reports.col.measure"), show=lambda m: t(f"reports.measure.{m}")),
         Column("quarter", t("reports.col.quarter"), numeric=True),
         Column("year_to_date", ytd_label, numeric=True)],
        [[m, in_quarter.total.get(m, 0), to_date.total.get(m, 0)] for m in MEASURES],
    )  # fmt: skip
    summary = [t("reports.quarterly.partial", as_of=format_date(as_of, era))] if last < end else []
    quarter = tally_document(in_quarter, *quarter_tables)
    document = {
        "fiscal_year": fy,
        "quarter": q,
        "start": start,
        "end": end,
        "as_of": as_of,
        **{k: v for k, v in quarter.items() if k not in ("start", "end")},
        "year_to_date": tally_document(to_date, *ytd_tables),
    }
    title = t("reports.quarterly.title", quarter=name)
    return Report(title, [*quarter_tables, beside, *ytd_tables], document, summary=summary)
