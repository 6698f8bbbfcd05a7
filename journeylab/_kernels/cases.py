"""The events of a log laid out per case, the variants of its cases, and sequences as text: what the
per-case analyses (features, clustering, segments, segment comparisons) share.

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

Inputs and outputs are numpy arrays and small DataFrames, so that the engine can later compute them.

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

from .events import events
from .scans import case_variants, variant_table

__all__ = ["CaseLayout", "case_layout", "case_events", "activity_counts", "CaseChannels", "channel_counts",
           "value_totals", "first_values", "milestones_reached", "CaseVariants", "variants_of", "variant_codes", "keys",
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


# --------------------------------------------------------------------------- per-case facts


def activity_counts(log) -> np.ndarray:
    """Case x activity: the number of events of each activity (columns: ``case_layout(log).activities``).

    >>> import journeylab as jl
    >>> activity_counts(jl.datasets.load_example()).sum(axis=1).tolist()
    [5, 5, 9, 5, 13, 5]
    """
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
    """
    c = case_layout(log)
    out = case_events(log, list(columns))[list(columns)].groupby(c.case_codes, sort=True).first()
    out.index = c.cases
    return out


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
    c = case_layout(log)
    ms = journey.milestones
    needed = list(dict.fromkeys(cond.column for m in ms for cond in m.conditions))
    if all(col in log.columns for col in needed):
        acts = None if any(not m.activities for m in ms) else list(dict.fromkeys(a for m in ms for a in m.activities))
        ev = events(log, [col for col in needed if col not in ("case", "activity", "timestamp")], activities=acts)
    else:  # a condition names a column the log lacks: the journey's own error lists every column
        ev = case_events(log, None)
    codes = journey.milestone_of(ev).cat.codes.to_numpy()
    rows = c.cases.get_indexer(ev["case"].astype(str))
    ok = codes >= 0
    hit = np.zeros((c.n, len(ms)), dtype=bool)
    hit[rows[ok], codes[ok]] = True
    return pd.DataFrame(hit, index=c.cases, columns=[m.name for m in ms])


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
    return log._memo(("cases", "variants"), lambda: _variants(log, case_layout(log)))


def _variants(log, lay: CaseLayout) -> CaseVariants:
    """The variants from the one variant scan (:mod:`._kernels.scans`), keyed and ordered here: the
    clusterings draw their samples and seeds in this order (count, then key)."""
    cases, vid = case_variants(log)
    if not np.array_equal(np.asarray(cases, dtype=object), np.asarray(lay.cases, dtype=object)):
        raise RuntimeError("the variant scan and the case layout disagree on the cases")  # pragma: no cover
    code_of = {a: i for i, a in enumerate(lay.activities)}
    keys = np.array([encode(v, code_of) for v in variant_table(log)["variant"]], dtype=object)
    return _ordered(lay, np.asarray(vid, dtype=np.int64), keys)


def _ordered(lay: CaseLayout, vid: np.ndarray, keys: np.ndarray) -> CaseVariants:
    """The variants ordered by count (most frequent first), ties by key, with their first case."""
    counts = np.bincount(vid, minlength=len(keys))
    order = np.lexsort((np.asarray(keys, dtype=str), -counts))
    remap = np.empty(len(order), dtype=np.int64)
    remap[order] = np.arange(len(order))
    vid = remap[vid]
    first = np.zeros(len(order), dtype=np.int64)
    first[vid[::-1]] = np.arange(lay.n)[::-1]
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
    lay = case_layout(log)
    v = variants_of(log)
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
