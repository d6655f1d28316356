"""How far to trust an estimate: sensitivity to the bias priors, leave-one-source-out, PIT.

With one latent count and every source possibly biased, the claims cannot separate the
truth from the biases (docs/model.md, "What identifies the biases"): the answer rests on
the bias priors and on anchors. This module measures how much.

* :func:`sensitivity` changes one source type's bias prior at a time — shifted
  (``bias_mu + shift``) or made narrower / wider (``bias_sigma`` and ``group_sigma``
  times ``scale``) — and reports the headline under each changed prior.
  :func:`sensitivity_summary` says, per series, which prior moves it most.
* :func:`leave_one_source_out` refits without each source in turn.
* :func:`claims_pit` feeds the calibration plot (with ArviZ's simultaneous ECDF band)
  (:func:`casualty_models.plots.plot_ppc`).

**How sensitivity is computed.** A changed bias prior changes only the prior density of
the speakers' biases; the likelihood and every other prior are untouched. So the
posterior under the new prior is the old posterior reweighted by
``p_new(bias) / p_old(bias)``, a density the stored ``bias`` draws are enough to
evaluate: the speakers of one group (one source type about one side) share an offset,
so their biases are jointly normal, ``MVN(mu, diag(s²) + g gᵀ)`` (``s`` each speaker's
own sd, ``g`` its group sd); capped speakers (tallies) are truncated normals. The weights
are Pareto-smoothed (PSIS, :func:`arviz.psislw`); where the Pareto k̂ exceeds
``min(0.7, 1 − 1/log10(S))`` for ``S`` draws (Vehtari et al. 2024) the reweighted answer
is unreliable — typically a prior made much wider than the posterior explored — and
that change is refitted instead (``method="auto"``), as it is when the weights keep
fewer than :data:`REWEIGHT_MIN_ESS` effective draws (k̂ is itself noisy, and a large
shift of a prior the claims say little about leaves few draws with weight).
``method="refit"`` refits every change, ``method="reweight"`` never does (unreliable
rows are flagged).

Refits run on a :class:`concurrent.futures.Executor` (default: a local process pool of
:data:`casualty_models._parallel.DEFAULT_WORKERS` workers; each refit samples its chains
on one core), with every one of the estimate's own settings, the sampler included
(``draws`` / ``tune`` may be overridden for speed): the one refit path of
:mod:`casualty_models._parallel`.

Over 500 lines because sensitivity and leave-one-source-out share the machinery of
reweighting draws (PSIS, block log densities, Monte Carlo errors) and of reporting a
headline's change; the two entry points and their summaries read best together.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from casualty_models import _hooks
from casualty_models._format import check_level, level_pct
from casualty_models._parallel import cores_per_fit, refit_many
from casualty_models.claims import SOURCE_TYPES
from casualty_models.model import KIND_CODES
from casualty_models.model.priors import DEFAULT_LEVEL, Priors, SourcePrior

if TYPE_CHECKING:
    from casualty_models.estimate import Estimate

LOG2 = math.log(2.0)
DEFAULT_SCALES: tuple[float, ...] = (0.5, 2.0)
"""Default factors on a type's bias sds (``bias_sigma`` and ``group_sigma``)."""
DEFAULT_SHIFTS: tuple[float, ...] = (-LOG2, LOG2)
"""Default shifts of a type's ``bias_mu``: the assumed factor halved and doubled."""
RESTS_ON_PRIOR = 0.5
"""An estimate "rests mostly on" a prior when more than this share of a shift of that
prior's ``bias_mu`` passes into the log of its median (see :func:`sensitivity_summary`)."""
METHODS: tuple[str, ...] = ("auto", "reweight", "refit")
REWEIGHT_MIN_ESS = 400
"""``method="auto"`` refits a change whose importance weights keep fewer effective
draws (1 / Σ w²) than this — the same floor the sampler's ESS must clear."""

