"""The sections of the report, as HTML strings (used by the report notebook).

Every function returns finished HTML: figures are inline PNG images and every string that
comes from the data is escaped. A section that needs something the input lacks says, in
one sentence, what to add. The report notebook (``templates/report.ipynb``) displays them
one cell per section; :func:`journeylab.report` runs it and exports the result.

>>> import journeylab as jl
>>> "<h2>Overview</h2>" in overview_section(jl.datasets.load_example())
True
"""

from __future__ import annotations

import hashlib
import platform
import warnings
from html import escape

import pandas as pd

from .._core.formatting import format_count, format_duration as _fmt_td, format_share
from .._kernels.events import events
from .._core.version import package_version
from ..exceptions import DataQualityWarning, JourneylabError
from .data import counts, distinct_values, engine_fingerprint, engine_label, model_log, time_span  # noqa: F401  (public here too)
from .html import figure as _figure, note as _note, section as _section, table as _table, warn as _warn
from .predictions import prediction_sections  # noqa: F401  (public here too)

__all__ = ["overview", "overview_section", "distinct_values", "engine_label", "engine_fingerprint", "discovery_sections", "happy_path_sections", "goals_sections",
           "prediction_sections", "experience_sections", "drivers_section", "retention_section", "segments_section", "appendix_section", "file_sha256", "frame_sha256"]


# --------------------------------------------------------------------------- overview


def overview(log) -> dict[str, pd.DataFrame | dict]:
    """The numbers behind the report's overview: cards, activities, channels, variants.

    >>> import journeylab as jl
    >>> overview(jl.datasets.load_example())["cards"]["cases"]
    '6'
    """
    from .. import engine

    start, end = time_span(log)
    cards = {
        "events": f"{log.n_events:,}",
        "cases": f"{log.n_cases:,}",
        "activities": f"{len(log.activities):,}",
        "time span": f"{start:%Y-%m-%d} .. {end:%Y-%m-%d}",
    }
    if log.has_role("channel"):
        cards["channels"] = f"{distinct_values(log, 'channel').size:,}"
    acts = counts(log, "activity").sort_values(["events"], ascending=False).reset_index()
    acts["share of events"] = (acts["events"] / log.n_events).map(format_share)
    acts["share of cases"] = (acts["cases"] / log.n_cases).map(format_share)
    out: dict = {"cards": cards, "activities": acts}
    if log.has_role("channel"):
        ch = counts(log, "channel").reset_index().sort_values("events", ascending=False)
        ch["share of events"] = (ch["events"] / log.n_events).map(format_share)
        out["channels"] = ch
    var = engine.variants(log)
    var["share"] = var["count"] / log.n_cases
    var["cumulative"] = var["share"].cumsum()
    out["variants"] = var
    return out


def quality_notes(log, caught=()) -> list[str]:
    """Data-quality notes on ``log``: what reading it found (duplicates, dropped rows, naive
    timestamps) and the texts of the warnings ``caught`` while it was read.

    >>> import journeylab as jl
    >>> quality_notes(jl.datasets.load_example())
    []
    """
    meta = log._meta
    notes = []
    if meta.get("duplicates"):
        notes.append(f"{meta['duplicates']:,} exact duplicate events are kept; read with deduplicate=True to drop them.")
    if meta.get("dropped_invalid"):
        notes.append(f"{meta['dropped_invalid']:,} events with a missing case, activity or timestamp were dropped.")
    if meta.get("dropped_duplicates"):
        notes.append(f"{meta['dropped_duplicates']:,} exact duplicate events were dropped.")
    if "naive" in str(meta.get("tz_note", "")):
        notes.append(f"Timestamps had no zone: {meta['tz_note']}.")
    for w in caught:
        text = str(getattr(w, "message", w))
        if text not in notes:
            notes.append(text)
    return notes


def _summary_rows(log) -> pd.DataFrame:
    """The rows of ``log.summary()`` that the cards above do not already show."""
    s = log.summary().reset_index()
    return s[~s["metric"].isin(["events", "cases", "activities", "channels", "time span", "source"])]


