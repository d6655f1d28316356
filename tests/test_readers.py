"""Readers of foreign claim layouts: the PNAS replication data of Radford et al. (2023).

Fast: small raw-format CSV snippets in tmp_path, plus one read of the shipped file
(about 0.1 s).
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest

import casualty_models as cm
from casualty_models.claims import ClaimsError, Problem
from casualty_models.readers import radford2023 as readers

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "seeds" / "radford2023" / "replication-data-pnas.csv"

HEADER = (
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


def raw(
    days: int | str,
    count: float | str,
    source: str = "UA Source",
    country: str = "Russia",
    category: str = "Military Deaths",
    *,
    frame: str = "Cumulative",
    minimum: int | str = 0,
    maximum: int | str = 0,
) -> tuple[str, ...]:
    """One raw row; loss_type and source_target follow the other columns, as in the data."""
    return (
        str(days),
        str(count),
        f"{category}-{country}",
        source,
        frame,
        country,
        str(minimum),
        str(maximum),
        category,
        f"{source}-{country}",
    )


def write(tmp_path: Path, rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER) -> Path:
    """A raw-format CSV; the i-th row (0-based) is on line i + 2."""
    path = tmp_path / "replication-data-pnas.csv"
    lines = [",".join(f'"{h}"' for h in header)]
    lines += [",".join(cells) for cells in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read(path: Path) -> tuple[cm.ClaimSet, pd.DataFrame, str]:
    """Claims, report and the text of the single ReaderNote."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        claims, report = readers.read_radford2023(path)
    notes = [w for w in caught if issubclass(w.category, cm.ReaderNote)]
    assert len(notes) == 1, [str(w.message) for w in caught]
    return claims, report, str(notes[0].message)


def problems_of(path: Path) -> list[Problem]:
    with pytest.raises(ClaimsError) as err:
        readers.read_radford2023(path)
    return list(err.value.problems)


# ---------------------------------------------------------------------------- mapping


def test_a_point_row_becomes_a_cited_claim(tmp_path):
    path = write(tmp_path, [raw(46, 19300)])
    claims, report, _ = read(path)
    (c,) = claims
    assert (c.source, c.source_type, c.side, c.category) == (
        "UA Source",
        "enemy",
        "russia",
        "killed",
    )
    assert c.as_of == dt.date(2022, 4, 10)  # day 46; day 1 = 2022-02-24
    assert c.period_start == dt.date(2022, 2, 24)
    assert c.reported == c.as_of  # the data has no publication date
    assert c.value == 19300 and c.kind == "point"
    assert c.citation == (
        'Radford et al. (2023), "Estimating conflict losses and reporting biases", PNAS, '
        "replication data, replication-data-pnas.csv row 2"
    )
    assert c.url == "https://github.com/benradford/estimating-conflict-losses"
    assert c.notes == ""
    assert report.to_dict(orient="list") == {
        "row": [2],
        "category": ["Military Deaths"],
        "action": ["claim"],
        "claim": [0],
    }


def test_day_one_is_the_first_day_of_the_war(tmp_path):
    (c,) = read(write(tmp_path, [raw(1, 100)]))[0]
    assert c.as_of == dt.date(2022, 2, 24)


@pytest.mark.parametrize(
    ("source", "country", "expected"),
    [
        ("UA Source", "Ukraine", "own"),
        ("RU Source", "Russia", "own"),
        ("UA Source", "Russia", "enemy"),
        ("RU Source", "Ukraine", "enemy"),
        ("US Source", "Russia", "neutral"),
        ("GB Source", "Russia", "neutral"),
        ("United Nations", "Ukraine", "neutral"),
        ("OSI", "Ukraine", "neutral"),
        ("Other", "Russia", "neutral"),
    ],
)
def test_source_type_follows_who_speaks_about_whom(tmp_path, source, country, expected):
    (c,) = read(write(tmp_path, [raw(10, 500, source, country)]))[0]
    assert c.source == source  # as written
    assert c.side == country.lower()
    assert c.source_type == expected


