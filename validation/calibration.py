"""Simulation-based calibration: fit simulated data sets and find the truth's rank.

Talts et al. (2018): draw parameters from the prior and data from the model given them
(:mod:`validation.simulate`), fit, and find where each true parameter falls among its
posterior draws. If the posterior is right, that rank is uniform and every equal-tailed
interval covers the truth at its nominal rate. This module fits and evaluates one data
set (:func:`run_simulation`, :func:`run_scenario`), keeps the raw records, and turns them
into coverage and uniformity tables; :mod:`validation.sbc` and
:mod:`validation.misspecification` run the studies, :mod:`validation.outputs` writes
their figures and doc blocks.
"""

from __future__ import annotations

import inspect
import json
import math
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from casualty_models.diagnostics import ConvergenceWarning, ModelCheckWarning
from casualty_models.fitting import fit
from casualty_models.model.priors import Priors
from validation.simulate import (
    LEVELS,
    SBC_LEVEL_MU,
    SBC_TYPES,
    ClaimSpec,
    Design,
    Simulation,
    Speaker,
    simulate,
)


# ---------------------------------------------------------------------------- fitting
@dataclass(frozen=True)
class FitConfig:
    """Sampler settings of every fit in a study, and the design of its data sets."""

    draws: int | None = 250
    tune: int = 350
    chains: int = 2
    target_accept: float = 0.9
    # fit()'s own choice: nutpie over the model compiled once (the studies' earlier runs,
    # before 2026-12-07, used PyMC's NUTS, which compiled each simulated shape)
    sampler: str = "auto"
    n_rank_draws: int = 100
    level_mu: float = SBC_LEVEL_MU
    # one run per data set: fit()'s continuation would change the draws per fit by case
    max_attempts: int = 1
    design: tuple[tuple[str, Any], ...] = ()  # keyword arguments of draw_design

    @classmethod
    def of_fit(cls, **kw: Any) -> FitConfig:
        """The sampler settings ``fit()`` uses when given none (draws, tune, chains,
        target_accept, sampler, max_attempts), with ``kw`` for the study's other fields
        or in place of one of those (e.g. ``sampler="nutpie"``)."""
        params = inspect.signature(fit).parameters
        names = ("draws", "tune", "chains", "target_accept", "sampler", "max_attempts")
        return cls(**({n: params[n].default for n in names} | kw))

    def priors(self) -> Priors:
        # The rules that read real data (spikes left out, mixed labels read one by one)
        # are off: the model's rise noise is symmetric, so a simulated noisy tally can
        # fall, and reading it otherwise than the simulator wrote it would test the
        # rules, not the posterior (they have tests of their own: tests/test_robustness.py)
        return Priors(level_mu=self.level_mu, spike_factor=math.inf, coarse_share=math.inf)


