"""Real-world logs load (issue 13): roles and attributes kept apart, readers' role arguments,
round trips through files, and clear errors for the inputs real files bring."""

from __future__ import annotations

import gzip
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journeylab as jl
from journeylab.cli import main as cli_main

from conftest import shared_log

XES_WITH_ROLE_NAMES = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0">
  <classifier name="Activity classifier" keys="concept:name lifecycle:transition"/>
  <trace>
    <string key="concept:name" value="T1"/>
    <event>
      <string key="concept:name" value="submit"/>
      <string key="lifecycle:transition" value="start"/>
      <date key="time:timestamp" value="2025-01-01T10:00:00+00:00"/>
      <string key="customer" value="alice"/>
      <float key="value" value="12.5"/>
      <string key="channel" value="web"/>
      <string key="resource" value="bot"/>
    </event>
    <event>
      <string key="concept:name" value="submit"/>
      <string key="lifecycle:transition" value="complete"/>
      <date key="time:timestamp" value="2025-01-01T10:05:00+00:00"/>
      <string key="customer" value="alice"/>
      <float key="value" value="7.5"/>
      <string key="channel" value="app"/>
      <string key="resource" value="bot"/>
    </event>
  </trace>
  <trace>
    <string key="concept:name" value="T2"/>
    <event>
      <string key="concept:name" value="submit"/>
      <string key="lifecycle:transition" value="complete"/>
      <date key="time:timestamp" value="2025-01-02T09:00:00+00:00"/>
      <string key="customer" value="alice"/>
      <float key="value" value="1.0"/>
      <string key="channel" value="web"/>
      <string key="resource" value="clerk"/>
    </event>
  </trace>
