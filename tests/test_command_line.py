"""The command line as Typer means it to be used: help in the user's language, choices that
``--help`` shows, and shell completion of the names users type.

Completion is asked for the way bash asks for it: the ``_KITAMONO_COMPLETE``, ``COMP_WORDS`` and
``COMP_CWORD`` variables set for a run of kitamono, which prints one offer a line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import typer
from typer.main import get_command

from kitamono.cli import app
from kitamono.i18n import catalogue

BASH = shutil.which("bash")


def _command_paths() -> list[list[str]]:
    paths: list[list[str]] = [[]]
    for name, command in get_command(app).commands.items():
        paths.append([name])
        paths += [[name, sub] for sub in getattr(command, "commands", {})]
    return paths


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_help_is_in_the_users_language(run, monkeypatch, lang):
    monkeypatch.setenv("KITAMONO_LANG", lang)
    for path in _command_paths():
        result = run(*path, "-h")
        assert result.exit_code == 0, path
        assert catalogue(lang)["opt.help"] in result.stdout, path
        assert "Show this message" not in result.stdout, path


def test_kitamono_leaves_typer_as_it_found_it(runner):
    """Another Typer app in the same process (a page over the same core, say) keeps Typer's own help."""
    other = typer.Typer(add_completion=False)

    @other.command()
    def hello() -> None:
        """Say hello."""

    result = runner.invoke(other, ["--help"])
    assert "Show this message and exit." in result.stdout


def test_the_choices_of_format_are_in_the_help_and_any_case_is_accepted(repo, run, new_case):
    assert "table|plain|markdown|csv|json|xlsx|html" in run("targets", "-h").stdout
    assert "[table|plain|markdown|csv|json]" in run("sync", "-h").stdout  # sync writes text only
    assert "[plain|json]" in run("check", "-h").stdout  # check writes its lines, or their JSON
    new_case()
    listed = run("case", "list", "--format", "JSON")
    assert listed.exit_code == 0 and listed.stdout.startswith("[")
    checked = run("check", "--format", "Json")
    assert (checked.exit_code, checked.stdout) == (0, "[]\n")


def test_the_format_choices_are_the_formats_kitamono_renders():
    from typing import get_args

    from kitamono.render import FORMATS
    from kitamono.reports.rows import Format, TextFormat

    assert get_args(Format) == FORMATS
    assert set(get_args(TextFormat)) == set(FORMATS) - {"xlsx", "html"}


def _complete(runner, words: list[str], env: dict[str, str] | None = None) -> list[str]:
    """What bash is offered for the last of ``words`` (an empty string completes a new word)."""
    variables = {
        "_KITAMONO_COMPLETE": "complete_bash",
        "COMP_WORDS": " ".join(words),
        "COMP_CWORD": str(len(words) - 1),
    }
    result = runner.invoke(app, [], env={**variables, **(env or {})}, prog_name="kitamono", catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return [line for line in result.stdout.splitlines() if line]


def test_bash_is_offered_the_municipality_in_a_real_process(repo):
    environment = {**os.environ, "_KITAMONO_COMPLETE": "complete_bash",
                   "COMP_WORDS": "kitamono case list --municipality 帯", "COMP_CWORD": "4",
                   "KITAMONO_REPO": str(repo)}  # fmt: skip
    result = subprocess.run([sys.executable, "-m", "kitamono"], env=environment, capture_output=True, text=True,
                            timeout=60, check=False)  # fmt: skip
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == ["帯広市"]


@pytest.mark.skipif(BASH is None, reason="bash is not installed")
def test_the_installed_bash_function_offers_the_municipality(repo, tmp_path):
    """The script ``--show-completion bash`` prints, run by bash as it runs it on Tab."""
    script = subprocess.run([sys.executable, "-m", "kitamono", "--show-completion", "bash"], capture_output=True,
                            text=True, timeout=60, check=True).stdout  # fmt: skip
    shim = tmp_path / "bin" / "kitamono"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m kitamono "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    asking = (
        script + "\nCOMP_WORDS=(kitamono case list --municipality 帯)\nCOMP_CWORD=4\n_kitamono_completion kitamono\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    environment = {**os.environ, "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}", "KITAMONO_REPO": str(repo)}
    result = subprocess.run([BASH, "--norc", "--noprofile", "-c", asking], env=environment, capture_output=True,
                            text=True, timeout=60, check=False)  # fmt: skip
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == ["帯広市"]


