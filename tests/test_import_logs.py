"""The consultation logs (相談記録簿) coordinators keep in Excel, imported as they are.

Every sheet here is built with openpyxl in the shapes such logs have: a title in A1, a blank row,
a header row with a merged cell, Excel dates beside 和暦 text, addresses instead of
municipalities, full-width digits, 来店 / 訪問 / TEL, a blank row in between, a total row at the
bottom and a column kitamono does not know. Then the exports a coordinator filters: a 案件 sheet
and a 経過 sheet that import reads back exactly.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from conftest import snapshot
from kitamono.models import Event

TITLE = "令和5年度 相談記録簿 北洋銀行 地域振興部"
HEADER = ["No.", "受付日", "相談企業名", "所在地", "相談者", "電話番号", "相談方法", "相談内容", "対応者",
          "対応状況・備考", None, "紹介元"]  # fmt: skip
ROWS = [
    [1, datetime(2023, 6, 1), "株式会社十勝チーズ工房", "北海道帯広市西5条南10丁目", "山田太郎", "0155-23-1234", "来店",
     "チーズの殺菌工程を見直したい。新しい装置の導入を検討中", "鈴木", "道総研を紹介", "済", "帯広信金"],
    [2, "R5.6.12", "有限会社東神楽木工", "上川郡東神楽町南1条西1丁目", None, None, "訪問",
     "家具の販路を道外に広げたい", "佐藤", None, None, None],
    [None] * 12,
    ["３", "Ｒ５．７．３", "札幌ソフト株式会社", "札幌市中央区北1条西2丁目", None, "011-111-2222", "TEL",
     "在庫管理システムを作りたい", "鈴木", None, None, None],
]  # fmt: skip
TOTAL = ["合計", None, "3件"]


def consultation_log(path: Path, rows: list[list] = ROWS, total: list | None = TOTAL, header: list = HEADER) -> Path:
    """A 相談記録簿 as kept in Excel: title, blank row, a header with 対応状況・備考 merged over two
    columns, the rows, a total row."""
    book = Workbook()
    sheet = book.active
    sheet.title = "相談記録簿"
    sheet["A1"] = TITLE
    sheet.merge_cells("A1:J1")
    sheet.append([])
    sheet.append(header)
    sheet.merge_cells("J3:K3")
    for row in rows:
        sheet.append(row)
    if total is not None:
        sheet.append(total)
    book.save(path)
    return path


def cases_of(run) -> dict[str, dict]:
    listed = json.loads(run("case", "list", "--format", "json").stdout)
    return {c["id"]: json.loads(run("case", "show", c["id"], "--with-contacts", "--format", "json").stdout)
            for c in listed}  # fmt: skip


# --- the log as it is --------------------------------------------------------------------------------


def test_a_consultation_log_imports_as_it_is(repo, run, tmp_path):
    result = run("import", consultation_log(tmp_path / "相談記録簿.xlsx"))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == ["hro-2023-0001", "hro-2023-0002", "hro-2023-0003"]
    assert "追加 3件、変更なし 0件" in result.stderr
    assert "知らない列 「紹介元」 の値は、受付の記録のメモに残しました" in result.stderr
    cases = cases_of(run)
    cheese = cases["hro-2023-0001"]
    assert cheese["received_on"] == "2023-06-01" and cheese["received_by"] == "hro"  # an Excel date cell
    assert cheese["company"] == {"name": "株式会社十勝チーズ工房", "municipality": "帯広市"}  # from the address
    assert cheese["channel"] == "visit"  # 来店
    assert cheese["contact"] == {"person": "山田太郎", "phone": "0155-23-1234"}
    assert cheese["title"] == "チーズの殺菌工程を見直したい"  # the content's first sentence
    assert cheese["summary"] == "チーズの殺菌工程を見直したい。新しい装置の導入を検討中"
    note = "対応者: 鈴木\n対応状況・備考: 道総研を紹介 済\n紹介元: 帯広信金"
    assert cheese["events"] == [{"type": "received", "date": "2023-06-01", "by": "hro", "note": note}]
    furniture = cases["hro-2023-0002"]
    assert furniture["received_on"] == "2023-06-12" and furniture["channel"] == "visit"  # R5.6.12, 訪問
    assert furniture["company"]["municipality"] == "東神楽町"  # 上川郡東神楽町…
    assert "contact" not in furniture
    soft = cases["hro-2023-0003"]
    assert soft["received_on"] == "2023-07-03" and soft["channel"] == "phone"  # Ｒ５．７．３, TEL
    assert soft["company"]["municipality"] == "札幌市"  # 札幌市中央区…
    assert soft["events"][0]["note"] == "対応者: 鈴木"


def test_dry_run_shows_the_mapping_the_skipped_rows_and_every_row(repo, run, tmp_path):
    log = consultation_log(tmp_path / "相談記録簿.xlsx")
    before = snapshot(repo)
    result = run("import", log, "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert snapshot(repo) == before and result.stdout == ""
    assert result.stderr.splitlines() == [
        "「相談記録簿.xlsx」のシート「相談記録簿」を読みます。見出しは3行目です",
        "列の割り当て:",
        "  No. → 通し番号なので読みません",
        "  受付日 → 受付日",
        "  相談企業名 → 会社名",
        "  所在地 → 市町村(住所から読み取ります)",
        "  相談者 → 担当者名(個人情報)",
        "  電話番号 → 電話(個人情報)",
        "  相談方法 → 受付経路",
        "  相談内容 → 内容",
        "  対応者 → 受付の記録のメモに「対応者: 値」として残します",
        "  対応状況・備考 → 受付の記録のメモに「対応状況・備考: 値」として残します(2列を1つに)",
        "  紹介元 → 知らない列: 受付の記録のメモに「紹介元: 値」として残します"
        "(取り込まないなら --ignore-column 紹介元、項目に割り当てるなら --map 紹介元=項目)",
        "読まない行:",
        "  1〜2行目: 見出しより前(表題や空の行)",
        "  6行目: 空の行",
        "  8行目: 合計の行(表はここまで)",
        "行ごとの結果:",
        "  4行目: 新しい案件として追加します — 2023-06-01 株式会社十勝チーズ工房(帯広市) 来訪"
        "「チーズの殺菌工程を見直したい」(件名は相談内容の最初の一文から)",
        "  5行目: 新しい案件として追加します — 2023-06-12 有限会社東神楽木工(東神楽町) 来訪"
        "「家具の販路を道外に広げたい」(件名は相談内容の最初の一文から)",
        "  7行目: 新しい案件として追加します — 2023-07-03 札幌ソフト株式会社(札幌市) 電話"
        "「在庫管理システムを作りたい」(件名は相談内容の最初の一文から)",
        "追加予定 3件、変更なし 0件、誤りのある行 0行(--dry-run のため何も書き込んでいません)",
    ]
    assert "山田太郎" not in result.stderr and "0155-23-1234" not in result.stderr  # no contact in a preview


def test_a_row_whose_address_names_no_municipality_stops_the_whole_import(repo, run, tmp_path):
    rows = [*ROWS, [4, "R5.7.10", "東京商事株式会社", "東京都千代田区丸の内1-1", None, "03-0000-0000", "メール",
                    "北海道への進出を相談したい", None, None, None, None]]  # fmt: skip
    log = consultation_log(tmp_path / "log.xlsx", rows)
    before = snapshot(repo)
    result = run("import", log)
    assert result.exit_code == 1
    assert snapshot(repo) == before  # the three good rows are not written either
    assert result.stderr.splitlines() == [
        "エラー: 8行目「所在地」: 住所「東京都千代田区丸の内1-1」から北海道の市町村が読み取れません。"
        "市町村名(例: 帯広市)から始まる住所か、市町村名を書いてください",
        "エラー: 問題が1件あるため、何も取り込みませんでした",
    ]
    preview = run("import", log, "--dry-run")
    assert preview.exit_code == 1 and snapshot(repo) == before
    lines = preview.stderr.splitlines()
    assert "  7行目: 新しい案件として追加します — 2023-07-03 札幌ソフト株式会社(札幌市) 電話" \
           "「在庫管理システムを作りたい」(件名は相談内容の最初の一文から)" in lines  # fmt: skip
    assert any(line.startswith("  8行目「所在地」: 住所「東京都千代田区丸の内1-1」") for line in lines)
    assert "追加予定 3件、変更なし 0件、誤りのある行 1行(--dry-run のため何も書き込んでいません)" in lines
    assert lines[-1] == "エラー: 問題が1件あります。直してから取り込んでください(このままでは何も取り込みません)"
    assert "03-0000-0000" not in preview.stderr


def test_importing_again_adds_nothing_and_three_new_rows_add_three(repo, run, tmp_path):
    log = consultation_log(tmp_path / "log.xlsx")
    assert run("import", log).exit_code == 0
    after_first = snapshot(repo)
    again = run("import", log)
    assert again.exit_code == 0 and again.stdout == "" and "追加 0件、変更なし 3件" in again.stderr
    assert snapshot(repo) == after_first
    grown = [*ROWS,
             [4, datetime(2023, 8, 1), "株式会社北見ハッカ", "北見市北1条", None, None, "メール",
              "ハッカ油の成分分析", None, None, None, None],
             [5, "R5.8.2", "釧路水産株式会社", "釧路市", None, None, "電話",
              "冷凍設備の更新資金", None, None, None, None],
             [6, "令和5年8月3日", "株式会社旭川家具", "旭川市神楽", None, None, "来所",
              "家具の展示会への出展", None, None, None, None]]  # fmt: skip
    third = run("import", consultation_log(log, grown))
    assert third.exit_code == 0, third.stderr
    assert third.stdout.split() == ["hro-2023-0004", "hro-2023-0005", "hro-2023-0006"]
    assert "追加 3件、変更なし 3件" in third.stderr
    municipalities = [c["company"]["municipality"] for c in cases_of(run).values()]
    assert municipalities[3:] == ["北見市", "釧路市", "旭川市"]


def test_rows_after_the_total_are_listed_not_read(repo, run, tmp_path):
    log = consultation_log(tmp_path / "log.xlsx")
    book = load_workbook(log)
    book.active.append([])
    book.active.append(["※ 個人情報につき取扱注意"])
    book.save(log)
    result = run("import", log, "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "  8行目: 合計の行(表はここまで)" in result.stderr.splitlines()
    assert "  10行目: 合計の行より後のため読みません" in result.stderr.splitlines()


# --- what the person importing says --------------------------------------------------------------


def test_ignore_column_leaves_it_out_and_map_gives_it_a_meaning(repo, run, tmp_path):
    header = [*HEADER[:11], "区分"]
    rows = [[*row[:11], kind] for row, kind in zip(ROWS, ["もの", "食品", None, "IT"], strict=True)]
    log = consultation_log(tmp_path / "log.xlsx", rows, header=header)
    preview = run("import", log, "--dry-run", "--map", "区分=分野", "--ignore-column", "対応者")
    assert preview.exit_code == 0, preview.stderr
    assert "  区分 → 分野(--map で指定)" in preview.stderr.splitlines()
    assert "  対応者 → 取り込みません(--ignore-column)" in preview.stderr.splitlines()
    result = run("import", log, "--map", "区分=分野", "--ignore-column", "対応者")
    assert result.exit_code == 0, result.stderr
    cases = cases_of(run)
    assert [c["field"] for c in cases.values()] == ["monozukuri", "food", "it"]  # not what the words suggest
    assert cases["hro-2023-0001"]["events"][0]["note"] == "対応状況・備考: 道総研を紹介 済"  # no 対応者
    assert "note" not in cases["hro-2023-0003"]["events"][0]


@pytest.mark.parametrize(("option", "message"), [
    (["--map", "業種=分野"], "エラー: 列「業種」はこのファイルの見出しにありません。見出し: No.、受付日、相談企業名、"),
    (["--ignore-column", "備考2"], "エラー: 列「備考2」はこのファイルの見出しにありません。"),
    (["--map", "紹介元=紹介先"], "エラー: --map 紹介元=紹介先: 項目「紹介先」が分かりません。使える項目: ID、受付日、"),
])  # fmt: skip
def test_a_column_or_item_that_is_not_there_is_one_clear_line(repo, run, tmp_path, option, message):
    before = snapshot(repo)
    result = run("import", consultation_log(tmp_path / "log.xlsx"), *option)
    assert result.exit_code == 1 and snapshot(repo) == before
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith(message)


def test_map_needs_a_column_and_an_item(repo, run, tmp_path):
    result = run("import", consultation_log(tmp_path / "log.xlsx"), "--map", "区分")
    assert result.exit_code == 2 and "列名=項目" in result.stderr


# --- other shapes of log ----------------------------------------------------------------------------


def test_a_header_of_two_rows_and_a_date_merged_over_two_rows(repo, run, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["受付日", "企業名", "住所", "相談者", None, "相談方法", "件名"])
    sheet.append([None, None, None, "氏名", "TEL", None, None])
    for cells in ("A1:A2", "B1:B2", "C1:C2", "D1:E1", "F1:F2", "G1:G2"):
        sheet.merge_cells(cells)
    sheet.append([datetime(2023, 9, 1), "株式会社A", "帯広市", "山田", "0155-00-0000", "来店", "試作の相談"])
    sheet.append([None, "株式会社B", "音更町", "佐藤", None, "電話", "融資の相談"])
    sheet.merge_cells("A3:A4")  # one date for two consultations of the same day
    book.save(tmp_path / "log.xlsx")
    preview = run("import", tmp_path / "log.xlsx", "--dry-run")
    assert preview.exit_code == 0, preview.stderr
    lines = preview.stderr.splitlines()
    assert lines[0] == "「log.xlsx」のシート「Sheet」を読みます。見出しは1〜2行目です"
    assert "  相談者 氏名 → 担当者名(個人情報)" in lines and "  相談者 TEL → 電話(個人情報)" in lines
    result = run("import", tmp_path / "log.xlsx")
    assert result.exit_code == 0, result.stderr
    cases = list(cases_of(run).values())
    assert [c["received_on"] for c in cases] == ["2023-09-01", "2023-09-01"]
    assert cases[0]["contact"] == {"person": "山田", "phone": "0155-00-0000"}
    assert cases[1]["contact"] == {"person": "佐藤"}


def test_a_sheet_without_a_header_row_says_what_it_looks_for(repo, run, tmp_path):
    book = Workbook()
    book.active.append(["令和5年度 相談記録簿"])
    book.active.append(["2023-06-01", "株式会社A", "帯広市"])
    book.save(tmp_path / "log.xlsx")
    result = run("import", tmp_path / "log.xlsx")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "エラー: 見出しの行が見つかりません。最初の30行のどこかに、"
        "受付日・会社名・所在地・相談内容などの列名を並べた行が必要です"
    )


def test_a_repository_can_say_what_its_own_headers_mean(repo, run, tmp_path):
    """担当者 is the staff member who took the call (kept in the note) unless a repository's
    data/columns.yaml says that in its logs it is the company's contact person."""
    header = ["受付日", "会社名", "所在地", "担当者", "相談方法", "件名"]
    book = Workbook()
    book.active.append(header)
    book.active.append(["R5.6.1", "株式会社A", "帯広市", "山田", "来店", "試作の相談"])
    book.save(tmp_path / "log.xlsx")
    assert "  担当者 → 受付の記録のメモに「担当者: 値」として残します" in \
        run("import", tmp_path / "log.xlsx", "--dry-run").stderr.splitlines()  # fmt: skip
    (repo / "kitamono.yaml").write_text("data_dir: data\n", encoding="utf-8")
    (repo / "data").mkdir()
    (repo / "data" / "columns.yaml").write_text("columns:\n  person: [担当者]\n", encoding="utf-8")
    assert "  担当者 → 担当者名(個人情報)" in run("import", tmp_path / "log.xlsx", "--dry-run").stderr.splitlines()


