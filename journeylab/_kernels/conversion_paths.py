"""Conversion paths: per customer (or case), the touchpoints before each conversion, as narrow tables.

Events are grouped per customer (the ``customer`` column when the log has one, else the case) and
ordered in time. Each conversion event closes a **conversion path**: the customer's touchpoints since
their previous conversion that lie within ``lookback`` before it (touchpoints after a conversion belong to
the next one). Touchpoints after a customer's last conversion form one **non-converting path** (those
within ``lookback`` of its last touch). A conversion without any touchpoint in its window is
*unattributed* (counted per unit).

:mod:`journeylab.attribution` credits these paths. The kernel reads only the columns it needs from the
log (the unit, the touchpoint label, the columns of the goal's conditions) and hands out integer-coded
tables. On a log that lives in DuckDB or Spark the engine keeps only the conversion events and the
touchpoint events that lie in a path's window (window functions per unit: a running count of
conversions, the time of the next one and of the last touch); when the conversion is told by activity
alone it also numbers the touches within their path (window functions per unit and path) and codes units and
labels by joins, so that six integers per kept touch come back, sorted by unit, path and position - kind (c)
of the push-down rule. Otherwise those rows and the few columns read come back and Python codes the paths.

>>> import pandas as pd, journeylab as jl
>>> df = pd.DataFrame({"case": ["a"] * 4, "activity": ["ad", "buy", "email", "buy"],
...     "t": pd.date_range("2025-01-01", periods=4, freq="D")})
>>> log = jl.from_pandas(df, case="case", activity="activity", timestamp="t")
>>> p, info = build_paths(log, conversion="buy", touchpoints="activity", lookback="30d", unit=None)
>>> p.labels, p.n_conversions, p.paths["n_touches"].tolist(), info
(('ad', 'email'), 2, [1, 1], {'conversion': 'buy', 'touchpoints': 'activity'})
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd

from .._core.backend import execute, micros
from .._core.formatting import cut
from .._core.names import did_you_mean
from .._core.validation import to_timedelta
from ..exceptions import EmptyLogError, InvalidParameterError, SchemaError
from ..journey import Criteria, Goal, Journey
from .events import events
from .survey import engine_times, events_where, known_table
from .units import known_customers

__all__ = ["Paths", "build_paths"]


@dataclass(frozen=True, eq=False)
class Paths:
    """The touches of every path (codes), the paths, the labels and the units; see :func:`build_paths`."""

    touches: pd.DataFrame   # path, unit_idx, label (code), pos, n, dt_s (seconds to conversion), converted
    paths: pd.DataFrame     # path, unit_idx, converted, n_touches
    labels: tuple[str, ...]
    units: pd.Index
    n_conversions: int
    n_unattributed_units: np.ndarray  # per unit: conversions without touches
    unit: str


def _conversion_mask(log, df: pd.DataFrame, conversion) -> tuple[pd.Series, str]:
    if isinstance(conversion, Journey):
        if conversion.goal is None:
            raise InvalidParameterError(f"journey {conversion.name!r} has no goal; pass conversion='<activity>' or "
                                        f"give the journey a goal.")
        conversion = conversion.goal
    if isinstance(conversion, (Goal, Criteria)):
        return conversion.matches(df).set_axis(df.index).astype(bool), str(conversion)
    acts = [conversion] if isinstance(conversion, str) else list(conversion) if isinstance(conversion, Iterable) else None
    if not acts:
        raise InvalidParameterError(f"conversion={cut(conversion)} must be an activity name, a list of them, or a "
                                    f"journey Goal.")
    present = set(log.activities)
    for a in acts:
        if a not in present:
            raise InvalidParameterError(f"conversion activity {cut(a)} does not occur in the log."
                                        + did_you_mean(str(a), log.activities) + " See log.activities.")
    return df["activity"].isin(acts), ", ".join(map(str, acts))


def _touch_labels(log, df: pd.DataFrame, touchpoints, conv: pd.Series) -> tuple[pd.Series, str]:
    """Label of each touchpoint event (None for events that are not touchpoints)."""
    if isinstance(touchpoints, str) and touchpoints in log.columns:
        lab = df[touchpoints].astype("object").where(df[touchpoints].notna(), None)
        what = touchpoints
    else:
        acts = [touchpoints] if isinstance(touchpoints, str) else list(touchpoints) \
            if isinstance(touchpoints, Iterable) else None
        if not acts:
            raise InvalidParameterError(f"touchpoints={cut(touchpoints)} must be a column name ('channel', "
                                        f"'activity') or a list of activities.")
        present = set(log.activities)
        for a in acts:
            if a not in present:
                hint = did_you_mean(str(a), list(log.activities) + list(log.columns))
                raise InvalidParameterError(f"touchpoints: {cut(a)} is neither a column nor an activity of the log."
                                            f"{hint} Columns: {cut(list(log.columns), 300)}.")
        lab = df["activity"].where(df["activity"].isin(acts), None).astype("object")
        what = "activity"
    keep = lab.notna() & ~conv
    if not keep.any():
        raise EmptyLogError(f"no touchpoint events for touchpoints={cut(touchpoints)} (conversion events are never "
                            f"touchpoints).")
    out = pd.Series(None, index=lab.index, dtype="object")
    out[keep] = lab[keep].astype(str).to_numpy(dtype=object)
    return out, what


def _columns(log, conversion, touchpoints, who: str) -> list[str]:
    """The columns the paths are built from: the unit, the touchpoint label and what the goal's conditions read."""
    goal = conversion.goal if isinstance(conversion, Journey) else conversion
    cols = [c.column for c in getattr(goal, "conditions", ()) or () if c.column in log.columns]
    if isinstance(touchpoints, str) and touchpoints in log.columns:
        cols.append(touchpoints)
    return ([who] if who == "customer" else []) + cols


