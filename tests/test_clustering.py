"""Clustering of journeys (journeylab.clustering) and the JourneyVectorizer (journeylab.features).

Synthetic logs with planted segments (three Markov chains over the same activities) check
that each method recovers them; the simulator's sample checks the recovery on realistic,
noisy journeys (the bundled retail sample when its files are installed).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.utils.estimator_checks import parametrize_with_checks

import journeylab as jl
from journeylab.clustering import (
    METHODS,
    _markov_counts,
    cluster_journeys,
    fit_markov_mixture,
    kmedoids,
    weighted_silhouette,
)
from journeylab.exceptions import InvalidParameterError
from journeylab.features import JourneyVectorizer, case_attributes, sequence_matrix

ACTS = ["home", "search", "product", "cart", "pay", "help"]
# three chains over the same activities: rows from-activity, columns to-activity then "end"


def _chains(seed: int = 42) -> dict:
    """Three chains that share every state but move differently: each row a Dirichlet draw, plus
    one signature move per chain (browser: search -> product, buyer: cart -> pay, help_seeker:
    help -> help)."""
    rng = np.random.default_rng(seed)
    out = {}
    sig = {"browser": ("search", "product"), "buyer": ("cart", "pay"), "help_seeker": ("help", "help")}
    for name, (a_sig, b_sig) in sig.items():
        chain = {"start": dict(zip(ACTS, rng.dirichlet(np.full(len(ACTS), 0.7))))}
        for a in ACTS:
            p = rng.dirichlet(np.full(len(ACTS) + 1, 0.7))
            p[-1] = 0.08  # stop: journeys of about a dozen steps
            row = dict(zip(ACTS + ["end"], p / p.sum()))
            if a == a_sig:
                row = {k: v * 0.3 for k, v in row.items()}
                row[b_sig] += 0.7
            chain[a] = row
        out[name] = chain
    return out


CHAINS = _chains()
CHANNEL = {"browser": "web", "buyer": "app", "help_seeker": "call"}


def planted(n_per: int = 100, seed: int = 0, *, shuffle: bool = False):
    """A log whose cases come from three Markov chains; returns (log, truth Series by case)."""
    rng = np.random.default_rng(seed)
    rows, truth = [], {}
    t0 = pd.Timestamp("2025-01-01")
    i = 0
    for seg, chain in CHAINS.items():
        for _ in range(n_per):
            case = f"c{i:04d}"
            i += 1
            truth[case] = seg
            state = rng.choice(list(chain["start"]), p=list(chain["start"].values()))
            t = t0 + pd.Timedelta(minutes=int(rng.integers(0, 10_000)))
            for step in range(20):
                rows.append((case, state, t, CHANNEL[seg] if rng.random() < 0.8 else "email"))
                t += pd.Timedelta(minutes=int(rng.integers(1, 60)))
                nxt = chain[state]
                probs = np.array(list(nxt.values()))
                state = rng.choice(list(nxt), p=probs / probs.sum())
                if state == "end":
                    break
    df = pd.DataFrame(rows, columns=["case", "activity", "ts", "channel"])
    if shuffle:
        df = df.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    log = jl.from_pandas(df, case="case", activity="activity", timestamp="ts", channel="channel")
    return log, pd.Series(truth, name="truth").sort_index()


TEMPLATES = {
    "quick_buy": ["home", "product", "cart", "pay"],
    "comparer": ["home", "search", "product", "search", "product", "product", "cart", "pay"],
    "support": ["home", "help", "help", "search", "help"],
}


def templated(n_per: int = 60, seed: int = 0, noise: float = 0.15):
    """Cases that follow one of three template journeys with edit noise (each step is dropped,
    replaced or followed by a random step with probability ``noise``); returns (log, truth)."""
    rng = np.random.default_rng(seed)
    rows, truth, i = [], {}, 0
    for seg, tpl in TEMPLATES.items():
        for _ in range(n_per):
            case = f"t{i:04d}"
            i += 1
            truth[case] = seg
            seq = []
            for act in tpl:
                u = rng.random()
                if u < noise / 3:
                    continue
                seq.append(ACTS[rng.integers(len(ACTS))] if u < 2 * noise / 3 else act)
                if u > 1 - noise / 3:
                    seq.append(ACTS[rng.integers(len(ACTS))])
            seq = seq or [tpl[0]]
            t = pd.Timestamp("2025-01-01") + pd.Timedelta(hours=int(rng.integers(0, 1000)))
            for j, act in enumerate(seq):
                rows.append((case, act, t + pd.Timedelta(minutes=5 * j)))
    df = pd.DataFrame(rows, columns=["case", "activity", "ts"])
    log = jl.from_pandas(df, case="case", activity="activity", timestamp="ts")
    return log, pd.Series(truth, name="truth").sort_index()


@pytest.fixture(scope="module")
def plant():
    return planted()


def ari(seg, truth) -> float:
    return adjusted_rand_score(truth.reindex(seg.labels.index), seg.labels)


# --------------------------------------------------------------------------- recovery


@pytest.fixture(scope="module")
def tpl():
    return templated()


@pytest.mark.parametrize("data,method,floor", [
    ("chains", "markov", 0.75),      # Bayes-optimal ARI on this data is about 0.85
    ("templates", "sequence", 0.95),
    ("templates", "markov", 0.7),
])
def test_methods_recover_planted_segments(plant, tpl, data, method, floor):
    log, truth = plant if data == "chains" else tpl
    seg = cluster_journeys(log, n_clusters=3, method=method, random_state=0)
    assert ari(seg, truth) >= floor
    assert seg.labels.notna().all() and len(seg.labels) == log.n_cases  # every case gets a label
    assert seg.segments == ("cluster 1", "cluster 2", "cluster 3")


def test_markov_auto_picks_the_true_k_by_bic(plant):
    log, truth = plant
    seg = cluster_journeys(log, method="markov", k_range=(2, 5), random_state=0)
    assert len(seg.segments) == 3
    ks = seg.k_scores
    assert list(ks["k"]) == [2, 3, 4, 5] and ks["criterion"].eq("BIC").all()
    assert ks.loc[ks["chosen"], "k"].item() == 3 == ks.loc[ks["score"].idxmin(), "k"]
    assert ari(seg, truth) >= 0.75


def test_sequence_auto_picks_the_true_k_by_silhouette(tpl):
    log, truth = tpl
    seg = cluster_journeys(log, method="sequence", k_range=(2, 5), random_state=0)
    ks = seg.k_scores
    assert ks["criterion"].eq("silhouette").all() and len(seg.segments) == 3
    assert ks.loc[ks["chosen"], "score"].item() == ks["score"].max()
    assert ari(seg, truth) >= 0.95
    # the medoids are real template journeys
    assert set(seg.profile()["typical_journey"]) == {" > ".join(t) for t in TEMPLATES.values()}


def test_auto_kmeans_records_its_silhouette_curve(plant):
    log, _ = plant
    seg = cluster_journeys(log, method="kmeans", k_range=(2, 4), random_state=0)
    ks = seg.k_scores
    assert list(ks["k"]) == [2, 3, 4] and ks["criterion"].eq("silhouette").all()
    assert ks.loc[ks["chosen"], "score"].item() == ks["score"].max()


def test_order_alone_separates_markov_clusters():
    """Same activities, opposite order: counts cannot tell them apart, transitions can."""
    rows = []
    for i in range(40):
        seq = ["a", "b", "c", "d"] if i % 2 else ["d", "c", "b", "a"]
        for j, act in enumerate(seq):
            rows.append((f"k{i:02d}", act, pd.Timestamp("2025-01-01") + pd.Timedelta(minutes=j)))
    log = jl.from_pandas(pd.DataFrame(rows, columns=["c", "a", "t"]), case="c", activity="a", timestamp="t")
    truth = pd.Series({f"k{i:02d}": i % 2 for i in range(40)})
    seg = cluster_journeys(log, n_clusters=2, method="markov", random_state=0)
    assert ari(seg, truth) == 1.0
    counts = JourneyVectorizer(features=("counts",)).fit_transform(log)
    assert (counts == counts[0]).all()  # activity counts are identical: no information to split on


# --------------------------------------------------------------------------- determinism and invariance


@pytest.mark.parametrize("method", METHODS)
def test_deterministic_with_random_state(plant, method):
    log, _ = plant
    a = cluster_journeys(log, n_clusters=3, method=method, random_state=7)
    b = cluster_journeys(log, n_clusters=3, method=method, random_state=7)
    pd.testing.assert_series_equal(a.labels, b.labels)
    if method == "markov":
        pd.testing.assert_frame_equal(a.probabilities, b.probabilities)


@pytest.mark.parametrize("method", ["markov", "sequence"])
def test_relabelling_invariance_row_order_does_not_matter(method):
    log1, _truth = planted(seed=3)
    log2, _ = planted(seed=3, shuffle=True)
    a = cluster_journeys(log1, n_clusters=3, method=method, random_state=0)
    b = cluster_journeys(log2, n_clusters=3, method=method, random_state=0)
    assert adjusted_rand_score(a.labels, b.labels.reindex(a.labels.index)) == 1.0
    # names follow sizes, so the same partition gets the same names
    assert (a.sizes["cases"].is_monotonic_decreasing and b.sizes["cases"].is_monotonic_decreasing)
    pd.testing.assert_series_equal(a.labels, b.labels)


def test_probabilities_are_a_distribution_and_match_labels(plant):
    log, _ = plant
    seg = cluster_journeys(log, n_clusters=3, method="markov", random_state=0)
    p = seg.probabilities
    assert list(p.columns) == list(seg.segments)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert (p.idxmax(axis=1) == seg.labels.astype(str)).all()
    assert seg.to_frame().filter(like="p_").shape[1] == 3


def test_markov_transition_matrix_is_part_of_the_profile(plant):
    log, _ = plant
    seg = cluster_journeys(log, n_clusters=3, method="markov", random_state=0)
    for s in seg.segments:
        tm = seg.transition_matrix(s)
        assert tm.columns[-1] == "[end]" and set(tm.index) == set(ACTS)
        np.testing.assert_allclose(tm.sum(axis=1), 1.0)
    # the buyers' chain: cart -> pay is its strongest move
    buyer = seg.labels[seg.labels.index == "c0100"].item()  # first buyer case
    assert seg.transition_matrix(buyer).loc["cart"].idxmax() == "pay"


@pytest.mark.parametrize("method", METHODS)
def test_predict_on_the_same_log_gives_the_fitted_labels(tpl, method):
    log, _ = tpl
    seg = cluster_journeys(log, n_clusters=3, method=method, random_state=0)
    again = seg.predict(log)
    assert again.segments == seg.segments
    pd.testing.assert_series_equal(again.labels, seg.labels)


def test_predict_places_the_cases_of_another_log(plant):
    log, _truth = plant
    other, other_truth = planted(n_per=40, seed=9)
    seg = cluster_journeys(log, n_clusters=3, method="markov", random_state=0)
    new = seg.predict(other)
    assert len(new.labels) == other.n_cases and new.probabilities is not None
    assert adjusted_rand_score(other_truth.reindex(new.labels.index), new.labels) >= 0.6


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("kwargs,match", [
    ({"method": "hmm"}, r"method='hmm' is not allowed; use one of \['markov', 'kmeans', 'sequence'\]"),
    ({"n_clusters": "many"}, "n_clusters='many' is not allowed"),
    ({"n_clusters": 0}, "n_clusters=0 must be a whole number"),
    ({"n_clusters": 10_000}, "more than the"),
    ({"k_range": (1, 3)}, r"k_range=\(1, 3\) must be a pair"),
    ({"smoothing": 0}, "smoothing=0 must be a number > 0"),
    ({"random_state": -1}, "random_state=-1"),
    ({"sample_size": 3}, "sample_size=3"),
])
def test_errors_read_like_advice(plant, kwargs, match):
    log, _ = plant
    with pytest.raises(InvalidParameterError, match=match):
        cluster_journeys(log, **kwargs)


def test_not_a_log():
    with pytest.raises(InvalidParameterError, match="must be a journeylab EventLog"):
        cluster_journeys(pd.DataFrame({"a": [1]}))


# --------------------------------------------------------------------------- the Markov mixture and k-medoids


def test_em_recovers_the_chain_parameters():
    log, truth = planted(n_per=300, seed=1)
    from journeylab._kernels.cases import case_layout

    c = case_layout(log)
    X = _markov_counts(c.codes, c.offsets, len(c.activities))
    model, R = fit_markov_mixture(X, np.ones(c.n), 3, activities=c.activities, random_state=0, smoothing=0.01)
    lab = R.argmax(axis=1)
    buyer = pd.Series(lab, index=c.cases)[truth[truth == "buyer"].index].mode().item()
    cart, pay = c.activities.index("cart"), c.activities.index("pay")
    assert model.transitions[buyer, cart, pay] == pytest.approx(CHAINS["buyer"]["cart"]["pay"], abs=0.06)
    np.testing.assert_allclose(model.weights.sum(), 1.0)
    assert model.converged and model.bic > -2 * model.loglik


def test_markov_counts_layout():
    X = _markov_counts(np.array([0, 1, 1, 2]), np.array([0, 3, 4]), 3)
    A = 3
    row0 = X[0].toarray().ravel()
    assert row0[0] == 1  # starts with activity 0
    assert row0[A + 0 * (A + 1) + 1] == 1 and row0[A + 1 * (A + 1) + 1] == 1  # 0->1, 1->1
    assert row0[A + 1 * (A + 1) + A] == 1  # 1 -> end
    assert X.sum() == 3 + 1 + 2  # starts + transitions (incl. ends)


def test_weighted_silhouette_equals_silhouette_of_the_expanded_cases():
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(12, 2)) + np.repeat([[0, 0], [4, 4], [0, 5]], 4, axis=0)
    w = rng.integers(1, 4, size=12).astype(float)
    D = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))
    _med, lab, cost = kmedoids(D, w, 3, random_state=0)
    expanded = np.repeat(np.arange(12), w.astype(int))
    ref = silhouette_score(D[np.ix_(expanded, expanded)], lab[expanded], metric="precomputed")
    assert weighted_silhouette(D, w, lab) == pytest.approx(ref)
    assert len(set(lab)) == 3 and cost > 0


# --------------------------------------------------------------------------- the vectorizer


@parametrize_with_checks([JourneyVectorizer(), JourneyVectorizer(features=("counts", "ngrams"), ngram_range=(1, 2))])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_vectorizer_log_and_sequence_matrix_agree(plant):
    log, _ = plant
    groups = ("counts", "ngrams", "length")
    a = JourneyVectorizer(features=groups).fit(log)
    b = JourneyVectorizer(features=groups).fit(sequence_matrix(log))
    assert set(a.get_feature_names_out()) == set(b.get_feature_names_out())
    fa = pd.DataFrame(a.transform(log), columns=a.get_feature_names_out())
    fb = pd.DataFrame(b.transform(sequence_matrix(log)), columns=b.get_feature_names_out())
    pd.testing.assert_frame_equal(fa, fb[fa.columns])


def test_vectorizer_groups_and_names(plant):
    log, _ = plant
    vec = JourneyVectorizer().fit(log)
    names = vec.get_feature_names_out()
    assert vec.groups_ == ("counts", "ngrams", "length", "duration", "channels")
    assert "count__help" in names and "channel__call" in names and "duration__log_hours" in names
    frame = vec.frame(log)
    assert frame.shape == (log.n_cases, len(names)) and frame.index.equals(case_attributes(log).index)
    tfidf = frame.filter(like="ngram__").to_numpy()
    np.testing.assert_allclose(np.linalg.norm(tfidf, axis=1)[np.linalg.norm(tfidf, axis=1) > 0], 1.0)


def test_vectorizer_with_a_journey():
    s = jl.datasets.make_journeys(300, random_state=2)
    vec = JourneyVectorizer(journey=s.journey).fit(s.log)
    names = list(vec.get_feature_names_out())
    assert "conformance__cost" in names and "milestone__cart" in names
    f = vec.frame(s.log)
    attrs = case_attributes(s.log, journey=s.journey)
    np.testing.assert_array_equal(f["conformance__cost"].to_numpy(), attrs["conformance_cost"].to_numpy())


def test_vectorizer_fitted_on_one_log_applies_to_another(plant):
    log, _ = plant
    other = jl.from_pandas(pd.DataFrame({"c": ["x", "x", "y"], "a": ["home", "unknown", "pay"],
                                         "t": ["2025-01-01", "2025-01-02", "2025-01-03"]}),
                           case="c", activity="a", timestamp="t")
    vec = JourneyVectorizer(features=("counts", "ngrams")).fit(log)
    X = vec.transform(other)
    assert X.shape == (2, len(vec.get_feature_names_out()))
    assert X[0, list(vec.get_feature_names_out()).index("count__home")] == pytest.approx(np.log(2))


@pytest.mark.parametrize("kwargs,match", [
    ({"features": ("counts", "colour")}, "unknown group"),
    ({"features": ("milestones",)}, "need a journey"),
    ({"ngram_range": (3, 2)}, "ngram_range"),
    ({"max_ngrams": -1}, "max_ngrams"),
])
def test_vectorizer_errors(plant, kwargs, match):
    log, _ = plant
    with pytest.raises(InvalidParameterError, match=match):
        JourneyVectorizer(**kwargs).fit(log)


def test_vectorizer_refuses_time_features_on_arrays_and_mixed_inputs(plant):
    log, _ = plant
    with pytest.raises(InvalidParameterError, match="need timestamps or channels"):
        JourneyVectorizer(features=("duration",)).fit([["a", "b"]])
    vec = JourneyVectorizer(features=("counts",)).fit(log)
    with pytest.raises(InvalidParameterError, match="fitted on an EventLog"):
        vec.transform([["home", "pay"]])


# --------------------------------------------------------------------------- the simulator's planted segments


def _sample():
    try:
        return jl.datasets.load_retail(), "bundled retail sample"
    except jl.JourneylabError:
        return jl.datasets.make_journeys(4000, random_state=20250101), "make_journeys(4000)"


@pytest.fixture(scope="module")
def sample():
    return _sample()


def test_sample_recovery_best_method_reaches_ari_08(sample, capsys):
    """Every method's ARI against the planted segments (true k = 4); the best must reach 0.8."""
    s, name = sample
    truth = s.truth.customers["segment"]
    k = truth.nunique()
    scores = {}
    for method in ("markov", "kmeans", "sequence"):
        seg = cluster_journeys(s.log, n_clusters=k, method=method, random_state=0)
        scores[method] = adjusted_rand_score(truth.reindex(seg.labels.index), seg.labels)
    with capsys.disabled():
        print(f"\n[{name}] ARI with the true k={k}: " + ", ".join(f"{m} {v:.3f}" for m, v in scores.items()))
    assert max(scores.values()) >= 0.8
    assert scores["markov"] >= 0.8


