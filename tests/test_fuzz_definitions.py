"""Fuzzing the definition languages: conditions, journey dicts and YAML journeys.

Whatever the input - random text, text shaped like the real grammar, random nested
structures - the answer is a result or a JourneylabError with a bounded message: never
another exception, never a hang (a hypothesis deadline bounds each example; input sizes
are bounded).

The number of examples follows the hypothesis profile registered in conftest.py: "fast"
by default, "thorough" with JOURNEYLAB_FUZZ=thorough (50 times more).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from journeylab.conditions import OPERATORS, Condition, parse_conditions
from journeylab.exceptions import JourneylabError
from journeylab.journey import Journey

_SCALE = max(1, settings.default.max_examples // settings.get_profile("fast").max_examples)
_DEADLINE = dt.timedelta(seconds=5)  # generous on a shared machine; a hang takes far longer
_MAX_MESSAGE = 3_000  # every message cuts the user values it shows


def fuzz(n: int, *, deadline=_DEADLINE):
    """Settings for a fuzz test: ``n`` examples in the fast profile, scaled by the active profile."""
    return settings(max_examples=n * _SCALE, deadline=deadline)


def outcome(call, *args, **kwargs):
    """The result, or the JourneylabError (asserting its message is bounded); anything else fails."""
    try:
        return call(*args, **kwargs)
    except JourneylabError as err:
        assert len(str(err)) < _MAX_MESSAGE, f"unbounded message ({len(str(err)):,} characters)"
        return err


# --------------------------------------------------------------------------- the condition language

_TOKENS = [
    # names, keywords, backticked names
    "amount", "channel", "x", "_a1", "and", "or", "not", "in", "true", "false", "AND", "True", "`order amount`",
    "`a.b`", "``", "`", "`x", "é", "prix_€", "名前",
    # numbers: signed, exponents, huge, durations written without quotes
    "0", "1", "-1", "+5", "-3.5", ".5", "5.", "1e5", "-1e-5", "1e400", "-1e400", "1e", "9" * 120, "1" * 5000,
    "2d", "-2d", "+2d", "1d12h", "-2.5h", "90min", "0x1F", "1_000", "1.2.3",
    # text
    "'web'", '"app"', "'it\\'s'", "'\\\\'", "'", '"', "'unterminated", "''", "'a\x00b'", "'\u2028'",
    # operators and punctuation
    "==", "!=", ">", ">=", "<", "<=", "=", "!", "=>", "===", "[", "]", "(", ")", ",", ";", ".", "&", "|", "+", "-",
    "*", "/", "%", "~", "^", "@", ":", "\\", "\x00", "\t", "\n", " ", "\u00a0", "\U0001F600",
]

_grammar_text = st.lists(st.sampled_from(_TOKENS), max_size=30).flatmap(
    lambda toks: st.lists(st.sampled_from(["", " ", "  "]), min_size=len(toks), max_size=len(toks)).map(
        lambda seps: "".join(t + s for t, s in zip(toks, seps))))

_conditions_text = st.builds(
    lambda parts: " and ".join(parts),
    st.lists(st.builds(lambda c, o, v: f"{c} {o} {v}", st.sampled_from(_TOKENS[:20]), st.sampled_from(OPERATORS),
                       st.sampled_from(_TOKENS[20:45]) | st.builds(lambda vs: "[" + ", ".join(vs) + "]",
                                                                   st.lists(st.sampled_from(_TOKENS[20:50]),
                                                                            max_size=4))),
             min_size=1, max_size=4))


def _check_parse(text):
    found = outcome(parse_conditions, text, where="fuzz")
    if isinstance(found, tuple):
        assert found and all(isinstance(c, Condition) for c in found)
        for c in found:  # what is parsed prints back as text that parses to the same condition
            assert parse_conditions(str(c)) == (c,)


@fuzz(60)
@given(st.text(max_size=300))
@example("stalled_for > -2d")  # an AttributeError before issue 13
@example("x > " + "9" * 5000)  # a ValueError (int() beyond 4300 digits) before issue 13
@example("x > -2.5d and y == +1e400")
def test_random_text_parses_or_refuses(text):
    _check_parse(text)


@fuzz(60)
@given(_grammar_text)
def test_grammar_shaped_text_parses_or_refuses(text):
    _check_parse(text)


@fuzz(60)
@given(_conditions_text)
def test_condition_shaped_text_parses_or_refuses(text):
    _check_parse(text)


@fuzz(30, deadline=None)
@given(st.text(alphabet="amount >=<!'`[](),and -+.0123456789ed\\\"", min_size=2_000, max_size=4_000))
def test_long_text_parses_or_refuses(text):
    _check_parse(text)


# --------------------------------------------------------------------------- every operator on every column type

EVENTS = pd.DataFrame({
    "int": [1, 2, 3], "float": [1.5, np.nan, 3.0], "f32": np.array([1, 2, 3], dtype="float32"),
    "uint": np.array([1, 2, 3], dtype="uint64"), "Int64": pd.array([1, None, 3], dtype="Int64"),
    "bool": [True, False, True], "boolean": pd.array([True, None, False], dtype="boolean"),
    "str": pd.array(["a", "b", None], dtype="str"), "object": pd.Series(["a", 1, None], dtype=object),
    "cat": pd.Categorical(["a", "b", "a"]), "catint": pd.Categorical([1, 2, 1]),
    "dt": pd.to_datetime(["2025-01-01", None, "2025-02-01"]),
    "dttz": pd.to_datetime(["2025-03-30 01:00", "2025-10-26 02:30", None]).tz_localize("UTC")
    .tz_convert("Europe/Paris"),
    "td": pd.to_timedelta(["1D", None, "3h"]), "allnan": [np.nan] * 3, "none": pd.Series([None] * 3, dtype=object),
    "period": pd.period_range("2025-01", periods=3, freq="M"), "interval": pd.interval_range(0, 3),
    "lists": pd.Series([[1], [2], None], dtype=object), "bytes": pd.Series([b"a", b"b", None], dtype=object),
    "cplx": [1j, 2, 3],
})

_values = st.one_of(
    st.integers(), st.integers(-(10**99), 10**99), st.floats(), st.booleans(), st.text(max_size=20),
    st.sampled_from(["2025-01-01", "2025-03-30 02:30", "2025-10-26 02:30", "now", "2d", "-2d", "1 day", "nat", "a",
                     "", "99999-01-01", "1e400"]),
)


@fuzz(150)
@given(column=st.sampled_from(list(EVENTS.columns)), op=st.sampled_from(OPERATORS), value=_values,
       more=st.lists(_values, max_size=3))
@example(column="bool", op="==", value=10**30, more=[])  # an OverflowError before issue 13
@example(column="dttz", op=">", value="2025-03-30 02:30", more=[])  # a local time that does not exist
def test_every_operator_on_every_column_type(column, op, value, more):
    cond = outcome(Condition, column, op, [value, *more] if op in ("in", "not in") else value)
    if isinstance(cond, Condition):
        mask = outcome(cond.matches, EVENTS)
        if isinstance(mask, pd.Series):
            assert mask.dtype == bool and mask.index.equals(EVENTS.index)
            assert not mask[EVENTS[column].isna().to_numpy()].any()  # a missing value never matches


# --------------------------------------------------------------------------- journeys from dicts

_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10),
                     st.sampled_from(["2d", "36h", "-2d", "25%", "purchase", "negative", "amount > 5", "x ==",
                                      "view", "cart"]),
                     st.integers(10**300, 10**400))
_keys = st.one_of(st.sampled_from(["name", "activities", "when", "kind", "optional", "type", "activity", "target",
                                   "window", "cart", "x"]),
                  _scalars.filter(lambda v: v is None or isinstance(v, (str, int))))
_anything = st.recursive(
    _scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=4), max_leaves=20)
_milestone = st.fixed_dictionaries(
    {"name": st.sampled_from(["cart", "pay", "view"]) | _anything,
     "activities": st.lists(st.sampled_from(["add_to_cart", "payment", "view"]), max_size=3) | _anything},
    optional={"when": _anything | st.sampled_from(["amount > 5", "channel == 'web'", "x > -2d"]),
              "kind": st.sampled_from(["positive", "negative", "negativ"]) | _anything,
              "optional": st.booleans() | _anything})
_journey = st.fixed_dictionaries(
    {"name": st.sampled_from(["j"]) | _anything,
     "milestones": st.lists(_milestone | _anything, max_size=4) | _anything},
    optional={"entry": _anything, "exit": _anything,
              "stall_after": st.dictionaries(st.sampled_from(["cart", "pay", "x"]), _anything, max_size=3) | _anything,
              "phases": st.dictionaries(st.text(max_size=5), _anything, max_size=3) | _anything,
              "goal": st.fixed_dictionaries({"type": st.sampled_from(["purchase", "custom"]) | _anything,
                                             "activity": st.sampled_from(["payment"]) | _anything},
                                            optional={"target": _anything, "window": _anything,
                                                      "when": _anything}) | _anything})


@fuzz(100)
@given(_journey | _anything)
def test_random_structures_give_a_journey_or_a_clear_error(data):
    journey = outcome(Journey.from_dict, data)
    if isinstance(journey, Journey):
        assert Journey.from_yaml_string(journey.to_yaml()) == journey


# --------------------------------------------------------------------------- journeys from YAML text

_YAML_PIECES = ["name: j\n", "milestones:\n", "  - {name: a, activities: [x]}\n", "- ", "  ", "\n", ": ", "[", "]",
                "{", "}", ",", "&a ", "*a", "&b ", "*b", "<<: *a\n", "!!int ", "!!float ", "!!timestamp ",
                "!!binary ", "!!set ", "!!python/object:os.system ", "? ", "|\n", ">\n", "'", '"', "#", "---\n",
                "...\n", "%YAML 1.1\n", "2025-02-30", "0x1F", "1_000", "190:20:30", "9" * 150, ".inf", "~", "null",
                "yes", "\t", "\x00", "\ufeff", "é", "\u2028"]


@fuzz(100)
@given(st.lists(st.sampled_from(_YAML_PIECES) | st.text(max_size=5), max_size=40).map("".join))
@example("name: [&a [x, x], &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]]\nmilestones: *b\n")
@example("a: 2025-02-30\n")  # a ValueError before issue 13
@example("[" * 2_000)  # a RecursionError before issue 13
def test_random_yaml_text_gives_a_journey_or_a_clear_error(text):
    outcome(Journey.from_yaml_string, text)


@fuzz(60)
@given(_journey)
def test_valid_yaml_of_random_structures_gives_a_journey_or_a_clear_error(data):
    try:
        text = yaml.safe_dump(data, allow_unicode=True)
    except (yaml.YAMLError, ValueError, OverflowError):  # a value YAML cannot write (e.g. a number of 400 digits)
        return
    outcome(Journey.from_yaml_string, text)
