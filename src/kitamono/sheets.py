"""Spreadsheet files, CSV and XLSX: the one writer of every cell kitamono puts in them, and the reader.

Whatever writes a spreadsheet (``export``, any report or listing with ``-o x.csv`` / ``x.xlsx``)
goes through ``csv_text`` and ``xlsx_bytes``; ``import`` reads through ``read_csv`` and
``read_xlsx``. Two rules make a cell safe to open and still exact to read back:

- A text cell a spreadsheet would evaluate, one that starts with ``=``, ``+``, ``-``, ``@``, a
  tab or a CR, gets a leading apostrophe (the OWASP advice). So does a text that already starts
  with apostrophes before such a character, which keeps the rule reversible: reading strips one
  apostrophe exactly when one or more apostrophes come before such a character::

      =SUM(A1)  ->  '=SUM(A1)        '=x  ->  ''=x        'abc  ->  'abc (unchanged)

  Numbers, dates and empty cells are written as they are. XLSX text cells are string cells,
  never formulas.
- An XLSX cell cannot hold most control characters (a hand-edited case file may). They are
  written as Excel writes them, ``_x001B_``; an ``x`` that would make the text around it read as
  such an escape is written ``_x0078_``, so that Excel, openpyxl and ``read_xlsx`` all read back
  the text that was written.

Reading refuses a file that is too big before loading it: its size on disk, then (XLSX) its
unpacked size and the sheet's stated dimensions, then rows and columns as they stream in.

A sheet people keep by hand rarely starts at A1: ``find_header`` finds its header row (the first
with two names it knows, below a title and blank rows) and reads merged header cells, one header
over two columns or a header of two rows::

    令和5年度 相談記録簿                          <- a title: skipped
    No. | 受付日 | 相談者        | 相談内容       <- 相談者 merged over two columns
        |        | 氏名 | 電話   |                <- the header's second row
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from kitamono.errors import InputError
from kitamono.i18n import t

if TYPE_CHECKING:  # openpyxl loads only when a workbook is made or read
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet.worksheet import Worksheet

#: The most rows (the header row included) and columns an imported sheet may have.
MAX_ROWS = 10_000
MAX_COLUMNS = 100
#: The largest import file, and the most an XLSX file may unpack to.
MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_UNPACKED_BYTES = 128 * 1024 * 1024
#: The most characters one XLSX cell holds.
XLSX_CELL_LIMIT = 32_767
#: The most merged ranges a sheet may have (a log has a few, in its header).
MAX_MERGED = 10_000
#: How far down a sheet its header row is looked for.
HEADER_SEARCH_ROWS = 30
#: How many rows the column widths of a sheet are measured on.
_WIDTH_ROWS = 200

# --- cells ------------------------------------------------------------------------------------------

#: A text a spreadsheet evaluates, possibly behind apostrophes that neutralised it before.
_EVALUATED = re.compile(r"'*[=+\-@\t\r]")
#: Characters an XLSX cell cannot keep (XML refuses them, or reads CR back as LF), and an ``x``
#: that, after a ``_`` or before ``005F``, would make the text read as an escape.
_NOT_IN_XLSX = re.compile(r"[\x00-\x08\x0b-\x1f]|x(?=[0-9A-Fa-f]{4}[_\x00-\x08\x0b-\x1f])")
_XLSX_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def neutralise(text: str) -> str:
    """The text as a spreadsheet cell: an apostrophe in front when it would be evaluated."""
    return "'" + text if _EVALUATED.match(text) else text


def restore(text: str) -> str:
    """The text ``neutralise`` was given: one leading apostrophe off when it neutralised."""
    return text[1:] if text.startswith("'") and _EVALUATED.match(text, 1) else text


def xlsx_text(text: str) -> str:
    """The text as an XLSX cell holds it: neutralised, control characters escaped as Excel does."""
    text = neutralise(text)
    if not _NOT_IN_XLSX.search(text):
        return text

    def escape(match: re.Match[str]) -> str:
        char, at = match.group(), match.start()
        if char != "x":
            return f"_x{ord(char):04X}_"
        if (at and text[at - 1] == "_") or text.startswith("005F", at + 1):
            return "_x0078_"
        return char

    return _NOT_IN_XLSX.sub(escape, text)


def read_xlsx_text(text: str) -> str:
    """The text ``xlsx_text`` was given."""
    if "_x" in text:
        text = _XLSX_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)
    return restore(text)


class CellTooLong(InputError):
    """A text is longer than an XLSX cell holds (openpyxl would cut it short without a word)."""

    def __init__(self, sheet: str, row: int, column: int) -> None:
        super().__init__(t("sheets.cell_too_long", sheet=sheet, row=row, column=column, limit=f"{XLSX_CELL_LIMIT:,}"))
        self.sheet = sheet
        self.row = row
        self.column = column


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --- writing --------------------------------------------------------------------------------------


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    """CSV as Japanese Excel opens it: a BOM, CRLF line ends, text cells neutralised.

    Cells are text, numbers or None (an empty cell); numbers are written as numbers."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v if _is_number(v) else neutralise(str(v)) for v in row])
    return "\ufeff" + buffer.getvalue()


