"""Rule segments, the Segmentation result, case attributes and compare_segments."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journeylab as jl
from journeylab.exceptions import InvalidParameterError
from journeylab.segment_compare import benjamini_hochberg, pseudo_f_test
from journeylab.segments import (
    Segmentation,
    SegmentComparison,
    case_attributes,
    cluster_journeys,
    compare_segments,
    segment_by,
)


@pytest.fixture
def small(small_df):
    return jl.from_pandas(small_df, case="client", activity="step", timestamp="ts", channel="where", value="amount")


@pytest.fixture(scope="module")
def sample():
    return jl.datasets.make_journeys(1500, random_state=5)


# --------------------------------------------------------------------------- case attributes


def test_case_attribute_vocabulary(small):
    a = case_attributes(small)
    assert list(a.index) == ["c1", "c2", "c3"]
    c1 = a.loc["c1"]
    assert (c1["n_events"], c1["n_activities"], c1["first_activity"], c1["last_activity"]) == (3, 3, "visit", "buy")
    assert (c1["first_channel"], c1["last_channel"], c1["main_channel"], c1["n_channels"]) == ("web", "app", "web", 2)
    assert c1["duration_hours"] == pytest.approx(0.5) and c1["duration_days"] == pytest.approx(0.5 / 24)
    assert c1["value_sum"] == 80.0 and c1["value_max"] == 80.0
    assert a.loc["c3", "value_sum"] == 0.0 and np.isnan(a.loc["c3", "value_max"])
    assert c1["share_web"] == pytest.approx(2 / 3) and c1["share_app"] == pytest.approx(1 / 3)
    assert a["count_visit"].tolist() == [1, 1, 1] and a["count_buy"].tolist() == [1, 0, 0]


def test_case_attributes_keep_the_first_value_of_each_attribute():
    df = pd.DataFrame({"c": ["a", "a", "b"], "act": ["x", "y", "x"], "t": ["2025-01-01", "2025-01-02", "2025-01-01"],
                       "region": [None, "north", "south"], "add to cart": [1, 2, 3]})
    a = case_attributes(jl.from_pandas(df, case="c", activity="act", timestamp="t"))
    assert a["region"].tolist() == ["north", "south"]
    assert a["add to cart"].tolist() == [1, 3]  # attributes keep their names (backticks in rules)


def test_case_attributes_with_a_journey(sample):
    a = case_attributes(sample.log, journey=sample.journey)
    for col in ("in_journey", "conforms", "conformance_cost", "fitness", "goal", "milestones_reached", "reached_cart"):
        assert col in a.columns
    assert not a.loc[~a["in_journey"], "conforms"].any()
    assert (a.loc[~a["in_journey"], "conformance_cost"] == len(sample.journey.happy_path)).all()
    assert a["milestones_reached"].between(0, len(sample.journey.happy_path)).all()


# --------------------------------------------------------------------------- segment_by


def test_overlapping_and_exclusive_rules(sample):
    rules = {"app_first": "first_channel == 'app'", "big": "value_sum > 150"}
    a = case_attributes(sample.log)
    is_app, is_big = a["first_channel"].eq("app").to_numpy(), (a["value_sum"] > 150).to_numpy()
    over = segment_by(sample.log, rules)
    assert over.segments == ("app_first", "big", "other")
    assert not over.exclusive and over.sizes.loc["big", "cases"] == is_big.sum()
    np.testing.assert_array_equal(over.membership["app_first"], is_app)
    np.testing.assert_array_equal(over.membership["other"], ~(is_app | is_big))
    assert (is_app & is_big).any()  # the two overlap
    excl = segment_by(sample.log, rules, exclusive=True)
    assert excl.sizes.loc["big", "cases"] == (is_big & ~is_app).sum()  # first match wins
    assert excl.sizes["cases"].sum() == sample.log.n_cases
    pd.testing.assert_series_equal(over.labels, excl.labels)  # labels: the first match in both modes
    assert over.to_frame().filter(like="in_").shape[1] == 3


def test_no_other_segment_when_every_case_matches(small):
    seg = segment_by(small, {"all": "n_events >= 1"})
    assert seg.segments == ("all",) and seg.labels.eq("all").all()


def test_rules_with_journey_and_extra_attributes(sample):
    crm = pd.DataFrame({"score": np.arange(sample.log.n_cases)}, index=case_attributes(sample.log).index)
    seg = segment_by(sample.log, {"converted": "goal == true", "vip": "score >= 1000"}, journey=sample.journey,
                     attributes=crm, exclusive=True)
    attrs = case_attributes(sample.log, journey=sample.journey)
    assert seg.sizes.loc["converted", "cases"] == attrs["goal"].sum()
    assert "goal_rate" in seg.profile().columns
    assert seg.profile().loc["converted", "goal_rate"] == 1.0


@pytest.mark.parametrize("rules,match", [
    ({"x": "n_event > 3"}, (r"rule 'n_event > 3' names the column 'n_event', which is not a case attribute\. "
                           r"Closest: 'n_events'")),
    ({"x": "value_sum >"}, r"segment 'x': condition 'value_sum >': expected a value"),
    ({"x": "n_events > 3 or n_events < 1"}, "'or' is not supported"),
    ({"x": "__import__('os')"}, "function calls are not allowed"),
    ({"x": "first_channel > 3"}, "holds text"),
    ({"x": ""}, "it is empty"),
    ({"x": 5}, "the rule must be text"),
    ({}, "rules must be a non-empty mapping"),
    ({"other": "n_events > 1"}, "is the name of the segment of the remaining cases"),
    ({"": "n_events > 1"}, "segment names must be non-empty text"),
])
def test_rule_errors_read_like_advice(small, rules, match):
    with pytest.raises(InvalidParameterError, match=match):
        segment_by(small, rules)


def test_goal_rule_without_journey_says_how_to_fix(small):
    with pytest.raises(InvalidParameterError, match="not a case attribute.*case_attributes"):
        segment_by(small, {"won": "goal == true"})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(threshold=st.integers(0, 40), exclusive=st.booleans(), seed=st.integers(0, 10))
def test_every_case_gets_a_segment_and_row_order_changes_nothing(threshold, exclusive, seed):
    rng = np.random.default_rng(seed)
    n = 30
    df = pd.DataFrame({"c": rng.integers(0, 12, n).astype(str), "a": rng.choice(["x", "y", "z"], n),
                       "t": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"),
                       "amount": rng.integers(0, 20, n).astype(float)})
    rules = {"big": f"value_sum > {threshold}", "xs": "count_x >= 2"}
    log = jl.from_pandas(df, case="c", activity="a", timestamp="t", value="amount")
    seg = segment_by(log, rules, exclusive=exclusive)
    assert seg.labels.notna().all() and len(seg.labels) == log.n_cases
    assert seg.membership.any(axis=1).all()
    shuffled = jl.from_pandas(df.sample(frac=1.0, random_state=seed), case="c", activity="a", timestamp="t",
                              value="amount")
    pd.testing.assert_series_equal(segment_by(shuffled, rules, exclusive=exclusive).labels, seg.labels)


# --------------------------------------------------------------------------- the Segmentation result


def test_segmentation_reprs_tables_and_profile(sample):
    seg = cluster_journeys(sample.log, n_clusters=4, journey=sample.journey, random_state=0)
    assert isinstance(seg, Segmentation)
    assert repr(seg).startswith("Segmentation: 1,500 cases in 4 segments by markov clustering, k=4")
    html = seg._repr_html_()
    assert "typical_journey" in html and "<table" in html
    prof = seg.profile()
    for col in ("cases", "share", "typical_journey", "top_activities", "top_transitions", "events_median",
                "duration_median_days", "main_channels", "value_mean", "goal_rate", "conformance_rate",
                "conformance_cost_mean", "nps", "csat", "ces"):
        assert col in prof.columns, col
    assert prof["cases"].sum() == 1500 and prof["share"].sum() == pytest.approx(1.0)
    assert (prof["top_activities"] != "-").all()
    assert seg.summary.index.equals(prof.index)
    assert seg.params["method"] == "markov" and seg.params["k"] == 4
    lift = seg.lift()
    share = seg.presence("activities")
    # lift = segment share / overall share, so the size-weighted mean of each column's lift is 1
    w = seg.sizes["cases"].to_numpy()[:, None]
    overall = (share * w).sum() / w.sum()
    np.testing.assert_allclose((lift * overall).mul(w[:, 0], axis=0).sum() / w.sum(), overall)


def test_typical_journey_is_a_journey_of_the_segment():
    log = jl.datasets.load_example()
    seg = segment_by(log, {"rejected": "count_reject_request > 0"})
    typical = seg.profile().loc["rejected", "typical_journey"]
    seqs = {" > ".join(v) for v in jl.engine.variants(log.filter_cases(list(seg.members("rejected"))))["variant"]}
    assert typical.replace(" > ... ", "").split(" (+")[0] in {s[:len(typical)] for s in seqs} or typical in seqs


def test_process_map_members_and_errors(sample):
    seg = segment_by(sample.log, {"app_first": "first_channel == 'app'"}, exclusive=True)
    m = seg.process_map("app_first")
    assert m.n_cases == seg.sizes.loc["app_first", "cases"]
    with pytest.raises(InvalidParameterError, match="segment='app first' is not a segment.*Did you mean 'app_first'"):
        seg.process_map("app first")
    assert len(seg.members("other")) == seg.sizes.loc["other", "cases"]


def test_transition_matrix_of_rule_segments_is_empirical(small):
    seg = segment_by(small, {"two+": "n_events >= 2"})
    tm = seg.transition_matrix("two+")
    assert tm.loc["visit", "cart"] == 1.0 and tm.loc["cart", "buy"] == 0.5 and tm.loc["cart", "[end]"] == 0.5


def test_predict_rules_on_another_log(sample):
    other = jl.datasets.make_journeys(300, random_state=8)
    seg = segment_by(sample.log, {"app_first": "first_channel == 'app'"})
    new = seg.predict(other.log)
    assert new.segments == ("app_first", "other")
    assert new.sizes.loc["app_first", "cases"] == (case_attributes(other.log)["first_channel"] == "app").sum()


@pytest.mark.parametrize("kind", ["profile", "sizes", "k"])
def test_plots_return_axes(sample, kind):
    import matplotlib.pyplot as plt

    seg = cluster_journeys(sample.log, method="markov", k_range=(2, 4), random_state=0)
    ax = seg.plot(kind=kind)
    assert ax.get_title(loc="left")
    plt.close("all")
    _fig, given_ax = plt.subplots()
    assert seg.plot(ax=given_ax, kind=kind) is given_ax
    plt.close("all")


def test_plot_errors(sample):
    import matplotlib.pyplot as plt

    seg = segment_by(sample.log, {"app": "first_channel == 'app'"})
    with pytest.raises(InvalidParameterError, match="no k curve"):
        seg.plot(kind="k")
    with pytest.raises(InvalidParameterError, match="kind='pie' is not allowed"):
        seg.plot(kind="pie")
    with pytest.raises(InvalidParameterError, match="needs segment="):
        seg.plot(kind="transitions")
    ax = seg.plot(kind="transitions", segment="app")
    assert "app" in ax.get_title(loc="left")
    plt.close("all")


# --------------------------------------------------------------------------- compare_segments


def test_benjamini_hochberg_matches_the_definition():
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216])
    adj = benjamini_hochberg(p)
    m = len(p)
    ref = np.minimum.accumulate((p * m / np.arange(1, m + 1))[::-1])[::-1]
    np.testing.assert_allclose(adj, ref)
    assert np.isnan(benjamini_hochberg([np.nan, 0.5])[0])


def test_pseudo_f_matches_a_direct_computation():
    rng = np.random.default_rng(0)
    pts = np.r_[rng.normal(0, 1, (15, 2)), rng.normal(1.5, 1, (10, 2))]
    D = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))
    lab = np.r_[np.zeros(15, int), np.ones(10, int)]
    f, r2, p = pseudo_f_test(D, lab, n_permutations=199, random_state=0)
    n = 25
    ss_t = D[np.triu_indices(n, 1)].sum() / n
    ss_w = sum(D[np.ix_(lab == g, lab == g)][np.triu_indices((lab == g).sum(), 1)].sum() / (lab == g).sum()
               for g in (0, 1))
    assert r2 == pytest.approx((ss_t - ss_w) / ss_t)
    assert f == pytest.approx(((ss_t - ss_w) / 1) / (ss_w / (n - 2)))
    assert p < 0.05


def test_compare_finds_planted_differences(sample):
    seg = cluster_journeys(sample.log, n_clusters=4, journey=sample.journey, random_state=0)
    comp = compare_segments(seg, random_state=0, n_permutations=199)
    assert isinstance(comp, SegmentComparison)
    t = comp.to_frame()
    assert set(t["metric"]) == {"goal", "conformance", "duration", "n_events", "value", "sequence"}
    omni = t[t["comparison"] == "all segments"].set_index("metric")
    assert omni.loc["sequence", "significant"] and omni.loc["n_events", "significant"]
    assert omni.loc["goal", "significant"]  # the segments convert differently
    assert t["p_adjusted"].dropna().ge(t["p_value"].dropna()).all()
    assert repr(comp).startswith("SegmentComparison: ") and "Benjamini-Hochberg" in repr(comp)
    assert "<table" in comp._repr_html_()
    prop = t[(t["metric"] == "goal") & (t["comparison"] != "all segments")]
    assert (prop["ci_low"] <= prop["difference"]).all() and (prop["difference"] <= prop["ci_high"]).all()
    assert prop["effect_measure"].eq("Cohen's h").all()


@pytest.mark.filterwarnings("ignore::journeylab.DataQualityWarning")
def test_compare_finds_nothing_between_random_splits_of_one_segment(sample):
    seg = cluster_journeys(sample.log, n_clusters=4, journey=sample.journey, random_state=0)
    one = seg.members("cluster 1")
    rng = np.random.default_rng(1)
    half = pd.DataFrame({"half": rng.integers(0, 2, len(one))}, index=one)
    split = segment_by(sample.log.filter_cases(list(one)), {"a": "half == 0"}, attributes=half,
                       journey=sample.journey, exclusive=True)
    comp = compare_segments(split, random_state=0, n_permutations=199)
    assert comp.table["p_value"].notna().sum() >= 5
    assert not comp.table["significant"].any()


def test_small_groups_are_flagged_not_tested(small):
    seg = segment_by(small, {"buyers": "count_buy > 0"}, exclusive=True)
    comp = compare_segments(seg, metrics=["n_events", "duration"], random_state=0)
    t = comp.to_frame()
    assert t["p_value"].isna().all() and not t["significant"].any()
    assert t["note"].str.contains("small group, not tested: buyers \\(n=1\\)").all()
    assert "not tested" in repr(comp)


def test_one_vs_rest_for_overlapping_segments(sample):
    seg = segment_by(sample.log, {"app": "first_channel == 'app'", "long": "n_events > 20"})
    comp = compare_segments(seg, metrics=["n_events"], random_state=0)
    assert list(comp.table["comparison"]) == ["app vs rest", "long vs rest", "other vs rest"]
    with pytest.raises(InvalidParameterError, match="comparisons='pairwise' needs exclusive segments"):
        compare_segments(seg, comparisons="pairwise")


def test_exact_test_for_small_expected_counts():
    rows = []
    for i in range(60):
        seq = ["view", "buy"] if (i < 30 and i % 10 == 0) else ["view"]
        for j, a in enumerate(seq):
            rows.append((f"c{i:02d}", a, pd.Timestamp("2025-01-01") + pd.Timedelta(minutes=j), "web" if i < 30 else "app"))
    log = jl.from_pandas(pd.DataFrame(rows, columns=["c", "a", "t", "ch"]), case="c", activity="a", timestamp="t",
                         channel="ch")
    seg = segment_by(log, {"web": "first_channel == 'web'"}, exclusive=True)
    attrs = case_attributes(log)
    assert attrs["count_buy"].sum() == 3
    comp = compare_segments(seg, metrics=["count_buy"], random_state=0)
    assert comp.table["test"].item() == "Mann-Whitney U"  # a count is numeric
    seg2 = segment_by(log, {"web": "first_channel == 'web'"}, exclusive=True,
                      attributes=pd.DataFrame({"bought": attrs["count_buy"] > 0}))
    comp2 = compare_segments(seg2, metrics=["bought"], random_state=0)
    assert comp2.table["test"].item() == "Fisher exact"


@pytest.mark.parametrize("kwargs,match", [
    ({"metrics": ["gaol"]}, "metric 'gaol' is not a metric nor a case attribute. Did you mean 'goal'"),
    ({"metrics": ["first_channel"]}, "only yes/no or numeric columns"),
    ({"comparisons": "all"}, "comparisons='all' is not allowed"),
    ({"alpha": 5}, "alpha=5 must be a number between 0 and 1"),
    ({"min_size": 1}, "min_size=1"),
    ({"metrics": []}, "metrics is empty"),
])
def test_compare_errors(small, kwargs, match):
    seg = segment_by(small, {"x": "n_events > 1"}, exclusive=True)
    with pytest.raises(InvalidParameterError, match=match):
        compare_segments(seg, **kwargs)


def test_goal_metric_without_a_journey_explains(small):
    seg = segment_by(small, {"x": "n_events > 1"}, exclusive=True)
    with pytest.raises(InvalidParameterError, match="metric 'goal' needs a journey with a goal"):
        compare_segments(seg, metrics=["goal"])
    with pytest.raises(InvalidParameterError, match="must be a Segmentation"):
        compare_segments("not a segmentation")


def test_comparison_plot_and_formatting(sample):
    import matplotlib.pyplot as plt

    seg = segment_by(sample.log, {"app": "first_channel == 'app'", "web": "first_channel == 'web'"}, exclusive=True,
                     journey=sample.journey)
    comp = compare_segments(seg, metrics=["goal", "duration", "sequence"], random_state=0, n_permutations=99)
    ax = comp.plot()
    assert ax.get_title(loc="left").startswith("Differences between segments")
    plt.close("all")
    f = comp.formatted()
    assert f["estimates"].str.contains("%").any() and "difference (95% CI)" in f.columns
    assert comp.summary.loc["goal", "tests"] == 4


# --------------------------------------------------------------------------- the explorer


def test_segment_explorer_reproduces_its_result(sample):
    from journeylab.widgets.segments import segment_explorer

    ex = segment_explorer(sample.log, journey=sample.journey, n_clusters=3, random_state=0)
    assert ex.result.segments == ("cluster 1", "cluster 2", "cluster 3") and ex.error is None
    assert ex.code == ("jl.segments.cluster_journeys(log, method='markov', n_clusters=3, random_state=0, "
                       "journey=journey)")
    again = cluster_journeys(sample.log, journey=sample.journey, **ex.params)
    pd.testing.assert_series_equal(again.labels, ex.result.labels)
    ex.method.value = "kmeans"
    ex.features.value = ("counts", "channels")
    ex.run()
    assert ex.params["features"] == ("counts", "channels") and ex.result.method == "kmeans"
    assert list(ex.segment.options) == list(ex.result.segments)


def test_segment_explorer_shows_errors():
    from journeylab.widgets.segments import segment_explorer

    ex = segment_explorer(jl.datasets.load_example(), n_clusters=10, random_state=0)
    assert ex.result is None and "more than the 6 distinct journeys" in ex.error


# --------------------------------------------------------------------------- degenerate tests are not tested


def _three_groups(n_per: int = 25, *, buy_amount: float = 10.0) -> tuple[jl.EventLog, jl.Journey]:
    """Three regions of ``n_per`` cases each; every case buys for ``buy_amount``, so a goal on amount > 100 is
    never reached; journeys differ in length by region."""
    rows = []
    for i in range(3 * n_per):
        region = ("north", "south", "west")[i % 3]
        t0 = pd.Timestamp("2025-01-01") + pd.Timedelta(hours=i)
        steps = ["visit"] * (1 + i % 3 + (i % 7 == 0)) + ["cart", "buy"]
        for j, act in enumerate(steps):
            rows.append((f"c{i:03d}", act, t0 + pd.Timedelta(minutes=5 * j), region,
                         buy_amount if act == "buy" else np.nan))
    df = pd.DataFrame(rows, columns=["c", "act", "t", "region", "amount"])
    log = jl.from_pandas(df, case="c", activity="act", timestamp="t")
    journey = jl.Journey.from_dict({"name": "shop", "milestones": [{"name": "cart", "activities": ["cart"]},
                                                                   {"name": "buy", "activities": ["buy"]}],
                                    "goal": {"type": "purchase", "activity": "buy", "when": "amount > 100"}})
    return log, journey


def test_a_goal_nobody_reaches_is_not_tested_and_left_out_of_the_correction():
    log, journey = _three_groups()
    seg = jl.segments.attribute_segmentation(log, "region", journey=journey)
    assert len(seg.segments) == 3 and not seg.attributes["goal"].any()
    comp = compare_segments(seg, metrics=["goal", "n_events", "conformance"], random_state=0, n_permutations=99)
    t = comp.to_frame()
    goal = t[t["metric"] == "goal"]
    assert len(goal) == 4  # all segments, then each pair
    assert goal["p_value"].isna().all() and goal["p_adjusted"].isna().all() and not goal["significant"].any()
    assert goal["note"].str.fullmatch("no variation, not tested: every case has the value no").all()
    pairs = goal[goal["comparison"] != "all segments"]
    assert (pairs["estimate_a"] == 0).all() and (pairs["difference"] == 0).all()
    # every case conforms (cart then buy): not tested either
    assert t.loc[t["metric"] == "conformance", "note"].str.contains("every case has the value yes").all()
    # the correction counts the tests that ran, and only them
    ran = t["p_value"].notna()
    assert ran.sum() == 4  # n_events varies
    np.testing.assert_allclose(t.loc[ran, "p_adjusted"], benjamini_hochberg(t.loc[ran, "p_value"]))
    assert comp.summary.loc["goal", "not tested"] == 4 and comp.summary.loc["goal", "tests"] == 0
    assert "8 not tested" in repr(comp)
    assert "every case has the value no" in comp._repr_html_()


def test_constant_numbers_and_sequences_are_not_tested():
    rows = [(f"c{i:02d}", a, pd.Timestamp("2025-01-01") + pd.Timedelta(hours=i, minutes=j), ("a", "b", "c")[i % 3])
            for i in range(60) for j, a in enumerate(["visit", "buy"])]
    log = jl.from_pandas(pd.DataFrame(rows, columns=["c", "act", "t", "g"]), case="c", activity="act", timestamp="t")
    seg = jl.segments.attribute_segmentation(log, "g")
    comp = compare_segments(seg, metrics=["n_events", "duration", "sequence"], random_state=0, n_permutations=99)
    t = comp.to_frame()
    assert t["p_value"].isna().all() and not t["significant"].any()
    assert t.loc[t["metric"] == "n_events", "note"].str.fullmatch("no variation, not tested: every case has the "
                                                                  "value 2").all()
    assert t.loc[t["metric"] == "sequence", "note"].str.startswith("no variation, not tested: every case has the "
                                                                   "same sequence").all()
    two = segment_by(log, {"a": "g == 'a'"}, exclusive=True)
    t2 = compare_segments(two, metrics=["n_events"], random_state=0).to_frame()
    assert t2["p_value"].isna().all() and t2["note"].item().startswith("no variation, not tested")
    assert t2["difference"].item() == 0 and t2["estimate_a"].item() == 2


def test_empty_segment_and_missing_metric_are_flagged():
    log, _ = _three_groups(10)
    extra = pd.DataFrame({"score": np.nan, "spend": np.arange(30.0)}, index=case_attributes(log).index)
    seg = segment_by(log, {"nobody": "n_events > 100", "north": "region == 'north'", "south": "region == 'south'"},
                     exclusive=True, attributes=extra)
    assert seg.sizes.loc["nobody", "cases"] == 0
    comp = compare_segments(seg, metrics=["score", "spend"], min_size=5, random_state=0)
    t = comp.to_frame().set_index(["metric", "comparison"])
    assert t.loc[("score", "all segments"), "note"] == "no values, not tested: 'score' is missing for every case"
    assert t.loc["score", "p_value"].isna().all()
    omni = t.loc[("spend", "all segments")]
    assert omni["p_value"] > 0 and "left out, fewer than 5 cases: nobody (n=0)" in omni["note"]
    assert t.loc[("spend", "nobody vs north"), "note"].startswith("small group, not tested: nobody (n=0)")
    assert not np.isnan(t.loc[("spend", "north vs south"), "p_value"])


@pytest.mark.parametrize("module", ["journeylab.segment_compare", "journeylab.clustering", "journeylab.segments",
                                    "journeylab.segmentation", "journeylab.features", "journeylab._kernels.cases",
                                    "journeylab._report.segments"])
def test_doctests(module):
    import doctest
    import importlib

    res = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0


# --------------------------------------------------------------------------- checks, prediction, moved names


@pytest.mark.parametrize("call", [
    lambda df: segment_by(df, {"x": "n_events > 1"}),
    lambda df: case_attributes(df),
    lambda df: cluster_journeys(df),
    lambda df: jl.segments.attribute_segmentation(df, "where"),
])
def test_a_dataframe_is_refused_with_advice(small_df, call):
    with pytest.raises(InvalidParameterError, match="log must be a journeylab EventLog, got a pandas DataFrame: wrap "
                                                    r"it with jl\.from_pandas"):
        call(small_df)


def test_parameter_errors_read_like_advice(small):
    with pytest.raises(InvalidParameterError, match=r"segmentation must be a Segmentation \(from segment_by or "
                                                    r"cluster_journeys\), got int 3\."):
        compare_segments(3)
    with pytest.raises(InvalidParameterError, match="max_segments=1 must be a whole number >= 2, e.g. max_segments=12"):
        jl.segments.attribute_segmentation(small, "where", max_segments=1)
    with pytest.raises(InvalidParameterError, match="exclusive='yes' must be True or False"):
        segment_by(small, {"x": "n_events > 1"}, exclusive="yes")
    seg = segment_by(small, {"x": "n_events > 1"})
    with pytest.raises(InvalidParameterError, match="top=0 must be a whole number >= 1, e.g. top=3"):
        seg.profile(top=0)
    with pytest.raises(InvalidParameterError, match=r"kind='pairs' is not allowed; use one of \['activities', "
                                                    r"'transitions'\]"):
        seg.lift("pairs")


def test_attribute_segmentation_places_another_log(sample):
    seg = jl.segments.attribute_segmentation(sample.log, "region", max_segments=3)
    assert seg.segments[-1] == "other" and len(seg.segments) == 3
    again = seg.predict(sample.log)
    pd.testing.assert_series_equal(again.labels, seg.labels)
    df = sample.log.to_pandas()
    df["region"] = df["region"].astype(object)
    df.loc[df["case"] == df["case"].iloc[0], "region"] = "atlantis"  # a value never seen: pooled in other
    other = jl.from_pandas(df, case="case", activity="activity", timestamp="timestamp", channel="channel",
                           value="value")
    placed = seg.predict(other)
    assert placed.segments == seg.segments and placed.labels.loc[df["case"].iloc[0]] == "other"
    assert placed.params["predicted_from"] == repr(seg)


def test_a_segmentation_without_a_model_says_it_cannot_predict(small):
    seg = segment_by(small, {"x": "n_events > 1"})
    bare = Segmentation(seg.labels, None, "rules", small)
    assert bare.membership.sum().tolist() == seg.sizes["cases"].tolist()  # membership made from the labels
    with pytest.raises(InvalidParameterError, match=r"this segmentation \(rules\) has no model to place other "
                                                    "cases with"):
        bare.predict(small)


def test_segmentation_pickles_without_its_cache(sample):
    import pickle

    seg = segment_by(sample.log, {"app": "first_channel == 'app'"}, journey=sample.journey)
    prof = seg.profile()
    back = pickle.loads(pickle.dumps(seg))
    assert "_cache" not in back.__dict__
    pd.testing.assert_frame_equal(back.profile(), prof)
    pd.testing.assert_series_equal(back.predict(sample.log).labels, seg.labels)


def test_moved_names_warn_and_still_work():
    import journeylab.features as features_module
    import journeylab.segments as segments_module

    log = jl.datasets.load_example()
    with pytest.warns(DeprecationWarning, match=r"journeylab\.segments\.report_section is deprecated.*"
                                                r"journeylab\._report\.segments"):
        report_section = segments_module.report_section
    assert "<h2>Segments</h2>" in report_section(log)
    with pytest.warns(DeprecationWarning, match=r"journeylab\.features\.case_attributes_duration is deprecated"):
        duration = features_module.case_attributes_duration
    from journeylab._kernels.cases import case_layout

    np.testing.assert_allclose(duration(case_layout(log)), case_attributes(log)["duration_hours"])
    with pytest.raises(AttributeError):
        segments_module.no_such_name  # noqa: B018


def test_compare_segments_warns_when_a_rule_reads_the_outcome_it_tests():
    import warnings

    sample = jl.datasets.make_journeys(600, random_state=1)
    rules = {"big_spenders": "value_sum > 200", "app_first": "first_channel == 'app'"}
    seg = jl.segment_by(sample.log, rules, journey=sample.journey, exclusive=True)
    with pytest.warns(jl.DataQualityWarning, match=r"segment 'big_spenders' is defined by value_sum .*'goal' metric "
                                                   r"depends on.*by construction") as seen:
        jl.compare_segments(seg, metrics=["goal", "duration"], random_state=0)
    flagged = [str(w.message) for w in seen if "by construction" in str(w.message)]
    assert len(flagged) == 1 and "app_first" not in flagged[0]  # only the rule that reads the outcome
    assert all(w.filename == __file__ for w in seen if "by construction" in str(w.message))
    fair = jl.segment_by(sample.log, {"app_first": "first_channel == 'app'"}, journey=sample.journey, exclusive=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*by construction.*")
        jl.compare_segments(fair, metrics=["goal", "duration"], random_state=0)


def test_report_section_clusters_a_sample_of_customers_when_the_log_has_more():
    from journeylab._report.sections import segments_section

    s = jl.datasets.make_journeys(400, random_state=5)
    part = segments_section(s.log, s.journey, sample=150)
    assert "Fitted on a uniform random sample of 150 of the 400 customers" in part
    drawn = segments_section(s.log.sample_customers(150, random_state=0), s.journey)
    assert re.sub(r'<p class="note">Fitted on a uniform random sample[^<]*</p>', "", part) == drawn
    assert segments_section(s.log, s.journey, sample=400) == segments_section(s.log, s.journey)
    by_region = segments_section(s.log, s.journey, segment_by="region", sample=150)
    assert "Segments by region" in by_region and "sample of 150 of the 400 customers" in by_region
