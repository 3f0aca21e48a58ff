"""What a case id looks like, in one place::

    hro-2019-0001        prefix (an institution's id), 年度, sequence number

The prefix is lower-case ASCII letters, digits and ``_``; the 年度 four ASCII digits; the
sequence four or more. Nothing else: no full-width or other scripts' digits (``\\d`` would take
them), no trailing newline (``$`` would), no ``*`` or ``/``. Every id is checked against this
rule before it names a file, so an id is never a pattern or a path. Standard library only: the
quickest commands check ids too.
"""

from __future__ import annotations

import re

CASE_ID = re.compile(r"(?P<prefix>[a-z][a-z0-9_]*)-(?P<fy>[0-9]{4})-(?P<seq>[0-9]{4,})", re.ASCII)


def parse_case_id(text: str) -> re.Match[str] | None:
    """The parts of a case id (``prefix``, ``fy``, ``seq``), or None if ``text`` is not exactly one."""
    return CASE_ID.fullmatch(text) if isinstance(text, str) else None


def shown(text: str) -> str:
    """``text`` fit for one line of a message: control characters (a newline) written as escapes."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
