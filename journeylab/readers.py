"""Readers: CSV, Parquet and XES files, and Ibis tables (DuckDB, Spark...), into an EventLog.

Each reader checks the file, reads it with a fast engine, and hands the frame to the same
validation as :func:`journeylab.from_pandas`; files are never modified.
"""

from __future__ import annotations

import csv
from pathlib import Path

from .exceptions import (
    EmptyLogError,
    FileFormatError,
    InvalidParameterError,
    MissingValuesError,
    SchemaError,
)
from .log import ROLES, EventLog, _build, _check_path, _missing_column

__all__ = ["read_csv", "read_parquet", "read_xes", "from_ibis"]


def _sniff_sep(path: Path) -> str:
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as fh:
            sample = fh.read(65536)
    except (OSError, EOFError) as err:
        raise FileFormatError(f"cannot read '{path}': {err}. Is it a (gzipped) CSV file?") from None
    if not sample.strip():
        raise EmptyLogError(f"'{path}' is empty; there is no header and no event.")
    try:
        return csv.Sniffer().sniff(sample.split("\n", 1)[0] + "\n", delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def read_csv(
    path,
    *,
    case: str,
    activity: str,
    timestamp: str,
    sep: str | None = None,
    tz: str | None = None,
    encoding: str = "utf-8",
    **kwargs,
) -> EventLog:
    """Read an event log from a CSV file (optionally gzipped), with DuckDB's fast reader.

    Case and customer ids are read as strings: ``"NA"``, ``"null"`` or ``"None"`` in an
    id column are ids, not missing values (elsewhere they are missing). ``sep=None``
    detects the separator. Other keyword arguments are those of :func:`from_pandas`,
    among them ``format=`` and ``dayfirst=``: True reads ``03/04/2025`` as 3 April,
    False as 4 March, None (default) infers one order for the whole column and refuses
    a column where every value reads both ways.

    >>> import journeylab as jl, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "log.csv")
    >>> _ = open(p, "w").write("id;step;ts\\nNA;visit;2025-01-01 10:00\\nNA;buy;2025-01-01 10:05\\n")
    >>> jl.read_csv(p, case="id", activity="step", timestamp="ts").to_pandas()["case"].tolist()
    ['NA', 'NA']
    """
    import duckdb

    p = _check_path(path)
    if sep is None:
        sep = _sniff_sep(p)
    id_cols = [c for c in (case, kwargs.get("customer")) if c]
    if encoding.lower().replace("-", "") not in ("utf8",):
        raise InvalidParameterError(f"encoding={encoding!r}: only UTF-8 files are read; re-encode the file (iconv -t utf-8).")
    con = duckdb.connect()
    try:
        rel = con.read_csv(str(p), sep=sep, header=True, all_varchar=True)
        cols = rel.columns
        for role, col in (("case", case), ("activity", activity), ("timestamp", timestamp)):
            if col not in cols:
                raise _missing_column(role, col, cols)
        nulls = ["", "NA", "N/A", "null", "NULL", "None", "NaN", "nan"]
        df = con.read_csv(str(p), sep=sep, header=True, na_values=nulls,
                          dtype={c: "VARCHAR" for c in (activity, timestamp)}).to_arrow_table().to_pandas()
        if id_cols:  # ids are read again as text, where only an empty field is missing
            ids = con.read_csv(str(p), sep=sep, header=True, all_varchar=True).select(*[f'"{c}"' for c in id_cols]).to_arrow_table().to_pandas()
            for c in id_cols:
                df[c] = ids[c].to_numpy()
    except duckdb.Error as err:
        msg = str(err).splitlines()[0]
        raise FileFormatError(f"cannot read '{p}' as CSV (sep={sep!r}): {msg}. Check the separator and quoting.") from None
    finally:
        con.close()
    return _build(df, roles=_roles(case, activity, timestamp, kwargs), tz=tz, format=kwargs.pop("format", None),
                  on_invalid=kwargs.pop("on_invalid", "raise"), deduplicate=kwargs.pop("deduplicate", False),
                  source=str(p), dayfirst=kwargs.pop("dayfirst", None))


def _roles(case, activity, timestamp, kwargs) -> dict:
    allowed = {"channel", "lifecycle", "resource", "customer", "value", "format", "dayfirst", "on_invalid",
               "deduplicate"}
    unknown = set(kwargs) - allowed
    if unknown:
        raise InvalidParameterError(f"unknown argument(s) {sorted(unknown)}; allowed: {sorted(allowed)}.")
    return dict(case=case, activity=activity, timestamp=timestamp,
                **{r: kwargs.get(r) for r in ("channel", "lifecycle", "resource", "customer", "value")})


def read_parquet(path, *, case: str, activity: str, timestamp: str, tz: str | None = None, **kwargs) -> EventLog:
    """Read an event log from a Parquet file (other keyword arguments as :func:`from_pandas`).

    Timestamp, date (``date32``) and text columns are all accepted; for text,
    ``format=`` or ``dayfirst=`` (True: ``03/04/2025`` is 3 April, False: 4 March,
    None: one order inferred for the whole column) say how to read it.

    >>> import journeylab as jl, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "log.parquet")
    >>> jl.datasets.load_example().to_pandas().to_parquet(p)
    >>> jl.read_parquet(p, case="case", activity="activity", timestamp="timestamp").n_events
    42
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = _check_path(path)
    try:
        df = pq.read_table(p).to_pandas()
    except (pa.ArrowException, OSError) as err:
        raise FileFormatError(f"cannot read '{p}' as Parquet: {str(err).splitlines()[0]}. Is it a Parquet file?") from None
    return _build(df, roles=_roles(case, activity, timestamp, kwargs), tz=tz, format=kwargs.get("format"),
                  on_invalid=kwargs.get("on_invalid", "raise"), deduplicate=kwargs.get("deduplicate", False),
                  source=str(p), dayfirst=kwargs.get("dayfirst"))


def read_xes(path, *, on_invalid: str = "raise", deduplicate: bool = False) -> EventLog:
    """Read an XES event log (``.xes`` or ``.xes.gz``) with a fast, safe streaming parser.

    DTDs and entity declarations are refused (no XXE, no entity expansion). The trace's
    ``concept:name`` is the case, ``concept:name`` the activity, ``time:timestamp`` the
    timestamp; ``lifecycle:transition`` and ``org:resource`` keep their roles; trace
    attributes are kept as ``case:<key>`` columns.

    >>> import journeylab as jl
    >>> jl.read_xes(jl.datasets.example_path()).n_cases
    6
    """
    from ._xes import parse_xes

    p = _check_path(path)
    df = parse_xes(p)
    roles = dict(case="case:concept:name", activity="concept:name", timestamp="time:timestamp")
    if "lifecycle:transition" in df.columns:
        roles["lifecycle"] = "lifecycle:transition"
    if "org:resource" in df.columns:
        roles["resource"] = "org:resource"
    for role, col in (("activity", "concept:name"), ("timestamp", "time:timestamp")):
        if col not in df.columns:
            raise FileFormatError(f"'{p}' has no event attribute '{col}' ({role}); journeylab needs it on every event.")
    return _build(df, roles=roles, tz=None, format=None, on_invalid=on_invalid, deduplicate=deduplicate, source=str(p))


def from_ibis(table, *, case: str, activity: str, timestamp: str, **roles) -> EventLog:
    """Wrap any Ibis table (DuckDB, Spark, ...) as a lazy :class:`EventLog`.

    The events stay in their engine; the core aggregates (``journeylab.engine``) run
    there. Role columns get canonical names and ``_seq`` orders events by case and
    timestamp. Checks (columns exist, no nulls in the key columns) run as queries.

    >>> import ibis, journeylab as jl
    >>> t = ibis.memtable(jl.datasets.load_example().to_pandas())
    >>> jl.from_ibis(t, case="case", activity="activity", timestamp="timestamp").n_cases
    6
    """
    import ibis

    from . import engine

    if not isinstance(table, ibis.expr.types.Table):
        raise SchemaError(f"expected an Ibis table, got {type(table).__name__}; use jl.from_pandas for DataFrames.")
    given = {"case": case, "activity": activity, "timestamp": timestamp}
    for r, c in roles.items():
        if r not in ROLES:
            raise InvalidParameterError(f"unknown role {r!r}; allowed: {list(ROLES)}.")
        if c is not None:
            given[r] = c
    cols = list(table.columns)
    for r, c in given.items():
        if c not in cols:
            raise _missing_column(r, c, cols)
    by_col: dict[str, str] = {}
    for r, c in given.items():
        if c in by_col:
            raise SchemaError(f"column {c!r} is given for both {by_col[c]}= and {r}=; each role needs its own column.")
        by_col[c] = r
    clash = [c for c in cols if c in ROLES and c not in by_col]
    if clash:
        raise SchemaError(
            f"column(s) {clash} have the name of a role but are not used as that role; journeylab reserves "
            f"the names {list(ROLES)}. Pass them as the role or rename them (table.rename(...))."
        )
    seen: dict[str, str] = {}
    for name in [r for r in ROLES if r in given] + [c for c in cols if c not in by_col]:
        other = seen.setdefault(name.lower(), name)
        if other != name:
            raise SchemaError(
                f"columns {other!r} and {name!r} of the log differ only in upper/lower case, and SQL engines "
                f"(DuckDB, Spark) take them for one column. Rename or drop {name!r} where the table is made "
                f"(e.g. in the DataFrame or the query); role columns are named {list(given)} in the log."
            )
    exprs = []
    for r in ROLES:
        if r in given:
            e = table[given[r]]
            if r in ("case", "customer", "activity", "channel", "lifecycle", "resource"):
                e = e.cast("string")
            exprs.append(e.name(r))
    exprs += [table[c] for c in cols if c not in by_col]
    t = table.select(*exprs)
    if not t.timestamp.type().is_timestamp():
        raise SchemaError(f"timestamp={timestamp!r} has type {t.timestamp.type()}, not a timestamp; cast it in the table first.")
    counts = engine.execute(
        t.aggregate(
            n=t.count(),
            case_null=t.case.isnull().sum(),
            act_null=t.activity.isnull().sum(),
            ts_null=t.timestamp.isnull().sum(),
        )
    ).iloc[0]
    if int(counts["n"]) == 0:
        raise EmptyLogError("the table has no rows; check the query that produced it.")
    bad = {r: int(counts[k]) for r, k in (("case", "case_null"), ("activity", "act_null"), ("timestamp", "ts_null")) if counts[k]}
    if bad:
        raise MissingValuesError(
            f"missing values: {', '.join(f'{n:,} in {r}' for r, n in bad.items())}. Filter them out of the table "
            "first (e.g. table.filter(table[col].notnull()))."
        )
    w = ibis.window(order_by=[t.case, t.timestamp])
    t = t.mutate(_seq=(ibis.row_number().over(w)).cast("int64"))
    return EventLog(None, roles=given, meta={"source": f"Ibis table ({engine.backend_name(t)})", "tz_note": "as stored"}, table=t)
