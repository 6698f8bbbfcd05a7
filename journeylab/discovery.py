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
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from html import escape

import ibis
import numpy as np
import pandas as pd

from . import engine
from ._pm4py import Model
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

#: name of the artificial start node of a process map (and of a path that reaches the case start)
START = "[start]"
#: name of the artificial end node of a process map (and of a path that reaches the case end)
END = "[end]"

_EDGE_COLUMNS = ["source", "target", "count", "cases", "duration_mean", "duration_median", "duration_p90"]


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


# The scans. A process map and the variant table share one pass over the cases: the
# variant table (each distinct sequence with its cases) gives every count of the map
# exactly - edge counts, distinct cases per edge, start / end counts, events and cases per
# activity, also after projecting activities out - and one more pass adds the durations.
# Two implementations of the same two aggregates, checked against each other, against
# engine.directly_follows / engine.variants and against pm4py in the tests:
# - in-memory logs: vectorised numpy / pandas on integer codes of the (case, time)-sorted
#   events (a variant is a row of a padded code matrix, grouped by a hash that is then
#   verified exactly) - an order of magnitude faster than an ordered list aggregation;
# - lazy logs (Spark, DuckDB tables): the same aggregates as Ibis expressions.
# Results are cached per log (logs are immutable) in a small LRU.

_CACHE: OrderedDict = OrderedDict()  # (id(log), what) -> (log, value)
_CACHE_SIZE = 12


def _cached(log, what, compute):
    key = (id(log), what)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is log:
        _CACHE.move_to_end(key)
        return hit[1]
    value = compute()
    _CACHE[key] = (log, value)
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return value


def _clear_cache() -> None:
    """Forget every cached scan (benchmarks call this between repetitions)."""
    _CACHE.clear()


@dataclass(frozen=True)
class _Compact:
    acts: np.ndarray | None = None   # activity name of each code (None for lazy logs: names are used)
    case: np.ndarray | None = None   # in-memory: per event, the case code (non-decreasing)
    act: np.ndarray | None = None    # in-memory: per event, the activity code
    us: np.ndarray | None = None     # in-memory: per event, microseconds since the epoch
    order: np.ndarray | None = None  # in-memory: positions in log._frame() of the events above
    table: object = None             # lazy: Ibis table with case, act, us, seq


def _compact(log) -> _Compact:
    def build():
        if log.is_lazy:
            t = log.table
            return _Compact(table=t.select(case=t.case, act=t.activity, us=engine._micros(t.timestamp), seq=t._seq))
        df = log._frame()
        case, _ = pd.factorize(df["case"], sort=False)
        act, acts = pd.factorize(df["activity"], sort=False)
        us = df["timestamp"].dt.tz_convert("UTC").dt.tz_localize(None).dt.as_unit("us").to_numpy().view("int64")
        order = np.arange(len(df))
        if len(case) > 1 and (np.diff(case) < 0).any():  # cases not contiguous: group them, time order kept
            order = np.argsort(case, kind="stable")
            case, act, us = case[order], act[order], us[order]
        return _Compact(acts=np.asarray(acts, dtype=object), case=case.astype("int64"), act=act.astype("int64"),
                        us=us, order=order)

    return _cached(log, "compact", build)


def _names(comp: _Compact, codes) -> tuple:
    return tuple(str(a) for a in codes) if comp.acts is None else tuple(comp.acts[np.asarray(codes, dtype="int64")])


def _case_bounds(comp: _Compact):
    starts = np.flatnonzero(np.r_[True, comp.case[1:] != comp.case[:-1]])
    return starts, np.diff(np.r_[starts, len(comp.case)])


_HASH_BASE = 1_000_003


