"""Facts of the section "How far to trust the answer": sentences, tables and plots of
the sensitivity to the bias priors, leave-one-source-out and calibration."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from casualty_models._format import about, factor, people, share, signed_pct
from casualty_models.report import figures
from casualty_models.report.figures import Figure
from casualty_models.report.tables import Cell, Table, interval, table

if TYPE_CHECKING:
    import pandas as pd

    from casualty_models.estimate import Estimate

_UNCHANGED = "shares no parameter"  # leave-one-source-out note of an untouched series


@dataclass(frozen=True)
class TrustPart:
    """One trust analysis: its sentences, its table and its plot (None without plots)."""

    paragraphs: tuple[str, ...]
    table: Table | None
    figure: Figure | None


@dataclass(frozen=True)
class TrustFacts:
    sensitivity: TrustPart | None
    loso: TrustPart | None
    calibration: TrustPart


def gather_trust(
    estimate: Estimate,
    level: float,
    sensitivity: pd.DataFrame | None,
    loso: pd.DataFrame | None,
    *,
    with_figures: bool,
) -> TrustFacts:
    def fig(kind: str, data: Any) -> Figure | None:
        return figures.render(kind, data, level) if with_figures else None

    sens = None
    if sensitivity is not None:
        headers, rows, marks = _sensitivity_rows(sensitivity)
        sens = TrustPart(
            tuple(sensitivity_sentences(sensitivity)),
            table(headers, rows, numeric=(2, 4, 5, 6, 7), marks=marks),
            fig("sensitivity", sensitivity),
        )
    left = None
    if loso is not None:
        headers, rows, marks = _loso_rows(loso)
        left = TrustPart(
            tuple(loso_sentences(loso)),
            table(headers, rows, numeric=(1, 3, 4, 5), marks=marks),
            fig("loso", loso),
        )
    calibration = TrustPart((ppc_sentence(estimate, level),), None, fig("ppc", estimate))
    return TrustFacts(sens, left, calibration)


def _interval_cols(df: pd.DataFrame) -> tuple[str, str, str]:
    """(low column, high column, "90") of a trust table."""
    lows = [str(c) for c in df.columns if str(c).startswith("low_")]
    if len(lows) != 1 or f"high_{lows[0][4:]}" not in df.columns:
        raise ValueError("the table needs one low_XX / high_XX interval column pair")
    return lows[0], f"high_{lows[0][4:]}", lows[0][4:]


def _what_if(r: Mapping[Any, Any], who: str, phrase: str) -> str:
    """ "if they give ×0.8 of the true count instead of the assumed ×0.4" """
    shift = float(r.get("shift") or 0.0)
    scale = float(r.get("scale") or 1.0)
    parts = []
    if shift:
        parts.append(
            f"if {who} give {factor(float(r['prior_median']))} of the true count instead "
            f"of the assumed {factor(float(r['base_prior_median']))}"
        )
    if scale != 1:
        width = {2.0: "twice as wide", 0.5: "half as wide"}.get(scale, f"×{scale:g} as wide")
        parts.append(f"if the prior on the bias of {phrase} is {width} (sd ×{scale:g})")
    return " and ".join(parts) or "under the changed prior"


def sensitivity_sentences(df: pd.DataFrame) -> list[str]:
    """Plain text, one paragraph per series and one on the method."""
    from casualty_models.trust import TYPE_PHRASES, sensitivity_summary

    out = []
    for r in sensitivity_summary(df).to_dict(orient="records"):
        phrase = TYPE_PHRASES.get(r["source_type"], f"{r['source_type']} sources")
        move = (
            f"the median moves from {about(r['base_median'])} to {about(r['median'])} "
            f"({signed_pct(r['shift_pct'])})"
        )
        series = f"{r['side']} {r['category']}"
        if r["rests_on_prior"]:
            text = (
                f"The estimate of {series} rests mostly on the prior for {phrase}: "
                f"{_what_if(r, 'they', phrase)}, {move}."
            )
        else:
            text = (
                f"No single bias prior dominates the estimate of {series}; the largest move "
                f"comes from the prior for {phrase}: {_what_if(r, 'they', phrase)}, {move}."
            )
        if math.isfinite(r["elasticity"]):
            text += (
                f" About {share(r['elasticity'])} of any change in the factor assumed for "
                f"{phrase} passes into this estimate (100% would make it that prior's alone)."
            )
        if not r.get("reliable", True):
            text += " That figure is unreliable (a refit did not converge, or k̂ is too high)."
        out.append(text)
    if "method" in df.columns:
        changes = df[df["method"] != "unaffected"].drop_duplicates(["source_type", "change"])
        n_rw = int((changes["method"] == "reweighted").sum())
        n_rf = int((changes["method"] == "refit").sum())
        out.append(
            f"{n_rw} of {len(changes)} prior changes were evaluated by reweighting the "
            f"posterior draws (Pareto-smoothed importance sampling) and {n_rf} by refitting "
            "the model."
        )
    return out


def _untouched(r: Mapping[Any, Any]) -> bool:
    return str(r.get("note") or "").startswith(_UNCHANGED) or r.get("method") == "unaffected"


def loso_sentences(df: pd.DataFrame) -> list[str]:
    """Plain text, per series: the source that moves it most; series left without claims."""
    out = []
    records = df.to_dict(orient="records")
    series = list(dict.fromkeys((r["side"], r["category"]) for r in records))
    for side, category in series:
        mine = [r for r in records if (r["side"], r["category"]) == (side, category)]
        moved = [r for r in mine if math.isfinite(r["shift_pct"]) and not _untouched(r)]
        name = f"{side} {category}"
        if moved:
            top = max(moved, key=lambda r: abs(r["shift_pct"]))
            out.append(
                f"Leaving out {top['source']} moves the {name} median most, from "
                f"{about(top['base_median'])} to {about(top['median'])} "
                f"({signed_pct(top['shift_pct'])})."
            )
        for r in mine:
            if not math.isfinite(r["median"]):
                out.append(f"Without {r['source']}, no claim about {name} is left.")
    return out


def _sensitivity_rows(df: pd.DataFrame) -> tuple[list[str], list[list[Cell]], list[str]]:
    lo, hi, pct = _interval_cols(df)
    headers = [
        "source type",
        "change",
        "prior median",
        "series",
        "median",
        f"{pct}% interval",
        "change of median",
        "± MC error",
        "how",
    ]
    rows: list[list[Cell]] = []
    marks = []
    for r in df.to_dict(orient="records"):
        if _untouched(r):
            continue
        rows.append(
            [
                r["source_type"],
                r["change"],
                factor(float(r["prior_median"])),
                f"{r['side']} {r['category']}",
                people(r["median"]),
                interval(r[lo], r[hi]),
                signed_pct(r["shift_pct"]),
                f"{r['mcse_pct']:.1f} pts" if math.isfinite(r.get("mcse_pct", math.nan)) else "",
                r.get("method", ""),
            ]
        )
        marks.append("" if r.get("reliable", True) else "unreliable")
    return headers, rows, marks


def _loso_rows(df: pd.DataFrame) -> tuple[list[str], list[list[Cell]], list[str]]:
    lo, hi, pct = _interval_cols(df)
    headers = ["left out", "its claims", "series", "median", f"{pct}% interval", "change", "note"]
    rows: list[list[Cell]] = []
    marks = []
    for r in df.to_dict(orient="records"):
        if _untouched(r):
            continue
        rows.append(
            [
                r["source"],
                r["n_claims"],
                f"{r['side']} {r['category']}",
                people(r["median"]),
                interval(r[lo], r[hi]) if math.isfinite(r[lo]) else "",
                signed_pct(r["shift_pct"]),
                r.get("note") or "",
            ]
        )
        marks.append("" if r.get("reliable", True) else "unreliable")
    return headers, rows, marks


def ppc_sentence(estimate: Estimate, level: float) -> str:
    from casualty_models.trust import claims_pit

    pit = claims_pit(estimate)["pit"]
    n = len(pit)
    if not n:
        return "There are no point claims to check."
    tail = (1 - level) / 2
    outer = int(((pit < tail) | (pit > 1 - tail)).sum())
    return (
        f"{outer} of {n} point claim{'s' if n != 1 else ''} fall in the outer "
        f"{1 - level:.0%} of what the model predicts their source would say (a calibrated "
        f"model, judging claims it had not seen, would put about {(1 - level) * n:.1f} "
        "there)."
    )
