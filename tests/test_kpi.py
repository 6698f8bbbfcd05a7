"""Experience KPIs: NPS / CSAT / CES, touchpoint scores, peak-end and contact peaks.

Hand-computed values first, then errors, then the planted effects of the bundled sample.
"""

from __future__ import annotations

import doctest
import math
import warnings

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import journeylab as jl
from journeylab import contact, kpi, peakend
from journeylab._kernels import survey as survey_kernel
from journeylab.contact import contact_peaks
from journeylab.exceptions import DataQualityWarning, EmptyLogError, InvalidParameterError, SchemaError
from journeylab.journey import Journey, Milestone
from journeylab.kpi import ces, csat, nps, survey_score, touchpoint_scores
from journeylab.peakend import peak_end
from journeylab.plotting import kpi as plotting_kpi

Z = stats.norm.ppf(0.975)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("module", [kpi, peakend, contact, plotting_kpi, survey_kernel])
def test_docstring_examples(module):
    res = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.failed == 0 and res.attempted > 0


# =========================================================================== NPS


def test_nps_hand_computed_with_adjusted_wald_interval():
    s = nps([10, 10, 9, 8, 2])  # 3 promoters, 1 passive, 1 detractor
    assert s.value == pytest.approx(40.0)
    assert s.details == pytest.approx({"promoters": 60.0, "passives": 20.0, "detractors": 20.0})
    # adjusted Wald (Rocks 2016): n' = 8, p = 3.75 / 8, d = 1.75 / 8
    p, d = 3.75 / 8, 1.75 / 8
    half = Z * math.sqrt((p + d - (p - d) ** 2) / 8)
    assert s.ci_low == pytest.approx(100 * (p - d - half))
    assert s.ci_high == pytest.approx(100 * (p - d + half))
    assert (s.n, s.n_missing, s.kind, s.better, s.neutral) == (5, 0, "nps", "higher", 0.0)
    assert "Rocks" in s.method
    assert str(s) == "NPS +40.0 (95% CI -29.8 .. +79.8), 5 answers (0 missing)"
    assert repr(s) == "SurveyScore: NPS +40.0 (95% CI -29.8 .. +79.8), 5 answers (0 missing)"  # the Result contract


def test_nps_interval_is_clipped_and_contains_the_score():
    s = nps([10] * 4)
    assert s.value == 100.0 and s.ci_high == 100.0
    p, d = 4.75 / 7, 0.75 / 7
    assert s.ci_low == pytest.approx(100 * (p - d - Z * math.sqrt((p + d - (p - d) ** 2) / 7)))
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = rng.integers(0, 11, size=rng.integers(1, 60))
        r = nps(x)
        assert -100 <= r.ci_low <= r.value <= r.ci_high <= 100 or r.n < 5


def test_nps_narrower_interval_at_higher_confidence_is_wider():
    x = [9, 10, 3, 7, 8, 10, 1, 9]
    assert (nps(x, confidence=0.99).ci_high - nps(x, confidence=0.99).ci_low
            > nps(x, confidence=0.8).ci_high - nps(x, confidence=0.8).ci_low)


def test_missing_answers_are_dropped_and_counted():
    s = nps(pd.Series([9, None, np.nan, 10, 0], dtype="object"))
    assert (s.n, s.n_missing) == (3, 2)
    s = nps(pd.Series([9, pd.NA, 6], dtype="Int64"))
    assert (s.n, s.n_missing, s.value) == (2, 1, 0.0)
    assert nps(np.array([9.0, np.nan])).n == 1


def test_nps_distribution_and_frames():
    s = nps([0, 5, 5, 10])
    assert s.distribution.loc[5] == 2 and s.distribution.index.tolist() == list(range(11))
    f = s.to_frame()
    assert list(f.columns[:6]) == ["kind", "score", "ci_low", "ci_high", "answers", "missing"]
    assert "NPS" in s.summary.index and "definition" in s.summary.index
    assert "<table" in s._repr_html_()
    assert float(s) == s.value


