"""The journey state of each customer at a date: the fields rules are written on (see
:mod:`journeylab.rules`) and the in-flight features of :func:`~journeylab.predict`.

One implementation for both: :func:`journey_state` takes the customers followed through a journey
(:func:`~journeylab._kernels.entries.follow`) and returns one row per customer who entered (the excluded
and those suppressed by ``as_of`` left out), their *current entry* being the latest one.

Where it runs: on the projection ``follow`` brought back (the journey's own events); for a lazy log the
latest event, profile and session values per customer come from the engine
(:func:`~journeylab._kernels.crediting.latest_values`), one row per customer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._core.warn import warn
from ..exceptions import DataQualityWarning
from .crediting import credit, latest_values, milestone_state, milestone_state_of

__all__ = ["journey_state"]


def journey_state(followed, journey, *, goal_ctx, log=None, engine_milestones: bool = False) -> pd.DataFrame:
    """Per customer in the journey: the state fields (see the module docstring); ``goal_ctx`` is the
    journey's goal and the entries of the other journeys with that goal (or None without a goal). For a lazy
    ``log`` the latest event and values per customer come from the engine (``latest_values``), and with
    ``engine_milestones`` the milestone state too (``milestone_state``: no milestone event comes back)."""
    df, unit, as_of = followed.events, followed.unit, followed.as_of
    stints = followed.entries
    supp = followed.suppressed_at
    tdtype = df["timestamp"].dtype
    last = stints.groupby("customer", sort=False).tail(1).set_index("customer")
    last = last[~last.index.isin(supp.index[supp <= as_of]) & (last["left"] != "suppressed").to_numpy()]
    idx = pd.Index(last.index, dtype=object, name="customer")

    def arr(series: pd.Series, fill=None):
        """``series`` aligned on the customers, as an array (no index alignment afterwards)."""
        out = series.reindex(idx) if fill is None else series.reindex(idx, fill_value=fill)
        return out.array

    cols: dict[str, Any] = {}
    cols["in_journey"] = (last["left"] == "active").to_numpy()
    cols["entries"] = arr(stints.groupby("customer", sort=False).size(), 0).astype(np.int64)
    cols["entered_at"] = last["entered_at"].array
    cols["left"] = last["left"].to_numpy(dtype=object)
    cols["left_at"] = last["left_at"].array

    # events of the current entry
    mine = df[df[unit].isin(idx)]
    start = mine[unit].map(last["entered_at"])
    end = mine[unit].map(last["left_at"]).fillna(as_of)
    cur = mine[((mine["timestamp"] >= start) & (mine["timestamp"] <= end)).to_numpy()]
    names = [m.name for m in journey.milestones]
    n = len(idx)
    if engine_milestones:  # a lazy log: the state per customer from the engine, not from the events
        milestone, milestone_at, reached = milestone_state(log, journey, unit, as_of, last.set_axis(idx), tdtype)
    else:
        milestone, milestone_at, reached = milestone_state_of(cur, journey, unit, idx, tdtype)
    cols["milestone"] = milestone
    cols["milestone_at"] = milestone_at.array
    for i, name in enumerate(names):
        cols[f"reached_{name}"] = (reached[i].to_numpy() > 0) if i in reached.columns else np.zeros(n, dtype=bool)
    inside = cols["in_journey"]
    stalled_at = np.where(inside, milestone, None).astype(object)
    stalled_for = (as_of - milestone_at).where(inside & pd.notna(milestone))
    limit = pd.to_timedelta(pd.Series([journey.stall_after.get(m) if isinstance(m, str) else None
                                       for m in stalled_at], index=idx, dtype=object))
    cols["stalled_at"] = stalled_at
    cols["stalled_for"] = stalled_for.array
    cols["stalled"] = (stalled_for > limit).to_numpy(dtype=bool, na_value=False)

    # the goal
    if goal_ctx is not None:
        goal, others = goal_ctx
        credited, _ = credit(followed, goal, others)
        cols["goal_reached"] = arr(credited["credited"], False).to_numpy(dtype=bool)
        cols["goal_at"] = arr(credited["credited_at"])
    else:
        cols["goal_reached"] = np.zeros(n, dtype=bool)
        cols["goal_at"] = pd.array([pd.NaT] * n, dtype=tdtype)

    # the latest event, attributes (profile) and session variables
    if lazy := (log is not None and log.is_lazy):
        attrs, lastev, prof_all, sess_all = latest_values(log, unit, as_of, last.set_axis(idx))
    else:
        lastev = mine.groupby(unit, sort=False).tail(1).set_index(unit).reindex(idx)
        attrs = [c for c in df.columns if c not in ("case", "activity", "timestamp", "_seq", unit)]
    cols["last_activity"] = lastev["activity"].to_numpy(dtype=object)
    cols["last_event_at"] = lastev["timestamp"].array
    cols["since_last_event"] = (as_of - lastev["timestamp"]).array
    clash = [c for c in attrs if c in cols or c.startswith("reached_")]
    if clash:
        warn(f"attribute(s) {clash} have the name of a journey state field; in rules the name means the "
                      "state field (the attribute's value in the current entry is `session.<name>`).", DataQualityWarning)
    profile = [c for c in attrs if c not in clash]
    if profile:
        prof = prof_all[profile] if lazy else mine.groupby(unit, sort=False)[profile].last().reindex(idx)
        for c in profile:
            cols[c] = prof[c].array
    if attrs:
        sess = sess_all if lazy else cur.groupby(unit, sort=False)[attrs].last().reindex(idx)
        for c in attrs:
            cols[f"session.{c}"] = sess[c].array
    return pd.DataFrame(cols, index=idx)
