"""Tested differences between segments: proportions, distributions and whole sequences.

:func:`compare_segments` takes a :class:`~journeylab.segments.Segmentation` and returns a
:class:`SegmentComparison`: one row per test, with the estimate in each group, the effect
size, the p-value and the Benjamini-Hochberg adjusted p-value over every test of the table.

Tests
-----
Proportions (``goal`` rate, ``conformance`` rate, any yes/no case attribute)
    all segments: chi-square test of the k x 2 table (Cramer's V); a Monte Carlo
    permutation p-value replaces the chi-square approximation when an expected count is
    below 5. Two groups: chi-square with Yates' correction, or Fisher's exact test when an
    expected count is below 5; the difference of the rates with Newcombe's hybrid score
    interval and Cohen's h.
Distributions (``duration``, ``n_events``, ``value``, ``conformance_cost``, any numeric attribute)
    all segments: Kruskal-Wallis (epsilon squared); two groups: Mann-Whitney U (two-sided)
    with the rank-biserial correlation (positive when the first group tends to be larger)
    and the difference of the medians.
Sequences (``sequence``)
    a permutation test of the pseudo-F of a discrepancy analysis (Studer, Ritschard,
    Gabadinho and Mueller, 2011; TraMineR's ``dissassoc``) on the normalised edit distance
    between the activity sequences: the share of the discrepancy that the segments explain
    (``R2``, the effect size) and the p-value of ``n_permutations`` label permutations. On
    large logs it runs on a random sample of ``sample_size`` cases.

Groups are the segments (exclusive segmentations: all segments together, then each pair)
or each segment against the rest (overlapping rule segments, or ``comparisons="one_vs_rest"``).
A test that cannot be run is **flagged and not tested**: its row says why in ``note``, with
a NaN p-value, and it is left out of the Benjamini-Hochberg family (the correction counts
only the tests that ran). That is the case of a group with fewer than ``min_size`` cases
(an empty segment, a segment of one case), of a metric with no variation in the groups
compared (every case has the same value: nobody reaches the goal, a constant count, every
journey the same sequence), and of a metric missing for every case.

On a log in DuckDB or Spark the tests read the segmentation's case attributes and the variants of the
cases: (a) per-variant and (b) per-case tables computed by the engine, never the event table.

Examples
--------
>>> import journeylab as jl
>>> sample = jl.datasets.make_journeys(800, random_state=3)
>>> from journeylab.segments import segment_by, cluster_journeys
>>> seg = segment_by(sample.log, {"app": "first_channel == 'app'"}, exclusive=True)
>>> comp = compare_segments(seg, metrics=["duration", "n_events"], random_state=0)
>>> comp.to_frame()[["metric", "comparison", "test"]].head(2).values.tolist()
[['duration', 'app vs other', 'Mann-Whitney U'], ['n_events', 'app vs other', 'Mann-Whitney U']]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from ._core.formatting import cut, format_count, format_duration, format_pvalue, format_share
from ._core.names import did_you_mean
from ._core.results import FrozenMap, Result
from ._core.stats import newcombe, z_score
from ._core.validation import CONFIDENCE, RANDOM_STATE, Choice, Instance, Int, Real, checked
from ._core.validation import rng as _rng
from ._kernels.cases import edit_distances, variants_of
from .exceptions import InvalidParameterError
from .segmentation import Segmentation, warn_rules_on_outcomes

__all__ = ["compare_segments", "SegmentComparison", "benjamini_hochberg", "pseudo_f_test"]

#: Metric names and the case-attribute column they read.
METRICS = {
    "goal": "goal",
    "conformance": "conforms",
    "conformance_cost": "conformance_cost",
    "duration": "duration_days",
    "n_events": "n_events",
    "value": "value_sum",
    "sequence": None,
}
_COLUMNS = ["metric", "comparison", "group_a", "group_b", "n_a", "n_b", "estimate_a", "estimate_b", "difference",
            "ci_low", "ci_high", "test", "statistic", "p_value", "p_adjusted", "significant", "effect_size",
            "effect_measure", "note"]


# --------------------------------------------------------------------------- statistics


def benjamini_hochberg(p) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (NaN stays NaN).

    >>> benjamini_hochberg([0.01, 0.04, 0.03, np.nan]).round(3).tolist()
    [0.03, 0.04, 0.04, nan]
    """
    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if not m:
        return out
    q = p[ok]
    order = np.argsort(q, kind="stable")
    ranked = q[order] * m / np.arange(1, m + 1)
    adj = np.minimum.accumulate(ranked[::-1])[::-1]
    res = np.empty(m)
    res[order] = np.clip(adj, q[order], 1.0)  # never below the raw p-value (floating-point rounding)
    out[ok] = res
    return out


