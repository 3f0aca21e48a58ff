"""kitamono's benchmark: whole commands on generated repositories, against floors and peers.

    python bench/run.py                       # 1,000, 10,000 and 100,000 cases
    python bench/run.py --sizes 1000,10000 --runs 5 --out bench/results.json

Every figure is the median of several runs of a whole process (start-up included), measured in
the same run as the floors it is compared with — ``python -c pass``, a minimal 10-command Typer
app's ``--help``, reading every case file's bytes, parsing them with ``yaml.CSafeLoader`` — and,
where installed, the peers (hledger ``bal -Q`` over a 10,000-transaction journal, Taskwarrior
``task count`` and ``task list`` over 10,000 tasks). The machines are shared and noisy, so the
goals are ratios. Repositories are generated in a temporary folder and removed afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import BENCH_TODAY, generate  # noqa: E402

KITAMONO = [sys.executable, "-m", "kitamono"]

MINIMAL_TYPER = """
import typer
app = typer.Typer()
def make(n):
    def command(name: str = "x", count: int = 1):
        '''A command.'''
    command.__name__ = f"command{n}"
    return command
for n in range(10):
    app.command(f"command{n}")(make(n))
app()
"""

READ_BYTES = """
import pathlib, sys
total = sum(len(p.read_bytes()) for p in pathlib.Path(sys.argv[1]).rglob("*.yaml"))
"""

PARSE_YAML = """
import pathlib, sys, yaml
for p in pathlib.Path(sys.argv[1]).rglob("*.yaml"):
    yaml.load(p.read_bytes(), Loader=yaml.CSafeLoader)
"""


def timed(command: list[str], env: dict[str, str], cwd: Path | None = None, prepare=None) -> tuple[float, int, int]:
    """(seconds, peak resident memory in KiB, exit code) of one whole process."""
    if prepare is not None:
        prepare()
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        error = process.stderr.read().decode(errors="replace").strip().splitlines()[-1:] if process.stderr else []
        print(f"    ! {' '.join(command[-4:])}: exit {process.returncode} {error}", file=sys.stderr)
    if process.stderr:
        process.stderr.close()
    return elapsed, usage.ru_maxrss, process.returncode


def summary(samples: list[tuple[float, int, int]]) -> dict:
    return {
        "median_s": statistics.median(s[0] for s in samples),
        "samples_s": [round(s[0], 4) for s in samples],
        "peak_kib": max(s[1] for s in samples),
        "ok": all(s[2] == 0 for s in samples),
    }


def median_of(command: list[str], env: dict[str, str], runs: int, prepare=None, cwd: Path | None = None) -> dict:
    return summary([timed(command, env, cwd, prepare) for _ in range(runs)])


def interleaved(entries: dict[str, tuple], runs: int) -> dict[str, dict]:
    """Run every entry (command, env[, prepare]) once a round, ``runs`` rounds: what is compared
    is measured side by side, so that a shared machine's changing speed falls on all alike."""
    samples: dict[str, list] = {name: [] for name in entries}
    for _ in range(runs):
        for name, (command, env, *prepare) in entries.items():
            samples[name].append(timed(command, env, prepare=prepare[0] if prepare else None))
    return {name: summary(found) for name, found in samples.items()}


def plain_env() -> dict[str, str]:
    """This environment, but with Python writing bytecode caches as an installed tool's would."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def compile_kitamono() -> None:
    """Compile kitamono's modules first (pip does so on install), so no run pays for it."""
    import kitamono

    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(kitamono.__file__).parent)], check=False)


def kitamono_env(repo: Path) -> dict[str, str]:
    env = {k: v for k, v in plain_env().items() if not k.startswith("KITAMONO_")}
    env.update({"KITAMONO_REPO": str(repo), "KITAMONO_TODAY": BENCH_TODAY, "COLUMNS": "120"})
    return env


