"""The experience sections of the report: the journey map, the scores per touchpoint and the contact peaks.

They call the same public functions a user calls (:func:`~journeylab.journeymap.journey_map`,
:func:`~journeylab.kpi.touchpoint_scores`, :func:`~journeylab.contact.contact_peaks`) and turn their
results into HTML: figures as inline PNG, tables through :func:`journeylab._core.results.html_table`,
every data string escaped.

>>> import journeylab as jl
>>> experience_sections(jl.datasets.load_example(), None)
[]
"""

from __future__ import annotations

import pandas as pd

from .._core.results import html_table
from ..contact import contact_peaks
from ..journeymap import journey_map
from ..kpi import touchpoint_scores
from .data import distinct_values  # a group-by in the engine for a lazy log
from .html import figure, note

__all__ = ["experience_sections"]


def _table(frame: pd.DataFrame) -> str:
    return html_table(frame, index=False, max_rows=max(len(frame), 1))


def experience_sections(log, journey, *, kpi: str = "nps", score: str | None = None, unit: str = "case",
                        contacts: dict | None = None) -> list[tuple[str, str]]:
    """HTML sections for ``journeylab report``: the journey map, scores per touchpoint, and contact
    peaks (when the log has a call-centre channel). Sections that do not apply are left out.

    Parameters
    ----------
    log : EventLog
        The events, with a column of survey answers.
    journey : Journey or None
        A journey with phases (None, or one without phases: no section).
    kpi : {"nps", "csat", "ces"}, default "nps"
        The survey KPI.
    score : str, optional
        The column of answers (default: the column named like the KPI; absent: no section).
    unit : str, default "case"
        What a journey is (see :func:`journeylab.journeymap.journey_map`).
    contacts : dict, optional
        Keyword arguments of :func:`journeylab.contact.contact_peaks`.

    Returns
    -------
    list of (str, str)
        ``[(title, html), ...]``; figures are inline PNG, every data string escaped.

    Examples
    --------
    >>> import journeylab as jl
    >>> experience_sections(jl.datasets.load_example(), None)
    []
    """
    out: list[tuple[str, str]] = []
    col = score or kpi
    if journey is None or not getattr(journey, "phases", None) or col not in log.columns:
        return out
    jm = journey_map(log, journey, kpi=kpi, score=col, unit=unit)
    body = (note(f"{jm!r}. Colour: {jm.label} per touchpoint on a diverging scale; grey = fewer than "
                  f"{jm.min_answers} answers; red frame = significantly below the overall score.")
            + figure(jm.plot()) + _table(jm.summary))
    out.append(("Journey map", body))
    ts = touchpoint_scores(log, score=col, kind=kpi)
    out.append((f"{jm.label} per touchpoint", note(repr(ts)) + figure(ts.plot()) + _table(ts.summary)))
    if log.has_role("channel") and "call_centre" in set(distinct_values(log, "channel")):
        cp = contact_peaks(log, **(contacts or {}))
        out.append(("Contact peaks", note(repr(cp)) + figure(cp.plot()) + _table(cp.summary)))
    return out
