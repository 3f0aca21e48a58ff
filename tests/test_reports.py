"""The quarterly aggregation and the year-end review, through the real CLI on hand-built cases.

The ``small`` repository holds five cases whose every event is listed in the fixture; the
expected counts in each test are worked out from that list by hand.
"""

from __future__ import annotations

import itertools
import json
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

#: Numbers the property test's repositories, one per example.
EXAMPLES = itertools.count()
MEASURES = ["received", "referred_out", "referred_in", "started", "supported", "followed_up", "closed"]


def zeros() -> dict[str, int]:
    return dict.fromkeys(MEASURES, 0)


def counts(**values: int) -> dict[str, int]:
    return {**zeros(), **values}


#: The five support institutions: each has its row in an aggregation, with zeros if it did nothing.
SUPPORT_ZEROS = {ident: zeros() for ident in ("hro", "noastec", "hsc", "hokuyo", "dogin")}


@pytest.fixture
def small(repo, run, new_case):
    """Five cases around FY2019 (ids in brackets)::

    A [hro-2019-0001] 帯広市 food, received by 道総研 2019-04-10; referred 道総研→中小企業総合支援センター
      04-12 and on to 北洋銀行 04-20 (a case referred twice); started 05-07 (lead 北洋銀行, with 中小);
      supported by 中小 06-30 (the last day of Q1); followed up by 北洋 07-01 (the first day of Q2).
    B [hro-2019-0002] 旭川市 monozukuri, received by とかち財団 2019-06-30; closed 07-02, reopened
      07-03, closed again 09-30.
    C [hro-2018-0001] 札幌市 it, received 2018-05-01, started 06-01 (lead 道総研); nothing in FY2019;
      followed up 2020-05-01 (FY2020).
    D [hro-2018-0002] 網走市 (no basic plan) other, received 2018-07-01, started 08-01, followed up 2019-11-15.
    E [hro-2018-0003] 帯広市 food, received 2018-09-01, started 10-01, closed 2019-01-10.
    """

    def step(command: str, case_id: str, *args: str, date: str, by: str = "hro") -> None:
        result = run("case", command, case_id, *args, "--date", date, "--by", by)
        assert result.exit_code == 0, result.stderr

    ids = {}
    ids["C"] = new_case(received_on="2018-05-01", company="株式会社札幌ソフト", municipality="札幌市", field="it",
                        title="生産管理システム", summary="在庫を見える化したい")  # fmt: skip
    ids["D"] = new_case(received_on="2018-07-01", company="株式会社網走商事", municipality="網走市", field="other",
                        contact_name="網走 花子", contact_phone="0152-00-0000")  # fmt: skip
    ids["E"] = new_case(received_on="2018-09-01", company="株式会社帯広製菓", field="food")
    ids["A"] = new_case(received_on="2019-04-10", field="food")
    ids["B"] = new_case(received_on="2019-06-30", company="株式会社旭川木工", municipality="旭川市",
                        field="monozukuri", received_by="tokachi", title="家具の塗装",
                        summary="塗装のむら")  # fmt: skip
    A, B, C, D, E = (ids[k] for k in "ABCDE")
    step("start", C, "--lead", "hro", date="2018-06-01")
    step("start", D, "--lead", "hro", date="2018-08-01")
    step("start", E, "--lead", "hro", date="2018-10-01")
    step("close", E, "--outcome", "解決", date="2019-01-10")
    step("refer", A, "--to", "hsc", date="2019-04-12")
    step("refer", A, "--to", "hokuyo", date="2019-04-20", by="hsc")
    step("start", A, "--lead", "hokuyo", "--with", "hsc", date="2019-05-07", by="hokuyo")
    step("support", A, date="2019-06-30", by="hsc")
    step("follow-up", A, date="2019-07-01", by="hokuyo")
    step("close", B, "--outcome", "解決", date="2019-07-02", by="tokachi")
    step("reopen", B, date="2019-07-03", by="tokachi")
    step("close", B, "--outcome", "再度解決", date="2019-09-30", by="tokachi")
    step("follow-up", D, date="2019-11-15")
    step("follow-up", C, date="2020-05-01")
    assert ids == {
        "A": "hro-2019-0001", "B": "hro-2019-0002", "C": "hro-2018-0001", "D": "hro-2018-0002", "E": "hro-2018-0003",
    }  # fmt: skip  # this clone is 道総研's: every id it mints starts with hro
    return ids


