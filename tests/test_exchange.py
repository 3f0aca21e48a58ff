"""``kitamono export`` and ``kitamono import`` through the real CLI, on real files.

A full copy comes back byte for byte in every format; an Excel inquiry log (和暦, short names,
Shift_JIS) comes in; a second import adds nothing; a bad row is named by row and column and
stops everything; contacts leave only when asked for.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from conftest import snapshot
from kitamono import store
from kitamono.caseio import case_text, load_case_file
from kitamono.exchange import Context, export_bytes, plan_import, read_source
from kitamono.models import COMPETENCES, Case, Company, Conflict, Contact, Event
from kitamono.reference import load_reference

BOM = b"\xef\xbb\xbf"
HEADERS = [
    "ID", "受付日", "受付機関", "会社名", "市町村", "振興局", "分野", "件名", "状況", "主担当", "支援開始日",
    "最終記録日", "次のフォローアップ年度", "基本計画との整合", "受付経路", "取引銀行", "担当者名", "電話", "メール",
    "内容", "必要な支援", "地域経済牽引事業計画の承認日", "デモ", "競合", "解決済みの競合", "取下げ", "項目の訂正",
    "経過",
]  # fmt: skip
#: The 案件 sheet of an XLSX export: the same, its events on the 経過 sheet instead.
SHEET_HEADERS = HEADERS[:-1]
EVENT_HEADERS = ["ID", "日付", "記録", "機関", "紹介先", "主担当", "協力", "メンバー", "成果", "メモ", "成果の種類",
                 "フォローアップ免除の理由", "取消", "訂正の記録"]  # fmt: skip
CONTACT = {"person": "山田太郎", "phone": "0155231234", "email": "yamada@example.jp"}


def cases_snapshot(root: Path) -> dict[str, bytes]:
    """Every case file under cases/, by its path in the repository."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted((root / "cases").rglob("*.yaml"))}


def case_texts(root: Path) -> dict[str, str]:
    texts = {}
    for path in store.open_repository(root).case_files():
        case = load_case_file(path)
        texts[case.id] = case_text(case)
    return texts


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(BOM)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def write_log(path: Path, lines: list[str], encoding: str = "utf-8-sig") -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


@pytest.fixture
def full_repo(repo, run, new_case) -> Path:
    """A repository whose cases use every field: contacts, bank, events, a demo case with conflicts."""
    first = new_case(contact_name=CONTACT["person"], contact_phone=CONTACT["phone"], contact_email=CONTACT["email"],
                     bank="北洋銀行", approved_project="令和2年3月10日")  # fmt: skip
    for args in (
        ["refer", first, "--to", "北洋銀行", "--date", "R1.5.20", "--note", "資金面の相談"],
        ["start", first, "--lead", "hokuyo", "--with", "道総研,tokachi", "--date", "2019-06-03", "--by", "hokuyo"],
        ["close", first, "--outcome", "新商品を発売", "--date", "2021-03-01"],
    ):
        assert run("case", *args).exit_code == 0
    new_case(company="有限会社旭川木工", municipality="旭川市", title="家具の新商品", summary="", field="monozukuri",
             received_on="2020-04-01", channel="phone", received_by="asahikawa_craft")  # fmt: skip
    # Text that spreadsheets like to mangle: formulas, quotes and commas, lines, leading zeros.
    odd = Case(
        id="dogin-2020-0007", demo=True, received_on=date(2020, 10, 1), received_by="dogin", channel="referral",
        company=Company(name="株式会社函館マリン", municipality="函館市", bank="dogin"),
        contact=Contact(person="佐藤花子", phone="0138123456"),
        title='=HYPERLINK("x") で始まる件名', summary='一行目, "引用" あり\n二行目\tタブ  ',
        field="food", needs=["market", "finance"],
        events=[Event(type="received", date=date(2020, 10, 1), by="dogin"),
                Event(type="started", date=date(2020, 10, 5), by="dogin", lead="dogin", note="0001 番\n続き")],
        conflicts=[Conflict(field="title", ours="A", theirs=None)],
    )  # fmt: skip
    assert store.add_case(store.open_repository(repo), odd)
    return repo


