"""Parameter checking, declared once per kind of parameter.

A public function declares what its arguments are, and :func:`checked` checks them (and
normalises them: ``"3d"`` becomes a ``Timedelta``, a seed a ``Generator``...) before the body
runs, with the same message everywhere::

    @checked(log=LOG, confidence=CONFIDENCE, n_boot=Int(minimum=10, example=500), random_state=RNG)
    def attribution(log, *, confidence=0.95, n_boot=500, random_state=None): ...

A kind is a callable ``kind(value, name) -> value``. The kinds that need the data layer (an
:class:`~journeylab.EventLog`, a :class:`~journeylab.Journey`) are registered by it
(:func:`register`), so this module imports nothing above it. Defaults are not checked: only the
values a caller passes.

>>> @checked(k=Int(minimum=2, example=4), confidence=CONFIDENCE)
... def f(*, k=3, confidence=0.95):
...     return k, confidence
>>> f(k=5)
(5, 0.95)
>>> f(k=1)
Traceback (most recent call last):
...
journeylab.exceptions.InvalidParameterError: k=1 must be a whole number >= 2, e.g. k=4.
"""

from __future__ import annotations

import functools
import inspect
import numbers
import re
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from ..exceptions import InvalidParameterError, SchemaError
from .formatting import cut
from .names import closest, did_you_mean

__all__ = [
    "checked", "register", "kind", "Int", "IntPair", "AutoOr", "Instance", "Real", "Choice", "Optional", "Texts",
    "BOOL", "TEXT", "CONFIDENCE", "SHARE", "DURATION", "RNG", "RANDOM_STATE", "LOG", "JOURNEY", "to_timedelta",
    "parse_duration", "BARE_NUMBER", "rng", "analysis_date",
]


class Kind:
    """A kind of parameter: ``kind(value, name)`` returns the checked (normalised) value or raises."""

    def __call__(self, value, name: str):  # pragma: no cover - abstract
        raise NotImplementedError


class Int(Kind):
    """A whole number in ``[minimum, maximum]`` (``bool`` is refused)."""

    def __init__(self, minimum: int | None = 1, maximum: int | None = None, *, example: int | None = None):
        self.minimum, self.maximum = minimum, maximum
        self.example = example if example is not None else (minimum if minimum is not None else 1)

    def __call__(self, value, name):
        ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
        if ok and self.minimum is not None and value < self.minimum:
            ok = False
        if ok and self.maximum is not None and value > self.maximum:
            ok = False
        if not ok:
            if self.maximum is None:
                bounds = f">= {self.minimum}" if self.minimum is not None else ""
            elif self.minimum is None:
                bounds = f"<= {self.maximum}"
            else:
                bounds = f"between {self.minimum} and {self.maximum}"
            rule = f"a whole number {bounds}".rstrip()
            raise InvalidParameterError(f"{name}={cut(value)} must be {rule}, e.g. {name}={self.example}.")
        return int(value)


class IntPair(Kind):
    """A pair ``(low, high)`` of whole numbers with ``minimum <= low <= high`` (``<= maximum``) -> a tuple.

    ``names`` name the two numbers in the message, e.g. ``("k_min", "k_max")``.

    >>> IntPair(2, names=("k_min", "k_max"), example=(2, 8))((1, 3), "k_range")
    Traceback (most recent call last):
    ...
    journeylab.exceptions.InvalidParameterError: k_range=(1, 3) must be a pair (k_min, k_max) with 2 <= k_min <= k_max, e.g. k_range=(2, 8).
    """

    def __init__(self, minimum: int = 1, maximum: int | None = None, *, names: tuple[str, str] = ("low", "high"),
                 example: tuple[int, int] = (1, 2)):
        self.minimum, self.maximum, self.names, self.example = minimum, maximum, names, example

    def __call__(self, value, name):
        ok = (isinstance(value, (tuple, list)) and len(value) == 2
              and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value)
              and self.minimum <= value[0] <= value[1] and (self.maximum is None or value[1] <= self.maximum))
        if not ok:
            lo, hi = self.names
            top = f" <= {self.maximum}" if self.maximum is not None else ""
            raise InvalidParameterError(f"{name}={cut(value)} must be a pair ({lo}, {hi}) with {self.minimum} <= {lo} "
                                        f"<= {hi}{top}, e.g. {name}={self.example}.")
        return (int(value[0]), int(value[1]))


