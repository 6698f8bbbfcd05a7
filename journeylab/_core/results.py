"""The contract of every result object, and the one HTML table renderer.

Each analysis returns a frozen dataclass that derives from :class:`Result`:

- ``to_frame()`` a tidy DataFrame of raw numbers (documented columns);
- ``summary`` a small DataFrame of the headline figures (a property);
- ``__repr__`` one line that says what it is;
- ``_repr_html_`` a bounded, escaped table for Jupyter, built by :func:`html_table` (durations,
  shares, counts and scores formatted the same way everywhere);
- ``plot(ax=None, **kw)`` returning the Axes (or Figure);
- ``params`` the inputs that produced it, read-only (a :class:`FrozenMap`), so it can be reproduced.

Results pickle (the log they came from is not part of them unless a field holds it).

>>> from dataclasses import dataclass, field
>>> import pandas as pd
>>> @dataclass(frozen=True, eq=False)
... class Tiny(Result):
...     table: pd.DataFrame
...     params: FrozenMap = field(default_factory=FrozenMap)
...     def to_frame(self):
...         return self.table.copy()
>>> r = Tiny(pd.DataFrame({"share": [0.25]}), {"k": 1})
>>> r.params["k"], isinstance(r.params, FrozenMap)
(1, True)
>>> "25.0%" in r._repr_html_()
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from html import escape

import numpy as np
import pandas as pd

from ..exceptions import InvalidParameterError
from .formatting import format_count, format_duration, format_number, format_pvalue, format_share

__all__ = ["Result", "FrozenMap", "html_table", "display_frame", "readable", "SHARE_COLUMNS"]


class FrozenMap(Mapping):
    """An immutable, hashable, ordered mapping (``params`` of results, ``stall_after`` of journeys).

    Two FrozenMaps are equal when they hold the same items in the same order; a FrozenMap
    equals a dict with the same items.

    >>> m = FrozenMap({"cart": 1, "payment": 2})
    >>> m["cart"], list(m), m == {"payment": 2, "cart": 1}
    (1, ['cart', 'payment'], True)
    """

    __slots__ = ("_d",)

    def __init__(self, items: Mapping | Iterable = ()):
        self._d = dict(items)

    def __getitem__(self, key):
        return self._d[key]

    def __iter__(self) -> Iterator:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __hash__(self) -> int:
        return hash(tuple(self._d.items()))

    def __eq__(self, other) -> bool:
        if isinstance(other, FrozenMap):
            return tuple(self._d.items()) == tuple(other._d.items())
        if isinstance(other, Mapping):
            return self._d == dict(other.items())
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrozenMap({self._d!r})"

    def __reduce__(self):
        return (FrozenMap, (self._d,))


class Result:
    """Base of the result dataclasses: the contract (see the module docstring).

    Subclasses are ``@dataclass(frozen=True, eq=False)`` and implement ``to_frame``, ``summary``,
    ``__repr__`` and ``plot``; ``params`` (when the class has that field) is made read-only here,
    and ``_repr_html_`` shows the one-line repr and the tables of :meth:`_html_tables`.
    """

    def __post_init__(self):
        params = getattr(self, "params", None)
        if params is not None and not isinstance(params, FrozenMap):
            object.__setattr__(self, "params", FrozenMap(params))

    def to_frame(self) -> pd.DataFrame:  # pragma: no cover - every result defines it
        raise NotImplementedError

    @property
    def summary(self) -> pd.DataFrame:
        """The headline figures; by default the first rows of :meth:`to_frame`."""
        return self.to_frame().head(10)

    def _html_tables(self) -> list[tuple[str, pd.DataFrame]]:
        """The tables ``_repr_html_`` shows: (title, frame) pairs. Default: the summary."""
        return [("", self.summary)]

    def _html_formats(self) -> Mapping[str, str | Callable]:
        """Formats by column name for :func:`html_table` (e.g. ``{"lift": "share"}``)."""
        return {}

    def _repr_html_(self) -> str:
        formats = self._html_formats()
        body = "".join(html_table(frame, title=title, formats=formats) for title, frame in self._html_tables())
        return f"<div class=\"journeylab-result\"><p>{escape(repr(self))}</p>{body}</div>"


#: Column names shown as percentages unless a result says otherwise.
SHARE_COLUMNS = ("share", "rate", "conversion", "coverage", "fitness", "cumulative_share", "share_of_cases",
                 "share_of_events", "response_rate", "goal_rate", "reached_share")

_FORMATS: dict[str, Callable] = {
    "duration": format_duration,
    "share": format_share,
    "signed_share": lambda x: format_share(x, signed=True),
    "count": format_count,
    "pvalue": format_pvalue,
    "score": lambda x: format_number(x, 1),
    "number": lambda x: format_number(x, 2),
    "text": lambda x: "-" if x is None or (isinstance(x, float) and np.isnan(x)) else str(x),
}


def _cell_format(name: str, series: pd.Series, formats: Mapping) -> Callable:
    spec = formats.get(name)
    if callable(spec):
        return spec
    if isinstance(spec, str):
        return _FORMATS[spec]
    dtype = series.dtype
    if pd.api.types.is_timedelta64_dtype(dtype):
        return format_duration
    if pd.api.types.is_bool_dtype(dtype):
        return _FORMATS["text"]
    if pd.api.types.is_integer_dtype(dtype):
        return format_count
    if pd.api.types.is_float_dtype(dtype):
        lname = str(name).lower()
        if lname in SHARE_COLUMNS or lname.startswith("share_") or lname.endswith(("_share", "_rate")):
            return format_share
        if lname in ("p_value", "p_adjusted", "pvalue", "p"):
            return format_pvalue
        return lambda x: format_number(x, 2)
    if dtype == object and len(series) and all(isinstance(v, (tuple, list)) for v in series.head(20)):
        return lambda v: " → ".join(map(str, v)) if isinstance(v, (tuple, list)) else _FORMATS["text"](v)
    return _FORMATS["text"]


def display_frame(frame: pd.DataFrame, *, formats: Mapping | None = None) -> pd.DataFrame:
    """``frame`` with every cell as display text (durations, shares, counts, scores, p-values).

    The raw numbers stay in the results' ``to_frame()``; this is for showing them.

    >>> display_frame(pd.DataFrame({"share": [0.5], "wait": [pd.Timedelta("90min")], "n": [1200]}))
       share   wait      n
    0  50.0%  1.5 h  1,200
    """
    formats = formats or {}
    out = {}
    for name in frame.columns:
        fmt = _cell_format(name, frame[name], formats)
        out[name] = [fmt(v) for v in frame[name].tolist()]
    return pd.DataFrame(out, index=frame.index, columns=frame.columns)


def readable(frame: pd.DataFrame, *, formats: Mapping | None = None, max_rows: int | None = None) -> pd.DataFrame:
    """A table ready to read: durations as ``2.3 d``, shares as ``57.9%``, counts with thousands separators,
    scores and other reals with two decimals, p-values with three, missing values as ``-``.

    The way every result shows its tables (``_repr_html_``), for any DataFrame a result hands out
    (``funnel.table``, ``segmentation.profile()``...). The raw numbers stay in the result and its
    ``to_frame()``: use them for computing, this for reading.

    Parameters
    ----------
    frame : pandas.DataFrame
        Any table; columns are formatted by their type and name (a float column named ``share``,
        ``*_rate`` or ``conversion`` is a percentage, a timedelta column a duration).
    formats : mapping, optional
        Column name -> ``"duration"``, ``"share"``, ``"signed_share"``, ``"count"``, ``"pvalue"``,
        ``"score"`` (one decimal), ``"number"`` (two), ``"text"``, or a function of one value.
    max_rows : int, optional
        Keep only the first rows.

    Returns
    -------
    pandas.DataFrame
        The same index and columns, every cell a string.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> jl.readable(pd.DataFrame({"conversion": [1.0, 0.5786], "wait": pd.to_timedelta(["20min 46s", "2 days"]),
    ...                           "score": [-56.013746, 0.19999999999999996]}), formats={"score": "score"})
      conversion      wait  score
    0     100.0%  20.8 min  -56.0
    1      57.9%     2.0 d    0.2
    """
    if not isinstance(frame, pd.DataFrame):
        if isinstance(frame, pd.Series):
            frame = frame.to_frame()
        else:
            raise InvalidParameterError(f"readable() takes a pandas DataFrame, got {type(frame).__name__}.")
    if max_rows is not None:
        frame = frame.head(int(max_rows))
    return display_frame(frame, formats=formats)


def html_table(frame: pd.DataFrame, *, title: str = "", max_rows: int = 20, formats: Mapping | None = None,
               index: bool | None = None) -> str:
    """A bounded, escaped HTML table of ``frame`` with display formats (see :func:`display_frame`).

    ``index=None`` shows the index when it is named (e.g. ``metric``) and hides a plain 0..n-1.

    >>> "&lt;b&gt;" in html_table(pd.DataFrame({"name": ["<b>"]}))
    True
    """
    if index is None:
        index = any(n is not None for n in frame.index.names)
    shown = display_frame(frame.head(max_rows), formats=formats)
    html = shown.to_html(escape=True, index=index, border=0, classes="journeylab", na_rep="-")
    more = (f"<p><i>{len(frame) - max_rows:,} more rows: use .to_frame()</i></p>" if len(frame) > max_rows else "")
    head = f"<p><b>{escape(title)}</b></p>" if title else ""
    return head + html + more