def quarterly(run, *args: str) -> dict:
    result = run("report", "quarterly", "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def annual(run, *args: str) -> dict:
    result = run("report", "annual", "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def by_institution(data: dict) -> dict[str, dict[str, int]]:
    return {row["institution"]: {m: row[m] for m in MEASURES} for row in data["institutions"]}


# --- the quarterly aggregation --------------------------------------------------------------------


def test_quarter_one_counts_each_institution(small, run):
    data = quarterly(run, "--fy", "2019", "--quarter", "1")
    assert (data["fiscal_year"], data["quarter"], data["start"], data["end"]) == (2019, 1, "2019-04-01", "2019-06-30")
    assert by_institution(data) == {
        "hro": counts(received=1, referred_out=1),  # A
        "noastec": zeros(),  # every support institution is listed (3(2)③), with nothing done
        "hsc": counts(referred_in=1, referred_out=1, supported=1),  # A: passed on, and supported on 06-30
        "hokuyo": counts(referred_in=1, started=1),  # A: the lead counts the start
        "dogin": zeros(),
        "tokachi": counts(received=1),  # B, received on the last day of the quarter: a network body that acted
    }
    assert list(by_institution(data)) == ["hro", "noastec", "hsc", "hokuyo", "dogin", "tokachi"]  # the plan's order
    assert data["total"] == counts(received=2, referred_out=2, referred_in=2, started=1, supported=1)
    assert data["fields"] == {
        "food": counts(received=1, referred_out=2, referred_in=2, started=1, supported=1),
        "monozukuri": counts(received=1),
        "it": zeros(),
        "other": zeros(),
    }
    assert data["year_to_date"]["total"] == data["total"]


def test_quarter_two_and_the_year_to_date(small, run):
    data = quarterly(run, "--quarter", "2019Q2")
    assert by_institution(data) == {
        **SUPPORT_ZEROS,
        "hokuyo": counts(followed_up=1),  # A on 07-01
        "tokachi": counts(closed=2),  # B closed twice; the reopening is not counted
    }
    ytd = data["year_to_date"]
    assert (ytd["start"], ytd["end"]) == ("2019-04-01", "2019-09-30")
    assert by_institution(ytd) == {
        **SUPPORT_ZEROS,
        "hro": counts(received=1, referred_out=1),
        "hsc": counts(referred_in=1, referred_out=1, supported=1),
        "hokuyo": counts(referred_in=1, started=1, followed_up=1),
        "tokachi": counts(received=1, closed=2),
    }
    assert ytd["total"] == counts(received=2, referred_out=2, referred_in=2, started=1, supported=1,
                                  followed_up=1, closed=2)  # fmt: skip


def test_as_of_inside_a_quarter_counts_up_to_that_day(small, run):
    data = quarterly(run, "--quarter", "2019Q2", "--as-of", "2019-09-29")
    assert by_institution(data) == {**SUPPORT_ZEROS, "hokuyo": counts(followed_up=1), "tokachi": counts(closed=1)}
    assert data["as_of"] == "2019-09-29"
    text = run("report", "quarterly", "--quarter", "2019Q2", "--as-of", "2019-09-29", "--format", "plain").stdout
    assert "2019-09-29 までの記録で集計しています" in text


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2019-06-30", (2018, 4)),  # Q1 of FY2019 has not ended yet
        ("2019-07-01", (2019, 1)),
        ("2020-04-01", (2019, 4)),
        (None, (2026, 2)),  # today, 2026-11-28
    ],
)
def test_the_default_quarter_is_the_last_completed_one(repo, run, as_of, expected):
    data = quarterly(run, *(["--as-of", as_of] if as_of else []))
    assert (data["fiscal_year"], data["quarter"]) == expected


@pytest.mark.parametrize(
    "fy",
    ["2019", "FY2019", "fy2019", "2019年度", "R1", "令和元年度", "平成31年度", "H31",
     "２０１９", "ＦＹ２０１９", "Ｒ１", "令和１年度"],
)
def test_every_form_of_a_fiscal_year(repo, run, fy):
    assert (quarterly(run, "--fy", fy, "--quarter", "3")["fiscal_year"]) == 2019
    assert annual(run, "--fy", fy)["fiscal_year"] == 2019


