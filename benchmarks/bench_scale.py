"""Scale benchmark: how fit time and sampler behaviour grow with days and claims.

Fits nine synthetic claim sets, 30/365/1500 days × 50/500/5000 claims, each generated
with a fixed seed by the library's own simulator (``validation.simulate``), with
``casualty_models.fit(claims, start=..., random_seed=1)`` at its default settings
(2 chains; 500 tuning steps; 500 draws with PyMC's sampler, 1,000 with nutpie). Each
configuration runs in a fresh subprocess with a time limit, so one slow or failing fit
cannot take down the others.

Per configuration it records the fit's wall time, the number of free parameters, the
convergence diagnostics (divergences, max R-hat, min bulk/tail ESS), the mean tree depth
and leapfrog steps per draw, the final step size and the time of one gradient
evaluation. Each finished configuration is appended to
``docs/validation/scale_raw.jsonl`` at once, so a stopped run keeps what it measured and a
rerun skips what is there; ``docs/scale.md`` is re-rendered after every configuration.

    make bench-scale                                   # all nine; hours on 2 cores
    make bench-scale ARGS="--only 30x50,30x500"        # a subset (any options below)
    .venv/bin/python benchmarks/bench_scale.py --only 365x500,1500x500
    .venv/bin/python benchmarks/bench_scale.py --render-only     # re-render the doc
    .venv/bin/python benchmarks/bench_scale.py --only 30x50 --draws 30 --tune 30 \\
        --out-dir /tmp/scale-smoke                     # smoke test; leaves docs/ alone

Options: ``--only DAYSxCLAIMS[,...]`` a subset, ``--rerun`` re-measure configurations
already recorded, ``--timeout`` seconds per configuration (default 1800; a fit that
overruns is recorded as "timed out"), ``--draws``/``--tune`` smaller runs for testing
(recorded, and rendered with a warning that they are not the benchmark).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from _common import ROOT, log, machine_info, utc_now
from _scale_cases import (
    CHAINS,
    CLAIMS,
    DAYS,
    DEFAULT_DRAWS,
    DEFAULT_TIMEOUT,
    DEFAULT_TUNE,
    FIT_SEED,
    GRAD_CALLS,
    START,
    WARMUP_DRAWS,
    design,
    make_claims,
)
from _scale_report import append_record, latest, read_records, render

from casualty_models._atomic import atomic_write
from casualty_models.model import prepare
from casualty_models.model.priors import Priors

# ------------------------------------------------------------------ one configuration


def worker(days: int, n_claims: int, draws: int | None, tune: int) -> dict[str, Any]:
    """Measure one configuration in this process; returns the record to print."""
    import casualty_models as cm
    from casualty_models._backend import pymc
    from casualty_models.model import build_model

    pymc()
    warnings.simplefilter("ignore")  # convergence is recorded, not warned about
    claims = make_claims(design(days, n_claims))
    end = max(c.as_of for c in claims)
    model = build_model(prepare(claims, start=START, end=end, priors=Priors()))
    point = model.initial_point()
    n_params = int(sum(np.size(v) for v in point.values()))

    t = time.perf_counter()
    dlogp = model.compile_dlogp()
    compile_s = time.perf_counter() - t
    dlogp(point)
    t = time.perf_counter()
    for _ in range(GRAD_CALLS):
        dlogp(point)
    grad_s = (time.perf_counter() - t) / GRAD_CALLS

    # a tiny one-chain fit first, so the timed fit finds PyTensor's C code on disk (as
    # every fit after the first on a machine does) but still builds and compiles its graph
    t = time.perf_counter()
    # one run only: its tiny chain fails the checks, and continuing it would sample for minutes
    cm.fit(
        claims,
        start=START,
        random_seed=FIT_SEED,
        draws=WARMUP_DRAWS,
        tune=WARMUP_DRAWS,
        chains=1,
        max_attempts=1,
    )
    warmup_s = time.perf_counter() - t

    load_before = os.getloadavg()[0]
    t = time.perf_counter()
    est = cm.fit(claims, start=START, random_seed=FIT_SEED, draws=draws, tune=tune)
    fit_s = time.perf_counter() - t
    load_after = os.getloadavg()[0]

    diag = est.diagnostics
    stats = est.idata.sample_stats
    sampling_s = stats.attrs.get("sampling_time")
    return {
        "status": "ok",
        "fingerprint": claims.fingerprint,
        "n_params": n_params,
        "draws_run": est.settings.draws,
        "sampler": stats.attrs.get("sampler"),
        "fit_s": fit_s,
        "sampling_s": None if sampling_s is None else float(sampling_s),
        "warmup_fit_s": warmup_s,
        "compile_dlogp_s": compile_s,
        "grad_s": grad_s,
        "divergences": diag.divergences,
        "r_hat_max": diag.r_hat_max,
        "r_hat_worst": diag.worst,
        "ess_bulk_min": diag.ess_bulk_min,
        "ess_tail_min": diag.ess_tail_min,
        "tree_depth_hits": diag.tree_depth_hits,
        "tree_depth_mean": float(np.mean(stats["tree_depth"])),
        "n_steps_mean": float(np.mean(stats["n_steps"])),
        "step_size_final": [float(x) for x in np.asarray(stats["step_size"])[:, -1]],
        "load_before": load_before,
        "load_after": load_after,
    }


def run_config(days: int, n_claims: int, args: argparse.Namespace) -> dict[str, Any]:
    """Run one configuration in a fresh subprocess (own session, killed on timeout)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", f"{days}x{n_claims}"]
    cmd += ["--tune", str(args.tune)] + ([] if args.draws is None else ["--draws", str(args.draws)])
    record: dict[str, Any] = {
        "days": days,
        "claims": n_claims,
        "draws": args.draws,
        "tune": args.tune,
        "chains": CHAINS,
        "timeout_s": args.timeout,
        "started": utc_now(),
    }
    t = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its sampler processes share its group: killed together
    )
    try:
        out, err = proc.communicate(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        record.update(status="timed out", subprocess_s=time.perf_counter() - t)
        return record
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    record["subprocess_s"] = time.perf_counter() - t
    lines = out.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (err.strip().splitlines() or ["(no output)"])[-5:]
        record.update(status="failed", returncode=proc.returncode, error="\n".join(tail))
        return record
    try:
        record.update(json.loads(lines[-1]))
    except json.JSONDecodeError:
        record.update(status="failed", returncode=0, error=f"no result line: {lines[-1][:300]}")
    return record


# ------------------------------------------------------------------ main


def parse_only(values: list[str] | None) -> list[tuple[int, int]]:
    grid = [(d, n) for d in DAYS for n in CLAIMS]
    if not values:
        return grid
    wanted = []
    for item in ",".join(values).split(","):
        try:
            d, n = (int(x) for x in item.strip().lower().split("x"))
        except ValueError:
            raise SystemExit(f"--only: {item!r} is not DAYSxCLAIMS, e.g. 365x500") from None
        if (d, n) not in grid:
            raise SystemExit(
                f"--only: {item} is not one of {', '.join(f'{a}x{b}' for a, b in grid)}"
            )
        wanted.append((d, n))
    return wanted


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--only", action="append", help="DAYSxCLAIMS[,...]; default all nine")
    parser.add_argument("--rerun", action="store_true", help="re-measure recorded configs")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="s per config")
    parser.add_argument("--draws", type=int, default=DEFAULT_DRAWS, help="for smoke tests")
    parser.add_argument("--tune", type=int, default=DEFAULT_TUNE, help="for smoke tests")
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=ROOT / "docs",
        help="writes OUT/scale.md and OUT/validation/scale_raw.jsonl (default docs/)",
    )
    parser.add_argument("--render-only", action="store_true", help="only re-render the doc")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        days, n = (int(x) for x in args.worker.split("x"))
        print(json.dumps(worker(days, n, args.draws, args.tune)))
        return 0

    out_dir = args.out_dir.resolve()
    jsonl = out_dir / "validation" / "scale_raw.jsonl"
    doc = out_dir / "scale.md"
    shown = str(jsonl.relative_to(ROOT)) if jsonl.is_relative_to(ROOT) else str(jsonl)
    settings = (args.draws, args.tune, CHAINS)

    def write_doc() -> None:
        atomic_write(doc, render(read_records(jsonl), settings, shown))
        log(f"wrote {doc}")

    if not args.render_only:
        machine = machine_info()
        for days, n in parse_only(args.only):
            done = latest(read_records(jsonl), settings)
            if f"{days}x{n}" in done and not args.rerun:
                log(f"{days}x{n}: recorded ({done[f'{days}x{n}']['status']}); skipped")
                continue
            log(f"{days}x{n}: fitting ({args.draws or 'default'} draws, {args.tune} tune)…")
            record = run_config(days, n, args)
            record["machine"] = machine
            append_record(jsonl, record)
            extra = f", fit {record['fit_s']:.1f} s" if record["status"] == "ok" else ""
            log(f"{days}x{n}: {record['status']} in {record['subprocess_s']:.0f} s{extra}")
            write_doc()
    write_doc()
    return 0


if __name__ == "__main__":
    sys.exit(main())
