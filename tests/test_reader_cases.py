"""What spreadsheets, scrapes and other people's files really hold, case by case: each
read correctly, or refused with one problem that names file, row, column and the fix."""

from __future__ import annotations

import dataclasses
import time
import tracemalloc
from pathlib import Path

import pandas as pd
import pytest
from conftest import SEED_CSV

import casualty_models as cm
from casualty_models.readers.native import MAX_ALIAS_NODES

HEADER = "source,source_type,side,category,as_of,period_start,value,low,high\n"
ROW = "Ministry,own,russia,killed,{as_of},2022-02-24,{value},,\n"


def _problems(path: Path | pd.DataFrame, **kwargs) -> list[cm.claims.Problem]:
    with pytest.raises(cm.ClaimsError) as info:
        cm.read_claims(path, **kwargs)
    return list(info.value.problems)


def _one(path: Path | pd.DataFrame, **kwargs) -> cm.claims.Problem:
    (problem,) = _problems(path, **kwargs)
    return problem


def _csv(tmp_path: Path, data: bytes | str, name: str = "claims.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def test_a_bom_and_crlf_line_ends_read_as_the_plain_file(tmp_path):
    plain = SEED_CSV.read_text(encoding="utf-8")
    windows = _csv(tmp_path, b"\xef\xbb\xbf" + plain.replace("\n", "\r\n").encode("utf-8"))
    old_mac = _csv(tmp_path, plain.replace("\n", "\r"), "mac.csv")
    seed = cm.read_claims(SEED_CSV)
    for path in (windows, old_mac):
        claims = cm.read_claims(path)
        assert claims == seed and claims.fingerprint == seed.fingerprint
        assert all("\r" not in c.notes and "\ufeff" not in c.source for c in claims)


def test_a_semicolon_export_with_decimal_commas_is_refused_naming_the_fix(tmp_path):
    text = HEADER.replace(",", ";") + "Ministry;own;russia;killed;2022-03-02;2022-02-24;1,5;;\n"
    p = _one(_csv(tmp_path, text))
    assert (p.row, p.column) == ("header", None)
    assert "separated by semicolons" in p.message and "decimal commas" in p.message
    assert "field delimiter ','" in p.message
    tabs = _one(_csv(tmp_path, HEADER.replace(",", "\t"), "tabs.csv"))
    assert "separated by tabs" in tabs.message
    # a decimal comma in a comma-separated file: the cell, and what to write
    p = _one(_csv(tmp_path, HEADER + ROW.format(as_of="2022-03-02", value='"12,5"'), "c.csv"))
    assert (p.row, p.column) == (2, "value") and "a decimal comma? write 12.5" in p.message


def test_a_latin1_file_is_named_as_such(tmp_path):
    text = HEADER + ROW.format(as_of="2022-03-02", value="498").replace("Ministry", "Minist\xe8re")
    p = _one(_csv(tmp_path, text.encode("latin-1")))
    assert p.row == "2 (line)" and p.column is None
    assert "not valid UTF-8" in p.message and "Latin-1 (Windows-1252)" in p.message
    assert "'è'" in p.message and "save the file as UTF-8" in p.message


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ("\ufeffsource,side\n".encode("utf-16"), "UTF-16"),
        (b"PK\x03\x04\x14\x00\x06\x00", "Excel workbook (.xlsx)"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "old Excel workbook (.xls)"),
        (b"source,side\nA\x00,B\n", "NUL"),
    ],
)
def test_other_file_kinds_are_named(tmp_path, data, named):
    p = _one(_csv(tmp_path, data))
    assert p.origin == str(tmp_path / "claims.csv") and named in p.message


