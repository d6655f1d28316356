"""Simulation-based calibration: claims drawn from the model's own prior, and their ranks.

Talts et al. (2018): draw parameters from the prior, data from the model given them,
fit, and find where each true parameter falls among its posterior draws. If the
posterior is right, that rank is uniform and every equal-tailed interval covers the
truth at its nominal rate. Any departure is a bug in the model, the sampler or the
simulator; so the simulator here copies the model exactly (see docs/model.md):

* the log daily rate is ``level ~ Normal(level_mu, level_sigma)`` at the anchor knot of
  :class:`casualty_models.model.Grid` (nearest the side's last claim, as
  :func:`casualty_models.model.anchor_knots`) plus a random walk both ways with step sd
  ``rate_volatility * sqrt(knot gap)``, interpolated linearly to days and summed
  (:meth:`Grid.cumulative`); ``level_mu`` is fixed, so the prior does not look at data;
* each speaker's log bias is ``bias_mu + group_sigma * g[type, side] + bias_sigma * u``,
  ``u`` standard normal, bent softly under the cap for capped types (tallies, which have
  no group offset; :class:`casualty_models.model.priors.SoftCappedNormal`);
* each claim's figure is ``y* = window count x category factor x exp(bias) x
  exp(noise_sigma * t4)``, never rounded (rounding would change the likelihood);
* censoring is *coarsening at random*, so the censored likelihood the model uses is the
  exact one: a range is the bin containing ``y*`` of a log-spaced grid whose width and
  offset are drawn independently of everything; a one-sided claim compares ``y*`` with a
  threshold built only from *already observed* point figures and fixed design constants
  ("at least L" if ``y* >= L``, else "at most L"). A threshold that looked at the true
  count would carry information about it that the model ignores, and the posterior would
  no longer be the exact one.

Optionally (``draw_design(running_figures=...)``) each side also has one running tally:
a speaker whose 20+ point figures of the cumulative count are simulated as the model reads
them. Its bias drifts as a random walk from the knot before its first figure (step sd
``bias_drift * sqrt(knot gap)``) and its one-day rise noise ``sigma`` is drawn from its
log-normal prior; its first figure is an ordinary claim; each later figure is the
previous one ``y`` plus a rise ``mean + scale x u``, where ``mean`` is the true rise x
exp(bias + drift), ``scale = sqrt((mean sigma / sqrt(days))^2 + 2 (running_level_noise
y)^2)`` and ``u`` is AR(1) with correlation ``exp(-gap / running_memory)`` to the previous
rise and unit-variance Student-t(4) innovations (a figure that would fall below zero is
redrawn). Otherwise speakers have fewer than ``running_min_claims`` claims, so none is a
running tally. The rules that read real data (spikes, mixed labels) are off in the
studies' priors (:meth:`FitConfig.priors`): they are tested by the robustness tests.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from casualty_models.claims import Claim, ClaimSet
from casualty_models.model import NOISE_NU, RISE_T_SCALE, Grid, anchor_knots, rise_scale
from casualty_models.model.priors import Priors

START = dt.date(2020, 1, 1)
SIDES = ("A", "B")
SBC_LEVEL_MU = math.log(30.0)
"""Fixed prior centre of the log daily rate used by the calibration study (30 a day)."""
LEVELS = (0.5, 0.9)
SBC_TYPES = ("own", "enemy", "neutral", "tally", "independent")
# prior median of each category's factor over killed, for building one-sided thresholds
_CATEGORY_GUESS = {"killed": 0.0, "casualties": math.log(4.0)}


@dataclass(frozen=True)
class Speaker:
    source: str
    side: str
    source_type: str
    running: bool = False  # its claims form one running tally

    @property
    def key(self) -> str:
        """The speaker's coordinate in the posterior (``source|side``)."""
        return f"{self.source}|{self.side}"


@dataclass(frozen=True)
class ClaimSpec:
    """Where and what one claim will be; its figure is drawn later."""

    speaker: int  # index into Design.speakers
    category: str
    first_day: int  # first day counted, grid offset
    last_day: int  # as_of, grid offset
    kind: str  # "point", "range" or "one-sided"