def test_personnel_categories_map_and_the_rest_is_reported_not_read(tmp_path):
    path = write(
        tmp_path,
        [
            raw(10, 500, category="Military Deaths"),
            raw(10, 900, category="Military Injuries"),
            raw(10, 1400, category="Military Casualties"),
            raw(10, 56, category="Tanks"),
            raw(11, 60, category="Tanks"),
            raw(10, 7, country="Ukraine", category="Civilian Deaths"),
        ],
    )
    claims, report, note = read(path)
    assert [c.category for c in claims] == ["killed", "wounded", "casualties"]
    assert report["action"].tolist() == ["claim"] * 3 + ["not personnel"] * 3
    assert report["claim"].isna().tolist() == [False] * 3 + [True] * 3
    assert "6 rows, 3 about military personnel, read into 3 claims" in note
    assert "Not read (not about military personnel): 3 rows: Tanks 2, Civilian Deaths 1." in note


def test_a_day_row_counts_one_day(tmp_path):
    claims, _, _ = read(write(tmp_path, [raw(37, 280, frame="Day"), raw(37, 17700)]))
    day, cumulative = claims
    assert day.period_start == day.as_of == dt.date(2022, 4, 1)
    assert cumulative.period_start == dt.date(2022, 2, 24)  # a different window: two claims


def test_a_day_row_of_day_one_is_the_same_window_as_a_cumulative_one(tmp_path):
    claims, report, _ = read(write(tmp_path, [raw(1, 100, frame="Day"), raw(1, 100)]))
    (c,) = claims
    assert c.period_start == c.as_of == dt.date(2022, 2, 24)
    assert report["action"].tolist() == ["claim", "duplicate"]


# ---------------------------------------------------------------------------- bounds


def test_a_floor_and_a_ceiling_become_one_range(tmp_path):
    path = write(
        tmp_path,
        [
            raw(13, 2000, "US Source", minimum=1),
            raw(14, 5000, "US Source"),
            raw(13, 4000, "US Source", maximum=1),
        ],
    )
    claims, report, note = read(path)
    rng, point = claims
    assert (rng.kind, rng.low, rng.high) == ("range", 2000, 4000)
    assert rng.citation.endswith("replication-data-pnas.csv rows 2 and 4")
    assert "range joined from a floor (row 2) and a ceiling (row 4)" in rng.notes
    assert point.value == 5000
    assert report["action"].tolist() == ["claim", "claim", "joined into range"]
    assert report["claim"].tolist() == [0, 1, 0]
    assert "Bounds joined into ranges: 1" in note


def test_a_lone_floor_or_ceiling_stays_one(tmp_path):
    claims, _, _ = read(write(tmp_path, [raw(13, 2000, minimum=1), raw(20, 9000, maximum=1)]))
    assert [c.kind for c in claims] == ["floor", "ceiling"]
    assert (claims[0].low, claims[1].high) == (2000, 9000)


def test_of_several_floors_the_tightest_is_kept(tmp_path):
    path = write(
        tmp_path,
        [raw(13, 2000, minimum=1), raw(13, 3000, minimum=1), raw(13, 8000, maximum=1)],
    )
    claims, report, _ = read(path)
    (c,) = claims
    assert (c.low, c.high) == (3000, 8000)
    assert "also published for this day: at least 2,000 (row 2); kept the tightest bound" in (
        c.notes
    )
    assert report["action"].tolist() == ["set aside (same day)", "claim", "joined into range"]


def test_bounds_win_over_same_day_points(tmp_path):
    path = write(
        tmp_path,
        [
            raw(13, 3000, "US Source"),
            raw(13, 2000, "US Source"),
            raw(13, 2000, "US Source", minimum=1),
            raw(13, 4000, "US Source", maximum=1),
        ],
    )
    claims, report, note = read(path)
    (c,) = claims
    assert (c.kind, c.low, c.high) == ("range", 2000, 4000)
    assert (
        "also published for this day: 3,000 (row 2), 2,000 (row 3); kept the source's bounds"
        in (c.notes)
    )
    assert report["action"].tolist() == [
        "set aside (same day)",
        "set aside (same day)",
        "claim",
        "joined into range",
    ]
    assert report["claim"].tolist() == [0, 0, 0, 0]
    assert "Same-day figures set aside: 2 (rows 2, 3)" in note


