"""EventLog: building, validation errors, ordering, filters, sessions and stitching."""

from __future__ import annotations

import gzip
import warnings

import numpy as np
import pandas as pd
import pytest

import journeylab as jl


def make(df, **kw):
    return jl.from_pandas(df, case="client", activity="step", timestamp="ts", **kw)


# --------------------------------------------------------------------------- building


def test_from_pandas_roles_and_attributes(small_df):
    log = make(small_df, channel="where", value="amount")
    assert log.n_cases == 3 and log.n_events == 6
    assert log.columns[:5] == ("case", "activity", "timestamp", "channel", "value")
    assert log.roles == {"case": "client", "activity": "step", "timestamp": "ts", "channel": "where", "value": "amount"}
    assert log.attributes == ()
    assert log.activities == ("visit", "cart", "buy")
    start, end = log.time_span
    assert start == pd.Timestamp("2025-01-01 10:00", tz="UTC") and end == pd.Timestamp("2025-01-03 12:00", tz="UTC")
    assert repr(log) == "EventLog: 6 events, 3 cases, 3 activities, 2025-01-01 .. 2025-01-03 (UTC)"
    assert "<table" in log._repr_html_()


def test_input_frame_is_not_modified(small_df):
    before = small_df.copy(deep=True)
    log = make(small_df, channel="where")
    out = log.to_pandas()
    out.loc[0, "activity"] = "changed"
    pd.testing.assert_frame_equal(small_df, before)
    assert log.to_pandas().loc[0, "activity"] == "visit"


def test_log_is_immutable(small_df):
    log = make(small_df)
    with pytest.raises(AttributeError, match="immutable"):
        log.foo = 1


def test_log_pickles(small_df):
    import pickle

    log = make(small_df, channel="where")
    back = pickle.loads(pickle.dumps(log))
    pd.testing.assert_frame_equal(back.to_pandas(), log.to_pandas())
    assert back.roles == log.roles and repr(back) == repr(log)


def test_memo_computes_once_per_log_and_is_not_inherited_or_pickled(small_df):
    import pickle

    log = make(small_df)
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert log._memo(("kernel", "x"), compute) == 1
    assert log._memo(("kernel", "x"), compute) == 1 and len(calls) == 1
    derived = log.filter_cases(["c1"])
    assert derived._memo(("kernel", "x"), compute) == 2  # a derived log starts with its own cache
    back = pickle.loads(pickle.dumps(log))
    assert back._memo(("kernel", "x"), compute) == 3


def test_order_by_timestamp_ties_keep_input_order():
    df = pd.DataFrame({
        "client": ["b", "a", "a", "a", "b"],
        "step": ["x", "third", "first", "second", "y"],
        "ts": ["2025-01-01", "2025-01-02", "2025-01-01", "2025-01-01", "2025-01-01"],
    })
    out = make(df).to_pandas()
    assert out["case"].tolist() == ["a", "a", "a", "b", "b"]
    assert out["activity"].tolist() == ["first", "second", "third", "x", "y"]


def test_numeric_case_ids_become_strings():
    df = pd.DataFrame({"client": [1.0, 1.0, 22.0], "step": ["a", "b", "a"], "ts": ["2025-01-01"] * 3})
    assert sorted(make(df).to_pandas()["case"].unique()) == ["1", "22"]


def test_summary_shows_timezone_choice(small_df):
    s = make(small_df).summary()
    assert "naive timestamps taken as UTC" in s.loc["timezone", "value"]
    s2 = make(small_df, tz="Europe/Paris").summary()
    assert "Europe/Paris" in s2.loc["timezone", "value"]
    assert make(small_df, tz="Europe/Paris").time_span[0] == pd.Timestamp("2025-01-01 09:00", tz="UTC")


