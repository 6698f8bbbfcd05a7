"""Conformance benchmark: ``journeylab.conformance.compare`` against pm4py's alignments and
token-based replay on the happy path, on generated logs of 1M and 5M events.

Run by hand (never in the test suite)::

    python benchmarks/bench_conformance.py            # 1M and 5M events
    python benchmarks/bench_conformance.py --quick    # 100k events (a smoke run)
    python benchmarks/bench_conformance.py --sizes 2e6 --repeat 5

The log comes from ``benchmarks/_gen.py`` (about 20 activities, cases of 10 events, five
dominant variants and a long tail). The journey has five happy-path milestones taken from
the most frequent variant (``compare products > add to cart > login > enter address >
enter payment``), a negative milestone (``remove from cart``) and an optional one
(``apply coupon``); each milestone is one activity.

What is timed, each (tool, size) in its own subprocess that generates the same log:

* ``journeylab``: ``compare(log, journey)`` on an EventLog already built - mapping the
  events to milestones, the variants, one alignment per variant, the per-case table, the
  deviation types and their effects. Every repetition starts from a fresh EventLog and
  empty caches; the best of ``--repeat`` runs is reported (``build`` = ``jl.from_pandas``,
  done once, is shown apart).
* ``pm4py``: pm4py cannot map events to milestones, so the log is first *projected* as
  ``compare`` sees it - milestone events only, renamed to their milestone, consecutive
  repeats collapsed - with pandas (``prepare``, shown apart). Then, on that event log (pm4py
  gets all the cases, not a variant table), ``pm4py.conformance_diagnostics_alignments`` and
  ``pm4py.conformance_diagnostics_token_based_replay`` against the happy path as a
  sequential Petri net (pm4py's standard costs), best of ``--pm4py-repeat`` runs.

Checks: every case's alignment cost from journeylab equals pm4py's cost / 10,000, and token
replay finds a case fit exactly when journeylab finds no deviation other than ``unexpected``
(token replay ignores activities that the net does not know). The table is printed
and written to ``benchmarks/results/conformance.md`` (raw numbers in ``conformance.json``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import _gen

MARK = "@@BENCH_RESULT "
MILESTONES = [  # (name, activity, kind, optional)
    ("product", "compare products", "positive", False),
    ("cart", "add to cart", "positive", False),
    ("login", "login", "positive", False),
    ("address", "enter address", "positive", False),
    ("payment", "enter payment", "positive", False),
    ("remove", "remove from cart", "negative", True),
    ("coupon", "apply coupon", "positive", True),
]
HAPPY = [m[0] for m in MILESTONES if m[2] == "positive" and not m[3]]


def journey():
    from journeylab.journey import Journey

    return Journey.from_dict({"name": "benchmark purchase", "milestones": [
        {"name": n, "activities": [a], "kind": k, "optional": o} for n, a, k, o in MILESTONES]})


def happy_net():
    """The happy path as a sequential Petri net (pm4py objects), with initial and final marking."""
    from pm4py.objects.petri_net.obj import Marking, PetriNet
    from pm4py.objects.petri_net.utils import petri_utils

    net = PetriNet("happy path")
    places = [PetriNet.Place(f"p{i}") for i in range(len(HAPPY) + 1)]
    for p in places:
        net.places.add(p)
    for i, label in enumerate(HAPPY):
        t = PetriNet.Transition(f"t{i}", label)
        net.transitions.add(t)
        petri_utils.add_arc_from_to(places[i], t, net)
        petri_utils.add_arc_from_to(t, places[i + 1], net)
    return net, Marking({places[0]: 1}), Marking({places[-1]: 1})


def project(df):
    """The milestone log as compare() sees it, in pm4py's column names."""
    import pandas as pd

    names = {a: n for n, a, _, _ in MILESTONES}
    d = df[df["activity"].isin(list(names))]
    d = d.assign(activity=d["activity"].map(names)).sort_values(["case_id", "timestamp"], kind="stable")
    keep = (d["case_id"] != d["case_id"].shift()) | (d["activity"] != d["activity"].shift())
    d = d[keep].rename(columns={"case_id": "case:concept:name", "activity": "concept:name",
                                "timestamp": "time:timestamp"})
    d["time:timestamp"] = pd.to_datetime(d["time:timestamp"], utc=True)
    return d.reset_index(drop=True)


