"""The package's layout: imports point one way, and modules stay readable in size."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "casualty_models"

# Lower layers first; a module may import only from its own layer or the ones before it.
LAYERS: list[set[str]] = [
    {"_version", "_atomic", "_backend", "_cells", "_format", "_hooks", "outputs"},
    {"claims"},
    {"readers"},
    {"model.priors", "model.categories"},
    {"model.tallies", "model.grid"},
    {"model.inputs"},
    {"model.graph", "model.priors_file"},
    {"model"},
    {"diagnostics", "io"},
    {"estimate"},
    {"_nutpie_compile"},
    {"_warm", "_nutpie", "runs"},
    {"fitting"},
    {"_parallel"},
    {"loglik", "claim_changes"},
    {"trust", "backtest"},
    {"attribution"},
    {"compare_text", "history"},
    {"compare"},
    {"plots"},
    {"report"},
    {"cli"},
    {""},  # the package itself: imports everything to register the late-bound methods
]
MAX_LINES = 500


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        out[".".join(parts)] = path
    return out


def _runtime_imports(path: Path, name: str, modules: set[str]) -> set[str]:
    """Package modules ``path`` imports at run time (``if TYPE_CHECKING:`` blocks aside)."""
    tree = ast.parse(path.read_text())
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


def test_there_are_no_import_cycles():
    modules = _modules()
    graph = {n: _runtime_imports(p, n, set(modules)) for n, p in modules.items()}
    graph[""] = set()  # the package root imports everything on purpose
    state: dict[str, int] = {}
    cycles = []

    def visit(n: str, stack: list[str]) -> None:
        state[n] = 1
        for m in graph.get(n, ()):
            if m == "":
                continue
            if state.get(m) == 1:
                cycles.append(" -> ".join([*stack[stack.index(m) :], m]))
            elif m not in state:
                visit(m, [*stack, m])
        state[n] = 2

    for n in graph:
        if n not in state:
            visit(n, [n])
    # a package's __init__ importing its submodules, which import siblings through the
    # package, is not a cycle of logic; only cycles between distinct modules count
    real = [c for c in cycles if len({x.split(".")[0] for x in c.split(" -> ")}) > 1]
    assert not real, "import cycles:\n" + "\n".join(real)


@pytest.mark.parametrize("name", sorted(_modules()))
def test_modules_stay_under_500_lines_or_say_why(name):
    path = _modules()[name]
    n = len(path.read_text().splitlines())
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    assert n <= MAX_LINES or "Over 500 lines because" in doc, (
        f"{path.relative_to(PACKAGE.parent)} has {n} lines: split it, or say why in its "
        'docstring ("Over 500 lines because ...")'
    )