def test_quoted_thousands_separators_are_refused_with_the_fix(tmp_path):
    """The decision (docs/robustness.md): "12,000" is twelve thousand in one locale and
    twelve in another, so it is not read; nor is "12.000" (twelve, or twelve thousand
    with a European thousands point?). Both name the cell and what to write."""
    path = _csv(tmp_path, HEADER + ROW.format(as_of="2022-03-02", value='"12,000"'))
    p = _one(path)
    assert (p.row, p.column) == (2, "value")
    assert p.message == "'12,000' is not a number (write digits without thousands separators)"
    path = _csv(tmp_path, HEADER + ROW.format(as_of="2022-03-02", value="12.000"), "b.csv")
    p = _one(path)
    assert (p.row, p.column) == (2, "value")
    assert "ambiguous" in p.message and "write 12 or 12000" in p.message
    assert (
        cm.read_claims(
            _csv(tmp_path, HEADER + ROW.format(as_of="2022-03-02", value="12.5"), "c.csv")
        )[0].value
        == 12.5
    )


@pytest.mark.parametrize(
    ("as_of", "says"),
    [
        ("12/03/2022", "it could be 12 March 2022 or 3 December 2022"),
        ("03/12/2022", "it could be 3 December 2022 or 12 March 2022"),
        ("25/03/2022", "if it is 25 March 2022, write 2022-03-25"),
        ("12.03.22", "a two-digit year is a guess at the century"),
        ("44631", "spreadsheet's date serial number (2022-03-11 in Excel's usual 1900"),
        ("2022/03/12", "write it with dashes: 2022-03-12"),
    ],
)
def test_dates_written_otherwise_are_errors_never_guesses(tmp_path, as_of, says):
    p = _one(_csv(tmp_path, HEADER + ROW.format(as_of=as_of, value="498")))
    assert (p.row, p.column) == (2, "as_of") and says in p.message


def test_date_serials_from_yaml_and_dataframes_too(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "- {source: M, source_type: own, side: x, category: killed, as_of: 44631, value: 5}\n",
        encoding="utf-8",
    )
    p = _one(path)
    assert (p.row, p.column) == (1, "as_of") and "date serial" in p.message
    frame = pd.DataFrame(
        {
            "source": ["M"],
            "source_type": ["own"],
            "side": ["x"],
            "category": ["killed"],
            "as_of": [44631.0],
            "value": [5],
        }
    )
    p = _one(frame)
    assert (p.origin, p.row, p.column) == ("<DataFrame>", "0", "as_of")
    assert "2022-03-11" in p.message


def test_a_100000_row_file_is_validated_in_seconds(tmp_path):
    """benchmarks/bench_read.py times the same file (docs/robustness.md gives the number)."""
    from benchmarks.bench_read import write_rows

    path = tmp_path / "big.csv"
    write_rows(path, 100_000)
    t0 = time.perf_counter()
    claims = cm.read_claims(path)
    took = time.perf_counter() - t0
    assert len(claims) == 100_000
    assert took < 30, f"{took:.1f} s"  # about 3 s on a quiet machine: generous for CI
    # a problem in the last row is found, named, and the others not reported
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    lines[-1] = lines[-1].replace(",killed,", ",killed,").replace("2022-02-24", "2022-02-31", 1)
    path.write_text("".join(lines), encoding="utf-8")
    (p,) = _problems(path)
    assert p.row == 100_001 and p.column == "period_start"


def test_yaml_aliases_that_expand_to_millions_of_nodes_are_refused(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 10) + "]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tracemalloc.start()
    t0 = time.perf_counter()
    p = _one(path)
    took = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "anchors and aliases expand to" in p.message and f"{MAX_ALIAS_NODES:,}" in p.message
    assert took < 2 and peak < 20_000_000, (took, peak)
    # one that refers to itself
    path.write_text("- &r {source: &s [*s], side: x}\n", encoding="utf-8")
    assert "never ends" in _one(path).message
    # a few aliases (one citation reused) are fine
    path.write_text(
        "- {source: A, source_type: own, side: x, category: killed, as_of: 2022-03-02, "
        "value: 5, citation: &c 'An article'}\n"
        "- {source: B, source_type: own, side: x, category: killed, as_of: 2022-03-02, "
        "value: 6, citation: *c}\n",
        encoding="utf-8",
    )
    assert [c.citation for c in cm.read_claims(path)] == ["An article"] * 2