@dataclass(frozen=True)
class Design:
    """The structure of one simulated data set: grid, speakers and claims (no figures)."""

    n_days: int
    sides: tuple[str, ...]
    speakers: tuple[Speaker, ...]
    claims: tuple[ClaimSpec, ...]
    start: dt.date = START

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=self.n_days - 1)

    def grid(self, priors: Priors) -> Grid:
        return Grid(self.start, self.end, priors.knot_spacing(self.n_days))

    def has_casualties(self, side: str) -> bool:
        return any(
            c.category == "casualties" and self.speakers[c.speaker].side == side
            for c in self.claims
        )


@dataclass(frozen=True)
class Truth:
    """Parameters drawn from the prior: curves, ratios and biases."""

    log_rate_knots: dict[str, np.ndarray]  # side -> (n_knots,)
    cumulative: dict[str, np.ndarray]  # side -> (n_days,) killed
    log_ratio: dict[str, float]  # side -> log wounded-per-killed ratio
    bias: np.ndarray  # (n_speakers,) log factor
    group: dict[tuple[str, str], float] = field(default_factory=dict)  # standardised g
    drift: dict[int, np.ndarray] = field(default_factory=dict)  # running speaker -> knots
    rise_noise: dict[int, float] = field(default_factory=dict)  # running speaker -> noise

    def log_bias(self, speaker: int, day: int, knots: np.ndarray) -> float:
        """A speaker's log bias on ``day``: its fixed bias plus any drift."""
        drift = self.drift.get(speaker)
        offset = 0.0 if drift is None else float(np.interp(day, knots, drift))
        return float(self.bias[speaker]) + offset

    def window_count(self, side: str, category: str, first: int, last: int) -> float:
        cum = self.cumulative[side]
        killed = cum[last] - (cum[first - 1] if first > 0 else 0.0)
        return float(killed * math.exp(category_log_factor(category, self.log_ratio[side])))


@dataclass(frozen=True)
class Simulation:
    design: Design
    truth: Truth
    claims: ClaimSet
    figures: np.ndarray  # y*, the uncensored figure of every claim


def category_log_factor(category: str, log_ratio: float) -> float:
    """log of a category's factor over killed, as in :mod:`casualty_models.model.categories`."""
    if category == "killed":
        return 0.0
    if category == "casualties":
        return math.log1p(math.exp(log_ratio))
    if category == "wounded":
        return log_ratio
    raise ValueError(f"the calibration simulator does not draw {category!r}")


# ---------------------------------------------------------------------------- design
def draw_design(
    rng: np.random.Generator,
    *,
    n_days: tuple[int, int] = (60, 120),
    per_type: tuple[int, int] = (1, 2),
    claims_per_speaker: tuple[int, int] = (2, 4),
    p_two_sides: float = 0.35,
    p_casualties: float = 0.5,
    kind_probs: Mapping[str, float] | None = None,
    p_window: float = 0.15,
    running_figures: tuple[int, int] | None = None,
) -> Design:
    """A random structure: 1-2 sides, every source type, mixed claim kinds.

    Per side: ``per_type`` speakers of each of own, enemy, neutral, tally and
    independent (inclusive bounds), each with ``claims_per_speaker`` claims on distinct
    days. With probability ``p_casualties`` a side also has "casualties" claims
    (killed + wounded, so the wounded ratio is exercised). A fraction ``p_window`` of
    claims count a recent window (``period_start`` after the start) instead of the
    cumulative total. Every side has at least one point claim. With ``running_figures``
    (inclusive bounds, at least ``running_min_claims``), each side also has a running
    tally of that many cumulative point figures on distinct days, from a speaker of a
    random type.
    """
    kind_probs = dict(kind_probs or {"point": 0.4, "range": 0.3, "one-sided": 0.3})
    kinds, probs = list(kind_probs), np.array(list(kind_probs.values()), dtype=float)
    probs = probs / probs.sum()
    days = int(rng.integers(n_days[0], n_days[1] + 1))
    sides = SIDES[: 2 if rng.random() < p_two_sides else 1]
    speakers: list[Speaker] = []
    specs: list[ClaimSpec] = []
    for side in sides:
        casualties = rng.random() < p_casualties
        side_specs: list[ClaimSpec] = []
        for source_type in SBC_TYPES:
            for k in range(int(rng.integers(per_type[0], per_type[1] + 1))):
                speakers.append(Speaker(f"{source_type}{k + 1}", side, source_type))
                j = len(speakers) - 1
                m = int(rng.integers(claims_per_speaker[0], claims_per_speaker[1] + 1))
                lasts = np.sort(rng.choice(np.arange(3, days), size=m, replace=False))
                for last in lasts:
                    first = 0
                    if last >= 14 and rng.random() < p_window:
                        first = int(last - rng.integers(7, min(30, int(last)) + 1) + 1)
                    category = "casualties" if casualties and rng.random() < 0.35 else "killed"
                    kind = kinds[int(rng.choice(len(kinds), p=probs))]
                    side_specs.append(ClaimSpec(j, category, first, int(last), kind))
        if running_figures is not None:
            source_type = SBC_TYPES[int(rng.integers(len(SBC_TYPES)))]
            speakers.append(Speaker("running1", side, source_type, running=True))
            j = len(speakers) - 1
            m = int(rng.integers(running_figures[0], running_figures[1] + 1))
            category = "casualties" if casualties and rng.random() < 0.35 else "killed"
            lasts = np.sort(rng.choice(np.arange(3, days), size=m, replace=False))
            side_specs.extend(ClaimSpec(j, category, 0, int(last), "point") for last in lasts)
        if not any(s.kind == "point" for s in side_specs):
            s = side_specs[0]
            side_specs[0] = ClaimSpec(s.speaker, s.category, s.first_day, s.last_day, "point")
        specs.extend(side_specs)
    return Design(days, tuple(sides), tuple(speakers), tuple(specs))


