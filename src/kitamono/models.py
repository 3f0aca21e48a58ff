"""kitamono's records: the reference data of the plan, the support cases, a repository's settings.

Strict, immutable Pydantic models and the closed vocabularies they use. No I/O, no printing:
``caseio`` reads and writes them, ``reference`` and ``store`` say which files. A case file looks like::

    id: hro-2019-0001
    received_on: 2019-05-14
    received_by: hro
    channel: visit
    company: {name: 株式会社サンプル食品, municipality: 帯広市}
    title: 乳製品の殺菌工程の見直し
    summary: …
    field: food
    needs: [technical, food_processing]
    events:
    - {type: received, date: 2019-05-14, by: hro}
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from kitamono.controls import NOT_IN_LINE, NOT_IN_TEXT, visible
from kitamono.i18n import t
from kitamono.ids import parse_case_id
from kitamono.records import CaseRecord, EventRecord

# --- vocabularies ---------------------------------------------------------------------------------

FieldId = Literal["food", "monozukuri", "it"]
CaseField = Literal["food", "monozukuri", "it", "other"]
FIELD_IDS: tuple[str, ...] = ("food", "monozukuri", "it")
CASE_FIELDS: tuple[str, ...] = ("food", "monozukuri", "it", "other")

Competence = Literal[
    "technical",  # 工業技術: 試作, 加工, 分析, 品質
    "food_processing",  # 食品加工技術
    "testing",  # 試験・分析・評価
    "design",  # デザイン・工芸
    "science",  # 科学技術
    "rnd",  # 研究開発
    "commercialisation",  # 事業化・実用化
    "human_resources",  # 人材育成
    "management",  # 経営
    "market",  # 市場開拓・販路
    "startup",  # 創業
    "finance",  # 融資・資金
    "sales_channel",  # 支店網を活かした販路拡大
    "regional",  # 地域振興
    "life_science",  # 生命工学
    "advanced_electronics",  # 先端エレクトロニクス
    "subsidy",  # 補助金・助成金の申請(融資とは別)
]
COMPETENCES: tuple[str, ...] = Competence.__args__  # type: ignore[attr-defined]

InstitutionKind = Literal["support", "network", "government", "external", "academia"]
INSTITUTION_KINDS: tuple[str, ...] = InstitutionKind.__args__  # type: ignore[attr-defined]

MunicipalityKind = Literal["市", "町", "村"]

#: Hokkaido's 14 振興局, in the order of their municipality code blocks.
SUBPREFECTURES: tuple[str, ...] = (
    "石狩", "渡島", "檜山", "後志", "空知", "上川", "留萌",
    "宗谷", "オホーツク", "胆振", "日高", "十勝", "釧路", "根室",
)  # fmt: skip
#: An institution whose area is the whole of Hokkaido.
ALL_HOKKAIDO = "全道"

Channel = Literal["visit", "phone", "email", "web", "referral", "event", "other"]
CHANNELS: tuple[str, ...] = Channel.__args__  # type: ignore[attr-defined]

EventType = Literal[
    "received", "referred", "started", "supported", "followed_up", "team_formed", "closed", "reopened"
]
EVENT_TYPES: tuple[str, ...] = EventType.__args__  # type: ignore[attr-defined]

Status = Literal["received", "referred", "supporting", "following_up", "closed"]
STATUSES: tuple[str, ...] = Status.__args__  # type: ignore[attr-defined]

#: What a column of a spreadsheet holds: a case's own item (``company`` …), one computed on export
#: (``status`` …, never read back), ``note`` (kept in the received event's note, as "見出し: 値")
#: or ``serial`` (a log's own row number, not read). data/columns.yaml names the headers of each.
SheetColumn = Literal[
    "id", "received_on", "received_by", "channel", "company", "municipality", "bank", "person", "phone",
    "email", "title", "summary", "field", "needs", "approved_project", "demo", "events", "conflicts",
    "subprefecture", "status", "lead", "started_on", "last_event_on", "next_follow_up", "plan_fit",
    "note", "serial", "withdrawn", "changes", "resolved_conflicts",
]  # fmt: skip
SHEET_COLUMNS: tuple[str, ...] = SheetColumn.__args__  # type: ignore[attr-defined]

ASCII_ID = re.compile(r"[a-z][a-z0-9_]*", re.ASCII)  # the whole id: used with fullmatch


def ascii_id(value: str) -> str:
    """``value`` when it is a whole ``ASCII_ID``; a validation error otherwise."""
    if not ASCII_ID.fullmatch(value):
        raise ValueError(t("model.ascii_id"))
    return value


#: The id of an institution, a basic plan or an outcome kind: lower-case ascii letters, digits and _.
AsciiId = Annotated[str, AfterValidator(ascii_id)]


class Strict(BaseModel):
    """Unknown keys are errors and records never change once made."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --- a repository's shared settings ---------------------------------------------------------------


