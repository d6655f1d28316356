"""Readers for claim data published in other layouts than the package's own.

One format so far, ``radford2023``: the replication data of Radford et al. (2023),
"Estimating conflict losses and reporting biases", PNAS (``replication-data-pnas.csv``,
one row per reported loss figure, first year of the Russia-Ukraine war). Read it with
``read_claims(path, format="radford2023")`` or, for a row-by-row account of what became
of every raw row, :func:`read_radford2023`.

How a raw row becomes a claim (``docs/peers.md`` has the same as a table):

- Only personnel rows are read: ``category`` Military Deaths -> ``killed``, Military
  Injuries -> ``wounded``, Military Casualties -> ``casualties``. Equipment and civilian
  rows are not claims about military personnel; they are counted per category in the
  :class:`ReaderNote` warning and the report, never dropped silently.
- ``side`` is ``loss_country`` lower-cased (``russia``, ``ukraine``).
- ``source`` is ``claim_source`` as written. ``source_type``: UA Source about Ukraine and
  RU Source about Russia are ``own``; UA Source about Russia and RU Source about Ukraine
  are ``enemy``; US Source, GB Source, United Nations, OSI and Other are ``neutral``.
- ``as_of`` = 2022-02-24 + (``days`` - 1) days. ``Cumulative`` rows count from the start
  (``period_start`` 2022-02-24), ``Day`` rows one day (``period_start`` = ``as_of``; on
  day 1 that is the same window as a cumulative figure, and the two are grouped as one).
  The data has no publication date, so ``reported`` is left empty (= ``as_of``).
- ``minimum`` = 1 makes the figure a floor (``low``), ``maximum`` = 1 a ceiling
  (``high``). The data gives a source's bounds as separate rows: a floor and a ceiling of
  one source, side, category, window and day are joined into one range claim. Of several
  floors (ceilings) the tightest, i.e. the highest floor (lowest ceiling), is kept. When
  a source gives both bounds and point figures for the same day, the bounds are kept
  (the source's own statement of uncertainty; most such points repeat one of its ends)
  and the points are set aside.
- One coarse label (e.g. "UA Source") carries several outlets, sometimes with
  different figures on the same day. A claim set may hold them all (read as one
  statement, see docs/claims.md), but this reader keeps one, so that each claim is one
  outlet's figure and the report shows every choice. Of several point figures the one
  kept is the published figure nearest, on the log scale, to the median of the
  source's point figures for the same side, category and window within +-7 days (same
  day included; ties -> the lower). A median of the day's figures would be a number
  nobody published. The figures set aside are listed with their rows in the kept
  claim's ``notes``. Rows repeating a figure exactly are merged into one claim whose
  ``notes`` name all their rows.
- Each claim cites the paper's replication data and the CSV line of its row (header =
  line 1), and the places of the returned ClaimSet are those lines, so later problems
  name the raw row.

Every problem in a file (missing column, unknown source/time frame/side, a count that
is not a positive number, ``days`` < 1, a floor above a ceiling) is collected and raised
at once as one :class:`~casualty_models.claims.ClaimsError`. Only the columns a row's
use needs are checked: a row that is not about personnel needs only a ``category``.

Over 500 lines because it is one published format's complete mapping: each rule
(categories, sides, bounds joined, same-day figures, duplicates) sits next to the code
that applies it and the report row that accounts for it.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import statistics
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from casualty_models._cells import shown
from casualty_models.claims import ClaimsError, ClaimSet, Problem, records_to_claims
from casualty_models.readers.native import csv_rows


class ReaderNote(UserWarning):
    """A reader's account of raw rows that did not each become one claim: rows not
    read, bounds joined, figures set aside, duplicates merged."""


RADFORD2023_START = dt.date(2022, 2, 24)
"""Day 1 of the data (``days`` = 1)."""

RADFORD2023_FILE = "replication-data-pnas.csv"
RADFORD2023_CITATION = (
    'Radford et al. (2023), "Estimating conflict losses and reporting biases", PNAS, '
    f"replication data, {RADFORD2023_FILE}"
)
RADFORD2023_URL = "https://github.com/benradford/estimating-conflict-losses"

RADFORD2023_CATEGORIES: dict[str, str] = {
    "Military Deaths": "killed",
    "Military Injuries": "wounded",
    "Military Casualties": "casualties",
}
"""Raw personnel ``category`` -> the package's category label."""

