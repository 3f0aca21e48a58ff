"""The year-end review as the meeting reads it: on screen, printed on A4, and in Excel.

The HTML test opens the demo review in Debian's headless Chromium, as a person would, takes a
screenshot and prints it to PDF, and reads what is visible: the PDF's text (poppler's
``pdftotext``) and the screenshot's pixels, where a missing Japanese font would draw every
character as the same box (``.ci/run`` installs fonts-noto-cjk, chromium and poppler-utils).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import openpyxl
import pytest

from conftest import TODAY

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PDFTOTEXT = shutil.which("pdftotext")
#: The tests share the printed review (two Chromium runs) and the demo copy made for it, so they
#: run in one process and make them once.
pytestmark = pytest.mark.xdist_group("documents")
AS_OF = "2022-05-31"
#: The one table of the demo's FY2021 review that has no rows (every follow-up owed was done).
EMPTY = "2021年度 フォローアップ未実施の案件"
EMPTY_HEADINGS = ["状況", "ID", "会社名", "支援開始日", "対象年度", "主担当", "最終接触日"]


def kitamono(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "KITAMONO_TODAY": TODAY, "KITAMONO_LANG": "ja", "COLUMNS": "200"}
    environment.pop("KITAMONO_REPO", None)
    return subprocess.run([sys.executable, "-m", "kitamono", *map(str, args)], capture_output=True, text=True,
                          env=environment, cwd=cwd, timeout=120)  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project's demo repository, as 北洋銀行's clone."""
    path = tmp_path_factory.mktemp("demo") / "repo"
    path.mkdir()
    shutil.copytree(ROOT / "cases", path / "cases")
    shutil.copy(ROOT / "kitamono.yaml", path / "kitamono.yaml")
    made = kitamono("init", path, "--institution", "hokuyo")
    assert made.returncode == 0, made.stderr
    # The one follow-up of FY2021 the demo leaves owed (a closed case still owes it): recorded,
    # so that the review has exactly one empty table.
    done = kitamono("--repo", path, "case", "follow-up", "noastec-2019-0001", "--date", "2021-06-01", "--by", "noastec")
    assert done.returncode == 0, done.stderr
    return path


def review(demo: Path, *args: object) -> subprocess.CompletedProcess:
    result = kitamono("--repo", demo, "report", "annual", "--fy", "2021", "--as-of", AS_OF, *args)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def numbers(demo: Path) -> dict:
    data = json.loads(review(demo, "--format", "json").stdout)
    assert data["followup_compliance"]["missing_cases"] == []  # the empty table (worked out from the demo)
    assert data["stale"] and data["referrals"] and data["cases_by_plan"]  # and tables that are not
    return data


# --- the page in a browser ----------------------------------------------------------------------


def chromium(page: Path, profile: Path, *flags: str) -> None:
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
        "--disable-dev-shm-usage", f"--user-data-dir={profile}", *flags, page.as_uri(),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture(scope="module")
