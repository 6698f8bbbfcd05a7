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

__all__ = ["duckdb_connection", "backend_name", "execute", "micros", "epoch_us", "unix_micros", "Fetched",
           "fetched"]

_LOCAL = threading.local()


class Fetched:
    """What the backend sent back to Python while it was watched (see :func:`fetched`).

    ``rows`` (total), ``largest`` (rows of the largest single result), ``queries`` (results
    fetched) and ``sizes`` (rows of each result, in order).
    """

    __slots__ = ("rows", "largest", "queries", "sizes")

    def __init__(self):
        self.rows = self.largest = self.queries = 0
        self.sizes: list[int] = []

    def add(self, n: int) -> None:
        self.rows += n
        self.largest = max(self.largest, n)
        self.queries += 1
        self.sizes.append(n)

    def __repr__(self) -> str:
        return f"Fetched(rows={self.rows:,}, largest={self.largest:,}, queries={self.queries})"


class fetched:
    """Context manager that counts the rows every :func:`execute` brings back to Python (this thread).

    The check that an analysis on a lazy log (DuckDB, Spark) reduces the events in the engine:
    what comes back is per variant or per case, never the event table.

    Examples
    --------
    >>> import journeylab as jl
    >>> t = jl.datasets.load_example().table
    >>> with fetched() as f:
    ...     _ = execute(t.group_by("activity").aggregate(n=t.count()))
    >>> f.rows, f.queries
    (8, 1)
    """

    def __enter__(self) -> Fetched:
        self._outer = getattr(_LOCAL, "watch", None)
        self._mine = Fetched()
        _LOCAL.watch = self._mine
        return self._mine

    def __exit__(self, *exc) -> None:
        _LOCAL.watch = self._outer
        if self._outer is not None:
            for n in self._mine.sizes:
                self._outer.add(n)


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
    out = _backend(expr).execute(expr)
    watch = getattr(_LOCAL, "watch", None)
    if watch is not None:
        watch.add(len(out) if isinstance(out, (pd.DataFrame, pd.Series)) else 1)
    return out


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
