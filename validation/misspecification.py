"""Recovery of the count when sources are biased differently from what the priors say.

Each scenario fits ~50 simulated data sets of one fixed, seed-like design (one side, 90
days; an own ministry, the enemy's, two neutral governments and a named-person tally,
three claims each) in which chosen speakers' true biases are set away from their prior
(for example the own side reporting a tenth of its dead) while everything else is drawn
from the prior. Every scenario uses the same seeds, so they differ only by the
misspecification. Run from the repository root::

    python -m validation.misspecification --n-sims 50 --out docs/validation

Raw results go to ``<out>/misspecification_raw.jsonl`` (resumable);
``misspecification.csv`` holds the table, which is also written between the
``misspecification`` markers of ``docs/trust.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from casualty_models._parallel import executor, run_all
from casualty_models.model.priors import DEFAULT_SOURCE_PRIORS
from validation.calibration import (
    MISSPECIFICATION_SCENARIOS,
    FitConfig,
    config_dict,
    read_records,
    run_scenario,
)
from validation.outputs import replace_block, trust_page

RAW = "misspecification_raw.jsonl"
REFERENCE = "well specified"  # paired shifts are measured against this scenario


def _factor(scenario: str) -> str:
    truth = MISSPECIFICATION_SCENARIOS[scenario]
    if not truth:
        return "all drawn from the prior"
    parts = []
    for key, f in truth.items():
        source_type = key.split("|")[0].rstrip("0123456789")
        _, median, _ = DEFAULT_SOURCE_PRIORS[source_type].factor_interval()
        parts.append(f"{key.split('|')[0]} ×{f:g} (prior median ×{median:.2g})")
    return "; ".join(parts)


def table(records: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per scenario: how the headline count fared, and the misspecified biases."""

    def headline(scenario: str) -> pd.Series:
        """Posterior median log count per data set (index) of a scenario."""
        return pd.Series(
            {
                r["index"]: u["post_median"]
                for r in records
                if r["scenario"] == scenario and "units" in r
                for u in r["units"]
                if u["quantity"] == "count"
            },
            dtype=float,
        )

    reference = headline(REFERENCE)
    rows = []
    for scenario in MISSPECIFICATION_SCENARIOS:
        recs = [r for r in records if r["scenario"] == scenario and "units" in r]
        if not recs:
            continue
        count = pd.DataFrame(
            [u for r in recs for u in r["units"] if u["quantity"] == "count"]
        ).assign(divergences=[r["divergences"] for r in recs])
        err = count["post_median"] - count["truth"]  # log scale
        width = count["high_90"] - count["low_90"]
        row: dict[str, Any] = {
            "scenario": scenario,
            "true factors": _factor(scenario),
            "n_sims": len(recs),
            "count 90% coverage": count["cover_90"].mean(),
            "count 50% coverage": count["cover_50"].mean(),
            "median estimate / truth": math.exp(float(err.median())),
            "typical error (median |log|)": math.exp(float(err.abs().median())),
            "90% interval, high / low": math.exp(float(width.median())),
            "shift vs well specified": math.exp(
                float((headline(scenario) - reference).dropna().median())
            ),
            "divergent fits": int((count["divergences"] > 0).sum()),
        }
        targets = set(MISSPECIFICATION_SCENARIOS[scenario])
        if targets:
            bias = [u for r in recs for u in r["units"] if u["label"] in targets]
            row["misspecified bias: 90% coverage"] = float(np.mean([u["cover_90"] for u in bias]))
            row["misspecified bias: median posterior factor"] = math.exp(
                float(np.median([u["post_median"] for u in bias]))
            )
        rows.append(row)
    return pd.DataFrame(rows)


def markdown(df: pd.DataFrame) -> str:
    head = (
        "| scenario | true bias factors | sims | count: 90% coverage | 50% coverage | "
        "median estimate ÷ truth | typical error (×/÷) | 90% interval high ÷ low | "
        "estimate moved by (same data, vs well specified) | "
        "misspecified source: 90% coverage of its bias | its median posterior factor |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    lines = []
    for r in df.to_dict(orient="records"):
        cov_b = r.get("misspecified bias: 90% coverage")
        fac_b = r.get("misspecified bias: median posterior factor")
        lines.append(
            f"| {r['scenario'].replace(' x', ' ×')} | {r['true factors']} | {r['n_sims']} | "
            f"{r['count 90% coverage']:.0%} | {r['count 50% coverage']:.0%} | "
            f"×{r['median estimate / truth']:.2f} | ×{r['typical error (median |log|)']:.2f} | "
            f"×{r['90% interval, high / low']:.1f} | ×{r['shift vs well specified']:.2f} | "
            + ("—" if cov_b is None or pd.isna(cov_b) else f"{cov_b:.0%}")
            + " | "
            + ("—" if fac_b is None or pd.isna(fac_b) else f"×{fac_b:.2f}")
            + " |"
        )
    return head + "\n".join(lines) + "\n"


def write(records: list[dict[str, Any]], out: Path, trust: Path | None) -> str:
    df = table(records)
    if df.empty:
        return "no finished fits yet"
    df.to_csv(out / "misspecification.csv", index=False, float_format="%.4f")
    md = markdown(df)
    (out / "misspecification.md").write_text(md)
    if trust is not None:
        replace_block(trust, "misspecification", md)
    return md


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n-sims", type=int, default=50, help="data sets per scenario")
    ap.add_argument("--out", type=Path, default=Path("docs/validation"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dask", action="store_true")
    ap.add_argument("--seed", type=int, default=20240606)
    ap.add_argument("--draws", type=int, default=300)
    ap.add_argument("--tune", type=int, default=400)
    ap.add_argument(
        "--trust",
        type=Path,
        help="Markdown page to update (default: docs/trust.md when --out is docs/validation)",
    )
    ap.add_argument("--no-trust", action="store_true", help="do not touch the trust page")
    ap.add_argument("--summarize", action="store_true")
    args = ap.parse_args(argv)
    trust = trust_page(args.out, args.trust, args.no_trust)

    config = FitConfig(draws=args.draws, tune=args.tune)
    args.out.mkdir(parents=True, exist_ok=True)
    raw_path = args.out / RAW
    records = read_records(raw_path, config, base_seed=args.seed)
    if args.summarize:
        print(write(records, args.out, trust))
        return 0
    done = {(r["scenario"], r["index"]) for r in records}
    todo = [
        (s, i) for i in range(args.n_sims) for s in MISSPECIFICATION_SCENARIOS if (s, i) not in done
    ]
    print(
        f"misspecification: {len(MISSPECIFICATION_SCENARIOS)} scenarios x {args.n_sims} "
        f"({len(done)} done, {len(todo)} to run) on {args.workers} workers",
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
                print(f"{rec['scenario']} #{rec['index']}: error {rec['error']}", flush=True)

        jobs = [(s, i, args.seed, config) for s, i in todo]
        run_all(
            run_scenario,
            jobs,
            executor=pool,
            label="misspecification",
            progress=True,
            on_result=keep,
        )
    print(write(records, args.out, trust))
    print(f"wall time {(time.perf_counter() - t0) / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
