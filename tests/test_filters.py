"""Exploration filters (journeylab.filters): semantics, pm4py reference, properties, errors."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journeylab as jl
from journeylab import engine
from journeylab._kernels import pm4py as _pm4py
from journeylab.discovery import discover, variants
from journeylab.exceptions import EmptyLogError, InvalidParameterError
from journeylab.filters import (
    filter_case_duration,
    filter_case_length,
    filter_directly_follows,
    filter_endpoints,
    filter_eventually_follows,
    filter_variants,
)

from conftest import shared_log


@pytest.fixture(scope="module")
def example():
    return jl.datasets.load_example()


@pytest.fixture(scope="module")
def receipt():
    return jl.read_xes(shared_log("receipt.xes.gz"))


def cases(log) -> set[str]:
    return set(log.to_pandas()["case"])


def make_log(traces):
    rows = []
    t0 = pd.Timestamp("2025-01-01")
    for i, trace in enumerate(traces):
        for j, a in enumerate(trace):
            rows.append({"c": f"c{i}", "a": a, "t": t0 + pd.Timedelta(hours=i, minutes=j * (i + 1))})
    return jl.from_pandas(pd.DataFrame(rows), case="c", activity="a", timestamp="t")


# --------------------------------------------------------------------------- semantics on the running example


def test_filter_variants(example):
    top2 = filter_variants(example, top=2)
    v = variants(example, top=2)
    assert set(variants(top2).table["variant"]) == set(v.table["variant"])
    assert filter_variants(example, coverage=0.5).n_cases == 3
    assert cases(filter_variants(example, top=2, keep=False)) == cases(example) - cases(top2)


def test_filter_endpoints(example):
    assert filter_endpoints(example, end="pay compensation").n_cases == 3
    assert filter_endpoints(example, start="register request", end=["reject request"]).n_cases == 3
    assert filter_endpoints(example, end="pay compensation", keep=False).n_cases == 3


def test_filter_directly_and_eventually_follows(example):
    df = example.to_pandas()
    df["next"] = df.groupby("case")["activity"].shift(-1)
    expected = set(df.loc[(df["activity"] == "check ticket") & (df["next"] == "decide"), "case"])
    assert cases(filter_directly_follows(example, "check ticket", "decide")) == expected
    # eventually: examine casually ... pay compensation
    assert filter_eventually_follows(example, "examine casually", "pay compensation").n_cases == 3
    # order matters
    assert filter_eventually_follows(example, "pay compensation", "register request", keep=False).n_cases == 6
    with pytest.raises(EmptyLogError, match="the filter left no events"):
        filter_eventually_follows(example, "pay compensation", "register request")


def test_filter_case_length_and_duration(example):
    ct = engine.case_table(example)
    assert cases(filter_case_length(example, min=6)) == set(ct.index[ct["length"] >= 6])
    assert cases(filter_case_length(example, min=5, max=9)) == set(ct.index[(ct["length"] >= 5) & (ct["length"] <= 9)])
    short = filter_case_duration(example, max="10d")
    assert cases(short) == set(ct.index[ct["duration"] <= pd.Timedelta(days=10)])
    assert cases(filter_case_duration(example, min=pd.Timedelta(days=10))) == cases(example) - cases(
        filter_case_duration(example, max="10d")) | set(ct.index[ct["duration"] == pd.Timedelta(days=10)])


# --------------------------------------------------------------------------- against pm4py on Receipt


@pytest.mark.reference
def test_filters_match_pm4py_on_receipt(receipt):
    import pm4py

    df = receipt.to_pm4py()

    def ref(f, *args, **kw):
        with _pm4py.python_strings():
            return set(f(df.copy(), *args, **kw)["case:concept:name"])

    a, b = "T02 Check confirmation of receipt", "T04 Determine confirmation of receipt"
    assert cases(filter_directly_follows(receipt, a, b)) == ref(pm4py.filter_directly_follows_relation, [(a, b)])
    c = "T10 Determine necessity to stop indication"
    assert cases(filter_eventually_follows(receipt, a, c)) == ref(pm4py.filter_eventually_follows_relation, [(a, c)])
    assert cases(filter_endpoints(receipt, end=[c])) == ref(pm4py.filter_end_activities, [c])
    assert cases(filter_endpoints(receipt, start="Confirmation of receipt")) == ref(
        pm4py.filter_start_activities, ["Confirmation of receipt"])
    assert cases(filter_case_length(receipt, min=3, max=6)) == ref(pm4py.filter_case_size, 3, 6)
    assert cases(filter_case_duration(receipt, min="1d", max="30d")) == ref(
        pm4py.filter_case_performance, 86400, 30 * 86400)
    v = variants(receipt)
    k = next(k for k in range(3, 20) if v.table["count"].iloc[k - 1] > v.table["count"].iloc[k])  # no tie at k
    assert cases(filter_variants(receipt, top=k)) == ref(pm4py.filter_variants_top_k, k)


def test_filters_on_a_lazy_log_equal_in_memory(example):
    import ibis

    frame = example.to_pandas()[["case", "activity", "timestamp"]]
    lazy = jl.from_ibis(ibis.memtable(frame), case="case", activity="activity", timestamp="timestamp")
    calls = [lambda log: filter_variants(log, top=2), lambda log: filter_variants(log, coverage=0.5, keep=False),
             lambda log: filter_endpoints(log, end="pay compensation"),
             lambda log: filter_directly_follows(log, "check ticket", "decide"),
             lambda log: filter_eventually_follows(log, "examine casually", "pay compensation"),
             lambda log: filter_case_length(log, max=5), lambda log: filter_case_duration(log, min="14d")]
    for call in calls:
        assert cases(call(lazy)) == cases(call(example))


# --------------------------------------------------------------------------- properties


traces_st = st.lists(st.lists(st.sampled_from("abcde"), min_size=1, max_size=6), min_size=1, max_size=10)


def _edges(log):
    m = discover(log)
    return set(zip(m.edges["source"], m.edges["target"]))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(traces=traces_st, coverage=st.floats(min_value=0.01, max_value=1.0), top=st.integers(1, 5))
def test_coverage_filters_never_add_cases_activities_or_edges(traces, coverage, top):
    log = make_log(traces)
    for filtered in (filter_variants(log, coverage=coverage), filter_variants(log, top=top)):
        assert cases(filtered) <= cases(log)
        assert set(filtered.activities) <= set(log.activities)
        assert _edges(filtered) <= _edges(log)
        assert filtered.n_events <= log.n_events
    assert filter_variants(log, coverage=1.0).n_cases == log.n_cases
    v = variants(log, coverage=coverage)
    assert v.coverage >= coverage - 1e-9
    assert filter_variants(log, coverage=coverage).n_cases == int(v.table["count"].sum())


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(traces=traces_st, a=st.sampled_from("abcde"), b=st.sampled_from("abcde"))
def test_pair_filters_partition_the_cases(traces, a, b):
    log = make_log(traces)
    if a not in log.activities or b not in log.activities:
        return
    for f in (filter_directly_follows, filter_eventually_follows):
        try:
            kept = cases(f(log, a, b))
        except EmptyLogError:
            kept = set()
        try:
            dropped = cases(f(log, a, b, keep=False))
        except EmptyLogError:
            dropped = set()
        assert kept | dropped == cases(log) and not kept & dropped
    # directly-follows implies eventually-follows
    try:
        assert cases(filter_directly_follows(log, a, b)) <= cases(filter_eventually_follows(log, a, b))
    except EmptyLogError:
        pass


# --------------------------------------------------------------------------- bad input


def test_unknown_activity_names_the_closest(example):
    with pytest.raises(InvalidParameterError, match=r"a='chek ticket' is not an activity.*Did you mean 'check ticket'"):
        filter_directly_follows(example, "chek ticket", "decide")
    with pytest.raises(InvalidParameterError, match=r"end='pay' is not an activity"):
        filter_endpoints(example, end="pay")


@pytest.mark.parametrize("call, msg", [
    (lambda log: filter_variants(log), "give top=... .* or coverage=..."),
    (lambda log: filter_variants(log, coverage=0), r"coverage=0 is outside \(0, 1\]"),
    (lambda log: filter_variants(log, coverage=1.01), r"coverage=1.01 is outside \(0, 1\]"),
    (lambda log: filter_endpoints(log), "give start=... and/or end=..."),
    (lambda log: filter_endpoints(log, start=[]), r"start=\[\] is empty"),
    (lambda log: filter_case_length(log), "give min=... and/or max=..."),
    (lambda log: filter_case_length(log, min=5, max=2), "min=5 is above max=2; swap them"),
    (lambda log: filter_case_length(log, min=0), "min=0 must be a whole number"),
    (lambda log: filter_case_duration(log, max=3), "max=3 is a bare number"),
    (lambda log: filter_case_duration(log, min="3d", max="1d"), "min='3d' is longer than max='1d'"),
    (lambda log: filter_directly_follows(log, ["decide"], "decide"), "single activity names"),
])
def test_filter_errors(example, call, msg):
    with pytest.raises(InvalidParameterError, match=msg):
        call(example)


def test_filters_refuse_a_dataframe_and_bad_keep(example):
    df = example.to_pandas()
    for call in (lambda: filter_variants(df, top=1), lambda: filter_endpoints(df, end="decide"),
                 lambda: filter_directly_follows(df, "decide", "reject request"),
                 lambda: filter_eventually_follows(df, "decide", "reject request"),
                 lambda: filter_case_length(df, min=2), lambda: filter_case_duration(df, max="2d")):
        with pytest.raises(InvalidParameterError, match=r"log must be a journeylab EventLog.*wrap it with jl\.from_pandas"):
            call()
    with pytest.raises(InvalidParameterError, match="keep='no' must be True or False"):
        filter_variants(example, top=1, keep="no")
    with pytest.raises(InvalidParameterError, match=r"coverage=80 is outside \(0, 1\] \(a percentage\? use 0.8\)"):
        filter_variants(example, coverage=80)
    with pytest.raises(InvalidParameterError, match="end=5 must be an activity name or a list of them"):
        filter_endpoints(example, end=5)


def test_filters_leave_the_input_unchanged(example):
    before = example.to_pandas()
    filter_case_duration(example, max="10d")
    filter_variants(example, top=1)
    pd.testing.assert_frame_equal(example.to_pandas(), before)


def test_doctests():
    import doctest

    from journeylab import filters

    res = doctest.testmod(filters, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.failed == 0 and res.attempted >= 8