RADFORD2023_SIDES: dict[str, str] = {"Russia": "russia", "Ukraine": "ukraine"}

# (claim_source, side) -> source_type; third parties are neutral whichever side
_PARTISAN: dict[tuple[str, str], str] = {
    ("UA Source", "ukraine"): "own",
    ("RU Source", "russia"): "own",
    ("UA Source", "russia"): "enemy",
    ("RU Source", "ukraine"): "enemy",
}
RADFORD2023_SOURCES: tuple[str, ...] = (
    "UA Source",
    "RU Source",
    "US Source",
    "GB Source",
    "United Nations",
    "OSI",
    "Other",
)
RADFORD2023_WINDOWS: tuple[str, ...] = ("Cumulative", "Day")

MAX_DAYS = 36_525
"""The latest ``days`` read (a century): a larger one is a typo, and past the calendar."""

NEIGHBOUR_DAYS = 7
"""Half-width (days) of the window whose figures decide between same-day figures."""

ACTIONS: tuple[str, ...] = (
    "claim",
    "joined into range",
    "set aside (same day)",
    "duplicate",
    "not personnel",
)
"""What became of a raw row, as listed in the report of :func:`read_radford2023`."""

_REQUIRED = (
    "days",
    "loss_count",
    "claim_source",
    "time_frame",
    "loss_country",
    "minimum",
    "maximum",
    "category",
)
# redundant labels: loss_type = "<category>-<loss_country>",
# source_target = "<claim_source>-<loss_country>"; checked, as a mismatch hides the side
_OPTIONAL = ("loss_type", "source_target")


@dataclass(frozen=True)
class _Row:
    """One valid personnel row of the raw file."""

    line: int
    day: int
    count: float
    source: str
    side: str
    category: str
    since_start: bool  # a cumulative figure (or a one-day figure of day 1)
    bound: str  # "point", "floor" or "ceiling"

    @property
    def as_of(self) -> dt.date:
        return RADFORD2023_START + dt.timedelta(days=self.day - 1)

    @property
    def key(self) -> tuple[str, str, str, bool, int]:
        """Rows with one key would be one claim: (source, side, category, window, day)."""
        return (self.source, self.side, self.category, self.since_start, self.day)


@dataclass
class _Outcome:
    """One claim to be: its record, the row that places it, and the fate of each row."""

    record: dict[str, Any]
    line: int
    actions: dict[int, str]


# ---------------------------------------------------------------------------- public


def read_radford2023(
    path: str | os.PathLike[str],
) -> tuple[ClaimSet, pd.DataFrame]:
    """Read ``replication-data-pnas.csv`` of Radford et al. (2023) into claims.

    Returns the ClaimSet (places = raw CSV lines) and a report with one row per raw data
    row: ``row`` (CSV line, header = 1), ``category`` (raw), ``action`` (one of
    :data:`ACTIONS`) and ``claim`` (index into the ClaimSet of the claim the row became
    or is listed in; NA for rows not read). Emits one :class:`ReaderNote` summarising
    the report. Raises :class:`ClaimsError` with every problem in the file.
    """
    claims, report = _read_radford2023(_existing(path))
    _note(claims, report, stacklevel=2)
    return claims, report