def _relevant(log, conversion, touchpoints):
    """The engine filters of the conversion events and of the touchpoint events, or None when they cannot
    be told in the engine (criteria on any activity, bad input: then every event comes back, and the
    checks of :func:`build_paths` word the problem as in memory).

    Conversion: the activities named, or the goal's / criteria's activities - ``exact`` is False when
    conditions remain to be applied in Python (the conversion filter is then a superset). Touchpoints:
    events with a value in the touchpoint column, or of the listed activities.
    """
    goal = conversion.goal if isinstance(conversion, Journey) else conversion
    exact = True
    if isinstance(goal, Goal):
        conv_acts, exact = [goal.activity], not goal.conditions
    elif isinstance(goal, Criteria):
        conv_acts, exact = list(goal.activities), not goal.conditions
    elif isinstance(goal, str):
        conv_acts = [goal]
    elif isinstance(goal, Iterable) and not isinstance(goal, Journey):
        conv_acts = list(goal)
    else:
        return None
    if not conv_acts or not all(isinstance(a, str) for a in conv_acts):
        return None
    if isinstance(touchpoints, str) and touchpoints in log.columns:
        return (lambda c: c("activity").isin(conv_acts)), (lambda c: c(touchpoints).notnull()), exact
    acts = [touchpoints] if isinstance(touchpoints, str) else list(touchpoints) \
        if isinstance(touchpoints, Iterable) else None
    if not acts or not all(isinstance(a, str) for a in acts):
        return None
    return (lambda c: c("activity").isin(conv_acts)), (lambda c: c("activity").isin(acts)), exact


