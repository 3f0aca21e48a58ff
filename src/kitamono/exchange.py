"""Cases in and out of spreadsheets and JSON Lines: ``kitamono export`` and ``kitamono import``.

Export is a full copy: every case, with its contacts unless ``redact``. JSON Lines holds each
case exactly as its model dump, one per line. XLSX has two sheets a coordinator can filter: 案件,
one row per case (the columns filtered on first, some computed: 振興局, 状況, 主担当, 支援開始日,
最終記録日, 次のフォローアップ年度, 基本計画との整合), and 経過, one row per event, its columns the
event model's fields (a field added to ``Event`` travels without a change here)::

    案件: ID | 受付日 | 受付機関 | 会社名 | 市町村 | 振興局 | 分野 | 件名 | 状況 | 主担当 | …
    経過: ID | 日付 | 記録 | 機関 | 紹介先 | 主担当 | 協力 | メンバー | 成果 | メモ | …

CSV (UTF-8 with a BOM, as Japanese Excel reads it) is one file: the 案件 columns with the events
as JSON text in a last column 経過; ``events=True`` writes the 経過 table as a CSV of its own.
All three come back through import without loss (computed columns are not read back).

Import also brings in the inquiry log people keep (相談記録簿): the header row is found below a
title and blank rows, merged header cells are read, blank rows skipped and a total row ends the
table; headers are read through data/columns.yaml, addresses to their municipality, 和暦 dates,
full-width digits and the words of data/words.yaml for every choice (来店, TEL …). A column it
does not know is kept in the received event's note (``--ignore-column`` leaves it out, ``--map``
gives it a meaning). A row without an ID is a new inquiry and gets what ``case new`` would give
it; one whose 受付日, 受付機関, 会社名 and 件名 match a stored case is already imported. Every row
is checked before anything is written, and the whole file imports or nothing does; a problem
names the row as the spreadsheet shows it and the column. No problem text quotes a contact value.

Every cell goes in and out through ``sheets.py``: formulas neutralised with a leading ``'`` and
read back without it, control characters kept exactly, files too big refused before reading.
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from kitamono import store
from kitamono.caseio import case_text
from kitamono.errors import DataError, InputError, RepositoryError
from kitamono.i18n import catalogue, label, lang, t
from kitamono.models import ASCII_ID, STORED, Case, Event
from kitamono.reference import Reference, squash
from kitamono.sheets import XLSX_CELL_LIMIT, Grid, Header, HeaderCell

FORMATS: tuple[str, ...] = ("csv", "xlsx", "jsonl")
EXTENSIONS = {".csv": "csv", ".xlsx": "xlsx", ".jsonl": "jsonl", ".ndjson": "jsonl"}
#: How many problems a refused import lists before it only counts the rest.
MAX_LISTED_PROBLEMS = 20
_PLACEHOLDER_ID = "new-0000-0000"


class ImportRejected(InputError):
    """One or more rows of an import file are bad; nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(t("exchange.rejected", n=len(problems)))
        self.problems = problems


class DamagedCases(DataError):
    """Some case files cannot be read, so a full copy (or a safe import) is impossible."""

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


# --- the columns ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExchangeColumn:
    key: str  # the model's name for it (the English header import accepts)
    aliases: tuple[str, ...] = ()  # other English headers accepted (the dotted model path)
    personal: bool = False
    derived: bool = False  # computed from the case when exported; never read back

    @property
    def label(self) -> str:
        return t(f"exchange.col.{self.key}")


#: The 案件 columns, in their order: what a coordinator filters on first, then the rest of a case.
COLUMNS: tuple[ExchangeColumn, ...] = (
    ExchangeColumn("id"),
    ExchangeColumn("received_on"),
    ExchangeColumn("received_by"),
    ExchangeColumn("company", ("company.name",)),
    ExchangeColumn("municipality", ("company.municipality",)),
    ExchangeColumn("subprefecture", derived=True),
    ExchangeColumn("field"),
    ExchangeColumn("title"),
    ExchangeColumn("status", derived=True),
    ExchangeColumn("lead", derived=True),
    ExchangeColumn("started_on", derived=True),
    ExchangeColumn("last_event_on", derived=True),
    ExchangeColumn("next_follow_up", derived=True),
    ExchangeColumn("plan_fit", derived=True),
    ExchangeColumn("channel"),
    ExchangeColumn("bank", ("company.bank",)),
    ExchangeColumn("person", ("contact.person",), personal=True),
    ExchangeColumn("phone", ("contact.phone",), personal=True),
    ExchangeColumn("email", ("contact.email",), personal=True),
    ExchangeColumn("summary"),
    ExchangeColumn("needs"),
    ExchangeColumn("approved_project"),
    ExchangeColumn("demo"),
    ExchangeColumn("conflicts"),
    ExchangeColumn("resolved_conflicts"),
    ExchangeColumn("withdrawn"),
    ExchangeColumn("changes"),
    ExchangeColumn("events"),
)
#: What an imported sheet's column may hold besides: kept in the note, or a log's own row number.
_IMPORT_ONLY = (ExchangeColumn("note"), ExchangeColumn("serial"))
_BY_KEY = {c.key: c for c in (*COLUMNS, *_IMPORT_ONLY)}
_DATE_COLUMNS = ("received_on", "approved_project")
_REQUIRED = ("received_on", "channel", "company", "municipality", "title")
#: Columns several of which may be given: their values are joined (電話番号 and 携帯).
_JOINED = {"person": " / ", "phone": " / ", "email": " / ", "note": "\n"}


def columns(redact: bool = False, events: bool = True) -> list[ExchangeColumn]:
    """The 案件 columns; without ``events`` (XLSX, whose 経過 sheet holds them) no 経過 column."""
    return [c for c in COLUMNS if not (redact and c.personal) and (events or c.key != "events")]


def _column_key(name: str, ref: Reference) -> str | None:
    """What a header names (data/columns.yaml, kitamono's own headers, the model's dotted paths)."""
    key = squash(name)
    return ref.column_names.get(key) or _ALIASES.get(key)


_ALIASES = {squash(alias): c.key for c in COLUMNS for alias in c.aliases}


def _column_label(key: str) -> str:
    return _BY_KEY[key].label if key in _BY_KEY else key


# --- the 経過 columns: the event model's fields ------------------------------------------------------

#: The fields of an event that name institutions (written as short names, read back as ids).
_INSTITUTION_FIELDS = ("by", "to", "lead", "supporting", "members")


def _unwrap(annotation: Any) -> Any:
    """``Line | None`` → str: the type inside Optional and Annotated."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            inner = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(inner) != 1:
                return annotation
            annotation = inner[0]
        else:
            return annotation


def _event_cell_kind(name: str) -> str:
    """How one event field is written in a cell: date, choice, institution(s), text, flag or json."""
    annotation = _unwrap(Event.model_fields[name].annotation)
    if name == "type":
        return "choice"
    if annotation is date:
        return "date"
    if name in _INSTITUTION_FIELDS:
        return "institutions" if typing.get_origin(annotation) is list else "institution"
    if annotation is str or typing.get_origin(annotation) is typing.Literal:
        return "text"
    if annotation is bool:
        return "flag"
    return "json"  # a record or a list of them: its JSON text


def event_fields() -> list[str]:
    """The 経過 columns after ID: the event model's fields, its date first (the order people read)."""
    return ["date", *(name for name in Event.model_fields if name != "date")]


