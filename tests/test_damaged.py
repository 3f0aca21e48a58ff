"""Damaged or doubtful case files never change a number silently.

While any case file cannot be read (a YAML mistake, git's conflict markers, an id two files hold),
every report, listing and export stops with one line naming the files and ``kitamono check``.
``--allow-damaged`` makes the report without those cases, and the output itself says so in every
format, with how many cases were left out. A YAML mistake is told in Japanese at its line.
"""

from __future__ import annotations

import io
import json
import re
import shutil

import openpyxl
import pytest

from conftest import snapshot

# Three cases received in the first quarter of FY2019 (2019-04-01 to 2019-06-30), one started.
# Worked out by hand: received 3, started 1; without the third, received 2; without the first
# (and the copy of it that makes its id ambiguous), received 2 and started 0.
DAMAGED = "cases/2019/hro-2019-0003.yaml"

#: What a person's slip does to the third case's file. Line 11 of the file is the title.
CASE_TEXT = """\
id: hro-2019-0003
received_on: 2019-06-20
received_by: hro
channel: visit
company:
  name: 株式会社十勝チーズ工房
  municipality: 帯広市
needs:
- technical
field: food
title: ナチュラルチーズの殺菌工程の見直し
summary: 新しい殺菌装置の導入にあたり、品質の検査方法を相談したい
events:
- type: received
  date: 2019-06-20
  by: hro
"""
SLIPS = {
    "missing quote": CASE_TEXT.replace("title: ナチュラル", 'title: "ナチュラル'),
    "conflict": CASE_TEXT.replace(
        "title: ナチュラルチーズの殺菌工程の見直し\n",
        "<<<<<<< HEAD\ntitle: ナチュラルチーズの殺菌工程の見直し\n=======\ntitle: 殺菌工程\n>>>>>>> other\n",
    ),
}
MESSAGE = (
    "読めない案件ファイルが1件あり、その1件を除いて作りました。数字はその分少なくなっています。"
    "kitamono check で確かめて直してください"
)
QUOTE = "11行目: 引用符(\")が閉じられていません。値の終わりにも同じ引用符を付けてください"

COMMANDS = [
    ["case", "list"], ["case", "list", "--count"], ["case", "list", "--fy", "2019", "--format", "json"],
    ["targets"], ["followups"], ["report", "quarterly", "--fy", "2019", "-q", "1"],
    ["report", "annual", "--fy", "2019", "-o", "review.html"],
    ["report", "annual", "--fy", "2019", "-o", "review.xlsx"],
    ["export", "-o", "copy.csv"],
]  # fmt: skip


@pytest.fixture
def three(repo, run, new_case):
    first = new_case(received_on="2019-05-14")
    new_case(received_on="2019-06-14", company="株式会社帯広ミート")
    assert run("case", "start", first, "--lead", "hro", "--date", "2019-06-01").exit_code == 0
    third = new_case(received_on="2019-06-20")
    assert third == "hro-2019-0003"
    (repo / DAMAGED).write_text(CASE_TEXT, encoding="utf-8")
    assert run("check").exit_code == 0
    return first


def damage(repo, kind: str) -> list[str]:
    """Damage the repository one way; the files that are then named."""
    if kind == "duplicate id":  # a copy of the first case under another name: its id is in two files
        shutil.copy(repo / "cases/2019/hro-2019-0001.yaml", repo / "cases/2019/hro-2019-0009.yaml")
        return ["cases/2019/hro-2019-0001.yaml", "cases/2019/hro-2019-0009.yaml"]
    (repo / DAMAGED).write_text(SLIPS[kind], encoding="utf-8")
    return [DAMAGED]


@pytest.mark.parametrize("kind", ["missing quote", "conflict", "duplicate id"])
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_report_listing_and_export_refuses_while_a_case_file_is_damaged(three, repo, run, monkeypatch,
                                                                               command, kind):  # fmt: skip
    monkeypatch.chdir(repo)
    named = damage(repo, kind)
    before = snapshot(repo)
    result = run(*command)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("エラー: "), result.stderr
    assert all(path in result.stderr for path in named) and "kitamono check" in result.stderr
    assert snapshot(repo) == before  # no review.html, no copy.csv


@pytest.fixture
def damaged(three, repo):
    damage(repo, "missing quote")
    return repo


def quarterly(run, *args: str):
    result = run("report", "quarterly", "--fy", "2019", "-q", "1", "--allow-damaged", *args)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines() == [f"注意: {MESSAGE}"] or "に書き出しました" in result.stderr
    return result


