"""The scans of a log - variants, directly-follows and the case table: one implementation of each, for
every analysis, the public front :mod:`journeylab.engine` and the filters.

A process map and the variant table share one pass over the cases: the variant table (each distinct
activity sequence with its cases) gives every count of the map exactly - edge counts, distinct cases per
edge, start / end counts, events and cases per activity, also after projecting activities out - and one
more pass adds the durations between directly-following events. Two implementations of the same
aggregates, checked against each other and against pm4py in the tests:

- in-memory logs: vectorised numpy / pandas on the integer codes of the (case, time)-sorted events
  (:meth:`EventLog._arrays <journeylab.EventLog>`); cases are grouped into variants by a hash of their
  codes computed in one pass over the events, then verified exactly (an order of magnitude faster
  than an ordered list aggregation). On a hash collision an exact DuckDB aggregation of the codes
  takes over;
- lazy logs (DuckDB tables, Spark): the same aggregates as Ibis expressions, run where the events live;
  only the per-variant (and, when asked, the per-case) tables come back.

Results are cached by the log (:meth:`EventLog._memo`, keys ``("scans", ...)``): a log is immutable, and
the cache goes with it. What a caller gets is a copy (or a read-only array).

>>> import journeylab as jl
>>> log = jl.datasets.load_example()
>>> variant_table(log)["count"].tolist()
[1, 1, 1, 1, 1, 1]
>>> cases, vid = case_variants(log)
>>> list(cases[:2]), vid.tolist()
(['1', '2'], [5, 0, 4, 1, 3, 2])
>>> int(directly_follows(log)["count"].sum()) == log.n_events - log.n_cases
True
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd

from .._core.backend import backend_name, execute, micros
from .._core.vocabulary import END, START
from .events import events

__all__ = ["SEP", "variant_table", "case_variants", "n_top_variants", "in_top_variants", "directly_follows",
           "start_end", "case_table", "map_tables", "anchor_paths"]

#: separator used to join activity names into one text (to sort variants by their names)
SEP = "\x1f"

#: False sends in-memory logs to the exact DuckDB aggregation too (the tests compare both paths)
NUMPY_VARIANTS = True

_HASH_BASE = 1_000_003

_EDGE_COLUMNS = ["source", "target", "count", "cases", "duration_mean", "duration_median", "duration_p90"]


def _memo(log, what, compute):
    return log._memo(("scans", what), compute)


def _td(values) -> pd.Series:
    """Microseconds (float, maybe NaN) -> Timedelta, rounded to the microsecond."""
    return pd.to_timedelta(pd.Series(np.asarray(values, dtype="float64")).round(), unit="us")


# --------------------------------------------------------------------------- the coded events


@dataclass(frozen=True)
class _Compact:
    acts: np.ndarray | None = None   # activity name of each code
    case: np.ndarray | None = None   # in-memory: per event, the case code (non-decreasing)
    act: np.ndarray | None = None    # in-memory: per event, the activity code
    us: np.ndarray | None = None     # in-memory: per event, microseconds since the epoch
    table: object = None             # lazy: Ibis table with case, act (the code), us, seq


def _compact(log) -> _Compact:
    """The log's events as codes: arrays in memory; for a lazy log an Ibis table whose ``act`` is the
    activity's code (its position among the sorted names, joined in the engine). Per-case sequences of
    small integers are what the engine aggregates then, not lists of names: at 1M events the variants
    query takes 3.4x less memory and 3.7x less time in DuckDB."""
    def build():
        if log.is_lazy:
            t = log.table
            acts = np.asarray(sorted(log.activities), dtype=object)
            width = "int16" if len(acts) < 2**15 else "int32"
            code = ibis.memtable(pd.DataFrame({"_name": pd.Series(acts, dtype=object),
                                               "_code": np.arange(len(acts), dtype=width)}))
            t = t.join(code, t.activity == code._name)
            return _Compact(acts=acts, table=t.select(case=t.case, act=t._code, us=micros(t.timestamp), seq=t._seq))
        a = log._arrays()  # the frame is sorted by case then time
        return _Compact(acts=a["vocab"], case=np.cumsum(a["first"], dtype=np.int64) - 1,
                        act=a["codes"].astype("int64"), us=a["us"])

    return _memo(log, "compact", build)


def _namer(comp: _Compact):
    """A function: a key (activity codes) -> the tuple of activity names."""
    vocab = comp.acts.tolist()
    return lambda key: tuple(map(vocab.__getitem__, key))


def _case_bounds(comp: _Compact):
    starts = np.flatnonzero(np.r_[True, comp.case[1:] != comp.case[:-1]])
    return starts, np.diff(np.r_[starts, len(comp.case)])


# --------------------------------------------------------------------------- variants


def _variants_numpy(comp: _Compact):
    """(keys, counts, median duration in us, per-case group index), or None on a hash collision.

    Each case's activity codes are hashed (a 64-bit polynomial of the codes, mixed with the length) in
    one pass over the events, the cases grouped by hash, then every case is compared with the first
    case of its group, so the result is exact; on a collision the caller aggregates exactly instead.
    """
    starts, lengths = _case_bounds(comp)
    n = len(comp.act)
    pos = np.arange(n) - np.repeat(starts, lengths)
    with np.errstate(over="ignore"):
        powers = np.cumprod(np.full(int(lengths.max()), _HASH_BASE, dtype=np.uint64))
        h = np.add.reduceat((comp.act.astype(np.uint64) + np.uint64(1)) * powers[pos], starts)
        h ^= lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    group, uniq = pd.factorize(h, sort=False)
    first = np.empty(len(uniq), dtype=np.int64)
    first[group] = np.arange(len(group))  # one case of each group (any: they are compared with it)
    rep = first[group]
    if not (lengths == lengths[rep]).all() or not (comp.act == comp.act[np.repeat(starts[rep], lengths) + pos]).all():
        return None
    dur = comp.us[starts + lengths - 1] - comp.us[starts]
    med = pd.Series(dur).groupby(group).median().sort_index().to_numpy()
    lens = lengths[first]
    ends = np.cumsum(lens)
    codes = comp.act[np.repeat(starts[first] - (ends - lens), lens) + np.arange(int(ends[-1]))].tolist()
    keys = [tuple(codes[a:b]) for a, b in zip((ends - lens).tolist(), ends.tolist())]
    return keys, np.bincount(group), med, group


def _per_case(comp: _Compact):
    """Ibis: per case, its sequence of activities (codes or names) and its duration in microseconds."""
    t = comp.table
    if backend_name(t) == "duckdb":
        key = t.act.collect(order_by=t.seq)
    else:  # ordered collect is unsupported on PySpark: sort (seq, act) structs
        key = ibis.struct({"s": t.seq, "a": t.act}).collect().sort().map(lambda x: x.a)
    return t.group_by(t.case).aggregate(key=key, dur=t.us.max() - t.us.min())


def _variant_groups(comp: _Compact):
    """Ibis: the distinct sequences with their cases and median duration, each numbered ``vid`` (0, 1, ... in
    the order of the sequences, so the same number whenever the expression runs)."""
    per = _per_case(comp)
    groups = per.group_by("key").aggregate(count=per.count(), median_us=per.dur.median())
    return groups.mutate(vid=ibis.row_number().over(ibis.window(order_by=groups.key)))


def _codes_table(comp: _Compact):
    """The coded events of an in-memory log as a DuckDB memtable (for the exact aggregation)."""
    return _Compact(table=ibis.memtable(pd.DataFrame({"case": comp.case, "act": comp.act, "us": comp.us,
                                                      "seq": np.arange(len(comp.case))})))


def _variant_scan(log):
    """Variants as a DataFrame with ``key`` (activity codes, a tuple), ``variant`` (names),
    ``count``, ``duration_median``, most frequent first, ties by the variant's names; and, for in-memory
    logs, each case's row in it (in case order)."""

    def compute():
        comp = _compact(log)
        found = _variants_numpy(comp) if comp.table is None and NUMPY_VARIANTS else None
        if found is not None:
            keys, counts, med, group = found
        else:
            out = execute(_variant_groups(comp if comp.table is not None else _codes_table(comp)))
            keys, counts, med, group = [tuple(k) for k in out["key"]], out["count"].to_numpy(), out["median_us"], None
        name = _namer(comp)
        names = [name(k) for k in keys]
        res = pd.DataFrame({"key": keys, "variant": names, "count": np.asarray(counts, dtype="int64"),
                            "duration_median": _td(med).to_numpy()})
        res["_sort"] = [SEP.join(v) for v in names]
        res = res.sort_values(["count", "_sort"], ascending=[False, True])
        rank = None
        if found is None:  # the engine's number of each variant -> its row here (for case_variants)
            engine_row = np.empty(len(res), dtype="int64")
            engine_row[out["vid"].to_numpy(dtype="int64")[res.index.to_numpy()]] = np.arange(len(res))
            _memo(log, "engine_rows", lambda: engine_row)
        if group is None and comp.table is None:  # in-memory log scanned by DuckDB: map cases afterwards
            group = _case_groups(comp, keys)
        if group is not None:
            pos = np.empty(len(res), dtype="int64")
            pos[res.index.to_numpy()] = np.arange(len(res))
            rank = pos[group]
            rank.setflags(write=False)
        return res.reset_index(drop=True).drop(columns="_sort"), rank

    return _memo(log, "variants", compute)


