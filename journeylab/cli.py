"""The ``journeylab`` command line.

Commands: ``summary`` (size, span, activities and data-quality notes of a log),
``validate`` (a journey definition against a log), ``variants`` (the most frequent
activity sequences), ``conformance`` (cases against a journey's happy path) and ``report``
(a self-contained HTML report, optionally a PDF). Each prints a table for people, and
``summary``, ``validate``, ``variants`` and ``conformance`` take ``--json`` for machines:
valid JSON on stdout and nothing else there, numbers as numbers (shares as fractions,
durations in seconds, missing values as ``null``).

Exit codes: 0 done; 1 ``validate`` found problems; 2 an error (one line on stderr that
says how to fix it; ``--debug`` shows the traceback instead), or a usage error.
Data-quality warnings go to stderr as ``journeylab: warning: ...`` lines.

Examples (shell)::

    journeylab summary events.csv --case id --activity step --timestamp ts
    journeylab summary log.xes.gz --json
    journeylab validate log.parquet --case customer_id --activity activity --timestamp timestamp \\
        --journey journey.yaml
    journeylab variants log.xes --top 20
    journeylab conformance log.xes --journey journey.yaml --json
    journeylab report --out build/report.html            # the bundled sample
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import re
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from ._util import format_timedelta
from .exceptions import DataQualityWarning, FileFormatError, JourneylabError

__all__ = ["main", "build_parser", "load_log", "format_table", "printable"]

EXIT_OK, EXIT_PROBLEMS, EXIT_ERROR = 0, 1, 2


# --------------------------------------------------------------------------- reading


def load_log(path: str | None, *, case=None, activity=None, timestamp=None, channel=None, customer=None,
             resource=None, lifecycle=None, value=None, sep=None, tz=None, on_invalid: str | None = None,
             deduplicate: bool = False, classifier=None, encoding=None):
    """Read a log file by its extension (XES, CSV, Parquet); the bundled sample when ``path`` is None.

    Roles left at None take the readers' defaults (for XES: the standard keys, and
    ``lifecycle:transition`` / ``org:resource`` when the file has them). ``classifier`` (XES
    only) builds the activity from a declared classifier or several keys; ``encoding`` (CSV
    only) is the file's text encoding. ``on_invalid="drop"`` drops events with a missing case,
    activity or timestamp (default: refuse them); ``deduplicate=True`` drops exact duplicate
    events (default: keep them, with a warning).

    >>> import journeylab as jl
    >>> load_log(str(jl.datasets.example_path())).n_cases
    6
    """
    from . import readers as _log
    from .datasets import load_default_log

    if path is None:
        return load_default_log()
    quality = {"deduplicate": bool(deduplicate)}
    if on_invalid:
        quality["on_invalid"] = on_invalid
    if not Path(path).is_file():
        raise FileFormatError(f"No file at {path}. Check the path (journeylab reads .xes, .xes.gz, .csv, .csv.gz, .parquet).")
    name = Path(path).name.lower()
    roles = {"channel": channel, "customer": customer, "resource": resource, "lifecycle": lifecycle, "value": value}
    roles = {k: v for k, v in roles.items() if v}
    if name.endswith((".xes", ".xes.gz")):
        if encoding:
            raise JourneylabError(f"{path}: --encoding is for CSV files; an XES file declares its own encoding.")
        named = {k: v for k, v in (("case", case), ("activity", activity), ("timestamp", timestamp)) if v}
        return _log.read_xes(path, **named, **roles, classifier=classifier, tz=tz, **quality)
    if classifier:
        raise JourneylabError(f"{path}: --classifier is for XES files; for CSV / Parquet name the column with "
                              "--activity.")
    if name.endswith((".csv", ".csv.gz", ".tsv", ".txt")) or name.endswith((".parquet", ".pq")):
        missing = [f"--{k}" for k, v in (("case", case), ("activity", activity), ("timestamp", timestamp)) if not v]
        if missing:
            raise JourneylabError(f"{path}: name the columns with {' '.join(missing)} "
                                  "(e.g. --case id --activity step --timestamp ts; in Python case=, activity=, "
                                  "timestamp=).")
        if name.endswith((".parquet", ".pq")):
            return _log.read_parquet(path, case=case, activity=activity, timestamp=timestamp, tz=tz, **roles, **quality)
        return _log.read_csv(path, case=case, activity=activity, timestamp=timestamp, sep=sep, tz=tz, **roles,
                             **quality, **({"encoding": encoding} if encoding else {}))
    raise FileFormatError(f"{path}: unknown file type; journeylab reads .xes, .xes.gz, .csv, .csv.gz and .parquet.")


def _log_from(args):
    return load_log(args.log, case=args.case, activity=args.activity, timestamp=args.timestamp,
                    channel=args.channel, customer=args.customer, resource=args.resource, lifecycle=args.lifecycle,
                    value=args.value, sep=args.sep, tz=args.tz, classifier=_classifier(args.classifier),
                    encoding=args.encoding,
                    on_invalid="drop" if getattr(args, "drop_invalid", False) else None,
                    deduplicate=getattr(args, "deduplicate", False))


def _classifier(text):
    """--classifier NAME, or several keys separated by commas: "concept:name,lifecycle:transition"."""
    if not text:
        return None
    keys = [k.strip() for k in text.split(",") if k.strip()]
    return keys if len(keys) > 1 else text


def _journey_from(path):
    from .journey import Journey

    return Journey.from_yaml(path)


# --------------------------------------------------------------------------- output

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


class _Printable(io.TextIOBase):
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


def _pairs(rows: Sequence[tuple[str, object]]) -> str:
    """Label/value lines, values aligned."""
    rows = [(printable(k), printable(v)) for k, v in rows]
    width = max((len(k) for k, _ in rows), default=0)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


def _pct(x) -> str:
    return "-" if x is None or _isnan(x) else f"{x:.1%}"


def _int(x) -> str:
    return f"{int(x):,}"


def _isnan(x) -> bool:
    try:
        return math.isnan(x)
    except TypeError:
        return False


def _short(text: str, width: int = 90) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _steps(seq, width: int = 90) -> str:
    """A sequence of activities / milestones as ``a > b > c``, shortened to ``width`` characters.

    >>> _steps(["view", "cart", "buy"], 20)
    'view > cart > buy'
    >>> _steps(["view", "cart", "buy", "review"], 22)
    'view > ... (+3 more)'
    >>> _steps(["x" * 100], 30)
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


