"""The process explorer: Disco-like sliders over a process map (ipywidgets).

:func:`process_explorer` wires an activities slider, a paths slider, a frequency / time
toggle and a segment filter (an attribute and its values) to
:func:`journeylab.discovery.discover` - the same function a user calls in code. The map on
screen is ``.result`` and ``.params`` holds what produced it, so a view found by clicking
can be reproduced (``.code`` spells it out)::

    ex = process_explorer(log)
    ex                    # the controls and the map
    ex.result             # the ProcessMap on screen
    print(ex.code)        # jl.discover(log, activities=0.8, paths=0.3).plot(metric='time')

Errors (a filter that leaves nothing, a map too large to draw) are shown in the output
area with their advice.

>>> import journeylab as jl
>>> ex = process_explorer(jl.datasets.load_example())
>>> ex.result
ProcessMap: 8 of 8 activities, 19 of 19 paths, 6 cases (activities=1.0, paths=1.0)
>>> ex.activities.value = 0.5
>>> ex.params["activities"], len(ex.result.nodes)
(0.5, 3)
"""

from __future__ import annotations

import html

import ipywidgets as W
from IPython.display import HTML

import numpy as np
import pandas as pd

from .._kernels.events import events
from ..discovery import discover
from ._common import Explorer, groupable_columns

__all__ = ["process_explorer", "ProcessExplorer"]

_NONE = "(all cases)"
_MAX_VALUES = 60


class ProcessExplorer(Explorer):
    """Controls + output around :func:`~journeylab.discovery.discover` (see the module docstring).

    Attributes: ``activities``, ``paths`` (sliders), ``metric`` (toggle), ``column`` and
    ``values`` (segment filter), ``output``, ``widget`` (the whole box), ``result`` (the
    :class:`~journeylab.discovery.ProcessMap` shown; None after an error), ``params``,
    ``code`` and ``error`` (the last error message or None).
    """

    def __init__(self, log, *, activities: float = 1.0, paths: float = 1.0, metric: str = "frequency",
                 column: str | None = None, values=None):
        self.log = log
        self.activities = W.FloatSlider(value=activities, min=0.05, max=1.0, step=0.05, description="activities",
                                        continuous_update=False, readout_format=".0%",
                                        layout=W.Layout(width="320px"))
        self.paths = W.FloatSlider(value=paths, min=0.0, max=1.0, step=0.05, description="paths",
                                   continuous_update=False, readout_format=".0%", layout=W.Layout(width="320px"))
        self.metric = W.ToggleButtons(options=["frequency", "time"], value=metric, description="show",
                                      style={"button_width": "90px"})
        self.column = W.Dropdown(options=[_NONE, *self._segment_columns()], value=_NONE, description="segment",
                                 layout=W.Layout(width="280px"))
        self.values = W.SelectMultiple(options=[], rows=5, description="values", layout=W.Layout(width="280px"))
        self._busy = False
        self._typed: dict = {}  # label in the values menu -> the column's value
        if column is not None:
            self.column.value = column
            self._fill_values()
            if values is not None:
                given = [values] if isinstance(values, str) or not hasattr(values, "__iter__") else values
                labels = [v if isinstance(v, str) else _label(_python_value(v)) for v in given]
                self.values.value = tuple(v for v in labels if v in self.values.options)
        self.column.observe(self._on_column, names="value")
        controls = W.HBox([W.VBox([self.activities, self.paths, self.metric]), W.VBox([self.column, self.values])])
        self._setup(controls, watch=(self.activities, self.paths, self.metric, self.values))

    # ---- controls
    def _segment_columns(self) -> list[str]:
        return groupable_columns(self.log)

    def _fill_values(self):
        col = self.column.value
        # clear the selection before the options change: the front end would otherwise set the state of
        # options that are gone ("Cannot set properties of undefined (setting 'selected')")
        self.values.value = ()
        if col == _NONE:
            self.values.options = []
            self._typed = {}
            return
        df = events(self.log, [col])
        per_case = df[["case", col]].dropna().drop_duplicates()[col].value_counts()
        typed = [_python_value(v) for v in per_case.index[:_MAX_VALUES]]
        # the menu shows labels; the filter and the code use the column's own values (True, 3, 2.5, a date)
        self._typed = {_label(v): v for v in typed}
        self.values.options = list(self._typed)

    def _on_column(self, change=None):
        self._busy = True
        try:
            self._fill_values()
        finally:
            self._busy = False
        self.refresh()

    def refresh(self, change=None) -> None:
        if not self._busy:  # filling the values of a new column: one refresh afterwards
            super().refresh(change)

    # ---- the wiring
    def current_params(self) -> dict:
        segment = None
        if self.column.value != _NONE and self.values.value:
            typed = getattr(self, "_typed", {})
            segment = {"column": self.column.value, "values": [typed.get(v, v) for v in self.values.value]}
        return {"activities": round(float(self.activities.value), 4), "paths": round(float(self.paths.value), 4),
                "metric": self.metric.value, "segment": segment}

    def code_for(self, p: dict) -> str:
        src = "log"
        if p.get("segment"):
            s = p["segment"]
            values = ", ".join(_literal(v) for v in s["values"])
            src = f"log.filter_values({s['column']!r}, [{values}], level='case')"
        return f"jl.discover({src}, activities={p['activities']!r}, paths={p['paths']!r}).plot(metric={p['metric']!r})"

    def _segment_log(self, segment):
        if not segment:
            return self.log
        # exactly the call that .code shows
        return self.log.filter_values(segment["column"], list(segment["values"]), level="case")

    def compute(self, params: dict):
        return discover(self._segment_log(params["segment"]), activities=params["activities"], paths=params["paths"])

    def render(self, result, params: dict) -> list:
        # drawn inside the run: a map too large to draw is an error shown with its advice
        return [result.plot(metric=params["metric"]).figure, HTML(f"<code>{html.escape(self.code_for(params))}</code>")]


