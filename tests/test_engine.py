"""The core aggregates: hand-computed cases, properties over generated logs, DuckDB vs Spark."""

from __future__ import annotations


import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journeylab as jl
from journeylab import engine


def hand_log():
    df = pd.DataFrame({
        "c": ["a", "a", "a", "b", "b", "c", "c", "c"],
        "act": ["x", "y", "z", "x", "z", "x", "y", "z"],
        "t": ["2025-01-01 00:00", "2025-01-01 01:00", "2025-01-01 03:00",
              "2025-01-02 00:00", "2025-01-02 00:30",
              "2025-01-03 00:00", "2025-01-03 03:00", "2025-01-03 04:00"],
    })
    return jl.from_pandas(df, case="c", activity="act", timestamp="t")


def test_directly_follows_hand_computed():
    dfg = engine.directly_follows(hand_log()).set_index(["source", "target"])
    assert dfg["count"].to_dict() == {("x", "y"): 2, ("y", "z"): 2, ("x", "z"): 1}
    assert dfg.loc[("x", "y"), "duration_mean"] == pd.Timedelta("2h")  # 1h and 3h
    assert dfg.loc[("x", "y"), "duration_median"] == pd.Timedelta("2h")
    assert dfg.loc[("y", "z"), "duration_mean"] == pd.Timedelta("1.5h")  # 2h and 1h
    assert dfg.loc[("x", "z"), "duration_p90"] == pd.Timedelta("30min")
    assert dfg.loc[("x", "y"), "cases"] == 2


def test_variants_case_table_start_end_hand_computed():
    log = hand_log()
    v = engine.variants(log)
    assert v["variant"].tolist() == [("x", "y", "z"), ("x", "z")]
    assert v["count"].tolist() == [2, 1]
    assert v["duration_median"].tolist() == [pd.Timedelta("3.5h"), pd.Timedelta("30min")]
    ct = engine.case_table(log)
    assert ct.loc["a"].to_dict() == {
        "start": pd.Timestamp("2025-01-01", tz="UTC"), "end": pd.Timestamp("2025-01-01 03:00", tz="UTC"),
        "length": 3, "duration": pd.Timedelta("3h"), "first_activity": "x", "last_activity": "z"}
    se = engine.start_end(log)
    assert se.loc["x"].tolist() == [3, 0] and se.loc["z"].tolist() == [0, 3]
    cv = engine.case_variants(log)
    assert cv.to_dict() == {"a": 0, "b": 1, "c": 0}


def test_a_dataframe_is_not_a_log():
    df = hand_log().to_pandas()
    for f in (engine.directly_follows, engine.variants, engine.case_table, engine.start_end, engine.case_variants):
        with pytest.raises(jl.InvalidParameterError, match=r"log must be a journeylab EventLog.*wrap it with jl\.from_pandas"):
            f(df)


def test_scans_are_cached_by_the_log_and_handed_out_as_copies():
    import gc

    from journeylab.log import EventLog

    gc.collect()
    alive = sum(isinstance(o, EventLog) for o in gc.get_objects())
    log = hand_log()
    v = engine.variants(log)
    v.loc[0, "count"] = 99
    v["extra"] = 1
    dfg = engine.directly_follows(log)
    dfg.loc[0, "count"] = 99
    ct = engine.case_table(log)
    ct.loc["a", "length"] = 99
    assert engine.variants(log)["count"].tolist() == [2, 1] and "extra" not in engine.variants(log)
    assert engine.directly_follows(log)["count"].max() == 2
    assert engine.case_table(log).loc["a", "length"] == 3
    cv = engine.case_variants(log)
    cv.iloc[0] = 5
    assert engine.case_variants(log).tolist() == [0, 1, 0]
    assert any(isinstance(k, tuple) and k[0] == "scans" for k in log._cache)  # the log holds the cache
    del log, v, dfg, ct, cv
    gc.collect()
    assert sum(isinstance(o, EventLog) for o in gc.get_objects()) == alive  # and nothing else keeps the log


def test_ties_keep_input_order_in_aggregates():
    df = pd.DataFrame({"c": ["a", "a"], "act": ["second?", "first?"], "t": ["2025-01-01"] * 2})
    v = engine.variants(jl.from_pandas(df, case="c", activity="act", timestamp="t"))
    assert v["variant"].iloc[0] == ("second?", "first?")


def test_separator_in_activity_names_is_safe():
    df = pd.DataFrame({"c": ["a", "a"], "act": ["x, y", "z|w"], "t": ["2025-01-01", "2025-01-02"]})
    v = engine.variants(jl.from_pandas(df, case="c", activity="act", timestamp="t"))
    assert v["variant"].iloc[0] == ("x, y", "z|w")


