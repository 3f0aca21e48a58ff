"""The JSON of every listing and report, pinned byte for byte on the demo cases.

Other tools read kitamono's JSON: its keys and shapes are an interface. Each command below runs
on a copy of the shipped demo repository (and ``log`` on a small git history made with fixed
dates) and must print exactly the file recorded under ``tests/pinned/``. The files were recorded
before the report builders were reshaped; a change to them is a change of interface and belongs
in its own commit, made on purpose with ``KITAMONO_RECORD_PINNED=1``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PINNED = Path(__file__).parent / "pinned"

COMMANDS: dict[str, tuple[str, ...]] = {
    "fields": ("fields",),
    "institutions": ("institutions",),
    "institutions-network": ("institutions", "--kind", "network"),
    "plans": ("plans",),
    "plans-food": ("plans", "--field", "food"),
    "municipalities-tokachi": ("municipalities", "--subprefecture", "十勝"),
    "case-list": ("case", "list"),
    "case-list-fy2021-supporting": ("case", "list", "--fy", "2021", "--status", "支援中"),
    "case-show": ("case", "show", "hro-2019-0001"),
    "case-history": ("case", "history", "hro-2019-0001"),
    "route-case": ("route", "hro-2019-0001"),
    "route-text": ("route", "--text", "チーズの殺菌装置を導入したい。設備資金の融資も相談したい",
                   "--municipality", "帯広市"),
    "targets": ("targets",),
    "targets-hokuyo": ("targets", "--institution", "北洋銀行"),
    "followups": ("followups",),
    "followups-as-of": ("followups", "--as-of", "2022-03-31"),
    "quarterly": ("report", "quarterly", "--fy", "2022", "--quarter", "3"),
    "quarterly-era": ("report", "quarterly", "--fy", "R2", "--quarter", "4", "--era"),
    "annual-2021": ("report", "annual", "--fy", "2021"),
    "annual-2024-as-of": ("report", "annual", "--fy", "2024", "--as-of", "2025-01-31"),
}


@pytest.fixture(scope="module")
def demo(demo_copy: Path) -> Path:
    return demo_copy


def check_pinned(name: str, text: str) -> None:
    path = PINNED / f"{name}.json"
    if os.environ.get("KITAMONO_RECORD_PINNED") == "1":
        PINNED.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"nothing pinned for {name}"
    assert text == path.read_text(encoding="utf-8"), f"the JSON of {name} changed"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_report_json_is_what_it_was(name: str, demo: Path, run):
    result = run("--repo", demo, *COMMANDS[name], "--format", "json")
    assert result.exit_code == 0, result.stderr
    check_pinned(name, result.stdout)


def _numbered_commits(text: str) -> str:
    """Commit ids as <commit 1>, <commit 2>…: they change with anything ``init`` commits."""
    seen: dict[str, str] = {}
    return re.sub(r"\b[0-9a-f]{40}\b", lambda m: seen.setdefault(m[0], f"<commit {len(seen) + 1}>"), text)


def test_log_json_is_what_it_was(tmp_path: Path, run, monkeypatch: pytest.MonkeyPatch):
    config = tmp_path / "gitconfig"
    config.write_text("[init]\n\tdefaultBranch = main\n", encoding="utf-8")
    fixed = {
        "GIT_CONFIG_GLOBAL": str(config), "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "道総研 太郎", "GIT_AUTHOR_EMAIL": "taro@example.org",
        "GIT_COMMITTER_NAME": "道総研 太郎", "GIT_COMMITTER_EMAIL": "taro@example.org",
        "GIT_AUTHOR_DATE": "2026-11-01T10:00:00+09:00", "GIT_COMMITTER_DATE": "2026-11-01T10:00:00+09:00",
    }  # fmt: skip
    for key, value in fixed.items():
        monkeypatch.setenv(key, value)
    repo = tmp_path / "repo"
    assert run("init", repo, "--institution", "hro").exit_code == 0
    for year in ("2020", "2021"):
        shutil.copytree(ROOT / "cases" / year, repo / "cases" / year)
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True, capture_output=True)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "デモ案件"], check=True, capture_output=True)
    for when, args in (
        (
            "2026-11-02T10:00:00+09:00",
            ("case", "follow-up", "okhotsk-2020-0001", "--date", "2026-11-02", "--note", "近況を確認"),
        ),
        (
            "2026-11-03T10:00:00+09:00",
            ("case", "refer", "hakodate-2021-0002", "--to", "北洋銀行", "--date", "2026-11-03"),
        ),
    ):
        monkeypatch.setenv("GIT_AUTHOR_DATE", when)
        monkeypatch.setenv("GIT_COMMITTER_DATE", when)
        result = run("--repo", repo, *args)
        assert result.exit_code == 0, result.stderr
        subprocess.run(["git", "-C", str(repo), "commit", "-qam", " ".join(args[:2])], check=True, capture_output=True)
    for name, args in (("log-all", ()), ("log-case", ("okhotsk-2020-0001",))):
        result = run("--repo", repo, "log", *args, "--format", "json")
        assert result.exit_code == 0, result.stderr
        check_pinned(name, _numbered_commits(result.stdout))
