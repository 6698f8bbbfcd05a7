"""The canonical event table of a log, as a pandas frame: built from a DataFrame, re-keyed into
sessions, encoded as integers for the scans.

An :class:`~journeylab.log.EventLog` holds one such frame (or an Ibis table with the same columns);
everything here works on frames and knows nothing of the log object, so that the builders
(:func:`journeylab.from_pandas` and the readers) and the log's own methods share one implementation.

The table: the role columns under their canonical names, in :data:`ROLES` order (``case``,
``activity``, ``timestamp``, then the optional roles the log has), then every other input column as
an attribute under its own name, then ``_seq`` (0..n-1). Ids and activities are text, timestamps
tz-aware microseconds, and the rows are sorted by case, then timestamp, ties in input order.

>>> import pandas as pd
>>> df = pd.DataFrame({"id": [2, 1, 1], "step": ["x", "b", "a"], "t": ["2025-01-02", "2025-01-03", "2025-01-01"]})
>>> frame, roles, meta = build_frame(df, roles={"case": "id", "activity": "step", "timestamp": "t"}, tz=None,
...                                  format=None, on_invalid="raise", deduplicate=False, source="DataFrame")
>>> frame[["case", "activity", "_seq"]].values.tolist()
[['1', 'a', 0], ['1', 'b', 1], ['2', 'x', 2]]
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._core.warn import warn
from ._core.formatting import cut
from ._core.names import closest
from ._core.validation import BOOL, Choice
from ._timestamps import drop_sub_microseconds, parse_timestamps
from .exceptions import (
    DataQualityWarning,
    EmptyLogError,
    FileFormatError,
    MissingValuesError,
    SchemaError,
)

__all__ = ["ROLES", "build_frame", "check_path", "check_roles", "missing_column", "as_str_ids", "event_order",
           "attribute_names", "with_roles", "session_frame", "sessions_by_column", "encode", "coded_frame",
           "lazy_with_roles", "lazy_sessions", "lazy_sessions_by_column", "renumbered"]

#: Roles a column can play, in canonical order. The first three are required.
ROLES = ("case", "activity", "timestamp", "channel", "lifecycle", "resource", "customer", "value")
ID_ROLES = ("case", "customer")
TEXT_ROLES = ("activity", "channel", "lifecycle", "resource")
REQUIRED = {"case": "case (or customer) id of each event", "activity": "name of each event",
            "timestamp": "time of each event"}


# --------------------------------------------------------------------------- helpers


def check_path(path) -> Path:
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


def missing_column(role: str, name: str, columns: Sequence[str]) -> SchemaError:
    near = closest(name, columns, n=1)
    near_txt = f" Closest match: {near[0]!r}." if near else ""
    return SchemaError(
        f"{role}={name!r} is not a column of the log.{near_txt} "
        f"Available: {list(map(str, columns))}. Pass {role}=... or rename the column."
    )


def as_str_ids(s: pd.Series) -> pd.Series:
    """Case / customer ids as strings; floats that are whole numbers lose their '.0'."""
    if pd.api.types.is_float_dtype(s.dtype):
        whole = s.dropna()
        if len(whole) and (whole == np.floor(whole)).all():
            s = s.astype("Int64")
    out = s.astype("str")
    return out.where(s.notna(), None)


def event_order(case: pd.Series, ts: pd.Series) -> np.ndarray:
    """Positions that sort events by case, then timestamp, ties in input order (stable)."""
    codes, _ = pd.factorize(case, sort=True)
    t = ts.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().view("int64") if isinstance(
        ts.dtype, pd.DatetimeTZDtype) else ts.to_numpy().view("int64")
    return np.lexsort((np.arange(len(case)), t, codes))


def with_roles(df: pd.DataFrame, old: dict, new: dict, **values: pd.Series) -> pd.DataFrame:
    """The frame of a log whose roles were ``old``, with the roles ``new``: the columns in ``values``
    set, roles first (in ROLES order), then the attributes under the names :func:`attribute_names`
    gives them (an attribute named like a role the log starts to use here is kept, never overwritten).
    """
    attrs = [c for c in df.columns if c not in old and c != "_seq"]
    names = attribute_names(attrs, new)
    data = {}
    for role in ROLES:
        if role in values:
            data[role] = values[role].reset_index(drop=True)
        elif role in new:
            data[role] = df[role].reset_index(drop=True)
    for c in attrs:
        data[names[c]] = df[c].reset_index(drop=True)
    return pd.DataFrame(data, copy=False)


def check_roles(roles: dict, df_columns, *, source: str) -> tuple[dict[str, str], list[str]]:
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
            if role in REQUIRED:
                raise SchemaError(f"{role}=None: the {role} column is required. Name the column that holds the "
                                  f"{REQUIRED[role]}, e.g. {role}='{role}'.")
            continue
        if isinstance(col, (int, np.integer)) and not isinstance(col, bool):
            col = str(col)
        if not isinstance(col, str):
            raise SchemaError(f"{role}={cut(col)} is not a column name; pass the name of a column as text.")
        if col not in columns:
            raise missing_column(role, col, columns)
        given[role] = col
    seen: dict[str, str] = {}
    for role, col in given.items():
        if col in seen:
            raise SchemaError(f"column {cut(col)} is given for both {seen[col]}= and {role}=; each role needs its own "
                              "column.")
        seen[col] = role
    return given, columns


def attribute_names(attributes: Sequence[str], roles: Iterable[str]) -> dict[str, str]:
    """The name each attribute gets in the log: its own, unless a role of this log is called so.

    Roles and attributes are kept apart: an attribute named ``customer`` stays an attribute named
    ``customer`` (it never plays the customer role unless passed as ``customer=``). Only when the
    log uses that role for another column (or the name is the internal ``_seq``) would two columns
    share a name; then the attribute is kept as ``attribute:<name>``, with a warning (pointing at the
    user's call).
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
        warn(
            f"attribute(s) named like a role this log uses for another column are kept under another name: {text}. "
            "Rename them in the input to choose the names yourself.", DataQualityWarning)
    return names


def check_unicode(df: pd.DataFrame, source_names: dict) -> None:
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


def column_at(df: pd.DataFrame, pos: int) -> pd.Series:
    """Column ``pos`` of ``df`` as a Series with a fresh 0..n-1 index (no copy of the values)."""
    return df.iloc[:, pos].reset_index(drop=True)


def exact_duplicates(df: pd.DataFrame) -> pd.Series:
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


# --------------------------------------------------------------------------- building


def build_frame(
    df: pd.DataFrame,
    *,
    roles: dict[str, str | None],
    tz: str | None,
    format: str | None,
    on_invalid: str,
    deduplicate: bool,
    source: str,
    dayfirst: bool | None = None,
) -> tuple[pd.DataFrame, dict[str, str], dict]:
    """The canonical event table of ``df`` (see the module docstring), the roles given and the notes of
    reading it (``meta``). Warnings point at the caller of the public builder (four frames up)."""
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(f"expected a pandas DataFrame, got {type(df).__name__}; pass a DataFrame or use jl.read_csv(...).")
    on_invalid = Choice("raise", "drop")(on_invalid, "on_invalid")  # every builder passes them here
    deduplicate = BOOL(deduplicate, "deduplicate")
    given, columns = check_roles(roles, df.columns, source=source)
    if len(df) == 0:
        raise EmptyLogError(f"the log from {source} has no events; check the file or the filter that produced it.")

    # one pass over the columns, one frame built at once (inserting 5,000 columns one by one is quadratic)
    by_col = {c: r for r, c in given.items()}
    names = attribute_names([c for c in columns if c not in by_col], given)
    data: dict[str, Any] = {}
    for role in ROLES:
        if role in given:
            data[role] = column_at(df, columns.index(given[role]))
    for pos, col in enumerate(columns):
        if col not in by_col:
            data[names[col]] = column_at(df, pos)
    out = pd.DataFrame(data, copy=False)
    check_unicode(out, {v: k for k, v in names.items()} | {r: given[r] for r in given})
    for role in ID_ROLES:
        if role in out:
            out[role] = as_str_ids(out[role])
    for role in TEXT_ROLES:
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
        warn(f"dropped {dropped:,} event(s) with missing values ({text}).", DataQualityWarning)
        out = out[keep].reset_index(drop=True)
        meta["dropped_invalid"] = dropped
        if len(out) == 0:
            raise EmptyLogError("every event had a missing case, activity or timestamp; nothing is left.")

    dup = exact_duplicates(out)
    n_dup = int(dup.sum())
    if n_dup:
        if deduplicate:
            out = out[~dup].reset_index(drop=True)
            meta["dropped_duplicates"] = n_dup
        else:
            meta["duplicates"] = n_dup
            warn(
                f"{n_dup:,} exact duplicate event(s) (same values in every column). "
                "Pass deduplicate=True to drop them.", DataQualityWarning)

    out = out.iloc[event_order(out["case"], out["timestamp"])].reset_index(drop=True)
    out["timestamp"] = drop_sub_microseconds(out["timestamp"])  # after ordering on full precision
    # concat, not out["_seq"] = ...: a frame of thousands of columns is not copied once more per column
    out = pd.concat([out, pd.Series(np.arange(len(out), dtype="int64"), name="_seq")], axis=1)
    return out, dict(given), meta


# --------------------------------------------------------------------------- sessions


def session_frame(df: pd.DataFrame, roles: dict, *, gap: pd.Timedelta, restart: list[str]) -> tuple[pd.DataFrame, dict]:
    """The events of ``df`` (a log's table) re-keyed into sessions of each customer, and the new roles.

    A session starts at a customer's first event, after more than ``gap`` without events, and at an
    event of an activity in ``restart``. The case becomes ``"<customer>#<n>"`` (n from 1); the
    customer is kept in ``customer`` (the old case when there was no customer role). Rows are sorted
    by the new case, then time; ``_seq`` is not set.
    """
    df = df.drop(columns=["_seq"])
    who = df["customer"] if "customer" in roles else df["case"]
    order = event_order(who, df["timestamp"])
    df = df.iloc[order].reset_index(drop=True)
    who = who.iloc[order].reset_index(drop=True)
    new_customer = who.ne(who.shift())
    gaps = df["timestamp"].diff() > gap
    starts = new_customer | gaps
    if restart:
        starts |= df["activity"].isin(restart)
    n = starts.astype("int64").groupby(who, sort=False).cumsum()
    new = {**roles, "customer": roles.get("customer", roles["case"])}
    out = with_roles(df, roles, new, customer=who, case=who + "#" + n.astype(str))
    return out.iloc[event_order(out["case"], out["timestamp"])], new


def sessions_by_column(df: pd.DataFrame, roles: dict, column: str) -> tuple[pd.DataFrame, dict]:
    """The events of ``df`` re-keyed by the sessions an attribute ``column`` already holds, and the new
    roles; events without a value are dropped with a warning (pointing at the caller of
    ``EventLog.sessions``). Rows are sorted by the new case, then time; ``_seq`` is not set."""
    df = df.drop(columns=["_seq"])
    missing = df[column].isna()
    if missing.all():
        raise EmptyLogError(f"by={cut(column)} is empty on every event; it cannot define sessions.")
    if missing.any():
        warn(f"dropped {int(missing.sum()):,} event(s) with no {cut(column)} (outside any session).", DataQualityWarning)
        df = df[~missing]
    new = {**roles, "customer": roles.get("customer", roles["case"]), "case": column}
    out = with_roles(df.drop(columns=[column]), roles, new,
                     customer=df["customer"] if "customer" in roles else df["case"], case=as_str_ids(df[column]))
    return out.iloc[event_order(out["case"], out["timestamp"])], new


# --------------------------------------------------------------------------- sessions of a lazy table
# The same re-keying as session_frame / sessions_by_column, as Ibis expressions on the table of a lazy log
# (DuckDB, Spark): window functions per customer, nothing is fetched but one-row counts.


def renumbered(t, *order):
    """The Ibis table ``t`` with ``_seq`` renumbered 0..n-1 in the order of ``order`` (columns of ``t``),
    the old ``_seq`` breaking ties - the stable sort of the in-memory path."""
    import ibis

    w = ibis.window(order_by=[*(t[c] for c in order), t._seq])
    return t.mutate(_seq=ibis.row_number().over(w).cast("int64"))


def lazy_with_roles(t, old: dict, new: dict, *, skip: Iterable[str] = (), **values):
    """:func:`with_roles` on an Ibis table: the columns in ``values`` (Ibis expressions on ``t``) set, roles
    first in ROLES order, then the attributes (but ``skip``) under the names :func:`attribute_names` gives
    them, then ``_seq``."""
    skip = set(skip)
    attrs = [c for c in t.columns if c not in old and c != "_seq" and c not in skip]
    names = attribute_names(attrs, new)
    cols = []
    for role in ROLES:
        if role in values:
            cols.append(values[role].name(role))
        elif role in new:
            cols.append(t[role])
    cols += [t[c].name(names[c]) for c in attrs]
    return t.select(*cols, t._seq)


def lazy_sessions(t, roles: dict, *, gap: pd.Timedelta, restart: list[str]):
    """:func:`session_frame` on the Ibis table of a lazy log: (table, new roles). A session starts at a
    customer's first event (no previous one: ``lag`` is null), after more than ``gap`` (exact microseconds)
    and at an event of ``restart``; its number is the cumulative sum of the starts per customer, in the
    order customer, time, previous order - the in-memory path's stable sort."""
    import ibis

    from ._core.backend import micros

    who = t.customer if "customer" in roles else t.case
    t = t.mutate(_who=who)
    order = [t.timestamp, t._seq]
    us = micros(t.timestamp)
    prev = us.lag().over(ibis.window(group_by=t._who, order_by=order))
    start = prev.isnull() | ((us - prev) * 1000 > int(gap.value))
    if restart:
        start = start | t.activity.isin(list(restart))
    t = t.mutate(_start=start.cast("int64"))
    t = t.mutate(_n=t._start.sum().over(ibis.cumulative_window(group_by=t._who, order_by=[t.timestamp, t._seq])))
    new = {**roles, "customer": roles.get("customer", roles["case"])}
    out = lazy_with_roles(t, roles, new, skip=("_who", "_start", "_n"), customer=t._who,
                          case=t._who.concat("#", t._n.cast("int64").cast("string")))
    return renumbered(out, "case", "timestamp"), new


def lazy_sessions_by_column(t, roles: dict, column: str, *, execute):
    """:func:`sessions_by_column` on the Ibis table of a lazy log: (table, new roles). One aggregate query
    (events without a value, and whether a float column holds whole numbers) runs through ``execute``."""
    col = t[column]
    is_float = col.type().is_floating()
    aggs = {"n": t.count(), "missing": col.isnull().sum()}
    if is_float:
        aggs["fraction"] = (col.notnull() & (col != col.floor())).sum()
    stats = execute(t.aggregate(**aggs)).iloc[0]
    n, missing = int(stats["n"]), int(stats["missing"] or 0)
    if missing == n:
        raise EmptyLogError(f"by={cut(column)} is empty on every event; it cannot define sessions.")
    if missing:
        warn(f"dropped {missing:,} event(s) with no {cut(column)} (outside any session).", DataQualityWarning)
        t = t.filter(col.notnull())
        col = t[column]
    if is_float and not int(stats["fraction"] or 0):
        col = col.cast("int64")  # as_str_ids: whole floats lose their '.0'
    new = {**roles, "customer": roles.get("customer", roles["case"]), "case": column}
    out = lazy_with_roles(t, roles, new, skip=(column,),
                          customer=t.customer if "customer" in roles else t.case, case=col.cast("string"))
    return renumbered(out, "case", "timestamp"), new


# --------------------------------------------------------------------------- integer encodings


def encode(df: pd.DataFrame) -> dict:
    """The events of a log's table as numpy arrays, for the engine and the scans: ``codes`` (int32
    activity codes, alphabetical), ``vocab`` (the activity of each code), ``first`` (True where a case
    starts; the table is sorted by case then time) and ``us`` (microseconds since the epoch)."""
    codes, vocab = pd.factorize(df["activity"], sort=True)
    first = df["case"].ne(df["case"].shift()).to_numpy()
    ts = df["timestamp"]
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    us = ts.to_numpy().astype("datetime64[us]").view("int64")
    return dict(codes=codes.astype(np.int32), vocab=np.asarray(vocab, dtype=object), first=first, us=us)


def coded_frame(df: pd.DataFrame, arrays: dict) -> pd.DataFrame:
    """The events with integer keys (``arrays`` from :func:`encode`): ``_seq``, ``timestamp``, ``_case``
    (int64), ``_act`` (int32 index into the vocabulary), ``_next`` (activity code of the next event of
    the case, -1 for the last) and ``_dt`` (microseconds to it). The table is sorted by case then time,
    so the successor of an event is the next row: numpy, no window."""
    codes, first, us = arrays["codes"], arrays["first"], arrays["us"]
    nxt = np.empty_like(codes)
    nxt[:-1] = codes[1:]
    nxt[-1] = -1
    nxt[np.flatnonzero(first[1:])] = -1  # the next row starts another case
    dt = np.zeros(len(codes), dtype=np.int64)
    dt[:-1] = us[1:] - us[:-1]
    # integer columns only: no string column is converted for DuckDB
    return pd.DataFrame({"_seq": df["_seq"], "timestamp": df["timestamp"],
                         "_case": np.cumsum(first, dtype=np.int64) - 1, "_act": codes, "_next": nxt, "_dt": dt})
