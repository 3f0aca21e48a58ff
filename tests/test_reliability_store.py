"""Never lose an event, never leave the repository: concurrent writers, links, ids, leftovers.

Each test is a way a case was lost or a file was reached that should not be: several processes
(and threads) recording on one case at once, an edit saved over an event recorded meanwhile,
a symbolic link under ``cases/``, an id that is a pattern or a path, a temporary file left by a
killed write, a read-only ``.kitamono/``, two files with one id, a file changed behind the
index's back, a read-only case file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest

from conftest import snapshot
from kitamono import store
from kitamono.caseio import load_case_file
from kitamono.casework import record_event
from kitamono.models import Case, Event
from kitamono.reference import load_reference

KITAMONO = [sys.executable, "-m", "kitamono"]


def kitamono(*args: str, **options) -> subprocess.CompletedProcess:
    """The real command in its own process (the quick count in ``launch`` included)."""
    return subprocess.run([*KITAMONO, *args], capture_output=True, text=True, timeout=120, **options)


def case_file(repo: Path, case_id: str) -> Path:
    return repo / "cases" / case_id.split("-")[1] / f"{case_id}.yaml"


def notes_of(repo: Path, case_id: str) -> list[str]:
    case = load_case_file(case_file(repo, case_id))
    return [e.note for e in case.events if e.type == "supported"]


def one_line(stderr: str) -> bool:
    return stderr.count("\n") == 1 and stderr.startswith("エラー: ")


@pytest.fixture
def started(repo, run, new_case) -> str:
    """A case whose support has started, so that any number of 支援 events may follow."""
    case_id = new_case()
    assert run("case", "start", case_id, "--lead", "hro").exit_code == 0
    return case_id


# --- 1. concurrent writers --------------------------------------------------------------------------


def test_events_recorded_at_once_by_several_processes_are_all_kept(repo, run, started):
    processes = [
        subprocess.Popen([*KITAMONO, "case", "support", started, "--note", f"n{k}"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for k in range(8)
    ]  # fmt: skip
    results = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0] * 8, [err for _, err in results]
    assert sorted(notes_of(repo, started)) == [f"n{k}" for k in range(8)]
    assert run("check").exit_code == 0


def test_a_writer_waits_while_git_holds_the_clone_index(repo, run, started):
    """A merge or checkout holds ``.git/index.lock`` while it writes case files (git run by hand,
    or left running by a killed ``sync``): an event recorded then would be overwritten."""
    (repo / ".git" / "index.lock").write_text("", encoding="utf-8")
    before = case_file(repo, started).read_bytes()
    writer = subprocess.Popen([*KITAMONO, "case", "support", started, "--note", "待った"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            writer.wait(timeout=2)
        assert case_file(repo, started).read_bytes() == before
    finally:
        (repo / ".git" / "index.lock").unlink()
    _, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    assert notes_of(repo, started) == ["待った"]


def test_events_recorded_at_once_by_several_threads_are_all_kept(repo, started):
    repository = store.open_repository(repo)
    ref = load_reference(None)
    go = threading.Barrier(8)
    failures: list[BaseException] = []

    def record(k: int) -> None:
        go.wait()
        try:
            event = Event(type="supported", date=date(2026, 11, 28), by="hro", note=f"t{k}")
            record_event(repository, started, event, ref, date(2026, 11, 28))
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=record, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert sorted(notes_of(repo, started)) == [f"t{k}" for k in range(8)]


def _editor(tmp_path: Path, body: str) -> str:
    script = tmp_path / "editor.py"
    script.write_text("import subprocess, sys, pathlib\np = pathlib.Path(sys.argv[1])\n" + body, encoding="utf-8")
    return f"{sys.executable} {script}"


def test_an_edit_is_not_saved_over_an_event_recorded_while_the_editor_was_open(repo, run, started, tmp_path,
                                                                                monkeypatch):  # fmt: skip
    # While the editor is open, a colleague's kitamono records an event on the same case.
    record = [*KITAMONO, "case", "support", started, "--note", "meanwhile"]
    monkeypatch.setenv("EDITOR", _editor(tmp_path, (
        f"assert subprocess.run({record!r}).returncode == 0\n"
        "p.write_text(p.read_text().replace('株式会社十勝チーズ工房', '株式会社とかちチーズ'))\n"
    )))  # fmt: skip
    result = run("case", "edit", started)
    assert result.exit_code == 1 and one_line(result.stderr)
    assert "変更されました" in result.stderr
    assert notes_of(repo, started) == ["meanwhile"]  # the colleague's event is kept
    kept = repo / ".kitamono" / "rejected" / f"{started}.yaml"
    assert str(kept) in result.stderr and "株式会社とかちチーズ" in kept.read_text(encoding="utf-8")
    assert "株式会社十勝チーズ工房" in case_file(repo, started).read_text(encoding="utf-8")


# --- 3. symbolic links under cases/ -------------------------------------------------------------------


def test_a_new_case_is_never_written_through_a_linked_year_folder(repo, run, new_case, tmp_path):
    new_case()
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / "cases" / "2025").symlink_to(outside)
    before = snapshot(repo)
    result = run("case", "new", "--no-input", "--company", "株式会社札幌精機", "--municipality", "札幌市",
                 "--title", "加工の相談", "--received-on", "2025-05-01", "--channel", "visit")  # fmt: skip
    assert result.exit_code == 1 and one_line(result.stderr)
    assert "cases/2025" in result.stderr and "シンボリックリンク" in result.stderr
    assert list(outside.iterdir()) == [] and snapshot(repo) == before
    checked = run("check")
    assert checked.exit_code == 1 and "cases/2025: " in checked.stdout and "シンボリックリンク" in checked.stdout


def test_a_linked_case_file_is_named_and_never_read_or_written_through(repo, run, new_case, tmp_path):
    real = new_case()
    outside = tmp_path / "elsewhere.yaml"
    outside.write_bytes(case_file(repo, real).read_bytes().replace(real.encode(), b"hro-2019-0009"))
    (repo / "cases" / "2019" / "hro-2019-0009.yaml").symlink_to(outside)
    before = outside.read_bytes()
    for args in (["case", "show", "hro-2019-0009"], ["case", "start", "hro-2019-0009", "--lead", "hro"]):
        result = run(*args)
        assert result.exit_code == 1 and one_line(result.stderr) and "シンボリックリンク" in result.stderr
    assert outside.read_bytes() == before
    refused = run("case", "list", "--format", "json")  # named as a damaged file is
    assert refused.exit_code == 1 and "hro-2019-0009.yaml" in refused.stderr
    listing = run("case", "list", "--format", "json", "--allow-damaged")  # the rest listed, the link named
    data = json.loads(listing.stdout)
    assert [c["id"] for c in data["rows"]] == [real]
    assert [(f["path"], "シンボリックリンク" in f["problem"]) for f in data["problems"]["files"]] == [
        ("cases/2019/hro-2019-0009.yaml", True)
    ]
    counted = kitamono("case", "list", "--count", "--allow-damaged")  # the count does not count through the link
    assert (counted.returncode, counted.stdout) == (0, "1\n") and "1件" in counted.stderr
    checked = run("check")
    assert checked.exit_code == 1 and "cases/2019/hro-2019-0009.yaml: " in checked.stdout


# --- 4. temporary files of an interrupted write -------------------------------------------------------


def test_leftovers_of_interrupted_writes_are_reported_and_then_removed(repo, run, started):
    folder = case_file(repo, started).parent
    old = folder / f".{started}.yaml.k1ll3d0x.tmp"
    fresh = folder / f".{started}.yaml.wr1t1ng0.tmp"  # as if another writer were at work right now
    for path in (old, fresh):
        path.write_text(case_file(repo, started).read_text(encoding="utf-8"), encoding="utf-8")
    then = time.time() - 3600
    os.utime(old, (then, then))
    checked = run("check")
    assert checked.exit_code == 0  # a leftover loses nothing: a warning, named
    assert f"cases/2019/{old.name}: " in checked.stderr and f"cases/2019/{fresh.name}: " in checked.stderr
    assert run("case", "support", started).exit_code == 0  # the next writing command clears it
    assert not old.exists() and fresh.exists()


# --- 6./7. ids are ids, never patterns or paths -----------------------------------------------------

NOT_IDS = ["hro-*", "hro-2019-000?", "../kitamono", "/etc/passwd", "hro-２０１９-0001", "hro-2019-0001\n",
           "hro-٢٠١٩-0001", "cases/2019/hro-2019-0001"]  # fmt: skip


@pytest.mark.parametrize("given", NOT_IDS)
@pytest.mark.parametrize(
    "command",
    [["case", "show"], ["case", "history"], ["case", "close", "{}", "--outcome", "x"], ["route"], ["case", "edit"]],
)
def test_an_id_that_is_not_exactly_an_id_is_refused_before_any_file_is_looked_up(repo, run, new_case, given, command):
    new_case()
    before = snapshot(repo)
    args = [given if a == "{}" else a for a in command] if "{}" in command else [*command, given]
    result = run(*args)
    assert result.exit_code == 1 and one_line(result.stderr), result.stderr
    assert "案件IDの形ではありません" in result.stderr
    assert snapshot(repo) == before


@pytest.mark.parametrize("look_alike", ["hro-２０１９-0002", "hro-2019-0002\n", "hro-2019-٠٠٠٢"])
def test_a_look_alike_id_is_not_a_case_id_in_a_file_or_an_import(repo, run, new_case, tmp_path, look_alike):
    case_id = new_case()
    with pytest.raises(ValueError):
        Case.model_validate({**load_case_file(case_file(repo, case_id)).model_dump(), "id": look_alike})
    row = json.loads(run("export", "-f", "jsonl").stdout.splitlines()[0])
    source = tmp_path / "rows.jsonl"
    source.write_text(json.dumps({**row, "id": look_alike}, ensure_ascii=False) + "\n", encoding="utf-8")
    before = snapshot(repo)
    result = run("import", str(source))
    assert result.exit_code == 1
    assert snapshot(repo) == before and [p.name for p in (repo / "cases").iterdir() if p.is_dir()] == ["2019"]


# --- 11. a read-only .kitamono/ ---------------------------------------------------------------------------


def _without_root_powers() -> None:
    """Run as root without the powers that ignore file modes (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH,
    CAP_FOWNER), dropped from the bounding set before exec: the kernel then refuses writes as it
    would to any user, which ``chmod`` alone cannot show to root."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2, 3):
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl")


