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

from ..discovery import discover
from ..exceptions import JourneylabError
from ._common import in_kernel

__all__ = ["process_explorer", "ProcessExplorer"]

_NONE = "(all cases)"
_MAX_VALUES = 60


class ProcessExplorer:
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
        self.output = W.Output()
        self.result = None
        self.params: dict = {}
        self.error: str | None = None
        self._busy = False
        if column is not None:
            self.column.value = column
            self._fill_values()
            if values is not None:
                self.values.value = tuple(v for v in ([values] if isinstance(values, str) else values)
                                          if v in self.values.options)
        left = W.VBox([self.activities, self.paths, self.metric])
        right = W.VBox([self.column, self.values])
        self.widget = W.VBox([W.HBox([left, right]), self.output])
        self.column.observe(self._on_column, names="value")
        for control in (self.activities, self.paths, self.metric, self.values):
            control.observe(self._update, names="value")
        self._update()

    # ---- controls
    def _segment_columns(self) -> list[str]:
        df = self.log._frame()
        out = []
        for c in self.log.columns:
            if c in ("case", "activity", "timestamp", "value"):
                continue
            try:
                n = df[c].nunique()
            except TypeError:  # unhashable values
                continue
            if 1 < n <= 200:
                out.append(c)
        return out

    def _fill_values(self):
        col = self.column.value
        if col == _NONE:
            self.values.options = []
            return
        df = self.log._frame()
        per_case = df[["case", col]].dropna().drop_duplicates()[col].value_counts()
        self.values.options = [str(v) if not isinstance(v, str) else v for v in per_case.index[:_MAX_VALUES]]

    def _on_column(self, change=None):
        self._busy = True
        try:
            self._fill_values()
        finally:
            self._busy = False
        self._update()

    def _current_params(self) -> dict:
        segment = None
        if self.column.value != _NONE and self.values.value:
            segment = {"column": self.column.value, "values": list(self.values.value)}
        return {"activities": round(float(self.activities.value), 4), "paths": round(float(self.paths.value), 4),
                "metric": self.metric.value, "segment": segment}

    @property
    def code(self) -> str:
        """The Python that reproduces the map on screen (``log`` being the explorer's log)."""
        p = self.params or self._current_params()
        src = "log"
        if p.get("segment"):
            s = p["segment"]
            src = f"log.filter_values({s['column']!r}, {s['values']!r}, level='case')"
        return f"jl.discover({src}, activities={p['activities']!r}, paths={p['paths']!r}).plot(metric={p['metric']!r})"

    _in_kernel = staticmethod(in_kernel)

    def _segment_log(self, segment):
        if not segment:
            return self.log
        col = segment["column"]
        raw = self.log._frame()[col].dropna().unique()
        wanted = set(segment["values"])
        values = [v for v in raw if (v if isinstance(v, str) else str(v)) in wanted]
        return self.log.filter_values(col, values, level="case")

    def _update(self, change=None):
        if self._busy:
            return
        params = self._current_params()
        live = self._in_kernel()  # outside a kernel (scripts, doctests, tests) only compute
        if live:
            self.output.clear_output(wait=True)
        try:
            pm = discover(self._segment_log(params["segment"]), activities=params["activities"],
                          paths=params["paths"])
            fig = None
            if live:
                from ..plotting import _style
                from ..plotting.process_map import plot_process_map

                fig = plot_process_map(pm, metric=params["metric"]).figure
        except JourneylabError as err:
            self.result, self.params, self.error = None, params, str(err)
            if live:
                with self.output:
                    from IPython.display import HTML, display

                    display(HTML(f'<div style="color:#b02a37;white-space:pre-wrap"><b>{type(err).__name__}</b>: '
                                 f"{html.escape(str(err))}</div>"))
            return
        self.result, self.params, self.error = pm, params, None
        if live:
            with self.output:
                from IPython.display import HTML, display

                display(fig)
                _style.close(fig)
                display(HTML(f"<code>{html.escape(self.code)}</code>"))

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    def __repr__(self) -> str:
        return f"ProcessExplorer({self.result!r})"


def process_explorer(log, *, activities: float = 1.0, paths: float = 1.0, metric: str = "frequency",
                     column: str | None = None, values=None) -> ProcessExplorer:
    """An interactive process map: activity and path sliders, frequency / time toggle and a
    segment filter (see the module docstring). Keyword arguments set the initial controls.
    """
    return ProcessExplorer(log, activities=activities, paths=paths, metric=metric, column=column, values=values)
