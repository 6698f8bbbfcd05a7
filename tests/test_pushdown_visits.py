"""Engine push-down of the milestone visits and what reads them: compare, milestones, funnel.

The same events in memory and in DuckDB (and, for compare and funnel, in Spark) give identical results;
on a lazy log only narrow tables come back (``fetched()``): per case, per unit or per visit, never one row
per event of the log.
"""

from __future__ import annotations

import warnings

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import journeylab as jl
from conftest import lazy_copy, spark_session_or_skip
from journeylab._core.backend import fetched
from journeylab._kernels.visits import milestone_visits
from journeylab.conditions import CannotCompile, Condition, condition_expr
from journeylab.journey import Journey


def _conditional_journey() -> Journey:
    """The simulator's journey with conditions on text, boolean, float and nullable int columns, and on the goal."""
    return Journey.from_dict({"name": "conditional", "milestones": [
        {"name": "explore app", "activities": ["view_product", "search", "view_offer"], "optional": True,
         "when": "channel in ['app'] and device != 'desktop'"},
        {"name": "explore", "activities": ["view_product", "search", "view_offer", "read_reviews"]},
        {"name": "cart", "activities": ["add_to_cart"], "when": "loyalty_member == false"},
        {"name": "cart member", "activities": ["add_to_cart"], "optional": True},
        {"name": "checkout", "activities": ["checkout"]},
        {"name": "big purchase", "activities": ["purchase"], "when": "value >= 100", "optional": True},
        {"name": "purchase", "activities": ["purchase"]},
        {"name": "complaint", "activities": ["complaint", "return_request"], "when": "nps < 7",
         "kind": "negative", "optional": True}],
        "goal": {"type": "purchase", "activity": "purchase", "when": "value > 30.5"}})


def _date_journey() -> Journey:
    """A condition on a timestamp column written as text: pandas parses it, so the engine fetches the projection."""
    return Journey.from_dict({"name": "dated", "milestones": [
        {"name": "explore", "activities": ["view_product", "search"]},
        {"name": "cart", "activities": ["add_to_cart"], "when": "timestamp >= '2025-03-01'"},
        {"name": "buy", "activities": ["purchase"]}]})


def _frames_equal(a, b, attrs):
    for name in attrs:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), obj=name)


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


def _journey_events(log, journey) -> int:
    acts = {a for m in journey.milestones for a in m.activities} | {journey.goal.activity if journey.goal else ""}
    return int(log.to_pandas()["activity"].isin(acts).sum())