def _engine_events(log, cols, conversion, touchpoints, who, lookback):
    """Lazy log: the events the paths are built from, filtered in the engine.

    The conversion events, and the touchpoint events that can belong to a path: those within
    ``lookback`` before the next conversion of their unit, or - after the unit's last conversion - within
    ``lookback`` of its last touch (window functions: a running count of conversions per unit, the time of
    the next one, the time of the last touch). Touches the Python code would drop anyway never come
    back; the kept ones give exactly the same paths. When the conversion has conditions (only Python
    evaluates them), the engine keeps every conversion-activity and touchpoint event instead.
    """
    rel = _relevant(log, conversion, touchpoints)
    if rel is None:
        return events(log, cols)
    conv_where, touch_where, exact = rel
    if not exact:
        return events_where(log, cols, lambda c: conv_where(c) | touch_where(c))
    t = known_table(log) if who == "customer" else log.table
    col = lambda name: t[name]  # noqa: E731
    conv = conv_where(col).fill_null(False)
    touch = touch_where(col).fill_null(False) & ~conv
    t = t.filter(conv | touch).mutate(_conv=conv.cast("int64"), _us=micros(t.timestamp))
    t = t.mutate(_k=t[who])
    w = ibis.cumulative_window(group_by=t._k, order_by=[t._us, t._seq])
    t = t.mutate(_j=t._conv.sum().over(w) - t._conv)
    convs = t.filter(t._conv == 1).select(_k2=t._k, _j2=t._j, _cus=t._us)
    tails = t.filter(t._conv == 0).group_by(_k3=t._k).aggregate(_last=t._us.max())
    j = t.left_join(convs, [t._k == convs._k2, t._j == convs._j2]).left_join(tails, t._k == tails._k3)
    lb = int(lookback / pd.Timedelta(microseconds=1))
    keep = (j._conv == 1) | (j._cus.notnull() & (j._cus - j._us <= lb)) | (j._cus.isnull() & (j._last - j._us <= lb))
    names = list(dict.fromkeys(["case", "activity", "timestamp", *cols]))
    out = execute(j.filter(keep).select(*names, "_seq").order_by("_seq")).reset_index(drop=True)
    out["timestamp"] = engine_times(out["timestamp"])
    return out