def test_allowed_the_json_carries_the_problem_and_the_count_left_out(damaged, run):
    data = json.loads(quarterly(run, "--format", "json").stdout)
    assert data["total"]["received"] == 2 and data["total"]["started"] == 1  # the third case left out
    assert data["problems"] == {
        "cases_left_out": 1,
        "files": [{"path": DAMAGED, "problem": QUOTE}],
        "message": MESSAGE,
    }
    assert next(iter(data)) == "problems"


def test_without_damage_the_json_has_no_problems_key(three, run):
    data = json.loads(run("report", "quarterly", "--fy", "2019", "-q", "1", "--format", "json").stdout)
    assert "problems" not in data and data["total"]["received"] == 3


@pytest.mark.parametrize("fmt", ["plain", "table", "markdown", "csv"])
def test_allowed_the_text_says_so_above_the_tables(damaged, run, fmt):
    text = re.sub(r"\x1b\[[0-9;]*m", "", quarterly(run, "--format", fmt).stdout)  # the terminal's bold, off
    lines = text.lstrip("\ufeff").splitlines()
    shown = {
        "plain": [MESSAGE, f"{DAMAGED}: {QUOTE}"],
        "table": [MESSAGE, f"{DAMAGED}: {QUOTE}"],
        "markdown": [f"> **{MESSAGE}**", f"> - {DAMAGED}: {QUOTE}"],
        "csv": [MESSAGE, '"' + f"{DAMAGED}: {QUOTE}".replace('"', '""') + '"'],
    }[fmt]
    if fmt == "markdown":
        assert lines[0].startswith("# ") and lines[2:4] == shown
    else:
        assert lines[:2] == shown


def test_allowed_the_page_opens_with_a_banner(damaged, run, tmp_path):
    quarterly(run, "-o", tmp_path / "q.html")
    page = (tmp_path / "q.html").read_text(encoding="utf-8")
    banner = page.index('<div class="problems" role="alert">')
    assert banner < page.index("<h1>")
    assert f"<p>{MESSAGE}</p>" in page and f"<li>{DAMAGED}: {QUOTE.replace(chr(34), '&quot;')}</li>" in page


def test_allowed_the_workbook_opens_on_a_summary_that_says_so(damaged, run, tmp_path):
    quarterly(run, "-o", tmp_path / "q.xlsx")
    book = openpyxl.load_workbook(tmp_path / "q.xlsx")
    assert book.active.title == "概要"
    assert [row[0] for row in book["概要"].iter_rows(values_only=True)] == [MESSAGE, f"{DAMAGED}: {QUOTE}"]
    totals = list(book.worksheets[1].iter_rows(values_only=True))[-1]
    assert totals[:2] == ("合計", 2)


def test_allowed_an_ambiguous_id_leaves_out_every_file_that_holds_it(three, repo, run):
    named = damage(repo, "duplicate id")
    result = run("report", "quarterly", "--fy", "2019", "-q", "1", "--allow-damaged", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["total"]["received"] == 2 and data["total"]["started"] == 0  # the first case, twice, left out
    assert data["problems"]["cases_left_out"] == 2
    assert [f["path"] for f in data["problems"]["files"]] == named
    listed = json.loads(run("case", "list", "--allow-damaged", "--format", "json").stdout)
    assert [c["id"] for c in listed["rows"]] == ["hro-2019-0002", "hro-2019-0003"]
    assert listed["problems"]["cases_left_out"] == 2


def test_allowed_every_listing_and_report_is_made(damaged, run, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for command in COMMANDS[:-1]:  # a copy is never made without a case: export has no such option
        result = run(*command, "--allow-damaged")
        assert result.exit_code == 0, (command, result.stderr)
        assert f"注意: {MESSAGE}" in result.stderr
    assert run("case", "list", "--count", "--allow-damaged").stdout == "2\n"
    assert run("export", "--allow-damaged").exit_code == 2


# --- YAML mistakes, in Japanese, at their line --------------------------------------------------


@pytest.fixture(params=["libyaml", "pure Python"])
def loader(request, monkeypatch):
    """Each YAML loader kitamono may run on: PyYAML's C loader, or its pure-Python one."""
    import yaml

    from kitamono import caseio

    if request.param == "pure Python":
        monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    caseio._yaml.cache_clear()
    yield request.param
    monkeypatch.undo()
    caseio._yaml.cache_clear()


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (SLIPS["missing quote"], QUOTE),
        (CASE_TEXT.replace("title: ナチュラル", "title: 'ナチュラル"), QUOTE.replace('"', "'")),
        (CASE_TEXT + "title: 別の件名\n",
         "17行目: 項目「title」が2回書かれています。どちらが正しいか確かめて、1つにしてください"),
        (CASE_TEXT.replace("needs:\n- technical\n", "needs: [technical\n"),
         "8行目: 「[」が閉じられていません。「]」で閉じてください"),
        (CASE_TEXT.replace("  municipality", " municipality"),
         "7行目: 字下げ(行頭の空白)がそろっていません。同じ階層の項目は同じ数の空白で始めてください"),
        (CASE_TEXT.replace("title: ナチュラルチーズ", "title: 殺菌: ナチュラルチーズ"),
         "11行目: 「: 」の使い方が正しくありません。値の中に「: 」があるときは値全体を \" で囲み、"
         "そうでなければ字下げ(行頭の空白)を確かめてください"),
        (CASE_TEXT.replace("received_on: 2019-06-20", "received_on: 2019-02-30"),
         "2行目: 「2019-02-30」はありえない日付です。年月日を確かめてください"),
    ],
    ids=["double quote", "single quote", "duplicate key", "bracket", "indentation", "colon", "date"],
)  # fmt: skip
def test_check_tells_a_yaml_mistake_in_japanese_at_its_line(three, repo, run, loader, text, said):
    (repo / DAMAGED).write_text(text, encoding="utf-8")
    result = run("check")
    assert result.exit_code == 1
    assert result.stdout == f"{DAMAGED}: {said}\n"


