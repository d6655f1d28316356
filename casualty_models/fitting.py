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
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from casualty_models._compiled import nutpie_model
from casualty_models._nutpie import NUTPIE_DRAWS, sample_nutpie
from casualty_models._warm import (
    LOGP_COMPILE,
    Warm,
    carry_over,
    concat_draws,
    previous_state,
    pymc_warm,
    warm_state,
)
from casualty_models.claims import ClaimSet, parse_date
from casualty_models.diagnostics import (
    ConvergenceWarning,
    ModelCheckWarning,
)
from casualty_models.estimate import MAX_TREE_DEPTH, Estimate, FitSettings, WarmState
from casualty_models.model import ModelInputs, build_model, prepare
from casualty_models.model.data import model_data
from casualty_models.model.priors import Priors
from casualty_models.model.skeleton import KEEP, Skeleton, skeleton
from casualty_models.readers import read_claims
from casualty_models.runs import Attempt, badness, next_attempt

if TYPE_CHECKING:
    import arviz as az

SAMPLERS = ("auto", "pymc", "nutpie")
DRAWS = 1000
"""Default draws per chain of a first run with PyMC's sampler, as nutpie's. More follow
only while the ESS of a reported quantity is below the bar (see :func:`_next_attempt`).
At 500, the long windows of issue 25 (a ten-year window with three late tallies, the
reproduction) needed a continuation on every seed tried; at 1,000 they converged on
their first run (docs/model.md)."""
TUNE = 500
"""Default tuning steps per chain (the former 1,000 are kept for a run after failed
checks, see :func:`_next_attempt`)."""


class WarmStartWarning(UserWarning):
    """``fit(warm_start=...)`` could not reuse the previous fit: the fit started cold."""


