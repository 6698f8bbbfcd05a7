"""Reference tests: the real public logs give their published figures, and pm4py's DFG.

The logs live in ../shared/datasets (beside the repository); the tests are skipped with
the reason when that folder is absent.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import journeylab as jl
from journeylab import engine

from conftest import shared_log

pytestmark = pytest.mark.reference

PUBLISHED = {
    # file: (cases, events, activities, variants)
    "bpic2012.xes.gz": (13_087, 262_200, 24, 4_366),
    "receipt.xes.gz": (1_434, 8_577, 27, 116),
    "running-example.xes": (6, 42, 8, 6),
}


@pytest.fixture(scope="module")
def logs():
    return {name: jl.read_xes(shared_log(name)) for name in PUBLISHED}


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_published_figures(logs, name):
    log = logs[name]
    cases, events, activities, n_variants = PUBLISHED[name]
    assert (log.n_cases, log.n_events, len(log.activities)) == (cases, events, activities)
    assert len(engine.variants(log)) == n_variants


def test_bpic2012_lifecycle_is_its_own_column(logs):
    log = logs["bpic2012.xes.gz"]
    assert "lifecycle" in log.columns
    df = log.to_pandas()
    assert set(df["lifecycle"].unique()) == {"SCHEDULE", "START", "COMPLETE"}
    assert df.groupby(["activity", "lifecycle"]).ngroups == 36  # 36 event classes, as published
    assert log.time_span[0].strftime("%Y-%m-%d") == "2011-09-30"
    assert log.time_span[1].strftime("%Y-%m-%d") == "2012-03-14"


@pytest.fixture(scope="module")
def pm4py_mod():
    pm4py = pytest.importorskip("pm4py")
    return pm4py


@pytest.mark.parametrize("name", ["receipt.xes.gz", "running-example.xes", "bpic2012.xes.gz"])
def test_dfg_equals_pm4py_on_pm4py_parsed_log(logs, pm4py_mod, name):
    """pm4py parses the file itself; its DFG, start/end activities and performance DFG equal ours."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pm4py_mod.read_xes(str(shared_log(name)))
    dfg, start, end = pm4py_mod.discover_dfg(ref)
    ours = engine.directly_follows(logs[name])
    assert {(r.source, r.target): r.count for r in ours.itertuples()} == dict(dfg)
    se = engine.start_end(logs[name])
    assert se["starts"][se["starts"] > 0].to_dict() == dict(start)
    assert se["ends"][se["ends"] > 0].to_dict() == dict(end)
    perf, _, _ = pm4py_mod.discover_performance_dfg(ref)
    mean = {(r.source, r.target): r.duration_mean.total_seconds() for r in ours.itertuples()}
    assert set(mean) == set(perf)
    for key, stats in perf.items():
        assert mean[key] == pytest.approx(stats["mean"], abs=1e-3), key


def test_variants_equal_pm4py(logs, pm4py_mod):
    log = logs["receipt.xes.gz"]
    ref = pm4py_mod.get_variants(log.to_pm4py())
    ours = engine.variants(log)
    assert dict(zip(ours["variant"], ours["count"])) == {tuple(k): v for k, v in ref.items()}


def test_to_pm4py_round_trip_counts(logs):
    df = logs["receipt.xes.gz"].to_pm4py()
    assert {"case:concept:name", "concept:name", "time:timestamp"} <= set(df.columns)
    assert isinstance(df["time:timestamp"].dtype, pd.DatetimeTZDtype)
