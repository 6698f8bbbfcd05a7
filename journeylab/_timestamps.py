"""Timestamp parsing for every reader: one format per column, never a silent guess.

:func:`parse_timestamps` turns the timestamp column of a log into tz-aware instants.
Text is read with ONE format for the whole column - ISO 8601, the strftime pattern
given as ``format=``, or one inferred from the values - so ``03/04/2025`` and
``15/04/2025`` are never read in different day/month orders. A column that reads
both ways is refused (pass ``dayfirst=`` or ``format=``), and so are partial or
relative values (``"2025"``, ``"10:00"``, ``"now"``). Values with sub-microsecond
digits keep them until the events are ordered; :func:`drop_sub_microseconds` then
reduces them to the microseconds a log keeps, with a warning.

Examples
--------
>>> import pandas as pd
>>> ts, note = parse_timestamps(pd.Series(["15/04/2025 10:00", "03/04/2025 09:30"]))
>>> [str(t) for t in ts]
['2025-04-15 10:00:00+00:00', '2025-04-03 09:30:00+00:00']
>>> note
"naive timestamps taken as UTC; dates read day-first ('%d/%m/%Y %H:%M')"
"""

from __future__ import annotations

import datetime as _dt
import re
import warnings

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from ._core.warn import warn
from ._core.formatting import cut
from .exceptions import DataQualityWarning, InvalidParameterError, TimestampError

__all__ = ["parse_timestamps", "drop_sub_microseconds"]

ISO = "ISO8601"
_SAMPLE = 64  # distinct values, spread over the column, that propose candidate formats
_MAX_FULL = 3  # candidate formats tried on the whole column before giving up
_MAX_CLASSIFIED = 20_000  # distinct bad values sorted into kinds for an error message
_TZ_SUFFIX = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})\s*$")
_RELATIVE = frozenset({"now", "today", "yesterday", "tomorrow", "tonight", "noon", "midnight"})
_RELATIVE_WORDS = re.compile(r"\b(?:ago|last|next|this)\b", re.I)
_TIME = re.compile(r"\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s*[ap]\.?m\.?)?", re.I)
_MONTH = re.compile(r"(?<![a-z])(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*", re.I)
_SHORT_YEAR = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{2})(?!\d)")
_NUMBER_KINDS = ("integer", "floating", "mixed-integer-float", "decimal", "boolean", "complex")


# --------------------------------------------------------------------------- small helpers


def _examples(values: pd.Series, k: int = 5) -> str:
    """Up to ``k`` values as a list of bounded strings."""
    items = [str(v) if len(str(v)) <= 40 else str(v)[:37] + "..." for v in values.iloc[:k]]
    return repr(items)


def _check_tz(tz) -> None:
    if tz is None or isinstance(tz, _dt.tzinfo):
        return
    if not isinstance(tz, str):
        raise InvalidParameterError(
            f"tz={cut(tz, 40)} ({type(tz).__name__}) is not a time zone. Pass a zone name such as 'UTC' or "
            "'Europe/Paris' (or a datetime.tzinfo), or leave tz=None to take naive timestamps as UTC."
        )
    try:
        pd.Timestamp("2000-01-01").tz_localize(tz)
    except Exception:  # ZoneInfoNotFoundError, ValueError, IndexError ... depending on the spelling
        raise InvalidParameterError(
            f"tz={cut(tz, 40)} is not a time zone name; use e.g. 'UTC' or 'Europe/Paris'."
        ) from None


def _check_dayfirst(dayfirst) -> None:
    if dayfirst is None or isinstance(dayfirst, (bool, np.bool_)):
        return
    raise InvalidParameterError(
        f"dayfirst={cut(dayfirst, 40)} is not allowed; use True (day before month: 03/04/2025 is 3 April), "
        "False (month before day: 4 March) or None (infer one order from the whole column)."
    )


