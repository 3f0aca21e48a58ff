"""Shell completion of what users type: institutions, municipalities, case ids and 年度.

``kitamono --install-completion`` sets it up once; then Tab offers the values that fit what is
typed so far::

    kitamono case list --municipality 帯<Tab>     ->  帯広市
    kitamono case start hro-2019-<Tab>            ->  hro-2019-0001  hro-2019-0002 …
    kitamono report annual --fy R<Tab>            ->  R1  R2 …

Each function reads the repository named earlier on the line (``--repo``), else the one the
command would use. Completion must never fail at the prompt: anything that cannot be worked out
(no repository, a damaged data file) offers nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from kitamono.reference import Reference
    from kitamono.store import Repository


def _offer(make: Callable[[], list[Any]]) -> list[Any]:
    try:
        return make()
    except Exception:  # noqa: BLE001 - a completion offers nothing rather than a traceback
        return []


def _repository(ctx: typer.Context) -> Repository | None:
    from kitamono.errors import KitamonoError
    from kitamono.store import open_repository

    try:
        return open_repository(ctx.find_root().params.get("repo"))
    except KitamonoError:
        return None  # reference data alone: institutions and municipalities still complete


def _reference(ctx: typer.Context) -> Reference:
    from kitamono.cli.common import reference

    return reference(_repository(ctx))


def institutions(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Institution ids and short names (道総研, hro), each with the institution's full name."""

    def make() -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for inst in _reference(ctx).institutions.values():
            names = dict.fromkeys((inst.short_name, inst.id))  # once, where the two are the same
            found += [(name, inst.name) for name in names if name.startswith(incomplete)]
        return found

    return _offer(make)


def municipalities(ctx: typer.Context, incomplete: str) -> list[str]:
    """Hokkaido's municipality names (帯広市)."""
    return _offer(lambda: [name for name in _reference(ctx).municipalities if name.startswith(incomplete)])


def case_ids(ctx: typer.Context, incomplete: str) -> list[str]:
    """The ids of the repository's cases, from the case files' names (no file is read)."""

    def make() -> list[str]:
        repo = _repository(ctx)
        return [] if repo is None else [p.stem for p in repo.case_files() if p.stem.startswith(incomplete)]

    return _offer(make)


def fiscal_years(ctx: typer.Context, incomplete: str) -> list[str]:
    """年度 from the plan's first to this one (or the latest with cases): 2019, R1, and 令和元年度 once typed."""

    def make() -> list[str]:
        from kitamono.cli.common import today
        from kitamono.fiscal import fiscal_year, format_fiscal_year, short_fiscal_year

        first = min(fy for period in _reference(ctx).targets.periods for fy in period.fiscal_years)
        last = fiscal_year(today())
        repo = _repository(ctx)
        if repo is not None and repo.cases_dir.is_dir():
            years = [int(p.name) for p in repo.cases_dir.iterdir() if p.name.isdigit() and len(p.name) == 4]
            last = max([last, *years])
        found: list[str] = []
        for fy in range(first, last + 1):
            forms = [str(fy), short_fiscal_year(fy)] + ([format_fiscal_year(fy, era=True)] if incomplete else [])
            found += [form for form in forms if form.startswith(incomplete)]
        return found

    return _offer(make)