def event_label(name: str) -> str:
    """A 経過 column's heading: the catalogue's, else the field's own name (a field added lately)."""
    if name == "id":
        return t("exchange.col.id")
    return catalogue(lang()).get(f"exchange.event.{name}") or catalogue("ja").get(f"exchange.event.{name}", name)


def _event_names() -> dict[str, str]:
    """Every heading a 経過 column may have (squashed) → its field: both languages, the field names."""
    names = {squash(name): name for name in ["id", *event_fields()]}
    names.setdefault(squash("案件ID"), "id")
    for language in ("ja", "en"):
        names.setdefault(squash(catalogue(language)["exchange.col.id"]), "id")
        for name in event_fields():
            text = catalogue(language).get(f"exchange.event.{name}")
            if text:
                names.setdefault(squash(text), name)
    return names


def _is_events_sheet(title: str) -> bool:
    return squash(title) in {squash(catalogue(language)["exchange.events_sheet"]) for language in ("ja", "en")}


# --- export: cases → rows → bytes -----------------------------------------------------------------


def export_order(cases: Iterable[Case]) -> list[Case]:
    return sorted(cases, key=lambda c: (c.received_on, c.id))


def _institution_cell(ref: Reference, ident: str | None) -> str | None:
    """The short name when it leads back to the same institution, else the id itself."""
    if ident is None:
        return None
    inst = ref.institutions.get(ident)
    if inst is None or re.search(r"[、,，;；\n]", inst.short_name):  # a list of them is split on these
        return ident
    try:
        same = ref.institution(inst.short_name).id == ident
    except InputError:
        same = False
    return inst.short_name if same else ident


def _json_cell(items: list[Any]) -> str | None:
    if not items:
        return None
    dumped = [item.model_dump(mode="json", exclude_defaults=True) for item in items]
    return json.dumps(dumped, ensure_ascii=False)


def _derived_values(case: Case, ref: Reference, as_of: date) -> dict[str, Any]:
    """The computed columns: what a coordinator filters on, worked out as ``case list`` does."""
    from kitamono.cases import case_text, last_contact, lead, plan_fit, start_event, status
    from kitamono.fiscal import format_period
    from kitamono.followup import obligations

    municipality = ref.municipalities.get(case.company.municipality)
    started = start_event(case)
    owed = [o for o in obligations(case, ref.targets, as_of) if o.state in ("overdue", "due", "upcoming")]
    plans, fits = plan_fit(case.field, case.company.municipality, ref, case_text(case))
    fit = "yes" if fits else "other_field" if plans else "no_plan"
    return {
        "subprefecture": municipality.subprefecture if municipality else None,
        "status": label("status", status(case, as_of)),
        "lead": ref.short_name(lead(case)) or None,
        "started_on": started.date if started else None,
        "last_event_on": last_contact(case, as_of),
        "next_follow_up": format_period(owed[0].period) if owed else None,
        "plan_fit": t(f"exchange.fit.{fit}"),
    }


def case_values(case: Case, ref: Reference, as_of: date | None = None) -> dict[str, Any]:
    """One case as spreadsheet cells by column key (dates as dates, text as text); the computed
    columns only when ``as_of`` is given."""
    contact = case.contact
    values: dict[str, Any] = {
        "id": case.id,
        "received_on": case.received_on,
        "received_by": _institution_cell(ref, case.received_by),
        "channel": label("channel", case.channel),
        "company": case.company.name,
        "municipality": case.company.municipality,
        "bank": _institution_cell(ref, case.company.bank),
        "person": contact.person if contact else None,
        "phone": contact.phone if contact else None,
        "email": contact.email if contact else None,
        "title": case.title,
        "summary": case.summary or None,
        "field": label("field", case.field),
        "needs": "、".join(label("competence", n) for n in case.needs) or None,
        "approved_project": case.approved_project,
        "demo": 1 if case.demo else None,
        "events": _json_cell(case.events),
        "conflicts": _json_cell(case.conflicts),
        "resolved_conflicts": _json_cell(case.resolved_conflicts),
        "withdrawn": _json_cell([case.withdrawn] if case.withdrawn else []),
        "changes": _json_cell(case.changes),
    }
    if as_of is not None:
        values.update(_derived_values(case, ref, as_of))
    return values


def case_row(case: Case, ref: Reference, redact: bool = False) -> list[Any]:
    """One case's own cells (no computed column), in ``columns(redact)`` order."""
    values = case_values(case, ref)
    return [values.get(c.key) for c in columns(redact) if not c.derived]


def event_values(event: Event, ref: Reference) -> dict[str, Any]:
    """One event as cells by field: each field written as ``_event_cell_kind`` says."""
    dumped = event.model_dump(mode="json")
    values: dict[str, Any] = {}
    for name in event_fields():
        value = getattr(event, name)
        kind = _event_cell_kind(name)
        if value is None or value == Event.model_fields[name].default:
            values[name] = None
        elif kind == "choice":
            values[name] = label("event", value)
        elif kind == "institution":
            values[name] = _institution_cell(ref, value)
        elif kind == "institutions":
            values[name] = "、".join(_institution_cell(ref, v) or "" for v in value)
        elif kind == "flag":
            values[name] = 1
        elif kind == "json":
            values[name] = json.dumps(dumped[name], ensure_ascii=False)
        else:
            values[name] = value
    return values


def event_rows(cases: Iterable[Case], ref: Reference) -> list[list[Any]]:
    """The 経過 table: one row per event, its case's ID first, in the cases' order."""
    rows = []
    for case in cases:
        for event in case.events:
            values = event_values(event, ref)
            rows.append([case.id, *(values[name] for name in event_fields())])
    return rows


def has_contacts(cases: Iterable[Case]) -> bool:
    return any(c.contact is not None and any(c.contact.model_dump().values()) for c in cases)


def export_bytes(cases: list[Case], ref: Reference, fmt: str, redact: bool = False, as_of: date | None = None,
                 events: bool = False) -> bytes:  # fmt: skip
    """The whole export file, in ``fmt`` (csv, xlsx or jsonl); with ``events``, the 经過 CSV.

    The computed columns are worked out as of ``as_of`` (today when not given)."""
    ordered = export_order(cases)
    as_of = as_of or date.today()
    if events:
        if fmt != "csv":
            raise InputError(t("exchange.events_only_csv"))
        return events_csv(ordered, ref).encode("utf-8")
    if fmt == "jsonl":
        return to_jsonl(ordered, redact).encode("utf-8")
    if fmt == "csv":
        return to_csv(ordered, ref, redact, as_of).encode("utf-8")
    if fmt == "xlsx":
        return to_xlsx(ordered, ref, redact, as_of)
    raise InputError(t("exchange.bad_format", value=fmt, choices=", ".join(FORMATS)))