def _check_format(fmt, dayfirst) -> None:
    if fmt is None:
        return
    if not isinstance(fmt, str):
        raise InvalidParameterError(
            f"format={cut(fmt, 40)} ({type(fmt).__name__}) is not a strftime pattern; pass e.g. "
            "format='%d/%m/%Y %H:%M', format='ISO8601', or leave format=None to infer it."
        )
    if fmt == "mixed":
        raise InvalidParameterError(
            "format='mixed' guesses a format value by value, which reads 03/04/2025 and 15/04/2025 in "
            "different day/month orders. Pass one strftime pattern (e.g. format='%d/%m/%Y %H:%M'), "
            "format='ISO8601', or leave format=None to infer one format for the whole column."
        )
    if dayfirst is not None:
        raise InvalidParameterError(
            f"format={cut(fmt, 40)} and dayfirst={dayfirst!r} were both given; a format already fixes the "
            "order of day and month. Pass only one of them."
        )
    if fmt != ISO:
        if not _has_full_date(fmt):
            raise InvalidParameterError(
                f"format={cut(fmt, 40)} has no full date (it needs a year, a month and a day, e.g. %Y, %m "
                "and %d); partial dates or times alone are not timestamps. Pass a pattern with the full date."
            )
        try:
            pd.to_datetime(pd.Series(["2000"]), format=fmt, errors="coerce")
        except ValueError as err:
            raise InvalidParameterError(
                f"format={cut(fmt, 40)} is not a valid strftime pattern ({str(err)[:120]}); "
                "write it like '%d/%m/%Y %H:%M'."
            ) from None


def _has_full_date(fmt: str) -> bool:
    if "%c" in fmt or "%x" in fmt:
        return True
    year = any(d in fmt for d in ("%Y", "%y", "%G"))
    month = any(d in fmt for d in ("%m", "%b", "%B", "%j"))
    day = any(d in fmt for d in ("%d", "%j"))
    return year and month and day


def _date_order(fmt: str) -> str | None:
    """'dmy', 'mdy', 'ymd', 'ydm' for a pattern with numeric day and month, else None."""
    if fmt == ISO:
        return None
    d, m = fmt.find("%d"), fmt.find("%m")
    if d < 0 or m < 0:
        return None
    years = [i for i in (fmt.find("%Y"), fmt.find("%y")) if i >= 0]
    if years and min(years) < min(d, m):
        return "ymd" if m < d else "ydm"
    return "dmy" if d < m else "mdy"


def _swap(fmt: str) -> str | None:
    """The same pattern with day and month exchanged (only for day/month-first patterns)."""
    if _date_order(fmt) not in ("dmy", "mdy"):
        return None
    return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def _guesses(value: str) -> list[str]:
    """The strftime patterns pandas guesses for one value, month-first then day-first."""
    out = []
    for first in (False, True):
        text, short_year = value, False
        m = _SHORT_YEAR.match(value)
        if m:  # pandas does not guess two-digit years: guess on the four-digit spelling
            text = f"{m.group(1)}{m.group(2)}{m.group(3)}{m.group(2)}20{m.group(4)}{value[m.end():]}"
            short_year = True
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fmt = guess_datetime_format(text, dayfirst=first)
            except (ValueError, TypeError, OverflowError):
                fmt = None
        if fmt and short_year:
            fmt = fmt.replace("%Y", "%y", 1)
        if fmt:
            out.append(fmt)
    return out


def _candidates(sample: list[str], dayfirst) -> list[str]:
    """ISO 8601, then the patterns guessed from the sample (and their day/month swaps)."""
    found = [ISO]
    for value in sample:
        for fmt in _guesses(value):
            for cand in (fmt, _swap(fmt)):
                if cand and cand not in found:
                    found.append(cand)
    keep = []
    for fmt in found:
        order = _date_order(fmt)
        if order == "ydm" or (fmt != ISO and not _has_full_date(fmt)):
            continue
        if (dayfirst is True and order == "mdy") or (dayfirst is False and order == "dmy"):
            continue
        keep.append(fmt)
    return keep


