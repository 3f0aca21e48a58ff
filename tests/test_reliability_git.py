"""Sharing cases over git without losing any, even when a clone or the shared repository misbehaves.

Real git, a bare remote and clones around it (the network of ``test_sync.py``): merges that git
leaves unfinished, rules that switch kitamono's merge driver off, half-written temporary files,
a ``data_dir`` that points out of the repository and ``.kitamono/`` files that someone committed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import snapshot
from test_sync import Network, _command_built_once, case_path, cases_in, git, git_env, network, ok  # noqa: F401


def follow_ups(clone: Path, case_id: str) -> list[tuple[str, str | None]]:
    """The follow-ups of a case in a clone: (date, note)."""
    events = cases_in(clone)[case_id]["events"]
    return [(str(e["date"]), e.get("note")) for e in events if e["type"] == "followed_up"]


def remote_files(network: Network) -> list[str]:
    return git(network.remote, "ls-tree", "-r", "--name-only", "main").split()


def shared_case(network: Network, run) -> tuple[Path, Path, str]:
    """A センター clone and a bank clone that both hold one started case."""
    center = network.center()
    bank = network.clone("bank", "hokuyo")
    case_id = network.new(center, "株式会社十勝チーズ工房")
    ok(run("--repo", center, "case", "start", case_id, "--lead", "hro", "--date", "2026-10-05"))
    ok(network.sync(center))
    ok(network.sync(bank))
    return center, bank, case_id


def follow_up_on_both(network: Network, run, center: Path, bank: Path, case_id: str) -> None:
    """Each clone records a follow-up on the case; the センター pushes its own first."""
    ok(run("--repo", center, "case", "follow-up", case_id, "--date", "2026-11-10", "--note", "工場を訪問"))
    ok(run("--repo", bank, "case", "follow-up", case_id, "--date", "2026-11-05", "--note", "電話で確認"))
    ok(network.sync(center))


def push_with_git(clone: Path, message: str) -> None:
    """What a colleague who uses git directly does: commit everything and push."""
    git(clone, "commit", "-qam", message)
    git(clone, "push", "-q", "origin", "main")


BOTH = [("2026-11-05", "電話で確認"), ("2026-11-10", "工場を訪問")]
OTHER_MERGE = "kitamono 以外の方法でマージされる設定の案件ファイルが 1件あります"


# --- 2. merges that something other than kitamono would do -------------------------------------------


@pytest.mark.parametrize(
    "where, rule",
    [(".gitattributes", "cases/2026/*.yaml -merge"), ("info", "cases/**/*.yaml merge=text")],
    ids=["shared-rule-switches-the-driver-off", "own-rule-sends-cases-to-line-merge"],
)
def test_sync_refuses_to_merge_cases_that_would_not_go_through_kitamono(network, run, where, rule):
    center, bank, case_id = shared_case(network, run)
    if where == ".gitattributes":  # a colleague commits the rule with git itself; it reaches the bank
        with (center / ".gitattributes").open("a", encoding="utf-8") as handle:
            handle.write(rule + "\n")
        push_with_git(center, "merge rule")
        assert OTHER_MERGE in ok(network.sync(bank)).stderr  # the rule arrives: named, not yet in the way
    else:  # the bank's own git settings
        (bank / ".git" / "info" / "attributes").write_text(rule + "\n", encoding="utf-8")
    ok(run("--repo", center, "case", "follow-up", case_id, "--date", "2026-11-10", "--note", "工場を訪問"))
    push_with_git(center, "follow-up")
    ok(run("--repo", bank, "case", "follow-up", case_id, "--date", "2026-11-05", "--note", "電話で確認"))
    head, pushed = git(bank, "rev-parse", "HEAD"), network.remote_head()
    text = case_path(bank, case_id).read_text(encoding="utf-8")

    for _attempt in range(2):  # refused, and stays refused while the rule is there
        refused = network.sync(bank)
        assert refused.exit_code == 1
        assert refused.stderr.count("\n") == 1 and refused.stderr.startswith("エラー: ")
        assert f"{OTHER_MERGE}: cases/2026/{case_id}.yaml" in refused.stderr
        assert ".gitattributes" in refused.stderr and "cases/**/*.yaml merge=kitamono" in refused.stderr
        assert git(bank, "rev-parse", "HEAD") == head and network.remote_head() == pushed
        assert case_path(bank, case_id).read_text(encoding="utf-8") == text
        assert not (bank / ".git" / "MERGE_HEAD").exists()

    checked = run("--repo", bank, "check")
    assert f"{OTHER_MERGE}: cases/2026/{case_id}.yaml" in checked.stderr

    # The fix the message gives, in each clone that has the rule: take it out, then sync.
    if where == ".gitattributes":
        for clone in (bank, center):
            (clone / ".gitattributes").write_text("cases/**/*.yaml merge=kitamono\n", encoding="utf-8")
    else:
        (bank / ".git" / "info" / "attributes").write_text("", encoding="utf-8")
    ok(network.sync(bank))
    ok(network.sync(center))
    for clone in (center, bank):
        assert follow_ups(clone, case_id) == BOTH
        assert ok(run("--repo", clone, "check")).stderr == ""


def test_check_looks_at_the_merge_rule_of_every_case_file(network, run):
    center, _bank, _case_id = shared_case(network, run)
    other = network.new(center, "株式会社帯広精機")
    assert ok(run("--repo", center, "check")).stderr == ""
    (center / ".git" / "info" / "attributes").write_text(f"cases/2026/{other}.yaml merge=union\n", encoding="utf-8")
    checked = run("--repo", center, "check")
    assert checked.exit_code == 0  # a warning: the cases themselves are fine
    assert checked.stderr.count("\n") == 1
    assert f"{OTHER_MERGE}: cases/2026/{other}.yaml。" in checked.stderr


@pytest.mark.heavy
@pytest.mark.parametrize("meanwhile", [False, True], ids=["as-git-left-it", "with-an-event-recorded-meanwhile"])
def test_resuming_a_merge_git_left_unfinished_merges_the_cases_with_kitamono(network, run, meanwhile):
    center, bank, case_id = shared_case(network, run)
    follow_up_on_both(network, run, center, bank, case_id)
    ok(network.sync(bank))  # the bank's follow-up is committed (and pushed)
    ok(run("--repo", center, "case", "follow-up", case_id, "--date", "2026-11-20", "--note", "見積りを受領"))
    ok(network.sync(center))
    ok(run("--repo", bank, "case", "follow-up", case_id, "--date", "2026-11-12", "--note", "資金繰りの相談"))
    git(bank, "commit", "-qam", "memo")
    # The driver's program has gone (Python moved), and the person runs a plain git pull.
    git(bank, "config", "merge.kitamono.driver", "/nowhere/python -m kitamono merge-driver %O %A %B %P")
    pulled = subprocess.run(["git", "-C", str(bank), "pull", "-q", "--no-rebase"], capture_output=True, text=True)
    assert pulled.returncode != 0 and git(bank, "status", "--porcelain") == f"UU cases/2026/{case_id}.yaml\n"
    if meanwhile:  # recorded while the merge waits: written into this clone's version
        ok(run("--repo", bank, "case", "follow-up", case_id, "--date", "2026-11-25", "--note", "再訪問"))
    ok(run("init", bank, "--git-config"))

    result = ok(network.sync(bank))
    assert "push しました" in result.stderr
    ok(network.sync(center))
    expected = [("2026-11-05", "電話で確認"), ("2026-11-10", "工場を訪問"), ("2026-11-12", "資金繰りの相談"),
                ("2026-11-20", "見積りを受領")] + ([("2026-11-25", "再訪問")] if meanwhile else [])  # fmt: skip
    for clone in (center, bank):
        assert follow_ups(clone, case_id) == expected
        assert ok(run("--repo", clone, "check")).stdout == ""
    assert git(bank, "status", "--porcelain") == ""


def test_a_merge_stopped_by_a_missing_driver_is_finished_by_sync_itself(network, run, tmp_path):
    center, bank, case_id = shared_case(network, run)
    follow_up_on_both(network, run, center, bank, case_id)
    git(bank, "commit", "-qam", "memo")
    # A driver command that fails without a word: git cannot tell it from a conflict.
    git(bank, "config", "merge.kitamono.driver", "false")
    result = ok(network.sync(bank))
    assert "push しました" in result.stderr
    ok(network.sync(center))
    for clone in (center, bank):
        assert follow_ups(clone, case_id) == BOTH


def test_a_conflict_resolved_during_a_merge_is_not_brought_back(network, run, monkeypatch):
    center, bank, case_id = shared_case(network, run)
    ok(network.edit(center, case_id, {"title": "殺菌工程と検査"}, monkeypatch))
    ok(network.edit(bank, case_id, {"title": "検査方法の相談"}, monkeypatch))
    follow_up_on_both(network, run, center, bank, case_id)
    stopped = network.sync(bank)
    assert stopped.exit_code == 1 and "件名 (title)" in stopped.stderr
    ok(network.edit(bank, case_id, {"title": "検査方法の相談", "conflicts": None}, monkeypatch))
    ok(network.sync(bank))
    ok(network.sync(center))
    for clone in (center, bank):
        data = cases_in(clone)[case_id]
        assert data["title"] == "検査方法の相談" and "conflicts" not in data
        assert follow_ups(clone, case_id) == BOTH


# --- the lock: local work under it, the network outside -------------------------------------------------

PROBE = """#!{python}
import sys
from filelock import FileLock, Timeout
lock = FileLock({lock!r})
try:
    lock.acquire(timeout=0)
    lock.release()
    state = "free"
