"""The per-case tables of a lazy log (DuckDB, Spark), computed by the engine: one group-by by case, one row
per case back (issue 15, kind (b)). :mod:`journeylab._kernels.cases` gives them to the analyses, with the
same tables computed in memory for in-memory logs.

- :func:`facts_engine` - start, end, duration, events per channel, first / last channel, value total and
  largest;
- :func:`first_engine` - per case, the first non-missing value of some columns, or their value on the
  case's first event.

The Ibis expressions are the same on DuckDB and Spark: ``argmin(key, where=...)`` compiles to
``arg_min ... FILTER`` (DuckDB) and ``min_by(IF(...), IF(...))`` (Spark), both skipping the rows the
filter drops, so "the first event with a value" means the same on both.

>>> import ibis, pandas as pd, journeylab as jl
>>> df = pd.DataFrame({"id": ["a", "a", "b"], "step": ["x", "y", "x"], "t": pd.to_datetime(["2025-01-01",
...     "2025-01-02", "2025-01-03"]), "ch": [None, "web", "app"]})
>>> log = jl.from_ibis(ibis.memtable(df), case="id", activity="step", timestamp="t", channel="ch")
>>> f = facts_engine(log, pd.Index(["a", "b"], name="case"))
>>> f["first_channel"].isna().tolist(), f["last_channel"].tolist(), f.attrs["channels"]
([True, False], ['web', 'app'], ['app', 'web'])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._core.backend import execute, micros
from .units import log_timezone

__all__ = ["AT", "CH", "channel_names", "engine_dtype", "facts_engine", "first_engine"]

#: prefixes of the per-channel and per-attribute columns (attribute names may be anything)
CH, AT = "__ch_", "__at_"


def channel_names(log) -> list[str]:
    """The distinct channels of a lazy log, as text, sorted (one small distinct query)."""
    t = log.table
    got = execute(t.select(t.channel).distinct())["channel"]
    return sorted(str(x) for x in got if x is not None and not (isinstance(x, float) and np.isnan(x)))


def facts_engine(log, cases: pd.Index) -> pd.DataFrame:
    """:func:`case_facts` of a lazy log without the attributes: one group-by by case in the engine; one row
    per case comes back (and the distinct channels, first).

    The first / last channel is the arg-min / arg-max by ``_seq`` among the events with a channel, kept
    only when that event is the case's first / last (so a missing channel on the first event stays
    missing): Ibis' ``argmin(..., where=)`` is ``arg_min ... FILTER`` on DuckDB and ``min_by(IF(...))`` on
    Spark, where nulls are skipped alike. Missing floats (NaN, as pandas writes them to Spark) count as
    missing, as in memory.
    """
    t = log.table
    us = micros(t.timestamp)
    aggs = {"start": t.timestamp.min(), "end": t.timestamp.max(), "span_us": us.max() - us.min()}
    names: list[str] = []
    if log.has_role("channel"):
        names = channel_names(log)
        for j, name in enumerate(names):
            aggs[f"{CH}{j}"] = (t.channel == name).cast("int64").sum()
        has = t.channel.notnull()
        aggs.update(_fc=t.channel.argmin(t._seq, where=has), _fcs=t._seq.min(where=has),
                    _lc=t.channel.argmax(t._seq, where=has), _lcs=t._seq.max(where=has),
                    _s0=t._seq.min(), _s1=t._seq.max())
    if log.has_role("value"):
        v = t.value.cast("float64")
        ok = v.notnull() & ~v.isnan()
        aggs.update(value_sum=v.sum(where=ok), value_max=v.max(where=ok))
    raw = execute(t.group_by(t.case).aggregate(**aggs))
    raw.index = pd.Index(raw["case"].astype(str), name="case")
    raw = raw.drop(columns="case")
    raw = raw.reindex(cases)
    tz = log_timezone(log)
    out = pd.DataFrame({"start": _log_times(raw["start"], tz), "end": _log_times(raw["end"], tz),
                        "span_us": raw["span_us"].to_numpy(dtype=np.int64)}, index=cases)
    if log.has_role("channel"):
        for j in range(len(names)):
            out[f"{CH}{j}"] = raw[f"{CH}{j}"].fillna(0).to_numpy(dtype=np.int64)
        first_ok = (raw["_fcs"] == raw["_s0"]).to_numpy(dtype=bool)
        last_ok = (raw["_lcs"] == raw["_s1"]).to_numpy(dtype=bool)
        for col, raw_col, ok in (("first_channel", "_fc", first_ok), ("last_channel", "_lc", last_ok)):
            out[col] = np.array([str(x) if keep else None for x, keep in zip(raw[raw_col].tolist(), ok.tolist())],
                                dtype=object)
    if log.has_role("value"):
        out["value_sum"] = raw["value_sum"].fillna(0.0).to_numpy(dtype=float)
        out["value_max"] = raw["value_max"].to_numpy(dtype=float)
    out.attrs = {"channels": names}
    return out


def _log_times(ts: pd.Series, tz) -> pd.Series:
    """Fetched timestamps as an in-memory log holds them: in the log's zone, in microseconds. DuckDB returns
    a zoned column as it is; Spark returns its TIMESTAMP (an instant) naive, in the session's zone, which
    journeylab's Spark sessions set to UTC: those are read as UTC."""
    if getattr(ts.dt, "tz", None) is None:
        ts = ts.dt.tz_localize("UTC")
    return ts.dt.tz_convert(tz).astype(f"datetime64[us, {tz}]")


def engine_dtype(values: pd.Series, dtype) -> pd.Series:
    """Integers the engine returns as floats (because of missing values) back as (nullable) integers."""
    if dtype.is_integer() and values.dtype.kind in "fO":
        bits = dtype.nbytes * 8
        return values.astype(f"Int{bits}")
    return values


def first_engine(log, columns: list, cases: pd.Index, *, nonmissing: bool) -> pd.DataFrame:
    """Per case, the first non-missing value of each column (``nonmissing``) or its value on the first
    event: an arg-min by ``_seq`` among the events with a value, kept when that is the first event."""
    t = log.table
    aggs = {"_s0": t._seq.min()}
    for j, col in enumerate(columns):
        x = t[col]
        ok = x.notnull() & ~x.isnan() if x.type().is_floating() else x.notnull()
        aggs[f"_v{j}"] = x.argmin(t._seq, where=ok)
        aggs[f"_s{j + 1}x"] = t._seq.min(where=ok)
    raw = execute(t.group_by(t.case).aggregate(**aggs))
    raw.index = pd.Index(raw["case"].astype(str), name="case")
    raw = raw.reindex(cases)
    out = {}
    for j, col in enumerate(columns):
        vals = engine_dtype(raw[f"_v{j}"], t[col].type())
        if not nonmissing:
            vals = vals.where((raw[f"_s{j + 1}x"] == raw["_s0"]).to_numpy(dtype=bool))
        out[col] = vals
    return pd.DataFrame(out, index=raw.index)
