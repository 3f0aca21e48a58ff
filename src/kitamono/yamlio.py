"""Reading and writing kitamono's YAML safely and deterministically.

Reading refuses what a hand-edited or hostile file could abuse: anchors and aliases (a few
hundred bytes of nested aliases expand into gigabytes), tags that build Python objects, and
duplicate keys (the second would silently win). Writing is byte-stable: the same data always
gives the same text, multi-line text uses the ``|`` style, and strings that YAML 1.1 would read
as something else (``NO``, ``on``, ``0100``, ``2019-05-14``) or that are all digits are quoted.
The C loader and dumper are used when PyYAML has them; every rule holds for both.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class YamlRefused(ValueError):
    """The text is valid YAML but uses a construct kitamono refuses (alias, duplicate key)."""


class _StrictLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:
                raise YamlRefused(f"line {key_node.start_mark.line + 1}: a key must be plain text") from None
            if duplicate:
                raise YamlRefused(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_StrictLoader.add_constructor("tag:yaml.org,2002:map", _StrictLoader.construct_mapping)


def _refuse_anchors(text: str) -> None:
    """Scan the events of a text that might hold anchors or aliases, and refuse any."""
    for event in yaml.parse(text, Loader=_BaseLoader):
        if isinstance(event, yaml.AliasEvent):
            raise YamlRefused(f"line {event.start_mark.line + 1}: YAML aliases (*name) are not allowed")
        if getattr(event, "anchor", None):
            raise YamlRefused(f"line {event.start_mark.line + 1}: YAML anchors (&name) are not allowed")


def load(text: str) -> Any:
    """Parse one YAML document strictly. Raises ``yaml.YAMLError`` or ``YamlRefused``."""
    if "&" in text or "*" in text:  # cheap test first: most files have neither character
        _refuse_anchors(text)
    return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a safe loader with extra rules


# --- writing ------------------------------------------------------------------------------------

_DIGITS = re.compile(r"^[0-9][0-9_.:+-]*$")


class _StableDumper(_BaseDumper):  # type: ignore[misc, valid-type]
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        # Trailing spaces on a line make the | style impossible; fall back to a quoted scalar.
        if not any(line != line.rstrip() for line in value.split("\n")):
            return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    if _DIGITS.match(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="'")
    return dumper.represent_str(value)


_StableDumper.add_representer(str, _represent_str)


def dump(data: Any) -> str:
    """The canonical text of ``data``: key order kept, Japanese as itself, no aliases."""
    return yaml.dump(
        data,
        Dumper=_StableDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=10_000,
    )


def describe_error(error: Exception) -> str:
    """One line for a YAML error, with the line number where PyYAML knows it."""
    if isinstance(error, YamlRefused):
        return str(error)
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    if mark is not None:
        return f"line {mark.line + 1}: {problem}"
    return problem
