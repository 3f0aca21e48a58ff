"""Shared fixtures: a real case repository in a temporary folder, and the real CLI run on it.

``run("case", "list")`` invokes kitamono in-process exactly as a user would from a shell, with
the repository found through ``KITAMONO_REPO``, today fixed by ``KITAMONO_TODAY`` and a fixed
terminal width, and returns the result with stdout and stderr apart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kitamono.cli import app

TODAY = "2026-11-28"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"KITAMONO_TODAY": TODAY, "COLUMNS": "200", "KITAMONO_LANG": "ja", "NO_COLOR": "1"}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("KITAMONO_REPO", raising=False)
    monkeypatch.delenv("KITAMONO_DEBUG", raising=False)
    return values


@pytest.fixture
def make_repo(tmp_path: Path, env, runner: CliRunner) -> Callable[..., Path]:
    """Make a case repository with ``kitamono init`` (optionally for an institution)."""

    def make(name: str = "repo", institution: str | None = "hro") -> Path:
        path = tmp_path / name
        args = ["init", str(path)] + (["--institution", institution] if institution else [])
        result = runner.invoke(app, args, catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
        return path

    return make


@pytest.fixture
def repo(make_repo, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = make_repo()
    monkeypatch.setenv("KITAMONO_REPO", str(path))
    return path


@pytest.fixture
def run(runner: CliRunner, env) -> Callable[..., object]:
    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)

    return invoke


#: The index and the reference cache are rebuilt from the files at will; they are not user data.
CACHE_FILES = {
    ".kitamono/index.pickle", ".kitamono/index-delta.pickle", ".kitamono/reference.pickle", ".kitamono/settings.pickle",
}


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (but .git and the index) with a hash of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(folder).parts
        and str(p.relative_to(folder)) not in CACHE_FILES
    }


@pytest.fixture
def new_case(run) -> Callable[..., str]:
    """Log a case through the CLI and return its id."""

    def make(**options: str) -> str:
        values = {
            "company": "株式会社十勝チーズ工房",
            "municipality": "帯広市",
            "title": "ナチュラルチーズの殺菌工程の見直し",
            "summary": "新しい殺菌装置の導入にあたり、品質の検査方法を相談したい",
            "received-on": "2019-05-14",
            "received-by": "hro",
            "channel": "visit",
        }
        values.update({k.replace("_", "-"): v for k, v in options.items()})
        args = ["case", "new", "--no-input"]
        for key, value in values.items():
            args += [f"--{key}", value]
        result = run(*args)
        assert result.exit_code == 0, result.stderr
        return result.stdout.strip()

    return make