# --------------------------------------------------------------------------- tiny and degenerate logs


def _tiny(seqs, same_times: bool = False) -> jl.EventLog:
    rows = [(f"c{i}", a, pd.Timestamp("2025-01-01") + pd.Timedelta(hours=0 if same_times else i, minutes=j))
            for i, s in enumerate(seqs) for j, a in enumerate(s)]
    return jl.from_pandas(pd.DataFrame(rows, columns=["c", "a", "t"]), case="c", activity="a", timestamp="t")


TINY = {
    "1 case": [["x", "y"]],
    "2 cases": [["x", "y"], ["y", "x", "x"]],
    "3 cases": [["x", "y"], ["y"], ["x", "z", "y"]],
    "identical journeys": [["x", "y"]] * 5,
    "one activity": [["x"], ["x", "x"], ["x", "x", "x"]],
    "one event each": [["x"]] * 4,
}


@pytest.mark.parametrize("n_clusters", ["auto", 1, 2, 3])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", list(TINY))
def test_tiny_logs_give_a_segmentation_or_a_clear_error(name, method, n_clusters):
    log = _tiny(TINY[name])
    try:
        seg = cluster_journeys(log, method=method, n_clusters=n_clusters, random_state=0)
    except InvalidParameterError as err:
        assert "n_clusters" in str(err) or "k_min" in str(err)  # says what to change
        return
    sizes = seg.sizes["cases"]
    assert sizes.sum() == log.n_cases and (sizes > 0).all()  # every case labelled, no empty segment
    if n_clusters != "auto":
        assert len(seg.segments) == n_clusters
    assert seg.labels.notna().all()
    pd.testing.assert_series_equal(seg.predict(log).labels, seg.labels)


