"""A focused SBC of one running tally: does its source type explain the running study's
slightly narrow 90% intervals?

Each data set has one side, 60-120 days, a neutral government with two point claims and
a running tally of 20-30 cumulative figures from a speaker of the chosen source type
(``independent`` was the lowest-covering type in the running study, docs/trust.md). The
days and figures are drawn from the model's prior as in :mod:`validation.sbc`; each fit
runs at ``fit()``'s defaults. Run from the repository root::

    python -m validation.sbc_focus independent --start 0 --stop 150
    python -m validation.sbc_focus independent --start 150 --stop 300   # a 2nd process
    python -m validation.sbc_focus independent --summarize

Raw results are appended to ``docs/validation/sbc_focus/<type>_raw.jsonl`` as each fit
finishes; a stopped run resumes where it stopped (indices already there are skipped).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from validation.calibration import (
    FitConfig,
    coverage_table,
    fit_and_evaluate,
    uniformity_table,
    units_frame,
)
from validation.sbc import RUNNING_FIGURES, banded
from validation.simulate import SBC_TYPES, ClaimSpec, Design, Speaker, simulate

OUT = Path("docs/validation/sbc_focus")
BASE_SEED = (2026, 12, 6)


def design(running_type: str, index: int) -> Design:
    """Data set ``index``'s structure: its days, the neutral's two days, the tally's."""
    rng = np.random.default_rng([*BASE_SEED, index])
    days = int(rng.integers(60, 121))
    m = int(rng.integers(RUNNING_FIGURES[0], RUNNING_FIGURES[1] + 1))
    tally = np.sort(rng.choice(np.arange(3, days), size=m, replace=False))
    neutral = np.sort(rng.choice(np.arange(3, days), size=2, replace=False))
    speakers = (
        Speaker("neutral1", "a", "neutral"),
        Speaker("running1", "a", running_type, running=True),
    )
    claims = [ClaimSpec(0, "killed", 0, int(d), "point") for d in neutral]
    claims += [ClaimSpec(1, "killed", 0, int(d), "point") for d in tally]
    return Design(days, ("a",), speakers, tuple(claims))


def run_one(running_type: str, index: int) -> dict:
    config = FitConfig.of_fit()
    sim = simulate([*BASE_SEED, index], config.priors(), design=design(running_type, index))
    seed = int(np.random.default_rng([*BASE_SEED, index, 1]).integers(2**31))
    return fit_and_evaluate(sim, config, seed, {"index": index, "type": running_type})


def summary(records: list[dict]) -> str:
    """Coverage per quantity with its 99% band, rank uniformity, and the average 90%
    coverage per data set (its standard error over data sets)."""
    ok = [r for r in records if "units" in r]
    units = units_frame(ok)
    table = banded(coverage_table(units), uniformity_table(units))
    per_sim = units.groupby("index")[["cover_50", "cover_90"]].mean()
    se = per_sim.std(ddof=1) / np.sqrt(len(per_sim))
    lines = [
        f"{len(ok)} fits ({len(records) - len(ok)} failed); divergences "
        f"{sum(r['divergences'] for r in ok)}; worst R-hat "
        f"{max(r['r_hat_max'] for r in ok):.4f}; smallest bulk ESS "
        f"{min(r['ess_bulk_min'] for r in ok):.0f}; median fit "
        f"{np.median([r['seconds'] for r in ok]):.0f} s",
        table.to_string(index=False, float_format=lambda x: f"{x:.3f}"),
        f"per data set: 90% {per_sim['cover_90'].mean():.3f} +- {se['cover_90']:.3f}, "
        f"50% {per_sim['cover_50'].mean():.3f} +- {se['cover_50']:.3f}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("type", choices=SBC_TYPES, help="source type of the running tally")
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--stop", type=int, default=300)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--summarize", action="store_true", help="only print the summary")
    args = ap.parse_args(argv)
    raw = args.out / f"{args.type}_raw.jsonl"
    records = [json.loads(line) for line in raw.read_text().splitlines()] if raw.exists() else []
    if not args.summarize:
        args.out.mkdir(parents=True, exist_ok=True)
        done = {r["index"] for r in records if "units" in r}
        with raw.open("a") as f:
            for i in range(args.start, args.stop):
                if i not in done:
                    records.append(run_one(args.type, i))
                    f.write(json.dumps(records[-1]) + "\n")
                    f.flush()
    # a rerun of a failed index replaces its failure
    last = {r["index"]: r for r in records}
    print(summary(list(last.values())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
