"""EventLog: the validated, immutable event log, and the ways to build one.

Size: about 750 lines, a third of them the docstrings of the EventLog methods (the six exploration
filters are written out here, with signatures and examples, so that help() and type checkers see
them), and each method has its in-memory and its lazy (engine) branch side by side; the frame-building
code itself lives in ``_table.py``.

Every analysis in journeylab starts from an :class:`EventLog`. Build one with
:func:`from_pandas`, :func:`read_csv`, :func:`read_parquet`, :func:`read_xes` or
:func:`from_ibis`; each validates the input once (roles exist, timestamps parse, no
nulls in the key columns, duplicates reported) so that analyses never have to.

Inside a log the role columns carry canonical names - ``case``, ``activity``,
``timestamp`` and, when given, ``channel``, ``lifecycle``, ``resource``, ``customer``,
``value`` - and every other input column is kept as an attribute under its own name.
Events are ordered by case, then timestamp; ties keep their input order.

A lazy log (:func:`from_ibis`: DuckDB, Spark) never brings its events to Python unless asked
(:meth:`EventLog.to_pandas`): sizes, span and the per-role counts come from one aggregate query,
``activity_counts`` from one group-by, the median case length from a histogram of case lengths (all
cached by the log); ``repr`` shows the same line as in memory, ``_repr_html_`` the first ten events.
Filters and :meth:`EventLog.sessions` return lazy logs: semi- / anti-joins on the case keys and window
functions computed in the engine, with one count query (the new log's size, refused when empty). A
filtered lazy log keeps ``_seq`` (it still orders the events; the in-memory path renumbers 0..n-1 instead);
sessions renumber it in the new order.

Examples
--------
>>> import pandas as pd, journeylab as jl
>>> df = pd.DataFrame({
...     "client": ["c1", "c1", "c2"],
...     "step": ["visit", "buy", "visit"],
...     "ts": ["2025-01-01 10:00", "2025-01-01 10:05", "2025-01-02 09:00"],
... })
>>> log = jl.from_pandas(df, case="client", activity="step", timestamp="ts")
>>> log
EventLog: 3 events, 2 cases, 2 activities, 2025-01-01 .. 2025-01-02 (UTC)
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ._core.backend import backend_name, execute
from ._core.deprecation import moved_names
from ._core.formatting import cut, format_duration
from ._core.names import closest
from ._core.validation import BOOL, DURATION, TEXT, Choice, Optional, Texts, checked, register as register_kind, to_timedelta
from ._table import (ROLES, build_frame, coded_frame, encode, lazy_sessions, lazy_sessions_by_column, missing_column,
                     session_frame, sessions_by_column)
from . import _timestamps, exceptions as _exceptions
from .exceptions import EmptyLogError, InvalidParameterError

__all__ = ["EventLog", "from_pandas", "ROLES"]

# --------------------------------------------------------------------------- the log


class EventLog:
    """A validated, immutable event log.

    Build one with :func:`from_pandas`, :func:`read_csv`, :func:`read_parquet`,
    :func:`read_xes` or :func:`from_ibis` rather than calling the constructor.
    Filters and sessions return new logs (lazy ones, computed in the engine, for a lazy log);
    nothing changes a log in place.

    Examples
    --------
    >>> import journeylab as jl
    >>> log = jl.datasets.load_example()
    >>> log.n_cases, log.n_events
    (6, 42)
    >>> log.filter_cases(["1", "2"]).n_cases
    2
    """

    __slots__ = ("_df", "_table", "_roles", "_meta", "_cache")

    def __init__(self, df: pd.DataFrame | None, *, roles: dict, meta: dict, table=None):
        object.__setattr__(self, "_df", df)
        object.__setattr__(self, "_table", table)
        object.__setattr__(self, "_roles", dict(roles))
        object.__setattr__(self, "_meta", dict(meta))
        object.__setattr__(self, "_cache", {})

    def __setattr__(self, name, value):
        raise AttributeError("EventLog is immutable; filters and sessions() return a new log.")

    def __reduce__(self):
        if self._df is None:
            raise TypeError("a lazy EventLog (on an Ibis/Spark table) cannot be pickled; pickle log.to_pandas() instead.")
        return (_restore, (self._df, self._roles, self._meta))

    # ---- the per-log cache
    def _memo(self, key, compute):
        """The value cached under ``key`` for this log, computed once by ``compute()`` on first use.

        The one cache of a log, for the log itself and for the kernels (``_kernels/``): a log is
        immutable, so what is computed from it stays true, and the cache goes with the log (a derived
        log starts empty; the cache is not pickled). Kernels key by tuples that start with their name,
        e.g. ``("scans", "variants")``; the log's own keys are strings. Never cache a value a caller
        may change in place (hand out copies, or read-only arrays).

        >>> import journeylab as jl
        >>> log = jl.datasets.load_example()
        >>> log._memo(("doc", "cases"), lambda: log.n_cases), log._memo(("doc", "cases"), lambda: 0)
        (6, 6)
        """
        cache = self._cache
        try:
            return cache[key]
        except KeyError:
            value = cache[key] = compute()
            return value

    # ---- data access
    @property
    def is_lazy(self) -> bool:
        """True when the events live in an outside engine (e.g. Spark) rather than in memory."""
        return self._df is None

    def _frame(self) -> pd.DataFrame:
        """The whole event table (collected once from the engine for a lazy log): for the data layer and
        ``_kernels`` only - analyses ask :func:`journeylab._kernels.events.events` for the columns they need."""
        if self._df is None:
            return self._memo("frame", lambda: execute(self._table.order_by("_seq")).reset_index(drop=True))
        return self._df

    @property
    def table(self):
        """The events as an Ibis table (DuckDB in process by default), with canonical columns and ``_seq``."""
        if self._table is not None:
            return self._table

        def compute():
            import ibis

            return ibis.memtable(self._df)

        return self._memo("table", compute)

    def _arrays(self) -> dict:
        """The in-memory events as numpy arrays, computed once and shared by the engine and the
        discovery scans (see :func:`journeylab._table.encode`). Lazy logs: None."""
        if self._df is None:
            return None
        return self._memo("arrays", lambda: encode(self._df))

    def _coded(self):
        """(Ibis table, activity vocabulary) for the engine: the events with integer keys (see
        :func:`journeylab._table.coded_frame`). Lazy logs: (log.table, None)."""
        if self._df is None:
            return self.table, None

        def compute():
            import ibis

            a = self._arrays()
            return ibis.memtable(coded_frame(self._df, a)), a["vocab"]

        return self._memo("coded", compute)

    @property
    def backend(self) -> str:
        """Name of the engine that runs the aggregates ("duckdb" or "pyspark")."""
        if self._table is None:
            return "duckdb"
        return backend_name(self._table)

    def to_pandas(self) -> pd.DataFrame:
        """The events as a new pandas DataFrame: the role columns under their canonical names
        (``case``, ``activity``, ``timestamp``, then ``channel``... when the log has them), then
        the attributes under their own names.

        It reads back into the same log: write it to Parquet or CSV and pass each role by its
        canonical name (``jl.read_parquet(p, case="case", activity="activity",
        timestamp="timestamp", channel="channel")`` - the roles the log has, see
        :attr:`roles`). A column named like a role that is not passed as one is an attribute.

        >>> import journeylab as jl
        >>> jl.datasets.load_example().to_pandas().columns[:3].tolist()
        ['case', 'activity', 'timestamp']
        """
        return self._frame().drop(columns=["_seq"]).copy()

    def to_pm4py(self) -> pd.DataFrame:
        """The events as a DataFrame that pm4py accepts as is.

        Columns ``case:concept:name``, ``concept:name``, ``time:timestamp`` (and
        ``lifecycle:transition``, ``org:resource`` when present), then the attributes.

        >>> import journeylab as jl, pm4py
        >>> dfg, start, end = pm4py.discover_dfg(jl.datasets.load_example().to_pm4py())
        """
        names = {"case": "case:concept:name", "activity": "concept:name", "timestamp": "time:timestamp",
                 "lifecycle": "lifecycle:transition", "resource": "org:resource"}
        return self.to_pandas().rename(columns=names)

    # ---- sizes

    @property
    def n_events(self) -> int:
        """Number of events."""
        if self._df is not None:
            return len(self._df)
        if "stats" in self._cache:
            return int(self._cache["stats"]["n"])
        return self._memo("n_events", lambda: int(execute(self._table.count())))  # alone: a count, cheaper

    @property
    def n_cases(self) -> int:
        """Number of distinct cases."""
        if self._df is not None:
            return self._memo("n_cases", lambda: int(self._df["case"].nunique()))
        return self._memo("n_cases", lambda: int(self._lazy_stats()["cases"]))

    def _lazy_stats(self) -> dict:
        """A lazy log's sizes in one aggregate query (cached): ``n`` events, ``cases``, ``start`` / ``end``
        (first / last timestamp) and the distinct values of each optional id role the log has."""

        def compute():
            t = self._table
            aggs = dict(n=t.count(), cases=t.case.nunique(), start=t.timestamp.min(), end=t.timestamp.max())
            aggs.update({r: t[r].nunique() for r in ("channel", "lifecycle", "resource", "customer") if r in self._roles})
            return execute(t.aggregate(**aggs)).iloc[0].to_dict()

        return self._memo("stats", compute)

    @property
    def activities(self) -> tuple[str, ...]:
        """Distinct activities, most frequent first (ties by name)."""

        return tuple(self._activity_sizes().index)

    def _activity_sizes(self) -> pd.Series:
        """Events per activity (int64, index ``activity``), most frequent first, ties by name: one group-by
        (in the engine for a lazy log), cached."""

        def compute():
            if self._df is not None:
                vc = self._df["activity"].value_counts()
            else:
                t = self._table
                vc = execute(t.group_by("activity").agg(n=t.count())).set_index("activity")["n"]
            vc = vc.rename_axis("activity").reset_index(name="n").sort_values(["n", "activity"], ascending=[False, True])
            return pd.Series(vc["n"].to_numpy(dtype="int64"), index=pd.Index(vc["activity"].astype(str), name="activity"),
                             name="events")

        return self._memo("activity_sizes", compute)

    @property
    def activity_counts(self) -> pd.Series:
        """Events per activity, most frequent first (ties by name); a lazy log counts them in its engine."""
        return self._activity_sizes().copy()

    @property
    def columns(self) -> tuple[str, ...]:
        """All columns: canonical roles first, then attributes."""
        cols = self._frame().columns if self._df is not None else self._table.columns
        return tuple(c for c in cols if c != "_seq")

    @property
    def attributes(self) -> tuple[str, ...]:
        """Columns that play no role, under their own names (even when named like a role, e.g. ``value``).

        >>> import pandas as pd, journeylab as jl
        >>> df = pd.DataFrame({"id": ["a"], "step": ["x"], "t": ["2025-01-01"], "value": [3]})
        >>> jl.from_pandas(df, case="id", activity="step", timestamp="t").attributes
        ('value',)
        """
        return tuple(c for c in self.columns if c not in self._roles)

    def has_role(self, role: str) -> bool:
        """True when a column plays ``role`` in this log (``"channel"``, ``"customer"``, ``"value"``...).

        An attribute that only has the name of a role does not play it.

        >>> import journeylab as jl
        >>> log = jl.datasets.load_example()
        >>> log.has_role("resource"), log.has_role("channel")
        (True, False)
        """
        return role in self._roles

    @property
    def roles(self) -> dict[str, str]:
        """Mapping canonical role -> name of the column in the input."""
        return dict(self._roles)

    @property
    def time_span(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """(first timestamp, last timestamp)."""

        def compute():
            if self._df is None:  # an engine without zones (Spark) gives naive instants: UTC, as everywhere
                stats = self._lazy_stats()
                span = [pd.Timestamp(stats[k]).as_unit("us") for k in ("start", "end")]  # as the events hold them
                return tuple(t.tz_localize("UTC") if t.tzinfo is None else t for t in span)
            ts = self._df["timestamp"]
            return ts.min(), ts.max()

        return self._memo("span", compute)

    @property
    def timezone(self) -> str:
        """The zone the timestamps are expressed in (for a lazy log, the zone of the column's type)."""
        if self._df is None:  # naive timestamps of an engine are taken as UTC (as from_pandas takes naive ones)
            return str(self._table.timestamp.type().timezone or "UTC")
        return str(self._df["timestamp"].dt.tz)

    def _median_case_length(self) -> float:
        """Median number of events per case (a lazy log fetches one row per distinct case length)."""
        if self._df is not None:
            return float(self._df.groupby("case", sort=False).size().median())
        t = self._table
        per = t.group_by("case").aggregate(length=t.count())
        hist = execute(per.group_by("length").aggregate(k=per.count())).sort_values("length")
        cum, total = hist["k"].cumsum().to_numpy(), int(hist["k"].sum())
        lengths = hist["length"].to_numpy(dtype="float64")
        lo, hi = lengths[np.searchsorted(cum, (total - 1) // 2 + 1)], lengths[np.searchsorted(cum, total // 2 + 1)]
        return float((lo + hi) / 2)

    def summary(self) -> pd.DataFrame:
        """One table with the size, span, zone handling and data-quality notes of the log.

        >>> import journeylab as jl
        >>> jl.datasets.load_example().summary().loc["cases", "value"]
        '6'
        """
        start, end = self.time_span
        rows = [
            ("events", f"{self.n_events:,}"),
            ("cases", f"{self.n_cases:,}"),
            ("activities", f"{len(self.activities):,}"),
            ("events per case (median)", f"{self._median_case_length():g}"),
            ("first event", str(start)),
            ("last event", str(end)),
            ("time span", format_duration(end - start)),
            ("timezone", f"{self.timezone} - {self._meta.get('tz_note', '')}"),
        ]
        for role in ("channel", "lifecycle", "resource", "customer"):
            if self.has_role(role):
                n = self._df[role].nunique() if self._df is not None else int(self._lazy_stats()[role])
                rows.append((f"{role}s", f"{n:,}"))
        rows.append(("attributes", ", ".join(self.attributes) or "-"))
        rows.append(("source", str(self._meta.get("source", "DataFrame"))))
        for key, label in (("dropped_invalid", "rows dropped (invalid)"), ("dropped_duplicates", "duplicates dropped"),
                           ("duplicates", "exact duplicate events (kept)")):
            if self._meta.get(key):
                rows.append((label, f"{self._meta[key]:,}"))
        return pd.DataFrame(rows, columns=["metric", "value"]).set_index("metric")

    def __repr__(self) -> str:
        start, end = self.time_span  # a lazy log: two aggregate queries (sizes, activities), cached
        return (
            f"EventLog: {'lazy on ' + self.backend + ', ' if self.is_lazy else ''}{self.n_events:,} events, {self.n_cases:,} cases, {len(self.activities):,} activities, "
            f"{start:%Y-%m-%d} .. {end:%Y-%m-%d} ({self.timezone})"
        )

    def _repr_html_(self) -> str:
        from html import escape

        if self._df is None:  # the first ten events only: a top-10 by case and time (no window over the table)
            t = self._table
            head = execute(t.drop("_seq").order_by(["case", "timestamp"]).limit(10))
        else:
            head = self.to_pandas().head(10)
        return f"<p>{escape(repr(self))}</p>" + head.to_html(max_rows=10, escape=True)

    def __len__(self) -> int:
        return self.n_events

    # ---- derived logs
    def _derive(self, df: pd.DataFrame, *, roles: dict | None = None, **meta) -> EventLog:
        """A new log of the events ``df`` (rows of this log's table, in order; ``roles`` when they change),
        with ``meta`` added to this log's notes."""
        if len(df) == 0:
            raise EmptyLogError(_EMPTY)
        df = df.reset_index(drop=True)
        df["_seq"] = np.arange(len(df), dtype="int64")
        return EventLog(df, roles=self._roles if roles is None else roles, meta={**self._meta, **meta})

    def _derive_lazy(self, table, *, roles: dict | None = None, **meta) -> EventLog:
        """A new lazy log of the Ibis ``table`` (this log's columns and ``_seq``: some of its events, or the
        events re-keyed), built in the engine; one count query refuses an empty result (and is kept)."""
        n = int(execute(table.count()))
        if n == 0:
            raise EmptyLogError(_EMPTY)
        out = EventLog(None, roles=self._roles if roles is None else roles, meta={**self._meta, **meta}, table=table)
        out._cache["n_events"] = n
        return out

    def _keep_lazy(self, cases, keep: bool) -> EventLog:
        """A lazy log's whole cases ``cases`` (an Ibis table with a ``case`` column, or case ids), or with
        ``keep=False`` the others: a semi- / anti-join in the engine; ``_seq`` is kept (it still orders)."""
        t = self._table
        if not hasattr(cases, "columns"):
            ids = list(dict.fromkeys(str(c) for c in cases))
            if len(ids) <= 1000:
                hit = t.case.isin(ids) if ids else ibis_false(t)
                return self._derive_lazy(t.filter(hit if keep else ~hit))
            import ibis

            cases = ibis.memtable(pd.DataFrame({"case": pd.Series(ids, dtype=object)}))
        cases = cases.select("case")
        return self._derive_lazy(t.semi_join(cases, "case") if keep else t.anti_join(cases, "case"))

    @checked(keep=BOOL)
    def filter_cases(self, cases: Iterable[str], *, keep: bool = True) -> EventLog:
        """Keep (or, with ``keep=False``, drop) the given case ids.

        >>> import journeylab as jl
        >>> jl.datasets.load_example().filter_cases(["3"], keep=False).n_cases
        5
        """
        if isinstance(cases, str):
            cases = [cases]
        if self._df is None:
            return self._keep_lazy(cases, keep)
        wanted = pd.Index([str(c) for c in cases])
        df = self._frame()
        mask = df["case"].isin(wanted)
        return self._derive(df[mask if keep else ~mask])

    @checked(column=TEXT, level=Choice("event", "case"), keep=BOOL)
    def filter_values(self, column: str, values, *, level: str = "case", keep: bool = True) -> EventLog:
        """Filter by the values of a column.

        ``level="event"`` keeps the matching events; ``level="case"`` keeps whole cases
        that have at least one matching event. ``keep=False`` inverts the choice.

        >>> import journeylab as jl
        >>> log = jl.datasets.load_example()
        >>> log.filter_values("activity", ["reject request"]).n_cases
        3
        """
        if column not in self.columns:
            raise missing_column("column", column, self.columns)
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            values = [values]
        if self._df is None:
            t = self._table
            values = list(values)
            present = [v for v in values if not pd.isna(v)]
            known = comparable(present, t[column].type())
            hit = t[column].isin(known).fill_null(False) if known else ibis_false(t)
            if len(present) < len(values):  # pandas' isin matches a missing value with None / NaN
                hit = hit | t[column].isnull()
            if level == "case":
                return self._keep_lazy(t.filter(hit).select("case").distinct(), keep)
            return self._derive_lazy(t.filter(hit if keep else ~hit))
        df = self._frame()
        hit = df[column].isin(list(values))
        if level == "case":
            hit = df["case"].isin(df.loc[hit, "case"].unique())
        return self._derive(df[hit if keep else ~hit])

    @checked(how=Choice("contained", "intersecting", "events"))
    def filter_time(self, start=None, end=None, *, how: str = "contained") -> EventLog:
        """Filter on time.

        ``how="contained"`` keeps cases that lie wholly in [start, end];
        ``"intersecting"`` keeps cases with any event in it; ``"events"`` keeps the events
        in it (cutting cases). Naive bounds are taken in the log's zone.

        >>> import journeylab as jl
        >>> jl.datasets.load_example().filter_time("2011-01-01", how="contained").n_cases
        3
        """
        tz = self.timezone if self._df is None else self._df["timestamp"].dt.tz
        tz = None if tz == "None" else tz

        def bound(v, name):
            if v is None:
                return None
            try:
                ts = pd.Timestamp(v)
            except (ValueError, TypeError):
                raise InvalidParameterError(f"{name}={v!r} is not a date; write it like '2025-01-31' or '2025-01-31 12:00'.") from None
            return ts.tz_localize(tz) if ts.tzinfo is None else ts.tz_convert(tz)

        lo, hi = bound(start, "start"), bound(end, "end")
        if lo is not None and hi is not None and lo > hi:
            raise InvalidParameterError(f"start={start!r} is after end={end!r}; swap them.")
        if self._df is None:
            t = self._table
            inside = ibis_true(t)
            if lo is not None:
                inside &= t.timestamp >= lo
            if hi is not None:
                inside &= t.timestamp <= hi
            if how == "events":
                return self._derive_lazy(t.filter(inside))
            if how == "contained":  # drop the cases with an event outside
                return self._keep_lazy(t.filter(~inside).select("case").distinct(), False)
            return self._keep_lazy(t.filter(inside).select("case").distinct(), True)
        df = self._frame()
        ts = df["timestamp"]
        inside = pd.Series(True, index=df.index)
        if lo is not None:
            inside &= ts >= lo
        if hi is not None:
            inside &= ts <= hi
        if how == "events":
            return self._derive(df[inside])
        per_case = inside.groupby(df["case"], sort=False).transform("all" if how == "contained" else "any")
        return self._derive(df[per_case])

    # ---- the exploration filters of journeylab.filters, as methods (the one upward import of the data layer)
    def filter_variants(self, *, top: int | None = None, coverage: float | None = None,
                        keep: bool = True) -> EventLog:
        """Keep the cases of the ``top`` most frequent variants, or of those that together cover the share
        ``coverage`` of the cases (with both, the shorter selection); ``keep=False`` drops them instead.
        A new log: see :func:`journeylab.filters.filter_variants`.

        >>> import journeylab as jl
        >>> jl.datasets.load_example().filter_variants(top=2).n_cases
        2
        """
        from . import filters

        return filters.filter_variants(self, top=top, coverage=coverage, keep=keep)

    def sample_customers(self, n: int | None = None, *, fraction: float | None = None, random_state=0) -> EventLog:
        """A uniform random sample of ``n`` customers (or the share ``fraction`` of them) with all their events:
        the same draw in memory, DuckDB and Spark. See :func:`journeylab.filters.sample_customers`.

        >>> import journeylab as jl
        >>> jl.datasets.make_journeys(200, random_state=1).log.sample_customers(50).n_cases
        50
        """
        from . import filters

        return filters.sample_customers(self, n, fraction=fraction, random_state=random_state)

    def filter_endpoints(self, *, start=None, end=None, keep: bool = True) -> EventLog:
        """Keep the cases that start with one of the activities ``start`` and / or end with one of ``end``
        (a name or a list); ``keep=False`` drops them instead. See :func:`journeylab.filters.filter_endpoints`.

        >>> import journeylab as jl
        >>> jl.datasets.load_example().filter_endpoints(end="pay compensation").n_cases
        3
        """
        from . import filters

        return filters.filter_endpoints(self, start=start, end=end, keep=keep)

    def filter_directly_follows(self, a: str, b: str, *, keep: bool = True) -> EventLog:
        """Keep the cases in which activity ``a`` is directly followed by ``b`` at least once; ``keep=False``
        drops them instead. See :func:`journeylab.filters.filter_directly_follows`.

        >>> import journeylab as jl
        >>> jl.datasets.load_example().filter_directly_follows("decide", "reinitiate request").n_cases
        2
        """
        from . import filters

        return filters.filter_directly_follows(self, a, b, keep=keep)

    def filter_eventually_follows(self, a: str, b: str, *, keep: bool = True) -> EventLog:
        """Keep the cases in which ``b`` happens some time after ``a`` (not necessarily directly);
        ``keep=False`` drops them instead. See :func:`journeylab.filters.filter_eventually_follows`.

        >>> import journeylab as jl
        >>> jl.datasets.load_example().filter_eventually_follows("examine casually", "pay compensation").n_cases
        3
        """
        from . import filters

        return filters.filter_eventually_follows(self, a, b, keep=keep)

    def filter_case_length(self, *, min: int | None = None, max: int | None = None,  # noqa: A002
                           keep: bool = True) -> EventLog:
        """Keep the cases with between ``min`` and ``max`` events (inclusive; either may be None);
        ``keep=False`` drops them instead. See :func:`journeylab.filters.filter_case_length`.

        >>> import journeylab as jl
        >>> jl.datasets.load_example().filter_case_length(max=5).n_cases
        4
        """
        from . import filters

        return filters.filter_case_length(self, min=min, max=max, keep=keep)

    def filter_case_duration(self, *, min=None, max=None, keep: bool = True) -> EventLog:  # noqa: A002
        """Keep the cases whose duration (first to last event) lies between ``min`` and ``max``
        (inclusive; durations such as ``"2d"`` or ``pd.Timedelta``, either may be None); ``keep=False``
        drops them instead. See :func:`journeylab.filters.filter_case_duration`.

        >>> import journeylab as jl
        >>> jl.datasets.load_example().filter_case_duration(min="14d").n_cases
        2
        """
        from . import filters

        return filters.filter_case_duration(self, min=min, max=max, keep=keep)

    @checked(gap=DURATION, restart_on=Optional(Texts(example="['home']", allow_empty=True)), by=Optional(TEXT))
    def sessions(self, gap="30min", *, restart_on: Iterable[str] | str | None = None,
                 by: str | None = None) -> EventLog:
        """Split each customer's events into journey sessions.

        A new session starts after ``gap`` of inactivity, or at an event whose activity is
        in ``restart_on``. The session becomes the case (``"<customer>#<n>"``, n from 1)
        and the customer id is kept in the ``customer`` column (the case itself when the
        log has no customer role). ``by="session_id"`` takes the sessions from a column
        that already holds them instead (events without a value are dropped with a warning).

        >>> import pandas as pd, journeylab as jl
        >>> df = pd.DataFrame({"c": ["a"] * 3, "act": ["x", "y", "x"],
        ...     "t": ["2025-01-01 10:00", "2025-01-01 10:10", "2025-01-01 12:00"]})
        >>> jl.from_pandas(df, case="c", activity="act", timestamp="t").sessions("30min").n_cases
        2
        """
        if by is not None:
            if by not in self.attributes:
                raise missing_column("by", by, self.attributes)
            if self._df is None:  # in the engine: one count query, then window functions
                table, roles = lazy_sessions_by_column(self._table, self._roles, by, execute=execute)
                return self._derive_lazy(table, roles=roles, sessions=f"by={by}")
            out, roles = sessions_by_column(self._frame(), self._roles, by)
            return self._derive(out, roles=roles, sessions=f"by={by}")
        gap_td = to_timedelta(gap, name="gap")
        restart = list(restart_on or ())
        unknown = [a for a in restart if a not in set(self.activities)]
        if unknown:
            raise InvalidParameterError(
                f"restart_on names activities that are not in the log: {unknown}. "
                f"Closest: {[closest(a, self.activities) for a in unknown]}."
            )
        if self._df is None:  # in the engine: lag, cumulative sum and row_number windows per customer
            table, roles = lazy_sessions(self._table, self._roles, gap=gap_td, restart=restart)
            return self._derive_lazy(table, roles=roles, sessions=f"gap={gap_td}, restart_on={restart}")
        out, roles = session_frame(self._frame(), self._roles, gap=gap_td, restart=restart)
        return self._derive(out, roles=roles, sessions=f"gap={gap_td}, restart_on={restart}")


_EMPTY = ("the filter left no events. Loosen it (check the values with log.summary() or log.activities) or "
          "start again from the full log.")


def comparable(values: list, kind) -> list:
    """The ``values`` an Ibis column of type ``kind`` can equal as pandas' ``isin`` would (text only text,
    numbers and booleans each other, times only times); the others match nothing (SQL would cast them)."""
    import datetime as _dt

    numbers = (bool, np.bool_, int, float, np.number)
    if kind.is_string():
        return [v for v in values if isinstance(v, str)]
    if kind.is_boolean():
        return [bool(v) for v in values if isinstance(v, numbers) and v in (0, 1)]
    if kind.is_numeric():
        return [int(v) if isinstance(v, (bool, np.bool_)) else v for v in values if isinstance(v, numbers)]
    if kind.is_timestamp() or kind.is_date():
        return [v for v in values if isinstance(v, (_dt.date, np.datetime64))]
    return values


def ibis_true(t):
    """A boolean Ibis column that is True on every row of ``t`` (a log's case is never missing)."""
    return t.case.notnull()


def ibis_false(t):
    """A boolean Ibis column that is False on every row of ``t``."""
    return ~ibis_true(t)


def check_log(value, name: str = "log") -> EventLog:
    """The ``log`` parameter kind (see :mod:`journeylab._core.validation`): an EventLog, or advice.

    >>> check_log(__import__("pandas").DataFrame())
    Traceback (most recent call last):
    ...
    journeylab.exceptions.InvalidParameterError: log must be a journeylab EventLog, got a pandas DataFrame: wrap it with jl.from_pandas(df, case=..., activity=..., timestamp=...).
    """
    if isinstance(value, EventLog):
        return value
    if isinstance(value, pd.DataFrame):
        how = "a pandas DataFrame: wrap it with jl.from_pandas(df, case=..., activity=..., timestamp=...)"
    elif type(value).__module__.startswith("ibis"):
        how = "an Ibis table: wrap it with jl.from_ibis(table, case=..., activity=..., timestamp=...)"
    elif type(value).__module__.startswith("pyspark"):
        how = ("a Spark DataFrame: wrap its Ibis table, e.g. jl.from_ibis(ibis.pyspark.connect(spark).table(name), "
               "case=..., activity=..., timestamp=...)")
    elif isinstance(value, (str, os.PathLike)):
        how = (f"a path ({cut(os.fspath(value), 60)}): read it first with jl.read_xes, jl.read_csv or "
               "jl.read_parquet")
        if isinstance(value, str) and not value.lower().endswith((".xes", ".gz", ".csv", ".parquet", ".pq", ".tsv")):
            how = f"{type(value).__name__} {cut(value, 60)}: pass the log built with jl.from_pandas or a reader"
    else:
        how = (f"{type(value).__name__}: build one with jl.from_pandas(df, case=..., activity=..., timestamp=...) "
               "or a reader (jl.read_csv, jl.read_xes...)")
    raise InvalidParameterError(f"{name} must be a journeylab EventLog, got {how}.")


register_kind("log", check_log)


def _restore(df, roles, meta) -> EventLog:
    """Unpickle an EventLog (the frame was validated when the log was built)."""
    return EventLog(df, roles=roles, meta=meta)


# --------------------------------------------------------------------------- builders


def _build(df, *, roles: dict, tz, format, on_invalid: str, deduplicate: bool, source: str,
           dayfirst: bool | None = None) -> EventLog:
    """The EventLog of a DataFrame: :func:`journeylab._table.build_frame` checks and builds its table."""
    frame, given, meta = build_frame(df, roles=roles, tz=tz, format=format, on_invalid=on_invalid,
                                     deduplicate=deduplicate, source=source, dayfirst=dayfirst)
    return EventLog(frame, roles=given, meta=meta)


def from_pandas(
    df: pd.DataFrame,
    *,
    case: str,
    activity: str,
    timestamp: str,
    channel: str | None = None,
    lifecycle: str | None = None,
    resource: str | None = None,
    customer: str | None = None,
    value: str | None = None,
    tz: str | None = None,
    format: str | None = None,
    on_invalid: str = "raise",
    deduplicate: bool = False,
    dayfirst: bool | None = None,
) -> EventLog:
    """Build an :class:`EventLog` from a pandas DataFrame (the frame is not modified).

    The frame is checked once - the role columns exist, timestamps parse with one format, no missing
    case, activity or timestamp, exact duplicates reported - so that analyses never have to.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per event.
    case, activity, timestamp : str
        Names of the required role columns (a number names a column with that label).
    channel, lifecycle, resource, customer, value : str, optional
        Optional role columns (``customer`` when the case is a session; ``value`` a monetary amount).
        Every other column is kept as an attribute under its own name.
    tz : str or tzinfo, optional
        Zone of naive timestamps (default UTC); refused when they carry offsets.
    format : str, optional
        strftime pattern for string timestamps. Default: ISO 8601, else ONE pattern inferred from the
        whole column; values that fit no single pattern are refused.
    on_invalid : {"raise", "drop"}, default "raise"
        What to do with rows that have a missing case, activity or timestamp: refuse the frame, or drop
        them with a :class:`DataQualityWarning`.
    deduplicate : bool, default False
        Drop exact duplicate events (otherwise they are kept, with a warning).
    dayfirst : bool, optional
        For an inferred pattern, True reads ``03/04/2025`` as 3 April, False as 4 March; None (default)
        infers the order from the column and refuses a column where every value reads both ways.

    Returns
    -------
    EventLog
        The events under canonical column names, ordered by case, then time (ties in input order).

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> df = pd.DataFrame({"id": [1, 1], "a": ["x", "y"], "t": ["2025-01-01", "2025-01-02"]})
    >>> jl.from_pandas(df, case="id", activity="a", timestamp="t").n_cases
    1
    >>> uk = pd.DataFrame({"id": [1, 1], "a": ["x", "y"], "t": ["03/04/2025", "05/04/2025"]})
    >>> jl.from_pandas(uk, case="id", activity="a", timestamp="t", dayfirst=True).time_span[0]
    Timestamp('2025-04-03 00:00:00+0000', tz='UTC')
    """
    roles = dict(case=case, activity=activity, timestamp=timestamp, channel=channel, lifecycle=lifecycle,
                 resource=resource, customer=customer, value=value)
    return _build(df, roles=roles, tz=tz, format=format, on_invalid=on_invalid, deduplicate=deduplicate,
                  source="DataFrame", dayfirst=dayfirst)


# names that lived here before the event table moved to _table.py (issue 14): one more release, with a warning
__getattr__ = moved_names(__name__, {
    **{n: (getattr(_timestamps, n), f"journeylab._timestamps.{n}") for n in ("drop_sub_microseconds", "parse_timestamps")},
    **{n: (getattr(_exceptions, n), f"journeylab.{n}")
       for n in ("DataQualityWarning", "FileFormatError", "MissingValuesError", "SchemaError", "TimestampError")},
})
