"""Journey entries: who is in a journey, from when to when - the customers of a log followed through a
journey, under the counting rules of DOMAIN.md ("Goals and KPIs").

The first half of what :func:`~journeylab.goal_attainment`, :func:`~journeylab.ab_test` and
:func:`~journeylab.evaluate_rules` share (the second, crediting the goal, is
:mod:`journeylab._kernels.crediting`; ``goal_attainment`` documents every rule). It hands out narrow tables -
per-customer facts - and reads only the events they need.

What runs where. In memory the events are a view of the log's frame. On a lazy log (DuckDB, Spark)
:func:`follow` asks the engine for (b) the customers up to ``as_of`` (one distinct query), (b) each segment
given as criteria grouped per customer and value (:func:`~journeylab._kernels.units.segment_events`) and
(c) the events of the journey's own activities (:func:`needed_activities`: entry, exit or the last
happy-path milestone, goal, milestones with a ``timeout`` - and those of ``other_journeys``), up to
``as_of``, projected to the unit, the activity, the time (epoch microseconds), the columns the conditions
read and ``_seq``; the entries, the crediting and the conditions then run in pandas on that projection.
When entry and exit are activities only (no conditions) and there is no timeout, milestone or other
journey, only the first event of each run of a customer's entry (or exit) events comes back (a window
``lag``; the later ones of a run change nothing), with every goal event.
A journey that any event enters (no entry criteria, or criteria with conditions only) needs every event:
then (c) is every event up to ``as_of``, still projected to those columns. :func:`first_values` is arg-min
aggregations in the engine, one row per customer. The first and last timestamps come from one aggregate
(:func:`~journeylab._kernels.units.engine_time_span`), never from the event table.

- :func:`follow` - the customers followed through a journey up to ``as_of`` (a :class:`Followed`): the
  unit, the excluded customers, the suppression times and the **entries**, one row per journey entry
  (``customer``, ``entry``, ``entered_at``, ``left`` - one of :data:`LEFT` -, ``left_at``);
- :func:`other_entries` - the entries of other journeys with the same goal (rule 4);
- :func:`needed_activities` - the activities whose events :func:`follow` reads;
- :func:`first_values` - per customer, the value of a column at their first event at or after a time
  (the version of an A/B test);
- the parameter kinds of the analyses that follow customers: :data:`TIMEOUT`, :data:`JOURNEYS`.

>>> import pandas as pd, journeylab as jl
>>> df = pd.DataFrame({"who": ["a", "a", "a"], "what": ["view", "delivered", "view"],
...                    "when": ["2025-03-01", "2025-03-02", "2025-03-03"]})
>>> log = jl.from_pandas(df, case="who", activity="what", timestamp="when")
>>> journey = jl.Journey.from_dict({"name": "buy", "milestones": [{"name": "v", "activities": ["view"]}],
...     "entry": ["view"], "exit": ["delivered"]})
>>> follow(log, journey).entries[["customer", "entry", "left"]].values.tolist()
[['a', 1, 'exited'], ['a', 2, 'active']]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd

from .._core.backend import execute
from .._core.formatting import cut
from .._core.progress import progress
from .._core.validation import Optional, analysis_date, to_timedelta
from .._core.warn import warn
from ..exceptions import DataQualityWarning, InvalidParameterError, JourneyDefinitionError
from ..journey import Criteria, Journey
from .events import events
from .units import (
    engine_time_span,
    excluded_ids,
    known_customers,
    log_timezone,
    segment_criteria,
    segment_events,
    suppression_times,
    to_micros,
    to_times,
    unit_table,
)

__all__ = [
    "JOURNEYS",
    "LEFT",
    "TIMEOUT",
    "Followed",
    "absent_activities",
    "advice",
    "first_values",
    "follow",
    "needed_activities",
    "other_entries",
    "unit_of",
]

#: How a journey entry ends: the exit criteria were met, the customer was inactive for longer
#: than the ``timeout``, the customer was suppressed, or is still in the journey at ``as_of``.
LEFT = ("exited", "timed_out", "suppressed", "active")

# --------------------------------------------------------------------------- parameters


def _timeout(value, name: str) -> pd.Timedelta:
    try:
        return to_timedelta(value, name=name)
    except InvalidParameterError as err:
        raise InvalidParameterError(f"{err} The timeout is how long a customer may stay inactive in the journey "
                                    f"before leaving it, e.g. {name}='7d'.") from None


#: The ``timeout`` parameter kind of the analyses that follow customers through a journey (for
#: ``@checked``): None, or a positive duration - a duration that says what a timeout is when it is not one.
TIMEOUT = Optional(_timeout)


def _journeys(value, name: str) -> tuple:
    if value is None:
        return ()
    if isinstance(value, Journey):
        return (value,)
    if isinstance(value, (str, Mapping)) or not isinstance(value, Iterable):
        raise InvalidParameterError(f"{name}={cut(value)} must be a list of Journey objects with the same goal.")
    out = tuple(value)
    for i, other in enumerate(out):
        if not isinstance(other, Journey):
            raise InvalidParameterError(f"{name}[{i}] is a {type(other).__name__}, not a Journey; build it with "
                                        "Journey.from_yaml(...) or Journey.from_dict({...}).")
    return out


#: The ``other_journeys`` parameter kind: a Journey or a list of Journeys -> a tuple of Journeys.
JOURNEYS = _journeys


def unit_of(log) -> str:
    """Whom the analyses of a journey follow in ``log``: ``"customer"`` when the log has that role, else ``"case"``."""
    return "customer" if log.has_role("customer") else "case"


def absent_activities(log, journey, part: str) -> list:
    """The activities of ``part`` of ``journey`` (``"entry"``, ``"exit"``, ``"goal"``...) that ``log`` lacks: the
    activity problems of the journey's own check (:meth:`~journeylab.Journey.problems`), each with its
    ``name``, ``closest`` names, ``hint`` and whether it is ``fatal``.

    >>> import journeylab as jl
    >>> j = jl.Journey("j", [jl.Milestone("m", ["decide"])], entry=["decide", "pay compenstion"])
    >>> [(p.name, p.hint, p.fatal) for p in absent_activities(jl.datasets.load_example(), j, "entry")]
    [('pay compenstion', "closest: 'pay compensation'", False)]
    """
    return [p for p in journey.problems(log, parts=part) if p.kind == "activity"]


def advice(problem) -> str:
    """The advice line of an absent activity (see :func:`absent_activities`), as the analyses of a journey
    word it: ``"'x' is not an activity of the log; closest: 'y'"``."""
    return f"{cut(problem.name)} is not an activity of the log; {problem.hint}"


# --------------------------------------------------------------------------- journey entries


def _entries(df: pd.DataFrame, unit: str, journey, suppressed_at: pd.Series, *, timeout=None,
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


def _condition_columns(journeys, *criteria) -> list[str]:
    """The columns the conditions of ``journeys`` (entry, exit, goal, milestones) and ``criteria`` read."""
    parts = [p for j in journeys for p in (j.entry, j.exit, j.goal, *j.milestones)]
    parts += [c for c in criteria if isinstance(c, Criteria)]
    return list(dict.fromkeys(c.column for p in parts if p is not None for c in p.conditions))


def _activities_of(criteria) -> tuple[str, ...] | None:
    """The activities ``criteria`` (a Criteria / Milestone / Goal) can match; None when it matches any activity."""
    acts = (criteria.activity,) if hasattr(criteria, "activity") else tuple(criteria.activities)
    return acts or None


def needed_activities(journey, *, others=(), exclusion=None, suppression=None, timeout=None,
                      milestones: bool = False) -> list[str] | None:
    """The activities whose events decide the entries of ``journey`` (and of ``others``), its goal and the
    segments given as criteria: entry, exit (or the last happy-path milestone), goal, the milestones (with a
    ``timeout``, or when asked), the criteria of ``exclusion`` and ``suppression``.

    The segments are kept apart (:func:`segment_events`); they are here for the in-memory path.
    None when one of them matches any activity (a journey without entry criteria - every event enters -,
    criteria with conditions only): then every event is needed (the projection of the columns still
    applies). The order is the order of first mention.
    """
    parts = []
    for i, j in enumerate((journey, *others)):
        if j.entry is None:
            return None
        parts += [j.entry, j.exit if j.exit is not None else j.milestone(j.happy_path[-1])]
        if timeout is not None or (milestones and i == 0):
            parts += list(j.milestones)
    if journey.goal is not None:
        parts.append(journey.goal)
    parts += [c for c in segment_criteria(exclusion, suppression) if c is not None]
    out: list[str] = []
    for part in parts:
        acts = _activities_of(part)
        if acts is None:
            return None
        out += acts
    return list(dict.fromkeys(out))


def _runs(journey, others, timeout, milestones):
    """(entry activities, exit activities, goal activities) when only the first event of each run of entry
    events (or of exit events) matters - entry and exit by activity alone, no timeout, no other journeys, no
    milestones asked for -, else None. Inside the journey a further entry event changes nothing, out of it a
    further exit event neither, so the engine drops the rest of each run (:func:`_events_up_to`)."""
    if others or timeout is not None or milestones is not False or journey.entry is None:
        return None
    exit_ = journey.exit if journey.exit is not None else journey.milestone(journey.happy_path[-1])
    if journey.entry.conditions or exit_.conditions or not journey.entry.activities or not exit_.activities:
        return None
    return list(journey.entry.activities), list(exit_.activities), \
        [journey.goal.activity] if journey.goal is not None else []


def _sorted_ids(values) -> pd.Index:
    """Unique ids in the order ``DataFrame.sort_values`` gives them (named ``customer``)."""
    ser = pd.Series(pd.unique(np.asarray(values, dtype=object)), dtype=object)
    return pd.Index(ser.sort_values(kind="stable").to_numpy(), dtype=object, name="customer")


def _events_up_to(log, unit: str, as_of, columns, activities, runs=None) -> tuple[pd.DataFrame, pd.Index]:
    """The events up to ``as_of`` of ``activities`` (None: all) with ``columns`` (None: all), sorted by unit,
    time and input order; and every customer with an event up to ``as_of`` (sorted).

    In memory the projection is a view of the log's frame. On a lazy log the filter (time, activities) and the
    projection run in the engine: the events come back with the unit, ``activity``, the timestamp (as epoch
    microseconds), the columns asked for and ``_seq`` (kind (c) of issue 15: the journey's own activities);
    the customers come back as one distinct query (kind (b)). With ``runs`` (see :func:`_runs`) the engine
    keeps only the first event of each run of a customer's entry events (and of exit events) - a window
    ``lag`` over the entry and exit events - and every goal event.
    """
    if columns is not None:
        columns = list(dict.fromkeys([*(["customer"] if unit == "customer" else []), *columns]))
        if not set(columns) <= set(log.columns):
            columns = None  # a condition on a column the log lacks: its error lists every column of the log
    if not log.is_lazy:
        frame = events(log, columns)
        if unit == "customer":
            frame = known_customers(frame)  # a case without a customer id is its own customer
        df = frame[frame["timestamp"] <= as_of]
        customers = pd.Index(pd.unique(df.sort_values(unit, kind="stable")[unit].to_numpy()), dtype=object,
                             name="customer")
        if activities is not None:
            df = df[df["activity"].isin(activities)]
        return df.sort_values([unit, "timestamp", "_seq"], kind="stable").reset_index(drop=True), customers
    if columns is None:
        columns = list(log.columns)
    t = unit_table(log, unit, as_of)
    steps = progress(range(2), total=2, desc="journey events (engine)")
    customers, df = None, None
    for step in steps:
        if step == 0:
            customers = _sorted_ids(execute(t.select(unit).distinct())[unit])
        else:
            ev = t.filter(t.activity.isin(list(activities))) if activities is not None else t
            if runs is not None:
                enter, leave, goal = runs
                into, out = ev.activity.isin(enter), ev.activity.isin(leave)
                ev = ev.mutate(_k=ibis.cases((into & out, 3), (into, 1), (out, 2), else_=0))
                ev = ev.mutate(_p=ev._k.lag().over(ibis.window(group_by=[ev[unit], ev._k > 0],
                                                               order_by=[ev.us, ev._seq])))
                first = ev._p.isnull() | (ev._p != ev._k)
                ev = ev.filter((ev._k == 0) | (ev._k == 3) | first | ev.activity.isin(goal or [""]))
            extra = [c for c in columns if c not in ("case", "activity", "timestamp", "customer")]
            keep = ["case"] if unit == "case" or "case" in columns else []
            df = execute(ev.select(*keep, *([unit] if unit != "case" else []), "activity", "us", *extra, "_seq"))
    us = df.pop("us").to_numpy(dtype=np.int64)
    # each event's unit as its position among the sorted customers: the sort is on integers, and every
    # event of a customer points to that customer's one string (not a string per event)
    pos = customers.get_indexer(df[unit].astype(object)) if len(df) else np.zeros(0, dtype=np.int64)
    if len(pos) and pos.min() < 0:  # the events and the customers are read from the same table
        raise RuntimeError("journeylab bug: an event's customer is missing from the customers of the same log")
    order = np.lexsort((df["_seq"].to_numpy(), us, pos))
    df = df.take(order).reset_index(drop=True)
    df[unit] = customers.to_numpy()[pos[order]]
    df.insert(df.columns.get_loc("activity") + 1, "timestamp", to_times(us[order], log_timezone(log)))
    return df, customers


@dataclass(frozen=True, eq=False)
class Followed:
    """The customers of a log followed through a journey up to ``as_of`` (see :func:`follow`).

    Attributes
    ----------
    events : DataFrame
        The events up to ``as_of`` of the activities :func:`needed_activities` names (every event when it
        names none), with the columns asked for, sorted by customer, time and input order.
    unit : str
        The column that names the customer in ``events``: ``"customer"`` or ``"case"``.
    as_of : Timestamp
        The analysis date.
    timeout : Timedelta or None
        How long a customer may stay inactive in the journey.
    customers : Index
        Every customer with an event up to ``as_of`` (named ``customer``).
    excluded : Index
        The excluded customers (who never enter).
    suppressed_at : Series
        When each suppressed customer was removed (index: customer).
    entries : DataFrame
        One row per journey entry: ``customer``, ``entry`` (1, 2, ...), ``entered_at``, ``left`` (one of
        :data:`LEFT`), ``left_at``; excluded customers have none.
    """

    events: pd.DataFrame
    unit: str
    as_of: pd.Timestamp
    timeout: pd.Timedelta | None
    customers: pd.Index
    excluded: pd.Index
    suppressed_at: pd.Series
    entries: pd.DataFrame


def follow(log, journey, *, exclusion=None, suppression=None, as_of=None, timeout=None, other_journeys=(),
           columns=(), milestones: bool | None = False) -> Followed:
    """Follow the customers of ``log`` through ``journey`` up to ``as_of``: who enters it, when, and how each
    entry ends.

    Parameters
    ----------
    log : EventLog
        The events (a checked log).
    journey : Journey
        Its entry and exit criteria (or its last happy-path milestone) and, with a ``timeout``, its
        milestones decide the entries.
    exclusion, suppression
        As in :func:`~journeylab.goal_attainment`: ids, a Criteria or an activity name; for suppression
        also times per customer.
    as_of : date, optional
        The analysis date (default: the log's last timestamp); later events are ignored.
    timeout : Timedelta, optional
        A checked duration (see :data:`TIMEOUT`).
    other_journeys : tuple of Journey
        Journeys (checked by :data:`JOURNEYS`) whose entries :func:`other_entries` will compute: the columns their conditions read are
        fetched too.
    columns : list of str or None
        Further columns the caller needs in ``events`` (None: every column of the log). The columns
        the conditions of the journey, the goal and the segments read are always fetched.
    milestones : bool or None, default False
        Keep the events of the journey's milestones in ``events`` (they are kept anyway with a ``timeout``);
        None keeps every event.

    Returns
    -------
    Followed
        The events, the unit, the segments and the entries.

    Examples
    --------
    >>> import journeylab as jl
    >>> sample = jl.datasets.make_journeys(50, random_state=1)
    >>> followed = follow(sample.log, sample.journey, timeout=pd.Timedelta(days=7))
    >>> list(followed.entries.columns)
    ['customer', 'entry', 'entered_at', 'left', 'left_at']
    """
    engine_time_span(log)
    as_of = analysis_date(log, as_of)
    unit = unit_of(log)
    if columns is not None:
        columns = [*_condition_columns([journey, *other_journeys], exclusion, suppression), *columns]
    lazy = log.is_lazy
    acts = None if milestones is None else needed_activities(
        journey, others=other_journeys, exclusion=None if lazy else exclusion,
        suppression=None if lazy else suppression, timeout=timeout, milestones=milestones)
    df, customers = _events_up_to(log, unit, as_of, columns, acts, _runs(journey, other_journeys, timeout, milestones))
    exc, sup = segment_criteria(exclusion, suppression)
    exc_df = segment_events(log, unit, as_of, exc) if lazy and exc is not None else df
    sup_df = segment_events(log, unit, as_of, sup) if lazy and sup is not None else df
    missing = absent_activities(log, journey, "entry")
    if any(p.fatal for p in missing):  # none of the entry activities occurs
        raise JourneyDefinitionError(
            f"journey {cut(journey.name)}: no entry activity occurs in the log, so nobody enters:\n"
            + "\n".join(f"  - {advice(p)}" for p in missing) + "\nFix entry.activities in the journey definition.")
    missing = absent_activities(log, journey, "exit")
    if missing:
        warn(f"journey {cut(journey.name)}: some exit activities never occur, so they never end a "
                      "journey:\n" + "\n".join(f"  - {advice(p)}" for p in missing), DataQualityWarning)
    excluded = excluded_ids(exclusion, exc_df, unit, customers)
    supp = suppression_times(suppression, sup_df, unit, df["timestamp"].dt.tz, customers)
    entries = _entries(df, unit, journey, supp, timeout=timeout, as_of=as_of)
    if len(excluded):
        entries = entries[~entries["customer"].isin(excluded)].reset_index(drop=True)
    return Followed(events=df, unit=unit, as_of=as_of, timeout=timeout, customers=customers, excluded=excluded,
                    suppressed_at=supp, entries=entries)


def other_entries(followed: Followed, journey, others) -> list[pd.DataFrame]:
    """The entries of ``others``, journeys with the goal of ``journey``, on the same events (rule 4 of
    :func:`~journeylab.goal_attainment`), without exclusion or suppression.

    Parameters
    ----------
    followed : Followed
        What :func:`follow` found for ``journey`` (called with ``other_journeys=others``).
    journey : Journey
        The journey analysed (its goal).
    others : tuple of Journey
        The other journeys (checked by :data:`JOURNEYS`); each must have the same goal (trigger and
        conditions).

    Returns
    -------
    list of DataFrame
        Per other journey, its entries (the columns of :attr:`Followed.entries`).
    """
    out = []
    g = journey.goal
    df = followed.events
    for i, other in enumerate(others):
        og = other.goal
        if og is None or og.activity != g.activity or set(og.conditions) != set(g.conditions):
            raise InvalidParameterError(
                f"other_journeys[{i}] ({cut(other.name)}) has goal {og.criteria if og else None}, not the goal of "
                f"{cut(journey.name)} ({g.criteria}). Rule 4 shares credit only between journeys with the same "
                "goal; leave that journey out.")
        out.append(_entries(df, followed.unit, other, pd.Series([], dtype=df["timestamp"].dtype),
                            timeout=followed.timeout, as_of=followed.as_of))
    return out


# --------------------------------------------------------------------------- per-customer values


def first_values(log, column: str, since: pd.Series, *, as_of) -> tuple[pd.Series, int]:
    """Per customer of ``since``: the value of ``column`` on their first event at or after ``since`` that has
    one (else their first value at all), and how many of them have several values.

    Parameters
    ----------
    log : EventLog
        The events; the customer is :func:`unit_of` the log.
    column : str
        A column of the log (the version of an A/B test, say).
    since : Series
        Per customer (index), a time (their first entry).
    as_of : Timestamp
        Later events are ignored.

    Returns
    -------
    values : Series
        Per customer of ``since`` (same index), the value as text; missing when they have none.
        On a lazy log the arg-min aggregations run in the engine (``since`` goes there as a small table):
        one row per customer of ``since`` comes back, never the events.
    several : int
        The customers of ``since`` with more than one value of ``column``.

    Examples
    --------
    >>> import journeylab as jl
    >>> df = pd.DataFrame({"case": ["a", "a", "b"], "activity": ["x", "y", "x"], "v": ["A", "B", None],
    ...                    "timestamp": ["2025-01-01", "2025-01-02", "2025-01-01"]})
    >>> log = jl.from_pandas(df, case="case", activity="activity", timestamp="timestamp")
    >>> since = pd.Series(pd.to_datetime(["2025-01-02", "2025-01-01"]).tz_localize("UTC"), index=["a", "b"])
    >>> values, several = first_values(log, "v", since, as_of=log.time_span[1])
    >>> values["a"], pd.isna(values["b"]), several
    ('B', True, 1)
    """
    unit = unit_of(log)
    if log.is_lazy:
        v, fallback, distinct = _first_values_engine(log, unit, column, since, as_of)
    else:
        df = events(log, [column, *(["customer"] if unit == "customer" else [])])
        if unit == "customer":
            df = known_customers(df)
        df = df[df["timestamp"] <= as_of]
        sub = df[[unit, "timestamp", column]]
        sub = sub[sub[column].notna()]
        first_in = sub[unit].map(since)
        after = sub[sub["timestamp"] >= first_in]
        v = after.groupby(unit, sort=False)[column].first()
        fallback = sub.groupby(unit, sort=False)[column].first()
        distinct = sub.groupby(unit, sort=False)[column].nunique()
    v = _as_text(v).reindex(since.index)
    v = v.where(v.notna(), _as_text(fallback).reindex(since.index))
    multi = int((distinct > 1).reindex(since.index, fill_value=False).sum())
    return v.rename(column), multi


def _as_text(values: pd.Series) -> pd.Series:
    """The values present, as text, before any reindexing (so an integer version reads '2', never '2.0')."""
    values = values.dropna()
    return pd.Series([str(x) for x in values], index=values.index, dtype=object)


def _first_values_engine(log, unit: str, column: str, since: pd.Series, as_of):
    """The three per-customer Series :func:`first_values` reduces, from the engine: the first value (in
    ``_seq`` order, as in memory) at or after ``since``, the first value, the number of distinct values -
    arg-min aggregations over the customers of ``since`` (which go to the engine as a small table); one row
    per customer comes back. The values keep the column's own dtype (a zero-row query gives it)."""
    t = unit_table(log, unit, as_of)
    dtype = execute(log.table.select(column).limit(0))[column].dtype
    t = t.filter(t[column].notnull())
    at = [None if pd.isna(v) else to_micros(v) for v in since.to_numpy()]
    key = pd.DataFrame({"_who": pd.Series([str(i) for i in since.index], dtype=object),
                        "_since": pd.array(at, dtype="Int64")}).dropna()
    k = ibis.memtable(key)
    j = t.join(k, t[unit] == k._who)
    got = execute(j.group_by(j._who).aggregate(after=j[column].argmin(j._seq, where=j.us >= j._since),
                                               first=j[column].argmin(j._seq), n=j[column].nunique()))
    got = got.set_index(pd.Index(got["_who"].to_numpy(), dtype=object, name=unit))

    def values(name):
        return got[name].dropna().astype(dtype).rename(column)

    return values("after"), values("first"), got["n"].astype(np.int64)
