"""Control characters: which ones text in a case may not hold, and how they are shown when it does.

A title such as ``"\\x1b]0;pwned\\x07"`` would retitle the terminal of whoever lists the cases, and
a right-to-left override reorders what the screen shows. The models refuse these characters on
input (``models.Line``, ``models.Text``); a case file edited by hand may still hold them, and then
every line kitamono shows a person spells them out instead of sending them::

    printable("件名\\x1b[2J")  # -> '件名\\\\x1b[2J', shown as 件名\\x1b[2J

Standard library only: the command line's fast paths show text without loading the models.
"""

from __future__ import annotations

import re

#: C0 controls but tab, line feed and CR; DEL, C1 controls; the bidi embeddings, overrides and isolates.
_OTHERS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_CONTROLS = _OTHERS + r"\r"
#: What one-line text (a title, a company name, an id) may not hold: also no tab or line feed.
NOT_IN_LINE = re.compile(rf"[\t\n{_CONTROLS}]")
#: What multi-line text (a summary, a note) may not hold.
NOT_IN_TEXT = re.compile(rf"[{_CONTROLS}]")
#: What is never sent to a terminal as it is: a CR stays only as part of a CR LF line end.
_UNSHOWABLE = re.compile(rf"\r(?!\n)|[{_OTHERS}]")


def visible(char: str) -> str:
    """How one control character is spelled out: ``\\x1b``, ``\\u202e``; tab, LF and CR as ``\\t``, ``\\n``, ``\\r``."""
    if char == "\t":
        return "\\t"
    if char == "\n":
        return "\\n"
    if char == "\r":
        return "\\r"
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control character spelled out; line feeds, tabs and CR LF kept."""
    if not _UNSHOWABLE.search(text):  # nearly always: one scan, no copy
        return text
    return _UNSHOWABLE.sub(lambda match: visible(match.group()), text)