def _chi2_stat(table: np.ndarray) -> float:
    tot = table.sum()
    exp = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / tot
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.nansum(np.where(exp > 0, (table - exp) ** 2 / exp, 0.0)))


def _proportion_omnibus(ys: list[np.ndarray], rng, n_perm: int) -> dict:
    table = np.array([[y.sum(), len(y) - y.sum()] for y in ys], dtype=float)
    chi2, p, _dof, exp = stats.chi2_contingency(table, correction=False)
    n = table.sum()
    v = math.sqrt(chi2 / (n * (min(table.shape) - 1))) if n > 0 else math.nan
    test, note = "chi-square", ""
    if (exp < 5).any():
        labels = np.concatenate([np.full(len(y), i) for i, y in enumerate(ys)])
        yy = np.concatenate(ys).astype(int)
        hits = 0
        for _ in range(n_perm):
            perm = rng.permutation(labels)
            t = np.zeros((len(ys), 2))
            np.add.at(t, (perm, 1 - yy), 1)
            hits += _chi2_stat(t) >= chi2 - 1e-12
        p = (hits + 1) / (n_perm + 1)
        test, note = "chi-square (permutation)", "expected count < 5: Monte Carlo p-value"
    return {"test": test, "statistic": float(chi2), "p_value": float(p), "effect_size": v,
            "effect_measure": "Cramer's V", "note": note}


def _proportion_pair(a: np.ndarray, b: np.ndarray, z: float) -> dict:
    k1, n1, k2, n2 = int(a.sum()), len(a), int(b.sum()), len(b)
    table = np.array([[k1, n1 - k1], [k2, n2 - k2]])
    exp = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    if (exp < 5).any():
        stat, p = stats.fisher_exact(table)
        test = "Fisher exact"
        stat = float(stat)
    else:
        stat, p, _, _ = stats.chi2_contingency(table, correction=True)
        test = "chi-square"
    lo, hi = newcombe(k1, n1, k2, n2, z)
    p1, p2 = k1 / n1, k2 / n2
    h = 2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p2))
    return {"estimate_a": p1, "estimate_b": p2, "difference": p1 - p2, "ci_low": lo, "ci_high": hi, "test": test,
            "statistic": float(stat), "p_value": float(p), "effect_size": h, "effect_measure": "Cohen's h"}


def _numeric_omnibus(ys: list[np.ndarray]) -> dict:
    h, p = stats.kruskal(*ys)
    n = sum(len(y) for y in ys)
    return {"test": "Kruskal-Wallis", "statistic": float(h), "p_value": float(p),
            "effect_size": float(h / (n - 1)) if n > 1 else math.nan, "effect_measure": "epsilon squared", "note": ""}


def _numeric_pair(a: np.ndarray, b: np.ndarray) -> dict:
    out = {"estimate_a": float(np.median(a)), "estimate_b": float(np.median(b)),
           "difference": float(np.median(a) - np.median(b)), "ci_low": math.nan, "ci_high": math.nan,
           "test": "Mann-Whitney U", "effect_measure": "rank-biserial r"}
    u, p = stats.mannwhitneyu(a, b, alternative="two-sided")
    return {**out, "statistic": float(u), "p_value": float(p), "effect_size": float(2 * u / (len(a) * len(b)) - 1)}


