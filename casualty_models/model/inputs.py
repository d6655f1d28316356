"""Claims to model arrays: the day grid and :class:`ModelInputs`, built by :func:`prepare`.

Everything the graph (:mod:`casualty_models.model.graph`) needs, as numpy arrays: which
series and day each claim observes, its kind, its speaker and the priors that apply.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import stats

from casualty_models.claims import DEFAULT_INTERVAL_PROB, Claim, ClaimSet, same_day_key
from casualty_models.model.categories import Plan, plan
from casualty_models.model.grid import Grid, Stretches, find_stretches, looked_grid
from casualty_models.model.priors import Priors, SourcePrior
from casualty_models.model.tallies import DecreasingTallyWarning, Increments, read_tallies

__all__ = [
    "DecreasingTallyWarning",
    "EarlyStartWarning",
    "Grid",
    "ModelInputs",
    "Stretches",
    "make_grid",
    "prepare",
]


class EarlyStartWarning(UserWarning):
    """A claim counts from before the grid start; it is counted from the start instead."""


KIND_CODES = {"point": 0, "range": 1, "floor": 2, "ceiling": 3, "central": 4}
NOISE_NU = 4
"""Degrees of freedom of the claim noise: heavy enough tails that one wild claim cannot
drag the estimate, and a closed-form cdf (see :func:`t4_logcdf`) for censored claims."""
FAR_LOG = 100.0  # log-count bound standing in for a missing range end (e^100 people)


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
    stretches: Stretches  # where no claim looks inside: a total of their own
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


def prepare(
    claims: ClaimSet,
    *,
    start: dt.date,
    end: dt.date,
    priors: Priors,
    grid: Grid | None = None,
) -> ModelInputs:
    """Turn validated claims into model arrays. Raises ValueError on claims off the grid.

    ``grid`` (default :func:`make_grid` of the claims) fixes the knots, as when the same
    model is read without one of its claims (:mod:`casualty_models.attribution`).
    """
    if len(claims) == 0:
        raise ValueError("no claims to fit")
    priors.check_keys(claims.speakers)
    if grid is None:
        grid = make_grid(claims, start, end, priors)
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
        stretches=find_stretches(
            grid,
            np.array(the_plan.series_base)[claim_series],
            first,
            last_from,
            last,
            len(the_plan.bases),
            priors.rate_volatility,
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


def make_grid(claims: ClaimSet, start: dt.date, end: dt.date, priors: Priors) -> Grid:
    """The day grid of ``claims`` (:func:`looked_grid`): they look at their as_of (or
    the first and last day it may be, when known only to the month or year) and at a
    period_start after ``start``."""
    looked: set[int] = set()
    for c in claims:
        looked.update(((_as_of_from(c) - start).days, ((c.end() or c.as_of) - start).days))
        if c.period_start and c.period_start > start:
            looked.add((c.period_start - start).days)
    return looked_grid(start, end, priors, looked)


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


def central_sides(inputs: ModelInputs, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(below, above) scales of central estimates ``idx``: the speaker's noise and the
    source's own uncertainty on that side of its figure, in quadrature."""
    noise = inputs.claim_noise[idx, None]
    sides = np.sqrt(noise**2 + inputs.claim_central_sd[idx] ** 2)
    return sides[:, 0], sides[:, 1]


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
