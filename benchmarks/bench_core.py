"""Core benchmark: reading CSV / Parquet, building the log, directly-follows + variants,
journeylab against pandas + pm4py, on generated logs and on BPIC 2012.

Usage (from the repository root)::

    python benchmarks/bench_core.py                  # 1M and 5M events + BPIC 2012
    python benchmarks/bench_core.py --quick          # 100k events + BPIC 2012
    python benchmarks/bench_core.py --sizes 1e6 --steps agg --no-bpic

Every (step, tool, dataset) runs in a fresh Python subprocess, so that peak memory is
comparable. Inside the child, peak RSS is read from /proc (VmHWM; the high-water mark is
reset with /proc/self/clear_refs just before the measured step):

* ``peak MB``: the peak RSS of the whole child (imports + data loading + step);
* ``+MB``: how far RSS rose above its level just before the measured step, during the
  first repetition (the memory the step itself needs).

Times are the best of ``--repeat`` runs (3 by default; a step is not repeated once it
has used ``--budget`` seconds). The comparisons:

=========  ============================================  ============================================
step       journeylab                                    pm4py
=========  ============================================  ============================================
csv        ``jl.read_csv``                               ``pd.read_csv`` + ``pm4py.format_dataframe``
parquet    ``jl.read_parquet``                           ``pd.read_parquet`` + ``format_dataframe``
build      ``jl.from_pandas(df)``                        ``format_dataframe(df.copy(deep=False))``
agg        ``engine.directly_follows`` + ``variants``    ``pm4py.discover_dfg`` + ``get_variants``
           on a log just built (first call: includes     on a DataFrame already formatted
           handing the frame to DuckDB)
agg warm   the same calls again on the same log          the same calls again
=========  ============================================  ============================================

The table is printed and written to ``benchmarks/results/core.md`` (raw numbers in
``core.json``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import gc
import io
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import _gen

MARK = "@@BENCH_RESULT "
STEPS = ("csv", "parquet", "build", "agg")
TOOLS = ("journeylab", "pm4py")


# --------------------------------------------------------------------------- memory


def _status(key: str) -> float:
    """VmRSS / VmHWM of this process in MB (from /proc/self/status)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(key)


class Memory:
    """Peak-RSS bookkeeping for one child process."""

    def __init__(self):
        try:
            _status("VmHWM")
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
            self.exact = True
        except OSError:
            self.exact = False  # no /proc (macOS): fall back to ru_maxrss, +MB becomes a lower bound
        self.whole_peak = 0.0

    def rss(self) -> float:
        if self.exact:
            return _status("VmRSS")
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def hwm(self) -> float:
        if self.exact:
            return _status("VmHWM")
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def reset(self) -> float:
        """Record the peak so far, reset the high-water mark; return the current RSS."""
        self.whole_peak = max(self.whole_peak, self.hwm())
        if self.exact:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
        return self.rss()

    def peak(self) -> float:
        self.whole_peak = max(self.whole_peak, self.hwm())
        return self.whole_peak


# --------------------------------------------------------------------------- child


def _quiet_import_pm4py():
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        import pm4py  # prints a banner
    return pm4py


