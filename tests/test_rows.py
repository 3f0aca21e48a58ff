"""One row model for every table and its JSON, one writer of spreadsheet cells, names said once.

A report is rows of values under columns (an English key, a heading, a display form); every
format is made from those same rows. These tests build small reports by hand and read what each
format makes of them, then check through the real CLI what the model changes for users: the
follow-up list at a terminal shows what needs action first and says how many more there are.
"""

from __future__ import annotations

import io
import json
import re
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

import kitamono
from kitamono.reference import load_reference
from kitamono.render import render_text, xlsx_bytes
from kitamono.reports.rows import ABSENT, Column, Keyed, Report, Rows, Table, Total, Values

SOURCE = Path(kitamono.__file__).parent


@pytest.fixture(scope="module")
def ref():
    return load_reference(None)


def _sample(ref) -> Report:
    """Two institutions' counts with a total row, and a JSON document that places them."""
    columns = [
        Column("institution", "機関", show=ref.short_name),
        Column("received", "受付", numeric=True),
        Column("day", "日付"),
        Column("note", "メモ", only="table"),
        Column("detail.kind", "種類", only="json"),
        Column("detail.size", "大きさ", only="json"),
    ]
    rows = [["hro", 3, date(2019, 5, 1), "=SUM(A1)", "x", ABSENT], ["hokuyo", 1, None, "", "y", 2]]
    table = Table("機関別", columns, rows, total=["合計", 4, None, "", None, None])
    document = {"year": 2019, "institutions": Rows(table), "by_id": Keyed(table, "institution", "received"),
                "total": Total(table, {"received": "received"}), "ids": Values(table, "institution")}  # fmt: skip
    return Report("集計", [table], document)


def test_json_is_made_from_the_values_and_placed_as_the_document_says(ref):
    data = json.loads(render_text(_sample(ref), "json"))
    assert data == {
        "year": 2019,
        "institutions": [
            {"institution": "hro", "received": 3, "day": "2019-05-01", "detail": {"kind": "x"}},  # ABSENT: no key
            {"institution": "hokuyo", "received": 1, "day": None, "detail": {"kind": "y", "size": 2}},
        ],
        "by_id": {"hro": 3, "hokuyo": 1},
        "total": {"received": 4},
        "ids": ["hro", "hokuyo"],
    }


def test_text_formats_show_the_display_form_and_the_total_row(ref):
    lines = render_text(_sample(ref), "plain").splitlines()
    assert lines[0].split() == ["機関", "受付", "日付", "メモ"]  # the table's columns, not the JSON-only ones
    assert lines[1].split() == ["道総研", "3", "2019-05-01", "=SUM(A1)"]  # an id shown by its short name
    assert lines[2].split() == ["北洋銀行", "1"]
    assert lines[3].split() == ["合計", "4"]
    markdown = render_text(_sample(ref), "markdown")
    assert "| 道総研 " in markdown and "| 合計 " in markdown and "kind" not in markdown


def test_csv_and_xlsx_are_written_from_the_same_rows_through_the_one_writer(ref):
    text = render_text(_sample(ref), "csv")
    assert text == "\ufeff機関,受付,日付,メモ\r\n道総研,3,2019-05-01,'=SUM(A1)\r\n北洋銀行,1,,\r\n合計,4,,\r\n"
    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(_sample(ref))))
    rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    assert rows[0] == ["機関", "受付", "日付", "メモ"]
    assert rows[1] == ["道総研", 3, datetime(2019, 5, 1), "'=SUM(A1)"]  # a real date; a formula neutralised
    assert rows[3][:2] == ["合計", 4]


def test_a_terminal_shows_the_head_of_a_long_table_and_says_how_many_more(ref):
    rows = [[f"id-{n:03d}"] for n in range(7)]
    report = Report("一覧", [Table("一覧", [Column("id", "ID")], rows, head=3, more="ほかに 4 件")])
    shown = render_text(report, "table", width=80)
    assert [n for n in range(7) if f"id-{n:03d}" in shown] == [0, 1, 2]
    assert shown.rstrip().endswith("ほかに 4 件")
    for fmt in ("plain", "markdown", "csv", "html"):  # for pipes and files: every row
        assert all(f"id-{n:03d}" in render_text(report, fmt) for n in range(7)), fmt
        assert "ほかに" not in render_text(report, fmt)
    assert len(json.loads(render_text(report, "json"))) == 7


