"""The result of every segmentation: :class:`Segmentation` - who is in which segment, what each segment is,
how it behaves, and where the cases of another log go.

:func:`journeylab.segments.segment_by` (rules), :func:`journeylab.segments.attribute_segmentation` (the
value of an attribute) and :func:`journeylab.clustering.cluster_journeys` (behaviour) all return it. How
the segments were made is held by ``model``: an object whose ``place(log)`` puts the cases of another log
in the same segments (the rules again, the attribute values, the fitted clusters), so
:meth:`Segmentation.predict` is the same for every method.

Behaviour (activities, transitions, the typical journey) is read from the variants of the cases
(:mod:`journeylab._kernels.cases`): per variant once, then given to its cases. On a log in DuckDB or
Spark the profile reads (a) the variants, (b) the case attributes and the survey answers per case
(engine group-bys: answers, high and low scores and their sum per case). ``process_map`` goes through
:meth:`EventLog.filter_cases <journeylab.EventLog.filter_cases>`, which still collects a lazy log.

>>> import journeylab as jl
>>> seg = jl.segment_by(jl.datasets.load_example(), {"rejected": "count_reject_request > 0"})
>>> seg.segments, seg.sizes["cases"].tolist()
(('rejected', 'other'), [3, 3])
>>> round(float(seg.presence().loc["rejected", "reject request"]), 2)
1.0
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from ._core.backend import execute
from ._core.formatting import cut
from ._core.names import closest
from ._core.results import FrozenMap, Result
from ._core.validation import LOG, Choice, Int, checked
from ._core.vocabulary import END
from ._core.warn import warn
from ._kernels.cases import activity_names, decode, edit_distances, variant_codes, variants_of
from ._kernels.events import events
from .discovery import discover
from .exceptions import InvalidParameterError
from .features import case_attributes

__all__ = ["Segmentation"]

_SURVEY = ("nps", "csat", "ces")
_KIND = Choice("activities", "transitions")


def _short(seq, n: int = 8) -> str:
    seq = list(seq)
    text = " > ".join(seq[:n])
    return text + (f" > ... (+{len(seq) - n})" if len(seq) > n else "")


def _top_lift(lift: pd.Series, support: pd.Series, top: int) -> str:
    ok = (support >= 0.10) & (lift > 1.0)
    cand = lift[ok].sort_values(ascending=False, kind="stable").head(top)
    return ", ".join(f"{k} (x{v:.1f})" for k, v in cand.items()) or "-"


@dataclass(frozen=True, eq=False, repr=False)
class Segmentation(Result):
    """Segments of the cases of a log, from :func:`~journeylab.segments.segment_by`,
    :func:`~journeylab.segments.attribute_segmentation` or :func:`~journeylab.clustering.cluster_journeys`.

    Attributes
    ----------
    labels : Series indexed by case id (sorted): the segment of each case (categorical,
        categories in segment order). For overlapping rule segments, the first match.
    membership : DataFrame case x segment: True where the case is in the segment (rules
        may overlap). Given as None, it is made from ``labels`` (one segment per case).
    method : ``"rules"``, ``"markov"``, ``"kmeans"``, ``"sequence"`` or ``"attribute <column>"``.
    log, journey : what was segmented (``journey`` may be None).
    attributes : the case attribute table the profiles and tests read (:func:`case_attributes`,
        computed on first use; for rule segments, the table the rules were evaluated on).
    probabilities : for ``"markov"``, the membership probabilities (rows sum to 1), else None.
    model : how the segments were made; its ``place(log)`` puts another log's cases in them.
    k_scores : for clusterings, k with its score (BIC or silhouette) and ``chosen``.
    params : the inputs, so the segmentation can be reproduced (read-only).
    """

    labels: pd.Series
    membership: pd.DataFrame | None
    method: str
    log: Any
    case_table: pd.DataFrame | None = None
    journey: Any = None
    probabilities: pd.DataFrame | None = None
    model: Any = None
    k_scores: pd.DataFrame | None = None
    rules: dict = field(default_factory=dict)
    exclusive: bool = True
    params: FrozenMap = field(default_factory=FrozenMap)
    extra: Any = None

    def __post_init__(self):
        super().__post_init__()
        if self.membership is None:
            labels = self.labels
            cats = list(labels.cat.categories)
            member = np.zeros((len(labels), len(cats)), dtype=bool)
            member[np.arange(len(labels)), labels.cat.codes.to_numpy()] = True
            object.__setattr__(self, "membership", pd.DataFrame(member, index=labels.index, columns=cats))

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_cache", None)  # recomputed on first use
        return state

    def _cached(self, key, compute):
        cache = self.__dict__.setdefault("_cache", {})
        if key not in cache:
            cache[key] = compute()
        return cache[key]

    @property
    def attributes(self) -> pd.DataFrame:
        """The case attribute table (:func:`case_attributes`, with the journey's columns), computed on first use."""
        if self.case_table is not None:
            return self.case_table
        return self._cached("attributes", lambda: case_attributes(self.log, journey=self.journey))

    # ---- sizes
    @property
    def segments(self) -> tuple[str, ...]:
        """Segment names, in order."""
        return tuple(str(c) for c in self.membership.columns)

    @property
    def n_cases(self) -> int:
        """Number of cases segmented."""
        return len(self.labels)

    def members(self, segment: str) -> pd.Index:
        """Case ids of a segment (for ``"markov"``, the cases whose most likely cluster it is)."""
        return self.labels.index[self.mask(segment)]

    def mask(self, segment: str) -> np.ndarray:
        """True for the cases (in the order of ``labels``) in ``segment``.

        >>> import journeylab as jl
        >>> jl.segment_by(jl.datasets.load_example(), {"long": "n_events >= 9"}).mask("long").tolist()
        [False, False, True, False, True, False]
        """
        self._check_segment(segment)
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
        counts = [int(self.mask(s).sum()) for s in self.segments]
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

    @checked(top=Int(minimum=1, example=3))
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

        >>> import journeylab as jl
        >>> seg = jl.segment_by(jl.datasets.load_example(), {"long": "n_events >= 9"})
        >>> int(seg.profile().loc["long", "cases"]), float(seg.profile().loc["long", "events_median"])
        (2, 11.0)
        """
        a = self.attributes
        rows = []
        act_lift, tr_lift = self.lift("activities"), self.lift("transitions")
        act_sup, tr_sup = self.presence("activities"), self.presence("transitions")
        typical = self._typical()
        shares = [c for c in a.columns if c.startswith("share_")]
        for s in self.segments:
            m = self.mask(s)
            sub = a.loc[m]
            row: dict[str, Any] = {"segment": s, "cases": int(m.sum()), "share": float(m.mean()) if len(m) else 0.0}
            row["typical_journey"] = _short(typical.get(s, ()))
            row["top_activities"] = _top_lift(act_lift.loc[s], act_sup.loc[s], top)
            row["top_transitions"] = _top_lift(tr_lift.loc[s], tr_sup.loc[s], top)
            row["events_median"] = float(sub["n_events"].median()) if len(sub) else np.nan
            row["duration_median_days"] = float(sub["duration_days"].median()) if len(sub) else np.nan
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
        per_case = self._cached("survey", self._survey_table)
        out = {}
        if per_case is None:
            return out
        sub = per_case[per_case.index.isin(self.labels.index[mask])]
        for col in dict.fromkeys(c for c, _ in per_case.columns):
            n = int(sub[(col, "n")].sum())
            hi, lo, total = (float(sub[(col, k)].sum()) for k in ("hi", "lo", "sum"))
            if col == "nps":
                out["nps"] = float(100 * (hi / n - lo / n)) if n else np.nan
            elif col == "csat":
                out["csat"] = hi / n if n else np.nan
            else:
                out["ces"] = total / n if n else np.nan
            out[f"{col}_answers"] = n
        return out

    def _survey_table(self) -> pd.DataFrame | None:
        """Per case with answers: for each survey column, its answers (``n``), the high (nps >= 9, csat >= 4)
        and low (nps <= 6) ones and their sum. A lazy log with numeric answer columns: one engine group-by
        (one row per case back); text answer columns: the answer events, read in pandas."""
        cols = [c for c in _SURVEY if c in self.log.columns]
        if not cols:
            return None
        hi_at = {"nps": 9, "csat": 4, "ces": np.inf}
        t = self.log.table if self.log.is_lazy else None
        if t is not None and all(t[c].type().is_numeric() for c in cols):
            aggs = {}
            for c in cols:
                v = t[c].cast("float64")
                ok = v.notnull() & ~v.isnan()
                aggs.update({f"{c}|n": ok.cast("int64").sum(), f"{c}|hi": (ok & (v >= hi_at[c])).cast("int64").sum(),
                             f"{c}|lo": (ok & (v <= 6)).cast("int64").sum(), f"{c}|sum": v.sum(where=ok)})
            answered = functools.reduce(operator.or_, [t[c].notnull() for c in cols])
            raw = execute(t.filter(answered).group_by("case").aggregate(**aggs)).set_index("case")
            raw = raw.fillna(0.0)
        else:
            ev = events(self.log, cols)
            raw = pd.DataFrame(index=pd.Index(ev["case"].astype(str).unique(), name="case"))
            for c in cols:
                v = pd.to_numeric(ev[c], errors="coerce").astype(float)
                ok = v.notna()
                g = pd.DataFrame({"n": ok, "hi": ok & (v >= hi_at[c]), "lo": ok & (v <= 6), "sum": v.where(ok, 0.0)})
                agg = g.groupby(ev["case"].astype(str).to_numpy()).sum()
                raw = raw.join(agg.add_prefix(f"{c}|"))
        raw.index = raw.index.astype(str)
        raw.columns = pd.MultiIndex.from_tuples([tuple(k.split("|")) for k in raw.columns])
        return raw

    # ---- behaviour matrices
    def _incidence(self, kind: str) -> tuple[sparse.csr_matrix, list[str]]:
        """Case x activity (or x transition "a > b"): 1 where the case has it. Built per variant, then given to
        the cases of each variant."""

        def compute():
            codes, row, v = variant_codes(self.log)
            acts = activity_names(self.log)
            A = len(acts)
            if kind == "activities":
                rows, cols, names, P = row, codes, list(acts), A
            else:
                idx = np.flatnonzero(row[1:] == row[:-1])
                rows, cols, names, P = row[idx], codes[idx] * A + codes[idx + 1], None, A * A
            inc = sparse.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(v.counts), P)).tocsr()
            inc.data[:] = 1.0
            inc = inc[v.vid]
            if names is None:
                used = np.flatnonzero(np.asarray(inc.sum(axis=0)).ravel() > 0)
                inc = inc[:, used]
                names = [f"{acts[u // A]} > {acts[u % A]}" for u in used]
            return inc, names

        return self._cached(f"_inc_{kind}", compute)

    @checked(kind=_KIND)
    def presence(self, kind: str = "activities") -> pd.DataFrame:
        """Segment x activity (or ``kind="transitions"``: x ``"a > b"`` pair): the share of the segment's
        cases that have it.

        >>> import journeylab as jl
        >>> seg = jl.segment_by(jl.datasets.load_example(), {"rejected": "count_reject_request > 0"})
        >>> seg.presence().loc["other", "reject request"]
        np.float64(0.0)
        """
        inc, names = self._incidence(kind)
        M = np.column_stack([self.mask(s) for s in self.segments]).astype(float)
        counts = np.asarray(inc.T @ M).T
        size = np.maximum(M.sum(axis=0), 1)[:, None]
        return pd.DataFrame(counts / size, index=pd.Index(self.segments, name="segment"), columns=names)

    @checked(kind=_KIND)
    def lift(self, kind: str = "activities") -> pd.DataFrame:
        """Segment x activity (or ``kind="transitions"``: x ``"a > b"`` pair) lift: the share of the
        segment's cases that have it, over the share of all cases that have it (1 = no difference).

        >>> import journeylab as jl
        >>> seg = jl.segment_by(jl.datasets.load_example(), {"rejected": "count_reject_request > 0"})
        >>> round(float(seg.lift().loc["rejected", "reject request"]), 2)
        2.0
        """
        share = self.presence(kind)
        inc, _names = self._incidence(kind)
        overall = np.asarray(inc.mean(axis=0)).ravel()
        return share / np.where(overall > 0, overall, np.nan)

    def _typical(self) -> dict[str, tuple]:
        if self.method == "sequence" and self.model is not None:
            meds = self.model.medoids
            order = np.argsort(self.model.remap)
            return {self.segments[i]: meds[j] for i, j in enumerate(order)}
        v = variants_of(self.log)
        acts = activity_names(self.log)
        out = {}
        rng = np.random.default_rng(0)
        for s in self.segments:
            m = self.mask(s)
            if not m.any():
                out[s] = ()
                continue
            vv, w = np.unique(v.vid[m], return_counts=True)
            if len(vv) > 300:
                pick = np.sort(rng.choice(len(vv), size=300, replace=False, p=w / w.sum()))
                vv, w = vv[pick], w[pick]
            D = edit_distances(v.keys[vv], v.keys[vv]).astype(float)
            out[s] = decode(v.keys[vv[int(np.argmin(D @ w))]], acts)
        return out

    def transition_matrix(self, segment: str) -> pd.DataFrame:
        """For ``"markov"``: the fitted transition probabilities of the segment's chain (rows:
        from-activity, columns: to-activity and ``"[end]"``). For other methods: the
        empirical transition shares of the segment's cases.

        >>> import journeylab as jl
        >>> seg = jl.segment_by(jl.datasets.load_example(), {"rejected": "count_reject_request > 0"})
        >>> float(seg.transition_matrix("rejected").loc["reject request", "[end]"])
        1.0
        """
        self._check_segment(segment)
        if self.method == "markov" and self.model is not None:
            j = int(np.flatnonzero(self.model.remap == self.segments.index(segment))[0])
            return self.model.estimator.transition_frame(j)
        codes, row, v = variant_codes(self.log)
        acts = activity_names(self.log)
        A = len(acts)
        weight = np.bincount(v.vid[self.mask(segment)], minlength=len(v.counts)).astype(float)  # its cases per variant
        to = np.where(np.r_[row[1:] == row[:-1], False], np.r_[codes[1:], 0], A)
        cnt = np.bincount(codes * (A + 1) + to, weights=weight[row], minlength=A * (A + 1)).reshape(A, A + 1)
        tot = cnt.sum(axis=1, keepdims=True)
        mat = np.divide(cnt, tot, out=np.zeros_like(cnt), where=tot > 0)
        return pd.DataFrame(mat, index=pd.Index(acts, name="from"), columns=pd.Index(list(acts) + [END], name="to"))

    # ---- maps, prediction
    def process_map(self, segment: str, **kwargs):
        """The process map (:func:`journeylab.discovery.discover`) of the segment's cases;
        keyword arguments go to ``discover`` (``activities=``, ``paths=``)."""
        cases = self.members(segment)
        if not len(cases):
            raise InvalidParameterError(f"segment {segment!r} has no cases, so it has no process map.")
        return discover(self.log.filter_cases(list(cases)), **kwargs)

    @checked(log=LOG)
    def predict(self, log) -> Segmentation:
        """Place the cases of another log in these segments: rules are evaluated again, a
        clustering applies its fitted model (k-means centres, Markov chains, medoids), an
        attribute segmentation reads the attribute.

        >>> import journeylab as jl
        >>> a, b = jl.datasets.make_journeys(300, random_state=4), jl.datasets.make_journeys(200, random_state=5)
        >>> seg = jl.cluster_journeys(a.log, n_clusters=3, random_state=0)
        >>> seg.predict(b.log).segments == seg.segments
        True
        """
        if self.model is None:
            raise InvalidParameterError(f"this segmentation ({self.method}) has no model to place other cases with; "
                                        "segment the other log the same way instead.")
        placed = self.model.place(log)
        return Segmentation(placed["labels"], placed.get("membership"), self.method, log,
                            case_table=placed.get("attributes"), journey=self.journey,
                            probabilities=placed.get("probabilities"), model=self.model, k_scores=self.k_scores,
                            rules=self.rules, exclusive=self.exclusive,
                            params={**self.params, "predicted_from": repr(self)}, extra=self.extra)

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

    def _html_tables(self):
        prof = self.profile()
        if "duration_median_days" in prof.columns:
            days = prof.pop("duration_median_days")
            at = list(prof.columns).index("events_median") + 1
            prof.insert(at, "median duration", pd.to_timedelta(days, unit="D"))
        return [("", prof)]

    def _html_formats(self):
        return {"csat": "share", "events_median": "score", "value_mean": "score", "conformance_cost_mean": "score",
                "nps": "score", "ces": "score"}

    def plot(self, ax=None, *, kind: str = "profile", **kw):
        """``kind="profile"`` (default): a heatmap of the activities that tell the segments
        apart (colour: lift, text: share of the segment's cases) with the segment sizes beside
        it; ``"sizes"``: bars; ``"k"``: the score of each k tried by ``"auto"``;
        ``"transitions"`` (``segment=...``): the segment's transition matrix. Returns the Axes."""
        from .plotting.segments import plot_segmentation

        return plot_segmentation(self, ax=ax, kind=kind, **kw)


def _outcome_columns(metric: str, column: str | None, journey) -> set[str]:
    """The case attributes a metric is made of, or that hold it by construction: a segment defined by one of
    them differs in that metric because of how it was defined."""
    out = {column} if column else set()
    if metric == "goal":
        goal = getattr(journey, "goal", None)
        if goal is not None:
            out.add(f"count_{goal.activity}")
            if goal.type == "purchase":  # spend exists only for those who buy
                out |= {"value_sum", "value_max"}
    elif metric in ("conformance", "conformance_cost"):
        out |= {"conforms", "conformance_cost"}
    elif metric == "duration":
        out |= {"duration_days", "duration_hours", "start", "end"}
    elif metric == "n_events":
        out |= {"n_events", "n_activities"}
    elif metric == "value":
        out |= {"value_sum", "value_max"}
    return out


def warn_rules_on_outcomes(seg, cols: dict) -> None:
    """Warn when a rule segment is defined by the outcome a metric tests (e.g. spend > 200 and the goal
    rate of a purchase journey): its difference is there by construction and is no finding. ``cols``: metric ->
    the case attribute it tests (as :func:`journeylab.segment_compare.compare_segments` resolves them)."""
    if seg.method != "rules" or not seg.rules:
        return
    for name, conditions in seg.rules.items():
        read = {c.column for c in conditions}
        for metric, column in cols.items():
            hit = sorted(read & _outcome_columns(metric, column, seg.journey))
            if hit:
                rule = " and ".join(str(c) for c in conditions)
                warn(f"segment {cut(name)!s} is defined by {', '.join(hit)} ({cut(rule, 120)}), which the "
                     f"{metric!r} metric depends on: its difference in {metric} is there by construction and "
                     "says nothing about the segment. Define segments by what is known before the outcome "
                     "(e.g. the first channel or customer attributes), or leave that metric out.")
