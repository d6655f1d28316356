"""One cell of a claims input: a count, a date or text, parsed strictly.

Claims come from spreadsheets, scrapes and other people's files, so a cell is read only
when its meaning is certain, and otherwise refused with a message that says what the
cell could mean and how to write it (docs/claims.md, docs/robustness.md):

- numbers are ASCII digits with an optional sign, decimal point and exponent. Thousands
  separators (``"12,000"``, ``"12 000"``) and decimal commas (``"12,5"``) are errors
  with the fix in the message (a spreadsheet's ``"12,000"`` is twelve thousand in one
  locale and twelve in another: the file must say which), and so, in the count columns,
  is ``"12.000"`` (twelve, or twelve thousand with a European thousands point?);
- dates are ``YYYY-MM-DD`` (or ``YYYY-MM`` / ``YYYY`` where a claim allows it); a
  ``12/03/2022`` (12 March or 3 December?) or a spreadsheet's date serial (``44631``)
  is an error naming what it could be, never a guess;
- a cell holds one value: a YAML list, mapping or ``yes``/``no`` boolean is an error.

Text cells written to a CSV file are neutralised against spreadsheet formulas
(:func:`neutralise`), reversibly (:func:`restore`).

Messages quote at most :data:`SHOWN` characters of a cell, so a huge cell gives a short
message.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import pandas as pd

SHOWN = 60
"""The most characters of a cell a message quotes."""

_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_PARTIAL_DATE = re.compile(r"^([0-9]{4})(?:-([0-9]{2}))?$")
_NUMBER = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
_GROUPED = re.compile(r"^[+-]?[1-9][0-9]{0,2}(?:,[0-9]{3})+(?:\.[0-9]+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?[0-9]+,[0-9]+$")
_THOUSANDS_POINT = re.compile(r"^[1-9][0-9]{0,2}\.[0-9]{2}0$")
_SLASHED = re.compile(r"^([0-9]{1,2})[/.]([0-9]{1,2})[/.]([0-9]{2}|[0-9]{4})$")
_YEAR_FIRST = re.compile(r"^([0-9]{4})[/.]([0-9]{2})[/.]([0-9]{2})$")
_SERIAL = re.compile(r"^([0-9]{5})(?:\.0*)?$")
# Excel's 1900 date system counts days from 1899-12-30 (its day 60 is a 29 February
# 1900 that never was); serials 20000-80000 are the years 1954-2119
_SERIAL_EPOCH = dt.date(1899, 12, 30)
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def shown(x: Any) -> str:
    """A cell as a message quotes it: ``repr`` of its text, cut to :data:`SHOWN` chars."""
    s = x if isinstance(x, str) else _text(x)
    return repr(s) if len(s) <= SHOWN else repr(s[:SHOWN]) + f"… ({len(s):,} characters)"


def _text(x: Any) -> str:
    try:
        return str(x)
    except ValueError:  # an int beyond Python's digit limit for str()
        return f"<a number of about {x.bit_length() * 0.30103:,.0f} digits>"


def is_blank(x: Any) -> bool:
    """An empty cell: None or whitespace. A NaN in a file is an error, not a blank."""
    return x is None or (isinstance(x, str) and not x.strip())


def scalar_problem(x: Any, what: str = "text") -> str | None:
    """Why ``x`` cannot be one cell's value (a list, a mapping, a YAML boolean), or None.
    ``what`` the cell should hold: "text", "a number" or "a date"."""
    if isinstance(x, bool):
        if what == "text":
            return (
                f"is the boolean {str(x).lower()} (YAML reads an unquoted yes, no, on, off, "
                "true or false so); quote the text"
            )
        return f"{x!r} is not {what} (YAML reads an unquoted yes, no, on, off, true or false so)"
    if isinstance(x, list | tuple | set | frozenset):
        return "is a list; a cell holds one value"
    if isinstance(x, dict):
        return "is a mapping; a cell holds one value"
    if isinstance(x, bytes | bytearray):
        return "is binary data; a cell holds text, a number or a date"
    return None


def parse_text(x: Any) -> str:
    """A text cell, stripped of surrounding space; numbers are taken as their digits."""
    if isinstance(x, str):
        return x.strip()
    problem = scalar_problem(x)
    if problem is not None:
        raise ValueError(problem)
    if isinstance(x, dt.date | pd.Timestamp):
        raise ValueError(f"is a date ({x}); this column holds text")
    return _text(x).strip()


def parse_number(x: Any, *, count: bool = False) -> float:
    """A finite number from a number or its text; ValueError says why not.

    ``count`` (the value, low and high columns) also refuses ``"12.000"``-like text,
    which reads as twelve with a decimal point and as twelve thousand with a European
    thousands point.
    """
    problem = None if isinstance(x, str) else scalar_problem(x, "a number")
    if problem is not None:
        raise ValueError(problem)
    if isinstance(x, int | float):
        try:
            v = float(x)
        except OverflowError:
            raise ValueError(f"{shown(x)} is too large a number") from None
    elif isinstance(x, dt.date | pd.Timestamp):
        raise ValueError(f"is a date ({x}); this column holds a number")
    else:
        s = _text(x).strip()
        if count and _THOUSANDS_POINT.match(s):
            whole = s.replace(".", "")
            raise ValueError(
                f"{shown(s)} is ambiguous: {float(s):g} with a decimal point, or "
                f"{int(whole):,} with a European thousands point; write {float(s):g} "
                f"or {whole}"
            )
        if s.lower().lstrip("+-") in ("nan", "inf", "infinity"):
            raise ValueError(f"{shown(s)} is not a finite number")
        if not _NUMBER.match(s):
            raise ValueError(f"{shown(s)} is not a number{_number_hint(s)}")
        v = float(s)
    if not math.isfinite(v):
        raise ValueError(f"{shown(x)} is not a finite number")
    return v


def _number_hint(s: str) -> str:
    if _GROUPED.match(s):
        return " (write digits without thousands separators)"
    if _DECIMAL_COMMA.match(s):
        return f" (a decimal comma? write {s.replace(',', '.')})"
    if re.fullmatch(r"[+-]?[0-9][0-9,. \u00a0\u202f']*[0-9]", s):
        return " (write digits without thousands separators)"
    return ""


def parse_partial_date(x: Any) -> tuple[dt.date, str]:
    """(first day, precision) of a date known to the day, month or year: ``date`` objects
    and ``"YYYY-MM-DD"`` are days, ``"YYYY-MM"`` a month, ``"YYYY"`` a year. Impossible
    dates (``2023-13``, ``2022-02-30``) are a ValueError."""
    if not isinstance(x, dt.date | pd.Timestamp):
        problem = None if isinstance(x, str) else scalar_problem(x, "a date")
        if problem is not None:
            raise ValueError(problem)
        s = _text(x).strip()
        m = _PARTIAL_DATE.match(s)
        if m:
            year, month = int(m.group(1)), m.group(2)
            if year < 1:
                raise ValueError(f"{shown(s)} is not a real year")
            if month is None:
                return dt.date(year, 1, 1), "year"
            if not 1 <= int(month) <= 12:
                raise ValueError(f"{shown(s)} is not a real month")
            return dt.date(year, int(month), 1), "month"
        if not _ISO_DATE.match(s):
            raise ValueError(
                f"{shown(s)} is not a date in YYYY-MM-DD form (or YYYY-MM / YYYY when the "
                f"article gives only the month or the year){_date_hint(s)}"
            )
    return parse_date(x), "day"


def parse_date(x: Any) -> dt.date:
    """A calendar date from a ``date``, a midnight ``datetime``/``Timestamp`` or
    ``"YYYY-MM-DD"`` text; anything else (a time of day, ``2022-02-30``) is a ValueError."""
    if isinstance(x, pd.Timestamp):
        if x is pd.NaT or x != x.normalize():
            raise ValueError(f"{x} has a time of day; give a date")
        return x.date()
    if isinstance(x, dt.datetime):
        if x.time() != dt.time(0):
            raise ValueError(f"{x} has a time of day; give a date")
        return x.date()
    if isinstance(x, dt.date):
        return x
    problem = None if isinstance(x, str) else scalar_problem(x, "a date")
    if problem is not None:
        raise ValueError(problem)
    s = _text(x).strip()
    if not _ISO_DATE.match(s):
        raise ValueError(f"{shown(s)} is not a date in YYYY-MM-DD form{_date_hint(s)}")
    try:
        return dt.date.fromisoformat(s)
    except ValueError:
        raise ValueError(f"{shown(s)} is not a real calendar date") from None


def _date_hint(s: str) -> str:
    """What a date written another way could mean: never a guess, always both readings."""
    m = _SLASHED.match(s)
    if m:
        a, b, y = int(m.group(1)), int(m.group(2)), m.group(3)
        if len(y) == 2:
            return "; a two-digit year is a guess at the century: write YYYY-MM-DD"
        year = int(y)
        readings = []
        for day, month in ((a, b), (b, a)):
            try:
                readings.append(dt.date(year, month, day))
            except ValueError:
                continue
        readings = list(dict.fromkeys(readings))
        if len(readings) == 2:
            first, second = (f"{d.day} {_MONTHS[d.month - 1]} {d.year}" for d in readings)
            return (
                f"; it could be {first} or {second} (day or month first), so it is not "
                f"read: write {readings[0].isoformat()} or {readings[1].isoformat()}"
            )
        if readings:
            d = readings[0]
            return f"; if it is {d.day} {_MONTHS[d.month - 1]} {d.year}, write {d.isoformat()}"
        return ""
    m = _YEAR_FIRST.match(s)
    if m:
        return f"; write it with dashes: {m.group(1)}-{m.group(2)}-{m.group(3)}"
    m = _SERIAL.match(s)
    if m and 20000 <= int(m.group(1)) <= 80000:
        serial_day = _SERIAL_EPOCH + dt.timedelta(days=int(m.group(1)))
        return (
            f"; it looks like a spreadsheet's date serial number ({serial_day.isoformat()} in "
            "Excel's usual 1900 date system, another day in its 1904 system): format the "
            "column as YYYY-MM-DD dates before saving"
        )
    return ""


# ------------------------------------------------------------------- cells we write
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a text cell as a formula (OWASP, "CSV Injection")."""


