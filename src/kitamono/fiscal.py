"""Fiscal years (年度), quarters (四半期) and era dates (和暦): parsing and formatting.

年度 N runs from N-04-01 to (N+1)-03-31 and is named by its start year; Q1 is April–June
and Q4 is January–March of N+1. Parsers take what people type (full-width digits, 和暦,
``R1.5.14``) and raise InputError; formatters write western or 和暦 text::

    parse_date("令和元年５月１４日")        -> date(2019, 5, 14)
    parse_fiscal_year("平成30年度")         -> 2018
    parse_fiscal_year("平成34年度")         -> 2022  (as documents written before 令和 named it)
    parse_quarter("R1Q3")                   -> (2019, 3)
    format_fiscal_year(2019, era=True)      -> "令和元年度"
    format_period([2017, 2018], era=True)   -> "平成29–30年度"
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable
from datetime import date, timedelta
from typing import NamedTuple

from kitamono.errors import InputError
from kitamono.i18n import t

FIRST_FISCAL_YEAR = 1989
LAST_FISCAL_YEAR = 2100


class Era(NamedTuple):
    """A Japanese era: 令和 (R) from 2019-05-01, 平成 (H), 昭和 (S)."""

    name: str
    letter: str
    start: date
    end: date | None  # last day; None for the current era

    def contains(self, d: date) -> bool:
        return self.start <= d and (self.end is None or d <= self.end)

    def span(self) -> str:
        return f"{self.start.isoformat()}–{self.end.isoformat() if self.end else ''}"


ERAS = (  # newest first
    Era("令和", "R", date(2019, 5, 1), None),
    Era("平成", "H", date(1989, 1, 8), date(2019, 4, 30)),
    Era("昭和", "S", date(1926, 12, 25), date(1989, 1, 7)),
)
_ERA_BY_KEY = {key: era for era in ERAS for key in (era.name, era.letter)}

_ERA = r"(令和|平成|昭和|[RHS])(元|\d{1,2})"
# Dates are matched after 年 and 月 become "." and a final 日 is dropped.
_WESTERN_DATE = re.compile(r"(?:西暦)?(\d{4})([-/.])(\d{1,2})\2(\d{1,2})")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_ERA_DATE = re.compile(_ERA + r"([-/.])(\d{1,2})\3(\d{1,2})")
_WESTERN_FY = re.compile(r"(?:FY)?(\d{4})(?:年度)?")
_ERA_FY = re.compile(_ERA + r"(?:年度)?")
_QUARTER = re.compile(r"(.*?)[-_]?(?:Q(\d+)|第(\d+|[一二三四])四半期)")
_KANJI_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4}
_TODAY_WORDS = {"TODAY", "今日", "本日"}


# --- fiscal arithmetic -------------------------------------------------------


def today() -> date:
    """Today, or ``KITAMONO_TODAY`` (ISO) so that demos and tests are reproducible."""
    fixed = os.environ.get("KITAMONO_TODAY")
    return date.fromisoformat(fixed) if fixed else date.today()


def fiscal_year(d: date) -> int:
    """The 年度 containing d: 2019-03-31 -> 2018, 2019-04-01 -> 2019."""
    return d.year if d.month >= 4 else d.year - 1


def quarter(d: date) -> int:
    """The fiscal quarter of d: 1 for April–June … 4 for January–March."""
    return (d.month - 4) % 12 // 3 + 1


def fy_bounds(fy: int) -> tuple[date, date]:
    """First and last day of 年度 fy."""
    return date(fy, 4, 1), date(fy + 1, 3, 31)


def quarter_bounds(fy: int, q: int) -> tuple[date, date]:
    """First and last day of quarter q (1–4) of 年度 fy."""
    if q not in (1, 2, 3, 4):
        raise ValueError(f"quarter must be 1–4, not {q!r}")
    start = _quarter_start(fy, q)
    following = _quarter_start(fy + 1, 1) if q == 4 else _quarter_start(fy, q + 1)
    return start, following - timedelta(days=1)


def last_completed_quarter(as_of: date) -> tuple[int, int]:
    """The last (fy, q) that ended before as_of: 2019-07-01 -> (2019, 1)."""
    fy, q = fiscal_year(as_of), quarter(as_of)
    return (fy - 1, 4) if q == 1 else (fy, q - 1)


def _quarter_start(fy: int, q: int) -> date:
    month = 4 + 3 * (q - 1)
    return date(fy, month, 1) if month <= 12 else date(fy + 1, month - 12, 1)


# --- parsing -----------------------------------------------------------------


def parse_date(text: str, *, today: date | None = None) -> date:
    """Read an ISO, slashed, dotted, compact or 和暦 date; "today"/"今日" give today."""
    value = text.strip()
    norm = _normalise(text)
    if norm in _TODAY_WORDS:
        return today if today is not None else date.today()
    norm = norm.replace("年", ".").replace("月", ".").removesuffix("日")
    if m := _WESTERN_DATE.fullmatch(norm):
        return _make_date(int(m[1]), int(m[3]), int(m[4]), value)
    if m := _COMPACT_DATE.fullmatch(norm):
        return _make_date(int(m[1]), int(m[2]), int(m[3]), value)
    if m := _ERA_DATE.fullmatch(norm):
        era, n = _ERA_BY_KEY[m[1]], _era_year_number(m[2])
        d = _make_date(era.start.year + n - 1, int(m[4]), int(m[5]), value)
        if n < 1 or not era.contains(d):
            raise InputError(t("fiscal.outside_era", value=value, era=era.name, span=era.span()))
        return d
    raise InputError(t("fiscal.bad_date", value=value))


def parse_fiscal_year(text: str) -> int:
    """Read a 年度: 2019, FY2019, 2019年度, R1, 令和元年度, 平成31年度, H30; an era's years go on
    past its end (平成34年度 is FY2022), as documents written before the change counted them."""
    value = text.strip()
    fy = _match_fiscal_year(_normalise(text), value)
    if fy is None:
        raise InputError(t("fiscal.bad_fiscal_year", value=value))
    return fy


def parse_quarter(text: str, default_fy: int | None = None) -> tuple[int, int]:
    """Read a quarter as (fy, q): 3, Q3, 第3四半期, 2019Q3, FY2019-Q3, R1Q3.

    A quarter given without a year belongs to default_fy.
    """
    value = text.strip()
    norm = _normalise(text)
    fy: int | None = None
    if norm.isdecimal():
        q = int(norm)
    elif m := _QUARTER.fullmatch(norm):
        q = int(m[2]) if m[2] else _KANJI_DIGITS.get(m[3]) or int(m[3])
        if m[1]:
            fy = _match_fiscal_year(m[1], value)
            if fy is None:
                raise InputError(t("fiscal.bad_quarter", value=value))
    else:
        raise InputError(t("fiscal.bad_quarter", value=value))
    if not 1 <= q <= 4:
        raise InputError(t("fiscal.bad_quarter", value=value))
    if fy is None:
        if default_fy is None:
            raise InputError(t("fiscal.quarter_needs_year", value=value))
        fy = default_fy
    return fy, q


def _normalise(text: str) -> str:
    """Full-width to ASCII (NFKC also turns ㋿ into 令和), no spaces, upper case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).upper()


