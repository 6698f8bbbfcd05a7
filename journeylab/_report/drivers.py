"""The "Drivers of the goal" section of the report: what distinguishes the customers who reach the
journey's goal from those who drop, before they reach it.

It calls the public :func:`~journeylab.drivers` (outcome the goal, ``at`` the goal's milestone when that
milestone is defined by activities, so nothing after the goal counts; no adjustment, to stay quick) and
turns the :class:`~journeylab.drivers.Drivers` into HTML: the forest plot as an inline PNG, the top
candidates each way as a table, every data string escaped.

>>> import journeylab as jl
>>> s = jl.datasets.make_journeys(300, random_state=1)
>>> "<h2>Drivers of the goal</h2>" in drivers_section(s.log, s.journey)
True
"""

from __future__ import annotations

import warnings
from html import escape

import pandas as pd

from .._core.formatting import format_count, format_pvalue, format_share
from ..drivers import drivers
from ..exceptions import DataQualityWarning, JourneylabError
from .data import model_log
from .html import figure, note, section, table, warn

__all__ = ["drivers_section", "goal_milestone"]

TITLE = "Drivers of the goal"


def goal_milestone(journey) -> str | None:
    """The milestone of the journey's goal activity when it is defined by activities only (else None)."""
    act = journey.goal.activity
    for m in journey.milestones:
        if act in m.activities:
            return m.name if not m.conditions else None
    return None


def _rows(t: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "candidate": t["candidate"], "kind": t["kind"], "cases": t["support"].map(format_count),
        "goal rate with": t["rate_with"].map(format_share), "without": t["rate_without"].map(format_share),
        "odds ratio": [f"{o:.2f} ({lo:.2f} .. {hi:.2f})" for o, lo, hi in zip(t["odds_ratio"], t["or_low"],
                                                                               t["or_high"])],
        "p (BH)": t["p_adjusted"].map(format_pvalue)})


def drivers_section(log, journey, *, top: int = 8, sample: int | None = None) -> str:
    """The "Drivers of the goal" section as an HTML ``<section>``.

    Parameters
    ----------
    log : EventLog
    journey : Journey or None
        Without a journey or a goal the section says what to add.
    top : int, default 8
        Candidates shown each way (raising, lowering the goal rate).
    sample : int, optional
        Fit on a uniform random sample of this many customers when the log has more (the section says so).

    Returns
    -------
    str
        The HTML section.

    Examples
    --------
    >>> import journeylab as jl
    >>> "add one" in drivers_section(jl.datasets.load_example(), None)
    True
    """
    if journey is None:
        return section(TITLE, note("No journey definition was given: add one (--journey JOURNEY.yaml, or "
                                   "journey=... in Python) to see what distinguishes the customers who reach "
                                   "its goal."))
    if journey.goal is None:
        return section(TITLE, note("The journey has no goal: add a 'goal:' block to its definition to see what "
                                   "distinguishes the customers who reach it."))
    at = goal_milestone(journey)
    try:
        log, sampled = model_log(log, sample)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DataQualityWarning)
            d = drivers(log, journey, outcome="goal", at=at, adjust=False)
    except JourneylabError as err:
        return section(TITLE, note(f"Not computed: {err}"))
    notes = "".join(warn(str(w.message)) for w in caught if issubclass(w.category, DataQualityWarning))
    when = (f"only what happened before a customer first reached '{at}' counts" if at is not None
            else "everything in the customers' logs counts (the goal's milestone is defined by conditions)")
    code = f"jl.drivers(log, journey, outcome='goal', at={at!r}, adjust=True)"
    body = note(f"{d!r}. For each candidate - an activity, a transition, a channel, an attribute value, a deviation "
                f"- the goal rate of the customers with it and without it, and the odds ratio (+1 smoothed, 95% "
                f"Woolf interval, Fisher p-value adjusted by Benjamini-Hochberg); {when}. Associations, not causes.")
    body += note(sampled) if sampled else ""
    body += (f'<p class="note">The adjusted odds ratios hold the other candidates constant and flag the confounded '
             f"ones: <code>{escape(code)}</code>.</p>")
    if not len(d.table):
        return section(TITLE, body + notes + note("No candidate has enough support to be tested."))
    up, down = d.top(top, direction="positive"), d.top(top, direction="negative")
    body += notes + figure(d.plot(n=top).figure)
    numeric = ("cases", "goal rate with", "without", "p (BH)")
    if len(up):
        body += "<h3>Raise the goal rate</h3>" + table(_rows(up), numeric=numeric)
    if len(down):
        body += "<h3>Lower the goal rate</h3>" + table(_rows(down), numeric=numeric)
    return section(TITLE, body)
