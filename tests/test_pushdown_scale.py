"""Scale plumbing: DuckDB settings, scan_parquet, write_journeys, the report and the CLI on lazy logs."""

from __future__ import annotations

import os
import re
import threading

import ibis
import numpy as np
import pandas as pd
import pytest

import journeylab as jl
from journeylab._core import backend
from journeylab._core.backend import fetched
from journeylab.exceptions import FileFormatError, InvalidParameterError, MissingValuesError, OutputError, SchemaError

ROLES = dict(case="case", activity="activity", timestamp="timestamp", channel="channel", value="value")


def _setting(con, name):
    return con.raw_sql(f"SELECT current_setting('{name}')").fetchone()[0]


def _duckdb_text(memory_limit: str) -> str:
    """How DuckDB itself shows a memory limit once set (e.g. '1GB' -> '953.6 MiB')."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET memory_limit='{memory_limit}'")
    return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def _in_new_thread(fn):
    out = {}
    th = threading.Thread(target=lambda: out.setdefault("v", fn()))
    th.start()
    th.join()
    return out["v"]


@pytest.fixture
def clean_settings(monkeypatch):
    for var in backend._ENV.values():
        monkeypatch.delenv(var, raising=False)
    backend.configure(reset=True)
    yield
    backend.configure(reset=True)


def _same_events(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Equal event tables up to dtypes (categories vs text, Int8 vs float) and ties in row order."""
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)

    def norm(df):
        df = df.copy()
        for c in df.columns:
            if c != "timestamp":
                df[c] = df[c].astype(object).where(df[c].notna(), None)
                df[c] = df[c].map(lambda v: float(v) if isinstance(v, (int, float, np.number)) and
                                  not isinstance(v, bool) else v)
        return df.sort_values(["case", "timestamp", "activity"], kind="stable").reset_index(drop=True)

    pd.testing.assert_frame_equal(norm(a), norm(b), check_dtype=False)


# --------------------------------------------------------------------------- DuckDB settings


def test_defaults_are_applied_to_every_connection(clean_settings):
    s = backend.settings()
    assert s["memory_limit"] == "60%" and s["threads"] is None and s["preserve_insertion_order"] is False
    assert s["temp_directory"].endswith("journeylab-duckdb")
    con = _in_new_thread(backend.duckdb_connection)  # a fresh in-process connection
    assert _setting(con, "memory_limit") == _duckdb_text("60%")
    assert _setting(con, "temp_directory") == s["temp_directory"]
    assert _setting(con, "preserve_insertion_order") is True  # kept for pandas-backed logs
    assert _setting(backend.scan_connection(), "preserve_insertion_order") is False
    # freed pages go back to the system while Python works (14M copy: 2.9 GB held -> 0.2 GB)
    assert _setting(con, "allocator_background_threads") is True
    assert _setting(backend.scan_connection(), "allocator_background_threads") is True
    assert _setting(backend.scan_connection(), "memory_limit") == _duckdb_text("60%")


def test_configure_applies_now_and_later(clean_settings, tmp_path):
    here, scan = backend.duckdb_connection(), backend.scan_connection()
    out = jl.engine.configure(memory_limit="1GB", temp_directory=tmp_path / "spill", threads=1)
    assert out["memory_limit"] == "1GB" and out["threads"] == 1
    later = _in_new_thread(backend.duckdb_connection)
    for con in (here, scan, later):
        assert _setting(con, "memory_limit") == _duckdb_text("1GB")
        assert _setting(con, "temp_directory") == str(tmp_path / "spill")
        assert _setting(con, "threads") == 1
    jl.engine.configure(memory_limit="2GB")  # the others stay
    assert _setting(here, "memory_limit") == _duckdb_text("2GB") and _setting(here, "threads") == 1
    jl.engine.configure(reset=True)
    assert _setting(here, "memory_limit") == _duckdb_text("60%")


