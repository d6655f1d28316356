"""nutpie, the sampler of the larger models: its settings, and its output named as
PyMC names it. Used by :mod:`casualty_models.fitting`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import arviz as az


NUTPIE_DRAWS = 1000
"""Default draws per chain of a first run with nutpie. A continuation cannot keep its
mass matrix (nutpie adapts it afresh), so continuing costs more than drawing: on the
bundled war data 500 draws took 17,000 gradients and a continuation's re-tuning about
24,000; at 500 draws the war, the PNAS data and the long synthetic case were all
continued (ESS 230-340 or R-hat 1.013-1.016)."""

# nutpie's mass matrix adapts from the identity, under which the first warm-up
# transitions need long trajectories: on the bundled war data 90% of a default fit's
# gradients (150,000 of 167,000) went to warm-up, most in its first 100 iterations.
# After warm-up no transition went deeper than 6 (mean depth 4.0), so a cap of 7 (128
# leapfrog steps) halves the warm-up (70,000 gradients; sampling 45 s -> 25 s) and leaves
# the draws as they were. Capped NUTS is still a valid MCMC kernel; the diagnostics
# count the transitions that reach the cap (docs/benchmarks.md).
NUTPIE_MAX_TREE_DEPTH = 7


def sample_nutpie(
    model: Any,
    *,
    draws: int,
    tune: int,
    chains: int,
    cores: int,
    seed: int,
    target_accept: float,
    progressbar: bool,
    initial_step: float | None = None,
) -> az.InferenceData:
    """Sample nutpie's ``model`` (:func:`casualty_models._compiled.nutpie_model`, cold or
    warm; low-rank mass matrix), from ``initial_step`` when given (a warm run's)."""
    import nutpie

    extra: dict[str, Any] = {}
    if initial_step is not None:
        extra["initial_step"] = initial_step
    idata = nutpie.sample(
        model,
        draws=draws,
        tune=tune,
        chains=chains,
        cores=cores,
        seed=seed,
        save_warmup=False,
        progress_bar=progressbar,
        low_rank_modified_mass_matrix=True,
        target_accept=target_accept,
        maxdepth=NUTPIE_MAX_TREE_DEPTH,
        **extra,
    )
    idata.sample_stats = idata.sample_stats.rename({"depth": "tree_depth", "logp": "lp"})
    idata.sample_stats.attrs["max_tree_depth"] = NUTPIE_MAX_TREE_DEPTH
    return idata
