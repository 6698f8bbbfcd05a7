"""Readers: CSV, Parquet and XES files, and Ibis tables (DuckDB, Spark...), into an EventLog.

Each reader checks the file, reads it with a fast engine, and hands the frame to the same
validation as :func:`journeylab.from_pandas`; files are never modified. :func:`from_ibis` wraps a
table of an engine (DuckDB, Spark) and :func:`scan_parquet` scans Parquet files with DuckDB: both
give lazy logs whose events stay in the engine.

Size: about 640 lines: the readers share the role checks, the error texts and, for the two lazy
ones, the key-column checks that run as queries; one module keeps them in step.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from ._core.backend import backend_name, execute
from ._core.formatting import cut
from ._core.names import did_you_mean
from .exceptions import (
    EmptyLogError,
    FileFormatError,
    InvalidParameterError,
    MissingValuesError,
    SchemaError,
)
from ._table import ROLES, attribute_names, check_path, check_roles, missing_column
from .log import EventLog, _build

__all__ = ["read_csv", "read_parquet", "read_xes", "from_ibis", "scan_parquet"]


def _open_text(path: Path, encoding: str):
    import gzip

    return (gzip.open if _is_gzip(path) else open)(path, "rt", encoding=encoding, errors="strict", newline="")


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _sniff(path: Path, encoding: str) -> str:
    """The first 64 KiB of the file as text; errors that say what is wrong with the file."""
    import zlib

    try:
        with _open_text(path, encoding) as fh:
            sample = fh.read(65536)
    except UnicodeError as err:
        raise _encoding_error(path, encoding, _decode_detail(err)) from None
    except (OSError, EOFError, zlib.error) as err:
        gz = _is_gzip(path)
        what = "a damaged or truncated gzip file" if gz else "unreadable"
        raise FileFormatError(f"cannot read '{path}': it is {what} ({cut(str(err), 120, quote=False)})."
                              + (" Compress it again (`gzip -t` checks it)." if gz else " Check the file.")) from None
    if not sample.strip():
        raise EmptyLogError(f"'{path}' is empty; there is no header and no event.")
    return sample


def _decode_detail(err: UnicodeError) -> str:
    if isinstance(err, UnicodeDecodeError):
        return f"byte {err.start:,} cannot be decoded: {err.reason}"
    return cut(str(err), 100, quote=False)


def _encoding_error(path, encoding, detail) -> FileFormatError:
    return FileFormatError(
        f"'{path}' is not {encoding} text ({detail}): check its encoding and pass it, e.g. "
        "jl.read_csv(..., encoding='latin-1') (also 'cp1252', 'utf-16'; on the command line --encoding latin-1).")


def _sniff_sep(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample.split("\n", 1)[0] + "\n", delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _check_encoding(encoding) -> str:
    import codecs

    if not isinstance(encoding, str):
        raise InvalidParameterError(f"encoding={cut(encoding)} is not an encoding name; e.g. 'utf-8' or 'latin-1'.")
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise InvalidParameterError(f"encoding={cut(encoding)} is not an encoding Python knows; e.g. 'utf-8', "
                                    "'latin-1', 'cp1252' or 'utf-16'.") from None


def _to_utf8(path: Path, encoding: str, folder: str) -> Path:
    """A UTF-8 copy of a CSV in another encoding (streamed in blocks; the input is only read)."""
    out = Path(folder) / "utf8.csv"
    try:
        with _open_text(path, encoding) as src, open(out, "w", encoding="utf-8", newline="") as dst:
            while block := src.read(1 << 22):
                dst.write(block)
    except UnicodeError as err:
        raise _encoding_error(path, encoding, _decode_detail(err)) from None
    return out


def read_csv(
    path,
    *,
    case: str,
    activity: str,
    timestamp: str,
    sep: str | None = None,
    tz: str | None = None,
    encoding: str = "utf-8",
    na_values: Sequence[str] | None = None,
    quote: str = '"',
    **kwargs,
) -> EventLog:
    """Read an event log from a CSV file (optionally gzipped), with DuckDB's fast reader.

    Case and customer ids are read as strings: ``"NA"``, ``"null"`` or ``"None"`` in an
    id column are ids, not missing values (elsewhere they are missing, see ``na_values``). ``sep=None``
    detects the separator. Other keyword arguments are those of :func:`from_pandas` (the optional
    roles, ``on_invalid``, ``deduplicate``, and ``format=`` / ``dayfirst=``: True reads ``03/04/2025``
    as 3 April, False as 4 March, None (default) infers one order for the whole column and refuses
    a column where every value reads both ways).

    Parameters
    ----------
    path : str or Path
        The ``.csv`` or ``.csv.gz`` file.
    case, activity, timestamp : str
        Names of the required role columns.
    sep : str, optional
        The field separator (detected from the header when not given).
    tz : str, optional
        Zone of naive timestamps (default UTC).
    encoding : str, default "utf-8"
        The file's text encoding (``"latin-1"``, ``"cp1252"``, ``"utf-16"``...). Files in
        another encoding than UTF-8 are converted to a temporary UTF-8 copy first.
    na_values : list of str, optional
        The fields that mean "missing" outside the id columns (default: empty, ``NA``,
        ``N/A``, ``null``, ``NULL``, ``None``, ``NaN``, ``nan``). ``na_values=[""]`` keeps
        every text as it is, e.g. to read back exactly a log written with
        ``log.to_pandas().to_csv(...)``.
    quote : str, default '"'
        The quoting character (RFC 4180: a quote inside a quoted field is doubled). It is never
        guessed, so a value such as ``'`` or ``"`` alone reads as itself.

    Returns
    -------
    EventLog

    Examples
    --------
    >>> import journeylab as jl, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "log.csv")
    >>> _ = open(p, "w").write("id;step;ts\\nNA;visit;2025-01-01 10:00\\nNA;buy;2025-01-01 10:05\\n")
    >>> jl.read_csv(p, case="id", activity="step", timestamp="ts").to_pandas()["case"].tolist()
    ['NA', 'NA']
    """
    import tempfile

    p = check_path(path)
    enc = _check_encoding(encoding)
    roles = _roles(case, activity, timestamp, kwargs)
    sample = _sniff(p, enc)
    if sep is None:
        sep = _sniff_sep(sample)
    with tempfile.TemporaryDirectory(prefix="journeylab-csv-") as tmp:
        src = p if enc == "utf-8" else _to_utf8(p, enc, tmp)
        df = _read_csv_frame(src, p, sep=sep, roles=roles, encoding=enc, na_values=_na_values(na_values),
                             quote=_one_char(quote, "quote"))
    return _build(df, roles=roles, tz=tz, format=kwargs.get("format"), dayfirst=kwargs.get("dayfirst"),
                  on_invalid=kwargs.get("on_invalid", "raise"), deduplicate=kwargs.get("deduplicate", False),
                  source=str(p))


_NA_VALUES = ("", "NA", "N/A", "null", "NULL", "None", "NaN", "nan")


def _na_values(values) -> list[str]:
    if values is None:
        return list(_NA_VALUES)
    if isinstance(values, str) or not all(isinstance(v, str) for v in values):
        raise InvalidParameterError(f"na_values={cut(values)} must be a list of texts, e.g. ['', 'NA'].")
    return list(values)


def _one_char(value, name: str) -> str:
    if not isinstance(value, str) or len(value) != 1:
        raise InvalidParameterError(f"{name}={cut(value)} must be one character, e.g. {name}='\"'.")
    return value


def _read_csv_frame(src: Path, p: Path, *, sep: str, roles: dict, encoding: str, na_values: list[str], quote: str):
    """The CSV as a DataFrame: types detected by DuckDB, except ids (text, only '' missing) and the
    activity and timestamp (text, parsed by journeylab)."""
    import duckdb

    texts = [c for c in (roles["activity"], roles["timestamp"]) if isinstance(c, str)]
    id_cols = [c for c in (roles["case"], roles.get("customer")) if isinstance(c, str)]
    con = duckdb.connect()
    try:
        raw = con.read_csv(str(src), sep=sep, header=True, all_varchar=True, quotechar=quote, escapechar=quote)
        cols = raw.columns
        for role, col in roles.items():
            if isinstance(col, str) and col not in cols:
                raise missing_column(role, col, cols)
        df = con.read_csv(str(src), sep=sep, header=True, na_values=na_values, quotechar=quote, escapechar=quote,
                          dtype={c: "VARCHAR" for c in texts}).to_arrow_table().to_pandas()
        if id_cols:  # ids are read again as text, where only an empty field is missing
            ids = raw.select(*[duckdb.ColumnExpression(c) for c in id_cols]).to_arrow_table().to_pandas()
            for c in id_cols:
                df[c] = ids[c].to_numpy()
    except duckdb.Error as err:
        msg = str(err)
        if "invalid unicode" in msg.lower():
            raise _encoding_error(p, encoding, cut(msg.splitlines()[0], 160, quote=False)) from None
        raise FileFormatError(f"cannot read '{p}' as CSV (sep={sep!r}): {cut(msg.splitlines()[0], 300, quote=False)}. "
                              "Check the separator and quoting.") from None
    finally:
        con.close()
    return df


_OPTIONAL_ROLES = ("channel", "lifecycle", "resource", "customer", "value")
_BUILD_OPTIONS = ("format", "dayfirst", "on_invalid", "deduplicate")


def _roles(case, activity, timestamp, kwargs, *, allowed=_OPTIONAL_ROLES + _BUILD_OPTIONS) -> dict:
    """The role arguments (``case=``... and the optional roles in ``kwargs``); unknown keywords are refused."""
    unknown = set(kwargs) - set(allowed)
    if unknown:
        names = sorted(map(str, unknown))
        raise InvalidParameterError(f"unknown argument(s) {cut(names)}; allowed: {sorted(allowed)}."
                                    f"{did_you_mean(names[0], allowed)}")
    return dict(case=case, activity=activity, timestamp=timestamp,
                **{r: kwargs.get(r) for r in _OPTIONAL_ROLES if r in allowed})


def read_parquet(path, *, case: str, activity: str, timestamp: str, tz: str | None = None, **kwargs) -> EventLog:
    """Read an event log from a Parquet file (other keyword arguments as :func:`from_pandas`).

    Timestamp, date (``date32``) and text columns are all accepted; for text,
    ``format=`` or ``dayfirst=`` (True: ``03/04/2025`` is 3 April, False: 4 March,
    None: one order inferred for the whole column) say how to read it.

    Parameters
    ----------
    path : str or Path
        The Parquet file.
    case, activity, timestamp : str
        Names of the required role columns.
    tz : str, optional
        Zone of naive timestamps (default UTC).
    **kwargs
        The optional roles (``channel``, ``lifecycle``, ``resource``, ``customer``, ``value``),
        ``format``, ``dayfirst``, ``on_invalid``, ``deduplicate``, as in :func:`from_pandas`.

    Returns
    -------
    EventLog

    Examples
    --------
    >>> import journeylab as jl, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "log.parquet")
    >>> jl.datasets.load_example().to_pandas().to_parquet(p)
    >>> jl.read_parquet(p, case="case", activity="activity", timestamp="timestamp").n_events
    42
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = check_path(path)
    roles = _roles(case, activity, timestamp, kwargs)
    try:
        df = pq.read_table(p).to_pandas()
    except (pa.ArrowException, OSError) as err:
        raise FileFormatError(f"cannot read '{p}' as Parquet: {cut(str(err).splitlines()[0], 300, quote=False)}. "
                              "Is it a Parquet file?") from None
    return _build(df, roles=roles, tz=tz, format=kwargs.get("format"), dayfirst=kwargs.get("dayfirst"),
                  on_invalid=kwargs.get("on_invalid", "raise"), deduplicate=kwargs.get("deduplicate", False),
                  source=str(p))