def pseudo_f_test(D: np.ndarray, labels: np.ndarray, *, n_permutations: int = 999, random_state=None
                  ) -> tuple[float, float, float]:
    """Discrepancy analysis of a distance matrix: (pseudo-F, R2, permutation p-value).

    ``SS_T = (1/n) sum_{i<j} d_ij``, ``SS_W = sum_g (1/n_g) sum_{i<j in g} d_ij``,
    ``F = (SS_B / (G - 1)) / (SS_W / (n - G))``, ``R2 = SS_B / SS_T`` (Studer et al. 2011);
    p = (1 + #{F* >= F}) / (1 + permutations), labels permuted at random.

    >>> D = np.array([[0, 1, 4, 4], [1, 0, 4, 4], [4, 4, 0, 1], [4, 4, 1, 0]], dtype=float)
    >>> f, r2, p = pseudo_f_test(D, np.array([0, 0, 1, 1]), n_permutations=99, random_state=0)
    >>> round(f, 2), round(r2, 3)
    (7.0, 0.778)
    """
    rng = np.random.default_rng(random_state)
    labels = np.asarray(labels)
    _, lab = np.unique(labels, return_inverse=True)
    n, G = len(lab), int(lab.max()) + 1
    ss_t = D.sum() / (2 * n)

    def ss_w(L: np.ndarray) -> np.ndarray:  # L: (n, G*P) one-hot blocks -> (P,)
        DL = D @ L
        within = (DL * L).sum(axis=0) / 2  # sum_{i<j in g} d_ij per (g, p)
        size = L.sum(axis=0)
        per = np.where(size > 0, within / np.maximum(size, 1), 0.0)
        return per.reshape(-1, G).sum(axis=1)

    def one_hot(lbls: np.ndarray) -> np.ndarray:  # lbls (P, n) -> (n, P*G)
        P = lbls.shape[0]
        L = np.zeros((n, P * G))
        L[np.tile(np.arange(n), P), (np.arange(P)[:, None] * G + lbls).ravel()] = 1.0
        return L

    w_obs = ss_w(one_hot(lab[None, :]))[0]
    if G < 2 or n - G <= 0 or ss_t <= 0:
        return math.nan, math.nan, math.nan
    f_obs = ((ss_t - w_obs) / (G - 1)) / (w_obs / (n - G)) if w_obs > 0 else math.inf
    r2 = (ss_t - w_obs) / ss_t
    hits, done, batch = 0, 0, max(1, min(n_permutations, 4_000_000 // max(n * G, 1)))
    while done < n_permutations:
        P = min(batch, n_permutations - done)
        perms = np.array([rng.permutation(lab) for _ in range(P)])
        w = ss_w(one_hot(perms))
        f = np.where(w > 0, ((ss_t - w) / (G - 1)) / np.maximum(w, 1e-300) * (n - G), np.inf)
        hits += int((f >= f_obs - 1e-9 * abs(f_obs)).sum())
        done += P
    return float(f_obs), float(r2), (hits + 1) / (n_permutations + 1)


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True, eq=False, repr=False)
class SegmentComparison(Result):
    """Tested differences between segments (see :func:`compare_segments`).

    ``table`` has one row per test: ``metric``, ``comparison`` ("all segments", "A vs B" or
    "A vs rest"), ``group_a``, ``group_b``, ``n_a``, ``n_b``, ``estimate_a``/``estimate_b``
    (rates for proportions, medians for distributions), ``difference`` with its
    confidence interval ``ci_low``/``ci_high`` (proportions), ``test``, ``statistic``,
    ``p_value``, ``p_adjusted`` (Benjamini-Hochberg over the table), ``significant``
    (``p_adjusted < alpha``), ``effect_size`` and ``effect_measure``, and a ``note`` (why a
    row was not tested, or which exact test replaced an approximation).
    """

    table: pd.DataFrame
    alpha: float
    params: FrozenMap = field(default_factory=FrozenMap)

    def to_frame(self) -> pd.DataFrame:
        """The table of tests (a copy)."""
        return self.table.copy()

    @property
    def significant(self) -> pd.DataFrame:
        """The rows whose adjusted p-value is below ``alpha``."""
        return self.table[self.table["significant"]].reset_index(drop=True)

    @property
    def summary(self) -> pd.DataFrame:
        """Per metric: tests run, significant after correction, rows flagged (not tested)."""
        t = self.table
        g = t.groupby("metric", sort=False)
        return pd.DataFrame({"tests": g["p_value"].count(), "significant": g["significant"].sum(),
                             "not tested": g["p_value"].apply(lambda s: int(s.isna().sum()))})

    def __repr__(self) -> str:
        t = self.table
        n_tests = int(t["p_value"].notna().sum())
        flagged = int(t["p_value"].isna().sum())
        text = (f"SegmentComparison: {n_tests} tests of {t['metric'].nunique()} metrics, "
                f"{int(t['significant'].sum())} significant at {self.alpha:.0%} (Benjamini-Hochberg)")
        return text + (f", {flagged} not tested (small or constant groups)" if flagged else "")

    def formatted(self) -> pd.DataFrame:
        """The table for reading: rates as percentages, p-values rounded, CIs as text."""
        t = self.table
        lvl = self.params.get("confidence", 0.95)

        def fmt(v, metric, sign=False):
            if pd.isna(v):
                return "-"
            if metric in self.params.get("proportions", ()):
                return format_share(v)
            if metric == "duration":  # days
                return ("+" if v > 0 else "-" if v < 0 else "") * sign + format_duration(pd.Timedelta(days=abs(v)))
            return f"{v:+,.3g}" if sign else f"{v:,.3g}"

        return pd.DataFrame({
            "metric": t["metric"], "comparison": t["comparison"],
            "n": [format_count(a) + ("" if pd.isna(b) else f" / {format_count(b)}")
                  for a, b in zip(t["n_a"], t["n_b"])],
            "estimates": [("-" if pd.isna(a) else fmt(a, m) + " vs " + fmt(b, m))
                          for a, b, m in zip(t["estimate_a"], t["estimate_b"], t["metric"])],
            f"difference ({lvl:.0%} CI)": [
                "-" if pd.isna(d) else (f"{100 * d:+.1f} pp" + ("" if pd.isna(lo) else
                                                               f" ({100 * lo:+.1f} .. {100 * hi:+.1f})"))
                if m in self.params.get("proportions", ()) else fmt(d, m, sign=True)
                for d, lo, hi, m in zip(t["difference"], t["ci_low"], t["ci_high"], t["metric"])],
            "test": t["test"],
            "p (adjusted)": [format_pvalue(p) for p in t["p_adjusted"]],
            "effect": ["-" if pd.isna(e) else f"{e:+.2f} {m}" for e, m in zip(t["effect_size"], t["effect_measure"])],
            "significant": np.where(t["significant"], "yes", ""),
            "note": t["note"],
        })

    def _html_tables(self):
        return [("", self.formatted())]

    def plot(self, ax=None, **kw):
        """A heatmap of the effect sizes (rows: comparisons, columns: metrics), the significant
        ones marked with a star; flagged rows are hatched. Returns the Axes."""
        from .plotting.segments import plot_comparison

        return plot_comparison(self, ax=ax, **kw)


# --------------------------------------------------------------------------- compare


def _metric_columns(seg, metrics) -> dict[str, str | None]:
    a = seg.attributes
    if metrics is None:
        chosen = [m for m in ("goal", "conformance", "duration", "n_events", "value", "sequence")
                  if METRICS[m] is None or METRICS[m] in a.columns]
    else:
        if isinstance(metrics, str):
            metrics = [metrics]
        chosen = list(metrics)
        if not chosen:
            raise InvalidParameterError("metrics is empty; name at least one, e.g. metrics=['goal', 'duration'].")
    out: dict[str, str | None] = {}
    allowed = list(METRICS) + [c for c in a.columns if c not in METRICS.values()]
    for m in chosen:
        if not isinstance(m, str):
            raise InvalidParameterError(f"metrics must be names, got {m!r}.")
        col = METRICS.get(m, m)
        if col is not None and col not in a.columns:
            if m in ("goal", "conformance", "conformance_cost"):
                need = "a journey with a goal" if m == "goal" else "a journey"
                raise InvalidParameterError(f"metric {m!r} needs {need}: build the segmentation with journey=... "
                                            f"(segment_by(log, rules, journey=j) or cluster_journeys(log, journey=j)).")
            raise InvalidParameterError(f"metric {m!r} is not a metric nor a case attribute.{did_you_mean(m, allowed)} "
                                        f"Metrics: {list(METRICS)}; or any yes/no or numeric column of "
                                        f"segmentation.attributes.")
        if col is not None:
            s = a[col]
            if not (pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s)):
                raise InvalidParameterError(f"metric {m!r}: column {col!r} holds {s.dtype} values; only yes/no or "
                                            f"numeric columns can be tested.")
        out[m] = col
    return out


