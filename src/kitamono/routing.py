"""Who should handle an inquiry, as the plan's consultation rules (3(2)②) say, and why.

``route(inquiry, reference)`` is pure: it reads the inquiry, the institutions' competences, the
need vocabulary (``data/needs.yaml``) and the rule inputs (``data/routing.yaml``), and returns a
``Routing`` whose every decision carries one reason naming the plan's clause::

    >>> r = route(Inquiry(text="チーズの殺菌工程と設備投資の融資", municipality="帯広市",
    ...                   received_by="hokuyo"), ref)
    >>> r.lead, r.coordinator, r.supporting, r.regional
    ('hro', 'hro', ('hokuyo',), ('tokachi',))
    >>> str(r.reasons[3])
    '3(2)②ウb: 北洋銀行の支援機能には「工業技術」がないため、北洋銀行はセンター(道総研 …)へ報告し、…'

The rules, in the order ``route`` applies them:

1. Needs: given by staff (the first is the main need), or read from the text (longest vocabulary
   word wins; the main need is the last one named in the title, else the first mentioned).
   No need recognised: the センター sorts it out (ア).
2. Handling: the receiving institution keeps the case when its competences cover every need
   (イa when it is the センター, ウa otherwise — network bodies and others are treated like ウ);
   otherwise the センター coordinates (イb / ウb).
3. Lead: the receiver when it keeps it; the センター when no need is known; else the institution
   whose role (1(3)) covers the main need's kind of help (of the two banks: the company's own,
   else the receiver, else the first). Supporting: the role institutions of the needs the lead
   does not cover.
4. Regional bodies (1(2)), universities (1(2)【学との連携】), 産総研/JST (1(4)), a 産学官金 team (エ)
   and the fit with the municipality's basic plan (1(1), 別紙).

``routing_events`` turns a suggestion into the events that record it (``route --apply``);
``kitamono.reports.suggestion`` lays it out for people.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from kitamono.cases import add_event, counted_events, start_event
from kitamono.errors import DataError, InputError
from kitamono.i18n import catalogue, label, lang, t
from kitamono.models import CASE_FIELDS, COMPETENCES, Case, Event, Institution, KindOfHelp, RoutingRules
from kitamono.reference import Reference

#: Hokkaido's four broad regions: words that name where a body is, not what it is good at.
BROAD_REGIONS = ("道北", "道南", "道央", "道東")


@dataclass(frozen=True)
class Inquiry:
    """What routing needs to know about an inquiry (ids or names; ``route`` resolves them)."""

    text: str  # the title (first line) and the body
    municipality: str
    received_by: str
    title: str | None = None  # None: the first line of a text of several lines
    field: str | None = None  # None: suggested from the text
    needs: tuple[str, ...] = ()  # empty: recognised from the text
    bank: str | None = None  # the company's own bank, when known
    referrals: int = 0  # referrals (not reports to the センター) while support has not started
    case_id: str | None = None


@dataclass(frozen=True)
class NeedMatch:
    """A need and the words of the text that triggered it (none when staff gave it)."""

    need: str
    matched: tuple[str, ...] = ()
    title_word: str | None = None  # the main need: the last word of the title that names a need


@dataclass(frozen=True)
class Reason:
    """One decision's reason: the plan's clause (empty for a need read from the text) and the words."""

    clause: str
    text: str

    def __str__(self) -> str:
        return f"{self.clause}: {self.text}" if self.clause else self.text


@dataclass(frozen=True)
class PlanFit:
    plans: tuple[str, ...]  # the basic plans covering the municipality
    fits: bool  # whether one of them has the case's field among its strategies
    plan: str | None = None  # the plan that fits (else the first plan)
    strategy: str | None = None  # the strategy line that names the field


@dataclass(frozen=True)
class Routing:
    """The suggestion for one inquiry; institution ids throughout, reasons already worded."""

    case_id: str | None
    received_by: str
    municipality: str
    subprefecture: str
    field: str
    clause: str  # イa, イb, ウa or ウb
    lead: str
    coordinator: str | None
    supporting: tuple[str, ...]
    regional: tuple[str, ...]
    academia: tuple[str, ...]
    external: tuple[str, ...]
    team: tuple[str, ...]  # empty: no team suggested
    plan_fit: PlanFit
    needs: tuple[NeedMatch, ...]
    reasons: tuple[Reason, ...] = ()


# --- recognising needs ----------------------------------------------------------------------------


def _norm(text: str) -> str:
    """Full-width letters and digits made half-width, letters case-folded: ＩｏＴ and iot are IoT."""
    return unicodedata.normalize("NFKC", text).casefold()


def _hits(text: str, ref: Reference) -> list[tuple[int, int, str, str]]:
    """Every (start, end, word, need) of the vocabulary in ``text`` that no longer word covers."""
    haystack = _norm(text)
    hits: list[tuple[int, int, str, str | None]] = []
    stop = ref.routing.not_needs if ref.routing else []
    entries: list[tuple[str | None, str]] = [
        (need, word) for need, words in ref.needs_vocabulary.items() for word in words
    ]
    entries += [(None, word) for word in stop]
    for need, word in entries:
        needle = _norm(word)
        start = haystack.find(needle)
        while needle and start >= 0:
            hits.append((start, start + len(needle), word, need))
            start = haystack.find(needle, start + 1)
    kept = [
        hit for hit in hits
        if not any(o[0] <= hit[0] and hit[1] <= o[1] and o[1] - o[0] > hit[1] - hit[0] for o in hits)
    ]  # fmt: skip
    need_hits = [(start, end, word, need) for start, end, word, need in kept if need is not None]
    return sorted(need_hits, key=lambda h: (h[0], -h[1]))


def recognise_needs(text: str, ref: Reference, title: str = "") -> list[NeedMatch]:
    """The needs whose words appear in ``text``: the main need first, then in order of mention.

    Substring matching (Japanese has no spaces), where a longer word wins over the words inside
    it: 「成分分析」 is testing, and its 「分析」 (technical) is not counted; the phrases of
    ``not_needs`` in routing.yaml win the same way but stand for no need.

    The main need is the last need named in ``title`` (the start of ``text``): a Japanese title
    ends on what it is about (冷凍設備の更新資金 → 資金). With no need in the title, the first need
    mentioned is the main one.
    """
    hits = _hits(text, ref)
    first: dict[str, int] = {}
    words: dict[str, list[str]] = {}
    for start, _, word, need in hits:
        first.setdefault(need, start)
        if word not in words.setdefault(need, []):
            words[need].append(word)
    order = list(ref.needs_vocabulary)
    ranked = sorted(first, key=lambda need: (first[need], order.index(need)))
    at = _norm(text).find(_norm(title)) if title.strip() else -1
    head = at + len(_norm(title)) if at >= 0 else 0
    in_title = [h for h in hits if h[1] <= head]
    if not in_title:
        return [NeedMatch(need, tuple(words[need])) for need in ranked]
    _, _, word, main = in_title[-1]
    ranked.remove(main)
    return [NeedMatch(main, tuple(words[main]), word)] + [NeedMatch(n, tuple(words[n])) for n in ranked]


def field_words(text: str, field_id: str, ref: Reference) -> list[str]:
    """The keywords of a support field that appear in ``text``."""
    spec = ref.fields.get(field_id)
    haystack = _norm(text)
    return [w for w in spec.keywords if _norm(w) in haystack] if spec else []


# --- the rules ------------------------------------------------------------------------------------


def _rules(ref: Reference) -> RoutingRules:
    if ref.routing is None:
        raise DataError(t("routing.no_rules"))
    return ref.routing


def kind_of(need: str, rules: RoutingRules) -> KindOfHelp:
    """The kind of help (routing.yaml ``kinds``) a need belongs to."""
    return next(k for k in rules.kinds if need in k.needs)


def covers(inst: Institution, needs: Sequence[str]) -> bool:
    """Whether an institution's competences include every need (and there is at least one)."""
    return bool(needs) and all(n in inst.competences for n in needs)


