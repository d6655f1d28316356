"""Builds the PyMC model from a ClaimSet. The only place the graph is defined.

Structure (log scale throughout; see docs/model.md):

* each side has a latent daily death rate (its killed curve) on a daily grid; its log
  is a Gaussian random walk pinned at knots every ``knot_days`` and interpolated
  linearly between them, so the cumulative count (a sum of positive daily rates) can
  never decrease. Other categories are that curve times a ratio factor (see
  :mod:`casualty_models.categories`); unlinked categories get curves of their own;
* a claim about ``[period_start, as_of]`` observes the cumulative count's increase over
  that window, times its speaker's bias factor, with Student-t noise; the bias of a
  running tally (a speaker with many claims) drifts as a random walk;
* ranges without a stated probability are interval-censored, "at least"/"at most"
  figures are censored on one side; ranges with a stated probability are Gaussian
  summaries of the source's own uncertainty.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import stats

from casualty_models.categories import Plan, plan
from casualty_models.claims import DEFAULT_INTERVAL_PROB, Claim, ClaimSet, same_day_key
from casualty_models.sources import CAP_SHARPNESS, Priors, SourcePrior
from casualty_models.tallies import DecreasingTallyWarning, Increments, read_tallies

__all__ = ["DecreasingTallyWarning", "EarlyStartWarning", "ModelInputs", "build_model", "prepare"]


class EarlyStartWarning(UserWarning):
    """A claim counts from before the grid start; it is counted from the start instead."""


KIND_CODES = {"point": 0, "range": 1, "floor": 2, "ceiling": 3, "central": 4}
NOISE_NU = 4
"""Degrees of freedom of the claim noise: heavy enough tails that one wild claim cannot
drag the estimate, and a closed-form cdf (see :func:`t4_logcdf`) for censored claims."""
_FAR = 100.0  # log-count bound standing in for a missing range end (e^100 people)


@dataclass(frozen=True)
class Grid:
    """Daily grid ``start .. end`` (inclusive) and the knots of the log-rate walk.

    ``weights`` (days × knots) interpolates knot values to days linearly; each row has
    at most two non-zeros, stored as ``(left, right, frac)`` for a cheap gather.
    """

    start: dt.date
    end: dt.date
    knot_days: int

    @property
    def n_days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def knots(self) -> np.ndarray:
        """Day offsets of the knots: 0, k, 2k, ... and always the last day."""
        k = np.arange(0, self.n_days, self.knot_days)
        return k if k[-1] == self.n_days - 1 else np.append(k, self.n_days - 1)

    @property
    def dates(self) -> np.ndarray:
        return np.datetime64(self.start, "D") + np.arange(self.n_days)

    def day(self, date: dt.date) -> int:
        return (date - self.start).days

    def interpolation(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(left knot index, right knot index, fraction toward right) for every day."""
        knots = self.knots
        days = np.arange(self.n_days)
        if len(knots) == 1:
            zeros = np.zeros(self.n_days, dtype=int)
            return zeros, zeros, np.zeros(self.n_days)
        right = np.clip(np.searchsorted(knots, days, side="right"), 1, len(knots) - 1)
        left = right - 1
        frac = (days - knots[left]) / (knots[right] - knots[left])
        return left, right, frac

    def cumulative(self, log_rate_knots: np.ndarray) -> np.ndarray:
        """Numpy mirror of the model: knots (..., n_knots) -> cumulative (..., n_days)."""
        left, right, frac = self.interpolation()
        log_daily = log_rate_knots[..., left] * (1 - frac) + log_rate_knots[..., right] * frac
        return np.cumsum(np.exp(log_daily), axis=-1)


