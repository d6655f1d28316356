"""Claims: one published figure each, validated into an immutable, ordered ClaimSet.

All validation lives here. Reading never drops or coerces a row: every problem in a
file is collected and raised at once as one :class:`ClaimsError`.

Over 500 lines because a claim's checks, the set-level checks (duplicates, same-day
groups, derived_from references) and the ClaimSet that runs them are one contract: every
problem found anywhere is reported with its file, row and column in one ClaimsError.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

import pandas as pd

from casualty_models._atomic import atomic_write
from casualty_models._cells import (
    is_blank,
    neutralise,
    parse_date,
    parse_number,
    parse_partial_date,
    parse_text,
)

SOURCE_TYPES: tuple[str, ...] = ("own", "enemy", "neutral", "tally", "independent", "known")
"""Who speaks about whose losses: a side about its own (``own``) or the other side's
(``enemy``) losses, a third-party government or intelligence service (``neutral``), a
documented named-person count that is a lower bound (``tally``), an independent
statistical estimate with its own stated uncertainty (``independent``), or a count the
user takes as known truth, an anchor (``known``: no bias, almost no noise)."""

COLUMNS: tuple[str, ...] = (
    "source",
    "source_type",
    "side",
    "category",
    "as_of",
    "reported",
    "period_start",
    "value",
    "low",
    "high",
    "interval_prob",
    "citation",
    "url",
    "notes",
    "derived_from",
)
"""The columns of a claims file, in the order written: the fields of :class:`Claim`."""
REQUIRED_COLUMNS: tuple[str, ...] = ("source", "source_type", "side", "category", "as_of")

# A claim may be dated today in any time zone; anything later is a typo.
_FUTURE_SLACK = dt.timedelta(days=1)
_TEXT_COLUMNS = (
    "source",
    "source_type",
    "side",
    "category",
    "citation",
    "url",
    "notes",
    "derived_from",
)
_LATER_COLUMNS = ("derived_from",)
PRECISIONS = ("day", "month", "year")
DEFAULT_INTERVAL_PROB = 0.95
"""The level taken for a published interval that does not state one: most do mean 95%."""
_DATE_COLUMNS = ("as_of", "reported", "period_start")
_NUMBER_COLUMNS = ("value", "low", "high", "interval_prob")
_COUNT_COLUMNS = ("value", "low", "high")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one cell (or row, when ``column`` is None) of a claims input."""

    origin: str
    """The input: a file name (as outputs name it), ``<DataFrame>``, ..."""
    row: int | str | None
    """The row (a file's line number, or a DataFrame's index); None for the whole input."""
    column: str | None
    """The column, or None when the problem is the row's."""
    message: str
    """What is wrong, and how to fix it."""

    def __str__(self) -> str:
        where = [self.origin]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.message}"


