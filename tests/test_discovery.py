"""Process maps, variants, paths and models (journeylab.discovery), their plots and explorer."""

from __future__ import annotations

import math
from collections import Counter

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import journeylab as jl  # noqa: E402
from journeylab import engine
from journeylab._kernels import pm4py as _pm4py  # noqa: E402
from journeylab._core.formatting import format_duration  # noqa: E402
from journeylab.discovery import END, START, discover, discover_model, paths, variants  # noqa: E402
from journeylab.exceptions import InvalidParameterError  # noqa: E402
from journeylab.plotting import plot_model, plot_paths, plot_process_map, plot_variants  # noqa: E402
from journeylab.widgets import process_explorer  # noqa: E402

from conftest import shared_log  # noqa: E402


@pytest.fixture(scope="module")
def example():
    return jl.datasets.load_example()


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _pm4py_mod():
    import pm4py

    return pm4py


@pytest.fixture(scope="module")
def receipt():
    return jl.read_xes(shared_log("receipt.xes.gz"))


@pytest.fixture(scope="module")
def bpic():
    return jl.read_xes(shared_log("bpic2012.xes.gz"))


def make_log(traces, start="2025-01-01"):
    """A log from activity sequences: case i, one event per minute (plus i hours)."""
    rows = []
    t0 = pd.Timestamp(start)
    for i, trace in enumerate(traces):
        for j, a in enumerate(trace):
            rows.append({"c": f"c{i}", "a": a, "t": t0 + pd.Timedelta(hours=i, minutes=j * (i + 1))})
    return jl.from_pandas(pd.DataFrame(rows), case="c", activity="a", timestamp="t")


# --------------------------------------------------------------------------- process map


def test_discover_example_exact(example):
    m = discover(example)
    assert repr(m) == "ProcessMap: 8 of 8 activities, 19 of 19 paths, 6 cases (activities=1.0, paths=1.0)"
    e = m.edges
    assert int(e.loc[e["source"] == START, "count"].sum()) == example.n_cases
    assert int(e.loc[e["target"] == END, "count"].sum()) == example.n_cases
    inner = e[(e["source"] != START) & (e["target"] != END)]
    assert int(inner["count"].sum()) == example.n_events - example.n_cases
    assert list(m.nodes.columns) == ["activity", "events", "cases"]
    assert int(m.nodes["events"].sum()) == example.n_events
    assert set(m.to_frame().columns) == {"source", "target", "count", "cases", "duration_mean", "duration_median",
                                         "duration_p90"}
    assert m.params == {"activities": 1.0, "paths": 1.0}
    assert m.summary.loc["activities", "value"] == "8 of 8"
    html = m._repr_html_()
    assert "ProcessMap" in html and "check ticket" in html
    # start / end edges carry no duration
    assert e.loc[e["source"] == START, "duration_mean"].isna().all()


def test_dfg_matches_pm4py_on_example(example):
    pm4py = _pm4py_mod()
    df = example.to_pm4py()
    dfg, sa, ea = pm4py.discover_dfg(df.copy())
    m = discover(example)
    e = m.edges
    inner = e[(e["source"] != START) & (e["target"] != END)]
    assert {(r.source, r.target): r.count for r in inner.itertuples()} == dict(dfg)
    assert dict(zip(e.loc[e["source"] == START, "target"], e.loc[e["source"] == START, "count"])) == dict(sa)
    assert dict(zip(e.loc[e["target"] == END, "source"], e.loc[e["target"] == END, "count"])) == dict(ea)


def _check_against_pm4py(log):
    pm4py = _pm4py_mod()
    df = log.to_pm4py()
    with _pm4py.python_strings():
        dfg, sa, ea = pm4py.discover_dfg(df.copy())
        perf, _, _ = pm4py.discover_performance_dfg(df.copy())
        ref_variants = pm4py.get_variants(df.copy())
    m = discover(log)
    e = m.edges
    inner = e[(e["source"] != START) & (e["target"] != END)]
    assert {(r.source, r.target): int(r.count) for r in inner.itertuples()} == {k: int(v) for k, v in dfg.items()}
    for r in inner.itertuples():
        ref = perf[(r.source, r.target)]
        assert math.isclose(r.duration_mean.total_seconds(), ref["mean"], rel_tol=1e-9, abs_tol=1e-3)
        assert math.isclose(r.duration_median.total_seconds(), ref["median"], rel_tol=1e-9, abs_tol=1e-3)
    assert {r.target: int(r.count) for r in e[e["source"] == START].itertuples()} == {k: int(v) for k, v in sa.items()}
    assert {r.source: int(r.count) for r in e[e["target"] == END].itertuples()} == {k: int(v) for k, v in ea.items()}
    v = variants(log)
    ours = dict(zip(v.table["variant"], v.table["count"]))
    assert len(ours) == len(ref_variants)
    assert ours == {tuple(k): int(c if not isinstance(c, list) else len(c)) for k, c in ref_variants.items()}


