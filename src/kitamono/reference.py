"""The plan's reference data: fields, institutions, basic plans, municipalities and targets.

The shipped files live in the package, ``src/kitamono/data/`` (the top-level ``data/`` holds the
same files, where users look for them; a test keeps the two equal). A case repository may
carry its own data folder (``data_dir`` in ``kitamono.yaml``) with files of the same names that
add records, or replace a shipped one when the record says ``override: true``::

    # <repo>/data/basic_plans.yaml
    plans:
    - id: kushiro_town
      name: 釧路町
      municipalities: [釧路町]
      agreed_on: 2018-06-29
      strategies:
      - {text: 水産物を活用した食料品製造関連分野, fields: [food]}

Every problem is one ``DataError`` that names the file, the record and the field.

Parsing and checking the files costs tens of milliseconds, and every command needs the data: a
repository keeps the checked result in ``.kitamono/reference.pickle`` (``cache.cached``), used
while every data file it came from, shipped or the repository's own, is unchanged.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ValidationError

from kitamono import __version__, cache, models
from kitamono.caseio import read_yaml, validation_message
from kitamono.errors import DataError, InputError
from kitamono.i18n import catalogue, label, lang, t
from kitamono.models import (
    ALL_HOKKAIDO,
    CASE_FIELDS,
    CHANNELS,
    COMPETENCES,
    EVENT_TYPES,
    INSTITUTION_KINDS,
    SHEET_COLUMNS,
    STATUSES,
    SUBPREFECTURES,
    BasicPlan,
    Institution,
    Municipality,
    OutcomeKind,
    PlanSummary,
    RoutingRules,
    SupportField,
    Targets,
)

M = TypeVar("M", bound=BaseModel)


def shipped_data_dir() -> Path:
    """The reference data that ships inside the package (``kitamono/data``), installed or not.

    kitamono is installed as files (pip does not zip it), so this is a real folder: the
    reference cache notes its files' sizes and times.
    """
    return Path(str(resources.files("kitamono") / "data"))


@dataclass(frozen=True)
class Reference:
    """All reference data, loaded and cross-checked."""

    fields: dict[str, SupportField]
    institutions: dict[str, Institution]
    plans: dict[str, BasicPlan]
    plan_summary: PlanSummary
    municipalities: dict[str, Municipality]  # by name; names are unique in Hokkaido
    targets: Targets
    needs_vocabulary: dict[str, list[str]] = field(default_factory=dict)
    sources: tuple[Path, ...] = ()
    routing: RoutingRules | None = None  # data/routing.yaml: the inputs of kitamono.routing
    #: data/words.yaml: for each closed choice, every way of writing it (squashed) → its id.
    words: dict[str, dict[str, str]] = field(default_factory=dict)
    outcomes: dict[str, OutcomeKind] = field(default_factory=dict)  # data/outcomes.yaml, by id
    #: data/columns.yaml: every header a spreadsheet may give a column (squashed) → what it holds.
    column_names: dict[str, str] = field(default_factory=dict)
    #: data/columns.yaml: the words that begin a total row (合計, 計 …), squashed.
    total_words: tuple[str, ...] = ()

    # --- look-ups that users type --------------------------------------------------------------

    def institution(self, key: str) -> Institution:
        """An institution by id or by its exact short (or official) name."""
        key = key.strip()
        found = by_id_or_name(self.institutions, key, lambda inst: (inst.short_name, inst.name))
        if found is not None:
            return found
        names = [i.short_name for i in self.institutions.values()] + list(self.institutions)
        near = difflib.get_close_matches(key, names, n=3, cutoff=0.4)
        raise InputError(t("ref.unknown_institution", value=key, near=_near(near)))

    def municipality(self, name: str) -> Municipality:
        """A municipality by name (``帯広市``) or code (``012076``), with near names on a miss."""
        name = name.strip()
        found = by_id_or_name(self.municipalities, name, lambda m: (m.code, m.code[:5]))  # keyed by name
        if found is not None:
            return found
        near = difflib.get_close_matches(name, list(self.municipalities), n=3, cutoff=0.3)
        near += [n for n in self.municipalities if name and name in n and n not in near][:3]
        raise InputError(t("ref.unknown_municipality", value=name, near=_near(near)))

    def plans_for(self, municipality: str) -> list[BasicPlan]:
        """The basic plans that cover a municipality (旭川市 has two)."""
        return [p for p in self.plans.values() if municipality in p.municipalities]

    def plan(self, key: str) -> BasicPlan:
        key = key.strip()
        found = by_id_or_name(self.plans, key, lambda plan: (plan.name,))
        if found is not None:
            return found
        near = difflib.get_close_matches(key, list(self.plans), n=3)
        raise InputError(t("ref.unknown_plan", value=key, near=_near(near)))

    def choice(self, kind: str, text: str) -> str:
        """The id a person meant by ``text`` for a closed choice (``channel``, ``field``,
        ``competence``, ``status``, ``event``, ``kind``): its id, the label kitamono prints in
        either language, or a short form of data/words.yaml (電話, 来店, 食品, 融資 …)."""
        ident = self.words.get(kind, {}).get(squash(text))
        if ident is None:
            labels = self.choice_labels(kind)
            near = difflib.get_close_matches(text.strip(), labels, n=3, cutoff=0.4)
            raise InputError(t("ref.unknown_choice", value=text.strip(), what=t(f"choice.{kind}"),
                               choices=t("list.sep").join(labels), near=_near(near)))  # fmt: skip
        return ident

    def choice_labels(self, kind: str) -> list[str]:
        """A closed choice's values as kitamono prints them, in its order."""
        return [label(kind, ident) for ident in CHOICES[kind]]

    def outcome_kind(self, key: str) -> OutcomeKind:
        """An outcome kind by id (``commercialised``) or name (``事業化``), with near names on a miss."""
        key = key.strip()
        found = by_id_or_name(self.outcomes, key, lambda kind: (kind.name, kind.name_en))
        if found is not None:
            return found
        kinds = t("list.sep").join(f"{self.outcome_name(k.id)} ({k.id})" for k in self.outcomes.values())
        raise InputError(t("ref.unknown_outcome_kind", value=key, kinds=kinds))

    def outcome_name(self, kind_id: str | None) -> str:
        """An outcome kind's name (事業化); none given reads as 未分類, an unknown id as it is."""
        if not kind_id:
            return t("reports.outcome.unclassified")
        kind = self.outcomes.get(kind_id)
        if kind is None:
            return kind_id
        return kind.name_en or kind.name if lang() == "en" else kind.name

    def center(self) -> Institution:
        """The representative body, whose ものづくり支援センター is the one-stop window."""
        return next(i for i in self.institutions.values() if i.representative_body)

    # --- names as people read them ---------------------------------------------------------------

    def short_name(self, ident: str | None) -> str:
        """An institution's short name (道総研); an id not in the data as it is; "" for none."""
        if not ident:
            return ""
        inst = self.institutions.get(ident)
        return inst.short_name if inst else ident

    def field_name(self, field_id: str) -> str:
        """A support field's name in the user's language (食料品製造関連, with ``KITAMONO_LANG=en``
        its ``name_en``); ``other`` and unknown ids by their label."""
        spec = self.fields.get(field_id)
        if spec is None:
            return label("field", field_id)
        return (spec.name_en or spec.name) if lang() == "en" else spec.name

    def field_description(self, field_id: str) -> str:
        """A support field's description in the user's language."""
        spec = self.fields[field_id]
        return (spec.description_en or spec.description) if lang() == "en" else spec.description


