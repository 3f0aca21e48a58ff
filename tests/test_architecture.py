"""The shape of the code, kept true: imports flow one way, the core is silent, catalogues match."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import kitamono
from kitamono.locale.en import MESSAGES as EN
from kitamono.locale.ja import MESSAGES as JA

SOURCE = Path(kitamono.__file__).parent
#: The entry points (``__main__``, ``launch``) start the command line; everything else below cli/ is core.
ENTRY_POINTS = ("__main__.py", "launch.py")
CORE = [p for p in SOURCE.rglob("*.py") if "cli" not in p.relative_to(SOURCE).parts and p.name not in ENTRY_POINTS]
#: Modules (and packages) that compute without touching the disk.
PURE = {"models", "fiscal", "cases", "checks", "listings", "routing", "followup", "reports", "merge", "i18n"}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_nothing_outside_cli_imports_typer_or_the_cli():
    for path in CORE:
        bad = {m for m in _imports(path) if m.split(".")[0] in ("typer", "click") or m.startswith("kitamono.cli")}
        assert not bad, f"{path.name} imports {bad}"


def test_nothing_imports_click_directly():
    for path in SOURCE.rglob("*.py"):
        assert not any(m.split(".")[0] == "click" for m in _imports(path)), path


def test_the_core_never_prints_or_exits():
    for path in CORE:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in ("print", "exit", "quit"), f"{path.name}:{node.lineno}"
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                assert (node.value.id, node.attr) != ("sys", "exit"), f"{path.name}:{node.lineno}"


def test_pure_modules_do_not_touch_the_disk():
    disk = re.compile(r"\b(open\(|read_text|write_text|read_bytes|write_bytes|os\.replace|subprocess|unlink\()")
    for path in CORE:
        if path.stem in PURE or path.parent.name in PURE:
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                assert not disk.search(line), f"{path.name}:{number}: {line.strip()}"


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_catalogues_have_the_same_keys_and_placeholders():
    assert list(JA) == list(EN)
    for key in JA:
        assert _fields(JA[key]) == _fields(EN[key]), key


def test_every_message_the_code_asks_for_exists():
    used: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        if path.parent.name == "locale":
            continue
        used.update(re.findall(r"""\bt\(\s*["']([a-z_]+(?:\.[a-z_0-9]+)+)["']""", path.read_text(encoding="utf-8")))
    missing = sorted(key for key in used if key not in JA)
    assert not missing


def test_every_vocabulary_value_has_a_label():
    from kitamono.models import CASE_FIELDS, CHANNELS, COMPETENCES, EVENT_TYPES, INSTITUTION_KINDS, STATUSES

    for kind, values in [("field", CASE_FIELDS), ("channel", CHANNELS), ("competence", COMPETENCES),
                         ("event", EVENT_TYPES), ("kind", INSTITUTION_KINDS), ("status", STATUSES)]:  # fmt: skip
        for value in values:
            assert f"{kind}.{value}" in JA, f"{kind}.{value}"


def _commands() -> list[str]:
    from typer.main import get_command

    from kitamono.cli import app

    names: list[str] = []
    root = get_command(app)
    for name, command in root.commands.items():
        if getattr(command, "hidden", False):
            continue
        sub = getattr(command, "commands", None)
        if sub:
            names += [f"{name} {s}" for s, c in sub.items() if not getattr(c, "hidden", False)]
        else:
            names.append(name)
    return names


def test_every_command_is_in_the_readme():
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    missing = [name for name in _commands() if f"kitamono {name}" not in readme]
    assert not missing
