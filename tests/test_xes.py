"""Tests of journeylab._xes.parse_xes: the published logs, pm4py parity, hostile and broken files."""

from __future__ import annotations

import gzip
import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeylab._xes import EmptyXesError, _check_prolog, _fast, _general, _read, _split_keys, _utf8, parse_xes
from journeylab.exceptions import DataQualityWarning, EmptyLogError, FileFormatError

DATASETS = Path(__file__).parents[1].parent / "shared" / "datasets"

HEADER = """<?xml version="1.0" encoding="UTF-8" ?>
<!-- written by hand for journeylab's tests -->
<log xes.version="1.0" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <string key="creator" value="tests"/>
  <global scope="event"><string key="concept:name" value="UNKNOWN"/></global>
  <classifier name="Activity" keys="concept:name"/>
"""


def ev(name, ts="2024-01-01T10:00:00.000+01:00", **extra):
    attrs = [f'<string key="concept:name" value="{name}"/>']
    if ts is not None:
        attrs.append(f'<date key="time:timestamp" value="{ts}"/>')
    attrs += [f'<{t} key="{k}" value="{v}"/>' for k, (t, v) in extra.items()]
    return "<event>" + "".join(attrs) + "</event>"


def trace(case, *events, **extra):
    attrs = [] if case is None else [f'<string key="concept:name" value="{case}"/>']
    attrs += [f'<{t} key="{k}" value="{v}"/>' for k, (t, v) in extra.items()]
    return "\n<trace>\n" + "\n".join(attrs + list(events)) + "\n</trace>"


def xes(*traces, header=HEADER):
    return header + "".join(traces) + "\n</log>\n"


def write(tmp_path, text, name="log.xes"):
    path = tmp_path / name
    data = text.encode() if isinstance(text, str) else text
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return path


def uses_fast_path(path) -> bool:
    raw = _read(Path(path))
    text = _utf8(raw, Path(path))
    return _fast(text, _check_prolog(text, Path(path))) is not None


def shared(name):
    path = DATASETS / name
    if not path.exists():
        pytest.skip(f"reference log {path} is absent (../shared/datasets sits beside the repository)")
    return path


# ------------------------------------------------------------------ the published logs
@pytest.fixture(scope="module")
def bpic():
    return parse_xes(shared("bpic2012.xes.gz"))  # parsed once for the module


@pytest.mark.reference
def test_bpic2012_published_figures(bpic):
    assert bpic["case:concept:name"].nunique() == 13_087
    assert len(bpic) == 262_200
    assert bpic["concept:name"].nunique() == 24
    assert set(bpic["lifecycle:transition"].unique()) == {"SCHEDULE", "START", "COMPLETE"}
    assert str(bpic["time:timestamp"].dtype) == "datetime64[us, UTC]"
    assert bpic["time:timestamp"].notna().all()
    assert bpic["time:timestamp"].min() == pd.Timestamp("2011-09-30 22:38:44.546", tz="UTC")
    assert str(bpic["case:REG_DATE"].dtype) == "datetime64[us, UTC]"
    first = bpic[bpic["case:concept:name"] == "173688"]
    assert first["concept:name"].tolist()[:3] == ["A_SUBMITTED", "A_PARTLYSUBMITTED", "A_PREACCEPTED"]
    assert first["case:AMOUNT_REQ"].iloc[0] == "20000"


@pytest.mark.reference
@pytest.mark.parametrize("name, cases, events, activities", [
    ("receipt.xes.gz", 1_434, 8_577, 27),
    ("running-example.xes", 6, 42, 8),
])
def test_published_figures(name, cases, events, activities):
    df = parse_xes(shared(name))
    assert (df["case:concept:name"].nunique(), len(df), df["concept:name"].nunique()) == (cases, events, activities)


@pytest.mark.reference
@pytest.mark.filterwarnings("ignore::UserWarning")  # pm4py suggests optional Rust readers
@pytest.mark.parametrize("name", ["running-example.xes", "receipt.xes.gz"])
def test_same_values_as_pm4py(name):
    pm4py = pytest.importorskip("pm4py")
    path = shared(name)
    ours, ref = parse_xes(path), pm4py.read_xes(str(path))
    assert sorted(ours.columns) == sorted(ref.columns)
    ref = ref[list(ours.columns)].reset_index(drop=True)
    for col in ours.columns:
        a, b = ours[col], ref[col]
        if isinstance(a.dtype, pd.DatetimeTZDtype):  # same instants, whatever the zone
            b = pd.to_datetime(b, utc=True)
        assert a.isna().tolist() == b.isna().tolist(), col
        assert a[a.notna()].tolist() == b[b.notna()].tolist(), col
    # same events in the same order per case
    for (case, a), (_, b) in zip(ours.groupby("case:concept:name", sort=True),
                                 ref.groupby("case:concept:name", sort=True), strict=True):
        assert a["concept:name"].tolist() == b["concept:name"].tolist(), case


def test_bundled_example_takes_the_fast_path():
    import journeylab as jl

    path = jl.datasets.example_path()
    assert uses_fast_path(path)
    df = parse_xes(path)
    assert df.shape[0] == 42 and df["case:concept:name"].nunique() == 6


