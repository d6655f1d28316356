"""Helpers shared by the plot tests (a plain module: tests/conftest.py keeps the fixtures)."""

from __future__ import annotations

import dataclasses

import casualty_models as cm


def with_claims(est, change):
    """The same fit with claim text/values changed (same count and order): cheap, no refit."""
    claims = cm.ClaimSet(
        [cm.Claim(**{**c.__dict__, **change(i, c)}) for i, c in enumerate(est.claims)]
    )
    return dataclasses.replace(est, claims=claims)


def fake_estimate(claims, *, start, as_of, rates, seed=0, drift_sd=0.25, version=None):
    """An Estimate from a made-up posterior shaped like a real one (no sampling).

    Each latent curve's log daily rate is ``log(rates[(side, category)])`` plus a little
    noise up to its last claim, then a random walk of ``drift_sd`` per knot: the
    interval widens once claims stop, as a fit's does. Claims sit on their own value.
    ``version`` (default: the package's) is the version that "fitted" it.
    """
    import arviz as az
    import numpy as np

    from casualty_models.estimate import Estimate, FitSettings
    from casualty_models.model import KIND_CODES, prepare

    settings = FitSettings(start=start, end=as_of, as_of=as_of)
    inp = prepare(claims, start=start, end=as_of, priors=settings.priors)
    rng = np.random.default_rng(seed)
    shape = (2, 400)
    knots = inp.grid.knots
    base = np.array(inp.plan.series_base)
    last = np.zeros(len(inp.plan.bases), dtype=int)
    np.maximum.at(last, base[inp.claim_series], inp.claim_last_day)
    log_rate = np.empty((*shape, len(inp.plan.bases), len(knots)))
    for b, key in enumerate(inp.plan.bases):
        level = np.log(rates[key]) + 0.08 * rng.normal(size=(*shape, len(knots)))
        after = knots > last[b]
        steps = drift_sd * rng.normal(size=(*shape, len(knots))) * after
        log_rate[:, :, b, :] = level + np.cumsum(steps, axis=-1)
    # each claim's log figure: its value, a range's midpoint, or its one bound
    low = np.where(np.isfinite(inp.claim_log_low), inp.claim_log_low, inp.claim_log_high)
    high = np.where(np.isfinite(inp.claim_log_high), inp.claim_log_high, low)
    valued = np.isin(inp.claim_kind, [KIND_CODES["point"], KIND_CODES["central"]])
    centre = np.where(valued, inp.claim_log_value, (low + high) / 2)
    n_claims = len(claims)
    posterior = {
        "log_rate": log_rate,
        "log_factor": np.zeros((*shape, len(inp.series))),
        "bias": rng.normal(scale=0.1, size=(*shape, len(inp.speakers))),
        "log_count": centre + 0.1 * rng.normal(size=(*shape, n_claims)),
        "claim_loc": centre + 0.05 * rng.normal(size=(*shape, n_claims)),
    }
    idata = az.from_dict(
        posterior=posterior,
        sample_stats={"diverging": np.zeros(shape, bool), "tree_depth": np.ones(shape)},
        coords={"series": [f"{s}|{c}" for s, c in inp.series]},
        dims={"log_factor": ["series"]},
    )
    est = Estimate(claims=claims, settings=settings, idata=idata)
    return est if version is None else dataclasses.replace(est, version=version)


def panels_claims():
    """Two sides' killed counts, one side's claims stopping three weeks before as_of."""
    import datetime as dt

    def c(source, source_type, side, day, **figure):
        return cm.Claim(
            source=source,
            source_type=source_type,
            side=side,
            category=figure.pop("category", "killed"),
            as_of=dt.date(2022, 3, 1) + dt.timedelta(days=day),
            citation="made up for a test",
            **figure,
        )

    return cm.ClaimSet(
        [
            c("Ministry A", "own", "north", 4, value=480),
            c("Ministry B", "enemy", "north", 9, value=2100),
            c("Monitor", "neutral", "north", 14, low=700, high=1300),
            c("Ministry A", "own", "north", 24, value=1150),
            c("Named dead", "tally", "north", 30, low=1100),
            c("Institute", "independent", "north", 38, value=1900, low=1400, high=2600),
            c("Ministry A", "own", "south", 3, value=300),
            c("Ministry B", "enemy", "south", 6, high=1500),
            c("Monitor", "neutral", "south", 12, low=500, high=900),
            c("Registry", "known", "south", 18, value=760),
            c("Ministry B", "enemy", "south", 20, value=40, period_start="2022-03-15"),
        ]
    )
