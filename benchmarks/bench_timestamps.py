"""Benchmark: parsing a timestamp column (``journeylab._timestamps.parse_timestamps``).

Run from the repository root::

    python benchmarks/bench_timestamps.py [--quick] [--repeat 3]

Two text columns, as a CSV hands them over (pandas ``str`` dtype): 5M ISO 8601 values
(``2025-03-04 10:21:14``) and 1M day-first values (``04/03/2025 10:21``); ``--quick`` uses
500k and 100k. journeylab infers one format for the whole column; the reference is pandas
told the format (``pd.to_datetime(format=...)``), the fastest pandas gets. Best of
``--repeat`` runs; wall-clock timings are noisy on a shared machine.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._gen import best


def column(n: int, fmt: str, seed: int = 0) -> pd.Series:
    secs = np.random.default_rng(seed).integers(0, 365 * 86400, n)
    moments = pd.DatetimeIndex(pd.Timestamp("2025-01-01") + pd.to_timedelta(secs, unit="s"))
    return pd.Series(moments.strftime(fmt), dtype="str")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="500k ISO and 100k day-first values")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    from journeylab._timestamps import parse_timestamps

    cases = [("ISO 8601", "%Y-%m-%d %H:%M:%S", "ISO8601", 500_000 if args.quick else 5_000_000),
             ("day-first", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M", 100_000 if args.quick else 1_000_000)]
    rows = ["| column | values | journeylab (format inferred) | pandas (format given) |", "|---|---:|---:|---:|"]
    for name, fmt, pandas_fmt, n in cases:
        s = column(n, fmt)
        ours = best(lambda: parse_timestamps(s), args.repeat)
        ref = best(lambda: pd.to_datetime(s, format=pandas_fmt), args.repeat)
        rows.append(f"| {name} `{fmt}` | {n:,} | {ours:.2f} s | {ref:.2f} s |")
    table = "\n".join(rows)
    print(table)
    out = ROOT / "benchmarks" / "results" / ("timestamps_quick.md" if args.quick else "timestamps.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(f"# Timestamp parsing (best of {args.repeat})\n\n{table}\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
