"""Everyday work on cases: log a new one, record an event, correct one, edit by hand, load them all.

Each function is one command's core call: it reads what it needs (``caseio``, the ``index``),
applies the rules of ``cases`` and ``checks``, and writes through ``store``; it never prints.
Every check runs before any write, so a refused command leaves every file as it was. A change to
a case is made on the file as it is when the change is written (``store.update_case``), never on
a copy read earlier, so two people recording on one case at once both keep their events.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pydantic import ValidationError

from kitamono import store
from kitamono.caseio import load_case_file, parse_case_text, read_case_text, validation_message
from kitamono.cases import add_event, case_text, in_date_order, plan_fit, suggest_field
from kitamono.checks import check_case
from kitamono.errors import CaseRuleError, DataError, FieldError, InputError, KitamonoError
from kitamono.fiscal import fiscal_year, format_fiscal_year, fy_bounds, parse_date
from kitamono.i18n import t
from kitamono.models import (
    CASE_FIELDS,
    CHANNELS,
    COMPETENCES,
    Case,
    CaseLike,
    Company,
    Contact,
    Correction,
    Event,
    EventType,
    Mark,
)
from kitamono.reference import Reference

if TYPE_CHECKING:  # the index loads when cases are listed, not to log or record one
    from kitamono.checks import Problem
    from kitamono.index import CaseRecord, Loaded

C = TypeVar("C", bound=CaseLike)


@dataclass
class NewCase:
    """What a user gives to log an inquiry (already parsed: dates are dates)."""

    company: str
    municipality: str
    title: str
    received_by: str
    channel: str
    received_on: date
    summary: str = ""
    field: str | None = None
    needs: list[str] = dataclasses.field(default_factory=list)
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    approved_project: date | None = None
    bank: str | None = None
    note: str | None = None
    demo: bool = False
    date_outside_plan: bool = False  # a date before the plan began was confirmed as meant


@dataclass
class Logged:
    case: Case
    warnings: list[str]


def recognised_needs(text: str, ref: Reference) -> list[str]:
    """Needs recognised from the inquiry's words (the vocabulary of data/needs.yaml)."""
    from kitamono.routing import recognise_needs

    title = text.split("\n", 1)[0] if "\n" in text else ""
    return [match.need for match in recognise_needs(text, ref, title)]


def build_case(new: NewCase, ref: Reference, today: date, *, field_notice: str = "case.field_suggested") -> Logged:
    """A valid new Case (id still a placeholder) and the warnings it deserves.

    ``field_notice``: the catalogue key of the warning that the field was guessed, which says
    how to choose it (``--field`` on the command line; a page names its own field selector)."""
    check_received_on(new.received_on, ref, today, allowed=new.date_outside_plan)
    received_by = ref.institution(new.received_by).id
    municipality = ref.municipality(new.municipality).name
    bank = ref.institution(new.bank).id if new.bank else None
    if new.channel not in CHANNELS:
        raise InputError(t("case.bad_channel", value=new.channel, choices=", ".join(CHANNELS)))
    text = f"{new.title}\n{new.summary}"
    case_field = new.field or suggest_field(text, ref)
    if case_field not in CASE_FIELDS:
        raise InputError(t("case.bad_field", value=case_field, choices=", ".join(CASE_FIELDS)))
    needs = new.needs or recognised_needs(text, ref)
    for need in needs:
        if need not in COMPETENCES:
            raise InputError(t("case.bad_need", value=need, choices=", ".join(COMPETENCES)))
    contact = None
    if new.contact_name or new.contact_phone or new.contact_email:
        contact = Contact(person=new.contact_name, phone=new.contact_phone, email=new.contact_email)
    try:
        case = Case(
            id="new-0000-0000",
            demo=new.demo,
            received_on=new.received_on,
            received_by=received_by,
            channel=new.channel,
            company=Company(name=new.company.strip(), municipality=municipality, bank=bank),
            contact=contact,
            title=new.title.strip(),
            summary=new.summary.strip(),
            field=case_field,
            needs=list(dict.fromkeys(needs)),
            approved_project=new.approved_project,
            events=[Event(type="received", date=new.received_on, by=received_by, note=new.note)],
        )
    except ValidationError as error:
        raise InputError(validation_message(error)) from None
    warnings: list[str] = []
    if new.field is None:
        warnings.append(t(field_notice, field=_field_name(case_field, ref)))
    plans, fits = plan_fit(case_field, municipality, ref, case_text(case))
    if not plans:
        warnings.append(t("case.no_plan", municipality=municipality))
    elif not fits and case_field != "other":
        names = "、".join(ref.plans[p].name for p in plans)
        warnings.append(t("case.field_not_in_plan", field=_field_name(case_field, ref), plans=names))
    return Logged(case, warnings)