_AUTO = object()  # "use this XES column for the role when the file has it"


def read_xes(
    path,
    *,
    case: str = "case:concept:name",
    activity: str | None = "concept:name",
    timestamp: str = "time:timestamp",
    classifier: str | Sequence[str] | None = None,
    channel: str | None = None,
    lifecycle: str | None = _AUTO,
    resource: str | None = _AUTO,
    customer: str | None = None,
    value: str | None = None,
    tz: str | None = None,
    on_invalid: str = "raise",
    deduplicate: bool = False,
    **kwargs,
) -> EventLog:
    """Read an XES event log (``.xes`` or ``.xes.gz``) with a fast, safe streaming parser.

    DTDs and entity declarations are refused (no XXE, no entity expansion). Columns are the XES
    keys: the trace's ``concept:name`` is ``case:concept:name`` and every trace attribute is
    ``case:<key>``; event attributes keep their keys (``concept:name``, ``time:timestamp``,
    ``org:resource``...). Roles take columns by those names, as in the other readers; an
    attribute named like a role (an event attribute ``customer``, ``value`` or ``channel``) stays
    an attribute under its own name unless you pass it as the role.

    Parameters
    ----------
    path : str or Path
        The ``.xes`` / ``.xes.gz`` file.
    case, activity, timestamp : str
        Columns of the three required roles (defaults: the XES standard keys).
    classifier : str or sequence of str, optional
        Build the activity from several keys instead of ``activity``: the name of a
        ``<classifier>`` declared in the file (e.g. ``"Activity classifier"``) or the keys
        themselves, e.g. ``("concept:name", "lifecycle:transition")``; the values are joined
        with ``"+"`` (``"W_Completeren aanvraag+COMPLETE"``), as ProM and pm4py do.
    channel, lifecycle, resource, customer, value : str, optional
        Columns of the optional roles. ``lifecycle`` and ``resource`` default to
        ``lifecycle:transition`` and ``org:resource`` when the file has them; pass ``None``
        to keep those as plain attributes.
    tz, on_invalid, deduplicate, format, dayfirst
        As in :func:`~journeylab.from_pandas`.

    Returns
    -------
    EventLog

    Examples
    --------
    >>> import journeylab as jl
    >>> jl.read_xes(jl.datasets.example_path()).n_cases
    6
    >>> log = jl.read_xes(jl.datasets.example_path(), classifier=["concept:name", "org:resource"])
    >>> "check ticket+Mike" in log.activities
    True
    """
    from ._xes import parse_xes

    p = check_path(path)
    df = parse_xes(p)
    optional = {"lifecycle": (lifecycle, "lifecycle:transition"), "resource": (resource, "org:resource")}
    roles: dict = dict(case=case, activity=activity, timestamp=timestamp, channel=channel, customer=customer,
                       value=value)
    for role, (given, default) in optional.items():
        roles[role] = (default if default in df.columns else None) if given is _AUTO else given
    if classifier is not None:
        df, roles["activity"] = _classify(df, classifier, activity, p)
    for role, col in (("case", case), ("activity", roles["activity"]), ("timestamp", timestamp)):
        if col is not None and col not in df.columns and col == _XES_KEYS.get(role):
            raise FileFormatError(f"'{p}' has no {'trace' if role == 'case' else 'event'} attribute "
                                  f"{cut(col.removeprefix('case:'))} ({role}); journeylab needs it on every "
                                  f"{'trace' if role == 'case' else 'event'}, or pass {role}=... naming another "
                                  f"attribute. The file's columns: {cut(sorted(map(str, df.columns)), 200)}.")
    extra = _roles(case, activity, timestamp, kwargs, allowed=("format", "dayfirst"))
    return _build(df, roles=roles, tz=tz, format=extra.get("format"), dayfirst=extra.get("dayfirst"),
                  on_invalid=on_invalid, deduplicate=deduplicate, source=str(p))


