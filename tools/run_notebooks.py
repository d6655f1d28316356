"""Execute the project's notebooks and save the executed copies (``make notebook``).

Every notebook in ``notebooks/`` runs: a jupytext ``.py`` file, or an ``.ipynb`` that has
no ``.py`` twin. Each runs with nbclient in its own folder (so its relative paths work),
with ``CASUALTY_MODELS_FAST=1`` (short sampler runs) and matplotlib's headless inline
backend (no display needed; unlike ``Agg`` it keeps each figure in the cell's output, so
the docs site shows the plots), and the executed copy is written to
``build/notebooks/<name>.ipynb``; the sources stay clean.
Every notebook is run even after one fails; the exit status is 1 if any cell of any
notebook failed (its stale executed copy is removed, so nothing downstream renders it).
A bundled notebook must also show, among its executed outputs, the rich HTML displays
:data:`EXPECTED_DISPLAYS` names for it (an Estimate's, a ClaimSet's, a Comparison's:
``_repr_html_``, casualty_models/report/notebook.py); one that does not fails too.

    python tools/run_notebooks.py                        # all of notebooks/
    python tools/run_notebooks.py notebooks/01_seed_estimate.py --out build/notebooks
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
OUT = ROOT / "build" / "notebooks"
# MPLBACKEND=Agg would run headless too, but plt.show() then drops the figures
ENV = {"CASUALTY_MODELS_FAST": "1", "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
EXPECTED_DISPLAYS: dict[str, set[str]] = {
    "01_seed_estimate": {"claims", "estimate"},
    "02_full_war": {"claims", "estimate"},
    "03_update": {"comparison"},
}
"""The rich displays each bundled notebook shows (its outputs' ``text/html``)."""
_DISPLAY = re.compile(r'<div class="cm-repr cm-(\w+)">')


def rich_displays(nb: Any) -> set[str]:
    """The kinds of casualty_models display ("estimate", "claims", "comparison") among a
    notebook's ``text/html`` outputs."""
    found = set()
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            html = out.get("data", {}).get("text/html", "")
            found.update(_DISPLAY.findall("".join(html) if isinstance(html, list) else html))
    return found


def discover(folder: Path) -> list[Path]:
    """The notebooks of ``folder``: each ``.py``, and each ``.ipynb`` without a ``.py`` twin."""
    found = sorted(folder.glob("*.py"))
    found += [p for p in sorted(folder.glob("*.ipynb")) if not p.with_suffix(".py").exists()]
    return sorted(found)


def output_path(src: Path, out_dir: Path) -> Path:
    return out_dir / f"{src.stem}.ipynb"


def _short(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _first_line(cell: Any) -> str:
    for line in str(cell.source).splitlines():
        if line.strip():
            return line.strip()[:60]
    return ""


def execute(src: Path, dst: Path, *, timeout: int) -> None:
    """Run ``src`` top to bottom and write the executed notebook to ``dst``.

    Raises nbclient's ``CellExecutionError`` (or ``CellTimeoutError``) on the first cell
    that fails; ``dst`` is then not written.
    """
    import jupytext
    import nbclient

    nb = jupytext.read(src)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    started: dict[int, float] = {}

    def on_start(cell: Any, cell_index: int) -> None:
        started[cell_index] = time.perf_counter()

    def on_executed(cell: Any, cell_index: int, execute_reply: Any) -> None:
        if cell.cell_type != "code":
            return
        seconds = time.perf_counter() - started.get(cell_index, time.perf_counter())
        n = code.index(cell_index) + 1 if cell_index in code else "?"
        print(f"  cell {n}/{len(code)} {seconds:6.1f} s  {_first_line(cell)}", flush=True)

    client = nbclient.NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNELSPEC["name"],
        resources={"metadata": {"path": str(src.parent)}},
        on_cell_start=on_start,
        on_cell_executed=on_executed,
    )
    client.execute(env={**os.environ, **ENV})  # the kernel's environment; ours is left alone
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.stem}.tmp.ipynb")  # hidden: no glob of *.ipynb sees it
    jupytext.write(nb, tmp)
    missing = EXPECTED_DISPLAYS.get(src.stem, set()) - rich_displays(nb)
    if missing:
        tmp.unlink()
        raise RuntimeError(
            f"{src.name} ran, but shows no rich display of: {', '.join(sorted(missing))} "
            "(end a cell with the object itself)"
        )
    print(f"  rich displays: {', '.join(sorted(rich_displays(nb))) or 'none'}", flush=True)
    os.replace(tmp, dst)


def run_all(notebooks: Iterable[Path], out_dir: Path, *, timeout: int) -> list[Path]:
    """Execute each notebook; returns those that failed."""
    failed = []
    for src in notebooks:
        dst = output_path(src, out_dir)
        print(f"executing {_short(src)} -> {_short(dst)} (CASUALTY_MODELS_FAST=1)", flush=True)
        t = time.perf_counter()
        try:
            execute(src, dst, timeout=timeout)
        except Exception as exc:  # a failing cell, a timeout, a dead kernel: report, go on
            dst.unlink(missing_ok=True)
            print(f"FAILED {_short(src)} after {time.perf_counter() - t:.0f} s:", flush=True)
            print(str(exc), file=sys.stderr, flush=True)
            failed.append(src)
        else:
            print(f"done {_short(src)} in {time.perf_counter() - t:.0f} s", flush=True)
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "notebooks", nargs="*", type=Path, help="notebooks to run (default: all of notebooks/)"
    )
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the executed copies")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    args = parser.parse_args(argv)

    notebooks = [p.resolve() for p in args.notebooks] or discover(NOTEBOOKS)
    missing = [p for p in notebooks if not p.is_file()]
    if missing:
        parser.error("no such notebook: " + ", ".join(map(str, missing)))
    if not notebooks:
        print(f"no notebook in {_short(NOTEBOOKS)}/; nothing to run")
        return 0
    failed = run_all(notebooks, args.out.resolve(), timeout=args.timeout)
    if failed:
        print(
            f"{len(failed)} of {len(notebooks)} notebooks failed: "
            + ", ".join(_short(p) for p in failed),
            file=sys.stderr,
        )
        return 1
    print(f"all {len(notebooks)} notebooks ran")
    return 0


if __name__ == "__main__":
    sys.exit(main())
