"""Journey prefixes: what was known about each in-flight customer at a cut-off date, and what happened next.

The examples of :func:`~journeylab.predict`. A cut-off ``c`` sees only the events strictly before ``c``:
the features are the journey state (:func:`~journeylab._kernels.journey_state.journey_state`, the one the
rules read) computed by :func:`~journeylab._kernels.entries.follow` up to ``c - 1 microsecond``, plus a few
counts of the current entry; the labels read only the events in ``[c, c + horizon)``. A customer gives at
most one example per cut-off, and only while in flight: in the journey (their current entry has not
ended) and not yet credited with the goal.

Where it runs: :func:`journey_log` fetches the journey's own events (entry, exit, milestones, goal) with
the key columns and the low-cardinality attribute columns (a projection; on DuckDB or Spark the filter and
the projection run in the engine, and only those rows come back) and builds an in-memory log of them;
everything else runs in pandas on that log, the same code for every backend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..log import from_pandas
from .entries import follow
from .events import distinct_values, events
from .journey_state import journey_state

__all__ = ["GROUPS", "SURVEY_COLUMNS", "TARGETS", "PrefixLog", "cached_features", "feature_column", "features_at", "journey_log", "label_from", "labels_at", "prefix_log"]

#: What :func:`~journeylab.predict` can predict.
TARGETS = ("goal", "conversion", "attrition", "remaining_time", "next_milestone")
#: The feature groups (permutation importance and per-customer reasons are per group).
GROUPS = ("progress", "timing", "deviations", "activity", "channels", "surveys", "attributes")
#: Columns read as survey answers when the log has them.
SURVEY_COLUMNS = ("nps", "csat", "ces", "score", "rating")
#: Most distinct values an attribute column may have to be a feature (identifiers are left out).
MAX_LEVELS = 50
_US = pd.Timedelta(microseconds=1)
_HOUR = pd.Timedelta(hours=1)


@dataclass(frozen=True, eq=False)
class PrefixLog:
    """The journey's own events as an in-memory log (``log``), the attribute columns kept, and the time span
    of the source log (``start``, ``end``)."""

    log: object
    attributes: tuple
    start: pd.Timestamp
    end: pd.Timestamp
    levels: dict
    marks: dict


def _activities(journey) -> list[str]:
    acts: list[str] = []
    for m in journey.milestones:
        acts += list(m.activities or ())
    for crit in (journey.entry, journey.exit):
        if crit is not None:
            acts += list(crit.activities or ())
    if journey.goal is not None:
        acts.append(journey.goal.activity)
    return list(dict.fromkeys(acts))


def journey_log(log, journey) -> PrefixLog:
    """The journey's own events of ``log`` with the key columns and the attribute columns of at most
    :data:`MAX_LEVELS` distinct values (numbers and booleans always), as an in-memory log."""
    roles = set(log.roles)
    keep = []
    for c in log.columns:
        if c in ("case", "activity", "timestamp"):
            continue
        if c in roles or c.lower() in SURVEY_COLUMNS or distinct_values(log, c) <= MAX_LEVELS:
            keep.append(c)
    acts = _activities(journey)
    present = [a for a in acts if a in set(_log_activities(log))]
    df = events(log, keep, activities=present or acts).drop(columns="_seq")
    df = df.sort_values(["case", "timestamp"], kind="stable").reset_index(drop=True)
    levels = {}
    for c in keep:  # text as categories: the per-cut-off state takes and groups them many times
        s = df[c]
        if not (pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s)):
            df[c] = s.astype("category")
            levels[c] = sorted(df[c].cat.categories, key=str)
    kw = {r: r for r in ("channel", "value", "customer", "resource", "lifecycle") if r in roles and r in df}
    start, end = log.time_span
    small = from_pandas(df, case="case", activity="activity", timestamp="timestamp", **kw)
    attrs = tuple(c for c in keep if c not in ("customer", "resource", "lifecycle"))
    fr = small._frame()
    none = np.zeros(len(fr), dtype=bool)
    marks = {"goal": journey.goal.matches(fr).to_numpy(dtype=bool) if journey.goal is not None else none,
             "exit": journey.exit.matches(fr).to_numpy(dtype=bool) if journey.exit is not None else none,
             "milestone": journey.milestone_of(fr).cat.codes.to_numpy()}
    return PrefixLog(small, attrs, start, end, levels, marks)


def prefix_log(log, journey) -> PrefixLog:
    """:func:`journey_log`, kept in the log's cache (one per journey)."""
    return log._memo(("prefixes", "log", journey), lambda: journey_log(log, journey))