class ClaimsError(ValueError):
    """Raised with every problem found in a claims input, not just the first."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems: tuple[Problem, ...] = tuple(problems)
        """Every problem found, in input order."""
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in claims"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))


@dataclass(frozen=True)
class Claim:
    """One published figure about one side's losses.

    The figure is ``value`` (a point), ``low``/``high`` (a range; ``low`` alone means
    "at least", ``high`` alone "at most"), or ``value`` with both ``low`` and ``high``
    (a central estimate with its interval, e.g. "4,645 (95% CI 793–8,498)").
    ``interval_prob`` is the stated level of an interval (for a central estimate,
    :data:`DEFAULT_INTERVAL_PROB` when not given). ``as_of`` is the date the figure
    refers to, ``reported`` the date it was published (defaults to ``as_of``), and
    ``period_start``, when set, makes it a count of losses in ``[period_start, as_of]``
    (both days included) rather than since the event began. Counts are people; all must
    be positive. ``derived_from`` names the source this figure repeats or derives from
    (an echo): it is shown and checked but is not evidence of its own.

    Dates may be known only to the month or the year (``"2023-07"``, ``"2023"``): the
    date stored is the period's first day and ``as_of_precision`` (and
    ``reported_precision``, ``period_start_precision``) is ``"month"`` or ``"year"``;
    :meth:`end` gives the period's last day. Fields are checked and normalised as a
    file's cells are: dates may be ``date`` objects, midnight ``datetime``/``Timestamp``
    values or ISO text; numbers are stored as finite ``float``. Anything invalid raises
    :class:`ClaimsError`.
    """

    source: str
    """Who published the figure (a government, a ministry, an outlet, a study)."""
    source_type: str
    """Who speaks about whose losses: one of :data:`SOURCE_TYPES`."""
    side: str
    """Whose losses the figure counts (a free label, e.g. ``russia``)."""
    category: str
    """What is counted: ``killed``, ``wounded``, ``casualties``, ... (a free label)."""
    as_of: dt.date
    value: float | None = None
    low: float | None = None
    high: float | None = None
    reported: dt.date | None = None
    period_start: dt.date | None = None
    interval_prob: float | None = None
    citation: str = ""
    """Where the figure was published, in words (shown in every output)."""
    url: str = ""
    """The publication's address; only http(s) URLs become links in reports."""
    notes: str = ""
    """Anything a reader should know about the figure, in the compiler's words."""
    derived_from: str = ""
    as_of_precision: str = "day"
    reported_precision: str = "day"
    period_start_precision: str = "day"

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        for col in (*_DATE_COLUMNS, *_NUMBER_COLUMNS):
            x = getattr(self, col)
            if x is None:
                continue
            try:
                if col in _DATE_COLUMNS:
                    date, precision = parse_partial_date(x)
                    given = getattr(self, f"{col}_precision")
                    if isinstance(x, dt.date) and given != "day":
                        precision = _check_precision(date, given)
                    object.__setattr__(self, f"{col}_precision", precision)
                    object.__setattr__(self, col, date)
                else:
                    object.__setattr__(self, col, parse_number(x, count=col in _COUNT_COLUMNS))
            except ValueError as err:
                problems.append(Problem("Claim", None, col, str(err)))
        if problems:
            raise ClaimsError(problems)
        if self.reported is None:
            object.__setattr__(self, "reported", self.as_of)
            object.__setattr__(self, "reported_precision", self.as_of_precision)
        problems = [Problem("Claim", None, col, msg) for col, msg in _claim_problems(self.__dict__)]
        if problems:
            raise ClaimsError(problems)

    @property
    def kind(self) -> str:
        """``"point"``, ``"central"`` (a point with its interval), ``"range"``,
        ``"floor"`` (at least) or ``"ceiling"`` (at most)."""
        if self.value is not None:
            return "central" if self.low is not None else "point"
        if self.low is not None and self.high is not None:
            return "range"
        return "floor" if self.low is not None else "ceiling"

    @property
    def series(self) -> tuple[str, str]:
        """The latent quantity this claim is about: ``(side, category)``."""
        return (self.side, self.category)

    @property
    def speaker(self) -> tuple[str, str]:
        """The unit that carries one bias: ``(source, side)``.

        A ministry that reports its own losses and the enemy's is two speakers, since
        it understates the one and overstates the other.
        """
        return (self.source, self.side)

    def end(self, column: str = "as_of") -> dt.date | None:
        """The last day of a date column's period (the date itself when known to the day)."""
        date = getattr(self, column)
        return None if date is None else period_end(date, getattr(self, f"{column}_precision"))

    @property
    def exact_dates(self) -> bool:
        """Every date known to the day."""
        return self.as_of_precision == self.period_start_precision == "day"

    def describe(self) -> str:
        """Short human-readable figure, e.g. ``"2,000–4,000"``, ``"≥557"`` or
        ``"4,645 (793–8,498)"``."""
        if self.kind == "point":
            return _fmt(self.value)
        if self.kind == "central":
            return f"{_fmt(self.value)} ({_fmt(self.low)}–{_fmt(self.high)})"
        if self.kind == "range":
            return f"{_fmt(self.low)}–{_fmt(self.high)}"
        if self.kind == "floor":
            return f"≥{_fmt(self.low)}"
        return f"≤{_fmt(self.high)}"

    def to_record(self) -> dict[str, Any]:
        """Plain dict with ISO-formatted dates, as precise as they are known (JSON-ready)."""
        # the fields are plain values: no need for asdict's recursive deep copy
        out = {c: getattr(self, c) for c in COLUMNS}
        for col in _DATE_COLUMNS:
            if out[col] is not None:
                out[col] = format_date(out[col], getattr(self, f"{col}_precision"))
        return out


