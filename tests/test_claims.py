"""Claims schema, readers and validation. Fast: no MCMC, no PyMC."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import json
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

import casualty_models as cm
from casualty_models.claims import COLUMNS, REQUIRED_COLUMNS, Problem, display_path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SEED_CSV = SEEDS / "ukraine_2022-03.csv"
SEED_FILES = sorted(p for p in SEEDS.iterdir() if p.suffix.lower() in (".csv", ".yaml", ".yml"))

MOD = "Russian Ministry of Defence"
DOD = "US Department of Defense (Pentagon)"

# A valid row used as the base of every bad-file case; its line in a written file is 2.
BASE: dict[str, str] = {
    "source": MOD,
    "source_type": "own",
    "side": "russia",
    "category": "killed",
    "as_of": "2022-03-02",
    "reported": "",
    "period_start": "2022-02-24",
    "value": "498",
    "low": "",
    "high": "",
    "interval_prob": "",
    "citation": "Irish Examiner (AP), 2022-03-02",
    "url": "",
    "notes": "",
    "derived_from": "",
}
FULL_HEADER = ",".join(COLUMNS)


# ------------------------------------------------------------------------------ helpers


def csv_text(*rows: dict[str, str], header: tuple[str, ...] = COLUMNS) -> str:
    """A CSV file: the header and each row (given as overrides of BASE) on its own line."""
    out = [",".join(header)]
    for row in rows:
        cells = {**BASE, **row}
        buf = [_quote(cells.get(col, "")) for col in header]
        out.append(",".join(buf))
    return "\n".join(out) + "\n"


def _quote(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if any(ch in cell for ch in ',"\n') else cell


def write(tmp_path: Path, text: str | bytes, name: str = "claims.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def read_error(source: Any) -> cm.ClaimsError:
    with pytest.raises(cm.ClaimsError) as info:
        cm.read_claims(source)
    return info.value


def only_problem(err: cm.ClaimsError) -> Problem:
    assert len(err.problems) == 1, str(err)
    return err.problems[0]


def assert_names(
    err: cm.ClaimsError,
    origin: Path | str,
    row: int | str | None,
    column: str | None,
    reason: str,
) -> None:
    """The error holds a problem at (row, column) whose printed line names all four."""
    hits = [p for p in err.problems if p.row == row and p.column == column]
    assert hits, f"no problem at row {row!r}, column {column!r} in:\n{err}"
    problem = hits[0]
    assert problem.origin == str(origin)
    assert reason in problem.message
    line = f"  - {problem}"
    assert line in str(err)
    assert str(origin) in line
    if row is not None:
        assert f"row {row}" in line
    if column is not None:
        assert f"column '{column}'" in line


def claim(**kw: Any) -> cm.Claim:
    base: dict[str, Any] = {
        "source": MOD,
        "source_type": "own",
        "side": "russia",
        "category": "killed",
        "as_of": dt.date(2022, 3, 2),
        "period_start": dt.date(2022, 2, 24),
        "value": 498.0,
        "citation": "Irish Examiner (AP), 2022-03-02",
    }
    return cm.Claim(**{**base, **kw})


@pytest.fixture
def seed() -> cm.ClaimSet:
    return cm.read_claims(SEED_CSV)


# -------------------------------------------------------------------------- the seed


def test_seed_claims(seed: cm.ClaimSet) -> None:
    assert len(seed) == 4
    assert [c.kind for c in seed] == ["point", "range", "point", "point"]
    assert [c.describe() for c in seed] == ["12,000", "2,000–4,000", "498", "2,870"]
    assert seed[1].low == 2000 and seed[1].high == 4000 and seed[1].interval_prob is None
    assert [c.source_type for c in seed] == ["enemy", "neutral", "own", "enemy"]
    assert seed.series == [("russia", "killed"), ("ukraine", "killed")]
    assert seed.speakers == [
        ("Ukrainian government", "russia"),
        (DOD, "russia"),
        (MOD, "russia"),
        (MOD, "ukraine"),  # one ministry, two speakers: its own losses and the enemy's
    ]
    assert [c.as_of for c in seed] == [dt.date(2022, 3, 11)] * 2 + [dt.date(2022, 3, 2)] * 2
    assert all(c.reported == c.as_of for c in seed)  # reported defaults to as_of
    assert all(c.period_start == dt.date(2022, 2, 24) for c in seed)
    assert all(c.citation.strip() for c in seed)
    assert seed.origin == str(SEED_CSV)
    assert "4 claims, 2 series, 4 speakers" in repr(seed)


def _raw_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a seed file read without the library, so the check does not depend on it."""
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return list(csv.DictReader(fh))
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return doc["claims"] if isinstance(doc, dict) else doc


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name)
def test_every_seed_row_has_a_citation(path: Path) -> None:
    rows = _raw_rows(path)
    assert rows, f"{path.name} has no claims"
    missing = [i for i, row in enumerate(rows, 1) if not str(row.get("citation") or "").strip()]
    assert not missing, f"{path.name}: data rows {missing} have no citation"


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name)
def test_every_seed_file_validates(path: Path) -> None:
    claims = cm.read_claims(path)
    assert len(claims) == len(_raw_rows(path))


