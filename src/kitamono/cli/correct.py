"""``kitamono case amend|void|set|withdraw|restore``: correcting a record without touching YAML.

Each correction is checked by the same rules as recording, says who made it (this clone's
institution), when and why, and keeps what was there before; nothing is ever deleted::

    kitamono case amend hro-2019-0001 3 --date 2019-06-03 --reason 日付の入力誤り
    kitamono case void hro-2019-0001 4 --reason 別の案件の支援を誤って記録
    kitamono case withdraw hro-2019-0002 --reason hro-2019-0001 と同じ相談の二重登録
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from kitamono.cli import complete
from kitamono.cli.case import CaseIdArg, CompanyOpt, MunicipalityOpt, SummaryOpt, TitleOpt
from kitamono.cli.common import auto_commit, choice_option, info, reference, repository, split_list, text_option, today
from kitamono.i18n import t

if TYPE_CHECKING:
    import datetime

NumberArg = Annotated[int, typer.Argument(help=t("correct.arg_number"), metavar="N", show_default=False, min=1)]
ReasonOpt = Annotated[str, typer.Option("--reason", help=t("correct.opt_reason"), metavar="TEXT", show_default=False)]
UndoReasonOpt = Annotated[
    str | None, typer.Option("--reason", help=t("correct.opt_undo_reason"), metavar="TEXT", show_default=False)
]


def register(app: typer.Typer) -> None:
    """The correction commands, on the ``case`` group."""
    app.command("amend", help=t("correct.help_amend"))(amend)
    app.command("void", help=t("correct.help_void"))(void)
    app.command("set", help=t("correct.help_set"))(set_fields)
    app.command("withdraw", help=t("correct.help_withdraw"))(withdraw)
    app.command("restore", help=t("correct.help_restore"))(restore)


def _date(text: str | None) -> datetime.date | None:
    from kitamono.fiscal import parse_date

    return parse_date(text, today=today()) if text is not None else None


def amend(
    case_id: CaseIdArg,
    number: NumberArg,
    reason: ReasonOpt,
    date: Annotated[str | None, text_option("--date", "correct.opt_date", metavar="DATE")] = None,
    by: Annotated[str | None, text_option("--by", "correct.opt_by", complete.institutions)] = None,
    to: Annotated[str | None, text_option("--to", "correct.opt_to", complete.institutions)] = None,
    lead: Annotated[str | None, text_option("--lead", "correct.opt_lead", complete.institutions)] = None,
    with_: Annotated[
        list[str] | None,
        typer.Option("--with", help=t("correct.opt_with"), show_default=False, autocompletion=complete.institutions,
                     metavar="INST"),
    ] = None,
    members: Annotated[
        list[str] | None,
        typer.Option(
            "--members", help=t("correct.opt_members"), show_default=False, autocompletion=complete.institutions,
            metavar="INST",
        ),
    ] = None,
    outcome: Annotated[str | None, text_option("--outcome", "correct.opt_outcome")] = None,
    note: Annotated[str | None, text_option("--note", "correct.opt_note")] = None,
) -> None:
    from kitamono.casework import EventChanges, amend_event

    repo = repository()
    changes = EventChanges(
        date=_date(date), by=by, to=to, lead=lead,
        supporting=split_list(with_) if with_ is not None else None,
        members=split_list(members) if members is not None else None, outcome=outcome, note=note,
    )  # fmt: skip
    _, after = amend_event(repo, case_id, number, changes, reason, reference(repo), today())
    moved = t("correct.moved", number=after) if after != number else ""
    info(t("correct.amended", id=case_id, number=number) + moved)
    auto_commit(repo, [case_id])


def void(
    case_id: CaseIdArg,
    number: NumberArg,
    reason: UndoReasonOpt = None,
    unvoid: Annotated[bool, typer.Option("--unvoid", help=t("correct.opt_unvoid"))] = False,
) -> None:
    from kitamono.casework import void_event

    repo = repository()
    void_event(repo, case_id, number, reason, reference(repo), today(), undo=unvoid)
    info(t("correct.unvoided" if unvoid else "correct.voided", id=case_id, number=number))
    auto_commit(repo, [case_id])


def set_fields(
    case_id: CaseIdArg,
    reason: ReasonOpt,
    title: TitleOpt = None,
    company: CompanyOpt = None,
    municipality: MunicipalityOpt = None,
    summary: SummaryOpt = None,
    field: Annotated[str | None, choice_option("--field", "field", "correct.opt_field")] = None,
    needs: Annotated[list[str] | None, choice_option("--needs", "competence", "correct.opt_needs", many=True)] = None,
    bank: Annotated[str | None, text_option("--bank", "correct.opt_bank", complete.institutions)] = None,
    approved_project: Annotated[
        str | None, text_option("--approved-project", "opt.approved_project", metavar="DATE")
    ] = None,
) -> None:
    from kitamono.casework import CaseFields, set_case

    repo = repository()
    given = CaseFields(
        title=title, company=company, municipality=municipality, summary=summary, field=field,
        needs=split_list(needs) if needs is not None else None, bank=bank,
        approved_project=_date(approved_project),
    )  # fmt: skip
    set_case(repo, case_id, given, reason, reference(repo), today())
    info(t("correct.set", id=case_id))
    auto_commit(repo, [case_id])


def withdraw(case_id: CaseIdArg, reason: ReasonOpt) -> None:
    from kitamono.casework import withdraw_case

    repo = repository()
    withdraw_case(repo, case_id, reason, today())
    info(t("correct.withdrew", id=case_id))
    auto_commit(repo, [case_id])


def restore(case_id: CaseIdArg, reason: UndoReasonOpt = None) -> None:
    from kitamono.casework import withdraw_case

    repo = repository()
    withdraw_case(repo, case_id, reason, today(), undo=True)
    info(t("correct.restored", id=case_id))
    auto_commit(repo, [case_id])