def test_kmeans_on_two_cases_and_on_cases_without_any_difference():
    two = cluster_journeys(_tiny(TINY["2 cases"]), method="kmeans", random_state=0)  # silhouette undefined at k = n
    assert two.segments == ("cluster 1", "cluster 2") and np.isnan(two.k_scores["score"]).all()
    one = cluster_journeys(_tiny([["x", "y"]]), method="kmeans", n_clusters=1, random_state=0)  # PCA of one case
    assert one.segments == ("cluster 1",)
    same = _tiny([["x", "y"]] * 5, same_times=True)
    with pytest.raises(InvalidParameterError, match=r"n_clusters=2: the 5 cases of the log take only 1 distinct "
                                                    r"value\(s\) of the k-means features .* ask for n_clusters<=1"):
        cluster_journeys(same, method="kmeans", n_clusters=2, random_state=0)
    with pytest.raises(InvalidParameterError, match="too few distinct values of the k-means features .* to make 2 "
                                                    "or more groups; pass n_clusters=1"):
        cluster_journeys(same, method="kmeans", random_state=0)
    with pytest.raises(InvalidParameterError, match=r"features=\('ngrams',\) give no feature on this log"):
        cluster_journeys(_tiny([["x"], ["y"], ["z"]]), method="kmeans", n_clusters=2, features=("ngrams",))


