"""Engine push-down of the experience and marketing analyses (touchpoint scores, peak-end, attribution, channel
mix, contact peaks, journey map): on a log that lives in DuckDB (or Spark) they give exactly the in-memory results
and warnings, and bring back only narrow tables (per cell, per unit, or the relevant events), never the event
table."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journeylab as jl
from journeylab._core.backend import fetched
from journeylab.exceptions import InvalidParameterError
from journeylab.journey import Goal, Journey, Milestone
from tests.conftest import lazy_copy, spark_session_or_skip


# --------------------------------------------------------------------------- helpers


def _run(fn, log):
    """``fn(log)``, the journeylab warnings it gave (category, text), and what the backend sent back."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with fetched() as f:
            out = fn(log)
    ours = [(w.category.__name__, str(w.message)) for w in caught if w.category.__module__.startswith("journeylab")]
    return out, ours, f


def _same(a, b, tables, **kw):
    for t in tables:
        x, y = t(a), t(b)
        if x is None:
            assert y is None
        elif isinstance(x, pd.DataFrame):
            pd.testing.assert_frame_equal(x, y, **kw)
        elif isinstance(x, pd.Series):
            pd.testing.assert_series_equal(x, y, **kw)
        else:
            assert x == y or (x != x and y != y), (x, y)


def _parity(fn, mem, lazy, tables, **kw):
    a, wa, _ = _run(fn, mem)
    b, wb, f = _run(fn, lazy)
    _same(a, b, tables, **kw)
    assert wa == wb
    return a, f


@pytest.fixture(scope="module")
def frame(sim):
    return sim.log._frame()


