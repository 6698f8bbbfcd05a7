"""Engine push-down of the per-case analyses (issue 15): cluster_journeys, JourneyVectorizer, case_attributes,
sequence_matrix, the segmentations' profiles and compare_segments on a lazy log give the in-memory results, and
bring back only per-case and per-variant tables (counted with ``fetched()``), never the event table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import lazy_copy, spark_session_or_skip
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journeylab as jl
from journeylab._core.backend import fetched
from journeylab._kernels.cases import (
    case_facts,
    case_summary,
    channel_counts,
    first_event_values,
    milestones_reached,
    value_totals,
)
from journeylab.features import JourneyVectorizer, case_attributes, sequence_matrix
from journeylab.segments import attribute_segmentation


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns as text: an in-memory log keeps its attributes' categories, a table in an engine
    has none (the values are compared, not the category lists)."""
    df = df.copy()
    for c in df.columns:
        if isinstance(df[c].dtype, pd.CategoricalDtype):
            df[c] = df[c].astype(object).where(df[c].notna(), np.nan).astype("str")
    return df


@pytest.fixture
def fresh(sim, tmp_path):
    """A lazy DuckDB copy of ``sim.log`` with nothing computed yet (so ``fetched()`` sees every query)."""
    return lazy_copy(sim.log, "duckdb", tmp_path=tmp_path)


def _bounded(f, log, limit):
    assert f.sizes, "nothing was fetched: the test would not see a regression"
    assert f.largest <= limit, f"fetched {f.sizes} rows; at most {limit} allowed"
    assert f.largest < log.n_events


# --------------------------------------------------------------------------- parity memory == DuckDB


def test_case_attributes_parity(sim, sim_duckdb):
    pd.testing.assert_frame_equal(_plain(case_attributes(sim.log)), _plain(case_attributes(sim_duckdb)))


def test_case_attributes_with_journey_parity(sim, sim_duckdb):
    a = case_attributes(sim.log, journey=sim.journey)
    b = case_attributes(sim_duckdb, journey=sim.journey)
    pd.testing.assert_frame_equal(_plain(a), _plain(b))


def test_case_facts_and_summary_parity(sim, sim_duckdb):
    a, b = case_facts(sim.log), case_facts(sim_duckdb)
    assert a.attrs == b.attrs
    pd.testing.assert_frame_equal(_plain(a), _plain(b))
    sa, sb = case_summary(sim.log), case_summary(sim_duckdb)
    for name in ("lengths", "first_codes", "last_codes", "span_us"):
        np.testing.assert_array_equal(getattr(sa, name), getattr(sb, name))
    pd.testing.assert_series_equal(sa.start, sb.start)
    assert sa.cases.equals(sb.cases) and sa.activities == sb.activities


def test_first_event_values_parity(sim, sim_duckdb):
    for col in ("region", "nps", "version"):
        a = first_event_values(sim.log, col).astype("string")
        b = first_event_values(sim_duckdb, col).astype("string")
        pd.testing.assert_series_equal(a, b)


def test_sequence_matrix_parity(sim, sim_duckdb):
    np.testing.assert_array_equal(sequence_matrix(sim.log), sequence_matrix(sim_duckdb))
    np.testing.assert_array_equal(sequence_matrix(sim.log, width=4), sequence_matrix(sim_duckdb, width=4))


@pytest.mark.parametrize("kw", [{}, {"features": ("counts", "ngrams", "duration", "channels")}])
def test_vectorizer_parity(sim, sim_duckdb, kw):
    a = JourneyVectorizer(**kw).fit_transform(sim.log)
    b = JourneyVectorizer(**kw).fit_transform(sim_duckdb)
    np.testing.assert_array_equal(a, b)
    vec = JourneyVectorizer(**kw).fit(sim.log)
    pd.testing.assert_frame_equal(vec.frame(sim.log), vec.frame(sim_duckdb))


def test_vectorizer_with_journey_parity(sim, sim_duckdb):
    vec = JourneyVectorizer(journey=sim.journey, features=("counts", "milestones", "conformance"))
    np.testing.assert_array_equal(vec.fit_transform(sim.log), vec.fit_transform(sim_duckdb))


