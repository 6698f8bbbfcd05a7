"""Discovery of actual journeys: process maps, variants, paths and process models.

Every function reads an :class:`~journeylab.EventLog` in a few scans that return small
tables - the variant table and the directly-follows durations, shared by the map, the
variants, the filters and the models - and returns a frozen result object with
``to_frame()``, ``summary``, ``plot(ax=None)`` and ``params``. In-memory logs are scanned
as integer codes with numpy; lazy logs (Spark, DuckDB tables) with Ibis expressions, like
:mod:`journeylab.engine`, whose results the scans equal.

- :func:`discover` -> :class:`ProcessMap`: the directly-follows map with an artificial
  start and end, simplified by two sliders like Disco's (``activities``, ``paths``).
- :func:`variants` -> :class:`Variants`: the distinct activity sequences and their cases.
- :func:`paths` -> :class:`Paths`: what happens in the steps after (or before) an activity.
- :func:`discover_model` -> :class:`Model`: a process tree / Petri net / BPMN found by
  pm4py on the variant table, with fitness and precision against the log.

Examples
--------
>>> import journeylab as jl
>>> log = jl.datasets.load_example()
>>> discover(log)
ProcessMap: 8 of 8 activities, 19 of 19 paths, 6 cases (activities=1.0, paths=1.0)
>>> variants(log, top=2)
Variants: top 2 of 6 variants, covering 33.3% of 6 cases
"""

from __future__ import annotations

import heapq
import math
import numbers
from dataclasses import dataclass, field
from html import escape

import ibis
import pandas as pd

from . import engine
from ._kernels.pm4py import Model
from ._core.vocabulary import END, START
from ._kernels.scans import _variant_rows
from ._kernels.scans import map_tables as _map_tables
from ._util import did_you_mean
from .exceptions import InvalidParameterError

__all__ = [
    "START",
    "END",
    "ProcessMap",
    "Variants",
    "Paths",
    "Model",
    "discover",
    "variants",
    "paths",
    "discover_model",
    "format_duration",
]



# --------------------------------------------------------------------------- helpers


def format_duration(td) -> str:
    """A short human reading of a duration: ``'45 s'``, ``'12 min'``, ``'5.2 h'``, ``'3.1 d'``.

    >>> format_duration(pd.Timedelta(hours=30))
    '1.2 d'
    """
    if td is None or pd.isna(td):
        return ""
    s = pd.Timedelta(td).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if s >= size:
            v = s / size
            return f"{v:.1f} {unit}" if v < 10 else f"{v:,.0f} {unit}"
    return f"{s:.0f} s"


def _share(value, name: str, *, allow_zero: bool = False) -> float:
    low = "[0, 1]" if allow_zero else "(0, 1]"
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isnan(float(value))
    if ok:
        v = float(value)
        ok = (0.0 <= v <= 1.0) if allow_zero else (0.0 < v <= 1.0)
    if not ok:
        hint = f" (a percentage? use {float(value) / 100:g})" if ok is False and isinstance(value, numbers.Real) \
            and not isinstance(value, bool) and 1 < float(value) <= 100 else ""
        raise InvalidParameterError(
            f"{name}={value!r} is outside {low}{hint}; give a share of the log, e.g. {name}=0.8 keeps 80%."
        )
    return float(value)


def _positive_int(value, name: str, *, allow_none: bool = True) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise InvalidParameterError(f"{name}={value!r} must be a whole number >= 1 (or None for no limit).")
    return int(value)


def _check_activity(name, log, role: str) -> str:
    acts = log.activities
    if name not in acts:
        shown = list(acts[:12]) + (["..."] if len(acts) > 12 else [])
        raise InvalidParameterError(
            f"{role}={name!r} is not an activity of the log.{did_you_mean(str(name), acts)} "
            f"Activities (most frequent first): {shown}."
        )
    return name


def _table_html(title: str, frame: pd.DataFrame, max_rows: int = 15) -> str:
    shown = frame.head(max_rows)
    more = f"<p><i>{len(frame) - max_rows:,} more rows: use .to_frame()</i></p>" if len(frame) > max_rows else ""
    return f"<p><b>{escape(title)}</b></p>" + shown.to_html(escape=True, index=False) + more


