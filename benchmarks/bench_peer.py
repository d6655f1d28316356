"""Side by side with the peer (Radford et al. 2023): time per 1,000 effective samples of
Russian military deaths on 2023-02-23, on the peer's own data, ours against theirs.

    make bench-peer            # creates .venv-peer (PyStan) on first use
    .venv/bin/python benchmarks/bench_peer.py [--peer-dir DIR] [--warmup 200] [--draws 200]

The peer's model is read from ``--peer-dir`` (default ``../shared/peers/radford2023``,
where its repository's files lie unchanged) and never copied here: its pre-2.33 array
declarations are rewritten to the current syntax in memory (:func:`current_syntax`), and
its data are built from its CSV as its ``01-run.R`` builds them (:func:`stan_data`; the
``.RData`` file that script loads is not in the published files). It runs at the peer's
settings (150 knots, tree depth 13, adapt_delta 0.9, init radius 0.25) but for one chain
of ``--warmup`` + ``--draws`` iterations, in PyStan 3 in its own virtual environment.

Ours: ``fit()`` at its defaults on the same CSV (``format="radford2023"``), in a fresh
process with the compile cache of an earlier run (a user's second run).

For each: wall time of sampling, the bulk ESS of the quantity (ArviZ, over the chains
run), time per 1,000 effective samples, and the cost of one gradient (sampling time
over the leapfrog steps taken, warm-up included). A run at the peer's tree depth may not
end in hours; ``--only peer --warmup 20 --draws 20 --max-depth 6`` bounds one that only
times the peer's gradient (its ESS then means nothing). Writes one JSON line per run to
``docs/validation/peer_speed.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PEER_DIR = ROOT.parent / "shared" / "peers" / "radford2023"
PEER_PYTHON = ROOT / ".venv-peer" / "bin" / "python"
QUANTITY = "Military Deaths-Russia"
DAY = 365  # day 1 = 2022-02-24, so day 365 = 2023-02-23
PEER = "peer (Stan, PyStan 3)"
KNOTS, MAX_DEPTH, ADAPT_DELTA, INIT_RADIUS, SEED = 150, 13, 0.90, 0.25, 215  # 01-run.R

_TYPES = r"(?:int|real|vector|row_vector|matrix|cholesky_factor_corr|simplex)"
_OLD_DECL = re.compile(
    r"^(\s*)(" + _TYPES + r"(?:<[^>]*>)?(?:\[[^\]]*\])?)\s+(\w+)\s*\[([^\]]+)\]\s*(;|=)", re.M
)


def current_syntax(program: str) -> str:
    """Stan's pre-2.33 arrays in the current syntax: ``real x[N];`` -> ``array[N] real x;``
    and ``real[] t`` (function arguments) -> ``array[] real t``."""
    out = _OLD_DECL.sub(lambda m: f"{m[1]}array[{m[4]}] {m[2]} {m[3]} {m[5]}", program)
    return re.sub(r"\b(int|real)\[\]\s+(\w+)", r"array[] \1 \2", out)


def stan_data(csv: Path) -> tuple[dict, list[str]]:
    """The data block of the peer's model from its CSV, as its 01-run.R builds it: the
    cumulative rows and the daily ones, factors coded 1.. in sorted order of their
    levels. Returns the data and the loss types in code order."""
    import numpy as np
    import pandas as pd

    df = pd.read_csv(csv)
    levels = {c: sorted(df[c].unique()) for c in ("loss_type", "claim_source", "category")}
    code = {c: {v: i + 1 for i, v in enumerate(lv)} for c, lv in levels.items()}
    country = {"Russia": 1, "Ukraine": 2}  # as.factor: alphabetical
    cum, daily = df[df["time_frame"] == "Cumulative"], df[df["time_frame"] == "Day"]
    num_days = int(df["days"].max())

    def block(rows: pd.DataFrame, prefix: str) -> dict:
        return {
            f"{prefix}_day": rows["days"].astype(int).tolist(),
            f"{prefix}_count": rows["loss_count"].astype(int).tolist(),
            f"{prefix}_loss_type": [code["loss_type"][v] for v in rows["loss_type"]],
            f"{prefix}_claim_source": [code["claim_source"][v] for v in rows["claim_source"]],
            f"{prefix}_loss_country": [country[v] for v in rows["loss_country"]],
            f"{prefix}_category": [code["category"][v] for v in rows["category"]],
            f"{prefix}_min": rows["minimum"].astype(int).tolist(),
            f"{prefix}_max": rows["maximum"].astype(int).tolist(),
        }

    data = {
        "num_days": num_days,
        "num_loss_type": len(levels["loss_type"]),
        "num_loss_country": 2,
        "num_claim_source": int(cum["claim_source"].nunique()),
        "cum_num_obs": len(cum),
        "daily_num_obs": len(daily),
        "num_category": len(levels["category"]),
        **block(cum, "cum"),
        **block(daily, "daily"),
        "X": [float(d) for d in range(1, num_days + 1)],
        "num_knots": KNOTS,
        # R's quantile(1:num_days, seq(0, 1, length.out = knots)): type 7 = numpy's linear
        "knots": np.quantile(np.arange(1, num_days + 1), np.linspace(0, 1, KNOTS)).tolist(),
        "spline_degree": 3,
    }
    return data, levels["loss_type"]


def run_stan(peer_dir: Path, warmup: int, draws: int, max_depth: int = MAX_DEPTH) -> dict:
    """Build and sample the peer's model (runs in .venv-peer)."""
    import numpy as np
    import stan

    program = current_syntax((peer_dir / "model.stan").read_text())
    data, loss_types = stan_data(peer_dir / "replication-data-pnas.csv")
    t = time.perf_counter()
    model = stan.build(program, data=data, random_seed=SEED)
    build_s = time.perf_counter() - t
    t = time.perf_counter()
    fit = model.sample(
        num_chains=1,
        num_warmup=warmup,
        num_samples=draws,
        max_depth=max_depth,
        delta=ADAPT_DELTA,
        init_radius=INIT_RADIUS,
        save_warmup=True,
    )
    sampling_s = time.perf_counter() - t
    t_idx = loss_types.index(QUANTITY)
    cum = np.asarray(fit["cum_losses"])  # (types, days, draws), warm-up included
    leapfrogs = np.asarray(fit["n_leapfrog__"]).ravel()
    depth = np.asarray(fit["treedepth__"]).ravel()
    return {
        "who": PEER,
        "build_s": build_s,
        "sampling_s": sampling_s,
        "chains": 1,
        "warmup": warmup,
        "draws": draws,
        "max_depth": max_depth,
        "leapfrog_steps": int(leapfrogs.sum()),
        "depth_hits": int((depth[warmup:] >= max_depth).sum()),
        "value_draws": np.exp(cum[t_idx, DAY - 1, warmup:]).tolist(),  # (draws,)
    }


