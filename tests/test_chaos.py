"""Chaos: two clones, several kitamono processes at once, kills at random points.

Recorders log new inquiries and record support on shared cases in both clones while each clone
runs ``kitamono sync`` over and over; a killer sends SIGKILL to running kitamono processes at
random. Whatever a command reported as recorded (exit 0) must, after a final round of syncs, be
in both clones, and ``check`` must pass on both. The chaos runs as real processes over real git,
bounded by what it must prove (at least a dozen reported records and a few kills, about 10
seconds on a quiet machine) and, as a safety net only, by a generous time. Setting the clones up
before it and the syncs and checks after it, when nothing else runs, are the same commands run in
this process (over the same real git), which spares a dozen and a half process start-ups.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from conftest import Runner
from kitamono.cli import app

#: The chaos runs until this many records were reported and this many processes killed: a count,
#: not a time, so that a loaded machine (slower commands, more of them killed) proves as much.
ENOUGH_RECORDS = 12
ENOUGH_KILLS = 3
GIVE_UP_SECONDS = 240.0  # only so that a broken kitamono cannot hang the suite
TODAY = "2026-11-28"


def kitamono_env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "gitconfig"
    config.write_text("[init]\n\tdefaultBranch = main\n", encoding="utf-8")
    values = dict(os.environ)
    values.update({
        "GIT_CONFIG_GLOBAL": str(config), "GIT_CONFIG_NOSYSTEM": "1", "KITAMONO_TODAY": TODAY,
        "KITAMONO_LANG": "ja", "NO_COLOR": "1", "COLUMNS": "200",
        "GIT_AUTHOR_NAME": "検証 太郎", "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "検証 太郎", "GIT_COMMITTER_EMAIL": "t@example.org",
    })  # fmt: skip
    values.pop("KITAMONO_REPO", None)
    return values


class Chaos:
    """The processes of one run: started, watched, and killed at random."""

    def __init__(self, env: dict[str, str], seed: int) -> None:
        self.env = env
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.running: set[subprocess.Popen] = set()
        self.kills = 0
        self.stop = threading.Event()

    def kitamono(self, clone: Path, *args: str) -> subprocess.CompletedProcess:
        """Run one command to its end (or its kill); what it printed and how it ended."""
        process = subprocess.Popen(
            [sys.executable, "-m", "kitamono", "--repo", str(clone), *args],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        with self.lock:
            self.running.add(process)
        try:
            out, err = process.communicate(timeout=120)
        finally:
            with self.lock:
                self.running.discard(process)
        return subprocess.CompletedProcess(process.args, process.returncode, out, err)

    def alone(self, clone: Path, *args: str) -> subprocess.CompletedProcess:
        """The same command, run in this process while no other runs (before or after the chaos)."""
        with self.lock:
            assert not self.running
        result = Runner().invoke(app, ["--repo", str(clone), *args], env=self.env, catch_exceptions=False)
        return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)

    def killer(self) -> None:
        while not self.stop.wait(self.random.uniform(0.5, 1.5)):
            with self.lock:
                victims = sorted(self.running, key=lambda p: p.pid)
            if victims:
                victim = self.random.choice(victims)
                try:
                    victim.send_signal(signal.SIGKILL)
                    self.kills += 1
                except ProcessLookupError:
                    pass


def git(folder: Path, env: dict[str, str], *args: str) -> str:
    result = subprocess.run(["git", "-C", str(folder), *args], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


def notes_in(clone: Path) -> tuple[set[str], set[str]]:
    """The case ids and every event note held in a clone's case files."""
    ids: set[str] = set()
    notes: set[str] = set()
    for path in (clone / "cases").rglob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        ids.add(data["id"])
        notes.update(e["note"] for e in data["events"] if e.get("note"))
    return ids, notes


