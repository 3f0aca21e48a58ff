"""Listings of the reference data and of cases: pure functions from records to a Report.

Each returns a ``reports.rows.Report``: rows of values under columns with a stable English key
(the JSON key other tools read) and a Japanese heading; a column's display form turns an id
into the name people read (``hro`` -> 道総研).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from kitamono.i18n import label, t
from kitamono.models import FIELD_IDS, SUBPREFECTURES, Case, CaseLike, Correction, Event, Mark
from kitamono.reference import Reference
from kitamono.reports.needs import Needs
from kitamono.reports.rows import ABSENT, Column, Keyed, Report, Rows, Table


def fields_report(ref: Reference) -> Report:
    plans_per_field = {f: sum(1 for p in ref.plans.values() if f in p.fields) for f in FIELD_IDS}
    names = {f.name: ref.field_name(f.id) for f in ref.fields.values()}  # the JSON keeps the data's own
    descriptions = {f.description: ref.field_description(f.id) for f in ref.fields.values()}
    columns = [
        Column("id", t("col.id")), Column("name", t("col.field_name"), show=lambda name: names.get(name, name)),
        Column("description", t("col.description"), show=lambda text: descriptions.get(text, text)),
        Column("plans", t("col.plans"), numeric=True), Column("keywords", t("col.keywords")),
    ]  # fmt: skip
    rows = [[f.id, f.name, f.description, plans_per_field[f.id], f.keywords] for f in ref.fields.values()]
    order = ("id", "name", "description", "keywords", "plans")
    return Report(t("title.fields"), [Table(t("title.fields"), columns, rows, json_order=order)])


#: What tools read of an institution beyond the columns people see.
_INSTITUTION_DETAILS = (
    "representative_body", "one_stop_window", "address", "representative", "role", "fields", "keywords",
)  # fmt: skip


def institutions_report(ref: Reference, kind: str | None = None) -> Report:
    chosen = [i for i in ref.institutions.values() if kind is None or i.kind == kind]
    columns = [
        Column("id", t("col.id")), Column("short_name", t("col.short_name")), Column("name", t("col.official_name")),
        Column("kind", t("col.kind"), show=lambda k: label("kind", k)), Column("city", t("col.city")),
        Column("area", t("col.area")),
        Column("competences", t("col.competences"), show=lambda ids: [label("competence", c) for c in ids]),
        Column("network_member", t("col.network_member")),
        *(Column(key, key, only="json") for key in _INSTITUTION_DETAILS),
    ]  # fmt: skip
    rows = [
        [i.id, i.short_name, i.name, i.kind, i.city, i.area, i.competences, i.network_member,
         *(getattr(i, key) for key in _INSTITUTION_DETAILS)]
        for i in chosen
    ]  # fmt: skip
    order = ("id", "name", "short_name", "kind", "city", "area", "competences", "network_member", *_INSTITUTION_DETAILS)
    title = t("title.institutions")
    return Report(title, [Table(title, columns, rows, json_order=order)])


def plans_report(ref: Reference, field: str | None = None, municipality: str | None = None) -> Report:
    plans = [
        p for p in ref.plans.values()
        if (field is None or field in p.fields) and (municipality is None or municipality in p.municipalities)
    ]  # fmt: skip
    counts = {f: sum(1 for p in ref.plans.values() if f in p.fields) for f in FIELD_IDS}
    summary = ref.plan_summary
    columns = [
        Column("id", t("col.id")), Column("name", t("col.plan_name")),
        Column("municipalities", t("col.municipalities")), Column("agreed_on", t("col.agreed_on")),
        *(Column(f"in_{f}", ref.field_name(f), show=lambda on: "●" if on else "", only="table") for f in FIELD_IDS),
        Column("fields", t("col.fields"), only="json"), Column("strategies", t("col.strategy"), only="json"),
    ]  # fmt: skip
    rows = [
        [p.id, p.name, p.municipalities, p.agreed_on, *(f in p.fields for f in FIELD_IDS), p.fields,
         [{"text": s.text, "fields": s.fields} for s in p.strategies]]
        for p in plans
    ]  # fmt: skip
    strategy_rows = [[p.name, s.text, s.fields] for p in plans for s in p.strategies]
    strategy_columns = [
        Column("plan", t("col.plan_name")), Column("text", t("col.strategy")),
        Column("fields", t("col.fields"), show=lambda ids: [ref.field_name(f) for f in ids]),
    ]  # fmt: skip
    count_rows = [[f, counts[f]] for f in FIELD_IDS]
    count_columns = [Column("field", t("col.field_name"), show=ref.field_name),
                     Column("plans", t("col.plans"), numeric=True)]  # fmt: skip
    in_appendix = [p for p in ref.plans.values() if p.agreed_on <= summary.as_of]  # not those agreed later
    listed_pairs = sum(len(p.municipalities) for p in in_appendix)
    note = t(
        "plans.totals", as_of=summary.as_of, agreed=summary.agreed_total, municipalities=summary.municipalities_total,
        listed=len(in_appendix), pairs=listed_pairs,
    )  # fmt: skip
    title = t("title.plans")
    listed = Table(title, columns, rows, note=note)
    field_counts = Table(t("title.plan_field_counts"), count_columns, count_rows)
    document = {
        "as_of": summary.as_of,
        "agreed_total": summary.agreed_total,
        "municipalities_total": summary.municipalities_total,
        "listed": len(ref.plans),
        "field_counts": Keyed(field_counts, "field", "plans"),
        "plans": Rows(listed),
    }
    tables = [listed, field_counts, Table(t("title.strategies"), strategy_columns, strategy_rows)]
    return Report(title, tables, document)


def municipalities_report(ref: Reference, subprefecture: str | None = None) -> Report:
    chosen = [m for m in ref.municipalities.values() if subprefecture is None or m.subprefecture == subprefecture]
    chosen.sort(key=lambda m: m.code)
    columns = [
        Column("code", t("col.code")), Column("name", t("col.municipality")),
        Column("kind", t("col.kind"), show=lambda k: label("municipality_kind", k)),
        Column("subprefecture", t("col.subprefecture")),
        Column("plans", t("col.plans_of_municipality"), show=lambda ids: [ref.plans[p].name for p in ids]),
    ]  # fmt: skip
    rows = [[m.code, m.name, m.kind, m.subprefecture, [p.id for p in ref.plans_for(m.name)]] for m in chosen]
    title = t("title.municipalities")
    return Report(title, [Table(title, columns, rows, note=t("municipalities.count", n=len(chosen)))])


def subprefecture_of(value: str) -> str:
    """Accept 十勝, 十勝総合振興局, 十勝振興局 alike."""
    from kitamono.errors import InputError

    name = value.strip().removesuffix("総合振興局").removesuffix("振興局")
    if name not in SUBPREFECTURES:
        raise InputError(t("ref.unknown_subprefecture", value=value, names="、".join(SUBPREFECTURES)))
    return name


# --- cases ----------------------------------------------------------------------------------------


def case_json(case: Case, with_contacts: bool = False) -> dict[str, Any]:
    """A case as tools read it: the file's own keys; contacts only when asked."""
    from kitamono.cases import lead, status

    data = case.model_dump(mode="json", exclude_defaults=True)
    if not with_contacts:
        data.pop("contact", None)
    data["status"] = status(case)
    data["lead"] = lead(case)
    return data


