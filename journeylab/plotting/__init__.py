"""Plots of journeylab results: the only package that imports matplotlib.

Every ``plot_*`` function takes the result first, draws on ``ax`` when given (else on a
new figure sized to the content), returns the Axes, never calls ``plt.show()`` and never
changes global rcParams. Numbers come from the result, never from the plot; the plots import
only :mod:`journeylab._core` and read what they need from the result object.

The functions are loaded on first use (``from journeylab.plotting import plot_funnel``), so that
importing this package does not import matplotlib.
"""

from __future__ import annotations

import importlib

#: Every plot, by the module that draws it.
_PLOTS = {
    "plot_process_map": "process_map",
    "plot_variants": "variants",
    "plot_paths": "paths",
    "plot_model": "model",
    "plot_conformance": "conformance",
    "plot_funnel": "conformance",
    "plot_milestones": "conformance",
    "plot_segmentation": "segments",
    "plot_comparison": "segments",
    "plot_goal_attainment": "goals",
    "plot_ab_test": "goals",
    "plot_rule_actions": "goals",
    "plot_survey_score": "kpi",
    "plot_touchpoint_scores": "kpi",
    "plot_peak_end": "kpi",
    "plot_contact_peaks": "kpi",
    "plot_channel_mix": "kpi",
    "plot_attribution": "kpi",
    "plot_attribution_comparison": "kpi",
    "plot_journey_map": "journeymap",
    "plot_drivers": "drivers",
    "plot_retention": "retention",
    "plot_predictions": "predictions",
    "plot_reliability": "predictions",
    "notebook_figures": "notebook",
}

__all__ = list(_PLOTS)


def __getattr__(name):
    if name in _PLOTS:
        value = getattr(importlib.import_module(f"{__name__}.{_PLOTS[name]}"), name)
        globals()[name] = value  # loaded once
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_PLOTS))
