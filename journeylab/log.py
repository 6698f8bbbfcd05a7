"""EventLog: the validated, immutable event log, and the ways to build one.

Every analysis in journeylab starts from an :class:`EventLog`. Build one with
:func:`from_pandas`, :func:`read_csv`, :func:`read_parquet`, :func:`read_xes` or
:func:`from_ibis`; each validates the input once (roles exist, timestamps parse, no
nulls in the key columns, duplicates reported) so that analyses never have to.

Inside a log the role columns carry canonical names - ``case``, ``activity``,
``timestamp`` and, when given, ``channel``, ``lifecycle``, ``resource``, ``customer``,
``value`` - and every other input column is kept as an attribute under its own name.
Events are ordered by case, then timestamp; ties keep their input order.

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
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._core.backend import backend_name, execute
from ._core.validation import register as register_kind
from ._timestamps import drop_sub_microseconds, parse_timestamps
from ._util import closest, cut, to_timedelta
from .exceptions import (
    DataQualityWarning,
    EmptyLogError,
    FileFormatError,
    InvalidParameterError,
    MissingValuesError,
    SchemaError,
    TimestampError,
)

__all__ = ["EventLog", "from_pandas", "ROLES"]

#: Roles a column can play, in canonical order. The first three are required.
ROLES = ("case", "activity", "timestamp", "channel", "lifecycle", "resource", "customer", "value")
_ID_ROLES = ("case", "customer")
_TEXT_ROLES = ("activity", "channel", "lifecycle", "resource")
_REQUIRED = {"case": "case (or customer) id of each event", "activity": "name of each event",
             "timestamp": "time of each event"}


# --------------------------------------------------------------------------- helpers


def _check_path(path) -> Path:
    try:
        p = Path(os.fspath(path))
    except TypeError:
        raise FileFormatError(f"path={path!r} is not a file path; pass a str or pathlib.Path.") from None
    if not p.exists():
        hint = ""
        if p.parent.exists():
            names = [c.name for c in p.parent.iterdir()]
            near = closest(p.name, names)
            if near:
                hint = f" Files nearby with a similar name: {near}."
        raise FileFormatError(f"No file at '{p}'.{hint} Check the path (relative paths start at {os.getcwd()}).")
    if p.is_dir():
        raise FileFormatError(f"'{p}' is a folder, not a file; pass the path of the log file inside it.")
    return p


def _missing_column(role: str, name: str, columns: Sequence[str]) -> SchemaError:
    near = closest(name, columns, n=1)
    near_txt = f" Closest match: {near[0]!r}." if near else ""
    return SchemaError(
        f"{role}={name!r} is not a column of the log.{near_txt} "
        f"Available: {list(map(str, columns))}. Pass {role}=... or rename the column."
    )


def _as_str_ids(s: pd.Series) -> pd.Series:
    """Case / customer ids as strings; floats that are whole numbers lose their '.0'."""
    if pd.api.types.is_float_dtype(s.dtype):
        whole = s.dropna()
        if len(whole) and (whole == np.floor(whole)).all():
            s = s.astype("Int64")
    out = s.astype("str")
    return out.where(s.notna(), None)


def _event_order(case: pd.Series, ts: pd.Series) -> np.ndarray:
    """Positions that sort events by case, then timestamp, ties in input order (stable)."""
    codes, _ = pd.factorize(case, sort=True)
    t = ts.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().view("int64") if isinstance(
        ts.dtype, pd.DatetimeTZDtype) else ts.to_numpy().view("int64")
    return np.lexsort((np.arange(len(case)), t, codes))


# --------------------------------------------------------------------------- the log


class EventLog:
    """A validated, immutable event log.

    Build one with :func:`from_pandas`, :func:`read_csv`, :func:`read_parquet`,
    :func:`read_xes` or :func:`from_ibis` rather than calling the constructor.
    Filters and sessions return new logs; nothing changes a log in place.

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

        The one official cache of a log, for the log itself and for the kernels (``_kernels/``):
        a log is immutable, so anything computed from it stays true for its lifetime, and the
        cache goes when the log goes (a derived log - a filter, sessions - starts empty). Keys of
        kernels are tuples that start with the kernel's name, e.g. ``("scans", "variants")``;
        the log's own keys are plain strings. The cache is not pickled. Never store a value that
        a caller may change in place (hand out copies, or arrays marked read-only).

        Parameters
        ----------
        key : hashable
            What is cached, e.g. ``("scans", "compact")``.
        compute : callable
            Called without arguments when ``key`` is not cached yet; its value is kept.

        Returns
        -------
        object
            The cached value.

        Examples
        --------
        >>> import journeylab as jl
        >>> log = jl.datasets.load_example()
        >>> log._memo(("doc", "cases"), lambda: log.n_cases)
        6
        >>> log._memo(("doc", "cases"), lambda: 0)  # computed once
        6
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
        if self._df is None:
            if "frame" not in self._cache:

                self._cache["frame"] = execute(self._table.order_by("_seq")).reset_index(drop=True)
            return self._cache["frame"]
        return self._df

    @property
    def table(self):
        """The events as an Ibis table (DuckDB in process by default), with canonical columns and ``_seq``."""
        if self._table is not None:
            return self._table
        if "table" not in self._cache:
            import ibis

            self._cache["table"] = ibis.memtable(self._df)
        return self._cache["table"]

    def _arrays(self) -> dict:
        """The in-memory events as numpy arrays, computed once and shared by the engine and the
        discovery scans: ``codes`` (int32 activity codes, alphabetical), ``vocab`` (the activity
        of each code), ``first`` (True where a case starts; the frame is sorted by case then
        time) and ``us`` (microseconds since the epoch). Lazy logs: None.
        """
        if self._df is None:
            return None
        if "arrays" not in self._cache:
            df = self._df
            codes, vocab = pd.factorize(df["activity"], sort=True)
            first = df["case"].ne(df["case"].shift()).to_numpy()
            ts = df["timestamp"]
            if isinstance(ts.dtype, pd.DatetimeTZDtype):
                ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
            us = ts.to_numpy().astype("datetime64[us]").view("int64")
            self._cache["arrays"] = dict(codes=codes.astype(np.int32), vocab=np.asarray(vocab, dtype=object),
                                         first=first, us=us)
        return self._cache["arrays"]

    def _coded(self):
        """(Ibis table, activity vocabulary) for the engine: the events with integer keys.

        In memory the frame is sorted by case then time, so the successor of an event is
        the next row: ``_case`` (int64), ``_act`` (int32 index into the vocabulary),
        ``_next`` (activity code of the next event of the case, -1 for the last event) and
        ``_dt`` (microseconds to it) are added here with numpy (from :meth:`_arrays`),
        without a window. Lazy logs: (log.table, None).
        """
        if self._df is None:
            return self.table, None
        if "coded" not in self._cache:
            import ibis

            a = self._arrays()
            codes, first, us = a["codes"], a["first"], a["us"]
            nxt = np.empty_like(codes)
            nxt[:-1] = codes[1:]
            nxt[-1] = -1
            nxt[np.flatnonzero(first[1:])] = -1  # the next row starts another case
            dt = np.zeros(len(codes), dtype=np.int64)
            dt[:-1] = us[1:] - us[:-1]
            # integer columns only: no string column is converted for DuckDB
            df = self._df
            frame = pd.DataFrame({"_seq": df["_seq"], "timestamp": df["timestamp"],
                                  "_case": np.cumsum(first, dtype=np.int64) - 1, "_act": codes, "_next": nxt, "_dt": dt})
            self._cache["coded"] = (ibis.memtable(frame), a["vocab"])
        return self._cache["coded"]

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
        names = {
            "case": "case:concept:name",
            "activity": "concept:name",
            "timestamp": "time:timestamp",
            "lifecycle": "lifecycle:transition",
            "resource": "org:resource",
        }
        out = self.to_pandas().rename(columns=names)
        return out

    # ---- sizes
    def _stat(self, key, fn):
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    @property
    def n_events(self) -> int:
        """Number of events."""
        if self._df is not None:
            return len(self._df)

        return self._stat("n_events", lambda: int(execute(self._table.count())))

    @property
    def n_cases(self) -> int:
        """Number of distinct cases."""
        if self._df is not None:
            return self._stat("n_cases", lambda: int(self._df["case"].nunique()))

        return self._stat("n_cases", lambda: int(execute(self._table.case.nunique())))

    @property
    def activities(self) -> tuple[str, ...]:
        """Distinct activities, most frequent first (ties by name)."""

        def compute():
            if self._df is not None:
                vc = self._df["activity"].value_counts()
            else:

                t = self._table
                vc = execute(t.group_by("activity").agg(n=t.count())).set_index("activity")["n"]
            vc = vc.rename_axis("activity").reset_index(name="n").sort_values(["n", "activity"], ascending=[False, True])
            return tuple(vc["activity"].astype(str))

        return self._stat("activities", compute)

    @property
    def activity_counts(self) -> pd.Series:
        """Events per activity, most frequent first."""
        vc = self._frame()["activity"].value_counts()
        return vc.reindex(list(self.activities)).rename("events")

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
            ts = self._frame()["timestamp"]
            return ts.min(), ts.max()

        return self._stat("span", compute)

    @property
    def timezone(self) -> str:
        """The zone the timestamps are expressed in."""
        return str(self._frame()["timestamp"].dt.tz)

    def summary(self) -> pd.DataFrame:
        """One table with the size, span, zone handling and data-quality notes of the log.

        >>> import journeylab as jl
        >>> jl.datasets.load_example().summary().loc["cases", "value"]
        '6'
        """
        df = self._frame()
        start, end = self.time_span
        lengths = df.groupby("case", sort=False).size()
        rows = [
            ("events", f"{self.n_events:,}"),
            ("cases", f"{self.n_cases:,}"),
            ("activities", f"{len(self.activities):,}"),
            ("events per case (median)", f"{lengths.median():g}"),
            ("first event", str(start)),
            ("last event", str(end)),
            ("time span", str(end - start)),
            ("timezone", f"{self.timezone} - {self._meta.get('tz_note', '')}"),
        ]
        for role in ("channel", "lifecycle", "resource", "customer"):
            if self.has_role(role):
                rows.append((f"{role}s", f"{df[role].nunique():,}"))
        rows.append(("attributes", ", ".join(self.attributes) or "-"))
        rows.append(("source", str(self._meta.get("source", "DataFrame"))))
        for key, label in (("dropped_invalid", "rows dropped (invalid)"), ("dropped_duplicates", "duplicates dropped"),
                           ("duplicates", "exact duplicate events (kept)")):
            if self._meta.get(key):
                rows.append((label, f"{self._meta[key]:,}"))
        return pd.DataFrame(rows, columns=["metric", "value"]).set_index("metric")

    def __repr__(self) -> str:
        if self.is_lazy:
            return f"EventLog: lazy on {self.backend} ({', '.join(self.columns)})"
        start, end = self.time_span
        return (
            f"EventLog: {self.n_events:,} events, {self.n_cases:,} cases, {len(self.activities):,} activities, "
            f"{start:%Y-%m-%d} .. {end:%Y-%m-%d} ({self.timezone})"
        )

    def _repr_html_(self) -> str:
        from html import escape

        head = self.to_pandas().head(10)
        return f"<p>{escape(repr(self))}</p>" + head.to_html(max_rows=10, escape=True)

    def __len__(self) -> int:
        return self.n_events

    # ---- derived logs
    def _derive(self, df: pd.DataFrame, **meta) -> EventLog:
        if len(df) == 0:
            raise EmptyLogError(
                "the filter left no events. Loosen it (check the values with log.summary() "
                "or log.activities) or start again from the full log."
            )
        df = df.reset_index(drop=True)
        df["_seq"] = np.arange(len(df), dtype="int64")
        return EventLog(df, roles=self._roles, meta={**self._meta, **meta})

    def filter_cases(self, cases: Iterable[str], *, keep: bool = True) -> EventLog:
        """Keep (or, with ``keep=False``, drop) the given case ids.

        >>> import journeylab as jl
        >>> jl.datasets.load_example().filter_cases(["3"], keep=False).n_cases
        5
        """
        if isinstance(cases, str):
            cases = [cases]
        wanted = pd.Index([str(c) for c in cases])
        df = self._frame()
        mask = df["case"].isin(wanted)
        return self._derive(df[mask if keep else ~mask])

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
            raise _missing_column("column", column, self.columns)
        if level not in ("event", "case"):
            raise InvalidParameterError(f"level={level!r} is not allowed; use 'event' or 'case'.")
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            values = [values]
        df = self._frame()
        hit = df[column].isin(list(values))
        if level == "case":
            hit = df["case"].isin(df.loc[hit, "case"].unique())
        return self._derive(df[hit if keep else ~hit])

    def filter_time(self, start=None, end=None, *, how: str = "contained") -> EventLog:
        """Filter on time.

        ``how="contained"`` keeps cases that lie wholly in [start, end];
        ``"intersecting"`` keeps cases with any event in it; ``"events"`` keeps the events
        in it (cutting cases). Naive bounds are taken in the log's zone.

        >>> import journeylab as jl
        >>> jl.datasets.load_example().filter_time("2011-01-01", how="contained").n_cases
        2
        """
        if how not in ("contained", "intersecting", "events"):
            raise InvalidParameterError(f"how={how!r} is not allowed; use 'contained', 'intersecting' or 'events'.")
        df = self._frame()
        tz = df["timestamp"].dt.tz

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
            return self._sessions_from(by)
        gap_td = to_timedelta(gap, name="gap")
        restart = [] if restart_on is None else ([restart_on] if isinstance(restart_on, str) else list(restart_on))
        unknown = [a for a in restart if a not in set(self.activities)]
        if unknown:
            raise InvalidParameterError(
                f"restart_on names activities that are not in the log: {unknown}. "
                f"Closest: {[closest(a, self.activities) for a in unknown]}."
            )
        df = self._frame().drop(columns=["_seq"])
        who = df["customer"] if self.has_role("customer") else df["case"]
        order = _event_order(who, df["timestamp"])
        df = df.iloc[order].reset_index(drop=True)
        who = who.iloc[order].reset_index(drop=True)
        new_customer = who.ne(who.shift())
        gaps = df["timestamp"].diff() > gap_td
        starts = new_customer | gaps
        if restart:
            starts |= df["activity"].isin(restart)
        n = starts.astype("int64").groupby(who, sort=False).cumsum()
        roles = {**self._roles, "customer": self._roles.get("customer", self._roles["case"])}
        out = _with_roles(df, self._roles, roles, customer=who, case=who + "#" + n.astype(str))
        log = EventLog(out, roles=roles, meta={**self._meta, "sessions": f"gap={gap_td}, restart_on={restart}"})
        return log._derive(out.iloc[_event_order(out["case"], out["timestamp"])])

    def _sessions_from(self, column: str) -> EventLog:
        if column not in self.attributes:
            raise _missing_column("by", column, self.attributes)
        df = self._frame().drop(columns=["_seq"])
        missing = df[column].isna()
        if missing.all():
            raise EmptyLogError(f"by={column!r} is empty on every event; it cannot define sessions.")
        if missing.any():
            warnings.warn(f"dropped {int(missing.sum()):,} event(s) with no {column!r} (outside any session).",
                          DataQualityWarning, stacklevel=3)
            df = df[~missing]
        roles = {**self._roles, "customer": self._roles.get("customer", self._roles["case"]), "case": column}
        out = _with_roles(df.drop(columns=[column]), self._roles, roles,
                          customer=df["customer"] if self.has_role("customer") else df["case"],
                          case=_as_str_ids(df[column]))
        log = EventLog(out, roles=roles, meta={**self._meta, "sessions": f"by={column}"})
        return log._derive(out.iloc[_event_order(out["case"], out["timestamp"])])


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