# --------------------------------------------------------------------------- workers


def _worker(tool: str, n_events: int, repeat: int, out_dir: str) -> dict:
    import gc

    import pandas as pd

    df = _gen.generate(n_events, seed=0)
    res: dict = {"tool": tool, "events": len(df), "cases": int(df["case_id"].nunique())}
    if tool == "journeylab":
        import journeylab as jl
        from journeylab import conformance
        from journeylab.log import EventLog

        t0 = time.perf_counter()
        base = jl.from_pandas(df, case="case_id", activity="activity", timestamp="timestamp")
        res["build"] = time.perf_counter() - t0
        j = journey()
        times = []
        for _ in range(repeat):
            conformance._align_tuple.cache_clear()
            log = EventLog(base._df, roles=base._roles, meta=base._meta)  # nothing cached
            gc.collect()
            t0 = time.perf_counter()
            out = conformance.compare(log, j)
            times.append(time.perf_counter() - t0)
        res.update(compare=min(times), compare_first=times[0], variants=len(out.variants),
                   conformance_rate=out.conformance_rate, n_aligned=out.n_cases)
        # token replay ignores activities the net does not know (here the milestones off the
        # happy path), so a trace is fit for it when its only deviations are 'unexpected'
        fit = out.cases["deviations"].map(lambda devs: all(d.startswith("unexpected") for d in devs))
        costs = out.cases[["cost"]].assign(conforms=fit.to_numpy()).reset_index()
    else:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            import pm4py  # prints a banner
        pd.set_option("mode.string_storage", "python")
        net, im, fm = happy_net()
        t0 = time.perf_counter()
        d = project(df)
        d = pm4py.format_dataframe(d, case_id="case:concept:name", activity_key="concept:name",
                                   timestamp_key="time:timestamp")
        res["prepare"] = time.perf_counter() - t0
        case_ids = d["case:concept:name"].drop_duplicates().tolist()  # pm4py's output order
        t_al, t_tbr = [], []
        with contextlib.redirect_stderr(io.StringIO()):
            for _ in range(repeat):
                gc.collect()
                t0 = time.perf_counter()
                aligned = pm4py.conformance_diagnostics_alignments(d, net, im, fm)
                t_al.append(time.perf_counter() - t0)
                gc.collect()
                t0 = time.perf_counter()
                replay = pm4py.conformance_diagnostics_token_based_replay(d, net, im, fm)
                t_tbr.append(time.perf_counter() - t0)
        res["alignments"], res["token_replay"] = min(t_al), min(t_tbr)
        costs = pd.DataFrame({"case": case_ids, "cost": [a["cost"] / 10_000 for a in aligned],
                              "conforms": [bool(r["trace_is_fit"]) for r in replay]})
    path = Path(out_dir) / f"{tool}_{n_events}.parquet"
    costs.to_parquet(path)
    res["costs"] = str(path)
    return res


