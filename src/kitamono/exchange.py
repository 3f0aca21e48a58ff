"""Cases in and out of spreadsheets and JSON Lines: ``kitamono export`` and ``kitamono import``.

Export is a full copy: every case, with its contacts unless ``redact``. JSON Lines holds each
case exactly as its model dump, one per line. CSV (UTF-8 with a BOM, so Japanese Excel reads it
right) and XLSX hold one row per case under Japanese headers, with the events and conflicts as
JSON text in one cell each, so that all three formats come back through import without loss::

    ID,受付日,受付機関,受付経路,会社名,市町村,取引銀行,担当者,電話,メール,件名,内容,分野,…,経過,競合
    hro-2019-0001,2019-05-14,道総研,来訪,株式会社十勝チーズ工房,帯広市,,,,,殺菌工程の見直し,…

Import also brings in an existing inquiry log: a row without an ID is a new inquiry and gets what
``case new`` would give it (the clone's institution, a suggested field, recognised needs, a
``received`` event). Every row is checked before anything is written; one bad row stops the
import and the problem names the row (as the spreadsheet shows it, header = row 1) and the
column. Importing the same file again adds nothing: a row with an ID is skipped when that case
is already there unchanged, and a row without one when a case with the same 受付日, 受付機関,
会社名 and 件名 is already there. Rows without an ID that are that same inquiry as an earlier row
are one case; if they differ in any other column the import stops and names both rows. No
problem text ever quotes a contact value.

Every cell goes in and out through ``sheets.py``: formulas neutralised with a leading ``'`` and
read back without it, control characters kept exactly, files too big refused before reading.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kitamono import store
from kitamono.caseio import case_text
from kitamono.errors import DataError, InputError, RepositoryError
from kitamono.i18n import catalogue, label, t
from kitamono.models import CASE_FIELDS, CHANNELS, COMPETENCES, STORED, Case
from kitamono.reference import Reference
from kitamono.sheets import XLSX_CELL_LIMIT

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

    @property
    def label(self) -> str:
        return t(f"exchange.col.{self.key}")


COLUMNS: tuple[ExchangeColumn, ...] = (
    ExchangeColumn("id"),
    ExchangeColumn("received_on"),
    ExchangeColumn("received_by"),
    ExchangeColumn("channel"),
    ExchangeColumn("company", ("company.name",)),
    ExchangeColumn("municipality", ("company.municipality",)),
    ExchangeColumn("bank", ("company.bank",)),
    ExchangeColumn("person", ("contact.person",), personal=True),
    ExchangeColumn("phone", ("contact.phone",), personal=True),
    ExchangeColumn("email", ("contact.email",), personal=True),
    ExchangeColumn("title"),
    ExchangeColumn("summary"),
    ExchangeColumn("field"),
    ExchangeColumn("needs"),
    ExchangeColumn("approved_project"),
    ExchangeColumn("demo"),
    ExchangeColumn("events"),
    ExchangeColumn("conflicts"),
)
_BY_KEY = {c.key: c for c in COLUMNS}
_DATE_COLUMNS = ("received_on", "approved_project")
_REQUIRED = ("received_on", "channel", "company", "municipality", "title")


def columns(redact: bool = False) -> list[ExchangeColumn]:
    return [c for c in COLUMNS if not (redact and c.personal)]


def _squash(text: str) -> str:
    """What two spellings of a header or a value have in common: NFKC, no spaces, any case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


def header_names() -> dict[str, str]:
    """Every header import accepts (squashed) → column key: Japanese, English, model keys."""
    names: dict[str, str] = {}
    for column in COLUMNS:
        spellings = [column.key, *column.aliases]
        spellings += [catalogue(lang).get(f"exchange.col.{column.key}", "") for lang in ("ja", "en")]
        for spelling in spellings:
            if spelling:
                names.setdefault(_squash(spelling), column.key)
    return names


def vocabulary(kind: str, ids: Iterable[str]) -> dict[str, str]:
    """A closed vocabulary's ids and its Japanese and English labels (squashed) → id."""
    ids = list(ids)
    names = {_squash(i): i for i in ids}
    for lang in ("ja", "en"):
        for ident in ids:
            text = catalogue(lang).get(f"{kind}.{ident}")
            if text:
                names.setdefault(_squash(text), ident)
    return names