# --- CSV as Excel saves it ----------------------------------------------------------------------------

CSV_LOG = [
    "令和5年度 相談記録簿,,,,,",
    ",,,,,",
    "No.,受付日,相談企業名,所在地,相談方法,相談内容",
    "1,2023/6/1,株式会社十勝チーズ工房,北海道帯広市西5条南10丁目,来所,チーズの殺菌工程を見直したい",
    "２,R5.6.12,有限会社東神楽木工,上川郡東神楽町南1条西1丁目,e-mail,家具の販路を道外に広げたい",
    "合計,,2件,,,",
]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp932"])  # Excel's "CSV UTF-8" and its plain "CSV"
def test_a_log_saved_as_csv_by_excel_imports(repo, run, tmp_path, encoding):
    log = tmp_path / "相談記録簿.csv"
    log.write_bytes(("\r\n".join(CSV_LOG) + "\r\n").encode(encoding))
    result = run("import", log)
    assert result.exit_code == 0, result.stderr
    cases = list(cases_of(run).values())
    assert [(c["received_on"], c["channel"], c["company"]["municipality"]) for c in cases] == [
        ("2023-06-01", "visit", "帯広市"), ("2023-06-12", "email", "東神楽町")]


def test_a_csv_in_another_encoding_is_refused_saying_how_to_save_it(repo, run, tmp_path):
    log = tmp_path / "log.csv"
    log.write_bytes("\r\n".join(CSV_LOG).encode("utf-16"))
    result = run("import", log)
    assert result.exit_code == 1 and len(result.stderr.splitlines()) == 1
    assert "「CSV UTF-8 (コンマ区切り)」にして保存し直してください" in result.stderr