def display_path(path: str, cwd: str | os.PathLike[str] | None = None) -> str:
    """A file name as every output names it (the report, ``estimate.json``'s
    ``worst_claims``, the changes): relative to the working directory ``cwd`` when the
    file lies inside it, else the bare file name (never an absolute path). Names that are
    not files (``<DataFrame>``) are kept."""
    if not path or path.startswith("<"):
        return path
    base = Path(os.path.abspath(Path.cwd() if cwd is None else cwd))
    p = Path(path)
    full = Path(os.path.abspath(p if p.is_absolute() else base / p))
    for a, b in ((full, base), (full.resolve(), base.resolve())):
        try:
            return a.relative_to(b).as_posix()
        except ValueError:
            continue
    return p.name or path


def display_origin(origin: str) -> str:
    """A claim set's origin (``"a.csv + b.csv"``) with each file as :func:`display_path`
    names it."""
    return " + ".join(display_path(part) for part in origin.split(" + "))


_CLAIM_FIELDS = dataclasses.fields(Claim)


def period_end(date: dt.date, precision: str) -> dt.date:
    """The last day of the month or year starting at ``date`` (``date`` for a day)."""
    if precision == "year":
        return dt.date(date.year, 12, 31)
    if precision == "month":
        following = dt.date(date.year + date.month // 12, date.month % 12 + 1, 1)
        return following - dt.timedelta(days=1)
    return date


def format_date(date: dt.date, precision: str) -> str:
    """``2023-07-15``, ``2023-07`` or ``2023``: a date written as precisely as known."""
    return {"day": date.isoformat(), "month": date.isoformat()[:7], "year": str(date.year)}[
        precision
    ]


def _check_precision(date: dt.date, precision: str) -> str:
    if precision not in PRECISIONS:
        raise ValueError(f"unknown date precision {precision!r}; use one of {PRECISIONS}")
    if (precision == "month" and date.day != 1) or (
        precision == "year" and date.timetuple().tm_yday != 1
    ):
        raise ValueError(f"a date known to the {precision} is stored as its first day, got {date}")
    return precision


def _fmt(x: float | None) -> str:
    assert x is not None
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.4g}"


