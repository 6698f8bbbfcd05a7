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
output area, with the advice of the error message; ``.code`` spells out the call on screen.

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

import ipywidgets as W

from ..funnel import COUNTS, ORDERS, funnel
from ._common import Explorer, groupable_columns

__all__ = ["happy_path_explorer", "HappyPathExplorer"]

_NO_BREAKDOWN = "(none)"


class HappyPathExplorer(Explorer):
    """Controls + output around :func:`journeylab.funnel.funnel` (see the module docstring).

    Attributes: ``milestones``, ``window``, ``order``, ``count``, ``by``, ``relative`` (the
    controls), ``output`` (the output area), ``widget`` (the whole box), ``result`` (the last
    :class:`~journeylab.funnel.Funnel`, None after an error), ``params`` (its arguments,
    ready for ``funnel(log, **params)``), ``code`` (the call that reproduces it) and ``error``
    (the last error message or None).
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
        # only columns fit for a breakdown (2-200 values): not identifiers such as cookie or e-mail ids
        choices = [_NO_BREAKDOWN] + groupable_columns(log) + ([by] if by and by in log.columns
                                                               and by not in groupable_columns(log) else [])
        self.by = W.Dropdown(options=choices, value=by if by in choices else _NO_BREAKDOWN, description="segment",
                             layout=W.Layout(width="260px"))
        self.relative = W.Checkbox(value=relative, description="relative (% of entered)", indent=False)
        right = W.VBox([W.HBox([self.window, self.by, self.relative]), self.order, self.count])
        self._setup(W.HBox([W.VBox([self.milestones]), right]),
                    watch=(self.milestones, self.window, self.order, self.count, self.by, self.relative))

    def current_params(self) -> dict:
        chosen = set(self.milestones.value)
        steps = [self.journey.milestone(m.name) for m in self.journey.milestones if m.name in chosen]
        return {
            "steps": steps,
            "window": self.window.value.strip(),
            "order": self.order.value,
            "count": self.count.value,
            "by": None if self.by.value == _NO_BREAKDOWN else self.by.value,
        }

    def compute(self, params: dict):
        return funnel(self.log, **params)

    def code_for(self, params: dict) -> str:
        steps = ", ".join(f"journey.milestone({m.name!r})" for m in params["steps"])
        rest = ", ".join(f"{k}={params[k]!r}" for k in ("window", "order", "count", "by"))
        return f"jl.funnel(log, [{steps}], {rest}).plot(relative={self.relative.value!r})"

    def render(self, result, params: dict) -> list:
        return [result.plot(relative=self.relative.value).figure, result]


def happy_path_explorer(log, journey, *, window="14d", order: str = "sequential", count: str = "uniques",
                        by: str | None = None, relative: bool = False) -> HappyPathExplorer:
    """An explorer of the funnel along ``journey``'s milestones: pick the milestones, the
    window, the order mode, what to count and a segment breakdown; see the module docstring.

    Parameters
    ----------
    log : EventLog
        The events.
    journey : Journey
        Its milestones are the steps to choose from (the happy path is chosen first).
    window, order, count, by
        The initial state of the controls, with the meaning they have in :func:`journeylab.funnel.funnel`.
    relative : bool, default False
        Draw the funnel as shares of the cases that entered.

    Returns
    -------
    HappyPathExplorer
        Shown as controls and the funnel in Jupyter; ``.result``, ``.params`` and ``.code`` reproduce it.

    Examples
    --------
    >>> import journeylab as jl
    >>> j = jl.Journey.from_dict({"name": "claim", "milestones": [
    ...     {"name": "register", "activities": ["register request"]},
    ...     {"name": "pay", "activities": ["pay compensation"]}]})
    >>> happy_path_explorer(jl.datasets.load_example(), j, window="30d").result.converted
    3
    """
    return HappyPathExplorer(log, journey, window=window, order=order, count=count, by=by, relative=relative)
