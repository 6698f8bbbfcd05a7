"""Discovery of actual journeys: process maps, variants, paths and process models.

Every function reads an :class:`~journeylab.EventLog` through the scans of
:mod:`journeylab._kernels.scans` - the variant table and the directly-follows durations, shared
by the map, the variants, the filters and the models, and cached by the log - and returns a
frozen result object (:class:`~journeylab._core.results.Result`) with ``to_frame()``,
``summary``, ``plot(ax=None)`` and read-only ``params``. In-memory logs are scanned as integer
codes with numpy; lazy logs (Spark, DuckDB tables) with Ibis expressions, with equal results.

- :func:`discover` -> :class:`ProcessMap`: the directly-follows map with an artificial
  start and end, simplified by two sliders like Disco's (``activities``, ``paths``).
- :func:`variants` -> :class:`Variants`: the distinct activity sequences and their cases.
- :func:`paths` -> :class:`Paths`: what happens in the steps after (or before) an activity.
- :func:`discover_model` -> :class:`Model`: a process tree / Petri net / BPMN found by
  pm4py on the variant table, with fitness and precision against the log.

Examples
--------
>>> import journeylab as jl
>>> log = jl.datasets.load_example()
>>> discover(log)
ProcessMap: 8 of 8 activities, 19 of 19 paths, 6 cases (activities=1.0, paths=1.0)
>>> variants(log, top=2)
Variants: top 2 of 6 variants, covering 33.3% of 6 cases
"""

from __future__ import annotations

import pandas as pd

from .._core.deprecation import moved_names
from .._core.vocabulary import END, START
from ._map import ProcessMap, discover
from ._model import Model, discover_model
from ._sequences import Paths, Variants, paths, variants

__all__ = [
    "START",
    "END",
    "ProcessMap",
    "Variants",
    "Paths",
    "Model",
    "discover",
    "variants",
    "paths",
    "discover_model",
]


def _format_duration_v0(td) -> str:
    """The short reading of a duration of journeylab 0.1 (``'45 s'``, ``'12 min'``, ``'5.2 h'``, ``'31 d'``;
    ``''`` when missing) - what ``journeylab.discovery.format_duration`` gives until it is removed."""
    if td is None or pd.isna(td):
        return ""
    s = pd.Timedelta(td).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if s >= size:
            v = s / size
            return f"{v:.1f} {unit}" if v < 10 else f"{v:,.0f} {unit}"
    return f"{s:.0f} s"


#: Public names this module no longer has, kept for one release (with a DeprecationWarning).
__getattr__ = moved_names(__name__, {
    "format_duration": (_format_duration_v0, "journeylab._core.formatting.format_duration (one formatter for every "
                                             "table and plot: '12.0 min'; '-' when missing)"),
})
