"""Discovered segments: clustering of journeys by k-means, edit distance or Markov chains.

Size: about 630 lines: the three methods share the choice of k, the restarts and the placing of
new cases, so they stay together; the Markov mixture's EM is the bulk.

:func:`cluster_journeys` groups the cases of a log into behavioural segments and returns a
:class:`~journeylab.segments.Segmentation` (labels per case, profiles, maps, tests). Three
methods, for three kinds of data:

``"markov"`` - a mixture of first-order Markov chains fitted by EM (Cadez, Heckerman, Meek,
    Smyth and White, 2003, "Model-based clustering and visualization of navigation
    patterns on a web site"). Each cluster is a chain: where journeys start, and from each
    activity where they go next (or stop). A case is scored by its start and transition
    counts, so two short journeys with the same activities in another order are told
    apart, and long journeys do not dominate. Gives membership probabilities and a
    transition matrix per cluster; ``"auto"`` picks k by BIC. **Best for short, noisy
    journeys whose segments differ in how customers move** (clickstreams, app sessions,
    omnichannel journeys). EM runs on distinct variants weighted by their counts: cases
    with the same sequence share sufficient statistics, so this is exact.
``"kmeans"`` - k-means on :class:`~journeylab.features.JourneyVectorizer` features
    (activity counts, TF-IDF of n-grams, length, duration, channel mix, milestones,
    conformance), standardised and reduced to their first 20 principal components (over 250,000
    cases, the axes are learned on a uniform sample of 250,000 of them, and every case is projected
    a block at a time: the feature matrix is never whole). ``"auto"`` picks k by silhouette. **Best
    when segments differ in what they contain and in channel, time or value** rather than in order;
    fast on any size; no probabilities.
``"sequence"`` - k-medoids on the normalised Levenshtein (edit) distance between activity
    sequences (``rapidfuzz``), computed between distinct variants only, each weighted by
    its number of cases, so the cost grows with variants, not cases. When there are more
    variants than ``sample_size``, the medoids are searched on a sample of variants (drawn
    by weight, as CLARA does) and every variant then joins its nearest medoid. Each
    cluster's medoid is a real, typical journey. ``"auto"`` picks k by the (case-weighted)
    silhouette. **Best for structured processes with few variants and segments that
    differ in order**; on long, noisy journeys edit distance is dominated by noise.

On a log in DuckDB or Spark: ``"markov"`` and ``"sequence"`` read (a) the variants with their counts and
(b) the variant of each case; ``"kmeans"`` also (b) the per-case times and channel counts of one engine
group-by (:func:`journeylab._kernels.cases.case_facts`); the event table never comes back, and the labels
are those of the in-memory log (same ``random_state``, same clusters).

Journeys are short and noisy: judge a method by how well it recovers known segments (see
the tests and the notebook), not by silhouette alone. Cluster names are ``"cluster 1"``,
``"cluster 2"``, ... by decreasing size, so they do not depend on the order found.

Examples
--------
>>> import journeylab as jl
>>> sample = jl.datasets.make_journeys(600, random_state=1)
>>> seg = cluster_journeys(sample.log, n_clusters=4, method="markov", random_state=0)
>>> seg.segments
('cluster 1', 'cluster 2', 'cluster 3', 'cluster 4')
>>> int(seg.sizes["cases"].sum())
600
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.special import logsumexp

from ._core.formatting import cut
from ._core.progress import progress as _progress
from ._core.validation import (
    BOOL,
    JOURNEY,
    LOG,
    RANDOM_STATE,
    AutoOr,
    Choice,
    Int,
    IntPair,
    Optional,
    Real,
    checked,
    rng as _rng,
)
from ._core.vocabulary import END
from ._kernels.cases import (
    activity_names,
    case_ids,
    decode,
    edit_distances,
    encode,
    engine_tables,
    keys,
    variant_codes,
    variants_of,
)
from .exceptions import InvalidParameterError
from .features import JourneyVectorizer, case_attributes
from .segmentation import Segmentation

__all__ = ["cluster_journeys", "MarkovMixture", "METHODS", "fit_markov_mixture", "kmedoids"]

METHODS = ("markov", "kmeans", "sequence")
#: k-means runs on this many principal components of the standardised features (fast, and as accurate here)
_PCA_COMPONENTS = 20


# --------------------------------------------------------------------------- checks


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def _k_values(n_clusters, k_range, n_units: int) -> tuple[list[int], bool]:
    if n_clusters == "auto":
        ks = [k for k in range(k_range[0], k_range[1] + 1) if k <= n_units]
        if not ks:
            raise InvalidParameterError(f"the log has only {n_units} distinct journeys, fewer than k_min={k_range[0]}; "
                                        "lower k_range or pass n_clusters=...")
        return ks, True
    if n_clusters > n_units:
        raise InvalidParameterError(f"n_clusters={n_clusters} is more than the {n_units:,} distinct journeys of the log; "
                                    "ask for fewer clusters.")
    return [int(n_clusters)], False


def _relabel(labels: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """Map cluster ids to 0..k-1 by decreasing size (cases), ties by first appearance: an order-free naming."""
    size = np.bincount(labels, weights=weights, minlength=k)
    first = np.full(k, len(labels))
    for j in range(k):
        hit = np.flatnonzero(labels == j)
        if len(hit):
            first[j] = hit[0]
    order = np.lexsort((first, -size))
    remap = np.empty(k, dtype=np.int64)
    remap[order] = np.arange(k)
    return remap


# --------------------------------------------------------------------------- Markov mixture


def _markov_counts(codes: np.ndarray, offsets: np.ndarray, A: int) -> sparse.csr_matrix:
    """Per sequence: one-hot start (A columns) then transition counts a -> b (b = A is the end), A*(A+1) columns.

    Codes < 0 (activities unknown to a fitted model) are dropped from the sequences.
    """
    n = len(offsets) - 1
    case = np.repeat(np.arange(n), np.diff(offsets))
    keep = codes >= 0
    codes, case = codes[keep], case[keep]
    if not len(codes):
        return sparse.csr_matrix((n, A + A * (A + 1)))
    new_case = np.r_[True, case[1:] != case[:-1]]
    starts_rows = case[new_case]
    starts_cols = codes[new_case]
    nxt_same = np.r_[case[1:] == case[:-1], False]
    nxt = np.where(nxt_same, np.r_[codes[1:], 0], A)
    cols = A + codes * (A + 1) + nxt
    rows = np.r_[starts_rows, case]
    allc = np.r_[starts_cols, cols]
    m = sparse.coo_matrix((np.ones(len(rows)), (rows, allc)), shape=(n, A + A * (A + 1))).tocsr()
    m.sum_duplicates()
    return m


@dataclass(frozen=True, eq=False)
class MarkovMixture:
    """A fitted mixture of first-order Markov chains over activities (see :func:`fit_markov_mixture`).

    Attributes
    ----------
    activities : the states (the fitted vocabulary); the end of a journey is :data:`END`.
    weights : (k,) mixing proportions.
    start : (k, A) start probabilities.
    transitions : (k, A, A + 1) transition probabilities; the last column is "stop".
    loglik, bic, n_params, n_iter, converged : the fit.
    """

    activities: tuple[str, ...]
    weights: np.ndarray
    start: np.ndarray
    transitions: np.ndarray
    loglik: float
    bic: float
    n_params: int
    n_iter: int
    converged: bool
    params: dict = field(default_factory=dict)

    @property
    def n_components(self) -> int:
        return len(self.weights)

    def _log_params(self) -> np.ndarray:
        A = len(self.activities)
        W = np.concatenate([self.start, self.transitions.reshape(len(self.weights), A * (A + 1))], axis=1)
        return np.log(np.maximum(W, 1e-300)).T

    def log_likelihoods(self, X: sparse.csr_matrix) -> np.ndarray:
        """(n, k) log p(sequence | chain) + log weight, from count rows made by the same vocabulary."""
        return np.asarray(X @ self._log_params()) + np.log(self.weights)[None, :]

    def predict_proba_counts(self, X) -> np.ndarray:
        L = self.log_likelihoods(X)
        return np.exp(L - logsumexp(L, axis=1, keepdims=True))

    def transition_frame(self, component: int) -> pd.DataFrame:
        """The transition matrix of one chain: rows from-activity, columns to-activity and :data:`END`."""
        return pd.DataFrame(self.transitions[component], index=pd.Index(self.activities, name="from"),
                            columns=pd.Index(list(self.activities) + [END], name="to"))

    def __repr__(self) -> str:
        return (f"MarkovMixture: {self.n_components} chains over {len(self.activities)} activities, "
                f"log-likelihood {self.loglik:,.1f}, BIC {self.bic:,.1f}")


def _lse(L: np.ndarray) -> np.ndarray:
    """Row-wise log-sum-exp, (n, 1)."""
    m = L.max(axis=1, keepdims=True)
    return m + np.log(np.exp(L - m).sum(axis=1, keepdims=True))


def _m_step(X, R, w, A, smoothing, XT=None):
    S = np.asarray((X.T if XT is None else XT) @ (R * w[:, None]))  # (D, k)
    k = R.shape[1]
    start = S[:A].T + smoothing
    start /= start.sum(axis=1, keepdims=True)
    trans = S[A:].T.reshape(k, A, A + 1) + smoothing
    trans /= trans.sum(axis=2, keepdims=True)
    weights = (R * w[:, None]).sum(axis=0) + 1e-9
    weights /= weights.sum()
    return weights, start, trans


def _loglik_matrix(X, weights, start, trans):
    k, A = start.shape
    W = np.concatenate([start, trans.reshape(k, A * (A + 1))], axis=1)
    return np.asarray(X @ np.log(W).T) + np.log(weights)[None, :]


def _n_params(X, w, k: int, A: int) -> int:
    tot = np.asarray(X.T @ w).ravel()
    starts = int((tot[:A] > 0).sum())
    rows = (tot[A:].reshape(A, A + 1) > 0).sum(axis=1)
    free = max(starts - 1, 0) + int(np.maximum(rows - 1, 0).sum())
    return (k - 1) + k * free


def fit_markov_mixture(X, w, k: int, *, activities, smoothing: float = 0.1, n_init: int = 5, max_iter: int = 200,
                       tol: float = 1e-6, random_state=None, progress: bool = False) -> tuple[MarkovMixture, np.ndarray]:
    """Fit a mixture of ``k`` Markov chains by EM on count rows ``X`` (see :func:`_markov_counts`) with weights ``w``.

    Dirichlet smoothing (``smoothing`` pseudo-counts on every start and transition), ``n_init``
    restarts from ``k`` distinct seed journeys drawn by weight (the best log-likelihood wins,
    among the fits where every chain is the most likely one of at least one journey if any),
    log-sum-exp in the E-step. Returns the model and the responsibilities (rows of ``X``).
    BIC = -2 log-likelihood + p log(n), n = ``w.sum()`` cases, p the free parameters of
    the starts and transitions that occur in the data.
    """
    rng = _rng(random_state)
    A = len(activities)
    n_rows = X.shape[0]
    n = float(w.sum())
    glob = np.asarray(X.T @ w).ravel() / max(n, 1.0)
    XT = X.T.tocsr()
    best = None
    for _ in _progress(range(n_init), enabled=progress, desc=f"EM restarts (k={k})"):
        seeds = rng.choice(n_rows, size=k, replace=False, p=w / w.sum()) if k <= n_rows else np.arange(n_rows)
        S0 = np.tile(glob, (k, 1)) * 0.5 + np.asarray(X[seeds].todense())
        weights = np.full(k, 1.0 / k)
        start = S0[:, :A] + smoothing
        start /= start.sum(axis=1, keepdims=True)
        trans = S0[:, A:].reshape(k, A, A + 1) + smoothing
        trans /= trans.sum(axis=2, keepdims=True)
        prev = -np.inf
        converged = False
        it = 0
        for it in range(1, max_iter + 1):
            L = _loglik_matrix(X, weights, start, trans)
            lse = _lse(L)
            ll = float((w * lse.ravel()).sum())
            R = np.exp(L - lse)
            weights, start, trans = _m_step(X, R, w, A, smoothing, XT)
            if ll - prev < tol * abs(ll):
                converged = True
                break
            prev = ll
        L = _loglik_matrix(X, weights, start, trans)
        lse = _lse(L)
        ll = float((w * lse.ravel()).sum())
        used = len(np.unique(L.argmax(axis=1))) == k  # every chain is the most likely one of some journey
        if best is None or (used, ll) > (best[-1], best[0] + 1e-9):
            best = (ll, weights, start, trans, np.exp(L - lse), it, converged, used)
    ll, weights, start, trans, R, it, converged, _used = best
    p = _n_params(X, w, k, A)
    bic = -2.0 * ll + p * np.log(max(n, 2.0))
    model = MarkovMixture(tuple(activities), weights, start, trans, ll, float(bic), int(p), int(it), bool(converged),
                          params={"smoothing": smoothing, "n_init": n_init, "max_iter": max_iter, "tol": tol})
    return model, R


# --------------------------------------------------------------------------- k-medoids on a distance matrix


def kmedoids(D: np.ndarray, w: np.ndarray, k: int, *, random_state=None, n_init: int = 3,
             max_iter: int = 100) -> tuple[np.ndarray, np.ndarray, float]:
    """Weighted k-medoids on a precomputed distance matrix: (medoid indices, labels, cost).

    Each point counts ``w`` times (a variant counts as its cases). Initialisation by
    weighted k-medoids++ (the first medoid minimises the weighted distance to all), then
    alternating assignment and medoid update (the point of a cluster with the least
    weighted distance to the others) until stable; ``n_init`` starts, the lowest total
    weighted distance wins.
    """
    rng = _rng(random_state)
    n = len(D)
    k = min(k, n)
    best = None
    for _ in range(max(n_init, 1)):
        med = [int(np.argmin(D @ w))]
        dmin = D[:, med[0]].astype(float).copy()
        while len(med) < k:
            p = w * dmin ** 2
            if p.sum() <= 0:
                rest = np.setdiff1d(np.arange(n), med)
                med.append(int(rng.choice(rest)))
            else:
                med.append(int(rng.choice(n, p=p / p.sum())))
            dmin = np.minimum(dmin, D[:, med[-1]])
        med = np.array(med)
        for _it in range(max_iter):
            labels = np.argmin(D[:, med], axis=1)
            new = med.copy()
            for j in range(k):
                idx = np.flatnonzero(labels == j)
                if not len(idx):
                    continue
                sub = D[np.ix_(idx, idx)] @ w[idx]
                new[j] = idx[int(np.argmin(sub))]
            if np.array_equal(np.sort(new), np.sort(med)):
                med = new
                break
            med = new
        labels = np.argmin(D[:, med], axis=1)
        cost = float((D[np.arange(n), med[labels]] * w).sum())
        if best is None or cost < best[2] - 1e-12:
            best = (med, labels, cost)
    return best


def weighted_silhouette(D: np.ndarray, w: np.ndarray, labels: np.ndarray) -> float:
    """Silhouette of a clustering of weighted points (a point of weight w stands for w identical cases).

    Equal to the case-level silhouette: identical cases are at distance 0 from each other.
    """
    k = int(labels.max()) + 1 if len(labels) else 0
    if k < 2:
        return float("nan")
    M = np.zeros((len(labels), k))
    M[np.arange(len(labels)), labels] = 1.0
    sums = D @ (M * w[:, None])  # (n, k): weighted distance sums to each cluster
    size = (M * w[:, None]).sum(axis=0)
    own = size[labels] - 1.0  # other cases of the same cluster
    a = np.where(own > 0, sums[np.arange(len(labels)), labels] / np.maximum(own, 1e-12), 0.0)
    other = np.where(M > 0, np.inf, sums / np.maximum(size, 1e-12)[None, :])
    b = other.min(axis=1)
    s = np.where(own > 0, (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float((s * w).sum() / w.sum())


# --------------------------------------------------------------------------- fitted models (for predict)


def _variant_rows(log) -> tuple[np.ndarray, np.ndarray, object]:
    """The activity codes of one case per variant (flat), the offsets of the variants in them, and the variants."""
    codes, row, v = variant_codes(log)
    return codes, np.concatenate([[0], np.cumsum(np.bincount(row, minlength=len(v.counts)))]), v


@dataclass(frozen=True, eq=False)
class _Model:
    """A fitted clustering: what :meth:`Segmentation.predict` needs to place the cases of another log."""

    method: str
    segments: tuple[str, ...]
    remap: np.ndarray                  # raw cluster id -> segment position
    estimator: object = None           # kmeans: Pipeline(vectorizer, scaler, KMeans); markov: MarkovMixture
    medoids: tuple = ()                # sequence: medoid sequences (tuples of activities)

    def place(self, log) -> dict:
        """The segment of each case of ``log`` (``labels``) and, for ``"markov"``, the ``probabilities``.
        Markov chains and medoids score each variant once; its cases share the result."""
        cases = case_ids(log)
        probs = None
        if self.method == "kmeans":
            raw = self.estimator.predict(log)
        else:
            codes, offsets, v = _variant_rows(log)
            acts = activity_names(log)
            if self.method == "markov":
                m: MarkovMixture = self.estimator
                remap = pd.Index(m.activities).get_indexer(list(acts))
                P = m.predict_proba_counts(_markov_counts(remap[codes], offsets, len(m.activities)))[v.vid]
                raw, probs = P.argmax(axis=1), P
            else:
                alph = {a: i for i, a in enumerate(sorted({a for s in self.medoids for a in s} | set(acts)))}
                recode = np.array([alph[a] for a in acts], dtype=np.int64)
                Dm = edit_distances(keys(recode[codes], offsets), [encode(s, alph) for s in self.medoids])
                raw = Dm.argmin(axis=1)[v.vid]
        pos = self.remap[raw]
        labels = pd.Series(pd.Categorical.from_codes(pos, categories=list(self.segments)), index=cases,
                           name="segment")
        prob_frame = None
        if probs is not None:
            ordered = np.zeros_like(probs)
            ordered[:, self.remap] = probs
            prob_frame = pd.DataFrame(ordered, index=cases, columns=list(self.segments))
        return {"labels": labels, "probabilities": prob_frame}


# --------------------------------------------------------------------------- the three methods


def _fit_markov(log, ks, auto, *, rng, smoothing, n_init, max_iter, progress):
    codes, offsets, v = _variant_rows(log)
    activities = activity_names(log)
    X = _markov_counts(codes, offsets, len(activities))
    w = v.counts.astype(float)
    scores = []
    fits = {}
    for k in _progress(ks, enabled=progress and len(ks) > 1, desc="choosing k (BIC)"):
        model, R = fit_markov_mixture(X, w, k, activities=activities, smoothing=smoothing, n_init=n_init,
                                      max_iter=max_iter, random_state=_seed(rng), progress=progress and not auto)
        found = len(np.unique(R.argmax(axis=1)))
        if found < k:  # a chain that no journey prefers would be an empty segment
            if not auto:
                raise InvalidParameterError(
                    f"n_clusters={k}: the mixture of Markov chains finds only {found} chain(s) that some journey "
                    f"prefers among the {len(w):,} distinct journeys of the log, so {k - found} segment(s) would "
                    f"be empty; ask for n_clusters<={found}, or use method='sequence'.")
            scores.append({"k": k, "score": float("nan"), "criterion": "BIC", "loglik": model.loglik})
            continue
        fits[k] = (model, R)
        scores.append({"k": k, "score": model.bic, "criterion": "BIC", "loglik": model.loglik})
    if not fits:
        raise InvalidParameterError(f"the mixture of Markov chains finds fewer than k_min={ks[0]} chains that some "
                                    f"of the {len(w):,} distinct journeys prefer; pass n_clusters=1 or use "
                                    "method='sequence'.")
    k_best = min(fits, key=lambda k: (fits[k][0].bic, k)) if auto else ks[0]
    model, R = fits[k_best]
    raw_v = R.argmax(axis=1)
    remap = _relabel(raw_v, w, k_best)
    probs = R[v.vid]
    return {"raw": raw_v[v.vid], "remap": remap, "probs": probs, "k": k_best, "scores": scores, "estimator": model,
            "extra": {"loglik": model.loglik, "bic": model.bic, "n_iter": model.n_iter, "converged": model.converged}}


#: Rows per block when the k-means features are scaled and projected.
_SCALE_ROWS = 65_536
#: More cases than this: the principal axes are learned on a uniform sample of this many (every case is
#: scaled, projected and clustered); the feature matrix is then never whole (2M cases: 1.9 GB in float32).
_PCA_ROWS = 250_000


def _fit_kmeans(log, ks, auto, *, rng, journey, features, n_init, sample_size, progress):
    # scikit-learn's estimators are imported on use: only k-means needs them
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import silhouette_score
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    vec = JourneyVectorizer(features=features, journey=journey).fit(log)
    names = vec.get_feature_names_out()
    if not len(names):
        raise InvalidParameterError(f"features={cut(features)} give no feature on this log (e.g. n-grams of journeys of "
                                    "one event); add feature groups, e.g. features='auto'.")
    n_cases = len(case_ids(log))
    n_comp = min(_PCA_COMPONENTS, n_cases, len(names))
    # the covariance solver divides by n - 1: one case needs the exact SVD
    reduce = Pipeline([("float32", FunctionTransformer(np.asarray, kw_args={"dtype": np.float32})),
                       ("scale", StandardScaler(copy=False)),
                       ("pca", PCA(n_components=n_comp, svd_solver="covariance_eigh" if n_cases > 1 else "full",
                                   copy=False))])
    rows = vec._rows(log)  # float32 blocks: half the memory
    # the steps of ``reduce`` fitted one by one: the scaler on row blocks (its fit on the whole matrix makes a
    # float64 copy of it, twice the matrix: 2 of the 8.8 GB of k-means on 2M sessions), then the PCA
    reduce.named_steps["float32"].fit(rows.take(slice(0, 1), np.float32))
    scale, pca = reduce.named_steps["scale"], reduce.named_steps["pca"]
    for _, block in rows.blocks(np.float32, _SCALE_ROWS):
        scale.partial_fit(block)
    if n_cases <= _PCA_ROWS:
        X = scale.transform(rows.matrix(np.float32), copy=False)
        with np.errstate(invalid="ignore", divide="ignore"):  # one case: explained variance 0/0, unused
            Z = pca.fit_transform(X)
        del X
    else:  # the axes from a sample, every case projected a block at a time
        pca.fit(scale.transform(rows.take(np.sort(rng.choice(n_cases, _PCA_ROWS, replace=False)), np.float32),
                                copy=False))
        Z = np.empty((n_cases, pca.n_components_), dtype=np.float32)
        for lo, block in rows.blocks(np.float32, _SCALE_ROWS):
            Z[lo:lo + len(block)] = pca.transform(scale.transform(block, copy=False))
    del rows
    n = len(Z)
    sample = rng.choice(n, size=min(n, sample_size), replace=False) if n > sample_size else np.arange(n)
    scores, fits = [], {}
    for k in _progress(ks, enabled=progress and len(ks) > 1, desc="choosing k (silhouette)"):
        with warnings.catch_warnings():  # fewer distinct points than k: handled below
            warnings.simplefilter("ignore", ConvergenceWarning)
            km = KMeans(n_clusters=k, n_init=n_init, random_state=_seed(rng)).fit(Z)
        found = len(np.unique(km.labels_))
        if found < k:  # cases with the same features: k-means cannot make k groups of them
            if not auto:
                raise InvalidParameterError(
                    f"n_clusters={k}: the {n:,} cases of the log take only {found} distinct value(s) of the k-means "
                    f"features (features={cut(features)}), so k-means finds only {found} group(s); ask for "
                    f"n_clusters<={found}, add features, or use method='sequence'.")
            scores.append({"k": k, "score": float("nan"), "criterion": "silhouette", "inertia": float(km.inertia_)})
            continue
        fits[k] = km
        lab = km.labels_[sample]
        # the silhouette needs 2 <= clusters <= cases - 1
        sil = silhouette_score(Z[sample], lab) if 1 < len(np.unique(lab)) < len(lab) else float("nan")
        scores.append({"k": k, "score": float(sil), "criterion": "silhouette", "inertia": float(km.inertia_)})
    if not fits:
        raise InvalidParameterError(
            f"the {n:,} cases of the log take too few distinct values of the k-means features (features="
            f"{cut(features)}) to make {ks[0]} or more groups; pass n_clusters=1, add features, or use "
            "method='sequence'.")
    if auto:
        valid = [s for s in scores if np.isfinite(s["score"])]
        k_best = max(valid, key=lambda s: (s["score"], -s["k"]))["k"] if valid else min(fits)
    else:
        k_best = ks[0]
    km = fits[k_best]
    raw = km.labels_.astype(np.int64)
    remap = _relabel(raw, np.ones(n), k_best)
    pipe = Pipeline([("features", vec), ("reduce", reduce), ("kmeans", km)])
    return {"raw": raw, "remap": remap, "probs": None, "k": k_best, "scores": scores, "estimator": pipe,
                "extra": {"n_features": int(Z.shape[1])}}


def _fit_sequence(log, ks, auto, *, rng, n_init, sample_size, progress):
    vid, keys, counts, _first = variants_of(log)
    V = len(keys)
    w_all = counts.astype(float)
    if V > sample_size:
        sample = np.sort(rng.choice(V, size=sample_size, replace=False, p=w_all / w_all.sum()))
    else:
        sample = np.arange(V)
    D = edit_distances(keys[sample], keys[sample]).astype(np.float64)
    w = w_all[sample]
    scores, fits = [], {}
    for k in _progress(ks, enabled=progress and len(ks) > 1, desc="choosing k (silhouette)"):
        med, lab, cost = kmedoids(D, w, k, random_state=_seed(rng), n_init=n_init)
        fits[k] = (med, lab, cost)
        scores.append({"k": k, "score": weighted_silhouette(D, w, lab), "criterion": "silhouette", "cost": cost})
    if auto:
        valid = [s for s in scores if np.isfinite(s["score"])]
        k_best = max(valid, key=lambda s: (s["score"], -s["k"]))["k"] if valid else ks[0]
    else:
        k_best = ks[0]
    med, _, _ = fits[k_best]
    med_keys = keys[sample][med]
    Dm = edit_distances(keys, med_keys)
    raw_v = Dm.argmin(axis=1).astype(np.int64)
    remap = _relabel(raw_v, w_all, k_best)
    acts = activity_names(log)
    medoids = tuple(decode(key, acts) for key in med_keys)
    return {"raw": raw_v[vid], "remap": remap, "probs": None, "k": k_best, "scores": scores, "medoids": medoids,
                "extra": {"n_variants": int(V), "n_sampled_variants": len(sample)}}


# --------------------------------------------------------------------------- the public function


@checked(log=LOG, n_clusters=AutoOr(Int(minimum=1, example=4), what="a whole number >= 1",
                                    meaning="picks k over k_range"),
         method=Choice(*METHODS), journey=Optional(JOURNEY), random_state=RANDOM_STATE,
         k_range=IntPair(2, names=("k_min", "k_max"), example=(2, 8)), n_init=Optional(Int(minimum=1, example=5)),
         sample_size=Int(minimum=10, example=2000),
         smoothing=Real(0, low_open=True, example=0.1, what="a number > 0 (a Dirichlet pseudo-count)"),
         max_iter=Int(minimum=1, example=200), progress=Optional(BOOL))
def cluster_journeys(log, *, n_clusters="auto", method: str = "markov", journey=None, random_state=None,
                     k_range=(2, 8), features="auto", n_init: int | None = None, sample_size: int = 2000,
                     smoothing: float = 0.1, max_iter: int = 200, progress: bool | None = None) -> Segmentation:
    """Discover behavioural segments by clustering the journeys of a log.

    Parameters
    ----------
    log : EventLog
        Every case gets a label.
    n_clusters : int or "auto", default "auto"
        A number of segments, or ``"auto"`` to pick k over ``k_range`` by BIC (``"markov"``) or
        silhouette (``"kmeans"``, ``"sequence"``); the curve is kept in ``Segmentation.k_scores``
        and drawn by ``plot(kind="k")``.
    method : {"markov", "kmeans", "sequence"}, default "markov"
        See the module docstring for which suits which data.
    journey : Journey, optional
        Adds milestone and conformance features to ``"kmeans"`` and conformance / goal columns
        to the profiles and tests.
    random_state : int, optional
        Seed for reproducible results (same seed, same labels).
    k_range : (int, int), default (2, 8)
        (k_min, k_max) searched by ``"auto"``.
    features : "auto" or tuple of str
        Feature groups of ``"kmeans"`` (see :class:`~journeylab.features.JourneyVectorizer`).
    n_init : int, optional
        Restarts (EM restarts, k-means runs, k-medoids starts); default 5, 4, 3.
    sample_size : int, default 2000
        ``"sequence"``: at most this many distinct variants in the distance matrix;
        ``"kmeans"``: cases used for the silhouette.
    smoothing : float, default 0.1
        ``"markov"``: Dirichlet pseudo-count added to every start and transition.
    max_iter : int, default 200
        ``"markov"``: EM iterations per restart.
    progress : bool, optional
        Show progress bars (default: for logs over 50,000 cases).

    Returns
    -------
    Segmentation
        ``labels`` (one per case), ``probabilities`` (``"markov"``), ``k_scores``,
        ``profile()``, ``plot()``, ``process_map(segment)``, ``predict(other_log)``; for
        ``"markov"`` also ``transition_matrix(segment)``.

    Examples
    --------
    >>> import journeylab as jl
    >>> sample = jl.datasets.make_journeys(800, random_state=3)
    >>> seg = cluster_journeys(sample.log, n_clusters=4, method="kmeans", random_state=0)
    >>> from journeylab.features import case_attributes
    >>> seg.labels.index.equals(case_attributes(sample.log).index)
    True
    >>> cluster_journeys(sample.log, method="hmm")
    Traceback (most recent call last):
    ...
    journeylab.exceptions.InvalidParameterError: method='hmm' is not allowed; use one of ['markov', 'kmeans', 'sequence'].
    """
    rng = _rng(random_state)
    engine_tables(log, attributes=journey is not None)  # a lazy log: per-case tables, with a progress bar
    cases = case_ids(log)
    n_units = len(cases) if method == "kmeans" else len(variants_of(log).counts)
    ks, auto = _k_values(n_clusters, k_range, n_units)
    # the journey's columns now, not on first use: a journey that does not fit the log is refused here, not by
    # the repr or a profile later (the profiles and tests read this table anyway)
    table = case_attributes(log, journey=journey) if journey is not None else None
    show = progress if progress is not None else len(cases) > 50_000
    if method == "markov":
        fit = _fit_markov(log, ks, auto, rng=rng, smoothing=smoothing, n_init=n_init or 5, max_iter=max_iter,
                          progress=show)
    elif method == "kmeans":
        fit = _fit_kmeans(log, ks, auto, rng=rng, journey=journey, features=features, n_init=n_init or 4,
                          sample_size=sample_size, progress=show)
    else:
        fit = _fit_sequence(log, ks, auto, rng=rng, n_init=n_init or 3, sample_size=sample_size, progress=show)
    k = fit["k"]
    segments = tuple(f"cluster {i + 1}" for i in range(k))
    pos = fit["remap"][fit["raw"]]
    labels = pd.Series(pd.Categorical.from_codes(pos, categories=list(segments)), index=cases, name="segment")
    probs = None
    if fit["probs"] is not None:
        ordered = np.zeros_like(fit["probs"])
        ordered[:, fit["remap"]] = fit["probs"]
        probs = pd.DataFrame(ordered, index=cases, columns=list(segments))
    k_scores = pd.DataFrame(fit["scores"])
    k_scores["chosen"] = k_scores["k"] == k
    model = _Model(method, segments, fit["remap"], fit.get("estimator"), fit.get("medoids", ()))
    params = {"method": method, "n_clusters": n_clusters, "k": k, "random_state": random_state,
              "k_range": tuple(k_range), "features": features, "n_init": n_init, "sample_size": sample_size,
              "smoothing": smoothing, "max_iter": max_iter, "journey": None if journey is None else journey.name,
              **fit["extra"]}
    return Segmentation(labels, None, method, log, case_table=table, journey=journey, probabilities=probs,
                        model=model, k_scores=k_scores, params=params, exclusive=True)