# ---------------------------------------------------------------------------- same-day figures


def test_same_day_figures_keep_the_one_nearest_the_neighbours(tmp_path):
    # the day-46 case of the real data: 19,300 and 78,200 the same day, neighbours ~19,000
    path = write(
        tmp_path,
        [
            raw(42, 18600),
            raw(46, 78200),
            raw(46, 19300),
            raw(49, 19600),
            raw(53, 20300),
        ],
    )
    claims, report, note = read(path)
    kept = claims.filter(start="2022-04-10", end="2022-04-10")
    (c,) = kept
    assert c.value == 19300  # not 48,750, a median nobody published
    assert c.citation.endswith("row 4")
    assert c.notes == (
        "also published for this day: 78,200 (row 3); kept the figure nearest the source's "
        "figures within ±7 days"
    )
    assert report.set_index("row").loc[3, "action"] == "set aside (same day)"
    assert report.set_index("row").loc[3, "claim"] == claims.index(c)
    assert "Same-day figures set aside: 1 (row 3)" in note


def test_only_figures_within_seven_days_decide(tmp_path):
    # 80,000 eight days later is out of reach: the day's two figures tie, the lower wins
    tie = [raw(46, 100), raw(46, 400)]
    claims, _, _ = read(write(tmp_path, [*tie, raw(54, 80000), raw(55, 80000)]))
    assert claims[0].value == 100
    # seven days later it counts, and pulls the choice up
    claims, _, _ = read(write(tmp_path, [*tie, raw(53, 80000), raw(52, 80000)]))
    assert claims[0].value == 400


def test_neighbours_are_the_same_source_side_category_and_window(tmp_path):
    tie = [raw(46, 100), raw(46, 400)]
    others = [
        raw(45, 9000, "OSI"),
        raw(45, 9000, country="Ukraine"),
        raw(45, 9000, category="Military Casualties"),
        raw(45, 9000, frame="Day"),
    ]
    claims, _, _ = read(write(tmp_path, tie + others))
    assert claims.filter(source="UA Source", side="russia", category="killed")[0].value == 100


def test_exact_duplicates_merge_into_one_claim_naming_all_rows(tmp_path):
    path = write(tmp_path, [raw(81, 27400), raw(81, 30), raw(81, 27400), raw(80, 27200)])
    claims, report, note = read(path)
    c = claims[0]
    assert c.value == 27400
    assert c.notes.startswith("the same figure is in rows 2, 4; also published for this day: 30")
    assert report["action"].tolist() == ["claim", "set aside (same day)", "duplicate", "claim"]
    assert report["claim"].tolist() == [0, 0, 0, 1]
    assert "Exact duplicates merged: 1 (row 4)" in note


def test_places_are_the_raw_rows(tmp_path):
    claims, _, _ = read(write(tmp_path, [raw(10, 5, category="Tanks"), raw(10, 500)]))
    with pytest.raises(ClaimsError) as err:
        claims.add(claims)  # every claim again: each problem names its raw row
    (p,) = err.value.problems
    assert p.row == 3 and p.origin == str(tmp_path / "replication-data-pnas.csv")
    assert "duplicate of row 3" in p.message


# ---------------------------------------------------------------------------- read_claims


def test_read_claims_dispatches_and_warns_once(tmp_path):
    path = write(tmp_path, [raw(10, 500), raw(10, 50, category="Jets")])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        claims = cm.read_claims(path, format="radford2023")
    assert isinstance(claims, cm.ClaimSet) and len(claims) == 1
    assert [w.category for w in caught] == [cm.ReaderNote]
    assert caught[0].filename == __file__  # points at the caller, not the library
    assert "Jets 1" in str(caught[0].message)


def test_read_claims_without_format_reads_by_suffix(tmp_path):
    path = write(tmp_path, [raw(10, 500)])
    with pytest.raises(ClaimsError) as err:
        cm.read_claims(path)  # a raw file is not a claims file
    assert any(p.column == "loss_count" for p in err.value.problems)


def test_an_unknown_format_lists_the_known_ones(tmp_path):
    path = write(tmp_path, [raw(10, 500)])
    with pytest.raises(
        ValueError, match=r"unknown claims format 'radford'; known formats: radford2023"
    ):
        cm.read_claims(path, format="radford")


