"""kitamono web in a real browser: Debian's chromium, driven through its own chromedriver.

Nothing is downloaded: selenium is told where the distribution's browser and driver are. The
run logs a new inquiry with a 和暦 date, watches the page's own script show the routing
suggestion, records 支援開始, sees the dashboard's count change and opens the quarterly XLSX it
downloads. Screenshots of the dashboard and the case page are taken and their headings checked
(``KITAMONO_SCREENSHOTS=docs`` writes them to the README's ``docs/``).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest

from conftest import kitamono_web

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None or DRIVER is None,
                       reason="chromium and chromium-driver are not installed (apt-get install chromium-driver); "
                              ".ci/run installs them"),
    pytest.mark.xdist_group("chromium"),
]


@pytest.fixture
def served(repo, env, new_case):
    new_case()  # one case from FY2019: the dashboard starts at 1 case
    with kitamono_web() as (server, port):
        assert f":{port}/" in (server.stderr.readline() if server.stderr else "")
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def chrome(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM or ""
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1300,1700", f"--user-data-dir={tmp_path / 'profile'}"):  # fmt: skip
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"download.default_directory": str(tmp_path / "downloads"),
                                              "download.prompt_for_download": False})  # fmt: skip
    driver = webdriver.Chrome(service=Service(DRIVER or ""), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


def _wait(condition, timeout: float = 15.0):
    """Until ``condition()`` holds; an element that went away as the next page loaded is asked again."""
    from selenium.common.exceptions import StaleElementReferenceException

    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except StaleElementReferenceException:  # the page was replaced while it was read
            value = None
        if value:
            return value
        assert time.monotonic() < deadline, "the page did not get there in time"
        time.sleep(0.05)


def _quarter_row(chrome, name: str) -> list[str]:
    from selenium.webdriver.common.by import By

    for row in chrome.find_elements(By.CSS_SELECTOR, "#quarter-table tbody tr"):
        cells = [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
        if cells and cells[0] == name:
            return cells
    return []


def _headings_shown(chrome) -> list[str]:
    from selenium.webdriver.common.by import By

    return [h.text for h in chrome.find_elements(By.CSS_SELECTOR, "h1, h2") if h.is_displayed()]


def _screenshot(chrome, name: str, tmp_path: Path) -> Path:
    folder = Path(__file__).parents[1] / "docs" if os.environ.get("KITAMONO_SCREENSHOTS") == "docs" else tmp_path
    folder.mkdir(exist_ok=True)
    path = folder / f"web-{name}.png"
    assert chrome.save_screenshot(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return path


def test_a_new_inquiry_to_its_start_in_the_browser(served, chrome, repo, tmp_path):
    from openpyxl import load_workbook
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    chrome.get(served + "/")
    assert "案件 1 件(うち 2026年度 の受付 0 件)" in chrome.find_element(By.CSS_SELECTOR, "p.counts").text
    assert _quarter_row(chrome, "道総研") == ["道総研", "0", "0", "0", "0", "0", "0", "0"]  # every support institution

    chrome.find_element(By.LINK_TEXT, "新規相談").click()
    form = _wait(lambda: chrome.find_elements(By.ID, "new-case"))[0]
    form.find_element(By.NAME, "company").send_keys("株式会社十勝チーズ工房")
    form.find_element(By.NAME, "municipality").send_keys("帯広市")
    form.find_element(By.NAME, "received_on").send_keys("令和8年11月2日")
    Select(form.find_element(By.NAME, "channel")).select_by_value("visit")
    form.find_element(By.NAME, "title").send_keys("ナチュラルチーズの殺菌工程の見直し")
    # The page's own script asks for the suggestion while the form is filled in.
    suggestion = _wait(lambda: "主担当" in chrome.find_element(By.ID, "suggestion-body").text
                       and chrome.find_element(By.ID, "suggestion-body").text)  # fmt: skip
    assert "振り分けの提案" in suggestion and "帯広市(十勝)" in suggestion
    form.find_element(By.CSS_SELECTOR, "button[value=save]").click()

    _wait(lambda: chrome.current_url.endswith("/cases/hro-2026-0001"))
    assert "案件 hro-2026-0001 を登録しました" in chrome.find_element(By.TAG_NAME, "main").text
    assert "2026-11-02" in (repo / "cases/2026/hro-2026-0001.yaml").read_text(encoding="utf-8")
    assert {"内容", "担当機関の提案", "経過", "記録する"} <= set(_headings_shown(chrome))
    _screenshot(chrome, "case", tmp_path)

    chrome.find_element(By.CSS_SELECTOR, "#form-started summary").click()
    start = chrome.find_element(By.CSS_SELECTOR, "#form-started form")
    start.find_element(By.NAME, "lead").send_keys("道総研")
    start.find_element(By.NAME, "date").send_keys("R8.11.20")
    start.find_element(By.CSS_SELECTOR, "button").click()
    _wait(lambda: "案件 hro-2026-0001 に「支援開始」を記録しました" in chrome.find_element(By.TAG_NAME, "main").text)
    timeline = chrome.find_element(By.CSS_SELECTOR, "ol.timeline").text
    assert re.search(r"2026-11-20 支援開始 道総研 主担当: 道総研", timeline)

    chrome.find_element(By.LINK_TEXT, "ダッシュボード").click()
    _wait(lambda: chrome.find_elements(By.ID, "quarter-table"))
    assert "案件 2 件(うち 2026年度 の受付 1 件)" in chrome.find_element(By.CSS_SELECTOR, "p.counts").text
    # received, referred out, referred in, started, supported, followed up, closed
    assert _quarter_row(chrome, "道総研") == ["道総研", "1", "0", "0", "1", "0", "0", "0"]
    assert {"ダッシュボード", "目標と実績", "今四半期の機関別件数", "フォローアップ(期限切れ・今年度分)"} <= set(
        _headings_shown(chrome))
    _screenshot(chrome, "dashboard", tmp_path)

    chrome.get(served + "/reports?fy=2026&quarter=3")
    chrome.find_element(By.LINK_TEXT, "XLSX").click()
    downloaded = tmp_path / "downloads" / "quarterly-2026Q3.xlsx"
    _wait(lambda: downloaded.is_file() and downloaded.stat().st_size > 0)
    rows = list(load_workbook(downloaded)["2026年度 第3四半期 機関別"].iter_rows(values_only=True))
    assert rows[1] == ("道総研", 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0)[: len(rows[1])]