# --- export ---------------------------------------------------------------------------------------


def test_export_csv_is_utf8_with_bom_and_japanese_headers(full_repo, run):
    result = run("export")
    assert result.exit_code == 0, result.stderr
    rows = read_csv(result.stdout_bytes)
    assert rows[0] == HEADERS
    assert [r[0] for r in rows[1:]] == ["hro-2019-0001", "hro-2020-0001", "dogin-2020-0007"]  # by date received
    first = dict(zip(HEADERS, rows[1], strict=True))
    assert first["受付日"] == "2019-05-14"
    assert first["受付機関"] == "道総研" and first["受付経路"] == "来訪" and first["取引銀行"] == "北洋銀行"
    assert first["会社名"] == "株式会社十勝チーズ工房" and first["市町村"] == "帯広市"
    assert first["電話"] == "0155231234"  # text, leading zero kept
    assert first["地域経済牽引事業計画の承認日"] == "2020-03-10"
    assert first["分野"] == "食料品製造関連"
    events = json.loads(first["経過"])
    assert [e["type"] for e in events] == ["received", "referred", "started", "closed"]
    assert events[2] == {"type": "started", "date": "2019-06-03", "by": "hokuyo", "lead": "hokuyo",
                         "supporting": ["hro", "tokachi"]}  # fmt: skip
    odd = dict(zip(HEADERS, rows[3], strict=True))
    assert odd["件名"] == "'=HYPERLINK(\"x\") で始まる件名" and odd["デモ"] == "1"  # shown, never evaluated
    assert odd["内容"] == '一行目, "引用" あり\n二行目\tタブ  '
    assert json.loads(odd["競合"]) == [{"field": "title", "ours": "A", "theirs": None}]
    assert "連絡先" in result.stderr and "3件" in result.stderr


def test_a_japanese_case_logged_with_the_cli_is_listed_and_exported(repo, run, tmp_path):
    logged = run(
        "case", "new", "--no-input", "--company", "株式会社ほくと水産", "--municipality", "函館市",
        "--title", "ホタテ加工品の販路開拓", "--summary", "道外の百貨店に売り込みたい。",
        "--received-on", "令和3年10月1日", "--received-by", "函館地域産業振興財団", "--channel", "event",
    )  # fmt: skip
    assert logged.exit_code == 0, logged.stderr
    case_id = logged.stdout.strip()
    listing = run("case", "list", "--format", "plain").stdout
    assert case_id in listing and "株式会社ほくと水産" in listing and "ホタテ加工品の販路開拓" in listing

    out = tmp_path / "案件.csv"
    assert run("export", "-o", out).exit_code == 0
    data = out.read_bytes()
    assert data.startswith(BOM)  # what makes Japanese Excel read UTF-8 instead of Shift_JIS
    text = data.decode("utf-8-sig")  # strict: any broken byte would raise here
    assert "\ufffd" not in text
    row = dict(zip(HEADERS, read_csv(data)[1], strict=True))
    assert row["ID"] == case_id and row["受付日"] == "2021-10-01" and row["受付機関"] == "函館地域産業振興財団"
    assert row["会社名"] == "株式会社ほくと水産" and row["件名"] == "ホタテ加工品の販路開拓"
    assert row["内容"] == "道外の百貨店に売り込みたい。" and row["受付経路"] == "イベント"


def test_export_xlsx_has_a_header_row_text_cells_and_date_cells(full_repo, run, tmp_path):
    out = tmp_path / "cases.xlsx"
    result = run("export", "-o", out)
    assert result.exit_code == 0, result.stderr
    sheet = load_workbook(out).worksheets[0]
    assert sheet.title == "案件"
    assert [c.value for c in sheet[1]] == SHEET_HEADERS
    assert all(c.font.bold for c in sheet[1]) and sheet.freeze_panes == "A2"
    col = {name: index for index, name in enumerate(SHEET_HEADERS)}
    row = sheet[2]
    assert row[col["受付日"]].value == datetime(2019, 5, 14) and row[col["受付日"]].is_date
    assert row[col["受付日"]].number_format == "yyyy-mm-dd"
    assert row[col["地域経済牽引事業計画の承認日"]].value == datetime(2020, 3, 10)
    assert row[col["電話"]].value == "0155231234" and row[col["電話"]].data_type == "s"
    assert row[col["ID"]].value == "hro-2019-0001" and row[col["ID"]].data_type == "s"
    formula_like = sheet[4][col["件名"]]
    assert formula_like.value == "'=HYPERLINK(\"x\") で始まる件名" and formula_like.data_type == "s"  # not a formula