def _claim_problems(f: Mapping[str, Any]) -> list[tuple[str | None, str]]:
    """Semantic checks of one claim's typed fields; returns (column, message) pairs."""
    out: list[tuple[str | None, str]] = []
    for col in ("source", "side", "category"):
        if not isinstance(f.get(col), str) or not f[col].strip():
            out.append((col, "is empty; every claim needs a " + col))
    for col in ("citation", "url", "notes", "derived_from"):
        if not isinstance(f.get(col), str):
            out.append((col, f"must be text, got {type(f.get(col)).__name__}"))
    if isinstance(f.get("derived_from"), str) and f["derived_from"].strip() == f.get("source"):
        out.append(("derived_from", "names the claim's own source; leave it empty"))
    if not isinstance(f.get("as_of"), dt.date):
        out.append(("as_of", "is empty; every claim needs an as_of date"))
    st = f.get("source_type")
    if st not in SOURCE_TYPES:
        out.append(
            ("source_type", f"unknown source_type {st!r}; use one of {', '.join(SOURCE_TYPES)}")
        )
    as_of, reported, start = f.get("as_of"), f.get("reported"), f.get("period_start")

    def text(col: str) -> str:
        return format_date(f[col], f.get(f"{col}_precision", "day"))

    def last(col: str) -> dt.date:
        return period_end(f[col], f.get(f"{col}_precision", "day"))

    latest = dt.date.today() + _FUTURE_SLACK
    for col, d in (("as_of", as_of), ("reported", reported), ("period_start", start)):
        if col == "reported" and d == as_of:
            continue  # the same date (or reported left empty): reported once, for as_of
        if isinstance(d, dt.date) and d > latest:
            out.append((col, f"{text(col)} is in the future"))
    if isinstance(as_of, dt.date) and isinstance(reported, dt.date) and last("reported") < as_of:
        out.append(
            (
                "reported",
                f"published {text('reported')} before the date it refers to "
                f"(as_of {text('as_of')})",
            )
        )
    if isinstance(as_of, dt.date) and isinstance(start, dt.date) and start > last("as_of"):
        out.append(("period_start", f"{text('period_start')} is after as_of {text('as_of')}"))
    value, low, high, prob = f.get("value"), f.get("low"), f.get("high"), f.get("interval_prob")
    for col, x in (("value", value), ("low", low), ("high", high)):
        if x is not None and not x > 0:
            out.append((col, f"must be a positive count, got {x:g}"))
    if value is not None and (low is None) != (high is None):
        out.append(
            (
                "value",
                "a central estimate needs both ends of its interval (low and high); "
                "without an interval give value alone",
            )
        )
    if value is None and low is None and high is None:
        out.append(("value", "missing: give value, or low and/or high for a range"))
    if low is not None and high is not None and low > high:
        out.append(("low", f"low {low:g} is greater than high {high:g}"))
    elif value is not None and low is not None and high is not None and not low <= value <= high:
        out.append(
            ("value", f"the central estimate {value:g} lies outside its interval {low:g}–{high:g}")
        )
    if prob is not None:
        if not 0 < prob < 1:
            out.append(("interval_prob", f"must be strictly between 0 and 1, got {prob:g}"))
        if low is None or high is None:
            out.append(("interval_prob", "only applies to an interval with both low and high"))
    return out


def _parse_record(
    raw: Mapping[str, Any], origin: str, row: int | str
) -> tuple[Claim | None, list[Problem]]:
    """Type-convert one raw row and run the semantic checks; never raises."""
    problems: list[Problem] = []
    typed: dict[str, Any] = {}
    for col in COLUMNS:
        x = raw.get(col)
        if is_blank(x):
            if col in REQUIRED_COLUMNS:
                problems.append(Problem(origin, row, col, "is empty; this column is required"))
            typed[col] = "" if col in ("citation", "url", "notes", "derived_from") else None
            continue
        try:
            if col in _DATE_COLUMNS:
                typed[col], typed[f"{col}_precision"] = parse_partial_date(x)
            elif col in _NUMBER_COLUMNS:
                typed[col] = parse_number(x, count=col in _COUNT_COLUMNS)
            else:
                typed[col] = parse_text(x)
        except ValueError as err:
            problems.append(Problem(origin, row, col, str(err)))
            typed[col] = None
    if problems:
        return None, problems
    if typed["reported"] is None:
        typed["reported"] = typed["as_of"]
        typed["reported_precision"] = typed.get("as_of_precision", "day")
    problems = [Problem(origin, row, c, m) for c, m in _claim_problems(typed)]
    if problems:
        return None, problems
    return _checked_claim(typed), []


def _checked_claim(typed: Mapping[str, Any]) -> Claim:
    """The Claim of fields :func:`_parse_record` has parsed and checked, built without
    running the same checks again in ``__post_init__`` (a third of reading's time)."""
    claim = object.__new__(Claim)
    for f in _CLAIM_FIELDS:
        object.__setattr__(claim, f.name, typed.get(f.name, f.default))
    return claim


Place = tuple[str, int | str]
"""Where a claim was read: (origin, row)."""


def _numbered(origin: str, n: int) -> tuple[Place, ...]:
    """Places of ``n`` claims numbered 1.. in ``origin`` (claims not read from rows)."""
    return tuple((origin, i) for i in range(1, n + 1))


def _ref(other: Place, origin: str) -> str:
    """How a problem in ``origin`` refers to another row: "row 5" or "a.csv row 5"."""
    return f"row {other[1]}" if other[0] == origin else f"{other[0]} row {other[1]}"


