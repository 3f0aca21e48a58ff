"""The review as the plan asks for it (issue 15, points 10–15), through the real CLI.

Each test builds its few cases by hand with ``case new`` and the event commands; every expected
number is worked out in the comments from the dates recorded. The clauses are the plan's:
3(2)③ (each support institution's activity gathered every quarter), 3(2)④ (the review verifies
effects), 1(5) (targets held jointly; supported cases include approved 地域経済牽引事業計画; at least
three fiscal years of follow-up).
"""

from __future__ import annotations

import json

import pytest

from conftest import snapshot

SUPPORT = ["hro", "noastec", "hsc", "hokuyo", "dogin"]
NETWORK = [
    "asahikawa_plaza", "asahikawa_itc", "asahikawa_craft", "okhotsk", "kitami_itc", "kushiro_itc", "muroran_tc",
    "tomakomai_tc", "doo", "tokachi", "hakodate", "hokkaido",
]  # fmt: skip  # the network's participants other than the support institutions (北海道 among them)


def as_json(run, *args: str) -> dict:
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


# --- 10. the quarterly aggregation lists every support institution --------------------------------


def test_every_support_institution_has_its_row_and_network_bodies_when_they_acted(repo, run, new_case):
    new_case(received_on="2019-10-15", received_by="tokachi")  # the only event of FY2019 Q3
    data = as_json(run, "report", "quarterly", "--fy", "2019", "--quarter", "3")
    rows = {r["institution"]: r for r in data["institutions"]}
    assert list(rows) == [*SUPPORT, "tokachi"]  # the five with zeros, then the body that acted
    assert all(rows[i]["received"] == 0 and rows[i]["started"] == 0 for i in SUPPORT)
    assert rows["tokachi"]["received"] == 1
    assert data["total"]["received"] == 1
    everyone = as_json(run, "report", "quarterly", "--fy", "2019", "--quarter", "3", "--all")
    assert [r["institution"] for r in everyone["institutions"]] == SUPPORT + NETWORK
    assert [r["institution"] for r in everyone["year_to_date"]["institutions"]] == SUPPORT + NETWORK
    assert everyone["total"] == data["total"]


def test_an_empty_quarter_still_shows_the_five(repo, run):
    text = run("report", "quarterly", "--fy", "2019", "--quarter", "1", "--format", "plain").stdout
    table = text.split("【")[1].splitlines()
    assert [line.split()[0] for line in table[2:7]] == [
        "道総研", "ノーステック財団", "中小企業総合支援センター", "北洋銀行", "北海道銀行",
    ]  # fmt: skip
    assert table[7].split() == ["合計", "0", "0", "0", "0", "0", "0", "0"]


# --- 11. the review verifies effects --------------------------------------------------------------


