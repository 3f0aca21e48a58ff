"""``kitamono conflicts``: every open conflict between two clones, as a question with its answers.

One row per open conflict of a case: what differs, each side's value with who recorded it and
when, and the command that settles it. The JSON keys are English; a contact (personal data) is
named, never quoted::

    ID             番号  食い違い         この複製(ours)                 他の複製(theirs)
    hro-2026-0001  1     支援開始 (lead)  主担当 北洋銀行(2026-10-07)〔…〕  主担当 道総研(2026-10-05)〔…〕
    (〔…〕: 北洋銀行 北洋 花子、2026-10-07; then the command: kitamono resolve hro-2026-0001 --take ours|theirs)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from kitamono.i18n import label, t
from kitamono.models import Case, Conflict, Event, Recorded
from kitamono.reference import Reference
from kitamono.reports.history import field_label
from kitamono.reports.rows import Column, Report, Table


def conflict_subject(conflict: Conflict) -> str:
    """What differs, as people name it, and the item ``resolve`` knows it by: 会社名 (company.name)."""
    what = field_label(conflict.field) if conflict.kind == "field" else t(f"conflicts.what_{conflict.kind}")
    return f"{what} ({conflict.field})"


def side_value(conflict: Conflict, side: str, ref: Reference) -> str:
    """One side's value as people read it (an event side: each event, its date and details)."""
    if conflict.kind == "field":
        if conflict.field.startswith("contact."):
            return t("conflicts.private")
        value = conflict.ours if side == "ours" else conflict.theirs
        return value if value not in (None, "") else t("log.empty")
    events = conflict.ours_events if side == "ours" else conflict.theirs_events
    parts = [_event_text(event, ref) for event in events]
    if conflict.kind == "withdrawn":
        value = conflict.ours if side == "ours" else conflict.theirs
        parts.insert(0, _withdrawal_text(value, ref) if value else t("conflicts.not_withdrawn"))
    return t("list.sep").join(parts) or t("log.empty")


def _withdrawal_text(value: str, ref: Reference) -> str:
    """A withdrawal as stored in a conflict (its JSON): 取下げ 2026-11-01 道総研「重複して登録」."""
    import json

    try:
        data = json.loads(value)
        return t("conflicts.withdrawal", on=data["date"], by=ref.short_name(data["by"]), reason=data["reason"])
    except (ValueError, KeyError, TypeError):
        return value


def _event_text(event: Event, ref: Reference) -> str:
    if event.type == "started":
        names = "、".join(ref.short_name(i) for i in event.supporting)
        with_ = t("conflicts.with", names=names) if names else ""
        return t("conflicts.start", lead=ref.short_name(event.lead), supporting=with_, date=event.date.isoformat())
    text = t("conflicts.event", event=label("event", event.type), date=event.date.isoformat(),
             by=ref.short_name(event.by))  # fmt: skip
    return text + (f"「{event.outcome}」" if event.outcome else "")


def recorded_text(recorded: Recorded | None, ref: Reference) -> str:
    """Who recorded a side and when: 北洋銀行 北洋 花子、2026-11-05."""
    if recorded is None:
        return t("conflicts.unknown_who")
    who = " ".join(p for p in (ref.short_name(recorded.institution), recorded.person) if p)
    when = recorded.on.isoformat() if recorded.on else ""
    return "、".join(p for p in (who, when) if p) or t("conflicts.unknown_who")


def resolve_command(case: Case, conflict: Conflict) -> str:
    """The command that settles one conflict (the item named when the case has several)."""
    item = f"{conflict.field}=" if len(case.conflicts) > 1 else ""
    return f"kitamono resolve {case.id} --take {item}ours|theirs"


def conflict_line(case_id: str, conflict: Conflict, ref: Reference) -> str:
    """One sentence for a message (sync, the merge driver): the case, what differs, both sides."""
    return t("conflicts.line", id=case_id, what=conflict_subject(conflict),
             ours=_side_text(conflict, "ours", ref), theirs=_side_text(conflict, "theirs", ref))  # fmt: skip


def _side_text(conflict: Conflict, side: str, ref: Reference) -> str:
    recorded = conflict.ours_recorded if side == "ours" else conflict.theirs_recorded
    return t("conflicts.side", value=side_value(conflict, side, ref), who=recorded_text(recorded, ref))


def _side_json(conflict: Conflict, side: str, ref: Reference) -> dict[str, Any]:
    recorded = conflict.ours_recorded if side == "ours" else conflict.theirs_recorded
    private = conflict.field.startswith("contact.")
    value = None if private else (conflict.ours if side == "ours" else conflict.theirs)
    events = conflict.ours_events if side == "ours" else conflict.theirs_events
    found: dict[str, Any] = {"value": value, "text": side_value(conflict, side, ref)}
    if events:
        found["events"] = [e.model_dump(mode="json", exclude_defaults=True) for e in events]
    found["institution"] = recorded.institution if recorded else None
    found["person"] = recorded.person if recorded else None
    found["on"] = recorded.on.isoformat() if recorded and isinstance(recorded.on, date) else None
    return found


def conflicts_report(cases: Sequence[Case], ref: Reference) -> Report:
    """Every open conflict of ``cases``, one row each, in case order."""
    columns = [
        Column("id", t("col.id")),
        Column("number", t("conflicts.col_number"), numeric=True),
        Column("item", "item", only="json"),
        Column("kind", "kind", only="json"),
        Column("what", t("conflicts.col_what")),
        Column("ours_text", t("conflicts.col_ours"), only="table"),
        Column("theirs_text", t("conflicts.col_theirs"), only="table"),
        Column("ours", "ours", only="json"),
        Column("theirs", "theirs", only="json"),
        Column("command", t("conflicts.col_command")),
    ]
    rows = []
    for case in sorted(cases, key=lambda c: c.id):
        for number, conflict in enumerate(case.conflicts, 1):
            rows.append([
                case.id, number, conflict.field, conflict.kind, conflict_subject(conflict),
                _side_text(conflict, "ours", ref), _side_text(conflict, "theirs", ref),
                _side_json(conflict, "ours", ref), _side_json(conflict, "theirs", ref), resolve_command(case, conflict),
            ])  # fmt: skip
    title = t("title.conflicts")
    note = t("conflicts.note") if rows else None
    json_order = ("id", "number", "item", "kind", "what", "ours", "theirs", "command")
    return Report(title, [Table(title, columns, rows, note=note, json_order=json_order, says_none=True)])
