"""Journey features: one row per case, for rules (case attributes) and for models (vectors).

Two views of the cases of an :class:`~journeylab.EventLog`:

- :func:`case_attributes` - a readable table, one row per case, whose columns are the
  vocabulary of rule segments (:func:`journeylab.segments.segment_by`).
- :class:`JourneyVectorizer` - a scikit-learn transformer that turns cases into numeric
  features for clustering or prediction (activity counts, TF-IDF of activity n-grams,
  durations, channel mix, milestones reached, conformance cost).

The case-attribute vocabulary
-----------------------------
Every column below is computed per case; names are plain identifiers so they can be used
in a rule as is (``value_sum > 200 and first_channel == 'app'``):

==========================  =================================================================
``n_events``                events in the case
``n_activities``            distinct activities
``start``, ``end``          first and last timestamp
``duration_hours``          ``end - start`` in hours (float); ``duration_days`` in days
``first_activity``          first activity; ``last_activity`` the last one
``first_channel``           first channel (when the log has a channel); ``last_channel``,
                            ``main_channel`` (most events, ties by name), ``n_channels``
``share_<channel>``         share of the case's events on that channel (0..1)
``value_sum``               sum of ``value`` (0 when the case has none); ``value_max`` (NaN)
``count_<activity>``        events of that activity (activity names made identifiers:
                            ``"add to cart"`` -> ``count_add_to_cart``)
``<attribute>``             the first non-missing value of every other column of the log
                            (e.g. ``region``, ``loyalty_member``, ``version``)
==========================  =================================================================

With a journey (``journey=...``), from :func:`journeylab.conformance.compare`:
``in_journey`` (the case has a milestone event), ``conforms`` (its milestone trace is the
happy path), ``conformance_cost`` (optimal alignment cost with the happy path; an
outside case costs the length of the path), ``fitness``, ``last_milestone``,
``milestones_reached`` (distinct happy-path milestones reached), ``reached_<milestone>``
and, when the journey has a goal, ``goal`` (goal event at or after the journey start).

On a log in DuckDB or Spark only (a) the variants and (b) per-case tables come back (engine group-bys,
:mod:`journeylab._kernels.cases`); sequence features are counted per variant; with a journey, (c) the
milestone events are read too. Results equal the in-memory ones.

Examples
--------
>>> import journeylab as jl
>>> from journeylab.features import case_attributes, JourneyVectorizer
>>> log = jl.datasets.load_example()
>>> attrs = case_attributes(log)
>>> row = attrs.loc["3"]
>>> int(row["n_events"]), row["first_activity"], int(row["count_reinitiate_request"])
(9, 'register request', 1)
>>> X = JourneyVectorizer(features=("counts",)).fit_transform(log)
>>> X.shape
(6, 8)
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import _check_feature_names_in, check_is_fitted, validate_data

from ._core.arrays import RowBlocks
from ._core.deprecation import moved_names
from ._core.formatting import cut
from ._core.names import did_you_mean
from ._core.validation import JOURNEY, LOG, Int, IntPair, Optional, checked
from ._kernels.cases import (
    CaseSummary,
    activity_counts,
    case_ids,
    case_summary,
    channel_counts,
    engine_tables,
    first_values,
    milestones_reached,
    value_totals,
    variant_codes,
)
from .conformance import compare
from .exceptions import InvalidParameterError, SchemaError
from .log import EventLog

__all__ = ["case_attributes", "JourneyVectorizer", "sequence_matrix", "FEATURE_GROUPS", "identifier"]

#: Feature groups of :class:`JourneyVectorizer`, in output order.
FEATURE_GROUPS = ("counts", "ngrams", "length", "duration", "channels", "milestones", "conformance")
_LOG_ONLY = ("duration", "channels", "milestones", "conformance")
_NGRAM_RANGE = IntPair(1, 5, names=("min_n", "max_n"), example=(2, 3))
_MAX_NGRAMS = Int(minimum=0, example=200)


# --------------------------------------------------------------------------- helpers


def identifier(name: str) -> str:
    """A plain identifier from any name: runs of other characters become ``_``.

    >>> identifier("add to cart"), identifier("E-mail open!"), identifier("3d view")
    ('add_to_cart', 'E_mail_open', '_3d_view')
    """
    out = re.sub(r"\W+", "_", str(name)).strip("_") or "x"
    return "_" + out if out[0].isdigit() else out


def _unique_names(names: Sequence[str], taken: set[str]) -> list[str]:
    out = []
    for n in names:
        cand, i = n, 2
        while cand in taken:
            cand, i = f"{n}_{i}", i + 1
        taken.add(cand)
        out.append(cand)
    return out


# --------------------------------------------------------------------------- case attributes


@checked(log=LOG, journey=Optional(JOURNEY))
def case_attributes(log, *, journey=None, conformance=None) -> pd.DataFrame:
    """One row per case (indexed by case id, sorted) with the rule vocabulary (module docstring).

    Parameters
    ----------
    log : EventLog
        The cases to describe.
    journey : Journey, optional
        Adds the conformance and milestone columns (and ``goal`` when the journey has one).
    conformance : Conformance, optional
        A :class:`~journeylab.conformance.Conformance` already computed for this log and
        journey (saves recomputing it).

    Returns
    -------
    DataFrame
        Indexed by ``case``; the columns of the module docstring, in that order.

    Examples
    --------
    >>> import journeylab as jl
    >>> a = case_attributes(jl.datasets.load_example())
    >>> a[["n_events", "duration_days"]].round(1).head(2).to_dict("index")
    {'1': {'n_events': 5, 'duration_days': 8.1}, '2': {'n_events': 5, 'duration_days': 9.0}}
    """
    engine_tables(log)  # a lazy log: the engine's per-case tables, with a progress bar
    c = case_summary(log)
    counts = activity_counts(log)
    dur_h = c.duration_hours()
    acts = np.asarray(c.activities, dtype=object)
    out: dict[str, object] = {
        "n_events": c.lengths.astype(np.int64), "n_activities": (counts > 0).sum(axis=1).astype(np.int64),
        "start": c.start.array, "end": c.end.array,
        "duration_hours": dur_h, "duration_days": dur_h / 24.0,
        "first_activity": acts[c.first_codes], "last_activity": acts[c.last_codes]}
    shares = {}
    if log.has_role("channel"):
        ch = channel_counts(log)
        names = np.asarray(ch.names + [None], dtype=object)
        out["first_channel"] = names[np.where(ch.first >= 0, ch.first, len(ch.names))]
        out["last_channel"] = names[np.where(ch.last >= 0, ch.last, len(ch.names))]
        has = ch.counts.sum(axis=1) > 0
        out["main_channel"] = np.where(has, names[np.argmax(ch.counts, axis=1)] if ch.names else None, None)
        out["n_channels"] = (ch.counts > 0).sum(axis=1).astype(np.int64)
        shares = {f"share_{identifier(name)}": ch.counts[:, j] / np.maximum(c.lengths, 1)
                  for j, name in enumerate(ch.names)}
    if log.has_role("value"):
        out["value_sum"], out["value_max"] = value_totals(log)
    table = pd.DataFrame(out, index=c.cases)
    taken = set(table.columns)
    for name, values in shares.items():
        table[_unique_names([name], taken)[0]] = values
    count_names = _unique_names([f"count_{identifier(a)}" for a in c.activities], taken)
    table = pd.concat([table, pd.DataFrame(counts, index=c.cases, columns=count_names)], axis=1)
    attrs = [a for a in log.attributes if a != "_seq"]
    if attrs:
        firsts = first_values(log, attrs)
        firsts.columns = _unique_names([str(a) for a in attrs], set(table.columns))
        table = pd.concat([table, firsts], axis=1)
    if journey is not None:
        table = pd.concat([table, _journey_columns(log, journey, conformance, c, set(table.columns))], axis=1)
    table.index.name = "case"
    return table


def _journey_columns(log, journey, conf, c: CaseSummary, taken: set[str]) -> pd.DataFrame:
    if conf is None:
        conf = compare(log, journey)
    path = journey.happy_path
    cases = conf.cases.reindex(c.cases)
    inside = cases["cost"].notna().to_numpy()
    out = pd.DataFrame(index=c.cases)
    out["in_journey"] = inside
    out["conforms"] = cases["conforms"].fillna(False).astype(bool).to_numpy()
    out["conformance_cost"] = cases["cost"].fillna(len(path)).astype(np.int64).to_numpy()
    out["fitness"] = cases["fitness"].fillna(0.0).astype(float).to_numpy()
    out["last_milestone"] = cases["last_milestone"].astype(object).where(inside, None).to_numpy()
    reached = milestones_reached(log, journey)
    out["milestones_reached"] = reached[list(path)].sum(axis=1).to_numpy() if path else 0
    names = _unique_names([f"reached_{identifier(m)}" for m in reached.columns], taken | set(out.columns))
    for col, name in zip(reached.columns, names):
        out[name] = reached[col].to_numpy()
    if journey.goal is not None:
        goal = cases["goal"].astype("boolean").fillna(False).astype(bool).to_numpy()
        out["goal"] = goal & inside
    return out


# --------------------------------------------------------------------------- sequences as a matrix


@checked(log=LOG, width=Optional(Int(minimum=1, example=10)))
def sequence_matrix(log, *, width: int | None = None) -> np.ndarray:
    """The activity sequences of a log as an object matrix, one row per case (sorted by case id),
    padded on the right with ``None``: the array input of :class:`JourneyVectorizer`.

    Parameters
    ----------
    log : EventLog
        The cases.
    width : int, optional
        Columns of the matrix (default: the longest case); longer cases are cut, shorter ones padded.

    Returns
    -------
    ndarray
        Object array of shape (cases, width).

    Examples
    --------
    >>> import journeylab as jl
    >>> m = sequence_matrix(jl.datasets.load_example(), width=3)
    >>> m.shape, m[0].tolist()
    ((6, 3), ['register request', 'examine thoroughly', 'check ticket'])
    """
    codes, row, v = variant_codes(log)  # one row per variant, then given to its cases (lazy: no event comes back)
    lengths = np.bincount(row, minlength=len(v.counts))
    w = int(lengths.max()) if width is None else width
    pos = np.arange(len(codes)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    per, keep = np.full((len(v.counts), w), None, dtype=object), pos < w
    per[row[keep], pos[keep]] = np.asarray(case_summary(log).activities, dtype=object)[codes[keep]]
    return per[v.vid]


# --------------------------------------------------------------------------- n-grams


def _ngram_ids(codes: np.ndarray, case: np.ndarray, n: int, base: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer ids of the n-grams (within one case, no unknown token) and the case of each."""
    m = len(codes) - n + 1
    if m <= 0:
        return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
    ok = np.ones(m, dtype=bool)
    ids = np.zeros(m, dtype=np.int64)
    for j in range(n):
        cj = codes[j:j + m]
        ok &= (cj >= 0) & (case[j:j + m] == case[:m])
        ids = ids * base + np.maximum(cj, 0)
    return ids[ok], case[:m][ok]


