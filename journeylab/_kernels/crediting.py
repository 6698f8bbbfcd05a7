"""Goal crediting: who is credited with a journey's goal, and why the others are not - under the counting
rules of DOMAIN.md ("Goals and KPIs").

The second half of what :func:`~journeylab.goal_attainment`, :func:`~journeylab.ab_test` and
:func:`~journeylab.evaluate_rules` share (the first, who is in the journey when, is
:mod:`journeylab._kernels.entries`; ``goal_attainment`` documents every rule):

- :func:`credit` - per customer: entered, entries, how the last one ended, credited and when, or why
  not (:data:`REASONS`); and every goal event with its status - narrow tables an engine can compute;
- the checks of a journey that crediting needs: :func:`require_goal`, :func:`check_trigger`;
- :func:`latest_values` - per customer, the latest event and the latest value of each attribute, overall and
  within a time window (the journey state of :func:`~journeylab.evaluate_rules`): on a lazy log arg-max
  aggregations in the engine, one row per customer (kind (b) of issue 15).

>>> import pandas as pd, journeylab as jl
>>> from journeylab._kernels.entries import follow
>>> df = pd.DataFrame({"who": ["a", "a", "a"], "what": ["view", "delivered", "purchase"],
...                    "when": ["2025-03-01", "2025-03-02", "2025-03-03"]})
>>> log = jl.from_pandas(df, case="who", activity="what", timestamp="when")
>>> journey = jl.Journey.from_dict({"name": "buy", "milestones": [{"name": "v", "activities": ["view"]}],
...     "entry": ["view"], "exit": ["delivered"], "goal": {"type": "purchase", "activity": "purchase"}})
>>> customers, goal_events = credit(follow(log, journey), journey.goal)
>>> customers.loc["a", "reason"], goal_events["status"].tolist()
('credited', ['window'])
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import ibis
import numpy as np
import pandas as pd

from .._core.backend import execute
from .._core.formatting import cut
from .._core.warn import warn
from ..conditions import CannotCompile, condition_expr
from ..exceptions import DataQualityWarning, JourneyDefinitionError
from .entries import LEFT, Followed, absent_activities, advice
from .units import log_timezone, to_micros, to_times, unit_table

__all__ = [
    "REASONS",
    "check_trigger",
    "credit",
    "latest_values",
    "milestone_code",
    "milestone_runs",
    "milestone_state",
    "milestone_state_of",
    "milestones_compile",
    "require_goal",
]

#: Why a customer was or was not credited, in the order they are reported.
REASONS = ("credited", "pending", "not_reached", "after_window", "after_suppression", "later_journey", "excluded",
           "never_entered")


# --------------------------------------------------------------------------- checks


def require_goal(journey) -> None:
    """Refuse a journey without a goal (there is nothing to attain)."""
    if journey.goal is None:
        raise JourneyDefinitionError(
            f"journey {cut(journey.name)} has no goal, so there is nothing to attain. Add one to its definition, "
            "e.g. goal: {type: purchase, activity: purchase, target: '25%', window: 3d}.")


def check_trigger(log, journey, what: str = "goal trigger") -> None:
    """The trigger of the journey's goal absent from ``log``: an error when a close name exists (a typo), else
    a warning (pointing at the user's call)."""
    missing = absent_activities(log, journey, "goal")
    if not missing:
        return
    problem = missing[0]
    if problem.closest:
        raise JourneyDefinitionError(f"journey {cut(journey.name)}: the {what} {advice(problem)}. Fix goal.activity "
                                     "in the journey definition (or rename the log's activity).")
    warn(f"journey {cut(journey.name)}: the {what} {advice(problem)}; nobody can attain the goal. Check "
                  "goal.activity if that is not expected.", DataQualityWarning)


# --------------------------------------------------------------------------- crediting


def credit(followed: Followed, goal, others: Iterable[pd.DataFrame] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Judge every goal event against the customer's entries and credit each customer at most once.

    Parameters
    ----------
    followed : Followed
        What :func:`follow` found.
    goal : Goal
        The goal (trigger, conditions and attribution window); its conditions read columns
        :func:`follow` fetched (those of the journey's goal).
    others : list of DataFrame
        The entries of other journeys with the same goal (:func:`other_entries`, rule 4).

    Returns
    -------
    customers : DataFrame
        Per customer of ``followed.customers`` (index ``customer``): ``excluded``, ``entered``,
        ``entered_at`` (first entry), ``entries``, ``left`` and ``left_at`` (of the last entry),
        ``suppressed_at``, ``goal_at``, ``credited``, ``credited_at``, ``time_to_goal``, ``open``,
        ``reason`` (one of :data:`REASONS`).
    goal_events : DataFrame
        Every goal event: ``customer``, ``timestamp``, ``status`` (``inside``, ``window``, ``after_window``,
        ``after_suppression``, ``later_journey``, ``before_entry``), ``entry`` (the entry it was judged
        against).

    Examples
    --------
    >>> import journeylab as jl
    >>> sample = jl.datasets.make_journeys(50, random_state=1)
    >>> from journeylab._kernels.entries import follow
    >>> customers, goal_events = credit(follow(sample.log, sample.journey), sample.journey.goal)
    >>> int(customers["credited"].sum()) == int((customers["reason"] == "credited").sum())
    True
    """
    df, unit, as_of = followed.events, followed.unit, followed.as_of
    stints, window = followed.entries, goal.window
    hit = goal.matches(df).to_numpy()
    g = pd.DataFrame({"customer": pd.Series(df[unit].to_numpy()[hit], dtype=object),
                      "t": pd.Series(df["timestamp"].array[hit])})
    g = g.sort_values("t", kind="stable").reset_index(drop=True)
    st = stints.sort_values("entered_at", kind="stable")
    m = pd.merge_asof(g, st, left_on="t", right_on="entered_at", by="customer", direction="backward")
    has = m["entered_at"].notna().to_numpy()
    left = m["left"].to_numpy()
    t = m["t"]
    inside = has & ((left == "active") | (t <= m["left_at"]).to_numpy(dtype=bool, na_value=False))
    exited = has & np.isin(left, ["exited", "timed_out"]) & ~inside
    in_window = exited & (t <= m["left_at"] + window).to_numpy(dtype=bool, na_value=False)
    status = np.full(len(m), "before_entry", dtype=object)
    status[inside] = "inside"
    status[in_window] = "window"
    status[exited & ~in_window] = "after_window"
    status[has & (left == "suppressed") & ~inside] = "after_suppression"
    # rule 4: a goal reached after this journey ended, while another journey with the same goal holds the customer
    idx = np.flatnonzero(in_window)
    if len(idx) and others:
        probe = m.loc[idx, ["customer", "t"]].assign(_i=idx).sort_values("t", kind="stable")
        for o in others:
            if not len(o):
                continue
            oo = o.sort_values("entered_at", kind="stable").rename(columns={"entered_at": "o_in", "left": "o_left",
                                                                            "left_at": "o_at"})
            mm = pd.merge_asof(probe, oo[["customer", "o_in", "o_left", "o_at"]], left_on="t", right_on="o_in",
                               by="customer", direction="backward")
            held = mm["o_in"].notna() & ((mm["o_left"] == "active") | (mm["t"] <= mm["o_at"]).fillna(False))
            status[mm.loc[held.to_numpy(), "_i"].to_numpy()] = "later_journey"
    m["status"] = status
    goal_events = m[["customer", "t", "status", "entry"]].rename(columns={"t": "timestamp"})
    goal_events["entry"] = goal_events["entry"].astype("Int64")

    # per customer
    customers = followed.customers
    first_entry = stints.groupby("customer", sort=False)["entered_at"].min()
    n_entries = stints.groupby("customer", sort=False).size()
    last = stints.sort_values(["customer", "entry"]).groupby("customer", sort=False).tail(1).set_index("customer")
    considered = goal_events[goal_events["status"] != "before_entry"]
    ok = considered[considered["status"].isin(["inside", "window"])]
    credited_at = ok.groupby("customer", sort=False)["timestamp"].min()
    first_goal = considered.groupby("customer", sort=False).head(1).set_index("customer")
    any_goal = goal_events.groupby("customer", sort=False)["timestamp"].min()

    out = pd.DataFrame(index=customers)
    out["excluded"] = out.index.isin(followed.excluded)
    out["entered"] = out.index.isin(first_entry.index)
    tdtype = df["timestamp"].dtype
    out["entered_at"] = first_entry.reindex(out.index).astype(tdtype)
    out["entries"] = n_entries.reindex(out.index).fillna(0).astype(np.int64)
    out["left"] = pd.Categorical(last["left"].reindex(out.index), categories=list(LEFT))
    out["left_at"] = last["left_at"].reindex(out.index).astype(tdtype)
    out["suppressed_at"] = followed.suppressed_at.reindex(out.index).astype(tdtype)
    goal_at = first_goal["timestamp"].reindex(out.index).astype(tdtype)
    out["goal_at"] = goal_at.where(out["entered"], any_goal.reindex(out.index).astype(tdtype))
    out["credited"] = out.index.isin(credited_at.index)
    out["credited_at"] = credited_at.reindex(out.index).astype(tdtype)
    out["time_to_goal"] = out["credited_at"] - out["entered_at"]
    still = (out["left"] == "active").to_numpy(dtype=bool) | (
        out["left"].isin(["exited", "timed_out"]).to_numpy(dtype=bool)
        & (out["left_at"] + window > as_of).to_numpy(dtype=bool, na_value=False))
    out["open"] = out["entered"].to_numpy() & ~out["credited"].to_numpy() & still
    status_first = first_goal["status"].reindex(out.index)
    reason = np.where(status_first.isna(), np.where(out["open"], "pending", "not_reached"),
                      status_first.fillna("").replace({"inside": "credited", "window": "credited"})).astype(object)
    reason = np.where(out["credited"], "credited", reason)
    reason = np.where(~out["entered"], "never_entered", reason)
    reason = np.where(out["excluded"], "excluded", reason)
    out["reason"] = pd.Categorical(reason, categories=list(REASONS))
    return out, goal_events


# --------------------------------------------------------------------------- latest values


def _dtype(values: pd.Series, dtype) -> pd.Series:
    """Fetched values in the column's own dtype (a nullable one when values are missing)."""
    if values.isna().any() and (pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
        dtype = {"b": "boolean"}.get(np.dtype(dtype).kind, f"Int{np.dtype(dtype).itemsize * 8}") \
            if isinstance(dtype, np.dtype) else dtype
    try:
        return values.astype(dtype)
    except (TypeError, ValueError):
        return values


def latest_values(log, unit: str, as_of, current: pd.DataFrame):
    """Per customer of ``current`` (index: customer; columns ``entered_at``, ``left_at`` of their current
    entry, ``left_at`` missing while in it): their latest event up to ``as_of`` (``activity``, ``timestamp``),
    and for each attribute (every column of the log but the case, activity, time and unit) the latest known
    value (missing values skipped) and the latest value among their events of the current entry (from
    ``entered_at`` to ``left_at``, or ``as_of``).

    For a lazy log only: arg-max aggregations over the order (time, input order) in the engine, the windows
    going there as a small table; one row per customer comes back (the in-memory path of
    :func:`~journeylab.evaluate_rules` reduces its own events). The values keep the dtype of the log's column
    (nullable when missing).

    Returns
    -------
    attrs : list of str
        The attributes, in the log's order.
    last, profile, session : DataFrame
        Indexed by the customers of ``current`` (in that order).
    """
    attrs = [c for c in log.columns if c not in ("case", "activity", "timestamp", "_seq", unit)]
    windows = pd.DataFrame({"start": current["entered_at"], "end": current["left_at"].fillna(as_of)},
                           index=current.index)
    with warnings.catch_warnings():  # the customer-id warning was given when the events were fetched
        warnings.simplefilter("ignore")
        t = unit_table(log, unit, as_of)
    order = ibis.window(group_by=t[unit], order_by=[t.us, t._seq])
    t = t.mutate(_r=ibis.row_number().over(order))
    dtypes = execute(log.table.select(*attrs).limit(0)).dtypes if attrs else {}
    aggs = {"_act": t.activity.argmax(t._r), "_us": t.us.argmax(t._r)}
    aggs.update({f"_p{i}": t[c].argmax(t._r, where=t[c].notnull()) for i, c in enumerate(attrs)})
    got = execute(t.group_by(t[unit]).aggregate(**aggs))
    got = got.set_index(pd.Index(got[unit].astype(object).to_numpy(), name=unit)).reindex(windows.index)
    ts = to_times(got["_us"].fillna(0).astype(np.int64).to_numpy(), log_timezone(log))
    ts = ts.where(got["_us"].notna().to_numpy())
    last = pd.DataFrame({"activity": got["_act"].astype(object).to_numpy(), "timestamp": ts.array},
                        index=windows.index)
    profile = pd.DataFrame({c: _dtype(got[f"_p{i}"], dtypes[c]).array for i, c in enumerate(attrs)},
                           index=windows.index)
    session = pd.DataFrame(index=windows.index)
    if attrs and len(windows):
        w = ibis.memtable(pd.DataFrame({
            "_who": pd.Series([str(i) for i in windows.index], dtype=object),
            "_lo": np.asarray([to_micros(v) for v in windows["start"]], dtype=np.int64),
            "_hi": np.asarray([to_micros(v) for v in windows["end"]], dtype=np.int64)}))
        j = t.join(w, t[unit] == w._who)
        j = j.filter((j.us >= j._lo) & (j.us <= j._hi))
        got = execute(j.group_by(j._who).aggregate(**{
            f"_s{i}": j[c].argmax(j._r, where=j[c].notnull()) for i, c in enumerate(attrs)}))
        got = got.set_index(pd.Index(got["_who"].astype(object).to_numpy())).reindex(
            [str(i) for i in windows.index])
        session = pd.DataFrame({c: _dtype(got[f"_s{i}"], dtypes[c]).array for i, c in enumerate(attrs)},
                               index=windows.index)
    return attrs, last, profile, session


def milestone_code(journey, table):
    """The Ibis expression of :meth:`Journey.milestone_of` on ``table``: the code of the first milestone (in
    definition order) whose activities and conditions an event matches, else -1. Raises
    :class:`~journeylab.conditions.CannotCompile` when a milestone's conditions must be matched in pandas."""
    branches = []
    for i, m in enumerate(journey.milestones):
        hit = table.activity.isin(list(m.activities))
        if m.conditions:
            hit = hit & condition_expr(m.conditions, table)
        branches.append((hit.fill_null(False), i))
    code = ibis.cases(*branches, else_=-1) if branches else ibis.literal(-1)
    return code.cast("int64")


def milestones_compile(journey, log) -> bool:
    """Whether the engine of ``log`` can tell each event's milestone (the milestones' conditions compile)."""
    try:
        milestone_code(journey, log.table)
    except CannotCompile:
        return False
    return True


def milestone_state(log, journey, unit: str, as_of, current: pd.DataFrame, tdtype):
    """The milestone fields of :func:`journeylab.rules.evaluate_rules` from :func:`milestone_runs`:
    ``(milestone, milestone_at, reached)`` - the names (None without), the arrival times (``tdtype``) as a
    Series and the reached flags (0/1, one column per milestone code), all indexed like ``current``."""
    names = [m.name for m in journey.milestones]
    got = milestone_runs(log, journey, unit, as_of, current)
    code = got["code"].to_numpy()
    milestone = np.asarray(names + [None], dtype=object)[code]  # -1 -> None
    at = to_times(np.where(code >= 0, got["arrival"].to_numpy(), 0), log_timezone(log))
    milestone_at = pd.Series(at.array, index=current.index).where(code >= 0).astype(tdtype)
    reached = pd.DataFrame({i: got[f"reached_{i}"].to_numpy(dtype=np.int64) for i in range(len(names))},
                           index=current.index)
    return milestone, milestone_at, reached


def milestone_state_of(cur: pd.DataFrame, journey, unit: str, idx: pd.Index, tdtype):
    """:func:`milestone_state` from the events of the customers' current entries (``cur``, sorted by unit, time
    and input order; in memory, or fetched when a milestone's conditions do not compile)."""
    names = [m.name for m in journey.milestones]
    codes = journey.milestone_of(cur).cat.codes.to_numpy()
    keep = codes >= 0
    ms = pd.DataFrame({"customer": cur[unit].to_numpy()[keep], "code": codes[keep], "t": cur["timestamp"].array[keep]})
    if not len(ms):
        return (np.full(len(idx), None, dtype=object), pd.Series(pd.NaT, index=idx, dtype=tdtype),
                pd.DataFrame(index=idx))
    who, code = ms["customer"].to_numpy(), ms["code"].to_numpy()
    newrun = np.r_[True, (who[1:] != who[:-1]) | (code[1:] != code[:-1])]
    ms["run"] = np.cumsum(newrun)
    last_run = ms.groupby("customer", sort=False)["run"].transform("max").to_numpy()
    lr = ms[ms["run"].to_numpy() == last_run]
    arrive = lr.groupby("customer", sort=False).agg(code=("code", "first"), t=("t", "min")).reindex(idx)
    mcode = arrive["code"].fillna(-1).to_numpy(dtype=np.int64)
    milestone = np.asarray(names + [None], dtype=object)[mcode]  # -1 -> None
    milestone_at = pd.Series(arrive["t"].array, index=idx).astype(tdtype)
    reached = ms.groupby(["customer", "code"]).size().unstack(fill_value=0).reindex(idx, fill_value=0)
    return milestone, milestone_at, reached


def milestone_runs(log, journey, unit: str, as_of, current: pd.DataFrame) -> pd.DataFrame:
    """Per customer of ``current`` (as for :func:`latest_values`), their milestone state in the current entry
    (the events from ``entered_at`` to ``left_at``, or ``as_of``): ``code`` of the milestone of their last run of
    milestone events (-1 without any), ``arrival`` (epoch microseconds of that run's first event, -1 without)
    and ``reached_<i>`` (bool: an event of milestone i in the entry), as :func:`journeylab.rules` computes them
    from the events in memory.

    For a lazy log only, in the engine: the milestone of each event (:func:`milestone_code`; raises
    :class:`~journeylab.conditions.CannotCompile` when it cannot be told there), the entry windows going there
    as a small table, the runs by a ``LAG`` and a running sum in (time, input order) per customer; one row per
    customer with a milestone event in the entry comes back, never the events.
    """
    names = [m.name for m in journey.milestones]
    out = pd.DataFrame({"code": np.full(len(current), -1, dtype=np.int64),
                        "arrival": np.full(len(current), -1, dtype=np.int64),
                        **{f"reached_{i}": np.zeros(len(current), dtype=bool) for i in range(len(names))}},
                       index=current.index)
    if not len(current) or not names:
        return out
    with warnings.catch_warnings():  # the customer-id warning was given when the events were fetched
        warnings.simplefilter("ignore")
        t = unit_table(log, unit, as_of)
    acts = sorted({a for m in journey.milestones for a in m.activities})
    ev = t.filter(t.activity.isin(acts))
    # only four narrow columns go through the join and the windows (the engine's memory follows their width)
    ev = ev.select(ev[unit], ev.us, ev._seq, _code=milestone_code(journey, ev))
    ev = ev.filter(ev._code >= 0)
    ends = current["left_at"].fillna(as_of)
    w = ibis.memtable(pd.DataFrame({
        "_who": pd.Series([str(i) for i in current.index], dtype=object),
        "_lo": np.asarray([to_micros(v) for v in current["entered_at"]], dtype=np.int64),
        "_hi": np.asarray([to_micros(v) for v in ends], dtype=np.int64)}))
    j = ev.join(w, ev[unit] == w._who)
    j = j.filter((j.us >= j._lo) & (j.us <= j._hi))
    order = ibis.window(group_by=j._who, order_by=[j.us, j._seq])
    prev = j._code.lag().over(order)
    j = j.mutate(_new=(prev.isnull() | (prev != j._code)).cast("int64"))
    j = j.mutate(_run=j._new.sum().over(ibis.cumulative_window(group_by=j._who, order_by=[j.us, j._seq])))
    j = j.mutate(_last=j._run.max().over(ibis.window(group_by=j._who)))
    in_last = j._run == j._last
    got = execute(j.group_by(j._who).aggregate(
        _c=j._code.max(where=in_last), _a=j.us.min(where=in_last),
        **{f"_r{i}": (j._code == i).cast("int8").max() for i in range(len(names))}))
    where = pd.Index([str(i) for i in current.index]).get_indexer(got["_who"].astype(str).to_numpy())
    out.iloc[where, 0] = got["_c"].to_numpy(dtype=np.int64)
    out.iloc[where, 1] = got["_a"].to_numpy(dtype=np.int64)
    for i in range(len(names)):
        col = out[f"reached_{i}"].to_numpy().copy()
        col[where] = got[f"_r{i}"].to_numpy(dtype=np.int64) > 0
        out[f"reached_{i}"] = col
    return out

