"""Conditions on event attributes, as written in journey definitions and rules.

Size: about 660 lines: one condition language read in one place - its parser, its evaluation in pandas
and its compilation into an engine's expressions (which must agree with the evaluation line by line).

A condition reads like ``amount > 50 and channel == 'web'``: a column, an operator
(``==, !=, >, >=, <, <=, in, not in``) and a literal (a number, signed or not: ``-3.5``;
quoted text, which is also how dates and durations are written: ``'2025-01-31'``, ``'2d'``;
true/false; or a list for ``in``), joined with ``and``. The text is parsed by a small
parser of journeylab's own; nothing is ever evaluated as code, and any text gives
conditions or a :class:`~journeylab.exceptions.JourneyDefinitionError` that says why.

>>> from journeylab.conditions import parse_conditions
>>> [str(c) for c in parse_conditions("amount > 50 and channel == 'web'")]
['amount > 50', "channel == 'web'"]
>>> parse_conditions("delay >= -3.5 and wait > '2d'")
(Condition('delay >= -3.5'), Condition("wait > '2d'"))

In memory a condition is evaluated on a DataFrame (:meth:`Condition.matches`); for a log that lives in
an engine (DuckDB, Spark) :func:`condition_expr` compiles conditions into one Ibis boolean expression with
the same result, or says (:class:`CannotCompile`) that the rows must be fetched and matched in pandas.
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
import operator as _operator
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._core.formatting import cut, duration_spec
from ._core.names import closest, did_you_mean
from ._core.results import FrozenMap
from ._core.validation import parse_duration
from .exceptions import JourneyDefinitionError, SchemaError

__all__ = ["Condition", "parse_conditions", "FrozenMap", "OPERATORS", "GOAL_TYPES", "MILESTONE_KINDS", "CannotCompile",
           "condition_expr"]

GOAL_TYPES = ("purchase", "engagement", "loyalty", "onboarding", "notification", "custom")
#: Milestone kinds.
MILESTONE_KINDS = ("positive", "negative")
#: Condition operators.
OPERATORS = ("==", "!=", ">", ">=", "<", "<=", "in", "not in")

_CONDITION_HELP = "A condition looks like: amount > 50 and channel == 'web' (operators: " + ", ".join(OPERATORS) + ")"
_COMPARE = {
    "==": _operator.eq,
    "!=": _operator.ne,
    ">": _operator.gt,
    ">=": _operator.ge,
    "<": _operator.lt,
    "<=": _operator.le,
}
_KEYWORDS = {"and", "or", "not", "in", "true", "false"}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


# --------------------------------------------------------------------------- small helpers


def _fail(where: str, message: str) -> JourneyDefinitionError:
    return JourneyDefinitionError(f"{where}: {message}" if where else message)


def _text(value, where: str, what: str = "name") -> str:
    """A non-empty string, or a clear error (YAML turns `yes` into True, `404` into 404)."""
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, str):
        raise _fail(where, f"the {what} is empty; give a non-empty text.")
    hint = " (quote it in YAML, e.g. '404' or 'yes')" if isinstance(value, (bool, int, float)) else ""
    kind = ("a boolean" if isinstance(value, bool) else "a number" if isinstance(value, numbers.Number)
            else "a list" if isinstance(value, (list, tuple)) else "a mapping" if isinstance(value, Mapping)
            else f"a {type(value).__name__}")
    raise _fail(where, f"{what} {cut(value)} is {kind}, not text{hint}.")


#: Transitional name (issue 14): the exact duration text is :func:`journeylab._core.formatting.duration_spec`.
_format_duration = duration_spec


# --------------------------------------------------------------------------- conditions


@dataclass(frozen=True)
class _Token:
    kind: str  # name, col, num, str, op, punct, end
    value: Any
    pos: int
    text: str


_DURATION_HELP = "a duration is quoted text with a unit, e.g. '2d', '36h', '90min' or '1d12h'"
#: Text that looks like a duration written without quotes ('2d', '-1d12h').
_LOOKS_LIKE_DURATION = re.compile(r"[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)\s*(?i:min|ms|us|ns|[wdhs]))+\Z")
_MAX_NUMBER_CHARS = 100
_SCAN = re.compile(
    r"(?P<num>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>==|!=|>=|<=|>|<)"
    r"|(?P<punct>[\[\](),])"
)


def _tokenize(text: str, err) -> Iterator[_Token]:
    """Yield the tokens of ``text`` lazily, so errors come in reading order."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c in "'\"":
            j, chars = i + 1, []
            while j < n and text[j] != c:
                if text[j] == "\\" and j + 1 < n and text[j + 1] in "\\'\"":
                    j += 1  # only \\, \' and \" are escapes; other backslashes are kept
                chars.append(text[j])
                j += 1
            if j >= n:
                raise err(f"unbalanced quotes: the text starting at position {i} ({text[i:i + 12]!r}) is never closed; "
                          f"close it with {c}")
            yield _Token("str", "".join(chars), i, text[i:j + 1])
            i = j + 1
            continue
        if c == "`":
            j = text.find("`", i + 1)
            if j < 0:
                raise err(f"unbalanced backtick at position {i}; write column names as `my column`")
            name = text[i + 1:j]
            if not name.strip():
                raise err(f"empty column name `` at position {i}")
            yield _Token("col", name, i, text[i:j + 1])
            i = j + 1
            continue
        m = _SCAN.match(text, i)
        if m is None:
            if c.isalnum():  # a letter or digit outside ASCII
                raise err(f"the character {c!r} at position {i} cannot start a name; column names with characters "
                          f"other than A-Z, a-z, 0-9 and _ go in backticks (e.g. `prix_\u20ac`), text in quotes")
            advice = {
                "-": f"unexpected character '-' at position {i}; arithmetic is not allowed, and a sign touches its "
                     f"number: write -1, not - 1",
                "+": f"unexpected character '+' at position {i}; arithmetic is not allowed, and a sign touches its "
                     f"number: write +1, not + 1",
                "=": "'=' is not an operator; write '==' to test equality",
                ".": "attribute access ('.') is not allowed; put a column name with dots in backticks, "
                     "e.g. `order.amount`",
                "&": "'&' is not allowed; join conditions with 'and'",
                "|": "'|' (or) is not supported; conditions are joined with 'and' only",
                "!": "'!' is not allowed; use '!=' or 'not in'",
            }.get(c, f"unexpected character {c!r} at position {i}; arithmetic, calls and other Python are not allowed "
                     f"(a column name with other characters goes in backticks, e.g. `order amount`)")
            raise err(advice)
        kind = m.lastgroup
        tok = m.group()
        if kind == "num":
            end = m.end()
            if end < n and (text[end].isalnum() or text[end] in "_."):
                word = _WORD.match(text, i).group()
                hint = f" ({_DURATION_HELP})" if _LOOKS_LIKE_DURATION.match(word) else ""
                raise err(f"{cut(word, 40)} at position {i} is not a number; quote text, e.g. "
                          f"{cut(word, 40)}{hint}")
            if len(tok) > _MAX_NUMBER_CHARS:
                raise err(f"the number at position {i} has {len(tok):,} characters (at most {_MAX_NUMBER_CHARS}): "
                          f"{cut(tok, 40, quote=False)}")
            value = float(tok) if any(ch in tok for ch in ".eE") else int(tok)
            if isinstance(value, float) and not math.isfinite(value):
                raise err(f"the number {tok} at position {i} is too large (the largest is about 1.8e308)")
            yield _Token(kind, value, i, tok)
        elif kind == "name":
            yield _Token("name", tok, i, tok)
        else:
            yield _Token(kind, tok, i, tok)
        i = m.end()
    yield _Token("end", None, n, "end of text")


