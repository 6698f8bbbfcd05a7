"""The only module that imports pm4py: an adapter that feeds it the variant table and returns pm4py's
models, their exports (BPMN, PNML text) and plain structures of them (for plots: nested dicts, lists).

Process-mining algorithms run on the *variant table* (each distinct activity sequence
once, with its number of cases), never on the raw events: the inductive miner, the
heuristics miner, token-based replay fitness and ETConformance precision all depend on
the log only through its variants, so the results equal pm4py's on the full log while
the work shrinks by orders of magnitude.

pm4py is imported lazily, inside these functions, so ``import journeylab`` stays fast
and pm4py's licence banner (printed only when pm4py is imported from ``__main__``) is
not shown. pm4py on pandas 3 with pyarrow needs ``mode.string_storage = "python"`` for
its variant filters: :func:`python_strings` sets it for the duration of a call and
restores it. ``pm4py.format_dataframe`` mutates its input: :func:`pm4py_frame` hands pm4py
a copy.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

__all__ = [
    "python_strings",
    "pm4py_frame",
    "variant_counter",
    "inductive_tree",
    "heuristics_net",
    "to_petri_net",
    "to_bpmn",
    "bpmn_xml",
    "pnml_xml",
    "replay_fitness",
    "etc_precision",
    "tree_structure",
    "net_structure",
]


@contextlib.contextmanager
def python_strings():
    """Run pm4py with Python-object string storage (its variant filters need it on pandas 3)."""
    old = pd.get_option("mode.string_storage")
    pd.set_option("mode.string_storage", "python")
    try:
        yield
    finally:
        pd.set_option("mode.string_storage", old)


def _pm4py():
    import pm4py  # noqa: PLC0415 - lazy on purpose (import time, licence banner)

    return pm4py


def pm4py_frame(log) -> pd.DataFrame:
    """The log as a fresh DataFrame with pm4py's column names (safe to hand to pm4py)."""
    return log.to_pm4py().copy()


def variant_counter(variants: pd.DataFrame) -> Counter:
    """A pm4py "univariate variant-compressed log": Counter(variant tuple -> number of cases)."""
    return Counter({tuple(v): int(c) for v, c in zip(variants["variant"], variants["count"])})


# --------------------------------------------------------------------------- discovery


def dfg_uvcl(log: Mapping[tuple, int]):
    """The directly-follows graph of a variant Counter, equal to pm4py's
    ``pm4py.util.compression.util.discover_dfg_uvcl`` (same counts, same key order) in one
    pass over the variants instead of one pass per activity for the start and end counts.

    >>> from collections import Counter
    >>> g = dfg_uvcl(Counter({("a", "b", "a", "b"): 2, ("b",): 1}))
    >>> dict(g.graph), dict(g.start_activities), dict(g.end_activities)
    ({('a', 'b'): 4, ('b', 'a'): 2}, {'a': 2, 'b': 1}, {'b': 3})
    """
    from pm4py.objects.dfg.obj import DFG

    dfg = DFG()
    graph = dfg.graph
    starts: dict = {}
    ends: dict = {}
    for trace, n in log.items():
        if not trace:
            continue
        for pair in zip(trace, trace[1:]):
            graph[pair] += n
        starts[trace[0]] = starts.get(trace[0], 0) + n
        ends[trace[-1]] = ends.get(trace[-1], 0) + n
    # pm4py fills them activity by activity in sorted order
    for a in sorted(starts):
        dfg.start_activities[a] = starts[a]
    for a in sorted(ends):
        dfg.end_activities[a] = ends[a]
    return dfg


_PATCH_LOCK = threading.Lock()
_PATCH_DEPTH = 0
_ORIGINAL_DFG = None


@contextlib.contextmanager
def _one_pass_dfg():
    """Let pm4py's inductive miner use :func:`dfg_uvcl` (its results are identical; the miner
    recomputes the graph of every sub-log it tries, and pm4py's version is quadratic in the
    number of activities). Counted, under a lock: overlapping calls from several threads
    share the swap, and the last one out restores pm4py's function (also on error)."""
    global _PATCH_DEPTH, _ORIGINAL_DFG
    from pm4py.util.compression import util as comut

    with _PATCH_LOCK:
        if _PATCH_DEPTH == 0:
            _ORIGINAL_DFG = comut.discover_dfg_uvcl
            comut.discover_dfg_uvcl = dfg_uvcl
        _PATCH_DEPTH += 1
    try:
        yield
    finally:
        with _PATCH_LOCK:
            _PATCH_DEPTH -= 1
            if _PATCH_DEPTH == 0:
                comut.discover_dfg_uvcl = _ORIGINAL_DFG