def test_a_format_reads_files_only():
    with pytest.raises(ValueError, match="pass its path, not a DataFrame"):
        cm.read_claims(pd.DataFrame({"days": [1]}), format="radford2023")


def test_a_missing_file_is_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="claims file not found"):
        cm.read_claims(tmp_path / "nope.csv", format="radford2023")


# ---------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (raw(10, 0), "loss_count", "must be a positive number, got '0'"),
        (raw(10, -5), "loss_count", "must be a positive number, got '-5'"),
        (raw(10, "many"), "loss_count", "must be a positive number, got 'many'"),
        (raw(10, ""), "loss_count", "must be a positive number, got ''"),
        (raw(0, 500), "days", "must be a whole number of days >= 1"),
        (raw(2.5, 500), "days", "got '2.5'"),
        (raw(10, 500, "Kremlin"), "claim_source", "unknown source 'Kremlin'; known: UA Source"),
        (raw(10, 500, frame="Weekly"), "time_frame", "unknown time frame 'Weekly'"),
        (raw(10, 500, "OSI", "Belarus"), "loss_country", "unknown country 'Belarus'"),
        (raw(10, 500, minimum=2), "minimum", "must be 0 or 1, got '2'"),
        (raw(10, 500, minimum=1, maximum=1), "maximum", "both 1"),
    ],
)
def test_each_bad_cell_is_named_by_file_row_and_column(tmp_path, row, column, message):
    path = write(tmp_path, [raw(9, 400), row])
    (p,) = problems_of(path)
    assert (p.origin, p.row, p.column) == (str(path), 3, column)
    assert message in p.message


def test_a_contradictory_redundant_label_is_a_problem(tmp_path):
    row = list(raw(10, 500))
    row[2] = "Military Deaths-Ukraine"  # loss_type says Ukraine, loss_country Russia
    (p,) = problems_of(write(tmp_path, [row]))
    assert (p.row, p.column) == (2, "loss_type")
    assert "'Military Deaths-Russia'" in p.message


def test_a_floor_above_the_ceiling_is_a_problem(tmp_path):
    path = write(tmp_path, [raw(13, 5000, minimum=1), raw(13, 4000, maximum=1)])
    (p,) = problems_of(path)
    assert (p.row, p.column) == (2, "loss_count")
    assert "floor 5,000 is above the ceiling 4,000 of row 3" in p.message


def test_all_problems_are_reported_at_once(tmp_path):
    path = write(
        tmp_path,
        [
            raw(10, 0),
            raw(10, 500, category="Tanks"),
            raw(0, 500, "Kremlin", frame="Weekly"),
            raw(13, 5000, minimum=1),
            raw(13, 4000, maximum=1),
        ],
    )
    found = [(p.row, p.column) for p in problems_of(path)]
    assert found == [
        (2, "loss_count"),
        (4, "claim_source"),
        (4, "days"),
        (4, "time_frame"),
        (5, "loss_count"),
    ]


def test_a_row_not_about_personnel_needs_only_a_category(tmp_path):
    # a broken equipment row becomes no claim, so it is no problem; a missing category is
    claims, report, _ = read(write(tmp_path, [raw(10, 500), raw(0, "x", "?", "?", "Tanks")]))
    assert len(claims) == 1 and report["action"].tolist() == ["claim", "not personnel"]
    (p,) = problems_of(write(tmp_path, [raw(10, 500), raw(10, 500, category="")]))
    assert (p.row, p.column) == (3, "category")


def test_a_missing_column_is_named_in_the_header(tmp_path):
    header = [h for h in HEADER if h not in ("time_frame", "maximum")]
    rows = [[c for h, c in zip(HEADER, raw(10, 500), strict=True) if h in header]]
    found = problems_of(write(tmp_path, rows, header))
    assert [(p.row, p.column, p.message) for p in found] == [
        ("header", "time_frame", "required column is missing"),
        ("header", "maximum", "required column is missing"),
    ]


def test_an_unknown_column_is_named_in_the_header(tmp_path):
    (p,) = problems_of(write(tmp_path, [(*raw(10, 500), "x")], (*HEADER, "comment")))
    assert (p.row, p.column) == ("header", "comment")