@dataclass(frozen=True)
class Sheet:
    """One sheet of a workbook: a bold, frozen header row with a filter (if any) and rows of cells.

    A cell is text, a number, a date or None (left empty)."""

    title: str
    header: Sequence[str] | None
    rows: Sequence[Sequence[Any]]
    autofilter: bool = False  # a filter button on each header cell


def xlsx_bytes(sheets: Iterable[Sheet]) -> bytes:
    """A workbook of ``sheets``: text as string cells, dates as dates shown yyyy-mm-dd."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.worksheets[0])  # the empty sheet a new workbook starts with
    used: set[str] = set()
    for spec in sheets:
        sheet = workbook.create_sheet(_sheet_name(spec.title, used))
        widths: dict[int, int] = {}
        first = 1
        if spec.header is not None:
            bold = Font(bold=True)
            for index, label in enumerate(spec.header, start=1):
                _write_cell(sheet, 1, index, label, widths).font = bold
            sheet.freeze_panes = "A2"
            first = 2
            if spec.autofilter and spec.header:
                last = sheet.cell(row=1, column=len(spec.header)).column_letter
                sheet.auto_filter.ref = f"A1:{last}{max(1, len(spec.rows) + 1)}"
        for number, row in enumerate(spec.rows, start=first):
            for index, value in enumerate(row, start=1):
                if value is not None:
                    _write_cell(sheet, number, index, value, widths if number <= _WIDTH_ROWS else None)
        for index, width in widths.items():
            sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = min(60, width + 2)
        if spec.header:  # a filter on every column of the header row, over all the rows
            sheet.auto_filter.ref = f"A1:{sheet.cell(row=1, column=len(spec.header)).column_letter}{sheet.max_row}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write_cell(sheet: Worksheet, row: int, column: int, value: Any, widths: dict[int, int] | None) -> Cell:
    """Write one cell of an openpyxl sheet (and measure it for the column's width); the cell."""
    if isinstance(value, (date, datetime)):
        cell = sheet.cell(row=row, column=column, value=value)
        cell.number_format = "yyyy-mm-dd"
        shown = "yyyy-mm-dd"
    elif _is_number(value):
        cell = sheet.cell(row=row, column=column, value=value)
        shown = str(value)
    else:
        shown = str(value)
        text = xlsx_text(shown)
        if len(text) > XLSX_CELL_LIMIT:
            raise CellTooLong(sheet.title, row, column)
        cell = sheet.cell(row=row, column=column, value=text)
        cell.data_type = "s"  # a string cell, never a formula
        cell.number_format = "@"  # and Excel keeps 0155… as typed when it is edited
    if widths is not None:
        widths[column] = max(widths.get(column, 0), display_width(shown.split("\n", 1)[0]))
    return cell


def display_width(text: str) -> int:
    """How many columns ``text`` takes on a screen (a Japanese character takes two)."""
    from wcwidth import wcswidth

    width = wcswidth(text)
    return width if width >= 0 else len(text) * 2


def _sheet_name(title: str, used: set[str]) -> str:
    base = "".join("_" if ch in "[]:*?/\\" or ch < " " else ch for ch in title)[:28] or "Sheet"
    name, n = base, 2
    while name in used:
        name, n = f"{base[:26]}_{n}", n + 1
    used.add(name)
    return name


# --- reading --------------------------------------------------------------------------------------


def check_file_size(name: object, size: int) -> None:
    """Refuse an import file larger than ``MAX_FILE_BYTES`` before reading it."""
    if size > MAX_FILE_BYTES:
        raise InputError(t("sheets.file_too_big", path=name, size=_megabytes(size), limit=_megabytes(MAX_FILE_BYTES)))


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:,.1f}".removesuffix(".0")