# --- export: cases → rows → bytes -----------------------------------------------------------------


def export_order(cases: Iterable[Case]) -> list[Case]:
    return sorted(cases, key=lambda c: (c.received_on, c.id))


def _institution_cell(ref: Reference, ident: str | None) -> str | None:
    """The short name when it leads back to the same institution, else the id itself."""
    if ident is None:
        return None
    inst = ref.institutions.get(ident)
    if inst is None:
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


def case_row(case: Case, ref: Reference, redact: bool = False) -> list[Any]:
    """One case as spreadsheet cells (dates as dates, text as text), in ``columns(redact)`` order."""
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
    }
    return [values[c.key] for c in columns(redact)]


def has_contacts(cases: Iterable[Case]) -> bool:
    return any(c.contact is not None and any(c.contact.model_dump().values()) for c in cases)


def export_bytes(cases: list[Case], ref: Reference, fmt: str, redact: bool = False) -> bytes:
    """The whole export file, in ``fmt`` (csv, xlsx or jsonl)."""
    ordered = export_order(cases)
    if fmt == "jsonl":
        return to_jsonl(ordered, redact).encode("utf-8")
    if fmt == "csv":
        return to_csv(ordered, ref, redact).encode("utf-8")
    if fmt == "xlsx":
        return to_xlsx(ordered, ref, redact)
    raise InputError(t("exchange.bad_format", value=fmt, choices=", ".join(FORMATS)))


def to_jsonl(cases: list[Case], redact: bool = False) -> str:
    lines = []
    for case in cases:
        data = case.model_dump(mode="json")
        if redact:
            data.pop("contact", None)
        lines.append(json.dumps(data, ensure_ascii=False) + "\n")
    return "".join(lines)


def to_csv(cases: list[Case], ref: Reference, redact: bool = False) -> str:
    """CSV with a BOM and CRLF line ends, as Japanese Excel expects; dates in ISO form."""
    from kitamono.sheets import csv_text

    rows: list[list[Any]] = [[c.label for c in columns(redact)]]
    for case in cases:
        rows.append([v.isoformat() if isinstance(v, date) else v for v in case_row(case, ref, redact)])
    return csv_text(rows)


def to_xlsx(cases: list[Case], ref: Reference, redact: bool = False) -> bytes:
    """One sheet: a bold frozen header row, text cells as text (never numbers or formulas),
    dates as real dates shown yyyy-mm-dd."""
    from kitamono.sheets import CellTooLong, Sheet, xlsx_bytes

    chosen = columns(redact)
    sheet = Sheet(t("exchange.sheet"), [c.label for c in chosen], [case_row(case, ref, redact) for case in cases])
    try:
        return xlsx_bytes([sheet])
    except CellTooLong as error:
        raise InputError(t("exchange.xlsx_too_long", id=cases[error.row - 2].id, column=chosen[error.column - 1].label,
                           limit=f"{XLSX_CELL_LIMIT:,}")) from None  # fmt: skip


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
class SourceRow:
    """One row of an import file: its number as the file shows it, and its values by column."""

    number: int
    values: dict[str, Any]  # column key → raw cell (tabular) or the parsed JSON object (jsonl)
    headers: dict[str, str] = field(default_factory=dict)  # column key → the file's header text


@dataclass
class SourceFile:
    kind: str  # csv, xlsx or jsonl
    rows: list[SourceRow]
    problems: list[str]  # file-level problems (headers, undecodable lines)


def format_for_path(path: Path) -> str | None:
    return EXTENSIONS.get(path.suffix.lower())


def read_source(path: Path) -> SourceFile:
    """Read an import file into rows; headers are recognised, nothing is interpreted yet.

    A file too big to be an inquiry log or a copy of a repository is refused before it is read."""
    from kitamono.sheets import check_file_size, read_csv, read_xlsx

    kind = format_for_path(path)
    if kind is None:
        raise InputError(t("exchange.unknown_file_type", path=path))
    check_file_size(path, path.stat().st_size)
    data = path.read_bytes()
    if kind == "jsonl":
        return _read_jsonl(path, data)
    table = read_csv(path, _decode(path, data)) if kind == "csv" else read_xlsx(path, data)
    return _tabular_rows(kind, table)


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


