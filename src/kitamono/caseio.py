"""Reading and writing kitamono's YAML: reference data, settings and case files, one set of rules.

Reading refuses what a hand-edited or hostile file could abuse: anchors and aliases (a few
hundred bytes of nested aliases expand into gigabytes), tags that build Python objects, and
duplicate keys (the second would silently win). Writing is byte-stable: the same data always
gives the same text, multi-line text uses the ``|`` style, and strings that YAML 1.1 would read
as something else (``NO``, ``on``, ``0100``, ``2019-05-14``) or that are all digits are quoted.
The C loader and dumper are used when PyYAML has them; every rule holds for both.

A case file's text is checked here too (git's conflict markers, a mapping at the top, the
``Case`` model), and every failure is one ``DataError`` naming the file::

    case = load_case_file(Path("cases/2019/hro-2019-0001.yaml"))
    text = case_text(case)           # what the store writes: the same case, the same bytes

This module only reads files and makes text; the store decides where text is written. PyYAML and
the models load when first needed, so the commands that read neither (counting cases) stay quick.
"""

from __future__ import annotations

import errno
import os
import re
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, get_args

from kitamono.errors import DataError
from kitamono.i18n import t

if TYPE_CHECKING:
    from pydantic import ValidationError
    from pydantic_core import ErrorDetails

    from kitamono.models import Case

#: A line git writes around the sides of a conflict it could not merge: a file holding one is no case yet.
CONFLICT_MARKERS = re.compile(r"^(<{7}|>{7}|={7})( |$)", re.MULTILINE)


class YamlRefused(ValueError):
    """The text is valid YAML but uses a construct kitamono refuses (alias, duplicate key), or
    holds a value that cannot be (a date like 2019-02-30); ``line`` is where, counted from 1."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(t("yaml.at_line", line=line, problem=problem))
        self.line = line
        self.problem = problem


# --- YAML, strictly in and stably out -------------------------------------------------------------

_DIGITS = re.compile(r"^[0-9][0-9_.:+-]*$")


@cache
def _yaml() -> SimpleNamespace:
    """PyYAML with kitamono's loader and dumper, made on first use."""
    import yaml

    base_loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    base_dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

    class StrictLoader(base_loader):  # type: ignore[valid-type, misc]
        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                except TypeError:
                    raise YamlRefused(key_node.start_mark.line + 1, t("yaml.key_not_text")) from None
                if duplicate:
                    raise YamlRefused(key_node.start_mark.line + 1, t("yaml.duplicate_key", key=key))
                seen.add(key)
            mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
            return mapping

        def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
            try:
                return super().construct_yaml_timestamp(node)
            except ValueError:  # 2019-02-30: a date by its shape, not one on the calendar
                raise YamlRefused(node.start_mark.line + 1, t("yaml.bad_date", value=node.value)) from None

    StrictLoader.add_constructor("tag:yaml.org,2002:map", StrictLoader.construct_mapping)
    StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", StrictLoader.construct_yaml_timestamp)

    class StableDumper(base_dumper):  # type: ignore[valid-type, misc]
        def ignore_aliases(self, data: Any) -> bool:
            return True

    def represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        if "\n" in value:
            # Trailing spaces on a line make the | style impossible; fall back to a quoted scalar.
            if not any(line != line.rstrip() for line in value.split("\n")):
                return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
            return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
        if _DIGITS.match(value):
            return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="'")
        return dumper.represent_str(value)

    StableDumper.add_representer(str, represent_str)
    return SimpleNamespace(yaml=yaml, base_loader=base_loader, loader=StrictLoader, dumper=StableDumper)


def _refuse_anchors(text: str) -> None:
    """Scan the events of a text that might hold anchors or aliases, and refuse any."""
    found = _yaml()
    for event in found.yaml.parse(text, Loader=found.base_loader):
        if isinstance(event, found.yaml.AliasEvent):
            raise YamlRefused(event.start_mark.line + 1, t("yaml.alias"))
        if getattr(event, "anchor", None):
            raise YamlRefused(event.start_mark.line + 1, t("yaml.anchor"))


