"""The columnar core: the few heavy scans of an event log, as Ibis expressions.

Every aggregate here is written once as an Ibis expression and runs where the events
live: in process on DuckDB by default (a pandas-backed :class:`~journeylab.EventLog`),
or on Apache Spark (a log made with :func:`journeylab.from_ibis` on a PySpark table).
Results come back as small pandas DataFrames. Process-mining algorithms then work on
these compressed tables (the variant table is orders of magnitude smaller than the log).

Version traps handled here: ordered ``collect(order_by=...)`` is not supported on the
PySpark backend, so variants collect ``(_seq, activity)`` structs and sort the array
there; Ibis 12's ``con.create_table`` fails on DuckDB 2.0, so logs are registered as
memtables.

Examples
--------
>>> import journeylab as jl
>>> from journeylab import engine
>>> log = jl.datasets.load_example()
>>> engine.variants(log)["count"].sum() == log.n_cases
True
"""

from __future__ import annotations

import ibis
import pandas as pd

from ._core.backend import backend_name, duckdb_connection, execute
from ._core.backend import micros as _micros

__all__ = ["directly_follows", "variants", "case_table", "start_end", "execute", "duckdb_connection", "backend_name"]

#: separator used to join activity names into one variant key (never in a name)
SEP = "\x1f"

def _td(series: pd.Series) -> pd.Series:
    return pd.to_timedelta(series.astype("float64").round(), unit="us")


def directly_follows(log) -> pd.DataFrame:
    """Directly-follows pairs of activities with counts and durations.

    One row per (source, target): ``count`` (times ``target`` directly follows
    ``source`` in a case), ``cases`` (distinct cases with that pair), ``duration_mean``,
    ``duration_median``, ``duration_p90`` (Timedelta, time between the two events).
    No artificial start/end rows (see :func:`start_end`). The counts add up to
    ``n_events - n_cases``.

    >>> import journeylab as jl
    >>> from journeylab import engine
    >>> dfg = engine.directly_follows(jl.datasets.load_example())
    >>> int(dfg["count"].sum())
    36
    """
    t, vocab = log._coded()
    if vocab is not None:  # in memory: successors precomputed from the row order
        pairs = t.filter(t._next >= 0).select(case=t._case, source=t._act, target=t._next, dt=t._dt)
    else:
        case, act = t.case, t.activity
        w = ibis.window(group_by=case, order_by=t._seq)
        us = _micros(t.timestamp)
        pairs = t.select(case=case, source=act, target=act.lead().over(w), dt=(us.lead().over(w) - us))
        pairs = pairs.filter(pairs.target.notnull())
    stats = dict(count=pairs.count(), mean_us=pairs.dt.mean(), median_us=pairs.dt.median(),
                 p90_us=pairs.dt.quantile(0.9))
    if vocab is None:
        stats["cases"] = pairs.case.nunique()
    out = execute(pairs.group_by(["source", "target"]).aggregate(**stats))
    if vocab is not None:
        s_code, t_code = out["source"].to_numpy(dtype="int64"), out["target"].to_numpy(dtype="int64")
        out["cases"] = _distinct_cases_per_pair(log, len(vocab))[s_code * len(vocab) + t_code]
        src, tgt = vocab[s_code], vocab[t_code]
    else:
        src, tgt = out["source"], out["target"]
    res = pd.DataFrame({
        "source": pd.Series(src, dtype=object).astype(str),
        "target": pd.Series(tgt, dtype=object).astype(str),
        "count": out["count"].astype("int64"),
        "cases": out["cases"].astype("int64"),
        "duration_mean": _td(out["mean_us"]),
        "duration_median": _td(out["median_us"]),
        "duration_p90": _td(out["p90_us"]),
    })
    return res.sort_values(["count", "source", "target"], ascending=[False, True, True], ignore_index=True)


def _distinct_cases_per_pair(log, n_acts: int):
    """Per pair code (source * n_acts + target), the number of distinct cases that hold it.

    A hash-based distinct over integer (case, pair) keys: about 6x cheaper than SQL's
    COUNT(DISTINCT case) per pair on millions of events.
    """
    import numpy as np

    arrays = log._arrays()
    codes, first = arrays["codes"].astype("int64"), arrays["first"]
    same_case = ~first[1:]  # event i and i + 1 belong to one case
    pair = codes[:-1][same_case] * n_acts + codes[1:][same_case]
    case = (np.cumsum(first) - 1)[:-1][same_case]
    keys = pd.unique(case * (n_acts * n_acts) + pair)
    return np.bincount(keys % (n_acts * n_acts), minlength=n_acts * n_acts)


def _case_aggregate(log):
    t = log.table
    return t.group_by(t.case).aggregate(
        start=t.timestamp.min(),
        end=t.timestamp.max(),
        length=t.count(),
        first_activity=t.activity.argmin(t._seq),
        last_activity=t.activity.argmax(t._seq),
        dur_us=_micros(t.timestamp).max() - _micros(t.timestamp).min(),
    )


def case_table(log) -> pd.DataFrame:
    """One row per case: ``start``, ``end``, ``length`` (events), ``duration``,
    ``first_activity``, ``last_activity``; indexed by ``case``, sorted by case.

    >>> import journeylab as jl
    >>> from journeylab import engine
    >>> int(engine.case_table(jl.datasets.load_example())["length"].sum())
    42
    """
    out = execute(_case_aggregate(log))
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


