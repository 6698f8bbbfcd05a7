"""Customer segments: from rules, or discovered by clustering, with profiles, maps and tests.

A **segment** is a group of similar customers (DOMAIN.md). journeylab makes segments two
ways and returns the same :class:`Segmentation` from both:

- :func:`segment_by` - named **rules** on case attributes and behaviour, e.g.
  ``{"app_first": "first_channel == 'app'", "high_value": "value_sum > 200"}``. The
  vocabulary of a rule is :func:`case_attributes` (see :mod:`journeylab.features`);
  conditions are read by journeylab's own safe parser (:mod:`journeylab.conditions`).
- :func:`cluster_journeys` - segments **discovered** from behaviour (:mod:`journeylab.clustering`).

A Segmentation tells who is in which segment (``labels``, ``membership``), describes each
segment (:meth:`Segmentation.profile`: typical journey, distinguishing activities and
transitions, conversion, conformance, duration, channel mix, survey KPIs), draws them
(:meth:`Segmentation.plot`, :meth:`Segmentation.process_map`) and places the cases of
another log (:meth:`Segmentation.predict`). :func:`compare_segments` tests the
differences between segments.

Examples
--------
>>> import journeylab as jl
>>> sample = jl.datasets.make_journeys(500, random_state=2)
>>> seg = segment_by(sample.log, {"app_first": "first_channel == 'app'", "big": "value_sum > 200"})
>>> seg.segments
('app_first', 'big', 'other')
>>> bool(seg.sizes.loc["app_first", "cases"] == (case_attributes(sample.log)["first_channel"] == "app").sum())
True
"""

from __future__ import annotations

import html
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._util import closest
from .clustering import END, cluster_journeys
from .conditions import Condition, parse_conditions
from .exceptions import InvalidParameterError, JourneyDefinitionError, SchemaError
from .features import JourneyVectorizer, _cases, _check_log, case_attributes

__all__ = ["segment_by", "attribute_segmentation", "cluster_journeys", "compare_segments", "Segmentation", "case_attributes",
           "JourneyVectorizer", "SegmentComparison", "report_section"]

_SURVEY = ("nps", "csat", "ces")


# --------------------------------------------------------------------------- rules


def _rule_conditions(name: str, rule) -> tuple[Condition, ...]:
    where = f"segment {name!r}"
    items = [rule] if isinstance(rule, (str, Condition)) else rule
    if isinstance(items, Mapping) or not hasattr(items, "__iter__"):
        raise InvalidParameterError(f"{where}: the rule must be text such as \"value_sum > 200\" (or a list of such "
                                    f"conditions), got {rule!r}.")
    out: list[Condition] = []
    for item in items:
        if isinstance(item, Condition):
            out.append(item)
            continue
        try:
            out.extend(parse_conditions(item, where=where))
        except JourneyDefinitionError as err:
            raise InvalidParameterError(str(err)) from None
    if not out:
        raise InvalidParameterError(f"{where}: the rule is empty; give a condition such as \"value_sum > 200\".")
    return tuple(out)


def _check_columns(name: str, conds, table: pd.DataFrame) -> None:
    cols = [str(c) for c in table.columns]
    for cond in conds:
        if cond.column in table.columns:
            continue
        hits = closest(cond.column, cols)
        near = f" Closest: {', '.join(repr(h) for h in hits)}." if hits else ""
        plain = [c for c in cols if not c.startswith(("count_", "share_", "reached_"))]
        groups = [f"{p}<{w}> ({sum(c.startswith(p) for c in cols)} columns)"
                  for p, w in (("count_", "activity"), ("share_", "channel"), ("reached_", "milestone"))
                  if any(c.startswith(p) for c in cols)]
        raise InvalidParameterError(
            f"segment {name!r}: rule '{cond}' names the column {cond.column!r}, which is not a case attribute.{near} "
            f"Available: {plain + groups}. Fix the name in the rule; jl.segments.case_attributes(log) shows every "
            f"column with its values.")


