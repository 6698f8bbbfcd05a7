"""Tests of journeylab.journey: the designed journey, its YAML form, conditions and matching."""

from __future__ import annotations

import dataclasses
import inspect
import textwrap
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journeylab.journey as jmod
from journeylab.exceptions import InvalidParameterError, JourneyDefinitionError, SchemaError
from journeylab.journey import (
    Condition,
    Criteria,
    FrozenMap,
    Goal,
    Journey,
    Milestone,
    parse_conditions,
)

FULL = {
    "name": "online purchase",
    "milestones": [
        {"name": "browse", "activities": ["view_product", "search"]},
        {"name": "cart", "activities": ["add_to_cart"]},
        {"name": "payment", "activities": ["payment"], "when": "amount > 50"},
        {"name": "complaint", "activities": ["complaint"], "kind": "negative", "optional": True},
    ],
    "entry": {"activities": ["view_product"]},
    "exit": {"activities": ["purchase", "unsubscribe"]},
    "stall_after": {"cart": "2d", "payment": "1d"},
    "phases": {"awareness": ["ad_click", "email_open"], "consideration": ["view_product", "search"]},
    "goal": {"type": "purchase", "activity": "purchase", "when": "amount > 50", "target": 1000, "window": "3d"},
}


def _one(**overrides) -> dict:
    d = {"name": "j", "milestones": [{"name": "a", "activities": ["x"]}]}
    d.update(overrides)
    return d


@pytest.fixture
def journey() -> Journey:
    return Journey.from_dict(FULL)


@pytest.fixture
def events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case": ["c1"] * 5 + ["c2"] * 3,
            "activity": ["view_product", "add_to_cart", "payment", "purchase", "complaint",
                         "search", "payment", "unsubscribe"],
            "timestamp": pd.date_range("2025-01-01", periods=8, freq="h", tz="UTC"),
            "channel": ["web", "web", "web", "web", "call", "app", "app", None],
            "amount": [None, None, 80.0, 80.0, None, None, 20.0, None],
        },
        index=pd.Index([10, 11, 12, 13, 14, 20, 21, 22]),
    )


# --------------------------------------------------------------------------- conditions: parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("amount > 50", [("amount", ">", 50)]),
        ("amount>=50.5", [("amount", ">=", 50.5)]),
        ("amount < -3", [("amount", "<", -3)]),
        ("amount <= 1e3", [("amount", "<=", 1000.0)]),
        ("channel == 'web'", [("channel", "==", "web")]),
        ('channel != "web"', [("channel", "!=", "web")]),
        ("is_member == true", [("is_member", "==", True)]),
        ("is_member == FALSE", [("is_member", "==", False)]),
        ("channel in ['web', 'app']", [("channel", "in", ("web", "app"))]),
        ("channel not in ('web',)", [("channel", "not in", ("web",))]),
        ("tier in [1, 2, 3]", [("tier", "in", (1, 2, 3))]),
        ("`order amount` > 5", [("order amount", ">", 5)]),
        ("`in` == 'x'", [("in", "==", "x")]),
        ("name == 'it\\'s'", [("name", "==", "it's")]),
        ("path == 'C:\\dir'", [("path", "==", "C:\\dir")]),
        ("amount > 50 and channel == 'web'", [("amount", ">", 50), ("channel", "==", "web")]),
        ("a == 1 AND b == 2 and c in [3]", [("a", "==", 1), ("b", "==", 2), ("c", "in", (3,))]),
    ],
)
def test_condition_parsing(text, expected):
    conds = parse_conditions(text)
    assert [(c.column, c.op, c.value) for c in conds] == expected
    # the text form parses back to the same conditions
    assert parse_conditions(" and ".join(str(c) for c in conds)) == conds


def test_condition_text_and_repr():
    c = Condition("order amount", ">", 5)
    assert str(c) == "`order amount` > 5"
    assert repr(c) == "Condition('`order amount` > 5')"
    assert str(Condition("and", "==", "x")) == "`and` == 'x'"
    assert str(Condition("flag", "==", True)) == "flag == true"
    assert Condition.parse("amount > 5") == Condition("amount", ">", 5)
    assert Condition("tier", "in", [np.int64(1), 2.5]).value == (1, 2.5)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("__import__('os')", "function calls are not allowed"),
        ("__import__('os').system('ls') == 1", "function calls are not allowed"),
        ("len(name) > 3", "function calls are not allowed"),
        ("amount > abs(3)", "function calls are not allowed"),
        ("amount.real > 1", r"attribute access \('\.'\) is not allowed"),
        ("os.system('rm -rf /')", "attribute access"),
        ("channel == 'web", "unbalanced quotes"),
        ('channel == "web', "unbalanced quotes"),
        ("`order amount > 5", "unbalanced backtick"),
        ("amount = 5", "'=' is not an operator; write '=='"),
        ("amount > 5 or channel == 'web'", "'or' is not supported"),
        ("amount > 5 | x == 1", r"'\|' \(or\) is not supported"),
        ("amount > 5 & x == 1", "join conditions with 'and'"),
        ("amount > 5 channel == 'web'", "unexpected 'channel' at position 11; join conditions with 'and'"),
        ("", "it is empty"),
        ("   ", "it is empty"),
        ("amount >", "expected a value after '>'"),
        ("amount", "expected an operator"),
        ("amount 50", r"expected an operator \(==, !=, >, >=, <, <=, in, not in\) after 'amount', got '50'"),
        ("50 < amount", "expected a column name at position 0, got '50'; the column comes first"),
        ("channel == web", r"web is not a value: quote text \(e.g. 'web'\)"),
        ("amount > price", "comparing two columns is not supported"),
        ("x == 2d", "'2d' at position 5 is not a number; quote text"),
        ("x in 'a'", r"'in' expects a list such as \['web', 'app'\], got 'a'"),
        ("x in []", "the list after 'in' is empty"),
        ("x in [1 2]", "expected ',' or ']' in the list, got '2'"),
        ("x == [1, 2]", "a list is only allowed after 'in'"),
        ("x in [[1]]", "lists cannot be nested"),
        ("not x == 1", "'not' is only allowed in 'not in'"),
        ("and == 1", "expected a column name, got the keyword 'and'"),
        ("amount > 5 and", "expected a column name at position 14, got the end"),
        ("amount + 1 > 5", "unexpected character '\\+' at position 7"),
        ("lambda: 1", "unexpected character ':'"),
        ("amount > 5; import os", "unexpected character ';'"),
    ],
)
def test_condition_refusals(text, match):
    with pytest.raises(JourneyDefinitionError, match=match):
        parse_conditions(text)


