"""Each rule said once: the shared helpers that replaced copies, held to what every caller relied on.

The index's records and the models are one shape (``models.CaseLike``); finding a reference
record by id or by name, the labels a word may be written as, the events one side added, who
acts, an import plan's rows and a target period's counts each have one definition, used by every
command that needs it. Expected values are worked out by hand from the shipped reference data.
"""

from __future__ import annotations

import dataclasses
import typing
from datetime import date
from types import SimpleNamespace

import pytest

from kitamono.casework import acting_institution
from kitamono.errors import FieldError
from kitamono.exchange import ImportPlan, Planned
from kitamono.followup import PeriodCount, count_targets
from kitamono.i18n import t
from kitamono.merge import added_events
from kitamono.models import SHEET_COLUMNS, Case, CaseLike, Company, Conflict, Event, EventLike, Institution
from kitamono.records import CaseRecord, CompanyRecord, ConflictRecord, EventRecord
from kitamono.reference import builtin_words, by_id_or_name, load_reference, squash


@pytest.fixture(scope="module")
def ref():
    return load_reference(None)


# --- one shape of a case ---------------------------------------------------------------------------


def test_a_case_as_the_pure_functions_read_it_is_a_case_or_the_index_record():
    assert typing.get_args(CaseLike) == (Case, CaseRecord)
    assert typing.get_args(EventLike) == (Event, EventRecord)


@pytest.mark.parametrize(("record", "model", "left_out"), [
    (CaseRecord, Case, {"resolved_conflicts"}),  # the index keeps open conflicts only; contact is None
    (EventRecord, Event, set()),
    (CompanyRecord, Company, set()),
    (ConflictRecord, Conflict, {"kind", "ours_events", "theirs_events", "ours_recorded", "theirs_recorded",
                                "decided"}),
])  # fmt: skip
def test_an_index_record_has_the_attribute_names_of_its_model(record, model, left_out):
    assert set(record._fields) == set(model.model_fields) - left_out


# --- reference look-ups ------------------------------------------------------------------------------


def test_a_record_is_found_by_its_key_first_then_by_the_first_name_that_fits():
    first, second = SimpleNamespace(names=("b", "x")), SimpleNamespace(names=("x",))
    records = {"a": first, "b": second}
    names = lambda record: record.names  # noqa: E731
    assert by_id_or_name(records, "a", names) is first
    assert by_id_or_name(records, "b", names) is second  # a key wins over another record's name
    assert by_id_or_name(records, "x", names) is first  # the first record in order
    assert by_id_or_name(records, "nothing", names) is None


@pytest.mark.parametrize(("look_up", "key", "found"), [
    ("institution", "tokachi", "tokachi"),
    ("institution", "とかち財団", "tokachi"),
    ("institution", "公益財団法人とかち財団", "tokachi"),
    ("municipality", "帯広市", "012076"),
    ("municipality", "012076", "012076"),
    ("municipality", "01207", "012076"),  # the code without its check digit
    ("outcome_kind", "commercialised", "commercialised"),
    ("outcome_kind", "事業化", "commercialised"),
])  # fmt: skip
def test_reference_look_ups_by_id_or_name(ref, look_up, key, found):
    record = getattr(ref, look_up)(key)
    assert (record.code if look_up == "municipality" else record.id) == found


def test_column_headings_are_gathered_as_a_choice_s_labels_are(ref):
    words = builtin_words("exchange.col", SHEET_COLUMNS)
    assert words[squash("withdrawn")] == "withdrawn"
    assert words[squash("取下げ")] == "withdrawn"  # exchange.col.withdrawn in Japanese
    assert words[squash("Withdrawn")] == "withdrawn"
    assert words[squash("受付日")] == "received_on"
    assert all(ref.column_names[word] == key for word, key in words.items())


def test_a_reference_id_is_lower_case_ascii():
    with pytest.raises(ValueError, match="ID は英小文字で始め、英小文字・数字・_ だけで書いてください"):
        Institution(id="Tokachi", name="x", short_name="x", kind="network", area=["十勝"])


# --- the events one side added -----------------------------------------------------------------------


def _event(kind: str, day: int) -> Event:
    return Event(type=kind, date=date(2026, 10, day), by="hro")


def test_the_events_one_side_added_are_a_multiset_difference_in_that_side_s_order():
    received, referred, supported = _event("received", 1), _event("referred", 2), _event("supported", 3)
    assert added_events([received], [received, referred, supported]) == [referred, supported]
    # The same event twice on one side and once in the base: one of them was added.
    assert added_events([received, supported], [received, supported, supported]) == [supported]
    assert added_events([received, referred], [received]) == []


# --- who acts ----------------------------------------------------------------------------------------


def test_who_acts_is_the_given_institution_else_this_clone_s():
    assert acting_institution("tokachi", "hro") == "tokachi"
    assert acting_institution(None, "hro") == "hro"
    with pytest.raises(FieldError) as refused:
        acting_institution(None, None)
    assert refused.value.field == "by" and str(refused.value) == t("case.missing_by")


# --- an import plan's rows ------------------------------------------------------------------------


def test_an_import_plan_gives_its_rows_by_what_is_done_with_them():
    plan = ImportPlan([
        Planned(2, None, "add"), Planned(3, None, "error", problems=("3行目: 日付がありません",)),
        Planned(4, None, "duplicate", same_as=2), Planned(5, None, "add"), Planned(6, None, "unchanged"),
    ], file_problems=["列「件名」がありません"])  # fmt: skip
    assert [p.row for p in plan.of("add")] == [2, 5]
    assert [p.row for p in plan.of("duplicate")] == [4]
    assert [p.row for p in plan.of("unchanged")] == [6]
    assert plan.problems == ["列「件名」がありません", "3行目: 日付がありません"]


# --- a target period's counts ----------------------------------------------------------------------


def test_a_target_period_carries_its_counts_as_fields(ref):
    assert {"new", "continuing", "expected_continuing", "total"} <= {f.name for f in dataclasses.fields(PeriodCount)}
    count = count_targets([], ref.targets, date(2030, 3, 31))
    first = count.periods[0]
    assert (first.new, first.continuing, first.expected_continuing, first.total) == (0, 0, 0, 0)
    assert first.state == "missed" and first.gap == -first.target_total