def _evaluate(name: str, conds, table: pd.DataFrame) -> np.ndarray:
    mask = np.ones(len(table), dtype=bool)
    for cond in conds:
        try:
            mask &= cond.matches(table).to_numpy()
        except JourneyDefinitionError as err:
            msg = str(err).replace("the events have", "the case attributes have")
            raise InvalidParameterError(f"segment {name!r}: {msg}") from None
    return mask


def segment_by(log, rules: Mapping, *, exclusive: bool = False, journey=None, attributes: pd.DataFrame | None = None,
               other: str = "other") -> Segmentation:
    """Segments from named rules on case attributes and behaviour.

    Parameters
    ----------
    log : EventLog.
    rules : mapping segment name -> condition text (or a list of conditions, joined by
        ``and``), e.g. ``{"app_first": "first_channel == 'app'", "high_value": "value_sum > 200"}``.
        The columns are the case attributes of :func:`case_attributes`
        (``n_events``, ``duration_days``, ``first_channel``, ``value_sum``, ``count_<activity>``,
        the first value of every attribute of the log; with a journey also ``goal``,
        ``conforms``, ``conformance_cost``, ``milestones_reached``, ...). Operators:
        ``==, !=, >, >=, <, <=, in, not in``; no ``or``, nothing is evaluated as code.
    exclusive : False (default): segments may overlap (a case is in every segment whose
        rule it meets); True: the first matching rule wins. In both cases, cases that meet
        no rule are in the segment named ``other`` (when there are any), so every case has
        a segment. ``labels`` always gives the first match.
    journey : Journey, optional: adds the journey columns to the vocabulary and the
        conversion and conformance figures to the profiles.
    attributes : DataFrame indexed by case id with more per-case columns (e.g. from a CRM),
        joined to the vocabulary.
    other : name of the segment of the cases that meet no rule.

    Examples
    --------
    >>> import journeylab as jl
    >>> log = jl.datasets.load_example()
    >>> seg = segment_by(log, {"long": "n_events >= 9", "rejected": "count_reject_request > 0"}, exclusive=True)
    >>> seg.labels.to_dict()
    {'1': 'rejected', '2': 'other', '3': 'long', '4': 'rejected', '5': 'long', '6': 'other'}
    >>> segment_by(log, {"x": "n_event > 3"})
    Traceback (most recent call last):
    ...
    journeylab.exceptions.InvalidParameterError: segment 'x': rule 'n_event > 3' names the column 'n_event', which is not a case attribute. Closest: 'n_events'...
    """
    _check_log(log)
    if not isinstance(rules, Mapping) or not rules:
        raise InvalidParameterError(f"rules must be a non-empty mapping of segment name -> condition, e.g. "
                                    f"{{'app_first': \"first_channel == 'app'\"}}; got {rules!r}.")
    if not isinstance(exclusive, (bool, np.bool_)):
        raise InvalidParameterError(f"exclusive={exclusive!r} must be True or False.")
    if not isinstance(other, str) or not other:
        raise InvalidParameterError(f"other={other!r} must be a non-empty segment name, e.g. 'other'.")
    names = []
    for name in rules:
        if not isinstance(name, str) or not name.strip():
            raise InvalidParameterError(f"segment names must be non-empty text; got {name!r}.")
        if name == other:
            raise InvalidParameterError(f"segment name {name!r} is the name of the segment of the remaining cases; "
                                        f"rename the rule or pass other=... with another name.")
        names.append(name)
    parsed = {name: _rule_conditions(name, rule) for name, rule in rules.items()}
    table = _attribute_table(log, journey, attributes)
    for name, conds in parsed.items():
        _check_columns(name, conds, table)
    return _apply_rules(log, parsed, table, exclusive=bool(exclusive), journey=journey, other=other,
                        extra=attributes)


def _attribute_table(log, journey, attributes) -> pd.DataFrame:
    table = case_attributes(log, journey=journey)
    if attributes is None:
        return table
    if not isinstance(attributes, pd.DataFrame):
        raise InvalidParameterError(f"attributes must be a DataFrame indexed by case id, got "
                                    f"{type(attributes).__name__}.")
    clash = [c for c in attributes.columns if c in table.columns]
    if clash:
        raise InvalidParameterError(f"attributes has column(s) {clash} that are already case attributes; rename them.")
    idx = attributes.index.astype(str)
    if idx.has_duplicates:
        raise InvalidParameterError("attributes has duplicate case ids in its index; give one row per case.")
    extra = attributes.copy()
    extra.index = idx
    return table.join(extra, how="left")