@pytest.mark.parametrize("fy", ["H30", "平成30年度", "2018", "FY2018", "Ｈ３０"])
def test_heisei_30_is_2018(repo, run, fy):
    assert annual(run, "--fy", fy)["fiscal_year"] == 2018


@pytest.mark.parametrize(
    "args",
    [
        ["--fy", "2019", "--quarter", "3"],
        ["--quarter", "2019Q3"],
        ["--quarter", "R1Q3"],
        ["--quarter", "FY2019-Q3"],
        ["--fy", "令和元年度", "--quarter", "第3四半期"],
        ["--fy", "２０１９", "--quarter", "３"],
        ["--fy", "2019", "--quarter", "2019Q3"],
        ["--quarter", "3", "--as-of", "2020-01-15"],  # a bare quarter belongs to the year of --as-of
    ],
)
def test_every_form_of_a_quarter(repo, run, args):
    data = quarterly(run, *args)
    assert (data["fiscal_year"], data["quarter"], data["start"], data["end"]) == (2019, 3, "2019-10-01", "2019-12-31")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "quarterly", "--as-of", "2019-02-29"], "存在しない日付です: 「2019-02-29」"),
        (["report", "quarterly", "--as-of", "2019-13-01"], "存在しない日付です"),
        (["report", "quarterly", "--as-of", "令和元年4月30日"], "「令和元年4月30日」は令和の期間外です"),
        (["targets", "--as-of", "平成31年5月1日"], "「平成31年5月1日」は平成の期間外です"),
        (["followups", "--as-of", "２０１９年２月３０日"], "存在しない日付です"),
        (["followups", "--as-of", "昨日"], "日付として読めません"),
        (["report", "annual", "--fy", "令和0年度"], "「令和0年度」という年度はありません"),
        (["report", "annual", "--fy", "来年度"], "年度として読めません"),
        (["report", "annual", "--fy", "2027"], "2027年度は 2026-11-28 の時点でまだ始まっていません"),
        (["report", "quarterly", "--quarter", "5", "--fy", "2019"], "四半期として読めません: 「5」"),
        (
            ["report", "quarterly", "--quarter", "2019Q3", "--fy", "2020"],
            "四半期「2019Q3」は --fy「2020」と別の年度です",
        ),
        (
            ["report", "quarterly", "--quarter", "2026Q4"],
            "2026年度 第4四半期は 2026-11-28 の時点でまだ始まっていません",
        ),
        (["report", "quarterly", "--fy", "2026", "--as-of", "2026-05-01"], "2026年度に終わった四半期はありません"),
    ],
)
def test_impossible_input_is_refused_in_one_line(repo, run, args, message):
    result = run(*args)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("エラー: ")
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_era_boundary_in_dates_and_years(repo, run, new_case):
    heisei = new_case(received_on="2019-04-30", company="株式会社平成")
    reiwa = new_case(received_on="2019-05-01", company="株式会社令和")
    for case_id, day in ((heisei, "平成31年4月30日"), (reiwa, "令和元年5月1日")):
        assert run("case", "start", case_id, "--lead", "hro", "--date", day).exit_code == 0
    text = run("followups", "--era", "--format", "plain", "--as-of", "R2.6.1").stdout
    assert "平成31年4月30日" in text and "令和元年5月1日" in text
    assert "令和2年度" in text  # both owe FY2020 first, and it is due
    heading = run("followups", "--era", "--as-of", "R2.6.1", "--format", "markdown").stdout
    assert heading.startswith("# フォローアップの状況(令和2年6月1日 現在)\n")
    title = run("report", "quarterly", "--era", "--fy", "H31", "--quarter", "1", "--format", "markdown").stdout
    assert title.startswith("# 令和元年度 第1四半期 活動集計\n")  # FY2019 is named 令和元年度 even in April
    before = run("report", "quarterly", "--era", "--fy", "H30", "--quarter", "4", "--format", "markdown").stdout
    assert before.startswith("# 平成30年度 第4四半期 活動集計\n")
    western = run("targets", "--format", "plain").stdout
    assert "2017–2018年度" in western and "平成" not in western
    assert "平成29–30年度" in run("targets", "--era", "--format", "plain").stdout


# --- the year-end review --------------------------------------------------------------------------


