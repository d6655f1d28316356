"""Convergence diagnostics of a fit, and the warning that names concrete remedies."""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

R_HAT_MAX = 1.01
ESS_MIN = 400
CHAINS_APART_Z = 5.0
"""Chains have settled apart when two chains' means of a quantity differ by more than this
many of their Monte Carlo standard errors: more draws will not bring them together (about
3.5 is the largest expected over a few hundred quantities of chains that mix)."""
MODEL_CHECK_LEVEL = 0.99
"""A claim is *surprising* when it lies outside its posterior predictive interval at this
level (a point), or the event it states has less than 1 − this probability: the one
definition, used by the model check, ``claims_check()`` and the report. At 90% one claim
in ten would be flagged by chance alone, and a reader would see two numbers for one idea."""
SURPRISE_P = round(1 - MODEL_CHECK_LEVEL, 12)
"""A claim whose predictive p-value is below this is surprising (see MODEL_CHECK_LEVEL)."""
MODEL_CHECK_MAX_SHARE = 0.1
"""The model check fails when more than this share of the claims used is implausible:
about 1% would be under the model (fewer, as each claim is part of the fit)."""


class ConvergenceWarning(UserWarning):
    """The sampler did not converge well enough to trust the intervals as printed."""


class ModelCheckWarning(UserWarning):
    """The fitted model cannot explain the claims: many lie far outside its predictions."""