def test_xlsx_goes_to_stdout_only_when_it_is_not_a_terminal(full_repo, run):
    result = run("export", "--format", "xlsx")
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes.startswith(b"PK")
    assert load_workbook(io.BytesIO(result.stdout_bytes)).worksheets[0].max_row == 4


def test_format_comes_from_the_output_extension(full_repo, run, tmp_path):
    assert run("export", "-o", tmp_path / "a.jsonl").exit_code == 0
    lines = (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["hro-2019-0001", "hro-2020-0001", "dogin-2020-0007"]
    unknown = run("export", "-o", tmp_path / "a.xls")
    assert unknown.exit_code == 2 and not (tmp_path / "a.xls").exists()
    assert run("export", "--format", "pdf").exit_code == 2


def test_jsonl_is_each_case_as_its_model_dump(full_repo, run):
    lines = run("export", "-f", "jsonl").stdout.splitlines()
    texts = case_texts(full_repo)
    for line in lines:
        case = Case.model_validate(json.loads(line))
        assert case_text(case) == texts[case.id]
    assert set(json.loads(lines[0])) == set(Case.model_fields)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "jsonl"])
def test_redacted_export_holds_no_contact(full_repo, run, tmp_path, fmt):
    out = tmp_path / f"shared.{fmt}"
    result = run("export", "--redact", "-o", out)
    assert result.exit_code == 0, result.stderr
    if fmt == "xlsx":
        sheet = load_workbook(out).worksheets[0]
        text = "\n".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None)
        assert [c.value for c in sheet[1]] == [h for h in SHEET_HEADERS if h not in ("担当者名", "電話", "メール")]
    else:
        text = out.read_text(encoding="utf-8-sig")
    for value in [*CONTACT.values(), "佐藤花子", "0138123456"]:
        assert value not in text
    assert "株式会社十勝チーズ工房" in text  # the rest is all there
    assert "連絡先" not in result.stderr  # no warning about contacts: there are none


def test_export_refuses_when_a_case_file_is_damaged(full_repo, run, tmp_path):
    broken = full_repo / "cases" / "2020" / "hro-2020-0009.yaml"
    broken.write_text("id: hro-2020-0009\nreceived_on: [\n", encoding="utf-8")
    out = tmp_path / "copy.jsonl"
    result = run("export", "-o", out)
    assert result.exit_code == 1
    assert "hro-2020-0009.yaml" in result.stderr and "何も書き出しませんでした" in result.stderr
    assert not out.exists()
    to_stdout = run("export")
    assert to_stdout.exit_code == 1 and to_stdout.stdout == ""