def _case_groups(comp: _Compact, keys: list) -> np.ndarray:
    index = {k: i for i, k in enumerate(keys)}
    starts, lengths = _case_bounds(comp)
    return np.array([index[tuple(comp.act[s:s + n].tolist())] for s, n in zip(starts, lengths)], dtype="int64")


def _variant_rows(log) -> pd.DataFrame:
    return _variant_scan(log)[0]


def variant_table(log) -> pd.DataFrame:
    """The variants of ``log``: one row per distinct activity sequence, most frequent first (ties by the
    names of the activities); the row position is the variant id of :func:`case_variants`.

    Columns ``variant`` (tuple of activity names), ``count`` (cases, int64) and ``duration_median``
    (Timedelta, median case duration). A new DataFrame on each call.
    """
    return _variant_rows(log)[["variant", "count", "duration_median"]].copy()


def case_variants(log) -> tuple[pd.Index, np.ndarray]:
    """Per case, its variant: (case ids sorted, variant id of each case - a row of :func:`variant_table`).

    The array is read-only. For a lazy log the per-case sequences are computed by the engine and only
    (case, sequence) pairs come back.
    """

    def compute():
        rows, rank = _variant_scan(log)
        comp = _compact(log)
        if rank is not None:
            starts, _ = _case_bounds(comp)
            cases = pd.Index(events(log, [])["case"].to_numpy()[starts], name="case")
            vid = rank
        else:  # the engine numbers each case's sequence: (case, number) pairs come back, not the sequences
            per, groups = _per_case(comp), _variant_groups(comp)
            pairs = execute(per.join(groups, "key").select(per.case, groups.vid))
            vid = _memo(log, "engine_rows", lambda: None)[pairs["vid"].to_numpy(dtype="int64")]
            cases = pd.Index(pairs["case"].astype(str), name="case")
            order = np.argsort(cases.to_numpy(), kind="stable")
            cases, vid = cases[order], vid[order]
        if not cases.is_monotonic_increasing:
            order = cases.argsort(kind="stable")
            cases, vid = cases[order], vid[order]
        vid = np.array(vid, dtype="int64")
        vid.setflags(write=False)
        return cases, vid

    return _memo(log, "case_variants", compute)


