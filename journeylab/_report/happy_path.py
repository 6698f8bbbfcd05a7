"""The happy-path sections of the report: the comparison with the happy path, the milestone funnel, and
stalls, fallout and attrition.

They call the same public functions a user calls (:func:`~journeylab.compare`,
:func:`~journeylab.funnel`, :func:`~journeylab.milestones`) and turn their results into HTML: figures
as inline PNG, the results' own display tables through :func:`journeylab._core.results.html_table`,
every data string escaped.
"""

from __future__ import annotations

import pandas as pd

from .._core.results import html_table
from ..conformance import compare
from ..funnel import funnel
from ..milestones import milestones
from .html import figure, note

__all__ = ["happy_path_report"]


def _tables(result) -> str:
    """The display tables of a result (as in a notebook), every row shown."""
    formats = result._html_formats()
    return "".join(html_table(frame, title=title, formats=formats, max_rows=max(len(frame), 1))
                   for title, frame in result._html_tables())


def happy_path_report(log, journey, *, window="14d") -> list[tuple[str, str]]:
    """The report sections on the happy path: conformance, the milestone funnel and milestones.

    Parameters
    ----------
    log : EventLog
        The events (a case is one journey).
    journey : Journey
        Its happy path, milestones and stall thresholds.
    window : str or Timedelta, default "14d"
        The conversion window of the funnel.

    Returns
    -------
    list of (str, str)
        ``[(title, html), ...]``: figures are inline PNG images, every text from the data is escaped.

    Examples
    --------
    >>> import journeylab as jl
    >>> j = jl.Journey.from_dict({"name": "claim", "milestones": [
    ...     {"name": "register", "activities": ["register request"]},
    ...     {"name": "decide", "activities": ["decide"]},
    ...     {"name": "pay", "activities": ["pay compensation"]}]})
    >>> [title for title, _ in happy_path_report(jl.datasets.load_example(), j)]
    ['Comparison with the happy path', 'Milestone funnel', 'Milestones: stalls, fallout and attrition']
    """
    conf = compare(log, journey)
    sections = [("Comparison with the happy path",
                 note(f"{conf!r}. Happy path: {' > '.join(conf.happy_path)}.") + figure(conf.plot(kind="path"))
                 + _table(conf.effects_table()) + figure(conf.plot(kind="deviations")))]
    del conf  # each result freed once drawn: on a large log its per-case tables are the memory
    fun = funnel(log, journey, window=window)
    sections.append(("Milestone funnel", note(f"{fun!r}.") + figure(fun.plot()) + _tables(fun)))
    del fun
    ms = milestones(log, journey)
    sections.append(("Milestones: stalls, fallout and attrition",
                     note(f"{ms!r}.") + figure(ms.plot(kind="health")) + _tables(ms) + figure(ms.plot(kind="times"))))
    return sections


def _table(frame: pd.DataFrame) -> str:
    return html_table(frame, index=False, max_rows=max(len(frame), 1))