# --- a full copy comes back without loss ------------------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "xlsx"])
def test_export_then_import_into_an_empty_repository_is_byte_for_byte(full_repo, run, make_repo, tmp_path, fmt):
    out = tmp_path / f"copy.{fmt}"
    assert run("export", "-o", out).exit_code == 0
    copy = make_repo("copy", institution="hokuyo")
    result = run("--repo", copy, "import", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == ["hro-2019-0001", "hro-2020-0001", "dogin-2020-0007"]
    assert "追加 3件、変更なし 0件" in result.stderr
    assert case_texts(copy) == case_texts(full_repo)
    assert cases_snapshot(copy) == cases_snapshot(full_repo)

    again = run("--repo", copy, "import", out)
    assert again.exit_code == 0, again.stderr
    assert again.stdout == "" and "追加 0件、変更なし 3件" in again.stderr
    assert cases_snapshot(copy) == cases_snapshot(full_repo)
    # The copy keeps minting ids after the ones it was given.
    made = run("--repo", copy, "case", "new", "--no-input", "--company", "株式会社X", "--municipality", "札幌市",
               "--title", "相談", "--channel", "web", "--received-by", "dogin", "--received-on", "2020-11-01")
    assert made.stdout.strip() == "hokuyo-2020-0001"


def test_a_redacted_export_imports_back_as_unchanged(full_repo, run, tmp_path):
    out = tmp_path / "shared.csv"
    assert run("export", "--redact", "-o", out).exit_code == 0
    before = snapshot(full_repo)
    result = run("import", out)
    assert result.exit_code == 0, result.stderr
    assert "追加 0件、変更なし 3件" in result.stderr
    assert snapshot(full_repo) == before  # the stored contacts stay


def test_an_existing_case_that_differs_is_refused_by_id_and_column(full_repo, run, tmp_path):
    rows = read_csv(run("export").stdout_bytes)
    rows[2][HEADERS.index("件名")] = "家具の新商品(改)"
    rows[2][HEADERS.index("電話")] = "011-000-0000"
    edited = tmp_path / "edited.csv"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    edited.write_bytes(BOM + buffer.getvalue().encode("utf-8"))
    before = snapshot(full_repo)
    result = run("import", edited)
    assert result.exit_code == 1
    assert "3行目「ID」" in result.stderr and "hro-2020-0001" in result.stderr
    assert "件名" in result.stderr and "電話" in result.stderr
    assert "011-000-0000" not in result.stderr  # the column is named, never the phone number
    assert snapshot(full_repo) == before


# --- an existing inquiry log --------------------------------------------------------------------

LOG = [
    "受付日,受付機関,受付経路,会社名,市町村,件名,内容,分野,相談者,電話",
    "令和元年５月１４日,道総研,来訪,株式会社十勝チーズ工房,帯広市,チーズの殺菌工程の見直し,"
    "新しい殺菌装置の導入にあたり品質の検査方法を相談したい,,山田太郎,0155-23-1234",
    "H31.4.22,北洋銀行,電話,有限会社旭川木工,旭川市,家具の新しい塗り,道外への販路を広げたい,ものづくり関連,,",
    "2019/6/3,,メール,札幌ソフト株式会社,札幌市,在庫管理システム,IoT で在庫を管理したい,,,",
]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp932"])  # cp932: what Japanese Excel's plain "CSV" writes
def test_import_a_japanese_inquiry_log(repo, run, tmp_path, encoding):
    log = write_log(tmp_path / "相談記録簿.csv", LOG, encoding)
    result = run("import", log)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == ["hro-2019-0001", "hro-2019-0002", "hro-2019-0003"]  # the clone's prefix
    assert "追加 3件、変更なし 0件" in result.stderr
    cases = {c["id"]: c for c in json.loads(run("case", "list", "--format", "json").stdout)}
    cheese = json.loads(run("case", "show", "hro-2019-0001", "--with-contacts", "--format", "json").stdout)
    assert cheese["received_on"] == "2019-05-14" and cheese["received_by"] == "hro" and cheese["channel"] == "visit"
    assert cheese["company"] == {"name": "株式会社十勝チーズ工房", "municipality": "帯広市"}
    assert cheese["field"] == "food"  # suggested from 殺菌, as case new would
    assert cheese["needs"] == ["technical", "testing"]  # 殺菌/品質, 検査
    assert cheese["contact"] == {"person": "山田太郎", "phone": "0155-23-1234"}
    assert cheese["events"] == [{"type": "received", "date": "2019-05-14", "by": "hro"}]
    furniture = cases["hro-2019-0002"]
    assert furniture["received_on"] == "2019-04-22" and furniture["received_by"] == "hokuyo"
    assert furniture["field"] == "monozukuri"  # given in the log
    soft = cases["hro-2019-0003"]
    assert soft["received_by"] == "hro" and soft["field"] == "it"  # no 受付機関: this clone's institution


def test_importing_the_same_log_twice_adds_nothing_the_second_time(repo, run, tmp_path):
    log = write_log(tmp_path / "log.csv", LOG)
    assert run("import", log).exit_code == 0
    after_first = snapshot(repo)
    second = run("import", log)
    assert second.exit_code == 0, second.stderr
    assert second.stdout == ""
    assert "追加 0件、変更なし 3件" in second.stderr
    assert snapshot(repo) == after_first
    # The log grows by one row: only that row is new.
    write_log(log, [*LOG, "2019-07-01,道総研,来訪,株式会社十勝チーズ工房,帯広市,チーズの熟成庫,,,,"])
    third = run("import", log)
    assert third.stdout.split() == ["hro-2019-0004"] and "追加 1件、変更なし 3件" in third.stderr


def test_the_same_log_as_xlsx_is_recognised_as_already_imported(repo, run, tmp_path):
    from openpyxl import Workbook

    assert run("import", write_log(tmp_path / "log.csv", LOG)).exit_code == 0
    book = Workbook()
    sheet = book.active
    for line in LOG:
        sheet.append(line.split(","))
    sheet["A2"].value = datetime(2019, 5, 14)  # a real date cell this time
    book.save(tmp_path / "log.xlsx")
    result = run("import", tmp_path / "log.xlsx")
    assert result.exit_code == 0, result.stderr
    assert "追加 0件、変更なし 3件" in result.stderr


def test_english_model_keys_are_accepted_as_headers(repo, run, tmp_path):
    log = write_log(tmp_path / "log.csv", [
        "received_on,received_by,channel,company.name,municipality,title,needs",
        "2022-01-12,hokuyo,visit,株式会社釧路フーズ,釧路市,冷凍食品の輸出,市場開拓、finance",
    ])  # fmt: skip
    result = run("import", log)
    assert result.exit_code == 0, result.stderr
    case = json.loads(run("case", "show", "hro-2021-0001", "--format", "json").stdout)
    assert case["needs"] == ["market", "finance"] and case["company"]["name"] == "株式会社釧路フーズ"


def test_dry_run_reports_and_writes_nothing(repo, run, new_case, tmp_path):
    new_case(company="株式会社十勝チーズ工房", title="チーズの殺菌工程の見直し", received_on="2019-05-14")
    before = snapshot(repo)
    result = run("import", write_log(tmp_path / "log.csv", LOG), "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert snapshot(repo) == before
    assert result.stdout == ""
    assert "2行目: hro-2019-0001 として取り込み済みのため、変更しません" in result.stderr
    assert "3行目: 新しい案件として追加します" in result.stderr
    assert "追加予定 2件、変更なし 1件" in result.stderr


# --- bad rows: named by row and column, nothing written -----------------------------------------


def test_bad_rows_are_named_and_nothing_is_written(repo, run, new_case, tmp_path):
    new_case()
    before = snapshot(repo)
    log = write_log(tmp_path / "log.csv", [
        "受付日,受付機関,受付経路,会社名,市町村,件名,電話",
        "2019-05-15,道総研,来訪,株式会社良い行,帯広市,正しい行,0155-11-2222",
        "2019-05-14,道総研,来訪,株式会社A,帯広,件名1,0155-99-8877",
        "令和元年4月30日,道総研,来訪,株式会社B,帯広市,件名2,",
        "2019-05-14,道総研究所,来訪,株式会社C,帯広市,件名3,",
        "2019-05-14,道総研,手紙,株式会社D,帯広市,,",
        "2027-01-05,道総研,来訪,株式会社E,帯広市,件名5,",
    ])  # fmt: skip
    result = run("import", log)
    assert result.exit_code == 1
    assert snapshot(repo) == before
    lines = result.stderr.splitlines()
    assert lines[0].startswith("エラー: 3行目「市町村」: ") and "帯広市" in lines[0]  # with the near name
    assert lines[1].startswith("エラー: 4行目「受付日」: ") and "令和の期間外" in lines[1]
    assert lines[2].startswith("エラー: 5行目「受付機関」: ") and "道総研究所" in lines[2]
    assert lines[3].startswith("エラー: 6行目「受付経路」: ") and "来訪" in lines[3]
    assert lines[4] == "エラー: 6行目「件名」: 値が必要です"
    assert lines[5].startswith("エラー: 7行目「受付日」: ") and "未来" in lines[5]
    assert lines[6] == "エラー: 問題が6件あるため、何も取り込みませんでした"
    assert "0155-99-8877" not in result.stderr


def test_bad_events_are_named_by_the_history_column(repo, run, tmp_path):
    events = json.dumps([{"type": "received", "date": "2019-05-14", "by": "hro"},
                         {"type": "supported", "date": "2019-06-01", "by": "hro"}], ensure_ascii=False)  # fmt: skip
    rows = [["ID", "受付日", "受付機関", "受付経路", "会社名", "市町村", "件名", "分野", "経過"],
            ["hro-2019-0005", "2019-05-14", "hro", "visit", "株式会社A", "帯広市", "件名", "food", events],
            ["hro-2019-0006", "2019-05-14", "hro", "visit", "株式会社B", "帯広市", "件名", "food", "[{"]]  # fmt: skip
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    log = tmp_path / "log.csv"
    log.write_text(buffer.getvalue(), encoding="utf-8")
    result = run("import", log)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("エラー: 2行目「経過」: events[1]: ") and "支援開始" in lines[0]
    assert lines[1].startswith("エラー: 3行目「経過」: JSON として読めません")
    assert not (repo / "cases" / "2019").exists()


def test_bad_headers_are_named_in_the_header_row(repo, run, tmp_path):
    log = write_log(
        tmp_path / "log.csv", ["受付日,受付機関,会社名,事業者名,件名", "2019-05-14,道総研,A,A,件名"]
    )
    result = run("import", log)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "エラー: 1行目「事業者名」: 同じ見出しが2回あります"  # 会社名 and 事業者名 both name the company
    assert "エラー: 1行目「受付経路」: この列が必要です" in lines
    assert "エラー: 1行目「市町村」: この列が必要です" in lines
    assert len(lines) == 4  # and the summary: no per-row complaint about the columns that are missing


def test_jsonl_problems_name_the_line_and_the_field(repo, run, tmp_path):
    good = {"id": "hro-2019-0001", "received_on": "2019-05-14", "received_by": "hro", "channel": "visit",
            "company": {"name": "A", "municipality": "帯広市"}, "title": "件名", "field": "food"}  # fmt: skip
    bad = {**good, "id": "hro-2019-0002", "company": {"name": "B", "municipality": "帯広"}}
    worse = {**good, "id": "hro-2019-0003", "channel": "fax"}
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in (good, bad, worse)) + "\nnot json\n",
                    encoding="utf-8")  # fmt: skip
    result = run("import", path)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("エラー: 4行目: JSON として読めません")
    assert lines[1].startswith("エラー: 2行目「company.municipality」: 市町村「帯広」")
    assert lines[2].startswith("エラー: 3行目「channel」: ")
    assert not (repo / "cases" / "2019").exists()