def _groups(seg, comparisons: str) -> tuple[list[tuple[str, str, np.ndarray, np.ndarray | None]], bool]:
    """(label, name_a, mask_a, mask_b or None) for each comparison, and whether there is an omnibus test."""
    names = seg.segments
    exclusive = seg.exclusive or seg.method != "rules"
    mode = comparisons
    if mode == "auto":
        mode = "pairwise" if exclusive else "one_vs_rest"
    if mode == "pairwise" and not exclusive:
        raise InvalidParameterError("comparisons='pairwise' needs exclusive segments (these rule segments overlap, so "
                                    "two of them share cases); use comparisons='one_vs_rest' or segment_by(..., "
                                    "exclusive=True).")
    masks = {s: seg.mask(s) for s in names}
    out = []
    if mode == "pairwise":
        for a, b in combinations(names, 2):
            out.append((f"{a} vs {b}", a, b, masks[a], masks[b]))
    else:
        for a in names:
            out.append((f"{a} vs rest", a, "rest", masks[a], ~masks[a]))
    return out, exclusive and len(names) > 2


@checked(segmentation=Instance(Segmentation, how="(from segment_by or cluster_journeys)"),
         comparisons=Choice("auto", "pairwise", "one_vs_rest"),
         alpha=Real(0, 1, low_open=True, high_open=True, example=0.05, what="a number between 0 and 1"),
         confidence=CONFIDENCE, min_size=Int(minimum=2, example=20), n_permutations=Int(minimum=19, example=999),
         sample_size=Int(minimum=20, example=1000), random_state=RANDOM_STATE)