# --- exports a coordinator can filter -----------------------------------------------------------------

CASE_SHEET = ["ID", "受付日", "受付機関", "会社名", "市町村", "振興局", "分野", "件名", "状況", "主担当",
              "支援開始日", "最終記録日", "次のフォローアップ年度", "基本計画との整合", "受付経路", "取引銀行",
              "担当者名", "電話", "メール", "内容", "必要な支援", "地域経済牽引事業計画の承認日", "デモ",
              "競合", "解決済みの競合", "取下げ", "項目の訂正"]  # fmt: skip
HISTORY_SHEET = ["ID", "日付", "記録", "機関", "紹介先", "主担当", "協力", "メンバー", "成果", "メモ", "成果の種類",
                 "フォローアップ免除の理由", "取消", "訂正の記録"]  # fmt: skip


@pytest.fixture
def supported(repo, run, new_case) -> str:
    """A case received 2023-06-01 at 帯広市, referred to 北洋銀行, supported by it with 道総研 from 2023-07-03."""
    case = new_case(received_on="2023-06-01", contact_name="山田太郎")
    for args in (["refer", case, "--to", "北洋銀行", "--date", "2023-06-10"],
                 ["start", case, "--lead", "hokuyo", "--with", "道総研", "--date", "2023-07-03", "--note", "試作支援"]):
        assert run("case", *args).exit_code == 0  # fmt: skip
    return case


