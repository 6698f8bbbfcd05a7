"""Tests of journeylab.rules: rule conditions on journey state, and the action table."""

from __future__ import annotations

import matplotlib
import pandas as pd
import pytest

import journeylab as jl
from journeylab.exceptions import DataQualityWarning, InvalidParameterError
from journeylab.journey import Criteria, Journey
from journeylab.rules import Rule, RuleActions, evaluate_rules

matplotlib.use("Agg")
pytestmark = pytest.mark.filterwarnings("ignore::journeylab.exceptions.DataQualityWarning")

T0 = pd.Timestamp("2025-05-05", tz="UTC")

JOURNEY = Journey.from_dict({
    "name": "checkout",
    "entry": ["view"],
    "exit": ["delivered"],
    "milestones": [
        {"name": "browse", "activities": ["view"]},
        {"name": "cart", "activities": ["cart"]},
        {"name": "payment", "activities": ["payment"]},
        {"name": "purchase", "activities": ["purchase"]},
    ],
    "stall_after": {"cart": "1d", "payment": "12h"},
    "goal": {"type": "purchase", "activity": "purchase"},
})

REMINDER = [{"name": "payment reminder", "when": "stalled_at == 'payment' and stalled_for > '2d'",
             "action": "send_reminder"}]


def at(days: float = 0, **kw) -> str:
    return (T0 + pd.Timedelta(days=days, **kw)).isoformat()


def make_log(rows, **attrs) -> jl.EventLog:
    df = pd.DataFrame({"who": [r[0] for r in rows], "what": [r[1] for r in rows], "when": [r[2] for r in rows]})
    for k, v in attrs.items():
        df[k] = v
    return jl.from_pandas(df, case="who", activity="what", timestamp="when")


def due(result: RuleActions, rule: str | None = None) -> list[str]:
    a = result.actions
    if rule is not None:
        a = a[a["rule"] == rule]
    return sorted(a["customer"])


# --------------------------------------------------------------------------- the notebook example


def test_stalled_at_payment_for_more_than_two_days():
    log = make_log([
        ("a", "view", at(0)), ("a", "cart", at(0, hours=1)), ("a", "payment", at(1)),           # 3 days at payment
        ("b", "view", at(0)), ("b", "payment", at(2)),                                           # exactly 2 days
        ("c", "view", at(0)), ("c", "payment", at(0, hours=1)), ("c", "purchase", at(1)),       # moved on
        ("d", "view", at(0)), ("d", "payment", at(0)), ("d", "delivered", at(1)),               # left the journey
        ("e", "view", at(0)), ("e", "payment", at(0)), ("e", "payment", at(3)),                 # arrival counts
        ("z", "view", at(4)),
    ])
    r = evaluate_rules(log, JOURNEY, REMINDER)
    assert due(r) == ["a", "e"]
    row = r.actions.set_index("customer").loc["a"]
    assert row["action"] == "send_reminder" and row["rule"] == "payment reminder"
    assert row["reason"] == "stalled_at = 'payment', stalled_for = 3.0 d"
    assert row["as_of"] == T0 + pd.Timedelta(days=4)
    st = r.state
    assert st.loc["b", "stalled_for"] == pd.Timedelta(days=2)
    assert st.loc["c", "stalled_at"] == "purchase" and pd.isna(st.loc["d", "stalled_at"])
    assert not st.loc["d", "in_journey"] and st.loc["d", "milestone"] == "payment"
    ge = evaluate_rules(log, JOURNEY, [{**REMINDER[0], "when": "stalled_at == 'payment' and stalled_for >= '2d'"}])
    assert due(ge) == ["a", "b", "e"]


def test_as_of_moves_the_clock():
    log = make_log([("a", "view", at(0)), ("a", "payment", at(1)), ("a", "purchase", at(5))])
    assert due(evaluate_rules(log, JOURNEY, REMINDER, as_of=at(3, seconds=1))) == ["a"]
    assert due(evaluate_rules(log, JOURNEY, REMINDER, as_of=at(3))) == []
    assert due(evaluate_rules(log, JOURNEY, REMINDER)) == []  # bought at day 5


# --------------------------------------------------------------------------- the vocabulary


