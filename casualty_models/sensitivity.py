"""Do the priors decide the answer? Power-scaling sensitivity, from the draws alone.

Kallioinen, Paananen, Bürkner and Vehtari (2023, *Statistics and Computing* 34:57)
measure how far a posterior quantity moves when the prior, or the likelihood, is raised
to a power near one (``p(θ)^α``): importance weights ``exp((α − 1) log p(θ))`` at each
draw, Pareto-smoothed, reweight the draws as if the model had been refitted, and the
cumulative Jensen–Shannon distance between the weighted and the original draws, per
unit of ``log α``, is the sensitivity. No refit: :func:`arviz.psens` does the
arithmetic on an InferenceData with ``log_prior`` and ``log_likelihood`` groups, which
this module builds from an :class:`~casualty_models.estimate.Estimate`.

* **The prior scaled** is the prior of every speaker's bias: per group of speakers that
  share an offset (one source type about one side), the multivariate normal of their
  biases with the offset integrated out; a capped speaker's soft-capped normal
  (:class:`~casualty_models.model.priors.SoftCappedNormal`); an anchor's fixed bias has
  none. These are the priors the model cannot learn past (docs/model.md), so they are
  the ones that can decide an answer; the curve's and the ratios' priors are not scaled.
  Each source type's part is also scaled alone, to name the types that carry the answer.
* **The likelihood** is every claim's term and every running tally's rises
  (:mod:`casualty_models.loglik`, the numpy mirror of the model's graph).
* **The quantities** are each headline (the log cumulative count at ``as_of``) and each
  speaker's bias.

A quantity is, as the method's authors classify it (threshold 0.05 on both): a
**prior-data conflict** when it is sensitive to both; **prior dominates** (a weak
likelihood) when it moves with the prior but not with the claims; else **fine**.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from casualty_models import _hooks
from casualty_models.loglik import Draws, total_loglik
from casualty_models.model.priors_file import DEFAULT_PRESET, PRESETS, preset_info

if TYPE_CHECKING:
    from casualty_models.claims import ClaimSet
    from casualty_models.estimate import Estimate
    from casualty_models.model.inputs import ModelInputs
    from casualty_models.model.priors import Priors

__all__ = [
    "CONFLICT",
    "FINE",
    "PRIOR_DOMINATES",
    "THRESHOLD",
    "bias_log_prior",
    "defaults_note",
    "prior_sensitivity",
    "priors_sentence",
    "short_notes",
    "verdict",
    "war_vocabulary",
]

THRESHOLD = 0.05
"""Sensitivity at or above which a quantity counts as sensitive (Kallioinen et al.)."""
DELTA = 0.01
"""Power-scaling step: α = 1/(1 + δ) and 1 + δ."""

FINE = "fine"
PRIOR_DOMINATES = "prior dominates"
CONFLICT = "prior-data conflict"
WITHHELD = "withheld"


def bias_log_prior(inputs: ModelInputs, bias: np.ndarray) -> dict[str, np.ndarray]:
    """Source type -> (sample,) log prior density of its speakers' biases ``bias``
    (sample, speaker). Speakers sharing an offset are one multivariate normal; types
    whose speakers all have fixed biases are left out."""
    out: dict[str, np.ndarray] = {}

    def add(source_type: str, value: np.ndarray) -> None:
        out[source_type] = out.get(source_type, 0.0) + value

    priors = inputs.speaker_priors
    group = np.asarray(inputs.speaker_group)
    shared = np.array(
        [p.group_sigma if g >= 0 else 0.0 for p, g in zip(priors, group, strict=True)]
    )
    for j, p in enumerate(priors):
        if shared[j] > 0 or p.bias_sigma == 0:
            continue  # in a group (below), or fixed: no density of its own
        if p.bias_upper is not None:
            add(inputs.speaker_types[j], p.log_dist().logpdf(bias[:, j]))
        else:
            add(inputs.speaker_types[j], stats.norm.logpdf(bias[:, j], p.bias_mu, p.bias_sigma))
    for g in np.unique(group[shared > 0]):
        members = np.flatnonzero((group == g) & (shared > 0))
        mu = np.array([priors[j].bias_mu for j in members])
        own = np.array([priors[j].bias_sigma for j in members])
        s = shared[members]
        cov = np.diag(own**2) + np.outer(s, s) + 1e-12 * np.eye(len(members))
        chol = np.linalg.cholesky(cov)
        z = np.linalg.solve(chol, (bias[:, members] - mu).T)  # (member, sample)
        log_det = 2 * np.log(np.diag(chol)).sum()
        value = -0.5 * (np.square(z).sum(axis=0) + log_det + len(members) * math.log(2 * math.pi))
        add(inputs.speaker_types[members[0]], value)
    return out


def _inference_data(estimate: Estimate) -> tuple[Any, list[str]]:
    """An InferenceData of the quantities, log prior (one variable per source type) and
    log likelihood (one total), (chain, draw) as the posterior's."""
    import arviz as az

    post = estimate.idata.posterior
    n_chain, n_draw = post.sizes["chain"], post.sizes["draw"]
    inp = estimate.inputs
    day = inp.grid.day(estimate.settings.as_of)
    with np.errstate(divide="ignore"):
        head = np.log(np.asarray(estimate.cumulative_draws)[..., day])
    bias = np.asarray(post["bias"], dtype=float)
    flat_bias = bias.reshape(n_chain * n_draw, -1)
    log_prior = bias_log_prior(inp, flat_bias)
    loglik = total_loglik(inp, Draws.of(estimate))

    def shaped(x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=float).reshape(n_chain, n_draw)

    idata = az.InferenceData(
        posterior=az.dict_to_dataset({"headline": head, "bias": bias}),
        log_prior=az.dict_to_dataset(
            {f"bias_{t}": shaped(v) for t, v in log_prior.items()},
        ),
        log_likelihood=az.dict_to_dataset({"claims": shaped(loglik)}),
    )
    return idata, list(log_prior)


