"""Dates that are probably typos: a new case received before the plan began or after today.

``case new --received-on 1999-01-01`` once made ``hokuyo-1998-0001`` without a word. A date
before 2017-04-01 is asked about at a terminal and refused with ``--no-input`` unless
``--allow-date-outside-plan``; a date after today is refused always. The message names the date
(and its 年度) a slip of the keyboard most likely turned into the one given.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from datetime import date

import pytest

from conftest import TODAY, snapshot
from kitamono.casework import likely_dates

NEW = ["case", "new", "--no-input", "--company", "株式会社十勝チーズ工房", "--municipality", "帯広市",
       "--title", "殺菌工程の見直し", "--channel", "visit"]  # fmt: skip
START, END = date(2017, 4, 1), date.fromisoformat(TODAY)  # the plan's first day; "today" in the tests


@pytest.mark.parametrize(
    ("given", "likely"),
    [
        ("1999-05-14", "2019-05-14(2019年度)"),  # 平成11年 for 平成31年
        ("1999-01-01", "2019-01-01(2018年度)"),
        ("1919-05-14", "2019-05-14(2019年度)"),  # the century typed by habit
        ("2012-06-01", "2021-06-01(2021年度)"),  # two digits swapped
        ("1990-06-01", "2020-06-01(2020年度)"),  # 平成2年 for 令和2年
    ],
)
def test_a_date_before_the_plan_is_refused_naming_the_likely_one(repo, run, given, likely):
    before = snapshot(repo)
    result = run(*NEW, "--received-on", given)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == (
        f"エラー: 受付日 {given} は計画の始まり(2017-04-01)より前の日付です。{likely}の打ち間違いではありませんか。"
        "日付を確かめてください。この日付のままで正しければ --allow-date-outside-plan を付けて実行してください\n"
    )
    assert snapshot(repo) == before


def test_a_date_before_the_plan_no_slip_explains_is_refused_without_a_guess(repo, run):
    result = run(*NEW, "--received-on", "1950-05-14")
    assert result.exit_code == 1
    assert "1950-05-14 は計画の始まり(2017-04-01)より前の日付です。日付を確かめてください" in result.stderr


@pytest.mark.parametrize("flag", ["--allow-date-outside-plan", "--old-date"])
def test_a_date_before_the_plan_is_logged_when_allowed(repo, run, flag):
    result = run(*NEW, "--received-on", "2016-11-02", flag)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "hro-2016-0001\n"
    assert run("check").exit_code == 0


@pytest.mark.parametrize(
    ("given", "likely"),
    [("2091-05-14", "2019-05-14(2019年度)"), ("2062-01-01", "2026-01-01(2025年度)"),
     ("2032-05-01", "2023-05-01(2023年度)")],
)
def test_a_date_after_today_is_refused_even_when_allowed(repo, run, given, likely):
    before = snapshot(repo)
    for extra in ([], ["--allow-date-outside-plan"]):
        result = run(*NEW, "--received-on", given, *extra)
        assert result.exit_code == 1
        assert result.stderr == (
            f"エラー: 受付日 {given} は未来の日付です(今日は {TODAY})。{likely}の打ち間違いではありませんか。"
            "日付を確かめてください(今日より後の日付では登録できません)\n"
        )
    assert snapshot(repo) == before


def test_dates_within_the_plan_are_logged_without_a_question(repo, run):
    for given in ("2017-04-01", TODAY):
        assert run(*NEW, "--received-on", given).exit_code == 0


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (date(2091, 5, 14), [date(2019, 5, 14)]),
        (date(2109, 5, 14), [date(2019, 5, 14)]),
        (date(1999, 5, 14), [date(2019, 5, 14)]),
        (date(1920, 1, 1), [date(2020, 1, 1)]),
        (date(2016, 6, 1), [date(2017, 6, 1)]),  # 平成28年 for 平成29年
        (date(2016, 1, 1), []),  # 2018-01-01, 2019-01-01 and 2026-01-01 are each one digit away: no guess
        (date(2027, 5, 1), []),  # 令和9年: eight 令和 years are one digit away
        (date(1950, 5, 14), []),
        (date(2016, 2, 29), []),  # no 29 February in 2017, 2018, 2019 or 2026
    ],
)
def test_likely_dates(given, expected):
    assert likely_dates(given, START, END) == expected


# --- at a terminal ------------------------------------------------------------------------------------


def at_a_terminal(repo, answer: str) -> tuple[int, str]:
    """``kitamono case new`` with a pseudo-terminal as stdin and stderr, ``answer`` typed at its question."""
    controller, terminal = pty.openpty()
    environment = {**os.environ, "KITAMONO_REPO": str(repo), "KITAMONO_TODAY": TODAY, "KITAMONO_LANG": "ja"}
    args = [a for a in NEW if a != "--no-input"] + ["--summary", "殺菌装置の相談", "--received-on", "1999-05-14"]
    process = subprocess.Popen([sys.executable, "-m", "kitamono", *args], stdin=terminal, stderr=terminal,
                               stdout=subprocess.PIPE, env=environment)  # fmt: skip
    os.close(terminal)
    seen, answered, deadline = b"", False, time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 1)
        if ready:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the process has ended and closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        if not answered and "登録しますか".encode() in seen:
            os.write(controller, answer.encode() + b"\n")
            answered = True
        if process.poll() is not None and not ready:
            break
    stdout = process.communicate(timeout=60)[0].decode()
    os.close(controller)
    assert answered, seen.decode(errors="replace")
    return process.returncode, stdout + seen.decode(errors="replace")


def test_at_a_terminal_the_date_is_asked_about_and_kept_when_confirmed(repo):
    code, shown = at_a_terminal(repo, "y")
    assert code == 0, shown
    assert "受付日 1999-05-14 は計画の始まり(2017-04-01)より前の日付です。2019-05-14(2019年度)の打ち間違い" in shown
    assert (repo / "cases" / "1999" / "hro-1999-0001.yaml").exists()


def test_at_a_terminal_a_date_not_confirmed_logs_nothing(repo):
    before = snapshot(repo)
    code, shown = at_a_terminal(repo, "n")
    assert code == 1
    assert "登録しませんでした。--received-on で日付を直してもう一度実行してください" in shown
    assert snapshot(repo) == before
