"""Tests of journeylab.conformance: alignments with the happy path, typed deviations, Conformance."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journeylab as jl
from journeylab._core.stats import newcombe, z_score
from journeylab.conformance import DEVIATION_TYPES, Alignment, Conformance, _welch, align, compare
from journeylab.exceptions import DataQualityWarning, InvalidParameterError, JourneyDefinitionError
from journeylab.journey import Journey


def _newcombe(k1, n1, k2, n2, confidence):
    """(difference, low, high) of k1/n1 - k2/n2 with Newcombe's interval."""
    return (k1 / n1 - k2 / n2, *newcombe(k1, n1, k2, n2, z_score(confidence)))


pytestmark = pytest.mark.filterwarnings("ignore::journeylab.exceptions.DataQualityWarning")

PATH = ("a", "b", "c", "d")


def make_log(traces, *, start="2025-01-01", step="1h", extra=None, cases=None):
    """One case per trace; events one ``step`` apart; ``extra`` columns given per event as lists."""
    rows = []
    t0 = pd.Timestamp(start)
    for i, trace in enumerate(traces):
        case = cases[i] if cases is not None else f"c{i:03d}"
        for j, act in enumerate(trace):
            rows.append({"case": case, "activity": act, "ts": t0 + i * pd.Timedelta(days=1) + j * pd.Timedelta(step)})
    df = pd.DataFrame(rows)
    for col, values in (extra or {}).items():
        df[col] = values
    return jl.from_pandas(df.rename(columns={"case": "cid", "activity": "act"}), case="cid", activity="act",
                          timestamp="ts")


def journey(path=PATH, *, extras=(("x", "negative"), ("o", "positive")), goal=None, stall_after=None) -> Journey:
    ms = [{"name": p.upper(), "activities": [p]} for p in path]
    for name, kind in extras:
        ms.append({"name": name.upper(), "activities": [name], "kind": kind, "optional": True})
    d = {"name": "test journey", "milestones": ms}
    if goal:
        d["goal"] = {"type": "custom", "activity": goal}
    if stall_after:
        d["stall_after"] = stall_after
    return Journey.from_dict(d)


def lcs(s, p) -> int:
    prev = [0] * (len(p) + 1)
    for x in s:
        cur = [0]
        for j, y in enumerate(p):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


# --------------------------------------------------------------------------- align: hand-computed


@pytest.mark.parametrize("trace, cost, types", [
    (["a", "b", "c", "d"], 0, []),
    (["a", "c", "d"], 1, [("skipped", "b")]),
    (["a", "b"], 2, [("incomplete", "c"), ("incomplete", "d")]),
    (["a", "c", "b", "d"], 2, [("out_of_order", "b")]),
    (["b", "a", "c", "d"], 2, [("out_of_order", "a")]),
    (["a", "b", "a", "b", "c", "d"], 2, [("repeated", "a"), ("repeated", "b")]),
    (["a", "b", "x", "c", "d"], 1, [("unexpected", "x")]),
    (["a", "x"], 4, [("unexpected", "x"), ("incomplete", "b"), ("incomplete", "c"), ("incomplete", "d")]),
    (["c", "c", "a", "b", "d"], 3, [("out_of_order", "c"), ("repeated", "c")]),
    ([], 4, [("incomplete", m) for m in PATH]),
])
def test_align_hand_computed(trace, cost, types):
    a = align(trace, PATH)
    assert a.cost == cost
    assert sorted((d.type, d.milestone) for d in a.deviations) == sorted(types)
    assert sum(d.cost for d in a.deviations) == cost
    assert a.fitness == pytest.approx(1 - cost / (len(trace) + len(PATH)))
    assert a.conforms == (cost == 0)


def test_align_moves_and_repr():
    a = align(["a", "c", "b", "d"], PATH)
    assert isinstance(a, Alignment)
    assert a.moves == (("a", "a"), (None, "b"), ("c", "c"), ("b", None), ("d", "d"))
    assert repr(a) == "Alignment: cost 2, fitness 0.750, deviations: out_of_order b"
    assert align(["a"], ["a"]).deviations == ()


