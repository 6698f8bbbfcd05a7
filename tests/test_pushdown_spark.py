"""Spark parity (issue 15): analyses that the other ``test_pushdown_*`` files check on DuckDB only give the
in-memory results on a log that lives in Spark (local mode), and bring back narrow tables.

One Spark session (conftest's) and one small lazy Spark log (module-scoped: 150 customers of ``sim``) for the
whole file: Spark's per-query overhead, not the data, is what costs time here.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import journeylab as jl
from conftest import lazy_copy, spark_session_or_skip
from journeylab._core.backend import fetched
from journeylab._kernels.cases import first_event_values, milestones_reached
from journeylab.features import JourneyVectorizer, case_attributes, sequence_matrix
from journeylab.segments import attribute_segmentation

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def pair(sim):
    """150 customers of ``sim.log`` in memory, the same events as a lazy log in Spark, and that log's cache
    once its sizes are known (each case starts from it: what a case fetches does not depend on the cases
    before it, which may have cached the same tables on the shared log)."""
    spark = spark_session_or_skip()
    cases = sorted(sim.log.to_pandas()["case"].unique())[:150]
    mem = sim.log.filter_cases(cases)
    lazy = lazy_copy(mem, "pyspark", spark=spark)
    lazy.time_span  # noqa: B018  (the log's own sizes query, cached by the log)
    return mem, lazy, dict(lazy._cache)


def _plain(x):
    """Categories as text: an in-memory log keeps its attributes' categories, a table in an engine has none
    (the values are compared, not the category lists)."""
    if isinstance(x, pd.Series):
        return _plain(x.to_frame())[x.name] if x.name is not None else _plain(x.to_frame("v"))["v"]
    x = x.copy()
    for c in x.columns:
        if isinstance(x[c].dtype, pd.CategoricalDtype):
            x[c] = x[c].astype(object).where(x[c].notna(), np.nan).astype("str")
    if isinstance(x.index.dtype, pd.CategoricalDtype):
        x.index = x.index.astype(str)
    return x


def _same(a, b, what: str) -> None:
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(_plain(a), _plain(b), check_categorical=False, check_index_type=False,
                                      obj=what)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(_plain(a), _plain(b), check_categorical=False, check_index_type=False,
                                       obj=what)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=what)
    else:
        assert a == b or (pd.isna(a) and pd.isna(b)), (what, a, b)


# --------------------------------------------------------------------------- analyses covered on DuckDB only


def _parts(result, *names):
    return [getattr(result, n) for n in names]


def _peak_end(log):
    r = jl.peak_end(log, score="csat", overall="nps", random_state=3, n_boot=10, progress=False)
    return [r.to_frame(), r.customers, r.coefficients, r.n_excluded]


def _seg_rules(log):
    return jl.segment_by(log, {"app": "first_channel == 'app'", "big": "value_sum > 200"})


CASES = {
    "discover": lambda log, j: [jl.discover(log).to_frame(), jl.discover(log, activities=0.8, paths=0.3).to_frame()],
    "variants and paths": lambda log, j: [jl.variants(log).to_frame(),
                                          jl.paths(log, anchor="add_to_cart", direction="next", steps=2).to_frame()],
    "case_attributes": lambda log, j: [case_attributes(log, journey=j)],
    "sequence_matrix": lambda log, j: [sequence_matrix(log, width=4)],
    "vectorizer": lambda log, j: [JourneyVectorizer(journey=j, features=("counts", "ngrams", "duration",
                                                                         "milestones")).fit_transform(log)],
    "first_event_values": lambda log, j: [first_event_values(log, c).astype("string") for c in ("region", "nps")],
    "segments and profiles": lambda log, j: [_seg_rules(log).to_frame(), _seg_rules(log).profile(),
                                             attribute_segmentation(log, "region").profile()],
    "compare_segments": lambda log, j: [jl.compare_segments(_seg_rules(log), random_state=0,
                                                            n_permutations=99).to_frame()],
    "milestones_reached": lambda log, j: [milestones_reached(log, j)],
    "milestones": lambda log, j: _parts(jl.milestones(log, j, as_of="2025-03-15"), "table", "cases", "transitions",
                                        "curves"),
    "funnel sessions": lambda log, j: _parts(
        jl.funnel(log, ["view_product", "add_to_cart", "checkout", "purchase"], window="2d", by="device",
                  count="uniques"), "table", "attempts", "breakdown"),
    "peak_end": lambda log, j: _peak_end(log),
}


@pytest.mark.parametrize("name", list(CASES))
def test_analysis_on_spark_equals_memory(pair, sim, name):
    mem, lazy, cached = pair
    lazy._cache.clear()
    lazy._cache.update(cached)
    fn = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = fn(mem, sim.journey)
        with fetched() as f:
            got = fn(lazy, sim.journey)
    assert len(want) == len(got)
    for i, (a, b) in enumerate(zip(want, got)):
        _same(a, b, f"{name} [{i}]")
    assert f.queries and f.largest < mem.n_events, f"{name}: fetched {f.sizes} rows of {mem.n_events} events"


def test_spark_numbers_the_events_by_case_in_parallel_and_ties_keep_the_tables_order(tmp_path):
    """``from_ibis`` on Spark numbers the events 0..n-1 by case and time, as in memory, with no window over
    every event (Spark runs one without PARTITION BY in a single task): a position in the case plus the
    events of the cases before it. Two events of a case at the same instant keep the file's order."""
    import re

    import ibis

    spark = spark_session_or_skip()
    rows = [("c", "view", 3), ("b", "view", 0), ("a", "view", 1), ("b", "leave", 0), ("c", "view", 1),
            ("b", "view", 5), ("a", "buy", 1), ("c", "leave", 1)]  # interleaved; b and a, c have ties
    df = pd.DataFrame(rows, columns=["case", "activity", "h"])
    df["timestamp"] = pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(df.pop("h"), unit="h")
    mem = jl.from_pandas(df, case="case", activity="activity", timestamp="timestamp")
    df.to_parquet(tmp_path / "ev.parquet")
    spark.read.parquet(str(tmp_path / "ev.parquet")).createOrReplaceTempView("ties_events")
    lazy = jl.from_ibis(ibis.pyspark.connect(spark).table("ties_events"), case="case", activity="activity",
                        timestamp="timestamp")
    sql = ibis.to_sql(lazy.table)
    assert re.search(r"ROW_NUMBER\(\) OVER \(\s*PARTITION BY", sql)  # the events: a window per case
    assert not re.search(r"ROW_NUMBER\(\) OVER \(\s*ORDER BY", sql)  # never one over every event
    got = lazy.table.select("case", "activity", "_seq").execute().sort_values("_seq")
    assert got["_seq"].tolist() == list(range(len(df)))
    want = mem.to_pandas()
    assert list(zip(got["case"], got["activity"])) == list(zip(want["case"].astype(str), want["activity"].astype(str)))
    assert list(got["activity"])[2:4] == ["view", "leave"]  # b's tie at 00:00, in the file's order


