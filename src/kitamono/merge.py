"""Merging two clones' versions of one case file: the rules behind kitamono's git merge driver.

Git calls the driver with three texts of a case: the common ancestor (base), this clone's
version (ours) and the other clone's (theirs). ``merge_case_texts`` returns the merged case text
and the header fields that could not be merged::

    events      every event of both sides, once each, in date order (an event one side removed
                stays removed; identical events added on both sides are kept once)
    header      company.name, title, field, … : a change made on one side wins; the same change
                on both sides is kept; two different changes keep ours in the field and add
                ``conflicts: [{field: company.name, ours: …, theirs: …}]`` for a person to settle
    conflicts   earlier unresolved conflicts stay until one side removes them

Pure: texts in, text out; no git, no files. A text becomes a case, and a case its text, exactly
as a case file does: through the one reader and writer of case text.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from kitamono.caseio import case_from_text, case_text, validation_message
from kitamono.errors import DataError
from kitamono.i18n import t
from kitamono.models import STORED, Case, Company, Conflict, Contact

#: Header fields that hold a nested record: merged leaf by leaf (``company.name``).
_NESTED: dict[str, type[BaseModel]] = {"company": Company, "contact": Contact}
_LISTS = ("events", "conflicts")


class MergeError(DataError):
    """A side of the merge is not a readable case, so the texts cannot be merged field by field."""


@dataclass(frozen=True)
class MergeResult:
    case: Case
    text: str
    conflicts: list[Conflict]  # the conflicts this merge found (not the ones already recorded)

    @property
    def clean(self) -> bool:
        return not self.conflicts


def parse_case(text: str, name: str) -> Case:
    """The Case in ``text``, or a MergeError naming which side (``name``) is unreadable."""
    try:
        return case_from_text(Path(name), text)
    except DataError as error:  # "ours: …": the side, then what is wrong with it
        raise MergeError(str(error)) from None


def merge_case_texts(base: str | None, ours: str, theirs: str) -> MergeResult:
    """Merge three texts of a case (``base`` None or empty when both sides added the file)."""
    base_case = parse_case(base, "base") if base and base.strip() else None
    return merge_cases(base_case, parse_case(ours, "ours"), parse_case(theirs, "theirs"))


def merge_cases(base: Case | None, ours: Case, theirs: Case) -> MergeResult:
    """The merged case: header field by field, events and recorded conflicts as multisets."""
    base_leaves = header_leaves(base) if base is not None else {}
    ours_leaves, theirs_leaves = header_leaves(ours), header_leaves(theirs)
    merged: dict[str, Any] = {}
    found: list[Conflict] = []
    for key in ours_leaves:
        mine, other, old = ours_leaves[key], theirs_leaves.get(key), base_leaves.get(key, _ABSENT)
        if mine == other or other == old:
            merged[key] = mine
        elif mine == old:
            merged[key] = other
        else:
            merged[key] = mine
            found.append(Conflict.model_validate(
                {"field": key, "ours": describe_value(mine), "theirs": describe_value(other)}, context=STORED
            ))  # fmt: skip
    events = merge_sequences(base.events if base else [], ours.events, theirs.events, record_key)
    events = sorted(events, key=lambda e: e.date)  # stable: same-day events keep their order
    recorded = merge_sequences(base.conflicts if base else [], ours.conflicts, theirs.conflicts, record_key)
    known = {record_key(c) for c in recorded}
    new = [c for c in found if record_key(c) not in known]
    data = _unflatten(merged)
    try:
        case = Case.model_validate({**data, "events": events, "conflicts": [*recorded, *new]}, context=STORED)
    except ValidationError as error:  # every value came from a valid case; kept as a named error
        raise MergeError(t("merge.invalid_result", problem=validation_message(error))) from None
    return MergeResult(case, case_text(case), found)


# --- header fields --------------------------------------------------------------------------------


class _Absent:
    """A field the base did not have (both sides added the file)."""

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return "<absent>"


_ABSENT = _Absent()


def header_leaves(case: Case) -> dict[str, Any]:
    """Every header value of a case keyed by its dotted name, nested records flattened."""
    leaves: dict[str, Any] = {}
    for name in Case.model_fields:
        if name in _LISTS:
            continue
        value = getattr(case, name)
        if name in _NESTED:
            model = _NESTED[name]
            for sub in model.model_fields:
                leaves[f"{name}.{sub}"] = getattr(value, sub) if value is not None else None
        else:
            leaves[name] = value
    return leaves


def _unflatten(leaves: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for key, value in leaves.items():
        head, _, sub = key.partition(".")
        if sub:
            nested.setdefault(head, {})[sub] = value
        else:
            data[key] = value
    for head, values in nested.items():
        # contact is optional: a contact with nothing in it is no contact at all
        data[head] = values if any(v is not None for v in values.values()) or head == "company" else None
    return data


def describe_value(value: Any) -> str | None:
    """A header value as the text a conflict records (lists joined, dates in ISO form)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


# --- events and recorded conflicts ----------------------------------------------------------------


def record_key(record: BaseModel) -> str:
    """An event's (or a recorded conflict's) identity: its type, date, institution and every other
    field. Two records with the same key are the same record, wherever they were written."""
    return json.dumps(record.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)


_Item = TypeVar("_Item")


def merge_sequences(
    base: Iterable[_Item], ours: Iterable[_Item], theirs: Iterable[_Item], key: Callable[[_Item], str]
) -> list[_Item]:
    """A three-way merge of two lists treated as multisets, in ours-then-theirs order.

    For each distinct item: kept as often as both sides agree. Added on one side or on both
    (once, not twice); removed when a side removed it and the other left it alone.
    """
    base_count = Counter(key(item) for item in base)
    ours, theirs = list(ours), list(theirs)
    ours_count, theirs_count = Counter(key(i) for i in ours), Counter(key(i) for i in theirs)
    budget: dict[str, int] = {}
    for k in set(ours_count) | set(theirs_count):
        b, o, th = base_count[k], ours_count[k], theirs_count[k]
        if o >= b and th >= b:
            budget[k] = max(o, th)
        elif o <= b and th <= b:
            budget[k] = min(o, th)
        else:
            budget[k] = max(o + th - b, 0)
    result: list[_Item] = []
    for item in [*ours, *theirs]:
        k = key(item)
        if budget.get(k, 0) > 0:
            budget[k] -= 1
            result.append(item)
    return result
