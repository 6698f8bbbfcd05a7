"""Benchmark at warehouse scale: the analyses on a log in memory, in DuckDB (scan_parquet) and in Spark.

Usage (from the repository root)::

    python benchmarks/bench_scale.py --quick          # ~100k events: memory and DuckDB, every step (~5 min)
    python benchmarks/bench_scale.py                  # 1M and 14M events
    python benchmarks/bench_scale.py --big            # also 100M events (DuckDB only: the others cannot hold it)
    python benchmarks/bench_scale.py --spark          # also Spark local[2]
    python benchmarks/bench_scale.py --sizes 1M --engines duckdb --steps compare,funnel

The logs are simulated by ``jl.datasets.write_journeys`` (Parquet part files of 100,000
customers, about 1.4M events each) and cached under ``$JOURNEYLAB_BENCH_DATA`` (default
``/tmp/journeylab-bench``) as ``journeys-<customers>/``; the case is the journey session
(``session_id``; events outside sessions are dropped), the customer is ``case``.

Every (size, engine, step) runs in a fresh Python process: it builds the log, then runs the
step once. The table gives

* ``build s``: making the log (memory: ``pd.read_parquet`` of the folder + ``jl.from_pandas``;
  DuckDB: ``jl.scan_parquet``; Spark: ``spark.read.parquet`` + ``jl.from_ibis``);
* ``step s``: the step's wall time (``report``: the whole report; in memory it runs in a kernel);
* ``cpu s``: the step's CPU time (all threads of the process - DuckDB's too - and its finished
  children - the report's kernel -, not Spark's JVM); on a shared machine the steadier figure;
* ``peak MB``: ``ru_maxrss`` of that Python process (imports, build and step; for Spark the
  driver's Python, not the JVM), and ``child MB``: the largest peak of its children (the report's
  kernel; Spark's JVM, still running, read from ``/proc/<pid>/status`` VmHWM);
* ``fetched``: rows that came back from the engine (``journeylab._core.backend.fetched``):
  total and the largest single result.

pm4py side by side (``--pm4py``, on by default up to 14M events): ``format_dataframe`` +
``discover_dfg`` + ``get_variants`` on the session log, and token-based replay of the log
projected on the journey's milestones against the happy path (a sequence Petri net), in one
process; ``ratio`` is pm4py's time over the sum of journeylab's discover + variants + compare +
funnel step times on the same engine (each measured in its own process, build excluded as pm4py's
read_parquet is), next to the largest peak RSS of those four processes (pm4py's peak is its own
process's). A pm4py run stopped by ``--budget`` gives a lower bound of the ratio. Results go to ``benchmarks/results/scale.md`` / ``.json`` (``scale_quick`` with --quick).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARK = "@@BENCH_RESULT "
DATA = Path(os.environ.get("JOURNEYLAB_BENCH_DATA", "/tmp/journeylab-bench"))
#: events (the name) -> customers simulated (about 13.7 session events per customer)
CHUNK = 100_000  # customers per part file
SIZES = {"100k": 7_300, "1M": 73_000, "14M": 1_000_000, "100M": 7_300_000}
STEPS = ("build", "discover", "variants", "compare", "funnel", "goal_attainment", "cluster_journeys", "report")
ENGINES = ("memory", "duckdb", "spark")
ROLES = dict(case="session_id", customer="case", activity="activity", timestamp="timestamp", channel="channel",
             value="value")


def ensure(size: str) -> Path:
    """The cached folder of part files for ``size`` (written once with write_journeys)."""
    sys.path.insert(0, str(ROOT))
    import journeylab as jl

    folder = DATA / f"journeys-{SIZES[size]}"
    # write_journeys writes _journey.yaml after the first chunk and each part file whole (tmp +
    # rename), so the folder is complete only when every expected part file is there.
    expected = [folder / f"part-{k:05d}.parquet" for k in range(-(-SIZES[size] // CHUNK))]
    while folder.is_dir() and any(folder.iterdir()) and not all(p.exists() for p in expected):
        done = sum(p.exists() for p in expected)
        if time.time() - max(p.stat().st_mtime for p in folder.iterdir()) > 900:
            # never delete someone's data: a folder left half-written is for its owner to remove
            raise SystemExit(f"{folder} is incomplete ({done}/{len(expected)} part files) and nothing wrote to "
                             "it for 15 min: delete it to have it written again.")
        print(f"waiting for the writer of {folder} ({done}/{len(expected)} part files)", flush=True)
        time.sleep(60)
    if not all(p.exists() for p in expected) or not (folder / "_journey.yaml").exists():
        t = time.perf_counter()
        jl.datasets.write_journeys(folder, SIZES[size], chunk=CHUNK, random_state=7, overwrite=True, progress=True)
        print(f"wrote {folder} in {time.perf_counter() - t:.0f} s", flush=True)
    return folder


def _build(engine: str, folder: Path):
    import journeylab as jl

    if engine == "memory":
        import pandas as pd

        df = pd.read_parquet(folder)
        df = df[df["session_id"].notna()]
        return jl.from_pandas(df, **ROLES)
    if engine == "duckdb":
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "dropped N events outside sessions": expected
            return jl.scan_parquet(folder, on_invalid="drop", **ROLES)
    import ibis
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").appName("bench_scale").config("spark.ui.enabled", "false")
             .config("spark.sql.session.timeZone", "UTC").config("spark.driver.memory", "8g")
             .config("spark.sql.shuffle.partitions", "8").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    files = sorted(str(p) for p in folder.glob("part-*.parquet"))
    spark.read.parquet(*files).createOrReplaceTempView("events")
    t = ibis.pyspark.connect(spark).table("events")
    return jl.from_ibis(t.filter(t.session_id.notnull()), **ROLES)


def child(engine: str, step: str, folder: Path) -> dict:
    sys.path.insert(0, str(ROOT))
    import tempfile
    import warnings

    warnings.simplefilter("ignore")
    import journeylab as jl
    from journeylab._core.backend import fetched

    journey = jl.Journey.from_yaml(folder / "_journey.yaml")
    t = time.perf_counter()
    log = _build(engine, folder)
    out = {"engine": engine, "step": step, "build_s": time.perf_counter() - t}
    t, cpu = time.perf_counter(), _cpu()
    with fetched() as f:
        if step == "build":
            out["events"], out["cases"] = int(log.n_events), int(log.n_cases)
        elif step == "discover":
            jl.discover(log)
        elif step == "variants":
            jl.variants(log)
        elif step == "compare":
            jl.compare(log, journey, progress=False)
        elif step == "funnel":
            jl.funnel(log, journey, progress=False)
        elif step == "goal_attainment":
            jl.goal_attainment(log, journey)
        elif step == "cluster_journeys":
            jl.cluster_journeys(log, method="kmeans", random_state=0, progress=False)
        elif step == "report":
            with tempfile.TemporaryDirectory() as tmp:
                jl.report(log, journey=journey, out=Path(tmp) / "r.html", progress=False, timeout=None)
    out.update(step_s=time.perf_counter() - t, cpu_s=_cpu() - cpu, fetched=f.rows, largest=f.largest,
               queries=f.queries)
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["child_mb"] = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, _live_children_mb())
    return out


def _cpu() -> float:
    """CPU seconds of this process (all its threads: DuckDB's too) and of its finished children (the report's
    kernel); not of a live child (Spark's JVM). On a shared machine the steadier figure than wall time."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _live_children_mb() -> float:
    """The largest peak RSS (VmHWM) among this process's live descendants (Spark's JVM), from /proc; 0 elsewhere."""
    parent: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parent[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    mine, todo = set(), [os.getpid()]
    while todo:
        pid = todo.pop()
        kids = [c for c, p in parent.items() if p == pid and c not in mine]
        mine.update(kids)
        todo.extend(kids)
    peak = 0.0
    for pid in mine:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
        except OSError:
            continue
    return peak


def child_pm4py(folder: Path) -> dict:
    import pandas as pd
    import pm4py
    import yaml

    journey = yaml.safe_load((folder / "_journey.yaml").read_text(encoding="utf-8"))
    df = pd.read_parquet(folder, columns=["session_id", "activity", "timestamp"])
    df = df[df["session_id"].notna()]
    df["session_id"] = df["session_id"].astype(str)
    t, cpu = time.perf_counter(), _cpu()
    log = pm4py.format_dataframe(df, case_id="session_id", activity_key="activity", timestamp_key="timestamp")
    pm4py.discover_dfg(log)
    variants = pm4py.get_variants(log)
    out = {"discover_s": time.perf_counter() - t, "variants": len(variants), "discover_cpu_s": _cpu() - cpu}
    t, cpu = time.perf_counter(), _cpu()
    milestones = journey["milestones"]
    to_milestone = {a: m["name"] for m in milestones for a in m["activities"]}
    proj = log[log["concept:name"].isin(to_milestone)].copy()
    proj["concept:name"] = proj["concept:name"].map(to_milestone)
    happy = [m["name"] for m in milestones if not m.get("optional") and m.get("kind", "positive") != "negative"]
    model = pd.DataFrame({"case:concept:name": "happy", "concept:name": happy,
                          "time:timestamp": pd.date_range("2025-01-01", periods=len(happy), freq="h", tz="UTC")})
    net, im, fm = pm4py.discover_petri_net_inductive(model)
    pm4py.conformance_diagnostics_token_based_replay(proj, net, im, fm)
    out["replay_s"], out["replay_cpu_s"] = time.perf_counter() - t, _cpu() - cpu
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def run(args: list[str], budget: float) -> dict:
    """Run one measurement in a fresh process; ``{"error": ...}`` when it fails or takes over ``budget`` s."""
    cmd = [sys.executable, __file__, *args]
    env = {**os.environ, "TQDM_DISABLE": "1", "PYTHONPATH": str(ROOT)}
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=budget, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"over {budget:.0f} s", "timeout_s": budget}
    lines = [x for x in proc.stdout.splitlines() if x.startswith(MARK)]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        killed = proc.returncode < 0 and "killed" or tail[:120]
        return {"error": killed}
    return json.loads(lines[-1][len(MARK):])


#: journeylab's steps that pm4py's discover_dfg + get_variants + token replay are compared with
PM4PY_STEPS = ("discover", "variants", "compare", "funnel")


def _pm4py_row(size, r, timed: dict[str, list]) -> str:
    """pm4py's row: its time and peak, and the ratios to journeylab's discover + variants + compare + funnel
    (time: sum of the step times; memory: the largest peak of those processes) on each engine."""
    def ours(rs, key="step_s"):
        return sum(x.get(key, float("nan")) for x in rs)

    steps = " + ".join(PM4PY_STEPS)
    if "error" in r:
        if "timeout_s" not in r:
            return f"| {size} | pm4py | dfg + variants + token replay | | | | | | failed: {r['error']} |"
        bound = ", ".join(f"> {r['timeout_s'] / ours(rs):.1f}x {e}" for e, rs in timed.items())
        return (f"| {size} | pm4py | dfg + variants + token replay | | > {r['timeout_s']:.0f} | | | | stopped after "
                f"{r['timeout_s']:.0f} s; pm4py time / journeylab {steps}: {bound} |")
    total = r["discover_s"] + r["replay_s"]
    cpu = r.get("discover_cpu_s", float("nan")) + r.get("replay_cpu_s", float("nan"))
    ratios = ", ".join(f"{e}: {total / ours(rs):.1f}x wall, {cpu / ours(rs, 'cpu_s'):.1f}x cpu, peak "
                       f"{max(x['peak_mb'] for x in rs):,.0f} MB" for e, rs in timed.items())
    return (f"| {size} | pm4py | dfg + variants ({r['discover_s']:.1f} s) + token replay "
            f"({r['replay_s']:.1f} s) | | {total:.1f} | {cpu:.1f} | {r['peak_mb']:,.0f} | | pm4py / journeylab "
            f"{steps}: {ratios} |")


def _row(size, r) -> str:
    if "error" in r:
        return f"| {size} | {r['engine']} | {r['step']} | | | | | | failed: {r['error']} |"
    step = "" if r["step"] == "build" else f"{r['step_s']:.1f}"
    cpu = "" if r["step"] == "build" or "cpu_s" not in r else f"{r['cpu_s']:.1f}"
    what = (f"{r['events']:,} events, {r['cases']:,} cases" if r["step"] == "build"
            else f"{r['fetched']:,} / {r['largest']:,}")
    return (f"| {size} | {r['engine']} | {r['step']} | {r['build_s']:.1f} | {step} | {cpu} | {r['peak_mb']:,.0f} "
            f"| {r['child_mb']:,.0f} | {what} |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100k events, memory and DuckDB (smoke run)")
    parser.add_argument("--big", action="store_true", help="also 100M events (DuckDB only)")
    parser.add_argument("--spark", action="store_true", help="also Spark local[2] (needs pyspark and Java)")
    parser.add_argument("--sizes", default=None, help="comma-separated of " + ", ".join(SIZES))
    parser.add_argument("--engines", default=None, help="comma-separated of memory, duckdb, spark")
    parser.add_argument("--steps", default=",".join(STEPS), help="comma-separated of " + ", ".join(STEPS))
    parser.add_argument("--no-pm4py", action="store_true", help="leave pm4py out")
    parser.add_argument("--budget", type=float, default=3600, help="seconds a step may take (default 3600)")
    parser.add_argument("--out", default=None, help="results file stem (default benchmarks/results/scale[_quick])")
    parser.add_argument("--child", nargs=3, metavar=("ENGINE", "STEP", "FOLDER"), help=argparse.SUPPRESS)
    parser.add_argument("--child-pm4py", metavar="FOLDER", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(MARK + json.dumps(child(args.child[0], args.child[1], Path(args.child[2]))), flush=True)
        return 0
    if args.child_pm4py:
        print(MARK + json.dumps(child_pm4py(Path(args.child_pm4py))), flush=True)
        return 0

    sizes = (args.sizes.split(",") if args.sizes else ["100k"] if args.quick else ["1M", "14M"])
    if args.big and "100M" not in sizes:
        sizes.append("100M")
    engines = args.engines.split(",") if args.engines else ["memory", "duckdb"] + (["spark"] if args.spark else [])
    steps = [s for s in args.steps.split(",") if s]
    for name, values, allowed in (("size", sizes, SIZES), ("engine", engines, ENGINES), ("step", steps, STEPS)):
        bad = [v for v in values if v not in allowed]
        if bad:
            parser.error(f"unknown {name} {bad[0]!r}; choose from {', '.join(allowed)}")
    stem = Path(args.out) if args.out else ROOT / "benchmarks" / "results" / ("scale_quick" if args.quick else "scale")
    header = [f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores, "
              f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GB RAM",
              "", "| log | engine | step | build s | step s | cpu s | peak MB | child MB | rows fetched (total / largest) |",
              "|---|---|---|---|---|---|---|---|---|"]
    print("\n".join(header), flush=True)
    lines, results = list(header), []
    for size in sizes:
        folder = ensure(size)
        timed: dict[str, list] = {}
        for engine in engines:
            if size == "100M" and engine != "duckdb":
                continue  # neither pandas nor a local Spark driver holds 100M events on this machine
            for step in steps:
                r = {"size": size, "engine": engine, "step": step, **run(["--child", engine, step, str(folder)],
                                                                       args.budget)}
                results.append(r)
                line = _row(size, r)
                lines.append(line)
                print(line, flush=True)
                if step in PM4PY_STEPS and "error" not in r:
                    timed.setdefault(engine, []).append(r)
        if not args.no_pm4py and size != "100M":
            r = {"size": size, "engine": "pm4py", **run(["--child-pm4py", str(folder)], args.budget)}
            results.append(r)
            line = _pm4py_row(size, r, {e: rs for e, rs in timed.items() if len(rs) == len(PM4PY_STEPS)})
            lines.append(line)
            print(line, flush=True)
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    stem.with_suffix(".json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {stem.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