def test_a_json_only_table_is_placed_but_never_shown():
    hidden = Table("済み", [Column("id", "ID")], [["done-1"]], only="json")
    shown = Table("未実施", [Column("id", "ID")], [["due-1"]])
    report = Report("一覧", [shown, hidden], {"due": Rows(shown), "done": Rows(hidden)})
    assert json.loads(render_text(report, "json")) == {"due": [{"id": "due-1"}], "done": [{"id": "done-1"}]}
    for fmt in ("plain", "markdown", "csv", "html", "table"):
        assert "done-1" not in render_text(report, fmt), fmt


# --- names said once ------------------------------------------------------------------------------


def test_reference_names_institutions_and_fields(ref):
    assert ref.short_name("hro") == "道総研"
    assert ref.short_name("nowhere") == "nowhere"  # an id no longer in the data reads as itself
    assert ref.short_name(None) == ""
    assert ref.field_name("food") == "食料品製造関連"
    assert ref.field_name("other") == "その他"


def _python_files() -> list[Path]:
    return sorted(SOURCE.rglob("*.py"))


def test_the_output_formats_are_listed_once():
    listed = [p.relative_to(SOURCE).as_posix() for p in _python_files()
              if re.search(r'"table",\s*"plain",\s*"markdown"', p.read_text(encoding="utf-8"))]  # fmt: skip
    assert listed == ["reports/rows.py"]


def _importers(pattern: str) -> list[str]:
    """The modules with an import statement that matches ``pattern``."""
    found = re.compile(rf"^\s*(?:from|import) {pattern}", re.MULTILINE)
    return [p.name for p in _python_files() if found.search(p.read_text(encoding="utf-8"))]


def test_one_module_measures_text_width_and_writes_spreadsheets():
    # sheets.py writes and reads every cell; a report's tables (render.py) and the export's copy of the
    # cases (exchange.py) are written with it
    assert _importers(r"wcwidth\b") == ["sheets.py"]
    assert _importers(r"openpyxl\b") == ["sheets.py"]
    assert _importers(r"kitamono\.sheets import .*\b(csv_text|xlsx_bytes)\b") == ["exchange.py", "render.py"]


# --- the follow-up list at a terminal -------------------------------------------------------------

STARTED = 30  # cases started in FY2018: each owes FY2019 (overdue on 2020-04-15) and FY2020 (due)


@pytest.fixture
def many_followups(repo):
    from kitamono import store
    from kitamono.models import Case, Company, Event

    opened = store.open_repository(repo)
    for n in range(1, STARTED + 1):
        received = date(2018, 5, 1)
        events = [Event(type="received", date=received, by="hro"),
                  Event(type="started", date=date(2018, 6, n), by="hro", lead="hro")]  # fmt: skip
        store.add_case(opened, Case(
            id=f"hro-2018-{n:04d}", received_on=received, received_by="hro", channel="visit",
            company=Company(name=f"株式会社{n:02d}", municipality="帯広市"), title="件名", field="food", events=events,
        ))  # fmt: skip
    return repo


def _state_rows(text: str) -> list[str]:
    """The state of each follow-up row listed, in order."""
    return [m[1] for m in re.finditer(r"(期限切れ|今年度未実施|実施済)\W+hro-2018-", text)]


def test_the_terminal_view_of_followups_shows_what_needs_action_first(many_followups, run):
    table = run("followups", "--as-of", "2020-04-15", "--format", "table").stdout
    assert _state_rows(table) == ["期限切れ"] * 30 + ["今年度未実施"] * 20  # overdue first, then due: 50 rows
    assert "ほかに 10 件あります。すべて表示するには --all を付けてください" in table
    everything = run("followups", "--as-of", "2020-04-15", "--format", "table", "--all").stdout
    assert _state_rows(everything) == ["期限切れ"] * 30 + ["今年度未実施"] * 30
    assert "ほかに" not in everything
    plain = run("followups", "--as-of", "2020-04-15", "--format", "plain").stdout
    assert _state_rows(plain) == ["期限切れ"] * 30 + ["今年度未実施"] * 30  # for pipes: every row
    csv = run("followups", "--as-of", "2020-04-15", "--format", "csv").stdout
    assert csv.count("\n期限切れ,") == 30 and csv.count("\n今年度未実施,") == 30
    data = json.loads(run("followups", "--as-of", "2020-04-15", "--format", "json").stdout)
    assert (len(data["overdue"]), len(data["due"]), len(data["done"])) == (30, 30, 0)