def _lazy(log):
    """The same events as a lazy log (DuckDB table): the scans run as Ibis expressions, an independent path."""
    import ibis

    frame = log.to_pandas()[["case", "activity", "timestamp"]]
    return jl.from_ibis(ibis.memtable(frame), case="case", activity="activity", timestamp="timestamp")


def _check_against_engine(log, activities=1.0):
    """The map (counted from the variant table + one durations query) equals the engine's
    directly-follows aggregate on the (projected) log, computed lazily by SQL window functions,
    durations to the microsecond."""
    m = discover(log, activities=activities)
    sub = log.filter_values("activity", list(m.nodes["activity"]), level="event")
    ref = engine.directly_follows(_lazy(sub)).set_index(["source", "target"]).sort_index()
    inner = m.edges[(m.edges["source"] != START) & (m.edges["target"] != END)].set_index(["source", "target"])
    inner = inner.sort_index()
    pd.testing.assert_index_equal(inner.index, ref.index)
    for c in ("count", "cases"):
        assert (inner[c].to_numpy() == ref[c].to_numpy()).all()
    for c in ("duration_mean", "duration_median", "duration_p90"):
        diff = (inner[c].astype("timedelta64[us]") - ref[c].astype("timedelta64[us]")).abs()
        assert (diff <= pd.Timedelta(microseconds=1)).all(), c
    se = engine.start_end(sub)
    starts = m.edges[m.edges["source"] == START].set_index("target")["count"]
    assert starts.sort_index().to_dict() == se.loc[se["starts"] > 0, "starts"].sort_index().to_dict()
    nodes = m.nodes.set_index("activity")
    df = sub.to_pandas()
    assert nodes["events"].to_dict() == df["activity"].value_counts().to_dict()
    assert nodes["cases"].to_dict() == df.groupby("activity")["case"].nunique().to_dict()
    assert m.n_cases == sub.n_cases


def test_map_equals_engine_aggregates(example):
    _check_against_engine(example)
    _check_against_engine(example, activities=0.6)


def test_lazy_log_gives_the_same_map(example):
    import ibis

    frame = example.to_pandas()[["case", "activity", "timestamp"]]
    lazy = jl.from_ibis(ibis.memtable(frame), case="case", activity="activity", timestamp="timestamp")
    for a in (1.0, 0.6):
        m1, m2 = discover(example, activities=a), discover(lazy, activities=a)
        pd.testing.assert_frame_equal(m1.nodes, m2.nodes)
        pd.testing.assert_frame_equal(m1.edges, m2.edges)
    pd.testing.assert_frame_equal(variants(example).table, variants(lazy).table)


@pytest.mark.reference
def test_receipt_map_and_variants_equal_pm4py(receipt):
    _check_against_pm4py(receipt)
    _check_against_engine(receipt)
    _check_against_engine(receipt, activities=0.8)


@pytest.mark.reference
def test_bpic2012_map_and_variants_equal_pm4py(bpic):
    _check_against_pm4py(bpic)
    _check_against_engine(bpic, activities=0.9)
    v = variants(bpic)
    pd.testing.assert_frame_equal(
        v.table[["variant", "count", "duration_median"]],
        engine.variants(bpic)[["variant", "count", "duration_median"]], check_dtype=False)
    assert (v.n_cases, v.n_variants) == (13087, 4366)


def test_activities_slider_keeps_most_frequent(example):
    m = discover(example, activities=0.5)
    counts = example.activity_counts
    kept = list(m.nodes["activity"])
    assert kept == list(counts.index[: len(kept)])
    assert counts.iloc[: len(kept)].sum() / counts.sum() >= 0.5
    assert counts.iloc[: len(kept) - 1].sum() / counts.sum() < 0.5
    # the removed activities are projected out: edges join the kept ones directly
    nodes = set(kept) | {START, END}
    assert set(m.edges["source"]) | set(m.edges["target"]) <= nodes
    inner = m.edges[(m.edges["source"] != START) & (m.edges["target"] != END)]
    assert int(inner["count"].sum()) == m.n_events - m.n_cases
    assert math.isclose(m.event_share, counts.iloc[: len(kept)].sum() / counts.sum())


