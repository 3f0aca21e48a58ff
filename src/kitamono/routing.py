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

1. Needs: given by staff (the first is the main need), or read from what the text asks for
   (longest vocabulary word wins; a part of the text that only describes the business, such as
   「プレス加工をしています」, is not read; the main need is the last one named in the title, else
   the first mentioned). No need recognised: the センター sorts it out (ア).
2. Handling: the receiving institution keeps the case when its competences cover every need
   (イa when it is the センター, ウa otherwise — network bodies and others are treated like ウ);
   otherwise the センター coordinates (イb / ウb).
3. Lead: the receiver when it keeps it; the センター when no need is known; a regional specialist
   (a network body serving the company's municipality, whose competences cover the main need and
   whose strengths the text names) when the センター arranges it, even where the センター itself
   could (イb); for a subsidy, the body whose programmes fit (``subsidies``); else the institution
   whose role (1(3)) covers the main need's kind of help (of several: the company's own bank, else
   the receiver, else the first). Supporting: a regional specialist when the receiver keeps the
   case, the receiving support institution for the needs its role covers, and the role
   institutions of the needs the lead does not cover.
4. Regional bodies (1(2)), universities and 高専 (1(2)【学との連携】), 産総研/JST (1(4)), the
   government body of a national programme (1(4)・1(6)), and the fit with the municipality's basic
   plan (1(1), 別紙: a strategy line's field, or its own words in the text).
5. A 産学官金 team (エ) only as an escalation: referred or reported ``team.after_days`` days ago
   without support starting, or asked for by staff; 産 the company, 学 a university or 高専, 官 a
   public body, 金 a bank, the センター coordinating.

``routing_events`` turns a suggestion into the events that record it (``route --apply``);
``kitamono.reports.suggestion`` lays it out for people.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from kitamono.cases import (
    PlanFit,
    add_event,
    basic_plan_fit,
    case_text,
    counted_events,
    field_guess,
    start_event,
    status,
)
from kitamono.errors import DataError, InputError
from kitamono.i18n import catalogue, label, lang, t
from kitamono.models import (
    CASE_FIELDS,
    COMPETENCES,
    SUBPREFECTURES,
    Case,
    Event,
    Institution,
    KindOfHelp,
    Municipality,
    RoutingRules,
    SubsidyProgramme,
)
from kitamono.reference import Reference

#: Hokkaido's four broad regions: words that name where a body is, not what it is good at.
BROAD_REGIONS = ("道北", "道南", "道央", "道東")


@dataclass(frozen=True)
class Waiting:
    """The first referral (or report to the センター) of a case whose support has not started."""

    since: date
    by: str
    to: str
    days: int  # from ``since`` to today


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
    case_id: str | None = None
    company: str | None = None  # the company's name (産 of a team)
    waiting: Waiting | None = None  # referred without support starting (a logged case)
    team_asked: bool = False  # staff ask for a 産学官金 team (route --team)


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
class TeamRoles:
    """Who fills each letter of a 産学官金 team (institution ids; 産 is the company's name)."""

    industry: str | None
    academia: str
    government: str
    finance: str
    coordinator: str


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
    government: tuple[str, ...] = ()  # government bodies named (the 経済産業局 for national programmes)
    team_roles: TeamRoles | None = None


# --- recognising needs ----------------------------------------------------------------------------


def _norm(text: str) -> str:
    """Full-width letters and digits made half-width, letters case-folded: ＩｏＴ and iot are IoT."""
    return unicodedata.normalize("NFKC", text).casefold()


#: Where a text breaks into the parts that ask or describe: sentences and 読点.
_BREAKS = "。．！？!?\n、，,"


def described_parts(text: str, ref: Reference) -> list[tuple[int, int]]:
    """The (start, end) of each part of the normalised text that describes the business and asks
    nothing: no word of ``asking`` and a word of ``describing`` (routing.yaml)."""
    rules = ref.routing
    if rules is None or not rules.describing:
        return []
    haystack = _norm(text)
    asking = [_norm(w) for w in rules.asking]
    describing = [_norm(w) for w in rules.describing]
    parts: list[tuple[int, int]] = []
    start = 0
    for end in [i for i, ch in enumerate(haystack) if ch in _BREAKS] + [len(haystack)]:
        part = haystack[start:end]
        if any(w in part for w in describing) and not any(w in part for w in asking):
            parts.append((start, end))
        start = end + 1
    return parts


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


def read_needs(text: str, ref: Reference, title: str = "") -> tuple[list[NeedMatch], list[tuple[str, str]]]:
    """The needs the text asks for (see ``recognise_needs``), and the need words left unread
    because they stand in a part that only describes the business, as (word, that part)."""
    hits = _hits(text, ref)
    described = described_parts(text, ref)
    haystack = _norm(text)
    asked = [h for h in hits if not any(a <= h[0] < b for a, b in described)]
    ignored = [(h[2], text[a:b] if len(text) == len(haystack) else haystack[a:b])
               for h in hits if h not in asked for a, b in described if a <= h[0] < b]  # fmt: skip
    first: dict[str, int] = {}
    words: dict[str, list[str]] = {}
    for start, _, word, need in asked:
        first.setdefault(need, start)
        if word not in words.setdefault(need, []):
            words[need].append(word)
    order = list(ref.needs_vocabulary)
    ranked = sorted(first, key=lambda need: (first[need], order.index(need)))
    at = haystack.find(_norm(title)) if title.strip() else -1
    head = at + len(_norm(title)) if at >= 0 else 0
    in_title = [h for h in asked if h[1] <= head]
    if not in_title:
        return [NeedMatch(need, tuple(words[need])) for need in ranked], ignored
    _, _, word, main = in_title[-1]
    ranked.remove(main)
    matches = [NeedMatch(main, tuple(words[main]), word)] + [NeedMatch(n, tuple(words[n])) for n in ranked]
    return matches, ignored


def recognise_needs(text: str, ref: Reference, title: str = "") -> list[NeedMatch]:
    """The needs whose words appear in ``text``: the main need first, then in order of mention.

    Substring matching (Japanese has no spaces), where a longer word wins over the words inside
    it: 「成分分析」 is testing, and its 「分析」 (technical) is not counted; the phrases of
    ``not_needs`` in routing.yaml win the same way but stand for no need. Needs come from what
    the text asks for: a part (sentence or clause) with a ``describing`` word and no ``asking``
    word describes the business, and its words are not read (「プレス加工をしています。設備資金を
    借りたい」 asks for finance only).

    The main need is the last need named in ``title`` (the start of ``text``): a Japanese title
    ends on what it is about (冷凍設備の更新資金 → 資金). With no need in the title, the first need
    mentioned is the main one.
    """
    return read_needs(text, ref, title)[0]


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


def serves(inst: Institution, town: Municipality, ref: Reference) -> str | None:
    """The place by which a body's area covers a municipality (its name, or its 振興局), or None.

    An area may name municipalities as well as 振興局: where it names some municipalities of a
    振興局, only those count for that 振興局 (the narrower one wins).
    """
    towns = [a for a in inst.area if a in ref.municipalities]
    if town.name in towns:
        return town.name
    narrowed = any(ref.municipalities[name].subprefecture == town.subprefecture for name in towns)
    return town.subprefecture if town.subprefecture in inst.area and not narrowed else None


def regional_bodies(
    ref: Reference, town: Municipality, field_id: str, needs: Sequence[str], text: str, exclude: set[str]
) -> list[tuple[Institution, list[str], list[str], str]]:
    """Network bodies serving the municipality, with the strength words and competences that match
    and the place by which they serve it.

    A body matches when its fields include the case's field and the text names one of its
    strengths or it covers one of the needs; the best match comes first, then any other body whose
    strength the text names, up to ``regional_limit``.
    """
    rules = _rules(ref)
    scored = []
    for index, inst in enumerate(ref.institutions.values()):
        place = serves(inst, town, ref) if inst.kind == "network" else None
        if place is None or inst.id in exclude or not _field_fits(inst, field_id):
            continue
        words = _strengths(inst, text, ref)
        covered: list[str] = [n for n in needs if n in inst.competences]
        if words or covered:
            scored.append((-(len(words) + len(covered)), index, inst, words, covered, place))
    scored.sort(key=lambda item: item[:2])
    chosen = [item for rank, item in enumerate(scored) if rank == 0 or item[3]][: rules.regional_limit]
    return [(inst, words, covered, place) for _, _, inst, words, covered, place in chosen]


def _field_fits(inst: Institution, field_id: str) -> bool:
    return field_id == "other" or not inst.fields or field_id in inst.fields


def _strengths(inst: Institution, text: str, ref: Reference) -> list[str]:
    """The body's strength words (keywords that are not place names) that the text names."""
    haystack = _norm(text)
    return [w for w in inst.keywords if _norm(w) in haystack and not _is_place(w, ref)]


def specialist(ref: Reference, town: Municipality, field_id: str, main: str | None, text: str,
               receiver: str) -> tuple[Institution, list[str], str] | None:  # fmt: skip
    """The regional specialist for the main need: a network body serving the municipality, of the
    case's field, whose competences include the main need and whose strengths the text names (most
    strength words first, then data order). None when no body fits or the receiver is one."""
    if main is None:
        return None
    found = []
    for index, inst in enumerate(ref.institutions.values()):
        place = serves(inst, town, ref) if inst.kind == "network" else None
        if place is None or main not in inst.competences or not _field_fits(inst, field_id):
            continue
        words = _strengths(inst, text, ref)
        if words:
            found.append((-len(words), index, inst, words, place))
    if not found:
        return None
    _, _, inst, words, place = min(found, key=lambda item: item[:2])
    return None if inst.id == receiver else (inst, words, place)


def _is_place(word: str, ref: Reference) -> bool:
    if word in BROAD_REGIONS or any(sub in word for sub in SUBPREFECTURES):
        return True
    return any(word + suffix in ref.municipalities for suffix in ("", "市", "町", "村"))


def universities(ref: Reference, subprefecture: str, field_id: str) -> list[tuple[Institution, str]]:
    """Universities and 高専 in the 振興局 (else in neighbouring ones), then those serving all Hokkaido."""
    rules = _rules(ref)
    near = rules.nearby.get(subprefecture, [])
    found: list[tuple[int, int, Institution, str]] = []
    for index, inst in enumerate(ref.institutions.values()):
        if inst.kind != "academia" or not _field_fits(inst, field_id):
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


def subsidy_programme(
    matches: Sequence[NeedMatch], text: str, ref: Reference
) -> tuple[SubsidyProgramme, list[str]] | None:
    """The subsidy programme an inquiry points to, and the words that name it (routing.yaml
    ``subsidies``: named by a word, else by another need, else the default)."""
    rules = _rules(ref)
    if not rules.subsidies or not any(m.need == "subsidy" for m in matches):
        return None
    haystack = _norm(text)
    for programme in rules.subsidies:
        found = [w for w in programme.words if _norm(w) in haystack]
        words = [w for w in found if not any(w != o and _norm(w) in _norm(o) for o in found)]
        if words:
            return programme, words
    needs = {m.need for m in matches}
    for programme in rules.subsidies:
        if needs & set(programme.with_needs):
            return programme, []
    return next(p for p in rules.subsidies if p.default), []


# --- routing --------------------------------------------------------------------------------------


class Reasons(list):
    """The reason lines of a suggestion, in the order the decisions are taken."""

    def say(self, clause: str, key: str, **values: object) -> None:
        self.append(Reason(clause, t(key, **values)))


@dataclass
class _Context:
    """What the decisions of one inquiry share."""

    ref: Reference
    receiver: Institution
    town: Municipality
    own_bank: str | None
    text: str
    matches: list[NeedMatch]
    given: bool
    field: str
    reasons: Reasons
    specialist: tuple[Institution, list[str], str] | None = None
    programme: tuple[SubsidyProgramme, list[str]] | None = None

    @property
    def needs(self) -> list[str]:
        return [m.need for m in self.matches]


def route(inquiry: Inquiry, ref: Reference) -> Routing:
    """The suggestion for an inquiry; an unknown municipality, institution, field or need is an InputError."""
    _rules(ref)  # no routing rules: a DataError before anything else is looked up
    receiver = ref.institution(inquiry.received_by)
    town = ref.municipality(inquiry.municipality)
    own_bank = ref.institution(inquiry.bank).id if inquiry.bank else None
    center = ref.center()
    reasons = Reasons()

    matches = _needs_of(inquiry, ref, reasons)
    field_id = _field_of(inquiry, ref, reasons)
    ctx = _Context(ref, receiver, town, own_bank, inquiry.text, matches, bool(inquiry.needs), field_id, reasons)
    ctx.specialist = specialist(ref, town, field_id, matches[0].need if matches else None, inquiry.text,
                                receiver.id)  # fmt: skip
    ctx.programme = subsidy_programme(matches, inquiry.text, ref)
    clause, lead = _handling(ctx)
    coordinator = None if clause.endswith("a") else center.id
    supporting = _supporting(ctx, lead)
    regional = _regional(ctx, {lead, *supporting})
    academia = _academia(ctx)
    external = _external(ctx)
    government = _government(ctx)
    team, roles = _team(inquiry, ctx, lead, supporting, regional, academia, government)
    if team:
        coordinator = center.id
    fit = _plan(ctx)
    return Routing(
        case_id=inquiry.case_id, received_by=receiver.id, municipality=town.name,
        subprefecture=town.subprefecture, field=field_id, clause=clause, lead=lead, coordinator=coordinator,
        supporting=tuple(supporting), regional=tuple(regional), academia=tuple(academia),
        external=tuple(external), team=tuple(team), plan_fit=fit, needs=tuple(matches), reasons=tuple(reasons),
        government=tuple(government), team_roles=roles,
    )  # fmt: skip


def _needs_of(inquiry: Inquiry, ref: Reference, reasons: Reasons) -> list[NeedMatch]:
    """The needs: as given by staff (in their order), else as recognised in what the text asks."""
    title = inquiry.title if inquiry.title is not None else _first_line(inquiry.text)
    found, ignored = read_needs(inquiry.text, ref, title)
    recognised = {m.need: m for m in found}
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
    if ignored and not inquiry.needs:
        parts = list(dict.fromkeys(part.strip() for _, part in ignored))
        reasons.say("", "routing.need_described", words=_quoted(list(dict.fromkeys(w for w, _ in ignored))),
                    parts=_quoted(parts))  # fmt: skip
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
    text = unicodedata.normalize("NFKC", inquiry.text)
    title = inquiry.title if inquiry.title is not None else None
    guess = field_guess(text, ref, title) if text else None
    if guess is None or guess.field == "other":
        reasons.say("1(1)", "routing.field_unknown")
        return "other"
    words = guess.words[guess.field]
    reasons.say("1(1)", "routing.field_suggested", field=ref.field_name(guess.field), words=_quoted(words))
    if guess.tie is not None:
        chosen, other = guess.tie
        key = "routing.field_tie_title" if guess.by_title else "routing.field_tie_count"
        reasons.say("1(1)", key, field=ref.field_name(chosen), other=ref.field_name(other),
                    words=_quoted(guess.words[chosen]), other_words=_quoted(guess.words[other]))  # fmt: skip
    return guess.field


def _handling(ctx: _Context) -> tuple[str, str]:
    """イa/イb/ウa/ウb and the lead (3(2)②, 1(3))."""
    ref, receiver, reasons = ctx.ref, ctx.receiver, ctx.reasons
    rules = _rules(ref)
    center = ref.center()
    needs = ctx.needs
    letter = "イ" if receiver.id == center.id else "ウ"
    keeps = covers(receiver, needs)
    # The センター arranges for a regional specialist even where it could handle the case itself.
    arranged = keeps and letter == "イ" and ctx.specialist is not None
    clause = letter + ("a" if (keeps and not arranged) or (not needs and letter == "イ") else "b")
    values = {
        "receiver": receiver.short_name, "center": center_text(ref), "needs": needs_text(needs),
        "competences": needs_text(receiver.competences),
        "missing": needs_text([n for n in needs if n not in receiver.competences]),
    }  # fmt: skip
    if arranged:
        key = "routing.clause_ib_specialist"
    elif keeps:
        key = "routing.clause_ia" if letter == "イ" else "routing.clause_ua"
    elif not needs:
        key = "routing.clause_ia_none" if letter == "イ" else "routing.clause_ub_none"
    else:
        key = "routing.clause_ib" if letter == "イ" else "routing.clause_ub"
    like_u = t("routing.like_u", receiver=receiver.short_name) if letter == "ウ" and receiver.kind != "support" else ""
    reasons.append(Reason(f"3(2)②{clause}", t(key, **values) + like_u))
    if keeps and not arranged:
        return clause, receiver.id
    if not needs:
        return clause, center.id
    main = ctx.matches[0]
    if ctx.specialist is not None:
        inst, words, place = ctx.specialist
        reasons.say(f"3(2)②{clause}・1(2)", "routing.lead_specialist", name=inst.short_name, place=place,
                    need=_need(main.need), words=_quoted(words))  # fmt: skip
        return clause, inst.id
    if main.need == "subsidy" and ctx.programme is not None:
        programme, words = ctx.programme
        _say_subsidy(ctx, "routing.lead_subsidy", programme, words, main)
        return clause, programme.lead
    kind = kind_of(main.need, rules)
    lead, why = choose(kind.institutions, ctx.own_bank, receiver.id)
    external = main.need in rules.external_needs
    reasons.say("1(3)・1(4)" if external else "1(3)", "routing.lead_external" if external else "routing.lead",
                lead=ref.short_name(lead), need=_need(main.need), words=_main_words(main, ctx.given),
                role=_role(ref.institutions[lead], ref))  # fmt: skip
    _say_choice(reasons, why, lead, kind.institutions, ref)
    return clause, lead


def _say_subsidy(ctx: _Context, key: str, programme: SubsidyProgramme, words: list[str], match: NeedMatch) -> None:
    """Why a subsidy goes to a body: the programme's own words, not a loan (3(1), 1(4), 1(6))."""
    ref = ctx.ref
    which = f"routing.subsidy.{programme.id}"
    about = t(which) if which in catalogue(lang()) or which in catalogue("ja") else programme.id
    named = t("routing.subsidy_words", words=_quoted(words)) if words else ""
    ctx.reasons.say("3(1)・1(6)", key, name=ref.short_name(programme.lead), need=_need(match.need),
                    words=_main_words(match, ctx.given) if key == "routing.lead_subsidy" else _words(match.matched),
                    programme=about, named=named)  # fmt: skip


def _supporting(ctx: _Context, lead: str) -> list[str]:
    """A regional specialist where the receiver keeps the case, the receiving support institution
    for the needs its role covers, and the role institutions (1(3)) of the needs the lead does not cover."""
    ref, reasons, receiver = ctx.ref, ctx.reasons, ctx.receiver
    rules = _rules(ref)
    lead_inst = ref.institutions[lead]
    supporting: list[str] = []
    if ctx.specialist is not None and ctx.specialist[0].id != lead:
        inst, words, place = ctx.specialist
        supporting.append(inst.id)
        reasons.say("1(2)", "routing.supporting_specialist", name=inst.short_name, place=place,
                    need=_need(ctx.matches[0].need), words=_quoted(words), receiver=receiver.short_name)  # fmt: skip
    own = [n for n in ctx.needs if n in receiver.competences]
    if receiver.kind == "support" and receiver.id not in (lead, ref.center().id) and own:
        supporting.append(receiver.id)
        reasons.say("1(3)", "routing.supporting_receiver", name=receiver.short_name, needs=needs_text(own),
                    role=_role(receiver, ref))  # fmt: skip
    for match in ctx.matches:
        if match.need in lead_inst.competences:
            continue
        if match.need == "subsidy" and ctx.programme is not None:
            programme, words = ctx.programme
            if programme.lead != lead and programme.lead not in supporting:
                supporting.append(programme.lead)
                _say_subsidy(ctx, "routing.supporting_subsidy", programme, words, match)
            continue
        kind = kind_of(match.need, rules)
        ident, why = choose(kind.institutions, ctx.own_bank, receiver.id)
        if ident == lead or ident in supporting:
            continue
        supporting.append(ident)
        external = match.need in rules.external_needs
        clause, key = ("1(3)・1(4)", "routing.supporting_external") if external else ("1(3)", "routing.supporting")
        reasons.say(clause, key, name=ref.short_name(ident), need=_need(match.need), words=_words(match.matched),
                    role=_role(ref.institutions[ident], ref))  # fmt: skip
        _say_choice(reasons, why, ident, kind.institutions, ref)
    return supporting


def _regional(ctx: _Context, taken: set[str]) -> list[str]:
    """The network bodies serving the company's municipality that best match (1(2))."""
    ref, town, reasons = ctx.ref, ctx.town, ctx.reasons
    serving = [i for i in ref.institutions.values() if i.kind == "network" and serves(i, town, ref)]
    bodies = regional_bodies(ref, town, ctx.field, ctx.needs, ctx.text, taken)
    for inst, words, covered, place in bodies:
        key = "routing." + ("regional_both" if words and covered else "regional_words" if words else "regional_covers")
        reasons.say("1(2)", key, name=inst.short_name, sub=place, words=_quoted(words), needs=needs_text(covered))
    if not serving:
        reasons.say("1(2)", "routing.regional_none_area", sub=_place_of(town))
    elif not bodies and not any(i.id in taken for i in serving):
        reasons.say("1(2)", "routing.regional_none_match", sub=_place_of(town),
                    names="、".join(i.short_name for i in serving))  # fmt: skip
    return [inst.id for inst, _, _, _ in bodies]


def _place_of(town: Municipality) -> str:
    return f"{town.name}({town.subprefecture})"


def _academia(ctx: _Context) -> list[str]:
    """Universities and 高専 in or near the area, when the need is research (1(2)【学との連携】)."""
    research = [m for m in ctx.matches if m.need in _rules(ctx.ref).academia_needs]
    if not research:
        return []
    sub = ctx.town.subprefecture
    found = universities(ctx.ref, sub, ctx.field)
    for inst, where in found:
        ctx.reasons.say("1(2)", f"routing.academia_{where}", name=inst.short_name, sub=sub,
                        need=_need(research[0].need), words=_words(research[0].matched))  # fmt: skip
    return [inst.id for inst, _ in found]


def _external(ctx: _Context) -> list[str]:
    """産総研 and/or JST for life science and advanced electronics (1(4))."""
    rules = _rules(ctx.ref)
    matches = ctx.matches
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
        values = {"name": ctx.ref.short_name(body.id), "need": _need(trigger.need), "words": _words(trigger.matched)}
        if also:
            ctx.reasons.say("1(4)", "routing.external_with", other=_need(also[0].need),
                            other_words=_words(also[0].matched), **values)  # fmt: skip
        else:
            ctx.reasons.say("1(4)", "routing.external", **values)
    return chosen


def _government(ctx: _Context) -> list[str]:
    """The government bodies a subsidy programme names (the 経済産業局 for national programmes)."""
    if ctx.programme is None:
        return []
    programme, words = ctx.programme
    for ident in programme.named:
        ctx.reasons.say("1(4)・1(6)", "routing.government_named", name=ctx.ref.short_name(ident),
                        lead=ctx.ref.short_name(programme.lead), words=_quoted(words))  # fmt: skip
    return list(programme.named)


def _team(inquiry: Inquiry, ctx: _Context, lead: str, supporting: list[str], regional: list[str],
          academia: list[str], government: list[str]) -> tuple[list[str], TeamRoles | None]:  # fmt: skip
    """A 産学官金 team coordinated by the センター (エ), only where イ/ウ did not work: referred
    ``team.after_days`` days ago without support starting, or asked for by staff."""
    ref, reasons = ctx.ref, ctx.reasons
    rules = _rules(ref).team
    waiting = inquiry.waiting
    due = waiting is not None and waiting.days >= rules.after_days
    if not due and not inquiry.team_asked:
        if waiting is not None:
            reasons.say("3(2)②エ", "routing.team_not_yet", days=waiting.days, limit=rules.after_days,
                        date=waiting.since.isoformat())  # fmt: skip
        return [], None
    center = ref.center().id
    if inquiry.team_asked:
        reasons.say("3(2)②エ", "routing.team_asked")
    if due and waiting is not None:
        to = ref.short_name(waiting.to)
        key = "routing.team_waiting_report" if waiting.to == center else "routing.team_waiting_referral"
        reasons.say("3(2)②エ", key, date=waiting.since.isoformat(), by=ref.short_name(waiting.by), to=to,
                    days=waiting.days, limit=rules.after_days)  # fmt: skip
    working = [lead, *supporting, *regional, *government]
    # 学: the academia already suggested, else the first that fits the field and region.
    fitting = universities(ref, ctx.town.subprefecture, ctx.field)
    where = dict((inst.id, w) for inst, w in fitting)
    gaku = next((a for a in academia if a in where), fitting[0][0].id if fitting else academia[0])
    # 官: a public body already working on the case, else the first of the list.
    kan = next((g for g in working if g in rules.government), rules.government[0])
    kan_why = "working" if kan in working else "first"
    # 金: the company's bank, the bank that received it, a bank already suggested, the first.
    if ctx.own_bank in rules.finance:
        kin, kin_why = ctx.own_bank, "own"
    elif ctx.receiver.id in rules.finance:
        kin, kin_why = ctx.receiver.id, "receiver"
    else:
        kin = next((b for b in working if b in rules.finance), rules.finance[0])
        kin_why = "working" if kin in working else "first"
    assert kin is not None
    members = list(dict.fromkeys([center, lead, *supporting, gaku, kan, kin]))
    company = inquiry.company or t("routing.team_company")
    reasons.say("3(2)②エ", "routing.team_letters", company=company,
                academia=ref.short_name(gaku), academia_why=t(f"routing.team_academia_{where.get(gaku, 'local')}"),
                government=ref.short_name(kan), government_why=t(f"routing.team_government_{kan_why}"),
                finance=ref.short_name(kin), finance_why=t(f"routing.team_finance_{kin_why}"),
                center=center_text(ref), members="、".join(ref.short_name(i) for i in members))  # fmt: skip
    return members, TeamRoles(inquiry.company, gaku, kan, kin, center)


def _plan(ctx: _Context) -> PlanFit:
    """Whether the municipality has a basic plan whose strategies the case fits (1(1), 別紙)."""
    ref, field_id, municipality = ctx.ref, ctx.field, ctx.town.name
    fit = basic_plan_fit(field_id, municipality, ref, ctx.text)
    names = "、".join(ref.plans[p].name for p in fit.plans)
    if not fit.plans:
        ctx.reasons.say("1(1)・別紙", "routing.plan_none", municipality=municipality)
    elif fit.fits and fit.plan is not None and fit.words:
        ctx.reasons.say("1(1)・別紙", "routing.plan_fits_words", municipality=municipality,
                        plan=ref.plans[fit.plan].name, strategy=fit.strategy, words=_quoted(fit.words))  # fmt: skip
    elif field_id == "other":
        ctx.reasons.say("1(1)・別紙", "routing.plan_other_field", municipality=municipality, plans=names)
    elif fit.fits and fit.plan is not None:
        ctx.reasons.say("1(1)・別紙", "routing.plan_fits", municipality=municipality, plan=ref.plans[fit.plan].name,
                        strategy=fit.strategy)  # fmt: skip
    else:
        ctx.reasons.say("1(1)・別紙", "routing.plan_mismatch", municipality=municipality, plans=names,
                        field=ref.field_name(field_id))  # fmt: skip
    return fit


def route_case(case: Case, ref: Reference, today: date | None = None, team: bool = False) -> Routing:
    """The suggestion for a logged case: its own needs, bank, company and history of referrals
    (``today`` None: how long it has waited is not looked at); ``team``: staff ask for a team."""
    text = case_text(case)
    recognised = [m.need for m in recognise_needs(text, ref, case.title)]
    # Needs that are exactly what the text says were recognised at logging: route them as such
    # (words and order from the text); anything else was chosen by staff and keeps its order.
    given = () if set(case.needs) == set(recognised) else tuple(case.needs)
    inquiry = Inquiry(
        text=text, municipality=case.company.municipality, received_by=case.received_by,
        title=case.title, field=case.field, needs=given, bank=case.company.bank, case_id=case.id,
        company=case.company.name, waiting=waiting(case, today), team_asked=team,
    )  # fmt: skip
    return route(inquiry, ref)


def waiting(case: Case, today: date | None) -> Waiting | None:
    """The first referral or report of a case still waiting for support to start (None when it
    started, is closed, was never passed on, or ``today`` is not known)."""
    if today is None or start_event(case) is not None or status(case) == "closed":
        return None
    first = next((e for e in counted_events(case) if e.type == "referred" and e.to), None)
    if first is None or first.to is None:
        return None
    return Waiting(first.date, first.by, first.to, (today - first.date).days)


# --- recording the suggestion ---------------------------------------------------------------------


def routing_events(case: Case, routing: Routing, ref: Reference, on: date, today: date) -> list[Event]:
    """The events that record a suggestion, already checked against the case's rules.

    ウb: the receiver reports to the センター (a referral to it); the センター then refers the case
    to the lead unless the lead is the receiver or the センター itself. イb: the センター refers it to
    the lead. イa / ウa: nothing, the receiver handles it. A team is recorded only when one is
    suggested (エ): a ``team_formed`` event by the センター, after a ``started`` event naming the lead
    and the other members when support has not started yet (a team never leaves a case 支援中
    without a lead). Events already in the history (same referral, same team) are not recorded
    twice; a CaseRuleError says which rule an event would break (a closed case, a date before the
    inquiry, …).
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
        if start_event(case) is None:
            others = [i for i in routing.team if i not in (routing.lead, center)]
            planned.append(Event(type="started", date=on, by=center, lead=routing.lead, supporting=others,
                                 note=t("routing.note_team_start")))  # fmt: skip
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


def _role(inst: Institution, ref: Reference) -> str:
    """The role the plan gives an institution (1(3)), in its own words: that of the first kind of
    help (routing.yaml) that names it and has worded one; its competences when none has."""
    for kind in _rules(ref).kinds:
        key = f"routing.role.{kind.id}"
        if inst.id in kind.institutions and (key in catalogue(lang()) or key in catalogue("ja")):
            return t(key)
    return needs_text(inst.competences)


def _say_choice(reasons: Reasons, why: str, chosen: str, candidates: Sequence[str], ref: Reference) -> None:
    if why == "only":
        return
    others = "、".join(ref.short_name(i) for i in candidates if i != chosen)
    reasons.say("1(3)", f"routing.choice_{why}", name=ref.short_name(chosen), others=others)