def _tabular_rows(kind: str, table: list[list[Any]]) -> SourceFile:
    problems: list[str] = []
    while table and all(_blank(v) for v in table[-1]):
        table.pop()
    if not table:
        return SourceFile(kind, [], [t("exchange.line_problem", row=1, problem=t("exchange.no_headers"))])
    names = header_names()
    header_row = table[0]
    keys: list[str | None] = []
    headers: dict[str, str] = {}
    for index, raw in enumerate(header_row):
        text = "" if raw is None else str(raw).strip()
        if not text:
            keys.append(None)
            if any(index < len(r) and not _blank(r[index]) for r in table[1:]):
                problems.append(t("exchange.line_problem", row=1, problem=t("exchange.no_header", column=index + 1)))
            continue
        key = names.get(_squash(text))
        if key is None:
            known = "、".join(c.label for c in COLUMNS)
            problems.append(t("exchange.row_problem", row=1, column=text,
                              problem=t("exchange.unknown_header", names=known)))  # fmt: skip
        elif key in headers:
            problems.append(t("exchange.row_problem", row=1, column=text, problem=t("exchange.duplicate_header")))
            key = None
        else:
            headers[key] = text
        keys.append(key)
    for key in _REQUIRED:
        if key not in headers:
            problems.append(t("exchange.row_problem", row=1, column=_BY_KEY[key].label,
                              problem=t("exchange.missing_header")))  # fmt: skip
    rows: list[SourceRow] = []
    for offset, raw_row in enumerate(table[1:], start=2):
        if all(_blank(v) for v in raw_row):
            continue
        for index in range(len(header_row), len(raw_row)):
            if not _blank(raw_row[index]):
                problem = t("exchange.no_header", column=index + 1)
                problems.append(t("exchange.line_problem", row=offset, problem=problem))
                break
        values = {key: raw_row[i] for i, key in enumerate(keys) if key is not None and i < len(raw_row)}
        rows.append(SourceRow(offset, values, headers))
    return SourceFile(kind, rows, problems)


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
    return SourceFile("jsonl", rows, problems)


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

    def column_name(self, key: str) -> str:
        if self.kind == "jsonl":
            return _MODEL_PATH.get(key, key)
        if key not in _BY_KEY:
            return key
        return self.source.headers.get(key) or _BY_KEY[key].label

    def problem(self, key: str, message: str) -> None:
        self.problems.append(t("exchange.row_problem", row=self.source.number, column=self.column_name(key),
                               problem=message))  # fmt: skip


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
    from kitamono.fiscal import parse_date

    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return parse_date(_text(value) or "", today=ctx.today)


_TRUE = {"1", "true", "yes", "y", "○", "◯", "✓", "✔", "はい", "デモ"}
_FALSE = {"0", "false", "no", "n", "×", "いいえ"}
#: Columns of free text: kept exactly as written in a row with an ID (a full record), trimmed
#: in a new inquiry as ``case new`` trims them.
_FREE_TEXT = ("company", "person", "phone", "email", "title", "summary")


def _cells_to_data(row: _Row, ctx: Context) -> tuple[dict[str, Any], bool]:
    """The Case-shaped data of a spreadsheet row, and whether it is a new inquiry (no ID)."""
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
    data["channel"] = parse("channel", lambda v: _choose(_text(v), vocabulary("channel", CHANNELS)))
    company: dict[str, Any] = {
        "name": texts["company"],
        "municipality": parse("municipality", lambda v: ref.municipality(_text(v) or "").name),
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
    data["field"] = parse("field", lambda v: _choose(_text(v), vocabulary("field", CASE_FIELDS)))
    competences = vocabulary("competence", COMPETENCES)
    needs = parse("needs", lambda v: [_choose(part, competences) for part in _split(_text(v))])
    if needs:
        data["needs"] = needs
    if parse("demo", _flag):
        data["demo"] = True
    for key in ("events", "conflicts"):
        items = parse(key, _json_list)
        if items:
            data[key] = items
    for key in _REQUIRED:
        if texts[key] is None:
            row.problem(key, t("exchange.required"))
    return data, is_new


def _choose(text: str | None, names: dict[str, str]) -> str:
    ident = names.get(_squash(text or ""))
    if ident is None:
        choices = ", ".join(dict.fromkeys(names.values()))
        raise InputError(t("exchange.bad_choice", value=text, choices=choices))
    return ident


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in re.split(r"[、,，;；\n]", text or "") if part.strip()]


