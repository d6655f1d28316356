"""Self-contained reports of an Estimate: one HTML file (plots inlined) or Markdown.

Every piece of text that comes from the claims or the settings (sources, citations,
URLs, notes, origins, override keys) is escaped before it reaches the page; only
``http://`` and ``https://`` URLs become links. The HTML loads nothing from outside:
no scripts, fonts or stylesheets, and the plots are inline PNGs.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import html
import io
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from casualty_models._atomic import atomic_write, atomic_write_with
from casualty_models._version import __version__
from casualty_models.claims import COLUMNS, Claim
from casualty_models.model.priors import DEFAULT_LEVEL
from casualty_models.model.priors_file import describe_priors

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from casualty_models.estimate import Estimate

ANCHOR_TYPES: tuple[str, ...] = ("neutral", "tally", "independent", "known")
"""Source types that anchor the biases (see docs/model.md, "What identifies the biases")."""
LEARNED_LITTLE = 0.2
"""Below this ``learned`` value a source's bias factor is called "essentially its prior"."""
EXTRAPOLATION_DAYS = 7
"""A headline date more than this many days after a curve's last claim is called out."""
PLOT_FILES: tuple[str, ...] = ("claims.png", "timeline.png", "sources.png")
_PNG_DPI = 120
_MAX_CLAIM_ROWS = 60  # plot_claims' default max_rows
_IDENTIFICATION = (
    "How far to trust these numbers: with one latent count per series and every source "
    "possibly biased, the claims alone cannot separate the true count from the sources' "
    "biases. The biases are identified only by the priors and by anchors (neutral "
    "sources, documented tallies, independent estimates). Read the sources table — "
    '"learned" near 0% means a source\'s factor is just its prior — and see '
    'docs/model.md, "What identifies the biases — and what cannot", before quoting a '
    "number."
)


def _pct(level: float) -> str:
    return f"{100 * level:g}"


