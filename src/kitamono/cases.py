"""The life of a case: its status, the rules its events follow, and adding an event.

Status is derived from the events, never stored::

    received → 受付      referred → 紹介済      started / supported / team_formed → 支援中
    followed_up → フォローアップ中      closed → 終了      reopened → back to what it was

The rules (``event_problems``) are the single source for both ``case <event>`` commands, which
refuse an event that breaks them, and ``check``, which reports files that already do.

This is also the one place that says what counts: an event voided as recorded by mistake and a
case withdrawn (取下げ) stay in their files but count nowhere (``counted_events``, ``counts``);
status, follow-ups, targets and every report read a case's events through ``counted_events``.
The corrections themselves (amend, void, set, withdraw, restore) are made here as pure changes of
a case, each checked by the same rules as recording and recorded as who, when, why and what was
there before; events are numbered 1, 2, 3 … in the file's (date) order, voided ones included.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError

from kitamono.errors import CaseRuleError, InputError
from kitamono.i18n import label, t
from kitamono.models import Case, CaseLike, Correction, Event, EventLike, FieldChange, Mark
from kitamono.reference import Reference

_STATUS_OF_EVENT = {
    "received": "received",
    "referred": "referred",
    "started": "supporting",
    "supported": "supporting",
    "team_formed": "supporting",
    "followed_up": "following_up",
    "closed": "closed",
}


def counted_events(case: CaseLike) -> list[EventLike]:
    """The events that count: all but those voided, in the file's order (the rules keep it by date)."""
    return [e for e in case.events if e.voided is None]


def counts(case: CaseLike) -> bool:
    """Whether a case counts at all: False once it is withdrawn (取下げ)."""
    return case.withdrawn is None


def events_until(case: CaseLike, as_of: date | None) -> list[EventLike]:
    """The events that count dated on or before ``as_of`` (all that count when ``as_of`` is None)."""
    if as_of is None:
        return counted_events(case)
    return [e for e in case.events if e.voided is None and e.date <= as_of]


def status(case: CaseLike, as_of: date | None = None) -> str:
    """受付, 紹介済, 支援中, フォローアップ中 or 終了 (as their ids), from the events alone."""
    return status_after(events_until(case, as_of))


def status_after(events: Iterable[EventLike]) -> str:
    """The status a case has after ``events`` (its events, in order, up to some day)."""
    current = "received"
    before_close = current
    for event in events:
        if event.type == "reopened":
            current = before_close
        elif event.type == "closed":
            before_close, current = current, "closed"
        elif event.type == "supported" and current == "following_up":
            continue  # support given during follow-up keeps the case in follow-up
        elif event.type == "followed_up" and current == "closed":
            continue  # a follow-up owed after the close (1(5)) does not reopen the case
        else:
            current = _STATUS_OF_EVENT[event.type]
    return current


def start_event(case: CaseLike, as_of: date | None = None) -> EventLike | None:
    """The ``started`` event, when support has begun (by ``as_of``)."""
    return next((e for e in events_until(case, as_of) if e.type == "started"), None)


def lead(case: CaseLike) -> str | None:
    started = start_event(case)
    return started.lead if started else None


def last_contact(case: CaseLike, as_of: date | None = None) -> date | None:
    events = events_until(case, as_of)
    return events[-1].date if events else None


def suggest_field(text: str, reference: Reference, title: str | None = None) -> str:
    """The support field whose keywords appear most in ``text``; ``other`` when none do.

    Full-width letters and digits count as their ASCII forms (ＩｏＴ is IoT). ``field_guess``
    says how (a near tie goes to the field the title names).
    """
    return field_guess(text, reference, title).field


@dataclass(frozen=True)
class FieldGuess:
    """A suggested field, the keywords each field had in the text, and the near tie it settled."""

    field: str
    words: dict[str, list[str]]  # field id -> its keywords found, in order of appearance
    tie: tuple[str, str] | None = None  # the two fields (the chosen one first) when they nearly tied
    by_title: bool = False  # the tie went to the field the title names