# ------------------------------------------------------------------ columns and types
def test_columns_types_and_order(tmp_path):
    text = xes(
        trace("c1", ev("b", "2011-10-01T00:38:44.546+02:00", n=("int", "3"), x=("float", "2.5E1"),
                       ok=("boolean", "true"), ref=("id", "id-7")),
              ev("a", "2011-10-30T02:30:00.000+01:00"),
              amount=("float", "1500.5"), start=("date", "2011-10-01T00:00:00.000+02:00")),
        trace("c2", ev("c", "2011-12-01T00:00:00Z", n=("int", "-4"), ok=("boolean", "false"))),
    )
    path = write(tmp_path, text)
    assert uses_fast_path(path)
    df = parse_xes(path)
    assert list(df.columns[:2]) == ["case:concept:name", "concept:name"]
    assert {"case:amount", "case:start", "n", "x", "ok", "ref"} <= set(df.columns)
    assert "creator" not in df.columns and "case:creator" not in df.columns  # log-level: ignored
    assert df["case:concept:name"].tolist() == ["c1", "c1", "c2"]
    assert df["concept:name"].tolist() == ["b", "a", "c"]  # file order, not time order
    assert df["time:timestamp"].tolist() == [pd.Timestamp("2011-09-30 22:38:44.546", tz="UTC"),
                                             pd.Timestamp("2011-10-30 01:30", tz="UTC"),
                                             pd.Timestamp("2011-12-01", tz="UTC")]
    assert str(df["time:timestamp"].dtype) == "datetime64[us, UTC]"
    assert str(df["n"].dtype) == "Int64" and df["n"].tolist() == [3, pd.NA, -4]
    assert str(df["x"].dtype) == "float64" and df["x"].iloc[0] == 25.0 and pd.isna(df["x"].iloc[1])
    assert str(df["ok"].dtype) == "boolean" and df["ok"].tolist() == [True, pd.NA, False]
    assert df["ref"].dtype == "str" and df["ref"].iloc[0] == "id-7"
    assert df["case:amount"].iloc[:2].tolist() == [1500.5, 1500.5] and pd.isna(df["case:amount"].iloc[2])
    assert df["case:concept:name"].dtype == "str"


def test_event_without_timestamp_is_nat(tmp_path):
    df = parse_xes(write(tmp_path, xes(trace("c1", ev("a"), ev("b", ts=None)))))
    assert df["time:timestamp"].isna().tolist() == [False, True]


def test_script_in_activity_name_is_literal_text(tmp_path):
    name = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; caf&#233; &#x41;"
    df = parse_xes(write(tmp_path, xes(trace("c1", ev(name)))))
    assert df["concept:name"].iloc[0] == '<script>alert("x")</script> & café A'


@pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "general-path"])
def test_attribute_value_normalisation(tmp_path, fast):
    text = xes(trace("c1", ev("a\tb\r\nc&#10;d&#9;e")))
    if not fast:
        text = text.replace("<event>", "<event><!-- -->")
    path = write(tmp_path, text)
    assert uses_fast_path(path) is fast
    assert parse_xes(path)["concept:name"].tolist() == ["a b c\nd\te"]  # as any XML parser reads it


def test_gzip_and_plain_give_the_same_frame(tmp_path):
    text = xes(trace("c1", ev("a"), ev("b")), trace("c2", ev("c")))
    pd.testing.assert_frame_equal(parse_xes(write(tmp_path, text)), parse_xes(write(tmp_path, text, "log.xes.gz")))


def test_no_namespace_and_prefixed_namespace(tmp_path):
    plain = xes(trace("c1", ev("a")), header='<?xml version="1.0"?>\n<log>')
    prefixed = ('<?xml version="1.0"?><x:log xmlns:x="http://www.xes-standard.org/"><x:trace>'
                '<x:string key="concept:name" value="c1"/><x:event><x:string key="concept:name" value="a"/>'
                '<x:date key="time:timestamp" value="2024-01-01T10:00:00.000+01:00"/></x:event></x:trace></x:log>')
    a, b = parse_xes(write(tmp_path, plain, "a.xes")), parse_xes(write(tmp_path, prefixed, "b.xes"))
    pd.testing.assert_frame_equal(a, b)


def test_nested_list_and_container_attributes_are_loaded(tmp_path):
    nested = xes(trace(
        "c1",
        '<event><string key="concept:name" value="a"><string key="child" value="x"/></string>'
        '<list key="items"><values><string key="v" value="1"/><int key="v" value="2"/></values></list>'
        '<container key="box"><int key="w" value="2"/></container>'
        '<date key="time:timestamp" value="2024-01-01T10:00:00.000+01:00"/></event>'))
    path = write(tmp_path, nested)
    assert not uses_fast_path(path)
    df = parse_xes(path)
    assert list(df.columns) == ["case:concept:name", "concept:name", "concept:name.child", "items", "box.w",
                                "time:timestamp"]
    assert df["concept:name"].tolist() == ["a"] and df["concept:name.child"].tolist() == ["x"]
    assert json.loads(df["items"].iloc[0]) == [["v", "1"], ["v", 2]]
    assert str(df["box.w"].dtype) == "Int64" and df["box.w"].tolist() == [2]