def test_condition_error_quotes_the_text_and_shows_the_form():
    with pytest.raises(JourneyDefinitionError, match=r"""^condition "__import__\('os'\)": .*A condition looks like: """
                                                   r"amount > 50 and channel == 'web'"):
        parse_conditions("__import__('os')")


def test_condition_constructor_refusals():
    with pytest.raises(JourneyDefinitionError,
                       match="unknown operator '=>'. Allowed: ==, !=, >, >=, <, <=, in, not in"):
        Condition("a", "=>", 1)
    with pytest.raises(JourneyDefinitionError,
                       match=r"'in' expects a list of values such as \['web', 'app'\], got 'web'"):
        Condition("a", "in", "web")
    with pytest.raises(JourneyDefinitionError, match="the list after 'not in' is empty"):
        Condition("a", "not in", [])
    with pytest.raises(JourneyDefinitionError, match="the value nan is not a finite number"):
        Condition("a", ">", float("nan"))
    with pytest.raises(JourneyDefinitionError, match="is not a number, text or true/false"):
        Condition("a", "==", None)
    with pytest.raises(JourneyDefinitionError, match="the column name is empty"):
        Condition("", "==", 1)
    with pytest.raises(JourneyDefinitionError, match="contains a backtick"):
        Condition("a`b", "==", 1)
    with pytest.raises(JourneyDefinitionError, match="holds 2 conditions; Condition.parse takes one"):
        Condition.parse("a == 1 and b == 2")
    with pytest.raises(JourneyDefinitionError, match='a condition must be text such as "amount > 50", got 5'):
        parse_conditions(5)


def test_no_python_is_evaluated(monkeypatch):
    """Conditions never reach pandas' eval/query engines, and the module never calls eval or exec."""
    def boom(*a, **k):  # pragma: no cover - must not be called
        raise AssertionError("evaluated")

    monkeypatch.setattr(pd.DataFrame, "eval", boom)
    monkeypatch.setattr(pd, "eval", boom)
    monkeypatch.setattr(pd.DataFrame, "query", boom)
    conds = parse_conditions("amount > 50 and channel in ['web']")
    df = pd.DataFrame({"amount": [60, 10], "channel": ["web", "web"]})
    assert Criteria((), conds).matches(df).tolist() == [True, False]
    import journeylab._journey_parts
    import journeylab._yaml
    import journeylab.conditions

    for module in (jmod, journeylab._journey_parts, journeylab.conditions, journeylab._yaml):
        source = inspect.getsource(module)
        assert "eval(" not in source and "exec(" not in source and ".query(" not in source


