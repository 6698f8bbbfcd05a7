"""The "Segments" section of the report: behavioural segments found by Markov clustering (k by BIC), with
the profile heatmap and table.

It calls the same public function a user calls (:func:`~journeylab.clustering.cluster_journeys`) and
turns the :class:`~journeylab.segmentation.Segmentation` into HTML: the figure as an inline PNG, numbers
formatted by :mod:`journeylab._core.formatting`, every data string escaped.

>>> import journeylab as jl
>>> "<h2>Segments</h2>" in report_section(jl.datasets.load_example())
True
"""

from __future__ import annotations

from html import escape

import pandas as pd

from .._core.formatting import format_count, format_duration, format_share
from .._kernels.cases import case_ids, variants_of
from ..clustering import cluster_journeys
from .html import figure, section, table

__all__ = ["segments_body", "report_section"]

_SHOWN = {"cases": "cases", "share": "share", "typical_journey": "typical journey",
          "top_activities": "distinguishing activities (lift)", "main_channels": "main channels",
          "duration_median_days": "median duration", "goal_rate": "goal rate", "conformance_rate": "conformance rate"}


def segments_body(log, *, journey=None, random_state: int = 0, k_range=(2, 6)):
    """(the Segmentation or None, the HTML body) of the behavioural segments of the report.

    Logs with fewer than 50 cases or 3 distinct journeys get a short note instead (and None).

    Parameters
    ----------
    log : EventLog
    journey : Journey, optional
        Adds the goal and conformance rates to the table.
    random_state : int, default 0
        Seed of the clustering.
    k_range : (int, int), default (2, 6)
        The numbers of segments tried (k is chosen by BIC).

    Returns
    -------
    tuple
        (Segmentation or None, str).

    Examples
    --------
    >>> import journeylab as jl
    >>> seg, body = segments_body(jl.datasets.load_example())
    >>> seg is None and "too few" in body
    True
    """
    n_cases, n_var = len(case_ids(log)), len(variants_of(log).counts)
    if n_cases < 50 or n_var < 3:
        return None, (f'<p class="note">{n_cases:,} cases and {n_var:,} distinct journeys: too few to '
                      f"discover segments (at least 50 cases and 3 distinct journeys are needed).</p>")
    seg = cluster_journeys(log, n_clusters="auto", k_range=k_range, method="markov", journey=journey,
                           random_state=random_state, progress=False)
    prof = seg.profile(top=3)
    shown = prof[[c for c in _SHOWN if c in prof.columns]].reset_index()
    for col in ("share", "goal_rate", "conformance_rate"):
        if col in shown:
            shown[col] = shown[col].map(format_share)
    if "duration_median_days" in shown:
        shown["duration_median_days"] = [format_duration(pd.Timedelta(days=d)) if pd.notna(d) else "-"
                                         for d in shown["duration_median_days"]]
    shown["cases"] = shown["cases"].map(format_count)
    shown = shown.rename(columns=_SHOWN)
    code = f"jl.segments.cluster_journeys(log, k_range={tuple(k_range)!r}, random_state={random_state})"
    note = (f'<p class="note">{len(seg.segments)} behavioural segments found by a mixture of Markov chains '
            f"(k chosen by BIC over {k_range[0]}..{k_range[1]}; reproduce with <code>{escape(code)}</code>).</p>")
    return seg, note + figure(seg.plot().figure) + table(shown, numeric=("cases", "share", "goal rate",
                                                                        "conformance rate"))


def report_section(log, *, journey=None, random_state: int = 0, k_range=(2, 6)) -> str:
    """The "Segments" section of :func:`journeylab.report` as an HTML ``<section>`` (see :func:`segments_body`).

    Parameters
    ----------
    log : EventLog
    journey : Journey, optional
    random_state : int, default 0
    k_range : (int, int), default (2, 6)

    Returns
    -------
    str
        The HTML section.

    Examples
    --------
    >>> import journeylab as jl
    >>> "<h2>Segments</h2>" in report_section(jl.datasets.load_example())
    True
    """
    return section("Segments", segments_body(log, journey=journey, random_state=random_state, k_range=k_range)[1])