def run_ours() -> dict:
    """fit() at its defaults on the peer's CSV; the quantity's draws, and its costs."""
    import numpy as np

    import casualty_models as cm
    from casualty_models.model import build_model

    csv = ROOT / "seeds" / "radford2023" / "replication-data-pnas.csv"
    claims = cm.read_claims(csv, format="radford2023")
    t = time.perf_counter()
    est = cm.fit(claims, start="2022-02-24", as_of="2023-02-23", random_seed=1)
    fit_s = time.perf_counter() - t
    series = [(str(s), str(c)) for s, c in est.inputs.series].index(("russia", "killed"))
    day = (est.settings.as_of - est.settings.start).days
    values = est.cumulative_draws[:, :, series, day]  # (chain, draw)
    # one gradient, timed directly (fit() keeps no warm-up statistics)
    model = build_model(est.inputs)
    fn = model.logp_dlogp_function(ravel_inputs=True, mode="NUMBA")
    fn.set_extra_values({})
    x = np.concatenate([np.ravel(v) for v in model.initial_point().values()])
    fn(x)
    t = time.perf_counter()
    for _ in range(200):
        fn(x)
    grad_s = (time.perf_counter() - t) / 200
    seconds = sum(a["seconds"] for a in est.attempts)
    return {
        "who": "casualty_models (nutpie)",
        "fit_s": fit_s,
        "sampling_s": seconds,
        "chains": int(values.shape[0]),
        "draws": int(values.shape[1]),
        "grad_s": grad_s,
        "value_draws": values.tolist(),
        "converged": est.diagnostics.converged,
    }


def summarise(record: dict) -> dict:
    import arviz as az
    import numpy as np

    values = np.atleast_2d(np.asarray(record.pop("value_draws")))
    ess = float(az.ess(values))  # (chain, draw)
    record.update(
        ess_bulk=ess,
        median=float(np.median(values)),
        low_90=float(np.quantile(values, 0.05)),
        high_90=float(np.quantile(values, 0.95)),
        seconds_per_1000_ess=1000 * record["sampling_s"] / ess,
    )
    if "grad_s" not in record:
        record["grad_s"] = record["sampling_s"] / record["leapfrog_steps"]
    return record


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--peer-dir", type=Path, default=PEER_DIR)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument(
        "--max-depth",
        type=int,
        default=MAX_DEPTH,
        help="the peer's tree depth (13); a small one bounds a run that only times gradients",
    )
    parser.add_argument("--only", choices=("ours", "peer"))
    parser.add_argument("--timeout", type=float, default=3600, help="s for the peer's run")
    parser.add_argument("--stan-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=ROOT / "docs/validation/peer_speed.jsonl")
    args = parser.parse_args()
    if args.stan_worker:
        print(json.dumps(run_stan(args.peer_dir, args.warmup, args.draws, args.max_depth)))
        return 0
    records = []
    if args.only != "peer":
        records.append(summarise(run_ours()))
    if args.only != "ours":
        if not PEER_PYTHON.exists():
            raise SystemExit(f"{PEER_PYTHON} missing: run `make bench-peer` (installs PyStan)")
        cmd = [str(PEER_PYTHON), __file__, "--stan-worker", "--peer-dir", str(args.peer_dir)]
        cmd += ["--warmup", str(args.warmup), "--draws", str(args.draws)]
        cmd += ["--max-depth", str(args.max_depth)]
        # the worker's progress (PyStan's) goes straight to our stderr
        try:
            done = subprocess.run(
                cmd, stdout=subprocess.PIPE, text=True, timeout=args.timeout, check=False
            )
        except subprocess.TimeoutExpired:
            records.append({"who": PEER, "status": f"not finished in {args.timeout:.0f} s"})
        else:
            if done.returncode:
                raise SystemExit(f"the peer's run failed (exit {done.returncode})")
            records.append(summarise(json.loads(done.stdout.strip().splitlines()[-1])))
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with args.out.open("a", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps({"when": stamp, "load": os.getloadavg()[0], **r}) + "\n")
    for r in records:
        if "status" in r:
            print(f"{r['who']}: {r['status']}")
            continue
        print(
            f"{r['who']}: {r['sampling_s']:.1f} s sampling, bulk ESS {r['ess_bulk']:.0f}, "
            f"{r['seconds_per_1000_ess']:.1f} s per 1,000 ESS, one gradient "
            f"{1000 * r['grad_s']:.3f} ms; {QUANTITY} on day {DAY}: {r['median']:,.0f} "
            f"(90%: {r['low_90']:,.0f}-{r['high_90']:,.0f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