@dataclass(frozen=True)
class ModelInputs:
    """Arrays the graph is built from, one entry per claim / speaker / series / curve."""

    grid: Grid
    plan: Plan
    speakers: list[tuple[str, str]]
    speaker_types: list[str]
    speaker_priors: list[SourcePrior]
    groups: list[tuple[str, str]]  # (source_type, side) sharing a bias offset
    speaker_group: np.ndarray  # (n_speakers,) index into groups, -1 for none
    running: list[int]  # speakers whose bias drifts (they have a running tally)
    running_first_knot: np.ndarray  # (n_running,) knot at or before its first claim
    claim_running: np.ndarray  # (n_claims,) bool: a figure of a running tally
    claim_observed: np.ndarray  # (n_claims,) bool: has a likelihood term of its own
    claim_spike: np.ndarray  # (n_claims,) bool: a running tally's spike, left out
    claim_restated: np.ndarray  # (n_claims,) bool: published again later, not evidence
    claim_alternative: np.ndarray  # (n_claims,) bool: a tally's other figure that day
    claim_echo: np.ndarray  # (n_claims,) bool: derived from another source: not evidence
    increments: Increments  # a running tally's rises between consecutive figures
    rise_tally: np.ndarray  # (n_rises,) index into running: whose rise it is
    coarse: tuple[tuple[str, str, str], ...]  # chains read one by one (source, side, cat)
    anchor_knot: np.ndarray  # (n_bases,) knot where each curve's level is set
    claim_series: np.ndarray  # (n_claims,) index into plan.series
    claim_speaker: np.ndarray  # (n_claims,) int
    claim_first_day: np.ndarray  # (n_claims,) first day counted, grid offset
    claim_last_day: np.ndarray  # (n_claims,) as_of (its period's last day), grid offset
    # an as_of known only to the month or year spreads a claim over that period: its
    # count is averaged over as_of in claim_last_from..claim_last_day (equal when exact)
    claim_last_from: np.ndarray
    claim_kind: np.ndarray  # (n_claims,) KIND_CODES
    claim_log_value: np.ndarray  # point or central value, or range midpoint with stated prob
    claim_log_low: np.ndarray  # -inf where absent
    claim_log_high: np.ndarray  # +inf where absent
    claim_extra_sigma: np.ndarray  # stated uncertainty of a range with interval_prob
    claim_central_sd: np.ndarray  # (n_claims, 2) a central estimate's sd below, above
    claim_noise: np.ndarray  # (n_claims,) noise scale: the speaker's, x sqrt(same-day k)
    level_mu: np.ndarray  # (n_bases,) prior centre of the log daily rate
    ratio_mu: np.ndarray  # (n_ratios,) prior median of each ratio, log scale
    ratio_sigma: np.ndarray  # (n_ratios,)
    priors: Priors

    @property
    def series(self) -> list[tuple[str, str]]:
        """Reported series, (side, category)."""
        return self.plan.series

    @property
    def claim_role(self) -> np.ndarray:
        """(n_claims,) how each claim enters the likelihood, in words."""
        role = np.full(len(self.claim_kind), "claim", dtype=object)
        role[self.claim_running & ~self.claim_observed] = "tally rise"
        role[self.claim_spike] = "spike (left out)"
        role[self.claim_restated] = "restatement"
        role[self.claim_alternative] = "same-day alternative (left out)"
        role[self.claim_echo] = "echo (left out)"
        return role

    @property
    def claim_used(self) -> np.ndarray:
        """(n_claims,) bool: the claim informs the fit (directly or through a rise)."""
        return ~(self.claim_spike | self.claim_restated | self.claim_alternative | self.claim_echo)

    def series_log_factor_prior(self) -> np.ndarray:
        """log of each series' factor over its curve at the ratio prior medians."""
        out = np.zeros(len(self.plan.series))
        for r, (k, add_one) in enumerate(
            zip(self.plan.series_ratio, self.plan.series_add_one, strict=True)
        ):
            if k >= 0:
                ratio = math.exp(self.ratio_mu[k])
                out[r] = math.log1p(ratio) if add_one else math.log(ratio)
        return out


