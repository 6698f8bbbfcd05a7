"""Exploration filters: each keeps whole cases and returns a new :class:`~journeylab.EventLog`.

They mirror the filters of process-mining tools (Disco, pm4py): by variant coverage,
start / end activity, a directly-follows or eventually-follows pair, case length and
case duration. Filtering by an attribute value (a segment) is
:meth:`EventLog.filter_values <journeylab.EventLog.filter_values>`. Each filter takes
``keep=False`` to drop the matching cases instead. None ever adds a case or an event.

On a lazy log (DuckDB, Spark: :func:`journeylab.from_ibis`) each filter returns a lazy log: the cases to
keep are computed in the engine (variants from the scans' per-case sequences joined with the top ones;
start / end activities, lengths, durations and first / last positions by a group-by per case;
directly-follows with ``lead`` over each case) and joined back to the events (a semi- or anti-join).
What comes back to Python: the variant table (one row per variant, for ``filter_variants``) and one count
(the new log's size); never a row per event or per case.

Examples
--------
>>> import journeylab as jl
>>> from journeylab import filters
>>> log = jl.datasets.load_example()
>>> filters.filter_directly_follows(log, "check ticket", "decide").n_cases
4
>>> filters.filter_case_duration(log, max="10d").n_cases
4
"""

from __future__ import annotations

import hashlib

import ibis
import numpy as np
import pandas as pd

from ._core.backend import backend_name, execute, micros
from ._core.formatting import duration_spec
from ._core.validation import BOOL, DURATION, LOG, RNG, Int, Optional, Share, activity_names, checked, rng
from ._kernels.events import events
from ._kernels.scans import _compact, _per_case, _variant_rows, case_table, in_top_variants, n_top_variants, variant_table
from .exceptions import InvalidParameterError

__all__ = [
    "filter_variants",
    "filter_endpoints",
    "filter_directly_follows",
    "filter_eventually_follows",
    "filter_case_length",
    "filter_case_duration",
    "sample_customers",
]

_TOP = Optional(Int(minimum=1, example=5))
_COVERAGE = Optional(Share(allow_zero=False))
_EVENTS = Optional(Int(minimum=1, example=2))


def _keep_events(log, mask: np.ndarray, keep: bool):
    """A new log with the events where ``mask`` (over the log's events, in order) is True (False: the others)."""
    df = log._frame()
    return log._derive(df[mask if keep else ~mask])


def _keep_cases(log, cases, keep: bool):
    return _keep_events(log, events(log, [])["case"].isin(pd.Index(cases)).to_numpy(), keep)


@checked(log=LOG, top=_TOP, coverage=_COVERAGE, keep=BOOL)
def filter_variants(log, *, top: int | None = None, coverage: float | None = None, keep: bool = True):
    """Keep the cases of the most frequent variants: the ``top`` ones, or those covering ``coverage`` of cases.

    With both, the shorter selection wins (the same selection as :func:`journeylab.variants`).

    Parameters
    ----------
    log : EventLog
        The events.
    top : int, optional
        Keep the cases of the ``top`` most frequent variants.
    coverage : float, optional
        A share in (0, 1]: keep the cases of the most frequent variants that together cover it.
    keep : bool, default True
        False drops those cases instead.

    Returns
    -------
    EventLog
        A new log with whole cases of the original.

    Examples
    --------
    >>> import journeylab as jl
    >>> from journeylab.filters import filter_variants
    >>> filter_variants(jl.datasets.load_example(), top=2).n_cases
    2
    """
    if top is None and coverage is None:
        raise InvalidParameterError("give top=... (a number of variants) or coverage=... (a share of cases, e.g. 0.8).")
    n = n_top_variants(variant_table(log)["count"], top=top, coverage=coverage)
    if log.is_lazy:  # the cases whose sequence (computed by the engine) is one of the n first variants
        per = _per_case(_compact(log))
        wanted = ibis.memtable(pd.DataFrame({"key": [list(k) for k in _variant_rows(log)["key"].iloc[:n]]}))
        return log._keep_lazy(per.join(wanted, per.key == wanted.key.cast(per.key.type())).select(per.case), keep)
    return _keep_events(log, in_top_variants(log, n), keep)


