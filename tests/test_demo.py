"""The project's own demo cases: valid, reproducible, and rich enough for every report to speak."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from conftest import snapshot
from kitamono import store
from kitamono.caseio import case_text, load_case_file
from kitamono.listings import involved
from kitamono.reference import load_reference

ROOT = Path(__file__).resolve().parents[1]
MEASURES = ["received", "referred_out", "referred_in", "started", "supported", "followed_up", "closed"]


def demo_cases() -> list:
    repo = store.open_repository(ROOT)
    return [load_case_file(path) for path in repo.case_files()]


def report(run, *args: str) -> dict:
    result = run("--repo", ROOT, *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_the_demo_passes_check_on_the_real_date(run, monkeypatch):
    monkeypatch.delenv("KITAMONO_TODAY")
    result = run("--repo", ROOT, "check")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_every_demo_file_is_marked_and_where_its_id_says():
    repo = store.open_repository(ROOT)
    cases = demo_cases()
    assert 40 <= len(cases) <= 70
    for path, case in zip(repo.case_files(), cases, strict=True):
        assert case.demo, path
        assert path == repo.case_path(case.id)
        assert path.read_text(encoding="utf-8") == case_text(case)  # canonical: re-saving changes nothing


def test_the_demo_spans_the_plan_and_every_institution():
    from kitamono.fiscal import fiscal_year

    ref = load_reference()
    cases = demo_cases()
    years = {fiscal_year(c.received_on) for c in cases}
    assert set(range(2018, 2023)) <= years
    assert {2023, 2024, 2025} <= years  # a few after the plan, so its follow-ups show
    seen = set().union(*(involved(c) for c in cases))
    assert seen == set(ref.institutions)
    assert {c.field for c in cases} == {"food", "monozukuri", "it", "other"}
    assert all(c.company.municipality in ref.municipalities for c in cases)
    assert all(c.contact is None or (c.contact.email or "").endswith("@example.jp") for c in cases)


@pytest.mark.heavy
def test_the_generator_reproduces_the_demo_byte_for_byte(tmp_path, env):
    spec = importlib.util.spec_from_file_location("make_demo", ROOT / "scripts" / "make_demo.py")
    make_demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_demo)
    target = tmp_path / "copy"
    (target / "cases" / "2019").mkdir(parents=True)
    (target / "kitamono.yaml").write_text("{}\n", encoding="utf-8")
    (target / "cases" / "2019" / "hro-2019-0999.yaml").write_text("id: hro-2019-0999\n", encoding="utf-8")  # not demo
    assert make_demo.main(["make_demo.py", str(target)]) == 0
    made = {k: v for k, v in snapshot(target / "cases").items() if k.endswith(".yaml")}
    mine = made.pop("2019/hro-2019-0999.yaml")  # a case that is not a demo is left alone
    assert made == {k: v for k, v in snapshot(ROOT / "cases").items() if k.endswith(".yaml")}
    assert make_demo.main(["make_demo.py", str(target)]) == 0  # and running it again changes nothing
    assert {k: v for k, v in snapshot(target / "cases").items() if k.endswith(".yaml")} == {
        **made, "2019/hro-2019-0999.yaml": mine,
    }  # fmt: skip


def test_targets_show_a_period_met_and_a_period_missed(run):
    data = report(run, "targets")
    assert [(p["label"], p["actual"]["total"], p["status"]) for p in data["periods"]] == [
        ("2017–2018年度", 11, "met"),
        ("2019年度", 21, "met"),
        ("2020年度", 24, "missed"),
        ("2021年度", 30, "met"),
        ("2022年度", 30, "met"),
    ]
    assert data["total"] == {"target": 120, "actual": 116}
    # after the plan, every year to today's: its starts are new there and continuing in the next two
    assert [(p["label"], p["actual"]["new"], p["actual"]["continuing"], p["expected_continuing"], p["status"])
            for p in data["after_plan"]] == [
        ("2023年度", 2, 19, 24, "actual_only"), ("2024年度", 2, 10, 14, "actual_only"),
        ("2025年度", 2, 3, 4, "actual_only"), ("2026年度", 0, 2, 4, "actual_only"),
    ]  # fmt: skip


@pytest.mark.parametrize("as_of", [None, "2021-02-15"])
def test_followups_show_overdue_and_due(run, as_of):
    data = report(run, "followups", *(["--as-of", as_of] if as_of else []))
    assert data["overdue"] and data["due"] and data["done"]


def test_followups_today(run):
    data = report(run, "followups")
    assert [(i["id"], i["fiscal_year"]) for i in data["due"]] == [
        ("asahikawa_plaza-2024-0001", 2026),
        ("noastec-2025-0001", 2026),
    ]
    assert len(data["overdue"]) == 20
    # closed cases owe their follow-ups too (1(5)): 12 of the overdue ones, kept apart by their key
    assert sum(1 for i in data["overdue"] if i["case_closed"]) == 12


@pytest.mark.parametrize("quarter", ["2019Q3", "2022Q3"])
def test_a_demo_quarter_fills_every_column(run, quarter):
    data = report(run, "report", "quarterly", "--quarter", quarter)
    assert all(data["total"][m] > 0 for m in MEASURES), data["total"]
    assert len(data["institutions"]) >= 8


def test_the_default_quarter_has_activity(run):
    data = report(run, "report", "quarterly")
    assert (data["fiscal_year"], data["quarter"]) == (2026, 2)
    assert data["total"]["received"] and data["total"]["followed_up"]


@pytest.mark.parametrize("fy", [2018, 2019, 2020, 2021, 2022])
def test_every_plan_year_has_a_review(run, fy):
    data = report(run, "report", "annual", "--fy", str(fy))
    assert data["activity"]["total"]["received"] > 0
    assert data["referrals"]
    assert len(data["summary"]) == 7  # a line from each section, the outcomes last
