"""How far one claim alone moves each headline: the posterior without it, by PSIS or a refit.

For an estimate fitted with claim ``j``, the posterior without ``j`` is the posterior
reweighted by ``p(claims without j | θ) / p(claims | θ)`` (times the change of the one
prior that depends on the claims, the curves' level prior; :mod:`casualty_models.loglik`).
For an ordinary claim the ratio is ``exp(−loglik_j)``, the weights of PSIS
leave-one-out cross-validation (Vehtari, Gelman & Gabry 2017). It is computed as the
whole data log-likelihood of the claims without ``j``, read afresh (:func:`prepare`),
minus that of all the claims, at the same draws, because some claims do not enter alone:

* a running tally's later figure enters through its rise, and consecutive rises share
  their errors (AR(1)); without the figure its two rises become one, and every term of
  the tally after it changes a little. The difference of the tally's whole rise
  likelihood with and without the figure is that figure's evidence, exactly;
* two outlets quoting one statement share its weight (their noise is scaled by the
  square root of their number), so without one the other weighs more;
* a tally figure can be a spike only against its neighbours.

The weights are Pareto-smoothed (:func:`casualty_models.trust._psis`). Where Pareto k̂
exceeds :func:`casualty_models.trust.pareto_k_threshold` (0.7 for the usual number of
draws), or where the claims without ``j`` make a different model (a tally with fewer
than ``running_min_claims`` figures is read as ordinary claims; a drift that starts
later; a shorter grid), the estimate is refitted without the claim through
:func:`casualty_models._parallel.refit_many`, with the estimate's own settings
(:meth:`FitSettings.fit_kwargs`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from functools import cached_property, partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from casualty_models._parallel import cores_per_fit, refit_many
from casualty_models.claim_changes import change_label
from casualty_models.claims import ClaimSet
from casualty_models.loglik import Draws, level_logprior, total_loglik
from casualty_models.model import ModelInputs, prepare
from casualty_models.trust import (
    _components,
    _headline_and_ok,
    _headline_draws,
    _median_mcse_log,
    _psis,
    weighted_quantiles,
)

if TYPE_CHECKING:
    from casualty_models.estimate import Estimate

ATTRIBUTION_COLUMNS: tuple[str, ...] = (
    "change_id",
    "change",
    "claim",
    "source",
    "as_of",
    "side",
    "category",
    "effect",
    "effect_pct",
    "mcse_pct",
    "method",
    "pareto_k",
    "reliable",
    "note",
)


@dataclass(frozen=True)
class Without:
    """The headline of one estimate without one of its claims.

    ``median`` (series,) of the estimate's series, NaN where no claim about the series
    would be left; ``mcse_log`` the Monte Carlo standard error of the log of that
    median; ``method`` "reweighted", "refit" or "not evidence" (the claim has no
    likelihood term, nothing to reweight); ``pareto_k`` the weights' k̂ (NaN when not
    tried); ``reliable`` the reweighting passed k̂ or the refit its checks; ``note`` why
    a refit was needed; ``effect_mcse_log`` the Monte Carlo standard error of the
    difference of the log medians with and without the claim (default: ``mcse_log``, as
    for a refit, whose draws are independent of the estimate's).
    """

    @property
    def effect_mcse(self) -> np.ndarray:
        return self.mcse_log if self.effect_mcse_log is None else self.effect_mcse_log

    median: np.ndarray
    mcse_log: np.ndarray
    method: str
    pareto_k: float
    ess: float
    reliable: bool
    note: str = ""
    effect_mcse_log: np.ndarray | None = None  # of log(median) − log(median without)


class Side:
    """One estimate (the old or the new) and its claims' draws, for leaving claims out."""

    def __init__(self, estimate: Estimate, level: float):
        self.estimate = estimate
        self.level = level

    @cached_property
    def draws(self) -> Draws:
        return Draws.of(self.estimate)

    @cached_property
    def base_loglik(self) -> np.ndarray:
        inp = self.estimate.inputs
        return total_loglik(inp, self.draws) + level_logprior(inp, self.draws)

    @cached_property
    def headline_draws(self) -> np.ndarray:
        """(chain, draw, series) of the cumulative count on as_of."""
        return _headline_draws(self.estimate)

    @cached_property
    def median(self) -> np.ndarray:
        flat = self.headline_draws.reshape(-1, self.headline_draws.shape[-1])
        out: np.ndarray = np.median(flat, axis=0)
        return out

    @cached_property
    def mcse_log(self) -> np.ndarray:
        return _median_mcse_log(self.headline_draws)

    @cached_property
    def components(self) -> tuple[np.ndarray, np.ndarray]:
        return _components(self.estimate)

    def touched(self, i: int) -> np.ndarray:
        """(series,) bool: the series that share a parameter with claim ``i``."""
        series_part, speaker_part = self.components
        return np.asarray(series_part == speaker_part[self.estimate.inputs.claim_speaker[i]])

    def reduced(self, i: int) -> ClaimSet:
        claims = self.estimate.claims
        keep = [k for k in range(len(claims)) if k != i]
        return ClaimSet._trusted(
            tuple(claims[k] for k in keep), claims.origin, [claims.places[k] for k in keep]
        )

    def log_ratio(self, i: int) -> tuple[np.ndarray | None, str]:
        """log p(claims without ``i``) − log p(claims) at every draw (sample,), or None
        and the reason when the claims without it make a different model."""
        est = self.estimate
        full = est.inputs
        reduced = self.reduced(i)
        s = est.settings
        if len(reduced) == 0:
            return None, "no claim would be left"
        end = max(s.as_of, *(c.end() or c.as_of for c in reduced))
        if end != s.end:
            return None, f"without it the grid would end on {end}, not {s.end}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the fit has shown the input warnings
            # the knots are a resolution, not evidence: the same ones with and without it
            red = prepare(reduced, start=s.start, end=s.end, priors=s.priors, grid=full.grid)
        reason = _different_model(full, red)
        if reason:
            return None, reason
        kept = np.array([k for k in range(len(est.claims)) if k != i], dtype=int)
        d = self.draws
        running = [full.running.index(full.speakers.index(red.speakers[j])) for j in red.running]
        mapped = replace(
            d,
            loc=d.loc[:, kept],
            log_count=d.log_count[:, kept],
            series=np.array([full.series.index(sc) for sc in red.series], dtype=int),
            rise_noise=d.rise_noise[:, running] if running else d.rise_noise[:, :0],
            curves=np.array([full.plan.bases.index(b) for b in red.plan.bases], dtype=int),
        )
        ratio = total_loglik(red, mapped) + level_logprior(red, mapped) - self.base_loglik
        return ratio, ""

    def without(self, i: int, k_max: float | None) -> Without:
        """The headline without claim ``i`` by reweighting; ``method="refit"`` with NaN
        numbers when the reweighting is unreliable (k̂ above ``k_max``; None: never)."""
        est = self.estimate
        n_series = len(est.inputs.series)
        nan = np.full(n_series, np.nan)
        log_ratio, reason = self.log_ratio(i)
        if log_ratio is None:
            return Without(nan, nan, "refit", math.nan, math.nan, False, reason)
        if np.ptp(log_ratio) == 0:  # no term of its own (an echo, a restatement)
            return Without(
                self.median.copy(), np.zeros(n_series), "not evidence", math.nan, math.nan, True
            )
        chains = self.headline_draws.shape[0]
        weights, k = _psis(log_ratio, chains)
        ess = float(1 / np.sum(weights**2))
        if k_max is not None and not k <= k_max:
            note = f"Pareto k̂ {k:.2f} above {k_max:.2f}"
            return Without(nan, nan, "refit", k, ess, False, note)
        flat = self.headline_draws.reshape(-1, n_series)
        median = weighted_quantiles(flat, weights, [0.5])[0]
        # importance sampling inflates the error of the base draws by the weights' spread
        logs = np.log(flat)
        mean_w = weights @ logs
        sd_w = np.sqrt(weights @ (logs - mean_w) ** 2)
        sd = logs.std(axis=0)
        inflation = np.sqrt(flat.shape[0] * np.sum(weights**2)) * np.divide(
            sd_w, sd, out=np.ones_like(sd), where=sd > 0
        )
        reliable = bool(k_max is None or k <= k_max)
        effect_mcse = _effect_mcse_log(logs, weights, chains)
        return Without(
            median, self.mcse_log * inflation, "reweighted", k, ess, reliable, "", effect_mcse
        )

    def series_left(self, i: int) -> np.ndarray:
        """(series,) bool: the series is still reported without claim ``i`` (a refit
        without it would have it)."""
        from casualty_models.model.categories import plan

        inp = self.estimate.inputs
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            left = plan(self.reduced(i).series, link=inp.priors.link_categories).series
        return np.array([sc in left for sc in inp.series])


def _effect_mcse_log(logs: np.ndarray, weights: np.ndarray, chains: int) -> np.ndarray:
    """(series,) Monte Carlo standard error of median − weighted median of ``logs``
    (sample, series), both from the same draws.

    Linearised: the weighted median is the median plus the mean over draws of
    ``z = (S w − 1)(1[x ≤ median] − ½) / f(median)`` (``S`` draws, ``f`` the density at
    the median, from the central 10% of the draws), so the difference's error is the
    error of that mean, with the draws' autocorrelation (ArviZ, ``method="mean"``). Far
    smaller than either median's own error when the weights are nearly even.
    """
    import arviz as az

    n = logs.shape[0]
    median = np.median(logs, axis=0)
    lo, hi = np.quantile(logs, [0.45, 0.55], axis=0)
    density = 0.1 / np.maximum(hi - lo, np.finfo(float).tiny)
    z = (n * weights - 1)[:, None] * ((logs <= median) - 0.5) / density
    out = []
    for r in range(logs.shape[1]):
        col = z[:, r].reshape(chains, -1)
        out.append(0.0 if np.ptp(col) == 0 else float(np.ravel(az.mcse(col, method="mean"))[0]))
    return np.array(out)


def _different_model(full: ModelInputs, red: ModelInputs) -> str:
    """Why the reduced inputs are not the full model with terms left out ("" if they are)."""
    if full.grid != red.grid:
        return "the grid would change"
    a, b = full.stretches, red.stretches
    if len(a) != len(b) or any(
        not np.array_equal(getattr(a, f), getattr(b, f)) for f in ("curve", "left", "right")
    ):
        return "a stretch no claim looks inside would change"
    names = [full.speakers[j] for j in full.running]
    red_names = [red.speakers[j] for j in red.running]
    if set(names) != set(red_names):
        return "a running tally would be read differently (as one, or not)"
    for name, knot in zip(red_names, red.running_first_knot, strict=True):
        if knot != full.running_first_knot[names.index(name)]:
            return "a running tally's drift would start at another knot"
    for r, sc in enumerate(red.series):
        if sc not in full.series:
            return "a new series would appear"
        f = full.series.index(sc)
        if full.plan.bases[full.plan.series_base[f]] != red.plan.bases[red.plan.series_base[r]]:
            return "a series would follow another curve"
        fr, rr = full.plan.series_ratio[f], red.plan.series_ratio[r]
        same_ratio = (fr < 0 and rr < 0) or (
            fr >= 0 and rr >= 0 and full.plan.ratios[fr] == red.plan.ratios[rr]
        )
        if not same_ratio or full.plan.series_add_one[f] != red.plan.series_add_one[r]:
            return "a series would be linked to its curve differently"
    return ""


def refit_without(
    jobs: Sequence[tuple[Side, int]],
    *,
    executor: Executor | None = None,
    progress: bool = False,
) -> list[Without]:
    """Refit each (side, claim) without the claim, with the side's own settings (every
    one, the seed included, through :func:`casualty_models._parallel.refit_many`),
    starting warm from the side's posterior (only its warm state travels to the
    worker). Where the claims less one are the same model (:func:`_different_model`),
    every parameter carries over; where a curve goes with the claim, the refit starts
    cold."""
    if not jobs:
        return []
    level = jobs[0][0].level
    cores = cores_per_fit(len(jobs), executor)
    results = refit_many(
        [side.reduced(i) for side, i in jobs],
        [
            side.estimate.settings.fit_kwargs(cores=cores)
            | {"warm_start": side.estimate.warm_state}
            for side, _ in jobs
        ],
        partial(_headline_and_ok, level=level),
        executor=executor,
        label="attribution refits",
        progress=progress,
    )
    out = []
    for (side, _), (head, ok) in zip(jobs, results, strict=True):
        series = side.estimate.inputs.series
        got = {(str(r["side"]), str(r["category"])): r for r in head.to_dict(orient="records")}
        median = np.array([float(got[s]["median"]) if s in got else math.nan for s in series])
        mcse = np.array([float(got[s]["mcse_log"]) if s in got else math.nan for s in series])
        out.append(
            Without(median, np.hypot(mcse, side.mcse_log), "refit", math.nan, math.nan, bool(ok))
        )
    return out


def effect_rows(
    side: Side, i: int, got: Without, sign: int
) -> list[tuple[float, float, str, bool, str]]:
    """Per series of ``side``: (effect in people, its MCSE in people, method, reliable,
    note). ``sign`` +1 for a claim the new estimate has (new − new without it), −1 for
    one the old had (old without it − old)."""
    left = side.series_left(i)
    touched = side.touched(i)
    rows = []
    for r in range(len(side.median)):
        base = float(side.median[r])
        if not left[r]:
            rows.append((math.nan, math.nan, got.method, False, "no claim about it without this"))
        elif not touched[r]:
            rows.append((0.0, 0.0, "unaffected", True, "shares no parameter with the claim"))
        else:
            without = float(got.median[r])
            effect = sign * (base - without)
            mcse = base * float(got.effect_mcse[r]) if got.method != "not evidence" else 0.0
            rows.append((effect, mcse, got.method, got.reliable, got.note))
    return rows


def attribution_table(
    head: pd.DataFrame,
    claims: pd.DataFrame,
    parts: list[list[tuple[Side, int, int]]],
    results: dict[tuple[int, int], Without],
    old_side: Side,
    new_side: Side,
) -> pd.DataFrame:
    """The attribution table of :class:`casualty_models.compare.Comparison`: per change
    (``parts``: its (side, claim, sign) pieces, an edit has two) and series, the sum of
    its pieces' effects (``results``); per series, the rest of the change."""
    series = list(zip(head["side"], head["category"], strict=True))
    base = dict(zip(series, head["old_median"], strict=True))
    rows = []
    for k, mine in enumerate(parts):
        effect = {s: 0.0 for s in series}
        var = {s: 0.0 for s in series}
        methods: dict[tuple[str, str], list[str]] = {s: [] for s in series}
        reliable = {s: True for s in series}
        notes: dict[tuple[str, str], list[str]] = {s: [] for s in series}
        k_hat = math.nan
        for side, i, sign in mine:
            got = results[(id(side), i)]
            if math.isfinite(got.pareto_k):
                k_hat = got.pareto_k if math.isnan(k_hat) else max(k_hat, got.pareto_k)
            own = side.estimate.inputs.series
            per_series = effect_rows(side, i, got, sign)
            for sc, (eff, mcse, how, ok, note) in zip(own, per_series, strict=True):
                effect[sc] = effect[sc] + eff
                var[sc] = var[sc] + mcse**2
                methods[sc].append(how)
                reliable[sc] = reliable[sc] and ok
                if note:
                    notes[sc].append(note)
        for sc in series:
            used = methods[sc]
            if not mine:
                label, ok = "not evidence", True
            elif not used:  # the series is not in the estimate the claim belongs to
                label, ok = "unaffected", True
            else:
                label = next((m for m in ("refit", "reweighted") if m in used), used[0])
                ok = reliable[sc]
            old_median = base[sc]
            rows.append(
                {
                    "change_id": k,
                    "change": claims.iloc[k]["change"],
                    "claim": change_label(claims, k),
                    "source": claims.iloc[k]["source"],
                    "as_of": claims.iloc[k]["as_of"],
                    "side": sc[0],
                    "category": sc[1],
                    "effect": effect[sc],
                    "effect_pct": 100 * effect[sc] / old_median,
                    "mcse_pct": 100 * math.sqrt(var[sc]) / old_median,
                    "method": label,
                    "pareto_k": k_hat,
                    "reliable": ok,
                    "note": "; ".join(dict.fromkeys(notes[sc])),
                }
            )
    frame = pd.DataFrame(rows, columns=ATTRIBUTION_COLUMNS)
    for r in head.to_dict(orient="records"):
        sc = (r["side"], r["category"])
        mine_rows = frame[(frame["side"] == sc[0]) & (frame["category"] == sc[1])]
        rest = float(r["change"]) - float(mine_rows["effect"].astype(float).sum())
        note = "what the claims do together, beyond their separate effects"
        olds, news = old_side.estimate.settings, new_side.estimate.settings
        if olds.as_of != news.as_of:
            note += f", and the move of as_of from {olds.as_of} to {news.as_of}"
        others = [
            name
            for name in ("start", "priors", "draws", "tune", "chains", "random_seed", "sampler")
            if getattr(olds, name) != getattr(news, name)
        ]  # (as _changed_settings, before the Comparison exists)
        if others:
            note += f", and the changed settings ({', '.join(others)})"
        rows.append(
            {
                "change_id": -1,
                "change": "interactions",
                "claim": "interactions and the rest",
                "source": "",
                "as_of": "",
                "side": sc[0],
                "category": sc[1],
                "effect": rest,
                "effect_pct": 100 * rest / r["old_median"],
                # the change's error and every effect's (added: they may be correlated)
                "mcse_pct": math.hypot(
                    float(r["mcse_pct"]), float(mine_rows["mcse_pct"].astype(float).sum())
                ),
                "method": "rest",
                "pareto_k": math.nan,
                "reliable": True,
                "note": note,
            }
        )
    return pd.DataFrame(rows, columns=ATTRIBUTION_COLUMNS)


__all__ = [
    "ATTRIBUTION_COLUMNS",
    "Side",
    "Without",
    "attribution_table",
    "effect_rows",
    "refit_without",
]
