"""Hostile journey definitions, rules files and conditions (issue 13): each gets a clear, short
JourneylabError - never a raw exception, a hang, gigabytes of memory or a gigabyte message."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import journeylab as jl
from journeylab._core.formatting import cut
from journeylab.conditions import Condition, parse_conditions
from journeylab.exceptions import InvalidParameterError, JourneyDefinitionError
from journeylab.journey import Journey
from journeylab.rules import Rule, evaluate_rules

ROOT = Path(__file__).resolve().parents[1]
MINIMAL = "milestones: [{name: cart, activities: [add_to_cart]}]\n"


def laughs(levels: int = 9, *, key: str = "name") -> str:
    """A "billion laughs" document: 9**levels values from a few hundred bytes of aliases."""
    parts = ['&a ["x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdefghijk", "bcdefghijkl"[: levels - 1]):
        parts.append(f"&{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return f"{key}: [\n  " + ",\n  ".join(parts) + "]\n" + (MINIMAL if key == "name" else "")


def short(err: pytest.ExceptionInfo, limit: int = 700) -> str:
    text = str(err.value)
    assert len(text) < limit, f"message of {len(text):,} characters"
    return text


# --------------------------------------------------------------------------- the helper that cuts values


def test_cut_bounds_every_kind_of_value():
    shared = ["x"] * 9
    for _ in range(8):  # 9**9 strings through shared references: repr() would be 2 GB
        shared = [shared] * 9
    recursive: list = []
    recursive.append(recursive)

    class Hostile:
        def __repr__(self):
            raise RuntimeError("no repr")

    for value in (shared, recursive, "x" * 10**6, b"x" * 10**6, 10**5000, {i: i for i in range(10**4)},
                  jl.journey.FrozenMap({"a": shared}), Hostile(), [Hostile()], np.arange(10**6),
                  pd.Series(range(10**5)), type("L", (list,), {})(shared)):
        text = cut(value)
        assert isinstance(text, str) and len(text) <= 110 and "\n" not in text
    assert cut("abc") == "'abc'" and cut(3) == "3" and cut(["a"]) == "['a']"
    assert cut("x" * 1000, 20) == "'xxxxxxxxxxxxxxx... (1,000 characters)"
    assert cut(-(10**5000)) == "<-number of ~5,001 digits>"
    assert cut(Hostile()) == "<Hostile>"


# --------------------------------------------------------------------------- alias bombs, depth, size


_MEASURE = textwrap.dedent("""
    import resource, sys
    from journeylab.journey import Journey
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        Journey.from_yaml(sys.argv[1])
    except Exception as err:
        print(type(err).__name__, len(str(err)))
    print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