TYPE_PHRASES: dict[str, str] = {
    "own": "own-side reports",
    "enemy": "reports of the enemy's losses",
    "neutral": "neutral (third-party) estimates",
    "tally": "named-person tallies",
    "independent": "independent estimates",
    "known": "known counts",
}
"""Plain-language names of the source types, for sentences."""


# ------------------------------------------------------------------------ prior changes
@dataclass(frozen=True)
class PriorChange:
    """One source type's bias prior shifted by ``shift`` and its sds times ``scale``."""

    source_type: str
    scale: float = 1.0
    shift: float = 0.0

    def apply(self, prior: SourcePrior) -> SourcePrior:
        return replace(
            prior,
            bias_mu=prior.bias_mu + self.shift,
            bias_sigma=prior.bias_sigma * self.scale,
            group_sigma=prior.group_sigma * self.scale,
        )

    def priors(self, base: Priors) -> Priors:
        """``base`` with this change applied to the source type's prior."""
        return replace(
            base,
            source_types={
                **base.source_types,
                self.source_type: self.apply(base.for_type(self.source_type)),
            },
        )

    @property
    def label(self) -> str:
        """``"bias_mu +0.69"``, ``"sd ×2"`` or both."""
        parts = []
        if self.shift != 0:
            parts.append(f"bias_mu {self.shift:+.2f}")
        if self.scale != 1:
            parts.append(f"sd ×{self.scale:g}")
        return ", ".join(parts) or "unchanged"


def _overridden(priors: Priors, source: str, side: str) -> bool:
    return f"{source}|{side}" in priors.sources or source in priors.sources


def _varied_types(estimate: Estimate, wanted: Iterable[str] | None) -> list[str]:
    """Source types whose prior some speaker uses and that have a spread to change."""
    inp, priors = estimate.inputs, estimate.settings.priors
    used = {
        t
        for (source, side), t in zip(inp.speakers, inp.speaker_types, strict=True)
        if not _overridden(priors, source, side)
    }
    variable = [t for t in SOURCE_TYPES if t in used and not priors.for_type(t).fixed]
    if wanted is None:
        return variable
    wanted = list(dict.fromkeys(wanted))
    bad = [t for t in wanted if t not in variable]
    if bad:
        raise ValueError(
            f"cannot vary the prior of source types {bad}: a type must be used by a "
            "speaker without a per-source override and not be fixed (known); "
            f"variable here: {variable}"
        )
    return wanted


def _changes(
    types: Sequence[str], scales: Iterable[float], shifts: Iterable[float]
) -> list[PriorChange]:
    scales, shifts = [float(s) for s in scales], [float(d) for d in shifts]
    bad = [s for s in scales if not (math.isfinite(s) and s > 0)]
    if bad:
        raise ValueError(f"scales must be positive and finite, got {bad}")
    bad = [d for d in shifts if not math.isfinite(d)]
    if bad:
        raise ValueError(f"shifts must be finite, got {bad}")
    out = []
    for t in types:
        out += [PriorChange(t, scale=s) for s in scales]
        out += [PriorChange(t, shift=d) for d in shifts]
    if not out:
        raise ValueError("nothing to vary: give at least one scale or shift")
    return out


# ---------------------------------------------------------------- importance reweighting
class _CannotReweight(Exception):
    """The changed prior has no density ratio against the old one (a fixed bias)."""


def _block_logpdf(priors: Sequence[SourcePrior], bias: np.ndarray) -> np.ndarray:
    """Joint log prior density of the biases (sample, k) of one block of speakers.

    A block is one speaker, or the uncapped members of one group, which share a normal
    offset: bias ~ MVN(mu, diag(s²) + g gᵀ). A capped speaker's bias is a
    :class:`~casualty_models.model.priors.SoftCappedNormal`.
    """
    mu = np.array([p.bias_mu for p in priors])
    s = np.array([p.bias_sigma for p in priors])
    g = np.array([p.group_sigma for p in priors])
    if len(priors) == 1 and priors[0].bias_upper is not None and s[0] > 0:
        out: np.ndarray = priors[0].log_dist().logpdf(bias[:, 0])
        return out
    cov = np.diag(s**2) + np.outer(g, g)
    if np.linalg.eigvalsh(cov).min() <= 1e-12 * max(1.0, float(cov.max())):
        raise _CannotReweight
    return np.asarray(stats.multivariate_normal.logpdf(bias, mu, cov), dtype=float).reshape(-1)


