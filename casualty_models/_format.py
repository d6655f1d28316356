"""Every number, share, factor, date and level as text, written once.

Tables, prose, plot labels and the command line all format through these, so a count
or a bias factor reads the same everywhere.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any


def level_pct(level: float) -> str:
    """An interval level as a column-name percentage: 0.9 -> "90", 0.95 -> "95"."""
    return f"{100 * level:g}"


def check_level(level: float) -> None:
    """Raise ValueError unless 0 < ``level`` < 1."""
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")


def people(x: Any) -> str:
    """A count of people for tables and the command line: "12,000", "0.5"; "" if missing."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    x = float(x)
    return f"{x:,.0f}" if abs(x) >= 10 or x.is_integer() else f"{x:.3g}"


def people_tick(x: float) -> str:
    """A count on a plot axis, short: 0.5 / 1,000 / 200,000 / 3M."""
    if x >= 1e6:
        return f"{x / 1e6:g}M"
    if x >= 1:
        return f"{x:,.0f}"
    return f"{x:g}"


def about(x: float) -> str:
    """A count rounded to two significant figures, for prose: 4,137 -> "4,100"."""
    if not math.isfinite(x) or x <= 0:
        return f"{x:,.0f}"
    digits = max(0, math.floor(math.log10(x)) - 1)
    return f"{round(x, -digits):,.0f}"


def share(x: float) -> str:
    """A fraction as a whole percentage, "n/a" when undefined: 0.456 -> "46%"."""
    return f"{x:.0%}" if math.isfinite(x) else "n/a"


def signed_pct(pct: float) -> str:
    """A percentage change for prose: "−14%", "+86%", "0%"."""
    if not math.isfinite(pct):
        return "n/a"
    d = round(pct)
    return "0%" if d == 0 else f"{'+' if d > 0 else '−'}{abs(d)}%"


def factor(x: float) -> str:
    """A bias factor: 2.456 -> "×2.5", 0.2056 -> "×0.21", 12.3 -> "×12"."""
    if not math.isfinite(x):
        return f"×{x}"
    return f"×{x:,.0f}" if x >= 10 else f"×{x:.2g}"


def date(x: Any) -> str:
    """A date (or Timestamp) as ISO text; "" when missing."""
    if x is None:
        return ""
    if hasattr(x, "date") and callable(x.date):
        x = x.date()
    return x.isoformat() if isinstance(x, dt.date) else str(x)
