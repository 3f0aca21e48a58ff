"""Reference data commands: fields, institutions, plans, municipalities."""

from __future__ import annotations

from typing import Annotated

import typer

from kitamono.cli import complete
from kitamono.cli.common import FormatOpt, OutputOpt, emit, optional_repository, reference
from kitamono.i18n import t


def register(app: typer.Typer) -> None:
    app.command("fields", help=t("help.fields"))(fields)
    app.command("institutions", help=t("help.institutions"))(institutions)
    app.command("plans", help=t("help.plans"))(plans)
    app.command("municipalities", help=t("help.municipalities"))(municipalities)


def fields(fmt: FormatOpt = None, output: OutputOpt = None) -> None:
    from kitamono.listings import fields_report

    emit(fields_report(reference(optional_repository())), fmt, output)


def institutions(
    kind: Annotated[str | None, typer.Option("--kind", help=t("opt.kind"), show_default=False)] = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    from kitamono.errors import InputError
    from kitamono.listings import institutions_report
    from kitamono.models import INSTITUTION_KINDS

    if kind is not None and kind not in INSTITUTION_KINDS:
        raise InputError(t("opt.bad_kind", value=kind, choices=", ".join(INSTITUTION_KINDS)))
    emit(institutions_report(reference(optional_repository()), kind), fmt, output)


def plans(
    field: Annotated[str | None, typer.Option("--field", help=t("opt.field_filter"), show_default=False)] = None,
    municipality: Annotated[
        str | None,
        typer.Option("--municipality", help=t("opt.municipality_filter"), show_default=False,
                     autocompletion=complete.municipalities),
    ] = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    from kitamono.errors import InputError
    from kitamono.listings import plans_report

    ref = reference(optional_repository())
    if field is not None and field not in ref.fields:
        raise InputError(t("opt.bad_field", value=field, choices=", ".join(ref.fields)))
    name = ref.municipality(municipality).name if municipality else None
    emit(plans_report(ref, field, name), fmt, output)


def municipalities(
    subprefecture: Annotated[
        str | None, typer.Option("--subprefecture", help=t("opt.subprefecture"), show_default=False)
    ] = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    from kitamono.listings import municipalities_report, subprefecture_of

    chosen = subprefecture_of(subprefecture) if subprefecture else None
    emit(municipalities_report(reference(optional_repository()), chosen), fmt, output)