@pytest.fixture
def effects(repo, run, new_case, step):
    """FY2019, case by case (days worked out by hand):

    P received 04-01 (hro), started 04-11 (lead hro: 10 days), approved 06-01, closed 08-01 as 事業化.
    Q received 05-01 (hokuyo), referred hokuyo→hsc 05-10, started 06-10 (lead hsc: 40 days),
      followed up 10-10 (first follow-up 122 days after the start), closed 2020-02-01 as 販路拡大.
    R received 2018-06-01, started 2018-07-01 (lead hro), approved 2018-12-01, followed up 2019-07-01
      (365 days after the start), closed 09-01 with no kind (未分類).
    S received 07-01, referred hro→noastec 07-05, started 08-04 (lead hokuyo, with noastec: 34 days).
    T received 09-01, referred hro→hsc 09-02, never started.
    U received 04-02, closed 05-01 as 中止, reopened 06-01: not closed at the year's end.
    """
    ids = {
        "P": new_case(received_on="2019-04-01", company="株式会社P", approved_project="2019-06-01"),
        "Q": new_case(received_on="2019-05-01", company="株式会社Q", received_by="hokuyo"),
        "R": new_case(received_on="2018-06-01", company="株式会社R", approved_project="2018-12-01"),
        "S": new_case(received_on="2019-07-01", company="株式会社S"),
        "T": new_case(received_on="2019-09-01", company="株式会社T"),
        "U": new_case(received_on="2019-04-02", company="株式会社U"),
    }
    P, Q, R, S, T, U = (ids[k] for k in "PQRSTU")
    step("start", R, "--lead", "hro", date="2018-07-01")
    step("start", P, "--lead", "hro", date="2019-04-11")
    step("close", U, "--outcome", "見送り", "--outcome-kind", "中止", date="2019-05-01")
    step("refer", Q, "--to", "hsc", date="2019-05-10", by="hokuyo")
    step("reopen", U, date="2019-06-01")
    step("start", Q, "--lead", "hsc", date="2019-06-10", by="hsc")
    step("follow-up", R, date="2019-07-01")
    step("refer", S, "--to", "noastec", date="2019-07-05")
    step("close", P, "--outcome", "新製品の販売を開始", "--outcome-kind", "事業化", date="2019-08-01")
    step("start", S, "--lead", "hokuyo", "--with", "noastec", date="2019-08-04", by="hokuyo")
    step("close", R, "--outcome", "解決", date="2019-09-01")
    step("refer", T, "--to", "hsc", date="2019-09-02")
    step("follow-up", Q, date="2019-10-10", by="hsc")
    step("close", Q, "--outcome", "道外の商社と取引開始", "--outcome-kind", "sales_channel", date="2020-02-01",
         by="hsc")  # fmt: skip
    return ids


def test_the_review_counts_closed_cases_by_outcome_kind(effects, run):
    outcomes = as_json(run, "report", "annual", "--fy", "2019")["outcomes"]
    counted = {row["kind"]: row["cases"] for row in outcomes["closed_by_kind"]}
    assert counted == {
        "commercialised": 1, "product": 0, "sales_channel": 1, "equipment": 0, "funding": 0, "technical": 0,
        "human_resources": 0, "discontinued": 0, "other": 0, None: 1,
    }  # fmt: skip  # P, Q, and R closed with no kind; U was reopened
    assert outcomes["closed_by_kind"][-1] == {"kind": None, "name": "未分類(種類の記録なし)", "cases": 1}


def test_the_review_shows_approved_projects_per_period(effects, run):
    rows = as_json(run, "report", "annual", "--fy", "2019")["outcomes"]["approved_projects"]
    assert rows == [
        # R started in the first period, approved 2018-12-01
        {"fiscal_years": [2017, 2018], "supported": 1, "approved": 1, "share": 100.0, "label": "2017–2018年度"},
        # new P, Q, S and continuing R; P (06-01) and R approved
        {"fiscal_years": [2019], "supported": 4, "approved": 2, "share": 50.0, "label": "2019年度"},
    ]


def test_the_review_shows_median_days_to_start_and_to_first_follow_up(effects, run):
    rows = as_json(run, "report", "annual", "--fy", "2019")["outcomes"]["durations"]
    assert rows == [
        {"measure": "receipt_to_start", "cases": 3, "median_days": 34},  # P 10, S 34, Q 40
        {"measure": "start_to_first_follow_up", "cases": 2, "median_days": 243.5},  # Q 122, R 365
    ]


def test_the_review_shows_the_referrals_that_led_to_a_start(effects, run):
    referred = as_json(run, "report", "annual", "--fy", "2019")["outcomes"]["referrals_to_start"]
    assert referred == {
        "referrals": 3, "started": 2, "rate": 66.7,
        "by_institution": [
            {"institution": "noastec", "referrals": 1, "started": 1, "rate": 100.0},  # S: supporting
            {"institution": "hsc", "referrals": 2, "started": 1, "rate": 50.0},  # Q led to a start, T not
        ],
    }  # fmt: skip