def test_aware_timestamps_kept_and_mixed_offsets_normalised():
    df = pd.DataFrame({"client": ["a", "a"], "step": ["x", "y"],
                       "ts": ["2025-03-01T10:00:00+01:00", "2025-04-01T10:00:00+02:00"]})
    log = make(df)
    assert log.timezone == "UTC"
    assert "normalised to UTC" in log.summary().loc["timezone", "value"]
    assert log.to_pandas()["timestamp"].tolist() == [pd.Timestamp("2025-03-01 09:00", tz="UTC"),
                                                     pd.Timestamp("2025-04-01 08:00", tz="UTC")]
    one_zone = pd.DataFrame({"client": ["a"], "step": ["x"],
                             "ts": [pd.Timestamp("2025-03-01 10:00", tz="Europe/Paris")]})
    assert make(one_zone).timezone == "Europe/Paris"


# --------------------------------------------------------------------------- errors


def test_missing_role_column_lists_available_and_closest(small_df):
    with pytest.raises(jl.SchemaError, match=r"activity='stpe' is not a column.*Closest match: 'step'.*Available: \['client'"):
        jl.from_pandas(small_df, case="client", activity="stpe", timestamp="ts")


def test_same_column_for_two_roles(small_df):
    with pytest.raises(jl.SchemaError, match="both case= and customer="):
        make(small_df, customer="client")


def test_attribute_named_like_an_unused_role_stays_an_attribute(small_df):
    # issue 13: real logs carry attributes called channel/customer/value; they must load as attributes
    df = small_df.rename(columns={"where": "channel", "amount": "value"})
    log = make(df)
    assert log.attributes == ("channel", "value")
    assert not log.has_role("channel") and not log.has_role("value")
    assert log.to_pandas()["channel"].tolist() == df.sort_values(["client", "ts"])["channel"].tolist()
    with pytest.raises(jl.SchemaError, match="channel_mix needs a channel column"):
        jl.channel_mix(log)  # the attribute does not silently play the role
    assert make(df, channel="channel").has_role("channel")


def test_not_a_dataframe():
    with pytest.raises(jl.SchemaError, match="expected a pandas DataFrame"):
        jl.from_pandas([1, 2], case="a", activity="b", timestamp="c")


def test_unparseable_timestamps_count_and_rows(small_df):
    df = small_df.copy()
    df.loc[[1, 4], "ts"] = ["yesterday", "31/31/2025"]
    with pytest.raises(jl.TimestampError, match=r"2 timestamp value\(s\) cannot be parsed.*'yesterday'.*rows \[1, 4\]"):
        make(df)


def test_naive_and_aware_mixed_refused(small_df):
    df = small_df.copy()
    df.loc[0, "ts"] = "2025-01-01T10:00:00+02:00"
    with pytest.raises(jl.TimestampError, match="mixes 1 values with a UTC offset"):
        make(df)


def test_numeric_timestamps_refused():
    df = pd.DataFrame({"client": ["a"], "step": ["x"], "ts": [1700000000]})
    with pytest.raises(jl.TimestampError, match="holds numbers"):
        make(df)


def test_tz_with_aware_values_refused():
    df = pd.DataFrame({"client": ["a"], "step": ["x"], "ts": ["2025-01-01T10:00:00+01:00"]})
    with pytest.raises(jl.InvalidParameterError, match="drop tz="):
        make(df, tz="Europe/Paris")


def test_nulls_raise_then_drop_with_warning(small_df):
    df = small_df.copy()
    df.loc[0, "client"] = None
    df.loc[2, "ts"] = None
    with pytest.raises(jl.MissingValuesError, match=r"1 in case \('client'\), 1 in timestamp \('ts'\).*on_invalid='drop'"):
        make(df)
    with pytest.warns(jl.DataQualityWarning, match="dropped 2 event"):
        log = make(df, on_invalid="drop")
    assert log.n_events == 4
    assert log.summary().loc["rows dropped (invalid)", "value"] == "2"


