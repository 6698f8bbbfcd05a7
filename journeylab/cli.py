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
import os
import sys
import warnings

from ._core.vocabulary import MODEL_SAMPLE
from .exceptions import DataQualityWarning, JourneylabError

# The commands and their output are imported when a command runs, not when the parser is built:
# ``journeylab --help`` and argument errors answer without loading pandas, DuckDB or pm4py.
_LAZY = {
    "EXIT_OK": "._cli_commands", "EXIT_ERROR": "._cli_commands", "EXIT_PROBLEMS": "._cli_commands",
    "load_log": "._cli_commands", "format_table": "._cli_text", "printable": "._cli_text",
}

__all__ = ["main", "build_parser", "load_log", "format_table", "printable"]


# --------------------------------------------------------------------------- parser


def _timeout(text: str) -> int | None:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of seconds; write e.g. 3600") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 (no limit) or more")
    return value or None


def _model_sample(text: str) -> int | None:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of customers; write e.g. 250000") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 (every customer) or more")
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
    "drivers": ("what distinguishes the cases that reach an outcome",
                "What distinguishes the cases that reach an outcome (the journey's goal, its completion, a "
                "milestone or a boolean case column) from those that drop: per candidate (activity, transition, "
                "channel, attribute value, deviation) its support, outcome rate with and without, the +1-smoothed "
                "odds ratio with its interval and the Benjamini-Hochberg adjusted p-value, most significant first.",
                "journeylab drivers log.parquet --case customer_id --activity activity --timestamp timestamp \\\n"
                "      --journey journey.yaml --at purchase\n"
                "  journeylab drivers log.xes --journey journey.yaml --outcome checkout --adjust --json"),
    "predict": ("score the customers still in a journey (jl.predict) and write the scores",
                "Learn from the journey's past (prefixes cut at past dates, split by time) and score the customers "
                "in flight at --as-of: the probability of the target within --horizon (or the remaining time), "
                "the baseline, the current milestone and the reasons, written atomically as Parquet.",
                "journeylab predict log.parquet --journey journey.yaml --as-of 2025-06-01 --out scores.parquet\n"
                "  journeylab predict log.xes --journey journey.yaml --target attrition --horizon 7d --json"),
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
    p.set_defaults(command="summary")

    p = add("validate")
    _add_log_args(p)
    p.add_argument("--journey", required=True, metavar="YAML", help="journey definition (YAML file)")
    _add_common(p)
    p.set_defaults(command="validate")

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
    p.set_defaults(command="variants")

    p = add("conformance")
    _add_log_args(p)
    p.add_argument("--journey", required=True, metavar="YAML", help="journey definition (YAML file)")
    p.add_argument("--top", type=_positive_int, default=10, metavar="N",
                   help="deviations and milestone sequences shown (default 10)")
    p.add_argument("--no-collapse", action="store_true",
                   help="count every milestone event as a step (default: consecutive events of a milestone "
                        "are one visit)")
    _add_common(p)
    p.set_defaults(command="conformance")

    p = add("drivers")
    _add_log_args(p)
    p.add_argument("--journey", required=True, metavar="YAML", help="journey definition (YAML file)")
    p.add_argument("--outcome", default="goal", metavar="OUTCOME",
                   help="goal (default), conversion, a milestone name or a boolean case column")
    p.add_argument("--at", default=None, metavar="MILESTONE",
                   help="count only what happened before the case first reached this milestone")
    p.add_argument("--unit", default=None, choices=["customer", "case"],
                   help="compare customers (default when the log has a --customer column) or cases")
    p.add_argument("--top", type=_positive_int, default=15, metavar="N", help="candidates shown (default 15)")
    p.add_argument("--adjust", action="store_true",
                   help="add adjusted odds ratios (penalised logistic regression, 100 bootstrap refits; slower)")
    _add_common(p)
    p.set_defaults(command="drivers")
    p = add("predict")
    _add_log_args(p)
    p.add_argument("--journey", required=True, metavar="YAML", help="journey definition (YAML file)")
    p.add_argument("--as-of", default=None, metavar="DATE", help="the scoring date (default: the last event)")
    p.add_argument("--target", default="goal",
                   choices=["goal", "conversion", "attrition", "remaining_time", "next_milestone"],
                   help="what to predict (default goal)")
    p.add_argument("--horizon", default="14d", metavar="DURATION", help="how far ahead (default 14d)")
    p.add_argument("--model", default="gbm", choices=["gbm", "logistic"], help="the model (default gbm)")
    p.add_argument("--out", default="scores.parquet", metavar="PARQUET",
                   help="output Parquet file (default scores.parquet)")
    _add_common(p)
    p.set_defaults(command="predict")

    p = add("report")
    _add_log_args(p, optional=True)
    p.add_argument("--journey", default=None, metavar="YAML",
                   help="journey definition (YAML file); default: the sample's journey with the sample, else none")
    p.add_argument("--segment-by", default=None, metavar="COLUMN", help="compare segments by this column")
    p.add_argument("--predict", action="store_true",
                   help="add a section of predictions for the customers in flight (jl.predict on the goal)")
    p.add_argument("--model-sample", default=MODEL_SAMPLE, type=_model_sample, metavar="N",
                   help=f"fit the segments, the drivers and the predictions on a random sample of N customers when "
                        f"the log has more (default {MODEL_SAMPLE:,}; 0 for every customer); the other sections "
                        f"count them all")
    p.add_argument("--title", default=None, help="report title")
    p.add_argument("--out", default="build/report.html", metavar="HTML",
                   help="output HTML file (default build/report.html)")
    p.add_argument("--pdf", default=None, metavar="PDF", help="also print the report to this PDF (needs Chromium)")
    p.add_argument("--timeout", default=1800, type=_timeout, metavar="SECONDS",
                   help="seconds one section may take (default 1800; 0 for no limit)")
    p.add_argument("--engine", default=None, choices=["duckdb", "spark", "memory"],
                   help="where the events are read and reduced: duckdb (Parquet scanned in process, larger than "
                        "memory is fine), spark (a local Spark session), memory (pandas); default: duckdb for "
                        "Parquet larger than --engine-threshold or a folder of part files, memory otherwise")
    p.add_argument("--engine-threshold", default="500MB", metavar="SIZE",
                   help="Parquet input larger than this is read with DuckDB when --engine is not given "
                        "(default 500MB)")
    _add_common(p, json_flag=False)
    p.set_defaults(command="report")
    return parser