def choose(candidates: Sequence[str], own: str | None, receiver: str) -> tuple[str, str]:
    """One of several institutions with the same role: the company's own, the receiver, the first.

    Returns the id and why (``own``, ``receiver``, ``first`` or ``only``).
    """
    if len(candidates) == 1:
        return candidates[0], "only"
    if own is not None and own in candidates:
        return own, "own"
    if receiver in candidates:
        return receiver, "receiver"
    return candidates[0], "first"


def regional_bodies(
    ref: Reference, subprefecture: str, field_id: str, needs: Sequence[str], text: str, exclude: set[str]
) -> list[tuple[Institution, list[str], list[str]]]:
    """Network bodies serving the 振興局, with the strength words and competences that match.

    A body matches when its fields include the case's field and the text names one of its
    strengths or it covers one of the needs; the best match comes first, then any other body whose
    strength the text names, up to ``regional_limit``.
    """
    rules = _rules(ref)
    haystack = _norm(text)
    scored = []
    for index, inst in enumerate(ref.institutions.values()):
        if inst.kind != "network" or subprefecture not in inst.area or inst.id in exclude:
            continue
        if field_id != "other" and inst.fields and field_id not in inst.fields:
            continue
        words = [w for w in inst.keywords if _norm(w) in haystack and not _is_place(w, ref)]
        covered: list[str] = [n for n in needs if n in inst.competences]
        if words or covered:
            scored.append((-(len(words) + len(covered)), index, inst, words, covered))
    scored.sort(key=lambda item: item[:2])
    chosen = [item for rank, item in enumerate(scored) if rank == 0 or item[3]][: rules.regional_limit]
    return [(inst, words, covered) for _, _, inst, words, covered in chosen]