class DoubtfulDate(InputError):
    """A new case's date is probably a typo: before the plan began, or after today.

    ``problem`` says so and names the likely date (and 年度) meant; the message adds what to do.
    A date after today is never accepted; one before the plan, when confirmed."""

    def __init__(self, problem: str, advice: str, future: bool) -> None:
        super().__init__(t("case.date_message", problem=problem, advice=advice))
        self.problem = problem
        self.future = future


def plan_start(ref: Reference) -> date:
    """The first day of the plan: the first day of its first target period's first 年度."""
    return fy_bounds(min(fy for p in ref.targets.periods for fy in p.fiscal_years))[0]


def check_received_on(day: date, ref: Reference, today: date, allowed: bool = False) -> None:
    """Refuse (DoubtfulDate) a date received that is after today, or before the plan began
    (2017-04-01) unless ``allowed``: such a date is most often a typo (1999 for 2019)."""
    start = plan_start(ref)
    if start <= day <= today or (allowed and day < start):
        return
    likely = likely_dates(day, start, today)
    if day > today:
        problem = t("case.date_in_future", date=day, today=today)
    else:
        problem = t("case.date_before_plan", date=day, start=start)
    if likely:
        named = [t("case.date_with_fy", date=d, fy=format_fiscal_year(fiscal_year(d))) for d in likely]
        shown = t("case.date_or").join(named)
        problem = t("case.date_likely", problem=problem, likely=shown)
    advice = t("case.date_future_advice") if day > today else t("case.date_outside_advice")
    raise DoubtfulDate(problem, advice, future=day > today)


def likely_dates(day: date, start: date, today: date) -> list[date]:
    """The dates from ``start`` to ``today`` that ``day`` is one slip of the keyboard away from,
    when few enough to name (one or two), the likeliest kind of slip first:

    1. two neighbouring digits of the year swapped (2091, 2109 -> 2019), or the century typed by
       habit (1919 -> 2019);
    2. in 和暦, one digit of the 平成 year wrong or two swapped (1999 = 平成11年 -> 平成31年 = 2019),
       or 平成 written for 令和 (1990 = 平成2年 -> 令和2年 = 2020);
    3. one digit of the year wrong (2032 -> 2022), when that leaves one date only.
    """

    def within(years: Iterable[int]) -> list[date]:
        found = []
        for year in sorted(set(years)):
            try:
                moved = day.replace(year=year)
            except ValueError:  # 29 February in a year without one
                continue
            if start <= moved <= today and moved != day:
                found.append(moved)
        return found

    digits = f"{day.year:04d}"
    swapped = {int(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2:]) for i in range(3)}
    if digits.startswith("19"):
        swapped.add(int("20" + digits[2:]))
    heisei = day.year - 1988  # 平成1年 = 1989
    era: set[int] = set()
    if 1 <= heisei <= 31:
        number = str(heisei)
        variants = {number[::-1]} | {number[:i] + d + number[i + 1:] for i in range(len(number)) for d in "0123456789"}
        era = {1988 + int(v) for v in variants if 1 <= int(v) <= 31} | {2018 + heisei}  # 平成 ended in its 31st year
    wrong = {int(digits[:i] + d + digits[i + 1:]) for i in range(4) for d in "0123456789"}
    for tier in (swapped, era, wrong):
        found = within(tier)
        if found:
            return found if len(found) <= (1 if tier is wrong else 2) else []
    return []