def to_jsonl(cases: list[Case], redact: bool = False) -> str:
    lines = []
    for case in cases:
        data = case.model_dump(mode="json")
        if redact:
            data.pop("contact", None)
        lines.append(json.dumps(data, ensure_ascii=False) + "\n")
    return "".join(lines)


def _csv_cell(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def to_csv(cases: list[Case], ref: Reference, redact: bool = False, as_of: date | None = None) -> str:
    """CSV with a BOM and CRLF line ends, as Japanese Excel expects; dates in ISO form."""
    from kitamono.sheets import csv_text

    chosen = columns(redact)
    rows: list[list[Any]] = [[c.label for c in chosen]]
    for case in cases:
        values = case_values(case, ref, as_of or date.today())
        rows.append([_csv_cell(values.get(c.key)) for c in chosen])
    return csv_text(rows)


def events_csv(cases: list[Case], ref: Reference) -> str:
    """The 経過 table as a CSV of its own (the cases' CSV holds the same events as JSON)."""
    from kitamono.sheets import csv_text

    header = [event_label(name) for name in ["id", *event_fields()]]
    return csv_text([header, *([_csv_cell(v) for v in row] for row in event_rows(cases, ref))])


def to_xlsx(cases: list[Case], ref: Reference, redact: bool = False, as_of: date | None = None) -> bytes:
    """Two sheets, 案件 and 経過: bold frozen header rows with filters, text cells as text (never
    numbers or formulas), dates as real dates shown yyyy-mm-dd."""
    from kitamono.sheets import CellTooLong, Sheet, xlsx_bytes

    chosen = columns(redact, events=False)
    rows = []
    for case in cases:
        values = case_values(case, ref, as_of or date.today())
        rows.append([values.get(c.key) for c in chosen])
    history = event_rows(cases, ref)
    sheets = [
        Sheet(t("exchange.sheet"), [c.label for c in chosen], rows, autofilter=True),
        Sheet(t("exchange.events_sheet"), [event_label(n) for n in ["id", *event_fields()]], history, autofilter=True),
    ]
    try:
        return xlsx_bytes(sheets)
    except CellTooLong as error:
        if error.sheet == sheets[0].title:
            case_id, column = cases[error.row - 2].id, chosen[error.column - 1].label
        else:
            case_id, column = history[error.row - 2][0], event_label(["id", *event_fields()][error.column - 1])
        raise InputError(t("exchange.xlsx_too_long", id=case_id, column=column, limit=f"{XLSX_CELL_LIMIT:,}")) from None


def load_for_export(repo: store.Repository) -> list[Case]:
    """Every case; refuses (DamagedCases) when any file cannot be read, so no copy misses one."""
    from kitamono.casework import damaged_files, load_all

    loaded = load_all(repo)
    if loaded.problems:
        files = "、".join(path for path, _ in damaged_files(repo, loaded))
        raise DamagedCases(t("damaged.export_refused", n=len(loaded.problems), files=files), loaded.problems)
    return loaded.cases


# --- reading import files -------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportOptions:
    """What the person importing said about the file's columns."""

    maps: tuple[tuple[str, str], ...] = ()  # (header, item): --map 列名=項目
    ignored: tuple[str, ...] = ()  # --ignore-column 列名


@dataclass(frozen=True)
class MappedColumn:
    """What import makes of one column of the file."""

    header: str  # as the file shows it
    key: str | None  # what it holds; None: not read
    how: str  # known, mapped (--map), unknown (kept in the note), ignored, derived, serial
    columns: tuple[int, ...] = ()


@dataclass(frozen=True)
class Skipped:
    """Rows import does not read, and why: before_header, blank, total, after_total."""

    first: int
    last: int
    reason: str


@dataclass(frozen=True)
class SourceRow:
    """One row of an import file: its number as the file shows it, and its values by column."""

    number: int
    values: dict[str, Any]  # column key → raw cell (tabular) or the parsed JSON object (jsonl)
    headers: dict[str, str] = field(default_factory=dict)  # column key → the file's header text
    kept: tuple[tuple[str, Any], ...] = ()  # (header, cell) of the columns kept in the note
    derived: tuple[tuple[str, Any], ...] = ()  # (header, cell) of computed columns


@dataclass
class SourceFile:
    kind: str  # csv, xlsx or jsonl
    rows: list[SourceRow]
    problems: list[str]  # file-level problems (headers, undecodable lines)
    name: str = ""
    sheet: str | None = None  # the sheet read (xlsx)
    header: tuple[int, int] | None = None  # the header's first and last row
    mapping: list[MappedColumn] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    events_sheet: str | None = None  # the 経過 sheet read, when the workbook has one
    event_rows: list[SourceRow] = field(default_factory=list)


def format_for_path(path: Path) -> str | None:
    return EXTENSIONS.get(path.suffix.lower())


def read_source(path: Path, ref: Reference, options: ImportOptions | None = None) -> SourceFile:
    """Read an import file into rows: its table found, its headers recognised; nothing interpreted.

    A file too big to be an inquiry log or a copy of a repository is refused before it is read."""
    from kitamono.sheets import check_file_size, read_csv, read_workbook

    kind = format_for_path(path)
    if kind is None:
        raise InputError(t("exchange.unknown_file_type", path=path))
    check_file_size(path, path.stat().st_size)
    data = path.read_bytes()
    if kind == "jsonl":
        return _read_jsonl(path, data)
    if kind == "csv":
        grids = [Grid("", read_csv(path, _decode(path, data)))]
    else:
        grids = read_workbook(path, data, _is_events_sheet)
    source = _read_table(kind, grids[0], ref, options or ImportOptions())
    source.name = path.name
    if len(grids) > 1:
        _read_events_sheet(source, grids[1])
    return source


def _decode(path: Path, data: bytes) -> str:
    """UTF-8 (with or without BOM); else Shift_JIS, which Japanese Excel's plain 'CSV' writes."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932")
    except UnicodeDecodeError:
        raise InputError(t("exchange.bad_encoding", path=path)) from None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _is_total(row: list[Any], words: tuple[str, ...]) -> bool:
    """A total row: its first text is a total word, maybe with a count (合計, 計 12件, 合計(5社))."""
    if not words:
        return False
    first = next((v for v in row if isinstance(v, str) and v.strip()), None)
    if first is None:
        return False
    pattern = "|".join(re.escape(word) for word in words)
    return re.fullmatch(rf"(?:{pattern})[:：]?\(?[\d,]*(?:件|社)?\)?", squash(first)) is not None


def _resolve_options(options: ImportOptions, ref: Reference) -> dict[str, str]:
    """--map's items as column keys, by the squashed header; an item not known is refused."""
    maps: dict[str, str] = {}
    for header, item in options.maps:
        key = _column_key(item, ref)
        if key not in _MAP_TARGETS:
            items = "、".join(dict.fromkeys(_column_label(k) for k in _MAP_TARGETS))
            raise InputError(t("exchange.bad_map_item", item=item, header=header, items=items))
        maps[squash(header)] = key
    return maps


#: What --map may give a column: a case's own items, the note.
_MAP_TARGETS = tuple(c.key for c in (*COLUMNS, *_IMPORT_ONLY) if not c.derived and c.key != "serial")


def _map_columns(header: Header, ref: Reference, options: ImportOptions) -> list[MappedColumn]:
    maps = _resolve_options(options, ref)
    ignored = {squash(name) for name in options.ignored}
    used: set[str] = set()
    mapping: list[MappedColumn] = []
    for cell in header.cells:
        if not cell.texts:
            continue
        names = [squash(text) for text in cell.candidates()]
        chosen = next((n for n in names if n in ignored), None)
        if chosen is not None:
            used.add(chosen)
            mapping.append(MappedColumn(cell.text, None, "ignored", cell.columns))
            continue
        chosen = next((n for n in names if n in maps), None)
        if chosen is not None:
            used.add(chosen)
            mapping.append(MappedColumn(cell.text, maps[chosen], "mapped", cell.columns))
            continue
        key = next((k for n in cell.candidates() if (k := _column_key(n, ref)) is not None), None)
        if key is None:
            mapping.append(MappedColumn(cell.text, "note", "unknown", cell.columns))
        elif key == "serial":
            mapping.append(MappedColumn(cell.text, None, "serial", cell.columns))
        elif _BY_KEY[key].derived:
            mapping.append(MappedColumn(cell.text, key, "derived", cell.columns))
        else:
            mapping.append(MappedColumn(cell.text, key, "known", cell.columns))
    headers = [cell.text for cell in header.cells if cell.texts]
    for name in [*(h for h, _ in options.maps), *options.ignored]:
        if squash(name) not in used:
            raise InputError(t("exchange.no_such_column", name=name, headers="、".join(headers)))
    return mapping


def _read_table(kind: str, grid: Grid, ref: Reference, options: ImportOptions) -> SourceFile:
    from kitamono.sheets import HEADER_SEARCH_ROWS, find_header

    table = grid.rows
    source = SourceFile(kind, [], [], sheet=grid.title or None)
    if not any(not _blank(v) for row in table for v in row):
        source.problems.append(t("exchange.line_problem", row=1, problem=t("exchange.no_headers")))
        return source
    header = find_header(grid, lambda text: _column_key(text, ref) is not None)
    if header is None:
        source.problems.append(t("exchange.no_header_row", rows=HEADER_SEARCH_ROWS))
        return source
    source.header = (header.first, header.last)
    if header.first > 1:
        source.skipped.append(Skipped(1, header.first - 1, "before_header"))
    source.mapping = mapping = _map_columns(header, ref, options)
    top = header.first
    seen: dict[str, str] = {}
    for column in mapping:
        if column.key is None or column.how == "derived" or column.key in _JOINED:
            continue
        if column.key in seen:
            source.problems.append(t("exchange.row_problem", row=top, column=column.header,
                                     problem=t("exchange.duplicate_header")))  # fmt: skip
        seen[column.key] = column.header
    keys = {c.key for c in mapping if c.how != "derived"}
    for key in _REQUIRED:
        if key not in keys and not (key == "title" and "summary" in keys):
            source.problems.append(t("exchange.row_problem", row=top, column=_BY_KEY[key].label,
                                     problem=t("exchange.missing_header")))  # fmt: skip
    if source.problems:  # the header must be right before its rows can be read
        return source
    headed = {index for cell in header.cells if cell.texts for index in cell.columns}
    read = {index for c in mapping if c.how not in ("serial", "ignored") for index in c.columns}
    _fill_merged_down(grid, header.last)
    blank_from: int | None = None
    for number, raw_row in enumerate(table[header.last:], start=header.last + 1):
        if all(_blank(v) for i, v in enumerate(raw_row) if i in read or i not in headed):
            blank_from = number if blank_from is None else blank_from  # a serial number alone is blank too
            continue
        if blank_from is not None:
            source.skipped.append(Skipped(blank_from, number - 1, "blank"))
            blank_from = None
        if _is_total(raw_row, ref.total_words):
            source.skipped.append(Skipped(number, number, "total"))
            rest = [n for n, r in enumerate(table[number:], start=number + 1) if any(not _blank(v) for v in r)]
            if rest:
                source.skipped.append(Skipped(rest[0], rest[-1], "after_total"))
            break
        for index, value in enumerate(raw_row):
            if not _blank(value) and index not in headed:
                problem = t("exchange.no_header", column=index + 1)
                source.problems.append(t("exchange.line_problem", row=number, problem=problem))
                break
        source.rows.append(_source_row(number, raw_row, mapping))
    return source



def _fill_merged_down(grid: Grid, below: int) -> None:
    """A data cell merged down over several rows (one 受付日 for two rows) gives each its value."""
    for first_col, first_row, _, last_row in grid.merged:
        if first_row <= below or last_row == first_row:
            continue
        source = grid.rows[first_row - 1] if first_row <= len(grid.rows) else []
        value = source[first_col - 1] if first_col <= len(source) else None
        for number in range(first_row + 1, min(last_row, len(grid.rows)) + 1):
            row = grid.rows[number - 1]
            if first_col <= len(row) and _blank(row[first_col - 1]):
                row[first_col - 1] = value


def _source_row(number: int, raw_row: list[Any], mapping: list[MappedColumn]) -> SourceRow:
    values: dict[str, Any] = {}
    headers: dict[str, str] = {}
    kept: list[tuple[str, Any]] = []
    derived: list[tuple[str, Any]] = []
    for column in mapping:
        if column.key is None:
            continue
        parts = [raw_row[i] for i in column.columns if i < len(raw_row) and raw_row[i] not in (None, "")]
        if not parts:
            value = None
        elif len(parts) == 1:
            value = parts[0]
        else:  # a header merged across columns: their cells are one value
            value = " ".join(_text(p) or "" for p in parts)
        if column.key == "note":
            if value is not None:
                kept.append((column.header, value))
            continue
        if column.how == "derived":
            if value is not None:
                derived.append((column.header, value))
            continue
        if column.key in _JOINED and column.key in values:
            if value is not None:
                earlier, joiner = values[column.key], _JOINED[column.key]
                values[column.key] = value if earlier is None else f"{_text(earlier)}{joiner}{_text(value)}"
            continue
        values[column.key] = value
        headers.setdefault(column.key, column.header)
    return SourceRow(number, values, headers, tuple(kept), tuple(derived))


def _read_events_sheet(source: SourceFile, grid: Grid) -> None:
    """The 経過 sheet of a workbook kitamono wrote: one event per row, under its case's ID."""
    from kitamono.sheets import HEADER_SEARCH_ROWS, find_header

    names = _event_names()
    source.events_sheet = grid.title
    header = find_header(grid, lambda text: squash(text) in names)
    if header is None:
        problem = t("exchange.no_header_row", rows=HEADER_SEARCH_ROWS)
        source.problems.append(t("exchange.sheet_problem", sheet=grid.title, problem=problem))
        return
    keys: list[tuple[str, HeaderCell]] = []
    for cell in header.cells:
        if not cell.texts:
            continue
        key = next((names[squash(n)] for n in cell.candidates() if squash(n) in names), None)
        if key is None:
            source.problems.append(t("exchange.sheet_row_problem", sheet=grid.title, row=header.first,
                                     column=cell.text, problem=t("exchange.unknown_event_header")))  # fmt: skip
            continue
        keys.append((key, cell))
    if "id" not in {k for k, _ in keys}:
        source.problems.append(t("exchange.sheet_row_problem", sheet=grid.title, row=header.first,
                                 column=t("exchange.col.id"), problem=t("exchange.missing_header")))  # fmt: skip
        return
    for number, raw_row in enumerate(grid.rows[header.last:], start=header.last + 1):
        if all(_blank(v) for v in raw_row):
            continue
        values = {key: raw_row[cell.columns[0]] if cell.columns[0] < len(raw_row) else None for key, cell in keys}
        source.event_rows.append(SourceRow(number, values, {key: cell.text for key, cell in keys}))


def _read_jsonl(path: Path, data: bytes) -> SourceFile:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(t("exchange.bad_encoding", path=path)) from None
    rows: list[SourceRow] = []
    problems: list[str] = []
    # Split on LF only: str.splitlines would also split inside a value holding U+2028 or U+0085,
    # which json.dumps(ensure_ascii=False) writes as they are.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(t("exchange.line_problem", row=number,
                              problem=t("exchange.bad_json", reason=f"{error.msg}, col {error.colno}")))  # fmt: skip
            continue
        if not isinstance(value, dict):
            problems.append(t("exchange.line_problem", row=number, problem=t("exchange.not_object")))
            continue
        rows.append(SourceRow(number, value))
    return SourceFile("jsonl", rows, problems, name=path.name)


