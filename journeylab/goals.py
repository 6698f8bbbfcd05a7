"""Goal attainment: who reached the journey's goal under the counting rules, and when.

:func:`goal_attainment` follows every customer through a :class:`~journeylab.journey.Journey`
(entry, exit, re-entry, suppression) and credits the journey's **goal** exactly as the
counting rules of DOMAIN.md ("Goals and KPIs") say. The result, a :class:`GoalAttainment`,
tells per customer whether the goal was credited, and if not, why.

The model in one paragraph
--------------------------
A customer enters at an event matching the journey's ``entry`` and is *in the journey*
until the first later event matching its ``exit`` (or until suppression); the goal counts
while they are in it and during the attribution ``window`` after they exit (end
inclusive), never after a suppression, never for an excluded customer, and, when another
journey with the same goal holds the customer at that moment, for the other journey
(rule 4). Each customer is credited at most once. :func:`goal_attainment` documents every
detail.

Examples
--------
>>> import pandas as pd, journeylab as jl
>>> from journeylab.journey import Journey
>>> df = pd.DataFrame({
...     "who":  ["ann", "ann", "ann", "bob", "bob", "bob", "cy"],
...     "what": ["view", "delivered", "purchase", "view", "delivered", "purchase", "view"],
...     "when": ["2025-03-01", "2025-03-02", "2025-03-05", "2025-03-01", "2025-03-02", "2025-03-06",
...              "2025-03-06"],
... })
>>> log = jl.from_pandas(df, case="who", activity="what", timestamp="when")
>>> journey = Journey.from_dict({"name": "buy", "milestones": [{"name": "view", "activities": ["view"]}],
...     "entry": ["view"], "exit": ["delivered"],
...     "goal": {"type": "purchase", "activity": "purchase", "window": "3d", "target": "50%"}})
>>> result = goal_attainment(log, journey)
>>> result
GoalAttainment 'buy': 1 of 3 people credited (33.3%), target 50% (66.7% of target), window 3d
>>> result.customers["reason"].tolist()
['credited', 'after_window', 'pending']
"""

from __future__ import annotations

import html
import math
import numbers
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._kernels.units import known_customers
from ._util import analysis_date, closest, format_timedelta as _fmt_td
from .exceptions import DataQualityWarning, InvalidParameterError, JourneyDefinitionError

__all__ = ["goal_attainment", "GoalAttainment", "REASONS", "REASON_LABELS", "LEFT"]

#: Why a customer was or was not credited, in the order they are reported.
REASONS = ("credited", "pending", "not_reached", "after_window", "after_suppression", "later_journey", "excluded",
           "never_entered")
#: How the reasons read in tables and plots.
REASON_LABELS = {
    "credited": "credited",
    "pending": "not reached yet (still open)",
    "not_reached": "not reached",
    "after_window": "reached after the window",
    "after_suppression": "reached after suppression",
    "later_journey": "credited to another journey",
    "excluded": "excluded (never entered)",
    "never_entered": "never entered",
}
#: How a journey entry ends: the exit criteria were met, the customer was inactive for longer
#: than the ``timeout``, the customer was suppressed, or is still in the journey at ``as_of``.
LEFT = ("exited", "timed_out", "suppressed", "active")


# --------------------------------------------------------------------------- small helpers




def _fmt_window(td: pd.Timedelta) -> str:
    from .journey import _format_duration

    return _format_duration(pd.Timedelta(td))


def _check_log(log, where: str):
    from .log import EventLog

    if not isinstance(log, EventLog):
        raise InvalidParameterError(
            f"{where}: log must be a journeylab EventLog, got {type(log).__name__}. Build one with "
            "jl.from_pandas(df, case=..., activity=..., timestamp=...) or jl.read_csv(...).")
    return log


def _check_journey(journey, where: str, *, need_goal: bool):
    from .journey import Journey

    if not isinstance(journey, Journey):
        raise InvalidParameterError(
            f"{where}: journey must be a journeylab Journey, got {type(journey).__name__}. Build one with "
            "Journey.from_yaml('journey.yaml') or Journey.from_dict({...}).")
    if need_goal and journey.goal is None:
        raise JourneyDefinitionError(
            f"journey {journey.name!r} has no goal, so there is nothing to attain. Add one to its definition, e.g. "
            "goal: {type: purchase, activity: purchase, target: '25%', window: 3d}.")
    return journey


_as_of = analysis_date  # the analysis date, shared with milestones()


def _timeout(value) -> pd.Timedelta:
    from ._util import to_timedelta

    try:
        return to_timedelta(value, name="timeout")
    except InvalidParameterError as err:
        raise InvalidParameterError(f"{err} The timeout is how long a customer may stay inactive in the journey "
                                    "before leaving it, e.g. timeout='7d'.") from None


def _absent(names: Iterable[str], log) -> list[str]:
    """Advice lines for activity names that are not in the log."""
    present = list(log.activities)
    out = []
    for a in names:
        if a in set(present):
            continue
        hits = closest(a, present)
        hint = ("closest: " + ", ".join(repr(h) for h in hits)) if hits else \
            f"nothing close; the log has {len(present)} activities ({', '.join(repr(x) for x in present[:8])}" \
            + (", ..." if len(present) > 8 else "") + ")"
        out.append(f"{a!r} is not an activity of the log; {hint}")
    return out