def test_markov_never_returns_an_empty_segment():
    log = _tiny(TINY["one activity"])  # x, x x, x x x: one chain explains them all
    with pytest.raises(InvalidParameterError, match=r"n_clusters=2: the mixture of Markov chains finds only 1 "
                                                    r"chain\(s\) that some journey prefers .* ask for n_clusters<=1"):
        cluster_journeys(log, method="markov", n_clusters=2, random_state=0)
    with pytest.raises(InvalidParameterError, match="finds fewer than k_min=2 chains .* pass n_clusters=1"):
        cluster_journeys(log, method="markov", random_state=0)
    seg = cluster_journeys(_tiny(TINY["3 cases"]), method="markov", random_state=0)  # auto used to pick an empty one
    assert (seg.sizes["cases"] > 0).all()


@pytest.mark.parametrize("method", METHODS)
def test_a_journey_that_does_not_fit_is_refused_by_the_call_not_by_the_repr(method):
    df = pd.DataFrame({"case": list("aabbc"), "activity": ["x", "y", "x", "x", "y"],
                       "t": pd.date_range("2025-01-01", periods=5, freq="h"), "amount": [1.0, 9, 3, 4, 5]})
    log = jl.from_pandas(df, case="case", activity="activity", timestamp="t", value="amount")
    bad = jl.Journey.from_dict({"name": "j", "milestones": [{"name": "m", "activities": ["x"]}],
                                "goal": {"type": "custom", "activity": "y", "when": "amount >= 5"}})
    with pytest.raises(jl.JourneyDefinitionError, match="condition 'amount >= 5': the events have no column 'amount'"):
        cluster_journeys(log, method=method, n_clusters=2, journey=bad, random_state=0)
    good = jl.Journey.from_dict({"name": "j", "milestones": [{"name": "m", "activities": ["x"]}],
                                 "goal": {"type": "custom", "activity": "y", "when": "value >= 5"}})
    seg = cluster_journeys(log, method=method, n_clusters=2, journey=good, random_state=0)
    assert seg.attributes["goal"].tolist() == [True, False, False]  # c never entered the journey: no credit
    assert "<table" in seg._repr_html_()