#: The closed choices a person types, and their ids in the order kitamono lists them.
CHOICES: dict[str, tuple[str, ...]] = {
    "channel": CHANNELS, "field": CASE_FIELDS, "competence": COMPETENCES, "status": STATUSES,
    "event": EVENT_TYPES, "kind": INSTITUTION_KINDS,
}  # fmt: skip


def squash(text: str) -> str:
    """What two spellings of a word have in common: NFKC, no spaces, any case (ＴＥＬ = tel)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


def by_id_or_name(records: dict[str, M], key: str, names: Callable[[M], Iterable[str | None]]) -> M | None:
    """The record whose key in ``records`` is ``key``, else the first that ``names`` calls ``key``."""
    if key in records:
        return records[key]
    return next((record for record in records.values() if key in names(record)), None)


def _near(names: list[str]) -> str:
    return t("ref.did_you_mean", names="、".join(dict.fromkeys(names))) if names else ""


# --- loading --------------------------------------------------------------------------------------


def _records(path: Path, key: str, model: type[M], id_key: str) -> list[M]:
    data = read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise DataError(f"{path}: {t('data.expected_list', key=key)}")
    unknown = set(data) - {key, "summary"}
    if unknown:
        raise DataError(f"{path}: {t('data.unknown_key', key=sorted(unknown)[0])}")
    records: list[M] = []
    seen: set[str] = set()
    for index, raw in enumerate(data[key]):
        label = f"{key}[{index}]"
        if isinstance(raw, dict) and id_key in raw:
            label += f"({raw[id_key]})"
        try:
            record = model.model_validate(raw)
        except ValidationError as error:
            raise DataError(f"{path}: {validation_message(error, label)}") from None
        ident = getattr(record, id_key)
        if ident in seen:
            raise DataError(f"{path}: {label}.{id_key}: {t('data.duplicate_id', id=ident)}")
        seen.add(ident)
        records.append(record)
    return records


def _merge(
    shipped: list[M], extra: list[M], id_key: str, path: Path, key: str
) -> dict[str, M]:
    merged = {getattr(r, id_key): r for r in shipped}
    for index, record in enumerate(extra):
        ident = getattr(record, id_key)
        if ident in merged and not getattr(record, "override", False):
            raise DataError(f"{path}: {key}[{index}]({ident}).{id_key}: {t('data.clash', id=ident)}")
        merged[ident] = record
    return merged


def _model(path: Path, model: type[M], raw: Any, label: str = "") -> M:
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise DataError(f"{path}: {validation_message(error, label)}") from None


def load_reference(extra_dir: Path | None = None, cache_dir: Path | None = None) -> Reference:
    """Load the shipped data, then the repository's own data folder on top of it.

    With ``cache_dir`` (a repository's ``.kitamono/``), the checked result is kept there and used
    again while no data file has changed, which spares parsing and checking them every command.
    """
    if cache_dir is None:
        return _load_reference(extra_dir)
    sources = cache.stamps([shipped_data_dir(), extra_dir])
    return cache.cached(cache_dir / CACHE_NAME, CACHE_VERSION, sources, lambda: _load_reference(extra_dir),
                        Reference, _CacheUnpickler)  # fmt: skip


CACHE_NAME = "reference.pickle"
CACHE_VERSION = f"{__version__}/5"


class _CacheUnpickler(cache.SafeUnpickler):
    """Admits the reference models, ``Reference`` itself, dates and paths: nothing that runs code."""

    allowed: ClassVar[dict[tuple[str, str], type]] = {
        **{("kitamono.models", name): value for name, value in vars(models).items()
           if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == models.__name__},
        ("kitamono.reference", "Reference"): Reference,
        ("datetime", "date"): date,
        **{(module, name): Path for module in ("pathlib", "pathlib._local")
           for name in ("Path", "PosixPath", "WindowsPath")},
    }  # fmt: skip


def _load_reference(extra_dir: Path | None = None) -> Reference:
    base = shipped_data_dir()
    dirs = [base] + ([extra_dir] if extra_dir is not None else [])
    tables: dict[str, dict[str, Any]] = {}
    specs = (
        ("fields.yaml", "fields", SupportField, "id"),
        ("institutions.yaml", "institutions", Institution, "id"),
        ("basic_plans.yaml", "plans", BasicPlan, "id"),
        ("municipalities.yaml", "municipalities", Municipality, "code"),
        ("outcomes.yaml", "outcomes", OutcomeKind, "id"),
    )
    for filename, key, model, id_key in specs:
        shipped_path = base / filename
        if not shipped_path.is_file():
            raise DataError(f"{shipped_path}: {t('data.missing_file')}")
        merged = _merge(_records(shipped_path, key, model, id_key), [], id_key, shipped_path, key)
        if extra_dir is not None and (extra_dir / filename).is_file():
            extra_path = extra_dir / filename
            merged = _merge(list(merged.values()), _records(extra_path, key, model, id_key), id_key, extra_path, key)
        tables[key] = merged

    summary_path = base / "basic_plans.yaml"
    summary = _model(summary_path, PlanSummary, read_yaml(summary_path).get("summary"), "summary")
    targets_path = base / "targets.yaml"
    if extra_dir is not None and (extra_dir / "targets.yaml").is_file():
        targets_path = extra_dir / "targets.yaml"
    targets = _model(targets_path, Targets, read_yaml(targets_path))

    needs: dict[str, list[str]] = {}
    for folder in dirs:
        path = folder / "needs.yaml"
        if path.is_file():
            needs.update(_needs_vocabulary(path))

    routing_path = base / "routing.yaml"
    if extra_dir is not None and (extra_dir / "routing.yaml").is_file():
        routing_path = extra_dir / "routing.yaml"
    routing = _model(routing_path, RoutingRules, read_yaml(routing_path)) if routing_path.is_file() else None

    words = {kind: builtin_words(kind, ids) for kind, ids in CHOICES.items()}
    for folder in dirs:
        path = folder / "words.yaml"
        if path.is_file():
            _add_words(path, words)

    column_names = builtin_words("exchange.col", SHEET_COLUMNS)  # a column's key, or its heading in either language
    total_words: list[str] = []
    for folder in dirs:
        path = folder / "columns.yaml"
        if path.is_file():
            total_words += _add_column_names(path, column_names)

    municipalities: dict[str, Municipality] = {}
    for m in tables["municipalities"].values():
        if m.name in municipalities:
            raise DataError(f"municipalities.yaml: {m.code}: {t('data.duplicate_id', id=m.name)}")
        municipalities[m.name] = m

    reference = Reference(
        fields=tables["fields"],
        institutions=tables["institutions"],
        plans=tables["plans"],
        plan_summary=summary,
        municipalities=municipalities,
        targets=targets,
        needs_vocabulary=needs,
        sources=tuple(dirs),
        routing=routing,
        words=words,
        outcomes=tables["outcomes"],
        column_names=column_names,
        total_words=tuple(dict.fromkeys(total_words)),
    )
    _cross_check(reference, dirs)
    return reference


def _needs_vocabulary(path: Path) -> dict[str, list[str]]:
    data = read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("needs"), dict):
        raise DataError(f"{path}: {t('data.expected_mapping', key='needs')}")
    result: dict[str, list[str]] = {}
    for need, words in data["needs"].items():
        if need not in COMPETENCES:
            raise DataError(f"{path}: needs.{need}: {t('data.unknown_competence', value=need)}")
        if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
            raise DataError(f"{path}: needs.{need}: {t('data.expected_words')}")
        result[need] = words
    return result


def builtin_words(kind: str, ids: tuple[str, ...]) -> dict[str, str]:
    """Each id (squashed) and the label kitamono prints for it in Japanese and in English (the
    catalogues' ``{kind}.{id}``) → the id: a choice's values, a spreadsheet's columns."""
    words = {squash(ident): ident for ident in ids}
    for language in ("ja", "en"):
        for ident in ids:
            text = catalogue(language).get(f"{kind}.{ident}")
            if text:
                words.setdefault(squash(text), ident)
    return words


def _add_words(path: Path, words: dict[str, dict[str, str]]) -> None:
    """Add a words.yaml's spellings; one spelling meaning two values of one choice is an error."""
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise DataError(f"{path}: {t('data.expected_mapping', key='channel')}")
    for kind, table in data.items():
        if kind not in CHOICES:
            raise DataError(f"{path}: {t('data.unknown_key', key=kind)}")
        if not isinstance(table, dict):
            raise DataError(f"{path}: {t('data.expected_mapping', key=kind)}")
        for ident, spellings in table.items():
            if ident not in CHOICES[kind]:
                raise DataError(f"{path}: {kind}.{ident}: {t('data.unknown_choice_id', value=ident)}")
            if not isinstance(spellings, list) or not all(isinstance(w, str) and w.strip() for w in spellings):
                raise DataError(f"{path}: {kind}.{ident}: {t('data.expected_words')}")
            for spelling in spellings:
                key = squash(spelling)
                meant = words[kind].setdefault(key, ident)
                if meant != ident:
                    raise DataError(
                        f"{path}: {kind}.{ident}: {t('data.ambiguous_word', word=spelling, other=meant)}"
                    )


def _add_column_names(path: Path, names: dict[str, str]) -> list[str]:
    """Add a columns.yaml's headers (a repository's file may give a shipped header another
    meaning); one header meaning two things in one file is an error. Its total words."""
    data = read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
        raise DataError(f"{path}: {t('data.expected_mapping', key='columns')}")
    unknown = set(data) - {"columns", "totals"}
    if unknown:
        raise DataError(f"{path}: {t('data.unknown_key', key=sorted(unknown)[0])}")
    mine: dict[str, str] = {}
    for key, spellings in data["columns"].items():
        if key not in SHEET_COLUMNS:
            raise DataError(f"{path}: columns.{key}: {t('data.unknown_column', value=key)}")
        if not isinstance(spellings, list) or not all(isinstance(w, str) and w.strip() for w in spellings):
            raise DataError(f"{path}: columns.{key}: {t('data.expected_words')}")
        for spelling in spellings:
            meant = mine.setdefault(squash(spelling), key)
            if meant != key:
                raise DataError(f"{path}: columns.{key}: {t('data.ambiguous_word', word=spelling, other=meant)}")
    names.update(mine)
    totals = data.get("totals", [])
    if not isinstance(totals, list) or not all(isinstance(w, str) and w.strip() for w in totals):
        raise DataError(f"{path}: totals: {t('data.expected_words')}")
    return [squash(word) for word in totals]


def _where(dirs: list[Path], filename: str) -> Path:
    """The file a record most likely came from: the repository's own, else the shipped one."""
    for folder in reversed(dirs):
        if (folder / filename).is_file():
            return folder / filename
    return dirs[0] / filename


def _cross_check(ref: Reference, dirs: list[Path]) -> None:
    areas = set(SUBPREFECTURES) | {ALL_HOKKAIDO}
    for inst in ref.institutions.values():
        for area in inst.area:
            if area not in areas and area not in ref.municipalities:  # a 振興局, 全道 or a municipality
                path = _where(dirs, "institutions.yaml")
                raise DataError(f"{path}: institutions({inst.id}).area: {t('data.unknown_area', value=area)}")
    for plan in ref.plans.values():
        for name in plan.municipalities:
            if name not in ref.municipalities:
                path = _where(dirs, "basic_plans.yaml")
                near = difflib.get_close_matches(name, list(ref.municipalities), n=3, cutoff=0.3)
                raise DataError(
                    f"{path}: plans({plan.id}).municipalities: "
                    f"{t('ref.unknown_municipality', value=name, near=_near(near))}"
                )
    if ref.routing is not None:
        named = [i for k in ref.routing.kinds for i in k.institutions] + [b.id for b in ref.routing.external_bodies]
        named += ref.routing.team.government + ref.routing.team.finance
        named += [i for p in ref.routing.subsidies for i in (p.lead, *p.named)]
        for ident in named:
            if ident not in ref.institutions:
                path = _where(dirs, "routing.yaml")
                raise DataError(f"{path}: {t('ref.unknown_institution', value=ident, near='')}")
    if sum(1 for i in ref.institutions.values() if i.representative_body) != 1:
        raise DataError(f"{_where(dirs, 'institutions.yaml')}: {t('data.one_representative')}")
