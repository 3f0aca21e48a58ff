"""kitamono's named errors. The CLI turns each into one line on stderr and exit 1."""


class KitamonoError(Exception):
    """A problem the user can act on; its message is already in the user's language."""


class InputError(KitamonoError):
    """A value given on the command line (a date, a name, an id) is not acceptable."""


class FieldError(InputError):
    """One value of several given together is not acceptable; ``field`` names which (``date``, ``to``, …)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class DataError(KitamonoError):
    """A reference data file or a case file is malformed; the message names the file."""


class RepositoryError(KitamonoError):
    """The case repository is missing, or cannot be read or written."""


class CaseRuleError(KitamonoError):
    """An event would break a case's life rules (e.g. support started twice)."""


class CaseChanged(KitamonoError):
    """A case file changed after it was read for a change (another writer got there first)."""
