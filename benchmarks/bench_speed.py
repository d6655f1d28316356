"""Speed benchmark of issue 13: the five goal cases, each in a fresh process, with stages.

    .venv/bin/python benchmarks/bench_speed.py [--cases seed-cli,full-war] [--repeat 2]
        [--max-load 1.5] [--out docs/validation/speed.jsonl]

Cases (defaults of ``fit``, ``random_seed=1``, 2 cores):

* ``seed-cli``: ``casualty-models estimate seeds/ukraine_2022-03.csv --out <tmp>`` (every
  output), wall time of the command, with a warm compile cache;
* ``seed-cold``: the first ``fit()`` of the seed claims in a fresh process with an
  empty compile cache (PyTensor's C modules and numba's cache both start empty);
* ``full-war``: the bundled war data (both files, 1,831 claims), warm cache;
* ``long-100``: 100 synthetic claims over 3.5 years (1,278 days; the claim set of
  ``_scale_cases.design(1278, 100)``), warm cache;
* ``pnas``: the PNAS replication data (``format="radford2023"``), warm cache.

``--way numpyro`` or ``--way nutpie-jax`` runs the fit cases through JAX instead
(PyMC's numpyro route, or nutpie's JAX backend; ``make bench-jax`` installs jax and
numpyro in ``.venv-jax``), with JAX's compilation cache kept with the others.

"Warm" means the compile cache of a previous run of the same case is present (a
user's second day); every case also records its first, cold run. Each process gets its
own ``base_compiledir`` under a temporary folder, so the user's ``~/.pytensor`` is never
touched. Before every timed run the script waits (up to ``--wait`` s) until the 1-minute
load average is below ``--max-load``, and records the load before and after: other work
on the machine inflates every time. One JSON line per run is appended to ``--out``.
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

# Runs one fit in-process and reports stage times (inclusive wall seconds of the wrapped
# calls) next to the fit's diagnostics.
WORKER = r"""
import json, sys, time, warnings
T0 = time.perf_counter()
case = sys.argv[1]
stages = {}
def timed(owner, name, label):
    fn = getattr(owner, name)
    def wrapper(*a, **k):
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            stages[label] = stages.get(label, 0.0) + time.perf_counter() - t
    setattr(owner, name, wrapper)
import casualty_models as cm
from casualty_models._backend import pymc
t = time.perf_counter(); pymc(); stages["import pymc"] = time.perf_counter() - t
stages["import casualty_models"] = t - T0
import os, pymc as pm, pytensor.compile.function.types as ft, casualty_models.fitting as fitting
way = os.environ.get("CM_BENCH_WAY", "default")
forced = {}
if way == "numpyro":  # PyMC's JAX route: numpyro's NUTS in place of PyMC's own
    pm_sample = pm.sample
    def numpyro_sample(*a, **k):
        k.pop("init", None)
        depth = k.pop("max_treedepth", 10)
        k.update(nuts_sampler="numpyro", nuts_sampler_kwargs={
            "chain_method": "parallel", "nuts_kwargs": {"max_tree_depth": depth}})
        return pm_sample(*a, **k)
    pm.sample = numpyro_sample
    forced["sampler"] = "pymc"
elif way == "nutpie-jax":  # nutpie with its JAX backend in place of numba
    import nutpie
    nutpie_compile = nutpie.compile_pymc_model
    nutpie.compile_pymc_model = lambda model, **k: nutpie_compile(
        model, backend="jax", gradient_backend="jax", **k)
    forced["sampler"] = "nutpie"
elif way != "default":
    raise SystemExit(f"unknown way {way}")
import pymc.sampling.mcmc as mcmc
timed(fitting, "build_model", "build model graph")
timed(fitting, "prepare", "prepare arrays")
timed(ft.FunctionMaker, "__init__", "pytensor rewrites")
timed(ft.FunctionMaker, "create", "pytensor link (C compile)")
timed(mcmc, "init_nuts", "pymc init_nuts (compile, initial point)")
timed(mcmc, "_mp_sample", "pymc sampling (parallel chains)")
timed(mcmc, "_sample_many", "pymc sampling (sequential chains)")
try:
    import nutpie
    timed(fitting, "nutpie_model", "nutpie model (compiled once)")
    timed(nutpie, "sample", "nutpie sampling")
except ImportError:
    pass
t = time.perf_counter()
if case == "seed":
    claims, kw = cm.read_claims("seeds/ukraine_2022-03.csv"), {}
elif case == "full-war":
    claims = cm.read_claims("seeds/russia_ukraine_war.csv").add(
        cm.read_claims("seeds/ua_general_staff_daily.csv"))
    kw = {"start": "2022-02-24"}
elif case == "pnas":
    claims = cm.read_claims("seeds/radford2023/replication-data-pnas.csv", format="radford2023")
    kw = {"start": "2022-02-24", "as_of": "2023-02-23"}
elif case == "long-100":
    sys.path.insert(0, "benchmarks")
    import _scale_cases as sc
    claims = sc.make_claims(sc.design(1278, 100))
    kw = {"start": sc.START}
else:
    raise SystemExit(f"unknown case {case}")