@pytest.mark.parametrize(
    "values, match",
    [
        ([9, 11, 12, 10], r"NPS: 2 scores are outside 0\.\.10 \(e\.g\. \[11, 12\] at \[1, 2\]\)"),
        ([9, -1], r"outside 0\.\.10"),
        ([9, "ten", "n/a"], r"2 scores are not numbers \(e\.g\. \['ten', 'n/a'\]"),
        ([9, 7.5], r"1 scores are not whole numbers"),
        ([True, 9], r"not numbers"),
        ([9, float("inf")], r"outside 0\.\.10"),
    ],
)
def test_nps_refuses_invalid_answers_with_count_and_examples(values, match):
    with pytest.raises(InvalidParameterError, match=match):
        nps(values)


def test_nps_refuses_a_bool_series_a_frame_and_a_scalar():
    with pytest.raises(InvalidParameterError, match="True/False"):
        nps(pd.Series([True, False]))
    with pytest.raises(InvalidParameterError, match="DataFrame; pass one column"):
        nps(pd.DataFrame({"a": [9]}))
    with pytest.raises(InvalidParameterError, match="must be a Series, array or list"):
        nps("9")
    with pytest.raises(InvalidParameterError, match=r"no answers \(2 missing\)"):
        nps([None, np.nan])
    with pytest.raises(InvalidParameterError, match="confidence=1.5 must be a number between 0 and 1"):
        nps([9], confidence=1.5)
    with pytest.raises(InvalidParameterError, match="kind='npss' is not allowed.*Did you mean 'nps'"):
        survey_score([9], kind="npss")


def test_public_functions_refuse_a_dataframe_as_log_with_advice(survey_log):
    df = survey_log.to_pandas()
    calls = [lambda: touchpoint_scores(df, score="nps"), lambda: peak_end(df, score="csat", overall="nps"),
             lambda: contact_peaks(df), lambda: jl.attribution(df, conversion="buy"),
             lambda: jl.compare_attribution(df, conversion="buy"), lambda: jl.conversion_paths(df, conversion="buy"),
             lambda: jl.channel_mix(df), lambda: jl.journey_map(df, None)]
    for call in calls:
        with pytest.raises(InvalidParameterError, match="log must be a journeylab EventLog, got a pandas DataFrame: "
                                                        "wrap it with jl.from_pandas"):
            call()


def test_survey_kernel_scales_and_clean_answers():
    sc = survey_kernel.scale("ces", scale=5, higher_is_easier=True)
    assert (sc.lo, sc.hi, sc.low_effort_box, sc.better, sc.neutral) == (1, 5, 2, "higher", 3.0)
    assert survey_kernel.scale("csat", **survey_kernel.scale("csat", scale=7, top_box=3).options()) == \
        survey_kernel.scale("csat", scale=7, top_box=3)
    with pytest.raises(InvalidParameterError, match="higher_is_easier=1 must be True or False"):
        survey_kernel.scale("ces", higher_is_easier=1)
    with pytest.raises(InvalidParameterError, match="scale=7: the NPS is defined on the 0-10 scale only"):
        survey_kernel.scale("nps", scale=7)
    values, n_missing = survey_kernel.clean(pd.Series([1, None, 5], index=[10, 11, 12]), survey_kernel.scale("csat"))
    assert values.tolist() == [1.0, 5.0] and values.index.tolist() == [10, 12] and n_missing == 1
    with pytest.raises(InvalidParameterError, match=r"CSAT: 1 answers are outside 1\.\.5 \(e\.g\. \[9\] at \[0\]\)"):
        survey_kernel.clean([9], survey_kernel.scale("csat"), name="answers")
    with pytest.raises(InvalidParameterError, match="1 answers are not numbers") as err:  # a huge value is cut
        survey_kernel.clean(["x" * 100_000], survey_kernel.scale("csat"), name="answers")
    assert len(str(err.value)) < 400


# =========================================================================== CSAT, CES


def test_csat_top2_box_with_wilson_interval():
    s = csat([5, 4, 3, 2, 5])
    assert s.value == pytest.approx(60.0)
    n, p = 5, 0.6
    denom = 1 + Z**2 / n
    centre = (p + Z**2 / (2 * n)) / denom
    half = Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2)) / denom
    assert (s.ci_low, s.ci_high) == pytest.approx((100 * (centre - half), 100 * (centre + half)))
    assert s.details["satisfied"] == 3
    assert "top 2 box(es) (4-5)" in s.definition


