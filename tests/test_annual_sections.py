"""The year-end review's seven sections, one at a time, on a few cases built by hand.

Each section is a function from the cases of a 年度 to its tables (rows of values), its keys in
the review's JSON and its line of the written summary. The cases below are made for each test;
every expected number is worked out from the events listed beside them. The whole review, through
the real CLI, is tested in ``test_reports.py``; which cases each report reads, at the end here.
"""

from __future__ import annotations

from datetime import date

import pytest

from kitamono.models import Case, Company, Event
from kitamono.reference import load_reference
from kitamono.reports import annual
from kitamono.reports.activity import MEASURES, quarterly_needs
from kitamono.reports.annual import Year, annual_needs
from kitamono.reports.needs import Needs
from kitamono.reports.rows import Report
from kitamono.reports.targets import followups_needs, targets_needs

FY2019 = Year.of(2019, date(2020, 3, 31))  # the whole 年度: 2019-04-01 to 2020-03-31


@pytest.fixture(autouse=True)
def japanese(env):
    return env


@pytest.fixture(scope="module")
def ref():
    return load_reference(None)


def case(ident: str, received: str, *events: tuple, by: str = "hro", field: str = "food",
         municipality: str = "帯広市") -> Case:  # fmt: skip
    """Case ``<ident>-2019-0001`` received on ``received``; each event is (type, date, by, extra fields)."""
    made = [Event(type="received", date=date.fromisoformat(received), by=by)]
    for kind, day, actor, *extra in events:
        made.append(Event(type=kind, date=date.fromisoformat(day), by=actor, **(extra[0] if extra else {})))
    return Case(id=f"{ident}-2019-0001", received_on=date.fromisoformat(received), received_by=by, channel="visit",
                company=Company(name=f"株式会社{ident}", municipality=municipality), title=f"件名{ident}",
                field=field, events=made)  # fmt: skip


def json_of(section: annual.Section) -> dict:
    return Report("", section.tables, section.document).json()


# --- 1. activity ----------------------------------------------------------------------------------

ACTIVITY = [
    # X: received by 道総研 in Q1, referred to 中小 on the last day of Q1, started by 中小 on the first of Q3
    case("x", "2019-04-10", ("referred", "2019-06-30", "hro", {"to": "hsc"}),
         ("started", "2019-10-01", "hsc", {"lead": "hsc"})),
    # Y: received by 北洋 on the last day of Q3, supported on the year's last day, followed up the day after
    case("y", "2019-12-31", ("supported", "2020-03-31", "hokuyo"), ("followed_up", "2020-04-01", "hokuyo"),
         by="hokuyo", field="monozukuri"),
    # Z: received the day before the year began: nothing of it counts
    case("z", "2019-03-31", by="hro"),
]


def test_activity_counts_each_institution_field_and_quarter(ref):
    section = annual.activity(ACTIVITY, ref, FY2019)
    data = json_of(section)["activity"]
    zero = dict.fromkeys(MEASURES, 0)
    counted = {r["institution"]: {k: v for k, v in r.items() if v and k != "institution"} for r in data["institutions"]}
    assert counted == {
        "hro": {"received": 1, "referred_out": 1},
        "noastec": {},  # every support institution has its row (3(2)③), with nothing done
        "hsc": {"referred_in": 1, "started": 1},
        "hokuyo": {"received": 1, "supported": 1},
        "dogin": {},
    }
    assert data["fields"]["food"] == {**zero, "received": 1, "referred_out": 1, "referred_in": 1, "started": 1}
    assert data["fields"]["monozukuri"] == {**zero, "received": 1, "supported": 1}
    assert data["fields"]["it"] == data["fields"]["other"] == zero
    assert data["total"] == {**zero, "received": 2, "referred_out": 1, "referred_in": 1, "started": 1, "supported": 1}
    quarters = json_of(section)["quarters"]
    assert [(q["quarter"], q["start"], q["end"]) for q in quarters][2] == (3, date(2019, 10, 1), date(2019, 12, 31))
    assert [{k: v for k, v in q.items() if k in zero and v} for q in quarters] == [
        {"received": 1, "referred_out": 1, "referred_in": 1}, {}, {"received": 1, "started": 1}, {"supported": 1},
    ]  # fmt: skip
    assert section.tables[2].total[1:] == [None, None, 2, 1, 1, 1, 1, 0, 0]  # the quarters add up to the year
    assert section.summary == [
        "2019年度は相談受付 2 件、支援開始 1 件、支援実施 1 件、フォローアップ 0 件、終了 0 件でした。"
    ]
    assert section.charts[0].series["相談受付"] == [1.0, 0.0, 1.0, 0.0]


