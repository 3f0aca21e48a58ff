"""The shape of the code, kept true: imports flow one way, the core is silent, catalogues match.

The import graph is read from the source, every import counted: those inside functions (made
there only to load less at start-up, they are imports all the same), ``from kitamono import x``,
the modules a package's ``__init__`` imports when a module inside it is first loaded, and the
modules a package imports by name when one of its names is first asked for (``gitsync``).
"""

from __future__ import annotations

import ast
import re
import string
from functools import cache
from pathlib import Path

import pytest

import kitamono
from kitamono.locale.en import MESSAGES as EN
from kitamono.locale.ja import MESSAGES as JA

SOURCE = Path(kitamono.__file__).parent
#: The entry points (``__main__``, ``launch``) start the command line; everything else below cli/ is core.
ENTRY_POINTS = ("__main__.py", "launch.py")
CORE = [p for p in SOURCE.rglob("*.py") if "cli" not in p.relative_to(SOURCE).parts and p.name not in ENTRY_POINTS]
#: Modules (and packages) that compute without touching the disk.
PURE = {"models", "records", "fiscal", "cases", "checks", "listings", "routing", "followup", "reports", "merge", "i18n"}

#: The layers, lowest first. A module imports only from its own layer or those below; a module
#: named here exactly is placed by that name, any other by the longest ``package.*`` that holds it.
#: The domain computes and returns data; rendering consumes it, never the reverse.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundations", ("kitamono", "kitamono.errors", "kitamono.ids", "kitamono.controls", "kitamono.locale",
                     "kitamono.locale.*")),
    ("messages", ("kitamono.i18n",)),
    ("records", ("kitamono.models", "kitamono.records", "kitamono.fiscal")),  # records: the index's CaseRecord
    ("files", ("kitamono.caseio", "kitamono.sheets", "kitamono.gitsync.git")),  # YAML and case text; sheets; git
    ("store", ("kitamono.store",)),  # the case folder, its lock, the only writer
    ("caches", ("kitamono.cache",)),  # file stamps, the racy-clean rule, the safe unpickler
    ("reference", ("kitamono.reference",)),
    ("rules", ("kitamono.cases", "kitamono.followup", "kitamono.routing", "kitamono.checks", "kitamono.merge")),
    ("work", ("kitamono.index", "kitamono.casework", "kitamono.exchange", "kitamono.repository", "kitamono.gitsync",
              "kitamono.gitsync.*")),
    ("reports", ("kitamono.listings", "kitamono.reports", "kitamono.reports.*")),
    ("render", ("kitamono.render", "kitamono.failures")),  # failures: how an error is said
    ("commands", ("kitamono.cli", "kitamono.cli.*", "kitamono.web", "kitamono.web.*")),  # web: never imports cli
    ("entry points", ("kitamono.launch", "kitamono.__main__")),
]  # fmt: skip


def _module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(SOURCE.rglob("*.py"))}


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _imported(node: ast.Import | ast.ImportFrom, importer: str) -> set[str]:
    """The kitamono modules one import statement loads, each named by the deepest module that exists."""
    if isinstance(node, ast.Import):
        targets = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:  # relative: from the importer's package upwards
            package = importer if _is_package(importer) else importer.rpartition(".")[0]
            for _ in range(node.level - 1):
                package = package.rpartition(".")[0]
            base = f"{package}.{base}" if base else package
        targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
    found = set()
    for target in targets:
        while target and target not in MODULES:
            target = target.rpartition(".")[0]
        if target:
            found.add(target)
    return found


@cache
def _tree(name: str) -> ast.Module:
    return ast.parse(MODULES[name].read_text(encoding="utf-8"))


@cache
def _loaded_with(name: str) -> frozenset[str]:
    """What loading the module ``name`` imports at once: its top-level import statements."""
    found: set[str] = set()
    for node in _tree(name).body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found |= _imported(node, name)
    return frozenset(found - {name})


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:n]) for n in range(1, len(parts))]