@pytest.mark.parametrize("kwargs,message", [
    ({"n_clusters": 0}, "n_clusters=0 must be a whole number >= 1, e.g. n_clusters=4. Or pass n_clusters='auto' "
                        "(picks k over k_range)."),
    ({"n_clusters": "many"}, "n_clusters='many' is not allowed; give a whole number >= 1, or 'auto' (picks k over "
                             "k_range)."),
    ({"k_range": (3, 2)}, "k_range=(3, 2) must be a pair (k_min, k_max) with 2 <= k_min <= k_max, e.g. "
                          "k_range=(2, 8)."),
    ({"n_init": 0}, "n_init=0 must be a whole number >= 1, e.g. n_init=5."),
    ({"progress": "yes"}, "progress='yes' must be True or False."),
])
def test_parameter_messages(plant, kwargs, message):
    import re

    log, _ = plant
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        cluster_journeys(log, **kwargs)


def test_vectorizer_parameter_messages(plant):
    import re

    log, _ = plant
    with pytest.raises(InvalidParameterError, match=re.escape("ngram_range=(0, 2) must be a pair (min_n, max_n) with "
                                                              "1 <= min_n <= max_n <= 5, e.g. ngram_range=(2, 3).")):
        JourneyVectorizer(ngram_range=(0, 2)).fit(log)
    with pytest.raises(InvalidParameterError, match=re.escape("width=0 must be a whole number >= 1, e.g. width=10.")):
        sequence_matrix(log, width=0)


