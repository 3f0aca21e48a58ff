"""How kitamono is packaged: one version, and the reference data inside the package.

kitamono reads its reference data from the package (``src/kitamono/data/``, installed as
``kitamono/data``). The top-level ``data/`` holds the same files where users look for them.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import kitamono
from kitamono.reference import shipped_data_dir

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DATA = ROOT / "src" / "kitamono" / "data"


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_the_top_level_data_is_the_packages_data_byte_for_byte():
    """Edit src/kitamono/data/ (what kitamono reads) and copy the file to data/, or the reverse."""
    package, top = _files(PACKAGE_DATA), _files(ROOT / "data")
    assert sorted(package) == sorted(top)
    assert [name for name in package if package[name] != top[name]] == []


def test_the_reference_data_is_read_from_the_package_itself():
    assert shipped_data_dir() == Path(kitamono.__file__).parent / "data"
    assert {p.name for p in shipped_data_dir().glob("*.yaml")} == {p.name for p in PACKAGE_DATA.glob("*.yaml")}


def test_the_version_is_written_once():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["hatch"]["version"]["path"] == "src/kitamono/__init__.py"
    assert kitamono.__version__.count(".") == 2
