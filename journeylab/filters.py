"""Exploration filters: each keeps whole cases and returns a new :class:`~journeylab.EventLog`.

They mirror the filters of process-mining tools (Disco, pm4py): by variant coverage,
start / end activity, a directly-follows or eventually-follows pair, case length and
case duration. Filtering by an attribute value (a segment) is
:meth:`EventLog.filter_values <journeylab.EventLog.filter_values>`. Each filter takes
``keep=False`` to drop the matching cases instead. None ever adds a case or an event.

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

import numbers

import numpy as np
import pandas as pd

from . import engine
from ._util import did_you_mean, to_timedelta
from ._kernels.scans import in_top_variants
from .discovery import _positive_int, _share, _top_rows, _variant_table
from .exceptions import InvalidParameterError

__all__ = [
    "filter_variants",
    "filter_endpoints",
    "filter_directly_follows",
    "filter_eventually_follows",
    "filter_case_length",
    "filter_case_duration",
]


def _keep_cases(log, cases, keep: bool):
    df = log._frame()
    mask = df["case"].isin(pd.Index(cases))
    return log._derive(df[mask if keep else ~mask])


def _activities(value, log, name: str) -> list[str]:
    if value is None:
        return []
    values = [value] if isinstance(value, str) else list(value)
    if not values:
        raise InvalidParameterError(f"{name}=[] is empty; name at least one activity (or leave {name}=None).")
    known = set(log.activities)
    for v in values:
        if v not in known:
            shown = list(log.activities[:12]) + (["..."] if len(log.activities) > 12 else [])
            raise InvalidParameterError(
                f"{name}={v!r} is not an activity of the log.{did_you_mean(str(v), log.activities)} "
                f"Activities (most frequent first): {shown}."
            )
    return values


def filter_variants(log, *, top: int | None = None, coverage: float | None = None, keep: bool = True):
    """Keep the cases of the most frequent variants: the ``top`` ones, or those covering ``coverage`` of cases.

    With both, the shorter selection wins (the same selection as :func:`journeylab.variants`).

    >>> import journeylab as jl
    >>> from journeylab.filters import filter_variants
    >>> filter_variants(jl.datasets.load_example(), top=2).n_cases
    2
    """
    if top is None and coverage is None:
        raise InvalidParameterError("give top=... (a number of variants) or coverage=... (a share of cases, e.g. 0.8).")
    top = _positive_int(top, "top")
    coverage = None if coverage is None else _share(coverage, "coverage")
    mask = in_top_variants(log, _top_rows(_variant_table(log), top, coverage))
    df = log._frame()
    return log._derive(df[mask if keep else ~mask])


def filter_endpoints(log, *, start=None, end=None, keep: bool = True):
    """Keep the cases that start with one of ``start`` and / or end with one of ``end`` (names or lists).

    >>> import journeylab as jl
    >>> from journeylab.filters import filter_endpoints
    >>> filter_endpoints(jl.datasets.load_example(), end="pay compensation").n_cases
    3
    """
    starts = _activities(start, log, "start")
    ends = _activities(end, log, "end")
    if not starts and not ends:
        raise InvalidParameterError("give start=... and/or end=... (an activity name or a list of them).")
    ct = engine.case_table(log)
    mask = pd.Series(True, index=ct.index)
    if starts:
        mask &= ct["first_activity"].isin(starts)
    if ends:
        mask &= ct["last_activity"].isin(ends)
    return _keep_cases(log, ct.index[mask.to_numpy()], keep)


def _pair(log, a, b):
    _activities(a, log, "a")
    _activities(b, log, "b")
    if not isinstance(a, str) or not isinstance(b, str):
        raise InvalidParameterError("a and b are single activity names, e.g. filter_directly_follows(log, 'cart', 'pay').")


def filter_directly_follows(log, a: str, b: str, *, keep: bool = True):
    """Keep the cases in which ``a`` is directly followed by ``b`` (at least once).

    >>> import journeylab as jl
    >>> from journeylab.filters import filter_directly_follows
    >>> filter_directly_follows(jl.datasets.load_example(), "decide", "reinitiate request").n_cases
    2
    """
    _pair(log, a, b)
    df = log._frame()
    case = df["case"].to_numpy()
    act = df["activity"].to_numpy()
    hit = (act[:-1] == a) & (act[1:] == b) & (case[:-1] == case[1:])
    return _keep_cases(log, np.unique(case[:-1][hit]), keep)


def filter_eventually_follows(log, a: str, b: str, *, keep: bool = True):
    """Keep the cases in which ``b`` happens some time after ``a`` (not necessarily directly).

    >>> import journeylab as jl
    >>> from journeylab.filters import filter_eventually_follows
    >>> filter_eventually_follows(jl.datasets.load_example(), "examine casually", "pay compensation").n_cases
    3
    """
    _pair(log, a, b)
    df = log._frame()
    pos = pd.Series(np.arange(len(df)), index=df.index)
    first_a = pos[df["activity"] == a].groupby(df["case"][df["activity"] == a]).min()
    last_b = pos[df["activity"] == b].groupby(df["case"][df["activity"] == b]).max()
    both = pd.concat([first_a.rename("a"), last_b.rename("b")], axis=1).dropna()
    return _keep_cases(log, both.index[(both["a"] < both["b"]).to_numpy()], keep)


def _bound_int(v, name):
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
        raise InvalidParameterError(f"{name}={v!r} must be a whole number of events >= 1 (or None).")
    return int(v)


def filter_case_length(log, *, min: int | None = None, max: int | None = None, keep: bool = True):  # noqa: A002
    """Keep the cases with between ``min`` and ``max`` events (inclusive).

    >>> import journeylab as jl
    >>> from journeylab.filters import filter_case_length
    >>> filter_case_length(jl.datasets.load_example(), max=5).n_cases
    4
    """
    lo, hi = _bound_int(min, "min"), _bound_int(max, "max")
    if lo is None and hi is None:
        raise InvalidParameterError("give min=... and/or max=... (numbers of events per case).")
    if lo is not None and hi is not None and lo > hi:
        raise InvalidParameterError(f"min={lo} is above max={hi}; swap them.")
    return _keep_between(log, "length", lo, hi, keep)


def _keep_between(log, column: str, lo, hi, keep: bool):
    """The cases whose ``column`` of the case table lies in [lo, hi] (None: no bound)."""
    values = engine.case_table(log)[column]
    mask = pd.Series(True, index=values.index)
    if lo is not None:
        mask &= values >= lo
    if hi is not None:
        mask &= values <= hi
    return _keep_cases(log, values.index[mask.to_numpy()], keep)


def filter_case_duration(log, *, min=None, max=None, keep: bool = True):  # noqa: A002
    """Keep the cases whose duration (first to last event) lies between ``min`` and ``max`` (inclusive).

    Durations are strings like ``"2d"``, ``"12h"``, ``"30min"`` or ``pd.Timedelta``; bare
    numbers are refused (the unit would be a guess).

    >>> import journeylab as jl
    >>> from journeylab.filters import filter_case_duration
    >>> filter_case_duration(jl.datasets.load_example(), min="14d").n_cases
    2
    """
    lo = None if min is None else to_timedelta(min, name="min")
    hi = None if max is None else to_timedelta(max, name="max")
    if lo is None and hi is None:
        raise InvalidParameterError("give min=... and/or max=... as durations, e.g. max='2d'.")
    if lo is not None and hi is not None and lo > hi:
        raise InvalidParameterError(f"min={min!r} is longer than max={max!r}; swap them.")
    return _keep_between(log, "duration", lo, hi, keep)