class AutoOr(Kind):
    """The word ``"auto"`` (or another ``word``), or a value of the wrapped kind.

    ``what`` describes the other values and ``meaning`` what the word does, for the message.

    >>> n = AutoOr(Int(minimum=1, example=4), what="a whole number >= 1", meaning="picks k")
    >>> n("auto", "n_clusters"), n(3, "n_clusters")
    ('auto', 3)
    >>> n("many", "n_clusters")
    Traceback (most recent call last):
    ...
    journeylab.exceptions.InvalidParameterError: n_clusters='many' is not allowed; give a whole number >= 1, or 'auto' (picks k).
    """

    def __init__(self, inner, *, what: str, meaning: str = "", word: str = "auto"):
        self.inner, self.what, self.meaning, self.word = inner, what, meaning, word

    def __call__(self, value, name):
        if isinstance(value, str) and value == self.word:
            return value
        word = repr(self.word) + (f" ({self.meaning})" if self.meaning else "")
        if isinstance(value, str):
            raise InvalidParameterError(f"{name}={cut(value)} is not allowed; give {self.what}, or {word}.")
        try:
            return _resolve(self.inner)(value, name)
        except InvalidParameterError as err:
            raise InvalidParameterError(f"{err} Or pass {name}={word}.") from None


class Instance(Kind):
    """An instance of ``cls``; ``how`` says where one comes from, e.g. ``"(from segment_by or cluster_journeys)"``.

    >>> Instance(int, how="(a count)")("3", "n")
    Traceback (most recent call last):
    ...
    journeylab.exceptions.InvalidParameterError: n must be a int (a count), got str '3'.
    """

    def __init__(self, cls: type, *, how: str = ""):
        self.cls, self.how = cls, how

    def __call__(self, value, name):
        if not isinstance(value, self.cls):
            how = f" {self.how}" if self.how else ""
            raise InvalidParameterError(f"{name} must be a {self.cls.__name__}{how}, got {type(value).__name__} "
                                        f"{cut(value, 60)}.")
        return value


class Real(Kind):
    """A finite real number, optionally bounded (``low_open``/``high_open`` exclude the bound)."""

    def __init__(self, low=None, high=None, *, low_open: bool = False, high_open: bool = False, example=None,
                 what: str | None = None):
        self.low, self.high, self.low_open, self.high_open = low, high, low_open, high_open
        self.example, self.what = example, what

    def _inside(self, v: float) -> bool:
        if not np.isfinite(v):
            return False
        if self.low is not None and (v < self.low or (self.low_open and v == self.low)):
            return False
        if self.high is not None and (v > self.high or (self.high_open and v == self.high)):
            return False
        return True

    def __call__(self, value, name):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not self._inside(float(value)):
            if self.what:
                rule = self.what
            elif self.low is not None and self.high is not None:
                rule = f"a number between {self.low} and {self.high}"
            elif self.low is not None:
                rule = f"a number {'>' if self.low_open else '>='} {self.low}"
            elif self.high is not None:
                rule = f"a number {'<' if self.high_open else '<='} {self.high}"
            else:
                rule = "a finite number"
            example = f", e.g. {self.example}" if self.example is not None else ""
            raise InvalidParameterError(f"{name}={cut(value)} must be {rule}{example}.")
        return float(value)


class Choice(Kind):
    """One of a fixed set of values (the message lists them and the closest)."""

    def __init__(self, *choices):
        self.choices = tuple(choices)

    def __call__(self, value, name):
        try:
            ok = value in self.choices
        except TypeError:  # unhashable
            ok = False
        if not ok:
            raise InvalidParameterError(f"{name}={cut(value)} is not allowed; use one of {list(self.choices)}."
                                        + (did_you_mean(value, map(str, self.choices)) if isinstance(value, str)
                                           else ""))
        return value


class Optional(Kind):
    """``None``, or a value of the wrapped kind."""

    def __init__(self, inner):
        self.inner = inner

    def __call__(self, value, name):
        return None if value is None else _resolve(self.inner)(value, name)


