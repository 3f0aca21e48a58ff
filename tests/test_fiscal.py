"""年度, quarters and 和暦: every accepted form, every refusal, every boundary."""

from __future__ import annotations

import re
import string
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kitamono import fiscal
from kitamono.errors import InputError
from kitamono.fiscal import (
    fiscal_year,
    format_date,
    format_fiscal_year,
    format_period,
    format_quarter,
    fy_bounds,
    last_completed_quarter,
    parse_date,
    parse_fiscal_year,
    parse_quarter,
    quarter,
    quarter_bounds,
)


@pytest.fixture(scope="module", autouse=True)
def message_keys():
    """Errors carry "key value" instead of catalogue text, so tests pin the key, not wording (dates
    and 年度 are still written with the catalogue's words)."""
    written = fiscal.t
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fiscal, "t", lambda key, /, **values: f"{key} {values.get('value')}" if "value" in values
                   else written(key, **values))  # fmt: skip
        yield


def refused(call, key: str, value: str) -> None:
    with pytest.raises(InputError) as info:
        call()
    assert str(info.value) == f"{key} {value}"


# --- fiscal arithmetic -------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "fy", "q"),
    [
        (date(2019, 3, 31), 2018, 4),
        (date(2019, 4, 1), 2019, 1),
        (date(2019, 6, 30), 2019, 1),
        (date(2019, 7, 1), 2019, 2),
        (date(2019, 9, 30), 2019, 2),
        (date(2019, 10, 1), 2019, 3),
        (date(2019, 12, 31), 2019, 3),
        (date(2020, 1, 1), 2019, 4),
        (date(2020, 3, 31), 2019, 4),
    ],
)
def test_fiscal_year_and_quarter(d, fy, q):
    assert (fiscal_year(d), quarter(d)) == (fy, q)


def test_fy_bounds():
    assert fy_bounds(2019) == (date(2019, 4, 1), date(2020, 3, 31))


@pytest.mark.parametrize(
    ("fy", "q", "bounds"),
    [
        (2019, 1, (date(2019, 4, 1), date(2019, 6, 30))),
        (2019, 2, (date(2019, 7, 1), date(2019, 9, 30))),
        (2019, 3, (date(2019, 10, 1), date(2019, 12, 31))),
        (2019, 4, (date(2020, 1, 1), date(2020, 3, 31))),
        (2023, 4, (date(2024, 1, 1), date(2024, 3, 31))),
    ],
)
def test_quarter_bounds(fy, q, bounds):
    assert quarter_bounds(fy, q) == bounds


@pytest.mark.parametrize("q", [0, 5])
def test_quarter_bounds_rejects_bad_quarter(q):
    with pytest.raises(ValueError):
        quarter_bounds(2019, q)


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2019, 7, 1), (2019, 1)),
        (date(2019, 6, 30), (2018, 4)),
        (date(2019, 4, 1), (2018, 4)),
        (date(2019, 3, 31), (2018, 3)),
        (date(2020, 1, 1), (2019, 3)),
        (date(2020, 4, 1), (2019, 4)),
    ],
)
def test_last_completed_quarter(as_of, expected):
    assert last_completed_quarter(as_of) == expected


# --- parse_date --------------------------------------------------------------

