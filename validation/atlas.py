"""The bias atlas's studies and figures, written to docs/atlas/ and docs/atlas.md.

Run from the repository root::

    python -m validation.atlas loo      # leave one event out (2-7 minutes per event)
    python -m validation.atlas sbc      # the simulated-atlas check (small SBC, ~10 min)
    python -m validation.atlas figures  # the forest plot and the tables in docs/atlas.md

``loo`` writes ``docs/atlas/loo_rows.csv`` (one row per series and priors) and
``loo_events.json`` (each left-out atlas fit's diagnostics and cells), resumable event
by event; ``sbc`` writes ``docs/atlas/sbc.csv``; ``figures`` fits the whole atlas (the
same settings as ``casualty-models atlas fit``), draws ``docs/atlas/forest.png`` and
writes the tables between the markers of ``docs/atlas.md``. Every fit is seeded.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from casualty_models.atlas import load_atlas
from casualty_models.atlas.loo import leave_one_event_out, loo_summary

OUT = Path("docs/atlas")
PAGE = Path("docs/atlas.md")
ATLAS = Path("seeds/bias_atlas")
LOO_ATLAS = {"draws": 500, "tune": 500, "random_seed": 1}
LOO_FIT = {"draws": 500, "tune": 500, "max_attempts": 1, "random_seed": 1}
SBC_FIT = {"draws": 300, "tune": 300}


def run_loo(out: Path, events: list[str] | None) -> pd.DataFrame:
    """Leave each event out in turn; resumes from the events already in the file."""
    out.mkdir(parents=True, exist_ok=True)
    rows_path, info_path = out / "loo_rows.csv", out / "loo_events.json"
    done = pd.read_csv(rows_path) if rows_path.exists() else pd.DataFrame()
    infos: list[dict[str, Any]] = json.loads(info_path.read_text()) if info_path.exists() else []
    todo = [
        e for e in (events or load_atlas(ATLAS).names) if done.empty or e not in set(done["event"])
    ]
    for event in todo:
        t0 = time.perf_counter()
        rows, info = leave_one_event_out(ATLAS, [event], atlas_kwargs=LOO_ATLAS, fit_kwargs=LOO_FIT)
        info[0]["seconds"] = round(time.perf_counter() - t0, 1)
        done = pd.concat([done, rows], ignore_index=True)
        infos += info
        done.to_csv(rows_path, index=False)
        info_path.write_text(json.dumps(infos, indent=1, default=str))
        print(f"{event}: {info[0]['seconds']} s", file=sys.stderr, flush=True)
    return done


def run_sbc(out: Path, replications: int, seed: int) -> pd.DataFrame:
    from casualty_models.atlas.simulate import calibration

    obs = load_atlas(ATLAS).observations()
    table = calibration(obs, replications, seed=seed, fit_kwargs=SBC_FIT)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "sbc.csv", index=False)
    return table


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("study", choices=["loo", "sbc", "figures"])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--events", nargs="*", help="loo: only these events")
    ap.add_argument("--replications", type=int, default=12, help="sbc: simulated atlases")
    ap.add_argument("--seed", type=int, default=100, help="sbc: first seed")
    args = ap.parse_args(argv)
    if args.study == "loo":
        rows = run_loo(args.out, args.events)
        print(loo_summary(rows).to_string(index=False))
    elif args.study == "sbc":
        run_sbc(args.out, args.replications, args.seed)
    else:
        from validation.atlas_pages import write_pages

        write_pages(args.out, PAGE, ATLAS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