def test_a_file_of_another_kind_is_refused(repo, run, tmp_path):
    path = tmp_path / "log.txt"
    path.write_text("受付日\n", encoding="utf-8")
    result = run("import", path)
    assert result.exit_code == 1 and ".csv" in result.stderr


# --- any text survives the round trip -----------------------------------------------------------
# A property test of the core (exporting and reading back one case, without the CLI), because
# spreadsheets are where text gets mangled: commas, quotes, line breaks, leading zeros, "=…".


REF = load_reference()
#: Any text a case may be given: no control characters (a line break and a tab only in text of
#: several lines), with what spreadsheets mangle or evaluate thrown in: a leading =, +, -, @ or
#: apostrophe, Excel's _x001B_ escapes, a line separator.
_BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_LINE_CHARS = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters=_BIDI_CONTROLS)
_TEXT_CHARS = _LINE_CHARS | st.sampled_from("\n\t")
_TRICKS = st.sampled_from(["", "=", "+", "-", "@", "'", "'=", "''+", "_x000D_", "_x005F_", "x005F_", "_", "\u2028"])


def _tricky(chars) -> st.SearchStrategy[str]:
    return st.builds(lambda a, b, c: a + b + c, _TRICKS, st.text(chars, max_size=20), _TRICKS)


@st.composite
def any_case(draw, fmt: str) -> Case:
    line, text = _tricky(_LINE_CHARS), _tricky(_TEXT_CHARS)
    some_line, some = st.none() | line.filter(bool), st.none() | text.filter(bool)
    received_on = draw(st.dates(date(2017, 4, 1), date(2026, 11, 28)))
    by = draw(st.sampled_from(sorted(REF.institutions)))
    contact = draw(st.none() | st.builds(Contact, person=some_line, phone=some_line, email=some_line))
    if contact is not None and not any(contact.model_dump().values()):
        contact = None  # an empty contact is no contact in a spreadsheet
    return Case(
        id=f"{by}-{received_on.year}-{draw(st.integers(1, 99999)):04d}",
        demo=draw(st.booleans()),
        received_on=received_on,
        received_by=by,
        channel=draw(st.sampled_from(sorted(Case.model_fields["channel"].annotation.__args__))),
        company=Company(name=draw(line.filter(bool)), municipality=draw(st.sampled_from(sorted(REF.municipalities))),
                        bank=draw(st.none() | st.sampled_from(["hokuyo", "dogin"]))),
        contact=contact,
        title=draw(line.filter(bool)),
        summary=draw(text),
        field=draw(st.sampled_from(["food", "monozukuri", "it", "other"])),
        needs=draw(st.lists(st.sampled_from(COMPETENCES), unique=True, max_size=4)),
        approved_project=draw(st.none() | st.dates(date(2017, 4, 1), date(2026, 11, 28))),
        events=draw(_events(received_on, by, some)),
        conflicts=draw(st.lists(st.builds(Conflict, field=line, ours=some, theirs=some), max_size=2)),
    )  # fmt: skip