def test_the_annual_review_numbers(small, run):
    data = annual(run, "--fy", "2019")
    A, C = small["A"], small["C"]
    assert (data["fiscal_year"], data["start"], data["end"]) == (2019, "2019-04-01", "2020-03-31")
    activity = data["activity"]
    assert by_institution(activity) == {
        **SUPPORT_ZEROS,
        "hro": counts(received=1, referred_out=1, followed_up=1),  # A received and passed on; D followed up
        "hsc": counts(referred_in=1, referred_out=1, supported=1),
        "hokuyo": counts(referred_in=1, started=1, followed_up=1),
        "tokachi": counts(received=1, closed=2),
    }
    assert [{m: q[m] for m in MEASURES} for q in data["quarters"]] == [
        counts(received=2, referred_out=2, referred_in=2, started=1, supported=1),
        counts(followed_up=1, closed=2),
        counts(followed_up=1),
        zeros(),
    ]
    # the targets as they stood on 2020-03-31: C, D, E new in the first period; A new in FY2019;
    # of C, D and E only D was followed up in FY2019 (C's FY2020 follow-up is not seen yet)
    periods = data["targets"]["periods"]
    assert periods[0]["actual"] == {"new": 3, "continuing": 0, "total": 3}
    assert periods[1]["actual"] == {"new": 1, "continuing": 1, "total": 2}
    assert periods[1]["expected_continuing"] == 3
    assert periods[1]["status"] == "missed"
    assert periods[2]["status"] == "future"
    assert data["targets"]["as_of"] == "2020-03-31"
    compliance = data["followup_compliance"]
    assert {k: compliance[k] for k in ("owed", "done", "missing", "waived", "rate")} == {
        "owed": 3, "done": 1, "missing": 2, "waived": 0, "rate": 33.3,  # E was closed, and still owes (1(5))
    }  # fmt: skip
    assert compliance["by_start_year"] == [
        {"start_fiscal_year": 2018, "owed": 3, "done": 1, "missing": 2, "waived": 0, "rate": 33.3}
    ]
    assert [(m["id"], m["fiscal_year"], m["lead"], m["last_contact"]) for m in compliance["missing_cases"]] == [
        (C, 2019, "hro", "2018-06-01"), (small["E"], 2019, "hro", "2019-01-10"),
    ]  # fmt: skip
    assert data["cases_by_field"] == [
        {"key": "food", "name": "食料品製造関連", "received": 1, "started": 1, "contacted": 1},  # A
        {"key": "monozukuri", "name": "ものづくり関連", "received": 1, "started": 0, "contacted": 0},  # B
        # C: nothing in FY2019
        {"key": "it", "name": "IT（情報技術）関連", "received": 0, "started": 0, "contacted": 0},
        {"key": "other", "name": "その他", "received": 0, "started": 0, "contacted": 1},  # D
    ]
    assert [(r["key"], r["received"], r["started"], r["contacted"]) for r in data["cases_by_plan"]] == [
        ("asahikawa_higashikagura_higashikawa", 1, 0, 0),  # B: 旭川市 is in two plans
        ("obihiro", 1, 1, 1),
        ("asahikawa", 1, 0, 0),
        ("", 0, 0, 1),  # D: 網走市 has no plan
    ]
    assert data["cases_by_plan"][-1]["name"] == "基本計画なし"
    assert [(r["key"], r["received"], r["started"], r["contacted"]) for r in data["cases_by_subprefecture"]] == [
        ("上川", 1, 0, 0), ("オホーツク", 0, 0, 1), ("十勝", 1, 1, 1),
    ]  # fmt: skip
    assert data["referrals"] == [{"from": "hro", "to": "hsc", "count": 1}, {"from": "hsc", "to": "hokuyo", "count": 1}]
    # open cases whose last event is more than 180 days before 2020-03-31
    assert [(s["id"], s["last_event"], s["days"]) for s in data["stale"]] == [
        (C, "2018-06-01", 669),
        (A, "2019-07-01", 274),
    ]  # D (137 days) is recent enough; B and E are closed
    assert data["summary"] == [
        "2019年度は相談受付 2 件、支援開始 1 件、支援実施 1 件、フォローアップ 2 件、終了 2 件でした。",
        "2019年度の支援件数は 2 件(新規 1 件、継続 1 件/対象 3 件)で、"
        "目標 20 件(新規 10 件)に対し達成率 10.0%(未達)です。",
        "計画期間の累計は 5 件(目標 120 件)です。",
        "フォローアップが必要な 3 件のうち 1 件を実施しました(実施率 33.3%)。",
        "機関間の紹介は 2 件で、最も多いのは 道総研→中小企業総合支援センター(1 件)です。",
        "180日を超えて記録のない未終了の案件は 2 件です。",
        "2019年度に終了した案件は 1 件で、成果は 未分類(種類の記録なし) 1 件 です。",  # B, closed twice
    ]