class CaseFilter:
    """The filters of ``case list``, parsed once from what the user typed."""

    def __init__(
        self, *, fy: int | None = None, status: str | None = None, field: str | None = None,
        institution: str | None = None, municipality: str | None = None,
        plan_municipalities: set[str] | None = None, text: str | None = None,
        subprefecture_municipalities: set[str] | None = None,
    ) -> None:  # fmt: skip
        self.fy = fy
        self.status = status
        self.field = field
        self.institution = institution
        self.municipality = municipality
        self.plan_municipalities = plan_municipalities
        self.text = text
        self.subprefecture_municipalities = subprefecture_municipalities

    @classmethod
    def parse(cls, ref: Reference, *, fy: str | None = None, status: str | None = None, field: str | None = None,
              institution: str | None = None, municipality: str | None = None, plan: str | None = None,
              text: str | None = None, subprefecture: str | None = None) -> CaseFilter:  # fmt: skip
        from kitamono.fiscal import parse_fiscal_year

        sub = subprefecture_of(subprefecture) if subprefecture else None
        return cls(
            fy=parse_fiscal_year(fy) if fy else None,
            status=ref.choice("status", status) if status is not None else None,
            field=ref.choice("field", field) if field is not None else None,
            institution=ref.institution(institution).id if institution else None,
            municipality=ref.municipality(municipality).name if municipality else None,
            plan_municipalities=set(ref.plan(plan).municipalities) if plan else None,
            text=text,
            subprefecture_municipalities=None if sub is None else {
                m.name for m in ref.municipalities.values() if m.subprefecture == sub
            },
        )

    @property
    def needs(self) -> Needs:
        """The cases the filter reads: those received in its 年度, or all."""
        return Needs.received_in(self.fy) if self.fy is not None else Needs()

    @property
    def only_fy(self) -> bool:
        """Whether the 年度 (or nothing) is all this filter asks about."""
        return all(v is None for v in (self.status, self.field, self.institution, self.municipality,
                                        self.plan_municipalities, self.text,
                                        self.subprefecture_municipalities))  # fmt: skip

    def matches(self, case: CaseLike) -> bool:
        from kitamono.cases import status as status_of
        from kitamono.fiscal import fiscal_year

        if self.fy is not None and fiscal_year(case.received_on) != self.fy:
            return False
        if self.field is not None and case.field != self.field:
            return False
        if self.municipality is not None and case.company.municipality != self.municipality:
            return False
        if self.plan_municipalities is not None and case.company.municipality not in self.plan_municipalities:
            return False
        subprefecture = self.subprefecture_municipalities
        if subprefecture is not None and case.company.municipality not in subprefecture:
            return False
        if self.institution is not None and self.institution not in involved(case):
            return False
        if self.text is not None:
            haystack = f"{case.id}\n{case.title}\n{case.summary}\n{case.company.name}"
            if self.text.casefold() not in haystack.casefold():
                return False
        return self.status is None or status_of(case) == self.status


