"""The "Retention by segment" section of the report: weekly cohorts, the cohort matrix and the retention
curves per segment (or A/B version), with the log-rank test of the difference.

It calls the same public function a user calls (:func:`journeylab.retention`) and turns the
:class:`~journeylab.retention.Retention` into HTML: the figure as an inline PNG, numbers formatted by
:mod:`journeylab._core.formatting`, every data string escaped.

>>> import journeylab as jl
>>> "<h2>Retention by segment</h2>" in report_section(jl.datasets.load_example())
True
"""

from __future__ import annotations

from html import escape

import pandas as pd

from .._core.formatting import format_count, format_pvalue, format_share
from ..exceptions import JourneylabError
from ..retention import retention
from .html import figure, note, section, table

__all__ = ["retention_body", "report_section"]

TITLE = "Retention by segment"


def _returning(journey):
    """The activities of the journey's milestones (coming back into the journey), or None (any event)."""
    if journey is None or not getattr(journey, "milestones", None):
        return None
    return sorted({a for m in journey.milestones for a in m.activities})


def retention_body(log, *, journey=None, by: str | None = None, max_periods: int = 8):
    """(the Retention or None, the HTML body) of the report's retention section.

    Weekly cohorts of first events; a return is an event of one of the journey's milestones (any event
    without a journey); the groups are ``by``, else the ``version`` column when the log has one. A log that
    spans fewer than two weeks gets a short note instead (and None).

    Parameters
    ----------
    log : EventLog
    journey : Journey, optional
        Its milestones' activities are what counts as coming back.
    by : str, optional
        The column of the segments (default: ``version`` when present).
    max_periods : int, default 8
        Weeks shown after the cohort week.

    Returns
    -------
    tuple
        (Retention or None, str).

    Examples
    --------
    >>> import journeylab as jl
    >>> res, body = retention_body(jl.datasets.load_example())
    >>> res.params["period"], "<img" in body
    ('W', True)
    """
    start, end = log.time_span
    weeks = (end.tz_localize(None).normalize() - pd.Timedelta(days=end.weekday())
             - (start.tz_localize(None).normalize() - pd.Timedelta(days=start.weekday()))).days // 7 + 1
    if weeks < 2:
        return None, note(f"The log spans {weeks} calendar week ({start:%Y-%m-%d} .. {end:%Y-%m-%d}): fewer than "
                          "two weeks, so nobody can be seen coming back in a later week.")
    if by is None and "version" in log.attributes:
        by = "version"
    returning = _returning(journey)
    try:
        res = retention(log, returning=returning, period="W", max_periods=max_periods, by=by)
    except JourneylabError as err:
        return None, note(f"Retention could not be computed: {err}")
    what = "an event of the journey's milestones" if returning else "any event"
    code = (f"jl.retention(log, returning={returning!r}, period='W', max_periods={max_periods}"
            + (f", by={by!r}" if by else "") + ")")
    text = (f"Weekly cohorts (ISO weeks, {res.params['time_zone']}) of each customer's first event; coming back = "
            f"{what} after it; share that came back in that week or later (unbounded); weeks not yet over at the "
            f"end of the log are hatched, not counted as zero. Reproduce with ")
    body = f'<p class="note">{escape(text)}<code>{escape(code)}</code>.</p>'
    if res.test is not None:
        body += note(f"Log-rank test of the time to the first return between the {by} groups: chi2 = "
                     f"{res.statistic:.2f}, p = {format_pvalue(res.p_value)}.")
    body += figure(res.plot())
    c = res.curves[res.curves["period"].isin([1, 4, max_periods])]
    shown = pd.DataFrame({
        "group": c["group"].astype(str), "week": c["period"], "customers": c["customers"].map(format_count),
        "came back": [f"{format_share(s)} ({format_share(lo)}-{format_share(hi)})"
                      for s, lo, hi in zip(c["share"], c["low"], c["high"])]})
    if not by:
        shown = shown.drop(columns="group")
    return res, body + table(shown, numeric=("week", "customers", "came back"))


def report_section(log, *, journey=None, by: str | None = None, max_periods: int = 8) -> str:
    """The "Retention by segment" section of :func:`journeylab.report` as an HTML ``<section>`` (see
    :func:`retention_body`).

    Parameters
    ----------
    log : EventLog
    journey : Journey, optional
    by : str, optional
    max_periods : int, default 8

    Returns
    -------
    str
        The HTML section.

    Examples
    --------
    >>> import journeylab as jl
    >>> "<h2>Retention by segment</h2>" in report_section(jl.datasets.load_example())
    True
    """
    return section(TITLE, retention_body(log, journey=journey, by=by, max_periods=max_periods)[1])
