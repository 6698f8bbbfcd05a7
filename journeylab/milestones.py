"""Milestone progression: who reached each milestone, who is there now, who stalls, falls out or leaves.

:func:`milestones` follows every case through the journey's milestones as of a date and
returns a :class:`Milestones` result with, per milestone, the cases that reached it, are
currently at it, are **stalled** there, **fell out** of the happy path there, or were
lost there (**attrition**), and, for each step of the happy path, the time to the next
milestone as a Kaplan-Meier curve in which cases still in progress are censored.

Definitions
-----------
Events are mapped to milestones as in :func:`journeylab.conformance.compare`; consecutive
events of one milestone are one *visit*. Only milestone events count here: other
touchpoints (a reminder e-mail, a review read) neither move a case on nor keep it alive.
Events after ``as_of`` (default: the last event of the log) are ignored, as if the log
had been read at that moment. A case is *in the journey* once it has a milestone event.

*Threshold* of a milestone: the journey's ``stall_after`` when it gives one (source
``journey``), else the 90th percentile of the time spent there by the visits that moved
on to another milestone (source ``p90``); none for the final milestone of the happy path
(source ``final``: reaching it completes the journey). Time at a milestone runs from the
arrival of the visit (its first event) to the next visit's arrival, or to ``as_of`` for the
latest visit.

``reached``
    cases with at least one visit to the milestone.
``at``
    cases whose latest visit (as of ``as_of``) is to this milestone ("currently at it").
``completed``
    the case reached the final milestone of the happy path.
*lost*
    not completed, and no further milestone event for longer than ``lost_after`` (default:
    the threshold of its latest milestone) before ``as_of``. Every other case that has not
    completed is *active*.
``attrition``
    lost cases, counted at the furthest happy-path milestone they reached (where they left
    the journey); a lost case that never reached a happy-path milestone is counted at its
    latest milestone.
``stalled``
    cases that spent longer than the threshold at the milestone: in a visit after which they
    moved on, or in their latest visit while still active (``stalled_now``: stuck there as
    of ``as_of``). A lost case does not count as stalled in its last visit.
``in_progress``
    active cases at the milestone that are not (yet) over its threshold.
``fallout``
    the case left the happy path here: it followed the happy path (first milestone, then
    each next one; optional positive milestones are ignored) up to this milestone, and its
    next milestone was not the next one on the path - a later one (skipping), an earlier one
    (going back) or a negative milestone. A case falls out at most once; a case whose first
    milestone is not the first of the path counts as ``off_path_entries``.

Each case that has not completed is in exactly one state as of ``as_of``: ``lost``,
``stalled`` (active, over the threshold) or ``in progress``.

Time to the next milestone: for each pair of consecutive happy-path milestones (a, b),
every case that reached a enters at its first arrival at a; the event is its first arrival
at b after that visit; cases without it are censored at ``as_of``. The curves are the
Kaplan-Meier estimates of :func:`journeylab._core.stats.kaplan_meier` (exponential Greenwood
bands; the numbers of lifelines' ``KaplanMeierFitter``); the median and its confidence interval
come from the same curves.

Events become milestone visits in :mod:`journeylab._kernels.visits`, the step shared with
:func:`~journeylab.compare`. On a log that lives in DuckDB or Spark the engine maps the events to
milestones, applies ``as_of`` and numbers the visits; what comes back is (c) one narrow row of integers
per milestone visit (case key, milestone, arrival, leave) and (b) one row per case in the journey (its
id), plus one aggregate for the log's time span - never the events. The thresholds, states and
Kaplan-Meier curves are then computed from the visits, as in memory, with identical results.

Examples
--------
>>> import journeylab as jl
>>> from journeylab.journey import Journey
>>> log = jl.datasets.load_example()
>>> j = Journey.from_dict({"name": "claim", "milestones": [
...     {"name": "register", "activities": ["register request"]},
...     {"name": "decide", "activities": ["decide"]},
...     {"name": "pay", "activities": ["pay compensation"]},
...     {"name": "reject", "activities": ["reject request"], "kind": "negative", "optional": True}]})
>>> m = milestones(log, j)
>>> m.table.loc[["register", "decide", "pay"], ["reached", "fallout", "attrition"]].to_dict("list")
{'reached': [6, 6, 3], 'fallout': [0, 3, 0], 'attrition': [0, 2, 0]}
>>> m
Milestones 'claim' as of 2011-01-24: 6 cases, 3 completed, 0 stalled now, 2 lost, 3 fell out
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from ._core.formatting import format_count
from ._core.results import FrozenMap, Result
from ._core.stats import kaplan_meier, survival_median
from ._core.validation import CONFIDENCE, DURATION, JOURNEY, LOG, Optional, analysis_date, checked
from ._kernels.visits import Visits, milestone_visits, sequences, to_datetime, us_scalar

__all__ = ["milestones", "Milestones"]


@dataclass(frozen=True, eq=False)
class Milestones(Result):
    """Progression through the milestones as of a date (see :func:`milestones`).

    Attributes
    ----------
    table : one row per milestone (index: milestone, definition order): ``kind``,
        ``on_path`` (position on the happy path, or NA), ``reached``, ``at``,
        ``in_progress``, ``stalled``, ``stalled_now``, ``stall_threshold`` (Timedelta),
        ``threshold_source`` (``journey``/``p90``/``final``/``-``), ``fallout``, ``attrition`` and the
        shares of ``reached``: ``stalled_share``, ``fallout_share``, ``attrition_share``.
    cases : one row per case in the journey: ``current`` (latest milestone), ``arrived``
        (arrival of that visit), ``time_at``, ``inactive`` (time since its last milestone
        event), ``furthest`` (furthest happy-path milestone), ``completed``, ``state``
        (``completed``, ``in progress``, ``stalled``, ``lost``), ``stalled_at`` (tuple of the
        milestones where it stalled, in definition order), ``attrition_at``, ``fallout_at`` and
        ``fallout_to`` (milestones, or None).
    transitions : one row per step of the happy path: ``from``, ``to``, ``cases`` (entered
        at ``from``), ``reached`` (observed arrivals at ``to``), ``censored``, ``median``,
        ``median_low``, ``median_high`` (Timedelta; NaT when the curve never falls to 0.5).
    curves : the Kaplan-Meier estimates, long form: ``transition`` ("a > b"), ``time``
        (Timedelta), ``reached`` (1 - survival: share that reached the next milestone by then),
        ``low``, ``high`` (its confidence band).
    as_of : the observation time. off_path_entries : cases whose first milestone is not the
        first of the happy path. params : the inputs (read-only).
    """

    journey: Any
    table: pd.DataFrame
    cases: pd.DataFrame
    transitions: pd.DataFrame
    curves: pd.DataFrame
    as_of: pd.Timestamp
    off_path_entries: int
    params: FrozenMap = field(default_factory=FrozenMap)

    @property
    def summary(self) -> pd.DataFrame:
        """Headline figures: cases in the journey, completed, in progress, stalled, fell out, lost."""
        c = self.cases
        counts = [
            ("cases in the journey", len(c)),
            ("completed", c["completed"].sum()),
            ("not completed", (~c["completed"]).sum()),
            ("in progress", (c["state"] == "in progress").sum()),
            ("stalled now", (c["state"] == "stalled").sum()),
            ("fell out of the happy path", c["fallout_at"].notna().sum()),
            ("entered off the happy path", self.off_path_entries),
            ("lost (attrition)", (c["state"] == "lost").sum()),
        ]
        rows = [("as of", f"{self.as_of:%Y-%m-%d %H:%M}")] + [(k, format_count(v)) for k, v in counts]
        return pd.DataFrame(rows, columns=["metric", "value"]).set_index("metric")

    def to_frame(self) -> pd.DataFrame:
        """The per-milestone table (a copy of :attr:`table`)."""
        return self.table.copy()

    def __repr__(self) -> str:
        c = self.cases
        return (f"Milestones {self.journey.name!r} as of {self.as_of:%Y-%m-%d}: {format_count(len(c))} cases, "
                f"{format_count(c['completed'].sum())} completed, "
                f"{format_count((c['state'] == 'stalled').sum())} stalled now, "
                f"{format_count((c['state'] == 'lost').sum())} lost, {format_count(c['fallout_at'].notna().sum())} "
                "fell out")

    def _html_tables(self) -> list[tuple[str, pd.DataFrame]]:
        t = self.table
        shown = pd.DataFrame({
            "kind": t["kind"], "reached": t["reached"], "at": t["at"], "stalled": t["stalled"],
            "stalled now": t["stalled_now"], "stall after": t["stall_threshold"], "set by": t["threshold_source"],
            "fallout": t["fallout"], "attrition": t["attrition"]}, index=t.index)
        tr = self.transitions
        times = pd.DataFrame({
            "from": tr["from"], "to": tr["to"], "cases": tr["cases"], "reached": tr["reached"],
            "median time": tr["median"], "low": tr["median_low"], "high": tr["median_high"]})
        level = self.params.get("confidence", 0.95)
        return [("", shown), (f"Time to the next milestone (Kaplan-Meier median and its {level:.0%} interval)", times)]

    def plot(self, ax=None, *, kind: str = "health", **kw):
        """``kind="health"``: stalled / fallout / attrition per happy-path milestone, as a share
        of the cases that reached it; ``"times"``: Kaplan-Meier curves of the time to the next
        milestone with confidence bands. Returns the Axes."""
        from .plotting.conformance import plot_milestones

        return plot_milestones(self, ax=ax, kind=kind, **kw)


# --------------------------------------------------------------------------- computation


def _fallout_of(trace: list[int], path: list[int], skip: set[int]) -> tuple[int | None, int | None, bool]:
    """(fallout milestone, destination, off-path entry) of one trace of milestone codes."""
    seq = [c for c in trace if c not in skip]
    if not seq:
        return None, None, False
    if seq[0] != path[0]:
        return None, None, True
    i = 0
    for c in seq[1:]:
        if i == len(path) - 1:
            return None, None, False  # completed
        if c == path[i]:
            continue
        if c == path[i + 1]:
            i += 1
            continue
        return path[i], c, False
    return None, None, False


def _stalled_at(case_of: np.ndarray, code: np.ndarray, n_cases: int, names: list[str]) -> np.ndarray:
    """Per case, the names of the milestones it stalled at (in definition order; ``()`` for none), from
    the (case, milestone code) of its stalled visits. Cases with the same set share one tuple: the
    set is a bit mask per case, and each distinct mask is decoded once.

    >>> _stalled_at(np.array([2, 0, 2]), np.array([1, 0, 0]), 3, ["a", "b"]).tolist()
    [('a',), (), ('a', 'b')]
    """
    out = np.empty(n_cases, dtype=object)
    if len(names) > 62:  # more milestones than bits: one case at a time
        out[:] = [()] * n_cases
        pairs = pd.DataFrame({"case": case_of, "code": code}).drop_duplicates()
        for c, grp in pairs.groupby("case", sort=False)["code"]:
            out[c] = tuple(names[k] for k in sorted(grp))
        return out
    mask = np.zeros(n_cases, dtype=np.int64)
    np.bitwise_or.at(mask, case_of, np.left_shift(np.int64(1), code.astype(np.int64)))
    distinct, inverse = np.unique(mask, return_inverse=True)
    decoded = np.empty(len(distinct), dtype=object)
    decoded[:] = [tuple(n for k, n in enumerate(names) if (int(m) >> k) & 1) for m in distinct]
    out[:] = decoded[inverse.ravel()]
    return out


@checked(log=LOG, journey=JOURNEY, lost_after=Optional(DURATION), confidence=CONFIDENCE)
def milestones(log, journey, *, as_of=None, lost_after=None, confidence: float = 0.95) -> Milestones:
    """Progression through ``journey``'s milestones as of ``as_of``: reached, at, stalled,
    fallout, attrition per milestone, and Kaplan-Meier times to the next milestone.

    The definitions are in the module docstring (``help(journeylab.milestones)``).

    Parameters
    ----------
    log : EventLog
        The events (a case is one journey).
    journey : Journey
        Its milestones, happy path and ``stall_after``.
    as_of : str or Timestamp, optional
        The observation time (naive values are in the log's zone); events after it are ignored.
        Default: the last event of the log.
    lost_after : str or Timedelta, optional
        Inactivity (e.g. ``"30d"``) after which a case that has not completed counts as lost;
        default: the threshold of its latest milestone.
    confidence : float, default 0.95
        Level of the Kaplan-Meier confidence bands.

    Returns
    -------
    Milestones
        ``table`` (per milestone), ``cases`` (per case: state, where it stalled, fell out or left),
        ``transitions`` and ``curves`` (time to the next milestone), ``as_of`` and ``params``.

    Examples
    --------
    >>> import journeylab as jl
    >>> from journeylab.journey import Journey
    >>> j = Journey.from_dict({"name": "claim", "stall_after": {"decide": "3d"}, "milestones": [
    ...     {"name": "register", "activities": ["register request"]},
    ...     {"name": "decide", "activities": ["decide"]},
    ...     {"name": "pay", "activities": ["pay compensation"]}]})
    >>> m = milestones(jl.datasets.load_example(), j, as_of="2011-01-10")
    >>> m.table.loc["decide", ["at", "stalled", "attrition", "threshold_source"]].to_dict()
    {'at': 4, 'stalled': 2, 'attrition': 1, 'threshold_source': 'journey'}
    >>> m.transitions[["from", "to", "cases", "reached"]].values.tolist()
    [['register', 'decide', 6, 5], ['decide', 'pay', 5, 1]]
    """
    lost_td = lost_after
    cut = analysis_date(log, as_of) if as_of is not None else None
    now = cut if cut is not None else log.time_span[1]
    now_us = us_scalar(now)
    names = [m.name for m in journey.milestones]
    path = [names.index(p) for p in journey.happy_path]
    final = path[-1]
    skip = {i for i, m in enumerate(journey.milestones) if m.optional and m.kind == "positive"}

    visits = milestone_visits(log, journey, as_of=cut, collapse=True)
    n_cases = len(visits.case_ids)
    codes = visits.code
    nv = len(codes)
    last_idx = visits.last
    case_of_visit = visits.case

    # ---- time at each visit: to the next visit of the case, or to now for the latest one
    arrival_us = visits.arrival
    leave_us = visits.leave
    is_last = np.zeros(nv, dtype=bool)
    is_last[last_idx] = True
    nxt = np.r_[arrival_us[1:], 0] if nv else arrival_us
    stay = np.where(is_last, now_us - arrival_us, nxt - arrival_us)

    # ---- thresholds
    thresholds, sources = {}, {}
    for i, name in enumerate(names):
        if i == final:  # reaching the final milestone completes the journey: nobody stalls there
            thresholds[name], sources[name] = pd.NaT, "final"
            continue
        if name in journey.stall_after:
            thresholds[name], sources[name] = journey.stall_after[name], "journey"
            continue
        d = stay[~is_last & (codes == i)]
        if len(d):
            thresholds[name] = pd.Timedelta(int(np.quantile(d, 0.9)), unit="us")
            sources[name] = "p90"
        else:
            thresholds[name], sources[name] = pd.NaT, "-"
    thr_of_code = np.array([_td_us(thresholds[n]) for n in names], dtype=float)

    # ---- per case state
    completed = np.zeros(n_cases, dtype=bool)
    if nv:
        np.logical_or.at(completed, case_of_visit, codes == final)
    path_pos = np.full(len(names), -1, dtype=np.int64)
    path_pos[path] = np.arange(len(path))
    furthest = np.full(n_cases, -1, dtype=np.int64)
    if nv:
        np.maximum.at(furthest, case_of_visit, path_pos[codes])
    cur = codes[last_idx]
    time_at = stay[last_idx]
    inactive = now_us - leave_us[last_idx]
    lost_thr = np.full(n_cases, _td_us(lost_td)) if lost_td is not None else np.nan_to_num(thr_of_code[cur], nan=0.0)
    lost = ~completed & (inactive > lost_thr)
    with np.errstate(invalid="ignore"):
        stalled_now = ~completed & ~lost & (time_at > thr_of_code[cur])
    state = np.where(completed, "completed", np.where(lost, "lost", np.where(stalled_now, "stalled", "in progress")))
    left_at = np.where(furthest >= 0, np.asarray(path, dtype=np.int64)[np.maximum(furthest, 0)], cur)

    vid, traces = sequences(visits, len(names))
    fall = [_fallout_of(list(tr), path, skip) for tr in traces]
    fall_at = np.array([names[f[0]] if f[0] is not None else None for f in fall], dtype=object)
    fall_to = np.array([names[f[1]] if f[1] is not None else None for f in fall], dtype=object)
    off_entry = np.array([f[2] for f in fall], dtype=bool)
    name_arr = np.asarray(names, dtype=object)
    cases = pd.DataFrame({
        "current": name_arr[cur] if n_cases else np.array([], dtype=object),
        "arrived": to_datetime(visits.arrival[last_idx], visits.tz).array,
        "time_at": pd.to_timedelta(time_at, unit="us"),
        "inactive": pd.to_timedelta(inactive, unit="us"),
        "furthest": np.where(furthest >= 0, name_arr[np.asarray(path)[np.maximum(furthest, 0)]], None)
        if n_cases else np.array([], dtype=object),
        "completed": completed,
        "state": state,
        "attrition_at": np.where(lost, name_arr[left_at] if n_cases else left_at, None),
        "fallout_at": fall_at[vid] if n_cases else np.array([], dtype=object),
        "fallout_to": fall_to[vid] if n_cases else np.array([], dtype=object),
    }, index=pd.Index(visits.case_ids, name="case", dtype=object))

    # ---- stalls: visits longer than the threshold (moved on, or the latest one while active)
    with np.errstate(invalid="ignore"):
        over = stay > thr_of_code[codes]
    lost_v = lost[case_of_visit] if nv else np.zeros(0, dtype=bool)
    stalled_v = over & (~is_last | (~lost_v & ~completed[case_of_visit] if nv else over))
    stalled_at = _stalled_at(case_of_visit[stalled_v], codes[stalled_v], n_cases, names)
    cases.insert(cases.columns.get_loc("state") + 1, "stalled_at", stalled_at)
    if not cases.index.is_monotonic_increasing:
        cases = cases.sort_index()

    # ---- per milestone
    rows = []
    pos = {c: k for k, c in enumerate(path)}
    for i, m in enumerate(journey.milestones):
        mine = codes == i
        at_m = cur == i
        r = len(np.unique(case_of_visit[mine]))
        row = {
            "milestone": m.name, "kind": m.kind + (" (optional)" if m.optional else ""),
            "on_path": pos.get(i, pd.NA), "reached": r, "at": int(at_m.sum()),
            "in_progress": int((at_m & (state == "in progress")).sum()),
            "stalled": len(np.unique(case_of_visit[mine & stalled_v])),
            "stalled_now": int((at_m & stalled_now).sum()),
            "stall_threshold": _td_us(thresholds[m.name]), "threshold_source": sources[m.name],
            "fallout": int((cases["fallout_at"] == m.name).sum()),
            "attrition": int((cases["attrition_at"] == m.name).sum()),
        }
        for k in ("stalled", "fallout", "attrition"):
            row[f"{k}_share"] = row[k] / r if r else math.nan
        rows.append(row)
    table = pd.DataFrame(rows).set_index("milestone")
    table["on_path"] = table["on_path"].astype("Int64")
    table["stall_threshold"] = pd.to_timedelta(table["stall_threshold"].astype(float).round(), unit="us")

    transitions, curves = _km(visits, path, names, now, float(confidence))
    params = {"journey": journey.name, "as_of": as_of, "lost_after": lost_td, "confidence": float(confidence)}
    return Milestones(journey, table, cases, transitions, curves, now, int(off_entry[vid].sum()) if n_cases else 0,
                      FrozenMap(params))


def _td_us(td) -> float:
    return math.nan if pd.isna(td) else td / pd.Timedelta(microseconds=1)


def _km(visits: Visits, path: list[int], names: list[str], now, confidence: float):
    """Kaplan-Meier estimates of the time from each happy-path milestone to the next."""
    now_us = us_scalar(now)
    v = pd.DataFrame({"case": visits.case, "code": visits.code, "t": visits.arrival,
                      "i": np.arange(len(visits.code))})
    rows, curves = [], []
    for a, b in pairwise(path):
        first_a = v[v["code"] == a].drop_duplicates("case")
        later_b = v[v["code"] == b].merge(first_a[["case", "i", "t"]], on="case", suffixes=("", "_a"))
        later_b = later_b[later_b["i"] > later_b["i_a"]].drop_duplicates("case")
        hit = first_a[["case", "t"]].merge(later_b[["case", "t"]].rename(columns={"t": "t_b"}), on="case", how="left")
        observed = hit["t_b"].notna().to_numpy()
        start = hit["t"].to_numpy(dtype=np.int64)
        dur = np.where(observed, hit["t_b"].to_numpy(dtype=np.int64, na_value=0), now_us) - start  # microseconds
        row = {"from": names[a], "to": names[b], "cases": len(hit), "reached": int(observed.sum()),
               "censored": int((~observed).sum()), "median": math.nan, "median_low": math.nan,
               "median_high": math.nan}
        if len(hit):
            km = kaplan_meier(dur, observed, confidence=confidence)
            row["median"], row["median_low"], row["median_high"] = survival_median(km)
            curves.append(pd.DataFrame({
                "transition": f"{names[a]} > {names[b]}",
                "time": pd.to_timedelta(km["time"].to_numpy(), unit="us"),
                "reached": 1 - km["survival"].to_numpy(),
                "low": 1 - km["high"].to_numpy(),
                "high": 1 - km["low"].to_numpy(),
            }))
        rows.append(row)
    transitions = pd.DataFrame(rows, columns=["from", "to", "cases", "reached", "censored", "median", "median_low",
                                              "median_high"])
    for c in ("median", "median_low", "median_high"):
        transitions[c] = pd.to_timedelta(transitions[c].astype(float).round(), unit="us")
    curves_df = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(
        {"transition": [], "time": pd.to_timedelta([]), "reached": [], "low": [], "high": []})
    return transitions, curves_df