@pytest.fixture(scope="module")
def sessions(sim, tmp_path_factory):
    """sim.log split by its session column (customer role kept), in memory and in DuckDB."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mem = sim.log.sessions(by="session_id")
    return mem, lazy_copy(mem, "duckdb", tmp_path=tmp_path_factory.mktemp("sessions"))


# --------------------------------------------------------------------------- the condition compiler

_FRAME = pd.DataFrame({
    "amount": [10.0, 80.0, None, float("nan"), 50.0],
    "n": pd.array([1, 7, None, 3, 7], dtype="Int64"),
    "channel": pd.array(["web", "app", None, "store", "web"], dtype="string"),
    "member": [True, False, True, False, True],
})


@pytest.mark.parametrize("text", [
    "amount > 50", "amount <= 50", "amount == 80", "amount != 80", "amount in [10, 50.0]", "amount not in [10]",
    "n >= 3", "n < 7.5", "n != 7", "n in [1, 3]", "n not in [7]", "n > -3",
    "channel == 'web'", "channel != 'web'", "channel in ['web', 'app']", "channel not in ['store']",
    "channel > 'b'", "member == true", "member != true", "member in [false]",
    "amount > 5 and channel == 'web' and member == true",
])
def test_condition_expr_matches_like_pandas(text):
    expected = np.ones(len(_FRAME), dtype=bool)
    for cond in jl.conditions.parse_conditions(text):
        expected &= cond.matches(_FRAME).to_numpy()
    t = ibis.memtable(_FRAME)
    got = t.select(hit=condition_expr(text, t)).execute()["hit"].to_numpy(dtype=bool)
    assert got.tolist() == expected.tolist()


@pytest.mark.parametrize("text, why", [
    ("amount > '5'", "float64"), ("channel == 5", "string"), ("member == 1", "boolean"), ("member > false", "boolean"),
    ("when >= '2025-01-01'", "timestamp"), ("absent == 1", "no column 'absent'"),
    ("n > 100000000000000000000000", "int64"),
])
def test_condition_expr_says_when_pandas_must_match(text, why):
    t = ibis.memtable(_FRAME.assign(when=pd.Timestamp("2025-01-02", tz="UTC")))
    with pytest.raises(CannotCompile, match=why):
        condition_expr(text, t)


def test_condition_expr_without_conditions_is_true():
    t = ibis.memtable(_FRAME)
    assert t.select(hit=condition_expr([], t)).execute()["hit"].all()
    assert t.select(hit=condition_expr(Condition("amount", ">", 50), t)).execute()["hit"].sum() == 1


# --------------------------------------------------------------------------- compare


@pytest.mark.parametrize("collapse", [True, False])
def test_compare_parity_duckdb(sim, sim_duckdb, collapse):
    a = jl.compare(sim.log, sim.journey, collapse=collapse)
    b = jl.compare(sim_duckdb, sim.journey, collapse=collapse)
    _frames_equal(a, b, ["cases", "variants", "path", "effects", "deviations"])
    assert a.n_outside == b.n_outside


def test_compare_parity_conditions(sim, sim_duckdb):
    j = _conditional_journey()
    a, b = jl.compare(sim.log, j), jl.compare(sim_duckdb, j)
    _frames_equal(a, b, ["cases", "variants", "path", "effects"])
    assert a.cases["goal"].sum() > 0 and (a.cases["last_milestone"] == "big purchase").any()


def test_compare_fetches_visits_and_cases_only(sim, sim_duckdb):
    mem = milestone_visits(sim.log, sim.journey, goal=True)
    with fetched() as f:
        jl.compare(sim_duckdb, sim.journey)
    assert f.largest <= len(mem.code) < sim.log.n_events
    assert sorted(f.sizes)[-2] <= sim.log.n_cases  # the per-case table
    assert f.rows < len(mem.code) + 2 * sim.log.n_cases


def test_compare_falls_back_to_the_projection_for_dates(sim, sim_duckdb):
    j = _date_journey()
    a = _quiet(jl.compare, sim.log, j)
    with fetched() as f:
        b = _quiet(jl.compare, sim_duckdb, j)
    _frames_equal(a, b, ["cases", "variants", "path", "effects"])
    # the fallback: the events of the journey's activities, with the columns the conditions read
    assert f.largest == _journey_events(sim.log, j)


def test_condition_type_errors_match_memory(sim, sim_duckdb):
    j = Journey.from_dict({"name": "bad", "milestones": [
        {"name": "explore", "activities": ["view_product"]},
        {"name": "buy", "activities": ["purchase"], "when": "value > 'lots'"}]})
    with pytest.raises(jl.JourneyDefinitionError, match=r"column 'value' holds numbers .* compared with the text"):
        jl.compare(sim.log, j)
    with pytest.raises(jl.JourneyDefinitionError, match=r"column 'value' holds numbers .* compared with the text"):
        jl.compare(sim_duckdb, j)


def test_check_fit_warnings_identical(sim, sim_duckdb):
    j = Journey.from_dict({"name": "typo", "milestones": [
        {"name": "explore", "activities": ["view_product", "view_produkt"]},
        {"name": "buy", "activities": ["purchase"]},
        {"name": "moan", "activities": ["complain"], "optional": True, "kind": "negative"}]})
    with pytest.warns(jl.DataQualityWarning) as mem:
        a = jl.compare(sim.log, j)
    with pytest.warns(jl.DataQualityWarning) as lazy:
        b = jl.compare(sim_duckdb, j)
    def ours(record):
        return [str(w.message) for w in record if issubclass(w.category, jl.DataQualityWarning)]

    assert ours(mem) == ours(lazy) and len(ours(mem)) == 1
    assert "view_produkt" in ours(mem)[0] and "'complain'" in ours(mem)[0]
    _frames_equal(a, b, ["cases", "variants"])
    fatal = Journey.from_dict({"name": "fatal", "milestones": [{"name": "buy", "activities": ["purchse"]}]})
    for log in (sim.log, sim_duckdb):
        with pytest.raises(jl.JourneyDefinitionError, match=r"activity 'purchse' \(milestone 'buy'\) is not in the log"):
            jl.compare(log, fatal)


# --------------------------------------------------------------------------- milestones


@pytest.mark.parametrize("kw", [{}, {"as_of": "2025-03-15"}, {"as_of": "2025-02-01 12:00", "lost_after": "5d"},
                                {"confidence": 0.8}])
def test_milestones_parity_duckdb(sim, sim_duckdb, kw):
    a, b = jl.milestones(sim.log, sim.journey, **kw), jl.milestones(sim_duckdb, sim.journey, **kw)
    _frames_equal(a, b, ["table", "cases", "transitions", "curves"])
    assert a.as_of == b.as_of and a.off_path_entries == b.off_path_entries


def test_milestones_parity_conditions(sim, sim_duckdb):
    j = _conditional_journey()
    a, b = jl.milestones(sim.log, j, as_of="2025-04-01"), jl.milestones(sim_duckdb, j, as_of="2025-04-01")
    _frames_equal(a, b, ["table", "cases", "transitions", "curves"])


def test_milestones_fetches_visits_and_cases_only(sim, sim_duckdb):
    mem = milestone_visits(sim.log, sim.journey, as_of=pd.Timestamp("2025-03-15", tz="UTC"))
    with fetched() as f:
        jl.milestones(sim_duckdb, sim.journey, as_of="2025-03-15")
    assert f.largest <= len(mem.code) < sim.log.n_events
    assert sorted(f.sizes)[-2] <= sim.log.n_cases


# --------------------------------------------------------------------------- funnel


@pytest.mark.parametrize("order, count", [("sequential", "uniques"), ("sequential", "totals"), ("strict", "uniques"),
                                          ("strict", "totals"), ("any", "uniques"), ("any", "totals")])
def test_funnel_parity_duckdb(sim, sim_duckdb, order, count):
    kw = {"order": order, "count": count, "by": "channel", "exclude": ["cancel_order", "complaint"]}
    a, b = jl.funnel(sim.log, sim.journey, **kw), jl.funnel(sim_duckdb, sim.journey, **kw)
    _frames_equal(a, b, ["table", "attempts", "breakdown"])


@pytest.mark.parametrize("order", ["sequential", "strict", "any"])
def test_funnel_parity_sessions_and_steps(sessions, order):
    mem, lazy = sessions
    kw = {"window": "2d", "order": order, "exclude": "cancel_order", "by": "device"}
    for count in ("sessions", "uniques"):
        steps = ["view_product", "add_to_cart", "checkout", "purchase"]
        a, b = jl.funnel(mem, steps, count=count, **kw), jl.funnel(lazy, steps, count=count, **kw)
        _frames_equal(a, b, ["table", "attempts", "breakdown"])


def test_funnel_parity_conditions(sim, sim_duckdb):
    j = _conditional_journey()
    steps = [j.milestone("explore"), j.milestone("cart"), j.milestone("big purchase")]
    for order in ("sequential", "any"):
        a, b = jl.funnel(sim.log, steps, order=order), jl.funnel(sim_duckdb, steps, order=order)
        _frames_equal(a, b, ["table", "attempts"])
    a = _quiet(jl.funnel, sim.log, _date_journey())
    with fetched() as f:
        b = _quiet(jl.funnel, sim_duckdb, _date_journey())
    _frames_equal(a, b, ["table", "attempts"])
    assert f.largest == _journey_events(sim.log, _date_journey())  # the projection: conditions read in pandas


def test_funnel_fetches_one_row_per_unit(sim, sim_duckdb, sessions):
    with fetched() as f:
        jl.funnel(sim_duckdb, sim.journey, exclude="cancel_order", by="channel")
    assert f.largest <= sim.log.n_cases
    mem, lazy = sessions
    with fetched() as f:
        jl.funnel(lazy, ["view_product", "add_to_cart", "purchase"], count="sessions")
    assert f.largest <= mem.n_cases


@pytest.mark.parametrize("order, count", [("sequential", "totals"), ("strict", "uniques"), ("any", "uniques")])
def test_funnel_fetches_step_events_only(sim, sim_duckdb, order, count):
    step_events = _journey_events(sim.log, Journey("steps", [m for m in sim.journey.milestones
                                                              if m.name in sim.journey.happy_path]))
    with fetched() as f:
        jl.funnel(sim_duckdb, sim.journey, order=order, count=count)
    assert f.largest <= step_events < sim.log.n_events


# --------------------------------------------------------------------------- Spark (few and small)


@pytest.fixture(scope="module")
def spark_small(sim):
    spark = spark_session_or_skip()
    cases = sorted(sim.log.to_pandas()["case"].unique())[:150]
    mem = sim.log.filter_cases(cases)
    return mem, lazy_copy(mem, "pyspark", spark=spark)


@pytest.mark.spark
def test_compare_and_funnel_parity_spark(spark_small):
    mem, lazy = spark_small
    j = _conditional_journey()
    _frames_equal(jl.compare(mem, j), jl.compare(lazy, j), ["cases", "variants", "path", "effects"])
    with fetched() as f:
        b = jl.funnel(lazy, j, exclude="cancel_order")
    _frames_equal(jl.funnel(mem, j, exclude="cancel_order"), b, ["table", "attempts"])
    assert f.largest <= mem.n_cases
    kw = {"order": "strict", "count": "totals", "by": "channel"}
    _frames_equal(jl.funnel(mem, j, **kw), jl.funnel(lazy, j, **kw), ["table", "attempts", "breakdown"])


# --------------------------------------------------------------------------- property: memory == DuckDB

_ACTS = ["a", "b", "c", "d", "e"]
_CONDS = ["amount > 20", "amount <= 20.5", "channel == 'web'", "channel in ['app', 'store']", "channel != 'app'",
          "flag == true", "n not in [1, 2]", "n >= 2"]


@st.composite
def _logs_and_journeys(draw):
    n = draw(st.integers(1, 40))
    cases = draw(st.lists(st.sampled_from(["c1", "c2", "c3", "c10", "x"]), min_size=n, max_size=n))
    df = pd.DataFrame({
        "case": cases,
        "activity": draw(st.lists(st.sampled_from(_ACTS), min_size=n, max_size=n)),
        # distinct times (ties would be ordered by the engine, not by the input)
        "timestamp": pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(
            draw(st.lists(st.integers(0, 10_000), min_size=n, max_size=n, unique=True)), unit="min"),
        "amount": draw(st.lists(st.one_of(st.none(), st.floats(0, 50, allow_nan=False)), min_size=n, max_size=n)),
        "channel": pd.array(draw(st.lists(st.sampled_from(["web", "app", "store", None]), min_size=n, max_size=n)),
                            dtype="string"),
        "flag": draw(st.lists(st.booleans(), min_size=n, max_size=n)),
        "n": pd.array(draw(st.lists(st.one_of(st.none(), st.integers(0, 3)), min_size=n, max_size=n)), dtype="Int64"),
    })
    milestones = []
    for i in range(draw(st.integers(1, 4))):
        acts = draw(st.lists(st.sampled_from(_ACTS), min_size=1, max_size=3, unique=True))
        when = draw(st.lists(st.sampled_from(_CONDS), max_size=2, unique=True))
        milestones.append({"name": f"m{i}", "activities": acts, **({"when": " and ".join(when)} if when else {})})
    goal_when = draw(st.sampled_from([None, "amount > 10", "channel == 'web'"]))
    journey = Journey.from_dict({"name": "j", "milestones": milestones,
                                 "goal": {"type": "custom", "activity": draw(st.sampled_from(_ACTS)),
                                          **({"when": goal_when} if goal_when else {})}})
    as_of = draw(st.one_of(st.none(), st.integers(0, 10_000)))
    return df, journey, as_of, draw(st.booleans())


@settings(max_examples=40)
@given(_logs_and_journeys())
def test_milestone_visits_memory_equals_duckdb(case):
    df, journey, as_of, collapse = case
    mem = jl.from_pandas(df, case="case", activity="activity", timestamp="timestamp")
    lazy = jl.from_ibis(ibis.memtable(mem.to_pandas()), case="case", activity="activity", timestamp="timestamp")
    cut = None if as_of is None else pd.Timestamp("2025-01-01", tz="UTC") + pd.Timedelta(minutes=as_of)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            a = milestone_visits(mem, journey, as_of=cut, collapse=collapse, goal=True)
        except jl.JourneyDefinitionError as err:  # a happy-path milestone that matches nothing: both refuse
            with pytest.raises(jl.JourneyDefinitionError) as lazy_err:
                milestone_visits(lazy, journey, as_of=cut, collapse=collapse, goal=True)
            assert str(lazy_err.value) == str(err)
            return
        b = milestone_visits(lazy, journey, as_of=cut, collapse=collapse, goal=True)
    for name in ("case", "code", "arrival", "leave", "first", "count", "goal_latest"):
        assert np.asarray(getattr(a, name)).tolist() == np.asarray(getattr(b, name)).tolist(), name
    assert a.case_ids.tolist() == b.case_ids.tolist()
    assert a.n_log_cases == b.n_log_cases and str(a.tz) == str(b.tz)


@st.composite
def _funnel_cases(draw):
    df, journey, _as_of, _collapse = draw(_logs_and_journeys())
    customers = draw(st.lists(st.sampled_from(["u1", "u2", "u3"]), min_size=len(df), max_size=len(df)))
    steps = draw(st.lists(st.sampled_from(_ACTS + ["m0"]), min_size=2, max_size=4))
    steps = [journey.milestones[0] if s == "m0" else s for s in steps]
    step_acts = {a for s in steps for a in ([s] if isinstance(s, str) else s.activities)}
    exclude = [a for a in draw(st.lists(st.sampled_from(_ACTS), max_size=2, unique=True)) if a not in step_acts]
    kw = {"window": draw(st.sampled_from(["1h", "2d", "30d"])), "order": draw(st.sampled_from(["sequential", "strict",
                                                                                            "any"])),
          "count": draw(st.sampled_from(["uniques", "totals", "sessions"])), "exclude": exclude,
          "by": draw(st.sampled_from([None, "channel"]))}
    return df.assign(customer=customers), steps, kw


@settings(max_examples=40)
@given(_funnel_cases())
def test_funnel_memory_equals_duckdb(case):
    df, steps, kw = case
    mem = jl.from_pandas(df, case="case", activity="activity", timestamp="timestamp", customer="customer")
    lazy = jl.from_ibis(ibis.memtable(mem.to_pandas()), case="case", activity="activity", timestamp="timestamp",
                        customer="customer")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            a = jl.funnel(mem, steps, **kw)
        except (jl.JourneylabError, ValueError) as err:
            with pytest.raises(type(err)):
                jl.funnel(lazy, steps, **kw)
            return
        b = jl.funnel(lazy, steps, **kw)
    _frames_equal(a, b, ["table", "attempts"] + (["breakdown"] if kw["by"] else []))


def test_funnel_falls_back_when_a_step_event_has_no_customer():
    df = pd.DataFrame({"case": ["s1", "s1", "s2", "s2", "s3"], "activity": ["view", "buy", "view", "buy", "view"],
                       "timestamp": pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04",
                                                    "2025-01-05"], utc=True),
                       "customer": ["u1", "u1", None, None, "u1"]})
    mem = jl.from_pandas(df, case="case", activity="activity", timestamp="timestamp", customer="customer")
    lazy = jl.from_ibis(ibis.memtable(mem.to_pandas()), case="case", activity="activity", timestamp="timestamp",
                        customer="customer")
    for count in ("uniques", "totals"):
        with pytest.warns(UserWarning, match="no customer id"):
            a = jl.funnel(mem, ["view", "buy"], count=count)
        with pytest.warns(UserWarning, match="no customer id"):
            b = jl.funnel(lazy, ["view", "buy"], count=count)
        _frames_equal(a, b, ["table", "attempts"])
        assert "s2" in b.attempts["unit"].tolist()  # the case stands for its customer
