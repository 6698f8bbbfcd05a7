"""The events of a funnel's steps, per unit (customer or case) in order: the one step from a log to
:func:`~journeylab.funnel`'s attempts.

Each event gets a step bitmask (bit k: it marks step k - its activity, or a milestone's activities and
conditions) and an exclude flag. Where it runs:

- in memory, the projection is read where it lies and matched in numpy / pandas (:func:`step_rows`);
- on a log that lives in an engine (DuckDB, Spark), the bitmask is a sum of ``CASE WHEN`` over the
  activity and the conditions compiled by :func:`~journeylab.conditions.condition_expr`, and

  * :func:`first_attempts` (``order="sequential"``, one attempt per unit) runs the whole attempt in
    the engine (events numbered per unit with ``ROW_NUMBER``; each step the first event of that step
    after the previous one within the window: a join and a ``MIN`` per step; void when an exclude event
    lies in between) and sends back (b) one row per unit that enters: its id, the time of each step
    reached, void, the breakdown value;
  * :func:`step_rows` (every attempt, ``strict`` and ``any``) sends back (c) one narrow row of
    integers per step or exclude event of the journey's activities (unit key, microseconds, order,
    bitmask, flag; the breakdown value on step-1 events only) and (b) one id per unit; for ``strict``
    a ``LAG`` over all the unit's events flags the step events that follow another activity (what ends
    a strict run), so those other events stay in the engine.

  A condition that needs pandas (:class:`~journeylab.conditions.CannotCompile`), or a step event without
  a customer id (which :func:`~journeylab._kernels.units.known_customers` names), makes it fetch the
  projection instead (the events of the steps and exclusions - all events for ``strict`` - with the
  columns read) and match it as in memory.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._core.backend import execute, micros
from ..conditions import CannotCompile, condition_expr
from .events import events
from .units import known_customers
from .visits import epoch_us, to_datetime

__all__ = ["first_attempts", "step_rows"]


def step_rows(log, matchers, ex, unit_col: str, by, order: str):
    """The step and exclude events of every unit in order, as (unit of each row, microseconds, step
    bitmask, exclude flag, rows -> entry times, rows -> breakdown values): from the engine for a lazy log
    (see the module docstring), else from the projection.

    ``matchers``: per step, an activity name or a Milestone; ``ex``: the exclude activities; ``unit_col``:
    ``"case"`` or ``"customer"``; ``by``: the breakdown column or None; ``order``: the funnel's order.

    >>> import journeylab as jl
    >>> units, us, bits, x, _, _ = step_rows(jl.datasets.load_example(), ["register request", "decide"], [],
    ...                                     "case", None, "sequential")
    >>> bits[:3].tolist(), len(units)
    ([1, 2, 1], 15)
    """
    got = _engine_rows(log, matchers, ex, unit_col, by, order) if log.is_lazy else None
    return got if got is not None else _frame_rows(log, matchers, ex, unit_col, by, order)


def _frame_rows(log, matchers, ex, unit_col, by, order):
    """The step and exclude events of every unit in order, from the projection of the log (in memory:
    read where it lies; a lazy log whose conditions need pandas: fetched), as (unit of each row,
    microseconds, step bitmask, exclude flag, rows -> entry times, rows -> breakdown values)."""
    # the columns the steps, the unit and the breakdown read; an engine sends back only the events of the steps
    # and exclusions (all events for order="strict"), in memory the columns are read where they lie
    step_acts = {a for m in matchers for a in ([m] if isinstance(m, str) else m.activities)}
    columns = dict.fromkeys(([unit_col] if unit_col != "case" else []) + ([by] if by is not None else [])
                            + [c.column for m in matchers if not isinstance(m, str) for c in m.conditions
                               if c.column in log.columns])
    narrow = log.is_lazy and order != "strict"
    df = events(log, list(columns), activities=sorted(step_acts | set(ex)) if narrow else None)
    if unit_col == "customer":  # a case without a customer id is its own customer
        df = known_customers(df)
    bits = np.zeros(len(df), dtype=np.int64)
    for k, m in enumerate(matchers):
        hit = (df["activity"] == m).to_numpy(dtype=bool, na_value=False) if isinstance(m, str) else \
            m.matches(df).to_numpy()
        bits |= hit.astype(np.int64) << k
    xflag = df["activity"].isin(ex).to_numpy() if ex else np.zeros(len(df), dtype=bool)
    tus = epoch_us(df["timestamp"])
    if unit_col == "case":
        order_idx = np.arange(len(df))
        units = df["case"].to_numpy()
    else:
        codes, _ = pd.factorize(df["customer"], sort=True)
        order_idx = np.lexsort((df["_seq"].to_numpy(), tus, codes))
        units = df["customer"].to_numpy()[order_idx]
    bits, xflag, tus = bits[order_idx], xflag[order_idx], tus[order_idx]
    # sequential / any only look at step and exclude events; strict needs every event
    keep = np.ones(len(df), dtype=bool) if order == "strict" else (bits != 0) | xflag
    rows = order_idx[keep]
    return (units[keep], tus[keep], bits[keep], xflag[keep],
            lambda e: df["timestamp"].take(rows[e]).array, lambda e: df[by].take(rows[e]).to_numpy())


def _engine_events(log, matchers, ex, unit_col, by, order):
    """Ibis: the step and exclude events a funnel reads, with ``unit``, ``seq``, ``us``, ``bits`` (step
    bitmask: a sum of ``CASE WHEN`` over the activity and the compiled conditions), ``x`` (exclude flag),
    ``by`` (the breakdown value, on step-1 events only) and, for ``order="strict"``, ``brk``: the event
    just before it in the unit is of another activity (a ``LAG`` over all the unit's events), which ends
    a strict run. None when a condition must be matched in pandas
    (:class:`~journeylab.conditions.CannotCompile`)."""
    import ibis

    t = log.table
    step_acts = sorted({a for m in matchers for a in ([m] if isinstance(m, str) else m.activities)} | set(ex))
    if order != "strict":
        t = t.filter(t.activity.isin(step_acts))
    try:
        bits = ibis.literal(0, type="int64")
        for k, m in enumerate(matchers):
            hit = t.activity == m if isinstance(m, str) else t.activity.isin(list(m.activities))
            if not isinstance(m, str) and m.conditions:
                hit = hit & condition_expr(m.conditions, t)
            bits = bits + ibis.ifelse(hit, 1 << k, 0).cast("int64")
    except CannotCompile:
        return None
    entry_by = {}
    if by is not None:
        entry_by["by"] = ibis.ifelse(bits % 2 == 1, t[by], ibis.null().cast(t[by].type()))
    sel = t.select(unit=t[unit_col], seq=t._seq, us=micros(t.timestamp), bits=bits,
                   x=t.activity.isin(ex) if ex else ibis.literal(False), **entry_by)
    if order == "strict":  # brk: the event just before is of another activity (it ends a strict run)
        in_unit = ibis.window(group_by=sel.unit, order_by=[sel.us, sel.seq])
        prev_bits, prev_x = sel.bits.lag().over(in_unit), sel.x.lag().over(in_unit)
        sel = sel.mutate(brk=prev_bits.notnull() & (prev_bits == 0) & ~prev_x)
    return sel.filter((sel.bits != 0) | sel.x)


def _engine_rows(log, matchers, ex, unit_col, by, order):
    """:func:`_frame_rows` computed by the engine of a lazy log (:func:`_engine_events`): only (c) narrow
    rows of integers come back (unit key, microseconds, event order, bitmask, exclude flag; the breakdown
    value on entry events only), and (b) the id of each unit. None when a condition must be matched in
    pandas, or a step event has no customer id (:func:`~journeylab._kernels.units.known_customers`
    decides then)."""
    import ibis

    sel = _engine_events(log, matchers, ex, unit_col, by, order)
    if sel is None:
        return None
    sel = sel.mutate(uk=sel.seq.min().over(ibis.window(group_by=sel.unit)))
    per_unit = execute(sel.group_by("unit").aggregate(uk=sel.seq.min()))
    if per_unit["unit"].isna().any():
        return None
    rows = execute(sel.drop("unit"))
    ids = per_unit["unit"].to_numpy(dtype=object)
    by_id = np.argsort(ids, kind="stable")  # units in the order of their ids, as in memory
    uks = per_unit["uk"].to_numpy(dtype=np.int64)
    rank_of = pd.Series(np.empty(len(uks), dtype=np.int64), index=uks)
    rank_of.iloc[by_id] = np.arange(len(uks))
    rank = rank_of.reindex(rows["uk"].to_numpy(dtype=np.int64)).to_numpy()
    tus = rows["us"].to_numpy(dtype=np.int64)
    order_idx = np.lexsort((rows["seq"].to_numpy(dtype=np.int64), tus, rank))
    tz = getattr(log.table.timestamp.type().to_pandas(), "tz", None)
    units = ids[by_id][rank[order_idx]]
    tus, bits, xflag = tus[order_idx], rows["bits"].to_numpy(dtype=np.int64)[order_idx], \
        rows["x"].to_numpy(dtype=bool)[order_idx]
    by_values = rows["by"].to_numpy(dtype=object)[order_idx] if by is not None else None
    if order == "strict":  # one stand-in event of no step before each step event that follows another activity
        at = np.flatnonzero(rows["brk"].to_numpy(dtype=bool)[order_idx])
        # its time: the previous row's (of the unit), so that it never moves where a new attempt may start
        same = (at > 0) & (units[np.maximum(at - 1, 0)] == units[at])
        t_of = np.where(same, tus[np.maximum(at - 1, 0)], tus[at])
        units, tus = np.insert(units, at, units[at]), np.insert(tus, at, t_of)
        bits, xflag = np.insert(bits, at, 0), np.insert(xflag, at, False)
        by_values = np.insert(by_values, at, None) if by is not None else None
    return (units, tus, bits, xflag, lambda e: to_datetime(tus[e], tz).array, lambda e: by_values[e])


def first_attempts(log, matchers, ex, unit_col, by, K: int, w_us: int):
    """The one attempt per unit of ``order="sequential"`` (``uniques``, ``sessions``) computed by the
    engine: events numbered in each unit (``ROW_NUMBER``), step 1 at the first step-1 event, each next
    step at the first event of that step after the previous one (a join and a ``MIN`` per step, within
    the window), void when an exclude event lies between the entry and the last step reached. Only (b)
    one row per unit that enters comes back: its id, the time of each step reached, void, the breakdown
    value. Returns (unit ids, attempt numbers, entry times, breakdown values or None, steps reached, void
    flags, step times - an (n, K) float array of microseconds, NaN when not reached), units in the order
    of their ids; or None
    when a condition needs pandas or a step event has no customer id (then :func:`step_rows` decides).

    ``K``: the number of steps; ``w_us``: the window in microseconds; the other arguments as for
    :func:`step_rows`."""
    import ibis

    sel = _engine_events(log, matchers, ex, unit_col, by, "sequential")
    if sel is None:
        return None
    ev = sel.mutate(rn=ibis.row_number().over(ibis.window(group_by=sel.unit, order_by=[sel.us, sel.seq])))
    first = ev.filter(ev.bits % 2 == 1)
    aggs = {"r1": first.rn.min(), "t1": first.us.min()}
    if by is not None:
        aggs["by"] = first.by.argmin(first.rn)
    cur = first.group_by("unit").aggregate(**aggs)
    # p: the number of the event of the last step matched (null once a step is missed), rl: the last one
    # matched; each step is one left join and a group-by on what is carried, so that no table is read twice
    cur = cur.mutate(p=cur.r1, rl=cur.r1, lim=cur.t1 + w_us)
    for k in range(1, K):
        hit = ev.filter((ev.bits // (1 << k)) % 2 == 1)
        hit = hit.select(hu=hit.unit, hrn=hit.rn, hus=hit.us)
        j = cur.left_join(hit, (cur.unit == hit.hu) & (hit.hrn > cur.p) & (hit.hus <= cur.lim))
        cur = j.group_by(list(cur.columns)).aggregate(rk=j.hrn.min(), **{f"t{k + 1}": j.hus.min()})
        cur = cur.mutate(p=cur.rk, rl=ibis.coalesce(cur.rk, cur.rl)).drop("rk")
    if ex:
        xs = ev.filter(ev.x)
        xs = xs.select(xu=xs.unit, xrn=xs.rn)
        j = cur.left_join(xs, (cur.unit == xs.xu) & (xs.xrn > cur.r1) & (xs.xrn < cur.rl))
        cur = j.group_by(list(cur.columns)).aggregate(n_x=j.xrn.count())
    cur = cur.drop("r1", "p", "rl", "lim")
    out = execute(cur.order_by("unit"))  # the engine sorts the ids (bytes of UTF-8: code points)
    if out["unit"].isna().any():
        return None
    units = out["unit"].to_numpy(dtype=object)
    if not pd.Index(units).is_monotonic_increasing:  # ids that are not text: Python's order, as in memory
        order = np.argsort(units, kind="stable")
        out, units = out.iloc[order], units[order]
    times = np.column_stack([out[f"t{k}"].to_numpy(dtype=np.float64, na_value=np.nan) for k in range(1, K + 1)])
    reached = (~np.isnan(times)).sum(axis=1)
    times[np.arange(K)[None, :] >= reached[:, None]] = np.nan  # only the steps reached, in order
    tz = getattr(log.table.timestamp.type().to_pandas(), "tz", None)
    n = len(out)
    void = out["n_x"].to_numpy(dtype=np.int64) > 0 if ex else np.zeros(n, dtype=bool)
    return (units, np.ones(n, dtype=np.int64), to_datetime(out["t1"].to_numpy(dtype=np.int64), tz).array,
            out["by"].to_numpy(dtype=object) if by is not None else None, reached, void, times)