@checked(log=LOG, keep=BOOL)
def filter_endpoints(log, *, start=None, end=None, keep: bool = True):
    """Keep the cases that start with one of ``start`` and / or end with one of ``end``.

    Parameters
    ----------
    log : EventLog
        The events.
    start, end : str or list of str, optional
        Activity names (at least one of the two).
    keep : bool, default True
        False drops those cases instead.

    Returns
    -------
    EventLog
        A new log with whole cases of the original.

    Examples
    --------
    >>> import journeylab as jl
    >>> from journeylab.filters import filter_endpoints
    >>> filter_endpoints(jl.datasets.load_example(), end="pay compensation").n_cases
    3
    """
    starts = activity_names(log, start, "start")
    ends = activity_names(log, end, "end")
    if not starts and not ends:
        raise InvalidParameterError("give start=... and/or end=... (an activity name or a list of them).")
    if log.is_lazy:
        t = log.table
        per = t.group_by("case").aggregate(first=t.activity.argmin(t._seq), last=t.activity.argmax(t._seq))
        hit = per.case.notnull()
        if starts:
            hit &= per["first"].isin(list(starts))
        if ends:
            hit &= per["last"].isin(list(ends))
        return log._keep_lazy(per.filter(hit), keep)
    ct = case_table(log)
    mask = pd.Series(True, index=ct.index)
    if starts:
        mask &= ct["first_activity"].isin(starts)
    if ends:
        mask &= ct["last_activity"].isin(ends)
    return _keep_cases(log, ct.index[mask.to_numpy()], keep)


def _pair(log, a, b):
    activity_names(log, a, "a")
    activity_names(log, b, "b")
    if not isinstance(a, str) or not isinstance(b, str):
        raise InvalidParameterError("a and b are single activity names, e.g. filter_directly_follows(log, 'cart', 'pay').")


@checked(log=LOG, keep=BOOL)
def filter_directly_follows(log, a: str, b: str, *, keep: bool = True):
    """Keep the cases in which ``a`` is directly followed by ``b`` (at least once).

    Parameters
    ----------
    log : EventLog
        The events.
    a, b : str
        Two activity names.
    keep : bool, default True
        False drops those cases instead.

    Returns
    -------
    EventLog
        A new log with whole cases of the original.

    Examples
    --------
    >>> import journeylab as jl
    >>> from journeylab.filters import filter_directly_follows
    >>> filter_directly_follows(jl.datasets.load_example(), "decide", "reinitiate request").n_cases
    2
    """
    _pair(log, a, b)
    if log.is_lazy:
        t = log.table
        sel = t.select("case", "activity", nxt=t.activity.lead().over(ibis.window(group_by=t.case, order_by=t._seq)))
        return log._keep_lazy(sel.filter((sel.activity == a) & (sel.nxt == b)).select("case").distinct(), keep)
    ev = events(log, [])
    case = ev["case"].to_numpy()
    act = ev["activity"].to_numpy()
    hit = (act[:-1] == a) & (act[1:] == b) & (case[:-1] == case[1:])
    return _keep_cases(log, np.unique(case[:-1][hit]), keep)