def test_reading_claims_does_not_import_pymc() -> None:
    code = (
        "import sys, casualty_models as cm; "
        f"cm.read_claims({str(SEED_CSV)!r}).to_frame(); "
        "assert 'pymc' not in sys.modules and 'pytensor' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -------------------------------------------------------------- CSV, YAML, DataFrame


YAML_SEED = """\
- source: Ukrainian government
  source_type: enemy
  side: russia
  category: killed
  as_of: 2022-03-11
  period_start: 2022-02-24
  value: 12000
  citation: &ni 'The National Interest, "Talks Stall as Russian Army Besieges Ukrainian
    Cities", Mark Episkopos, March 2022'
- source: US Department of Defense (Pentagon)
  source_type: neutral
  side: russia
  category: killed
  as_of: 2022-03-11
  period_start: 2022-02-24
  low: 2000
  high: 4000
  citation: *ni
- {source: Russian Ministry of Defence, source_type: own, side: russia, category: killed,
   as_of: 2022-03-02, period_start: 2022-02-24, value: 498, citation: *ni}
- {source: Russian Ministry of Defence, source_type: enemy, side: ukraine, category: killed,
   as_of: 2022-03-02, period_start: 2022-02-24, value: 2870, citation: *ni}
"""


def _strip(claims: cm.ClaimSet) -> cm.ClaimSet:
    """The seed without url and notes, as written in YAML_SEED."""
    return cm.ClaimSet(dataclasses.replace(c, url="", notes="") for c in claims)


def test_yaml_list_and_mapping_forms_equal_csv(tmp_path: Path, seed: cm.ClaimSet) -> None:
    as_list = cm.read_claims(write(tmp_path, YAML_SEED, "list.yaml"))
    mapping = "claims:\n" + "".join(f"  {line}\n" for line in YAML_SEED.splitlines())
    as_mapping = cm.read_claims(write(tmp_path, mapping, "mapping.yml"))
    assert as_list == as_mapping == _strip(seed)
    assert as_list.fingerprint == _strip(seed).fingerprint
    assert all(isinstance(c.as_of, dt.date) for c in as_list)


def test_yaml_from_records_equals_csv(tmp_path: Path, seed: cm.ClaimSet) -> None:
    text = yaml.safe_dump(
        [{k: v for k, v in r.items() if v not in (None, "")} for r in seed.to_records()],
        allow_unicode=True,
    )
    assert cm.read_claims(write(tmp_path, text, "seed.yaml")) == seed


def test_dataframe_inputs_equal_csv(seed: cm.ClaimSet) -> None:
    assert cm.read_claims(seed.to_frame()) == seed
    from_pandas = cm.read_claims(pd.read_csv(SEED_CSV))  # NaN for blanks, text dates
    assert from_pandas == seed
    assert from_pandas.fingerprint == seed.fingerprint
    assert from_pandas.origin == "<DataFrame>"
    assert cm.read_claims(seed) is seed


def test_csv_tolerates_bom_blank_lines_and_column_order(tmp_path: Path, seed: cm.ClaimSet) -> None:
    text = SEED_CSV.read_text(encoding="utf-8")
    header, *rows = text.splitlines()
    frame = pd.read_csv(SEED_CSV, dtype=str, keep_default_na=False)
    frame = frame[list(reversed(frame.columns))]
    reordered = write(tmp_path, frame.to_csv(index=False), "reordered.csv")
    assert cm.read_claims(reordered) == seed
    bom = write(
        tmp_path, ("\ufeff" + header + "\n\n" + "\n\n".join(rows) + "\n\n").encode(), "bom.CSV"
    )
    assert cm.read_claims(bom) == seed


def test_multiline_cell_reports_first_line_of_record(tmp_path: Path) -> None:
    bad = {"as_of": "2022-03-0x", "notes": "two\nlines"}  # the record spans lines 3-4
    path = write(tmp_path, csv_text({}, bad, {"side": "ukraine", "as_of": "2022-03-0y"}))
    err = read_error(path)
    assert [p.row for p in err.problems] == [3, 5]
    assert_names(err, path, 3, "as_of", "'2022-03-0x' is not a date")


# --------------------------------------------------------------- round trip, fingerprint


def test_to_csv_round_trip(tmp_path: Path, seed: cm.ClaimSet) -> None:
    out = tmp_path / "sub" / "out.csv"
    text = seed.to_csv(out)
    assert out.read_text(encoding="utf-8") == text
    again = cm.read_claims(out)
    assert again == seed and again.fingerprint == seed.fingerprint
    assert seed.to_csv() == text


def test_to_csv_round_trip_awkward_values(tmp_path: Path) -> None:
    claims = cm.ClaimSet(
        [
            claim(
                value=None,
                low=1234.5,
                high=1e6,
                interval_prob=0.9,
                notes='quote " comma , and\nnewline',
                reported=dt.date(2022, 3, 5),
            ),
            claim(
                side="ukraine", source_type="enemy", value=1 / 3, url="https://example.org/a?b=1"
            ),
            claim(source="Obituary count", source_type="tally", value=None, low=557.0),
            claim(source="Leak", source_type="neutral", value=None, high=9000.0, period_start=None),
        ]
    )
    again = cm.read_claims(write(tmp_path, claims.to_csv(), "awkward.csv"))
    assert again == claims and again.fingerprint == claims.fingerprint
    assert [c.kind for c in again] == ["range", "point", "floor", "ceiling"]


def test_fingerprint_is_stable(tmp_path: Path, seed: cm.ClaimSet) -> None:
    fp = seed.fingerprint
    assert re.fullmatch(r"[0-9a-f]{64}", fp)
    assert cm.read_claims(SEED_CSV).fingerprint == fp
    assert seed.fingerprint == fp


def test_fingerprint_literal() -> None:
    """Saved estimates store the fingerprint: its canonical form must not drift."""
    claims = cm.ClaimSet([claim(), claim(side="ukraine", source_type="enemy", value=2870)])
    assert claims.fingerprint == (
        "d4793616eeb5e019dd0987803b44caa6664cf2854261b1823ad4711ffb7b4857"
    )
    # the documented canonical form: SHA-256 of the records as compact, key-sorted JSON,
    # with the columns added later (derived_from) only where they are set
    records = [
        {k: v for k, v in r.items() if k != "derived_from" or v} for r in claims.to_records()
    ]
    payload = json.dumps(records, sort_keys=True, separators=(",", ":"))
    assert hashlib.sha256(payload.encode("ascii")).hexdigest() == claims.fingerprint


@pytest.mark.parametrize(
    "change",
    [
        {"value": 499.0},
        {"value": None, "low": 498.0},
        {"as_of": dt.date(2022, 3, 1)},
        {"reported": dt.date(2022, 3, 3)},
        {"period_start": None},
        {"category": "killed in action"},
        {"citation": "another citation"},
        {"notes": "a note"},
    ],
    ids=lambda d: ",".join(d),
)
def test_fingerprint_changes_with_any_field(seed: cm.ClaimSet, change: dict[str, Any]) -> None:
    changed = cm.ClaimSet([*seed[:2], dataclasses.replace(seed[2], **change), *seed[3:]])
    assert changed.fingerprint != seed.fingerprint


def test_fingerprint_changes_with_order(seed: cm.ClaimSet) -> None:
    swapped = cm.ClaimSet([seed[1], seed[0], *seed[2:]])
    assert swapped.fingerprint != seed.fingerprint
    assert swapped != seed


def test_fingerprint_ignores_origin_and_number_type() -> None:
    a = cm.ClaimSet([claim(value=498)], origin="a")
    b = cm.ClaimSet([claim(value=498.0)], origin="b")
    assert a == b and a.fingerprint == b.fingerprint


# ------------------------------------------------------------------------ immutability


def test_claim_is_frozen(seed: cm.ClaimSet) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        seed[0].value = 1.0  # type: ignore[misc]
    hash(seed[0])


def test_claimset_has_no_mutators(seed: cm.ClaimSet) -> None:
    for name in (
        "append",
        "extend",
        "insert",
        "remove",
        "pop",
        "clear",
        "sort",
        "reverse",
        "__setitem__",
        "__delitem__",
        "__iadd__",
    ):
        assert not hasattr(seed, name), name
    with pytest.raises(TypeError):
        seed[0] = seed[1]  # type: ignore[index]
    with pytest.raises(TypeError):
        del seed[0]  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        seed.extra = 1  # type: ignore[attr-defined]
    assert hash(seed) == hash(cm.read_claims(SEED_CSV))


def test_add_and_filter_return_new_sets(seed: cm.ClaimSet) -> None:
    before = (list(seed), seed.fingerprint)
    new = claim(category="wounded", value=1597.0, period_start=None)
    bigger = seed.add(new)
    assert len(bigger) == 5 and bigger[-1] == new and list(bigger[:4]) == list(seed)
    subset = seed.filter(side="ukraine")
    assert isinstance(subset, cm.ClaimSet) and isinstance(seed[1:3], cm.ClaimSet)
    assert subset is not seed and bigger is not seed
    assert (list(seed), seed.fingerprint) == before
    assert bigger.origin == subset.origin == seed.origin


def test_add_accepts_sets_and_revalidates(seed: cm.ClaimSet) -> None:
    other = cm.ClaimSet([claim(category="wounded", value=1597.0)])
    assert (
        len(
            seed.add(
                other, claim(category="captured", side="ukraine", source_type="enemy", value=572.0)
            )
        )
        == 6
    )
    # problems name where each claim was read: the seed file's line, the added claim
    with pytest.raises(cm.ClaimsError, match=f"added claims, row 1: duplicate of {SEED_CSV} row 2"):
        seed.add(seed[0])
    # another figure of one speaker for the same dates is allowed, and noted by place (the
    # file named as outputs name it: relative to the working directory)
    both = seed.add(dataclasses.replace(seed[2], value=500.0))
    shown = display_path(str(SEED_CSV))
    assert not Path(shown).is_absolute()
    assert f"{shown}, row 4" in both.notes()[0] and "added claims, row 1" in both.notes()[0]
    with pytest.raises(cm.ClaimsError, match=f"<mine>, row 1: duplicate of {SEED_CSV} row 3"):
        seed.add(cm.ClaimSet([seed[1]], origin="<mine>"))
    assert seed.add(other).origin == f"{SEED_CSV} + <claims>"
    # a filtered set keeps the file rows of its claims
    later = seed.filter(side="ukraine")
    with pytest.raises(cm.ClaimsError, match=f"duplicate of {SEED_CSV} row "):
        later.add(later[0])
    with pytest.raises(cm.ClaimsError, match="one speaker has one source_type"):
        seed.add(claim(category="wounded", source_type="neutral", value=1597.0))
    with pytest.raises(TypeError):
        cm.ClaimSet([seed[0], "not a claim"])  # type: ignore[list-item]


# ------------------------------------------------------------------------------- filter


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({}, [0, 1, 2, 3]),
        ({"side": "ukraine"}, [3]),
        ({"side": ["russia", "ukraine"]}, [0, 1, 2, 3]),
        ({"category": "killed"}, [0, 1, 2, 3]),
        ({"category": "wounded"}, []),
        ({"source": MOD}, [2, 3]),
        ({"source": ("Ukrainian government", DOD)}, [0, 1]),
        ({"source_type": "neutral"}, [1]),
        ({"source_type": {"own", "enemy"}}, [0, 2, 3]),
        ({"start": "2022-03-03"}, [0, 1]),
        ({"end": dt.date(2022, 3, 2)}, [2, 3]),
        ({"start": "2022-03-02", "end": "2022-03-02"}, [2, 3]),
        ({"reported_by": "2022-03-10"}, [2, 3]),
        ({"reported_by": dt.date(2022, 3, 11)}, [0, 1, 2, 3]),
        ({"side": "russia", "source_type": "own"}, [2]),
    ],
)
def test_filter(seed: cm.ClaimSet, criteria: dict[str, Any], expected: list[int]) -> None:
    assert list(seed.filter(**criteria)) == [seed[i] for i in expected]