def test_a_damaged_file_is_refused_in_english_too(damaged, run, monkeypatch):
    monkeypatch.setenv("KITAMONO_LANG", "en")
    result = run("targets")
    assert result.exit_code == 1 and result.stderr.startswith("Error: 1 case files cannot be read")
    allowed = run("targets", "--allow-damaged", "--format", "json")
    assert json.loads(allowed.stdout)["problems"]["files"][0]["problem"] == (
        "line 11: a quote (\") is opened but never closed: end the value with the same quote"
    )


def test_the_xlsx_of_a_listing_made_without_damage_has_no_summary_sheet(three, run, tmp_path):
    run("case", "list", "-o", tmp_path / "list.xlsx")
    book = openpyxl.load_workbook(io.BytesIO((tmp_path / "list.xlsx").read_bytes()))
    assert book.sheetnames == ["相談案件一覧"]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (CASE_TEXT.replace("channel: visit", "channel: fax"),
         "channel: 次のどれかにしてください: visit、phone、email、web、referral、event、other"),
        (CASE_TEXT.replace("id: hro-2019-0003", "id: 2019"), "id: 文字で書いてください"),
        (CASE_TEXT + "memo: 電話で確認\n", "memo: この項目は使えません。名前の綴りを確かめてください"),
        (CASE_TEXT.replace("received_by: hro\n", ""), "received_by: 必要な項目がありません"),
        (CASE_TEXT.replace("needs:\n- technical\n", "needs: technical\n"),
         "needs: 一覧(「- 」で始まる行)で書いてください"),
        (CASE_TEXT.replace("received_on: 2019-06-20", "received_on: 令和元年6月20日"),
         "received_on: 日付で書いてください(例: 2019-05-14)"),
    ],
    ids=["choice", "type", "unknown item", "missing item", "list", "date"],
)  # fmt: skip
def test_check_tells_what_a_case_file_holds_wrongly_in_the_users_words(three, repo, run, text, said):
    """The models' checks name the item and say what to write there, in Japanese (Pydantic's own
    words are English)."""
    (repo / DAMAGED).write_text(text, encoding="utf-8")
    result = run("check")
    assert result.exit_code == 1
    assert result.stdout == f"{DAMAGED}: {said}\n"


def test_what_a_case_file_holds_wrongly_is_said_in_english_with_kitamono_lang_en(three, repo, run, monkeypatch):
    monkeypatch.setenv("KITAMONO_LANG", "en")
    (repo / DAMAGED).write_text(CASE_TEXT.replace("channel: visit", "channel: fax"), encoding="utf-8")
    result = run("check")
    assert result.stdout == f"{DAMAGED}: channel: Use one of: visit, phone, email, web, referral, event, other\n"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["web", "--port", "0"], "エラー: --port: 1 以上にしてください(使い方は "),
        (["web", "--port", "70000"], "エラー: --port: 65535 以下にしてください(使い方は "),
        (["web", "--port", "http"], "エラー: --port: 整数で書いてください(使い方は "),
        (["case", "void", "hro-2019-0001", "0", "--reason", "重複"], "エラー: 番号: 1 以上にしてください(使い方は "),
    ],
)
def test_a_number_typed_out_of_range_is_refused_in_japanese(three, run, args, said):
    result = run(*args)
    assert result.exit_code == 2 and result.stderr.startswith(said) and result.stderr.count("\n") == 1
