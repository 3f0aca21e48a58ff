"""English messages (KITAMONO_LANG=en). Same keys as locale/ja.py."""

MESSAGES: dict[str, str] = {
    # --- general -------------------------------------------------------------------------------
    "error.prefix": "Error",
    "warning.prefix": "Warning",
    # --- fiscal ------------------------------------------------------------------------------
    "fiscal.bad_date": "Not a date: '{value}' (use 2019-05-14, 2019/5/14, 20190514, 2019年5月14日, 令和元年5月14日, R1.5.14 or H31.4.1)",
    "fiscal.no_such_date": "No such date: '{value}'",
    "fiscal.outside_era": "'{value}' is outside {era} ({era}: {span})",
    "fiscal.no_era": "'{value}' is before 昭和 and cannot be written in 和暦",
    "fiscal.bad_fiscal_year": "Not a fiscal year: '{value}' (use 2019, FY2019, 2019年度, 令和元年度, 平成31年度, R1 or H30)",
    "fiscal.fiscal_year_outside_era": "No such fiscal year: '{value}' ({era}: {span})",
    "fiscal.fiscal_year_out_of_range": "Fiscal year out of range: '{value}' (use {first}–{last})",
    "fiscal.bad_quarter": "Not a quarter: '{value}' (use 3, Q3, 第3四半期, 2019Q3, FY2019-Q3 or R1Q3; quarters are 1–4)",
    "fiscal.quarter_needs_year": "Which fiscal year is the quarter '{value}' in? Add one, as in 2019Q3",
    # --- reference data ----------------------------------------------------------------------
    "ref.unknown_institution": "Unknown institution '{value}'{near}; see kitamono institutions",
    "ref.unknown_municipality": "'{value}' is not one of Hokkaido's 179 municipalities{near}",
    "ref.unknown_plan": "Unknown basic plan '{value}'{near}; see kitamono plans",
    "ref.did_you_mean": " (did you mean: {names})",
    "data.unreadable": "cannot be read ({error})",
    "data.expected_list": "expected a top-level list '{key}:'",
    "data.expected_mapping": "expected a top-level mapping '{key}:'",
    "data.unknown_key": "unknown key '{key}'",
    "data.duplicate_id": "duplicate id '{id}'",
    "data.clash": "id '{id}' is also in the shipped data; add override: true to replace it",
    "data.missing_file": "data file missing; reinstall kitamono",
    "data.unknown_area": "'{value}' is not a 振興局 (use 全道 or one of the 14)",
    "data.unknown_competence": "'{value}' is not in the competence vocabulary",
    "data.expected_words": "expected a list of words",
    "data.one_representative": "exactly one institution must be the representative body (representative_body: true)",
}
