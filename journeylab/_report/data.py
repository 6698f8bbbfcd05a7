"""What the report asks the engine for directly (besides the analyses): counts and distinct values by
group-by, the time span, a fingerprint of the events, and the words that say where it all ran.

For a lazy log (DuckDB, Spark) each is one aggregate query whose result is per value or a single
row; a log in memory takes the pandas path it always took (the same tables).

>>> import journeylab as jl
>>> distinct_values(jl.datasets.load_example(), "resource")[:2].tolist()
['Ellen', 'Mike']
"""

from __future__ import annotations

import hashlib

import pandas as pd

from .._core.backend import execute
from .._kernels.events import events

__all__ = ["counts", "time_span", "distinct_values", "engine_fingerprint", "engine_label", "model_log"]


def counts(log, column: str) -> pd.DataFrame:
    """Events and distinct cases per value of ``column`` (indexed by it, sorted; missing values left
    out): a group-by in the engine for a lazy log, pandas in memory (the same table)."""
    if not log.is_lazy:
        df = events(log, [column] if column not in ("case", "activity") else [])
        return df.groupby(column).agg(events=("case", "size"), cases=("case", "nunique"))
    t = log.table
    t = t.filter(t[column].notnull())
    out = execute(t.group_by(column).aggregate(events=t.count(), cases=t.case.nunique()))
    return out.astype({"events": "int64", "cases": "int64"}).set_index(column).sort_index()


def time_span(log):
    """(first, last) timestamp: a min/max in the engine for a lazy log."""
    if not log.is_lazy:
        return log.time_span
    t = log.table
    row = execute(t.aggregate(first=t.timestamp.min(), last=t.timestamp.max())).iloc[0]
    return pd.Timestamp(row["first"]), pd.Timestamp(row["last"])


def distinct_values(log, column: str) -> pd.Index:
    """The distinct non-missing values of ``column`` (sorted as text): a group-by in the engine for a
    lazy log, never the column itself.

    >>> import journeylab as jl
    >>> distinct_values(jl.datasets.load_example(), "resource")[:2].tolist()
    ['Ellen', 'Mike']
    """
    if log.is_lazy:
        t = log.table
        values = execute(t.filter(t[column].notnull()).group_by(column).aggregate())[column]
    else:
        values = events(log, [column])[column].dropna().unique()
    return pd.Index(sorted(values, key=str))


def engine_fingerprint(log) -> str:
    """SHA-256 of a lazy log's events computed in its engine, without fetching them: the number of
    events and cases, the first and last timestamp, and two sums of a hash of each row (over every
    column but ``_seq``) taken modulo primes (Ibis has no bit-xor aggregate on Spark). Independent of row order;
    the hash function is the engine's, so DuckDB and Spark give different fingerprints of one log.

    >>> import journeylab as jl
    >>> len(engine_fingerprint(jl.datasets.load_example()))
    64
    """
    import ibis

    t = log.table
    cols = [c for c in t.columns if c != "_seq"]
    row = ibis.literal("\x1f").join([t[c].cast("string").fill_null("\x00") for c in cols])
    h = row.hash()  # int64 on DuckDB, int32 on Spark: the product below stays under 2**31 on both
    agg = execute(t.aggregate(n=t.count(), cases=t.case.nunique(), first=t.timestamp.min(), last=t.timestamp.max(),
                              total=(h % 2147483647).sum(),
                              mixed=((h % 46337) * (h % 46327)).sum())).iloc[0]
    text = "\x1f".join([*map(str, agg.tolist()), *cols])
    return hashlib.sha256(text.encode()).hexdigest()


def engine_label(log) -> str:
    """Where the report's computations ran, in words (the appendix states it).

    >>> import journeylab as jl
    >>> engine_label(jl.datasets.load_example())
    'in memory (pandas, with the in-process DuckDB for the scans)'
    """
    if log is None or not log.is_lazy:
        return "in memory (pandas, with the in-process DuckDB for the scans)"
    from .._core.backend import settings

    backend = log.backend
    if backend == "duckdb":
        s = settings()
        threads = "every core" if s["threads"] is None else f"{s['threads']} threads"
        copy = (", read from a sorted copy of the files made once in the spill folder"
                if log._meta.get("materialized") else "")
        return (f"DuckDB: the events stay in DuckDB ({log._meta.get('source', 'an Ibis table')}{copy}); only "
                f"per-variant and per-case tables come back (memory limit {s['memory_limit']}, {threads}, spilling to "
                f"{s['temp_directory']})")
    if backend == "pyspark":
        return "Spark: the events stay in Spark; only per-variant and per-case tables come back to the driver"
    return f"{backend}: the events stay in the engine"


def model_log(log, sample: int | None):
    """(the log a model section fits on, the sentence that says so): with ``sample`` and a log of more
    customers, a uniform random sample of ``sample`` customers with all their events
    (:meth:`~journeylab.EventLog.sample_customers`, seed 0); else the log itself and an empty sentence.

    >>> import journeylab as jl
    >>> log = jl.datasets.make_journeys(120, random_state=1).log
    >>> small, said = model_log(log, 40)
    >>> small.n_cases, said.split(":")[0]
    (40, 'Fitted on a uniform random sample of 40 of the 120 customers')
    >>> model_log(log, None)[0] is log, model_log(log, 500)[1]
    (True, '')
    """
    if sample is None:
        return log, ""
    small = log.sample_customers(sample, random_state=0)
    if small is log:
        return log, ""
    drawn = small._meta["sampled"]
    return small, (f"Fitted on a uniform random sample of {drawn['customers']:,} of the {drawn['of']:,} customers: "
                   "every event of each (seed 0); report(..., model_sample=None) fits every customer.")