def _python_value(v):
    """A value of a column as the Python scalar a user would type (numpy bool/int/float -> bool/int/float)."""
    if isinstance(v, np.generic):
        return v.item()
    return v


def _label(v) -> str:
    """How a value is shown in the values menu."""
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v if isinstance(v, str) else str(v)


def _literal(v) -> str:
    """Python source for a value, such that evaluating it gives an equal value.

    >>> _literal(True), _literal(3), _literal(0.1), _literal("web")
    ('True', '3', '0.1', "'web'")
    >>> _literal(pd.Timestamp("2025-01-02", tz="UTC"))
    "pd.Timestamp('2025-01-02T00:00:00+00:00')"
    """
    if isinstance(v, pd.Timestamp):
        return f"pd.Timestamp({v.isoformat()!r})"
    return repr(_python_value(v))


def process_explorer(log, *, activities: float = 1.0, paths: float = 1.0, metric: str = "frequency",
                     column: str | None = None, values=None) -> ProcessExplorer:
    """An interactive process map: activity and path sliders, frequency / time toggle and a
    segment filter (see the module docstring).

    Parameters
    ----------
    log : EventLog
        The events.
    activities, paths : float, default 1.0
        The initial sliders: the share of activities and of paths kept (as in :func:`journeylab.discover`).
    metric : {"frequency", "time"}, default "frequency"
        What the map shows first.
    column : str, optional
        A column to filter the cases by (cases with one of ``values`` in it are kept).
    values : str or list of str, optional
        The values of ``column`` selected first.

    Returns
    -------
    ProcessExplorer
        Shown as controls and the map in Jupyter; ``.result``, ``.params`` and ``.code`` reproduce it.

    Examples
    --------
    >>> import journeylab as jl
    >>> process_explorer(jl.datasets.load_example(), activities=0.5).code
    "jl.discover(log, activities=0.5, paths=1.0).plot(metric='frequency')"
    """
    return ProcessExplorer(log, activities=activities, paths=paths, metric=metric, column=column, values=values)
