"""The columnar core, public: the few heavy scans of an event log as small pandas tables.

Every aggregate runs where the events live: in process on DuckDB or numpy by default (a
pandas-backed :class:`~journeylab.EventLog`), or on Apache Spark / a DuckDB table (a log made
with :func:`journeylab.from_ibis`), as Ibis expressions. Results come back as small pandas
DataFrames; process-mining algorithms then work on these compressed tables (the variant table
is orders of magnitude smaller than the log). The computations live in
:mod:`journeylab._kernels.scans` (one implementation each, cached by the log); this module is
their public face.

DuckDB's memory limit, spill folder and threads for every connection journeylab makes:
:func:`configure` (or ``JOURNEYLAB_DUCKDB_MEMORY_LIMIT`` / ``_TEMP_DIRECTORY`` / ``_THREADS``); the
defaults (60% of RAM, ``<system temp>/journeylab-duckdb``) are explained in
:mod:`journeylab._core.backend`.

Version traps handled there: ordered ``collect(order_by=...)`` is not supported on the
PySpark backend, so variants collect ``(_seq, activity)`` structs and sort the array there;
Ibis 12's ``con.create_table`` fails on DuckDB 2.0, so logs are registered as memtables.

Examples
--------
>>> import journeylab as jl
>>> from journeylab import engine
>>> log = jl.datasets.load_example()
>>> int(engine.variants(log)["count"].sum()) == log.n_cases
True
"""

from __future__ import annotations

import pandas as pd

from ._core.backend import apply_settings, backend_name, configure, duckdb_connection, execute, settings
from ._core.deprecation import moved_names
from ._core.validation import LOG, checked
from ._kernels import scans
from ._kernels.scans import SEP  # noqa: F401  (a public name of this module)

__all__ = ["directly_follows", "variants", "case_table", "start_end", "execute", "duckdb_connection", "backend_name",
           "configure", "settings", "apply_settings"]


@checked(log=LOG)
def directly_follows(log) -> pd.DataFrame:
    """Directly-follows pairs of activities with counts and durations.

    Parameters
    ----------
    log : EventLog
        The events (in memory, or lazy on DuckDB / Spark).

    Returns
    -------
    pandas.DataFrame
        One row per (``source``, ``target``): ``count`` (times ``target`` directly follows
        ``source`` in a case), ``cases`` (distinct cases with that pair), ``duration_mean``,
        ``duration_median``, ``duration_p90`` (Timedelta, time between the two events); most
        frequent first. No artificial start/end rows (see :func:`start_end`). The counts add
        up to ``n_events - n_cases``.

    Examples
    --------
    >>> import journeylab as jl
    >>> from journeylab import engine
    >>> dfg = engine.directly_follows(jl.datasets.load_example())
    >>> int(dfg["count"].sum())
    36
    """
    return scans.directly_follows(log)


@checked(log=LOG)
def case_table(log) -> pd.DataFrame:
    """One row per case: when it starts and ends, how long it is, its first and last activity.

    Parameters
    ----------
    log : EventLog
        The events (in memory, or lazy on DuckDB / Spark).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``case`` (sorted): ``start``, ``end``, ``length`` (events), ``duration``,
        ``first_activity``, ``last_activity``.

    Examples
    --------
    >>> import journeylab as jl
    >>> from journeylab import engine
    >>> int(engine.case_table(jl.datasets.load_example())["length"].sum())
    42
    """
    return scans.case_table(log)


@checked(log=LOG)
def start_end(log) -> pd.DataFrame:
    """Per activity, how many cases start and end with it.

    Parameters
    ----------
    log : EventLog
        The events (in memory, or lazy on DuckDB / Spark).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``activity`` (sorted; the activities that start or end some case):
        ``starts`` and ``ends`` (cases).

    Examples
    --------
    >>> import journeylab as jl
    >>> from journeylab import engine
    >>> int(engine.start_end(jl.datasets.load_example()).loc["register request", "starts"])
    6
    """
    return scans.start_end(log)


@checked(log=LOG)
def variants(log) -> pd.DataFrame:
    """Variants: the distinct ordered activity sequences with the number of cases.

    Parameters
    ----------
    log : EventLog
        The events (in memory, or lazy on DuckDB / Spark).

    Returns
    -------
    pandas.DataFrame
        Columns ``variant`` (tuple of activities), ``count`` (cases), ``duration_median``
        (Timedelta, median case duration); sorted by count (descending) then variant.

    Examples
    --------
    >>> import journeylab as jl
    >>> from journeylab import engine
    >>> v = engine.variants(jl.datasets.load_example())
    >>> len(v), int(v["count"].sum())
    (6, 6)
    """
    return scans.variant_table(log)


@checked(log=LOG)
def case_variants(log) -> pd.Series:
    """Per case, the index of its variant in :func:`variants`.

    Parameters
    ----------
    log : EventLog
        The events (in memory, or lazy on DuckDB / Spark).

    Returns
    -------
    pandas.Series
        Indexed by case (sorted), named ``variant``: the row of :func:`variants` of each case.

    Examples
    --------
    >>> import journeylab as jl
    >>> from journeylab import engine
    >>> int(engine.case_variants(jl.datasets.load_example()).nunique())
    6
    """
    cases, vid = scans.case_variants(log)
    return pd.Series(vid.copy(), index=cases.to_numpy(), name="variant").sort_index()


#: journeylab 0.1's switch of the variant scan, now in the kernel (kept for one release).
__getattr__ = moved_names(__name__, {
    "NUMPY_VARIANTS": (scans.NUMPY_VARIANTS, "journeylab._kernels.scans.NUMPY_VARIANTS (the variant scan lives there)"),
})
