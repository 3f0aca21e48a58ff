"""Two clones that recorded different things about one case: conflicts, not broken histories.

Real git: a bare repository as the shared remote, the センター (hro) and 北洋銀行 (hokuyo) as two
clones of it. Each kind of conflict is made the way staff would make it (each clone records
what it knows, then both sync), and every one is settled with ``kitamono resolve`` alone.
"""

from __future__ import annotations

import json

import pytest

from test_sync import Network, as_person, case_path, cases_in, git, git_env, network, ok  # noqa: F401


def start_case(network: Network, run, center, bank) -> str:
    """A case the センター logged and both clones hold."""
    case_id = network.new(center, "株式会社十勝チーズ工房")
    ok(network.sync(center))
    ok(network.sync(bank))
    return case_id


def listed(run, clone) -> list[dict]:
    return json.loads(ok(run("--repo", clone, "conflicts", "--format", "json")).stdout)


def test_two_starts_with_different_leads_are_one_conflict_settled_by_resolve(network, run, as_person):
    center = network.center()
    bank = network.clone("bank", "hokuyo")
    case_id = start_case(network, run, center, bank)
    as_person("道総研 太郎")
    ok(run("--repo", center, "case", "start", case_id, "--lead", "hro", "--date", "2026-10-05"))
    ok(network.sync(center))
    pushed = network.remote_head()
    as_person("北洋 花子")
    ok(run("--repo", bank, "case", "start", case_id, "--lead", "hokuyo", "--with", "hro", "--date", "2026-10-07"))

    stopped = network.sync(bank)
    assert stopped.exit_code == 1
    print(stopped.stderr)
    assert "kitamono conflicts" in stopped.stderr and "case edit" not in stopped.stderr
    assert network.remote_head() == pushed
    data = cases_in(bank)[case_id]
    assert [(e["type"], e.get("lead")) for e in data["events"]] == [("received", None), ("started", "hokuyo")]

    found = listed(run, bank)
    print(json.dumps(found, ensure_ascii=False, indent=1))
    print(ok(run("--repo", bank, "conflicts", "--format", "plain")).stdout)
    ok(run("--repo", bank, "resolve", case_id, "--take", "theirs"))
    ok(network.sync(bank))
    ok(network.sync(center))
    for clone in (center, bank):
        data = cases_in(clone)[case_id]
        print(data)
        assert ok(run("--repo", clone, "check")).stdout == ""