def test_environment_variables(clean_settings, monkeypatch, tmp_path):
    monkeypatch.setenv("JOURNEYLAB_DUCKDB_MEMORY_LIMIT", "750MB")
    monkeypatch.setenv("JOURNEYLAB_DUCKDB_TEMP_DIRECTORY", str(tmp_path))
    monkeypatch.setenv("JOURNEYLAB_DUCKDB_THREADS", "1")
    con = _in_new_thread(backend.duckdb_connection)
    assert _setting(con, "memory_limit") == _duckdb_text("750MB")
    assert _setting(con, "temp_directory") == str(tmp_path) and _setting(con, "threads") == 1
    jl.engine.configure(memory_limit="1GB")  # configure() wins over the environment
    assert _setting(con, "memory_limit") == _duckdb_text("1GB")
    monkeypatch.setenv("JOURNEYLAB_DUCKDB_THREADS", "many")
    with pytest.raises(InvalidParameterError, match="JOURNEYLAB_DUCKDB_THREADS.*'many'"):
        backend.settings()
    monkeypatch.delenv("JOURNEYLAB_DUCKDB_THREADS")


@pytest.mark.parametrize("kwargs, match", [
    (dict(memory_limit="lots"), "memory_limit must be .*'60%' or '12GB'.*'lots'"),
    (dict(memory_limit="150%"), "memory_limit"),
    (dict(memory_limit=0), "memory_limit"),
    (dict(threads=0), "threads must be a whole number"),
    (dict(threads=True), "threads"),
    (dict(temp_directory=""), "temp_directory must be the path"),
    (dict(preserve_insertion_order="no"), "preserve_insertion_order must be True or False"),
])
def test_configure_refuses_bad_values(clean_settings, kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        jl.engine.configure(**kwargs)
    assert backend.settings()["memory_limit"] == "60%"  # nothing half-applied


def test_apply_settings_to_a_connection_of_yours(clean_settings):
    import ibis

    jl.engine.configure(memory_limit="1GB")
    con = jl.engine.apply_settings(ibis.duckdb.connect())
    assert _setting(con, "memory_limit") == _duckdb_text("1GB")


# --------------------------------------------------------------------------- scan_parquet


@pytest.fixture(scope="module")
def sim_file(sim, tmp_path_factory):
    path = tmp_path_factory.mktemp("scan") / "events.parquet"
    sim.log.to_pandas().to_parquet(path)
    return path


def test_scan_parquet_equals_read_parquet(sim_file):
    lazy = jl.scan_parquet(sim_file, **ROLES)
    mem = jl.read_parquet(sim_file, **ROLES)
    assert lazy.is_lazy and lazy.backend == "duckdb" and not mem.is_lazy
    assert (lazy.n_events, lazy.n_cases) == (mem.n_events, mem.n_cases)
    _same_events(lazy.to_pandas(), mem.to_pandas())
    assert lazy._meta["tz_note"] == mem._meta["tz_note"] and lazy._meta["source"] == str(sim_file)


def test_scan_parquet_materialized_copy_equals_the_files(sim_file, tmp_path):
    stored = jl.scan_parquet(sim_file, **ROLES)
    files = jl.scan_parquet(sim_file, materialize=False, **ROLES)
    assert stored._meta["materialized"].endswith(".duckdb") and "materialized" not in files._meta
    sql = str(ibis.to_sql(stored.table, dialect="duckdb"))
    assert "jl_store" in sql and "read_parquet" not in sql  # queries read the copy, not the files
    assert "jl_store" not in str(ibis.to_sql(files.table, dialect="duckdb"))
    _same_events(stored.to_pandas(), files.to_pandas())
    assert stored.to_pandas()["case"].tolist() == files.to_pandas()["case"].tolist()  # _seq: same order
    pd.testing.assert_frame_equal(jl.variants(stored).to_frame(), jl.variants(files).to_frame())
    # the same unchanged files: the copy is reused; a rewritten file is copied again
    again = jl.scan_parquet(sim_file, **ROLES)
    assert ibis.to_sql(again.table) == ibis.to_sql(stored.table)
    p = tmp_path / "changing.parquet"
    df = jl.datasets.load_example().to_pandas()[["case", "activity", "timestamp"]]
    df.to_parquet(p)
    roles = dict(case="case", activity="activity", timestamp="timestamp")
    first = jl.scan_parquet(p, **roles)
    df[df["case"] != "1"].to_parquet(p)
    second = jl.scan_parquet(p, **roles)
    assert (first.n_events, second.n_events) == (42, 42 - int((df["case"] == "1").sum()))
    with pytest.raises(InvalidParameterError, match="materialize='yes' must be True"):
        jl.scan_parquet(p, materialize="yes", **roles)


def test_scan_parquet_copy_keeps_the_files_order_of_events_at_the_same_time(tmp_path):
    """Events of one case at the same instant: the copy orders them as the files list them (file, then
    row), as read_parquet / from_pandas do - within one file and across part files."""
    at = pd.Timestamp("2025-03-01 10:00", tz="UTC")
    one = pd.DataFrame({"case": ["a", "b", "a", "a", "b"], "activity": ["z", "y", "m", "b", "x"],
                        "timestamp": [at, at, at, at + pd.Timedelta("1min"), at]})
    two = pd.DataFrame({"case": ["a", "b"], "activity": ["c", "a"], "timestamp": [at, at]})
    folder = tmp_path / "ties"
    folder.mkdir()
    one.to_parquet(folder / "part-0.parquet")
    two.to_parquet(folder / "part-1.parquet")
    roles = dict(case="case", activity="activity", timestamp="timestamp")
    want = jl.from_pandas(pd.concat([one, two], ignore_index=True), **roles).to_pandas()
    got = jl.scan_parquet(folder, **roles).to_pandas()
    assert list(zip(got["case"], got["activity"])) == list(zip(want["case"], want["activity"])) == [
        ("a", "z"), ("a", "m"), ("a", "c"), ("a", "b"), ("b", "y"), ("b", "x"), ("b", "a")]
    # a file with its own column named like DuckDB's row number: still copied (ties then in DuckDB's order)
    one.assign(file_row_number=0).to_parquet(tmp_path / "own.parquet")
    own = jl.scan_parquet(tmp_path / "own.parquet", **roles)
    assert own._meta["materialized"] and "file_row_number" in own.attributes and own.n_events == 5


def test_store_file_is_removed_at_exit_and_stale_ones_first(tmp_path):
    """The copy lives in a DuckDB file in the spill folder: gone when Python exits; files left by a
    process that no longer runs (killed) are removed by the next process that makes a copy."""
    import subprocess
    import sys

    spill = tmp_path / "spill"
    spill.mkdir()
    stale = spill / "store-999999999-0badc0de.duckdb"
    stale.write_bytes(b"left by a killed process")
    other = spill / "notes.txt"
    other.write_text("not ours")
    p = tmp_path / "log.parquet"
    jl.datasets.load_example().to_pandas().to_parquet(p)
    code = ("import journeylab as jl, os, sys; "
            f"log = jl.scan_parquet({str(p)!r}, case='case', activity='activity', timestamp='timestamp'); "
            "print(log.n_events, os.path.basename(log._meta['materialized'])); "
            "print(sorted(os.listdir(sys.argv[1])))")
    env = {**os.environ, "JOURNEYLAB_DUCKDB_TEMP_DIRECTORY": str(spill)}
    out = subprocess.run([sys.executable, "-c", code, str(spill)], env=env, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    n, name = out[0].split()
    assert n == "42" and re.fullmatch(r"store-\d+-[0-9a-f]{8}\.duckdb", name)
    assert name in out[1] and stale.name not in out[1]  # while it ran: its own file, not the stale one
    assert sorted(os.listdir(spill)) == ["notes.txt"]  # after exit: only what is not journeylab's


def test_scan_parquet_folder_and_glob_of_part_files(sim, tmp_path):
    df = sim.log.to_pandas()
    folder = tmp_path / "parts"
    folder.mkdir()
    cases = df["case"].unique()
    for i, chunk in enumerate(np.array_split(cases, 3)):
        df[df["case"].isin(chunk)].to_parquet(folder / f"part-{i}.parquet", index=False)
    (folder / "_SUCCESS").write_text("")  # what Spark leaves next to its part files
    whole = tmp_path / "whole.parquet"
    df.to_parquet(whole)
    mem = jl.read_parquet(whole, **ROLES).to_pandas()
    by_folder = jl.scan_parquet(folder, **ROLES)
    by_glob = jl.scan_parquet(str(folder / "part-*.parquet"), **ROLES)
    assert by_folder._meta["files"] == by_glob._meta["files"] == 3
    _same_events(by_folder.to_pandas(), mem)
    _same_events(by_glob.to_pandas(), mem)


def test_scan_parquet_naive_local_and_text_timestamps(tmp_path):
    df = jl.datasets.load_example().to_pandas()[["case", "activity", "timestamp"]]
    naive = df.assign(timestamp=df["timestamp"].dt.tz_localize(None))
    p = tmp_path / "naive.parquet"
    naive.to_parquet(p)
    roles = dict(case="case", activity="activity", timestamp="timestamp")
    for tz in (None, "Europe/Paris", "America/New_York"):
        lazy, mem = jl.scan_parquet(p, tz=tz, **roles), jl.read_parquet(p, tz=tz, **roles)
        got = lazy.to_pandas()["timestamp"].dt.tz_convert("UTC")
        want = mem.to_pandas()["timestamp"].dt.tz_convert("UTC")
        assert got.sort_values().tolist() == want.sort_values().tolist(), tz
    assert "UTC" in jl.scan_parquet(p, **roles)._meta["tz_note"]
    text = tmp_path / "text.parquet"
    naive.assign(timestamp=naive["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S")).to_parquet(text)
    _same_events(jl.scan_parquet(text, **roles).to_pandas(), jl.read_parquet(p, **roles).to_pandas())
    bad = tmp_path / "bad.parquet"
    naive.assign(timestamp=naive["timestamp"].dt.strftime("%d/%m/%Y %H:%M")).to_parquet(bad)
    with pytest.raises(SchemaError, match=r"is text, and '\d\d/\d\d/\d{4} .*not an ISO 8601.*Store timestamps"):
        jl.scan_parquet(bad, **roles)
    numbers = tmp_path / "numbers.parquet"
    naive.assign(timestamp=range(len(naive))).to_parquet(numbers)
    with pytest.raises(SchemaError, match="has type int64, not a timestamp"):
        jl.scan_parquet(numbers, **roles)


def test_scan_parquet_missing_values(tmp_path):
    df = jl.datasets.load_example().to_pandas()[["case", "activity", "timestamp"]]
    df.loc[[3, 7], "case"] = None
    df.loc[5, "activity"] = None
    p = tmp_path / "nulls.parquet"
    df.to_parquet(p)
    roles = dict(case="case", activity="activity", timestamp="timestamp")
    with pytest.raises(MissingValuesError, match="2 in case, 1 in activity"):
        jl.scan_parquet(p, **roles)
    with pytest.warns(jl.DataQualityWarning) as lazy_warned:
        lazy = jl.scan_parquet(p, on_invalid="drop", **roles)
    with pytest.warns(jl.DataQualityWarning) as mem_warned:
        mem = jl.read_parquet(p, on_invalid="drop", **roles)
    def quality(seen):
        return [str(w.message) for w in seen if issubclass(w.category, jl.DataQualityWarning)]

    assert quality(lazy_warned) == quality(mem_warned) != []
    assert lazy.n_events == mem.n_events == len(df) - 3 and lazy._meta["dropped_invalid"] == 3
    with pytest.raises(InvalidParameterError, match="on_invalid='skip'"):
        jl.scan_parquet(p, on_invalid="skip", **roles)


def test_scan_parquet_errors(tmp_path, sim_file):
    roles = dict(case="case", activity="activity", timestamp="timestamp")
    with pytest.raises(FileFormatError, match="No file at"):
        jl.scan_parquet(tmp_path / "nope.parquet", **roles)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileFormatError, match="has no \\*.parquet file"):
        jl.scan_parquet(tmp_path / "empty", **roles)
    with pytest.raises(FileFormatError, match="no file matches"):
        jl.scan_parquet(str(tmp_path / "x-*.parquet"), **roles)
    junk = tmp_path / "junk.parquet"
    junk.write_text("case,activity\n1,a\n")
    with pytest.raises(FileFormatError, match="cannot scan .*as Parquet"):
        jl.scan_parquet(junk, **roles)
    with pytest.raises(SchemaError, match="timestamp='when' is not a column"):
        jl.scan_parquet(sim_file, case="case", activity="activity", timestamp="when")
    with pytest.raises(SchemaError, match="case='who' is not a column"):
        jl.scan_parquet(sim_file, case="who", activity="activity", timestamp="timestamp")
    with pytest.raises(InvalidParameterError, match="case= must be a column name"):
        jl.scan_parquet(sim_file, case=1, activity="activity", timestamp="timestamp")
    assert "scan_parquet" in jl.__all__


# --------------------------------------------------------------------------- write_journeys


def test_write_journeys_one_chunk_is_make_journeys(tmp_path):
    folder = jl.datasets.write_journeys(tmp_path / "one", 200, chunk=500, random_state=3, p_support=0.3)
    got = pd.read_parquet(folder / "part-00000.parquet")
    want = jl.datasets.make_journeys(200, random_state=3, p_support=0.3).log.to_pandas()
    pd.testing.assert_frame_equal(got, want)
    assert jl.Journey.from_yaml(folder / "_journey.yaml").happy_path == ("explore", "cart", "checkout", "purchase",
                                                                         "receive")


def test_write_journeys_is_deterministic_with_unique_ids(tmp_path):
    a = jl.datasets.write_journeys(tmp_path / "a", 700, chunk=250, random_state=11, progress=False)
    b = jl.datasets.write_journeys(tmp_path / "b", 700, chunk=250, random_state=11, progress=False)
    c = jl.datasets.write_journeys(tmp_path / "c", 700, chunk=250, random_state=12, progress=False)
    parts = sorted(p.name for p in a.glob("part-*.parquet"))
    assert parts == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    for name in parts:
        pd.testing.assert_frame_equal(pd.read_parquet(a / name), pd.read_parquet(b / name))
    assert not pd.read_parquet(a / parts[1]).equals(pd.read_parquet(c / parts[1]))
    frames = [pd.read_parquet(a / name) for name in parts]
    df = pd.concat(frames, ignore_index=True)
    customers = [set(f["case"]) for f in frames]
    assert sum(map(len, customers)) == len(set().union(*customers)) == 700
    assert set(df["case"]) == {f"C{i:06d}" for i in range(1, 701)}
    sessions = df.dropna(subset=["session_id"])
    assert (sessions.groupby("session_id", observed=True)["case"].nunique() == 1).all()
    assert all(s.split("-")[0] == c for s, c in zip(sessions["session_id"].astype(str), sessions["case"]))
    for col in ("cookie_id", "email_id", "phone_id"):
        per_chunk = [set(f[col].dropna().astype(str)) for f in frames]
        assert sum(map(len, per_chunk)) == len(set().union(*per_chunk)), col
    # chunks are simulations of their own: the same distributions, different customers
    assert frames[1]["activity"].value_counts(normalize=True).index[:3].tolist() == \
        frames[0]["activity"].value_counts(normalize=True).index[:3].tolist()
    lazy = jl.scan_parquet(a, case="session_id", customer="case", activity="activity", timestamp="timestamp",
                           on_invalid="drop")
    assert lazy.n_cases == sessions["session_id"].nunique()


def test_write_journeys_errors(tmp_path):
    jl.datasets.write_journeys(tmp_path / "w", 50, chunk=20, random_state=1)
    with pytest.raises(OutputError, match="not empty.*overwrite=True"):
        jl.datasets.write_journeys(tmp_path / "w", 50, chunk=20, random_state=1)
    again = jl.datasets.write_journeys(tmp_path / "w", 30, chunk=20, random_state=1, overwrite=True)
    assert sorted(p.name for p in again.glob("part-*")) == ["part-00000.parquet", "part-00001.parquet"]
    with pytest.raises(InvalidParameterError, match="chunk must be a whole number >= 1"):
        jl.datasets.write_journeys(tmp_path / "x", 50, chunk=0)
    with pytest.raises(InvalidParameterError, match="n_customers"):
        jl.datasets.write_journeys(tmp_path / "x", -1)
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="is a file"):
        jl.datasets.write_journeys(tmp_path / "file", 10)
    with pytest.raises(InvalidParameterError, match="p_skip"):
        jl.datasets.write_journeys(tmp_path / "y", 10, p_skip=3)