# --- rows → cases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What reading a row needs besides the row: reference data, today, this clone's institution."""

    ref: Reference
    today: date
    clone: str | None


class _Row:
    """Collects the problems of one row, each naming the row and the column as the file does."""

    def __init__(self, source: SourceRow, kind: str) -> None:
        self.source = source
        self.kind = kind
        self.problems: list[str] = []
        self.derived_title: str | None = None
        self.event_rows: list[int] = []  # the 経過 sheet's row of each event, when it has one
        self.events_sheet: str | None = None

    def column_name(self, key: str) -> str:
        if self.kind == "jsonl":
            return _MODEL_PATH.get(key, key)
        if key not in _BY_KEY:
            return key
        return self.source.headers.get(key) or _BY_KEY[key].label

    def problem(self, key: str, message: str) -> None:
        self.problems.append(t("exchange.row_problem", row=self.source.number, column=self.column_name(key),
                               problem=message))  # fmt: skip

    def event_problem(self, index: int, name: str | None, message: str) -> None:
        """A problem of the event at ``index``: on its 経過 row when it came from one."""
        if self.events_sheet is None or index >= len(self.event_rows):
            where = f"events[{index}]{'.' + name if name else ''}: " if self.kind != "jsonl" else ""
            self.problem("events", where + message)
            return
        column = event_label(name) if name else t("exchange.event.type")
        self.problems.append(t("exchange.sheet_row_problem", sheet=self.events_sheet, row=self.event_rows[index],
                               column=column, problem=message))  # fmt: skip