def overview_section(log, caught=(), *, source: str | None = None) -> str:
    """The "Overview" section: size cards, quality warnings, the summary table, activities and channels."""
    data = overview(log)
    cards = "".join(
        f'<div class="card"><div class="v">{escape(v)}</div><div class="k">{escape(k)}</div></div>'
        for k, v in data["cards"].items()
    )
    notes = quality_notes(log, caught)
    quality = "".join(_warn(n) for n in notes) or _note("No data-quality warning: no duplicate, dropped or "
                                                         "zone-less event was found.")
    acts, chans = data["activities"].copy(), data.get("channels")
    for df in (acts, chans):
        if df is not None:
            for col in ("events", "cases"):
                df[col] = df[col].map(format_count)
    body = (f'<div class="cards">{cards}</div>' + (_note(f"Source: {source}.") if source else "") + quality
            + _table(_summary_rows(log))
            + "<h3>Activities</h3>" + _table(acts, numeric=("events", "cases", "share of events", "share of cases")))
    if chans is not None:
        body += "<h3>Channels</h3>" + _table(chans, numeric=("events", "cases", "share of events"))
    return _section("Overview", body)


# --------------------------------------------------------------------------- discovery


def _variant_table(var: pd.DataFrame, top: int) -> pd.DataFrame:
    shown = var.head(top)
    return pd.DataFrame({
        "#": range(1, len(shown) + 1),
        "variant": [" → ".join(v) for v in shown["variant"]],
        "steps": [len(v) for v in shown["variant"]],
        "cases": shown["count"].map(format_count),
        "share": shown["share"].map(format_share),
        "cumulative": shown["cumulative"].map(format_share),
        "median duration": shown["duration_median"].map(_fmt_td),
    })


def discovery_sections(log, *, top_variants: int = 10) -> list[str]:
    """The process map, the variant explorer and the top paths."""
    from ..discovery import discover, paths, variants

    data = overview(log)
    out = []
    try:
        pm = discover(log, activities=0.8, paths=0.3)
        body = _note(f"{pm!r}. The most frequent activities covering 80% of the events, and the strongest "
                     "30% of paths that keep every activity on a path from start to end.") + _figure(pm.plot())
        body += _note("The same map with the median time between steps:") + _figure(pm.plot(metric="time"))
    except JourneylabError as err:
        body = _note(f"No process map: {err}")
    out.append(_section("Process map", body))

    var = data["variants"]
    body = (_note(f"{len(var):,} variants; the top {min(top_variants, len(var))} cover "
                  f'{format_share(var["share"].head(top_variants).sum())} of cases.')
            + _figure(variants(log, top=top_variants).plot())
            + _table(_variant_table(var, top_variants), numeric=("steps", "cases", "share", "cumulative")))
    out.append(_section("Top variants", body))

    anchor = data["activities"]["activity"].iloc[0] if len(data["activities"]) else None
    try:
        p = paths(log, anchor=anchor, direction="next", steps=3, top=10)
        body = _note(f"What customers do after '{anchor}', the most frequent activity (3 steps).") + _figure(p.plot())
    except JourneylabError as err:
        body = _note(f"No paths: {err}")
    out.append(_section("Top paths", body))
    return out


# --------------------------------------------------------------------------- journey


def _no_journey(what: str) -> str:
    return _note(f"No journey definition was given: add one (--journey JOURNEY.yaml, or journey=... in Python) "
                 f"to see {what}.")


def _session_log(log):
    """The log of journey sessions when the log has a session_id column, else the log itself."""
    if "session_id" not in log.attributes:
        return log
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # events outside sessions, said in the note
        return log.sessions(by="session_id")


def happy_path_sections(log, journey) -> list[str]:
    """Conformance with the happy path, the milestone funnel, and stalls / fallout / attrition."""
    from .happy_path import happy_path_report as _report_sections

    if journey is None:
        return [_section("Comparison with the happy path",
                         _no_journey("the comparison with the happy path, the funnel, stalls, fallout and attrition"))]
    try:
        session_log = _session_log(log)
        note = (_note(f"In this comparison a case is a journey session: {session_log.n_cases:,} sessions "
                      f"(session_id) of {log.n_cases:,} customers.") if session_log is not log else "")
        return [f"<section><h2>{escape(title)}</h2>{note}{body}</section>"
                for title, body in _report_sections(session_log, journey)]
    except JourneylabError as err:
        return [_section("Comparison with the happy path", _note(f"Not computed: {err}"))]


