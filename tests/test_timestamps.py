"""Timestamp parsing: one format per column, partial values refused, zones and precision kept."""

from __future__ import annotations

import datetime as dt
import random
import warnings
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journeylab as jl
from journeylab._timestamps import drop_sub_microseconds, parse_timestamps


def parse(values, **kw):
    return parse_timestamps(pd.Series(values), **kw)


def utc(*texts):
    return [pd.Timestamp(t, tz="UTC") for t in texts]


def make(ts, **kw):
    df = pd.DataFrame({"c": ["a"] * len(ts), "a": [f"s{i}" for i in range(len(ts))], "t": ts})
    return jl.from_pandas(df, case="c", activity="a", timestamp="t", **kw)


# --------------------------------------------------------------------------- one format per column


def test_day_first_inferred_for_the_whole_column():
    # pandas format="mixed" read the first value as 4 March and the second as 15 April
    ts, note = parse(["03/04/2025 10:00", "15/04/2025 09:00"])
    assert ts.tolist() == utc("2025-04-03 10:00", "2025-04-15 09:00")
    assert "dates read day-first ('%d/%m/%Y %H:%M')" in note


def test_month_first_inferred_for_the_whole_column():
    ts, note = parse(["03/04/2025", "04/15/2025"])
    assert ts.tolist() == utc("2025-03-04", "2025-04-15")
    assert "month-first" in note


def test_ambiguous_day_month_order_is_refused_with_examples_and_fix():
    with pytest.raises(jl.TimestampError, match=r"ambiguous: all 3 values read both day-first \('%d/%m/%Y'\) and "
                       r"month-first.*'03/04/2025' is 3 April 2025 day-first but 4 March 2025 month-first.*"
                       r"dayfirst=True.*dayfirst=False.*format='%d/%m/%Y'"):
        parse(["03/04/2025", "05/06/2025", "01/01/2025"])


def test_day_equal_to_month_everywhere_is_not_ambiguous():
    ts, _ = parse(["01/01/2025", "02/02/2025"])
    assert ts.tolist() == utc("2025-01-01", "2025-02-02")


@pytest.mark.parametrize("dayfirst, expected", [(True, ["2025-04-03", "2025-06-05"]),
                                                (False, ["2025-03-04", "2025-05-06"])])
def test_dayfirst_settles_the_ambiguity(dayfirst, expected):
    ts, _ = parse(["03/04/2025", "05/06/2025"], dayfirst=dayfirst)
    assert ts.tolist() == utc(*expected)


def test_dayfirst_that_contradicts_the_values_names_the_other_order():
    with pytest.raises(jl.TimestampError, match=r"1 timestamp value\(s\) cannot be parsed with the column's format, "
                       r"'%d/%m/%Y'.*\['04/15/2025'\] at rows \[1\].*look like '%m/%d/%Y'"):
        parse(["03/04/2025", "04/15/2025"], dayfirst=True)


def test_values_that_fit_no_single_format_are_refused_never_mixed():
    values = ["2025-03-04 10:00", "2025-03-05 10:00", "06/03/2025 10:00", "2025-03-07 10:00", "15/03/2025 10:00"]
    with pytest.raises(jl.TimestampError, match=r"2 timestamp value\(s\) cannot be parsed with the column's format, "
                       r"ISO 8601, which fits the other 3, e.g. \['06/03/2025 10:00', '15/03/2025 10:00'\] at rows "
                       r"\[2, 4\].*'%d/%m/%Y %H:%M'.*one format throughout"):
        parse(values)


def test_two_digit_years_and_month_names_are_inferred():
    assert parse(["03/04/25", "15/04/25"])[0].tolist() == utc("2025-04-03", "2025-04-15")
    assert parse(["4 Mar 2025 10:00", "15 Apr 2025 09:00"])[0].tolist() == utc("2025-03-04 10:00", "2025-04-15 09:00")


def test_given_format_is_used_and_its_misfits_reported():
    assert parse(["03/04/2025"], format="%m/%d/%Y")[0].tolist() == utc("2025-03-04")
    with pytest.raises(jl.TimestampError, match=r"1 timestamp value\(s\) cannot be parsed with format='%d/%m/%Y', "
                       r"e.g. \['2025-03-04'\] at rows \[1\]"):
        parse(["03/04/2025", "2025-03-04"], format="%d/%m/%Y")