_XES_KEYS = {"case": "case:concept:name", "activity": "concept:name", "timestamp": "time:timestamp"}


def _classify(df, classifier, activity, p):
    """(frame with the classifier's activity column, its name): the keys' values joined with '+'."""
    import pandas as pd

    declared = df.attrs.get("xes_classifiers", {}) or {}
    if isinstance(classifier, str):
        if classifier in declared:
            keys = list(declared[classifier])
        elif classifier in df.columns:
            keys = [classifier]
        else:
            raise InvalidParameterError(
                f"classifier={cut(classifier)} is neither a classifier declared in '{p}' "
                f"({cut(sorted(declared), 200) if declared else 'it declares none'}) nor one of its attributes."
                f"{did_you_mean(classifier, list(declared) + [str(c) for c in df.columns])} Pass a declared name "
                "or the keys, e.g. classifier=('concept:name', 'lifecycle:transition').")
    else:
        try:
            keys = [str(k) if isinstance(k, str) else None for k in classifier]
        except TypeError:
            keys = [None]
        if not keys or None in keys:
            raise InvalidParameterError(f"classifier={cut(classifier)} must be a classifier name or a list of "
                                        "attribute keys, e.g. ('concept:name', 'lifecycle:transition').")
    if activity not in (None, "concept:name"):
        raise InvalidParameterError(f"classifier= and activity={cut(activity)} both say what the activity is; "
                                    "pass one of them.")
    missing = [k for k in keys if k not in df.columns]
    if missing:
        raise SchemaError(f"the classifier's key(s) {cut(missing)} are not attributes of the events in '{p}'."
                          f"{did_you_mean(missing[0], map(str, df.columns))}")
    name = "+".join(keys)
    if name in df.columns and len(keys) > 1:
        raise SchemaError(f"'{p}' already has an attribute {cut(name)}; rename it, or pass activity=... instead "
                          "of classifier=.")
    if len(keys) == 1:
        return df, keys[0]
    parts = [df[k] for k in keys]
    missing_any = pd.concat([s.isna() for s in parts], axis=1).any(axis=1)
    joined = parts[0].astype("str")
    for s in parts[1:]:
        joined = joined + "+" + s.astype("str")
    out = df.assign(**{name: joined.where(~missing_any, None)})
    out.attrs = dict(df.attrs)
    return out, name


