"""Shared fixtures: the reference logs, small hand-made logs, and nbval set-up."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("MPLBACKEND", "Agg")

SHARED = ROOT.parent / "shared" / "datasets"

# Hypothesis profiles: "fast" (the default: the suite stays quick) and "thorough" (JOURNEYLAB_FUZZ=thorough, for a
# long fuzzing run). Tests that set max_examples themselves keep it; the fuzz suite scales with the profile.
_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile("fast", max_examples=100, deadline=None, suppress_health_check=_SLOW_OK, print_blob=True)
settings.register_profile("thorough", max_examples=2_000, deadline=None, suppress_health_check=_SLOW_OK,
                          print_blob=True)
settings.load_profile("thorough" if os.environ.get("JOURNEYLAB_FUZZ", "").strip().lower() == "thorough" else "fast")


@pytest.fixture(autouse=True)
def _restore_pandas_string_storage():
    """pm4py needs mode.string_storage='python'; a test that sets it must not leak it into the next."""
    before = pd.get_option("mode.string_storage")
    yield
    pd.set_option("mode.string_storage", before)


def shared_log(name: str) -> Path:
    """Path of a reference log in ../shared/datasets, or skip the test with the reason."""
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"reference log {path} is absent (the ../shared/datasets folder sits beside the repo in CI)")
    return path


@pytest.fixture
def small_df() -> pd.DataFrame:
    """Three cases, hand-written, with a channel and an attribute."""
    return pd.DataFrame(
        {
            "client": ["c1", "c1", "c1", "c2", "c2", "c3"],
            "step": ["visit", "cart", "buy", "visit", "cart", "visit"],
            "ts": [
                "2025-01-01 10:00",
                "2025-01-01 10:05",
                "2025-01-01 10:30",
                "2025-01-02 09:00",
                "2025-01-02 09:20",
                "2025-01-03 12:00",
            ],
            "where": ["web", "web", "app", "app", "app", "store"],
            "amount": [None, None, 80.0, None, None, None],
        }
    )


def hostile_log():
    """Markup and script in every string of a small log (case ids, activities, channel)."""
    import journeylab as jl

    df = pd.DataFrame({
        "c": ["<b>1</b>", "<b>1</b>", "2"],
        "act": ["<script>alert(1)</script>", "pay & go", "<img src=x onerror=alert(2)>"],
        "t": ["2025-01-01", "2025-01-02", "2025-01-03"],
        "ch": ["web", "<i>app</i>", "web"],
    })
    return jl.from_pandas(df, case="c", activity="act", timestamp="t", channel="ch")


# --------------------------------------------------------------------------- lazy logs (engine push-down)


def lazy_copy(log, backend: str = "duckdb", *, spark=None, tmp_path=None):
    """The same events as ``log``, as a lazy log that lives in DuckDB (a table of a DuckDB connection, read
    from Parquet) or in Spark (``spark``: a session); the roles the log has, under their canonical names."""
    import ibis

    import journeylab as jl

    import tempfile

    df = log.to_pandas()
    roles = {r: r for r in log.roles if r not in ("case", "activity", "timestamp")}
    folder = Path(tmp_path) if tmp_path is not None else Path(tempfile.mkdtemp(prefix="jl-lazy-"))
    path = folder / f"events-{backend}.parquet"
    df.to_parquet(path)  # through Parquet: missing values stay nulls (createDataFrame would make 'NaN' text)
    if backend == "duckdb":
        table = ibis.duckdb.connect().read_parquet(path)
    elif backend == "pyspark":
        if spark is None:
            raise ValueError("lazy_copy(..., 'pyspark') needs spark=<a SparkSession>")
        name = f"events_{abs(hash(id(log)))}"
        spark.read.parquet(str(path)).createOrReplaceTempView(name)
        table = ibis.pyspark.connect(spark).table(name)
    else:
        raise ValueError(f"unknown backend {backend!r}")
    return jl.from_ibis(table, case="case", activity="activity", timestamp="timestamp", **roles)


def spark_session_or_skip():
    """A local Spark session for the tests (skipped without Java or pyspark)."""
    import shutil

    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Spark tests need Java (none found on PATH or JAVA_HOME)")
    pytest.importorskip("pyspark", reason="Spark tests need pyspark (pip install journeylab[spark])")
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[1]")
        .appName("journeylab-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        # tiny test data: one partition everywhere, no adaptive re-planning (an extra job per stage), and a
        # driver JVM that only uses the quick JIT tier (C2 compiles cost more than they save in a test run)
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


@pytest.fixture(scope="session")
def sim():
    """A small simulated sample (1,500 customers: log, journey, truth), made once per test session."""
    import journeylab as jl

    return jl.datasets.make_journeys(1_500, random_state=7)


@pytest.fixture(scope="session")
def sim_duckdb(sim, tmp_path_factory):
    """``sim.log`` as a lazy log in DuckDB (a table read from Parquet)."""
    return lazy_copy(sim.log, "duckdb", tmp_path=tmp_path_factory.mktemp("sim-duckdb"))