# --------------------------------------------------------------------------- the report on lazy logs


def test_report_code_reduces_in_the_engine(sim, sim_duckdb):
    from journeylab._report.sections import distinct_values, engine_fingerprint, frame_sha256, overview

    n = sim_duckdb.n_events
    with fetched() as f:
        lazy = overview(sim_duckdb)
    assert f.largest < n and f.largest <= max(sim_duckdb.n_cases, 200)
    mem = overview(sim.log)
    assert lazy["cards"] == mem["cards"]
    for key in ("activities", "channels"):
        pd.testing.assert_frame_equal(lazy[key].astype({lazy[key].columns[0]: str}),
                                      mem[key].astype({mem[key].columns[0]: str}))
    with fetched() as f:
        digest = frame_sha256(sim_duckdb)
        versions = distinct_values(sim_duckdb, "version")
    assert f.largest <= 2 and len(digest) == 64
    assert versions.tolist() == sorted(sim.log.to_pandas()["version"].dropna().unique().astype(str))


def test_engine_fingerprint_is_of_the_events_not_their_order(sim, tmp_path):
    import ibis

    from journeylab._report.sections import engine_fingerprint

    df = sim.log.to_pandas()
    roles = {r: r for r in sim.log.roles}

    def lazy(frame):
        return jl.from_ibis(ibis.memtable(frame), **roles)

    one = engine_fingerprint(lazy(df))
    assert engine_fingerprint(lazy(df.sample(frac=1, random_state=0))) == one
    changed = df.copy()
    changed.loc[10, "activity"] = "something_else"
    assert engine_fingerprint(lazy(changed)) != one
    assert engine_fingerprint(lazy(df.drop(index=5))) != one