def from_ibis(table, *, case: str, activity: str, timestamp: str, **roles) -> EventLog:
    """Wrap any Ibis table (DuckDB, Spark, ...) as a lazy :class:`EventLog`.

    The events stay in their engine; the core aggregates (``journeylab.engine``) run
    there. Role columns get canonical names and ``_seq`` orders events by case and
    timestamp. Checks (columns exist, no nulls in the key columns) run as queries.

    Parameters
    ----------
    table : ibis.expr.types.Table
        The events, one row per event (e.g. ``ibis.duckdb.connect().table("events")``, or a Spark table
        through ``ibis.pyspark.connect(spark)``).
    case, activity, timestamp : str
        Columns of the three required roles (the timestamp column must have a timestamp type).
    **roles
        The optional roles: ``channel``, ``lifecycle``, ``resource``, ``customer``, ``value`` (column names).

    Returns
    -------
    EventLog
        A lazy log (``log.is_lazy``): analyses ask its engine for the tables they need.

    Examples
    --------
    >>> import ibis, journeylab as jl
    >>> t = ibis.memtable(jl.datasets.load_example().to_pandas()[["case", "activity", "timestamp", "resource"]])
    >>> log = jl.from_ibis(t, case="case", activity="activity", timestamp="timestamp", resource="resource")
    >>> log.is_lazy, log.n_cases
    (True, 6)
    """
    import ibis

    t, given = _canonical(table, {"case": case, "activity": activity, "timestamp": timestamp, **roles})
    _check_keys(t)
    t = _numbered(t) if backend_name(t) == "pyspark" else _numbered_in_one(t)
    return EventLog(None, roles=given, meta={"source": f"Ibis table ({backend_name(t)})", "tz_note": "as stored"}, table=t)


