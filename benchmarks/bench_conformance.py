"""Conformance benchmark: ``journeylab.conformance.compare`` against pm4py's alignments and
token-based replay on the happy path, on generated logs of 1M and 5M events.

Run by hand (never in the test suite)::

    python benchmarks/bench_conformance.py            # 1M and 5M events, both scenarios
    python benchmarks/bench_conformance.py --quick    # 100k events (a smoke run)
    python benchmarks/bench_conformance.py --sizes 2e6 --scenarios raw

The log comes from ``benchmarks/_gen.py`` (20 activities, cases of 10 events, five dominant
variants and a long tail). The happy path has five milestones taken from the most frequent
variant: ``compare products > add to cart > login > enter address > enter payment``. pm4py
gets it as a sequential Petri net (one labelled transition per milestone) with its standard
alignment costs; journeylab's costs must equal pm4py's divided by 10,000, case by case.

Two scenarios:

``raw`` - the same raw event log for both, no preparation on either side
    Every activity of the log is a milestone (the five of the happy path, the other fifteen
    optional) and ``compare(..., collapse=False)``, so a case's trace is its full activity
    sequence - exactly what pm4py aligns when it is given the event log.
``milestones`` - a typical journey
    Seven milestones (the happy path, a negative ``remove from cart`` and an optional
    ``apply coupon``); other events are ignored and runs of one milestone collapse into one
    visit. pm4py cannot map events to milestones, so the log is first *projected* for it with
    pandas (milestone events only, renamed, consecutive repeats dropped; timed apart as
    ``prepare``); pm4py then aligns that smaller log.

What is timed, each (tool, scenario, size) in its own subprocess that generates the same log:

* ``journeylab``: ``compare(log, journey)`` on an EventLog already built - mapping events to
  milestones, the variants, one alignment per variant, the per-case table, the deviation
  types and their effects. Every repetition starts from a fresh EventLog and empty caches;
  the best of ``--repeat`` runs is kept (``build`` = ``jl.from_pandas``, done once, apart).
* ``pm4py``: ``pm4py.conformance_diagnostics_alignments`` and
  ``pm4py.conformance_diagnostics_token_based_replay`` on the event log (all the cases;
  pm4py groups variants itself), best of ``--pm4py-repeat`` runs.

Checks: every case's alignment cost from journeylab equals pm4py's cost / 10,000, and token
replay finds a case fit exactly when journeylab finds no deviation other than ``unexpected``
(token replay ignores activities that the net does not know). The table is printed and
written to ``benchmarks/results/conformance.md`` (raw numbers in ``conformance.json``).
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
SCENARIOS = ("raw", "milestones")
#: the happy path: (milestone name, activity)
HAPPY = [("product", "compare products"), ("cart", "add to cart"), ("login", "login"),
         ("address", "enter address"), ("payment", "enter payment")]
#: the other milestones of the "milestones" scenario: (name, activity, kind)
EXTRA = [("remove", "remove from cart", "negative"), ("coupon", "apply coupon", "positive")]


def journey(scenario: str):
    """The benchmark journey; in the raw scenario milestones are named after their activity."""
    from journeylab.journey import Journey

    if scenario == "raw":
        happy = [a for _, a in HAPPY]
        ms = [{"name": a, "activities": [a]} for a in happy]
        ms += [{"name": a, "activities": [a], "optional": True} for a in _gen.ACTIVITIES if a not in happy]
    else:
        ms = [{"name": n, "activities": [a]} for n, a in HAPPY]
        ms += [{"name": n, "activities": [a], "kind": k, "optional": True} for n, a, k in EXTRA]
    return Journey.from_dict({"name": f"benchmark ({scenario})", "milestones": ms})


def happy_net(scenario: str):
    """The happy path as a sequential Petri net (pm4py objects), with initial and final marking."""
    from pm4py.objects.petri_net.obj import Marking, PetriNet
    from pm4py.objects.petri_net.utils import petri_utils

    labels = [a if scenario == "raw" else n for n, a in HAPPY]
    net = PetriNet("happy path")
    places = [PetriNet.Place(f"p{i}") for i in range(len(labels) + 1)]
    for p in places:
        net.places.add(p)
    for i, label in enumerate(labels):
        t = PetriNet.Transition(f"t{i}", label)
        net.transitions.add(t)
        petri_utils.add_arc_from_to(places[i], t, net)
        petri_utils.add_arc_from_to(t, places[i + 1], net)
    return net, Marking({places[0]: 1}), Marking({places[-1]: 1})


def pm4py_log(df, scenario: str):
    """The event log pm4py aligns: the raw log, or the milestone log as compare() sees it."""
    import pandas as pd

    d = df
    if scenario == "milestones":
        names = {a: n for n, a in HAPPY} | {a: n for n, a, _ in EXTRA}
        d = df[df["activity"].isin(list(names))]
        d = d.assign(activity=d["activity"].map(names)).sort_values(["case_id", "timestamp"], kind="stable")
        keep = (d["case_id"] != d["case_id"].shift()) | (d["activity"] != d["activity"].shift())
        d = d[keep]
    d = d.rename(columns={"case_id": "case:concept:name", "activity": "concept:name", "timestamp": "time:timestamp"})
    d = d.assign(**{"time:timestamp": pd.to_datetime(d["time:timestamp"], utc=True)})
    return d.reset_index(drop=True)


# --------------------------------------------------------------------------- workers


def _worker(tool: str, scenario: str, n_events: int, repeat: int, out_dir: str) -> dict:
    import gc

    import pandas as pd

    df = _gen.generate(n_events, seed=0)
    res: dict = {"tool": tool, "scenario": scenario, "events": len(df), "cases": int(df["case_id"].nunique())}
    if tool == "journeylab":
        import importlib

        import journeylab as jl
        from journeylab.log import EventLog

        conformance = importlib.import_module("journeylab.conformance")
        alignment = importlib.import_module("journeylab._kernels.alignment")
        t0 = time.perf_counter()
        base = jl.from_pandas(df, case="case_id", activity="activity", timestamp="timestamp")
        res["build"] = time.perf_counter() - t0
        j = journey(scenario)
        collapse = scenario != "raw"
        times = []
        for _ in range(repeat):
            alignment.align_tuple.cache_clear()
            log = EventLog(base._df, roles=base._roles, meta=base._meta)  # nothing cached
            gc.collect()
            t0 = time.perf_counter()
            out = conformance.compare(log, j, collapse=collapse)
            times.append(time.perf_counter() - t0)
        res.update(compare=min(times), compare_first=times[0], variants=len(out.variants),
                   conformance_rate=out.conformance_rate)
        # token replay ignores activities the net does not know (the milestones off the happy
        # path), so a trace is fit for it when its only deviations are 'unexpected'
        fit = out.cases["deviations"].map(lambda devs: all(d.startswith("unexpected") for d in devs))
        costs = out.cases[["cost"]].assign(conforms=fit.to_numpy()).reset_index()
    else:
        import gc

        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            import pm4py  # prints a banner
        pd.set_option("mode.string_storage", "python")
        net, im, fm = happy_net(scenario)
        t0 = time.perf_counter()
        d = pm4py.format_dataframe(pm4py_log(df, scenario), case_id="case:concept:name", activity_key="concept:name",
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
    path = Path(out_dir) / f"{tool}_{scenario}_{n_events}.parquet"
    costs.to_parquet(path)
    res["costs"] = str(path)
    return res


def _run_worker(tool: str, scenario: str, n_events: int, repeat: int, out_dir: str) -> dict:
    cmd = [sys.executable, __file__, "--worker", tool, scenario, str(n_events), str(repeat), out_dir]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    raise RuntimeError(f"{tool} worker failed ({scenario}, {n_events:,} events):\n{proc.stdout[-2000:]}\n"
                       f"{proc.stderr[-4000:]}")


def _check(jl_res: dict, pm_res: dict) -> tuple[str, str]:
    import pandas as pd

    a = pd.read_parquet(jl_res["costs"]).set_index("case")
    b = pd.read_parquet(pm_res["costs"]).set_index("case")
    a.index, b.index = a.index.astype(str), b.index.astype(str)
    both = a.add_suffix("_jl").join(b.add_suffix("_pm"), how="outer")
    n = len(both)
    same_cost = bool(len(a) == len(b) == n and (both["cost_jl"] == both["cost_pm"]).all())
    same_fit = bool(len(a) == len(b) == n and (both["conforms_jl"] == both["conforms_pm"]).all())
    return (f"yes ({n:,} cases)" if same_cost else f"NO ({int((both['cost_jl'] != both['cost_pm']).sum()):,} differ)",
            f"yes ({n:,} cases)" if same_fit else "NO")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", nargs="+", default=None, help="event counts, e.g. 1e6 5e6 (default: 1M and 5M)")
    ap.add_argument("--quick", action="store_true", help="100k events only")
    ap.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    ap.add_argument("--repeat", type=int, default=5, help="repetitions of journeylab's compare (best is kept)")
    ap.add_argument("--pm4py-repeat", type=int, default=2, help="repetitions of pm4py's calls (best is kept)")
    ap.add_argument("--worker", nargs=5, metavar=("TOOL", "SCENARIO", "EVENTS", "REPEAT", "DIR"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        tool, scenario, n, rep, out_dir = args.worker
        print(MARK + json.dumps(_worker(tool, scenario, int(n), int(rep), out_dir)), flush=True)
        return 0
    sizes = [_gen.parse_size(s) for s in (args.sizes or (["1e5"] if args.quick else ["1e6", "5e6"]))]
    rows = []
    with tempfile.TemporaryDirectory(prefix="jl-bench-conf-") as tmp:
        for scenario in args.scenarios:
            for n in sizes:
                label = f"{_gen.size_label(n)} events, {scenario}"
                print(f"[conformance] {label}: journeylab ...", flush=True)
                ours = _run_worker("journeylab", scenario, n, args.repeat, tmp)
                print(f"[conformance] {label}: pm4py (alignments, token replay) ...", flush=True)
                ref = _run_worker("pm4py", scenario, n, args.pm4py_repeat, tmp)
                same_cost, same_fit = _check(ours, ref)
                rows.append({
                    "scenario": scenario, "size": _gen.size_label(n), "events": ours["events"],
                    "cases": ours["cases"], "variants": ours["variants"], "conform": ours["conformance_rate"],
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

    head = ("| scenario | events | cases | variants aligned | journeylab `compare` | pm4py alignments | speed-up | "
            "pm4py token replay | speed-up | identical costs | same fit as token replay |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|:--|:--|\n")
    body = "".join(
        f"| {r['scenario']} | {r['events']:,} | {r['cases']:,} | {r['variants']:,} | {s(r['compare'])} | "
        f"{s(r['alignments'])} | {r['speedup_alignments']:.0f}x | {s(r['token_replay'])} | "
        f"{r['speedup_token_replay']:.0f}x | {r['same_costs']} | {r['same_fit']} |\n" for r in rows)
    extra = "".join(
        f"| {r['scenario']} | {r['size']} | {s(r['build'])} | {s(r['compare_first'])} | {s(r['prepare'])} | "
        f"{r['speedup_alignments_prepared']:.0f}x | {r['conform']:.1%} |\n" for r in rows)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"# Conformance benchmark ({_dt.date.today()})\n\n"
            f"`python benchmarks/bench_conformance.py{' --quick' if args.quick else ''}` - "
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"load average {load:.1f} at the end.\n\n"
            + head + body
            + f"\n*raw*: the same raw event log for both (every activity a milestone, `collapse=False`). "
            f"*milestones*: a 7-milestone journey; pm4py gets the log projected on the milestones first.\n"
            f"journeylab: best of {args.repeat} runs, each from a fresh EventLog and empty caches, from the raw "
            f"events. pm4py: best of {args.pm4py_repeat} runs of each call, on all the cases (pm4py groups variants "
            "itself). Wall-clock times on a shared machine.\n\n"
            "| scenario | size | journeylab build (`from_pandas`) | journeylab first `compare` | pm4py log preparation | "
            "speed-up incl. preparation | cases that conform |\n|---|---|---:|---:|---:|---:|---:|\n" + extra)


if __name__ == "__main__":
    sys.exit(main())