def test_activity_of_a_year_still_running_stops_at_as_of(ref):
    section = annual.activity(ACTIVITY, ref, Year.of(2019, date(2019, 9, 30)))
    quarters = json_of(section)["quarters"]
    assert [q["received"] for q in quarters] == [1, 0, 0, 0]  # Y is received after 09-30
    assert [q["started"] for q in quarters] == [0, 0, 0, 0]


# --- 2. targets -----------------------------------------------------------------------------------


def test_targets_as_they_stood_at_the_years_end(ref):
    cases = [
        case("a", "2018-05-01", ("started", "2018-06-01", "hro", {"lead": "hro"}),  # FY2018: first period
             ("followed_up", "2019-07-01", "hro")),  # continuing in FY2019
        case("b", "2018-05-02", ("started", "2018-06-02", "hro", {"lead": "hro"})),  # expected, not followed up
        case("c", "2019-05-01", ("started", "2019-06-01", "hro", {"lead": "hro"})),  # new in FY2019
        case("d", "2020-05-01", ("started", "2020-06-01", "hro", {"lead": "hro"})),  # after the year: unseen
    ]
    section = annual.targets(cases, ref, FY2019)
    periods = json_of(section)["targets"]["periods"]
    counted = [(p["label"], p["actual"]["new"], p["actual"]["continuing"], p["expected_continuing"]) for p in periods]
    assert counted[:3] == [
        ("2017–2018年度", 2, 0, 0), ("2019年度", 1, 1, 2), ("2020年度", 0, 0, 3),
    ]  # fmt: skip
    assert [p["status"] for p in periods[:3]] == ["missed", "missed", "future"]
    assert json_of(section)["targets"]["total"] == {"target": 120, "actual": 4}  # 2 + 2; FY2020 not yet seen
    assert section.summary == [
        "2019年度の支援件数は 2 件(新規 1 件、継続 1 件/対象 2 件)で、"
        "目標 20 件(新規 10 件)に対し達成率 10.0%(未達)です。",
        "計画期間の累計は 4 件(目標 120 件)です。",
    ]


def test_a_year_after_the_plan_has_its_own_line(ref):
    late = case("e", "2022-05-01", ("started", "2022-06-01", "hro", {"lead": "hro"}),
                ("supported", "2023-06-01", "hro"))  # fmt: skip
    section = annual.targets([late], ref, Year.of(2023, date(2024, 3, 31)))
    assert section.summary[0] == (
        "2023年度は計画期間後です(目標なし、実績のみ)。新たに支援を始めた案件 0 件、"
        "フォローアップの対象 1 件のうち支援した案件 1 件、計 1 件でした。"
    )


# --- 3. follow-up compliance ----------------------------------------------------------------------

COMPLIANCE = [
    # all started in FY2018 (the first period): each owes FY2019 and FY2020
    case("a", "2018-05-01", ("started", "2018-06-01", "hro", {"lead": "hro"}), ("followed_up", "2019-08-01", "hro")),
    case("b", "2018-05-02", ("started", "2018-07-01", "hro", {"lead": "hokuyo"})),  # nothing: missing
    case("c", "2018-05-03", ("started", "2018-08-01", "hro", {"lead": "hro"}),
         ("closed", "2019-01-10", "hro", {"outcome": "解決", "follow_up_waiver": "廃業"})),  # waived at the close
    case("d", "2019-05-01", ("started", "2019-06-01", "hro", {"lead": "hro"})),  # owes FY2020 and FY2021 only
]


