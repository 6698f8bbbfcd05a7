"""Numbers, durations and values for people: one way to show each, used by every table, plot and message.

>>> format_duration(pd.Timedelta(minutes=90)), duration_spec(pd.Timedelta(minutes=90))
('1.5 h', '90min')
>>> format_count(12345), format_share(0.1234), format_pvalue(0.00001)
('12,345', '12.3%', '<0.001')
"""

from __future__ import annotations

import math
import os

import pandas as pd

__all__ = ["cut", "show_path", "format_duration", "duration_spec", "format_count", "format_share",
           "format_number", "format_pvalue", "DURATION_UNITS"]


def cut(value, limit: int = 80, *, quote: bool = True) -> str:
    """``repr(value)`` (``str`` with ``quote=False``) in at most about ``limit`` characters, for messages.

    User values can be huge (a 2 GB string, a list of a million names): a message shows their
    start and, for text, its length. Containers are shortened without building their full repr.

    >>> cut("x" * 1000, 20)
    "'xxxxxxxxxxxxxxx... (1,000 characters)"
    >>> cut(["a", "b"])
    "['a', 'b']"
    """
    import reprlib

    if isinstance(value, str):
        head = value[:limit]
        text = repr(head) if quote else head
        if len(value) <= limit and len(text) <= limit + 2:
            return text
        return f"{text[: max(limit - 4, 8)]}... ({len(value):,} characters)"
    short = reprlib.Repr()  # keyword arguments only from Python 3.12
    short.maxlevel, short.maxlong, short.maxstring, short.maxother = 3, 40, max(limit // 2, 10), limit
    short.maxdict = short.maxlist = short.maxtuple = short.maxset = short.maxfrozenset = short.maxdeque = 8
    short.maxarray = 8
    try:
        text = short.repr(value) if quote else str(value)[: limit + 1]
    except Exception:  # a hostile __repr__ / __str__
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def show_path(path, limit: int = 120) -> str:
    """A path quoted for a message, cut in the middle to at most ``limit`` characters.

    >>> show_path("reports/" + "x" * 300 + "/r.html", 40)
    "'reports/xxxxxxxxxx...xxxxxxxxxxxx/r.html'"
    """
    text = os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else str(path)
    if len(text) > limit:
        head = (limit - 3) // 2
        text = text[:head] + "..." + text[len(text) - (limit - 3 - head):]
    return repr(text)


def format_duration(td, *, missing: str = "-") -> str:
    """A duration for people: "2.5 d", "3.0 h", "12.0 min", "40 s"; "-" when missing, "never" when infinite.

    >>> format_duration(pd.Timedelta("36h"))
    '1.5 d'
    >>> format_duration(None)
    '-'
    >>> format_duration(pd.Timedelta(days=400))
    '400 d'
    """
    if td is None or (not isinstance(td, float) and pd.isna(td)) or (isinstance(td, float) and math.isnan(td)):
        return missing
    secs = pd.Timedelta(td).total_seconds() if not isinstance(td, float) else td
    if secs in (float("inf"), float("-inf")):
        return "never"
    sign, secs = ("-" if secs < 0 else ""), abs(secs)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if secs >= size:
            v = secs / size
            return f"{sign}{v:.1f} {unit}" if v < 100 else f"{sign}{v:,.0f} {unit}"
    return f"{sign}{secs:.0f} s"


#: Units of exact duration texts, largest first, in nanoseconds.
DURATION_UNITS = (("d", 86_400 * 10**9), ("h", 3_600 * 10**9), ("min", 60 * 10**9), ("s", 10**9), ("ms", 10**6),
                  ("us", 10**3), ("ns", 1))


def duration_spec(td) -> str:
    """The shortest exact text for a duration, as written in journey definitions: 2 days -> '2d'.

    >>> duration_spec(pd.Timedelta(hours=36)), duration_spec(pd.Timedelta(minutes=90))
    ('36h', '90min')
    """
    ns = int(pd.Timedelta(td).value)
    if ns == 0:
        return "0s"
    sign, ns = ("-" if ns < 0 else ""), abs(ns)
    for unit, size in DURATION_UNITS:
        if ns % size == 0:
            return f"{sign}{ns // size}{unit}"
    return f"{sign}{ns}ns"  # pragma: no cover - the loop ends with ns


def format_count(n) -> str:
    """A whole number with thousands separators; '-' when missing.

    >>> format_count(1234567), format_count(None)
    ('1,234,567', '-')
    """
    if n is None or (isinstance(n, float) and not math.isfinite(n)) or pd.isna(n):
        return "-"
    return f"{int(round(float(n))):,}"


def format_share(x, digits: int = 1, *, signed: bool = False) -> str:
    """A share (0..1) as a percentage: 0.1234 -> '12.3%'; '-' when missing.

    >>> format_share(0.1234), format_share(-0.05, signed=True), format_share(float("nan"))
    ('12.3%', '-5.0%', '-')
    """
    if x is None or pd.isna(x) or not math.isfinite(float(x)):
        return "-"
    return f"{float(x) * 100:{'+' if signed else ''}.{digits}f}%"


def format_number(x, digits: int = 2, *, signed: bool = False) -> str:
    """A real number with ``digits`` decimals (thousands separated); '-' when missing, '∞' when infinite.

    >>> format_number(0.19999999999999996), format_number(-56.013746, 1), format_number(1234.5, 0)
    ('0.20', '-56.0', '1,234')
    """
    if x is None or pd.isna(x):
        return "-"
    x = float(x)
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    return f"{x:{'+' if signed else ''},.{digits}f}"


def format_pvalue(p) -> str:
    """A p-value: three decimals, '<0.001' below; '-' when missing.

    >>> format_pvalue(0.04321), format_pvalue(1e-9), format_pvalue(None)
    ('0.043', '<0.001', '-')
    """
    if p is None or pd.isna(p):
        return "-"
    return "<0.001" if float(p) < 0.001 else f"{float(p):.3f}"
