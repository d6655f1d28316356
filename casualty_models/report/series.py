"""Which series a report and its main figure show (the headline's), from the user's choice.

Below :mod:`~casualty_models.report.facts` and :mod:`~casualty_models.report.figures`,
which both need it, so that neither imports the other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from casualty_models.estimate import Estimate

SeriesKey = tuple[str, str]
"""A series: (side, category)."""


def focus_series(estimate: Estimate, series: Any = None) -> list[SeriesKey]:
    """The series of the headline: ``series`` ("side|category", a (side, category)
    tuple, or a list of them), by default every side's killed (all series if none)."""
    known = [(str(s), str(c)) for s, c in estimate.inputs.series]
    if series is None:
        return [s for s in known if s[1] == "killed"] or known
    one = isinstance(series, tuple) and len(series) == 2 and not any("|" in str(x) for x in series)
    items = [series] if isinstance(series, str) or one else list(series)
    out = []
    for item in items:
        if isinstance(item, str):
            if "|" not in item:
                raise ValueError(f"series {item!r}: write it as 'side|category'")
            side, _, category = item.partition("|")
            key = (side.strip(), category.strip())
        else:
            side, category = item
            key = (str(side), str(category))
        if key not in known:
            names = ", ".join(f"{s}|{c}" for s, c in known)
            raise ValueError(f"no series {key[0]}|{key[1]} in this estimate; known: {names}")
        out.append(key)
    return list(dict.fromkeys(out))