MAY_14 = date(2019, 5, 14)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-05-14", MAY_14),
        ("2019/5/14", MAY_14),
        ("2019.5.14", MAY_14),
        ("20190514", MAY_14),
        ("  2019-05-14 ", MAY_14),
        ("令和元年5月14日", MAY_14),
        ("令和1年5月14日", MAY_14),
        ("令和 元年 5月 14日", MAY_14),
        ("R1.5.14", MAY_14),
        ("R01.05.14", MAY_14),
        ("R1/5/14", MAY_14),
        ("R1-5-14", MAY_14),
        ("r1.5.14", MAY_14),
        ("H31.4.1", date(2019, 4, 1)),
        ("平成31年4月1日", date(2019, 4, 1)),
        ("西暦2019年5月14日", MAY_14),
        ("2019年5月14日", MAY_14),
        ("令和元年５月１４日", MAY_14),
        ("Ｒ１．５．１４", MAY_14),
        ("２０１９／０５／１４", MAY_14),
        ("㋿1年5月14日", MAY_14),
        ("㍻31年4月30日", date(2019, 4, 30)),
        # the era boundaries
        ("平成31年4月30日", date(2019, 4, 30)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("平成元年1月8日", date(1989, 1, 8)),
        ("昭和64年1月7日", date(1989, 1, 7)),
        ("S64.1.7", date(1989, 1, 7)),
        ("昭和元年12月25日", date(1926, 12, 25)),
        ("令和2年2月29日", date(2020, 2, 29)),
    ],
)
def test_parse_date_accepts(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["today", "TODAY", "今日", "本日"])
def test_parse_date_today(text):
    assert parse_date(text, today=MAY_14) == MAY_14


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("令和元年4月30日", "fiscal.outside_era"),
        ("R1.4.30", "fiscal.outside_era"),
        ("令和0年5月1日", "fiscal.outside_era"),
        ("平成31年5月1日", "fiscal.outside_era"),
        ("平成元年1月7日", "fiscal.outside_era"),
        ("平成32年1月1日", "fiscal.outside_era"),
        ("昭和64年1月8日", "fiscal.outside_era"),
        ("昭和元年12月24日", "fiscal.outside_era"),
        ("2019-02-30", "fiscal.no_such_date"),
        ("20190230", "fiscal.no_such_date"),
        ("R1.13.1", "fiscal.no_such_date"),
        ("平成31年2月29日", "fiscal.no_such_date"),
        ("2019-13-01", "fiscal.no_such_date"),
        ("", "fiscal.bad_date"),
        ("garbage", "fiscal.bad_date"),
        ("2019-05", "fiscal.bad_date"),
        ("2019-05/14", "fiscal.bad_date"),
        ("19-05-14", "fiscal.bad_date"),
        ("2019514", "fiscal.bad_date"),
        ("X1.5.14", "fiscal.bad_date"),
        ("令和元年度", "fiscal.bad_date"),
    ],
)
def test_parse_date_refuses(text, key):
    refused(lambda: parse_date(text), key, text.strip())


# --- parse_fiscal_year -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019", 2019),
        ("FY2019", 2019),
        ("fy2019", 2019),
        ("2019年度", 2019),
        ("R1", 2019),
        ("R01", 2019),
        ("r1", 2019),
        ("令和元年度", 2019),
        ("令和1年度", 2019),
        ("平成31年度", 2019),
        ("H31", 2019),
        ("H30", 2018),
        ("H30年度", 2018),
        ("平成元年度", 1989),
        ("２０１９", 2019),
        ("２０１９年度", 2019),
        ("令和元年度", 2019),
        ("令和２年度", 2020),
        ("Ｒ２", 2020),
        ("1989", 1989),
        ("2100", 2100),
        ("令和82年度", 2100),
    ],
)
def test_parse_fiscal_year_accepts(text, expected):
    assert parse_fiscal_year(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Documents written before 令和 went on counting in 平成: the plan's period ends in 平成34年度
        # (FY2022), and a 2017 document's 平成32年度 is FY2020. An era's year n is its first year + n - 1.
        ("平成34年度", 2022),
        ("H34", 2022),
        ("Ｈ３４", 2022),
        ("平成32年度", 2020),
        ("H32", 2020),
        ("平成33年度", 2021),
        ("平成35年度", 2023),
        # 昭和 the same way: 昭和64年度 is the 年度 that began on 1989-04-01, under 平成
        ("昭和64年度", 1989),
    ],
)
def test_an_eras_years_go_on_past_its_end(text, expected):
    assert parse_fiscal_year(text) == expected