def _psens(idata: Any, component: str, names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    import arviz as az

    with warnings.catch_warnings():
        # few draws in a weight's tail: the estimate is rough, not wrong, at delta 0.01
        warnings.simplefilter("ignore")
        result = az.psens(
            idata,
            component=component,
            component_var_names=list(names) if names is not None else None,
            var_names=["headline", "bias"],
            delta=DELTA,
        )
    return {k: np.atleast_1d(np.asarray(result[k], dtype=float)) for k in ("headline", "bias")}


def verdict(prior: float, likelihood: float) -> str:
    """The method's classification of one quantity."""
    if prior >= THRESHOLD and likelihood >= THRESHOLD:
        return CONFLICT
    if prior >= THRESHOLD:
        return PRIOR_DOMINATES
    return FINE


def prior_sensitivity(estimate: Estimate) -> pd.DataFrame:
    """Power-scaling sensitivity of each headline and each speaker's bias.

    One row per headline (``kind`` ``headline``: side, category) and per speaker
    (``kind`` ``bias``: source, side, source_type). ``prior`` and ``likelihood`` are the
    sensitivities to the bias priors and to the claims; ``verdict`` is ``fine``,
    ``prior dominates`` or ``prior-data conflict`` (``withheld`` for a headline the
    estimate withholds); ``prior_<type>`` the sensitivity to one source type's bias
    prior alone; ``priors_deciding`` the source types whose priors carry a headline
    that is not fine, most sensitive first.
    """
    idata, types = _inference_data(estimate)
    inp = estimate.inputs
    if types:
        prior = _psens(idata, "prior", [f"bias_{t}" for t in types])
        by_type = {t: _psens(idata, "prior", [f"bias_{t}"]) for t in types}
    else:  # every speaker an anchor: no bias prior to scale
        zeros = {"headline": np.zeros(len(inp.series)), "bias": np.zeros(len(inp.speakers))}
        prior, by_type = zeros, {}
    lik = _psens(idata, "likelihood")
    estimable = estimate.headline()["estimable"].to_numpy()
    rows: list[dict[str, Any]] = []
    for kind, keys in (("headline", inp.series), ("bias", inp.speakers)):
        for i, key in enumerate(keys):
            p, q = float(prior[kind][i]), float(lik[kind][i])
            row: dict[str, Any] = {"kind": kind, "prior": p, "likelihood": q}
            if kind == "headline":
                row |= {"side": key[0], "category": key[1], "source": None, "source_type": None}
                row["verdict"] = verdict(p, q) if estimable[i] else WITHHELD
            else:
                row |= {"side": key[1], "category": None, "source": key[0]}
                row |= {"source_type": inp.speaker_types[i], "verdict": verdict(p, q)}
            per_type = {t: float(by_type[t][kind][i]) for t in types}
            row |= {f"prior_{t}": v for t, v in per_type.items()}
            deciding = sorted(per_type, key=lambda t: -per_type[t])
            named = [t for t in deciding if per_type[t] >= THRESHOLD] or deciding[:1]
            row["priors_deciding"] = (
                ", ".join(named) if row["verdict"] in (CONFLICT, PRIOR_DOMINATES) else ""
            )
            rows.append(row)
    columns = ["kind", "side", "category", "source", "source_type", "prior", "likelihood"]
    columns += ["verdict", "priors_deciding", *[f"prior_{t}" for t in types]]
    return pd.DataFrame(rows, columns=columns)


def priors_sentence(table: pd.DataFrame) -> str | None:
    """One plain sentence on the headlines the priors decide, naming the source types
    and the remedies; None when every headline is fine."""
    head = table[table["kind"] == "headline"]
    parts = []
    types: list[str] = []
    for verdict_name in (PRIOR_DOMINATES, CONFLICT):
        rows = head[head["verdict"] == verdict_name]
        if rows.empty:
            continue
        names = " and ".join(f"{r.side} {r.category}" for r in rows.itertuples())
        deciding = [str(x) for x in rows["priors_deciding"]]
        mine = list(dict.fromkeys(t for x in deciding for t in x.split(", ") if t))
        types += mine
        which = " and ".join(f"`{t}`" for t in mine) or "the bias"
        plural = len(mine) > 1
        if verdict_name == PRIOR_DOMINATES:
            parts.append(
                f"the {which} bias prior{'s' if plural else ''}, not the claims, "
                f"decide{'' if plural else 's'} {names}"
            )
        else:
            parts.append(
                f"the claims about {names} pull against the {which} bias "
                f"prior{'s' if plural else ''} (a prior-data conflict)"
            )
    if not parts:
        return None
    text = "; ".join(parts)
    anchor = (
        "a count known to be right (source_type known) or another independent estimate"
        if set(types) <= {"independent", "known"}
        else "a neutral or independent estimate, a documented count, or a count known to be right"
    )
    return (
        f"{text[0].upper()}{text[1:]}: try another preset or your own priors (--priors), "
        f"see how far the answer moves (--trust), or add an anchor claim ({anchor})."
    )


_WAR_WORDS = re.compile(
    r"\b(wars?|military|soldiers?|troops|army|armed forces|combat\w*|invasion|battles?|"
    r"defen[cs]e|killed in action|kia|wounded|captured|personnel|enemy|insurgents?)\b",
    re.IGNORECASE,
)


def war_vocabulary(claims: ClaimSet) -> bool:
    """True when the claims speak of a war: a source of type ``enemy``, or a side,
    category or source name with a word of war (soldiers, troops, military, wounded...)."""
    return any(
        c.source_type == "enemy" or _WAR_WORDS.search(f"{c.side} {c.category} {c.source}")
        for c in claims
    )


def defaults_note(claims: ClaimSet, priors: Priors) -> str | None:
    """When the priors are the package defaults (made for soldiers killed in a war) and
    the claims carry no war vocabulary, a sentence saying so and naming the presets."""
    if priors != PRESETS[DEFAULT_PRESET] or war_vocabulary(claims):
        return None
    others = [
        f"{name} ({info.for_})" for name, info in preset_info().items() if name != DEFAULT_PRESET
    ]
    return (
        f"The bias priors are the defaults ({DEFAULT_PRESET}), made for soldiers killed in a "
        "war, and these claims do not read like a war's: if they are about another kind "
        f"of event, choose its preset with --priors: {'; '.join(others)} "
        "(casualty-models priors --list)."
    )


def short_notes(table: pd.DataFrame) -> tuple[str, ...]:
    """One short entry per headline the priors decide, e.g.
    ``ukraine killed: prior dominates (enemy)``."""
    head = table[(table["kind"] == "headline") & table["verdict"].isin([CONFLICT, PRIOR_DOMINATES])]
    return tuple(
        f"{r.side} {r.category}: {r.verdict} ({r.priors_deciding})" for r in head.itertuples()
    )


@_hooks.provides("Estimate.prior_sensitivity")
def _estimate_prior_sensitivity(estimate: Estimate) -> pd.DataFrame:
    return prior_sensitivity(estimate)


@_hooks.provides("Estimate.priors_decide")
def _priors_decide(estimate: Estimate) -> tuple[str, ...]:
    return short_notes(estimate.prior_sensitivity())


@_hooks.provides("Estimate.prior_sensitivity_json")
def _prior_sensitivity_json(estimate: Estimate) -> dict[str, Any]:
    """The ``prior_sensitivity`` section of ``estimate.json``."""
    table = estimate.prior_sensitivity()

    def rows(kind: str, keys: Sequence[str]) -> list[dict[str, Any]]:
        part = table[table["kind"] == kind]
        return [
            {**{k: r[k] for k in keys}, "prior": r["prior"], "likelihood": r["likelihood"]}
            | {"verdict": r["verdict"], "priors_deciding": r["priors_deciding"]}
            for r in part.to_dict(orient="records")
        ]

    return {
        "method": "power-scaling sensitivity (Kallioinen et al. 2023), arviz.psens",
        "threshold": THRESHOLD,
        "headline": rows("headline", ("side", "category")),
        "sources": rows("bias", ("source", "side", "source_type")),
        "sentence": priors_sentence(table),
        "defaults_note": defaults_note(estimate.claims, estimate.settings.priors),
    }