def _apply_rules(log, parsed, table, *, exclusive, journey, other, extra) -> Segmentation:
    n = len(table)
    hits = np.column_stack([_evaluate(name, conds, table) for name, conds in parsed.items()]) if parsed else \
        np.zeros((n, 0), dtype=bool)
    names = list(parsed)
    any_hit = hits.any(axis=1)
    first = np.where(any_hit, hits.argmax(axis=1), len(names))
    segments = names + ([other] if (~any_hit).any() else [])
    labels = pd.Series(pd.Categorical.from_codes(first, categories=segments), index=table.index, name="segment")
    if exclusive:
        member = np.zeros((n, len(segments)), dtype=bool)
        member[np.arange(n), first] = True
    else:
        member = np.column_stack([hits, ~any_hit]) if len(segments) > len(names) else hits
    membership = pd.DataFrame(member, index=table.index, columns=segments)
    rules_text = {name: " and ".join(str(c) for c in conds) for name, conds in parsed.items()}
    params = {"rules": rules_text, "exclusive": exclusive, "journey": None if journey is None else journey.name,
              "other": other}
    return _build_segmentation(log, labels, method="rules", journey=journey, membership=membership,
                               attributes=table, rules=parsed, params=params, exclusive=exclusive, extra=extra)


# --------------------------------------------------------------------------- the result


def _build_segmentation(log, labels: pd.Series, *, method: str, journey=None, probabilities=None, membership=None,
                        attributes=None, model=None, k_scores=None, rules=None, params=None, exclusive=True,
                        extra=None) -> Segmentation:
    if membership is None:
        cats = list(labels.cat.categories)
        member = np.zeros((len(labels), len(cats)), dtype=bool)
        member[np.arange(len(labels)), labels.cat.codes.to_numpy()] = True
        membership = pd.DataFrame(member, index=labels.index, columns=cats)
    return Segmentation(labels=labels, membership=membership, method=method, case_table=attributes, log=log,
                        journey=journey, probabilities=probabilities, model=model, k_scores=k_scores,
                        rules=rules or {}, exclusive=exclusive, params=params or {}, extra=extra)


def _fmt_days(days: float) -> str:
    if days is None or not np.isfinite(days):
        return "-"
    hours = days * 24
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{days:.1f} d"


def _short(seq, n: int = 8) -> str:
    seq = list(seq)
    text = " > ".join(seq[:n])
    return text + (f" > ... (+{len(seq) - n})" if len(seq) > n else "")