def summary(claims: ClaimSet, report: pd.DataFrame) -> str:
    """The text of the :class:`ReaderNote`: what the reader did with the raw rows."""
    n_rows = len(report)
    by_action = report["action"].value_counts()
    lines = [
        f"{claims.origin}: {n_rows:,} rows, {n_rows - by_action.get('not personnel', 0):,} "
        f"about military personnel, read into {len(claims):,} claims."
    ]
    skipped = report.loc[report["action"] == "not personnel", "category"].value_counts()
    if len(skipped):
        parts = ", ".join(f"{cat} {n:,}" for cat, n in skipped.items())
        lines.append(f"Not read (not about military personnel): {skipped.sum():,} rows: {parts}.")
    joined = int(by_action.get("joined into range", 0))
    if joined:
        lines.append(f"Bounds joined into ranges: {joined:,} (a floor row and a ceiling row each).")
    aside = report.loc[report["action"] == "set aside (same day)", "row"].tolist()
    if aside:
        lines.append(
            f"Same-day figures set aside: {len(aside):,} ({_rows_text(aside)}); "
            "each is listed in the notes of the claim kept for its day."
        )
    dupes = report.loc[report["action"] == "duplicate", "row"].tolist()
    if dupes:
        lines.append(
            f"Exact duplicates merged: {len(dupes):,} ({_rows_text(dupes)}); "
            "the kept claim's notes name all its rows."
        )
    return "\n".join(lines)


def read_formatted(
    source: str | os.PathLike[str] | pd.DataFrame | ClaimSet, format: str
) -> ClaimSet:
    """Read a claims file in a named foreign ``format`` (see :data:`FORMATS`).

    The entry point behind ``read_claims(path, format=...)``; emits the reader's
    :class:`ReaderNote` pointing at the caller of ``read_claims``.
    """
    if format not in FORMATS:
        raise ValueError(f"unknown claims format {format!r}; known formats: {', '.join(FORMATS)}")
    if isinstance(source, pd.DataFrame | ClaimSet):
        kind = type(source).__name__
        raise ValueError(f"format={format!r} reads a file; pass its path, not a {kind}")
    claims, report = FORMATS[format](_existing(source))
    _note(claims, report, stacklevel=3)  # 1 = here, 2 = read_claims, 3 = its caller
    return claims


# ---------------------------------------------------------------------------- reading


def _existing(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"claims file not found: {p}")
    return p


def _note(claims: ClaimSet, report: pd.DataFrame, *, stacklevel: int) -> None:
    """Warn the summary; ``stacklevel`` counts from the function calling this one."""
    warnings.warn(summary(claims, report), ReaderNote, stacklevel=stacklevel + 1)


def _read_radford2023(path: Path) -> tuple[ClaimSet, pd.DataFrame]:
    origin = str(path)
    lines, header, cells_by_line, problems = _raw_rows(path, origin)
    if any(not isinstance(p.row, int) for p in problems):
        raise ClaimsError(problems)  # the file or its header: no row can be read
    rows: list[_Row] = []
    categories: dict[int, str] = {}
    for line, cells in zip(lines, cells_by_line, strict=True):
        raw = dict(zip(header, cells, strict=True))
        categories[line] = raw["category"].strip()
        row, errs = _parse_row(raw, line, origin)
        problems.extend(errs)
        if row is not None:
            rows.append(row)
    outcomes, errs = _decide(rows, origin)
    problems.extend(errs)
    if problems:
        raise ClaimsError(sorted(problems, key=_by_place))
    outcomes.sort(key=lambda o: o.line)  # claims in the file's order of their rows
    claims = records_to_claims([o.record for o in outcomes], origin, [o.line for o in outcomes])
    action: dict[int, str] = {}
    claim_of: dict[int, int] = {}
    for i, outcome in enumerate(outcomes):
        for line, what in outcome.actions.items():
            action[line], claim_of[line] = what, i
    report = pd.DataFrame(
        {
            "row": lines,
            "category": [categories[line] for line in lines],
            "action": [action.get(line, "not personnel") for line in lines],
            "claim": pd.array([claim_of.get(line) for line in lines], dtype="Int64"),
        }
    )
    return claims, report


