"""An interactive funnel along the happy path (ipywidgets).

:func:`happy_path_explorer` wires a few controls - which milestones form the funnel, the
conversion window, the order mode, what to count, a segment breakdown - to
:func:`journeylab.funnel.funnel`, the same function a user calls in code. The last result
and the arguments that produced it are in ``.result`` and ``.params``, so whatever was
found by clicking can be reproduced::

    explorer = happy_path_explorer(log, journey)
    explorer                                  # shows the controls, the funnel and its table
    explorer.result                           # the Funnel on screen
    funnel(log, **explorer.params)            # the same Funnel, in code

Errors (a window that is not a duration, fewer than two milestones...) are shown in the
output area, with the advice of the error message.

>>> import journeylab as jl
>>> from journeylab.journey import Journey
>>> j = Journey.from_dict({"name": "claim", "milestones": [
...     {"name": "register", "activities": ["register request"]},
...     {"name": "decide", "activities": ["decide"]},
...     {"name": "pay", "activities": ["pay compensation"]}]})
>>> ex = happy_path_explorer(jl.datasets.load_example(), j, window="30d")
>>> ex.result
Funnel: register > decide > pay, 6 entered, 50.0% converted within 30d (uniques, sequential)
>>> ex.window.value = "2d"
>>> ex.result.converted
0
"""

from __future__ import annotations

import html

import ipywidgets as W

from ..exceptions import JourneylabError
from ..funnel import COUNTS, ORDERS, funnel
from ._common import in_kernel

__all__ = ["happy_path_explorer", "HappyPathExplorer"]

_NO_BREAKDOWN = "(none)"


class HappyPathExplorer:
    """Controls + output around :func:`journeylab.funnel.funnel` (see the module docstring).

    Attributes: ``milestones``, ``window``, ``order``, ``count``, ``by``, ``relative`` (the
    controls), ``output`` (the output area), ``widget`` (the whole box), ``result`` (the last
    :class:`~journeylab.funnel.Funnel`, None after an error), ``params`` (its arguments,
    ready for ``funnel(log, **params)``), ``error`` (the last error message or None).
    """

    def __init__(self, log, journey, *, window="14d", order: str = "sequential", count: str = "uniques",
                 by: str | None = None, relative: bool = False):
        self.log = log
        self.journey = journey
        names = [m.name for m in journey.milestones]
        self.milestones = W.SelectMultiple(options=names, value=tuple(journey.happy_path),
                                           rows=min(max(len(names), 3), 8), description="milestones",
                                           layout=W.Layout(width="280px"))
        self.window = W.Text(value=str(window), description="window", continuous_update=False,
                             placeholder="e.g. 14d, 36h", layout=W.Layout(width="200px"))
        self.order = W.ToggleButtons(options=list(ORDERS), value=order, description="order",
                                     style={"button_width": "90px"})
        self.count = W.ToggleButtons(options=list(COUNTS), value=count, description="count",
                                     style={"button_width": "90px"})
        choices = [_NO_BREAKDOWN] + [c for c in log.columns if c not in ("case", "activity", "timestamp", "value")]
        self.by = W.Dropdown(options=choices, value=by if by in choices else _NO_BREAKDOWN, description="segment",
                             layout=W.Layout(width="260px"))
        self.relative = W.Checkbox(value=relative, description="relative (% of entered)", indent=False)
        self.output = W.Output()
        self.result = None
        self.params: dict = {}
        self.error: str | None = None
        left = W.VBox([self.milestones])
        right = W.VBox([W.HBox([self.window, self.by, self.relative]), self.order, self.count])
        self.widget = W.VBox([W.HBox([left, right]), self.output])
        for control in (self.milestones, self.window, self.order, self.count, self.by, self.relative):
            control.observe(self._update, names="value")
        self._update()

    # ---- the wiring
    def _current_params(self) -> dict:
        chosen = set(self.milestones.value)
        steps = [self.journey.milestone(m.name) for m in self.journey.milestones if m.name in chosen]
        return {
            "steps": steps,
            "window": self.window.value.strip(),
            "order": self.order.value,
            "count": self.count.value,
            "by": None if self.by.value == _NO_BREAKDOWN else self.by.value,
        }

    _in_kernel = staticmethod(in_kernel)

    def _update(self, change=None):
        params = self._current_params()
        live = self._in_kernel()  # outside a kernel (scripts, doctests) only compute
        if live:
            self.output.clear_output(wait=True)
        try:
            result = funnel(self.log, **params)
        except JourneylabError as err:
            self.result, self.params, self.error = None, params, str(err)
            if not live:
                return
            with self.output:
                from IPython.display import HTML, display

                display(HTML(f'<div style="color:#b02a37;white-space:pre-wrap"><b>{type(err).__name__}</b>: '
                             f"{html.escape(str(err))}</div>"))
            return
        self.result, self.params, self.error = result, params, None
        if not live:
            return
        with self.output:
            import matplotlib.pyplot as plt
            from IPython.display import display

            from ..plotting.conformance import plot_funnel

            ax = plot_funnel(result, relative=self.relative.value)
            display(ax.figure)
            plt.close(ax.figure)
            display(result)

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    def __repr__(self) -> str:
        return f"HappyPathExplorer({self.result!r})"


def happy_path_explorer(log, journey, *, window="14d", order: str = "sequential", count: str = "uniques",
                        by: str | None = None, relative: bool = False) -> HappyPathExplorer:
    """An explorer of the funnel along ``journey``'s milestones: pick the milestones, the
    window, the order mode, what to count and a segment breakdown; see the module docstring.

    The keyword arguments set the initial state of the controls (same meaning as in
    :func:`journeylab.funnel.funnel`).
    """
    return HappyPathExplorer(log, journey, window=window, order=order, count=count, by=by, relative=relative)
