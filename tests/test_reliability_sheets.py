"""Hostile text in cases and hostile spreadsheets, through the real CLI.

A case file a colleague edited by hand (or a shared repository someone tampered with) may hold
rich markup, terminal escape sequences or spreadsheet formulas; an import file may be built to
exhaust memory. Text is shown as itself in every format, control characters are refused on input
and spelled out when a file already holds them, every CSV and XLSX cell kitamono writes is safe
to open in a spreadsheet and reads back exactly, and an oversized sheet is refused before it is
read. Identical rows of an inquiry log are one case.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from conftest import snapshot

#: A case file as a hand edit leaves it: YAML escapes make the control characters.
HOSTILE = """\
id: hro-2019-0001
received_on: 2019-05-14
received_by: hro
channel: visit
company:
  name: '[/bold]'
  municipality: 帯広市
title: "\\e]0;pwned\\a[link=http://evil.example]click[/link]"
summary: "\\u202eevil\\r\\n[red]二行目[/red]"
field: food
events:
- type: received
  date: 2019-05-14
  by: hro
  note: ":smile: \\x9b2J"
"""
#: What must never reach a terminal: ESC, BEL, CSI (C1), a right-to-left override, a live link.
RAW = ("\x1b]", "\x07", "\x9b", "\u202e", "\x1b]8;")


def write_case(repo: Path, text: str, case_id: str = "hro-2019-0001") -> Path:
    path = repo / "cases" / case_id.split("-")[1] / f"{case_id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def cases_snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted((root / "cases").rglob("*.yaml"))}


def xlsx_cells(path: Path) -> list:
    """Every non-empty cell of every sheet, as openpyxl sees it."""
    workbook = load_workbook(path)
    return [
        cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row if cell.value is not None
    ]


# --- 8. text from case files is shown as itself ---------------------------------------------------


@pytest.mark.parametrize(
    "command", [["case", "list"], ["case", "show", "hro-2019-0001"], ["case", "history", "hro-2019-0001"]]
)
def test_markup_and_escapes_in_a_hand_edited_case_are_shown_literally_in_a_table(repo, run, command):
    write_case(repo, HOSTILE)
    result = run(*command, "--format", "table")
    assert result.exit_code == 0, result.stderr
    shown = result.stdout
    for raw in RAW:
        assert raw not in shown
    if command[1] == "history":
        assert ":smile: \\x9b2J" in shown and "😄" not in shown  # no emoji code turned into an emoji
        return
    assert "[/bold]" in shown
    assert "\\x1b]0;pwned\\x07[link=http://evil.example]click[/link]" in shown
    if command[1] == "show":
        assert "\\u202eevil" in shown and "[red]二行目[/red]" in shown


@pytest.mark.parametrize("fmt", ["plain", "markdown", "html"])
def test_control_characters_are_spelled_out_in_every_text_format(repo, run, fmt):
    write_case(repo, HOSTILE)
    for command in (["case", "list"], ["case", "show", "hro-2019-0001"]):
        result = run(*command, "--format", fmt)
        assert result.exit_code == 0, result.stderr
        for raw in RAW:
            assert raw not in result.stdout
        assert "pwned" in result.stdout and "x1b" in result.stdout and "x07" in result.stdout


def test_markdown_shows_markup_as_text(repo, run):
    write_case(repo, HOSTILE)
    result = run("case", "list", "--format", "markdown")
    assert result.exit_code == 0, result.stderr
    # Each markup character is escaped, so a markdown viewer shows it and makes no link of it.
    assert "\\\\x1b\\]0;pwned\\\\x07\\[link=http://evil.example\\]click\\[/link\\]" in result.stdout
    assert "| \\[/bold\\] |" in result.stdout


def test_messages_quoting_a_file_spell_out_its_control_characters(repo, run):
    """A warning or error quoting a hand-edited value reaches stderr spelled out too."""
    write_case(repo, HOSTILE.replace("municipality: 帯広市", 'municipality: "\\e[2J帯広"'))
    result = run("check")
    assert result.exit_code == 1
    assert "\\x1b[2J帯広" in result.stdout + result.stderr
    assert "\x1b" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("option", "value", "field", "shown"),
    [
        ("--title", "件名\x1b]0;pwned\x07", "title", "\\x1b"),
        ("--company", "株式会社\u202eABC", "name", "\\u202e"),
        ("--title", "二行の\n件名", "title", "\\n"),
        ("--summary", "内容\x9b2J", "summary", "\\x9b"),
        ("--note", "メモ\x07", "note", "\\x07"),
        ("--contact-phone", "0155\t231234", "phone", "\\t"),
    ],
)
def test_control_characters_are_refused_on_input_naming_the_field(repo, run, option, value, field, shown):
    before = snapshot(repo)
    result = run("case", "new", "--no-input", "--company", "株式会社A", "--municipality", "帯広市",
                 "--title", "件名", "--channel", "visit", "--received-on", "2019-05-14", option, value)  # fmt: skip
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"エラー: {field}: 使えない文字 ({shown}) が入っています。")
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert snapshot(repo) == before


def test_line_breaks_and_tabs_stay_allowed_in_text_of_several_lines(repo, run, new_case):
    case_id = new_case(summary="一行目\n\t二行目")
    result = run("case", "refer", case_id, "--to", "北洋銀行", "--date", "2019-05-20", "--note", "メモ\n\t続き")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(run("case", "show", case_id, "--format", "json").stdout)
    assert shown["summary"] == "一行目\n\t二行目" and shown["events"][1]["note"] == "メモ\n\t続き"


def test_an_event_note_with_a_control_character_is_refused_in_one_line(repo, run, new_case):
    case_id = new_case()
    before = snapshot(repo)
    result = run("case", "refer", case_id, "--to", "北洋銀行", "--date", "2019-05-20", "--note", "資金\x1b[31m")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "エラー: note: 使えない文字 (\\x1b) が入っています。改行とタブのほかは、制御文字などの見えない文字は"
        "入れられません。取り除いてください"
    ]
    assert snapshot(repo) == before


def test_english_names_the_field_and_the_character(repo, run, monkeypatch):
    monkeypatch.setenv("KITAMONO_LANG", "en")
    result = run("case", "new", "--no-input", "--company", "A", "--municipality", "帯広市", "--title", "a\x1bb",
                 "--channel", "visit", "--received-on", "2019-05-14")  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: title: contains a character that cannot be used here (\\x1b)")


# --- 9. formulas in spreadsheets ------------------------------------------------------------------

#: Texts a spreadsheet would evaluate, and a text that genuinely starts with an apostrophe.
FORMULAS = {
    "company": '=HYPERLINK("http://x","y")',
    "title": "+cmd|' /C calc'!A0",
    "summary": "@SUM(1)",
    "contact_name": "-2+3",
}


@pytest.fixture
def formula_repo(repo, new_case) -> Path:
    new_case(**FORMULAS)
    new_case(company="株式会社B", title="'=既に引用符つき", summary="'普通の引用符")
    return repo


def test_export_neutralises_formulas_and_import_reads_them_back_exactly(formula_repo, run, make_repo, tmp_path):
    out = tmp_path / "cases.csv"
    assert run("export", "-o", out).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8-sig"), newline="")))
    assert rows[0]["会社名"] == "'" + FORMULAS["company"]
    assert rows[0]["件名"] == "'" + FORMULAS["title"]
    assert rows[0]["内容"] == "'" + FORMULAS["summary"]
    assert rows[0]["担当者名"] == "'" + FORMULAS["contact_name"]
    assert rows[1]["件名"] == "''=既に引用符つき"  # an apostrophe before a formula character: one more
    assert rows[1]["内容"] == "'普通の引用符"  # any other apostrophe stays as it is

    xlsx = tmp_path / "cases.xlsx"
    assert run("export", "-o", xlsx).exit_code == 0
    cells = xlsx_cells(xlsx)
    assert not [c for c in cells if c.data_type == "f"]
    values = {c.value for c in cells}
    assert {"'" + v for v in FORMULAS.values()} <= values and "''=既に引用符つき" in values

    for copy_name, source in (("from_csv", out), ("from_xlsx", xlsx)):
        copy = make_repo(copy_name, institution="hokuyo")
        result = run("--repo", copy, "import", source)
        assert result.exit_code == 0, result.stderr
        assert cases_snapshot(copy) == cases_snapshot(formula_repo)


@pytest.mark.parametrize("command", [["case", "list"], ["case", "show", "hro-2019-0001"]])
def test_every_spreadsheet_a_listing_writes_is_safe_to_open(formula_repo, run, tmp_path, command):
    for ext in ("csv", "xlsx"):
        out = tmp_path / f"out.{ext}"
        result = run(*command, "-o", out)
        assert result.exit_code == 0, result.stderr
        if ext == "csv":
            cells = [
                c for row in csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"), newline="")) for c in row
            ]
        else:
            found = xlsx_cells(out)
            assert not [c for c in found if c.data_type == "f"]
            cells = [c.value for c in found if isinstance(c.value, str)]
        assert "'" + FORMULAS["title"] in cells
        assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_numbers_in_a_report_stay_numbers(repo, run, tmp_path):
    """Only text is neutralised: a negative difference from a target is a number cell."""
    xlsx = tmp_path / "targets.xlsx"
    assert run("targets", "--as-of", "2019-12-31", "-o", xlsx).exit_code == 0
    assert [c.value for c in xlsx_cells(xlsx) if isinstance(c.value, int) and c.value < 0]
    out = tmp_path / "targets.csv"
    assert run("targets", "--as-of", "2019-12-31", "-o", out).exit_code == 0
    cells = [c for row in csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"), newline="")) for c in row]
    assert [c for c in cells if c.startswith("-") and c[1:].isdigit()]


# --- 14. control characters in an XLSX ------------------------------------------------------------


def test_a_control_character_in_a_case_goes_to_xlsx_and_back_exactly(repo, run, make_repo, tmp_path):
    write_case(repo, HOSTILE)
    listed = tmp_path / "list.xlsx"
    result = run("case", "list", "-o", listed)
    assert result.exit_code == 0, result.stderr
    assert "_x001B_]0;pwned_x0007_[link=http://evil.example]click[/link]" in {c.value for c in xlsx_cells(listed)}

    out = tmp_path / "cases.xlsx"
    result = run("export", "-o", out)
    assert result.exit_code == 0, result.stderr
    before = snapshot(repo)
    again = run("import", out)  # the same case, read back exactly: nothing to add or refuse
    assert again.exit_code == 0, again.stderr
    assert "追加 0件、変更なし 1件" in again.stderr and snapshot(repo) == before

    # Into another repository it is new input, and input takes no control characters.
    other = make_repo("other", institution="hokuyo")
    refused = run("--repo", other, "import", out)
    assert refused.exit_code == 1
    assert "2行目「件名」: 使えない文字 (\\x1b) が入っています" in refused.stderr
    assert not list((other / "cases").rglob("*.yaml"))


# --- 14. identical rows of an inquiry log ---------------------------------------------------------

LOG_HEADER = "受付日,受付機関,受付経路,会社名,市町村,件名,内容"


def write_log(path: Path, lines: list[str]) -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"))
    return path


def test_identical_rows_are_one_case(repo, run, tmp_path):
    row = "2019-05-14,道総研,来訪,株式会社十勝チーズ工房,帯広市,チーズの殺菌,殺菌装置を相談したい"
    log = write_log(tmp_path / "log.csv", [
        LOG_HEADER, row, row,
        row.replace("株式会社十勝チーズ工房", "株式会社 十勝チーズ工房"),  # the same after NFKC and spaces
        row.replace("2019-05-14", "R1.5.14").replace("道総研", "hro"),  # the same date and institution
    ])  # fmt: skip
    result = run("import", log)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == ["hro-2019-0001"]
    for number in (3, 4, 5):
        assert f"{number}行目: 2行目と同じ案件なので、1件として取り込みます" in result.stderr
    assert "追加 1件" in result.stderr
    assert len(list((repo / "cases").rglob("*.yaml"))) == 1
    again = run("import", log)
    assert again.exit_code == 0 and again.stdout == "" and "追加 0件" in again.stderr


def test_rows_of_one_inquiry_that_differ_are_refused_naming_both(repo, run, tmp_path):
    row = "2019-05-14,道総研,来訪,株式会社十勝チーズ工房,帯広市,チーズの殺菌,殺菌装置を相談したい"
    log = write_log(tmp_path / "log.csv", [LOG_HEADER, row, row.replace("相談したい", "相談したい。急ぎ")])
    before = snapshot(repo)
    result = run("import", log)
    assert result.exit_code == 1
    assert "3行目: 2行目と同じ案件(受付日・受付機関・会社名・件名が同じ)ですが、内容 が違います。" in result.stderr
    assert snapshot(repo) == before


# --- 10. spreadsheet bombs ------------------------------------------------------------------------


def _workbook(rows: list[list]) -> Workbook:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    return workbook


def _without_dimension(path: Path) -> None:
    """Rewrite an xlsx so its sheet does not state its size (as some writers leave it)."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode("utf-8")
    start = sheet.index("<dimension")
    parts["xl/worksheets/sheet1.xml"] = (sheet[:start] + sheet[sheet.index("/>", start) + 2:]).encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