@dataclass(frozen=True, eq=False, repr=False)
class Segmentation:
    """Segments of the cases of a log, from :func:`segment_by` or :func:`cluster_journeys`.

    Attributes
    ----------
    labels : Series indexed by case id (sorted): the segment of each case (categorical,
        categories in segment order). For overlapping rule segments, the first match.
    membership : DataFrame case x segment: True where the case is in the segment (rules
        may overlap); for ``"markov"`` the membership probabilities.
    method : ``"rules"``, ``"markov"``, ``"kmeans"`` or ``"sequence"``.
    log, journey : what was segmented (``journey`` may be None).
    attributes : the case attribute table the profiles and tests read (:func:`case_attributes`,
        computed on first use; for rule segments, the table the rules were evaluated on).
    probabilities : for ``"markov"``, the membership probabilities (rows sum to 1), else None.
    k_scores : for clusterings, k with its score (BIC or silhouette) and ``chosen``.
    params : the inputs, so the segmentation can be reproduced.
    """

    labels: pd.Series
    membership: pd.DataFrame
    method: str
    log: Any
    case_table: pd.DataFrame | None = None
    journey: Any = None
    probabilities: pd.DataFrame | None = None
    model: Any = None
    k_scores: pd.DataFrame | None = None
    rules: dict = field(default_factory=dict)
    exclusive: bool = True
    params: dict = field(default_factory=dict)
    extra: Any = None

    @property
    def attributes(self) -> pd.DataFrame:
        """The case attribute table (:func:`case_attributes`, with the journey's columns), computed on first use."""
        if self.case_table is not None:
            return self.case_table
        cache = self.__dict__.setdefault("_cache", {})
        if "attributes" not in cache:
            cache["attributes"] = case_attributes(self.log, journey=self.journey)
        return cache["attributes"]

    # ---- sizes
    @property
    def segments(self) -> tuple[str, ...]:
        """Segment names, in order."""
        return tuple(str(c) for c in self.membership.columns)

    @property
    def n_cases(self) -> int:
        return len(self.labels)

    def members(self, segment: str) -> pd.Index:
        """Case ids of a segment (for ``"markov"``, the cases whose most likely cluster it is)."""
        self._check_segment(segment)
        if self.probabilities is not None:
            return self.labels.index[(self.labels == segment).to_numpy()]
        return self.membership.index[self.membership[segment].to_numpy(dtype=bool)]

    def _mask(self, segment: str) -> np.ndarray:
        if self.probabilities is not None:
            return (self.labels == segment).to_numpy()
        return self.membership[segment].to_numpy(dtype=bool)

    def _check_segment(self, segment) -> None:
        if segment not in self.segments:
            hits = closest(str(segment), self.segments)
            near = f" Did you mean {hits[0]!r}?" if hits else ""
            raise InvalidParameterError(f"segment={segment!r} is not a segment of this segmentation.{near} "
                                        f"Segments: {list(self.segments)}.")

    @property
    def sizes(self) -> pd.DataFrame:
        """Per segment: ``cases`` and ``share`` of all cases (overlapping segments may add up to more than 100%)."""
        counts = [int(self._mask(s).sum()) for s in self.segments]
        out = pd.DataFrame({"cases": counts}, index=pd.Index(self.segments, name="segment"))
        out["share"] = out["cases"] / max(self.n_cases, 1)
        return out

    # ---- tables
    def to_frame(self) -> pd.DataFrame:
        """Per case: ``segment`` and, for overlapping rules, one bool column per segment; for
        ``"markov"``, one probability column per segment (``p_<segment>``)."""
        out = pd.DataFrame({"segment": self.labels})
        if self.probabilities is not None:
            out = out.join(self.probabilities.add_prefix("p_"))
        elif not self.exclusive:
            out = out.join(self.membership.add_prefix("in_"))
        return out

    @property
    def summary(self) -> pd.DataFrame:
        """Sizes with the headline figures of :meth:`profile`."""
        prof = self.profile()
        cols = [c for c in ("cases", "share", "events_median", "duration_median_days", "goal_rate",
                            "conformance_rate", "typical_journey") if c in prof.columns]
        return prof[cols]

    def profile(self, *, top: int = 3) -> pd.DataFrame:
        """One row per segment: what it is and how it behaves.

        Columns: ``cases``, ``share``; ``typical_journey`` (the medoid: the journey closest,
        by normalised edit distance, to the others of the segment; for ``"sequence"`` the
        cluster medoid); ``top_activities`` and ``top_transitions`` (the ``top`` with the
        highest lift - share of the segment's cases that have it over the share of all
        cases - among those in at least 10% of the segment's cases); ``events_median``,
        ``duration_median_days``; ``main_channels`` (event shares); ``value_mean`` (mean
        value per case) when the log has a value; ``goal_rate``, ``conformance_rate``,
        ``conformance_cost_mean`` with a journey; ``nps``, ``csat`` (top-2-box on 1-5),
        ``ces`` (mean) when the log has those columns.
        """
        if isinstance(top, bool) or not isinstance(top, numbers.Integral) or top < 1:
            raise InvalidParameterError(f"top={top!r} must be a whole number >= 1.")
        a = self.attributes
        rows = []
        act_lift = self.lift("activities")
        tr_lift = self.lift("transitions")
        act_sup = self._presence_share("activities")
        tr_sup = self._presence_share("transitions")
        typical = self._typical()
        for s in self.segments:
            m = self._mask(s)
            sub = a.loc[m]
            row: dict[str, Any] = {"segment": s, "cases": int(m.sum()), "share": float(m.mean()) if len(m) else 0.0}
            row["typical_journey"] = _short(typical.get(s, ()))
            row["top_activities"] = _top_lift(act_lift.loc[s], act_sup.loc[s], top)
            row["top_transitions"] = _top_lift(tr_lift.loc[s], tr_sup.loc[s], top)
            row["events_median"] = float(sub["n_events"].median()) if len(sub) else np.nan
            row["duration_median_days"] = float(sub["duration_days"].median()) if len(sub) else np.nan
            shares = [c for c in a.columns if c.startswith("share_")]
            if shares and len(sub):
                w = sub[shares].mul(sub["n_events"], axis=0).sum() / max(sub["n_events"].sum(), 1)
                w = w.sort_values(ascending=False)
                row["main_channels"] = ", ".join(f"{k[len('share_'):]} {v:.0%}" for k, v in w.head(2).items())
            if "value_sum" in a.columns:
                row["value_mean"] = float(sub["value_sum"].mean()) if len(sub) else np.nan
            if "goal" in a.columns:
                row["goal_rate"] = float(sub["goal"].mean()) if len(sub) else np.nan
            if "conforms" in a.columns:
                inside = sub["in_journey"].to_numpy(dtype=bool)
                row["conformance_rate"] = float(sub["conforms"][inside].mean()) if inside.any() else np.nan
                row["conformance_cost_mean"] = float(sub["conformance_cost"].mean()) if len(sub) else np.nan
            row.update(self._survey(m))
            rows.append(row)
        return pd.DataFrame(rows).set_index("segment")

    def _survey(self, mask: np.ndarray) -> dict:
        df = self.log._frame()
        out = {}
        cols = [c for c in _SURVEY if c in df.columns]
        if not cols:
            return out
        inside = df["case"].isin(self.labels.index[mask])
        for col in cols:
            v = pd.to_numeric(df.loc[inside, col], errors="coerce").dropna().astype(float)
            if col == "nps":
                out["nps"] = float(100 * ((v >= 9).mean() - (v <= 6).mean())) if len(v) else np.nan
            elif col == "csat":
                out["csat"] = float((v >= 4).mean()) if len(v) else np.nan
            else:
                out["ces"] = float(v.mean()) if len(v) else np.nan
            out[f"{col}_answers"] = len(v)
        return out

    # ---- behaviour matrices
    def _incidence(self, kind: str):
        from scipy import sparse

        key = f"_inc_{kind}"
        cache = self.__dict__.setdefault("_cache", {})
        if key in cache:
            return cache[key]
        c = _cases(self.log)
        A = len(c.activities)
        if kind == "activities":
            rows, cols, names = c.case_codes, c.codes, list(c.activities)
            P = A
        elif kind == "transitions":
            same = np.r_[c.case_codes[1:] == c.case_codes[:-1], False]
            idx = np.flatnonzero(same)
            rows = c.case_codes[idx]
            cols = c.codes[idx] * A + c.codes[idx + 1]
            P = A * A
            names = None
        else:
            raise InvalidParameterError(f"kind={kind!r} is not allowed; use 'activities' or 'transitions'.")
        inc = sparse.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(c.n, P)).tocsr()
        inc.data[:] = 1.0
        if names is None:
            used = np.flatnonzero(np.asarray(inc.sum(axis=0)).ravel() > 0)
            inc = inc[:, used]
            names = [f"{c.activities[u // A]} > {c.activities[u % A]}" for u in used]
        cache[key] = (inc, names)
        return cache[key]

    def _presence_share(self, kind: str) -> pd.DataFrame:
        inc, names = self._incidence(kind)
        M = np.column_stack([self._mask(s) for s in self.segments]).astype(float)
        counts = np.asarray(inc.T @ M).T
        size = np.maximum(M.sum(axis=0), 1)[:, None]
        return pd.DataFrame(counts / size, index=pd.Index(self.segments, name="segment"), columns=names)

    def lift(self, kind: str = "activities") -> pd.DataFrame:
        """Segment x activity (or ``kind="transitions"``: x ``"a > b"`` pair) lift: the share of the
        segment's cases that have it, over the share of all cases that have it (1 = no difference).

        >>> import journeylab as jl
        >>> seg = segment_by(jl.datasets.load_example(), {"rejected": "count_reject_request > 0"})
        >>> round(float(seg.lift().loc["rejected", "reject request"]), 2)
        2.0
        """
        share = self._presence_share(kind)
        inc, _names = self._incidence(kind)
        overall = np.asarray(inc.mean(axis=0)).ravel()
        return share / np.where(overall > 0, overall, np.nan)

    def _typical(self) -> dict[str, tuple]:
        if self.method == "sequence" and self.model is not None:
            meds = self.model.medoids
            order = np.argsort(self.model.remap)
            return {self.segments[i]: meds[j] for i, j in enumerate(order)}
        from .clustering import _edit_distances

        c = _cases(self.log)
        vid, keys, _counts = c.variants()
        out = {}
        rng = np.random.default_rng(0)
        for s in self.segments:
            m = self._mask(s)
            if not m.any():
                out[s] = ()
                continue
            v, w = np.unique(vid[m], return_counts=True)
            if len(v) > 300:
                pick = np.sort(rng.choice(len(v), size=300, replace=False, p=w / w.sum()))
                v, w = v[pick], w[pick]
            D = _edit_distances(keys[v], keys[v]).astype(float)
            best = v[int(np.argmin(D @ w))]
            out[s] = tuple(c.activities[ord(ch) - 0x4E00] for ch in keys[best])
        return out

    def transition_matrix(self, segment: str) -> pd.DataFrame:
        """For ``"markov"``: the fitted transition probabilities of the segment's chain (rows:
        from-activity, columns: to-activity and ``"[end]"``). For other methods: the
        empirical transition shares of the segment's cases."""
        self._check_segment(segment)
        if self.method == "markov" and self.model is not None:
            j = int(np.flatnonzero(self.model.remap == self.segments.index(segment))[0])
            return self.model.estimator.transition_frame(j)
        c = _cases(self.log)
        A = len(c.activities)
        m = self._mask(segment)[c.case_codes]
        nxt_same = np.r_[c.case_codes[1:] == c.case_codes[:-1], False]
        to = np.where(nxt_same, np.r_[c.codes[1:], 0], A)
        cnt = np.bincount(c.codes[m] * (A + 1) + to[m], minlength=A * (A + 1)).reshape(A, A + 1).astype(float)
        tot = cnt.sum(axis=1, keepdims=True)
        mat = np.divide(cnt, tot, out=np.zeros_like(cnt), where=tot > 0)
        return pd.DataFrame(mat, index=pd.Index(c.activities, name="from"),
                            columns=pd.Index(list(c.activities) + [END], name="to"))

    # ---- maps, prediction
    def process_map(self, segment: str, **kwargs):
        """The process map (:func:`journeylab.discovery.discover`) of the segment's cases;
        keyword arguments go to ``discover`` (``activities=``, ``paths=``)."""
        from .discovery import discover

        cases = self.members(segment)
        if not len(cases):
            raise InvalidParameterError(f"segment {segment!r} has no cases, so it has no process map.")
        return discover(self.log.filter_cases(list(cases)), **kwargs)

    def predict(self, log) -> Segmentation:
        """Place the cases of another log in these segments: rules are evaluated again, a
        clustering applies its fitted model (k-means centres, Markov chains, medoids).

        >>> import journeylab as jl
        >>> a, b = jl.datasets.make_journeys(300, random_state=4), jl.datasets.make_journeys(200, random_state=5)
        >>> seg = cluster_journeys(a.log, n_clusters=3, random_state=0)
        >>> seg.predict(b.log).segments == seg.segments
        True
        """
        _check_log(log)
        params = {**self.params, "predicted_from": repr(self)}
        if self.method == "rules":
            table = _attribute_table(log, self.journey, self.extra)
            for name, conds in self.rules.items():
                _check_columns(name, conds, table)
            other = self.params.get("other", "other")
            seg = _apply_rules(log, self.rules, table, exclusive=self.exclusive, journey=self.journey, other=other,
                               extra=self.extra)
            return _build_segmentation(log, seg.labels, method="rules", journey=self.journey,
                                       membership=seg.membership, attributes=seg.attributes, rules=self.rules,
                                       params=params, exclusive=self.exclusive, extra=self.extra)
        labels, probs = self.model.predict(log)
        return _build_segmentation(log, labels, method=self.method, journey=self.journey, probabilities=probs,
                                   model=self.model, k_scores=self.k_scores, params=params, exclusive=True)

    # ---- display
    def __repr__(self) -> str:
        sizes = self.sizes
        big = sizes["share"].idxmax() if len(sizes) else "-"
        how = "rules" if self.method == "rules" else f"{self.method} clustering"
        extra = ""
        if self.method != "rules":
            auto = " (auto)" if self.params.get("n_clusters") == "auto" else ""
            extra = f", k={len(self.segments)}{auto}"
        elif not self.exclusive:
            extra = ", overlapping"
        return (f"Segmentation: {self.n_cases:,} cases in {len(self.segments)} segments by {how}{extra}, "
                f"largest {big!r} {sizes['share'].max():.1%}")

    def _repr_html_(self) -> str:
        prof = self.profile().head(30)
        shown = prof.copy()
        for col in shown.columns:
            if col in ("share", "goal_rate", "conformance_rate", "csat"):
                shown[col] = shown[col].map(lambda v: "-" if pd.isna(v) else f"{v:.1%}")
            elif col == "duration_median_days":
                shown[col] = shown[col].map(_fmt_days)
            elif pd.api.types.is_float_dtype(shown[col]):
                shown[col] = shown[col].map(lambda v: "-" if pd.isna(v) else f"{v:,.1f}")
        shown = shown.rename(columns={"duration_median_days": "median duration"})
        return f"<div><p><b>{html.escape(repr(self))}</b></p>{shown.to_html(escape=True)}</div>"

    def plot(self, ax=None, *, kind: str = "profile", **kw):
        """``kind="profile"`` (default): a heatmap of the activities that tell the segments
        apart (colour: lift, text: share of the segment's cases) with the segment sizes beside
        it; ``"sizes"``: bars; ``"k"``: the score of each k tried by ``"auto"``;
        ``"transitions"`` (``segment=...``): the segment's transition matrix. Returns the Axes."""
        from .plotting.segments import plot_segmentation

        return plot_segmentation(self, ax=ax, kind=kind, **kw)


