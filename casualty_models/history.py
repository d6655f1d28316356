"""``history.csv``: one row per run and series, appended by every ``update``.

Each run of ``casualty-models update`` adds its headline (median and interval per
series), its claim count and fingerprint, the latest publication date among its claims
and its diagnostics to ``history.csv`` in the output folder, so that the folder keeps
how the estimate moved as claims arrived (``casualty-models history DIR`` plots it).
The file is rewritten atomically (:mod:`casualty_models._atomic`): a reader never sees
half a row. Text a spreadsheet would take for a formula (a side named ``=1+1``) is
written with a leading quote and read back without it (:mod:`casualty_models._cells`).
"""

from __future__ import annotations

import datetime as dt
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from casualty_models._atomic import atomic_write
from casualty_models._cells import frame_to_csv, restore
from casualty_models._format import level_pct
from casualty_models.model.priors import DEFAULT_LEVEL

if TYPE_CHECKING:
    from casualty_models.compare import Comparison
    from casualty_models.estimate import Estimate

_PCT = level_pct(DEFAULT_LEVEL)
COLUMNS: tuple[str, ...] = (
    "run",
    "run_at",
    "published_by",
    "as_of",
    "n_claims",
    "claims_fingerprint",
    "side",
    "category",
    "median",
    f"low_{_PCT}",
    f"high_{_PCT}",
    "estimable",
    "change_pct",
    "ok",
    "converged",
    "model_ok",
    "r_hat_max",
    "ess_bulk_min",
    "ess_tail_min",
    "divergences",
    "claims_implausible",
    "package_version",
)
"""The columns of ``history.csv``, in order. ``run`` counts the runs (1, 2, ...);
``run_at`` is when the run was made (UTC, ISO 8601); ``published_by`` the latest
publication date (``reported``) among its claims: the date on which the run could first
have been made. ``change_pct`` is the move of the median since the previous run (empty
for the first). A series not estimable on ``as_of`` has its numbers withheld."""


class HistoryError(ValueError):
    """A history.csv that cannot be read as one (missing columns, not a CSV)."""


def history_rows(
    estimate: Estimate,
    *,
    run: int = 1,
    run_at: dt.datetime | None = None,
    comparison: Comparison | None = None,
) -> pd.DataFrame:
    """The rows one run adds: one per series of ``estimate``. ``comparison`` (of this
    estimate with the previous run's) fills ``change_pct``."""
    run_at = run_at or dt.datetime.now(dt.UTC)
    head = estimate.headline()
    d = estimate.diagnostics
    change: dict[tuple[str, str], float] = {}
    if comparison is not None:
        for r in comparison.headline.to_dict(orient="records"):
            change[(r["side"], r["category"])] = r["change_pct"]
    published = max((c.end("reported") or c.as_of) for c in estimate.claims)
    rows = []
    for r in head.to_dict(orient="records"):
        ok = bool(r["estimable"])
        rows.append(
            {
                "run": run,
                "run_at": run_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
                "published_by": published.isoformat(),
                "as_of": estimate.settings.as_of.isoformat(),
                "n_claims": len(estimate.claims),
                "claims_fingerprint": estimate.claims.fingerprint,
                "side": r["side"],
                "category": r["category"],
                "median": r["median"] if ok else math.nan,
                f"low_{_PCT}": r[f"low_{_PCT}"] if ok else math.nan,
                f"high_{_PCT}": r[f"high_{_PCT}"] if ok else math.nan,
                "estimable": ok,
                "change_pct": change.get((r["side"], r["category"]), math.nan),
                "ok": bool(d.ok),
                "converged": bool(d.converged),
                "model_ok": bool(d.model_ok),
                "r_hat_max": d.r_hat_max,
                "ess_bulk_min": d.ess_bulk_min,
                "ess_tail_min": d.ess_tail_min,
                "divergences": d.divergences,
                "claims_implausible": d.claims_implausible,
                "package_version": estimate.version,
            }
        )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def read_history(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a ``history.csv``; :class:`HistoryError` names what is wrong with it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no history at {path}")
    try:
        frame = pd.read_csv(path, dtype={"claims_fingerprint": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise HistoryError(f"{path} is not a history file: {err}") from None
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise HistoryError(f"{path} is not a history file: missing columns {', '.join(missing)}")
    for col in ("side", "category"):  # written neutralised against spreadsheet formulas
        frame[col] = [restore(v) if isinstance(v, str) else v for v in frame[col]]
    for col in ("published_by", "as_of"):
        frame[col] = pd.to_datetime(frame[col])
    frame["run_at"] = pd.to_datetime(frame["run_at"], utc=True)
    return frame


def append_history(
    path: str | os.PathLike[str],
    estimate: Estimate,
    *,
    previous: Any = None,
    run_at: dt.datetime | None = None,
    comparison: Comparison | None = None,
) -> pd.DataFrame:
    """Append ``estimate``'s rows to the history at ``path`` (atomically) and return it.

    ``previous`` is the history so far (a DataFrame, or a path to read it from); by
    default the file at ``path`` if it exists. The new run is numbered after the last.
    """
    path = Path(path)
    if previous is None and path.is_file():
        previous = path
    if previous is not None and not isinstance(previous, pd.DataFrame):
        previous = read_history(previous)
    run = 1 if previous is None or previous.empty else int(previous["run"].max()) + 1
    rows = history_rows(estimate, run=run, run_at=run_at, comparison=comparison)
    frame = rows if previous is None or previous.empty else pd.concat([previous, rows])
    frame = frame.reset_index(drop=True)
    out = frame.copy()
    for col in ("published_by", "as_of"):
        out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d")
    out["run_at"] = [
        v if isinstance(v, str) else pd.Timestamp(v).isoformat() for v in frame["run_at"]
    ]
    atomic_write(path, frame_to_csv(out[list(COLUMNS)]))
    return read_history(path)


__all__ = ["COLUMNS", "HistoryError", "append_history", "history_rows", "read_history"]