</log>
"""


@pytest.fixture
def role_named_xes(tmp_path):
    p = tmp_path / "roles.xes"
    p.write_text(XES_WITH_ROLE_NAMES, encoding="utf-8")
    return p


# --------------------------------------------------------------------------- roles and attributes


def test_xes_attributes_named_like_roles_load_as_attributes(role_named_xes):
    log = jl.read_xes(role_named_xes)
    assert {"customer", "value", "channel", "resource"} <= set(log.attributes)
    assert not any(log.has_role(r) for r in ("customer", "value", "channel"))
    assert log.has_role("lifecycle") and not log.has_role("resource")  # org:resource is absent
    assert log.to_pandas()["customer"].tolist() == ["alice"] * 3
    assert log.n_cases == 2  # the trace is the case: the 'customer' attribute does not regroup events


def test_read_xes_takes_role_arguments(role_named_xes):
    log = jl.read_xes(role_named_xes, customer="customer", value="value", channel="channel", resource="resource",
                      lifecycle=None)
    assert log.roles == {"case": "case:concept:name", "activity": "concept:name", "timestamp": "time:timestamp",
                         "channel": "channel", "resource": "resource", "customer": "customer", "value": "value"}
    assert "lifecycle:transition" in log.attributes
    assert jl.channel_mix(log).to_frame()["events"].sum() == 3
    sessions = log.sessions("1h")
    assert sessions.to_pandas()["customer"].unique().tolist() == ["alice"]
    with pytest.raises(jl.SchemaError, match=r"customer='cust' is not a column of the log.*Closest match: 'customer'"):
        jl.read_xes(role_named_xes, customer="cust")


def test_read_xes_classifier_by_keys_and_by_declared_name(role_named_xes):
    by_keys = jl.read_xes(role_named_xes, classifier=("concept:name", "lifecycle:transition"))
    assert set(by_keys.activities) == {"submit+start", "submit+complete"}
    assert "concept:name" in by_keys.attributes  # the plain activity name is kept as an attribute
    with pytest.raises(jl.InvalidParameterError, match="classifier= and activity='channel' both say"):
        jl.read_xes(role_named_xes, classifier=("concept:name", "lifecycle:transition"), activity="channel")
    with pytest.raises(jl.SchemaError, match=r"classifier's key\(s\) \['nope'\]"):
        jl.read_xes(role_named_xes, classifier=("concept:name", "nope"))
    with pytest.raises(jl.InvalidParameterError, match="must be a classifier name or a list of attribute keys"):
        jl.read_xes(role_named_xes, classifier=[1, 2])
    with pytest.raises(jl.InvalidParameterError, match="neither a classifier declared"):
        jl.read_xes(role_named_xes, classifier="No such classifier")


def test_cli_roles_reach_the_xes_reader(role_named_xes, capsys):
    assert cli_main(["summary", str(role_named_xes), "--customer", "customer", "--channel", "channel", "--json"]) == 0
    import json

    data = json.loads(capsys.readouterr().out)
    assert data["customers"] == 1 and data["channels"] == 2
    assert cli_main(["summary", str(role_named_xes), "--classifier", "concept:name,lifecycle:transition",
                     "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["activities"] == 2
    assert cli_main(["summary", str(role_named_xes), "--encoding", "latin-1"]) == 2
    assert "--encoding is for CSV files" in capsys.readouterr().err


def test_role_shadowed_by_an_attribute_keeps_both(small_df):
    df = small_df.assign(customer=["x", "x", "x", "y", "y", "y"], cust_id=["k1"] * 3 + ["k2"] * 3)
    with pytest.warns(jl.DataQualityWarning, match="'customer' as 'attribute:customer'"):
        log = jl.from_pandas(df, case="client", activity="step", timestamp="ts", customer="cust_id")
    out = log.to_pandas()
    assert out["customer"].tolist() == ["k1"] * 3 + ["k2"] * 3
    assert out["attribute:customer"].tolist() == ["x", "x", "x", "y", "y", "y"]
    assert "attribute:customer" in log.attributes


def test_sessions_never_overwrite_an_attribute_called_customer(small_df):
    df = small_df.assign(customer=["loyal", "loyal", "loyal", "new", "new", "new"])
    log = jl.from_pandas(df, case="client", activity="step", timestamp="ts")
    assert log.attributes[-1] == "customer" and not log.has_role("customer")
    with pytest.warns(jl.DataQualityWarning, match="attribute:customer"):
        s = log.sessions("30min")
    out = s.to_pandas()
    assert s.has_role("customer")
    assert out["customer"].tolist() == df.sort_values(["client", "ts"])["client"].tolist()
    assert out["attribute:customer"].tolist() == df.sort_values(["client", "ts"])["customer"].tolist()


def test_attribute_named_customer_does_not_make_sessions_countable(small_df):
    log = jl.from_pandas(small_df.assign(customer="x"), case="client", activity="step", timestamp="ts")
    with pytest.raises(jl.InvalidParameterError, match="no customer role"):
        jl.funnel(log, ["visit", "cart", "buy"], count="sessions")


def test_user_column_called__seq_is_kept(small_df):
    with pytest.warns(jl.DataQualityWarning, match="'_seq' as 'attribute:_seq'"):
        log = jl.from_pandas(small_df.assign(_seq=list("abcdef")), case="client", activity="step", timestamp="ts")
    assert sorted(log.to_pandas()["attribute:_seq"]) == list("abcdef")
    assert jl.engine.variants(log)["count"].sum() == 3


def test_from_ibis_keeps_attributes_named_like_roles(small_df):
    import ibis

    df = jl.from_pandas(small_df, case="client", activity="step", timestamp="ts").to_pandas()
    t = ibis.memtable(df.assign(value=1.5, customer="z"))
    lazy = jl.from_ibis(t, case="case", activity="activity", timestamp="timestamp")
    assert lazy.attributes[-2:] == ("value", "customer") and not lazy.has_role("value")
    assert lazy.n_cases == 3


# --------------------------------------------------------------------------- round trips


def _log_frames_equal(a: jl.EventLog, b: jl.EventLog, *, exact_types: bool = True):
    fa, fb = a.to_pandas(), b.to_pandas()
    assert list(fa.columns) == list(fb.columns)
    assert a.roles.keys() == b.roles.keys()
    if exact_types:
        pd.testing.assert_frame_equal(fa, fb)
    else:  # CSV keeps values, not dtypes: compare what the values say
        for c in fa.columns:
            if c == "timestamp":
                assert fa[c].equals(fb[c]), c
            else:
                left = fa[c].map(lambda v: None if pd.isna(v) else str(v).removesuffix(".0"))
                right = fb[c].map(lambda v: None if pd.isna(v) else str(v).removesuffix(".0"))
                assert left.tolist() == right.tolist(), c


def _round_trip(log, tmp_path, kind):
    roles = {r: r for r in log.roles}
    frame = log.to_pandas()
    if kind == "parquet":
        p = tmp_path / "log.parquet"
        frame.to_parquet(p)
        return jl.read_parquet(p, **roles)
    p = tmp_path / "log.csv"
    frame.to_csv(p, index=False)
    return jl.read_csv(p, **roles, na_values=[""])  # only an empty field is missing: texts like "NA" stay


def test_retail_sample_round_trips_through_parquet_and_csv(tmp_path):
    log = jl.datasets.load_retail().log.filter_cases([f"C{i:06d}" for i in range(1, 300)])
    assert log.has_role("value") and log.has_role("channel")
    _log_frames_equal(log, _round_trip(log, tmp_path, "parquet"))
    _log_frames_equal(log, _round_trip(log, tmp_path, "csv"), exact_types=False)
    # the same file read without naming the value role: 'value' is an attribute, not an error
    p = tmp_path / "log.parquet"
    plain = jl.read_parquet(p, case="case", activity="activity", timestamp="timestamp")
    assert "value" in plain.attributes and "channel" in plain.attributes


def test_xes_log_with_role_named_attributes_round_trips(role_named_xes, tmp_path):
    log = jl.read_xes(role_named_xes, customer="customer")
    for kind in ("parquet", "csv"):
        back = _round_trip(log, tmp_path, kind)
        _log_frames_equal(log, back, exact_types=kind == "parquet")


NAMES = st.sampled_from(["customer", "value", "channel", "resource", "lifecycle", "_seq", "region", "Prix €",
                         "a,b", 'quo"te', "case:concept:name", "attribute:value"])
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=8)


@st.composite
def logs(draw):
    n = draw(st.integers(1, 25))
    cases = draw(st.lists(st.sampled_from(["1", "2", "007", "NA", "x y", "é"]), min_size=n, max_size=n))
    acts = draw(st.lists(TEXT, min_size=n, max_size=n))
    secs = draw(st.lists(st.integers(0, 10 ** 6), min_size=n, max_size=n))
    df = pd.DataFrame({"cid": cases, "act": acts,
                       "ts": pd.to_datetime(np.array(secs, dtype="int64"), unit="s", utc=True)})
    roles = draw(st.sets(st.sampled_from(["channel", "customer", "value", "resource"]), max_size=3))
    for r in sorted(roles):
        if r == "value":
            df[f"role_{r}"] = draw(st.lists(st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: round(x, 2)),
                                            min_size=n, max_size=n))
        else:
            df[f"role_{r}"] = draw(st.lists(st.sampled_from(["a", "b", "c d"]), min_size=n, max_size=n))
    for name in draw(st.sets(NAMES, max_size=4)):
        if name not in df.columns:
            df[name] = draw(st.lists(TEXT, min_size=n, max_size=n))
    return df, {r: f"role_{r}" for r in roles}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=logs())
def test_any_log_round_trips_through_files(data, tmp_path_factory):
    df, roles = data
    before = df.copy(deep=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jl.DataQualityWarning)
        log = jl.from_pandas(df, case="cid", activity="act", timestamp="ts", **roles)
        pd.testing.assert_frame_equal(df, before)  # the input is never modified
        tmp = tmp_path_factory.mktemp("rt")
        _log_frames_equal(log, _round_trip(log, tmp, "parquet"))
        _log_frames_equal(log, _round_trip(log, tmp, "csv"), exact_types=False)
        back = jl.from_pandas(log.to_pandas(), **{r: r for r in log.roles})
        _log_frames_equal(log, back)


# --------------------------------------------------------------------------- bad frames


def test_duplicate_column_names_are_refused(small_df):
    df = small_df.copy()
    df.columns = ["client", "step", "ts", "where", "where"]
    with pytest.raises(jl.SchemaError, match=r"1 column name\(s\) that appear more than once: \['where'\]"):
        jl.from_pandas(df, case="client", activity="step", timestamp="ts")
    mixed = small_df.rename(columns={"where": 1, "amount": "1"})
    with pytest.raises(jl.SchemaError, match="appear more than once"):
        jl.from_pandas(mixed, case="client", activity="step", timestamp="ts")


def test_integer_column_labels_are_read_as_text(small_df):
    df = small_df.copy()
    df.columns = range(5)
    log = jl.from_pandas(df, case=0, activity=1, timestamp=2)
    assert log.attributes == ("3", "4") and log.n_cases == 3


def test_missing_required_role(small_df):
    with pytest.raises(jl.SchemaError, match=r"case=None: the case column is required.*e.g. case='case'"):
        jl.from_pandas(small_df, case=None, activity="step", timestamp="ts")
    with pytest.raises(jl.SchemaError, match=r"activity=\['step'\] is not a column name"):
        jl.from_pandas(small_df, case="client", activity=["step"], timestamp="ts")


def test_lone_surrogates_are_refused_with_the_column(small_df):
    df = small_df.copy()
    df["note"] = pd.Series(["ok", "bad \udcff", None, "ok", "ok", "ok"], dtype=object)
    with pytest.raises(jl.SchemaError, match=r"column 'note' holds text that is not valid Unicode.*row 1"):
        jl.from_pandas(df, case="client", activity="step", timestamp="ts")
    df = small_df.copy()
    df["step"] = pd.Series(["visit", "cart\ud800", "buy", "visit", "cart", "visit"], dtype=object)
    with pytest.raises(jl.SchemaError, match="column 'step' holds text that is not valid Unicode"):
        jl.from_pandas(df, case="client", activity="step", timestamp="ts")


def test_building_a_wide_log_is_linear_in_its_columns(small_df, monkeypatch):
    """5,000 columns took over 60 s: every column was inserted into the new frame one by one (each
    insert re-arranges the frame). Now the frame is built at once: the number of column
    insertions does not grow with the columns."""
    calls = {"n": 0}
    original = pd.DataFrame.__setitem__

    def counting(self, key, value):
        calls["n"] += 1
        return original(self, key, value)

    monkeypatch.setattr(pd.DataFrame, "__setitem__", counting)

    def insertions(n_attrs):
        wide = pd.concat([small_df, pd.DataFrame(np.ones((len(small_df), n_attrs)),
                                                 columns=[f"f{i}" for i in range(n_attrs)])], axis=1)
        calls["n"] = 0
        log = jl.from_pandas(wide, case="client", activity="step", timestamp="ts")
        assert len(log.attributes) == n_attrs + 2
        return calls["n"]

    assert insertions(10) == insertions(400)


# --------------------------------------------------------------------------- CSV files


def _csv(tmp_path, name, text: str, encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


CSV = "id,step,ts\n1,café,2025-01-01 10:00\n1,paiement,2025-01-01 10:05\n2,café,2025-01-02 09:00\n"


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "utf-16"])
def test_csv_in_another_encoding_says_encoding_and_reads_with_it(tmp_path, encoding):
    p = _csv(tmp_path, f"{encoding}.csv", CSV, encoding)
    with pytest.raises(jl.FileFormatError, match=r"is not utf-8 text.*encoding='latin-1'"):
        jl.read_csv(p, case="id", activity="step", timestamp="ts")
    log = jl.read_csv(p, case="id", activity="step", timestamp="ts", encoding=encoding)
    assert set(log.activities) == {"café", "paiement"}
    assert p.read_bytes() == CSV.encode(encoding)  # the input is only read


def test_csv_bad_bytes_after_the_first_block_say_encoding(tmp_path):
    body = "".join(f"{i},visit,2025-01-01 10:00\n" for i in range(6000))
    p = tmp_path / "late.csv"
    p.write_bytes(("id,step,ts\n" + body).encode() + "99,caf\xe9,2025-01-02 10:00\n".encode("latin-1"))
    with pytest.raises(jl.FileFormatError, match="is not utf-8 text.*encoding="):
        jl.read_csv(p, case="id", activity="step", timestamp="ts")


def test_csv_encoding_argument_is_checked(tmp_path):
    p = _csv(tmp_path, "a.csv", CSV)
    with pytest.raises(jl.InvalidParameterError, match="encoding='klingon' is not an encoding Python knows"):
        jl.read_csv(p, case="id", activity="step", timestamp="ts", encoding="klingon")
    with pytest.raises(jl.InvalidParameterError, match="encoding=8 is not an encoding name"):
        jl.read_csv(p, case="id", activity="step", timestamp="ts", encoding=8)
    with pytest.raises(jl.InvalidParameterError, match=r"unknown argument\(s\) \['chanel'\].*Did you mean 'channel'"):
        jl.read_csv(p, case="id", activity="step", timestamp="ts", chanel="x")


def test_corrupted_gzip_csv_is_a_clear_error(tmp_path):
    good = gzip.compress(("id,step,ts\n" + "1,visit,2025-01-01 10:00\n" * 5000).encode())
    damaged = tmp_path / "damaged.csv.gz"
    damaged.write_bytes(good[:40] + bytes(b ^ 0x55 for b in good[40:80]) + good[80:])
    with pytest.raises(jl.FileFormatError, match="damaged or truncated gzip file.*gzip -t"):
        jl.read_csv(damaged, case="id", activity="step", timestamp="ts")
    truncated = tmp_path / "truncated.csv.gz"
    truncated.write_bytes(good[: len(good) // 3])
    with pytest.raises(jl.FileFormatError, match="cannot read"):
        jl.read_csv(truncated, case="id", activity="step", timestamp="ts")


def test_cli_reads_a_latin1_csv_with_encoding(tmp_path, capsys):
    p = _csv(tmp_path, "l1.csv", CSV, "latin-1")
    args = ["summary", str(p), "--case", "id", "--activity", "step", "--timestamp", "ts"]
    assert cli_main(args) == 2
    assert "--encoding latin-1" in capsys.readouterr().err
    assert cli_main(args + ["--encoding", "latin-1"]) == 0


# --------------------------------------------------------------------------- reference logs


@pytest.mark.reference
def test_bpic2012_lifecycle_classifier_gives_the_published_36_event_classes():
    path = shared_log("bpic2012.xes.gz")
    log = jl.read_xes(path, classifier=("concept:name", "lifecycle:transition"))
    assert len(log.activities) == 36  # the published figure (activity + lifecycle transition)
    assert log.n_cases == 13087 and log.n_events == 262200
    assert len(jl.read_xes(path).activities) == 24
    declared = jl.read_xes(path, classifier="Activity classifier")  # the classifier the file declares
    assert declared.activities == log.activities
    assert jl.read_xes(jl.datasets.example_path(), classifier="activity classifier").n_events == 42


def test_cli_summary_of_a_role_named_xes_in_a_fresh_process(role_named_xes):
    """The command line a new user types: the XES file with a 'customer' attribute loads."""
    out = subprocess.run([sys.executable, "-m", "journeylab", "summary", str(role_named_xes)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "customer" in out.stdout


# --------------------------------------------------------------------------- fuzz: hostile files


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=400), gz=st.booleans(), encoding=st.sampled_from(["utf-8", "latin-1", "utf-16"]))
def test_any_bytes_as_csv_give_a_log_or_a_journeylab_error(body, gz, encoding, tmp_path_factory):
    p = tmp_path_factory.mktemp("fz") / ("x.csv.gz" if gz else "x.csv")
    data = b"id,step,ts\n" + body
    p.write_bytes(gzip.compress(data) if gz else data)
    written = p.read_bytes()
    try:
        jl.read_csv(p, case="id", activity="step", timestamp="ts", encoding=encoding)
    except jl.JourneylabError:
        pass
    assert p.read_bytes() == written  # the input is only read


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.text(max_size=6), st.text(max_size=6), st.text(max_size=20)), max_size=8))
def test_any_text_table_gives_the_same_answer_from_csv_and_dataframe(rows, tmp_path_factory):
    """The CSV reader and from_pandas agree: the same log, or both refuse with a JourneylabError."""
    df = pd.DataFrame(rows, columns=["id", "step", "ts"], dtype=object)
    p = tmp_path_factory.mktemp("fz") / "t.csv"
    df.to_csv(p, index=False)
    outcomes = []
    for read in (lambda: jl.read_csv(p, case="id", activity="step", timestamp="ts", na_values=[""]),
                 lambda: jl.from_pandas(pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""]),
                                        case="id", activity="step", timestamp="ts")):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", jl.DataQualityWarning)
                outcomes.append(read().to_pandas())
        except jl.JourneylabError as err:
            outcomes.append(type(err))
    if isinstance(outcomes[0], pd.DataFrame) and isinstance(outcomes[1], pd.DataFrame):
        pd.testing.assert_frame_equal(outcomes[0], outcomes[1])
    else:
        assert not isinstance(outcomes[0], pd.DataFrame) and not isinstance(outcomes[1], pd.DataFrame), outcomes


def test_csv_quote_is_never_guessed(tmp_path):
    """Found by the round-trip property: a column of lone apostrophes made the sniffer take ' for the quote."""
    p = tmp_path / "apostrophes.csv"
    p.write_text("id,step,ts\n1,',2025-01-01 10:00\n1,',2025-01-01 10:05\n1,0,2025-01-01 10:09\n")
    log = jl.read_csv(p, case="id", activity="step", timestamp="ts")
    assert log.to_pandas()["activity"].tolist() == ["'", "'", "0"]
    with pytest.raises(jl.InvalidParameterError, match="quote='ab' must be one character"):
        jl.read_csv(p, case="id", activity="step", timestamp="ts", quote="ab")