def _seconds(td):
    import pandas as pd

    if td is None or pd.isna(td):
        return None
    return pd.Timedelta(td).total_seconds()


def _jsonable(obj):
    """Plain JSON values: numpy numbers as numbers, NaN/NaT as null, timestamps as ISO text,
    durations as seconds, tuples as lists."""
    import numpy as np
    import pandas as pd

    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_jsonable(v) for v in obj.tolist()]
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


def _print_json(data) -> None:
    print(json.dumps(_jsonable(data), indent=2, ensure_ascii=True, allow_nan=False))


def _warn(text: str) -> None:
    print(f"journeylab: warning: {printable(_one_line(text))}", file=sys.stderr)


#: The library's advice in Python words, and its command-line spelling.
_CLI_WORDS = (("on_invalid='drop'", "--drop-invalid"), ("on_invalid=\"drop\"", "--drop-invalid"),
              ("deduplicate=True", "--deduplicate"))


def _one_line(text) -> str:
    """``text`` on one line, with the library's keyword advice in command-line spelling.

    >>> _one_line("2 duplicates.\\nPass deduplicate=True to drop them.")
    '2 duplicates. Pass --deduplicate to drop them.'
    >>> _one_line("Pass them as the role (e.g. channel='channel') or rename them.")
    'Pass them as the role (e.g. --channel channel) or rename them.'
    """
    out = " ".join(part.strip() for part in str(text).splitlines() if part.strip())
    for python, cli in _CLI_WORDS:
        out = out.replace(python, cli)
    return re.sub(r"\(e\.g\. (case|activity|timestamp|channel|customer|resource|lifecycle|value)='([^']*)'\)", r"(e.g. --\1 \2)", out)