def inductive_tree(counter: Mapping[tuple, int], *, noise: float = 0.0):
    """pm4py's inductive miner (IM, or IMf when ``noise > 0``) on a variant Counter.

    Same parameters, folding and sorting as ``pm4py.discover_process_tree_inductive``,
    so the tree equals the one found on the full log.
    """
    _pm4py()
    from pm4py.algo.discovery.inductive.dtypes.im_ds import IMDataStructureUVCL
    from pm4py.algo.discovery.inductive.variants.im import IMUVCL
    from pm4py.algo.discovery.inductive.variants.imf import IMFUVCL
    from pm4py.objects.process_tree.utils import generic as pt_util

    params = {"noise_threshold": float(noise), "multiprocessing": False, "disable_fallthroughs": False}
    miner = IMFUVCL(params) if noise > 0 else IMUVCL(params)
    with python_strings(), _one_pass_dfg():
        tree = miner.apply(IMDataStructureUVCL(Counter(counter)), params)
        tree = pt_util.fold(tree)
        pt_util.tree_sort(tree)
    return tree


def heuristics_net(counter: Mapping[tuple, int], *, dependency_threshold: float = 0.5):
    """pm4py's heuristics miner fed with statistics computed from a variant Counter.

    The directly-follows counts, the window-2 counts, the frequency triples, the activity
    occurrences and the start / end activities are exactly those pm4py computes on the
    full log, each variant weighted by its number of cases.
    """
    _pm4py()
    from pm4py.algo.discovery.heuristics.variants import classic

    dfg, w2, triples, occ, starts, ends = Counter(), Counter(), Counter(), Counter(), Counter(), Counter()
    for v, c in counter.items():
        if not v:
            continue
        starts[v[0]] += c
        ends[v[-1]] += c
        for i, a in enumerate(v):
            occ[a] += c
            if i >= 1:
                dfg[(v[i - 1], a)] += c
            if i >= 2:
                w2[(v[i - 2], a)] += c
                triples[(v[i - 2], v[i - 1], a)] += c
    params = {classic.Parameters.DEPENDENCY_THRESH: float(dependency_threshold)}
    return classic.apply_heu_dfg(
        dict(dfg),
        activities=list(occ),
        activities_occurrences=dict(occ),
        start_activities=dict(starts),
        end_activities=dict(ends),
        dfg_window_2=dict(w2),
        freq_triples=dict(triples),
        parameters=params,
    )


def to_petri_net(model):
    """(net, initial marking, final marking) of a process tree or heuristics net."""
    return _pm4py().convert_to_petri_net(model)


def to_bpmn(*model):
    """A pm4py BPMN object from a process tree, or from (net, im, fm)."""
    return _pm4py().convert_to_bpmn(*model)


def _export_text(write, suffix: str) -> str:
    with tempfile.TemporaryDirectory(prefix="journeylab-") as tmp:
        path = os.path.join(tmp, "model" + suffix)
        write(path)
        return Path(path).read_text(encoding="utf-8")