""")


def test_billion_laughs_journey_is_refused_without_expanding_it(tmp_path):
    """Before issue 13 this 373-byte file ran for minutes, took over 12 GB and printed a 2 GB error."""
    path = tmp_path / "laughs.yaml"
    path.write_text(laughs(9))
    assert path.stat().st_size < 400
    with pytest.raises(JourneyDefinitionError, match=r"laughs.yaml, line 10, column 7: the aliases \(\*name\) repeat "
                       r"anchored values into 490,329,065 values \(at most 10,000 may come from aliases: this is a "
                       r"'billion laughs' document\); the largest is \*h\. A journey or rules file may use aliases "
                       r"only to repeat small values"):
        Journey.from_yaml(path)
    # in a fresh process: the refusal costs no memory (a safety timeout, not a speed test)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True, timeout=300,
                          cwd=ROOT, env=env, check=True)
    kind_size, grown = done.stdout.split("\n")[:2]
    assert kind_size.split()[0] == "JourneyDefinitionError" and int(kind_size.split()[1]) < 400
    assert int(grown) < 100  # MB of peak RSS added by loading the file


def test_billion_laughs_rules_are_refused(tmp_path):
    log = jl.from_pandas(pd.DataFrame({"c": ["a"], "a": ["view"], "t": ["2025-01-01"]}), case="c", activity="a",
                         timestamp="t")
    journey = Journey.from_dict({"name": "j", "milestones": [{"name": "browse", "activities": ["view"]}]})
    path = tmp_path / "rules.yaml"
    path.write_text(laughs(9, key="rules"))
    for rules in (path, str(path), laughs(9, key="rules")):
        with pytest.raises(JourneyDefinitionError, match=r"repeat anchored values into 490,329,0\d\d values") as err:
            evaluate_rules(log, journey, rules)
        short(err)


@pytest.mark.parametrize("text, match", [
    ("a: &a [*a]\n", r"line 1, column 8: the alias \*a is used inside the value it names, which would repeat "
                     r"forever; write the value out instead of the alias"),
    ("a: &a {b: *a}\n", r"the alias \*a is used inside the value it names"),
    ("a: &a {<<: *a}\n", r"the alias \*a is used inside the value it names"),
    ("[" * 60 + "]" * 60, r"line 1, column 51: the YAML is nested more than 50 levels deep; a journey definition "
                          r"needs 4 \(journey > milestones > milestone > activities\). Remove the extra nesting"),
    ("[" * 100_000, r"nested more than 50 levels deep"),  # a RecursionError before issue 13
    ("{a: " * 2_000, r"nested more than 50 levels deep"),
    ("- " * 2_000 + "x", r"nested more than 50 levels deep"),
    ("\n".join(" " * i + "a:" for i in range(200)), r"nested more than 50 levels deep"),
    ("a0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [[[[[[[[[[*a{i - 1}]]]]]]]]]]\n" for i in range(1, 10)),
     r"the aliases nest the values more than 50 levels deep"),
    ("[" + "1," * 60_000 + "]", r"line 1, column 100000: the YAML holds more than 50,000 values; a journey or rules "
                                r"file holds a few hundred"),
    ("# " + "x" * 2_000_000, r"<yaml>: the YAML text has 2,000,002 characters \(at most 2,000,000\); a journey or "
                             r"rules file is a few KB"),
])
def test_hostile_yaml_structures(text, match):
    with pytest.raises(JourneyDefinitionError, match=match) as err:
        Journey.from_yaml_string(text)
    short(err)


def test_small_aliases_are_allowed():
    text = textwrap.dedent("""\
        name: j
        milestones:
          - {name: cart, activities: &cart [add_to_cart, basket]}
          - {name: pay, activities: [payment], when: &big "amount > 50"}
        entry: {activities: *cart}
        goal: {type: purchase, activity: purchase, when: *big}
    """)
    j = Journey.from_yaml_string(text)
    assert j.entry.activities == ("add_to_cart", "basket") and j.goal.conditions == j.milestone("pay").conditions
    # the budget: a list of 999 values repeated 10 times through aliases adds 9,000 values; 12 times, 11,000
    def repeated(times):
        return "a: &a [" + ", ".join(["x"] * 999) + "]\nb: [" + ", ".join(["*a"] * times) + "]\n"

    with pytest.raises(JourneyDefinitionError, match=r"journey: unknown key 'a'"):
        Journey.from_yaml_string(repeated(10))
    with pytest.raises(JourneyDefinitionError, match=r"repeat anchored values into 13,004 values \(at most 10,000"):
        Journey.from_yaml_string(repeated(12))


def test_oversized_files_are_refused_before_reading(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("name: j\n" + MINIMAL + "#" * 2_000_000)
    with pytest.raises(JourneyDefinitionError, match=r"journey file '.*big.yaml' is larger than 2,000,000 bytes; a "
                                                     r"journey or rules file is a few KB\. Check that this is the "
                                                     r"right file, or split it"):
        Journey.from_yaml(path)
    log = jl.from_pandas(pd.DataFrame({"c": ["a"], "a": ["v"], "t": ["2025-01-01"]}), case="c", activity="a",
                         timestamp="t")
    with pytest.raises(JourneyDefinitionError, match=r"rules file '.*big.yaml' is larger than 2,000,000 bytes"):
        evaluate_rules(log, Journey.from_dict({"name": "j", "milestones": [{"name": "v", "activities": ["v"]}]}),
                       path)


def test_unreadable_files(tmp_path):
    with pytest.raises(JourneyDefinitionError, match=r"journey file 'xxxxx+\.\.\.x+\.yaml' cannot be read "
                                                     r"\(.*\); check the path"):
        Journey.from_yaml("x" * 5_000 + ".yaml")  # an OSError (file name too long) before issue 13
    path = tmp_path / "rules.yaml"
    path.write_bytes(b"- name: r\n  when: \xff\n")
    log = jl.from_pandas(pd.DataFrame({"c": ["a"], "a": ["v"], "t": ["2025-01-01"]}), case="c", activity="a",
                         timestamp="t")
    with pytest.raises(JourneyDefinitionError, match=r"rules file '.*rules.yaml' is not UTF-8 text; save it as UTF-8"):
        evaluate_rules(log, Journey.from_dict({"name": "j", "milestones": [{"name": "v", "activities": ["v"]}]}),
                       path)  # a UnicodeDecodeError before issue 13
    with pytest.raises(JourneyDefinitionError, match=r"<yaml>: expected YAML text \(a str\), got bytes; pass the "
                                                     r"text, or the path of the file to Journey.from_yaml"):
        Journey.from_yaml_string(b"name: j")


# --------------------------------------------------------------------------- values PyYAML cannot construct


@pytest.mark.parametrize("text, match", [
    ("a: 2025-02-30", r"line 1, column 4: the value '2025-02-30' is not a valid timestamp \(day is out of range for "
                      r"month\); correct it, or quote it if it is text"),
    ("a: !!timestamp 2025-13-01", r"the value '2025-13-01' is not a valid timestamp \(month must be in 1..12\)"),
    ("a: !!int abc", r"the value 'abc' is not a valid int \(invalid literal for int\(\) with base 10: 'abc'\)"),
    ("a: !!float x", r"the value 'x' is not a valid float"),
    ("a: !!float", r"the value '' is not a valid float; correct it"),  # IndexError before issue 13
    ("!!int", r"the value '' is not a valid int"),  # IndexError
    ("a: !!bool maybe", r"the value 'maybe' is not a valid bool"),  # KeyError
    ("a: !!timestamp 2025", r"the value '2025' is not a valid timestamp"),  # AttributeError
    ("a: " + "9" * 5_000, r"line 1, column 4: the number '9999.*\(5,000 characters\) has 5,000 characters \(at most "
                          r"100\); quote it if it is text"),  # ValueError (int() beyond 4300 digits)
    ("a: " + "1:" * 50_000 + "1", r"has 100,001 characters \(at most 100\)"),  # base 60: quadratic
    ("a: !!int 0x" + "f" * 20_000, r"has 20,002 characters"),
])
def test_values_pyyaml_cannot_construct(text, match):
    with pytest.raises(JourneyDefinitionError, match=match) as err:
        Journey.from_yaml_string(text)
    short(err)


@pytest.mark.parametrize("text, match", [
    ("a: *" + "x" * 5_000, r"invalid YAML: found undefined alias 'xxxx.*\(\d,\d+ characters\)\. Fix the YAML"),
    ("a: !!" + "x" * 5_000 + " 1", r"the tag '!!xxxx.*\(155 characters\) is not allowed"),
    ("? " + "k" * 5_000 + "\n: 1\n? " + "k" * 5_000 + "\n: 2\n", r"line 3, column 3: duplicate key 'kkk.*\(5,000 "
                                                                  r"characters\) \(each key may appear once"),
])
def test_yaml_errors_cut_long_values(text, match):
    with pytest.raises(JourneyDefinitionError, match=match) as err:
        Journey.from_yaml_string(text)
    short(err)


# --------------------------------------------------------------------------- huge values in a journey


def _shared_list():
    value = ["x"] * 9
    for _ in range(8):
        value = [value] * 9
    return value


@pytest.mark.parametrize("data, match", [
    ({"name": _shared_list(), "milestones": []},
     r"journey: journey name \[\[\[\[\.\.\.\], \[\.\.\.\].*\.\.\. is a list, not text"),
    ({"name": "j", "milestones": _shared_list()}, r"milestones\[0\] must be a milestone \(name, activities, \.\.\.\), "
                                                  r"got \[\[\[\[\.\.\.\]"),
    ({"name": "j", "milestones": [{"name": "m", "activities": ["a"], "kind": _shared_list()}]},
     r"milestone 'm': kind=\[\[\[\[\.\.\.\].* is not allowed; use 'positive' or 'negative'\.$"),
    ({"name": "j", "milestones": [{"name": "m" * 10**6, "activities": ["a"], "kind": "x"}]},
     r"milestone 'mmmm.*\(1,000,000 characters\): kind='x' is not allowed"),
    ({"name": "j", "milestones": [{"name": "m", "activities": ["a"]}], **{f"k{i}": 1 for i in range(10**5)}},
     r"journey: unknown key 'k0'\. unknown key 'k1'\..*\(99,995 more unknown keys\.\) Allowed keys: name"),
    ({"name": "j", "milestones": [{"name": "m", "activities": ["a"]}], 10**5000: 1},
     r"journey: unknown key <number of ~5,001 digits>\. Allowed keys"),  # a ValueError before issue 13
    ({"name": "j", "milestones": [{"name": "m", "activities": ["a"]}], "stall_after": {"m": 10**5000}},
     r"stall_after\['m'\]: <number of ~5,001 digits> is a bare number; give a duration with a unit"),
    ({"name": "j", "milestones": [{"name": "m", "activities": ["a"]}], "stall_after": {"m": "-2d"}},
     r"stall_after\['m'\]: '-2d' must be a positive duration: it is a length of time, which cannot be negative"),
    ({"name": "j", "milestones": [{"name": "m", "activities": ["a"]}],
      "goal": {"type": _shared_list(), "activity": "a"}}, r"goal: type=\[\[\[\[\.\.\.\].* is not a goal type"),
])
def test_huge_values_give_short_messages(data, match):
    with pytest.raises(JourneyDefinitionError, match=match) as err:
        Journey.from_dict(data)
    short(err)


# --------------------------------------------------------------------------- conditions


@pytest.mark.parametrize("text, expected", [
    ("amount > +5", [("amount", ">", 5)]),
    ("amount >= -3.5", [("amount", ">=", -3.5)]),
    ("x == -1", [("x", "==", -1)]),
    ("x==-1 and y in [-1, +2.5, -.5]", [("x", "==", -1), ("y", "in", (-1, 2.5, -0.5))]),
    ("stalled_for > '-2d'", [("stalled_for", ">", "-2d")]),
])
def test_signed_numbers_parse(text, expected):
    assert [(c.column, c.op, c.value) for c in parse_conditions(text)] == expected
    df = pd.DataFrame({"amount": [4.0, 6.0], "x": [-1, 1], "y": [-0.5, 3.0]})
    if "stalled" not in text:
        assert parse_conditions(text)[0].matches(df).dtype == bool


@pytest.mark.parametrize("text, match", [
    # an AttributeError before issue 13
    ("stalled_for > -2d", r"condition 'stalled_for > -2d': '-2d' at position 14 is not a number; quote text, e.g. "
                          r"'-2d' \(a duration is quoted text with a unit, e.g. '2d', '36h', '90min' or '1d12h'\)"),
    ("x > +1d12h", r"'\+1d12h' at position 4 is not a number; quote text, e.g. '\+1d12h' \(a duration is quoted"),
    ("x > -2.5h", r"'-2.5h' at position 4 is not a number"),
    ("x > - 1", r"unexpected character '-' at position 4; arithmetic is not allowed, and a sign touches its "
                r"number: write -1, not - 1"),
    ("x > 1e400", r"the number 1e400 at position 4 is too large \(the largest is about 1.8e308\)"),
    ("x > -1e400", r"the number -1e400 at position 4 is too large"),
    ("x > " + "9" * 401, r"the number at position 4 has 401 characters \(at most 100\): 9999"),
    ("x > " + "9" * 5000, r"the number at position 4 has 5,000 characters"),  # a ValueError before issue 13
    ("é > 1", r"the character 'é' at position 0 cannot start a name; column names with characters other than A-Z, "
              r"a-z, 0-9 and _ go in backticks"),
    ("x > 1 and 名前 == 'a'", r"the character '名' at position 10 cannot start a name"),
    ("prix€ > 1", r"unexpected character '€' at position 4; .* \(a column name with other characters goes in "
                  r"backticks, e.g. `order amount`\)"),
    ("a\x00 > 1", r"unexpected character '\\x00' at position 1"),
    ("x == 'abc", r"unbalanced quotes: the text starting at position 5 \(\"'abc\"\) is never closed"),
    ("x == " + "'" + "a" * 10**6, r"condition \"x == 'aaa.*\(1,000,006 characters\): unbalanced quotes"),
    ("(" * 10**5 + "x > 1", r"expected a column name at position 0, got '\('"),
    ("x in " + "[" * 10**5, r"lists cannot be nested"),
    ("x > 1 and " * 10**4 + "y", r"condition 'x > 1 and x > 1 .*\(100,001 characters\): expected an operator"),
    ("`" + "c" * 10**5 + "` ~ 1", r"unexpected character '~' at position 100003"),
])
def test_condition_refusals(text, match):
    with pytest.raises(JourneyDefinitionError, match=match) as err:
        parse_conditions(text)
    short(err)


def test_long_valid_conditions_parse():
    text = " and ".join(f"`col {i}` in [{', '.join(map(str, range(50)))}]" for i in range(200))
    found = parse_conditions(text)
    assert len(found) == 200 and parse_conditions(" and ".join(map(str, found))) == found


@pytest.mark.parametrize("column, op, value, match", [
    ("x", ">", 10**200, r"condition: the number <number of ~201 digits> has more than 100 digits"),
    ("x", ">", np.timedelta64(5, "ns"),  # silently the number 5 before issue 13
     r"the value (np|numpy).timedelta64\(5,'ns'\) is a duration object; write it as text with a unit, e.g. '2d'"),
    ("x", ">", pd.Timedelta(days=2), r"is a duration object"),
    ("x", ">", np.datetime64("2025-01-01T00:00:00.000000001"), r"is a date object; write it as text, e.g. "
                                                               r"'2025-01-31'"),
    ("x", np.array(["=="]), 1, r"condition: unknown operator array\(\['=='\], dtype='<U2'\)\. Allowed: =="),
    ("x", ">", ["a"] * 10**6, r"the value \['a', 'a', .* is not a number, text or true/false"),
])
def test_condition_objects_refuse_bad_values(column, op, value, match):
    with pytest.raises(JourneyDefinitionError, match=match) as err:
        Condition(column, op, value)
    short(err)


EVENTS = pd.DataFrame({
    "flag": [True, False, True],
    "wait": pd.to_timedelta(["1D", None, "3h"]),
    "when": pd.to_datetime(["2025-03-30 00:30", "2025-03-31 00:00", None]).tz_localize("Europe/Paris"),
    "small": np.array([1, 2, 3], dtype="float32"),
})


@pytest.mark.parametrize("text, match", [
    ("flag == " + "1" * 30, r"cannot compare column 'flag' \(dtype bool\) with 1111.* \(Python int too large to "
                            r"convert to C long\)"),  # an OverflowError before issue 13
    ("when > '2025-03-30 02:30'", r"'2025-03-30 02:30' does not exist or is ambiguous in the time zone Europe/Paris "
                                  r"\(a daylight-saving change\); give the offset"),  # a raw ValueError
    ("wait > 5", r"column 'wait' holds durations \(dtype timedelta64\[\w+\]\) but is compared with the bare number 5; "
                 r"write a duration with a unit in quotes, e.g. '5d' or '5h'"),
    ("wait > 'soon'", r"'soon' is not a duration; a duration is quoted text with a unit"),
    ("wait in ['1d', 'x']", r"'x' is not a duration"),
])
def test_condition_matching_refusals(text, match):
    with pytest.raises(JourneyDefinitionError, match=match) as err:
        parse_conditions(text)[0].matches(EVENTS)
    short(err)


def test_condition_matching_durations_and_extremes_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # before issue 13: pandas deprecation and numpy overflow warnings
        assert parse_conditions("wait > '2d'")[0].matches(EVENTS).tolist() == [False, False, False]
        assert parse_conditions("wait >= '-1h'")[0].matches(EVENTS).tolist() == [True, False, True]
        assert parse_conditions("wait in ['1d', '3h']")[0].matches(EVENTS).tolist() == [True, False, True]
        assert parse_conditions("small < 1e308")[0].matches(EVENTS).tolist() == [True, True, True]
        assert parse_conditions("when < '2025-03-30 12:00'")[0].matches(EVENTS).tolist() == [True, False, False]


# --------------------------------------------------------------------------- rules


@pytest.mark.parametrize("when, match", [
    ("stalled_for > '-2d'", r"rule 'r': stalled_for > '-2d' compares with a negative duration; stalled_for is the time "
                            r"elapsed up to as_of, never negative, so the comparison would hold for everyone or no "
                            r"one\. Write a positive duration, e.g\. stalled_for > '2d'"),
    ("in_journey == true and since_last_event <= ' -1h'", r"since_last_event <= ' -1h' compares with a negative "
                                                          r"duration"),
    ("stalled_for > -2d", r"rule 'r': condition 'stalled_for > -2d': '-2d' at position 14 is not a number"),
])
def test_rules_refuse_negative_durations(when, match):
    with pytest.raises(InvalidParameterError, match=match) as err:
        Rule("r", when, "nudge")
    short(err)


def test_rules_give_short_messages_for_huge_values():
    with pytest.raises(InvalidParameterError, match=r"a rule is a mapping with keys name, when, action; got "
                                                    r"\[\[\[\[\.\.\.\]") as err:
        evaluate_rules(None, None, _shared_list())
    short(err)
    with pytest.raises(InvalidParameterError, match=r"rules=<number of ~5,001 digits> must be a list of rules") as err:
        evaluate_rules(None, None, 10**5000)
    short(err)
    with pytest.raises(InvalidParameterError, match=r"rule '\?': unknown key <number of ~5,001 digits>\.") as err:
        Rule.from_dict({10**5000: 1})
    short(err)
    with pytest.raises(InvalidParameterError, match=r"rule 'rrrr.*\(100,000 characters\): when=42 must be a "
                                                    r"condition") as err:
        Rule("r" * 10**5, 42, "x")
    short(err)