def test_lowest_sliders_keep_one_activity(example):
    m = discover(example, activities=0.01, paths=0.0)
    assert len(m.nodes) == 1
    assert len(m.edges) >= 2


def test_paths_slider_is_monotone(receipt):
    previous = None
    for p in (0.0, 0.1, 0.3, 0.6, 1.0):
        m = discover(receipt, activities=0.9, paths=p)
        edges = set(zip(m.edges["source"], m.edges["target"]))
        if previous is not None:
            assert previous <= edges
        previous = edges
    assert len(previous) == m.n_edges_total


def _on_start_end_path(m) -> bool:
    g = m.to_networkx()
    fwd = nx.descendants(g, START) | {START}
    back = nx.ancestors(g, END) | {END}
    return all(a in fwd and a in back for a in m.nodes["activity"])


traces_st = st.lists(st.lists(st.sampled_from("abcdef"), min_size=1, max_size=7), min_size=1, max_size=12)
share_st = st.floats(min_value=0.01, max_value=1.0)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(traces=traces_st, a=share_st, p=st.floats(min_value=0.0, max_value=1.0))
def test_every_kept_node_lies_on_a_start_end_path(traces, a, p):
    log = make_log(traces)
    m = discover(log, activities=a, paths=p)
    assert _on_start_end_path(m)
    full = discover(log, activities=a, paths=1.0)
    assert set(zip(m.edges["source"], m.edges["target"])) <= set(zip(full.edges["source"], full.edges["target"]))
    v = variants(log)
    assert int(v.table["count"].sum()) == log.n_cases == v.n_cases
    dfg = engine.directly_follows(log)
    assert int(dfg["count"].sum()) == log.n_events - log.n_cases


@pytest.mark.parametrize("value", [0, 0.0, -0.1, 1.5, 80, "0.5", True, float("nan"), None])
def test_discover_refuses_bad_activity_share(example, value):
    with pytest.raises(InvalidParameterError, match=r"activities=.* is outside \(0, 1\]"):
        discover(example, activities=value)


def test_discover_percentage_hint(example):
    with pytest.raises(InvalidParameterError, match=r"a percentage\? use 0.8"):
        discover(example, paths=80)


def test_paths_share_allows_zero_but_not_negative(example):
    assert discover(example, paths=0).params["paths"] == 0.0
    with pytest.raises(InvalidParameterError, match=r"paths=-0.5 is outside \[0, 1\]"):
        discover(example, paths=-0.5)


def test_to_dot_lists_every_edge(example):
    m = discover(example)
    dot = m.to_dot(metric="time")
    assert dot.startswith("digraph process_map {") and dot.rstrip().endswith("}")
    assert dot.count("->") == len(m.edges)
    assert '"[start]" -> "register request"' in dot
    with pytest.raises(InvalidParameterError, match="metric='speed'"):
        m.to_dot(metric="speed")


def test_format_duration():
    """journeylab.discovery.format_duration is deprecated (one formatter: _core.formatting); it keeps working."""
    with pytest.warns(DeprecationWarning, match=r"journeylab.discovery.format_duration is deprecated.*_core.formatting"):
        from journeylab.discovery import format_duration
    assert format_duration(pd.Timedelta(seconds=42)) == "42 s"
    assert format_duration(pd.Timedelta(minutes=12)) == "12 min"
    assert format_duration(pd.Timedelta(hours=5, minutes=12)) == "5.2 h"
    assert format_duration(pd.Timedelta(days=31)) == "31 d"
    assert format_duration(pd.NaT) == ""
    import journeylab.discovery as dmod

    assert "format_duration" not in dmod.__all__
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        dmod.nothing  # noqa: B018


# --------------------------------------------------------------------------- variants


def _variants_equal_engine(log):
    v = variants(log).table
    ref = engine.variants(_lazy(log))  # the SQL aggregation of the same events
    assert list(v["variant"]) == list(ref["variant"])
    assert list(v["count"]) == list(ref["count"])
    assert (v["duration_median"].to_numpy() == ref["duration_median"].astype("timedelta64[us]").to_numpy()).all()


