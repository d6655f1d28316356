"""How claim categories map onto latent quantities.

Each side has one latent curve, its **killed** count. Other categories are that curve
times a factor built from per-side ratios to killed, each with a prior:

=====================  ==========================  ==========================
category               expression                  what a source means by it
=====================  ==========================  ==========================
``killed``             K                           dead
``wounded``            ρ_wounded · K               wounded
``casualties``         (1 + ρ_wounded) · K         killed + wounded
``personnel_losses``   (1 + ρ_wounded) · K         Ukrainian General Staff's "personnel" figure;
                                                   read as killed + wounded, its own
                                                   definitional gap absorbed by the
                                                   speaker's bias
``missing``            ρ_missing · K               missing
``killed_and_missing`` (1 + ρ_missing) · K         dead or missing
=====================  ==========================  ==========================

``captured`` (prisoners of war) is a known category with a curve of its own: how many
soldiers surrender does not scale with how many die (a linked captured ratio with
two conflicting claims made the full-war posterior bimodal in that ratio).

A category not in this table (``deaths`` in an epidemic, say) is a free label: it gets a
latent curve of its own, linked to nothing. When a side has both linked and unlinked
categories, :func:`plan` says so in a :class:`UnlinkedCategoryWarning`.

The ratios are constant over time: a simplification that lets a casualties claim
inform the killed count and vice versa. Their priors (median, log-scale sd) are in
:data:`DEFAULT_RATIO_PRIORS` and overridable through ``Priors(ratios=...)``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

BASE = "killed"

# category -> (ratio name or None, add one?) : factor = (1 if add else 0) + ratio
EXPRESSIONS: Mapping[str, tuple[str | None, bool]] = MappingProxyType(
    {
        "killed": (None, False),
        "wounded": ("wounded", False),
        "casualties": ("wounded", True),
        "personnel_losses": ("wounded", True),
        "missing": ("missing", False),
        "killed_and_missing": ("missing", True),
    }
)

DEFAULT_RATIO_PRIORS: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        # wounded per killed: about 3 (90%: 1.3-6.8), the range reported for modern
        # conventional wars; "casualties" claims inform killed through it
        "wounded": (3.0, 0.5),
        # missing per killed: poorly known, so wide (90%: x0.19 to x5.2 around the median)
        "missing": (0.2, 1.0),
    }
)


OWN_CURVE: frozenset[str] = frozenset({"captured"})
"""Known categories that get a curve of their own, without a warning."""


class UnlinkedCategoryWarning(UserWarning):
    """A side has a category the model does not link to its killed count."""


@dataclass(frozen=True)
class Plan:
    """Latent curves and how each reported series is derived from them.

    ``bases`` are the latent curves, as (side, category) pairs; ``series`` the reported
    series; ``series_base[r]`` the curve series r scales, ``series_ratio[r]`` the index
    into ``ratios`` (or -1 for none) and ``series_add_one[r]`` whether the factor is
    1 + ratio rather than ratio.
    """

    bases: list[tuple[str, str]]
    series: list[tuple[str, str]]
    ratios: list[tuple[str, str]]  # (side, ratio name)
    series_base: list[int]
    series_ratio: list[int]
    series_add_one: list[bool]


def plan(claim_series: Sequence[tuple[str, str]], *, link: bool = True) -> Plan:
    """Decide the latent curves for the claims' series (in order of appearance).

    With ``link`` every side with any linked category gets a killed curve, and killed is
    reported even when no claim is about killed. Without it every series is its own
    curve.
    """
    linked_sides = (
        list(dict.fromkeys(side for side, cat in claim_series if cat in EXPRESSIONS))
        if link
        else []
    )
    series = list(claim_series)
    for side in linked_sides:
        if (side, BASE) not in series:
            series.append((side, BASE))
    unlinked = [
        (s, c)
        for s, c in claim_series
        if s in linked_sides and c not in EXPRESSIONS and c not in OWN_CURVE
    ]
    if unlinked:
        warnings.warn(
            "categories not linked to their side's killed count, each modelled as its own "
            f"curve: {unlinked}; linked categories are {', '.join(EXPRESSIONS)}",
            UnlinkedCategoryWarning,
            stacklevel=3,
        )
    bases = [(side, BASE) for side in linked_sides]
    bases += [sc for sc in series if sc[0] not in linked_sides or sc[1] not in EXPRESSIONS]
    ratios: list[tuple[str, str]] = []
    series_base, series_ratio, series_add_one = [], [], []
    for side, cat in series:
        if side in linked_sides and cat in EXPRESSIONS:
            series_base.append(bases.index((side, BASE)))
            name, add_one = EXPRESSIONS[cat]
            if name is None:
                series_ratio.append(-1)
            else:
                if (side, name) not in ratios:
                    ratios.append((side, name))
                series_ratio.append(ratios.index((side, name)))
            series_add_one.append(add_one)
        else:
            series_base.append(bases.index((side, cat)))
            series_ratio.append(-1)
            series_add_one.append(False)
    return Plan(bases, series, ratios, series_base, series_ratio, series_add_one)