@dataclass(frozen=True)
class Diagnostics:
    """Worst-case convergence numbers over every reported quantity, and the model check.

    ``r_hat_max`` is the largest rank-normalised split R-hat, ``ess_bulk_min`` and
    ``ess_tail_min`` the smallest effective sample sizes, ``divergences`` the number of
    divergent transitions after tuning; ``worst`` names the quantity with the largest
    R-hat. The model check: of ``claims_checked`` claims used by the fit,
    ``claims_implausible`` lie outside their :data:`MODEL_CHECK_LEVEL` posterior
    predictive interval; ``worst_claims`` describes the most surprising ones.
    ``priors_decide`` names each headline whose answer the bias priors decide (power-scaling
    sensitivity, :meth:`Estimate.prior_sensitivity`), e.g. ``ukraine killed: prior
    dominates (enemy)``: not a failed check, but what the answer rests on.
    """

    r_hat_max: float
    """Largest rank-normalised split R-hat (at most 1.01 to pass)."""
    ess_bulk_min: float
    """Smallest bulk effective sample size, in draws (at least 400 to pass)."""
    ess_tail_min: float
    """Smallest tail effective sample size, in draws (at least 400 to pass)."""
    divergences: int
    """Divergent transitions after tuning (none to pass)."""
    tree_depth_hits: int
    """Transitions that reached the sampler's maximum tree depth."""
    chains: int
    """Number of chains."""
    draws: int
    """Draws per chain."""
    worst: str
    """The quantity with the largest R-hat."""
    claims_checked: int = 0
    """Claims the model check covers (those the fit used)."""
    claims_implausible: int = 0
    """Of those, the number outside their 99% predictive interval."""
    worst_claims: tuple[str, ...] = ()
    """The most surprising claims, in words."""
    chains_apart: float = 0.0
    """How far the chains' means lie apart, in Monte Carlo standard errors."""
    priors_decide: tuple[str, ...] = ()
    """One line per headline whose answer the bias priors decide (prior dominates, or
    prior-data conflict: :meth:`Estimate.prior_sensitivity`)."""

    @property
    def settled_apart(self) -> bool:
        """The chains disagree by more than their Monte Carlo error (:data:`CHAINS_APART_Z`):
        more draws will not help, unlike a short ESS or an R-hat of too few draws."""
        return self.chains_apart > CHAINS_APART_Z

    @property
    def converged(self) -> bool:
        """The sampler's checks: R-hat, bulk and tail ESS, divergences."""
        return not self.sampler_problems()

    @property
    def model_ok(self) -> bool:
        """The model check: few enough claims outside their predictive intervals."""
        return self.claims_implausible <= MODEL_CHECK_MAX_SHARE * self.claims_checked

    @property
    def ok(self) -> bool:
        """Both: the sampler converged and the model explains the claims."""
        return self.converged and self.model_ok

    def sampler_problems(self) -> list[str]:
        """Plain-language list of failed convergence checks (empty when all pass)."""
        out = []
        if np.isnan(self.r_hat_max):
            out.append(f"R-hat undefined for {self.worst} (needs 2 or more chains)")
        elif self.r_hat_max > R_HAT_MAX:
            out.append(f"R-hat {self.r_hat_max:.3f} > {R_HAT_MAX} (worst: {self.worst})")
        if not self.ess_bulk_min >= ESS_MIN:
            out.append(f"bulk ESS {self.ess_bulk_min:.0f} < {ESS_MIN}")
        if not self.ess_tail_min >= ESS_MIN:
            out.append(f"tail ESS {self.ess_tail_min:.0f} < {ESS_MIN}")
        if self.divergences:
            out.append(f"{self.divergences} divergent transitions")
        return out

    def model_problems(self) -> list[str]:
        """The failed model check in words (empty when it passes)."""
        if self.model_ok:
            return []
        share = self.claims_implausible / self.claims_checked
        return [
            f"model check failed: {self.claims_implausible} of {self.claims_checked} claims "
            f"({share:.0%}) lie outside their {MODEL_CHECK_LEVEL:.0%} posterior predictive "
            f"interval (at most {MODEL_CHECK_MAX_SHARE:.0%} allowed); the estimate does not "
            "explain the claims it was given. Most surprising: " + "; ".join(self.worst_claims)
        ]

    def problems(self) -> list[str]:
        """Plain-language list of every failed check (empty when all pass)."""
        return self.sampler_problems() + self.model_problems()

    def remedies(self) -> list[str]:
        """Concrete next steps for the failed checks."""
        out = []
        if self.divergences:
            out.append(
                "raise target_accept (e.g. fit(..., target_accept=0.98)); if "
                "divergences persist, look for claims in sharp conflict with "
                "est.claims_check() and widen the priors of their source types"
            )
        if self.settled_apart:
            out.append(
                f"the chains settled apart ({self.worst}): more draws will not help; the "
                "posterior may have two modes (look for claims in sharp conflict in "
                "est.claims_check()), or the mass-matrix adaptation failed: try "
                f"tune={2 * max(self.draws, 1000)} or the other sampler, "
                "fit(..., sampler='nutpie') or sampler='pymc'"
            )
        elif not self.r_hat_max <= R_HAT_MAX or not (
            self.ess_bulk_min >= ESS_MIN and self.ess_tail_min >= ESS_MIN
        ):
            out.append(
                "the chains agree but mix slowly: more draws will help, try "
                f"draws={draws_needed(self)}"
            )
        if self.tree_depth_hits:
            out.append(
                "many transitions hit the maximum tree depth: the posterior is "
                "badly scaled; check for sources with contradictory claims"
            )
        if not self.model_ok:
            out.append(
                "read est.claims_check() (surprising claims first): fix typos and figures "
                "filed under the wrong category or side, give a source that mixes outlets "
                "one name per outlet, and check that each source_type (own, enemy, "
                "neutral, ...) is right; if the claims are right, the bias priors are not "
                "(cm.Priors, or the sensitivity table of --trust)"
            )
        return out

    def message(self) -> str:
        """Every failed check and its remedies in one paragraph, or that all passed."""
        return (
            "; ".join(self.problems()) + ". Remedies: " + "; ".join(self.remedies())
            if self.problems()
            else "all convergence and model checks passed"
        )

    def to_dict(self) -> dict[str, Any]:
        """The numbers as a JSON-ready dict."""
        return asdict(self)


def draws_needed(d: Diagnostics) -> int:
    """Draws per chain that should lift the smallest ESS above the bar, with a margin
    (ESS grows in proportion to draws when chains mix); at least 1.5x for an R-hat above
    the bar, whose excess shrinks as draws grow."""
    ess = min(d.ess_bulk_min, d.ess_tail_min)
    factor = ESS_MIN / ess if ess > 0 else 4.0
    return int(np.ceil(min(max(factor * 1.2, 1.5), 10.0) * d.draws / 100) * 100)