# --------------------------------------------------------------------------- summary


def _activity_counts(log):
    df = log._frame()
    acts = df.groupby("activity", observed=True).agg(events=("case", "size"), cases=("case", "nunique"))
    return acts.reset_index().sort_values(["events", "activity"], ascending=[False, True], ignore_index=True)


def _cmd_summary(args) -> int:
    from ._report.sections import quality_notes  # the report's data-quality notes, shared

    log = _log_from(args)
    notes = [_one_line(n) for n in quality_notes(log)]
    acts = _activity_counts(log)
    meta = log._meta
    if args.json:
        df = log._frame()
        start, end = log.time_span
        data = {
            "source": meta.get("source", str(args.log)),
            "events": log.n_events,
            "cases": log.n_cases,
            "activities": len(log.activities),
            "events_per_case_median": float(df.groupby("case", sort=False).size().median()),
            "first_event": start,
            "last_event": end,
            "time_span_seconds": (end - start).total_seconds(),
            "timezone": str(log.timezone),
            "timezone_note": meta.get("tz_note", ""),
        }
        for role in ("channel", "lifecycle", "resource", "customer"):
            if log.has_role(role):
                data[f"{role}s"] = int(df[role].nunique())
        data["attributes"] = list(log.attributes)
        data["duplicates_kept"] = int(meta.get("duplicates", 0))
        data["duplicates_dropped"] = int(meta.get("dropped_duplicates", 0))
        data["invalid_dropped"] = int(meta.get("dropped_invalid", 0))
        data["activity_counts"] = [{"activity": r.activity, "events": r.events, "cases": r.cases,
                                    "share_of_cases": r.cases / log.n_cases} for r in acts.itertuples()]
        data["warnings"] = notes
        _print_json(data)
        return EXIT_OK
    s = log.summary()
    print(_pairs(list(zip(s.index, s["value"]))))
    print()
    limit = args.top
    shown = acts.head(limit)
    print(format_table(["activity", "events", "cases", "share of cases"],
                       [[a.activity, _int(a.events), _int(a.cases), _pct(a.cases / log.n_cases)]
                        for a in shown.itertuples()], right=["events", "cases", "share of cases"]))
    if len(acts) > len(shown):
        print(f"... {len(acts) - len(shown):,} more activities (--top {len(acts)} shows all)")
    print()
    if notes:
        print("Data-quality warnings:")
        print("\n".join(f"  - {n}" for n in notes))
    else:
        print("No data-quality warnings.")
    return EXIT_OK


# --------------------------------------------------------------------------- validate


def _milestone_rows(log, journey):
    """Per milestone: kind, activities, matching events and cases."""
    import pandas as pd

    df = log._frame()
    ms = journey.milestone_of(df)
    hit = pd.DataFrame({"case": df["case"].to_numpy(), "milestone": ms.to_numpy()}).dropna()
    events = hit.groupby("milestone", observed=False).size()
    cases = hit.groupby("milestone", observed=False)["case"].nunique()
    out = []
    for m in journey.milestones:
        out.append({"milestone": m.name, "kind": m.kind, "optional": bool(m.optional),
                    "on_happy_path": m.name in journey.happy_path, "activities": list(m.activities),
                    "events": int(events.get(m.name, 0)), "cases": int(cases.get(m.name, 0)),
                    "share_of_cases": int(cases.get(m.name, 0)) / log.n_cases})
    return out


