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
from IPython.display import HTML

from ..clustering import METHODS, cluster_journeys
from ..exceptions import JourneylabError
from ..features import FEATURE_GROUPS
from ._common import Explorer

__all__ = ["segment_explorer", "SegmentExplorer"]


class SegmentExplorer(Explorer):
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
        self.map_output = W.Output()
        self.auto.observe(lambda ch: setattr(self.k, "disabled", ch["new"]), names="value")
        self.method.observe(self._on_method, names="value")
        self.run_button.on_click(lambda _b: self.run())
        self.segment.observe(lambda _c: self._draw_map(), names="value")
        self.view.observe(lambda _c: self._draw(), names="value")
        self._on_method()
        left = W.VBox([self.method, self.auto, self.k, self.seed, self.run_button])
        # clustering can take seconds: it runs on Run, not on every change of a control
        self._setup(W.VBox([W.HBox([left, self.features]), self.view]), extra=(self.segment, self.map_output))

    def _on_method(self, change=None):
        self.features.disabled = self.method.value != "kmeans"

    def current_params(self) -> dict:
        params = {"method": self.method.value, "n_clusters": "auto" if self.auto.value else int(self.k.value),
                  "random_state": int(self.seed.value)}
        if self.method.value == "kmeans":
            feats = tuple(self.features.value)
            params["features"] = "auto" if set(feats) == set(self.features.options) else feats
        return params

    def compute(self, params: dict):
        if not self._in_kernel():
            return cluster_journeys(self.log, journey=self.journey, **params)
        # in Jupyter the progress bar of the k search shows in the output area, then goes
        with self.output:
            try:
                return cluster_journeys(self.log, journey=self.journey, **params)
            finally:
                self.output.clear_output(wait=True)

    def code_for(self, params: dict) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in params.items())
        journey = ", journey=journey" if self.journey is not None else ""
        return f"jl.segments.cluster_journeys(log, {args}{journey})"

    def run(self) -> None:
        """Cluster with the current controls (what the Run button does).

        While it runs the button is disabled and says so, and the output area says what is being done
        (automatic k tries several k: seconds to a minute on large logs)."""
        button = self.run_button
        button.disabled, button.description, button.icon = True, "Running...", "hourglass-half"
        try:
            if self._in_kernel():
                what = "choosing k and clustering" if self.auto.value else f"clustering into {int(self.k.value)} segments"
                self.show(HTML(f"<i>{html.escape(what)}...</i>"))
            self.refresh()
        finally:
            button.disabled, button.description, button.icon = False, "Run", "play"

    def on_result(self, seg) -> None:
        self.segment.options = list(seg.segments)
        self.segment.value = seg.segments[0]
        self.view.disabled = seg.k_scores is None or len(seg.k_scores) < 2
        if self.view.disabled:
            self.view.value = "profile"

    def render(self, seg, params: dict) -> list:
        return self._views(seg)

    def _views(self, seg) -> list:
        """The figure of the chosen view (or its error), the profile table and the code."""
        try:
            head = [seg.plot(kind="k" if self.view.value == "k curve" else "profile").figure]
        except JourneylabError as err:
            head = [self.error_view(err)]
        return head + [seg, HTML(f"<code>{html.escape(self.code)}</code>")]

    def _draw(self):
        if self.result is not None and self._in_kernel():
            self.show(*self._views(self.result))

    def _draw_map(self):
        if self.result is None or not self.segment.value or not self._in_kernel():
            return
        try:
            fig = self.result.process_map(self.segment.value, activities=0.8, paths=0.2).plot().figure
        except JourneylabError as err:
            fig = self.error_view(err)
        self.show(fig, output=self.map_output)


def segment_explorer(log, *, journey=None, method: str = "markov", n_clusters="auto", features="auto",
                     random_state: int = 0) -> SegmentExplorer:
    """Interactive clustering: method, k (or auto), k-means feature groups and seed, with profiles
    and per-segment process maps (see the module docstring).

    Parameters
    ----------
    log : EventLog
        The cases to cluster.
    journey : Journey, optional
        Adds the milestone and conformance features and the goal / conformance columns of the profiles.
    method, n_clusters, features, random_state
        The initial state of the controls, with the meaning they have in
        :func:`journeylab.clustering.cluster_journeys`.

    Returns
    -------
    SegmentExplorer
        Shown as controls, profiles and maps in Jupyter; ``.result``, ``.params`` and ``.code`` reproduce it.

    Examples
    --------
    >>> import journeylab as jl
    >>> ex = segment_explorer(jl.datasets.make_journeys(200, random_state=1).log, n_clusters=2)
    >>> ex.code
    "jl.segments.cluster_journeys(log, method='markov', n_clusters=2, random_state=0)"
    """
    return SegmentExplorer(log, journey=journey, method=method, n_clusters=n_clusters, features=features,
                           random_state=random_state)