def test_a_review_of_a_year_still_running_counts_up_to_as_of(small, run):
    data = annual(run, "--fy", "2019", "--as-of", "2019-09-30")
    assert data["summary"][0] == "2019年度は終わっていません。2019-09-30 までの記録で集計しています。"
    assert data["activity"]["total"] == counts(received=2, referred_out=2, referred_in=2, started=1, supported=1,
                                               followed_up=1, closed=2)  # fmt: skip
    assert [q["followed_up"] for q in data["quarters"]] == [0, 1, 0, 0]  # D's follow-up of 11-15 is not seen yet
    assert data["targets"]["as_of"] == "2019-09-30"
    assert data["targets"]["periods"][1]["status"] == "in_progress"
    # on 2019-09-30, C was last touched 486 days before and D 425 days before; A only 91
    assert [(s["id"], s["days"]) for s in data["stale"]] == [(small["C"], 486), (small["D"], 425)]


def test_the_default_year_is_the_last_completed_one(repo, run):
    assert annual(run)["fiscal_year"] == 2025
    assert annual(run, "--as-of", "2020-03-31")["fiscal_year"] == 2018
    assert annual(run, "--as-of", "2020-04-01")["fiscal_year"] == 2019


def test_the_annual_markdown_reads_as_a_document(small, run):
    text = run("report", "annual", "--fy", "2019", "--format", "markdown").stdout
    assert text.startswith("# 2019年度 北のものづくり連携支援計画 年度末レビュー\n")
    for heading in (
        "## 2019年度 機関別の活動", "## 2019年度 四半期別の活動", "## 想定する支援件数と実績",
        "## 2019年度 フォローアップの実施状況", "## 2019年度 分野別の案件数", "## 2019年度 基本計画別の案件数",
        "## 2019年度 振興局別の案件数", "## 2019年度 機関間の紹介(紹介元→紹介先)",
        "## 180日を超えて記録のない未終了の案件(2020-03-31 時点)",
    ):  # fmt: skip
        assert f"\n{heading}\n" in text
    assert "| 道総研 " in text and "| 合計 " in text
    assert "- 機関間の紹介は 2 件で" in text


# --- formats and files ----------------------------------------------------------------------------


def test_csv_has_a_bom_and_japanese_headers(small, run, tmp_path):
    run("report", "quarterly", "--quarter", "2019Q1", "-o", tmp_path / "q.csv")
    text = (tmp_path / "q.csv").read_bytes().decode("utf-8")
    assert text.startswith("\ufeff2019年度 第1四半期 機関別\r\n機関,相談受付,紹介(出),紹介(受),")
    assert "\r\n道総研,1,1,0,0,0,0,0\r\n" in text
    assert "\r\n合計,2,2,2,1,1,0,0\r\n" in text
    assert run("report", "quarterly", "--quarter", "2019Q1", "--format", "csv").stdout.startswith("\ufeff")


def test_output_file_format_from_its_extension(small, run, tmp_path):
    for name, check in (
        ("q.md", lambda b: b.decode().startswith("# 2019年度 第1四半期 活動集計")),
        ("q.csv", lambda b: b.startswith("\ufeff".encode())),
        ("q.json", lambda b: json.loads(b)["quarter"] == 1),
        ("q.html", lambda b: b.decode().startswith("<!DOCTYPE html>")),
        ("q.txt", lambda b: "【2019年度 第1四半期 機関別】" in b.decode()),
        ("q.xlsx", lambda b: b[:2] == b"PK"),
    ):
        result = run("report", "quarterly", "--quarter", "2019Q1", "-o", tmp_path / name)
        assert result.exit_code == 0, result.stderr
        assert result.stdout == ""
        assert f"{tmp_path / name} に書き出しました" in result.stderr
        assert check((tmp_path / name).read_bytes()), name


def test_an_unknown_format_is_a_usage_error(repo, run):
    result = run("targets", "--format", "pdf")
    assert result.exit_code == 2
    assert "「pdf」" in result.stderr
    assert "table, plain, markdown, csv, json, xlsx, html" in result.stderr


