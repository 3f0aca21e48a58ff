"""Correcting a record without touching YAML: case history numbers, amend, void, set, withdraw,
restore, and case edit's editor and ordering; what counts afterwards, in every report.

Every command runs through the real CLI. The counts are worked out by hand on three cases of 道総研
(hro), all received and started in 2019年度:

    A hro-2019-0001  received 2019-05-14, started 2019-06-03, followed up 2020-07-01
    B hro-2019-0002  received 2019-05-20, started 2019-06-10, supported 2019-10-01, followed up 2020-08-01
    C hro-2019-0003  received 2019-06-01, started 2019-06-15 (B logged twice, as it turns out)

Follow-ups are owed in the two 年度 after the start (2020 and 2021); today is 2026-11-28.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import snapshot
from test_sync import Network, _command_built_once, case_path, git, git_env, ok  # noqa: F401

A, B, C = "hro-2019-0001", "hro-2019-0002", "hro-2019-0003"


def _file(repo: Path, case_id: str) -> dict:
    """A case file's data, dates as the file writes them."""
    data = yaml.safe_load(case_path(repo, case_id).read_text(encoding="utf-8"))
    return json.loads(json.dumps(data, default=str))


def _json(run, *args: str):
    return json.loads(ok(run(*args, "--format", "json")).stdout)


@pytest.fixture
def three(repo, run, new_case) -> Path:
    """Cases A, B and C as the module docstring has them."""
    for company, received in (("株式会社A", "2019-05-14"), ("株式会社B", "2019-05-20"), ("株式会社C", "2019-06-01")):
        new_case(company=company, received_on=received, field="food")
    for args in (
        ("start", A, "--lead", "hro", "--date", "2019-06-03"), ("follow-up", A, "--date", "2020-07-01"),
        ("start", B, "--lead", "hro", "--date", "2019-06-10"), ("support", B, "--date", "2019-10-01"),
        ("follow-up", B, "--date", "2020-08-01"), ("start", C, "--lead", "hro", "--date", "2019-06-15"),
    ):  # fmt: skip
        ok(run("case", *args))
    return repo


def _targets(run) -> dict[str, tuple[int, int, int]]:
    """(new, continuing, expected continuing) of 2019年度 and 2020年度."""
    periods = _json(run, "targets")["periods"]
    return {p["label"]: (p["actual"]["new"], p["actual"]["continuing"], p["expected_continuing"])
            for p in periods if p["label"] in ("2019年度", "2020年度")}  # fmt: skip


def _followups(run) -> dict[str, list[tuple[str, int]]]:
    found = _json(run, "followups")
    return {state: [(item["id"], item["fiscal_year"]) for item in found[state]] for state in ("overdue", "done")}


def _quarter_followed_up(run) -> int:
    """Follow-ups counted in 2020年度 Q2 (July to September 2020)."""
    return _json(run, "report", "quarterly", "--fy", "2020", "--quarter", "2")["total"]["followed_up"]


def _annual_2019(run) -> tuple[int, int, int]:
    total = _json(run, "report", "annual", "--fy", "2019")["activity"]["total"]
    return total["received"], total["started"], total["supported"]