def _layout_bpmn(bpmn) -> None:
    """Give a BPMN diagram coordinates with journeylab's layered layout (no Graphviz needed)."""
    from pm4py.objects.bpmn.obj import BPMN

    from .._core.layout import layered_layout

    nodes = list(bpmn.get_nodes())
    flows = list(bpmn.get_flows())
    size = {}
    for i, n in enumerate(nodes):
        if isinstance(n, BPMN.Activity):
            size[i] = (100.0, 60.0)
        elif isinstance(n, BPMN.Gateway):
            size[i] = (50.0, 50.0)
        else:
            size[i] = (36.0, 36.0)
    idx = {id(n): i for i, n in enumerate(nodes)}
    first = next((idx[id(n)] for n in nodes if isinstance(n, BPMN.StartEvent)), None)
    last = next((idx[id(n)] for n in nodes if isinstance(n, BPMN.EndEvent)), None)
    edges = [(idx[id(f.source)], idx[id(f.target)], 1.0) for f in flows]
    lay = layered_layout(list(range(len(nodes))), edges, sizes={i: (w / 100, h / 100) for i, (w, h) in size.items()},
                         first=first, last=last, layer_gap=0.5, row_gap=0.4)
    centre = {i: (x * 100 + 60, -y * 100 + 60) for i, (x, y) in lay.pos.items()}  # BPMN y grows downwards
    for i, n in enumerate(nodes):
        (cx, cy), (w, h) = centre[i], size[i]
        n.set_x(cx - w / 2)
        n.set_y(cy - h / 2)
        n.set_width(w)
        n.set_height(h)
    for f in flows:
        a, b = idx[id(f.source)], idx[id(f.target)]
        (ax, ay), (bx, by) = centre[a], centre[b]
        f.del_waypoints()
        f.add_waypoint((ax + size[a][0] / 2, ay) if bx > ax else (ax - size[a][0] / 2, ay))
        for x, y in lay.bends.get((a, b), []):
            f.add_waypoint((x * 100 + 60, -y * 100 + 60))
        f.add_waypoint((bx - size[b][0] / 2, by) if bx > ax else (bx + size[b][0] / 2, by))


def bpmn_xml(bpmn) -> str:
    """The BPMN 2.0 XML text of a pm4py BPMN object, with diagram coordinates.

    pm4py lays diagrams out with Graphviz's ``dot``; without it, journeylab's own layered
    layout places the shapes, so the file opens in BPMN modelers on any machine.
    """
    import shutil

    pm4py = _pm4py()
    if shutil.which("dot"):
        return _export_text(lambda p: pm4py.write_bpmn(bpmn, p, auto_layout=True), ".bpmn")
    _layout_bpmn(bpmn)
    return _export_text(lambda p: pm4py.write_bpmn(bpmn, p, auto_layout=False), ".bpmn")


def pnml_xml(net, im, fm) -> str:
    """The PNML text of an accepting Petri net."""
    pm4py = _pm4py()
    return _export_text(lambda p: pm4py.write_pnml(net, im, fm, p), ".pnml")


# --------------------------------------------------------------------------- quality


def _trace_log(sequences: Iterable[tuple]):
    from pm4py.objects.log.obj import Event, EventLog, Trace

    out = EventLog()
    for seq in sequences:
        trace = Trace()
        for a in seq:
            ev = Event()
            ev["concept:name"] = a
            trace.append(ev)
        out.append(trace)
    return out


def replay_fitness(net, im, fm, counter: Mapping[tuple, int]) -> tuple[dict, pd.DataFrame]:
    """Token-based replay of each variant once, weighted by its cases.

    Returns pm4py's summary (``log_fitness``, ``average_trace_fitness``,
    ``percentage_of_fitting_traces``), equal to ``pm4py.fitness_token_based_replay`` on
    the full log, and a per-variant table (``trace_fitness``, ``fits``, token counts).
    """
    _pm4py()
    from pm4py.algo.conformance.tokenreplay import algorithm as replay
    from pm4py.algo.conformance.tokenreplay.variants import token_replay as tr

    variants = list(counter)
    params = {
        tr.Parameters.CONSIDER_REMAINING_IN_FITNESS: True,
        tr.Parameters.CLEANING_TOKEN_FLOOD: False,
        tr.Parameters.SHOW_PROGRESS_BAR: False,
    }
    with python_strings():
        res = replay.apply(_trace_log(variants), net, im, fm, variant=replay.Variants.TOKEN_REPLAY, parameters=params)
    per = pd.DataFrame({
        "variant": variants,
        "count": [int(counter[v]) for v in variants],
        "trace_fitness": [float(r["trace_fitness"]) for r in res],
        "fits": [bool(r["trace_is_fit"]) for r in res],
        "missing": [int(r["missing_tokens"]) for r in res],
        "remaining": [int(r["remaining_tokens"]) for r in res],
        "consumed": [int(r["consumed_tokens"]) for r in res],
        "produced": [int(r["produced_tokens"]) for r in res],
    })
    w = per["count"]
    n = int(w.sum())
    tot = {k: int((per[k] * w).sum()) for k in ("missing", "remaining", "consumed", "produced")}
    summary = {"log_fitness": 0.0, "average_trace_fitness": 0.0, "percentage_of_fitting_traces": 0.0}
    if n and tot["consumed"] and tot["produced"]:
        summary = {
            "log_fitness": 0.5 * (1 - tot["missing"] / tot["consumed"]) + 0.5 * (1 - tot["remaining"] / tot["produced"]),
            "average_trace_fitness": float((per["trace_fitness"] * w).sum() / n),
            "percentage_of_fitting_traces": 100.0 * int(w[per["fits"]].sum()) / n,
        }
    return summary, per


