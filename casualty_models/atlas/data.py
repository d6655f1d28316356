"""The bias atlas's data: events, their claims and the counts that came later.

:func:`load_atlas` reads ``seeds/bias_atlas/`` (layout in its README) and checks it,
collecting every problem into one :class:`AtlasError`: each event ended before 2001 and
has a folder whose claims files validate; each later count names a known event and a
(side, category) that its claims use, has ``low <= value <= high``, a known
``count_type`` and ``victims``, a citation and an address.

:meth:`Atlas.observations` is the table the atlas model fits: one row per **scored**
claim, i.e. a claim whose (event, side, category) has a later count, which is not an
echo of another source (``derived_from``), and which is not in ``weak_claims.csv``
unless asked. Each row carries its *cell* — the source type, with ``own`` and ``enemy``
split by whose dead are counted (``military``: soldiers of a side at war; ``civilian``:
civilians, victims of a massacre or genocide, or a people's war dead, where ``own`` is
the victims' authorities and ``enemy`` the perpetrators') — and how early in the event
its figure was dated.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from casualty_models.claims import Claim, ClaimsError, ClaimSet
from casualty_models.readers import read_claims

__all__ = [
    "CELLS",
    "COUNT_TYPES",
    "CUTOFF",
    "MIN_COUNT_SD",
    "VICTIMS",
    "Atlas",
    "AtlasError",
    "default_atlas_dir",
    "load_atlas",
]

CUTOFF = dt.date(2001, 1, 1)
"""Every event of the atlas ended before this date; later events stay free for checks."""

COUNT_TYPES = ("named_list", "census", "demographic_estimate", "official_archive")
VICTIMS = ("military", "civilian")

CELLS: tuple[str, ...] = (
    "own:military",
    "own:civilian",
    "enemy:military",
    "enemy:civilian",
    "neutral",
    "independent",
    "tally",
)
"""The atlas model's groups of claims: a source type, with ``own`` and ``enemy`` split by
whose dead are counted (their meaning flips between soldiers and civilian victims)."""

SCORED_TYPES = ("own", "enemy", "neutral", "independent", "tally")

Z90 = 1.6448536269514722
"""The standard normal's 95% quantile: a later count's low-high is read as a 90% interval."""

MIN_COUNT_SD = 0.01
"""Least log-scale sd of a later count on either side of its value: a count given
without a range (649 Argentine dead) is still not exact to the person."""


class AtlasError(ValueError):
    """Every problem found in an atlas folder, at once."""

    def __init__(self, problems: list[str]):
        self.problems = tuple(problems)
        n = len(problems)
        super().__init__(
            f"{n} problem{'s' if n != 1 else ''} in the bias atlas:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )


def default_atlas_dir() -> Path:
    """``seeds/bias_atlas`` under the working directory, else beside the package (a
    source checkout)."""
    here = Path("seeds/bias_atlas")
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[2] / "seeds" / "bias_atlas"


@dataclass(frozen=True)
class Atlas:
    """The atlas as read: ``events`` (one row per event, indexed by event), ``later``
    (one row per later count), the claims and weak claims of each event."""

    events: pd.DataFrame
    later: pd.DataFrame
    claims: Mapping[str, ClaimSet]
    weak: Mapping[str, ClaimSet] = field(default_factory=dict)
    origin: str = "<atlas>"

    @property
    def names(self) -> list[str]:
        """The events, in the order of ``events.csv``."""
        return list(self.events.index)

    def without(self, *events: str) -> Atlas:
        """The atlas with ``events`` left out (leave-one-event-out)."""
        unknown = [e for e in events if e not in self.events.index]
        if unknown:
            raise KeyError(f"unknown events {unknown}; known: {', '.join(self.names)}")
        keep = [e for e in self.names if e not in events]
        return self.only(*keep)

    def only(self, *events: str) -> Atlas:
        """The atlas of ``events`` alone."""
        unknown = [e for e in events if e not in self.events.index]
        if unknown:
            raise KeyError(f"unknown events {unknown}; known: {', '.join(self.names)}")
        keep = [e for e in self.names if e in events]
        return Atlas(
            events=self.events.loc[keep],
            later=self.later[self.later["event"].isin(keep)].reset_index(drop=True),
            claims=MappingProxyType({e: self.claims[e] for e in keep}),
            weak=MappingProxyType({e: self.weak[e] for e in keep if e in self.weak}),
            origin=self.origin,
        )

    def span(self, event: str) -> tuple[dt.date, dt.date]:
        """The event's first and last day."""
        row = records(self.events.loc[[event]].reset_index())[0]
        return row["start"], row["end"]

    def victims_of(self, event: str, side: str) -> str:
        """``military`` or ``civilian``: whose dead ``side`` counts in ``event``."""
        rows = self.later[(self.later["event"] == event) & (self.later["side"] == side)]
        if rows.empty:
            raise KeyError(f"no later count for {event}/{side}")
        return str(rows["victims"].iloc[0])

    def observations(self, *, include_weak: bool = False) -> pd.DataFrame:
        """One row per scored claim (see the module docstring), with the columns the
        atlas model reads: ``event``, ``side``, ``category``, ``source``,
        ``source_type``, ``cell``, ``kind`` (point, range, floor, ceiling),
        ``log_value``/``log_low``/``log_high`` (NaN where absent), ``early`` (share of
        the event still to come at the figure's date, 0-1), ``count_log`` (log of the
        later count) and ``count_sd_low``/``count_sd_high`` (its log-scale sd below and
        above), ``speaker`` and ``group`` keys, and ``ratio`` (the figure, or the middle
        of its range, over the later count) for plots."""
        later = {(r["event"], r["side"], r["category"]): r for r in records(self.later)}
        events = {r["event"]: r for r in records(self.events.reset_index())}
        rows = []
        for event in self.names:
            sets = [("claims", self.claims[event])]
            if include_weak and event in self.weak:
                sets.append(("weak", self.weak[event]))
            for origin, claims in sets:
                for claim in claims:
                    key = (event, claim.side, claim.category)
                    if key not in later or claim.derived_from:
                        continue
                    if claim.source_type not in SCORED_TYPES:
                        continue
                    rows.append(_row(claim, event, events[event], later[key], origin))
        return pd.DataFrame(rows, columns=_COLUMNS)

    def summary(self) -> pd.DataFrame:
        """Per event: kind, claims, scored claims, later counts."""
        obs = self.observations()
        return pd.DataFrame(
            {
                "event": self.names,
                "kind": [self.events.loc[e, "kind"] for e in self.names],
                "claims": [len(self.claims[e]) for e in self.names],
                "scored": [int((obs["event"] == e).sum()) for e in self.names],
                "later_counts": [int((self.later["event"] == e).sum()) for e in self.names],
            }
        )


