"""Tests of journeylab._xes.parse_xes: the published logs, pm4py parity, hostile and broken files."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeylab._xes import _check_prolog, _fast, _general, _read, _utf8, parse_xes
from journeylab.exceptions import FileFormatError

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


def test_nested_list_and_container_attributes_are_ignored(tmp_path):
    nested = xes(trace(
        "c1",
        '<event><string key="concept:name" value="a"><string key="child" value="x"/></string>'
        '<list key="items"><values><string key="v" value="1"/></values></list>'
        '<container key="box"><int key="w" value="2"/></container>'
        '<date key="time:timestamp" value="2024-01-01T10:00:00.000+01:00"/></event>'))
    path = write(tmp_path, nested)
    assert not uses_fast_path(path)
    df = parse_xes(path)
    assert list(df.columns) == ["case:concept:name", "concept:name", "time:timestamp"]
    assert df["concept:name"].tolist() == ["a"]


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