def _variants_numpy(comp: _Compact):
    """(keys, counts, median duration in us, per-case group index) or None when cases are too uneven."""
    starts, lengths = _case_bounds(comp)
    n, n_cases, width = len(comp.case), len(starts), int(lengths.max())
    if n_cases * width > 4 * n + 2_000_000:  # a few very long cases: a padded matrix would not fit
        return None
    grid = np.full((n_cases, width), -1, dtype="int64")
    row = np.repeat(np.arange(n_cases), lengths)
    grid[row, np.arange(n) - starts[row]] = comp.act
    h = np.zeros(n_cases, dtype="uint64")
    with np.errstate(over="ignore"):
        for j in range(width):
            h = h * np.uint64(_HASH_BASE) + (grid[:, j] + 2).astype("uint64")
    group, _ = pd.factorize(h, sort=False)
    first = np.full(group.max() + 1, n_cases, dtype="int64")
    np.minimum.at(first, group, np.arange(n_cases))
    if not (grid == grid[first[group]]).all():  # a hash collision: group the rows exactly
        _, first, group = np.unique(grid, axis=0, return_index=True, return_inverse=True)
        group = group.ravel()
    dur = comp.us[starts + lengths - 1] - comp.us[starts]
    med = pd.Series(dur).groupby(group).median().sort_index().to_numpy()
    keys = [tuple(grid[r, : lengths[r]].tolist()) for r in first]
    return keys, np.bincount(group), med, group


def _per_case(comp: _Compact):
    t = comp.table
    if engine.backend_name(t) == "duckdb":
        key = t.act.collect(order_by=t.seq)
    else:  # ordered collect is unsupported on PySpark: sort (seq, act) structs
        key = ibis.struct({"s": t.seq, "a": t.act}).collect().sort().map(lambda x: x.a)
    return t.group_by(t.case).aggregate(key=key, dur=t.us.max() - t.us.min())


def _variant_scan(log):
    """Variants as a DataFrame with ``key`` (codes, tuple), ``variant`` (names), ``count``,
    ``duration_median``, most frequent first, ties by the variant's names (the order of
    :func:`engine.variants`); and, for in-memory logs, each case's row in it."""

    def compute():
        comp = _compact(log)
        found = _variants_numpy(comp) if comp.table is None else None
        if found is not None:
            keys, counts, med, group = found
        else:
            per = _per_case(comp) if comp.table is not None else None
            if per is None:  # in-memory but too uneven for a matrix: aggregate the codes with DuckDB
                t = ibis.memtable(pd.DataFrame({"case": comp.case, "act": comp.act, "us": comp.us,
                                                "seq": np.arange(len(comp.case))}))
                per = _per_case(_Compact(table=t))
            out = engine.execute(per.group_by("key").aggregate(count=per.count(), median_us=per.dur.median()))
            keys, counts, med, group = [tuple(k) for k in out["key"]], out["count"].to_numpy(), out["median_us"], None
        names = [_names(comp, k) for k in keys]
        res = pd.DataFrame({"key": keys, "variant": names, "count": np.asarray(counts, dtype="int64"),
                            "duration_median": engine._td(pd.Series(np.asarray(med, dtype="float64"))).to_numpy()})
        res["_sort"] = [engine.SEP.join(v) for v in names]
        res = res.sort_values(["count", "_sort"], ascending=[False, True])
        rank = None
        if group is None and comp.table is None:  # in-memory log scanned by DuckDB: map cases afterwards
            group = _case_groups(comp, keys)
        if group is not None:
            pos = np.empty(len(res), dtype="int64")
            pos[res.index.to_numpy()] = np.arange(len(res))
            rank = pos[group]
        return res.reset_index(drop=True).drop(columns="_sort"), rank

    return _cached(log, "variants", compute)


def _case_groups(comp: _Compact, keys: list) -> np.ndarray:
    index = {k: i for i, k in enumerate(keys)}
    starts, lengths = _case_bounds(comp)
    return np.array([index[tuple(comp.act[s:s + n].tolist())] for s, n in zip(starts, lengths)], dtype="int64")


def _variant_rows(log) -> pd.DataFrame:
    return _variant_scan(log)[0]