@pytest.mark.parametrize("method", ["kmeans", "markov", "sequence"])
def test_cluster_journeys_parity(sim, sim_duckdb, method):
    a = jl.cluster_journeys(sim.log, n_clusters=3, method=method, random_state=0)
    b = jl.cluster_journeys(sim_duckdb, n_clusters=3, method=method, random_state=0)
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    pd.testing.assert_frame_equal(a.k_scores, b.k_scores)
    pd.testing.assert_frame_equal(a.profile(), b.profile())
    seg = a.segments[0]
    pd.testing.assert_frame_equal(a.transition_matrix(seg), b.transition_matrix(seg))
    pd.testing.assert_frame_equal(a.lift("transitions"), b.lift("transitions"))


def test_cluster_journeys_auto_and_predict_parity(sim, sim_duckdb):
    a = jl.cluster_journeys(sim.log, method="markov", k_range=(2, 4), random_state=1)
    b = jl.cluster_journeys(sim_duckdb, method="markov", k_range=(2, 4), random_state=1)
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    pd.testing.assert_frame_equal(a.predict(sim.log).to_frame(), a.predict(sim_duckdb).to_frame())
    km = jl.cluster_journeys(sim.log, n_clusters=3, method="kmeans", random_state=2)
    pd.testing.assert_frame_equal(km.predict(sim.log).to_frame(), km.predict(sim_duckdb).to_frame())


def test_cluster_journeys_kmeans_with_journey_parity(sim, sim_duckdb):
    a = jl.cluster_journeys(sim.log, n_clusters=3, method="kmeans", journey=sim.journey, random_state=0)
    b = jl.cluster_journeys(sim_duckdb, n_clusters=3, method="kmeans", journey=sim.journey, random_state=0)
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    pd.testing.assert_frame_equal(a.profile(), b.profile())


def test_rule_and_attribute_segments_parity(sim, sim_duckdb):
    rules = {"app": "first_channel == 'app'", "big": "value_sum > 200", "north": "region == 'north'"}
    a, b = jl.segment_by(sim.log, rules), jl.segment_by(sim_duckdb, rules)
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    pd.testing.assert_frame_equal(a.profile(), b.profile())
    a, b = attribute_segmentation(sim.log, "region"), attribute_segmentation(sim_duckdb, "region")
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    pd.testing.assert_frame_equal(a.profile(), b.profile())


def test_compare_segments_parity(sim, sim_duckdb):
    a = jl.compare_segments(jl.segment_by(sim.log, {"app": "first_channel == 'app'"}), random_state=0)
    b = jl.compare_segments(jl.segment_by(sim_duckdb, {"app": "first_channel == 'app'"}), random_state=0)
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    seg_a = jl.cluster_journeys(sim.log, n_clusters=3, journey=sim.journey, random_state=0)
    seg_b = jl.cluster_journeys(sim_duckdb, n_clusters=3, journey=sim.journey, random_state=0)
    pd.testing.assert_frame_equal(jl.compare_segments(seg_a, random_state=0).to_frame(),
                                  jl.compare_segments(seg_b, random_state=0).to_frame())


def test_milestones_reached_parity(sim, sim_duckdb):
    """Milestones by activity only come from the variants; with conditions on other columns, from the
    milestone events: the same table either way."""
    by_value = jl.Journey("j", [jl.Milestone("small", ["purchase"], conditions="value <= 50"),
                                jl.Milestone("any", ["purchase", "checkout"])])
    by_activity = jl.Journey("k", [jl.Milestone("c", ["purchase", "checkout"], conditions="activity == 'checkout'"),
                                   jl.Milestone("p", ["purchase", "checkout"])])
    for journey in (sim.journey, by_value, by_activity):
        pd.testing.assert_frame_equal(milestones_reached(sim.log, journey), milestones_reached(sim_duckdb, journey))


# --------------------------------------------------------------------------- only per-case / per-variant tables


def test_milestones_reached_by_activity_fetches_per_case_tables(sim, fresh):
    with fetched() as f:
        milestones_reached(fresh, sim.journey)
    _bounded(f, fresh, sim.log.n_cases)


@pytest.mark.parametrize("method", ["kmeans", "markov", "sequence"])
def test_cluster_journeys_fetches_per_case_tables(sim, fresh, method):
    with fetched() as f:
        jl.cluster_journeys(fresh, n_clusters=3, method=method, random_state=0)
    _bounded(f, fresh, sim.log.n_cases)


def test_case_attributes_fetches_per_case_tables(sim, fresh):
    with fetched() as f:
        case_attributes(fresh)
    _bounded(f, fresh, sim.log.n_cases)
    # each per-case table once: the variant of each case, the times and channels, the attributes' first values
    assert sum(size > len(fresh.activities) for size in f.sizes) <= 4
    assert f.rows <= 4 * sim.log.n_cases + 2 * len(fresh.activities)  # variants + 3 per-case tables + small ones