def test_milestones_reached_stalled_and_goal():
    log = make_log([("a", "view", at(0)), ("a", "cart", at(0)),                       # cart for 4d: stalled (1d)
                    ("b", "view", at(0)), ("b", "cart", at(3, hours=12)),             # cart for 12h
                    ("c", "view", at(0)), ("c", "purchase", at(1)),
                    ("z", "view", at(4))])
    rules = [
        {"name": "stalled", "when": "stalled == true", "action": "nudge"},
        {"name": "carted", "when": "reached_cart == true and goal_reached == false", "action": "offer"},
        {"name": "bought", "when": "goal_reached == true and milestone == 'purchase'", "action": "thank"},
        {"name": "not carted", "when": "reached_cart == false and in_journey == true", "action": "inspire"},
    ]
    r = evaluate_rules(log, JOURNEY, rules)
    assert due(r, "stalled") == ["a"]
    assert due(r, "carted") == ["a", "b"]
    assert due(r, "bought") == ["c"]
    assert due(r, "not carted") == ["c", "z"]
    assert r.state.loc["a", "milestone_at"] == T0
    assert r.state.loc["c", "goal_at"] == T0 + pd.Timedelta(days=1)
    assert list(r.summary["customers"]) == [1, 2, 1, 2]


def test_attributes_and_session_variables():
    log = make_log([("a", "view", at(0)), ("a", "delivered", at(1)),        # entry 1 on the app
                    ("a", "view", at(2)), ("a", "cart", at(3)),             # entry 2 on the web, channel not set
                    ("b", "view", at(0)), ("b", "cart", at(1))],
                   device=["app", "app", "web", None, "app", "app"],
                   tier=["gold", None, None, None, "silver", "silver"])
    rules = [
        {"name": "app session", "when": "`session.device` == 'app'", "action": "push"},
        {"name": "app profile", "when": "device == 'app'", "action": "push2"},
        {"name": "gold", "when": "tier in ['gold', 'platinum']", "action": "vip"},
    ]
    r = evaluate_rules(log, JOURNEY, rules)
    assert r.state.loc["a", "session.device"] == "web"       # variables are cleared when a new entry starts
    assert pd.isna(r.state.loc["a", "session.tier"])
    assert r.state.loc["a", "tier"] == "gold"                # the profile keeps the latest known value
    assert due(r, "app session") == ["b"]
    assert due(r, "app profile") == ["b"]
    assert due(r, "gold") == ["a"]
    assert r.state.loc["a", "entries"] == 2


def test_since_last_event_and_callable_rules():
    log = make_log([("a", "view", at(0)), ("b", "view", at(3))])

    def quiet_for_a_while(state):
        return state["since_last_event"] > pd.Timedelta(days=2)

    r = evaluate_rules(log, JOURNEY, [Rule("quiet", quiet_for_a_while, "email"),
                                      {"name": "quiet2", "when": "since_last_event > '2d'", "action": "sms"}])
    assert due(r, "quiet") == due(r, "quiet2") == ["a"]
    assert r.actions.loc[r.actions["rule"] == "quiet", "reason"].iloc[0] == "quiet_for_a_while(state)"


def test_reasons_show_durations_as_every_table_does():
    log = make_log([("a", "view", at(0)), ("b", "view", at(147)), ("c", "view", at(150, minutes=-90))])
    r = evaluate_rules(log, JOURNEY, [{"name": "quiet", "when": "since_last_event > '1min'", "action": "sms"}],
                       as_of=at(150))
    reasons = dict(zip(r.actions["customer"], r.actions["reason"]))
    assert reasons == {"a": "since_last_event = 150 d", "b": "since_last_event = 3.0 d",
                       "c": "since_last_event = 1.5 h"}  # _core.formatting.format_duration: no decimal from 100 on


def test_excluded_and_suppressed_customers_get_no_action():
    log = make_log([("a", "view", at(0)), ("a", "payment", at(0)), ("b", "view", at(0)), ("b", "payment", at(0)),
                    ("c", "view", at(0)), ("c", "payment", at(0)), ("c", "unsubscribe", at(1)), ("z", "view", at(4))],
                   staff=[True, True, False, False, False, False, False, False])
    r = evaluate_rules(log, JOURNEY, REMINDER, exclusion=Criteria(conditions="staff == true"),
                       suppression="unsubscribe")
    assert due(r) == ["b"]
    assert "a" not in r.state.index and "c" not in r.state.index


def test_rules_from_yaml_text_and_file(tmp_path):
    log = make_log([("a", "view", at(0)), ("a", "payment", at(0)), ("z", "view", at(3))])
    text = ("rules:\n  - name: payment reminder\n    when: \"stalled_at == 'payment' and stalled_for > '2d'\"\n"
            "    action: send_reminder\n")
    assert due(evaluate_rules(log, JOURNEY, text)) == ["a"]
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    assert due(evaluate_rules(log, JOURNEY, path)) == ["a"]
    assert due(evaluate_rules(log, JOURNEY, str(path))) == ["a"]


# --------------------------------------------------------------------------- output


