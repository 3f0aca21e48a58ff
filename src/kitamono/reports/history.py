"""The case log and the cases a sync brought, as reports (moved here from gitsync, verbatim).

``kitamono log`` and ``kitamono sync`` show what ``kitamono.gitsync`` reads from the commits
(``History``, ``LogEntry``) and what a sync did (``SyncResult``, ``Change``), in words for people.
"""

from __future__ import annotations

from typing import Any

from kitamono.gitsync import History, LogEntry, SyncResult
from kitamono.i18n import label, t

_FIELD_LABELS = {
    "id": "col.id", "received_on": "col.received_on", "received_by": "col.received_by",
    "channel": "col.channel", "company.name": "col.company", "company.municipality": "col.municipality",
    "company.bank": "col.bank", "contact.person": "col.contact_person", "contact.phone": "col.contact_phone",
    "contact.email": "col.contact_email", "title": "col.title", "summary": "col.summary",
    "field": "col.field_name", "needs": "col.needs", "approved_project": "col.approved_project",
    "demo": "col.demo",
}  # fmt: skip


def field_label(key: str) -> str:
    return t(_FIELD_LABELS[key]) if key in _FIELD_LABELS else key


def _private(key: str | None) -> bool:
    return bool(key) and key.startswith("contact.")


def _value_text(value: Any) -> str:
    from kitamono.merge import describe_value

    text = describe_value(value)
    return t("log.empty") if text in (None, "") else text


def _institution_name(ref, ident: str | None) -> str:
    if not ident:
        return ""
    found = ref.institutions.get(ident) if ref is not None else None
    return found.short_name if found else ident


def describe_entry(entry: LogEntry, ref) -> str:
    """What a log entry did, in one sentence for people."""
    change, event = entry.change, entry.event
    if change == "created":
        by = _institution_name(ref, event.by if event else None)
        return t("log.created", title=entry.title, by=by)
    if change in ("event", "event_removed"):
        key = "log.event" if change == "event" else "log.event_removed"
        by = _institution_name(ref, event.by)
        text = t(key, event=label("event", event.type), date=event.date.isoformat(), by=by)
        return text + (f": {event.note}" if event.note else "")
    if change == "field":
        if entry.field == "*":
            return t("log.repaired")
        if _private(entry.field):
            return t("log.field_private", field=field_label(entry.field))
        return t("log.field", field=field_label(entry.field), old=_value_text(entry.old), new=_value_text(entry.new))
    if change == "chosen":
        if _private(entry.field):
            return t("log.chosen_private", field=field_label(entry.field))
        ours, theirs = entry.old
        return t("log.chosen", field=field_label(entry.field), ours=_value_text(ours), theirs=_value_text(theirs),
                 value=_value_text(entry.new))  # fmt: skip
    if change in ("conflict", "resolved"):
        name = field_label(event.field)
        if change == "resolved":
            return t("log.resolved", field=name)
        if _private(event.field):
            return t("log.conflict_private", field=name)
        return t("log.conflict", field=name, ours=event.ours or t("log.empty"), theirs=event.theirs or t("log.empty"))
    return t(f"log.{change}")


def _entry_institution(entry: LogEntry) -> str | None:
    if entry.institution:
        return entry.institution
    if entry.change in ("created", "event", "event_removed") and entry.event is not None:
        return entry.event.by
    return None


def log_report(found: History, ref, case_id: str | None):
    """The case log as a Report: one row per thing a commit did to a case."""
    from kitamono.render import Column, Report, Table

    columns = [
        Column("when", t("log.col_when")), Column("author", t("log.col_author")),
        Column("institution", t("log.col_institution")), Column("case", t("col.id")),
        Column("what", t("log.col_what")),
    ]  # fmt: skip
    rows, data = [], []
    for entry in found.entries:
        what = describe_entry(entry, ref)
        institution = _entry_institution(entry)
        rows.append([entry.when.strftime("%Y-%m-%d %H:%M"), entry.author, _institution_name(ref, institution),
                     entry.case_id, what])  # fmt: skip
        item: dict[str, Any] = {
            "commit": entry.commit, "date": entry.when.isoformat(), "author": entry.author,
            "institution": institution, "case": entry.case_id, "change": entry.change, "description": what,
        }  # fmt: skip
        if entry.change in ("created", "event", "event_removed") and entry.event is not None:
            item["event"] = entry.event.model_dump(mode="json", exclude_defaults=True)
        if entry.change in ("field", "chosen") and entry.field != "*":
            from kitamono.merge import describe_value

            item["field"] = entry.field
            if not _private(entry.field):
                if entry.change == "chosen":
                    item["ours"], item["theirs"] = (describe_value(v) for v in entry.old)
                else:
                    item["old"] = describe_value(entry.old)
                item["new"] = describe_value(entry.new)
        if entry.change in ("conflict", "resolved"):
            item["field"] = entry.event.field
        data.append(item)
    title = t("log.title_of", id=case_id) if case_id else t("log.title")
    note = t("log.count", n=len(rows))
    return Report(title, [Table(title, columns, rows, note=note)], data)


def sync_report(result: SyncResult, cases: dict[str, Any]):
    """The cases that arrived or changed in this sync (``cases``: id → Case as now stored)."""
    from kitamono.render import Column, Report, Table

    columns = [Column("change", t("sync.col_change")), Column("id", t("col.id")),
               Column("company", t("col.company")), Column("title", t("col.title"))]  # fmt: skip
    rows, data = [], []
    for change in result.arrived:
        case = cases.get(change.case_id)
        company = case.company.name if case is not None else None
        title = case.title if case is not None else None
        rows.append([t(f"sync.kind_{change.kind}"), change.case_id, company, title])
        data.append({"change": change.kind, "id": change.case_id, "company": company, "title": title})
    heading = t("sync.title")
    return Report(heading, [Table(heading, columns, rows, note=t("log.count", n=len(rows)))], data)