def test_csat_other_scales_and_boxes():
    assert csat([7, 6, 5, 1], scale=7, top_box=3).value == 75.0
    assert csat([5, 4, 4], top_box=1).value == pytest.approx(100 / 3)
    with pytest.raises(InvalidParameterError, match=r"CSAT: 1 scores are outside 1\.\.5"):
        csat([5, 6])
    with pytest.raises(InvalidParameterError, match="top_box=5 must be a whole number from 1 to 4"):
        csat([5], top_box=5)
    with pytest.raises(InvalidParameterError, match="scale=1 must be the number of points"):
        csat([1], scale=1)
    with pytest.raises(InvalidParameterError, match=r"outside 1\.\.5"):
        csat([0, 5])


def test_ces_mean_effort_and_low_effort_share():
    x = [1, 2, 2, 5, 6, 7]
    s = ces(x)
    assert s.value == pytest.approx(np.mean(x))
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=np.mean(x), scale=stats.sem(x))
    assert (s.ci_low, s.ci_high) == pytest.approx((lo, hi))
    assert s.details["low_effort"] == pytest.approx(50.0)  # 1, 2, 2 on the easy end (1-3)
    assert s.better == "lower" and s.neutral == 4.0
    e = ces([7, 6, 2], higher_is_easier=True)
    assert e.details["low_effort"] == pytest.approx(200 / 3) and e.better == "higher"
    assert ces([1, 2, 5], low_effort_box=1).details["low_effort"] == pytest.approx(100 / 3)
    assert ces([1, 5], scale=5).params["scale"] == 5
    with pytest.raises(InvalidParameterError, match=r"CES: 1 scores are outside 1\.\.7"):
        ces([1, 8])
    with pytest.raises(InvalidParameterError, match="higher_is_easier='yes' must be True or False"):
        ces([1], higher_is_easier="yes")


def test_ces_single_answer_has_no_interval():
    s = ces([3])
    assert s.value == 3 and math.isnan(s.ci_low)


# =========================================================================== touchpoint scores


@pytest.fixture
def survey_log():
    rows = []
    t0 = pd.Timestamp("2025-01-01")
    # 'buy': 3 answers (10, 9, 6) in January; 'call': 2 answers (0, 3) in February + one missing
    for i, (act, day, ans, seg) in enumerate([
        ("buy", 0, 10, "gold"), ("buy", 1, 9, "gold"), ("buy", 2, 6, "basic"), ("buy", 3, None, "basic"),
        ("call", 35, 0, "basic"), ("call", 36, 3, "gold"), ("call", 37, None, "gold"), ("view", 38, None, "gold"),
    ]):
        rows.append({"case": f"c{i}", "activity": act, "t": t0 + pd.Timedelta(days=day), "nps": ans,
                     "tier": seg, "channel": "web" if act != "call" else "call_centre"})
    df = pd.DataFrame(rows)
    return jl.from_pandas(df, case="case", activity="activity", timestamp="t", channel="channel")


def test_touchpoint_scores_per_activity(survey_log):
    ts = touchpoint_scores(survey_log, score="nps", min_answers=3)
    t = ts.to_frame().set_index("activity")
    assert t.loc["buy", "answers"] == 3 and t.loc["buy", "events"] == 4
    assert t.loc["buy", "score"] == pytest.approx(100 * (2 - 1) / 3)
    assert t.loc["buy", "response_rate"] == pytest.approx(0.75)
    assert t.loc["buy", "status"] == "ok"
    # two answers < min_answers: insufficient, no number
    assert t.loc["call", "status"] == "insufficient" and math.isnan(t.loc["call", "score"])
    assert math.isnan(t.loc["call", "ci_low"]) and math.isnan(t.loc["call", "detractors"])
    assert t.loc["view", "answers"] == 0
    assert ts.overall.n == 5
    shown = ts.summary.set_index("activity")["NPS"]
    assert shown["call"] == "insufficient (n=2)" and shown["buy"].startswith("+33.3 [")
    assert len(ts.insufficient) == 2
    assert repr(ts).startswith("TouchpointScores: NPS by activity, 3 cells (2 insufficient, < 3 answers)")
    assert "<table" in ts._repr_html_()


