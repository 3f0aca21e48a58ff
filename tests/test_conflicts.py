"""Two clones that recorded different things about one case: conflicts, not broken histories.

Real git: a bare repository as the shared remote, the センター (hro, 道総研 太郎) and 北洋銀行
(hokuyo, 北洋 花子) as two clones of it. Each kind of conflict is made the way staff would make it
(each clone records what it knows, then both sync), and every one is settled with
``kitamono resolve`` alone: no test edits a case file to get out of a conflict.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from datetime import date

import pytest
import yaml

from conftest import snapshot
from kitamono.merge import merge_cases
from kitamono.models import Case, Company, Event
from test_sync import Network, case_path, cases_in, git, git_env, network, ok  # noqa: F401


@pytest.fixture
def staff(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], None]:
    """``staff("北洋 花子", "2026-10-07")``: who commits from now on, and on which day (10:00)."""

    def switch(name: str, day: str) -> None:
        for who in ("AUTHOR", "COMMITTER"):
            monkeypatch.setenv(f"GIT_{who}_NAME", name)
            monkeypatch.setenv(f"GIT_{who}_DATE", f"{day}T10:00:00+09:00")

    return switch


def shared_case(network: Network, staff) -> tuple:
    """The センター logs a case (2026-10-01) and both clones hold it."""
    center = network.center()
    bank = network.clone("bank", "hokuyo")
    staff("道総研 太郎", "2026-10-01")
    case_id = network.new(center, "株式会社十勝チーズ工房")
    ok(network.sync(center))
    ok(network.sync(bank))
    return center, bank, case_id


def started_case(network: Network, run, staff) -> tuple:
    """The shared case, started by 道総研 on the センター's clone (2026-10-05); both clones hold that."""
    center, bank, case_id = shared_case(network, staff)
    staff("道総研 太郎", "2026-10-05")
    ok(run("--repo", center, "case", "start", case_id, "--lead", "hro", "--date", "2026-10-05"))
    ok(network.sync(center))
    ok(network.sync(bank))
    return center, bank, case_id


def events_of(clone, case_id) -> list[tuple]:
    return [(e["type"], str(e["date"]), e["by"], e.get("lead")) for e in cases_in(clone)[case_id]["events"]]


def open_conflicts(run, clone) -> list[dict]:
    return json.loads(ok(run("--repo", clone, "conflicts", "--format", "json")).stdout)


def head_of(clone) -> str:
    return git(clone, "rev-parse", "HEAD").strip()


def settled_alike(network: Network, run, resolver, other, case_id) -> dict:
    """After a resolve: sync carries on, the other clone takes it, both hold the same valid case."""
    ok(network.sync(resolver))
    ok(network.sync(other))
    texts = {case_path(clone, case_id).read_text(encoding="utf-8") for clone in (resolver, other)}
    assert len(texts) == 1
    for clone in (resolver, other):
        checked = run("--repo", clone, "check")
        assert (checked.exit_code, checked.stdout) == (0, "")
        assert open_conflicts(run, clone) == []
    assert yaml.safe_load(texts.pop()) == network.remote_case(case_id)
    return cases_in(resolver)[case_id]


# --- two starts of support --------------------------------------------------------------------------


