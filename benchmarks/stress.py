"""Stress suite: real-shaped cases fitted at default settings (docs/robustness.md).

Every case is cut from public data that ships with the package (each claim keeps its
citation), so anyone can rerun it:

    python benchmarks/stress.py                 # all cases, then docs/robustness.md
    python benchmarks/stress.py --only vintage-2023-06-30

Each case reports its claims, fit time, the worst R-hat, the smallest bulk and tail
ESS, divergences, the model check, what ``fit()`` had to do (its runs) and the first
killed series' headline. Raw results
go to ``docs/validation/stress.jsonl`` (one line per case; a rerun replaces the case).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Callable

from _common import ROOT, describe_machine, machine_info

import casualty_models as cm

WAR = ROOT / "seeds" / "russia_ukraine_war.csv"
DAILY = ROOT / "seeds" / "ua_general_staff_daily.csv"
PNAS = ROOT / "seeds" / "radford2023" / "replication-data-pnas.csv"
REPRO = ROOT / "benchmarks" / "data" / "running_tally_spike.csv"
EXAMPLES = ROOT / "seeds" / "examples"
RAW = ROOT / "docs" / "validation" / "stress.jsonl"
DOC = ROOT / "docs" / "robustness.md"
START = "2022-02-24"
VINTAGES = ("2022-06-30", "2022-12-31", "2023-06-30", "2023-12-31", "2024-06-30", "2025-06-30")


def _rows(*rows: int) -> cm.ClaimSet:
    """Claims of the war file by CSV line number (header = line 1)."""
    claims = cm.read_claims(WAR)
    by_line = {row: i for i, (_, row) in enumerate(claims.places)}
    return cm.ClaimSet([claims[by_line[r]] for r in rows], origin=f"{WAR.name} rows {rows}")


def _war() -> cm.ClaimSet:
    return cm.read_claims(WAR).add(cm.read_claims(DAILY))


# name -> (what it stands for, claims, fit keyword arguments)
CASES: dict[str, tuple[str, Callable[[], cm.ClaimSet], dict[str, str]]] = {
    "few-claims-long-window": (
        "Russian killed from five claims over four years (NATO 2022 to CSIS 2026)",
        lambda: _rows(12, 92, 84, 145, 214),
        {"start": START},
    ),
    "enemy-claims-and-a-floor": (
        "Ukrainian killed known only from Russian and Wagner claims and a named-list floor",
        lambda: _rows(5, 20, 229, 64),
        {"start": START},
    ),
    "tally-and-enemy-statement": (
        "one series: two named-list floors (Mediazona/BBC) and one Ukrainian statement",
        lambda: _rows(49, 55, 76),
        {"start": START},
    ),
    "several-thin-series": (
        "four series (killed and casualties, both sides), two claims each",
        lambda: _rows(92, 84, 46, 62, 31, 87, 30, 211),
        {"start": START},
    ),
    **{
        f"vintage-{d}": (
            f"the bundled war data (both files) as reported on {d}",
            _war,
            {"start": START, "as_reported_on": d},
        )
        for d in (
            "2022-06-30",
            "2022-12-31",
            "2023-06-30",
            "2023-12-31",
            "2024-06-30",
            "2025-06-30",
        )
    },
    "whole-war": ("the bundled war data (both files), all of it", _war, {"start": START}),
    "pnas-replication": (
        "the PNAS replication data of Radford et al. (2023), personnel rows",
        lambda: cm.read_claims(PNAS, format="radford2023"),
        {"start": START, "as_of": "2023-02-23"},
    ),
    "late-tallies-ten-years": (
        "Syrian civilians killed: three monitors' named-victim tallies, all in the last "
        "month of a ten-year window",
        lambda: cm.read_claims(EXAMPLES / "syria_civilians_2011-2021.csv"),
        {},
    ),
    "late-claims-three-years": (
        "Iraqi violent deaths 2003-2006: a floor, two tallies, a survey's central estimate "
        "with its 95% interval and the health ministry's own figure, all at the end",
        lambda: cm.read_claims(EXAMPLES / "iraq_2003-2006.csv"),
        {},
    ),
    "running-tally-spike": (
        "the 50-row synthetic reproduction of a running-tally spike (truth 109,500)",
        lambda: cm.read_claims(REPRO),
        {"start": START, "as_of": "2023-02-23"},
    ),
}


def run_case(name: str, seed: int = 1) -> dict[str, object]:
    what, load, kwargs = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # every warning is in the record instead
        claims = load()
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est = cm.fit(claims, random_seed=seed, **kwargs)
        seconds = time.perf_counter() - t0
    d = est.diagnostics
    head = est.headline().iloc[0]
    return {
        "case": name,
        "what": what,
        "claims": len(est.claims),
        "seconds": round(seconds, 1),
        "r_hat_max": d.r_hat_max,
        "ess_bulk_min": d.ess_bulk_min,
        "ess_tail_min": d.ess_tail_min,
        "divergences": d.divergences,
        "converged": d.converged,
        "model_ok": d.model_ok,
        "claims_implausible": d.claims_implausible,
        "claims_checked": d.claims_checked,
        "runs": [f"{a['reason']} ({a['sampler']}, {a['seconds']:.0f} s)" for a in est.attempts],
        "headline": f"{head.side} {head.category} {head['median']:,.0f} "
        f"({head.low_90:,.0f}–{head.high_90:,.0f})",
        "warnings": sorted({type(w.message).__name__ for w in caught}),
        "machine": describe_machine(machine_info()),
    }


def write_doc(records: list[dict[str, object]]) -> None:
    lines = [
        "| case | claims | fit (s) | R-hat max | bulk ESS min | tail ESS min | divergences "
        "| model check | what fit() did | headline (90%) |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for r in records:
        check = f"{r['claims_implausible']}/{r['claims_checked']} " + (
            "ok" if r["model_ok"] else "FAILED"
        )
        runs = "; ".join(r["runs"])  # type: ignore[arg-type]
        lines.append(
            f"| `{r['case']}` | {r['claims']} | {r['seconds']:.0f} | {r['r_hat_max']:.3f} "
            f"| {r['ess_bulk_min']:.0f} | {r['ess_tail_min']:.0f} | {r['divergences']} "
            f"| {check} | {runs} | {r['headline']} |"
        )
    text = DOC.read_text()
    start, end = "<!-- stress:start -->", "<!-- stress:end -->"
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    DOC.write_text(head + start + "\n" + "\n".join(lines) + "\n" + end + tail)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="*", choices=sorted(CASES), help="run only these cases")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--doc-only", action="store_true", help="rewrite the table, fit nothing")
    args = ap.parse_args(argv)
    done = {}
    if RAW.exists():
        done = {r["case"]: r for r in map(json.loads, RAW.read_text().splitlines())}
    for name in [] if args.doc_only else args.only or list(CASES):
        print(f"{name}: fitting…", flush=True)
        rec = run_case(name, args.seed)
        done[name] = rec
        print(json.dumps(rec), flush=True)
        RAW.write_text("".join(json.dumps(done[c]) + "\n" for c in CASES if c in done))
    write_doc([done[c] for c in CASES if c in done])
    return 0


if __name__ == "__main__":
    sys.exit(main())