# ---------------------------------------------------------------------------- truth
def draw_log_rate(
    grid: Grid, priors: Priors, rng: np.random.Generator, anchor: int = 0
) -> np.ndarray:
    """Knot values of the log daily rate, exactly as the model's prior: the level at knot
    ``anchor`` (see :func:`casualty_models.model.anchor_knots`), a random walk both ways."""
    if priors.level_mu is None:
        raise ValueError("calibration needs a fixed prior centre: Priors(level_mu=...)")
    knots = grid.knots
    level = priors.level_mu + priors.level_sigma * rng.standard_normal()
    steps = priors.rate_volatility * np.sqrt(np.diff(knots)) * rng.standard_normal(len(knots) - 1)
    path = np.concatenate([[0.0], np.cumsum(steps)])
    return level + path - path[anchor]


def draw_biases(
    speakers: Sequence[Speaker], priors: Priors, rng: np.random.Generator
) -> tuple[np.ndarray, dict[tuple[str, str], float]]:
    """Log bias of every speaker and the standardised group offsets, as the model.

    ``bias = bias_mu + group_sigma * g[type, side] + bias_sigma * u``; ``g`` is shared by
    all speakers of one type about one side (for types whose ``group_sigma`` > 0), ``u``
    is standard normal, and a capped type's bias bends under its cap as the model's
    (:class:`casualty_models.model.priors.SoftCappedNormal`).
    """
    groups: dict[tuple[str, str], float] = {}
    out = np.zeros(len(speakers))
    for j, sp in enumerate(speakers):
        p = priors.for_speaker(sp.source, sp.side, sp.source_type)
        shift = 0.0
        if priors.for_type(sp.source_type).group_sigma > 0:
            key = (sp.source_type, sp.side)
            if key not in groups:
                groups[key] = float(rng.standard_normal())
            shift = p.group_sigma * groups[key]
        u = float(rng.standard_normal()) if p.bias_sigma > 0 else 0.0
        out[j] = p.bias_mu + shift + p.bias_sigma * u
        if p.bias_upper is not None and p.bias_sigma > 0:
            out[j] = float(p.log_dist().transform(out[j]))
    return out, groups


def draw_truth(design: Design, priors: Priors, rng: np.random.Generator) -> Truth:
    """Curves, wounded ratios and biases from the prior."""
    grid = design.grid(priors)
    knots, cumulative, log_ratio = {}, {}, {}
    median, sd = priors.ratios["wounded"]
    for side in design.sides:
        lasts = np.array(
            [c.last_day for c in design.claims if design.speakers[c.speaker].side == side]
        )
        anchor = int(anchor_knots(grid, np.zeros(len(lasts), dtype=int), lasts, 1)[0])
        knots[side] = draw_log_rate(grid, priors, rng, anchor)
        cumulative[side] = grid.cumulative(knots[side])
        log_ratio[side] = math.log(median) + sd * float(rng.standard_normal())
    bias, groups = draw_biases(design.speakers, priors, rng)
    drift = draw_drift(design, grid, priors, rng)
    rise_noise = {
        j: priors.running_noise * math.exp(priors.running_noise_sd * float(rng.standard_normal()))
        for j in drift
    }
    return Truth(knots, cumulative, log_ratio, bias, groups, drift, rise_noise)