except Timeout:
    state = "held"
with open({log!r}, "a", encoding="utf-8") as handle:
    handle.write(sys.argv[0].rsplit("/", 1)[-1] + " " + state + "\\n")
"""


def test_sync_holds_the_write_lock_while_it_commits_and_merges_but_not_on_the_network(network, run, tmp_path):
    center, bank, case_id = shared_case(network, run)
    follow_up_on_both(network, run, center, bank, case_id)
    log = tmp_path / "hooks.log"
    for hook in ("pre-commit", "post-merge", "pre-push"):
        path = bank / ".git" / "hooks" / hook
        path.write_text(PROBE.format(python=sys.executable, lock=str(bank / ".kitamono" / "write.lock"), log=str(log)),
                        encoding="utf-8")  # fmt: skip
        path.chmod(0o755)
    ok(network.sync(bank))
    assert log.read_text(encoding="utf-8").splitlines() == ["pre-commit held", "post-merge held", "pre-push free"]


# --- 4. temporary files and this clone's own folder ---------------------------------------------------


def test_temporary_files_and_the_clones_own_folder_are_never_staged(network, run):
    center = network.center()
    case_id = network.new(center, "株式会社十勝チーズ工房")
    leftover = case_path(center, case_id).with_name(f".{case_id}.yaml.k2x9.tmp")
    leftover.write_text(case_path(center, case_id).read_text(encoding="utf-8"), encoding="utf-8")
    # The tracked .gitignore emptied (a careless edit): this clone's own exclude rules still hold.
    (center / ".gitignore").write_text("", encoding="utf-8")
    ok(network.sync(center))
    assert f"cases/2026/{case_id}.yaml" in remote_files(network)
    assert not [p for p in remote_files(network) if p.endswith(".tmp") or p.startswith(".kitamono")]
    assert not [p for p in git(center, "ls-files").split() if p.endswith(".tmp") or p.startswith(".kitamono")]


def test_init_and_sync_keep_the_clones_exclude_rules(network, run):
    center = network.center()
    exclude = center / ".git" / "info" / "exclude"
    lines = exclude.read_text(encoding="utf-8").splitlines()
    assert ".kitamono/" in lines and "*.tmp" in lines
    bank = network.clone("bank", "hokuyo")
    assert {".kitamono/", "*.tmp"} <= set((bank / ".git" / "info" / "exclude").read_text(encoding="utf-8").splitlines())
    exclude.write_text("# mine\n*.bak\n", encoding="utf-8")
    ok(network.sync(center))
    assert exclude.read_text(encoding="utf-8") == "# mine\n*.bak\n.kitamono/\n*.tmp\n"


# --- 5. data_dir and tracked .kitamono files -----------------------------------------------------------


def test_a_shared_data_dir_pointing_into_kitamono_never_pushes_the_clones_own_files(network, run):
    center, bank, case_id = shared_case(network, run)
    ok(run("--repo", bank, "case", "follow-up", case_id, "--date", "2026-11-05"))
    (center / "kitamono.yaml").write_text("data_dir: ./.kitamono\n", encoding="utf-8")
    (center / ".gitignore").write_text("", encoding="utf-8")
    git(center, "commit", "-qam", "data in .kitamono")
    git(center, "push", "-q", "origin", "main")
    for _attempt in range(2):
        result = network.sync(bank)
        assert result.exit_code == 1
        assert not [p for p in remote_files(network) if ".kitamono" in p]
    assert "kitamono.yaml" in result.stderr and "data_dir" in result.stderr and "./.kitamono" in result.stderr
    assert not [p for p in git(bank, "ls-files").split() if ".kitamono" in p]


@pytest.mark.parametrize("value", ["/etc", "/", ".", "..", "./.kitamono", ".kitamono/data", ".git", "outside"])
def test_a_data_dir_outside_the_repository_is_one_clear_line(repo, run, tmp_path, value):
    (tmp_path / "elsewhere").mkdir()
    (repo / "outside").symlink_to(tmp_path / "elsewhere")  # a link in the repository that leaves it
    (repo / "kitamono.yaml").write_text(f"data_dir: {value}\n", encoding="utf-8")
    line = (
        f"{repo / 'kitamono.yaml'}: data_dir: "
        f"「{value}」はこのリポジトリの中のフォルダ(.kitamono と .git を除く)にしてください\n"
    )
    checked = run("check")  # check lists its problems on stdout
    assert checked.exit_code == 1 and checked.stdout == line
    listed = run("case", "list")
    assert listed.exit_code == 1 and listed.stderr == f"エラー: {line}"


def test_a_data_dir_inside_the_repository_still_works(repo, run):
    (repo / "data").mkdir()
    (repo / "kitamono.yaml").write_text("data_dir: data\n", encoding="utf-8")
    assert ok(run("check")).stdout == ""


def test_a_committed_kitamono_folder_is_never_merged_into_a_clone_and_stops_the_clone_that_tracks_it(network, run):
    center, bank, _case_id = shared_case(network, run)
    git(center, "add", "-f", ".kitamono/local.yaml")
    git(center, "commit", "-qm", "settings")
    git(center, "push", "-q", "origin", "main")
    local = (bank / ".kitamono" / "local.yaml").read_text(encoding="utf-8")

    refused = network.sync(bank)  # merging would replace the bank's own settings with the センター's
    assert refused.exit_code == 1 and refused.stderr.count("\n") == 1
    assert "共有リモート origin に .kitamono/ のファイルがコミットされています(.kitamono/local.yaml)" in refused.stderr
    assert (bank / ".kitamono" / "local.yaml").read_text(encoding="utf-8") == local
    assert yaml.safe_load(local) == {"institution": "hokuyo"}

    checked = run("--repo", center, "check")
    assert checked.exit_code == 0 and "git rm --cached -r .kitamono" in checked.stderr
    stopped = network.sync(center)
    assert stopped.exit_code == 1 and stopped.stderr.count("\n") == 1
    assert ".kitamono/local.yaml が git に登録されています" in stopped.stderr  # not this clone's own settings
    assert "git rm --cached -r .kitamono" in stopped.stderr
    git(center, "rm", "-q", "--cached", "-r", ".kitamono")
    ok(network.sync(center))
    assert not [p for p in remote_files(network) if ".kitamono" in p]
    ok(network.sync(bank))
    assert (bank / ".kitamono" / "local.yaml").read_text(encoding="utf-8") == local
    assert (center / ".kitamono" / "local.yaml").is_file()


def test_settings_brought_by_a_plain_git_pull_are_never_taken_as_this_clones_own(network, run):
    center, bank, case_id = shared_case(network, run)
    git(center, "add", "-f", ".kitamono/local.yaml")
    git(center, "commit", "-qm", "settings")
    git(center, "push", "-q", "origin", "main")
    git(bank, "pull", "-q", "--no-rebase", "origin", "main")  # by hand: git replaces the ignored file
    assert yaml.safe_load((bank / ".kitamono" / "local.yaml").read_text(encoding="utf-8")) == {"institution": "hro"}
    before = snapshot(bank)
    refused = network.run("--repo", bank, "case", "support", case_id)
    assert refused.exit_code == 1 and refused.stderr.count("\n") == 1
    assert ".kitamono/local.yaml が git に登録されています" in refused.stderr
    assert snapshot(bank) == before


# --- 14. messages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lang, expected",
    [
        ("ja", "エラー: 共有リモート origin に接続できません('{where}' does not appear to be a git repository)。"
               "変更はこの複製にコミット済みです。"
               "ネットワークにつながってから、もう一度 kitamono sync を実行してください\n"),
        ("en", "Error: Cannot reach the shared remote origin ('{where}' does not appear to be a git repository). "
               "Your changes are committed in this copy. Run kitamono sync again once you are online\n"),
    ],
)  # fmt: skip
def test_an_unreachable_remote_is_one_clean_line(network, run, tmp_path, monkeypatch, lang, expected):
    center = network.center()
    where = tmp_path / "nowhere.git"
    git(center, "remote", "set-url", "origin", str(where))
    monkeypatch.setenv("KITAMONO_LANG", lang)
    result = network.sync(center)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] + "\n" == expected.format(where=where)


def test_check_reports_a_driver_program_it_cannot_look_at(network, run, tmp_path):
    center = network.center()
    if os.geteuid() == 0:  # root reads every folder: a name too long for the file system instead
        program = tmp_path / ("x" * 300) / "python"
    else:
        closed = tmp_path / "closed"
        closed.mkdir()
        program = closed / "python"
        closed.chmod(0)
    try:
        git(center, "config", "merge.kitamono.driver", f"{program} -m kitamono merge-driver %O %A %B %P")
        checked = run("--repo", center, "check")
    finally:
        if os.geteuid() != 0:
            (tmp_path / "closed").chmod(0o755)
    assert checked.exit_code == 0
    assert checked.stderr == (
        f"注意: git に登録されたマージドライバのプログラム {program} を確認できません。"
        "kitamono init --git-config で登録し直してください\n"
    )