def test_filter_reported_by_uses_publication_date() -> None:
    late = claim(reported=dt.date(2022, 3, 12))
    claims = cm.ClaimSet([late])
    assert len(claims.filter(reported_by="2022-03-11")) == 0
    assert len(claims.filter(end="2022-03-02", reported_by="2022-03-12")) == 1


# ------------------------------------------------------------------ row-level problems


ROW_CASES = [
    # (id, overrides of BASE for the bad row, column, reason)
    ("empty-required", {"source": ""}, "source", "this column is required"),
    ("empty-as_of", {"as_of": ""}, "as_of", "this column is required"),
    ("unparseable-date", {"as_of": "2 March 2022"}, "as_of", "not a date in YYYY-MM-DD form"),
    ("us-date", {"as_of": "03/02/2022"}, "as_of", "not a date in YYYY-MM-DD form"),
    ("impossible-date", {"as_of": "2022-02-30"}, "as_of", "not a real calendar date"),
    (
        "reported-before-as_of",
        {"reported": "2022-03-01"},
        "reported",
        "published 2022-03-01 before the date it refers to (as_of 2022-03-02)",
    ),
    ("far-future", {"as_of": "2999-01-01"}, "as_of", "2999-01-01 is in the future"),
    ("far-future-reported", {"reported": "2999-01-01"}, "reported", "is in the future"),
    (
        "period_start-after-as_of",
        {"period_start": "2022-03-03"},
        "period_start",
        "2022-03-03 is after as_of 2022-03-02",
    ),
    ("negative", {"value": "-498"}, "value", "must be a positive count, got -498"),
    ("zero", {"value": "0"}, "value", "must be a positive count, got 0"),
    ("negative-low", {"value": "", "low": "-1"}, "low", "must be a positive count"),
    ("non-numeric", {"value": "about 500"}, "value", "'about 500' is not a number"),
    (
        "thousands-separator",
        {"value": "1,000"},
        "value",
        "'1,000' is not a number (write digits without thousands separators)",
    ),
    ("nan", {"value": "nan"}, "value", "is not a finite number"),
    ("inf", {"value": "inf"}, "value", "is not a finite number"),
    ("minus-inf", {"high": "-inf", "value": ""}, "high", "is not a finite number"),
    (
        "low-above-high",
        {"value": "", "low": "4000", "high": "2000"},
        "low",
        "low 4000 is greater than high 2000",
    ),
    (
        "central-outside-its-interval",
        {"value": "5000", "low": "2000", "high": "4000"},
        "value",
        "the central estimate 5000 lies outside its interval 2000–4000",
    ),
    ("value-and-floor", {"value": "3000", "low": "2000"}, "value", "needs both ends"),
    ("no-figure", {"value": ""}, "value", "missing: give value, or low and/or high"),
    (
        "prob-above-1",
        {"value": "", "low": "2000", "high": "4000", "interval_prob": "1.5"},
        "interval_prob",
        "must be strictly between 0 and 1, got 1.5",
    ),
    (
        "prob-1",
        {"value": "", "low": "2000", "high": "4000", "interval_prob": "1"},
        "interval_prob",
        "strictly between 0 and 1",
    ),
    (
        "prob-0",
        {"value": "", "low": "2000", "high": "4000", "interval_prob": "0"},
        "interval_prob",
        "strictly between 0 and 1",
    ),
    (
        "prob-on-floor",
        {"value": "", "low": "2000", "interval_prob": "0.9"},
        "interval_prob",
        "only applies to an interval with both low and high",
    ),
    ("prob-on-point", {"interval_prob": "0.9"}, "interval_prob", "only applies to an interval"),
    (
        "unknown-source_type",
        {"source_type": "government"},
        "source_type",
        "unknown source_type 'government'; use one of own, enemy, neutral, tally, independent",
    ),
]