def prepare(claims: ClaimSet, *, start: dt.date, end: dt.date, priors: Priors) -> ModelInputs:
    """Turn validated claims into model arrays. Raises ValueError on claims off the grid."""
    if len(claims) == 0:
        raise ValueError("no claims to fit")
    priors.check_keys(claims.speakers)
    grid = Grid(start, end, priors.knot_spacing((end - start).days + 1))
    off = [
        f"claim {i} ({c.source}, as_of {c.as_of})"
        for i, c in enumerate(claims, 1)
        if not start <= c.as_of <= (c.end() or c.as_of) <= end
    ]
    if off:
        raise ValueError(
            f"claims fall outside the grid {start}..{end}: {'; '.join(off)}. "
            "Move `start` earlier or the horizon later."
        )
    early = [
        f"claim {i} ({c.source}, period_start {c.period_start})"
        for i, c in enumerate(claims, 1)
        if c.period_start is not None and c.period_start < start
    ]
    if early:
        warnings.warn(
            f"{len(early)} claims count from before the grid start {start}; they are "
            f"counted from {start}, i.e. the model assumes no deaths before it: "
            + "; ".join(early),
            EarlyStartWarning,
            stacklevel=3,
        )
    the_plan = plan(claims.series, link=priors.link_categories)
    speakers = claims.speakers
    types = {c.speaker: c.source_type for c in claims}
    speaker_types = [types[s] for s in speakers]
    speaker_priors = [
        priors.for_speaker(s, d, t) for (s, d), t in zip(speakers, speaker_types, strict=True)
    ]
    claim_speaker = np.array([speakers.index(c.speaker) for c in claims])
    # every speaker of one type about one side shares that type's group offset
    group_keys = [
        (t, side) if priors.for_type(t).group_sigma > 0 else None
        for (_, side), t in zip(speakers, speaker_types, strict=True)
    ]
    groups = list(dict.fromkeys(k for k in group_keys if k is not None))
    speaker_group = np.array([-1 if k is None else groups.index(k) for k in group_keys])
    n = len(claims)
    log_value = np.zeros(n)
    log_low = np.full(n, -np.inf)
    log_high = np.full(n, np.inf)
    extra = np.zeros(n)
    central_sd = np.zeros((n, 2))
    kind = np.zeros(n, dtype=int)
    for i, c in enumerate(claims):
        code = KIND_CODES[c.kind]
        if c.low is not None:
            log_low[i] = math.log(c.low)
        if c.high is not None:
            log_high[i] = math.log(c.high)
        if c.kind in ("point", "central"):
            assert c.value is not None
            log_value[i] = math.log(c.value)
        if c.kind == "central":
            # the source's own two-sided uncertainty: each end at the stated level
            z = stats.norm.ppf(0.5 + (c.interval_prob or DEFAULT_INTERVAL_PROB) / 2)
            central_sd[i] = (log_value[i] - log_low[i]) / z, (log_high[i] - log_value[i]) / z
        elif c.kind == "range" and c.interval_prob is not None:
            # a stated-probability range is the source's own Gaussian uncertainty
            z = stats.norm.ppf(0.5 + c.interval_prob / 2)
            log_value[i] = 0.5 * (log_low[i] + log_high[i])
            extra[i] = (log_high[i] - log_low[i]) / (2 * z)
            code = KIND_CODES["point"]
        kind[i] = code
    first = np.array([grid.day(max(c.period_start or start, start)) for c in claims])
    last = np.array([grid.day(c.end() or c.as_of) for c in claims])
    last_from = np.array([grid.day(_as_of_from(c)) for c in claims])
    echo = np.array([bool(c.derived_from) for c in claims], dtype=bool)
    chained = (kind == KIND_CODES["point"]) & (extra == 0) & ~echo
    chained &= np.array([c.exact_dates for c in claims], dtype=bool)
    tallies = read_tallies(claims, chained, start, priors)
    running = sorted({int(j) for j in claim_speaker[tallies.running]})
    knots = grid.knots
    running_first_knot = np.array(
        [
            np.searchsorted(knots, last[(claim_speaker == j) & tallies.running].min(), "right") - 1
            for j in running
        ],
        dtype=int,
    )
    claim_series = np.array([the_plan.series.index(c.series) for c in claims])
    observed = tallies.observed & ~echo
    noise = np.array([speaker_priors[j].noise_sigma for j in claim_speaker])
    noise *= np.sqrt(_same_day_counts(claims, observed & ~tallies.running))
    ratio_prior = [priors.ratios[name] for _, name in the_plan.ratios]
    inputs = ModelInputs(
        grid=grid,
        plan=the_plan,
        speakers=speakers,
        speaker_types=speaker_types,
        speaker_priors=speaker_priors,
        groups=groups,
        speaker_group=speaker_group,
        running=running,
        running_first_knot=running_first_knot,
        claim_running=tallies.running,
        claim_observed=observed,
        claim_spike=tallies.spike,
        claim_restated=tallies.restated,
        claim_alternative=tallies.alternative,
        claim_echo=echo,
        increments=tallies.increments,
        rise_tally=np.searchsorted(running, claim_speaker[tallies.increments.claim]),
        coarse=tallies.coarse,
        anchor_knot=anchor_knots(
            grid, np.array(the_plan.series_base)[claim_series], last, len(the_plan.bases)
        ),
        claim_series=claim_series,
        claim_speaker=claim_speaker,
        claim_first_day=first,
        claim_last_day=last,
        claim_last_from=last_from,
        claim_kind=kind,
        claim_log_value=log_value,
        claim_log_low=log_low,
        claim_log_high=log_high,
        claim_extra_sigma=extra,
        claim_central_sd=central_sd,
        claim_noise=noise,
        level_mu=np.zeros(len(the_plan.bases)),
        ratio_mu=np.log([m for m, _ in ratio_prior]) if ratio_prior else np.zeros(0),
        ratio_sigma=np.array([s for _, s in ratio_prior]),
        priors=priors,
    )
    if priors.level_mu is not None:
        level = np.full(len(the_plan.bases), priors.level_mu)
    else:
        level = _default_level(claims, inputs)
    return replace(inputs, level_mu=level)