def cached_features(log, pl: PrefixLog, journey, as_of, *, strict: bool = True, timeout=None):
    """:func:`features_at`, kept in the log's cache per journey and date (copies handed out): the examples
    of several targets on one log share them."""
    X, st = log._memo(("prefixes", "features", journey, as_of, strict, timeout),
                      lambda: features_at(pl, journey, as_of, strict=strict, timeout=timeout))
    return X.copy(), st.copy()


def _log_activities(log):
    from .cases import activity_names

    return activity_names(log)


def _hours(td) -> np.ndarray:
    return (pd.to_timedelta(pd.Series(td)) / _HOUR).to_numpy(dtype=float, na_value=np.nan)


def features_at(pl: PrefixLog, journey, as_of, *, strict: bool = True, timeout=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The features of the customers in flight at ``as_of`` (events strictly before it when ``strict``,
    up to it otherwise), and their state (``milestone``, ``stalled_for``...; index ``customer``).

    Returns ``(features, state)``; the features' columns are named ``<group>:<name>`` (see :data:`GROUPS`).
    """
    upto = as_of - _US if strict else as_of
    fol = follow(pl.log, journey, as_of=upto, columns=None, milestones=None, timeout=timeout)
    goal_ctx = (journey.goal, []) if journey.goal is not None else None
    st = journey_state(fol, journey, goal_ctx=goal_ctx, log=pl.log)
    st = st[st["in_journey"].to_numpy(dtype=bool) & ~st["goal_reached"].to_numpy(dtype=bool)]
    idx = st.index
    names = [m.name for m in journey.milestones]
    path = list(journey.happy_path)
    f: dict[str, object] = {}
    f["progress:milestone"] = pd.Categorical(st["milestone"].astype(object), categories=names)
    rank = {m: i + 1 for i, m in enumerate(path)}
    f["progress:milestone_rank"] = np.array([rank.get(m, 0) for m in st["milestone"]], dtype=float)
    for m in names:
        f[f"progress:reached_{m}"] = st[f"reached_{m}"].to_numpy(dtype=float)
    f["progress:entries"] = st["entries"].to_numpy(dtype=float)
    f["progress:in_journey_for_h"] = _hours(as_of - pd.Series(st["entered_at"].array))
    f["timing:stalled_for_h"] = _hours(st["stalled_for"].array)
    f["timing:stalled"] = st["stalled"].to_numpy(dtype=float)
    f["timing:since_last_event_h"] = _hours(st["since_last_event"].array)

    # the current entry's events: counts, rework and skips, channels
    ev = fol.events
    unit = fol.unit
    ev = ev[ev[unit].isin(idx)]
    began = ev[unit].map(st["entered_at"])
    cur = ev[(ev["timestamp"] >= began).to_numpy()]
    who = cur[unit].to_numpy()
    n_ev = pd.Series(1, index=who).groupby(level=0).size()
    codes = journey.milestone_of(cur).cat.codes.to_numpy()
    k = codes >= 0
    w, c = who[k], codes[k]
    new = np.r_[True, (w[1:] != w[:-1]) | (c[1:] != c[:-1])] if len(w) else np.zeros(0, bool)
    runs = pd.Series(new.astype(int), index=w).groupby(level=0).sum()
    distinct = pd.DataFrame({"w": w, "c": c}).drop_duplicates().groupby("w").size()
    reached = np.column_stack([f[f"progress:reached_{m}"] for m in path]) if path else np.zeros((len(idx), 0))
    furthest = (reached * np.arange(1, len(path) + 1)).max(axis=1) if len(path) else np.zeros(len(idx))
    f["deviations:rework"] = (runs.reindex(idx, fill_value=0) - distinct.reindex(idx, fill_value=0)).to_numpy(float)
    f["deviations:skipped"] = furthest - reached.sum(axis=1)
    neg = [m.name for m in journey.milestones if getattr(m, "kind", "positive") == "negative"]
    f["deviations:negative"] = sum((f[f"progress:reached_{m}"] for m in neg), np.zeros(len(idx)))
    f["activity:n_events"] = n_ev.reindex(idx, fill_value=0).to_numpy(dtype=float)
    acts = sorted(pd.unique(pl.log._frame()["activity"].astype(str)))
    f["activity:last_activity"] = pd.Categorical(st["last_activity"].astype(object), categories=acts)
    # JourneyVectorizer's "counts" (the events of each activity; without its log1p) of the current entry so far
    per = pd.crosstab(pd.Series(who, name="w"), pd.Series(cur["activity"].astype(str).to_numpy(), name="a"))
    per = per.reindex(index=idx, columns=acts, fill_value=0)
    for a in acts:
        f[f"activity:count_{a}"] = per[a].to_numpy(dtype=float)
    if "channel" in cur:
        f["channels:n_channels"] = cur.groupby(unit)["channel"].nunique().reindex(idx, fill_value=0).to_numpy(float)
    for col in pl.attributes:
        group = "surveys" if col.lower() in SURVEY_COLUMNS else "channels" if col == "channel" else "attributes"
        for name, key in ((col, col), (f"session.{col}", f"session.{col}")):
            if key not in st:
                continue
            f[f"{group}:{name}"] = feature_column(st[key], pl.levels.get(col))
    return pd.DataFrame(f, index=idx), st


def feature_column(values: pd.Series, levels):
    """A feature column: numbers as float, text (``levels`` given) as a categorical of those levels."""
    if levels is None:
        return pd.to_numeric(pd.Series(values.array, dtype=object), errors="coerce").to_numpy(dtype=float)
    if isinstance(values.dtype, pd.CategoricalDtype) and not values.dtype.ordered:  # no round trip through objects
        return values.array.set_categories(levels)
    return pd.Categorical(pd.Series(values.array, dtype=object), categories=levels)


def _first_after(pl: PrefixLog, who: pd.Index, c, mask: np.ndarray) -> np.ndarray:
    """Per customer of ``who``: the time (epoch us, as float; NaN if none) of their first event at or after
    ``c`` among the events selected by ``mask``."""
    fr = pl.log._frame()
    sel = fr[mask]
    sel = sel[(sel["timestamp"] >= c).to_numpy()]
    unit = "customer" if "customer" in sel else "case"
    first = sel.groupby(unit, sort=False)["timestamp"].min()
    t = pd.Series(first.reindex(who).array)
    return ((t - c) / _US).to_numpy(dtype=float, na_value=np.nan)


def labels_at(pl: PrefixLog, journey, c, horizon: pd.Timedelta, target: str, state: pd.DataFrame):
    """The label of each customer of ``state`` (in flight at ``c``) for ``target``: what happened in
    ``[c, c + horizon)`` (see :func:`~journeylab.predict`)."""
    return label_from(lambda mask: _first_after(pl, state.index, c, mask), pl, journey, horizon, target,
                      state["milestone"])


def label_from(first_after, pl: PrefixLog, journey, horizon: pd.Timedelta, target: str, milestone: pd.Series):
    """The labels for ``target`` from ``first_after(mask)`` - per example, the microseconds from its cut-off to
    the customer's first event selected by ``mask`` (a mask of ``pl.log``'s events) at or after it, NaN
    when none - and each example's current ``milestone``: shared by :func:`labels_at` (one cut-off) and
    :func:`~journeylab._kernels.prefix_examples.examples_labels` (every cut-off at once)."""
    h = horizon / _US
    within = lambda t: np.isfinite(t) & (t < h)
    goal, exit_, codes = pl.marks["goal"], pl.marks["exit"], pl.marks["milestone"]
    if target == "goal":
        return within(first_after(goal)).astype(int)
    if target == "conversion":
        last = list(journey.milestones).index(journey.milestone(journey.happy_path[-1]))
        return within(first_after(codes == last)).astype(int)
    if target == "attrition":
        got = within(first_after(goal))
        moved = within(first_after((codes >= 0) & ~exit_))
        return (~got & ~moved).astype(int)
    if target == "remaining_time":
        t = np.fmin(first_after(goal | exit_), h)
        return np.where(np.isnan(t), h, t) * (_US / _HOUR)
    # next_milestone: the first milestone other than the current one reached within the horizon
    names = [m.name for m in journey.milestones]
    times = np.column_stack([first_after(codes == i) for i in range(len(names))])
    current = pd.Series(milestone.array).map({m: i for i, m in enumerate(names)}).fillna(-1).to_numpy(dtype=int)
    rows = np.arange(len(times))
    ok = current >= 0
    times[rows[ok], current[ok]] = np.nan
    times[~(times < h)] = np.inf
    best = np.argmin(times, axis=1)
    out = np.asarray(names, dtype=object)[best]
    out[~np.isfinite(times[rows, best])] = "none"
    return out