def test_the_xlsx_export_has_a_case_sheet_and_a_history_sheet(supported, run, tmp_path):
    out = tmp_path / "案件.xlsx"
    assert run("export", "-o", out).exit_code == 0
    book = load_workbook(out)
    assert book.sheetnames == ["案件", "経過"]
    cases, history = book["案件"], book["経過"]
    assert [c.value for c in cases[1]] == CASE_SHEET
    assert cases.freeze_panes == "A2" and cases.auto_filter.ref == "A1:AA2"
    row = dict(zip(CASE_SHEET, (c for c in cases[2]), strict=True))
    assert row["受付日"].value == datetime(2023, 6, 1) and row["受付日"].number_format == "yyyy-mm-dd"
    assert row["振興局"].value == "十勝" and row["分野"].value == "食料品製造関連"
    assert row["状況"].value == "支援中" and row["主担当"].value == "北洋銀行"
    assert row["支援開始日"].value == datetime(2023, 7, 3) and row["最終記録日"].value == datetime(2023, 7, 3)
    # Started in 2023年度: followed up in 2024 and 2025年度; as of 2026-11-28 the 2024 one is still owed.
    assert row["次のフォローアップ年度"].value == "2024年度"
    assert row["基本計画との整合"].value == "整合"  # 帯広市's plan includes food
    assert cases.column_dimensions["D"].width == 24  # 株式会社十勝チーズ工房: 11 wide characters, and a margin
    assert [c.value for c in history[1]] == HISTORY_SHEET
    assert history.freeze_panes == "A2" and history.auto_filter.ref == "A1:N4"
    assert [[c.value for c in r] for r in history.iter_rows(min_row=2)] == [
        [supported, datetime(2023, 6, 1), "受付", "道総研", None, None, None, None, None, None, *[None] * 4],
        [supported, datetime(2023, 6, 10), "紹介", "道総研", "北洋銀行", None, None, None, None, None, *[None] * 4],
        [supported, datetime(2023, 7, 3), "支援開始", "道総研", None, "北洋銀行", "道総研", None, None, "試作支援",
         *[None] * 4],
    ]  # fmt: skip