def _run_worker(tool: str, n_events: int, repeat: int, out_dir: str) -> dict:
    cmd = [sys.executable, __file__, "--worker", tool, str(n_events), str(repeat), out_dir]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    raise RuntimeError(f"{tool} worker failed ({n_events:,} events):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


def _check(jl_res: dict, pm_res: dict) -> tuple[str, str]:
    import pandas as pd

    a = pd.read_parquet(jl_res["costs"]).set_index("case")
    b = pd.read_parquet(pm_res["costs"]).set_index("case")
    a.index, b.index = a.index.astype(str), b.index.astype(str)
    both = a.add_suffix("_jl").join(b.add_suffix("_pm"), how="outer")
    same_cost = bool(len(a) == len(b) == len(both) and (both["cost_jl"] == both["cost_pm"]).all())
    same_fit = bool((both["conforms_jl"] == both["conforms_pm"]).all())
    n = len(both)
    return (f"yes ({n:,} cases)" if same_cost else f"NO ({int((both['cost_jl'] != both['cost_pm']).sum()):,} differ)",
            f"yes ({n:,} cases)" if same_fit else "NO")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", nargs="+", default=None, help="event counts, e.g. 1e6 5e6 (default: 1M and 5M)")
    ap.add_argument("--quick", action="store_true", help="100k events only")
    ap.add_argument("--repeat", type=int, default=5, help="repetitions of journeylab's compare (best is kept)")
    ap.add_argument("--pm4py-repeat", type=int, default=2, help="repetitions of pm4py's calls (best is kept)")
    ap.add_argument("--worker", nargs=4, metavar=("TOOL", "EVENTS", "REPEAT", "DIR"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        tool, n, rep, out_dir = args.worker
        print(MARK + json.dumps(_worker(tool, int(n), int(rep), out_dir)), flush=True)
        return 0
    sizes = [_gen.parse_size(s) for s in (args.sizes or (["1e5"] if args.quick else ["1e6", "5e6"]))]
    rows = []
    with tempfile.TemporaryDirectory(prefix="jl-bench-conf-") as tmp:
        for n in sizes:
            print(f"[conformance] {_gen.size_label(n)} events: journeylab ...", flush=True)
            ours = _run_worker("journeylab", n, args.repeat, tmp)
            print(f"[conformance] {_gen.size_label(n)} events: pm4py (alignments, token replay) ...", flush=True)
            ref = _run_worker("pm4py", n, args.pm4py_repeat, tmp)
            same_cost, same_fit = _check(ours, ref)
            rows.append({
                "size": _gen.size_label(n), "events": ours["events"], "cases": ours["cases"],
                "variants": ours["variants"], "conform": ours["conformance_rate"],
                "build": ours["build"], "compare": ours["compare"], "compare_first": ours["compare_first"],
                "prepare": ref["prepare"], "alignments": ref["alignments"], "token_replay": ref["token_replay"],
                "speedup_alignments": ref["alignments"] / ours["compare"],
                "speedup_alignments_prepared": (ref["alignments"] + ref["prepare"]) / ours["compare"],
                "speedup_token_replay": ref["token_replay"] / ours["compare"],
                "same_costs": same_cost, "same_fit": same_fit,
            })
            print(json.dumps(rows[-1], default=str), flush=True)
    table = _markdown(rows, args)
    print(table)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stem = "conformance_quick" if args.quick else "conformance"
    (out / f"{stem}.md").write_text(table, encoding="utf-8")
    (out / f"{stem}.json").write_text(json.dumps(rows, indent=2, default=str), encoding="utf-8")
    return 0 if all(r["same_costs"].startswith("yes") and r["same_fit"].startswith("yes") for r in rows) else 1


def _markdown(rows, args) -> str:
    def s(x):
        return f"{x:.2f} s" if x >= 0.1 else f"{x * 1000:.0f} ms"

    head = ("| events | cases | milestone variants | journeylab `compare` | pm4py alignments | speed-up | "
            "pm4py token replay | speed-up | identical costs | same fit as token replay |\n"
            "|---:|---:|---:|---:|---:|---:|---:|---:|:--|:--|\n")
    body = "".join(
        f"| {r['events']:,} | {r['cases']:,} | {r['variants']:,} | {s(r['compare'])} | {s(r['alignments'])} | "
        f"{r['speedup_alignments']:.0f}x | {s(r['token_replay'])} | {r['speedup_token_replay']:.0f}x | "
        f"{r['same_costs']} | {r['same_fit']} |\n" for r in rows)
    extra = "".join(
        f"| {r['size']} | {s(r['build'])} | {s(r['compare_first'])} | {s(r['prepare'])} | "
        f"{r['speedup_alignments_prepared']:.0f}x | {r['conform']:.1%} |\n" for r in rows)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"# Conformance benchmark ({_dt.date.today()})\n\n"
            f"`python benchmarks/bench_conformance.py{' --quick' if args.quick else ''}` - {platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} CPUs, Python {platform.python_version()}, load average {load:.1f} at the end.\n\n"
            + head + body
            + f"\njourneylab: best of {args.repeat} runs, each from a fresh EventLog and empty caches, all from the "
            f"raw events. pm4py: best of {args.pm4py_repeat} runs of each call, on the milestone log already "
            "projected (all the cases: pm4py deduplicates variants itself). Wall-clock times on a shared machine; "
            "the load average is given above.\n\n"
            "| size | journeylab build (`from_pandas`) | journeylab first `compare` | pm4py projection (pandas) | "
            "speed-up incl. projection | cases that conform |\n|---|---:|---:|---:|---:|---:|\n" + extra)


if __name__ == "__main__":
    sys.exit(main())
