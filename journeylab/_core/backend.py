"""Where the events live: the Ibis backend of a table (DuckDB in process by default, or Spark), running
expressions on it, and the few backend-specific builtins the scans need.

Every aggregate of journeylab is an Ibis expression; ``execute`` runs it on the backend its table is
bound to (a memtable, i.e. a pandas-backed log, on the in-process DuckDB of this thread).

DuckDB settings (:func:`configure`, or the environment variables ``JOURNEYLAB_DUCKDB_MEMORY_LIMIT``,
``JOURNEYLAB_DUCKDB_TEMP_DIRECTORY``, ``JOURNEYLAB_DUCKDB_THREADS``) apply to every DuckDB connection
journeylab makes: the in-process one of each thread (pandas-backed logs) and the one that
:func:`journeylab.scan_parquet` reads files with (:func:`scan_connection`). The defaults:

- ``memory_limit="60%"`` of the machine's RAM (DuckDB's own default is 80%): the rest is for the
  Python side (the per-variant and per-case tables that come back, pandas, matplotlib);
- ``temp_directory``: ``<system temp>/journeylab-duckdb`` (DuckDB's default is ``.tmp`` in the
  current folder): where DuckDB spills what does not fit in the memory limit, so that logs larger
  than memory can be scanned (sorts, joins, window functions and group-bys spill there);
- ``threads``: DuckDB's default (every core);
- ``allocator_background_threads=true``: the pages a finished query freed go back to the system
  within a second, for the Python side, instead of at DuckDB's next allocations;
- ``preserve_insertion_order=False`` on the scan connection only (results without an ORDER BY may
  come back in any order, which lets DuckDB stream and spill large scans; journeylab's queries on
  lazy logs never rely on row order, as on Spark), DuckDB's default (True) on the in-process ones.

Precedence: :func:`configure` > environment variables > the defaults above. A connection you
make yourself (``ibis.duckdb.connect()``) and hand to :func:`journeylab.from_ibis` keeps its own
settings: apply them with :func:`apply_settings`.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import threading
import weakref

import ibis
import ibis.expr.datatypes as dt
import pandas as pd

from ..exceptions import InvalidParameterError

__all__ = ["configure", "settings", "apply_settings", "scan_connection", "store", "store_path", "duckdb_connection", "backend_name", "execute", "resource_error", "micros", "epoch_us", "unix_micros", "spark_row_id", "Fetched", "engine_progress",
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


_ENV = {"memory_limit": "JOURNEYLAB_DUCKDB_MEMORY_LIMIT", "temp_directory": "JOURNEYLAB_DUCKDB_TEMP_DIRECTORY",
        "threads": "JOURNEYLAB_DUCKDB_THREADS"}
_CONFIGURED: dict = {}  # what configure() was given (None: back to the environment / default)
# the connections journeylab made (settings applied), by id: Ibis backends compare equal to one another
_CONNECTIONS: "weakref.WeakValueDictionary" = weakref.WeakValueDictionary()
_SCAN: dict = {}
_LOCK = threading.Lock()
_MEMORY = re.compile(r"^\s*(\d+(\.\d+)?)\s*(%|[KMGT]i?B|B)\s*$", re.IGNORECASE)


def _error(message: str) -> InvalidParameterError:
    return InvalidParameterError(message)


def _memory_limit(value, where: str) -> str:
    text = str(value).strip()
    m = _MEMORY.match(text)
    if m is None or float(m.group(1)) <= 0 or (m.group(3) == "%" and float(m.group(1)) > 100):
        raise _error(f"{where} must be a share of the machine's RAM or an amount, e.g. '60%' or '12GB' "
                     f"(units B, KB, MB, GB, TB, or KiB..TiB), not {text[:40]!r}.")
    return text.replace(" ", "")


def _threads(value, where: str) -> int:
    try:
        n = int(str(value).strip())
    except ValueError:
        n = 0
    if isinstance(value, bool) or n < 1:
        raise _error(f"{where} must be a whole number of threads >= 1, e.g. 2, not {str(value)[:40]!r}.")
    return n


def _temp_directory(value, where: str) -> str:
    text = os.fspath(value) if isinstance(value, os.PathLike) else value
    if not isinstance(text, str) or not text.strip():
        raise _error(f"{where} must be the path of a folder DuckDB may spill to, e.g. '/scratch/duckdb', "
                     f"not {str(value)[:40]!r}.")
    return os.path.expanduser(text)


_CHECK = {"memory_limit": _memory_limit, "temp_directory": _temp_directory, "threads": _threads}


def settings() -> dict:
    """The DuckDB settings journeylab applies to its connections.

    Returns
    -------
    dict
        ``memory_limit``, ``temp_directory``, ``threads`` (None: DuckDB's default, every core) and
        ``preserve_insertion_order`` (of the scan connection): what :func:`configure` set, else the
        environment variables, else the defaults.

    Examples
    --------
    >>> sorted(settings())
    ['memory_limit', 'preserve_insertion_order', 'temp_directory', 'threads']
    """
    out = {"memory_limit": "60%", "temp_directory": os.path.join(tempfile.gettempdir(), "journeylab-duckdb"),
           "threads": None, "preserve_insertion_order": False}
    for key, var in _ENV.items():
        if os.environ.get(var, "").strip():
            out[key] = _CHECK[key](os.environ[var], f"the environment variable {var}")
    for key, value in _CONFIGURED.items():
        if value is not None:
            out[key] = value
    return out


def _statements(scan: bool) -> list[str]:
    s = settings()
    sql = [f"SET memory_limit='{s['memory_limit']}'",
           "SET temp_directory='{}'".format(s["temp_directory"].replace("'", "''"))]
    if s["threads"] is not None:
        sql.append(f"SET threads={int(s['threads'])}")
    # DuckDB tracks a query's progress only with its bar on; journeylab draws its own (engine_progress)
    sql += ["SET enable_progress_bar=true", "SET enable_progress_bar_print=false"]
    # DuckDB's allocator (jemalloc on Linux) keeps the pages a finished query freed until later allocations
    # purge them: after copying 14M events into the store the process held 2.9 GB of them, 0.2 GB three seconds
    # later with background threads, which purge them within a second, while Python works on the result
    sql.append("SET allocator_background_threads=true")
    if scan:
        sql.append(f"SET preserve_insertion_order={'true' if s['preserve_insertion_order'] else 'false'}")
    return sql


def apply_settings(con, *, scan: bool = False):
    """Apply journeylab's DuckDB settings (:func:`settings`) to an Ibis DuckDB connection.

    Parameters
    ----------
    con : ibis.backends.duckdb.Backend
        A connection (e.g. your own ``ibis.duckdb.connect()``).
    scan : bool
        Also set ``preserve_insertion_order`` (for connections that only run journeylab's queries).

    Returns
    -------
    The same connection.

    Examples
    --------
    >>> import ibis
    >>> con = apply_settings(ibis.duckdb.connect())
    >>> con.raw_sql("SELECT current_setting('temp_directory')").fetchone()[0] == settings()["temp_directory"]
    True
    """
    for sql in _statements(scan):
        con.raw_sql(sql)
    return con


def configure(*, memory_limit=None, temp_directory=None, threads=None, preserve_insertion_order=None,
              reset: bool = False) -> dict:
    """Set DuckDB's memory limit, spill folder and threads for every connection journeylab makes.

    Applies at once to the connections journeylab has made (the in-process one of each thread,
    the scan connection of :func:`journeylab.scan_parquet`) and to those it makes later. Arguments
    left at None keep their current value; ``configure()`` with none returns the settings.

    Parameters
    ----------
    memory_limit : str, optional
        A share of the machine's RAM (``"60%"``, the default; DuckDB's own default is 80%) or an
        amount (``"12GB"``, ``"500MB"``, ``"12GiB"``). Beyond it DuckDB spills to ``temp_directory``.
    temp_directory : str or Path, optional
        The folder DuckDB spills to (default ``<system temp>/journeylab-duckdb``): put it on a fast
        disk with room for the largest sort or join of the log.
    threads : int, optional
        Threads DuckDB may use (default: every core).
    preserve_insertion_order : bool, optional
        For the scan connection (default False: lets DuckDB stream large scans).
    reset : bool
        First forget what earlier calls set (back to the environment variables and defaults).

    Returns
    -------
    dict
        The settings now in force (as :func:`settings`).

    Examples
    --------
    >>> import journeylab as jl
    >>> jl.engine.configure(memory_limit="12GB", threads=2)["memory_limit"]
    '12GB'
    >>> jl.engine.duckdb_connection().raw_sql("SELECT current_setting('threads')").fetchone()[0]
    2
    >>> _ = jl.engine.configure(reset=True)
    """
    if reset:
        _CONFIGURED.clear()
    given = {"memory_limit": memory_limit, "temp_directory": temp_directory, "threads": threads}
    for key, value in given.items():
        if value is not None:
            _CONFIGURED[key] = _CHECK[key](value, key)
    if preserve_insertion_order is not None:
        if not isinstance(preserve_insertion_order, bool):
            raise _error(f"preserve_insertion_order must be True or False, not {preserve_insertion_order!r}.")
        _CONFIGURED["preserve_insertion_order"] = preserve_insertion_order
    for con in list(_CONNECTIONS.values()):
        apply_settings(con, scan=con is _SCAN.get("con"))
        if reset and _CONFIGURED.get("threads") is None and settings()["threads"] is None:
            con.raw_sql("RESET threads")
    return settings()


def _new_connection(scan: bool = False):
    con = apply_settings(ibis.duckdb.connect(), scan=scan)
    _CONNECTIONS[id(con)] = con
    return con


def scan_connection():
    """The DuckDB connection :func:`journeylab.scan_parquet` reads files with (one per process, made on
    first use, with journeylab's settings and ``preserve_insertion_order`` off).

    Examples
    --------
    >>> scan_connection() is scan_connection()
    True
    """
    with _LOCK:
        con = _SCAN.get("con")
        if con is None:
            con = _SCAN["con"] = _new_connection(scan=True)
    return con


def duckdb_connection():
    """The in-process DuckDB backend used for pandas-backed logs (one per thread).

    Returns
    -------
    ibis.backends.duckdb.Backend
        The Ibis DuckDB connection of this thread (made on first use, with the settings of
        :func:`configure`).

    Examples
    --------
    >>> con = duckdb_connection()
    >>> con.name, con is duckdb_connection()
    ('duckdb', True)
    """
    con = getattr(_LOCAL, "con", None)
    if con is None:
        con = _new_connection()
        _LOCAL.con = con
    return con


def _backend(expr):
    try:
        return expr._find_backend(use_default=False)
    except Exception:  # memtables only: no backend bound
        return duckdb_connection()


@contextlib.contextmanager
def _arrow_results(backend):
    """During journeylab's query on Spark, results come back as Arrow batches (``spark.sql.execution.arrow
    .pyspark.enabled``), not a Python ``Row`` per row: 1M events, ``compare``: 0.5 s of Python CPU and 244 MB
    instead of 1.7 s and 364 MB. The session's own setting (which also rules ``createDataFrame``) is put back."""
    session = getattr(backend, "_session", None) if getattr(backend, "name", None) == "pyspark" else None
    if session is None:
        yield
        return
    key = "spark.sql.execution.arrow.pyspark.enabled"
    before = session.conf.get(key, "false")
    session.conf.set(key, "true")
    try:
        yield
    finally:
        session.conf.set(key, before)


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
    backend = _backend(expr)
    with _resources(), engine_progress(backend), _arrow_results(backend):
        out = backend.execute(expr)
    watch = getattr(_LOCAL, "watch", None)
    if watch is not None:
        watch.add(len(out) if isinstance(out, (pd.DataFrame, pd.Series)) else 1)
    return out


class engine_progress:
    """Context manager: while a query runs on ``backend`` (an Ibis DuckDB connection), a tqdm.auto bar
    shows DuckDB's own estimate of its progress, from ``after`` seconds on (quick queries stay quiet).

    A watcher thread reads ``query_progress()`` of the connection; other backends, or a connection
    whose progress is not tracked (``enable_progress_bar`` off, as in a connection of yours), show
    nothing. ``TQDM_DISABLE=1`` turns every bar off.

    >>> with engine_progress(duckdb_connection()):
    ...     pass
    """

    def __init__(self, backend, desc: str = "DuckDB query", after: float = 2.0):
        self._raw = getattr(backend, "con", None) if getattr(backend, "name", None) == "duckdb" else None
        self._desc, self._after = desc, after
        self._done = threading.Event()
        self._thread = None

    def __enter__(self):
        if self._raw is not None:
            self._thread = threading.Thread(target=self._watch, name="journeylab-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._thread is not None:
            self._done.set()
            self._thread.join()

    def _watch(self) -> None:
        if self._done.wait(self._after):
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:  # pragma: no cover - tqdm is a dependency
            return
        bar = None
        try:
            while not self._done.wait(0.5):
                done = float(self._raw.query_progress())
                if done < 0:  # not tracked, or between the steps of a query
                    continue
                if bar is None:
                    bar = tqdm(total=100, desc=self._desc, unit="%", leave=False,
                               bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}]")
                bar.n = min(100.0, done)
                bar.refresh()
        except Exception:  # a closed connection: the query is over
            pass
        finally:
            if bar is not None:
                bar.close()


class _resources:
    """Context manager: an engine error that is a lack of memory or disk (:func:`resource_error`) is raised
    as the :class:`~journeylab.exceptions.EngineResourceError` that says what to change; others as they are."""

    def __enter__(self):
        return self

    def __exit__(self, kind, err, tb) -> bool:
        if err is not None and isinstance(err, Exception):
            resource = resource_error(err)
            if resource is not None:
                raise resource from err
        return False


def resource_error(err: BaseException):
    """An :class:`~journeylab.exceptions.EngineResourceError` saying what to change when ``err`` is the engine
    running out of memory it could not spill or out of disk in its spill folder (DuckDB's
    ``OutOfMemoryException``, an ``IOException`` "No space left on device"); else None.

    >>> type(resource_error(OSError("IO Error: Could not write file: No space left on device"))).__name__
    'EngineResourceError'
    >>> resource_error(ValueError("something else")) is None
    True
    """
    from ..exceptions import EngineResourceError

    text = str(err)
    folder = settings()["temp_directory"]
    if "No space left on device" in text:
        return EngineResourceError(
            f"the engine ran out of disk space while spilling to its temporary folder ({folder!r} unless your "
            "connection sets another): free space there, or point it at a disk with more room - "
            "jl.engine.configure(temp_directory='/path/with/room') or JOURNEYLAB_DUCKDB_TEMP_DIRECTORY. "
            "Filtering the log first (filter_time, filter_cases) also shrinks what must be spilled.")
    if type(err).__name__ == "OutOfMemoryException" or "Out of Memory Error" in text:
        return EngineResourceError(
            f"the engine reached its memory limit ({settings()['memory_limit']!r}) and could not spill: raise it "
            "(jl.engine.configure(memory_limit='16GB')) or give it spill room (temp_directory=...); "
            f"engine message: {text[:300]}")
    return None


@ibis.udf.scalar.builtin
def epoch_us(ts: dt.Timestamp(timezone="UTC")) -> dt.int64:  # DuckDB
    """Microseconds since the epoch (DuckDB builtin)."""


@ibis.udf.scalar.builtin
def unix_micros(ts: dt.Timestamp(timezone="UTC")) -> dt.int64:  # Spark SQL
    """Microseconds since the epoch (Spark builtin)."""


@ibis.udf.scalar.builtin(name="monotonically_increasing_id")
def spark_row_id() -> dt.int64:  # Spark SQL
    """A unique id per row, increasing in a partition's order: the scan order of a table (Spark builtin)."""


@ibis.udf.scalar.builtin(name="timezone")
def local_to_utc(zone: dt.string, ts: dt.timestamp) -> dt.Timestamp(timezone="UTC"):  # DuckDB
    """The instant of a naive local time in ``zone`` (DuckDB's ``timezone(zone, timestamp)``)."""


def micros(ts):
    """Exact microseconds since the epoch as int64 (Ibis' epoch_seconds rounds on DuckDB)."""
    fn = epoch_us if backend_name(ts) == "duckdb" else unix_micros
    return fn(ts)


# --------------------------------------------------------------------------- the sorted copy of scanned files

_STORE: dict = {}  # "path": the attached database file, "tables": cache key -> table name


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process
        return True
    return True


def _store_attach(con) -> str:
    """Attach journeylab's store (a DuckDB file in the spill folder, one per process) to the scan
    connection on first use; files left by processes that no longer run are removed first."""
    path = _STORE.get("path")
    if path is not None:
        return path
    folder = settings()["temp_directory"]
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        m = re.fullmatch(r"store-(\d+)-[0-9a-f]+\.duckdb(\.wal)?", name)
        if m and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))):
            try:
                os.remove(os.path.join(folder, name))
            except OSError:
                pass
    path = os.path.join(folder, f"store-{os.getpid()}-{os.urandom(4).hex()}.duckdb")
    con.raw_sql("ATTACH '{}' AS jl_store".format(path.replace("'", "''")))
    _STORE.update(path=path, tables={})
    import atexit

    atexit.register(_store_remove, con, path)
    return path


