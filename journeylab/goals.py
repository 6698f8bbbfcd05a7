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

Where it runs
-------------
On a log that lives in DuckDB or Spark (``jl.from_ibis``) the engine sends back per-customer
tables (the customers up to ``as_of``, the segments given as criteria grouped per customer)
and the events of the journey's own activities up to ``as_of`` - entry, exit, goal, and
with a ``timeout`` the milestones - projected to the columns the conditions read; without a
timeout or other journeys, only the first event of each run of entry (or exit) events
comes back. The entries and the credit are then computed in pandas, exactly as in memory
(:mod:`journeylab._kernels.entries`). A journey without entry criteria (every event enters)
needs every event: the engine then sends them all, projected.

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

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._core.formatting import cut, duration_spec, format_duration
from ._core.results import FrozenMap, Result
from ._core.stats import kaplan_meier
from ._core.validation import JOURNEY, LOG, checked
from ._kernels.crediting import REASONS, check_trigger, credit, require_goal
from ._kernels.entries import JOURNEYS, LEFT, TIMEOUT, follow, other_entries
from .exceptions import InvalidParameterError, JourneyDefinitionError
from .journey import Goal

__all__ = ["goal_attainment", "GoalAttainment", "REASONS", "REASON_LABELS", "LEFT"]

#: How the reasons (:data:`REASONS`: why a customer was or was not credited) read in tables and plots.
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


