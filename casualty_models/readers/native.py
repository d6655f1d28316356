"""The package's own claim layouts: CSV and YAML files with the columns of
:data:`casualty_models.claims.COLUMNS`, and DataFrames with those columns."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from casualty_models.claims import (
    COLUMNS,
    REQUIRED_COLUMNS,
    ClaimsError,
    ClaimSet,
    Problem,
    is_blank,
    records_to_claims,
)


def is_blank_in_frame(x: Any) -> bool:
    """An empty DataFrame cell: also NaN, NaT and NA, pandas' markers for missing."""
    if is_blank(x) or x is pd.NaT or x is pd.NA:
        return True
    return isinstance(x, float) and math.isnan(x)


def _header_problems(columns: Sequence[Any], origin: str) -> list[Problem]:
    out = []
    for col in columns:
        if col not in COLUMNS:
            out.append(
                Problem(
                    origin, "header", str(col), f"unknown column; allowed: {', '.join(COLUMNS)}"
                )
            )
    dupes = sorted({str(c) for c in columns if list(columns).count(c) > 1})
    for col in dupes:
        out.append(Problem(origin, "header", col, "column appears more than once"))
    for col in REQUIRED_COLUMNS:
        if col not in columns:
            out.append(Problem(origin, "header", col, "required column is missing"))
    if "value" not in columns and "low" not in columns and "high" not in columns:
        out.append(Problem(origin, "header", "value", "no figure columns: need value, or low/high"))
    return out


def csv_rows(
    path: Path, origin: str
) -> tuple[list[str], list[tuple[int, list[str]]], list[Problem]]:
    """The header and the (line, cells) of every non-blank row of a UTF-8 CSV file, with
    the rows of the wrong width as problems. Raises :class:`ClaimsError` for a file
    that cannot be read at all (not UTF-8, or empty)."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        msg = f"not valid UTF-8 at byte {err.start}; save the file as UTF-8"
        raise ClaimsError([Problem(origin, f"{line} (line)", None, msg)]) from None
    if not text.strip():
        raise ClaimsError([Problem(origin, None, None, "the file is empty")])
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader)]
    rows: list[tuple[int, list[str]]] = []
    problems: list[Problem] = []
    end = reader.line_num
    for cells in reader:
        line, end = end + 1, reader.line_num  # a quoted cell may span lines: report the first
        if not any(c.strip() for c in cells):
            continue  # a blank line is layout, not a row
        if len(cells) != len(header):
            msg = f"has {len(cells)} fields but the header has {len(header)}"
            problems.append(Problem(origin, line, None, msg))
            continue
        rows.append((line, cells))
    return header, rows, problems


def read_csv(path: Path) -> ClaimSet:
    origin = str(path)
    header, rows, problems = csv_rows(path, origin)
    header_problems = _header_problems(header, origin)
    if header_problems:
        raise ClaimsError(header_problems)
    records = [dict(zip(header, cells, strict=True)) for _, cells in rows]
    if not records and not problems:
        problems.append(Problem(origin, None, None, "no claims: the file has only a header"))
    try:
        claims = records_to_claims(records, origin, [line for line, _ in rows]) if records else None
    except ClaimsError as err:
        problems.extend(err.problems)
        claims = None
    if problems or claims is None:
        raise ClaimsError(sorted(problems, key=_row_key))
    return claims


def _row_key(p: Problem) -> tuple[int, str]:
    return (p.row if isinstance(p.row, int) else -1, p.column or "")


def _yaml_loader() -> Any:
    """``yaml.SafeLoader`` that leaves dates as text, so a bad one (``2022-02-30``) is
    reported for its row and column by :func:`parse_date` rather than by the parser."""
    import yaml

    class _Loader(yaml.SafeLoader):
        pass

    _Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return _Loader


def read_yaml(path: Path) -> ClaimSet:
    import yaml

    origin = str(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ClaimsError(
            [Problem(origin, None, None, f"not valid UTF-8 at byte {err.start}")]
        ) from None
    try:
        doc = yaml.load(text, Loader=_yaml_loader())  # a SafeLoader subclass: no python tags
    except (yaml.YAMLError, ValueError) as err:  # ValueError: e.g. a bad !!timestamp
        mark = getattr(err, "problem_mark", None)
        row = f"{mark.line + 1} (line)" if mark is not None else None
        raise ClaimsError([Problem(origin, row, None, f"not valid YAML: {err}")]) from None
    if doc is None:
        raise ClaimsError([Problem(origin, None, None, "the file is empty")])
    if isinstance(doc, dict) and set(doc) == {"claims"}:
        doc = doc["claims"]
    if not isinstance(doc, list):
        raise ClaimsError(
            [
                Problem(
                    origin,
                    None,
                    None,
                    "expected a list of claims (or a mapping with one key "
                    "'claims' holding that list)",
                )
            ]
        )
    bad = [
        Problem(origin, i, None, "is not a mapping of column: value")
        for i, item in enumerate(doc, 1)
        if not isinstance(item, dict)
    ]
    if bad:
        raise ClaimsError(bad)
    return records_to_claims(doc, origin)


def read_frame(frame: pd.DataFrame) -> ClaimSet:
    origin = "<DataFrame>"
    problems = _header_problems(list(frame.columns), origin)
    if problems:
        raise ClaimsError(problems)
    records = [
        {str(k): (None if is_blank_in_frame(v) else v) for k, v in rec.items()}
        for rec in frame.to_dict(orient="records")
    ]
    return records_to_claims(records, origin, [str(i) for i in frame.index])