def test_align_refuses_repeated_path_milestones():
    with pytest.raises(InvalidParameterError, match=r"happy path names \['a'\] more than once"):
        align(["a"], ["a", "b", "a"])


def test_align_positions():
    a = align(["a", "x", "c", "d"], PATH)
    assert [(d.type, d.milestone, d.position) for d in a.deviations] == [("skipped", "b", 1), ("unexpected", "x", 1)]


# --------------------------------------------------------------------------- align: properties

letters = st.sampled_from(["a", "b", "c", "d", "x", "o"])


@settings(max_examples=300, deadline=None)
@given(st.lists(letters, max_size=14))
def test_align_properties(trace):
    a = align(trace, PATH)
    assert a.cost == len(trace) + len(PATH) - 2 * lcs(trace, PATH)
    assert [lab for lab, _ in a.moves if lab is not None] == list(trace)
    assert [mod for _, mod in a.moves if mod is not None] == list(PATH)
    assert all(lab == mod for lab, mod in a.moves if lab is not None and mod is not None)
    assert sum(d.cost for d in a.deviations) == a.cost
    assert 0.0 <= a.fitness <= 1.0
    assert a.conforms == (tuple(trace) == PATH)
    assert {d.type for d in a.deviations} <= set(DEVIATION_TYPES)
    # typing rules
    for d in a.deviations:
        if d.type == "unexpected":
            assert d.milestone not in PATH
        elif d.type in ("skipped", "incomplete"):
            assert d.milestone not in trace
        else:
            assert d.milestone in trace and d.milestone in PATH


# --------------------------------------------------------------------------- pm4py reference


def _pm4py_costs(traces, path):
    """pm4py's optimal alignment (cost / 10,000, fitness) per trace, against a sequential net."""
    pm4py = pytest.importorskip("pm4py")
    from pm4py.objects.petri_net.obj import Marking, PetriNet
    from pm4py.objects.petri_net.utils import petri_utils

    pd.set_option("mode.string_storage", "python")
    net = PetriNet("happy path")
    places = [PetriNet.Place(f"p{i}") for i in range(len(path) + 1)]
    for p in places:
        net.places.add(p)
    for i, label in enumerate(path):
        t = PetriNet.Transition(f"t{i}", label)
        net.transitions.add(t)
        petri_utils.add_arc_from_to(places[i], t, net)
        petri_utils.add_arc_from_to(t, places[i + 1], net)
    im, fm = Marking({places[0]: 1}), Marking({places[-1]: 1})
    rows = [{"case:concept:name": f"t{i:04d}", "concept:name": a,
             "time:timestamp": pd.Timestamp("2025-01-01", tz="UTC") + pd.Timedelta(minutes=j)}
            for i, tr in enumerate(traces) for j, a in enumerate(tr)]
    df = pd.DataFrame(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = pm4py.conformance_diagnostics_alignments(df, net, im, fm, multi_processing=False)
    return [(a["cost"] / 10_000, a["fitness"]) for a in out]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(letters, min_size=1, max_size=12), min_size=1, max_size=20, unique_by=tuple))
def test_align_equals_pm4py_on_random_sequences(traces):
    ref = _pm4py_costs(traces, PATH)
    for trace, (cost, fitness) in zip(traces, ref):
        a = align(trace, PATH)
        assert a.cost == cost, trace
        assert a.fitness == pytest.approx(fitness), trace


def _random_log(seed: int, n_cases: int = 400):
    rng = np.random.default_rng(seed)
    pool = ["a", "b", "c", "d", "x", "o", "noise1", "noise2"]
    traces = []
    for _ in range(n_cases):
        t = list(PATH)
        for _ in range(rng.integers(0, 4)):  # random edits: drop, insert, swap
            op = rng.integers(0, 3)
            if op == 0 and t:
                t.pop(rng.integers(0, len(t)))
            elif op == 1:
                t.insert(rng.integers(0, len(t) + 1), pool[rng.integers(0, len(pool))])
            elif len(t) > 1:
                i = rng.integers(0, len(t) - 1)
                t[i], t[i + 1] = t[i + 1], t[i]
        traces.append(t or ["noise1"])
    return make_log(traces)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("collapse", [True, False])