def _formula_like(s: str) -> bool:
    return s[:1] in FORMULA_STARTS and not _NUMBER.match(s)


def neutralise(text: str) -> str:
    """A text cell made inert in a spreadsheet: ``'`` put before text that starts with
    ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, as OWASP advises; a number
    (``-5``, ``+1e3``) is left as it is. Reversible by :func:`restore`: text that already
    starts with quotes before such a character gains one quote more, so that
    ``restore(neutralise(s)) == s`` for every ``s``."""
    rest = text.lstrip("'")
    return "'" + text if _formula_like(rest) else text


def restore(text: str) -> str:
    """The text :func:`neutralise` was given: one leading ``'`` dropped when what
    follows the quotes starts a formula; any other text unchanged."""
    rest = text.lstrip("'")
    return text[1:] if text.startswith("'") and _formula_like(rest) else text


def frame_to_csv(frame: pd.DataFrame) -> str:
    """``frame.to_csv(index=False)`` with every text cell neutralised (numbers, dates and
    booleans are written as they are)."""
    out = frame.copy()
    for col in out.columns:
        column = out[col]
        if column.dtype == object or isinstance(column.dtype, pd.StringDtype | pd.CategoricalDtype):
            out[col] = [neutralise(v) if isinstance(v, str) else v for v in column]
    text: str = out.to_csv(index=False)
    return text


__all__ = [
    "FORMULA_STARTS",
    "SHOWN",
    "frame_to_csv",
    "is_blank",
    "neutralise",
    "parse_date",
    "parse_number",
    "parse_partial_date",
    "parse_text",
    "restore",
    "scalar_problem",
    "shown",
]