@pytest.mark.parametrize(("text", "expected"), [("平成34Q3", (2022, 3)), ("H32Q1", (2020, 1))])
def test_a_quarter_of_a_year_named_past_its_era(text, expected):
    assert parse_quarter(text) == expected


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("令和0年度", "fiscal.fiscal_year_outside_era"),
        ("R0", "fiscal.fiscal_year_outside_era"),
        ("平成0年度", "fiscal.fiscal_year_outside_era"),
        ("昭和63年度", "fiscal.fiscal_year_out_of_range"),
        ("1988", "fiscal.fiscal_year_out_of_range"),
        ("2101", "fiscal.fiscal_year_out_of_range"),
        ("令和83年度", "fiscal.fiscal_year_out_of_range"),
        ("", "fiscal.bad_fiscal_year"),
        ("19", "fiscal.bad_fiscal_year"),
        ("FY19", "fiscal.bad_fiscal_year"),
        ("2019年", "fiscal.bad_fiscal_year"),
        ("令和元年", "fiscal.bad_fiscal_year"),
        ("next year", "fiscal.bad_fiscal_year"),
    ],
)
def test_parse_fiscal_year_refuses(text, key):
    refused(lambda: parse_fiscal_year(text), key, text)


# --- parse_quarter -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", (2020, 3)),
        ("Q3", (2020, 3)),
        ("q3", (2020, 3)),
        ("第3四半期", (2020, 3)),
        ("第三四半期", (2020, 3)),
        ("2019Q3", (2019, 3)),
        ("2019-Q3", (2019, 3)),
        ("2019 Q3", (2019, 3)),
        ("FY2019Q3", (2019, 3)),
        ("FY2019-Q1", (2019, 1)),
        ("R1Q3", (2019, 3)),
        ("H30Q4", (2018, 4)),
        ("2019年度第3四半期", (2019, 3)),
        ("令和元年度 第3四半期", (2019, 3)),
        ("３", (2020, 3)),
        ("Ｑ３", (2020, 3)),
        ("２０１９Ｑ４", (2019, 4)),
        ("第３四半期", (2020, 3)),
    ],
)
def test_parse_quarter_accepts(text, expected):
    assert parse_quarter(text, default_fy=2020) == expected


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("0", "fiscal.bad_quarter"),
        ("5", "fiscal.bad_quarter"),
        ("Q5", "fiscal.bad_quarter"),
        ("2019Q0", "fiscal.bad_quarter"),
        ("第5四半期", "fiscal.bad_quarter"),
        ("", "fiscal.bad_quarter"),
        ("FY2019", "fiscal.bad_quarter"),
        ("fooQ3", "fiscal.bad_quarter"),
        ("Q", "fiscal.bad_quarter"),
        ("令和0Q1", "fiscal.fiscal_year_outside_era"),
        ("1988Q1", "fiscal.fiscal_year_out_of_range"),
    ],
)
def test_parse_quarter_refuses(text, key):
    refused(lambda: parse_quarter(text, default_fy=2020), key, text)


@pytest.mark.parametrize("text", ["3", "Q3", "第3四半期"])
def test_bare_quarter_needs_default_year(text):
    refused(lambda: parse_quarter(text), "fiscal.quarter_needs_year", text)


# --- formatting --------------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "western", "wareki"),
    [
        (MAY_14, "2019-05-14", "令和元年5月14日"),
        (date(2019, 4, 1), "2019-04-01", "平成31年4月1日"),
        (date(2019, 4, 30), "2019-04-30", "平成31年4月30日"),
        (date(2019, 5, 1), "2019-05-01", "令和元年5月1日"),
        (date(2020, 1, 1), "2020-01-01", "令和2年1月1日"),
        (date(1989, 1, 7), "1989-01-07", "昭和64年1月7日"),
        (date(1989, 1, 8), "1989-01-08", "平成元年1月8日"),
    ],
)
def test_format_date(d, western, wareki):
    assert format_date(d) == format_date(d, era=False) == western
    assert format_date(d, era=True) == wareki


