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
from kitamono.i18n import t
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
        return t("list.sep").join(cell_text(v, era) for v in value)
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


def _says_none(table: Table, sections: bool) -> bool:
    """Whether a table is shown as 「該当なし」: it has no rows (a total of nothing adds nothing),
    and it is one section of a document (a listing of one table keeps its headings) or asks to
    be (``says_none``: headings alone would only say there is nothing)."""
    return (sections or table.says_none) and not table.rows


def _opening(report: Report) -> list[str]:
    """What comes before the tables in a text format: the files left out, then a document's
    title and byline (a report without a byline keeps its table titles alone, as ever)."""
    lines = report.problems.lines() if report.problems is not None else []
    return [*lines, report.title, report.byline] if report.byline else lines


def _tabulated(report: Report, style: str, era: bool, markdown: bool) -> str:
    from tabulate import tabulate

    shown = _markdown_text if markdown else printable
    parts: list[str] = []
    tables = list(report.shown_tables)
    multiple = len(tables) > 1 or markdown
    if markdown and report.title:
        parts.append(f"# {shown(report.title)}\n")
    if markdown and report.problems is not None:
        parts.append("\n".join(f"> **{shown(line)}**" if n == 0 else f"> - {shown(line)}"
                               for n, line in enumerate(report.problems.lines())) + "\n")  # fmt: skip
    if markdown and report.byline:
        parts.append(shown(report.byline) + "\n")  # the title is above
    if not markdown and _opening(report):
        parts.extend([*(shown(line) for line in _opening(report)), ""])
    for table in tables:
        if multiple and table.title:
            title = shown(table.title)
            parts.append(f"## {title}\n" if markdown else t("render.table_title", title=title))
        if _says_none(table, len(tables) > 1):
            parts.append(t("reports.none") + ("\n" if markdown else ""))
            if not markdown:
                parts.append("")
            continue
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
    if report.problems is not None:
        for line in report.problems.lines():
            console.print(Text(printable(line), style="bold red"))
    if report.byline:
        console.print(shown(report.title))
        console.print(shown(report.byline))
    tables = list(report.shown_tables)
    for table in tables:
        if _says_none(table, len(tables) > 1):
            console.print(shown(table.title))
            console.print(shown(t("reports.none")))
            console.print()
            continue
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

    rows: list[list[Any]] = [[line] for line in _opening(report)]
    if rows:
        rows.append([])
    tables = list(report.shown_tables)
    for index, table in enumerate(tables):
        if len(tables) > 1:
            if index:
                rows.append([])
            rows.append([table.title])
        rows.append(_headings(table))
        if _says_none(table, len(tables) > 1):
            rows.append([t("reports.none")])
            continue
        rows.extend(shown_rows(table, lambda v: _csv_cell(v, era)))
    return csv_text(rows)


def _csv_cell(value: Any, era: bool) -> Any:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return value
    return cell_text(value, era)


def xlsx_bytes(report: Report, era: bool = False) -> bytes:
    """One sheet per table (through the one spreadsheet writer), dates as real dates.

    A document (a byline, a summary, or files left out) opens on its 概要 sheet: the title, the
    byline, the files left out, then the summary. Each sheet is named after its table, shortened
    at a word's end to what Excel allows; a table with no rows says 「該当なし」 under its headings.
    """
    from kitamono.sheets import Sheet
    from kitamono.sheets import xlsx_bytes as workbook

    tables = list(report.shown_tables)
    sheets = []
    if report.summary or report.byline or report.problems is not None:
        lines = _opening(report)
        if report.summary:
            lines = [*lines, *([""] if lines else []), *report.summary]
        sheets.append(Sheet(t("reports.overview_sheet"), None, [[line or None] for line in lines]))
    for table in tables:
        rows = (
            [[t("reports.none")]] if _says_none(table, len(tables) > 1)
            else list(shown_rows(table, lambda v: _xlsx_cell(v, era)))
        )  # fmt: skip
        sheets.append(Sheet(sheet_name(table.title or report.title or "Sheet"), _headings(table), rows))
    return workbook(sheets)


#: The longest sheet name given: Excel allows 31 characters, and a repeated name takes a suffix.
SHEET_NAME_LENGTH = 28
#: Where a title may be shortened: before a bracket, at a space or a separator.
_WORD_END = re.compile(r"(?=[(（\[【「])|[\s、,・:;]")


