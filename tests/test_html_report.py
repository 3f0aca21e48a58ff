"""The year-end review as a browser shows it: Debian's Chromium, headless, offline, on the real file.

One Chromium per test process, with networking off, loads each page from disk in a new tab and
hands back the DOM it built (what ``--dump-dom`` prints), driven over its DevTools pipe; the tests
read the tables, the numbers and the two SVG charts out of that DOM.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from test_reports import small  # noqa: F401  (the hand-built repository, with its worked-out numbers)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None, reason="chromium is not installed (apt-get install chromium); .ci/run installs it"
    ),
    pytest.mark.xdist_group("chromium"),  # the tests share one browser, so they run in one process
]
ROOT = Path(__file__).resolve().parents[1]


class Browser:
    """Headless Chromium driven over ``--remote-debugging-pipe`` (NUL-separated JSON on fds 3 and 4)."""

    def __init__(self, profile: Path) -> None:
        flags = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--remote-debugging-pipe",
        ]  # fmt: skip
        # The pipe is the child's fds 3 (commands in) and 4 (answers out): the shell sets them up.
        self.process = subprocess.Popen(
            ["sh", "-c", 'exec "$0" "$@" 3<&0 4>&1 </dev/null >/dev/null 2>&1', str(CHROMIUM), *flags, "about:blank"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0,
        )  # fmt: skip
        self.sent = 0
        self.pending = b""

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self.pending:
            chunk = self.process.stdout.read(65536)  # type: ignore[union-attr]
            assert chunk, f"Chromium stopped (exit {self.process.poll()})"
            self.pending += chunk
        message, _, self.pending = self.pending.partition(b"\0")
        return json.loads(message)

    def call(
        self, method: str, params: dict | None = None, session: str | None = None, until: str | None = None
    ) -> dict:
        """Send one command and return its result (after the event ``until``, when named)."""
        self.sent += 1
        message = {
            "id": self.sent,
            "method": method,
            "params": params or {},
            **({"sessionId": session} if session else {}),
        }
        self.process.stdin.write(json.dumps(message).encode("utf-8") + b"\0")  # type: ignore[union-attr]
        result, seen = None, until is None
        while result is None or not seen:
            answer = self._read()
            if answer.get("id") == self.sent:
                assert "error" not in answer, answer["error"]
                result = answer["result"]
            elif answer.get("method") == until and answer.get("sessionId") == session:
                seen = True
        return result

    def dom(self, page: Path) -> str:
        """The DOM Chromium builds from ``page`` once it has loaded, in a tab of its own."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable", session=session)
        self.call("Page.navigate", {"url": page.resolve().as_uri()}, session=session, until="Page.loadEventFired")
        found = self.call("Runtime.evaluate",
                          {"expression": "document.documentElement.outerHTML", "returnByValue": True},
                          session=session)  # fmt: skip
        self.call("Target.closeTarget", {"targetId": target})
        return found["result"]["value"]

    def close(self) -> None:
        self.process.stdin.write(json.dumps({"id": 0, "method": "Browser.close"}).encode("utf-8") + b"\0")  # type: ignore[union-attr]
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    started = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield started
    started.close()


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
def review(small, run, tmp_path):
    page = tmp_path / "review.html"
    result = run("report", "annual", "--fy", "2019", "-o", page)
    assert result.exit_code == 0, result.stderr
    return page


def test_the_review_opens_offline(review):
    html = review.read_text(encoding="utf-8")
    assert "<script" not in html
    assert " src=" not in html and " href=" not in html  # nothing to fetch: styles and charts are inline
    assert html.count("<svg") == 2


def test_chromium_shows_the_review(review, browser):
    page = Page(browser.dom(review))
    assert page.h1 == "2019年度 北のものづくり連携支援計画 年度末レビュー"
    assert page.summary[0] == (
        "2019年度は相談受付 2 件、支援開始 1 件、支援実施 1 件、フォローアップ 2 件、終了 2 件でした。"
    )
    assert "180日を超えて記録のない未終了の案件は 2 件です。" in page.summary

    activity = page.tables["2019年度 機関別の活動"]
    assert activity[0] == ["機関", "相談受付", "紹介(出)", "紹介(受)", "支援開始", "支援実施", "フォローアップ", "終了"]
    assert activity[1:] == [
        ["道総研", "1", "1", "0", "0", "0", "1", "0"],
        ["ノーステック財団", "0", "0", "0", "0", "0", "0", "0"],  # every support institution has its row
        ["中小企業総合支援センター", "0", "1", "1", "0", "1", "0", "0"],
        ["北洋銀行", "0", "0", "1", "1", "0", "1", "0"],
        ["北海道銀行", "0", "0", "0", "0", "0", "0", "0"],
        ["とかち財団", "1", "0", "0", "0", "0", "0", "2"],
        ["合計", "2", "2", "2", "1", "1", "2", "2"],
    ]
    targets = page.tables["想定する支援件数と実績"]
    assert targets[2] == ["2019年度", "10", "1", "10", "3", "1", "20", "2", "-18", "10", "5", "未達"]
    # E was closed without a waiver: it still owes its FY2019 follow-up
    assert page.tables["2019年度 フォローアップの実施状況"][-1] == ["合計", "3", "1", "2", "0", "33.3"]
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


def test_chromium_shows_the_demo_review_in_era_form(run, tmp_path, browser):
    page_file = tmp_path / "demo.html"
    result = run("--repo", ROOT, "report", "annual", "--fy", "R4", "--era", "-o", page_file)
    assert result.exit_code == 0, result.stderr
    page = Page(browser.dom(page_file))
    assert page.h1 == "令和4年度 北のものづくり連携支援計画 年度末レビュー"
    targets = page.tables["想定する支援件数と実績"]
    assert [row[0] for row in targets[1:]] == [
        "平成29–30年度", "令和元年度", "令和2年度", "令和3年度", "令和4年度", "計画期間の合計"
    ]  # fmt: skip
    assert targets[-1][7] == "116"
    assert [row[-1] for row in targets[1:6]] == ["達成", "達成", "未達", "達成", "達成"]
    assert len(page.charts) == 2
    assert "実績計 令和2年度: 24" in page.charts[1]["bars"]


def test_the_review_chart_shows_the_years_after_the_plan_as_actual_bars(run, tmp_path, browser):
    """Support after the plan is shown as actual bars with no target bar beside them (実績のみ): the
    FY2025 review of the demo holds FY2023 (21 = 2 new + 19 continuing), FY2024 (12) and FY2025 (5)."""
    page_file = tmp_path / "demo-2025.html"
    result = run("--repo", ROOT, "report", "annual", "--fy", "2025", "--as-of", "2026-03-31", "-o", page_file)
    assert result.exit_code == 0, result.stderr
    bars = Page(browser.dom(page_file)).charts[1]["bars"]
    assert [b for b in bars if "2023" in b or "2024" in b or "2025" in b] == [
        "実績計 2023年度: 21", "実績計 2024年度: 12", "実績計 2025年度: 5",
    ]  # fmt: skip
    assert "目標計 2022年度: 30" in bars and "実績計 2022年度: 30" in bars