def _top_lift(lift: pd.Series, support: pd.Series, top: int) -> str:
    ok = (support >= 0.10) & (lift > 1.0)
    cand = lift[ok].sort_values(ascending=False, kind="stable").head(top)
    return ", ".join(f"{k} (x{v:.1f})" for k, v in cand.items()) or "-"


def attribute_segmentation(log, column: str, *, journey=None, max_segments: int = 12,
                           other: str = "other") -> Segmentation:
    """Segments by the value of a case attribute (its value on the case's first event), e.g.
    region or device. The ``max_segments - 1`` most frequent values keep their own segment; the
    rest are pooled in ``other``; cases without a value are in ``"(missing)"``.

    >>> import journeylab as jl
    >>> seg = attribute_segmentation(jl.datasets.load_retail().log, "region")
    >>> sorted(seg.segments)[:2]
    ['central', 'east']
    >>> attribute_segmentation(jl.datasets.load_retail().log, "regoin")
    Traceback (most recent call last):
    ...
    journeylab.exceptions.SchemaError: 'regoin' is not a column of the log. Did you mean 'region'? ...
    """
    from ._util import did_you_mean

    usable = [c for c in log.columns if c not in ("case", "activity", "timestamp")]
    if column not in usable:
        what = "is the case id" if column == "case" else "changes within a case" if column in log.columns else \
            f"is not a column of the log.{did_you_mean(column, usable)}"
        raise SchemaError(f"{column!r} {what} Segment by one of: {', '.join(map(str, usable)) or 'none'}.")
    if not isinstance(max_segments, int) or max_segments < 2:
        raise InvalidParameterError(f"max_segments={max_segments!r} must be a whole number of at least 2.")
    table = case_attributes(log, journey=journey)
    frame = log._frame()
    first = frame.groupby("case", sort=False, observed=True).head(1).set_index("case")[column]  # the first event's
    values = first.reindex(table.index).astype("string")
    missing = "(missing)"
    while missing in set(values.dropna()):
        missing = f"({missing})"
    values = values.fillna(missing)
    counts = values.value_counts()
    keep = list(counts.index[: max_segments - 1]) if len(counts) > max_segments else list(counts.index)
    while other in keep or (other in set(values) and other not in keep):
        other = f"{other} (pooled)"
    values = values.where(values.isin(keep), other)
    cats = [v for v in keep] + ([other] if (~values.isin(keep)).any() else [])
    labels = pd.Series(pd.Categorical(values.to_numpy(dtype=object), categories=cats), index=table.index,
                       name="segment")
    params = {"attribute": column, "journey": None if journey is None else journey.name,
              "max_segments": max_segments}
    return _build_segmentation(log, labels, method=f"attribute {column}", journey=journey, attributes=table,
                               params=params)


