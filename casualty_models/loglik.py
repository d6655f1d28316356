"""The claims' log-likelihood at posterior draws: the numpy mirror of the graph's terms.

:mod:`casualty_models.model.graph` defines the likelihood once, in PyTensor; this module
evaluates the same terms with numpy at the draws an :class:`~casualty_models.estimate.Estimate`
stores (``claim_loc``, ``log_count``, the cumulative curves, ``rise_noise``), so that
the posterior can be reweighted as if a claim had not been given
(:mod:`casualty_models.compare`). ``tests/test_loglik.py`` checks every term against
the compiled PyMC model.

* a point figure (and a range with a stated probability, observed at its midpoint):
  Student-t(4) on the log scale around ``claim_loc`` with scale
  ``sqrt(claim_noise² + claim_extra_sigma²)``;
* a range, floor or ceiling: the t(4) probability of the stated interval (a missing end
  is a far finite one, as in the graph);
* a central estimate: the two-piece t(4) of :func:`~casualty_models.model.graph.central_logp`;
* a running tally's later figures: its rises, whose errors are AR(1) with heavy-tailed
  innovations (:func:`~casualty_models.model.graph.rises_logp`). One term per rise, but
  consecutive rises share their errors, so a rise's term is not the evidence of its
  figure alone: the evidence of a tally figure is the tally's whole rise likelihood with
  it minus without it (:func:`total_loglik` of the claims without it, read afresh).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from casualty_models.model import KIND_CODES, NOISE_NU, RISE_T_SCALE, central_sides, rise_scale
from casualty_models.model.inputs import FAR_LOG, ModelInputs

if TYPE_CHECKING:
    from casualty_models.estimate import Estimate

_LOG_T4_NORM = math.log(3 / 8)  # log density of the standard t(4) at 0


def t4_logpdf(z: np.ndarray) -> np.ndarray:
    """log density of the standard Student-t with 4 degrees of freedom."""
    return _LOG_T4_NORM - 2.5 * np.log1p(np.square(z) / NOISE_NU)


def _log1mexp(x: np.ndarray) -> np.ndarray:
    """log(1 − exp(x)) for x ≤ 0, accurate at both ends."""
    with np.errstate(divide="ignore"):
        return np.where(x > -math.log(2), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def t4_logcdf(z: np.ndarray) -> np.ndarray:
    """log cdf of the standard t(4): the closed form of the graph's ``t4_logcdf``."""
    z = np.asarray(z, dtype=float)
    a = np.abs(z)
    s = np.sqrt(4.0 + z * z)
    lower = math.log(0.25) + 2.0 * np.log(4.0 / (s * (s + a))) + np.log(2.0 + a / s)
    return np.where(z <= 0, lower, _log1mexp(lower))


