"""A case without a customer id is its own customer, in every analysis that follows customers."""

from __future__ import annotations

import doctest

import pandas as pd
import pytest

import journeylab as jl
from journeylab._kernels import units as _units
from journeylab._kernels.units import known_customers

ANON = "2 event\\(s\\) of 1 case\\(s\\) have no customer id; each of these cases counts as its own customer"


def _log(customers) -> jl.EventLog:
    """Three cases (a, b, c), each a visit then a purchase an hour later, on three days."""
    df = pd.DataFrame({
        "case": ["a", "a", "b", "b", "c", "c"], "activity": ["visit", "buy"] * 3,
        "t": pd.to_datetime(["2025-01-01 10:00", "2025-01-01 11:00", "2025-01-02 10:00", "2025-01-02 11:00",
                             "2025-01-03 10:00", "2025-01-03 11:00"]),
        "customer": [c for c in customers for _ in range(2)], "channel": ["web", "web", "app", "app", "web", "web"],
        "version": ["A", "A", "B", "B", "A", "A"],
    })
    return jl.from_pandas(df, case="case", activity="activity", timestamp="t", customer="customer",
                          channel="channel")


JOURNEY = jl.Journey.from_dict({"name": "shop", "milestones": [{"name": "visit", "activities": ["visit"]}],
                                "goal": {"type": "purchase", "activity": "buy"}})


def test_doctest():
    res = doctest.testmod(_units)
    assert res.attempted > 0 and res.failed == 0


def test_known_customers_fills_from_the_case_and_never_merges_with_a_real_customer():
    df = pd.DataFrame({"case": ["a", "b", "u1", "u1"], "customer": ["u1", None, None, None]})
    before = df.copy()
    with pytest.warns(jl.DataQualityWarning, match="3 event\\(s\\) of 2 case\\(s\\) have no customer id"):
        out = known_customers(df)
    assert out["customer"].tolist() == ["u1", "b", "case u1", "case u1"]
    pd.testing.assert_frame_equal(df, before)  # the input is never modified
    full = pd.DataFrame({"case": ["a"], "customer": ["u1"]})
    assert known_customers(full) is full and known_customers(df[["case"]]) is not None


def test_funnel_counts_each_anonymous_case_once():
    # the events of a missing customer id used to be split into one unit per event: 1 of 3 converted
    log = _log([None, "u2", "u3"])
    with pytest.warns(jl.DataQualityWarning, match=ANON):
        f = jl.funnel(log, ["visit", "buy"])
    assert f.table["reached"].tolist() == [3, 3]


def test_goal_attainment_and_rules_keep_anonymous_cases():
    log = _log([None, None, "u3"])  # two anonymous cases used to merge into one person, or be dropped
    with pytest.warns(jl.DataQualityWarning, match="4 event\\(s\\) of 2 case\\(s\\) have no customer id"):
        att = jl.goal_attainment(log, JOURNEY)
    assert att.customers["entered"].sum() == 3 and att.customers["credited"].sum() == 3
    with pytest.warns(jl.DataQualityWarning, match="have no customer id"):
        due = jl.evaluate_rules(log, JOURNEY, [{"name": "thanks", "when": "goal_reached == true", "action": "mail"}])
    assert sorted(due.actions["customer"]) == ["a", "b", "u3"]


def test_ab_test_and_attribution_on_customers_that_are_all_unknown():
    log = _log([None, None, None])  # used to fail: a cast error in the A/B test, a sort of None and text in attribution
    with pytest.warns(jl.DataQualityWarning, match="have no customer id"):
        ab = jl.ab_test(log, JOURNEY, version="version")
    assert ab.table["customers"].to_dict() == {"A": 2, "B": 1}
    with pytest.warns(jl.DataQualityWarning, match="have no customer id"):
        res = jl.attribution(log, conversion="buy", touchpoints="channel", model="last", n_boot=10, random_state=0,
                             progress=False)
    assert res.to_frame().set_index("touchpoint")["credit"].to_dict() == {"web": 2.0, "app": 1.0}