def test_spark_results_come_back_as_arrow_and_the_sessions_setting_is_put_back():
    """journeylab's queries fetch Arrow batches (not a Python Row per row); the user's session keeps its own
    setting, which also decides how ``createDataFrame`` reads pandas."""
    import ibis

    from journeylab._core import backend

    spark = spark_session_or_skip()
    key = "spark.sql.execution.arrow.pyspark.enabled"
    spark.conf.set(key, "false")
    seen = []
    con = ibis.pyspark.connect(spark)
    real = type(con).execute

    def spy(self, expr, *a, **k):
        seen.append(spark.conf.get(key))
        return real(self, expr, *a, **k)

    type(con).execute = spy
    try:
        with backend._arrow_results(con):
            assert spark.conf.get(key) == "true"
        assert spark.conf.get(key) == "false"  # put back
        df = pd.DataFrame({"case": ["a", "a"], "activity": ["x", "y"],
                           "timestamp": pd.to_datetime(["2025-01-01", "2025-01-02"], utc=True)})
        spark.createDataFrame(df).createOrReplaceTempView("arrow_events")
        log = jl.from_ibis(con.table("arrow_events"), case="case", activity="activity", timestamp="timestamp")
        assert log.n_events == 2 and seen and set(seen) == {"true"}  # every query of journeylab: Arrow
    finally:
        type(con).execute = real
    assert spark.conf.get(key) == "false"