def _cmd_validate(args) -> int:
    log = _log_from(args)
    journey = _journey_from(args.journey)
    problems = journey.problems(log)
    milestones = [] if problems else _milestone_rows(log, journey)
    # a happy-path milestone that nothing matches makes the comparison impossible; others are worth a note
    problems += [f"milestone {m['milestone']!r} (happy path) matches no event of the log; check its conditions."
                 for m in milestones if m["events"] == 0 and m["on_happy_path"]]
    notes = [f"milestone {m['milestone']!r} matches no event of the log; check its conditions."
             for m in milestones if m["events"] == 0 and not m["on_happy_path"]]
    used = set(journey.activities)
    unused = [a for a in log.activities if a not in used]
    source = log._meta.get("source", str(args.log))
    if args.json:
        _print_json({"log": source, "journey": journey.name, "journey_file": str(args.journey),
                     "ok": not problems, "problems": problems, "warnings": notes, "milestones": milestones,
                     "activities_not_in_journey": unused})
        return EXIT_PROBLEMS if problems else EXIT_OK
    if problems:
        n = len(problems)
        print(f"journey {journey.name!r} ({args.journey}) does not fit {source}: {n} problem{'s' if n > 1 else ''}")
        print("\n".join(f"  - {p}" for p in problems))
        print("Fix the journey definition, or rename the log's activities / columns.")
        if not milestones:
            return EXIT_PROBLEMS
        print()
    else:
        print(f"journey {journey.name!r} ({args.journey}) fits {source}: {len(journey.milestones)} milestones, "
              f"{len(journey.activities)} activities, all in the log.")
    print(f"happy path: {' > '.join(journey.happy_path)}")
    print()
    print(format_table(["milestone", "kind", "activities", "events", "cases", "share of cases"],
                       [[m["milestone"], m["kind"] + (", optional" if m["optional"] else ""),
                         _short(", ".join(m["activities"]), 50), _int(m["events"]), _int(m["cases"]),
                         _pct(m["share_of_cases"])] for m in milestones],
                       right=["events", "cases", "share of cases"]))
    if unused:
        print()
        what = "activity of the log is" if len(unused) == 1 else "activities of the log are"
        print(_short(f"{len(unused)} {what} in no part of the journey: {', '.join(unused)}", 200))
    for n in notes:
        print(f"warning: {n}")
    return EXIT_PROBLEMS if problems else EXIT_OK


# --------------------------------------------------------------------------- variants


def _cmd_variants(args) -> int:
    from .discovery import variants

    log = _log_from(args)
    top = args.top if args.top is not None or args.coverage is not None else 10
    v = variants(log, top=top, coverage=args.coverage)
    t = v.table
    if args.json:
        _print_json({
            "n_cases": v.n_cases, "n_variants": v.n_variants, "shown": len(t), "coverage": v.coverage,
            "variants": [{"rank": i + 1, "variant": list(r.variant), "length": int(r.length), "count": int(r.count),
                          "share": float(r.share), "cumulative_share": float(r.cumulative_share),
                          "median_duration_seconds": _seconds(r.duration_median)}
                         for i, r in enumerate(t.itertuples())],
        })
        return EXIT_OK
    print(repr(v))
    print()
    print(format_table(["#", "variant", "steps", "cases", "share", "cumulative", "median duration"],
                       [[i + 1, _steps(r.variant, args.width), _int(r.length), _int(r.count), _pct(r.share),
                         _pct(r.cumulative_share), format_timedelta(r.duration_median)]
                        for i, r in enumerate(t.itertuples())],
                       right=["#", "steps", "cases", "share", "cumulative", "median duration"]))
    if len(t) < v.n_variants:
        print(f"... {v.n_variants - len(t):,} more variants (--top N or --coverage SHARE show more)")
    return EXIT_OK


# --------------------------------------------------------------------------- conformance


def _top_deviations(c, top: int):
    """The most frequent deviations (type at milestone): cases that show it, occurrences."""
    from .conformance import DEVIATION_LABELS

    d = c.deviations
    if not len(d):
        return []
    g = d.groupby(["type", "milestone"], observed=True)["case"].agg(["nunique", "size"]).reset_index()
    g = g.sort_values(["nunique", "size"], ascending=False, kind="stable").head(top)
    return [{"deviation": f"{DEVIATION_LABELS[str(r.type)]}: {r.milestone}", "type": str(r.type),
             "milestone": str(r.milestone), "cases": int(r.nunique), "share": r.nunique / max(c.n_cases, 1),
             "occurrences": int(r.size)} for r in g.itertuples()]


