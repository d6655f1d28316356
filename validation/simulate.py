"""The generative model as a simulator: claims drawn from the prior, or from a chosen truth.

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
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from casualty_models.claims import Claim, ClaimSet
from casualty_models.model import (
    NOISE_NU,
    RISE_T_SCALE,
    Grid,
    Stretches,
    anchor_knots,
    find_stretches,
    looked_grid,
    rise_scale,
)
from casualty_models.model.priors import DEFAULT_SOURCE_PRIORS, Priors

START = dt.date(2020, 1, 1)
LATE_START = dt.date(2012, 1, 1)
"""Start of the long windows of ``draw_design(late=...)`` (up to ten years)."""
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
        """The model's grid for these claims (:func:`casualty_models.model.looked_grid`)."""
        looked = {c.last_day for c in self.claims} | {
            c.first_day for c in self.claims if c.first_day
        }
        return looked_grid(self.start, self.end, priors, looked)

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
    walk_knots: dict[str, np.ndarray] = field(default_factory=dict)  # side -> before shifts
    stretch_lambda: dict[str, np.ndarray] = field(default_factory=dict)  # side -> (n,)

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
    late: float = 0.0,
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
    random type. With ``late`` (a share of the window, e.g. 0.9), every claim is dated in
    the window's last ``1 - late``, and a window claim may start anywhere in the second
    half: a long stretch before the first claim, and long gaps between the days claims
    look at, as in the files of issue 25.
    """
    kind_probs = dict(kind_probs or {"point": 0.4, "range": 0.3, "one-sided": 0.3})
    kinds, probs = list(kind_probs), np.array(list(kind_probs.values()), dtype=float)
    probs = probs / probs.sum()
    days = int(rng.integers(n_days[0], n_days[1] + 1))
    first_day = max(3, int(late * days))
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
                lasts = np.sort(rng.choice(np.arange(first_day, days), size=m, replace=False))
                for last in lasts:
                    first = 0
                    if last >= 14 and rng.random() < p_window:
                        first = int(last - rng.integers(7, min(30, int(last)) + 1) + 1)
                        if late:  # from anywhere in the window's second half: inner gaps
                            first = int(rng.integers(days // 2, last - 6))
                    category = "casualties" if casualties and rng.random() < 0.35 else "killed"
                    kind = kinds[int(rng.choice(len(kinds), p=probs))]
                    side_specs.append(ClaimSpec(j, category, first, int(last), kind))
        if running_figures is not None:
            source_type = SBC_TYPES[int(rng.integers(len(SBC_TYPES)))]
            speakers.append(Speaker("running1", side, source_type, running=True))
            j = len(speakers) - 1
            m = int(rng.integers(running_figures[0], running_figures[1] + 1))
            category = "casualties" if casualties and rng.random() < 0.35 else "killed"
            lasts = np.sort(rng.choice(np.arange(first_day, days), size=m, replace=False))
            side_specs.extend(ClaimSpec(j, category, 0, int(last), "point") for last in lasts)
        if not any(s.kind == "point" for s in side_specs):
            s = side_specs[0]
            side_specs[0] = ClaimSpec(s.speaker, s.category, s.first_day, s.last_day, "point")
        specs.extend(side_specs)
    # long late-claim windows start early enough that no claim is in the future
    start = LATE_START if late else START
    return Design(days, tuple(sides), tuple(speakers), tuple(specs), start)


# ---------------------------------------------------------------------------- truth
def draw_log_rate(
    grid: Grid,
    priors: Priors,
    rng: np.random.Generator,
    anchor: int = 0,
    stretches: Stretches | None = None,
) -> np.ndarray:
    """Knot values of the log daily rate, exactly as the model's prior: the level at knot
    ``anchor`` (see :func:`casualty_models.model.anchor_knots`), a random walk both ways,
    and with ``stretches`` (one curve's), each one's inner knots shifted so that its
    total is ``exp(line + lambda)`` (:class:`casualty_models.model.Stretches`)."""
    return draw_curve(grid, priors, rng, anchor, stretches)[0]


def draw_curve(
    grid: Grid,
    priors: Priors,
    rng: np.random.Generator,
    anchor: int = 0,
    stretches: Stretches | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(log rate, the walk before the stretches' shifts, each stretch's lambda) at the
    knots, as :func:`draw_log_rate` draws them."""
    if priors.level_mu is None:
        raise ValueError("calibration needs a fixed prior centre: Priors(level_mu=...)")
    knots = grid.knots
    level = priors.level_mu + priors.level_sigma * rng.standard_normal()
    steps = priors.rate_volatility * np.sqrt(np.diff(knots)) * rng.standard_normal(len(knots) - 1)
    path = np.concatenate([[0.0], np.cumsum(steps)])
    walk = level + path - path[anchor]
    if stretches is None or not len(stretches):
        return walk, walk, np.zeros(0)
    cumulative = np.concatenate([[0.0], grid.cumulative(walk)])
    first, last = stretches.first_day(knots), stretches.last_day(knots)
    lam = stretches.sd * rng.standard_normal(len(stretches))
    log_rate = walk.copy()
    for k in range(len(stretches)):
        p, q = int(stretches.left[k]), int(stretches.right[k])
        total = cumulative[last[k] + 1] - cumulative[first[k]]
        line = (walk[q if p < 0 else p] + walk[q]) / 2 + math.log(last[k] - first[k] + 1)
        log_rate[stretches.inner(len(knots))[k]] += line + lam[k] - math.log(total)
    return log_rate, walk, lam


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
    knots, cumulative, log_ratio, walks, lams = {}, {}, {}, {}, {}
    median, sd = priors.ratios["wounded"]
    for side in design.sides:
        lasts = np.array(
            [c.last_day for c in design.claims if design.speakers[c.speaker].side == side]
        )
        mine = [c for c in design.claims if design.speakers[c.speaker].side == side]
        firsts = np.array([c.first_day for c in mine])
        zeros = np.zeros(len(lasts), dtype=int)
        anchor = int(anchor_knots(grid, zeros, lasts, 1)[0])
        stretches = find_stretches(grid, zeros, firsts, lasts, lasts, 1, priors.rate_volatility)
        knots[side], walks[side], lams[side] = draw_curve(grid, priors, rng, anchor, stretches)
        cumulative[side] = grid.cumulative(knots[side])
        log_ratio[side] = math.log(median) + sd * float(rng.standard_normal())
    bias, groups = draw_biases(design.speakers, priors, rng)
    drift = draw_drift(design, grid, priors, rng)
    rise_noise = {
        j: priors.running_noise * math.exp(priors.running_noise_sd * float(rng.standard_normal()))
        for j in drift
    }
    return Truth(knots, cumulative, log_ratio, bias, groups, drift, rise_noise, walks, lams)


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


# ---------------------------------------------------------------------------- a chosen truth
@dataclass(frozen=True)
class SimSpeaker:
    """A simulated speaker: its true bias factor and the claims it makes.

    ``kinds`` cycles over the claims: ``"point"``, ``"range"`` (± ``range_width`` in log
    units around the stated figure), ``"floor"`` or ``"ceiling"``.
    """

    source: str
    side: str
    source_type: str
    bias_factor: float
    days: Sequence[int]
    kinds: Sequence[str] = ("point",)
    range_width: float = 0.35
    noise_sigma: float | None = None  # default: the source type's prior noise


@dataclass(frozen=True)
class KnownTruth:
    """Claims simulated from a truth the caller chose, and that truth."""

    claims: ClaimSet
    start: dt.date
    cumulative: dict[tuple[str, str], np.ndarray]  # (side, category) -> (n_days,)
    bias: dict[tuple[str, str], float]  # (source, side) -> log factor

    def true_count(self, side: str, category: str, date: dt.date) -> float:
        return float(self.cumulative[(side, category)][(date - self.start).days])


def simulate_claims(
    speakers: Sequence[SimSpeaker],
    *,
    daily_rate: dict[str, np.ndarray],
    start: dt.date = dt.date(2020, 1, 1),
    category: str = "killed",
    priors: Priors | None = None,
    rng: np.random.Generator,
) -> KnownTruth:
    """Claims by ``speakers`` about sides whose true daily deaths are ``daily_rate[side]``.

    Each figure is ``true count × bias factor × exp(noise)`` with Student-t noise as in
    the model, rounded to whole people.
    """
    priors = priors or Priors()
    cumulative = {(side, category): np.cumsum(rate) for side, rate in daily_rate.items()}
    claims = []
    for sp in speakers:
        noise_sd = sp.noise_sigma
        if noise_sd is None:
            noise_sd = priors.for_type(sp.source_type).noise_sigma
        for i, day in enumerate(sp.days):
            true = cumulative[(sp.side, category)][day]
            figure = true * sp.bias_factor * np.exp(noise_sd * rng.standard_t(NOISE_NU))
            figure = max(1.0, round(float(figure)))
            kind = sp.kinds[i % len(sp.kinds)]
            half = sp.range_width
            values = {
                "point": {"value": figure},
                "range": {
                    "low": max(1.0, round(figure * np.exp(-half))),
                    "high": round(figure * np.exp(half)) + 1.0,
                },
                "floor": {"low": figure},
                "ceiling": {"high": figure},
            }[kind]
            claims.append(
                Claim(
                    source=sp.source,
                    source_type=sp.source_type,
                    side=sp.side,
                    category=category,
                    as_of=start + dt.timedelta(days=int(day)),
                    period_start=start,
                    citation="simulated",
                    **values,
                )
            )
    bias = {(sp.source, sp.side): float(np.log(sp.bias_factor)) for sp in speakers}
    return KnownTruth(ClaimSet(claims, origin="<simulated>"), start, cumulative, bias)


def prior_bias_factor(source_type: str, rng: np.random.Generator) -> float:
    """One draw of a bias factor from the default prior of ``source_type``."""
    return float(np.exp(DEFAULT_SOURCE_PRIORS[source_type].log_dist().rvs(random_state=rng)))
