"""The explorer base: what the three explorers share.

An :class:`Explorer` wires ipywidgets controls to one public function of journeylab (the same one a
user calls in code). Each time the controls change (or Run is clicked), it reads the arguments from the
controls, calls the function, and keeps the outcome:

- ``result`` - the result on screen (None after an error);
- ``params`` - the arguments that produced it, so ``function(log, **params)`` gives it again;
- ``code`` - the line of Python that reproduces it;
- ``error`` - the last error message (None after a success), shown in the output area by the one
  error display of the explorers (:meth:`Explorer.error_view`).

A subclass says what to call (:meth:`Explorer.compute`), how to read the controls
(:meth:`Explorer.current_params`), how to spell the call (:meth:`Explorer.code_for`) and what to show
(:meth:`Explorer.render`). Outside a running Jupyter kernel (scripts, doctests, tests) an explorer only
computes: nothing is drawn.
"""

from __future__ import annotations

from html import escape

import ipywidgets as W
from IPython import get_ipython
from IPython.display import HTML, display

from ..exceptions import JourneylabError

__all__ = ["in_kernel", "Explorer", "groupable_columns"]


def in_kernel() -> bool:
    """True inside a running Jupyter kernel, where widgets are displayed; False in scripts,
    doctests and tests (the explorers then only compute).

    >>> in_kernel()
    False
    """
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def groupable_columns(log) -> list[str]:
    """The columns of ``log`` fit for a segment or a breakdown (:func:`journeylab._kernels.events.groupable`:
    2 to 200 distinct values, not an identifier such as cookie or e-mail ids); constant columns are left out
    too. Counted once per log, in the engine for a lazy log.

    >>> import journeylab as jl
    >>> groupable_columns(jl.datasets.load_example())
    ['resource', 'Activity', 'Resource', 'Costs']
    """
    from .._kernels.events import distinct_values, groupable

    cols = [c for c in log.columns if c not in ("case", "activity", "timestamp", "value")]
    n_cases = log.n_cases
    return [c for c in cols if groupable(distinct_values(log, c), n_cases)]


def _display(*items) -> None:
    """Display figures, results and HTML in the current output; figures are closed once shown."""
    import matplotlib.pyplot as plt  # on first drawing: building an explorer does not load matplotlib
    from matplotlib.figure import Figure

    for item in items:
        display(item)
        if isinstance(item, Figure):
            plt.close(item)


class Explorer:
    """Controls + an output area around one public function (see the module docstring).

    Subclasses build their controls, then call :meth:`_setup` with the layout of the controls and
    the controls whose changes re-run the function.
    """

    _in_kernel = staticmethod(in_kernel)

    def _setup(self, controls, *, watch=(), extra=()) -> None:
        """Make the output area and the whole box (``controls`` above the output, ``extra`` below),
        re-run on any change of the ``watch`` controls, and run once."""
        self.output = W.Output()
        self.result = None
        self.params: dict = {}
        self.error: str | None = None
        self.widget = W.VBox([controls, self.output, *extra])
        for control in watch:
            control.observe(self.refresh, names="value")
        self.refresh()

    # ---- what a subclass says
    def current_params(self) -> dict:  # pragma: no cover - every explorer defines it
        """The arguments of the function, read from the controls."""
        raise NotImplementedError

    def compute(self, params: dict):  # pragma: no cover - every explorer defines it
        """Call the public function with ``params``; returns its result (may raise a JourneylabError)."""
        raise NotImplementedError

    def code_for(self, params: dict) -> str:  # pragma: no cover - every explorer defines it
        """The line of Python that makes the result of ``params``."""
        raise NotImplementedError

    def render(self, result, params: dict) -> list:
        """What to show for a result (figures, result objects, HTML); drawn inside a kernel only."""
        return [result]

    def on_result(self, result) -> None:
        """Called after each successful run, inside a kernel or not (e.g. to fill a menu)."""

    # ---- the wiring
    @property
    def code(self) -> str:
        """The Python that reproduces the result on screen (``log`` being the explorer's log)."""
        return self.code_for(self.params or self.current_params())

    def refresh(self, change=None) -> None:
        """Read the controls, call the function and show its result - or the error, with its advice."""
        params = self.current_params()
        live = self._in_kernel()  # outside a kernel (scripts, doctests, tests) only compute
        if live:
            self.output.clear_output(wait=True)
        try:
            result = self.compute(params)
            shown = self.render(result, params) if live else []
        except JourneylabError as err:
            self.result, self.params, self.error = None, params, str(err)
            self._failure = err
            if live:
                self.show_error(err)
            return
        self.result, self.params, self.error = result, params, None
        self.on_result(result)
        if live:
            with self.output:
                _display(*shown)

    @staticmethod
    def error_view(err: Exception):
        """The one error display of the explorers: the kind of error and its message (the advice), in red."""
        return HTML(f'<div style="color:#b02a37;white-space:pre-wrap"><b>{escape(type(err).__name__)}</b>: '
                    f"{escape(str(err))}</div>")

    def show_error(self, err: Exception, output=None) -> None:
        """Show :meth:`error_view` of ``err`` in ``output`` (default: the output area)."""
        with output or self.output:
            _display(self.error_view(err))

    def show(self, *items, output=None) -> None:
        """Show figures, results or HTML in ``output`` (default: the output area), replacing what was there."""
        out = output or self.output
        out.clear_output(wait=True)
        with out:
            _display(*items)

    def static_html(self) -> str:
        """What a notebook shows where the live widget cannot be drawn (a fresh clone, an untrusted notebook,
        a static export): the figure on screen as an inline PNG and a line saying to run the cell to explore."""
        import base64

        import matplotlib.pyplot as plt
        from matplotlib.figure import Figure

        from ..plotting.notebook import figure_png

        parts = []
        if self.result is not None:
            for item in self.render(self.result, self.params):
                if isinstance(item, Figure):
                    png, size = figure_png(item, dpi=int(plt.rcParams["figure.dpi"]))
                    plt.close(item)
                    parts.append(f'<img alt="{escape(type(self).__name__)}" width="{size["width"]}" '
                                 f'src="data:image/png;base64,{base64.b64encode(png).decode()}"/>')
                    break
        elif self.error:
            parts.append(self.error_view(getattr(self, "_failure", None) or JourneylabError(self.error)).data)
        parts.append(f"<p><i>{escape(type(self).__name__)}: a saved view. Run this cell to explore "
                     "(the controls need a running kernel).</i></p>")
        return "<div>" + "".join(parts) + "</div>"

    def _repr_mimebundle_(self, include=None, exclude=None):
        """The live widget where Jupyter can draw it; elsewhere the static view (:meth:`static_html`) and a
        one-line text, never the widget's repr (``VBox(children=...``)."""
        data = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
        data["text/html"] = self.static_html()
        data["text/plain"] = f"{type(self).__name__}: run this cell in Jupyter to explore; the code on screen: {self.code}"
        return data

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.result!r})"