def _era_year_number(text: str) -> int:
    return 1 if text == "元" else int(text)


def _make_date(year: int, month: int, day: int, value: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise InputError(t("fiscal.no_such_date", value=value)) from None


def _match_fiscal_year(norm: str, value: str) -> int | None:
    """The 年度 in norm, None if it has no 年度 shape; InputError if it names none."""
    if m := _WESTERN_FY.fullmatch(norm):
        fy = int(m[1])
    elif m := _ERA_FY.fullmatch(norm):
        era, n = _ERA_BY_KEY[m[1]], _era_year_number(m[2])
        fy = era.start.year + n - 1
        # 平成31年度 and 令和元年度 are both FY2019; and an era's numbering goes on in documents
        # written before it ended: the plan's own period, FY2022, was 平成34年度 when it was written.
        # So any year of an era from its first (元年) on names a 年度.
        if n < 1:
            raise InputError(
                t("fiscal.fiscal_year_outside_era", value=value, era=era.name, span=era.span())
            )
    else:
        return None
    if not FIRST_FISCAL_YEAR <= fy <= LAST_FISCAL_YEAR:
        raise InputError(
            t(
                "fiscal.fiscal_year_out_of_range",
                value=value,
                first=FIRST_FISCAL_YEAR,
                last=LAST_FISCAL_YEAR,
            )
        )
    return fy


# --- formatting --------------------------------------------------------------


def format_date(d: date, era: bool = False) -> str:
    """2019-05-14, or 令和元年5月14日 with era."""
    if not era:
        return d.isoformat()
    for e in ERAS:
        if e.contains(d):
            year = _era_year_text(d.year - e.start.year + 1)
            return t("fiscal.date_era", era=_era_name(e), y=year, m=d.month, d=d.day)
    raise InputError(t("fiscal.no_era", value=d.isoformat()))


def format_fiscal_year(fy: int, era: bool = False) -> str:
    """2019年度, or 令和元年度 with era (FY2018 is 平成30年度)."""
    if not era:
        return t("fiscal.fy", fy=fy)
    e, n = _fiscal_year_era(fy)
    return t("fiscal.fy_era", era=_era_name(e), n=_era_year_text(n))


def short_fiscal_year(fy: int) -> str:
    """R1 for FY2019, H30 for FY2018: the short form users type (``parse_fiscal_year`` reads it)."""
    e, n = _fiscal_year_era(fy)
    return f"{e.letter}{n}"


def format_quarter(fy: int, q: int, era: bool = False) -> str:
    """2019年度 第3四半期, or 令和元年度 第3四半期 with era."""
    return t("fiscal.quarter", fy=format_fiscal_year(fy, era), q=q)


def format_period(fys: Iterable[int], era: bool = False) -> str:
    """The span from the first to the last 年度: 2017–2018年度, or 平成29–30年度 with era."""
    years = sorted(set(fys))
    if not years:
        raise ValueError("format_period needs at least one fiscal year")
    first, last = years[0], years[-1]
    if first == last:
        return format_fiscal_year(first, era)
    if not era:
        return t("fiscal.period", first=first, last=last)
    (first_era, first_n), (last_era, last_n) = _fiscal_year_era(first), _fiscal_year_era(last)
    if first_era == last_era:
        first_text, last_text = _era_year_text(first_n), _era_year_text(last_n)
        return t("fiscal.period_era", era=_era_name(first_era), first=first_text, last=last_text)
    return f"{format_fiscal_year(first, True)}–{format_fiscal_year(last, True)}"


def _fiscal_year_era(fy: int) -> tuple[Era, int]:
    """The era naming 年度 fy and its year in that era.

    Official practice names FY2019 令和元年度, so a 年度 takes the era whose first
    calendar year is on or before fy's start year: FY2018 is 平成30年度.
    """
    for e in ERAS:
        if fy >= e.start.year:
            return e, fy - e.start.year + 1
    raise InputError(t("fiscal.no_era", value=f"{fy}年度"))


def _era_year_text(n: int) -> str:
    return t("fiscal.first_year") if n == 1 else str(n)


def _era_name(e: Era) -> str:
    """令和, or Reiwa in English."""
    return t(f"fiscal.era_{e.letter}")