def test_compliance_counts_done_missing_and_waived_by_the_year_support_began(ref):
    section = annual.compliance(COMPLIANCE, ref, FY2019)
    data = json_of(section)["followup_compliance"]
    assert {k: data[k] for k in ("owed", "done", "missing", "waived", "rate")} == {
        "owed": 3, "done": 1, "missing": 1, "waived": 1, "rate": 50.0,
    }  # fmt: skip
    assert data["by_start_year"] == [
        {"start_fiscal_year": 2018, "owed": 3, "done": 1, "missing": 1, "waived": 1, "rate": 50.0}
    ]
    assert [(m["id"], m["fiscal_year"], m["lead"], m["done_on"]) for m in data["missing_cases"]] == [
        ("b-2019-0001", 2019, "hokuyo", None)
    ]
    assert section.summary == ["フォローアップが必要な 2 件のうち 1 件を実施しました(実施率 50.0%)。"]
    assert section.tables[0].rows[0][0] == 2018 and section.tables[0].total[0] == "合計"


def test_compliance_of_a_year_that_owes_nothing(ref):
    section = annual.compliance(COMPLIANCE[3:], ref, FY2019)
    assert json_of(section)["followup_compliance"]["rate"] is None
    assert section.summary == ["この年度にフォローアップが必要な案件はありません。"]


# --- 4. cases by field, basic plan and 振興局 --------------------------------------------------------


def test_groups_count_each_case_once_per_group_it_belongs_to(ref):
    cases = [
        case("a", "2019-05-01", ("started", "2019-06-01", "hro", {"lead": "hro"})),  # 帯広市: obihiro, 十勝
        case("b", "2019-05-02", municipality="旭川市", field="monozukuri"),  # 旭川市 is in two plans
        case("c", "2018-05-03", ("followed_up", "2019-07-01", "hro"), municipality="網走市", field="other"),  # no plan
        case("d", "2018-05-04", municipality="札幌市", field="it"),  # nothing in FY2019: counted nowhere
    ]
    data = json_of(annual.groups(cases, ref, FY2019))
    assert [(r["key"], r["received"], r["started"], r["contacted"]) for r in data["cases_by_field"]] == [
        ("food", 1, 1, 0), ("monozukuri", 1, 0, 0), ("it", 0, 0, 0), ("other", 0, 0, 1),
    ]  # fmt: skip  # every field has a row, even with nothing in it
    assert [(r["key"], r["name"], r["received"]) for r in data["cases_by_plan"]] == [
        ("asahikawa_higashikagura_higashikawa", "旭川市・東神楽町・東川町", 1), ("obihiro", "帯広市", 1),
        ("asahikawa", "旭川市", 1), ("", "基本計画なし", 0),
    ]  # fmt: skip  # only plans with a case in the year
    assert [(r["key"], r["received"], r["contacted"]) for r in data["cases_by_subprefecture"]] == [
        ("上川", 1, 0), ("オホーツク", 0, 1), ("十勝", 1, 0),
    ]  # fmt: skip


# --- 5. referrals ---------------------------------------------------------------------------------


def test_referrals_count_each_pair_most_first(ref):
    cases = [
        case("a", "2019-05-01", ("referred", "2019-05-02", "hro", {"to": "hsc"}),
             ("referred", "2019-05-03", "hsc", {"to": "hokuyo"})),
        case("b", "2019-05-01", ("referred", "2019-06-01", "hro", {"to": "hsc"})),
        case("c", "2019-05-01", ("referred", "2019-06-02", "hro", {"to": "hokuyo"}),
             ("referred", "2020-04-01", "hro", {"to": "hokuyo"})),  # the second after the year
    ]
    section = annual.referrals(cases, ref, FY2019)
    assert json_of(section)["referrals"] == [
        {"from": "hro", "to": "hsc", "count": 2},
        {"from": "hro", "to": "hokuyo", "count": 1},  # ties in the plan's order of institutions
        {"from": "hsc", "to": "hokuyo", "count": 1},
    ]
    assert section.summary == ["機関間の紹介は 4 件で、最も多いのは 道総研→中小企業総合支援センター(2 件)です。"]
    assert annual.referrals([], ref, FY2019).summary == ["機関間の紹介はありませんでした。"]


# --- 6. stale cases -------------------------------------------------------------------------------