def test_variant_scan_hash_collisions_fall_back_to_exact_grouping(receipt, monkeypatch):
    import journeylab._kernels.scans as dmod

    monkeypatch.setattr(dmod, "_HASH_BASE", 0)  # every sequence hashes to its length alone: collisions
    fresh = jl.from_pandas(receipt.to_pandas(), case="case", activity="activity", timestamp="timestamp")
    _variants_equal_engine(fresh)  # a new log: nothing scanned yet (the cache is the log's)


def test_variant_scan_with_a_very_long_case(monkeypatch):
    import journeylab._kernels.scans as dmod

    long = ["a", "b", "c"] * 10_000
    traces = [long] + [["a", "b"], ["a", "c"], ["b"]] * 40
    log = make_log(traces)
    comp = dmod._compact(log)
    keys, counts, _, group = dmod._variants_numpy(comp)  # one pass over the events, no padded case matrix
    assert sorted(counts.tolist()) == [1, 40, 40, 40] and len(group) == log.n_cases
    assert sorted(len(k) for k in keys) == [1, 2, 2, 30_000]
    _variants_equal_engine(log)
    monkeypatch.setattr(dmod, "NUMPY_VARIANTS", False)  # the exact DuckDB aggregation of the codes
    exact = make_log(traces)
    _variants_equal_engine(exact)
    assert discover(exact).edges.equals(discover(log).edges)
    monkeypatch.undo()
    from journeylab.filters import filter_variants

    assert filter_variants(log, top=1).n_cases == 40
    assert discover(log).n_cases == log.n_cases


def test_variants_table(example):
    v = variants(example)
    assert repr(v) == "Variants: all 6 variants, covering 100.0% of 6 cases"
    f = v.to_frame()
    assert list(f.columns) == ["rank", "variant", "length", "count", "share", "cumulative_share", "duration_median"]
    assert f["cumulative_share"].iloc[-1] == pytest.approx(1.0)
    assert (f["length"] == f["variant"].map(len)).all()
    assert "register request \u2192" in v._repr_html_()
    assert v.summary.loc["variants shown", "value"] == "6 of 6"


def test_variants_top_and_coverage(receipt):
    v = variants(receipt, coverage=0.8)
    t = v.table
    assert t["cumulative_share"].iloc[-1] >= 0.8 > t["cumulative_share"].iloc[-2]
    assert len(variants(receipt, top=3)) == 3
    both = variants(receipt, top=2, coverage=0.8)
    assert len(both) == 2 and both.params == {"top": 2, "coverage": 0.8}


@pytest.mark.parametrize("kw, msg", [({"coverage": 0}, r"coverage=0 is outside \(0, 1\]"),
                                     ({"coverage": 1.2}, r"coverage=1.2 is outside"),
                                     ({"top": 0}, r"top=0 must be a whole number"),
                                     ({"top": 2.5}, r"top=2.5 must be a whole number")])
def test_variants_bad_input(example, kw, msg):
    with pytest.raises(InvalidParameterError, match=msg):
        variants(example, **kw)


# --------------------------------------------------------------------------- paths


def test_paths_next_and_previous(example):
    p = paths(example, anchor="decide", steps=2)
    assert p.n_occurrences == 9 and int(p.table["count"].sum()) == 9
    assert all(path[0] == "decide" for path in p.table["path"])
    assert ("decide", "pay compensation", END) in set(p.table["path"])
    assert p.table["share"].sum() == pytest.approx(1.0)
    prev = paths(example, anchor="register request", direction="previous", steps=3)
    assert list(prev.table["path"]) == [(START, "register request")]
    assert "paths before 'register request'" in repr(prev)
    one = paths(example, anchor="decide", steps=1, top=1)
    assert len(one.table) == 1 and one.n_paths == 3
    assert one.coverage == pytest.approx(1 / 3)


def test_paths_counts_every_occurrence():
    log = make_log([["a", "b", "a", "c"], ["a", "b"]])
    p = paths(log, anchor="a", steps=1)
    got = dict(zip(p.table["path"], zip(p.table["count"], p.table["cases"])))
    assert got == {("a", "b"): (2, 2), ("a", "c"): (1, 1)}


def test_paths_anchor_names_the_closest(example):
    with pytest.raises(InvalidParameterError, match=r"anchor='decyde' is not an activity.*Did you mean 'decide'"):
        paths(example, anchor="decyde")


