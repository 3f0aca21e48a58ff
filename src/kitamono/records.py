"""A case as the index keeps it: plain named tuples with the attribute names of ``models.Case``.

The index (``index``) stores cases as plain tuples and turns the ones a command needs into these
records; the pure functions of ``cases``, ``followup`` and ``reports`` read either a record or a
``models.Case`` (``models.CaseLike``). Standard library only, so that reading the index never
loads pydantic::

    CaseRecord(id="hro-2019-0001", demo=False, received_on=date(2019, 5, 14), received_by="hro", …)
"""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

#: A correction as stored: (by, date, reason, ((field, old, new), …)), lists as tuples.
CorrectionRaw = tuple[str, date, str | None, tuple[tuple[str, Any, Any], ...]]
#: A void or a withdrawal as stored: (by, date, reason).
MarkRaw = tuple[str, date, str]


class CompanyRecord(NamedTuple):
    name: str
    municipality: str
    bank: str | None


class EventRecord(NamedTuple):
    type: str
    date: date
    by: str
    to: str | None
    lead: str | None
    supporting: tuple[str, ...]
    members: tuple[str, ...]
    outcome: str | None
    note: str | None
    outcome_kind: str | None = None
    follow_up_waiver: str | None = None
    voided: MarkRaw | None = None  # (by, date, reason) of a void; None when the event counts
    amendments: tuple[CorrectionRaw, ...] = ()


class ConflictRecord(NamedTuple):
    field: str
    ours: str | None
    theirs: str | None


class CaseRecord(NamedTuple):
    """A case as reports need it: all of ``models.Case`` but ``contact``."""

    id: str
    demo: bool
    received_on: date
    received_by: str
    channel: str
    company: CompanyRecord
    title: str
    summary: str
    field: str
    needs: tuple[str, ...]
    approved_project: date | None
    events: tuple[EventRecord, ...]
    conflicts: tuple[ConflictRecord, ...]
    withdrawn: MarkRaw | None  # (by, date, reason) of a withdrawal; None when it counts
    changes: tuple[CorrectionRaw, ...]
    contact: None = None