def n_top_variants(counts, *, top: int | None = None, coverage: float | None = None) -> int:
    """How many of the variants (``counts`` most frequent first) to keep: the ``top`` ones, or the fewest
    that cover ``coverage`` of the cases; with both, the shorter selection.

    >>> n_top_variants([5, 3, 2], coverage=0.6), n_top_variants([5, 3, 2], top=1, coverage=0.9)
    (2, 1)
    """
    counts = np.asarray(counts, dtype="int64")
    n = len(counts)
    if coverage is not None:
        cum = np.cumsum(counts) / counts.sum()
        n = min(n, int((cum < coverage - 1e-12).sum()) + 1)
    if top is not None:
        n = min(n, top)
    return n


def in_top_variants(log, n: int) -> np.ndarray:
    """Boolean mask over the events of the log (in its order): True for the cases of the ``n`` most
    frequent variants."""
    rows, rank = _variant_scan(log)
    comp = _compact(log)
    if rank is not None:
        return rank[comp.case] < n
    keys = list(rows["key"].iloc[:n])
    per = _per_case(comp)
    wanted = ibis.memtable(pd.DataFrame({"key": [list(k) for k in keys]}))
    hit = per.join(wanted, per.key == wanted.key.cast(per.key.type())).select(per.case)
    cases = execute(hit)["case"]
    return events(log, [])["case"].isin(pd.Index(cases).astype(str)).to_numpy()


# --------------------------------------------------------------------------- directly-follows


