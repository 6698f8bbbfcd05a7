"""The scans behind discovery: the variant table and the directly-follows durations.

A process map and the variant table share one pass over the cases: the variant table (each
distinct sequence with its cases) gives every count of the map exactly - edge counts,
distinct cases per edge, start / end counts, events and cases per activity, also after
projecting activities out - and one more pass adds the durations. Used by
:mod:`journeylab.discovery` and :mod:`journeylab.filters`.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd

from .. import engine

from .._core.vocabulary import END, START  # noqa: F401  (re-exported for discovery)

_EDGE_COLUMNS = ["source", "target", "count", "cases", "duration_mean", "duration_median", "duration_p90"]

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
        a = log._arrays()  # the same arrays as the engine's (the frame is sorted by case then time)
        return _Compact(acts=a["vocab"], case=np.cumsum(a["first"], dtype=np.int64) - 1,
                        act=a["codes"].astype("int64"), us=a["us"], order=np.arange(len(a["codes"])))

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