def test_yaml_cells_hold_one_value(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "- {source: [A, B], source_type: own, side: no, category: killed, "
        "as_of: 2022-03-02, value: 5}\n",
        encoding="utf-8",
    )
    problems = {p.column: p.message for p in _problems(path)}
    assert problems["source"] == "is a list; a cell holds one value"
    assert (
        problems["side"].startswith("is the boolean false") and "quote the text" in problems["side"]
    )
    path.write_text("[" * 5000 + "]" * 5000, encoding="utf-8")
    assert "nested too deeply" in _one(path).message


def test_duplicate_column_names(tmp_path):
    path = _csv(tmp_path, "source,source_type,side,category,as_of,value,value\n")
    p = _one(path)
    assert (p.row, p.column) == ("header", "value") and "more than once" in p.message
    frame = pd.DataFrame(
        [["M", "own", "x", "killed", "2022-03-02", 5, 6]],
        columns=["source", "source_type", "side", "category", "as_of", "value", "value"],
    )
    p = _one(frame)
    assert (p.row, p.column) == ("header", "value") and "more than once" in p.message


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("empty.csv", "", "the file is empty"),
        ("blank.csv", "\n \n", "the file is empty"),
        ("header.csv", HEADER, "no claims: the file has only a header"),
        ("header-crlf.csv", HEADER.replace("\n", "\r\n") + "\r\n", "only a header"),
        ("empty.yaml", "", "the file is empty"),
        ("empty-list.yaml", "[]\n", "no claims"),
    ],
)
def test_an_empty_or_only_header_file(tmp_path, name, text, says):
    p = _one(_csv(tmp_path, text, name))
    assert p.origin == str(tmp_path / name) and says in p.message
    frame = pd.DataFrame(columns=["source", "source_type", "side", "category", "as_of", "value"])
    assert "no claims" in _one(frame).message


def test_a_quote_never_closed_and_a_huge_cell(tmp_path):
    text = (
        HEADER
        + 'Ministry,own,russia,killed,2022-03-02,2022-02-24,"498,,\n'
        + ROW.format(as_of="2022-03-03", value="500")
    )
    p = _one(_csv(tmp_path, text))
    assert p.row == "2 (line)" and "never closed" in p.message
    huge = HEADER + ROW.format(as_of="2022-03-02", value="4" * 200_000)
    p = _one(_csv(tmp_path, huge, "huge.csv"))
    assert "longer than 131,072 characters" in p.message and len(str(p)) < 500
    long_number = HEADER + ROW.format(as_of="2022-03-02", value="x" * 100_000)
    p = _one(_csv(tmp_path, long_number, "long.csv"))
    assert (p.row, p.column) == (2, "value") and len(p.message) < 200


def test_radford2023_days_past_the_calendar_are_a_problem_not_a_crash(tmp_path):
    path = _csv(
        tmp_path,
        "days,loss_count,claim_source,time_frame,loss_country,minimum,maximum,category\n"
        "99999999,10,UA Source,Day,Russia,0,0,Military Deaths\n",
    )
    p = _one(path, format="radford2023")
    assert (p.row, p.column) == (2, "days") and "at most 36,525" in p.message


def test_an_echo_of_claims_reads_back_as_written(tmp_path):
    seed = cm.read_claims(SEED_CSV)
    odd = dataclasses.replace(
        seed[0], source="-Ministry @ home", citation="=1+1", notes="@note", value=1234.5
    )
    claims = cm.ClaimSet([odd, *seed[1:]])
    path = tmp_path / "echo.csv"
    claims.to_csv(path)
    back = cm.read_claims(path)
    assert back == claims and back.fingerprint == claims.fingerprint