@pytest.mark.parametrize("kw, msg", [({"direction": "forward"}, "direction='forward' is not allowed"),
                                     ({"steps": 0}, "steps=0 must be a whole number"),
                                     ({"steps": 50}, "steps=50 is too many")])
def test_paths_bad_input(example, kw, msg):
    with pytest.raises(InvalidParameterError, match=msg):
        paths(example, anchor="decide", **kw)


# --------------------------------------------------------------------------- models


def test_model_example_matches_pm4py(example):
    pm4py = _pm4py_mod()
    df = example.to_pm4py()
    for noise in (0.0, 0.2):
        m = discover_model(example, noise=noise)
        ref = pm4py.discover_process_tree_inductive(df.copy(), noise_threshold=noise)
        assert str(m.tree) == str(ref)
    m = discover_model(example)
    ref_fit = pm4py.fitness_token_based_replay(df.copy(), m.net, m.initial_marking, m.final_marking)
    assert m.fitness == pytest.approx(ref_fit["log_fitness"])
    assert m.precision == pytest.approx(
        pm4py.precision_token_based_replay(df.copy(), m.net, m.initial_marking, m.final_marking))
    assert repr(m).startswith("Model: inductive process tree over 8 activities from 6 variants (6 cases); fitness 1.000")
    assert m.summary.loc["precision (ETC)", "value"] == f"{m.precision:.3f}"
    assert list(m.to_frame().columns) == ["variant", "count", "trace_fitness", "fits"]


@pytest.mark.reference
@pytest.mark.parametrize("noise", [0.0, 0.2])
def test_receipt_tree_from_variants_equals_full_log(receipt, noise):
    pm4py = _pm4py_mod()
    df = receipt.to_pm4py()
    with _pm4py.python_strings():
        ref = pm4py.discover_process_tree_inductive(df.copy(), noise_threshold=noise)
    m = discover_model(receipt, noise=noise, quality=noise > 0)
    assert str(m.tree) == str(ref)
    if noise > 0:  # replaying the full log takes a few seconds: once is enough
        with _pm4py.python_strings():
            fit = pm4py.fitness_token_based_replay(df.copy(), m.net, m.initial_marking, m.final_marking)
            prec = pm4py.precision_token_based_replay(df.copy(), m.net, m.initial_marking, m.final_marking)
        assert m.quality["log_fitness"] == pytest.approx(fit["log_fitness"], rel=1e-12)
        assert m.quality["percentage_of_fitting_traces"] == pytest.approx(fit["percentage_of_fitting_traces"])
        assert m.quality["average_trace_fitness"] == pytest.approx(fit["average_trace_fitness"], rel=1e-9)
        assert m.precision == pytest.approx(prec, rel=1e-12)


@pytest.mark.reference
def test_receipt_heuristics_from_variants_equals_full_log(receipt):
    pm4py = _pm4py_mod()
    df = receipt.to_pm4py()
    with _pm4py.python_strings():
        ref = pm4py.discover_heuristics_net(df.copy(), dependency_threshold=0.9)
    mine = _pm4py.heuristics_net(_pm4py.variant_counter(engine.variants(receipt)), dependency_threshold=0.9)
    assert mine.dependency_matrix == ref.dependency_matrix
    assert mine.dfg_matrix == ref.dfg_matrix
    m = discover_model(receipt, algorithm="heuristics", noise=0.9, quality=False)
    assert m.tree is None and math.isnan(m.fitness)
    assert "quality not computed" in repr(m)


def test_model_exports(example, tmp_path):
    m = discover_model(example)
    text = m.to_bpmn(tmp_path / "m.bpmn")
    assert (tmp_path / "m.bpmn").read_text(encoding="utf-8") == text
    assert "bpmndi:BPMNShape" in text or "BPMNShape" in text
    pm4py = _pm4py_mod()
    back = pm4py.read_bpmn(str(tmp_path / "m.bpmn"))
    assert {n.get_name() for n in back.get_nodes()} >= set(m.activities)
    pnml = m.to_pnml(tmp_path / "m.pnml")
    net, im, fm = pm4py.read_pnml(str(tmp_path / "m.pnml"))
    assert len(net.transitions) == len(m.net.transitions) and "<pnml>" in pnml
    h = discover_model(example, algorithm="heuristics", noise=0.5)
    assert h.tree is None and "<bpmn" in h.to_bpmn()


