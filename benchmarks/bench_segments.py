"""Segments benchmark: clustering 100k journeys (1M events) with journeylab's three methods,
against retentioneering's ``Eventstream.cluster_analysis_data`` on the same log.

Usage (from the repository root)::

    python benchmarks/bench_segments.py               # 1M events (100k journeys of 10 events)
    python benchmarks/bench_segments.py --quick       # 100k events (10k journeys)
    python benchmarks/bench_segments.py --size 2e6 --repeat 1

The log comes from ``benchmarks/_gen.py`` (a few dominant variants and a long tail), is
written once as Parquet, and every (tool, setting) runs in a fresh Python subprocess that
reads it with pandas, so memory figures are comparable:

* ``seconds``: from the events DataFrame to the labels - building the tool's log object
  (``jl.from_pandas`` / ``rete.Eventstream``) included; best of ``--repeat`` runs;
* ``peak MB``: peak RSS of the whole child (imports and the DataFrame included);
* ``+MB``: how far RSS rose above its level before the measured step (VmHWM, reset with
  /proc/self/clear_refs just before it).

retentioneering runs in its own virtual environment (it must never be installed in the
project's): ``$RETENTIONEERING_PYTHON`` (default ``/tmp/venv-bench/bin/python``), created
with ``python3 -m venv /tmp/venv-bench && /tmp/venv-bench/bin/pip install retentioneering``.
``RETENTIONEERING_NO_TRACK=1`` is set for it, as it sends usage analytics by default. When
that interpreter is missing, its rows say so and the rest still runs.

Settings: ``k=4`` fixes the number of clusters; ``auto`` lets each tool choose k over 3..8
(journeylab: BIC for markov, silhouette on a sample for kmeans / sequence; retentioneering:
its silhouette-scored grid ``"3-8"``). retentioneering clusters per-path event counts
(``event_count_bulk``, min-max scaled) with k-means.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
RETE_PYTHON = os.environ.get("RETENTIONEERING_PYTHON", "/tmp/venv-bench/bin/python")

RUNS = [
    # (tool, method, setting)
    ("journeylab", "markov", "k=4"),
    ("journeylab", "kmeans", "k=4"),
    ("journeylab", "sequence", "k=4"),
    ("retentioneering", "kmeans", "k=4"),
    ("journeylab", "markov", "auto"),
    ("journeylab", "kmeans", "auto"),
    ("journeylab", "sequence", "auto"),
    ("retentioneering", "kmeans", "auto"),
]


# --------------------------------------------------------------------------- memory (Linux /proc)


def _rss_mb(field: str = "VmRSS") -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


# --------------------------------------------------------------------------- the child process


def worker(tool: str, method: str, setting: str, data: str, repeat: int) -> dict:
    import gc

    import pandas as pd

    df = pd.read_parquet(data)
    if tool == "journeylab":  # imports are not timed
        import journeylab as jl
        from journeylab.segments import cluster_journeys
    else:
        os.environ["RETENTIONEERING_NO_TRACK"] = "1"
        import retentioneering as rete
    n_cases = int(df["case_id"].nunique())
    times = []
    extra = {}
    grow = None
    for i in range(repeat):
        gc.collect()
        before = _rss_mb()
        _reset_peak()
        t0 = time.perf_counter()
        if tool == "journeylab":
            log = jl.from_pandas(df, case="case_id", activity="activity", timestamp="timestamp")
            kw = {"n_clusters": 4} if setting == "k=4" else {"n_clusters": "auto", "k_range": (3, 8)}
            seg = cluster_journeys(log, method=method, random_state=0, progress=False, **kw)
            labels = seg.labels
            extra = {"k": len(seg.segments)}
        else:
            stream = rete.Eventstream(df.rename(columns={"case_id": "user_id", "activity": "event"}))
            args = {"n_clusters": 4} if setting == "k=4" else {"n_clusters": "3-8"}
            res = stream.cluster_analysis_data(features=[{"metric": "event_count_bulk"}], method="kmeans",
                                               method_args=args)
            labels = res["cluster_labels"]
            extra = {"k": int(pd.Series(labels).nunique()), "version": getattr(rete, "__version__", "?")}
        times.append(time.perf_counter() - t0)
        if grow is None:
            grow = _rss_mb("VmHWM") - before
        assert len(labels) == n_cases, (len(labels), n_cases)
        del labels
    return {"seconds": min(times), "peak_mb": _rss_mb("VmHWM"), "grow_mb": grow, "n_cases": n_cases,
            "n_events": len(df), **extra}


# --------------------------------------------------------------------------- the parent


def _data(n_events: int) -> Path:
    sys.path.insert(0, str(ROOT))
    from benchmarks import _gen

    path = _gen.data_dir() / f"segments_{_gen.size_label(n_events)}.parquet"
    if not path.exists():
        df = _gen.generate(n_events, events_per_case=10, seed=0)
        _gen.write_parquet(df, path)
    return path


def _run(tool, method, setting, data, repeat, timeout) -> dict:
    python = sys.executable if tool == "journeylab" else RETE_PYTHON
    if tool == "retentioneering" and not Path(python).exists():
        return {"error": f"no interpreter at {python}; create the venv (see the module docstring)"}
    env = dict(os.environ, RETENTIONEERING_NO_TRACK="1", PYTHONPATH=str(ROOT))
    cmd = [python, str(Path(__file__).resolve()), "--worker", tool, method, setting, str(data), str(repeat)]
    try:
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f} s"}
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        tail = (out.stderr or out.stdout).strip().splitlines()[-3:]
        return {"error": " | ".join(tail)[:300]}
    return json.loads(lines[-1])


def _table(rows: list[dict]) -> str:
    head = "| tool | method | setting | k | seconds | peak MB | +MB | vs retentioneering (time) | (peak) |"
    out = [head, "|" + "---|" * 9]
    base = {r["setting"]: r for r in rows if r["tool"] == "retentioneering" and "seconds" in r}
    for r in rows:
        if "error" in r:
            out.append(f"| {r['tool']} | {r['method']} | {r['setting']} | - | - | - | - | {r['error']} | |")
            continue
        b = base.get(r["setting"])
        speed = f"{b['seconds'] / r['seconds']:.1f}x faster" if b and r["tool"] != "retentioneering" else ""
        mem = f"{r['peak_mb'] / b['peak_mb']:.2f}x" if b and r["tool"] != "retentioneering" else ""
        out.append(f"| {r['tool']} | {r['method']} | {r['setting']} | {r.get('k', '-')} | {r['seconds']:.2f} | "
                   f"{r['peak_mb']:,.0f} | {r['grow_mb']:,.0f} | {speed} | {mem} |")
    return "\n".join(out)


def main(argv=None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--worker":
        tool, method, setting, data, repeat = sys.argv[2:7]
        print(json.dumps(worker(tool, method, setting, data, int(repeat))))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100k events instead of 1M")
    ap.add_argument("--size", default=None, help="events, e.g. 1e6 (journeys = events / 10)")
    ap.add_argument("--repeat", type=int, default=None, help="runs per setting (best time kept); default 3, quick 1")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per child process")
    ap.add_argument("-k", action="append", default=[], help="only runs whose 'tool method setting' contains TEXT")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from benchmarks import _gen

    n_events = _gen.parse_size(args.size) if args.size else (100_000 if args.quick else 1_000_000)
    repeat = args.repeat or (1 if args.quick else 3)
    data = _data(n_events)
    runs = [r for r in RUNS if not args.k or any(k in " ".join(r) for k in args.k)]
    rows = []
    print(f"segments benchmark: {n_events:,} events ({n_events // 10:,} journeys), data {data}", flush=True)
    for tool, method, setting in runs:
        res = _run(tool, method, setting, data, repeat, args.timeout)
        row = {"tool": tool, "method": method, "setting": setting, **res}
        rows.append(row)
        shown = f"{res['seconds']:.2f} s, peak {res['peak_mb']:,.0f} MB" if "seconds" in res else res["error"]
        print(f"  {tool:<16} {method:<9} {setting:<5} {shown}", flush=True)
    table = _table(rows)
    print("\n" + table)
    RESULTS.mkdir(exist_ok=True)
    name = "segments_quick" if args.quick else "segments"
    meta = {"date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"), "n_events": n_events,
            "repeat": repeat, "python": platform.python_version(), "machine": platform.machine(),
            "cpus": os.cpu_count()}
    (RESULTS / f"{name}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    (RESULTS / f"{name}.md").write_text(f"# Segments benchmark ({n_events:,} events, {n_events // 10:,} journeys)\n\n"
                                        f"{meta['date']}, Python {meta['python']}, {meta['cpus']} CPUs, best of "
                                        f"{repeat}.\n\n{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