def _fmt_durations(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for c in out.columns:
        if pd.api.types.is_timedelta64_dtype(out[c]):
            out[c] = out[c].map(format_duration)
    return out


# --------------------------------------------------------------------------- process map


def _widest_tree(edges: pd.DataFrame, root: str, reverse: bool) -> set[int]:
    """Edges of a maximum-bottleneck ("strongest route") tree from ``root`` (to it when reverse)."""
    adj: dict[str, list] = {}
    src, dst = ("target", "source") if reverse else ("source", "target")
    order = edges.sort_values(["count", "source", "target"], ascending=[False, True, True])
    for i, u, v, w in zip(order.index, order[src], order[dst], order["count"]):
        adj.setdefault(u, []).append((v, int(w), i))
    best = {root: math.inf}
    via: dict[str, int] = {}
    heap = [(-math.inf, 0, root)]
    tick = 1
    while heap:
        negb, _, u = heapq.heappop(heap)
        if -negb < best[u]:
            continue
        for v, w, i in adj.get(u, ()):
            b = min(best[u], w)
            if b > best.get(v, -1):
                best[v] = b
                via[v] = i
                heapq.heappush(heap, (-b, tick, v))
                tick += 1
    return set(via.values())


def _select_paths(edges: pd.DataFrame, paths: float) -> pd.DataFrame:
    if paths >= 1.0:
        return edges
    skeleton = _widest_tree(edges, START, reverse=False) | _widest_tree(edges, END, reverse=True)
    rest = edges.drop(index=list(skeleton)).sort_values(["count", "source", "target"], ascending=[False, True, True])
    extra = list(rest.index[: int(round(paths * len(rest)))])
    return edges.loc[sorted(skeleton | set(extra))]


@dataclass(frozen=True, eq=False, repr=False)
class ProcessMap:
    """A process map (directly-follows graph) with an artificial start and end.

    Attributes
    ----------
    nodes : DataFrame with ``activity``, ``events``, ``cases`` (kept activities, most frequent first).
    edges : DataFrame with ``source``, ``target``, ``count``, ``cases``, ``duration_mean``,
        ``duration_median``, ``duration_p90``; edges from :data:`START` and to :data:`END` count
        the cases that start / end there (their durations are NaT).
    n_cases, n_events : cases and events of the (projected) log the map describes.
    n_activities_total : activities in the whole log.
    n_edges_total : edges among the kept activities before the ``paths`` slider.
    event_share : share of the log's events that belong to kept activities.
    params : the arguments of :func:`discover`.
    """

    nodes: pd.DataFrame
    edges: pd.DataFrame
    n_cases: int
    n_events: int
    n_activities_total: int
    n_edges_total: int
    event_share: float
    params: dict = field(default_factory=dict)

    START = START
    END = END

    def to_frame(self) -> pd.DataFrame:
        """The edges (a copy), one row per path of the map, strongest first."""
        return self.edges.sort_values(["count", "source", "target"], ascending=[False, True, True],
                                      ignore_index=True)

    @property
    def summary(self) -> pd.DataFrame:
        """Size of the map against the log it describes."""
        rows = [
            ("activities", f"{len(self.nodes):,} of {self.n_activities_total:,}"),
            ("paths", f"{len(self.edges):,} of {self.n_edges_total:,}"),
            ("events covered", f"{self.event_share:.1%}"),
            ("cases", f"{self.n_cases:,}"),
            ("events", f"{self.n_events:,}"),
        ]
        return pd.DataFrame(rows, columns=["metric", "value"]).set_index("metric")

    def __repr__(self) -> str:
        p = self.params
        return (f"ProcessMap: {len(self.nodes):,} of {self.n_activities_total:,} activities, {len(self.edges):,} of "
                f"{self.n_edges_total:,} paths, {self.n_cases:,} cases "
                f"(activities={float(p.get('activities', 1.0))!r}, paths={float(p.get('paths', 1.0))!r})")

    def _repr_html_(self) -> str:
        return (f"<p>{escape(repr(self))}</p>" + _table_html("activities", self.nodes)
                + _table_html("paths", _fmt_durations(self.to_frame())))

    def plot(self, ax=None, *, metric: str = "frequency", **kwargs):
        """Draw the map left to right with matplotlib; see :func:`journeylab.plotting.plot_process_map`."""
        from .plotting import plot_process_map

        return plot_process_map(self, ax=ax, metric=metric, **kwargs)

    def to_networkx(self):
        """The map as a ``networkx.DiGraph`` (node attributes events/cases, edge attributes as :attr:`edges`)."""
        import networkx as nx

        g = nx.DiGraph()
        g.add_node(START, kind="start", events=self.n_cases, cases=self.n_cases)
        g.add_node(END, kind="end", events=self.n_cases, cases=self.n_cases)
        for r in self.nodes.itertuples(index=False):
            g.add_node(r.activity, kind="activity", events=int(r.events), cases=int(r.cases))
        for r in self.edges.to_dict("records"):
            g.add_edge(r.pop("source"), r.pop("target"), **r)
        return g

    def to_dot(self, *, metric: str = "frequency") -> str:
        """Graphviz DOT text of the map (``dot -Tsvg map.dot > map.svg`` where Graphviz is installed).

        >>> import journeylab as jl
        >>> discover(jl.datasets.load_example()).to_dot().splitlines()[0]
        'digraph process_map {'
        """
        if metric not in ("frequency", "time"):
            raise InvalidParameterError(f"metric={metric!r} is not allowed; use 'frequency' or 'time'.")

        def q(s):
            return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'

        top = max(int(self.edges["count"].max()), 1) if len(self.edges) else 1
        lines = ["digraph process_map {", "  rankdir=LR;",
                 '  node [shape=box, style="rounded,filled", fillcolor="#dbe9f6", fontname="Helvetica"];',
                 '  edge [fontname="Helvetica", fontsize=10, color="#4a5a6a"];',
                 f'  {q(START)} [shape=circle, label="", width=0.3, fillcolor="#2e9e5b"];',
                 f'  {q(END)} [shape=square, label="", width=0.3, fillcolor="#c0392b"];']
        for r in self.nodes.itertuples(index=False):
            lines.append(f"  {q(r.activity)} [label={q(f'{r.activity}' + chr(10) + f'{r.events:,}')}];")
        for r in self.edges.itertuples(index=False):
            label = f"{r.count:,}" if metric == "frequency" else format_duration(r.duration_median)
            width = 1 + 5 * (r.count / top) ** 0.5
            lines.append(f"  {q(r.source)} -> {q(r.target)} [label={q(label)}, penwidth={width:.2f}];")
        lines.append("}")
        return "\n".join(lines) + "\n"


def discover(log, *, activities: float = 1.0, paths: float = 1.0) -> ProcessMap:
    """Discover the process map of a log, simplified by two sliders like Disco's.

    Parameters
    ----------
    log : EventLog.
    activities : share of events in (0, 1]; keeps the most frequent activities that together
        cover that share of events (at least one). The events of the other activities are
        removed from the cases before the paths are counted, so the map stays connected.
    paths : share in [0, 1]; 0 keeps only the strongest routes that keep every activity
        reachable from the start and able to reach the end (maximum-bottleneck paths),
        1 keeps every edge; in between, that share of the other edges, strongest first.

    At ``activities=1.0, paths=1.0`` the map is exact: edge counts and mean durations equal
    pm4py's ``discover_dfg`` / ``discover_performance_dfg``.

    Examples
    --------
    >>> import journeylab as jl
    >>> log = jl.datasets.load_example()
    >>> m = discover(log)
    >>> int(m.edges.loc[m.edges["source"] == START, "count"].sum()) == log.n_cases
    True
    >>> discover(log, activities=0.5, paths=0.0)
    ProcessMap: 3 of 8 activities, 5 of 9 paths, 6 cases (activities=0.5, paths=0.0)
    """
    activities = _share(activities, "activities")
    paths = _share(paths, "paths", allow_zero=True)
    acts, _, _ = _map_tables(log, None)  # every activity, most frequent first (cached with the full map)
    total = int(acts["events"].sum())
    cum = acts["events"].cumsum() / total
    n_keep = min(int((cum < activities - 1e-12).sum()) + 1, len(acts))
    if n_keep == len(acts):
        nodes, edges, n_cases = _map_tables(log, None)
    else:
        nodes, edges, n_cases = _map_tables(log, tuple(sorted(acts["activity"].iloc[:n_keep])))
    shown = _select_paths(edges, paths)
    shown = shown.sort_values(["count", "source", "target"], ascending=[False, True, True], ignore_index=True)
    n_events = int(nodes["events"].sum())
    return ProcessMap(
        nodes=nodes,
        edges=shown,
        n_cases=n_cases,
        n_events=n_events,
        n_activities_total=len(acts),
        n_edges_total=len(edges),
        event_share=n_events / total,
        params={"activities": activities, "paths": paths},
    )


# --------------------------------------------------------------------------- variants


@dataclass(frozen=True, eq=False, repr=False)
class Variants:
    """The variants of a log: each distinct activity sequence with its cases.

    ``table`` columns: ``variant`` (tuple of activities), ``length``, ``count`` (cases),
    ``share`` (of all cases), ``cumulative_share``, ``duration_median`` (median case
    duration); most frequent first (ties by variant). ``n_cases`` and ``n_variants``
    describe the whole log; the table may hold only the top variants.
    """

    table: pd.DataFrame
    n_cases: int
    n_variants: int
    params: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The variant table (a copy), with a 1-based ``rank`` column."""
        out = self.table.copy()
        out.insert(0, "rank", range(1, len(out) + 1))
        return out

    @property
    def coverage(self) -> float:
        """Share of the cases that the variants in the table cover."""
        return float(self.table["count"].sum() / self.n_cases) if self.n_cases else 0.0

    @property
    def summary(self) -> pd.DataFrame:
        """Counts and coverage at a glance."""
        rows = [("variants shown", f"{len(self.table):,} of {self.n_variants:,}"),
                ("cases covered", f"{int(self.table['count'].sum()):,} of {self.n_cases:,} ({self.coverage:.1%})"),
                ("top variant share", f"{self.table['share'].iloc[0]:.1%}" if len(self.table) else "-"),
                ("single-case variants", f"{int((self.table['count'] == 1).sum()):,}")]
        return pd.DataFrame(rows, columns=["metric", "value"]).set_index("metric")

    def __len__(self) -> int:
        return len(self.table)

    def __repr__(self) -> str:
        what = "all" if len(self.table) == self.n_variants else f"top {len(self.table):,} of"
        return f"Variants: {what} {self.n_variants:,} variants, covering {self.coverage:.1%} of {self.n_cases:,} cases"

    def _repr_html_(self) -> str:
        shown = _fmt_durations(self.to_frame())
        shown["variant"] = shown["variant"].map(lambda v: " \u2192 ".join(v))
        shown["share"] = shown["share"].map("{:.1%}".format)
        shown["cumulative_share"] = shown["cumulative_share"].map("{:.1%}".format)
        return f"<p>{escape(repr(self))}</p>" + _table_html("variants", shown, max_rows=20)

    def plot(self, ax=None, **kwargs):
        """Trace explorer: one row per variant, coloured activity chips, share on the side.

        See :func:`journeylab.plotting.plot_variants`.
        """
        from .plotting import plot_variants

        return plot_variants(self, ax=ax, **kwargs)


def _variant_table(log) -> pd.DataFrame:
    v = _variant_rows(log)
    n = int(v["count"].sum())
    out = pd.DataFrame({
        "variant": v["variant"],
        "length": v["variant"].map(len).astype("int64"),
        "count": v["count"].astype("int64"),
    })
    out["share"] = out["count"] / n
    out["cumulative_share"] = out["count"].cumsum() / n
    out["duration_median"] = v["duration_median"]
    return out


def _top_rows(table: pd.DataFrame, top: int | None, coverage: float | None) -> int:
    n = len(table)
    if coverage is not None:
        n = min(n, int((table["cumulative_share"] < coverage - 1e-12).sum()) + 1)
    if top is not None:
        n = min(n, top)
    return n


def variants(log, *, top: int | None = None, coverage: float | None = None) -> Variants:
    """The variants of a log (distinct activity sequences), most frequent first.

    Parameters
    ----------
    top : keep the ``top`` most frequent variants.
    coverage : share in (0, 1]; keep the most frequent variants that together cover that
        share of cases. With both, the shorter selection wins.

    The counts equal ``pm4py.get_variants``.

    >>> import journeylab as jl
    >>> v = variants(jl.datasets.load_example())
    >>> int(v.table["count"].sum())
    6
    >>> variants(jl.datasets.load_example(), coverage=0.5)
    Variants: top 3 of 6 variants, covering 50.0% of 6 cases
    """
    top = _positive_int(top, "top")
    coverage = None if coverage is None else _share(coverage, "coverage")
    table = _variant_table(log)
    n = _top_rows(table, top, coverage)
    return Variants(table=table.iloc[:n].reset_index(drop=True), n_cases=int(table["count"].sum()),
                    n_variants=len(table), params={"top": top, "coverage": coverage})


# --------------------------------------------------------------------------- paths


@dataclass(frozen=True, eq=False, repr=False)
class Paths:
    """The flows out of (or into) an anchor activity.

    ``table`` columns: ``path`` (tuple of activities in time order, the anchor first for
    ``direction="next"`` and last for ``"previous"``; it stops at :data:`END` /
    starts at :data:`START` when the case ends / starts within ``steps``), ``count``
    (occurrences of the anchor followed by that path), ``cases`` (distinct cases), ``share``
    (of all occurrences of the anchor). ``n_occurrences`` counts the anchor's events,
    ``n_paths`` the distinct paths (the table holds the ``top`` ones).
    """

    table: pd.DataFrame
    anchor: str
    direction: str
    steps: int
    n_occurrences: int
    n_paths: int
    params: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The path table (a copy)."""
        return self.table.copy()

    @property
    def coverage(self) -> float:
        """Share of the anchor's occurrences that the paths in the table cover."""
        return float(self.table["count"].sum() / self.n_occurrences) if self.n_occurrences else 0.0

    @property
    def summary(self) -> pd.DataFrame:
        rows = [("anchor", self.anchor), ("direction", self.direction), ("steps", str(self.steps)),
                ("occurrences", f"{self.n_occurrences:,}"),
                ("paths shown", f"{len(self.table):,} of {self.n_paths:,} ({self.coverage:.1%} of occurrences)")]
        return pd.DataFrame(rows, columns=["metric", "value"]).set_index("metric")

    def __repr__(self) -> str:
        way = "after" if self.direction == "next" else "before"
        return (f"Paths: top {len(self.table):,} of {self.n_paths:,} paths {way} {self.anchor!r} "
                f"({self.steps} steps), covering {self.coverage:.1%} of {self.n_occurrences:,} occurrences")

    def _repr_html_(self) -> str:
        shown = self.to_frame()
        shown["path"] = shown["path"].map(lambda v: " \u2192 ".join(v))
        shown["share"] = shown["share"].map("{:.1%}".format)
        return f"<p>{escape(repr(self))}</p>" + _table_html("paths", shown)

    def plot(self, ax=None, **kwargs):
        """Sankey-style flow chart of the paths; see :func:`journeylab.plotting.plot_paths`."""
        from .plotting import plot_paths

        return plot_paths(self, ax=ax, **kwargs)


def paths(log, *, anchor: str, direction: str = "next", steps: int = 3, top: int | None = 10) -> Paths:
    """The most frequent paths out of (``direction="next"``) or into (``"previous"``) an activity.

    Every occurrence of ``anchor`` counts once, with the ``steps`` activities that follow
    (or precede) it in its case.

    >>> import journeylab as jl
    >>> p = paths(jl.datasets.load_example(), anchor="decide", steps=1)
    >>> p.table[["path", "count"]].values.tolist()[0]
    [('decide', 'pay compensation'), 3]
    """
    anchor = _check_activity(anchor, log, "anchor")
    if direction not in ("next", "previous"):
        raise InvalidParameterError(f"direction={direction!r} is not allowed; use 'next' or 'previous'.")
    steps = _positive_int(steps, "steps", allow_none=False)
    if steps > 20:
        raise InvalidParameterError(f"steps={steps} is too many to read; use at most 20 (3 to 5 reads best).")
    top = _positive_int(top, "top")
    t = log.table
    w = ibis.window(group_by=t.case, order_by=t._seq)
    shift = (lambda i: t.activity.lead(i)) if direction == "next" else (lambda i: t.activity.lag(i))
    cols = {f"s{i}": shift(i).over(w) for i in range(1, steps + 1)}
    sel = t.select(t.case, t.activity, **cols)
    sel = sel.filter(sel.activity == anchor)
    names = list(cols)
    agg = sel.group_by(names).aggregate(count=sel.count(), cases=sel.case.nunique())
    out = engine.execute(agg)
    edge = END if direction == "next" else START
    rows = []
    for rec in out.itertuples(index=False):
        seq = []
        for name in names:
            a = getattr(rec, name)
            if a is None or (isinstance(a, float) and math.isnan(a)):
                seq.append(edge)
                break
            seq.append(str(a))
        path = (anchor, *seq) if direction == "next" else (*reversed(seq), anchor)
        rows.append((path, int(rec.count), int(rec.cases)))
    table = pd.DataFrame(rows, columns=["path", "count", "cases"])
    n_occ = int(table["count"].sum())
    table["share"] = table["count"] / n_occ
    table["_key"] = table["path"].map("\x1f".join)
    table = table.sort_values(["count", "_key"], ascending=[False, True], ignore_index=True).drop(columns="_key")
    n_paths = len(table)
    if top is not None:
        table = table.iloc[:top].reset_index(drop=True)
    return Paths(table=table, anchor=anchor, direction=direction, steps=steps, n_occurrences=n_occ,
                 n_paths=n_paths, params={"anchor": anchor, "direction": direction, "steps": steps, "top": top})


# --------------------------------------------------------------------------- models


def discover_model(log, *, algorithm: str = "inductive", noise: float = 0.0, quality: bool = True) -> Model:
    """Discover a process model with pm4py, computed from the variant table.

    Parameters
    ----------
    algorithm : ``"inductive"`` (a block-structured process tree; ``noise > 0`` uses the
        infrequent variant IMf with that threshold) or ``"heuristics"`` (a heuristics net
        converted to a Petri net; ``noise`` is its dependency threshold, pm4py's default 0.5).
    noise : in [0, 1].
    quality : compute fitness and precision (token-based replay of each variant, and of each
        distinct prefix for precision). On logs with thousands of long variants this takes
        minutes (as in pm4py); ``quality=False`` skips it (``fitness`` and ``precision`` are NaN).

    The tree equals ``pm4py.discover_process_tree_inductive(log, noise_threshold=noise)`` on
    the full log, and fitness / precision equal pm4py's token-based replay on the full log:
    the log only matters through its variants, each replayed once and weighted by its cases.

    >>> import journeylab as jl
    >>> m = discover_model(jl.datasets.load_example())
    >>> round(m.fitness, 3), round(m.precision, 3)
    (1.0, 0.753)
    """
    from ._kernels import pm4py as _pm4py

    if algorithm not in ("inductive", "heuristics"):
        raise InvalidParameterError(
            f"algorithm={algorithm!r} is not available; use 'inductive' or 'heuristics'."
            + did_you_mean(str(algorithm), ["inductive", "heuristics"])
        )
    noise = _share(noise, "noise", allow_zero=True)
    table = _variant_rows(log)
    counter = _pm4py.variant_counter(table)
    if algorithm == "inductive":
        tree = _pm4py.inductive_tree(counter, noise=noise)
        net, im, fm = _pm4py.to_petri_net(tree)
    else:
        tree = None
        net, im, fm = _pm4py.to_petri_net(_pm4py.heuristics_net(counter, dependency_threshold=noise))
    if quality:
        fit, per = _pm4py.replay_fitness(net, im, fm, counter)
        prec = _pm4py.etc_precision(net, im, fm, counter)
    else:
        fit = {"log_fitness": math.nan, "average_trace_fitness": math.nan, "percentage_of_fitting_traces": math.nan}
        per = pd.DataFrame({"variant": list(counter), "count": list(counter.values()),
                            "trace_fitness": math.nan, "fits": pd.NA})
        prec = math.nan
    return Model(
        algorithm=algorithm, tree=tree, net=net, initial_marking=im, final_marking=fm,
        fitness=float(fit["log_fitness"]), precision=float(prec), quality={**fit, "precision": float(prec)},
        variant_fitness=per, n_cases=int(table["count"].sum()), n_variants=len(table),
        params={"algorithm": algorithm, "noise": noise, "quality": bool(quality)},
    )