def _check_goal_names(log, goal, journey_name: str, what: str = "goal trigger") -> None:
    """A trigger absent from the log: an error when a close name exists (a typo), else a warning."""
    lines = _absent([goal.activity], log)
    if not lines:
        return
    if closest(goal.activity, log.activities):
        raise JourneyDefinitionError(f"journey {journey_name!r}: the {what} {lines[0]}. Fix goal.activity in the "
                                     "journey definition (or rename the log's activity).")
    warnings.warn(f"journey {journey_name!r}: the {what} {lines[0]}; nobody can attain the goal. Check "
                  "goal.activity if that is not expected.", DataQualityWarning, stacklevel=3)


def _criteria(value, name: str):
    """A Criteria from a Criteria, or an activity name / list of names."""
    from .journey import Criteria

    if isinstance(value, Criteria):
        return value
    if isinstance(value, str) or (isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value)):
        return Criteria(value)
    raise InvalidParameterError(f"{name}={value!r} is not understood; see the docstring for the accepted forms.")


def _resolve_goal(goal, *, window=None, target=None):
    """The journey's goal with the ``window`` / ``target`` overrides, validated."""
    from .journey import Goal

    d = goal.to_dict()
    if window is not None:
        if isinstance(window, (bool, numbers.Number)):
            raise InvalidParameterError(f"window={window!r} is not a duration: a bare number has no unit; write "
                                        f"it like window='{window}d' or window='36h'.")
        d["window"] = window
    if target is not None:
        if isinstance(target, float) and not isinstance(target, bool) and 0 < target < 1:
            raise InvalidParameterError(f"target={target!r} is ambiguous: give a number of people (e.g. 1000) or "
                                        f"a percentage as text, e.g. target='{target * 100:g}%'.")
        d["target"] = target
    try:
        return Goal.from_dict(d)
    except JourneyDefinitionError as err:
        msg = str(err)
        inner = msg.split(": ", 1)[1] if msg.startswith("goal") and ": " in msg else msg
        if window is not None and "window" in msg:
            raise InvalidParameterError(f"window={window!r} is not a valid attribution window: {inner}") from None
        if target is not None and "target" in msg:
            raise InvalidParameterError(f"target={target!r} is not a valid target: {inner}") from None
        raise


# --------------------------------------------------------------------------- segments


def _customer_ids(value, name: str) -> pd.Index:
    if isinstance(value, (pd.Series, pd.Index, np.ndarray, list, tuple, set, frozenset)):
        vals = list(value.index[value.astype(bool)] if isinstance(value, pd.Series) and value.dtype == bool else value)
        return pd.Index([str(v) for v in vals], dtype=object).unique()
    raise InvalidParameterError(
        f"{name}={value!r} is not understood: give the customer ids (a set, list, Index or boolean Series), an "
        "activity name, or a Criteria such as Criteria(conditions=\"employee == true\").")


def _exclusion(exclusion, df: pd.DataFrame, unit: str) -> pd.Index:
    """Excluded customer ids (those present in ``df``)."""
    from .journey import Criteria

    if exclusion is None:
        return pd.Index([], dtype=object)
    if isinstance(exclusion, (Criteria, str)):
        crit = _criteria(exclusion, "exclusion")
        hit = crit.matches(df).to_numpy()
        return pd.Index(pd.unique(df[unit].to_numpy()[hit]), dtype=object)
    ids = _customer_ids(exclusion, "exclusion")
    known = pd.Index(pd.unique(df[unit].to_numpy()), dtype=object)
    unknown = ids.difference(known)
    if len(unknown):
        warnings.warn(f"exclusion: {len(unknown):,} of {len(ids):,} ids are not {unit}s of the log (e.g. "
                      f"{list(unknown[:3])}); they are ignored. Check that they are {unit} ids.",
                      DataQualityWarning, stacklevel=4)
    return ids.intersection(known)