def _with_roles(df: pd.DataFrame, old: dict, new: dict, **values: pd.Series) -> pd.DataFrame:
    """The frame of a log whose roles were ``old``, with the roles ``new``: the columns in ``values``
    set, roles first (in ROLES order), then the attributes under the names :func:`_attribute_names`
    gives them (an attribute named like a role the log starts to use here is kept, never overwritten).
    """
    attrs = [c for c in df.columns if c not in old and c != "_seq"]
    names = _attribute_names(attrs, new)
    data = {}
    for role in ROLES:
        if role in values:
            data[role] = values[role].reset_index(drop=True)
        elif role in new:
            data[role] = df[role].reset_index(drop=True)
    for c in attrs:
        data[names[c]] = df[c].reset_index(drop=True)
    return pd.DataFrame(data, copy=False)


def _check_roles(roles: dict, df_columns, *, source: str) -> tuple[dict[str, str], list[str]]:
    """Check the role arguments against the columns of a frame: (role -> column, column names as text).

    Column names are text (a DataFrame with integer labels is read with ``str(label)``); names that
    repeat are refused, since which of them is meant could only be guessed.
    """
    columns = [str(c) for c in df_columns]
    if len(set(columns)) < len(columns):
        seen, dups = set(), []
        for c in columns:
            if c in seen and c not in dups:
                dups.append(c)
            seen.add(c)
        raise SchemaError(
            f"the log from {cut(source, 120, quote=False)} has {len(dups)} column name(s) that appear more than once: "
            f"{cut(dups)}. Give every column its own name (e.g. df.columns = [...]) or drop the copies "
            "(df.loc[:, ~df.columns.duplicated()])."
        )
    given: dict[str, str] = {}
    for role, col in roles.items():
        if col is None:
            if role in _REQUIRED:
                raise SchemaError(f"{role}=None: the {role} column is required. Name the column that holds the "
                                  f"{_REQUIRED[role]}, e.g. {role}='{role}'.")
            continue
        if isinstance(col, (int, np.integer)) and not isinstance(col, bool):
            col = str(col)
        if not isinstance(col, str):
            raise SchemaError(f"{role}={cut(col)} is not a column name; pass the name of a column as text.")
        if col not in columns:
            raise _missing_column(role, col, columns)
        given[role] = col
    seen: dict[str, str] = {}
    for role, col in given.items():
        if col in seen:
            raise SchemaError(f"column {cut(col)} is given for both {seen[col]}= and {role}=; each role needs its own "
                              "column.")
        seen[col] = role
    return given, columns