def _blocks(estimate: Estimate) -> list[list[int]]:
    """Speakers whose biases are a priori independent of the other blocks' biases."""
    inp = estimate.inputs
    blocks: dict[Any, list[int]] = {}
    for j, p in enumerate(inp.speaker_priors):
        grp = int(inp.speaker_group[j])
        if grp < 0 or p.group_sigma == 0 or p.bias_upper is not None:
            blocks[("own", j)] = [j]
        else:
            blocks.setdefault(("group", grp), []).append(j)
    return list(blocks.values())


def _log_ratio(estimate: Estimate, new_priors: Sequence[SourcePrior]) -> np.ndarray:
    """log p_new(bias) − log p_old(bias) for every posterior draw: (sample,)."""
    old_priors = estimate.inputs.speaker_priors
    bias = np.asarray(estimate.idata.posterior["bias"], dtype=float)
    bias = bias.reshape(-1, bias.shape[-1])
    total = np.zeros(bias.shape[0])
    for block in _blocks(estimate):
        old = [old_priors[j] for j in block]
        new = [new_priors[j] for j in block]
        if old == new:
            continue
        if any(p.fixed for p in old + new):
            raise _CannotReweight
        total += _block_logpdf(new, bias[:, block]) - _block_logpdf(old, bias[:, block])
    return total


def pareto_k_threshold(n_draws: int) -> float:
    """Largest reliable Pareto k̂ for ``n_draws`` draws: min(0.7, 1 − 1/log10(n))."""
    return min(0.7, 1 - 1 / math.log10(max(n_draws, 11)))


def _psis(log_ratio: np.ndarray, chains: int) -> tuple[np.ndarray, float]:
    """Pareto-smoothed normalised weights (sample,) and the Pareto k̂."""
    import arviz as az

    if np.ptp(log_ratio) == 0:
        return np.full(log_ratio.shape, 1 / log_ratio.size), -math.inf
    ratio = np.exp(log_ratio - log_ratio.max()).reshape(chains, -1)
    reff = float(az.ess(ratio, method="mean")) / ratio.size
    if not (math.isfinite(reff) and reff > 0):
        reff = 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # arviz warns on high k; k̂ is reported instead
        lw, k = az.psislw(log_ratio, reff)
    w = np.exp(np.asarray(lw) - np.max(lw))
    return w / w.sum(), float(k)


