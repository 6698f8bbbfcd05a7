"""The process map: the directly-follows graph with an artificial start and end, simplified by two
sliders (:func:`discover`, :class:`ProcessMap`)."""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

import pandas as pd

from .._core.formatting import format_duration
from .._core.results import FrozenMap, Result
from .._core.validation import LOG, Choice, Share, checked
from .._core.vocabulary import END, START
from .._kernels.scans import map_tables

__all__ = ["ProcessMap", "discover"]


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
class ProcessMap(Result):
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
    params : the arguments of :func:`discover` (read-only).
    """

    nodes: pd.DataFrame
    edges: pd.DataFrame
    n_cases: int
    n_events: int
    n_activities_total: int
    n_edges_total: int
    event_share: float
    params: FrozenMap = field(default_factory=FrozenMap)

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

    def _html_tables(self):
        return [("activities", self.nodes), ("paths", self.to_frame())]

    def plot(self, ax=None, *, metric: str = "frequency", **kwargs):
        """Draw the map left to right with matplotlib; see :func:`journeylab.plotting.plot_process_map`."""
        from ..plotting import plot_process_map

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

    @checked(metric=Choice("frequency", "time"))
    def to_dot(self, *, metric: str = "frequency") -> str:
        """Graphviz DOT text of the map (``dot -Tsvg map.dot > map.svg`` where Graphviz is installed).

        >>> import journeylab as jl
        >>> discover(jl.datasets.load_example()).to_dot().splitlines()[0]
        'digraph process_map {'
        """

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
            label = f"{r.count:,}" if metric == "frequency" else format_duration(r.duration_median, missing="")
            width = 1 + 5 * (r.count / top) ** 0.5
            lines.append(f"  {q(r.source)} -> {q(r.target)} [label={q(label)}, penwidth={width:.2f}];")
        lines.append("}")
        return "\n".join(lines) + "\n"


@checked(log=LOG, activities=Share(allow_zero=False), paths=Share(allow_zero=True))
def discover(log, *, activities: float = 1.0, paths: float = 1.0) -> ProcessMap:
    """Discover the process map of a log, simplified by two sliders like Disco's.

    At ``activities=1.0, paths=1.0`` the map is exact: edge counts and mean durations equal
    pm4py's ``discover_dfg`` / ``discover_performance_dfg``.

    Parameters
    ----------
    log : EventLog
        The events (in memory, or lazy on DuckDB / Spark).
    activities : float, default 1.0
        A share of the events in (0, 1]: keeps the most frequent activities that together cover
        that share (at least one). The events of the other activities are removed from the cases
        before the paths are counted, so the map stays connected.
    paths : float, default 1.0
        A share in [0, 1]: 0 keeps only the strongest routes that keep every activity reachable
        from the start and able to reach the end (maximum-bottleneck paths), 1 keeps every edge;
        in between, that share of the other edges, strongest first.

    Returns
    -------
    ProcessMap
        The map: ``nodes`` (activities), ``edges`` (paths with counts and durations, with the
        artificial start and end), its size against the log, and ``params``.

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
    acts, _, _ = map_tables(log, None)  # every activity, most frequent first (cached with the full map)
    total = int(acts["events"].sum())
    cum = acts["events"].cumsum() / total
    n_keep = min(int((cum < activities - 1e-12).sum()) + 1, len(acts))
    if n_keep == len(acts):
        nodes, edges, n_cases = map_tables(log, None)
    else:
        nodes, edges, n_cases = map_tables(log, tuple(sorted(acts["activity"].iloc[:n_keep])))
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