def _is_place(word: str, ref: Reference) -> bool:
    from kitamono.models import SUBPREFECTURES

    if word in BROAD_REGIONS or any(sub in word for sub in SUBPREFECTURES):
        return True
    return any(word + suffix in ref.municipalities for suffix in ("", "市", "町", "村"))


def universities(ref: Reference, subprefecture: str, field_id: str) -> list[tuple[Institution, str]]:
    """Universities in the 振興局 (else in neighbouring ones), then those serving all Hokkaido."""
    rules = _rules(ref)
    near = rules.nearby.get(subprefecture, [])
    found: list[tuple[int, int, Institution, str]] = []
    for index, inst in enumerate(ref.institutions.values()):
        if inst.kind != "academia":
            continue
        if field_id != "other" and inst.fields and field_id not in inst.fields:
            continue
        if subprefecture in inst.area:
            found.append((0, index, inst, "local"))
        elif any(n in inst.area for n in near):
            found.append((1, index, inst, "nearby"))
        elif inst.whole_hokkaido:
            found.append((2, index, inst, "all"))
    if any(rank == 0 for rank, *_ in found):
        found = [item for item in found if item[0] != 1]
    return [(inst, where) for _, _, inst, where in sorted(found, key=lambda item: item[:2])]


def basic_plan_fit(field_id: str, municipality: str, ref: Reference) -> PlanFit:
    """The municipality's basic plans, and the first strategy line that names the field."""
    plans = ref.plans_for(municipality)
    for plan in plans:
        for strategy in plan.strategies:
            if field_id in strategy.fields:
                return PlanFit(tuple(p.id for p in plans), True, plan.id, strategy.text)
    return PlanFit(tuple(p.id for p in plans), False, plans[0].id if plans else None)


# --- routing --------------------------------------------------------------------------------------


class Reasons(list):
    """The reason lines of a suggestion, in the order the decisions are taken."""

    def say(self, clause: str, key: str, **values: object) -> None:
        self.append(Reason(clause, t(key, **values)))