def _people(x: Any) -> str:
    """A count for a table: "12,000" (or "" when missing)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    x = float(x)
    return f"{x:,.0f}" if abs(x) >= 10 or x.is_integer() else f"{x:.3g}"


def _about(x: float) -> str:
    """A count rounded to two significant figures, for prose: 4,137 -> "4,100"."""
    if not math.isfinite(x) or x <= 0:
        return f"{x:,.0f}"
    digits = max(0, math.floor(math.log10(x)) - 1)
    return f"{round(x, -digits):,.0f}"


def _share(x: float) -> str:
    return f"{x:.0%}" if math.isfinite(x) else "n/a"


def _factor(x: float) -> str:
    if not math.isfinite(x):
        return f"×{x}"
    return f"×{x:,.0f}" if x >= 10 else f"×{x:.2g}"


def _date(x: Any) -> str:
    if x is None:
        return ""
    if hasattr(x, "date") and callable(x.date):
        x = x.date()
    return x.isoformat() if isinstance(x, dt.date) else str(x)


def _is_web_url(url: str) -> bool:
    return url.strip().lower().startswith(("http://", "https://"))


# ------------------------------------------------------------------------ shared facts
@dataclass(frozen=True)
class _Facts:
    """Everything a report shows, computed once (the estimate's methods are not free)."""

    level: float
    headline: pd.DataFrame
    sources: pd.DataFrame
    check: pd.DataFrame
    paragraphs: list[str]


def _facts(estimate: Estimate, level: float) -> _Facts:
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    headline = estimate.headline(level=level)
    sources = estimate.sources(level=level)
    check = estimate.claims_check(level=level)
    paragraphs = [
        _series_paragraph(estimate, row, sources, check, level)
        for row in headline.to_dict(orient="records")
    ]
    return _Facts(level, headline, sources, check, paragraphs)


def _speaker_name(source: str, source_type: str) -> str:
    return f"{source} ({source_type})"


def _series_paragraph(
    estimate: Estimate,
    row: Mapping[Any, Any],
    sources: pd.DataFrame,
    check: pd.DataFrame,
    level: float,
) -> str:
    """Plain-language summary of one series (plain text; the caller escapes it)."""
    pct = _pct(level)
    side, category = row["side"], row["category"]
    start = estimate.settings.start
    text = [
        f"By {estimate.settings.as_of}, the model puts {side} {category} at about "
        f"{_about(row['median'])} ({pct}% credible interval {_about(row[f'low_{pct}'])}–"
        f"{_about(row[f'high_{pct}'])})."
    ]
    gap = (estimate.settings.as_of - row["last_claim"].date()).days
    if gap > EXTRAPOLATION_DAYS:
        text.append(
            f"The latest claim on this curve is from {row['last_claim'].date()}, {gap} days "
            "earlier: after it the count is extrapolated by the prior's random walk alone, "
            "and the interval widens with every day."
        )
    mine = [(i, c) for i, c in enumerate(estimate.claims) if c.series == (side, category)]
    cumulative = [(i, c) for i, c in mine if c.period_start in (None, start)]
    if cumulative:

        def size(item: tuple[int, Claim]) -> float:
            c = item[1]
            figures = [x for x in (c.value, c.low, c.high) if x is not None]
            return math.exp(sum(math.log(x) for x in figures) / len(figures))

        lo_i, lo_c = min(cumulative, key=size)
        hi_i, hi_c = max(cumulative, key=size)
        n = len(mine)
        claims_word = f"{n} claim{'s' if n != 1 else ''}"
        if lo_i == hi_i:
            text.append(
                f"It rests on {claims_word}: {lo_c.describe()} from {lo_c.source} "
                f"({lo_c.source_type})."
            )
        else:
            text.append(
                f"It rests on {claims_word}, whose figures run from {lo_c.describe()} "
                f"({lo_c.source}, {lo_c.source_type}, {lo_c.as_of}) to {hi_c.describe()} "
                f"({hi_c.source}, {hi_c.source_type}, {hi_c.as_of})."
            )
    speakers = list(dict.fromkeys(c.speaker for _, c in mine))
    rows = {(r["source"], r["side"]): r for r in sources.to_dict(orient="records")}
    info = [rows[s] for s in speakers if s in rows]
    anchors = [r for r in info if r["source_type"] in ANCHOR_TYPES]
    if anchors:
        names = ", ".join(_speaker_name(r["source"], r["source_type"]) for r in anchors)
        text.append(f"Anchors for the biases here: {names}.")
    else:
        text.append(
            "No neutral source, tally, independent estimate or known count reports on "
            "this series, "
            "so only the bias priors separate the true count from the sources' "
            "biases: the number is as much the priors' as the claims'."
        )
    little = [r for r in info if r["learned"] < LEARNED_LITTLE]
    if little:
        names = ", ".join(
            f"{r['source']} ({r['source_type']}; learned {_share(r['learned'])})" for r in little
        )
        tail = (
            "that factor is essentially its prior"
            if len(little) == 1
            else "those factors are essentially their priors"
        )
        text.append(f"The claims taught the model little about the bias of {names}: {tail}.")
    elif info:
        learned = [r["learned"] for r in info if math.isfinite(r["learned"])] or [math.nan]
        lo, hi = min(learned), max(learned)
        text.append(
            f"The claims moved every source's bias factor away from its prior "
            f"(learned {_share(lo)}–{_share(hi)}), but only as far as the anchors and priors "
            "allow."
        )
    flagged = [(i, c) for i, c in mine if bool(check["surprising"].iloc[i])]
    if flagged:
        items = "; ".join(f"{c.source}'s {c.describe()} ({c.as_of})" for _, c in flagged)
        n = len(flagged)
        text.append(f"{n} claim{'s are' if n != 1 else ' is'} surprising given the rest: {items}.")
    return " ".join(text)


# --------------------------------------------------------------------------- rendering
def _figure(kind: str, estimate: Estimate, level: float) -> Figure:
    """Render one plot on a fresh Figure (no pyplot: no global state, no GUI backend)."""
    from matplotlib.figure import Figure

    from casualty_models import plots as plotting

    draw: Callable[..., Any]
    if kind == "claims":
        size = plotting.claims_figsize(min(len(estimate.claims), _MAX_CLAIM_ROWS))
        draw = plotting.plot_claims
    elif kind == "timeline":
        size, draw = plotting.timeline_figsize(), plotting.plot_timeline
    elif kind == "sources":
        size = plotting.sources_figsize(len(estimate.inputs.speakers))
        draw = plotting.plot_sources
    elif kind == "drift":
        size, draw = (7.0, 3.2), plotting.plot_drift
    else:
        raise ValueError(f"unknown plot {kind!r}")
    fig = Figure(figsize=size, layout="constrained")
    draw(estimate, ax=fig.add_subplot(), level=level)
    return fig


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_PNG_DPI)
    fig.clear()
    return buf.getvalue()


def _save_png(fig: Figure, path: Path) -> None:
    fig.savefig(path, format="png", dpi=_PNG_DPI)


def save_plots(
    estimate: Estimate, out_dir: str | os.PathLike[str], *, level: float = DEFAULT_LEVEL
) -> list[Path]:
    """Write claims.png, timeline.png and sources.png into ``out_dir``, atomically, and
    drift.png when a speaker has a running tally."""
    out = Path(out_dir)
    paths = []
    for name in (*PLOT_FILES, *(["drift.png"] if estimate.inputs.running else [])):
        fig = _figure(name.removesuffix(".png"), estimate, level)
        try:
            paths.append(atomic_write_with(out / name, functools.partial(_save_png, fig)))
        finally:
            fig.clear()
    return paths