def test_feature_row_blocks_are_alike_from_dense_and_sparse_parts_in_any_rows():
    from scipy import sparse

    from journeylab._core.arrays import RowBlocks

    rng = np.random.default_rng(0)
    a = rng.random((7, 3)) * (rng.random((7, 3)) > 0.5)  # per-variant rows, some zeros
    b = rng.random((23, 2))  # per-case rows
    expand = rng.integers(0, 7, size=23)  # the variant of each of 23 cases
    want = np.hstack([a[expand], b, a[expand]])
    rb = RowBlocks(23, [(a, expand), (b, None), (sparse.csr_matrix(a), expand)])
    assert rb.width == 8
    blocks = list(rb.blocks(np.float32, size=5))  # blocks smaller than the rows: every row once, in order
    assert [lo for lo, _ in blocks] == [0, 5, 10, 15, 20] and all(blk.dtype == np.float32 for _, blk in blocks)
    np.testing.assert_allclose(np.vstack([blk for _, blk in blocks]), want.astype(np.float32))
    np.testing.assert_array_equal(rb.matrix(np.float64), want)
    some = np.array([22, 3, 3, 0])
    np.testing.assert_array_equal(rb.take(some), want[some])
    assert rb.take(slice(0, 0)).shape == (0, 8) and RowBlocks(0, [(np.zeros((0, 2)), None)]).matrix().shape == (0, 2)