def _child(spec: dict) -> dict:
    mem = Memory()
    step, tool, ds = spec["step"], spec["tool"], spec["dataset"]
    roles = ds["roles"]
    import pandas as pd

    notes = []
    if tool == "journeylab":
        import journeylab as jl
        from journeylab import engine
        from journeylab.log import EventLog

        con = engine.duckdb_connection()
        for stmt in spec.get("duckdb", []):
            con.raw_sql(stmt)
    else:
        pm4py = _quiet_import_pm4py()
        if spec.get("string_storage"):
            pd.set_option("mode.string_storage", spec["string_storage"])
    import_mb = mem.rss()

    kw = {"case": roles["case"], "activity": roles["activity"], "timestamp": roles["timestamp"]}
    pmkw = {"case_id": roles["case"], "activity_key": roles["activity"], "timestamp_key": roles["timestamp"]}

    # ---- data loading (not measured)
    state: dict = {}
    if step == "build":
        state["df"] = pd.read_parquet(ds["parquet"])
    elif step == "agg":
        if tool == "journeylab":
            state["log"] = jl.read_parquet(ds["parquet"], **kw)
        else:
            state["df"] = pm4py.format_dataframe(pd.read_parquet(ds["parquet"]), **pmkw)
    gc.collect()
    loaded_mb = mem.rss()

    # ---- the measured step
    def run_once() -> tuple[dict, object]:
        t = {}
        c0 = time.process_time()
        if step == "csv":
            t0 = time.perf_counter()
            if tool == "journeylab":
                out = jl.read_csv(ds["csv"], **kw)
            else:
                out = pm4py.format_dataframe(pd.read_csv(ds["csv"]), **pmkw)
            t["total"] = time.perf_counter() - t0
            t["cpu"] = time.process_time() - c0
        elif step == "parquet":
            t0 = time.perf_counter()
            if tool == "journeylab":
                out = jl.read_parquet(ds["parquet"], **kw)
            else:
                out = pm4py.format_dataframe(pd.read_parquet(ds["parquet"]), **pmkw)
            t["total"] = time.perf_counter() - t0
            t["cpu"] = time.process_time() - c0
        elif step == "build":
            df = state["df"]
            t0 = time.perf_counter()
            if tool == "journeylab":
                out = jl.from_pandas(df, **kw)
            else:  # format_dataframe adds columns to its argument; a shallow copy keeps df intact (CoW)
                out = pm4py.format_dataframe(df.copy(deep=False), **pmkw)
            t["total"] = time.perf_counter() - t0
            t["cpu"] = time.process_time() - c0
        else:  # agg
            if tool == "journeylab":
                base = state["log"]
                # a fresh EventLog on the same frame: nothing cached, as right after reading
                log = EventLog(base._df, roles=base._roles, meta=base._meta)
                t0 = time.perf_counter()
                dfg = engine.directly_follows(log)
                t1 = time.perf_counter()
                var = engine.variants(log)
                t2 = time.perf_counter()
                c2 = time.process_time()
                dfg2 = engine.directly_follows(log)
                t3 = time.perf_counter()
                var2 = engine.variants(log)
                t4 = time.perf_counter()
                check = {"pairs": len(dfg), "df_sum": int(dfg["count"].sum()), "variants": len(var),
                             "var_sum": int(var["count"].sum()), "top": int(var["count"].iloc[0])}
                out = (log, dfg, var, dfg2, var2)
            else:
                f = state["df"]
                t0 = time.perf_counter()
                dfg, _sa, _ea = pm4py.discover_dfg(f, **pmkw_keys)
                t1 = time.perf_counter()
                var = pm4py.get_variants(f, **pmkw_keys)
                t2 = time.perf_counter()
                c2 = time.process_time()
                dfg2 = pm4py.discover_dfg(f, **pmkw_keys)
                t3 = time.perf_counter()
                var2 = pm4py.get_variants(f, **pmkw_keys)
                t4 = time.perf_counter()
                check = {"pairs": len(dfg), "df_sum": int(sum(dfg.values())), "variants": len(var),
                             "var_sum": int(sum(var.values())), "top": int(max(var.values()))}
                out = (dfg, var, dfg2, var2)
            t.update(df=t1 - t0, variants=t2 - t1, total=t2 - t0, cpu=c2 - c0, df_warm=t3 - t2, variants_warm=t4 - t3,
                     total_warm=t4 - t2)
            state["check"] = check
        return t, out

    pmkw_keys = {"case_id_key": "case:concept:name", "activity_key": "concept:name", "timestamp_key": "time:timestamp"}
    reps, deltas, shape = [], [], None
    budget = spec.get("budget", 60.0)
    started = time.perf_counter()
    for i in range(spec.get("repeat", 3)):
        gc.collect()
        before = mem.reset()
        t, out = run_once()
        deltas.append(mem.hwm() - before)
        if i == 0 and step in ("csv", "parquet", "build"):
            if tool == "journeylab":
                shape = {"events": out.n_events, "cases": out.n_cases}
            else:
                shape = {"events": len(out), "cases": int(out["case:concept:name"].nunique())}
        reps.append(t)
        del out
        if time.perf_counter() - started > budget:
            break
    best = {k: min(r[k] for r in reps) for k in reps[0]}
    return {
        "step": step, "tool": tool, "dataset": ds["name"], "times": best, "runs": len(reps),
        "all_totals": [r["total"] for r in reps], "peak_mb": mem.peak(), "step_mb": deltas[0],
        "step_mb_all": deltas, "import_mb": import_mb, "loaded_mb": loaded_mb,
        "mem_exact": mem.exact, "check": state.get("check") or shape, "notes": notes,
    }


# --------------------------------------------------------------------------- parent


def _datasets(sizes, bpic: bool) -> list[dict]:
    out = []
    for n in sizes:
        paths = _gen.ensure(n, ("csv", "parquet"))
        out.append({"name": _gen.size_label(n), "events": n, "csv": str(paths["csv"]), "parquet": str(paths["parquet"]),
                        "roles": {"case": "case_id", "activity": "activity", "timestamp": "timestamp"}})
    if bpic:
        try:
            paths = _gen.bpic2012(("csv", "parquet"))
        except FileNotFoundError as err:
            print(f"[bench_core] skipping BPIC 2012: {err}", flush=True)
        else:
            out.append({"name": "BPIC 2012", "events": 262_200, "csv": str(paths["csv"]),
                        "parquet": str(paths["parquet"]),
                            "roles": {"case": "case:concept:name", "activity": "concept:name",
                                       "timestamp": "time:timestamp"}})
    return out