_WORD = re.compile(r"[-+]?[\w.]+")


def _shown(tok: _Token) -> str:
    if tok.kind == "end":
        return "the end"
    return cut(tok.text, 60, quote=False) if tok.kind == "str" else cut(tok.text, 60)


class _Parser:
    def __init__(self, text: str, where: str):
        self.text = text
        self.where = where
        self._stream = _tokenize(text, self.error)
        self.tokens: list[_Token] = []
        self.i = 0

    def error(self, problem: str) -> JourneyDefinitionError:
        return _fail(self.where, f"condition {cut(self.text, 120)}: {problem}. {_CONDITION_HELP}.")

    def peek(self, k: int = 0) -> _Token:
        while len(self.tokens) <= self.i + k and (not self.tokens or self.tokens[-1].kind != "end"):
            self.tokens.append(next(self._stream))
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def take(self) -> _Token:
        tok = self.peek()
        self.i += 1
        return tok

    @staticmethod
    def is_kw(tok: _Token, word: str) -> bool:
        return tok.kind == "name" and tok.value.lower() == word

    def parse(self) -> tuple[Condition, ...]:
        if self.peek().kind == "end":
            raise self.error("it is empty")
        out = [self.condition()]
        while True:
            tok = self.take()
            if tok.kind == "end":
                return tuple(out)
            if self.is_kw(tok, "and"):
                out.append(self.condition())
            elif self.is_kw(tok, "or"):
                raise self.error("'or' is not supported; conditions are joined with 'and' only (for alternatives, "
                                 "list several activities, use 'in [...]', or define another milestone)")
            elif tok.text == "(":
                raise self.error("function calls are not allowed")
            else:
                raise self.error(f"unexpected {_shown(tok)} at position {tok.pos}; join conditions with 'and'")

    def condition(self) -> Condition:
        tok = self.take()
        if tok.kind == "name" and self.peek().text == "(":
            raise self.error(f"function calls are not allowed ({cut(tok.value, 40, quote=False)}(...))")
        if tok.kind == "name" and tok.value.lower() in _KEYWORDS:
            if tok.value.lower() == "not":
                raise self.error("'not' is only allowed in 'not in'; use '!=' to negate a comparison")
            raise self.error(f"expected a column name, got the keyword {tok.value!r} (put a column with that "
                             f"name in backticks: `{tok.value}`)")
        if tok.kind not in ("name", "col"):
            raise self.error(f"expected a column name at position {tok.pos}, got {_shown(tok)}; the column comes "
                             f"first, e.g. amount > 50")
        column = tok.value
        op_tok = self.take()
        if op_tok.kind == "op":
            return Condition(column, op_tok.value, self.literal(after=op_tok.value))
        if self.is_kw(op_tok, "in"):
            return Condition(column, "in", self.literal_list())
        if self.is_kw(op_tok, "not") and self.is_kw(self.peek(), "in"):
            self.take()
            return Condition(column, "not in", self.literal_list())
        if op_tok.text == "(":
            raise self.error(f"function calls are not allowed ({cut(column, 40, quote=False)}(...))")
        raise self.error(f"expected an operator ({', '.join(OPERATORS)}) after {cut(column, 60)}, got "
                         f"{_shown(op_tok)}")

    def literal(self, *, after: str, in_list: bool = False):
        tok = self.take()
        if tok.kind in ("num", "str"):
            return tok.value
        if self.is_kw(tok, "true"):
            return True
        if self.is_kw(tok, "false"):
            return False
        if tok.kind == "end":
            raise self.error(f"expected a value after {after!r}")
        if tok.kind == "name" and self.peek().text == "(":
            raise self.error(f"function calls are not allowed ({cut(tok.value, 40, quote=False)}(...))")
        if tok.kind in ("name", "col"):
            raise self.error(f"{cut(tok.text, 60, quote=False)} is not a value: quote text (e.g. "
                             f"{cut(tok.value, 60)}); comparing two columns is not supported")
        if tok.text in ("[", "(") and in_list:
            raise self.error("lists cannot be nested; write in ['a', 'b']")
        if tok.text in ("[", "("):
            raise self.error(f"a list is only allowed after 'in' / 'not in', not after {after!r}")
        raise self.error(f"expected a value after {after!r}, got {_shown(tok)}")

    def literal_list(self) -> tuple:
        open_ = self.take()
        if open_.text not in ("[", "("):
            raise self.error(f"'in' expects a list such as ['web', 'app'], got {_shown(open_)}")
        close = "]" if open_.text == "[" else ")"
        values = []
        while True:
            if self.peek().text == close:
                self.take()
                break
            values.append(self.literal(after="in", in_list=True))
            sep = self.take()
            if sep.text == close:
                break
            if sep.text != ",":
                raise self.error(f"expected ',' or {close!r} in the list, got {_shown(sep)}")
        if not values:
            raise self.error("the list after 'in' is empty")
        return tuple(values)