def draw_drift(
    design: Design, grid: Grid, priors: Priors, rng: np.random.Generator
) -> dict[int, np.ndarray]:
    """Knot values of each running tally's bias drift, exactly as the model's prior:
    0 up to the knot at or before its first figure, then a random walk with step sd
    ``bias_drift * sqrt(knot gap)``."""
    knots = grid.knots
    drift = {}
    for j, sp in enumerate(design.speakers):
        if not sp.running:
            continue
        first = min(c.last_day for c in design.claims if c.speaker == j)
        first_knot = int(np.searchsorted(knots, first, side="right")) - 1
        steps = priors.bias_drift * np.sqrt(np.diff(knots)) * rng.standard_normal(len(knots) - 1)
        steps[:first_knot] = 0.0
        drift[j] = np.concatenate([[0.0], np.cumsum(steps)])
    return drift


# ---------------------------------------------------------------------------- claims
def range_bin(
    log_y: float, rng: np.random.Generator, width: tuple[float, float] = (0.2, 1.0)
) -> tuple[float, float]:
    """(log low, log high): the bin containing ``log_y`` of a log-spaced grid.

    The grid's width and offset are drawn independently of ``log_y``, so reporting the
    bin is coarsening at random and the interval-censored likelihood is exact.
    """
    w = float(rng.uniform(*width))
    offset = float(rng.uniform(0.0, w))
    k = math.floor((log_y - offset) / w)
    lo = offset + k * w
    # guard the floating-point edge: the bin must contain log_y
    if lo > log_y:
        lo -= w
    elif lo + w < log_y:
        lo += w
    return lo, lo + w


def one_sided(log_y: float, log_threshold: float) -> str:
    """ "floor" (at least the threshold) if y* >= threshold, else "ceiling"."""
    return "floor" if log_y >= log_threshold else "ceiling"


def draw_claims(
    design: Design,
    truth: Truth,
    priors: Priors,
    rng: np.random.Generator,
    *,
    threshold_sd: float = 0.6,
) -> tuple[ClaimSet, np.ndarray]:
    """The claims' figures given the truth; returns the claims and every y*.

    One-sided thresholds are ``exp(anchor + log window + category guess + bias_mu +
    Normal(0, threshold_sd))`` where the anchor is the median, over the side's point
    claims, of their log daily rate (figure / window / category guess / type's prior
    median bias): observed data and constants only.
    """
    n = len(design.claims)
    log_y = np.zeros(n)
    knots = design.grid(priors).knots
    for i, c in enumerate(design.claims):
        sp = design.speakers[c.speaker]
        p = priors.for_speaker(sp.source, sp.side, sp.source_type)
        count = truth.window_count(sp.side, c.category, c.first_day, c.last_day)
        noise = p.noise_sigma * float(rng.standard_t(NOISE_NU))
        log_y[i] = math.log(count) + truth.log_bias(c.speaker, c.last_day, knots) + noise
    for j in truth.drift:
        _running_figures(design, truth, priors, knots, j, log_y, rng)

    def guess(i: int) -> float:
        c = design.claims[i]
        sp = design.speakers[c.speaker]
        p = priors.for_speaker(sp.source, sp.side, sp.source_type)
        return math.log(c.last_day - c.first_day + 1) + _CATEGORY_GUESS[c.category] + p.bias_mu

    anchor = {}
    for side in design.sides:
        rates = [
            log_y[i] - guess(i)
            for i, c in enumerate(design.claims)
            if c.kind == "point" and design.speakers[c.speaker].side == side
        ]
        if not rates:
            raise ValueError(f"side {side} has no point claim to build thresholds from")
        anchor[side] = float(np.median(rates))

    claims = []
    for i, c in enumerate(design.claims):
        sp = design.speakers[c.speaker]
        value = low = high = None
        if c.kind == "point":
            value = math.exp(log_y[i])
        elif c.kind == "range":
            lo, hi = range_bin(float(log_y[i]), rng)
            low, high = math.exp(lo), math.exp(hi)
        elif c.kind == "one-sided":
            log_t = anchor[sp.side] + guess(i) + threshold_sd * float(rng.standard_normal())
            if one_sided(float(log_y[i]), log_t) == "floor":
                low = math.exp(log_t)
            else:
                high = math.exp(log_t)
        else:
            raise ValueError(f"unknown claim kind {c.kind!r}")
        claims.append(
            Claim(
                source=sp.source,
                source_type=sp.source_type,
                side=sp.side,
                category=c.category,
                as_of=design.start + dt.timedelta(days=c.last_day),
                period_start=design.start + dt.timedelta(days=c.first_day),
                value=value,
                low=low,
                high=high,
                citation="simulated",
            )
        )
    return ClaimSet(claims, origin="<calibration>"), np.exp(log_y)


