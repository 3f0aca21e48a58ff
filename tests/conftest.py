"""Shared fixtures: a real case repository in a temporary folder, and the real CLI run on it.

``run("case", "list")`` invokes kitamono in-process exactly as a user would from a shell, with
the repository found through ``KITAMONO_REPO``, today fixed by ``KITAMONO_TODAY`` and a fixed
terminal width, and returns the result with stdout and stderr apart.

Two things are made once per test process and reused, because they cost more than most tests:
the Click command that Typer builds from kitamono's app (about 20 ms at every call otherwise), and
the repository that ``kitamono init`` makes, which ``make_repo`` copies instead of running ``init``
(with its ``git init`` and ``git config``) for every test. That repository has had one command run
in it, as any repository in use has, so its checked reference data is already cached in
``.kitamono/`` (sparing every test the 20 ms of reading the shipped YAML again); the case index is
not kept, so every test starts with none. Likewise the sync tests' first step (the センター's
``init`` and first push to a bare remote) is made once and copied for each test that needs it.

Tests marked ``heavy`` (each several seconds of processes or examples) are started first, so that
the parallel run does not end with one process still busy on one of them while the other waits.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import pytest
import typer
from typer.testing import CliRunner, Result

from kitamono.cli import app

TODAY = "2026-11-28"


class Runner(CliRunner):
    """Typer's CliRunner, building the command from a Typer app once instead of at every call.

    Everything else is as ``CliRunner.invoke``: the same isolated stdin/stdout/stderr and
    environment, the same exit codes, and exceptions raised with ``catch_exceptions=False``.
    """

    _commands: ClassVar[dict[int, tuple[typer.Typer, Any]]] = {}

    def invoke(  # type: ignore[override]
        self,
        app: typer.Typer,
        args: str | Sequence[str] | None = None,
        input: str | bytes | None = None,
        env: Mapping[str, str | None] | None = None,
        catch_exceptions: bool = True,
        color: bool = False,
        **extra: Any,
    ) -> Result:
        import shlex
        import sys

        known = self._commands.get(id(app))
        if known is None or known[0] is not app:
            known = self._commands[id(app)] = (app, typer.main.get_command(app))
        command = known[1]
        if isinstance(args, str):
            args = shlex.split(args)
        return_value, exception, exc_info, exit_code = None, None, None, 0
        with self.isolation(input=input, env=env, color=color) as (stdout, stderr, output):
            try:
                prog_name = extra.pop("prog_name", None) or self.get_default_prog_name(command)
                return_value = command.main(args=args or (), prog_name=prog_name, **extra)
            except SystemExit as error:
                exc_info = sys.exc_info()
                code = 0 if error.code is None else error.code
                if code != 0:
                    exception = error
                if not isinstance(code, int):
                    sys.stdout.write(f"{code}\n")
                    code = 1
                exit_code = code
            except Exception as error:
                if not catch_exceptions:
                    raise
                exception, exit_code, exc_info = error, 1, sys.exc_info()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                out, err, mixed = stdout.getvalue(), stderr.getvalue(), output.getvalue()
        return Result(runner=self, stdout_bytes=out, stderr_bytes=err, output_bytes=mixed,
                      return_value=return_value, exit_code=exit_code, exception=exception,
                      exc_info=exc_info)  # type: ignore[arg-type]  # fmt: skip


#: A folder in memory where the system has one: the suite makes about 40,000 small files (every
#: test's repository, clones and remotes), which a disk writes, syncs and later deletes slowly.
MEMORY_FOLDER = Path("/dev/shm")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Temporary folders in memory (unless ``--basetemp`` says where), one per run, removed after a
    run that passed; a failed run's folder is kept and named. Worker processes get theirs inside."""
    if hasattr(config, "workerinput") or config.option.basetemp or not os.access(MEMORY_FOLDER, os.W_OK):
        return
    config.option.basetemp = tempfile.mkdtemp(prefix="kitamono-tests-", dir=MEMORY_FOLDER)
    config.stash[_IN_MEMORY] = Path(config.option.basetemp)


_IN_MEMORY = pytest.StashKey[Path]()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    folder = session.config.stash.get(_IN_MEMORY, None)
    if folder is None:
        return
    if exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        shutil.rmtree(folder, ignore_errors=True)
    else:
        print(f"\nthe tests' temporary files are kept in {folder}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Heavy tests first (in their order), then the rest as collected."""
    items.sort(key=lambda item: item.get_closest_marker("heavy") is None)


@pytest.fixture
def runner() -> CliRunner:
    return Runner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"KITAMONO_TODAY": TODAY, "COLUMNS": "200", "KITAMONO_LANG": "ja", "NO_COLOR": "1"}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("KITAMONO_REPO", raising=False)
    monkeypatch.delenv("KITAMONO_DEBUG", raising=False)
    return values