def _attribute_names(attributes: Sequence[str], roles: Iterable[str]) -> dict[str, str]:
    """The name each attribute gets in the log: its own, unless a role of this log is called so.

    Roles and attributes are kept apart: an attribute named ``customer`` stays an attribute named
    ``customer`` (it never plays the customer role unless passed as ``customer=``). Only when the
    log uses that role for another column (or the name is the internal ``_seq``) would two columns
    share a name; then the attribute is kept as ``attribute:<name>``, with a warning.
    """
    taken = set(roles) | {"_seq"}
    names, renamed = {}, []
    for col in attributes:
        name = col
        if col in taken:
            name, k, used = f"attribute:{col}", 1, set(attributes) | set(names.values())
            while name in used:  # absurd, but never lose a column: attribute:value, attribute:value#2...
                k += 1
                name = f"attribute:{col}#{k}"
            renamed.append((col, name))
        names[col] = name
    if renamed:
        text = ", ".join(f"{cut(a)} as {cut(b)}" for a, b in renamed[:5])
        warnings.warn(
            f"attribute(s) named like a role this log uses for another column are kept under another name: {text}. "
            "Rename them in the input to choose the names yourself.",
            DataQualityWarning, stacklevel=4)
    return names


def _check_unicode(df: pd.DataFrame, source_names: dict) -> None:
    """Refuse text that is not valid Unicode (lone surrogates, e.g. from bytes decoded with
    ``errors="surrogateescape"``): Arrow, DuckDB and every file format would fail on it later.
    Only object columns can hold such text (pandas' own string dtype refuses it)."""
    import pyarrow as pa

    for col in df.columns:
        s = df[col]
        if s.dtype != object:
            continue
        try:
            pa.array(s, from_pandas=True)
        except UnicodeEncodeError as err:
            bad = s.map(lambda v: isinstance(v, str) and not _encodable(v))
            row = int(np.flatnonzero(bad.to_numpy())[0]) if bad.any() else 0
            raise SchemaError(
                f"column {cut(source_names.get(col, col))} holds text that is not valid Unicode ({err.reason}: "
                f"{int(bad.sum()):,} value(s), the first at row {row}, {cut(s.iloc[row], 60)}). Decode the raw "
                "bytes with their real encoding, or replace the bad characters, e.g. "
                "df[col] = df[col].str.encode('utf-8', 'replace').str.decode('utf-8')."
            ) from None
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            continue  # mixed or unusual types: kept as they are


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _column_at(df: pd.DataFrame, pos: int) -> pd.Series:
    """Column ``pos`` of ``df`` as a Series with a fresh 0..n-1 index (no copy of the values)."""
    return df.iloc[:, pos].reset_index(drop=True)


