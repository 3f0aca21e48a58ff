"""How kitamono says that a command failed: one line, in the user's language, and nothing more.

The command line (``cli.Command.invoke``) and ``kitamono web``'s quick start (``launch``) both
end on an error this way, exit 1::

    one_line(InputError("日付が正しくありません"))    # its own message
    failure("日付が正しくありません")                  # "エラー: 日付が正しくありません"
"""

from __future__ import annotations

import os

from kitamono.errors import KitamonoError
from kitamono.i18n import t


def one_line(error: Exception) -> str | None:
    """What a command says as it stops on ``error``: its own message for ours, the reason for a
    file that cannot be read or written, the field and problem for a value the models refuse,
    and the kind alone for anything else, as a traceback could quote a case's contacts; None
    for anything else when ``KITAMONO_DEBUG`` is set (it is shown whole)."""
    if isinstance(error, KitamonoError):
        return str(error)
    if isinstance(error, OSError):
        where = f" ({error.filename})" if error.filename else ""
        return f"{t('error.os', reason=error.strerror or error)}{where}"
    from pydantic import ValidationError

    if isinstance(error, ValidationError):  # a value typed on the command line, e.g. a --note
        from kitamono.caseio import validation_message

        return validation_message(error)
    if os.environ.get("KITAMONO_DEBUG"):
        return None
    return t("error.unexpected", kind=type(error).__name__)


def failure(message: str) -> str:
    """The line a failure is said in: ``エラー: message``."""
    return f"{t('error.prefix')}: {message}"