# ------------------------------------------------------------------------------- trust
_TRUST_INTRO = (
    "The bias priors are settings, not facts. Here each source type's prior is moved in "
    "turn — its assumed factor halved and doubled, its spread halved and doubled — and "
    "each source is left out in turn, to show how far the answer moves with them."
)
_PPC_TEXT = (
    "Calibration: for each point claim, the share of the model's predictions of what "
    "that source would say that fall below the claim (its PIT value). For a calibrated "
    "model these are uniform, and their cumulative distribution stays in the shaded "
    "band. Each claim is part of the fit, so the values bunch toward the middle; a claim "
    "near 0 or 1 is surprising given the rest."
)
_UNCHANGED = "shares no parameter"  # leave-one-source-out note of an untouched series


def _signed(pct: float) -> str:
    """A percentage change for prose: "−14%", "+86%", "0%"."""
    if not math.isfinite(pct):
        return "n/a"
    d = round(pct)
    return "0%" if d == 0 else f"{'+' if d > 0 else '−'}{abs(d)}%"


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
            f"if {who} give {_factor(float(r['prior_median']))} of the true count instead "
            f"of the assumed {_factor(float(r['base_prior_median']))}"
        )
    if scale != 1:
        width = {2.0: "twice as wide", 0.5: "half as wide"}.get(scale, f"×{scale:g} as wide")
        parts.append(f"if the prior on the bias of {phrase} is {width} (sd ×{scale:g})")
    return " and ".join(parts) or "under the changed prior"


def _sensitivity_sentences(df: pd.DataFrame) -> list[str]:
    """Plain text, one paragraph per series and one on the method (the caller escapes)."""
    from casualty_models.trust import TYPE_PHRASES, sensitivity_summary

    out = []
    for r in sensitivity_summary(df).to_dict(orient="records"):
        phrase = TYPE_PHRASES.get(r["source_type"], f"{r['source_type']} sources")
        move = (
            f"the median moves from {_about(r['base_median'])} to {_about(r['median'])} "
            f"({_signed(r['shift_pct'])})"
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
                f" About {_share(r['elasticity'])} of any change in the factor assumed for "
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


def _loso_sentences(df: pd.DataFrame) -> list[str]:
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
                f"{_about(top['base_median'])} to {_about(top['median'])} "
                f"({_signed(top['shift_pct'])})."
            )
        for r in mine:
            if not math.isfinite(r["median"]):
                out.append(f"Without {r['source']}, no claim about {name} is left.")
    return out


def _sensitivity_rows(df: pd.DataFrame) -> tuple[list[str], list[list[Any]], list[str]]:
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
    rows, classes = [], []
    for r in df.to_dict(orient="records"):
        if _untouched(r):
            continue
        rows.append(
            [
                r["source_type"],
                r["change"],
                _factor(float(r["prior_median"])),
                f"{r['side']} {r['category']}",
                _people(r["median"]),
                f"{_people(r[lo])}–{_people(r[hi])}",
                _signed(r["shift_pct"]),
                f"{r['mcse_pct']:.1f} pts" if math.isfinite(r.get("mcse_pct", math.nan)) else "",
                r.get("method", ""),
            ]
        )
        classes.append("" if r.get("reliable", True) else "unreliable")
    return headers, rows, classes


def _loso_rows(df: pd.DataFrame) -> tuple[list[str], list[list[Any]], list[str]]:
    lo, hi, pct = _interval_cols(df)
    headers = ["left out", "its claims", "series", "median", f"{pct}% interval", "change", "note"]
    rows, classes = [], []
    for r in df.to_dict(orient="records"):
        if _untouched(r):
            continue
        rows.append(
            [
                r["source"],
                r["n_claims"],
                f"{r['side']} {r['category']}",
                _people(r["median"]),
                f"{_people(r[lo])}–{_people(r[hi])}" if math.isfinite(r[lo]) else "",
                _signed(r["shift_pct"]),
                r.get("note") or "",
            ]
        )
        classes.append("" if r.get("reliable", True) else "unreliable")
    return headers, rows, classes


def _ppc_sentence(estimate: Estimate, level: float) -> str:
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


