"""The dependency rules between the top-level packages, read from the source (no imports run).

Layers, innermost first: spatial (geometry, formats, rules) ← db (models, sessions,
migrations) and layers (guideline data) ← app (the web service). Inner packages never
import outer ones, and nothing but app/ knows the web framework.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FORBIDDEN = {
    "spatial": {"app", "db", "layers", "migrations", "fastapi", "starlette", "sqlalchemy"},
    "db": {"app", "layers", "migrations", "fastapi", "starlette"},
    "layers": {"app", "fastapi", "starlette"},
    "migrations": {"app", "layers", "fastapi", "starlette"},
}


def imported_packages(path: Path) -> set[tuple[str, int]]:
    """Return the top-level package of every import in a module, with its line number."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    found: set[tuple[str, int]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update((alias.name.split(".")[0], node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add((node.module.split(".")[0], node.lineno))
        elif isinstance(node, ast.Call) and _is_dynamic_import(node):
            found.add((node.args[0].value.split(".")[0], node.lineno))
    return found


def _is_dynamic_import(node: ast.Call) -> bool:
    name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
    return (
        name in {"import_module", "__import__"}
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def violations(package: str) -> list[str]:
    """List `file:line imports X` for every forbidden import in a package."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for imported, line in sorted(imported_packages(path)):
            if imported in FORBIDDEN[package]:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {imported}")
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_inner_packages(package):
    assert violations(package) == []


def test_spatial_reads_no_files_of_other_packages():
    # importlib.resources.files("layers") would be a dependency the import walk misses.
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "spatial").rglob("*.py")
        for other in ("app", "layers", "db")
        if f'files("{other}")' in path.read_text("utf-8")
    ]
    assert offenders == []


def test_the_walk_sees_every_kind_of_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "import app.main\nfrom layers import registry\nimport importlib\n"
        "importlib.import_module('db.models')\nfrom . import sibling\n"
    )
    assert {name for name, _ in imported_packages(module)} == {"app", "layers", "importlib", "db"}
