"""Benchmark of the journey simulator: time and peak memory of ``make_journeys``.

Usage (from the repository root)::

    python benchmarks/bench_simulate.py                   # 100k and 1M customers
    python benchmarks/bench_simulate.py --sizes 1e5 --log # also build the EventLog

Every size runs in a fresh Python subprocess, so that peak memory is its own:

* ``generate``: ``_simulate_frame`` - the events DataFrame, the journey and the truth (what
  the simulator itself does; wall and CPU seconds);
* ``log``: with ``--log``, also ``jl.from_pandas`` on the frame (what ``make_journeys``
  adds: validation and canonical columns, done by journeylab.log);
* ``peak MB``: the peak RSS of the child (imports included), from ``getrusage``.

Wall time counts what other processes take from the machine; CPU time does not.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARK = "@@BENCH_RESULT "


def child(n: int, build_log: bool) -> dict:
    sys.path.insert(0, str(ROOT))
    import journeylab as jl
    from journeylab.datasets import _simulate_frame

    base_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    wall, cpu = time.perf_counter(), time.process_time()
    frame, _, truth = _simulate_frame(n, random_state=0, progress=False)
    out = {"customers": n, "events": len(frame), "sessions": len(truth.sessions),
           "generate_wall_s": time.perf_counter() - wall, "generate_cpu_s": time.process_time() - cpu,
           "frame_mb": frame.memory_usage(deep=True).sum() / 1e6, "import_mb": base_mb}
    if build_log:
        wall, cpu = time.perf_counter(), time.process_time()
        log = jl.from_pandas(frame, case="customer_id", activity="activity", timestamp="timestamp",
                             channel="channel", value="amount")
        out.update(log_wall_s=time.perf_counter() - wall, log_cpu_s=time.process_time() - cpu, log_events=log.n_events)
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def run(n: int, build_log: bool) -> dict:
    cmd = [sys.executable, __file__, "--child", str(n)] + (["--log"] if build_log else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"child for {n:,} customers failed:\n{proc.stderr[-3000:]}")
    line = [x for x in proc.stdout.splitlines() if x.startswith(MARK)][-1]
    return json.loads(line[len(MARK):])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1e5,1e6", help="customers, comma-separated (default 1e5,1e6)")
    parser.add_argument("--log", action="store_true", help="also time building the EventLog")
    parser.add_argument("--json", help="write the raw results to this file")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(MARK + json.dumps(child(args.child, args.log)), flush=True)
        return 0
    sizes = [int(float(s)) for s in args.sizes.split(",") if s.strip()]
    results = []
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.node()}")
    header = "| customers | events | generate wall s | generate CPU s | peak MB | frame MB |"
    if args.log:
        header += " log wall s |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for n in sizes:
        r = run(n, args.log)
        results.append(r)
        row = (f"| {r['customers']:,} | {r['events']:,} | {r['generate_wall_s']:.1f} | {r['generate_cpu_s']:.1f} "
               f"| {r['peak_mb']:,.0f} | {r['frame_mb']:,.0f} |")
        if args.log:
            row += f" {r['log_wall_s']:.1f} |"
        print(row, flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
