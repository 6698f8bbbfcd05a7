"""The lazy EventLog in its engine (issue 15): properties, summary, repr, filters and sessions of a log that
lives in DuckDB or Spark are computed there, give what the in-memory log gives, and fetch no event rows.

Parity: the lazy log's results against the same operation on the in-memory log, compared on ``to_pandas()``
(values exact; dtypes not, since the lazy copy went through Parquet / Spark: categoricals come back as text,
nullable integers as floats - that is the copy, not the operation).
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journeylab as jl
from journeylab._core.backend import fetched
from journeylab.exceptions import EmptyLogError, InvalidParameterError
from journeylab.log import EventLog

from conftest import lazy_copy, spark_session_or_skip


def fresh(log: EventLog) -> EventLog:
    """The same lazy log with an empty cache (what a user has right after jl.from_ibis)."""
    return EventLog(None, roles=log._roles, meta=log._meta, table=log._table)


def same_log(lazy: EventLog, mem: EventLog) -> None:
    assert lazy.is_lazy and not mem.is_lazy
    assert set(lazy.roles) == set(mem.roles)
    assert lazy.columns == tuple(mem.to_pandas().columns)
    pd.testing.assert_frame_equal(lazy.to_pandas(), mem.to_pandas(), check_dtype=False, check_categorical=False)
    assert lazy.n_events == mem.n_events and lazy.n_cases == mem.n_cases


def _ids(log, k, step=1):
    return sorted(set(log.to_pandas()["case"]))[::step][:k]


# every filter and option, as (name, function of a log); the same call on both logs
FILTERS = [
    ("cases", lambda l, s: l.filter_cases(s["ids"])),
    ("cases-drop", lambda l, s: l.filter_cases(s["ids"], keep=False)),
    ("cases-many", lambda l, s: l.filter_cases(s["many"])),  # > 1000 ids: a semi-join with a memtable
    ("cases-many-drop", lambda l, s: l.filter_cases(s["many"], keep=False)),
    ("values-case", lambda l, s: l.filter_values("channel", ["store", "call_centre"])),
    ("values-case-drop", lambda l, s: l.filter_values("region", "south", keep=False)),
    ("values-event", lambda l, s: l.filter_values("activity", ["purchase", "checkout"], level="event")),
    ("values-event-missing", lambda l, s: l.filter_values("campaign", [None, s["campaign"]], level="event", keep=False)),
    ("values-number", lambda l, s: l.filter_values("nps", [9, 10], level="event")),
    ("time-contained", lambda l, s: l.filter_time("2025-02-01", "2025-05-31")),
    ("time-intersecting", lambda l, s: l.filter_time("2025-03-01", "2025-03-02 12:00", how="intersecting")),
    ("time-events", lambda l, s: l.filter_time(end=pd.Timestamp("2025-03-10 08:30", tz="Europe/Paris"), how="events")),
    ("variants-top", lambda l, s: l.filter_variants(top=3)),
    ("variants-coverage-drop", lambda l, s: l.filter_variants(coverage=0.02, keep=False)),
    ("endpoints", lambda l, s: l.filter_endpoints(start=["view_offer", "search"], end="purchase")),
    ("endpoints-end-drop", lambda l, s: l.filter_endpoints(end=["purchase", "order_delivered"], keep=False)),
    ("directly", lambda l, s: l.filter_directly_follows("add_to_cart", "checkout")),
    ("directly-drop", lambda l, s: l.filter_directly_follows("checkout", "purchase", keep=False)),
    ("eventually", lambda l, s: l.filter_eventually_follows("checkout", "add_to_cart")),
    ("eventually-same", lambda l, s: l.filter_eventually_follows("view_product", "view_product", keep=False)),
    ("length", lambda l, s: l.filter_case_length(min=10, max=25)),
    ("length-drop", lambda l, s: l.filter_case_length(max=12, keep=False)),
    ("duration", lambda l, s: l.filter_case_duration(min="3d", max="60d")),
    ("duration-drop", lambda l, s: l.filter_case_duration(max=pd.Timedelta("36h 0.5us"), keep=False)),
]

SESSIONS = [
    ("gap", lambda l: l.sessions("30min")),
    ("gap-1d", lambda l: l.sessions("1d")),
    ("restart", lambda l: l.sessions("2h", restart_on=["purchase", "view_offer"])),
    ("restart-only", lambda l: l.sessions("400d", restart_on="search")),
]


@pytest.fixture(scope="module")
def picks(sim):
    log = sim.log
    campaign = next(v for v in log.to_pandas()["campaign"].dropna().unique())
    return {"ids": _ids(log, 40, 7), "many": _ids(log, 1_100), "campaign": campaign}


# --------------------------------------------------------------------------- properties, summary, repr


def test_properties_equal_memory(sim, sim_duckdb):
    mem, lazy = sim.log, fresh(sim_duckdb)
    assert lazy.n_events == mem.n_events and lazy.n_cases == mem.n_cases
    assert lazy.activities == mem.activities
    pd.testing.assert_series_equal(lazy.activity_counts, mem.activity_counts)
    assert lazy.time_span == mem.time_span
    assert lazy.timezone == mem.timezone == "UTC"
    assert lazy.columns == mem.columns and lazy.attributes == mem.attributes


def test_summary_equals_memory(sim, sim_duckdb):
    mem, lazy = sim.log.summary(), fresh(sim_duckdb).summary()
    notes = ["timezone", "source"]  # the zone note and source tell where the events came from
    pd.testing.assert_frame_equal(lazy.drop(index=notes), mem.drop(index=notes))
    assert lazy.loc["timezone", "value"].startswith("UTC - ")


def test_summary_counts_customers_and_median_of_even_cases(sim, sim_duckdb):
    """A log with a customer role and an even number of cases: the median is the mean of the middle two."""
    mem = sim.log.sessions(by="session_id")
    mem = mem.filter_cases(_ids(mem, 2 * (mem.n_cases // 2)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lazy = sim_duckdb.sessions(by="session_id").filter_cases(_ids(mem, mem.n_cases))
    assert lazy.n_cases % 2 == 0
    a, b = fresh(lazy).summary(), mem.summary()
    for row in ("events", "cases", "events per case (median)", "customers", "channels", "first event", "time span"):
        assert a.loc[row, "value"] == b.loc[row, "value"], row


def test_repr_like_memory(sim, sim_duckdb):
    text = repr(fresh(sim_duckdb))
    assert text == repr(sim.log).replace("EventLog: ", "EventLog: lazy on duckdb, ")
    html = fresh(sim_duckdb)._repr_html_()
    assert html.startswith(f"<p>{text}</p>") and html.count("</tr>") == 11  # header + the first ten events
    assert sim.log.to_pandas()["case"].iloc[0] in html


def test_properties_fetch_aggregates_only(sim, sim_duckdb):
    """On main these collected the whole event table (summary, repr's span, activity_counts)."""
    lazy = fresh(sim_duckdb)
    with fetched() as f:
        lazy.summary(), repr(lazy), lazy.activity_counts, lazy.time_span, lazy.timezone, lazy.n_events
    lengths = sim.log.to_pandas().groupby("case").size().nunique()
    assert f.largest <= max(len(sim.log.activities), lengths) < sim.log.n_cases
    assert f.queries <= 3  # sizes and span in one query, activities in one, case lengths in one
    with fetched() as f:
        lazy._repr_html_()
    assert f.largest == 10


# --------------------------------------------------------------------------- filters


@pytest.mark.parametrize("name,op", FILTERS, ids=[n for n, _ in FILTERS])
def test_filter_equals_memory(sim, sim_duckdb, picks, name, op):
    mem = op(sim.log, picks)
    with fetched() as f:
        lazy = op(fresh(sim_duckdb), picks)
    same_log(lazy, mem)
    assert lazy.roles == sim_duckdb.roles and lazy._meta == sim_duckdb._meta
    # nothing per event or per case comes back: the new log's size (one count), the activities when names are
    # checked (one row per activity), and for the variant filter the activities (the codes the engine gives the
    # per-case sequences) and the variant table (one row per variant)
    bound = len(jl.variants(sim.log).to_frame()) if name.startswith("variants") else len(sim.log.activities)
    assert f.largest <= bound < sim.log.n_cases and f.queries <= (3 if name.startswith("variants") else 2), f


@pytest.mark.parametrize("column,values", [
    ("nps", ["9"]), ("region", [1]), ("nps", [True, 9.0]), ("loyalty_member", [1, 0]), ("loyalty_member", [True]),
    ("timestamp", ["2025-01-01"]), ("value", [float("nan")]), ("campaign", [None]),
])
def test_filter_values_matches_like_pandas_isin(sim, sim_duckdb, column, values):
    """Values of another kind than the column match nothing, as in pandas (SQL would cast them); missing
    values match None / NaN."""
    for keep in (True, False):
        try:
            mem = sim.log.filter_values(column, values, level="event", keep=keep)
        except EmptyLogError:
            with pytest.raises(EmptyLogError):
                sim_duckdb.filter_values(column, values, level="event", keep=keep)
            continue
        same_log(sim_duckdb.filter_values(column, values, level="event", keep=keep), mem)


def test_filters_chain_lazily_and_keep_order(sim, sim_duckdb, picks):
    mem = sim.log.filter_case_length(min=8).filter_directly_follows("add_to_cart", "checkout").filter_time(
        "2025-02-01", how="intersecting")
    lazy = sim_duckdb.filter_case_length(min=8).filter_directly_follows("add_to_cart", "checkout").filter_time(
        "2025-02-01", how="intersecting")
    same_log(lazy, mem)
    # _seq is kept (not renumbered): it still orders the events by case then time
    seq = lazy.table.order_by("_seq").execute()
    assert list(seq["case"]) == list(mem.to_pandas()["case"])
    # analyses read the filtered lazy log like any other
    pd.testing.assert_frame_equal(jl.variants(lazy).to_frame(), jl.variants(mem).to_frame())


def test_empty_filter_is_refused_on_lazy(sim_duckdb):
    with pytest.raises(EmptyLogError, match="no events"):
        sim_duckdb.filter_cases(["no such case"])
    with pytest.raises(EmptyLogError, match="no events"):
        sim_duckdb.filter_time("2031-01-01", how="events")
    with pytest.raises(InvalidParameterError, match="start=.* is after end"):
        sim_duckdb.filter_time("2025-03-01", "2025-02-01")


# --------------------------------------------------------------------------- sessions


@pytest.mark.parametrize("name,op", SESSIONS, ids=[n for n, _ in SESSIONS])
def test_sessions_equal_memory(sim, sim_duckdb, name, op):
    mem = op(sim.log)
    with fetched() as f:
        lazy = op(fresh(sim_duckdb))
    same_log(lazy, mem)
    assert lazy.roles == {**sim_duckdb.roles, "customer": "case"} and mem.roles["customer"] == "customer_id"
    assert lazy._meta["sessions"] == mem._meta["sessions"]
    # the count of the new log, and the activities when restart_on names are checked (one row per activity)
    assert f.largest <= len(sim.log.activities) and f.queries <= 2, f
    seq = lazy.table.order_by("_seq").execute()["_seq"]
    assert seq.tolist() == list(range(lazy.n_events))  # renumbered in the new (session, time) order


def test_sessions_by_column_and_of_customers_equal_memory(sim, sim_duckdb):
    def ours(record):
        return [w for w in record if issubclass(w.category, jl.DataQualityWarning)]

    with pytest.warns(jl.DataQualityWarning, match="dropped .* no 'session_id'") as rec:
        mem = sim.log.sessions(by="session_id")
    with fetched() as f, pytest.warns(jl.DataQualityWarning, match="dropped .* no 'session_id'") as got:
        lazy = sim_duckdb.sessions(by="session_id")
    (a,), (b,) = ours(got), ours(rec)
    assert str(a.message) == str(b.message) and a.filename == b.filename == __file__
    same_log(lazy, mem)
    assert f.largest <= 1
    # a log with a customer role: sessions per customer across its cases
    for op in (lambda l: l.sessions("20min"), lambda l: l.sessions("3h", restart_on=["add_to_cart"])):
        same_log(op(lazy), op(mem))


def test_sessions_by_float_column(sim):
    df = sim.log.to_pandas().head(400)
    df["visit"] = pd.factorize(df["case"] + df["timestamp"].dt.month.astype(str))[0].astype("float64")
    df.loc[df.index[:5], "visit"] = None
    mem = jl.from_pandas(df, case="case", activity="activity", timestamp="timestamp", channel="channel")
    lazy = lazy_copy(mem, "duckdb")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = lazy.sessions(by="visit"), mem.sessions(by="visit")
    same_log(a, b)
    assert not a.to_pandas()["case"].str.endswith(".0").any()


def test_stitch_refuses_a_lazy_log(sim_duckdb):
    with pytest.raises(InvalidParameterError, match="(?i)collect .*first.*to_pandas"):
        jl.stitch(sim_duckdb, ["cookie_id", "email_id"])


# --------------------------------------------------------------------------- Spark (few, small)


@pytest.fixture(scope="module")
def spark_pair(sim):
    spark = spark_session_or_skip()
    # columns without missing values: Spark's createDataFrame turns a missing category into the text 'NaN'
    df = sim.log.filter_cases(_ids(sim.log, 60, 9)).to_pandas()[["case", "activity", "timestamp", "channel", "region"]]
    mem = jl.from_pandas(df.astype({"region": str}), case="case", activity="activity", timestamp="timestamp",
                         channel="channel")
    return mem, lazy_copy(mem, "pyspark", spark=spark)


@pytest.mark.spark
def test_spark_properties_filters_and_sessions(spark_pair):
    mem, lazy = spark_pair
    assert lazy.backend == "pyspark"
    pd.testing.assert_series_equal(lazy.activity_counts, mem.activity_counts)
    # Spark's TIMESTAMP type carries no zone (instants shown in the session's zone, UTC here): naive engine
    # timestamps are taken as UTC, as from_pandas takes naive ones - the same span, zone and repr as in memory
    assert lazy.timezone == "UTC"
    assert lazy.time_span == mem.time_span and [t.unit for t in lazy.time_span] == [t.unit for t in mem.time_span]
    assert repr(lazy) == repr(mem).replace("EventLog: ", "EventLog: lazy on pyspark, ")
    with fetched() as f:
        parts = [lazy.filter_variants(top=5), lazy.filter_directly_follows("add_to_cart", "checkout"),
                 lazy.filter_case_duration(min="2d"),
                 lazy.sessions("2h", restart_on=["purchase"])]
    assert f.largest <= len(jl.variants(mem).to_frame())
    mems = [mem.filter_variants(top=5), mem.filter_directly_follows("add_to_cart", "checkout"),
            mem.filter_case_duration(min="2d"), mem.sessions("2h", restart_on=["purchase"])]
    for a, b in zip(parts, mems):
        same_log(a, b)


# --------------------------------------------------------------------------- generated logs


@st.composite
def small_logs(draw):
    n = draw(st.integers(1, 30))
    rows = draw(st.lists(st.tuples(st.sampled_from("pqrs"), st.sampled_from("abcd"), st.integers(0, 300)),
                         min_size=n, max_size=n))
    df = pd.DataFrame(rows, columns=["case", "activity", "minute"]).drop_duplicates(["case", "minute"])
    df["timestamp"] = pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(df["minute"], unit="min")
    df["customer"] = df["case"].map({"p": "u", "q": "u", "r": "v", "s": "w"})
    return df.drop(columns="minute")


GENERATED = [
    lambda l: l.filter_variants(top=1), lambda l: l.filter_variants(coverage=0.5, keep=False),
    lambda l: l.filter_endpoints(start="a"), lambda l: l.filter_endpoints(end=["b", "c"], keep=False),
    lambda l: l.filter_directly_follows("a", "b"), lambda l: l.filter_directly_follows("c", "c", keep=False),
    lambda l: l.filter_eventually_follows("a", "b"), lambda l: l.filter_eventually_follows("b", "a", keep=False),
    lambda l: l.filter_case_length(min=2, max=4), lambda l: l.filter_case_duration(max="1h", keep=False),
    lambda l: l.filter_values("activity", ["d"]), lambda l: l.filter_time("2025-01-01 01:00", "2025-01-01 03:00"),
    lambda l: l.sessions("30min"), lambda l: l.sessions("1h", restart_on=["a"]),
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_logs(), st.sampled_from(range(len(GENERATED))))
def test_generated_logs_memory_equals_duckdb(df, which):
    op = GENERATED[which]
    mem = jl.from_pandas(df, case="case", activity="activity", timestamp="timestamp", customer="customer")
    lazy = lazy_copy(mem, "duckdb")
    try:
        expected = op(mem)
    except EmptyLogError:
        with pytest.raises(EmptyLogError):
            op(lazy)
        return
    except InvalidParameterError:  # an activity the small log lacks: refused alike
        with pytest.raises(InvalidParameterError):
            op(lazy)
        return
    same_log(op(lazy), expected)