def test_non_utf8_encoding(tmp_path):
    text = xes(trace("c1", ev("café")), header=HEADER.replace("UTF-8", "ISO-8859-1"))
    df = parse_xes(write(tmp_path, text.encode("latin-1")))
    assert df["concept:name"].tolist() == ["café"]


def _variant(text, style):
    """The same log written another legal way (inside the traces), which the fast path leaves alone."""
    head, body = text.split("<trace>", 1)
    if style == "comment":
        body = body.replace("<event>", "<event><!-- note -->", 1)
    elif style == "single-quotes":
        body = body.replace('<string key="concept:name" value="', "<string key='concept:name' value=\"", 1)
    else:  # attributes of an attribute element in the other order
        body = body.replace('<int key="k" value="', '<int value="', 1).replace('"/></event>', '" key="k"/></event>', 1)
    return head + "<trace>" + body


names = st.text(st.characters(codec="utf-8", exclude_characters='"<>&\x00', exclude_categories=("Cs", "Cc")),
                max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases=st.lists(st.lists(st.tuples(names, st.booleans(), st.integers(-5, 5)), min_size=1, max_size=4),
                      min_size=1, max_size=4),
       style=st.sampled_from(["comment", "single-quotes", "value-first"]),
       ws=st.sampled_from(["\n", "", "\r\n\t  "]))
def test_fast_path_equals_general_path(tmp_path, cases, style, ws):
    traces = []
    for i, events in enumerate(cases):
        evs = [ev(n, **({"org:resource": ("string", f"r{k}")} if has else {}), k=("int", str(k)))
               for n, has, k in events]
        traces.append(trace(f"case {i}", *evs))
    text = xes(*traces)
    general = _variant(text, style).replace("><", ">" + ws + "<")
    path = write(tmp_path, text.replace("><", ">" + ws + "<"), "fast.xes")
    assert uses_fast_path(path)
    fast = parse_xes(path)
    slow_path = write(tmp_path, general, "general.xes")
    assert not uses_fast_path(slow_path)
    pd.testing.assert_frame_equal(fast, parse_xes(slow_path))
    assert len(fast) == sum(len(e) for e in cases)
    assert fast["concept:name"].tolist() == [n for e in cases for n, _, _ in e]


def test_general_path_matches_fast_path_on_bundled_example():
    import journeylab as jl
    from journeylab._xes import _frame

    path = jl.datasets.example_path()
    pd.testing.assert_frame_equal(parse_xes(path), _frame(_general(_read(path)), path))