def test_two_starts_with_different_leads_are_one_conflict_settled_by_resolve(network, run, staff):
    center, bank, case_id = shared_case(network, staff)
    staff("道総研 太郎", "2026-10-05")
    ok(run("--repo", center, "case", "start", case_id, "--lead", "hro", "--date", "2026-10-05"))
    ok(network.sync(center))
    pushed = network.remote_head()
    staff("北洋 花子", "2026-10-07")
    ok(run("--repo", bank, "case", "start", case_id, "--lead", "北洋銀行", "--with", "道総研", "--date", "2026-10-07"))

    for _attempt in range(2):  # stopped, and stays stopped while the conflict is open
        stopped = network.sync(bank)
        assert stopped.exit_code == 1
        assert (
            f"案件 {case_id}: 支援開始 (lead) が食い違っています。"
            "この複製は 主担当 北洋銀行、協力 道総研(2026-10-07)〔北洋銀行 北洋 花子、2026-10-07〕、"
            "他の複製は 主担当 道総研(2026-10-05)〔道総研 道総研 太郎、2026-10-05〕"
        ) in stopped.stderr
        assert "kitamono conflicts" in stopped.stderr and "case edit" not in stopped.stderr
        assert network.remote_head() == pushed  # nothing pushed while the conflict is open
    # Never two 支援開始: this clone's start stays in the history, the other one waits in the conflict.
    assert events_of(bank, case_id) == [
        ("received", "2026-10-01", "hro", None), ("started", "2026-10-07", "hokuyo", "hokuyo")
    ]
    history = ok(run("--repo", bank, "case", "history", case_id, "--format", "plain")).stdout
    assert history.count("支援開始") == 1
    checked = run("--repo", bank, "check")
    assert checked.exit_code == 1 and "未解決の競合: lead" in checked.stdout

    assert open_conflicts(run, bank) == [{
        "id": case_id, "number": 1, "item": "lead", "kind": "two_starts", "what": "支援開始 (lead)",
        "ours": {"value": "hokuyo", "text": "主担当 北洋銀行、協力 道総研(2026-10-07)",
                 "events": [{"type": "started", "date": "2026-10-07", "by": "hokuyo", "lead": "hokuyo",
                             "supporting": ["hro"]}],
                 "institution": "hokuyo", "person": "北洋 花子", "on": "2026-10-07"},
        "theirs": {"value": "hro", "text": "主担当 道総研(2026-10-05)",
                   "events": [{"type": "started", "date": "2026-10-05", "by": "hro", "lead": "hro"}],
                   "institution": "hro", "person": "道総研 太郎", "on": "2026-10-05"},
        "command": f"kitamono resolve {case_id} --take ours|theirs",
    }]  # fmt: skip
    table = ok(run("--repo", bank, "conflicts", "--format", "plain")).stdout
    assert f"kitamono resolve {case_id} --take ours|theirs" in table and "北洋 花子" in table
    assert "--take ours、他の複製の値にするなら --take theirs" in table

    staff("北洋 花子", "2026-11-28")
    resolved = ok(run("--repo", bank, "resolve", case_id, "--take", "theirs"))
    assert f"案件 {case_id}: 支援開始 (lead) を他の複製の値にしました" in resolved.stderr
    assert "kitamono sync" in resolved.stderr
    data = settled_alike(network, run, bank, center, case_id)
    assert [(e["type"], e["by"], e.get("lead")) for e in data["events"]] == [
        ("received", "hro", None), ("started", "hro", "hro")
    ]
    (record,) = data["resolved_conflicts"]  # the side not taken is kept, with who decided
    assert record["decided"] == {"by": "hokuyo", "on": date(2026, 11, 28), "took": "theirs", "person": "北洋 花子",
                                 "value": "hro"}  # fmt: skip
    assert record["ours_events"][0]["lead"] == "hokuyo" and record["theirs_events"][0]["lead"] == "hro"
    for clone in (center, bank):  # the case counts again, once, under the lead decided
        listed = json.loads(ok(run("--repo", clone, "case", "list", "--status", "支援中", "--format", "json")).stdout)
        assert [(c["id"], c["lead"]) for c in listed] == [(case_id, "hro")]


# --- records after a close on the other side --------------------------------------------------------