def _field_name(case_field: str, ref: Reference) -> str:
    spec = ref.fields.get(case_field)
    return spec.name if spec else t("field.other")


def log_case(
    repo: store.Repository, new: NewCase, ref: Reference, today: date, *, field_notice: str = "case.field_suggested"
) -> Logged:
    """Validate and store a new case under a fresh id (``field_notice``: as for ``build_case``)."""
    logged = build_case(new, ref, today, field_notice=field_notice)
    prefix = repo.local.institution or logged.case.received_by
    created = store.create_case(repo, logged.case, prefix, fiscal_year(logged.case.received_on))
    return Logged(created, logged.warnings)


@dataclass
class EventInput:
    """An event as a user gives it (the command line's options, a page's form): text as typed."""

    type: EventType
    date: str | None = None  # 和暦 as well; None: today
    by: str | None = None  # id or short name; None: this clone's institution
    note: str | None = None
    to: str | None = None
    lead: str | None = None
    supporting: Sequence[str] = ()
    members: Sequence[str] = ()
    outcome: str | None = None
    outcome_kind: str | None = None  # closed: an id or name of data/outcomes.yaml
    follow_up_waiver: str | None = None  # closed: why the follow-ups still owed are waived


def acting_institution(by: str | None, own: str | None) -> str:
    """Who records or decides: the institution given as ``by`` (an id or short name), else this
    clone's own (``own``); a FieldError on ``by`` when neither is known."""
    actor = by or own
    if not actor:
        raise FieldError(t("case.missing_by"), "by")
    return actor


def follow_up_waiver(no_follow_up: bool, reason: str | None) -> str | None:
    """The reason recorded when a case closes with no follow-up (``case close --no-follow-up
    --reason``); a FieldError on ``reason`` when one is given without the other."""
    if no_follow_up and not (reason and reason.strip()):
        raise FieldError(t("case.no_follow_up_needs_reason"), "reason")
    if reason is not None and not no_follow_up:
        raise FieldError(t("case.reason_needs_no_follow_up"), "reason")
    return reason.strip() if no_follow_up and reason else None


def event_from_input(given: EventInput, ref: Reference, today: date, own: str | None) -> Event:
    """The Event the user means: dates parsed, institutions named by id; a FieldError names the
    value that is not acceptable (``own`` is this clone's institution, the default ``by``)."""

    def institution(value: str, name: str) -> str:
        try:
            return ref.institution(value).id
        except InputError as error:
            raise FieldError(str(error), name) from None

    def outcome_kind(value: str) -> str:
        try:
            return ref.outcome_kind(value).id
        except InputError as error:
            raise FieldError(str(error), "outcome_kind") from None

    actor = acting_institution(given.by, own)
    try:
        when = parse_date(given.date, today=today) if given.date else today
    except InputError as error:
        raise FieldError(str(error), "date") from None
    try:
        return Event(
            type=given.type, date=when,
            to=None if given.to is None else institution(given.to, "to"),
            lead=None if given.lead is None else institution(given.lead, "lead"),
            supporting=[institution(i, "supporting") for i in given.supporting],
            members=[institution(i, "members") for i in given.members],
            outcome=given.outcome, by=institution(actor, "by"), note=given.note,
            outcome_kind=None if given.outcome_kind is None else outcome_kind(given.outcome_kind),
            follow_up_waiver=given.follow_up_waiver,
        )  # fmt: skip
    except ValidationError as error:  # a note or an outcome with a character it cannot hold
        where = str(error.errors()[0]["loc"][0]) if error.errors() and error.errors()[0]["loc"] else "note"
        raise FieldError(validation_message(error), where) from None


def load_case(repo: store.Repository, case_id: str) -> Case:
    return load_case_file(repo.find_case_file(case_id))


def record_event(repo: store.Repository, case_id: str, event: Event, ref: Reference, today: date) -> Case:
    """Append ``event`` to a case if the rules allow it, and save the case."""
    return record_events(repo, case_id, [event], ref, today)


