"""Numbers, durations and values for people: one way to show each, used by every table, plot and message.

>>> format_duration(pd.Timedelta(minutes=90)), duration_spec(pd.Timedelta(minutes=90))
('1.5 h', '90min')
>>> format_count(12345), format_share(0.1234), format_pvalue(0.00001)
('12,345', '12.3%', '<0.001')
"""

from __future__ import annotations

import itertools
import math
import os
import re
import reprlib
from collections.abc import Mapping

import pandas as pd

__all__ = ["cut", "show_path", "format_duration", "duration_spec", "format_count", "format_share",
           "format_number", "format_pvalue", "DURATION_UNITS"]


class _ShortRepr(reprlib.Repr):
    """reprlib.Repr that also bounds subclasses, non-dict mappings, huge ints and hostile reprs."""

    def __init__(self, limit: int):
        super().__init__()  # keyword arguments only from Python 3.12
        self.maxlevel, self.maxlong, self.maxstring, self.maxother = 3, 40, max(limit // 2, 10), limit
        self.maxdict = self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = self.maxdeque = 8
        self.maxarray = 8

    def repr1(self, x, level):
        if isinstance(x, bool) or x is None:
            return repr(x)
        if isinstance(x, int):
            digits = int(abs(int(x)).bit_length() * 0.30103) + 1
            return repr(int(x)) if digits <= self.maxlong else f"<{'-' if x < 0 else ''}number of ~{digits:,} digits>"
        if isinstance(x, (bytes, bytearray)):
            return repr(bytes(x[: self.maxstring])) + ("..." if len(x) > self.maxstring else "")
        for base in (str, list, tuple, dict, set, frozenset):
            if isinstance(x, base):
                return getattr(self, f"repr_{base.__name__}")(x, level)
        if isinstance(x, Mapping):
            if level <= 0:
                return f"{type(x).__name__}({{...}})"
            items = [f"{self.repr1(k, level - 1)}: {self.repr1(v, level - 1)}"
                     for k, v in itertools.islice(x.items(), self.maxdict)]
            more = ", ..." if len(x) > self.maxdict else ""
            return f"{type(x).__name__}({{{', '.join(items)}{more}}})"
        return super().repr1(x, level)

    def repr_instance(self, x, level):
        try:
            text = repr(x)
        except Exception:  # a hostile __repr__
            return f"<{type(x).__name__}>"
        text = re.sub(r"\s*\n\s*", " ", text[: self.maxother * 4])  # a pandas or numpy repr spans lines
        return text if len(text) <= self.maxother else text[: self.maxother - 3] + "..."


def cut(value, limit: int = 80, *, quote: bool = True) -> str:
    """``repr(value)`` (``str`` for text with ``quote=False``) in at most about ``limit`` characters.

    For error messages: a user value can be huge (a 2 GB string, a list built from YAML
    aliases that would print as gigabytes, a number of 5,000 digits). Text shows its start
    and its length; containers are shortened without ever building their full repr.

    Parameters
    ----------
    value : any
        The value to show.
    limit : int, default 80
        About the longest text returned.
    quote : bool, default True
        Quote text like ``repr``; ``False`` shows text as it is.

    Examples
    --------
    >>> cut("x" * 1000, 20)
    "'xxxxxxxxxxxxxxx... (1,000 characters)"
    >>> cut(["a", "b"])
    "['a', 'b']"
    >>> cut(10**5000)
    '<number of ~5,001 digits>'
    """
    if isinstance(value, str):
        head = value[:limit]
        text = repr(head) if quote else head
        if len(value) <= limit and len(text) <= limit + 2:
            return text
        return f"{text[: max(limit - 4, 8)]}... ({len(value):,} characters)"
    try:
        plain = not quote and not isinstance(value, (int, bytes, bytearray, list, tuple, set, frozenset, Mapping))
        text = str(value)[: limit * 4] if plain else _ShortRepr(limit).repr(value)  # str(): a path, a date
    except Exception:  # a hostile __str__, __len__, __iter__ or __eq__ inside a container
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
