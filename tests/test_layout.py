"""The package's layout: imports point one way, and modules stay readable in size."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "casualty_models"

# Lower layers first; a module may import only from its own layer or the ones before it.
LAYERS: list[set[str]] = [
    {"_version", "_atomic", "_backend", "_cells", "_ess", "_format", "_hooks", "outputs"},
    {"claims"},
    {"readers"},
    {"examples"},
    {"model.priors", "model.categories", "model.preset_files", "model.priors_schema"},
    {"model.tallies", "model.grid"},
    {"model.inputs"},
    {"model.data"},
    {"model.graph", "model.skeleton", "model.priors_file"},
    {"model"},
    {"atlas", "atlas.data", "atlas.model", "atlas.simulate", "atlas.preset", "atlas.plot"},
    {"diagnostics", "io"},
    {"estimate"},
    {"_compiled"},
    {"_warm", "_nutpie", "runs"},
    {"fitting"},
    {"_parallel"},
    {"loglik", "claim_changes"},
    {"trust", "backtest", "sensitivity", "atlas.loo"},
    {"attribution"},
    {"compare_text", "history"},
    {"compare"},
    {"plots"},
    {"report"},
    {"cli"},
    {""},  # the package itself: imports everything to register the late-bound methods
]
MAX_LINES = 600
"""A module longer than this says why in its docstring."""
HARD_MAX_LINES = 1000
"""No module is longer than this, whatever the reason."""


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        out[".".join(parts)] = path
    return out


def _runtime_imports(path: Path, name: str, modules: set[str]) -> set[str]:
    """Package modules ``path`` imports at run time (``if TYPE_CHECKING:`` blocks aside)."""
    return _imports_of(ast.parse(path.read_text()), path, name, modules)


def _imports_of(tree: ast.AST, path: Path, name: str, modules: set[str]) -> set[str]:
    """Package modules the module ``name`` (parsed as ``tree``, from ``path``) imports
    anywhere: at top level or inside a function (``if TYPE_CHECKING:`` blocks aside)."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                pkg = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                pkg = pkg[: len(pkg) - (node.level - 1)]
                base = ".".join(["casualty_models", *pkg, *([base] if base else [])])
            # `from pkg import name`: the submodule pkg.name if there is one, else pkg
            targets = [
                f"{base}.{a.name}"
                if f"{base}.{a.name}".removeprefix("casualty_models.") in modules
                else base
                for a in node.names
            ]
        for t in targets:
            if t == "casualty_models" or t.startswith("casualty_models."):
                mod = t.removeprefix("casualty_models").lstrip(".")
                # the deepest package module the import names
                while mod not in modules and "." in mod:
                    mod = mod.rsplit(".", 1)[0]
                if mod in modules and mod != name:
                    found.add(mod)
    return found


def _layer(mod: str) -> int:
    for i, layer in enumerate(LAYERS):
        top = mod.split(".")[0]
        # plots/, report/, readers/ and cli/ are one layer each, whatever their inner modules
        if mod in layer or (top in layer and top in {"plots", "report", "readers", "cli"}):
            return i
    raise AssertionError(f"module {mod!r} has no layer in tests/test_layout.py: add it")


def test_every_import_points_down_the_layers():
    modules = _modules()
    upward = []
    for name, path in modules.items():
        for target in _runtime_imports(path, name, set(modules)):
            # a package's __init__ may gather its own submodules
            if target.startswith(f"{name}.") or name.startswith(f"{target}."):
                continue
            if _layer(target) > _layer(name):
                upward.append(f"{name} imports {target}")
    assert not upward, "imports pointing up the layers:\n" + "\n".join(sorted(upward))


def _import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports at run time, late imports (inside
    functions) included. Two kinds of edge are left out: into the package root, which
    imports everything on purpose, and from a module to a package that holds it (a
    package's ``__init__`` gathering its submodules, which reach a sibling through the
    package, is not a cycle of logic)."""
    modules = _modules()
    graph = {}
    for name, path in modules.items():
        graph[name] = {
            m
            for m in _runtime_imports(path, name, set(modules))
            if m != "" and not name.startswith(f"{m}.")
        }
    graph[""] = set()
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def test_there_are_no_import_cycles():
    """No two modules import each other, directly or through others, at import time or
    later (an import inside a function counts: it hides a cycle, it does not break it),
    within a package as between packages."""
    cycles = _cycles(_import_graph())
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_the_cycle_check_sees_a_late_import_cycle_inside_a_package():
    """report.facts -> report.figures and a late ``from report.facts import ...`` back in
    a function of report.figures: the cycle issue 30 removed, caught again."""
    graph = {
        "report": {"report.facts"},
        "report.facts": {"report.figures"},
        "report.figures": {"report.facts"},
        "report.html": set(),
    }
    assert _cycles(graph) == [["report.facts", "report.figures"]]
    late = ast.parse("def f():\n    from casualty_models.report.facts import focus_series\n")
    tmp = PACKAGE / "report" / "figures.py"
    names = {"report.facts", "report.figures", "report"}
    assert "report.facts" in _imports_of(late, tmp, "report.figures", names)


@pytest.mark.parametrize("name", sorted(_modules()))
def test_modules_stay_readable_in_size(name):
    """No module over :data:`HARD_MAX_LINES`; over :data:`MAX_LINES` only with the
    reason in its docstring ("Over 600 lines because ...")."""
    path = _modules()[name]
    n = len(path.read_text().splitlines())
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    where = path.relative_to(PACKAGE.parent)
    assert n <= HARD_MAX_LINES, f"{where} has {n} lines: split it (at most {HARD_MAX_LINES})"
    assert n <= MAX_LINES or re.search(r"Over \d+ lines because", doc), (
        f"{where} has {n} lines: split it, or say why in its docstring "
        f'("Over {MAX_LINES} lines because ...")'
    )