def _trust_figure(kind: str, data: Any, level: float) -> Figure:
    from matplotlib.figure import Figure

    from casualty_models import plots as plotting

    if kind == "sensitivity":
        n = len(data.drop_duplicates(["source_type", "change"]))
        fig = Figure(figsize=plotting.sensitivity_figsize(n), layout="constrained")
        plotting.plot_sensitivity(data, ax=fig.add_subplot())
    elif kind == "loso":
        fig = Figure(figsize=plotting.loso_figsize(data["source"].nunique()), layout="constrained")
        plotting.plot_loso(data, ax=fig.add_subplot())
    elif kind == "ppc":
        fig = Figure(figsize=plotting.ppc_figsize(), layout="constrained")
        plotting.plot_ppc(data, ax=fig.add_subplot(), level=level)
    else:
        raise ValueError(f"unknown plot {kind!r}")
    return fig


def _trust_html(
    estimate: Estimate,
    level: float,
    sensitivity: pd.DataFrame | None,
    loso: pd.DataFrame | None,
) -> list[str]:
    """The "How far to trust the answer" section (empty without any trust table)."""
    if sensitivity is None and loso is None:
        return []
    out = ["<h2>How far to trust the answer</h2>", f"<p>{_e(_TRUST_INTRO)}</p>"]
    if sensitivity is not None:
        out.append("<h3>Sensitivity to the bias priors</h3>")
        out += [f"<p>{_e(p)}</p>" for p in _sensitivity_sentences(sensitivity)]
        png = base64.b64encode(_png(_trust_figure("sensitivity", sensitivity, level)))
        out.append(_img(png.decode("ascii"), "How the median moves when one bias prior changes"))
        headers, rows, classes = _sensitivity_rows(sensitivity)
        out.append(_table(headers, rows, classes=classes, numeric=(2, 4, 5, 6, 7)))
    if loso is not None:
        out.append("<h3>Leaving out one source</h3>")
        out += [f"<p>{_e(p)}</p>" for p in _loso_sentences(loso)]
        png = base64.b64encode(_png(_trust_figure("loso", loso, level)))
        out.append(_img(png.decode("ascii"), "How the median moves without each source"))
        headers, rows, classes = _loso_rows(loso)
        out.append(_table(headers, rows, classes=classes, numeric=(1, 3, 4, 5)))
    out.append("<h3>Calibration of the claims</h3>")
    out.append(f"<p>{_e(_PPC_TEXT)} {_e(_ppc_sentence(estimate, level))}</p>")
    png = base64.b64encode(_png(_trust_figure("ppc", estimate, level)))
    out.append(_img(png.decode("ascii"), "PIT values of the claims against the uniform"))
    return out


def _trust_markdown(
    estimate: Estimate,
    level: float,
    sensitivity: pd.DataFrame | None,
    loso: pd.DataFrame | None,
) -> list[str]:
    if sensitivity is None and loso is None:
        return []
    out = ["## How far to trust the answer", "", _md(_TRUST_INTRO), ""]
    if sensitivity is not None:
        out += ["### Sensitivity to the bias priors", ""]
        for p in _sensitivity_sentences(sensitivity):
            out += [_md(p), ""]
        headers, rows, _ = _sensitivity_rows(sensitivity)
        out += [_md_table(headers, rows, numeric=(2, 4, 5, 6, 7)), ""]
    if loso is not None:
        out += ["### Leaving out one source", ""]
        for p in _loso_sentences(loso):
            out += [_md(p), ""]
        headers, rows, _ = _loso_rows(loso)
        out += [_md_table(headers, rows, numeric=(1, 3, 4, 5)), ""]
    out += ["### Calibration of the claims", "", _md(_ppc_sentence(estimate, level)), ""]
    return out


# -------------------------------------------------------------------------------- HTML
class _Html(str):
    """Markup that is already safe (built here from escaped parts)."""


def _e(x: Any) -> str:
    """Escape anything for HTML text or attribute values."""
    if isinstance(x, _Html):
        return str(x)
    return html.escape("" if x is None else str(x), quote=True)


def _link(url: str) -> _Html:
    if url and _is_web_url(url):
        return _Html(
            f'<a href="{_e(url.strip())}" rel="noopener noreferrer nofollow">{_e(url)}</a>'
        )
    return _Html(_e(url))


def _table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    classes: Sequence[str] | None = None,
    numeric: Iterable[int] = (),
) -> str:
    num = set(numeric)
    head = "".join(
        f"<th{' class=num' if j in num else ''}>{_e(h)}</th>" for j, h in enumerate(headers)
    )
    body = []
    for k, row in enumerate(rows):
        cls = classes[k] if classes is not None and classes[k] else ""
        cells = "".join(
            f"<td{' class=num' if j in num else ''}>{_e(v)}</td>" for j, v in enumerate(row)
        )
        body.append(f"<tr{f' class={cls}' if cls else ''}>{cells}</tr>")
    return (
        f"<div class=scroll><table><thead><tr>{head}</tr></thead>"
        f"<tbody>\n" + "\n".join(body) + "\n</tbody></table></div>"
    )