@pytest.mark.parametrize("stated", [True, False])
def test_a_sheet_of_20000_rows_with_a_cell_in_column_xfd_is_refused(repo, run, tmp_path, stated):
    workbook = _workbook([["受付日", "受付経路", "会社名", "市町村", "件名"]] + [["2019-05-14"]] * 19_999)
    workbook.active["XFD20000"] = "x"
    path = tmp_path / "wide.xlsx"
    workbook.save(path)
    if not stated:
        _without_dimension(path)
    assert path.stat().st_size < 200_000
    before = snapshot(repo)
    result = run("import", path, "--dry-run")
    assert result.exit_code == 1
    if stated:
        assert result.stderr == (f"エラー: 「{path}」の表は 20,000 行あり、"
                                 "取り込める行数(上限 10,000 行、見出しを含む)を"
                                 "超えています。ファイルを分けて取り込んでください\n")  # fmt: skip
    else:  # counted while streaming: only that it is more
        assert (
            "の表は 10,000 行(見出しを含む)を超えています。取り込めるのは1ファイル 10,000 行までです" in result.stderr
        )
    assert snapshot(repo) == before


@pytest.mark.parametrize("stated", [True, False])
def test_a_cell_far_to_the_right_is_refused_by_its_column(repo, run, tmp_path, stated):
    workbook = _workbook(
        [["受付日", "受付経路", "会社名", "市町村", "件名"], ["2019-05-14", "来訪", "A", "帯広市", "件名"]]
    )
    workbook.active["XFD2"] = "x"
    path = tmp_path / "wide.xlsx"
    workbook.save(path)
    if not stated:
        _without_dimension(path)
    result = run("import", path, "--dry-run")
    assert result.exit_code == 1
    assert "の表は 16,384 列あり、取り込める列数(上限 100 列)を超えています。" in result.stderr


