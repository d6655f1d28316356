"""The goals of issue 26 (compile once), each as a ratio to a reference timed in the same
run, since absolute times on shared machines move by +-30%.

    .venv/bin/python benchmarks/bench_compile_once.py [--out docs/validation/compile_once.json]

Rows (``random_seed=1``, defaults of ``fit``, the compiled model in numba's cache):

* ``import pymc``: ``python -c "import pymc"``, the reference of the CLI row;
* ``seed CLI``: ``casualty-models estimate seeds/ukraine_2022-03.csv`` with every output;
* ``first fit in a process``: the seed claims, in a fresh process (loads the compiled
  model);
* ``second fit()``: the seed claims plus one new claim, in the same process;
* ``a never-seen size``: the seed plus five claims of a new source, the first fit of a
  fresh process, against the first fit of the seed in another (nothing may compile);
* ``SBC-sized fit``: the median over five simulated claim sets of the calibration study;
* ``whole war``: the bundled war data (1,831 claims), warm.

Prints a Markdown table and writes the numbers as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
CLI = str(Path(PYTHON).parent / "casualty-models")

WORKER = r"""
import dataclasses, json, statistics, sys, time, warnings
warnings.simplefilter("ignore")
import casualty_models as cm
from casualty_models import _compiled
case = sys.argv[1]
out = {}
seed = cm.read_claims("seeds/ukraine_2022-03.csv")
def timed(claims, **kw):
    t = time.perf_counter()
    est = cm.fit(claims, random_seed=1, **kw)
    return time.perf_counter() - t, est
if case == "seed":
    out["first fit in a process"], est = timed(seed)
    extra = dataclasses.replace(seed[0], source="A new outlet", value=4000)
    out["second fit()"], _ = timed(seed.add(cm.ClaimSet([extra])))
    out["ok"] = est.diagnostics.ok
elif case == "new-size":
    news = [dataclasses.replace(seed[0], source="Newcomer", value=3000 + 500 * k,
            as_of=seed[0].as_of.replace(day=k + 3)) for k in range(5)]
    out["a never-seen size"], est = timed(seed.add(cm.ClaimSet(news)))
    out["refit in the same process"], _ = timed(seed)
elif case == "sbc":
    sys.path.insert(0, ".")
    from validation.calibration import FitConfig, run_simulation
    records = [run_simulation(i, 20261206, FitConfig()) for i in range(5)]
    out["SBC-sized fit"] = statistics.median(r["seconds"] for r in records)
elif case == "war":
    war = cm.read_claims("seeds/russia_ukraine_war.csv").add(
        cm.read_claims("seeds/ua_general_staff_daily.csv"))
    out["whole war"], est = timed(war, start="2022-02-24")
    out["ok"] = est.diagnostics.ok
out["callbacks loaded from the cache"] = bool(_compiled.compiled().logp_callback.cache_hits)
print(json.dumps(out))
"""


def worker(case: str) -> dict[str, float]:
    done = subprocess.run(
        [PYTHON, "-c", WORKER, case], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def wall(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, capture_output=True, check=True)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/validation/compile_once.json")
    ap.add_argument("--skip", default="", help="comma-separated cases: sbc, war")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    rows: dict[str, float | bool] = {"load average": os.getloadavg()[0]}
    rows["import pymc"] = wall([PYTHON, "-c", "import pymc"])
    with tempfile.TemporaryDirectory() as tmp:
        rows["seed CLI"] = wall([CLI, "estimate", "seeds/ukraine_2022-03.csv", "--out", tmp + "/o"])
    rows |= worker("seed")
    rows |= worker("new-size")
    for case in ("sbc", "war"):
        if case not in skip:
            rows |= worker(case)
    rows["load average after"] = os.getloadavg()[0]
    ratios = {
        "seed CLI / import pymc": rows["seed CLI"] / rows["import pymc"],
        # both the first fit of a fresh process: one of a claim set fitted before, one of
        # a size never fitted; compiling nothing, they cost the same
        "never-seen size / seen set, fresh processes": rows["a never-seen size"]
        / rows["first fit in a process"],
    }
    print("| row | seconds |\n|---|---|")
    for k, v in rows.items():
        print(f"| {k} | {v:.2f} |" if isinstance(v, float) else f"| {k} | {v} |")
    for k, v in ratios.items():
        print(f"| {k} | {v:.2f}x |")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"rows": rows, "ratios": ratios}, indent=1) + "\n")


if __name__ == "__main__":
    main()