def _by_place(p: Problem) -> tuple[int, str]:
    return (p.row if isinstance(p.row, int) else -1, p.column or "")


def _raw_rows(
    path: Path, origin: str
) -> tuple[list[int], list[str], list[list[str]], list[Problem]]:
    """CSV lines, header and cells of every non-blank data row; file-level problems."""
    try:
        header, rows, problems = csv_rows(path, origin)
    except ClaimsError as err:  # not UTF-8, or empty: nothing more to read
        return [], [], [], list(err.problems)
    header_problems = [
        Problem(origin, "header", col, "required column is missing")
        for col in _REQUIRED
        if col not in header
    ]
    header_problems += [
        Problem(
            origin,
            "header",
            col,
            f"unknown column; the {RADFORD2023_FILE} columns are "
            f"{', '.join((*_REQUIRED, *_OPTIONAL))}",
        )
        for col in header
        if col not in _REQUIRED and col not in _OPTIONAL
    ]
    header_problems += [
        Problem(origin, "header", col, "column appears more than once")
        for col in sorted({c for c in header if header.count(c) > 1})
    ]
    problems = header_problems + problems
    if not rows and not problems:
        problems.append(Problem(origin, None, None, "no rows: the file has only a header"))
    return [line for line, _ in rows], header, [cells for _, cells in rows], problems


def _parse_row(raw: dict[str, str], line: int, origin: str) -> tuple[_Row | None, list[Problem]]:
    """Check one raw row; a row not about personnel needs only its category."""
    problems: list[Problem] = []

    def bad(column: str, message: str) -> None:
        problems.append(Problem(origin, line, column, message))

    category = raw["category"].strip()
    if not category:
        bad("category", "is empty; every row needs a category")
    if category not in RADFORD2023_CATEGORIES:
        return None, problems
    day = _whole(raw["days"])
    if day is None or not 1 <= day <= MAX_DAYS:
        bad(
            "days",
            f"must be a whole number of days >= 1 (day 1 = 2022-02-24) and at most "
            f"{MAX_DAYS:,}, got {shown(raw['days'])}",
        )
    count = _number(raw["loss_count"])
    if count is None or count <= 0:
        bad("loss_count", f"must be a positive number, got {shown(raw['loss_count'])}")
    source = raw["claim_source"].strip()
    if source not in RADFORD2023_SOURCES:
        bad(
            "claim_source",
            f"unknown source {shown(source)}; known: {', '.join(RADFORD2023_SOURCES)}",
        )
    window = raw["time_frame"].strip()
    if window not in RADFORD2023_WINDOWS:
        bad("time_frame", f"unknown time frame {shown(window)}; known: Cumulative, Day")
    country = raw["loss_country"].strip()
    if country not in RADFORD2023_SIDES:
        bad(
            "loss_country",
            f"unknown country {shown(country)}; known: {', '.join(RADFORD2023_SIDES)}",
        )
    flags = {}
    for col in ("minimum", "maximum"):
        flags[col] = raw[col].strip()
        if flags[col] not in ("0", "1"):
            bad(col, f"must be 0 or 1, got {shown(raw[col])}")
    if flags["minimum"] == flags["maximum"] == "1":
        bad("maximum", "minimum and maximum are both 1; a figure is a floor or a ceiling")
    for col, want in (
        ("loss_type", f"{category}-{country}"),
        ("source_target", f"{source}-{country}"),
    ):
        if col in raw and raw[col].strip() != want:
            bad(
                col,
                f"{shown(raw[col].strip())} contradicts the row's other columns, which make "
                f"it {want!r}",
            )
    if problems:
        return None, problems
    assert day is not None and count is not None  # checked above
    bound = (
        "floor" if flags["minimum"] == "1" else "ceiling" if flags["maximum"] == "1" else "point"
    )
    row = _Row(
        line=line,
        day=day,
        count=count,
        source=source,
        side=RADFORD2023_SIDES[country],
        category=RADFORD2023_CATEGORIES[category],
        since_start=window == "Cumulative" or day == 1,
        bound=bound,
    )
    return row, []


