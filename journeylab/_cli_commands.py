"""The commands of the ``journeylab`` command line, and how it reads a log.

Each ``cmd_<name>(args)`` runs one command on the parsed arguments (see :mod:`journeylab.cli`) and returns
its exit code; :func:`load_log` reads a log file by its extension (the report notebook uses it too).
"""

from __future__ import annotations

import warnings
from pathlib import Path

from ._cli_text import (
    count,
    format_table,
    isnan,
    pairs,
    pct,
    print_json,
    seconds,
    short,
    signed_duration,
    steps,
    warn,
    one_line,
)
from ._core.formatting import format_duration
from ._kernels.events import events
from .exceptions import FileFormatError, JourneylabError
from .reporting import many_files, resolve_engine

__all__ = ["EXIT_OK", "EXIT_PROBLEMS", "EXIT_ERROR", "load_log", "log_from", "classifier_arg", "journey_from",
           "cmd_summary", "cmd_validate", "cmd_variants", "cmd_conformance", "cmd_drivers", "cmd_predict", "cmd_report"]

EXIT_OK, EXIT_PROBLEMS, EXIT_ERROR = 0, 1, 2


# --------------------------------------------------------------------------- reading

def _spark_session():
    """The active Spark session, or a local one (``JOURNEYLAB_SPARK_MASTER``, default ``local[*]``)."""
    import os

    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise JourneylabError("--engine spark needs pyspark (pip install 'journeylab[spark]', and Java 17); or use "
                              "--engine duckdb, which reads the same Parquet files in process.") from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    spark = (SparkSession.builder.master(os.environ.get("JOURNEYLAB_SPARK_MASTER", "local[*]"))
             .appName("journeylab").config("spark.ui.enabled", "false")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.driver.memory", os.environ.get("JOURNEYLAB_SPARK_DRIVER_MEMORY", "4g")).getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _engine_log(path, engine: str, *, case, activity, timestamp, roles: dict, tz, on_invalid):
    """A lazy log over Parquet file(s): DuckDB (scan_parquet) or a Spark table."""
    from . import readers

    name = str(path).lower().rstrip("/")
    if not (many_files(path) or name.endswith((".parquet", ".pq"))):
        raise FileFormatError(f"{path}: --engine {engine} reads Parquet (a file, a folder of part files or a glob); "
                              "convert the log to Parquet, or use --engine memory.")
    missing = [f"--{k}" for k, v in (("case", case), ("activity", activity), ("timestamp", timestamp)) if not v]
    if missing:
        raise JourneylabError(f"{path}: name the columns with {' '.join(missing)} (e.g. --case id --activity step "
                              "--timestamp ts).")
    if engine == "duckdb":
        return readers.scan_parquet(path, case=case, activity=activity, timestamp=timestamp, tz=tz,
                                    on_invalid=on_invalid or "raise", **roles)
    import ibis

    files, source = readers._parquet_files(path)
    spark = _spark_session()
    view = "journeylab_events"
    spark.read.parquet(*files).createOrReplaceTempView(view)
    table = ibis.pyspark.connect(spark).table(view)
    if on_invalid == "drop":
        table = table.filter(table[case].notnull() & table[activity].notnull() & table[timestamp].notnull())
    log = readers.from_ibis(table, case=case, activity=activity, timestamp=timestamp, **roles)
    log._meta.update(source=source, files=len(files))
    return log


def load_log(path: str | None, *, case=None, activity=None, timestamp=None, channel=None, customer=None,
             resource=None, lifecycle=None, value=None, sep=None, tz=None, on_invalid: str | None = None,
             deduplicate: bool = False, classifier=None, encoding=None, engine: str = "memory"):
    """Read a log file by its extension (XES, CSV, Parquet); the bundled sample when ``path`` is None.

    Roles left at None take the readers' defaults (for XES: the standard keys, and
    ``lifecycle:transition`` / ``org:resource`` when the file has them). ``classifier`` (XES
    only) builds the activity from a declared classifier or several keys; ``encoding`` (CSV
    only) is the file's text encoding. ``on_invalid="drop"`` drops events with a missing case,
    activity or timestamp (default: refuse them); ``deduplicate=True`` drops exact duplicate
    events (default: keep them, with a warning). ``engine`` (see :func:`resolve_engine`):
    "memory" reads the file into pandas; "duckdb" (:func:`journeylab.scan_parquet`) and "spark"
    (a table of the active Spark session, or of a local one) leave Parquet events in the engine
    and accept a folder or a glob of part files.

    >>> import journeylab as jl
    >>> load_log(str(jl.datasets.example_path())).n_cases
    6
    """
    from . import readers
    from .datasets import load_default_log

    if path is None:
        return load_default_log()
    roles = {"channel": channel, "customer": customer, "resource": resource, "lifecycle": lifecycle, "value": value}
    roles = {k: v for k, v in roles.items() if v}
    engine = resolve_engine(path, engine)
    if engine != "memory":
        if deduplicate:
            raise JourneylabError(f"{path}: --deduplicate works in memory only; drop duplicates where the table is "
                                  "made, or use --engine memory.")
        return _engine_log(path, engine, case=case, activity=activity, timestamp=timestamp, roles=roles, tz=tz,
                           on_invalid=on_invalid)
    if many_files(path):
        raise FileFormatError(f"{path} is a folder or a glob of part files: read it with --engine duckdb or "
                              "--engine spark (engine='duckdb' in Python).")
    quality = {"deduplicate": bool(deduplicate)}
    if on_invalid:
        quality["on_invalid"] = on_invalid
    if not Path(path).is_file():
        raise FileFormatError(f"No file at {path}. Check the path (journeylab reads .xes, .xes.gz, .csv, .csv.gz, .parquet).")
    name = Path(path).name.lower()
    if name.endswith((".xes", ".xes.gz")):
        if encoding:
            raise JourneylabError(f"{path}: --encoding is for CSV files; an XES file declares its own encoding.")
        named = {k: v for k, v in (("case", case), ("activity", activity), ("timestamp", timestamp)) if v}
        return readers.read_xes(path, **named, **roles, classifier=classifier, tz=tz, **quality)
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
            return readers.read_parquet(path, case=case, activity=activity, timestamp=timestamp, tz=tz, **roles, **quality)
        return readers.read_csv(path, case=case, activity=activity, timestamp=timestamp, sep=sep, tz=tz, **roles,
                             **quality, **({"encoding": encoding} if encoding else {}))
    raise FileFormatError(f"{path}: unknown file type; journeylab reads .xes, .xes.gz, .csv, .csv.gz and .parquet.")


def log_from(args):
    return load_log(args.log, case=args.case, activity=args.activity, timestamp=args.timestamp,
                    channel=args.channel, customer=args.customer, resource=args.resource, lifecycle=args.lifecycle,
                    value=args.value, sep=args.sep, tz=args.tz, classifier=classifier_arg(args.classifier),
                    encoding=args.encoding,
                    on_invalid="drop" if getattr(args, "drop_invalid", False) else None,
                    deduplicate=getattr(args, "deduplicate", False))


def classifier_arg(text):
    """--classifier NAME, or several keys separated by commas: "concept:name,lifecycle:transition"."""
    if not text:
        return None
    keys = [k.strip() for k in text.split(",") if k.strip()]
    return keys if len(keys) > 1 else text


def journey_from(path):
    from .journey import Journey

    return Journey.from_yaml(path)


# --------------------------------------------------------------------------- summary


def _activity_counts(log):
    df = events(log, [])
    acts = df.groupby("activity", observed=True).agg(events=("case", "size"), cases=("case", "nunique"))
    return acts.reset_index().sort_values(["events", "activity"], ascending=[False, True], ignore_index=True)


def cmd_summary(args) -> int:
    from ._report.sections import quality_notes  # the report's data-quality notes, shared

    log = log_from(args)
    notes = [one_line(n) for n in quality_notes(log)]
    acts = _activity_counts(log)
    meta = log._meta
    if args.json:
        roles = [r for r in ("channel", "lifecycle", "resource", "customer") if log.has_role(r)]
        df = events(log, roles)
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
        for role in roles:
            data[f"{role}s"] = int(df[role].nunique())
        data["attributes"] = list(log.attributes)
        data["duplicates_kept"] = int(meta.get("duplicates", 0))
        data["duplicates_dropped"] = int(meta.get("dropped_duplicates", 0))
        data["invalid_dropped"] = int(meta.get("dropped_invalid", 0))
        data["activity_counts"] = [{"activity": r.activity, "events": r.events, "cases": r.cases,
                                    "share_of_cases": r.cases / log.n_cases} for r in acts.itertuples()]
        data["warnings"] = notes
        print_json(data)
        return EXIT_OK
    s = log.summary()
    print(pairs(list(zip(s.index, s["value"]))))
    print()
    limit = args.top
    shown = acts.head(limit)
    print(format_table(["activity", "events", "cases", "share of cases"],
                       [[a.activity, count(a.events), count(a.cases), pct(a.cases / log.n_cases)]
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

    columns = {c.column for m in journey.milestones for c in m.conditions}
    df = events(log, sorted(columns), activities=[a for m in journey.milestones for a in m.activities])
    ms = journey.milestone_of(df)
    hit = pd.DataFrame({"case": df["case"].to_numpy(), "milestone": ms.to_numpy()}).dropna()
    n_events = hit.groupby("milestone", observed=False).size()
    cases = hit.groupby("milestone", observed=False)["case"].nunique()
    out = []
    for m in journey.milestones:
        out.append({"milestone": m.name, "kind": m.kind, "optional": bool(m.optional),
                    "on_happy_path": m.name in journey.happy_path, "activities": list(m.activities),
                    "events": int(n_events.get(m.name, 0)), "cases": int(cases.get(m.name, 0)),
                    "share_of_cases": int(cases.get(m.name, 0)) / log.n_cases})
    return out


def cmd_validate(args) -> int:
    log = log_from(args)
    journey = journey_from(args.journey)
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
        print_json({"log": source, "journey": journey.name, "journey_file": str(args.journey),
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
                         short(", ".join(m["activities"]), 50), count(m["events"]), count(m["cases"]),
                         pct(m["share_of_cases"])] for m in milestones],
                       right=["events", "cases", "share of cases"]))
    if unused:
        print()
        what = "activity of the log is" if len(unused) == 1 else "activities of the log are"
        print(short(f"{len(unused)} {what} in no part of the journey: {', '.join(unused)}", 200))
    for n in notes:
        print(f"warning: {n}")
    return EXIT_PROBLEMS if problems else EXIT_OK


# --------------------------------------------------------------------------- variants


def cmd_variants(args) -> int:
    from .discovery import variants

    log = log_from(args)
    top = args.top if args.top is not None or args.coverage is not None else 10
    v = variants(log, top=top, coverage=args.coverage)
    t = v.table
    if args.json:
        print_json({
            "n_cases": v.n_cases, "n_variants": v.n_variants, "shown": len(t), "coverage": v.coverage,
            "variants": [{"rank": i + 1, "variant": list(r.variant), "length": int(r.length), "count": int(r.count),
                          "share": float(r.share), "cumulative_share": float(r.cumulative_share),
                          "median_duration_seconds": seconds(r.duration_median)}
                         for i, r in enumerate(t.itertuples())],
        })
        return EXIT_OK
    print(repr(v))
    print()
    print(format_table(["#", "variant", "steps", "cases", "share", "cumulative", "median duration"],
                       [[i + 1, steps(r.variant, args.width), count(r.length), count(r.count), pct(r.share),
                         pct(r.cumulative_share), format_duration(r.duration_median)]
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


def cmd_conformance(args) -> int:
    from .conformance import DEVIATION_LABELS, compare

    log = log_from(args)
    journey = journey_from(args.journey)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        c = compare(log, journey, collapse=not args.no_collapse)  # refuses a happy path the log cannot match
    for w in caught:  # shown by main(), with the others
        warnings.warn(w.message, w.category)
    problems = journey.problems(log)
    said = " ".join(str(w.message) for w in caught)
    unsaid = [p for p in problems if p not in said]  # compare warns about milestones, not goal or phases
    if unsaid:
        warn(f"journey {journey.name!r} does not fit the log ({len(unsaid)} problem"
              f"{'s' if len(unsaid) > 1 else ''}, first: {unsaid[0]}); `journeylab validate` lists them.")
    n = c.n_cases
    conforming = int(c.cases["conforms"].sum())
    e = c.effects
    types = [{"type": str(t), "cases": int(r["cases"]), "share": r["share"], "occurrences": int(r["occurrences"]),
              "completed": int(r["completed"]), "duration_median_seconds": seconds(r["duration_median"]),
              "duration_diff_seconds": seconds(r["duration_diff"]),
              "duration_diff_low_seconds": seconds(r["duration_diff_low"]),
              "duration_diff_high_seconds": seconds(r["duration_diff_high"]),
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
        print_json({"log": source, "journey": journey.name, "happy_path": list(c.happy_path),
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
    print(pairs(list(zip(c.summary.index[:7], c.summary["value"][:7]))))
    print()
    print("Deviation types")
    has_goal = "goal_diff" in e and e["goal_diff"].notna().any()
    header = ["deviation", "cases", "share", "occurrences", "median duration", "duration vs conforming"]
    header += ["goal rate", "goal vs conforming"] if has_goal else []
    rows = []
    for t in types:
        row = [DEVIATION_LABELS[t["type"]], count(t["cases"]), pct(t["share"]), count(t["occurrences"]),
               format_duration(t["duration_median_seconds"]), signed_duration(t["duration_diff_seconds"])]
        if has_goal:
            g = t["goal_diff"]
            row += [pct(t["goal_rate"]), "-" if g is None or isnan(g) else f"{100 * g:+.1f} pp"]
        rows.append(row)
    print(format_table(header, rows, right=header[1:]))
    print()
    print("Happy-path milestones (share of aligned cases)")
    kinds = ["in_order", "repeated", "out_of_order", "skipped", "incomplete"]
    mh = ["milestone"] + [k.replace("_", " ") for k in kinds]
    print(format_table(mh, [[p["milestone"]] + [pct(p[f"share_{k}"]) for k in kinds] for p in path], right=mh[1:]))
    if top_dev:
        print()
        print(f"Top {len(top_dev)} deviations")
        dh = ["deviation", "cases", "share", "occurrences"]
        print(format_table(dh, [[d["deviation"], count(d["cases"]), pct(d["share"]), count(d["occurrences"])]
                                for d in top_dev], right=dh[1:]))
    print()
    print(f"Top {len(seqs)} milestone sequences")
    sh = ["#", "milestones", "cases", "share", "cost", "deviations"]
    print(format_table(sh, [[i + 1, steps(s["milestones"], 60), count(s["cases"]), pct(s["share"]), s["cost"],
                             short(_deviation_text(s["deviations"]), 60)] for i, s in enumerate(seqs)],
                       right=["#", "cases", "share", "cost"]))
    return EXIT_OK


# --------------------------------------------------------------------------- drivers


def _num(x):
    """A float for JSON (None for NaN)."""
    return None if x is None or isnan(x) else float(x)


def cmd_drivers(args) -> int:
    from .drivers import drivers

    log = log_from(args)
    journey = journey_from(args.journey)
    d = drivers(log, journey, outcome=args.outcome, at=args.at, unit=args.unit, adjust=args.adjust, random_state=0)
    t = d.table.head(args.top)
    if args.json:
        print_json({"journey": journey.name, "outcome": d.outcome, "at": args.at, "unit": d.unit,
                    "cases": d.n_cases,
                    "successes": d.n_success, "rate": d.rate, "min_support": d.min_support,
                    "tested": len(d.table), "below_support": d.n_below_support, "confidence": d.confidence,
                    "adjusted": bool(args.adjust),
                    "candidates": [{"candidate": r.candidate, "kind": r.kind, "support": int(r.support),
                                    "share": float(r.share), "rate_with": float(r.rate_with),
                                    "rate_without": float(r.rate_without), "odds_ratio": float(r.odds_ratio),
                                    "or_low": float(r.or_low), "or_high": float(r.or_high),
                                    "p_value": float(r.p_value), "test": r.test, "p_adjusted": float(r.p_adjusted),
                                    "significant": bool(r.significant), "adjusted_or": _num(r.adjusted_or),
                                    "adjusted_low": _num(r.adjusted_low), "adjusted_high": _num(r.adjusted_high),
                                    "confounded": bool(r.confounded)} for r in t.itertuples()],
                    "excluded": d.excluded.to_dict("records")})
        return EXIT_OK
    print(repr(d))
    print()
    header = ["#", "candidate", "kind", "cases", "rate with", "rate without", "odds ratio", "interval", "p (BH)"]
    header += ["adjusted", "confounded"] if args.adjust else []
    rows = []
    for i, r in enumerate(t.itertuples()):
        row = [i + 1, short(r.candidate, 50), r.kind, count(r.support), pct(r.rate_with), pct(r.rate_without),
               f"{r.odds_ratio:.2f}", f"{r.or_low:.2f} .. {r.or_high:.2f}", f"{r.p_adjusted:.3g}"]
        if args.adjust:
            row += ["-" if isnan(r.adjusted_or) else f"{r.adjusted_or:.2f}", "yes" if r.confounded else ""]
        rows.append(row)
    print(format_table(header, rows, right=["#", "cases", "rate with", "rate without", "odds ratio", "p (BH)"]))
    if len(d.table) > len(t):
        print(f"... {len(d.table) - len(t):,} more candidates (--top N shows more)")
    if len(d.excluded):
        print(f"{len(d.excluded):,} candidates refused as the outcome or defined from it (--json lists them).")
    return EXIT_OK


def _deviation_text(devs) -> str:
    """``("incomplete: cart", "incomplete: pay")`` as ``incomplete: cart, pay``; ``-`` when none."""
    groups: dict[str, list[str]] = {}
    for d in devs:
        kind, _, milestone = str(d).partition(": ")
        groups.setdefault(kind, []).append(milestone)
    return "; ".join(f"{k}: {', '.join(v)}" for k, v in groups.items()) or "-"


# --------------------------------------------------------------------------- predict


def cmd_predict(args) -> int:
    import io

    from ._core.io import atomic_write, check_output
    from .predictions import predict

    log = log_from(args)
    journey = journey_from(args.journey)
    check_output(args.out, name="--out", example="scores.parquet")
    pred = predict(log, journey, target=args.target, as_of=args.as_of, horizon=args.horizon, model=args.model)
    scores = pred.to_frame()
    scores["customer"] = scores["customer"].astype(str)
    buf = io.BytesIO()
    scores.to_parquet(buf, index=False)
    path = atomic_write(args.out, buf.getvalue(), name="--out", example="scores.parquet")
    ev = pred.evaluate().metrics
    if args.json:
        print_json({"journey": journey.name, "target": args.target, "as_of": str(pred.as_of),
                    "horizon": args.horizon, "model": args.model, "scored": len(scores), "out": str(path),
                    "metrics": [{"metric": r.metric, "model": r.model, "baseline": r.baseline}
                                for r in ev.itertuples()]})
        return EXIT_OK
    print(f"{pred!r}")
    header = ["metric", "model", "baseline"]
    print(format_table(header, [[r.metric, f"{r.model:.3f}", f"{r.baseline:.3f}"] for r in ev.itertuples()],
                       right=header[1:]))
    print(f"{count(len(scores))} scores written to {path}")
    return EXIT_OK


# --------------------------------------------------------------------------- report


def cmd_report(args) -> int:
    from . import reporting

    path = reporting.report(args.log, engine=args.engine, engine_threshold=args.engine_threshold, journey=args.journey, out=args.out, pdf=args.pdf, title=args.title,
                            segment_by=args.segment_by, case=args.case, activity=args.activity,
                            timestamp=args.timestamp, channel=args.channel, customer=args.customer,
                            resource=args.resource, lifecycle=args.lifecycle, value=args.value, sep=args.sep,
                            tz=args.tz, on_invalid="drop" if args.drop_invalid else None,
                            classifier=classifier_arg(args.classifier), encoding=args.encoding,
                            deduplicate=args.deduplicate, timeout=args.timeout, progress=True,
                            model_sample=args.model_sample, **({"predict": True} if args.predict else {}))
    print(f"wrote {path}")
    if args.pdf:
        print(f"wrote {args.pdf}")
    return EXIT_OK