_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_ .:-]{0,12}", fullmatch=True).filter(lambda s: s.strip() == s)
_literals = st.one_of(
    st.integers(-10**12, 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.text(max_size=12),
)


@settings(max_examples=200, deadline=None)
@given(column=_names, op=st.sampled_from(["==", "!=", ">", ">=", "<", "<="]), value=_literals)
def test_condition_text_round_trip(column, op, value):
    c = Condition(column, op, value)
    back = Condition.parse(str(c))
    assert back == c and type(back.value) is type(c.value)


@settings(max_examples=100, deadline=None)
@given(column=_names, op=st.sampled_from(["in", "not in"]), values=st.lists(_literals, min_size=1, max_size=4))
def test_condition_list_round_trip(column, op, values):
    c = Condition(column, op, values)
    assert Condition.parse(str(c)) == c


# --------------------------------------------------------------------------- conditions: matching


def test_condition_matching_numbers_and_missing_values():
    df = pd.DataFrame({"amount": [10.0, 60.0, None], "n": pd.array([1, None, 3], dtype="Int64")})
    assert Condition.parse("amount > 50").matches(df).tolist() == [False, True, False]
    # a missing value never matches, whatever the operator
    assert Condition.parse("amount != 10").matches(df).tolist() == [False, True, False]
    assert Condition.parse("amount not in [10]").matches(df).tolist() == [False, True, False]
    assert Condition.parse("n >= 1").matches(df).tolist() == [True, False, True]
    assert Condition.parse("n != 1").matches(df).tolist() == [False, False, True]
    result = Condition.parse("n in [1, 3]").matches(df)
    assert result.dtype == bool and result.tolist() == [True, False, True]


def test_condition_matching_text_booleans_and_index(events):
    m = Condition.parse("channel in ['web', 'app']").matches(events)
    assert m.index.equals(events.index)
    assert m.tolist() == [True, True, True, True, False, True, True, False]
    assert Condition.parse("channel != 'web'").matches(events).tolist() == [False] * 4 + [True, True, True, False]
    flags = pd.DataFrame({"member": [True, False, None]}, dtype="boolean")
    assert Condition.parse("member == true").matches(flags).tolist() == [True, False, False]


def test_condition_matching_timestamps(events):
    after = Condition.parse("timestamp >= '2025-01-01 05:00'").matches(events)
    assert after.tolist() == [False] * 5 + [True] * 3
    naive = events.assign(timestamp=events["timestamp"].dt.tz_localize(None))
    assert Condition.parse("timestamp < '2025-01-01 01:00+00:00'").matches(naive).sum() == 1
    with pytest.raises(JourneyDefinitionError, match="'someday' is not a date or time; write it like '2025-01-31'"):
        Condition.parse("timestamp > 'someday'").matches(events)


def test_condition_matching_type_mismatch_and_missing_column(events):
    with pytest.raises(JourneyDefinitionError, match=r"condition \"tier == '1'\": column 'tier' holds numbers "
                                                     r"\(dtype int64\) but is compared with the text '1'; write the "
                                                     r"number without quotes"):
        Condition.parse("tier == '1'").matches(pd.DataFrame({"tier": [1, 2]}))
    with pytest.raises(JourneyDefinitionError, match=r"column 'channel' holds text \(dtype str\) but is compared with "
                                                     r"the number 5; quote it: '5'"):
        Condition.parse("channel in ['web', 5]").matches(events)
    mixed = pd.DataFrame({"code": pd.Series(["a", 1], dtype=object)})
    assert Condition.parse("code in ['a', 1]").matches(mixed).tolist() == [True, True]
    with pytest.raises(JourneyDefinitionError, match=r"condition 'code > 5': cannot compare column 'code' "
                                                     r"\(dtype .*\) with 5 .*Compare numbers with numbers"):
        Condition.parse("code > 5").matches(mixed)
    with pytest.raises(JourneyDefinitionError, match=r"the events have no column 'amont'. Closest: 'amount'. "
                                                     r"Available: \["):
        Condition.parse("amont > 5").matches(events)
    with pytest.raises(JourneyDefinitionError, match="expected the events DataFrame of a log"):
        Condition.parse("amount > 5").matches([1, 2])


# --------------------------------------------------------------------------- criteria, milestone, goal


def test_criteria(events):
    assert Criteria.from_dict(["purchase", "unsubscribe"]) == Criteria(("purchase", "unsubscribe"))
    assert Criteria.from_dict("purchase") == Criteria(("purchase",))
    c = Criteria.from_dict({"activities": ["payment", "purchase"], "when": "amount > 50"})
    assert c.matches(events).tolist() == [False, False, True, True, False, False, False, False]
    only_conditions = Criteria(conditions="channel == 'app'")
    assert only_conditions.matches(events).sum() == 2
    assert str(only_conditions) == "any activity where channel == 'app'"
    assert str(c) == "payment | purchase where amount > 50"
    assert c.to_dict() == {"activities": ["payment", "purchase"], "when": "amount > 50"}
    assert Criteria(["a", "b", "a"]).activities == ("a", "b")
    with pytest.raises(JourneyDefinitionError, match="criteria: neither activities nor conditions"):
        Criteria()
    with pytest.raises(JourneyDefinitionError, match="criteria: unknown key 'activity'. Did you mean 'activities'\\? "
                                                     "Allowed keys: activities, when."):
        Criteria.from_dict({"activity": "x"})


def test_matching_needs_canonical_columns():
    with pytest.raises(SchemaError, match="the events have no 'activity' column .*Pass log.to_pandas\\(\\)"):
        Criteria(["x"]).matches(pd.DataFrame({"step": ["x"]}))


def test_milestone_validation():
    m = Milestone("pay", "payment", conditions=["amount > 5", "channel == 'web'"])
    assert m.activities == ("payment",)
    assert m.conditions == parse_conditions("amount > 5 and channel == 'web'")
    assert m.criteria == Criteria(("payment",), m.conditions)
    with pytest.raises(JourneyDefinitionError,
                       match="milestone 'pay': no activities; list the activities that mark it"):
        Milestone("pay", [])
    with pytest.raises(JourneyDefinitionError, match="milestone 'pay': kind='negativ' is not allowed; use 'positive' "
                                                     "or 'negative'. Did you mean 'negative'\\?"):
        Milestone("pay", ["p"], kind="negativ")
    with pytest.raises(JourneyDefinitionError, match="milestone 'pay': optional='yes' must be true or false"):
        Milestone("pay", ["p"], optional="yes")
    with pytest.raises(JourneyDefinitionError, match=r"milestone 'pay': activity 404 is a number, not text \(quote it"):
        Milestone("pay", [404])
    with pytest.raises(JourneyDefinitionError, match="milestone 'pay': activity True is a boolean, not text"):
        Milestone("pay", [True])
    with pytest.raises(JourneyDefinitionError, match="milestone: the milestone name is empty"):
        Milestone(" ", ["p"])
    with pytest.raises(JourneyDefinitionError, match="milestone 'pay': activities must be a list of activity names"):
        Milestone("pay", {"a": 1})
    with pytest.raises(JourneyDefinitionError, match="milestone 'pay': condition 'amount >>'"):
        Milestone("pay", ["p"], conditions="amount >>")


def test_goal_targets():
    g = Goal.from_dict({"type": "purchase", "activity": "purchase"})
    assert (g.target, g.target_pct, g.window) == (None, None, pd.Timedelta("3D"))
    assert Goal.from_dict({"type": "purchase", "activity": "p", "target": 1000}).target == 1000
    assert Goal.from_dict({"type": "purchase", "activity": "p", "target": "25%"}).target_pct == 25.0
    assert Goal.from_dict({"type": "purchase", "activity": "p", "target": " 100 %"}).target_pct == 100.0
    assert Goal("loyalty", "redeem", target=np.int64(5)).target == 5
    assert Goal("custom", "x", window="0d").window == pd.Timedelta(0)
    assert Goal("custom", "x", window=pd.Timedelta(hours=12)).to_dict()["window"] == "12h"
    for bad, match in [
        ("120%", r"goal: target percentage 120.0% must be above 0 and at most 100"),
        ("0%", r"target percentage 0.0% must be above 0"),
        ("-5%", r"target percentage -5.0% must be above 0"),
        ("abc%", r"target='abc%' is not a percentage; write it like '25%'"),
        ("1000", r"target='1000' must be a count \(e.g. 1000\) or a percentage ending in '%'"),
        (0, r"target=0 must be a positive whole number of people"),
        (-3, r"target=-3 must be a positive whole number"),
        (2.5, r"target=2.5 must be a positive whole number"),
        (True, r"target=True must be a positive whole number"),
        ([1], r"target=\[1\] must be a positive whole number"),
    ]:
        with pytest.raises(JourneyDefinitionError, match=match):
            Goal.from_dict({"type": "purchase", "activity": "p", "target": bad})
    with pytest.raises(JourneyDefinitionError, match="goal: give a target count or a target percentage, not both"):
        Goal("purchase", "p", target=5, target_pct=5)
    with pytest.raises(JourneyDefinitionError, match="target percentage 150% must be above 0 and at most 100"):
        Goal("purchase", "p", target_pct=150)
    with pytest.raises(JourneyDefinitionError, match="goal: type='sale' is not a goal type. Allowed: purchase, "
                                                     "engagement, loyalty, onboarding, notification, custom."):
        Goal("sale", "p")
    with pytest.raises(JourneyDefinitionError, match="goal: activity=\\['a', 'b'\\]: a goal has one trigger activity"):
        Goal("custom", ["a", "b"])
    with pytest.raises(JourneyDefinitionError, match="goal: missing key 'activity'. Required keys: type, activity."):
        Goal.from_dict({"type": "custom"})
    with pytest.raises(JourneyDefinitionError, match="goal: unknown key 'windw'. Did you mean 'window'\\?"):
        Goal.from_dict({"type": "custom", "activity": "x", "windw": "3d"})
    with pytest.raises(JourneyDefinitionError, match="goal window: 3 is a bare number; give a duration with a unit"):
        Goal("custom", "x", window=3)


def test_goal_target_text_round_trip():
    for pct in (25.0, 12.5, 33.333333333333336, 100.0, 0.001):
        g = Goal("custom", "x", target_pct=pct)
        assert Goal.from_dict(g.to_dict()) == g
    assert Goal("custom", "x", target_pct=25).to_dict()["target"] == "25%"


def test_goal_matches(events, journey):
    assert journey.goal.matches(events).tolist() == [False, False, False, True, False, False, False, False]
    assert journey.goal.criteria.matches(events).equals(journey.goal.matches(events).rename("criteria"))
    assert str(journey.goal) == "purchase (activity == 'purchase' and amount > 50; target 1,000; window 3d)"


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2d", pd.Timedelta(days=2)), ("36h", pd.Timedelta(hours=36)), ("90min", pd.Timedelta(minutes=90)),
     ("1d12h", pd.Timedelta(hours=36)), ("2 days", pd.Timedelta(days=2)), ("1w", pd.Timedelta(days=7)),
     ("36H", pd.Timedelta(hours=36)), ("0.5d", pd.Timedelta(hours=12)), (pd.Timedelta("3h"), pd.Timedelta(hours=3))],
)
def test_durations(text, expected):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no pandas deprecation warning for 'd', 'H', 'w'
        j = Journey.from_dict(_one(stall_after={"a": text}))
    assert j.stall_after["a"] == expected


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (5, r"stall_after\['a'\]: 5 is a bare number; give a duration with a unit, e.g. '5d' or '5h'"),
        ("36", r"stall_after\['a'\]: '36' is a bare number; give a duration with a unit, e.g. '36d'"),
        (1.5, r"1.5 is a bare number"),
        ("2 dayz", r"stall_after\['a'\]: '2 dayz' is not a duration; write it like '30min', '12h', '2d' or '1d12h'"),
        ("soon", r"'soon' is not a duration"),
        ("nat", r"'nat' is not a duration"),
        ([1], r"\[1\] is not a duration"),
        ("0h", r"'0h' must be a positive duration"),
        ("-2d", r"'-2d' must be a positive duration"),
    ],
)
def test_malformed_durations(value, match):
    with pytest.raises(JourneyDefinitionError, match=match):
        Journey.from_dict(_one(stall_after={"a": value}))