def record_events(repo: store.Repository, case_id: str, events: list[Event], ref: Reference, today: date) -> Case:
    """Append ``events`` to a case, all or none, each checked against the rules on the case as
    it is in its file at that moment (with whatever another writer recorded meanwhile)."""

    def append(case: Case) -> Case:
        for event in events:
            if event.date > today:
                raise CaseRuleError(t("rule.future", where=t("word.event"), date=event.date))
            if event.date < case.received_on:
                raise CaseRuleError(t("rule.before_received", where=t("word.event"), date=event.date,
                                      received=case.received_on))  # fmt: skip
            case = add_event(case, event, ref, today)
        return case

    return store.update_case(repo, case_id, append)


def load_all(repo: store.Repository) -> Loaded[Case]:
    """Every readable case as the full model (contacts included), read from the files.

    For a full copy (export) or a merge; reports and listings use ``load_records``. Refuses
    (DataError) when ids are ambiguous, as ``load_records`` does.
    """
    from kitamono.index import load_full

    return _unambiguous(load_full(repo))


class DamagedFiles(DataError):
    """Some case files cannot be read, so a listing or report would leave their cases out."""


def load_records(
    repo: store.Repository, allow_damaged: bool = False, withdrawn: bool = False
) -> Loaded[CaseRecord]:
    """Every case as an ``index.CaseRecord``, for a listing or a report; index notes.

    Withdrawn cases (取下げ) are left out, as they count nowhere, unless ``withdrawn`` (``case
    list --all``). Goes through the index unless ``KITAMONO_INDEX=off``; the answer is the same either way.
    Refuses (DataError naming the files) when two files hold one id or a case's id is not its
    file's name: a count or a report would then count a case twice, or under another id. Refuses
    too (DamagedFiles, naming them) when a case file cannot be read: a number made without that
    case would look like any other. ``allow_damaged`` leaves all those files out instead, each
    one then a line of ``problems`` (see ``damaged_files``), for the report to carry.
    """
    from kitamono.index import enabled, load_cases

    loaded = load_cases(repo, use_index=enabled(), withdrawn=withdrawn)
    if allow_damaged:
        clashes = loaded.clashes()
        if clashes:
            loaded.leave_out(repo.root, clashes, t("damaged.ambiguous_id"))
        return loaded
    _unambiguous(loaded)
    if loaded.problems:
        files = [path for path, _ in damaged_files(repo, loaded)]
        raise DamagedFiles(t("damaged.refused", n=len(files), files=t("list.sep").join(files)))
    return loaded


def damaged_files(repo: store.Repository, loaded: Loaded[C]) -> list[tuple[str, str]]:
    """The files ``loaded`` holds no case of: (path relative to the repository, what is wrong)."""
    root = f"{repo.root}{os.sep}"
    found = []
    for line in loaded.problems:
        path, _, problem = line.removeprefix(root).partition(": ")
        found.append((path.replace(os.sep, "/"), problem))
    return found


def load_checked(repo: store.Repository, reread: bool = True) -> Loaded[CaseRecord]:
    """What checks read: every case, ambiguous ids included (to be reported, not refused).

    ``reread`` (``kitamono check``) parses every file again, so that a file changed behind the
    index's back (same size, same time) is read as it is; the index is written anew.
    """
    from kitamono.index import enabled, load_cases

    return load_cases(repo, use_index=enabled(), reread=reread, withdrawn=True)


def check_before_push(repo: store.Repository, today: date) -> list[Problem]:
    """``kitamono check`` as ``sync`` runs it before a push: every case (through the index, as
    other commands read them), the reference data, the merge driver."""
    from kitamono.checks import check_repository
    from kitamono.gitsync.driver import driver_problems
    from kitamono.reference import load_reference

    loaded = load_checked(repo, reread=False)
    return check_repository(repo, today, lambda: load_reference(repo.data_dir, cache_dir=repo.local_dir),
                            extra_checks=(driver_problems,), loaded=loaded)  # fmt: skip


def _unambiguous(loaded: Loaded[C]) -> Loaded[C]:
    clashes = loaded.clashes()
    if clashes:
        raise DataError(t("store.ambiguous_ids", files="、".join(clashes)))
    return loaded


