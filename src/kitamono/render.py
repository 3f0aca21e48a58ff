"""Turning a report into what the user asked for: table, plain, markdown, csv, json, xlsx, html.

Report builders are pure and return a ``reports.rows.Report``: tables of rows whose columns have
an English key, a heading in the user's language and a display form. Every format is made here
from those same rows: the text formats from each value's display form, JSON from the values
placed as the report's ``document`` says, CSV and XLSX through ``sheets`` (the one writer of
spreadsheet cells). This module is the only user of rich tables and tabulate, and imports each
only when that format is asked for::

    report = Report("分野", [Table("分野", [Column("id", "ID")], [["food"]])])
    render_text(report, "markdown")
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from kitamono.controls import printable
from kitamono.reports.rows import ABSENT, FORMATS, Chart, Report, Table

#: The format ``-o FILE`` asks for by its extension.
EXTENSIONS = {
    ".txt": "plain", ".md": "markdown", ".markdown": "markdown", ".csv": "csv",
    ".json": "json", ".xlsx": "xlsx", ".html": "html", ".htm": "html",
}  # fmt: skip


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
    if fmt not in FORMATS or fmt == "xlsx":
        raise ValueError(f"not a text format: {fmt}")
    if fmt == "json":
        return to_json(report.json())
    if fmt == "csv":
        return _csv(report, era)
    if fmt == "html":
        return _html(report, era)
    if fmt == "table":
        return _rich(report, era, width)
    return _tabulated(report, "github" if fmt == "markdown" else "plain", era, markdown=fmt == "markdown")


def shown_rows(table: Table, cell: Callable[[Any], Any], head: int | None = None) -> Iterator[list[Any]]:
    """The rows a table shows (the first ``head`` only, when given), each value in its display
    form and then through ``cell``; the total row last, as it is given."""
    at = table.shown_columns
    shows = [(n, table.columns[n].show) for n in at]
    rows = table.rows if head is None else table.rows[:head]
    for row in rows:
        yield [cell(_shown(row[n], show)) for n, show in shows]
    if table.total is not None and (head is None or len(table.rows) <= head):
        yield [cell(table.total[n]) for n in at]


def _shown(value: Any, show: Callable[[Any], Any] | None) -> Any:
    if value is None or value is ABSENT:
        return None
    return show(value) if show is not None else value


def _headings(table: Table, shown: Callable[[str], Any] = str) -> list[Any]:
    return [shown(table.columns[n].heading) for n in table.shown_columns]


def _tabulated(report: Report, style: str, era: bool, markdown: bool) -> str:
    from tabulate import tabulate

    shown = _markdown_text if markdown else printable
    parts: list[str] = []
    tables = list(report.shown_tables)
    multiple = len(tables) > 1 or markdown
    if markdown and report.title:
        parts.append(f"# {shown(report.title)}\n")
    for table in tables:
        if multiple and table.title:
            parts.append(f"## {shown(table.title)}\n" if markdown else f"【{shown(table.title)}】")
        rows = list(shown_rows(table, lambda v: shown(cell_text(v, era))))
        align = ["right" if table.columns[n].numeric else "left" for n in table.shown_columns]
        text = tabulate(
            rows, headers=_headings(table, shown), tablefmt=style, colalign=align or None,
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
    """The terminal's view: a table of at most ``head`` rows, then how many more there are."""
    from rich import box
    from rich.console import Console
    from rich.table import Table as RichTable
    from rich.text import Text

    def shown(text: str) -> Text:  # a Text is never read as markup: [/bold] stays [/bold]
        return Text(printable(text))

    buffer = io.StringIO()
    console = Console(file=buffer, width=width or 120, force_terminal=True, highlight=False, soft_wrap=False)
    for table in report.shown_tables:
        title = shown(table.title) if table.title else None
        rich_table = RichTable(title=title, box=box.SIMPLE_HEAVY, title_justify="left")
        for n in table.shown_columns:
            column = table.columns[n]
            rich_table.add_column(shown(column.heading), justify="right" if column.numeric else "left", overflow="fold")
        for row in shown_rows(table, lambda v: shown(cell_text(v, era)), table.head):
            rich_table.add_row(*row)
        console.print(rich_table)
        if table.note:
            console.print(shown(table.note))
        if table.head is not None and len(table.rows) > table.head and table.more:
            console.print(shown(table.more))
    for line in report.summary:
        console.print(shown(line))
    return buffer.getvalue()