@pytest.mark.parametrize("stated", [True, False])
def test_a_sheet_whose_last_row_is_row_a_million_is_refused(repo, run, tmp_path, stated):
    workbook = _workbook([["受付日", "受付経路", "会社名", "市町村", "件名"]])
    workbook.active["A1000000"] = "2019-05-14"
    path = tmp_path / "tall.xlsx"
    workbook.save(path)
    if not stated:
        _without_dimension(path)
    result = run("import", path, "--dry-run")
    assert result.exit_code == 1
    assert ("の表は 1,000,000 行あり" if stated else "の表は 10,000 行(見出しを含む)を超えています") in result.stderr


def test_a_csv_of_a_million_rows_is_refused(repo, run, tmp_path):
    path = tmp_path / "million.csv"
    path.write_bytes(("受付日,件名\r\n" + "2019-05-14,件名\r\n" * 1_000_000).encode("utf-8"))
    assert path.stat().st_size > 5_000_000
    result = run("import", path, "--dry-run")
    assert result.exit_code == 1
    assert result.stderr == (f"エラー: 「{path}」の表は 10,000 行(見出しを含む)を超えています。"
                             "取り込めるのは1ファイル 10,000 行までです。"
                             "ファイルを分けて取り込んでください\n")  # fmt: skip