def test_voided_events_and_withdrawn_cases_count_nowhere(three, run):
    # Before: A, B, C new in 2019; A and B followed up in 2020; C owes both years.
    assert _targets(run) == {"2019年度": (3, 0, 0), "2020年度": (0, 2, 3)}
    assert _followups(run) == {
        "overdue": [(C, 2020), (C, 2021), (A, 2021), (B, 2021)],
        "done": [(A, 2020), (B, 2020)],
    }
    assert _quarter_followed_up(run) == 2
    assert _annual_2019(run) == (3, 3, 1)

    ok(run("case", "withdraw", C, "--reason", f"{B} と同じ相談の二重登録"))
    ok(run("case", "void", B, "4", "--reason", "別の会社への訪問を誤って記録"))  # B's follow-up of 2020-08-01
    ok(run("case", "void", B, "3", "--reason", "別の案件の支援"))  # B's support of 2019-10-01

    # After: C counts nowhere; B has neither its support nor its follow-up. B's last contact is now
    # its start (2019-06-10), before A's follow-up (2020-07-01), so B comes first in 2021.
    assert _targets(run) == {"2019年度": (2, 0, 0), "2020年度": (0, 1, 2)}
    assert _followups(run) == {"overdue": [(B, 2020), (B, 2021), (A, 2021)], "done": [(A, 2020)]}
    assert _quarter_followed_up(run) == 1
    assert _annual_2019(run) == (2, 2, 0)
    assert ok(run("check")).stdout == ""

    # Both are kept in the files, with who, when and why; and both can be taken back.
    assert _file(three, C)["withdrawn"] == {"by": "hro", "date": "2026-11-28", "reason": f"{B} と同じ相談の二重登録"}
    assert _file(three, B)["events"][3]["voided"] == {"by": "hro", "date": "2026-11-28",
                                                      "reason": "別の会社への訪問を誤って記録"}  # fmt: skip
    ok(run("case", "restore", C))
    ok(run("case", "void", B, "4", "--unvoid"))
    ok(run("case", "void", B, "3", "--unvoid", "--reason", "支援は正しかった"))
    assert _targets(run) == {"2019年度": (3, 0, 0), "2020年度": (0, 2, 3)}
    restored = _file(three, C)["changes"][0]["fields"]
    assert restored == [{"field": "withdrawn", "old": f"2026-11-28 hro: {B} と同じ相談の二重登録"}]


def test_a_voided_start_or_close_is_no_start_or_close(three, run):
    ok(run("case", "close", A, "--outcome", "新商品を発売", "--date", "2021-03-01"))
    assert [c["id"] for c in _json(run, "case", "list", "--status", "終了")] == [A]
    ok(run("case", "void", A, "4", "--reason", "別の案件の終了"))
    assert [c["id"] for c in _json(run, "case", "list", "--status", "支援中")] == [C]
    assert [c["id"] for c in _json(run, "case", "list", "--status", "フォローアップ中")] == [A, B]
    # C's start was recorded on the wrong day: voided, and recorded again in 2020年度.
    ok(run("case", "void", C, "2", "--reason", "支援開始日の誤り"))
    ok(run("case", "start", C, "--lead", "hro", "--date", "2020-05-01"))
    assert _targets(run) == {"2019年度": (2, 0, 0), "2020年度": (1, 2, 2)}
    assert ok(run("check")).stdout == ""


def test_case_list_leaves_withdrawn_cases_out_unless_all(three, run):
    ok(run("case", "withdraw", C, "--reason", "二重登録"))
    assert [c["id"] for c in _json(run, "case", "list")] == [A, B]
    assert [c["id"] for c in _json(run, "case", "list", "--all")] == [A, B, C]
    assert ok(run("case", "list", "--count")).stdout == "2\n"
    assert ok(run("case", "list", "--count", "--all")).stdout == "3\n"
    # The quick count, answered before the command line is loaded, agrees.
    quick = subprocess.run([sys.executable, "-m", "kitamono", "case", "list", "--count", "--fy", "2019"],
                           capture_output=True, text=True, env={**os.environ, "KITAMONO_REPO": str(three)})  # fmt: skip
    assert (quick.returncode, quick.stdout) == (0, "2\n")