# ------------------------------------------------------------------ hostile and broken files
BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE log [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<log><trace><string key="concept:name" value="&lol9;"/>
<event><string key="concept:name" value="&lol9;"/></event></trace></log>
"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE log [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<log><trace><string key="concept:name" value="1"/>
<event><string key="concept:name" value="&xxe;"/></event></trace></log>
"""

REFUSED = r"declares a DTD/entity .*which journeylab refuses for safety.*remove the <!DOCTYPE \.\.\.>"


@pytest.mark.parametrize("text", [BILLION_LAUGHS, XXE, "<!DOCTYPE log>\n", '<!-- x -->\n<!doctype log SYSTEM "http://example.com/x.dtd"><log/>'],
                         ids=["billion-laughs", "xxe", "doctype-only", "external-dtd"])
def test_dtd_and_entities_are_refused(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(FileFormatError, match=REFUSED):
        parse_xes(path)


def test_dtd_is_refused_inside_gzip_too(tmp_path):
    with pytest.raises(FileFormatError, match=REFUSED):
        parse_xes(write(tmp_path, XXE, "log.xes.gz"))


def test_truncated_gzip(tmp_path):
    path = tmp_path / "log.xes.gz"
    path.write_bytes(gzip.compress(xes(trace("c1", ev("a"))).encode())[:-12])
    with pytest.raises(FileFormatError, match=r"log\.xes\.gz' is a damaged or truncated gzip file .*gzip -t"):
        parse_xes(path)


def test_gzip_bomb_is_refused_before_it_fills_memory(tmp_path, monkeypatch):
    import journeylab._xes as xmod

    monkeypatch.setattr(xmod, "_BOMB_FLOOR", 1 << 20)  # 1 MiB instead of 1 GiB: the same check, small data
    text = xes(trace("c1", ev("a")))
    bomb = text.replace("<trace>", " " * (40 << 20) + "<trace>", 1).encode()  # 40 MiB of blanks, ~40 kB gzipped
    path = tmp_path / "bomb.xes.gz"
    path.write_bytes(gzip.compress(bomb))
    assert len(bomb) > xmod._BOMB_RATIO * path.stat().st_size
    with pytest.raises(FileFormatError, match=r"bomb\.xes\.gz' expands to more than .*decompression bomb.*gunzip"):
        parse_xes(path)
    # the same document, not compressed, is read (its size is its real size)
    plain = tmp_path / "bomb.xes"
    plain.write_bytes(bomb)
    assert parse_xes(plain)["case:concept:name"].tolist() == ["c1"]


def test_several_gzip_members_are_all_read(tmp_path):
    text = xes(trace("c1", ev("a"), ev("b"))).encode()
    path = tmp_path / "log.xes.gz"
    path.write_bytes(gzip.compress(text[:100]) + gzip.compress(text[100:]) + b"\x00" * 8)
    assert parse_xes(path)["concept:name"].tolist() == ["a", "b"]


def test_bad_gzip(tmp_path):
    path = tmp_path / "log.xes.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00" + b"not really gzip" * 10)
    with pytest.raises(FileFormatError, match="damaged or truncated gzip file"):
        parse_xes(path)


def test_truncated_xml_reports_the_line(tmp_path):
    text = xes(trace("c1", ev("a"), ev("b")))
    cut = text[: text.index("</event>") + 3]
    line = cut.count("\n") + 1
    with pytest.raises(FileFormatError, match=rf"not well-formed XML at line {line}, column \d+: .*truncated"):
        parse_xes(write(tmp_path, cut))


def test_mismatched_tags(tmp_path):
    text = xes(trace("c1", ev("a"))).replace("</event>", "</evnt>")
    with pytest.raises(FileFormatError, match=r"not well-formed XML at line \d+.*mismatch"):
        parse_xes(write(tmp_path, text))


def test_undefined_entity(tmp_path):
    with pytest.raises(FileFormatError, match=r"not well-formed XML.*Entity 'nbsp' not defined"):
        parse_xes(write(tmp_path, xes(trace("c1", ev("a&nbsp;b")))))


def test_not_xes_root(tmp_path):
    with pytest.raises(FileFormatError, match=r"XML but not XES: its root element is <html>, expected <log>"):
        parse_xes(write(tmp_path, "<?xml version='1.0'?><html><body/></html>"))


def test_not_xml(tmp_path):
    with pytest.raises(FileFormatError, match=r"is not an XML file: at line 1 it reads b'case,activity"):
        parse_xes(write(tmp_path, "case,activity,timestamp\n1,a,2024-01-01\n"))


@pytest.mark.parametrize("content", ["", "  \n\t\n"], ids=["empty", "blank"])
def test_empty_file(tmp_path, content):
    with pytest.raises(FileFormatError, match=r"log\.xes' is empty"):
        parse_xes(write(tmp_path, content))


def test_empty_gzip(tmp_path):
    with pytest.raises(FileFormatError, match="is empty"):
        parse_xes(write(tmp_path, "", "log.xes.gz"))


@pytest.mark.parametrize("text", [xes(), xes(trace("c1"), trace("c2"))], ids=["no-traces", "no-events"])
def test_log_without_events(tmp_path, text):
    with pytest.raises(FileFormatError, match=r"is an XES log without events \(\d traces\)"):
        parse_xes(write(tmp_path, text))


def test_missing_path(tmp_path):
    missing = tmp_path / "nope" / "log.xes"
    with pytest.raises(FileFormatError, match=rf"'{missing}' does not exist\. Pass the path of an \.xes"):
        parse_xes(missing)


def test_folder_and_bad_type(tmp_path):
    with pytest.raises(FileFormatError, match="is a folder, not a file"):
        parse_xes(tmp_path)
    with pytest.raises(FileFormatError, match=r"path=42 is not a file path"):
        parse_xes(42)


@pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "general-path"])
def test_trace_without_concept_name(tmp_path, fast):
    text = xes(trace("c1", ev("a")), trace(None, ev("b"), ev("c")))
    if not fast:
        text = text.replace("<event>", "<event><!-- -->")
    path = write(tmp_path, text)
    assert uses_fast_path(path) is fast
    line = text[: text.index("<trace>", text.index("<trace>") + 1)].count("\n") + 1
    with pytest.raises(FileFormatError, match=rf"1 trace\(s\) have no concept:name, the first is trace #2 "
                                              rf'\(line {line}\).*Add <string key="concept:name"'):
        parse_xes(path)


def test_wrongly_typed_value(tmp_path):
    text = xes(trace("c1", ev("a", n=("int", "3")), ev("b", n=("int", "three"))))
    with pytest.raises(FileFormatError, match=r"attribute 'n' is declared <int> but has the value 'three'"):
        parse_xes(write(tmp_path, text))


def test_input_file_is_never_modified(tmp_path):
    good, bad = write(tmp_path, xes(trace("c1", ev("a"))), "good.xes"), write(tmp_path, XXE, "bad.xes")
    before = {p: (p.read_bytes(), os.stat(p).st_mtime_ns) for p in (good, bad)}
    parse_xes(good)
    with pytest.raises(FileFormatError):
        parse_xes(bad)
    assert before == {p: (p.read_bytes(), os.stat(p).st_mtime_ns) for p in (good, bad)}
    assert sorted(x.name for x in tmp_path.iterdir()) == ["bad.xes", "good.xes"]


# ------------------------------------------------------------------ real-world values, both paths
PATHS = pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "general-path"])


def load(tmp_path, text, fast, name="log.xes"):
    """Write ``text`` (forced to the general path by a comment in each event when not ``fast``) and parse it."""
    if not fast:
        text = text.replace("<event>", "<event><!-- general path -->")
    path = write(tmp_path, text, name)
    assert uses_fast_path(path) is fast
    return parse_xes(path)


def one_event(**attrs):
    """A log of one case with one event per value: load(...)["k"] has the values in order."""
    key, (typ, vals) = next(iter(attrs.items()))
    return xes(trace("c1", *[ev(f"e{i}", **{key: (typ, v)}) for i, v in enumerate(vals)]))


@PATHS
def test_int_beyond_int64_is_kept_as_text_never_wrapped(tmp_path, fast):
    huge = "9" * 5000  # also beyond what int() converts from text by default
    text = one_event(n=("int", ["99999999999999999999", "-99999999999999999999", "5", huge]))
    with pytest.warns(DataQualityWarning, match=r"attribute 'n' is declared <int> but has values beyond the 64-bit "
                                                r"integer range \(e\.g\. '9+'\); it is kept as text, exactly as "
                                                r"written"):
        df = load(tmp_path, text, fast)
    assert df["n"].dtype == "str"
    assert df["n"].tolist() == ["99999999999999999999", "-99999999999999999999", "5", huge]


@PATHS
def test_int_limits_signs_and_blanks(tmp_path, fast):
    text = one_event(n=("int", ["9223372036854775807", "-9223372036854775808", "+5", " 7 ", "-0", "007"]))
    df = load(tmp_path, text, fast)
    assert str(df["n"].dtype) == "Int64"
    assert df["n"].tolist() == [2**63 - 1, -(2**63), 5, 7, 0, 7]


@PATHS
@pytest.mark.parametrize("bad", ["3.5", "1_000", "seven", "", "0x10", "0xFFFFFFFFFFFFFFFF", "١٢"])
def test_int_that_is_not_an_integer(tmp_path, fast, bad):
    with pytest.raises(FileFormatError, match=rf"attribute 'n' is declared <int> but has the value '{bad}' \(1 such "
                                              r"values\)\. Fix the values or declare the attribute as <string>"):
        load(tmp_path, one_event(n=("int", ["1", bad])), fast)


@PATHS
def test_float_special_values(tmp_path, fast):
    text = one_event(x=("float", ["NaN", "INF", "-INF", "+INF", "1.5E3", " 2.5 ", "-0", ".5", "1e400"]))
    df = load(tmp_path, text, fast)
    assert str(df["x"].dtype) == "float64"
    got = df["x"].tolist()
    assert pd.isna(got[0]) and got[1:] == [float("inf"), float("-inf"), float("inf"), 1500.0, 2.5, 0.0, 0.5,
                                           float("inf")]


@PATHS
def test_float_that_is_not_a_number(tmp_path, fast):
    with pytest.raises(FileFormatError, match=r"attribute 'x' is declared <float> but has the value '1,5'"):
        load(tmp_path, one_event(x=("float", ["1.5", "1,5"])), fast)


@PATHS
def test_boolean_spellings(tmp_path, fast):
    df = load(tmp_path, one_event(ok=("boolean", ["true", "false", "1", "0", "TRUE", "False", " true "])), fast)
    assert str(df["ok"].dtype) == "boolean"
    assert df["ok"].tolist() == [True, False, True, False, True, False, True]
    with pytest.raises(FileFormatError, match=r"attribute 'ok' is declared <boolean> but has the value 'yes'"):
        load(tmp_path, one_event(ok=("boolean", ["true", "yes"])), fast)


DATES = [
    ("2024-01-01T10:00:00", "2024-01-01 10:00:00"),  # no offset: read as UTC
    ("2024-01-01T10:00:00Z", "2024-01-01 10:00:00"),
    ("2024-01-01T10:00:00z", "2024-01-01 10:00:00"),
    ("2024-01-01T10:00:00.1+01:00", "2024-01-01 09:00:00.1"),
    ("2024-01-01T10:00:00.12Z", "2024-01-01 10:00:00.12"),
    ("2024-01-01T10:00:00.123-02:00", "2024-01-01 12:00:00.123"),
    ("2024-01-01T10:00:00.1234Z", "2024-01-01 10:00:00.1234"),
    ("2024-01-01T10:00:00.12345Z", "2024-01-01 10:00:00.12345"),
    ("2024-01-01T10:00:00.123456+0100", "2024-01-01 09:00:00.123456"),
    ("2024-01-01T10:00:00.1234567Z", "2024-01-01 10:00:00.123456"),  # truncated to microseconds
    ("2024-01-01T10:00:00.12345678Z", "2024-01-01 10:00:00.123456"),
    ("2024-01-01T10:00:00.123456789-05:30", "2024-01-01 15:30:00.123456"),
    ("2024-01-01T23:59:59.999999999Z", "2024-01-01 23:59:59.999999"),
    ("2024-01-01T24:00:00Z", "2024-01-02 00:00:00"),  # xs:dateTime end of day
    ("0001-01-01T00:00:00Z", "0001-01-01 00:00:00"),  # beyond pandas' nanosecond range
    ("9999-12-31T23:59:59.9999999Z", "9999-12-31 23:59:59.999999"),
    ("1969-12-31T23:59:59.9999995Z", "1969-12-31 23:59:59.999999"),
    ("2024-03-31", "2024-03-31 00:00:00"),
]


@PATHS
@pytest.mark.parametrize("mixed", [False, True], ids=["alone", "with-offset-values"])
@pytest.mark.parametrize("value, utc", DATES, ids=[d[0] for d in DATES])
def test_date_forms(tmp_path, fast, mixed, value, utc):
    vals = [value] + (["2011-10-01T00:38:44.546+02:00"] if mixed else [])
    df = load(tmp_path, one_event(when=("date", vals)), fast)
    assert str(df["when"].dtype) == "datetime64[us, UTC]"
    assert df["when"].iloc[0] == pd.Timestamp(utc, tz="UTC").as_unit("us")
    if mixed:
        assert df["when"].iloc[1] == pd.Timestamp("2011-09-30 22:38:44.546", tz="UTC")


@PATHS
@pytest.mark.parametrize("bad", ["2024-02-30T00:00:00Z", "2024-01-01T25:00:00Z", "2024-01-01T24:00:01Z", "yesterday",
                                 "2024-01-01T10:00:00+24:00", "01/02/2024"])
def test_date_that_is_not_a_date(tmp_path, fast, bad):
    with pytest.raises(FileFormatError, match=rf"attribute 'when' is declared <date> but has the value "
                                              rf"'{re.escape(bad)}'"):
        load(tmp_path, one_event(when=("date", ["2024-01-01T10:00:00Z", bad])), fast)


def test_error_messages_cut_long_values_and_keys(tmp_path):
    key, value = "k" * 10_000, "x" * 100_000
    with pytest.raises(FileFormatError) as err:
        parse_xes(write(tmp_path, xes(trace("c1", ev("a", **{key: ("int", value)})))))
    assert len(str(err.value)) < 600
    assert re.search(r"attribute 'k{60}'\.\.\. is declared <int> but has the value 'x{60}'\.\.\.", str(err.value))


# ------------------------------------------------------------------ names: trace vs event attributes
@PATHS
def test_event_attribute_named_like_a_trace_column_is_renamed(tmp_path, fast):
    text = xes(trace("c1", ev("a", **{"case:concept:name": ("string", "on-event"), "case:amount": ("int", "7")}),
                     ev("b"), amount=("float", "1.5")))
    with pytest.warns(DataQualityWarning, match=r"renamed: event attribute 'case:concept:name' -> "
                                                r"'event:case:concept:name', event attribute 'case:amount' -> "
                                                r"'event:case:amount'\. Columns 'case:<key>' hold trace attributes"):
        df = load(tmp_path, text, fast)
    assert df["case:concept:name"].tolist() == ["c1", "c1"]  # the trace's, untouched
    assert df["event:case:concept:name"].iloc[0] == "on-event" and pd.isna(df["event:case:concept:name"].iloc[1])
    assert df["case:amount"].tolist() == [1.5, 1.5]
    assert df["event:case:amount"].tolist() == [7, pd.NA]


@PATHS
def test_renamed_attribute_never_overwrites_another(tmp_path, fast):
    text = xes(trace("c1", ev("a", **{"case:x": ("string", "renamed"), "event:case:x": ("string", "literal")})))
    with pytest.warns(DataQualityWarning, match=r"event attribute 'case:x' -> 'event:case:x#2'"):
        df = load(tmp_path, text, fast)
    assert df["event:case:x"].tolist() == ["literal"] and df["event:case:x#2"].tolist() == ["renamed"]


def test_nested_attribute_never_overwrites_a_key_with_a_dot(tmp_path):
    text = xes(trace("c1", '<event><string key="concept:name" value="a"/><string key="d" value="1">'
                           '<string key="e" value="nested"/></string><string key="d.e" value="literal"/></event>'))
    with pytest.warns(DataQualityWarning, match=r"event attribute 'd' > 'e' -> 'd\.e#2'"):
        df = parse_xes(write(tmp_path, text))
    assert df["d.e"].tolist() == ["literal"] and df["d.e#2"].tolist() == ["nested"] and df["d"].tolist() == ["1"]


# ------------------------------------------------------------------ lists, containers, nested attributes
def test_lists_containers_and_meta_attributes(tmp_path):
    text = xes(trace(
        "c1",
        '<event><string key="concept:name" value="a"/>'
        '<string key="details" value="order 1"><string key="supplier" value="Fluxi &amp; Co"/>'
        '<date key="due" value="2009-01-12T12:00:00.000+01:00"/></string>'
        '<list key="items"><values><string key="item" value="pen"/><int key="item" value="2"/>'
        '<float key="w" value="NaN"/><float key="p" value="0.5"/><boolean key="ok" value="1"/>'
        '<int key="big" value="99999999999999999999"/>'
        '<container key="c"><string key="k" value="v"/></container>'
        '<list key="inner"><string key="s" value="z"/></list>'
        '<string key="m" value="mv"><string key="mk" value="mm"/></string></values>'
        '<string key="source" value="erp"/></list>'
        '<container key="box"><int key="w" value="2"/><container key="in"><id key="deep" value="u-1"/></container>'
        '</container></event>',
        '<event><string key="concept:name" value="b"/><list key="items"/></event>',
        '<list key="tags"><string key="t" value="vip"/></list>',
        '<container key="customer"><string key="segment" value="gold"/></container>'))
    df = parse_xes(write(tmp_path, text))
    assert df["details"].iloc[0] == "order 1" and pd.isna(df["details"].iloc[1])
    assert df["details.supplier"].iloc[0] == "Fluxi & Co"
    assert df["details.due"].iloc[0] == pd.Timestamp("2009-01-12 11:00", tz="UTC")
    assert df["items"].dtype == "str"
    assert json.loads(df["items"].iloc[0]) == [
        ["item", "pen"], ["item", 2], ["w", "NaN"], ["p", 0.5], ["ok", True], ["big", "99999999999999999999"],
        ["c", {"k": "v"}], ["inner", [["s", "z"]]], ["m", {"value": "mv", "meta": {"mk": "mm"}}]]
    assert json.loads(df["items"].iloc[1]) == []
    assert df["items.source"].iloc[0] == "erp"  # the list's own attribute, outside <values>
    assert df["box.w"].tolist() == [2, pd.NA] and df["box.in.deep"].iloc[0] == "u-1"
    assert df[["items.source", "box.in.deep"]].iloc[1].isna().all()
    assert "box" not in df.columns  # a container has no value of its own
    assert [json.loads(x) for x in df["case:tags"]] == [[["t", "vip"]]] * 2  # a trace list, XES 2.0 style
    assert df["case:customer.segment"].tolist() == ["gold", "gold"]


def test_elements_that_are_not_attributes_are_reported(tmp_path):
    text = xes(trace("c1", '<event><string key="concept:name" value="a"/><foo key="x" value="y"/>'
                           '<string value="no key"/><bar/></event>'))
    with pytest.warns(DataQualityWarning, match=r"not XES attributes were skipped inside traces/events: 1 <foo> "
                                                r"element, 1 <string> without key, 1 <bar> element"):
        df = parse_xes(write(tmp_path, text))
    assert list(df.columns) == ["case:concept:name", "concept:name"]


# ------------------------------------------------------------------ missing timestamps, empty logs
@PATHS
def test_no_timestamp_on_any_event(tmp_path, fast):
    df = load(tmp_path, xes(trace("c1", ev("a", ts=None), ev("b", ts=None))), fast)
    assert "time:timestamp" not in df.columns and df["concept:name"].tolist() == ["a", "b"]


@PATHS
def test_timestamp_on_some_events(tmp_path, fast):
    df = load(tmp_path, xes(trace("c1", ev("a", ts=None), ev("b")), trace("c2", ev("c", ts=None))), fast)
    assert df["time:timestamp"].isna().tolist() == [True, False, True]


@pytest.mark.parametrize("text, traces", [
    ("<log/>", 0),
    ('<?xml version="1.0"?>\n<log xmlns="http://www.xes-standard.org/"></log>', 0),
    (xes(), 0),
    (xes(trace("c1"), trace("c2"), trace("c3")), 3),
], ids=["empty-element", "no-content", "header-only", "traces-without-events"])
def test_empty_log_is_an_empty_log_error(tmp_path, text, traces):
    with pytest.raises(EmptyXesError, match=rf"is an XES log without events \({traces} traces\)\. Export the log "
                                            "again with its events"):
        parse_xes(write(tmp_path, text))
    assert issubclass(EmptyXesError, EmptyLogError) and issubclass(EmptyXesError, FileFormatError)


def test_events_outside_traces(tmp_path):
    loose = '<event><string key="concept:name" value="loose"/></event>'
    with pytest.raises(EmptyXesError, match=r"without events \(0 traces\) and 2 <event> element\(s\) directly in "
                                            r"<log>, outside any <trace>.*Put them in <trace> elements"):
        parse_xes(write(tmp_path, xes(loose, loose)))
    for text in (xes(loose, trace("c1", ev("a"))), xes(trace("c1", ev("a")), loose)):
        with pytest.warns(DataQualityWarning, match=r"1 <event> element\(s\) directly in <log>, outside any <trace>, "
                                                    r"were skipped"):
            df = parse_xes(write(tmp_path, text))
        assert df["concept:name"].tolist() == ["a"]


# ------------------------------------------------------------------ classifiers
CLASSIFIERS = """<?xml version="1.0" encoding="UTF-8" ?>
<log xes.version="2.0" xmlns="http://www.xes-standard.org/">
  <classifier name="Activity classifier" keys="concept:name lifecycle:transition"/>
  <classifier name="Event Name" keys="concept:name"/>
  <classifier name='Bob&apos;s &quot;own&quot; &lt;classifier&gt;' keys="  concept:name   'my key' it\\'s  "/>
  <classifier name="From event case" keys="case:x org:resource"/>
  <classifier name="Case type" scope="trace" keys="concept:name type"/>
"""


@PATHS
def test_classifiers_are_exposed_in_attrs(tmp_path, fast):
    text = xes(trace("c1", ev("a", **{"lifecycle:transition": ("string", "complete"), "case:x": ("string", "1")}),
                     type=("string", "gold")), header=CLASSIFIERS)
    with pytest.warns(DataQualityWarning, match="renamed"):
        df = load(tmp_path, text, fast)
    assert df.attrs["xes_classifiers"] == {
        "Activity classifier": ["concept:name", "lifecycle:transition"],
        "Event Name": ["concept:name"],
        "Bob's \"own\" <classifier>": ["concept:name", "my key", "it's"],
        "From event case": ["event:case:x", "org:resource"],  # the column the renamed key went to
    }
    assert df.attrs["xes_trace_classifiers"] == {"Case type": ["case:concept:name", "case:type"]}


def test_classifier_without_keys_is_reported(tmp_path):
    text = xes(trace("c1", ev("a")), header=HEADER + '<classifier name="Broken"/>\n')
    with pytest.warns(DataQualityWarning, match=r"a <classifier> declaration without a name, keys or a known scope "
                                                r"was skipped \(name='Broken', keys='', scope='event'\)"):
        df = parse_xes(write(tmp_path, text))
    assert df.attrs["xes_classifiers"] == {"Activity": ["concept:name"]}


@pytest.mark.parametrize("keys, expected", [
    ("concept:name lifecycle:transition", ["concept:name", "lifecycle:transition"]),
    ("  a\tb \n c ", ["a", "b", "c"]),
    ("'my key' other", ["my key", "other"]),
    ("'it\\'s' x\\ y", ["it's", "x y"]),
    ("'' a", ["a"]),
    ("'unclosed key", ["unclosed key"]),
    ("", []),
])
def test_split_classifier_keys(keys, expected):
    assert _split_keys(keys) == expected


@pytest.mark.reference
def test_bpic2012_classifiers(bpic):
    assert bpic.attrs["xes_classifiers"] == {"Activity classifier": ["concept:name", "lifecycle:transition"],
                                             "Resource classifier": ["org:resource"]}


# ------------------------------------------------------------------ hostile names and values
HOSTILE = ("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp;amp; &#x27;q&apos; caf&#233; \u00e9\u4e2d\U0001F600 "
           "&#9;&#10;&#13; \u0085\u007f\u2028\ufeff")
HOSTILE_TEXT = "<script>alert(\"x\")</script> &amp; 'q' café é中😀 \t\n\r \u0085\u007f\u2028\ufeff"


@PATHS
def test_hostile_keys_and_values_load_as_text_exactly(tmp_path, fast):
    text = xes(trace(HOSTILE, ev(HOSTILE, **{HOSTILE: ("string", HOSTILE)}), **{HOSTILE: ("int", "1")}))
    df = load(tmp_path, text, fast)
    assert df["case:concept:name"].tolist() == [HOSTILE_TEXT]
    assert df["concept:name"].tolist() == [HOSTILE_TEXT]
    assert df[HOSTILE_TEXT].tolist() == [HOSTILE_TEXT]
    assert df["case:" + HOSTILE_TEXT].tolist() == [1]


@pytest.mark.parametrize("value", ["a\x01b", "a&#1;b", "a&#xFFFE;b", "a<b"])
def test_characters_xml_forbids_are_refused(tmp_path, value):
    with pytest.raises(FileFormatError, match=r"is not well-formed XML at line \d+, column \d+"):
        parse_xes(write(tmp_path, xes(trace("c1", ev(value)))))


@pytest.mark.parametrize("text", [
    '<x:log><trace><string key="concept:name" value="c"/><event><string key="concept:name" value="a"/></event>'
    "</trace></x:log>",
    '<log><trace><string key="concept:name" value="c"/><event><y:string key="concept:name" value="a"/></event>'
    "</trace></log>",
], ids=["root", "attribute"])
def test_undeclared_namespace_prefix(tmp_path, text):
    with pytest.raises(FileFormatError, match=r"is not well-formed XML at line 1, column \d+: Namespace prefix [xy] "
                                              r"on (log|string) is not defined\. The file is probably truncated"):
        parse_xes(write(tmp_path, text))


def test_trace_inside_a_trace_is_reported_not_read(tmp_path):
    inner = trace("inner", ev("x"))
    text = xes(trace("outer", ev("a"), inner, ev("b")))
    with pytest.warns(DataQualityWarning, match=r"not XES attributes were skipped inside traces/events: 1 <trace> "
                                                r"element"):
        df = parse_xes(write(tmp_path, text))
    assert df["case:concept:name"].tolist() == ["outer", "outer"] and df["concept:name"].tolist() == ["a", "b"]


@PATHS
def test_int_with_thousands_of_leading_zeros(tmp_path, fast):
    df = load(tmp_path, one_event(n=("int", ["0" * 5000 + "42", "-" + "0" * 5000 + "7", "+0"])), fast)
    assert df["n"].tolist() == [42, -7, 0]
