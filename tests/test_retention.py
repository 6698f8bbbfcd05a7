"""Cohort retention (jl.retention): hand-computed matrices in both modes, censoring and its boundary, period
boundaries (days, ISO weeks, months, a time zone), empty cohorts, one-customer logs, curves and their
Wilson bands (scipy), the log-rank test (lifelines), the simulator's planted re-entry rates, the plot and
the errors. Engine parity and fetch sizes are in test_pushdown_retention.py."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings, strategies as st

import journeylab as jl
from journeylab.retention import logrank_test

NAN = np.nan


def _log(rows, tz=None):
    df = pd.DataFrame(rows, columns=["case", "activity", "t", *(["grp"] if len(rows[0]) > 3 else [])])
    df["t"] = pd.to_datetime(df["t"], format="mixed")
    if tz:
        df["t"] = df["t"].dt.tz_localize(tz)
    return jl.from_pandas(df, case="case", activity="activity", timestamp="t")


# weeks (Monday): W0 = Jan 6, W1 = Jan 13, W2 = Jan 20, W3 = Jan 27, W4 = Feb 3 (holds the last event: incomplete)
HAND = [("a", "visit", "2025-01-06 10:00"), ("a", "visit", "2025-01-14"), ("a", "buy", "2025-01-29"),
        ("b", "visit", "2025-01-07"), ("b", "visit", "2025-01-08"),
        ("c", "visit", "2025-01-20"),
        ("d", "visit", "2025-02-03 09:00")]


@pytest.fixture(scope="module")
def hand():
    return _log(HAND)


def _rows(r):
    return [[None if np.isnan(v) else v for v in row] for row in r.counts.to_numpy().tolist()]


def test_hand_matrix_on(hand):
    r = jl.retention(hand, mode="on", max_periods=3)
    assert [f"{t:%Y-%m-%d}" for t in r.counts.index] == ["2025-01-06", "2025-01-13", "2025-01-20", "2025-01-27",
                                                          "2025-02-03"]
    assert r.sizes.tolist() == [2, 0, 1, 0, 1]
    assert _rows(r) == [[1, 1, 0, 1],              # b in W0 (Jan 8), a in W1 (Jan 14) and W3 (Jan 29)
                        [0, 0, 0, None],           # nobody started in W1: zeros where observable
                        [0, 0, None, None],
                        [0, None, None, None],
                        [None, None, None, None]]  # W4 holds the last event: not observable at all


def test_hand_matrix_unbounded_and_curves(hand):
    r = jl.retention(hand, max_periods=3)
    assert _rows(r) == [[2, 1, 1, 1], [0, 0, 0, None], [0, 0, None, None], [0, None, None, None],
                        [None, None, None, None]]
    c = r.curves
    # pooled over the cohorts observable at each period: k=0: W0..W3 (3 customers), k=1: W0..W2 ...
    assert c["customers"].tolist() == [3, 3, 2, 2]
    assert c["retained"].tolist() == [2, 1, 1, 1]
    np.testing.assert_allclose(c["share"], [2 / 3, 1 / 3, 0.5, 0.5])
    f = r.to_frame()
    assert f.loc[(f["period"] == 1) & (f["cohort_size"] == 2), "share"].item() == 0.5
    assert not f.loc[f["cohort"] == pd.Timestamp("2025-02-03", tz="UTC"), "observable"].any()
    np.testing.assert_allclose(r.shares.iloc[0], [1.0, 0.5, 0.5, 0.5])
    assert np.isnan(r.shares.iloc[1, 0])  # an empty cohort has no share


def test_cohort_and_returning_activities_and_conditions(hand):
    r = jl.retention(hand, returning="buy", mode="on", max_periods=3)
    assert _rows(r)[0] == [0, 0, 0, 1]
    r = jl.retention(hand, cohort="buy", max_periods=3)  # only a, whose first buy is in W3; nothing after it
    assert r.sizes.tolist() == [1] and _rows(r) == [[0]]
    same = jl.retention(hand, returning="activity == 'buy'", mode="on", max_periods=3)
    pd.testing.assert_frame_equal(same.counts, jl.retention(hand, returning=["buy"], mode="on", max_periods=3).counts)
    crit = jl.retention(hand, returning=jl.Criteria(["visit", "buy"]), mode="on", max_periods=3)
    pd.testing.assert_frame_equal(crit.counts, jl.retention(hand, mode="on", max_periods=3).counts)


def test_censoring_boundary_is_the_end_of_the_period():
    rows = [("x", "v", "2025-01-06 10:00"), ("x", "v", "2025-01-07")]
    at_end = _log(rows + [("y", "v", "2025-01-13 00:00:00")])          # W0 ends exactly at the last event
    before = _log(rows + [("y", "v", "2025-01-12 23:59:59.999999")])   # one microsecond short
    assert jl.retention(at_end, mode="on").counts.iloc[0, 0] == 1
    assert np.isnan(jl.retention(before, mode="on").counts.iloc[0, 0])


@pytest.mark.parametrize("period, first, same, nxt, end", [
    ("D", "2025-03-01 00:00", "2025-03-01 23:59:59", "2025-03-02 00:00", "2025-03-05"),
    ("W", "2025-01-06 00:00", "2025-01-12 23:59:59", "2025-01-13 00:00", "2025-02-01"),   # Sunday / Monday
    ("M", "2025-01-01 00:00", "2025-01-31 23:59:59", "2025-02-01 00:00", "2025-04-02"),
])
def test_period_boundaries(period, first, same, nxt, end):
    log = _log([("a", "v", first), ("a", "v", same), ("b", "v", first), ("b", "v", nxt), ("z", "v", end)])
    r = jl.retention(log, period=period, mode="on", max_periods=1)
    assert _rows(r)[0] == [1, 1]  # a in period 0, b in period 1


def test_periods_are_in_the_log_time_zone():
    # Sunday 23:30 and Monday 00:30 in Paris are both Sunday in UTC: a new week only in the log's zone
    rows = [("a", "v", "2025-01-12 23:30"), ("a", "v", "2025-01-13 00:30"), ("z", "v", "2025-02-01")]
    paris = jl.retention(_log(rows, tz="Europe/Paris"), mode="on", max_periods=1)
    assert str(paris.counts.index.tz) == "Europe/Paris" and paris.params["time_zone"] == "Europe/Paris"
    assert _rows(paris)[0] == [0, 1]
    as_utc = _log(rows, tz="Europe/Paris").to_pandas()
    as_utc["timestamp"] = as_utc["timestamp"].dt.tz_convert("UTC")
    utc = jl.retention(jl.from_pandas(as_utc, case="case", activity="activity", timestamp="timestamp"), mode="on",
                       max_periods=1)
    assert _rows(utc)[0] == [1, 0]


def test_one_customer_and_same_time_events():
    one = _log([("a", "v", "2025-01-06 10:00"), ("a", "v", "2025-01-06 10:00"), ("a", "v", "2025-01-20")])
    r = jl.retention(one, mode="on", max_periods=4)
    # the event at the cohort event's own time is not a return; the last week is not observable
    assert r.sizes.tolist() == [1] and _rows(r) == [[0, 0]]  # cohorts: from the first to the last cohort period
    assert r.curves["customers"].tolist() == [1, 1]


def test_by_groups_and_logrank_against_lifelines():
    from lifelines.statistics import multivariate_logrank_test

    rng = np.random.default_rng(3)
    rows = []
    start = pd.Timestamp("2025-01-06")
    for i in range(120):
        g = "A" if i % 2 else "B"
        t0 = start + pd.Timedelta(days=int(rng.integers(0, 35)), hours=10)
        rows.append((f"c{i}", "v", t0, g))
        p = 0.8 if g == "A" else 0.2
        for w in range(1, 9):
            if rng.random() < p / w:
                rows.append((f"c{i}", "v", t0 + pd.Timedelta(days=7 * w), g))
    rows.append(("end", "v", pd.Timestamp("2025-03-20"), "A"))
    log = _log(rows)
    r = jl.retention(log, by="grp", mode="on", max_periods=6)
    assert set(r.curves["group"]) == {"A", "B"} and "group" in r.to_frame()
    # the same durations by brute force: first return period, censored at the last observable period
    df = log.to_pandas()
    last = df["timestamp"].max()
    dur, obs, grp = [], [], []
    for case, ev in df.groupby("case"):
        ev = ev.sort_values("timestamp")
        t0 = ev["timestamp"].iloc[0]
        w0 = t0.normalize() - pd.Timedelta(days=t0.weekday())
        complete = int((last - w0).days // 7) - 1  # whole weeks before the last timestamp
        if complete < 0:
            continue
        follow = min(complete, 6)
        ks = [int((t.normalize() - pd.Timedelta(days=t.weekday()) - w0).days // 7) for t in ev["timestamp"].iloc[1:]
              if t > t0]
        k = min(ks) if ks else None
        event = k is not None and k <= follow
        dur.append(k if event else follow)
        obs.append(event)
        grp.append(ev["grp"].iloc[0])
    ref = multivariate_logrank_test(dur, grp, obs)
    assert r.statistic == pytest.approx(ref.test_statistic, rel=1e-9)
    assert r.p_value == pytest.approx(ref.p_value, rel=1e-9) and r.p_value < 0.05
    assert r.test["subjects"].sum() == len(dur)


def test_logrank_function_matches_lifelines_three_groups():
    from lifelines.statistics import multivariate_logrank_test

    rng = np.random.default_rng(0)
    d, e, g = rng.integers(0, 6, 300), rng.random(300) < 0.7, rng.choice(list("abc"), 300)
    stat, df, p, table = logrank_test(d, e, g)
    ref = multivariate_logrank_test(d, g, e)
    assert df == 2 and stat == pytest.approx(ref.test_statistic) and p == pytest.approx(ref.p_value)
    assert table["expected"].sum() == pytest.approx(table["observed"].sum())


def test_curve_bands_are_wilson_intervals(sim):
    from scipy.stats import binomtest

    r = jl.retention(sim.log, period="M", confidence=0.9, max_periods=3)
    for row in r.curves.itertuples():
        ci = binomtest(int(row.retained), int(row.customers)).proportion_ci(0.9, method="wilson")
        assert (row.low, row.high) == pytest.approx((ci.low, ci.high), abs=1e-9)


def test_simulator_reentry_rates_are_recovered(sim):
    """Session starts only: a customer 'returns' when a later journey session starts. The simulator plants
    1 + Poisson(reentry_s) sessions per customer, at least 10 days apart: unbounded retention at period 0
    is P(two sessions or more) = 1 - exp(-reentry_s), and no customer starts two sessions in one week."""
    from journeylab.datasets._params import segment_table

    df = sim.log.to_pandas()
    df = df[df["session_id"].notna()].sort_values(["session_id", "timestamp"])
    starts = df.groupby("session_id", observed=True).head(1).copy()
    starts["segment"] = starts["case"].map(sim.truth.customers["segment"]).astype(str)
    log = jl.from_pandas(starts[["case", "activity", "timestamp", "segment"]], case="case", activity="activity",
                         timestamp="timestamp")
    r = jl.retention(log, by="segment", max_periods=2, confidence=0.999)
    planted = 1 - np.exp(-segment_table(sim.truth.params)["reentry"])
    c0 = r.curves[r.curves["period"] == 0].set_index("group")
    for seg, p in planted.items():
        assert c0.loc[seg, "low"] <= p <= c0.loc[seg, "high"], (seg, p, c0.loc[seg].to_dict())
        assert abs(c0.loc[seg, "share"] - p) < 0.06
    assert c0["share"].idxmax() == "deal_seeker" and c0["share"].idxmin() == "researcher"
    assert r.p_value < 1e-4  # the segments differ
    assert (jl.retention(log, mode="on", max_periods=1).counts.iloc[:, 0].dropna() == 0).all()


def test_plot_and_html(hand, sim):
    import matplotlib.pyplot as plt

    r = jl.retention(sim.log, by="version", max_periods=6)
    fig = r.plot()
    assert len(fig.axes) == 2
    heat, curves = fig.axes
    assert heat.get_legend().get_texts()[0].get_text() == "not observable yet"
    assert {t.get_text().split(" (")[0] for t in curves.get_legend().get_texts()} == {"A", "B"}
    assert min(t.get_fontsize() for t in heat.texts) >= 8
    plt.close(fig)
    ax = jl.retention(hand).plot(kind="heatmap")
    assert len(ax.patches) == 5 + 4 + 3 + 2 + 1 - 5  # hatched cells: the not observable ones
    plt.close(ax.figure)
    html = r._repr_html_()
    assert "cohort matrix" in html and "log-rank" in html and "Retention (unbounded, by week)" in html


@pytest.mark.parametrize("kwargs, match", [
    (dict(period="Y"), r"period='Y' is not allowed; use one of \['D', 'W', 'M'\]"),
    (dict(mode="after"), r"mode='after' is not allowed; use one of \['unbounded', 'on'\]"),
    (dict(cohort="vist"), r"cohort='vist' is not an activity of the log\. Did you mean 'visit'\?"),
    (dict(returning=3), r"returning=3 is not understood; give an activity name"),
    (dict(returning="amount > 5"), r"the condition reads 'amount', which is not a column"),
    (dict(cohort="activity == 'nothing'"), r"matches no event of the log"),
    (dict(by="case"), r"by='case' is a key column"),
    (dict(by="grup"), r"grup"),
    (dict(max_periods=0), r"max_periods=0"),
    (dict(unit="session"), r"unit='session' is not allowed; use one of"),
])
def test_bad_arguments(hand, kwargs, match):
    with pytest.raises(jl.JourneylabError, match=match):
        jl.retention(hand, **kwargs)


def test_by_column_without_values():
    log = _log([("a", "v", "2025-01-06", None), ("a", "v", "2025-01-20", "x"), ("b", "v", "2025-01-07", None)])
    with pytest.raises(jl.JourneylabError, match=r"by='grp' has no value on any customer's cohort event"):
        jl.retention(log, by="grp")


def test_plot_kind_errors(hand):
    import matplotlib.pyplot as plt

    r = jl.retention(hand)
    with pytest.raises(jl.JourneylabError, match=r"kind='both' draws two panels"):
        r.plot(ax=plt.gca())
    with pytest.raises(jl.JourneylabError, match=r"kind='map' must be"):
        r.plot(kind="map")
    plt.close("all")


def test_input_not_modified(hand):
    before = hand.to_pandas()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jl.retention(hand, mode="on")
    pd.testing.assert_frame_equal(before, hand.to_pandas())


def test_report_section(sim, hand):
    from journeylab._report.sections import retention_section

    html = retention_section(sim.log, sim.journey)
    assert html.startswith("<section><h2>Retention by segment</h2>") and "data:image/png;base64" in html
    assert "Log-rank test of the time to the first return between the version groups" in html
    assert "returning=[&#x27;add_to_cart&#x27;" in html  # the journey's milestone activities, escaped
    short = retention_section(_log([("a", "v", "2025-01-06"), ("a", "v", "2025-01-08")]))
    assert "fewer than two weeks" in short and "<img" not in short


def _period_index(t: pd.Timestamp, period: str) -> int:
    """A calendar period number, by another road than the kernel's (days since the epoch, ISO weeks, months)."""
    day = (t.normalize().tz_localize(None) - pd.Timestamp("1970-01-01")).days
    if period == "D":
        return day
    if period == "W":
        return (day + 3) // 7  # 1970-01-01 was a Thursday: weeks from Monday 1969-12-29
    return t.year * 12 + t.month - 1