def _counts_from_variants(rows: pd.DataFrame, kept: set | None):
    """Every count of the map from the variant table (projected on ``kept`` codes when given).

    Returns (activity counts: code -> (events, cases), edges: DataFrame code-level source,
    target, count, cases, with -1 for start / -2 for end, number of cases)."""
    keys, counts = rows["key"], rows["count"].to_numpy()
    if kept is not None:
        proj = Counter()
        for k, c in zip(keys, counts):
            pk = tuple(a for a in k if a in kept)
            if pk:
                proj[pk] += int(c)
        keys, counts = list(proj), np.fromiter(proj.values(), dtype="int64", count=len(proj))
    lengths = np.fromiter((len(k) for k in keys), dtype="int64", count=len(keys))
    flat = np.fromiter((a for k in keys for a in k), dtype="int64", count=int(lengths.sum()))
    var = np.repeat(np.arange(len(keys)), lengths)
    w = counts[var]
    ends_at = np.cumsum(lengths) - 1
    starts_at = ends_at - lengths + 1
    k = int(flat.max()) + 1 if len(flat) else 1
    events = np.bincount(flat, weights=w, minlength=k)
    uniq = pd.unique(var * k + flat)  # distinct (variant, activity); order is irrelevant here
    cases = np.bincount(uniq % k, weights=counts[uniq // k], minlength=k)
    same = np.ones(len(flat), dtype=bool)
    same[ends_at] = False
    src, dst, pv = flat[same], flat[np.roll(same, 1)], var[same]
    code = src * k + dst
    pair_counts = np.bincount(code, weights=counts[pv], minlength=k * k)
    upair = pd.unique(pv * (k * k) + code)  # distinct (variant, pair)
    pair_cases = np.bincount(upair % (k * k), weights=counts[upair // (k * k)], minlength=k * k)
    nz = np.nonzero(pair_counts)[0]
    first = np.bincount(flat[starts_at], weights=counts, minlength=k)
    last = np.bincount(flat[ends_at], weights=counts, minlength=k)
    s_idx, e_idx = np.nonzero(first)[0], np.nonzero(last)[0]
    edges = pd.DataFrame({
        "src": np.concatenate([np.full(len(s_idx), -1), nz // k, e_idx]),
        "dst": np.concatenate([s_idx, nz % k, np.full(len(e_idx), -2)]),
        "count": np.concatenate([first[s_idx], pair_counts[nz], last[e_idx]]).astype("int64"),
        "cases": np.concatenate([first[s_idx], pair_cases[nz], last[e_idx]]).astype("int64"),
    })
    acts = {int(a): (int(events[a]), int(cases[a])) for a in np.nonzero(events)[0]}
    return acts, edges, int(counts.sum())


def _duration_frame(src, dst, mean, median, p90) -> pd.DataFrame:
    return pd.DataFrame({
        "src": np.asarray(src), "dst": np.asarray(dst),
        "duration_mean": engine._td(pd.Series(np.asarray(mean, dtype="float64"))).astype("timedelta64[us]").to_numpy(),
        "duration_median": engine._td(pd.Series(np.asarray(median, dtype="float64"))).astype("timedelta64[us]").to_numpy(),
        "duration_p90": engine._td(pd.Series(np.asarray(p90, dtype="float64"))).astype("timedelta64[us]").to_numpy(),
    })


def _durations(log, kept: tuple | None) -> pd.DataFrame:
    """Mean, median and p90 (linear interpolation) of the time between directly-following
    events, per (source, target) code pair, among the ``kept`` activity codes (all when None)."""

    def compute():
        comp = _compact(log)
        if comp.table is None:
            case, act, us = comp.case, comp.act, comp.us
            if kept is not None:
                sel = np.isin(act, np.asarray(kept, dtype="int64"))
                case, act, us = case[sel], act[sel], us[sel]
            same = case[1:] == case[:-1]
            k = len(comp.acts)
            pair = act[:-1][same] * k + act[1:][same]
            g = pd.Series((us[1:] - us[:-1])[same]).groupby(pair, sort=True)
            mean, median, p90 = g.mean(), g.median(), g.quantile(0.9)
            idx = mean.index.to_numpy()
            return _duration_frame(idx // k, idx % k, mean.to_numpy(), median.to_numpy(), p90.to_numpy())
        t = comp.table
        if kept is not None:
            t = t.filter(t.act.isin(list(kept)))
        w = ibis.window(group_by=t.case, order_by=t.seq)
        sel = t.select(src=t.act, dst=t.act.lead().over(w), dt=t.us.lead().over(w) - t.us)
        sel = sel.filter(sel.dst.notnull())
        out = engine.execute(sel.group_by(["src", "dst"]).aggregate(
            mean_us=sel.dt.mean(), median_us=sel.dt.median(), p90_us=sel.dt.quantile(0.9)))
        return _duration_frame(out["src"], out["dst"], out["mean_us"], out["median_us"], out["p90_us"])

    return _cached(log, ("durations", kept), compute)


def _cases_in_top(log, n: int) -> np.ndarray:
    """Boolean mask over the events of ``log._frame()``: True for the cases of the ``n`` most frequent variants."""
    rows, rank = _variant_scan(log)
    comp = _compact(log)
    if rank is not None:
        mask = np.empty(len(comp.case), dtype=bool)
        mask[comp.order] = rank[comp.case] < n
        return mask
    keys = list(rows["key"].iloc[:n])
    per = _per_case(comp)
    wanted = ibis.memtable(pd.DataFrame({"key": [list(k) for k in keys]}))
    hit = per.join(wanted, per.key == wanted.key.cast(per.key.type())).select(per.case)
    cases = engine.execute(hit)["case"]
    return log._frame()["case"].isin(pd.Index(cases).astype(str)).to_numpy()


def _map_tables(log, kept_names: tuple | None):
    """(nodes of every activity, edges among the kept ones with start / end, cases) for :func:`discover`."""
    return _cached(log, ("map", kept_names), lambda: _map_tables_uncached(log, kept_names))


def _map_tables_uncached(log, kept_names: tuple | None):
    comp = _compact(log)
    rows = _variant_rows(log)
    if comp.acts is None:
        code_of = {a: a for a in {x for k in rows["key"] for x in k}}
    else:
        code_of = {str(a): i for i, a in enumerate(comp.acts)}
    kept = None if kept_names is None else {code_of[a] for a in kept_names}
    if comp.acts is None:  # lazy: keys hold names; give them integer codes for the counting
        names = sorted(code_of)
        idx = {a: i for i, a in enumerate(names)}
        rows = rows.assign(key=[tuple(idx[a] for a in k) for k in rows["key"]])
        kept_idx = None if kept is None else {idx[a] for a in kept}
        act_counts, edges, n_cases = _counts_from_variants(rows, kept_idx)
        label = np.asarray(names, dtype=object)
    else:
        act_counts, edges, n_cases = _counts_from_variants(rows, kept)
        label = comp.acts
    dur = _durations(log, None if kept is None else tuple(sorted(kept, key=str)))
    if comp.acts is None:
        dur = dur.assign(src=[idx[a] for a in dur["src"]], dst=[idx[a] for a in dur["dst"]])
    edges = edges.merge(dur, on=["src", "dst"], how="left")
    names_of = lambda c: START if c == -1 else (END if c == -2 else str(label[c]))  # noqa: E731
    edges.insert(0, "source", [names_of(c) for c in edges["src"]])
    edges.insert(1, "target", [names_of(c) for c in edges["dst"]])
    for c in ("duration_mean", "duration_median", "duration_p90"):
        edges[c] = edges[c].astype("timedelta64[us]")
    nodes = pd.DataFrame([(str(label[a]), ev, cs) for a, (ev, cs) in act_counts.items()],
                         columns=["activity", "events", "cases"])
    nodes = nodes.sort_values(["events", "activity"], ascending=[False, True], ignore_index=True)
    return nodes, edges[_EDGE_COLUMNS], n_cases


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
    from . import _pm4py

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