@pytest.mark.heavy
@pytest.mark.parametrize("last", ["bank", "center"])
def test_support_recorded_after_the_other_clone_closed_is_a_conflict_not_support_after_close(
    network, run, staff, last
):
    center, bank, case_id = started_case(network, run, staff)
    staff("道総研 太郎", "2026-11-01")
    ok(run("--repo", center, "case", "close", case_id, "--outcome", "試作が完了", "--date", "2026-11-01"))
    staff("北洋 花子", "2026-11-05")
    ok(run("--repo", bank, "case", "support", case_id, "--date", "2026-11-05", "--note", "設備資金の融資を実行"))
    clerks = {center: ("道総研 太郎", "2026-11-01"), bank: ("北洋 花子", "2026-11-05")}  # who commits each record
    first, second = (center, bank) if last == "bank" else (bank, center)
    staff(*clerks[first])
    ok(network.sync(first))
    pushed = network.remote_head()
    before = head_of(second)

    staff(*clerks[second])
    stopped = network.sync(second)
    assert stopped.exit_code == 1 and network.remote_head() == pushed
    assert "kitamono conflicts" in stopped.stderr and "case edit" not in stopped.stderr
    close = "終了 2026-11-01 道総研「試作が完了」〔道総研 道総研 太郎、2026-11-01〕"
    support = "支援 2026-11-05 北洋銀行〔北洋銀行 北洋 花子、2026-11-05〕"
    ours, theirs = (support, close) if last == "bank" else (close, support)
    assert (f"案件 {case_id}: 終了とその後の記録 (closed) が食い違っています。この複製は {ours}、他の複製は {theirs}"
            in stopped.stderr)  # fmt: skip
    # This clone's side stays in the history, the other side waits in the conflict: never 支援 after 終了.
    kept = ("supported", "2026-11-05", "hokuyo", None) if last == "bank" else ("closed", "2026-11-01", "hro", None)
    assert events_of(second, case_id)[2:] == [kept]
    assert git(second, "rev-parse", "MERGE_HEAD").strip() == git(first, "rev-parse", "HEAD").strip()
    assert head_of(second) != before  # this clone's own record was committed before merging
    (found,) = open_conflicts(run, second)
    assert (found["kind"], found["item"], found["ours"]["person"], found["theirs"]["person"]) == (
        "after_close", "closed", "北洋 花子" if last == "bank" else "道総研 太郎",
        "道総研 太郎" if last == "bank" else "北洋 花子",
    )  # fmt: skip

    # The support did happen after all: keep it, and the case stays open (from either clone).
    take = "ours" if last == "bank" else "theirs"
    ok(run("--repo", second, "resolve", case_id, "--take", take))
    data = settled_alike(network, run, second, first, case_id)
    assert [(e["type"], str(e["date"])) for e in data["events"]] == [
        ("received", "2026-10-01"), ("started", "2026-10-05"), ("supported", "2026-11-05")
    ]
    (record,) = data["resolved_conflicts"]
    assert record["decided"]["took"] == take and record["kind"] == "after_close"
    assert any(e["type"] == "closed" for e in record["ours_events"] + record["theirs_events"])  # kept, not counted
    shown = json.loads(ok(run("--repo", center, "case", "show", case_id, "--format", "json")).stdout)
    assert shown["status"] == "supporting"


# --- a header field changed on both clones ------------------------------------------------------------


def test_fields_changed_on_both_clones_are_settled_item_by_item_and_with_a_value_of_ones_own(network, run, staff):
    center, bank, case_id = shared_case(network, staff)
    staff("道総研 太郎", "2026-10-10")
    ok(run("--repo", center, "case", "refer", case_id, "--to", "tokachi", "--date", "2026-10-10"))
    _rewrite(center, case_id, title="殺菌工程と品質検査の見直し", company="十勝チーズ工房株式会社")
    ok(network.sync(center))
    pushed = network.remote_head()
    staff("北洋 花子", "2026-10-12")
    _rewrite(bank, case_id, title="殺菌装置の更新と資金計画", company="有限会社十勝チーズ工房")
    assert network.sync(bank).exit_code == 1
    found = open_conflicts(run, bank)
    assert [(c["number"], c["item"], c["ours"]["value"], c["theirs"]["value"], c["command"]) for c in found] == [
        (1, "company.name", "有限会社十勝チーズ工房", "十勝チーズ工房株式会社",
         f"kitamono resolve {case_id} --take company.name=ours|theirs"),
        (2, "title", "殺菌装置の更新と資金計画", "殺菌工程と品質検査の見直し",
         f"kitamono resolve {case_id} --take title=ours|theirs"),
    ]  # fmt: skip
    assert found[0]["theirs"]["institution"] == "hro" and found[0]["theirs"]["on"] == "2026-10-10"

    files = snapshot(bank)
    for args, words in [
        ((), "--take ours か --take theirs"),
        (("--take", "maybe"), "「maybe」は選べません"),
        (("--take", "summary=ours"), "「summary」という競合はありません。この案件の競合: 1=company.name, 2=title"),
        (("--value", "十勝チーズ工房"), "競合が複数あるため"),
        (("--value", "company.municipality=札幌"), "競合はありません"),
    ]:
        refused = run("--repo", bank, "resolve", case_id, *args)
        assert refused.exit_code == 1 and words in refused.stderr, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr
    assert snapshot(bank) == files

    # One item first: the other stays open, and sync still stops without pushing.
    staff("北洋 花子", "2026-11-28")
    partly = ok(run("--repo", bank, "resolve", case_id, "--take", "2=theirs"))
    assert "未解決の競合がまだ 1件" in partly.stderr
    assert network.sync(bank).exit_code == 1 and network.remote_head() == pushed
    ok(run("--repo", bank, "resolve", case_id, "--value", "company.name=株式会社十勝チーズ工房 本社工場"))
    data = settled_alike(network, run, bank, center, case_id)
    assert data["company"]["name"] == "株式会社十勝チーズ工房 本社工場"
    assert data["title"] == "殺菌工程と品質検査の見直し"
    assert [e["type"] for e in data["events"]] == ["received", "referred"]
    assert [(r["field"], r["decided"]["took"], r["decided"]["value"]) for r in data["resolved_conflicts"]] == [
        ("title", "theirs", "殺菌工程と品質検査の見直し"), ("company.name", "value", "株式会社十勝チーズ工房 本社工場")
    ]
    log = json.loads(ok(run("--repo", center, "log", case_id, "--format", "json")).stdout)
    assert any(e["change"] == "field" and e.get("new") == "株式会社十勝チーズ工房 本社工場" for e in log)


