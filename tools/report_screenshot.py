"""Screenshot of the whole-war report as a reader first sees it (1280×800, headless).

    python tools/report_screenshot.py            # fit both bundled war files, then shoot
    python tools/report_screenshot.py --report out/war/report.html   # shoot an existing one

Writes docs/report_screenshot.png (named in the README). The fit is the command line's
``estimate`` at its defaults on ``seeds/russia_ukraine_war.csv`` and
``seeds/ua_general_staff_daily.csv`` into ``out/war`` (a few minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the browser driver the report's tests use

WAR = [ROOT / "seeds" / "russia_ukraine_war.csv", ROOT / "seeds" / "ua_general_staff_daily.csv"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, help="an existing report.html (skip the fit)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "report_screenshot.png")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    report = args.report
    if report is None:
        from casualty_models.cli import main as cli

        out = ROOT / "out" / "war"
        code = cli(["estimate", *map(str, WAR), "--out", str(out), "--seed", str(args.seed)])
        if code not in (0, 3, 4):  # 3/4: written, with failed checks the report states
            return code
        report = out / "report.html"
    from browser import chromium

    from casualty_models._atomic import atomic_write_with

    with chromium() as page:
        page.open(report)
        png = page.driver.get_screenshot_as_png()
    atomic_write_with(args.out, lambda tmp: Path(tmp).write_bytes(png))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