def _fits(value: str, fmt: str) -> bool:
    """Whether one value parses with ``fmt``."""
    try:
        return bool(pd.to_datetime(pd.Series([value]), format=fmt, errors="coerce").notna().all())
    except ValueError:
        return False


def _date_parts(value: str) -> int:
    """How many of year, month, day a value spells (a rough count, for error messages)."""
    rest = _TIME.sub(" ", value)
    parts = sum(3 if len(g) >= 8 else 2 if len(g) == 6 else 1 for g in re.findall(r"\d+", rest))
    return parts + (1 if _MONTH.search(rest) else 0)


def _kind(value: str) -> str:
    """'relative', 'partial' or 'other': why a value is not a timestamp."""
    low = value.strip().lower()
    if low in _RELATIVE or _RELATIVE_WORDS.search(low):
        return "relative"
    if not re.search(r"\d", low) and not _MONTH.search(low):
        return "other"
    return "partial" if _date_parts(low) < 3 else "other"


def _arrow_strings(values: pd.Series):
    """The values as an Arrow string array (no copy for Arrow-backed text), or None."""
    import pyarrow as pa

    try:
        arr = pa.array(values, from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):
        return None
    return arr if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) else None


def _fast_iso(values: pd.Series) -> pd.Series | None:
    """All values through Arrow's strict ISO 8601 cast, or None when one of them does not fit.

    The cast reads only naive values with a full date (``2025-03-04``, ``2025-03-04 10:00``,
    ``2025-03-04T10:00:00.123456789``) and means by them what pandas means; it refuses
    ``2025``, ``now``, offsets and impossible dates, which then take the general path.
    On 5M values it takes a tenth of the time of ``pd.to_datetime``.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    first = _arrow_strings(values.iloc[:1])  # converting or failing on a long column is slow: try one first
    if first is None or len(first) == 0:
        return None
    try:
        pc.cast(first, pa.timestamp("ns"))
        arr = _arrow_strings(values)
        got = pc.cast(arr, pa.timestamp("ns")) if arr is not None else None
    except (pa.ArrowException, ValueError):
        return None
    if got is None:
        return None
    return got.to_pandas().set_axis(values.index)  # pd.Series(..., index=) would align, not relabel


def _to_datetime(values: pd.Series, fmt: str) -> tuple[pd.Series, bool]:
    """Parse with one format; True when differing UTC offsets were normalised to UTC."""
    try:
        return pd.to_datetime(values, format=fmt, errors="coerce"), False
    except ValueError:  # "Mixed timezones detected"
        return pd.to_datetime(values, format=fmt, errors="coerce", utc=True), True


def _not_timestamps(values: pd.Series, parsed: pd.Series, fmt: str) -> pd.Series:
    """Values pandas reads although they are not timestamps: 'now', 'today', partial ISO dates."""
    mask = values.isin(("now", "today"))  # pandas reads these with any format
    if fmt == ISO:  # ISO 8601 in pandas also reads '2025' and '2025-03'; a full date has >= 8 characters
        short = (values.str.len() < 10) & parsed.notna()
        if short.any():
            partial = [v for v in pd.unique(values[short]) if _date_parts(v) < 3]
            if partial:
                mask = mask | values.isin(partial)
    return mask


def _evaluate(values: pd.Series, fmt: str) -> tuple[pd.Series, bool]:
    """Parsed values (NaT where they do not fit ``fmt``) and whether offsets were mixed."""
    parsed, mixed = _to_datetime(values, fmt)
    bad = _not_timestamps(values, parsed, fmt)
    if bad.any():
        parsed = parsed.mask(bad)
    return parsed, mixed


def _sample(values: pd.Series) -> list[str]:
    """Up to ``_SAMPLE`` distinct values from positions spread over the column."""
    n = len(values)
    pos = np.unique(np.linspace(0, n - 1, num=min(n, 8 * _SAMPLE)).astype(np.int64))
    return list(dict.fromkeys(values.iloc[pos].tolist()))[:_SAMPLE]


# --------------------------------------------------------------------------- errors


def _zone_mix_check(values: pd.Series) -> None:
    """Refuse text that mixes values with a UTC offset and values without one."""
    tail = values.str.slice(-6)
    zoned = [u for u in pd.unique(tail) if isinstance(u, str) and _TZ_SUFFIX.search(u)]
    has_zone = tail.isin(zoned)
    n_zoned, n = int(has_zone.sum()), len(values)
    if 0 < n_zoned < n:
        ex_naive = cut(str(values[~has_zone].iloc[0]), 40)
        ex_zoned = cut(str(values[has_zone].iloc[0]), 40)
        raise TimestampError(
            f"the timestamp column mixes {n_zoned:,} values with a UTC offset (e.g. {ex_zoned}) and "
            f"{n - n_zoned:,} without (e.g. {ex_naive}); the naive ones are ambiguous. "
            "Give every value an offset, or strip them all and pass tz=..."
        )


def _bad_values_error(values: pd.Series, bad: pd.Series, *, fmt: str | None, given: bool) -> TimestampError:
    """The error for values that do not fit the column's one format (or no format at all)."""
    wrong = values[bad]
    n, n_fit = len(wrong), len(values) - len(wrong)
    rows = list(wrong.index[:5])
    counts = wrong.value_counts(sort=False)
    kinds = {"relative": 0, "partial": 0, "other": 0}
    first: dict[str, list[str]] = {k: [] for k in kinds}
    for value, count in zip(counts.index[:_MAX_CLASSIFIED], counts.to_numpy()[:_MAX_CLASSIFIED]):
        k = _kind(value)
        kinds[k] += int(count)
        if len(first[k]) < 3:
            first[k].append(value)
    at_least = "at least " if len(counts) > _MAX_CLASSIFIED else ""
    n_odd = kinds["relative"] + kinds["partial"]
    odd_examples = _examples(pd.Series(first["relative"] + first["partial"]), 3)
    need = ("A timestamp needs a year, a month and a day (a plain date such as '2025-03-04' is midnight); "
            "words like 'now' or 'today' change meaning with the day the log is read.")
    if n_odd == n and not at_least:
        return TimestampError(
            f"{n:,} timestamp value(s) are partial or relative dates, not timestamps, e.g. {_examples(wrong)} "
            f"at rows {rows}. {need} Fix or remove those rows."
        )
    if fmt is None:
        how = " (no single date format fits them)"
    elif given:
        how = f" with format={cut(fmt, 40)}"
    else:
        name = "ISO 8601" if fmt == ISO else repr(fmt)
        how = f" with the column's format, {name}, which fits the other {n_fit:,}"
    msg = f"{n:,} timestamp value(s) cannot be parsed{how}, e.g. {_examples(wrong)} at rows {rows}."
    if n_odd:
        msg += f" {at_least}{n_odd:,} of them are partial or relative dates, not timestamps (e.g. {odd_examples}). {need}"
    others = sorted({g for v in first["other"] for g in _guesses(v)
                     if g != fmt and _date_order(g) != "ydm" and _fits(v, g)})
    if others and fmt is not None:
        msg += f" Others look like {', '.join(map(repr, others[:2]))}: a column must use one format throughout."
    if first["other"] and all(v.strip().lstrip("-").replace(".", "", 1).isdigit() for v in first["other"]):
        msg += " Numbers are not dates: convert epoch values with pd.to_datetime(col, unit='s') first."
    fix = ("Fix or remove those rows, or pass a format= that matches every value." if given else
           "Fix or remove those rows, or pass format='%d/%m/%Y %H:%M' (a strftime pattern) that matches them.")
    return TimestampError(f"{msg} {fix}")