def test_touchpoint_scores_by_phase_segment_and_period(survey_log):
    j = Journey("j", [Milestone("buy", ["buy"])], phases={"shop": ["view", "buy"], "care": ["call"]})
    ts = touchpoint_scores(survey_log, score="nps", by="phase", journey=j, min_answers=1)
    t = ts.to_frame()
    assert t["phase"].astype(str).tolist() == ["shop", "care"]
    assert t["events"].tolist() == [5, 3]
    ts = touchpoint_scores(survey_log, score="nps", by=(), segment="tier", min_answers=1)
    t = ts.to_frame().set_index("segment")
    # gold: 10, 9 (promoters) and 3 (detractor)
    assert t.loc["gold", "answers"] == 3 and t.loc["gold", "score"] == pytest.approx(100 * (2 - 1) / 3)
    ts = touchpoint_scores(survey_log, score="nps", by="channel", freq="M", min_answers=1)
    t = ts.to_frame()
    assert list(t.columns[:2]) == ["channel", "period"]
    assert list(zip(t["channel"], t["period"].dt.month)) == [("call_centre", 2), ("web", 1), ("web", 2)]
    assert str(t["period"].dt.tz) == "UTC" and t["period"].iloc[1] == pd.Timestamp("2025-01-01", tz="UTC")
    seg = pd.Series({"c0": "x", "c1": "x", "c2": "y"})
    ts = touchpoint_scores(survey_log, score="nps", segment=seg, min_answers=1)
    assert set(ts.to_frame()["segment"]) == {"x", "y"}


def test_touchpoint_scores_csat_and_ces_columns():
    df = pd.DataFrame({"case": list("abcd"), "activity": ["pay"] * 4, "t": pd.date_range("2025-01-01", periods=4),
                       "csat": [5, 4, 1, 2], "ces": [1, 2, 6, 7]})
    log = jl.from_pandas(df, case="case", activity="activity", timestamp="t")
    t = touchpoint_scores(log, score="csat", kind="csat", min_answers=1).to_frame()
    assert t.loc[0, "score"] == 50.0 and t.loc[0, "satisfied"] == 2
    t = touchpoint_scores(log, score="ces", kind="ces", min_answers=1).to_frame()
    assert t.loc[0, "score"] == 4.0 and t.loc[0, "low_effort"] == 50.0


def test_touchpoint_scores_errors(survey_log):
    with pytest.raises(SchemaError, match="score='npss' is not a column of the log. Closest match: 'nps'"):
        touchpoint_scores(survey_log, score="npss")
    with pytest.raises(InvalidParameterError, match="by='phase' needs the journey"):
        touchpoint_scores(survey_log, score="nps", by="phase")
    with pytest.raises(InvalidParameterError, match="by=\\(\\) with no freq or segment"):
        touchpoint_scores(survey_log, score="nps", by=())
    with pytest.raises(InvalidParameterError, match="min_answers=0 must be a whole number >= 1"):
        touchpoint_scores(survey_log, score="nps", min_answers=0)
    with pytest.raises(InvalidParameterError, match="freq='fortnight' is not a period"):
        touchpoint_scores(survey_log, score="nps", freq="fortnight")
    bad = jl.from_pandas(pd.DataFrame({"c": ["a", "b"], "a": ["x", "y"], "t": ["2025-01-01", "2025-01-02"],
                                       "nps": [9, 42]}), case="c", activity="a", timestamp="t")
    with pytest.raises(InvalidParameterError, match=r"NPS: 1 values of column 'nps' are outside 0\.\.10"):
        touchpoint_scores(bad, score="nps")


def test_touchpoint_scores_plots(survey_log):
    ts = touchpoint_scores(survey_log, score="nps", min_answers=2)
    before = dict(matplotlib.rcParams)
    ax = ts.plot()
    assert ax.get_title(loc="left") == "NPS by activity"
    _, ax2 = plt.subplots()
    assert ts.plot(ax=ax2) is ax2
    assert touchpoint_scores(survey_log, score="nps", freq="M", min_answers=1).plot() is not None
    assert nps([9, 3]).plot() is not None and csat([5, 1]).plot() is not None and ces([1, 7]).plot() is not None
    assert dict(matplotlib.rcParams) == before


# =========================================================================== peak-end


def _pe_log(rule, n=400, seed=0, k=5, late=True):
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n):
        s = rng.integers(1, 6, size=k)
        for i, v in enumerate(s):
            rows.append((f"c{c}", f"step{i}", i, float(v), np.nan))
        rows.append((f"c{c}", "survey", k + 1, np.nan, rule(s) + rng.normal(0, 0.3)))
        if late:
            rows.append((f"c{c}", "late", k + 2, 1.0, np.nan))  # after the overall rating: never used
    df = pd.DataFrame(rows, columns=["case", "activity", "h", "csat", "overall"])
    df["t"] = pd.Timestamp("2025-01-01") + pd.to_timedelta(df["h"], unit="h")
    return jl.from_pandas(df.drop(columns="h"), case="case", activity="activity", timestamp="t")