def as_a_user(*args: str) -> subprocess.CompletedProcess:
    """``kitamono args`` with file modes enforced: as this user, or as root without its powers."""
    preexec = _without_root_powers if os.geteuid() == 0 else None
    return subprocess.run([*KITAMONO, *args], capture_output=True, text=True, timeout=120, preexec_fn=preexec)


READING = [["case", "list"], ["check"], ["report", "quarterly", "--fy", "2019", "-q", "1"],
           ["report", "annual", "--fy", "2019"], ["targets"], ["followups"], ["case", "show", "{id}"]]  # fmt: skip


@pytest.mark.heavy
@pytest.mark.parametrize("mode", [0o555, 0o000])
def test_reading_commands_work_when_kitamono_folder_cannot_be_written(repo, run, started, mode):
    assert run("case", "list").exit_code == 0  # an index exists ...
    assert run("case", "support", started).exit_code == 0  # ... and is out of date
    local = repo / ".kitamono"
    before = snapshot(local)
    os.chmod(local, mode)
    try:
        probe = as_a_user("--version")  # the files' modes hold for these processes
        assert probe.returncode == 0
        denied = subprocess.run([sys.executable, "-c", f"open({str(local / 'probe')!r}, 'w')"], capture_output=True,
                                preexec_fn=_without_root_powers if os.geteuid() == 0 else None)  # fmt: skip
        assert denied.returncode == 1 and b"PermissionError" in denied.stderr
        for command in READING:
            result = as_a_user(*[started if a == "{id}" else a for a in command])
            assert result.returncode == 0, (command, result.stderr)
            assert "エラー" not in result.stderr and "Traceback" not in result.stderr
            if command[-1] != "{id}":  # every command that reads all cases says so, once
                assert result.stderr.count("書き込めないため、索引を使わずに") == 1, (command, result.stderr)
    finally:
        os.chmod(local, 0o755)
    assert snapshot(local) == before


