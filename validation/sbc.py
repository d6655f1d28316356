"""Simulation-based calibration of the casualty model (Talts et al. 2018).

Draws parameters and claims from the model's own prior (see
:mod:`validation.calibration`), fits each data set with
:func:`casualty_models.fit`, and records where every true value falls among its
posterior draws. Run from the repository root::

    python -m validation.sbc --n-sims 500 --out docs/validation
    python -m validation.sbc --n-sims 500 --out docs/validation --dask
    python -m validation.sbc --running --n-sims 300 --out docs/validation

``--fit-defaults`` fits at ``fit()``'s own settings (nutpie over the model compiled
once; ``--sampler pymc`` forces PyMC's NUTS, which compiles each simulated shape).

``--running`` gives each side a running tally as well (20-30 daily-ish figures, see
:func:`validation.calibration.draw_design`); its files are named ``sbc_running_*``.
``--late`` draws long windows (1,000-3,650 days) whose claims all fall in their last
tenth, some counting from the second half (a head before the first claim, long gaps
between the days claims look at: issue 25); its files are named ``sbc_late_*``.

Raw results are appended to ``<out>/sbc_raw.jsonl`` as each fit finishes, so a stopped
run loses nothing: run the same command again and it resumes where it stopped. The
summary files (``sbc_coverage.csv``, ``sbc_uniformity.csv``, ``sbc_ranks.png``,
``sbc_run.json``) are rewritten every ``--summary-every`` fits and at the end;
``--summarize`` only rewrites them from the raw file.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from casualty_models._parallel import executor, run_all
from validation.calibration import (
    FitConfig,
    binomial_band,
    config_dict,
    coverage_table,
    read_records,
    run_simulation,
    uniformity_table,
    units_frame,
)
from validation.outputs import plot_coverage, plot_rank_histograms, replace_block, trust_page

RUNNING_FIGURES = (20, 30)
LATE_DESIGN = (("late", 0.9), ("n_days", (1000, 3650)), ("p_window", 0.3))


def markdown(table: pd.DataFrame) -> str:
    """The coverage table for docs/trust.md."""
    lines = [
        "| quantity | nominal | coverage | 99% binomial band | in band | sims | "
        "divergent transitions | rank χ² p-value |",
        "|---|---:|---:|---:|:---:|---:|---:|---:|",
    ]
    for r in table.to_dict(orient="records"):
        lines.append(
            f"| `{r['quantity']}` | {r['level']:.0%} | {r['coverage']:.1%} | {r['band_99']} | "
            f"{'yes' if r['in_band'] else '**no**'} | {r['n_sims']} | {r['divergences']} | "
            f"{r['p_value']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def banded(cov: pd.DataFrame, uni: pd.DataFrame) -> pd.DataFrame:
    """The coverage table with each row's rank p-value, its 99% binomial band (text) and
    whether the coverage lies inside it."""
    table = cov.merge(uni[["quantity", "p_value"]], on="quantity")
    bands = [binomial_band(lvl, n) for lvl, n in zip(table["level"], table["n_sims"], strict=True)]
    table["band_99"] = [f"{100 * lo:.1f}–{100 * hi:.1f}%" for lo, hi in bands]
    table["in_band"] = [lo <= c <= hi for (lo, hi), c in zip(bands, table["coverage"], strict=True)]
    return table


def summarize(
    records: list[dict[str, Any]],
    out: Path,
    wall: float | None = None,
    trust: Path | None = None,
    prefix: str = "sbc",
) -> str:
    """Write the summary files ``<prefix>_*`` (and the ``prefix`` table block of
    ``trust``); return a printable table.

    ``wall`` (the run's wall time) is kept from an earlier summary when not given.
    """
    ok = [r for r in records if "units" in r]
    if not ok:
        return "no finished fits yet"
    units = units_frame(ok)
    cov = coverage_table(units)
    cov.to_csv(out / f"{prefix}_coverage.csv", index=False, float_format="%.4f")
    uni = uniformity_table(units)
    uni.to_csv(out / f"{prefix}_uniformity.csv", index=False, float_format="%.4g")
    plot_rank_histograms(units, out / f"{prefix}_ranks.png")
    plot_coverage(cov, out / f"{prefix}_coverage.png")
    div = np.array([r["divergences"] for r in ok])
    ess = np.array([r["ess_bulk_min"] for r in ok])
    secs = np.array([r["seconds"] for r in ok])
    run = {
        "n_sims": len(ok),
        "n_failed": len(records) - len(ok),
        "failures": [r["error"] for r in records if "error" in r][:10],
        "divergences_total": int(div.sum()),
        "sims_with_divergences": int((div > 0).sum()),
        "ess_bulk_min_median": float(np.median(ess)),
        "ess_bulk_min_p05": float(np.quantile(ess, 0.05)),
        "ess_tail_min_median": float(np.median([r["ess_tail_min"] for r in ok])),
        "r_hat_max_median": float(np.median([r["r_hat_max"] for r in ok])),
        "r_hat_max_max": float(np.max([r["r_hat_max"] for r in ok])),
        "fit_seconds_median": float(np.median(secs)),
        "fit_seconds_total": float(secs.sum()),
        "wall_seconds": wall,
        "config": ok[0]["config"],
        "base_seed": ok[0]["base_seed"],
    }
    ess_units = units.groupby("quantity")["ess_bulk"]
    run["unit_ess_bulk_median"] = {str(q): float(v) for q, v in ess_units.median().items()}
    run["unit_ess_bulk_p05"] = {str(q): float(v) for q, v in ess_units.quantile(0.05).items()}
    previous = out / f"{prefix}_run.json"
    if wall is None and previous.exists():
        run["wall_seconds"] = json.loads(previous.read_text()).get("wall_seconds")
    previous.write_text(json.dumps(run, indent=2) + "\n")
    table = banded(cov, uni)
    if trust is not None:
        replace_block(trust, prefix.replace("_", "-"), markdown(table))
    return table.to_string(index=False, float_format=lambda x: f"{x:.3f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n-sims", type=int, default=500)
    ap.add_argument(
        "--out",
        type=Path,
        help="folder of the raw and summary files (default: docs/validation, or "
        "docs/validation/sbc_defaults or .../sbc_<sampler> with --fit-defaults)",
    )
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dask", action="store_true", help="run on a dask.distributed LocalCluster")
    ap.add_argument("--seed", type=int, default=20240605, help="base seed of the study")
    ap.add_argument("--draws", type=int, default=FitConfig.draws)
    ap.add_argument("--tune", type=int, default=FitConfig.tune)
    ap.add_argument(
        "--fit-defaults",
        action="store_true",
        help="fit()'s own defaults (sampler, draws, tune, target_accept, continuation) "
        "instead of the study's fixed settings; --draws and --tune are then ignored",
    )
    ap.add_argument(
        "--sampler",
        choices=("pymc", "nutpie"),
        help="with --fit-defaults: this sampler for every fit instead of fit()'s own "
        "(nutpie over the model compiled once; pymc compiles each simulated shape)",
    )
    ap.add_argument("--rank-draws", type=int, default=FitConfig.n_rank_draws)
    ap.add_argument("--summary-every", type=int, default=50)
    ap.add_argument("--summarize", action="store_true", help="only rewrite the summaries")
    ap.add_argument(
        "--trust",
        type=Path,
        help="Markdown page to update (default: docs/trust.md when --out is docs/validation)",
    )
    ap.add_argument("--no-trust", action="store_true", help="do not touch the trust page")
    ap.add_argument("--running", action="store_true", help="add a running tally per side")
    ap.add_argument("--late", action="store_true", help="long windows, claims at the end")
    args = ap.parse_args(argv)
    if args.sampler and not args.fit_defaults:
        ap.error("--sampler goes with --fit-defaults")
    if args.out is None:  # a study at other settings never shares the main study's files
        study = f"sbc_{args.sampler or 'defaults'}" if args.fit_defaults else ""
        args.out = Path("docs/validation") / study
    trust = trust_page(args.out, args.trust, args.no_trust)

    design = (("running_figures", RUNNING_FIGURES),) if args.running else ()
    if args.late:
        design += LATE_DESIGN
    if args.fit_defaults:
        forced = {"sampler": args.sampler} if args.sampler else {}
        config = FitConfig.of_fit(n_rank_draws=args.rank_draws, design=design, **forced)
    else:
        config = FitConfig(
            draws=args.draws, tune=args.tune, n_rank_draws=args.rank_draws, design=design
        )
    prefix = "sbc" + ("_running" if args.running else "") + ("_late" if args.late else "")
    args.out.mkdir(parents=True, exist_ok=True)
    raw_path = args.out / f"{prefix}_raw.jsonl"
    records = read_records(raw_path, config, base_seed=args.seed)
    if args.summarize:
        print(summarize(records, args.out, trust=trust, prefix=prefix))
        return 0
    done = {r["index"] for r in records}
    todo = [i for i in range(args.n_sims) if i not in done]
    print(
        f"SBC: {args.n_sims} simulations ({len(done)} already in {raw_path}, {len(todo)} to run) "
        f"on {args.workers} {'dask' if args.dask else 'process'} workers; "
        f"{config.chains} chains x {config.draws or 'default'} draws after {config.tune} tuning",
        flush=True,
    )
    t0 = time.perf_counter()
    with executor(args.workers, use_dask=args.dask) as pool, raw_path.open("a") as raw:

        def keep(_: int, rec: dict[str, Any]) -> None:
            rec["config"] = config_dict(config)
            raw.write(json.dumps(rec) + "\n")
            raw.flush()
            records.append(rec)
            if "error" in rec:
                print(f"sim {rec['index']}: error {rec['error']}", flush=True)
            if len(records) % args.summary_every == 0:
                summarize(records, args.out, time.perf_counter() - t0, prefix=prefix)

        jobs = [(i, args.seed, config) for i in todo]
        run_all(run_simulation, jobs, executor=pool, label="SBC", progress=True, on_result=keep)
    wall = time.perf_counter() - t0
    print(summarize(records, args.out, wall, trust, prefix))
    print(f"wall time {wall / 60:.1f} min", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