def parse_conditions(text: str, *, where: str = "") -> tuple[Condition, ...]:
    """Parse conditions joined by ``and`` into a tuple of :class:`Condition`.

    Nothing is evaluated: the text is read by a small parser that only knows column names,
    the operators ``==, !=, >, >=, <, <=, in, not in`` and literal values.

    >>> parse_conditions("amount > 50 and channel in ['web', 'app']")
    (Condition('amount > 50'), Condition("channel in ['web', 'app']"))
    >>> parse_conditions("__import__('os')")
    Traceback (most recent call last):
    ...
    journeylab.exceptions.JourneyDefinitionError: condition "__import__('os')": function calls are not allowed ...
    """
    if not isinstance(text, str):
        raise _fail(where, f"a condition must be text such as \"amount > 50\", got {cut(text)}.")
    return _Parser(text, where).parse()


def _conditions(value, where: str) -> tuple[Condition, ...]:
    """Normalise conditions given as text, a Condition, or a list of those."""
    if value is None:
        return ()
    if isinstance(value, (str, Condition)):
        value = [value]
    if isinstance(value, Mapping) or not isinstance(value, Iterable):
        raise _fail(where, f"conditions must be text such as \"amount > 50\" (or a list of such), got {cut(value)}.")
    out: list[Condition] = []
    for item in value:
        if isinstance(item, Condition):
            out.append(item)
        else:
            out.extend(parse_conditions(item, where=where))
    return tuple(out)