@pytest.mark.parametrize(
    ("bad", "column", "reason"), [c[1:] for c in ROW_CASES], ids=[c[0] for c in ROW_CASES]
)
def test_bad_cell(tmp_path: Path, bad: dict[str, str], column: str, reason: str) -> None:
    other_side = {"side": "ukraine", "source_type": "enemy"}  # never a duplicate of row 2
    path = write(tmp_path, csv_text({}, {**other_side, **bad}))
    err = read_error(path)
    assert isinstance(err, ValueError)
    only_problem(err)
    assert_names(err, path, 3, column, reason)
    assert str(err).startswith("1 problem in claims:\n")


def test_dates_today_and_tomorrow_are_allowed(tmp_path: Path) -> None:
    today = dt.date.today()
    path = write(
        tmp_path,
        csv_text(
            {"as_of": today.isoformat(), "reported": (today + dt.timedelta(days=1)).isoformat()}
        ),
    )
    assert cm.read_claims(path)[0].as_of == today
    path = write(tmp_path, csv_text({"as_of": (today + dt.timedelta(days=2)).isoformat()}))
    assert_names(read_error(path), path, 2, "as_of", "is in the future")


def test_one_day_window_is_allowed(tmp_path: Path) -> None:
    path = write(tmp_path, csv_text({"period_start": "2022-03-02"}))
    assert cm.read_claims(path)[0].period_start == dt.date(2022, 3, 2)


