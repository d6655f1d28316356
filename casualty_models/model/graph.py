"""Builds the PyMC model from a ClaimSet. The only place the graph is defined.

Structure (log scale throughout; see docs/model.md):

* each side has a latent daily death rate (its killed curve) on a daily grid; its log
  is a Gaussian random walk pinned at knots every ``knot_days`` and interpolated
  linearly between them, so the cumulative count (a sum of positive daily rates) can
  never decrease. Other categories are that curve times a ratio factor (see
  :mod:`casualty_models.model.categories`); unlinked categories get curves of their own;
* a claim about ``[period_start, as_of]`` observes the cumulative count's increase over
  that window, times its speaker's bias factor, with Student-t noise; the bias of a
  running tally (a speaker with many claims) drifts as a random walk;
* ranges without a stated probability are interval-censored, "at least"/"at most"
  figures are censored on one side; ranges with a stated probability are Gaussian
  summaries of the source's own uncertainty.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from casualty_models.model.grid import Stretches
from casualty_models.model.inputs import FAR_LOG, KIND_CODES, NOISE_NU, ModelInputs
from casualty_models.model.priors import CAP_SHARPNESS

__all__ = ["build_model"]


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


def geometric_sum(delta: Any, m: Any) -> Any:
    """``sum(exp(delta * i) for i in range(m))``, elementwise (PyTensor), stable at 0."""
    import pytensor.tensor as pt

    small = pt.abs(delta) < 1e-6
    safe = pt.switch(small, 1.0, delta)  # keeps the unused branch's gradient finite
    exact = pt.expm1(safe * m) / pt.expm1(safe)
    series = m + delta * m * (m - 1) / 2 + delta**2 * m * (m - 1) * (2 * m - 1) / 12
    return pt.switch(small, series, exact)


class CountAt:
    """Cumulative counts of curves whose log daily rate is linear between knots.

    ``count(rows, days)`` is the number of deaths on days ``0 .. days - 1`` of curve
    ``rows`` (index arrays of one length; ``days`` in ``0 .. n_days``), in closed form:
    each knot gap holds a geometric series, so a count costs O(1) after O(knots) work
    per curve, not a sum over every day of the grid (the same numbers as
    :meth:`Grid.cumulative`, which sums the days).
    """

    def __init__(self, log_rate: Any, knots: np.ndarray) -> None:
        import pytensor.tensor as pt

        gaps = np.diff(knots)
        last = log_rate[:, -1:]
        # slope per day in each gap; the last knot is a gap of one day of its own
        self.slope = pt.concatenate([pt.diff(log_rate, axis=1) / gaps, pt.zeros_like(last)], 1)
        self.log_rate = log_rate
        lengths = np.append(gaps, 1)
        segments = pt.exp(log_rate) * geometric_sum(self.slope, lengths)
        zero = pt.zeros_like(last)
        self.before = pt.concatenate([zero, pt.cumsum(segments, axis=1)], axis=1)
        self.knots = knots

    def __call__(self, rows: np.ndarray, days: np.ndarray) -> Any:
        import pytensor.tensor as pt

        days = np.asarray(days)
        # the gap holding day ``days - 1``; ``days - knot`` of its days are counted
        j = np.searchsorted(self.knots, np.minimum(days, self.knots[-1]), side="right") - 1
        into = days - self.knots[j]
        before = self.before[rows, j]
        if not into.any():
            # all at knots: no partial gap (and no all-zero constant, on which PyTensor's
            # rewrites of 0 / x could cycle)
            return before
        partial = pt.exp(self.log_rate[rows, j]) * geometric_sum(self.slope[rows, j], into)
        return before + partial


def stretch_offsets(log_rate: Any, knots: np.ndarray, st: Stretches, z: Any) -> Any:
    """(n,) what to add to the inner knots of each stretch of ``log_rate`` (curves x
    knots, the walk) so that its total is ``exp(line + sd * z)`` (:class:`Stretches`)."""
    import pytensor.tensor as pt

    rows = np.arange(len(st))
    first, last = st.first_day(knots), st.last_day(knots)
    count = CountAt(log_rate[st.curve], knots)
    log_total = pt.log(count(rows, last + 1) - count(rows, first))
    right = log_rate[st.curve, st.right]
    left = pt.switch(st.left < 0, right, log_rate[st.curve, np.maximum(st.left, 0)])
    line = (left + right) / 2 + np.log(last - first + 1)
    return line + st.sd * z - log_total


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
    count_at: CountAt,
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
    rows = base[inc.claim]
    rise = count_at(rows, inc.last_day + 1) - count_at(rows, inc.first_day)
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
    coords: dict[str, Any] = {
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

    def at_days(values: Any, days: np.ndarray, rows: Any = slice(None)) -> Any:
        """Knot values (rows, n_knots) interpolated to ``days`` -> (rows, len(days)); with
        ``rows`` an index array of len(days), row ``rows[k]`` at day ``days[k]`` only."""
        return values[rows, left[days]] * (1 - frac[days]) + values[rows, right[days]] * frac[days]

    with pm.Model(coords=coords) as model:
        # --- latent curves: non-centred random walk of the log daily rate at the knots
        level_z = pm.Normal("level_z", 0.0, 1.0, dims="curve")
        level = inputs.level_mu + priors.level_sigma * level_z
        log_rate = level[:, None] + walk(
            "steps_z", n_bases, priors.rate_volatility, inputs.anchor_knot
        )
        st = inputs.stretches
        if len(st):
            log_rate = pt.inc_subtensor(
                log_rate[st.curve],
                stretch_offsets(
                    log_rate, knots, st, pm.Normal("stretch_z", 0.0, 1.0, shape=len(st))
                )[:, None]
                * st.inner(n_knots),
            )
        log_rate = pm.Deterministic("log_rate", log_rate, dims=("curve", "knot"))
        count_at = CountAt(log_rate, knots)

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
        count = count_at(base, last + 1)
        later = np.flatnonzero(first > 0)  # most claims count from the start: minus 0
        if len(later):
            count = pt.inc_subtensor(count[later], -count_at(base[later], first[later]))
        spread = np.flatnonzero(inputs.claim_last_from < last)
        if len(spread):
            # as_of known to the month or year: the count averaged over the period's days
            lo, hi = inputs.claim_last_from[spread] + 1, last[spread] + 1
            owner = np.repeat(np.arange(len(spread)), hi - lo + 1)
            days = np.concatenate([np.arange(a, b + 1) for a, b in zip(lo, hi, strict=True)])
            ends = count_at(base[spread][owner], days)
            mean_end = pt.inc_subtensor(pt.zeros(len(spread))[owner], ends) / (hi - lo + 1)
            count = pt.set_subtensor(
                count[spread], mean_end - count_at(base[spread], first[spread])
            )
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
            # each figure reads its own tally's drift on its day: a gather of len(on)
            # values, not a (n_running, len(on)) grid, which grew with tallies x figures.
            # inc_subtensor, not set_subtensor(loc[on], loc[on] + a + b): PyTensor 2.38's
            # rewrite of the latter keeps only the first term of the sum
            # (local_set_to_inc_subtensor; tests/test_tallies.py)
            loc = pt.inc_subtensor(loc[on], at_days(drift, last[on], rows=claim_row[on]))
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
                rises_logp(inputs, count_at, log_factor, loc, log_count, noise_factor),
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
            z_lo = np.clip(inputs.claim_log_low[censored], -FAR_LOG, FAR_LOG) - loc[censored]
            z_hi = np.clip(inputs.claim_log_high[censored], -FAR_LOG, FAR_LOG) - loc[censored]
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