def commands(repo: Path) -> dict[str, list[str]]:
    some_id = sorted((repo / "cases" / "2022").glob("*.yaml"))[0].stem
    return {
        "case show": [*KITAMONO, "case", "show", some_id, "--format", "plain"],
        "case list --fy": [*KITAMONO, "case", "list", "--fy", "2022", "--format", "plain"],
        "case list --count": [*KITAMONO, "case", "list", "--count"],
        "report quarterly": [*KITAMONO, "report", "quarterly", "--fy", "2022", "--quarter", "3", "--format", "plain"],
        "targets": [*KITAMONO, "targets", "--format", "plain"],
        "followups": [*KITAMONO, "followups", "--format", "plain"],
        "report annual": [*KITAMONO, "report", "annual", "--fy", "2022", "--format", "plain"],
        "check": [*KITAMONO, "check"],
    }


def case_new(repo: Path) -> list[str]:
    return [*KITAMONO, "case", "new", "--no-input", "--company", "株式会社ベンチ", "--municipality", "帯広市",
            "--title", "殺菌工程の相談", "--summary", "品質と設備投資の資金", "--received-by", "hro",
            "--channel", "phone", "--received-on", "2027-05-14"]  # fmt: skip


def touch_one(repo: Path):
    """Change one case file (append a note), as a user's edit would."""
    files = sorted((repo / "cases" / "2023").glob("*.yaml"))
    counter = {"n": 0}

    def change() -> None:
        path = files[counter["n"] % len(files)]
        counter["n"] += 1
        text = path.read_text(encoding="utf-8")
        marker = "  note: 窓口で受付"
        path.write_text(text.replace(marker, marker + "。", 1) if marker in text else text + "\n", encoding="utf-8")

    return change