# --------------------------------------------------------------------------- main


def _error_text(err: BaseException) -> str:
    from ._cli_text import one_line

    if isinstance(err, JourneylabError):
        return one_line(err)
    if isinstance(err, OSError):
        what = err.strerror or type(err).__name__
        where = f" {err.filename!r}" if err.filename else ""
        return f"{what}:{where}. Check the path and its permissions."
    return (f"unexpected {type(err).__name__}: {one_line(err)}. This is a bug: run again with --debug and "
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
    args = parser.parse_args(argv)  # --help and argument errors end here, before anything heavy is imported
    from . import _cli_commands as commands
    from ._cli_text import Printable, one_line, printable, warn

    debug = bool(getattr(args, "debug", False))
    # what is printed for people passes a filter: a hostile log cannot rewrite the terminal
    screen = sys.stdout if getattr(args, "json", False) else Printable(sys.stdout)
    try:
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(screen):
            warnings.simplefilter("always", DataQualityWarning)
            if not debug:
                warnings.simplefilter("ignore", FutureWarning)
                warnings.simplefilter("ignore", DeprecationWarning)
            code = getattr(commands, f"cmd_{args.command}")(args)
        seen = set()
        for w in caught:
            if issubclass(w.category, DataQualityWarning) or debug:
                text = one_line(w.message)
                if text not in seen:
                    seen.add(text)
                    warn(text)
        sys.stdout.flush()
        return code
    except BrokenPipeError:  # e.g. `journeylab variants log.xes | head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return commands.EXIT_OK
    except KeyboardInterrupt:
        if debug:
            raise
        print("journeylab: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - one line for people, the traceback with --debug
        if debug:
            raise
        print(f"journeylab: error: {printable(_error_text(err))}", file=sys.stderr)
        return commands.EXIT_ERROR


def __getattr__(name: str):
    """The public names of the commands' module, loaded on first use; and the names that lived here before
    the commands and their output moved out (issue 14), deprecated for one more release."""
    import importlib

    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __package__), name)
        globals()[name] = value
        return value
    if name not in ("format_timedelta", "FileFormatError"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import exceptions as _exceptions
    from ._core import formatting as _formatting
    from ._core.deprecation import moved_names

    return moved_names(__name__, {
        "format_timedelta": (_formatting.format_duration, "journeylab._core.formatting.format_duration"),
        "FileFormatError": (_exceptions.FileFormatError, "journeylab.FileFormatError"),
    })(name)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