def _as_of_from(claim: Claim) -> dt.date:
    """The earliest day a claim's as_of may be: the period's first day when as_of is known
    only to the month or year, except for a count over whole periods ("deaths in July
    2023": period_start and as_of of that precision), which runs to the period's end."""
    whole = claim.period_start is not None and claim.period_start_precision == claim.as_of_precision
    return claim.end() or claim.as_of if whole else claim.as_of


def _same_day_counts(claims: ClaimSet, among: np.ndarray) -> np.ndarray:
    """(n_claims,) how many of the claims ``among`` share each one's speaker, series,
    dates and publication day (1 for the others).

    Several outlets quoting one statement are one statement: their noise is scaled by
    the square root of their number, so together they weigh as one figure.
    """
    keys = [same_day_key(c) if among[i] else i for i, c in enumerate(claims)]
    size: dict[Any, int] = {}
    for k in keys:
        size[k] = size.get(k, 0) + 1
    return np.array([size[k] for k in keys], dtype=float)


def anchor_knots(
    grid: Grid, claim_base: np.ndarray, claim_last_day: np.ndarray, n_bases: int
) -> np.ndarray:
    """(n_bases,) the knot nearest each curve's last claim: where its level is set.

    The random walk runs both ways from there, so the level parameter is the rate where
    the data are, not a rate at the grid start that only the sum of every later step
    ties to them (claims only at the end of a long window made that a long ridge).
    """
    last = np.zeros(n_bases, dtype=int)
    np.maximum.at(last, claim_base, claim_last_day)
    return np.abs(grid.knots[None, :] - last[:, None]).argmin(axis=1)