class Settings(BaseModel):
    """``kitamono.yaml``: what every clone of a case repository shares. A misspelt key, or a value
    of the wrong kind (``auto_commit: "yes"``), is an error, never silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    data_dir: str | None = None  # the repository's own reference data folder
    auto_commit: bool = False  # one git commit per writing command
    kitamono: Any = None  # accepted since the first version, and not used


# --- reference data -------------------------------------------------------------------------------


class SupportField(Strict):
    """One of the plan's three support fields (支援対象とする事業分野)."""

    id: FieldId
    name: str
    description: str
    keywords: list[str]
    name_en: str | None = None  # the name and description kitamono shows in English
    description_en: str | None = None


class Institution(Strict):
    """A body the plan names: support institution, network participant, government, …"""

    id: AsciiId
    name: str
    short_name: str
    kind: InstitutionKind
    city: str | None = None
    area: list[str] = Field(min_length=1)
    competences: list[Competence] = []
    network_member: bool = False
    representative_body: bool = False
    one_stop_window: str | None = None
    address: str | None = None
    representative: str | None = None
    role: str | None = None
    fields: list[FieldId] = []
    keywords: list[str] = []
    note: str | None = None
    override: bool = Field(default=False, exclude=True)

    @property
    def whole_hokkaido(self) -> bool:
        return ALL_HOKKAIDO in self.area


class Strategy(Strict):
    """One line of a basic plan's 「地域の特性及びその活用戦略」, with its fields."""

    text: str
    fields: list[FieldId] = []
    words: list[str] = []  # the line's own words that an inquiry may name (routing's plan fit)


class BasicPlan(Strict):
    """A municipality's 基本計画 as listed in the plan's appendix (or added later)."""

    id: AsciiId
    name: str
    municipalities: list[str] = Field(min_length=1)
    agreed_on: date
    strategies: list[Strategy] = Field(min_length=1)
    note: str | None = None
    override: bool = Field(default=False, exclude=True)

    @property
    def fields(self) -> list[str]:
        """The plan's fields, in the order food, monozukuri, it."""
        found = {f for s in self.strategies for f in s.fields}
        return [f for f in FIELD_IDS if f in found]


class OutcomeKind(Strict):
    """A kind of outcome a closed case had (事業化, 販路拡大, …): data/outcomes.yaml, for the
    review's verification of effects (3(2)④)."""

    id: AsciiId
    name: str
    name_en: str | None = None  # the name with KITAMONO_LANG=en
    description: str | None = None
    override: bool = Field(default=False, exclude=True)


class PlanSummary(Strict):
    """What the plan says of all basic plans at once (as of 2017-12-22: 28 plans, 32 towns)."""

    as_of: date
    agreed_total: int
    municipalities_total: int
    unnamed: int
    note: str | None = None


class Municipality(Strict):
    """One of Hokkaido's 179 municipalities, keyed by its 全国地方公共団体コード."""

    code: str
    name: str
    kind: MunicipalityKind
    subprefecture: str

    @field_validator("code")
    @classmethod
    def _check_digit(cls, value: str) -> str:
        if not re.fullmatch(r"01\d{4}", value):
            raise ValueError(t("model.municipality_code"))
        total = sum(int(d) * w for d, w in zip(value[:5], (6, 5, 4, 3, 2), strict=True))
        if int(value[5]) != (11 - total % 11) % 10:
            raise ValueError(t("model.check_digit", code=value))
        return value

    @field_validator("subprefecture")
    @classmethod
    def _known_subprefecture(cls, value: str) -> str:
        if value not in SUBPREFECTURES:
            raise ValueError(t("model.subprefecture", name=value))
        return value


class TargetPeriod(Strict):
    """One period of the plan's target table (FY2017–2018 are one merged period)."""

    label: str
    fiscal_years: list[int] = Field(min_length=1)
    new: int
    continuing: int
    total: int

    @model_validator(mode="after")
    def _adds_up(self) -> TargetPeriod:
        if self.new + self.continuing != self.total:
            raise ValueError(t("model.period_total", label=self.label))
        return self


class Targets(Strict):
    """The plan's target table and its follow-up rule."""

    follow_up_periods: int = Field(ge=1)
    periods: list[TargetPeriod] = Field(min_length=1)
    total: int

    @model_validator(mode="after")
    def _total(self) -> Targets:
        if sum(p.total for p in self.periods) != self.total:
            raise ValueError(t("model.targets_total"))
        return self