def test_text_cells_are_stripped(tmp_path: Path) -> None:
    path = write(tmp_path, csv_text({"source": "  Russian Ministry of Defence ", "value": " 498 "}))
    assert cm.read_claims(path)[0] == claim()


# -------------------------------------------------------------------- header problems


@pytest.mark.parametrize(
    ("header", "column", "reason"),
    [
        (tuple(c for c in COLUMNS if c != "side"), "side", "required column is missing"),
        ((*COLUMNS, "confidence"), "confidence", "unknown column; allowed: source, "),
        ((*COLUMNS, "value"), "value", "column appears more than once"),
        (
            tuple(c for c in COLUMNS if c not in ("value", "low", "high")),
            "value",
            "no figure columns: need value, or low/high",
        ),
    ],
    ids=["missing-required", "unknown", "duplicate", "no-figure-columns"],
)
def test_bad_header(tmp_path: Path, header: tuple[str, ...], column: str, reason: str) -> None:
    path = write(tmp_path, csv_text({}, header=header))
    err = read_error(path)
    only_problem(err)
    assert_names(err, path, "header", column, reason)


def test_minimal_header_is_enough(tmp_path: Path) -> None:
    header = (*REQUIRED_COLUMNS, "value")
    assert len(cm.read_claims(write(tmp_path, csv_text({}, header=header)))) == 1


def test_every_missing_required_column_is_listed(tmp_path: Path) -> None:
    path = write(tmp_path, "value,citation\n498,x\n")
    err = read_error(path)
    assert [p.column for p in err.problems] == list(REQUIRED_COLUMNS)
    assert {p.row for p in err.problems} == {"header"}


# ---------------------------------------------------------------- file-level problems


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "the file is empty"),
        ("\n  \n", "the file is empty"),
        (FULL_HEADER + "\n", "no claims: the file has only a header"),
        (FULL_HEADER + "\n\n\n", "no claims: the file has only a header"),
    ],
    ids=["empty", "whitespace", "header-only", "header-and-blank-lines"],
)
def test_file_without_claims(tmp_path: Path, text: str, reason: str) -> None:
    path = write(tmp_path, text)
    err = read_error(path)
    assert_names(err, path, None, None, reason)
    only_problem(err)


def test_wrong_field_count(tmp_path: Path) -> None:
    text = csv_text({}) + ",".join(map(_quote, BASE.values())) + ",extra\n" + "a,b\n"
    path = write(tmp_path, text)
    err = read_error(path)
    assert len(err.problems) == 2
    n = len(COLUMNS)
    assert_names(err, path, 3, None, f"has {n + 1} fields but the header has {n}")
    assert_names(err, path, 4, None, f"has 2 fields but the header has {n}")


def test_duplicate_rows(tmp_path: Path) -> None:
    path = write(tmp_path, csv_text({}, {"side": "ukraine", "source_type": "enemy"}, {}))
    err = read_error(path)
    only_problem(err)
    assert_names(err, path, 4, None, "duplicate of row 2")


def test_same_day_figures_of_one_source_are_kept_and_noted(tmp_path: Path) -> None:
    """Two outlets quoting one ministry the same day: both kept, a note, no error."""
    path = write(tmp_path, csv_text({}, {"value": "", "low": "400", "high": "600"}))
    claims = cm.read_claims(path)
    assert len(claims) == 2
    (note,) = claims.notes()
    assert f"'{MOD}' gives 2 figures of russia killed as of 2022-03-02" in note
    shown = display_path(str(path))  # outside the working directory: its bare name
    assert f"498 ({shown}, row 2), 400–600 ({shown}, row 3)" in note
    assert "published 2022-03-02" in note and "read together as one statement" in note


