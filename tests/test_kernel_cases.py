"""The per-case kernel (journeylab._kernels.cases): the layout of the events per case, per-case facts and the
variants of the cases - checked against plain pandas on the events, in memory and on a lazy (DuckDB) log."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pandas as pd
import pytest

import journeylab as jl
from journeylab import engine
from journeylab._kernels.cases import (
    activity_counts,
    case_events,
    case_layout,
    channel_counts,
    decode,
    edit_distances,
    first_values,
    milestones_reached,
    value_totals,
    variant_codes,
    variants_of,
)
from journeylab.features import case_attributes


@pytest.fixture(scope="module")
def sample():
    return jl.datasets.make_journeys(250, random_state=11)


def _lazy(log):
    import ibis

    df = log.to_pandas()
    roles = {r: r for r in ("channel", "value") if log.has_role(r)}
    return jl.from_ibis(ibis.memtable(df), case="case", activity="activity", timestamp="timestamp", **roles)


def _sequences(log) -> dict:
    df = log.to_pandas()
    return {str(c): tuple(g["activity"]) for c, g in df.groupby("case", sort=True)}


@pytest.mark.parametrize("lazy", [False, True])
def test_layout_holds_each_case_as_a_block_in_time_order(sample, lazy):
    log = _lazy(sample.log) if lazy else sample.log
    c = case_layout(log)
    seqs = _sequences(sample.log)
    assert list(c.cases) == sorted(seqs) and c.n == len(seqs)
    assert c.offsets[-1] == len(c.codes) == sample.log.n_events and (np.diff(c.case_codes) >= 0).all()
    for i in (0, 7, c.n - 1):
        got = tuple(c.activities[k] for k in c.codes[c.offsets[i]:c.offsets[i + 1]])
        assert got == seqs[c.cases[i]]
    assert (c.timestamps.iloc[c.first].to_numpy() <= c.timestamps.iloc[c.last].to_numpy()).all()
    with pytest.raises(ValueError):
        c.codes[0] = 1  # read-only: the log keeps it


def test_layout_is_computed_once_per_log_and_goes_with_the_log(sample):
    log = jl.from_pandas(sample.log.to_pandas(), case="case", activity="activity", timestamp="timestamp")
    first = case_layout(log)
    assert case_layout(log) is first and variants_of(log) is variants_of(log)
    assert case_layout(log.filter_cases(list(first.cases[:10]))).n == 10  # a derived log has its own
    gone = weakref.ref(first)
    del log, first
    gc.collect()
    assert gone() is None  # nothing outside the log keeps it (or the log) alive


@pytest.mark.parametrize("lazy", [False, True])
def test_variants_of_match_the_engine(sample, lazy):
    log = _lazy(sample.log) if lazy else sample.log
    v = variants_of(log)
    c = case_layout(log)
    assert int(v.counts.sum()) == c.n and (np.diff(v.counts) <= 0).all()
    seqs = _sequences(sample.log)
    for vid in range(0, len(v.counts), 17):
        cases = c.cases[v.vid == vid]
        assert len(cases) == v.counts[vid] and cases[0] == c.cases[v.first_case[vid]]
        assert {seqs[k] for k in cases} == {decode(v.keys[vid], c.activities)}
    ref = engine.variants(sample.log)
    assert sorted(v.counts.tolist()) == sorted(ref["count"].tolist())
    codes, row, _ = variant_codes(log)
    assert len(codes) == sum(len(decode(k, c.activities)) for k in v.keys) and row[-1] == len(v.counts) - 1


def test_per_case_facts_equal_pandas(sample):
    log = sample.log
    df = log.to_pandas()
    g = df.groupby("case", sort=True)
    c = case_layout(log)
    counts = pd.DataFrame(activity_counts(log), index=c.cases, columns=c.activities)
    ref = pd.crosstab(df["case"], df["activity"]).reindex(index=c.cases, columns=c.activities, fill_value=0)
    np.testing.assert_array_equal(counts.to_numpy(), ref.to_numpy())
    ch = channel_counts(log)
    ref = pd.crosstab(df["case"], df["channel"]).reindex(index=c.cases, columns=ch.names, fill_value=0)
    np.testing.assert_array_equal(ch.counts, ref.to_numpy())
    assert [ch.names[i] for i in ch.first[:20]] == g["channel"].first().reindex(c.cases).tolist()[:20]
    total, top = value_totals(log)
    np.testing.assert_allclose(total, g["value"].sum().reindex(c.cases).to_numpy())
    np.testing.assert_allclose(top, g["value"].max().reindex(c.cases).to_numpy())
    attrs = [a for a in log.attributes][:3]
    pd.testing.assert_frame_equal(first_values(log, attrs), g[attrs].first().rename_axis(None).set_axis(c.cases),
                                  check_names=False)
    assert list(case_events(log, ["channel"]).columns) == ["case", "activity", "timestamp", "channel", "_seq"]


def test_milestones_reached_reads_the_milestone_events_with_their_conditions():
    df = pd.DataFrame({"c": ["a", "a", "b", "b", "c"], "act": ["view", "pay", "view", "pay", "view"],
                       "t": pd.date_range("2025-01-01", periods=5, freq="h"), "amount": [0, 80, 0, 20, 0]})
    log = jl.from_pandas(df, case="c", activity="act", timestamp="t")
    j = jl.Journey.from_dict({"name": "j", "milestones": [
        {"name": "seen", "activities": ["view"]},
        {"name": "big", "activities": ["pay"], "when": "amount >= 50"},
        {"name": "paid", "activities": ["pay"]}]})
    got = milestones_reached(log, j)
    ref = pd.crosstab(df["c"], j.milestone_of(log.to_pandas()).to_numpy()).reindex(columns=["seen", "big", "paid"],
                                                                                 fill_value=0) > 0
    np.testing.assert_array_equal(got.to_numpy(), ref.to_numpy())
    assert got.loc["a"].tolist() == [True, True, False] and got.loc["b"].tolist() == [True, False, True]
    bad = jl.Journey.from_dict({"name": "j", "milestones": [{"name": "big", "activities": ["pay"],
                                                             "when": "amont >= 50"}]})
    with pytest.raises(jl.JourneyDefinitionError, match="no column 'amont'.*Available"):
        milestones_reached(log, bad)


def test_case_attributes_of_a_lazy_log_equal_those_in_memory(sample):
    a = case_attributes(_lazy(sample.log), journey=sample.journey)
    b = case_attributes(sample.log, journey=sample.journey)
    assert list(a.columns) == list(b.columns)
    pd.testing.assert_frame_equal(a, b, check_dtype=False, check_categorical=False)


def test_edit_distances_are_normalised_levenshtein():
    d = edit_distances(["abc", "abd", ""], ["abc", "x"])
    assert d.dtype == np.float32 and d.shape == (3, 2)
    np.testing.assert_allclose(d[:, 0], [0.0, 1 / 3, 1.0], rtol=1e-6)