def _sections(html: str) -> dict[str, str]:
    """Report sections by title, figures left out (the numbers and tables only)."""
    out = {}
    for title, body in re.findall(r"<section><h2>(.*?)</h2>(.*?)</section>", html, flags=re.S):
        out[title] = re.sub(r'<img [^>]*>', "", body)
    return out


def test_report_on_a_lazy_log_and_its_engine_line(sim, sim_duckdb, tmp_path):
    out = jl.report(sim_duckdb, journey=sim.journey, out=tmp_path / "lazy.html", progress=False)
    html = out.read_text(encoding="utf-8")
    sec = _sections(html)
    assert "Engine: DuckDB: the events stay in DuckDB" in sec["Appendix: reproducibility"]
    assert "fingerprint of the events computed in duckdb" in html
    for title in ("Overview", "Top variants", "Goal attainment"):
        assert title in sec and "could not be computed" not in sec[title]
    assert f">{sim_duckdb.n_events:,}<" in sec["Overview"]


def test_report_fits_its_models_on_a_sample_and_counts_everyone_else(sim, sim_duckdb, tmp_path):
    full = _sections(jl.report(sim_duckdb, journey=sim.journey, out=tmp_path / "all.html", progress=False,
                               model_sample=None).read_text(encoding="utf-8"))
    part = _sections(jl.report(sim_duckdb, journey=sim.journey, out=tmp_path / "part.html", progress=False,
                               model_sample=500).read_text(encoding="utf-8"))
    said = f"Fitted on a uniform random sample of 500 of the {sim.log.n_cases:,} customers"
    for title in ("Segments", "Drivers of the goal"):  # models and tests: fitted on the sample, which is said
        assert said in part[title] and said not in full[title]
    assert "500 cases" in part["Drivers of the goal"] and f"{sim.log.n_cases:,} cases" in full["Drivers of the goal"]
    for title in ("Overview", "Goal attainment", "A/B test"):  # the counts are over every customer
        assert part[title] == full[title]
    assert "500" in part["Appendix: reproducibility"] and "model_sample" in part["Appendix: reproducibility"]


