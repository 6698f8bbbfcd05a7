"""Typed XES values (see :func:`journeylab._xes.parse_xes` for the rules): text in, Arrow arrays out."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ._core.warn import warn
from .exceptions import DataQualityWarning, FileFormatError


def cut(value, n: int = 60) -> str:
    """repr() of a user value cut to about ``n`` characters, so that a message stays short."""
    s = value if isinstance(value, str) else bytes(value[:n + 1])
    return repr(s[:n]) + ("..." if len(s) > n else "")


INT = re.compile(r"\s*[+-]?[0-9]+\s*")
FLOAT = re.compile(r"\s*[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)\s*", re.I)
DATE = re.compile(r"\s*([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?)?"
                  r"\s*(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?\s*", re.I)
BAD = object()
HUGE = 1 << 64  # stands for any integer beyond the int64 range
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
I64 = (-(1 << 63), (1 << 63) - 1)


def scalar(typ: str, v, json_ready: bool = False):
    """One XES value as Python (int, float, bool, microseconds since 1970 for dates), or BAD."""
    if v is None:
        return None
    if typ == "int":
        if INT.fullmatch(v):  # more than 19 digits is beyond int64 (and int() refuses thousands of digits)
            digits = v.strip().lstrip("+-").lstrip("0") or "0"
            if len(digits) > 19:
                return v if json_ready else HUGE
            return -int(digits) if v.strip().startswith("-") else int(digits)
        f = float(v) if FLOAT.fullmatch(v) else math.nan
        out = int(f) if math.isfinite(f) and f.is_integer() else BAD
    elif typ == "float":
        out = float(v) if FLOAT.fullmatch(v) else BAD
        if json_ready and out is not BAD and not math.isfinite(out):
            out = BAD
    elif typ == "boolean":
        out = {"true": True, "1": True, "false": False, "0": False}.get(v.strip().lower(), BAD)
    elif typ == "date" and not json_ready:
        out = date_us(v)
    else:
        return v
    return v if json_ready and out is BAD else out


def date_us(v: str):
    """An xs:dateTime (or a date) as microseconds since 1970 UTC, or BAD."""
    m = DATE.fullmatch(v)
    if m is None:
        return BAD
    y, mo, d, h, mi, s, frac, tz = m.groups()
    try:
        day = datetime(int(y), int(mo), int(d), tzinfo=timezone.utc)
    except ValueError:
        return BAD
    h, mi, s = int(h or 0), int(mi or 0), int(s or 0)
    if h > 24 or mi > 59 or s > 59 or (h == 24 and (mi or s or int(frac or 0))):
        return BAD
    off = 0
    if tz and tz.upper() != "Z":
        digits = tz[1:].replace(":", "")
        if int(digits[:2]) > 23 or int(digits[2:4] or 0) > 59:
            return BAD
        off = (int(digits[:2]) * 60 + int(digits[2:4] or 0)) * (-1 if tz[0] == "-" else 1)
    delta = timedelta(hours=h, minutes=mi - off, seconds=s, microseconds=int((frac or "0")[:6].ljust(6, "0")))
    return (day - EPOCH + delta) // timedelta(microseconds=1)


def convert(values: pa.Array, typ: str, key: str, p: Path) -> pa.Array:
    """Values Arrow could not cast: parse each distinct value, refuse bad ones, keep huge ints as text."""
    target = {"date": pa.timestamp("us", "UTC"), "int": pa.int64(), "float": pa.float64(), "boolean": pa.bool_()}[typ]
    enc = values.dictionary_encode()
    distinct = enc.dictionary.to_pylist()
    if typ == "date":  # pandas parses most ISO 8601 quickly; the rest (year 1, 24:00, ...) one by one
        parsed = pd.to_datetime(pd.Series(distinct, dtype=object), utc=True, format="ISO8601", errors="coerce")
        ticks = parsed.array.asi8  # in the unit pandas chose (s, ms, us or ns): to microseconds, truncated
        per_us = {"s": 10**6, "ms": 1000, "us": 1, "ns": -1000}[parsed.dt.unit]
        out = [None if missing else int(x) * per_us if per_us > 0 else int(x) // -per_us
               for x, missing in zip(ticks, parsed.isna(), strict=True)]
        out = [date_us(v) if o is None else o for v, o in zip(distinct, out, strict=True)]
    else:
        out = [scalar(typ, v) for v in distinct]
    bad = [v for v, o in zip(distinct, out, strict=True) if o is BAD]
    if bad:
        n_bad = int(pc.sum(pc.is_in(values, pa.array(bad, values.type))).as_py())
        raise FileFormatError(f"'{p}': attribute {cut(key)} is declared <{typ}> but has the value {cut(bad[0])} "
                              f"({n_bad:,} such values). Fix the values or declare the attribute as <string>.")
    if typ == "int" and any(not I64[0] <= o <= I64[1] for o in out):
        big = next(v for v, o in zip(distinct, out, strict=True) if not I64[0] <= o <= I64[1])
        warn(f"'{p}': attribute {cut(key)} is declared <int> but has values beyond the 64-bit integer range "
                      f"(e.g. {cut(big)}); it is kept as text, exactly as written. Convert it yourself if needed "
                      "(e.g. with int() per value).", DataQualityWarning)
        return values
    if typ == "date":
        return pa.array(out, pa.int64()).cast(target).take(enc.indices)
    return pa.array(out, target).take(enc.indices)


def column(parts, n: int, key: str, p: Path) -> pa.Array:
    """Scatter one attribute's values to its owners (events or traces) and convert its type."""
    if len(parts) == 1:
        typ, idx, values = parts[0]
    else:  # the same key written with different types: keep it as text
        typ = "string"
        idx = np.concatenate([x[1] for x in parts])
        order = np.argsort(idx, kind="stable")
        idx, values = idx[order], pa.concat_arrays([x[2] for x in parts]).take(order)
    last = np.ones(len(idx), dtype=bool)
    last[:-1] = idx[1:] != idx[:-1]  # a key repeated in one event: the last value wins
    pos = np.full(n, -1, dtype=np.int64)
    pos[idx[last]] = np.flatnonzero(last)
    values = values.take(pa.array(pos, mask=pos < 0))
    if typ in ("string", "id", "list"):
        return values
    target = {"date": pa.timestamp("us", "UTC"), "int": pa.int64(), "float": pa.float64(), "boolean": pa.bool_()}
    if typ == "int" and pc.any(pc.match_substring(values, "x", ignore_case=True)).as_py():
        return convert(values, typ, key, p)  # Arrow reads 0x... as hexadecimal, and wraps 0xFFFFFFFFFFFFFFFF to -1
    try:
        return values.cast(target[typ])
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return convert(values, typ, key, p)