def field_guess(text: str, reference: Reference, title: str | None = None) -> FieldGuess:
    """Count the different keywords of each field in ``text``, a longer keyword hiding the ones
    inside it (「製造ライン」 is one word, its 「製造」 not counted); the field with most wins.

    When the top two are within ``field_near_tie`` (data/routing.yaml) of each other, the field
    the title names wins (of two named there, the one named first: 「コロッケ製造ラインの自動化」
    is food); a title that names neither leaves the one with more words, and an exact tie the
    first in data order, said as a tie. ``title`` None is the first line of a text of several lines.
    """
    text = unicodedata.normalize("NFKC", text)
    if title is None:
        lines = text.strip().splitlines()
        title = lines[0] if len(lines) > 1 else ""
    title = unicodedata.normalize("NFKC", title)
    hits: list[tuple[int, int, str, str]] = []
    for field_id, spec in reference.fields.items():
        for word in spec.keywords:
            needle = unicodedata.normalize("NFKC", word)
            start = text.find(needle)
            while needle and start >= 0:
                hits.append((start, start + len(needle), word, field_id))
                start = text.find(needle, start + 1)
    kept = sorted(
        hit for hit in hits
        if not any(o[0] <= hit[0] and hit[1] <= o[1] and o[1] - o[0] > hit[1] - hit[0] for o in hits)
    )  # fmt: skip
    words: dict[str, list[str]] = {}
    for _, _, word, field_id in kept:
        if word not in words.setdefault(field_id, []):
            words[field_id].append(word)
    scores = {field_id: len(words.get(field_id, [])) for field_id in reference.fields}  # distinct words
    ranked = sorted((f for f in scores if scores[f] > 0), key=lambda f: -scores[f])
    if not ranked:
        return FieldGuess("other", {})
    near = reference.routing.field_near_tie if reference.routing else 1
    if len(ranked) < 2 or scores[ranked[0]] - scores[ranked[1]] > near:
        return FieldGuess(ranked[0], words)
    first, second = ranked[0], ranked[1]
    at = text.find(title) if title.strip() else -1
    end = at + len(title) if at >= 0 else 0
    named = {f: min(h[0] for h in kept if h[3] == f and h[1] <= end) for f in (first, second)
             if any(h[3] == f and h[1] <= end for h in kept)}  # fmt: skip
    if named:
        chosen = min(named, key=lambda f: named[f])
        other = second if chosen == first else first
        return FieldGuess(chosen, words, (chosen, other), by_title=True)
    if scores[first] > scores[second]:
        return FieldGuess(first, words)  # the title does not decide: the one with more words, no tie to tell
    return FieldGuess(first, words, (first, second))


@dataclass(frozen=True)
class PlanFit:
    plans: tuple[str, ...]  # the basic plans covering the municipality
    fits: bool  # whether one of them has a strategy the case fits
    plan: str | None = None  # the plan that fits (else the first plan)
    strategy: str | None = None  # the strategy line that fits
    words: tuple[str, ...] = ()  # the line's own words found in the text (empty: fits by its field)


def basic_plan_fit(field_id: str, municipality: str, ref: Reference, text: str = "") -> PlanFit:
    """The municipality's basic plans, and the strategy line the case fits: one whose own words
    (``words``) the text names, else one whose fields include the case's field."""
    plans = ref.plans_for(municipality)
    haystack = unicodedata.normalize("NFKC", text).casefold()
    by_field: PlanFit | None = None
    for plan in plans:
        for strategy in plan.strategies:
            words = tuple(w for w in strategy.words if unicodedata.normalize("NFKC", w).casefold() in haystack)
            if words:
                return PlanFit(tuple(p.id for p in plans), True, plan.id, strategy.text, words)
            if by_field is None and field_id in strategy.fields:
                by_field = PlanFit(tuple(p.id for p in plans), True, plan.id, strategy.text)
    return by_field or PlanFit(tuple(p.id for p in plans), False, plans[0].id if plans else None)