def _ambiguous_error(values: pd.Series, fmt_a: str, parsed_a: pd.Series, fmt_b: str,
                     parsed_b: pd.Series) -> TimestampError:
    dmy, mdy = (fmt_a, fmt_b) if _date_order(fmt_a) == "dmy" else (fmt_b, fmt_a)
    by_day, by_month = (parsed_a, parsed_b) if dmy == fmt_a else (parsed_b, parsed_a)
    differ = by_day.ne(by_month)
    shown, seen = [], set()
    for pos in np.flatnonzero(differ.to_numpy())[:200]:
        value = values.iloc[pos]
        if value in seen:
            continue
        seen.add(value)
        d, m = by_day.iloc[pos], by_month.iloc[pos]
        shown.append(f"{cut(value, 40)} is {d.day} {d:%B %Y} day-first but {m.day} {m:%B %Y} month-first")
        if len(shown) == 3:
            break
    return TimestampError(
        f"the timestamp column is ambiguous: all {len(values):,} values read both day-first ({dmy!r}) and "
        f"month-first ({mdy!r}), because no day is above 12, and the two readings differ: "
        f"{'; '.join(shown)}. Pass dayfirst=True (day before month) or dayfirst=False, or format={dmy!r}."
    )


# --------------------------------------------------------------------------- parsers


