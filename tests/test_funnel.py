"""Tests of journeylab.funnel: the funnel rules on hand-computed cases, properties, errors, display."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import journeylab as jl
from journeylab.exceptions import DataQualityWarning, InvalidParameterError, JourneyDefinitionError, SchemaError
from journeylab.funnel import Funnel, funnel
from journeylab.journey import Journey

pytestmark = pytest.mark.filterwarnings("ignore::journeylab.exceptions.DataQualityWarning")

STEPS = ["v", "c", "b"]


def make_log(events, **roles):
    """events: list of (unit, activity, 'YYYY-MM-DD HH:MM'[, extra...]) tuples."""
    cols = ["who", "what", "when", "seg", "cust"][: len(events[0])]
    df = pd.DataFrame(events, columns=cols)
    kw = {}
    if "cust" in cols:
        kw["customer"] = "cust"
    return jl.from_pandas(df, case="who", activity="what", timestamp="when", **kw, **roles)


def reached(f: Funnel) -> list[int]:
    return f.table["reached"].tolist()


# --------------------------------------------------------------------------- the rules, hand-computed


def test_sequential_basic_and_window():
    log = make_log([
        ("a", "v", "2025-01-01 00:00"), ("a", "x", "2025-01-01 01:00"), ("a", "c", "2025-01-02 00:00"),
        ("a", "b", "2025-01-03 00:00"),
        ("b", "v", "2025-01-01 00:00"), ("b", "c", "2025-01-05 00:00"),           # cart outside 3d
        ("c", "c", "2025-01-01 00:00"), ("c", "v", "2025-01-02 00:00"),           # cart before view
        ("d", "x", "2025-01-01 00:00"),                                           # never enters
        ("e", "v", "2025-01-01 00:00"), ("e", "c", "2025-01-04 00:00"),           # exactly 3d: inside
    ])
    f = funnel(log, STEPS, window="3d")
    assert reached(f) == [4, 2, 1]
    assert f.table["conversion"].tolist() == pytest.approx([1.0, 0.5, 0.25])
    assert f.table["step_conversion"].tolist()[1:] == pytest.approx([0.5, 0.5])
    assert f.table["drop_off"].tolist() == [0, 2, 1]
    assert f.table["drop_off_rate"].tolist() == pytest.approx([0.0, 0.5, 0.5])
    # time to reach cart: a 1d, e 3d -> median 2d, p90 2.8d; to buy: a 2d
    assert f.table.loc[1, "time_median"] == pd.Timedelta("2D")
    assert f.table.loc[1, "time_p90"] == pd.Timedelta(hours=67.2)
    assert f.table.loc[2, "time_median"] == pd.Timedelta("2D")
    assert f.table.loc[2, "time_from_previous_median"] == pd.Timedelta("1D")
    assert (f.entered, f.converted, f.conversion) == (4, 1, 0.25)


def test_entry_is_first_occurrence_of_step_one():
    # uniques: the attempt starts at the FIRST view, so the window is counted from there
    log = make_log([("a", "v", "2025-01-01"), ("a", "v", "2025-01-10"), ("a", "c", "2025-01-11"),
                    ("a", "b", "2025-01-12")])
    assert reached(funnel(log, STEPS, window="3d")) == [1, 0, 0]
    assert reached(funnel(log, STEPS, window="14d")) == [1, 1, 1]


def test_strict_order():
    log = make_log([
        ("a", "v", "2025-01-01 00:00"), ("a", "c", "2025-01-01 01:00"), ("a", "b", "2025-01-01 02:00"),
        ("b", "v", "2025-01-01 00:00"), ("b", "x", "2025-01-01 01:00"), ("b", "c", "2025-01-01 02:00"),
        ("c", "v", "2025-01-01 00:00"), ("c", "c", "2025-01-01 01:00"), ("c", "x", "2025-01-01 02:00"),
        ("c", "b", "2025-01-01 03:00"),
    ])
    assert reached(funnel(log, STEPS, order="strict")) == [3, 2, 1]
    assert reached(funnel(log, STEPS, order="sequential")) == [3, 3, 2]


def test_any_order():
    log = make_log([
        ("a", "v", "2025-01-01 00:00"), ("a", "b", "2025-01-01 01:00"), ("a", "c", "2025-01-01 02:00"),
        ("b", "v", "2025-01-01 00:00"), ("b", "b", "2025-01-01 01:00"),             # no cart: stops at v
        ("c", "c", "2025-01-01 00:00"), ("c", "v", "2025-01-01 01:00"),             # cart before entry
    ])
    assert reached(funnel(log, STEPS, order="any")) == [3, 1, 1]
    assert reached(funnel(log, STEPS, order="sequential")) == [3, 1, 0]


def test_exclude_voids_the_attempt():
    log = make_log([
        ("a", "v", "2025-01-01 00:00"), ("a", "q", "2025-01-01 01:00"), ("a", "c", "2025-01-01 02:00"),
        ("b", "v", "2025-01-01 00:00"), ("b", "c", "2025-01-01 01:00"), ("b", "q", "2025-01-01 02:00"),
        ("c", "v", "2025-01-01 00:00"), ("c", "c", "2025-01-01 01:00"), ("c", "b", "2025-01-01 02:00"),
    ])
    f = funnel(log, STEPS, exclude="q")
    # a: q between v and c -> void; b: q after the last step reached -> counted
    assert reached(f) == [2, 2, 1]
    assert f.void == 1
    assert f.attempts.set_index("unit")["void"].to_dict() == {"a": True, "b": False, "c": False}
    assert reached(funnel(log, STEPS, exclude=["q"], order="any")) == [2, 2, 1]


def test_totals_re_enter_after_converting_failing_or_void():
    log = make_log([
        ("a", "v", "2025-01-01"), ("a", "c", "2025-01-02"), ("a", "b", "2025-01-03"),   # converts
        ("a", "v", "2025-01-04"), ("a", "v", "2025-01-05"),                             # fails (one attempt)
        ("a", "v", "2025-01-09"), ("a", "c", "2025-01-10"),                             # after the window
        ("a", "v", "2025-01-20"), ("a", "q", "2025-01-21"), ("a", "c", "2025-01-22"),   # void
        ("a", "v", "2025-01-23"),                                                       # after the exclude
    ])
    uniques = funnel(log, STEPS, window="3d", exclude="q")
    totals = funnel(log, STEPS, window="3d", exclude="q", count="totals")
    assert reached(uniques) == [1, 1, 1]
    assert reached(totals) == [4, 2, 1]
    assert totals.void == 1
    assert totals.attempts["attempt"].tolist() == [1, 2, 3, 4, 5]
    assert totals.attempts["entered"].dt.strftime("%m-%d").tolist() == ["01-01", "01-04", "01-09", "01-20", "01-23"]


def test_sessions_count_once_per_session():
    log = make_log([
        ("s1", "v", "2025-01-01", "web", "k1"), ("s1", "c", "2025-01-01 01:00", "web", "k1"),
        ("s2", "v", "2025-01-05", "app", "k1"), ("s2", "c", "2025-01-05 01:00", "app", "k1"),
        ("s2", "b", "2025-01-05 02:00", "app", "k1"),
        ("s3", "v", "2025-01-01", "web", "k2"),
    ])
    assert reached(funnel(log, STEPS, count="sessions")) == [3, 2, 1]
    # uniques: per customer (k1 enters at its first view, in s1, and converts in s2 within 14d)
    assert reached(funnel(log, STEPS, count="uniques")) == [2, 1, 1]
    assert reached(funnel(log, STEPS, count="uniques", window="2d")) == [2, 1, 0]
    assert funnel(log, STEPS, count="uniques").params["unit"] == "customer"


def test_sessions_need_a_customer_role():
    log = make_log([("a", "v", "2025-01-01"), ("a", "c", "2025-01-02")])
    with pytest.raises(InvalidParameterError, match=r"count='sessions' counts journey sessions, but this log has no cu"):
        funnel(log, STEPS, count="sessions")


def test_breakdown_value_from_first_step():
    log = make_log([
        ("a", "v", "2025-01-01 00:00", "web"), ("a", "c", "2025-01-01 01:00", "app"),
        ("b", "v", "2025-01-01 00:00", "app"),
        ("c", "v", "2025-01-01 00:00", "web"), ("c", "c", "2025-01-01 01:00", "web"),
        ("c", "b", "2025-01-01 02:00", "web"),
        ("d", "v", "2025-01-01 00:00", None),
    ])
    f = funnel(log, STEPS, by="seg")
    b = f.breakdown
    assert b.loc[("web", "v"), "reached"] == 2 and b.loc[("web", "c"), "reached"] == 2
    assert b.loc[("web", "b"), "reached"] == 1
    assert b.loc[("app", "v"), "reached"] == 1 and b.loc[("app", "c"), "reached"] == 0
    assert b.loc[("(missing)", "v"), "reached"] == 1
    assert list(b.index.get_level_values(0).unique()) == ["web", "app", "(missing)"]
    frame = f.to_frame()
    assert set(frame["segment"]) == {"(all)", "web", "app", "(missing)"}


def test_journey_steps_with_conditions():
    log = jl.from_pandas(pd.DataFrame({
        "who": ["a", "a", "a", "b", "b", "b"], "what": ["v", "c", "pay"] * 2,
        "when": pd.date_range("2025-01-01", periods=6, freq="h"), "amount": [0, 0, 80, 0, 0, 10]}),
        case="who", activity="what", timestamp="when")
    j = Journey.from_dict({"name": "j", "milestones": [
        {"name": "visit", "activities": ["v"]}, {"name": "cart", "activities": ["c"]},
        {"name": "paid", "activities": ["pay"], "when": "amount > 50"},
        {"name": "complaint", "activities": ["v"], "kind": "negative", "optional": True}]})
    f = funnel(log, j)
    assert f.steps == ("visit", "cart", "paid")
    assert reached(f) == [2, 2, 1]


def test_repeated_step_labels():
    log = make_log([("a", "v", "2025-01-01 00:00"), ("a", "v", "2025-01-01 01:00"), ("b", "v", "2025-01-01")])
    f = funnel(log, ["v", "v"])
    assert reached(f) == [2, 1]
    assert list(f.attempts.columns[-2:]) == ["v", "v (2)"]


# --------------------------------------------------------------------------- properties

acts = st.sampled_from(["v", "c", "b", "x", "y"])
events = st.lists(st.tuples(st.sampled_from(["u1", "u2", "u3", "u4"]), acts, st.integers(0, 40)), min_size=1,
                  max_size=40)


def _log(evs):
    evs = [("u0", a, 0) for a in STEPS] + list(evs)  # every step activity occurs
    df = pd.DataFrame(evs, columns=["who", "what", "h"])
    df["when"] = pd.Timestamp("2025-01-01") + pd.to_timedelta(df["h"] * 6, unit="h")
    return jl.from_pandas(df.drop(columns="h"), case="who", activity="what", timestamp="when")


@settings(max_examples=120, deadline=None)
@given(events, st.sampled_from(["sequential", "strict", "any"]), st.sampled_from(["uniques", "totals"]),
       st.sampled_from(["1D", "3D", "10D"]))
def test_funnels_never_increase_and_uniques_le_totals(evs, order, count, window):
    log = _log(evs)
    f = funnel(log, STEPS, window=window, order=order, count=count)
    r = np.array(reached(f))
    assert (np.diff(r) <= 0).all()
    u = funnel(log, STEPS, window=window, order=order, count="uniques")
    t = funnel(log, STEPS, window=window, order=order, count="totals")
    assert (np.array(reached(u)) <= np.array(reached(t))).all()
    assert u.entered <= log.n_cases


@settings(max_examples=120, deadline=None)
@given(events, st.lists(st.tuples(st.sampled_from(["u1", "u2", "u3", "u4"]), st.integers(0, 40)), max_size=30),
       st.sampled_from(["uniques", "totals"]))
def test_unrelated_events_change_nothing_with_sequential(evs, noise, count):
    base = funnel(_log(evs), STEPS, count=count)
    noisy = funnel(_log(evs + [(u, "zzz", h) for u, h in noise]), STEPS, count=count)
    assert reached(base) == reached(noisy)
    pd.testing.assert_frame_equal(base.table, noisy.table)


# --------------------------------------------------------------------------- errors


@pytest.fixture
def log():
    return make_log([("a", "v", "2025-01-01"), ("a", "c", "2025-01-02"), ("a", "b", "2025-01-03")])


def test_window_errors(log):
    with pytest.raises(InvalidParameterError, match=r"window=14 is a bare number"):
        funnel(log, STEPS, window=14)
    with pytest.raises(InvalidParameterError, match=r"window='two weeks' is not a duration"):
        funnel(log, STEPS, window="two weeks")


def test_steps_errors(log):
    with pytest.raises(InvalidParameterError, match=r"steps=\['v'\] has 1 entry; a funnel needs at least two"):
        funnel(log, ["v"])
    with pytest.raises(InvalidParameterError, match=r"has 0 entries"):
        funnel(log, [])
    with pytest.raises(InvalidParameterError, match=r"must be a list of at least two activities"):
        funnel(log, "v")
    with pytest.raises(InvalidParameterError, match=r"'vv': closest \['v'\]"):
        funnel(log, ["vv", "c"])
    with pytest.raises(InvalidParameterError, match=r"'zzz': closest none"):
        funnel(log, ["zzz", "c"])
    with pytest.warns(DataQualityWarning, match=r"steps \['zzz'\] never occur in the log"):
        assert reached(funnel(log, ["v", "zzz"])) == [1, 0]
    one = Journey.from_dict({"name": "j", "milestones": [{"name": "A", "activities": ["v"]}]})
    with pytest.raises(InvalidParameterError, match=r"1 milestone on its happy path; a funnel needs at least two"):
        funnel(log, one)
    bad = Journey.from_dict({"name": "j", "milestones": [{"name": "A", "activities": ["vv"]},
                                                         {"name": "B", "activities": ["c"]}]})
    with pytest.raises(JourneyDefinitionError, match=r"activity 'vv' \(milestone 'A'\) is not in the log; closest: 'v'"):
        funnel(log, bad)


def test_exclude_errors(log):
    with pytest.raises(InvalidParameterError, match=r"exclude='v' is also first or last step"):
        funnel(log, STEPS, exclude="v")
    with pytest.raises(InvalidParameterError, match=r"exclude='b' is also first or last step"):
        funnel(log, STEPS, exclude=["b"])
    with pytest.raises(InvalidParameterError, match=r"exclude='c' is also a step"):
        funnel(log, STEPS, exclude="c")
    with pytest.raises(InvalidParameterError, match=r"exclude names activities that are not in the log: 'qq'"):
        funnel(log, STEPS, exclude="qq")


def test_other_errors(log):
    with pytest.raises(InvalidParameterError, match=r"order='loose' is not allowed"):
        funnel(log, STEPS, order="loose")
    with pytest.raises(InvalidParameterError, match=r"count='users' is not allowed"):
        funnel(log, STEPS, count="users")
    with pytest.raises(SchemaError, match=r"by='segmnt' is not a column of the log"):
        funnel(log, STEPS, by="segmnt")
    with pytest.raises(InvalidParameterError, match="log must be a journeylab EventLog"):
        funnel(log.to_pandas(), STEPS)
    with pytest.raises(InvalidParameterError, match=r"got a pandas DataFrame: wrap it with jl.from_pandas"):
        funnel(log.to_pandas(), STEPS)
    with pytest.raises(InvalidParameterError, match=r"exclude=\[1\] must be a name or a list of names, e.g. exclude=\['cancel'\]"):
        funnel(log, STEPS, exclude=[1])
    with pytest.raises(InvalidParameterError, match=r"by=3 must be a non-empty text"):
        funnel(log, STEPS, by=3)
    with pytest.raises(InvalidParameterError, match=r"progress='no' must be True or False"):
        funnel(log, STEPS, progress="no")
    assert reached(funnel(log, STEPS, exclude=[])) == reached(funnel(log, STEPS))


def test_missing_step_warning_points_at_the_caller(log):
    with pytest.warns(DataQualityWarning) as caught:
        funnel(log, ["v", "zzz"])
    assert caught[0].filename == __file__


def test_doctests():
    import doctest
    import importlib

    for name in ("journeylab.funnel", "journeylab._report.happy_path"):
        res = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        assert res.attempted > 0 and res.failed == 0, name


# --------------------------------------------------------------------------- display


def test_display(log):
    import matplotlib.pyplot as plt

    f = funnel(log, STEPS, window="2d")
    assert repr(f) == "Funnel: v > c > b, 1 entered, 100.0% converted within 2d (sequential uniques)".replace(
        "(sequential uniques)", "(uniques, sequential)")
    assert "<table" in f._repr_html_()
    s = f.summary
    assert s.loc["conversion", "value"] == "100.0%" and s.loc["window", "value"] == "2d"
    assert f.params["window"] == pd.Timedelta("2D")
    for rel in (False, True):
        ax = f.plot(relative=rel)
        assert ax.get_title(loc="left").startswith("Funnel: 1 entered")
        plt.close(ax.figure)
    seg = make_log([("a", "v", "2025-01-01", "web"), ("a", "c", "2025-01-02", "web")])
    ax = funnel(seg, ["v", "c"], by="seg").plot(relative=True)
    assert ax.get_legend() is not None
    plt.close(ax.figure)


def test_explorer():
    from journeylab.widgets.happy_path import HappyPathExplorer, happy_path_explorer

    log = make_log([("a", "v", "2025-01-01", "web"), ("a", "c", "2025-01-02", "web"),
                    ("a", "b", "2025-01-20", "web"), ("b", "v", "2025-01-01", "app")])
    j = Journey.from_dict({"name": "j", "milestones": [{"name": n, "activities": [n]} for n in STEPS]})
    ex = happy_path_explorer(log, j)
    assert isinstance(ex, HappyPathExplorer)
    assert reached(ex.result) == [2, 1, 0]
    ex.window.value = "30d"
    assert reached(ex.result) == [2, 1, 1]
    ex.by.value = "seg"
    assert ex.params["by"] == "seg" and ex.result.breakdown is not None
    again = funnel(log, **ex.params)
    pd.testing.assert_frame_equal(again.table, ex.result.table)
    ex.milestones.value = ("v",)
    assert ex.result is None and "at least two steps" in ex.error
    ex.milestones.value = ("v", "c")
    ex.window.value = "abc"
    assert ex.result is None and "not a duration" in ex.error


def test_report_sections_escape_and_embed_figures():
    from journeylab._report.happy_path import happy_path_report

    log = make_log([("a", "v", "2025-01-01"), ("a", "c", "2025-01-02"), ("a", "b", "2025-01-03"),
                    ("b", "v", "2025-01-01"), ("b", "c", "2025-01-02")])
    j = Journey.from_dict({"name": "<b>j</b>", "milestones": [
        {"name": "<i>view</i>", "activities": ["v"]}, {"name": "cart", "activities": ["c"]},
        {"name": "buy", "activities": ["b"]}]})
    sections = happy_path_report(log, j)
    assert [t for t, _ in sections] == ["Comparison with the happy path", "Milestone funnel",
                                        "Milestones: stalls, fallout and attrition"]
    body = "".join(b for _, b in sections)
    assert "<i>view</i>" not in body and "&lt;i&gt;view&lt;/i&gt;" in body and "&lt;b&gt;j&lt;/b&gt;" in body
    assert body.count('src="data:image/png;base64,') == 5


def test_progress_bar_option(log):
    assert reached(funnel(log, STEPS, progress=True)) == reached(funnel(log, STEPS, progress=False))


def test_breakdown_with_a_repeated_step_and_a_real_missing_value():
    # v > c > v: the first step repeats; the breakdown used to order its segments by every row of step 'v'
    # (two per segment) and pandas refused the duplicate categories
    log = make_log([
        ("a", "v", "2025-01-01 00:00", "web"), ("a", "c", "2025-01-01 01:00", "web"),
        ("a", "v", "2025-01-01 02:00", "web"),
        ("b", "v", "2025-01-01 00:00", "app"),
        ("c", "v", "2025-01-01 00:00", "(missing)"), ("c", "c", "2025-01-01 00:30", "web"),
        ("d", "v", "2025-01-01 00:00", None),
    ])
    f = funnel(log, ["v", "c", "v"], by="seg")
    b = f.breakdown
    assert list(b.index.get_level_values(0).unique()) == ["web", "app", "(missing)", "((missing))"]
    assert b.loc["web", "reached"].tolist() == [1, 1, 1]
    assert b.loc["(missing)", "reached"].tolist() == [1, 1, 0]  # the real value ...
    assert b.loc["((missing))", "reached"].tolist() == [1, 0, 0]  # ... is never merged with the missing one


def test_a_breakdown_by_an_identifier_is_refused_with_advice():
    sample = jl.datasets.make_journeys(800, random_state=4)
    log, journey = sample.log, sample.journey
    for ident in ("cookie_id", "session_id"):
        with pytest.raises(jl.InvalidParameterError, match=rf"by='{ident}' has [\d,]+ distinct values for 800 cases.*"
                                                           r"Pick a column with few values"):
            jl.funnel(log, journey, by=ident)
    by_channel = jl.funnel(log, journey, by="channel")
    assert by_channel.breakdown is not None and by_channel.breakdown.index.get_level_values(0).nunique() > 1