def with_contacts(repo: store.Repository, records: Iterable[CaseLike]) -> list[Case]:
    """The full cases (contacts included) behind some records, read from their files."""
    return [load_case_file(repo.find_case_file(r.id)) for r in records]


def validate_text(path: Path, text: str, ref: Reference, today: date, expected_id: str) -> Case:
    """The Case in an edited text, or a DataError saying what is wrong with it."""
    data = parse_case_text(path, text)
    try:
        case = in_date_order(Case.model_validate(data))  # events out of order are put in order
    except ValidationError as error:
        raise DataError(f"{path}: {validation_message(error)}") from None
    if case.id != expected_id:
        raise DataError(f"{path}: id: {t('edit.id_changed', id=expected_id)}")
    problems = check_case(case, str(path), ref, today)
    if problems:
        raise DataError(problems[0].line())
    return case


def text_to_edit(repo: store.Repository, case_id: str) -> str:
    """The text of a case file as it is now, to open in an editor (even if it does not parse)."""
    return read_case_text(repo.find_case_file(case_id))


class EditRejected(DataError):
    """An edited case was not saved; the text is kept aside, and ``fixable`` when editing it
    again can mend it (it broke a rule), not when the case changed meanwhile."""

    def __init__(self, message: str, aside: Path, fixable: bool) -> None:
        super().__init__(message)
        self.aside = aside
        self.fixable = fixable


def save_edited(repo: store.Repository, case_id: str, original: str, text: str, ref: Reference,
                today: date) -> tuple[Case | None, Path | None]:  # fmt: skip
    """Validate a case text edited from ``original``: save it (its events put in date order), or
    keep it aside and raise EditRejected with where it is. The editor ran without any lock, so if
    the file no longer holds ``original`` (someone recorded on the case meanwhile), the edit is
    kept aside too, not written over it."""
    path = repo.find_case_file(case_id)
    if text == original:
        return None, None
    try:
        case = validate_text(path, text, ref, today, case_id)
        return case, store.replace_edited(repo, case_id, original, case)
    except KitamonoError as error:  # not valid, changed meanwhile, read-only: the edit is kept
        aside = repo.local_dir / "rejected" / f"{case_id}.yaml"
        store.atomic_write(aside, text)
        fixable = isinstance(error, DataError | CaseRuleError | InputError)
        raise EditRejected(t("edit.rejected", problem=error, path=aside), aside, fixable) from None



# --- corrections ------------------------------------------------------------------------------------


@dataclass
class EventChanges:
    """What ``case amend`` changes in an event, as the user typed it (None: left as it is)."""

    date: date | None = None
    by: str | None = None  # institutions (by, to, lead, supporting, members): an id or a name
    to: str | None = None
    lead: str | None = None
    supporting: list[str] | None = None
    members: list[str] | None = None
    outcome: str | None = None
    note: str | None = None  # "" removes the note


@dataclass
class CaseFields:
    """What ``case set`` changes in a case's own fields, as typed (None: left as it is)."""

    title: str | None = None
    company: str | None = None
    municipality: str | None = None  # a name (帯広市) or a code (012076)
    summary: str | None = None
    field: str | None = None  # an id of models.CASE_FIELDS
    needs: list[str] | None = None  # ids of models.COMPETENCES
    bank: str | None = None  # an institution's id or name; "" removes the bank
    approved_project: date | None = None


def _mark(repo: store.Repository, reason: str | None, today: date) -> Mark:
    """Who corrects (this clone's institution), today, and why: a reason is required."""
    if not repo.local.institution:
        raise InputError(t("correct.no_institution"))
    if not reason or not reason.strip():
        raise InputError(t("correct.reason_required"))
    return Mark(by=repo.local.institution, date=today, reason=reason.strip())


def _correction(repo: store.Repository, reason: str | None, today: date, required: bool = True) -> Correction:
    if not required and not (reason and reason.strip()):
        if not repo.local.institution:
            raise InputError(t("correct.no_institution"))
        return Correction(by=repo.local.institution, date=today)
    mark = _mark(repo, reason, today)
    return Correction(by=mark.by, date=mark.date, reason=mark.reason)


