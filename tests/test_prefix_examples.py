"""The examples of jl.predict at every cut-off at once (``_kernels/prefix_examples.py``) equal the per-cut-off
reference (``features_at`` + ``labels_at``): features, states and labels, cut-off by cut-off, on the simulator
and on a hand-made log whose answers are computed by hand.

Cheap: 250 simulated customers over 120 days (about 14 cut-offs), one hand-made log of six customers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import journeylab as jl
from journeylab._kernels import prefix_examples as E
from journeylab._kernels import prefixes as P
from journeylab._kernels.entries import follow
from journeylab.predictions import _cutoffs

STATE = ["in_journey", "entries", "entered_at", "milestone", "milestone_at", "stalled_for", "stalled", "goal_reached",
         "last_activity", "last_event_at", "since_last_event"]


def _assert_equal_to_reference(pl, journey, cuts, horizon, timeout):
    """Every cut-off: the new builder's rows of that cut-off equal features_at / labels_at there (exactly: the
    float hours are computed as the reference computes them; counts are float32 in the new builder)."""
    ex = E.examples(pl, journey, cuts, timeout=timeout)
    labels = {t: E.examples_labels(pl, journey, ex, horizon, t) for t in P.TARGETS}
    assert np.all(np.diff(ex.key) >= 0)
    for i, c in enumerate(cuts):
        X, st_ = P.features_at(pl, journey, c, timeout=timeout)
        sel = ex.key == i
        pd.testing.assert_frame_equal(ex.X[sel], X, check_dtype=False, check_exact=True)
        pd.testing.assert_frame_equal(ex.state[sel], st_[STATE], check_dtype=False)
        for t in P.TARGETS:
            np.testing.assert_array_equal(labels[t][sel], P.labels_at(pl, journey, c, horizon, t, st_), err_msg=f"{t} at {c}")
    return ex, labels


@pytest.fixture(scope="module")
def sim():
    return jl.datasets.make_journeys(250, days=120, random_state=5, p_stall=0.5, p_late_purchase=0.6, reentry=1.5)


@pytest.mark.parametrize("timeout", [pd.Timedelta(days=30), None], ids=["timeout-30d", "no-timeout"])
def test_every_cutoff_equals_the_per_cutoff_reference_on_the_simulator(sim, timeout):
    pl = P.journey_log(sim.log, sim.journey)
    horizon = pd.Timedelta(days=7)
    cuts = _cutoffs(pl.start, pl.end, horizon, pd.Timedelta(days=7))
    assert len(cuts) >= 10
    ex, labels = _assert_equal_to_reference(pl, sim.journey, cuts, horizon, timeout)
    # the log exercises what the lookups must get right: re-entries (after time-outs: without a timeout
    # nobody who re-entered is in flight here), stalls, surveys and attributes so far, several channels,
    # time-outs (with a timeout), both labels
    assert (ex.state["entries"] > 1).any() == (timeout is not None) and ex.state["stalled"].any()
    assert ex.X["surveys:nps"].notna().any() and ex.X["surveys:nps"].isna().any()
    assert ex.X["surveys:session.csat"].notna().any()
    assert (ex.X["channels:n_channels"] > 1).any() and (ex.X["deviations:rework"] > 0).any()
    assert 0 < labels["goal"].mean() < 1 and len(ex.X) > 500
    left = follow(pl.log, sim.journey, as_of=cuts[-1], milestones=None, columns=None, timeout=timeout).entries["left"]
    assert ("timed_out" in set(left)) == (timeout is not None)
    # the customers scored at as_of (its events included): as features_at(strict=False), at the end of the log
    # and at a date with events on it
    for as_of in (pl.end, pl.log._frame()["timestamp"].iloc[len(pl.log._frame()) // 2]):
        now = E.examples(pl, sim.journey, [as_of], timeout=timeout, strict=False)
        X, st_ = P.features_at(pl, sim.journey, as_of, strict=False, timeout=timeout)
        pd.testing.assert_frame_equal(now.X, X, check_dtype=False, check_exact=True)
        pd.testing.assert_frame_equal(now.state, st_[STATE], check_dtype=False)


# --------------------------------------------------------------------------- a hand-made log

D = lambda s: pd.Timestamp(f"2025-01-{s}", tz="UTC")  # noqa: E731


@pytest.fixture(scope="module")
def hand():
    """Seven customers (views at 01-01 10:00 enter; delivered exits; a purchase is the goal; time-out 5 days):
    A purchases exactly at the cut-off 01-04 00:00, B 1 us before it, C 1 us after it; D exits on 01-02 and
    comes back on 01-06; E is never seen again (times out on 01-06 10:00); F exits exactly at the cut-off
    01-03 00:00; H exits on 01-01 and comes back on 01-02 by a visit, an entry that is no milestone."""
    rows = [("A", "view", "01 10:00", "web", None), ("A", "cart", "02 10:00", "app", 9),
            ("A", "purchase", "04 00:00", "web", None), ("A", "delivered", "05 10:00", None, None),
            ("B", "view", "01 10:00", "web", None), ("B", "purchase", "03 23:59:59.999999", "web", None),
            ("C", "view", "01 10:00", "store", 3), ("C", "purchase", "04 00:00:00.000001", "web", None),
            ("D", "view", "01 10:00", "web", None), ("D", "delivered", "02 12:00", "web", None),
            ("D", "view", "06 10:00", "app", None), ("D", "cart", "06 11:00", "app", None),
            ("E", "view", "01 10:00", "web", None),
            ("F", "view", "01 10:00", "web", 7), ("F", "delivered", "03 00:00", "web", None),
            ("H", "view", "01 10:00", "web", None), ("H", "delivered", "01 12:00", "web", None),
            ("H", "visit", "02 10:00", "web", None), ("G", "other", "09 00:00", "web", None)]
    df = pd.DataFrame(rows, columns=["who", "what", "when", "channel", "nps"])
    df["when"] = pd.to_datetime("2025-01-" + df["when"], utc=True, format="ISO8601")
    df["nps"] = df["nps"].astype("Int8")
    log = jl.from_pandas(df, case="who", activity="what", timestamp="when", channel="channel")
    journey = jl.Journey.from_dict({
        "name": "buy", "entry": ["view", "cart", "visit"], "exit": ["delivered"], "stall_after": {"cart": "1d"},
        "milestones": [{"name": "browse", "activities": ["view"]}, {"name": "cart", "activities": ["cart"]},
                       {"name": "purchase", "activities": ["purchase"]}],
        "goal": {"type": "purchase", "activity": "purchase", "window": "1d"}})
    return P.journey_log(log, journey), journey


def test_hand_made_log_equals_the_reference_and_the_answers_by_hand(hand):
    pl, journey = hand
    cuts = [D(f"{d:02d}") for d in range(2, 9)]
    ex, labels = _assert_equal_to_reference(pl, journey, cuts, pd.Timedelta(days=1), pd.Timedelta(days=5))
    # at 01-04 00:00 with its events included (strict=False): A's purchase at that instant credits A
    now = E.examples(pl, journey, [D("04")], timeout=pd.Timedelta(days=5), strict=False)
    assert sorted(now.X.index) == list("CEH")
    pd.testing.assert_frame_equal(now.X, P.features_at(pl, journey, D("04"), strict=False, timeout=pd.Timedelta(days=5))[0],
                                  check_dtype=False, check_exact=True)
    got = {c.strftime("%m-%d"): sorted(ex.X.index[ex.key == i]) for i, c in enumerate(cuts)}
    # in flight at c: entered before c, not left before c (an exit or time-out at c is not before c), not
    # credited before c (a purchase at c is not before c)
    assert got == {"01-02": list("ABCDEF"), "01-03": list("ABCEFH"), "01-04": list("ACEH"), "01-05": list("EH"),
                   "01-06": list("EH"), "01-07": list("DH"), "01-08": ["D"]}
    row = lambda who, day: np.flatnonzero((ex.X.index == who) & (ex.key == cuts.index(D(day))))[0]  # noqa: E731
    # goal within [c, c + 1d): A's purchase at 01-04 00:00 is in [01-04, 01-05), not in [01-03, 01-04)
    assert labels["goal"][row("A", "04")] == 1 and labels["goal"][row("A", "03")] == 0
    assert labels["goal"][row("B", "03")] == 1 and labels["goal"][row("C", "03")] == 0
    assert labels["goal"][row("C", "04")] == 1
    assert labels["remaining_time"][row("C", "04")] == pytest.approx(1e-6 / 3600)
    # D's second entry (after the exit), already at cart at 01-07; A stalled at cart on 01-04 (38 h > 1 d)
    d = row("D", "07")
    assert ex.X["progress:entries"].iloc[d] == 2 and ex.state["milestone"].iloc[d] == "cart"
    assert ex.X["activity:n_events"].iloc[d] == 2 and ex.X["channels:n_channels"].iloc[d] == 1
    # H's second entry has no milestone yet (the browse of the first entry is not carried over)
    h = row("H", "03")
    assert pd.isna(ex.state["milestone"].iloc[h]) and ex.X["progress:entries"].iloc[h] == 2
    assert np.isnan(ex.X["timing:stalled_for_h"].iloc[h]) and ex.X["progress:reached_browse"].iloc[h] == 0
    assert ex.state["stalled"].iloc[row("A", "04")] and not ex.state["stalled"].iloc[row("A", "03")]
    assert ex.X["timing:stalled_for_h"].iloc[row("A", "04")] == pytest.approx(38 - 1e-6 / 3600)
    # the survey answer so far: A's 9 from 01-02 on; C's 3 from the start
    assert np.isnan(ex.X["surveys:nps"].iloc[row("A", "02")]) and ex.X["surveys:nps"].iloc[row("A", "03")] == 9
    assert ex.X["surveys:session.nps"].iloc[row("C", "02")] == 3


# --------------------------------------------------------------------------- the as-of search


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 6)), max_size=25),
       st.lists(st.tuples(st.integers(0, 5), st.integers(-1, 7)), min_size=1, max_size=10))
def test_sorted_lookups_match_a_scan(events, queries):
    ev = np.array(sorted(events), dtype=np.int64).reshape(-1, 2)
    s = E._Sorted(ev[:, 0], ev[:, 1])
    q = np.array(queries, dtype=np.int64)
    le, ge = s.last_le(q[:, 0], q[:, 1]), s.first_ge(q[:, 0], q[:, 1])
    for (k, t), a, b in zip(q, le, ge):
        mine = [i for i, (w, x) in enumerate(ev) if w == k]
        want_le = max([i for i in mine if ev[i, 1] <= t], default=-1)
        want_ge = min([i for i in mine if ev[i, 1] >= t], default=-1)
        assert (a, b) == (want_le, want_ge)