def _whole(text: str) -> int | None:
    x = _number(text)
    return int(x) if x is not None and x.is_integer() else None


def _number(text: str) -> float | None:
    try:
        x = float(text.strip())
    except ValueError:
        return None
    return x if math.isfinite(x) else None


# ---------------------------------------------------------------------------- deciding


def _decide(rows: list[_Row], origin: str) -> tuple[list[_Outcome], list[Problem]]:
    """Group rows that would be one claim and decide, per group, the figure kept."""
    groups: dict[tuple[str, str, str, bool, int], list[_Row]] = defaultdict(list)
    for row in rows:
        groups[row.key].append(row)
    # every distinct point figure per (source, side, category, window): day -> figures
    points: dict[tuple[str, str, str, bool], dict[int, set[float]]] = defaultdict(
        lambda: defaultdict(set)
    )
    for row in rows:
        if row.bound == "point":
            points[row.key[:4]][row.day].add(row.count)
    outcomes: list[_Outcome] = []
    problems: list[Problem] = []
    for key, members in groups.items():
        if any(r.bound != "point" for r in members):
            outcome, errs = _bounds(members, origin)
            problems.extend(errs)
            if outcome is not None:
                outcomes.append(outcome)
        else:
            outcomes.append(_points(members, points[key[:4]]))
    return outcomes, problems


def _points(members: list[_Row], by_day: dict[int, set[float]]) -> _Outcome:
    """One claim from point figures of one source, series, window and day."""
    by_figure = _by_figure(members)
    notes: list[str] = []
    if len(by_figure) == 1:
        kept = next(iter(by_figure))
    else:
        day = members[0].day
        near = [
            math.log(x)
            for d, figures in by_day.items()
            if abs(d - day) <= NEIGHBOUR_DAYS
            for x in figures
        ]
        centre = statistics.median(near)
        # rounded so that figures equally far from the centre (100 and 400 about 200)
        # tie exactly despite float error, and the lower wins
        kept = min(by_figure, key=lambda x: (round(abs(math.log(x) - centre), 9), x))
    kept_rows = by_figure[kept]
    if len(kept_rows) > 1:
        notes.append(f"the same figure is in {_rows_text(kept_rows)}")
    others = [(x, lines) for x, lines in by_figure.items() if x != kept]
    if others:
        notes.append(
            f"also published for this day: {_figures_text(others)}; kept the figure nearest "
            f"the source's figures within ±{NEIGHBOUR_DAYS} days"
        )
    first = members[0]
    record = _record(first, kept_rows, value=kept, notes=notes)
    actions = {line: "duplicate" for line in kept_rows[1:]}
    actions[kept_rows[0]] = "claim"
    for _, lines in others:
        actions.update(dict.fromkeys(lines, "set aside (same day)"))
    return _Outcome(record, kept_rows[0], actions)


