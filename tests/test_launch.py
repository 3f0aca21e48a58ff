"""The quick answer to ``kitamono case list --count``: the same as the full command line's, or none.

The quick path runs in the installed command (``python -m kitamono``), so these tests run it as a
process and compare it with the full command line run in-process, on the same repository.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import free_port
from kitamono.launch import _count_options


def kitamono(*args: str, cwd: Path | None = None, repo: Path | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "KITAMONO_REPO"}
    if repo is not None:
        environment["KITAMONO_REPO"] = str(repo)
    return subprocess.run([sys.executable, "-m", "kitamono", *args], capture_output=True, text=True,
                          env=environment, cwd=cwd, timeout=120, check=False)  # fmt: skip


@pytest.fixture
def spread(repo, new_case) -> Path:
    """Five cases: two received in FY2019 (令和元年度), one in FY2018 (March 2019), two in FY2020."""
    for day in ("2019-05-14", "2019-12-01", "2019-03-31", "2020-04-01", "2021-02-10"):
        new_case(received_on=day, title=f"{day}の相談")
    return repo


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), 5),
        (("--fy", "2019"), 2),
        (("--fy=R1",), 2),
        (("--fy", "令和元年度"), 2),
        (("--fy", "2018"), 1),
        (("--fy", "FY2020"), 2),
        (("--fy", "2024"), 0),
    ],
)
def test_counts_match_the_full_command_line_and_the_cases(spread, run, args, expected):
    quick = kitamono("case", "list", "--count", *args, repo=spread)
    full = run("case", "list", "--count", *args)
    assert (quick.returncode, quick.stdout, quick.stderr) == (0, f"{expected}\n", "")
    assert full.stdout == quick.stdout


def test_the_quick_path_answers_without_the_command_line_framework(spread):
    then = time.time() - 60  # files older than the index, so that it trusts them (no parsing)
    for path in (spread / "cases").rglob("*.yaml"):
        os.utime(path, (then, then))
    assert kitamono("case", "list", "--count", repo=spread).stdout == "5\n"  # the index is now current
    code = (
        "import sys; from kitamono.launch import quick_count; "
        "print(repr(quick_count(['--repo', sys.argv[1], 'case', 'list', '--fy', '2019', '--count']))); "
        "print(sorted(m for m in ('typer', 'pydantic', 'yaml', 'rich') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code, str(spread)], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines() == ["'2\\n'", "[]"]


def test_repo_option_and_walking_up_from_a_folder(spread, tmp_path):
    assert kitamono("--repo", str(spread), "case", "list", "--count").stdout == "5\n"
    assert kitamono(f"--repo={spread}", "case", "list", "--count", "--fy", "2020").stdout == "2\n"
    assert kitamono("case", "list", "--count", cwd=spread / "cases").stdout == "5\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["case", "list"],
        ["case", "list", "--count", "--status", "支援中"],
        ["case", "list", "--count", "--fy"],
        ["case", "list", "--count", "--fy", "2019", "--fy", "2020"],
        ["case", "list", "--count", "--help"],
        ["case", "show", "--count"],
        ["--repo", "case", "list", "--count"],
        ["--repo="],
        ["--version", "case", "list", "--count"],
    ],
)
def test_anything_else_is_left_to_the_full_command_line(argv):
    assert _count_options(argv) is None


def test_errors_and_other_filters_are_answered_by_the_full_command_line(spread, run, new_case, tmp_path):
    bad = kitamono("case", "list", "--count", "--fy", "来年", repo=spread)
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "年度として読めません" in bad.stderr
    nowhere = kitamono("case", "list", "--count", cwd=tmp_path)
    assert nowhere.returncode == 1 and "リポジトリ" in nowhere.stderr and "Traceback" not in nowhere.stderr
    started = new_case(received_on="2020-05-01")
    assert run("case", "start", started, "--lead", "hro", "--date", "2020-06-01").exit_code == 0
    quick = kitamono("case", "list", "--count", "--status", "支援中", repo=spread)
    assert quick.stdout == run("case", "list", "--count", "--status", "支援中").stdout == "1\n"
    helped = kitamono("case", "list", "--count", "--help", repo=spread)
    assert helped.returncode == 0 and "--count" in helped.stdout


def test_an_unreadable_case_file_stops_the_count_as_the_full_command_does(spread, run):
    broken = spread / "cases" / "2019" / "hro-2019-0099.yaml"
    broken.write_text("id: [\n", encoding="utf-8")
    quick = kitamono("case", "list", "--count", repo=spread)
    full = run("case", "list", "--count")
    assert (quick.returncode, full.exit_code) == (1, 1) and quick.stdout == full.stdout == ""
    assert "hro-2019-0099.yaml" in quick.stderr and quick.stderr.startswith("エラー: ")
    assert quick.stderr == full.stderr
    allowed = kitamono("case", "list", "--count", "--allow-damaged", repo=spread)
    assert allowed.stdout == run("case", "list", "--count", "--allow-damaged").stdout == "5\n"
    assert allowed.stderr.startswith("注意: ") and "1件" in allowed.stderr


# --- kitamono web's quick start -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["web"], (None, 8470, "127.0.0.1", False)),
        (["web", "--port", "8471", "--open"], (None, 8471, "127.0.0.1", True)),
        (["--repo", "/r", "web", "--host=192.168.1.20", "--port=80"], ("/r", 80, "192.168.1.20", False)),
        (["web", "--help"], None),
        (["web", "--port"], None),
        (["web", "--port", "0"], None),
        (["web", "--port", "65536"], None),
        (["web", "--port", "８４７０"], None),  # the full command line says what it makes of it
        (["web", "--port", "8470", "--port", "8471"], None),
        (["web", "--host", "--open"], None),
        (["web", "--open=yes"], None),
        (["web", "extra"], None),
        (["--repo", "", "web"], None),
        (["case", "list"], None),
    ],
)
def test_only_the_plain_forms_of_kitamono_web_start_quickly(argv, expected):
    from kitamono.launch import _web_options

    assert _web_options(argv) == expected


def test_kitamono_web_starts_without_the_command_line_framework(repo, new_case):
    """The quick start serves the pages by the functions the full command calls; Typer never loads."""
    new_case()
    port = free_port()
    code = (
        "import re, sys, threading, urllib.request\n"
        "from werkzeug.serving import BaseWSGIServer\n"
        "def answer_once(self):\n"
        "    threading.Thread(target=self.handle_request).start()\n"
        f"    page = urllib.request.urlopen('http://127.0.0.1:{port}/', timeout=60).read().decode()\n"
        "    print('案件 1 件' in re.sub(r'<[^>]+>', '', page), flush=True)\n"
        "    print(sorted(m for m in ('typer', 'rich', 'tabulate') if m in sys.modules), flush=True)\n"
        "    raise KeyboardInterrupt\n"
        "BaseWSGIServer.serve_forever = answer_once\n"
        f"from kitamono.launch import quick_web; print(quick_web(['--repo', sys.argv[1], 'web', '--port', '{port}']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(repo)], capture_output=True, text=True, timeout=120)
    assert result.stdout.splitlines() == ["True", "[]", "True"], result.stderr  # the page, no Typer, served


@pytest.mark.parametrize("how", ["quick", "full"])
def test_a_port_in_use_is_one_line_and_nothing_is_read(repo, new_case, run, how):
    import socket

    new_case()
    for name in ("index.pickle", "index-delta.pickle"):
        (repo / ".kitamono" / name).unlink(missing_ok=True)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        if how == "quick":
            result = kitamono("web", "--port", port, repo=repo)
            code, out, err = result.returncode, result.stdout, result.stderr
        else:
            result = run("web", "--port", port)
            code, out, err = result.exit_code, result.stdout, result.stderr
    assert (code, out) == (1, "")
    assert err == (
        f"エラー: ポート {port} はほかのプログラムが使っています。"
        "そのプログラムを止めるか、--port で別の番号を指定してください\n"
    )
    assert not (repo / ".kitamono" / "index.pickle").exists()  # refused before any case was read


def test_a_host_that_names_no_address_is_one_line(repo):
    result = kitamono("web", "--host", "no-such-host.invalid", repo=repo)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "エラー: --host の no-such-host.invalid というアドレスが見つかりません。"
        "このパソコンのアドレス(例: 192.168.1.20)を指定してください\n"
    )


def test_the_server_collects_reference_cycles_again_once_the_cases_are_read(repo, new_case, monkeypatch):
    """The entry point pauses the cyclic collector for short commands; a server runs for days,
    so it turns it on again once the cases are read, with them frozen out of its scans."""
    import gc

    from werkzeug.serving import BaseWSGIServer

    from kitamono.store import Repository
    from kitamono.web.serve import listen, serve

    new_case()
    seen: list[tuple[bool, int]] = []

    def serve_forever(self) -> None:
        seen.append((gc.isenabled(), gc.get_freeze_count()))
        raise KeyboardInterrupt

    monkeypatch.setattr(BaseWSGIServer, "serve_forever", serve_forever)
    said: list[str] = []
    gc.disable()  # as kitamono's entry point does
    try:
        serve(Repository(repo), listen("127.0.0.1", 0), "127.0.0.1", False, tell=said.append)
    finally:
        gc.unfreeze()
        gc.enable()
    assert seen and seen[0][0] and seen[0][1] > 0
    assert said[-2:] == ["案件 1 件を読み込みました", "ページを閉じました"]


def test_a_server_stopped_before_any_page_still_writes_the_index(repo, new_case, monkeypatch):
    """The first load's index waits for the first page; a server stopped before one was asked for
    writes it as it stops, so that the next command finds it."""
    from werkzeug.serving import BaseWSGIServer

    from kitamono.store import Repository
    from kitamono.web.serve import listen, serve

    new_case()
    for name in ("index.pickle", "index-delta.pickle"):
        (repo / ".kitamono" / name).unlink(missing_ok=True)
    written_while_serving: list[bool] = []

    def serve_forever(self) -> None:
        written_while_serving.append((repo / ".kitamono" / "index.pickle").exists())
        raise KeyboardInterrupt

    monkeypatch.setattr(BaseWSGIServer, "serve_forever", serve_forever)
    try:
        serve(Repository(repo), listen("127.0.0.1", 0), "127.0.0.1", False, tell=lambda _: None)
    finally:
        import gc

        gc.unfreeze()
    assert written_while_serving == [False]
    assert (repo / ".kitamono" / "index.pickle").is_file()
