"""The import graph, read from the code: create_app → areas → models → db, never back up.

Every import counts, also one inside a function body: a deferred import is still a dependency,
only a hidden one."""

from __future__ import annotations

import ast
from pathlib import Path

WEBAPP = Path(__file__).resolve().parents[1] / "webapp"
# What a model module may import besides other models: the database and the time helpers.
BELOW_THE_MODELS = {"webapp.db", "webapp.timeutil"}


def module_name(path: Path) -> str:
    parts = path.relative_to(WEBAPP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in WEBAPP.rglob("*.py")}


def imports(module: str) -> set[str]:
    """The webapp modules `module` imports, anywhere in it. `from webapp import x` names the
    module webapp.x when there is one, else the package's own __init__ (webapp)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        else:
            continue
        found.update(name for name in names if name == "webapp" or name.startswith("webapp."))
    found.discard(module)
    return found


GRAPH = {module: imports(module) for module in MODULES}
MODELS = {m for m in MODULES if m == "webapp.models" or m.startswith("webapp.models.")}


def test_the_graph_is_read_from_the_code() -> None:
    # Guards the reader itself: known edges of each kind are seen.
    assert "webapp.models.people" in GRAPH["webapp.models.cases"]  # from … import …
    assert "webapp.models" in GRAPH["webapp.cases"]  # from webapp import models
    assert "webapp.db" in GRAPH["webapp"]  # the package's own __init__
    assert "webapp.models.cases" in GRAPH["webapp.models"]


def test_the_models_import_each_other_without_a_circle() -> None:
    def circle_from(start: str, path: list[str]) -> list[str] | None:
        for target in sorted(GRAPH[path[-1]] & MODELS):
            if target == start:
                return [*path, target]
            if target not in path:
                found = circle_from(start, [*path, target])
                if found:
                    return found
        return None

    circles = [c for m in sorted(MODELS) if (c := circle_from(m, [m]))]
    assert circles == [], " → ".join(circles[0])


def test_the_models_import_nothing_above_them() -> None:
    above = {
        (model, target) for model in MODELS for target in GRAPH[model] - MODELS - BELOW_THE_MODELS
    }
    assert above == set()


def test_db_imports_no_model() -> None:
    assert {t for t in GRAPH["webapp.db"] if t.startswith("webapp")} == set()


def test_nothing_imports_back_up_into_create_app() -> None:
    # webapp/__init__.py holds create_app; a module that imports from it depends on the whole
    # app being built. Extensions and settings belong in modules of their own.
    back_up = {module for module, targets in GRAPH.items() if "webapp" in targets}
    assert back_up == set()