@pytest.fixture(scope="session")
def _initialised(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str | None], Path]:
    """The repository ``kitamono init [--institution INST]`` makes, made once per institution."""
    made: dict[str | None, Path] = {}
    environment = {"KITAMONO_TODAY": TODAY, "KITAMONO_LANG": "ja", "KITAMONO_REPO": None, "KITAMONO_DEBUG": None}

    def template(institution: str | None) -> Path:
        if institution not in made:
            path = tmp_path_factory.mktemp("template") / "repo"
            args = ["init", str(path)] + (["--institution", institution] if institution else [])
            result = Runner().invoke(app, args, env=environment, catch_exceptions=False)
            assert result.exit_code == 0, result.stderr
            # One command, so that the reference cache is there as in any repository in use (one
            # made without an institution has no .kitamono/ folder, so no cache, as in use).
            result = Runner().invoke(app, ["--repo", str(path), "fields"], env=environment, catch_exceptions=False)
            assert result.exit_code == 0, result.stderr
            for name in CACHE_FILES - {".kitamono/reference.pickle"}:
                (path / name).unlink(missing_ok=True)
            made[institution] = path
        return made[institution]

    return template


@pytest.fixture
def make_repo(tmp_path: Path, env, runner: CliRunner, _initialised) -> Callable[..., Path]:
    """Make a case repository with ``kitamono init`` (optionally for an institution).

    A new folder gets a copy of what ``init`` made once in this test process (files written now,
    as ``init`` would); an existing folder gets ``init`` itself, which keeps what is there.
    """

    def make(name: str = "repo", institution: str | None = "hro") -> Path:
        path = tmp_path / name
        if path.exists():
            args = ["init", str(path)] + (["--institution", institution] if institution else [])
            result = runner.invoke(app, args, catch_exceptions=False)
            assert result.exit_code == 0, result.stderr
            return path
        shutil.copytree(_initialised(institution), path, symlinks=True, copy_function=shutil.copy)
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
    ".kitamono/index.pickle", ".kitamono/index-delta.pickle", ".kitamono/reference.pickle",
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


@pytest.fixture
def step(run) -> Callable[..., None]:
    """Record one event through the CLI: ``step("start", id, "--lead", "hro", date="2019-04-01")``."""

    def record(command: str, case_id: str, *args: str, date: str, by: str = "hro") -> None:
        result = run("case", command, case_id, *args, "--date", date, "--by", by)
        assert result.exit_code == 0, result.stderr

    return record


@pytest.fixture(scope="module")
def demo_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project's demo cases and settings (no clone settings: no ``init``)."""
    folder = tmp_path_factory.mktemp("demo")
    root = Path(__file__).resolve().parents[1]
    shutil.copytree(root / "cases", folder / "cases")
    shutil.copy(root / "kitamono.yaml", folder / "kitamono.yaml")
    return folder


@pytest.fixture(scope="session")
def _first_center(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The remote and the センター's folder as the sync tests' ``Network.center()`` makes them, made
    once per test process (``network`` gives each test a copy)."""
    from test_sync import Network  # the network the sync tests build (it imports this module)

    folder = tmp_path_factory.mktemp("network")
    with pytest.MonkeyPatch.context() as patch:
        config = folder / "gitconfig"
        config.write_text("[init]\n\tdefaultBranch = main\n", encoding="utf-8")
        values = {"GIT_CONFIG_GLOBAL": str(config), "GIT_CONFIG_NOSYSTEM": "1", "KITAMONO_TODAY": TODAY,
                  "KITAMONO_LANG": "ja", "COLUMNS": "200", "NO_COLOR": "1"}  # fmt: skip
        for key, value in values.items():
            patch.setenv(key, value)
        for who in ("AUTHOR", "COMMITTER"):
            patch.setenv(f"GIT_{who}_NAME", "道総研 太郎")
            patch.setenv(f"GIT_{who}_EMAIL", "taro@example.org")
        for key in ("KITAMONO_REPO", "KITAMONO_DEBUG", "VISUAL", "EDITOR"):
            patch.delenv(key, raising=False)
        runner = Runner()
        Network(folder, lambda *args: runner.invoke(app, [str(a) for a in args], catch_exceptions=False)).center()
    return folder


# --- kitamono web in its own process ---------------------------------------------------------------


def free_port() -> int:
    """A port no program listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def kitamono_web(*args: str) -> Iterator[tuple[subprocess.Popen, int]]:
    """``kitamono web`` on a free port in its own process (with ``args``; the repository from the
    environment), its messages on a pipe; stopped afterwards, however the block ends."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "kitamono", "web", "--port", str(port), *args],
                              stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        yield server, port
    finally:
        server.terminate()
        server.wait(timeout=10)