kw.update(json.loads(sys.argv[2]) if len(sys.argv) > 2 else {})
kw.update(forced)
stages["read claims"] = time.perf_counter() - t
t = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    est = cm.fit(claims, random_seed=1, **kw)
fit_s = time.perf_counter() - t
t = time.perf_counter()
d = est.diagnostics
stages["diagnostics"] = time.perf_counter() - t
stats = est.idata.sample_stats
head = est.headline().iloc[0]
n_params = None
print(json.dumps({
    "claims": len(claims), "fit_s": fit_s, "process_inner_s": time.perf_counter() - T0,
    "stages": stages, "sampler": stats.attrs.get("sampler"),
    "attempts": [{k: a[k] for k in ("reason", "sampler", "draws", "tune", "seconds")}
                 for a in est.attempts],
    "divergences": d.divergences, "r_hat_max": d.r_hat_max,
    "ess_bulk_min": d.ess_bulk_min, "ess_tail_min": d.ess_tail_min,
    "tree_depth_mean": float(stats["tree_depth"].mean()),
    "draws": int(stats.sizes["draw"]), "chains": int(stats.sizes["chain"]),
    "headline": [str(head.side), str(head.category), float(head["median"]),
                 float(head["low_90"]), float(head["high_90"])],
}))
"""


def load1() -> float:
    return os.getloadavg()[0]


def wait_for_quiet(max_load: float, wait: float) -> float:
    """Wait until the 1-minute load is below ``max_load`` (at most ``wait`` s)."""
    deadline = time.time() + wait
    while load1() >= max_load and time.time() < deadline:
        time.sleep(10)
    return load1()


def machine() -> dict:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from _common import machine_info

    return machine_info()


def commit() -> str:
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "casualty_models"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return out.stdout.strip() + ("+dirty" if dirty else "")


def run(case: str, cache: Path, kwargs: str, root: Path = ROOT, way: str = "default") -> dict:
    env = {
        **os.environ,
        "PYTENSOR_FLAGS": f"base_compiledir={cache},blas__ldflags=",
        "MPLBACKEND": "Agg",
        "PYTHONPATH": str(root),
        "CM_BENCH_WAY": way,
        # only read where JAX is imported: its compiled code cached with the rest, and
        # two CPU devices so numpyro runs the two chains in parallel
        "JAX_COMPILATION_CACHE_DIR": str(cache / "jax"),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
        "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "-1",
        "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
    }
    t = time.perf_counter()
    if case == "seed-cli":
        with tempfile.TemporaryDirectory() as out:
            done = subprocess.run(
                [CLI, "estimate", "seeds/ukraine_2022-03.csv", "--out", out, "--seed", "1"],
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
            )
        wall = time.perf_counter() - t
        if done.returncode not in (0,):
            raise SystemExit(f"CLI failed ({done.returncode}): {done.stderr[-2000:]}")
        return {"wall_s": wall}
    worker_case = "seed" if case == "seed-cold" else case
    done = subprocess.run(
        [PYTHON, "-c", WORKER, worker_case, kwargs],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t
    if done.returncode:
        raise SystemExit(f"{case} failed: {done.stderr[-3000:]}")
    row = json.loads(done.stdout.strip().splitlines()[-1])
    row["wall_s"] = wall
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="seed-cli,seed-cold,full-war,long-100,pnas")
    parser.add_argument("--repeat", type=int, default=2, help="warm runs per case")
    parser.add_argument("--max-load", type=float, default=1.5)
    parser.add_argument("--wait", type=float, default=900, help="max seconds to wait")
    parser.add_argument("--kwargs", default="{}", help="JSON fit() keyword arguments")
    parser.add_argument("--label", default="", help="free text stored with each record")
    parser.add_argument(
        "--way",
        choices=("default", "numpyro", "nutpie-jax"),
        default="default",
        help="the JAX routes, tried and not taken (needs jax and numpyro: make bench-jax)",
    )
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="checkout whose code runs (e.g. a baseline)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "validation" / "speed.jsonl")
    args = parser.parse_args()
    cases = args.cases.split(",")
    if args.way != "default" and "seed-cli" in cases:
        parser.error("--way applies to fit() cases; seed-cli runs the CLI as it is")
    for case in cases:
        with tempfile.TemporaryDirectory(prefix="bench-speed-") as cache:
            # the first run fills the cache (cold); the next ones reuse it (warm)
            for k in range(1 + args.repeat):
                before = wait_for_quiet(args.max_load, args.wait)
                row = run(case, Path(cache), args.kwargs, args.root, args.way)
                record = {
                    "case": case,
                    "cache": "cold" if k == 0 else "warm",
                    "label": args.label,
                    "way": args.way,
                    "kwargs": json.loads(args.kwargs),
                    "commit": commit() if args.root == ROOT else str(args.root),
                    "when": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
                    "machine": machine(),
                    "load_before": round(before, 2),
                    "load_after": round(load1(), 2),
                    **row,
                }
                print(json.dumps(record), flush=True)
                args.out.parent.mkdir(parents=True, exist_ok=True)
                with args.out.open("a") as f:
                    f.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
