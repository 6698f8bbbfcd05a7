"""The per-case candidate matrix of :func:`~journeylab.drivers`: for every case, which activities it did,
which directly-follows transitions it made, which channels it used, which attribute values it had and
which deviation types (at which milestone) its milestone sequence shows - optionally only before the
case first reached a milestone (``at``).

- Activities and transitions are read from the variants (:func:`~._kernels.cases.variant_codes`): one
  indicator row per variant, given to its cases. With ``at`` each variant is cut at its first event of
  the milestone's activities (the events before it count, that event and the later ones do not).
- Deviations: each variant's milestone sequence (runs of one milestone are one visit, as
  :func:`~journeylab.compare` does with ``collapse=True``), cut the same way, aligned with the happy
  path by the one alignment kernel (:func:`~._kernels.alignment.align_batch`); a candidate is a
  deviation type at a milestone (``skipped: cart``).
- Channels and attributes: without ``at`` from :func:`~._kernels.cases.case_facts` (per-case channel
  counts, the first non-missing value of each attribute); with ``at`` from the events before the
  case's first event of the milestone (by the event order ``_seq``).

Where it runs
-------------
On a lazy log (DuckDB, Spark) the variants and the per-case facts come from their kernels (one row per
case or per variant back); with ``at`` one more group-by by case runs in the engine (the first ``_seq``
of the milestone's activities per case, joined to the events; the channels used and the attributes'
first values before it) and sends back one row per case. No event table comes back.

>>> import journeylab as jl
>>> s = jl.datasets.make_journeys(60, random_state=3)
>>> ind = candidate_matrix(s.log, s.journey, ("activities", "channels"))
>>> ind.matrix.shape == (60, len(ind.labels)), ind.keys[0][0]
(True, 'activities')
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from .._core.backend import execute
from .._core.vocabulary import DEVIATION_TYPES
from .alignment import align_batch
from .case_engine import CH, channel_names, engine_dtype
from .cases import activity_names, case_facts, case_ids, first_values, variant_codes
from .events import distinct_values, events

__all__ = ["Indicators", "candidate_matrix", "activity_milestones", "categorical_attributes", "KINDS", "MAX_VALUES"]

#: The kinds of candidates, in the order of the matrix's columns.
KINDS = ("activities", "transitions", "channels", "attributes", "deviations")
#: An attribute is a candidate when it has 2 .. MAX_VALUES distinct values over the events (not ids, not amounts).
MAX_VALUES = 20
#: An attribute's code and the ``_seq`` of its event packed in one integer (``_seq * _PACK + code``).
_PACK = 32


class Indicators(NamedTuple):
    """The candidate matrix: ``matrix[i, j]`` is True when case ``cases[i]`` shows candidate ``j``."""

    cases: pd.Index
    #: per candidate: (kind, what) - an activity name, an (a, b) pair, a channel, a (column, value) pair,
    #: a (deviation type, milestone) pair
    keys: list
    #: per candidate: its label (``"checkout"``, ``"cart → checkout"``, ``"channel = web"``,
    #: ``"region = north"``, ``"skipped: cart"``)
    labels: list
    matrix: np.ndarray
    #: with ``at``: per case, whether it reached the milestone (it was cut there); else None
    reached: np.ndarray | None = None


def activity_milestones(log, journey) -> np.ndarray:
    """Per activity code of ``log`` (:func:`activity_names`), the code of its milestone (-1: none), for a
    journey whose milestones are defined by activities only."""
    names = activity_names(log)
    one = pd.DataFrame({"case": "", "activity": list(names), "timestamp": pd.NaT})
    return journey.milestone_of(one).cat.codes.to_numpy().astype(np.int64) if len(names) else np.zeros(0, np.int64)


def candidate_matrix(log, journey, kinds, *, at: str | None = None) -> Indicators:
    """The candidate matrix of ``log`` for the candidate ``kinds`` (see the module docstring); ``at`` the
    name of a milestone of ``journey`` defined by activities only (checked by the caller)."""
    cases = case_ids(log)
    codes, row, v = variant_codes(log)
    names = activity_names(log)
    n_var = len(v.counts)
    lengths = np.bincount(row, minlength=n_var) if len(row) else np.zeros(n_var, dtype=np.int64)
    pos = np.arange(len(codes)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    keep = np.ones(len(codes), dtype=bool)
    reached = None
    at_acts: list[str] = []
    if at is not None:
        m = next(ms for ms in journey.milestones if ms.name == at)
        at_acts = list(m.activities)
        cut_code = np.isin(codes, [i for i, a in enumerate(names) if a in set(at_acts)])
        first = np.full(n_var, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first, row[cut_code], pos[cut_code])
        keep = pos < first[row]
        reached = (first < np.iinfo(np.int64).max)[v.vid]
    blocks: list[tuple[list, list, np.ndarray]] = []
    before = {}  # with at: the channels and attribute values before the milestone, in one pass
    for kind in KINDS:
        if kind not in kinds:
            continue
        if kind == "activities":
            per = np.zeros((n_var, len(names)), dtype=bool)
            per[row[keep], codes[keep]] = True
            used = np.flatnonzero(per.any(axis=0))
            blocks.append(([("activities", names[j]) for j in used], [names[j] for j in used], per[:, used][v.vid]))
        elif kind == "transitions":
            ok = (row[1:] == row[:-1]) & keep[1:] if len(codes) > 1 else np.zeros(0, dtype=bool)
            pair = codes[:-1][ok] * len(names) + codes[1:][ok] if len(codes) > 1 else np.zeros(0, np.int64)
            uniq, inv = np.unique(pair, return_inverse=True)
            per = np.zeros((n_var, len(uniq)), dtype=bool)
            per[row[:-1][ok], inv] = True
            pairs = [(names[p // len(names)], names[p % len(names)]) for p in uniq.tolist()]
            blocks.append(([("transitions", p) for p in pairs], [f"{a} → {b}" for a, b in pairs], per[v.vid]))
        elif kind == "deviations":
            blocks.append(_deviations(log, journey, codes, row, keep, n_var, v.vid))
        elif kind in ("channels", "attributes"):
            blocks.append(_case_values(log, kind, cases, at_acts if at is not None else None, kinds, before))
    keys = [k for b in blocks for k in b[0]]
    labels = [lab for b in blocks for lab in b[1]]
    matrix = np.concatenate([b[2] for b in blocks], axis=1) if blocks else np.zeros((len(cases), 0), dtype=bool)
    return Indicators(cases, keys, labels, matrix, reached)


def _deviations(log, journey, codes, row, keep, n_var, vid):
    """Deviation type x milestone per case: the cut milestone sequence of each variant, aligned."""
    ms = [m.name for m in journey.milestones]
    of = activity_milestones(log, journey)
    mc = of[codes] if len(codes) else codes
    sel = keep & (mc >= 0)
    r, c = row[sel], mc[sel]
    new = np.r_[True, (r[1:] != r[:-1]) | (c[1:] != c[:-1])] if len(r) else np.zeros(0, dtype=bool)
    r, c = r[new], c[new]
    bounds = np.searchsorted(r, np.arange(n_var + 1))
    seqs = [tuple(c[bounds[k]:bounds[k + 1]].tolist()) for k in range(n_var)]
    uniq: dict[tuple, int] = {}
    sid = np.array([uniq.setdefault(s, len(uniq)) for s in seqs], dtype=np.int64)
    traces = list(uniq)
    path = tuple(ms.index(p) for p in journey.happy_path)
    has = np.array([len(t) > 0 for t in traces], dtype=bool)  # a case with no milestone event is outside
    batch = align_batch(traces, path, len(ms))
    col = batch.type * len(ms) + batch.milestone
    ucol, inv = np.unique(col, return_inverse=True)
    per = np.zeros((len(traces), len(ucol)), dtype=bool)
    per[batch.var, inv] = True
    per &= has[:, None]
    keys = [("deviations", (DEVIATION_TYPES[k // len(ms)], ms[k % len(ms)])) for k in ucol.tolist()]
    return keys, [f"{t}: {m}" for _, (t, m) in keys], per[sid[vid]]


def _case_values(log, kind: str, cases: pd.Index, at_acts, kinds=(), before=None):
    """Channels used / attribute values per case (all events, or those before the milestone); ``before``
    keeps the one pass over the events for both kinds."""
    if "both" not in before:
        before["both"] = _values(log, cases, at_acts, kinds)
    chans, used, chosen, full, firsts = before["both"]
    if kind == "channels":
        return [("channels", c) for c in chans], [f"channel = {c}" for c in chans], used
    keys, labels, cols = [], [], []
    for a in chosen:
        ref = full[a]
        values = sorted(pd.unique(ref.dropna()).tolist(), key=str)
        if len(values) == 2 and not ref.isna().any():
            values = values[1:]  # two values and no missing: one candidate, the other is its complement
        col = firsts[a].astype(object)
        for val in values:
            keys.append(("attributes", (a, val)))
            labels.append(f"{a} = {val}")
            cols.append((col == val).fillna(False).to_numpy(dtype=bool))
    matrix = np.column_stack(cols) if cols else np.zeros((len(cases), 0), dtype=bool)
    return keys, labels, matrix


def categorical_attributes(log) -> list[str]:
    """The attributes that describe groups of cases: text, bool or whole numbers with 2 .. MAX_VALUES
    distinct values over the events, fewer than half the cases (not ids, not amounts, not measures).
    Decided from the column types and the distinct counts (counted in the engine for a lazy log), without
    reading any per-case value.

    >>> import journeylab as jl
    >>> categorical_attributes(jl.datasets.make_journeys(200, random_state=1).log)[:3]
    ['campaign', 'version', 'nps']
    """
    out = []
    types = log.table.schema() if log.is_lazy else None
    frame = None if log.is_lazy else log._frame()
    for a in log.attributes:
        if a == "_seq":
            continue
        floating = types[a].is_floating() if types is not None else pd.api.types.is_float_dtype(frame[a].dtype)
        if floating:
            continue
        n = distinct_values(log, a)
        if 2 <= n <= MAX_VALUES and n < max(log.n_cases / 2, 3):
            out.append(a)
    return out


def _values(log, cases: pd.Index, at_acts, kinds):
    """(channels, channels used per case, the attributes chosen, their first values per case over all the
    events, their first values before the milestone) - before ``at_acts``' first event of the case when
    given, else the same as over all the events.

    Before the milestone is read from over all the events: the first non-missing value before the cut is the
    first one overall when that came before the cut, else there is none; a channel was used before the cut
    when its first event came before it. On a lazy log that is one engine group-by by case
    (:func:`_values_engine`), one narrow row per case back - no join."""
    chans = []
    want = "channels" in kinds and log.has_role("channel")
    chosen = categorical_attributes(log) if "attributes" in kinds else []
    empty = np.zeros((len(cases), 0), dtype=bool)
    if log.is_lazy:  # not the per-case facts: a group-by of its own, with only what is needed
        chans = channel_names(log) if want else []
        return (chans, *_values_engine(log, cases, at_acts, chans, chosen))
    if want:
        facts = case_facts(log, attributes=False)
        chans = list(facts.attrs["channels"])
    if at_acts is None:  # everything counts: the per-case facts
        used = (facts[[f"{CH}{j}" for j in range(len(chans))]].to_numpy() > 0) if chans else empty
        full = first_values(log, chosen) if chosen else pd.DataFrame(index=cases)
        full = full.reindex(cases)
        return chans, used, chosen, full, full
    full = (first_values(log, chosen) if chosen else pd.DataFrame(index=cases)).reindex(cases)
    used, firsts = _before(log, cases, at_acts, chans, chosen)
    return chans, used, chosen, full, firsts


def _values_engine(log, cases: pd.Index, at_acts, chans, chosen):
    """A lazy log (``at_acts`` None: no milestone, everything counts): (channels used, the attributes, their
    first values over all the events, before the milestone) per case, from one group-by by case.

    Every aggregate is an integer minimum: the cut is the least ``_seq`` of the milestone's events; a
    channel's first use is the least ``_seq`` of its events; an attribute, which has at most
    :data:`MAX_VALUES` values (they come once, from one collect-distinct query for all), is the least
    ``_seq * 32 + code`` of its non-missing events - the code of its first value and that event's ``_seq``
    in one number. (At 14M events and 2M cases the engine's hash table of this group-by is most of the
    process peak, about 7 GB, whether arg-mins of the codes or these minimums; the Python side is small.) What
    comes back is a small code and a "before the cut" flag per attribute and a flag per channel."""
    import ibis

    t = log.table
    cut = t._seq.min(where=t.activity.isin(list(at_acts))) if at_acts is not None else ibis.null("int64")
    aggs = {"_cut": cut}
    for k, c in enumerate(chans):
        aggs[f"_c{k}"] = t._seq.min(where=t.channel == c)
    levels = []
    if chosen:  # the values of every chosen attribute (at most MAX_VALUES each) in one scan
        got = execute(t.aggregate(**{f"_v{k}": t[a].collect(distinct=True) for k, a in enumerate(chosen)}))
        for k, a in enumerate(chosen):
            vals = pd.Series(list(got[f"_v{k}"].iloc[0]), dtype=object)
            levels.append(engine_dtype(vals, t[a].type()).tolist())
    for k, a in enumerate(chosen):
        vals = levels[k]
        code = ibis.cases(*[(t[a] == v, i) for i, v in enumerate(vals)], else_=ibis.null()).cast("int64")
        aggs[f"_k{k}"] = (t._seq.cast("int64") * _PACK + code).min(where=t[a].notnull())
    if len(aggs) == 1:
        return np.zeros((len(cases), 0), dtype=bool), chosen, pd.DataFrame(index=cases), pd.DataFrame(index=cases)
    g = t.group_by(t.case).aggregate(**aggs)
    before = lambda first: ibis.coalesce(first < g._cut, first.notnull())  # noqa: E731
    out = {"case": g.case}
    out.update({f"_c{k}": before(g[f"_c{k}"]) for k in range(len(chans))})
    for k in range(len(chosen)):
        key = g[f"_k{k}"]
        out[f"_a{k}"] = (key % _PACK).cast("int8")
        out[f"_b{k}"] = before(key // _PACK)
    raw = execute(g.select(**out))
    raw.index = pd.Index(raw["case"].astype(str), name="case")
    raw = raw.reindex(cases)
    flag = lambda col: raw[col].fillna(False).to_numpy(dtype=bool)  # noqa: E731
    used = np.column_stack([flag(f"_c{k}") for k in range(len(chans))]) if chans else \
        np.zeros((len(cases), 0), dtype=bool)
    full, firsts = pd.DataFrame(index=cases), pd.DataFrame(index=cases)
    for k, a in enumerate(chosen):
        codes = raw[f"_a{k}"].to_numpy(dtype=float, na_value=np.nan)
        ok = ~np.isnan(codes)
        lv = pd.array(levels[k]) if len(levels[k]) else pd.array([], dtype=object)
        col = pd.Series(pd.array([None] * len(cases), dtype=lv.dtype), index=cases)
        col[ok] = lv[codes[ok].astype(np.int64)]
        full[a] = col
        firsts[a] = col.where(flag(f"_b{k}"))
    return used, chosen, full, firsts


def _before(log, cases: pd.Index, at_acts, chans, attrs):
    """A log in memory: (channels used, first attribute values) per case among its events before its first
    event of ``at_acts`` (all its events when it has none), by ``_seq``."""
    cols = (["channel"] if chans else []) + list(attrs)
    ev = events(log, cols)
    is_hit = ev["activity"].isin(list(at_acts)).to_numpy()
    seq = ev["_seq"].to_numpy()
    rows = cases.get_indexer(ev["case"].astype(str))
    cut = np.full(len(cases), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(cut, rows[is_hit], seq[is_hit])
    ev = ev[seq < cut[rows]]
    rows = cases.get_indexer(ev["case"].astype(str))
    used = np.zeros((len(cases), len(chans)), dtype=bool)
    if chans:
        ch = pd.Index(chans).get_indexer(ev["channel"].astype(object))
        used[rows[ch >= 0], ch[ch >= 0]] = True
    firsts = pd.DataFrame(index=cases)
    for a in attrs:  # events are in case, then time order: the first non-missing value per case
        vals = ev[a]
        ok = vals.notna().to_numpy()
        first = pd.Series(vals[ok].to_numpy(dtype=object), index=rows[ok]).groupby(level=0).first()
        firsts[a] = pd.Series(first.to_numpy(dtype=object), index=cases[first.index.to_numpy()]).reindex(cases)
    return used, firsts
