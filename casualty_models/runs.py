"""The runs of a fit: :class:`Attempt` (one sampler run and why it was run), and what
comes after a run whose checks failed (:func:`next_attempt`): its chains continued for
more draws while that is cheap and can help, else a fresh run that tunes longer."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from casualty_models.diagnostics import R_HAT_MAX, Diagnostics, draws_needed
from casualty_models.estimate import FitSettings

CONTINUE_BUDGET = 3
"""A fit continues its chains while all its runs together stay within this many times its
first run's iterations (tuning and draws): the draws a short ESS asks for when they are
cheap, a clear remedy when they are not. Counted in iterations, not seconds, so that a
fit repeats exactly on any machine."""
WARM_TUNE = 300
"""Tuning steps of a warm run (continued chains, or ``fit(warm_start=...)``): the step
size re-adapts from the previous one; the mass matrix is the previous posterior's with
PyMC's sampler and in nutpie's warm start from another fit, while nutpie's continued
chains adapt theirs afresh (:mod:`casualty_models._compiled`). At 150 steps nutpie's
windows ended on a poor mass matrix: on the whole war a warm start drew at 27-29
leapfrog steps a draw (15 at 300) and a continuation took 26 s (17 s at 300); in the
late-claims SBC study as many continued fits had a divergence at either setting
(docs/benchmarks.md)."""


@dataclass(frozen=True)
class Attempt:
    """One sampler run of :func:`fit`: its settings, and why it was run.

    ``warm``: the chains start from a previous posterior (its last draws, step size and
    mass matrix) rather than from the prior, and tune for :data:`WARM_TUNE` steps only.
    ``continued_from``: the run continues the previous run's chains, which hold that
    many draws; it adds ``draws - continued_from`` draws to them (``tune`` stays the
    chains' own).
    """

    sampler: str
    draws: int
    tune: int
    target_accept: float
    random_seed: int
    reason: str = "first run"
    warm: bool = False
    continued_from: int = 0
    ess_before: float = 0.0  # a continuation's: the smallest ESS of the draws it extends

    @property
    def new_draws(self) -> int:
        return self.draws - self.continued_from

    @property
    def run_tune(self) -> int:
        return WARM_TUNE if self.warm else self.tune


def attempt_seed(settings: FitSettings, k: int) -> int:
    return int(np.random.SeedSequence([settings.random_seed, k]).generate_state(1)[0] >> 1)


def next_attempt(
    prev: Attempt, d: Diagnostics, k: int, settings: FitSettings, spent: int, first: int
) -> tuple[Attempt | None, str]:
    """The ``k``-th continuation (1, 2, ...) after a run whose sampler checks failed, or
    None and why there is nothing more to do. ``spent``: iterations per chain of every
    run so far; ``first``: those of the first run.

    Chains that agree (no divergences, not settled apart: a short ESS, or an R-hat of
    too few draws) are continued (warm, :data:`WARM_TUNE` steps to settle the step size)
    for the draws the ESS asks for, while the fit stays within :data:`CONTINUE_BUDGET`
    times its first run's iterations; past it, the fit stops and says how many draws
    would do. Chains settled apart or divergences: more draws will not help, so a fresh
    run with twice the draws and tuning (at least 1,000 steps) and, after divergences, a
    higher target_accept; from the second continuation on, the other sampler too.
    """
    seed = attempt_seed(settings, k)
    if settings.draws is None:
        raise ValueError("settings.draws must be resolved before sampling")
    if d.divergences == 0 and not d.settled_apart:
        if prev.continued_from and min(d.ess_bulk_min, d.ess_tail_min) < 1.2 * prev.ess_before:
            # draws grew by half or more (draws_needed), the ESS by less than a fifth
            return None, "the ESS did not grow with the draws: the chains mix too slowly"
        total = max(draws_needed(d), d.draws + 100)
        if spent + WARM_TUNE + total - d.draws > CONTINUE_BUDGET * first:
            return None, (
                f"more draws would help (about {total} per chain), beyond the budget of "
                f"{CONTINUE_BUDGET}x the first run: fit(..., draws={total})"
            )
        return replace(
            prev,
            draws=total,
            random_seed=seed,
            warm=True,
            continued_from=d.draws,
            ess_before=min(d.ess_bulk_min, d.ess_tail_min),
            reason=("ESS below 400" if d.r_hat_max <= R_HAT_MAX else f"R-hat {d.r_hat_max:.3f}")
            + f": more draws, chains continued to {total}",
        ), ""
    other = {"pymc": "nutpie", "nutpie": "pymc"}[prev.sampler] if k >= 2 else prev.sampler
    target = max(prev.target_accept, 0.95) if d.divergences else prev.target_accept
    why = "divergent transitions" if d.divergences else "chains settled apart"
    return Attempt(
        sampler=other,
        draws=2 * settings.draws,
        tune=max(2 * settings.tune, 1000),
        target_accept=target,
        random_seed=seed,
        reason=f"{why}: longer tuning"
        + (", higher target_accept" if target > prev.target_accept else "")
        + (f", sampler {other}" if other != prev.sampler else ""),
    ), ""


def badness(d: Diagnostics) -> tuple[Any, ...]:
    """Orders runs: converged first, then fewer divergences, lower R-hat, higher ESS."""
    r_hat = d.r_hat_max if np.isfinite(d.r_hat_max) else np.inf
    return (not d.converged, d.divergences > 0, r_hat, -min(d.ess_bulk_min, d.ess_tail_min))
