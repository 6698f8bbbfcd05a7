"""jl.retention on a lazy log: the same result as in memory (DuckDB, one Spark case), and only per-cell
counts come back from the engine (``fetched()``)."""

from __future__ import annotations

import pandas as pd
import pytest

import journeylab as jl
from journeylab._core.backend import fetched

from conftest import lazy_copy, spark_session_or_skip


def _same(a, b):
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    pd.testing.assert_frame_equal(a.curves, b.curves)
    if a.test is not None:
        pd.testing.assert_frame_equal(a.test, b.test)
        assert a.p_value == pytest.approx(b.p_value, rel=1e-12)


@pytest.mark.parametrize("kw", [
    dict(by="version"),                                                       # weeks: arithmetic periods
    dict(period="M", mode="on", returning=["view_product", "search"], by="channel"),  # months: the bounds join
    dict(period="D", cohort="channel == 'store'", returning="purchase", max_periods=5),
])
def test_duckdb_matches_memory(sim, sim_duckdb, kw):
    _same(jl.retention(sim.log, **kw), jl.retention(sim_duckdb, **kw))


def test_duckdb_fetches_cells_only(sim, sim_duckdb):
    sim_duckdb.time_span  # noqa: B018  (the log's own sizes query, cached by the log)
    with fetched() as f:
        jl.retention(sim_duckdb, by="version", mode="on")
    assert f.queries == 2
    assert f.largest <= sim.log.n_cases < sim.log.n_events
    assert f.largest <= 2 * 27 * 14 * 14  # groups x cohorts x first x last periods


@pytest.mark.spark
def test_spark_matches_memory(sim, tmp_path):
    spark = spark_session_or_skip()
    small = sim.log.filter_cases(sorted(sim.truth.customers.index)[:300])  # Spark's cost is per query, not per row
    lazy = lazy_copy(small, "pyspark", spark=spark, tmp_path=tmp_path)
    _same(jl.retention(small, by="version", period="M"), jl.retention(lazy, by="version", period="M"))


def test_a_condition_the_engine_cannot_run_is_matched_on_the_projection(sim, sim_duckdb):
    from journeylab.journey import Criteria

    # a date written as text: pandas compares it, the engine cannot (CannotCompile); only the events of
    # 'purchase' come back to be matched, and their order numbers go back to the engine
    cohort = Criteria(["purchase"], conditions="timestamp >= '2025-03-01'")
    kw = dict(cohort=cohort, returning=["view_product", "search"], by="version", period="W", max_periods=6)
    mem = jl.retention(sim.log, **kw)
    with fetched() as f:
        lazy = jl.retention(sim_duckdb, **kw)
    _same(mem, lazy)
    assert mem.sizes.sum() > 0 and mem.to_frame()["cohort"].min() >= pd.Timestamp("2025-02-24", tz="UTC")
    n_purchase = int((sim.log.to_pandas()["activity"] == "purchase").sum())
    assert f.largest <= n_purchase < sim.log.n_events