def _flag(value: Any) -> bool:
    text = _squash(_text(value) or "")
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
            if key in seen:
                continue
            seen.add(key)
            inner = loc[1:] if row.kind != "jsonl" and key in ("events", "conflicts") else ()
            where = f"{key}{''.join(f'[{p}]' if isinstance(p, int) else f'.{p}' for p in inner)}: " if inner else ""
            row.problem(key, where + detail["msg"])
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
    for _, message in event_problems(case, ref, ctx.today):
        row.problem("events", message)


def _new_inquiry_defaults(data: dict[str, Any], ctx: Context) -> bool:
    """What ``case new`` gives an inquiry it is not told: a field, needs and a received event.

    True when the row brought its own events."""
    from kitamono.cases import suggest_field
    from kitamono.casework import recognised_needs

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
        data["events"] = [{"type": "received", "date": data["received_on"], "by": data["received_by"]}]
    return False


def fingerprint(case: Case) -> tuple[Any, ...]:
    """What identifies an inquiry logged without an id: 受付日, 受付機関, 会社名, 件名."""
    return (case.received_on, case.received_by, _squash(case.company.name), _squash(case.title))


# --- planning and applying an import --------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    """What import does with one row: add it (under its own id, or a new one) or leave it."""

    row: int
    case: Case
    action: str  # "add", "unchanged" or "duplicate" (the same case as an earlier row of the file)
    mint: str | None = None  # the prefix of the new id minted for it; None: it keeps its own id
    existing: str | None = None  # the case it matched, when unchanged
    same_as: int | None = None  # the earlier row, when a duplicate


@dataclass
class ImportPlan:
    rows: list[Planned]

    @property
    def added(self) -> list[Planned]:
        return [p for p in self.rows if p.action == "add"]

    @property
    def unchanged(self) -> list[Planned]:
        return [p for p in self.rows if p.action == "unchanged"]

    @property
    def duplicates(self) -> list[Planned]:
        return [p for p in self.rows if p.action == "duplicate"]


def _same(existing: Case, incoming: Case) -> bool:
    """Identical, or identical but for contacts the row leaves out (an export made with --redact)."""
    if case_text(existing) == case_text(incoming):
        return True
    if incoming.contact is None and existing.contact is not None:
        return case_text(existing.model_copy(update={"contact": None})) == case_text(incoming)
    return False


def _differing_columns(existing: Case, incoming: Case, ref: Reference, ignore: tuple[str, ...] = ()) -> str:
    ours, theirs = case_row(existing, ref), case_row(incoming, ref)
    pairs = zip(COLUMNS, ours, theirs, strict=True)
    return "、".join(c.label for c, a, b in pairs if a != b and c.key not in ignore)


#: The columns two rows of one inquiry may spell differently (the id a row without one lacks).
_FINGERPRINT_COLUMNS = ("id", "received_on", "received_by", "company", "title")


