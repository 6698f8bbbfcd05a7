"""The examples of :func:`~journeylab.predict` at every cut-off at once: the journey followed ONCE, every
cut-off's features, states and labels read from it by as-of lookups.

:func:`~journeylab._kernels.prefixes.features_at` follows the journey up to one cut-off; calling it at each
of many cut-offs costs O(cut-offs x events). Here :func:`~journeylab._kernels.entries.follow` runs once, up
to the last cut-off, and each example (an in-flight customer at a cut-off ``c``) reads what was known at
``c`` - the events up to ``c - 1 microsecond`` - with binary searches in the events sorted by customer and
time (:class:`_Sorted`) and running sums. What is causal, and why the answers equal those of
``features_at`` at each cut-off (a test checks it, cut-off by cut-off):

- **Entries.** The entry and exit tokens (and the time-out tokens, at the last journey event of a spell +
  ``timeout``) of the log cut at ``c`` are the tokens of the whole log at or before ``c - 1us``, in the same
  order, and the in/out state after each token depends only on the tokens before it: an entry of the cut
  log is an entry of the whole log that began before ``c``; it has *left* only if its exit (or time-out)
  token is before ``c``. So a customer is in the journey at ``c`` when ``entered_at < c <= left_at``.
- **The goal.** A goal event before ``c`` is judged against the latest entry begun at or before it, the same
  entry with the same end on the cut log (an end after ``c`` leaves it inside either way): it is credited
  on the cut log iff it is on the whole log. So a customer is still in flight while ``credited_at >= c``.
- **The current entry** at ``c`` is the customer's events from ``entered_at`` to ``c - 1us``: every event is
  labelled with the latest entry begun at or before it (its *segment*), and an in-flight example's events
  are a prefix of its entry's segment. Milestone runs are cut at segment boundaries; the milestone, its
  arrival, the runs so far, the channels so far (first occurrences per segment, summed) and the reached
  milestones (first time per segment and milestone) are read at the last event before ``c``.
- **Values** (profile: the latest non-missing value of the customer; session: the same within the current
  entry) at the last such event before ``c``; **labels** at the first event at or after ``c``.

Where it runs: on the in-memory projection of the journey's own events
(:func:`~journeylab._kernels.prefixes.prefix_log`; for a lazy log the engine sent it), as ``features_at``.
Memory: one row per example (customer x cut-off in flight), counts and flags as float32 (exact integers;
the models read them as the same numbers), categories as categoricals; no per-cut-off copy of the events.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._core.progress import progress
from .entries import follow
from .prefixes import SURVEY_COLUMNS, PrefixLog, feature_column, label_from

__all__ = ["Examples", "cached_examples", "cached_in_flight", "examples", "examples_labels"]

_US = pd.Timedelta(microseconds=1)
_HOUR = pd.Timedelta(hours=1)
_NEVER = np.iinfo(np.int64).max
#: The journey-state fields an attribute's name may clash with (then only ``session.<name>`` is a feature,
#: as in :func:`~journeylab._kernels.journey_state.journey_state`).
_STATE_FIELDS = ("in_journey", "entries", "entered_at", "left", "left_at", "milestone", "milestone_at", "stalled_at",
                 "stalled_for", "stalled", "goal_reached", "goal_at", "last_activity", "last_event_at",
                 "since_last_event")


class _Sorted:
    """Events sorted by customer code and time (int64 ticks): the last one at or before a time, the first one at
    or after it, per customer - binary searches on one int64 key (the customer code times the number of
    distinct times, plus the time's rank), so every query of a batch runs in one ``np.searchsorted``."""

    def __init__(self, who: np.ndarray, t: np.ndarray):
        self.who, self.t = who, t
        self.times = np.unique(t)
        self.span = np.int64(len(self.times) + 1)
        self.key = who.astype(np.int64) * self.span + np.searchsorted(self.times, t)

    def last_le(self, who: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Per query, the position of the customer's last event at or before ``t`` (-1 when none)."""
        r = np.searchsorted(self.times, t, side="right")
        p = np.searchsorted(self.key, who.astype(np.int64) * self.span + r, side="left") - 1
        ok = p >= 0
        ok[ok] = self.who[p[ok]] == who[ok]
        return np.where(ok, p, -1)

    def first_ge(self, who: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Per query, the position of the customer's first event at or after ``t`` (-1 when none)."""
        r = np.searchsorted(self.times, t, side="left")
        p = np.searchsorted(self.key, who.astype(np.int64) * self.span + r, side="left")
        ok = p < len(self.key)
        ok[ok] = self.who[p[ok]] == who[ok]
        return np.where(ok, p, -1)


def _ticks(values, unit: str) -> np.ndarray:
    """Timestamps (a Series, array or list) as int64 ticks of ``unit``; NaT as the largest int64."""
    idx = pd.DatetimeIndex(pd.Series(values).array if not isinstance(values, list) else values).as_unit(unit)
    out = idx.asi8.copy()
    out[idx.isna()] = _NEVER
    return out


@dataclass(frozen=True, eq=False)
class Examples:
    """The examples of every cut-off: ``X`` (features, index ``customer``), ``state`` (the journey-state fields
    of each example), ``key`` (the cut-off of each row, an index into ``cuts``), ``who`` (customer codes into
    ``customers``); rows ordered by cut-off, then customer (as ``features_at`` orders them)."""

    X: pd.DataFrame
    state: pd.DataFrame
    key: np.ndarray
    who: np.ndarray
    customers: pd.Index
    cuts: tuple
    unit: str


def cached_examples(log, pl: PrefixLog, journey, cuts, *, timeout=None) -> Examples:
    """:func:`examples`, kept in the log's cache per journey, cut-offs and timeout (the targets of one log share
    them); the frames handed out are shallow copies (copy-on-write: the cache is never modified)."""
    ex = log._memo(("prefixes", "examples", journey, tuple(cuts), timeout),
                   lambda: examples(pl, journey, cuts, timeout=timeout))
    return Examples(ex.X.copy(deep=False), ex.state.copy(deep=False), ex.key, ex.who, ex.customers, ex.cuts, ex.unit)


def cached_in_flight(log, pl: PrefixLog, journey, as_of, *, timeout=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The features and state of the customers in flight at ``as_of`` (its events included: the customers
    :func:`~journeylab.predict` scores), kept in the log's cache; equal to ``features_at(..., strict=False)``
    for the state fields :attr:`Examples.state` has."""
    ex = log._memo(("prefixes", "in_flight", journey, as_of, timeout),
                   lambda: examples(pl, journey, [as_of], timeout=timeout, strict=False))
    return ex.X.copy(deep=False), ex.state.copy(deep=False)


def examples(pl: PrefixLog, journey, cuts, *, timeout=None, strict: bool = True) -> Examples:
    """The features and states of the customers in flight at each of ``cuts`` (sorted dates), equal to
    ``features_at(pl, journey, c, strict=strict, timeout=timeout)`` for each cut-off ``c`` (see the module
    docstring): the events strictly before ``c`` when ``strict``, up to ``c`` included otherwise (the scores
    at ``as_of``)."""
    steps = progress(range(4), total=4, desc="journey prefixes")
    it = iter(steps)
    next(it)
    cuts = list(cuts)
    # the key and condition columns only (the attribute columns are read from the log's frame, one at a time)
    gap = _US if strict else pd.Timedelta(0)
    fol = follow(pl.log, journey, as_of=cuts[-1] - gap, columns=[], milestones=None, timeout=timeout)
    ev, unit = fol.events, fol.unit
    fr = pl.log._frame()
    seq = fr["_seq"].to_numpy()
    src = ev["_seq"].to_numpy()  # the frame row of each event
    if not np.array_equal(seq, np.arange(len(fr))):
        src = pd.Index(seq).get_indexer(src)
    tu = ev["timestamp"].dtype.unit
    c_t = _ticks(cuts, tu)
    up_t = _ticks([c - gap for c in cuts], tu)
    who_e, customers = pd.factorize(ev[unit], sort=False)  # events sorted by customer: codes ascend
    customers = pd.Index(customers, dtype=object, name="customer")
    t_e = ev["timestamp"].array.asi8
    allev = _Sorted(who_e, t_e)

    # entries and the goal: who is in flight at which cut-off
    ent = fol.entries
    e_who = customers.get_indexer(ent["customer"])
    e_in, e_out = _ticks(ent["entered_at"], tu), _ticks(ent["left_at"], tu)
    cred = np.full(len(customers), _NEVER, dtype=np.int64)
    if journey.goal is not None:
        from .crediting import credit

        credited, _ = credit(fol, journey.goal, [])
        at = credited["credited_at"].reindex(customers)
        cred = _ticks(at, tu)
    end = np.minimum(e_out, cred[e_who]) if len(ent) else np.zeros(0, np.int64)
    i0 = np.searchsorted(up_t, e_in, side="left")   # cut-offs with entered_at <= c - 1us
    i1 = np.searchsorted(up_t, end, side="left")    # ... and c - 1us < left_at, credited_at
    n = np.clip(i1 - i0, 0, None)
    rows_e = np.repeat(np.arange(len(ent)), n)
    starts = np.cumsum(n) - n
    key = (np.arange(int(n.sum())) - np.repeat(starts, n) + np.repeat(i0, n)).astype(np.int64)
    order = np.lexsort((e_who[rows_e], key))
    rows_e, key = rows_e[order], key[order]
    k = e_who[rows_e]
    u, cval, ein = up_t[key], c_t[key], e_in[rows_e]
    next(it)

    # the events of the current entry: from entered_at (the first event at or after it) to the last before c
    last = allev.last_le(k, u)
    first = allev.first_ge(k, ein)
    seg = _Sorted(e_who, e_in).last_le(who_e, t_e)  # per event: the latest entry begun at or before it
    names = [m.name for m in journey.milestones]
    mcode = journey.milestone_of(ev).cat.codes.to_numpy()
    ms = np.flatnonzero(mcode >= 0)
    m_who, m_code, m_seg, m_t = who_e[ms], mcode[ms], seg[ms], t_e[ms]
    new = np.r_[True, (m_seg[1:] != m_seg[:-1]) | (m_code[1:] != m_code[:-1]) | (m_who[1:] != m_who[:-1])] \
        if len(ms) else np.zeros(0, bool)
    run = np.cumsum(new)
    run_t = m_t[np.maximum.accumulate(np.where(new, np.arange(len(ms)), 0))] if len(ms) else m_t
    msorted = _Sorted(m_who, m_t)
    jm = msorted.last_le(k, u)
    ok = jm >= 0
    ok[ok] = m_seg[jm[ok]] == rows_e[ok]
    jm0 = msorted.first_ge(k, ein)
    code = np.where(ok, m_code[np.where(ok, jm, 0)] if len(ms) else -1, -1)
    arrival = np.where(ok, run_t[np.where(ok, jm, 0)] if len(ms) else 0, 0)
    runs = np.where(ok, (run[np.where(ok, jm, 0)] - run[np.where(ok, jm0, 0)] + 1) if len(ms) else 0, 0)
    # the first time of each milestone in each entry: reached at c when before it
    firstm = np.full((len(ent), len(names)), _NEVER, dtype=np.int64)
    inseg = m_seg >= 0
    np.minimum.at(firstm, (m_seg[inseg], m_code[inseg]), m_t[inseg])
    reached = firstm[rows_e] <= u[:, None]
    next(it)

    # the state fields
    milestone = np.asarray(names + [None], dtype=object)[code]
    idx = pd.Index(customers[k], dtype=object, name="customer")
    tdtype = ev["timestamp"].dtype

    def as_time(ticks, valid):
        s = pd.Series(np.where(valid, ticks, 0).astype(f"M8[{tu}]"))
        s = s.dt.tz_localize("UTC").dt.tz_convert(tdtype.tz) if getattr(tdtype, "tz", None) is not None else s
        return s.where(valid).astype(tdtype).array

    has_m = code >= 0
    stalled_for = pd.Series(np.where(has_m, u - arrival, 0).astype(f"m8[{tu}]")).where(has_m).array
    limit = np.array([journey.stall_after.get(m) / pd.Timedelta(1, unit=tu) if journey.stall_after.get(m) is not None
                      else np.inf for m in names] + [np.inf])[code]
    stalled = has_m & ((u - arrival) > limit)
    t_last = t_e[last]
    st = pd.DataFrame({"in_journey": np.ones(len(k), bool), "entries": ent["entry"].to_numpy()[rows_e],
                       "entered_at": as_time(ein, np.ones(len(k), bool)), "milestone": milestone,
                       "milestone_at": as_time(arrival, has_m), "stalled_for": stalled_for, "stalled": stalled,
                       "goal_reached": np.zeros(len(k), bool),
                       "last_activity": ev["activity"].to_numpy(dtype=object)[last],
                       "last_event_at": as_time(t_last, np.ones(len(k), bool)),
                       "since_last_event": pd.Series((u - t_last).astype(f"m8[{tu}]")).array}, index=idx)

    # the features, in the order of features_at
    f32 = lambda a: np.asarray(a, dtype=np.float32)
    hours = lambda ticks: ticks / (_HOUR / pd.Timedelta(1, unit=tu))  # as td / 1h divides
    path = list(journey.happy_path)
    f: dict[str, object] = {}
    f["progress:milestone"] = pd.Categorical(milestone, categories=names)
    rank = {m: i + 1 for i, m in enumerate(path)}
    f["progress:milestone_rank"] = f32(np.array([rank.get(m, 0) for m in names] + [0])[code])
    for i, m in enumerate(names):
        f[f"progress:reached_{m}"] = f32(reached[:, i])
    f["progress:entries"] = f32(st["entries"])
    f["progress:in_journey_for_h"] = hours(cval - ein)
    f["timing:stalled_for_h"] = np.where(has_m, hours(u - arrival), np.nan)
    f["timing:stalled"] = f32(stalled)
    f["timing:since_last_event_h"] = hours(u - t_last)
    pos = {m: i for i, m in enumerate(names)}
    rp = reached[:, [pos[m] for m in path]] if path else np.zeros((len(k), 0), bool)
    furthest = (rp * np.arange(1, len(path) + 1)).max(axis=1) if len(path) else np.zeros(len(k))
    f["deviations:rework"] = f32(runs - reached.sum(axis=1))
    f["deviations:skipped"] = f32(furthest - rp.sum(axis=1))
    neg = [pos[m.name] for m in journey.milestones if getattr(m, "kind", "positive") == "negative"]
    f["deviations:negative"] = f32(reached[:, neg].sum(axis=1))
    f["activity:n_events"] = f32(last - first + 1)
    acts = sorted(pd.unique(fr["activity"].astype(str)))
    f["activity:last_activity"] = pd.Categorical(st["last_activity"], categories=acts)
    # JourneyVectorizer's "counts" of the current entry so far (the number of events of each activity; the
    # vectorizer's log1p is left out: the trees do not see it, and float32 keeps the counts exact), read as
    # differences of running counts over the customer's events (the entry's events are [first, last])
    a_code = pd.Index(acts).get_indexer(ev["activity"].astype(str))
    for i, a in enumerate(acts):
        run_a = np.r_[0, np.cumsum(a_code == i, dtype=np.int64)]
        f[f"activity:count_{a}"] = f32(run_a[last + 1] - run_a[first])
    if "channel" in fr:
        f["channels:n_channels"] = f32(_distinct_so_far(fr["channel"].take(src), seg, last, first))
    state_names = set(_STATE_FIELDS)
    for col in pl.attributes:
        group = "surveys" if col.lower() in SURVEY_COLUMNS else "channels" if col == "channel" else "attributes"
        values = fr[col].take(src)
        j = _last_known(values, who_e, t_e, k, u, last)
        if col not in state_names and not col.startswith("reached_"):
            f[f"{group}:{col}"] = feature_column(_take(values, j), pl.levels.get(col))
        js = np.where((j >= 0) & (t_e[np.maximum(j, 0)] >= ein), j, -1)
        f[f"{group}:session.{col}"] = feature_column(_take(values, js), pl.levels.get(col))
    next(it)
    X = pd.DataFrame(f, index=idx)
    return Examples(X, st, key, k, customers, tuple(cuts), unit)


def _take(values: pd.Series, j: np.ndarray) -> pd.Series:
    """``values`` at positions ``j`` (-1: missing), keeping its dtype where it can hold a missing value."""
    return pd.Series(pd.api.extensions.take(values.array, j, allow_fill=True))


def _last_known(values: pd.Series, who, t, k, u, last) -> np.ndarray:
    """Per query (customer ``k``, time ``u``): the position of the customer's last event at or before ``u``
    with a value (-1: none); ``last`` is the last event at all (the answer when nothing is missing)."""
    known = values.notna().to_numpy()
    if known.all():
        return last
    pos = np.flatnonzero(known)
    if not len(pos):
        return np.full(len(k), -1, dtype=np.int64)
    j = _Sorted(who[pos], t[pos]).last_le(k, u)
    return np.where(j >= 0, pos[np.maximum(j, 0)], -1)


def _distinct_so_far(values: pd.Series, seg, last, first) -> np.ndarray:
    """Per query: the distinct non-missing ``values`` among the events ``first..last`` (a prefix of one
    segment): the first occurrences of each value in each segment, summed."""
    codes = pd.factorize(values)[0]
    firsts = ~pd.DataFrame({"s": seg, "v": codes}).duplicated().to_numpy() & (codes >= 0)
    cum = np.r_[0, np.cumsum(firsts)]
    return cum[last + 1] - cum[first]


def examples_labels(pl: PrefixLog, journey, ex: Examples, horizon: pd.Timedelta, target: str):
    """The label of each example of ``ex`` for ``target``: what happened in ``[c, c + horizon)`` - equal to
    :func:`~journeylab._kernels.prefixes.labels_at` at each cut-off."""
    fr = pl.log._frame()
    unit = "customer" if "customer" in fr else "case"
    who = ex.customers.get_indexer(pd.Index(fr[unit].to_numpy(dtype=object)))
    tu = fr["timestamp"].dtype.unit
    t = fr["timestamp"].array.asi8
    c = _ticks(list(ex.cuts), tu)[ex.key]
    per_us = pd.Timedelta(1, unit=tu) / _US

    def first_after(mask: np.ndarray) -> np.ndarray:
        sel = np.flatnonzero(mask & (who >= 0))
        sel = sel[np.lexsort((t[sel], who[sel]))]
        j = _Sorted(who[sel], t[sel]).first_ge(ex.who, c)
        d = (t[sel][np.maximum(j, 0)] - c).astype(float) * per_us if len(sel) else np.zeros(len(c))
        return np.where(j >= 0, d, np.nan)

    return label_from(first_after, pl, journey, horizon, target, ex.state["milestone"])

