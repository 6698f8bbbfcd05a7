"""EventLog.sample_customers: a uniform sample of whole customers, the same draw in memory, DuckDB and Spark."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

import journeylab as jl
from conftest import lazy_copy, spark_session_or_skip
from journeylab._core.backend import fetched
from journeylab.exceptions import InvalidParameterError

ROLES = dict(case="case", activity="activity", timestamp="timestamp", channel="channel", value="value")


def _events(log) -> pd.DataFrame:
    """The events as plain values (times as naive UTC: Spark gives them so), sorted by case, time and activity (engines need not keep ties in order)."""
    df = log.to_pandas().drop(columns=["_seq"], errors="ignore")
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True).dt.tz_localize(None).astype("datetime64[ns]")
    for c in df.columns:
        if c != "timestamp":
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df.sort_values(["case", "timestamp", "activity"], kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def sessions(sim):
    """Journey sessions of the simulator (case = session, customer = the person): 2-3 sessions a customer."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sim.log.sessions(by="session_id")


def test_whole_customers_with_every_event_and_the_exact_count(sessions):
    df = sessions.to_pandas()
    out = sessions.sample_customers(100, random_state=3)
    got = out.to_pandas()
    assert got["customer"].nunique() == 100 and out._meta["sampled"] == {"customers": 100, "of": df["customer"].nunique()}
    # every event of each sampled customer, nothing else
    want = df[df["customer"].isin(set(got["customer"]))]
    pd.testing.assert_frame_equal(_events(out), _events(sessions.filter_cases(want["case"].unique())))
    assert len(got) == len(want)
    # the draw: the seed decides, a new seed draws other customers
    again = sessions.sample_customers(100, random_state=3).to_pandas()
    assert set(again["customer"]) == set(got["customer"])
    assert set(sessions.sample_customers(100, random_state=4).to_pandas()["customer"]) != set(got["customer"])


def test_the_draw_is_numpy_choice_over_the_sorted_ids(sim):
    ids = np.sort(sim.log.to_pandas()["case"].unique().astype(str))
    ranks = np.random.default_rng(11).choice(len(ids), size=40, replace=False)
    out = sim.log.sample_customers(40, random_state=11)
    assert set(out.to_pandas()["case"]) == set(ids[ranks])


def test_fraction_rounds_to_customers_and_all_of_them_is_the_log(sim):
    n = sim.log.n_cases
    assert sim.log.sample_customers(fraction=0.1).n_cases == round(0.1 * n)
    assert sim.log.sample_customers(fraction=1e-9).n_cases == 1  # at least one customer
    assert sim.log.sample_customers(n) is sim.log and sim.log.sample_customers(10 * n) is sim.log
    assert sim.log.sample_customers(fraction=1.0) is sim.log


def test_the_sample_is_uniform_over_the_customers():
    # 4,000 customers of one event each; a customer's number says where it sits in the sorted ids
    df = pd.DataFrame({"case": [f"c{i:05d}" for i in range(4000)], "activity": "a",
                       "timestamp": pd.Timestamp("2025-01-01")})
    log = jl.from_pandas(df, case="case", activity="activity", timestamp="timestamp")
    quarters = np.zeros(4)
    for seed in range(20):
        picked = log.sample_customers(400, random_state=seed).to_pandas()["case"].str[1:].astype(int)
        quarters += np.bincount(picked // 1000, minlength=4)
    # 8,000 draws, 2,000 expected per quarter; the spread of a hypergeometric count is below 40 here
    assert np.all(np.abs(quarters - 2000) < 6 * 40), quarters


@pytest.mark.parametrize("kwargs, says", [
    ({}, "one of the two"), ({"n": 5, "fraction": 0.5}, "one of the two"), ({"n": 0}, "n="),
    ({"fraction": 0.0}, "fraction="), ({"fraction": 1.5}, "fraction="), ({"n": 5, "random_state": -1}, "random_state="),
])
def test_bad_arguments_are_refused_with_what_to_give(sim, kwargs, says):
    with pytest.raises(InvalidParameterError, match=says):
        sim.log.sample_customers(**kwargs)


def test_duckdb_draws_the_same_customers_and_fetches_no_event(sessions, tmp_path):
    lazy = lazy_copy(sessions, "duckdb", tmp_path=tmp_path)
    lazy.n_events  # noqa: B018
    with fetched() as f:
        out = lazy.sample_customers(120, random_state=9)
    assert out.is_lazy and f.largest <= 1  # counts only: the ids, ranks and events stay in the engine
    pd.testing.assert_frame_equal(_events(out), _events(sessions.sample_customers(120, random_state=9)))


def test_a_copied_log_copies_its_sample(sim, tmp_path):
    path = tmp_path / "events.parquet"
    sim.log.to_pandas().to_parquet(path)
    lazy = jl.scan_parquet(path, **ROLES)
    out = lazy.sample_customers(fraction=0.2, random_state=1)
    sql = str(ibis.to_sql(out.table))
    assert out.is_lazy and "jl_store" in sql
    assert "semi" not in sql.lower() and "_rank" not in sql  # the sample is read from its copy, not re-drawn
    mem = jl.read_parquet(path, **ROLES).sample_customers(fraction=0.2, random_state=1)
    pd.testing.assert_frame_equal(_events(out), _events(mem))
    # the copy keeps each case's events in the log's order
    from journeylab._core.backend import execute

    seq = execute(out.table.select("_seq"))["_seq"]
    assert sorted(seq.tolist()) == list(range(out.n_events))
    ordered = execute(out.table.order_by("_seq").select("case", "timestamp"))
    pd.testing.assert_frame_equal(ordered, ordered.sort_values(["case", "timestamp"], kind="stable"))
    # an analysis on the sample equals the same analysis in memory
    pd.testing.assert_frame_equal(jl.variants(out).table.reset_index(drop=True), jl.variants(mem).table.reset_index(drop=True),
                                  check_dtype=False)


@pytest.mark.spark
def test_spark_draws_the_same_customers(sessions):
    spark = spark_session_or_skip()
    cases = sorted(sessions.to_pandas()["case"].unique())[:300]
    mem = sessions.filter_cases(cases)
    lazy = lazy_copy(mem, "pyspark", spark=spark)
    pd.testing.assert_frame_equal(_events(lazy.sample_customers(40, random_state=2)),
                                  _events(mem.sample_customers(40, random_state=2)))


def test_numeric_customer_ids_draw_the_same_customers_in_duckdb(tmp_path):
    # ids are compared as text everywhere: 10 sorts before 9, in memory and in the engine
    df = pd.DataFrame({"case": [f"s{i}" for i in range(60)], "who": [i // 2 for i in range(60)], "activity": "a",
                       "timestamp": pd.Timestamp("2025-01-01") + pd.to_timedelta(np.arange(60), unit="h")})
    mem = jl.from_pandas(df, case="case", customer="who", activity="activity", timestamp="timestamp")
    lazy = lazy_copy(mem, "duckdb", tmp_path=tmp_path)
    got = mem.sample_customers(7, random_state=4)
    assert got.to_pandas()["customer"].nunique() == 7
    pd.testing.assert_frame_equal(_events(lazy.sample_customers(7, random_state=4)), _events(got))