def _running_figures(
    design: Design,
    truth: Truth,
    priors: Priors,
    knots: np.ndarray,
    j: int,
    log_y: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """Overwrite the later figures of running tally ``j`` in ``log_y``: each is the
    previous figure plus a rise drawn from the model's rise likelihood (see the module
    docstring); the first keeps its ordinary-claim figure."""
    chain = sorted((c.last_day, i) for i, c in enumerate(design.claims) if c.speaker == j)
    side = design.speakers[j].side

    u = 0.0
    for k in range(1, len(chain)):
        (prev_day, prev), (day, i) = chain[k - 1], chain[k]
        c = design.claims[i]
        rise = truth.window_count(side, c.category, prev_day + 1, day)
        mean = rise * math.exp(truth.log_bias(j, day, knots))
        rate_sd = truth.rise_noise[j] / math.sqrt(day - prev_day)
        level = math.exp(log_y[prev])
        scale = rise_scale(mean, level, rate_sd, priors.running_level_noise)
        rho = math.exp(-(day - prev_day) / priors.running_memory) if k > 1 else 0.0
        # a figure below zero is not one anyone gives: redraw (rare; the likelihood does
        # not truncate, so this is the simulator's one departure from the model)
        figure = -1.0
        while figure <= 0:
            e = RISE_T_SCALE * float(rng.standard_t(NOISE_NU))
            u_new = rho * u + math.sqrt(1.0 - rho**2) * e
            figure = level + mean + scale * u_new
        u = u_new
        log_y[i] = math.log(figure)


def simulate(
    seed: int | Sequence[int],
    priors: Priors,
    *,
    design: Design | None = None,
    bias_override: Mapping[int, float] | None = None,
    **design_kwargs: Any,
) -> Simulation:
    """One data set from the prior (or a given design); ``bias_override`` sets chosen
    speakers' true log biases (misspecification studies)."""
    rng = np.random.default_rng(seed)
    design = design if design is not None else draw_design(rng, **design_kwargs)
    truth = draw_truth(design, priors, rng)
    if bias_override:
        bias = truth.bias.copy()
        for j, b in bias_override.items():
            bias[j] = b
        truth = replace(truth, bias=bias)
    claims, figures = draw_claims(design, truth, priors, rng)
    return Simulation(design, truth, claims, figures)


# ---------------------------------------------------------------------------- fitting
@dataclass(frozen=True)
class FitConfig:
    """Sampler settings of every fit in a study, and the design of its data sets."""

    draws: int = 250
    tune: int = 350
    chains: int = 2
    target_accept: float = 0.9
    # the committed SBC and misspecification runs used PyMC's NUTS; keep them repeatable
    sampler: str = "pymc"
    n_rank_draws: int = 100
    level_mu: float = SBC_LEVEL_MU
    # one run per data set: fit()'s continuation would change the draws per fit by case
    max_attempts: int = 1
    design: tuple[tuple[str, Any], ...] = ()  # keyword arguments of draw_design

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
    """Ranks and coverage of the counts at the last day, every bias (and a running
    tally's final drift and its rise noise) and every ratio."""
    units = []
    inputs = est.inputs
    cum = np.log(est.cumulative_draws)  # (chain, draw, series, day), log scale
    last = sim.design.n_days - 1
    for r, (side, category) in enumerate(inputs.series):
        truth = math.log(sim.truth.window_count(side, category, 0, last))
        name = "count" if category == "killed" else f"count[{category}]"
        d = cum[:, :, r, last]
        units.append(_unit(name, side, truth, d, n_rank_draws))
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
    from casualty_models.diagnostics import ConvergenceWarning, ModelCheckWarning
    from casualty_models.fitting import fit

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


@contextmanager
def executor(workers: int = 2, *, use_dask: bool = False) -> Iterator[Executor]:
    """A ``concurrent.futures.Executor`` for a study: a local process pool, or the
    executor of a dask.distributed ``LocalCluster`` (one single-threaded process per
    worker). Each fit samples its chains on one core; parallelism is across fits."""
    if not use_dask:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            yield pool
        return
    from dask.distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, processes=True) as cluster,
        Client(cluster) as client,
    ):
        yield client.get_executor()


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