def test_contacts_never_appear_in_reports(small, run):
    for args in (
        ["targets"], ["followups"], ["report", "quarterly", "--quarter", "2019Q3"], ["report", "annual", "--fy", "2019"]
    ):
        for fmt in ("plain", "json", "csv", "html", "markdown"):
            out = run(*args, "--format", fmt).stdout
            assert "網走 花子" not in out and "0152-00-0000" not in out, (args, fmt)


def _sheet_rows(path: Path) -> dict[str, list[list]]:
    book = openpyxl.load_workbook(path)
    return {sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}


def test_the_quarterly_xlsx_holds_the_json_numbers(small, run, tmp_path):
    data = quarterly(run, "--quarter", "2019Q1")
    run("report", "quarterly", "--quarter", "2019Q1", "-o", tmp_path / "q.xlsx")
    sheets = _sheet_rows(tmp_path / "q.xlsx")
    names = list(sheets)
    assert names[0] == "2019年度 第1四半期 機関別"
    institutions = sheets[names[0]]
    assert institutions[0] == [
        "機関", "相談受付", "紹介(出)", "紹介(受)", "支援開始", "支援実施", "フォローアップ", "終了"
    ]  # fmt: skip
    short = {"hro": "道総研", "noastec": "ノーステック財団", "hsc": "中小企業総合支援センター", "hokuyo": "北洋銀行",
             "dogin": "北海道銀行", "tokachi": "とかち財団"}  # fmt: skip
    assert institutions[1:] == [[short[r["institution"]], *(r[m] for m in MEASURES)] for r in data["institutions"]] + [
        ["合計", *(data["total"][m] for m in MEASURES)]
    ]
    fields = sheets[names[1]]
    assert [row[1:] for row in fields[1:5]] == [
        [data["fields"][f][m] for m in MEASURES] for f in ("food", "monozukuri", "it", "other")
    ]
    beside = sheets[names[2]]
    assert [row[1:] for row in beside[1:]] == [[data["total"][m], data["year_to_date"]["total"][m]] for m in MEASURES]


def test_the_annual_xlsx_holds_the_json_numbers(small, run, tmp_path):
    data = annual(run, "--fy", "2019")
    result = run("report", "annual", "--fy", "2019", "-o", tmp_path / "a.xlsx")
    assert result.exit_code == 0, result.stderr
    sheets = _sheet_rows(tmp_path / "a.xlsx")
    by_title = {title.split(" ", 1)[-1]: rows for title, rows in sheets.items()}
    activity = by_title["機関別の活動"]
    assert [row[1:] for row in activity[1:-1]] == [[r[m] for m in MEASURES] for r in data["activity"]["institutions"]]
    assert activity[-1] == ["合計", *(data["activity"]["total"][m] for m in MEASURES)]
    quarters = by_title["四半期別の活動"]
    assert [row[1:] for row in quarters[1:5]] == [[q[m] for m in MEASURES] for q in data["quarters"]]
    targets = sheets["想定する支援件数と実績"]
    assert [[row[1], row[2], row[3], row[4], row[5], row[6], row[7]] for row in targets[1:6]] == [
        [p["target"]["new"], p["actual"]["new"], p["target"]["continuing"], p["expected_continuing"],
         p["actual"]["continuing"], p["target"]["total"], p["actual"]["total"]]
        for p in data["targets"]["periods"]
    ]  # fmt: skip
    assert targets[6][6:8] == [data["targets"]["total"]["target"], data["targets"]["total"]["actual"]]
    compliance = by_title["フォローアップの実施状況"]
    fc = data["followup_compliance"]
    assert compliance[-1][1:] == [fc["owed"], fc["done"], fc["missing"], fc["waived"], fc["rate"]]
    for key, title in (("cases_by_field", "分野別の案件数"), ("cases_by_plan", "基本計画別の案件数"),
                       ("cases_by_subprefecture", "振興局別の案件数")):  # fmt: skip
        assert [row for row in by_title[title][1:]] == [
            [r["name"], r["received"], r["started"], r["contacted"]] for r in data[key]
        ]
    referrals = by_title["機関間の紹介(紹介元→紹介先)"]
    assert [row[2] for row in referrals[1:]] == [r["count"] for r in data["referrals"]]
    stale = next(rows for title, rows in sheets.items() if title.startswith("180日を超えて"))
    assert [(row[0], row[6]) for row in stale[1:]] == [(s["id"], s["days"]) for s in data["stale"]]
    assert next(iter(sheets)) == "概要"  # the workbook opens on it: title, byline, then the summary
    assert [row[0] for row in sheets["概要"]] == [
        "2019年度 北のものづくり連携支援計画 年度末レビュー",
        "作成日 2026-11-28　作成機関 道総研　時点 2026-11-28",
        None,
        *data["summary"],
    ]