def test_the_outcomes_line_of_the_summary(effects, run, monkeypatch):
    summary = as_json(run, "report", "annual", "--fy", "2019")["summary"]
    assert summary[-1] == (
        "2019年度に終了した案件は 3 件で、成果は 事業化 1 件、販路拡大 1 件、未分類(種類の記録なし) 1 件 です。"
    )
    monkeypatch.setenv("KITAMONO_LANG", "en")
    english = run("report", "annual", "--fy", "2019", "--format", "plain")
    assert "Outcomes of the cases closed in FY2019" in english.stdout
    assert "outcomes: Commercialised 1, New sales channels 1, Unclassified (no kind recorded) 1." in english.stdout


def test_the_outcome_kind_is_kept_with_the_free_text(effects, run):
    events = as_json(run, "case", "history", effects["P"])
    closed = next(e for e in events if e["type"] == "closed")
    assert (closed["outcome"], closed["outcome_kind"]) == ("新製品の販売を開始", "commercialised")
    shown = run("case", "history", effects["P"], "--format", "plain").stdout
    assert "結果: 新製品の販売を開始 / 成果の種類: 事業化" in shown


def test_an_unknown_outcome_kind_is_refused_and_nothing_changes(repo, run, new_case):
    case_id = new_case()
    before = snapshot(repo)
    result = run("case", "close", case_id, "--outcome", "解決", "--outcome-kind", "大成功")
    assert result.exit_code == 1
    assert result.stderr.startswith("エラー: 成果の種類「大成功」は登録されていません。")
    assert "使える種類: 事業化 (commercialised)、製品化 (product)、" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(repo) == before


def test_check_names_an_outcome_kind_the_data_does_not_know(repo, run, new_case):
    case_id = new_case()
    path = repo / "cases" / "2019" / f"{case_id}.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "- {type: closed, date: 2019-06-01, by: hro, outcome: 解決, "
                    "outcome_kind: jackpot}\n", encoding="utf-8")  # fmt: skip
    result = run("check")
    assert result.exit_code == 1
    said = result.stdout + result.stderr
    assert "events[1].outcome_kind: 成果の種類「jackpot」は data/outcomes.yaml にありません" in said


# --- 12. targets are joint ------------------------------------------------------------------------


def test_an_institution_sees_its_part_of_the_joint_actual(repo, run, new_case, step):
    # FY2019: A led by 北洋銀行, B led by 道総研 with 北洋銀行, C led by 道総研 alone: joint new 3, 北洋 2
    a, b, c = (new_case(received_on="2019-05-01", company=f"株式会社{n}") for n in "ABC")
    step("start", a, "--lead", "hokuyo", date="2019-06-01", by="hokuyo")
    step("start", b, "--lead", "hro", "--with", "hokuyo", date="2019-06-02")
    step("start", c, "--lead", "hro", date="2019-06-03")
    data = as_json(run, "targets", "--institution", "北洋銀行")
    fy2019 = next(p for p in data["periods"] if p["label"] == "2019年度")
    assert fy2019["target"] == {"new": 10, "continuing": 10, "total": 20}  # the joint target, beside
    assert fy2019["joint_actual"] == {"new": 3, "continuing": 0, "total": 3}
    assert fy2019["actual"] == {"new": 2, "continuing": 0, "total": 2}  # 北洋銀行's part
    assert fy2019["share"] == 66.7  # 2 of 3
    assert fy2019["status"] == "missed"  # the joint state: 3 against the joint 20
    assert data["total"] == {"target": 120, "actual": 2, "joint_actual": 3, "share": 66.7}
    text = run("targets", "--institution", "北洋銀行", "--format", "plain").stdout
    assert "共同の目標と北洋銀行の実績" in text
    header = text.splitlines()[1].split()
    assert header[:4] == ["期間", "目標計(全体)", "実績計(全体)", "状況(全体)"]
    assert header[-1] == "割合(%)"
    row = next(line for line in text.splitlines() if line.startswith("2019年度"))
    assert row.split() == ["2019年度", "20", "3", "未達", "2", "0", "0", "2", "66.7"]
    assert "機関ごとの目標はありません" in text