# "auto" is nutpie for every claim set: its model is the density compiled once for all
# claim sets (casualty_models._compiled), so a fit compiles nothing, where PyMC's NUTS
# compiles each new shape of claims (docs/benchmarks.md, "Compile once"). Its low-rank
# mass matrix also adapts where PyMC's dense adaptation stalled on larger sets (one
# chain at step size 0.001 on the bundled war data).


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
    draws: int | None = None,
    tune: int = TUNE,
    chains: int = 2,
    cores: int | None = None,
    target_accept: float = 0.8,
    random_seed: int | None = None,
    sampler: str = "auto",
    max_attempts: int = 3,
    progressbar: bool = False,
    warm_start: Estimate | WarmState | None = None,
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
    "nutpie" (NUTS, low-rank mass matrix, over the model compiled once for every claim
    set), "pymc" (NUTS, dense mass matrix; compiles each new shape of claims) or "auto"
    (nutpie).

    ``draws`` per chain are a first run's (default: :data:`DRAWS` with PyMC's sampler,
    :data:`NUTPIE_DRAWS` with nutpie; ``estimate.settings`` records the number): when
    the chains agree but the ESS of some reported quantity is short of 400 (or the
    R-hat above 1.01 from too few draws), ``fit`` continues the same chains (from their
    last draw, with their step size; PyMC's with its mass matrix too) for the draws the
    ESS asks for, and keeps every draw, while all runs stay within
    :data:`CONTINUE_BUDGET` times the first run's iterations. When the chains settled
    apart or diverged, more draws will not help: it runs again with longer tuning (at
    least 1,000 steps), a higher ``target_accept`` after divergences, and then the other
    sampler; the best run is kept. At most ``max_attempts`` runs in all (1: never
    continue); every run is listed in :attr:`Estimate.attempts`, and why ``fit`` stopped
    short of convergence, if it did, in the ConvergenceWarning. Continuations are seeded
    from ``random_seed``, so a fit stays exactly repeatable.

    ``warm_start`` (a previous :class:`Estimate`, typically of the same claims before an
    update, or its :attr:`~Estimate.warm_state` alone, which is small enough to send to
    a worker process) starts the chains where that fit's posterior was, with its step
    size and mass matrix, and tunes for only :data:`WARM_TUNE` steps. Parameters are
    matched by name: a knot the longer grid moved takes its curve's nearest previous
    step, and a new source or a knot past the previous end starts at its prior. When the
    curves themselves changed, a :class:`WarmStartWarning` says so and the fit starts
    cold. Either way the first entry of :attr:`Estimate.attempts` says which it was.
    """
    claims = read_claims(claims)
    if len(claims) == 0:
        raise ValueError("no claims to fit")
    priors = Priors() if priors is None else priors
    if not isinstance(priors, Priors):
        raise TypeError(f"priors must be a casualty_models.Priors, got {type(priors).__name__}")
    if draws is not None:
        draws = _positive_int("draws", draws)
    tune, chains, max_attempts = (
        _positive_int(n, v)
        for n, v in (
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
    if warm_start is not None and not isinstance(warm_start, Estimate | WarmState):
        raise TypeError(
            "warm_start must be a casualty_models.Estimate or its warm_state, got "
            f"{type(warm_start).__name__}"
        )
    inputs = prepare(claims, start=settings.start, end=settings.end, priors=priors)
    est = _sample_until_converged(
        claims, inputs, settings, cores=cores, progressbar=progressbar, warm_start=warm_start
    )
    d = est.diagnostics
    if not d.converged:
        tried = "; ".join(f"{a['reason']} ({a['sampler']})" for a in est.attempts)
        stopped = est.idata.sample_stats.attrs.get("stopped")
        warnings.warn(
            "; ".join(d.sampler_problems())
            + f". Runs tried: {tried}"
            + (f"; stopped: {stopped}" if stopped else "")
            + ". Remedies: "
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


@dataclass
class _Target:
    """One claim set's model, for either sampler, each made on first use: nutpie's over
    the compiled density (:mod:`casualty_models._compiled`: nothing to compile), or
    PyMC's (:func:`build_model`: PyTensor compiles it, C code cached on disk)."""

    inputs: ModelInputs
    data: dict[str, np.ndarray]
    sk: Skeleton
    made: dict[str, Any] = field(default_factory=dict)

    def model(self, sampler: str) -> Any:
        if sampler not in self.made:
            if sampler == "nutpie":
                self.made[sampler] = nutpie_model(self.data, self.sk)
            else:
                self.made[sampler] = build_model(self.inputs)
        return self.made[sampler]


def _sample_until_converged(
    claims: ClaimSet,
    inputs: ModelInputs,
    settings: FitSettings,
    *,
    cores: int,
    progressbar: bool,
    warm_start: Estimate | WarmState | None = None,
) -> Estimate:
    """Sample; while the sampler checks fail, continue (at most ``settings.max_attempts``
    runs, see :func:`_next_attempt`); return the best run, with every run recorded in
    ``idata.sample_stats.attrs["attempts"]`` (JSON) and the state a later warm start
    needs in ``attrs["warm_state"]``."""

    data = model_data(inputs)
    target = _Target(inputs, data, skeleton(inputs, data))
    sampler = "nutpie" if settings.sampler == "auto" else settings.sampler
    draws = settings.draws or (NUTPIE_DRAWS if sampler == "nutpie" else DRAWS)
    settings = replace(settings, draws=draws)
    attempt = Attempt(sampler, draws, settings.tune, settings.target_accept, settings.random_seed)
    warm: Warm | None = None
    if warm_start is not None:
        state, why_not = previous_state(warm_start)
        if state is not None:
            warm, why_not = carry_over(target.sk, state, settings.random_seed)
        if warm is None:
            warnings.warn(
                f"warm start not possible, the fit starts cold: {why_not}",
                WarmStartWarning,
                stacklevel=3,
            )
            attempt = replace(
                attempt, reason=f"first run, cold: warm start not possible ({why_not})"
            )
        else:
            attempt = replace(
                attempt,
                warm=True,
                reason="first run, warm start from a previous fit",
            )
    runs: list[tuple[Estimate, dict[str, Any]]] = []
    runs_log: list[dict[str, Any]] = []  # every run, the continued ones included
    free: dict[str, np.ndarray] = {}  # draws of the free parameters of the latest run
    spent = 0  # iterations per chain of every run so far
    stopped = ""  # why fit() stopped short of convergence, if it did
    for k in range(settings.max_attempts):
        if k:
            first = runs_log[0]["run_tune"] + runs_log[0]["new_draws"]
            nxt, stopped = next_attempt(attempt, runs[-1][0].diagnostics, k, settings, spent, first)
            if nxt is None:
                break
            attempt = nxt
        spent += attempt.run_tune + attempt.new_draws
        began = time.perf_counter()
        idata, new_free = _run(
            target, attempt, settings.chains, cores, progressbar, warm if attempt.warm else None
        )
        if attempt.continued_from:
            idata = concat_draws(runs[-1][0].idata, idata)
            new_free = {n: np.concatenate([free[n], v], axis=1) for n, v in new_free.items()}
            runs.pop()  # the continued run holds the earlier one's draws too
        free = new_free
        state = warm_state(target.sk, free, idata, attempt.sampler)
        warm = carry_over(target.sk, state, attempt.random_seed)[0]  # a continuation's
        idata.sample_stats.attrs["warm_state"] = json.dumps(state)
        est = Estimate(claims=claims, settings=settings, idata=idata)
        d = est.diagnostics
        record = {
            **asdict(attempt),
            "run_tune": attempt.run_tune,
            "new_draws": attempt.new_draws,
            "seconds": round(time.perf_counter() - began, 1),
            "r_hat_max": d.r_hat_max,
            "ess_bulk_min": d.ess_bulk_min,
            "ess_tail_min": d.ess_tail_min,
            "divergences": d.divergences,
            "converged": d.converged,
        }
        runs.append((est, record))
        runs_log.append(record)
        if d.converged:
            break
    else:
        if not runs[-1][0].diagnostics.converged:
            stopped = f"{settings.max_attempts} runs (max_attempts) used"
    best, _ = min(runs, key=lambda run: badness(run[0].diagnostics))
    best.idata.sample_stats.attrs["attempts"] = json.dumps(runs_log, default=float)
    if stopped:
        best.idata.sample_stats.attrs["stopped"] = stopped
    return best


def _pymc_start(pm: Any, model: Any, attempt: Attempt, chains: int) -> dict[str, Any]:
    """pm.sample keywords for a cold run: the NUTS step and initial points of PyMC's
    ``init="jitter+adapt_full"``, made here with the seeds pm.sample would derive from
    ``attempt.random_seed`` (so the same draws). Given a step, pm.sample skips assigning
    step methods, which builds the gradient graph once per free variable only to find
    that each has one: about 0.8 s of the seed model's fit (docs/benchmarks.md)."""
    from pymc.util import get_random_generator

    # as pm.sample: one generator per chain, a seed drawn from each for the set-up
    seeds = [
        int(rng.integers(2**30)) for rng in get_random_generator(attempt.random_seed).spawn(chains)
    ]
    initial_points, step = pm.init_nuts(
        init="jitter+adapt_full",
        chains=chains,
        model=model,
        random_seed=seeds,
        progressbar=False,
        quiet=True,
        tune=attempt.run_tune,
        compile_kwargs=LOGP_COMPILE,
        target_accept=attempt.target_accept,
        max_treedepth=MAX_TREE_DEPTH,
    )
    return {"step": step, "initvals": initial_points}


def _run(
    target: _Target,
    attempt: Attempt,
    chains: int,
    cores: int,
    progressbar: bool,
    warm: Warm | None = None,
) -> tuple[az.InferenceData, dict[str, np.ndarray]]:
    """One sampler run, warm when given; returns the InferenceData with only what
    results need, and the draws of the free parameters (chain, draw, ...)."""
    from casualty_models._backend import pymc

    pm = pymc()
    model = target.model(attempt.sampler)
    logger = logging.getLogger("pymc")
    level = logger.level
    if not progressbar:  # PyMC announces each stage at INFO; quiet unless asked
        logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            # PyMC's own convergence messages are replaced by ours (Diagnostics)
            warnings.filterwarnings("ignore", module="pymc")
            if attempt.sampler == "nutpie":
                if warm is not None:
                    # a warm start from another fit: its posterior standardises the
                    # parameters; continued chains start from their own draws only (under
                    # the standardising map, continuations of heavy-tailed posteriors
                    # diverged, docs/benchmarks.md)
                    standardise = not attempt.continued_from
                    model = nutpie_model(target.data, target.sk, warm, standardise=standardise)
                idata = sample_nutpie(
                    model,
                    draws=attempt.new_draws,
                    tune=attempt.run_tune,
                    chains=chains,
                    cores=cores,
                    seed=attempt.random_seed,
                    target_accept=attempt.target_accept,
                    progressbar=progressbar,
                    initial_step=None if warm is None else warm.step_size,
                )
            else:
                if warm is not None:
                    kwargs = pymc_warm(pm, model, attempt.target_accept, chains, warm, target.sk)
                else:
                    kwargs = _pymc_start(pm, model, attempt, chains)
                idata = pm.sample(
                    model=model,
                    draws=attempt.new_draws,
                    tune=attempt.run_tune,
                    chains=chains,
                    cores=cores,
                    random_seed=attempt.random_seed,
                    progressbar=progressbar,
                    compute_convergence_checks=False,
                    **kwargs,
                )
    finally:
        logger.setLevel(level)
    idata.sample_stats.attrs["sampler"] = attempt.sampler
    free = {n: np.asarray(idata.posterior[n]) for n in target.sk.free}
    idata.posterior = idata.posterior[[v for v in KEEP if v in idata.posterior]]
    return idata, free
