"""The row model every listing and report is made of, and how its JSON is laid out.

A report is tables of rows; a row holds one value per column. A column has a stable English
``key`` (the JSON key), a ``heading`` in the user's language, and a display form, ``show``: how
its value reads in text, a name for an id, a label for a vocabulary value. Dates, lists and
numbers are shown by the renderer (dates with ``--era``, lists joined by 、). A column may be
only in the JSON (``only="json"``) or only in the tables (``only="table"``)::

    Table("案件", [Column("id", "ID"), Column("received_by", "受付機関", show=ref.short_name)],
          [["hro-2019-0001", "hro"]])
    # table:  ID             受付機関        JSON: [{"id": "hro-2019-0001", "received_by": "hro"}]
    #         hro-2019-0001  道総研

``kitamono.render`` makes every format from these same rows. A report whose JSON is a nested
document says where its tables' rows go (``Rows``, ``Keyed``, ``Total``, ``Values`` inside a
plain dict); the values always come from the rows. Nothing here renders or touches the disk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal, NamedTuple, get_args

#: What a report can be written as (``--format``); ``kitamono.render`` makes each of them.
Format = Literal["table", "plain", "markdown", "csv", "json", "xlsx", "html"]
#: What a command that reports a few lines of text (sync, log, check) can write.
TextFormat = Literal["table", "plain", "markdown", "csv", "json"]
FORMATS: tuple[str, ...] = get_args(Format)
TEXT_FORMATS: tuple[str, ...] = get_args(TextFormat)

Only = Literal["json", "table"] | None


class _Absent:
    """The value of a column a JSON row leaves out (no key at all); it shows as an empty cell."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


class Column(NamedTuple):
    """One column: its JSON key (dotted keys nest: ``target.new``), heading, display form."""

    key: str
    heading: str
    numeric: bool = False  # right-aligned in tables
    show: Callable[[Any], Any] | None = None  # the value as it reads in text; None: as it is
    only: Only = None


class Table(NamedTuple):
    """Rows under columns, for people and for tools alike.

    ``total`` is a last row for people (合計), given as it reads (no ``show``); ``Total`` places
    its values in the JSON. ``json_order`` lists a JSON row's keys when they are not in the
    columns' order. A table ``only="json"`` is never shown. ``head``, at a terminal, shows that
    many rows and then the line ``more``.
    """

    title: str
    columns: list[Column]
    rows: list[list[Any]]
    note: str | None = None
    total: list[Any] | None = None
    json_order: tuple[str, ...] | None = None
    only: Only = None
    head: int | None = None
    more: str | None = None
    says_none: bool = False  # shown as 「該当なし」 when it has no rows even alone, not as bare headings

    @property
    def shown_columns(self) -> list[int]:
        """The positions of the columns a table shows."""
        return [n for n, c in enumerate(self.columns) if c.only != "json"]

    def position(self, key: str) -> int:
        return next(n for n, c in enumerate(self.columns) if c.key == key)

    def values(self, key: str) -> list[Any]:
        """One column's values, row by row (the total row left out)."""
        at = self.position(key)
        return [row[at] for row in self.rows]

    def records(self, rows: Sequence[Sequence[Any]] | None = None) -> list[dict[str, Any]]:
        """The rows (or ``rows``) as JSON objects: the JSON columns, by key, ABSENT ones left out."""
        keys = self.json_order or tuple(c.key for c in self.columns if c.only != "table")
        at = [self.position(k) for k in keys]
        pairs = list(zip(keys, at, strict=True))
        chosen = self.rows if rows is None else rows
        if any("." in k for k in keys):
            return [_nested(pairs, row) for row in chosen]
        return [{k: row[n] for k, n in pairs if row[n] is not ABSENT} for row in chosen]