def _format_literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return repr(value)


def _check_literal(value, where: str):
    if isinstance(value, (pd.Timedelta, _dt.timedelta, np.timedelta64)):
        raise _fail(where, f"the value {cut(value)} is a duration object; write it as text with a unit, e.g. '2d'.")
    if isinstance(value, (_dt.date, np.datetime64)):
        raise _fail(where, f"the value {cut(value)} is a date object; write it as text, e.g. '2025-01-31'.")
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        value = int(value)
        if abs(value).bit_length() > 330:  # about 100 digits, the longest number a condition may hold
            raise _fail(where, f"the number {cut(value)} has more than {_MAX_NUMBER_CHARS} digits.")
        return value
    if isinstance(value, numbers.Real):
        value = float(value)
        if not math.isfinite(value):
            raise _fail(where, f"the value {cut(value)} is not a finite number.")
        return value
    raise _fail(where, f"the value {cut(value)} is not a number, text or true/false.")


def _names(names, n: int = 40) -> str:
    """Up to ``n`` names, each cut, for an 'Available: ...' list."""
    names = [str(c) for c in names]
    return "[" + ", ".join(cut(c, 60) for c in names[:n]) + (", ..." if len(names) > n else "") + "]"


def _column(df: pd.DataFrame, column: str, what: str) -> pd.Series:
    if not isinstance(df, pd.DataFrame):
        raise JourneyDefinitionError(f"{what}: expected the events DataFrame of a log (log.to_pandas()), "
                                     f"got {type(df).__name__}.")
    if column not in df.columns:
        cols = [str(c) for c in df.columns]
        hits = closest(column, cols)
        near = f" Closest: {', '.join(cut(h) for h in hits)}." if hits else ""
        raise JourneyDefinitionError(f"{what}: the events have no column {cut(column)}.{near} Available: "
                                     f"{_names(cols)}. Fix the column name in the condition.")
    return df[column]


