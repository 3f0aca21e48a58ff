"""``kitamono route``: suggest who handles an inquiry (3(2)②), show why, and record it on request."""

from __future__ import annotations

import datetime as dt
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from kitamono.cli import complete
from kitamono.cli.common import (
    FormatOpt,
    OutputOpt,
    auto_commit,
    choice_option,
    emit,
    info,
    optional_repository,
    reference,
    repository,
    split_list,
    text_option,
    today,
)
from kitamono.i18n import t

if TYPE_CHECKING:
    from kitamono.models import Case, Event
    from kitamono.reference import Reference
    from kitamono.routing import Routing
    from kitamono.store import Repository


def register(app: typer.Typer) -> None:
    app.command("route", help=t("routing.help"))(route)


def _interactive() -> bool:
    return sys.stdin.isatty()


def route(
    case_id: Annotated[
        str | None,
        typer.Argument(help=t("routing.arg_case"), metavar="[ID]", show_default=False,
                       autocompletion=complete.case_ids),
    ] = None,
    text: Annotated[str | None, text_option("--text", "routing.opt_text")] = None,
    municipality: Annotated[
        str | None, text_option("--municipality", "routing.opt_municipality", complete.municipalities)
    ] = None,
    field: Annotated[str | None, choice_option("--field", "field", "routing.opt_field")] = None,
    needs: Annotated[list[str] | None, choice_option("--needs", "competence", "routing.opt_needs", many=True)] = None,
    received_by: Annotated[
        str | None, text_option("--received-by", "routing.opt_received_by", complete.institutions)
    ] = None,
    bank: Annotated[str | None, text_option("--bank", "routing.opt_bank")] = None,
    team: Annotated[bool, typer.Option("--team", help=t("routing.opt_team"))] = False,
    apply: Annotated[bool, typer.Option("--apply", help=t("routing.opt_apply"))] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help=t("routing.opt_yes"))] = False,
    date: Annotated[str | None, text_option("--date", "routing.opt_date", metavar="DATE")] = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    from kitamono.errors import InputError
    from kitamono.reports.suggestion import routing_report
    from kitamono.routing import Inquiry, route_case
    from kitamono.routing import route as suggest

    if (case_id is None) == (text is None):
        raise InputError(t("routing.case_or_text"))
    if case_id is None:
        if apply:
            raise InputError(t("routing.apply_needs_case"))
        if not municipality:
            raise InputError(t("routing.needs_municipality"))
        repo = optional_repository()
        ref = reference(repo)
        receiver = received_by or (repo.local.institution if repo is not None else None) or ref.center().id
        inquiry = Inquiry(text=text or "", municipality=municipality, received_by=receiver, field=field,
                          needs=tuple(split_list(needs)), bank=bank, team_asked=team)  # fmt: skip
        emit(routing_report(suggest(inquiry, ref), ref), fmt, output)
        return

    given = [name for name, value in (("--municipality", municipality), ("--field", field), ("--needs", needs),
             ("--received-by", received_by), ("--bank", bank)) if value]  # fmt: skip
    if given:
        raise InputError(t("routing.text_options_with_case", options="、".join(given)))
    if apply and not yes and not _interactive():
        raise InputError(t("routing.apply_needs_yes"))
    from kitamono.casework import load_case

    repo = repository()
    ref = reference(repo)
    case = load_case(repo, case_id)
    from kitamono.fiscal import parse_date

    now = today()
    when = parse_date(date, today=now) if date else now  # how long the case has waited, as of this day
    routing = route_case(case, ref, when, team=team)
    emit(routing_report(routing, ref), fmt, output)
    if apply:
        _apply(repo, case, routing, ref, when, now, yes)


def _apply(repo: Repository, case: Case, routing: Routing, ref: Reference, when: dt.date, now: dt.date,
           yes: bool) -> None:  # fmt: skip
    from kitamono.casework import record_events
    from kitamono.routing import routing_events

    events = routing_events(case, routing, ref, when, now)
    if not events:
        info(t("routing.nothing_to_record", id=case.id))
        return
    info(t("routing.planned_head", id=case.id))
    for line in _event_lines(events, ref):
        info(line)
    if not yes and not typer.confirm(t("routing.confirm", id=case.id), default=False, err=True):
        info(t("routing.cancelled"))
        raise typer.Exit(1)
    record_events(repo, case.id, events, ref, now)
    info(t("routing.recorded", id=case.id, n=len(events)))
    auto_commit(repo, [case.id])


def _event_lines(events: list[Event], ref: Reference) -> list[str]:
    from kitamono.fiscal import format_date

    lines = []
    for event in events:
        values = {"date": format_date(event.date), "by": ref.short_name(event.by), "note": event.note}
        if event.type == "team_formed":
            members = "、".join(ref.short_name(i) for i in event.members)
            lines.append(t("routing.planned_team", members=members, **values))
        elif event.type == "started":
            supporting = "、".join(ref.short_name(i) for i in event.supporting)
            lines.append(t("routing.planned_started", lead=ref.short_name(event.lead), supporting=supporting,
                           **values))  # fmt: skip
        else:
            lines.append(t("routing.planned_referred", to=ref.short_name(event.to), **values))
    return lines