_COLUMNS = [
    "event",
    "side",
    "category",
    "source",
    "source_type",
    "victims",
    "cell",
    "kind",
    "log_value",
    "log_low",
    "log_high",
    "early",
    "count_log",
    "count_sd_low",
    "count_sd_high",
    "count_type",
    "speaker",
    "group",
    "ratio",
    "as_of",
    "reported",
    "origin",
]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as dicts keyed by column name."""
    return [{str(k): v for k, v in r.items()} for r in frame.to_dict(orient="records")]


def cell_of(source_type: str, victims: str) -> str:
    """The atlas cell of a claim: ``own``/``enemy`` split by victims, others alone."""
    return f"{source_type}:{victims}" if source_type in ("own", "enemy") else source_type


def _mid_date(day: dt.date, precision: str) -> dt.date:
    """The middle of a date known to the month or the year (a day stays itself)."""
    if precision == "month":
        nxt = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
        return day + (nxt - day) / 2
    if precision == "year":
        return day + (dt.date(day.year + 1, 1, 1) - day) / 2
    return day


def early_share(as_of: dt.date, precision: str, start: dt.date, end: dt.date) -> float:
    """Share of the event still to come at the figure's date (0: dated at or after the
    end, 1: at or before the start); a date known to the month or year is its middle."""
    day = _mid_date(as_of, precision)
    span = max((end - start).days, 1)
    return float(min(1.0, max(0.0, (end - day).days / span)))


def _row(
    claim: Claim, event: str, ev: Mapping[str, Any], count: Mapping[str, Any], origin: str
) -> list[Any]:
    victims = str(count["victims"])
    kind = claim.kind
    value = claim.value
    low, high = claim.low, claim.high
    if kind == "central":  # a point with the source's own interval: the point is its figure
        kind, low, high = "point", None, None
    if claim.source_type == "tally" and kind == "floor":
        # a documented count's figure is its count; "at least" is what a tally means
        kind, value, low = "point", low, None
    log = lambda x: math.log(x) if x is not None else math.nan  # noqa: E731
    c_log = math.log(float(count["value"]))
    sd_low = max((c_log - math.log(float(count["low"]))) / Z90, MIN_COUNT_SD)
    sd_high = max((math.log(float(count["high"])) - c_log) / Z90, MIN_COUNT_SD)
    shown: float
    if value is not None:
        shown = value
    elif low and high:
        shown = math.sqrt(low * high)
    else:
        shown = float(low or high or math.nan)
    return [
        event,
        claim.side,
        claim.category,
        claim.source,
        claim.source_type,
        victims,
        cell_of(claim.source_type, victims),
        kind,
        log(value),
        log(low),
        log(high),
        early_share(claim.as_of, claim.as_of_precision, ev["start"], ev["end"]),
        c_log,
        sd_low,
        sd_high,
        str(count["count_type"]),
        f"{event}|{claim.source}|{claim.side}|{claim.source_type}",
        f"{event}|{claim.side}|{cell_of(claim.source_type, victims)}",
        float(shown) / float(count["value"]),
        claim.as_of,
        claim.reported,
        origin,
    ]


# ------------------------------------------------------------------------ reading


def load_atlas(path: str | Path | None = None) -> Atlas:
    """Read and check the atlas folder ``path`` (default :func:`default_atlas_dir`).

    Raises :class:`AtlasError` with every problem found."""
    root = Path(path) if path is not None else default_atlas_dir()
    problems: list[str] = []
    if not root.is_dir():
        raise AtlasError([f"{root}: not a folder"])
    events = _read_events(root / "events.csv", problems)
    later = _read_later(root / "later_counts.csv", problems)
    claims: dict[str, ClaimSet] = {}
    weak: dict[str, ClaimSet] = {}
    for event in events.index:
        folder = root / event
        if not folder.is_dir():
            problems.append(f"{folder}: missing (every event has a folder)")
            continue
        got = _read_claims_file(folder / "claims.csv", problems, required=True)
        if got is not None:
            claims[event] = got
        weak_got = _read_claims_file(folder / "weak_claims.csv", problems, required=False)
        if weak_got is not None:
            weak[event] = weak_got
    _check_links(events, later, claims, problems)
    if problems:
        raise AtlasError(problems)
    return Atlas(
        events=events,
        later=later,
        claims=MappingProxyType(claims),
        weak=MappingProxyType(weak),
        origin=str(root),
    )


def _read_csv(path: Path, columns: list[str], problems: list[str]) -> pd.DataFrame | None:
    if not path.is_file():
        problems.append(f"{path}: missing")
        return None
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        problems.append(f"{path}: missing columns {missing}")
        return None
    return frame


def _read_events(path: Path, problems: list[str]) -> pd.DataFrame:
    columns = ["event", "name", "start", "end", "kind"]
    frame = _read_csv(path, columns, problems)
    empty = pd.DataFrame(columns=columns[1:], index=pd.Index([], name="event"))
    if frame is None:
        return empty
    rows = {}
    for i, r in frame.iterrows():
        where = f"{path.name} row {int(str(i)) + 2}"
        try:
            start, end = dt.date.fromisoformat(r["start"]), dt.date.fromisoformat(r["end"])
        except ValueError as err:
            problems.append(f"{where}: {err}")
            continue
        if end >= CUTOFF:
            problems.append(f"{where}: {r['event']} ends {end}, not before {CUTOFF}")
        if start > end:
            problems.append(f"{where}: start {start} is after end {end}")
        if r["event"] in rows:
            problems.append(f"{where}: event {r['event']!r} given twice")
        rows[r["event"]] = {"name": r["name"], "start": start, "end": end, "kind": r["kind"]}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "event"
    return out if len(out) else empty


def _read_later(path: Path, problems: list[str]) -> pd.DataFrame:
    columns = ["event", "side", "category", "value", "low", "high", "count_type", "victims"]
    frame = _read_csv(path, [*columns, "citation", "url"], problems)
    if frame is None:
        return pd.DataFrame(columns=[*columns, "line"])
    good = []
    for i, r in enumerate(records(frame)):
        where = f"{path.name} row {i + 2}"
        try:
            value, low, high = (float(r[c]) for c in ("value", "low", "high"))
        except ValueError:
            problems.append(f"{where}: value, low and high must be numbers")
            continue
        if not 0 < low <= value <= high:
            problems.append(f"{where}: needs 0 < low <= value <= high, got {low}, {value}, {high}")
        if r["count_type"] not in COUNT_TYPES:
            problems.append(f"{where}: count_type {r['count_type']!r} not in {COUNT_TYPES}")
        if r["victims"] not in VICTIMS:
            problems.append(f"{where}: victims {r['victims']!r} not in {VICTIMS}")
        for col in ("citation", "url"):
            if not r[col].strip():
                problems.append(f"{where}: {col} is empty (every figure is cited)")
        good.append({**r, "value": value, "low": low, "high": high, "line": i + 2})
    seen: set[tuple[str, str, str]] = set()
    for r in good:
        key = (r["event"], r["side"], r["category"])
        if key in seen:
            problems.append(f"{path.name}: later count {key} given twice")
        seen.add(key)
    return pd.DataFrame(good, columns=[*frame.columns, "line"])


def _read_claims_file(path: Path, problems: list[str], *, required: bool) -> ClaimSet | None:
    if not path.is_file():
        if required:
            problems.append(f"{path}: missing")
        return None
    try:
        claims = read_claims(path)
    except ClaimsError as err:
        problems.extend(str(p) for p in err.problems)
        return None
    for i, claim in enumerate(claims):
        if not (claim.citation or "").strip() or not (claim.url or "").strip():
            problems.append(f"{claims.where(i)}: no citation or url (every figure is cited)")
    return claims


def _check_links(
    events: pd.DataFrame,
    later: pd.DataFrame,
    claims: Mapping[str, ClaimSet],
    problems: list[str],
) -> None:
    victims: dict[tuple[str, str], set[str]] = {}
    for r in records(later):
        where = f"later_counts.csv row {r['line']}"
        event, side, category = str(r["event"]), str(r["side"]), str(r["category"])
        victims.setdefault((event, side), set()).add(str(r["victims"]))
        if event not in events.index:
            problems.append(f"{where}: unknown event {event!r}")
            continue
        used = {c.series for c in claims.get(event, ())}
        if event in claims and (side, category) not in used:
            problems.append(f"{where}: {event} has no claim about ({side}, {category})")
    for (event, side), kinds in victims.items():  # a side's victims agree across categories
        if len(kinds) > 1:
            problems.append(f"later_counts.csv: {event}/{side} has differing victims")
    for event in events.index:
        if event in claims and not (later["event"] == event).any():
            problems.append(f"later_counts.csv: event {event} has no later count")