def test_compare_equals_pm4py_on_every_variant(seed, collapse):
    log = _random_log(seed)
    res = compare(log, journey(), collapse=collapse)
    variants = [tuple(m) for m in res.variants["milestones"]]
    assert len(variants) == len(set(variants))
    ref = _pm4py_costs([v for v in variants if v], list(journey().happy_path))
    ours = [(c, f) for v, c, f in zip(variants, res.variants["cost"], res.variants["fitness"]) if v]
    assert [c for c, _ in ours] == [c for c, _ in ref]
    assert np.allclose([f for _, f in ours], [f for _, f in ref])


# --------------------------------------------------------------------------- compare: hand-computed


@pytest.fixture
def hand():
    traces = [
        ["a", "b", "c", "d"],                  # conforms
        ["a", "n", "b", "b", "c", "d", "n"],   # conforms (noise ignored, repeats collapsed)
        ["a", "c", "d"],                       # skipped b
        ["a", "b"],                            # incomplete c, d
        ["a", "c", "b", "d"],                  # out of order b
        ["a", "b", "c", "b", "c", "d"],        # repeated b, c
        ["a", "b", "x", "c", "d"],             # unexpected X
        ["n", "n"],                            # outside the journey
    ]
    return make_log(traces, extra={"goal_flag": None})


def test_compare_cases(hand):
    res = compare(hand, journey())
    c = res.cases
    assert res.n_outside == 1 and res.n_cases == 7
    assert c.loc["c000", "conforms"] and c.loc["c001", "conforms"]
    assert c.loc["c001", "milestones"] == ("A", "B", "C", "D")
    assert c["cost"].to_dict() == {"c000": 0, "c001": 0, "c002": 1, "c003": 2, "c004": 2, "c005": 2, "c006": 1}
    assert c.loc["c002", "deviations"] == ("skipped: B",)
    assert c.loc["c003", "deviations"] == ("incomplete: C", "incomplete: D")
    assert c.loc["c004", "deviations"] == ("out_of_order: B",)
    assert c.loc["c005", "deviations"] == ("repeated: B", "repeated: C")
    assert c.loc["c006", "deviations"] == ("unexpected: X",)
    assert c.loc["c003", "last_milestone"] == "B"
    assert c.loc["c002", "fitness"] == pytest.approx(1 - 1 / 7)
    assert res.conformance_rate == pytest.approx(2 / 7)
    assert res.mean_cost == pytest.approx(8 / 7)
    assert c.loc["c000", "duration"] == pd.Timedelta("3h")
    assert c["goal"].isna().all()  # no goal in the journey
    # long table of deviations
    d = res.deviations
    assert len(d) == 7 and set(d["case"]) == {"c002", "c003", "c004", "c005", "c006"}
    assert int(d["cost"].sum()) == int(c["cost"].sum())
    # variants computed once per distinct sequence, counts add up
    assert res.variants["count"].sum() == 7
    assert res.variants.iloc[0]["milestones"] == ("A", "B", "C", "D") and res.variants.iloc[0]["count"] == 2


def test_compare_without_collapse_counts_repeats(hand):
    res = compare(hand, journey(), collapse=False)
    assert res.cases.loc["c001", "deviations"] == ("repeated: B",)


def test_path_table_and_matrix(hand):
    res = compare(hand, journey())
    p = res.path
    assert list(p.index) == ["A", "B", "C", "D"]
    assert p.loc["B", "skipped"] == 1 and p.loc["B", "out_of_order"] == 1 and p.loc["B", "repeated"] == 1
    assert p.loc["C", "incomplete"] == 1 and p.loc["D", "incomplete"] == 1
    assert (p[["in_order", "repeated", "out_of_order", "skipped", "incomplete"]].sum(axis=1) == 7).all()
    m = res.deviation_matrix()
    assert m.loc["skipped", "B"] == pytest.approx(1 / 7)
    assert m.loc["unexpected", "X"] == pytest.approx(1 / 7)
    assert m.loc["incomplete", "any milestone"] == pytest.approx(1 / 7)