def test_stale_lists_open_cases_quiet_for_more_than_180_days(ref):
    cases = [
        case("quiet", "2019-09-01", ("supported", "2019-10-02", "hro")),  # 181 days before 2020-03-31
        case("recent", "2019-09-01", ("supported", "2019-10-03", "hro")),  # 180 days: not yet
        case("closed", "2018-05-01", ("closed", "2018-06-01", "hro", {"outcome": "解決"})),
        case("later", "2020-04-01"),  # received after the year
        case("older", "2018-05-01", ("started", "2018-06-01", "hro", {"lead": "hokuyo"})),  # 669 days
    ]
    section = annual.stale(cases, ref, FY2019)
    assert [(s["id"], s["status"], s["last_event"], s["days"]) for s in json_of(section)["stale"]] == [
        ("older-2019-0001", "supporting", date(2018, 6, 1), 669),
        ("quiet-2019-0001", "supporting", date(2019, 10, 2), 181),
    ]  # fmt: skip
    table = section.tables[0]
    assert [table.columns[n].show(row[n]) for row in table.rows for n in [table.position("in_charge")]] == [
        "北洋銀行", "道総研",
    ]  # the lead in charge, else the window that took the case
    assert section.summary == ["180日を超えて記録のない未終了の案件は 2 件です。"]


# --- 7. the overview ------------------------------------------------------------------------------


def test_the_overview_gathers_each_sections_lines_and_charts_in_order(ref):
    sections = [annual.activity(ACTIVITY, ref, FY2019), annual.targets(ACTIVITY, ref, FY2019),
                annual.referrals(ACTIVITY, ref, FY2019)]  # fmt: skip
    overview = annual.overview(sections, FY2019)
    assert overview.summary == [line for s in sections for line in s.summary]
    assert overview.document == {"summary": overview.summary}
    assert [c.title for c in overview.charts] == ["2019年度 四半期別の件数", "期間別の目標と実績(延べ件数)"]
    running = annual.overview(sections, Year.of(2019, date(2019, 9, 30)))
    assert running.summary[0] == "2019年度は終わっていません。2019-09-30 までの記録で集計しています。"
    assert running.summary[1:] == overview.summary


# --- which cases each report reads ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("needs", "expected"),
    [
        (quarterly_needs(2019, 3, date(2020, 5, 1)), Needs.active_between(date(2019, 4, 1), date(2019, 12, 31))),
        (quarterly_needs(2019, 3, date(2019, 11, 15)), Needs.active_between(date(2019, 4, 1), date(2019, 11, 15))),
        (followups_needs(date(2020, 4, 15)), Needs.started_by(date(2020, 4, 15))),
        # starts from the plan's first day (FY2017) count, up to as_of: after the plan as actuals only
        (targets_needs(load_reference(None).targets, date(2020, 4, 15)),
         Needs.started_by(date(2020, 4, 15), since=date(2017, 4, 1))),
        (targets_needs(load_reference(None).targets, date(2026, 1, 1)),
         Needs.started_by(date(2026, 1, 1), since=date(2017, 4, 1))),
        (annual_needs(2019, date(2020, 3, 31)), Needs()),  # a case quiet since long before still shows as stale
    ],
)
def test_each_report_says_which_cases_it_reads(needs, expected):
    assert needs == expected


class _Loaded:
    """What ``Needs.pick`` asks of the loader, answered with the question itself."""

    cases = "all"

    def received_in(self, fy):
        return ("received_in", fy)

    def active_between(self, first, last):
        return ("active_between", first, last)

    def started_by(self, last, since=None):
        return ("started_by", last, since)


def test_the_loader_is_asked_exactly_what_a_report_needs():
    loaded = _Loaded()
    assert Needs.received_in(2019).pick(loaded) == ("received_in", 2019)
    assert Needs.active_between(date(2019, 4, 1), date(2019, 6, 30)).pick(loaded) == (
        "active_between", date(2019, 4, 1), date(2019, 6, 30))  # fmt: skip
    assert Needs.started_by(date(2020, 1, 1)).pick(loaded) == ("started_by", date(2020, 1, 1), None)
    assert Needs().pick(loaded) == "all"
