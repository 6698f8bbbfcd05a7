"""A self-contained HTML report of an event log.

The report is one HTML file: figures are inline PNG images, there is no script and no
request to any outside address (a Content-Security-Policy forbids them), and every
string that comes from the data is escaped. It is written atomically.

>>> import journeylab as jl, tempfile, os
>>> out = jl.report(jl.datasets.load_example(), out=os.path.join(tempfile.mkdtemp(), "r.html"))
>>> out.name
'r.html'
"""

from __future__ import annotations

import base64
import io
import warnings
from datetime import datetime, timezone
from html import escape
from importlib import resources
from pathlib import Path
from string import Template

import pandas as pd

from ._util import atomic_write, format_timedelta as _fmt_td
from .exceptions import DataQualityWarning, InvalidParameterError

__all__ = ["report", "overview"]




def _table(df: pd.DataFrame, *, numeric: tuple[str, ...] = ()) -> str:
    head = "".join(f'<th class="{"num" if c in numeric else ""}">{escape(str(c))}</th>' for c in df.columns)
    rows = []
    for rec in df.itertuples(index=False):
        cells = "".join(
            f'<td class="{"num" if c in numeric else ""}">{escape(str(v))}</td>' for c, v in zip(df.columns, rec)
        )
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _figure(fig) -> str:
    """Inline PNG of a figure (or of the figure of an Axes / array of Axes that a plot() returned)."""
    import matplotlib.pyplot as plt
    import numpy as np

    if isinstance(fig, np.ndarray):
        fig = fig.flat[0]
    fig = getattr(fig, "figure", fig)

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="figure" src="data:image/png;base64,{data}">'


def _section(title: str, body: str) -> str:
    return f"<section><h2>{escape(title)}</h2>{body}</section>"


def overview(log) -> dict[str, pd.DataFrame | dict]:
    """The numbers behind the report's overview: cards, activities, channels, variants.

    >>> import journeylab as jl
    >>> overview(jl.datasets.load_example())["cards"]["cases"]
    '6'
    """
    from . import engine

    df = log._frame()
    start, end = log.time_span
    cards = {
        "events": f"{log.n_events:,}",
        "cases": f"{log.n_cases:,}",
        "activities": f"{len(log.activities):,}",
        "time span": f"{start:%Y-%m-%d} .. {end:%Y-%m-%d}",
    }
    if "channel" in df.columns:
        cards["channels"] = f"{df['channel'].nunique():,}"
    acts = df.groupby("activity").agg(events=("case", "size"), cases=("case", "nunique"))
    acts = acts.sort_values(["events"], ascending=False).reset_index()
    acts["share of events"] = (acts["events"] / log.n_events).map("{:.1%}".format)
    acts["share of cases"] = (acts["cases"] / log.n_cases).map("{:.1%}".format)
    out: dict = {"cards": cards, "activities": acts}
    if "channel" in df.columns:
        ch = df.groupby("channel").agg(events=("case", "size"), cases=("case", "nunique")).reset_index()
        ch = ch.sort_values("events", ascending=False)
        ch["share of events"] = (ch["events"] / log.n_events).map("{:.1%}".format)
        out["channels"] = ch
    var = engine.variants(log)
    var["share"] = var["count"] / log.n_cases
    var["cumulative"] = var["share"].cumsum()
    out["variants"] = var
    return out


def _warnings(log) -> str:
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
    return "".join(f'<div class="warn">{escape(n)}</div>' for n in notes)


def _variant_table(var: pd.DataFrame, top: int) -> pd.DataFrame:
    shown = var.head(top)
    return pd.DataFrame({
        "#": range(1, len(shown) + 1),
        "variant": [" → ".join(v) for v in shown["variant"]],
        "steps": [len(v) for v in shown["variant"]],
        "cases": shown["count"].map("{:,}".format),
        "share": shown["share"].map("{:.1%}".format),
        "cumulative": shown["cumulative"].map("{:.1%}".format),
        "median duration": shown["duration_median"].map(_fmt_td),
    })