def goals_sections(log, journey, *, version: str = "version") -> list[str]:
    """Goal attainment, and the A/B verdict when the log has a ``version`` column with two or more values."""
    from ..abtest import ab_test
    from ..goals import goal_attainment

    if journey is None:
        return [_section("Goals and A/B test", _no_journey("goal attainment and the A/B verdict"))]
    if journey.goal is None:
        return [_section("Goals and A/B test", _note("The journey has no goal: add a 'goal:' block to its "
                                                     "definition to see goal attainment and A/B tests."))]
    out = []
    try:
        ga = goal_attainment(log, journey)
        out.append(_section("Goal attainment", _note(repr(ga)) + _figure(ga.plot())
                            + _table(ga.summary.reset_index())))
        del ga  # its per-customer tables: not kept while the A/B test computes its own
    except JourneylabError as err:
        out.append(_section("Goal attainment", _note(f"Goal attainment could not be computed: {err}")))
    if version not in log.attributes:
        out.append(_section("A/B test", _note(f"The log has no '{version}' column: add the journey version each "
                                              "customer saw (e.g. A / B) to see the A/B verdict.")))
        return out
    try:
        values = distinct_values(log, version)
        control = "A" if "A" in set(map(str, values)) else str(sorted(map(str, values))[0])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DataQualityWarning)
            ab = ab_test(log, journey, version=version, control=control)
        notes = "".join(_warn(str(w.message)) for w in caught if issubclass(w.category, DataQualityWarning))
        s = ab.summary.reset_index().rename(columns={"index": "version"})
        body = (f"<p><b>Verdict: {escape(ab.verdict)}</b> (control {escape(str(ab.control))}).</p>"
                + _note(repr(ab)) + notes + _figure(ab.plot()) + _table(s))
        out.append(_section("A/B test", body))
    except JourneylabError as err:
        out.append(_section("A/B test", _note(f"No A/B verdict: {err}")))
    return out


def experience_sections(log, journey) -> list[str]:
    """The journey map, scores per touchpoint and contact peaks (needs a journey and a survey column)."""
    from .experience import experience_sections as _experience

    if journey is None:
        return [_section("Journey map and KPIs", _no_journey("the journey map and the scores per touchpoint"))]
    score = next((c for c in ("csat", "nps", "ces") if c in log.attributes), None)
    if score is None:
        return [_section("Journey map and KPIs", _note(
            "The log has no survey column (nps, csat or ces): add survey answers to see scores per touchpoint."))]
    if not getattr(journey, "phases", None):
        return [_section("Journey map and KPIs", _note(
            f"The journey '{journey.name}' has no phases: add a 'phases:' block (phase name -> its activities) "
            "to its definition to see the journey map and the scores per touchpoint."))]
    unit = "session_id" if "session_id" in log.attributes else "case"
    try:
        return [f"<section><h2>{escape(title)}</h2>{body}</section>"
                for title, body in _experience(log, journey, kpi=score, unit=unit)]
    except JourneylabError as err:
        return [_section("Journey map and KPIs", _note(f"Not computed: {err}"))]


def drivers_section(log, journey, *, sample: int | None = None) -> str:
    """What distinguishes the customers who reach the journey's goal (see :mod:`journeylab._report.drivers`),
    on a random sample of ``sample`` customers when the log has more (:func:`~journeylab._report.data.model_log`)."""
    from .drivers import drivers_section as _drivers

    return _drivers(log, journey, sample=sample)


# --------------------------------------------------------------------------- segments