@st.composite
def _events(draw, received_on: date, by: str, some) -> list[Event]:
    """Received, then maybe a referral and a start naming other institutions (by short name in a
    spreadsheet's 経過 sheet), each with any note."""
    events = [Event(type="received", date=received_on, by=by, note=draw(some))]
    others = st.sampled_from(sorted(REF.institutions))
    if draw(st.booleans()):
        to = draw(others.filter(lambda i: i != by))
        events.append(Event(type="referred", date=received_on, by=by, to=to, note=draw(some)))
    if draw(st.booleans()):
        lead = draw(others)
        supporting = draw(st.lists(others.filter(lambda i: i != lead), unique=True, max_size=3))
        events.append(Event(type="started", date=received_on, by=lead, lead=lead, supporting=supporting,
                            note=draw(some)))  # fmt: skip
    return events


def _round_trip(case: Case, fmt: str) -> Case:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"cases.{fmt}"
        path.write_bytes(export_bytes([case], REF, fmt))
        plan = plan_import(read_source(path, REF), [], Context(REF, date(2026, 11, 28), None))
    [row] = plan.rows
    return row.case


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "jsonl"])
def test_any_case_survives_the_round_trip(fmt):
    @settings(max_examples=40, deadline=None)
    @given(any_case(fmt))
    def check(case):
        assert case_text(_round_trip(case, fmt)) == case_text(case)

    check()


