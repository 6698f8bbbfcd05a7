"""Output of the command line: text that is safe on a terminal, aligned tables, and plain JSON.

Everything the commands print for people passes :func:`printable` (a value from a log cannot move the
cursor, clear the screen or fake lines); JSON carries numbers as numbers (shares as fractions,
durations in seconds, missing values as ``null``).

>>> print(format_table(["activity", "events"], [["pay\\x1b[2J", "1,204"]], right=["events"]))
activity    events
----------  ------
pay\\x1b[2J   1,204
"""

from __future__ import annotations

import io
import json
import math
import re
import sys
from collections.abc import Sequence

from ._core.formatting import format_duration

__all__ = ["printable", "Printable", "format_table", "pairs", "pct", "count", "isnan", "short", "steps", "seconds",
           "signed_duration", "jsonable", "print_json", "warn", "one_line"]

#: What can move the cursor, erase, recolour or reorder text on a terminal: the C0 and C1 control
#: characters (ANSI escape sequences start with ESC or CSI), DEL, the Unicode line and paragraph
#: separators and the bidirectional controls ("Trojan source").
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_UNSAFE_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                                 "\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match) -> str:
    c = match.group()
    return _NAMED.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")


def printable(text, *, newlines: bool = False) -> str:
    """``text`` safe to show on a terminal: control characters (and with them every ANSI escape
    sequence), line breaks and bidirectional overrides are shown as escapes (``\\x1b``, ``\\n``,
    ``\\u202e``), so a value from a log cannot clear the screen, recolour it or fake lines.
    ``newlines=True`` keeps ``\\n`` (for whole blocks of output).

    >>> printable("\\x1b[2Jpay\\nnow")
    '\\\\x1b[2Jpay\\\\nnow'
    >>> print(printable("pay \\u202eyap"))
    pay \\u202eyap
    """
    return (_UNSAFE_BUT_NEWLINE if newlines else _UNSAFE).sub(_escape, str(text))


class Printable(io.TextIOBase):
    """A text stream that escapes control characters (not newlines) on their way to ``stream``:
    everything the commands print for people passes through it (JSON needs no escaping)."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(printable(text, newlines=True))
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._stream.fileno()

    def isatty(self) -> bool:
        return self._stream.isatty()

    @property
    def encoding(self):
        return getattr(self._stream, "encoding", "utf-8")


def format_table(header: Sequence[str], rows: Sequence[Sequence], *, right: Sequence[str] = ()) -> str:
    """An aligned plain-text table: a header, a rule, the rows; columns named in ``right``
    are right-aligned (numbers), the others left-aligned. Cells are shown with ``str``, control
    characters and line breaks escaped (see :func:`printable`).

    >>> print(format_table(["activity", "events"], [["pay", "1,204"], ["register", "87"]], right=["events"]))
    activity  events
    --------  ------
    pay        1,204
    register      87
    """
    header = [printable(h) for h in header]
    right = [printable(h) for h in right]
    cells = [[printable(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(header)]
    flags = [h in right for h in header]

    def line(values):
        return "  ".join(v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, flags)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in cells])


def pairs(rows: Sequence[tuple[str, object]]) -> str:
    """Label/value lines, values aligned."""
    rows = [(printable(k), printable(v)) for k, v in rows]
    width = max((len(k) for k, _ in rows), default=0)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def pct(x) -> str:
    return "-" if x is None or isnan(x) else f"{x:.1%}"


def count(x) -> str:
    return f"{int(x):,}"


def isnan(x) -> bool:
    try:
        return math.isnan(x)
    except TypeError:
        return False


def short(text: str, width: int = 90) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def steps(seq, width: int = 90) -> str:
    """A sequence of activities / milestones as ``a > b > c``, shortened to ``width`` characters.

    >>> steps(["view", "cart", "buy"], 20)
    'view > cart > buy'
    >>> steps(["view", "cart", "buy", "review"], 22)
    'view > ... (+3 more)'
    >>> steps(["x" * 100], 30)
    'xxxxxxxxxxxxxx...'
    """
    seq = [printable(s) for s in seq]
    full = " > ".join(seq)
    if len(full) <= width:
        return full or "-"
    shown: list[str] = []
    for s in seq:
        tail = f" > ... (+{len(seq) - len(shown) - 1} more)"
        if len(" > ".join(shown + [s])) + len(tail) > width:
            break
        shown.append(s)
    if not shown:  # even the first step is too long: cut it
        first = seq[0][: max(width - 16, 8)] + "..."
        return first + (f" > ... (+{len(seq) - 1} more)" if len(seq) > 1 else "")
    return " > ".join(shown) + f" > ... (+{len(seq) - len(shown)} more)"


def seconds(td):
    import pandas as pd

    if td is None or pd.isna(td):
        return None
    return pd.Timedelta(td).total_seconds()


def jsonable(obj):
    """Plain JSON values: numpy numbers as numbers, NaN/NaT as null, timestamps as ISO text,
    durations as seconds, tuples as lists."""
    import numpy as np
    import pandas as pd

    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return None if not math.isfinite(float(obj)) else float(obj)
    if isinstance(obj, pd.Timedelta):
        return None if pd.isna(obj) else obj.total_seconds()
    if isinstance(obj, pd.Timestamp):
        return None if pd.isna(obj) else obj.isoformat()
    if obj is pd.NA or obj is pd.NaT:
        return None
    return str(obj)


def print_json(data) -> None:
    print(json.dumps(jsonable(data), indent=2, ensure_ascii=True, allow_nan=False))


def warn(text: str) -> None:
    print(f"journeylab: warning: {printable(one_line(text))}", file=sys.stderr)


#: The library's advice in Python words, and its command-line spelling.
_CLI_WORDS = (("on_invalid='drop'", "--drop-invalid"), ("on_invalid=\"drop\"", "--drop-invalid"),
              ("deduplicate=True", "--deduplicate"))


def one_line(text) -> str:
    """``text`` on one line, with the library's keyword advice in command-line spelling.

    >>> one_line("2 duplicates.\\nPass deduplicate=True to drop them.")
    '2 duplicates. Pass --deduplicate to drop them.'
    >>> one_line("Pass them as the role (e.g. channel='channel') or rename them.")
    'Pass them as the role (e.g. --channel channel) or rename them.'
    """
    out = " ".join(part.strip() for part in str(text).splitlines() if part.strip())
    for python, cli in _CLI_WORDS:
        out = out.replace(python, cli)
    return re.sub(r"\(e\.g\. (case|activity|timestamp|channel|customer|resource|lifecycle|value)='([^']*)'\)", r"(e.g. --\1 \2)", out)


def signed_duration(seconds) -> str:
    if seconds is None or isnan(seconds):
        return "-"
    text = format_duration(float(seconds))
    return text if text.startswith("-") else "+" + text