def compare_segments(segmentation, *, metrics=None, comparisons: str = "auto", alpha: float = 0.05,
                     confidence: float = 0.95, min_size: int = 20, n_permutations: int = 999,
                     sample_size: int = 1000, random_state=None) -> SegmentComparison:
    """Test the differences between the segments of a segmentation.

    Parameters
    ----------
    segmentation : Segmentation
        From ``segment_by``, ``attribute_segmentation`` or ``cluster_journeys``.
    metrics : list of str, optional
        Names among ``"goal"`` (goal rate), ``"conformance"`` (share of the cases in the journey
        that follow the happy path), ``"conformance_cost"``, ``"duration"``, ``"n_events"``,
        ``"value"``, ``"sequence"``, or any yes/no or numeric column of
        ``segmentation.attributes``. Default: those available.
    comparisons : {"auto", "pairwise", "one_vs_rest"}, default "auto"
        ``"auto"``: each pair of segments, after a test of all segments together, for exclusive
        segments; each segment against the rest for overlapping ones.
    alpha : float, default 0.05
        Level of the ``significant`` column, after Benjamini-Hochberg correction.
    confidence : float, default 0.95
        Level of the confidence intervals of the differences of rates.
    min_size : int, default 20
        Groups with fewer cases are flagged and not tested.
    n_permutations : int, default 999
        Permutations of the sequence test (and of the chi-square test when expected counts are small).
    sample_size : int, default 1000
        The sequence test runs on at most this many cases (a random sample).
    random_state : int, optional
        Seed of the permutations and the sample.

    Returns
    -------
    SegmentComparison
        One row per test (``to_frame()``), ``significant``, ``summary``, ``formatted()``, ``plot()``.

    Examples
    --------
    >>> import journeylab as jl
    >>> s = jl.datasets.make_journeys(600, random_state=1)
    >>> from journeylab.segments import cluster_journeys
    >>> seg = cluster_journeys(s.log, n_clusters=3, journey=s.journey, random_state=0)
    >>> comp = compare_segments(seg, metrics=["goal", "sequence"], random_state=0)
    >>> comp.summary.loc["sequence", "tests"]
    np.int64(4)
    """
    cols = _metric_columns(segmentation, metrics)
    warn_rules_on_outcomes(segmentation, cols)
    pairs, omnibus = _groups(segmentation, comparisons)
    rng = _rng(random_state)
    z = z_score(confidence)
    a = segmentation.attributes
    proportions = tuple(m for m, c in cols.items() if c is not None and pd.api.types.is_bool_dtype(a[c]))
    rows: list[dict] = []
    seq = _SequenceData(segmentation, sample_size, rng) if "sequence" in cols else None
    for metric, col in cols.items():
        if col is None:
            rows.extend(_sequence_rows(segmentation, seq, pairs, omnibus, min_size, n_permutations, rng))
            continue
        values = a[col]
        valid = values.notna().to_numpy().copy()
        if metric == "conformance":
            valid &= a["in_journey"].to_numpy(dtype=bool)
        is_prop = metric in proportions
        test_all, test_pair = ("chi-square", "chi-square") if is_prop else ("Kruskal-Wallis", "Mann-Whitney U")
        y_all = values.to_numpy(dtype=float, na_value=np.nan)
        if not valid.any():
            why = ("no case of the segmentation is in the journey" if metric == "conformance"
                   else f"{cut(col)} is missing for every case")
            note = f"no values, not tested: {why}"
            if omnibus:
                rows.append({**_row(metric, "all segments", "all", None, 0, np.nan), "test": test_all, "note": note})
            rows.extend({**_row(metric, label, name_a, name_b, 0, 0), "test": test_pair, "note": note}
                        for label, name_a, name_b, _ma, _mb in pairs)
            continue
        if omnibus:
            ys, names, notes = [], [], []
            for s in segmentation.segments:
                y = y_all[segmentation.mask(s) & valid]
                if len(y) < min_size:
                    notes.append(f"{s} (n={len(y)})")
                    continue
                ys.append(y)
                names.append(s)
            row = _row(metric, "all segments", "all", None, sum(len(y) for y in ys), np.nan)
            if len(ys) >= 2:
                constant = _no_variation(ys, is_prop)
                if constant:
                    res = {"test": test_all, "note": constant}
                elif is_prop:
                    res = _proportion_omnibus([y.astype(bool) for y in ys], rng, n_permutations)
                else:
                    res = _numeric_omnibus(ys)
                row.update(res)
                if notes:
                    row["note"] = (row.get("note") or "") + ("; " if row.get("note") else "") + \
                        f"left out, fewer than {min_size} cases: {', '.join(notes)}"
            else:
                row.update({"test": test_all, "note": f"fewer than 2 segments with at least {min_size} cases"})
            rows.append(row)
        for label, name_a, name_b, ma, mb in pairs:
            ya, yb = y_all[ma & valid], y_all[mb & valid]
            row = _row(metric, label, name_a, name_b, len(ya), len(yb))
            small = [f"{nm} (n={len(y)})" for nm, y in ((name_a, ya), (name_b, yb)) if len(y) < min_size]
            if small:
                row.update({"test": test_pair,
                            "note": f"small group, not tested: {', '.join(small)} < min_size={min_size}"})
                if len(ya) and len(yb):
                    row.update({"estimate_a": float(ya.mean() if is_prop else np.median(ya)),
                                "estimate_b": float(yb.mean() if is_prop else np.median(yb))})
            elif constant := _no_variation([ya, yb], is_prop):
                row.update({"test": test_pair, "estimate_a": float(ya[0]), "estimate_b": float(yb[0]),
                            "difference": 0.0, "note": constant})
            elif is_prop:
                row.update(_proportion_pair(ya.astype(bool), yb.astype(bool), z))
            else:
                row.update(_numeric_pair(ya, yb))
            rows.append(row)
    table = pd.DataFrame(rows).reindex(columns=_COLUMNS)
    table["note"] = table["note"].astype(object).where(table["note"].notna(), "").astype(str)
    table["p_adjusted"] = benjamini_hochberg(table["p_value"].to_numpy(dtype=float))
    table["significant"] = (table["p_adjusted"] < alpha).fillna(False).astype(bool)
    for col in ("n_a", "n_b"):
        table[col] = table[col].astype("Int64")
    params = {"metrics": tuple(cols), "comparisons": comparisons, "alpha": alpha, "confidence": confidence,
              "min_size": min_size, "n_permutations": n_permutations, "sample_size": sample_size,
              "random_state": random_state, "segmentation": repr(segmentation), "proportions": proportions}
    return SegmentComparison(table, float(alpha), params)