def plan_import(source: SourceFile, existing: list[Case], ctx: Context) -> ImportPlan:
    """Every row checked and matched against the existing cases; ImportRejected if any is bad.

    Rows without an ID that are the same inquiry (``fingerprint``) as an earlier row of the file
    are one case: the later rows add nothing. Should they differ in any other column, the import
    stops and names both rows, since keeping one would silently drop what the other says."""
    problems = list(source.problems)
    by_id = {c.id: c for c in existing}
    unclaimed: dict[tuple[Any, ...], list[str]] = defaultdict(list)
    for known in export_order(existing):
        unclaimed[fingerprint(known)].append(known.id)
    seen_ids: dict[str, int] = {}
    in_file: dict[tuple[Any, ...], tuple[int, Case]] = {}  # each inquiry's first row in the file
    planned: list[Planned] = []
    for source_row in source.rows:
        row = _Row(source_row, source.kind)
        if source.kind == "jsonl":
            data = dict(source_row.values)
            is_new = not data.get("id")
            if is_new:
                data.pop("id", None)
        else:
            data, is_new = _cells_to_data(row, ctx)
        events_given = _new_inquiry_defaults(data, ctx) if is_new else True
        case = _validate(row, data, stored=not is_new) if not row.problems else None
        if case is None:
            problems.extend(row.problems)
            continue
        if not is_new:
            if case.id in seen_ids:
                row.problem("id", t("exchange.duplicate_id", id=case.id, other=seen_ids[case.id]))
                problems.extend(row.problems)
                continue
            seen_ids[case.id] = source_row.number
            old = by_id.get(case.id)
            if old is not None:
                if _same(old, case):
                    planned.append(Planned(source_row.number, case, "unchanged", existing=old.id))
                else:
                    row.problem("id", t("exchange.exists_different", id=case.id,
                                        columns=_differing_columns(old, case, ctx.ref)))  # fmt: skip
                    problems.extend(row.problems)
                continue
            if _validate(row, data) is None:  # a case the import adds: its text is input, as typed
                problems.extend(row.problems)
                continue
        _rule_problems(row, case, ctx, events_given)
        if row.problems:
            problems.extend(row.problems)
            continue
        key = fingerprint(case)
        if is_new and key in in_file:
            number, first = in_file[key]
            differing = _differing_columns(first, case, ctx.ref, ignore=_FINGERPRINT_COLUMNS)
            if differing:
                problems.append(t("exchange.line_problem", row=source_row.number,
                                  problem=t("sheets.same_case_differs", other=number, columns=differing)))  # fmt: skip
            else:
                planned.append(Planned(source_row.number, case, "duplicate", same_as=number))
            continue
        in_file.setdefault(key, (source_row.number, case))
        if is_new:
            matches = unclaimed.get(key)
            if matches:
                planned.append(Planned(source_row.number, case, "unchanged", existing=matches.pop(0)))
                continue
            planned.append(Planned(source_row.number, case, "add", mint=ctx.clone or case.received_by))
        else:
            planned.append(Planned(source_row.number, case, "add"))
    if problems:
        raise ImportRejected(problems)
    return ImportPlan(planned)


def apply_import(repo: store.Repository, plan: ImportPlan) -> list[Case]:
    """Write the cases the plan adds, in row order; never replaces an existing file."""
    from kitamono.fiscal import fiscal_year

    created: list[Case] = []
    for item in plan.added:
        if item.mint is not None:
            created.append(store.create_case(repo, item.case, item.mint, fiscal_year(item.case.received_on)))
        elif store.add_case(repo, item.case):
            created.append(item.case)
        else:
            raise RepositoryError(t("exchange.appeared", id=item.case.id))
    return created


@dataclass
class ImportResult:
    plan: ImportPlan
    created: list[Case]


def import_file(repo: store.Repository, path: Path, ref: Reference, today: date, dry_run: bool = False) -> ImportResult:
    """Read, check and (unless ``dry_run``) store the cases of an import file."""
    from kitamono.casework import load_all

    source = read_source(path)
    loaded = load_all(repo)
    if loaded.problems:
        raise DamagedCases(t("exchange.damaged_import", n=len(loaded.problems)), loaded.problems)
    plan = plan_import(source, loaded.cases, Context(ref, today, repo.local.institution))
    created = [] if dry_run else apply_import(repo, plan)
    return ImportResult(plan, created)


def plan_lines(plan: ImportPlan) -> list[str]:
    """One line per row saying what import does (or would do) with it."""
    lines = []
    for item in plan.rows:
        if item.action == "duplicate":
            lines.append(t("sheets.plan_duplicate", row=item.row, other=item.same_as))
        elif item.action == "unchanged":
            lines.append(t("exchange.plan_unchanged", row=item.row, id=item.existing))
        elif item.mint is not None:
            lines.append(t("exchange.plan_add_new", row=item.row))
        else:
            lines.append(t("exchange.plan_add_id", row=item.row, id=item.case.id))
    return lines