# --- 13. after the plan ---------------------------------------------------------------------------


def test_starts_after_the_plan_are_counted_on_their_own_lines(repo, run, new_case, step):
    # FY2023: two starts; one followed up in FY2024. No target after the plan: 実績のみ
    x, y = (new_case(received_on="2023-05-01", company=f"株式会社{n}") for n in "XY")
    step("start", x, "--lead", "hro", date="2023-06-01")
    step("start", y, "--lead", "hro", date="2023-06-02")
    step("follow-up", x, date="2024-05-01")
    data = as_json(run, "targets", "--as-of", "2025-01-31")
    assert data["total"] == {"target": 120, "actual": 0}  # outside the plan's totals
    assert [(p["label"], p["actual"], p["expected_continuing"], p["status"]) for p in data["after_plan"]] == [
        ("2023年度", {"new": 2, "continuing": 0, "total": 2}, 0, "actual_only"),
        ("2024年度", {"new": 0, "continuing": 1, "total": 1}, 2, "actual_only"),
    ]
    text = run("targets", "--as-of", "2025-01-31", "--format", "plain").stdout
    row = next(line for line in text.splitlines() if line.startswith("2023年度"))
    assert row.split() == ["2023年度", "2", "0", "0", "2", "実績のみ"]


# --- 14. words and eras ---------------------------------------------------------------------------


def test_plans_says_only_that_the_appendix_lists_24_of_28(run, monkeypatch):
    text = run("plans", "--format", "plain").stdout
    # 24 plans, 30 municipality entries (旭川市 is in two plans; the 32 towns are of all 28 plans)
    assert "同意された基本計画は 28 計画(32 市町村)。" in text
    assert "計画の別紙にはそのうち 24 計画(30 市町村分)が記載されています" in text
    assert "3分野外" not in text and "記載なし" not in text
    monkeypatch.setenv("KITAMONO_LANG", "en")
    english = run("plans", "--format", "plain").stdout
    assert "lists 24 of them" in english and "outside the 3 fields" not in english


@pytest.mark.parametrize(("fy", "expected"), [("平成34年度", 2022), ("H34", 2022), ("平成32年度", 2020)])
def test_a_fiscal_year_named_in_heisei_after_its_end(repo, run, fy, expected):
    assert as_json(run, "report", "annual", "--fy", fy)["fiscal_year"] == expected
    assert as_json(run, "report", "quarterly", "--fy", fy, "--quarter", "4")["fiscal_year"] == expected


def test_the_after_plan_note_honours_era(repo, run):
    western = run("targets", "--format", "plain").stdout
    assert "計画期間(2022年度まで)の後の年度です" in western
    assert "2021年度、2022年度に支援を始めた案件は、計画期間の後も2024年度までフォローアップします" in western
    era = run("targets", "--era", "--format", "plain").stdout
    assert "計画期間(令和4年度まで)の後の年度です" in era
    assert "令和3年度、令和4年度に支援を始めた案件は、計画期間の後も令和6年度までフォローアップします" in era
    assert "2021" not in era and "2022年度" not in era


# --- 15. follow-up of closed cases ----------------------------------------------------------------