def _cmd_conformance(args) -> int:
    from .conformance import DEVIATION_LABELS, compare

    log = _log_from(args)
    journey = _journey_from(args.journey)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        c = compare(log, journey, collapse=not args.no_collapse)  # refuses a happy path the log cannot match
    for w in caught:  # shown by main(), with the others
        warnings.warn(w.message, w.category)
    problems = journey.problems(log)
    said = " ".join(str(w.message) for w in caught)
    unsaid = [p for p in problems if p not in said]  # compare warns about milestones, not goal or phases
    if unsaid:
        _warn(f"journey {journey.name!r} does not fit the log ({len(unsaid)} problem"
              f"{'s' if len(unsaid) > 1 else ''}, first: {unsaid[0]}); `journeylab validate` lists them.")
    n = c.n_cases
    conforming = int(c.cases["conforms"].sum())
    e = c.effects
    types = [{"type": str(t), "cases": int(r["cases"]), "share": r["share"], "occurrences": int(r["occurrences"]),
              "completed": int(r["completed"]), "duration_median_seconds": _seconds(r["duration_median"]),
              "duration_diff_seconds": _seconds(r["duration_diff"]),
              "duration_diff_low_seconds": _seconds(r["duration_diff_low"]),
              "duration_diff_high_seconds": _seconds(r["duration_diff_high"]),
              "goal_rate": r.get("goal_rate"), "goal_diff": r.get("goal_diff"),
              "goal_diff_low": r.get("goal_diff_low"), "goal_diff_high": r.get("goal_diff_high")}
             for t, r in e.iterrows()]
    # counts as whole numbers (iterrows gives floats when the row mixes counts and shares)
    path = [{"milestone": str(m), **{k: (r[k] if k.startswith("share") else int(r[k])) for k in c.path.columns}}
            for m, r in c.path.iterrows()]
    top_dev = _top_deviations(c, args.top)
    seqs = [{"milestones": list(r.milestones), "cases": int(r.count), "share": r.count / max(n, 1),
             "cost": int(r.cost), "fitness": float(r.fitness), "deviations": list(r.deviations)}
            for r in c.variants.head(args.top).itertuples()]
    source = log._meta.get("source", str(args.log))
    if args.json:
        _print_json({"log": source, "journey": journey.name, "happy_path": list(c.happy_path),
                     "collapse": not args.no_collapse, "cases": n, "conforming": conforming,
                     "conformance_rate": c.conformance_rate, "mean_fitness": c.mean_fitness,
                     "mean_cost": c.mean_cost, "outside_journey": c.n_outside,
                     "milestone_sequences": len(c.variants), "journey_problems": problems,
                     "deviation_types": types, "milestones": path, "top_deviations": top_dev,
                     "top_sequences": seqs})
        return EXIT_OK
    print(f"{source} vs journey {journey.name!r}")
    print(f"happy path: {' > '.join(c.happy_path)}")
    print()
    if not n:
        print(f"No case reaches a milestone of {journey.name!r} ({c.n_outside:,} cases outside the journey): "
              "check the milestones' activities with `journeylab validate`.")
        return EXIT_OK
    print(_pairs(list(zip(c.summary.index[:7], c.summary["value"][:7]))))
    print()
    print("Deviation types")
    has_goal = "goal_diff" in e and e["goal_diff"].notna().any()
    header = ["deviation", "cases", "share", "occurrences", "median duration", "duration vs conforming"]
    header += ["goal rate", "goal vs conforming"] if has_goal else []
    rows = []
    for t in types:
        row = [DEVIATION_LABELS[t["type"]], _int(t["cases"]), _pct(t["share"]), _int(t["occurrences"]),
               format_timedelta(t["duration_median_seconds"]), _signed_td(t["duration_diff_seconds"])]
        if has_goal:
            g = t["goal_diff"]
            row += [_pct(t["goal_rate"]), "-" if g is None or _isnan(g) else f"{100 * g:+.1f} pp"]
        rows.append(row)
    print(format_table(header, rows, right=header[1:]))
    print()
    print("Happy-path milestones (share of aligned cases)")
    kinds = ["in_order", "repeated", "out_of_order", "skipped", "incomplete"]
    mh = ["milestone"] + [k.replace("_", " ") for k in kinds]
    print(format_table(mh, [[p["milestone"]] + [_pct(p[f"share_{k}"]) for k in kinds] for p in path], right=mh[1:]))
    if top_dev:
        print()
        print(f"Top {len(top_dev)} deviations")
        dh = ["deviation", "cases", "share", "occurrences"]
        print(format_table(dh, [[d["deviation"], _int(d["cases"]), _pct(d["share"]), _int(d["occurrences"])]
                                for d in top_dev], right=dh[1:]))
    print()
    print(f"Top {len(seqs)} milestone sequences")
    sh = ["#", "milestones", "cases", "share", "cost", "deviations"]
    print(format_table(sh, [[i + 1, _steps(s["milestones"], 60), _int(s["cases"]), _pct(s["share"]), s["cost"],
                             _short(_deviation_text(s["deviations"]), 60)] for i, s in enumerate(seqs)],
                       right=["#", "cases", "share", "cost"]))
    return EXIT_OK