def _logdiffexp(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(exp(a) − exp(b)) for a ≥ b."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return a + _log1mexp(np.minimum(b - a, 0.0))


@dataclass(frozen=True)
class Draws:
    """Posterior draws the likelihood needs, flattened to (sample, ...), for one set of
    model inputs.

    ``loc`` and ``log_count`` are per claim of those inputs; ``cumulative`` is the
    estimate's (sample, series, day) array of cumulative counts (category factor
    included), of which ``series`` picks each input series' row; ``rise_noise`` is per
    running tally of those inputs.
    """

    loc: np.ndarray
    log_count: np.ndarray
    cumulative: np.ndarray
    series: np.ndarray
    rise_noise: np.ndarray
    log_rate: np.ndarray  # (sample, curve, knot), the estimate's curves
    curves: np.ndarray  # (curve of the inputs,) -> row of log_rate

    @classmethod
    def of(cls, estimate: Estimate) -> Draws:
        """The draws of ``estimate`` for its own inputs."""
        post = estimate.idata.posterior
        inp = estimate.inputs

        def flat(name: str) -> np.ndarray:
            a = np.asarray(post[name], dtype=float)
            return a.reshape(-1, *a.shape[2:])

        cum = np.asarray(estimate.cumulative_draws)
        n_running = len(inp.running)
        return cls(
            loc=flat("claim_loc"),
            log_count=flat("log_count"),
            cumulative=cum.reshape(-1, *cum.shape[2:]),
            series=np.arange(len(inp.series)),
            rise_noise=flat("rise_noise") if n_running else np.zeros((1, 0)),
            log_rate=flat("log_rate"),
            curves=np.arange(len(inp.plan.bases)),
        )

    @property
    def n_samples(self) -> int:
        return int(self.loc.shape[0])


def claim_loglik(inputs: ModelInputs, loc: np.ndarray) -> np.ndarray:
    """(sample, claim) log-likelihood of each claim that has a term of its own (0 for a
    running tally's later figures, spikes, restatements and echoes): point, censored
    (range, floor, ceiling) and central terms, exactly as the graph has them."""
    out = np.zeros_like(loc)
    kind, observed = inputs.claim_kind, inputs.claim_observed
    scale = np.sqrt(inputs.claim_noise**2 + inputs.claim_extra_sigma**2)
    point = np.flatnonzero((kind == KIND_CODES["point"]) & observed)
    if len(point):
        z = (inputs.claim_log_value[point] - loc[:, point]) / scale[point]
        out[:, point] = t4_logpdf(z) - np.log(scale[point])
    central = np.flatnonzero((kind == KIND_CODES["central"]) & observed)
    if len(central):
        below, above = central_sides(inputs, central)
        y = inputs.claim_log_value[central]
        side = np.where(y > loc[:, central], below, above)
        z = (y - loc[:, central]) / side
        out[:, central] = t4_logpdf(z) + np.log(2 / (below + above))
    codes = [KIND_CODES[k] for k in ("range", "floor", "ceiling")]
    censored = np.flatnonzero(np.isin(kind, codes) & observed)
    if len(censored):
        s = scale[censored]
        z_lo = (np.clip(inputs.claim_log_low[censored], -FAR_LOG, FAR_LOG) - loc[:, censored]) / s
        z_hi = (np.clip(inputs.claim_log_high[censored], -FAR_LOG, FAR_LOG) - loc[:, censored]) / s
        out[:, censored] = np.where(
            z_lo >= 0,
            _logdiffexp(t4_logcdf(-z_lo), t4_logcdf(-z_hi)),
            _logdiffexp(t4_logcdf(z_hi), t4_logcdf(z_lo)),
        )
    return out


def rise_loglik(inputs: ModelInputs, draws: Draws) -> np.ndarray:
    """(sample, rise) the term of each running-tally rise in the graph's rise likelihood.

    The terms add up to the graph's ``obs_rises``; a term depends on the rise before it
    (the errors are AR(1)), so removing one figure changes its neighbours' terms too.
    """
    inc = inputs.increments
    if not len(inc):
        return np.zeros((draws.n_samples, 0))
    series = draws.series[inputs.claim_series[inc.claim]]
    cum = draws.cumulative
    rise = cum[:, series, inc.last_day] - cum[:, series, inc.first_day - 1]
    # the curve's rise (category factor included) times the speaker's bias and drift
    mean = rise * np.exp(draws.loc[:, inc.claim] - draws.log_count[:, inc.claim])
    noise_factor = draws.rise_noise / inputs.priors.running_noise  # (sample, running)
    rate_sd = inc.rate_sd * noise_factor[:, inputs.rise_tally]
    scale = rise_scale(mean, inc.level, rate_sd, inputs.priors.running_level_noise)
    u = (inc.value - mean) / scale
    root = np.sqrt(1 - inc.rho**2)
    innovation = (u - inc.rho * u[:, np.maximum(inc.prev, 0)]) / (root * RISE_T_SCALE)
    out: np.ndarray = t4_logpdf(innovation) - np.log(scale) - np.log(root * RISE_T_SCALE)
    return out


def total_loglik(inputs: ModelInputs, draws: Draws) -> np.ndarray:
    """(sample,) the whole data log-likelihood of ``inputs`` at ``draws``."""
    total: np.ndarray = claim_loglik(inputs, draws.loc).sum(axis=1)
    return total + rise_loglik(inputs, draws).sum(axis=1)


def level_logprior(inputs: ModelInputs, draws: Draws) -> np.ndarray:
    """(sample,) the part of the curves' prior that depends on the claims.

    Each curve's log daily rate at its anchor knot is Normal(``level_mu``,
    ``level_sigma``), and both the centre (the claims' median rate) and the anchor (the
    knot nearest its last claim) follow from the claims; the walk's steps do not.
    """
    sigma = inputs.priors.level_sigma
    rows = draws.curves
    level = draws.log_rate[:, rows, inputs.anchor_knot]  # (sample, curve)
    z = (level - inputs.level_mu) / sigma
    out: np.ndarray = (-0.5 * z**2).sum(axis=1)
    return out


__all__ = [
    "Draws",
    "claim_loglik",
    "level_logprior",
    "rise_loglik",
    "t4_logcdf",
    "t4_logpdf",
    "total_loglik",
]