def store_path() -> str | None:
    """The DuckDB file of journeylab's store (:func:`store`) in this process, or None before the first copy.

    >>> store_path() is None or store_path().endswith(".duckdb")
    True
    """
    return _STORE.get("path")


def _store_remove(con, path: str) -> None:
    try:
        con.raw_sql("DETACH jl_store")
    except Exception:  # the connection may already be closed at exit
        pass
    for p in (path, path + ".wal"):
        try:
            os.remove(p)
        except OSError:
            pass


def store(expr, key: str, *, order_by, drop=()):
    """``expr`` (a table on the scan connection) copied once into journeylab's store, sorted by the
    ``order_by`` columns (then without the ``drop`` ones) and numbered in that order by ``_seq``
    (0, 1, ...); the stored table is returned, and the same ``key`` later returns it again.

    The store is a DuckDB database file in the spill folder (:func:`settings`, ``temp_directory``),
    removed when Python exits. A query on the copy reads only the columns it needs from compressed,
    case-sorted storage, where a query on a view of the files would scan them and number the events
    again (one sort of the whole log per query: at 100M events, more than 60 GB of spill). The copy
    is made by one external sort; ``_seq`` is the row's position in the stored table (``rowid``),
    so no window function numbers the rows.

    >>> t = ibis.memtable({"x": [3, 4], "k": [2, 1]})
    >>> execute(store(t, "doctest", order_by=["k"], drop=["k"])).to_dict("list")
    {'x': [4, 3], '_seq': [0, 1]}
    """
    import hashlib

    con = scan_connection()
    with _LOCK:
        _store_attach(con)
        tables = _STORE["tables"]
        name = tables.get(key)
        if name is None:
            name = "log_" + hashlib.sha1(key.encode()).hexdigest()[:16]
            rows = expr.order_by(list(order_by))
            if drop:
                rows = rows.drop(*drop)  # one SELECT ... ORDER BY: the sort may use columns it does not keep
            try:
                # the rows are stored in the order of the sort only with insertion order preserved
                con.raw_sql("SET preserve_insertion_order=true")
                with _resources(), engine_progress(con, desc="copying the log into journeylab's store", after=1.0):
                    con.create_table(f"{name}_rows", rows, database=("jl_store", "main"))
            finally:
                con.raw_sql(f"SET preserve_insertion_order={'true' if settings()['preserve_insertion_order'] else 'false'}")
            con.raw_sql(f"CREATE OR REPLACE VIEW jl_store.main.{name} AS SELECT *, rowid AS _seq FROM jl_store.main.{name}_rows")
            tables[key] = name
    return con.table(name, database=("jl_store", "main"))