@cache
def imports_of(name: str) -> frozenset[str]:
    """Every kitamono module that ``name`` imports, wherever the import statement stands."""
    found: set[str] = set()
    for node in ast.walk(_tree(name)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            found |= _imported(node, name)
        elif (
            isinstance(node, ast.Call) and _is_package(name)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) == "import_module"
        ):  # fmt: skip
            # A package that imports its own modules by name when one of its names is asked for.
            found |= {m for m in MODULES if m.rpartition(".")[0] == name}
    # Loading a module first loads the packages that hold it (those outside the importer's own).
    own = {name, *_parents(name)}
    for target in list(found):
        for package in _parents(target):
            if package not in own:
                found |= _loaded_with(package)
    return frozenset(found - {name})


def layer_of(name: str) -> int:
    for number, (_, names) in enumerate(LAYERS):
        if name in names:
            return number
    best: tuple[int, int] | None = None
    for number, (_, names) in enumerate(LAYERS):
        for pattern in names:
            wider = best is None or len(pattern) > best[0]
            if pattern.endswith(".*") and name.startswith(pattern[:-1]) and wider:
                best = (len(pattern), number)
    if best is None:
        raise LookupError(f"{name} is in no layer: place it in LAYERS")
    return best[1]


def _cycles() -> list[list[str]]:
    """The import cycles: every strongly connected group of two or more modules (Tarjan)."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(name: str) -> None:
        order[name] = low[name] = len(order)
        stack.append(name)
        for target in sorted(imports_of(name)):
            if target not in order:
                visit(target)
                low[name] = min(low[name], low[target])
            elif target in stack:
                low[name] = min(low[name], order[target])
        if low[name] == order[name]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == name:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for name in sorted(MODULES):
        if name not in order:
            visit(name)
    return groups


def test_the_import_graph_is_read_whole():
    """The reading itself: imports inside functions, ``from kitamono import x``, relative imports,
    a package's own imports and the modules a package imports by name all count."""
    assert "kitamono.gitsync.git" in imports_of("kitamono.store")  # inside a function
    assert "kitamono.cli" in imports_of("kitamono.launch")  # inside a function, a package
    assert "kitamono" in imports_of("kitamono.index")  # from kitamono import __version__
    assert "kitamono.cache" in imports_of("kitamono.index")  # from kitamono import cache
    assert "kitamono.gitsync.syncing" in imports_of("kitamono.gitsync")  # by name, when first asked for
    assert "kitamono.locale.ja" in imports_of("kitamono.i18n")


def test_there_is_no_import_cycle():
    assert _cycles() == []


def test_every_module_is_in_one_layer_and_every_layer_name_is_a_module():
    for name in MODULES:
        layer_of(name)
    named = [n for _, names in LAYERS for n in names]
    assert len(named) == len(set(named))
    assert [n for n in named if not n.endswith(".*") and n not in MODULES] == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_run_down_the_layers(name):
    """Nothing imports from a layer above its own: the domain never from rendering or commands."""
    upward = sorted(
        f"{target} ({LAYERS[layer_of(target)][0]})" for target in imports_of(name) if layer_of(target) > layer_of(name)
    )
    assert upward == [], f"{name} ({LAYERS[layer_of(name)][0]}) imports from above"


def _guarded_imports(tree: ast.Module) -> list[int]:
    """Lines of ``try: import kitamono… except ImportError``: the project's own modules are always there."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
            isinstance(handler.type, ast.Name) and handler.type.id in ("ImportError", "ModuleNotFoundError")
            for handler in node.handlers
        ):
            for statement in node.body:
                if any(n.startswith("kitamono") for n in _statement_modules(statement)):
                    found.append(statement.lineno)
    return found


def _statement_modules(statement: ast.stmt) -> list[str]:
    if isinstance(statement, ast.Import):
        return [alias.name for alias in statement.names]
    if isinstance(statement, ast.ImportFrom):
        return [statement.module or ""] if not statement.level else ["kitamono"]
    return []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_import_of_the_project_itself_is_guarded(name):
    assert _guarded_imports(_tree(name)) == []


def test_one_safe_unpickler_reads_every_cache():
    """Every cache is read through ``cache.SafeUnpickler``; no other class extends pickle's own."""
    direct = []
    for name in MODULES:
        for node in ast.walk(_tree(name)):
            if isinstance(node, ast.ClassDef):
                bases = {ast.unparse(base) for base in node.bases}
                if bases & {"pickle.Unpickler", "Unpickler", "_pickle.Unpickler"}:
                    direct.append(f"{name}.{node.name}")
    assert direct == ["kitamono.cache.SafeUnpickler"]


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