class KindOfHelp(Strict):
    """A kind of help (支援の種類) and the institutions whose role (1(3)) covers its needs."""

    id: str
    needs: list[Competence] = Field(min_length=1)
    institutions: list[str] = Field(min_length=1)  # several (the two banks): the company's own first


class ExternalBody(Strict):
    """A body outside Hokkaido (1(4)), brought in always or only with some other needs."""

    id: str
    with_needs: list[Competence] = []


class TeamRules(Strict):
    """When a 産学官金 team is suggested (3(2)②エ) and who may fill its 官 and 金."""

    after_days: int = Field(ge=1)  # referred or reported this long without support starting
    government: list[str] = Field(min_length=1)  # 官: public bodies, the first that already works on the case
    finance: list[str] = Field(min_length=1)  # 金: the banks, the company's own first


class SubsidyProgramme(Strict):
    """A family of subsidies or grants and the body whose programmes fit it (3(1), 1(4), 1(6))."""

    id: str
    words: list[str] = []  # words of the inquiry that name it
    with_needs: list[Competence] = []  # or: other needs of the inquiry that point to it
    lead: str
    named: list[str] = []  # bodies named beside the lead (the 経済産業局 for national programmes)
    default: bool = False  # the programme when nothing names one


class RoutingRules(Strict):
    """The inputs of routing (data/routing.yaml); the rules themselves are in routing.py."""

    kinds: list[KindOfHelp] = Field(min_length=1)
    external_needs: list[Competence]
    external_bodies: list[ExternalBody]
    academia_needs: list[Competence]
    team: TeamRules
    regional_limit: int = Field(ge=1)
    not_needs: list[str] = []
    nearby: dict[str, list[str]] = {}
    subsidies: list[SubsidyProgramme] = []
    asking: list[str] = []  # words that make a sentence an ask: its needs count
    describing: list[str] = []  # words that make a sentence (without an ask) a description of the business
    field_near_tie: int = Field(default=1, ge=0)  # fields this close in words are a near tie

    @model_validator(mode="after")
    def _every_need_once(self) -> RoutingRules:
        seen: dict[str, str] = {}
        for kind in self.kinds:
            for need in kind.needs:
                if need in seen:
                    raise ValueError(t("model.need_twice", need=need, first=seen[need], second=kind.id))
                seen[need] = kind.id
        missing = [c for c in COMPETENCES if c not in seen]
        if missing:
            raise ValueError(t("model.need_missing", needs=t("list.sep").join(missing)))
        if self.subsidies and sum(1 for p in self.subsidies if p.default) != 1:
            raise ValueError(t("model.subsidy_default"))
        for area, near in self.nearby.items():
            for name in (area, *near):
                if name not in SUBPREFECTURES:
                    raise ValueError(t("model.nearby", name=name))
        return self


# --- text in a case -------------------------------------------------------------------------------

#: The validation context for a case read back from its file: control characters a hand edit left
#: there are kept (and shown spelled out, see ``controls.printable``) instead of hiding the case.
#: Everything else that makes a case (the command line, an import, an edit) refuses them.
STORED: dict[str, Any] = {"stored": True}


def _refusing(pattern: re.Pattern[str], key: str) -> Callable[[str, ValidationInfo], str]:
    def check(value: str, info: ValidationInfo) -> str:
        if info.context and info.context.get("stored"):
            return value
        found = pattern.search(value)
        if found is not None:
            raise PydanticCustomError("control_character", t(key, char=visible(found.group())))
        return value

    return check


#: One line of text (a title, a name, an id): no control characters, no tab or line break.
Line = Annotated[str, AfterValidator(_refusing(NOT_IN_LINE, "models.not_in_line"))]
#: Text that may run over several lines (a summary, a note): line breaks and tabs, no other control.
Text = Annotated[str, AfterValidator(_refusing(NOT_IN_TEXT, "models.not_in_text"))]


# --- cases ----------------------------------------------------------------------------------------


class Company(Strict):
    name: Line = Field(min_length=1)
    municipality: Line = Field(min_length=1)
    bank: Line | None = None  # the company's own bank (an institution id), when known


class Contact(Strict):
    """Personal data: shown only when asked (``--with-contacts``)."""

    person: Line | None = None
    phone: Line | None = None
    email: Line | None = None


class Mark(Strict):
    """Who (this clone's institution) voided an event or withdrew a case, on which day, and why."""

    by: Line
    date: date
    reason: Text = Field(min_length=1)


