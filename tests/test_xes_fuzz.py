"""Fuzzing journeylab._xes.parse_xes: generated XES logs, byte mutations of a valid file, and pm4py parity.

Whatever the input, parse_xes returns a DataFrame or raises a JourneylabError, never another
exception. The number of examples comes from the Hypothesis profile loaded in conftest.py:
"fast" by default, JOURNEYLAB_FUZZ=thorough for a long run.
"""

from __future__ import annotations

import datetime
import gzip
import itertools
import warnings
from xml.sax.saxutils import quoteattr

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeylab._xes import parse_xes
from journeylab.exceptions import JourneylabError

THOROUGH = settings.default.max_examples > 100
PM4PY_EXAMPLES = 60 if THOROUGH else 8
_counter = itertools.count()

# XML 1.0 characters (no C0 controls but tab/newline/CR, no surrogates, no U+FFFE/U+FFFF)
xml_chars = st.characters(codec="utf-8", exclude_categories=("Cs",),
                          exclude_characters="".join(map(chr, [*range(0, 9), 11, 12, *range(14, 32), 0xFFFE, 0xFFFF])))
texts = st.text(xml_chars, max_size=10)
names = st.text(xml_chars, min_size=1, max_size=10).filter(lambda s: s.strip() == s and "\t" not in s and "\n" not in s
                                                           and "\r" not in s)
keys = st.one_of(st.sampled_from(["org:resource", "lifecycle:transition", "case:concept:name", "case:x", "a.b",
                                  "cost", "k"]), names).filter(lambda k: k not in ("concept:name", "time:timestamp"))
offsets = st.sampled_from(["", "Z", "+01:00", "-05:30", "+0000", "+14:00"])
fractions = st.integers(0, 9).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n))


def date_texts(days=st.dates()):
    return st.builds(lambda d, h, m, s, f, o: f"{d.isoformat()}T{h:02d}:{m:02d}:{s:02d}{'.' + f if f else ''}{o}",
                     days, st.integers(0, 23), st.integers(0, 59), st.integers(0, 59), fractions, offsets)


dates = date_texts()
values = st.one_of(
    st.tuples(st.just("string"), texts),
    st.tuples(st.just("id"), texts),
    st.tuples(st.just("int"), st.integers(-(2**70), 2**70).map(str)),
    st.tuples(st.just("float"), st.one_of(st.floats(allow_nan=False).map(repr),
                                          st.sampled_from(["NaN", "INF", "-INF", "1e5", ".5"]))),
    st.tuples(st.just("boolean"), st.sampled_from(["true", "false", "1", "0", "TRUE", "False"])),
    st.tuples(st.just("date"), dates),
)
attributes = st.lists(st.tuples(keys, values), max_size=3)


def attr(key, typ, value):
    return f"<{typ} key={quoteattr(key)} value={quoteattr(value)}/>"