def route(inquiry: Inquiry, ref: Reference) -> Routing:
    """The suggestion for an inquiry; an unknown municipality, institution, field or need is an InputError."""
    _rules(ref)  # no routing rules: a DataError before anything else is looked up
    receiver = ref.institution(inquiry.received_by)
    town = ref.municipality(inquiry.municipality)
    own_bank = ref.institution(inquiry.bank).id if inquiry.bank else None
    center = ref.center()
    reasons = Reasons()

    matches = _needs_of(inquiry, ref, reasons)
    needs = [m.need for m in matches]
    field_id = _field_of(inquiry, ref, reasons)
    clause, lead = _handling(receiver, matches, bool(inquiry.needs), own_bank, ref, reasons)
    coordinator = None if clause.endswith("a") else center.id
    supporting = _supporting(matches, lead, receiver.id, own_bank, ref, reasons)
    regional = _regional(town.subprefecture, field_id, needs, inquiry.text, {lead, *supporting}, ref, reasons)
    academia = _academia(matches, town.subprefecture, field_id, ref, reasons)
    external = _external(matches, ref, reasons)
    team = _team(needs, inquiry.referrals, [center.id, lead, *supporting, *regional[:1], *academia[:1], *external],
                 ref, reasons)  # fmt: skip
    if team:
        coordinator = center.id
    fit = _plan(field_id, town.name, ref, reasons)
    return Routing(
        case_id=inquiry.case_id, received_by=receiver.id, municipality=town.name,
        subprefecture=town.subprefecture, field=field_id, clause=clause, lead=lead, coordinator=coordinator,
        supporting=tuple(supporting), regional=tuple(regional), academia=tuple(academia),
        external=tuple(external), team=tuple(team), plan_fit=fit, needs=tuple(matches), reasons=tuple(reasons),
    )  # fmt: skip


def _needs_of(inquiry: Inquiry, ref: Reference, reasons: Reasons) -> list[NeedMatch]:
    """The needs: as given by staff (in their order), else as recognised in the text."""
    title = inquiry.title if inquiry.title is not None else _first_line(inquiry.text)
    recognised = {m.need: m for m in recognise_needs(inquiry.text, ref, title)}
    if inquiry.needs:
        given = [_need_id(n) for n in inquiry.needs]
        matches = [NeedMatch(n, recognised[n].matched if n in recognised else ()) for n in dict.fromkeys(given)]
    else:
        matches = list(recognised.values())
    for match in matches:
        if match.matched:
            reasons.say("", "routing.need_words", need=_need(match.need), words=_quoted(match.matched))
        else:
            reasons.say("", "routing.need_given", need=_need(match.need))
    if not matches:
        reasons.say("3(2)②ア", "routing.no_needs")
    return matches


def _field_of(inquiry: Inquiry, ref: Reference, reasons: Reasons) -> str:
    """The case's field: as given (id or name), else the field whose words the text uses most."""
    if inquiry.field is not None:
        by_name = {ref.field_name(f): f for f in CASE_FIELDS}
        if inquiry.field not in CASE_FIELDS and inquiry.field not in by_name:
            raise InputError(t("routing.bad_field", value=inquiry.field, choices=", ".join(CASE_FIELDS)))
        return by_name.get(inquiry.field, inquiry.field)
    field_id = _suggest_field(inquiry.text, ref)
    words = field_words(inquiry.text, field_id, ref)
    if words:
        reasons.say("1(1)", "routing.field_suggested", field=ref.field_name(field_id), words=_quoted(words))
    else:
        reasons.say("1(1)", "routing.field_unknown")
    return field_id