def test_vectorizer_and_sequence_matrix_fetch_per_case_tables(sim, fresh):
    with fetched() as f:
        JourneyVectorizer().fit_transform(fresh)
        sequence_matrix(fresh)
    _bounded(f, fresh, sim.log.n_cases)


def test_profiles_and_compare_segments_fetch_per_case_tables(sim, fresh):
    with fetched() as f:
        seg = jl.segment_by(fresh, {"app": "first_channel == 'app'"})
        seg.profile()
        jl.compare_segments(seg, random_state=0)
        attribute_segmentation(fresh, "region").profile()
    _bounded(f, fresh, sim.log.n_cases)


def test_journey_columns_fetch_only_milestone_events(sim, fresh):
    """With a journey, the milestone events are read (the conditions run in pandas): never the whole table."""
    acts = {a for m in sim.journey.milestones for a in m.activities}
    n_milestone_events = int(sim.log.to_pandas()["activity"].isin(acts).sum())
    with fetched() as f:
        case_attributes(fresh, journey=sim.journey)
    _bounded(f, fresh, max(n_milestone_events, sim.log.n_cases))


# --------------------------------------------------------------------------- Spark


@pytest.fixture(scope="module")
def spark():
    return spark_session_or_skip()


@pytest.mark.spark
def test_cluster_journeys_spark_parity(spark):
    small = jl.datasets.make_journeys(150, random_state=3).log
    lazy = lazy_copy(small, "pyspark", spark=spark)
    for method in ("kmeans", "markov"):
        a = jl.cluster_journeys(small, n_clusters=3, method=method, random_state=0)
        with fetched() as f:
            b = jl.cluster_journeys(lazy, n_clusters=3, method=method, random_state=0)
        pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
        assert f.largest <= small.n_cases


@pytest.mark.spark
def test_case_facts_spark_parity(spark):
    """Channels, value totals and durations from Spark's group-by (NaN values, as pandas writes them to Spark,
    count as missing)."""
    small = jl.datasets.make_journeys(120, random_state=5).log
    lazy = lazy_copy(small, "pyspark", spark=spark)
    a, b = channel_counts(small), channel_counts(lazy)
    assert a.names == b.names
    for x, y in zip(a[1:], b[1:]):
        np.testing.assert_array_equal(x, y)
    for x, y in zip(value_totals(small), value_totals(lazy)):
        np.testing.assert_allclose(x, y, rtol=1e-12)
    np.testing.assert_array_equal(case_summary(small).span_us, case_summary(lazy).span_us)


# --------------------------------------------------------------------------- property: memory == DuckDB


_CHANNELS = st.sampled_from(["web", "app", "store", None])
_REGIONS = st.sampled_from(["north", "south", None])


@st.composite
def _logs(draw):
    n_cases = draw(st.integers(1, 6))
    rows = []
    for c in range(n_cases):
        n = draw(st.integers(1, 5))
        t0 = draw(st.integers(0, 10_000))
        gaps = draw(st.lists(st.integers(1, 5_000), min_size=n, max_size=n))
        for i in range(n):
            rows.append({"id": f"c{c}", "step": draw(st.sampled_from(["a", "b", "c"])),
                         "t": pd.Timestamp("2025-01-01") + pd.Timedelta(seconds=t0 + sum(gaps[:i + 1])),
                         "ch": draw(_CHANNELS), "amount": draw(st.one_of(st.none(), st.floats(0, 500, width=32))),
                         "region": draw(_REGIONS), "score": draw(st.one_of(st.none(), st.integers(0, 10)))})
    df = pd.DataFrame(rows)
    df["score"] = df["score"].astype("Int64")
    df["amount"] = df["amount"].astype(float)
    return df


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_logs())
def test_case_facts_memory_equals_duckdb(df):
    import ibis

    roles = {"case": "id", "activity": "step", "timestamp": "t", "channel": "ch", "value": "amount"}
    mem = jl.from_pandas(df, **roles)
    lazy = jl.from_ibis(ibis.memtable(df), **roles)
    a, b = case_facts(mem), case_facts(lazy)
    assert a.attrs == b.attrs
    pd.testing.assert_frame_equal(_plain(a), _plain(b), check_dtype=False, rtol=1e-12)
    pd.testing.assert_frame_equal(_plain(case_attributes(mem)), _plain(case_attributes(lazy)), check_dtype=False,
                                  rtol=1e-12)
    np.testing.assert_array_equal(sequence_matrix(mem), sequence_matrix(lazy))
