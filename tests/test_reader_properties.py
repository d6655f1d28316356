"""Property-based tests of every reader (Hypothesis, derandomized, bounded): any input
gives a ClaimSet or a ClaimsError whose every problem names the file, and the row and
column where it has them; no other exception, no hang, no blown memory.

The number of examples per reader is set by ``EXAMPLES`` (docs/robustness.md reports it).
"""

from __future__ import annotations

import datetime as dt
import math
import string
import warnings

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

import casualty_models as cm
from casualty_models.claims import COLUMNS, ClaimsError, Problem
from casualty_models.readers import ReaderNote, read_claims
from casualty_models.readers.radford2023 import (
    RADFORD2023_CATEGORIES,
    RADFORD2023_SOURCES,
)

EXAMPLES = {
    "csv": 300,
    "csv-bytes": 150,
    "yaml": 250,
    "yaml-text": 150,
    "frame": 250,
    "radford": 200,
}
_SETTINGS = dict(
    derandomize=True,
    deadline=2000,  # ms per example: a reader that hangs fails
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


def _check(source, origin: str, **kwargs) -> cm.ClaimSet | None:
    """Read; a ClaimsError must name ``origin`` in every problem, with a row for every
    problem about a column of a row. Any other exception fails the test."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ReaderNote)
            claims = read_claims(source, **kwargs)
        _event("read: claims")
        return claims
    except ClaimsError as err:
        n = len(err.problems)
        _event(f"read: {min(n, 3)}{'+' if n >= 3 else ''} problem(s)")
        assert err.problems, "a ClaimsError with no problem"
        for p in err.problems:
            _named(p, origin)
        return None


def _event(text: str) -> None:
    """Count outcomes (``--hypothesis-show-statistics``), inside a Hypothesis test."""
    if currently_in_test_context():
        event(text)


def _named(p: Problem, origin: str) -> None:
    assert p.origin == origin, p
    assert str(p).startswith(origin), p
    if p.column is not None:
        assert p.row is not None, f"a column without its row (or 'header'): {p}"
    if isinstance(p.row, str):
        assert p.row == "header" or p.row.endswith("(line)") or origin == "<DataFrame>", p
    assert len(p.message) < 2000, f"a message of {len(p.message)} characters"


# ------------------------------------------------------------------------ cell values

_DATES = st.sampled_from(
    [
        "2022-03-02",
        "2022-03",
        "2022",
        "2022-02-30",
        "2022-13",
        "12/03/2022",
        "25/03/2022",
        "03.12.22",
        "44631",
        "44631.0",
        "2022/03/12",
        "0000-01-01",
        "9999-12-31",
        "2099-01-01",
        " 2022-03-11 ",
        "",
    ]
)
_NUMBERS = st.sampled_from(
    [
        "498",
        "2000",
        "12,000",
        "12.000",
        "1.5",
        "-5",
        "0",
        "nan",
        "inf",
        "1e400",
        "1_000",
        "12,5",
        "0.9",
        "1e-300",
        "٣",
        " 7 ",
        "",
    ]
)
_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
_HOSTILE = st.sampled_from(
    ['=HYPERLINK("http://x","y")', "'=1+1", "+x", "-", "@a", "\t=1", "a,b", 'q"uote', "line\nbreak"]
)


def _cell(column: str) -> st.SearchStrategy[str]:
    if column in ("as_of", "reported", "period_start"):
        return st.one_of(_DATES, _TEXT)
    if column in ("value", "low", "high", "interval_prob"):
        return st.one_of(_NUMBERS, _TEXT)
    if column == "source_type":
        return st.one_of(st.sampled_from(["own", "enemy", "neutral", "tally", "known"]), _TEXT)
    if column in ("side", "category"):
        return st.one_of(st.sampled_from(["russia", "ukraine", "killed", "no", "yes"]), _TEXT)
    return st.one_of(st.sampled_from(["Ministry", "Pentagon", "UN"]), _TEXT, _HOSTILE)


_HEADER = st.lists(
    st.one_of(st.sampled_from(COLUMNS), st.sampled_from(["notes", "confidence", "", "Value"])),
    min_size=1,
    max_size=10,
)


_SOURCES = {"Ministry": "own", "Pentagon": "neutral", "UN": "neutral", "Staff": "enemy"}


@st.composite
def _valid(draw: st.DrawFn) -> dict[str, str]:
    """One valid claim as text cells (a point, a range, a floor or a central estimate)."""
    source = draw(st.sampled_from(sorted(_SOURCES)))
    low, high = draw(st.sampled_from([(100, 90000), (2000, 4000)]))
    kind = draw(st.sampled_from(["point", "point", "range", "floor", "central"]))
    value = draw(st.sampled_from(["498", "2870", "12000", "1.5e3"]))
    cells = {
        "source": source,
        "source_type": _SOURCES[source],
        "side": draw(st.sampled_from(["russia", "ukraine"])),
        "category": draw(st.sampled_from(["killed", "wounded"])),
        "as_of": draw(st.sampled_from(["2022-03-02", "2022-03-11", "2022-04", "2023"])),
        "reported": draw(st.sampled_from(["", "", "2024-01-12"])),
        "period_start": draw(st.sampled_from(["2022-02-24", ""])),
        "value": value if kind in ("point", "central") else "",
        "low": str(low) if kind in ("range", "floor", "central") else "",
        "high": str(high) if kind in ("range", "central") else "",
        "interval_prob": "0.9" if kind == "central" else "",
        "citation": draw(st.sampled_from(["An article", 'He said "12,000", then', ""])),
        "url": draw(st.sampled_from(["", "https://example.org/a?b=1,2"])),
        "notes": draw(st.sampled_from(["", "line one\nline two"])),
        "derived_from": "",
    }
    if kind == "central":
        cells["value"] = "3000"
        cells["low"], cells["high"] = "100", "90000"
    return cells


@st.composite
def _row(draw: st.DrawFn, header: list[str]) -> list[str]:
    """A row that is mostly valid: valid cells, a few of them replaced by odd ones."""
    valid = draw(_valid())
    row = [valid.get(c, draw(_TEXT)) for c in header]
    for _ in range(max(0, draw(st.integers(0, 6)) - 4)):  # mostly none, at most two
        if row:
            k = draw(st.integers(0, len(row) - 1))
            row[k] = draw(_cell(header[k]))
    return row


@st.composite
def _table(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    """A header (mostly the claims columns; now and then duplicated, unknown or missing
    ones) and rows of cells, now and then of the wrong width."""
    header = draw(st.sampled_from([list(COLUMNS), list(COLUMNS[:8]), None]))
    if header is None:
        header = draw(_HEADER)
    rows = []
    for _ in range(draw(st.integers(0, 5))):
        row = draw(_row(header))
        if draw(st.integers(0, 9)) == 0:
            row = row[:-1] if len(row) > 1 else [*row, "extra"]
        rows.append(row)
    return header, rows


def _csv_text(header: list[str], rows: list[list[str]], sep: str, newline: str) -> str:
    def quote(cell: str) -> str:
        if any(ch in cell for ch in (sep, '"', "\n", "\r")):
            return '"' + cell.replace('"', '""') + '"'
        return cell

    return "".join(sep.join(quote(c) for c in r) + newline for r in [header, *rows])


# ---------------------------------------------------------------------------------- CSV


@settings(max_examples=EXAMPLES["csv"], **_SETTINGS)
@given(
    table=_table(),
    sep=st.sampled_from([",", ",", ",", ",", ",", ";", "\t"]),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    encoding=st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "latin-1", "utf-16"]),
)
def test_any_csv_gives_claims_or_problems_naming_file_row_and_column(
    tmp_path_factory, table, sep, newline, encoding
):
    path = tmp_path_factory.mktemp("csv") / "claims.csv"
    text = _csv_text(*table, sep, newline)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    path.write_bytes(data)
    _check(path, str(path))


@settings(max_examples=EXAMPLES["csv-bytes"], **_SETTINGS)
@given(data=st.binary(max_size=400))
def test_any_bytes_as_a_csv_file(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("bytes") / "claims.csv"
    path.write_bytes(data)
    _check(path, str(path))


# --------------------------------------------------------------------------------- YAML

_YAML_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    _TEXT,
    _DATES,
    _NUMBERS,
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
)
_YAML_VALUE = st.recursive(
    _YAML_SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=3)), max_leaves=6
)
_ODD_ROW = st.dictionaries(
    st.one_of(st.sampled_from(COLUMNS), st.sampled_from(["confidence", "1"])),
    _YAML_VALUE,
    max_size=10,
)


def _typed(column: str, text: str) -> object:
    """A cell as YAML would type it, written unquoted: numbers, not text."""
    if column in ("value", "low", "high", "interval_prob") and text:
        return float(text) if "." in text or "e" in text else int(text)
    return text or None


@st.composite
def _yaml_row(draw: st.DrawFn) -> dict[object, object]:
    """A claim as a YAML mapping: mostly valid, now and then an odd value or key."""
    valid = draw(_valid())
    row: dict[object, object] = {c: v for c in COLUMNS if (v := _typed(c, valid[c])) is not None}
    for _ in range(max(0, draw(st.integers(0, 6)) - 4)):
        row[draw(st.sampled_from([*COLUMNS, "confidence"]))] = draw(_YAML_VALUE)
    return row


_YAML_DOC = st.one_of(
    st.lists(_yaml_row(), min_size=1, max_size=5),
    st.fixed_dictionaries({"claims": st.lists(_yaml_row(), max_size=4)}),
    st.lists(st.one_of(_ODD_ROW, _YAML_SCALAR), max_size=4),
    _ODD_ROW,
    _YAML_SCALAR,
)


@settings(max_examples=EXAMPLES["yaml"], **_SETTINGS)
@given(doc=_YAML_DOC)
def test_any_yaml_document_gives_claims_or_problems(tmp_path_factory, doc):
    path = tmp_path_factory.mktemp("yaml") / "claims.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    _check(path, str(path))


_YAML_TOKENS = [*string.printable, "&a ", "*a", "!!str ", "!!binary ", "- ", ": ", "é", "[", "{"]
_YAML_TEXT = st.lists(st.sampled_from(_YAML_TOKENS), max_size=120).map("".join)


@settings(max_examples=EXAMPLES["yaml-text"], **_SETTINGS)
@given(text=_YAML_TEXT)
def test_any_text_as_a_yaml_file(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("yamltext") / "claims.yml"
    path.write_text(text, encoding="utf-8")
    _check(path, str(path))


# ---------------------------------------------------------------------------- DataFrame

_FRAME_CELL = st.one_of(
    st.none(),
    st.just(math.nan),
    st.just(pd.NaT),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    _TEXT,
    _DATES,
    _NUMBERS,
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)).map(
        pd.Timestamp
    ),
    st.lists(st.integers(), max_size=2),
)


@st.composite
def _frame(draw: st.DrawFn) -> pd.DataFrame:
    """Claims as a DataFrame: valid rows with numbers as numbers and dates as text or
    Timestamps, then odd columns (duplicated, unknown, not text) and odd cells."""
    columns: list[object] = list(COLUMNS)
    rows = []
    for _ in range(draw(st.integers(0, 4))):
        row: list[object] = []
        valid = draw(_valid())
        for c in columns:
            cell: object = _typed(str(c), valid[str(c)])
            if c in ("as_of", "period_start") and cell and draw(st.booleans()):
                cell = pd.Timestamp(str(cell))
            row.append(cell)
        rows.append(row)
    if draw(st.integers(0, 3)) == 0:
        extra = draw(st.sampled_from([*COLUMNS, "x", 0, None]))
        columns.append(extra)
        for row in rows:
            row.append(draw(_FRAME_CELL))
    for _ in range(max(0, draw(st.integers(0, 6)) - 4)):
        if rows:
            i, k = draw(st.integers(0, len(rows) - 1)), draw(st.integers(0, len(columns) - 1))
            rows[i][k] = draw(_FRAME_CELL)
    frame = pd.DataFrame(rows, columns=pd.Index(columns, dtype=object))
    if draw(st.booleans()):
        frame.index = pd.Index([draw(st.sampled_from(["a", "b", 7, None])) for _ in rows])
    return frame


@settings(max_examples=EXAMPLES["frame"], **_SETTINGS)
@given(frame=_frame())
def test_any_dataframe_gives_claims_or_problems(frame):
    _check(frame, "<DataFrame>")


# ------------------------------------------------------------------- format=radford2023

_RADFORD_COLUMNS = (
    "days",
    "loss_count",
    "loss_type",
    "claim_source",
    "time_frame",
    "loss_country",
    "minimum",
    "maximum",
    "category",
    "source_target",
)


_RADFORD_ODD = {
    "days": ["0", "-3", "1.5", "99999999", "1e308", "x", ""],
    "loss_count": ["0", "-1", "1e308", "nan", "12,000", ""],
    "claim_source": ["Nobody", ""],
    "time_frame": ["Week", ""],
    "loss_country": ["Belarus", ""],
    "minimum": ["2", "1", ""],
    "maximum": ["x", "1", ""],
    "category": ["Civilian Deaths", "Tanks", ""],
    "loss_type": ["x", ""],
    "source_target": ["x", ""],
}


@st.composite
def _radford_row(draw: st.DrawFn) -> dict[str, str]:
    """A valid raw row, then up to two cells replaced by odd values."""
    category = draw(st.sampled_from(sorted(RADFORD2023_CATEGORIES)))
    source = draw(st.sampled_from(RADFORD2023_SOURCES))
    country = draw(st.sampled_from(["Russia", "Ukraine"]))
    row = {
        "days": str(draw(st.integers(1, 400))),
        "loss_count": str(draw(st.integers(1, 200_000))),
        "loss_type": f"{category}-{country}",
        "claim_source": source,
        "time_frame": draw(st.sampled_from(["Cumulative", "Day"])),
        "loss_country": country,
        "minimum": "0",
        "maximum": "0",
        "category": category,
        "source_target": f"{source}-{country}",
    }
    if draw(st.booleans()):
        row[draw(st.sampled_from(["minimum", "maximum"]))] = "1"
    for _ in range(max(0, draw(st.integers(0, 6)) - 4)):  # mostly none, at most two
        column = draw(st.sampled_from(_RADFORD_COLUMNS))
        row[column] = draw(st.one_of(st.sampled_from(_RADFORD_ODD[column]), _TEXT))
    return row


@st.composite
def _radford(draw: st.DrawFn) -> str:
    header = list(_RADFORD_COLUMNS)
    if draw(st.integers(0, 5)) == 0:
        header = draw(st.lists(st.sampled_from([*_RADFORD_COLUMNS, "extra"]), max_size=11))
    rows = []
    for _ in range(draw(st.integers(0, 8))):
        raw = draw(_radford_row())
        rows.append([raw.get(c, "") for c in header])
    return _csv_text(header, rows, ",", draw(st.sampled_from(["\n", "\r\n"])))


@settings(max_examples=EXAMPLES["radford"], **_SETTINGS)
@given(text=_radford())
def test_any_radford2023_file_gives_claims_or_problems(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("radford") / "replication-data-pnas.csv"
    path.write_text(text, encoding="utf-8")
    _check(path, str(path), format="radford2023")


def test_the_strategies_do_reach_valid_claims(tmp_path):
    """Not every example is refused at the door: a valid file built as the strategies
    build them reads."""
    header = list(COLUMNS[:8])
    rows = [["Ministry", "own", "russia", "killed", "2022-03-02", "", "2022-02-24", "498"]]
    path = tmp_path / "claims.csv"
    path.write_text(_csv_text(header, rows, ",", "\r\n"), encoding="utf-8-sig")
    assert len(_check(path, str(path))) == 1
    radford = tmp_path / "r.csv"
    radford.write_text(
        _csv_text(
            list(_RADFORD_COLUMNS),
            [
                [
                    "2",
                    "10",
                    "Military Deaths-Russia",
                    "UA Source",
                    "Day",
                    "Russia",
                    "0",
                    "0",
                    "Military Deaths",
                    "UA Source-Russia",
                ]
            ],
            ",",
            "\n",
        ),
        encoding="utf-8",
    )
    assert len(_check(radford, str(radford), format="radford2023")) == 1


pytestmark = pytest.mark.filterwarnings("ignore::casualty_models.readers.ReaderNote")
