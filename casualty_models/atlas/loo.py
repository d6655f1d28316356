"""Leave one event out: would the historical priors have covered the later count?

For each event of the atlas:

1. fit the atlas model without it (:func:`~casualty_models.atlas.model.fit_atlas`) and
   derive the historical presets from that fit alone (:func:`derived_priors`);
2. fit the event's own claims with the main model (:func:`casualty_models.fit`), once per
   side with a later count (with the historical preset of its victims, military or
   civilian) and once with each comparison preset (the package defaults; for civilian
   series also the hand-made ``civilian`` preset);
3. compare each series' 90% interval at the event's end with its later count.

How a side's claims are fitted: the strong claims only (weak ones are left out, as in
the atlas), every claim about the side (unscored categories included: they are the
event's evidence too), echoes included (the main model knows ``derived_from``). A figure
dated after the event's end (or known only to a month or year that runs past it) counts
the event's dead, so its ``as_of`` is moved to the end: otherwise the main model would
read a rise after the end. The grid starts where the side's claims start counting (the
earliest ``period_start``; a claim without one counts from the event's start), not
at the event's start when every claim counts from later: deaths before any
claim's window are no claim's business, and the main model would otherwise add a stretch
that only the prior describes (Kosovo's claims about the civilians NATO's bombs killed
count from 24 March 1999, thirteen months after the event's start). Each side is fitted
alone, so one side's claims cannot set another's grid.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import warnings
from collections.abc import Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from casualty_models.atlas.data import Atlas, load_atlas, records
from casualty_models.atlas.model import fit_atlas
from casualty_models.atlas.preset import VICTIMS_PRESET, derived_priors
from casualty_models.claims import ClaimSet
from casualty_models.model.priors import DEFAULT_LEVEL, Priors

__all__ = ["COMPARISONS", "event_claims", "leave_one_event_out", "loo_summary"]

COMPARISONS: dict[str, tuple[str, ...]] = {
    "military": ("defaults",),
    "civilian": ("defaults", "civilian"),
}
"""Presets each group's historical priors are compared with."""


def event_claims(atlas: Atlas, event: str, side: str) -> tuple[ClaimSet, dt.date]:
    """The event's strong claims about ``side``, with figures dated after the end moved
    to it; and the grid's start (where the claims start counting)."""
    first, end = atlas.span(event)
    kept = []
    for claim in atlas.claims[event]:
        if claim.side != side:
            continue
        if (claim.end() or claim.as_of) > end:  # may count past the end: counts to it
            claim = dataclasses.replace(claim, as_of=end, as_of_precision="day")
        kept.append(claim)
    claims = ClaimSet(kept, origin=f"{atlas.origin}/{event}/claims.csv")
    start = min(min(c.period_start or first, c.as_of) for c in kept)
    return claims, start


def _priors_for(name: str, victims: str, learned: dict[str, Priors]) -> Priors:
    from casualty_models.model.priors_file import preset

    if name == "historical":
        return learned[VICTIMS_PRESET[victims]]
    if name == "defaults":
        return Priors()
    return preset(name)


def _score(est: Any, later: pd.DataFrame, priors_name: str, level: float) -> list[dict[str, Any]]:
    head = est.headline(level=level).set_index(["side", "category"])
    diag = est.diagnostics
    lo_col, hi_col = f"low_{round(level * 100)}", f"high_{round(level * 100)}"
    rows = []
    for r in records(later):
        h = head.loc[(r["side"], r["category"])]
        lo, hi, med = float(h[lo_col]), float(h[hi_col]), float(h["median"])
        value, low, high = float(r["value"]), float(r["low"]), float(r["high"])
        rows.append(
            {
                "event": r["event"],
                "side": r["side"],
                "category": r["category"],
                "victims": r["victims"],
                "priors": priors_name,
                "later": value,
                "later_low": low,
                "later_high": high,
                "median": med,
                "low": lo,
                "high": hi,
                "covered": bool(lo <= value <= hi),
                "overlaps": bool(lo <= high and low <= hi),
                "width": hi / lo,
                "log_error": math.log(med / value),
                "r_hat": float(diag.r_hat_max),
                "ess": float(diag.ess_bulk_min),
                "divergences": int(diag.divergences),
            }
        )
    return rows