def _engine_paths(log, conversion, touchpoints, who, lookback):
    """Lazy log, conversions told by activity alone: the paths built in the engine, as codes.

    Returns ``(touches, paths, units, labels, n_conv_unit, conv_txt, what)`` - the tables of
    :class:`Paths` - or None (other conversions, a touchpoint column that is not text: then
    :func:`_engine_events` fetches the events and Python builds the paths). The engine keeps the touches
    of the paths (as :func:`_engine_events`), numbers them within their path (window functions per unit
    and path) and codes the unit and the label by joins; what comes back: the distinct (activity, touch
    label) pairs and the units (to check and code them), the conversions per unit, and per kept touch
    six numbers (unit, path key, position, path length, label, microseconds to the conversion) sorted by
    unit, path and position - no text, no timestamps, nothing Python has to sort or group.
    """
    rel = _relevant(log, conversion, touchpoints)
    column = isinstance(touchpoints, str) and touchpoints in log.columns
    if rel is None or not rel[2] or (column and not log.table[touchpoints].type().is_string()):
        return None
    conv_where, touch_where, _ = rel
    base = known_table(log) if who == "customer" else log.table
    pairs = execute(base.select("activity", *([touchpoints] if column and touchpoints != "activity" else []))
                    .distinct())
    conv_p, conv_txt = _conversion_mask(log, pairs, conversion)  # the same checks and texts as in memory
    if not conv_p.any():
        raise EmptyLogError(f"no conversion event matches conversion={cut(conv_txt)}; nothing to attribute.")
    _, what = _touch_labels(log, pairs, touchpoints, conv_p)
    col = lambda name: base[name]  # noqa: E731
    conv = conv_where(col).fill_null(False)
    touch = touch_where(col).fill_null(False) & ~conv
    lab = base[touchpoints] if column else base.activity
    # only five narrow columns go through the windows and joins (the engine's memory follows their width)
    t = base.filter(conv | touch).select(_conv=conv.cast("int8"), _us=micros(base.timestamp), _seq=base._seq,
                                         _k=base[who],
                                         _lab=touch.ifelse(lab.cast("string"), ibis.null().cast("string")))
    keys = execute(t.select("_k").distinct())["_k"]
    units = pd.Index(sorted(keys.astype(str).tolist() if who == "customer" else keys.tolist()))
    del keys
    labels = tuple(sorted(execute(t.filter(t._lab.notnull()).select("_lab").distinct())["_lab"].tolist()))
    umap = ibis.memtable(pd.DataFrame({"_ku": units.to_numpy(dtype=object),
                                       "_u": np.arange(len(units), dtype="int32")}))
    lmap = ibis.memtable(pd.DataFrame({"_ln": np.asarray(labels, dtype=object),
                                       "_lc": np.arange(len(labels), dtype="int32")}))
    t = t.inner_join(umap, t._k == umap._ku)
    t = t.left_join(lmap, t._lab == lmap._ln)
    t = t.select(_k=t._u, _conv=t._conv, _us=t._us, _seq=t._seq, _lc=t._lc)  # unit and label as codes
    w = ibis.cumulative_window(group_by=t._k, order_by=[t._us, t._seq])
    t = t.mutate(_j=t._conv.cast("int64").sum().over(w) - t._conv.cast("int64"))
    convs = t.filter(t._conv == 1).select(_k2=t._k, _j2=t._j, _cus=t._us)
    per_unit = convs.group_by("_k2").aggregate(_nc=convs.count())
    nc = execute(per_unit)
    n_conv_unit = np.zeros(len(units), dtype="int64")
    n_conv_unit[nc["_k2"].to_numpy(dtype="int64")] = nc["_nc"].to_numpy(dtype="int64")
    if n_conv_unit.sum() == 0:
        return None
    tails = t.filter(t._conv == 0).group_by(_k3=t._k).aggregate(_last=t._us.max())
    j = t.filter(t._conv == 0)
    j = j.left_join(convs, [j._k == convs._k2, j._j == convs._j2]).left_join(tails, j._k == tails._k3)
    lb = int(lookback / pd.Timedelta(microseconds=1))
    keep = (j._cus.notnull() & (j._cus - j._us <= lb)) | (j._cus.isnull() & (j._last - j._us <= lb))
    k = j.filter(keep)
    k = k.mutate(_pk=k._cus.isnull().ifelse(ibis.literal(-1, "int64"), k._j), _dt=k._cus - k._us)
    part = ibis.window(group_by=[k._k, k._pk], order_by=[k._us, k._seq])
    k = k.mutate(_pos=ibis.row_number().over(part), _n=k._us.count().over(ibis.window(group_by=[k._k, k._pk])))
    rows = execute(k.select(_u=k._k.cast("int32"), _pk=k._pk, _pos=k._pos.cast("int32"), _n=k._n.cast("int32"),
                            _lc=k._lc.cast("int32"), _dt=k._dt).order_by(["_u", "_pk", "_pos"]))
    u = rows["_u"].to_numpy(dtype="int64")
    pk = rows["_pk"].to_numpy(dtype="int64")
    new = np.ones(len(u), dtype=bool)
    new[1:] = (u[1:] != u[:-1]) | (pk[1:] != pk[:-1])
    converted = pk >= 0
    del pk
    dt = rows["_dt"].to_numpy(dtype="float64")  # null for the touches of a non-converting path
    lc = rows["_lc"].to_numpy(dtype="int64")
    present = np.unique(lc)  # the labels of the kept touches only, as in memory
    labels = tuple(labels[i] for i in present)
    touches = pd.DataFrame({"path": np.cumsum(new) - 1, "unit_idx": u,
                            "label": np.searchsorted(present, lc), "pos": rows["_pos"].to_numpy(dtype="int64"),
                            "n": rows["_n"].to_numpy(dtype="int64"),
                            "dt_s": np.where(converted, dt / 1e6, np.nan), "converted": converted})
    del rows, dt
    first = np.flatnonzero(new)
    paths = pd.DataFrame({"path": np.arange(len(first), dtype="int64"), "unit_idx": u[first],
                          "converted": converted[first], "n_touches": touches["n"].to_numpy()[first]})
    return touches, paths, units, labels, n_conv_unit, conv_txt, what