def _handling(receiver: Institution, matches: list[NeedMatch], given: bool, own_bank: str | None,
              ref: Reference, reasons: Reasons) -> tuple[str, str]:  # fmt: skip
    """イa/イb/ウa/ウb and the lead (3(2)②, 1(3))."""
    rules = _rules(ref)
    center = ref.center()
    needs = [m.need for m in matches]
    letter = "イ" if receiver.id == center.id else "ウ"
    keeps = covers(receiver, needs)
    clause = letter + ("a" if keeps or (not needs and letter == "イ") else "b")
    values = {
        "receiver": receiver.short_name, "center": center_text(ref), "needs": needs_text(needs),
        "competences": needs_text(receiver.competences),
        "missing": needs_text([n for n in needs if n not in receiver.competences]),
    }  # fmt: skip
    if keeps:
        key = "routing.clause_ia" if letter == "イ" else "routing.clause_ua"
    elif not needs:
        key = "routing.clause_ia_none" if letter == "イ" else "routing.clause_ub_none"
    else:
        key = "routing.clause_ib" if letter == "イ" else "routing.clause_ub"
    like_u = t("routing.like_u", receiver=receiver.short_name) if letter == "ウ" and receiver.kind != "support" else ""
    reasons.append(Reason(f"3(2)②{clause}", t(key, **values) + like_u))
    if keeps:
        return clause, receiver.id
    if not needs:
        return clause, center.id
    main = matches[0]
    kind = kind_of(main.need, rules)
    lead, why = choose(kind.institutions, own_bank, receiver.id)
    external = main.need in rules.external_needs
    reasons.say("1(3)・1(4)" if external else "1(3)", "routing.lead_external" if external else "routing.lead",
                lead=ref.short_name(lead), need=_need(main.need), words=_main_words(main, given),
                role=_role(kind.id, ref.institutions[lead]))  # fmt: skip
    _say_choice(reasons, why, lead, kind.institutions, ref)
    return clause, lead


def _supporting(matches: list[NeedMatch], lead: str, receiver: str, own_bank: str | None,
                ref: Reference, reasons: Reasons) -> list[str]:  # fmt: skip
    """The role institutions (1(3)) of the needs the lead does not cover."""
    rules = _rules(ref)
    lead_inst = ref.institutions[lead]
    supporting: list[str] = []
    for match in matches:
        if match.need in lead_inst.competences:
            continue
        kind = kind_of(match.need, rules)
        ident, why = choose(kind.institutions, own_bank, receiver)
        if ident == lead or ident in supporting:
            continue
        supporting.append(ident)
        external = match.need in rules.external_needs
        clause, key = ("1(3)・1(4)", "routing.supporting_external") if external else ("1(3)", "routing.supporting")
        reasons.say(clause, key, name=ref.short_name(ident), need=_need(match.need), words=_words(match.matched),
                    role=_role(kind.id, ref.institutions[ident]))  # fmt: skip
        _say_choice(reasons, why, ident, kind.institutions, ref)
    return supporting


def _regional(sub: str, field_id: str, needs: list[str], text: str, taken: set[str],
              ref: Reference, reasons: Reasons) -> list[str]:  # fmt: skip
    """The network bodies serving the company's 振興局 that best match (1(2))."""
    serving = [i for i in ref.institutions.values() if i.kind == "network" and sub in i.area]
    bodies = regional_bodies(ref, sub, field_id, needs, text, taken)
    for inst, words, covered in bodies:
        key = "routing." + ("regional_both" if words and covered else "regional_words" if words else "regional_covers")
        reasons.say("1(2)", key, name=inst.short_name, sub=sub, words=_quoted(words), needs=needs_text(covered))
    if not serving:
        reasons.say("1(2)", "routing.regional_none_area", sub=sub)
    elif not bodies and not any(i.id in taken for i in serving):
        reasons.say("1(2)", "routing.regional_none_match", sub=sub, names="、".join(i.short_name for i in serving))
    return [inst.id for inst, _, _ in bodies]


def _academia(matches: list[NeedMatch], sub: str, field_id: str, ref: Reference, reasons: Reasons) -> list[str]:
    """Universities in or near the area, when the need is research (1(2)【学との連携】)."""
    research = [m for m in matches if m.need in _rules(ref).academia_needs]
    if not research:
        return []
    found = universities(ref, sub, field_id)
    for inst, where in found:
        reasons.say("1(2)", f"routing.academia_{where}", name=inst.short_name, sub=sub,
                    need=_need(research[0].need), words=_words(research[0].matched))  # fmt: skip
    return [inst.id for inst, _ in found]