def parse_yaml(text: str) -> Any:
    """Parse one YAML document strictly. Raises ``yaml.YAMLError`` or ``YamlRefused``."""
    if "&" in text or "*" in text:  # cheap test first: most files have neither character
        _refuse_anchors(text)
    found = _yaml()
    return found.yaml.load(text, Loader=found.loader)


def dump_yaml(data: Any) -> str:
    """The canonical text of ``data``: key order kept, Japanese as itself, no aliases."""
    found = _yaml()
    text: str = found.yaml.dump(
        data, Dumper=found.dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=10_000
    )
    return text


def describe_error(error: Exception, text: str | None = None) -> str:
    """One line for a YAML error, in the user's language, at the line where the mistake is.

    PyYAML says where it noticed the mistake (``problem_mark``), which for a quote or a bracket
    left open is where the file ends or the next key begins; the mistake is where the quote or
    bracket opened (``context_mark``), so that is the line given then::

        title: "相談        ->  8行目: 引用符(")が閉じられていません…   (not: line 14: end of stream)

    ``text``, the text that was parsed, names which quote was left open.
    """
    if isinstance(error, YamlRefused):
        return str(error)
    problem = str(getattr(error, "problem", None) or str(error).splitlines()[0])
    context = str(getattr(error, "context", None) or "")
    problem_mark, context_mark = getattr(error, "problem_mark", None), getattr(error, "context_mark", None)
    opened = context_mark is not None and (
        ("quoted scalar" in context and "end of stream" in problem)
        or "flow sequence" in context or "flow mapping" in context or "simple key" in context
    )  # fmt: skip
    mark = context_mark if opened else problem_mark or context_mark
    said = _yaml_problem(problem, context, _character_at(text, context_mark), _character_at(text, problem_mark))
    return t("yaml.at_line", line=mark.line + 1, problem=said) if mark is not None else said


def _yaml_problem(problem: str, context: str, opening: str | None, found: str | None) -> str:
    """What PyYAML's English ``problem`` means, said to someone who edits a case file by hand
    (``opening``: the character where the context began, ``found``: where the problem is)."""
    if "quoted scalar" in context and "end of stream" in problem:
        return t("yaml.unclosed_quote", quote=opening if opening in ("'", '"') else '"')
    if "escape" in problem:
        return t("yaml.bad_escape")
    if "flow sequence" in context:
        return t("yaml.unclosed_bracket", opening="[", closing="]")
    if "flow mapping" in context:
        return t("yaml.unclosed_bracket", opening="{", closing="}")
    if "mapping values are not allowed" in problem:
        return t("yaml.colon_in_value")
    if "tab" in problem or "'\\t'" in problem:
        return t("yaml.tab")
    if "cannot start any token" in problem:
        quoted = re.search(r"character '(.+?)'", problem)
        return t("yaml.bad_start", char=quoted.group(1) if quoted else found or "@")
    if "expected ':'" in problem:
        return t("yaml.missing_colon")
    if "block end" in problem or "expected key" in problem or "block mapping" in context or "node content" in problem:
        return t("yaml.indentation")
    if "single document" in context:
        return t("yaml.two_documents")
    if "constructor for the tag" in problem:
        tag = re.search(r"tag '([^']+)'", problem)
        return t("yaml.tag", tag=tag.group(1).replace("tag:yaml.org,2002:", "!!") if tag else "!!")
    return t("yaml.other")


def _character_at(text: str | None, mark: Any) -> str | None:
    """The character of ``text`` at a YAML mark (line and column, from 0), if there is one."""
    if text is None or mark is None:
        return None
    lines = text.split("\n")
    if 0 <= mark.line < len(lines) and 0 <= mark.column < len(lines[mark.line]):
        return lines[mark.line][mark.column]
    return None


def _parsed(path: Path, text: str) -> Any:
    """``parse_yaml``, with every failure a DataError naming the file."""
    try:
        return parse_yaml(text)
    except (_yaml().yaml.YAMLError, ValueError) as error:  # ValueError: YamlRefused, or a value that cannot be
        raise DataError(f"{path}: {describe_error(error, text)}") from None


