"""Turning a report into what the user asked for: table, plain, markdown, csv, json, xlsx, html.

Report builders are pure and return a ``Report``: one or more ``Table``s for people (Japanese
column headers) and ``data`` for tools (the stable English-keyed JSON). This module is the only
user of rich tables, tabulate and openpyxl, and imports each only when that format is asked for::

    report = Report(title="分野", tables=[Table("分野", [Column("id", "ID")], [["food"]])], data=[...])
    render(report, "markdown", sys.stdout)
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal

from kitamono.controls import printable

Format = Literal["table", "plain", "markdown", "csv", "json", "xlsx", "html"]
FORMATS: tuple[str, ...] = ("table", "plain", "markdown", "csv", "json", "xlsx", "html")
BINARY_FORMATS = ("xlsx",)
EXTENSIONS = {
    ".txt": "plain", ".md": "markdown", ".markdown": "markdown", ".csv": "csv",
    ".json": "json", ".xlsx": "xlsx", ".html": "html", ".htm": "html",
}  # fmt: skip


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    numeric: bool = False


@dataclass(frozen=True)
class Table:
    title: str
    columns: list[Column]
    rows: list[list[Any]]
    note: str | None = None


@dataclass(frozen=True)
class Chart:
    """A bar chart for the HTML page: one group of bars per label, one bar per series."""

    title: str
    labels: list[str]
    series: dict[str, list[float]]


@dataclass(frozen=True)
class Report:
    title: str
    tables: list[Table]
    data: Any  # the JSON, or a function that makes it (called only when JSON is asked for)
    summary: list[str] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)


def format_for_path(path: Path) -> str | None:
    return EXTENSIONS.get(path.suffix.lower())


def cell_text(value: Any, era: bool = False) -> str:
    """How one value reads in a text format."""
    if type(value) is str:  # most cells: first, as a long table has tens of thousands
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓" if value else ""
    if isinstance(value, date) and not isinstance(value, datetime):
        from kitamono.fiscal import format_date

        return format_date(value, era=era)
    if isinstance(value, float):
        return f"{value:.1f}".removesuffix(".0")  # 96.7, 100
    if isinstance(value, (list, tuple)):
        return "、".join(cell_text(v, era) for v in value)
    return str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=_json_default) + "\n"


def render_text(report: Report, fmt: str, era: bool = False, width: int | None = None) -> str:
    """Every text format: table (rich), plain, markdown, csv, json, html."""
    if fmt == "json":
        return to_json(report.data() if callable(report.data) else report.data)
    if fmt == "csv":
        return _csv(report, era)
    if fmt == "html":
        return _html(report, era)
    if fmt == "table":
        return _rich(report, era, width)
    return _tabulated(report, "github" if fmt == "markdown" else "plain", era, markdown=fmt == "markdown")


def _tabulated(report: Report, style: str, era: bool, markdown: bool) -> str:
    from tabulate import tabulate

    shown = _markdown_text if markdown else printable
    parts: list[str] = []
    multiple = len(report.tables) > 1 or markdown
    if markdown and report.title:
        parts.append(f"# {shown(report.title)}\n")
    for table in report.tables:
        if multiple and table.title:
            parts.append(f"## {shown(table.title)}\n" if markdown else f"【{shown(table.title)}】")
        rows = [[shown(cell_text(v, era)) for v in row] for row in table.rows]
        align = ["right" if c.numeric else "left" for c in table.columns]
        text = tabulate(
            rows, headers=[shown(c.label) for c in table.columns], tablefmt=style, colalign=align or None,
            disable_numparse=True,  # cells are already text; type sniffing costs seconds on long tables
        )
        parts.append(text + ("\n" if markdown else ""))
        if table.note:
            parts.append(shown(table.note) + ("\n" if markdown else ""))
        if multiple and not markdown:
            parts.append("")
    if report.summary:
        if markdown:
            parts.append("\n".join(f"- {shown(line)}" for line in report.summary) + "\n")
        else:
            parts.extend(shown(line) for line in report.summary)
    return "\n".join(parts).rstrip("\n") + "\n"


#: What markdown would read as markup rather than text (emphasis, code, links, HTML, table cells).
_MARKDOWN = re.compile(r"([\\`*_{}\[\]<>|~&#!])")


def _markdown_text(text: str) -> str:
    """Text that reads as itself in markdown, a table cell included: markup escaped, lines as <br>."""
    return _MARKDOWN.sub(r"\\\1", printable(text)).replace("\r\n", "<br>").replace("\n", "<br>")


def _rich(report: Report, era: bool, width: int | None) -> str:
    from rich import box
    from rich.console import Console
    from rich.table import Table as RichTable
    from rich.text import Text

    def shown(text: str) -> Text:  # a Text is never read as markup: [/bold] stays [/bold]
        return Text(printable(text))

    buffer = io.StringIO()
    console = Console(file=buffer, width=width or 120, force_terminal=True, highlight=False, soft_wrap=False)
    for table in report.tables:
        title = shown(table.title) if table.title else None
        rich_table = RichTable(title=title, box=box.SIMPLE_HEAVY, title_justify="left")
        for column in table.columns:
            rich_table.add_column(shown(column.label), justify="right" if column.numeric else "left", overflow="fold")
        for row in table.rows:
            rich_table.add_row(*(shown(cell_text(v, era)) for v in row))
        console.print(rich_table)
        if table.note:
            console.print(shown(table.note))
    for line in report.summary:
        console.print(shown(line))
    return buffer.getvalue()


def _csv(report: Report, era: bool) -> str:
    from kitamono.sheets import csv_text

    rows: list[list[Any]] = []
    for index, table in enumerate(report.tables):
        if len(report.tables) > 1:
            if index:
                rows.append([])
            rows.append([table.title])
        rows.append([c.label for c in table.columns])
        rows.extend([_csv_cell(v, era) for v in row] for row in table.rows)
    return csv_text(rows)


def _csv_cell(value: Any, era: bool) -> Any:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return cell_text(value, era)


def write_xlsx(report: Report, out: BinaryIO, era: bool = False) -> None:
    """One sheet per table (through the one spreadsheet writer), dates as real dates."""
    from kitamono.sheets import Sheet, xlsx_bytes

    sheets = [
        Sheet(table.title or report.title or "Sheet", [c.label for c in table.columns],
              [[_xlsx_cell(v, era) for v in row] for row in table.rows])
        for table in report.tables
    ]  # fmt: skip
    if report.summary:
        sheets.append(Sheet("概要", None, [[line] for line in report.summary]))
    out.write(xlsx_bytes(sheets))


def _xlsx_cell(value: Any, era: bool) -> Any:
    if value is None or isinstance(value, (int, float, date, datetime)) and not isinstance(value, bool):
        return value
    return cell_text(value, era)


def _display_width(text: str) -> int:
    from wcwidth import wcswidth

    width = wcswidth(text)
    return width if width >= 0 else len(text) * 2


# --- html -----------------------------------------------------------------------------------------

_CSS = """
body{font-family:"Hiragino Sans","Noto Sans CJK JP","Yu Gothic",Meiryo,sans-serif;margin:2em;color:#222}
h1{font-size:1.5em;border-bottom:2px solid #2a5d8f;padding-bottom:.3em}
h2{font-size:1.15em;margin-top:1.8em;color:#2a5d8f}
table{border-collapse:collapse;margin:.5em 0 1em}
th,td{border:1px solid #bbb;padding:.25em .6em}
th{background:#e8f0f8}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.chart{margin:1em 0}
.legend span{display:inline-block;margin-right:1em}
.legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:middle}
""".strip()
_COLOURS = ("#2a5d8f", "#e07b39", "#5a9e4b", "#b84a62", "#7d6bb3", "#888888")


def _html_text(text: str) -> str:
    """Text that reads as itself in HTML, control characters spelled out."""
    from html import escape

    return escape(printable(text))


def _html(report: Report, era: bool) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="ja"><head><meta charset="utf-8">',
        f"<title>{_html_text(report.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_html_text(report.title)}</h1>",
    ]
    if report.summary:
        parts.append("<ul class=\"summary\">" + "".join(f"<li>{_html_text(s)}</li>" for s in report.summary) + "</ul>")
    for chart in report.charts:
        parts.append(_svg_chart(chart))
    for table in report.tables:
        parts.append(f"<h2>{_html_text(table.title)}</h2>")
        head = "".join(f"<th>{_html_text(c.label)}</th>" for c in table.columns)
        body = []
        for row in table.rows:
            cells = "".join(
                f'<td class="num">{_html_text(cell_text(v, era))}</td>' if c.numeric
                else f"<td>{_html_text(cell_text(v, era))}</td>"
                for c, v in zip(table.columns, row)
            )  # fmt: skip
            body.append(f"<tr>{cells}</tr>")
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
        if table.note:
            parts.append(f"<p>{_html_text(table.note)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _svg_chart(chart: Chart) -> str:
    from math import ceil

    names = list(chart.series)
    values = [v for series in chart.series.values() for v in series]
    top = max(values + [1])
    if all(float(v).is_integer() for v in values):
        top = ceil(top / 4) * 4  # counts: whole-number ticks
    bar, gap, height, left, pad = 14, 18, 180, 40, 12  # pad: room above the top tick's label
    label_width = max((_display_width(label) for label in chart.labels), default=0) * 6 + 8
    group = max(bar * len(names) + gap, label_width)
    width = left + group * max(len(chart.labels), 1) + 20
    base = pad + height
    shapes = [f'<line x1="{left}" y1="{base}" x2="{width}" y2="{base}" stroke="#444"/>']
    for tick in range(0, 5):
        value = top * tick / 4
        y = base - height * tick / 4
        shapes.append(f'<text x="{left - 4}" y="{y + 4:.0f}" font-size="10" text-anchor="end">{value:g}</text>')
    for i, label in enumerate(chart.labels):
        x0 = left + i * group + (group - bar * len(names)) / 2
        for j, name in enumerate(names):
            value = chart.series[name][i]
            h = height * value / top
            shapes.append(
                f'<rect x="{x0 + j * bar:.0f}" y="{base - h:.1f}" width="{bar - 2}" height="{h:.1f}" '
                f'fill="{_COLOURS[j % len(_COLOURS)]}">'
                f"<title>{_html_text(name)} {_html_text(label)}: {value:g}</title></rect>"
            )
        shapes.append(
            f'<text x="{x0 + bar * len(names) / 2:.0f}" y="{base + 14}" font-size="10" '
            f'text-anchor="middle">{_html_text(label)}</text>'
        )
    legend = "".join(
        f'<span><i style="background:{_COLOURS[j % len(_COLOURS)]}"></i>{_html_text(n)}</span>'
        for j, n in enumerate(names)
    )
    return (
        f'<figure class="chart"><figcaption>{_html_text(chart.title)}</figcaption>'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{base + 24}" role="img" '
        f'aria-label="{_html_text(chart.title)}">{"".join(shapes)}</svg><div class="legend">{legend}</div></figure>'
    )


def simple_report(title: str, columns: Sequence[Column], rows: list[list[Any]], data: Any) -> Report:
    """A report of one table."""
    return Report(title=title, tables=[Table(title, list(columns), rows)], data=data)