def chains_apart(draws: np.ndarray) -> float:
    """The largest distance between two chains' means of any quantity of ``draws``
    (chain, draw, quantity), in Monte Carlo standard errors of the difference (each
    chain's from its own ESS): about normal when chains mix, however few the draws;
    large when they sample different places."""
    from casualty_models._ess import mcse_mean

    n = draws.shape[0]
    if n < 2 or not draws.shape[2]:
        return 0.0
    means = draws.mean(axis=1)  # (chain, quantity)
    mcse = np.stack([mcse_mean(draws[c : c + 1]) for c in range(n)])
    worst = 0.0
    for a in range(n):
        for b in range(a + 1, n):
            diff = np.abs(means[a] - means[b])
            se = np.hypot(mcse[a], mcse[b])
            z = np.where(se > 0, diff / np.where(se > 0, se, 1.0), 0.0)
            worst = max(worst, float(np.nanmax(z, initial=0.0)))
    return worst


def _stacked(ds: Any) -> np.ndarray:
    """Every quantity of ``ds`` (dims chain, draw, ...) side by side: (chain, draw, n)."""
    c, d = ds.sizes["chain"], ds.sizes["draw"]
    return np.concatenate(
        [np.asarray(ds[v].transpose("chain", "draw", ...)).reshape(c, d, -1) for v in ds.data_vars],
        axis=2,
    )


def _unstacked(ds: Any, values: np.ndarray) -> Any:
    """``values`` (n,) of :func:`_stacked`'s quantities, as a Dataset shaped like ``ds``
    without chain and draw (what ArviZ's rhat and ess return)."""
    template = ds.isel(chain=0, draw=0, drop=True)
    out, at = {}, 0
    for v in ds.data_vars:
        size = int(np.prod(template[v].shape))
        out[v] = values[at : at + size].reshape(template[v].shape)
        at += size
    return template.copy(data=out)


def compute(posterior: dict[str, Any], sample_stats: Any, max_tree_depth: int) -> Diagnostics:
    """Diagnostics over the given quantities.

    ``posterior`` maps a name to an xarray DataArray with leading dims (chain, draw);
    ``sample_stats`` is the InferenceData group of the same name.
    """
    import xarray as xr

    from casualty_models._ess import convergence

    ds = xr.Dataset(posterior)
    draws = _stacked(ds)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        # fixed quantities divide by a zero variance; they are set aside just below
        warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
        rhat, ess_bulk, ess_tail = (_unstacked(ds, v) for v in convergence(draws))
    # a quantity the model fixes (a drift before its tally's first figure) never moves:
    # it has no R-hat or ESS, and nothing to check
    moves = draws.max(axis=(0, 1)) != draws.min(axis=(0, 1))
    fixed = {name: ~np.asarray(v) for name, v in _unstacked(ds, moves).data_vars.items()}
    for table in (rhat, ess_bulk, ess_tail):
        for name in ds.data_vars:
            table[name] = table[name].where(~fixed[name])
    worst_name, worst_val = "", -np.inf
    for name in ds.data_vars:
        vals = np.asarray(rhat[name])[~fixed[name]]
        if vals.size == 0:
            continue
        if np.isnan(vals).any():  # one chain
            worst_val, worst_name = np.nan, str(name)
            break
        if vals.max() > worst_val:
            worst_val = float(vals.max())
            full = np.where(fixed[name], -np.inf, np.asarray(rhat[name]))
            where = np.unravel_index(np.argmax(full), full.shape)
            labels = [
                str(rhat[name][d].values[i]) for d, i in zip(rhat[name].dims, where, strict=True)
            ]
            worst_name = f"{name}[{', '.join(labels)}]" if labels else str(name)

    def _min(ds_: Any) -> float:
        mins = [np.asarray(ds_[v])[~fixed[v]] for v in ds_.data_vars]
        return float(min(np.nanmin(m) for m in mins if m.size))

    diverging = int(np.asarray(sample_stats["diverging"]).sum())
    depth = np.asarray(sample_stats["tree_depth"]) if "tree_depth" in sample_stats else np.zeros(1)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        apart = chains_apart(draws[:, :, moves])
    return Diagnostics(
        chains_apart=apart,
        r_hat_max=float(worst_val),
        ess_bulk_min=_min(ess_bulk),
        ess_tail_min=_min(ess_tail),
        divergences=diverging,
        tree_depth_hits=int((depth >= max_tree_depth).sum()),
        chains=int(ds.sizes["chain"]),
        draws=int(ds.sizes["draw"]),
        worst=worst_name,
    )