def _event_rows(
    atlas_dir: str, event: str, settings: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Leave ``event`` out: the scored rows, and the learned presets' numbers."""
    from casualty_models.diagnostics import ConvergenceWarning, ModelCheckWarning
    from casualty_models.fitting import fit

    atlas = load_atlas(atlas_dir)
    learned_fit = fit_atlas(atlas.without(event), **settings["atlas"])
    learned = derived_priors(learned_fit)
    rows: list[dict[str, Any]] = []
    end = atlas.span(event)[1]
    for side in dict.fromkeys(atlas.later[atlas.later["event"] == event]["side"]):
        claims, start = event_claims(atlas, event, side)
        later = atlas.later[(atlas.later["event"] == event) & (atlas.later["side"] == side)]
        victims = atlas.victims_of(event, side)
        for name in ("historical", *settings["comparisons"][victims]):
            priors = _priors_for(name, victims, learned)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                warnings.simplefilter("ignore", ModelCheckWarning)
                warnings.simplefilter("ignore", UserWarning)
                est = fit(claims, as_of=end, start=start, priors=priors, **settings["fit"])
            rows += _score(est, later, name, settings["level"])
    info = {
        "event": event,
        "atlas_diagnostics": learned_fit.diagnostics(),
        "cells": learned_fit.cells().to_dict(orient="records"),
    }
    return rows, info


def leave_one_event_out(
    atlas_dir: str | Path,
    events: Sequence[str] | None = None,
    *,
    atlas_kwargs: dict[str, Any] | None = None,
    fit_kwargs: dict[str, Any] | None = None,
    comparisons: dict[str, tuple[str, ...]] | None = None,
    level: float = DEFAULT_LEVEL,
    executor: Executor | None = None,
    workers: int = 1,
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Leave each of ``events`` (default: all) out in turn; returns one row per (series,
    priors) — the later count, the interval at ``level``, whether it covered the later
    count and how wide it was — and, per event, the left-out atlas fit's diagnostics and
    cells. ``atlas_kwargs`` go to :func:`fit_atlas`, ``fit_kwargs`` to
    :func:`casualty_models.fit` (default: 500 draws after 500 tuning steps, one run,
    seed 1). Events run one after another in this process unless ``executor`` or
    ``workers > 1`` is given."""
    from casualty_models._parallel import run_all

    atlas = load_atlas(atlas_dir)
    chosen = list(events) if events is not None else atlas.names
    settings = {
        "atlas": {"draws": 1000, "tune": 1000, "random_seed": 1, **(atlas_kwargs or {})},
        "fit": {
            "draws": 500,
            "tune": 500,
            "max_attempts": 1,
            "random_seed": 1,
            **(fit_kwargs or {}),
        },
        "comparisons": comparisons or COMPARISONS,
        "level": level,
    }
    jobs = [(str(atlas_dir), e, settings) for e in chosen]
    if executor is None and workers <= 1:
        results = [_event_rows(*job) for job in jobs]
    else:
        results = run_all(_event_rows, jobs, executor=executor, workers=workers, label="events")
    rows = [r for rs, _ in results for r in rs]
    return pd.DataFrame(rows), [info for _, info in results]


def loo_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Per priors: series scored, coverage, the mean width (geometric: exp of the mean
    log of high ÷ low) and median width of the intervals, median |log error|, and
    coverage averaged over events (each event weighs the same)."""
    out = []
    for name, g in rows.groupby("priors", sort=False):
        per_event = g.groupby("event")["covered"].mean()
        out.append(
            {
                "priors": name,
                "series": len(g),
                "events": g["event"].nunique(),
                "covered": int(g["covered"].sum()),
                "coverage": float(g["covered"].mean()),
                "coverage_by_event": float(per_event.mean()),
                "mean_width": float(np.exp(np.log(g["width"]).mean())),
                "median_width": float(g["width"].median()),
                "median_abs_log_error": float(g["log_error"].abs().median()),
            }
        )
    return pd.DataFrame(out)