def build(log, *, comment: bool) -> str:
    """XES text of [(case, trace attributes, [(activity, timestamp, attributes), ...]), ...]."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0" xmlns="http://www.xes-standard.org/">',
           '<classifier name="Activity classifier" keys="concept:name lifecycle:transition"/>']
    for case, trace_attrs, events in log:
        out.append("<trace>" + attr("concept:name", "string", case) + "".join(attr(k, *v) for k, v in trace_attrs))
        for activity, ts, extra in events:
            body = attr("concept:name", "string", activity) + ("" if ts is None else attr("time:timestamp", "date", ts))
            out.append("<event>" + ("<!-- c -->" if comment else "") + body
                       + "".join(attr(k, *v) for k, v in extra) + "</event>")
        out.append("</trace>")
    return "\n".join(out) + "\n</log>\n"


logs = st.lists(st.tuples(names, attributes, st.lists(st.tuples(names, st.one_of(st.none(), dates), attributes),
                                                        max_size=4)), max_size=4)


def parse_quietly(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return parse_xes(path)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(log=logs, comment=st.booleans(), gz=st.booleans())
def test_generated_logs_load_or_raise_a_journeylab_error(tmp_path, log, comment, gz):
    path = tmp_path / f"gen{next(_counter)}.xes{'.gz' if gz else ''}"
    data = build(log, comment=comment).encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    try:
        df = parse_quietly(path)
    except JourneylabError:
        assert sum(len(events) for _, _, events in log) == 0  # the only legitimate failure: no event at all
        return
    assert df["case:concept:name"].tolist() == [case for case, _, events in log for _ in events]
    assert df["concept:name"].tolist() == [a for _, _, events in log for a, _, _ in events]
    assert df.attrs["xes_classifiers"] == {"Activity classifier": ["concept:name", "lifecycle:transition"]}


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(log=logs.filter(lambda log: any(events for _, _, events in log)))
def test_fast_and_general_path_agree(tmp_path, log):
    i = next(_counter)
    fast, general = tmp_path / f"f{i}.xes", tmp_path / f"g{i}.xes"
    fast.write_text(build(log, comment=False), encoding="utf-8")
    general.write_text(build(log, comment=True), encoding="utf-8")
    try:
        a = parse_quietly(fast)
    except JourneylabError as err:
        with pytest.raises(type(err)):
            parse_quietly(general)
        return
    pd.testing.assert_frame_equal(a, parse_quietly(general))


SMALL = build([("c1", [("amount", ("float", "12.5"))],
                [("a", "2024-01-01T10:00:00.000+01:00", [("org:resource", ("string", "r&<1"))]),
                  ("b", "2024-01-02T10:00:00Z", [("n", ("int", "3"))])]),
               ("c2", [], [("c", "2024-01-03T10:00:00", [])])], comment=False).encode()

mutation = st.tuples(st.integers(0, 10**6), st.sampled_from(["flip", "delete", "insert", "truncate", "duplicate"]),
                     st.binary(min_size=1, max_size=8))


def mutate(data: bytes, edits) -> bytes:
    for pos, op, chunk in edits:
        i = pos % (len(data) + 1)
        if op == "flip" and data:
            i %= len(data)
            data = data[:i] + bytes([data[i] ^ (chunk[0] or 1)]) + data[i + 1:]
        elif op == "delete":
            data = data[:i] + data[i + len(chunk):]
        elif op == "insert":
            data = data[:i] + chunk + data[i:]
        elif op == "truncate":
            data = data[:i]
        else:
            data = data[:i] + data[i:i + 40 * len(chunk)] * 2 + data[i + 40 * len(chunk):]
    return data


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(edits=st.lists(mutation, min_size=1, max_size=4),
       gz=st.sampled_from(["plain", "mutated-gzip", "gzip-of-mutated"]), general=st.booleans())
def test_byte_mutations_load_or_raise_a_journeylab_error(tmp_path, edits, gz, general):
    data = SMALL.replace(b"<event>", b"<event><!---->") if general else SMALL
    if gz == "mutated-gzip":
        data = mutate(gzip.compress(data), edits)
    else:
        data = mutate(data, edits)
        data = gzip.compress(data) if gz == "gzip-of-mutated" else data
    path = tmp_path / f"m{next(_counter)}.xes"
    path.write_bytes(data)
    try:
        df = parse_quietly(path)
    except JourneylabError as err:
        assert str(err) and len(str(err)) < 2_000, "an error message is bounded"
    else:
        assert isinstance(df, pd.DataFrame) and len(df) > 0


modern = st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2100, 1, 1))


@pytest.mark.reference
@pytest.mark.filterwarnings("ignore::UserWarning")  # pm4py suggests optional Rust readers
@settings(max_examples=PM4PY_EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                             HealthCheck.too_slow])
@given(log=st.lists(st.tuples(names, st.just([]), st.lists(st.tuples(names, date_texts(modern), st.just([])),
                                                            min_size=1, max_size=4)), min_size=1, max_size=4))
def test_same_cases_activities_and_timestamps_as_pm4py(tmp_path, log):
    pm4py = pytest.importorskip("pm4py")
    path = tmp_path / f"pm{next(_counter)}.xes"
    path.write_text(build(log, comment=False), encoding="utf-8")
    ours, ref = parse_quietly(path), pm4py.read_xes(str(path))
    assert ours["case:concept:name"].tolist() == ref["case:concept:name"].tolist()
    assert ours["concept:name"].tolist() == ref["concept:name"].tolist()
    theirs = pd.to_datetime(ref["time:timestamp"], utc=True).dt.as_unit("us")
    assert ours["time:timestamp"].tolist() == theirs.tolist()