def _text(value: Any) -> str | None:
    """A cell as text: numbers an XLSX holds come back as the digits typed, an empty cell as None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return text or None


def _date(value: Any, ctx: Context) -> date:
    """A date cell as it is; a text as ``parse_date`` reads it (2023/6/1, R5.6.1, 令和５年６月１日)."""
    from kitamono.fiscal import parse_date

    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return parse_date(_text(value) or "", today=ctx.today)


def municipality_in(text: str, ref: Reference) -> str:
    """The municipality a cell names: its name or code, or an address that begins with it
    (北海道帯広市西5条南10丁目 → 帯広市, 上川郡東神楽町… → 東神楽町, 札幌市中央区… → 札幌市)."""
    try:
        return ref.municipality(text).name
    except InputError:
        written = squash(text)
        address = re.sub(r"^〒?\d{3}-?\d{4}", "", written).removeprefix("北海道")
        address = re.sub(r"^[^郡市町村]{1,6}郡", "", address)  # 上川郡東神楽町 → 東神楽町
        found = [name for name in ref.municipalities if address.startswith(name)]
        if found:
            return max(found, key=len)  # the longest: 北広島市, not a shorter name it begins with
        if address == written and not re.search(r"\d|[都府県区条丁番]", address):
            raise  # a name, not an address: the error names the nearest municipalities
        raise InputError(t("exchange.no_municipality", value=text.strip())) from None


def derive_title(summary: str) -> str:
    """A title from an inquiry's content: its first sentence, cut at a 、 when it runs long."""
    first = re.split(r"[。．！？!?\n]", summary.strip(), maxsplit=1)[0].strip()
    if len(first) <= _TITLE_LENGTH:
        return first
    cut = first.rfind("、", 0, _TITLE_LENGTH)
    return first[:cut] if cut >= 10 else first[:_TITLE_LENGTH] + "…"


_TITLE_LENGTH = 40

_TRUE = {"1", "true", "yes", "y", "○", "◯", "✓", "✔", "はい", "デモ"}
_FALSE = {"0", "false", "no", "n", "×", "いいえ"}
#: Columns of free text: kept exactly as written in a row with an ID (a full record), trimmed
#: in a new inquiry as ``case new`` trims them.
_FREE_TEXT = ("company", "person", "phone", "email", "title", "summary")