def same_day_key(claim: Claim) -> tuple[Any, ...]:
    """Claims with this key are one speaker's figures for one series, dates and
    publication day: several outlets quoting one statement, or one statement revised."""
    return (
        claim.source,
        claim.side,
        claim.category,
        claim.as_of,
        claim.as_of_precision,
        claim.period_start,
        claim.period_start_precision,
        claim.reported,
    )


def _set_problems(claims: Sequence[Claim], places: Sequence[Place]) -> list[Problem]:
    """Checks across rows (of one input or several): exact duplicates, one type per
    speaker, echoes of a source the set names. Each problem names the later row and
    refers to the earlier. (Several figures of one speaker for the same dates are
    allowed: see :meth:`ClaimSet.notes`.)"""
    out: list[Problem] = []
    seen: dict[Claim, Place] = {}
    speaker_type: dict[tuple[str, str], tuple[str, Place]] = {}
    sources = {c.source for c in claims}
    for claim, place in zip(claims, places, strict=True):
        origin, row = place
        if claim in seen:
            out.append(Problem(origin, row, None, f"duplicate of {_ref(seen[claim], origin)}"))
            continue
        seen[claim] = place
        if claim.derived_from and claim.derived_from not in sources:
            known = ", ".join(sorted(sources)[:8]) + (", ..." if len(sources) > 8 else "")
            out.append(
                Problem(
                    origin,
                    row,
                    "derived_from",
                    f"names {claim.derived_from!r}, the source of no claim in the set "
                    f"(sources: {known}); give its exact name, or add its claim",
                )
            )
        if claim.speaker in speaker_type and speaker_type[claim.speaker][0] != claim.source_type:
            first_type, first_place = speaker_type[claim.speaker]
            out.append(
                Problem(
                    origin,
                    row,
                    "source_type",
                    f"{claim.source!r} about {claim.side!r} is {claim.source_type!r} here but "
                    f"{first_type!r} in {_ref(first_place, origin)}; one speaker has one "
                    "source_type (give a different kind of figure its own source name)",
                )
            )
        speaker_type.setdefault(claim.speaker, (claim.source_type, place))
    return out


