"""The scale benchmark's configurations and their synthetic claim sets (``bench_scale.py``).

Nine configurations, ``DAYS`` × ``CLAIMS``; each claim set is made by :func:`make_claims`
from a fixed seed, so it is the same on every run. docs/scale.md describes the
composition rule (:func:`design`) in prose, generated from the constants here.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from casualty_models.claims import Claim, ClaimSet
from casualty_models.model import prepare
from casualty_models.model.priors import Priors
from validation.simulate import SimSpeaker, prior_bias_factor, simulate_claims

DAYS = (30, 365, 1500)
CLAIMS = (50, 500, 5000)
START = dt.date(2020, 1, 1)
DATA_SEED = 20240101  # with (days, claims): each set is fixed, and independent of the others
FIT_SEED = 1
CHAINS = 2  # fit()'s default; runs on 2 cores
# fit()'s defaults: draws None = the sampler's (500 with PyMC's, 1,000 with nutpie)
DEFAULT_DRAWS: int | None = None
DEFAULT_TUNE = 500
DEFAULT_TIMEOUT = 1800.0
GRAD_CALLS = 100
WARMUP_DRAWS = 10

# --- composition of a synthetic set (see design() and docs/scale.md)
SIDES = ("A", "B")
ONE_OFF_TYPES = ("own", "enemy", "neutral", "tally", "independent")
ONE_OFF_CLAIMS = 5  # claims per one-off speaker, kinds cycling as below
ONE_OFF_KINDS = {
    "own": ("point", "point", "range", "point", "floor"),
    "enemy": ("point", "range", "point", "point", "ceiling"),
    "neutral": ("range", "point", "range", "point", "point"),
    "tally": ("floor", "point", "floor", "point", "floor"),
    "independent": ("range", "point", "range", "range", "point"),
}
TALLY_SHARE = 0.6  # of the claims, in running tallies (sets of >= TALLY_MIN_SET claims)
TALLY_MIN_SET = 500
TALLY_ORDER = (  # (source_type, side about which it reports), cycled
    ("enemy", "B"),
    ("enemy", "A"),
    ("tally", "A"),
    ("tally", "B"),
    ("own", "A"),
    ("own", "B"),
    ("neutral", "A"),
    ("neutral", "B"),
)
TALLY_DRIFT = 0.01  # log units per sqrt(day): random-walk drift of a tally's bias
TALLY_NOISE = 0.05  # marginal sd of a tally's AR(1) error (the model's running_noise)
TALLY_MEMORY = 60.0  # days: AR(1) correlation exp(-gap / memory) (the model's default)


# ------------------------------------------------------------------ synthetic claims


@dataclass(frozen=True)
class Design:
    """How a set of ``claims`` claims over ``days`` days is made up."""

    days: int
    claims: int
    one_off_speakers: int
    one_off_claims: int
    tallies: int
    claims_per_tally: int
    tally_step: int  # days between consecutive figures of a tally

    @property
    def key(self) -> str:
        return f"{self.days}x{self.claims}"


def design(days: int, claims: int) -> Design:
    """The fixed composition rule.

    Sets of ``TALLY_MIN_SET`` claims or more put about ``TALLY_SHARE`` of them in running
    tallies, daily where the budget allows (one per ``days`` claims), else one tally
    reporting every few days; the rest, and every claim of a smaller set, come from
    one-off speakers with ``ONE_OFF_CLAIMS`` claims each, cycling over source types and
    sides.
    """
    n_tallies = per_tally = step = 0
    if claims >= TALLY_MIN_SET:
        budget = TALLY_SHARE * claims
        n_tallies = max(1, round(budget / days))
        per_tally = min(days, int(budget // n_tallies))
        step = max(1, (days - 1) // (per_tally - 1))
    one_off = claims - n_tallies * per_tally
    return Design(
        days=days,
        claims=claims,
        one_off_speakers=math.ceil(one_off / ONE_OFF_CLAIMS),
        one_off_claims=one_off,
        tallies=n_tallies,
        claims_per_tally=per_tally,
        tally_step=step,
    )


def daily_rates(days: int) -> dict[str, np.ndarray]:
    """True deaths per day: a few hundred, with a slow yearly wave, out of phase by side."""
    t = np.arange(days)
    return {
        "A": 300.0 * (1 + 0.4 * np.sin(2 * np.pi * t / 365)),
        "B": 200.0 * (1 + 0.4 * np.sin(2 * np.pi * t / 365 + 1.5)),
    }


def make_claims(d: Design) -> ClaimSet:
    """The synthetic claim set of design ``d``; the same every time."""
    rng = np.random.default_rng([DATA_SEED, d.days, d.claims])
    speakers = []
    left = d.one_off_claims
    for k in range(d.one_off_speakers):
        source_type = ONE_OFF_TYPES[k % len(ONE_OFF_TYPES)]
        side = SIDES[(k // len(ONE_OFF_TYPES)) % len(SIDES)]
        n = min(ONE_OFF_CLAIMS, left)
        left -= n
        days = sorted(int(x) for x in rng.choice(np.arange(1, d.days - 1), n, replace=False))
        if k == 0:
            days[-1] = d.days - 1  # some claim on the last day: the grid spans all days
        speakers.append(
            SimSpeaker(
                source=f"{source_type}-{side}-{k:03d}",
                side=side,
                source_type=source_type,
                bias_factor=prior_bias_factor(source_type, rng),
                days=days,
                kinds=ONE_OFF_KINDS[source_type],
            )
        )
    sim = simulate_claims(speakers, daily_rate=daily_rates(d.days), start=START, rng=rng)
    claims = list(sim.claims)
    tally_days = d.days - 1 - d.tally_step * np.arange(d.claims_per_tally)[::-1]
    for r in range(d.tallies):
        source_type, side = TALLY_ORDER[r % len(TALLY_ORDER)]
        truth = sim.cumulative[(side, "killed")]
        claims += running_tally(
            f"daily-{source_type}-{side}-{r:03d}", source_type, side, tally_days, truth, rng
        )
    return ClaimSet(claims, origin=f"<synthetic {d.key}>")


def running_tally(
    source: str,
    source_type: str,
    side: str,
    days: np.ndarray,
    truth: np.ndarray,
    rng: np.random.Generator,
) -> list[Claim]:
    """A running tally's point figures on ``days``: truth × bias × drift × AR(1) error.

    ``simulate_claims`` draws independent errors around a fixed bias; a running tally's
    errors persist and its bias drifts, which is what the model assumes of it. Its
    figures are made non-decreasing, as a published cumulative tally is.
    """
    log_bias = math.log(prior_bias_factor(source_type, rng))
    drift = np.cumsum(rng.normal(0.0, TALLY_DRIFT, len(truth)))
    error, previous, peak = rng.normal(0.0, TALLY_NOISE), int(days[0]), 1.0
    out = []
    for day in (int(x) for x in days):
        rho = math.exp(-(day - previous) / TALLY_MEMORY)
        error = rho * error + math.sqrt(1 - rho**2) * TALLY_NOISE * rng.normal()
        previous = day
        figure = round(float(truth[day]) * math.exp(log_bias + drift[day] + error))
        peak = max(peak, float(figure))
        out.append(
            Claim(
                source=source,
                source_type=source_type,
                side=side,
                category="killed",
                as_of=START + dt.timedelta(days=day),
                period_start=START,
                citation="simulated running tally",
                value=peak,
            )
        )
    return out


@functools.cache
def composition(d: Design) -> dict[str, Any]:
    """What the model sees in design ``d``'s set (built here, so the table is checked)."""
    claims = make_claims(d)
    end = max(c.as_of for c in claims)
    inputs = prepare(claims, start=START, end=end, priors=Priors())
    kinds: dict[str, int] = {}
    for c in claims:
        if not c.citation.endswith("running tally"):
            kinds[c.kind] = kinds.get(c.kind, 0) + 1
    assert len(claims) == d.claims and inputs.grid.n_days == d.days
    assert len(inputs.running) == d.tallies, (d, inputs.running)
    return {
        "speakers": len(claims.speakers),
        "running": len(inputs.running),
        "knots": len(inputs.grid.knots),
        "knot_days": inputs.grid.knot_days,
        "kinds": kinds,
        "fingerprint": claims.fingerprint,
    }
