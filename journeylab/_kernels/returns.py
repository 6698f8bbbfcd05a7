"""Who comes back, and when: the calendar periods of a log and the per-cell counts of cohort retention.

A customer's **cohort event** is their first event that matches the cohort criteria (ties in time: the
first in log order); their **cohort period** is the calendar period it falls in. A **return** is a
returning event strictly later than the cohort event; its **period since cohort** ``k`` is the number of
whole calendar periods between the cohort period and the period the return falls in (0: the cohort period
itself). Periods are calendar days, ISO weeks (Monday 00:00) or calendar months in the log's time zone
(:func:`period_starts`).

:func:`return_cells` reduces a log to three small tables, the same on every backend:

- ``on``: per (group, cohort period, ``k``), the customers with a return in period ``k`` (``k <= max_periods``);
- ``last``: per (group, cohort period, ``last``), the customers whose latest return is in period ``last``
  (capped at ``max_periods``; -1: never returned) - the cohort sizes and the "returned in ``k`` or later"
  counts follow;
- ``first``: per (group, cohort period, ``first``), the customers whose first return is in period ``first``
  (``max_periods + 1``: later; -1: never) - the time to the first return.

Where it runs: in memory with pandas; on a lazy log (DuckDB, Spark) in the engine - one aggregate per
customer for the cohort event, the returning events matched to their period (integer arithmetic when the
periods all have the same length, else a join on a small table of period bounds), and ``GROUP BY``
with only per-cell counts coming back (two queries: the ``on`` cells, and the customers per group,
cohort, first and last return period - at most groups x cohorts x (max_periods + 2)^2 rows, never more
than the customers).
The same Ibis expressions run on DuckDB and Spark. A ``cohort`` or ``returning`` condition that cannot run
in the engine (a date or duration written as text, a text compared with a number: ``CannotCompile``) is
matched in pandas on the projection of its events (its activities, the columns it reads), and only the
order numbers ``_seq`` of the matching events go back to the engine (a semi-join).

>>> import pandas as pd
>>> starts = period_starts(pd.Timestamp("2025-01-01 10:00", tz="UTC"), pd.Timestamp("2025-01-20", tz="UTC"), "W")
>>> [f"{s:%a %Y-%m-%d}" for s in starts]
['Mon 2024-12-30', 'Mon 2025-01-06', 'Mon 2025-01-13', 'Mon 2025-01-20', 'Mon 2025-01-27']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._core.backend import execute
from ..conditions import CannotCompile, condition_expr
from .events import KEY_COLUMNS, events
from .units import known_customers, unit_table

__all__ = ["PERIODS", "Cells", "period_starts", "return_cells"]

#: The period codes and their names.
PERIODS = {"D": "day", "W": "week", "M": "month"}


@dataclass(frozen=True)
class Cells:
    """The three count tables of :func:`return_cells` (columns ``group``, ``cohort`` (period index), the
    period column and ``n``) and the period starts they index."""

    on: pd.DataFrame
    last: pd.DataFrame
    first: pd.DataFrame
    starts: pd.DatetimeIndex


def period_starts(first: pd.Timestamp, last: pd.Timestamp, period: str) -> pd.DatetimeIndex:
    """The starts of the calendar periods from the one holding ``first`` to the one after ``last``, in their zone.

    Days and months start at local midnight, weeks on Monday (ISO 8601); a midnight that does not exist
    (a zone that moves its clocks at midnight) is shifted forward. The last start is the end of the
    period holding ``last``.
    """
    tz = first.tz
    lo, hi = first.tz_localize(None).normalize(), last.tz_localize(None).normalize()
    if period == "W":
        lo -= pd.Timedelta(days=lo.weekday())
        naive = pd.date_range(lo, hi + pd.Timedelta(days=7), freq="7D")
    elif period == "M":
        naive = pd.date_range(lo.replace(day=1), hi + pd.offsets.MonthBegin(1), freq="MS")
    else:
        naive = pd.date_range(lo, hi + pd.Timedelta(days=1), freq="D")
    if tz is None:
        return naive
    return naive.tz_localize(tz, ambiguous=False, nonexistent="shift_forward")


def _micros(index: pd.DatetimeIndex) -> np.ndarray:
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    return index.as_unit("us").asi8


def _counts(df: pd.DataFrame, col: str) -> pd.DataFrame:
    out = df.groupby(["group", "cohort", col], dropna=False, sort=True).size().rename("n").reset_index()
    return out.astype({"cohort": np.int64, col: np.int64, "n": np.int64})


# --------------------------------------------------------------------------- in memory


def _memory(log, unit, cohort, returning, by, starts_us, max_periods) -> tuple:
    cols = [c for c in dict.fromkeys([*(c.column for crit in (cohort, returning) if crit is not None
                                        for c in crit.conditions), *([by] if by else [])])
            if c not in ("case", "activity", "timestamp", "customer")]
    df = log._frame()
    df = df[["case", "activity", "timestamp", "_seq", *(["customer"] if "customer" in df.columns else []), *cols]]
    if unit == "customer" and "customer" in df.columns:
        df = known_customers(df)
        who = df["customer"]
    else:
        who = df["case"]
    ts = df["timestamp"]
    us = (ts.dt.tz_convert("UTC").dt.tz_localize(None) if ts.dt.tz is not None else ts).dt.as_unit("us")
    d = pd.DataFrame({"unit": who.astype(object).to_numpy(), "us": us.to_numpy().view(np.int64),
                      "seq": df["_seq"].to_numpy()})
    d["p"] = np.searchsorted(starts_us, d["us"].to_numpy(), side="right") - 1
    cmask = np.ones(len(df), dtype=bool) if cohort is None else cohort.matches(df).to_numpy()
    first = d[cmask].sort_values(["us", "seq"], kind="stable").drop_duplicates("unit")
    cust = pd.DataFrame({"unit": first["unit"].to_numpy(), "cus": first["us"].to_numpy(),
                         "cohort": first["p"].to_numpy(),
                         "group": df[by].to_numpy()[first.index] if by else np.zeros(len(first), dtype=object)})
    cust["group"] = cust["group"].astype(object).where(pd.notna(cust["group"]), None)
    rmask = np.ones(len(df), dtype=bool) if returning is None else returning.matches(df).to_numpy()
    r = d.loc[rmask, ["unit", "us", "p"]].merge(cust, on="unit")
    r = r[r["us"] > r["cus"]]
    r = r.assign(k=r["p"] - r["cohort"])[["unit", "group", "cohort", "k"]].drop_duplicates(["unit", "k"])
    on = _counts(r[r["k"] <= max_periods], "k")
    per = r.groupby("unit")["k"].agg(["min", "max"])
    cust["first"] = per["min"].reindex(cust["unit"]).fillna(-1).to_numpy().astype(np.int64)
    cust["last"] = per["max"].reindex(cust["unit"]).fillna(-1).to_numpy().astype(np.int64)
    cust["first"] = np.minimum(cust["first"], max_periods + 1)
    cust["last"] = np.minimum(cust["last"], max_periods)
    return on, _counts(cust, "last"), _counts(cust, "first")


# --------------------------------------------------------------------------- in an engine


def _where(t, crit, log):
    """``t`` keeping the events that match a Criteria (all for None). A condition that cannot run in the
    engine (a date or duration written as text, a text compared with a number) is matched in pandas on the
    projection of the criteria's events (their activities, the columns the conditions read): only the
    ``_seq`` of the matching events goes back to the engine, as a semi-join."""
    import ibis

    if crit is None:
        return t
    out = t.activity.isin(list(crit.activities)) if crit.activities else ibis.literal(True)
    if not crit.conditions:
        return t.filter(out)
    try:
        return t.filter(out & condition_expr(crit.conditions, t))
    except CannotCompile:
        cols = [c for c in dict.fromkeys(c.column for c in crit.conditions) if c not in KEY_COLUMNS]
        ev = events(log, cols, activities=list(crit.activities) if crit.activities else None)
        seq = ev.loc[crit.matches(ev).to_numpy(dtype=bool), "_seq"].to_numpy(dtype=np.int64)
        keys = ibis.memtable(pd.DataFrame({"_mseq": seq}))
        return t.semi_join(keys, t._seq == keys._mseq)


def _engine(log, unit, cohort, returning, by, starts_us, max_periods) -> tuple:
    import ibis

    who = unit if unit == "customer" and log.has_role("customer") else "case"
    t = unit_table(log, who, log.time_span[1])
    t = t.mutate(unit=t[who].cast("string"))
    step = np.diff(starts_us)
    uniform = bool(len(step)) and bool((step == step[0]).all())
    if uniform:
        t = t.mutate(p=((t.us - int(starts_us[0])) // int(step[0])).cast("int64"))
    else:  # months, or a zone that changes its offset: a join on the (few) period bounds
        b = ibis.memtable(pd.DataFrame({"_p": np.arange(len(starts_us) - 1, dtype=np.int64),
                                        "_lo": starts_us[:-1], "_hi": starts_us[1:]}))
        t = t.join(b, [t.us >= b._lo, t.us < b._hi]).mutate(p=lambda x: x._p).drop("_p", "_lo", "_hi")
    c = _where(t, cohort, log)
    cust = c.group_by("unit").aggregate(cus=c.us.min())
    at = c.join(cust, [c.unit == cust.unit, c.us == cust.cus])
    grp = at[by].argmin(at._seq) if by else ibis.literal(0)
    cust = at.group_by(at.unit).aggregate(cus=at.us.min(), cohort=at.p.min(), group=grp)
    r = _where(t, returning, log)
    r = r.join(cust, r.unit == cust.unit).filter(lambda x: x.us > x.cus)
    r = r.select(unit=r.unit, group=r.group, cohort=r.cohort, k=r.p - r.cohort).distinct()
    onf = r.filter(r.k <= max_periods)
    on = execute(onf.group_by(["group", "cohort", "k"]).aggregate(n=onf.count()))
    per = r.group_by("unit").aggregate(first=r.k.min(), last=r.k.max())
    cu = cust.left_join(per, cust.unit == per.unit)
    cu = cu.select(group=cu.group, cohort=cu.cohort,
                   first=ibis.least(cu["first"].fill_null(-1), max_periods + 1),
                   last=ibis.least(cu["last"].fill_null(-1), max_periods))
    # one query for both per-customer tables: at most groups x cohorts x (max_periods + 2)^2 rows
    both = execute(cu.group_by(["group", "cohort", "first", "last"]).aggregate(n=cu.count()))
    both["group"] = both["group"].astype(object).where(both["group"].notna(), None) if by else 0
    last, first = (both.groupby(["group", "cohort", col], dropna=False, sort=True)["n"].sum().reset_index()
                   for col in ("last", "first"))
    out = []
    for f, col in ((on, "k"), (last, "last"), (first, "first")):
        f = f.astype({"cohort": np.int64, col: np.int64, "n": np.int64})
        f["group"] = f["group"].astype(object).where(f["group"].notna(), None) if by else 0
        out.append(f.sort_values(["cohort", col], kind="stable").reset_index(drop=True))
    return tuple(out)


def return_cells(log, *, unit: str, cohort, returning, by: str | None, period: str, max_periods: int) -> Cells:
    """The per-cell counts of the cohorts of ``log`` (see the module docstring).

    ``cohort`` / ``returning``: a Criteria, or None for any event. ``by``: a column whose value at each
    customer's cohort event is their group (None: one group, 0). Periods are indexed from the one holding
    the log's first event (:attr:`Cells.starts`).
    """
    first, last = log.time_span
    starts = period_starts(first, last, period)
    starts_us = _micros(starts)
    run = _engine if log.is_lazy else _memory
    on, lst, fst = run(log, unit, cohort, returning, by, starts_us, max_periods)
    if not by:
        for f in (on, lst, fst):
            f["group"] = 0
    return Cells(on=on, last=lst, first=fst, starts=starts)