def test_the_history_columns_are_the_event_models_fields():
    """A field added to Event gets a 経過 column of its own (its name until the catalogue has one)."""
    from kitamono.exchange import event_fields, event_label

    assert sorted(event_fields()) == sorted(Event.model_fields)
    assert [event_label(name) for name in event_fields()][:3] == ["日付", "記録", "機関"]


def test_the_exported_workbook_comes_back_exactly(supported, run, make_repo, tmp_path):
    out = tmp_path / "案件.xlsx"
    assert run("export", "-o", out).exit_code == 0
    copy = make_repo("copy")
    result = run("--repo", copy, "import", out)
    assert result.exit_code == 0, result.stderr
    original = (tmp_path / "repo" / "cases" / "2023" / f"{supported}.yaml").read_bytes()
    assert (copy / "cases" / "2023" / f"{supported}.yaml").read_bytes() == original


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_corrections_and_withdrawals_come_back_from_an_export(supported, run, make_repo, tmp_path, new_case, suffix):
    twice = new_case(received_on="2023-06-02")
    assert run("case", "withdraw", twice, "--reason", "二重登録").exit_code == 0
    assert run("case", "set", supported, "--title", "チーズの殺菌工程", "--reason", "件名の誤り").exit_code == 0
    assert run("case", "void", supported, "2", "--reason", "紹介は誤り").exit_code == 0
    out = tmp_path / f"案件{suffix}"
    assert run("export", "-o", out).exit_code == 0
    copy = make_repo("copy")
    result = run("--repo", copy, "import", out)
    assert result.exit_code == 0, result.stderr
    for case, kept in ((supported, "changes:"), (twice, "withdrawn:")):
        original = (tmp_path / "repo" / "cases" / "2023" / f"{case}.yaml").read_text(encoding="utf-8")
        assert kept in original
        assert (copy / "cases" / "2023" / f"{case}.yaml").read_text(encoding="utf-8") == original