def test_cli_report_engines_give_the_same_numbers(tmp_path, capsys):
    from journeylab.cli import main

    sample = jl.datasets.make_journeys(300, random_state=5)
    path = tmp_path / "events.parquet"
    sample.log.to_pandas().to_parquet(path)
    journey = tmp_path / "journey.yaml"
    journey.write_text(sample.journey.to_yaml(), encoding="utf-8")
    args = ["report", str(path), "--case", "case", "--activity", "activity", "--timestamp", "timestamp",
            "--channel", "channel", "--value", "value", "--journey", str(journey)]
    pages = {}
    for engine in ("memory", "duckdb"):
        assert main([*args, "--engine", engine, "--out", str(tmp_path / f"{engine}.html")]) == 0
        pages[engine] = _sections((tmp_path / f"{engine}.html").read_text(encoding="utf-8"))
    assert "Engine: in memory" in pages["memory"]["Appendix: reproducibility"]
    assert "Engine: DuckDB" in pages["duckdb"]["Appendix: reproducibility"]
    for title in ("Overview", "Top variants", "Goal attainment"):
        assert pages["duckdb"][title] == pages["memory"][title], title
    # no --engine: DuckDB above the threshold, memory below it
    assert main([*args, "--engine-threshold", "1B", "--out", str(tmp_path / "auto.html")]) == 0
    assert "Engine: DuckDB" in (tmp_path / "auto.html").read_text(encoding="utf-8")
    capsys.readouterr()


