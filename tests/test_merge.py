"""The three-way merge of case files (merge.py) and the merge driver git calls with it."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kitamono.caseio import case_text
from kitamono.merge import MergeError, merge_case_texts, merge_cases
from kitamono.models import Case, Company, Conflict, Contact, Event

BASE = Case(
    id="hro-2026-0001",
    received_on=date(2026, 10, 1),
    received_by="hro",
    channel="visit",
    company=Company(name="株式会社十勝チーズ工房", municipality="帯広市"),
    title="殺菌工程の見直し",
    summary="新しい殺菌装置",
    field="food",
    needs=["technical"],
    events=[
        Event(type="received", date=date(2026, 10, 1), by="hro"),
        Event(type="started", date=date(2026, 10, 5), by="hro", lead="hro"),
    ],
)


def with_events(case: Case, *events: Event) -> Case:
    return case.model_copy(update={"events": [*case.events, *events]})


def changed(case: Case, **values) -> Case:
    return Case.model_validate({**case.model_dump(), **values})


def followup(day: int, by: str, note: str | None = None) -> Event:
    return Event(type="followed_up", date=date(2026, 11, day), by=by, note=note)


def test_events_from_both_sides_are_all_kept_in_date_order():
    ours = with_events(BASE, followup(10, "hro", "訪問"))
    theirs = with_events(BASE, followup(5, "hokuyo", "電話"), followup(20, "hokuyo"))
    result = merge_case_texts(case_text(BASE), case_text(ours), case_text(theirs))
    assert result.clean
    assert [(str(e.date), e.by) for e in result.case.events] == [
        ("2026-10-01", "hro"), ("2026-10-05", "hro"), ("2026-11-05", "hokuyo"), ("2026-11-10", "hro"),
        ("2026-11-20", "hokuyo"),
    ]  # fmt: skip
    assert result.case.events[2].note == "電話" and result.case.events[3].note == "訪問"
    assert result.case.conflicts == []


def test_an_event_added_on_both_sides_is_kept_once_and_same_day_events_keep_their_order():
    same = followup(10, "hro", "訪問")
    ours = with_events(BASE, same, Event(type="supported", date=date(2026, 11, 10), by="hro"))
    theirs = with_events(BASE, same)
    merged = merge_cases(BASE, ours, theirs).case
    assert [e.type for e in merged.events] == ["received", "started", "followed_up", "supported"]
    # An event is its whole content: the same day and type with another note is another event.
    other = with_events(BASE, followup(10, "hro", "再訪問"))
    assert len(merge_cases(BASE, ours, other).case.events) == 5


def test_an_event_removed_on_one_side_stays_removed():
    base = with_events(BASE, followup(10, "hokuyo", "誤り"))
    ours = BASE  # removed by hand (case edit)
    theirs = with_events(base, followup(12, "hokuyo"))
    merged = merge_cases(base, ours, theirs).case
    assert [(e.date.day, e.note) for e in merged.events] == [(1, None), (5, None), (12, None)]


def test_header_changes_on_one_side_win_and_equal_changes_agree():
    ours = changed(BASE, title="殺菌工程と検査方法の見直し")
    theirs = changed(
        BASE, company={"name": "株式会社十勝チーズ工房", "municipality": "音更町"}, needs=["technical", "testing"]
    )
    result = merge_cases(BASE, ours, theirs)
    assert result.clean
    assert result.case.title == "殺菌工程と検査方法の見直し"
    assert result.case.company.municipality == "音更町"
    assert result.case.needs == ["technical", "testing"]
    both = changed(BASE, summary="同じ変更")
    assert merge_cases(BASE, both, both).case.summary == "同じ変更"


def test_corrections_of_different_fields_on_both_sides_keep_both_records():
    """``case set`` on two clones: each field takes its side's value, and both records of who
    corrected what (``changes``) are kept, in date order, not made a conflict."""

    def correction(day: int, by: str, field: str, old: str, new: str) -> dict:
        return {
            "by": by,
            "date": date(2026, 11, day),
            "reason": "誤記",
            "fields": [{"field": field, "old": old, "new": new}],
        }

    ours = changed(
        BASE, title="殺菌工程の再検討", changes=[correction(3, "hro", "title", BASE.title, "殺菌工程の再検討")]
    )
    theirs = changed(
        BASE, summary="殺菌装置の更新", changes=[correction(2, "hokuyo", "summary", BASE.summary, "殺菌装置の更新")]
    )
    result = merge_cases(BASE, ours, theirs)
    assert result.clean
    assert (result.case.title, result.case.summary) == ("殺菌工程の再検討", "殺菌装置の更新")
    assert [(c.by, c.fields[0].field) for c in result.case.changes] == [("hokuyo", "summary"), ("hro", "title")]


def test_different_changes_to_one_field_keep_ours_and_record_the_conflict():
    ours = changed(BASE, company={"name": "十勝チーズ工房株式会社", "municipality": "帯広市"})
    theirs = changed(
        BASE,
        company={"name": "有限会社十勝チーズ工房", "municipality": "音更町"},
        approved_project=date(2026, 11, 1),
    )
    result = merge_case_texts(case_text(BASE), case_text(ours), case_text(theirs))
    assert not result.clean
    assert result.conflicts == [
        Conflict(field="company.name", ours="十勝チーズ工房株式会社", theirs="有限会社十勝チーズ工房")
    ]
    case = result.case
    assert case.company.name == "十勝チーズ工房株式会社"  # ours stays in the field
    assert case.company.municipality == "音更町" and case.approved_project == date(2026, 11, 1)
    # The merged text is valid YAML that reads back as the same case, conflicts and all.
    data = yaml.safe_load(result.text)
    assert data["conflicts"] == [
        {"field": "company.name", "ours": "十勝チーズ工房株式会社", "theirs": "有限会社十勝チーズ工房"}
    ]
    assert Case.model_validate(data) == case
    assert result.text == case_text(case)


def test_lists_and_dates_in_a_conflict_are_recorded_as_text():
    ours = changed(BASE, needs=["testing"], approved_project=date(2026, 11, 1))
    theirs = changed(BASE, needs=["management", "finance"], approved_project=date(2026, 11, 2))
    conflicts = merge_cases(BASE, ours, theirs).conflicts
    assert conflicts == [
        Conflict(field="needs", ours="testing", theirs="management, finance"),
        Conflict(field="approved_project", ours="2026-11-01", theirs="2026-11-02"),
    ]


def test_a_contact_added_on_one_side_is_kept_and_an_empty_contact_is_none():
    theirs = BASE.model_copy(update={"contact": Contact(person="山田", phone="0155-00-0000")})
    assert merge_cases(BASE, BASE, theirs).case.contact == Contact(person="山田", phone="0155-00-0000")
    assert merge_cases(theirs, BASE, theirs).case.contact is None  # ours removed it, theirs left it alone


def test_recorded_conflicts_stay_until_a_side_resolves_them():
    conflict = Conflict(field="title", ours="A", theirs="B")
    base = BASE.model_copy(update={"conflicts": [conflict]})
    untouched = with_events(base, followup(10, "hro"))
    assert merge_cases(base, untouched, base).case.conflicts == [conflict]
    resolved = BASE.model_copy(update={"title": "A"})
    merged = merge_cases(base, resolved, with_events(base, followup(10, "hokuyo"))).case
    assert merged.conflicts == [] and merged.title == "A" and len(merged.events) == 3


def test_without_a_base_identical_files_merge_and_different_ones_conflict():
    assert merge_case_texts("", case_text(BASE), case_text(BASE)).clean
    result = merge_case_texts(None, case_text(BASE), case_text(changed(BASE, title="別件")))
    assert [c.field for c in result.conflicts] == ["title"]


@pytest.mark.parametrize(
    "broken",
    ["id: [unclosed\n", "<<<<<<< ours\nid: x\n=======\nid: y\n>>>>>>> theirs\n", "id: hro-2026-0001\n", "- a list\n"],
)
def test_an_unreadable_side_is_a_merge_error(broken):
    with pytest.raises(MergeError):
        merge_case_texts(case_text(BASE), broken, case_text(BASE))


# --- properties -----------------------------------------------------------------------------------

_events = st.builds(
    Event,
    type=st.sampled_from(["supported", "followed_up"]),
    date=st.integers(min_value=5, max_value=60).map(lambda d: date(2026, 10, 1) + timedelta(days=d)),
    by=st.sampled_from(["hro", "hokuyo", "tokachi"]),
    note=st.one_of(st.none(), st.sampled_from(["訪問", "電話", "メール"])),
)


def _keys(events) -> Counter:
    return Counter(e.model_dump_json() for e in events)


@settings(max_examples=150, deadline=None)
@given(st.lists(_events, max_size=4), st.lists(_events, max_size=5), st.lists(_events, max_size=5))
def test_no_event_is_lost_none_is_doubled_and_the_order_is_by_date(shared, mine, yours):
    base = with_events(BASE, *sorted(shared, key=lambda e: e.date))
    ours = with_events(base, *sorted(mine, key=lambda e: e.date))
    theirs = with_events(base, *sorted(yours, key=lambda e: e.date))
    merged = merge_cases(base, ours, theirs).case.events
    got, o, th = _keys(merged), _keys(ours.events), _keys(theirs.events)
    for key in o | th:
        assert got[key] == max(o[key], th[key])  # every event of either side, no more often than it was
    assert set(got) == set(o) | set(th)
    assert [e.date for e in merged] == sorted(e.date for e in merged)
    # The same events whichever clone runs the merge.
    assert _keys(merge_cases(base, theirs, ours).case.events) == got


def test_the_merge_driver_command_writes_the_merge_into_ours(run, tmp_path: Path):
    files = {}
    ours_case = with_events(BASE, followup(10, "hro"))
    theirs_case = with_events(changed(BASE, title="新しい件名"), followup(12, "hokuyo"))
    for name, case in (("base", BASE), ("ours", ours_case), ("theirs", theirs_case)):
        files[name] = tmp_path / name
        files[name].write_text(case_text(case), encoding="utf-8")
    result = run("merge-driver", files["base"], files["ours"], files["theirs"], "cases/2026/hro-2026-0001.yaml")
    assert result.exit_code == 0, result.stderr
    merged = Case.model_validate(yaml.safe_load(files["ours"].read_text(encoding="utf-8")))
    assert merged.title == "新しい件名" and len(merged.events) == 4

    files["theirs"].write_text(case_text(changed(BASE, title="別の件名")), encoding="utf-8")
    files["ours"].write_text(case_text(changed(BASE, title="この件名")), encoding="utf-8")
    result = run("merge-driver", files["base"], files["ours"], files["theirs"], "cases/2026/hro-2026-0001.yaml")
    assert result.exit_code == 1
    assert "hro-2026-0001" in result.stderr and "title" in result.stderr
    merged = Case.model_validate(yaml.safe_load(files["ours"].read_text(encoding="utf-8")))
    assert merged.conflicts == [Conflict(field="title", ours="この件名", theirs="別の件名")]


def test_the_merge_driver_falls_back_to_conflict_markers_for_an_unreadable_file(run, tmp_path: Path):
    base, ours, theirs = (tmp_path / n for n in ("base", "ours", "theirs"))
    base.write_text(case_text(BASE), encoding="utf-8")
    ours.write_text(case_text(BASE).replace("title: 殺菌工程の見直し", "title: [壊れた"), encoding="utf-8")
    theirs.write_text(case_text(BASE).replace("title: 殺菌工程の見直し", "title: 正しい件名"), encoding="utf-8")
    result = run("merge-driver", base, ours, theirs, "cases/2026/hro-2026-0001.yaml")
    assert result.exit_code == 1
    assert "hro-2026-0001" in result.stderr
    text = ours.read_text(encoding="utf-8")
    assert "<<<<<<<" in text and "title: [壊れた" in text and "title: 正しい件名" in text