def _external(matches: list[NeedMatch], ref: Reference, reasons: Reasons) -> list[str]:
    """産総研 and/or JST for life science and advanced electronics (1(4))."""
    rules = _rules(ref)
    outside = [m for m in matches if m.need in rules.external_needs]
    if not outside:
        return []
    trigger = outside[0]
    chosen: list[str] = []
    for body in rules.external_bodies:
        also = [m for m in matches if m.need in body.with_needs]
        if body.with_needs and not also:
            continue
        chosen.append(body.id)
        values = {"name": ref.short_name(body.id), "need": _need(trigger.need), "words": _words(trigger.matched)}
        if also:
            reasons.say("1(4)", "routing.external_with", other=_need(also[0].need),
                        other_words=_words(also[0].matched), **values)  # fmt: skip
        else:
            reasons.say("1(4)", "routing.external", **values)
    return chosen


def _team(needs: list[str], referrals: int, candidates: list[str], ref: Reference, reasons: Reasons) -> list[str]:
    """A 産学官金 team coordinated by the センター (エ): many kinds of help, or passed on too often."""
    rules = _rules(ref)
    kinds = list(dict.fromkeys(kind_of(n, rules).id for n in needs))
    if len(kinds) < rules.team_min_kinds and referrals < rules.team_after_referrals:
        return []
    team = list(dict.fromkeys(candidates))
    names = "、".join(ref.short_name(i) for i in team)
    if len(kinds) >= rules.team_min_kinds:
        kinds_text = "、".join(_kind(k) for k in kinds)
        reasons.say("3(2)②エ", "routing.team_kinds", n=len(kinds), kinds=kinds_text, members=names)
    else:
        reasons.say("3(2)②エ", "routing.team_referrals", n=referrals, members=names)
    return team


def _plan(field_id: str, municipality: str, ref: Reference, reasons: Reasons) -> PlanFit:
    """Whether the municipality has a basic plan whose strategies include the field (1(1), 別紙)."""
    fit = basic_plan_fit(field_id, municipality, ref)
    names = "、".join(ref.plans[p].name for p in fit.plans)
    if not fit.plans:
        reasons.say("1(1)・別紙", "routing.plan_none", municipality=municipality)
    elif field_id == "other":
        reasons.say("1(1)・別紙", "routing.plan_other_field", municipality=municipality, plans=names)
    elif fit.fits and fit.plan is not None:
        reasons.say("1(1)・別紙", "routing.plan_fits", municipality=municipality, plan=ref.plans[fit.plan].name,
                    strategy=fit.strategy)  # fmt: skip
    else:
        reasons.say("1(1)・別紙", "routing.plan_mismatch", municipality=municipality, plans=names,
                    field=ref.field_name(field_id))  # fmt: skip
    return fit


def route_case(case: Case, ref: Reference) -> Routing:
    """The suggestion for a logged case: its own needs, bank and history of referrals."""
    text = f"{case.title}\n{case.summary}"
    recognised = [m.need for m in recognise_needs(text, ref, case.title)]
    # Needs that are exactly what the text says were recognised at logging: route them as such
    # (words and order from the text); anything else was chosen by staff and keeps its order.
    given = () if set(case.needs) == set(recognised) else tuple(case.needs)
    inquiry = Inquiry(
        text=text, municipality=case.company.municipality, received_by=case.received_by,
        title=case.title, field=case.field, needs=given, bank=case.company.bank,
        referrals=referrals_without_start(case, ref), case_id=case.id,
    )  # fmt: skip
    return route(inquiry, ref)


def referrals_without_start(case: Case, ref: Reference) -> int:
    """How often the case was passed on without support starting (reports to the センター aside)."""
    if start_event(case) is not None:
        return 0
    center = ref.center().id
    return sum(1 for e in counted_events(case) if e.type == "referred" and e.to != center)


# --- recording the suggestion ---------------------------------------------------------------------