def test_format_duration():
    from journeylab._core.formatting import duration_spec as f  # the one exact duration text (was journey's own)

    assert [f(pd.Timedelta(x)) for x in ("2D", "36h", "90min", "30s", "1500ms", "3us", "7ns", "0s")] == [
        "2d", "36h", "90min", "30s", "1500ms", "3us", "7ns", "0s"]


# --------------------------------------------------------------------------- the journey


def test_full_journey(journey):
    assert journey.name == "online purchase"
    assert [m.name for m in journey.milestones] == ["browse", "cart", "payment", "complaint"]
    assert journey.happy_path == ("browse", "cart", "payment")
    assert journey.milestone("payment").conditions == (Condition("amount", ">", 50),)
    assert journey.entry == Criteria(("view_product",))
    assert journey.exit == Criteria(("purchase", "unsubscribe"))
    assert journey.stall_after == {"cart": pd.Timedelta(days=2), "payment": pd.Timedelta(days=1)}
    assert isinstance(journey.stall_after, FrozenMap) and isinstance(journey.phases, FrozenMap)
    assert list(journey.phases) == ["awareness", "consideration"]
    assert journey.phases["awareness"] == ("ad_click", "email_open")
    assert journey.goal == Goal("purchase", "purchase", conditions="amount > 50", target=1000)
    assert journey.activities == ("view_product", "search", "add_to_cart", "payment", "complaint", "purchase",
                                  "unsubscribe", "ad_click", "email_open")


def test_happy_path_skips_optional_and_negative_milestones():
    j = Journey("j", [
        Milestone("complaint", ["complaint"], kind="negative"),
        Milestone("a", ["x"]),
        Milestone("newsletter", ["subscribe"], optional=True),
        Milestone("b", ["y"]),
        Milestone("refund", ["refund"], kind="negative", optional=True),
        Milestone("c", ["z"]),
    ])
    assert j.happy_path == ("a", "b", "c")
    with pytest.raises(JourneyDefinitionError, match="journey 'j': no happy path: every milestone is optional or "
                                                     "negative"):
        Journey("j", [Milestone("a", ["x"], optional=True), Milestone("b", ["y"], kind="negative")])


def test_journey_is_frozen_and_hashable(journey):
    with pytest.raises(dataclasses.FrozenInstanceError):
        journey.name = "other"
    with pytest.raises(TypeError):
        journey.stall_after["cart"] = pd.Timedelta("1h")
    assert hash(journey) == hash(Journey.from_dict(FULL))
    assert len({journey, Journey.from_dict(FULL)}) == 1
    assert dataclasses.replace(journey, name="b").milestones == journey.milestones


