"""Priors: how biased and how noisy each kind of source is, and the latent curve's priors.

All bias numbers are on the natural-log scale of the multiplicative factor between what a
source says and the truth: ``log(claim) = log(true count) + bias + noise``. A bias of
``log(0.4)`` means the source reports 40% of the true count.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np
from scipy import stats

from casualty_models.claims import SOURCE_TYPES
from casualty_models.model.categories import DEFAULT_RATIO_PRIORS

DEFAULT_LEVEL = 0.9
"""The default credible level, used by every summary, plot and report."""

SUMMARY_LEVELS: tuple[float, ...] = (0.5, DEFAULT_LEVEL)
"""Interval levels reported side by side in summaries."""


CAP_SHARPNESS = 2.0
"""Sharpness of a capped bias's bend, per prior sd: at 2 the default tally prior's 90%
interval (×0.18–×0.91) is close to that of a normal truncated at the cap (×0.18–×0.89)."""


@dataclass(frozen=True)
class SoftCappedNormal:
    """``upper - softplus(k (upper - x)) / k`` with ``x ~ Normal(mu, sigma)``,
    ``k = CAP_SHARPNESS / sigma``: a log bias that never reaches ``upper``.

    The map from ``x`` is increasing, so quantiles map through it exactly. Offers the
    methods of a frozen scipy distribution that the package uses.
    """

    mu: float
    sigma: float
    upper: float

    @property
    def k(self) -> float:
        return CAP_SHARPNESS / self.sigma

    def transform(self, x: Any) -> Any:
        """The capped value of the normal ``x`` (numpy)."""
        return self.upper - np.logaddexp(0.0, self.k * (self.upper - np.asarray(x))) / self.k

    def _inverse(self, b: Any) -> tuple[np.ndarray, np.ndarray]:
        """(x, log dx/db) for capped values ``b`` < upper."""
        kd = self.k * (self.upper - np.asarray(b, dtype=float))
        log_1m = np.log(-np.expm1(-kd))  # log(1 - e^-kd), stable for small and large kd
        return self.upper - (kd + log_1m) / self.k, -log_1m

    def logpdf(self, b: Any) -> np.ndarray:
        b = np.asarray(b, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            x, log_jac = self._inverse(np.minimum(b, self.upper - 1e-300))
            out = stats.norm.logpdf(x, self.mu, self.sigma) + log_jac
        return np.where(b < self.upper, out, -np.inf)

    def ppf(self, q: Any) -> Any:
        return self.transform(stats.norm.ppf(q, self.mu, self.sigma))

    def median(self) -> float:
        return float(self.transform(self.mu))

    def rvs(self, size: Any = None, random_state: Any = None) -> Any:
        x = stats.norm.rvs(self.mu, self.sigma, size=size, random_state=random_state)
        return self.transform(x)

    def _moments(self) -> tuple[float, float]:
        """(mean, sd) by Gauss-Hermite quadrature over the normal (exact to ~1e-10)."""
        nodes, weights = np.polynomial.hermite_e.hermegauss(80)
        values = self.transform(self.mu + self.sigma * nodes)
        weights = weights / weights.sum()
        mean = float(weights @ values)
        return mean, float(np.sqrt(weights @ (values - mean) ** 2))

    def mean(self) -> float:
        return self._moments()[0]

    def std(self) -> float:
        return self._moments()[1]


@dataclass(frozen=True)
class SourcePrior:
    """Prior for one speaker's bias and the noise of each of its claims.

    On the log scale, bias = ``bias_mu`` + group offset + own deviation. The group
    offset, Normal(0, ``group_sigma``), is shared by every speaker of this source type
    about the same side (all neutral governments about Russian losses, say): sources
    that share intelligence or incentives share errors, so averaging many of them does
    not average their common bias away. The own deviation is Normal(0, ``bias_sigma``),
    softly capped so the total stays below ``bias_upper`` when given (``0.0``: the source
    can only undercount, as a documented tally; only with ``group_sigma == 0``): the
    capped bias is ``upper - softplus(k (upper - x)) / k`` of the normal ``x``, with
    ``k = CAP_SHARPNESS / bias_sigma``, which follows ``x`` well below the cap and bends
    smoothly under it (a hard truncation gives the sampler a long thin tail). Each claim
    then deviates from ``true × exp(bias)`` by Student-t noise with scale
    ``noise_sigma`` (fixed: it cannot be learned from a handful of claims).
    """

    bias_mu: float
    bias_sigma: float
    noise_sigma: float
    bias_upper: float | None = None
    group_sigma: float = 0.0

    def __post_init__(self) -> None:
        bad = []
        if not math.isfinite(self.bias_mu):
            bad.append(f"bias_mu must be finite, got {self.bias_mu}")
        if not self.bias_sigma >= 0:
            bad.append(f"bias_sigma must be >= 0 (0: a fixed bias), got {self.bias_sigma}")
        if not self.group_sigma >= 0:
            bad.append(f"group_sigma must be >= 0, got {self.group_sigma}")
        if not self.noise_sigma > 0:
            bad.append(f"noise_sigma must be > 0, got {self.noise_sigma}")
        if self.bias_upper is not None and not math.isfinite(self.bias_upper):
            bad.append(f"bias_upper must be finite or None, got {self.bias_upper}")
        if self.bias_upper is not None and self.group_sigma > 0:
            bad.append("a capped bias (bias_upper) cannot have a group offset (group_sigma)")
        if bad:
            raise ValueError("; ".join(bad))

    @classmethod
    def from_factor(
        cls,
        factor: float,
        *,
        spread: float,
        noise: float,
        max_factor: float | None = None,
        shared: float = 0.0,
    ) -> SourcePrior:
        """Build from a median factor (e.g. ``0.4`` = reports 40% of the truth).

        ``spread`` (one source's own deviation), ``shared`` (the offset common to its
        group) and ``noise`` are log-scale standard deviations; ``max_factor`` caps the
        factor (``1.0`` for a source that can only undercount).
        """
        upper = None if max_factor is None else math.log(max_factor)
        return cls(math.log(factor), spread, noise, upper, shared)

    @property
    def fixed(self) -> bool:
        """True when the bias is a constant, as for anchors."""
        return self.bias_sigma == 0 and self.group_sigma == 0

    def log_dist(self) -> Any:
        """The prior of one speaker's log bias factor: a frozen scipy distribution, or a
        :class:`SoftCappedNormal` (same methods) for a capped bias."""
        if self.fixed:
            raise ValueError("a fixed bias (bias_sigma=0) has no distribution")
        if self.bias_upper is None:
            return stats.norm(self.bias_mu, math.hypot(self.bias_sigma, self.group_sigma))
        return SoftCappedNormal(self.bias_mu, self.bias_sigma, self.bias_upper)

    @property
    def log_sd(self) -> float:
        """Prior standard deviation of the log factor (after truncation)."""
        return 0.0 if self.fixed else float(self.log_dist().std())

    def factor_interval(self, level: float = DEFAULT_LEVEL) -> tuple[float, float, float]:
        """Prior (low, median, high) of the bias factor at ``level``."""
        if self.fixed:
            return (math.exp(self.bias_mu),) * 3
        tail = (1 - level) / 2
        lo, med, hi = self.log_dist().ppf([tail, 0.5, 1 - tail])
        return (math.exp(lo), math.exp(med), math.exp(hi))


# Defaults, argued in docs/model.md. Chosen to be generic across events, not tuned to any
# one war: a side reports about 40% of its own dead (90%: 0.11-1.5x), about 2.5x the
# enemy's (0.69-9.1x); third parties are unbiased but uncertain (0.50-2.0x); named-person
# tallies catch about half (never more than all); independent statistical estimates are
# close to unbiased; a known count (an anchor the user pins) is the truth within 1%.
# Total log-sd = hypot(spread, shared); the shared part is common to a group.
DEFAULT_SOURCE_PRIORS: Mapping[str, SourcePrior] = MappingProxyType(
    {
        "own": SourcePrior.from_factor(0.4, spread=0.6, shared=0.5, noise=0.2),
        "enemy": SourcePrior.from_factor(2.5, spread=0.6, shared=0.5, noise=0.2),
        "neutral": SourcePrior.from_factor(1.0, spread=0.3, shared=0.3, noise=0.2),
        "tally": SourcePrior.from_factor(0.5, spread=0.6, noise=0.05, max_factor=1.0),
        "independent": SourcePrior.from_factor(1.0, spread=0.15, shared=0.2, noise=0.1),
        "known": SourcePrior(0.0, 0.0, 0.01),
    }
)
"""The bias prior of each source type (:data:`casualty_models.SOURCE_TYPES`): the median
factor a source of that type reports (×0.4: own side, ×2.5: enemy, ×1: neutral and
independent, ×0.5 at most ×1: tallies, exactly ×1: known), its spread on the log scale,
the share common to the type, and the claims' noise (see docs/model.md)."""