def test_revision_with_its_own_reported_date_is_not_a_conflict(tmp_path: Path) -> None:
    path = write(tmp_path, csv_text({}, {"value": "500", "reported": "2022-03-05"}))
    assert len(cm.read_claims(path)) == 2


def test_same_figure_from_another_outlet_is_kept_and_noted(tmp_path: Path) -> None:
    path = write(tmp_path, csv_text({}, {"citation": "another outlet"}))
    claims = cm.read_claims(path)
    assert len(claims) == 2 and len(claims.notes()) == 1
    # while the very same row twice is still a duplicate
    err = read_error(write(tmp_path, csv_text({}, {}), "twice.csv"))
    only_problem(err)


def test_derived_from_must_name_a_source_of_the_set(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        csv_text(
            {},
            {"source": "UK MoD", "source_type": "neutral", "derived_from": MOD},
            {"source": "Echo", "source_type": "neutral", "derived_from": "Nobody"},
        ),
    )
    err = read_error(path)
    only_problem(err)
    assert_names(err, path, 4, "derived_from", "names 'Nobody', the source of no claim in the set")
    with pytest.raises(cm.ClaimsError, match="names the claim's own source"):
        claim(derived_from=MOD)


def test_one_speaker_two_source_types(tmp_path: Path) -> None:
    path = write(
        tmp_path, csv_text({}, {"category": "wounded", "value": "1597", "source_type": "neutral"})
    )
    err = read_error(path)
    only_problem(err)
    assert_names(
        err,
        path,
        3,
        "source_type",
        f"'{MOD}' about 'russia' is 'neutral' here but 'own' in row 2; "
        "one speaker has one source_type",
    )


def test_wrong_encoding(tmp_path: Path) -> None:
    text = csv_text({}, {"side": "ukraine", "source_type": "enemy", "notes": "Besançon"})
    path = write(tmp_path, text.encode("latin-1"))
    err = read_error(path)
    only_problem(err)
    assert_names(err, path, "3 (line)", None, "not valid UTF-8")
    assert "save the file as UTF-8" in str(err)


def test_unknown_suffix(tmp_path: Path) -> None:
    path = write(tmp_path, csv_text({}), "claims.txt")
    err = read_error(path)
    only_problem(err)
    assert_names(err, path, None, None, "unknown file type '.txt'; use .csv, .yaml or .yml")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
        cm.read_claims(tmp_path / "nope.csv")
    with pytest.raises(FileNotFoundError):
        cm.read_claims(tmp_path)  # a directory is not a claims file


def test_many_problems_reported_at_once(tmp_path: Path) -> None:
    ua = {"side": "ukraine", "source_type": "enemy", "value": "2870"}
    text = csv_text(
        {},  # line 2: fine
        {**ua, "as_of": "2022-02-30"},  # line 3: impossible date
        {**ua, "category": "wounded", "value": "-5", "source_type": "gov"},  # line 4: two
        {**ua, "category": "captured", "value": "1,000"},  # line 5: thousands separator
        {},  # line 6: duplicate of line 2
        {"value": "", "low": "900", "high": "100", "category": "missing"},  # line 7
    )
    text += "a,b,c\n"  # line 8: wrong field count
    path = write(tmp_path, text)
    err = read_error(path)
    found = [(p.row, p.column) for p in err.problems]
    assert found == [
        (3, "as_of"),
        (4, "source_type"),
        (4, "value"),
        (5, "value"),
        (6, None),
        (7, "low"),
        (8, None),
    ]
    assert len(err.problems) == 7
    assert str(err).startswith("7 problems in claims:\n")
    assert all(str(path) in line for line in str(err).splitlines()[1:])


# ----------------------------------------------------------------------------- YAML