def _cells_to_data(row: _Row, ctx: Context, events: list[SourceRow] | None) -> tuple[dict[str, Any], bool]:
    """The Case-shaped data of a spreadsheet row, and whether it is a new inquiry (no ID).

    ``events``: the 経過 sheet's rows of this row's case, when the workbook has that sheet."""
    values = row.source.values
    ref = ctx.ref
    raw_texts = {key: _text(values.get(key)) for key in _BY_KEY}
    is_new = not (raw_texts["id"] or "").strip()
    texts: dict[str, str | None] = {}
    for key, text in raw_texts.items():
        if text is not None and (is_new or key not in _FREE_TEXT):
            text = text.strip() or None
        texts[key] = text

    def parse(key: str, parser: Callable[[Any], Any]) -> Any:
        if texts[key] is None:
            return None
        raw = values.get(key)
        try:
            return parser(texts[key] if isinstance(raw, str) else raw)
        except InputError as error:
            row.problem(key, str(error))
            return None

    data: dict[str, Any] = {} if is_new else {"id": texts["id"]}
    for key in _DATE_COLUMNS:
        parsed = parse(key, lambda v: _date(v, ctx))
        if parsed is not None:
            data[key] = parsed
    received_by = parse("received_by", lambda v: ref.institution(_text(v) or "").id)
    if texts["received_by"] is None:
        if ctx.clone:
            received_by = ctx.clone
        else:
            row.problem("received_by", t("exchange.needs_institution"))
    data["received_by"] = received_by
    data["channel"] = parse("channel", lambda v: ref.choice("channel", _text(v) or ""))
    company: dict[str, Any] = {
        "name": texts["company"],
        "municipality": parse("municipality", lambda v: municipality_in(_text(v) or "", ref)),
    }
    bank = parse("bank", lambda v: ref.institution(_text(v) or "").id)
    if bank is not None:
        company["bank"] = bank
    data["company"] = company
    contact = {key: texts[key] for key in ("person", "phone", "email") if texts[key] is not None}
    if contact:
        data["contact"] = contact
    data["title"] = texts["title"]
    if texts["summary"] is not None:
        data["summary"] = texts["summary"]
    if is_new and texts["title"] is None and texts["summary"]:
        data["title"] = row.derived_title = derive_title(texts["summary"]) or None
    data["field"] = parse("field", lambda v: _field(_text(v) or "", ref, is_new))
    needs = parse("needs", lambda v: [ref.choice("competence", part) for part in _split(_text(v))])
    if needs:
        data["needs"] = needs
    if parse("demo", _flag):
        data["demo"] = True
    if events is not None and not is_new:
        if texts["events"] is not None:
            row.problem("events", t("exchange.events_twice", sheet=row.events_sheet))
        elif events:
            data["events"] = _sheet_events(row, events, ctx)
    for key in ("events", "conflicts", "resolved_conflicts", "changes"):
        items = parse(key, _json_list) if key not in data else None
        if items:
            data[key] = items
    withdrawn = parse("withdrawn", _json_list)  # one record, written as a list of one
    if withdrawn:
        data["withdrawn"] = withdrawn[0] if len(withdrawn) == 1 else withdrawn
    kept = [*row.source.kept, *(row.source.derived if is_new else ())]
    if is_new:
        note = "\n".join(f"{header}: {(_text(value) or '').strip()}" for header, value in kept)
        if note:
            data["note"] = note
    else:
        for header, _ in row.source.kept:
            row.problems.append(t("exchange.row_problem", row=row.source.number, column=header,
                                  problem=t("exchange.kept_with_id", header=header)))  # fmt: skip
    for key in _REQUIRED:  # a column the file lacks is one problem of its header, not one per row
        if texts[key] is None and key in row.source.headers and not (key == "title" and data.get("title")):
            row.problem(key, t("exchange.required"))
    return data, is_new


def _field(text: str, ref: Reference, is_new: bool) -> str:
    """A field as written (食品, ものづくり関連 …); in a new inquiry, also an 業種 whose words
    point to one field (食料品製造業 → food)."""
    from kitamono.cases import suggest_field

    try:
        return ref.choice("field", text)
    except InputError:
        suggested = suggest_field(text, ref) if is_new else "other"
        if suggested == "other":
            raise
        return suggested


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in re.split(r"[、,，;；\n]", text or "") if part.strip()]


def _flag(value: Any) -> bool:
    text = squash(_text(value) or "")
    if text in _TRUE:
        return True
    if text in _FALSE or not text:
        return False
    raise InputError(t("exchange.bad_flag", value=_text(value)))


def _json_list(value: Any) -> list[Any]:
    try:
        items = json.loads(_text(value) or "[]")
    except json.JSONDecodeError as error:
        raise InputError(t("exchange.bad_json", reason=f"{error.msg}, col {error.colno}")) from None
    if not isinstance(items, list):
        raise InputError(t("exchange.bad_json_list"))
    return items


def _institution_id(text: str, ref: Reference) -> str:
    """An institution's id from its short name or id; an id no longer in the data stays as it is
    (the rules then say it is unknown, as ``check`` does for a stored case)."""
    try:
        return ref.institution(text).id
    except InputError:
        if ASCII_ID.fullmatch(text):
            return text
        raise


def _sheet_events(row: _Row, events: list[SourceRow], ctx: Context) -> list[dict[str, Any]]:
    """The events of a case from its 経過 rows, each cell read as ``event_values`` wrote it."""
    found: list[dict[str, Any]] = []
    for source in events:
        row.event_rows.append(source.number)
        event: dict[str, Any] = {}
        for name in event_fields():
            raw = source.values.get(name)
            if raw is None or raw == "":  # a text of spaces alone is a text, kept as it is
                continue
            text = _text(raw) or ""
            kind = _event_cell_kind(name)
            try:
                if kind == "choice":
                    event[name] = ctx.ref.choice("event", text)
                elif kind == "date":
                    event[name] = _date(raw, ctx)
                elif kind == "institution":
                    event[name] = _institution_id(text.strip(), ctx.ref)
                elif kind == "institutions":
                    event[name] = [_institution_id(part, ctx.ref) for part in _split(text)]
                elif kind == "flag":
                    event[name] = _flag(raw)
                elif kind == "json":
                    event[name] = json.loads(text)
                else:
                    event[name] = text
            except (InputError, json.JSONDecodeError) as error:
                problem = str(error) if isinstance(error, InputError) else \
                    t("exchange.bad_json", reason=f"{error.msg}, col {error.colno}")  # fmt: skip
                column = source.headers.get(name, event_label(name))
                row.problems.append(t("exchange.sheet_row_problem", sheet=row.events_sheet, row=source.number,
                                      column=column, problem=problem))  # fmt: skip
        found.append(event)
    return found


#: Where a model error's first location parts land among the spreadsheet columns.
_LOC_COLUMN = {("company", "name"): "company", ("company", "municipality"): "municipality",
               ("company", "bank"): "bank", ("contact", "person"): "person",
               ("contact", "phone"): "phone", ("contact", "email"): "email"}  # fmt: skip
#: A column's place in a case's JSON, which is how a JSON Lines problem names it.
_MODEL_PATH = {key: ".".join(loc) for loc, key in _LOC_COLUMN.items()}


def _column_of(loc: tuple[Any, ...], kind: str) -> str:
    if kind == "jsonl":
        return ".".join(str(part) for part in loc) or "-"
    if tuple(loc[:2]) in _LOC_COLUMN:
        return _LOC_COLUMN[tuple(loc[:2])]
    return str(loc[0]) if loc else "id"


def _validate(row: _Row, data: dict[str, Any], stored: bool = False) -> Case | None:
    """The Case in ``data``, or None with each model problem recorded against its column.

    ``stored``: read as a case file is (a control character kept), to tell whether a row with an
    ID is a case already stored; what a row adds is validated as any input is."""
    try:
        return Case.model_validate(data, context=STORED if stored else None)
    except ValidationError as error:
        seen: set[str] = set()
        for detail in error.errors():
            loc = tuple(detail["loc"])
            key = _column_of(loc, row.kind)
            if row.kind != "jsonl" and key in ("events", "conflicts") and len(loc) > 1 and isinstance(loc[1], int):
                where = str((key, loc[1], loc[2] if len(loc) > 2 else None))
                if where in seen:
                    continue
                seen.add(where)
                if key == "events":
                    row.event_problem(loc[1], str(loc[2]) if len(loc) > 2 else None, detail["msg"])
                else:
                    inner = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc[1:])
                    row.problem(key, f"{key}{inner}: {detail['msg']}")
                continue
            if key in seen:
                continue
            seen.add(key)
            row.problem(key, detail["msg"])
        return None


