"""The package's own claim layouts: CSV and YAML files with the columns of
:data:`casualty_models.claims.COLUMNS`, and DataFrames with those columns."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd

from casualty_models._cells import restore, shown
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
    that cannot be read as one (not UTF-8, a workbook, separated by semicolons or tabs,
    a quote never closed, empty). Cells are as written (see :func:`read_csv` for the
    spreadsheet quote our writers put before formula-like text)."""
    text = decode(path.read_bytes(), origin)
    if not text.strip():
        raise ClaimsError([Problem(origin, None, None, "the file is empty")])
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, list[str]]] = []
    problems: list[Problem] = []
    header: list[str] | None = None
    end = 0
    try:
        for cells in reader:
            line, end = end + 1, reader.line_num  # a quoted cell may span lines: the first
            if header is None:
                header = [h.strip() for h in cells]
                _separator_problem(header, origin)
                continue
            if not any(c.strip() for c in cells):
                continue  # a blank line is layout, not a row
            if len(cells) != len(header):
                msg = f"has {len(cells)} fields but the header has {len(header)}"
                problems.append(Problem(origin, line, None, msg))
                continue
            rows.append((line, cells))
    except csv.Error as err:
        raise ClaimsError([Problem(origin, f"{end + 1} (line)", None, _csv_error(err))]) from None
    assert header is not None  # the text is not blank, so there is a first row
    return header, rows, problems


def decode(data: bytes, origin: str) -> str:
    """A claims file's text: UTF-8, with or without a byte-order mark. Any other
    encoding, a workbook or binary data is a :class:`ClaimsError` naming what the file
    seems to be and how to save it as UTF-8."""

    def refuse(message: str, line: int | None = None) -> NoReturn:
        row = None if line is None else f"{line} (line)"
        raise ClaimsError([Problem(origin, row, None, message)])

    if data.startswith(b"PK\x03\x04"):
        refuse("is a zip archive, e.g. an Excel workbook (.xlsx), not CSV: save it as CSV UTF-8")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        refuse("is an old Excel workbook (.xls), not CSV: save it as CSV UTF-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        refuse('is encoded as UTF-16 (a spreadsheet\'s "Unicode text"): save it as CSV UTF-8')
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        byte = data[err.start]
        try:
            shown = data[err.start : err.start + 1].decode("cp1252")
        except UnicodeDecodeError:
            shown = ""
        if shown and b"\x00" not in data:
            refuse(
                f"not valid UTF-8 at byte {err.start}: 0x{byte:02x} is {shown!r} in Latin-1 "
                "(Windows-1252), the encoding the file seems to be in; save the file as "
                "UTF-8 (in a spreadsheet: CSV UTF-8)",
                line,
            )
        refuse(f"not valid UTF-8 at byte {err.start} (0x{byte:02x}); save the file as UTF-8", line)
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        refuse("holds a NUL character: binary data, or a file saved as UTF-16", line)
    return text


def _separator_problem(header: list[str], origin: str) -> None:
    """Raise when the header shows the columns separated by something else than commas."""
    if len(header) != 1:
        return
    for sep, name, fix in (
        (
            ";",
            "semicolons",
            "as a spreadsheet set to a European locale saves CSV, with decimal commas; "
            "save it with commas between columns and points in numbers (e.g. LibreOffice: "
            "Save As, Text CSV, field delimiter ','; Excel: change the list separator)",
        ),
        ("\t", "tabs", "save it as CSV, with commas between columns"),
    ):
        names = [h.strip() for h in header[0].split(sep)]
        if len(names) > 1 and any(n in COLUMNS for n in names):
            raise ClaimsError(
                [Problem(origin, "header", None, f"the columns are separated by {name}, {fix}")]
            )


def _csv_error(err: csv.Error) -> str:
    text = str(err)
    if "field larger than field limit" in text:
        return (
            f"a cell longer than {csv.field_size_limit():,} characters: a quote opened "
            "and never closed, or not a claims file"
        )
    if "unexpected end of data" in text:
        return 'a quoted cell never closes: a quote (") opened and never closed'
    return f"not a readable CSV file: {text}"


def read_csv(path: Path) -> ClaimSet:
    origin = str(path)
    header, rows, problems = csv_rows(path, origin)
    header_problems = _header_problems(header, origin)
    if header_problems:
        raise ClaimsError(header_problems)
    # our writers put a quote before text a spreadsheet would take for a formula
    # (casualty_models._cells.neutralise): read back what they wrote
    records = [dict(zip(header, map(restore, cells), strict=True)) for _, cells in rows]
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


MAX_ALIAS_NODES = 1_000_000
"""The most nodes a YAML file's aliases may add by repeating what their anchors name
(more is refused, as a guard against "billion laughs" files)."""


def _yaml_loader() -> Any:
    """``yaml.SafeLoader`` that leaves dates as text, so a bad one (``2022-02-30``) is
    reported for its row and column by :func:`parse_date` rather than by the parser, and
    that refuses aliases expanding to more than :data:`MAX_ALIAS_NODES` nodes."""
    import yaml

    class _Loader(yaml.SafeLoader):
        aliases = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                self.aliases += 1
            return super().compose_node(parent, index)

        def compose_document(self) -> Any:
            node = super().compose_document()
            if self.aliases:
                _check_expansion(node)
            return node

    _Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return _Loader


class _AliasBomb(ValueError):
    pass


def _check_expansion(root: Any) -> None:
    """Raise :class:`_AliasBomb` when the node graph, its aliases expanded, holds more
    than :data:`MAX_ALIAS_NODES` nodes beyond its distinct ones, or refers to itself."""
    import yaml

    def children(node: Any) -> list[Any]:
        if isinstance(node, yaml.SequenceNode):
            return list(node.value)
        if isinstance(node, yaml.MappingNode):
            return [n for pair in node.value for n in pair]
        return []

    size: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            open_.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in children(node))
            continue
        if key in size:
            continue
        if key in open_:
            raise _AliasBomb(
                "an alias refers to the node that holds it (a structure that never ends)"
            )
        open_.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children(node) if id(c) not in size)
    extra = size[id(root)] - len(size)
    if extra > MAX_ALIAS_NODES:
        raise _AliasBomb(
            f"anchors and aliases expand to {size[id(root)]:,} nodes, {extra:,} of them "
            f"repeats (more than {MAX_ALIAS_NODES:,}); refused as a guard against YAML "
            "bombs: write the claims out without aliases"
        )


def read_yaml(path: Path) -> ClaimSet:
    import yaml

    origin = str(path)
    text = decode(path.read_bytes(), origin)
    try:
        doc = yaml.load(text, Loader=_yaml_loader())  # a SafeLoader subclass: no python tags
    except _AliasBomb as err:
        raise ClaimsError([Problem(origin, None, None, str(err))]) from None
    except (yaml.YAMLError, ValueError) as err:  # ValueError: e.g. a bad !!timestamp
        mark = getattr(err, "problem_mark", None)
        row = f"{mark.line + 1} (line)" if mark is not None else None
        message = shown(str(err)) if len(str(err)) > 500 else str(err)
        raise ClaimsError([Problem(origin, row, None, f"not valid YAML: {message}")]) from None
    except RecursionError:
        message = "nested too deeply to be a list of claims"
        raise ClaimsError([Problem(origin, None, None, message)]) from None
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
