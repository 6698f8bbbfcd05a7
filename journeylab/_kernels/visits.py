"""Milestone visits: the one columnar step from a log's events to a journey's milestones, shared by
:func:`~journeylab.compare`, :func:`~journeylab.milestones` and :func:`~journeylab.funnel`.

Each event maps to the first milestone, in definition order, whose activities and conditions it
matches (the rule of :meth:`Journey.milestone_of <journeylab.Journey.milestone_of>`); runs of one
milestone within a case are one *visit*. The outputs are narrow: per case its visits
(:class:`Visits`: milestone code, arrival, leave), and the distinct milestone sequences with the
sequence of each case (:func:`sequences`).

Where it runs:

- in memory, the events of the log are read where they lie (no copy) and mapped in numpy;
- on a log that lives in an engine (DuckDB, Spark), the engine maps each event of the journey's
  activities to its milestone code (a ``CASE WHEN`` over the activity and the conditions compiled by
  :func:`~journeylab.conditions.condition_expr`), drops the events after ``as_of``, finds the runs of
  one milestone in each case in the log's event order ``_seq`` (``LAG`` / ``LEAD``: where the case or
  the milestone changes) and sends back only (c) one narrow row per visit (milestone code, arrival and leave in microseconds; the case id and its latest goal
  event, a ``GROUP BY`` joined on, on the case's first visit only), in order. The milestone activities
  seen come from a ``GROUP BY`` (for :func:`check_fit`). A condition that cannot be compiled (a date or
  a duration written as text, a type pandas refuses with its own message) makes it fetch the
  projection instead - the events of the journey's activities with the columns the conditions read -
  and map them as in memory.

>>> import journeylab as jl
>>> j = jl.Journey.from_dict({"name": "claim", "milestones": [
...     {"name": "register", "activities": ["register request"]},
...     {"name": "decide", "activities": ["decide"]},
...     {"name": "pay", "activities": ["pay compensation"]}]})
>>> v = milestone_visits(jl.datasets.load_example(), j)
>>> len(v.case_ids), len(v.code), v.n_log_cases
(6, 15, 6)
>>> variant, seqs = sequences(v, 3)
>>> [seqs[k] for k in variant]
[(0, 1), (0, 1, 2), (0, 1, 2), (0, 1), (0, 1), (0, 1, 2)]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._core.arrays import arrow_of, positions_in
from .._core.backend import backend_name, execute, micros
from .._core.progress import progress
from ..conditions import CannotCompile, condition_expr
from .events import events

__all__ = ["Visits", "milestone_visits", "sequences", "event_codes", "milestone_activities", "check_fit",
           "epoch_us", "to_datetime"]


# --------------------------------------------------------------------------- time as int64 microseconds


def epoch_us(ts) -> np.ndarray:
    """Microseconds since the epoch (UTC) of a datetime Series, as int64 (no copy when possible).

    >>> epoch_us(pd.Series(pd.to_datetime(["1970-01-01 00:00:01"], utc=True))).tolist()
    [1000000]
    """
    arr = pd.Series(ts).array
    if getattr(arr, "unit", None) != "us":
        arr = pd.Series(ts).dt.as_unit("us").array
    return arr.asi8


def us_scalar(ts) -> int:
    """Microseconds since the epoch (UTC) of one timestamp (naive ones are taken as UTC).

    >>> us_scalar("1970-01-01 00:00:02")
    2000000
    """
    t = pd.Timestamp(ts)
    if t.tzinfo is not None:
        t = t.tz_convert("UTC").tz_localize(None)
    return int((t - pd.Timestamp(0)) // pd.Timedelta(microseconds=1))


def to_datetime(us: np.ndarray, tz) -> pd.Series:
    """int64 microseconds (UTC) -> a datetime Series in the zone ``tz``.

    >>> to_datetime(np.array([0]), "Europe/Paris").dt.hour.tolist()
    [1]
    """
    s = pd.Series(np.asarray(us, dtype=np.int64).view("datetime64[us]")).dt.tz_localize("UTC")
    return s.dt.tz_convert(tz) if tz is not None else s


# --------------------------------------------------------------------------- events -> milestone codes


def _activity_index(df: pd.DataFrame, acts: list[str]) -> np.ndarray:
    """Per event: the position of its activity in ``acts``, or -1."""
    return positions_in(df["activity"], acts)


def milestone_activities(journey) -> list[str]:
    """The activities of the journey's milestones, first mention first.

    >>> import journeylab as jl
    >>> milestone_activities(jl.Journey("j", [jl.Milestone("a", ["x", "y"]), jl.Milestone("b", ["y", "z"])]))
    ['x', 'y', 'z']
    """
    return list(dict.fromkeys(a for m in journey.milestones for a in m.activities))


def _condition_columns(journey, log_columns) -> list[str]:
    """The columns the conditions of the milestones and the goal read (those the log has: a condition on
    a column it lacks fails when evaluated, with its own message)."""
    crits = list(journey.milestones) + ([journey.goal] if journey.goal is not None else [])
    wanted = dict.fromkeys(c.column for crit in crits for c in crit.conditions)
    return [c for c in wanted if c in log_columns]


def event_codes(df: pd.DataFrame, journey, idx: np.ndarray | None = None) -> np.ndarray:
    """Milestone index of every event of ``df``, -1 for none: the first milestone, in definition order,
    whose activities and conditions the event matches (the rule of ``Journey.milestone_of``).

    ``idx``: the position of each event's activity in :func:`milestone_activities` (first), if known.

    >>> import journeylab as jl
    >>> j = jl.Journey("j", [jl.Milestone("small", ["pay"], conditions="amount <= 50"), jl.Milestone("big", ["pay"])])
    >>> event_codes(pd.DataFrame({"activity": ["pay", "pay", "view"], "amount": [10, 90, 0]}), j).tolist()
    [0, 1, -1]
    """
    acts = milestone_activities(journey)
    if idx is None:
        idx = _activity_index(df, acts)
    ms = journey.milestones
    # per activity: its milestone when the first milestone naming it has no condition, else
    # "evaluate" (the events of those activities go through every milestone's conditions).
    # Slots beyond the milestone activities (other looked-up names) and the last slot (index
    # -1: no match) give -1.
    size = max(len(acts), int(idx.max()) + 1 if len(idx) else 0) + 1
    fixed = np.full(size, -1, dtype=np.int8 if len(ms) < 127 else np.int64)
    evaluate = np.zeros(size, dtype=bool)
    for k, a in enumerate(acts):
        first = next(i for i, m in enumerate(ms) if a in m.activities)
        if ms[first].conditions:
            evaluate[k] = True
        else:
            fixed[k] = first
    out = fixed[idx]
    rows = np.flatnonzero(evaluate[idx]) if evaluate.any() else np.zeros(0, dtype=np.int64)
    if len(rows):
        sub = df.iloc[rows]
        sub_codes = np.full(len(rows), -1, dtype=out.dtype)
        for i in range(len(ms) - 1, -1, -1):
            sub_codes[ms[i].matches(sub).to_numpy(dtype=bool)] = i
        out[rows] = sub_codes
    return out


def _case_starts(df: pd.DataFrame) -> np.ndarray:
    """Rows where a case starts (the frame is sorted by case), increasing int64."""
    n = len(df)
    if n < 2:
        return np.zeros(min(n, 1), dtype=np.int64)
    arr = arrow_of(df["case"])
    if arr is not None:
        import pyarrow.compute as pc

        changed = pc.indices_nonzero(pc.not_equal(arr.slice(1), arr.slice(0, n - 1)))
        later = changed.to_numpy(zero_copy_only=False).astype(np.int64) + 1
    else:
        values = df["case"].to_numpy(dtype=object)
        later = np.flatnonzero(values[1:] != values[:-1]) + 1
    return np.concatenate([[0], later]).astype(np.int64)


# --------------------------------------------------------------------------- does the journey fit the log


def check_fit(log, journey, *, present=None) -> None:
    """Refuse a journey whose milestones cannot match ``log``; warn about the other milestone activities that
    never occur (they simply never match).

    This is the journey's own check, :meth:`Journey.check <journeylab.Journey.check>` of its milestones
    (fatal: a happy-path milestone none of whose activities occurs, or a condition on a column the log
    lacks). ``present``: the milestone activities known to occur (when they all do and every condition
    column exists, the log's activities are not read).

    >>> import journeylab as jl
    >>> check_fit(jl.datasets.load_example(), jl.Journey("j", [jl.Milestone("pay", ["pay compensations"])]))
    Traceback (most recent call last):
    ...
    journeylab.exceptions.JourneyDefinitionError: journey 'j' does not fit the log (1 problem):
      - activity 'pay compensations' (milestone 'pay') is not in the log; closest: 'pay compensation'.
    So the happy-path milestone 'pay' matches no event.
    Fix the names in the journey definition, or rename the log's activities/columns.
    """
    if present is not None and all(a in present for a in milestone_activities(journey)):
        columns = set(log.columns)
        if all(c.column in columns for m in journey.milestones for c in m.conditions):
            return
    journey.check(log, parts="milestones", minor="warn")


# --------------------------------------------------------------------------- visits


@dataclass(frozen=True, eq=False)
class Visits:
    """Milestone visits (runs of one milestone's events within a case), in case and time order.

    Per visit: ``case`` (index into ``case_ids``), ``code`` (milestone index), ``arrival`` and
    ``leave`` (int64 microseconds UTC of its first and last event). Per case that has a visit:
    ``case_ids``, ``first`` (index of its first visit), ``count`` (number of visits) and, when asked
    for, ``goal_latest`` (int64 microseconds of its latest goal event, the smallest int64 when it has
    none). ``tz`` is the log's zone, ``n_log_cases`` the number of cases of the log.
    """

    case_ids: np.ndarray
    case: np.ndarray
    code: np.ndarray
    arrival: np.ndarray
    leave: np.ndarray
    first: np.ndarray
    count: np.ndarray
    tz: Any
    n_log_cases: int = 0
    goal_latest: np.ndarray | None = None

    @property
    def last(self) -> np.ndarray:
        """Per case: index of its latest visit."""
        return self.first + self.count - 1


def milestone_visits(log, journey, *, as_of=None, collapse: bool = True, goal: bool = False) -> Visits:
    """The milestone visits of every case of ``log``, after checking that the journey fits it (:func:`check_fit`).

    Parameters
    ----------
    log : EventLog
    journey : Journey
    as_of : Timestamp, optional
        Events after it are ignored.
    collapse : bool, default True
        Consecutive events of one milestone are one visit; with False every milestone event is one.
    goal : bool, default False
        Also find, per case, its latest goal event (the journey's goal activity and conditions).

    Returns
    -------
    Visits

    Examples
    --------
    >>> import journeylab as jl
    >>> j = jl.Journey("j", [jl.Milestone("decide", ["decide"])], goal=jl.Goal("custom", "pay compensation"))
    >>> v = milestone_visits(jl.datasets.load_example(), j, collapse=False, goal=True)
    >>> v.count.tolist(), int((v.goal_latest > 0).sum())
    ([1, 1, 2, 1, 3, 1], 3)
    """
    acts = milestone_activities(journey)
    goal_act = journey.goal.activity if goal and journey.goal is not None else None
    lookup = acts + ([goal_act] if goal_act is not None and goal_act not in acts else [])
    cut_us = us_scalar(as_of) if as_of is not None else None
    if log.is_lazy:
        try:
            return _engine_visits(log, journey, lookup, goal_act, cut_us, collapse)
        except CannotCompile:  # a condition needs pandas: fetch the projection and map it below
            pass
    # an engine sends back the events of these activities only; in memory the columns are read where they lie
    # (a view: filtering them first would copy them)
    whole = not log.is_lazy
    df = events(log, _condition_columns(journey, log.columns), activities=None if whole else lookup)
    idx = _activity_index(df, lookup)
    codes = event_codes(df, journey, idx)
    rows = np.flatnonzero(codes >= 0)
    # the milestone activities seen on milestone events (the log's activities are read only when one seems absent)
    seen = np.bincount(idx[rows], minlength=len(lookup)) > 0
    check_fit(log, journey, present={a for a, s in zip(lookup, seen) if s})
    t = epoch_us(df["timestamp"])
    if cut_us is not None:
        rows = rows[t[rows] <= cut_us]
    starts = _case_starts(df)
    gcase = np.searchsorted(starts, rows, side="right")  # case number (+1) of each kept event, increasing
    code, tr = codes[rows], t[rows]
    n = len(rows)
    start = np.ones(n, dtype=bool)
    if collapse and n:
        start[1:] = (gcase[1:] != gcase[:-1]) | (code[1:] != code[:-1])
    fv = np.flatnonzero(start)
    lv = np.append(fv[1:] - 1, n - 1) if n else fv
    vg = gcase[fv]
    new_case = np.ones(len(fv), dtype=bool)
    new_case[1:] = vg[1:] != vg[:-1]
    first = np.flatnonzero(new_case)
    count = np.diff(np.append(first, len(fv)))
    case_ids = df["case"].take(rows[fv[first]]).to_numpy(dtype=object)
    latest = None
    if goal_act is not None:
        latest = _goal_latest(df, journey, idx == lookup.index(goal_act), t, cut_us, starts, vg[first])
    return Visits(case_ids, np.cumsum(new_case) - 1, code[fv].astype(np.int64), tr[fv], tr[lv], first, count,
                  df["timestamp"].dt.tz, len(starts) if whole else log.n_cases, latest)


def _engine_visits(log, journey, lookup: list[str], goal_act, cut_us, collapse: bool) -> Visits:
    """:func:`milestone_visits` computed by the engine of a lazy log (see the module docstring); raises
    CannotCompile when a condition of the milestones or the goal must be matched in pandas."""
    import ibis

    ev = log.table.filter(log.table.activity.isin(lookup))
    branches = []
    for i, m in enumerate(journey.milestones):
        hit = ev.activity.isin(list(m.activities))
        if m.conditions:
            hit = hit & condition_expr(m.conditions, ev)
        branches.append((hit, i))
    is_goal = ibis.literal(False)
    if goal_act is not None:
        is_goal = ev.activity == goal_act
        if journey.goal.conditions:
            is_goal = is_goal & condition_expr(journey.goal.conditions, ev)
    code = ibis.cases(*branches, else_=-1) if branches else ibis.literal(-1)
    sel = ev.select(case=ev.case, seq=ev._seq, act=ev.activity, us=micros(ev.timestamp), code=code.cast("int64"),
                    goal=is_goal)
    # the bar (shown after 2 s) moves after each query; it closes when its range is used up
    steps = iter(progress(range(3), total=3, desc="milestone visits", enabled=True))
    next(steps, None)
    # the milestone activities seen on milestone events: a group-by (the log's activities are read only
    # when one seems absent)
    hits = sel.filter(sel.code >= 0)
    seen = execute(hits.group_by("act").aggregate(n=hits.count()))
    next(steps, None)
    check_fit(log, journey, present=set(seen["act"].astype(str)))
    if cut_us is not None:
        sel = sel.filter(sel.us <= cut_us)
    ms = sel.filter(sel.code >= 0)
    # a visit starts where the case or the milestone changes and ends before the next change: LAG / LEAD in
    # the event order, then LEAD over the boundary events gives each start its end. DuckDB runs one window
    # over all events in order (faster than a window per case); other engines (Spark) one per case, which
    # spreads the work (the case checks hold for both).
    if backend_name(ms) == "duckdb":
        order, order2 = ibis.window(order_by=ms.seq), None
    else:
        order, order2 = ibis.window(group_by=ms.case, order_by=ms.seq), "case"
    prev_case, next_case = ms.case.lag().over(order), ms.case.lead().over(order)
    new_case = prev_case.isnull() | (prev_case != ms.case)
    last_in_case = next_case.isnull() | (next_case != ms.case)
    if collapse:
        starts = new_case | (ms.code.lag().over(order) != ms.code)
        ends = last_in_case | (ms.code.lead().over(order) != ms.code)
    else:
        starts = ends = ibis.literal(True)
    edges = ms.mutate(st=starts, en=ends, first=new_case).filter(starts | ends)
    nxt = ibis.window(group_by=edges.case, order_by=edges.seq) if order2 else ibis.window(order_by=edges.seq)
    edges = edges.mutate(next_us=edges.us.lead().over(nxt))
    per_visit = edges.filter(edges.st)
    per_visit = per_visit.select("case", "code", "first", s=per_visit.seq, arrival=per_visit.us,
                                 leave=ibis.ifelse(per_visit.en, per_visit.us, per_visit.next_us))
    # the case's id on its first visit only
    out = per_visit.select(per_visit.s, per_visit.arrival, per_visit.leave, code=per_visit.code.cast("int16"),
                           case_id=ibis.ifelse(per_visit.first, per_visit.case, ibis.null().cast("string")))
    vis = execute(out.order_by("s").drop("s"))  # in event order; the order key itself does not come back
    n = len(vis)
    new_case = vis["case_id"].notna().to_numpy()
    first = np.flatnonzero(new_case)
    case_ids = vis["case_id"].to_numpy(dtype=object)[first]
    next(steps, None)
    goal_latest = None
    if goal_act is not None:  # per case with a goal event, its latest (from the events without their order)
        goals = ev.filter(is_goal).select(case=ev.case, us=micros(ev.timestamp))
        if cut_us is not None:
            goals = goals.filter(goals.us <= cut_us)
        goals = execute(goals.group_by("case").aggregate(latest=goals.us.max()))
        where = pd.Index(goals["case"].to_numpy(dtype=object)).get_indexer(case_ids)
        goal_latest = np.full(len(first), np.iinfo(np.int64).min, dtype=np.int64)
        goal_latest[where >= 0] = goals["latest"].to_numpy(dtype=np.int64)[where[where >= 0]]
    next(steps, None)
    next(steps, None)
    dtype = log.table.timestamp.type().to_pandas()
    return Visits(case_ids, np.cumsum(new_case) - 1,
                  vis["code"].to_numpy(dtype=np.int64), vis["arrival"].to_numpy(dtype=np.int64),
                  vis["leave"].to_numpy(dtype=np.int64), first, np.diff(np.append(first, n)),
                  getattr(dtype, "tz", None), log.n_cases, goal_latest)


def _goal_latest(df, journey, is_goal: np.ndarray, t: np.ndarray, cut_us, starts, visit_cases) -> np.ndarray:
    """Per case with a visit (``visit_cases``: its case number + 1 in ``df``): its latest goal event."""
    out = np.full(len(visit_cases), np.iinfo(np.int64).min, dtype=np.int64)
    rows = np.flatnonzero(is_goal)
    if len(rows) and journey.goal.conditions:
        rows = rows[journey.goal.matches(df.iloc[rows]).to_numpy(dtype=bool)]
    if cut_us is not None:
        rows = rows[t[rows] <= cut_us]
    if not len(rows) or not len(visit_cases):
        return out
    per_case = np.full(len(starts) + 1, np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(per_case, np.searchsorted(starts, rows, side="right"), t[rows])
    return per_case[visit_cases]


# --------------------------------------------------------------------------- distinct sequences


def sequences(v: Visits, n_codes: int) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """The distinct milestone sequences (variants): the variant of each case (of ``v.case_ids``) and the
    code sequence of each variant, variants in order of first appearance.

    Sequences short enough are packed exactly into one uint64 (``bits`` per visit); longer ones are
    keyed by their tuple. Counts per variant: ``np.bincount(variant)``.

    >>> import journeylab as jl
    >>> j = jl.Journey("j", [jl.Milestone("check", ["check ticket"]), jl.Milestone("decide", ["decide"])])
    >>> variant, seqs = sequences(milestone_visits(jl.datasets.load_example(), j), 2)
    >>> seqs, np.bincount(variant).tolist()
    ([(0, 1), (0, 1, 0, 1), (0, 1, 0, 1, 0, 1)], [4, 1, 1])
    """
    n_cases = len(v.first)
    if n_cases == 0:
        return np.zeros(0, dtype=np.int64), []
    bits = max(1, int(n_codes).bit_length())
    width = 64 // bits
    pos = np.arange(len(v.code)) - np.repeat(v.first, v.count)
    short_case = v.count <= width
    short_visit = np.repeat(short_case, v.count)
    vals = np.zeros(len(v.code), dtype=np.uint64)
    sv = short_visit & (pos < width)
    vals[sv] = (v.code[sv] + 1).astype(np.uint64) << (bits * pos[sv]).astype(np.uint64)
    packed = np.add.reduceat(vals, v.first)
    keys = pd.Series(packed.view(np.int64))
    vid = np.full(n_cases, -1, dtype=np.int64)
    short_idx = np.flatnonzero(short_case)
    sid, _ = pd.factorize(keys.to_numpy()[short_idx], sort=False)
    vid[short_idx] = sid
    n_short = int(sid.max()) + 1 if len(sid) else 0
    long_idx = np.flatnonzero(~short_case)
    if len(long_idx):
        tuples = [tuple(v.code[v.first[c]:v.first[c] + v.count[c]].tolist()) for c in long_idx]
        lid, _ = pd.factorize(pd.Series(tuples, dtype=object), sort=False)
        vid[long_idx] = lid + n_short
    # renumber by first appearance and decode each variant from its first case
    order, rep = np.unique(vid, return_index=True)
    firsts = np.sort(rep)
    remap = np.empty(len(order), dtype=np.int64)
    remap[vid[firsts]] = np.arange(len(firsts))
    vid = remap[vid]
    traces = [tuple(v.code[v.first[c]:v.first[c] + v.count[c]].tolist()) for c in firsts]
    return vid, traces