def _exact_duplicates(df: pd.DataFrame) -> pd.Series:
    """Rows equal to an earlier row in every column: row hashes first, exact comparison on hash collisions only."""
    try:
        hashes = pd.util.hash_pandas_object(df, index=False)
    except TypeError:  # unhashable attribute values (lists...)
        return df.astype(str).duplicated()
    candidates = hashes.duplicated(keep=False)
    dup = pd.Series(False, index=df.index)
    if candidates.any():
        sub = df[candidates]
        try:
            dup[candidates] = sub.duplicated().to_numpy()
        except TypeError:
            dup[candidates] = sub.astype(str).duplicated().to_numpy()
    return dup


def _restore(df, roles, meta) -> EventLog:
    """Unpickle an EventLog (the frame was validated when the log was built)."""
    return EventLog(df, roles=roles, meta=meta)


# --------------------------------------------------------------------------- builders


def _build(
    df: pd.DataFrame,
    *,
    roles: dict[str, str | None],
    tz: str | None,
    format: str | None,
    on_invalid: str,
    deduplicate: bool,
    source: str,
    dayfirst: bool | None = None,
) -> EventLog:
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(f"expected a pandas DataFrame, got {type(df).__name__}; pass a DataFrame or use jl.read_csv(...).")
    if on_invalid not in ("raise", "drop"):
        raise InvalidParameterError(f"on_invalid={cut(on_invalid)} is not allowed; use 'raise' or 'drop'.")
    given, columns = _check_roles(roles, df.columns, source=source)
    if len(df) == 0:
        raise EmptyLogError(f"the log from {source} has no events; check the file or the filter that produced it.")

    # one pass over the columns, one frame built at once (inserting 5,000 columns one by one is quadratic)
    by_col = {c: r for r, c in given.items()}
    names = _attribute_names([c for c in columns if c not in by_col], given)
    data: dict[str, Any] = {}
    for role in ROLES:
        if role in given:
            data[role] = _column_at(df, columns.index(given[role]))
    for pos, col in enumerate(columns):
        if col not in by_col:
            data[names[col]] = _column_at(df, pos)
    out = pd.DataFrame(data, copy=False)
    _check_unicode(out, {v: k for k, v in names.items()} | {r: given[r] for r in given})
    for role in _ID_ROLES:
        if role in out:
            out[role] = _as_str_ids(out[role])
    for role in _TEXT_ROLES:
        if role in out:
            out[role] = out[role].astype("str").where(out[role].notna(), None)

    ts, note = parse_timestamps(out["timestamp"], tz=tz, format=format, dayfirst=dayfirst)
    out["timestamp"] = ts
    meta: dict[str, Any] = {"source": source, "tz_note": note}

    nulls = {r: int(out[r].isna().sum()) for r in ("case", "activity", "timestamp")}
    if "case" in out:
        nulls["case"] += int((out["case"] == "").sum())
    bad = {r: n for r, n in nulls.items() if n}
    if bad:
        text = ", ".join(f"{n:,} in {r} ({given[r]!r})" for r, n in bad.items())
        if on_invalid == "raise":
            raise MissingValuesError(
                f"missing values: {text}. Fill them, or pass on_invalid='drop' to drop those rows with a warning."
            )
        keep = out[["case", "activity", "timestamp"]].notna().all(axis=1) & (out["case"] != "")
        dropped = int((~keep).sum())
        warnings.warn(f"dropped {dropped:,} event(s) with missing values ({text}).", DataQualityWarning, stacklevel=3)
        out = out[keep].reset_index(drop=True)
        meta["dropped_invalid"] = dropped
        if len(out) == 0:
            raise EmptyLogError("every event had a missing case, activity or timestamp; nothing is left.")

    dup = _exact_duplicates(out)
    n_dup = int(dup.sum())
    if n_dup:
        if deduplicate:
            out = out[~dup].reset_index(drop=True)
            meta["dropped_duplicates"] = n_dup
        else:
            meta["duplicates"] = n_dup
            warnings.warn(
                f"{n_dup:,} exact duplicate event(s) (same values in every column). "
                "Pass deduplicate=True to drop them.",
                DataQualityWarning,
                stacklevel=3,
            )

    out = out.iloc[_event_order(out["case"], out["timestamp"])].reset_index(drop=True)
    out["timestamp"] = drop_sub_microseconds(out["timestamp"], stacklevel=3)  # after ordering on full precision
    # concat, not out["_seq"] = ...: a frame of thousands of columns is not copied once more per column
    out = pd.concat([out, pd.Series(np.arange(len(out), dtype="int64"), name="_seq")], axis=1)
    return EventLog(out, roles={r: c for r, c in given.items()}, meta=meta)


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

    Parameters
    ----------
    df : DataFrame, one row per event.
    case, activity, timestamp : names of the required role columns.
    channel, lifecycle, resource, customer, value : optional role columns (``customer``
        when the case is a session; ``value`` a monetary amount).
    tz : zone of naive timestamps (default UTC); refused when they carry offsets.
    format : strftime pattern for string timestamps. Default: ISO 8601, else ONE pattern
        inferred from the whole column; values that fit no single pattern are refused.
    on_invalid : ``"raise"`` (default) or ``"drop"`` rows with a missing case, activity
        or timestamp (with a :class:`DataQualityWarning`).
    deduplicate : drop exact duplicate events (otherwise they are kept with a warning).
    dayfirst : for an inferred pattern, True reads ``03/04/2025`` as 3 April, False as
        4 March; None (default) infers the order from the column and refuses a column
        where every value reads both ways (no day above 12).

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