def _run_child(spec: dict, timeout: float) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    try:
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout, env=env, cwd=str(ROOT))
    except subprocess.TimeoutExpired:
        return dict(spec, error=f"timeout after {timeout:.0f} s")
    for line in proc.stdout.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
    return dict(spec, error=f"exit {proc.returncode}: " + " | ".join(tail))


def _fmt_s(x) -> str:
    if x is None:
        return "-"
    return f"{x:.3f}" if x < 1 else f"{x:.2f}" if x < 100 else f"{x:.0f}"


def _fmt_mb(x) -> str:
    return "-" if x is None else f"{x:,.0f}"


ROW_LABELS = [
    ("csv", "total", "read CSV"),
    ("parquet", "total", "read Parquet"),
    ("build", "total", "build log (from_pandas / format_dataframe)"),
    ("agg", "total", "**DF + variants** (first call)"),
    ("agg", "df", "  directly-follows (first call)"),
    ("agg", "variants", "  variants (first call)"),
    ("agg", "total_warm", "DF + variants (repeat call)"),
]


def _time(r, key):
    return None if r is None or "error" in r else r["times"].get(key)


def _table(results: list[dict], datasets: list[dict]) -> tuple[str, list[str]]:
    idx = {(r["step"], r["tool"], r["dataset"]): r for r in results}
    head = ("| step | log | journeylab s | pm4py s | ratio | journeylab peak MB (+step) | pm4py peak MB (+step) "
            "| journeylab cpu s | pm4py cpu s |\n"
            "|---|---|---:|---:|---:|---:|---:|---:|---:|")
    lines, verdicts = [head], []
    for ds in datasets:
        for step, key, label in ROW_LABELS:
            j, p = idx.get((step, "journeylab", ds["name"])), idx.get((step, "pm4py", ds["name"]))
            if j is None and p is None:
                continue

            mem = key in ("total",)
            tj, tp = _time(j, key), _time(p, key)
            ratio = f"{tp / tj:.1f}x" if tj and tp else "-"

            def m(r, mem=mem):
                if r is None or "error" in r or not mem:
                    return ""
                return f"{_fmt_mb(r['peak_mb'])} (+{_fmt_mb(r['step_mb'])})"

            def c(r, mem=mem):
                if r is None or "error" in r or not mem or "cpu" not in r["times"]:
                    return ""
                return _fmt_s(r["times"]["cpu"])

            err = "; ".join(f"{r['tool']}: {r['error']}" for r in (j, p) if r is not None and "error" in r)
            lines.append(f"| {label} | {ds['name']} | {_fmt_s(tj)} | {_fmt_s(tp)} | {ratio} | {m(j)} | {m(p)} "
                         f"| {c(j)} | {c(p)} |"
                         + (f" {err}" if err else ""))
            if step == "agg" and key == "total" and tj and tp:
                faster = tp / tj
                less = j["peak_mb"] <= p["peak_mb"]
                less_step = j["step_mb"] <= p["step_mb"]
                target = (f" (target >= 5x: {'met' if faster >= 5 else 'MISSED'})"
                          if ds.get("events", 0) >= 5_000_000 and ds["name"] != "BPIC 2012" else "")
                verdicts.append(
                    f"- {ds['name']}: DF + variants ratio {faster:.1f}x (pm4py time / journeylab time){target}; "
                    f"peak RSS {_fmt_mb(j['peak_mb'])} vs "
                    f"{_fmt_mb(p['peak_mb'])} MB ({'not more' if less else 'MORE'}), step increase "
                    f"+{_fmt_mb(j['step_mb'])} vs +{_fmt_mb(p['step_mb'])} MB ({'not more' if less_step else 'MORE'})")
            if (step == "agg" and key == "total" and j and p and "error" not in j and "error" not in p
                    and j["check"] != p["check"]):
                verdicts.append(f"- WARNING {ds['name']}: results differ: journeylab {j['check']} "
                                    f"vs pm4py {p['check']}")
    return "\n".join(lines), verdicts


def _versions() -> str:
    code = ("import contextlib, io, pandas, numpy, pyarrow, duckdb, ibis\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n    import pm4py\n"
            "print(f'pandas {pandas.__version__}, numpy {numpy.__version__}, pyarrow {pyarrow.__version__}, '\n"
            "      f'duckdb {duckdb.__version__}, ibis {ibis.__version__}, pm4py {pm4py.__version__}')")
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1] if out.returncode == 0 and out.stdout.strip() else "?"