def _bounds(members: list[_Row], origin: str) -> tuple[_Outcome | None, list[Problem]]:
    """One floor, ceiling or range claim from a group with bounds; points set aside."""
    floors = _by_figure(r for r in members if r.bound == "floor")
    ceilings = _by_figure(r for r in members if r.bound == "ceiling")
    low = max(floors) if floors else None
    high = min(ceilings) if ceilings else None
    if low is not None and high is not None and low > high:
        line = floors[low][0]
        msg = (
            f"floor {_fmt(low)} is above the ceiling {_fmt(high)} of row {ceilings[high][0]} "
            "(same source, side, category, time frame and day)"
        )
        return None, [Problem(origin, line, "loss_count", msg)]
    low_rows = floors[low] if low is not None else []
    high_rows = ceilings[high] if high is not None else []
    actions: dict[int, str] = {}
    notes: list[str] = []
    if low_rows and high_rows:
        first, joined = min(low_rows[0], high_rows[0]), max(low_rows[0], high_rows[0])
        actions[first], actions[joined] = "claim", "joined into range"
        notes.append(
            f"range joined from a floor (row {low_rows[0]}) and a ceiling (row "
            f"{high_rows[0]}), which the data gives as separate rows"
        )
        cited = [first, joined]
    else:
        first = (low_rows or high_rows)[0]
        actions[first] = "claim"
        cited = [first]
    for lines in (low_rows, high_rows):
        actions.update(dict.fromkeys(lines[1:], "duplicate"))
        if len(lines) > 1:
            notes.append(f"the same bound is in {_rows_text(lines)}")
    looser = [(f"at least {_fmt(x)}", lines) for x, lines in floors.items() if x != low]
    looser += [(f"at most {_fmt(x)}", lines) for x, lines in ceilings.items() if x != high]
    if looser:
        notes.append(
            f"also published for this day: {_labelled_text(looser)}; kept the tightest bound"
        )
    pts = _by_figure(r for r in members if r.bound == "point")
    if pts:
        notes.append(
            f"also published for this day: {_figures_text(pts.items())}; kept the source's "
            "bounds, its own statement of uncertainty"
        )
    for _, lines in looser:
        actions.update(dict.fromkeys(lines, "set aside (same day)"))
    for lines in pts.values():
        actions.update(dict.fromkeys(lines, "set aside (same day)"))
    anchor = next(r for r in members if r.line == first)
    record = _record(anchor, cited, low=low, high=high, notes=notes)
    return _Outcome(record, first, actions), []


def _by_figure(rows: Iterable[_Row]) -> dict[float, list[int]]:
    """Distinct figures -> their CSV lines (ascending), in order of first line."""
    out: dict[float, list[int]] = {}
    for row in sorted(rows, key=lambda r: r.line):
        out.setdefault(row.count, []).append(row.line)
    return out


def _record(
    row: _Row,
    cited: list[int],
    *,
    value: float | None = None,
    low: float | None = None,
    high: float | None = None,
    notes: list[str],
) -> dict[str, Any]:
    """The claim record (columns of :data:`~casualty_models.claims.COLUMNS`)."""
    where = f"row {cited[0]}" if len(cited) == 1 else f"rows {cited[0]} and {cited[1]}"
    source_type = _PARTISAN.get((row.source, row.side), "neutral")
    return {
        "source": row.source,
        "source_type": source_type,
        "side": row.side,
        "category": row.category,
        "as_of": row.as_of,
        "period_start": RADFORD2023_START if row.since_start else row.as_of,
        "value": value,
        "low": low,
        "high": high,
        "citation": f"{RADFORD2023_CITATION} {where}",
        "url": RADFORD2023_URL,
        "notes": "; ".join(notes),
    }


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if x.is_integer() else f"{x:,g}"


def _figures_text(items: Iterable[tuple[float, list[int]]]) -> str:
    return _labelled_text((_fmt(x), lines) for x, lines in items)


def _labelled_text(items: Iterable[tuple[str, list[int]]]) -> str:
    return ", ".join(f"{label} ({_rows_text(lines)})" for label, lines in items)


def _rows_text(lines: Sequence[int]) -> str:
    """``"row 5"`` or ``"rows 5, 9"``."""
    return ("row " if len(lines) == 1 else "rows ") + ", ".join(str(n) for n in lines)


FORMATS: dict[str, Callable[[Path], tuple[ClaimSet, pd.DataFrame]]] = {
    "radford2023": _read_radford2023,
}
"""Known foreign formats: name -> reader returning (claims, report)."""


__all__ = [
    "ACTIONS",
    "FORMATS",
    "NEIGHBOUR_DAYS",
    "RADFORD2023_CITATION",
    "RADFORD2023_START",
    "RADFORD2023_URL",
    "ReaderNote",
    "read_formatted",
    "read_radford2023",
    "summary",
]