def _suppression(suppression, df: pd.DataFrame, unit: str, tz) -> pd.Series:
    """Suppression time per customer (index: customer id, values: tz-aware timestamps)."""
    from .journey import Criteria

    empty = pd.Series([], index=pd.Index([], dtype=object), dtype=df["timestamp"].dtype, name="suppressed_at")
    if suppression is None:
        return empty
    if isinstance(suppression, (Criteria, str)) or (isinstance(suppression, (list, tuple)) and suppression
                                                    and all(isinstance(v, str) for v in suppression)):
        crit = _criteria(suppression, "suppression")
        hit = crit.matches(df).to_numpy()
        first = df.loc[hit].groupby(unit, sort=False)["timestamp"].min()
        return first.rename("suppressed_at").rename_axis(None)
    if isinstance(suppression, pd.DataFrame):
        cols = [str(c) for c in suppression.columns]
        who = next((c for c in ("customer", unit, "case") if c in cols), None)
        when = next((c for c in ("time", "timestamp", "suppressed_at") if c in cols), None)
        if who is None or when is None:
            raise InvalidParameterError(
                f"suppression: a DataFrame needs the columns 'customer' and 'time'; it has {cols}. Rename them, "
                "e.g. df.rename(columns={'id': 'customer', 'removed': 'time'}).")
        ser = pd.Series(suppression[when].to_numpy(), index=suppression[who].astype(str).to_numpy())
    elif isinstance(suppression, pd.Series):
        ser = pd.Series(suppression.to_numpy(), index=[str(i) for i in suppression.index])
    elif isinstance(suppression, Mapping):
        ser = pd.Series(list(suppression.values()), index=[str(k) for k in suppression], dtype=object)
    else:
        raise InvalidParameterError(
            f"suppression={suppression!r} is not understood. Give when each customer was removed: a dict "
            "{customer: time}, a Series (index: customer, values: times), a DataFrame with columns customer and "
            "time, or the activity that removes them (e.g. suppression='unsubscribe').")
    try:
        times = pd.to_datetime(pd.Series(ser.to_numpy(), dtype=object), format="mixed")
    except (ValueError, TypeError):
        raise InvalidParameterError(f"suppression: some times are not dates (e.g. {list(ser.iloc[:3])}); write "
                                    "them like '2025-01-31 12:00' or as Timestamps.") from None
    if times.isna().any():
        raise InvalidParameterError(f"suppression: {int(times.isna().sum())} missing time(s); give the time each "
                                    "customer was removed, or leave them out.")
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        times = times.dt.tz_convert(tz)
    else:
        times = times.dt.tz_localize(tz)
    out = pd.Series(times.dt.as_unit("us").to_numpy(), index=pd.Index(ser.index, dtype=object),
                    name="suppressed_at").astype(df["timestamp"].dtype)
    out = out.groupby(level=0, sort=False).min()
    known = pd.Index(pd.unique(df[unit].to_numpy()), dtype=object)
    unknown = out.index.difference(known)
    if len(unknown):
        warnings.warn(f"suppression: {len(unknown):,} of {len(out):,} ids are not {unit}s of the log (e.g. "
                      f"{list(unknown[:3])}); they are ignored. Check that they are {unit} ids.",
                      DataQualityWarning, stacklevel=4)
    return out[out.index.isin(known)]


# --------------------------------------------------------------------------- journey entries


def _stints(df: pd.DataFrame, unit: str, journey, suppressed_at: pd.Series, *, timeout=None,
            as_of=None) -> pd.DataFrame:
    """One row per journey entry: customer, entry (1, 2, ...), entered_at, left, left_at.

    ``df`` is sorted by unit, timestamp, input order. An entry is an entry event while out of
    the journey; it lasts until the first *later* exit event (an event matching both entry
    and exit toggles: it enters when out, exits when in), or - with a ``timeout`` - until
    ``timeout`` after the last journey event (entry, milestone or exit) of a spell of
    activity; events after a customer's suppression are ignored (an entry still open then
    ends ``suppressed``).
    """
    n = len(df)
    who = df[unit].to_numpy()
    ts = df["timestamp"]
    enter_m = journey.entry.matches(df).to_numpy() if journey.entry is not None else np.ones(n, dtype=bool)
    if journey.exit is not None:
        exit_m = journey.exit.matches(df).to_numpy()
    else:
        exit_m = journey.milestone(journey.happy_path[-1]).matches(df).to_numpy()
    keep = np.ones(n, dtype=bool)
    limit = None
    if len(suppressed_at):
        limit = df[unit].map(suppressed_at)
        keep = ~(ts > limit).to_numpy(dtype=bool, na_value=False)
    rows = np.flatnonzero((enter_m | exit_m) & keep)
    key = rows.astype(np.float64)
    t_tok = pd.Series(ts.array.take(rows))
    virtual = np.zeros(len(rows), dtype=bool)
    e, x, w = enter_m[rows], exit_m[rows], who[rows]
    if timeout is not None:
        # spells of activity: journey events less than `timeout` apart; a spell's end times out the entry
        act = (enter_m | exit_m | (journey.milestone_of(df).cat.codes.to_numpy() >= 0)) & keep
        jr = np.flatnonzero(act)
        jt = pd.Series(ts.array.take(jr))
        jw = who[jr]
        nxt_same = np.r_[jw[1:] == jw[:-1], False]
        gap = (jt.shift(-1) - jt)
        last = ~nxt_same | (gap > timeout).to_numpy(dtype=bool, na_value=False)
        vt = jt + timeout
        ok = last & (vt <= as_of).to_numpy(dtype=bool)
        if limit is not None:
            lim = pd.Series(limit.array.take(jr))
            ok &= ~(vt > lim).to_numpy(dtype=bool, na_value=False)
        vr = jr[ok]
        rows = np.r_[rows, vr]
        key = np.r_[key, vr + 0.5]
        t_tok = pd.concat([t_tok, vt[ok]], ignore_index=True)
        virtual = np.r_[virtual, np.ones(len(vr), dtype=bool)]
        e = np.r_[e, np.zeros(len(vr), dtype=bool)]
        x = np.r_[x, np.ones(len(vr), dtype=bool)]
        w = np.r_[w, who[vr]]
        order = np.argsort(key, kind="stable")
        rows, t_tok, virtual, e, x, w = rows[order], t_tok.iloc[order].reset_index(drop=True), virtual[order], \
            e[order], x[order], w[order]
    cols = {"customer": pd.Series([], dtype=object), "entry": pd.Series([], dtype=np.int64),
            "entered_at": ts.iloc[:0].reset_index(drop=True), "left": pd.Series([], dtype=object),
            "left_at": ts.iloc[:0].reset_index(drop=True)}
    m = len(rows)
    if m == 0:
        return pd.DataFrame(cols)
    pos = np.arange(m)
    new = np.r_[True, w[1:] != w[:-1]]
    gstart = np.maximum.accumulate(np.where(new, pos, 0))
    definite = e != x
    lastdef = np.maximum.accumulate(np.where(definite, pos, -1))
    valid = lastdef >= gstart
    ld = np.where(valid, lastdef, gstart)
    both = (e & x).astype(np.int64)
    cb = np.cumsum(both)
    base = np.where(valid, e[ld] & ~x[ld], False)
    ref = np.where(valid, cb[ld], cb[gstart] - both[gstart])
    inside = base ^ (((cb - ref) % 2) == 1)          # state after each token
    before = np.r_[False, inside[:-1]]
    before[new] = False
    enters = ~before & inside
    leaves = before & ~inside
    tr = np.flatnonzero(enters | leaves)
    ep = np.flatnonzero(enters)
    k = np.searchsorted(tr, ep)
    nxt = tr[np.minimum(k + 1, len(tr) - 1)]
    has_exit = (k + 1 < len(tr)) & leaves[nxt]
    customer = w[ep]
    entered_at = t_tok.iloc[ep].reset_index(drop=True)
    exit_at = t_tok.iloc[nxt].reset_index(drop=True)
    if len(suppressed_at):
        supp = pd.Series(customer).map(suppressed_at).astype(ts.dtype)
    else:
        supp = pd.Series(pd.NaT, index=range(len(ep)), dtype=ts.dtype)
    left = np.where(has_exit, np.where(virtual[nxt], "timed_out", "exited"),
                    np.where(supp.notna().to_numpy(), "suppressed", "active")).astype(object)
    left_at = exit_at.where(has_exit, supp)
    out = pd.DataFrame({"customer": pd.Series(customer, dtype=object), "entered_at": entered_at,
                        "left": left, "left_at": left_at})
    out.insert(1, "entry", out.groupby("customer", sort=False).cumcount().to_numpy() + 1)
    return out