def test_journey_from_code_accepts_plain_values(journey):
    j = Journey(
        "online purchase",
        [Milestone("browse", ["view_product", "search"]), {"name": "cart", "activities": ["add_to_cart"]},
         Milestone("payment", ["payment"], conditions="amount > 50"),
         Milestone("complaint", ["complaint"], kind="negative", optional=True)],
        entry=["view_product"], exit=Criteria(["purchase", "unsubscribe"]),
        stall_after={"cart": pd.Timedelta(days=2), "payment": "24h"},
        phases={"awareness": ["ad_click", "email_open"], "consideration": ("view_product", "search")},
        goal={"type": "purchase", "activity": "purchase", "when": "amount > 50", "target": 1000},
    )
    assert j == journey


def test_journey_validation_errors():
    with pytest.raises(JourneyDefinitionError, match=r"journey 'j': the milestone list is empty; a journey needs at "
                                                     r"least one milestone"):
        Journey.from_dict(_one(milestones=[]))
    with pytest.raises(JourneyDefinitionError, match=r"journey 'j': duplicate milestone name 'a' \(milestones\[0\] and "
                                                     r"milestones\[2\]\); milestone names must be unique"):
        Journey.from_dict(_one(milestones=[{"name": "a", "activities": ["x"]}, {"name": "b", "activities": ["y"]},
                                           {"name": "a", "activities": ["z"]}]))
    with pytest.raises(JourneyDefinitionError, match=r"journey 'j': milestones must be a list of milestones, got None"):
        Journey.from_dict(_one(milestones=None))
    with pytest.raises(JourneyDefinitionError, match=r"journey 'j': milestones\[0\] must be a milestone"):
        Journey.from_dict(_one(milestones=["browse"]))
    with pytest.raises(JourneyDefinitionError, match=r"journey: missing key 'milestones'. Required keys: name, "
                                                     r"milestones."):
        Journey.from_dict({"name": "j"})
    with pytest.raises(JourneyDefinitionError, match=r"journey: the journey name is empty"):
        Journey.from_dict(_one(name=""))
    with pytest.raises(JourneyDefinitionError, match=r"journey: expected a mapping \(key: value\)"):
        Journey.from_dict(["name", "j"])
    with pytest.raises(JourneyDefinitionError, match=r"journey 'j': stall_after names 'cartt', which is not a "
                                                     r"milestone. Milestones: a, cart. Did you mean 'cart'\?"):
        Journey.from_dict(_one(milestones=[{"name": "a", "activities": ["x"]}, {"name": "cart", "activities": ["y"]}],
                               stall_after={"cartt": "2d"}))
    with pytest.raises(JourneyDefinitionError, match=r"stall_after must map milestone names to durations"):
        Journey.from_dict(_one(stall_after=["2d"]))
    with pytest.raises(JourneyDefinitionError, match=r"activity 'x' is in two phases \('p1' and 'p2'\); a touchpoint "
                                                     r"belongs to one phase"):
        Journey.from_dict(_one(phases={"p1": ["x"], "p2": ["y", "x"]}))
    with pytest.raises(JourneyDefinitionError, match=r"phase 'p1' lists no activities; give a list"):
        Journey.from_dict(_one(phases={"p1": None}))
    with pytest.raises(JourneyDefinitionError, match=r"phases must map phase names to activities"):
        Journey.from_dict(_one(phases=["awareness"]))
    with pytest.raises(JourneyDefinitionError, match=r"entry: neither activities nor conditions"):
        Journey.from_dict(_one(entry={}))
    with pytest.raises(JourneyDefinitionError, match=r"exit: condition 'amount >': expected a value after '>'"):
        Journey.from_dict(_one(exit={"activities": ["x"], "when": "amount >"}))
    with pytest.raises(JourneyDefinitionError, match=r"milestone 'a': condition \"x == 'a\": unbalanced quotes"):
        Journey.from_dict(_one(milestones=[{"name": "a", "activities": ["x"], "when": "x == 'a"}]))


@pytest.mark.parametrize(
    ("d", "match"),
    [
        (_one(milestone=[]), r"^journey: unknown key 'milestone'. Did you mean 'milestones'\? Allowed keys: name, "
                             r"milestones, entry, exit, stall_after, phases, goal.$"),
        (_one(stall=1, colour="red"), r"^journey: unknown key 'stall'. Did you mean 'stall_after'\? unknown key "
                                      r"'colour'. Allowed keys: "),
        (_one(milestones=[{"name": "a", "activites": ["x"]}]),
         r"^milestone 'a': unknown key 'activites'. Did you mean 'activities'\? Allowed keys: name, activities, when, "
         r"optional, kind.$"),
        (_one(milestones=[{"name": "a", "activities": ["x"], "condition": "a > 1"}]),
         r"milestone 'a': unknown key 'condition'. Did you mean 'when'\? Allowed keys"),
        (_one(milestones=[{"activities": ["x"]}]), r"^milestones\[0\]: missing key 'name'. Required keys: name, "
                                                   r"activities.$"),
        (_one(milestones=[{"name": 7, "activities": ["x"]}]), r"^milestones\[0\]: milestone name 7 is a number"),
        (_one(entry={"activity": ["x"]}), r"^entry: unknown key 'activity'. Did you mean 'activities'\?"),
        (_one(exit={"activities": ["x"], "wen": "a > 1"}), r"^exit: unknown key 'wen'. Did you mean 'when'\?"),
        (_one(goal={"type": "purchase", "activity": "p", "targte": 5}), r"^goal: unknown key 'targte'. Did you mean "
                                                                        r"'target'\?"),
    ],
)
def test_unknown_keys(d, match):
    with pytest.raises(JourneyDefinitionError, match=match):
        Journey.from_dict(d)


def test_milestone_lookup(journey):
    with pytest.raises(JourneyDefinitionError, match=r"journey 'online purchase' has no milestone 'paymnt'. "
                                                     r"Milestones: browse, cart, payment, complaint. Did you mean "
                                                     r"'payment'\?"):
        journey.milestone("paymnt")


def test_phase_of(journey):
    assert journey.phase_of("search") == "consideration"
    assert journey.phase_of("purchase") is None
    phases = journey.phase_of(pd.Series(["email_open", "purchase", "view_product"], index=[5, 6, 7]))
    assert phases.tolist() == ["awareness", np.nan, "consideration"]
    assert list(phases.cat.categories) == ["awareness", "consideration"] and phases.cat.ordered
    assert phases.index.tolist() == [5, 6, 7]