def test_history_numbers_the_events_and_shows_corrections(three, run):
    ok(run("case", "amend", B, "3", "--date", "2019-10-15", "--note", "試作品の評価", "--reason", "日付の入力誤り"))
    ok(run("case", "void", B, "4", "--reason", "別の会社への訪問"))
    lines = ok(run("case", "history", B, "--format", "plain")).stdout.splitlines()
    assert [line.split(maxsplit=4) for line in lines[:5]] == [
        ["番号", "日付", "記録", "機関", "内容"],
        ["1", "2019-05-20", "受付", "道総研"],
        ["2", "2019-06-10", "支援開始", "道総研", "主担当: 道総研"],
        ["3", "2019-10-15", "支援", "道総研",
         "試作品の評価 / 訂正 2026-11-28 道総研: 日付 2019-10-01 → 2019-10-15、"
         "メモ (なし) → 試作品の評価(理由: 日付の入力誤り)"],
        ["4", "2020-08-01", "【取消】フォローアップ", "道総研", "取消: 2026-11-28 道総研「別の会社への訪問」"],
    ]  # fmt: skip
    assert lines[5:] == [f"経過を直すときは番号で指定します(例: kitamono case amend {B} 2 --date … --reason …)"]
    # The JSON is the file's events, in the same order: a tool numbers them by their place.
    events = _json(run, "case", "history", B)
    assert [e["date"] for e in events] == ["2019-05-20", "2019-06-10", "2019-10-15", "2020-08-01"]
    assert events[3]["voided"] == {"by": "hro", "date": "2026-11-28", "reason": "別の会社への訪問"}


def test_amend_moves_an_event_to_its_date_and_keeps_what_it_was(three, run):
    result = ok(run("case", "amend", B, "3", "--date", "2020-09-01", "--reason", "日付の入力誤り"))
    assert result.stderr == f"案件 {B} の経過3を直しました(日付順で経過4に移りました)\n"
    events = _file(three, B)["events"]
    assert [(e["type"], e["date"]) for e in events] == [
        ("received", "2019-05-20"), ("started", "2019-06-10"), ("followed_up", "2020-08-01"),
        ("supported", "2020-09-01"),
    ]  # fmt: skip
    assert events[3]["amendments"] == [{
        "by": "hro", "date": "2026-11-28", "reason": "日付の入力誤り",
        "fields": [{"field": "date", "old": "2019-10-01", "new": "2020-09-01"}],
    }]  # fmt: skip
    ok(run("case", "amend", A, "2", "--lead", "北洋銀行", "--with", "道総研", "--reason", "主担当の誤り"))
    started = _file(three, A)["events"][1]
    assert (started["lead"], started["supporting"]) == ("hokuyo", ["hro"])
    assert started["amendments"][0]["fields"] == [{"field": "lead", "old": "hro", "new": "hokuyo"},
                                                  {"field": "supporting", "old": [], "new": ["hro"]}]  # fmt: skip
    # The first event carries the inquiry's own date with it.
    ok(run("case", "amend", A, "1", "--date", "2019-05-10", "--reason", "受付日の誤り"))
    assert _file(three, A)["received_on"] == "2019-05-10"
    assert ok(run("check")).stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("amend", B, "4", "--date", "2019-06-01", "--reason", "x"),
         "変更しませんでした: この記録: 支援開始 (start) より前に「フォローアップ」は記録できません"),
        (("amend", B, "2", "--date", "2027-01-01", "--reason", "x"), "未来"),
        (("amend", B, "3", "--lead", "hro", "--reason", "x"), "エラー: --lead はこの経過(支援)には使えません"),
        (("amend", B, "9", "--note", "x", "--reason", "x"), "経過9はありません(経過は1〜4です"),
        (("amend", B, "3", "--reason", "x"), "直す項目を1つ以上指定してください"),
        (("amend", B, "3", "--note", "x", "--reason", " "), "直す理由を --reason で指定してください"),
        (("void", B, "2", "--reason", "x"), "しませんでした: 経過3: 支援開始 (start) より前に「支援」は記録できません"),
        (("void", B, "1", "--reason", "x"), f"kitamono case withdraw {B}"),
        (("void", B, "3", "--unvoid"), "取消になっていません"),
        (("set", B, "--municipality", "東京都", "--reason", "x"), "北海道の179市町村にありません"),
        (("set", B, "--title", "", "--reason", "x"), "title"),
        (("set", B, "--company", "株式会社B", "--reason", "x"), "指定された値と同じ"),
        (("restore", B), "取下げになっていません"),
    ],
)
def test_a_refused_correction_says_why_and_changes_nothing(three, run, args, message):
    before = snapshot(three)
    result = run("case", *args)
    assert result.exit_code == 1
    assert message in result.stderr and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert snapshot(three) == before