def plan_fit(case_field: str, municipality: str, reference: Reference, text: str = "") -> tuple[list[str], bool]:
    """The basic plans covering the municipality, and whether the case fits one of them: by a
    strategy line's own words in the case's ``text`` (its title and summary), or by its field."""
    fit = basic_plan_fit(case_field, municipality, reference, text)
    return list(fit.plans), fit.fits


def case_text(case: CaseLike) -> str:
    """What a case says of itself, as routing and plan fit read it: its title and its summary."""
    return f"{case.title}\n{case.summary}"


# --- the rules -----------------------------------------------------------------------------------


def event_problems(
    case: CaseLike, reference: Reference, today: date | None = None, named: int | None = None, numbered: bool = False
) -> list[tuple[int, str]]:
    """Every broken rule in a case's events, as (event index, message).

    Each message names its event as ``events[3]`` (where a file's reader finds it), except the
    event at index ``named``, the one a command is recording: that one is "this event"; with
    ``numbered``, each other event is named by its number as ``case history`` shows it. A voided
    event keeps its place in date order and is held to no other rule: it does not count.
    """
    problems: list[tuple[int, str]] = []
    known = reference.institutions
    started = closed = received = False
    previous: date | None = None

    def problem(index: int, key: str, **values: object) -> None:
        problems.append((index, t(key, **values)))

    events: Sequence[EventLike] = case.events  # a list or a tuple of either kind
    for index, event in enumerate(events):
        where = t("word.event") if index == named else (
            t("correct.event_number", number=index + 1) if numbered else f"events[{index}]"
        )
        if previous is not None and event.date < previous:
            problem(index, "rule.out_of_order", where=where)
        previous = event.date
        if event.voided is not None:
            continue
        if not received and event.type != "received":
            problem(index, "rule.first_received", where=where)
        if event.date < case.received_on:
            problem(index, "rule.before_received", where=where, date=event.date, received=case.received_on)
        if today is not None and event.date > today:
            problem(index, "rule.future", where=where, date=event.date)
        for role, ident in _institutions_named(event):
            if ident not in known:
                problem(index, "rule.unknown_institution", where=f"{where}.{role}", value=ident)
        if closed and event.type not in ("reopened", "followed_up"):  # follow-ups stay owed after a close (1(5))
            problem(index, "rule.after_close", where=where, type=label("event", event.type))
        if event.type != "closed" and (event.outcome_kind or event.follow_up_waiver):
            problem(index, "rule.close_fields_elsewhere", where=where, type=label("event", event.type))
        if event.outcome_kind and event.outcome_kind not in reference.outcomes:
            problem(index, "rule.unknown_outcome_kind", where=f"{where}.outcome_kind", value=event.outcome_kind)
        if event.type == "received" and received:
            problem(index, "rule.received_twice", where=where)
        elif event.type == "referred":
            if not event.to:
                problem(index, "rule.referral_needs_to", where=where)
            elif event.to == event.by:
                problem(index, "rule.referral_to_self", where=where, institution=reference.short_name(event.by))
        elif event.type == "started":
            if started:
                problem(index, "rule.started_twice", where=where)
            if not event.lead:
                problem(index, "rule.start_needs_lead", where=where)
            started = True
        elif event.type in ("supported", "followed_up") and not started:
            problem(index, "rule.before_start", where=where, type=label("event", event.type))
        elif event.type == "team_formed":
            if len(event.members) < 2:
                problem(index, "rule.team_needs_members", where=where)
            if not started:  # a team is an escalation (3(2)②エ): it never makes a case 支援中 without a lead
                problem(index, "rule.team_before_start", where=where)
        elif event.type == "closed":
            if not event.outcome:
                problem(index, "rule.close_needs_outcome", where=where)
            closed = True
        elif event.type == "reopened":
            if not closed:
                problem(index, "rule.reopen_not_closed", where=where)
            closed = False
        received = True  # the first event that counts has been seen
    return problems


def _institutions_named(event: EventLike) -> Iterable[tuple[str, str]]:
    yield "by", event.by
    if event.to:
        yield "to", event.to
    if event.lead:
        yield "lead", event.lead
    for ident in event.supporting:
        yield "supporting", ident
    for ident in event.members:
        yield "members", ident