def test_model_bad_input(example):
    with pytest.raises(InvalidParameterError, match="algorithm='inductiv' is not available.*Did you mean 'inductive'"):
        discover_model(example, algorithm="inductiv")
    with pytest.raises(InvalidParameterError, match=r"noise=1.5 is outside \[0, 1\]"):
        discover_model(example, noise=1.5)


# --------------------------------------------------------------------------- plots


def _texts(ax):
    return [t.get_text() for t in ax.texts]


def test_plot_process_map_frequency_and_time(example):
    before = dict(plt.rcParams)
    m = discover(example)
    ax = m.plot()
    assert isinstance(ax, plt.Axes)
    texts = _texts(ax)
    assert "check ticket" in texts and "9" in texts  # names and counts come from the result
    fig, ax2 = plt.subplots()
    out = m.plot(ax=ax2, metric="time")
    assert out is ax2
    med = format_duration(m.edges.loc[(m.edges["source"] == "check ticket") & (m.edges["target"] == "decide"),
                                      "duration_median"].iloc[0])
    assert med in _texts(out)
    assert dict(plt.rcParams) == before
    with pytest.raises(InvalidParameterError, match="metric='count' is not allowed"):
        plot_process_map(m, metric="count")


def test_plot_refuses_a_map_too_large_to_read():
    acts = [f"step {i:02d}" for i in range(70)]
    log = make_log([acts, acts[::-1]])
    m = discover(log)
    with pytest.raises(InvalidParameterError, match=r"70 activities; more than 50.*activities=0.8"):
        m.plot()
    assert len(discover(log, activities=0.5).nodes) <= 50
    discover(log, activities=0.5, paths=0.0).plot()


def test_plot_variants_paths_model(example):
    ax = plot_variants(variants(example))
    assert "#1" in _texts(ax) and ax.get_legend() is not None
    assert any("16.7%" in t for t in _texts(ax))
    ax = plot_paths(paths(example, anchor="decide"))
    assert any(t.startswith("pay compensation") for t in _texts(ax))
    prev = paths(example, anchor="decide", direction="previous").plot()
    assert any("case starts" in t or "register request" in t for t in _texts(prev))
    m = discover_model(example)
    ax = plot_model(m)
    assert "decide" in _texts(ax)
    ax = m.plot(kind="net")
    assert "decide" in _texts(ax)
    with pytest.raises(InvalidParameterError, match="kind='bpmn' is not allowed"):
        m.plot(kind="bpmn")
    h = discover_model(example, algorithm="heuristics", noise=0.5, quality=False)
    with pytest.raises(InvalidParameterError, match="has no process tree; draw its Petri net with kind='net'"):
        h.plot(kind="tree")
    h.plot()


def test_public_functions_refuse_a_dataframe(example):
    df = example.to_pandas()
    for call in (lambda: discover(df), lambda: variants(df), lambda: paths(df, anchor="decide"),
                 lambda: discover_model(df), lambda: jl.discover(df)):
        with pytest.raises(InvalidParameterError, match=r"log must be a journeylab EventLog.*wrap it with jl\.from_pandas"):
            call()
    with pytest.raises(InvalidParameterError, match="anchor=3 must be a non-empty text"):
        paths(example, anchor=3)
    with pytest.raises(InvalidParameterError, match="quality='yes' must be True or False"):
        discover_model(example, quality="yes")