def _machine() -> str:
    try:
        mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem_gb = float("nan")
    return (f"{platform.machine()}, {os.cpu_count()} cores, {mem_gb:.0f} GB RAM, Python {platform.python_version()}, "
            f"load average at start {os.getloadavg()[0]:.2f}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="1e6,5e6", help="comma-separated event counts (default 1e6,5e6)")
    ap.add_argument("--quick", action="store_true", help="100k events only (a smoke run)")
    ap.add_argument("--no-bpic", action="store_true", help="skip BPIC 2012")
    ap.add_argument("--steps", default=",".join(STEPS), help=f"subset of {','.join(STEPS)}")
    ap.add_argument("--tools", default=",".join(TOOLS), help="subset of journeylab,pm4py (default both)")
    ap.add_argument("--repeat", type=int, default=3, help="repetitions per step, best time kept (default 3)")
    ap.add_argument("--budget", type=float, default=60.0, help="stop repeating a step after this many seconds")
    ap.add_argument("--threads", type=int, default=2, help="DuckDB threads of journeylab's engine (default 2)")
    ap.add_argument("--duckdb", action="append", default=[], metavar="SQL",
                    help="extra statement for the engine's DuckDB connection, e.g. "
                         "'SET preserve_insertion_order=false' (repeatable)")
    ap.add_argument("--string-storage", default=None, help="pandas mode.string_storage for the pm4py children")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per child process")
    ap.add_argument("--out", default=None,
                    help="markdown output (default benchmarks/results/core.md, core_quick.md with --quick)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:
        res = _child(json.loads(args.child))
        print(MARK + json.dumps(res), flush=True)
        return 0

    sizes = [100_000] if args.quick else [_gen.parse_size(s) for s in args.sizes.split(",") if s.strip()]
    steps = [s.strip() for s in args.steps.split(",") if s.strip()]
    bad = [s for s in steps if s not in STEPS]
    if bad:
        ap.error(f"unknown step(s) {bad}; choose from {list(STEPS)}")
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    if not tools or any(t not in TOOLS for t in tools):
        ap.error(f"--tools must be a subset of {list(TOOLS)}")
    duckdb_sql = [f"SET threads={args.threads}", *args.duckdb]
    datasets = _datasets(sizes, not args.no_bpic)
    gc.collect()

    started = _dt.datetime.now()
    machine, versions = _machine(), _versions()
    print(f"[bench_core] {machine}\n[bench_core] {versions}\n[bench_core] journeylab DuckDB: {duckdb_sql}", flush=True)
    results = []
    for ds in datasets:
        for step in steps:
            for tool in tools:
                spec = {"step": step, "tool": tool, "dataset": ds, "repeat": args.repeat, "budget": args.budget,
                            "duckdb": duckdb_sql, "string_storage": args.string_storage}
                t0 = time.perf_counter()
                res = _run_child(spec, args.timeout)
                res["wall"] = time.perf_counter() - t0
                results.append(res)
                if "error" in res:
                    print(f"[bench_core] {ds['name']:>9} {step:<8} {tool:<10} ERROR {res['error']}", flush=True)
                else:
                    print(f"[bench_core] {ds['name']:>9} {step:<8} {tool:<10} {res['times']['total']:8.3f} s "
                          f"(best of {res['runs']}: {', '.join(f'{x:.2f}' for x in res['all_totals'])}; "
                          f"cpu {res['times']['cpu']:.2f} s) "
                          f"peak {res['peak_mb']:,.0f} MB, step +{res['step_mb']:,.0f} MB", flush=True)

    table, verdicts = _table(results, datasets)
    load_end = os.getloadavg()[0]
    header = (
        f"# Core benchmark: journeylab vs pandas + pm4py\n\n"
        f"Run {started:%Y-%m-%d %H:%M}, {(_dt.datetime.now() - started).total_seconds() / 60:.1f} min, "
        f"`python benchmarks/bench_core.py {' '.join(argv if argv is not None else sys.argv[1:])}`.\n"
        f"Machine: {machine}, at end {load_end:.2f} (shared with other jobs: times are noisy).\n"
        f"Versions: {versions}. journeylab DuckDB settings: {'; '.join(duckdb_sql)}.\n\n"
        "Times: best of up to 3 runs, each (step, tool, log) in a fresh process. ratio = pm4py / journeylab. "
        "Memory: peak RSS of the whole process (imports + loading + step), and in brackets "
        "how much RSS rose during the measured step (first run). "
        "Generated logs: 10 events per case, 20 activities, rows in time order.\n\n"
    )
    text = header + table + "\n\n" + ("\n".join(verdicts) + "\n" if verdicts else "")
    print("\n" + text, flush=True)
    out = Path(args.out or ROOT / "benchmarks" / "results" / ("core_quick.md" if args.quick else "core.md"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    out.with_suffix(".json").write_text(json.dumps({"machine": machine, "versions": versions, "duckdb": duckdb_sql,
                                                        "results": results}, indent=1, default=str))
    print(f"[bench_core] wrote {out}", flush=True)
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