class Texts(Kind):
    """One text or several (a list, tuple or set of texts) -> a tuple of texts, none empty."""

    def __init__(self, *, example: str = "['a', 'b']", allow_empty: bool = False):
        self.example, self.allow_empty = example, allow_empty

    def __call__(self, value, name):
        if isinstance(value, str):
            items = (value,)
        elif isinstance(value, Iterable) and not isinstance(value, (bytes, dict, pd.DataFrame)):
            items = tuple(value)
        else:
            items = None
        if items is None or not all(isinstance(v, str) and v for v in items) or (not items and not self.allow_empty):
            raise InvalidParameterError(f"{name}={cut(value)} must be a name or a list of names, "
                                        f"e.g. {name}={self.example}.")
        return items


def _bool(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(f"{name}={cut(value)} must be True or False.")
    return bool(value)


def _text(value, name):
    if not isinstance(value, str) or not value:
        raise InvalidParameterError(f"{name}={cut(value)} must be a non-empty text.")
    return value


#: A number written without a unit ('5', '-3.5', '.5'): never read as a duration, its unit would be a guess.
BARE_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)")
# "3d", "2w" and "12H" are house spellings; pandas 3 deprecates the lowercase day and week, uppercase hour
_UNIT_FIX = re.compile(r"(?<=[\d.\s])(d|w|H)(?![A-Za-z])")
_MAX_DURATION_TEXT = 100


def parse_duration(text: str) -> pd.Timedelta:
    """The one reader of durations written as text: ``"30min"``, ``"12h"``, ``"3d"``, ``"2w"``, ``"1d12h"``,
    ``"2 days"``, signed (``"-36h"``). A ``ValueError`` saying why when the text is none.

    :func:`to_timedelta` (parameters) and the journey definitions (``stall_after``, goal windows,
    durations in conditions) read durations with it, each with its own message around it.

    Parameters
    ----------
    text : str
        The duration; at most 100 characters. A bare number (``"5"``) is refused.

    Returns
    -------
    pandas.Timedelta
        The duration (negative when the text has a minus sign).

    Examples
    --------
    >>> parse_duration("1d12h"), parse_duration("-2w")
    (Timedelta('1 days 12:00:00'), Timedelta('-14 days +00:00:00'))
    >>> parse_duration("5")
    Traceback (most recent call last):
    ...
    ValueError: a bare number
    """
    s = text.strip()
    if len(s) > _MAX_DURATION_TEXT:
        raise ValueError(f"longer than {_MAX_DURATION_TEXT} characters")
    if BARE_NUMBER.fullmatch(s):
        raise ValueError("a bare number")
    try:
        td = pd.Timedelta(_UNIT_FIX.sub(lambda m: {"d": "D", "w": "W", "H": "h"}[m.group(1)], s))
    except (ValueError, TypeError, OverflowError) as err:
        raise ValueError(str(err)) from None
    if pd.isna(td):
        raise ValueError("not a time")
    return td


def to_timedelta(value, *, name: str = "duration", allow_zero: bool = False) -> pd.Timedelta:
    """Parse a duration given as a string (``"30min"``, ``"3d"``, ``"2 days"``) or Timedelta.

    A bare number is refused: its unit would be a guess. Text is read by :func:`parse_duration`.

    >>> to_timedelta("30min")
    Timedelta('0 days 00:30:00')
    >>> to_timedelta(3)
    Traceback (most recent call last):
    ...
    journeylab.exceptions.InvalidParameterError: duration=3 is a bare number; ...
    """
    if isinstance(value, pd.Timedelta):
        td = value
    elif isinstance(value, np.timedelta64) or (hasattr(value, "total_seconds") and not isinstance(value, (int, float))):
        try:
            td = pd.Timedelta(value)
        except (ValueError, OverflowError):
            raise InvalidParameterError(f"{name}={cut(value)} is too long a duration (the longest is about 292 "
                                        "years).") from None
    elif isinstance(value, (bool, numbers.Number)):
        raise InvalidParameterError(
            f"{name}={cut(value)} is a bare number; give a duration with a unit, "
            f"e.g. {name}='30min', '3d' or pd.Timedelta(hours=2)."
        )
    elif isinstance(value, str):
        text = value.strip()
        if BARE_NUMBER.fullmatch(text):
            raise InvalidParameterError(
                f"{name}={cut(value)} is a bare number; give a duration with a unit, e.g. '{cut(text, 20, quote=False)}d'."
            )
        try:
            td = parse_duration(text)
        except ValueError:
            raise InvalidParameterError(
                f"{name}={cut(value)} is not a duration; write it like '30min', '12h', '3d' or '2 days'."
            ) from None
    else:
        raise InvalidParameterError(
            f"{name}={cut(value)} is not a duration; write it like '30min', '12h', '3d' or pd.Timedelta(days=3)."
        )
    if pd.isna(td) or td < pd.Timedelta(0) or (td == pd.Timedelta(0) and not allow_zero):
        raise InvalidParameterError(f"{name}={cut(value)} must be a positive duration, e.g. '30min' or '3d'.")
    return td


