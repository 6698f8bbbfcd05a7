"""The segment explorer: clustering controls, profiles and per-segment maps (ipywidgets).

:func:`segment_explorer` wires a method menu (``markov``, ``kmeans``, ``sequence``), k (a
slider, or "auto"), the feature groups of k-means and a seed to
:func:`journeylab.segments.cluster_journeys` - the same function a user calls in code -
and shows the profile table, the profile heatmap (or the k curve) and the process map of
the segment chosen in a menu. ``.result`` is the :class:`~journeylab.segments.Segmentation`
on screen, ``.params`` what produced it and ``.code`` the line that reproduces it::

    ex = segment_explorer(log, journey=journey)
    ex                  # controls, profiles, maps
    ex.result           # the Segmentation on screen
    print(ex.code)      # jl.segments.cluster_journeys(log, n_clusters='auto', method='markov', ...)

Clustering runs when "Run" is clicked (it can take seconds on large logs); changing the
segment menu only redraws the map. Errors are shown in the output area with their advice.

>>> import journeylab as jl
>>> s = jl.datasets.make_journeys(300, random_state=1)
>>> ex = segment_explorer(s.log, n_clusters=3, random_state=0)
>>> ex.result.segments
('cluster 1', 'cluster 2', 'cluster 3')
>>> ex.method.value = "kmeans"; ex.run()
>>> ex.params["method"], ex.result.method
('kmeans', 'kmeans')
"""

from __future__ import annotations

import html

import ipywidgets as W

from ..clustering import METHODS
from ..exceptions import JourneylabError
from ..features import FEATURE_GROUPS
from ..segments import cluster_journeys
from ._common import in_kernel

__all__ = ["segment_explorer", "SegmentExplorer"]


class SegmentExplorer:
    """Controls + output around :func:`~journeylab.segments.cluster_journeys` (see the module docstring).

    Attributes: ``method``, ``k``, ``auto``, ``features``, ``seed``, ``run_button``, ``segment``
    (controls), ``output`` and ``map_output``, ``widget`` (the whole box), ``result``,
    ``params``, ``code``, ``error`` (the last error message or None).
    """

    def __init__(self, log, *, journey=None, method: str = "markov", n_clusters="auto", features="auto",
                 random_state: int = 0):
        self.log = log
        self.journey = journey
        auto = n_clusters == "auto"
        self.method = W.Dropdown(options=list(METHODS), value=method, description="method",
                                 layout=W.Layout(width="240px"))
        self.auto = W.Checkbox(value=auto, description="choose k (BIC / silhouette)", indent=False,
                               layout=W.Layout(width="240px"))
        self.k = W.IntSlider(value=4 if auto else int(n_clusters), min=2, max=12, description="k",
                             continuous_update=False, disabled=auto, layout=W.Layout(width="300px"))
        groups = [g for g in FEATURE_GROUPS if journey is not None or g not in ("milestones", "conformance")]
        chosen = groups if features == "auto" else [g for g in features if g in groups]
        self.features = W.SelectMultiple(options=groups, value=tuple(chosen), rows=len(groups),
                                         description="features", layout=W.Layout(width="260px"))
        self.seed = W.IntText(value=random_state, description="seed", layout=W.Layout(width="180px"))
        self.run_button = W.Button(description="Run", button_style="primary", icon="play")
        self.segment = W.Dropdown(options=[], description="map of", layout=W.Layout(width="260px"))
        self.view = W.ToggleButtons(options=["profile", "k curve"], value="profile", style={"button_width": "80px"})
        self.output = W.Output()
        self.map_output = W.Output()
        self.result = None
        self.params: dict = {}
        self.error: str | None = None
        self.auto.observe(lambda ch: setattr(self.k, "disabled", ch["new"]), names="value")
        self.method.observe(self._on_method, names="value")
        self.run_button.on_click(lambda _b: self.run())
        self.segment.observe(lambda _c: self._draw_map(), names="value")
        self.view.observe(lambda _c: self._draw(), names="value")
        self._on_method()
        left = W.VBox([self.method, self.auto, self.k, self.seed, self.run_button])
        self.widget = W.VBox([W.HBox([left, self.features]), self.view, self.output, self.segment, self.map_output])
        self.run()

    def _on_method(self, change=None):
        self.features.disabled = self.method.value != "kmeans"

    def _current_params(self) -> dict:
        params = {"method": self.method.value, "n_clusters": "auto" if self.auto.value else int(self.k.value),
                  "random_state": int(self.seed.value)}
        if self.method.value == "kmeans":
            feats = tuple(self.features.value)
            params["features"] = "auto" if set(feats) == set(self.features.options) else feats
        return params

    @property
    def code(self) -> str:
        """The Python that reproduces the segmentation on screen (``log``/``journey`` being the explorer's)."""
        p = self.params or self._current_params()
        args = ", ".join(f"{k}={v!r}" for k, v in p.items())
        journey = ", journey=journey" if self.journey is not None else ""
        return f"jl.segments.cluster_journeys(log, {args}{journey})"

    _in_kernel = staticmethod(in_kernel)

    def _show_error(self, out, err) -> None:
        from IPython.display import HTML, display

        with out:
            display(HTML(f'<div style="color:#b02a37;white-space:pre-wrap"><b>{type(err).__name__}</b>: '
                         f"{html.escape(str(err))}</div>"))

    def run(self) -> None:
        """Cluster with the current controls (what the Run button does)."""
        params = self._current_params()
        live = self._in_kernel()
        if live:
            self.output.clear_output(wait=True)
        try:
            seg = cluster_journeys(self.log, journey=self.journey, **params)
        except JourneylabError as err:
            self.result, self.params, self.error = None, params, str(err)
            if live:
                self._show_error(self.output, err)
            return
        self.result, self.params, self.error = seg, params, None
        self.segment.options = list(seg.segments)
        self.segment.value = seg.segments[0]
        self.view.disabled = seg.k_scores is None or len(seg.k_scores) < 2
        if self.view.disabled:
            self.view.value = "profile"
        self._draw()
        self._draw_map()

    def _draw(self):
        if self.result is None or not self._in_kernel():
            return
        from IPython.display import HTML, display

        from ..plotting import _style

        self.output.clear_output(wait=True)
        with self.output:
            kind = "k" if self.view.value == "k curve" else "profile"
            try:
                fig = self.result.plot(kind=kind).figure
                display(fig)
                _style.close(fig)
            except JourneylabError as err:
                self._show_error(self.output, err)
            display(HTML(self.result._repr_html_()))
            display(HTML(f"<code>{html.escape(self.code)}</code>"))

    def _draw_map(self):
        if self.result is None or not self.segment.value or not self._in_kernel():
            return
        from IPython.display import display

        from ..plotting import _style

        self.map_output.clear_output(wait=True)
        try:
            pm = self.result.process_map(self.segment.value, activities=0.8, paths=0.2)
            fig = pm.plot().figure
        except JourneylabError as err:
            self._show_error(self.map_output, err)
            return
        with self.map_output:
            display(fig)
            _style.close(fig)

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    def __repr__(self) -> str:
        return f"SegmentExplorer({self.result!r})"


def segment_explorer(log, *, journey=None, method: str = "markov", n_clusters="auto", features="auto",
                     random_state: int = 0) -> SegmentExplorer:
    """Interactive clustering: method, k (or auto), k-means feature groups and seed, with profiles
    and per-segment process maps (see the module docstring). Keyword arguments set the initial controls.
    """
    return SegmentExplorer(log, journey=journey, method=method, n_clusters=n_clusters, features=features,
                           random_state=random_state)
