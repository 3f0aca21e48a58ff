"""``kitamono case …``: log an inquiry, look at cases, and record each step of their life."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from kitamono.cli import complete
from kitamono.cli.common import (
    AllowDamagedOpt,
    FormatOpt,
    LinesFormatOpt,
    OutputOpt,
    auto_commit,
    carried_problems,
    choice_option,
    emit,
    fail,
    info,
    load_cases,
    reference,
    repository,
    split_list,
    text_option,
    today,
    warn,
)
from kitamono.failures import failure
from kitamono.i18n import t

if TYPE_CHECKING:
    from datetime import date

    from kitamono.models import Case, EventType
    from kitamono.reference import Reference

app = typer.Typer(no_args_is_help=True, help=t("help.case"), rich_markup_mode=None)

DateOpt = Annotated[str | None, typer.Option("--date", help=t("opt.event_date"), metavar="DATE", show_default=False)]
ByOpt = Annotated[
    str | None,
    typer.Option("--by", help=t("opt.by"), metavar="INST", show_default=False, autocompletion=complete.institutions),
]
NoteOpt = Annotated[str | None, typer.Option("--note", help=t("opt.note"), show_default=False)]
CaseIdArg = Annotated[
    str, typer.Argument(help=t("arg.case_id"), metavar="ID", show_default=False, autocompletion=complete.case_ids)
]
ContactsOpt = Annotated[bool, typer.Option("--with-contacts", help=t("opt.with_contacts"))]
#: A case's own fields, as ``case new`` takes them and ``case set`` changes them.
CompanyOpt = Annotated[str | None, text_option("--company", "opt.company")]
MunicipalityOpt = Annotated[str | None, text_option("--municipality", "opt.municipality", complete.municipalities)]
TitleOpt = Annotated[str | None, text_option("--title", "opt.title")]
SummaryOpt = Annotated[str | None, text_option("--summary", "opt.summary")]


def _interactive(no_input: bool) -> bool:
    return not no_input and sys.stdin.isatty()


@app.command("new", help=t("help.case.new"))
def new(
    company: CompanyOpt = None,
    municipality: MunicipalityOpt = None,
    title: TitleOpt = None,
    summary: SummaryOpt = None,
    received_on: Annotated[str | None, text_option("--received-on", "opt.received_on", metavar="DATE")] = None,
    received_by: Annotated[str | None, text_option("--received-by", "opt.received_by", complete.institutions)] = None,
    channel: Annotated[str | None, choice_option("--channel", "channel", "opt.channel")] = None,
    field: Annotated[str | None, choice_option("--field", "field", "opt.field")] = None,
    needs: Annotated[list[str] | None, choice_option("--needs", "competence", "opt.needs", many=True)] = None,
    contact_name: Annotated[str | None, text_option("--contact-name", "opt.contact_name")] = None,
    contact_phone: Annotated[str | None, text_option("--contact-phone", "opt.contact_phone")] = None,
    contact_email: Annotated[str | None, text_option("--contact-email", "opt.contact_email")] = None,
    approved_project: Annotated[
        str | None, text_option("--approved-project", "opt.approved_project", metavar="DATE")
    ] = None,
    bank: Annotated[str | None, text_option("--bank", "opt.bank")] = None,
    note: NoteOpt = None,
    no_input: Annotated[bool, typer.Option("--no-input", help=t("opt.no_input"))] = False,
    date_outside_plan: Annotated[
        bool, typer.Option("--allow-date-outside-plan", "--old-date", help=t("opt.allow_date_outside_plan"))
    ] = False,
    fmt: LinesFormatOpt = None,
) -> None:
    from kitamono.casework import NewCase, log_case
    from kitamono.cli.prompts import ask
    from kitamono.fiscal import parse_date
    repo = repository()
    ref = reference(repo)
    now = today()
    interactive = _interactive(no_input)
    received = parse_date(received_on, today=now) if received_on else now
    date_outside_plan = _date_confirmed(received, ref, now, date_outside_plan, interactive)  # before any question
    given = {
        "company": company, "municipality": municipality, "title": title,
        "received_by": received_by or repo.local.institution, "channel": channel,
    }  # fmt: skip
    choices = {
        "municipality": list(ref.municipalities),
        "received_by": [i.short_name for i in ref.institutions.values()] + list(ref.institutions),
        "channel": ref.choice_labels("channel"),
    }
    validators = {
        "municipality": lambda v: ref.municipality(v).name,
        "received_by": lambda v: ref.institution(v).id,
        "channel": lambda v: ref.choice("channel", v),
    }
    values: dict[str, str] = {}
    for key, value in given.items():
        if value:
            values[key] = value
        elif interactive:
            values[key] = ask(t(f"prompt.{key}"), choices.get(key), validators.get(key))
        else:
            fail(t("case.missing_value", option="--" + key.replace("_", "-")))
    if summary is None and interactive:
        summary = ask(t("prompt.summary"), None, None, required=False)
    approved = parse_date(approved_project, today=now) if approved_project else None
    inquiry = NewCase(
        company=values["company"], municipality=values["municipality"], title=values["title"],
        received_by=values["received_by"], channel=values["channel"], received_on=received,
        summary=summary or "", field=field, needs=split_list(needs), contact_name=contact_name,
        contact_phone=contact_phone, contact_email=contact_email, approved_project=approved,
        bank=bank, note=note, date_outside_plan=date_outside_plan,
    )  # fmt: skip
    logged = log_case(repo, inquiry, ref, now)
    for message in logged.warnings:
        warn(message)
    _after_new(logged.case, ref)
    if fmt == "json":
        from kitamono.listings import case_json
        from kitamono.render import to_json

        sys.stdout.write(to_json(case_json(logged.case, with_contacts=True)))
    else:
        typer.echo(logged.case.id)
    info(t("case.created", id=logged.case.id))
    auto_commit(repo, [logged.case.id])


def _date_confirmed(received: date, ref: Reference, now: date, allowed: bool, interactive: bool) -> bool:
    """Whether a date received outside the plan is meant: allowed, or confirmed at a terminal.
    A date that is probably a typo is refused otherwise (after today, always)."""
    from kitamono.casework import DoubtfulDate, check_received_on

    try:
        check_received_on(received, ref, now, allowed)
        return allowed
    except DoubtfulDate as doubt:
        if doubt.future or not interactive:
            raise
        if typer.confirm(t("case.date_confirm", problem=doubt.problem), default=False, err=True):
            return True
        fail(t("case.date_not_confirmed"))


def _after_new(case: Case, ref: Reference) -> None:
    """Show the routing suggestion once the case is logged."""
    from kitamono.reports.suggestion import suggestion_lines
    from kitamono.routing import route_case

    for line in suggestion_lines(route_case(case, ref), ref):
        info(line)


@app.command("show", help=t("help.case.show"))
def show(
    case_id: CaseIdArg, with_contacts: ContactsOpt = False, fmt: FormatOpt = None, output: OutputOpt = None
) -> None:
    from kitamono.casework import load_case
    from kitamono.listings import case_show_report

    repo = repository()
    case = load_case(repo, case_id)
    emit(case_show_report(case, reference(repo), with_contacts), fmt, output)


@app.command("list", help=t("help.case.list"))
def list_cases(
    fy: Annotated[str | None, text_option("--fy", "opt.fy", complete.fiscal_years)] = None,
    status: Annotated[str | None, choice_option("--status", "status", "opt.status")] = None,
    field: Annotated[str | None, choice_option("--field", "field", "opt.field_filter")] = None,
    institution: Annotated[
        str | None, text_option("--institution", "opt.institution_filter", complete.institutions)
    ] = None,
    municipality: Annotated[
        str | None, text_option("--municipality", "opt.municipality_filter", complete.municipalities)
    ] = None,
    plan: Annotated[str | None, text_option("--plan", "opt.plan_filter")] = None,
    text: Annotated[str | None, text_option("--text", "opt.text_filter")] = None,
    with_contacts: ContactsOpt = False,
    count: Annotated[bool, typer.Option("--count", help=t("opt.count"))] = False,
    all_: Annotated[bool, typer.Option("--all", help=t("correct.opt_all"))] = False,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    allow_damaged: AllowDamagedOpt = False,
) -> None:
    from kitamono.listings import CaseFilter, case_list_report

    repo = repository()
    ref = reference(repo)
    chosen = CaseFilter.parse(ref, fy=fy, status=status, field=field, institution=institution,
                              municipality=municipality, plan=plan, text=text)  # fmt: skip
    loaded = load_cases(repo, allow_damaged, withdrawn=all_)
    if count and chosen.only_fy:  # answered from the index's digests, no case built
        typer.echo(len(loaded) if chosen.fy is None else loaded.count_received_in(chosen.fy))
        return
    cases = chosen.needs.pick(loaded)
    if count:
        typer.echo(sum(1 for c in cases if chosen.matches(c)))
        return
    if with_contacts:
        from kitamono.casework import with_contacts as full_cases

        cases = full_cases(repo, [c for c in cases if chosen.matches(c)])
    emit(case_list_report(cases, ref, chosen, with_contacts), fmt, output, problems=carried_problems(repo, loaded))


@app.command("history", help=t("help.case.history"))
def history(case_id: CaseIdArg, fmt: FormatOpt = None, output: OutputOpt = None) -> None:
    from kitamono.casework import load_case
    from kitamono.listings import case_history_report

    repo = repository()
    emit(case_history_report(load_case(repo, case_id), reference(repo)), fmt, output)


# --- events ---------------------------------------------------------------------------------------


def _record(
    case_id: str, event_type: EventType, date: str | None, by: str | None, note: str | None, *,
    to: str | None = None, lead: str | None = None, supporting: Sequence[str] = (), members: Sequence[str] = (),
    outcome: str | None = None, outcome_kind: str | None = None, follow_up_waiver: str | None = None,
) -> None:  # fmt: skip
    from kitamono.casework import EventInput, event_from_input, record_event

    repo = repository()
    ref = reference(repo)
    now = today()
    given = EventInput(event_type, date, by, note, to=to, lead=lead, supporting=supporting, members=members,
                       outcome=outcome, outcome_kind=outcome_kind, follow_up_waiver=follow_up_waiver)  # fmt: skip
    event = event_from_input(given, ref, now, repo.local.institution)
    record_event(repo, case_id, event, ref, now)
    info(t("case.event_recorded", id=case_id, event=t(f"event.{event_type}")))
    auto_commit(repo, [case_id])


@app.command("refer", help=t("help.case.refer"))
def refer(
    case_id: CaseIdArg,
    to: Annotated[
        str, typer.Option("--to", help=t("opt.to"), show_default=False, autocompletion=complete.institutions)
    ],
    date: DateOpt = None, by: ByOpt = None, note: NoteOpt = None,
) -> None:  # fmt: skip
    _record(case_id, "referred", date, by, note, to=to)


@app.command("start", help=t("help.case.start"))
def start(
    case_id: CaseIdArg,
    lead: Annotated[
        str, typer.Option("--lead", help=t("opt.lead"), show_default=False, autocompletion=complete.institutions)
    ],
    with_: Annotated[
        list[str] | None,
        typer.Option("--with", help=t("opt.with"), show_default=False, autocompletion=complete.institutions),
    ] = None,
    date: DateOpt = None, by: ByOpt = None, note: NoteOpt = None,
) -> None:  # fmt: skip
    _record(case_id, "started", date, by, note, lead=lead, supporting=split_list(with_))


@app.command("support", help=t("help.case.support"))
def support(case_id: CaseIdArg, date: DateOpt = None, by: ByOpt = None, note: NoteOpt = None) -> None:
    _record(case_id, "supported", date, by, note)


@app.command("follow-up", help=t("help.case.follow_up"))
def follow_up(case_id: CaseIdArg, date: DateOpt = None, by: ByOpt = None, note: NoteOpt = None) -> None:
    _record(case_id, "followed_up", date, by, note)


@app.command("team", help=t("help.case.team"))
def team(
    case_id: CaseIdArg,
    members: Annotated[
        list[str],
        typer.Option("--members", help=t("opt.members"), show_default=False, autocompletion=complete.institutions),
    ],
    date: DateOpt = None, by: ByOpt = None, note: NoteOpt = None,
) -> None:  # fmt: skip
    _record(case_id, "team_formed", date, by, note, members=split_list(members))


@app.command("close", help=t("help.case.close"))
def close(
    case_id: CaseIdArg,
    outcome: Annotated[str, typer.Option("--outcome", help=t("opt.outcome"), show_default=False)],
    outcome_kind: Annotated[
        str | None, typer.Option("--outcome-kind", help=t("opt.outcome_kind"), metavar="KIND", show_default=False)
    ] = None,
    no_follow_up: Annotated[bool, typer.Option("--no-follow-up", help=t("opt.no_follow_up"))] = False,
    reason: Annotated[str | None, typer.Option("--reason", help=t("opt.waiver_reason"), show_default=False)] = None,
    date: DateOpt = None, by: ByOpt = None, note: NoteOpt = None,
) -> None:  # fmt: skip
    from kitamono.casework import follow_up_waiver

    waiver = follow_up_waiver(no_follow_up, reason)
    _record(case_id, "closed", date, by, note, outcome=outcome, outcome_kind=outcome_kind, follow_up_waiver=waiver)


@app.command("reopen", help=t("help.case.reopen"))
def reopen(case_id: CaseIdArg, date: DateOpt = None, by: ByOpt = None, note: NoteOpt = None) -> None:
    _record(case_id, "reopened", date, by, note)


@app.command("edit", help=t("help.case.edit"))
def edit(case_id: CaseIdArg) -> None:
    from kitamono.casework import EditRejected, save_edited, text_to_edit
    from kitamono.cli.prompts import choose_editor, edit_text

    repo = repository()
    ref = reference(repo)
    original = text_to_edit(repo, case_id)
    editor, source = choose_editor(repo.root)
    if source != "env":  # one chosen for the user: say which, before it takes the terminal
        info(t(f"edit.opening_{source}", editor=editor))
    text = original
    while True:
        text = edit_text(text, editor)
        try:
            case, _ = save_edited(repo, case_id, original, text, ref, today())
            break
        except EditRejected as rejected:
            if not (rejected.fixable and sys.stdin.isatty() and sys.stderr.isatty()):
                raise
            info(failure(str(rejected)))
            if not typer.confirm(t("edit.reopen"), default=True, err=True):
                raise typer.Exit(1) from None
    if case is None:
        info(t("edit.unchanged", id=case_id))
        return
    info(t("edit.saved", id=case_id))
    auto_commit(repo, [case_id])
