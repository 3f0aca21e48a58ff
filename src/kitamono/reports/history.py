"""What happened to the cases, as git recorded it: ``kitamono log`` and what a ``sync`` brought.

``kitamono.gitsync`` reads the commits into ``LogEntry``s and a sync into a ``SyncResult``;
this module words them for people, one sentence per thing a commit did to a case. A contact
(personal data) is never quoted: a change to it is named, not shown::

    2026-11-02 10:00  道総研 太郎  道総研  okhotsk-2020-0001  フォローアップを記録(2026-11-02、道総研): 近況を確認
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kitamono.i18n import label, t
from kitamono.reference import Reference
from kitamono.reports.rows import ABSENT, Column, Report, Table

if TYPE_CHECKING:
    from kitamono.gitsync import History, LogEntry, SyncResult
    from kitamono.models import Correction

_FIELD_LABELS = {
    "id": "col.id", "received_on": "col.received_on", "received_by": "col.received_by",
    "channel": "col.channel", "company.name": "col.company", "company.municipality": "col.municipality",
    "company.bank": "col.bank", "contact.person": "col.contact_person", "contact.phone": "col.contact_phone",
    "contact.email": "col.contact_email", "title": "col.title", "summary": "col.summary",
    "field": "col.field_name", "needs": "col.needs", "approved_project": "col.approved_project",
    "demo": "col.demo",
    # an event's fields and the marks, as corrections name them
    "date": "col.date", "by": "col.by", "to": "correct.field_to", "lead": "col.lead",
    "supporting": "correct.field_supporting", "members": "correct.field_members", "outcome": "correct.field_outcome",
    "note": "correct.field_note", "voided": "correct.col_voided", "withdrawn": "correct.col_withdrawn",
}  # fmt: skip


def field_label(key: str) -> str:
    """A case header field (``company.name``) as people name it (会社名)."""
    return t(_FIELD_LABELS[key]) if key in _FIELD_LABELS else key


def _value_said(name: str, value: Any, ref: Reference) -> str:
    """A value a correction recorded, as people read it (institutions by name)."""
    if value is None or value == "" or value == []:
        return t("log.empty")
    if name in ("by", "to", "lead", "supporting", "members", "received_by", "company.bank"):
        values = value if isinstance(value, list | tuple) else [value]
        return "、".join(ref.short_name(v) for v in values)
    if name == "needs":
        return "、".join(label("competence", v) for v in value)
    if name == "field":
        return ref.field_name(str(value))
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    return str(value)


def changes_said(correction: Correction, ref: Reference) -> str:
    """What a correction changed, from what to what, and why: 日付 2019-06-30 → 2019-06-03(理由: …)."""
    changed = "、".join(
        t("correct.field_change", field=field_label(f.field), old=_value_said(f.field, f.old, ref),
          new=_value_said(f.field, f.new, ref))
        for f in correction.fields
    )  # fmt: skip
    return changed + (t("correct.said_reason", reason=correction.reason) if correction.reason else "")


def _private(key: str | None) -> bool:
    return key is not None and key.startswith("contact.")


def _value_text(value: Any) -> str:
    from kitamono.merge import describe_value

    text = describe_value(value)
    return t("log.empty") if text in (None, "") else text


def describe_entry(entry: LogEntry, ref: Reference) -> str:
    """What a log entry did, in one sentence for people."""
    change, event = entry.change, entry.event
    if change == "created":
        by = ref.short_name(event.by if event else None)
        return t("log.created", title=entry.title, by=by)
    if change in ("event", "event_removed"):
        key = "log.event" if change == "event" else "log.event_removed"
        by = ref.short_name(event.by)
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
    if change in _CORRECTIONS:
        return _correction_said(entry, ref)
    if change in ("conflict", "resolved"):
        name = field_label(event.field)
        if change == "resolved":
            return t("log.resolved", field=name)
        if _private(event.field):
            return t("log.conflict_private", field=name)
        return t("log.conflict", field=name, ours=event.ours or t("log.empty"), theirs=event.theirs or t("log.empty"))
    return t(f"log.{change}")


#: The log's kinds of correction: of an event (``event`` as it is after), of the case itself.
_CORRECTIONS = ("amended", "voided", "unvoided", "set", "withdrawn", "restored")


def _correction_said(entry: LogEntry, ref: Reference) -> str:
    """A correction as the log words it, with its reason."""
    change, event, done = entry.change, entry.event, entry.new
    if change in ("voided", "unvoided"):
        said = t(f"log.{change}", event=label("event", event.type), date=event.date.isoformat(),
                 by=ref.short_name(event.by), reason=done.reason)  # fmt: skip
        return said + (t("log.reason", reason=done.reason) if change == "unvoided" and done.reason else "")
    if change == "amended":
        return t("log.amended", event=label("event", event.type), date=event.date.isoformat(),
                 changed=changes_said(done, ref))  # fmt: skip
    if change == "set":
        return t("log.set", changed=changes_said(done, ref))
    if change == "withdrawn":
        return t("log.withdrawn", reason=done.reason)
    return t("log.restored") + (t("log.reason", reason=done.reason) if done.reason else "")


def _entry_institution(entry: LogEntry) -> str | None:
    if entry.institution:
        return entry.institution
    if entry.change in ("created", "event", "event_removed") and entry.event is not None:
        return entry.event.by
    if entry.change in _CORRECTIONS and entry.new is not None:
        return entry.new.by
    return None


#: What a log row says beyond the sentence, for tools; a key is left out where it does not apply.
_LOG_DETAILS = ("event", "field", "ours", "theirs", "old", "new")


def _details(entry: LogEntry) -> list[Any]:
    """The values of ``_LOG_DETAILS`` for one entry (ABSENT where one does not apply; never a
    contact's value)."""
    from kitamono.merge import describe_value

    found = dict.fromkeys(_LOG_DETAILS, ABSENT)
    if entry.change in ("created", "event", "event_removed") and entry.event is not None:
        found["event"] = entry.event.model_dump(mode="json", exclude_defaults=True)
    if entry.change in ("field", "chosen") and entry.field != "*":
        found["field"] = entry.field
        if not _private(entry.field):
            if entry.change == "chosen":
                found["ours"], found["theirs"] = (describe_value(v) for v in entry.old)
            else:
                found["old"] = describe_value(entry.old)
            found["new"] = describe_value(entry.new)
    if entry.change in ("conflict", "resolved"):
        found["field"] = entry.event.field
    if entry.change in _CORRECTIONS:
        if entry.event is not None:
            found["event"] = entry.event.model_dump(mode="json", exclude_defaults=True)
        if entry.change == "amended":
            found["old"] = entry.old.model_dump(mode="json", exclude_defaults=True)
        found["new"] = entry.new.model_dump(mode="json", exclude_none=True)
    return list(found.values())


def log_report(found: History, ref: Reference, case_id: str | None) -> Report:
    """The case log: one row per thing a commit did to a case."""
    columns = [
        Column("commit", "commit", only="json"),
        Column("date", t("log.col_when"), show=lambda when: when.strftime("%Y-%m-%d %H:%M")),
        Column("author", t("log.col_author")),
        Column("institution", t("log.col_institution"), show=ref.short_name),
        Column("case", t("col.id")),
        Column("change", "change", only="json"),
        Column("description", t("log.col_what")),
        *(Column(key, key, only="json") for key in _LOG_DETAILS),
    ]
    rows = [
        [entry.commit, entry.when, entry.author, _entry_institution(entry), entry.case_id, entry.change,
         describe_entry(entry, ref), *_details(entry)]
        for entry in found.entries
    ]  # fmt: skip
    title = t("log.title_of", id=case_id) if case_id else t("log.title")
    return Report(title, [Table(title, columns, rows, note=t("log.count", n=len(rows)))])


def sync_report(result: SyncResult, cases: dict[str, Any]) -> Report:
    """The cases that arrived or changed in this sync (``cases``: id → Case as now stored)."""
    columns = [
        Column("change", t("sync.col_change"), show=lambda kind: t(f"sync.kind_{kind}")),
        Column("id", t("col.id")), Column("company", t("col.company")), Column("title", t("col.title")),
    ]  # fmt: skip
    rows = []
    for change in result.arrived:
        case = cases.get(change.case_id)
        rows.append([change.kind, change.case_id, case.company.name if case is not None else None,
                     case.title if case is not None else None])  # fmt: skip
    heading = t("sync.title")
    return Report(heading, [Table(heading, columns, rows, note=t("log.count", n=len(rows)))])