def _no_variation(ys: list[np.ndarray], is_prop: bool) -> str:
    """The note of a test that cannot be run because every value of the groups is the same; "" when they vary.

    >>> _no_variation([np.array([0.0, 0.0]), np.array([0.0])], True)
    'no variation, not tested: every case has the value no'
    >>> _no_variation([np.array([1.0, 2.0]), np.array([1.0])], False)
    ''
    """
    lo = min(float(y.min()) for y in ys)
    if lo != max(float(y.max()) for y in ys):
        return ""
    value = ("yes" if lo else "no") if is_prop else f"{lo:,.6g}"
    return f"no variation, not tested: every case has the value {value}"


def _row(metric, comparison, a, b, n_a, n_b) -> dict:
    return {"metric": metric, "comparison": comparison, "group_a": a, "group_b": b, "n_a": n_a,
            "n_b": n_b if b is not None else np.nan}


class _SequenceData:
    """A random sample of cases with the edit distances between their sequences."""

    def __init__(self, seg, sample_size: int, rng):
        vid, keys, _counts, _first = variants_of(seg.log)
        n = len(vid)
        self.sample = np.sort(rng.choice(n, size=sample_size, replace=False)) if n > sample_size else np.arange(n)
        v = vid[self.sample]
        uniq, inv = np.unique(v, return_inverse=True)
        Dv = edit_distances(keys[uniq], keys[uniq]).astype(np.float64)
        self.D = Dv[np.ix_(inv, inv)]
        self.sampled = n > sample_size