@checked(log=LOG, keep=BOOL)
def filter_eventually_follows(log, a: str, b: str, *, keep: bool = True):
    """Keep the cases in which ``b`` happens some time after ``a`` (not necessarily directly).

    Parameters
    ----------
    log : EventLog
        The events.
    a, b : str
        Two activity names.
    keep : bool, default True
        False drops those cases instead.

    Returns
    -------
    EventLog
        A new log with whole cases of the original.

    Examples
    --------
    >>> import journeylab as jl
    >>> from journeylab.filters import filter_eventually_follows
    >>> filter_eventually_follows(jl.datasets.load_example(), "examine casually", "pay compensation").n_cases
    3
    """
    _pair(log, a, b)
    if log.is_lazy:  # the first a before the last b, by position in the case
        t = log.table
        e = t.filter(t.activity.isin([a, b]))
        per = e.group_by("case").aggregate(fa=e._seq.min(where=e.activity == a), lb=e._seq.max(where=e.activity == b))
        return log._keep_lazy(per.filter(per.fa < per.lb), keep)
    ev = events(log, [], activities=[a, b])
    pos = pd.Series(np.arange(len(ev)), index=ev.index)
    is_a, is_b = ev["activity"] == a, ev["activity"] == b
    first_a = pos[is_a].groupby(ev["case"][is_a]).min()
    last_b = pos[is_b].groupby(ev["case"][is_b]).max()
    both = pd.concat([first_a.rename("a"), last_b.rename("b")], axis=1).dropna()
    return _keep_cases(log, both.index[(both["a"] < both["b"]).to_numpy()], keep)


@checked(log=LOG, min=_EVENTS, max=_EVENTS, keep=BOOL)
def filter_case_length(log, *, min: int | None = None, max: int | None = None, keep: bool = True):  # noqa: A002
    """Keep the cases with between ``min`` and ``max`` events (inclusive).

    Parameters
    ----------
    log : EventLog
        The events.
    min, max : int, optional
        Bounds on the number of events of a case (at least one of the two).
    keep : bool, default True
        False drops those cases instead.

    Returns
    -------
    EventLog
        A new log with whole cases of the original.

    Examples
    --------
    >>> import journeylab as jl
    >>> from journeylab.filters import filter_case_length
    >>> filter_case_length(jl.datasets.load_example(), max=5).n_cases
    4
    """
    if min is None and max is None:
        raise InvalidParameterError("give min=... and/or max=... (numbers of events per case).")
    if min is not None and max is not None and min > max:
        raise InvalidParameterError(f"min={min} is above max={max}; swap them.")
    return _keep_between(log, "length", min, max, keep)


def _keep_between(log, column: str, lo, hi, keep: bool):
    """The cases whose ``column`` of the case table lies in [lo, hi] (None: no bound)."""
    if log.is_lazy:  # a group-by per case; durations compared in exact nanoseconds
        t = log.table
        us = micros(t.timestamp)
        per = t.group_by("case").aggregate(length=t.count(), duration=(us.max() - us.min()) * 1000)
        value, hit = per[column], per.case.notnull()
        if lo is not None:
            hit &= value >= (lo if column == "length" else int(lo.value))
        if hi is not None:
            hit &= value <= (hi if column == "length" else int(hi.value))
        return log._keep_lazy(per.filter(hit), keep)
    values = case_table(log)[column]
    mask = pd.Series(True, index=values.index)
    if lo is not None:
        mask &= values >= lo
    if hi is not None:
        mask &= values <= hi
    return _keep_cases(log, values.index[mask.to_numpy()], keep)


@checked(log=LOG, min=Optional(DURATION), max=Optional(DURATION), keep=BOOL)
def filter_case_duration(log, *, min=None, max=None, keep: bool = True):  # noqa: A002
    """Keep the cases whose duration (first to last event) lies between ``min`` and ``max`` (inclusive).

    Parameters
    ----------
    log : EventLog
        The events.
    min, max : str or pandas.Timedelta, optional
        Durations like ``"2d"``, ``"12h"``, ``"30min"`` (at least one of the two); bare numbers are
        refused (the unit would be a guess).
    keep : bool, default True
        False drops those cases instead.

    Returns
    -------
    EventLog
        A new log with whole cases of the original.

    Examples
    --------
    >>> import journeylab as jl
    >>> from journeylab.filters import filter_case_duration
    >>> filter_case_duration(jl.datasets.load_example(), min="14d").n_cases
    2
    """
    if min is None and max is None:
        raise InvalidParameterError("give min=... and/or max=... as durations, e.g. max='2d'.")
    if min is not None and max is not None and min > max:
        raise InvalidParameterError(f"min={duration_spec(min)!r} is longer than max={duration_spec(max)!r}; swap them.")
    return _keep_between(log, "duration", min, max, keep)