def _rewrite(clone, case_id: str, title: str, company: str) -> None:
    """A header change as any writer makes it (here: straight into the file, before any conflict)."""
    path = case_path(clone, case_id)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["title"], data["company"]["name"] = title, company
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


# --- a case withdrawn on one clone and recorded on the other -------------------------------------------


def test_a_case_withdrawn_on_one_clone_and_supported_on_the_other_is_a_conflict(network, run, staff, monkeypatch):
    center, bank, case_id = started_case(network, run, staff)
    # The センター withdraws the case (取下げ).
    staff("道総研 太郎", "2026-11-02")
    monkeypatch.setenv("KITAMONO_TODAY", "2026-11-02")
    ok(run("--repo", center, "case", "withdraw", case_id, "--reason", "重複して登録"))
    monkeypatch.setenv("KITAMONO_TODAY", "2026-11-28")
    ok(network.sync(center))
    staff("北洋 花子", "2026-11-05")
    ok(run("--repo", bank, "case", "support", case_id, "--date", "2026-11-05"))

    stopped = network.sync(bank)
    assert stopped.exit_code == 1 and "kitamono conflicts" in stopped.stderr
    assert (
        f"案件 {case_id}: 取下げとその後の記録 (withdrawn) が食い違っています。"
        "この複製は 取下げなし、支援 2026-11-05 北洋銀行〔北洋銀行 北洋 花子、2026-11-05〕、"
        "他の複製は 取下げ 2026-11-02 道総研「重複して登録」〔道総研 道総研 太郎、2026-11-02〕"
    ) in stopped.stderr
    assert "withdrawn" not in cases_in(bank)[case_id]  # this clone's side stays until someone decides
    (found,) = open_conflicts(run, bank)
    assert (found["kind"], found["theirs"]["institution"], found["ours"]["person"]) == ("withdrawn", "hro", "北洋 花子")
    refused = run("--repo", bank, "resolve", case_id, "--value", "取り下げない")
    assert refused.exit_code == 1 and "--take ours か --take theirs" in refused.stderr

    ok(run("--repo", bank, "resolve", case_id, "--take", "ours"))  # the support was real: the case counts
    data = settled_alike(network, run, bank, center, case_id)
    assert "withdrawn" not in data and [e["type"] for e in data["events"]][-1] == "supported"
    assert data["resolved_conflicts"][0]["decided"]["took"] == "ours"


# --- a refused sync leaves nothing behind ---------------------------------------------------------------


def test_a_sync_refused_by_the_check_commits_nothing(network, run, staff):
    center = network.center()
    case_id = network.new(center, "株式会社十勝チーズ工房")
    path = case_path(center, case_id)
    path.write_text(path.read_text(encoding="utf-8").replace("received_by: hro", "received_by: nowhere"),
                    encoding="utf-8")  # fmt: skip
    before, pushed = head_of(center), network.remote_head()
    refused = network.sync(center)
    assert refused.exit_code == 1 and "nowhere" in refused.stdout + refused.stderr
    assert head_of(center) == before and network.remote_head() == pushed
    assert f"?? cases/2026/{case_id}.yaml" in git(center, "status", "--porcelain", "-uall")


# --- the merge rules themselves (no git) -----------------------------------------------------------------

BASE = Case(
    id="hro-2026-0001", received_on=date(2026, 10, 1), received_by="hro", channel="visit",
    company=Company(name="株式会社十勝チーズ工房", municipality="帯広市"), title="殺菌工程の見直し", field="food",
    events=[Event(type="received", date=date(2026, 10, 1), by="hro")],
)  # fmt: skip
START = Event(type="started", date=date(2026, 10, 5), by="hro", lead="hro")