def test_engine_choice_and_its_errors(tmp_path):
    from journeylab._cli_commands import load_log
    from journeylab.reporting import parse_size, resolve_engine

    p = tmp_path / "e.parquet"
    jl.datasets.load_example().to_pandas().to_parquet(p)
    assert resolve_engine(str(p)) == "memory"
    assert resolve_engine(str(p), threshold="10B") == "duckdb"
    assert resolve_engine(str(tmp_path)) == "duckdb"  # a folder of part files
    assert resolve_engine(str(jl.datasets.example_path()), threshold=1) == "memory"  # not Parquet
    assert parse_size("1.5GiB") == int(1.5 * 2**30)
    with pytest.raises(jl.JourneylabError, match="not a size"):
        parse_size("big")
    with pytest.raises(jl.JourneylabError, match="engine='gpu' is not one of"):
        resolve_engine(str(p), "gpu")
    roles = dict(case="case", activity="activity", timestamp="timestamp")
    assert load_log(str(tmp_path), engine="duckdb", **roles).is_lazy
    with pytest.raises(FileFormatError, match="--engine duckdb reads Parquet"):
        load_log(str(jl.datasets.example_path()), engine="duckdb")
    with pytest.raises(FileFormatError, match="folder or a glob of part files"):
        load_log(str(tmp_path), engine="memory", **roles)
    with pytest.raises(jl.JourneylabError, match="--deduplicate works in memory only"):
        load_log(str(p), engine="duckdb", deduplicate=True, **roles)


