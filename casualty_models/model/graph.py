"""The model's log density: the only place the graph is defined.

Structure (log scale throughout; see docs/model.md):

* each side has a latent daily death rate (its killed curve); its log is a Gaussian
  random walk pinned at knots (dense where claims look, sparse elsewhere, see
  :mod:`casualty_models.model.grid`) and linear between them, so the cumulative count (a
  sum of positive daily rates) can never decrease. A stretch no claim looks inside has
  its total set by a parameter of its own, the walk giving only its shape
  (:class:`~casualty_models.model.grid.Stretches`). Other categories are that curve
  times a ratio factor (see :mod:`casualty_models.model.categories`); unlinked
  categories get curves of their own;
* a claim about ``[period_start, as_of]`` observes the cumulative count's increase over
  that window, times its speaker's bias factor, with Student-t noise; the bias of a
  running tally (a speaker with many claims) drifts as a random walk;
* ranges without a stated probability are interval-censored, "at least"/"at most"
  figures are censored on one side; ranges with a stated probability are Gaussian
  summaries of the source's own uncertainty.

:func:`density` writes it once, from parameter tensors and data tensors (the arrays of
:mod:`casualty_models.model.data`); :func:`build_model` wraps it in a PyMC model for one
claim set, and :mod:`casualty_models._compiled` compiles it once for every claim set.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from casualty_models.model.inputs import NOISE_NU, ModelInputs, central_sides

__all__ = ["build_model", "central_logp", "density", "rise_scale", "t4_logcdf"]

LOG_T4 = math.log(3 / 8)
"""log density of the standard Student-t(4) at 0."""
RISE_T_SCALE = math.sqrt((NOISE_NU - 2) / NOISE_NU)
"""Scale of a Student-t(4) with unit variance: rise errors keep sd ``running_noise``."""


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


def t4_logpdf(z: Any) -> Any:
    """log density of the standard Student-t(4) (PyTensor)."""
    import pytensor.tensor as pt

    return LOG_T4 - 2.5 * pt.log1p(z**2 / NOISE_NU)


def geometric_sum(delta: Any, m: Any) -> Any:
    """``sum(exp(delta * i) for i in range(m))``, elementwise (PyTensor), stable at 0."""
    import pytensor.tensor as pt

    small = pt.abs(delta) < 1e-6
    safe = pt.switch(small, 1.0, delta)  # keeps the unused branch's gradient finite
    exact = pt.expm1(safe * m) / pt.expm1(safe)
    series = m + delta * m * (m - 1) / 2 + delta**2 * m * (m - 1) * (2 * m - 1) / 12
    return pt.switch(small, series, exact)


class Counts:
    """Cumulative counts of curves whose log daily rate is linear between knots.

    ``counts(rows, j, into)`` is the number of deaths on curve ``rows`` before a day that
    lies ``into`` days into knot gap ``j`` (a day query of
    :func:`casualty_models.model.data.day_query`), in closed form: each gap holds a
    geometric series, so a count costs O(1) after O(knots) work per curve, not a sum
    over every day of the grid (the same numbers as :meth:`Grid.cumulative`).
    """

    def __init__(self, log_rate: Any, gap: Any, seg_len: Any) -> None:
        import pytensor.tensor as pt

        zero = pt.zeros_like(log_rate[:, :1])
        # slope per day in each gap; the last knot is a gap of one day of its own
        self.slope = pt.concatenate([pt.diff(log_rate, axis=1) / gap, zero], axis=1)
        self.log_rate = log_rate
        segments = pt.exp(log_rate) * geometric_sum(self.slope, seg_len)
        self.before = pt.concatenate([zero, pt.cumsum(segments, axis=1)], axis=1)

    def __call__(self, rows: Any, j: Any, into: Any) -> Any:
        import pytensor.tensor as pt

        rate, slope = _take(self.log_rate, rows, j), _take(self.slope, rows, j)
        return _take(self.before, rows, j) + pt.exp(rate) * geometric_sum(slope, into)


def _take(matrix: Any, rows: Any, cols: Any) -> Any:
    """``matrix[rows, cols]`` as a gather from the flattened matrix: one index vector,
    whose gradient PyTensor compiles (C and numba); with two index vectors it runs in
    Python on PyMC's path (``AdvancedIncSubtensor.perform``)."""
    return matrix.ravel()[rows * matrix.shape[1] + cols]