def test_a_clone_of_no_institution_mints_each_id_under_the_rows_receiver(run, make_repo, tmp_path):
    """Without ``init --institution`` there is no clone prefix: a new case's id is minted under the
    row's own 受付機関, and a row that names none is refused (nothing to mint from), nothing written."""
    bare = make_repo("bare", institution=None)
    before = snapshot(bare)
    refused = run("--repo", bare, "import", write_log(tmp_path / "log.csv", LOG))
    assert refused.exit_code == 1
    assert refused.stderr.splitlines()[0].startswith("エラー: 4行目「受付機関」: 受付機関が必要です")
    assert snapshot(bare) == before
    result = run("--repo", bare, "import", write_log(tmp_path / "log.csv", LOG[:3]))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == ["hro-2019-0001", "hokuyo-2019-0001"]  # 道総研 and 北洋銀行, both 2019年度


def test_every_header_kitamono_writes_reads_back_as_its_column():
    """data/columns.yaml may add names, never take one of kitamono's own headers for another column."""
    from kitamono.exchange import COLUMNS, _column_key
    from kitamono.i18n import catalogue

    for column in COLUMNS:
        for lang in ("ja", "en"):
            assert _column_key(catalogue(lang)[f"exchange.col.{column.key}"], REF) == column.key
        assert _column_key(column.key, REF) == column.key