def _prepare(log, journey, *, exclusion, suppression, as_of, timeout=None, where: str) -> dict:
    """Everything the goal and rule analyses share: the events up to ``as_of`` sorted by
    customer, the unit, the segments and the journey entries."""
    _check_log(log, where)
    _check_journey(journey, where, need_goal=False)
    as_of = _as_of(log, as_of)
    if timeout is not None:
        timeout = _timeout(timeout)
    frame = log._frame()
    unit = "customer" if log.has_role("customer") else "case"
    if unit == "customer":
        frame = known_customers(frame)  # a case without a customer id is its own customer
    df = frame[frame["timestamp"] <= as_of]
    df = df.sort_values([unit, "timestamp", "_seq"], kind="stable").reset_index(drop=True)
    if journey.entry is not None and journey.entry.activities:
        missing = _absent(journey.entry.activities, log)
        if len(missing) == len(journey.entry.activities):
            raise JourneyDefinitionError(
                f"journey {journey.name!r}: no entry activity occurs in the log, so nobody enters:\n"
                + "\n".join(f"  - {x}" for x in missing) + "\nFix entry.activities in the journey definition.")
    if journey.exit is not None and journey.exit.activities:
        missing = _absent(journey.exit.activities, log)
        if missing:
            warnings.warn(f"journey {journey.name!r}: some exit activities never occur, so they never end a "
                          "journey:\n" + "\n".join(f"  - {x}" for x in missing), DataQualityWarning, stacklevel=3)
    excluded = _exclusion(exclusion, df, unit)
    supp = _suppression(suppression, df, unit, df["timestamp"].dt.tz)
    stints = _stints(df, unit, journey, supp, timeout=timeout, as_of=as_of)
    if len(excluded):
        stints = stints[~stints["customer"].isin(excluded)].reset_index(drop=True)
    customers = pd.Index(pd.unique(df[unit].to_numpy()), dtype=object, name="customer")
    return {"df": df, "unit": unit, "as_of": as_of, "excluded": excluded, "suppressed_at": supp, "stints": stints,
            "customers": customers, "timeout": timeout}


