"""docs/atlas.md's figure and tables, from the whole-atlas fit and the studies' files.

Called by ``python -m validation.atlas figures``: fits the atlas with the settings of
``casualty-models atlas fit`` (so the numbers are the shipped presets'), and once without
the early-claim covariate; draws ``forest.png``; writes the tables between the markers
of the page from ``loo_rows.csv`` and ``sbc.csv`` when they exist.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from casualty_models.atlas import CELLS, load_atlas
from casualty_models.atlas.loo import loo_summary
from casualty_models.atlas.model import AtlasFit, fit_atlas
from casualty_models.atlas.plot import COMPARED
from casualty_models.model.priors_file import preset
from validation.outputs import replace_block

PRIORS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "priors.md"
FIT = {"draws": 2000, "tune": 1000, "random_seed": 1}
"""The settings of ``casualty-models atlas fit``."""


def _x(f: float) -> str:
    return f"×{f:.2g}" if f < 10 else f"×{f:.0f}"


def _md(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def cells_table(fit: AtlasFit) -> str:
    rows = []
    for r in fit.cells().itertuples(index=False):
        name, source_type = COMPARED[r.cell]
        lo, med, hi = preset(name).for_type(source_type).factor_interval()
        rows.append(
            {
                "cell": f"`{r.cell}`",
                "claims (events)": f"{r.claims} ({r.events})",
                "cell median, 90%": f"{_x(r.mu_factor)} ({_x(r.mu_low)}–{_x(r.mu_high)})",
                "new speaker, 90%": f"{_x(r.factor)} ({_x(r.low_90)}–{_x(r.high_90)})",
                "log-sd": f"{r.log_sd:.2f}",
                "shared": f"{r.shared_share:.0%}",
                "hand-made prior (preset)": f"{_x(med)} ({_x(lo)}–{_x(hi)}) ({name})",
            }
        )
    noise = fit.cells()["noise"].iloc[0]
    return _md(pd.DataFrame(rows)) + f"\n\nNoise (every cell): {noise:.2f}.\n"


def early_text(fit: AtlasFit, without: AtlasFit) -> str:
    e = fit.early_effect()
    obs = fit.obs
    n_early = int((obs["early"] > 0.1).sum())
    a = fit.cells().set_index("cell")["mu_factor"]
    b = without.cells().set_index("cell")["mu_factor"]
    moved = ", ".join(
        f"`{c}` {_x(b[c])} → {_x(a[c])}" for c in CELLS if abs(math.log(a[c] / b[c])) > 0.05
    )
    return (
        f"{n_early} of the {len(obs)} scored claims were dated with more than a tenth of "
        f"their event still to come. The slope is {e['median']:.2f} (90% interval "
        f"{e['low_90']:.2f} to {e['high_90']:.2f}; P(slope < 0) = {e['p_negative']:.3f}): "
        f"a figure dated at an event's start reads {_x(e['factor_at_start'])} of one dated "
        f"at its end, other things equal. Without the covariate the cells' medians "
        f"(figures dated at the end) move: {moved or 'by less than 5%'}."
    )


def loo_tables(rows: pd.DataFrame) -> tuple[str, str, str]:
    """(overall, per event, per series) Markdown tables."""
    summary = loo_summary(rows)
    overall = pd.DataFrame(
        {
            "priors": summary["priors"],
            "series": summary["series"],
            "events": summary["events"],
            "covered": [
                f"{c} of {n}" for c, n in zip(summary["covered"], summary["series"], strict=True)
            ],
            "coverage": [f"{c:.0%}" for c in summary["coverage"]],
            "coverage, events weighted equally": [f"{c:.0%}" for c in summary["coverage_by_event"]],
            "mean width (high ÷ low, geometric)": [f"×{w:.1f}" for w in summary["mean_width"]],
            "median width": [f"×{w:.1f}" for w in summary["median_width"]],
            "median error of the median": [
                f"×{math.exp(e):.2f}" for e in summary["median_abs_log_error"]
            ],
        }
    )
    names = list(dict.fromkeys(rows["priors"]))
    per_event = []
    for event, g in rows.groupby("event", sort=False):
        row = {"event": event, "series": int((g["priors"] == "historical").sum())}
        for name in names:
            h = g[g["priors"] == name]
            row[name] = (
                f"{int(h['covered'].sum())}/{len(h)}, ×{np.exp(np.log(h['width']).mean()):.1f}"
                if len(h)
                else "—"
            )
        per_event.append(row)
    series = []
    for (event, side, category), g in rows.groupby(["event", "side", "category"], sort=False):
        row = {"series": f"{event} {side} {category}", "later count": f"{g['later'].iloc[0]:,.0f}"}
        for name in names:
            h = g[g["priors"] == name]
            if len(h):
                r = h.iloc[0]
                mark = "✓" if r["covered"] else "✗"
                row[name] = f"{mark} {r['median']:,.0f} ({r['low']:,.0f}–{r['high']:,.0f})"
            else:
                row[name] = "—"
        series.append(row)
    return _md(overall), _md(pd.DataFrame(per_event)), _md(pd.DataFrame(series))


_SAYS = {
    "own:military": "A side's figure for its own soldiers' dead",
    "own:civilian": "The victims' own authorities' figure for their dead",
    "enemy:military": "A side's figure for the enemy's soldiers' dead",
    "enemy:civilian": "The perpetrators' figure for their victims",
    "neutral": "A third party's figure (governments, agencies, the press)",
    "independent": "A researcher's estimate",
    "tally": "A documented count of named dead",
}


def words_text(fit: AtlasFit) -> str:
    """One sentence per cell: what the fit says, against the hand-made prior."""
    lines = []
    for r in fit.cells().itertuples(index=False):
        name, source_type = COMPARED[r.cell]
        lo, med, hi = preset(name).for_type(source_type).factor_interval()
        lines.append(
            f"* {_SAYS[r.cell]} was typically {_x(r.mu_factor)} of the later count "
            f"(90% {_x(r.mu_low)}–{_x(r.mu_high)}; {r.claims} claims, {r.events} events); a "
            f"new event's speaker of this kind: {_x(r.low_90)}–{_x(r.high_90)}. The hand-made "
            f"`{name}` prior says {_x(med)} ({_x(lo)}–{_x(hi)})."
        )
    return "\n".join(lines)


def verdict_text(rows: pd.DataFrame, nominal: float = 0.9) -> str:
    """Whether ``historical`` beat the defaults, by a rule stated in the text: coverage
    nearer the nominal first; at equal coverage, the narrower intervals."""
    summary = loo_summary(rows).set_index("priors")
    h, d = summary.loc["historical"], summary.loc["defaults"]
    gap_h, gap_d = abs(h["coverage"] - nominal), abs(d["coverage"] - nominal)
    if math.isclose(gap_h, gap_d):
        better = h["mean_width"] < d["mean_width"]
        why = "the same coverage, with " + ("narrower" if better else "wider") + " intervals"
    else:
        better = gap_h < gap_d
        why = "coverage " + ("nearer" if better else "further from") + f" {nominal:.0%}"
    verdict = "beats" if better else "does not beat"
    return (
        f"**`historical` {verdict} the defaults** on these {int(h['series'])} series "
        f"({int(h['events'])} events): {why}. Its 90% intervals held the later count "
        f"{int(h['covered'])} times of {int(h['series'])} ({h['coverage']:.0%}), the "
        f"defaults' {int(d['covered'])} times ({d['coverage']:.0%}); mean width "
        f"×{h['mean_width']:.1f} against ×{d['mean_width']:.1f} (high ÷ low, geometric "
        f"mean); the median of "
        f"`historical` was off the later count by a median factor of "
        f"×{math.exp(h['median_abs_log_error']):.2f}, the defaults' by "
        f"×{math.exp(d['median_abs_log_error']):.2f}. The rule: coverage nearer the "
        f"nominal {nominal:.0%} wins; at equal coverage, narrower intervals win. With "
        f"{int(h['series'])} series, one series more or less covered moves coverage by "
        f"{1 / h['series']:.0%}: a difference of one or two series is not evidence."
    )


def sbc_table(table: pd.DataFrame) -> str:
    out = []
    reps = table["replication"].nunique()
    for name, g in table.groupby("parameter", sort=False):
        ranks = g["rank"].to_numpy()
        counts = np.bincount(np.minimum(ranks * 4 // 100, 3), minlength=4)
        covering = f"{int(g['covered'].sum())} of {len(g)} ({g['covered'].mean():.0%})"
        out.append(
            {
                "parameter": f"`{name}`",
                "90% intervals covering": covering,
                "median |error|": f"{(g['median'] - g['truth']).abs().median():.2f}",
                "ranks by quarter": " / ".join(str(c) for c in counts),
            }
        )
    total = table[table["parameter"].str.startswith("mu[")]
    return (
        _md(pd.DataFrame(out)) + f"\n\n{reps} simulated atlases; the cells' medians together: "
        f"{int(total['covered'].sum())} of {len(total)} 90% intervals covered the truth "
        f"({total['covered'].mean():.1%}); largest R-hat {table['max_rhat'].max():.3f}.\n"
    )


def _factor(x: float) -> str:
    return f"×{x:.2g}"


def preset_tables() -> str:
    """docs/priors.md's sections on the historical presets: each source type's prior as
    the shipped preset files give it (nothing typed by hand)."""
    from casualty_models.atlas.preset import PRESET_CELLS
    from casualty_models.model.preset_files import preset_about, preset_files

    out = []
    for name in PRESET_CELLS:
        priors = preset(name)
        about = preset_about(name, preset_files()[name].read_text(encoding="utf-8"))
        rows = [
            "| source_type | median factor | 90% prior interval | spread | shared | noise | cap |",
            "|---|---|---|---|---|---|---|",
        ]
        for source_type, p in priors.source_types.items():
            if p.fixed:
                med = f"{_factor(math.exp(p.bias_mu))}, fixed"
                interval = "—"
            else:
                lo, mid, hi = p.factor_interval()
                med = _factor(mid)
                if p.bias_upper is not None:
                    med += f" (`factor: {math.exp(p.bias_mu):.2g}` before the cap)"
                interval = f"{_factor(lo)} – {_factor(hi)}"
            cap = _factor(math.exp(p.bias_upper)) if p.bias_upper is not None else "—"
            rows.append(
                f"| `{source_type}` | {med} | {interval} | {p.bias_sigma:g} | "
                f"{p.group_sigma:g} | {p.noise_sigma:g} | {cap} |"
            )
        out += [
            f"## {name}",
            "",
            f"{about.for_[0].upper()}{about.for_[1:]}. Learned, not judged: "
            "`casualty-models atlas fit` writes this preset from the bias atlas, with the "
            "derivation in the file's comments; [atlas.md](atlas.md) gives the data, the "
            "model, what the atlas cannot do, and whether these priors beat the defaults "
            "when each past event is left out in turn.",
            "",
            *rows,
            "",
        ]
    return "\n".join(out)


def write_pages(out: Path, page: Path, atlas_dir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from casualty_models.atlas.plot import forest_plot

    atlas = load_atlas(atlas_dir)
    fit = fit_atlas(atlas, **FIT)
    without = fit_atlas(atlas, early=False, **FIT)
    out.mkdir(parents=True, exist_ok=True)
    ax = forest_plot(fit)
    ax.figure.savefig(out / "forest.png", dpi=110, bbox_inches="tight")
    plt.close(ax.figure)
    fit.cells().to_csv(out / "cells.csv", index=False)
    replace_block(page, "atlas-cells", cells_table(fit))
    replace_block(page, "atlas-early", early_text(fit, without))
    replace_block(page, "atlas-words", words_text(fit))
    replace_block(PRIORS_PAGE, "historical-presets", preset_tables())
    if (out / "loo_rows.csv").exists():
        overall, per_event, series = loo_tables(pd.read_csv(out / "loo_rows.csv"))
        replace_block(page, "atlas-loo", overall)
        replace_block(page, "atlas-loo-events", per_event)
        replace_block(page, "atlas-loo-series", series)
        replace_block(page, "atlas-verdict", verdict_text(pd.read_csv(out / "loo_rows.csv")))
    if (out / "sbc.csv").exists():
        replace_block(page, "atlas-sbc", sbc_table(pd.read_csv(out / "sbc.csv")))
