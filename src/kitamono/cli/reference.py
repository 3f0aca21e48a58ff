"""Reference data commands: fields, institutions, plans, municipalities."""

from __future__ import annotations

from typing import Annotated

import typer

from kitamono.cli import complete
from kitamono.cli.common import FormatOpt, OutputOpt, choice_option, emit, optional_repository, reference
from kitamono.i18n import t

#: The fields a basic plan may list (``models.FIELD_IDS``, named here so that --help loads no models).
PLAN_FIELDS = ("food", "monozukuri", "it")


def register(app: typer.Typer) -> None:
    app.command("fields", help=t("help.fields"))(fields)
    app.command("institutions", help=t("help.institutions"))(institutions)
    app.command("plans", help=t("help.plans"))(plans)
    app.command("municipalities", help=t("help.municipalities"))(municipalities)


def fields(fmt: FormatOpt = None, output: OutputOpt = None) -> None:
    from kitamono.listings import fields_report

    emit(fields_report(reference(optional_repository())), fmt, output)


def institutions(
    kind: Annotated[str | None, choice_option("--kind", "kind", "opt.kind")] = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    from kitamono.listings import institutions_report

    emit(institutions_report(reference(optional_repository()), kind), fmt, output)


def plans(
    field: Annotated[str | None, choice_option("--field", "field", "opt.field_filter", ids=PLAN_FIELDS)] = None,
    municipality: Annotated[
        str | None,
        typer.Option("--municipality", help=t("opt.municipality_filter"), show_default=False,
                     autocompletion=complete.municipalities),
    ] = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    from kitamono.listings import plans_report

    ref = reference(optional_repository())
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
