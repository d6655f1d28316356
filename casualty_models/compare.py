"""Rerun as claims arrive: what changed between two estimates, and which claims moved them.

``new.compare(old)`` (:func:`compare`) lines up two estimates of the same event, an
earlier one and one refitted with the claims as they are now, and returns a
:class:`Comparison`:

* ``claims``: the claims added, removed and edited since the old fit. Claims are matched
  by identity — source, side, category and dates (``as_of``, ``period_start``) — not
  by fingerprint, so a corrected figure is one edited claim, old → new, with the
  fields that changed, not a removal and an addition;
* ``headline``: per series, the old and new median and interval, the change in people
  and percent, and in old posterior standard deviations of the log count;
* ``sources``: each speaker's bias factor before and after;
* ``attribution``: how far each added, removed or edited claim *alone* moved each
  headline (:mod:`casualty_models.attribution`: the posterior without the claim, by
  Pareto-smoothed importance sampling, refitted where k̂ is too high), and per series
  the rest, ``interactions``: what the claims do together beyond their separate
  effects, and what changed besides the claims (a later ``as_of``, other settings).
  The rows of a series add up to its change exactly.

An edited claim is the old version left out of the old estimate and the new version
left out of the new one: its effect is ``(new − new without the new version) + (old
without the old version − old)``; an edit of the citation, URL or notes alone moves
nothing. Effects are in people and in percent of the old median, so that they add up.
"""

from __future__ import annotations

import json
import math
import os
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from casualty_models import _hooks
from casualty_models._atomic import atomic_write
from casualty_models._cells import frame_to_csv
from casualty_models._format import check_level, level_pct
from casualty_models.attribution import Side, Without, attribution_table, refit_without
from casualty_models.claim_changes import NOT_EVIDENCE, ClaimChange, claims_frame, match_claims
from casualty_models.claims import display_origin
from casualty_models.compare_text import (
    NOISE_Z,
    breakdown,
    label,
    reported,
    sentence,
    signed_number,
)
from casualty_models.estimate import EXTRAPOLATION_HORIZON_DAYS
from casualty_models.model.priors import DEFAULT_LEVEL
from casualty_models.trust import pareto_k_threshold

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from casualty_models.estimate import Estimate

METHODS: tuple[str, ...] = ("auto", "reweight", "refit")


# --------------------------------------------------------------------------- tables
def _headline_frame(old: Side, new: Side, level: float) -> pd.DataFrame:
    pct = level_pct(level)
    keep = ["side", "category", "median", f"low_{pct}", f"high_{pct}", "estimable"]
    a = old.estimate.headline(level=level)[keep]
    b = new.estimate.headline(level=level)[keep]
    a["mcse_log"], b["mcse_log"] = old.mcse_log, new.mcse_log
    flat = old.headline_draws.reshape(-1, old.headline_draws.shape[-1])
    a["sd_log"] = np.log(flat).std(axis=0, ddof=1)
    out = b.merge(a, on=["side", "category"], how="outer", suffixes=("_new", "_old"), sort=False)
    out = _in_order(out, ["side", "category"], b, a)
    out = out.rename(
        columns={
            "median_old": "old_median",
            "median_new": "new_median",
            f"low_{pct}_old": f"old_low_{pct}",
            f"high_{pct}_old": f"old_high_{pct}",
            f"low_{pct}_new": f"new_low_{pct}",
            f"high_{pct}_new": f"new_high_{pct}",
            "estimable_old": "old_estimable",
            "estimable_new": "new_estimable",
            "sd_log": "old_sd_log",
        }
    )
    for col in ("old_estimable", "new_estimable"):
        out[col] = out[col].astype("boolean").fillna(False).astype(bool)
    out["change"] = out["new_median"] - out["old_median"]
    out["change_pct"] = 100 * out["change"] / out["old_median"]
    out["change_sd"] = np.log(out["new_median"] / out["old_median"]) / out["old_sd_log"]
    ratio = out["new_median"] / out["old_median"]
    out["mcse_pct"] = 100 * ratio * np.hypot(out["mcse_log_old"], out["mcse_log_new"])
    out.insert(2, "old_as_of", pd.Timestamp(old.estimate.settings.as_of))
    out.insert(3, "new_as_of", pd.Timestamp(new.estimate.settings.as_of))
    columns = [
        "side",
        "category",
        "old_as_of",
        "new_as_of",
        "old_median",
        f"old_low_{pct}",
        f"old_high_{pct}",
        "new_median",
        f"new_low_{pct}",
        f"new_high_{pct}",
        "change",
        "change_pct",
        "mcse_pct",
        "change_sd",
        "old_sd_log",
        "old_estimable",
        "new_estimable",
    ]
    return out[columns].reset_index(drop=True)


