"""fit(): sample the model for a claim set and return an :class:`Estimate`.

Sampler choice (PyMC's NUTS or nutpie) and the continuation when a run fails its checks
live here; the Estimate it returns knows nothing of how it was sampled beyond its
settings and the attempts recorded on its InferenceData.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import time
import warnings
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from casualty_models.claims import ClaimSet, parse_date
from casualty_models.diagnostics import (
    R_HAT_MAX,
    ConvergenceWarning,
    Diagnostics,
    ModelCheckWarning,
    draws_needed,
)
from casualty_models.estimate import MAX_TREE_DEPTH, Estimate, FitSettings
from casualty_models.model import ModelInputs, build_model, prepare
from casualty_models.model.priors import Priors
from casualty_models.readers import read_claims

if TYPE_CHECKING:
    import arviz as az

SAMPLERS = ("auto", "pymc", "nutpie")
# Every claim ties a curve's level to its speaker's bias, a correlation a diagonal mass
# matrix cannot absorb. Small models: PyMC's NUTS with a dense mass matrix, whose compiled
# C code is cached across runs. Larger ones (running tallies, years of knots): nutpie's
# low-rank mass matrix, which adapts where PyMC's dense adaptation stalled (one chain
# at step size 0.001 on the bundled war data; R-hat 1.09-1.36 on synthetic sets of
# 120-140 parameters, where nutpie reached 1.003-1.008) and costs O(d) per step.
NUTPIE_MIN_PARAMS = 100


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def fit(
    claims: ClaimSet | Any,
    *,
    as_of: dt.date | str | None = None,
    start: dt.date | str | None = None,
    as_reported_on: dt.date | str | None = None,
    priors: Priors | None = None,
    draws: int = 1500,
    tune: int = 1000,
    chains: int = 2,
    cores: int | None = None,
    target_accept: float = 0.8,
    random_seed: int | None = None,
    sampler: str = "auto",
    max_attempts: int = 3,
    progressbar: bool = False,
) -> Estimate:
    """Fit the model to ``claims`` and return a new :class:`Estimate`.

    ``as_of`` is the date of the headline estimate (default: the latest claim's
    ``as_of``); the daily grid runs from ``start`` (default: the earliest
    ``period_start`` among the claims) to the later of ``as_of`` and the latest claim.
    ``as_reported_on`` keeps only the claims published by that date (a vintage: what
    could have been known then) and makes it the default ``as_of``; a later ``as_of``
    extends the estimate past the last claim, with intervals that widen.
    ``random_seed`` fixes every random number; when None a seed is drawn and recorded in
    ``estimate.settings`` so the fit can be repeated exactly. ``cores`` (default
    ``min(chains, 2)``) does not change the numbers, only the wall time. ``sampler``:
    "pymc" (NUTS, dense mass matrix), "nutpie" (NUTS, low-rank mass matrix) or "auto"
    (PyMC below :data:`NUTPIE_MIN_PARAMS` parameters, else nutpie).

    When the sampler's checks fail (R-hat, ESS, divergences), ``fit`` continues on its
    own, up to ``max_attempts`` runs in all (1: never): more draws when only the ESS is
    short, else longer tuning, a higher ``target_accept`` after divergences, and then
    the other sampler; the best run is kept and every run is listed in
    :attr:`Estimate.attempts`. The continuation is seeded from ``random_seed``, so a fit
    stays exactly repeatable. Each run costs at most about twice the first.
    """
    claims = read_claims(claims)
    if len(claims) == 0:
        raise ValueError("no claims to fit")
    priors = Priors() if priors is None else priors
    if not isinstance(priors, Priors):
        raise TypeError(f"priors must be a casualty_models.Priors, got {type(priors).__name__}")
    draws, tune, chains, max_attempts = (
        _positive_int(n, v)
        for n, v in (
            ("draws", draws),
            ("tune", tune),
            ("chains", chains),
            ("max_attempts", max_attempts),
        )
    )
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {', '.join(SAMPLERS)}, got {sampler!r}")
    if not 0.5 <= target_accept < 1:
        raise ValueError(f"target_accept must be in [0.5, 1), got {target_accept}")
    cores = min(chains, 2) if cores is None else _positive_int("cores", cores)
    if random_seed is None:
        random_seed = secrets.randbits(31)
    elif (
        isinstance(random_seed, bool)
        or not isinstance(random_seed, int | np.integer)
        or random_seed < 0
    ):
        raise ValueError(f"random_seed must be a non-negative integer, got {random_seed!r}")

    starts = [c.period_start for c in claims if c.period_start is not None]
    if start is not None:
        start_date = parse_date(start)
    elif starts:
        start_date = min(starts)
    else:
        raise ValueError(
            "no start date: give fit(..., start='YYYY-MM-DD') (the day counting began, "
            "e.g. the first day of the war), or set period_start on the claims"
        )
    vintage = None
    if as_reported_on is not None:
        vintage = parse_date(as_reported_on)
        claims = claims.filter(reported_by=vintage)
        if len(claims) == 0:
            raise ValueError(f"no claims were published by {vintage} (as_reported_on)")
    last_claim = max(c.end() or c.as_of for c in claims)
    default_as_of = last_claim if vintage is None else max(vintage, last_claim)
    as_of_date = default_as_of if as_of is None else parse_date(as_of)
    if as_of_date < start_date:
        raise ValueError(f"as_of {as_of_date} is before start {start_date}")
    settings = FitSettings(
        start=start_date,
        end=max(as_of_date, last_claim),
        as_of=as_of_date,
        as_reported_on=vintage,
        draws=draws,
        tune=tune,
        chains=chains,
        target_accept=float(target_accept),
        random_seed=int(random_seed),
        priors=priors,
        sampler=sampler,
        max_attempts=max_attempts,
    )
    inputs = prepare(claims, start=settings.start, end=settings.end, priors=priors)
    est = _sample_until_converged(claims, inputs, settings, cores=cores, progressbar=progressbar)
    d = est.diagnostics
    if not d.converged:
        tried = "; ".join(f"{a['reason']} ({a['sampler']})" for a in est.attempts)
        warnings.warn(
            "; ".join(d.sampler_problems())
            + f". Runs tried: {tried}. Remedies: "
            + "; ".join(r for r in d.remedies() if "claims_check() (surprising" not in r),
            ConvergenceWarning,
            stacklevel=2,
        )
    if not d.model_ok:
        warnings.warn(
            "; ".join(d.model_problems()) + ". Remedy: " + d.remedies()[-1],
            ModelCheckWarning,
            stacklevel=2,
        )
    return est


@dataclass(frozen=True)
class Attempt:
    """One sampler run of :func:`fit`: its settings, and why it was run."""

    sampler: str
    draws: int
    tune: int
    target_accept: float
    random_seed: int
    reason: str = "first run"


def _next_attempt(prev: Attempt, d: Diagnostics, k: int, settings: FitSettings) -> Attempt:
    """The ``k``-th continuation (1, 2, ...) after a run whose sampler checks failed.

    Short ESS alone: the same run with the draws the ESS asks for (at most 4x).
    Otherwise (R-hat, divergences): twice the tuning and draws and, after divergences,
    a higher target_accept; from the second continuation on, the other sampler too.
    Every run costs at most about twice the first, so a fit is at most 5x the work of
    its first run with the default three attempts.
    """
    seed = int(np.random.SeedSequence([settings.random_seed, k]).generate_state(1)[0] >> 1)
    if d.divergences == 0 and d.r_hat_max <= R_HAT_MAX:
        draws = min(max(draws_needed(d), prev.draws), 4 * settings.draws)
        return replace(prev, draws=draws, random_seed=seed, reason="ESS below 400: more draws")
    other = {"pymc": "nutpie", "nutpie": "pymc"}[prev.sampler] if k >= 2 else prev.sampler
    target = max(prev.target_accept, 0.95) if d.divergences else prev.target_accept
    why = "divergent transitions" if d.divergences else f"R-hat {d.r_hat_max:.3f}"
    return Attempt(
        sampler=other,
        draws=2 * settings.draws,
        tune=2 * settings.tune,
        target_accept=target,
        random_seed=seed,
        reason=f"{why}: longer tuning"
        + (", higher target_accept" if target > prev.target_accept else "")
        + (f", sampler {other}" if other != prev.sampler else ""),
    )


def _sample_until_converged(
    claims: ClaimSet, inputs: ModelInputs, settings: FitSettings, *, cores: int, progressbar: bool
) -> Estimate:
    """Sample; while the sampler checks fail, continue (at most ``settings.max_attempts``
    runs, see :func:`_next_attempt`); return the best run, with every run recorded in
    ``idata.sample_stats.attrs["attempts"]`` (JSON)."""

    model = build_model(inputs)
    sampler = settings.sampler
    if sampler == "auto":
        n_params = sum(np.size(v) for v in model.initial_point().values())
        sampler = "nutpie" if n_params >= NUTPIE_MIN_PARAMS else "pymc"
    attempt = Attempt(
        sampler, settings.draws, settings.tune, settings.target_accept, settings.random_seed
    )
    compiled: dict[str, Any] = {}  # nutpie's compiled model, reused by later runs
    runs: list[tuple[Estimate, dict[str, Any]]] = []
    for k in range(settings.max_attempts):
        if k:
            attempt = _next_attempt(attempt, runs[-1][0].diagnostics, k, settings)
        began = time.perf_counter()
        idata = _run(model, attempt, settings.chains, cores, progressbar, compiled)
        est = Estimate(claims=claims, settings=settings, idata=idata)
        d = est.diagnostics
        record = {
            **asdict(attempt),
            "seconds": round(time.perf_counter() - began, 1),
            "r_hat_max": d.r_hat_max,
            "ess_bulk_min": d.ess_bulk_min,
            "ess_tail_min": d.ess_tail_min,
            "divergences": d.divergences,
            "converged": d.converged,
        }
        runs.append((est, record))
        if d.converged:
            break
    best, _ = min(runs, key=lambda run: _badness(run[0].diagnostics))
    best.idata.sample_stats.attrs["attempts"] = json.dumps([r for _, r in runs], default=float)
    return best


def _badness(d: Diagnostics) -> tuple[Any, ...]:
    """Orders runs: converged first, then fewer divergences, lower R-hat, higher ESS."""
    r_hat = d.r_hat_max if np.isfinite(d.r_hat_max) else np.inf
    return (not d.converged, d.divergences > 0, r_hat, -min(d.ess_bulk_min, d.ess_tail_min))


def _run(
    model: Any,
    attempt: Attempt,
    chains: int,
    cores: int,
    progressbar: bool,
    compiled: dict[str, Any],
) -> az.InferenceData:
    """One sampler run; keeps only what results need."""
    from casualty_models._backend import pymc

    pm = pymc()
    logger = logging.getLogger("pymc")
    level = logger.level
    if not progressbar:  # PyMC announces each stage at INFO; quiet unless asked
        logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            # PyMC's own convergence messages are replaced by ours (Diagnostics)
            warnings.filterwarnings("ignore", module="pymc")
            if attempt.sampler == "nutpie":
                idata = _sample_nutpie(model, attempt, chains, cores, progressbar, compiled)
            else:
                idata = pm.sample(
                    model=model,
                    draws=attempt.draws,
                    tune=attempt.tune,
                    chains=chains,
                    cores=cores,
                    init="jitter+adapt_full",
                    target_accept=attempt.target_accept,
                    max_treedepth=MAX_TREE_DEPTH,
                    random_seed=attempt.random_seed,
                    progressbar=progressbar,
                    compute_convergence_checks=False,
                )
    finally:
        logger.setLevel(level)
    idata.sample_stats.attrs["sampler"] = attempt.sampler
    # keep only what results need: the latent curve, biases and claim-level counts
    keep = [
        "log_rate",
        "log_factor",
        "ratio",
        "bias",
        "bias_drift",
        "rise_noise",
        "log_count",
        "claim_loc",
    ]
    idata.posterior = idata.posterior[[v for v in keep if v in idata.posterior]]
    return idata


def _sample_nutpie(
    model: Any,
    attempt: Attempt,
    chains: int,
    cores: int,
    progressbar: bool,
    compiled: dict[str, Any],
) -> az.InferenceData:
    """Sample with nutpie and name its statistics as PyMC does."""
    import nutpie

    if "nutpie" not in compiled:
        compiled["nutpie"] = nutpie.compile_pymc_model(model)
    idata = nutpie.sample(
        compiled["nutpie"],
        draws=attempt.draws,
        tune=attempt.tune,
        chains=chains,
        cores=cores,
        seed=attempt.random_seed,
        save_warmup=False,
        progress_bar=progressbar,
        low_rank_modified_mass_matrix=True,
        target_accept=attempt.target_accept,
        maxdepth=MAX_TREE_DEPTH,
    )
    idata.sample_stats = idata.sample_stats.rename({"depth": "tree_depth", "logp": "lp"})
    return idata