# --------------------------------------------------------------------------- milestone mapping


def test_milestone_of(journey, events):
    m = journey.milestone_of(events)
    assert m.name == "milestone"
    assert m.index.equals(events.index)
    assert m.cat.ordered and list(m.cat.categories) == ["browse", "cart", "payment", "complaint"]
    # the payment of 20 fails 'amount > 50'; purchase and unsubscribe are not milestones
    assert m.astype(object).where(m.notna(), None).tolist() == [
        "browse", "cart", "payment", None, "complaint", "browse", None, None]


def test_milestone_of_first_match_wins():
    j = Journey("j", [
        Milestone("big payment", ["pay"], conditions="amount >= 100"),
        Milestone("payment", ["pay"]),
        Milestone("any pay", ["pay", "refund"]),
    ])
    df = pd.DataFrame({"activity": ["pay", "pay", "refund", "view", "pay"], "amount": [150, 20, 5, 1, None]})
    assert j.milestone_of(df).astype(object).tolist() == ["big payment", "payment", "any pay", np.nan, "payment"]


def test_milestone_of_empty_and_missing_column(journey):
    empty = pd.DataFrame({"activity": pd.Series([], dtype=str), "amount": pd.Series([], dtype=float)})
    assert len(journey.milestone_of(empty)) == 0
    with pytest.raises(JourneyDefinitionError, match=r"condition 'amount > 50': the events have no column 'amount'"):
        journey.milestone_of(pd.DataFrame({"activity": ["payment"], "amout": [3]}))


def test_entry_exit_matching(journey, events):
    assert journey.entry.matches(events).tolist() == [True] + [False] * 7
    assert journey.exit.matches(events).tolist() == [False, False, False, True, False, False, False, True]


# --------------------------------------------------------------------------- YAML


def test_yaml_round_trip(tmp_path, journey):
    path = journey.to_yaml(tmp_path / "sub" / "j.yaml")
    assert path == tmp_path / "sub" / "j.yaml"
    assert Journey.from_yaml(path) == journey
    assert Journey.from_yaml(str(path)) == journey
    assert Journey.from_yaml_string(journey.to_yaml()) == journey
    assert [p.name for p in path.parent.iterdir()] == ["j.yaml"]  # atomic write leaves no temporary file
    text = path.read_text()
    assert "activities: [view_product, search]" in text
    assert "stall_after:\n  cart: 2d\n  payment: 1d\n" in text
    assert "goal:\n  type: purchase\n  activity: purchase\n  when: amount > 50\n" in text
    assert "target: 1000" in text and "window: 3d" in text


def test_yaml_text_is_the_documented_format(journey):
    assert Journey.from_yaml_string(journey.to_yaml()).to_dict() == {**FULL, "stall_after": {"cart": "2d",
                                                                                             "payment": "1d"}}


def test_module_docstring_example_loads(journey):
    doc = jmod.__doc__
    block = doc.split("::\n\n", 1)[1].split("\n\nThe happy path", 1)[0]
    assert Journey.from_yaml_string(textwrap.dedent(block)) == journey


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(st.text(min_size=1, max_size=10).filter(str.strip), min_size=1, max_size=4, unique=True),
    activities=st.lists(st.sampled_from(["yes", "no", "null", "1.0", "404", "a: b", "#x", "- y", "[z]", "é", "~",
                                         "true", "on", "x'y", 'q"r', "  spaced  "]), min_size=1, max_size=3),
    value=st.one_of(st.integers(-1000, 1000), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8)),
    pct=st.floats(min_value=0.01, max_value=100),
)
def test_yaml_round_trip_with_awkward_names(names, activities, value, pct):
    j = Journey(
        names[0],
        [Milestone(n, activities, conditions=[Condition("amount", "==", value)]) for n in names],
        exit=activities, stall_after={names[-1]: "90min"},
        phases={"after-sales": activities},
        goal=Goal("custom", activities[0], target_pct=pct),
    )
    assert Journey.from_yaml_string(j.to_yaml()) == j


def test_target_variants_round_trip(tmp_path):
    for goal in ({"type": "engagement", "activity": "register"},
                 {"type": "engagement", "activity": "register", "target": 250},
                 {"type": "engagement", "activity": "register", "target": "12.5%", "window": "36h"}):
        j = Journey.from_dict(_one(goal=goal))
        assert Journey.from_yaml(j.to_yaml(tmp_path / "g.yaml")) == j


def test_yaml_is_loaded_safely(tmp_path):
    marker = tmp_path / "pwned"
    text = f"name: j\nmilestones: !!python/object/apply:os.system ['touch {marker}']\n"
    with pytest.raises(JourneyDefinitionError, match=r"<yaml>, line 2, column 13: the tag "
                                                     r"'!!python/object/apply:os.system' is not allowed. Journey files "
                                                     r"are plain YAML .* loaded safely, without constructing objects"):
        Journey.from_yaml_string(text)
    assert not marker.exists()
    path = tmp_path / "evil.yaml"
    path.write_text("name: !!python/object:collections.OrderedDict {}\nmilestones: []\n")
    with pytest.raises(JourneyDefinitionError, match=r"evil.yaml, line 1, column 7: the tag "
                                                     r"'!!python/object:collections.OrderedDict' is not allowed"):
        Journey.from_yaml(path)