def _deviation_text(devs) -> str:
    """``("incomplete: cart", "incomplete: pay")`` as ``incomplete: cart, pay``; ``-`` when none."""
    groups: dict[str, list[str]] = {}
    for d in devs:
        kind, _, milestone = str(d).partition(": ")
        groups.setdefault(kind, []).append(milestone)
    return "; ".join(f"{k}: {', '.join(v)}" for k, v in groups.items()) or "-"


def _signed_td(seconds) -> str:
    if seconds is None or _isnan(seconds):
        return "-"
    text = format_timedelta(float(seconds))
    return text if text.startswith("-") else "+" + text


# --------------------------------------------------------------------------- report


def _cmd_report(args) -> int:
    from . import reporting

    path = reporting.report(args.log, journey=args.journey, out=args.out, pdf=args.pdf, title=args.title,
                            segment_by=args.segment_by, case=args.case, activity=args.activity,
                            timestamp=args.timestamp, channel=args.channel, customer=args.customer,
                            resource=args.resource, lifecycle=args.lifecycle, value=args.value, sep=args.sep,
                            tz=args.tz, on_invalid="drop" if args.drop_invalid else None,
                            classifier=_classifier(args.classifier), encoding=args.encoding,
                            deduplicate=args.deduplicate, timeout=args.timeout, progress=True)
    print(f"wrote {path}")
    if args.pdf:
        print(f"wrote {args.pdf}")
    return EXIT_OK


# --------------------------------------------------------------------------- parser


def _timeout(text: str) -> int | None:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of seconds; write e.g. 3600") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 (no limit) or more")
    return value or None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number; write e.g. 10") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _share(text: str) -> float:
    """A share in (0, 1], written ``0.8`` or ``80%``."""
    t = text.strip()
    try:
        value = float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share; write e.g. 0.8 or 80%") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be above 0 and at most 1 (100%); write e.g. 0.8 or 80%")
    return value


def _add_log_args(p: argparse.ArgumentParser, *, optional: bool = False, quality: bool = True) -> None:
    p.add_argument("log", nargs="?" if optional else None, default=None,
                   help="event log file (.xes, .xes.gz, .csv, .csv.gz, .parquet)"
                        + ("; default: the bundled sample" if optional else ""))
    g = p.add_argument_group("reading the log (CSV / Parquet need --case, --activity and --timestamp)")
    g.add_argument("--case", help="case id column (XES default: case:concept:name)")
    g.add_argument("--activity", help="activity column (XES default: concept:name)")
    g.add_argument("--timestamp", help="timestamp column (XES default: time:timestamp)")
    g.add_argument("--channel", help="channel column (optional)")
    g.add_argument("--customer", help="customer column when the case is a session (optional)")
    g.add_argument("--resource", help="resource column (optional)")
    g.add_argument("--lifecycle", help="lifecycle transition column (optional)")
    g.add_argument("--value", help="monetary value column (optional)")
    g.add_argument("--classifier", metavar="NAME|KEYS",
                   help="XES: the activity from a classifier the file declares, or from keys joined by commas "
                        "(e.g. concept:name,lifecycle:transition)")
    g.add_argument("--sep", help="CSV separator (default: detected)")
    g.add_argument("--encoding", help="CSV text encoding (default utf-8; e.g. latin-1, cp1252, utf-16)")
    g.add_argument("--tz", help="zone of naive timestamps (default UTC)")
    if quality:
        g.add_argument("--drop-invalid", action="store_true",
                       help="drop events with a missing case, activity or timestamp (default: refuse the log)")
        g.add_argument("--deduplicate", action="store_true", help="drop exact duplicate events (default: keep them)")