def test_set_checks_as_case_new_does_and_records_the_change(three, run):
    ok(run("case", "set", A, "--title", "殺菌工程の見直し", "--municipality", "音更町", "--bank", "北洋銀行",
           "--needs", "finance,technical", "--reason", "聞き取りの誤り"))  # fmt: skip
    case = _file(three, A)
    assert (case["title"], case["company"], case["needs"]) == (
        "殺菌工程の見直し", {"name": "株式会社A", "municipality": "音更町", "bank": "hokuyo"}, ["finance", "technical"])
    assert case["changes"] == [{"by": "hro", "date": "2026-11-28", "reason": "聞き取りの誤り", "fields": [
        {"field": "title", "old": "ナチュラルチーズの殺菌工程の見直し", "new": "殺菌工程の見直し"},
        {"field": "company.municipality", "old": "帯広市", "new": "音更町"},
        {"field": "needs", "old": ["technical", "testing"], "new": ["finance", "technical"]},
        {"field": "company.bank", "new": "hokuyo"},
    ]}]  # fmt: skip
    shown = ok(run("case", "history", A, "--format", "plain")).stdout
    assert "件名 ナチュラルチーズの殺菌工程の見直し → 殺菌工程の見直し、市町村 帯広市 → 音更町" in shown
    assert ok(run("check")).stdout == ""


def test_set_reads_fields_and_needs_in_the_words_people_write(three, run):
    ok(run("case", "set", A, "--field", "もの", "--needs", "融資、販路", "--reason", "分野の誤り"))
    case = _file(three, A)
    assert (case["field"], case["needs"]) == ("monozukuri", ["finance", "market"])
    before = snapshot(three)
    for option, value, what in (("--field", "伝書鳩", "分野"), ("--needs", "magic", "支援機能")):
        refused = run("case", "set", A, option, value, "--reason", "分野の誤り")  # a usage error, as in case new
        assert refused.exit_code == 2 and f"「{value}」は{what}の選択肢にありません" in refused.stderr
    assert snapshot(three) == before


def test_corrections_need_this_clones_institution(make_repo, run, monkeypatch, new_case):
    repo = make_repo("bare", institution=None)
    monkeypatch.setenv("KITAMONO_REPO", str(repo))
    case_id = new_case()
    result = run("case", "withdraw", case_id, "--reason", "二重登録")
    assert result.exit_code == 1 and "kitamono init --institution" in result.stderr


@pytest.mark.parametrize("command", ["amend", "void", "set", "withdraw", "restore"])
@pytest.mark.parametrize(("lang", "word"), [("ja", "理由"), ("en", "Why")])
def test_each_correction_has_help_in_both_languages(env, command, lang, word):
    """Help is worded when the command line is built, so each language is asked of a process of its own."""
    result = subprocess.run([sys.executable, "-m", "kitamono", "case", command, "--help"], capture_output=True,
                            text=True, env={**os.environ, "KITAMONO_LANG": lang})  # fmt: skip
    assert result.returncode == 0 and word in result.stdout and "--reason" in result.stdout


# --- kitamono log --------------------------------------------------------------------------------


