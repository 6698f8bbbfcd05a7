"""Tests of journeylab.milestones: reached / at / stalled / fallout / attrition, Kaplan-Meier times."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import journeylab as jl
from journeylab.exceptions import InvalidParameterError, JourneyDefinitionError
from journeylab.journey import Journey
from journeylab.milestones import Milestones, milestones

pytestmark = pytest.mark.filterwarnings("ignore::journeylab.exceptions.DataQualityWarning")

T0 = pd.Timestamp("2025-01-01", tz="UTC")
AS_OF = "2025-01-11"  # day 10


def d(days: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(hours=24 * days)


EVENTS = [
    ("c1", "a", d(0)), ("c1", "b", d(1 / 24)), ("c1", "c", d(2 / 24)),     # completed
    ("c2", "a", d(0)), ("c2", "b", d(1)),                                    # lost at B
    ("c3", "a", d(0)), ("c3", "b", d(8.5)),                                  # in progress at B
    ("c4", "a", d(0)), ("c4", "b", d(5)), ("c4", "n", d(7)), ("c4", "b", d(9)),  # stalled now at B
    ("c5", "a", d(0)), ("c5", "c", d(1)),                                    # fallout at A (skip), completed
    ("c6", "a", d(0)), ("c6", "x", d(1)),                                    # fallout at A (negative), lost
    ("c7", "b", d(0)), ("c7", "c", d(1)),                                    # entered off the path
    ("c8", "a", d(0)), ("c8", "b", d(1)), ("c8", "a", d(2)),                 # fallout at B (back), lost
    ("c9", "a", d(11)),                                                      # after as_of: not there yet
    ("c0", "n", d(0)),                                                       # never in the journey
]


@pytest.fixture
def log():
    df = pd.DataFrame(EVENTS, columns=["who", "what", "when"])
    return jl.from_pandas(df, case="who", activity="what", timestamp="when")


@pytest.fixture
def journey():
    return Journey.from_dict({"name": "j", "stall_after": {"B": "2d"}, "milestones": [
        {"name": "A", "activities": ["a"]}, {"name": "B", "activities": ["b"]}, {"name": "C", "activities": ["c"]},
        {"name": "X", "activities": ["x"], "kind": "negative", "optional": True},
        {"name": "O", "activities": ["o"], "optional": True}]})


def test_table_hand_computed(log, journey):
    m = milestones(log, journey, as_of=AS_OF)
    t = m.table
    assert list(t.index) == ["A", "B", "C", "X", "O"]
    assert t["reached"].tolist() == [7, 6, 3, 1, 0]
    assert t["at"].tolist() == [1, 3, 3, 1, 0]
    assert t["attrition"].tolist() == [1, 2, 0, 0, 0]
    assert t["fallout"].tolist() == [2, 1, 0, 0, 0]
    assert t["stalled"].tolist() == [1, 1, 0, 0, 0]
    assert t["stalled_now"].tolist() == [0, 1, 0, 0, 0]
    assert t["in_progress"].tolist() == [0, 1, 0, 0, 0]
    assert t["on_path"].tolist()[:3] == [0, 1, 2] and t["on_path"].isna().tolist()[3:] == [True, True]
    assert t.loc["B", "stall_threshold"] == pd.Timedelta("2D") and t.loc["B", "threshold_source"] == "journey"
    # A: p90 of the stays of the visits that moved on (1h, 1d x4, 5d, 8.5d) = 153.6h
    assert t.loc["A", "stall_threshold"] == pd.Timedelta(hours=153.6) and t.loc["A", "threshold_source"] == "p90"
    assert pd.isna(t.loc["C", "stall_threshold"]) and t.loc["C", "threshold_source"] == "final"
    assert pd.isna(t.loc["O", "stall_threshold"]) and t.loc["O", "threshold_source"] == "-"
    assert t.loc["B", "attrition_share"] == pytest.approx(2 / 6)
    assert m.off_path_entries == 1


def test_cases_hand_computed(log, journey):
    m = milestones(log, journey, as_of=AS_OF)
    c = m.cases
    assert list(c.index) == ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8"]
    assert c["state"].to_dict() == {"c1": "completed", "c2": "lost", "c3": "in progress", "c4": "stalled",
                                    "c5": "completed", "c6": "lost", "c7": "completed", "c8": "lost"}
    assert c["current"].to_dict()["c8"] == "A" and c.loc["c8", "furthest"] == "B"
    assert c.loc["c8", "attrition_at"] == "B" and c.loc["c6", "attrition_at"] == "A"
    assert c.loc["c5", "fallout_at"] == "A" and c.loc["c5", "fallout_to"] == "C"
    assert c.loc["c6", "fallout_to"] == "X" and c.loc["c8", "fallout_to"] == "A"
    assert c["fallout_at"].isna().sum() == 5
    assert c.loc["c4", "time_at"] == pd.Timedelta("5D") and c.loc["c4", "inactive"] == pd.Timedelta("1D")
    assert c.loc["c4", "arrived"] == d(5)


def test_lost_after(log, journey):
    m = milestones(log, journey, as_of=AS_OF, lost_after="30d")
    assert m.cases["state"].to_dict() == {"c1": "completed", "c2": "stalled", "c3": "in progress", "c4": "stalled",
                                          "c5": "completed", "c6": "in progress", "c7": "completed", "c8": "stalled"}
    assert m.table["attrition"].sum() == 0
    assert m.params["lost_after"] == pd.Timedelta("30D")


def test_as_of_default_is_last_event(log, journey):
    m = milestones(log, journey)
    assert m.as_of == d(11)
    assert "c9" in m.cases.index and m.cases.loc["c9", "state"] == "in progress"


def test_kaplan_meier_against_lifelines(log, journey):
    from lifelines import KaplanMeierFitter

    m = milestones(log, journey, as_of=AS_OF)
    tr = m.transitions.set_index(["from", "to"])
    assert tr.loc[("A", "B"), ["cases", "reached", "censored"]].tolist() == [7, 5, 2]
    assert tr.loc[("B", "C"), ["cases", "reached", "censored"]].tolist() == [6, 2, 4]
    # A -> B by hand: c1 1h, c2 24h, c3 204h, c4 120h, c8 24h; c5, c6 censored at 240h
    kmf = KaplanMeierFitter().fit([1, 24, 204, 120, 240, 240, 24], [1, 1, 1, 1, 0, 0, 1])
    assert tr.loc[("A", "B"), "median"] == pd.Timedelta(hours=kmf.median_survival_time_)
    curve = m.curves[m.curves["transition"] == "A > B"]
    assert curve["reached"].to_numpy() == pytest.approx(1 - kmf.survival_function_.iloc[:, 0].to_numpy())
    assert (curve["low"] <= curve["reached"] + 1e-12).all() and (curve["reached"] <= curve["high"] + 1e-12).all()
    # B -> C: c1 1h, c7 24h; censored c2 216h, c3 36h, c4 120h, c8 216h -> never falls to 0.5
    assert pd.isna(tr.loc[("B", "C"), "median"])


def test_case_that_completed_and_followed_the_path_is_clean(journey):
    df = pd.DataFrame({"who": ["k"] * 3, "what": ["a", "b", "c"],
                       "when": pd.date_range("2025-01-01", periods=3, freq="h")})
    m = milestones(jl.from_pandas(df, case="who", activity="what", timestamp="when"), journey)
    assert m.cases.loc["k", "state"] == "completed"
    assert m.table[["fallout", "attrition", "stalled"]].to_numpy().sum() == 0


def test_errors(log, journey):
    with pytest.raises(InvalidParameterError, match=r"as_of='someday' is not a date"):
        milestones(log, journey, as_of="someday")
    with pytest.raises(InvalidParameterError, match=r"as_of='2020-01-01' is before the first event of the log"):
        milestones(log, journey, as_of="2020-01-01")
    with pytest.raises(InvalidParameterError, match=r"lost_after=5 is a bare number"):
        milestones(log, journey, lost_after=5)
    with pytest.raises(InvalidParameterError, match=r"confidence=0 must be a number between 0 and 1"):
        milestones(log, journey, confidence=0)
    bad = Journey.from_dict({"name": "j", "milestones": [{"name": "A", "activities": ["aa"]}]})
    with pytest.raises(JourneyDefinitionError, match=r"activity 'aa' \(milestone 'A'\) is not in the log; closest: 'a'"):
        milestones(log, bad)
    with pytest.raises(InvalidParameterError, match=r"got a pandas DataFrame: wrap it with jl.from_pandas"):
        milestones(log.to_pandas(), journey)
    with pytest.raises(InvalidParameterError, match=r"journey must be a journeylab Journey, got a dict: build it with"):
        milestones(log, {"name": "j"})


def test_doctests():
    import doctest
    import importlib

    for name in ("journeylab.milestones", "journeylab._kernels.visits", "journeylab._core.stats"):
        res = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        assert res.attempted > 0 and res.failed == 0, name


def test_display(log, journey):
    import matplotlib.pyplot as plt

    m = milestones(log, journey, as_of=AS_OF)
    assert isinstance(m, Milestones)
    assert repr(m) == "Milestones 'j' as of 2025-01-11: 8 cases, 3 completed, 1 stalled now, 3 lost, 3 fell out"
    assert "<table" in m._repr_html_() and "Kaplan-Meier" in m._repr_html_()
    s = m.summary
    assert s.loc["lost (attrition)", "value"] == "3" and s.loc["entered off the happy path", "value"] == "1"
    assert m.to_frame().equals(m.table)
    for kind, kw in (("health", {}), ("times", {}), ("times", {"scale": "linear", "max_time": "12D"})):
        ax = m.plot(kind=kind, **kw)
        assert ax.get_title(loc="left")
        plt.close(ax.figure)
    with pytest.raises(InvalidParameterError, match="kind='bars' is not a milestones plot"):
        m.plot(kind="bars")
    with pytest.raises(InvalidParameterError, match="scale='sqrt' is not allowed"):
        m.plot(kind="times", scale="sqrt")


def test_shuffled_input_same_result(log, journey):
    df = log.to_pandas().sample(frac=1, random_state=3)
    other = jl.from_pandas(df, case="case", activity="activity", timestamp="timestamp")
    a, b = milestones(log, journey, as_of=AS_OF), milestones(other, journey, as_of=AS_OF)
    pd.testing.assert_frame_equal(a.table, b.table)
    pd.testing.assert_frame_equal(a.cases, b.cases)
    assert np.allclose(a.curves["reached"], b.curves["reached"])


def test_event_codes_follow_journey_milestone_of():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from journeylab._kernels.visits import event_codes

    j = Journey.from_dict({"name": "j", "milestones": [
        {"name": "small", "activities": ["pay"], "when": "amount <= 50"},
        {"name": "view", "activities": ["v", "s"]},
        {"name": "big", "activities": ["pay", "v"], "when": "amount > 10"},
        {"name": "any_pay", "activities": ["pay"]},
        {"name": "x", "activities": ["x"], "kind": "negative", "optional": True}]})

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.tuples(st.sampled_from(["pay", "v", "s", "x", "n"]),
                              st.one_of(st.none(), st.integers(0, 100))), min_size=1, max_size=30))
    def check(rows):
        df = pd.DataFrame({"activity": pd.array([a for a, _ in rows], dtype="str"),
                           "amount": pd.array([v for _, v in rows], dtype="Int64")})
        expected = j.milestone_of(df).cat.codes.to_numpy()
        assert (event_codes(df, j) == expected).all()
        obj = df.astype({"activity": object})
        assert (event_codes(obj, j) == expected).all()

    check()


# --------------------------------------------------------------------------- planted truth


def check_planted_abandonment(sample, tol=0.02):
    df = sample.log.to_pandas()
    df = df[df["session_id"].notna()].rename(columns={"case": "customer_id"})
    log = jl.from_pandas(df, case="session_id", customer="customer_id", activity="activity",
                         timestamp="timestamp", channel="channel", value="value")
    m = milestones(log, sample.journey)
    truth = sample.truth.sessions.reindex(m.cases.index)
    planted = truth["abandoned_at"].astype(object).value_counts() / m.table["reached"]
    params = sample.truth.params
    for name in ("explore", "cart", "checkout", "purchase"):
        assert m.table.loc[name, "attrition_share"] == pytest.approx(planted[name], abs=tol), name
        wanted = params["abandonment"][name] if isinstance(params, dict) else params.abandonment[name]
        assert m.table.loc[name, "attrition_share"] == pytest.approx(wanted, abs=0.04), name
    # who was lost where: agreement session by session
    same = truth["abandoned_at"].astype(object).fillna("-") == m.cases["attrition_at"].fillna("-")
    assert same.mean() > 0.97
    # planted stalls at cart / checkout are found there
    for name in ("cart", "checkout"):
        stalled_truth = int(truth[f"stalled_{name}"].sum())
        assert m.table.loc[name, "stalled"] == pytest.approx(stalled_truth, rel=0.25, abs=10)
    return m


def test_recovers_planted_abandonment_on_a_simulated_sample():
    check_planted_abandonment(jl.datasets.make_journeys(3000, random_state=11))


def test_recovers_planted_abandonment_on_the_bundled_sample():
    try:
        sample = jl.datasets.load_retail()
    except (jl.FileFormatError, FileNotFoundError, AttributeError) as err:
        pytest.skip(f"the bundled retail sample is not available: {err}")
    check_planted_abandonment(sample)


def test_stalled_at_per_case(log, journey):
    m = milestones(log, journey, as_of=AS_OF)
    assert m.cases["stalled_at"].to_dict() == {"c1": (), "c2": (), "c3": ("A",), "c4": ("B",), "c5": (), "c6": (),
                                               "c7": (), "c8": ()}
    counts = pd.Series([x for t in m.cases["stalled_at"] for x in t]).value_counts()
    assert counts.reindex(m.table.index, fill_value=0).tolist() == m.table["stalled"].tolist()


def test_stalled_at_by_bit_masks_equals_one_case_at_a_time():
    """The per-case tuples of stalled milestones from bit masks (shared tuples per distinct set) equal the
    case-by-case grouping the masks replaced (kept for journeys with more than 62 milestones)."""
    import sys

    m = sys.modules["journeylab.milestones"]
    rng = np.random.default_rng(5)
    names = [f"m{i}" for i in range(7)]
    case_of = rng.integers(0, 300, 900)
    code = rng.integers(0, len(names), 900)
    fast = m._stalled_at(case_of, code, 400, names)
    many = names + [f"x{i}" for i in range(60)]  # 67 names: the one-case-at-a-time path
    slow = m._stalled_at(case_of, code, 400, many)
    want = [tuple(n for k, n in enumerate(names) if k in set(code[case_of == c].tolist())) for c in range(400)]
    assert fast.tolist() == slow.tolist() == want
    assert sum(t == () for t in want) > 0 and max(len(t) for t in want) >= 3