def test_duplicates_warn_or_drop(small_df):
    df = pd.concat([small_df, small_df.iloc[[0, 0]]], ignore_index=True)
    with pytest.warns(jl.DataQualityWarning, match="2 exact duplicate event"):
        log = make(df)
    assert log.n_events == 8
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert make(df, deduplicate=True).n_events == 6


def test_empty_log():
    with pytest.raises(jl.EmptyLogError, match="has no events"):
        jl.from_pandas(pd.DataFrame({"c": [], "a": [], "t": []}), case="c", activity="a", timestamp="t")


def test_bad_on_invalid(small_df):
    with pytest.raises(jl.InvalidParameterError, match="on_invalid='ignore'"):
        make(small_df, on_invalid="ignore")


# --------------------------------------------------------------------------- files


def test_read_csv_ids_na_are_ids(tmp_path):
    p = tmp_path / "log.csv"
    p.write_text("id;step;ts;score\nNA;visit;2025-01-01 10:00;NA\nnull;buy;2025-01-01 10:05;3\nNone;visit;2025-01-02;\n")
    before = p.read_bytes()
    log = jl.read_csv(p, case="id", activity="step", timestamp="ts")
    assert sorted(log.to_pandas()["case"].unique()) == ["NA", "None", "null"]
    assert log.to_pandas()["score"].isna().sum() == 2
    assert p.read_bytes() == before


def test_read_csv_gzip_and_explicit_sep(tmp_path, small_df):
    p = tmp_path / "log.csv.gz"
    with gzip.open(p, "wt") as fh:
        small_df.to_csv(fh, index=False)
    log = jl.read_csv(p, case="client", activity="step", timestamp="ts", sep=",", channel="where")
    assert log.n_events == 6 and "channel" in log.columns


def test_read_csv_errors(tmp_path):
    with pytest.raises(jl.FileFormatError, match="No file at"):
        jl.read_csv(tmp_path / "nope.csv", case="a", activity="b", timestamp="c")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(jl.EmptyLogError, match="is empty"):
        jl.read_csv(empty, case="a", activity="b", timestamp="c")
    p = tmp_path / "x.csv"
    p.write_text("a,b,c\n1,2,2025-01-01\n")
    with pytest.raises(jl.SchemaError, match="timestamp='ts' is not a column"):
        jl.read_csv(p, case="a", activity="b", timestamp="ts")
    with pytest.raises(jl.FileFormatError, match="is a folder"):
        jl.read_csv(tmp_path, case="a", activity="b", timestamp="c")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"a,b,c\n1,x,2025-01-01,5,6\n2,x,2025-01-02\n")
    with pytest.raises(jl.FileFormatError, match="cannot read .* as CSV.*Check the separator"):
        jl.read_csv(bad, case="a", activity="b", timestamp="c")
    with pytest.raises(jl.InvalidParameterError, match="unknown argument"):
        jl.read_csv(p, case="a", activity="b", timestamp="c", chanel="x")


def test_read_parquet_roundtrip_and_errors(tmp_path, small_df):
    p = tmp_path / "log.parquet"
    small_df.to_parquet(p)
    log = jl.read_parquet(p, case="client", activity="step", timestamp="ts")
    assert log.n_events == 6
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not parquet at all")
    with pytest.raises(jl.FileFormatError, match="cannot read .* as Parquet"):
        jl.read_parquet(junk, case="a", activity="b", timestamp="c")


def test_to_pm4py_is_accepted_by_pm4py(small_df):
    pm4py = pytest.importorskip("pm4py")
    df = make(small_df).to_pm4py()
    dfg, start, end = pm4py.discover_dfg(df)
    assert dfg[("visit", "cart")] == 2 and start == {"visit": 3} and end == {"buy": 1, "cart": 1, "visit": 1}


# --------------------------------------------------------------------------- filters