def add_event(case: Case, event: Event, reference: Reference, today: date) -> Case:
    """The case with ``event`` in its place by date, or a CaseRuleError naming the broken rule.

    An event recorded late (dated before the last one) goes where its date puts it, and the
    whole history must still follow the rules; a problem of the new event is named first.
    """
    events = list(case.events)
    position = len(events)
    while position > 0 and events[position - 1].date > event.date:
        position -= 1
    events.insert(position, event)
    updated = case.model_copy(update={"events": events})
    problems = event_problems(updated, reference, today, named=position)
    if problems:
        own = [message for index, message in problems if index == position]
        raise CaseRuleError((own or [problems[0][1]])[0])
    return updated


# --- corrections ---------------------------------------------------------------------------------

#: The event fields ``case amend`` changes, and those that only some kinds of event have.
AMENDABLE = ("date", "by", "to", "lead", "supporting", "members", "outcome", "note")
_ONLY_FOR = {"to": "referred", "lead": "started", "supporting": "started", "members": "team_formed",
             "outcome": "closed"}  # fmt: skip
#: The case's own fields ``case set`` changes, by their dotted names (as ``kitamono log`` names them).
SETTABLE = ("title", "company.name", "company.municipality", "summary", "field", "needs", "company.bank",
            "approved_project")  # fmt: skip


def stored_value(value: Any) -> str | list[str] | None:
    """A value as a correction records it: dates in ISO form, lists as lists, nothing as None."""
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return str(value)


def mark_text(mark: Mark) -> str:
    """A void or a withdrawal in one line, as a correction that takes it back records it."""
    return f"{mark.date.isoformat()} {mark.by}: {mark.reason}"


def event_index(case: CaseLike, number: int) -> int:
    """Where event ``number`` (1, 2, 3 … as ``case history`` shows them) is, or an InputError."""
    if not 1 <= number <= len(case.events):
        raise InputError(t("correct.no_event", id=case.id, number=number, count=len(case.events)))
    return number - 1


def amend_event(case: Case, number: int, values: dict[str, Any], correction: Correction, reference: Reference,
                today: date) -> tuple[Case, int]:  # fmt: skip
    """The case with event ``number`` changed to ``values`` (``AMENDABLE`` fields), moved to its
    place should its date change, and the change recorded on it; and the event's new number.

    ``correction`` says who, when and why; the fields it changed (before and after) are added
    here. Amending the first event (受付) moves the inquiry's own date and institution with it.
    """
    index = event_index(case, number)
    old = case.events[index]
    if old.voided is not None:
        raise CaseRuleError(t("correct.amend_voided", id=case.id, number=number))
    for name in values:
        kind = _ONLY_FOR.get(name)
        if kind is not None and kind != old.type:
            raise InputError(t("correct.not_for_event", option="--" + {"supporting": "with"}.get(name, name),
                               event=label("event", old.type)))  # fmt: skip
    fields = [FieldChange(field=name, old=stored_value(getattr(old, name)), new=stored_value(value))
              for name, value in values.items() if getattr(old, name) != value]  # fmt: skip
    if not fields:
        raise InputError(t("correct.nothing_changed", id=case.id))
    recorded = correction.model_copy(update={"fields": fields})
    try:
        new = Event.model_validate({**old.model_dump(), **values, "amendments": [*old.amendments, recorded]})
    except ValidationError as error:
        raise InputError(_validation_message(error)) from None
    header: dict[str, Any] = {}
    if index == 0 and old.type == "received":
        header = {"received_on": new.date, "received_by": new.by}
    events = list(case.events)
    del events[index]
    position = index
    if new.date != old.date:
        position = sum(1 for e in events if e.date <= new.date)
    events.insert(position, new)
    return _checked(case.model_copy(update={**header, "events": events}), position, reference, today), position + 1