def _other_stints(ctx: dict, journey, others) -> list[pd.DataFrame]:
    from .journey import Journey

    if isinstance(others, Journey):
        others = [others]
    if others is None:
        others = []
    if isinstance(others, (str, Mapping)) or not isinstance(others, Iterable):
        raise InvalidParameterError(f"other_journeys={others!r} must be a list of Journey objects with the same goal.")
    out = []
    g = journey.goal
    for i, other in enumerate(others):
        if not isinstance(other, Journey):
            raise InvalidParameterError(f"other_journeys[{i}] is a {type(other).__name__}, not a Journey; build it "
                                        "with Journey.from_yaml(...) or Journey.from_dict({...}).")
        og = other.goal
        if og is None or og.activity != g.activity or set(og.conditions) != set(g.conditions):
            raise InvalidParameterError(
                f"other_journeys[{i}] ({other.name!r}) has goal {og.criteria if og else None}, not the goal of "
                f"{journey.name!r} ({g.criteria}). Rule 4 shares credit only between journeys with the same goal; "
                "leave that journey out.")
        df = ctx["df"]
        out.append(_stints(df, ctx["unit"], other, pd.Series([], dtype=df["timestamp"].dtype),
                           timeout=ctx["timeout"], as_of=ctx["as_of"]))
    return out


# --------------------------------------------------------------------------- crediting


