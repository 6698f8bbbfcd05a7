"""The events of a log laid out per case, the variants of its cases, and sequences as text: what the
per-case analyses (features, clustering, segments, segment comparisons) share.

Size: about 660 lines: the per-case tables come in one type for in-memory and lazy logs (the layout,
the summary, the facts and the variants read each other), so they stay together; the engine's queries
live in :mod:`._kernels.case_engine`.

- :func:`case_layout` - per event, the row of its case (cases sorted by id, each a contiguous block) and
  the code of its activity (an index into ``log.activities``), with the case offsets and lengths;
  computed once per log and kept by it (``EventLog._memo``).
- :func:`case_events` - more columns of the events, in the layout's order (a projection:
  :func:`~journeylab._kernels.events.events`), for per-case facts by group-by on the case rows.
- Per-case facts, computed by group-by on the case rows (narrow tables out): :func:`activity_counts`,
  :func:`channel_counts`, :func:`value_totals`, :func:`first_values`, :func:`milestones_reached`.
- :func:`variants_of` - the variant of each case (its activity sequence), the variants with their
  counts and the first case of each; :func:`variant_codes` - one case per variant, laid out flat.
- Sequences as text, one character per activity (:func:`keys`, :func:`decode`), so that variants group by a
  string and :func:`edit_distances` (normalised Levenshtein, rapidfuzz) runs on them.

What runs where. In memory everything is numpy on the layout (fast, nothing is copied). For a lazy log
(DuckDB, Spark) the layout - one entry per event - is never built by these functions; the engine computes
the per-case tables and only they come back (issue 15: (a) per-variant, (b) per-case tables):

- the variants (:func:`variants_of`, :func:`variant_codes`): (a) the distinct variants with their counts
  and (b) each case's variant, from :mod:`._kernels.scans`; :func:`activity_counts`, the lengths and the
  first / last activity of the cases (:func:`case_summary`) and :func:`sequence_matrix <journeylab.features.
  sequence_matrix>` depend only on the sequence and are expanded from the variants in numpy;
- :func:`case_facts`: (b) one engine group-by per case - start, end, duration, events per channel
  (one column per channel), first / last channel (arg-min / arg-max by ``_seq``), value total and largest,
  the first non-missing value of every attribute (arg-min by ``_seq`` among the non-missing);
  :func:`channel_counts`, :func:`value_totals`, :func:`first_values` and :func:`case_summary` read it;
- :func:`first_event_values`: (b) per case, the value of a column on its first event (one group-by);
- :func:`milestones_reached`: from the variants when the milestones depend on the activity only; else
  (c) the events of the journey's milestone activities, with the columns their conditions name (the
  conditions are evaluated in pandas).

:func:`case_layout` and :func:`case_events` still work on a lazy log (they fetch the events): analyses
use :func:`case_ids`, :func:`case_summary` and the functions above instead.

>>> import journeylab as jl
>>> log = jl.datasets.load_example()
>>> lay = case_layout(log)
>>> lay.n, lay.lengths[:3].tolist(), lay.activities[lay.codes[0]]
(6, [5, 5, 9], 'register request')
>>> v = variants_of(log)
>>> len(v.counts), int(v.counts.sum()), decode(v.keys[0], lay.activities)[:2]
(6, 6, ('register request', 'check ticket'))
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np
import pandas as pd

from .._core.arrays import positions_in
from .._core.progress import progress
from .._core.warn import warn
from .case_engine import AT, CH, facts_engine, first_engine
from .events import events
from .scans import case_variants, variant_table

__all__ = ["CaseLayout", "case_layout", "case_events", "case_ids", "activity_names", "CaseSummary", "case_summary",
           "case_facts", "engine_tables", "activity_counts", "CaseChannels", "channel_counts", "value_totals", "first_values",
           "first_event_values", "milestones_reached", "CaseVariants", "variants_of", "variant_codes", "keys",
           "decode", "encode", "edit_distances"]

#: The character of activity code 0 in a sequence key (CJK ideographs: tens of thousands of printable
#: characters, none of them special to rapidfuzz).
KEY_BASE = 0x4E00


@dataclass(frozen=True, eq=False)
class CaseLayout:
    """The events of a log laid out per case (see the module docstring); arrays are read-only.

    Attributes
    ----------
    cases : Index of the case ids (text), sorted; row ``i`` of every per-case array is ``cases[i]``.
    activities : the activity of each code (``log.activities``: most frequent first).
    case_codes, codes : per event, the row of its case and the code of its activity (int64).
    lengths, offsets : events per case, and where each case starts (``offsets[n]`` = number of events).
    timestamps : per event, its timestamp (a Series in the log's time zone).
    order : positions in :func:`~journeylab._kernels.events.events` order of the events above, or None when
        that order is already by case (the log is sorted by case then time).
    """

    cases: pd.Index
    activities: tuple[str, ...]
    case_codes: np.ndarray
    codes: np.ndarray
    lengths: np.ndarray
    offsets: np.ndarray
    timestamps: pd.Series
    order: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Number of cases."""
        return len(self.cases)

    @property
    def first(self) -> np.ndarray:
        """Position of the first event of each case."""
        return self.offsets[:-1]

    @property
    def last(self) -> np.ndarray:
        """Position of the last event of each case."""
        return self.offsets[1:] - 1

    @cached_property
    def micros(self) -> np.ndarray:
        """Per event, microseconds since the epoch (UTC)."""
        ts = self.timestamps.dt.tz_convert("UTC").dt.tz_localize(None)
        return _read_only(ts.to_numpy().astype("datetime64[us]").astype(np.int64))

    def duration_hours(self) -> np.ndarray:
        """Per case, the time from its first to its last event, in hours."""
        us = self.micros
        return (us[self.last] - us[self.first]) / 3.6e9

    def keys(self, codes: np.ndarray | None = None) -> np.ndarray:
        """Per case, its activity sequence as text (:func:`keys`); ``codes`` recodes the events first."""
        return keys(self.codes if codes is None else codes, self.offsets)


def _read_only(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def case_layout(log) -> CaseLayout:
    """The per-case layout of the events of ``log`` (computed once per log).

    Parameters
    ----------
    log : EventLog

    Returns
    -------
    CaseLayout

    Examples
    --------
    >>> import journeylab as jl
    >>> lay = case_layout(jl.datasets.load_example())
    >>> list(lay.cases[:2]), lay.offsets[:3].tolist()
    (['1', '2'], [0, 5, 10])
    """
    return log._memo(("cases", "layout"), lambda: _layout(log))


def _layout(log) -> CaseLayout:
    df = events(log, [])
    case_codes, cases = pd.factorize(df["case"], sort=True)
    order = None
    # the events come sorted by case then time, so each case is a contiguous block; else sort stably by case
    if len(case_codes) and not bool(np.all(np.diff(case_codes) >= 0)):
        order = np.argsort(case_codes, kind="stable")
        case_codes = case_codes[order]
    n = len(cases)
    lengths = np.bincount(case_codes, minlength=n)
    act_codes, acts = pd.factorize(df["activity"])
    activities = tuple(str(a) for a in log.activities)
    codes = pd.Index(activities).get_indexer(acts.astype(str))[act_codes].astype(np.int64)
    ts = df["timestamp"].reset_index(drop=True)
    if order is not None:
        codes, ts = codes[order], ts.iloc[order].reset_index(drop=True)
    return CaseLayout(cases=pd.Index(cases.astype(str), name="case"), activities=activities,
                      case_codes=_read_only(case_codes.astype(np.int64)), codes=_read_only(codes),
                      lengths=_read_only(lengths), offsets=_read_only(np.concatenate([[0], np.cumsum(lengths)])),
                      timestamps=ts, order=None if order is None else _read_only(order))


def case_events(log, columns) -> pd.DataFrame:
    """Columns of the events of ``log`` in the order of :func:`case_layout` (row ``i`` is event ``i``).

    Parameters
    ----------
    log : EventLog
    columns : list of str
        Column names of the log (``None``: every column).

    Returns
    -------
    DataFrame
        The key columns, ``columns`` and ``_seq``, indexed 0..n-1.

    Examples
    --------
    >>> import journeylab as jl
    >>> case_events(jl.datasets.load_example(), ["resource"])["resource"].iloc[0]
    'Pete'
    """
    df = events(log, columns)
    order = case_layout(log).order
    if order is not None:
        df = df.iloc[order]
    return df.reset_index(drop=True)


# --------------------------------------------------------------------------- per-case tables (no layout)


def case_ids(log) -> pd.Index:
    """The case ids of ``log`` (text, sorted, named ``case``): the row order of every per-case table here.

    For a lazy log they come with the per-case variants (:func:`~journeylab._kernels.scans.case_variants`):
    one row per case, no event table.

    >>> import journeylab as jl
    >>> list(case_ids(jl.datasets.load_example())[:3])
    ['1', '2', '3']
    """
    if log.is_lazy:
        return case_variants(log)[0]
    return case_layout(log).cases


def activity_names(log) -> tuple[str, ...]:
    """The activities of ``log`` as text, most frequent first: activity code ``i`` is ``activity_names(log)[i]``.

    >>> import journeylab as jl
    >>> activity_names(jl.datasets.load_example())[0]
    'check ticket'
    """
    return tuple(str(a) for a in log.activities)


@dataclass(frozen=True, eq=False)
class CaseSummary:
    """One entry per case (rows: :func:`case_ids`): what the per-case analyses read instead of the events.

    Attributes
    ----------
    cases : Index of the case ids (text), sorted.
    activities : the activity of each code (:func:`activity_names`).
    lengths : events per case (int64).
    first_codes, last_codes : the activity code of each case's first and last event.
    start, end : per case, its first and last timestamp (unnamed Series in the log's time zone, indexed 0..n-1).
    span_us : per case, microseconds from its first to its last event (int64).
    """

    cases: pd.Index
    activities: tuple[str, ...]
    lengths: np.ndarray
    first_codes: np.ndarray
    last_codes: np.ndarray
    start: pd.Series
    end: pd.Series
    span_us: np.ndarray

    @property
    def n(self) -> int:
        """Number of cases."""
        return len(self.cases)

    def duration_hours(self) -> np.ndarray:
        """Per case, the time from its first to its last event, in hours."""
        return self.span_us / 3.6e9


def case_summary(log) -> CaseSummary:
    """Per case: length, first and last activity, start, end and duration (computed once per log).

    In memory from the layout; for a lazy log the lengths and first / last activities come from the
    variants and the times from :func:`case_facts` (one engine group-by): no event table is fetched.

    Parameters
    ----------
    log : EventLog

    Returns
    -------
    CaseSummary

    Examples
    --------
    >>> import journeylab as jl
    >>> s = case_summary(jl.datasets.load_example())
    >>> s.lengths[:3].tolist(), s.activities[s.first_codes[0]], round(float(s.duration_hours()[0]), 1)
    ([5, 5, 9], 'register request', 195.4)
    """
    return log._memo(("cases", "summary"), lambda: _summary(log))


def _summary(log) -> CaseSummary:
    if not log.is_lazy:
        c = case_layout(log)
        us = c.micros
        return CaseSummary(c.cases, c.activities, c.lengths, _read_only(c.codes[c.first].copy()),
                           _read_only(c.codes[c.last].copy()), _times(c.timestamps.iloc[c.first]),
                           _times(c.timestamps.iloc[c.last]), _read_only(us[c.last] - us[c.first]))
    v = variants_of(log)
    lengths = np.fromiter((len(k) for k in v.keys), dtype=np.int64, count=len(v.keys))
    first = np.fromiter((ord(k[0]) - KEY_BASE for k in v.keys), dtype=np.int64, count=len(v.keys))
    last = np.fromiter((ord(k[-1]) - KEY_BASE for k in v.keys), dtype=np.int64, count=len(v.keys))
    f = case_facts(log, attributes=False)
    return CaseSummary(case_ids(log), activity_names(log), _read_only(lengths[v.vid]), _read_only(first[v.vid]),
                       _read_only(last[v.vid]), _times(f["start"]), _times(f["end"]),
                       _read_only(f["span_us"].to_numpy(dtype=np.int64)))



def _times(ts: pd.Series) -> pd.Series:
    return ts.reset_index(drop=True).rename(None)


def case_facts(log, *, attributes: bool = True) -> pd.DataFrame:
    """The per-case table: one row per case (indexed by :func:`case_ids`), computed by the engine for a
    lazy log - one group-by for the times, channels and value, one for the attributes (asked only by
    who needs them: ``attributes=False`` leaves them out) - and for a log in memory from the layout (the
    same table).

    Columns: ``start``, ``end`` (first and last timestamp), ``span_us`` (microseconds between them);
    with a channel: one column of event counts per channel (named ``"__ch_<i>"``, ``i`` the position in
    ``attrs["channels"]``, the channels sorted), ``first_channel`` / ``last_channel`` (the channel of
    the first / last event, missing when that event has none); with a value: ``value_sum`` (0 without a
    value) and ``value_max`` (NaN without); then the first non-missing value of every attribute
    (named ``"__at_<i>"``, ``i`` the position in ``attrs["attributes"]``).

    Parameters
    ----------
    log : EventLog
    attributes : bool, default True
        Add the first values of the attributes.

    Returns
    -------
    DataFrame
        A new DataFrame on each call (each part computed once per log).

    Examples
    --------
    >>> import journeylab as jl
    >>> f = case_facts(jl.datasets.make_journeys(50, random_state=1).log)
    >>> len(f), f.attrs["channels"][:2], int(f.filter(like="__ch_").to_numpy().sum()) > 0
    (50, ['app', 'call_centre'], True)
    """
    out = log._memo(("cases", "facts"), lambda: _facts(log))
    attrs = _attribute_columns(log)
    res = out.copy()
    if attributes and attrs:
        firsts = _first_attributes(log)
        firsts.columns = [f"{AT}{j}" for j in range(len(attrs))]
        res = pd.concat([res, firsts], axis=1)
    res.attrs = {"channels": list(out.attrs["channels"]), "attributes": attrs if attributes else []}
    return res


def engine_tables(log, *, attributes: bool = True) -> None:
    """Compute the per-case tables of a lazy log in the engine (the variants, :func:`case_facts` and, with
    ``attributes``, the attributes' first values), with a progress bar when that takes over 2 seconds;
    they are kept by the log. Nothing to do for a log in memory.

    >>> import journeylab as jl
    >>> engine_tables(jl.datasets.load_example()) is None
    True
    """
    if not log.is_lazy:
        return
    steps = [lambda: variants_of(log), lambda: case_facts(log, attributes=False)]
    if attributes and _attribute_columns(log):
        steps.append(lambda: _first_attributes(log))
    for step in progress(steps, total=len(steps), desc="per-case tables in the engine"):
        step()


def _first_attributes(log) -> pd.DataFrame:
    """Per case, the first non-missing value of every attribute (a new DataFrame; computed once per log)."""
    attrs = _attribute_columns(log)
    def compute():
        if log.is_lazy:
            return first_engine(log, attrs, case_ids(log), nonmissing=True)
        return first_values(log, attrs)

    return log._memo(("cases", "first_attributes"), compute).copy()


def _attribute_columns(log) -> list[str]:
    return [a for a in log.attributes if a != "_seq"]


def _facts(log) -> pd.DataFrame:
    if not log.is_lazy:
        s = case_summary(log)
        out = pd.DataFrame({"start": s.start.array, "end": s.end.array, "span_us": s.span_us}, index=s.cases)
        names: list[str] = []
        if log.has_role("channel"):
            ch = channel_counts(log)
            names = ch.names
            for j in range(len(names)):
                out[f"{CH}{j}"] = ch.counts[:, j]
            label = np.asarray(names + [None], dtype=object)
            out["first_channel"] = label[np.where(ch.first >= 0, ch.first, len(names))]
            out["last_channel"] = label[np.where(ch.last >= 0, ch.last, len(names))]
        if log.has_role("value"):
            out["value_sum"], out["value_max"] = value_totals(log)
        out.attrs = {"channels": names}
        return out
    return facts_engine(log, case_ids(log))


# --------------------------------------------------------------------------- per-case facts


def activity_counts(log) -> np.ndarray:
    """Case x activity: the number of events of each activity (columns: ``case_layout(log).activities``).

    >>> import journeylab as jl
    >>> activity_counts(jl.datasets.load_example()).sum(axis=1).tolist()
    [5, 5, 9, 5, 13, 5]

    For a lazy log: counted per variant, then given to the cases of each variant.
    """
    if log.is_lazy:
        codes, row, v = variant_codes(log)
        A = len(activity_names(log))
        per = np.bincount(row * A + codes, minlength=len(v.counts) * A).reshape(len(v.counts), A)
        return per[v.vid]
    c = case_layout(log)
    A = len(c.activities)
    return np.bincount(c.case_codes * A + c.codes, minlength=c.n * A).reshape(c.n, A)


class CaseChannels(NamedTuple):
    """The channels of the cases of a log (see :func:`channel_counts`)."""

    #: the channels, sorted
    names: list
    #: case x channel: events on that channel
    counts: np.ndarray
    #: per case, the channel of its first and of its last event (an index into ``names``; -1 when missing)
    first: np.ndarray
    last: np.ndarray


def channel_counts(log) -> CaseChannels:
    """Per case, its events on each channel and the channels of its first and last events.

    Parameters
    ----------
    log : EventLog
        A log with a channel (``log.has_role("channel")``).

    Returns
    -------
    CaseChannels

    Examples
    --------
    >>> import journeylab as jl
    >>> ch = channel_counts(jl.datasets.make_journeys(50, random_state=1).log)
    >>> ch.names[:2], ch.counts.shape[1] == len(ch.names)
    (['app', 'call_centre'], True)
    """
    if log.is_lazy:  # from the engine's per-case table
        f = case_facts(log, attributes=False)
        names = f.attrs["channels"]
        counts = f[[f"{CH}{j}" for j in range(len(names))]].to_numpy(dtype=np.int64).reshape(len(f), len(names))
        first, last = positions_in(f["first_channel"], names), positions_in(f["last_channel"], names)
        return CaseChannels(list(names), counts, first.astype(np.int64), last.astype(np.int64))
    c = case_layout(log)
    codes, names = pd.factorize(case_events(log, ["channel"])["channel"], sort=True)
    valid = codes >= 0
    C = max(len(names), 1)
    counts = np.bincount(c.case_codes[valid] * C + codes[valid], minlength=c.n * C).reshape(c.n, C)
    return CaseChannels([str(x) for x in names], counts[:, :len(names)], codes[c.first], codes[c.last])


def value_totals(log) -> tuple[np.ndarray, np.ndarray]:
    """Per case, the sum of its ``value`` (0 when it has none) and the largest (NaN when it has none).

    >>> import journeylab as jl
    >>> total, top = value_totals(jl.datasets.make_journeys(50, random_state=1).log)
    >>> bool((total >= 0).all()), len(top)
    (True, 50)
    """
    if log.is_lazy:  # from the engine's per-case table
        f = case_facts(log, attributes=False)
        return f["value_sum"].to_numpy(dtype=float), f["value_max"].to_numpy(dtype=float)
    c = case_layout(log)
    val = pd.to_numeric(case_events(log, ["value"])["value"], errors="coerce").to_numpy(dtype=float)
    ok = ~np.isnan(val)
    total = np.bincount(c.case_codes[ok], weights=val[ok], minlength=c.n)
    top = np.full(c.n, -np.inf)
    np.maximum.at(top, c.case_codes[ok], val[ok])
    return total, np.where(np.isfinite(top), top, np.nan)


def first_values(log, columns) -> pd.DataFrame:
    """Per case (indexed like the layout), the first non-missing value of each of ``columns``.

    >>> import journeylab as jl
    >>> first_values(jl.datasets.load_example(), ["resource"])["resource"].tolist()[:2]
    ['Pete', 'Mike']

    For a lazy log: one engine group-by (arg-min by ``_seq`` among the events with a value); the first
    values of all the attributes are computed once per log.
    """
    columns = list(columns)
    if log.is_lazy:
        attrs = _attribute_columns(log)
        if all(col in attrs for col in columns):
            out = _first_attributes(log)[columns]
        else:
            out = first_engine(log, columns, case_ids(log), nonmissing=True)
        out.columns = columns
        return out
    c = case_layout(log)
    out = case_events(log, columns)[columns].groupby(c.case_codes, sort=True).first()
    out.index = c.cases
    return out


def first_event_values(log, column: str) -> pd.Series:
    """Per case (indexed by :func:`case_ids`), the value of ``column`` on its first event (missing when
    that event has none); for a lazy log one engine group-by (the first event by ``_seq``).

    >>> import journeylab as jl
    >>> first_event_values(jl.datasets.load_example(), "resource").tolist()[:2]
    ['Pete', 'Mike']
    """
    if log.is_lazy:
        return first_engine(log, [column], case_ids(log), nonmissing=False)[column]
    c = case_layout(log)
    first = case_events(log, [column])[column].iloc[c.first]
    first.index = c.cases
    return first


def case_customers(log) -> pd.Series:
    """Per case (indexed by :func:`case_ids`), its customer as text: the first non-missing ``customer`` of
    its events; a case without one is its own customer, by the rule of
    :func:`~journeylab._kernels.units.known_customers` (its id, or ``"case <id>"`` when that id is also a
    real customer's), with a warning. The case id itself for a log without a customer role. Computed once
    per log (one group-by for a lazy log).

    >>> import pandas as pd, journeylab as jl
    >>> df = pd.DataFrame({"s": ["a#1", "a#2", "x"], "who": ["a", "a", None], "act": ["v", "v", "v"],
    ...     "t": ["2025-01-01", "2025-01-02", "2025-01-03"]})
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     log = jl.from_pandas(df, case="s", customer="who", activity="act", timestamp="t")
    ...     case_customers(log).tolist()
    ['a', 'a', 'x']
    """
    cases = case_ids(log)
    if not log.has_role("customer"):
        return pd.Series(cases.astype(str), index=cases, name="customer", dtype=object)

    def compute():
        import warnings

        from .units import known_customers

        who = first_values(log, ["customer"])["customer"].reindex(cases)
        n_anonymous = int(who.isna().sum())
        frame = pd.DataFrame({"case": cases.astype(str), "customer": who.astype(object).to_numpy()})
        with warnings.catch_warnings():  # said below, per case (its message counts events)
            warnings.simplefilter("ignore")
            frame = known_customers(frame)
        out = pd.Series(frame["customer"].astype(str).to_numpy(dtype=object), index=cases, name="customer")
        return out, n_anonymous

    res, n_anonymous = log._memo(("cases", "customers"), compute)
    if n_anonymous:
        warn(f"{n_anonymous:,} case(s) have no customer id on any event; each of these cases counts as its own "
             "customer.")
    return res.copy()


def case_starts(log) -> pd.Series:
    """Per case (indexed by :func:`case_ids`), its first timestamp as epoch microseconds (int64): from the
    layout in memory; for a lazy log one narrow group-by (not the per-case facts). Computed once per log.

    >>> import journeylab as jl
    >>> int(case_starts(jl.datasets.load_example()).iloc[0]) > 0
    True
    """
    def compute():
        cases = case_ids(log)
        if not log.is_lazy:
            start = pd.DatetimeIndex(case_summary(log).start.array).as_unit("us").asi8
            return pd.Series(start, index=cases, name="start_us")
        from .._core.backend import execute, micros

        t = log.table
        raw = execute(t.group_by(t.case).aggregate(_us=micros(t.timestamp).min()))
        us = raw.set_index(raw["case"].astype(str))["_us"].reindex(cases).to_numpy(dtype=np.int64)
        return pd.Series(us, index=cases, name="start_us")

    return log._memo(("cases", "starts"), compute).copy()


def milestones_reached(log, journey) -> pd.DataFrame:
    """Case x milestone of ``journey``: True where one of the case's events marks the milestone.

    Only the events of the milestones' activities are read, with the columns their conditions name.

    Parameters
    ----------
    log : EventLog
    journey : Journey

    Returns
    -------
    DataFrame
        Indexed like the layout (case ids), one bool column per milestone (its name).

    Examples
    --------
    >>> import journeylab as jl
    >>> s = jl.datasets.make_journeys(50, random_state=1)
    >>> milestones_reached(s.log, s.journey).shape == (50, len(s.journey.milestones))
    True
    """
    cases = case_ids(log)
    ms = journey.milestones
    needed = list(dict.fromkeys(cond.column for m in ms for cond in m.conditions))
    if log.is_lazy and set(needed) <= {"activity"}:  # the milestone of an event is that of its activity
        codes, row, v = variant_codes(log)
        names = activity_names(log)
        one = pd.DataFrame({"case": "", "activity": list(names), "timestamp": pd.NaT})
        of_act = journey.milestone_of(one).cat.codes.to_numpy()[codes] if len(codes) else codes
        ok = of_act >= 0
        per = np.zeros((len(v.counts), len(ms)), dtype=bool)
        per[row[ok], of_act[ok]] = True
        return pd.DataFrame(per[v.vid], index=cases, columns=[m.name for m in ms])
    if all(col in log.columns for col in needed):
        acts = None if any(not m.activities for m in ms) else list(dict.fromkeys(a for m in ms for a in m.activities))
        ev = events(log, [col for col in needed if col not in ("case", "activity", "timestamp")], activities=acts)
    else:  # a condition names a column the log lacks: the journey's own error lists every column
        ev = events(log, None, activities=[]) if log.is_lazy else case_events(log, None)
    codes = journey.milestone_of(ev).cat.codes.to_numpy()
    rows = cases.get_indexer(ev["case"].astype(str))
    ok = codes >= 0
    hit = np.zeros((len(cases), len(ms)), dtype=bool)
    hit[rows[ok], codes[ok]] = True
    return pd.DataFrame(hit, index=cases, columns=[m.name for m in ms])


# --------------------------------------------------------------------------- variants


class CaseVariants(NamedTuple):
    """The variants of the cases of a log (see :func:`variants_of`)."""

    #: per case (a row of the layout), its variant
    vid: np.ndarray
    #: per variant, its activity sequence as text (:func:`keys`)
    keys: np.ndarray
    #: per variant, its number of cases
    counts: np.ndarray
    #: per variant, its first case (a row of the layout)
    first_case: np.ndarray


def variants_of(log) -> CaseVariants:
    """The variant of each case of ``log``: variants ordered by count (most frequent first), ties by key.

    The one place where the per-case analyses get their variants (computed once per log).

    Parameters
    ----------
    log : EventLog

    Returns
    -------
    CaseVariants
        ``(vid, keys, counts, first_case)``.

    Examples
    --------
    >>> import journeylab as jl
    >>> v = variants_of(jl.datasets.load_example())
    >>> v.vid.tolist(), v.counts.tolist()
    ([5, 0, 4, 1, 3, 2], [1, 1, 1, 1, 1, 1])
    """
    return log._memo(("cases", "variants"), lambda: _variants(log))


def _variants(log) -> CaseVariants:
    """The variants from the one variant scan (:mod:`._kernels.scans`), keyed and ordered here: the
    clusterings draw their samples and seeds in this order (count, then key). A lazy log: (a) the
    variants and (b) the variant of each case come back, no event table."""
    cases, vid = case_variants(log)
    if not log.is_lazy and not np.array_equal(np.asarray(cases, dtype=object),
                                              np.asarray(case_layout(log).cases, dtype=object)):
        raise RuntimeError("the variant scan and the case layout disagree on the cases")  # pragma: no cover
    code_of = {a: i for i, a in enumerate(activity_names(log))}
    keys = np.array([encode(v, code_of) for v in variant_table(log)["variant"]], dtype=object)
    return _ordered(len(cases), np.asarray(vid, dtype=np.int64), keys)


def _ordered(n: int, vid: np.ndarray, keys: np.ndarray) -> CaseVariants:
    """The variants ordered by count (most frequent first), ties by key, with their first case."""
    counts = np.bincount(vid, minlength=len(keys))
    order = np.lexsort((np.asarray(keys, dtype=str), -counts))
    remap = np.empty(len(order), dtype=np.int64)
    remap[order] = np.arange(len(order))
    vid = remap[vid]
    first = np.zeros(len(order), dtype=np.int64)
    first[vid[::-1]] = np.arange(n)[::-1]
    return CaseVariants(_read_only(vid), _read_only(keys[order]), _read_only(counts[order]), _read_only(first))


def variant_codes(log) -> tuple[np.ndarray, np.ndarray, CaseVariants]:
    """The activity codes of one case per variant, laid out flat: (codes, variant of each code, variants).

    Parameters
    ----------
    log : EventLog

    Returns
    -------
    tuple
        ``codes`` (int64), ``row`` (the variant of each code, non-decreasing) and the :func:`variants_of`.

    Examples
    --------
    >>> import journeylab as jl
    >>> codes, row, v = variant_codes(jl.datasets.load_example())
    >>> len(codes) == jl.datasets.load_example().n_events, row[:3].tolist()
    (True, [0, 0, 0])
    """
    v = variants_of(log)
    if log.is_lazy:  # read from the variants' keys: no event comes back
        lengths = np.fromiter((len(k) for k in v.keys), dtype=np.int64, count=len(v.keys))
        flat = "".join(v.keys)
        codes = np.fromiter((ord(ch) - KEY_BASE for ch in flat), dtype=np.int64, count=len(flat))
        return codes, np.repeat(np.arange(len(v.keys)), lengths), v
    lay = case_layout(log)
    lengths = lay.lengths[v.first_case]
    starts = lay.offsets[:-1][v.first_case]
    row = np.repeat(np.arange(len(v.first_case)), lengths)
    within = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return lay.codes[starts[row] + within], row, v


def keys(codes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Per sequence (``codes[offsets[i]:offsets[i + 1]]``), its text: one character per activity code.

    >>> keys(np.array([0, 1, 1]), np.array([0, 1, 3])).tolist() == [chr(KEY_BASE), chr(KEY_BASE + 1) * 2]
    True
    """
    chars = np.array([chr(KEY_BASE + i) for i in range(int(codes.max()) + 1 if len(codes) else 1)], dtype=object)
    text = chars[codes]
    return np.array(["".join(text[offsets[i]:offsets[i + 1]]) for i in range(len(offsets) - 1)], dtype=object)


def decode(key: str, activities) -> tuple[str, ...]:
    """The activities of a sequence key (``activities[code]`` for each of its characters).

    >>> decode(encode(("b", "a"), {"a": 0, "b": 1}), ("a", "b"))
    ('b', 'a')
    """
    return tuple(activities[ord(ch) - KEY_BASE] for ch in key)


def encode(sequence, code_of) -> str:
    """The key of a sequence of activities, ``code_of`` giving the code of each."""
    return "".join(chr(KEY_BASE + code_of[a]) for a in sequence)


def edit_distances(a, b) -> np.ndarray:
    """Normalised Levenshtein distances (0..1) between the keys of ``a`` (rows) and ``b`` (columns), float32.

    >>> edit_distances(["ab", "a"], ["ab"]).ravel().tolist()
    [0.0, 0.5]
    """
    from rapidfuzz import process  # on use: only the sequence method and the typical journeys need it
    from rapidfuzz.distance import Levenshtein

    return process.cdist(list(a), list(b), scorer=Levenshtein.normalized_distance, dtype=np.float32, workers=-1)