def test_yaml_errors(tmp_path):
    (tmp_path / "online_purchase.yaml").write_text(Journey.from_dict(FULL).to_yaml())
    with pytest.raises(JourneyDefinitionError, match=r"journey file '.*online_purchse.yaml' does not exist \(working "
                                                     r"directory: .*\). Did you mean 'online_purchase.yaml'\?"):
        Journey.from_yaml(tmp_path / "online_purchse.yaml")
    with pytest.raises(JourneyDefinitionError, match=r"journey file '.*' is a folder"):
        Journey.from_yaml(tmp_path)
    with pytest.raises(JourneyDefinitionError, match=r"path=42 is not a file path"):
        Journey.from_yaml(42)

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: j\nmilestones:\n  - name: a\n    activities: [x\n  - name: b\n")
    with pytest.raises(JourneyDefinitionError, match=r"bad.yaml, line 5, column \d+: invalid YAML: .*Fix the YAML "
                                                     r"syntax"):
        Journey.from_yaml(bad)
    bad.write_text("name: j\nmilestones:\n\t- name: a\n")
    with pytest.raises(JourneyDefinitionError, match=r"bad.yaml, line 3, column 1: invalid YAML: found character "
                                                     r"'\\t' that cannot start any token"):
        Journey.from_yaml(bad)
    bad.write_text("name: j\nmilestones:\n  - name: a\n    activities: [x]\n    name: b\n")
    with pytest.raises(JourneyDefinitionError, match=r"bad.yaml, line 5, column 5: duplicate key 'name' \(each key may "
                                                     r"appear once per mapping\); remove or rename one of them"):
        Journey.from_yaml(bad)
    bad.write_text("# nothing\n")
    with pytest.raises(JourneyDefinitionError, match=r"bad.yaml: the journey definition is empty"):
        Journey.from_yaml(bad)
    bad.write_text("- name: j\n")
    with pytest.raises(JourneyDefinitionError, match=r"bad.yaml: a journey definition is a mapping with keys name, "
                                                     r"milestones, .*; got a list"):
        Journey.from_yaml(bad)
    bad.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(JourneyDefinitionError, match=r"is not UTF-8 text"):
        Journey.from_yaml(bad)
    bad.write_text("name: j\nmilestones:\n  - name: a\n    activites: [x]\n")
    with pytest.raises(JourneyDefinitionError, match=r"bad.yaml: milestone 'a': unknown key 'activites'. Did you mean "
                                                     r"'activities'\?"):
        Journey.from_yaml(bad)
    bad.write_text("name: j\nmilestones:\n  - name: a\n    activities: [x]\nstall_after: {a: 2}\n")
    with pytest.raises(JourneyDefinitionError, match=r"bad.yaml: stall_after\['a'\]: 2 is a bare number"):
        Journey.from_yaml(bad)
    bad.write_text("name: j\nmilestones:\n  - name: a\n    activities: [404, yes]\n")
    with pytest.raises(JourneyDefinitionError, match=r"bad.yaml: milestone 'a': activity 404 is a number, not text "
                                                     r"\(quote it in YAML"):
        Journey.from_yaml(bad)


def test_to_yaml_failure_keeps_previous_file(tmp_path, journey, monkeypatch):
    path = journey.to_yaml(tmp_path / "j.yaml")
    before = path.read_text()

    def broken(*a, **k):
        raise RuntimeError("disk full")

    import journeylab._yaml  # journey definitions are written by journeylab._yaml.dump_yaml

    monkeypatch.setattr(journeylab._yaml.yaml, "dump", broken)
    with pytest.raises(RuntimeError):
        Journey.from_dict(_one()).to_yaml(path)
    assert path.read_text() == before


# --------------------------------------------------------------------------- checking against a log


def test_problems_with_a_stub_log(journey):
    log = SimpleNamespace(
        activities=("view_product", "search", "add_to_cart", "payment", "purchase", "unsubscribe", "ad_click",
                    "email_opened", "complaints"),
        columns=("case", "activity", "timestamp", "channel", "amount_eur"),
    )
    found = journey.problems(log)
    assert found == [
        "activity 'complaint' (milestone 'complaint') is not in the log; closest: 'complaints', 'payment'.",
        "activity 'email_open' (phase 'awareness') is not in the log; closest: 'email_opened'.",
        "condition column 'amount' (milestone 'payment', goal) is not a column of the log; closest: 'amount_eur'.",
    ]
    with pytest.raises(JourneyDefinitionError, match=r"(?s)journey 'online purchase' does not fit the log \(3 "
                                                     r"problems\):\n  - activity 'complaint' .*closest: 'amount_eur'.\n"
                                                     r"Fix the names in the journey definition"):
        journey.check(log)


def test_problems_nothing_close():
    log = SimpleNamespace(activities=tuple(f"act{i}" for i in range(10)), columns=("case", "activity"))
    j = Journey("j", [Milestone("m", ["zzz"], conditions="qq > 1")])
    assert j.problems(log) == [
        "activity 'zzz' (milestone 'm') is not in the log; nothing close; the log has 10 activities ('act0', 'act1', "
        "'act2', 'act3', 'act4', 'act5', 'act6', 'act7', ...).",
        "condition column 'qq' (milestone 'm') is not a column of the log; columns: case, activity.",
    ]
    with pytest.raises(JourneyDefinitionError, match=r"\(2 problems\)"):
        j.check(log)


def test_check_with_a_real_log(small_df):
    import journeylab as jl

    log = jl.from_pandas(small_df, case="client", activity="step", timestamp="ts", channel="where")
    good = Journey("shop", [Milestone("visit", ["visit"]), Milestone("cart", ["cart"]),
                            Milestone("buy", ["buy"], conditions="amount > 50 and channel == 'app'")],
                   goal=Goal("purchase", "buy"))
    assert good.check(log) is good
    assert good.problems(log) == []
    assert good.milestone_of(log).astype(object).tolist() == ["visit", "cart", "buy", "visit", "cart", "visit"]
    assert good.goal.matches(log.to_pandas()).sum() == 1

    bad = Journey("shop", [Milestone("visit", ["visits"]), Milestone("buy", ["buy"], conditions="where == 'app'")],
                  exit=["bye"])
    with pytest.raises(JourneyDefinitionError, match=r"(?s)journey 'shop' does not fit the log \(3 problems\):\n"
                                                     r"  - activity 'visits' \(milestone 'visit'\) is not in the log; "
                                                     r"closest: 'visit'.\n  - activity 'bye' \(exit\) is not in the "
                                                     r"log; closest: 'buy'.\n  - condition column 'where' \(milestone "
                                                     r"'buy'\) is not a column of the log; the log names its channel "
                                                     r"role 'channel' \(canonical name\): write channel instead of "
                                                     r"where.\n"):
        bad.check(log)


def _fit_journey():
    return Journey("shop", [Milestone("visit", ["visit", "visits"]), Milestone("cart", ["add_to_kart"]),
                            Milestone("help", ["halp"], optional=True)],
                   entry=["landing"], exit=["bye"], phases={"p": ["visit", "ad"]},
                   goal=Goal("purchase", "purchse", conditions="amount > 1"))


def test_problems_say_what_is_fatal_and_why():
    log = SimpleNamespace(activities=("visit", "add_to_cart", "purchase", "help"), columns=("case", "activity"))
    found = {p.name: p for p in _fit_journey().problems(log)}
    assert list(found) == ["visits", "add_to_kart", "halp", "landing", "bye", "purchse", "ad", "amount"]
    # one of two activities of a milestone, an optional milestone, an exit, a phase: minor
    assert [n for n, p in found.items() if not p.fatal] == ["visits", "halp", "bye", "ad"]
    assert found["add_to_kart"].why == "the happy-path milestone 'cart' matches no event"
    assert found["landing"].why == "nobody enters the journey"
    assert found["purchse"].why == "nobody can attain the goal" and found["purchse"].closest == ("purchase",)
    assert found["purchse"].hint == "closest: 'purchase'" and found["purchse"].places == ("goal",)
    assert found["amount"].kind == "column" and found["amount"].fatal and found["amount"].places == ("goal",)
    assert found["visits"].kind == "activity" and found["visits"].why == ""
    # the problems are the advice lines they always were
    assert found["add_to_kart"] == ("activity 'add_to_kart' (milestone 'cart') is not in the log; closest: "
                                    "'add_to_cart'.")
    import pickle

    back = pickle.loads(pickle.dumps(found["purchse"]))
    assert back == found["purchse"] and back.fatal and back.closest == ("purchase",)


def test_problems_of_some_parts():
    log = SimpleNamespace(activities=("visit", "add_to_cart"), columns=("case", "activity"))
    j = _fit_journey()
    assert [p.name for p in j.problems(log, parts=["milestones"])] == ["visits", "add_to_kart", "halp"]
    assert [p.name for p in j.problems(log, parts="goal")] == ["purchse", "amount"]
    assert [p.name for p in j.problems(log, parts=("entry", "exit"))] == ["landing", "bye"]
    with pytest.raises(InvalidParameterError, match=r"parts=\['milestone'\] must name parts of a journey: one or "
                                                    r"several of \['milestones', 'entry', 'exit', 'goal', 'phases'\]"):
        j.problems(log, parts=["milestone"])


def test_check_minor_warn_or_ignore():
    import warnings

    from journeylab.exceptions import DataQualityWarning

    log = SimpleNamespace(activities=("visit", "add_to_cart", "purchase", "landing"), columns=("case", "activity"))
    j = Journey("shop", [Milestone("visit", ["visit", "visits"]), Milestone("cart", ["add_to_cart"])], exit=["bye"])
    with pytest.raises(JourneyDefinitionError, match=r"\(2 problems\)"):
        j.check(log)
    with pytest.warns(DataQualityWarning, match=r"(?s)journey 'shop': some of its activities never occur in the "
                                                r"log, so they never match:\n  - activity 'visits' \(milestone "
                                                r"'visit'\) is not in the log.*  - activity 'bye' \(exit\)") as rec:
        assert j.check(log, minor="warn") is j
    assert rec[0].filename == __file__  # the line that called check
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert j.check(log, minor="ignore") is j
    fatal = Journey("shop", [Milestone("visit", ["visits"]), Milestone("cart", ["add_to_cart"])], exit=["bye"])
    with pytest.raises(JourneyDefinitionError, match=r"(?s)\(2 problems\):\n  - activity 'visits' .*  - activity "
                                                     r"'bye' .*\nSo the happy-path milestone 'visit' matches no "
                                                     r"event.\nFix the names"):
        fatal.check(log, minor="warn")
    with pytest.raises(InvalidParameterError, match=r"minor='loud' is not allowed; use 'raise', 'warn' or 'ignore'"):
        j.check(log, minor="loud")


# --------------------------------------------------------------------------- display


def test_repr(journey):
    assert repr(journey) == ("Journey 'online purchase': 4 milestones, happy path browse > cart > payment, "
                             "goal purchase")
    assert repr(Journey("solo", [Milestone("a", ["x"])])) == "Journey 'solo': 1 milestone, happy path a"


def test_repr_html(journey):
    out = journey._repr_html_()
    assert out.count("<tr>") == 5  # header + 4 milestones
    assert "<td>payment</td><td>payment</td><td>amount &gt; 50</td><td>positive</td><td></td><td>1d</td>" in out
    assert "goal: purchase (activity == &#x27;purchase&#x27; and amount &gt; 50; target 1,000; window 3d)" in out
    weird = Journey("<script>", [Milestone("<b>", ["<i>"])])._repr_html_()
    assert "<script>" not in weird and "&lt;b&gt;" in weird
    many = Journey("big", [Milestone(f"m{i}", ["x"]) for i in range(60)])._repr_html_()
    assert many.count("<tr>") == 51 and "10 more milestones" in many


def test_frozen_map():
    m = FrozenMap({"a": 1, "b": 2})
    assert m == {"b": 2, "a": 1} and m != FrozenMap({"b": 2, "a": 1})  # order matters between FrozenMaps
    assert repr(m) == "FrozenMap({'a': 1, 'b': 2})"
    assert hash(m) == hash(FrozenMap([("a", 1), ("b", 2)]))
    assert (m == 3) is False


def test_yaml_round_trip_keeps_line_separator_characters(tmp_path):
    """Found by hypothesis: YAML folds NEL (\\x85) and U+2028 into spaces unless they are escaped."""
    j = Journey.from_dict({
        "name": "nel",
        "milestones": [{"name": "m", "activities": ["a\u2028b"], "when": "amount == '\x85'"}],
    })
    assert Journey.from_yaml(j.to_yaml(tmp_path / "j.yaml")) == j