def _rule_problems(row: _Row, case: Case, ctx: Context, events_given: bool = True) -> None:
    """The rules ``case new`` and ``check`` apply: known references, no future, event rules.

    The received event import makes itself repeats 受付日 and 受付機関, already checked."""
    from kitamono.cases import event_problems

    ref = ctx.ref
    if case.received_by not in ref.institutions:
        row.problem("received_by", t("rule.unknown_institution", where="received_by", value=case.received_by))
    if case.company.bank and case.company.bank not in ref.institutions:
        row.problem("bank", t("rule.unknown_institution", where="company.bank", value=case.company.bank))
    if case.company.municipality not in ref.municipalities:
        row.problem("municipality", t("check.unknown_municipality", value=case.company.municipality))
    if case.received_on > ctx.today:
        row.problem("received_on", t("case.future_date", date=case.received_on))
    if not events_given:
        return
    for index, message in event_problems(case, ref, ctx.today):
        if row.events_sheet is not None and index < len(row.event_rows):
            row.event_problem(index, None, message)
        else:
            row.problem("events", message)


def _new_inquiry_defaults(data: dict[str, Any], ctx: Context) -> bool:
    """What ``case new`` gives an inquiry it is not told: a field, needs and a received event
    (with the note the row's other columns make). True when the row brought its own events."""
    from kitamono.cases import suggest_field
    from kitamono.casework import recognised_needs

    note = data.pop("note", None)
    data["id"] = _PLACEHOLDER_ID
    if not data.get("received_by") and ctx.clone:
        data["received_by"] = ctx.clone
    words = f"{data.get('title') or ''}\n{data.get('summary') or ''}"
    if not data.get("field"):
        data["field"] = suggest_field(words, ctx.ref)
    data["needs"] = list(dict.fromkeys(data.get("needs") or recognised_needs(words, ctx.ref)))
    if data.get("events"):
        return True
    if data.get("received_on") and data.get("received_by"):
        received = {"type": "received", "date": data["received_on"], "by": data["received_by"]}
        data["events"] = [{**received, "note": note} if note else received]
    return False


def fingerprint(case: Case) -> tuple[Any, ...]:
    """What identifies an inquiry logged without an id: 受付日, 受付機関, 会社名, 件名."""
    return (case.received_on, case.received_by, squash(case.company.name), squash(case.title))


# --- planning and applying an import --------------------------------------------------------------


#: What import does with a row: add it, leave it (unchanged: the case is there already; duplicate:
#: the same case as an earlier row), or nothing because it has problems (error).
PlanAction = Literal["add", "unchanged", "duplicate", "error"]


@dataclass(frozen=True)
class Planned:
    """What import does with one row: add it (under its own id, or a new one), leave it, or
    nothing because it has problems."""

    row: int
    case: Case | None
    action: PlanAction
    mint: str | None = None  # the prefix of the new id minted for it; None: it keeps its own id
    existing: str | None = None  # the case it matched, when unchanged
    same_as: int | None = None  # the earlier row, when a duplicate
    problems: tuple[str, ...] = ()
    derived_title: str | None = None  # the title made from the content, when the row had none


@dataclass
class ImportPlan:
    rows: list[Planned]
    file_problems: list[str] = field(default_factory=list)

    def of(self, action: PlanAction) -> list[Planned]:
        """The rows planned for ``action``, in the sheet's order."""
        return [p for p in self.rows if p.action == action]

    @property
    def problems(self) -> list[str]:
        return [*self.file_problems, *(problem for p in self.of("error") for problem in p.problems)]


def _same(existing: Case, incoming: Case) -> bool:
    """Identical, or identical but for contacts the row leaves out (an export made with --redact)."""
    if case_text(existing) == case_text(incoming):
        return True
    if incoming.contact is None and existing.contact is not None:
        return case_text(existing.model_copy(update={"contact": None})) == case_text(incoming)
    return False


def _compared(case: Case, ref: Reference) -> dict[str, Any]:
    values = case_values(case, ref)
    values["note"] = case.events[0].note if case.events else None
    return values


def _differing_columns(existing: Case, incoming: Case, ref: Reference, ignore: tuple[str, ...] = ()) -> str:
    ours, theirs = _compared(existing, ref), _compared(incoming, ref)
    keys = [c.key for c in COLUMNS if not c.derived] + ["note"]
    return "、".join(_column_label(k) for k in keys if ours.get(k) != theirs.get(k) and k not in ignore)


#: The columns two rows of one inquiry may spell differently (the id a row without one lacks).
_FINGERPRINT_COLUMNS = ("id", "received_on", "received_by", "company", "title")


def plan_import(source: SourceFile, existing: list[Case], ctx: Context) -> ImportPlan:
    """Every row checked and matched against the existing cases; a row with problems is planned
    as an error (``ImportPlan.problems`` lists them all, with the file's own).

    Rows without an ID that are the same inquiry (``fingerprint``) as an earlier row of the file
    are one case: the later rows add nothing. Should they differ in any other column, the row is
    an error naming both rows, since keeping one would silently drop what the other says."""
    by_id = {c.id: c for c in existing}
    unclaimed: dict[tuple[Any, ...], list[str]] = defaultdict(list)
    for known in export_order(existing):
        unclaimed[fingerprint(known)].append(known.id)
    seen_ids: dict[str, int] = {}
    in_file: dict[tuple[Any, ...], tuple[int, Case]] = {}  # each inquiry's first row in the file
    events_by_id: dict[str, list[SourceRow]] | None = None
    file_problems = list(source.problems)
    if source.events_sheet is not None:
        events_by_id = defaultdict(list)
        for event_row in source.event_rows:
            events_by_id[(_text(event_row.values.get("id")) or "").strip()].append(event_row)
        ids = {(_text(r.values.get("id")) or "").strip() for r in source.rows}
        for case_id, rows in events_by_id.items():
            if case_id not in ids:
                file_problems.append(t("exchange.sheet_row_problem", sheet=source.events_sheet, row=rows[0].number,
                                       column=t("exchange.col.id"), problem=t("exchange.event_without_case",
                                                                              id=case_id, sheet=source.sheet)))
    planned: list[Planned] = []

    def refuse(row: _Row) -> None:
        planned.append(Planned(row.source.number, None, "error", problems=tuple(row.problems),
                               derived_title=row.derived_title))  # fmt: skip

    for source_row in source.rows:
        row = _Row(source_row, source.kind)
        row.events_sheet = source.events_sheet
        if source.kind == "jsonl":
            data = dict(source_row.values)
            is_new = not data.get("id")
            if is_new:
                data.pop("id", None)
        else:
            own = (_text(source_row.values.get("id")) or "").strip()
            data, is_new = _cells_to_data(row, ctx, None if events_by_id is None else events_by_id.get(own, []))
        events_given = _new_inquiry_defaults(data, ctx) if is_new else True
        case = _validate(row, data, stored=not is_new) if not row.problems else None
        if case is None:
            refuse(row)
            continue
        if not is_new:
            if case.id in seen_ids:
                row.problem("id", t("exchange.duplicate_id", id=case.id, other=seen_ids[case.id]))
                refuse(row)
                continue
            seen_ids[case.id] = source_row.number
            old = by_id.get(case.id)
            if old is not None:
                if _same(old, case):
                    planned.append(Planned(source_row.number, case, "unchanged", existing=old.id))
                else:
                    row.problem("id", t("exchange.exists_different", id=case.id,
                                        columns=_differing_columns(old, case, ctx.ref)))  # fmt: skip
                    refuse(row)
                continue
            if _validate(row, data) is None:  # a case the import adds: its text is input, as typed
                refuse(row)
                continue
        _rule_problems(row, case, ctx, events_given)
        if row.problems:
            refuse(row)
            continue
        key = fingerprint(case)
        if is_new and key in in_file:
            number, first = in_file[key]
            differing = _differing_columns(first, case, ctx.ref, ignore=_FINGERPRINT_COLUMNS)
            if differing:
                problem = t("sheets.same_case_differs", other=number, columns=differing)
                row.problems.append(t("exchange.line_problem", row=source_row.number, problem=problem))
                refuse(row)
            else:
                planned.append(Planned(source_row.number, case, "duplicate", same_as=number))
            continue
        in_file.setdefault(key, (source_row.number, case))
        if is_new:
            matches = unclaimed.get(key)
            if matches:
                planned.append(Planned(source_row.number, case, "unchanged", existing=matches.pop(0),
                                       derived_title=row.derived_title))  # fmt: skip
                continue
            planned.append(Planned(source_row.number, case, "add", mint=ctx.clone or case.received_by,
                                   derived_title=row.derived_title))  # fmt: skip
        else:
            planned.append(Planned(source_row.number, case, "add"))
    return ImportPlan(planned, file_problems)