def _default_level(claims: ClaimSet, inputs: ModelInputs) -> np.ndarray:
    """Per curve, the median over the claims it uses of log(figure / days covered / factor).

    Only sets the centre of a prior that is wide (``level_sigma``, default a factor of
    7.4 per standard deviation); it puts the prior on the scale of the event, as
    automatic priors in regression software do. ``factor`` is the claim's category
    factor at the ratio prior medians (a casualties figure is about 4x killed).
    """
    factor = inputs.series_log_factor_prior()
    rates: list[list[float]] = [[] for _ in inputs.plan.bases]
    for i, c in enumerate(claims):
        if not inputs.claim_used[i]:
            continue  # not evidence (an echo, a spike, ...): not the event's scale either
        r = inputs.claim_series[i]
        figures = [x for x in (c.value, c.low, c.high) if x is not None]
        days = inputs.claim_last_day[i] - inputs.claim_first_day[i] + 1
        rate = float(np.mean(np.log(figures))) - math.log(days) - factor[r]
        rates[inputs.plan.series_base[r]].append(rate)
    return np.array([float(np.median(r)) if r else 0.0 for r in rates])


def t4_logcdf(z):  # pytensor tensor -> tensor
    """log cdf of the standard Student-t with 4 degrees of freedom, exact and stable.

    For z <= 0, F(z) = (1 - r)^2 (2 + r) / 4 with r = |z| / sqrt(4 + z^2), and
    1 - r = 4 / (s (s + |z|)), s = sqrt(4 + z^2), avoids cancellation in the far tail.
    The generic Student-t cdf needs the incomplete beta function, whose gradient graph
    takes seconds to build; this one is cheap and exact.
    """
    import pytensor.tensor as pt

    a = pt.abs(z)
    s = pt.sqrt(4.0 + z * z)
    lower_tail = np.log(0.25) + 2.0 * pt.log(4.0 / (s * (s + a))) + pt.log(2.0 + a / s)
    return pt.switch(z <= 0, lower_tail, pt.log1mexp(lower_tail))