class FieldChange(Strict):
    """One field a correction changed: its value before and after, as the file holds them
    (dates in ISO form, institutions by id; lists as lists)."""

    field: Line
    old: Text | list[Line] | None = None
    new: Text | list[Line] | None = None


class Correction(Strict):
    """A correction (``case amend``, ``case set``, taking back a void or a withdrawal): who made
    it, on which day, why, and every field it changed, so the original is never lost::

        - by: hro
          date: 2026-11-28
          reason: 日付の入力誤り
          fields: [{field: date, old: '2019-06-30', new: '2019-06-03'}]
    """

    by: Line
    date: date
    reason: Text | None = None
    fields: list[FieldChange] = []


class Event(Strict):
    """One step of a case's life. ``by`` is the institution that acted."""

    type: EventType
    date: date
    by: Line
    to: Line | None = None  # referred
    lead: Line | None = None  # started
    supporting: list[Line] = []  # started
    members: list[Line] = []  # team_formed
    outcome: Text | None = None  # closed
    note: Text | None = None
    outcome_kind: Line | None = None  # closed: an id of data/outcomes.yaml (事業化, 販路拡大, …)
    follow_up_waiver: Text | None = None  # closed: why the follow-ups still owed are waived
    voided: Mark | None = None  # recorded by mistake: kept, and counted nowhere (``cases.counted_events``)
    amendments: list[Correction] = []  # ``case amend``: what the event said before each correction


ConflictKind = Literal["field", "two_starts", "after_close", "withdrawn"]
CONFLICT_KINDS: tuple[str, ...] = ConflictKind.__args__  # type: ignore[attr-defined]
Take = Literal["ours", "theirs", "value"]


class Recorded(Strict):
    """Who recorded one side of a conflict and when: the commit that brought it (its
    institution, its author, its day), or the side's own event when git cannot say."""

    institution: Line | None = None  # the commit's institution trailer, or the event's ``by``
    person: Line | None = None  # the commit's author (git's user name); none from an event
    on: date | None = None  # the commit's day, or the event's


class Decision(Strict):
    """Who settled a conflict (``kitamono resolve``), when, which side was taken, and the value kept."""

    by: Line
    on: date
    took: Take
    person: Line | None = None
    value: Text | None = None


class Conflict(Strict):
    """Two clones recorded different things about one case; kept until someone resolves it.

    ``field`` names what differs: a header field (``company.name``) for ``kind: field``; ``lead``
    for two starts of support (``two_starts``); ``closed`` for events recorded on one side after
    the other side closed the case (``after_close``); ``withdrawn`` for a case withdrawn on one
    side and recorded on the other. ``ours``/``theirs`` are each side's value as text; for the
    kinds about events, ``ours_events`` are the events this clone keeps in the history while the
    conflict is open and ``theirs_events`` the other clone's, held here until it is resolved.
    """

    field: Line
    ours: Text | None
    theirs: Text | None
    kind: ConflictKind = "field"
    ours_events: list[Event] = []
    theirs_events: list[Event] = []
    ours_recorded: Recorded | None = None
    theirs_recorded: Recorded | None = None
    decided: Decision | None = None


class Case(Strict):
    """An inquiry a company brought, and everything that happened to it since."""

    id: str
    demo: bool = False
    received_on: date
    received_by: Line
    channel: Channel
    company: Company
    contact: Contact | None = None
    title: Line = Field(min_length=1)
    summary: Text = ""
    field: CaseField
    needs: list[Competence] = []
    approved_project: date | None = None  # 地域経済牽引事業計画の承認日
    events: list[Event] = []
    conflicts: list[Conflict] = []
    resolved_conflicts: list[Conflict] = []  # settled by ``kitamono resolve``: both sides and the decision
    withdrawn: Mark | None = None  # 取下げ: logged twice or by mistake; kept, and counted nowhere
    changes: list[Correction] = []  # ``case set`` and ``case restore``: the case's own fields before each change

    @field_validator("id")
    @classmethod
    def _case_id(cls, value: str) -> str:
        if parse_case_id(value) is None:
            raise ValueError(t("model.case_id"))
        return value


# --- what reading a case needs ----------------------------------------------------------------------
#
# A command reads cases either as ``Case`` models (from their files) or as the index's records
# (``records.CaseRecord``: the same attributes, tuples for lists, marks and corrections as plain
# tuples, no contact details). The functions that only read a case (its status, its rules, the
# reports) take either, and say so with these.

#: A case as the pure functions read it: a ``Case`` or the index's ``CaseRecord``.
CaseLike: TypeAlias = Case | CaseRecord
#: One of its events: an ``Event`` or an ``EventRecord``.
EventLike: TypeAlias = Event | EventRecord