def test_followups_json_and_table(small, run):
    data = json.loads(run("followups", "--format", "json", "--as-of", "2020-04-15").stdout)
    A, C, D, E = small["A"], small["C"], small["D"], small["E"]
    # FY2020 has begun: C and E (FY2018 starts) missed FY2019; A (FY2019) and C, D, E owe FY2020. E was
    # closed in FY2018 without a waiver, so it owes its follow-ups like the others (oldest contact first)
    assert [(i["id"], i["fiscal_year"], i["case_closed"]) for i in data["overdue"]] == [(C, 2019, False),
                                                                                       (E, 2019, True)]
    assert [(i["id"], i["fiscal_year"], i["lead"], i["last_contact"]) for i in data["due"]] == [
        (C, 2020, "hro", "2018-06-01"),
        (E, 2020, "hro", "2019-01-10"),
        (A, 2020, "hokuyo", "2019-07-01"),
        (D, 2020, "hro", "2019-11-15"),
    ]
    assert [(i["id"], i["fiscal_year"], i["done_on"]) for i in data["done"]] == [(D, 2019, "2019-11-15")]
    note = ("期限切れ 2 件と2020年度の未実施 4 件(うち終了した案件の分 2 件)、実施済 1 件。"
            "フォローアップ不要として終了した案件の未実施分 0 件は除いています")  # fmt: skip
    table = run("followups", "--format", "plain", "--as-of", "2020-04-15").stdout.splitlines()
    assert [line.split()[0] for line in table[1:7]] == ["期限切れ"] * 2 + ["今年度未実施"] * 4
    assert table[7:] == [note + "(実施済の行は --all で表示します)"]  # what staff act on; done rows counted
    assert "実施日" not in table[0]  # no done rows, no column that would stay empty
    table = run("followups", "--all", "--format", "plain", "--as-of", "2020-04-15").stdout.splitlines()
    assert [line.split()[0] for line in table[1:8]] == ["期限切れ"] * 2 + ["今年度未実施"] * 4 + ["実施済"]
    assert table[0].split()[-1] == "実施日" and table[7].split()[-1] == "2019-11-15"
    assert table[8:] == [note]


def test_reports_are_quiet_on_stderr_when_piped(small, run, monkeypatch):
    import kitamono.cli.reports as cli_reports

    monkeypatch.setattr(cli_reports, "PROGRESS_THRESHOLD", 0)
    for args in (["targets"], ["followups"], ["report", "quarterly"], ["report", "annual"]):
        result = run(*args, "--format", "plain")
        assert result.exit_code == 0
        assert result.stderr == "", args


def test_a_long_run_on_a_terminal_reads_the_same_cases(small, run, monkeypatch):
    import kitamono.cli.reports as cli_reports

    quiet = run("targets", "--format", "json").stdout
    monkeypatch.setattr(cli_reports, "PROGRESS_THRESHOLD", 2)
    monkeypatch.setattr(cli_reports, "_stderr_is_terminal", lambda: True)
    shown = run("targets", "--format", "json")
    assert shown.exit_code == 0
    assert shown.stdout == quiet


def test_unreadable_files_are_named_and_the_rest_counted_when_allowed(small, run, repo):
    (repo / "cases" / "2019" / "broken-2019-0001.yaml").write_text("id: [\n", encoding="utf-8")
    refused = run("report", "quarterly", "--quarter", "2019Q1", "--format", "json")
    assert refused.exit_code == 1 and refused.stdout == "" and "broken-2019-0001.yaml" in refused.stderr
    result = run("report", "quarterly", "--quarter", "2019Q1", "--format", "json", "--allow-damaged")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["total"]["received"] == 2
    assert data["problems"]["cases_left_out"] == 1
    assert data["problems"]["files"][0]["path"] == "cases/2019/broken-2019-0001.yaml"


# --- the property: rows add up to the total, quarters add up to the year ---------------------------

