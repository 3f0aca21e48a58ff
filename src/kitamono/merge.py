"""Merging two clones' versions of one case file: the rules behind kitamono's git merge driver.

Git calls the driver with three texts of a case: the common ancestor (base), this clone's
version (ours) and the other clone's (theirs). ``merge_case_texts`` returns the merged case text
and the header fields that could not be merged::

    events      every event of both sides, once each, in date order (an event one side removed
                stays removed; identical events added on both sides are kept once)
    header      company.name, title, field, … : a change made on one side wins; the same change
                on both sides is kept; two different changes keep ours in the field and add
                ``conflicts: [{field: company.name, ours: …, theirs: …}]`` for a person to settle
    histories   what would break the rules only once both sides' events are joined is a conflict
                too, never a silently broken history: support started on both sides (``kind:
                two_starts``), events recorded on one side after the other closed the case
                (``after_close``). This clone's events stay in the history; the other clone's
                are held in the conflict (``theirs_events``) until a person settles it
    conflicts   earlier unresolved conflicts stay until one side removes them; a conflict settled
                (``resolved_conflicts``, with who decided) is never opened again

``resolve_conflict`` settles one conflict: ours, theirs, or a value of one's own.

Pure: texts in, text out; no git, no files. A text becomes a case, and a case its text, exactly
as a case file does: through the one reader and writer of case text.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from kitamono.caseio import case_from_text, case_text, validation_message
from kitamono.checks import check_case
from kitamono.errors import CaseRuleError, DataError, InputError
from kitamono.i18n import t
from kitamono.models import STORED, Case, Company, Conflict, Contact, Decision, Event, Recorded, Take, Text
from kitamono.reference import Reference

#: Header fields that hold a nested record: merged leaf by leaf (``company.name``).
_NESTED: dict[str, type[BaseModel]] = {"company": Company, "contact": Contact}
_LISTS = ("events", "conflicts", "resolved_conflicts", "changes")


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
    """The merged case: header field by field, events and recorded conflicts as multisets, and
    the histories that only break once joined turned into conflicts."""
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
    base_events = base.events if base else []
    ours_added, theirs_added = added_events(base_events, ours.events), added_events(base_events, theirs.events)
    withdrawn = _withdrawn_against_records(base_leaves.get("withdrawn"), ours, theirs, ours_added, theirs_added)
    if withdrawn is not None:
        merged["withdrawn"] = ours.withdrawn  # this clone's side stays until a person decides
        found.append(withdrawn)
    events = merge_sequences(base_events, ours.events, theirs.events, record_key)
    events = sorted(events, key=lambda e: e.date)  # stable: same-day events keep their order
    settled = merge_sequences(base.resolved_conflicts if base else [], ours.resolved_conflicts,
                              theirs.resolved_conflicts, record_key)  # fmt: skip
    changes = merge_sequences(base.changes if base else [], ours.changes, theirs.changes, record_key)
    changes = sorted(changes, key=lambda c: c.date)  # each clone's corrections of fields, both kept
    closed = {conflict_key(c) for c in settled}
    recorded = merge_sequences(base.conflicts if base else [], ours.conflicts, theirs.conflicts, conflict_key)
    recorded = [c for c in recorded if conflict_key(c) not in closed]
    events, held = _hold_disputed(events, ours_added, theirs_added)
    found += held
    known = {conflict_key(c) for c in recorded} | closed
    new = [c for c in found if conflict_key(c) not in known]
    data = _unflatten(merged)
    try:
        case = Case.model_validate(
            {**data, "events": events, "conflicts": [*recorded, *new], "resolved_conflicts": settled,
             "changes": changes}, context=STORED,
        )  # fmt: skip
    except ValidationError as error:  # every value came from a valid case; kept as a named error
        raise MergeError(t("merge.invalid_result", problem=validation_message(error))) from None
    return MergeResult(case, case_text(case), found)


def conflict_key(conflict: Conflict) -> str:
    """What makes two recorded conflicts the same one: what differs and both sides' values, not
    who recorded them (filled in later) nor the decision."""
    return record_key(conflict.model_copy(update={"ours_recorded": None, "theirs_recorded": None, "decided": None}))


# --- histories that break only once joined --------------------------------------------------------


def added_events(base: Sequence[Event], side: Sequence[Event]) -> list[Event]:
    """The events of ``side`` beyond those of ``base`` (as multisets, in ``side``'s order)."""
    budget = Counter(record_key(e) for e in base)
    added = []
    for event in side:
        key = record_key(event)
        if budget[key] > 0:
            budget[key] -= 1
        else:
            added.append(event)
    return added


def _withdrawn_against_records(
    old: Any, ours: Case, theirs: Case, ours_added: list[Event], theirs_added: list[Event]
) -> Conflict | None:
    """A case withdrawn on one side while the other side recorded on it: a conflict (``withdrawn``)
    with the withdrawal on one side and the records on the other, instead of the withdrawal
    silently winning over work the other institution did."""
    old = None if old is _ABSENT else old
    mine, other = ours.withdrawn, theirs.withdrawn
    if mine == other:
        return None
    same = {record_key(e) for e in ours_added} & {record_key(e) for e in theirs_added}
    if mine is not None and mine != old and other == old:
        records = [e for e in theirs_added if record_key(e) not in same]
        if records:
            return _withdrawn_conflict(mine, None, [], records)
    if other is not None and other != old and mine == old:
        records = [e for e in ours_added if record_key(e) not in same]
        if records:
            return _withdrawn_conflict(mine, other, records, [])
    return None


def _withdrawn_conflict(mine: Any, other: Any, ours: list[Event], theirs: list[Event]) -> Conflict:
    def recorded(withdrawal: Any, events: list[Event]) -> Recorded | None:
        if withdrawal is not None:
            return Recorded(institution=withdrawal.by, on=withdrawal.date)
        return _recorded(events)

    return Conflict.model_validate(
        {"field": "withdrawn", "kind": "withdrawn", "ours": describe_value(mine), "theirs": describe_value(other),
         "ours_events": ours, "theirs_events": theirs, "ours_recorded": recorded(mine, ours),
         "theirs_recorded": recorded(other, theirs)},
        context=STORED,
    )  # fmt: skip


def _counts(event: Event) -> bool:
    """An event that counts in the history (one voided by a correction does not)."""
    return getattr(event, "voided", None) is None


def _hold_disputed(
    events: list[Event], ours_added: list[Event], theirs_added: list[Event]
) -> tuple[list[Event], list[Conflict]]:
    """The joined history without the other side's disputed events, and the conflicts holding them.

    Two starts of support: the other clone's start is held. Events after a close that the other
    side did not know of: the other clone's part is held (its events after this clone's close,
    or its close before this clone's events). Identical events added on both sides are no dispute.
    """
    mine = {record_key(e) for e in ours_added} - {record_key(e) for e in theirs_added}
    other = {record_key(e) for e in theirs_added} - {record_key(e) for e in ours_added}
    conflicts: list[Conflict] = []

    their_starts = [e for e in events if record_key(e) in other and e.type == "started" and _counts(e)]
    kept_starts = [e for e in events if record_key(e) not in other and e.type == "started" and _counts(e)]
    if their_starts and kept_starts:
        events = [e for e in events if not _is_in(e, their_starts)]
        conflicts.append(_event_conflict("two_starts", "lead", kept_starts, their_starts))

    kept, held, close = _split_after_close(events, other)
    if held:
        if held[0] is close:  # their close, before events of ours: ours are what came after it
            ours_part = [e for e in kept if record_key(e) in mine and e.date >= close.date and _counts(e)]
        else:  # our close (or one both sides had), before events of theirs
            ours_part = [close] if close is not None else []
        conflicts.append(_event_conflict("after_close", "closed", ours_part, held))
        events = kept
    return events, conflicts


def _split_after_close(events: list[Event], other: set[str]) -> tuple[list[Event], list[Event], Event | None]:
    """(kept, held, the close in dispute): walking the history in date order, where one side's
    events follow the other side's close, the other clone's part is held: its events after our
    close, or its close when events of ours follow it."""
    held: list[Event] = []
    closed_by: str | None = None  # "ours" (this clone, or the common past) or "theirs"
    close: Event | None = None
    disputed: Event | None = None
    for event in events:
        if not _counts(event):
            continue
        side = "theirs" if record_key(event) in other else "ours"
        if event.type == "reopened":
            closed_by = None
        elif closed_by == "ours" and side == "theirs":
            held.append(event)
            disputed = disputed or close
            continue
        elif closed_by == "theirs" and side == "ours" and close is not None:
            held.append(close)
            disputed = disputed or close
            closed_by = None
        if event.type == "closed":
            closed_by, close = side, event
    return [e for e in events if not _is_in(e, held)], held, disputed


def _is_in(event: Event, chosen: list[Event]) -> bool:
    return any(event is other for other in chosen)


def _event_conflict(kind: str, field: str, ours: list[Event], theirs: list[Event]) -> Conflict:
    return Conflict.model_validate(
        {"field": field, "kind": kind, "ours": _events_value(kind, ours), "theirs": _events_value(kind, theirs),
         "ours_events": ours, "theirs_events": theirs, "ours_recorded": _recorded(ours),
         "theirs_recorded": _recorded(theirs)},
        context=STORED,
    )  # fmt: skip


def _events_value(kind: str, events: list[Event]) -> str | None:
    """A side's value as stored text: the lead of a start, else each event as ``date type``."""
    if kind == "two_starts":
        return ", ".join(e.lead or "" for e in events) or None
    return ", ".join(f"{e.date.isoformat()} {e.type}" for e in events) or None


def _recorded(events: list[Event]) -> Recorded | None:
    """Who recorded a side, as its own events say (``sync`` puts the commit's author instead)."""
    if not events:
        return None
    return Recorded(institution=events[0].by, on=events[0].date)


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
    if isinstance(value, BaseModel):  # a record in the header (withdrawn): its fields as JSON
        return json.dumps(value.model_dump(mode="json"), ensure_ascii=False)
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


# --- settling a conflict ----------------------------------------------------------------------------

#: Header fields that name an institution, or a municipality: a value of one's own may use their names.
_INSTITUTION_FIELDS = ("received_by", "company.bank")


@dataclass(frozen=True)
class Choice:
    """What a person decided for one open conflict: a side, or (``take="value"``) a value of their own."""

    conflict: Conflict
    take: Take
    value: str | None = None


def resolve_conflicts(
    case: Case, choices: list[Choice], ref: Reference, by: str, on: date, person: str | None = None
) -> Case:
    """The case with each chosen conflict settled, or a CaseRuleError/InputError saying why not.

    The side taken goes into the case (a header field's value; for the kinds about events, that
    side's events into the history and the other side's out), and the conflict moves to
    ``resolved_conflicts`` with both sides and the decision (who, when, what was taken), so that
    nothing recorded is lost. The result must follow the same rules as any recording.
    """
    before = {p.message for p in check_case(case, case.id, ref, on) if p.message not in _conflict_lines(case)}
    for choice in choices:
        case = _settle(case, choice, ref, Decision(by=by, on=on, took=choice.take, person=person))
    problems = [p.message for p in check_case(case, case.id, ref, on) if p.message not in before]
    problems = [m for m in problems if m not in _conflict_lines(case)]
    if problems:
        raise CaseRuleError(t("resolve.breaks_rules", problem=problems[0]))
    return case


def _conflict_lines(case: Case) -> set[str]:
    return {t("check.conflict", field=c.field, ours=c.ours, theirs=c.theirs) for c in case.conflicts}


def _settle(case: Case, choice: Choice, ref: Reference, decision: Decision) -> Case:
    conflict = choice.conflict
    key = conflict_key(conflict)
    if all(conflict_key(c) != key for c in case.conflicts):
        raise InputError(t("resolve.not_open", field=conflict.field))
    value: str | None
    if conflict.kind in ("field", "withdrawn"):
        if conflict.kind == "withdrawn" and choice.take == "value":
            raise InputError(t("resolve.no_own_value", field=conflict.field))
        value = _field_choice(conflict, choice, ref)
        leaves = header_leaves(case)
        leaves[conflict.field] = _typed(leaves.get(conflict.field), value, record=conflict.kind == "withdrawn")
        update = {**_unflatten(leaves)}
        events = list(case.events)
    elif conflict.kind == "two_starts":
        events, value = _starts_choice(case, conflict, choice, ref)
        update = {}
    elif choice.take == "value":
        raise InputError(t("resolve.no_own_value", field=conflict.field))
    else:
        events = _take_events(case.events, conflict, choice.take)
        value = conflict.ours if choice.take == "ours" else conflict.theirs
        update = {}
    settled = conflict.model_copy(update={"decided": decision.model_copy(update={"value": value})})
    data = {**case.model_dump(), **update, "events": sorted(events, key=lambda e: e.date),
            "conflicts": [c for c in case.conflicts if conflict_key(c) != key],
            "resolved_conflicts": [*case.resolved_conflicts, settled]}  # fmt: skip
    try:
        return Case.model_validate(data, context=STORED)
    except ValidationError as error:
        raise InputError(f"{conflict.field}: {validation_message(error)}") from None


def _field_choice(conflict: Conflict, choice: Choice, ref: Reference) -> str | None:
    if choice.take != "value":
        return conflict.ours if choice.take == "ours" else conflict.theirs
    text = (choice.value or "").strip()
    try:
        text = TypeAdapter(Text).validate_python(text)  # no control characters in a value typed now
    except ValidationError as error:
        raise InputError(f"{conflict.field}: {validation_message(error)}") from None
    if conflict.field in _INSTITUTION_FIELDS and text:
        return ref.institution(text).id
    if conflict.field == "company.municipality" and text:
        return ref.municipality(text).name
    return text or None


def _typed(current: Any, text: str | None, record: bool = False) -> Any:
    """A value as stored text (``describe_value``) back in the field's own form (lists split,
    a record from its JSON)."""
    if text is None:
        return None
    if record:
        return json.loads(text)
    if isinstance(current, list | tuple):
        return [part.strip() for part in text.replace("、", ",").split(",") if part.strip()]
    return text


def _take_events(events: list[Event], conflict: Conflict, take: Take) -> list[Event]:
    """The history with the side taken: ours is already in it; theirs replaces ours."""
    if take == "ours":
        return list(events)
    drop = Counter(record_key(e) for e in conflict.ours_events)
    kept = []
    for event in events:
        key = record_key(event)
        if drop[key] > 0:
            drop[key] -= 1
            continue
        kept.append(event)
    return [*kept, *conflict.theirs_events]


def _starts_choice(case: Case, conflict: Conflict, choice: Choice, ref: Reference) -> tuple[list[Event], str | None]:
    """Two starts settled: one side's start, or ours with the lead a person names."""
    if choice.take != "value":
        value = conflict.ours if choice.take == "ours" else conflict.theirs
        return _take_events(case.events, conflict, choice.take), value
    lead = ref.institution((choice.value or "").strip()).id
    ours = set(map(record_key, conflict.ours_events))
    events = []
    for event in case.events:
        if record_key(event) in ours:
            event = event.model_copy(update={"lead": lead, "supporting": [i for i in event.supporting if i != lead]})
        events.append(event)
    return events, lead


def parse_choices(case: Case, takes: list[str], values: list[str]) -> list[Choice]:
    """``--take ours``, ``--take company.name=theirs``, ``--take 2=ours``, ``--value 件名``,
    ``--value title=件名`` read against a case's open conflicts (numbered from 1 as listed).

    A bare ``--take`` settles every open conflict not named otherwise; a bare ``--value`` needs
    exactly one open conflict. Conflicts left out stay open.
    """
    open_ = list(case.conflicts)
    if not open_:
        raise InputError(t("resolve.nothing_open", id=case.id))
    if not takes and not values:
        raise InputError(t("resolve.nothing_chosen", id=case.id, items=_items(open_)))
    chosen: dict[int, Choice] = {}
    every: Take | None = None
    for text in takes:
        at, rest = _item(open_, text)
        take = rest.strip().lower()
        if take not in ("ours", "theirs"):
            raise InputError(t("resolve.bad_take", value=text))
        if at is None:
            every = "ours" if take == "ours" else "theirs"
        else:
            chosen[at] = Choice(open_[at], "ours" if take == "ours" else "theirs")
    for text in values:
        at, rest = _item(open_, text)
        if at is None:
            if len(open_) != 1:
                raise InputError(t("resolve.which_value", items=_items(open_)))
            at = 0
        chosen[at] = Choice(open_[at], "value", rest)
    if every is not None:
        for at, conflict in enumerate(open_):
            chosen.setdefault(at, Choice(conflict, every))
    return [chosen[at] for at in sorted(chosen)]


def _item(open_: list[Conflict], text: str) -> tuple[int | None, str]:
    """(which open conflict ``ITEM=…`` names, the rest); (None, text) without a known item."""
    head, sign, rest = text.partition("=")
    if not sign:
        return None, text
    head = head.strip()
    for at, conflict in enumerate(open_):
        if head in (str(at + 1), conflict.field):
            return at, rest
    if head.isdigit() or (head.isascii() and head.replace(".", "").replace("_", "").isalpha()):
        raise InputError(t("resolve.unknown_item", item=head, items=_items(open_)))
    return None, text


def _items(open_: list[Conflict]) -> str:
    return ", ".join(f"{at + 1}={c.field}" for at, c in enumerate(open_))