def test_yaml_is_safe_loaded(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    payload = (
        "- !!python/object/apply:builtins.exec\n"
        f'  - "import pathlib; pathlib.Path({str(marker)!r}).touch()"\n'
    )
    path = write(tmp_path, payload, "evil.yaml")
    err = read_error(path)
    assert_names(err, path, "1 (line)", None, "not valid YAML")
    assert not marker.exists()
    path = write(tmp_path, "- !!python/object:casualty_models.Claim {source: x}\n", "evil2.yml")
    assert "not valid YAML" in only_problem(read_error(path)).message


@pytest.mark.parametrize(
    ("text", "row", "column", "reason"),
    [
        ("source: x\n", None, None, "expected a list of claims"),
        ("claims: [1]\nmeta: 2\n", None, None, "expected a list of claims"),
        ("- 3\n", 1, None, "is not a mapping of column: value"),
        ("- [a\n", "2 (line)", None, "not valid YAML"),
        ("", None, None, "the file is empty"),
        (
            "- {source: A, source_type: own, side: x, category: killed, as_of: 2022-02-30, "
            "value: 5}\n",
            1,
            "as_of",
            "'2022-02-30' is not a real calendar date",
        ),
        (
            "- {source: A, source_type: own, side: x, category: killed, as_of: 2022-03-02, "
            "low: .nan, high: 5}\n",
            1,
            "low",
            "is not a finite number",
        ),
        (
            "- {source: A, source_type: own, side: x, category: killed, as_of: 2022-03-02, "
            "value: '1,000'}\n",
            1,
            "value",
            "thousands separators",
        ),
        (
            "- {source: A, source_type: own, side: x, category: killed, as_of: 2022-03-02, "
            "value: yes}\n",
            1,
            "value",
            "True is not a number",
        ),
        (
            "- {source: A, source_type: own, side: x, category: killed, as_of: 2022-03-02 10:00, "
            "value: 5}\n",
            1,
            "as_of",
            "not a date in YYYY-MM-DD form",
        ),
        (
            "- {source: A, source_type: own, side: x, category: killed, as_of: 2022-03-02, "
            "value: 5, confidence: high}\n",
            1,
            "confidence",
            "unknown column",
        ),
        (
            "- {source_type: own, side: x, category: killed, as_of: 2022-03-02, value: 5}\n",
            1,
            "source",
            "this column is required",
        ),
    ],
    ids=[
        "mapping-without-claims",
        "claims-plus-other-keys",
        "item-not-mapping",
        "syntax",
        "empty",
        "impossible-date",
        "nan",
        "thousands",
        "boolean",
        "datetime",
        "unknown-key",
        "missing-key",
    ],
)
def test_bad_yaml(
    tmp_path: Path, text: str, row: int | str | None, column: str | None, reason: str
) -> None:
    path = write(tmp_path, text, "claims.yaml")
    err = read_error(path)
    only_problem(err)
    assert_names(err, path, row, column, reason)


def test_yaml_wrong_encoding(tmp_path: Path) -> None:
    path = write(tmp_path, YAML_SEED.replace("Cities", "Citiés").encode("latin-1"), "l1.yaml")
    assert "not valid UTF-8" in only_problem(read_error(path)).message


# ------------------------------------------------------------------------- DataFrames


def test_dataframe_problems_name_the_index_label(seed: cm.ClaimSet) -> None:
    frame = seed.to_frame()
    frame.loc[1, "low"] = -2000.0
    frame.loc[3, "value"] = math.inf
    err = read_error(frame)
    assert [(p.row, p.column) for p in err.problems] == [("1", "low"), ("3", "value")]
    assert_names(err, "<DataFrame>", "1", "low", "must be a positive count, got -2000")


def test_dataframe_header_problems(seed: cm.ClaimSet) -> None:
    frame = seed.to_frame().drop(columns=["side"]).assign(extra=1)
    err = read_error(frame)
    assert {(p.row, p.column) for p in err.problems} == {("header", "extra"), ("header", "side")}
    assert (
        "no claims"
        in only_problem(read_error(frame.iloc[0:0].drop(columns="extra").assign(side=[]))).message
    )


def test_dataframe_with_timestamps_and_times(seed: cm.ClaimSet) -> None:
    frame = seed.to_frame()
    assert pd.api.types.is_datetime64_any_dtype(frame["as_of"])
    frame.loc[0, "as_of"] = pd.Timestamp("2022-03-11 12:00")
    assert_names(read_error(frame), "<DataFrame>", "0", "as_of", "has a time of day")


# ---------------------------------------------------------------- Claim built directly


CLAIM_CASES: list[tuple[dict[str, Any], str, str]] = [
    ({"value": -1}, "value", "must be a positive count"),
    ({"value": 0}, "value", "must be a positive count"),
    ({"value": "abc"}, "value", "is not a number"),
    ({"value": math.inf}, "value", "is not a finite number"),
    ({"value": math.nan}, "value", "is not a finite number"),
    ({"value": True}, "value", "is not a number"),
    ({"value": None}, "value", "missing"),
    ({"low": 2000}, "value", "needs both ends"),
    ({"value": None, "low": 5, "high": 1}, "low", "greater than high"),
    ({"interval_prob": 0.9}, "interval_prob", "only applies to an interval"),
    (
        {"value": None, "low": 1, "high": 5, "interval_prob": 2},
        "interval_prob",
        "strictly between 0 and 1",
    ),
    ({"as_of": None}, "as_of", "every claim needs an as_of date"),
    ({"as_of": "2022-02-30"}, "as_of", "not a real calendar date"),
    ({"as_of": "yesterday"}, "as_of", "not a date in YYYY-MM-DD form"),
    ({"as_of": dt.date(2999, 1, 1)}, "as_of", "is in the future"),
    ({"reported": dt.date(2022, 3, 1)}, "reported", "before the date it refers to"),
    ({"period_start": dt.date(2022, 3, 5)}, "period_start", "is after as_of"),
    ({"source": ""}, "source", "every claim needs a source"),
    ({"side": "  "}, "side", "every claim needs a side"),
    ({"category": None}, "category", "every claim needs a category"),
    ({"source_type": "government"}, "source_type", "unknown source_type"),
    ({"citation": None}, "citation", "must be text"),
]


@pytest.mark.parametrize(
    ("bad", "column", "reason"),
    CLAIM_CASES,
    ids=[",".join(f"{k}={v!r}" for k, v in bad.items()) for bad, _, _ in CLAIM_CASES],
)
def test_claim_constructed_directly_is_validated(
    bad: dict[str, Any], column: str, reason: str
) -> None:
    with pytest.raises(cm.ClaimsError) as info:
        claim(**bad)
    assert_names(info.value, "Claim", None, column, reason)


def test_claim_normalises_like_a_file(tmp_path: Path) -> None:
    direct = claim(as_of="2022-03-02", period_start=pd.Timestamp("2022-02-24"), value=498)
    assert direct == claim()
    assert isinstance(direct.value, float) and type(direct.period_start) is dt.date
    read = cm.read_claims(write(tmp_path, csv_text({})))
    assert read[0] == direct
    assert read.fingerprint == cm.ClaimSet([direct]).fingerprint
    with pytest.raises(cm.ClaimsError, match="has a time of day"):
        claim(as_of=dt.datetime(2022, 3, 2, 9, 30))


def test_claimset_constructor_validates_across_claims() -> None:
    with pytest.raises(cm.ClaimsError) as info:
        cm.ClaimSet(
            [
                claim(),
                claim(),
                claim(value=500.0),
                claim(side="x", source_type="enemy"),
                claim(side="x"),
            ],
            origin="mine",
        )
    problems = info.value.problems
    assert [(p.origin, p.row) for p in problems] == [("mine", 2), ("mine", 5)]
    assert "duplicate of row 1" in problems[0].message
    assert "one speaker has one source_type" in problems[1].message


def test_problem_str() -> None:
    assert str(Problem("f.csv", 3, "value", "bad")) == "f.csv, row 3, column 'value': bad"
    assert str(Problem("f.csv", None, None, "bad")) == "f.csv: bad"
    err = cm.ClaimsError([Problem("f.csv", 3, "value", "bad")])
    assert str(err) == "1 problem in claims:\n  - f.csv, row 3, column 'value': bad"


def test_describe_and_records() -> None:
    assert claim(value=None, low=557.0).describe() == "≥557"
    assert claim(value=None, high=9000.0).describe() == "≤9,000"
    assert claim(value=12.5).describe() == "12.5"
    record = claim().to_record()
    assert list(record) == list(COLUMNS)
    assert record["as_of"] == "2022-03-02" and record["reported"] == "2022-03-02"


# ------------------------------------------------------- claims as people publish them
def test_central_estimate_with_its_interval(tmp_path: Path) -> None:
    """ "4,645 (95% CI 793–8,498)": value with low and high, with or without a level."""
    path = write(
        tmp_path,
        csv_text(
            {
                "source": "Survey",
                "source_type": "independent",
                "value": "4645",
                "low": "793",
                "high": "8498",
                "interval_prob": "0.95",
            },
            {
                "source": "Registry",
                "source_type": "independent",
                "value": "47000",
                "low": "40000",
                "high": "55000",
            },
        ),
    )
    survey, registry = cm.read_claims(path)
    assert survey.kind == registry.kind == "central"
    assert survey.describe() == "4,645 (793–8,498)"
    assert registry.interval_prob is None  # the model takes 95% (DEFAULT_INTERVAL_PROB)
    assert cm.read_claims(write(tmp_path, cm.ClaimSet([survey, registry]).to_csv(), "b.csv")) == (
        cm.ClaimSet([survey, registry])
    )


@pytest.mark.parametrize(
    ("text", "first", "precision", "last"),
    [
        ("2023-07", dt.date(2023, 7, 1), "month", dt.date(2023, 7, 31)),
        ("2024-02", dt.date(2024, 2, 1), "month", dt.date(2024, 2, 29)),
        ("2023-12", dt.date(2023, 12, 1), "month", dt.date(2023, 12, 31)),
        ("2023", dt.date(2023, 1, 1), "year", dt.date(2023, 12, 31)),
        ("2023-07-15", dt.date(2023, 7, 15), "day", dt.date(2023, 7, 15)),
    ],
)
def test_partial_dates_keep_their_precision(text, first, precision, last) -> None:
    c = claim(as_of=text, reported=text, period_start="2022")
    assert (c.as_of, c.as_of_precision, c.end()) == (first, precision, last)
    assert c.period_start_precision == "year" and c.end("period_start") == dt.date(2022, 12, 31)
    assert c.to_record()["as_of"] == text and c.to_record()["period_start"] == "2022"


def test_partial_dates_are_validated(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        csv_text(
            {"as_of": "2023-13"},
            {"as_of": "2023-7"},
            {"as_of": "2023-07", "reported": "2023-06"},
            {"as_of": "2023-07", "reported": "2023-07"},  # fine: same month
        ),
    )
    err = read_error(path)
    assert [(p.row, p.column) for p in err.problems] == [
        (2, "as_of"),
        (3, "as_of"),
        (4, "reported"),
    ]
    assert "not a real month" in err.problems[0].message
    assert "YYYY-MM / YYYY" in err.problems[1].message
    assert (
        "published 2023-06 before the date it refers to (as_of 2023-07)" in err.problems[2].message
    )


def test_a_vintage_counts_a_month_dated_claim_once_the_month_has_passed() -> None:
    c = claim(as_of="2023-07", reported="2023-07")
    claims = cm.ClaimSet([c])
    assert len(claims.filter(reported_by="2023-07-30")) == 0
    assert len(claims.filter(reported_by="2023-07-31")) == 1