def _add_common(p: argparse.ArgumentParser, *, json_flag: bool = True) -> None:
    if json_flag:
        p.add_argument("--json", action="store_true", help="machine-readable JSON on stdout")
    # also accepted after the command; SUPPRESS keeps the global value when absent
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")


#: name: (one line for ``journeylab --help``, the description of ``journeylab NAME --help``, examples)
_COMMANDS = {
    "summary": ("size, span, activities and data-quality warnings of a log",
                "Size, time span, activities and data-quality warnings (duplicates, dropped events, naive "
                "timestamps) of an event log.",
                "journeylab summary log.xes\n"
                "  journeylab summary events.csv --case id --activity step --timestamp ts --json"),
    "validate": ("check a journey definition against a log",
                 "Check a journey definition against a log: every activity and condition column it names must be "
                 "in the log. Exit 1 and list the problems (with the closest names) when they do not fit; else show "
                 "the events and cases of each milestone.",
                 "journeylab validate log.xes --journey journey.yaml\n"
                 "  journeylab validate events.parquet --case customer_id --activity activity \\\n"
                 "      --timestamp timestamp --journey journey.yaml --json"),
    "variants": ("the most frequent variants (activity sequences)",
                 "The most frequent variants (distinct activity sequences) of a log: cases, share, cumulative share "
                 "and median case duration.",
                 "journeylab variants log.xes --top 20\n"
                 "  journeylab variants events.csv --case id --activity step --timestamp ts \\\n"
                 "      --coverage 80%"),
    "conformance": ("compare the cases with a journey's happy path",
                    "Compare every case with a journey's happy path (optimal alignments): conformance rate, fitness, "
                    "deviation types and their effects, the most frequent deviations and milestone sequences.",
                    "journeylab conformance log.xes --journey journey.yaml\n"
                    "  journeylab conformance log.xes --journey journey.yaml --top 5 --json"),
    "report": ("write an HTML report of a log (and a PDF)",
               "Write a self-contained HTML report of a log (default: the bundled sample and its journey), and "
               "optionally print it to PDF.",
               "journeylab report --out build/report.html     # the bundled sample and its journey\n"
               "  journeylab report events.csv --case id --activity step --timestamp ts \\\n"
               "      --journey journey.yaml --out report.html --pdf report.pdf"),
}


class _Formatter(argparse.HelpFormatter):
    """Wraps descriptions, keeps the examples' lines as written, and sizes the command column
    to the longest command name (argparse measures it one indent short)."""

    def __init__(self, prog):
        super().__init__(prog, max_help_position=32)

    def _fill_text(self, text, width, indent):
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)

    def add_argument(self, action):
        super().add_argument(action)
        names = [len(a.dest) for a in getattr(action, "_choices_actions", ())]
        if names and action.help is not argparse.SUPPRESS:
            self._action_max_length = max(self._action_max_length, max(names) + self._current_indent + 2)


