"""Everyday work on cases: log a new one, record an event, edit by hand, load them all.

Each function is one command's core call: it reads what it needs (``caseio``, the ``index``),
applies the rules of ``cases`` and ``checks``, and writes through ``store``; it never prints.
Every check runs before any write, so a refused command leaves every file as it was. A change to
a case is made on the file as it is when the change is written (``store.update_case``), never on
a copy read earlier, so two people recording on one case at once both keep their events.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pydantic import ValidationError

from kitamono import store
from kitamono.caseio import load_case_file, parse_case_text, read_case_text, validation_message
from kitamono.cases import add_event, plan_fit, suggest_field
from kitamono.checks import check_case
from kitamono.errors import CaseRuleError, DataError, FieldError, InputError, KitamonoError
from kitamono.fiscal import fiscal_year, parse_date
from kitamono.i18n import t
from kitamono.models import CASE_FIELDS, CHANNELS, COMPETENCES, Case, CaseLike, Company, Contact, Event, EventType
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


@dataclass
class Logged:
    case: Case
    warnings: list[str]


def recognised_needs(text: str, ref: Reference) -> list[str]:
    """Needs recognised from the inquiry's words (the vocabulary of data/needs.yaml)."""
    from kitamono.routing import recognise_needs

    title = text.split("\n", 1)[0] if "\n" in text else ""
    return [match.need for match in recognise_needs(text, ref, title)]


def build_case(new: NewCase, ref: Reference, today: date) -> Logged:
    """A valid new Case (id still a placeholder) and the warnings it deserves."""
    if new.received_on > today:
        raise InputError(t("case.future_date", date=new.received_on))
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
        warnings.append(t("case.field_suggested", field=_field_name(case_field, ref)))
    plans, fits = plan_fit(case_field, municipality, ref)
    if not plans:
        warnings.append(t("case.no_plan", municipality=municipality))
    elif not fits and case_field != "other":
        names = "、".join(ref.plans[p].name for p in plans)
        warnings.append(t("case.field_not_in_plan", field=_field_name(case_field, ref), plans=names))
    return Logged(case, warnings)


def _field_name(case_field: str, ref: Reference) -> str:
    spec = ref.fields.get(case_field)
    return spec.name if spec else t("field.other")


def log_case(repo: store.Repository, new: NewCase, ref: Reference, today: date) -> Logged:
    """Validate and store a new case under a fresh id."""
    logged = build_case(new, ref, today)
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


def event_from_input(given: EventInput, ref: Reference, today: date, own: str | None) -> Event:
    """The Event the user means: dates parsed, institutions named by id; a FieldError names the
    value that is not acceptable (``own`` is this clone's institution, the default ``by``)."""

    def institution(value: str, name: str) -> str:
        try:
            return ref.institution(value).id
        except InputError as error:
            raise FieldError(str(error), name) from None

    actor = given.by or own
    if not actor:
        raise FieldError(t("case.missing_by"), "by")
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


def load_records(repo: store.Repository) -> Loaded[CaseRecord]:
    """Every readable case as an ``index.CaseRecord``, a line per unreadable file, index notes.

    Goes through the index unless ``KITAMONO_INDEX=off``; the answer is the same either way.
    Refuses (DataError naming the files) when two files hold one id or a case's id is not its
    file's name: a count or a report would then count a case twice, or under another id.
    """
    from kitamono.index import enabled, load_cases

    return _unambiguous(load_cases(repo, use_index=enabled()))


def load_checked(repo: store.Repository, reread: bool = True) -> Loaded[CaseRecord]:
    """What checks read: every case, ambiguous ids included (to be reported, not refused).

    ``reread`` (``kitamono check``) parses every file again, so that a file changed behind the
    index's back (same size, same time) is read as it is; the index is written anew.
    """
    from kitamono.index import enabled, load_cases

    return load_cases(repo, use_index=enabled(), reread=reread)


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
        case = Case.model_validate(data)
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


def save_edited(repo: store.Repository, case_id: str, original: str, text: str, ref: Reference,
                today: date) -> tuple[Case | None, Path | None]:  # fmt: skip
    """Validate a case text edited from ``original``: save it, or keep it aside and raise with
    where it is. The editor ran without any lock, so if the file no longer holds ``original``
    (someone recorded on the case meanwhile), the edit is kept aside too, not written over it."""
    path = repo.find_case_file(case_id)
    if text == original:
        return None, None
    try:
        case = validate_text(path, text, ref, today, case_id)
        return case, store.replace_edited(repo, case_id, original, case)
    except KitamonoError as error:  # not valid, changed meanwhile, read-only: the edit is kept
        aside = repo.local_dir / "rejected" / f"{case_id}.yaml"
        store.atomic_write(aside, text)
        raise DataError(t("edit.rejected", problem=error, path=aside)) from None