def test_a_closed_case_still_owes_its_follow_ups(repo, run, new_case, step):
    # started FY2019: owes FY2020 and FY2021; closed in FY2019 without a waiver
    case_id = new_case(received_on="2019-05-01")
    step("start", case_id, "--lead", "hro", date="2019-06-01")
    step("close", case_id, "--outcome", "製品化", "--outcome-kind", "製品化", date="2019-12-01")
    owed = as_json(run, "followups", "--as-of", "2020-06-01")
    assert [(i["id"], i["fiscal_year"], i["case_closed"]) for i in owed["due"]] == [(case_id, 2020, True)]
    # a follow-up after the close is allowed and does not reopen the case
    step("follow-up", case_id, date="2020-07-01")
    assert as_json(run, "case", "show", case_id)["status"] == "closed"
    later = as_json(run, "followups", "--as-of", "2021-06-01")
    assert [(i["id"], i["fiscal_year"]) for i in later["done"]] == [(case_id, 2020)]
    assert [(i["id"], i["fiscal_year"]) for i in later["due"]] == [(case_id, 2021)]
    targets = as_json(run, "targets", "--as-of", "2021-03-31")
    fy2020 = next(p for p in targets["periods"] if p["label"] == "2020年度")
    assert fy2020["actual"]["continuing"] == 1  # the follow-up after the close counts


def test_followups_can_show_closed_cases_apart(repo, run, new_case, step):
    open_case = new_case(received_on="2019-05-01", company="株式会社続行")
    closed_case = new_case(received_on="2019-05-02", company="株式会社終了")
    step("start", open_case, "--lead", "hro", date="2019-06-01")
    step("start", closed_case, "--lead", "hro", date="2019-06-02")
    step("close", closed_case, "--outcome", "解決", date="2019-07-01")
    together = run("followups", "--as-of", "2020-06-01", "--format", "plain").stdout
    assert together.count("今年度未実施") == 2
    assert "(うち終了した案件の分 1 件)" in together
    apart = run("followups", "--as-of", "2020-06-01", "--closed-apart", "--format", "plain").stdout
    first, second = apart.split("【終了した案件のフォローアップ】")
    assert open_case in first and closed_case not in first
    assert closed_case in second and open_case not in second
    assert "終了したまま kitamono case follow-up で記録できます" in second


def test_the_waiver_is_an_explicit_recorded_choice(repo, run, new_case, step):
    case_id = new_case(received_on="2019-05-01")
    step("start", case_id, "--lead", "hro", date="2019-06-01")
    before = snapshot(repo)
    no_reason = run("case", "close", case_id, "--outcome", "解決", "--no-follow-up", "--date", "2019-12-01")
    assert no_reason.exit_code == 1
    assert no_reason.stderr.startswith("エラー: --no-follow-up には理由が必要です")
    reason_only = run("case", "close", case_id, "--outcome", "解決", "--reason", "廃業", "--date", "2019-12-01")
    assert reason_only.exit_code == 1
    assert reason_only.stderr.startswith("エラー: --reason はフォローアップをしないときの理由です")
    assert snapshot(repo) == before
    step("close", case_id, "--outcome", "解決", "--no-follow-up", "--reason", "会社が廃業した", date="2019-12-01")
    events = as_json(run, "case", "history", case_id)
    assert events[-1]["follow_up_waiver"] == "会社が廃業した"
    assert "フォローアップ不要(理由: 会社が廃業した)" in run("case", "history", case_id, "--format", "plain").stdout
    owed = as_json(run, "followups", "--as-of", "2021-06-01")
    assert owed["overdue"] == owed["due"] == owed["done"] == []
    review = as_json(run, "report", "annual", "--fy", "2020")["followup_compliance"]
    assert (review["owed"], review["waived"], review["missing"]) == (1, 1, 0)


def test_a_waiver_or_kind_on_another_event_is_refused_by_check(repo, run, new_case):
    case_id = new_case()
    path = repo / "cases" / "2019" / f"{case_id}.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "- {type: supported, date: 2019-06-01, by: hro, "
                    "follow_up_waiver: 不要}\n", encoding="utf-8")  # fmt: skip
    result = run("check")
    assert result.exit_code == 1
    assert "成果の種類とフォローアップ不要の記録は終了 (closed) にだけ書けます" in result.stdout + result.stderr