def test_outputs_csv_parquet_repr_plot(tmp_path):
    import matplotlib.pyplot as plt

    log = make_log([("a", "view", at(0)), ("a", "payment", at(0)), ("b", "view", at(0)), ("z", "view", at(3))])
    r = evaluate_rules(log, JOURNEY, REMINDER + [{"name": "all", "when": "in_journey == true", "action": "log"}])
    assert list(r.actions.columns) == ["customer", "rule", "action", "reason", "as_of"]
    assert repr(r) == "RuleActions: 2 rules, 4 actions due for 3 of 3 customers as of 2025-05-08 00:00"
    csv = r.to_csv(tmp_path / "out" / "actions.csv")
    back = pd.read_csv(csv)
    assert back["customer"].tolist() == ["a", "a", "b", "z"] and back["as_of"].iloc[0] == "2025-05-08T00:00:00+0000"
    pq = r.to_parquet(tmp_path / "actions.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(pq), r.actions, check_dtype=False)
    assert not list(tmp_path.glob(".*.tmp")) and not list((tmp_path / "out").glob(".*.tmp"))
    assert "payment reminder" in r._repr_html_()
    ax = r.plot()
    ax.figure.savefig(tmp_path / "rules.png")
    plt.close(ax.figure)
    empty = evaluate_rules(log, JOURNEY, [{"name": "none", "when": "entries > 5", "action": "x"}])
    assert len(empty.actions) == 0 and list(empty.actions.columns) == list(r.actions.columns)
    assert empty.summary.loc["none", "customers"] == 0


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("rules, match", [
    ([{"name": "r", "when": "staled_at == 'payment'", "action": "x"}],
     r"'staled_at' is not a state field. Did you mean 'stalled_at'"),
    ([{"name": "r", "when": "stalled_for > 2", "action": "x"}], r"stalled_for=2 is a bare number.*stalled_for='30min'"),
    ([{"name": "r", "when": "stalled_for in ['2d']", "action": "x"}], r"is a duration; compare it with <"),
    ([{"name": "r", "if": "in_journey == true", "action": "x"}], r"unknown key 'if'. Did you mean 'when'"),
    ([{"name": "r", "when": "in_journey == true"}], r"missing 'action'"),
    ([{"name": "r", "when": "in_journey == true", "action": ""}], r"action='' must be a non-empty text"),
    ([{"name": "r", "when": "a == 1 or b == 2", "action": "x"}], r"'or' is not supported"),
    ([{"name": "r", "when": "__import__('os')", "action": "x"}], r"function calls are not allowed"),
    ([{"name": "r", "when": "in_journey == true", "action": "x"}] * 2, r"two rules are named 'r'"),
    ([], r"rules is empty"),
    (42, r"rules=42 must be a list of rules"),
    ([Rule("r", lambda s: s["entries"], "x")], r"must return a boolean Series"),
    ([{"name": "r", "when": "session_device == 'app'", "action": "x"}], r"written `session.<column>`"),
    ("missing/rules.yaml", r"rules file 'missing/rules.yaml' does not exist"),
])
def test_bad_rules(rules, match):
    log = make_log([("a", "view", at(0)), ("a", "payment", at(0))], device=["app", "app"])
    with pytest.raises(InvalidParameterError, match=match):
        evaluate_rules(log, JOURNEY, rules)


def test_attribute_named_like_a_state_field_warns():
    log = make_log([("a", "view", at(0))], milestone=["x"])
    with pytest.warns(DataQualityWarning, match=r"attribute\(s\) \['milestone'\] have the name of a journey state"):
        r = evaluate_rules(log, JOURNEY, [{"name": "r", "when": "`session.milestone` == 'x'", "action": "y"}])
    assert due(r) == ["a"] and r.state.loc["a", "milestone"] == "browse"


def test_log_journey_and_timeout_are_checked_with_advice():
    log = make_log([("a", "view", at(0))])
    with pytest.raises(InvalidParameterError, match=r"got a pandas DataFrame: wrap it with jl.from_pandas\(df"):
        evaluate_rules(log.to_pandas(), JOURNEY, REMINDER)
    with pytest.raises(InvalidParameterError, match="journey must be a journeylab Journey, got a dict"):
        evaluate_rules(log, {"name": "j"}, REMINDER)
    with pytest.raises(InvalidParameterError, match="timeout='2' is a bare number"):
        evaluate_rules(log, JOURNEY, REMINDER, timeout="2")
    with pytest.raises(InvalidParameterError, match=r"other_journeys\[0\] is a str, not a Journey"):
        evaluate_rules(log, JOURNEY, REMINDER, other_journeys=["promo"])


def test_docstring_examples():
    import doctest

    from journeylab import rules

    res = doctest.testmod(rules, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.failed == 0 and res.attempted > 0