def _in_order(
    out: pd.DataFrame, keys: list[str], first: pd.DataFrame, then: pd.DataFrame
) -> pd.DataFrame:
    """``out`` (an outer merge, which sorts its keys) in the order of ``first``'s rows,
    then ``then``'s rows that ``first`` lacks."""
    order = list(dict.fromkeys([*map(tuple, first[keys].values), *map(tuple, then[keys].values)]))
    rank = {k: n for n, k in enumerate(order)}
    position = [rank[tuple(k)] for k in out[keys].values]
    return out.iloc[np.argsort(position, kind="stable")].reset_index(drop=True)


def _sources_frame(old: Estimate, new: Estimate, level: float) -> pd.DataFrame:
    pct = level_pct(level)
    keep = ["source", "side", "source_type", "n_claims", "bias_factor", f"low_{pct}", f"high_{pct}"]
    a = old.sources(level=level)[keep]
    b = new.sources(level=level)[keep]
    out = b.merge(a, on=["source", "side"], how="outer", suffixes=("_new", "_old"), sort=False)
    out = _in_order(out, ["source", "side"], b, a)
    out["source_type"] = out["source_type_new"].fillna(out["source_type_old"])
    renamed = {}
    for when in ("old", "new"):
        renamed.update(
            {
                f"n_claims_{when}": f"{when}_n_claims",
                f"bias_factor_{when}": f"{when}_bias_factor",
                f"low_{pct}_{when}": f"{when}_low_{pct}",
                f"high_{pct}_{when}": f"{when}_high_{pct}",
            }
        )
    out = out.rename(columns=renamed)
    for when in ("old", "new"):
        out[f"{when}_n_claims"] = out[f"{when}_n_claims"].fillna(0).astype(int)
    out["change_pct"] = 100 * (out["new_bias_factor"] / out["old_bias_factor"] - 1)
    columns = [
        "source",
        "side",
        "source_type",
        "old_n_claims",
        "new_n_claims",
        "old_bias_factor",
        f"old_low_{pct}",
        f"old_high_{pct}",
        "new_bias_factor",
        f"new_low_{pct}",
        f"new_high_{pct}",
        "change_pct",
    ]
    return out[columns]


