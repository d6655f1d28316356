"""The warm state a later fit starts from: last draws, mass matrix and step size.

:func:`warm_state` records it on a fit's InferenceData (``sample_stats.attrs
["warm_state"]``, JSON, kept by save and load), every parameter element labelled;
:func:`carry_over` maps it onto a new claim set's parameters by label (a grid that
gained knots, claims that gained a source), the rest starting at their prior;
:func:`pymc_warm` turns it into PyMC's NUTS step and initial values. Used by
:mod:`casualty_models.fitting` for ``fit(warm_start=...)`` and for continuing chains.
:data:`LOGP_COMPILE` is how every PyMC NUTS run, warm or cold, compiles its log density.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from casualty_models.estimate import MAX_TREE_DEPTH, WarmState

LOGP_COMPILE = {"trust_input": True}
"""How PyMC's NUTS compiles the log density: its sampler always passes one float64
array, so PyTensor's check of every input on every call (about 20 us of 105 us per
gradient of the seed model) is skipped (docs/benchmarks.md)."""

if TYPE_CHECKING:
    import arviz as az

    from casualty_models.estimate import Estimate
    from casualty_models.model.skeleton import Skeleton

DENSE_MAX = 200
"""Largest number of parameters for which the warm state keeps a full covariance."""
LOW_RANK_MAX = 10
"""Most correlation directions a warm nutpie run is standardised along (:func:`low_rank`)."""
LOW_RANK_BAND = 3.0
"""Eigenvalues of the draws' correlation matrix within ``[1/3, 3]`` are left alone: at
2,000 draws of 400 parameters sampling noise alone spreads them over about [0.3, 2]."""


@dataclass(frozen=True)
class Warm:
    """A previous posterior carried onto a new claim set's parameters (vector order):
    each previous chain's last draw, the mean, the mass matrix (a covariance, or
    variances) and the step size."""

    starts: np.ndarray  # (previous chain, parameter)
    step_size: float
    mean: np.ndarray  # (parameter,)
    var: np.ndarray  # (parameter,)
    cov: np.ndarray | None  # (parameter, parameter), when kept
    values: np.ndarray  # (k,) the strongest correlations' eigenvalues (low_rank)
    vectors: np.ndarray  # (k, parameter) their directions, orthonormal

    def affine(self) -> np.ndarray:
        """nutpie's warm map ``x = mean + sd * (I + U' diag(f) U) y``, ``f = sqrt(value)
        - 1``, as :func:`casualty_models._compiled._table` takes it: under it ``y`` of
        the previous posterior has about unit covariance."""
        factors = np.zeros(len(self.mean))
        factors[: len(self.values)] = np.sqrt(self.values) - 1
        return np.vstack([self.mean, np.sqrt(self.var), factors, self.vectors])

    def to_sampled(self, x: np.ndarray) -> np.ndarray:
        """The ``y`` that :meth:`affine` maps to the parameters ``x``."""
        z = (x - self.mean) / np.sqrt(self.var)
        shrink = 1 / np.sqrt(self.values) - 1
        return z + self.vectors.T @ (shrink * (self.vectors @ z))


def low_rank(draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(values ``(k,)``, vectors ``(k, parameter)``): the eigenpairs of the correlation
    matrix of ``draws`` ``(draw, parameter)`` furthest from 1 (outside
    :data:`LOW_RANK_BAND`), at most :data:`LOW_RANK_MAX`; none when there are fewer
    than two draws per parameter. The directions a diagonal mass matrix misses (a curve's
    level against its steps, a bias against the count it scales)."""
    n_draws, n = draws.shape
    if n_draws < 2 * n:
        return np.zeros(0), np.zeros((0, n))
    sd = draws.std(axis=0)
    z = (draws - draws.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    values, vectors = np.linalg.eigh(z.T @ z / n_draws)
    values = values.clip(1e-2, 1e2)
    far = np.abs(np.log(values))
    keep = [i for i in np.argsort(-far)[:LOW_RANK_MAX] if far[i] > np.log(LOW_RANK_BAND)]
    return values[keep], vectors[:, keep].T


def pymc_warm(
    pm: Any, model: Any, target_accept: float, chains: int, warm: Warm, sk: Skeleton
) -> dict[str, Any]:
    """pm.sample keywords for a warm run: NUTS with the previous posterior's covariance
    (or variances) as a fixed mass matrix, its step size as the first one, and each
    chain starting at a previous chain's last draw."""
    from pymc.step_methods.hmc.quadpotential import QuadPotentialDiag, QuadPotentialFull

    potential = QuadPotentialFull(warm.cov) if warm.cov is not None else QuadPotentialDiag(warm.var)
    n = len(warm.var)
    step = pm.NUTS(
        model=model,
        potential=potential,
        target_accept=target_accept,
        max_treedepth=MAX_TREE_DEPTH,
        step_scale=warm.step_size * n**0.25,
        compile_kwargs=LOGP_COMPILE,
    )
    starts = [sk.split(warm.starts[c % len(warm.starts)]) for c in range(chains)]
    return {"step": step, "initvals": [{n: s[n] for n in sk.free} for s in starts]}


def warm_state(
    sk: Skeleton, free: dict[str, np.ndarray], idata: az.InferenceData, sampler: str
) -> dict[str, Any]:
    """What a warm start needs from a posterior, JSON-ready: a label for every element of
    the parameter vector (:meth:`Skeleton.flat_labels`), each chain's last draw, the mean,
    the covariance (variances above :data:`DENSE_MAX` parameters) and each chain's
    step size."""
    flat = np.concatenate(
        [free[n].reshape(*free[n].shape[:2], -1) for n in sk.free], axis=2
    )  # (chain, draw, param)
    draws = flat.reshape(-1, flat.shape[2])
    n_draws, n = draws.shape
    # regularised towards the identity as Stan's and PyMC's adaptation do
    w = n_draws / (n_draws + 5.0)
    state: dict[str, Any] = {
        "sampler": sampler,
        "labels": sk.flat_labels(),
        "curves": sk.coords["curve"],
        "last": flat[:, -1, :].tolist(),
        "mean": draws.mean(axis=0).tolist(),
        "step_size": np.asarray(idata.sample_stats["step_size"])[:, -1].tolist(),
    }
    values, vectors = low_rank(draws)
    state["low_rank"] = {"values": values.tolist(), "vectors": vectors.tolist()}
    if n <= DENSE_MAX:
        cov = np.atleast_2d(np.cov(draws, rowvar=False))
        state["cov"] = (w * cov + (1 - w) * 1e-3 * np.eye(n)).tolist()
    else:
        state["var"] = (w * draws.var(axis=0) + (1 - w) * 1e-3).tolist()
    return state


def previous_state(previous: Estimate | WarmState) -> tuple[dict[str, Any] | None, str]:
    """The warm state recorded on a previous fit (or given alone), else None and why
    not."""
    warm = previous if isinstance(previous, WarmState) else previous.warm_state
    if warm is None:
        return None, "the previous estimate has no warm state (made by an older version)"
    try:
        state = json.loads(warm.json)
    except json.JSONDecodeError as err:
        return None, f"the warm state is not valid JSON ({err})"
    if not isinstance(state, dict) or "labels" not in state:
        return None, "the previous estimate's warm state is of an older version"
    return state, ""


def carry_over(sk: Skeleton, state: dict[str, Any], seed: int) -> tuple[Warm | None, str]:
    """A warm state (:func:`warm_state`) on the parameters of ``sk``, else None and why
    not.

    Elements are matched by label: a knot's step by the date it ends at, a speaker's
    bias by source and side. A knot's step at a date the previous grid did not have but
    spans (a longer window spaces the knots further apart, so most of them move) takes
    the previous step of its curve nearest in date: the walk's steps are standard normal
    per knot gap, so a neighbour's is a close guess of its value, scale and
    correlations. An element without a match (a knot past the previous grid's end, a
    new source) starts at a draw from its prior, a standard normal (the walk's step, the
    bias's own deviation), with the prior's mean 0 and variance 1. A fit whose curves
    changed starts cold: that is a change of the model's structure."""
    curves = sk.coords["curve"]
    if state["curves"] != curves:
        added = sorted(set(curves) - set(state["curves"]))
        gone = sorted(set(state["curves"]) - set(curves))
        what = "; ".join(f"{w}: {', '.join(c)}" for w, c in (("new", added), ("gone", gone)) if c)
        return None, f"the curves changed ({what or 'order'})"
    labels = sk.flat_labels()
    old, same = _matches(state["labels"], labels)
    known = old >= 0
    rng = np.random.default_rng(seed)
    last = np.array(state["last"])
    starts = rng.standard_normal((len(last), len(labels)))
    starts[:, known] = last[:, old[known]]
    if "cov" in state:
        prev_cov = np.array(state["cov"])
        prev_var = np.diag(prev_cov)
    else:
        prev_cov, prev_var = None, np.array(state["var"])
    var, mean = np.ones(len(labels)), np.zeros(len(labels))
    var[known] = prev_var[old[known]]
    mean[known] = np.array(state["mean"])[old[known]]
    cov = None
    if prev_cov is not None and len(labels) <= DENSE_MAX:
        # covariances of exact matches only: two moved knots can take the same
        # neighbour, and their copied rows would make the matrix singular
        cov = np.diag(var)
        cov[np.ix_(same, same)] = prev_cov[np.ix_(old[same], old[same])]
    values, vectors = _carried_directions(state, old, known)
    return Warm(starts, float(np.mean(state["step_size"])), mean, var, cov, values, vectors), ""


def _matches(before: list[str], labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``labels``, the index in ``before`` of the same label, else (a knot's
    step, ``name[curve/date]``, within the dates of its curve's steps in ``before``) of
    the same curve's step nearest in date, else -1; and where it was the same label."""
    index = {label: k for k, label in enumerate(before)}
    dated: dict[str, list[tuple[np.datetime64, int]]] = {}
    for k, label in enumerate(before):
        head, day = _knot(label)
        if day is not None:
            dated.setdefault(head, []).append((day, k))
    out = np.array([index.get(label, -1) for label in labels])
    same = out >= 0
    for i in np.flatnonzero(~same):
        head, day = _knot(labels[i])
        steps = dated.get(head, [])
        if day is not None and steps and steps[0][0] <= day <= steps[-1][0]:
            out[i] = min(steps, key=lambda dk: abs(dk[0] - day))[1]
    return out, same


def _knot(label: str) -> tuple[str, np.datetime64 | None]:
    """(``name[curve``, date) of a knot's label ``name[curve/YYYY-MM-DD]``, else
    (label, None)."""
    head, _, date = label.rstrip("]").rpartition("/")
    return (head, np.datetime64(date)) if head and len(date) == 10 else (label, None)


def _carried_directions(
    state: dict[str, Any], old: np.ndarray, known: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The warm state's :func:`low_rank` directions on the new parameters (``old``: each
    one's index in the state, ``known`` where it has one), orthonormal again; a direction
    that lay mostly on parameters the new claims lack is dropped."""
    lr = state.get("low_rank", {"values": [], "vectors": []})
    values = np.array(lr["values"], dtype=float)
    vectors = np.zeros((len(values), len(old)))
    if len(values):
        vectors[:, known] = np.array(lr["vectors"])[:, old[known]]
        kept = np.linalg.norm(vectors, axis=1) > 0.5
        values, vectors = values[kept], vectors[kept]
    if len(values):
        vectors = np.linalg.qr(vectors.T)[0].T
    return values, vectors


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