class ClaimSet(Sequence[Claim]):
    """A validated, immutable, ordered collection of claims.

    Build with :func:`read_claims`, or ``ClaimSet([Claim(...), ...])``. Operations that
    change the set (``add``, ``filter``) return a new set.
    """

    __slots__ = ("_claims", "_fingerprint", "_origin", "_places")

    def __init__(self, claims: Iterable[Claim] = (), *, origin: str = "<claims>"):
        items = tuple(claims)
        bad = [i for i, c in enumerate(items, 1) if not isinstance(c, Claim)]
        if bad:
            raise TypeError(f"ClaimSet takes Claim objects; items {bad} are not")
        places = _numbered(origin, len(items))
        problems = _set_problems(items, places)
        if problems:
            raise ClaimsError(problems)
        self._claims = items
        self._origin = origin
        self._places: tuple[Place, ...] = places
        self._fingerprint: str | None = None

    @classmethod
    def _trusted(
        cls, claims: tuple[Claim, ...], origin: str, places: Sequence[Place] | None = None
    ) -> ClaimSet:
        new = cls.__new__(cls)
        new._claims = claims
        new._origin = origin
        new._fingerprint = None
        # where each claim was read, so checks across sets can name file and row
        new._places = tuple(places) if places is not None else _numbered(origin, len(claims))
        return new

    @property
    def origin(self) -> str:
        """Where the claims came from (a file name, ``<DataFrame>``, ...)."""
        return self._origin

    def notes(self) -> list[str]:
        """What is allowed but worth knowing, one line each: several figures of one
        speaker for the same series, dates and publication day (outlets quoting one
        statement; read as one statement, see docs/claims.md)."""
        groups: dict[tuple[Any, ...], list[int]] = {}
        for i, c in enumerate(self._claims):
            groups.setdefault(same_day_key(c), []).append(i)
        out = []
        for members in groups.values():
            if len(members) > 1:
                first = self._claims[members[0]]
                figures = ", ".join(
                    f"{self._claims[i].describe()} ({self.where(i)})" for i in members
                )
                published = format_date(first.reported or first.as_of, first.reported_precision)
                out.append(
                    f"{first.source!r} gives {len(members)} figures of {first.side} "
                    f"{first.category} as of {format_date(first.as_of, first.as_of_precision)}, "
                    f"published {published}: {figures}; read together as one statement"
                )
        return out

    def where(self, i: int) -> str:
        """Where claim ``i`` (0-based) was read, e.g. ``"war.csv, row 12"``: the file
        named as outputs name it (:func:`display_path`: relative to the working
        directory, never absolute)."""
        origin, row = self._places[i]
        return f"{display_path(origin)}, row {row}"

    @property
    def places(self) -> tuple[tuple[str, int | str], ...]:
        """(file, row) each claim was read from, in order."""
        return self._places

    def __len__(self) -> int:
        return len(self._claims)

    @overload
    def __getitem__(self, i: int) -> Claim: ...
    @overload
    def __getitem__(self, i: slice) -> ClaimSet: ...
    def __getitem__(self, i: int | slice) -> Claim | ClaimSet:
        if isinstance(i, slice):
            return ClaimSet._trusted(self._claims[i], self._origin, self._places[i])
        return self._claims[i]

    def __iter__(self) -> Iterator[Claim]:
        return iter(self._claims)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClaimSet) and self._claims == other._claims

    def __hash__(self) -> int:
        return hash(self._claims)

    def _repr_html_(self) -> str:
        """Rich display in a notebook: counts by side, category and source type, the
        dates covered, validation notes (:mod:`casualty_models.report.notebook`)."""
        from casualty_models import _hooks

        html: str = _hooks.call("ClaimSet._repr_html_", self)
        return html

    def __repr__(self) -> str:
        return (
            f"ClaimSet({len(self)} claims, {len(self.series)} series, "
            f"{len(self.speakers)} speakers, from {self._origin})"
        )

    @property
    def series(self) -> list[tuple[str, str]]:
        """Distinct ``(side, category)`` pairs in order of first appearance."""
        return list(dict.fromkeys(c.series for c in self._claims))

    @property
    def speakers(self) -> list[tuple[str, str]]:
        """Distinct ``(source, side)`` pairs in order of first appearance."""
        return list(dict.fromkeys(c.speaker for c in self._claims))

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the claims' canonical JSON; changes with any field or the order.

        Columns added after the first release (``derived_from``) enter only when set, so
        the fingerprint of a claim set that does not use them never changed.
        """
        if self._fingerprint is None:  # the set is immutable: hash it once
            payload = json.dumps(
                [
                    {k: v for k, v in c.to_record().items() if k not in _LATER_COLUMNS or v}
                    for c in self._claims
                ],
                sort_keys=True,
                ensure_ascii=True,
                separators=(",", ":"),
            )
            self._fingerprint = hashlib.sha256(payload.encode("ascii")).hexdigest()
        return self._fingerprint

    def add(self, *claims: Claim | Iterable[Claim]) -> ClaimSet:
        """A new set with ``claims`` (Claim objects or other sets) appended; revalidated.

        Problems name the file and row each claim was read from; the new set's origin
        joins the origins of the sets added (``a.csv + b.csv``).
        """
        items, places, origins = list(self._claims), list(self._places), [self._origin]
        loose = 0
        for c in claims:
            if isinstance(c, ClaimSet):
                items.extend(c)
                places.extend(c._places)
                origins.append(c.origin)
            else:
                for one in [c] if isinstance(c, Claim) else c:
                    if not isinstance(one, Claim):
                        raise TypeError(f"ClaimSet.add takes Claim objects or sets, not {one!r}")
                    loose += 1
                    items.append(one)
                    places.append(("added claims", loose))
        problems = _set_problems(items, places)
        if problems:
            raise ClaimsError(problems)
        origin = " + ".join(dict.fromkeys(origins))
        return ClaimSet._trusted(tuple(items), origin, places)

    def filter(
        self,
        *,
        side: str | Iterable[str] | None = None,
        category: str | Iterable[str] | None = None,
        source: str | Iterable[str] | None = None,
        source_type: str | Iterable[str] | None = None,
        start: dt.date | str | None = None,
        end: dt.date | str | None = None,
        reported_by: dt.date | str | None = None,
    ) -> ClaimSet:
        """Claims matching every given criterion (a label or a list of labels).

        ``start``/``end`` bound ``as_of`` (inclusive); ``reported_by`` keeps claims
        published on or before that date (a claim dated only to a month or year of
        publication once that whole period has passed).
        """

        def _pick(value: str, wanted: str | Iterable[str] | None) -> bool:
            if wanted is None:
                return True
            return value == wanted if isinstance(wanted, str) else value in set(wanted)

        lo = None if start is None else parse_date(start)
        hi = None if end is None else parse_date(end)
        rep = None if reported_by is None else parse_date(reported_by)
        kept = [
            (c, place)
            for c, place in zip(self._claims, self._places, strict=True)
            if _pick(c.side, side)
            and _pick(c.category, category)
            and _pick(c.source, source)
            and _pick(c.source_type, source_type)
            and (lo is None or c.as_of >= lo)
            and (hi is None or c.as_of <= hi)
            and (rep is None or ((published := c.end("reported")) is not None and published <= rep))
        ]
        return ClaimSet._trusted(
            tuple(c for c, _ in kept), self._origin, [place for _, place in kept]
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per claim, columns as in :data:`COLUMNS`; dates as ``datetime64``."""
        frame = pd.DataFrame([c.to_record() for c in self._claims], columns=list(COLUMNS))
        for col in _DATE_COLUMNS:
            frame[col] = pd.to_datetime(frame[col])
        for col in _NUMBER_COLUMNS:
            frame[col] = frame[col].astype(float)
        return frame

    def to_records(self) -> list[dict[str, Any]]:
        """JSON-ready list of dicts (ISO dates, None for empty)."""
        return [c.to_record() for c in self._claims]

    def to_csv(self, path: str | os.PathLike[str] | None = None) -> str:
        """CSV text readable by :func:`read_claims`; written atomically when ``path`` given.

        Text that a spreadsheet would take for a formula (``=HYPERLINK(...)``, ``@x``,
        ``-note``) gets a leading quote, as OWASP advises; numbers stay numbers, and
        :func:`read_claims` drops the quote again (:func:`casualty_models._cells.restore`),
        so the claims read back are the claims written."""
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
        writer.writeheader()
        for rec in self.to_records():
            writer.writerow({k: _cell_text(v) for k, v in rec.items()})
        text = buf.getvalue()
        if path is not None:
            atomic_write(path, text)
        return text