def _numbered_in_one(t):
    """``_seq``: the events numbered 0..n-1 by case, then time, with one window over the whole table."""
    import ibis

    scan = backend_name(t) == "duckdb"
    if scan:
        # events of a case at the same instant keep the order DuckDB scans them in (a table's order, as
        # pandas keeps a frame's): its sort is not stable, so the scan position breaks the ties
        t = t.mutate(_scan=ibis.row_number().over(ibis.window()))
    keys = [t.case, t.timestamp, *([t._scan] if scan else [])]
    t = t.mutate(_seq=(ibis.row_number().over(ibis.window(order_by=keys))).cast("int64"))
    return t.drop("_scan") if scan else t


def _numbered(t):
    """``_seq`` as :func:`_numbered_in_one` gives it, without a window over every event: Spark runs a window
    without PARTITION BY in one task. Each event gets its position in its case (a window partitioned by case:
    every task a share of the cases) plus the events of the cases before it (a running sum over the cases:
    one task, over cases, not events). Ties at the same instant keep the scan order (``_scan``)."""
    import ibis

    from ._core.backend import spark_row_id

    cols = t.columns
    sizes = t.group_by("case").aggregate(_n=t.count())
    t = t.mutate(_scan=spark_row_id())
    t = t.mutate(_pos=ibis.row_number().over(ibis.window(group_by=t.case, order_by=[t.timestamp, t._scan])))
    sizes = sizes.select(_case=sizes.case,
                         _off=sizes._n.sum().over(ibis.cumulative_window(order_by=sizes.case)) - sizes._n)
    j = t.join(sizes, t.case == sizes._case)
    return j.select(*cols, _seq=(j._off + j._pos).cast("int64"))