def test_milestone_conditions_are_used():
    df = pd.DataFrame({"c": ["1", "1", "1", "2", "2", "2"], "a": ["v", "pay", "done"] * 2,
                       "t": pd.date_range("2025-01-01", periods=6, freq="h"), "amount": [0, 80, 0, 0, 20, 0]})
    log = jl.from_pandas(df, case="c", activity="a", timestamp="t")
    j = Journey.from_dict({"name": "j", "milestones": [
        {"name": "visit", "activities": ["v"]},
        {"name": "pay", "activities": ["pay"], "when": "amount > 50"},
        {"name": "done", "activities": ["done"]}]})
    res = compare(log, j)
    assert res.cases["deviations"].to_dict() == {"1": (), "2": ("skipped: pay",)}


def test_goal_and_effects():
    # 4 conforming cases reach the goal, 4 skipping ones of which 1 does
    traces = [["a", "b", "c", "d", "g"]] * 4 + [["a", "c", "d", "g"]] + [["a", "c", "d"]] * 3
    log = make_log(traces)
    res = compare(log, journey(goal="g"))
    assert res.cases["goal"].sum() == 5
    e = res.effects
    assert e.loc["skipped", "cases"] == 4 and e.loc["skipped", "share"] == pytest.approx(0.5)
    assert e.loc["skipped", "goal_rate"] == pytest.approx(0.25)
    _, lo, hi = _newcombe(1, 4, 4, 4, 0.95)
    assert e.loc["skipped", "goal_diff"] == pytest.approx(-0.75)
    assert (e.loc["skipped", "goal_diff_low"], e.loc["skipped", "goal_diff_high"]) == pytest.approx((lo, hi))
    # durations: conforming 3h, skipping 2h -> -1h (no spread: the interval collapses)
    assert e.loc["skipped", "duration_diff"] == pd.Timedelta("-1h")
    assert e.loc["incomplete", "cases"] == 0 and pd.isna(e.loc["incomplete", "duration_diff"])
    table = res.effects_table()
    assert list(table["deviation"]) == ["skipped", "out of order", "repeated", "unexpected", "incomplete"]


def test_statistics_against_references():
    from scipy import stats

    x = np.array([1.0, 2, 3, 4, 9])
    y = np.array([2.0, 2.5, 1, 0.5])
    d, lo, hi = _welch(x, y, 0.95)
    ci = stats.ttest_ind(x, y, equal_var=False).confidence_interval(0.95)
    assert d == pytest.approx(2.3) and (lo, hi) == pytest.approx((ci.low, ci.high))
    # Newcombe (1998), table II, example (a): 56/70 - 48/80, method 10
    d, lo, hi = _newcombe(56, 70, 48, 80, 0.95)
    assert d == pytest.approx(0.2) and lo == pytest.approx(0.0524, abs=1e-4) and hi == pytest.approx(0.3339, abs=1e-4)


def test_duration_effect_uses_completed_cases_only():
    traces = [["a", "b", "c", "d"]] * 3 + [["a", "c", "d"]] * 2 + [["a", "c"]] * 2
    res = compare(make_log(traces, step="2h"), journey())
    e = res.effects
    assert e.loc["skipped", "cases"] == 4 and e.loc["skipped", "completed"] == 2
    assert e.loc["skipped", "duration_diff"] == pd.Timedelta("-2h")


# --------------------------------------------------------------------------- properties over logs


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.lists(st.integers(1, 3), min_size=4, max_size=4),
                          st.lists(st.integers(0, 2), min_size=5, max_size=5)), min_size=1, max_size=12))