_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
color:#222;max-width:1180px;margin:2em auto;padding:0 1.2em}
h1{font-size:1.7em;margin-bottom:.2em}h2{margin-top:2em;border-bottom:1px solid #ddd;
padding-bottom:.2em}p.meta{color:#666;margin-top:0}
table{border-collapse:collapse;font-size:13px;margin:.6em 0}
th,td{border-bottom:1px solid #e5e5e5;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f5f5f5;position:sticky;top:0}td.num,th.num{text-align:right;
font-variant-numeric:tabular-nums;white-space:nowrap}
tr.surprising td{background:#fde2e1}tr.little td,tr.unreliable td{color:#8a5a00}
.scroll{overflow-x:auto}.claims td{max-width:28em;overflow-wrap:anywhere}
.note{background:#fff8e1;border-left:4px solid #e6a700;padding:.6em 1em;margin:1em 0}
.bad{background:#fdecea;border-left:4px solid #c62828;padding:.6em 1em;margin:1em 0}
.good{color:#2e7d32}img{max-width:100%;height:auto;display:block;margin:.5em 0}
code{background:#f3f3f3;padding:0 .25em;border-radius:3px}
footer{margin-top:3em;color:#777;font-size:12px}
"""


def report_html(
    estimate: Estimate,
    *,
    level: float = DEFAULT_LEVEL,
    title: str | None = None,
    sensitivity: pd.DataFrame | None = None,
    loso: pd.DataFrame | None = None,
) -> str:
    """The report as one self-contained HTML document (text escaped, plots inlined).

    With ``sensitivity`` (a :func:`casualty_models.trust.sensitivity` table) and/or
    ``loso`` (a :func:`casualty_models.trust.leave_one_source_out` table) it gains a
    section "How far to trust the answer": plain-language sentences, their plots and
    tables, and the calibration plot of the claims.
    """
    facts = _facts(estimate, level)
    pct = _pct(level)
    s = estimate.settings
    title = title or f"Casualty estimates as of {s.as_of}"
    diag = estimate.diagnostics
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="casualty_models {_e(__version__)}">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p class=meta>{len(estimate.claims)} claims from {_e(estimate.claims.origin)}; "
        f"{len(facts.headline)} series; {len(facts.sources)} speakers; fitted from {s.start} "
        f"to {s.end}; headline date {s.as_of}. Intervals are equal-tailed {pct}% credible "
        f"intervals. Bias priors: {_e(describe_priors(s.priors))}. Claims fingerprint "
        f"<code>{_e(estimate.claims.fingerprint)}</code>.</p>",
    ]
    if not diag.ok:
        out.append(
            f"<div class=bad><strong>{_e(_failure_title(diag))}</strong> {_e(diag.message())}</div>"
        )

    out.append("<h2>Headline</h2>")
    out.append(
        _table(
            [
                "side",
                "category",
                "date",
                "median",
                "mean",
                "sd",
                "50% interval",
                f"{pct}% interval",
            ],
            [
                [
                    r["side"],
                    r["category"],
                    _date(r["date"]),
                    _people(r["median"]),
                    _people(r["mean"]),
                    _people(r["sd"]),
                    f"{_people(r['low_50'])}–{_people(r['high_50'])}",
                    f"{_people(r[f'low_{pct}'])}–{_people(r[f'high_{pct}'])}",
                ]
                for r in facts.headline.to_dict(orient="records")
            ],
            numeric=range(3, 8),
        )
    )
    out.append("<h2>What the model says</h2>")
    out += [f"<p>{_e(p)}</p>" for p in facts.paragraphs]
    out.append(f"<p class=note>{_e(_IDENTIFICATION)}</p>")

    images = {
        k: base64.b64encode(_png(_figure(k, estimate, level))).decode("ascii")
        for k in ("claims", "timeline", "sources")
    }
    alts = {
        "claims": "Each claim beside the model's true count and what that source would say",
        "timeline": "Cumulative true count through time with the claims at their dates",
        "sources": "Bias factor of each speaker: posterior and prior",
    }
    out.append("<h2>Claims against the model</h2>")
    out.append(_img(images["claims"], alts["claims"]))
    out.append("<h2>Through time</h2>")
    out.append(_img(images["timeline"], alts["timeline"]))

    out.append("<h2>Sources: bias factors</h2>")
    out.append(
        "<p>Bias factor = what the source says ÷ the true count (×1 is honest). "
        "<em>learned</em> = 1 − posterior sd ÷ prior sd of the log factor: near 0% "
        "the claims taught the model nothing about the source and its factor is the "
        f"prior's (rows under {LEARNED_LITTLE:.0%} are marked).</p>"
    )
    out.append(_img(images["sources"], alts["sources"]))
    src = facts.sources
    out.append(
        _table(
            [
                "source",
                "about",
                "type",
                "claims",
                "factor",
                "50% interval",
                f"{pct}% interval",
                "prior median",
                f"prior {pct}%",
                "learned",
            ],
            [
                [
                    r["source"],
                    r["side"],
                    r["source_type"],
                    r["n_claims"],
                    _factor(r["bias_factor"]),
                    f"{_factor(r['low_50'])}–{_factor(r['high_50'])}",
                    f"{_factor(r[f'low_{pct}'])}–{_factor(r[f'high_{pct}'])}",
                    _factor(r["prior_median"]),
                    f"{_factor(r[f'prior_low_{pct}'])}–{_factor(r[f'prior_high_{pct}'])}",
                    _share(r["learned"]),
                ]
                for r in src.to_dict(orient="records")
            ],
            classes=["little" if x < LEARNED_LITTLE else "" for x in src["learned"]],
            numeric=range(3, 10),
        )
    )
    if estimate.inputs.running:
        out.append(
            f"<p>The factors are those on {_e(estimate.settings.as_of)}. A running tally's "
            "bias drifts: the plot shows the factor by which it differs, through time, "
            "from its bias at the tally's first figure.</p>"
        )
        drift = _png(_figure("drift", estimate, level))
        out.append(_img(base64.b64encode(drift).decode("ascii"), "Drift of running tallies"))

    out.append("<h2>Claims check</h2>")
    out.append(
        f"<p>What the model expects each source to have said, given everything else, "
        f"and how surprising the actual claim is (p-value; highlighted below "
        f"{1 - level:.2g}). Each claim is part of the fit, so this understates "
        "surprise.</p>"
    )
    ck = facts.check
    out.append(
        _table(
            [
                "#",
                "source",
                "type",
                "series",
                "as of",
                "claimed",
                "expected median",
                f"expected {pct}%",
                "p-value",
            ],
            [
                [
                    r["claim"] + 1,
                    r["source"],
                    r["source_type"],
                    f"{r['side']} {r['category']}",
                    _date(r["as_of"]),
                    r["claimed"],
                    _people(r["predicted_median"]),
                    f"{_people(r[f'predicted_low_{pct}'])}–{_people(r[f'predicted_high_{pct}'])}",
                    f"{r['p_value']:.3f}",
                ]
                for r in ck.to_dict(orient="records")
            ],
            classes=["surprising" if x else "" for x in ck["surprising"]],
            numeric=(0, 6, 7, 8),
        )
    )

    out += _trust_html(estimate, level, sensitivity, loso)

    out.append("<h2>Claims</h2>")
    out.append('<div class="claims">' + _claims_table_html(estimate) + "</div>")

    out.append("<h2>Diagnostics</h2>")
    verdict = (
        f"<p class=good>{_e(diag.message())}</p>"
        if diag.ok
        else f"<p class=bad>{_e(diag.message())}</p>"
    )
    out.append(verdict)
    out.append(_table(["check", "value"], _diagnostic_rows(estimate), numeric=(1,)))

    out.append("<h2>Settings</h2>")
    out.append(_settings_html(estimate, level))
    out.append(
        f"<footer>casualty_models {_e(__version__)} (fitted with {_e(estimate.version)}) · "
        f"claims fingerprint {_e(estimate.claims.fingerprint)}</footer>"
    )
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _img(b64: str, alt: str) -> str:
    return f'<img src="data:image/png;base64,{b64}" alt="{_e(alt)}">'


def _claim_cells(c: Claim) -> list[Any]:
    rec = c.to_record()
    cells: list[Any] = []
    for col in COLUMNS:
        v = rec[col]
        if col == "url":
            cells.append(_link(v or ""))
        elif col in ("value", "low", "high"):
            cells.append(_people(v))
        elif v is None:
            cells.append("")
        else:
            cells.append(v)
    return cells


def _claims_table_html(estimate: Estimate) -> str:
    numeric = [1 + COLUMNS.index(c) for c in ("value", "low", "high", "interval_prob")]
    return _table(
        ["#", *COLUMNS],
        [[i + 1, *_claim_cells(c)] for i, c in enumerate(estimate.claims)],
        numeric=[0, *numeric],
    )


def _failure_title(diag: Any) -> str:
    if not diag.converged:
        return "The sampler did not converge well enough to trust these intervals:"
    return "The model cannot explain the claims as given (model check failed):"


def _diagnostic_rows(estimate: Estimate) -> list[list[Any]]:
    d = estimate.diagnostics.to_dict()
    first = ["r_hat_max", "ess_bulk_min", "ess_tail_min", "divergences"]
    rows = []
    for key in [*first, *(k for k in d if k not in first)]:
        v = d.get(key)
        if isinstance(v, float):
            v = f"{v:.3f}" if key.startswith("r_hat") else f"{v:,.0f}"
        elif isinstance(v, tuple):
            v = "; ".join(v)
        rows.append([key, v])
    runs = estimate.attempts
    if len(runs) > 1:
        rows.append(["runs by fit()", "; ".join(f"{a['reason']} ({a['sampler']})" for a in runs)])
    return rows


def _plain(v: Any) -> str:
    if v is None:
        return "None"
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, dict | list | tuple):
        return json.dumps(v, ensure_ascii=False, default=str)
    return str(v)


def _prior_rows(types: dict[str, dict[str, Any]], level: float) -> tuple[list[str], list[list]]:
    """Per source type: the raw prior fields and its implied factor interval."""
    from casualty_models.model.priors import SourcePrior

    keys = list(dict.fromkeys(k for v in types.values() for k in v))
    pct = _pct(level)
    rows = []
    for name, fields in types.items():
        try:
            lo, med, hi = SourcePrior(**fields).factor_interval(level)
            implied = f"{_factor(med)} ({_factor(lo)}–{_factor(hi)})"
        except (TypeError, ValueError):
            implied = ""
        rows.append([name, *(_plain(fields.get(k)) for k in keys), implied])
    return ["source type", *keys, f"bias factor, median ({pct}%)"], rows


def _settings_html(estimate: Estimate, level: float) -> str:
    settings = estimate.settings.to_dict()
    priors = dict(settings.pop("priors", {}))
    types = priors.pop("source_types", {})
    parts = [
        _table(
            ["setting", "value"],
            [["bias priors", describe_priors(estimate.settings.priors)]]
            + [[k, _plain(v)] for k, v in settings.items()]
            + [
                ["claims origin", estimate.claims.origin],
                ["claims fingerprint", estimate.claims.fingerprint],
                ["package version", estimate.version],
            ],
        )
    ]
    if types:
        headers, rows = _prior_rows(types, level)
        parts.append("<h3>Bias priors per source type</h3>")
        parts.append(_table(headers, rows, numeric=range(1, len(headers))))
    if priors:
        parts.append("<h3>Other priors</h3>")
        parts.append(_table(["prior", "value"], [[k, _plain(v)] for k, v in priors.items()]))
    return "\n".join(parts)


def write_report(
    estimate: Estimate,
    path: str | os.PathLike[str],
    *,
    level: float = DEFAULT_LEVEL,
    title: str | None = None,
    sensitivity: pd.DataFrame | None = None,
    loso: pd.DataFrame | None = None,
) -> Path:
    """Write :func:`report_html` to ``path`` atomically and return the file's path.

    When ``path`` is a directory (an existing one, or any path ending in a separator)
    the file is ``path/report.html``. ``sensitivity`` and ``loso`` add the trust section.
    """
    target = Path(path)
    if target.is_dir() or os.fspath(path).endswith(("/", os.sep)):
        target = target / "report.html"
    html_text = report_html(estimate, level=level, title=title, sensitivity=sensitivity, loso=loso)
    return atomic_write(target, html_text)


# ---------------------------------------------------------------------------- Markdown
_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}|~#!])")
_MD_AUTOLINK = re.compile(r"^https?://[^\s<>\"'`|\\]+$", re.IGNORECASE)


def _md(x: Any) -> str:
    """Escape text for a Markdown table cell or paragraph: no live HTML, no markup."""
    text = html.escape("" if x is None else str(x), quote=False)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return " ".join(text.split())  # newlines would break a table row


def _md_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    numeric: Iterable[int] = (),
    raw: Iterable[int] = (),
) -> str:
    num, keep = set(numeric), set(raw)
    lines = [
        "| " + " | ".join(_md(h) for h in headers) + " |",
        "|" + "|".join("---:" if j in num else "---" for j in range(len(headers))) + "|",
    ]
    for row in rows:
        cells = [str(v) if j in keep else _md(v) for j, v in enumerate(row)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _md_url(url: str) -> str:
    url = (url or "").strip()
    return f"<{url}>" if _MD_AUTOLINK.match(url) else _md(url)


def report_markdown(
    estimate: Estimate,
    *,
    level: float = DEFAULT_LEVEL,
    title: str | None = None,
    sensitivity: pd.DataFrame | None = None,
    loso: pd.DataFrame | None = None,
) -> str:
    """The report as Markdown text (no plots; text escaped so no HTML or links leak).

    ``sensitivity`` and ``loso`` add the trust section, as in :func:`report_html`.
    """
    facts = _facts(estimate, level)
    pct = _pct(level)
    s = estimate.settings
    diag = estimate.diagnostics
    out = [
        f"# {_md(title or f'Casualty estimates as of {s.as_of}')}",
        "",
        _md(
            f"{len(estimate.claims)} claims from {estimate.claims.origin}; "
            f"{len(facts.headline)} series; {len(facts.sources)} speakers; fitted from "
            f"{s.start} to {s.end}; headline date {s.as_of}. Intervals are equal-tailed "
            f"{pct}% credible intervals. Bias priors: {describe_priors(s.priors)}."
        )
        + f" Claims fingerprint `{estimate.claims.fingerprint}`; casualty\\_models "
        f"{_md(estimate.version)}.",
        "",
    ]
    if not diag.ok:
        out += [f"> **Warning: {_md(_failure_title(diag))}** {_md(diag.message())}", ""]
    out += [
        "## Headline",
        "",
        _md_table(
            ["side", "category", "date", "median", "mean", "50% interval", f"{pct}% interval"],
            [
                [
                    r["side"],
                    r["category"],
                    _date(r["date"]),
                    _people(r["median"]),
                    _people(r["mean"]),
                    f"{_people(r['low_50'])}–{_people(r['high_50'])}",
                    f"{_people(r[f'low_{pct}'])}–{_people(r[f'high_{pct}'])}",
                ]
                for r in facts.headline.to_dict(orient="records")
            ],
            numeric=range(3, 7),
        ),
        "",
    ]
    out += ["## What the model says", ""]
    for p in facts.paragraphs:
        out += [_md(p), ""]
    out += [f"> {_md(_IDENTIFICATION)}", ""]
    out += [
        "## Sources: bias factors",
        "",
        _md_table(
            [
                "source",
                "about",
                "type",
                "claims",
                "factor",
                f"{pct}% interval",
                "prior median",
                f"prior {pct}%",
                "learned",
            ],
            [
                [
                    r["source"],
                    r["side"],
                    r["source_type"],
                    r["n_claims"],
                    _factor(r["bias_factor"]),
                    f"{_factor(r[f'low_{pct}'])}–{_factor(r[f'high_{pct}'])}",
                    _factor(r["prior_median"]),
                    f"{_factor(r[f'prior_low_{pct}'])}–{_factor(r[f'prior_high_{pct}'])}",
                    _share(r["learned"]),
                ]
                for r in facts.sources.to_dict(orient="records")
            ],
            numeric=range(3, 9),
        ),
        "",
    ]
    out += [
        "## Claims check",
        "",
        _md_table(
            [
                "#",
                "source",
                "series",
                "as of",
                "claimed",
                "expected median",
                f"expected {pct}%",
                "p-value",
                "surprising",
            ],
            [
                [
                    r["claim"] + 1,
                    r["source"],
                    f"{r['side']} {r['category']}",
                    _date(r["as_of"]),
                    r["claimed"],
                    _people(r["predicted_median"]),
                    f"{_people(r[f'predicted_low_{pct}'])}–{_people(r[f'predicted_high_{pct}'])}",
                    f"{r['p_value']:.3f}",
                    "yes" if r["surprising"] else "",
                ]
                for r in facts.check.to_dict(orient="records")
            ],
            numeric=(0, 5, 6, 7),
        ),
        "",
    ]
    url_col = 1 + COLUMNS.index("url")
    claim_rows = []
    for i, c in enumerate(estimate.claims):
        cells = [i + 1, *_claim_cells(c)]
        cells[url_col] = _md_url(c.url)
        claim_rows.append(cells)
    out += _trust_markdown(estimate, level, sensitivity, loso)
    out += ["## Claims", "", _md_table(["#", *COLUMNS], claim_rows, raw=(url_col,)), ""]
    out += [
        "## Diagnostics",
        "",
        _md(diag.message()),
        "",
        _md_table(["check", "value"], _diagnostic_rows(estimate), numeric=(1,)),
        "",
    ]
    settings = estimate.settings.to_dict()
    out += [
        "## Settings",
        "",
        _md_table(
            ["setting", "value"],
            [["bias priors", describe_priors(estimate.settings.priors)]]
            + [[k, _plain(v)] for k, v in settings.items()]
            + [["claims fingerprint", estimate.claims.fingerprint]],
        ),
        "",
    ]
    return "\n".join(out)


__all__ = ["report_html", "report_markdown", "save_plots", "write_report"]