def test_install_completion_sets_up_bash(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    environment = {**os.environ, "HOME": str(home), "SHELL": "/bin/bash"}
    result = subprocess.run([sys.executable, "-m", "kitamono", "--install-completion", "bash"], env=environment,
                            capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "_KITAMONO_COMPLETE=complete_bash" in "".join(p.read_text() for p in home.rglob("*") if p.is_file())


def test_institutions_by_short_name_and_id(repo, runner, env):
    assert _complete(runner, ["kitamono", "case", "start", "x", "--lead", "道"]) == ["道総研", "道央産業振興財団"]
    assert _complete(runner, ["kitamono", "targets", "--institution", "hoku"]) == ["hokuyo", "hokudai"]
    assert "北洋銀行" in _complete(runner, ["kitamono", "case", "start", "x", "--lead", "hro", "--with", "北"])


def test_case_ids_from_the_repository(repo, runner, new_case):
    first, second = new_case(), new_case(received_on="2020-04-01")
    assert (first, second) == ("hro-2019-0001", "hro-2020-0001")
    assert _complete(runner, ["kitamono", "case", "show", "hro-2019"]) == [first]
    assert sorted(_complete(runner, ["kitamono", "case", "start", ""])) == [first, second]
    assert _complete(
        runner, ["kitamono", "--repo", str(repo), "log", "hro-2020"], env={"KITAMONO_REPO": None}
    ) == [second]


def test_fiscal_years_from_the_plans_first_to_this_one(repo, runner, new_case, monkeypatch):
    assert _complete(runner, ["kitamono", "report", "annual", "--fy", "R"]) == [
        f"R{n}" for n in range(1, 9)
    ]  # to FY2026
    monkeypatch.setenv("KITAMONO_TODAY", "2027-06-01")
    new_case(received_on="2027-06-01")  # logged on a clone whose clock is ahead: its 年度 is offered too
    monkeypatch.setenv("KITAMONO_TODAY", "2026-11-28")
    assert _complete(runner, ["kitamono", "report", "annual", "--fy", "R"]) == [f"R{n}" for n in range(1, 10)]
    assert _complete(runner, ["kitamono", "case", "list", "--fy", "201"]) == ["2017", "2018", "2019"]
    assert _complete(runner, ["kitamono", "case", "list", "--fy", "H"]) == ["H29", "H30"]
    assert _complete(runner, ["kitamono", "report", "quarterly", "--fy", "平成"]) == ["平成29年度", "平成30年度"]


def test_completion_outside_any_repository_still_knows_the_reference_data(runner, env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _complete(runner, ["kitamono", "plans", "--municipality", "帯"]) == ["帯広市"]
    assert _complete(runner, ["kitamono", "case", "show", "hro"]) == []  # no repository, no case ids, no error


def test_a_broken_data_file_offers_nothing_rather_than_an_error(repo, runner, env):
    (repo / "kitamono.yaml").write_text("data_dir: data\n", encoding="utf-8")
    (repo / "data").mkdir()
    (repo / "data" / "institutions.yaml").write_text("institutions: [\n", encoding="utf-8")
    assert _complete(runner, ["kitamono", "case", "list", "--institution", "h"]) == []


def test_help_still_loads_neither_rich_nor_pydantic():
    """``--help`` stays plain and quick: the modules it imports, as Python reports them."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "kitamono", "--help"], capture_output=True,
                            text=True, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 0 and "--install-completion" in result.stdout
    imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines() if "|" in line}
    assert "typer" in imported and not imported & {"rich", "pydantic", "yaml"}


def test_a_command_group_is_listed_with_its_whole_first_sentence():
    """Like a command, a group (``case``, ``report``) is listed by its first sentence, never cut short
    with "..." at a space; English help has spaces, and Typer keeps a group's help unset its own way."""
    environment = {**os.environ, "KITAMONO_LANG": "en", "COLUMNS": "200"}
    result = subprocess.run([sys.executable, "-m", "kitamono", "--help"], capture_output=True, text=True,
                            timeout=60, check=False, env=environment)  # fmt: skip
    assert result.returncode == 0, result.stderr
    listing = " ".join(result.stdout.split("Commands:")[1].split())
    assert ("case Register and view consultation cases; record referral, start of support, support, follow-up"
            " and closing. report Make the quarterly aggregation and the year-end review.") in listing  # fmt: skip