# --------------------------------------------------------------------------- Spark


@pytest.fixture(scope="module")
def spark():
    from conftest import spark_session_or_skip

    return spark_session_or_skip()


def _readme_block(marker: str) -> str:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    after = text[text.index(marker):]
    start = after.index("```python\n") + len("```python\n")
    return after[start:after.index("```", start)]


@pytest.mark.spark
def test_readme_spark_recipe_runs(spark, tmp_path):
    jl.datasets.write_journeys(tmp_path / "events", 120, chunk=60, random_state=2)
    code = _readme_block("<!-- spark-recipe")
    assert code.count('"events/"') == 1
    # the JVM resolves relative paths against its own start folder: the recipe's folder, absolute
    code = code.replace('"events/"', repr(str(tmp_path / "events")))
    space: dict = {}
    exec(compile(code, "README.md (Spark recipe)", "exec"), space)
    log = space["log"]
    assert log.is_lazy and log.backend == "pyspark"
    df = pd.read_parquet(tmp_path / "events")
    df = df[df["session_id"].notna()]
    mem = jl.from_pandas(df, case="session_id", customer="case", activity="activity", timestamp="timestamp",
                         channel="channel", value="value")
    got = dict(zip(map(tuple, space["variants"]["variant"]), space["variants"]["count"]))
    want = dict(zip(map(tuple, jl.engine.variants(mem)["variant"]), jl.engine.variants(mem)["count"]))
    assert got == want and sum(got.values()) == df["session_id"].nunique()
    assert int(space["dfg"]["count"].sum()) == len(df) - df["session_id"].nunique()