def start_end(log) -> pd.DataFrame:
    """Per activity, how many cases start (``starts``) and end (``ends``) with it.

    >>> import journeylab as jl
    >>> from journeylab import engine
    >>> engine.start_end(jl.datasets.load_example()).loc["register request", "starts"]
    6
    """
    c = _case_aggregate(log)
    s = c.group_by(activity=c.first_activity).aggregate(starts=c.count())
    e = c.group_by(activity=c.last_activity).aggregate(ends=c.count())
    starts = execute(s).set_index("activity")["starts"]
    ends = execute(e).set_index("activity")["ends"]
    out = pd.concat([starts, ends], axis=1).fillna(0).astype("int64")
    out.index = out.index.astype(str)
    out.index.name = "activity"
    return out.sort_index()


def _sequences(log):
    """Per case: its activity sequence joined with SEP, and its duration in microseconds."""
    t = log.table
    us = _micros(t.timestamp)
    if backend_name(t) == "duckdb":
        seq = t.activity.collect(order_by=t._seq)
    else:  # ordered collect is unsupported on PySpark: sort (seq, activity) structs
        seq = ibis.struct({"s": t._seq, "a": t.activity}).collect().sort().map(lambda x: x.a)
    return t.group_by(t.case).aggregate(key=seq.join(SEP), dur_us=us.max() - us.min())


def _coded_sequences(log):
    """Per case: its activity sequence as an array of activity codes (or names, lazy logs), and its duration."""
    t, vocab = log._coded()
    us = _micros(t.timestamp)
    if vocab is None:
        return _sequences(log), None
    seq = t._act.collect(order_by=t._seq)
    return t.group_by(t._case).aggregate(key=seq, dur_us=us.max() - us.min()), vocab


NUMPY_VARIANTS = True


def _variants_numpy(log):
    """Variants of an in-memory log from its sorted rows (no sort, no SQL): a 64-bit
    polynomial hash of each case's activity codes (mixed with its length) groups the cases,
    then every case is compared with the first case of its group, so the result is exact;
    None on a collision (the caller then uses the SQL path)."""
    import numpy as np

    a = log._arrays()
    codes, first, us = a["codes"], a["first"], a["us"]
    starts = np.flatnonzero(first)
    n = len(codes)
    lengths = np.diff(np.append(starts, n))
    pos = np.arange(n) - np.repeat(starts, lengths)
    maxlen = int(lengths.max())
    with np.errstate(over="ignore"):
        p1 = np.cumprod(np.full(maxlen, 1_000_003, dtype=np.uint64))
        c = codes.astype(np.uint64) + np.uint64(1)
        h1 = np.add.reduceat(c * p1[pos], starts)
        h1 = h1 ^ (lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15))
    grp, uniq = pd.factorize(h1)
    # exactness: each case equals the first case of its group
    rep_case = np.full(len(uniq), -1, dtype=np.int64)
    rep_case[grp[::-1]] = np.arange(len(grp))[::-1]
    rep_of_case = rep_case[grp]
    if not (lengths == lengths[rep_of_case]).all() or not (
            codes == codes[np.repeat(starts[rep_of_case], lengths) + pos]).all():
        return None  # a hash collision: let the exact SQL path do it
    dur = us[np.append(starts[1:], n) - 1] - us[starts]
    counts = np.bincount(grp)
    med = pd.Series(dur).groupby(grp).median().to_numpy()
    keys = [codes[starts[r]:starts[r] + lengths[r]].tolist() for r in rep_case]
    return pd.DataFrame({"key": keys, "count": counts, "median_us": med})


def variants(log) -> pd.DataFrame:
    """Variants: the distinct ordered activity sequences with the number of cases.

    Columns ``variant`` (tuple of activities), ``count``, ``duration_median``
    (Timedelta, median case duration); sorted by count (descending) then variant.

    >>> import journeylab as jl
    >>> from journeylab import engine
    >>> v = engine.variants(jl.datasets.load_example())
    >>> len(v), int(v["count"].sum())
    (6, 6)
    """
    t, vocab = log._coded()
    out = _variants_numpy(log) if vocab is not None and NUMPY_VARIANTS else None
    if out is None:
        per_case, vocab = _coded_sequences(log)
        agg = per_case.group_by("key").aggregate(count=per_case.count(), median_us=per_case.dur_us.median())
        out = execute(agg)
    if vocab is not None:
        names = vocab.tolist()
        variant = [tuple(names[i] for i in k) for k in out["key"]]
    else:
        variant = [tuple(k.split(SEP)) for k in out["key"]]
    res = pd.DataFrame({
        "variant": variant,
        "count": out["count"].astype("int64"),
        "duration_median": _td(out["median_us"]),
    })
    res["_key"] = [SEP.join(v) for v in variant]
    res = res.sort_values(["count", "_key"], ascending=[False, True], ignore_index=True)
    return res.drop(columns="_key")


def case_variants(log) -> pd.Series:
    """Per case, the index of its variant in :func:`variants` (Series indexed by case).

    >>> import journeylab as jl
    >>> from journeylab import engine
    >>> engine.case_variants(jl.datasets.load_example()).nunique()
    6
    """
    per_case = execute(_sequences(log).select("case", "key"))
    var = variants(log)
    keys = pd.Index([SEP.join(v) for v in var["variant"]])
    idx = keys.get_indexer(per_case["key"].astype(str))
    return pd.Series(idx, index=per_case["case"].astype(str).to_numpy(), name="variant").sort_index()