def build_paths(log, *, conversion, touchpoints, lookback, unit) -> tuple[Paths, dict]:
    """The conversion and non-converting paths of ``log`` (see the module docstring), and what was asked for.

    ``conversion``: an activity, a list of them, a Goal / Criteria, or a Journey (its goal);
    ``touchpoints``: a column that labels the touches or a list of activities; ``lookback``: a
    duration; ``unit``: "customer", "case" or None (the customer when the log has one). Returns the
    :class:`Paths` and ``{"conversion": text, "touchpoints": what labels the touches}``.
    """
    who = unit or ("customer" if log.has_role("customer") else "case")
    if who == "customer" and not log.has_role("customer"):
        raise SchemaError("unit='customer' needs a customer column; the log has none. Use unit='case'.")
    cols = _columns(log, conversion, touchpoints, who)
    lookback_td = to_timedelta(lookback, name="lookback")
    built = _engine_paths(log, conversion, touchpoints, who, lookback_td) if log.is_lazy else None
    if built is not None:
        touches, paths, units, labels, n_conv_unit, conv_txt, what = built
        return _paths(touches, paths, labels, units, n_conv_unit, who, conv_txt, what)
    df = _engine_events(log, cols, conversion, touchpoints, who, lookback_td) if log.is_lazy else events(log, cols)
    if who == "customer":
        df = known_customers(df)  # a case without a customer id is its own customer
    conv, conv_txt = _conversion_mask(log, df, conversion)
    if not conv.any():
        raise EmptyLogError(f"no conversion event matches conversion={cut(conv_txt)}; nothing to attribute.")
    lab, what = _touch_labels(log, df, touchpoints, conv)
    keep = conv | lab.notna()
    d = pd.DataFrame({"who": df[who], "t": df["timestamp"], "seq": df["_seq"], "conv": conv, "label": lab})[keep]
    d = d.sort_values(["who", "t", "seq"], kind="stable")
    units = pd.Index(sorted(d["who"].unique()))
    d["u"] = units.get_indexer(d["who"])
    d["j"] = d.groupby("u", sort=False)["conv"].cumsum() - d["conv"].astype(int)
    convs = d[d["conv"]][["u", "j", "t"]].rename(columns={"t": "T"})
    n_conv_unit = convs.groupby("u").size().reindex(range(len(units)), fill_value=0).to_numpy()
    tp = d[~d["conv"]].merge(convs, on=["u", "j"], how="left")
    converting = tp["T"].notna()
    tp["converted"] = converting
    in_window = converting & ((tp["T"] - tp["t"]) <= lookback_td)
    tail = ~converting
    last_tail = tp[tail].groupby("u")["t"].transform("max")
    tail_ok = pd.Series(False, index=tp.index)
    tail_ok[tail] = (last_tail - tp.loc[tail, "t"]) <= lookback_td
    tp = tp[in_window | tail_ok].copy()
    labels = tuple(sorted(tp["label"].unique()))
    tp["label"] = pd.Index(labels).get_indexer(tp["label"])
    tp["pkey"] = np.where(tp["converted"], tp["j"], -1)
    tp = tp.sort_values(["u", "pkey", "t", "seq"], kind="stable")
    grp = tp.groupby(["u", "pkey"], sort=False)
    tp["path"] = grp.ngroup()
    tp["pos"] = grp.cumcount()
    tp["n"] = grp["label"].transform("size")
    tp["dt_s"] = np.where(tp["converted"], (tp["T"] - tp["t"]).dt.total_seconds(), np.nan)
    touches = tp[["path", "u", "label", "pos", "n", "dt_s", "converted"]].rename(columns={"u": "unit_idx"})
    touches = touches.reset_index(drop=True)
    paths = touches.groupby("path", sort=True).agg(unit_idx=("unit_idx", "first"), converted=("converted", "first"),
                                                   n_touches=("n", "first")).reset_index()
    return _paths(touches, paths, labels, units, n_conv_unit, who, conv_txt, what)


def _paths(touches, paths, labels, units, n_conv_unit, who, conv_txt, what) -> tuple[Paths, dict]:
    attributed = np.bincount(paths["unit_idx"].to_numpy()[paths["converted"].to_numpy()], minlength=len(units))
    unattributed = n_conv_unit - attributed
    info = {"conversion": conv_txt, "touchpoints": what}
    return Paths(touches=touches, paths=paths, labels=labels, units=units, n_conversions=int(n_conv_unit.sum()),
                  n_unattributed_units=unattributed, unit=who), info