# --------------------------------------------------------------------------- properties


@st.composite
def logs(draw):
    n_cases = draw(st.integers(1, 12))
    rows = []
    for c in range(n_cases):
        length = draw(st.integers(1, 7))
        acts = draw(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=length, max_size=length))
        gaps = draw(st.lists(st.integers(1, 10_000), min_size=length, max_size=length))
        t = np.cumsum(gaps)
        rows += [(f"case{c}", a, pd.Timestamp("2025-01-01", tz="UTC") + pd.Timedelta(seconds=int(s)))
                 for a, s in zip(acts, t)]
    return pd.DataFrame(rows, columns=["c", "act", "t"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=logs(), seed=st.integers(0, 2**32 - 1))
def test_properties_counts_and_shuffle_invariance(df, seed):
    log = jl.from_pandas(df, case="c", activity="act", timestamp="t")
    v = engine.variants(log)
    assert v["count"].sum() == log.n_cases
    dfg = engine.directly_follows(log)
    assert dfg["count"].sum() == log.n_events - log.n_cases
    assert (dfg["cases"] <= dfg["count"]).all()
    se = engine.start_end(log)
    assert se["starts"].sum() == se["ends"].sum() == log.n_cases

    shuffled = df.sample(frac=1.0, random_state=seed % (2**32 - 1)).reset_index(drop=True)
    log2 = jl.from_pandas(shuffled, case="c", activity="act", timestamp="t")
    pd.testing.assert_frame_equal(engine.variants(log2), v)
    pd.testing.assert_frame_equal(engine.directly_follows(log2), dfg)
    pd.testing.assert_frame_equal(engine.case_table(log2), engine.case_table(log))
    pd.testing.assert_frame_equal(log2.to_pandas(), log.to_pandas())


def test_numpy_variants_switch_is_deprecated():
    with pytest.warns(DeprecationWarning, match="journeylab.engine.NUMPY_VARIANTS is deprecated"):
        assert engine.NUMPY_VARIANTS is True
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        engine.nothing  # noqa: B018


def test_numpy_and_sql_variant_paths_agree(monkeypatch):
    from journeylab._kernels import scans

    log = jl.from_pandas(_generated(400, seed=3), case="case", activity="activity", timestamp="timestamp")
    fast = engine.variants(log)
    monkeypatch.setattr(scans, "NUMPY_VARIANTS", False)
    fresh = jl.from_pandas(_generated(400, seed=3), case="case", activity="activity", timestamp="timestamp")
    pd.testing.assert_frame_equal(engine.variants(fresh), fast)


# --------------------------------------------------------------------------- Spark


@pytest.fixture(scope="module")
def spark():
    # the one test session of conftest: shared with the push-down tests, so the JVM starts once per run
    from conftest import spark_session_or_skip

    return spark_session_or_skip()


def _generated(n_cases=300, seed=1):
    rng = np.random.default_rng(seed)
    acts = np.array(["home", "search", "view", "cart", "pay", "help", "exit"])
    rows = []
    for c in range(n_cases):
        k = int(rng.integers(2, 9))
        seq = rng.choice(acts, size=k, p=[0.2, 0.2, 0.25, 0.15, 0.1, 0.05, 0.05])
        secs = np.cumsum(rng.integers(1, 5000, size=k)) + int(rng.integers(0, 10**7))
        rows += [(f"c{c:04d}", a, s) for a, s in zip(seq, secs)]
    df = pd.DataFrame(rows, columns=["case", "activity", "s"])
    df["timestamp"] = pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(df.pop("s"), unit="s") \
        + pd.to_timedelta(rng.integers(0, 999_999, size=len(df)), unit="us")
    return df


@pytest.mark.spark
def test_spark_aggregates_equal_duckdb(spark):
    import ibis

    df = _generated()
    duck = jl.from_pandas(df, case="case", activity="activity", timestamp="timestamp")
    spark.createDataFrame(duck.to_pandas()).createOrReplaceTempView("events")
    con = ibis.pyspark.connect(spark)
    lazy = jl.from_ibis(con.table("events"), case="case", activity="activity", timestamp="timestamp")
    assert lazy.is_lazy and lazy.backend == "pyspark"
    assert (lazy.n_cases, lazy.n_events) == (duck.n_cases, duck.n_events)
    assert set(lazy.activities) == set(duck.activities)

    d1 = engine.directly_follows(duck).set_index(["source", "target"]).sort_index()
    d2 = engine.directly_follows(lazy).set_index(["source", "target"]).sort_index()
    pd.testing.assert_frame_equal(d1[["count", "cases", "duration_mean"]], d2[["count", "cases", "duration_mean"]])
    # Spark's median/percentile interpolate like DuckDB's (both continuous) on these sizes
    assert (d1["duration_median"] - d2["duration_median"]).abs().max() <= pd.Timedelta("1s")

    v1, v2 = engine.variants(duck), engine.variants(lazy)
    pd.testing.assert_frame_equal(v1[["variant", "count"]], v2[["variant", "count"]])
    c1, c2 = engine.case_table(duck), engine.case_table(lazy)
    pd.testing.assert_frame_equal(c1[["length", "duration", "first_activity", "last_activity"]],
                                  c2[["length", "duration", "first_activity", "last_activity"]])
    pd.testing.assert_frame_equal(engine.start_end(duck), engine.start_end(lazy))


@pytest.mark.spark
def test_from_ibis_errors_on_spark(spark):
    import ibis

    from datetime import datetime, timezone

    rows = [("a", "x", datetime(2025, 1, 1, tzinfo=timezone.utc)), (None, "y", datetime(2025, 1, 2, tzinfo=timezone.utc))]
    spark.createDataFrame(rows, "id string, act string, ts timestamp").createOrReplaceTempView("bad")
    con = ibis.pyspark.connect(spark)
    with pytest.raises(jl.MissingValuesError, match="1 in case"):
        jl.from_ibis(con.table("bad"), case="id", activity="act", timestamp="ts")
    with pytest.raises(jl.SchemaError, match="case='idd' is not a column"):
        jl.from_ibis(con.table("bad"), case="idd", activity="act", timestamp="ts")


def test_from_ibis_duckdb_memtable():
    import ibis

    df = _generated(50)
    t = ibis.memtable(df)
    lazy = jl.from_ibis(t, case="case", activity="activity", timestamp="timestamp")
    eager = jl.from_pandas(df, case="case", activity="activity", timestamp="timestamp")
    pd.testing.assert_frame_equal(engine.variants(lazy), engine.variants(eager))
    # in memory the engine uses precomputed successors; lazily, window functions: same result
    pd.testing.assert_frame_equal(engine.directly_follows(lazy), engine.directly_follows(eager))
    pd.testing.assert_frame_equal(engine.case_table(lazy), engine.case_table(eager))
    assert lazy.to_pandas()["activity"].tolist() == eager.to_pandas()["activity"].tolist()
    with pytest.raises(jl.SchemaError, match="expected an Ibis table"):
        jl.from_ibis(df, case="case", activity="activity", timestamp="timestamp")
    with pytest.raises(jl.SchemaError, match="both activity= and timestamp="):
        jl.from_ibis(t, case="case", activity="activity", timestamp="activity")
    t2 = ibis.memtable(df.assign(when=df["timestamp"].astype(str)).drop(columns="timestamp"))
    with pytest.raises(jl.SchemaError, match="has type string, not a timestamp"):
        jl.from_ibis(t2, case="case", activity="activity", timestamp="when")
    # an attribute named like a role the log does not use stays an attribute (issue 13)
    with_attr = jl.from_ibis(ibis.memtable(df.assign(channel="web")), case="case", activity="activity",
                             timestamp="timestamp")
    assert with_attr.attributes[-1] == "channel" and not with_attr.has_role("channel")


def test_from_ibis_refuses_columns_that_differ_only_in_case():
    import ibis

    df = _generated(20)
    t = ibis.memtable(df.assign(Activity=df["activity"].str.upper()))
    with pytest.raises(jl.SchemaError, match=r"'activity' and 'Activity' of the log differ only in upper/lower case"):
        jl.from_ibis(t, case="case", activity="activity", timestamp="timestamp")
    # renamed where the table is made, the log reads and its events come back
    t = ibis.memtable(df.assign(activity_upper=df["activity"].str.upper()))
    ok = jl.from_ibis(t, case="case", activity="activity", timestamp="timestamp")
    assert ok.to_pandas()["activity_upper"].tolist() == ok.to_pandas()["activity"].str.upper().tolist()


def test_doctests():
    import doctest

    from journeylab._core import backend
    from journeylab._kernels import scans

    for mod in (engine, scans, backend):
        res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        assert res.failed == 0, mod.__name__


def test_engine_out_of_disk_or_memory_is_a_clear_error(monkeypatch):
    """DuckDB spilling into a full disk (as the 100M report did on this machine) or out of memory: an
    EngineResourceError that names the folder or the limit and the setting to change, not "a journeylab bug"."""
    import duckdb

    import journeylab._core.backend as B

    class Full:
        def __init__(self, err):
            self.err = err

        def execute(self, expr):
            raise self.err

    log = jl.datasets.load_example()
    disk = duckdb.IOException('IO Error: Could not write file "/tmp/journeylab-duckdb/x.tmp": No space left on device')
    monkeypatch.setattr(B, "_backend", lambda expr: Full(disk))
    with pytest.raises(jl.EngineResourceError, match="ran out of disk space while spilling to its temporary folder \\("
                                                     "'.*journeylab-duckdb'.*temp_directory="):
        B.execute(log.table.count())
    monkeypatch.setattr(B, "_backend", lambda expr: Full(duckdb.OutOfMemoryException("Out of Memory Error: failed")))
    with pytest.raises(jl.EngineResourceError, match="reached its memory limit \\('60%'\\).*memory_limit="):
        B.execute(log.table.count())
    monkeypatch.setattr(B, "_backend", lambda expr: Full(duckdb.BinderException("no such column")))
    with pytest.raises(duckdb.BinderException):  # anything else is not ours to rename
        B.execute(log.table.count())


class _Progressing:
    """A stand-in for a DuckDB connection whose query is at the given percentages, one per poll."""

    def __init__(self, values):
        self.values, self.polls = list(values), 0

    def query_progress(self):
        self.polls += 1
        return self.values[min(self.polls, len(self.values)) - 1]


def _bar_text(monkeypatch, raw, name="duckdb", seconds=1.3):
    import io
    import time
    import types

    from journeylab._core.backend import engine_progress

    err = io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    with engine_progress(types.SimpleNamespace(name=name, con=raw), desc="scanning", after=0.0):
        time.sleep(seconds)
    return err.getvalue()


def test_engine_progress_shows_duckdbs_estimate_and_stays_quiet_otherwise(monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    raw = _Progressing([12.5, 40.0, 80.0])
    text = _bar_text(monkeypatch, raw)
    assert raw.polls >= 2 and "scanning:  12%" in text and "scanning:  40%" in text
    assert _bar_text(monkeypatch, _Progressing([-1.0])) == ""  # progress not tracked: no bar
    other = _Progressing([50.0])
    assert _bar_text(monkeypatch, other, name="pyspark") == "" and other.polls == 0  # not DuckDB: no watcher
    quick = _Progressing([50.0])
    from journeylab._core.backend import engine_progress

    with engine_progress(type("B", (), {"name": "duckdb", "con": quick})()):
        pass  # ends before its 2 s: never polled
    assert quick.polls == 0
    con = jl.engine.duckdb_connection()  # journeylab's connections track progress (the bar needs it)
    assert con.raw_sql("SELECT current_setting('enable_progress_bar')").fetchall() == [(True,)]
    assert con.raw_sql("SELECT current_setting('enable_progress_bar_print')").fetchall() == [(False,)]


def test_durations_quantiles_at_their_ranks_equal_numpy_in_memory_and_duckdb():
    """Median and p90 of the time between directly-following events, read at their ranks (the engine
    sends back at most four times per pair): equal on both paths, and to numpy's linear quantiles;
    also on the map projected on some activities (the query that spilled at 100M events)."""
    from journeylab._kernels import scans

    rng = np.random.default_rng(11)
    n = 4000
    df = pd.DataFrame({"case": rng.integers(0, 300, n).astype(str), "activity": rng.choice(list("abcdef"), n),
                       "timestamp": pd.Timestamp("2025-01-01", tz="UTC")
                       + pd.to_timedelta(rng.integers(0, 10**9, n), unit="ms")})
    roles = dict(case="case", activity="activity", timestamp="timestamp")
    mem = jl.from_pandas(df, **roles)
    lazy = jl.from_ibis(ibis.memtable(df), **roles)
    d = mem.to_pandas()
    for kept in (None, ("a", "c", "d")):
        view = d if kept is None else d[d["activity"].isin(kept)]
        nxt = view.groupby("case")["activity"].shift(-1)
        dt = (view.groupby("case")["timestamp"].shift(-1) - view["timestamp"]).dt.total_seconds() * 1e6
        pairs = pd.DataFrame({"src": view["activity"], "dst": nxt, "dt": dt}).dropna()
        want = {k: [np.quantile(g["dt"].to_numpy(), q) for q in (0.5, 0.9)] for k, g in pairs.groupby(["src", "dst"])}
        got = {}
        for log in (mem, lazy):
            label, _, edges, _ = scans._edges(log, kept)
            edges = edges[(edges["src"] >= 0) & (edges["dst"] >= 0)]
            got[log.is_lazy] = {(label[s], label[t]): (m, p) for s, t, m, p in
                                zip(edges["src"], edges["dst"], edges["duration_median"], edges["duration_p90"])}
        assert got[False] == got[True] and len(got[False]) == len(want) >= 9
        for key, (median, p90) in got[False].items():
            assert median == pd.Timedelta(round(want[key][0]), "us") and p90 == pd.Timedelta(round(want[key][1]), "us"), key