def involved(case: CaseLike) -> set[str]:
    """Every institution that took, led, supported or was referred the case."""
    from kitamono.cases import counted_events

    found = {case.received_by}
    for event in counted_events(case):
        found.add(event.by)
        found.update(x for x in (event.to, event.lead) if x)
        found.update(event.supporting)
        found.update(event.members)
    return found


#: A case as ``case list`` reads it: an index record, or a full ``Case`` when contacts are shown.
ListedCase = CaseLike


def case_list_report(
    cases: Iterable[ListedCase], ref: Reference, chosen: CaseFilter, with_contacts: bool = False
) -> Report:
    from kitamono.cases import lead, status

    selected = sorted((c for c in cases if chosen.matches(c)), key=lambda c: (c.received_on, c.id))
    columns = [
        Column("id", t("col.id")), Column("received_on", t("col.received_on")),
        Column("received_by", t("col.received_by"), show=ref.short_name), Column("company", t("col.company")),
        Column("municipality", t("col.municipality")), Column("field", t("col.field_name"), show=ref.field_name),
        Column("title", t("col.title")), Column("status", t("col.status"), show=lambda s: label("status", s)),
        Column("lead", t("col.lead"), show=ref.short_name),
    ]  # fmt: skip
    rows: list[list[Any]] = [
        [case.id, case.received_on, case.received_by, case.company.name, case.company.municipality, case.field,
         case.title, status(case), lead(case)]
        for case in selected
    ]  # fmt: skip
    if with_contacts:
        columns += [
            Column("person", t("col.contact_person"), only="table"),
            Column("phone", t("col.contact_phone"), only="table"),
            Column("email", t("col.contact_email"), only="table"),
            Column("contact", "contact", only="json"),
        ]  # fmt: skip
        for row, case in zip(rows, selected, strict=True):
            contact = case.contact
            row += [contact.person, contact.phone, contact.email, contact.model_dump(exclude_none=True)] if contact \
                else [None, None, None, None]  # fmt: skip
    title = t("title.cases")
    return Report(title, [Table(title, columns, rows, note=t("cases.count", n=len(rows)))])


