"""Drivers benchmark: ``jl.drivers`` on a simulated log of about 100k events (1M with ``--size``), in memory
and on the same events scanned from Parquet by DuckDB.

Usage (from the repository root)::

    python benchmarks/bench_drivers.py            # about 100k events (6,000 customers)
    python benchmarks/bench_drivers.py --quick    # about 20k events
    python benchmarks/bench_drivers.py --customers 60000

Rows (best of ``--repeat`` runs, seconds, wall clock; the first call on a log pays its per-log scans -
variants, per-case facts - so each run takes a fresh log object):

* ``memory, unadjusted``: ``jl.drivers(log, journey, at="purchase", adjust=False)``;
* ``memory, adjusted (100 refits)``: the default ``adjust=True`` with 100 bootstrap refits;
* ``duckdb, unadjusted``: the same on ``jl.scan_parquet`` of the simulated events (the candidates computed
  in the engine, one row per customer back).

The table goes to ``benchmarks/results/drivers.md`` (``drivers_quick.md`` with ``--quick``).
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import journeylab as jl
from benchmarks._gen import best

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="about 20k events")
    ap.add_argument("--customers", type=int, default=None, help="simulated customers (default 6,000: ~100k events)")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args(argv)
    n = args.customers or (1_200 if args.quick else 6_000)
    sample = jl.datasets.make_journeys(n, random_state=20250101)
    events = sample.log.to_pandas()
    folder = Path(tempfile.mkdtemp(prefix="jl-bench-drivers-"))
    events.to_parquet(folder / "events.parquet")
    roles = {r: r for r in sample.log.roles if r not in ("case", "activity", "timestamp")}

    def memory_log():
        return jl.from_pandas(events.drop(columns="_seq", errors="ignore"), case="case", activity="activity",
                              timestamp="timestamp", **roles)

    def duckdb_log():
        return jl.scan_parquet(str(folder / "events.parquet"), case="case", activity="activity",
                               timestamp="timestamp", **roles)

    j = sample.journey
    runs = [
        ("memory, unadjusted", lambda: jl.drivers(memory_log(), j, at="purchase", adjust=False)),
        ("memory, adjusted (100 refits)", lambda: jl.drivers(memory_log(), j, at="purchase", n_boot=100,
                                                             random_state=0)),
        ("duckdb, unadjusted", lambda: jl.drivers(duckdb_log(), j, at="purchase", adjust=False)),
    ]
    d = runs[0][1]()
    rows = [(name, best(fn, args.repeat)) for name, fn in runs]
    head = (f"# jl.drivers, {len(events):,} events, {sample.log.n_cases:,} customers, {len(d.table)} candidates "
            f"tested (best of {args.repeat})\n\n{platform.platform()}, Python {platform.python_version()}\n\n")
    table = "| run | seconds |\n|---|---:|\n" + "".join(f"| {name} | {sec:.2f} |\n" for name, sec in rows)
    print(head + table)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / ("drivers_quick.md" if args.quick else "drivers.md")).write_text(head + table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