def weighted_quantiles(x: np.ndarray, weights: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    """Quantiles ``qs`` of samples ``x`` (sample, ...) with normalised ``weights`` (sample,).

    Interpolates between the midpoints of the sorted samples' weight masses: with equal
    weights the median is :func:`numpy.median`'s.
    """
    order = np.argsort(x, axis=0)
    xs = np.take_along_axis(x, order, axis=0)
    ws = weights[order]
    cw = np.cumsum(ws, axis=0) - ws / 2
    cw /= ws.sum(axis=0)
    flat_x = xs.reshape(xs.shape[0], -1)
    flat_c = cw.reshape(cw.shape[0], -1)
    out = np.array(
        [[np.interp(q, flat_c[:, i], flat_x[:, i]) for i in range(flat_x.shape[1])] for q in qs]
    )
    return out.reshape(len(qs), *x.shape[1:])


def _headline_draws(estimate: Estimate) -> np.ndarray:
    """Posterior draws of each series' cumulative count on ``as_of``: (chain, draw, series)."""
    day = estimate.inputs.grid.day(estimate.settings.as_of)
    return np.asarray(estimate.cumulative_draws[..., day])


def _median_mcse_log(draws: np.ndarray) -> np.ndarray:
    """Monte Carlo standard error of the median of each series' log count: (series,)."""
    import arviz as az

    logs = np.log(draws)
    return np.array([float(az.mcse(logs[..., r], method="median")) for r in range(logs.shape[-1])])


def _headline(estimate: Estimate, level: float) -> pd.DataFrame:
    """:meth:`Estimate.headline` plus ``mcse_log``, the MCSE of each log median."""
    head = estimate.headline(level=level)
    head["mcse_log"] = _median_mcse_log(_headline_draws(estimate))
    return head


def _components(estimate: Estimate) -> tuple[np.ndarray, np.ndarray]:
    """Connected parts of the model: a label per series and per speaker.

    Curves, speakers and category ratios are linked by claims (a speaker's claim about
    a curve's series), shared ratios and shared group offsets. Parts that are not
    linked share no parameter, so their posteriors are independent: a change to the
    priors of one part leaves the others exactly as they were.
    """
    inp = estimate.inputs
    the_plan = inp.plan
    n_b, n_j = len(the_plan.bases), len(inp.speakers)
    parent = list(range(n_b + n_j + len(the_plan.ratios)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def union(a: int, b: int) -> None:
        parent[find(a)] = find(b)

    for r, j in zip(inp.claim_series, inp.claim_speaker, strict=True):
        union(the_plan.series_base[int(r)], n_b + int(j))
    for r, k in enumerate(the_plan.series_ratio):
        if k >= 0:
            union(the_plan.series_base[r], n_b + n_j + k)
    first_in_group: dict[int, int] = {}
    for j, g in enumerate(inp.speaker_group):
        if g >= 0:
            union(n_b + j, n_b + first_in_group.setdefault(int(g), j))
    series = np.array([find(b) for b in the_plan.series_base])
    speakers = np.array([find(n_b + j) for j in range(n_j)])
    return series, speakers


# ----------------------------------------------------------------------------- refits
def _refit_kwargs(
    estimate: Estimate, priors: Priors, draws: int | None, tune: int | None, cores: int
) -> dict[str, Any]:
    """The estimate's every fit setting, with ``priors``, the refits' draws/tuning and
    the cores each refit samples on (:func:`~casualty_models._parallel.cores_per_fit`)."""
    s = estimate.settings
    return s.fit_kwargs(
        priors=priors,
        draws=s.draws if draws is None else draws,
        tune=s.tune if tune is None else tune,
        cores=cores,
    )


def _headline_and_ok(est: Estimate, level: float) -> tuple[pd.DataFrame, bool]:
    """What a trust refit keeps: the headline with ``mcse_log``, and whether it is ok."""
    return _headline(est, level), bool(est.diagnostics.ok)


# ------------------------------------------------------------------------ sensitivity
@dataclass
class _Outcome:
    """The headline under one changed prior, per series of the base estimate."""

    median: np.ndarray
    low: np.ndarray
    high: np.ndarray
    mcse_log: np.ndarray  # of the log median, base's error included
    method: str
    pareto_k: float
    ess_weights: float
    reliable: bool


@_hooks.provides("Estimate.sensitivity")
def sensitivity(
    estimate: Estimate,
    *,
    scales: Iterable[float] = DEFAULT_SCALES,
    shifts: Iterable[float] = DEFAULT_SHIFTS,
    source_types: Iterable[str] | None = None,
    method: str = "auto",
    executor: Executor | None = None,
    draws: int | None = None,
    tune: int | None = None,
    level: float = DEFAULT_LEVEL,
) -> pd.DataFrame:
    """How the headline moves when one source type's bias prior changes.

    For each source type in the claims (or ``source_types``) whose prior some speaker
    uses, and each of ``scales`` (``bias_sigma`` and ``group_sigma`` times the scale) and
    ``shifts`` (``bias_mu`` plus the shift; ``+log 2`` for own-side reports: they
    report twice the share of the truth assumed, ×0.8 instead of ×0.4), the headline of
    every series under the changed prior. Per-source overrides are left as they are;
    ``known`` anchors are fixed and never varied.

    ``method``: ``"auto"`` reweights the posterior draws (PSIS) and refits only the
    changes whose Pareto k̂ is too high or whose weights keep fewer than
    :data:`REWEIGHT_MIN_ESS` effective draws; ``"refit"`` refits every change; ``"reweight"``
    never refits (see the module docs). Refits run on ``executor`` (default: a local
    process pool of 2 workers) with the estimate's settings; ``draws`` / ``tune``
    override its draws and tuning steps for the refits only.

    One row per (change, series): ``source_type``, ``change`` (``"bias_mu +0.69"``,
    ``"sd ×2"``), ``scale``, ``shift``, ``prior_median`` (the changed prior's median
    factor) and ``base_prior_median``, ``side``, ``category``, ``median``, ``low_90``,
    ``high_90`` (at ``level``) under the changed prior, ``base_median`` (the estimate's),
    ``shift_pct`` (100 × relative change of the median), ``mcse_pct`` (its approximate
    Monte Carlo standard error), ``elasticity`` (for shifts: −Δlog median ÷ shift, the
    share of the shift passed into the answer), ``method`` (``"reweighted"``,
    ``"refit"``, or ``"unaffected"`` for a series sharing no parameter with the changed
    speakers, whose posterior is exactly the estimate's), ``pareto_k`` and
    ``ess_weights`` (the importance weights' Pareto k̂ and effective draws 1 / Σ w²; NaN
    when not tried) and ``reliable`` (k̂ under the threshold and at least
    :data:`REWEIGHT_MIN_ESS` effective draws, or the refit converged).
    """
    check_level(level)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    changes = _changes(_varied_types(estimate, source_types), scales, shifts)
    pct = level_pct(level)
    qs = [0.5, (1 - level) / 2, (1 + level) / 2]
    base = estimate.headline(level=level)
    inp, base_priors = estimate.inputs, estimate.settings.priors
    draws_cs = _headline_draws(estimate)  # (chain, draw, series)
    chains = draws_cs.shape[0]
    flat = draws_cs.reshape(-1, draws_cs.shape[-1])
    base_mcse = _median_mcse_log(draws_cs)
    k_max = pareto_k_threshold(flat.shape[0])
    series_part, speaker_part = _components(estimate)

    def speaker_priors(change: PriorChange) -> list[SourcePrior]:
        new = change.priors(base_priors)
        return [
            new.for_speaker(s, d, t)
            for (s, d), t in zip(inp.speakers, inp.speaker_types, strict=True)
        ]

    outcomes: list[_Outcome | None] = []
    affected: list[np.ndarray] = []
    to_refit: list[int] = []
    for i, change in enumerate(changes):
        new_priors = speaker_priors(change)
        changed = [j for j, p in enumerate(new_priors) if p != inp.speaker_priors[j]]
        affected.append(np.isin(series_part, speaker_part[changed]))
        weights: np.ndarray | None = None
        k = math.nan
        if method != "refit":
            try:
                weights, k = _psis(_log_ratio(estimate, new_priors), chains)
            except _CannotReweight:  # a fixed bias has no density ratio: refit
                weights = None
        ess = math.nan if weights is None else float(1 / np.sum(weights**2))
        if weights is None or (method == "auto" and not (k <= k_max and ess >= REWEIGHT_MIN_ESS)):
            outcomes.append(_Outcome(*(np.array([]),) * 4, "refit", k, ess, False))
            to_refit.append(i)
            continue
        med, lo, hi = weighted_quantiles(flat, weights, qs)
        # IS inflates the base draws' error by the weights' spread and the changed sd
        logs = np.log(flat)
        mean_w = weights @ logs
        sd_w = np.sqrt(weights @ (logs - mean_w) ** 2)
        inflation = np.sqrt(flat.shape[0] * np.sum(weights**2)) * sd_w / logs.std(axis=0)
        outcomes.append(
            _Outcome(
                med,
                lo,
                hi,
                base_mcse * inflation,
                "reweighted",
                k,
                ess,
                bool(k <= k_max and ess >= REWEIGHT_MIN_ESS and estimate.diagnostics.ok),
            )
        )

    cores = cores_per_fit(len(to_refit), executor)
    refits = refit_many(
        [estimate.claims] * len(to_refit),
        [
            _refit_kwargs(estimate, changes[i].priors(base_priors), draws, tune, cores)
            for i in to_refit
        ],
        partial(_headline_and_ok, level=level),
        executor=executor,
        label="sensitivity refits",
    )
    for i, (head, ok) in zip(to_refit, refits, strict=True):
        got = base[["side", "category"]].merge(head, on=["side", "category"], how="left")
        previous = outcomes[i]
        assert previous is not None
        outcomes[i] = _Outcome(
            got["median"].to_numpy(float),
            got[f"low_{pct}"].to_numpy(float),
            got[f"high_{pct}"].to_numpy(float),
            np.hypot(got["mcse_log"].to_numpy(float), base_mcse),  # two independent runs
            "refit",
            previous.pareto_k,  # what sent it to a refit (NaN: never tried)
            previous.ess_weights,
            ok,
        )

    rows = []
    for change, out, hit in zip(changes, outcomes, affected, strict=True):
        assert out is not None
        new_prior = change.apply(base_priors.for_type(change.source_type))
        old_prior = base_priors.for_type(change.source_type)
        for r, b in enumerate(base.to_dict(orient="records")):
            if hit[r]:
                median, low, high = out.median[r], out.low[r], out.high[r]
                mcse, how, reliable = out.mcse_log[r], out.method, out.reliable
            else:
                median, low, high = b["median"], b[f"low_{pct}"], b[f"high_{pct}"]
                mcse, how, reliable = 0.0, "unaffected", True
            ratio = median / b["median"]
            rows.append(
                {
                    "source_type": change.source_type,
                    "change": change.label,
                    "scale": change.scale,
                    "shift": change.shift,
                    "prior_median": new_prior.factor_interval(level)[1],
                    "base_prior_median": old_prior.factor_interval(level)[1],
                    "side": b["side"],
                    "category": b["category"],
                    "median": float(median),
                    f"low_{pct}": float(low),
                    f"high_{pct}": float(high),
                    "base_median": float(b["median"]),
                    "shift_pct": float(100 * (ratio - 1)),
                    "mcse_pct": float(100 * ratio * mcse),
                    "elasticity": -math.log(ratio) / change.shift + 0.0
                    if change.shift
                    else math.nan,
                    "method": how,
                    "pareto_k": out.pareto_k if hit[r] else math.nan,
                    "ess_weights": out.ess_weights if hit[r] else math.nan,
                    "reliable": reliable,
                }
            )
    return pd.DataFrame(rows)


def sensitivity_summary(df: pd.DataFrame, *, threshold: float = RESTS_ON_PRIOR) -> pd.DataFrame:
    """Per series: the source type whose prior moves the median most, and by how much.

    From a :func:`sensitivity` table. Columns: ``side``, ``category``, ``base_median``;
    for the row that moves the median most: ``source_type``, ``change``, ``scale``,
    ``shift``, ``prior_median``, ``base_prior_median``, ``median``, ``shift_pct``,
    ``method``, ``reliable``; ``elasticity``, that type's mean elasticity over its shifts
    (the share of a shift of its ``bias_mu`` that passes into the log median: 1 means
    the answer moves one-for-one with the assumed bias); and ``rests_on_prior``,
    elasticity ≥ ``threshold``. Over all types the elasticities add up to about 1 minus
    what known counts and the tallies' cap pin down: a shift of every bias prior
    together moves the answer by the same factor, since the claims cannot tell.
    """
    needed = {"source_type", "side", "category", "shift_pct", "elasticity", "base_median"}
    missing = needed - set(df.columns)
    if missing:
        raise ValueError(f"not a sensitivity table: missing columns {sorted(missing)}")
    rows = []
    for (side, category), frame in df.groupby(["side", "category"], sort=False):
        moved = frame[frame["shift_pct"].notna()]
        if moved.empty:
            continue
        top = moved.iloc[int(np.argmax(moved["shift_pct"].abs().to_numpy()))]
        elasticity = float(
            frame.loc[frame["source_type"] == top["source_type"], "elasticity"].mean()
        )
        rows.append(
            {
                "side": side,
                "category": category,
                "base_median": float(top["base_median"]),
                "source_type": top["source_type"],
                "change": top.get("change"),
                "scale": top.get("scale"),
                "shift": top.get("shift"),
                "prior_median": top.get("prior_median"),
                "base_prior_median": top.get("base_prior_median"),
                "median": float(top["median"]),
                "shift_pct": float(top["shift_pct"]),
                "method": top.get("method"),
                "reliable": top.get("reliable"),
                "elasticity": elasticity,
                "rests_on_prior": bool(math.isfinite(elasticity) and elasticity >= threshold),
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------- leave one source out
@_hooks.provides("Estimate.leave_one_source_out")
def leave_one_source_out(
    estimate: Estimate,
    *,
    sources: Iterable[str] | None = None,
    executor: Executor | None = None,
    draws: int | None = None,
    tune: int | None = None,
    level: float = DEFAULT_LEVEL,
) -> pd.DataFrame:
    """Refit without each source (all of its claims, about every side) in turn.

    ``sources`` limits which sources are left out (default: every source). Refits run on
    ``executor`` (default: a local process pool of 2 workers) with the estimate's
    settings; ``draws`` / ``tune`` override its draws and tuning steps. Per-source prior
    overrides of the left-out source are dropped with it.

    One row per (source left out, series of the estimate): ``source``, ``n_claims`` (its
    claims), ``side``, ``category``, ``median``, ``low_90``, ``high_90`` (at ``level``)
    without it, ``base_median``, ``shift_pct`` (100 × relative change of the median),
    ``mcse_pct`` (its approximate Monte Carlo standard error), ``note`` (why a row is
    NaN — no claims about the series are left — or that the series shares no parameter
    with the source, so its posterior is exactly the estimate's), and ``reliable`` (the
    refit converged). Sorted by ``|shift_pct|``, largest first; NaN rows last.
    """
    check_level(level)
    pct = level_pct(level)
    claims, settings = estimate.claims, estimate.settings
    names = list(dict.fromkeys(c.source for c in claims))
    if sources is not None:
        wanted = list(dict.fromkeys(sources))
        bad = [s for s in wanted if s not in names]
        if bad:
            raise ValueError(f"no claims by {bad}; sources: {names}")
        names = wanted
    base = _headline(estimate, level)
    series_part, speaker_part = _components(estimate)
    speakers = estimate.inputs.speakers
    kept_sets: list[list[Any]] = []
    kept_priors: list[Priors] = []
    job_of: dict[str, int] = {}
    for name in names:
        rest = [c for c in claims if c.source != name]
        if not rest:
            continue
        kept = {
            k: v
            for k, v in settings.priors.sources.items()
            if k != name and not k.startswith(f"{name}|")
        }
        job_of[name] = len(kept_sets)
        kept_sets.append(rest)
        kept_priors.append(replace(settings.priors, sources=kept))
    cores = cores_per_fit(len(kept_sets), executor)
    results = refit_many(
        kept_sets,
        [_refit_kwargs(estimate, p, draws, tune, cores) for p in kept_priors],
        partial(_headline_and_ok, level=level),
        origin=claims.origin,
        executor=executor,
        label="leave-one-source-out refits",
    )

    rows = []
    for name in names:
        rest = [c for c in claims if c.source != name]
        left = {c.series for c in rest}
        mine = [j for j, (source, _) in enumerate(speakers) if source == name]
        touched = np.isin(series_part, speaker_part[mine])
        # the grid ends at the latest claim: if it moves, every curve's knots move
        same_grid = bool(rest) and max(settings.as_of, *(c.as_of for c in rest)) == settings.end
        head, ok = results[job_of[name]] if name in job_of else (None, False)
        for r, b in enumerate(base.to_dict(orient="records")):
            series = (b["side"], b["category"])
            row: dict[str, Any] = {
                "source": name,
                "n_claims": len(claims) - len(rest),
                "side": b["side"],
                "category": b["category"],
                "median": math.nan,
                f"low_{pct}": math.nan,
                f"high_{pct}": math.nan,
                "base_median": b["median"],
                "shift_pct": math.nan,
                "mcse_pct": math.nan,
                "note": "",
                "reliable": ok,
            }
            if head is None or series not in left:
                row["note"] = f"no claims about {series[0]} {series[1]} without {name}"
                rows.append(row)
                continue
            if not touched[r] and same_grid:
                got, mcse = b, 0.0
                row["note"] = f"shares no parameter with {name}: unchanged"
                row["reliable"] = True
            else:
                match = head[(head["side"] == series[0]) & (head["category"] == series[1])]
                got = match.iloc[0].to_dict()
                mcse = math.hypot(float(got["mcse_log"]), float(b["mcse_log"]))
            ratio = float(got["median"]) / b["median"]
            row.update(
                {
                    "median": float(got["median"]),
                    f"low_{pct}": float(got[f"low_{pct}"]),
                    f"high_{pct}": float(got[f"high_{pct}"]),
                    "shift_pct": 100 * (ratio - 1),
                    "mcse_pct": 100 * ratio * mcse,
                }
            )
            rows.append(row)
    out = pd.DataFrame(rows)
    order = out["shift_pct"].abs().fillna(-1.0)
    return out.loc[order.sort_values(ascending=False, kind="stable").index].reset_index(drop=True)


# ------------------------------------------------------------------- calibration (PIT)
def claims_pit(estimate: Estimate) -> pd.DataFrame:
    """PIT value of every point claim: the share of posterior predictive draws below it.

    For a calibrated model and claims it had not seen, PIT values are uniform on 0–1.
    Only point claims (and ranges with a stated probability, observed at their
    midpoint) have one; ranges, floors and ceilings are left out. Each claim is part of
    the fit, so PIT values bunch toward 0.5: read extremes as surprising, not a bunch in
    the middle as a fault. Columns: ``claim`` (index), ``source``, ``source_type``,
    ``side``, ``category``, ``as_of``, ``pit``.
    """
    inp = estimate.inputs
    points = np.flatnonzero(inp.claim_kind == KIND_CODES["point"])
    pred = estimate.predictive_draws()[:, points]
    pit = np.mean(pred < inp.claim_log_value[points], axis=0)
    rows = []
    for i, p in zip(points, pit, strict=True):
        c = estimate.claims[int(i)]
        rows.append(
            {
                "claim": int(i),
                "source": c.source,
                "source_type": c.source_type,
                "side": c.side,
                "category": c.category,
                "as_of": pd.Timestamp(c.as_of),
                "pit": float(p),
            }
        )
    columns = ["claim", "source", "source_type", "side", "category", "as_of", "pit"]
    return pd.DataFrame(rows, columns=columns)


__all__ = [
    "DEFAULT_SCALES",
    "DEFAULT_SHIFTS",
    "RESTS_ON_PRIOR",
    "REWEIGHT_MIN_ESS",
    "TYPE_PHRASES",
    "PriorChange",
    "claims_pit",
    "leave_one_source_out",
    "pareto_k_threshold",
    "sensitivity",
    "sensitivity_summary",
    "weighted_quantiles",
]