def case_show_report(case: Case, ref: Reference, with_contacts: bool = False) -> Report:
    """One case as people read it (item and value, its conflicts, its history); its JSON is the
    case record itself, with its status and lead (``case_json``)."""
    from kitamono.cases import case_text, lead, plan_fit, status

    plans, fits = plan_fit(case.field, case.company.municipality, ref, case_text(case))
    plan_names = "、".join(ref.plans[p].name for p in plans) or t("case.no_plan_short")
    pairs: list[tuple[str, object]] = [
        (t("col.id"), case.id),
        (t("col.status"), label("status", status(case))),
        (t("col.received_on"), case.received_on),
        (t("col.received_by"), ref.short_name(case.received_by)),
        (t("col.channel"), label("channel", case.channel)),
        (t("col.company"), case.company.name),
        (t("col.municipality"), case.company.municipality),
        (t("col.plans_of_municipality"), plan_names + ("" if fits or not plans else t("case.plan_mismatch_short"))),
        (t("col.title"), case.title),
        (t("col.summary"), case.summary),
        (t("col.field_name"), ref.field_name(case.field)),
        (t("col.needs"), [label("competence", n) for n in case.needs]),
        (t("col.lead"), ref.short_name(lead(case))),
        (t("col.approved_project"), case.approved_project),
    ]
    if case.company.bank:
        pairs.append((t("col.bank"), ref.short_name(case.company.bank)))
    if with_contacts and case.contact:
        pairs += [
            (t("col.contact_person"), case.contact.person),
            (t("col.contact_phone"), case.contact.phone),
            (t("col.contact_email"), case.contact.email),
        ]
    if case.demo:
        pairs.append((t("col.demo"), t("case.demo_mark")))
    if case.withdrawn is not None:
        pairs.insert(2, (t("correct.col_withdrawn"), _mark_said(case.withdrawn, ref)))
    tables = [Table(t("title.case", id=case.id), [Column("k", t("col.item")), Column("v", t("col.value"))],
                    [[k, v] for k, v in pairs])]  # fmt: skip
    if case.conflicts:
        tables.append(Table(
            t("title.conflicts"),
            [Column("field", t("col.conflict_field")), Column("ours", t("col.ours")),
             Column("theirs", t("col.theirs"))],
            [[c.field, c.ours, c.theirs] for c in case.conflicts],
            note=t("case.conflict_hint", id=case.id),
        ))  # fmt: skip
    tables.append(_events_table(case, ref))
    tables += _case_corrections_table(case, ref)
    return Report(t("title.case", id=case.id), tables, case_json(case, with_contacts))


#: An event as tools read it: the model's fields in its order, each left out at its default.
_EVENT_FIELDS = tuple(Event.model_fields)
_EVENT_DETAILS = tuple(name for name in _EVENT_FIELDS if name not in ("type", "date", "by"))


def _stored(event: Event, name: str) -> Any:
    value = getattr(event, name)
    if value == Event.model_fields[name].default:
        return ABSENT
    if isinstance(value, BaseModel):  # a void
        return value.model_dump(mode="json", exclude_none=True)
    if value and isinstance(value, list) and isinstance(value[0], BaseModel):  # amendments
        return [item.model_dump(mode="json", exclude_none=True) for item in value]
    return value