def _formatter(prog):
    return _Formatter(prog)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``journeylab`` command (one sub-parser per command).

    >>> build_parser().parse_args(["variants", "log.xes", "--top", "5"]).top
    5
    """
    from ._core.version import __version__

    parser = argparse.ArgumentParser(
        prog="journeylab", description="Customer-journey research from event logs.", formatter_class=_formatter,
        epilog="Run 'journeylab COMMAND --help' for the options of a command. Exit codes: 0 done, 1 validate found "
               "problems, 2 error.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    parser.add_argument("--version", action="version", version=f"journeylab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")

    def add(name: str) -> argparse.ArgumentParser:
        text, description, example = _COMMANDS[name]
        return sub.add_parser(name, help=text, description=description, epilog="examples:\n  " + example,
                              formatter_class=_formatter)

    p = add("summary")
    _add_log_args(p)
    p.add_argument("--top", type=_positive_int, default=20, metavar="N", help="activities shown (default 20)")
    _add_common(p)
    p.set_defaults(func=_cmd_summary)

    p = add("validate")
    _add_log_args(p)
    p.add_argument("--journey", required=True, metavar="YAML", help="journey definition (YAML file)")
    _add_common(p)
    p.set_defaults(func=_cmd_validate)

    p = add("variants")
    _add_log_args(p)
    p.add_argument("--top", type=_positive_int, default=None, metavar="N",
                   help="the N most frequent variants (default 10 when --coverage is not given)")
    p.add_argument("--coverage", type=_share, default=None, metavar="SHARE",
                   help="the most frequent variants that together cover this share of cases (0.8 or 80%%); "
                        "with --top, the shorter selection wins")
    p.add_argument("--width", type=_positive_int, default=90, metavar="CHARS",
                   help="shorten variants longer than this in the table (default 90; JSON is never shortened)")
    _add_common(p)
    p.set_defaults(func=_cmd_variants)

    p = add("conformance")
    _add_log_args(p)
    p.add_argument("--journey", required=True, metavar="YAML", help="journey definition (YAML file)")
    p.add_argument("--top", type=_positive_int, default=10, metavar="N",
                   help="deviations and milestone sequences shown (default 10)")
    p.add_argument("--no-collapse", action="store_true",
                   help="count every milestone event as a step (default: consecutive events of a milestone "
                        "are one visit)")
    _add_common(p)
    p.set_defaults(func=_cmd_conformance)

    p = add("report")
    _add_log_args(p, optional=True)
    p.add_argument("--journey", default=None, metavar="YAML",
                   help="journey definition (YAML file); default: the sample's journey with the sample, else none")
    p.add_argument("--segment-by", default=None, metavar="COLUMN", help="compare segments by this column")
    p.add_argument("--title", default=None, help="report title")
    p.add_argument("--out", default="build/report.html", metavar="HTML",
                   help="output HTML file (default build/report.html)")
    p.add_argument("--pdf", default=None, metavar="PDF", help="also print the report to this PDF (needs Chromium)")
    p.add_argument("--timeout", default=1800, type=_timeout, metavar="SECONDS",
                   help="seconds one section may take (default 1800; 0 for no limit)")
    _add_common(p, json_flag=False)
    p.set_defaults(func=_cmd_report)
    return parser


# --------------------------------------------------------------------------- main


def _error_text(err: BaseException) -> str:
    if isinstance(err, JourneylabError):
        return _one_line(err)
    if isinstance(err, OSError):
        what = err.strerror or type(err).__name__
        where = f" {err.filename!r}" if err.filename else ""
        return f"{what}:{where}. Check the path and its permissions."
    return (f"unexpected {type(err).__name__}: {_one_line(err)}. This is a bug: run again with --debug and "
            "report the traceback.")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``journeylab`` command; returns the exit code.

    >>> import journeylab as jl
    >>> main(["variants", str(jl.datasets.example_path()), "--top", "1", "--json"])  # doctest: +ELLIPSIS
    {
      "n_cases": 6,
    ...
    0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = bool(getattr(args, "debug", False))
    # what is printed for people passes a filter: a hostile log cannot rewrite the terminal
    screen = sys.stdout if getattr(args, "json", False) else _Printable(sys.stdout)
    try:
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(screen):
            warnings.simplefilter("always", DataQualityWarning)
            if not debug:
                warnings.simplefilter("ignore", FutureWarning)
                warnings.simplefilter("ignore", DeprecationWarning)
            code = args.func(args)
        seen = set()
        for w in caught:
            if issubclass(w.category, DataQualityWarning) or debug:
                text = _one_line(w.message)
                if text not in seen:
                    seen.add(text)
                    _warn(text)
        sys.stdout.flush()
        return code
    except BrokenPipeError:  # e.g. `journeylab variants log.xes | head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        if debug:
            raise
        print("journeylab: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - one line for people, the traceback with --debug
        if debug:
            raise
        print(f"journeylab: error: {printable(_error_text(err))}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