def test_log_shows_each_correction_with_its_reason(git_env, tmp_path, run):
    network = Network(tmp_path, run)
    center = network.center()
    case_id = network.new(center, "株式会社十勝チーズ工房")
    ok(run("--repo", center, "case", "start", case_id, "--lead", "hro", "--date", "2026-10-05"))
    ok(run("--repo", center, "case", "support", case_id, "--date", "2026-10-20"))
    ok(network.sync(center))
    steps = [
        ("amend", case_id, "3", "--date", "2026-10-21", "--reason", "日付の入力誤り"),
        ("void", case_id, "3", "--reason", "別の案件の支援"),
        ("set", case_id, "--title", "殺菌装置の導入", "--reason", "件名を正確に"),
        ("withdraw", case_id, "--reason", "二重登録"),
        ("restore", case_id, "--reason", "二重登録ではなかった"),
    ]
    for step in steps:
        ok(run("--repo", center, "case", *step))
        git(center, "commit", "-qam", step[0])
    lines = ok(run("--repo", center, "log", case_id, "--format", "plain")).stdout.splitlines()
    said = [line.split("  ")[-1].strip() for line in lines[-6:-1]]
    assert said == [
        "経過を訂正(支援、2026-10-21): 日付 2026-10-20 → 2026-10-21(理由: 日付の入力誤り)",
        "支援(2026-10-21、道総研)を取消: 別の案件の支援",
        "案件の項目を訂正: 件名 殺菌工程の見直し → 殺菌装置の導入(理由: 件名を正確に)",
        "案件を取下げ: 二重登録",
        "案件の取下げを戻す(理由: 二重登録ではなかった)",
    ]
    kinds = [row["change"] for row in _json(run, "--repo", center, "log", case_id)][-5:]
    assert kinds == ["amended", "voided", "set", "withdrawn", "restored"]


# --- sync never shares a deletion made by hand ------------------------------------------------------


def test_sync_refuses_to_push_case_files_removed_by_hand(git_env, tmp_path, run):
    network = Network(tmp_path, run)
    center = network.center()
    kept, removed = network.new(center, "株式会社A"), network.new(center, "株式会社B")
    ok(network.sync(center))
    head = git(center, "rev-parse", "HEAD")
    case_path(center, removed).unlink()
    result = network.sync(center)
    assert result.exit_code == 1
    assert f"cases/2026/{removed}.yaml" in result.stderr and "--allow-delete" in result.stderr
    assert git(center, "rev-parse", "HEAD") == head  # nothing committed
    # Deleted in a commit of its own, not yet shared: refused all the same.
    git(center, "rm", "-q", f"cases/2026/{removed}.yaml")
    git(center, "commit", "-qm", "消す")
    result = network.sync(center)
    assert result.exit_code == 1 and f"cases/2026/{removed}.yaml" in result.stderr
    assert f"{removed}.yaml" in git(tmp_path, "--git-dir", str(network.remote), "ls-tree", "-r", "--name-only", "main")
    # Asked for, it is shared.
    ok(network.sync(center, "--allow-delete"))
    listed = git(tmp_path, "--git-dir", str(network.remote), "ls-tree", "-r", "--name-only", "main")
    assert f"{removed}.yaml" not in listed and f"{kept}.yaml" in listed
    # A deletion that arrives from the other clone is not this clone's to refuse.
    bank = tmp_path / "bank"
    git(tmp_path, "clone", "-q", str(network.remote), str(bank))
    ok(run("init", bank, "--institution", "hokuyo"))
    ok(network.sync(bank))


# --- case edit ---------------------------------------------------------------------------------------

EDITOR = """\
import sys, pathlib
path = pathlib.Path(sys.argv[1])
pathlib.Path(sys.argv[0]).with_suffix(".ran").write_text(pathlib.Path(sys.argv[0]).stem, encoding="utf-8")
text = path.read_text(encoding="utf-8")
{change}
"""


def _editor_script(folder: Path, name: str, change: str = "pass") -> Path:
    """An executable named ``name`` that edits the file it is given with ``change``."""
    folder.mkdir(exist_ok=True)
    script = folder / name
    script.write_text(f"#!{sys.executable}\n" + EDITOR.format(change=change), encoding="utf-8")
    script.chmod(0o755)
    return script