def _same_page_text(body: str) -> str:
    """A section's text and tables, as the reader sees them: entities decoded, whitespace collapsed (the
    in-memory report is rendered by its notebook, which escapes and indents a little differently)."""
    from html import unescape

    return re.sub(r"\s+", " ", unescape(body).replace(">", "> ").replace("<", " <")).strip()


@pytest.mark.spark
def test_every_report_section_agrees_in_memory_duckdb_and_spark(spark, tmp_path):
    from conftest import lazy_copy

    sample = jl.datasets.make_journeys(400, random_state=3)
    logs = {"memory": sample.log, "duckdb": lazy_copy(sample.log, "duckdb", tmp_path=tmp_path),
            "spark": lazy_copy(sample.log, "pyspark", spark=spark, tmp_path=tmp_path)}
    pages = {}
    for name, log in logs.items():
        html = jl.report(log, journey=sample.journey, out=tmp_path / f"{name}.html", progress=False)
        pages[name] = {t: _same_page_text(b) for t, b in _sections(html.read_text(encoding="utf-8")).items()}
    titles = list(pages["memory"])
    assert len(titles) == 16 and all(list(pages[e]) == titles for e in ("duckdb", "spark"))
    failed = ("Not computed", "could not be computed")  # what a section says when it failed
    assert not any(f in body for page in pages.values() for body in page.values() for f in failed)
    # the timestamps' provenance: read by pandas in memory, stored as UTC by the engine
    kept, stored = "UTC - timezone-aware input kept (UTC)", "UTC - as stored"
    assert kept in pages["memory"]["Overview"]
    for engine in ("duckdb", "spark"):
        assert stored in pages[engine]["Overview"]
        pages[engine]["Overview"] = pages[engine]["Overview"].replace(stored, kept)
        for title in titles:
            if title != "Appendix: reproducibility":  # which engine, and its fingerprint of the events
                assert pages[engine][title] == pages["memory"][title], (engine, title)
    assert "Engine: Spark" in pages["spark"]["Appendix: reproducibility"]


@pytest.mark.spark
def test_report_helpers_and_cli_engine_on_spark(spark, sim, tmp_path):
    from journeylab._cli_commands import load_log
    from journeylab._report.data import distinct_values, engine_fingerprint, engine_label

    small = jl.datasets.make_journeys(80, random_state=4).log
    path = tmp_path / "e.parquet"
    small.to_pandas().to_parquet(path)
    log = load_log(str(path), engine="spark", case="case", activity="activity", timestamp="timestamp",
                   channel="channel")
    assert log.is_lazy and log.backend == "pyspark" and log.n_events == small.n_events
    with fetched() as f:
        digest = engine_fingerprint(log)
        channels = distinct_values(log, "channel")
    assert len(digest) == 64 and f.largest <= len(channels) <= 10
    assert channels.tolist() == sorted(small.to_pandas()["channel"].dropna().unique())
    assert engine_label(log).startswith("Spark")


def test_report_on_a_lazy_log_says_what_failed(sim_duckdb, tmp_path, monkeypatch):
    from journeylab._report import sections
    from journeylab.reporting import ReportError

    def broken(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(sections, "overview_section", broken)
    with pytest.raises(ReportError, match="failed in section 3 with RuntimeError: boom.*journeylab bug"):
        jl.report(sim_duckdb, out=tmp_path / "r.html", progress=False)
    assert not (tmp_path / "r.html").exists()

    def refused(*a, **k):
        raise SchemaError("a clear journeylab error")

    monkeypatch.setattr(sections, "overview_section", refused)
    with pytest.raises(SchemaError, match="a clear journeylab error"):
        jl.report(sim_duckdb, out=tmp_path / "r.html", progress=False)