def apply_import(repo: store.Repository, plan: ImportPlan) -> list[Case]:
    """Write the cases the plan adds, in row order; never replaces an existing file. Should one
    fail, those written before it are removed again: the whole file imports or nothing does."""
    from kitamono.fiscal import fiscal_year

    created: list[Case] = []
    try:
        for item in plan.of("add"):
            assert item.case is not None
            if item.mint is not None:
                created.append(store.create_case(repo, item.case, item.mint, fiscal_year(item.case.received_on)))
            elif store.add_case(repo, item.case):
                created.append(item.case)
            else:
                raise RepositoryError(t("exchange.appeared", id=item.case.id))
    except BaseException:
        for case in created:
            repo.case_path(case.id).unlink(missing_ok=True)
        raise
    return created


@dataclass
class ImportResult:
    source: SourceFile
    plan: ImportPlan
    created: list[Case]


def import_file(repo: store.Repository, path: Path, ref: Reference, today: date, dry_run: bool = False,
                options: ImportOptions | None = None) -> ImportResult:  # fmt: skip
    """Read, check and (unless ``dry_run``) store the cases of an import file.

    Without ``dry_run``, a file with any problem is refused (ImportRejected) and nothing is
    written; with it, the plan says what each row would become, problems included."""
    from kitamono.casework import load_all

    source = read_source(path, ref, options)
    context = Context(ref, today, repo.local.institution)

    def planned() -> ImportPlan:
        loaded = load_all(repo)
        if loaded.problems:
            raise DamagedCases(t("exchange.damaged_import", n=len(loaded.problems)), loaded.problems)
        plan = plan_import(source, loaded.cases, context)
        if plan.problems and not dry_run:
            raise ImportRejected(plan.problems)
        return plan

    plan = planned()
    if dry_run or not plan.of("add"):
        return ImportResult(source, plan, [])
    with store.write_lock(repo):  # planned again: no other writer between the check and the last write
        plan = planned()
        return ImportResult(source, plan, apply_import(repo, plan))


# --- what import says --------------------------------------------------------------------------------


def plan_lines(plan: ImportPlan) -> list[str]:
    """One line per row saying what import does (or would do) with it."""
    lines = []
    for item in plan.rows:
        if item.action == "duplicate":
            lines.append(t("sheets.plan_duplicate", row=item.row, other=item.same_as))
        elif item.action == "unchanged":
            lines.append(t("exchange.plan_unchanged", row=item.row, id=item.existing))
        elif item.action == "error":
            lines.extend(item.problems)
        elif item.mint is not None:
            assert item.case is not None
            case = item.case
            what = t("exchange.plan_case", date=case.received_on.isoformat(), company=case.company.name,
                     municipality=case.company.municipality, channel=label("channel", case.channel), title=case.title)
            derived = t("exchange.plan_derived_title") if item.derived_title is not None else ""
            lines.append(t("exchange.plan_add_new", row=item.row) + what + derived)
        else:
            lines.append(t("exchange.plan_add_id", row=item.row, id=item.case.id if item.case else ""))
    return lines


def _rows_text(first: int, last: int) -> str:
    return t("exchange.rows_one", row=first) if first == last else t("exchange.rows_span", first=first, last=last)


def preview_lines(source: SourceFile, plan: ImportPlan) -> list[str]:
    """What ``import --dry-run`` shows: the table found, the mapping chosen, the rows skipped and
    why, then every row with what it becomes or what is wrong with it."""
    lines: list[str] = []
    if source.kind != "jsonl":
        where = t("exchange.preview_sheet", sheet=source.sheet) if source.sheet else ""
        header = _rows_text(*source.header) if source.header else "-"
        lines.append(t("exchange.preview_file", name=source.name, sheet=where, header=header))
        if source.events_sheet:
            lines.append(t("exchange.preview_events_sheet", sheet=source.events_sheet, n=len(source.event_rows)))
    if source.mapping:
        lines.append(t("exchange.preview_mapping"))
        for column in source.mapping:
            lines.append("  " + mapping_line(column))
    if source.skipped:
        lines.append(t("exchange.preview_skipped"))
        for skipped in source.skipped:
            lines.append("  " + t(f"exchange.skip.{skipped.reason}", rows=_rows_text(skipped.first, skipped.last)))
    lines.extend(plan.file_problems)
    if plan.rows:
        lines.append(t("exchange.preview_rows"))
        lines.extend("  " + line for line in plan_lines(plan))
    return lines


def mapping_line(column: MappedColumn) -> str:
    """One column of the mapping: 相談企業名 → 会社名."""
    if column.how == "unknown":
        return t("exchange.map_unknown", header=column.header)
    if column.how in ("ignored", "serial", "derived"):
        return t(f"exchange.map_{column.how}", header=column.header)
    item = _column_label(column.key or "")
    joined = t("exchange.map_joined", n=len(column.columns)) if len(column.columns) > 1 else ""
    if column.key == "note":
        return t("exchange.map_note", header=column.header) + joined
    if column.key == "municipality":
        item = t("exchange.map_address", item=item)
    if column.key in ("person", "phone", "email"):
        item = t("exchange.map_personal", item=item)
    return f"{column.header} → {item}{joined}" + (t("exchange.map_by_option") if column.how == "mapped" else "")


def unknown_columns(source: SourceFile) -> list[str]:
    """The headers of the columns import did not know and keeps in the note."""
    return [c.header for c in source.mapping if c.how == "unknown"]