@pytest.mark.parametrize("kw, match", [
    (dict(format="mixed"), r"format='mixed' guesses a format value by value.*format='ISO8601'"),
    (dict(format="%Y-%m-%d", dayfirst=True), r"format='%Y-%m-%d' and dayfirst=True were both given.*only one"),
    (dict(format="%H:%M"), r"format='%H:%M' has no full date.*year, a month and a day"),
    (dict(format="%Q %Y-%m-%d"), r"format='%Q %Y-%m-%d' is not a valid strftime pattern"),
    (dict(format=5), r"format=5 \(int\) is not a strftime pattern"),
    (dict(dayfirst="yes"), r"dayfirst='yes' is not allowed; use True .* False .* or None"),
])
def test_bad_format_and_dayfirst_parameters(kw, match):
    with pytest.raises(jl.InvalidParameterError, match=match):
        parse(["2025-03-04"], **kw)


# --------------------------------------------------------------------------- partial and relative values


@pytest.mark.parametrize("value", ["2025", "2025-", "2025-03", "10:00", "now", "today", "yesterday", "March 2025"])
def test_partial_or_relative_values_are_not_timestamps(value):
    with pytest.raises(jl.TimestampError, match=rf"1 timestamp value\(s\) are partial or relative dates, not "
                       rf"timestamps, e.g. \['{value}'\] at rows \[1\]\. A timestamp needs a year, a month and a day"):
        parse(["2025-03-04 10:00", value, "2025-03-05 10:00"])


def test_now_and_today_refused_whatever_the_format():
    # pandas reads 'now' and 'today' with any format, e.g. '%d/%m/%Y'
    with pytest.raises(jl.TimestampError, match=r"2 timestamp value\(s\) are partial or relative.*\['now', 'today'\]"):
        parse(["15/04/2025", "now", "today"])
    with pytest.raises(jl.TimestampError, match=r"1 timestamp value\(s\) are partial or relative.*\['now'\]"):
        parse(["15/04/2025", "now"], format="%d/%m/%Y")


def test_a_column_of_years_only_is_refused():
    with pytest.raises(jl.TimestampError, match=r"2 timestamp value\(s\) are partial.*\['2025', '2026'\]"):
        parse(["2025", "2026"])


def test_partial_and_unparseable_values_counted_together():
    with pytest.raises(jl.TimestampError, match=r"2 timestamp value\(s\) cannot be parsed.*\['yesterday', 'garbage'\] "
                       r"at rows \[1, 2\]\. 1 of them are partial or relative dates.*\['yesterday'\]"):
        parse(["2025-03-04", "yesterday", "garbage", "2025-03-05"])


def test_plain_date_is_midnight_and_mixes_with_iso_times():
    ts, _ = parse(["2025-03-04", "2025-03-04 10:30", "2025-03-04T11:00:00.5"])
    assert ts.tolist() == utc("2025-03-04", "2025-03-04 10:30", "2025-03-04 11:00:00.5")


def test_surrounding_whitespace_is_ignored():
    assert parse([" 2025-03-04 10:00 ", "2025-03-05"])[0].tolist() == utc("2025-03-04 10:00", "2025-03-05")
    assert parse([" 15/04/2025", "03/04/2025 "])[0].tolist() == utc("2025-04-15", "2025-04-03")


def test_messages_stay_short_for_huge_values():
    with pytest.raises(jl.TimestampError) as err:
        parse(["2025-03-04", "9" * 100_000, "x" * 100_000])
    assert len(str(err.value)) < 1000 and "..." in str(err.value)
    with pytest.raises(jl.InvalidParameterError) as err:
        parse(["2025-03-04"], tz="Z" * 100_000)
    assert len(str(err.value)) < 300


# --------------------------------------------------------------------------- zones


@pytest.mark.parametrize("tz", [5, 1.5, True, ["UTC"]])
def test_tz_that_is_not_a_zone_is_refused(tz):
    with pytest.raises(jl.InvalidParameterError, match=r"tz=.* is not a time zone\. Pass a zone name such as 'UTC'"):
        parse(["2025-03-04"], tz=tz)
    with pytest.raises(jl.InvalidParameterError, match="is not a time zone"):
        make(["2025-03-04"], tz=tz)