def _csv(report: Report, era: bool) -> str:
    from kitamono.sheets import csv_text

    rows: list[list[Any]] = []
    tables = list(report.shown_tables)
    for index, table in enumerate(tables):
        if len(tables) > 1:
            if index:
                rows.append([])
            rows.append([table.title])
        rows.append(_headings(table))
        rows.extend(shown_rows(table, lambda v: _csv_cell(v, era)))
    return csv_text(rows)


def _csv_cell(value: Any, era: bool) -> Any:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return value
    return cell_text(value, era)


def xlsx_bytes(report: Report, era: bool = False) -> bytes:
    """One sheet per table (through the one spreadsheet writer), dates as real dates."""
    from kitamono.sheets import Sheet
    from kitamono.sheets import xlsx_bytes as workbook

    sheets = [
        Sheet(table.title or report.title or "Sheet", _headings(table),
              list(shown_rows(table, lambda v: _xlsx_cell(v, era))))
        for table in report.shown_tables
    ]  # fmt: skip
    if report.summary:
        sheets.append(Sheet("概要", None, [[line] for line in report.summary]))
    return workbook(sheets)


def _xlsx_cell(value: Any, era: bool) -> Any:
    if value is None or (isinstance(value, (int, float, date, datetime)) and not isinstance(value, bool)):
        return value
    return cell_text(value, era)


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
_CSS += "\n" + "\n".join(f".legend .k{n}{{background:{colour}}}" for n, colour in enumerate(_COLOURS))


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
        parts.append(svg_chart(chart))
    for table in report.shown_tables:
        parts.append(f"<h2>{_html_text(table.title)}</h2>")
        head = "".join(f"<th>{_html_text(text)}</th>" for text in _headings(table))
        numeric = [table.columns[n].numeric for n in table.shown_columns]
        body = []
        for row in shown_rows(table, lambda v: _html_text(cell_text(v, era))):
            cells = "".join(
                f'<td class="num">{v}</td>' if num else f"<td>{v}</td>" for num, v in zip(numeric, row, strict=True)
            )
            body.append(f"<tr>{cells}</tr>")
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
        if table.note:
            parts.append(f"<p>{_html_text(table.note)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def svg_chart(chart: Chart) -> str:
    """A bar chart as an SVG figure (its text escaped), for the HTML review and the pages alike."""
    from math import ceil

    from kitamono.sheets import display_width

    names = list(chart.series)
    values = [v for series in chart.series.values() for v in series]
    top = max([*values, 1])
    if all(float(v).is_integer() for v in values):
        top = ceil(top / 4) * 4  # counts: whole-number ticks
    bar, gap, height, left, pad = 14, 18, 180, 40, 12  # pad: room above the top tick's label
    label_width = max((display_width(label) for label in chart.labels), default=0) * 6 + 8
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
    # Each key's colour comes from a class, not a style attribute: a page whose policy allows no
    # inline style (kitamono web, whose style sheet has the same classes) shows it too.
    legend = "".join(f'<span><i class="k{j % len(_COLOURS)}"></i>{_html_text(n)}</span>' for j, n in enumerate(names))
    return (
        f'<figure class="chart"><figcaption>{_html_text(chart.title)}</figcaption>'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{base + 24}" role="img" '
        f'aria-label="{_html_text(chart.title)}">{"".join(shapes)}</svg><div class="legend">{legend}</div></figure>'
    )
