"""Issue 26's update goal: ``casualty-models update`` of the whole war with one more month
of claims, against a fresh ``estimate`` of the same claims, timed in the same run.

    .venv/bin/python benchmarks/bench_update.py [--out docs/validation/update_speed.json]

Three commands, one after another (``--seed 1``, the defaults otherwise):

1. ``estimate`` of the bundled war claims reported by 2026-06-01 (the month-earlier run);
2. ``update`` of that folder with every claim (the refit starts warm, the changes are
   attributed, the outputs rewritten);
3. a fresh ``estimate`` of every claim, the reference.

The update's phases (refit, comparison, writing) are read from its progress lines.
Prints a Markdown table and writes the numbers as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).parent / "casualty-models")
WAR = ["seeds/russia_ukraine_war.csv", "seeds/ua_general_staff_daily.csv"]
COMMON = ["--seed", "1", "--start", "2022-02-24"]
STAMP = re.compile(r"^\[\s*([\d.]+)s\] (.*)$")


def timed(cmd: list[str]) -> tuple[float, list[tuple[float, str]]]:
    """Wall seconds of ``cmd`` and its progress lines as (seconds, text)."""
    t = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t
    if done.returncode not in (0, 3):  # 3: written, but the fit failed a check
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    lines = [(float(m[1]), m[2]) for m in map(STAMP.match, done.stderr.splitlines()) if m]
    return seconds, lines


def phases(lines: list[tuple[float, str]]) -> dict[str, float]:
    """Seconds of the update's refit, comparison and writing, from its progress lines."""
    at = {}
    for seconds, text in lines:
        for key, start in (
            ("sampling", "sampling "),
            ("comparing", "comparing "),
            ("writing", "writing outputs"),
            ("done", "done:"),
        ):
            if text.startswith(start):
                at[key] = seconds
    return {
        "refit": at["comparing"] - at["sampling"],
        "comparison": at["writing"] - at["comparing"],
        "writing": at["done"] - at["writing"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/validation/update_speed.json")
    args = ap.parse_args()
    rows: dict[str, float] = {"load average": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        folder = str(Path(tmp) / "war")
        month = ["--as-reported-on", "2026-06-01"]
        rows["month-earlier estimate"], _ = timed(
            [CLI, "estimate", *WAR, *COMMON, *month, "--out", folder]
        )
        rows["update"], lines = timed([CLI, "update", folder, *WAR])
        rows |= {f"update: {k}": v for k, v in phases(lines).items()}
        rows["fresh estimate"], _ = timed(
            [CLI, "estimate", *WAR, *COMMON, "--out", str(Path(tmp) / "fresh")]
        )
    rows["load average after"] = os.getloadavg()[0]
    ratio = rows["update"] / rows["fresh estimate"]
    print("| row | seconds |\n|---|---|")
    for k, v in rows.items():
        print(f"| {k} | {v:.2f} |")
    print(f"| update / fresh estimate | {ratio:.2f}x |")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(
        json.dumps({"rows": rows, "update / fresh estimate": ratio}, indent=1) + "\n"
    )


if __name__ == "__main__":
    main()
