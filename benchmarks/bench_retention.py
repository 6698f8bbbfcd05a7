"""Retention benchmark: ``jl.retention`` on about 100k events, in memory and on the same log in DuckDB.

Usage (from the repository root)::

    python benchmarks/bench_retention.py               # 6,000 simulated customers (about 100k events)
    python benchmarks/bench_retention.py --quick       # 1,500 customers (about 25k events)
    python benchmarks/bench_retention.py --customers 60000 --repeat 1   # about 1M events

The log is simulated once (``jl.datasets.make_journeys``, seed 1) and written to Parquet; each setting runs
``--repeat`` times in this process and the best time is kept (``seconds``: from the log to the Retention
object, the figure not drawn). ``rows fetched``: rows the DuckDB queries sent back (``fetched()``).
The table is printed and written to ``benchmarks/results/retention[_quick].md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

SETTINGS = [
    ("weekly, unbounded", dict(period="W")),
    ("weekly, on, by version", dict(period="W", mode="on", by="version")),
    ("daily, unbounded, 30 days", dict(period="D", max_periods=30)),
    ("monthly, on, by channel", dict(period="M", mode="on", by="channel")),
]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1,500 customers")
    ap.add_argument("--customers", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    n = args.customers or (1_500 if args.quick else 6_000)

    import ibis

    import journeylab as jl
    from journeylab._core.backend import fetched

    sample = jl.datasets.make_journeys(n, random_state=1)
    log = sample.log
    path = Path(tempfile.mkdtemp(prefix="jl-bench-retention-")) / "events.parquet"
    log.to_pandas().to_parquet(path)
    lazy = jl.from_ibis(ibis.duckdb.connect().read_parquet(path), case="case", activity="activity",
                        timestamp="timestamp", channel="channel", value="value")
    lazy.time_span  # noqa: B018  (the log's own sizes query, not the analysis)
    rows = []
    for name, kw in SETTINGS:
        for where, lg in (("memory", log), ("duckdb", lazy)):
            best, got = float("inf"), None
            for _ in range(args.repeat):
                with fetched() as f:
                    t = time.perf_counter()
                    jl.retention(lg, **kw)
                    best = min(best, time.perf_counter() - t)
                got = f
            rows.append({"setting": name, "where": where, "seconds": round(best, 3),
                         "rows fetched": got.rows if where == "duckdb" else None,
                         "largest fetch": got.largest if where == "duckdb" else None})
    head = (f"# Retention benchmark\n\n{log.n_events:,} events, {log.n_cases:,} customers; best of {args.repeat}; "
            f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
            f"{_dt.date.today()}\n\n")
    table = "| setting | where | seconds | rows fetched | largest fetch |\n|---|---|---:|---:|---:|\n" + "".join(
        f"| {r['setting']} | {r['where']} | {r['seconds']:.3f} | {r['rows fetched'] or '-'} | "
        f"{r['largest fetch'] or '-'} |\n" for r in rows)
    print(head + table)
    RESULTS.mkdir(exist_ok=True)
    stem = "retention_quick" if args.quick else "retention"
    (RESULTS / f"{stem}.md").write_text(head + table, encoding="utf-8")
    (RESULTS / f"{stem}.json").write_text(json.dumps({"events": log.n_events, "customers": log.n_cases,
                                                     "repeat": args.repeat, "rows": rows}, indent=1),
                                          encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