def void_event(case: Case, number: int, mark: Mark, reference: Reference, today: date) -> Case:
    """The case with event ``number`` voided (kept in its place, counted nowhere), if the events
    that still count follow the rules without it."""
    index = event_index(case, number)
    old = case.events[index]
    if old.voided is not None:
        raise CaseRuleError(t("correct.already_voided", id=case.id, number=number))
    if old.type == "received" and not any(e.voided is None and e.type == "received" for e in case.events[:index]):
        raise CaseRuleError(t("correct.void_received", id=case.id))
    events = list(case.events)
    events[index] = old.model_copy(update={"voided": mark})
    return _checked(case.model_copy(update={"events": events}), index, reference, today)


def unvoid_event(case: Case, number: int, correction: Correction, reference: Reference, today: date) -> Case:
    """The case with the void of event ``number`` taken back (and that recorded on the event),
    if the history still holds with it counting again."""
    index = event_index(case, number)
    old = case.events[index]
    if old.voided is None:
        raise CaseRuleError(t("correct.not_voided", id=case.id, number=number))
    recorded = correction.model_copy(update={"fields": [FieldChange(field="voided", old=mark_text(old.voided))]})
    events = list(case.events)
    events[index] = old.model_copy(update={"voided": None, "amendments": [*old.amendments, recorded]})
    return _checked(case.model_copy(update={"events": events}), index, reference, today)


def _checked(case: Case, index: int, reference: Reference, today: date) -> Case:
    """``case`` if its whole history follows the rules; else a CaseRuleError naming the first
    broken rule (one of the event at ``index`` first), events named by their numbers."""
    problems = event_problems(case, reference, today, named=index, numbered=True)
    if problems:
        own = [message for at, message in problems if at == index]
        raise CaseRuleError(t("correct.breaks_rules", problem=(own or [problems[0][1]])[0]))
    return case


def set_case_fields(case: Case, values: dict[str, Any], correction: Correction) -> Case:
    """The case with its own fields (``SETTABLE``, dotted names) set to ``values`` (already checked
    against the reference data by the caller), and the change recorded in ``changes``."""
    current = {name: _dotted(case, name) for name in values}
    fields = [FieldChange(field=name, old=stored_value(current[name]), new=stored_value(value))
              for name, value in values.items() if current[name] != value]  # fmt: skip
    if not fields:
        raise InputError(t("correct.nothing_changed", id=case.id))
    data = case.model_dump()
    for name, value in values.items():
        head, _, sub = name.partition(".")
        if sub:
            data[head][sub] = value
        else:
            data[name] = value
    data["changes"] = [*data["changes"], correction.model_copy(update={"fields": fields}).model_dump()]
    try:
        return Case.model_validate(data)
    except ValidationError as error:
        raise InputError(_validation_message(error)) from None


def _dotted(case: Case, name: str) -> Any:
    head, _, sub = name.partition(".")
    value = getattr(case, head)
    return getattr(value, sub) if sub else value


def withdraw_case(case: Case, mark: Mark) -> Case:
    """The case withdrawn (取下げ): kept in its file, counted nowhere, listed only when asked."""
    if case.withdrawn is not None:
        raise CaseRuleError(t("correct.already_withdrawn", id=case.id, on=case.withdrawn.date))
    return case.model_copy(update={"withdrawn": mark})


def restore_case(case: Case, correction: Correction) -> Case:
    """The case counting again, its withdrawal recorded in ``changes``."""
    if case.withdrawn is None:
        raise CaseRuleError(t("correct.not_withdrawn", id=case.id))
    recorded = correction.model_copy(update={"fields": [FieldChange(field="withdrawn", old=mark_text(case.withdrawn))]})
    return case.model_copy(update={"withdrawn": None, "changes": [*case.changes, recorded]})


def in_date_order(case: Case) -> Case:
    """The case with its events in date order (events of one day keep their order)."""
    events = sorted(case.events, key=lambda e: e.date)
    return case if events == list(case.events) else case.model_copy(update={"events": events})


def _validation_message(error: ValidationError) -> str:
    from kitamono.caseio import validation_message

    return validation_message(error)