def _canonical(table, roles: dict, keep: tuple = ()):
    """(the Ibis ``table`` with the role columns under their canonical names - text for the keys - then
    the attributes, then the ``keep`` columns as they are; the roles given)."""
    import ibis

    if not isinstance(table, ibis.expr.types.Table):
        raise SchemaError(f"expected an Ibis table, got {type(table).__name__}; use jl.from_pandas for DataFrames.")
    for r in roles:
        if r not in ROLES:
            raise InvalidParameterError(f"unknown role {cut(r)}; allowed: {list(ROLES)}.{did_you_mean(r, ROLES)}")
    given, cols = check_roles(roles, [c for c in table.columns if c not in keep], source="the Ibis table")
    by_col = {c: r for r, c in given.items()}
    names = attribute_names([c for c in cols if c not in by_col], given)
    seen: dict[str, str] = {}
    for name in [r for r in ROLES if r in given] + list(names.values()):
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
    exprs += [table[c].name(names[c]) for c in cols if c not in by_col]
    t = table.select(*exprs, *keep)
    if not t.timestamp.type().is_timestamp():
        raise SchemaError(f"timestamp={given['timestamp']!r} has type {t.timestamp.type()}, not a timestamp; cast it "
                          "in the table first.")
    return t, given


def _check_keys(t) -> None:
    """Refuse an empty table, or missing values in the key columns (one aggregate query)."""
    counts = execute(
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


def _parquet_files(path_or_glob) -> tuple[list[str], str]:
    """The Parquet file(s) to scan: a file, every ``*.parquet`` under a folder, or a glob's matches."""
    import glob
    import os

    try:
        text = os.fspath(path_or_glob)
    except TypeError:
        raise FileFormatError(f"path={cut(repr(path_or_glob))} is not a path; pass a file, a folder of Parquet part "
                              "files or a glob such as 'events/*.parquet'.") from None
    p = Path(text).expanduser()
    if p.is_dir():
        files = sorted(str(f) for f in p.rglob("*.parquet") if f.is_file())
        if not files:
            raise FileFormatError(f"the folder '{p}' has no *.parquet file; pass the folder the part files are in, "
                                  "or a glob such as 'events/part-*.parquet'.")
        return files, str(p)
    if glob.has_magic(text):
        files = sorted(f for f in glob.glob(os.path.expanduser(text), recursive=True) if Path(f).is_file())
        if not files:
            raise FileFormatError(f"no file matches {cut(text)}; check the pattern (e.g. 'events/*.parquet').")
        return files, text
    return [str(check_path(p))], str(p)


def _scan_timestamp(t, column: str, tz: str | None, source: str):
    """The timestamp column as UTC timestamps, converted in the engine (naive: in ``tz``, default UTC)."""
    import ibis
    import ibis.expr.datatypes as dt

    col, kind = t[column], t[column].type()
    utc = dt.Timestamp(timezone="UTC")
    if kind.is_date():
        col, kind = col.cast(dt.timestamp), dt.timestamp
    if kind.is_string():
        parsed = col.try_cast(utc)
        bad = execute(t.filter(col.notnull() & parsed.isnull()).select(v=col).limit(1))
        if len(bad):
            raise SchemaError(
                f"timestamp={column!r} of {cut(source)} is text, and {cut(str(bad['v'].iloc[0]))} is not an ISO 8601 "
                "timestamp (e.g. '2025-01-31 14:05:00' or '2025-01-31T14:05:00+01:00'). Store timestamps as a "
                "timestamp column in the Parquet files, or read the file with jl.read_parquet(..., format=...).")
        return parsed, "ISO 8601 text, read in DuckDB (no offset: UTC)"
    if not kind.is_timestamp():
        raise SchemaError(f"timestamp={column!r} of {cut(source)} has type {kind}, not a timestamp; store "
                          "timestamps as a timestamp (or ISO 8601 text) column.")
    if kind.timezone is not None:
        return col.cast(utc), "timezone-aware input kept (UTC)"  # Parquet stores instants: read_parquet says the same
    if tz is None or str(tz).upper() == "UTC":
        return col.cast(utc), "naive timestamps taken as UTC"
    from ._core.backend import local_to_utc

    return local_to_utc(ibis.literal(str(tz)), col.cast(dt.timestamp)), f"naive timestamps taken as {tz}"


def scan_parquet(path_or_glob, *, case: str, activity: str, timestamp: str, tz: str | None = None,
                 on_invalid: str = "raise", materialize: bool = True, **roles) -> EventLog:
    """A lazy log over Parquet file(s), scanned by DuckDB: nothing is read into Python.

    The events stay in the files; DuckDB reads what each analysis asks for (the columns it
    needs, reduced per variant or per case) and spills to disk when a step needs more memory
    than its limit (see :func:`journeylab.engine.configure`). The checks of :func:`from_ibis`
    run as queries (key columns exist and have no missing values).

    Parameters
    ----------
    path_or_glob : str or Path
        A Parquet file, a folder (every ``*.parquet`` under it, e.g. the part files that
        :func:`journeylab.datasets.write_journeys` or Spark write) or a glob (``"events/part-*.parquet"``).
        The files must share one schema.
    case, activity, timestamp : str
        Columns of the required roles. Timestamps may be zone-aware (converted to UTC), naive
        (taken as UTC, or in ``tz``) as :func:`read_parquet` does, dates, or ISO 8601 text (cast in
        DuckDB; a value that does not parse raises :class:`~journeylab.exceptions.SchemaError`).
    tz : str, optional
        Zone of naive timestamps (default UTC), e.g. ``"Europe/Paris"``.
    on_invalid : {"raise", "drop"}
        Events with a missing case, activity or timestamp: refused with
        :class:`~journeylab.exceptions.MissingValuesError` (default), or left out of the log (in the
        engine; counted in ``log.summary()``), e.g. the events outside journey sessions when
        ``case="session_id"``.
    materialize : bool
        True (default): the log's columns are copied once, numbered and sorted by case and time, into a
        DuckDB file in the spill folder (compressed: about the size of the Parquet files; removed
        when Python exits; scanning the same unchanged files again reuses it). Every analysis then
        reads the columns it needs from that copy. False: every query scans the files and numbers the
        events again, which costs a sort of the whole log per query (fine for small files; at 100M
        events one such query spilled more than 60 GB).
    **roles
        The optional roles: ``channel``, ``lifecycle``, ``resource``, ``customer``, ``value``.

    Returns
    -------
    EventLog
        A lazy log (``log.is_lazy``, ``log.backend == "duckdb"``) on journeylab's scan connection.

    Examples
    --------
    >>> import journeylab as jl, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "log.parquet")
    >>> jl.datasets.load_example().to_pandas().to_parquet(p)
    >>> log = jl.scan_parquet(p, case="case", activity="activity", timestamp="timestamp")
    >>> log.is_lazy, log.n_events
    (True, 42)
    """
    from ._core.backend import scan_connection

    for name, value in (("case", case), ("activity", activity), ("timestamp", timestamp)):
        if not isinstance(value, str):
            raise InvalidParameterError(f"{name}= must be a column name (str), not {cut(repr(value))}.")
    if not isinstance(materialize, bool):
        raise InvalidParameterError(f"materialize={repr(materialize)[:40]} must be True (copy the log once into "
                                    "a sorted DuckDB file) or False (scan the files in every query).")
    files, source = _parquet_files(path_or_glob)
    try:
        t = scan_connection().read_parquet(files)
    except Exception as err:  # DuckDB's IOException / InvalidInputException: not Parquet, or schemas differ
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise FileFormatError(f"cannot scan {cut(source)} as Parquet: {cut(first, 300, quote=False)}. Are these "
                              "Parquet files with one schema?") from None
    ties: tuple = ()
    if materialize and not {"file_row_number", _FILE}.intersection(t.columns):
        # where each event is in the files: events of a case at the same time keep the files' order in the
        # copy, as read_parquet keeps it (a file's own column of that name: their order is DuckDB's)
        t, ties = scan_connection().read_parquet(files, filename=_FILE, file_row_number=True), (_FILE, "file_row_number")
    if timestamp not in t.columns:
        raise missing_column("timestamp", timestamp, t.columns)
    ts, note = _scan_timestamp(t, timestamp, tz, source)
    t = t.mutate(**{timestamp: ts})
    dropped = 0
    if on_invalid == "drop":
        from ._core.warn import warn

        given = {"case": case, "activity": activity, "timestamp": timestamp}
        for name, column in given.items():
            if column not in t.columns:
                raise missing_column(name, column, t.columns)
        missing = {"case": t[case].isnull() | (t[case].cast("string") == ""), "activity": t[activity].isnull(),
                   "timestamp": t[timestamp].isnull()}
        counts = execute(t.aggregate(**{r: m.cast("int64").sum() for r, m in missing.items()})).iloc[0]
        nulls = {r: int(counts[r] or 0) for r in missing}
        if any(nulls.values()):
            ok = ~(missing["case"] | missing["activity"] | missing["timestamp"])
            dropped = int(execute(t.aggregate(n=(~ok).cast("int64").sum())).iloc[0]["n"])
            text = ", ".join(f"{n:,} in {r} ({given[r]!r})" for r, n in nulls.items() if n)
            warn(f"dropped {dropped:,} event(s) with missing values ({text}).")
            t = t.filter(ok)
    elif on_invalid != "raise":
        raise InvalidParameterError(f"on_invalid={cut(on_invalid)} is not allowed; use 'raise' (refuse events "
                                    "with a missing case, activity or timestamp) or 'drop' (leave them out).")
    meta = {"source": source, "tz_note": note, "files": len(files), "dropped_invalid": dropped}
    if not materialize:
        log = from_ibis(t, case=case, activity=activity, timestamp=timestamp, **roles)
        log._meta.update(meta)
        return log
    import os

    from ._core.backend import store, store_path

    t, given = _canonical(t, {"case": case, "activity": activity, "timestamp": timestamp, **roles}, keep=ties)
    _check_keys(t)
    # the copy is keyed by the scan's arguments and the files' sizes and modification times: the same
    # files scanned the same way reuse it, a changed file is copied again
    stats = [(f, os.stat(f).st_size, os.stat(f).st_mtime_ns) for f in files]
    key = repr((stats, case, activity, timestamp, tz, on_invalid, sorted(roles.items())))
    table = store(t, key, order_by=("case", "timestamp", *ties), drop=ties)
    return EventLog(None, roles=given, meta={**meta, "materialized": store_path()}, table=table)


_FILE = "_journeylab_file"  # the column scan_parquet reads each event's file name into (then drops)