@pytest.fixture(scope="module")
def seg_series(frame):
    """A segment per case id for two thirds of the cases (the others have none)."""
    cases = frame["case"].unique()
    return pd.Series({c: ("a" if i % 3 else "b") for i, c in enumerate(cases[: 2 * len(cases) // 3])})


# --------------------------------------------------------------------------- touchpoint scores (kpi)

TP_TABLES = [lambda r: r.to_frame(), lambda r: r.overall.to_frame(), lambda r: r.overall.distribution,
             lambda r: r.keys]

TP_OPTIONS = {
    "nps by activity": dict(score="nps"),
    "csat by activity and channel": dict(score="csat", kind="csat", by=("activity", "channel"), min_answers=5),
    "ces by phase": dict(score="ces", kind="ces", by="phase", higher_is_easier=True),
    "nps by segment column": dict(score="nps", segment="region", min_answers=5),
    "csat weekly": dict(score="csat", kind="csat", freq="W", top_box=1),
    "csat monthly, no by": dict(score="csat", kind="csat", freq="M", by=()),
    "nps 6-hourly (fallback: per timestamp)": dict(score="nps", freq="6h", min_answers=1),
}


@pytest.mark.parametrize("name", list(TP_OPTIONS))
def test_touchpoint_scores_duckdb_parity(sim, sim_duckdb, name):
    kw = dict(TP_OPTIONS[name])
    if kw.get("by") == "phase":
        kw["journey"] = sim.journey
    _parity(lambda log: jl.touchpoint_scores(log, **kw), sim.log, sim_duckdb, TP_TABLES)


def test_touchpoint_scores_segment_series_parity(sim, sim_duckdb, seg_series):
    _parity(lambda log: jl.touchpoint_scores(log, score="nps", segment=seg_series, min_answers=3), sim.log,
            sim_duckdb, TP_TABLES)


def test_touchpoint_scores_fetches_cells_only(sim, sim_duckdb, frame):
    _, f = _parity(lambda log: jl.touchpoint_scores(log, score="csat", kind="csat", by=("activity", "channel")),
                   sim.log, sim_duckdb, TP_TABLES)
    cells = len(frame[["activity", "channel"]].drop_duplicates())
    answer_cells = len(frame.loc[frame["csat"].notna(), ["activity", "channel", "csat"]].drop_duplicates())
    assert f.largest <= max(cells, answer_cells) < len(frame)
    assert f.rows <= cells + answer_cells + frame["activity"].nunique()  # (+ the activities, once per log)


def test_touchpoint_scores_bad_answers_same_error(tmp_path):
    df = pd.DataFrame({"c": list("aabbc"), "act": ["buy", "call", "buy", "call", "buy"],
                       "t": pd.date_range("2025-01-01", periods=5, freq="D"), "nps": [10, 3, 12, None, 6]})
    mem = jl.from_pandas(df, case="c", activity="act", timestamp="t")
    lazy = lazy_copy(mem, "duckdb", tmp_path=tmp_path)
    messages = []
    for log in (mem, lazy):
        with pytest.raises(InvalidParameterError, match="outside 0..10") as e:
            jl.touchpoint_scores(log, score="nps", min_answers=1)
        messages.append(str(e.value))
    assert messages[0] == messages[1]


# --------------------------------------------------------------------------- peak-end

PE_TABLES = [lambda r: r.to_frame(), lambda r: r.customers, lambda r: r.coefficients, lambda r: r.n_excluded]


@pytest.mark.parametrize("kw", [dict(), dict(unit="session_id", peak="extreme"), dict(peak="max", min_touchpoints=1)],
                         ids=["case", "session extreme", "max"])
def test_peak_end_duckdb_parity_and_fetch(sim, sim_duckdb, frame, kw):
    _, f = _parity(lambda log: jl.peak_end(log, score="csat", overall="nps", random_state=3, n_boot=20,
                                           progress=False, **kw), sim.log, sim_duckdb, PE_TABLES,
                   check_index_type=False, check_categorical=False)  # session_id is a category in memory only
    answered = int((frame["csat"].notna() | frame["nps"].notna()).sum())
    assert f.largest <= answered < len(frame)


def test_peak_end_series_overall_parity(sim, sim_duckdb, frame):
    overall = frame.groupby("case", observed=True)["nps"].max().dropna().astype(float)
    _parity(lambda log: jl.peak_end(log, score="csat", overall=overall, random_state=3, n_boot=20, progress=False),
            sim.log, sim_duckdb, PE_TABLES)


# --------------------------------------------------------------------------- attribution

AT_TABLES = [lambda r: r.to_frame(), lambda r: r.n_conversions, lambda r: r.n_attributed, lambda r: r.n_paths]


@pytest.mark.parametrize("model", ["last", "linear", "time_decay", "markov", "shapley"])
def test_attribution_duckdb_parity(sim, sim_duckdb, model):
    _parity(lambda log: jl.attribution(log, conversion="purchase", model=model, random_state=1, n_boot=20,
                                       progress=False), sim.log, sim_duckdb, AT_TABLES)


def test_attribution_activities_and_goal_parity(sim, sim_duckdb):
    fn = lambda log: jl.attribution(log, conversion=sim.journey, touchpoints=["email_click", "view_offer",  # noqa
                                                                              "sms_click"], model="u_shaped",
                                    lookback="7d", random_state=1, n_boot=20, progress=False)
    _parity(fn, sim.log, sim_duckdb, AT_TABLES)
    cmp = lambda log: jl.compare_attribution(log, conversion="purchase", touchpoints="activity",  # noqa
                                             models=("first", "j_curve"), random_state=2, n_boot=10, progress=False)
    _parity(cmp, sim.log, sim_duckdb, [lambda r: r.to_frame()])


def test_attribution_goal_with_conditions_falls_back_to_projection(sim, sim_duckdb, frame):
    """A goal with conditions is evaluated in Python: the engine keeps the goal activity's and the touch events."""
    goal = Goal("purchase", "purchase", conditions="value > 20")
    fn = lambda log: jl.attribution(log, conversion=goal, model="linear", random_state=1, n_boot=20,  # noqa
                                    progress=False)
    _, f = _parity(fn, sim.log, sim_duckdb, AT_TABLES)
    relevant = int((frame["activity"].eq("purchase") | frame["channel"].notna()).sum())
    assert f.largest <= relevant


def test_attribution_fetches_only_path_touches(sim, sim_duckdb, frame):
    _, f = _parity(lambda log: jl.attribution(log, conversion="purchase", touchpoints="channel", lookback="3d",
                                              random_state=1, n_boot=20, progress=False),
                   sim.log, sim_duckdb, AT_TABLES)
    relevant = int((frame["activity"].eq("purchase") | frame["channel"].notna()).sum())
    assert f.largest < relevant <= len(frame)  # touches outside every window never come back
    _, f = _parity(lambda log: jl.attribution(log, conversion="purchase", touchpoints=["email_click", "sms_click"],
                                              random_state=1, n_boot=20, progress=False),
                   sim.log, sim_duckdb, AT_TABLES)
    assert f.largest <= int(frame["activity"].isin(["purchase", "email_click", "sms_click"]).sum())


# --------------------------------------------------------------------------- contact peaks

CP_TABLES = [lambda r: r.to_frame(), lambda r: r.episodes, lambda r: r.drivers, lambda r: r.channel]


@pytest.mark.parametrize("kw", [
    dict(channel="call_centre", freq="1d", season=None, threshold=2, min_volume=1),
    dict(channel="call_centre", activities=["call_centre_contact"], freq="1h", threshold=3, min_volume=2,
         min_lift=1.0, alpha=0.5),
    dict(channel=None, activities=["complaint", "chat"], freq="6h", season="day", threshold=2.5, min_volume=1,
         min_lift=1.0, alpha=0.9, before="3d"),
], ids=["daily", "hourly with drivers", "activities"])
def test_contact_peaks_duckdb_parity_and_fetch(sim, sim_duckdb, frame, kw):
    a, f = _parity(lambda log: jl.contact_peaks(log, **kw), sim.log, sim_duckdb, CP_TABLES)
    mask = pd.Series(True, index=frame.index)
    if kw.get("channel"):
        mask &= frame["channel"].eq(kw["channel"])
    if kw.get("activities"):
        mask &= frame["activity"].isin(kw["activities"])
    pairs = len(frame[["activity", "channel"]].drop_duplicates())
    assert f.largest <= max(int(mask.sum()), pairs, int(mask.sum()) * frame["activity"].nunique())
    assert f.largest < len(frame)


def test_contact_peaks_drivers_found_in_engine(sim, sim_duckdb):
    """The episode drivers (a join in the engine) agree with the memory path and are not empty."""
    kw = dict(channel="call_centre", activities=["call_centre_contact"], freq="1h", threshold=3, min_volume=2,
              min_lift=1.0, alpha=0.5)
    a, _ = _parity(lambda log: jl.contact_peaks(log, **kw), sim.log, sim_duckdb, CP_TABLES)
    assert len(a.episodes) and len(a.drivers)


# --------------------------------------------------------------------------- channel mix

CM_TABLES = [lambda r: r.share, lambda r: r.switches, lambda r: r.switch_rate, lambda r: r.switches_by_segment,
             lambda r: r.cases, lambda r: r.spend_by_channel, lambda r: r.share_of_customer, lambda r: r.n_no_channel]


@pytest.mark.parametrize("name", ["plain", "journey", "journey + segment column", "segment series", "session unit",
                                  "wallet series", "segment column + wallet column"])
def test_channel_mix_duckdb_parity_and_fetch(sim, sim_duckdb, frame, seg_series, name):
    cases = frame["case"].unique()
    wallet = pd.Series({c: 300.0 + i for i, c in enumerate(cases)})
    kw = {"plain": {}, "journey": dict(journey=sim.journey),
          "journey + segment column": dict(journey=sim.journey, segment="region"),
          "segment series": dict(segment=seg_series), "session unit": dict(unit="session_id"),
          "wallet series": dict(wallet=wallet), "segment column + wallet column": dict(segment="device",
                                                                                     wallet="value")}[name]
    _, f = _parity(lambda log: jl.channel_mix(log, **kw), sim.log, sim_duckdb, CM_TABLES,
                   check_index_type=name != "session unit", check_categorical=False)
    units = frame["session_id"].nunique() if name == "session unit" else frame["case"].nunique()
    assert f.largest <= units < len(frame)


# --------------------------------------------------------------------------- journey map

JM_TABLES = [lambda r: r.touchpoints, lambda r: r.phase_scores, lambda r: r.overall.to_frame(),
             lambda r: r.segments, lambda r: r.missing]


@pytest.mark.parametrize("name", ["nps", "csat segment column", "ces segment series", "session unit",
                                  "goal with conditions", "no goal"])
def test_journey_map_duckdb_parity_and_fetch(sim, sim_duckdb, frame, seg_series, name):
    j = sim.journey
    kw = {"nps": {}, "csat segment column": dict(kpi="csat", segment="region", min_answers=5),
          "ces segment series": dict(kpi="ces", segment=seg_series), "session unit": dict(unit="session_id"),
          "goal with conditions": {}, "no goal": {}}[name]
    if name == "goal with conditions":
        j = Journey("conditional", list(j.milestones), phases=dict(j.phases),
                    goal={"type": "purchase", "activity": "purchase", "when": "value > 30"})
    if name == "no goal":
        j = Journey("no goal", list(j.milestones), phases=dict(j.phases))
    _, f = _parity(lambda log: jl.journey_map(log, j, **kw), sim.log, sim_duckdb, JM_TABLES)
    bound = frame["case"].nunique() if name == "ces segment series" else \
        int(frame["activity"].eq("purchase").sum()) if name == "goal with conditions" else \
        frame["activity"].nunique() * 11 * frame["region"].nunique()
    assert f.largest <= bound < len(frame)


# --------------------------------------------------------------------------- unknown customers (same warning)


@pytest.fixture(scope="module")
def with_customers(sim, tmp_path_factory):
    """case = journey session, customer = the simulated customer, missing on a tenth of the sessions."""
    df = sim.log.to_pandas()
    df = df.rename(columns={"case": "cust"})
    sessions = df["session_id"].astype(object).where(df["session_id"].notna(), df["cust"].astype(str) + "-0")
    sessions = sessions.astype(str)
    drop = sessions.isin(sessions.drop_duplicates().iloc[::10])
    df["cust"] = df["cust"].astype(object).where(~drop, None)
    df.loc[drop & (sessions == sessions[drop].iloc[0]), "cust"] = None
    mem = jl.from_pandas(df.drop(columns=["session_id"]).assign(session=sessions), case="session", activity="activity",
                         timestamp="timestamp", customer="cust", channel="channel", value="value")
    return mem, lazy_copy(mem, "duckdb", tmp_path=tmp_path_factory.mktemp("cust"))


def test_missing_customer_ids_same_results_and_warning(with_customers):
    mem, lazy = with_customers
    runs = [
        (lambda log: jl.attribution(log, conversion="purchase", model="linear", random_state=0, n_boot=10,
                                    progress=False), AT_TABLES),
        (lambda log: jl.channel_mix(log, unit="customer", segment="region"), CM_TABLES),
        (lambda log: jl.peak_end(log, score="csat", overall="nps", unit="customer", random_state=0, n_boot=10,
                                 progress=False), PE_TABLES),
        (lambda log: jl.contact_peaks(log, channel="call_centre", freq="1d", season=None, threshold=2, min_volume=1,
                                      unit="customer"), CP_TABLES),
        (lambda log: jl.journey_map(log, Journey("j", [Milestone("buy", ["purchase"])],
                                                 phases={"look": ["view_product"], "buy": ["purchase"]},
                                                 goal={"type": "purchase", "activity": "purchase"}),
                                    unit="customer", min_answers=1), JM_TABLES),
    ]
    for fn, tables in runs:
        a, wa, _ = _run(fn, mem)
        b, wb, _ = _run(fn, lazy)
        _same(a, b, tables)
        assert [w for w in wa if "customer id" in w[1]] == [w for w in wb if "customer id" in w[1]]
        assert any("customer id" in w[1] for w in wb)


# --------------------------------------------------------------------------- Spark (few, small)


@pytest.fixture(scope="module")
def spark():
    return spark_session_or_skip()


@pytest.fixture(scope="module")
def small(spark):
    sample = jl.datasets.make_journeys(150, random_state=11)
    return sample, lazy_copy(sample.log, "pyspark", spark=spark)


@pytest.mark.spark
def test_touchpoint_scores_spark_parity(small):
    sample, lazy = small
    _parity(lambda log: jl.touchpoint_scores(log, score="csat", kind="csat", by=("activity", "channel"),
                                             min_answers=2), sample.log, lazy, TP_TABLES)
    _parity(lambda log: jl.touchpoint_scores(log, score="nps", by="phase", journey=sample.journey, freq="W",
                                             min_answers=1), sample.log, lazy, TP_TABLES)


@pytest.mark.spark
def test_attribution_spark_parity(small):
    sample, lazy = small
    _, f = _parity(lambda log: jl.attribution(log, conversion="purchase", model="linear", lookback="3d",
                                              random_state=1, n_boot=10, progress=False), sample.log, lazy, AT_TABLES)
    assert f.largest < sample.log.n_events


# --------------------------------------------------------------------------- property: memory == DuckDB


_ACTS = ["ad", "mail", "visit", "buy", "call"]


@st.composite
def survey_logs(draw):
    n = draw(st.integers(3, 40))
    rows = []
    for i in range(n):
        rows.append({"case": f"c{draw(st.integers(0, 6))}", "activity": draw(st.sampled_from(_ACTS)),
                     "t": pd.Timestamp("2025-01-01", tz="UTC") + pd.Timedelta(minutes=draw(st.integers(0, 60 * 24 * 20))),
                     "channel": draw(st.sampled_from(["web", "app", "store", None])),
                     "nps": draw(st.one_of(st.none(), st.integers(0, 10))),
                     "region": draw(st.sampled_from(["north", "south", None]))})
    df = pd.DataFrame(rows)
    if df["nps"].isna().all():
        df.loc[0, "nps"] = draw(st.integers(0, 10))
    if df["channel"].isna().all():
        df.loc[0, "channel"] = "web"
    df["nps"] = df["nps"].astype("Int64")
    return df


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(df=survey_logs(), by=st.sampled_from([("activity",), ("channel",), ("activity", "region")]),
       freq=st.sampled_from([None, "D", "W"]), min_answers=st.integers(1, 3))
def test_survey_cells_and_switches_memory_equals_duckdb(tmp_path_factory, df, by, freq, min_answers):
    mem = jl.from_pandas(df, case="case", activity="activity", timestamp="t", channel="channel")
    lazy = lazy_copy(mem, "duckdb", tmp_path=tmp_path_factory.mktemp("prop"))
    _parity(lambda log: jl.touchpoint_scores(log, score="nps", by=by, freq=freq, min_answers=min_answers), mem, lazy,
            TP_TABLES)
    try:
        jl.channel_mix(mem, segment="region")
    except jl.JourneylabError as err:  # e.g. no event with both a channel and a region: the same refusal
        with pytest.raises(type(err)) as lazy_err:
            jl.channel_mix(lazy, segment="region")
        assert str(lazy_err.value) == str(err)
        return
    _parity(lambda log: jl.channel_mix(log, segment="region"), mem, lazy, CM_TABLES)