def _brute_force(df: pd.DataFrame, period: str, mode: str, K: int, returning=None) -> dict:
    last = _period_index(df["timestamp"].max(), period)
    out = {}
    cohorts = {}
    for case, ev in df.sort_values(["timestamp"], kind="stable").groupby("case"):
        t0 = ev["timestamp"].iloc[0]
        c = _period_index(t0, period)
        later = ev[(ev["timestamp"] > t0) & ((ev["activity"] == returning) if returning else True)]
        ks = {_period_index(t, period) - c for t in later["timestamp"]}
        cohorts.setdefault(c, []).append(ks)
    for c, members in cohorts.items():
        for k in range(K + 1):
            if c + k + 1 > last:  # the period c + k is not over at the last timestamp
                out[(c, k)] = None
            else:
                hit = [any(x >= k for x in ks) if mode == "unbounded" else k in ks for ks in members]
                out[(c, k)] = sum(hit)
    return out


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("pqrstu"), st.sampled_from("ab"), st.integers(0, 80 * 24)),
                min_size=1, max_size=25),
       st.sampled_from("DWM"), st.sampled_from(["on", "unbounded"]), st.sampled_from([None, "b"]))
@example([("p", "a", 0), ("p", "a", 24)], "D", "unbounded", None)  # the only return is in a period not over yet
def test_matrix_matches_a_brute_force_count(events, period, mode, returning):
    df = pd.DataFrame(events, columns=["case", "activity", "h"])
    df["timestamp"] = pd.Timestamp("2025-01-01 00:30", tz="UTC") + pd.to_timedelta(df.pop("h"), unit="h")
    log = jl.from_pandas(df, case="case", activity="activity", timestamp="timestamp")
    if returning and returning not in log.activities:
        returning = None
    K = 4
    r = jl.retention(log, period=period, mode=mode, returning=returning, max_periods=K)
    want = _brute_force(df, period, mode, K, returning)
    got = r.to_frame()
    got["c"] = [_period_index(t, period) for t in got["cohort"]]
    for row in got.itertuples():
        exp = want.get((row.c, row.period), "empty")
        if exp == "empty":  # a period between two cohorts in which nobody started: 0 where observable
            assert row.cohort_size == 0
            exp = 0 if row.c + row.period + 1 <= _period_index(df["timestamp"].max(), period) else None
        assert (np.isnan(row.retained) if exp is None else row.retained == exp), (row, exp)
    assert set(got["c"]) >= {c for c, _ in want}  # every cohort of the brute force is a row