def _events(events, *, need_activity: bool = True) -> pd.DataFrame:
    """Accept an events DataFrame, or an EventLog (its canonical DataFrame)."""
    if not isinstance(events, pd.DataFrame) and hasattr(events, "to_pandas"):
        events = events.to_pandas()
    if not isinstance(events, pd.DataFrame):
        raise JourneyDefinitionError(f"expected the events DataFrame of a log (log.to_pandas()) or an EventLog, "
                                     f"got {type(events).__name__}.")
    if need_activity and "activity" not in events.columns:
        raise SchemaError(f"the events have no 'activity' column (columns: {_names(events.columns)}). "
                          f"Pass log.to_pandas(), whose columns are canonical (case, activity, timestamp, ...).")
    return events


@dataclass(frozen=True)
class Condition:
    """One parsed attribute condition: ``column op value``.

    Build one with :meth:`Condition.parse` (or directly); ``str(condition)`` gives back the
    text. An event whose attribute is missing never matches, whatever the operator.

    >>> c = Condition.parse("amount > 50")
    >>> c.column, c.op, c.value
    ('amount', '>', 50)
    >>> import pandas as pd
    >>> c.matches(pd.DataFrame({"amount": [10, 80, None]})).tolist()
    [False, True, False]
    >>> Condition("channel", "in", ["web", "app"])
    Condition("channel in ['web', 'app']")
    """

    column: str
    op: str
    value: Any

    def __post_init__(self):
        where = "condition"
        column = _text(self.column, where, "column name")
        if "`" in column:
            raise _fail(where, f"column name {cut(column)} contains a backtick, which is not supported.")
        if not isinstance(self.op, str) or self.op not in OPERATORS:
            raise _fail(where, f"unknown operator {cut(self.op)}. Allowed: {', '.join(OPERATORS)}."
                        + (did_you_mean(self.op, OPERATORS) if isinstance(self.op, str) else ""))
        if self.op in ("in", "not in"):
            if isinstance(self.value, (str, bytes, Mapping)) or not isinstance(self.value, Iterable):
                raise _fail(where, f"{self.op!r} expects a list of values such as ['web', 'app'], got "
                                   f"{cut(self.value)}.")
            value = tuple(_check_literal(v, where) for v in self.value)
            if not value:
                raise _fail(where, f"the list after {self.op!r} is empty.")
        else:
            value = _check_literal(self.value, where)
        object.__setattr__(self, "column", column)
        object.__setattr__(self, "value", value)

    @classmethod
    def parse(cls, text: str) -> Condition:
        """Parse exactly one condition (use :func:`parse_conditions` for several joined by ``and``).

        >>> Condition.parse("channel == 'web'").value
        'web'
        """
        found = parse_conditions(text)
        if len(found) != 1:
            raise JourneyDefinitionError(f"condition {cut(text, 120)}: holds {len(found)} conditions; Condition.parse "
                                         f"takes one. Use parse_conditions() for conditions joined by 'and'.")
        return found[0]

    def __str__(self) -> str:
        col = self.column if _IDENT.match(self.column) and self.column.lower() not in _KEYWORDS else f"`{self.column}`"
        if self.op in ("in", "not in"):
            lit = "[" + ", ".join(_format_literal(v) for v in self.value) + "]"
        else:
            lit = _format_literal(self.value)
        return f"{col} {self.op} {lit}"

    def __repr__(self) -> str:
        return f"Condition({str(self)!r})"

    def matches(self, events: pd.DataFrame) -> pd.Series:
        """Boolean Series, True where the event satisfies the condition (missing values: False).

        >>> import pandas as pd
        >>> Condition.parse("channel != 'web'").matches(pd.DataFrame({"channel": ["web", "app", None]})).tolist()
        [False, True, False]
        """
        what = f"condition {cut(str(self), 120)}"
        col = _column(_events(events, need_activity=False), self.column, what)
        value = self.value
        _check_types(col, value if self.op in ("in", "not in") else (value,), self.column, what)
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # 1e308 against a float32 column is just False
                if self.op in ("in", "not in"):
                    value = [_coerce(v, col, what) for v in value]
                    mask = col.isin(value)
                    if self.op == "not in":
                        mask = ~mask
                else:
                    value = _coerce(value, col, what)
                    mask = _COMPARE[self.op](col, value)
        except JourneyDefinitionError:
            raise
        except (TypeError, ValueError, OverflowError) as err:
            raise JourneyDefinitionError(
                f"{what}: cannot compare column {cut(self.column)} (dtype {col.dtype}) with {cut(value)} "
                f"({cut(str(err), 100, quote=False)}). Compare numbers with numbers, durations with durations "
                f"and text with 'quoted text'."
            ) from None
        values = np.asarray(pd.Series(mask).to_numpy(dtype=bool, na_value=False), dtype=bool)
        return pd.Series(values & col.notna().to_numpy(), index=events.index, name=str(self))


