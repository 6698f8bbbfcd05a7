"""Benchmark: journeylab's XES parser (``journeylab._xes.parse_xes``) against ``pm4py.read_xes``.

Run from the repository root::

    /tmp/venv/bin/python benchmarks/bench_read_xes.py [--path FILE] [--repeat 3] [--pm4py-runs 2]

Each reader runs in a fresh subprocess, so imports, caches and memory do not leak from one to
the other. A child times its reader in-process (best of ``--repeat`` runs for journeylab, of
``--pm4py-runs`` for pm4py), and reports CPU seconds and its RSS after the imports. The parent
reads each child's peak RSS from ``os.wait4``. The result is printed as a markdown table.
Wall-clock timings are noisy on a shared machine: compare readers from the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "datasets" / "bpic2012.xes.gz"
MARK = "RESULT:"


def child(reader: str, path: str, runs: int) -> None:
    """Runs inside the subprocess: import, time ``runs`` reads, print one JSON line."""
    sys.path.insert(0, str(ROOT))
    if reader == "journeylab":
        from journeylab._xes import parse_xes as read
        note = "parse_xes(path)"
    else:
        import inspect

        import pm4py

        default = inspect.signature(pm4py.read_xes).parameters["return_legacy_log_object"].default
        if reader == "pm4py":
            def read(p):
                return pm4py.read_xes(p)
            note = f"pm4py {pm4py.__version__} read_xes(path) (return_legacy_log_object defaults to {default})"
        else:
            def read(p):
                return pm4py.read_xes(p, return_legacy_log_object=False)
            note = f"pm4py {pm4py.__version__} read_xes(path, return_legacy_log_object=False)"
    rss_imports = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times, cpu = [], []
    for _ in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        df = read(path)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        n_events, n_cases = len(df), int(df["case:concept:name"].nunique())
        del df
    result = {"reader": reader, "note": note, "times": times, "cpu": cpu, "events": n_events, "cases": n_cases,
              "rss_imports_kb": rss_imports, "legacy_default": None if reader == "journeylab" else default}
    print(MARK + json.dumps(result), flush=True)


def run_child(reader: str, path: str, runs: int) -> dict:
    cmd = [sys.executable, __file__, "--child", reader, "--path", path, "--repeat", str(runs)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = [ln for ln in out.splitlines() if ln.startswith(MARK)]
    if proc.returncode or not lines:
        raise SystemExit(f"{reader} failed (exit {proc.returncode}); run `{' '.join(cmd)}` to see why.")
    res = json.loads(lines[-1][len(MARK):])
    res["peak_kb"] = usage.ru_maxrss  # this child's own peak resident set (kB on Linux)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--path", default=str(DEFAULT), help="XES file (default: BPIC 2012 in ../shared/datasets)")
    ap.add_argument("--repeat", type=int, default=3, help="journeylab runs (best is reported)")
    ap.add_argument("--pm4py-runs", type=int, default=2, help="pm4py runs (best is reported)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.child, args.path, args.repeat)
    if not Path(args.path).is_file():
        raise SystemExit(f"no file at {args.path}; pass --path to an .xes or .xes.gz file.")

    ours = run_child("journeylab", args.path, args.repeat)
    rows = [ours, run_child("pm4py", args.path, args.pm4py_runs)]
    if rows[1]["legacy_default"] is not False:  # only a different call when the default is not False
        rows.append(run_child("pm4py-df", args.path, args.pm4py_runs))
    best = min(ours["times"])
    mb = 1024
    print(f"\nXES read benchmark: {Path(args.path).name} ({ours['events']:,} events, {ours['cases']:,} cases), "
          f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")
    print("| reader | runs | best wall (s) | CPU of best (s) | peak RSS (MB) | RSS after imports (MB) "
          "| events | slower than journeylab |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        i = r["times"].index(min(r["times"]))
        print(f"| {r['note']} | {len(r['times'])} | {r['times'][i]:.3f} | {r['cpu'][i]:.3f} | "
              f"{r['peak_kb'] / mb:,.0f} | {r['rss_imports_kb'] / mb:,.0f} | {r['events']:,} | "
              f"{r['times'][i] / best:.1f}x |")
    if rows[1]["legacy_default"] is False:
        print("\npm4py.read_xes(path, return_legacy_log_object=False) is the default call in this pm4py "
              "version, so it is the pm4py row above.")
    print("journeylab's CPU time can exceed its wall time: libxml2's well-formedness check runs in a "
          "second thread.")


if __name__ == "__main__":
    main()
