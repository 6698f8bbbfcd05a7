"""Where the events live: the Ibis backend of a table (DuckDB in process by default, or Spark), running
expressions on it, and the few backend-specific builtins the scans need.

Every aggregate of journeylab is an Ibis expression; ``execute`` runs it on the backend its table is
bound to (a memtable, i.e. a pandas-backed log, on the in-process DuckDB of this thread).
"""

from __future__ import annotations

import threading

import ibis
import ibis.expr.datatypes as dt
import pandas as pd

__all__ = ["duckdb_connection", "backend_name", "execute", "micros", "epoch_us", "unix_micros"]

_LOCAL = threading.local()


def duckdb_connection():
    """The in-process DuckDB backend used for pandas-backed logs (one per thread).

    Returns
    -------
    ibis.backends.duckdb.Backend
        The Ibis DuckDB connection of this thread (made on first use), e.g. to set DuckDB's
        threads or memory limit.

    Examples
    --------
    >>> con = duckdb_connection()
    >>> con.name, con is duckdb_connection()
    ('duckdb', True)
    """
    con = getattr(_LOCAL, "con", None)
    if con is None:
        con = ibis.duckdb.connect()
        _LOCAL.con = con
    return con


def _backend(expr):
    try:
        return expr._find_backend(use_default=False)
    except Exception:  # memtables only: no backend bound
        return duckdb_connection()


def backend_name(expr) -> str:
    """The name of the Ibis backend an expression runs on.

    Parameters
    ----------
    expr : ibis expression
        A table or column expression (a memtable - a pandas-backed log - runs on DuckDB).

    Returns
    -------
    str
        "duckdb" or "pyspark" (or another Ibis backend name).

    Examples
    --------
    >>> import journeylab as jl
    >>> backend_name(jl.datasets.load_example().table)
    'duckdb'
    """
    return _backend(expr).name


def execute(expr) -> pd.DataFrame | pd.Series | object:
    """Run an Ibis expression on its own backend (DuckDB for memtables).

    Parameters
    ----------
    expr : ibis expression
        A table, column or scalar expression, e.g. built on ``log.table``.

    Returns
    -------
    pandas.DataFrame, pandas.Series or a scalar
        The result, as Ibis returns it for the kind of expression.

    Examples
    --------
    >>> import journeylab as jl
    >>> t = jl.datasets.load_example().table
    >>> int(execute(t.count()))
    42
    """
    return _backend(expr).execute(expr)


@ibis.udf.scalar.builtin
def epoch_us(ts: dt.Timestamp(timezone="UTC")) -> dt.int64:  # DuckDB
    """Microseconds since the epoch (DuckDB builtin)."""


@ibis.udf.scalar.builtin
def unix_micros(ts: dt.Timestamp(timezone="UTC")) -> dt.int64:  # Spark SQL
    """Microseconds since the epoch (Spark builtin)."""


def micros(ts):
    """Exact microseconds since the epoch as int64 (Ibis' epoch_seconds rounds on DuckDB)."""
    fn = epoch_us if backend_name(ts) == "duckdb" else unix_micros
    return fn(ts)