def _duration(value, name):
    return to_timedelta(value, name=name)


def rng(random_state, name: str = "random_state") -> np.random.Generator:
    """A numpy Generator from ``None``, a seed, a SeedSequence, a Generator or a legacy RandomState."""
    if random_state is None or isinstance(random_state, np.random.SeedSequence) or (
            isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool) and random_state >= 0):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    raise InvalidParameterError(f"{name}={cut(random_state)} must be None, a whole number >= 0 or a numpy "
                                "Generator.")


def _random_state(value, name):
    """scikit-learn's kinds of random_state (None, a seed, a RandomState), passed on unchanged."""
    if value is None or isinstance(value, (np.random.RandomState, np.random.Generator)) or (
            isinstance(value, numbers.Integral) and not isinstance(value, bool) and 0 <= value < 2**32):
        return value
    raise InvalidParameterError(f"{name}={cut(value)} must be None, a whole number between 0 and 2**32 - 1, "
                                "or a numpy RandomState / Generator.")


#: Kinds the data layer registers (it sits above this module): "log", "journey".
_REGISTRY: dict[str, Callable] = {}


def register(name: str, checker: Callable) -> None:
    """Register the checker of a kind defined above this layer (done by ``log.py`` and ``journey.py``)."""
    _REGISTRY[name] = checker


class _Registered(Kind):
    def __init__(self, name: str):
        self.name = name

    def __call__(self, value, name):
        try:
            check = _REGISTRY[self.name]
        except KeyError:  # pragma: no cover - the package __init__ imports log and journey
            raise RuntimeError(f"the '{self.name}' parameter kind is not registered; import journeylab first") from None
        return check(value, name)


BOOL: Callable = _bool
TEXT: Callable = _text
#: A confidence level, strictly between 0 and 1.
CONFIDENCE = Real(0, 1, low_open=True, high_open=True, example=0.95, what="a number between 0 and 1")
#: A share, in [0, 1].
SHARE = Real(0, 1, example=0.5, what="a share between 0 and 1")
DURATION: Callable = _duration
#: A random_state turned into a numpy Generator (for journeylab's own draws).
RNG: Callable = lambda value, name: rng(value, name)  # noqa: E731
#: A random_state passed on to scikit-learn unchanged.
RANDOM_STATE: Callable = _random_state
LOG = _Registered("log")
JOURNEY = _Registered("journey")


def kind(spec) -> Callable:
    """The checker of a spec: a :class:`Kind`, a callable ``(value, name) -> value``, or a registered name."""
    return _resolve(spec)


def _resolve(spec) -> Callable:
    if isinstance(spec, str):
        return _Registered(spec)
    if callable(spec):
        return spec
    raise TypeError(f"not a parameter kind: {spec!r}")  # pragma: no cover - a programming error


def checked(**kinds) -> Callable:
    """Decorator: check the named arguments by kind before the function runs (defaults are trusted).

    The checked value replaces the argument (e.g. a duration text becomes a Timedelta). The
    decorated function keeps its signature and docstring.
    """

    def decorate(fn):
        sig = inspect.signature(fn)
        unknown = [n for n in kinds if n not in sig.parameters]
        if unknown:  # pragma: no cover - a programming error
            raise TypeError(f"@checked names parameters {fn.__name__} does not have: {unknown}")
        checkers = {n: _resolve(k) for n, k in kinds.items()}

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            bound = sig.bind(*args, **kwargs)
            for n, check in checkers.items():
                if n in bound.arguments:
                    bound.arguments[n] = check(bound.arguments[n], n)
            return fn(*bound.args, **bound.kwargs)

        wrapper.__checked__ = dict(kinds)
        return wrapper

    return decorate
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




# --------------------------------------------------------------------------- shares and activities (group A)

__all__ += ["Share", "activity_names"]


