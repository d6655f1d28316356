"""Simulated atlases: known biases, to check that the atlas model finds them.

:func:`simulate` draws the figures of an atlas whose structure (events, speakers, cells,
kinds of claim, dates, later counts and their uncertainty) is that of a real observation
table, from known parameters, through the atlas model's own generative story: each
series' true count scatters about its later count by the count's own uncertainty;
each speaker's bias is its cell's median, its group's offset and its own deviation;
each figure adds the early-claim slope and Student-t noise. A range or a bound keeps its
real cut points (relative to the later count), so the censoring does not depend on the
figure: the claim says whichever side of a cut point the figure fell on (a floor whose
figure fell below its cut point becomes a ceiling; a range, a floor at its top or a
ceiling at its bottom). That is the mechanism the censored likelihood assumes.

:func:`calibration` is a small simulation-based calibration (SBC): parameters drawn from
the atlas model's priors, one simulated atlas each, one fit each; the rank of every true
value among its posterior draws and whether the 90% interval held it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from casualty_models.atlas.data import CELLS
from casualty_models.atlas.model import (
    CAPPED,
    MU_SD,
    NOISE_FLOOR,
    NOISE_SD,
    SIGMA_SD,
    fit_atlas,
    prepare,
)
from casualty_models.model.priors import CAP_SHARPNESS

__all__ = ["calibration", "draw_parameters", "replicate", "simulate"]

SHARED_CELLS = tuple(c for c in CELLS if c not in CAPPED)


def draw_parameters(rng: np.random.Generator) -> dict[str, Any]:
    """Parameters from the atlas model's priors."""
    return {
        "mu": dict(zip(CELLS, rng.normal(0.0, MU_SD, len(CELLS)), strict=True)),
        "spread": dict(zip(CELLS, np.abs(rng.normal(0.0, SIGMA_SD, len(CELLS))), strict=True)),
        "shared": dict(
            zip(SHARED_CELLS, np.abs(rng.normal(0.0, SIGMA_SD, len(SHARED_CELLS))), strict=True)
        ),
        "noise": NOISE_FLOOR + float(abs(rng.normal(0.0, NOISE_SD))),
        "early": float(rng.normal(0.0, 1.0)),
    }


def replicate(obs: pd.DataFrame, times: int) -> pd.DataFrame:
    """``obs`` repeated ``times`` times as distinct events (``event#k``): a larger atlas
    of the same shape."""
    parts = []
    for k in range(times):
        part = obs.copy()
        for col in ("event", "speaker", "group"):
            part[col] = part[col].str.replace(r"^([^|]+)", rf"\1#{k}", regex=True)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def simulate(obs: pd.DataFrame, params: Mapping[str, Any], *, seed: int) -> pd.DataFrame:
    """An atlas of ``obs``'s structure with figures drawn from ``params`` (see the
    module docstring); the later counts stay as they are."""
    rng = np.random.default_rng(seed)
    inp = prepare(obs)
    z = rng.standard_normal(len(inp.series_keys))
    log_count = inp.count_log + np.where(z > 0, inp.count_sd_high, inp.count_sd_low) * z
    u = rng.standard_normal(len(inp.groups))
    v = rng.standard_normal(len(inp.speakers))
    bias = np.empty(len(inp.speakers))
    for s, c in enumerate(inp.cell):
        cell = CELLS[c]
        raw = params["mu"][cell] + params["spread"][cell] * v[s]
        if cell in CAPPED:
            k = CAP_SHARPNESS / max(params["spread"][cell], 1e-12)
            raw = -np.logaddexp(0.0, -k * raw) / k
        else:
            raw += params["shared"][cell] * u[inp.group[s]]
        bias[s] = raw
    noise = params["noise"] * rng.standard_t(4, len(inp.obs))
    y = log_count[inp.series] + bias[inp.speaker] + params["early"] * inp.early + noise
    out = inp.obs.copy()
    # the real cut points (the later counts are the real ones too)
    lo, hi = out["log_low"].to_numpy(dtype=float), out["log_high"].to_numpy(dtype=float)
    kinds, values, lows, highs = [], [], [], []
    for i, kind in enumerate(out["kind"]):
        value, low, high = math.nan, math.nan, math.nan
        if kind == "point":
            value = y[i]
        elif kind == "range":
            kind, low, high = (
                ("range", lo[i], hi[i])
                if lo[i] <= y[i] <= hi[i]
                else ("ceiling", math.nan, lo[i])
                if y[i] < lo[i]
                else ("floor", hi[i], math.nan)
            )
        else:
            cut = lo[i] if kind == "floor" else hi[i]
            kind, low, high = (
                ("floor", cut, math.nan) if y[i] >= cut else ("ceiling", math.nan, cut)
            )
        kinds.append(kind)
        values.append(value)
        lows.append(low)
        highs.append(high)
    out["kind"] = kinds
    out["log_value"] = values
    out["log_low"] = lows
    out["log_high"] = highs
    out["ratio"] = np.exp(y - out["count_log"].to_numpy())
    return out


def _truths(params: Mapping[str, Any]) -> dict[str, float]:
    out = {f"mu[{c}]": float(params["mu"][c]) for c in CELLS}
    out["noise"] = float(params["noise"])
    out["early"] = float(params["early"])
    return out


def _posterior(fit: Any) -> dict[str, np.ndarray]:
    mu = fit.draws("mu")
    out = {f"mu[{c}]": mu[:, i] for i, c in enumerate(CELLS)}
    out["noise"] = fit.draws("noise")
    out["early"] = fit.draws("early")
    return out


def calibration(
    obs: pd.DataFrame,
    replications: int,
    *,
    seed: int = 0,
    fit_kwargs: Mapping[str, Any] | None = None,
    thin_to: int = 99,
) -> pd.DataFrame:
    """A small SBC of the atlas model on ``obs``'s structure: one row per replication
    and parameter (``mu[cell]``, ``noise``, ``early``) with the true value, the
    posterior median and 90% interval, ``covered``, and the ``rank`` of the truth among
    ``thin_to`` evenly thinned posterior draws (uniform on 0..thin_to if calibrated).
    Replication *r* draws its parameters and figures with seeds from ``seed + r``."""
    kwargs = {"draws": 500, "tune": 500, **(fit_kwargs or {})}
    rows = []
    for r in range(replications):
        rng = np.random.default_rng(seed + r)
        params = draw_parameters(rng)
        sim = simulate(obs, params, seed=seed + r)
        fit = fit_atlas(sim, random_seed=seed + r, **kwargs)
        diag = fit.diagnostics()
        post = _posterior(fit)
        for name, truth in _truths(params).items():
            draws = post[name]
            lo, med, hi = np.quantile(draws, [0.05, 0.5, 0.95])
            thin = draws[np.linspace(0, draws.size - 1, thin_to).astype(int)]
            rows.append(
                {
                    "replication": r,
                    "parameter": name,
                    "truth": truth,
                    "median": float(med),
                    "low_90": float(lo),
                    "high_90": float(hi),
                    "covered": bool(lo <= truth <= hi),
                    "rank": int((thin < truth).sum()),
                    "max_rhat": diag["max_rhat"],
                    "divergences": diag["divergences"],
                }
            )
    return pd.DataFrame(rows)
