"""The events an analysis needs, and no more: a projection of the log to some columns (and, optionally,
to the events of some activities).

Analyses ask for their columns here instead of taking the whole event table: in memory the answer is a
copy-on-write view of the log's frame (nothing is copied; changing it never changes the log); for a log
that lives in DuckDB or Spark the projection and the filter run in the engine and only those columns and
rows come back.

>>> import journeylab as jl
>>> ev = events(jl.datasets.load_example(), ["resource"], activities=["pay compensation"])
>>> list(ev.columns), len(ev)
(['case', 'activity', 'timestamp', 'resource', '_seq'], 3)
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from .._core.backend import execute
from .._core.formatting import cut
from ..exceptions import InvalidParameterError, SchemaError

__all__ = ["events", "KEY_COLUMNS", "MAX_GROUPS", "groupable", "distinct_values", "check_breakdown"]

#: Columns every projection keeps: who, what, when, and the event order.
KEY_COLUMNS = ("case", "activity", "timestamp")


def events(log, columns: Iterable[str] | None = None, *, activities: Iterable[str] | None = None) -> pd.DataFrame:
    """The events of ``log``, ordered by case then time, with the key columns, ``columns`` and ``_seq``.

    ``columns=None`` keeps every column. ``activities`` keeps only the events of those activities.
    Unknown columns are a SchemaError naming what the log has.
    """
    names = list(log.columns)
    if columns is None:
        wanted = names
    else:
        extra = [c for c in columns if c not in KEY_COLUMNS]
        missing = [c for c in extra if c not in names]
        if missing:
            raise SchemaError(f"column(s) {cut(missing)} are not in the log; it has {cut(names, 200)}.")
        wanted = list(KEY_COLUMNS) + list(dict.fromkeys(extra))
    keep = list(activities) if activities is not None else None
    if not log.is_lazy:
        df = log._frame()
        if keep is not None:
            df = df[df["activity"].isin(keep)]
        return df[wanted + ["_seq"]]
    t = log.table
    if keep is not None:
        t = t.filter(t.activity.isin(keep))
    return execute(t.select(*wanted, "_seq").order_by("_seq")).reset_index(drop=True)


#: Most distinct values a column may have to break an analysis down by it (``by=``) or to be offered as a
#: segment in an explorer.
MAX_GROUPS = 200


def groupable(n_values: int, n_cases: int) -> bool:
    """True when a column with ``n_values`` distinct values is fit for a breakdown of ``n_cases`` cases: 2 to
    :data:`MAX_GROUPS` values, and not an identifier (more than 20 values and more than one for every two
    cases, such as cookie or e-mail ids).

    >>> groupable(6, 20_000), groupable(150, 200), groupable(1, 100)
    (True, False, False)
    """
    return 1 < n_values <= MAX_GROUPS and not (n_values > 20 and n_values > n_cases / 2)


def distinct_values(log, column: str) -> int:
    """Number of distinct non-missing values of ``column`` (counted in the engine for a lazy log; once per log)."""
    def compute():
        if log.is_lazy:
            return int(execute(log.table[column].nunique()))
        col = log._frame()[column]
        try:
            return int(col.nunique())
        except TypeError:  # unhashable values (lists): as text
            return int(col.dropna().astype(str).nunique())

    return log._memo(("events", "distinct", column), compute)


def check_breakdown(log, column: str, *, name: str = "by") -> None:
    """Refuse, fast and with advice, a breakdown by a column unfit for it (see :func:`groupable`): an
    identifier makes one group per case or two, which takes long and says nothing.

    >>> import journeylab as jl
    >>> check_breakdown(jl.datasets.load_example(), "resource")
    """
    n = distinct_values(log, column)
    if n > 1 and not groupable(n, log.n_cases):
        raise InvalidParameterError(
            f"{name}={cut(column)} has {n:,} distinct values for {log.n_cases:,} cases: a breakdown by an "
            f"identifier-like column gives groups of one or two cases, takes long and tells nothing. Pick a column "
            f"with few values (at most {MAX_GROUPS}, e.g. a channel, region or version), or group its values "
            "into a new column first.")