def test_unknown_zone_name_is_refused():
    with pytest.raises(jl.InvalidParameterError, match=r"tz='Mars/Olympus' is not a time zone name"):
        parse(["2025-03-04"], tz="Mars/Olympus")


def test_tzinfo_objects_are_zones():
    ts, note = parse(["2025-03-04 10:00"], tz=ZoneInfo("Europe/Paris"))
    assert ts.iloc[0] == pd.Timestamp("2025-03-04 09:00", tz="UTC") and "Europe/Paris" in note
    assert parse(["2025-03-04 10:00"], tz=dt.timezone.utc)[0].iloc[0] == pd.Timestamp("2025-03-04 10:00", tz="UTC")


def test_datetime_objects_with_mixed_offsets_become_utc_instants():
    paris, ny = ZoneInfo("Europe/Paris"), ZoneInfo("America/New_York")
    values = pd.Series([dt.datetime(2025, 3, 4, 10, tzinfo=paris), dt.datetime(2025, 3, 4, 10, tzinfo=ny),
                        dt.datetime(2025, 3, 4, 10, tzinfo=dt.timezone(dt.timedelta(hours=5)))], dtype=object)
    ts, note = parse_timestamps(values)
    assert ts.tolist() == utc("2025-03-04 09:00", "2025-03-04 15:00", "2025-03-04 05:00")
    assert note == "mixed UTC offsets normalised to UTC"


def test_datetime_objects_in_one_zone_keep_it():
    paris = ZoneInfo("Europe/Paris")
    ts, note = parse_timestamps(pd.Series([dt.datetime(2025, 1, 1, tzinfo=paris),
                                           dt.datetime(2025, 7, 1, tzinfo=paris)], dtype=object))
    assert str(ts.dt.tz) == "Europe/Paris" and note == "timezone-aware input kept (Europe/Paris)"


def test_naive_and_aware_datetime_objects_mixed_refused():
    values = pd.Series([dt.datetime(2025, 3, 4, 10, tzinfo=dt.timezone.utc), dt.datetime(2025, 3, 4, 11),
                        dt.date(2025, 3, 5)], dtype=object)
    with pytest.raises(jl.TimestampError, match=r"mixes 1 datetime values with a time zone \(e.g. "
                       r"'2025-03-04 10:00:00\+00:00'\) and 2 without.*Give every value a zone"):
        parse_timestamps(values)


def test_date_objects_are_midnight_in_the_given_zone():
    ts, note = parse_timestamps(pd.Series([dt.date(2025, 3, 4), None, dt.date(2025, 3, 5)], dtype=object),
                                tz="Europe/Paris")
    assert ts.tolist()[0] == pd.Timestamp("2025-03-04", tz="Europe/Paris") and pd.isna(ts.iloc[1])
    assert note == "naive timestamps taken as Europe/Paris"