def _thin(draws: np.ndarray, n: int) -> np.ndarray:
    """(chain, draw, ...) -> about ``n`` evenly thinned samples (sample, ...)."""
    chains, total = draws.shape[:2]
    step = max(1, (chains * total) // n)
    return draws[:, ::step].reshape(-1, *draws.shape[2:])


def _unit(
    quantity: str, label: str, truth: float, chains: np.ndarray, n_rank: int
) -> dict[str, Any]:
    """Rank and interval coverage of one scalar truth among its posterior draws.

    ``chains`` is (chain, draw). Intervals use every draw; the rank uses about
    ``n_rank`` evenly thinned draws, nearly independent, so ranks are uniform when the
    posterior is right (autocorrelated draws would make the rank histogram look peaked
    or U-shaped by chance).
    """
    draws = chains.reshape(-1)
    thinned = _thin(chains, n_rank)
    import arviz as az

    row: dict[str, Any] = {
        "quantity": quantity,
        "label": label,
        "truth": float(truth),
        "rank": int(np.sum(thinned < truth)),
        "n_rank_draws": len(thinned),
        "post_median": float(np.median(draws)),
        "ess_bulk": float(az.ess(chains, method="bulk")),
        "ess_tail": float(az.ess(chains, method="tail")),
    }
    for level in LEVELS:
        lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
        row[f"cover_{round(100 * level)}"] = bool(lo <= truth <= hi)
        row[f"low_{round(100 * level)}"] = float(lo)
        row[f"high_{round(100 * level)}"] = float(hi)
    return row


def evaluate(est: Any, sim: Simulation, n_rank_draws: int) -> list[dict[str, Any]]:
    """Ranks and coverage of the counts at the last day (and, when the first claim comes
    a month or more after the start, halfway to it), every bias (and a running tally's
    final drift and its rise noise) and every ratio."""
    units = []
    inputs = est.inputs
    cum = np.log(est.cumulative_draws)  # (chain, draw, series, day), log scale
    last = sim.design.n_days - 1
    for r, (side, category) in enumerate(inputs.series):
        truth = math.log(sim.truth.window_count(side, category, 0, last))
        name = "count" if category == "killed" else f"count[{category}]"
        d = cum[:, :, r, last]
        units.append(_unit(name, side, truth, d, n_rank_draws))
        # halfway to the first day a claim looks at, where only the prior gives the shape
        looks = [
            s.first_day or s.last_day
            for s in sim.design.claims
            if sim.design.speakers[s.speaker].side == side
        ]
        if category == "killed" and min(looks) >= 30:
            mid = min(looks) // 2
            early = math.log(sim.truth.window_count(side, category, 0, mid))
            units.append(
                _unit("count[before claims]", side, early, cum[:, :, r, mid], n_rank_draws)
            )
    post = est.idata.posterior
    bias = np.asarray(post["bias"])
    keys = [str(k) for k in post["bias"].coords["speaker"].values]
    for j, sp in enumerate(sim.design.speakers):
        d = bias[:, :, keys.index(sp.key)]
        name = "bias[running]" if sp.running else f"bias[{sp.source_type}]"
        units.append(_unit(name, sp.key, sim.truth.bias[j], d, n_rank_draws))
    if sim.truth.drift:
        # a running tally's drift by the last day, where it matters most for the count
        drift = post["bias_drift"]
        names = [str(k) for k in drift.coords["running"].values]
        for j, values in sim.truth.drift.items():
            key = sim.design.speakers[j].key
            d = np.asarray(drift)[:, :, names.index(key), -1]
            units.append(_unit("drift[running]", key, values[-1], d, n_rank_draws))
            # its one-day rise noise, learned from its rises (log scale)
            noise = np.log(np.asarray(post["rise_noise"])[:, :, names.index(key)])
            truth = math.log(sim.truth.rise_noise[j])
            units.append(_unit("noise[running]", key, truth, noise, n_rank_draws))
    if "ratio" in post:
        ratio = np.log(np.asarray(post["ratio"]))
        names = [str(k) for k in post["ratio"].coords["ratio_name"].values]
        for k, name in enumerate(names):
            side, ratio_name = name.split("|")
            assert ratio_name == "wounded"
            d = ratio[:, :, k]
            units.append(_unit("ratio", side, sim.truth.log_ratio[side], d, n_rank_draws))
    return units


def fit_and_evaluate(
    sim: Simulation,
    config: FitConfig,
    random_seed: int,
    record: dict[str, Any],
    *,
    priors: Priors | None = None,
) -> dict[str, Any]:
    """Fit ``sim`` with :func:`casualty_models.fit`; add diagnostics and units to ``record``.

    ``priors`` defaults to the config's (those the data were drawn from). Never raises: a
    failure is recorded as ``record["error"]``.
    """

    t0 = time.perf_counter()
    kinds = pd.Series([c.kind for c in sim.claims]).value_counts()
    record.update(
        n_days=sim.design.n_days,
        n_sides=len(sim.design.sides),
        n_speakers=len(sim.design.speakers),
        n_claims=len(sim.claims),
        kinds={str(k): int(v) for k, v in kinds.items()},
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", ModelCheckWarning)
            est = fit(
                sim.claims,
                start=sim.design.start,
                as_of=sim.design.end,
                priors=config.priors() if priors is None else priors,
                draws=config.draws,
                tune=config.tune,
                chains=config.chains,
                cores=1,
                target_accept=config.target_accept,
                random_seed=random_seed,
                sampler=config.sampler,
                max_attempts=config.max_attempts,
            )
        d = est.diagnostics
        record.update(
            model_ok=d.model_ok,
            divergences=d.divergences,
            r_hat_max=d.r_hat_max,
            ess_bulk_min=d.ess_bulk_min,
            ess_tail_min=d.ess_tail_min,
            tree_depth_hits=d.tree_depth_hits,
            units=evaluate(est, sim, config.n_rank_draws),
        )
    except Exception as err:  # a failed fit is a result to report, not a crash
        record["error"] = f"{type(err).__name__}: {err}"
    record["seconds"] = time.perf_counter() - t0
    return record


def run_simulation(index: int, base_seed: int, config: FitConfig) -> dict[str, Any]:
    """Simulate data set ``index`` from the prior, fit it, return ranks and diagnostics.

    Top-level and deterministic in (``index``, ``base_seed``, ``config``), so it can run
    on any executor. Never raises: a failure is returned as ``{"error": ...}``.
    """
    record: dict[str, Any] = {"index": index, "base_seed": base_seed}
    try:
        sim = simulate([base_seed, index], config.priors(), **dict(config.design))
    except Exception as err:
        record["error"] = f"simulation failed: {type(err).__name__}: {err}"
        return record
    seed = int(np.random.default_rng([base_seed, index, 1]).integers(2**31))
    return fit_and_evaluate(sim, config, seed, record)


# ---------------------------------------------------------------------------- raw files
def config_dict(config: FitConfig) -> dict[str, Any]:
    """The config as stored in raw JSON lines (tuples become lists)."""
    out: dict[str, Any] = json.loads(json.dumps(asdict(config)))
    return out


def read_records(path: Any, config: FitConfig, **match: Any) -> list[dict[str, Any]]:
    """Records in a JSON-lines file made with ``config`` whose fields equal ``match``.

    A record lacking a config field (written before the field existed) counts as having
    its default. A line cut short by a killed run is skipped.
    """
    path = Path(path)
    if not path.exists():
        return []
    want = config_dict(config)
    defaults = config_dict(FitConfig())
    out = []
    for line in path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        have = {**defaults, **rec.get("config", {})}
        if have == want and all(rec.get(k) == v for k, v in match.items()):
            out.append(rec)
    return out


# ---------------------------------------------------------------------------- misspecification
def misspecification_design() -> Design:
    """One side, 90 days, the seed's mix of speakers: an own ministry, the enemy's, two
    neutral governments and a named-person tally; three claims each, mostly points."""
    speakers = (
        Speaker("own1", "A", "own"),
        Speaker("enemy1", "A", "enemy"),
        Speaker("neutral1", "A", "neutral"),
        Speaker("neutral2", "A", "neutral"),
        Speaker("tally1", "A", "tally"),
    )
    plan = {
        0: [(30, "point"), (60, "point"), (89, "point")],
        1: [(30, "point"), (60, "range"), (89, "point")],
        2: [(45, "range"), (75, "point"), (89, "range")],
        3: [(40, "point"), (70, "one-sided"), (85, "point")],
        4: [(50, "point"), (70, "point"), (89, "point")],
    }
    claims = tuple(
        ClaimSpec(j, "killed", 0, day, kind) for j, rows in plan.items() for day, kind in rows
    )
    return Design(90, ("A",), speakers, claims)


MISSPECIFICATION_SCENARIOS: Mapping[str, Mapping[str, float]] = {
    "well specified": {},
    "well specified, default level prior": {},
    "own source reports x0.1": {"own1|A": 0.1},
    "one neutral x1.5": {"neutral1|A": 1.5},
    "one neutral x0.6": {"neutral1|A": 0.6},
    "all neutrals x1.5": {"neutral1|A": 1.5, "neutral2|A": 1.5},
    "tally covers 95%": {"tally1|A": 0.95},
}
"""Scenario -> true bias factor of chosen speakers (others are drawn from the prior).

"default level prior" fits with ``Priors()``, whose curve prior is centred on the claims
(the library's default), instead of the fixed centre the data were drawn from."""
DEFAULT_LEVEL_SCENARIOS = frozenset({"well specified, default level prior"})


def run_scenario(scenario: str, index: int, base_seed: int, config: FitConfig) -> dict[str, Any]:
    """Data set ``index`` of a misspecification scenario, fitted and evaluated.

    Every scenario uses the same seeds, so data set ``index`` has the same curve, the same
    noise and the same biases for the speakers a scenario leaves alone (common random
    numbers): differences between scenarios are the misspecification's doing.
    """
    record: dict[str, Any] = {"scenario": scenario, "index": index, "base_seed": base_seed}
    design = misspecification_design()
    keys = [sp.key for sp in design.speakers]
    override = {keys.index(k): math.log(f) for k, f in MISSPECIFICATION_SCENARIOS[scenario].items()}
    sim = simulate([base_seed, index], config.priors(), design=design, bias_override=override)
    seed = int(np.random.default_rng([base_seed, index, 1]).integers(2**31))
    fit_priors = Priors() if scenario in DEFAULT_LEVEL_SCENARIOS else None
    return fit_and_evaluate(sim, config, seed, record, priors=fit_priors)


# ---------------------------------------------------------------------------- summaries
def units_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per (simulation, unit) from raw records (failed fits skipped)."""
    rows = []
    for rec in records:
        for u in rec.get("units", []):
            rows.append({"index": rec["index"], "divergences": rec["divergences"], **u})
    return pd.DataFrame(rows)


QUANTITY_ORDER = (
    "count",
    "count[casualties]",
    "ratio",
    *(f"bias[{t}]" for t in SBC_TYPES),
    "bias[running]",
    "drift[running]",
    "noise[running]",
)


def _ordered(quantities: Iterable[str]) -> list[str]:
    """Quantities in a fixed reading order (curve, ratio, biases), unknown ones last."""
    found = list(dict.fromkeys(quantities))
    rank = {q: i for i, q in enumerate(QUANTITY_ORDER)}
    return sorted(found, key=lambda q: (rank.get(q, len(rank)), found.index(q)))


def coverage_table(units: pd.DataFrame) -> pd.DataFrame:
    """quantity, level, coverage, n_sims, divergences.

    Coverage is averaged over a group's members within each simulation first (three
    neutral speakers, two sides), then over simulations: the variance of that mean is at
    most that of ``n_sims`` independent indicators, so a binomial band with ``n_sims``
    trials is valid (conservative). ``divergences`` is the total number of divergent
    transitions in the simulations contributing to the row.
    """
    rows = []
    for quantity in _ordered(units["quantity"]):
        per_sim = units[units["quantity"] == quantity].groupby("index")
        divergences = int(per_sim["divergences"].first().sum())
        for level in LEVELS:
            col = f"cover_{round(100 * level)}"
            rows.append(
                {
                    "quantity": quantity,
                    "level": level,
                    "coverage": float(per_sim[col].mean().mean()),
                    "n_sims": int(per_sim.ngroups),
                    "divergences": divergences,
                }
            )
    return pd.DataFrame(rows, columns=["quantity", "level", "coverage", "n_sims", "divergences"])


def first_units(units: pd.DataFrame) -> pd.DataFrame:
    """One unit per (simulation, quantity): the first listed, chosen before seeing data."""
    return units.groupby(["index", "quantity"], sort=False).head(1)


def uniformity_table(units: pd.DataFrame, n_bins: int = 20) -> pd.DataFrame:
    """Chi-square test of rank uniformity per quantity, one unit per simulation.

    Ranks run over 0..L (L thinned draws); they are binned into ``n_bins`` bins of equal
    width in rank/(L+1), and the expected count per bin is computed exactly from how many
    integer ranks each bin holds.
    """
    rows = []
    first = first_units(units)
    for quantity in _ordered(first["quantity"]):
        g = first[first["quantity"] == quantity]
        counts, expected = _rank_bins(g, n_bins)
        chi2 = float(((counts - expected) ** 2 / expected).sum())
        rows.append(
            {
                "quantity": quantity,
                "n_sims": len(g),
                "chi2": chi2,
                "df": n_bins - 1,
                "p_value": float(stats.chi2.sf(chi2, n_bins - 1)),
            }
        )
    return pd.DataFrame(rows)


def _rank_bins(g: pd.DataFrame, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    counts = np.zeros(n_bins)
    expected = np.zeros(n_bins)
    for n_draws in sorted(set(g["n_rank_draws"])):
        h = g[g["n_rank_draws"] == n_draws]
        n_ranks = int(n_draws) + 1
        b = (h["rank"].to_numpy() * n_bins) // n_ranks
        counts += np.bincount(b, minlength=n_bins)
        per_rank = (np.arange(n_ranks) * n_bins) // n_ranks
        expected += len(h) * np.bincount(per_rank, minlength=n_bins) / n_ranks
    return counts, expected


def binomial_band(p: float, n: int, mass: float = 0.99) -> tuple[float, float]:
    """Central ``mass`` interval of the coverage of ``n`` independent Bernoulli(p)."""
    lo, hi = stats.binom.ppf([(1 - mass) / 2, (1 + mass) / 2], n, p)
    return float(lo / n), float(hi / n)