INSTITUTIONS = ["hro", "hsc", "hokuyo", "tokachi", "aist", "asahikawa_itc"]
EVENT = st.tuples(
    st.sampled_from(["referred", "started", "supported", "followed_up", "team_formed", "closed", "reopened"]),
    st.integers(0, 500),
    st.sampled_from(INSTITUTIONS),
    st.sampled_from(INSTITUTIONS),
)
CASE = st.tuples(
    st.integers(0, 600),  # days after 2019-01-01
    st.sampled_from(INSTITUTIONS),
    st.sampled_from(["food", "monozukuri", "it", "other"]),
    st.lists(EVENT, max_size=6),
)


def _write_repository(root: Path, specs) -> None:
    from kitamono import store
    from kitamono.models import Case, Company, Event

    repo = store.open_repository(root)
    for n, (offset, by, field, events) in enumerate(specs, start=1):
        received = date(2019, 1, 1) + timedelta(days=offset)
        made = [Event(type="received", date=received, by=by)]
        for kind, days, actor, other in sorted(events, key=lambda e: e[1]):
            extra = {"referred": {"to": other}, "started": {"lead": other}, "closed": {"outcome": "終了"},
                     "team_formed": {"members": [actor, other]}}.get(kind, {})  # fmt: skip
            made.append(Event(type=kind, date=received + timedelta(days=days), by=actor, **extra))
        case = Case(
            id=f"gen-2019-{n:04d}", received_on=received, received_by=by, channel="visit",
            company=Company(name=f"株式会社生成{n}", municipality="札幌市"), title="生成した案件", field=field,
            events=made,
        )  # fmt: skip
        store.add_case(repo, case)


@pytest.mark.heavy
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(CASE, max_size=12))
def test_totals_are_the_sum_of_rows_and_the_year_is_the_sum_of_its_quarters(env, run, make_repo, specs):
    root = make_repo(f"example-{next(EXAMPLES)}", institution=None)  # as `kitamono init` makes it
    _write_repository(root, specs)
    running = zeros()
    running_by_inst: dict[str, dict[str, int]] = {}
    for q in (1, 2, 3, 4):
        result = run("--repo", root, "report", "quarterly", "--fy", "2019", "--quarter", q,
                     "--as-of", "2021-06-01", "--format", "json")  # fmt: skip
        assert result.exit_code == 0, result.stderr
        data = json.loads(result.stdout)
        for measure in MEASURES:
            assert sum(row[measure] for row in data["institutions"]) == data["total"][measure]
            assert sum(f[measure] for f in data["fields"].values()) == data["total"][measure]
            running[measure] += data["total"][measure]
        for row in data["institutions"]:
            mine = running_by_inst.setdefault(row["institution"], zeros())
            for measure in MEASURES:
                mine[measure] += row[measure]
        ytd = data["year_to_date"]
        assert ytd["total"] == running
        listed = {k: v for k, v in running_by_inst.items() if any(v.values()) or k in SUPPORT_ZEROS}
        assert by_institution(ytd) == listed
        for measure in MEASURES:
            assert sum(row[measure] for row in ytd["institutions"]) == ytd["total"][measure]
    assert data["total"]["referred_out"] == data["total"]["referred_in"]
    # the year-end review sees the same year
    result = run("--repo", root, "report", "annual", "--fy", "2019", "--as-of", "2021-06-01", "--format", "json")
    review = json.loads(result.stdout)
    assert review["activity"]["total"] == running
    for measure in MEASURES:
        assert sum(q[measure] for q in review["quarters"]) == running[measure]


def test_json_is_stable_english_keys(small, run):
    data = quarterly(run, "--quarter", "2019Q1")
    assert list(data) == [
        "fiscal_year", "quarter", "start", "end", "as_of", "institutions", "fields", "total", "year_to_date"
    ]  # fmt: skip
    assert list(data["institutions"][0]) == ["institution", *MEASURES]
    targets = json.loads(run("targets", "--format", "json").stdout)
    assert list(targets) == ["as_of", "institution", "periods", "total", "after_plan"]
    assert list(targets["periods"][0]) == ["label", "fiscal_years", "target", "actual", "expected_continuing", "status"]
    follow = json.loads(run("followups", "--format", "json").stdout)
    assert list(follow) == ["as_of", "institution", "overdue", "due", "done"]
    assert {"id", "fiscal_year", "lead", "last_contact"} <= set(follow["overdue"][0])