# ------------------------------------------------------------------------ comparison
@dataclass(frozen=True, eq=False)
class Comparison:
    """What changed from ``old`` to ``new`` (see the module docs); tables are DataFrames.

    ``claims``: one row per change (``change`` "added", "removed" or "edited"; the
    claim's identity; its figure ``old`` and ``new``; the ``fields`` an edit changed;
    ``evidence`` False for an edit of citation, URL or notes alone; ``old_index`` and
    ``new_index`` in the two claim sets, and the file rows).

    ``headline``: one row per series of either estimate: ``old_median``, ``new_median``
    and their intervals (``old_low_90`` ...) on each one's own ``as_of``, ``change``
    (people), ``change_pct`` (percent of the old median), ``mcse_pct`` (its Monte Carlo
    error), ``change_sd`` (the change of the log median in standard deviations of the
    old posterior of the log count, ``old_sd_log``), ``old_estimable`` and
    ``new_estimable``.

    ``sources``: one row per speaker of either estimate: claims and bias factor with its
    interval, before and now, and ``change_pct``.

    ``attribution`` has one row per (changed claim, series) and one ``interactions`` row
    per series: ``change_id`` (row of ``claims``; -1 for interactions), ``change``,
    ``claim`` (its words), ``side`` and ``category`` of the series, ``effect`` (people),
    ``effect_pct`` (percent of the old median), ``mcse_pct`` (its Monte Carlo standard
    error, approximate), ``method`` ("reweighted", "refit", "unaffected": the series
    shares no parameter with the claim; "not evidence": the claim has no likelihood
    term; "rest": interactions), ``pareto_k`` (the largest of the claim's weights' k̂,
    NaN if not reweighted), ``reliable`` and ``note``.
    """

    old: Estimate
    """The earlier estimate."""
    new: Estimate
    """The estimate now."""
    claims: pd.DataFrame
    headline: pd.DataFrame
    sources: pd.DataFrame
    attribution: pd.DataFrame
    level: float = DEFAULT_LEVEL
    """Credible level of the tables' intervals (0.9: 90%)."""

    def sentences(self) -> list[str]:
        """One plain sentence per series, e.g. "russia killed moved from 120,000 to
        131,000 (+11,000, +9.2%), mostly because of the Pentagon figure of 2024-06-30. In
        people and in points of the earlier median: the Pentagon figure of 2024-06-30
        +8,400 (+7.0 pts); the claims together, beyond their separate effects +2,600
        (+2.2 pts)": the parts add up to the move (:meth:`breakdown`). The series not
        estimable now (still reported) share one last sentence."""
        records = self.headline.to_dict(orient="records")
        out = list(self.series_sentences().values())
        gone = [label(r) for r in records if not reported(r)]
        if gone:
            out.append(
                f"Not estimable on {self.new.settings.as_of} (the last claim on its curve is "
                f"more than {EXTRAPOLATION_HORIZON_DAYS} days earlier), so no change is given: "
                + ", ".join(gone)
                + "."
            )
        return out

    def series_sentences(self) -> dict[tuple[str, str], str]:
        """:meth:`sentences` by series, (side, category) -> sentence, without the
        series that are not estimable now."""
        return {
            (str(r["side"]), str(r["category"])): sentence(self, r)
            for r in self.headline.to_dict(orient="records")
            if reported(r)
        }

    def breakdown(self) -> pd.DataFrame:
        """Each move in parts that add up: per series estimable before and now, the claim
        that moved it most (beyond Monte Carlo noise), the other changed claims together,
        and the rest (the claims together beyond their separate effects, a moved date,
        changed settings), then a row ``part`` "the move" with the whole change.

        Columns ``side``, ``category``, ``part`` (in words), ``people`` and ``points``
        (percentage points of the old median; exact, they sum to the move), and
        ``people_text`` and ``points_text``: rounded so that the parts sum to the move as
        printed (what :meth:`sentences` say)."""
        rows = []
        for r in self.headline.to_dict(orient="records"):
            if not (r["old_estimable"] and r["new_estimable"]):
                continue
            for part in breakdown(self, r):
                rows.append(
                    {
                        "side": r["side"],
                        "category": r["category"],
                        "part": part.what,
                        "people": part.people,
                        "points": part.points,
                        "people_text": part.people_text,
                        "points_text": part.points_text,
                    }
                )
        columns = ["side", "category", "part", "people", "points", "people_text", "points_text"]
        return pd.DataFrame(rows, columns=columns)

    def drivers(
        self, side: str, category: str, n: int = 3, *, beyond_noise: bool = False
    ) -> pd.DataFrame:
        """The claims that moved one series most in the direction it moved: up to ``n``
        rows of :attr:`attribution`, largest effect first; with ``beyond_noise`` only
        effects larger than :data:`NOISE_Z` times their Monte Carlo error."""
        att = self.attribution
        rows = att[(att["side"] == side) & (att["category"] == category) & (att["change_id"] >= 0)]
        head = self.headline[
            (self.headline["side"] == side) & (self.headline["category"] == category)
        ]
        move = float(head["change"].iloc[0]) if len(head) else math.nan
        rows = rows[rows["effect"].notna() & (rows["effect"] != 0)]
        if math.isfinite(move) and move != 0:
            rows = rows[np.sign(rows["effect"]) == np.sign(move)]
        if beyond_noise:
            rows = rows[rows["effect_pct"].abs() >= NOISE_Z * rows["mcse_pct"]]
        order = rows["effect"].abs().sort_values(ascending=False, kind="stable").index
        return rows.loc[order].head(n)

    def moved(self, pct: float) -> pd.DataFrame:
        """Headline rows whose median moved by more than ``pct`` percent (either way),
        among series estimable before and after, with ``drivers``: the claims that moved
        it most beyond Monte Carlo noise, in words, each with its effect in people and in
        points of the old median."""
        head = self.headline
        both = head["old_estimable"] & head["new_estimable"]
        out = head[both & (head["change_pct"].abs() > pct)].copy()
        out["drivers"] = [
            "; ".join(
                f"{r['claim']} ({signed_number(r['effect'], 0)}, "
                f"{signed_number(r['effect_pct'], 1)} pts)"
                for r in self.drivers(s, c, beyond_noise=True).to_dict(orient="records")
            )
            for s, c in zip(out["side"], out["category"], strict=True)
        ]
        return out.reset_index(drop=True)

    def plot(self, **kwargs: Any) -> Axes:
        """Old and new curves with the new claims highlighted
        (:func:`casualty_models.plots.compare.plot_compare`)."""
        ax: Axes = _hooks.call("Comparison.plot", self, **kwargs)
        return ax

    def summary(self) -> dict[str, Any]:
        """The two estimates in a line each: as_of, claims, fingerprint."""

        def one(est: Estimate) -> dict[str, Any]:
            return {
                "as_of": est.settings.as_of.isoformat(),
                "n_claims": len(est.claims),
                "claims_fingerprint": est.claims.fingerprint,
                "claims_origin": display_origin(est.claims.origin),
                "ok": bool(est.diagnostics.ok),
            }

        counts = self.claims["change"].value_counts()
        return {
            "old": one(self.old),
            "new": one(self.new),
            "added": int(counts.get("added", 0)),
            "removed": int(counts.get("removed", 0)),
            "edited": int(counts.get("edited", 0)),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the summary, the sentences, each move's parts
        (:meth:`breakdown`) and the four tables."""
        return {
            **self.summary(),
            "credible_level": self.level,
            "sentences": self.sentences(),
            "breakdown": _records(self.breakdown()),
            "headline": _records(self.headline),
            "claims": _records(self.claims),
            "sources": _records(self.sources),
            "attribution": _records(self.attribution),
        }

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """:meth:`to_dict` as JSON; written atomically to ``path`` if given."""
        text = json.dumps(self.to_dict(), indent=2, allow_nan=False)
        if path is not None:
            atomic_write(path, text + "\n")
        return text

    def to_csv(self, path: str | os.PathLike[str] | None = None) -> str:
        """The attribution table with each claim's change beside it (``claim_side``,
        ``claim_category``, its figure ``old`` and ``new``, the ``fields`` edited, ...),
        as CSV: one row per changed claim and series, and the interactions of each
        series. Text a spreadsheet would take for a formula is neutralised
        (:func:`casualty_models._cells.neutralise`)."""
        # side and category are the series'; the claim's own are claim_side, claim_category
        claims = self.claims.drop(columns=["change", "source", "as_of"]).rename(
            columns={"side": "claim_side", "category": "claim_category"}
        )
        table = self.attribution.merge(claims, on="change_id", how="left")
        text = frame_to_csv(table)
        if path is not None:
            atomic_write(path, text)
        return text

    def _repr_html_(self) -> str:
        """Rich display in a notebook: the headlines before and after, the sentences and
        the claims that moved each most (:mod:`casualty_models.report.notebook`)."""
        html: str = _hooks.call("Comparison._repr_html_", self)
        return html

    def __repr__(self) -> str:
        s = self.summary()
        return (
            f"Comparison({s['old']['n_claims']} → {s['new']['n_claims']} claims: "
            f"{s['added']} added, {s['removed']} removed, {s['edited']} edited; "
            + " ".join(self.sentences())
            + ")"
        )


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for r in df.to_dict(orient="records"):
        row = {}
        for k, v in r.items():
            if isinstance(v, pd.Timestamp):
                v = v.date().isoformat()
            elif isinstance(v, np.generic):
                v = v.item()
            if (isinstance(v, float) and not math.isfinite(v)) or v is pd.NA or v is pd.NaT:
                v = None
            row[str(k)] = v
        out.append(row)
    return out


def _load(old: Any) -> Estimate:
    from casualty_models.estimate import Estimate

    if isinstance(old, Estimate):
        return old
    if isinstance(old, str | os.PathLike):
        path = Path(old)
        if path.is_dir():
            if not (path / "estimate.nc").is_file():
                raise FileNotFoundError(
                    f"{path} holds no estimate.nc: give the output folder of an earlier "
                    "`casualty-models estimate` run, or the .nc file itself"
                )
            path = path / "estimate.nc"
        return Estimate.load(path)
    raise TypeError(f"compare() takes an Estimate or the path of a saved one, not {old!r}")


@_hooks.provides("Estimate.compare")
def compare(
    new: Estimate,
    old: Estimate | str | os.PathLike[str],
    *,
    method: str = "auto",
    executor: Executor | None = None,
    level: float = DEFAULT_LEVEL,
    pareto_k_max: float | None = None,
    progress: bool = False,
) -> Comparison:
    """What changed from ``old`` (an Estimate, a saved ``.nc`` file or the output folder
    holding one) to ``new``, and how far each claim added, removed or edited moved
    each headline (see the module docs).

    ``method``: "auto" reweights the posterior without each claim (PSIS) and refits
    only where Pareto k̂ exceeds ``pareto_k_max`` (default
    :func:`casualty_models.trust.pareto_k_threshold`, 0.7 for the usual draws) or
    where leaving the claim out changes the model's structure; "reweight" never refits
    (unreliable rows are marked); "refit" refits every change. Refits use the settings
    of the estimate the claim is left out of (the new one for added claims, the old one
    for removed ones) and run on ``executor`` (default: a local pool of 2 processes).
    """
    check_level(level)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    old_est = _load(old)
    if old_est is new:
        raise ValueError("compare() needs two different estimates")
    old_side, new_side = Side(old_est, level), Side(new, level)
    changes = match_claims(old_est.claims, new.claims)
    claims = claims_frame(old_est.claims, new.claims, changes)
    head = _headline_frame(old_side, new_side, level)

    # each change's parts: (side, claim index, sign) — an edit has two
    parts: list[list[tuple[Side, int, int]]] = []
    for ch in changes:
        mine: list[tuple[Side, int, int]] = []
        evidence = ch.change != "edited" or bool(set(ch.fields) - NOT_EVIDENCE)
        if evidence and ch.new is not None:
            mine.append((new_side, ch.new, +1))
        if evidence and ch.old is not None:
            mine.append((old_side, ch.old, -1))
        parts.append(mine)
    results: dict[tuple[int, int], Without] = {}
    to_refit: list[tuple[Side, int]] = []
    for mine in parts:
        for side, i, _ in mine:
            if method == "refit":
                got = Without(*(np.array([]),) * 2, "refit", math.nan, math.nan, False, "")
            else:
                n = side.headline_draws.shape[0] * side.headline_draws.shape[1]
                k_max = None if method == "reweight" else pareto_k_max
                if k_max is None and method == "auto":
                    k_max = pareto_k_threshold(n)
                got = side.without(i, k_max)
                if got.method == "refit" and method == "reweight":
                    got = replace(got, reliable=False)  # structure changed: NaN, marked
            results[(id(side), i)] = got
            if got.method == "refit" and method != "reweight":
                to_refit.append((side, i))
    for (side, i), refit in zip(
        to_refit, refit_without(to_refit, executor=executor, progress=progress), strict=True
    ):
        before = results[(id(side), i)]
        results[(id(side), i)] = replace(refit, pareto_k=before.pareto_k, note=before.note)

    attribution = attribution_table(head, claims, parts, results, old_side, new_side)
    return Comparison(
        old_est, new, claims, head, _sources_frame(old_est, new, level), attribution, level
    )


__all__ = [
    "METHODS",
    "ClaimChange",
    "Comparison",
    "compare",
    "match_claims",
]