def replace_block(path: Any, name: str, text: str) -> None:
    """Replace the text between ``<!-- name:start -->`` and ``<!-- name:end -->`` in a
    Markdown file (appending the block if it is missing)."""
    path = Path(path)
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{text.rstrip()}\n{end}"
    doc = path.read_text() if path.exists() else ""
    if start in doc and end in doc:
        head, rest = doc.split(start, 1)
        doc = head + block + rest.split(end, 1)[1]
    else:
        doc = doc.rstrip() + ("\n\n" if doc else "") + block + "\n"
    path.write_text(doc)


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


def plot_rank_histograms(units: pd.DataFrame, path: Any, n_bins: int = 20) -> None:
    """One panel per quantity: rank histogram of one unit per simulation; solid line the
    expected count per bin under uniform ranks, dashed lines its 99% binomial band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first = first_units(units)
    tests = uniformity_table(units, n_bins)
    p_values = {str(q): float(p) for q, p in zip(tests["quantity"], tests["p_value"], strict=True)}
    quantities = _ordered(first["quantity"])
    ncols = 3
    nrows = -(-len(quantities) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 2.9 * nrows), squeeze=False)
    for ax, quantity in zip(axes.flat, quantities, strict=False):
        g = first[first["quantity"] == quantity]
        counts, expected = _rank_bins(g, n_bins)
        x = np.arange(n_bins)
        lo = stats.binom.ppf(0.005, len(g), expected / len(g))
        hi = stats.binom.ppf(0.995, len(g), expected / len(g))
        ax.bar(x, counts, width=1.0, color="tab:blue", alpha=0.6, edgecolor="white")
        ax.step(x, expected, where="mid", color="0.2", lw=1.0)
        for bound in (lo, hi):
            ax.step(x, bound, where="mid", color="0.2", lw=0.8, ls="--")
        ax.set_ylim(0, max(hi.max(), counts.max()) * 1.08)
        p = p_values[quantity]
        ax.set_title(f"{quantity}  (n={len(g)}, χ² p={p:.2f})", fontsize=10)
        ax.set_xticks([0, n_bins // 2, n_bins - 1], ["low", "mid", "high"])
        ax.set_yticks([])
    for ax in list(axes.flat)[len(quantities) :]:
        ax.axis("off")
    fig.suptitle("SBC rank histograms: rank of the truth among posterior draws", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_coverage(coverage: pd.DataFrame, path: Any, mass: float = 0.99) -> None:
    """Coverage per quantity at each level, with the binomial band around nominal."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    quantities = _ordered(coverage["quantity"])
    levels = sorted(set(coverage["level"]))
    fig, axes = plt.subplots(1, len(levels), figsize=(5.2 * len(levels), 3.6), squeeze=False)
    for ax, level in zip(axes[0], levels, strict=True):
        rows = coverage[coverage["level"] == level].set_index("quantity").loc[quantities]
        y = np.arange(len(quantities))[::-1]
        for yi, (_, r) in zip(y, rows.iterrows(), strict=True):
            lo, hi = binomial_band(level, int(r["n_sims"]), mass)
            ax.plot([lo, hi], [yi, yi], color="0.75", lw=6, solid_capstyle="butt")
        ax.plot(rows["coverage"], y, "o", color="tab:blue")
        ax.axvline(level, color="0.3", lw=0.8)
        ax.set_yticks(y, quantities)
        ax.set_xlabel(f"share of truths inside the {level:.0%} interval")
        ax.set_title(f"{level:.0%} intervals (grey: {mass:.0%} binomial band)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
