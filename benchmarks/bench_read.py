"""How long reading and validating a large claims file takes (issue 27).

Writes a 100,000-row claims CSV like real data (several sources of every kind, both
sides, dates over four years, points, ranges and floors, citations with commas and
quotes, URLs), then times ``read_claims`` on it: every row parsed and checked, and the
checks across rows (duplicates, one type per speaker, echoes). The same file with one
bad cell in its last row times the path that finds and names a problem. Prints a
Markdown table; docs/robustness.md ("What the files promise") quotes it.

    .venv/bin/python benchmarks/bench_read.py [--rows 100000] [--repeat 3]

``tests/test_reader_cases.py`` reads the same file (``write_rows``) with a loose bound.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

HEADER = (
    "source,source_type,side,category,as_of,reported,period_start,value,low,high,"
    "interval_prob,citation,url,notes\n"
)
_TYPES = ("own", "enemy", "neutral", "tally")


def write_rows(path: Path, n: int) -> None:
    """A claims CSV of ``n`` distinct, valid rows."""
    start = dt.date(2022, 2, 24)
    lines = [HEADER]
    for i in range(n):
        side = ("russia", "ukraine")[i % 2]
        kind = _TYPES[(i // 2) % 4]
        source = f"Source {i % 997} ({kind})"
        as_of = start + dt.timedelta(days=i % 1460)
        figure = (f"{1000 + i},,", f",{900 + i},{1100 + i}", f",{800 + i},")[i % 3]
        lines.append(
            f"{source},{kind},{side},killed,{as_of},,2022-02-24,{figure},,"
            f'"Outlet {i % 50}, ""Headline {i}"", p. {i % 40}",https://example.org/{i},\n'
        )
    path.write_text("".join(lines), encoding="utf-8")


def _time(path: Path, repeat: int) -> list[float]:
    import casualty_models as cm

    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        with contextlib.suppress(cm.ClaimsError):  # the file with a bad cell
            cm.read_claims(path)
        times.append(time.perf_counter() - t0)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import describe_machine, log, machine_info, utc_now

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "claims.csv"
        write_rows(path, args.rows)
        size = path.stat().st_size
        log(f"{args.rows:,} rows, {size / 1e6:.1f} MB; importing the library…")
        t0 = time.perf_counter()
        import casualty_models  # noqa: F401

        imported = time.perf_counter() - t0
        valid = _time(path, args.repeat)
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        lines[-1] = lines[-1].replace("2022-02-24", "2022-02-31", 1)
        path.write_text("".join(lines), encoding="utf-8")
        bad = _time(path, args.repeat)
    rows = [
        ("valid: every row read and checked", valid),
        ("one bad cell in the last row: found and named", bad),
    ]
    print(f"## Reading {args.rows:,} claims ({size / 1e6:.1f} MB CSV)\n")
    print(f"Run {utc_now()}; {describe_machine(machine_info())}.")
    print(f"Import of the library: {imported:.1f} s (not counted below).\n")
    print("| case | median (s) | min (s) | rows per second |")
    print("|---|---:|---:|---:|")
    for name, times in rows:
        med = statistics.median(times)
        print(f"| {name} | {med:.2f} | {min(times):.2f} | {args.rows / med:,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