def test_peak_end_finds_a_planted_peak_end_effect():
    log = _pe_log(lambda s: s.min() + s[-1])
    res = peak_end(log, score="csat", overall="overall", random_state=1, progress=False)
    assert res.better and res.difference["ci_low"] > 0 and res.difference["p_better"] > 0.95
    m = res.models.set_index("model")
    assert m.loc["peak + end", "r2"] > 0.9 > m.loc["mean", "r2"]
    assert (m["r2_ci_low"] <= m["r2"]).all() and (m["r2"] <= m["r2_ci_high"]).all()
    c = res.coefficients.set_index("predictor")["beta"]
    assert c["peak"] > 0.3 and c["end"] > 0.3 and abs(c["mean"]) < 0.2
    assert "better than the mean" in repr(res)
    # the 'late' score (after the overall rating) is ignored
    assert (res.customers["n_touchpoints"] == 5).all()
    assert res.summary.shape[0] == 4 and "<table" in res._repr_html_()
    assert res.plot() is not None


def test_peak_end_reports_when_the_mean_predicts_better():
    log = _pe_log(lambda s: 3 * s.mean(), k=6)
    res = peak_end(log, score="csat", overall="overall", random_state=2, progress=False)
    assert not res.better and res.difference["ci_high"] < 0
    assert "the mean predicts the overall rating better" in res.verdict


def test_peak_end_customer_table_hand_computed():
    df = pd.DataFrame({"case": ["a"] * 4 + ["b"] * 3, "activity": ["x", "y", "z", "s", "x", "y", "s"],
                       "t": pd.date_range("2025-01-01", periods=7, freq="h"),
                       "csat": [4, 1, 3, None, 5, 2, None], "nps": [None, None, None, 6, None, None, 8]})
    log = jl.from_pandas(df, case="case", activity="activity", timestamp="t")
    with pytest.raises(EmptyLogError, match="only 2 cases have >= 2 touchpoint scores"):
        peak_end(log, score="csat", overall="nps")
    big = pd.concat([df.assign(case=df["case"] + str(i)) for i in range(6)], ignore_index=True)
    log = jl.from_pandas(big, case="case", activity="activity", timestamp="t")
    res = peak_end(log, score="csat", overall="nps", n_boot=20, random_state=0, progress=False)
    row = res.customers.loc["a0"]
    assert (row["peak"], row["end"], row["mean"], row["peak_end"], row["overall"]) == (1, 3, 8 / 3, 2, 6)
    res = peak_end(log, score="csat", overall="nps", peak="max", n_boot=20, random_state=0, progress=False)
    assert res.customers.loc["b0", "peak"] == 5
    res = peak_end(log, score="csat", overall="nps", peak="extreme", n_boot=20, random_state=0, progress=False)
    assert res.customers.loc["a0", "peak"] in (1, 5) and res.customers.loc["a0", "peak"] == 1


def test_peak_end_errors():
    log = _pe_log(lambda s: s.min(), n=20)
    with pytest.raises(InvalidParameterError, match="overall='csat' is the same column as score"):
        peak_end(log, score="csat", overall="csat")
    with pytest.raises(InvalidParameterError, match="peak='worst' is not allowed"):
        peak_end(log, score="csat", overall="overall", peak="worst")
    with pytest.raises(SchemaError, match="overall='ovrall' is not a column of the log. Closest match: 'overall'"):
        peak_end(log, score="csat", overall="ovrall")
    with pytest.raises(SchemaError, match="unit='customer' needs a customer column"):
        peak_end(log, score="csat", overall="overall", unit="customer")
    with pytest.raises(InvalidParameterError, match="n_boot=5 must be a whole number >= 10"):
        peak_end(log, score="csat", overall="overall", n_boot=5)