def test_filters(small_df):
    log = make(small_df, channel="where")
    assert log.filter_cases(["c1"]).n_cases == 1
    assert log.filter_cases(["c1"], keep=False).n_cases == 2
    assert log.filter_values("channel", "app").n_cases == 2
    assert log.filter_values("channel", "app", level="event").n_events == 3
    assert log.filter_values("activity", ["buy"], keep=False).n_cases == 2
    assert log.filter_time("2025-01-02", how="contained").n_cases == 2
    assert log.filter_time(end="2025-01-02 09:10", how="intersecting").n_cases == 2
    assert log.filter_time("2025-01-01 10:01", "2025-01-02 09:10", how="events").n_events == 3
    assert log.n_events == 6  # the original is unchanged


def test_exploration_filters_are_methods(small_df):
    log = make(small_df)
    assert log.filter_directly_follows("visit", "cart").n_cases == 2
    assert log.filter_case_length(min=3).n_cases == 1
    assert log.filter_variants(top=1).n_cases == 1
    assert log.filter_endpoints(end="buy").n_cases == 1


def test_filter_errors(small_df):
    log = make(small_df)
    with pytest.raises(jl.SchemaError, match="column='colour' is not a column"):
        log.filter_values("colour", "x")
    with pytest.raises(jl.EmptyLogError, match="filter left no events"):
        log.filter_cases(["zz"])
    with pytest.raises(jl.InvalidParameterError, match="how='inside'"):
        log.filter_time(how="inside")
    with pytest.raises(jl.InvalidParameterError, match="is after end"):
        log.filter_time("2025-02-01", "2025-01-01")
    with pytest.raises(jl.InvalidParameterError, match="is not a date"):
        log.filter_time("soon")


# --------------------------------------------------------------------------- sessions, stitching


def test_sessions_gap_and_restart():
    df = pd.DataFrame({
        "client": ["a"] * 5 + ["b"],
        "step": ["home", "cart", "home", "cart", "buy", "home"],
        "ts": ["2025-01-01 10:00", "2025-01-01 10:10", "2025-01-01 11:00", "2025-01-01 11:05",
               "2025-01-01 11:06", "2025-01-01 10:00"],
    })
    log = make(df)
    s = log.sessions("30min")
    assert s.n_cases == 3
    assert sorted(s.to_pandas()["case"].unique()) == ["a#1", "a#2", "b#1"]
    assert set(s.to_pandas()["customer"]) == {"a", "b"}
    assert s.roles["customer"] == "client"
    r = log.sessions("1d", restart_on="home")
    assert r.n_cases == 3 and r.to_pandas().groupby("case").size().to_dict() == {"a#1": 2, "a#2": 3, "b#1": 1}
    with pytest.raises(jl.InvalidParameterError, match="bare number"):
        log.sessions(30)
    with pytest.raises(jl.InvalidParameterError, match="not in the log.*home"):
        log.sessions("30min", restart_on="hmoe")


def test_sessions_from_a_column():
    df = pd.DataFrame({
        "client": ["a", "a", "a", "b"],
        "step": ["x", "y", "z", "x"],
        "ts": ["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-01"],
        "sid": ["s1", "s1", None, "s2"],
    })
    with pytest.warns(jl.DataQualityWarning, match="dropped 1 event"):
        s = make(df).sessions(by="sid")
    assert sorted(s.to_pandas()["case"]) == ["s1", "s1", "s2"]
    assert s.to_pandas().set_index("case")["customer"].to_dict() == {"s1": "a", "s2": "b"}
    assert "sid" not in s.columns and s.roles["case"] == "sid"
    with pytest.raises(jl.SchemaError, match="by='sdi' is not a column.*Closest match: 'sid'"):
        make(df).sessions(by="sdi")