def central_sides(inputs: ModelInputs, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(below, above) scales of central estimates ``idx``: the speaker's noise and the
    source's own uncertainty on that side of its figure, in quadrature."""
    noise = inputs.claim_noise[idx, None]
    sides = np.sqrt(noise**2 + inputs.claim_central_sd[idx] ** 2)
    return sides[:, 0], sides[:, 1]


def central_logp(inputs: ModelInputs, loc: Any, idx: np.ndarray) -> Any:
    """Log-likelihood of central estimates with their interval (a PyTensor scalar).

    A two-piece Student-t(4) on the log scale around the expected figure ``loc``: a
    figure above it is judged by the interval's lower side (the truth would be below
    what the source said), a figure below it by the upper side. Its density,
    ``2 / (below + above) * t4((y - loc) / side)``, integrates to one, so the central
    value moves the estimate and the interval's width sets its weight.
    """
    import pytensor.tensor as pt

    below, above = central_sides(inputs, idx)
    y = inputs.claim_log_value[idx]
    side = pt.switch(y > loc[idx], below, above)
    z = (y - loc[idx]) / side
    log_t4 = math.log(3 / 8) - 2.5 * pt.log1p(z**2 / NOISE_NU)
    return log_t4.sum() + np.log(2 / (below + above)).sum()


RISE_T_SCALE = math.sqrt((NOISE_NU - 2) / NOISE_NU)
"""Scale of a Student-t(4) with unit variance: rise errors keep sd ``running_noise``."""


def rise_scale(mean: Any, level: Any, rate_sd: Any, level_noise: float) -> Any:
    """sd of a rise in people: a rate error (``rate_sd`` of the expected rise ``mean``,
    shrinking with the days it covers) and a level error of each of its two figures
    (``level_noise`` of ``level``, the earlier figure as published, never shrinking).

    The level is the published figure, not the model's expectation of it: a scale that
    grew with the expected level would reward the model for expecting the tally to be
    small. Works on numpy arrays and on PyTensor tensors alike.
    """
    return ((mean * rate_sd) ** 2 + 2 * (level_noise * level) ** 2) ** 0.5


def rises_logp(
    inputs: ModelInputs,
    cumulative: Any,
    log_factor: Any,
    loc: Any,
    log_count: Any,
    noise_factor: Any,
):
    """Log-likelihood of a running tally's rises (a PyTensor scalar).

    Each rise ``R`` (people, any sign) is its expected rise ``mean`` — the curve's rise
    over its days times the speaker's bias and drift on its last day — plus ``scale``
    times a standardised error ``u`` (:func:`rise_scale`; the rate error is the tally's
    own, ``noise_factor`` (n_running,) times the prior median). The errors of consecutive rises
    are AR(1), ``u_k = rho_k u_(k-1) + sqrt(1 - rho_k^2) e_k``, with heavy-tailed
    innovations ``e`` (Student-t, 4 degrees of freedom, unit variance): one wild rise
    costs little, unlike a Gaussian error, where it could overturn the whole curve.
    """
    import pytensor.tensor as pt

    inc, priors = inputs.increments, inputs.priors
    series = inputs.claim_series
    base = np.array(inputs.plan.series_base)[series]
    rise = cumulative[base[inc.claim], inc.last_day + 1]
    rise = rise - cumulative[base[inc.claim], inc.first_day]
    # the rise of the series, times the speaker's bias and drift on that day
    mean = rise * pt.exp(log_factor[series[inc.claim]] + (loc - log_count)[inc.claim])
    rate_sd = inc.rate_sd * noise_factor[inputs.rise_tally]
    scale = rise_scale(mean, inc.level, rate_sd, priors.running_level_noise)
    u = (inc.value - mean) / scale
    root = np.sqrt(1 - inc.rho**2)
    innovation = (u - inc.rho * u[np.maximum(inc.prev, 0)]) / (root * RISE_T_SCALE)
    # log density of e = innovation * RISE_T_SCALE, and of the rise through u and scale
    log_t4 = math.log(3 / 8) - 2.5 * pt.log1p(innovation**2 / NOISE_NU)
    return (log_t4 - pt.log(scale)).sum() - np.log(root * RISE_T_SCALE).sum()


def build_model(inputs: ModelInputs):  # -> pm.Model (pymc imported lazily)
    """The PyMC model for ``inputs``. Nothing is sampled here."""
    import pytensor.tensor as pt

    from casualty_models._backend import pymc

    pm = pymc()
    grid, priors, the_plan = inputs.grid, inputs.priors, inputs.plan
    knots = grid.knots
    n_bases, n_knots = len(the_plan.bases), len(knots)
    coords = {
        "curve": [f"{side}|{cat}" for side, cat in the_plan.bases],
        "series": [f"{side}|{cat}" for side, cat in the_plan.series],
        "knot": [str(grid.dates[k]) for k in knots],
        "speaker": [f"{src}|{side}" for src, side in inputs.speakers],
        "claim": np.arange(len(inputs.claim_kind)),
        "ratio_name": [f"{side}|{name}" for side, name in the_plan.ratios],
        "group": [f"{t}|{side}" for t, side in inputs.groups],
        "running": [f"{inputs.speakers[j][0]}|{inputs.speakers[j][1]}" for j in inputs.running],
    }
    left, right, frac = grid.interpolation()
    step_sd = np.sqrt(np.diff(knots))

    def walk(name: str, rows: int, scale: float | np.ndarray, anchor: np.ndarray) -> Any:
        """Random walk at the knots, 0 at knot ``anchor[row]``: (rows, n_knots)."""
        if n_knots == 1:
            return pt.zeros((rows, 1))
        z = pm.Normal(name, 0.0, 1.0, shape=(rows, n_knots - 1))
        steps = z * step_sd * scale
        path = pt.concatenate([pt.zeros((rows, 1)), pt.cumsum(steps, axis=1)], axis=1)
        if not anchor.any():
            return path
        return path - path[np.arange(rows), anchor][:, None]

    def at_days(values: Any, days: np.ndarray) -> Any:
        """Knot values (rows, n_knots) interpolated to ``days`` -> (rows, len(days))."""
        return values[:, left[days]] * (1 - frac[days]) + values[:, right[days]] * frac[days]

    with pm.Model(coords=coords) as model:
        # --- latent curves: non-centred random walk of the log daily rate at the knots
        level_z = pm.Normal("level_z", 0.0, 1.0, dims="curve")
        level = inputs.level_mu + priors.level_sigma * level_z
        log_rate = pm.Deterministic(
            "log_rate",
            level[:, None] + walk("steps_z", n_bases, priors.rate_volatility, inputs.anchor_knot),
            dims=("curve", "knot"),
        )
        log_daily = at_days(log_rate, np.arange(grid.n_days))
        cumulative = pt.concatenate(
            [pt.zeros((n_bases, 1)), pt.cumsum(pt.exp(log_daily), axis=1)], axis=1
        )

        # --- categories: each reported series is its curve times 1, ratio or 1 + ratio
        log_factor = pt.zeros(len(the_plan.series))
        if the_plan.ratios:
            ratio_z = pm.Normal("ratio_z", 0.0, 1.0, dims="ratio_name")
            log_ratio = inputs.ratio_mu + inputs.ratio_sigma * ratio_z
            pm.Deterministic("ratio", pt.exp(log_ratio), dims="ratio_name")
            idx = np.array(the_plan.series_ratio)
            add_one = np.array(the_plan.series_add_one)
            for mask, value in (
                ((idx >= 0) & ~add_one, log_ratio),
                ((idx >= 0) & add_one, pt.log1p(pt.exp(log_ratio))),
            ):
                if mask.any():
                    log_factor = pt.set_subtensor(
                        log_factor[np.flatnonzero(mask)], value[idx[mask]]
                    )
        log_factor = pm.Deterministic("log_factor", log_factor, dims="series")

        # --- speaker biases, non-centred: type mean + group offset + own deviation;
        # capped speakers (tallies) bend smoothly under their cap (SoftCappedNormal),
        # anchors have no parameter
        mu = np.array([p.bias_mu for p in inputs.speaker_priors])
        sd = np.array([p.bias_sigma for p in inputs.speaker_priors])
        no_own = sd == 0  # anchors (and speakers with only a group offset)
        capped = np.array([p.bias_upper is not None for p in inputs.speaker_priors]) & ~no_own
        free = ~capped & ~no_own
        z = pt.zeros(len(mu))
        if free.any():
            z_free = pm.Normal("bias_z", 0.0, 1.0, shape=int(free.sum()))
            z = pt.set_subtensor(z[np.flatnonzero(free)], z_free)
        if capped.any():
            idx_c = np.flatnonzero(capped)
            upper = np.array([inputs.speaker_priors[i].bias_upper for i in idx_c])
            k = CAP_SHARPNESS / sd[idx_c]
            x = mu[idx_c] + sd[idx_c] * pm.Normal("bias_z_capped", 0.0, 1.0, shape=len(idx_c))
            capped_bias = upper - pt.softplus(k * (upper - x)) / k
            # written as the z that gives this bias, so every speaker shares one formula
            z = pt.set_subtensor(z[idx_c], (capped_bias - mu[idx_c]) / sd[idx_c])
        shift = pt.zeros(len(mu))
        if inputs.groups:
            group_z = pm.Normal("group_z", 0.0, 1.0, dims="group")
            member = inputs.speaker_group >= 0
            group_sd = np.array([p.group_sigma for p in inputs.speaker_priors])[member]
            shift = pt.set_subtensor(
                shift[np.flatnonzero(member)],
                group_sd * group_z[inputs.speaker_group[member]],
            )
        bias = pm.Deterministic("bias", mu + shift + sd * z, dims="speaker")

        # --- claims
        series, first, last = inputs.claim_series, inputs.claim_first_day, inputs.claim_last_day
        base = np.array(the_plan.series_base)[series]
        count = cumulative[base, last + 1] - cumulative[base, first]
        spread = np.flatnonzero(inputs.claim_last_from < last)
        if len(spread):
            # as_of known to the month or year: the count averaged over the period's days
            total = pt.concatenate([pt.zeros((n_bases, 1)), pt.cumsum(cumulative, axis=1)], axis=1)
            lo, hi, b = inputs.claim_last_from[spread] + 1, last[spread] + 1, base[spread]
            mean_end = (total[b, hi + 1] - total[b, lo]) / (hi - lo + 1)
            count = pt.set_subtensor(count[spread], mean_end - cumulative[b, first[spread]])
        log_count = pm.Deterministic("log_count", pt.log(count) + log_factor[series], dims="claim")
        loc = log_count + bias[inputs.claim_speaker]
        if inputs.running:
            # running tallies: a bias that drifts from the knot before their first claim
            before = np.arange(n_knots - 1)[None, :] < inputs.running_first_knot[:, None]
            mask = np.where(before, 0.0, 1.0)
            no_anchor = np.zeros(len(inputs.running), dtype=int)
            drift = walk("drift_z", len(inputs.running), priors.bias_drift * mask, no_anchor)
            drift = pm.Deterministic("bias_drift", drift, dims=("running", "knot"))
            row = np.full(len(inputs.speakers), -1)
            row[inputs.running] = np.arange(len(inputs.running))
            claim_row = row[inputs.claim_speaker]
            on = np.flatnonzero(claim_row >= 0)
            offsets = at_days(drift, last[on])  # (n_running, len(on))
            loc = pt.set_subtensor(loc[on], loc[on] + offsets[claim_row[on], np.arange(len(on))])
        loc = pm.Deterministic("claim_loc", loc, dims="claim")
        scale = np.sqrt(inputs.claim_noise**2 + inputs.claim_extra_sigma**2)

        kind = inputs.claim_kind
        point = np.flatnonzero((kind == KIND_CODES["point"]) & inputs.claim_observed)
        inc = inputs.increments
        if len(inc):
            # each tally's own day-to-day noise: a clean count and a mixed label differ
            noise_z = pm.Normal("rise_noise_z", 0.0, 1.0, dims="running")
            noise_factor = pt.exp(priors.running_noise_sd * noise_z)
            pm.Deterministic("rise_noise", priors.running_noise * noise_factor, dims="running")
            pm.Potential(
                "obs_rises",
                rises_logp(inputs, cumulative, log_factor, loc, log_count, noise_factor),
            )
        if len(point):
            pm.StudentT(
                "obs_point",
                nu=NOISE_NU,
                mu=loc[point],
                sigma=scale[point],
                observed=inputs.claim_log_value[point],
            )
        central = np.flatnonzero((kind == KIND_CODES["central"]) & inputs.claim_observed)
        if len(central):
            pm.Potential("obs_central", central_logp(inputs, loc, central))
        censored = np.flatnonzero(
            np.isin(kind, [KIND_CODES[k] for k in ("range", "floor", "ceiling")])
            & inputs.claim_observed
        )
        if len(censored):
            z_lo = np.clip(inputs.claim_log_low[censored], -_FAR, _FAR) - loc[censored]
            z_hi = np.clip(inputs.claim_log_high[censored], -_FAR, _FAR) - loc[censored]
            z_lo, z_hi = z_lo / scale[censored], z_hi / scale[censored]
            # log P(lo < claim < hi); a missing bound is a far finite one (cdf 0 or 1)
            # so ranges, floors and ceilings share one expression. Computed from the
            # upper tail when the whole interval lies above the centre, for precision.
            loglik = pt.switch(
                z_lo >= 0,
                pm.math.logdiffexp(t4_logcdf(-z_lo), t4_logcdf(-z_hi)),
                pm.math.logdiffexp(t4_logcdf(z_hi), t4_logcdf(z_lo)),
            )
            pm.Potential("obs_censored", loglik.sum())
    return model