def test_peak_end_checks_its_parameters_through_core():
    log = _pe_log(lambda s: s.min(), n=20)
    with pytest.raises(InvalidParameterError, match="random_state=-1 must be None, a whole number >= 0"):
        peak_end(log, score="csat", overall="overall", random_state=-1)
    with pytest.raises(InvalidParameterError, match="progress='yes' must be True or False"):
        peak_end(log, score="csat", overall="overall", progress="yes")
    with pytest.raises(InvalidParameterError, match="min_touchpoints=0 must be a whole number >= 1"):
        peak_end(log, score="csat", overall="overall", min_touchpoints=0)
    with pytest.raises(SchemaError, match="score='csta' is not a column of the log. Closest match: 'csat'"):
        peak_end(log, score="csta", overall="overall")


def test_peak_end_from_kpi_is_deprecated():
    # peak-end moved to journeylab.peakend; journeylab.kpi.peak_end works for one release, with a warning
    with pytest.warns(DeprecationWarning, match=r"journeylab\.kpi\.peak_end is deprecated.*journeylab\.peakend"):
        assert kpi.peak_end is peak_end
    with pytest.warns(DeprecationWarning, match="kpi.PeakEnd is deprecated"):
        assert kpi.PeakEnd is jl.PeakEnd
    with pytest.raises(AttributeError, match="has no attribute '_check_int'"):
        kpi._check_int


def test_peak_end_overall_as_series():
    log = _pe_log(lambda s: s.min() + s[-1], n=60, late=False)  # a Series carries no time: no late scores
    df = log.to_pandas()
    ov = df.dropna(subset=["overall"]).set_index("case")["overall"]
    a = peak_end(log, score="csat", overall=ov, n_boot=30, random_state=0, progress=False)
    b = peak_end(log, score="csat", overall="overall", n_boot=30, random_state=0, progress=False)
    assert a.models["r2"].tolist() == pytest.approx(b.models["r2"].tolist(), abs=0.05)


# =========================================================================== contact peaks


def _calls(weeks=8, burst=None, seed=0, cause=None):
    rng = np.random.default_rng(seed)
    hours = pd.date_range("2025-01-06", periods=24 * 7 * weeks, freq="h")
    lam = 0.5 + 12 * ((hours.hour >= 8) & (hours.hour < 18)) * (hours.day_of_week < 5)
    n = rng.poisson(lam)
    if burst is not None:
        inc = (hours >= burst[0]) & (hours < burst[1])
        n[inc] += burst[2]
    t = np.repeat(hours, n) + pd.to_timedelta(rng.uniform(0, 3600, n.sum()), unit="s")
    cust = rng.integers(0, 5000, len(t))
    df = pd.DataFrame({"case": [f"c{i}" for i in cust], "activity": "call", "t": t, "channel": "call_centre"})
    other = pd.DataFrame({"case": [f"c{i}" for i in rng.integers(0, 5000, 8000)],
                          "activity": rng.choice(["view", "buy", "payment_error"], 8000, p=[0.6, 0.39, 0.01]),
                          "t": hours[0] + pd.to_timedelta(rng.uniform(0, weeks * 7 * 86400, 8000), unit="s"),
                          "channel": "web"})
    frames = [df, other]
    if cause is not None:
        inc_calls = df[(df["t"] >= burst[0]) & (df["t"] < burst[1])].sample(frac=0.6, random_state=seed)
        frames.append(inc_calls.assign(activity=cause, channel="web", t=inc_calls["t"] - pd.Timedelta("30min")))
    return jl.from_pandas(pd.concat(frames, ignore_index=True), case="case", activity="activity", timestamp="t",
                          channel="channel")


def test_contact_peaks_find_a_sharp_burst_and_its_cause():
    log = _calls(burst=("2025-02-05 10:00", "2025-02-05 13:00", 40), cause="payment_error")
    cp = contact_peaks(log)
    assert [str(d) for d in cp.days] == ["2025-02-05"]
    assert len(cp.episodes) == 1
    e = cp.episodes.iloc[0]
    assert e["start"] <= pd.Timestamp("2025-02-05 10:00", tz="UTC") and e["volume"] > e["expected"] + 100
    assert cp.drivers.iloc[0]["activity"] == "payment_error" and cp.drivers.iloc[0]["lift"] > 10
    assert e["likely_causes"].startswith("payment_error (")
    p = cp.to_frame()
    assert p["peak"].all() and {"scale", "period", "volume", "expected", "z"} <= set(p.columns)
    assert repr(cp).startswith("ContactPeaks: 1 episode(s) on 1 day(s)")
    assert "<table" in cp._repr_html_() and cp.plot() is not None