def test_stitch_connected_components():
    df = pd.DataFrame({
        "client": ["s1", "s2", "s3", "s4", "s5"],
        "step": ["visit", "login", "buy", "visit", "call"],
        "ts": pd.date_range("2025-01-01", periods=5, freq="h").astype(str),
        "cookie": ["k1", "k1", None, "k2", None],
        "email": [None, "e1", "e1", None, None],
        "loyalty": [None, None, "L1", None, None],
    })
    log = make(df)
    stitched, ids = jl.stitch(log, ["cookie", "email", "loyalty"])
    assert stitched.n_cases == 3  # {k1,e1,L1}, {k2}, and s5 with no identifier
    per = stitched.to_pandas().groupby("case")["activity"].apply(list).to_dict()
    assert per["P000001"] == ["visit", "login", "buy"]
    assert set(ids.loc[ids.customer == "P000001", "value"]) == {"k1", "e1", "L1"}
    assert ids.columns.tolist() == ["customer", "identifier", "value", "events"]
    with pytest.raises(jl.SchemaError, match="identifier='cokie' is not a column.*Closest match: 'cookie'"):
        jl.stitch(log, ["cokie"])
    with pytest.raises(jl.InvalidParameterError, match="is empty"):
        jl.stitch(log, [])


def test_stitch_with_python_string_storage():
    """pm4py needs mode.string_storage='python'; stitching must not depend on the storage."""
    df = pd.DataFrame({"client": ["s1", "s2"], "step": ["a", "b"], "ts": ["2025-01-01", "2025-01-02"],
                       "cookie": ["k1", "k1"]})
    with pd.option_context("mode.string_storage", "python"):
        stitched, ids = jl.stitch(make(df), ["cookie"])
    assert stitched.n_cases == 1 and ids["value"].tolist() == ["k1"]


def test_stitch_recovers_random_identity_graph():
    rng = np.random.default_rng(0)
    n_people, rows = 50, []
    for p in range(n_people):
        for k in range(6):
            size = 3 if k == 0 else rng.integers(1, 3)  # one event links all three ids
            kinds = rng.choice(["cookie", "email", "loyalty"], size=size, replace=False)
            row = {"client": f"x{p}_{k}", "step": "e", "ts": f"2025-01-01 {k:02d}:00", "truth": p}
            for kind in kinds:
                row[kind] = f"{kind}{p}"
            rows.append(row)
    df = pd.DataFrame(rows)
    stitched, _ = jl.stitch(make(df), ["cookie", "email", "loyalty"])
    out = stitched.to_pandas()
    # every stitched customer holds exactly one true person, and at most one customer per person
    assert out.groupby("customer")["truth"].nunique().max() == 1
    assert out.groupby("truth")["customer"].nunique().max() == 1
    assert stitched.n_cases == n_people


def test_names_that_moved_out_of_journeylab_log_warn_for_one_release():
    import journeylab.log as log_module

    with pytest.warns(DeprecationWarning, match=r"journeylab.log.SchemaError is deprecated .*use journeylab.SchemaError"):
        assert log_module.SchemaError is jl.SchemaError
    with pytest.warns(DeprecationWarning, match=r"journeylab.log.parse_timestamps is deprecated"):
        from journeylab._timestamps import parse_timestamps

        assert log_module.parse_timestamps is parse_timestamps
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        log_module.nothing  # noqa: B018


def test_session_warnings_point_at_the_caller():
    df = pd.DataFrame({"c": ["a", "a", "b"], "act": ["x", "y", "x"], "sid": ["s1", None, "s2"],
                       "customer": ["k", "k", "k"],
                       "t": ["2025-01-01 10:00", "2025-01-01 10:10", "2025-01-01 12:00"]})
    log = jl.from_pandas(df, case="c", activity="act", timestamp="t")
    plain = jl.from_pandas(df.drop(columns="customer"), case="c", activity="act", timestamp="t")
    with pytest.warns(jl.DataQualityWarning, match="dropped 1 event") as rec:
        plain.sessions(by="sid")
    assert rec[0].filename == __file__
    with pytest.warns(jl.DataQualityWarning, match="'customer' as 'attribute:customer'") as rec:
        log.sessions("30min")  # the sessions' customer role meets the attribute named customer
    assert rec[0].filename == __file__