def _variant_codes(log, rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The activity codes of the variants laid out flat, in row order, and the length of each variant.

    In memory they are gathered from one case per variant; otherwise read from the keys (the engine's
    codes)."""
    _, rank = _variant_scan(log)
    if rank is not None:
        comp = _compact(log)
        starts, lengths = _case_bounds(comp)
        one = np.empty(len(rows), dtype=np.int64)
        one[rank] = np.arange(len(rank))  # a case of each variant (any: they are alike)
        lengths = lengths[one]
        within = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        return comp.act[np.repeat(starts[one], lengths) + within], lengths
    keys = rows["key"]
    lengths = np.fromiter((len(k) for k in keys), dtype="int64", count=len(keys))
    flat = np.fromiter((a for k in keys for a in k), dtype="int64", count=int(lengths.sum()))
    return flat, lengths


def _counts_from_variants(flat: np.ndarray, lengths: np.ndarray, counts: np.ndarray, kept: set | None):
    """Every count of the map from the variants (``flat`` codes, ``lengths``, cases ``counts``), projected
    on the ``kept`` codes when given (variants that become alike are counted apart: the counts are the same).

    Returns (activity counts: code -> (events, cases), edges: DataFrame code-level source,
    target, count, cases, with -1 for start / -2 for end, number of cases)."""
    var = np.repeat(np.arange(len(lengths)), lengths)
    if kept is not None:
        sel = np.isin(flat, np.fromiter(kept, dtype="int64", count=len(kept)))
        flat, var = flat[sel], var[sel]
        lengths = np.bincount(var, minlength=len(counts))
        alive = np.flatnonzero(lengths)
        renumber = np.full(len(counts), -1, dtype="int64")
        renumber[alive] = np.arange(len(alive))
        var, counts, lengths = renumber[var], counts[alive], lengths[alive]
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
        "duration_mean": _td(mean).astype("timedelta64[us]").to_numpy(),
        "duration_median": _td(median).astype("timedelta64[us]").to_numpy(),
        "duration_p90": _td(p90).astype("timedelta64[us]").to_numpy(),
    })


_QUANTILES = (0.5, 0.9)  # the median and the p90 of the time between directly-following events


def _ranks(n):
    """For groups of ``n`` sorted values: the 0-based ranks that ``_QUANTILES`` interpolate between
    (linear interpolation, as pandas / numpy / DuckDB's quantile_cont): per quantile (low, high, fraction)."""
    n = np.asarray(n, dtype="int64")
    out = []
    for q in _QUANTILES:
        h = (n - 1) * q
        lo = np.floor(h).astype("int64")
        out.append((lo, np.ceil(h).astype("int64"), h - lo))
    return out


def _lerp(a, b, t):
    """numpy's linear interpolation between ``a`` and ``b`` (the form it uses for quantiles)."""
    a, b, t = (np.asarray(x, dtype="float64") for x in (a, b, t))
    return np.where(t >= 0.5, b - (b - a) * (1 - t), a + (b - a) * t)


def _durations(log, kept: tuple | None) -> pd.DataFrame:
    """Mean, median and p90 (linear interpolation) of the time between directly-following
    events, per (source, target) code pair, among the ``kept`` activity codes (all when None).

    The median and p90 are read at their ranks among the pair's sorted times, the same way on both
    paths. In the engine the ranks come from a window over the pairs and only the (at most four)
    values per pair that the quantiles need come back: a holistic ``median`` / ``quantile`` aggregate
    right after the window over the events made DuckDB spill more than 25 GB at 100M events."""

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
            dt = (us[1:] - us[:-1])[same]
            order = np.argsort(pair, kind="stable")
            pair, dt = pair[order], dt[order]
            start = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]]) if len(pair) else np.zeros(0, dtype="int64")
            n = np.diff(np.r_[start, len(pair)])
            idx = pair[start]
            for a, b in zip(start.tolist(), (start + n).tolist()):
                dt[a:b].sort()  # the times of each pair in order (only the values are needed)
            mean = np.add.reduceat(dt.astype("float64"), start) / n if len(n) else np.zeros(0)
            qs = [_lerp(dt[start + lo], dt[start + hi], t) for lo, hi, t in _ranks(n)]
            return _duration_frame(idx // k, idx % k, mean, *qs)
        t = comp.table
        if kept is not None:
            t = t.filter(t.act.isin(list(kept)))
        w = ibis.window(group_by=t.case, order_by=t.seq)
        sel = t.select(src=t.act, dst=t.act.lead().over(w), dt=t.us.lead().over(w) - t.us)
        sel = sel.filter(sel.dst.notnull())
        by_pair = ibis.window(group_by=[sel.src, sel.dst])
        ranked = sel.mutate(r=ibis.row_number().over(ibis.window(group_by=[sel.src, sel.dst], order_by=sel.dt)),
                            n=sel.dt.count().over(by_pair), mean_us=sel.dt.mean().over(by_pair))
        wanted = [((ranked.n - 1) * q).floor().cast("int64") for q in _QUANTILES]
        wanted += [((ranked.n - 1) * q).ceil().cast("int64") for q in _QUANTILES]
        rows = execute(ranked.filter(ranked.r.isin(wanted)).select("src", "dst", "n", "r", "dt", "mean_us"))
        pairs = rows.drop_duplicates(["src", "dst"]).sort_values(["src", "dst"], kind="stable")
        at = rows.set_index(["src", "dst", "r"])["dt"]
        keys = pd.MultiIndex.from_frame(pairs[["src", "dst"]])
        qs = []
        for lo, hi, frac in _ranks(pairs["n"].to_numpy()):
            a = at.reindex(pd.MultiIndex.from_arrays([keys.get_level_values(0), keys.get_level_values(1), lo])).to_numpy()
            b = at.reindex(pd.MultiIndex.from_arrays([keys.get_level_values(0), keys.get_level_values(1), hi])).to_numpy()
            qs.append(_lerp(a, b, frac))
        return _duration_frame(pairs["src"], pairs["dst"], pairs["mean_us"].to_numpy(), *qs)

    return _memo(log, ("durations", kept), compute)


def _edges(log, kept_names: tuple | None):
    """(activity label per code, activity counts by code, code-level edges with durations, cases) among
    the kept activities (all when None); start is code -1, end -2. Cached: callers must not change it."""
    return _memo(log, ("edges", kept_names), lambda: _edges_uncached(log, kept_names))


def _edges_uncached(log, kept_names: tuple | None):
    comp = _compact(log)
    rows = _variant_rows(log)
    code_of = {str(a): i for i, a in enumerate(comp.acts)}
    kept = None if kept_names is None else {code_of[a] for a in kept_names}
    flat, lengths = _variant_codes(log, rows)
    act_counts, edges, n_cases = _counts_from_variants(flat, lengths, rows["count"].to_numpy(), kept)
    label = comp.acts
    dur = _durations(log, None if kept is None else tuple(sorted(kept, key=str)))
    edges = edges.merge(dur, on=["src", "dst"], how="left")
    for c in ("duration_mean", "duration_median", "duration_p90"):
        edges[c] = edges[c].astype("timedelta64[us]")
    return label, act_counts, edges, n_cases


def directly_follows(log) -> pd.DataFrame:
    """Directly-follows pairs of activities: ``source``, ``target``, ``count``, ``cases`` (distinct cases
    with the pair), ``duration_mean``, ``duration_median``, ``duration_p90`` (Timedelta); strongest first
    (ties by source, target). No start / end rows (see :func:`start_end`). A new DataFrame on each call."""

    def compute():
        label, _, edges, _ = _edges(log, None)
        inner = edges[(edges["src"] >= 0) & (edges["dst"] >= 0)]
        res = pd.DataFrame({
            "source": pd.Series(label[inner["src"].to_numpy()], dtype=object).astype(str),
            "target": pd.Series(label[inner["dst"].to_numpy()], dtype=object).astype(str),
            "count": inner["count"].to_numpy(dtype="int64"),
            "cases": inner["cases"].to_numpy(dtype="int64"),
            **{c: inner[c].to_numpy() for c in ("duration_mean", "duration_median", "duration_p90")},
        })
        return res.sort_values(["count", "source", "target"], ascending=[False, True, True], ignore_index=True)

    return _memo(log, "directly_follows", compute).copy()


def start_end(log) -> pd.DataFrame:
    """Per activity (the index, sorted), how many cases start (``starts``) and end (``ends``) with it;
    only activities that start or end some case. A new DataFrame on each call."""
    rows = _variant_rows(log)
    counts = rows["count"].to_numpy()
    first = pd.Series(counts).groupby([v[0] for v in rows["variant"]]).sum().rename("starts")
    last = pd.Series(counts).groupby([v[-1] for v in rows["variant"]]).sum().rename("ends")
    out = pd.concat([first, last], axis=1).fillna(0).astype("int64")
    out.index = out.index.astype(str)
    out.index.name = "activity"
    return out.sort_index()


# --------------------------------------------------------------------------- the case table


def case_table(log) -> pd.DataFrame:
    """One row per case, indexed by ``case`` (sorted): ``start``, ``end``, ``length`` (events),
    ``duration``, ``first_activity``, ``last_activity``. Computed by the engine (one group-by); a new
    DataFrame on each call."""

    def compute():
        t = log.table
        us = micros(t.timestamp)
        out = execute(t.group_by(t.case).aggregate(
            start=t.timestamp.min(), end=t.timestamp.max(), length=t.count(),
            first_activity=t.activity.argmin(t._seq), last_activity=t.activity.argmax(t._seq),
            dur_us=us.max() - us.min()))
        res = pd.DataFrame({
            "case": out["case"].astype(str),
            "start": out["start"],
            "end": out["end"],
            "length": out["length"].astype("int64"),
            "duration": _td(out["dur_us"]),
            "first_activity": out["first_activity"].astype(str),
            "last_activity": out["last_activity"].astype(str),
        })
        return res.sort_values("case", ignore_index=True).set_index("case")

    return _memo(log, "case_table", compute).copy()


# --------------------------------------------------------------------------- the process map


def map_tables(log, kept_names: tuple | None = None):
    """(nodes, edges, cases) of the process map among the ``kept_names`` activities (all when None).

    ``nodes``: ``activity``, ``events``, ``cases`` of every kept activity, most frequent first;
    ``edges``: ``source``, ``target``, ``count``, ``cases`` and the durations, with the artificial
    :data:`START` / :data:`END` rows (no durations); the other activities' events are projected out of
    the cases first. A new pair of DataFrames on each call.
    """

    def compute():
        label, act_counts, edges, n_cases = _edges(log, kept_names)
        edges = edges.copy()
        names_of = lambda c: START if c == -1 else (END if c == -2 else str(label[c]))  # noqa: E731
        edges.insert(0, "source", [names_of(c) for c in edges["src"]])
        edges.insert(1, "target", [names_of(c) for c in edges["dst"]])
        nodes = pd.DataFrame([(str(label[a]), ev, cs) for a, (ev, cs) in act_counts.items()],
                             columns=["activity", "events", "cases"])
        nodes = nodes.sort_values(["events", "activity"], ascending=[False, True], ignore_index=True)
        return nodes, edges[_EDGE_COLUMNS], n_cases

    nodes, edges, n_cases = _memo(log, ("map", kept_names), compute)
    return nodes.copy(), edges.copy(), n_cases


# --------------------------------------------------------------------------- paths around an activity


def anchor_paths(log, anchor: str, *, direction: str = "next", steps: int = 3) -> pd.DataFrame:
    """Every occurrence of ``anchor`` with the ``steps`` activities after it (``direction="next"``) or
    before it (``"previous"``) in its case, counted by the engine (window functions).

    Returns a DataFrame with ``path`` (tuple in time order: the anchor first for "next", last for
    "previous"; it stops at :data:`END` / starts at :data:`START` where the case ends / starts within
    ``steps``), ``count`` (occurrences) and ``cases`` (distinct cases); in no particular order.
    """
    t = log.table
    w = ibis.window(group_by=t.case, order_by=t._seq)
    shift = (lambda i: t.activity.lead(i)) if direction == "next" else (lambda i: t.activity.lag(i))
    cols = {f"s{i}": shift(i).over(w) for i in range(1, steps + 1)}
    sel = t.select(t.case, t.activity, **cols)
    sel = sel.filter(sel.activity == anchor)
    names = list(cols)
    out = execute(sel.group_by(names).aggregate(count=sel.count(), cases=sel.case.nunique()))
    edge = END if direction == "next" else START
    rows = []
    for rec in out.itertuples(index=False):
        seq = []
        for name in names:
            a = getattr(rec, name)
            if a is None or pd.isna(a):
                seq.append(edge)
                break
            seq.append(str(a))
        path = (anchor, *seq) if direction == "next" else (*reversed(seq), anchor)
        rows.append((path, int(rec.count), int(rec.cases)))
    return pd.DataFrame(rows, columns=["path", "count", "cases"])