def read_yaml(path: Path) -> Any:
    """Parse a YAML file strictly, turning every failure into a DataError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: {t('data.unreadable', error=error)}") from None
    return _parsed(path, text)


def validation_message(error: ValidationError, prefix: str = "") -> str:
    """``prefix.field: problem`` for the first problem of a Pydantic error, in the user's language."""
    first = error.errors()[0]
    loc = ".".join(str(part) for part in first["loc"])
    where = ".".join(part for part in (prefix, loc) if part)
    problem = validation_problem(first)
    return f"{where}: {problem}" if where else problem


def validation_problem(found: ErrorDetails) -> str:
    """One problem Pydantic found, in the user's language: its own words are English.

    Each kind of problem Pydantic names (``int_parsing``, ``literal_error`` …) has a message in
    the catalogues (``pydantic.*``), filled in from what it says about it (the limit, the values
    allowed); a check of kitamono's own (a validator's ValueError, a PydanticCustomError) already
    speaks the user's language and is said as it is; any other kind of Pydantic's is said in
    general words."""
    from pydantic_core.core_schema import ErrorType

    from kitamono.i18n import catalogue, lang

    kind = found["type"]
    context = found.get("ctx") or {}
    if kind in ("value_error", "assertion_error") and "error" in context:
        return str(context["error"])
    if f"pydantic.{kind}" in catalogue(lang()):
        values = {name: _said(value) for name, value in context.items()}
        return t(f"pydantic.{kind}", **values)
    if kind in get_args(ErrorType):
        return t("pydantic.other")
    return found["msg"]  # a PydanticCustomError of kitamono's: already in the user's words


def _said(value: Any) -> str:
    """A value Pydantic quotes in an error as the catalogue's message shows it: the values a
    choice allows (``'food', 'it' or 'other'``) as a list in the user's language."""
    text = str(value)
    allowed = re.findall(r"'([^']*)'", text)
    return t("list.sep").join(allowed) if allowed else text


# --- case files -----------------------------------------------------------------------------------

#: Opening with this flag fails on a link instead of following it (not on Windows: asked apart).
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def read_case_text(path: Path) -> str:
    """The text of a case file; DataError if it is a symbolic link or cannot be read."""
    try:
        if not _NOFOLLOW and os.path.islink(path):
            raise OSError(errno.ELOOP, "symbolic link")
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
        with open(fd, encoding="utf-8") as handle:
            return handle.read()
    except OSError as error:
        if error.errno == errno.ELOOP:  # the file is a link: it is not opened at all
            raise DataError(f"{path}: {t('store.symlink')}") from None
        raise DataError(f"{path}: {t('data.unreadable', error=type(error).__name__)}") from None
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: {t('data.unreadable', error=type(error).__name__)}") from None


def parse_case_text(path: Path, text: str) -> dict[str, Any]:
    """The parsed data of a case file, or a DataError naming the file and what is wrong."""
    if CONFLICT_MARKERS.search(text):
        raise DataError(f"{path}: {t('store.conflict_markers')}")
    data = _parsed(path, text)
    if not isinstance(data, dict):
        raise DataError(f"{path}: {t('store.case_not_mapping')}")
    return data


def case_from_text(path: Path, text: str) -> Case:
    """The ``Case`` in a case file's text, or a DataError naming the file and what is wrong."""
    from pydantic import ValidationError

    from kitamono.models import STORED, Case

    data = parse_case_text(path, text)
    try:
        return Case.model_validate(data, context=STORED)  # what a hand edit left is shown, not hidden
    except ValidationError as error:
        raise DataError(f"{path}: {validation_message(error)}") from None


def load_case_file(path: Path) -> Case:
    """Read and validate one case file into a ``Case``."""
    return case_from_text(path, read_case_text(path))


def prepare_reading() -> None:
    """Load now what reading a case file loads on first use (PyYAML and its loader, the models):
    worker processes forked after this inherit them instead of each loading them again."""
    import pydantic  # noqa: F401

    import kitamono.models  # noqa: F401

    _yaml()


def case_text(case: Case) -> str:
    """The canonical text of a case: field order of the model, no defaults, stable quoting."""
    return dump_yaml(case.model_dump(mode="python", exclude_defaults=True))