def rise_scale(mean: Any, level: Any, rate_sd: Any, level_noise: Any) -> Any:
    """sd of a rise in people: a rate error (``rate_sd`` of the expected rise ``mean``,
    shrinking with the days it covers) and a level error of each of its two figures
    (``level_noise`` of ``level``, the earlier figure as published, never shrinking).

    The level is the published figure, not the model's expectation of it: a scale that
    grew with the expected level would reward the model for expecting the tally to be
    small. Works on numpy arrays and on PyTensor tensors alike.
    """
    return ((mean * rate_sd) ** 2 + 2 * (level_noise * level) ** 2) ** 0.5


def central_terms(y: Any, loc: Any, below: Any, above: Any) -> Any:
    """Log-likelihood of central estimates with their interval (PyTensor, per claim).

    A two-piece Student-t(4) on the log scale around the expected figure ``loc``: a
    figure above it is judged by the interval's lower side (the truth would be below
    what the source said), a figure below it by the upper side. Its density,
    ``2 / (below + above) * t4((y - loc) / side)``, integrates to one, so the central
    value moves the estimate and the interval's width sets its weight.
    """
    import pytensor.tensor as pt

    side = pt.switch(y > loc, below, above)
    return t4_logpdf((y - loc) / side) + pt.log(2 / (below + above))


def central_logp(inputs: ModelInputs, loc: Any, idx: np.ndarray) -> Any:
    """:func:`central_terms` of the central estimates ``idx`` of ``inputs``, summed."""
    below, above = central_sides(inputs, idx)
    return central_terms(inputs.claim_log_value[idx], loc[idx], below, above).sum()


def censored_terms(lo: Any, hi: Any, loc: Any, scale: Any) -> Any:
    """log P(lo < claim < hi) under Student-t(4) noise around ``loc`` (PyTensor, per
    claim); a missing bound is a far finite one (cdf 0 or 1), so ranges, floors and
    ceilings share one expression. Computed from the upper tail when the whole
    interval lies above the centre, for precision."""
    import pytensor.tensor as pt

    z_lo, z_hi = (lo - loc) / scale, (hi - loc) / scale
    return pt.switch(
        z_lo >= 0,
        _logdiffexp(t4_logcdf(-z_lo), t4_logcdf(-z_hi)),
        _logdiffexp(t4_logcdf(z_hi), t4_logcdf(z_lo)),
    )


def stretch_totals(line: Any, z: Any, d: dict[str, Any]) -> tuple[Any, Any]:
    """(log total, lambda), each (stretch,), of the stretches no claim looks inside,
    from their lines and standard normal parameters ``z``.

    The prior is ``lambda ~ Normal(0, sd)`` about each line, one stretch independent of
    the next; the parameters are arranged otherwise. Claims see the sum of joined
    stretches (no claim's count ends between them: a head before a ministry's period
    and that period, say), not their split; with one parameter per stretch, that is a
    curved ridge ``exp(a) + exp(b) = const``. So the first of a group of joined
    stretches carries the log of their sum, and each later one its log share against
    the sum of those before it, ``u = log(sum before) - log(own)``; going back from the
    sum, ``log(sum through k - 1) = log(sum through k) - softplus(-u)`` and ``log(own)
    = log(sum through k) - softplus(u)``. This map has unit Jacobian, so the density is
    the prior's on ``lambda`` (see ``terms["stretches"]``). A stretch joined with no
    other is ``line + sd z``.
    """
    import pytensor.tensor as pt

    before, later = d["st_before"], d["st_later"]
    w = pt.exp(line)
    prev = (before * w[None, :]).sum(axis=1)
    has_prev = pt.gt(before.sum(axis=1), 0)
    zs = d["st_scale"] * z
    u = pt.log(pt.switch(has_prev, prev, 1.0)) - line + zs
    back = pt.switch(has_prev, pt.softplus(-u), 0.0)
    chain = pt.log(prev + w + (later * w[None, :]).sum(axis=1))
    through = chain + zs[d["st_owner"]] - (later * back[None, :]).sum(axis=1)
    log_total = through - pt.switch(has_prev, pt.softplus(u), 0.0)
    return log_total, log_total - line


def _logdiffexp(a: Any, b: Any) -> Any:
    import pytensor.tensor as pt

    return a + pt.log1mexp(b - a)