def test_bpmn_export_does_not_load_the_plots():
    """The pm4py adapter lays BPMN diagrams out with _core.layout: exporting a model imports no plotting module."""
    import subprocess
    import sys

    code = ("import sys, journeylab as jl\n"
            "m = jl.discover_model(jl.datasets.load_example(), quality=False)\n"
            "assert 'BPMNShape' in m.to_bpmn()\n"
            "print(sorted(n for n in sys.modules if n.startswith('journeylab.plotting')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_plot_is_exported_from_plotting():
    import importlib
    import inspect
    import pkgutil

    import journeylab.plotting as plotting

    found = set()
    for info in pkgutil.iter_modules(plotting.__path__):
        mod = importlib.import_module(f"journeylab.plotting.{info.name}")
        found |= {n for n, f in inspect.getmembers(mod, inspect.isfunction)
                  if n.startswith("plot_") and f.__module__ == mod.__name__}
    assert found == {n for n in plotting.__all__ if n.startswith("plot_")}
    assert set(plotting.__all__) - found == {"notebook_figures"}  # the one helper that is not a plot
    for name in plotting.__all__:
        assert callable(getattr(plotting, name))
    with pytest.raises(AttributeError):
        plotting.plot_nothing  # noqa: B018


def test_result_html_is_formatted(example):
    html = variants(example)._repr_html_()
    assert "register request \u2192" in html and "16.7%" in html
    html = discover(example)._repr_html_()
    assert "<b>activities</b>" in html and "<b>paths</b>" in html and " d<" in html  # durations for people
    assert paths(example, anchor="decide")._repr_html_().count("<table") == 1


def test_doctests():
    import doctest

    import journeylab.discovery as dmod
    from journeylab.discovery import _map, _model, _sequences

    for mod in (dmod, _map, _sequences, _model):
        res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        assert res.failed == 0, mod.__name__


# --------------------------------------------------------------------------- explorer


def test_process_explorer_reproduces_its_map(example):
    ex = process_explorer(example)
    assert repr(ex.result) == repr(discover(example))
    ex.activities.value = 0.5
    ex.paths.value = 0.0
    ex.metric.value = "time"
    assert ex.params == {"activities": 0.5, "paths": 0.0, "metric": "time", "segment": None}
    again = discover(example, activities=0.5, paths=0.0)
    pd.testing.assert_frame_equal(ex.result.edges, again.edges)
    assert ex.code == "jl.discover(log, activities=0.5, paths=0.0).plot(metric='time')"


def test_process_explorer_segment_filter(receipt):
    ex = process_explorer(receipt, column="case:channel", values=["Desk"])
    seg = receipt.filter_values("case:channel", ["Desk"], level="case")
    assert ex.result.n_cases == seg.n_cases < receipt.n_cases
    assert ex.params["segment"] == {"column": "case:channel", "values": ["Desk"]}
    assert "filter_values('case:channel', ['Desk'], level='case')" in ex.code


def test_process_explorer_shows_errors(example, monkeypatch):
    import journeylab.widgets.process as wp

    def boom(*a, **k):
        raise InvalidParameterError("too large; lower the sliders")

    monkeypatch.setattr(wp, "discover", boom)
    ex = wp.process_explorer(example)
    assert ex.result is None and "lower the sliders" in ex.error


def test_variant_counter_weights(example):
    c = _pm4py.variant_counter(engine.variants(example))
    assert isinstance(c, Counter) and sum(c.values()) == 6


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.lists(st.sampled_from("abcde"), min_size=0, max_size=7).map(tuple),
                       st.integers(1, 50), max_size=12))
def test_one_pass_dfg_equals_pm4py(variant_counts):
    _pm4py_mod()
    from pm4py.util.compression import util as comut

    log = Counter(variant_counts)
    ours, ref = _pm4py.dfg_uvcl(log), comut.discover_dfg_uvcl(log)
    for part in ("graph", "start_activities", "end_activities"):
        # same counts and the same key order (the miner iterates these Counters)
        assert list(getattr(ours, part).items()) == list(getattr(ref, part).items())


def test_miner_on_many_variants_equals_pm4py_and_restores_it():
    pm4py = _pm4py_mod()
    from pm4py.util.compression import util as comut

    from benchmarks._gen import generate

    df = generate(60_000, n_activities=20)
    log = jl.from_pandas(df, case="case_id", activity="activity", timestamp="timestamp")
    original = comut.discover_dfg_uvcl
    for noise in (0.0, 0.2):
        m = discover_model(log, noise=noise, quality=False)
        with _pm4py.python_strings():
            ref = pm4py.discover_process_tree_inductive(log.to_pm4py(), noise_threshold=noise)
        assert str(m.tree) == str(ref)
    assert m.n_variants > 100
    assert comut.discover_dfg_uvcl is original


def test_one_pass_dfg_swap_is_counted_and_restored_on_error():
    _pm4py_mod()
    from pm4py.util.compression import util as comut

    original = comut.discover_dfg_uvcl
    outer, inner = _pm4py._one_pass_dfg(), _pm4py._one_pass_dfg()
    outer.__enter__()
    inner.__enter__()
    outer.__exit__(None, None, None)  # overlapping calls (threads): the first one out must not restore yet
    assert comut.discover_dfg_uvcl is _pm4py.dfg_uvcl
    inner.__exit__(None, None, None)
    assert comut.discover_dfg_uvcl is original
    with pytest.raises(RuntimeError):
        with _pm4py._one_pass_dfg():
            raise RuntimeError("boom")
    assert comut.discover_dfg_uvcl is original