def amend_event(repo: store.Repository, case_id: str, number: int, changes: EventChanges, reason: str | None,
                ref: Reference, today: date) -> tuple[Case, int]:  # fmt: skip
    """Change event ``number`` of a case (checked by the rules, recorded); the case and the
    event's number after the change (a new date moves it to its place)."""
    from kitamono.cases import amend_event as amended

    values: dict[str, object] = {}
    if changes.date is not None:
        values["date"] = changes.date
    for name in ("by", "to", "lead"):
        given = getattr(changes, name)
        if given is not None:
            values[name] = ref.institution(given).id
    for name in ("supporting", "members"):
        given = getattr(changes, name)
        if given is not None:
            values[name] = list(dict.fromkeys(ref.institution(i).id for i in given))
    if changes.outcome is not None:
        values["outcome"] = changes.outcome.strip()
    if changes.note is not None:
        values["note"] = changes.note.strip() or None
    if not values:
        raise InputError(t("correct.nothing_given"))
    correction = _correction(repo, reason, today)
    number_after: list[int] = []

    def change(case: Case) -> Case:
        updated, after = amended(case, number, values, correction, ref, today)
        number_after.append(after)
        return updated

    case = store.update_case(repo, case_id, change)
    return case, number_after[-1]


def void_event(repo: store.Repository, case_id: str, number: int, reason: str | None, ref: Reference,
               today: date, undo: bool = False) -> Case:  # fmt: skip
    """Void event ``number`` (or, with ``undo``, take a void back), if the history still holds."""
    from kitamono.cases import unvoid_event
    from kitamono.cases import void_event as voided

    if undo:
        correction = _correction(repo, reason, today, required=False)
        return store.update_case(repo, case_id, lambda case: unvoid_event(case, number, correction, ref, today))
    mark = _mark(repo, reason, today)
    return store.update_case(repo, case_id, lambda case: voided(case, number, mark, ref, today))


def set_case(repo: store.Repository, case_id: str, given: CaseFields, reason: str | None, ref: Reference,
             today: date) -> Case:  # fmt: skip
    """Change a case's own fields, checked as ``case new`` checks them, and record the change."""
    from kitamono.cases import set_case_fields

    values: dict[str, object] = {}
    if given.title is not None:
        values["title"] = given.title.strip()
    if given.company is not None:
        values["company.name"] = given.company.strip()
    if given.municipality is not None:
        values["company.municipality"] = ref.municipality(given.municipality).name
    if given.summary is not None:
        values["summary"] = given.summary.strip()
    if given.field is not None:
        if given.field not in CASE_FIELDS:
            raise InputError(t("case.bad_field", value=given.field, choices=", ".join(CASE_FIELDS)))
        values["field"] = given.field
    if given.needs is not None:
        for need in given.needs:
            if need not in COMPETENCES:
                raise InputError(t("case.bad_need", value=need, choices=", ".join(COMPETENCES)))
        values["needs"] = list(dict.fromkeys(given.needs))
    if given.bank is not None:
        values["company.bank"] = ref.institution(given.bank).id if given.bank.strip() else None
    if given.approved_project is not None:
        if given.approved_project > today:
            raise InputError(t("correct.future_approval", date=given.approved_project))
        values["approved_project"] = given.approved_project
    if not values:
        raise InputError(t("correct.nothing_given"))
    correction = _correction(repo, reason, today)
    return store.update_case(repo, case_id, lambda case: set_case_fields(case, values, correction))


def withdraw_case(repo: store.Repository, case_id: str, reason: str | None, today: date,
                  undo: bool = False) -> Case:  # fmt: skip
    """Withdraw a case (取下げ), or with ``undo`` restore it; nothing is deleted either way."""
    from kitamono.cases import restore_case
    from kitamono.cases import withdraw_case as withdrawn

    if undo:
        correction = _correction(repo, reason, today, required=False)
        return store.update_case(repo, case_id, lambda case: restore_case(case, correction))
    mark = _mark(repo, reason, today)
    return store.update_case(repo, case_id, lambda case: withdrawn(case, mark))