def routing_events(case: Case, routing: Routing, ref: Reference, on: date, today: date) -> list[Event]:
    """The events that record a suggestion, already checked against the case's rules.

    ウb: the receiver reports to the センター (a referral to it); the センター then refers the case
    to the lead unless the lead is the receiver or the センター itself. イb: the センター refers it to
    the lead. イa / ウa: nothing, the receiver handles it. A suggested team is a ``team_formed``
    event by the センター (after a report from a receiver that is not the センター). Events already
    in the history (same referral, same team) are not recorded twice; a CaseRuleError says which
    rule an event would break (a closed case, a date before the inquiry, …).
    """
    center = ref.center().id
    planned: list[Event] = []
    receiver = case.received_by
    # A receiver that keeps the case only reports it to the センター for a team (エ).
    clause = routing.clause if routing.clause.endswith("b") else "エ"
    if routing.coordinator and receiver != center:
        planned.append(Event(type="referred", date=on, by=receiver, to=center,
                             note=t("routing.note_report", clause=clause)))  # fmt: skip
    arranger = center if routing.coordinator else receiver
    if routing.lead not in (receiver, arranger):
        planned.append(Event(type="referred", date=on, by=arranger, to=routing.lead,
                             note=t("routing.note_arranged", clause=clause)))  # fmt: skip
    if routing.team:
        planned.append(Event(type="team_formed", date=on, by=center, members=list(routing.team),
                             note=t("routing.note_team")))  # fmt: skip
    events = [e for e in planned if not _already(case, e)]
    checked = case
    for event in events:
        checked = add_event(checked, event, ref, today)
    return events


def _already(case: Case, event: Event) -> bool:
    for old in counted_events(case):
        if old.type != event.type:
            continue
        if event.type == "referred" and (old.by, old.to) == (event.by, event.to):
            return True
        if event.type == "team_formed" and set(old.members) == set(event.members):
            return True
    return False


# --- wording helpers ------------------------------------------------------------------------------


def _need_id(value: str) -> str:
    """A need given by id (``technical``) or by its display name (``工業技術``)."""
    if value in COMPETENCES:
        return value
    for need in COMPETENCES:
        if value in (label("competence", need), catalogue("ja").get(f"competence.{need}")):
            return need
    raise InputError(t("routing.bad_need", value=value, choices=", ".join(COMPETENCES)))


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] if len(lines) > 1 else ""


def _suggest_field(text: str, ref: Reference) -> str:
    from kitamono.cases import suggest_field

    return suggest_field(unicodedata.normalize("NFKC", text), ref) if text else "other"


def _need(need: str) -> str:
    return label("competence", need)


def needs_text(needs: Sequence[str]) -> str:
    """Needs as people read them: their labels, joined."""
    return t("routing.sep").join(_need(n) for n in needs)


def _quoted(words: Sequence[str]) -> str:
    return "".join(f"「{w}」" for w in words)


def _words(words: Sequence[str]) -> str:
    """``（文面の「殺菌」「品質」）`` or nothing when staff gave the need."""
    return t("routing.words", words=_quoted(words)) if words else ""


def _main_words(match: NeedMatch, given: bool) -> str:
    """Why a need is the main one: named first by staff, the head of the title, or first in the text."""
    if given:
        return t("routing.main_given")
    if match.title_word:
        return t("routing.main_title", word=match.title_word)
    return t("routing.main_first", word=match.matched[0]) if match.matched else ""


def center_text(ref: Reference) -> str:
    """The center as people name it: its short name and its one-stop window."""
    center = ref.center()
    return t("routing.center", name=center.short_name, window=center.one_stop_window or "")


def _kind(kind_id: str) -> str:
    key = f"routing.kind.{kind_id}"
    return t(key) if key in catalogue(lang()) or key in catalogue("ja") else kind_id


def _role(kind_id: str, inst: Institution) -> str:
    """The role the plan gives (1(3)), in its own words; the competences when none is worded."""
    key = f"routing.role.{kind_id}"
    if key in catalogue(lang()) or key in catalogue("ja"):
        return t(key)
    return needs_text(inst.competences)


def _say_choice(reasons: Reasons, why: str, chosen: str, candidates: Sequence[str], ref: Reference) -> None:
    if why == "only":
        return
    others = "、".join(ref.short_name(i) for i in candidates if i != chosen)
    reasons.say("1(3)", f"routing.choice_{why}", name=ref.short_name(chosen), others=others)
