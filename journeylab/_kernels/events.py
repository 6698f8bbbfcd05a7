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
from ..exceptions import SchemaError

__all__ = ["events", "KEY_COLUMNS"]

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