def _resolve_goal(goal, *, window=None, target=None):
    """The journey's goal with the ``window`` / ``target`` overrides, validated."""
    d = goal.to_dict()
    if window is not None:
        if isinstance(window, (bool, numbers.Number)):
            raise InvalidParameterError(f"window={cut(window)} is not a duration: a bare number has no unit; write "
                                        f"it like window='{window}d' or window='36h'.")
        d["window"] = window
    if target is not None:
        if isinstance(target, float) and not isinstance(target, bool) and 0 < target < 1:
            raise InvalidParameterError(f"target={cut(target)} is ambiguous: give a number of people (e.g. 1000) or "
                                        f"a percentage as text, e.g. target='{target * 100:g}%'.")
        d["target"] = target
    try:
        return Goal.from_dict(d)
    except JourneyDefinitionError as err:
        msg = str(err)
        inner = msg.split(": ", 1)[1] if msg.startswith("goal") and ": " in msg else msg
        if window is not None and "window" in msg:
            raise InvalidParameterError(f"window={cut(window)} is not a valid attribution window: {inner}") from None
        if target is not None and "target" in msg:
            raise InvalidParameterError(f"target={cut(target)} is not a valid target: {inner}") from None
        raise


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
    """Cumulative share attaining the goal against the time since (first) entry, from the one
    Kaplan-Meier estimator (:func:`journeylab._core.stats.kaplan_meier`).

    Event = credited (at ``credited_at``); everyone else is censored at ``as_of``.
    """
    c = customers[customers["entered"]]
    end = c["credited_at"].where(c["credited"], as_of)
    dur = np.maximum((end - c["entered_at"]).to_numpy(dtype="timedelta64[us]").astype(np.int64), 0)
    km = kaplan_meier(dur, c["credited"].to_numpy(dtype=bool), confidence=confidence)
    return pd.DataFrame({
        "time": pd.to_timedelta(km["time"].to_numpy(dtype=np.int64), unit="us").as_unit("us"),
        "attained": 1.0 - km["survival"].to_numpy(dtype=float),
        "low": 1.0 - km["high"].to_numpy(dtype=float),
        "high": 1.0 - km["low"].to_numpy(dtype=float),
        "at_risk": km["at_risk"].to_numpy(dtype=np.int64),
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
class GoalAttainment(Result):
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
    params : the inputs (read-only).
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
    params: FrozenMap = field(default_factory=FrozenMap)

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
            ("time to goal of those credited (median)", format_duration(self.median_time_to_goal)),
            ("time until half attained (Kaplan-Meier)", format_duration(self.km_median_time_to_goal)),
            ("attribution window", duration_spec(self.goal.window)),
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
        return text + f", window {duration_spec(self.goal.window)}"

    def _html_tables(self) -> list[tuple[str, pd.DataFrame]]:
        r = self.reasons[self.reasons["customers"] > 0]
        reasons = pd.DataFrame({"reason": r["label"].to_numpy(), "customers": r["customers"].to_numpy(),
                                "share of entered": r["share_of_entered"].to_numpy()})
        return [(f"goal: {self.goal}", self.summary), ("credited, or why not", reasons)]

    def _html_formats(self) -> dict:
        return {"share of entered": "share"}

    def plot(self, ax=None, *, kind: str = "all", **kw):
        """Plot the attainment (see :func:`~journeylab.plotting.plot_goal_attainment`).

        Parameters
        ----------
        ax : Axes or sequence of four Axes, optional
            Where to draw (default: a new figure); four Axes for ``kind="all"``.
        kind : {"all", "progress", "over_time", "reasons", "time_to_goal"}, default "all"
            ``"progress"``: attained against the target; ``"over_time"``: attainment rate by
            week of entry (bars: people entering); ``"reasons"``: customers per reason
            (credited or why not); ``"time_to_goal"``: Kaplan-Meier curve of the share
            attaining the goal against time since entry; ``"all"``: the four panels.
        **kw
            ``figsize`` of the new figure for ``kind="all"``.

        Returns
        -------
        Axes, or for ``kind="all"`` the array of four Axes.
        """
        from .plotting.goals import plot_goal_attainment

        return plot_goal_attainment(self, ax=ax, kind=kind, **kw)


# --------------------------------------------------------------------------- the analysis


@checked(log=LOG, journey=JOURNEY, other_journeys=JOURNEYS, timeout=TIMEOUT)
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
    log : EventLog
        The events; a DataFrame is refused with advice (wrap it with ``jl.from_pandas``).
    journey : Journey
        A journey with a ``goal`` (type, trigger activity and conditions, target, window -
        default 3 days); its entry and exit criteria decide who is in it.
    exclusion : ids, Criteria or str, optional
        The exclusion segment, customers who never enter: their ids (a set, list, Index, or
        a boolean Series indexed by id), or a :class:`~journeylab.journey.Criteria` /
        activity name - every customer with a matching event is excluded, e.g.
        ``Criteria(conditions="employee == true")``.
    suppression : dict, Series, DataFrame, Criteria or str, optional
        The suppression segment, customers removed from the journey and when: a dict
        ``{customer: time}``, a Series (index customer, values times), a DataFrame with
        columns ``customer`` and ``time``, or a Criteria / activity name (each customer is
        suppressed at their first matching event, e.g. ``"unsubscribe"``). Naive times are
        taken in the log's zone.
    other_journeys : Journey or list of Journey, optional
        Journeys with the same goal (rule 4); their entries and exits are evaluated on the
        same log, without exclusion or suppression.
    as_of : str or Timestamp, optional
        The analysis date (default: the log's last timestamp); decides who is still active,
        whose window is still open, and the Kaplan-Meier censoring.
    timeout : str or Timedelta, optional
        How long a customer may stay without a journey event before leaving the journey
        (e.g. ``"7d"``); default None: only the exit, or suppression, ends it - a customer
        who abandons without an exit event then stays active until ``as_of``.
    window : str or Timedelta, optional
        Overrides the goal's attribution window (e.g. ``"3d"``; zero is allowed).
    target : int or str, optional
        Overrides the goal's target: a count of people, or a percentage such as ``"25%"``.

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
    require_goal(journey)
    goal = _resolve_goal(journey.goal, window=window, target=target)
    check_trigger(log, journey)
    followed = follow(log, journey, exclusion=exclusion, suppression=suppression, as_of=as_of, timeout=timeout,
                      other_journeys=other_journeys)
    customers, goal_events = credit(followed, goal, other_entries(followed, journey, other_journeys))
    entries = followed.entries.copy()
    entries["window_end"] = entries["left_at"].where(entries["left"] == "suppressed",
                                                     entries["left_at"] + goal.window)
    params = {"journey": journey.name, "goal": goal.to_dict(), "unit": followed.unit,
              "exclusion": exclusion, "suppression": suppression,
              "other_journeys": [o.name for o in other_journeys],
              "as_of": followed.as_of, "timeout": followed.timeout, "window": goal.window,
              "target": goal.to_dict().get("target")}
    return GoalAttainment(
        journey=journey, goal=goal, customers=customers, entries=entries, goal_events=goal_events,
        by_week=_by_week(customers), time_to_goal=_kaplan_meier(customers, followed.as_of),
        reasons=_reasons(customers), as_of=followed.as_of, params=params)