def test_kmeans_learns_its_axes_on_a_sample_of_a_large_log_and_projects_every_case(tpl, monkeypatch):
    import journeylab.clustering as clustering

    log, truth = tpl
    full = cluster_journeys(log, method="kmeans", n_clusters=3, random_state=0)
    monkeypatch.setattr(clustering, "_PCA_ROWS", log.n_cases // 3)  # "a large log": more cases than the sample
    monkeypatch.setattr(clustering, "_SCALE_ROWS", 64)  # blocks smaller than the log
    seg = cluster_journeys(log, method="kmeans", n_clusters=3, random_state=0)
    pca = seg.model.estimator.named_steps["reduce"].named_steps["pca"]
    assert pca.n_samples_ == log.n_cases // 3  # the axes come from the sample ...
    pd.testing.assert_series_equal(seg.predict(log).labels, seg.labels)  # ... and every case is projected by them
    assert len(seg.labels) == log.n_cases and seg.labels.notna().all()
    assert adjusted_rand_score(full.labels, seg.labels) >= 0.95  # the same segments as axes from every case
    assert ari(seg, truth) >= ari(full, truth) - 0.05
    again = cluster_journeys(log, method="kmeans", n_clusters=3, random_state=0)
    pd.testing.assert_series_equal(again.labels, seg.labels)  # the sample is drawn from random_state