@checked(log=LOG, n=_TOP, fraction=_COVERAGE, random_state=RNG)
def sample_customers(log, n: int | None = None, *, fraction: float | None = None, random_state=0):
    """A uniform random sample of the log's customers, with every event of each one.

    The customers are the ``customer`` column's ids when the log has that role (a case without one is its
    own customer, as in every customer-level analysis), else the cases. Sampling whole customers - never
    single events or sessions - keeps each sampled customer's journey intact, so every analysis on the
    sample is exact for the customers in it: use it to fit a model or try an analysis on a log too big to
    explore whole.

    The draw is the same in memory, in DuckDB and in Spark: the customer ids are sorted (by code point),
    and numpy draws the ranks to keep (``random_state``). On a lazy log the ranks, the ids and the events
    stay in the engine (a join and a semi-join); on a log :func:`~journeylab.scan_parquet` copied, the
    sample is copied too, so the queries that follow read only its events.

    Parameters
    ----------
    log : EventLog
    n : int, optional
        How many customers to keep (all of them when the log has no more).
    fraction : float, optional
        Or the share of customers to keep (rounded to a whole number of customers, at least one).
    random_state : int or numpy Generator, default 0
        The seed of the draw; the same seed gives the same customers.

    Returns
    -------
    EventLog
        A new log of the drawn customers' events (lazy when ``log`` is); ``log`` itself when it has no more
        customers than asked for.

    Examples
    --------
    >>> import journeylab as jl
    >>> log = jl.datasets.make_journeys(200, random_state=1).log
    >>> small = sample_customers(log, 50)
    >>> small.n_cases, small.n_events < log.n_events
    (50, True)
    >>> sample_customers(log, fraction=0.1).n_cases
    20
    >>> sample_customers(log, 50).to_pandas().equals(small.to_pandas())
    True
    """
    from ._kernels.units import customer_expr, known_customers

    if (n is None) == (fraction is None):
        raise InvalidParameterError("give the number of customers to keep, n=..., or their share, fraction=... "
                                    "(one of the two), e.g. sample_customers(log, 100_000).")
    by_customer = log.has_role("customer")
    if log.is_lazy:
        t = log.table
        t = t.mutate(_unit=(customer_expr(log) if by_customer else t.case).cast("string"))
        ids = t.select("_unit").distinct()
        ids = ids.mutate(_rank=ibis.row_number().over(order_by=ids._unit))
        total = int(execute(ids.count()))
    else:
        df = events(log, ["customer"] if by_customer else [])
        unit = (known_customers(df)["customer"] if by_customer else df["case"]).astype(str)  # ids as text
        sorted_ids = np.sort(pd.unique(unit.to_numpy()).astype(object))
        total = len(sorted_ids)
    k = int(n) if n is not None else max(1, round(float(fraction) * total))
    if k >= total:
        return log
    ranks = np.sort(rng(random_state).choice(total, size=k, replace=False)).astype(np.int64)
    note = {"sampled": {"customers": k, "of": total}}
    if not log.is_lazy:
        keep = unit.isin(pd.Index(sorted_ids[ranks])).to_numpy()
        return log._derive(log._frame()[keep], **note)
    chosen = ids.join(ibis.memtable(pd.DataFrame({"_rank": ranks})), "_rank").select("_unit")
    kept = t.semi_join(chosen, "_unit").drop("_unit")
    if log._meta.get("materialized") and backend_name(kept) == "duckdb":
        from ._core.backend import store

        seed = hashlib.sha1(ranks.tobytes()).hexdigest()
        kept = store(kept.rename(_parent_seq="_seq"), repr(("sample", ibis.to_sql(log.table), seed)),
                     order_by=["_parent_seq"], drop=["_parent_seq"])
    return log._derive_lazy(kept, **note)