def printed(demo: Path, numbers: dict, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo review written as HTML, then its screenshot (the top of the page) and its PDF."""
    if CHROMIUM is None or PDFTOTEXT is None:
        pytest.fail("chromium and pdftotext are needed (apt-get install chromium fonts-noto-cjk poppler-utils; "
                    ".ci/run installs them)")  # fmt: skip
    folder = tmp_path_factory.mktemp("printed")
    page = folder / "review.html"
    review(demo, "-o", page)
    shot, pdf = folder / "top.png", folder / "review.pdf"
    chromium(page, folder / "profile", "--window-size=1000,160", f"--screenshot={shot}")
    chromium(page, folder / "profile", "--no-pdf-header-footer", f"--print-to-pdf={pdf}")
    return {"html": page, "png": shot, "pdf": pdf}


def pdf_pages(pdf: Path) -> list[str]:
    text = subprocess.run([str(PDFTOTEXT), "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True, timeout=60).stdout  # fmt: skip
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def lines_of(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def test_the_printed_review_opens_with_its_heading_line(printed):
    pages = pdf_pages(printed["pdf"])
    first = lines_of(pages[0])
    assert first[0] == "2021年度 北のものづくり連携支援計画 年度末レビュー"
    assert first[1] == f"作成日 {TODAY} 作成機関 北洋銀行 時点 {AS_OF}"


def test_the_printed_review_is_a4_and_no_empty_table_is_headings_alone(printed):
    info = subprocess.run(["pdfinfo", str(printed["pdf"])], capture_output=True, text=True, timeout=60).stdout
    assert "(A4)" in info
    text = lines_of("\n".join(pdf_pages(printed["pdf"])))
    at = text.index(EMPTY)
    assert text[at + 1] == "該当なし"
    assert text.count("該当なし") == 1  # one empty table, one 「該当なし」
    assert " ".join(EMPTY_HEADINGS) not in " ".join(text)  # its headings are not printed over nothing


def test_no_row_of_the_printed_review_is_split_and_no_date_wraps(printed, numbers):
    pages = pdf_pages(printed["pdf"])
    assert len(pages) >= 3  # long enough for a table to meet a page's end
    for row in numbers["stale"]:
        holding = [n for n, page in enumerate(pages) if row["id"] in page]
        assert len(holding) == 1, row["id"]
        page = pages[holding[0]]
        lines = page.splitlines()
        at = next(n for n, line in enumerate(lines) if row["id"] in line)
        # The row's lines: its id's line and the wrapped lines under it, up to the next row's id.
        wrapped = itertools.takewhile(lambda line: not re.match(r"[a-z_]+-\d{4}-\d{4}", line), lines[at + 1 : at + 4])
        block = [lines[at], *wrapped]
        assert any(row["last_event"] in line and line.rstrip().endswith(str(row["days"])) for line in block)
        assert row["company"][:5] in page  # the company's name, wrapped or not, on the same page


def read_png(path: Path) -> list[list[int]]:
    """The rows of an 8-bit, non-interlaced RGB(A) PNG as grey levels (what Chromium writes)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, compressed, width, height, step = 8, b"", 0, 0, 0
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        body = data[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0
            step = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            compressed += body
        at += 12 + length
    raw, stride = zlib.decompress(compressed), width * step
    previous, rows = bytearray(stride), []
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            a = line[i - step] if i >= step else 0
            b, c = previous[i], previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([(299 * line[x] + 587 * line[x + 1] + 114 * line[x + 2]) // 1000 for x in range(0, stride, step)])
        previous = line
    return rows


def glyph_shapes(rows: list[list[int]]) -> list[tuple]:
    """The shapes drawn on the first line of text (the title): each run of inked columns."""
    dark = [[v < 128 for v in row] for row in rows]
    inked = [any(row) for row in dark]
    top = inked.index(True)
    bottom = inked.index(False, top)
    band = dark[top:bottom]
    shapes, x, width = [], 0, len(band[0])
    while x < width:
        if not any(row[x] for row in band):
            x += 1
            continue
        start = x
        while x < width and any(row[x] for row in band):
            x += 1
        shapes.append(tuple(tuple(row[start:x]) for row in band))
    return shapes


def test_the_screenshot_shows_the_title_in_japanese_letters_not_boxes(printed):
    # 「2021年度 北のものづくり連携支援計画 年度末レビュー」: with a Japanese font, some twenty
    # different shapes; without one, every kanji and kana is the same box (4 shapes in all).
    shapes = glyph_shapes(read_png(printed["png"]))
    assert len(set(shapes)) >= 15, len(set(shapes))


def test_the_page_says_none_for_the_empty_table_and_marks_dates(printed):
    html = printed["html"].read_text(encoding="utf-8")
    section = html[html.index(f"<h2>{EMPTY}</h2>") :]
    assert section.split("\n")[1] == '<p class="none">該当なし</p>'
    assert '<td class="date">2021-05-18</td>' in html  # a date cell never wraps (white-space:nowrap)
    assert "@page{size:A4" in html and "thead{display:table-header-group}" in html


# --- the workbook and the text formats ----------------------------------------------------------------

WORD_END = re.compile(r"[(（\[【「\s、,・:;]")


def test_the_workbook_opens_on_its_summary_with_whole_words_frozen_headers_and_filters(demo, numbers, tmp_path):
    out = tmp_path / "review.xlsx"
    review(demo, "-o", out)
    book = openpyxl.load_workbook(out)
    assert book.active.title == "概要" == book.sheetnames[0]
    overview = [row[0] for row in book["概要"].iter_rows(values_only=True)]
    assert overview[:3] == ["2021年度 北のものづくり連携支援計画 年度末レビュー",
                            f"作成日 {TODAY}　作成機関 北洋銀行　時点 {AS_OF}", None]  # fmt: skip
    assert overview[3:] == numbers["summary"]
    titles = [
        "2021年度 機関別の活動", "2021年度 分野別の活動", "2021年度 四半期別の活動", "想定する支援件数と実績",
        "計画期間後の実績(目標なし・実績のみ。計画の合計には含めません)", "2021年度 フォローアップの実施状況", EMPTY,
        "2021年度 分野別の案件数", "2021年度 基本計画別の案件数", "2021年度 振興局別の案件数",
        "2021年度 機関間の紹介(紹介元→紹介先)", "180日を超えて記録のない未終了の案件(2022-03-31 時点)",
        "2021年度に終了した案件の成果", "支援案件のうち地域経済牽引事業計画の承認を受けたもの(2022-03-31 現在)",
        "2021年度の支援までの日数(中央値)", "2021年度の紹介と支援開始",
    ]  # fmt: skip
    assert len(book.sheetnames) == 1 + len(titles)
    for name, title in zip(book.sheetnames[1:], titles, strict=True):
        assert len(name) <= 31
        assert name == title or (title.startswith(name) and WORD_END.match(title, len(name))), (name, title)
    assert book.sheetnames[12] == "180日を超えて記録のない未終了の案件"
    for sheet in book.worksheets[1:]:
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:{sheet.dimensions.split(':')[1]}"
    empty = [list(row) for row in book[EMPTY].iter_rows(values_only=True)]
    assert empty == [EMPTY_HEADINGS, ["該当なし", *[None] * 6]]


@pytest.mark.parametrize("fmt", ["plain", "markdown", "csv"])
def test_text_formats_carry_the_heading_line_and_say_none(demo, fmt):
    text = review(demo, "--format", fmt).stdout.replace("\r\n", "\n").lstrip("\ufeff")
    assert f"作成日 {TODAY}　作成機関 北洋銀行　時点 {AS_OF}" in text
    after = [line for line in text[text.index(EMPTY) :].split("\n")[1:] if line.strip()]
    if fmt == "csv":  # a spreadsheet's columns keep their headings; the row under them says it
        assert after[:2] == [",".join(EMPTY_HEADINGS), "該当なし"]
    else:
        assert after[0] == "該当なし"


def test_the_heading_line_says_when_no_institution_is_set(make_repo, run, new_case, monkeypatch):
    monkeypatch.setenv("KITAMONO_REPO", str(make_repo("plain", institution=None)))
    new_case()
    result = run("report", "annual", "--fy", "2019", "--era", "--format", "plain")
    assert "作成日 令和8年11月28日　作成機関 (この複製の機関が未設定)　時点 令和8年11月28日" in result.stdout