def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        # integral counts print as "498", others round-trip exactly via repr
        return str(int(v)) if v.is_integer() else repr(v)
    return neutralise(str(v))


# ---------------------------------------------------------------------------- reading


def records_to_claims(
    records: Sequence[Mapping[str, Any]], origin: str, rows: Sequence[int | str] | None = None
) -> ClaimSet:
    """Validate raw records (dicts of column -> raw value) into a ClaimSet.

    Unknown and missing columns, cell problems and cross-row problems are all
    collected and raised together.
    """
    rows = list(rows) if rows is not None else list(range(1, len(records) + 1))
    problems: list[Problem] = []
    if not records:
        raise ClaimsError([Problem(origin, None, None, "no claims: the input is empty")])
    claims: list[Claim] = []
    good_rows: list[int | str] = []
    for raw, row in zip(records, rows, strict=True):
        unknown = [k for k in raw if k not in COLUMNS]
        for k in unknown:
            problems.append(Problem(origin, row, str(k), "unknown column"))
        claim, errs = _parse_record(raw, origin, row)
        problems.extend(errs)
        if claim is not None:
            claims.append(claim)
            good_rows.append(row)
    places = [(origin, row) for row in good_rows]
    problems.extend(_set_problems(claims, places))
    if problems:
        raise ClaimsError(problems)
    return ClaimSet._trusted(tuple(claims), origin, places)


__all__ = [
    "COLUMNS",
    "REQUIRED_COLUMNS",
    "SOURCE_TYPES",
    "Claim",
    "ClaimSet",
    "ClaimsError",
    "Problem",
    "records_to_claims",
]
