"""The ``journeylab`` command line.

Errors are one line with the fix and exit code 2 (``--debug`` shows the traceback).

Examples (shell)::

    journeylab report --out build/report.html            # the bundled sample
    journeylab summary events.csv --case id --activity step --timestamp ts
    journeylab summary log.xes.gz --json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .exceptions import FileFormatError, JourneylabError

__all__ = ["main", "load_log"]


def load_log(path: str | None, *, case=None, activity=None, timestamp=None, channel=None, customer=None,
             sep=None, tz=None):
    """Read a log file by its extension (XES, CSV, Parquet); the bundled sample when ``path`` is None.

    >>> import journeylab as jl
    >>> load_log(str(jl.datasets.example_path())).n_cases
    6
    """
    from . import readers as _log
    from .datasets import load_default_log

    if path is None:
        return load_default_log()
    name = Path(path).name.lower()
    if name.endswith((".xes", ".xes.gz")):
        return _log.read_xes(path)
    roles = {"channel": channel, "customer": customer}
    roles = {k: v for k, v in roles.items() if v}
    if name.endswith((".csv", ".csv.gz", ".tsv", ".txt")) or name.endswith((".parquet", ".pq")):
        missing = [f"--{k}" for k, v in (("case", case), ("activity", activity), ("timestamp", timestamp)) if not v]
        if missing:
            raise JourneylabError(f"{path}: name the columns with {' '.join(missing)} (e.g. --case id --activity step --timestamp ts).")
        if name.endswith((".parquet", ".pq")):
            return _log.read_parquet(path, case=case, activity=activity, timestamp=timestamp, tz=tz, **roles)
        return _log.read_csv(path, case=case, activity=activity, timestamp=timestamp, sep=sep, tz=tz, **roles)
    raise FileFormatError(f"{path}: unknown file type; journeylab reads .xes, .xes.gz, .csv, .csv.gz and .parquet.")


def _add_log_args(p: argparse.ArgumentParser, *, optional: bool = False) -> None:
    p.add_argument("log", nargs="?" if optional else None, default=None,
                   help="event log file (.xes, .xes.gz, .csv, .csv.gz, .parquet)" + ("; default: the bundled sample" if optional else ""))
    p.add_argument("--case", help="case id column (CSV / Parquet)")
    p.add_argument("--activity", help="activity column (CSV / Parquet)")
    p.add_argument("--timestamp", help="timestamp column (CSV / Parquet)")
    p.add_argument("--channel", help="channel column (optional)")
    p.add_argument("--customer", help="customer column when the case is a session (optional)")
    p.add_argument("--sep", help="CSV separator (default: detected)")
    p.add_argument("--tz", help="zone of naive timestamps (default UTC)")


def _log_from(args):
    return load_log(args.log, case=args.case, activity=args.activity, timestamp=args.timestamp,
                    channel=args.channel, customer=args.customer, sep=args.sep, tz=args.tz)


def _cmd_summary(args) -> int:
    log = _log_from(args)
    s = log.summary()
    if args.json:
        print(json.dumps(s["value"].to_dict(), indent=2))
    else:
        print(s.to_string())
    return 0


def _cmd_report(args) -> int:
    from .reporting import report

    log = _log_from(args) if args.log else None
    path = report(log, out=args.out, title=args.title)
    print(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="journeylab", description="Customer-journey research from event logs.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("summary", help="size, span, activities and data-quality notes of a log")
    _add_log_args(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_cmd_summary)
    p = sub.add_parser("report", help="write a self-contained HTML report of a log")
    _add_log_args(p, optional=True)
    p.add_argument("--out", default="build/report.html", help="output HTML file (default build/report.html)")
    p.add_argument("--title", default=None, help="report title")
    p.set_defaults(func=_cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``journeylab`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except JourneylabError as err:
        if args.debug:
            raise
        print(f"journeylab: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