def test_a_short_row_an_empty_file_and_a_header_alone(tmp_path):
    short, bad = problems_of(write(tmp_path, [raw(10, 500), raw(11, 500)[:4], raw(12, 0)]))
    assert (short.row, short.message) == (3, "has 4 fields but the header has 10")
    assert (bad.row, bad.column) == (4, "loss_count")  # reported with it
    (p,) = problems_of(write(tmp_path, []))
    assert p.message == "no rows: the file has only a header"
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    (p,) = problems_of(empty)
    assert p.message == "the file is empty"


def test_a_file_that_is_not_utf8_is_a_problem(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b'"days"\n1\n\xe9\n')
    (p,) = problems_of(path)
    assert p.row == "3 (line)" and "not valid UTF-8" in p.message


# ---------------------------------------------------------------------------- the shipped file


@pytest.fixture(scope="module")
def shipped() -> tuple[cm.ClaimSet, pd.DataFrame, str]:
    return read(SHIPPED)


def test_the_shipped_file_reads_with_every_row_accounted_for(shipped):
    claims, report, note = shipped
    assert list(report.columns) == ["row", "category", "action", "claim"]
    assert report["row"].tolist() == list(range(2, 4611))  # all 4,609 rows, each once
    assert report["action"].value_counts().to_dict() == {
        "not personnel": 3821,
        "claim": 621,
        "set aside (same day)": 85,
        "joined into range": 50,
        "duplicate": 32,
    }
    assert len(claims) == 621
    assert set(report["action"]) <= set(readers.ACTIONS)
    # every row not read has no claim; every other row points at a claim
    assert report["claim"].isna().tolist() == (report["action"] == "not personnel").tolist()
    assert sorted(report.loc[report["action"] == "claim", "claim"]) == list(range(621))
    assert note.startswith(f"{SHIPPED}: 4,609 rows, 788 about military personnel, read into 621")


def test_every_shipped_claim_cites_its_row(shipped):
    claims, report, _ = shipped
    for _, r in report[report["action"] == "claim"].iterrows():
        c = claims[int(r["claim"])]
        assert c.citation.startswith('Radford et al. (2023), "Estimating conflict losses')
        assert f" {r['row']}" in c.citation.rsplit("replication-data-pnas.csv", 1)[1]
        assert c.url == readers.RADFORD2023_URL


def test_shipped_ua_claims_about_russian_dead(shipped):
    claims, report, _ = shipped
    ua = claims.filter(source="UA Source", side="russia", category="killed")
    by_day = {c.as_of: c for c in ua if c.period_start == dt.date(2022, 2, 24)}
    # day 39: a lone (implausible) 73,000 is still a published figure, kept as a claim
    assert by_day[dt.date(2022, 4, 3)].value == 73000
    # day 46: 19,300 kept, 78,200 set aside and listed with its CSV line
    day46 = by_day[dt.date(2022, 4, 10)]
    assert day46.value == 19300
    assert "78,200 (row 2393)" in day46.notes
    assert "row 1368" in day46.citation
    set_aside = report.set_index("row").loc[2393]
    assert set_aside["action"] == "set aside (same day)"
    assert claims[int(set_aside["claim"])] == day46


def test_shipped_bounds_become_ranges(shipped):
    claims, report, _ = shipped
    (us,) = claims.filter(
        source="US Source", side="russia", category="killed", start="2022-03-08", end="2022-03-08"
    )
    assert us.as_of == dt.date(2022, 3, 8)
    assert (us.kind, us.low, us.high) == ("range", 2000, 4000)
    assert us.citation.endswith("rows 4509 and 4560")
    assert sum(c.kind == "range" for c in claims) == 50
    assert report.set_index("row").loc[4560, "action"] == "joined into range"


def test_shipped_claims_pass_the_package_checks_as_a_claims_file(shipped, tmp_path):
    claims, _, _ = shipped
    path = tmp_path / "radford2023.csv"
    claims.to_csv(path)
    assert cm.read_claims(path) == claims  # the package's own format, no warning
    assert {c.source_type for c in claims} == {"own", "enemy", "neutral"}
