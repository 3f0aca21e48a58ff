"""The year-end review as a browser shows it: Debian's Chromium, headless, offline, on the real file.

Chromium loads the page from disk with networking off and prints the DOM it built; the test
reads the tables, the numbers and the two SVG charts out of that DOM.
"""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from test_reports import small  # noqa: F401  (the hand-built repository, with its worked-out numbers)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium); .ci/run installs it"
)
ROOT = Path(__file__).resolve().parents[1]


def browser_dom(page: Path, profile: Path) -> str:
    """The DOM Chromium builds from ``page``, with every network feature off."""
    result = subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
            "--dump-dom", page.resolve().as_uri(),
        ],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "<html" in result.stdout, result.stderr[-2000:]
    return result.stdout


class Page(HTMLParser):
    """What a reader sees: the title, the summary lines, each table (heading, header, rows), the charts."""

    def __init__(self, dom: str) -> None:
        super().__init__()
        self.h1 = ""
        self.summary: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.charts: list[dict] = []
        self._heading = ""
        self._text: list[str] | None = None
        self._row: list[str] | None = None
        self._rows: list[list[str]] | None = None
        self._in_svg_title = False
        self.feed(dom)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("h1", "h2", "li", "td", "th"):
            self._text = []
        if tag == "table":
            self._rows = []
        elif tag == "tr":
            self._row = []
        elif tag == "svg":
            self.charts.append({"label": attrs.get("aria-label"), "bars": []})
        elif tag == "title" and self.charts:
            self._text, self._in_svg_title = [], True

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        text = "".join(self._text or []).strip()
        if tag == "h1":
            self.h1 = text
        elif tag == "h2":
            self._heading = text
        elif tag == "li":
            self.summary.append(text)
        elif tag in ("td", "th") and self._row is not None:
            self._row.append(text)
        elif tag == "tr" and self._rows is not None and self._row is not None:
            self._rows.append(self._row)
            self._row = None
        elif tag == "table" and self._rows is not None:
            self.tables[self._heading] = self._rows
            self._rows = None
        elif tag == "title" and self._in_svg_title:
            self.charts[-1]["bars"].append(text)
            self._in_svg_title = False
        if tag in ("h1", "h2", "li", "td", "th", "title"):
            self._text = None


@pytest.fixture
def review(small, run, tmp_path):  # noqa: F811 - the fixture imported above
    page = tmp_path / "review.html"
    result = run("report", "annual", "--fy", "2019", "-o", page)
    assert result.exit_code == 0, result.stderr
    return page


def test_the_review_opens_offline(review):
    html = review.read_text(encoding="utf-8")
    assert "<script" not in html
    assert " src=" not in html and " href=" not in html  # nothing to fetch: styles and charts are inline
    assert html.count("<svg") == 2


def test_chromium_shows_the_review(review, tmp_path):
    page = Page(browser_dom(review, tmp_path / "profile"))
    assert page.h1 == "2019年度 北のものづくり連携支援計画 年度末レビュー"
    assert page.summary[0] == "2019年度は相談受付 2 件、支援開始 1 件、支援実施 1 件、フォローアップ 2 件、終了 2 件でした。"
    assert "180日を超えて記録のない未終了の案件は 2 件です。" in page.summary

    activity = page.tables["2019年度 機関別の活動"]
    assert activity[0] == ["機関", "相談受付", "紹介(出)", "紹介(受)", "支援開始", "支援実施", "フォローアップ", "終了"]
    assert activity[1:] == [
        ["道総研", "1", "1", "0", "0", "0", "1", "0"],
        ["中小企業総合支援センター", "0", "1", "1", "0", "1", "0", "0"],
        ["北洋銀行", "0", "0", "1", "1", "0", "1", "0"],
        ["とかち財団", "1", "0", "0", "0", "0", "0", "2"],
        ["合計", "2", "2", "2", "1", "1", "2", "2"],
    ]
    targets = page.tables["想定する支援件数と実績"]
    assert targets[2] == ["2019年度", "10", "1", "10", "3", "1", "20", "2", "-18", "10", "5", "未達"]
    assert page.tables["2019年度 フォローアップの実施状況"][-1] == ["合計", "3", "1", "1", "1", "50"]
    assert page.tables["2019年度 機関間の紹介(紹介元→紹介先)"][1:] == [
        ["道総研", "中小企業総合支援センター", "1"],
        ["中小企業総合支援センター", "北洋銀行", "1"],
    ]
    stale = page.tables["180日を超えて記録のない未終了の案件(2020-03-31 時点)"]
    assert [(row[0], row[-1]) for row in stale[1:]] == [("hro-2018-0001", "669"), ("hro-2019-0001", "274")]

    per_quarter, targets_chart = page.charts
    assert per_quarter["label"] == "2019年度 四半期別の件数"
    assert "相談受付 第1四半期: 2" in per_quarter["bars"]
    assert "フォローアップ 第3四半期: 1" in per_quarter["bars"]
    assert len(per_quarter["bars"]) == 4 * 4  # four quarters, four series
    assert targets_chart["label"] == "期間別の目標と実績(延べ件数)"
    assert "目標計 2019年度: 20" in targets_chart["bars"]
    assert "実績計 2019年度: 2" in targets_chart["bars"]
    assert "実績計 2017–2018年度: 3" in targets_chart["bars"]


def test_chromium_shows_the_demo_review_in_era_form(run, tmp_path):
    page_file = tmp_path / "demo.html"
    result = run("--repo", ROOT, "report", "annual", "--fy", "R4", "--era", "-o", page_file)
    assert result.exit_code == 0, result.stderr
    page = Page(browser_dom(page_file, tmp_path / "profile"))
    assert page.h1 == "令和4年度 北のものづくり連携支援計画 年度末レビュー"
    targets = page.tables["想定する支援件数と実績"]
    assert [row[0] for row in targets[1:]] == ["平成29–30年度", "令和元年度", "令和2年度", "令和3年度", "令和4年度", "計画期間の合計"]
    assert targets[-1][7] == "116"
    assert [row[-1] for row in targets[1:6]] == ["達成", "達成", "未達", "達成", "達成"]
    assert len(page.charts) == 2
    assert "実績計 令和2年度: 24" in page.charts[1]["bars"]
