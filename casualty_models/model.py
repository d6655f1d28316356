"""Builds the PyMC model from a ClaimSet. The only place the graph is defined.

Structure (log scale throughout; see docs/model.md):

* each series (side, category) has a latent daily death rate on a daily grid; its log
  is a Gaussian random walk pinned at knots every ``knot_days`` and interpolated
  linearly between them, so the cumulative count (a sum of positive daily rates) can
  never decrease;
* a claim about ``[period_start, as_of]`` observes the cumulative count's increase over
  that window, times its speaker's bias factor, with Student-t noise;
* ranges without a stated probability are interval-censored, "at least"/"at most"
  figures are censored on one side; ranges with a stated probability are Gaussian
  summaries of the source's own uncertainty.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from casualty_models.claims import ClaimSet
from casualty_models.sources import Priors, SourcePrior

KIND_CODES = {"point": 0, "range": 1, "floor": 2, "ceiling": 3}
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
        return np.array(
            [np.datetime64(self.start) + np.timedelta64(i, "D") for i in range(self.n_days)]
        )

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
    """Arrays the graph is built from, one entry per claim / speaker / series."""

    grid: Grid
    series: list[tuple[str, str]]
    speakers: list[tuple[str, str]]
    speaker_types: list[str]
    speaker_priors: list[SourcePrior]
    claim_series: np.ndarray  # (n_claims,) int
    claim_speaker: np.ndarray  # (n_claims,) int
    claim_first_day: np.ndarray  # (n_claims,) first day counted, grid offset
    claim_last_day: np.ndarray  # (n_claims,) as_of, grid offset
    claim_kind: np.ndarray  # (n_claims,) KIND_CODES
    claim_log_value: np.ndarray  # point value, or range midpoint with stated prob
    claim_log_low: np.ndarray  # -inf where absent
    claim_log_high: np.ndarray  # +inf where absent
    claim_extra_sigma: np.ndarray  # stated uncertainty of a range with interval_prob
    level_mu: np.ndarray  # (n_series,) prior centre of the log daily rate
    priors: Priors


def prepare(claims: ClaimSet, *, start: dt.date, end: dt.date, priors: Priors) -> ModelInputs:
    """Turn validated claims into model arrays. Raises ValueError on claims off the grid."""
    if len(claims) == 0:
        raise ValueError("no claims to fit")
    priors.check_keys(claims.speakers)
    grid = Grid(start, end, priors.knot_days)
    off = [
        f"claim {i} ({c.source}, as_of {c.as_of}, period_start {c.period_start})"
        for i, c in enumerate(claims, 1)
        if (c.period_start or start) < start or c.as_of > end
    ]
    if off:
        raise ValueError(
            f"claims fall outside the grid {start}..{end}: {'; '.join(off)}. "
            "Move `start` earlier or the horizon later."
        )
    series = claims.series
    speakers = claims.speakers
    types = {c.speaker: c.source_type for c in claims}
    speaker_types = [types[s] for s in speakers]
    speaker_priors = [
        priors.for_speaker(s, d, t) for (s, d), t in zip(speakers, types.values(), strict=True)
    ]
    n = len(claims)
    log_value = np.zeros(n)
    log_low = np.full(n, -np.inf)
    log_high = np.full(n, np.inf)
    extra = np.zeros(n)
    kind = np.zeros(n, dtype=int)
    for i, c in enumerate(claims):
        code = KIND_CODES[c.kind]
        if c.low is not None:
            log_low[i] = math.log(c.low)
        if c.high is not None:
            log_high[i] = math.log(c.high)
        if c.kind == "point":
            assert c.value is not None
            log_value[i] = math.log(c.value)
        elif c.kind == "range" and c.interval_prob is not None:
            # a stated-probability range is the source's own Gaussian uncertainty
            z = stats.norm.ppf(0.5 + c.interval_prob / 2)
            log_value[i] = 0.5 * (log_low[i] + log_high[i])
            extra[i] = (log_high[i] - log_low[i]) / (2 * z)
            code = KIND_CODES["point"]
        kind[i] = code
    first = np.array([grid.day(c.period_start or start) for c in claims])
    last = np.array([grid.day(c.as_of) for c in claims])
    level_mu = np.array(
        [
            priors.level_mu
            if priors.level_mu is not None
            else _default_level(claims, s, first, last)
            for s in series
        ]
    )
    return ModelInputs(
        grid=grid,
        series=series,
        speakers=speakers,
        speaker_types=speaker_types,
        speaker_priors=speaker_priors,
        claim_series=np.array([series.index(c.series) for c in claims]),
        claim_speaker=np.array([speakers.index(c.speaker) for c in claims]),
        claim_first_day=first,
        claim_last_day=last,
        claim_kind=kind,
        claim_log_value=log_value,
        claim_log_low=log_low,
        claim_log_high=log_high,
        claim_extra_sigma=extra,
        level_mu=level_mu,
        priors=priors,
    )


def _default_level(
    claims: ClaimSet, series: tuple[str, str], first: np.ndarray, last: np.ndarray
) -> float:
    """Median over a series' claims of log(claimed figure / days covered).

    Only sets the centre of a prior that is wide (``level_sigma``, default a factor of
    7.4 per standard deviation); it puts the prior on the scale of the event, as
    automatic priors in regression software do.
    """
    rates = []
    for i, c in enumerate(claims):
        if c.series != series:
            continue
        figures = [x for x in (c.value, c.low, c.high) if x is not None]
        mid = math.exp(np.mean(np.log(figures)))
        rates.append(math.log(mid / (last[i] - first[i] + 1)))
    return float(np.median(rates))


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


def build_model(inputs: ModelInputs):  # -> pm.Model (pymc imported lazily)
    """The PyMC model for ``inputs``. Nothing is sampled here."""
    import pytensor.tensor as pt

    from casualty_models._backend import pymc

    pm = pymc()

    grid = inputs.grid
    priors = inputs.priors
    knots = grid.knots
    n_series, n_knots = len(inputs.series), len(knots)
    coords = {
        "series": [f"{side}|{cat}" for side, cat in inputs.series],
        "knot": [str(grid.dates[k]) for k in knots],
        "speaker": [f"{src}|{side}" for src, side in inputs.speakers],
        "claim": np.arange(len(inputs.claim_kind)),
    }
    left, right, frac = grid.interpolation()
    step_sd = priors.rate_volatility * np.sqrt(np.diff(knots))

    with pm.Model(coords=coords) as model:
        # --- latent curve: non-centred random walk of the log daily rate at the knots
        level_z = pm.Normal("level_z", 0.0, 1.0, dims="series")
        level = inputs.level_mu + priors.level_sigma * level_z
        if n_knots > 1:
            steps_z = pm.Normal("steps_z", 0.0, 1.0, shape=(n_series, n_knots - 1))
            walk = pt.concatenate(
                [pt.zeros((n_series, 1)), pt.cumsum(steps_z * step_sd, axis=1)], axis=1
            )
        else:
            walk = pt.zeros((n_series, 1))
        log_rate = pm.Deterministic("log_rate", level[:, None] + walk, dims=("series", "knot"))
        log_daily = log_rate[:, left] * (1 - frac) + log_rate[:, right] * frac
        cumulative = pt.concatenate(
            [pt.zeros((n_series, 1)), pt.cumsum(pt.exp(log_daily), axis=1)], axis=1
        )

        # --- speaker biases, non-centred; capped speakers (tallies) use a truncated z
        mu = np.array([p.bias_mu for p in inputs.speaker_priors])
        sd = np.array([p.bias_sigma for p in inputs.speaker_priors])
        capped = np.array([p.bias_upper is not None for p in inputs.speaker_priors])
        z = pt.zeros(len(mu))
        if (~capped).any():
            z_free = pm.Normal("bias_z", 0.0, 1.0, shape=int((~capped).sum()))
            z = pt.set_subtensor(z[np.flatnonzero(~capped)], z_free)
        if capped.any():
            idx = np.flatnonzero(capped)
            upper = np.array([(inputs.speaker_priors[i].bias_upper - mu[i]) / sd[i] for i in idx])
            z_cap = pm.TruncatedNormal("bias_z_capped", 0.0, 1.0, upper=upper, shape=len(idx))
            z = pt.set_subtensor(z[idx], z_cap)
        bias = pm.Deterministic("bias", mu + sd * z, dims="speaker")

        # --- claims
        s, first, last = inputs.claim_series, inputs.claim_first_day, inputs.claim_last_day
        count = cumulative[s, last + 1] - cumulative[s, first]
        log_count = pm.Deterministic("log_count", pt.log(count), dims="claim")
        loc = log_count + bias[inputs.claim_speaker]
        noise = np.array([inputs.speaker_priors[j].noise_sigma for j in inputs.claim_speaker])
        scale = np.sqrt(noise**2 + inputs.claim_extra_sigma**2)

        kind = inputs.claim_kind
        point = np.flatnonzero(kind == KIND_CODES["point"])
        if len(point):
            pm.StudentT(
                "obs_point",
                nu=NOISE_NU,
                mu=loc[point],
                sigma=scale[point],
                observed=inputs.claim_log_value[point],
            )
        censored = np.flatnonzero(kind != KIND_CODES["point"])
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