def etc_precision(net, im, fm, counter: Mapping[tuple, int]) -> float:
    """ETConformance precision (Munoz-Gama and Carmona), as ``pm4py.precision_token_based_replay``.

    The prefixes and their counts come from the variants weighted by cases; each distinct
    prefix is replayed once.
    """
    _pm4py()
    from pm4py.algo.conformance.tokenreplay import algorithm as replay
    from pm4py.algo.conformance.tokenreplay.variants import token_replay as tr
    from pm4py.objects.petri_net.utils.align_utils import get_visible_transitions_eventually_enabled_by_marking

    follows: dict[tuple, set] = {}
    weight: Counter = Counter()
    for v, c in counter.items():
        for i in range(1, len(v)):
            p = v[:i]
            follows.setdefault(p, set()).add(v[i])
            weight[p] += c
    prefixes = list(follows)
    params = {
        tr.Parameters.SHOW_PROGRESS_BAR: False,
        tr.Parameters.CONSIDER_REMAINING_IN_FITNESS: False,
        tr.Parameters.TRY_TO_REACH_FINAL_MARKING_THROUGH_HIDDEN: False,
        tr.Parameters.STOP_IMMEDIATELY_UNFIT: True,
        tr.Parameters.WALK_THROUGH_HIDDEN_TRANS: True,
        tr.Parameters.CLEANING_TOKEN_FLOOD: False,
    }
    with python_strings():
        res = replay.apply(_trace_log(prefixes), net, im, fm, variant=replay.Variants.TOKEN_REPLAY, parameters=params)
    n = sum(counter.values())
    starts = {v[0] for v in counter if v}
    enabled = {t.label for t in get_visible_transitions_eventually_enabled_by_marking(net, im)}
    at, ee = n * len(enabled), n * len(enabled - starts)
    for p, r in zip(prefixes, res):
        if r["trace_is_fit"]:
            act = {t.label for t in r["enabled_transitions_in_marking"] if t.label is not None}
            at += len(act) * weight[p]
            ee += len(act - follows[p]) * weight[p]
    return 1.0 - ee / at if at > 0 else 1.0


# --------------------------------------------------------------------------- plain structures for plotting


_OPERATORS = {"->": "sequence", "X": "choice", "+": "parallel", "*": "loop", "O": "or"}


def tree_structure(tree) -> dict:
    """A process tree as plain nested dicts: ``{"operator": str|None, "label": str|None, "children": [...]}``.

    ``operator`` is one of "sequence", "choice", "parallel", "loop", "or" (None for a leaf);
    a leaf with ``label`` None is a silent step (tau).
    """
    op = tree.operator
    return {
        "operator": None if op is None else _OPERATORS.get(op.value, str(op.value)),
        "label": tree.label,
        "children": [tree_structure(c) for c in tree.children],
    }


def net_structure(net, im, fm) -> dict:
    """A Petri net as plain data: places, transitions (label None when silent), arcs, markings."""
    places = sorted(net.places, key=lambda p: str(p.name))
    transitions = sorted(net.transitions, key=lambda t: str(t.name))
    pid = {p: f"p{i}" for i, p in enumerate(places)}
    tid = {t: f"t{i}" for i, t in enumerate(transitions)}
    ids = {**pid, **tid}
    return {
        "places": [{"id": pid[p], "initial": int(im.get(p, 0)), "final": int(fm.get(p, 0))} for p in places],
        "transitions": [{"id": tid[t], "label": t.label} for t in transitions],
        "arcs": sorted((ids[a.source], ids[a.target]) for a in net.arcs),
    }