@pytest.fixture
def plain_editor_env(tmp_path, monkeypatch) -> Path:
    """No VISUAL/EDITOR, git configured by nothing on this machine; a folder for PATH."""
    for name in ("VISUAL", "EDITOR"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "gitconfig"
    config.write_text("", encoding="utf-8")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    git_path = shutil.which("git")
    assert git_path is not None
    (bin_dir / "git").symlink_to(git_path)
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


def test_edit_uses_git_core_editor_then_nano_then_vi_and_says_which(plain_editor_env, repo, run, new_case):
    case_id = new_case()
    vi = _editor_script(plain_editor_env, "vi")
    result = ok(run("case", "edit", case_id))
    assert result.stderr.splitlines()[0] == "エディタ vi で開きます(保存して終了は Esc のあと :wq、保存せずに終了は :q!)"  # noqa: E501
    assert vi.with_suffix(".ran").read_text(encoding="utf-8") == "vi"
    _editor_script(plain_editor_env, "nano")
    assert ok(run("case", "edit", case_id)).stderr.startswith("エディタ nano で開きます")
    mine = _editor_script(plain_editor_env, "mine")
    git(repo, "config", "core.editor", str(mine))
    assert ok(run("case", "edit", case_id)).stderr.startswith(f"エディタ {mine} で開きます(git の core.editor の設定)")


def test_edit_puts_events_in_date_order(repo, run, new_case, tmp_path, monkeypatch):
    case_id = new_case()
    ok(run("case", "start", case_id, "--lead", "hro", "--date", "2019-06-03"))
    ok(run("case", "support", case_id, "--date", "2019-08-20"))
    # A support typed in by hand at the end, dated before the other one.
    change = ("path.write_text(text.replace('events:\\n', 'events:\\n', 1) + "
              "'- type: supported\\n  date: 2019-07-01\\n  by: hro\\n', encoding='utf-8')")
    monkeypatch.setenv("EDITOR", str(_editor_script(tmp_path / "bin", "add", change)))
    ok(run("case", "edit", case_id))
    events = _file(repo, case_id)["events"]
    assert [e["date"] for e in events] == ["2019-05-14", "2019-06-03", "2019-07-01", "2019-08-20"]
    assert ok(run("check")).stdout == ""


def test_edit_offers_to_reopen_a_save_that_breaks_a_rule_at_a_terminal(repo, new_case, tmp_path):
    """Through a real terminal (a pty): the first save breaks a rule, the second mends it."""
    import pty
    import select

    case_id = new_case()
    # First run: a municipality outside Hokkaido. Second run (the file holds the first edit): mended.
    change = ("path.write_text(text.replace('帯広市', '東京都') if '東京都' not in text "
              "else text.replace('東京都', '音更町'), encoding='utf-8')")
    editor = _editor_script(tmp_path / "bin", "fix", change)
    env = {**os.environ, "KITAMONO_REPO": str(repo), "EDITOR": str(editor), "KITAMONO_TODAY": "2026-11-28",
           "KITAMONO_LANG": "ja"}  # fmt: skip
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "kitamono", "case", "edit", case_id], stdin=follower,
                               stdout=follower, stderr=follower, env=env, close_fds=True)  # fmt: skip
    os.close(follower)
    said, answered = b"", False
    for _ in range(400):  # bounded: each read waits at most a tenth of a second
        ready, _, _ = select.select([leader], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            said += chunk
        if not answered and "もう一度エディタで開いて直しますか".encode() in said:
            os.write(leader, b"y\n")
            answered = True
        if process.poll() is not None and not ready:
            break
    process.wait(timeout=10)
    os.close(leader)
    text = said.decode("utf-8", "replace")
    assert answered, text
    assert "北海道の179市町村にありません" in text
    assert process.returncode == 0, text
    assert "municipality: 音更町" in (repo / "cases" / "2019" / f"{case_id}.yaml").read_text(encoding="utf-8")