def _mark_said(mark: Mark, ref: Reference) -> str:
    """A void or a withdrawal as people read it: 2026-11-28 道総研「二重に登録」."""
    return t("correct.mark", on=mark.date, by=ref.short_name(mark.by), reason=mark.reason)


def correction_said(correction: Correction, ref: Reference) -> str:
    """A correction in one line: when, who, what changed from what, and why."""
    from kitamono.reports.history import changes_said

    changed = changes_said(correction, ref)
    return t("correct.said", on=correction.date, by=ref.short_name(correction.by), changed=changed)


def _case_corrections_table(case: Case, ref: Reference) -> list[Table]:
    """The corrections of a case's own fields (``case set``, a withdrawal and its undoing)."""
    from kitamono.reports.history import changes_said

    rows: list[list[Any]] = [[c.date, c.by, changes_said(c, ref)] for c in case.changes]
    if case.withdrawn is not None:
        rows.append([case.withdrawn.date, case.withdrawn.by,
                     t("correct.withdrawn_said", reason=case.withdrawn.reason)])  # fmt: skip
    if not rows:
        return []
    columns = [Column("on", t("col.date")), Column("by", t("col.by"), show=ref.short_name),
               Column("what", t("col.detail"))]  # fmt: skip
    return [Table(t("correct.title_case_changes"), columns, rows, only="table")]


def _events_table(case: Case, ref: Reference) -> Table:
    def names(ids: list[str]) -> str:
        return "、".join(ref.short_name(i) for i in ids)

    rows = []
    for number, event in enumerate(case.events, 1):
        detail = []
        if event.to:
            detail.append(t("event.detail_to", name=ref.short_name(event.to)))
        if event.lead:
            detail.append(t("event.detail_lead", name=ref.short_name(event.lead)))
        if event.supporting:
            detail.append(t("event.detail_with", names=names(event.supporting)))
        if event.members:
            detail.append(t("event.detail_members", names=names(event.members)))
        if event.outcome:
            detail.append(t("event.detail_outcome", text=event.outcome))
        if event.outcome_kind:
            detail.append(t("event.detail_outcome_kind", name=ref.outcome_name(event.outcome_kind)))
        if event.follow_up_waiver:
            detail.append(t("event.detail_follow_up_waiver", reason=event.follow_up_waiver))
        if event.note:
            detail.append(event.note)
        if event.voided is not None:
            detail.append(t("correct.voided_said", mark=_mark_said(event.voided, ref)))
        detail += [correction_said(c, ref) for c in event.amendments]
        kind = label("event", event.type)
        rows.append([number, event.date, t("correct.voided_event", event=kind) if event.voided else kind, event.by,
                     " / ".join(detail), event.type, *(_stored(event, name) for name in _EVENT_DETAILS)])  # fmt: skip
    columns = [
        Column("number", t("correct.col_number"), numeric=True, only="table"),
        Column("date", t("col.date")),
        Column("event", t("col.event"), only="table"),
        Column("by", t("col.by"), show=ref.short_name),
        Column("detail", t("col.detail"), only="table"),
        Column("type", "type", only="json"),
        *(Column(name, name, only="json") for name in _EVENT_DETAILS),
    ]
    return Table(t("title.history"), columns, rows, json_order=_EVENT_FIELDS,
                 note=t("correct.history_note", id=case.id) if len(case.events) > 1 else None)  # fmt: skip


def case_history_report(case: Case, ref: Reference) -> Report:
    """A case's events numbered 1, 2, 3 … (the numbers ``case amend`` and ``case void`` take),
    voided ones marked 取消, each correction with who, when, why and what it was before."""
    tables = [_events_table(case, ref), *_case_corrections_table(case, ref)]
    return Report(t("title.history_of", id=case.id), tables)