class Share(Kind):
    """A share in ``[0, 1]`` (``(0, 1]`` with ``allow_zero=False``); a number in ``(1, 100]`` gets the advice
    that it looks like a percentage.

    ``advice`` ends the message; ``{name}`` is replaced by the parameter's name.

    >>> Share(allow_zero=False)(0.8, "coverage")
    0.8
    >>> Share(allow_zero=False)(80, "coverage")
    Traceback (most recent call last):
    ...
    journeylab.exceptions.InvalidParameterError: coverage=80 is outside (0, 1] (a percentage? use 0.8); give a share of the log, e.g. coverage=0.8 keeps 80%.
    """

    def __init__(self, *, allow_zero: bool = True, advice: str = "give a share of the log, e.g. {name}=0.8 keeps 80%"):
        self.allow_zero, self.advice = allow_zero, advice

    def __call__(self, value, name):
        real = isinstance(value, numbers.Real) and not isinstance(value, bool)
        v = float(value) if real else float("nan")
        if real and (0.0 <= v <= 1.0 if self.allow_zero else 0.0 < v <= 1.0):
            return v
        low = "[0, 1]" if self.allow_zero else "(0, 1]"
        hint = f" (a percentage? use {v / 100:g})" if real and 1 < v <= 100 else ""
        raise InvalidParameterError(f"{name}={cut(value)} is outside {low}{hint}; {self.advice.format(name=name)}.")


def activity_names(log, value, name: str) -> tuple[str, ...]:
    """The activity names ``value`` (one name, or a list of names) checked against ``log.activities``.

    An unknown name gets the closest names and the activities of the log; an empty list is refused.
    ``None`` gives an empty tuple.

    >>> import journeylab as jl
    >>> log = jl.datasets.load_example()
    >>> activity_names(log, "decide", "anchor")
    ('decide',)
    >>> activity_names(log, "decyde", "anchor")
    Traceback (most recent call last):
    ...
    journeylab.exceptions.InvalidParameterError: anchor='decyde' is not an activity of the log. Did you mean 'decide'? Activities (most frequent first): [...].
    """
    if value is None:
        return ()
    if isinstance(value, str):
        values = (value,)
    elif isinstance(value, Iterable) and not isinstance(value, (bytes, dict, pd.DataFrame)):
        values = tuple(value)
    else:
        raise InvalidParameterError(f"{name}={cut(value)} must be an activity name or a list of them.")
    if not values:
        raise InvalidParameterError(f"{name}=[] is empty; name at least one activity (or leave {name}=None).")
    acts = log.activities
    known = set(acts)
    for v in values:
        if not isinstance(v, str) or v not in known:
            shown = list(acts[:12]) + (["..."] if len(acts) > 12 else [])
            close = did_you_mean(v, acts) if isinstance(v, str) else ""
            raise InvalidParameterError(f"{name}={cut(v)} is not an activity of the log.{close} "
                                        f"Activities (most frequent first): {cut(shown, 400)}.")
    return values


# --------------------------------------------------------------------------- columns of a log (group D)

__all__ += ["log_column"]


def log_column(log, value, name: str) -> str:
    """``value`` checked as the name of a column of ``log`` (the message gives the closest name and the columns).

    Parameters
    ----------
    log : EventLog
        The log whose columns are allowed.
    value : str
        The column name a caller gave.
    name : str
        The parameter's name, for the message.

    Returns
    -------
    str
        ``value``.

    Examples
    --------
    >>> import journeylab as jl
    >>> log = jl.datasets.load_example()
    >>> log_column(log, "resource", "by")
    'resource'
    >>> log_column(log, "cost", "by")
    Traceback (most recent call last):
    ...
    journeylab.exceptions.SchemaError: by='cost' is not a column of the log. Closest match: 'Costs'. ...
    """
    if not isinstance(value, str):
        raise InvalidParameterError(f"{name}={cut(value)} must be the name of a column of the log (a str).")
    columns = list(log.columns)
    if value not in columns:
        near = closest(value, columns, n=1)
        near_txt = f" Closest match: {near[0]!r}." if near else ""
        raise SchemaError(
            f"{name}={cut(value)} is not a column of the log.{near_txt} Available: {cut(columns, 300)}. "
            f"Pass {name}=... with one of them (role columns have canonical names: 'channel', 'value', ...)."
        )
    return value