def _parse_text(values: pd.Series, fmt: str | None, dayfirst) -> tuple[pd.Series, list[str]]:
    """Parse non-null strings with one format for the column; notes on offsets and the format."""
    if fmt in (None, ISO):  # the fast path: naive ISO 8601 with a full date, as most logs are written
        fast = _fast_iso(values)
        if fast is not None:
            return fast, []
    values = values.str.strip()
    if fmt is not None:
        try:
            parsed, mixed = _evaluate(values, fmt)
        except ValueError as err:
            raise InvalidParameterError(f"format={cut(fmt, 40)} cannot be used: {str(err)[:120]}.") from None
        chosen, inferred = fmt, False
    else:
        sample = pd.Series(_sample(values), dtype=values.dtype)
        cands = _candidates(sample.tolist(), dayfirst)
        scores = {}
        for cand in cands:
            try:
                got, _ = _evaluate(sample, cand)
                scores[cand] = int(got.notna().sum())
            except ValueError:
                scores[cand] = 0
        best = max(scores.values())
        if best == 0:
            raise _bad_values_error(values, pd.Series(True, index=values.index), fmt=None, given=False)
        top = [c for c in cands if scores[c] == best]  # ISO first: it wins ties
        tried: dict[str, tuple[pd.Series, bool]] = {}
        chosen = None
        for cand in top[:_MAX_FULL]:
            tried[cand] = _evaluate(values, cand)
            if tried[cand][0].notna().all():
                chosen = cand
                break
        if chosen is None:
            closest = min(tried, key=lambda c: int(tried[c][0].isna().sum()))
            parsed, mixed = tried[closest]
            if mixed:
                _zone_mix_check(values)
            raise _bad_values_error(values, parsed.isna(), fmt=closest, given=False)
        parsed, mixed = tried[chosen]
        other = _swap(chosen)
        if other in top:  # both day/month orders fit the sample: do both fit the column?
            parsed_o, _ = _evaluate(values, other)
            if parsed_o.notna().all() and not parsed_o.equals(parsed):
                raise _ambiguous_error(values, chosen, parsed, other, parsed_o)
        inferred = True
    if mixed:
        _zone_mix_check(values)
    bad = parsed.isna()
    if bad.any():
        raise _bad_values_error(values, bad, fmt=chosen, given=not inferred)
    notes = ["mixed UTC offsets normalised to UTC"] if mixed else []
    if inferred and chosen != ISO:
        order = {"dmy": "day-first", "mdy": "month-first"}.get(_date_order(chosen) or "")
        notes.append(f"dates read {order} ({chosen!r})" if order else f"dates read as {chosen!r}")
    return parsed, notes


