"""Small shared helpers: closest-name suggestions, duration parsing, atomic writes."""

from __future__ import annotations

import difflib
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from .exceptions import InvalidParameterError


def closest(name: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """Return up to ``n`` names of ``choices`` closest to ``name`` (case-insensitive).

    >>> closest("Paymnt", ["payment", "cart", "browse"])
    ['payment']
    """
    choices = [str(c) for c in choices]
    lower = {c.lower(): c for c in choices}
    hits = difflib.get_close_matches(str(name).lower(), list(lower), n=n, cutoff=0.5)
    return [lower[h] for h in hits]


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


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """A ' Did you mean ...?' sentence, or '' when nothing is close."""
    hits = closest(name, choices)
    if not hits:
        return ""
    return " Did you mean " + " or ".join(repr(h) for h in hits) + "?"


def to_timedelta(value, *, name: str = "duration") -> pd.Timedelta:
    """Parse a duration given as a string (``"30min"``, ``"3d"``, ``"2 days"``) or Timedelta.

    A bare number is refused: its unit would be a guess.

    >>> to_timedelta("30min")
    Timedelta('0 days 00:30:00')
    >>> to_timedelta(3)
    Traceback (most recent call last):
    ...
    journeylab.exceptions.InvalidParameterError: duration=3 is a bare number; ...
    """
    if isinstance(value, pd.Timedelta):
        td = value
    elif hasattr(value, "total_seconds") and not isinstance(value, (int, float)):
        td = pd.Timedelta(value)
    elif isinstance(value, bool) or isinstance(value, (int, float)):
        raise InvalidParameterError(
            f"{name}={value!r} is a bare number; give a duration with a unit, "
            f"e.g. {name}='30min', '3d' or pd.Timedelta(hours=2)."
        )
    elif isinstance(value, str):
        try:
            # "3d" is the house spelling; pandas 3 deprecates the lowercase unit
            td = pd.Timedelta(re.sub(r"(\d)\s*d(?![a-zA-Z])", r"\1D", value.strip()))
        except (ValueError, TypeError):
            raise InvalidParameterError(
                f"{name}={value!r} is not a duration; write it like '30min', '12h', '3d' or '2 days'."
            ) from None
        if value.strip().replace(".", "", 1).isdigit():
            raise InvalidParameterError(
                f"{name}={value!r} is a bare number; give a duration with a unit, e.g. '{value.strip()}d'."
            )
    else:
        raise InvalidParameterError(
            f"{name}={value!r} is not a duration; write it like '30min', '12h', '3d' or pd.Timedelta(days=3)."
        )
    if pd.isna(td) or td <= pd.Timedelta(0):
        raise InvalidParameterError(f"{name}={value!r} must be a positive duration, e.g. '30min' or '3d'.")
    return td


def format_timedelta(td) -> str:
    """A duration for people: "2.5 d", "3.0 h", "12.0 min", "40 s"; "-" when missing, "never" when infinite.

    >>> format_timedelta(pd.Timedelta("36h"))
    '1.5 d'
    >>> format_timedelta(None)
    '-'
    """
    if td is None or pd.isna(td):
        return "-"
    secs = pd.Timedelta(td).total_seconds() if not isinstance(td, float) else td
    if secs in (float("inf"), float("-inf")):
        return "never"
    sign, secs = ("-" if secs < 0 else ""), abs(secs)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if secs >= size:
            return f"{sign}{secs / size:.1f} {unit}"
    return f"{sign}{secs:.0f} s"


def analysis_date(log, as_of) -> pd.Timestamp:
    """The analysis date ``as_of`` in the log's zone (default: the log's last timestamp).

    Naive dates are taken in the log's zone; a date before the first event is refused.

    >>> import journeylab as jl
    >>> analysis_date(jl.datasets.load_example(), "2011-01-01").tz is not None
    True
    """
    start, end = log.time_span
    if as_of is None:
        return end
    try:
        ts = pd.Timestamp(as_of)
    except (ValueError, TypeError):
        raise InvalidParameterError(f"as_of={as_of!r} is not a date; write it like '2025-01-31' or "
                                    "'2025-01-31 12:00'.") from None
    if pd.isna(ts):
        raise InvalidParameterError(f"as_of={as_of!r} is not a date; write it like '2025-01-31'.")
    tz = start.tz
    ts = ts.tz_localize(tz) if ts.tzinfo is None else ts.tz_convert(tz)
    if ts < start:
        raise InvalidParameterError(f"as_of={as_of!r} is before the first event of the log ({start}); choose a date "
                                    f"between {start:%Y-%m-%d} and {end:%Y-%m-%d}.")
    return ts


def atomic_write(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write ``data`` to ``path`` atomically: a temporary file in the same folder, then a rename.

    A failure leaves any previous file untouched and no half-written file behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path
