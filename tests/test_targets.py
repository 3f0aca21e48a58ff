"""The plan's target counting and the follow-up duties, on small repositories built with the CLI.

Every expected number is worked out by hand in the test from the dates it records. The rules:
FY2017 and FY2018 are one period; a case is *new* in the period of its ``started`` date;
*continuing* in one of the next two periods when a ``supported`` or ``followed_up`` event is
dated in it; it owes a follow-up in each of those two periods.
"""

from __future__ import annotations

import json


def targets(run, *args: str) -> dict:
    result = run("targets", "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def followups(run, *args: str) -> dict:
    result = run("followups", "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def period(data: dict, label: str) -> dict:
    return next(p for p in data["periods"] if p["label"] == label)


def counts(data: dict, label: str) -> tuple[int, int, int, int]:
    """(new, continuing, total, expected continuing) of one period."""
    p = period(data, label)
    return p["actual"]["new"], p["actual"]["continuing"], p["actual"]["total"], p["expected_continuing"]


def owed(data: dict, bucket: str) -> list[tuple[str, int]]:
    return [(item["id"], item["fiscal_year"]) for item in data[bucket]]


def test_an_empty_repository_shows_the_plan_targets(repo, run):
    data = targets(run)
    assert [p["label"] for p in data["periods"]] == ["2017–2018年度", "2019年度", "2020年度", "2021年度", "2022年度"]
    assert [p["fiscal_years"] for p in data["periods"]] == [[2017, 2018], [2019], [2020], [2021], [2022]]
    assert [p["target"] for p in data["periods"]] == [
        {"new": 10, "continuing": 0, "total": 10},
        {"new": 10, "continuing": 10, "total": 20},
        {"new": 10, "continuing": 20, "total": 30},
        {"new": 10, "continuing": 20, "total": 30},
        {"new": 10, "continuing": 20, "total": 30},
    ]
    assert data["total"] == {"target": 120, "actual": 0}
    assert [p["status"] for p in data["periods"]] == ["missed"] * 5  # all ended by 2026-11-28, none met
    # after the plan: every year to today's, actuals only
    assert [p["label"] for p in data["after_plan"]] == ["2023年度", "2024年度", "2025年度", "2026年度"]
    assert [p["status"] for p in data["after_plan"]] == ["actual_only"] * 4
    assert [p["label"] for p in targets(run, "--as-of", "2021-06-01")["after_plan"]] == ["2023年度", "2024年度"]
    assert data["as_of"] == "2026-11-28"


def test_started_on_march_31_and_april_1_fall_in_different_periods(repo, run, new_case, step):
    march = new_case(received_on="2019-03-20")
    april = new_case(received_on="2019-03-25")
    step("start", march, "--lead", "hro", date="2019-03-31")  # FY2018: the first, merged period
    step("start", april, "--lead", "hro", date="2019-04-01")  # FY2019
    data = targets(run)
    assert counts(data, "2017–2018年度") == (1, 0, 1, 0)
    assert counts(data, "2019年度") == (1, 0, 1, 1)  # the March case is expected to continue, but has no event
    assert counts(data, "2020年度") == (0, 0, 0, 2)  # both are in their follow-up window
    assert counts(data, "2021年度") == (0, 0, 0, 1)  # only the April case still is
    # the follow-up years follow the same line: FY2019–2020 against FY2020–2021
    due = followups(run, "--as-of", "2019-04-02")
    assert owed(due, "due") == [(march, 2019)]
    assert owed(due, "overdue") == []
    later = followups(run, "--as-of", "2021-06-01")
    # within a year, the case with the oldest last contact comes first
    assert owed(later, "overdue") == [(march, 2019), (march, 2020), (april, 2020)]
    assert owed(later, "due") == [(april, 2021)]


def test_a_follow_up_on_the_last_day_of_a_quarter_and_of_the_year(repo, run, new_case, step):
    case_id = new_case(received_on="2018-05-01")
    step("start", case_id, "--lead", "hro", date="2018-05-10")
    step("follow-up", case_id, date="2020-03-31")  # the last day of FY2019 Q4
    data = targets(run)
    assert counts(data, "2019年度") == (0, 1, 1, 1)
    assert counts(data, "2020年度") == (0, 0, 0, 1)
    found = followups(run)
    assert owed(found, "done") == [(case_id, 2019)]
    assert found["done"][0]["last_contact"] == "2020-03-31"
    assert owed(found, "overdue") == [(case_id, 2020)]


def test_as_of_before_and_after_an_event(repo, run, new_case, step):
    case_id = new_case(received_on="2018-05-01")
    step("start", case_id, "--lead", "hro", date="2018-05-10")
    step("support", case_id, date="2019-09-17")
    before = targets(run, "--as-of", "2019-09-16")
    on_the_day = targets(run, "--as-of", "2019-09-17")
    assert counts(before, "2019年度") == (0, 0, 0, 1)
    assert counts(on_the_day, "2019年度") == (0, 1, 1, 1)
    assert period(before, "2019年度")["status"] == "in_progress"
    assert period(before, "2020年度")["status"] == "future"
    # as of a day before the start, the case is not supported at all
    assert counts(targets(run, "--as-of", "2018-05-09"), "2017–2018年度") == (0, 0, 0, 0)
    assert owed(followups(run, "--as-of", "2019-09-16"), "due") == [(case_id, 2019)]
    assert owed(followups(run, "--as-of", "2019-09-17"), "done") == [(case_id, 2019)]
    assert followups(run, "--as-of", "2018-05-09") == {
        "as_of": "2018-05-09", "institution": None, "overdue": [], "due": [], "done": [],
    }  # fmt: skip


def test_continuing_counts_only_in_the_two_periods_after_the_start(repo, run, new_case, step):
    fy2017 = new_case(received_on="2018-03-29")
    step("start", fy2017, "--lead", "hro", date="2018-03-30")  # FY2017, in the merged first period
    step("support", fy2017, date="2018-06-01")  # FY2018: still the start period, not continuing
    for day in ("2019-06-01", "2020-06-01", "2021-06-01"):
        step("follow-up", fy2017, date=day)
    data = targets(run)
    assert counts(data, "2017–2018年度") == (1, 0, 1, 0)
    assert counts(data, "2019年度") == (0, 1, 1, 1)
    assert counts(data, "2020年度") == (0, 1, 1, 1)
    assert counts(data, "2021年度") == (0, 0, 0, 0)  # a third year is welcome but not counted
    assert data["total"] == {"target": 120, "actual": 3}
    assert owed(followups(run), "done") == [(fy2017, 2019), (fy2017, 2020)]


def test_a_case_referred_twice_counts_once(repo, run, new_case, step):
    case_id = new_case(received_on="2019-05-14")
    step("refer", case_id, "--to", "hsc", date="2019-05-15")
    step("refer", case_id, "--to", "hokuyo", date="2019-05-20", by="hsc")
    step("start", case_id, "--lead", "hokuyo", "--with", "hsc", date="2019-06-03", by="hokuyo")
    assert counts(targets(run), "2019年度") == (1, 0, 1, 0)
    assert counts(targets(run, "--institution", "北洋銀行"), "2019年度") == (1, 0, 1, 0)
    assert counts(targets(run, "--institution", "hsc"), "2019年度") == (1, 0, 1, 0)  # supporting
    assert counts(targets(run, "--institution", "hro"), "2019年度") == (0, 0, 0, 0)  # only referred it
    assert owed(followups(run, "--institution", "hokuyo"), "overdue") == [(case_id, 2020), (case_id, 2021)]
    assert followups(run, "--institution", "hro")["overdue"] == []
    assert followups(run)["overdue"][0]["lead"] == "hokuyo"


def test_a_waived_case_owes_nothing_until_it_is_reopened(repo, run, new_case, step):
    case_id = new_case(received_on="2018-05-01")
    step("start", case_id, "--lead", "hro", date="2018-05-10")
    step("close", case_id, "--outcome", "製品化", "--no-follow-up", "--reason", "事業を譲渡した", date="2018-09-01")
    step("reopen", case_id, date="2020-06-01")
    step("follow-up", case_id, date="2020-07-01")
    # closed with a waiver: the missing FY2019 follow-up is not a duty, but the case still counts as expected
    closed = followups(run, "--as-of", "2020-05-01")
    assert closed["overdue"] == closed["due"] == closed["done"] == []
    assert counts(targets(run, "--as-of", "2020-05-01"), "2019年度") == (0, 0, 0, 1)
    # reopened: the waiver lapses; FY2019 is overdue again and FY2020 is due
    reopened = followups(run, "--as-of", "2020-06-02")
    assert owed(reopened, "overdue") == [(case_id, 2019)]
    assert owed(reopened, "due") == [(case_id, 2020)]
    # followed up: FY2020 is done and counts as continuing
    after = followups(run, "--as-of", "2020-07-01")
    assert owed(after, "overdue") == [(case_id, 2019)]
    assert owed(after, "done") == [(case_id, 2020)]
    data = targets(run)
    assert counts(data, "2019年度") == (0, 0, 0, 1)
    assert counts(data, "2020年度") == (0, 1, 1, 1)


def test_follow_ups_after_the_plan_are_apart_from_its_totals(repo, run, new_case, step):
    late = new_case(received_on="2022-04-05")
    step("start", late, "--lead", "hro", date="2022-05-09")  # FY2022: the plan's last period
    step("follow-up", late, date="2023-06-01")  # FY2023: after the plan
    after = new_case(received_on="2023-05-01")
    step("start", after, "--lead", "hro", date="2023-05-20")  # FY2023: not a plan case
    data = targets(run)
    assert counts(data, "2022年度") == (1, 0, 1, 0)
    assert data["total"] == {"target": 120, "actual": 1}
    # after the plan, actuals only: the FY2023 start is new in FY2023, and owed in FY2024–2025
    assert data["after_plan"] == [
        {"label": "2023年度", "fiscal_years": [2023], "actual": {"new": 1, "continuing": 1, "total": 2},
         "expected_continuing": 1, "status": "actual_only"},
        {"label": "2024年度", "fiscal_years": [2024], "actual": {"new": 0, "continuing": 0, "total": 0},
         "expected_continuing": 2, "status": "actual_only"},
        {"label": "2025年度", "fiscal_years": [2025], "actual": {"new": 0, "continuing": 0, "total": 0},
         "expected_continuing": 1, "status": "actual_only"},
        {"label": "2026年度", "fiscal_years": [2026], "actual": {"new": 0, "continuing": 0, "total": 0},
         "expected_continuing": 0, "status": "actual_only"},
    ]  # fmt: skip
    # a case started after the plan still owes its follow-ups
    found = followups(run)
    assert owed(found, "done") == [(late, 2023)]
    assert owed(found, "overdue") == [(after, 2024), (late, 2024), (after, 2025)]  # oldest contact first
    assert owed(found, "due") == []  # FY2026 is beyond both windows


def test_met_and_missed_with_the_cumulative_total(repo, run, new_case, step):
    """Ten starts in FY2018 meet the first target (10); nine of them followed up in FY2019 plus
    ten new in FY2019 make 19, one short of 20."""
    first = []
    for n in range(10):
        case_id = new_case(received_on="2018-06-01", company=f"株式会社テスト{n}")
        step("start", case_id, "--lead", "hro", date="2018-07-02")
        first.append(case_id)
    for case_id in first[:9]:
        step("follow-up", case_id, date="2019-10-01")
    for n in range(10):
        case_id = new_case(received_on="2019-06-01", company=f"株式会社試験{n}")
        step("start", case_id, "--lead", "hro", date="2019-07-01")
    data = targets(run)
    assert counts(data, "2017–2018年度") == (10, 0, 10, 0)
    assert counts(data, "2019年度") == (10, 9, 19, 10)
    assert [p["status"] for p in data["periods"][:2]] == ["met", "missed"]
    assert data["total"] == {"target": 120, "actual": 29}
    table = run("targets", "--format", "plain").stdout
    first_row = next(line for line in table.splitlines() if line.startswith("2017–2018年度"))
    assert first_row.split() == ["2017–2018年度", "10", "10", "0", "0", "0", "10", "10", "0", "100", "10", "達成"]
    second_row = next(line for line in table.splitlines() if line.startswith("2019年度"))
    assert second_row.split() == ["2019年度", "10", "10", "10", "10", "9", "20", "19", "-1", "95", "29", "未達"]
    # expected continuing over the periods: 0 + 10 (FY2018 starts) + 20 (both) + 10 (FY2019 starts) + 0 = 40
    total_row = next(line for line in table.splitlines() if line.startswith("計画期間の合計"))
    assert total_row.split() == ["計画期間の合計", "50", "20", "70", "40", "9", "120", "29", "-91", "24.2", "29"]


def test_an_unknown_institution_is_refused(repo, run):
    result = run("targets", "--institution", "存在しない機関")
    assert result.exit_code == 1
    assert result.stderr.startswith("エラー: 機関「存在しない機関」は登録されていません")
    assert result.stdout == ""