def _parse_objects(values: pd.Series) -> tuple[pd.Series, list[str]]:
    """Parse non-null ``datetime`` / ``date`` / ``numpy.datetime64`` objects."""
    try:  # errors="coerce" would turn the values of a second zone into NaT
        return pd.to_datetime(values, errors="raise"), []
    except (ValueError, TypeError):  # aware values with different zones, or aware mixed with naive
        aware = values.map(lambda v: getattr(v, "tzinfo", None) is not None).astype(bool)
        if not aware.all():
            raise TimestampError(
                f"the timestamp column mixes {int(aware.sum()):,} datetime values with a time zone (e.g. "
                f"{cut(str(values[aware].iloc[0]), 40)}) and {int((~aware).sum()):,} without (e.g. "
                f"{cut(str(values[~aware].iloc[0]), 40)}); the naive ones are ambiguous. Give every value a zone, "
                "or none and pass tz=..."
            ) from None
        try:
            return pd.to_datetime(values, errors="raise", utc=True), ["mixed UTC offsets normalised to UTC"]
        except (ValueError, TypeError):
            return pd.to_datetime(values, errors="coerce", utc=True), ["mixed UTC offsets normalised to UTC"]


def _settle_unit(ts: pd.Series) -> pd.Series:
    """Microseconds, or nanoseconds when some value has digits below the microsecond."""
    if ts.dt.unit == "ns" and (ts.dt.nanosecond > 0).any():
        return ts
    return ts.dt.as_unit("us")