def test_a_bad_history_row_is_named_by_its_sheet_row_and_column(supported, run, make_repo, tmp_path):
    out = tmp_path / "案件.xlsx"
    assert run("export", "-o", out).exit_code == 0
    book = load_workbook(out)
    book["経過"]["C4"] = "手紙"
    book.save(out)
    copy = make_repo("copy")
    result = run("--repo", copy, "import", out)
    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert first.startswith("エラー: シート「経過」4行目「記録」: 「手紙」は記録の種類の選択肢にありません")


def test_csv_is_one_file_and_events_write_the_history_alone(supported, run, tmp_path):
    cases = run("export")
    rows = list(csv.reader(io.StringIO(cases.stdout_bytes.decode("utf-8-sig"), newline="")))
    assert rows[0] == [*CASE_SHEET, "経過"] and len(rows) == 2
    assert [e["type"] for e in json.loads(rows[1][-1])] == ["received", "referred", "started"]
    history = run("export", "--events")
    assert history.exit_code == 0, history.stderr
    assert history.stdout_bytes.decode("utf-8-sig").splitlines() == [
        ",".join(HISTORY_SHEET),
        f"{supported},2023-06-01,受付,道総研,,,,,,,,,,",
        f"{supported},2023-06-10,紹介,道総研,北洋銀行,,,,,,,,,",
        f"{supported},2023-07-03,支援開始,道総研,,北洋銀行,道総研,,,試作支援,,,,",
    ]
    assert "山田太郎" not in history.stdout
    refused = run("export", "--events", "-o", tmp_path / "x.xlsx")
    assert refused.exit_code == 2 and not (tmp_path / "x.xlsx").exists()