def report(log=None, *, journey=None, out="build/report.html", title: str | None = None,
           top_variants: int = 10) -> Path:
    """Write a self-contained HTML report of ``log`` (default: the bundled retail sample and its journey).

    Sections: size and time span with data-quality notes; a process map, the variant explorer
    and the top paths; with a ``journey``: goal attainment and the journey map with scores per
    touchpoint and contact peaks (when the log has survey and call-centre data); activities and
    channels. A section that needs what the input lacks says what to add. Returns the path written.

    >>> import journeylab as jl, tempfile, os
    >>> p = jl.report(jl.datasets.load_example(), out=os.path.join(tempfile.mkdtemp(), "x.html"), title="<b>demo</b>")
    >>> "&lt;b&gt;demo&lt;/b&gt;" in p.read_text()
    True
    """
    import matplotlib

    from . import __version__

    if log is None:
        from .datasets import load_retail

        sample = load_retail()
        log, journey = sample.log, journey if journey is not None else sample.journey
    if not isinstance(top_variants, int) or top_variants < 1:
        raise InvalidParameterError(f"top_variants={top_variants!r} must be a positive whole number, e.g. 10.")
    title = title or "journeylab report"
    data = overview(log)
    sections = []
    cards = "".join(
        f'<div class="card"><div class="v">{escape(v)}</div><div class="k">{escape(k)}</div></div>'
        for k, v in data["cards"].items()
    )
    summary = log.summary().reset_index()
    sections.append(_section("Overview", f'<div class="cards">{cards}</div>{_warnings(log)}'
                             f"{_table(summary)}"))
    with matplotlib.rc_context({"figure.max_open_warning": 0}):
        sections.extend(_discovery_sections(log, data, top_variants))
        sections.extend(_journey_sections(log, journey))
        sections.append(_segments_section(log, journey))
    sections.append(_section("Activities", _table(data["activities"], numeric=("events", "cases", "share of events",
                                                                                "share of cases"))))
    if "channels" in data:
        sections.append(_section("Channels", _table(data["channels"], numeric=("events", "cases", "share of events"))))
    start, end = log.time_span
    html = Template((resources.files("journeylab.templates") / "report.html").read_text(encoding="utf-8")).substitute(
        title=escape(title),
        subtitle=escape(f"{log.n_cases:,} cases, {log.n_events:,} events, {start:%Y-%m-%d} .. {end:%Y-%m-%d} - "
                        f"source: {log._meta.get('source', 'DataFrame')}"),
        sections="\n".join(sections),
        version=escape(__version__),
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    )
    return atomic_write(out, html)


def _note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


def _discovery_sections(log, data, top_variants: int) -> list[str]:
    from .discovery import discover, paths, variants
    from .exceptions import JourneylabError

    out = []
    try:
        pm = discover(log, activities=0.8, paths=0.3)
        body = _note(f"{pm!r}. The most frequent activities covering 80% of the events, and the strongest "
                     "30% of paths that keep every activity on a path from start to end.") + _figure(pm.plot())
    except JourneylabError as err:
        body = _note(f"No process map: {err}")
    out.append(_section("Process map", body))

    var = data["variants"]
    body = (_note(f"{len(var):,} variants; the top {min(top_variants, len(var))} cover "
                  f'{var["share"].head(top_variants).sum():.1%} of cases.')
            + _figure(variants(log, top=top_variants).plot())
            + _table(_variant_table(var, top_variants), numeric=("steps", "cases", "share", "cumulative")))
    out.append(_section("Top variants", body))

    starts = data["activities"]["activity"].iloc[0] if len(data["activities"]) else None
    try:
        p = paths(log, anchor=starts, direction="next", steps=3, top=10)
        body = _note(f"What customers do after '{starts}', the most frequent activity (3 steps).") + _figure(p.plot())
    except JourneylabError as err:
        body = _note(f"No paths: {err}")
    out.append(_section("Top paths", body))
    return out


def _segments_section(log, journey) -> str:
    from .exceptions import JourneylabError
    from .segments import report_section

    try:
        return report_section(log, journey=journey)
    except JourneylabError as err:
        return _section("Segments", _note(f"No segments: {err}"))


def _journey_sections(log, journey) -> list[str]:
    """Goal attainment and the experience sections; one sentence when there is no journey."""
    from .exceptions import JourneylabError
    from .goals import goal_attainment
    from .journeymap import experience_sections

    if journey is None:
        return [_section("Goals and experience", _note(
            "No journey definition was given: add one (jl.Journey.from_yaml(...), or --journey JOURNEY.yaml) "
            "to see goal attainment, the journey map and scores per touchpoint."))]
    out = []
    from .funnel import _report_sections

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)  # events outside sessions, said in the note
            session_log = log.sessions(by="session_id") if "session_id" in log.attributes else log
            for title, body in _report_sections(session_log, journey):
                note = _note("Cases are journey sessions (session_id).") if session_log is not log else ""
                out.append(f"<section><h2>{escape(title)}</h2>{note}{body}</section>")
    except JourneylabError as err:
        out.append(_section("Comparison with the happy path", _note(f"Not computed: {err}")))
    if journey.goal is None:
        out.append(_section("Goal attainment", _note("The journey has no goal: add a 'goal:' block to its definition.")))
    else:
        try:
            ga = goal_attainment(log, journey)
            body = _note(repr(ga)) + _figure(ga.plot()) + _table(ga.summary.reset_index())
        except JourneylabError as err:
            body = _note(f"Goal attainment could not be computed: {err}")
        out.append(_section("Goal attainment", body))
    unit = "session_id" if "session_id" in log.columns else "case"
    score = next((c for c in ("csat", "nps", "ces") if c in log.columns), None)
    if score is None:
        out.append(_section("Journey map and KPIs", _note(
            "The log has no survey column (nps, csat or ces): add survey answers to see scores per touchpoint.")))
        return out
    try:
        for title, body in experience_sections(log, journey, kpi=score, unit=unit):
            out.append(f"<section><h2>{escape(title)}</h2>{body}</section>")
    except JourneylabError as err:
        out.append(_section("Journey map and KPIs", _note(f"Not computed: {err}")))
    return out