def test_a_csv_row_of_too_many_columns_is_refused(repo, run, tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("受付日,件名\r\n" + "," * 500 + "x\r\n", encoding="utf-8")
    result = run("import", path, "--dry-run")
    assert result.exit_code == 1
    assert "の表は 501 列あり、取り込める列数(上限 100 列)を超えています。" in result.stderr


@pytest.mark.parametrize("suffix", ["csv", "xlsx", "jsonl"])
def test_a_file_too_big_is_refused_before_it_is_read(repo, run, tmp_path, suffix):
    path = tmp_path / f"big.{suffix}"
    with path.open("wb") as handle:
        handle.truncate(33 * 1024 * 1024)  # sparse: nothing is written, the size is what counts
    result = run("import", path, "--dry-run")
    assert result.exit_code == 1
    assert result.stderr == (f"エラー: 「{path}」は 33 MB あり、取り込める大きさ(上限 32 MB)を超えています。"
                             "ファイルを分けて取り込んでください\n")  # fmt: skip


def test_an_xlsx_that_unpacks_to_too_much_is_refused_before_it_is_opened(repo, run, tmp_path):
    path = tmp_path / "bomb.xlsx"
    workbook = _workbook([["受付日", "件名"]])
    workbook.save(path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive, archive.open("xl/padding.bin", "w") as part:
        block = b"\0" * (1024 * 1024)
        for _ in range(129):
            part.write(block)
    assert path.stat().st_size < 1_000_000
    result = run("import", path, "--dry-run")
    assert result.exit_code == 1
    assert "は展開すると 129 MB になり、取り込める大きさ(上限 128 MB)を超えています。" in result.stderr


def test_a_sheet_within_the_limits_is_read_whole_even_when_it_states_a_smaller_size(repo, run, tmp_path):
    """A stated size is checked, never trusted to cut the sheet short: every row is read."""
    rows = [["受付日", "受付経路", "会社名", "市町村", "件名"]]
    rows += [[date(2019, 5, 14), "来訪", f"株式会社{n}", "帯広市", f"相談{n}"] for n in range(3)]
    path = tmp_path / "log.xlsx"
    _workbook(rows).save(path)
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode("utf-8")
    parts["xl/worksheets/sheet1.xml"] = sheet.replace('<dimension ref="A1:E4"', '<dimension ref="A1:A1"').encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    result = run("import", path)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == ["hro-2019-0001", "hro-2019-0002", "hro-2019-0003"]


# --- 8. data formats read on a terminal -----------------------------------------------------------


def _on_a_terminal(*args: str) -> bytes:
    """What a real kitamono process writes to stdout when stdout is a terminal."""
    import os
    import pty
    import subprocess
    import sys

    main, child = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "kitamono", *args], stdout=child, stderr=subprocess.DEVNULL,
                               stdin=subprocess.DEVNULL, env=os.environ.copy())  # fmt: skip
    os.close(child)
    output = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the terminal closed when the process ended
            break
        if not chunk:
            break
        output += chunk
    os.close(main)
    assert process.wait(timeout=60) == 0
    return output


@pytest.mark.parametrize(
    "args", [["export"], ["case", "list", "--format", "csv"], ["case", "show", "hro-2019-0001", "--format", "json"]]
)
def test_csv_and_json_read_on_a_terminal_send_no_control_character_to_it(repo, args):
    write_case(repo, HOSTILE)
    shown = _on_a_terminal(*args).decode("utf-8")
    assert "pwned" in shown
    for raw in RAW:
        assert raw not in shown