def test_happy_path_log_conforms_fully(spec):
    traces = []
    for reps, noise in spec:  # every milestone 1-3 times in a row, 0-2 noise events between
        t = []
        for k, m in enumerate(PATH):
            t += ["n"] * noise[k] + [m] * reps[k]
        traces.append(t + ["n"] * noise[4])
    res = compare(make_log(traces), journey())
    assert res.conformance_rate == 1.0
    assert res.mean_fitness == 1.0
    assert len(res.deviations) == 0
    assert (res.path["share_in_order"] == 1).all()


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_shuffling_rows_changes_nothing(seed):
    log = _random_log(seed % 7, n_cases=60)
    df = log.to_pandas()
    shuffled = df.sample(frac=1, random_state=seed).reset_index(drop=True)
    log2 = jl.from_pandas(shuffled, case="case", activity="activity", timestamp="timestamp")
    a, b = compare(log, journey()), compare(log2, journey())
    pd.testing.assert_frame_equal(a.cases, b.cases)
    pd.testing.assert_frame_equal(a.effects, b.effects)


# --------------------------------------------------------------------------- errors


def test_journey_activities_absent_from_log():
    log = make_log([["a", "b", "c", "d"]])
    j = Journey.from_dict({"name": "j", "milestones": [{"name": "A", "activities": ["a"]},
                                                       {"name": "B", "activities": ["bb"]}]})
    with pytest.raises(JourneyDefinitionError, match=r"activity 'bb' \(milestone 'B'\) is not in the log; closest"):
        compare(log, j)
    j2 = Journey.from_dict({"name": "j", "milestones": [{"name": "A", "activities": ["a"]},
                                                        {"name": "Z", "activities": ["zzz_unknown"]}]})
    with pytest.raises(JourneyDefinitionError, match=r"nothing close; the log has 4 activities"):
        compare(log, j2)


def test_absent_optional_milestone_activity_warns():
    log = make_log([["a", "b", "c", "d"]])
    with pytest.warns(DataQualityWarning, match=r"activity 'x' \(milestone 'X'\) is not in the log"):
        res = compare(log, journey())
    assert res.conformance_rate == 1


def test_bad_arguments():
    log = make_log([["a", "b", "c", "d"]])
    with pytest.raises(InvalidParameterError, match="journey must be a journeylab Journey"):
        compare(log, {"name": "j"})
    with pytest.raises(InvalidParameterError, match="log must be a journeylab EventLog"):
        compare(log.to_pandas(), journey())
    with pytest.raises(InvalidParameterError, match=r"confidence=1.5 must be a number between 0 and 1"):
        compare(log, journey(extras=()), confidence=1.5)
    with pytest.raises(InvalidParameterError, match=r"collapse='yes' must be True or False"):
        compare(log, journey(extras=()), collapse="yes")


# --------------------------------------------------------------------------- display


def test_result_display(hand):
    import matplotlib.pyplot as plt

    res = compare(hand, journey())
    assert isinstance(res, Conformance)
    assert repr(res) == ("Conformance: 7 cases vs happy path 'test journey', 28.6% conform, mean cost 1.1, "
                         "mean fitness 0.85")
    html = res._repr_html_()
    assert "happy path: A &gt; B &gt; C &gt; D" in html and "<table" in html
    s = res.summary
    assert s.loc["conformance rate", "value"] == "28.6%" and s.loc["outside the journey", "value"] == "1"
    assert res.to_frame().equals(res.cases) and res.to_frame() is not res.cases
    assert res.params["happy_path"] == ("A", "B", "C", "D")
    for kind in ("path", "deviations", "effects"):
        ax = res.plot(kind=kind)
        assert ax.get_title(loc="left")
        plt.close(ax.figure)
    fig, ax = plt.subplots()
    assert res.plot(ax=ax, kind="effects", metric="goal") is ax
    plt.close(fig)
    with pytest.raises(InvalidParameterError, match="kind='pie' is not a conformance plot"):
        res.plot(kind="pie")
    with pytest.raises(InvalidParameterError, match="metric='cost' is not allowed"):
        res.plot(kind="effects", metric="cost")


