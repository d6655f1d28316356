"""The warm state a later fit starts from: last draws, mass matrix and step size.

:func:`warm_state` records it on a fit's InferenceData (``sample_stats.attrs
["warm_state"]``, JSON, kept by save and load); :func:`usable_warm_state` decides
whether a new model can start from it (same parameters, shapes, labels and sampler);
:func:`pymc_warm` turns it into PyMC's NUTS step and initial values. Used by
:mod:`casualty_models.fitting` for ``fit(warm_start=...)`` and for continuing chains.
:data:`LOGP_COMPILE` is how every PyMC NUTS run, warm or cold, compiles its log density.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np

from casualty_models.estimate import MAX_TREE_DEPTH

LOGP_COMPILE = {"trust_input": True}
"""How PyMC's NUTS compiles the log density: its sampler always passes one float64
array, so PyTensor's check of every input on every call (about 20 us of 105 us per
gradient of the seed model) is skipped (docs/benchmarks.md)."""

if TYPE_CHECKING:
    import arviz as az

    from casualty_models.estimate import Estimate

DENSE_MAX = 200
"""Largest number of parameters for which the warm state keeps a full covariance."""


def pymc_warm(
    pm: Any, model: Any, target_accept: float, chains: int, state: dict[str, Any]
) -> dict[str, Any]:
    """pm.sample keywords for a warm run: NUTS with the previous posterior's covariance
    (or variances) as a fixed mass matrix, its step size as the first one, and each
    chain starting at a previous chain's last draw."""
    from pymc.step_methods.hmc.quadpotential import QuadPotentialDiag, QuadPotentialFull

    if "cov" in state:
        potential = QuadPotentialFull(np.array(state["cov"]))
    else:
        potential = QuadPotentialDiag(np.array(state["var"]))
    n = len(state["mean"])
    step = pm.NUTS(
        model=model,
        potential=potential,
        target_accept=target_accept,
        max_treedepth=MAX_TREE_DEPTH,
        step_scale=float(np.mean(state["step_size"])) * n**0.25,
        compile_kwargs=LOGP_COMPILE,
    )
    return {"step": step, "initvals": [unflatten(state, c) for c in range(chains)]}


def warm_state(
    model: Any, free: dict[str, np.ndarray], idata: az.InferenceData, sampler: str
) -> dict[str, Any]:
    """What a warm start needs from a posterior, JSON-ready: the free parameters' names,
    shapes and dimension labels, each chain's last draw (flattened in model order), the
    mean, the covariance (variances above :data:`DENSE_MAX` parameters) and each
    chain's step size."""
    names = [v.name for v in model.free_RVs]
    flat = np.concatenate(
        [free[n].reshape(*free[n].shape[:2], -1) for n in names], axis=2
    )  # (chain, draw, param)
    draws = flat.reshape(-1, flat.shape[2])
    n_draws, n = draws.shape
    # regularised towards the identity as Stan's and PyMC's adaptation do
    w = n_draws / (n_draws + 5.0)
    state: dict[str, Any] = {
        "sampler": sampler,
        "names": names,
        "shapes": [list(free[n].shape[2:]) for n in names],
        "dims": dim_labels(model, names),
        "last": flat[:, -1, :].tolist(),
        "mean": draws.mean(axis=0).tolist(),
        "step_size": np.asarray(idata.sample_stats["step_size"])[:, -1].tolist(),
    }
    if n <= DENSE_MAX:
        cov = np.atleast_2d(np.cov(draws, rowvar=False))
        state["cov"] = (w * cov + (1 - w) * 1e-3 * np.eye(n)).tolist()
    else:
        state["var"] = (w * draws.var(axis=0) + (1 - w) * 1e-3).tolist()
    return state


def dim_labels(model: Any, names: list[str]) -> dict[str, list[str]]:
    """Labels of each dimension of the free parameters; the knots' steps by count only
    (their dates move when the horizon does, the parameters mean the same)."""
    out: dict[str, list[str]] = {}
    for name in names:
        for dim in model.named_vars_to_dims.get(name, ()) or ():
            labels = [str(x) for x in model.coords[dim]]
            out[dim] = [str(len(labels))] if dim == "step" else labels
    return out


def usable_warm_state(
    model: Any, previous: Estimate, sampler: str
) -> tuple[dict[str, Any] | None, str]:
    """The previous fit's warm state if it fits ``model``, else None and why not."""
    text = previous.idata.sample_stats.attrs.get("warm_state")
    if not text:
        return None, "the previous estimate has no warm state (made by an older version)"
    state = json.loads(text)
    names = [v.name for v in model.free_RVs]
    if names != state["names"]:
        return None, f"the parameters differ ({', '.join(state['names'])} -> {', '.join(names)})"
    ip = model.initial_point()
    shapes = [list(np.shape(ip[n])) for n in names]
    dims = dim_labels(model, names)
    for dim, labels in dims.items():
        before = state["dims"].get(dim)
        if before != labels:
            what = "knots" if dim == "step" else dim
            added = sorted(set(labels) - set(before or []))
            return None, f"the {what} changed" + (
                f" (new: {', '.join(added[:5])})" if added and dim != "step" else ""
            )
    if shapes != state["shapes"]:
        return None, "the parameters' shapes changed"
    if state["sampler"] != sampler:
        return None, f"the sampler changed ({state['sampler']} -> {sampler})"
    return state, ""


def unflatten(state: dict[str, Any], chain: int) -> dict[str, np.ndarray]:
    """A previous chain's last draw as {parameter: array} (chains beyond theirs reuse
    them in turn)."""
    flat = np.array(state["last"][chain % len(state["last"])])
    out, at = {}, 0
    for name, shape in zip(state["names"], state["shapes"], strict=True):
        size = int(np.prod(shape, dtype=int))
        out[name] = flat[at : at + size].reshape(shape)
        at += size
    return out


def concat_draws(before: az.InferenceData, after: az.InferenceData) -> az.InferenceData:
    """The draws of continued chains after their earlier ones (posterior, statistics)."""
    import xarray as xr

    out = after.copy()
    n = before.posterior.sizes["draw"]
    for group in ("posterior", "sample_stats"):
        old, new = getattr(before, group), getattr(after, group)
        common = [v for v in new.data_vars if v in old.data_vars]
        new = new[common].assign_coords(draw=new["draw"] + n)
        merged = xr.concat([old[common], new], dim="draw")
        merged.attrs = {**old.attrs, **new.attrs}
        setattr(out, group, merged)
    return out