def _ngram_matrices(codes, row, n_rows, ngram_range, base):
    """Per n: (distinct n-gram ids, sparse row x n-gram count matrix)."""
    out = []
    for n in range(ngram_range[0], ngram_range[1] + 1):
        ids, rs = _ngram_ids(codes, row, n, base)
        if not len(ids):
            continue
        inv, uid = pd.factorize(ids, sort=True)
        m = sparse.csr_matrix((np.ones(len(ids)), (rs, inv)), shape=(n_rows, len(uid)))
        out.append((n, np.asarray(uid, dtype=np.int64), m))
    return out


# --------------------------------------------------------------------------- the vectorizer


class JourneyVectorizer(TransformerMixin, BaseEstimator):
    """Turn cases into numeric features (a scikit-learn transformer).

    Input ``X`` is either an :class:`~journeylab.EventLog` (one output row per case, cases
    sorted by id: see :meth:`frame`) or an array of activity sequences, one row per case,
    padded with ``None`` / NaN (:func:`sequence_matrix`). Feature groups (``features``):

    ``"counts"``
        ``log1p`` of the number of events of each activity (vocabulary fitted on ``X``).
    ``"ngrams"``
        TF-IDF of activity n-grams (``ngram_range``; sub-linear term frequency, smoothed
        idf, rows scaled to unit length), keeping the ``max_ngrams`` n-grams found in the
        most cases.
    ``"length"``
        ``log1p`` of the number of events.
    ``"duration"`` (log only)
        ``log1p`` of the case duration in hours.
    ``"channels"`` (log only, when it has a channel)
        share of the case's events on each channel.
    ``"milestones"`` (log only, needs ``journey``)
        1 where the case reached the milestone.
    ``"conformance"`` (log only, needs ``journey``)
        alignment cost with the happy path and fitness (:func:`journeylab.conformance.compare`).

    ``features="auto"`` takes every group the input allows. Activities, n-grams and
    channels unseen at fit time are ignored by :meth:`transform`, so a vectorizer fitted on
    one log applies to another. Sequence features (counts, n-grams) for a log and for its
    :func:`sequence_matrix` are identical.

    Parameters
    ----------
    features : "auto" or a tuple of group names (see :data:`FEATURE_GROUPS`).
    ngram_range : (min_n, max_n) of the TF-IDF n-grams, default (2, 3).
    max_ngrams : keep at most this many n-grams (the most widespread), default 200.
    journey : Journey, for the milestone and conformance groups.

    Examples
    --------
    >>> import journeylab as jl
    >>> log = jl.datasets.load_example()
    >>> vec = JourneyVectorizer(ngram_range=(2, 2)).fit(log)
    >>> vec.get_feature_names_out()[:2].tolist()
    ['count__check ticket', 'count__decide']
    >>> vec.frame(log).shape
    (6, 26)
    >>> JourneyVectorizer(features=("counts",)).fit_transform([["a", "b", "a"], ["b", None, None]]).round(3)
    array([[1.099, 0.693],
           [0.   , 0.693]])
    """

    def __init__(self, *, features="auto", ngram_range=(2, 3), max_ngrams=200, journey=None):
        self.features = features
        self.ngram_range = ngram_range
        self.max_ngrams = max_ngrams
        self.journey = journey

    # ---- sklearn plumbing
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True  # NaN / None pad the sequences
        return tags

    def _check_params(self, is_log: bool) -> tuple[str, ...]:
        _NGRAM_RANGE(self.ngram_range, "ngram_range")
        _MAX_NGRAMS(self.max_ngrams, "max_ngrams")
        feats = self.features
        if isinstance(feats, str) and feats == "auto":
            groups = [g for g in FEATURE_GROUPS if is_log or g not in _LOG_ONLY]
            if self.journey is None:
                groups = [g for g in groups if g not in ("milestones", "conformance")]
            return tuple(groups)
        if isinstance(feats, str):
            feats = (feats,)
        try:
            feats = tuple(feats)
        except TypeError:
            feats = (feats,)
        bad = [f for f in feats if f not in FEATURE_GROUPS]
        if bad or not feats:
            hint = did_you_mean(str(bad[0]), FEATURE_GROUPS) if bad else ""
            raise InvalidParameterError(f"features={cut(self.features)}: unknown group(s) {cut(bad)}. Allowed: 'auto' "
                                        f"or a tuple of {list(FEATURE_GROUPS)}.{hint}")
        if not is_log:
            need = [f for f in feats if f in _LOG_ONLY]
            if need:
                raise InvalidParameterError(f"features {need} need timestamps or channels: pass an EventLog, not an "
                                            "array of sequences (or drop them from features=...).")
        if any(f in ("milestones", "conformance") for f in feats) and self.journey is None:
            raise InvalidParameterError("features 'milestones' and 'conformance' need a journey: pass "
                                        "JourneyVectorizer(journey=...).")
        return tuple(g for g in FEATURE_GROUPS if g in feats)

    @staticmethod
    def _is_log(X) -> bool:
        return isinstance(X, EventLog)

    # ---- reading the input
    def _log_codes(self, log, fitting: bool):
        """Sequence rows of a log are its variants (weights: their cases), expanded to cases at the end."""
        c = case_summary(log)
        codes, row, v = variant_codes(log)
        counts, vid = v.counts, v.vid
        if fitting:
            self.vocabulary_ = tuple(c.activities)
        else:
            remap = pd.Index(self.vocabulary_).get_indexer(list(c.activities))
            codes = remap[codes] if len(codes) else codes
        return codes, row, len(counts), c, counts.astype(float), vid

    def _matrix_codes(self, X, fitting: bool):
        X = validate_data(self, X, dtype=None, ensure_all_finite="allow-nan", reset=fitting)
        n, w = X.shape
        flat = X.ravel()
        if X.dtype.kind in "fc":
            pad = np.isnan(flat)
            values = flat[~pad]
            tokens = np.array([repr(float(v)) for v in values], dtype=object) if len(values) else values.astype(object)
        elif X.dtype.kind in "iub":
            pad = np.zeros(len(flat), dtype=bool)
            tokens = np.array([str(v) for v in flat.tolist()], dtype=object)
        else:
            pad = np.array([v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and v == "")
                            for v in flat], dtype=bool)
            tokens = np.array([str(v) for v in flat[~pad]], dtype=object)
        case = np.repeat(np.arange(n, dtype=np.int64), w)[~pad]
        if fitting:
            vc = pd.Series(tokens, dtype=object).value_counts(sort=False)
            order = sorted(vc.index, key=lambda t: (-vc[t], t))
            self.vocabulary_ = tuple(order)
        codes = pd.Index(self.vocabulary_, dtype=object).get_indexer(tokens).astype(np.int64) if len(tokens) \
            else np.array([], dtype=np.int64)
        return codes, case, n, None, np.ones(n), None

    # ---- fit / transform
    def fit(self, X, y=None):
        """Learn the vocabularies (activities, n-grams and their idf, channels) from ``X``."""
        is_log = self._is_log(X)
        groups = self._check_params(is_log)
        if is_log:
            codes, row, n_rows, c, weights, _ = self._log_codes(X, fitting=True)
            if hasattr(self, "n_features_in_"):
                del self.n_features_in_
        else:
            codes, row, n_rows, c, weights, _ = self._matrix_codes(X, fitting=True)
        n = float(weights.sum())
        self.input_ = "log" if is_log else "sequences"
        self.groups_ = groups
        base = len(self.vocabulary_) + 1
        self._base = base
        self.ngrams_ = ()
        self.idf_ = np.zeros(0)
        self._ngram_keys = np.array([], dtype=np.int64)
        if "ngrams" in groups:
            ids_all, df_all = [], []
            for nn, uid, m in _ngram_matrices(codes, row, n_rows, tuple(self.ngram_range), base):
                rows_of_nnz = np.repeat(np.arange(n_rows), np.diff(m.indptr))
                ids_all.append(uid * 8 + nn)  # tag the order so (n, id) is unique
                df_all.append(np.bincount(m.indices, weights=weights[rows_of_nnz], minlength=len(uid)))
            if ids_all:
                tagged = np.concatenate(ids_all)
                dfs = np.concatenate(df_all)
                order = np.lexsort((tagged, -dfs))[: int(self.max_ngrams)]
                keep = np.sort(tagged[order])
                dfk = dfs[np.searchsorted(tagged, keep)] if np.all(np.diff(tagged) > 0) else \
                    pd.Series(dfs, index=tagged).loc[keep].to_numpy()
                self.ngrams_ = tuple(self._decode(t) for t in keep)
                self._ngram_keys = keep
                self.idf_ = np.log((1.0 + n) / (1.0 + dfk)) + 1.0
        if is_log:
            self.channels_ = tuple(sorted(channel_counts(X).names)) if X.has_role("channel") else ()
            if "channels" in groups and not self.channels_:
                if self.features != "auto":
                    raise SchemaError("features 'channels' needs a log with a channel column; build the log with "
                                      "channel=... or drop 'channels' from features=...")
                self.groups_ = tuple(g for g in self.groups_ if g != "channels")
        else:
            self.channels_ = ()
        self.feature_names_ = np.asarray(self._names(), dtype=object)
        return self

    def _decode(self, tagged: int) -> tuple[str, ...]:
        nn = int(tagged % 8)
        gid = int(tagged // 8)
        base = self._base
        out = []
        for _ in range(nn):
            out.append(self.vocabulary_[gid % base])
            gid //= base
        return tuple(reversed(out))

    def _names(self) -> list[str]:
        names: list[str] = []
        for g in self.groups_:
            if g == "counts":
                names += [f"count__{a}" for a in self.vocabulary_]
            elif g == "ngrams":
                names += ["ngram__" + " > ".join(t) for t in self.ngrams_]
            elif g == "length":
                names.append("length__log_events")
            elif g == "duration":
                names.append("duration__log_hours")
            elif g == "channels":
                names += [f"channel__{ch}" for ch in self.channels_]
            elif g == "milestones":
                names += [f"milestone__{m.name}" for m in self.journey.milestones]
            elif g == "conformance":
                names += ["conformance__cost", "conformance__fitness"]
        return names

    def transform(self, X) -> np.ndarray:
        """Features of the cases of ``X`` (a dense float64 array, one row per case)."""
        return self._transform(X, np.float64)

    def _transform(self, X, dtype) -> np.ndarray:
        return self._rows(X).matrix(dtype)

    def _rows(self, X) -> RowBlocks:
        """The feature matrix of ``X`` as row blocks: the sequence groups per variant (expanded to cases when
        a block is made), the other groups per case."""
        check_is_fitted(self, "groups_")
        is_log = self._is_log(X)
        if is_log != (self.input_ == "log"):
            fitted = "an EventLog" if self.input_ == "log" else "an array of sequences"
            given = "an EventLog" if is_log else "an array"
            raise InvalidParameterError(f"this JourneyVectorizer was fitted on {fitted} but transform() got {given}; "
                                        "fit and transform the same kind of input.")
        if is_log:
            codes, row, n_rows, c, _, expand = self._log_codes(X, fitting=False)
            n = c.n
        else:
            codes, row, n_rows, c, _, expand = self._matrix_codes(X, fitting=False)
            n = n_rows
        A = len(self.vocabulary_)
        parts = []
        for g in self.groups_:
            if g == "counts":
                ok = codes >= 0
                cnt = np.bincount(row[ok] * A + codes[ok], minlength=n_rows * A).reshape(n_rows, A) if A \
                    else np.zeros((n_rows, 0))
                parts.append((np.log1p(cnt.astype(float)), expand))
            elif g == "ngrams":
                parts.append((self._tfidf(codes, row, n_rows), expand))
            elif g == "length":
                parts.append((np.log1p(np.bincount(row, minlength=n_rows).astype(float))[:, None], expand))
            elif g == "duration":
                parts.append((np.log1p(np.maximum(c.duration_hours(), 0.0))[:, None], None))
            elif g == "channels":
                parts.append((self._channels(X, c), None))
            elif g == "milestones":
                parts.append((milestones_reached(X, self.journey).to_numpy(dtype=float), None))
            elif g == "conformance":
                j = _journey_columns(X, self.journey, None, c, set())
                parts.append((j[["conformance_cost", "fitness"]].to_numpy(dtype=float), None))
        return RowBlocks(n, parts)

    def _tfidf(self, codes, row, n_rows):
        keys = self._ngram_keys
        if not len(keys):
            return np.zeros((n_rows, 0))
        rows, cols = [], []
        for nn, uid, m in _ngram_matrices(codes, row, n_rows, tuple(self.ngram_range), self._base):
            tagged = uid * 8 + nn
            pos = np.minimum(np.searchsorted(keys, tagged), len(keys) - 1)
            hit = keys[pos] == tagged
            m = m.tocoo()
            sel = hit[m.col]
            rows.append(np.repeat(m.row[sel], m.data[sel].astype(np.int64)))
            cols.append(np.repeat(pos[m.col[sel]], m.data[sel].astype(np.int64)))
        r = np.concatenate(rows) if rows else np.array([], dtype=np.int64)
        cc = np.concatenate(cols) if cols else np.array([], dtype=np.int64)
        tf = sparse.csr_matrix((np.ones(len(r)), (r, cc)), shape=(n_rows, len(keys)))
        tf.data = (1.0 + np.log(tf.data)) * self.idf_[tf.indices]
        rows_of_nnz = np.repeat(np.arange(n_rows), np.diff(tf.indptr))
        norm = np.sqrt(np.bincount(rows_of_nnz, weights=tf.data ** 2, minlength=n_rows))
        tf.data /= norm[rows_of_nnz]
        return tf  # sparse: _fill makes it dense a chunk of cases at a time

    def _channels(self, log, c: CaseSummary) -> np.ndarray:
        """Per case, the share of its events on each fitted channel (channels the fit did not see are left out)."""
        out = np.zeros((c.n, len(self.channels_)))
        if not log.has_role("channel") or not self.channels_:
            return out
        ch = channel_counts(log)
        at = pd.Index(self.channels_).get_indexer(ch.names)
        out[:, at[at >= 0]] = ch.counts[:, at >= 0]
        return out / np.maximum(c.lengths, 1)[:, None]

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Names of the output columns: ``<group>__<name>`` (e.g. ``count__search``, ``ngram__a > b``)."""
        check_is_fitted(self, "groups_")
        if self.input_ == "sequences":
            _check_feature_names_in(self, input_features)
        return self.feature_names_.copy()

    def frame(self, log) -> pd.DataFrame:
        """:meth:`transform` of a log as a DataFrame indexed by case, with the feature names as columns.

        >>> import journeylab as jl
        >>> JourneyVectorizer(features=("length",)).fit(jl.datasets.load_example()).frame(
        ...     jl.datasets.load_example()).index[:3].tolist()
        ['1', '2', '3']
        """
        check_is_fitted(self, "groups_")
        if not self._is_log(log):
            raise InvalidParameterError("frame() takes an EventLog (its rows are indexed by case id); for an array "
                                        "use transform().")
        return pd.DataFrame(self.transform(log), index=case_ids(log), columns=list(self.feature_names_))


def _case_attributes_duration(c) -> np.ndarray:
    """Case durations in hours (deprecated: ``CaseLayout.duration_hours``)."""
    return np.maximum(c.duration_hours(), 0.0)


#: Public names this module no longer has, kept for one release (with a DeprecationWarning).
__getattr__ = moved_names(__name__, {"case_attributes_duration": (
    _case_attributes_duration, "journeylab._kernels.cases.CaseLayout.duration_hours")})