def test_no_case_in_journey():
    log = make_log([["a", "n"], ["n"]])
    j = Journey.from_dict({"name": "j", "milestones": [{"name": "A", "activities": ["a"]}]})
    res = compare(log, j)
    assert res.n_cases == 1 and res.n_outside == 1


# --------------------------------------------------------------------------- planted truth


def session_log(sample):
    """The journey sessions of a simulated sample as cases (customer kept as the customer role)."""
    df = sample.log.to_pandas()
    df = df[df["session_id"].notna()].rename(columns={"case": "customer_id"})
    return jl.from_pandas(df, case="session_id", customer="customer_id", activity="activity",
                          timestamp="timestamp", channel="channel", value="value")


def check_planted_deviations(sample, tol=0.005):
    res = compare(session_log(sample), sample.journey)
    truth = sample.truth.sessions.reindex(res.cases.index)
    dev = res.deviations

    def share(kind, milestone=None):
        d = dev[dev["type"] == kind]
        if milestone is not None:
            d = d[d["milestone"] == milestone]
        return d["case"].nunique() / res.n_cases

    for m in ("cart", "checkout"):
        assert share("skipped", m) == pytest.approx((truth["skipped"] == m).mean(), abs=tol)
    assert share("out_of_order") == pytest.approx(truth["out_of_order"].notna().mean(), abs=tol)
    assert share("repeated") == pytest.approx((truth["n_loops"] > 0).mean(), abs=tol)
    for m in ("cart", "checkout"):  # a loop redoes the milestone: it is repeated there
        assert share("repeated", m) >= (truth["loop_at"] == m).mean() - tol
    # completed sessions that follow the happy path without a planted deviation conform
    clean = (truth["completed"] & truth["skipped"].isna() & truth["out_of_order"].isna() & (truth["n_loops"] == 0))
    assert res.cases.loc[clean.to_numpy(), "conforms"].mean() > 0.9
    return res


def test_recovers_planted_deviations_on_a_simulated_sample():
    sample = jl.datasets.make_journeys(3000, random_state=11)
    res = check_planted_deviations(sample)
    assert res.n_outside == 0


def test_recovers_planted_deviations_on_the_bundled_sample():
    try:
        sample = jl.datasets.load_retail()
    except (jl.FileFormatError, FileNotFoundError, AttributeError) as err:
        pytest.skip(f"the bundled retail sample is not available: {err}")
    check_planted_deviations(sample)


def test_progress_bar_option(hand):
    a = compare(hand, journey(), progress=True)
    b = compare(hand, journey(), progress=False)
    pd.testing.assert_frame_equal(a.cases, b.cases)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 6), max_size=12).map(tuple), min_size=1, max_size=40, unique=True),
       st.integers(50, 5000))
def test_batch_alignment_equals_one_by_one(traces, budget):
    from journeylab.conformance import _align_batch, _align_tuple

    path = (0, 1, 2, 3)
    b = _align_batch(traces, path, 7, budget=budget)  # small budgets force many chunks
    for v, trace in enumerate(traces):
        a = _align_tuple(trace, path)
        mine = b.var == v
        got = list(zip([DEVIATION_TYPES[t] for t in b.type[mine]], b.milestone[mine].tolist(),
                       b.position[mine].tolist(), b.dcost[mine].tolist()))
        assert got == [(d.type, d.milestone, d.position, d.cost) for d in a.deviations]
        assert b.cost[v] == a.cost and b.fitness[v] == pytest.approx(a.fitness)


def test_alignment_of_a_variant(hand):
    res = compare(hand, journey())
    row = res.variants.index[res.variants["milestones"] == ("A", "C", "B", "D")][0]
    a = res.alignment(row)
    assert a.moves == (("A", "A"), (None, "B"), ("C", "C"), ("B", None), ("D", "D"))
    assert a.cost == res.variants.loc[row, "cost"]
    with pytest.raises(InvalidParameterError, match=r"variant=99 is not a row of .variants; use 0 .. 5"):
        res.alignment(99)