def _too_many_rows(name: object, rows: int | None) -> InputError:
    if rows is None:  # counted while streaming: only that there are more
        return InputError(t("sheets.rows_over", path=name, limit=f"{MAX_ROWS:,}"))
    return InputError(t("sheets.too_many_rows", path=name, rows=f"{rows:,}", limit=f"{MAX_ROWS:,}"))


def _too_many_columns(name: object, columns: int) -> InputError:
    return InputError(t("sheets.too_many_columns", path=name, columns=f"{columns:,}", limit=f"{MAX_COLUMNS:,}"))


def read_csv(name: object, text: str) -> list[list[str]]:
    """The rows of a CSV text, each cell as ``neutralise`` was given it; refuses too many rows or columns."""
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline="")):
            if len(row) > MAX_COLUMNS:
                raise _too_many_columns(name, len(row))
            if len(rows) == MAX_ROWS:
                raise _too_many_rows(name, None)
            rows.append([restore(cell) for cell in row])
    except csv.Error as error:
        raise InputError(t("exchange.unreadable_file", path=name, kind="CSV", reason=error)) from None
    return rows


@dataclass(frozen=True)
class Grid:
    """One sheet as read: its title, its rows of cells, and its merged ranges, each
    (first column, first row, last column, last row), numbered from 1 as Excel numbers them."""

    title: str
    rows: list[list[Any]]
    merged: tuple[tuple[int, int, int, int], ...] = ()


def read_xlsx(name: object, data: bytes) -> list[list[Any]]:
    """The rows of an XLSX file's first sheet, text cells as ``xlsx_text`` was given them."""
    return read_workbook(name, data)[0].rows


def read_workbook(name: object, data: bytes, wanted: Callable[[str], bool] = lambda title: False) -> list[Grid]:
    """An XLSX file's first sheet, then each other sheet whose title ``wanted`` accepts.

    Refuses, before streaming a row, a file that unpacks to more than ``MAX_UNPACKED_BYTES`` or
    whose sheet says it is larger than the limits; then, as rows stream in (a sheet's stated size
    may be missing or wrong), the first row past ``MAX_ROWS`` or ``MAX_COLUMNS``."""
    import zipfile

    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as error:
        raise InputError(t("exchange.unreadable_file", path=name, kind="XLSX", reason=type(error).__name__)) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise InputError(t("sheets.unpacks_too_big", path=name, size=_megabytes(unpacked),
                           limit=_megabytes(MAX_UNPACKED_BYTES)))  # fmt: skip
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - zip, XML and openpyxl errors alike mean "not an xlsx"
        raise InputError(t("exchange.unreadable_file", path=name, kind="XLSX", reason=type(error).__name__)) from None
    try:
        sheets = workbook.worksheets
        return [_read_sheet(name, sheet) for index, sheet in enumerate(sheets) if index == 0 or wanted(sheet.title)]
    except InputError:
        raise
    except Exception as error:  # noqa: BLE001 - a damaged sheet part surfaces only while streaming
        raise InputError(t("exchange.unreadable_file", path=name, kind="XLSX", reason=type(error).__name__)) from None
    finally:
        workbook.close()


def _read_sheet(name: object, sheet: Any) -> Grid:
    if (sheet.max_row or 0) > MAX_ROWS:
        raise _too_many_rows(name, sheet.max_row)
    if (sheet.max_column or 0) > MAX_COLUMNS:
        raise _too_many_columns(name, sheet.max_column)
    sheet.reset_dimensions()  # a stated size may be too small: read every row, up to the limits
    rows: list[list[Any]] = []
    for row in sheet.iter_rows(values_only=True):
        if len(row) > MAX_COLUMNS:
            raise _too_many_columns(name, len(row))
        if len(rows) == MAX_ROWS:
            raise _too_many_rows(name, None)
        rows.append([read_xlsx_text(v) if isinstance(v, str) else v for v in row])
    return Grid(sheet.title, rows, _merged_ranges(name, sheet))