def _nested(pairs: list[tuple[str, int]], row: Sequence[Any]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for key, at in pairs:
        value = row[at]
        if value is ABSENT:
            continue
        parent, _, child = key.partition(".")
        if child:
            record.setdefault(parent, {})[child] = value
        else:
            record[key] = value
    return record


class Chart(NamedTuple):
    """A bar chart for the HTML page: one group of bars per label, one bar per series (None: no
    bar for that label)."""

    title: str
    labels: list[str]
    series: dict[str, list[float | None]]


class Problems(NamedTuple):
    """The case files a report was made without, because they could not be read or their ids
    were ambiguous (only ever with ``--allow-damaged``): every format carries them, so a number
    made without some cases never looks like a number made with all of them.

    ``message`` is one line for people (how many cases were left out, what to do); ``files``
    holds each file (relative to the repository) with what is wrong with it.
    """

    message: str
    files: Sequence[tuple[str, str]]

    @property
    def left_out(self) -> int:
        """How many cases the report was made without: one per file."""
        return len(self.files)

    def lines(self) -> list[str]:
        """The message, then one line per file."""
        return [self.message, *(f"{path}: {problem}" for path, problem in self.files)]

    def json(self) -> dict[str, Any]:
        return {
            "cases_left_out": self.left_out,
            "files": [{"path": path, "problem": problem} for path, problem in self.files],
            "message": self.message,
        }


class Report(NamedTuple):
    """What a command shows: a title, tables, a written summary, charts, and its JSON's layout.

    ``document`` is the JSON: a plain value in which ``Rows``, ``Keyed``, ``Total`` and
    ``Values`` stand for rows of the tables. None means the rows of the one table the JSON has.
    ``byline`` is the line under a document's title (作成日・作成機関・時点), for people only (the JSON
    holds its own dates). ``problems``, when files were left out, goes first in every format; in
    the JSON as the key ``problems`` (a JSON that is a list becomes ``{"problems", "rows"}``).
    """

    title: str
    tables: list[Table]
    document: Any = None
    summary: Sequence[str] = ()
    charts: Sequence[Chart] = ()
    byline: str | None = None
    problems: Problems | None = None

    def json(self) -> Any:
        """The JSON value, every placement filled in from the rows."""
        if self.document is None:
            (table,) = [t for t in self.tables if t.only != "table"]
            value: Any = table.records()
        else:
            value = _filled(self.document)
        if self.problems is None:
            return value
        if isinstance(value, dict):
            return {"problems": self.problems.json(), **value}
        return {"problems": self.problems.json(), "rows": value}

    @property
    def shown_tables(self) -> Iterator[Table]:
        return (t for t in self.tables if t.only != "json")


# --- where rows go in a JSON document -------------------------------------------------------------


class Rows(NamedTuple):
    """A table's rows as a list of objects; ``where``: only those whose column ``key`` holds ``value``."""

    table: Table
    where: tuple[str, Any] | None = None

    def fill(self) -> list[dict[str, Any]]:
        if self.where is None:
            return self.table.records()
        at = self.table.position(self.where[0])
        return self.table.records([row for row in self.table.rows if row[at] == self.where[1]])


class Keyed(NamedTuple):
    """A table's rows as one object keyed by column ``key``: each row's other values, or one of them."""

    table: Table
    key: str
    value: str | None = None

    def fill(self) -> dict[Any, Any]:
        found: dict[Any, Any] = {}
        for record in self.table.records():
            name = record.pop(self.key)
            found[name] = record if self.value is None else record[self.value]
        return found


class Total(NamedTuple):
    """A table's total row as an object: ``keys`` maps JSON keys to columns (default: every JSON
    column but the first, which names the row); ``then`` adds more keys after them."""

    table: Table
    keys: dict[str, str] | None = None
    then: dict[str, Any] | None = None

    def fill(self) -> dict[str, Any]:
        assert self.table.total is not None, self.table.title
        row = self.table.total
        if self.keys is None:
            columns = [c for c in self.table.columns[1:] if c.only != "table"]
            found = {c.key: row[self.table.position(c.key)] for c in columns}
        else:
            found = {name: row[self.table.position(key)] for name, key in self.keys.items()}
        return found | _filled(self.then or {})


class Values(NamedTuple):
    """One column of a table's rows, as a list."""

    table: Table
    key: str

    def fill(self) -> list[Any]:
        return self.table.values(self.key)


def _filled(value: Any) -> Any:
    if isinstance(value, (Rows, Keyed, Total, Values)):
        return value.fill()
    if isinstance(value, dict):
        return {k: _filled(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_filled(v) for v in value]
    return value