def test_parquet_date32_column_reads(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = tmp_path / "dates.parquet"
    pq.write_table(pa.table({"c": ["a", "a"], "a": ["x", "y"],
                             "t": pa.array([dt.date(2025, 3, 5), dt.date(2025, 3, 4)], pa.date32())}), p)
    log = jl.read_parquet(p, case="c", activity="a", timestamp="t")
    out = log.to_pandas()
    assert out["activity"].tolist() == ["y", "x"]
    assert out["timestamp"].tolist() == utc("2025-03-04", "2025-03-05")


def test_arrow_backed_timestamp_and_date_columns():
    import pyarrow as pa

    aware = pd.Series(pa.array([0, 3_600_000_000], pa.timestamp("us", "UTC")),
                      dtype=pd.ArrowDtype(pa.timestamp("us", "UTC")))
    assert parse_timestamps(aware)[0].tolist() == utc("1970-01-01 00:00", "1970-01-01 01:00")
    dates = pd.Series(pa.array([dt.date(2025, 3, 4)], pa.date32()), dtype=pd.ArrowDtype(pa.date32()))
    assert parse_timestamps(dates)[0].tolist() == utc("2025-03-04")


def test_mixed_value_types_refused():
    with pytest.raises(jl.TimestampError, match=r"mixes value types \(2 str, 1 int\), e.g. \['2025-03-04', "
                       r"'1700000000', '2025-03-05'\]; it needs dates, all of one kind"):
        parse_timestamps(pd.Series(["2025-03-04", 1700000000, "2025-03-05"], dtype=object))
    with pytest.raises(jl.TimestampError, match=r"holds time values, e.g. \['10:00:00'\]; it needs dates"):
        parse_timestamps(pd.Series([dt.time(10)], dtype=object))


def test_kept_behaviour_numbers_offsets_dst():
    with pytest.raises(jl.TimestampError, match=r"holds numbers \(int64\).*unit='s'"):
        parse([1700000000])
    with pytest.raises(jl.TimestampError, match=r"holds numbers \(object\)"):
        parse_timestamps(pd.Series([1.5, 2.5], dtype=object))
    with pytest.raises(jl.TimestampError, match="mixes 1 values with a UTC offset"):
        parse(["2025-03-04T10:00+01:00", "2025-03-04T11:00"])
    with pytest.raises(jl.InvalidParameterError, match="drop tz="):
        parse(["2025-03-04T10:00+01:00"], tz="UTC")
    with pytest.raises(jl.TimestampError, match="do not exist or are ambiguous in Europe/Paris"):
        parse(["2025-03-30 02:30"], tz="Europe/Paris")


# --------------------------------------------------------------------------- shape of the result


def test_input_not_modified_and_index_kept():
    raw = pd.Series(["15/04/2025", None, "03/04/2025"], index=[10, 20, 30])
    before = raw.copy()
    ts, _ = parse_timestamps(raw)
    pd.testing.assert_series_equal(raw, before)
    assert list(ts.index) == [10, 20, 30] and pd.isna(ts.loc[20]) and ts.loc[30] == utc("2025-04-03")[0]
    with pytest.raises(jl.TimestampError, match=r"rows \[30\]"):
        parse_timestamps(pd.Series(["2025-03-04", None, "soon"], index=[10, 20, 30]))


def test_all_missing_column_is_left_to_the_null_check():
    ts, _ = parse([None, None])
    assert ts.isna().all() and str(ts.dt.tz) == "UTC"


@pytest.mark.parametrize("dtype", ["str", "object"])
def test_iso_fast_path_means_what_pandas_means(dtype):
    # Arrow's strict cast reads these; a value it refuses ('2025-03-04 1:00') sends the column to pandas
    assert parse(["2025-03-04 1:00", "2025-03-04 10:00"])[0].tolist() == utc("2025-03-04 01:00", "2025-03-04 10:00")
    values = ["2025-03-04", "2025-03-04 10:00", "2025-03-04T10:00:00", "2025-03-04 10:00:00.123",
              "2025-03-04T10:00:00.123456", "2025-03-04 10", "1999-12-31 23:59:59", "2024-02-29"]
    ts, _ = parse_timestamps(pd.Series(values, dtype=dtype))
    expected = pd.to_datetime(pd.Series(values), format="ISO8601").dt.tz_localize("UTC")
    assert ts.tolist() == expected.tolist()
    assert ts.dt.unit == "us"
    gappy = pd.Series([values[0], None, values[1], None, values[2]], dtype=dtype, index=[5, 4, 3, 2, 1])
    got, _ = parse_timestamps(gappy)
    assert list(got.index) == [5, 4, 3, 2, 1] and got.isna().tolist() == [False, True, False, True, False]
    assert got.dropna().tolist() == expected.tolist()[:3]


def test_nanoseconds_are_kept_by_the_parser():
    ts, _ = parse(["2025-03-04 10:00:00.000000300", "2025-03-04 10:00:00"])
    assert ts.dt.unit == "ns" and ts.iloc[0].nanosecond == 300
    assert parse(["2025-03-04 10:00:00.000001"])[0].dt.unit == "us"


def test_events_300ns_apart_keep_their_true_order():
    # 'later' is first in the input; microseconds alone would make a tie ordered by input row
    ts = ["2025-03-04 10:00:00.000000900", "2025-03-04 10:00:00.000000600", "2025-03-04 10:00:00.000000300"]
    df = pd.DataFrame({"c": ["a", "a", "a"], "a": ["third", "second", "first"], "t": ts})
    with pytest.warns(jl.DataQualityWarning, match=r"3 timestamp\(s\) have sub-microsecond digits.*ordered on the "
                      r"full precision \(their order is kept"):
        log = jl.from_pandas(df, case="c", activity="a", timestamp="t")
    out = log.to_pandas()
    assert out["activity"].tolist() == ["first", "second", "third"]
    assert str(out["timestamp"].dt.unit) == "us"
    assert out["timestamp"].tolist() == utc("2025-03-04 10:00:00") * 3
    ns = pd.DataFrame({"c": ["a", "a"], "a": ["later", "earlier"],
                       "t": pd.to_datetime(["2025-03-04 10:00:00.000000500", "2025-03-04 10:00:00.000000100"])})
    with pytest.warns(jl.DataQualityWarning, match="sub-microsecond"):
        log = jl.from_pandas(ns, case="c", activity="a", timestamp="t")
    assert log.to_pandas()["activity"].tolist() == ["earlier", "later"]


def test_whole_microseconds_give_no_warning():
    df = pd.DataFrame({"c": ["a"], "a": ["x"], "t": pd.to_datetime(["2025-03-04 10:00:00.000001"])})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        log = jl.from_pandas(df, case="c", activity="a", timestamp="t")
    assert str(log.to_pandas()["timestamp"].dt.unit) == "us"
    assert drop_sub_microseconds(pd.Series(pd.to_datetime(["2025-01-01"])).dt.as_unit("s")).dt.unit == "us"


# --------------------------------------------------------------------------- readers and the log


def test_readers_take_dayfirst(tmp_path):
    p = tmp_path / "uk.csv"
    p.write_text("id,step,ts\n1,visit,03/04/2025 10:00\n1,buy,05/04/2025 09:00\n")
    with pytest.raises(jl.TimestampError, match="ambiguous"):
        jl.read_csv(p, case="id", activity="step", timestamp="ts")
    log = jl.read_csv(p, case="id", activity="step", timestamp="ts", dayfirst=True)
    assert log.time_span == tuple(utc("2025-04-03 10:00", "2025-04-05 09:00"))
    assert "dates read day-first" in log.summary().loc["timezone", "value"]
    q = tmp_path / "uk.parquet"
    pd.read_csv(p, dtype=str).to_parquet(q)
    assert jl.read_parquet(q, case="id", activity="step", timestamp="ts", dayfirst=False).time_span[0] == \
        utc("2025-03-04 10:00")[0]
    with pytest.raises(jl.InvalidParameterError, match="unknown argument"):
        jl.read_csv(p, case="id", activity="step", timestamp="ts", day_first=True)


def test_from_pandas_dayfirst_orders_events():
    log = make(["05/04/2025", "03/04/2025"], dayfirst=True)
    assert log.to_pandas()["activity"].tolist() == ["s1", "s0"]
    assert log.time_span[0] == utc("2025-04-03")[0]


# --------------------------------------------------------------------------- property


FORMATS = [("%d/%m/%Y %H:%M", True), ("%m/%d/%Y %H:%M", False), ("%d.%m.%Y", True), ("%m-%d-%Y %H:%M:%S", False)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    moments=st.lists(st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2035, 12, 31)),
                     min_size=1, max_size=25),
    which=st.integers(0, len(FORMATS) - 1),
    seed=st.integers(0, 2**32 - 1),
)
def test_one_order_formats_parse_back_unless_ambiguous(moments, which, seed):
    fmt, dayfirst = FORMATS[which]
    random.Random(seed).shuffle(moments)
    text = [m.strftime(fmt) for m in moments]
    truth = [pd.Timestamp(dt.datetime.strptime(t, fmt), tz="UTC") for t in text]
    days_months = [(m.day, m.month) for m in moments]
    ambiguous = all(d <= 12 for d, _ in days_months) and any(d != m for d, m in days_months)
    if ambiguous:
        with pytest.raises(jl.TimestampError, match="ambiguous"):
            parse(text)
    else:
        assert parse(text)[0].tolist() == truth
    assert parse(text, dayfirst=dayfirst)[0].tolist() == truth  # the true order always reads back
    assert np.array_equal(parse(text, format=fmt)[0].to_numpy(), parse(text, dayfirst=dayfirst)[0].to_numpy())
