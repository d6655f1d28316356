"""Screenshots of where users meet the library (issue 30), into docs/screenshots/.

    python tools/surface_screenshots.py              # every surface (two short seed fits)
    python tools/surface_screenshots.py --only report notebook

Each surface as a user sees it, in headless Chromium (the browser the report's tests
drive, tests/browser.py):

* ``notebook_claims.png``, ``notebook_estimate.png``, ``notebook_comparison.png``: the
  rich display of a ClaimSet (the whole-war example), an Estimate and a Comparison (the
  seed, then the seed with the Russian defence ministry's figure of 25 March 2022), as
  a notebook's output cell shows them;
* ``report_hover.png``: report.html at 1280×800 with the pointer on a claim's mark of
  the explorable main figure (the comparison's sentences on top);
* ``api_reference.png``: the API reference page of the docs site (built here with
  mkdocs into a temporary folder, the notebooks' pages left empty);
* ``cli_examples.png``: ``casualty-models examples`` and ``examples pnas`` in a terminal.

The fits are short (500 draws and tuning steps, one run): a picture, not a result.
"""

from __future__ import annotations

import argparse
import html
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the browser driver the report's tests use
OUT = ROOT / "docs" / "screenshots"
SURFACES = ("notebook", "report", "api", "cli")
RUN = {"draws": 500, "tune": 500, "max_attempts": 1, "random_seed": 1}

NOTEBOOK_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font:13px/1.4 system-ui,sans-serif;margin:0;padding:14px 18px;color:#222}}
.cell{{display:grid;grid-template-columns:5.5em 1fr;column-gap:.6em;margin-bottom:10px}}
.prompt{{color:#303f9f;font:12px monospace;text-align:right;padding-top:4px}}
.out .prompt{{color:#d84315}}.code{{background:#f5f5f5;border:1px solid #e0e0e0;
padding:6px 8px;font:13px monospace;white-space:pre}}</style></head><body>
<div class="cell"><div class="prompt">In [{n}]:</div><div class="code">{code}</div></div>
<div class="cell out"><div class="prompt">Out[{n}]:</div><div>{output}</div></div>
</body></html>"""

EMPTY_NOTEBOOK = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
TERMINAL_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>terminal</title>
<style>body{{margin:0;background:#1e1e1e}}pre{{margin:0;padding:14px 18px;color:#e0e0e0;
font:13.5px/1.45 "DejaVu Sans Mono",monospace;white-space:pre-wrap}}b{{color:#8bc34a}}</style>
</head><body><pre>{text}</pre></body></html>"""


def _fits():
    import warnings

    import casualty_models as cm

    claims = cm.examples.load("seed")
    new = cm.Claim(
        source="Russian Ministry of Defence",
        source_type="own",
        side="russia",
        category="killed",
        as_of="2022-03-25",
        period_start="2022-02-24",
        value=1351,
        citation='CNN live updates, "Russia-Ukraine news, March 25, 2022"',
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short runs: the displays say how they converged
        old = cm.fit(claims, **RUN)
        now = cm.fit(claims.add(new), as_of="2022-03-25", **RUN)
        comparison = now.compare(old, method="reweight")
    return old, now, comparison


def _shoot(page_path: Path, out: Path, *, width: int = 1280, height: int = 800, act=None) -> None:
    from browser import chromium

    from casualty_models._atomic import atomic_write_with

    with chromium(width, height) as page:
        page.open(page_path)
        if act is not None:
            act(page)
        png = page.driver.get_screenshot_as_png()
    atomic_write_with(out, lambda tmp: Path(tmp).write_bytes(png))
    print(f"wrote {out.relative_to(ROOT)}")


def _fit_height(page) -> None:
    """Make the window as tall as the page, so the shot holds the whole output."""
    h = page.driver.execute_script("return document.documentElement.scrollHeight")
    page.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1100, "height": int(h), "deviceScaleFactor": 1, "mobile": False},
    )


def notebook(tmp: Path, fits) -> None:
    import casualty_models as cm

    old, _, comparison = fits
    shown = [
        ("claims", 'claims = cm.examples.load("war")\nclaims', cm.examples.load("war")),
        ("estimate", "est = cm.fit(claims, random_seed=1)\nest", old),
        (
            "comparison",
            'est2 = cm.fit(claims.add(new), as_of="2022-03-25")\nest2.compare(est)',
            comparison,
        ),
    ]
    for n, (name, code, obj) in enumerate(shown, start=3):
        page = tmp / f"notebook_{name}.html"
        page.write_text(
            NOTEBOOK_PAGE.format(title=name, n=n, code=html.escape(code), output=obj._repr_html_()),
            encoding="utf-8",
        )
        _shoot(page, OUT / f"notebook_{name}.png", width=1100, act=_fit_height)


def report(tmp: Path, fits) -> None:
    from casualty_models.report import write_report

    _, now, comparison = fits
    path = write_report(now, tmp / "report.html", comparison=comparison)

    def hover(page) -> None:
        from selenium.webdriver.common.action_chains import ActionChains

        mark = page.xpath("//*[@id='main-figure']//*[@data-claim]")[-1]
        ActionChains(page.driver).move_to_element(mark).perform()
        time.sleep(0.3)

    _shoot(path, OUT / "report_hover.png", act=hover)


def api(tmp: Path, _fits) -> None:
    stage = tmp / "docs"
    shutil.copytree(ROOT / "docs", stage)
    (stage / "notebooks").mkdir()
    for name in ("01_seed_estimate", "02_full_war", "03_update"):  # the nav names them
        (stage / "notebooks" / f"{name}.ipynb").write_text(EMPTY_NOTEBOOK, encoding="utf-8")
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    config = config.replace("docs_dir: build/docs", f"docs_dir: {stage}")
    config = config.replace("site_dir: build/site", f"site_dir: {tmp / 'site'}")
    (ROOT / ".mkdocs-screenshots.yml").write_text(config, encoding="utf-8")
    try:
        subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "-q", "-f", ".mkdocs-screenshots.yml"],
            cwd=ROOT,
            check=True,
            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        )
    finally:
        (ROOT / ".mkdocs-screenshots.yml").unlink()

    def to_estimate(page) -> None:
        page.driver.execute_script(
            "document.getElementById('casualty_models.Estimate').scrollIntoView()"
        )
        time.sleep(0.2)

    _shoot(tmp / "site" / "api.html", OUT / "api_reference.png", act=to_estimate)


def cli(tmp: Path, _fits) -> None:
    from casualty_models.cli import main

    text = []
    for args in (["examples"], ["examples", "pnas"]):
        buf = io.StringIO()
        with redirect_stdout(buf):
            main(args)
        text.append(f"<b>$ casualty-models {' '.join(args)}</b>\n{html.escape(buf.getvalue())}")
    page = tmp / "cli.html"
    page.write_text(TERMINAL_PAGE.format(text="\n".join(text)), encoding="utf-8")
    _shoot(page, OUT / "cli_examples.png", width=1000, act=_fit_height)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=SURFACES, default=list(SURFACES))
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    fits = _fits() if {"notebook", "report"} & set(args.only) else None
    makers = {"notebook": notebook, "report": report, "api": api, "cli": cli}
    with tempfile.TemporaryDirectory(prefix="cm-shots-") as tmp:
        for name in args.only:
            makers[name](Path(tmp), fits)
    return 0


if __name__ == "__main__":
    sys.exit(main())