@pytest.mark.heavy
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_every_reported_record_survives_concurrent_writers_syncs_and_kills(tmp_path: Path):
    env = kitamono_env(tmp_path)
    chaos = Chaos(env, seed=int(os.environ.get("KITAMONO_CHAOS_SEED", "2026")))
    remote = tmp_path / "remote.git"
    git(tmp_path, env, "init", "-q", "--bare", str(remote))
    center, bank = tmp_path / "center", tmp_path / "bank"

    def must(clone: Path, *args: str) -> str:
        result = chaos.alone(clone, *args)
        assert result.returncode == 0, (args, result.stderr)
        return result.stdout.strip()

    must(tmp_path, "init", str(center), "--institution", "hro")
    git(center, env, "remote", "add", "origin", str(remote))
    shared = []
    for number in range(3):
        case_id = must(center, "case", "new", "--no-input", "--company", f"株式会社共有{number}",
                       "--municipality", "帯広市", "--title", "殺菌工程の見直し", "--received-on", "2026-10-01",
                       "--channel", "visit", "--field", "food")  # fmt: skip
        must(center, "case", "start", case_id, "--lead", "道総研", "--date", "2026-10-02")
        shared.append(case_id)
    must(center, "sync")
    git(tmp_path, env, "clone", "-q", str(remote), str(bank))
    must(tmp_path, "init", str(bank), "--institution", "hokuyo")
    must(bank, "sync")

    reported_notes: dict[str, Path] = {}
    reported_ids: set[str] = set()
    record_lock = threading.Lock()
    counter = iter(range(1_000_000))
    outcomes: list = []

    def recorder(clone: Path, name: str) -> None:
        while not chaos.stop.is_set():
            note = f"{name}-{next(counter)}"
            if chaos.random.random() < 0.3:
                args = ("case", "new", "--no-input", "--company", f"株式会社{note}", "--municipality", "旭川市",
                        "--title", "木製家具の強度試験", "--received-on", "2026-11-01", "--channel", "phone",
                        "--field", "monozukuri", "--note", note)  # fmt: skip
            else:
                args = ("case", "support", chaos.random.choice(shared), "--note", note)
            result = chaos.kitamono(clone, *args)
            outcomes.append(
                (result.returncode, result.stderr.strip().splitlines()[-1:] if result.returncode > 0 else [])
            )
            if result.returncode == 0:
                with record_lock:
                    reported_notes[note] = clone
                    if args[1] == "new":
                        reported_ids.add(result.stdout.strip())

    def syncer(clone: Path) -> None:
        while not chaos.stop.is_set():
            chaos.kitamono(clone, "sync")

    threads = [
        threading.Thread(target=recorder, args=(center, "c1")),
        threading.Thread(target=recorder, args=(center, "c2")),
        threading.Thread(target=recorder, args=(bank, "b1")),
        threading.Thread(target=recorder, args=(bank, "b2")),
        threading.Thread(target=syncer, args=(center,)),
        threading.Thread(target=syncer, args=(bank,)),
        threading.Thread(target=chaos.killer),
    ]
    for thread in threads:
        thread.start()
    started = time.monotonic()
    while time.monotonic() - started < GIVE_UP_SECONDS:
        with record_lock:
            enough = len(reported_notes) >= ENOUGH_RECORDS
        if enough and chaos.kills >= ENOUGH_KILLS:
            break
        time.sleep(0.2)
    chaos.stop.set()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads)

    # The dust settles: sync each clone until both hold the same history as the remote.
    for _ in range(4):
        for clone in (center, bank):
            result = chaos.alone(clone, "sync")
            assert result.returncode == 0, result.stderr
        heads = {git(c, env, "rev-parse", "HEAD").strip() for c in (center, bank)}
        if len(heads) == 1 and git(center, env, "status", "--porcelain", "--", "cases") == "":
            break
    assert len({git(c, env, "rev-parse", "HEAD").strip() for c in (center, bank)}) == 1

    assert chaos.kills > 0, "the run killed nothing: it proves nothing"
    assert len(reported_notes) >= ENOUGH_RECORDS, f"too few records were made to prove anything: {outcomes}"
    for clone in (center, bank):
        ids, notes = notes_in(clone)
        missing = sorted(set(reported_notes) - notes)
        assert not missing, f"{clone.name} lost {len(missing)} reported records: {missing[:5]}"
        assert reported_ids <= ids
        check = chaos.alone(clone, "check")
        assert check.returncode == 0, check.stdout + check.stderr
        tracked = git(clone, env, "ls-files").split()
        assert not [p for p in tracked if p.endswith(".tmp") or p.startswith(".kitamono/")]