def _report_body(log, *, journey=None, random_state: int = 0, k_range=(2, 6)):
    """(segmentation or None, HTML body) of the behavioural segments of the report."""
    from ._report.sections import _figure, _table

    c = _cases(log)
    n_var = len(c.variants()[1])
    if c.n < 50 or n_var < 3:
        return None, (f'<p class="note">{c.n:,} cases and {n_var:,} distinct journeys: too few to '
                      f"discover segments (at least 50 cases and 3 distinct journeys are needed).</p>")
    seg = cluster_journeys(log, n_clusters="auto", k_range=k_range, method="markov", journey=journey,
                           random_state=random_state, progress=False)
    prof = seg.profile(top=3)
    cols = [col for col in ("cases", "share", "typical_journey", "top_activities", "main_channels",
                            "duration_median_days", "goal_rate", "conformance_rate") if col in prof.columns]
    shown = prof[cols].reset_index()
    for col in ("share", "goal_rate", "conformance_rate"):
        if col in shown:
            shown[col] = shown[col].map(lambda v: "-" if pd.isna(v) else f"{v:.1%}")
    if "duration_median_days" in shown:
        shown["duration_median_days"] = shown["duration_median_days"].map(_fmt_days)
    shown["cases"] = shown["cases"].map("{:,}".format)
    shown = shown.rename(columns={"duration_median_days": "median duration", "typical_journey": "typical journey",
                                  "top_activities": "distinguishing activities (lift)",
                                  "main_channels": "main channels", "goal_rate": "goal rate",
                                  "conformance_rate": "conformance rate"})
    note = (f'<p class="note">{len(seg.segments)} behavioural segments found by a mixture of Markov chains '
            f"(k chosen by BIC over {k_range[0]}..{k_range[1]}; reproduce with "
            f"<code>jl.segments.cluster_journeys(log, k_range={tuple(k_range)!r}, random_state={random_state})"
            f"</code>).</p>")
    return seg, note + _figure(seg.plot().figure) + _table(shown, numeric=("cases", "share", "goal rate",
                                                                           "conformance rate"))


def report_section(log, *, journey=None, random_state: int = 0, k_range=(2, 6)) -> str:
    """The "Segments" section of :func:`journeylab.report`: behavioural segments found by
    Markov clustering (k by BIC), as an HTML ``<section>`` with the profile heatmap and table.

    Logs with fewer than 50 cases or 3 distinct journeys get a short note instead.

    >>> import journeylab as jl
    >>> "<h2>Segments</h2>" in report_section(jl.datasets.load_example())
    True
    """
    from ._report.sections import _section

    return _section("Segments", _report_body(log, journey=journey, random_state=random_state, k_range=k_range)[1])


# compare_segments and SegmentComparison live in segment_compare.py (imported here for one public place)
from .segment_compare import SegmentComparison, compare_segments