# --- 12. ambiguous ids: counted by nobody, named by everybody ----------------------------------------

REFUSING = [["case", "list"], ["report", "quarterly", "--fy", "2019", "-q", "1"], ["report", "annual", "--fy", "2019"],
            ["targets"], ["followups"], ["export"]]  # fmt: skip


@pytest.mark.parametrize("kind", ["same id in two files", "id is not the file's name"])
def test_ambiguous_ids_stop_every_listing_report_and_export(repo, run, new_case, kind):
    first, second = new_case(), new_case(title="別の相談")
    assert run("case", "list").exit_code == 0  # the index is current before the clash appears
    if kind == "same id in two files":
        (repo / "cases" / "2020").mkdir()
        odd = repo / "cases" / "2020" / f"{first}.yaml"
        shutil.copy(case_file(repo, first), odd)
        named = [f"cases/2019/{first}.yaml", f"cases/2020/{first}.yaml"]
    else:
        odd = repo / "cases" / "2019" / "hro-2019-0042.yaml"
        shutil.copy(case_file(repo, second), odd)
        case_file(repo, second).unlink()
        named = ["cases/2019/hro-2019-0042.yaml"]
    for command in REFUSING:
        result = run(*command)
        assert result.exit_code == 1 and one_line(result.stderr), (command, result.stderr)
        assert all(path in result.stderr for path in named) and "kitamono check" in result.stderr
    counted = kitamono("case", "list", "--count")
    assert counted.returncode == 1 and one_line(counted.stderr)
    assert run("check").exit_code == 1
    odd.unlink()  # put right: every command works again
    assert run("case", "list").exit_code == 0 and kitamono("case", "list", "--count").returncode == 0