def _check_types(col: pd.Series, values: tuple, column: str, what: str) -> None:
    """Refuse text compared with a numeric column, or numbers with a text column (never a silent 'no match')."""
    dtype = col.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return
    numeric = pd.api.types.is_numeric_dtype(dtype)
    text = pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype)
    durations = pd.api.types.is_timedelta64_dtype(dtype)
    for v in values:
        if numeric and isinstance(v, str):
            raise JourneyDefinitionError(f"{what}: column {cut(column)} holds numbers (dtype {dtype}) but is compared "
                                         f"with the text {cut(v)}; write the number without quotes.")
        if text and isinstance(v, (int, float)) and not isinstance(v, bool):
            raise JourneyDefinitionError(f"{what}: column {cut(column)} holds text (dtype {dtype}) but is compared "
                                         f"with the number {cut(v)}; quote it: '{cut(v, quote=False)}'.")
        if durations and isinstance(v, (int, float)) and not isinstance(v, bool):
            raise JourneyDefinitionError(f"{what}: column {cut(column)} holds durations (dtype {dtype}) but is "
                                         f"compared with the bare number {cut(v)}; write a duration with a "
                                         f"unit in quotes, e.g. '{cut(v, 20)}d' or '{cut(v, 20)}h'.")


def _coerce(value, col: pd.Series, what: str):
    """Text compared with a date or duration column, read as a date or a duration."""
    if isinstance(value, str):
        if isinstance(col.dtype, pd.DatetimeTZDtype | np.dtypes.DateTime64DType):
            return _as_timestamp(value, col, what)
        if pd.api.types.is_timedelta64_dtype(col.dtype):
            try:
                return parse_duration(value)
            except ValueError:
                raise JourneyDefinitionError(f"{what}: {cut(value)} is not a duration; {_DURATION_HELP}.") from None
    return value


