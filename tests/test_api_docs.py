"""The API reference (docs/api.md, issue 30): every public name is in it and documented,
and what returns numbers says in what unit and shape.

Read with griffe, as mkdocstrings reads it for the site (``make docs`` builds the site in
strict mode); no build here, so this runs in about a second.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

griffe = pytest.importorskip("griffe")

import casualty_models as cm  # noqa: E402
from casualty_models import plots, report  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
API = ROOT / "docs" / "api.md"
UNITS = re.compile(
    r"people|factor|percent|points|\blog\b|probabilit|p-value|\bdays?\b|×|share|level|"
    r"\brows?\b|one per|\(chain, draw|\(sample|\(series|\(n_claims|Axes"
)
"""What a docstring of a table, an array or a number says: a unit, or a shape."""


def _directives() -> list[tuple[str, list[str] | None]]:
    """Each ``::: name`` of the reference, with its ``members:`` option if any."""
    out = []
    lines = API.read_text(encoding="utf-8").splitlines()
    for k, line in enumerate(lines):
        if line.startswith("::: "):
            members = None
            for nxt in lines[k + 1 : k + 4]:
                m = re.match(r"\s+members: \[(.*)\]", nxt)
                if m:
                    members = [x.strip() for x in m[1].split(",")]
            out.append((line[4:].strip(), members))
    return out


@pytest.fixture(scope="module")
def package():
    loader = griffe.GriffeLoader()
    pkg = loader.load("casualty_models")
    loader.resolve_aliases(implicit=False, external=False)
    return pkg


def _object(package, path: str):
    obj = package
    for part in path.split(".")[1:]:
        obj = obj[part]
    return obj.final_target if obj.is_alias else obj


def test_every_public_name_is_in_the_reference():
    named = {name for name, _ in _directives()}
    short = {n.rsplit(".", 1)[-1] for n in named}
    wanted = {n for n in cm.__all__ if n != "__version__"}
    wanted |= {n for n in plots.__all__ if n.startswith("plot_") or n == "save_figure"}
    wanted |= {n for n in report.__all__ if n != "PLOT_FILES" and n != "build_document"}
    assert wanted <= short, sorted(wanted - short)


def _documented(obj) -> list[str]:
    """The public names under ``obj`` (itself included) without a docstring."""
    missing = []
    if not (obj.docstring and obj.docstring.value.strip()):
        missing.append(obj.path)
    if obj.is_class:
        doc = obj.docstring.value if obj.docstring else ""
        for name, member in obj.members.items():
            if name.startswith("_"):
                continue
            target = member.final_target if member.is_alias else member
            if target.is_attribute:
                # a dataclass field may be described in its class's docstring instead
                if not (target.docstring or f"``{name}``" in doc or f"`{name}`" in doc):
                    missing.append(target.path)
            elif not (target.docstring and target.docstring.value.strip()):
                missing.append(target.path)
    return missing


def test_every_name_in_the_reference_is_documented(package):
    missing = []
    for name, members in _directives():
        obj = _object(package, name)
        if members is not None:  # a module shown through some of its members
            for m in members:
                missing += _documented(obj[m].final_target if obj[m].is_alias else obj[m])
            missing += [] if obj.docstring else [obj.path]
        else:
            missing += _documented(obj)
    assert not missing, "undocumented: " + ", ".join(missing)


RESULTS = ("Estimate", "Comparison", "Backtest", "Diagnostics")


@pytest.mark.parametrize("cls", RESULTS)
def test_what_returns_numbers_says_its_unit_or_shape(package, cls):
    """A method or property of a result that returns a DataFrame, an array or a number
    says what its numbers are: people, factors, percent, a p-value, ... or its shape."""
    obj = _object(package, f"casualty_models.{cls}")
    vague = []
    for name, member in obj.members.items():
        target = member.final_target if member.is_alias else member
        if name.startswith("_") or not (target.is_function or target.is_attribute):
            continue
        returns = str(getattr(target, "returns", None) or getattr(target, "annotation", ""))
        if not re.search(r"DataFrame|ndarray", returns):
            continue
        doc = target.docstring.value if target.docstring else ""
        if not doc and target.is_attribute:  # a field the class docstring describes
            doc = obj.docstring.value if f"``{name}``" in obj.docstring.value else ""
        if not UNITS.search(doc):
            vague.append(f"{cls}.{name} -> {returns}")
    assert not vague, "say the unit or shape: " + "; ".join(vague)


def test_the_roles_extension_writes_code_spans():
    from tools.griffe_roles import plain

    assert plain(":func:`fit` and :meth:`~casualty_models.Estimate.summary`") == (
        "`fit` and `summary`"
    )
    assert plain(":data:`casualty_models.DEFAULT_LEVEL`") == "`casualty_models.DEFAULT_LEVEL`"