def _merged_ranges(name: object, sheet: Any) -> tuple[tuple[int, int, int, int], ...]:
    """The merged ranges of a sheet streamed by openpyxl, whose streaming reader keeps them to
    itself: read from the sheet's own XML part (``<mergeCell ref="A3:A4"/>``), which it opens."""
    from xml.etree.ElementTree import iterparse

    from openpyxl.utils.cell import range_boundaries
    from openpyxl.xml.constants import SHEET_MAIN_NS

    tag = f"{{{SHEET_MAIN_NS}}}mergeCell"
    found: list[tuple[int, int, int, int]] = []
    with sheet._get_source() as source:  # the sheet's part, as openpyxl opens it to stream the rows
        for _, element in iterparse(source):
            ref = element.get("ref") if element.tag == tag else None
            if ref:
                if len(found) == MAX_MERGED:
                    raise InputError(t("sheets.too_many_merged", path=name, limit=f"{MAX_MERGED:,}"))
                first_col, first_row, last_col, last_row = range_boundaries(ref)
                found.append((first_col or 1, first_row or 1, last_col or 1, last_row or 1))
            element.clear()
    return tuple(found)


# --- finding the table in a sheet -----------------------------------------------------------------


@dataclass(frozen=True)
class HeaderCell:
    """One header as a sheet shows it: the columns under it (more than one when it is merged across
    them) and its texts, top to bottom (a merged parent's text first, in a header of two rows)."""

    columns: tuple[int, ...]  # 0-based
    texts: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.texts)

    def candidates(self) -> list[str]:
        """The names it may be known by, most specific first: its own text, then with its parent's."""
        if not self.texts:
            return []
        return list(dict.fromkeys([self.texts[-1], "".join(self.texts), self.text, self.texts[0]]))


@dataclass(frozen=True)
class Header:
    first: int  # the header's rows, numbered from 1
    last: int
    cells: tuple[HeaderCell, ...]


def find_header(grid: Grid, is_name: Callable[[str], bool]) -> Header | None:
    """The header of the table in ``grid``: the first row (of the first ``HEADER_SEARCH_ROWS``)
    with two or more cells that ``is_name`` knows, with the rows merged header cells join to it."""
    merged_value: dict[tuple[int, int], Any] = {}  # (row, column), 1-based → the merged range's value
    for first_col, first_row, last_col, last_row in grid.merged:
        if first_row > HEADER_SEARCH_ROWS + 2:
            continue
        value = _cell(grid, first_row, first_col)
        for row in range(first_row, min(last_row, HEADER_SEARCH_ROWS + 2) + 1):
            for col in range(first_col, min(last_col, MAX_COLUMNS) + 1):
                merged_value[(row, col)] = value

    def text_at(row: int, col: int) -> str:
        value = merged_value.get((row, col), _cell(grid, row, col))
        return "" if value is None else str(value).strip()

    width = max((len(r) for r in grid.rows), default=0)
    for number in range(1, min(HEADER_SEARCH_ROWS, len(grid.rows)) + 1):
        if sum(1 for col in range(1, width + 1) if text_at(number, col) and is_name(text_at(number, col))) >= 2:
            break
    else:
        return None
    first = last = number
    for first_col, first_row, last_col, last_row in grid.merged:
        if first_row <= number <= last_row and first_row < number:
            first = min(first, first_row)  # a header cell merged down into this row from above
        if first_row == number and last_row > number and first_col == last_col:
            last = max(last, min(last_row, number + 2))  # merged down: the header goes on below
        below = [text_at(number + 1, col) for col in range(first_col, last_col + 1)]
        if first_row == last_row == number and last_col > first_col and all(below) and any(map(is_name, below)):
            last = max(last, number + 1)  # merged across, with a header of its own under each column
    owner: dict[int, tuple[int, int]] = {}  # column → the range merged across it in the last header row
    for first_col, first_row, last_col, last_row in grid.merged:
        if first_row <= last <= last_row and last_col > first_col:
            for col in range(first_col, last_col + 1):
                owner[col] = (first_col, last_col)
    cells: list[HeaderCell] = []
    col = 1
    while col <= width:
        span = owner.get(col, (col, col))
        texts = tuple(dict.fromkeys(text for row in range(first, last + 1) if (text := text_at(row, col))))
        cells.append(HeaderCell(tuple(range(span[0] - 1, span[1])), texts))
        col = span[1] + 1
    return Header(first, last, tuple(cells))


def _cell(grid: Grid, row: int, col: int) -> Any:
    if row > len(grid.rows):
        return None
    cells = grid.rows[row - 1]
    return cells[col - 1] if col <= len(cells) else None
