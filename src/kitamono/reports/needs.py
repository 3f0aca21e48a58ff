"""Which cases a report reads: each report says so, and the loader gives it exactly those.

A report over one quarter needs only the cases with an event in it; the target table only the
cases started within the plan. Saying so lets the index build only those cases (the answer is
the same with all of them: a report never relies on the narrowing)::

    needs = quarterly_needs(2019, 3, as_of)   # Needs("active_between", first=2019-04-01, last=2019-12-31)
    cases = needs.pick(loaded)                # loaded: an index.Loaded
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal


@dataclass(frozen=True)
class Needs:
    """All cases; those received in 年度 ``fy``; those with an event from ``first`` to ``last``;
    or those started by ``last`` (and, with ``first``, not before it)."""

    kind: Literal["all", "received_in", "active_between", "started_by"] = "all"
    fy: int | None = None
    first: date | None = None
    last: date | None = None

    @classmethod
    def received_in(cls, fy: int) -> Needs:
        return cls("received_in", fy=fy)

    @classmethod
    def active_between(cls, first: date, last: date) -> Needs:
        return cls("active_between", first=first, last=last)

    @classmethod
    def started_by(cls, last: date, since: date | None = None) -> Needs:
        return cls("started_by", first=since, last=last)

    def pick(self, loaded: Any) -> list:
        """The cases of ``loaded`` (an ``index.Loaded``) this report reads."""
        if self.kind == "received_in":
            return loaded.received_in(self.fy)
        if self.kind == "active_between":
            return loaded.active_between(self.first, self.last)
        if self.kind == "started_by":
            return loaded.started_by(self.last, since=self.first)
        return loaded.cases
