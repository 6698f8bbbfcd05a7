"""Discovery benchmark: journeylab against pm4py on generated logs of 1M and 5M events.

Run by hand (never in the test suite)::

    python benchmarks/bench_discovery.py                  # 1M and 5M events, markdown table
    python benchmarks/bench_discovery.py --events 200000  # a quick look

The log of each size is generated once (fixed seed) into a Parquet file in the temporary
folder. Every (tool, task, size) runs in its own subprocess, which reads that file, runs
the task ``--repeat`` times and reports the best wall time and the memory the task added:
its peak RSS minus the RSS before it (Linux: the kernel's peak mark is reset before each
run; the libraries are imported and the events read beforehand - for journeylab the
EventLog is built and the DataFrame released). Tasks:

- ``map``: the process map with frequencies and durations. journeylab: ``discover(log)``
  (counts, cases, mean / median / p90 durations in one result); pm4py:
  ``discover_dfg`` + ``discover_performance_dfg``.
- ``variants``: ``variants(log)`` / ``pm4py.get_variants``.
- ``session``: the map, then the variants, in one process - what an analyst does; the
  variant scan behind the map is reused by ``variants``. pm4py: the three calls.
- ``filter_topk``: keep the cases of the 5 most frequent variants:
  ``filter_variants(log, top=5)`` / ``pm4py.filter_variants_top_k``.
- ``inductive``: a process tree with the inductive miner: ``discover_model(log,
  quality=False)`` (variants, then pm4py's miner on the variant table) /
  ``pm4py.discover_process_tree_inductive`` on the full log. The two trees are compared.
- ``build`` (journeylab only): ``jl.from_pandas`` - validating, typing and sorting the
  events once, which every later analysis reuses.

journeylab's caches are cleared between repetitions: every run scans the log afresh. The
``map + variants`` row adds the two separate runs; ``map then variants`` is the session.

The generator: ~20 activities, cases of 10 events following one of 6 base journeys
(weights 35/25/15/10/8/7 %), 12 % of cases with one step replaced by a random activity;
exponential waiting times whose mean depends on the activity; case starts spread over a
year.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
N_ACTIVITIES = 20
CASE_LEN = 10


def generate(n_events: int, seed: int = 7):
    """A pandas DataFrame with pm4py's column names (case:concept:name, concept:name, time:timestamp)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n_cases = n_events // CASE_LEN
    names = np.array([f"activity {i:02d}" for i in range(N_ACTIVITIES)])
    bases = np.array([
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [0, 1, 2, 3, 10, 11, 5, 6, 7, 9],
        [0, 1, 12, 13, 4, 5, 6, 14, 8, 9],
        [0, 2, 1, 3, 4, 15, 16, 7, 8, 9],
        [0, 1, 2, 17, 18, 19, 3, 4, 8, 9],
        [0, 1, 2, 3, 4, 5, 5, 5, 8, 9],
    ])
    weights = np.array([0.35, 0.25, 0.15, 0.10, 0.08, 0.07])
    which = rng.choice(len(bases), size=n_cases, p=weights)
    seqs = bases[which].copy()
    noisy = rng.random(n_cases) < 0.12
    pos = rng.integers(1, CASE_LEN - 1, size=n_cases)
    repl = rng.integers(0, N_ACTIVITIES, size=n_cases)
    rows = np.nonzero(noisy)[0]
    seqs[rows, pos[rows]] = repl[rows]
    acts = seqs.ravel()
    mean_wait = np.linspace(5 * 60, 3 * 86400, N_ACTIVITIES)[rng.permutation(N_ACTIVITIES)]
    waits = rng.exponential(mean_wait[acts]).reshape(n_cases, CASE_LEN)
    waits[:, 0] = 0
    start = rng.uniform(0, 365 * 86400, size=n_cases)
    secs = start[:, None] + np.cumsum(waits, axis=1)
    ts = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(np.round(secs.ravel() * 1e6).astype("int64"), unit="us")
    case_ids = np.char.add("case-", np.arange(n_cases).astype(str))
    return pd.DataFrame({
        "case:concept:name": np.repeat(case_ids, CASE_LEN),
        "concept:name": names[acts],
        "time:timestamp": ts,
    })


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_mb(key: str) -> float | None:
    """VmRSS / VmHWM of this process from /proc (Linux), in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0), so that a task's own peak can be read."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _data_file(n_events: int) -> Path:
    return Path(tempfile.gettempdir()) / f"journeylab-bench-discovery-{n_events}.parquet"


def _forget_scans(log) -> None:
    """Drop what the scans cached in the log (``log._memo`` keys ``("scans", ...)``); the log's own
    arrays stay, as between two analyses of one log."""
    for key in [k for k in log._cache if isinstance(k, tuple) and k[:1] == ("scans",)]:
        del log._cache[key]


def worker(tool: str, task: str, n_events: int, repeat: int) -> dict:
    import gc

    import pandas as pd

    sys.path.insert(0, str(ROOT))
    import journeylab as jl
    from journeylab import discovery, filters
    from journeylab._kernels import pm4py as _pm4py

    pm4py = _pm4py._pm4py()  # both sides import pm4py before the baseline (journeylab's miner uses it)
    df = pd.read_parquet(_data_file(n_events))
    out: dict = {"tool": tool, "task": task, "events": n_events}
    if tool == "journeylab":

        def build():
            return jl.from_pandas(df, case="case:concept:name", activity="concept:name", timestamp="time:timestamp")

        log = None
        if task != "build":  # the analyses start from a built log; the DataFrame is released
            log = build()
            del df
            gc.collect()
        run = {
            "build": build,
            "map": lambda: discovery.discover(log),
            "variants": lambda: discovery.variants(log),
            "session": lambda: (discovery.discover(log), discovery.variants(log)),
            "filter_topk": lambda: filters.filter_variants(log, top=5),
            "inductive": lambda: discovery.discover_model(log, quality=False),
        }[task]
    else:
        _pm4py.python_strings().__enter__()  # pm4py's variant filters need it on pandas 3

        def pm_map():
            pm4py.discover_dfg(df)
            pm4py.discover_performance_dfg(df)

        def pm_session():
            pm_map()
            pm4py.get_variants(df)

        run = {
            "map": pm_map,
            "session": pm_session,
            "variants": lambda: pm4py.get_variants(df),
            "filter_topk": lambda: pm4py.filter_variants_top_k(df, 5),
            "inductive": lambda: pm4py.discover_process_tree_inductive(df),
        }[task]
    gc.collect()
    out["baseline_mb"] = _rss_mb()
    extra = 0.0
    best = float("inf")
    result = None
    for _ in range(repeat):
        if tool == "journeylab" and log is not None:
            _forget_scans(log)  # every repetition scans the log again (no cached results)
        result = None
        gc.collect()
        exact = _reset_peak()
        before = _status_mb("VmRSS") if exact else None
        t = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - t)
        if exact and before is not None:
            extra = max(extra, (_status_mb("VmHWM") or 0.0) - before)
    out["seconds"] = best
    out["peak_mb"] = _rss_mb()
    out["extra_mb"] = extra if extra else max(out["peak_mb"] - out["baseline_mb"], 0.0)
    if task == "inductive":
        tree = result.tree if tool == "journeylab" else result
        out["tree_sha"] = hashlib.sha1(str(tree).encode()).hexdigest()[:12]
    if task == "filter_topk":
        out["cases_kept"] = int(result.n_cases if tool == "journeylab" else result["case:concept:name"].nunique())
    return out


def _spawn(tool, task, n, repeat) -> dict:
    cmd = [sys.executable, __file__, "--worker", tool, task, str(n), str(repeat)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    line = [x for x in res.stdout.splitlines() if x.startswith("{")]
    if res.returncode or not line:
        raise RuntimeError(f"{tool}/{task}/{n} failed:\n{res.stderr[-3000:]}")
    return json.loads(line[-1])


def _extra(r: dict) -> str:
    return f"{r['extra_mb']:,.0f}"


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, nargs="*", default=[1_000_000, 5_000_000])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="100k events only (smoke run)")
    p.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.events = [100_000]
    if args.worker:
        tool, task, n, repeat = args.worker
        print(json.dumps(worker(tool, task, int(n), int(repeat))))
        return
    rows = []
    for n in args.events:
        if not _data_file(n).exists():
            generate(n).to_parquet(_data_file(n))
        repeat = args.repeat if n <= 1_000_000 else max(1, args.repeat - 1)
        res = {("journeylab", "build"): _spawn("journeylab", "build", n, repeat)}
        for task in ("map", "variants", "session", "filter_topk", "inductive"):
            for tool in ("journeylab", "pm4py"):
                res[(tool, task)] = _spawn(tool, task, n, repeat)
                print(f"  {n:>9,} {task:<12} {tool:<10} {res[(tool, task)]['seconds']:8.2f} s", file=sys.stderr)
        rows.append((n, res))
    lines: list[str] = []
    emit = lines.append  # the table goes to stdout and to benchmarks/results/
    emit("| events | task | journeylab (s) | pm4py (s) | speed-up | journeylab +RSS (MB) | pm4py +RSS (MB) |")
    emit("|---:|---|---:|---:|---:|---:|---:|")
    for n, res in rows:
        b = res[("journeylab", "build")]
        emit(f"| {n:,} | build EventLog (once) | {b['seconds']:.2f} | - | - | {_extra(b)} | - |")
        for task, label in (("map", "map: frequency + performance"), ("variants", "variants"),
                            ("filter_topk", "filter top-5 variants"), ("inductive", "inductive miner (tree)")):
            ours, ref = res[("journeylab", task)], res[("pm4py", task)]
            emit(f"| {n:,} | {label} | {ours['seconds']:.2f} | {ref['seconds']:.2f} | "
                  f"{ref['seconds'] / ours['seconds']:.1f}x | {_extra(ours)} | {_extra(ref)} |")
        ours = res[("journeylab", "map")]["seconds"] + res[("journeylab", "variants")]["seconds"]
        ref = res[("pm4py", "map")]["seconds"] + res[("pm4py", "variants")]["seconds"]
        emit(f"| {n:,} | **map + variants** (two separate runs added) | {ours:.2f} | {ref:.2f} | **{ref / ours:.1f}x** | | |")
        ours, ref = res[("journeylab", "session")], res[("pm4py", "session")]
        emit(f"| {n:,} | **map then variants** (one session) | {ours['seconds']:.2f} | {ref['seconds']:.2f} | "
              f"**{ref['seconds'] / ours['seconds']:.1f}x** | {_extra(ours)} | {_extra(ref)} |")
        total = b["seconds"] + ours["seconds"]
        emit(f"| {n:,} | from a DataFrame: build + map then variants | {total:.2f} | {ref['seconds']:.2f} | "
              f"{ref['seconds'] / total:.1f}x | | |")
        same = res[("journeylab", "inductive")]["tree_sha"] == res[("pm4py", "inductive")]["tree_sha"]
        kept = (res[("journeylab", "filter_topk")]["cases_kept"], res[("pm4py", "filter_topk")]["cases_kept"])
        emit(f"| {n:,} | checks | same tree: {same} | top-5 cases kept: {kept[0]:,} vs {kept[1]:,} | | "
              f"baseline RSS {res[('journeylab', 'map')]['baseline_mb']:,.0f} MB | |")
    table = "\n".join(lines) + "\n"
    sys.stdout.write(table)
    name = "discovery_quick.md" if args.quick else "discovery.md"
    out = Path(__file__).resolve().parent / "results" / name
    tmp = out.with_suffix(".tmp")
    tmp.write_text(f"# Discovery vs pm4py ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores)\n\n" + table)
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