def parse_timestamps(raw: pd.Series, *, tz=None, format: str | None = None,
                     dayfirst: bool | None = None) -> tuple[pd.Series, str]:
    """Parse a timestamp column into tz-aware instants, with one format for the whole column.

    Parameters
    ----------
    raw : Series of text, ``datetime`` / ``date`` objects or datetime64 values (it is not
        modified). Missing values stay missing (NaT).
    tz : str or datetime.tzinfo, optional
        Zone of naive values (default UTC); refused when the values carry a zone or offsets.
    format : str, optional
        strftime pattern (or ``"ISO8601"``) for text. By default ISO 8601 is tried, then
        one pattern inferred from the values; it must fit every value.
    dayfirst : bool, optional
        For inferred patterns: True reads ``03/04/2025`` as 3 April, False as 4 March, None
        infers the order and refuses a column that reads both ways.

    Returns
    -------
    (Series, str)
        The instants (datetime64 ``us``, or ``ns`` when some value has sub-microsecond
        digits; see :func:`drop_sub_microseconds`) with the input's index, and a note on
        the zone handling and the inferred format, for ``EventLog.summary()``.

    Raises
    ------
    TimestampError
        Values that fit no single format, partial or relative values, ambiguous day/month
        order, numbers, values with and without zones, local times that do not exist.
    InvalidParameterError
        A ``tz``, ``format`` or ``dayfirst`` that cannot be used.

    Examples
    --------
    >>> import pandas as pd
    >>> ts, note = parse_timestamps(pd.Series(["2025-03-04 10:00", None]), tz="Europe/Paris")
    >>> ts.tolist(), note
    ([Timestamp('2025-03-04 10:00:00+0100', tz='Europe/Paris'), NaT], 'naive timestamps taken as Europe/Paris')
    >>> parse_timestamps(pd.Series(["03/04/2025"]), dayfirst=False)[0].iloc[0]
    Timestamp('2025-03-04 00:00:00+0000', tz='UTC')
    """
    _check_tz(tz)
    _check_dayfirst(dayfirst)
    _check_format(format, dayfirst)
    dayfirst = None if dayfirst is None else bool(dayfirst)
    index = raw.index
    s = raw.reset_index(drop=True)
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(s.cat.categories.dtype)
    if isinstance(s.dtype, pd.ArrowDtype):
        import pyarrow as pa

        if pa.types.is_timestamp(s.dtype.pyarrow_dtype) or pa.types.is_date(s.dtype.pyarrow_dtype):
            s = pd.to_datetime(s)
    present = s.notna()
    notes: list[str] = []
    if isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(s.dtype):
        parsed = s
    elif not present.any():
        parsed = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    else:
        kind = "number" if pd.api.types.is_numeric_dtype(s.dtype) else pd.api.types.infer_dtype(s, skipna=True)
        if kind == "number" or kind in _NUMBER_KINDS:
            raise TimestampError(
                f"the timestamp column holds numbers ({s.dtype}), not dates. Convert it first, e.g. "
                "pd.to_datetime(df[col], unit='s'), so the unit is not guessed."
            )
        keep = None if present.all() else present.to_numpy()
        values = (s if keep is None else s[keep]).set_axis(index if keep is None else index[keep])  # rows in messages are the caller's labels
        if kind == "string":
            got, notes = _parse_text(values, format, dayfirst)
        elif kind in ("datetime", "datetime64", "date"):
            got, notes = _parse_objects(values)
            if got.isna().any():
                raise _bad_values_error(values.astype(str), got.isna(), fmt=None, given=False)
        else:
            types = values.iloc[:100_000].map(lambda v: type(v).__name__).value_counts()
            what = (f"holds {types.index[0]} values" if len(types) == 1 else "mixes value types (" + ", ".join(
                f"{n:,} {t}" for t, n in types.items()) + (" in its first 100,000 values" if len(values) > 100_000
                                                         else "") + ")")
            raise TimestampError(
                f"the timestamp column {what}, e.g. {_examples(values)}; it needs dates, all of one kind (text "
                "in one format, or datetime values). Convert it first, e.g. with pd.to_datetime(...) and a format=."
            )
        parsed = got.set_axis(s.index) if keep is None else got.set_axis(s.index[keep]).reindex(s.index)
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        if tz is not None:
            raise InvalidParameterError(
                f"tz={cut(tz, 40)} was given but the timestamps already carry a zone or UTC offsets "
                f"({parsed.dtype.tz}); drop tz=... (it only applies to naive timestamps)."
            )
        head = notes.pop(0) if notes and notes[0].startswith("mixed UTC") else (
            f"timezone-aware input kept ({parsed.dtype.tz})")
    else:
        target = tz if tz is not None else "UTC"
        localized = parsed.dt.tz_localize(target, ambiguous="NaT", nonexistent="NaT")
        lost = localized.isna() & parsed.notna()
        if lost.any():
            raise TimestampError(
                f"{int(lost.sum()):,} naive timestamp(s) do not exist or are ambiguous in {target} "
                f"(daylight-saving change), e.g. {list(parsed[lost].astype(str).iloc[:3])}. "
                "Give the values UTC offsets, or pass tz='UTC'."
            )
        parsed = localized
        head = f"naive timestamps taken as {target}"
    return _settle_unit(parsed).set_axis(index), "; ".join([head, *notes])


def drop_sub_microseconds(ts: pd.Series) -> pd.Series:
    """Reduce timestamps to microseconds, warning when digits below the microsecond are lost.

    Call it after the events are ordered on the full precision: the order stays right,
    only events less than a microsecond apart then share a timestamp.

    Examples
    --------
    >>> import pandas as pd, warnings
    >>> ts = pd.Series(pd.to_datetime(["2025-01-01 10:00:00.000000300"])).dt.tz_localize("UTC")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     out = drop_sub_microseconds(ts)
    >>> str(out.dt.unit), "sub-microsecond" in str(caught[0].message)
    ('us', True)
    """
    if ts.dt.unit != "ns":
        return ts.dt.as_unit("us")
    fine = ts.dt.nanosecond > 0
    n = int(fine.sum())
    if n:
        warn(
            f"{n:,} timestamp(s) have sub-microsecond digits (e.g. {str(ts[fine].iloc[0])!r}); journeylab keeps "
            "microseconds, so those digits were dropped after the events were ordered on the full precision "
            "(their order is kept; events less than 1 microsecond apart now share a timestamp). Round the "
            "column to microseconds first (ts.dt.floor('us')) to silence this.", DataQualityWarning)
    return ts.dt.floor("us").dt.as_unit("us")
