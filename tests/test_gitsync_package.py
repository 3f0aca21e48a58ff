"""Working together over git, as a package: git run from one low module, every public name where
its module says, the merge rules shared by name, and auto-commit heard from every writing command.
"""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import kitamono
from test_sync import git, git_env, ok  # noqa: F401 - git_env is a fixture used below

SOURCE = Path(kitamono.__file__).parent
#: What sync, the log, the driver and the merge rules are made of.
GIT_MODULES = [p for p in sorted(SOURCE.rglob("*.py")) if p.relative_to(SOURCE).parts[0].split(".")[0] in
               ("gitsync", "merge", "repository")]  # fmt: skip


def test_running_git_needs_nothing_above_it():
    """The store asks git whether it tracks a file: that must not load sync, the log or the merge
    rules, which all stand on the store."""
    shown = "import sys, kitamono.gitsync.git; print(sorted(m for m in sys.modules if m.startswith('kitamono')))"
    loaded = subprocess.run([sys.executable, "-c", shown], capture_output=True, text=True, check=True).stdout
    expected = ["kitamono", "kitamono.errors", "kitamono.gitsync", "kitamono.gitsync.git", "kitamono.i18n"]
    assert loaded.strip() == str(expected)


def test_every_public_name_is_the_one_its_module_defines():
    """Even once every module of the package is imported (a module named like a function it
    exports would then stand in the function's place)."""
    from kitamono import gitsync

    for path in (SOURCE / "gitsync").glob("*.py"):
        importlib.import_module(f"kitamono.gitsync.{path.stem}" if path.stem != "__init__" else "kitamono.gitsync")
    assert {"sync", "history", "auto_commit", "GitError", "History", "LogEntry", "SyncResult", "Change"} <= set(
        gitsync.__all__
    )
    for name in gitsync.__all__:
        owner = importlib.import_module(f"kitamono.gitsync.{gitsync._OWNER[name]}")
        assert getattr(gitsync, name) is getattr(owner, name), name
        assert not isinstance(getattr(gitsync, name), type(gitsync)), name


def _imported_names(path: Path) -> list[tuple[str, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kitamono"):
            found += [(node.module, alias.name) for alias in node.names]
    return found


@pytest.mark.parametrize("path", GIT_MODULES, ids=lambda p: p.relative_to(SOURCE).as_posix())
def test_what_a_module_shares_it_shares_by_a_public_name(path):
    private = [f"{module}.{name}" for module, name in _imported_names(path) if name.startswith("_")]
    assert not private


def test_conflict_markers_are_recognised_in_one_place():
    pattern = re.compile(r"re\.compile\(r?[\"']\^\(<\{7\}")
    holders = [p.relative_to(SOURCE).as_posix() for p in SOURCE.rglob("*.py") if pattern.search(p.read_text("utf-8"))]
    assert len(holders) == 1, holders


# --- auto-commit: every writing command says what kept it from committing ----------------------------

LOG = "受付日,受付機関,受付経路,会社名,市町村,件名\n2026/11/2,道総研,来訪,株式会社帯広精機,帯広市,検査装置の試作\n"


@pytest.fixture
def merging(tmp_path: Path, git_env, run, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository with ``auto_commit: true`` and one case, stopped in a merge git could not finish."""
    path = tmp_path / "repo"
    ok(run("init", path, "--institution", "hro"))
    monkeypatch.setenv("KITAMONO_REPO", str(path))
    (path / "kitamono.yaml").write_text("auto_commit: true\n", encoding="utf-8")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "start")
    ok(run("case", "new", "--no-input", "--company", "株式会社十勝チーズ工房", "--municipality", "帯広市",
           "--title", "新しいチーズの開発と販売", "--received-by", "hro", "--channel", "visit",
           "--summary", "新しいチーズの試作から、首都圏への販路開拓、工場の設備投資の融資まで相談したい。",
           "--received-on", "2026-11-20"))  # fmt: skip
    git(path, "checkout", "-q", "-b", "other")
    _commit_memo(path, "支店の下書き\n")
    git(path, "checkout", "-q", "main")
    _commit_memo(path, "センターの下書き\n")
    stopped = subprocess.run(["git", "-C", str(path), "merge", "-q", "other"], capture_output=True, check=False)
    assert stopped.returncode == 1 and (path / ".git" / "MERGE_HEAD").is_file()
    (tmp_path / "log.csv").write_text(LOG, encoding="utf-8")
    return path


def _commit_memo(path: Path, text: str) -> None:
    (path / "memo.txt").write_text(text, encoding="utf-8")
    git(path, "add", "memo.txt")
    git(path, "commit", "-q", "-m", "memo")


WRITING_COMMANDS = {
    "case new": ["case", "new", "--no-input", "--company", "株式会社釧路水産", "--municipality", "釧路市",
                 "--title", "冷凍設備の更新資金", "--received-on", "2026-11-21", "--channel", "phone"],
    "case start": ["case", "start", "hro-2026-0001", "--lead", "hro", "--date", "2026-11-25"],
    "route --apply": ["route", "hro-2026-0001", "--apply", "--yes", "--team"],  # a team: something to record
    "import": ["import", "{log}"],
}  # fmt: skip


@pytest.mark.parametrize("command", WRITING_COMMANDS)
def test_every_writing_command_says_why_it_did_not_commit(merging, run, command):
    head = git(merging, "rev-parse", "HEAD")
    args = [arg.replace("{log}", str(merging.parent / "log.csv")) for arg in WRITING_COMMANDS[command]]
    result = ok(run(*args))
    assert "注意: マージの途中のため自動コミットしませんでした。kitamono sync で競合を解決すると一緒に" in result.stderr
    assert git(merging, "rev-parse", "HEAD") == head and (merging / ".git" / "MERGE_HEAD").is_file()
    assert git(merging, "status", "--porcelain", "--", "cases")  # written, waiting for the merge's commit


def test_init_inside_a_git_hook_makes_the_new_repository_its_own_git(tmp_path, git_env, run, monkeypatch):
    """A hook exports GIT_DIR: ``init`` run from one must not take that repository for its own."""
    hooked = tmp_path / "hooked"
    git(tmp_path, "init", "-q", str(hooked))
    before = sorted(p.name for p in (hooked / ".git").iterdir())
    monkeypatch.setenv("GIT_DIR", str(hooked / ".git"))
    monkeypatch.chdir(tmp_path)
    ok(run("init", tmp_path / "new", "--institution", "hro"))
    monkeypatch.delenv("GIT_DIR")
    assert git(tmp_path / "new", "rev-parse", "--show-toplevel").strip() == str((tmp_path / "new").resolve())
    assert "kitamono" in git(tmp_path / "new", "config", "--get", "merge.kitamono.driver")
    assert sorted(p.name for p in (hooked / ".git").iterdir()) == before
