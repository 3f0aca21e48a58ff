"""kitamono web's page times, side by side with the command line, at 1,000 and 10,000 cases.

    python bench/web.py                        # 1,000 and 10,000 cases
    python bench/web.py --sizes 1000 --runs 5 --out bench/web-results.json

A real server (``kitamono web`` in its own process) answers real HTTP requests from this one.
Measured, medians of ``--runs``:

- start-up: from starting the server to its first answered page (the dashboard, which reads
  every case), beside the cold command line (``report quarterly`` with no index), in
  alternating rounds; the goal is start-up ≤ the cold command;
- after start, each page requested ``--requests`` times: a case page, the dashboard, the case
  list, the quarterly and the annual report; goals: a case page and the dashboard ≤ 50 ms at
  10,000 cases, a report page ≤ 200 ms; beside each, the warm command that shows the same;
- the dashboard right after one case file changed (the cases read again, the page computed anew).
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402
from run import KITAMONO, compile_kitamono, interleaved, kitamono_env, touch_one  # noqa: E402

GOALS_MS = {"case page": 50, "dashboard": 50, "quarterly report": 200, "annual report": 200}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> float:
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=300) as answer:
        answer.read()
        assert answer.status == 200, url
    return time.perf_counter() - start


class Server:
    """``kitamono web`` on a free port; ``start()`` returns the seconds to the first answered dashboard."""

    def __init__(self, repo: Path) -> None:
        self.repo, self.env, self.process = repo, kitamono_env(repo), None
        self.base = ""

    def start(self) -> float:
        port = _free_port()
        self.base = f"http://127.0.0.1:{port}"
        started = time.perf_counter()
        self.process = subprocess.Popen([*KITAMONO, "web", "--port", str(port)], env=self.env,
                                        stderr=subprocess.PIPE, text=True)  # fmt: skip
        assert self.process.stderr is not None
        self.process.stderr.readline()  # the address: it listens
        _get(self.base + "/")
        return time.perf_counter() - started

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None


def measure(size: int, runs: int, requests: int, workdir: Path) -> dict:
    repo = workdir / f"repo-{size}"
    print(f"\n== {size:,} cases: generating in {repo}", file=sys.stderr)
    generate(repo, size)
    env = kitamono_env(repo)
    some_id = sorted((repo / "cases" / "2022").glob("*.yaml"))[0].stem
    index = [repo / ".kitamono" / "index.pickle", repo / ".kitamono" / "index-delta.pickle"]

    def cold() -> None:
        for path in index:
            path.unlink(missing_ok=True)

    starts: list[float] = []
    cold_cli = [*KITAMONO, "report", "quarterly", "--fy", "2022", "--quarter", "3", "--format", "plain"]
    cold_runs = interleaved({"cold report quarterly": (cold_cli, env, cold)}, 1)  # warms the disk cache first
    cold_samples: list[float] = []
    for _ in range(runs):  # alternating: a cold command, then a cold server start
        cold_samples.append(interleaved({"cold": (cold_cli, env, cold)}, 1)["cold"]["median_s"])
        cold()
        server = Server(repo)
        try:
            starts.append(server.start())
        finally:
            server.stop()
    result: dict = {
        "size": size,
        "start_up_s": statistics.median(starts),
        "cold_report_quarterly_s": statistics.median(cold_samples),
        "first_cold_run": cold_runs,
        "pages_ms": {},
        "commands_s": {},
    }
    pages = {
        "case page": f"/cases/{some_id}",
        "dashboard": "/",
        "case list (年度)": "/cases?fy=2022",
        "quarterly report": "/reports?fy=2022&quarter=3",
        "annual report": "/reports/annual?fy=2022",
    }
    server = Server(repo)
    server.start()
    try:
        for name, path in pages.items():
            _get(server.base + path)  # the first request computes the page for these cases
            times = [_get(server.base + path) for _ in range(requests)]
            result["pages_ms"][name] = round(statistics.median(times) * 1000, 1)
        change = touch_one(repo)
        after_change = []
        for _ in range(runs):
            change()
            time.sleep(0.15)  # past the racy-clean margin, so that the change is seen as it is
            after_change.append(_get(server.base + "/"))
        result["pages_ms"]["dashboard after one file changed"] = round(statistics.median(after_change) * 1000, 1)
    finally:
        server.stop()
    warm = {
        "case show": [*KITAMONO, "case", "show", some_id, "--format", "plain"],
        "targets": [*KITAMONO, "targets", "--format", "plain"],
        "case list --fy": [*KITAMONO, "case", "list", "--fy", "2022", "--format", "plain"],
        "report quarterly": cold_cli,
        "report annual": [*KITAMONO, "report", "annual", "--fy", "2022", "--format", "plain"],
    }
    measured = interleaved({name: (command, env) for name, command in warm.items()}, runs)
    result["commands_s"] = {name: round(found["median_s"], 3) for name, found in measured.items()}
    return result


def goals(results: list[dict]) -> list[str]:
    lines = []
    for found in results:
        size = found["size"]
        for name, limit in GOALS_MS.items():
            value = found["pages_ms"][name]
            lines.append(f"{size:>6,} {name:<18} {value:7.1f} ms  goal ≤ {limit} ms  {'met' if value <= limit else 'MISSED'}")
        start, cold = found["start_up_s"], found["cold_report_quarterly_s"]
        lines.append(f"{size:>6,} start-up to the first page {start:.2f} s beside the cold command {cold:.2f} s "
                     f"({start / cold:.2f})  {'met' if start <= cold else 'MISSED'}")  # fmt: skip
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=21)
    parser.add_argument("--out", type=Path, default=HERE / "web-results.json")
    options = parser.parse_args()
    compile_kitamono()
    results = []
    with tempfile.TemporaryDirectory(prefix="kitamono-web-bench-") as folder:
        for size in (int(s) for s in options.sizes.split(",")):
            found = measure(size, options.runs, options.requests, Path(folder))
            results.append(found)
            print(json.dumps(found, ensure_ascii=False, indent=2), file=sys.stderr)
    for line in goals(results):
        print(line)
    options.out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
