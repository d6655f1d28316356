"""The ``historical`` presets, derived from a fitted atlas and written as preset files.

Each source type's prior is the atlas's posterior predictive for a **new** event's
speaker of that kind (:meth:`AtlasFit.cells`), rounded to two significant digits:

* ``factor`` = the predictive median factor (for a tally: the median of the cell's
  ``mu`` before the ×1 cap bends it, which is what ``factor`` means for a capped prior);
* ``shared`` = √(Var(mu) + E[shared²]): the cell's own uncertainty, which every speaker
  of a new event shares, plus the spread of the group offsets (a tally: 0, since a capped
  prior has no group offset, and its variance goes to ``spread``);
* ``spread`` = √E[spread²];
* ``noise`` = √E[noise²] (one noise for every kind);
* ``known`` is not learned: an anchor the user pins keeps the defaults' prior.

``historical`` takes ``own``/``enemy`` from the military cells (soldiers' deaths in a
war, the package defaults' domain); ``historical-civilian`` from the civilian cells
(own: the victims' authorities, enemy: the perpetrators'). Both share ``neutral``,
``independent`` and ``tally``. The files' comments carry the derivation: the atlas's
fingerprint, the model's settings and diagnostics, and each number before rounding.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from casualty_models.atlas.data import Atlas
from casualty_models.atlas.model import CAPPED, AtlasFit
from casualty_models.claims import SOURCE_TYPES
from casualty_models.model.priors import DEFAULT_SOURCE_PRIORS, Priors, SourcePrior

__all__ = [
    "PRESET_CELLS",
    "PRESET_NAMES",
    "atlas_fingerprint",
    "atlas_note",
    "derived_priors",
    "preset_text",
    "write_presets",
]

PRESET_CELLS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "historical": MappingProxyType(
            {
                "own": "own:military",
                "enemy": "enemy:military",
                "neutral": "neutral",
                "tally": "tally",
                "independent": "independent",
            }
        ),
        "historical-civilian": MappingProxyType(
            {
                "own": "own:civilian",
                "enemy": "enemy:civilian",
                "neutral": "neutral",
                "tally": "tally",
                "independent": "independent",
            }
        ),
    }
)
"""Preset name -> source type -> the atlas cell its prior is learned from."""

PRESET_NAMES = tuple(PRESET_CELLS)
VICTIMS_PRESET = MappingProxyType({"military": "historical", "civilian": "historical-civilian"})
"""Whose dead a series counts -> the historical preset for it."""

DIGITS = 2
"""Significant digits of every learned number in a preset file."""

_ROLES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "historical": MappingProxyType(
            {
                "own": "a side about its own soldiers' dead: learned from past wars",
                "enemy": "a side about the enemy's soldiers' dead: learned from past wars",
                "neutral": "third parties (governments, agencies, press): learned from the atlas",
                "tally": "named-person counts: lower bounds, learned from the atlas",
                "independent": "researchers' estimates: learned from the atlas",
                "known": "an anchor: a count taken as true (not learned)",
            }
        ),
        "historical-civilian": MappingProxyType(
            {
                "own": "the victims' authorities about their dead: learned from past events",
                "enemy": "the perpetrators' authorities about the victims: learned from the atlas",
                "neutral": "third parties (governments, agencies, press): learned from the atlas",
                "tally": "named-victim lists: lower bounds, learned from the atlas",
                "independent": "surveys and researchers' estimates: learned from the atlas",
                "known": "an anchor: a count taken as true (not learned)",
            }
        ),
    }
)

_FOR = MappingProxyType(
    {
        "historical": "soldiers killed in a war, with each kind of source's bias learned from "
        "past wars and their later counts (the bias atlas, docs/atlas.md)",
        "historical-civilian": "civilians killed in a war, massacre or genocide, with each kind "
        "of source's bias learned from past events and their later counts (the bias atlas)",
    }
)


def _round(x: float, digits: int = DIGITS) -> float:
    """``x`` to ``digits`` significant digits (0 stays 0)."""
    if x == 0 or not math.isfinite(x):
        return x
    return float(f"{x:.{digits}g}")


def atlas_fingerprint(root: str | Path) -> str:
    """SHA-256 (first 16 hex digits) of the atlas's CSV files, names and bytes: what
    the presets were learned from."""
    digest = hashlib.sha256()
    for path in sorted(Path(root).rglob("*.csv")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _prior(row: Mapping[str, Any], cell: str) -> SourcePrior:
    noise = _round(row["noise"])
    if cell in CAPPED:
        return SourcePrior.from_factor(
            _round(row["mu_factor"]), spread=_round(row["spread"]), noise=noise, max_factor=1.0
        )
    return SourcePrior.from_factor(
        _round(row["factor"]),
        spread=_round(row["spread"]),
        shared=_round(row["shared"]),
        noise=noise,
    )


def derived_priors(fit: AtlasFit) -> dict[str, Priors]:
    """Preset name -> its :class:`Priors`, learned from ``fit`` (rounded)."""
    table = fit.cell_rows()
    out = {}
    for name, cells in PRESET_CELLS.items():
        types = {t: _prior(table[c], c) for t, c in cells.items()}
        out[name] = Priors(source_types={**types, "known": DEFAULT_SOURCE_PRIORS["known"]})
    return out


def _num(x: float) -> str:
    return repr(float(x))


def _flow(prior: SourcePrior) -> str:
    parts = [
        f"factor: {_num(_round(math.exp(prior.bias_mu), 12))}",
        f"spread: {_num(prior.bias_sigma)}",
        f"shared: {_num(prior.group_sigma)}",
        f"noise: {_num(prior.noise_sigma)}",
    ]
    if prior.bias_upper is not None:
        parts.append(f"max_factor: {_num(_round(math.exp(prior.bias_upper), 12))}")
    return "{" + ", ".join(parts) + "}"


def _q(text: str) -> str:
    """``text`` as a YAML double-quoted scalar (JSON's escaping is valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _x(f: float) -> str:
    return f"×{f:.2g}" if f < 10 else f"×{f:.0f}"


def _events_text(fit: AtlasFit, cell: str) -> str:
    mine = fit.obs[fit.obs["cell"] == cell]
    events = list(dict.fromkeys(mine["event"]))
    return f"{len(mine)} claims from {len(events)} events ({', '.join(events) or 'none'})"


def _type_comment(fit: AtlasFit, row: Mapping[str, Any], cell: str) -> list[str]:
    lines = [
        f"{cell}: {_events_text(fit, cell)}.",
        f"Cell median factor {_x(row['mu_factor'])} (90% {_x(row['mu_low'])}–"
        f"{_x(row['mu_high'])}); a new event's speaker: median {_x(row['factor'])}, "
        f"90% {_x(row['low_90'])}–{_x(row['high_90'])}, log-sd {row['log_sd']:.3f}.",
    ]
    if cell in CAPPED:
        lines.append(
            f"Capped at ×1: factor = the cell's median before the cap, {row['mu_factor']:.4f}; "
            f"spread = √(Var(mu) + E[spread²]) = {row['spread']:.4f}; shared 0 (a capped "
            f"prior has none); noise = √E[noise²] = {row['noise']:.4f}."
        )
    else:
        lines.append(
            f"factor = predictive median {row['factor']:.4f}; shared = √(Var(mu) + "
            f"E[shared²]) = {row['shared']:.4f} ({row['shared_share']:.0%} of the variance); "
            f"spread = √E[spread²] = {row['spread']:.4f}; noise = √E[noise²] = "
            f"{row['noise']:.4f}."
        )
    return lines


def _wrap(text: str, width: int = 88, indent: str = "# ") -> list[str]:
    import textwrap

    return [indent + line for line in textwrap.wrap(text, width - len(indent))] or [indent]


def preset_text(
    fit: AtlasFit,
    name: str,
    *,
    atlas: Atlas,
    command: str = "casualty-models atlas fit",
    today: dt.date | None = None,
) -> str:
    """The preset file ``name`` (``historical`` or ``historical-civilian``) for ``fit``,
    learned from ``atlas``: comments with the derivation, an ``about:`` section, and
    every source type's prior."""
    if name not in PRESET_CELLS:
        raise ValueError(f"unknown historical preset {name!r}; known: {', '.join(PRESET_CELLS)}")
    priors = derived_priors(fit)[name]
    table = fit.cell_rows()
    diag = fit.diagnostics()
    settings = fit.settings
    n_events = fit.obs["event"].nunique()
    lines = [
        f"# Preset {name}: generated by `{command}` from the bias atlas.",
        "# Do not edit by hand: change the atlas (seeds/bias_atlas/) or the atlas model, and",
        "# run the command again.",
        "#",
    ]
    lines += _wrap(
        f"Learned from {len(fit.obs)} scored claims about {n_events} events that ended "
        f"before 2001, each compared with the event's later count (its own uncertainty "
        f"carried); the atlas model and its priors are in casualty_models/atlas/model.py "
        f"and docs/atlas.md. Atlas data fingerprint {atlas_fingerprint(atlas.origin)} "
        f"(SHA-256 of its CSV files); model settings: draws {settings['draws']}, tune "
        f"{settings['tune']}, chains {settings['chains']}, seed {settings['random_seed']}, "
        f"early-claim covariate {'on' if fit.early else 'off'}; largest R-hat "
        f"{diag['max_rhat']:.3f}, smallest bulk ESS {diag['min_ess']:.0f}, "
        f"{diag['divergences']} divergences" + (f"; generated {today}." if today else ".")
    )
    if fit.early:
        e = fit.early_effect()
        lines += _wrap(
            f"Early claims: a figure dated at an event's start reads ×{e['factor_at_start']:.2f} "
            f"of one dated at its end (slope {e['median']:.2f}, 90% {e['low_90']:.2f} to "
            f"{e['high_90']:.2f}); the priors below are for a figure dated when it counts to, "
            "which is how the main model reads every claim."
        )
    lines += _wrap(
        "Every number is the atlas's predictive for a new event, rounded to "
        f"{DIGITS} significant digits: factor = median; shared = √(Var(mu) + E[shared²]), "
        "the part every speaker of the kind in one event shares; spread = √E[spread²], a "
        "speaker's own; noise = √E[noise²]. What the atlas cannot do (selection of famous "
        "disputed tolls; 'truth' that is sometimes the side's own archive): docs/atlas.md."
    )
    own = table[PRESET_CELLS[name]["own"]]
    enemy = table[PRESET_CELLS[name]["enemy"]]
    who = "soldiers killed in a war" if name == "historical" else "civilians killed"
    lines += [
        "about:",
        f"  for: {_q(_FOR[name])}",
        "  in_short: "
        + _q(
            f"learned from history ({who}): own figures ×{own['factor']:.2g} of the later "
            f"count, the other side's ×{enemy['factor']:.2g}"
        ),
        "  summary: |-",
        f"    Bias priors learned from the bias atlas: {len(fit.obs)} claims about "
        f"{n_events} past events",
        "    (before 2001) against their later counts; seeds/bias_atlas/, docs/atlas.md.",
        "  roles:",
        *(f"    {t}: {_q(_ROLES[name][t])}" for t in SOURCE_TYPES),
        "",
        "source_types:",
    ]
    for source_type in SOURCE_TYPES:
        prior = priors.source_types[source_type]
        if source_type == "known":
            lines.append("  # Not learned: an anchor the user pins keeps the defaults' prior.")
        else:
            cell = PRESET_CELLS[name][source_type]
            for text in _type_comment(fit, table[cell], cell):
                lines += _wrap(text, indent="  # ")
        lines.append(f"  {source_type}: {_flow(prior)}")
    return "\n".join(lines) + "\n"


def write_presets(
    fit: AtlasFit,
    folder: str | Path,
    *,
    atlas: Atlas,
    command: str = "casualty-models atlas fit",
) -> list[Path]:
    """Write every historical preset file into ``folder``; returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name in PRESET_CELLS:
        path = folder / f"{name}.yaml"
        text = preset_text(fit, name, atlas=atlas, command=command)
        tmp = path.with_suffix(".yaml.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        out.append(path)
    return out


def atlas_note(priors: Priors) -> str | None:
    """One sentence naming the atlas when ``priors`` are a historical preset (for the
    report), else None."""
    from casualty_models.model.preset_files import preset_about, preset_files
    from casualty_models.model.priors_file import PRESETS

    for name in PRESET_CELLS:
        if name in PRESETS and PRESETS[name] == priors:
            about = preset_about(name, preset_files()[name].read_text(encoding="utf-8"))
            facts = " ".join(about.summary.split()).split(": ", 1)[-1]
            return f"They were learned from the bias atlas: {facts}"
    return None