def _with(case: Case, *events: Event) -> Case:
    return case.model_copy(update={"events": [*case.events, *events]})


def test_the_same_start_on_both_sides_is_no_conflict_and_a_settled_conflict_never_reopens():
    assert merge_cases(BASE, _with(BASE, START), _with(BASE, START)).clean
    other = Event(type="started", date=date(2026, 10, 7), by="hokuyo", lead="hokuyo")
    merged = merge_cases(BASE, _with(BASE, START), _with(BASE, other)).case
    assert [e.lead for e in merged.events if e.type == "started"] == ["hro"]
    (conflict,) = merged.conflicts
    settled = merged.model_copy(update={"conflicts": [], "resolved_conflicts": [conflict]})
    again = merge_cases(_with(BASE, START), settled, merged)  # the merge made again, with the decision on one side
    assert again.case.conflicts == [] and again.case.resolved_conflicts == [conflict]


def test_a_close_on_both_sides_with_different_outcomes_holds_the_other_close():
    ours = _with(BASE, START, Event(type="closed", date=date(2026, 11, 1), by="hro", outcome="完了"))
    theirs = _with(BASE, START, Event(type="closed", date=date(2026, 11, 3), by="hokuyo", outcome="融資実行"))
    merged = merge_cases(_with(BASE, START), ours, theirs).case
    assert [e.outcome for e in merged.events if e.type == "closed"] == ["完了"]
    (conflict,) = merged.conflicts
    assert conflict.kind == "after_close" and [e.outcome for e in conflict.theirs_events] == ["融資実行"]
    # support recorded before the other side's close, and a reopen after it, break no rule
    supported = Event(type="supported", date=date(2026, 10, 20), by="hokuyo")
    assert merge_cases(_with(BASE, START), ours, _with(BASE, START, supported)).clean
    reopened = _with(ours, Event(type="reopened", date=date(2026, 11, 2), by="hro"))
    assert merge_cases(ours, reopened, _with(ours, supported)).clean


def test_git_runs_the_driver_with_a_message_for_each_kind(run, tmp_path):
    files = {}
    other = Event(type="started", date=date(2026, 10, 7), by="hokuyo", lead="hokuyo")
    from kitamono.caseio import case_text

    for name, case in (("base", BASE), ("ours", _with(BASE, START)), ("theirs", _with(BASE, other))):
        files[name] = tmp_path / name
        files[name].write_text(case_text(case), encoding="utf-8")
    result = run("merge-driver", files["base"], files["ours"], files["theirs"], "cases/2026/hro-2026-0001.yaml")
    assert result.exit_code == 1
    assert "案件 hro-2026-0001: 支援開始 が2つの複製で食い違いました" in result.stderr
    assert subprocess.run(["git", "--version"], capture_output=True).returncode == 0


def test_a_withdrawal_on_this_side_against_records_on_the_other_keeps_the_withdrawal_until_decided():
    from kitamono.models import Mark

    started = _with(BASE, START)
    withdrawn = started.model_copy(update={"withdrawn": Mark(by="hro", date=date(2026, 11, 2), reason="重複")})
    supported = _with(started, Event(type="supported", date=date(2026, 11, 5), by="hokuyo"))
    result = merge_cases(started, withdrawn, supported)
    (conflict,) = result.case.conflicts
    assert result.case.withdrawn == withdrawn.withdrawn and conflict.kind == "withdrawn"
    assert [e.type for e in conflict.theirs_events] == ["supported"] and conflict.theirs is None
    assert merge_cases(started, withdrawn, started).clean  # nothing recorded on the other side: no question


def test_no_open_conflict_says_none_instead_of_bare_headings(repo, run, new_case):
    new_case()
    for fmt, stdout in (
        ("plain", "該当なし\n"),
        ("table", "未解決の競合\n該当なし\n\n"),
        ("markdown", "# 未解決の競合\n\n## 未解決の競合\n\n該当なし\n"),
        ("csv", "\ufeffID,番号,食い違い,この複製(ours),他の複製(theirs),解決するコマンド\n該当なし\n"),
        ("json", "[]\n"),
    ):
        result = ok(run("conflicts", "--format", fmt))
        assert result.stdout == stdout, fmt
        assert result.stderr == "未解決の競合はありません\n"
    assert run("case", "list", "--format", "plain").stdout.startswith("ID")  # other listings keep their headings