def test_format_date_before_showa_is_refused():
    refused(lambda: format_date(date(1926, 12, 24), era=True), "fiscal.no_era", "1926-12-24")


@pytest.mark.parametrize(
    ("fy", "western", "wareki"),
    [
        (2019, "2019年度", "令和元年度"),
        (2018, "2018年度", "平成30年度"),
        (2020, "2020年度", "令和2年度"),
        (1989, "1989年度", "平成元年度"),
        (1988, "1988年度", "昭和63年度"),
    ],
)
def test_format_fiscal_year(fy, western, wareki):
    assert format_fiscal_year(fy) == western
    assert format_fiscal_year(fy, era=True) == wareki


def test_format_fiscal_year_before_showa_is_refused():
    refused(lambda: format_fiscal_year(1925, era=True), "fiscal.no_era", "1925年度")


@pytest.mark.parametrize(
    ("fy", "q", "western", "wareki"),
    [
        (2019, 3, "2019年度 第3四半期", "令和元年度 第3四半期"),
        (2018, 4, "2018年度 第4四半期", "平成30年度 第4四半期"),
    ],
)
def test_format_quarter(fy, q, western, wareki):
    assert format_quarter(fy, q) == western
    assert format_quarter(fy, q, era=True) == wareki


@pytest.mark.parametrize(
    ("fys", "western", "wareki"),
    [
        ([2017, 2018], "2017–2018年度", "平成29–30年度"),
        ([2018, 2017], "2017–2018年度", "平成29–30年度"),
        ([2019, 2020, 2021], "2019–2021年度", "令和元–3年度"),
        ([2018, 2019], "2018–2019年度", "平成30年度–令和元年度"),
        ([2019], "2019年度", "令和元年度"),
        ([2019, 2019], "2019年度", "令和元年度"),
    ],
)
def test_format_period(fys, western, wareki):
    assert format_period(fys) == western
    assert format_period(fys, era=True) == wareki


def test_format_period_needs_a_year():
    with pytest.raises(ValueError):
        format_period([])


# --- properties --------------------------------------------------------------

ERA_DATES = st.dates(min_value=date(1926, 12, 25), max_value=date(2100, 12, 31))
FISCAL_YEARS = st.integers(min_value=1989, max_value=2100)


@given(ERA_DATES, st.booleans())
def test_date_text_round_trip(d, era):
    assert parse_date(format_date(d, era=era)) == d


@given(ERA_DATES)
def test_date_lies_in_its_quarter(d):
    start, end = quarter_bounds(fiscal_year(d), quarter(d))
    assert start <= d <= end
    assert last_completed_quarter(start) == last_completed_quarter(d)


@given(FISCAL_YEARS, st.integers(min_value=1, max_value=4), st.booleans())
def test_fiscal_year_and_quarter_text_round_trip(fy, q, era):
    assert parse_fiscal_year(format_fiscal_year(fy, era=era)) == fy
    assert parse_quarter(format_quarter(fy, q, era=era)) == (fy, q)


# --- the message catalogue ---------------------------------------------------


def test_every_message_key_is_in_the_catalogue():
    from kitamono.locale import en, ja

    source = Path(fiscal.__file__).read_text(encoding="utf-8")
    keys = set(re.findall(r'"(fiscal\.[a-z_]+)"', source))
    assert keys
    for messages in (ja.MESSAGES, en.MESSAGES):
        missing = sorted(keys - messages.keys())
        assert not missing, f"not in the catalogue: {missing}"
        for key in keys:
            fields = {name for _, name, _, _ in string.Formatter().parse(messages[key]) if name}
            assert fields <= {"value", "era", "span", "first", "last", "fy", "n", "q", "y", "m", "d"}, key