def measure_size(size: int, runs: int, workdir: Path, peer_commands: dict[str, tuple]) -> dict:
    repo = workdir / f"repo-{size}"
    print(f"\n== {size:,} cases: generating in {repo}", file=sys.stderr)
    started = time.perf_counter()
    generate(repo, size)
    print(f"   generated in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    env = kitamono_env(repo)
    index_files = [repo / ".kitamono" / "index.pickle", repo / ".kitamono" / "index-delta.pickle"]

    def no_index() -> None:
        for path in index_files:
            path.unlink(missing_ok=True)

    result: dict = {"size": size, "floors": {}, "commands": {}, "peers": {}}
    cases_dir = str(repo / "cases")
    measured = commands(repo)
    # cold: every command without an index, beside the floors it is compared with
    cold_runs = max(1, min(runs, 3 if size <= 10_000 else 1))
    cold = interleaved({
        "read bytes": ([sys.executable, "-c", READ_BYTES, cases_dir], env),
        "CSafeLoader parse": ([sys.executable, "-c", PARSE_YAML, cases_dir], env),
        **{name: (command, env, no_index) for name, command in measured.items()},
    }, cold_runs)  # fmt: skip
    result["floors"] = {name: cold.pop(name) for name in ("read bytes", "CSafeLoader parse")}
    timed(measured["check"], env)  # make the index current
    # warm: every command with the index current, beside the peers it is compared with
    warm = interleaved({**{name: (command, env) for name, command in measured.items()}, **peer_commands}, runs)
    result["peers"] = {name: warm.pop(name) for name in peer_commands}
    # one case changed, each run beside a warm run of the same command
    changed = interleaved({
        f"{key} {name}": (command, env, touch_one(repo)) if key == "changed" else (command, env)
        for name, command in measured.items() for key in ("warm", "changed")
    }, runs)  # fmt: skip
    for name in measured:
        entry = {"cold": cold[name], "warm": warm[name], "one changed": changed[f"changed {name}"],
                 "warm beside one changed": changed[f"warm {name}"]}  # fmt: skip
        result["commands"][name] = entry
        print(f"   {name:20} cold {entry['cold']['median_s']:.3f}  warm {entry['warm']['median_s']:.3f}  "
              f"one changed {entry['one changed']['median_s']:.3f}", file=sys.stderr)  # fmt: skip
    empty = workdir / "empty"
    if not empty.exists():
        generate(empty, 0)
    shown = sorted((repo / "cases" / "2022").glob("*.yaml"))[0]
    (empty / "cases" / "2022").mkdir(parents=True, exist_ok=True)
    shutil.copy(shown, empty / "cases" / "2022" / shown.name)
    beside = interleaved({
        "case new": (case_new(repo), env),
        "empty case new": (case_new(empty), kitamono_env(empty)),
        "empty case show": ([*KITAMONO, "case", "show", shown.stem, "--format", "plain"], kitamono_env(empty)),
        "case show": (measured["case show"], env),
    }, runs)  # fmt: skip
    result["commands"]["case new"] = {"warm": beside["case new"]}
    result["commands"]["case show"]["warm beside empty"] = beside["case show"]
    result["empty"] = {"case new": beside["empty case new"], "case show": beside["empty case show"]}
    shutil.rmtree(repo, ignore_errors=True)
    return result


def peers(workdir: Path) -> dict[str, tuple]:
    """The peers' commands (and environments) over 10,000 items, where they are installed."""
    found: dict = {}
    if shutil.which("hledger"):
        journal = workdir / "bench.journal"
        with journal.open("w", encoding="utf-8") as handle:
            for n in range(10_000):
                handle.write(f"2022-{1 + n % 12:02d}-{1 + n % 28:02d} 取引{n}\n    支出:相談{n % 40}  {n % 997} JPY\n    資産:現金\n\n")
        found["hledger bal -Q"] = (["hledger", "-f", str(journal), "bal", "-Q"], dict(os.environ))
    if shutil.which("task"):
        data = workdir / "taskdata"
        data.mkdir(exist_ok=True)
        rc = workdir / "taskrc"
        rc.write_text(f"data.location={data}\nconfirmation=off\nverbose=nothing\n", encoding="utf-8")
        env = {**os.environ, "TASKRC": str(rc), "TASKDATA": str(data)}
        import uuid

        lines = []
        for n in range(10_000):
            lines.append(json.dumps({"uuid": str(uuid.uuid4()), "status": "pending", "description": f"相談{n}",
                                     "entry": "20220101T000000Z", "project": f"p{n % 20}"}))  # fmt: skip
        subprocess.run(["task", "import", "-"], input="\n".join(lines), text=True, env=env, capture_output=True, check=False)
        found["task count"] = (["task", "count"], env)
        found["task list"] = (["task", "list"], env)
    return found


#: The reports and listings whose warm time the goals bound.
REPORTS = ("report quarterly", "report annual", "targets", "followups", "case list --fy")


def goals(report: dict) -> list[dict]:
    """Every goal of the benchmark with its figure, its ratio and whether it is met."""
    floors = report["floors"]
    rows: list[dict] = []

    def goal(name: str, figure: float | None, limit: float | None, ratio: float | None, target: float | None) -> None:
        met = figure is not None and (limit is None or figure < limit) and (target is None or (ratio is not None and ratio <= target))
        rows.append({"goal": name, "figure_s": figure, "limit_s": limit, "ratio": ratio, "target_ratio": target, "met": met})

    help_ratio = report["kitamono --help"]["median_s"] / floors["typer --help (10 commands)"]["median_s"]
    goal("kitamono --help within 1.3x of a 10-command Typer app", report["kitamono --help"]["median_s"], None, help_ratio, 1.3)
    by_size = {s["size"]: s for s in report["sizes"]}
    if 1_000 in by_size and "typer command (10 commands)" in floors:
        # the fixed cost: what any command costs on a small repository, beside an app that does nothing
        nothing = floors["typer command (10 commands)"]["median_s"]
        for name, entry in by_size[1_000]["commands"].items():
            warm = entry["warm"]["median_s"]
            goal(f"1k warm {name}: fixed cost within 1.3x of a 10-command Typer app doing nothing", warm, None,
                 warm / nothing, 1.3)  # fmt: skip
    if 10_000 in by_size:
        ten = by_size[10_000]
        hledger = ten["peers"].get("hledger bal -Q", {}).get("median_s")  # measured beside the warm runs
        task_count = ten["peers"].get("task count", {}).get("median_s")
        for name in REPORTS:
            warm = ten["commands"][name]["warm"]["median_s"]
            goal(f"10k warm {name} under 0.5 s", warm, 0.5, None, None)
            if hledger:
                goal(f"10k warm {name} within 0.6x of hledger bal -Q", warm, None, warm / hledger, 0.6)
        if task_count:
            count = ten["commands"]["case list --count"]["warm"]["median_s"]
            goal("10k warm case list --count within 1.5x of task count", count, None, count / task_count, 1.5)
        parse_floor = ten["floors"]["CSafeLoader parse"]["median_s"]
        for name in ("report quarterly", "targets", "followups", "case list --fy", "check"):
            cold = ten["commands"][name]["cold"]["median_s"]
            goal(f"10k cold {name} within 1.2x of the CSafeLoader parse floor", cold, None, cold / parse_floor, 1.2)
        for name in ("report quarterly", "targets", "followups", "case list --fy", "check"):
            changed = ten["commands"][name]["one changed"]["median_s"]
            warm = ten["commands"][name]["warm beside one changed"]["median_s"]
            goal(f"10k one case changed: {name} within 1.2x of warm", changed, None, changed / warm, 1.2)
    if 100_000 in by_size:
        big = by_size[100_000]
        for name in REPORTS:
            entry = big["commands"][name]["warm"]
            goal(f"100k warm {name} at most 1.0 s", entry["median_s"], 1.0, None, None)
            rows[-1]["peak_mib"] = round(entry["peak_kib"] / 1024, 1)
        peak = max(e[k]["peak_kib"] for e in big["commands"].values() for k in ("cold", "warm") if k in e)
        goal("100k peak memory of any command, cold or warm, under 1 GiB", peak / 1024 / 1024, 1.0, None, None)
        rows[-1]["figure_s"] = None
        rows[-1]["figure_gib"] = round(peak / 1024 / 1024, 3)
        for name, key in (("case new", "warm"), ("case show", "warm beside empty")):
            figure = big["commands"][name][key]["median_s"]
            empty = big["empty"][name]["median_s"]
            goal(f"100k {name} within 1.5x of an empty repository", figure, None, figure / empty, 1.5)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    report: dict = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "runs": args.runs,
        "floors": {},
        "peers": {},
        "sizes": [],
    }
    with tempfile.TemporaryDirectory(prefix="kitamono-bench-") as folder:
        workdir = Path(folder)
        env = plain_env()
        compile_kitamono()
        mini = workdir / "mini.py"
        mini.write_text(MINIMAL_TYPER, encoding="utf-8")
        started = interleaved({
            "python -c pass": ([sys.executable, "-c", "pass"], env),
            "typer --help (10 commands)": ([sys.executable, str(mini), "--help"], env),
            "typer command (10 commands)": ([sys.executable, str(mini), "command3"], env),
            "kitamono --help": ([*KITAMONO, "--help"], env),
        }, args.runs)  # fmt: skip
        report["kitamono --help"] = started.pop("kitamono --help")
        report["floors"] = started
        peer_commands = peers(workdir)
        for size in sizes:
            report["sizes"].append(measure_size(size, args.runs, workdir, peer_commands))
        # the peers as measured beside the warm runs on 10,000 cases (or the largest size)
        beside = next((s for s in report["sizes"] if s["size"] == 10_000), report["sizes"][-1] if sizes else None)
        report["peers"] = beside["peers"] if beside else {}
    report["goals"] = goals(report)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print("\nfloors and peers (median s):")
    for name, entry in {**report["floors"], **report["peers"], "kitamono --help": report["kitamono --help"]}.items():
        print(f"  {name:32} {entry['median_s']:.3f}")
    print("\ngoals:")
    for row in report["goals"]:
        figure = f"{row['figure_s']:.3f} s" if row.get("figure_s") is not None else f"{row.get('figure_gib', 0):.3f} GiB"
        ratio = f"  ratio {row['ratio']:.2f} (goal ≤ {row['target_ratio']})" if row.get("ratio") is not None else ""
        limit = f"  (goal < {row['limit_s']})" if row.get("limit_s") is not None else ""
        print(f"  [{'met' if row['met'] else 'MISSED'}] {row['goal']}: {figure}{ratio}{limit}")
    print(f"\nresults written to {args.out}")


if __name__ == "__main__":
    main()