def test_contact_peaks_find_a_sustained_surge_only_at_the_daily_scale():
    # +2 calls an hour for a whole day: invisible hour by hour, plain in the daily volume
    log = _calls(burst=("2025-02-12 00:00", "2025-02-13 00:00", 2), seed=3)
    hourly = contact_peaks(log, scales=(), run_z=None)
    assert hourly.days == []
    cp = contact_peaks(log)
    assert [str(d) for d in cp.days] == ["2025-02-12"]
    assert "1d" in cp.episodes.iloc[0]["scales"]


def test_contact_peaks_find_nothing_in_plain_noise():
    for seed in range(3):
        cp = contact_peaks(_calls(seed=10 + seed))
        assert len(cp.days) <= 1


def test_contact_peaks_series_and_thresholds():
    cp = contact_peaks(_calls(seed=1), scales=("6h", "1d"))
    assert list(dict.fromkeys(cp.series["scale"])) == ["1h", "6h", "1d"]
    thr = cp.series.groupby("scale")["threshold"].first()
    assert thr["1h"] == 5 and thr["1d"] < thr["6h"] < thr["1h"]
    # the daily threshold keeps the false-alarm rate per unit of time: sf(z_d) = 24 * sf(5)
    assert stats.norm.sf(thr["1d"]) == pytest.approx(24 * stats.norm.sf(5))
    base = cp.series[cp.series["scale"] == "1h"]
    assert base["volume"].sum() == (cp.series[cp.series["scale"] == "1d"]["volume"]).sum()
    assert str(base["period"].dt.tz) == "UTC"


def test_contact_peaks_errors():
    log = _calls(weeks=4)
    with pytest.raises(InvalidParameterError, match="channel 'callcentre' does not occur.*Did you mean 'call_centre'"):
        contact_peaks(log, channel="callcentre")
    with pytest.raises(InvalidParameterError, match="freq='7h' must divide a day"):
        contact_peaks(log, freq="7h")
    with pytest.raises(InvalidParameterError, match="freq=3 is a bare number"):
        contact_peaks(log, freq=3)
    with pytest.raises(InvalidParameterError, match="threshold=0 must be a positive number"):
        contact_peaks(log, threshold=0)
    with pytest.raises(InvalidParameterError, match="scales: '5h' must be a multiple of freq='1h' that divides"):
        contact_peaks(log, scales=("5h",))
    with pytest.raises(InvalidParameterError, match="activity 'cal' does not occur in the log. Did you mean 'call'"):
        contact_peaks(log, activities=["cal"])
    with pytest.raises(InvalidParameterError, match="give channel=... .* and/or activities"):
        contact_peaks(log, channel=None)
    no_channel = jl.from_pandas(pd.DataFrame({"c": ["a"], "a": ["call"], "t": ["2025-01-01"]}), case="c",
                                activity="a", timestamp="t")
    with pytest.raises(SchemaError, match="needs a channel column.*activities=\\[...\\] and channel=None"):
        contact_peaks(no_channel)
    series = contact_peaks(no_channel, channel=None, activities=["call"], season=None).series
    assert series.groupby("scale")["volume"].sum().tolist() == [1, 1]


def test_contact_peaks_checks_its_parameters_through_core():
    log = _calls(weeks=4)
    with pytest.raises(InvalidParameterError, match=r"alpha=2 must be a number between 0 and 1, e\.g\. 0\.01"):
        contact_peaks(log, alpha=2)
    with pytest.raises(InvalidParameterError, match=r"min_lift=-1 must be a number >= 0, e\.g\. 1\.5"):
        contact_peaks(log, min_lift=-1)
    with pytest.raises(InvalidParameterError, match=r"run_z=0 must be a positive number \(e\.g\. 3\) or None"):
        contact_peaks(log, run_z=0)
    with pytest.raises(InvalidParameterError, match=r"season='month' is not allowed; use one of \['week', 'day', None\]"):
        contact_peaks(log, season="month")
    with pytest.raises(InvalidParameterError, match="unit='session' is not allowed; use one of"):
        contact_peaks(log, unit="session")
    with pytest.raises(InvalidParameterError, match="top=-1 must be a whole number >= 0, e.g. top=3"):
        contact_peaks(log, top=-1)
    with pytest.raises(InvalidParameterError, match=r"channel=\[\] must be a name or a list of names"):
        contact_peaks(log, channel=[])