def segments_section(log, journey=None, *, segment_by: str | None = None, random_state: int = 0,
                     sample: int | None = None) -> str:
    """Behavioural segments (Markov clustering), or the segments of a case attribute when
    ``segment_by`` names a column, with their tested differences; on a random sample of ``sample``
    customers when the log has more (:func:`~journeylab._report.data.model_log`: the clustering, the
    profiles and the permutation tests are models and tests, fitted on the sample)."""
    from ..segments import attribute_segmentation, compare_segments
    from .segments import segments_body as _report_body

    try:
        log, sampled = model_log(log, sample)
        if segment_by is None:
            seg, body = _report_body(log, journey=journey, random_state=random_state)
            title = "Segments"
        else:
            seg = attribute_segmentation(log, segment_by, journey=journey)
            title = f"Segments by {segment_by}"
            prof = seg.profile(top=3)
            cols = [c for c in ("cases", "share", "typical_journey", "goal_rate", "conformance_rate")
                    if c in prof.columns]
            shown = prof[cols].reset_index()
            for col in ("share", "goal_rate", "conformance_rate"):
                if col in shown:
                    shown[col] = shown[col].map(format_share)
            shown["cases"] = shown["cases"].map(format_count)
            shown = shown.rename(columns={"typical_journey": "typical journey", "goal_rate": "goal rate",
                                          "conformance_rate": "conformance rate"})
            body = (_note(f"{len(seg.segments)} segments: the value of '{segment_by}' on each case's first event.")
                    + _table(shown, numeric=("cases", "share", "goal rate", "conformance rate")))
        body = (_note(sampled) if sampled else "") + body
        if seg is None:
            return _section(title, body)
        if len(seg.segments) < 2:
            return _section(title, body + _note("A single segment: nothing to compare."))
        comp = compare_segments(seg, random_state=random_state, n_permutations=199)
        shown = comp.formatted()
        sig = shown[shown["significant"] == "yes"]
        body += ("<h3>Tested differences</h3>" + _note(f"{comp!r}. Significant rows first; p-values adjusted "
                                                       "for the number of tests.")
                 + _table(pd.concat([sig, shown[shown["significant"] != "yes"]]).head(25)))
        return _section(title, body)
    except JourneylabError as err:
        return _section("Segments", _note(f"No segments: {err}"))


def retention_section(log, journey=None, *, segment_by: str | None = None) -> str:
    """Retention by segment: weekly cohorts, the cohort matrix and the curves per segment (``segment_by``, else
    the A/B ``version`` column when there is one), with the log-rank test; a note when the log spans fewer
    than two weeks (see :func:`journeylab._report.retention.retention_body`)."""
    from .retention import report_section

    return report_section(log, journey=journey, by=segment_by)


# --------------------------------------------------------------------------- appendix


def file_sha256(path) -> str:
    """SHA-256 of a file's bytes (read in chunks).

    >>> import journeylab as jl
    >>> len(file_sha256(jl.datasets.example_path()))
    64
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def frame_sha256(log) -> str:
    """SHA-256 of an EventLog's events (row hashes of the event table, in order); for a lazy log,
    its :func:`engine_fingerprint` (computed in the engine: the events are not fetched).

    >>> import journeylab as jl
    >>> frame_sha256(jl.datasets.load_example()) == frame_sha256(jl.datasets.load_example())
    True
    """
    if log.is_lazy:
        return engine_fingerprint(log)
    df = events(log)  # every column: the hash is of the whole event table
    rows = pd.util.hash_pandas_object(df, index=False).to_numpy()
    h = hashlib.sha256(rows.tobytes())
    h.update("\x1f".join(map(str, df.columns)).encode())
    return h.hexdigest()


_PACKAGES = ("journeylab", "pandas", "numpy", "pyarrow", "duckdb", "ibis-framework", "pm4py", "scikit-learn", "scipy",
             "matplotlib", "lifelines", "papermill", "nbconvert")


def appendix_section(params: dict, input_hash: str, hash_of: str = "of the file", engine: str | None = None) -> str:
    """The reproducibility appendix: package versions, the parameters of the run, a hash of the
    input (``hash_of`` says what was hashed: the file's bytes, the events of an in-memory log, or
    their fingerprint in the engine) and the engine that ran the report (``engine``)."""
    versions = pd.DataFrame({"package": ["python", *_PACKAGES],
                             "version": [platform.python_version(), *map(package_version, _PACKAGES)]})
    shown = pd.DataFrame({"parameter": list(params), "value": ["-" if v is None else str(v) for v in params.values()]})
    body = (_note("Everything needed to reproduce this report: the same input (check its hash), the same "
                  "parameters and the same package versions.")
            + f"<p>Input SHA-256 ({escape(hash_of)}): <code>{escape(input_hash)}</code></p>"
            + (f"<p>Engine: {escape(engine)}.</p>" if engine else "")
            + "<h3>Parameters</h3>" + _table(shown) + "<h3>Versions</h3>" + _table(versions))
    return _section("Appendix: reproducibility", body)