MAX_KNOTS = 60
"""Default cap on knots per curve: beyond it the knots spread out (a 4-year war gets
monthly knots), which keeps long fits fast without changing short ones."""


@dataclass(frozen=True)
class Priors:
    """All prior settings of the model; pass to :func:`casualty_models.fit`.

    ``source_types`` overrides the defaults per source type; ``sources`` overrides per
    source name (all sides) or per ``"source|side"`` key (one speaker). Unknown types or
    misspelt keys are rejected when fitting, never ignored.

    The latent daily death rate of each series follows a Gaussian random walk on the log
    scale, pinned every ``knot_days`` days (None: weekly, or wider so that a curve has
    at most :data:`MAX_KNOTS` knots), with ``rate_volatility`` log units of change
    per square-root day. ``level_mu`` centres the log daily rate at the start (None:
    taken from the claims, see docs), with standard deviation ``level_sigma``.

    ``ratios`` overrides the (median, log-sd) priors of the per-side ratios to killed
    that link categories (see :mod:`casualty_models.model.categories`); ``link_categories``
    turns the linking off (every category its own curve).

    A **running tally** is one speaker's figures of one series on at least
    ``running_min_claims`` dates (a daily or weekly series; see
    :mod:`casualty_models.model.tallies`). Its bias may drift over time as a random walk with
    ``bias_drift`` log units per square-root day. Its later figures enter through their
    rises, with a relative error for a one-day rise that each tally learns (prior median
    ``running_noise``, log-sd ``running_noise_sd``: a clean daily count and a label that
    mixes outlets differ several-fold), less over more days, AR(1)-correlated with memory
    ``running_memory`` days, plus ``running_level_noise``
    of the level for each of the two figures: its errors are persistent, so hundreds of
    its figures count as roughly one witness per stretch of time. A figure more than
    ``spike_factor`` times above (or below) both its neighbours is a spike, left out; a
    chain with more spikes and falls than ``coarse_share`` of its dates is read as
    separate claims (``inf`` turns either rule off).
    """

    source_types: Mapping[str, SourcePrior] = field(default_factory=dict)
    sources: Mapping[str, SourcePrior] = field(default_factory=dict)
    level_mu: float | None = None
    level_sigma: float = 2.0
    rate_volatility: float = 0.1
    knot_days: int | None = None
    ratios: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    link_categories: bool = True
    running_min_claims: int = 20
    bias_drift: float = 0.01
    running_noise: float = 0.3
    running_noise_sd: float = 0.7
    running_memory: float = 7.0
    running_level_noise: float = 0.002
    spike_factor: float = 1.25
    coarse_share: float = 0.1

    def __post_init__(self) -> None:
        bad = [t for t in self.source_types if t not in SOURCE_TYPES]
        if bad:
            raise ValueError(f"unknown source types {bad}; known: {', '.join(SOURCE_TYPES)}")
        for name, value in (*self.source_types.items(), *self.sources.items()):
            if not isinstance(value, SourcePrior):
                raise TypeError(f"prior for {name!r} must be a SourcePrior, got {type(value)}")
        positive = (
            "level_sigma",
            "rate_volatility",
            "bias_drift",
            "running_noise",
            "running_noise_sd",
            "running_memory",
            "running_level_noise",
        )
        bad_values = [n for n in positive if not getattr(self, n) > 0]
        if bad_values:
            raise ValueError(f"{', '.join(bad_values)} must be > 0")
        if not self.spike_factor > 1:
            raise ValueError(f"spike_factor must be > 1 (inf: no spikes), got {self.spike_factor}")
        if not self.coarse_share > 0:
            raise ValueError(f"coarse_share must be > 0 (inf: never), got {self.coarse_share}")
        if not (isinstance(self.running_min_claims, int) and self.running_min_claims >= 2):
            raise ValueError(
                f"running_min_claims must be an integer >= 2, got {self.running_min_claims!r}"
            )
        bad_ratios = [k for k in self.ratios if k not in DEFAULT_RATIO_PRIORS]
        if bad_ratios:
            raise ValueError(
                f"unknown ratios {bad_ratios}; known: {', '.join(DEFAULT_RATIO_PRIORS)}"
            )
        for name, (median, sd) in self.ratios.items():
            if not (median > 0 and sd > 0):
                raise ValueError(f"ratio prior {name!r} needs median > 0 and sd > 0")
        if self.knot_days is not None and not (
            isinstance(self.knot_days, int) and self.knot_days >= 1
        ):
            raise ValueError(f"knot_days must be a positive integer, got {self.knot_days!r}")
        # frozen: store read-only copies so a caller's dict cannot change a fitted model
        # every type spelled out, so equal settings compare equal however they were built
        full = {**DEFAULT_SOURCE_PRIORS, **self.source_types}
        object.__setattr__(self, "source_types", MappingProxyType(full))
        object.__setattr__(self, "sources", MappingProxyType(dict(self.sources)))
        ratios = {
            k: (float(m), float(s)) for k, (m, s) in {**DEFAULT_RATIO_PRIORS, **self.ratios}.items()
        }
        object.__setattr__(self, "ratios", MappingProxyType(ratios))

    def knot_spacing(self, n_days: int) -> int:
        """Days between knots for a grid of ``n_days`` days."""
        if self.knot_days is not None:
            return self.knot_days
        return max(7, -(-n_days // MAX_KNOTS))

    def for_type(self, source_type: str) -> SourcePrior:
        """The prior used for a speaker of ``source_type`` with no per-source override."""
        return self.source_types[source_type]

    def for_speaker(self, source: str, side: str, source_type: str) -> SourcePrior:
        """The prior for one speaker: ``source|side`` override, then ``source``, then type."""
        for key in (f"{source}|{side}", source):
            if key in self.sources:
                return self.sources[key]
        return self.for_type(source_type)

    def check_keys(self, speakers: list[tuple[str, str]]) -> None:
        """Raise if a per-source override names no speaker in the claims."""
        known = {s for s, _ in speakers} | {f"{s}|{d}" for s, d in speakers}
        unknown = sorted(k for k in self.sources if k not in known)
        if unknown:
            raise ValueError(
                f"priors.sources has keys matching no claim: {unknown}; "
                f"known sources: {sorted({s for s, _ in speakers})}"
            )

    def with_source_type(self, source_type: str, **changes: Any) -> Priors:
        """A copy with one source type's prior changed, e.g. ``bias_sigma=1.2``."""
        new = replace(self.for_type(source_type), **changes)
        return replace(self, source_types={**self.source_types, source_type: new})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings, with every source type's effective prior spelled out."""
        return {
            "source_types": {t: asdict(p) for t, p in self.source_types.items()},
            "sources": {k: asdict(v) for k, v in self.sources.items()},
            "level_mu": self.level_mu,
            "level_sigma": self.level_sigma,
            "rate_volatility": self.rate_volatility,
            "knot_days": self.knot_days,
            "ratios": {k: list(v) for k, v in self.ratios.items()},
            "link_categories": self.link_categories,
            "running_min_claims": self.running_min_claims,
            "bias_drift": self.bias_drift,
            "running_noise": self.running_noise,
            "running_noise_sd": self.running_noise_sd,
            "running_memory": self.running_memory,
            "running_level_noise": self.running_level_noise,
            "spike_factor": self.spike_factor,
            "coarse_share": self.coarse_share,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Priors:
        """Inverse of :meth:`to_dict`."""
        data = dict(data)
        types = {k: SourcePrior(**v) for k, v in data.pop("source_types", {}).items()}
        sources = {k: SourcePrior(**v) for k, v in data.pop("sources", {}).items()}
        ratios = {k: (float(m), float(s)) for k, (m, s) in data.pop("ratios", {}).items()}
        return cls(source_types=types, sources=sources, ratios=ratios, **data)