def test_contact_peaks_short_history_falls_back_with_a_warning():
    log = _calls(weeks=2)
    with pytest.warns(DataQualityWarning, match="too short for season='week'.*using season='day'"):
        cp = contact_peaks(log)
    assert cp.params["season"] == "day"


# =========================================================================== the bundled sample


@pytest.fixture(scope="module")
def retail():
    """The bundled retail sample (regenerated with its own recipe when the data files are absent)."""
    from journeylab.datasets import RETAIL_SETTINGS, make_journeys

    try:
        return jl.datasets.load_retail()
    except jl.FileFormatError:  # data files not built in this checkout: the same recipe regenerates it exactly
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return make_journeys(RETAIL_SETTINGS["n_customers"], random_state=RETAIL_SETTINGS["random_state"])


def test_sample_peak_end_finds_the_planted_effect(retail):
    res = peak_end(retail.log, score="csat", overall="nps", unit="session_id", random_state=0, progress=False)
    assert res.better, res.verdict
    survey = retail.truth.effects["survey"]
    assert survey["peak_weight"] + survey["end_weight"] > survey["mean_weight"]
    c = res.coefficients.set_index("predictor")
    assert c.loc["peak", "ci_low"] > 0 and c.loc["end", "ci_low"] > 0


def test_sample_contact_peaks_find_the_incident_days_and_nothing_much_else(retail):
    cp = contact_peaks(retail.log, channel="call_centre")
    truth_days = set(retail.truth.effects["incident_days"])
    found = {str(d) for d in cp.days}
    causes = {"payment_outage": "payment_failed", "delivery_delay": "delivery_delayed"}
    for _, inc in retail.truth.incidents.iterrows():
        days = {str(d.date()) for d in pd.date_range(inc["start"].normalize(), inc["end"] - pd.Timedelta(seconds=1))}
        assert days & found, f"incident {inc['name']} ({sorted(days)}) not found; found {sorted(found)}"
        hit = cp.episodes[(cp.episodes["start"] < inc["end"]) & (cp.episodes["end"] > inc["start"])]
        if inc["kind"] in causes:
            assert causes[inc["kind"]] in " ".join(hit["likely_causes"]), hit["likely_causes"].tolist()
    assert len(found - truth_days) <= 2, f"false alarms: {sorted(found - truth_days)}"


def test_sample_touchpoint_scores_show_service_as_the_pain_point(retail):
    ts = touchpoint_scores(retail.log, score="csat", kind="csat", by="phase", journey=retail.journey)
    t = ts.to_frame().set_index("phase")
    assert t["score"].idxmin() == "service"


# --------------------------------------------------------------------------- properties



@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(0, 10)), min_size=1, max_size=80))
def test_nps_properties(answers):
    valid = [a for a in answers if a is not None]
    if not valid:
        with pytest.raises(InvalidParameterError, match="no answers"):
            nps(answers)
        return
    s = nps(answers)
    pro = sum(a >= 9 for a in valid)
    det = sum(a <= 6 for a in valid)
    assert s.value == pytest.approx(100 * (pro - det) / len(valid))
    assert s.n == len(valid) and s.n_missing == len(answers) - len(valid)
    assert -100 <= s.ci_low <= s.ci_high <= 100
    assert s.distribution.sum() == len(valid)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["buy", "call", "view"]), st.one_of(st.none(), st.integers(1, 5))),
                min_size=1, max_size=40), st.randoms(use_true_random=False))
def test_touchpoint_scores_ignore_row_order(rows, rnd):
    if all(v is None for _, v in rows):
        rows = [*rows, ("buy", 5)]
    df = pd.DataFrame(rows, columns=["activity", "csat"])
    df["case"] = [f"c{i}" for i in range(len(df))]
    df["t"] = pd.Timestamp("2025-01-01") + pd.to_timedelta(np.arange(len(df)), unit="min")
    a = touchpoint_scores(jl.from_pandas(df, case="case", activity="activity", timestamp="t"), score="csat",
                          kind="csat", min_answers=1).to_frame()
    shuffled = df.sample(frac=1, random_state=rnd.randint(0, 10**6))
    b = touchpoint_scores(jl.from_pandas(shuffled, case="case", activity="activity", timestamp="t"), score="csat",
                          kind="csat", min_answers=1).to_frame()
    pd.testing.assert_frame_equal(a, b)
    assert a["answers"].sum() == df["csat"].notna().sum()