def _sequence_rows(seg, data: _SequenceData, pairs, omnibus, min_size, n_perm, rng) -> list[dict]:
    rows = []
    note_s = f"on a random sample of {len(data.sample):,} cases" if data.sampled else ""
    in_sample = {s: seg.mask(s)[data.sample] for s in seg.segments}

    def run(label, a, b, mask_list, names) -> dict:
        idx = np.concatenate([np.flatnonzero(m) for m in mask_list])
        lab = np.concatenate([np.full(int(m.sum()), i) for i, m in enumerate(mask_list)])
        row = _row("sequence", label, a, b, int(mask_list[0].sum()) if b is not None else len(idx),
                   int(mask_list[1].sum()) if b is not None else np.nan)
        f, r2, p = pseudo_f_test(data.D[np.ix_(idx, idx)], lab, n_permutations=n_perm,
                                 random_state=int(rng.integers(2**31 - 1)))
        row.update({"test": "pseudo-F (permutation)", "statistic": f, "p_value": p, "effect_size": r2,
                    "effect_measure": "R2", "note": note_s})
        if np.isnan(p):  # every sequence is the same: nothing to explain
            row["note"] = "; ".join(x for x in ("no variation, not tested: every case has the same sequence of "
                                                "activities", note_s) if x)
        return row

    if omnibus:
        keep = [s for s in seg.segments if in_sample[s].sum() >= min_size]
        small = [f"{s} (n={int(in_sample[s].sum())})" for s in seg.segments if s not in keep]
        if len(keep) >= 2:
            row = run("all segments", "all", None, [in_sample[s] for s in keep], keep)
            if small:
                row["note"] = "; ".join(x for x in (row["note"], (f"left out, fewer than {min_size} cases: "
                                                    f"{', '.join(small)}")) if x)
        else:
            row = _row("sequence", "all segments", "all", None, 0, np.nan)
            row.update({"test": "pseudo-F (permutation)", "note": f"fewer than 2 segments with at least {min_size} "
                                                                  "cases"})
        rows.append(row)
    for label, name_a, name_b, ma, mb in pairs:
        sa, sb = ma[data.sample], mb[data.sample]
        sa_only, sb_only = sa & ~sb, sb & ~sa
        small = [f"{nm} (n={int(m.sum())})" for nm, m in ((name_a, sa_only), (name_b, sb_only)) if m.sum() < min_size]
        if small:
            row = _row("sequence", label, name_a, name_b, int(sa_only.sum()), int(sb_only.sum()))
            row.update({"test": "pseudo-F (permutation)",
                        "note": f"small group, not tested: {', '.join(small)} < min_size={min_size}"})
        else:
            row = run(label, name_a, name_b, [sa_only, sb_only], [name_a, name_b])
        rows.append(row)
    return rows