def density(p: dict[str, Any], d: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The model for parameters ``p`` (:data:`~casualty_models.model.data.PARAMS`, each a
    standard normal tensor of its shape) and data ``d`` (the arrays of
    :data:`~casualty_models.model.data.SCHEMA`, as tensors).

    Returns ``(terms, values)``: the likelihood terms (``point``, ``central`` and
    ``censored`` per claim of their kind, ``rises`` a scalar; ``stretches``, a scalar,
    turns the standard normal of ``stretch_z`` into the stretches' prior, see
    :func:`stretch_totals`) and the quantities an estimate keeps (``log_rate``,
    ``log_factor``, ``ratio``, ``bias``, ``log_count``, ``claim_loc``, ``bias_drift``,
    ``rise_noise``). The parameters' own standard normal priors are not among the
    terms.
    """
    import pytensor.tensor as pt

    sc = d["scalars"]
    level_sigma, volatility, drift_sd, noise, noise_sd, level_noise = (sc[k] for k in range(6))
    n_bases = d["level_mu"].shape[0]

    # --- latent curves: non-centred random walk of the log daily rate at the knots,
    # pinned at each curve's anchor knot (nearest its last claim)
    level = d["level_mu"] + level_sigma * p["level_z"]
    steps = p["steps_z"] * d["step_sd"][None, :] * volatility
    path = pt.concatenate([pt.zeros((n_bases, 1)), pt.cumsum(steps, axis=1)], axis=1)
    log_rate = level[:, None] + path - _take(path, pt.arange(n_bases), d["anchor"])[:, None]
    # a stretch no claim looks inside: its total exp(line + lambda) (stretch_totals), the
    # walk's shape
    rows = d["st_curve"]
    walk = Counts(log_rate[rows], d["gap"], d["seg_len"])
    ids = pt.arange(rows.shape[0])
    total = walk(ids, d["st_last_j"], d["st_last_into"])
    total = total - walk(ids, d["st_first_j"], d["st_first_into"])
    right = _take(log_rate, rows, d["st_right"])
    left = pt.switch(d["st_head"] > 0, right, _take(log_rate, rows, d["st_left"]))
    line = (left + right) / 2 + pt.log(d["st_days"])
    log_total, lam = stretch_totals(line, p["stretch_z"], d)
    offset = log_total - pt.log(total)
    log_rate = pt.inc_subtensor(log_rate[rows], offset[:, None] * d["st_inner"])
    counts = Counts(log_rate, d["gap"], d["seg_len"])

    # --- categories: each reported series is its curve times 1, a ratio or 1 + a ratio
    log_ratio = d["ratio_mu"] + d["ratio_sigma"] * p["ratio_z"]
    factor = pt.concatenate([log_ratio, pt.zeros(1)])[d["series_ratio"]]
    log_factor = pt.switch(d["series_add_one"] > 0, pt.log1p(pt.exp(factor)), factor)

    # --- speaker biases, non-centred: type mean + group offset + own deviation; capped
    # speakers (tallies) bend smoothly under their cap, anchors have no deviation
    mu, sd = d["bias_mu"], d["bias_sd"]
    z = pt.set_subtensor(pt.zeros_like(mu)[d["free_idx"]], p["bias_z"])
    capped = d["capped_idx"]
    upper, k = d["capped_upper"], d["capped_k"]
    x = mu[capped] + sd[capped] * p["bias_z_capped"]
    capped_bias = upper - pt.softplus(k * (upper - x)) / k
    # written as the z that gives this bias, so every speaker shares one formula
    z = pt.set_subtensor(z[capped], (capped_bias - mu[capped]) / sd[capped])
    shift = d["group_sd"] * pt.concatenate([p["group_z"], pt.zeros(1)])[d["group_of"]]
    bias = mu + shift + sd * z

    # --- claims: the curve's count over each claim's days, or its mean over the days
    # its as_of may be (known to the month or year)
    at_day = counts(d["day_base"], d["day_j"], d["day_into"])  # each distinct count once
    start = at_day[d["start_q"]]
    count = at_day[d["end_q"]] - start
    ends = at_day[d["spread_q"]]
    spread = d["spread_idx"]
    mean_end = pt.inc_subtensor(pt.zeros_like(d["spread_days"])[d["spread_owner"]], ends)
    count = pt.set_subtensor(count[spread], mean_end / d["spread_days"] - start[spread])
    log_count = pt.log(count) + log_factor[d["claim_series"]]
    loc = log_count + bias[d["claim_speaker"]]
    # running tallies: a bias that drifts from the knot before their first claim; each
    # figure reads its own tally's drift on its day
    dsteps = p["drift_z"] * d["step_sd"][None, :] * drift_sd * d["run_mask"]
    zeros = pt.zeros_like(dsteps[:, :1])
    drift = pt.concatenate([zeros, pt.cumsum(dsteps, axis=1)], axis=1)
    row, frac = d["on_row"], d["on_frac"]
    at = _take(drift, row, d["on_left"]) * (1 - frac) + _take(drift, row, d["on_right"]) * frac
    # inc_subtensor, not set_subtensor(loc[on], loc[on] + a + b): PyTensor 2.38's rewrite
    # of the latter keeps only the first term of the sum (tests/test_tallies.py)
    loc = pt.inc_subtensor(loc[d["on_idx"]], at)

    # --- a running tally's rises: its expected rise (the curve's, times the speaker's
    # bias and drift on that day) plus AR(1) errors with heavy-tailed innovations, its
    # own day-to-day noise (log-normal around the prior median)
    noise_factor = pt.exp(noise_sd * p["rise_noise_z"])
    rise = at_day[d["inc_end_q"]] - at_day[d["inc_start_q"]]
    ic = d["inc_claim"]
    mean = rise * pt.exp(log_factor[d["inc_series"]] + (loc - log_count)[ic])
    rate_sd = d["inc_rate_sd"] * noise_factor[d["inc_tally"]]
    scale = rise_scale(mean, d["inc_level"], rate_sd, level_noise)
    u = (d["inc_value"] - mean) / scale
    rho = d["inc_rho"]
    root = pt.sqrt(1 - rho**2) * RISE_T_SCALE
    innovation = (u - rho * u[d["inc_prev"]]) / root
    # log density of e = innovation * RISE_T_SCALE, and of the rise through u and scale
    rises = (t4_logpdf(innovation) - pt.log(scale) - pt.log(root)).sum()

    terms = {
        "point": t4_logpdf((d["point_y"] - loc[d["point_idx"]]) / d["point_scale"])
        - pt.log(d["point_scale"]),
        "central": central_terms(
            d["central_y"], loc[d["central_idx"]], d["central_below"], d["central_above"]
        ),
        "censored": censored_terms(
            d["censored_lo"], d["censored_hi"], loc[d["censored_idx"]], d["censored_scale"]
        ),
        "rises": rises,
        # the prior of lambda in place of the parameters' standard normal
        "stretches": (0.5 * p["stretch_z"] ** 2 - 0.5 * (lam / d["st_sd"]) ** 2).sum(),
    }
    values = {
        "log_rate": log_rate,
        "log_factor": log_factor,
        "ratio": pt.exp(log_ratio),
        "bias": bias,
        "log_count": log_count,
        "claim_loc": loc,
        "bias_drift": drift,
        "rise_noise": noise * noise_factor,
    }
    return terms, values


def build_model(inputs: ModelInputs):  # -> pm.Model (pymc imported lazily)
    """The PyMC model for ``inputs`` (its data as shared variables): :func:`density`
    with its parameters as random variables. Nothing is sampled here."""
    import pytensor
    import pytensor.tensor as pt

    from casualty_models._backend import pymc
    from casualty_models.model.data import model_data
    from casualty_models.model.skeleton import DIMS, skeleton

    pm = pymc()
    data = model_data(inputs)
    sk = skeleton(inputs, data)  # names, shapes and labels, as the compiled model's
    with pm.Model(coords=sk.coords) as model:
        params = {}
        for name, shape in sk.params.items():
            if np.prod(shape) == 0:  # a part of the model these claims do not have
                params[name] = pt.zeros(shape)
            else:
                params[name] = pm.Normal(name, 0.0, 1.0, dims=DIMS[name], shape=shape)
        # shared, not constants: PyTensor's rewrites of constant arrays (an all-zero one,
        # say) can cycle for minutes, and the numbers are data, not structure
        d = {name: pytensor.shared(value, name=name) for name, value in data.items()}
        terms, values = density(params, d)
        for name, value in values.items():
            if np.prod(sk.kept[name]):  # else a part of the model these claims do not have
                pm.Deterministic(name, value, dims=DIMS[name])
        if len(data["point_idx"]):
            loc = values["claim_loc"]
            pm.StudentT(
                "obs_point",
                nu=NOISE_NU,
                mu=loc[data["point_idx"]],
                sigma=data["point_scale"],
                observed=data["point_y"],
            )
        for name in ("central", "censored"):
            if len(data[f"{name}_idx"]):
                pm.Potential(f"obs_{name}", terms[name].sum())
        if len(inputs.increments):
            pm.Potential("obs_rises", terms["rises"])
        if len(inputs.stretches):
            pm.Potential("stretch_prior", terms["stretches"])
    return model