# --- 13. check reads the files --------------------------------------------------------------------------


def test_check_finds_a_file_changed_behind_the_index_back(repo, run, new_case):
    case_id = new_case()
    path = case_file(repo, case_id)
    then = time.time_ns() - 60 * 10**9
    os.utime(path, ns=(then, then))
    assert run("case", "list").exit_code == 0 and run("check").exit_code == 0  # the index knows the file
    info = path.stat()
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("channel: visit", "channel: vxsit"), encoding="utf-8")  # same size
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert path.stat().st_size == info.st_size
    checked = run("check")
    assert checked.exit_code == 1 and f"cases/2019/{case_id}.yaml" in checked.stdout


# --- 14. a read-only case file --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", [["case", "refer", "{id}", "--to", "noastec"], ["route", "{id}", "--apply", "--yes"]]
)
def test_a_read_only_case_file_is_refused_not_replaced(repo, run, new_case, command):
    case_id = new_case(received_by="hokuyo")  # routing refers it to the center: an event to record
    path = case_file(repo, case_id)
    os.chmod(path, 0o444)
    before = path.read_bytes()
    result = run(*[case_id if a == "{id}" else a for a in command])
    assert result.exit_code == 1 and "読み取り専用" in result.stderr and str(path) in result.stderr
    assert path.read_bytes() == before and path.stat().st_mode & 0o777 == 0o444


def test_recording_keeps_the_case_file_permissions(repo, run, started):
    path = case_file(repo, started)
    os.chmod(path, 0o600)  # kept private by its owner: contacts are personal data
    assert run("case", "support", started).exit_code == 0
    assert path.stat().st_mode & 0o777 == 0o600