def _credit(ctx: dict, goal, others: list[pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Classify every goal event and credit each customer once.

    Returns (customers table, goal events with their status)."""
    df, unit, as_of = ctx["df"], ctx["unit"], ctx["as_of"]
    stints, window = ctx["stints"], goal.window
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
    events = m[["customer", "t", "status", "entry"]].rename(columns={"t": "timestamp"})
    events["entry"] = events["entry"].astype("Int64")

    # per customer
    customers = ctx["customers"]
    first_entry = stints.groupby("customer", sort=False)["entered_at"].min()
    n_entries = stints.groupby("customer", sort=False).size()
    last = stints.sort_values(["customer", "entry"]).groupby("customer", sort=False).tail(1).set_index("customer")
    considered = events[events["status"] != "before_entry"]
    ok = considered[considered["status"].isin(["inside", "window"])]
    credited_at = ok.groupby("customer", sort=False)["timestamp"].min()
    first_goal = considered.groupby("customer", sort=False).head(1).set_index("customer")
    any_goal = events.groupby("customer", sort=False)["timestamp"].min()

    out = pd.DataFrame(index=customers)
    out["excluded"] = out.index.isin(ctx["excluded"])
    out["entered"] = out.index.isin(first_entry.index)
    tdtype = df["timestamp"].dtype
    out["entered_at"] = first_entry.reindex(out.index).astype(tdtype)
    out["entries"] = n_entries.reindex(out.index).fillna(0).astype(np.int64)
    out["left"] = pd.Categorical(last["left"].reindex(out.index), categories=list(LEFT))
    out["left_at"] = last["left_at"].reindex(out.index).astype(tdtype)
    out["suppressed_at"] = ctx["suppressed_at"].reindex(out.index).astype(tdtype)
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
    return out, events


# --------------------------------------------------------------------------- summaries


def _week(ts: pd.Series) -> pd.Series:
    day = ts.dt.normalize()
    return day - pd.to_timedelta(day.dt.day_of_week, unit="D")


def _by_week(customers: pd.DataFrame) -> pd.DataFrame:
    c = customers[customers["entered"]]
    if not len(c):
        return pd.DataFrame({"entered": pd.Series([], dtype=np.int64), "attained": pd.Series([], dtype=np.int64),
                             "rate": pd.Series([], dtype=float), "open": pd.Series([], dtype=np.int64)},
                            index=pd.Index([], name="week"))
    wk = _week(c["entered_at"]).rename("week")
    out = pd.DataFrame({"entered": c.groupby(wk).size(), "attained": c["credited"].groupby(wk).sum(),
                        "open": c["open"].groupby(wk).sum()})
    out["rate"] = out["attained"] / out["entered"]
    return out[["entered", "attained", "rate", "open"]].astype({"attained": np.int64, "open": np.int64})


def _kaplan_meier(customers: pd.DataFrame, as_of: pd.Timestamp, confidence: float = 0.95) -> pd.DataFrame:
    """Cumulative share attaining the goal against the time since (first) entry: Kaplan-Meier.

    Event = credited (at ``credited_at``); everyone else is censored at ``as_of``. The
    interval is the exponential Greenwood interval (on log(-log S)), as in lifelines'
    ``KaplanMeierFitter``; the tests check the estimate against lifelines.
    """
    from scipy import stats

    c = customers[customers["entered"]]
    if not len(c):
        return pd.DataFrame({"time": pd.Series([], dtype="timedelta64[us]"), "attained": pd.Series([], dtype=float),
                             "low": pd.Series([], dtype=float), "high": pd.Series([], dtype=float),
                             "at_risk": pd.Series([], dtype=np.int64)})
    end = c["credited_at"].where(c["credited"], as_of)
    dur = np.maximum((end - c["entered_at"]).to_numpy(dtype="timedelta64[us]").astype(np.int64), 0)
    event = c["credited"].to_numpy(dtype=bool)
    times = np.unique(np.r_[0, dur])
    at_risk = len(dur) - np.searchsorted(np.sort(dur), times, side="left")
    d = np.bincount(np.searchsorted(times, dur[event]), minlength=len(times)).astype(float)
    n = at_risk.astype(float)
    surv = np.cumprod(1.0 - d / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.cumsum(np.where(n > d, d / (n * (n - d)), 0.0))
        z = float(stats.norm.ppf(0.5 + confidence / 2))
        v = np.log(surv)
        lo_s = np.exp(-np.exp(np.log(-v) - z * np.sqrt(var) / v))
        hi_s = np.exp(-np.exp(np.log(-v) + z * np.sqrt(var) / v))
    one, zero = surv >= 1.0, surv <= 0.0
    lo_s = np.where(one, 1.0, np.where(zero, 0.0, lo_s))
    hi_s = np.where(one, 1.0, np.where(zero, 0.0, hi_s))
    return pd.DataFrame({
        "time": pd.to_timedelta(times, unit="us"),
        "attained": 1.0 - surv,
        "low": 1.0 - hi_s,
        "high": 1.0 - lo_s,
        "at_risk": at_risk.astype(np.int64),
    })


def _reasons(customers: pd.DataFrame) -> pd.DataFrame:
    counts = customers["reason"].value_counts().reindex(list(REASONS), fill_value=0)
    n_in = int(customers["entered"].sum())
    out = pd.DataFrame({"label": [REASON_LABELS[r] for r in REASONS], "customers": counts.to_numpy().astype(np.int64)},
                       index=pd.Index(list(REASONS), name="reason"))
    out["share_of_entered"] = [(v / n_in if n_in and r not in ("excluded", "never_entered") else math.nan)
                               for r, v in zip(out.index, out["customers"])]
    out["share"] = out["customers"] / max(len(customers), 1)
    return out


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True, eq=False)
class GoalAttainment:
    """Who attained the journey's goal under the counting rules (see :func:`goal_attainment`).

    Attributes
    ----------
    journey : the :class:`~journeylab.journey.Journey` analysed.
    goal : the goal used (the journey's, with any ``window`` / ``target`` override).
    customers : DataFrame indexed by ``customer`` (every customer of the log up to ``as_of``):
        ``excluded``, ``entered``, ``entered_at`` (first entry), ``entries`` (journey entries,
        >1 in a repeating journey), ``left`` (how the last entry ended: ``exited``,
        ``timed_out``, ``suppressed`` or ``active``), ``left_at``, ``suppressed_at``, ``goal_at`` (first goal
        event after the first entry; for customers who never entered, their first goal
        event), ``credited``, ``credited_at``, ``time_to_goal`` (credited_at - entered_at),
        ``open`` (not credited yet but still in the journey or its window at ``as_of``),
        ``reason`` (one of :data:`REASONS`).
    entries : one row per journey entry: ``customer``, ``entry``, ``entered_at``, ``left``,
        ``left_at``, ``window_end`` (when the goal stops counting for that entry).
    goal_events : every goal event: ``customer``, ``timestamp``, ``status`` (``inside`` the
        journey, in the ``window``, ``after_window``, ``after_suppression``,
        ``later_journey``, ``before_entry``), ``entry`` (the entry it was judged against).
    by_week : per week of first entry (Monday): ``entered``, ``attained``, ``rate``, ``open``.
    time_to_goal : Kaplan-Meier estimate of the share attaining the goal against the time
        since first entry: ``time``, ``attained``, ``low``, ``high`` (95% interval),
        ``at_risk``.
    reasons : per reason: ``label``, ``customers``, ``share_of_entered``, ``share`` (of all).
    as_of : the analysis date.
    params : the inputs.
    """

    journey: Any
    goal: Any
    customers: pd.DataFrame
    entries: pd.DataFrame
    goal_events: pd.DataFrame
    by_week: pd.DataFrame
    time_to_goal: pd.DataFrame
    reasons: pd.DataFrame
    as_of: pd.Timestamp
    params: dict = field(default_factory=dict)

    # ---- headline numbers
    @property
    def n_entered(self) -> int:
        """People in the journey: unique customers who entered it."""
        return int(self.customers["entered"].sum())

    @property
    def n_attained(self) -> int:
        """Customers credited with the goal (each counted once)."""
        return int(self.customers["credited"].sum())

    @property
    def rate(self) -> float:
        """Attained / people in the journey (NaN when nobody entered)."""
        return self.n_attained / self.n_entered if self.n_entered else math.nan

    @property
    def n_open(self) -> int:
        """Customers not credited yet whose journey or window is still open at ``as_of``."""
        return int(self.customers["open"].sum())

    @property
    def target(self) -> str | None:
        """The target as text ("1,000 people", "25%") or None."""
        if self.goal.target is not None:
            return f"{self.goal.target:,} people"
        if self.goal.target_pct is not None:
            return f"{self.goal.target_pct:g}%"
        return None

    @property
    def progress(self) -> float:
        """Share of the target achieved (1.0 = target met; may exceed 1); NaN without a target.

        A count target compares the people credited with it; a percentage target compares
        the attainment rate with it.
        """
        if self.goal.target is not None:
            return self.n_attained / self.goal.target
        if self.goal.target_pct is not None and self.n_entered:
            return self.rate / (self.goal.target_pct / 100.0)
        return math.nan

    @property
    def target_met(self) -> bool | None:
        """Whether the target is reached (None without a target)."""
        return None if math.isnan(self.progress) else bool(self.progress >= 1.0)

    @property
    def median_time_to_goal(self) -> pd.Timedelta:
        """Median time from first entry to the credited goal, over the customers credited."""
        t = self.customers["time_to_goal"].dropna()
        return t.median() if len(t) else pd.NaT

    @property
    def km_median_time_to_goal(self) -> pd.Timedelta:
        """Kaplan-Meier median: the time by which half of the people in the journey attain the
        goal, those still open being censored (NaT when fewer than half ever attain it)."""
        km = self.time_to_goal
        reached = km[km["attained"] >= 0.5]
        return reached["time"].iloc[0] if len(reached) else pd.NaT

    @property
    def summary(self) -> pd.DataFrame:
        """Headline figures (metric -> value, as text)."""
        prog = self.progress
        rows = [
            ("people in the journey", f"{self.n_entered:,}"),
            ("journey entries", f"{len(self.entries):,}"),
            ("attained (credited)", f"{self.n_attained:,}"),
            ("attainment rate", f"{self.rate:.1%}" if self.n_entered else "-"),
            ("target", self.target or "none"),
            ("progress against target", "-" if math.isnan(prog) else f"{prog:.1%}"),
            ("target met", "-" if self.target_met is None else ("yes" if self.target_met else "no")),
            ("still open", f"{self.n_open:,}"),
            ("time to goal of those credited (median)", _fmt_td(self.median_time_to_goal)),
            ("time until half attained (Kaplan-Meier)", _fmt_td(self.km_median_time_to_goal)),
            ("attribution window", _fmt_window(self.goal.window)),
            ("as of", str(self.as_of)),
        ]
        for r, row in self.reasons.iterrows():
            if r != "credited" and row["customers"]:
                rows.append((f"no credit: {row['label']}", f"{int(row['customers']):,}"))
        return pd.DataFrame(rows, columns=["metric", "value"]).set_index("metric")

    def to_frame(self) -> pd.DataFrame:
        """The per-customer table (a copy of :attr:`customers`, ``customer`` as a column)."""
        return self.customers.reset_index()

    def __repr__(self) -> str:
        rate = f"{self.rate:.1%}" if self.n_entered else "-"
        text = f"GoalAttainment {self.journey.name!r}: {self.n_attained:,} of {self.n_entered:,} people credited ({rate})"
        if self.target is not None:
            prog = self.progress
            text += f", target {self.target}" + ("" if math.isnan(prog) else f" ({prog:.1%} of target)")
        return text + f", window {_fmt_window(self.goal.window)}"

    def _repr_html_(self) -> str:
        e = html.escape
        r = self.reasons[self.reasons["customers"] > 0]
        reasons = pd.DataFrame({"reason": r["label"], "customers": r["customers"].map("{:,}".format),
                                "share of entered": r["share_of_entered"].map(
                                    lambda v: "-" if pd.isna(v) else f"{v:.1%}")})
        return (f"<div><p><b>{e(repr(self))}</b><br>goal: {e(str(self.goal))}</p>"
                + self.summary.head(11).to_html(escape=True)
                + reasons.to_html(index=False, escape=True) + "</div>")

    def plot(self, ax=None, *, kind: str = "all", **kw):
        """Plot the attainment.

        ``kind="progress"``: attained against the target; ``"over_time"``: attainment rate by
        week of entry (bars: people entering); ``"reasons"``: customers per reason (credited
        or why not); ``"time_to_goal"``: Kaplan-Meier curve of the share attaining the goal
        against time since entry; ``"all"`` (default): the four panels in one figure
        (``ax`` may then be a sequence of four Axes) and returns the array of Axes.
        """
        from .plotting.goals import plot_goal_attainment

        return plot_goal_attainment(self, ax=ax, kind=kind, **kw)


# --------------------------------------------------------------------------- the analysis


def goal_attainment(log, journey, *, exclusion=None, suppression=None, other_journeys=(), as_of=None,
                    timeout=None, window=None, target=None) -> GoalAttainment:
    """Who reached the journey's goal, under the exact counting rules, and why the others did not.

    The model (every rule below is what the function computes)
    ----------------------------------------------------------------
    **Customer.** The unit is the log's ``customer`` column when it has one (a session log,
    e.g. from ``log.sessions()``), else the case. A customer's events are taken in time
    order (ties in input order), across all their cases. Events after ``as_of`` are
    ignored.

    **Entering.** A customer enters at an event matching ``journey.entry`` (any event when
    the journey has no entry criteria) while not in the journey. *Excluded* customers
    never enter.

    **Leaving.** They stay in the journey until the first *later* event matching
    ``journey.exit`` (``left = "exited"``; when the journey has no exit criteria, the first
    later event of its final happy-path milestone completes it); with a ``timeout``, until
    ``timeout`` after their last journey event (an entry, milestone or exit event) when
    no journey event follows within that time (``"timed_out"``, leaving at last event +
    timeout); or until their suppression time (``"suppressed"``); otherwise they are still
    in it at ``as_of`` (``"active"``). Reaching the goal does not end the journey. After an
    exit or a time-out the customer may enter again at a later entry event (a *repeating*
    journey); after suppression they never do. An event matching both entry and exit
    enters when out and exits when in.

    **Crediting** (DOMAIN.md, "Goals and KPIs"). Each goal event - an event matching the
    goal's trigger activity and conditions - is judged against the customer's latest
    entry at or before it:

    1. *Unique profiles.* A customer is credited at most once: at their first goal event
       that counts; ``entries`` shows how often they entered.
    2. *Active or in the window.* A goal event counts when it falls inside the entry
       (``entered_at <= t <= left_at``, or the customer is still active), or after an
       exit or time-out within the attribution window: ``t <= left_at + window`` - the
       end is **inclusive**, a goal exactly ``window`` after the exit counts.
    3. *No credit* for an excluded customer (``reason="excluded"``); for a goal reached
       after leaving through suppression (``"after_suppression"``; a goal at the very
       moment of suppression still counts); for a goal after the window expired
       (``"after_window"``). Goal events before the first entry are not considered.
    4. *Same goal, later journey.* When a goal event falls in this journey's window (after
       the customer exited it) while one of ``other_journeys`` holds the customer
       (entered at or before it, not yet left, or left at that very moment), the other
       journey gets the credit (``"later_journey"``); the customer may still be credited
       by a later goal event that counts here.

    A customer who is not credited gets the reason of their first goal event after entry;
    without one, ``"pending"`` when still in the journey or its window at ``as_of``
    (``open``), else ``"not_reached"``; customers with no entry are ``"never_entered"``.

    Parameters
    ----------
    log : EventLog.
    journey : Journey with a ``goal`` (type, trigger activity and conditions, target,
        window - default 3 days).
    exclusion : the exclusion segment, customers who never enter: their ids (a set, list,
        Index, or a boolean Series indexed by id), or a
        :class:`~journeylab.journey.Criteria` / activity name - every customer with a
        matching event is excluded, e.g. ``Criteria(conditions="employee == true")``.
    suppression : the suppression segment, customers removed from the journey and when:
        a dict ``{customer: time}``, a Series (index customer, values times), a DataFrame
        with columns ``customer`` and ``time``, or a Criteria / activity name (each
        customer is suppressed at their first matching event, e.g. ``"unsubscribe"``).
        Naive times are taken in the log's zone.
    other_journeys : Journeys with the same goal (rule 4); their entries and exits are
        evaluated on the same log, without exclusion or suppression.
    as_of : the analysis date (default: the log's last timestamp); decides who is still
        active, whose window is still open, and the Kaplan-Meier censoring.
    timeout : how long a customer may stay without a journey event before leaving the
        journey (e.g. ``"7d"``); default None: only the exit, or suppression, ends it - a
        customer who abandons without an exit event then stays active until ``as_of``.
    window, target : override the goal's attribution window (``"3d"``) or target (a count
        of people, or ``"25%"``).

    Returns
    -------
    GoalAttainment
        Per customer, per entry and per week; the reasons table; the time to goal with a
        Kaplan-Meier estimate in which customers not (yet) credited are censored at
        ``as_of``.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> from journeylab.journey import Journey
    >>> df = pd.DataFrame({"who": ["a", "a", "a"], "what": ["view", "delivered", "purchase"],
    ...     "when": ["2025-03-01", "2025-03-02", "2025-03-05"]})
    >>> log = jl.from_pandas(df, case="who", activity="what", timestamp="when")
    >>> j = Journey.from_dict({"name": "buy", "milestones": [{"name": "v", "activities": ["view"]}],
    ...     "entry": ["view"], "exit": ["delivered"], "goal": {"type": "purchase", "activity": "purchase"}})
    >>> row = goal_attainment(log, j).customers.loc["a"]
    >>> row["left"], bool(row["credited"]), row["reason"]
    ('exited', True, 'credited')
    >>> goal_attainment(log, j, window="2d").customers.loc["a", "reason"]
    'after_window'
    >>> goal_attainment(log, j, window=2)
    Traceback (most recent call last):
    ...
    journeylab.exceptions.InvalidParameterError: window=2 is not a duration: a bare number has no unit; ...
    """
    where = "goal_attainment"
    _check_log(log, where)
    _check_journey(journey, where, need_goal=True)
    goal = _resolve_goal(journey.goal, window=window, target=target)
    _check_goal_names(log, goal, journey.name)
    ctx = _prepare(log, journey, exclusion=exclusion, suppression=suppression, as_of=as_of, timeout=timeout,
                   where=where)
    others = _other_stints(ctx, journey, other_journeys)
    customers, events = _credit(ctx, goal, others)
    entries = ctx["stints"].copy()
    entries["window_end"] = entries["left_at"].where(entries["left"] == "suppressed",
                                                     entries["left_at"] + goal.window)
    params = {"journey": journey.name, "goal": goal.to_dict(), "unit": ctx["unit"],
              "exclusion": exclusion, "suppression": suppression,
              "other_journeys": [o.name for o in (other_journeys if isinstance(other_journeys, Iterable)
                                                  else [other_journeys])] if other_journeys else [],
              "as_of": ctx["as_of"], "timeout": ctx["timeout"], "window": goal.window,
              "target": goal.to_dict().get("target")}
    return GoalAttainment(
        journey=journey, goal=goal, customers=customers, entries=entries, goal_events=events,
        by_week=_by_week(customers), time_to_goal=_kaplan_meier(customers, ctx["as_of"]),
        reasons=_reasons(customers), as_of=ctx["as_of"], params=params)