def sheet_name(title: str) -> str:
    """A table's title as a sheet name: whole when it fits, else cut where a word ends."""
    title = title.strip()
    if len(title) <= SHEET_NAME_LENGTH:
        return title
    ends = [m.start() for m in _WORD_END.finditer(title) if 0 < m.start() <= SHEET_NAME_LENGTH]
    return title[: ends[-1]].rstrip() if ends else title[:SHEET_NAME_LENGTH]


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
.byline{color:#444;margin:.2em 0 1em}
.problems{border:2px solid #b3261e;background:#fdecea;color:#8c1d18;padding:.6em 1em;margin:1em 0}
.problems p{margin:0 0 .3em;font-weight:bold}
.problems ul{margin:0;padding-left:1.4em}
p.none{margin:.3em 0 1em;color:#444}
th,td.date,td.num,td.id{white-space:nowrap}
@page{size:A4;margin:14mm 12mm}
@media print{
body{margin:0;font-size:9pt}
h1{font-size:14pt}
h2{font-size:11pt;break-after:avoid;page-break-after:avoid}
table{font-size:8.5pt;break-inside:auto}
thead{display:table-header-group}
tr,th,td{break-inside:avoid;page-break-inside:avoid}
figure,.problems,.byline,p.none{break-inside:avoid;page-break-inside:avoid}
}
""".strip()
_COLOURS = ("#2a5d8f", "#e07b39", "#5a9e4b", "#b84a62", "#7d6bb3", "#888888")
_CSS += "\n" + "\n".join(f".legend .k{n}{{background:{colour}}}" for n, colour in enumerate(_COLOURS))


def _html_text(text: str) -> str:
    """Text that reads as itself in HTML, control characters spelled out."""
    from html import escape

    return escape(printable(text))


def _html(report: Report, era: bool) -> str:
    """A page that opens offline and prints on A4: the files left out as a banner above all, the
    byline under the title, a table that has no rows as 「該当なし」, rows never split across pages."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="ja"><head><meta charset="utf-8">',
        f"<title>{_html_text(report.title)}</title><style>{_CSS}</style></head><body>",
    ]
    if report.problems is not None:
        message, *files = report.problems.lines()
        listed = "".join(f"<li>{_html_text(line)}</li>" for line in files)
        parts.append(f'<div class="problems" role="alert"><p>{_html_text(message)}</p><ul>{listed}</ul></div>')
    parts.append(f"<h1>{_html_text(report.title)}</h1>")
    if report.byline:
        parts.append(f'<p class="byline">{_html_text(report.byline)}</p>')
    if report.summary:
        parts.append("<ul class=\"summary\">" + "".join(f"<li>{_html_text(s)}</li>" for s in report.summary) + "</ul>")
    for chart in report.charts:
        parts.append(svg_chart(chart))
    tables = list(report.shown_tables)
    for table in tables:
        parts.append(f"<h2>{_html_text(table.title)}</h2>")
        if _says_none(table, len(tables) > 1):
            parts.append(f'<p class="none">{_html_text(t("reports.none"))}</p>')
            continue
        head = "".join(f"<th>{_html_text(text)}</th>" for text in _headings(table))
        kinds = ["num" if table.columns[n].numeric else "id" if table.columns[n].key == "id" else ""
                 for n in table.shown_columns]  # fmt: skip
        body = []
        for row in shown_rows(table, lambda v: (v, _html_text(cell_text(v, era)))):
            cells = "".join(
                f'<td class="{kind or ("date" if _is_date(value) else "")}">{text}</td>'.replace(' class=""', "")
                for kind, (value, text) in zip(kinds, row, strict=True)
            )  # fmt: skip
            body.append(f"<tr>{cells}</tr>")
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
        if table.note:
            parts.append(f"<p>{_html_text(table.note)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _is_date(value: Any) -> bool:
    return isinstance(value, date)


def svg_chart(chart: Chart) -> str:
    """A bar chart as an SVG figure (its text escaped), for the HTML review and the pages alike."""
    from math import ceil

    from kitamono.sheets import display_width

    names = list(chart.series)
    values = [v for series in chart.series.values() for v in series if v is not None]
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
            given = chart.series[name][i]
            if given is None:  # no bar at all (a year after the plan has no target)
                continue
            value = given
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
