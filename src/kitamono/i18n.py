"""The message catalogue: every text a user reads comes from here.

Japanese by default, English with ``KITAMONO_LANG=en``. Each language keeps all its strings in
one module (``locale/ja.py``, ``locale/en.py``), keyed by dotted names::

    t("case.created", id="hro-2019-0001")   # -> "案件 hro-2019-0001 を登録しました"
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from functools import cache

LANGUAGES = ("ja", "en")

#: A language chosen for the work under way (a page's switch), before ``KITAMONO_LANG``.
chosen_language: ContextVar[str | None] = ContextVar("chosen_language", default=None)


def lang() -> str:
    """The language in force: ``chosen_language``, else ``KITAMONO_LANG`` when it names a known
    one, else Japanese."""
    chosen = chosen_language.get()
    if chosen in LANGUAGES:
        return chosen
    value = os.environ.get("KITAMONO_LANG", "").strip().lower()[:2]
    return value if value in LANGUAGES else "ja"


@cache
def catalogue(language: str) -> dict[str, str]:
    if language == "en":
        from kitamono.locale.en import MESSAGES
    else:
        from kitamono.locale.ja import MESSAGES
    return MESSAGES


def t(key: str, /, **values: object) -> str:
    """The message ``key`` in the current language, with ``{name}`` fields filled in."""
    text = catalogue(lang()).get(key)
    if text is None:
        text = catalogue("ja").get(key, key)
    return text.format(**values) if values else text


def label(kind: str, value: str) -> str:
    """The display name of a vocabulary value (a status, a channel, a field, …)."""
    return catalogue(lang()).get(f"{kind}.{value}", value)
