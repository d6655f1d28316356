"""Simulated claims from a known truth: for recovery tests and calibration studies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from casualty_models.claims import Claim, ClaimSet
from casualty_models.model import NOISE_NU
from casualty_models.model.priors import DEFAULT_SOURCE_PRIORS, Priors


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
class Simulation:
    """Simulated claims and the truth they came from."""

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
) -> Simulation:
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
    return Simulation(ClaimSet(claims, origin="<simulated>"), start, cumulative, bias)


def prior_bias_factor(source_type: str, rng: np.random.Generator) -> float:
    """One draw of a bias factor from the default prior of ``source_type``."""
    return float(np.exp(DEFAULT_SOURCE_PRIORS[source_type].log_dist().rvs(random_state=rng)))