def _as_timestamp(value: str, col: pd.Series, what: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        raise JourneyDefinitionError(f"{what}: {cut(value)} is not a date or time; write it like '2025-01-31' "
                                     f"or '2025-01-31 12:00'.") from None
    tz = getattr(col.dt, "tz", None)
    if tz is not None and ts.tzinfo is None:
        try:
            ts = ts.tz_localize(tz)
        except ValueError:  # a local time skipped or repeated by a daylight-saving change
            raise JourneyDefinitionError(f"{what}: {cut(value)} does not exist or is ambiguous in the time zone "
                                         f"{tz} (a daylight-saving change); give the offset, e.g. "
                                         f"'2025-03-30 03:30+02:00'.") from None
    elif tz is None and ts.tzinfo is not None:
        ts = ts.tz_convert(None)
    return ts




# --------------------------------------------------------------------------- conditions in an engine (Ibis)


class CannotCompile(Exception):
    """The signal of :func:`condition_expr`: this condition has no Ibis form with exactly the semantics of
    :meth:`Condition.matches`, so the caller fetches the rows it needs and matches them in pandas.

    Not a user error (it never reaches users): the message says why, for the code comments and the tests.
    """


_INT64 = (-(2 ** 63), 2 ** 63 - 1)


def _literal_kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "number" if _INT64[0] <= value <= _INT64[1] else "big"
    if isinstance(value, float):
        return "number"
    return "text"


def _one_expr(cond: Condition, table):
    """The Ibis form of one condition on ``table`` (an Ibis table), or CannotCompile."""
    if cond.column not in table.columns:
        raise CannotCompile(f"no column {cond.column!r}: matched in pandas, which says what the log has")
    col = table[cond.column]
    dtype = col.type()
    values = cond.value if cond.op in ("in", "not in") else (cond.value,)
    kinds = {_literal_kind(v) for v in values}
    # the pairs that mean the same in pandas and SQL; others (dates and durations given as text, which
    # pandas parses in the column's zone; bare numbers on boolean columns, text on numeric columns - which
    # Condition.matches refuses with its own message) are matched in pandas
    if dtype.is_boolean():
        ok = kinds == {"bool"} and cond.op in ("==", "!=", "in", "not in")
    elif dtype.is_integer() or dtype.is_floating() or dtype.is_decimal():
        ok = kinds == {"number"}
    elif dtype.is_string():
        ok = kinds == {"text"}
    else:
        ok = False
    if not ok:
        raise CannotCompile(f"condition {str(cond)!r} on a column of type {dtype}: its pandas semantics "
                            "(parsing, zones, type checks) are not those of SQL")
    present = col.notnull()
    if dtype.is_floating():  # NaN is a missing value in pandas; SQL engines order NaN above every number
        present = present & ~col.isnan()
    if cond.op == "in":
        test = col.isin(list(values))
    elif cond.op == "not in":
        test = ~col.isin(list(values))
    else:
        test = _COMPARE[cond.op](col, cond.value)
    return present & test


def condition_expr(conditions, table):
    """One Ibis boolean expression over ``table``: True where every condition holds (a missing value never
    matches), exactly as :meth:`Condition.matches` on the same rows in pandas.

    Numbers on numeric columns, text on text columns and true / false on boolean columns compile (with
    ``==, !=, >, >=, <, <=, in, not in``); anything else raises :class:`CannotCompile` - the documented
    signal to fetch the rows (only the columns the conditions read) and match them in pandas instead:
    dates and durations written as text (pandas parses them in the column's zone), a column the table
    lacks, text compared with a numeric column or a number with a text column (pandas refuses those with
    its own message), numbers beyond int64.

    Parameters
    ----------
    conditions : Condition, text, or a list of those
        The conditions (joined by ``and``); none gives a true literal.
    table : ibis.expr.types.Table
        The rows they are evaluated on (e.g. ``log.table``).

    Returns
    -------
    ibis.expr.types.BooleanValue
        Never null.

    Raises
    ------
    CannotCompile
        When a condition must be matched in pandas.

    Examples
    --------
    >>> import ibis, pandas as pd
    >>> t = ibis.memtable(pd.DataFrame({"amount": [10.0, 80.0, None], "channel": ["web", "app", "web"]}))
    >>> t.select(hit=condition_expr("amount > 50 and channel == 'app'", t)).execute()["hit"].tolist()
    [False, True, False]
    >>> t.select(hit=condition_expr("amount <= 50", t)).execute()["hit"].tolist()
    [True, False, False]
    >>> condition_expr("when >= '2025-01-01'", ibis.table({"when": "timestamp('UTC')"}, name="t"))
    Traceback (most recent call last):
    ...
    journeylab.conditions.CannotCompile: condition "when >= '2025-01-01'" on a column of type timestamp('UTC'): ...
    """
    import ibis

    out = ibis.literal(True)
    for cond in _conditions(conditions, "conditions"):
        out = out & _one_expr(cond, table)
    return out
