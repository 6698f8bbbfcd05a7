"""journeylab: a Jupyter-centric workbench for customer-journey research.

Discover how customers really travel (process mining), compare it with the journey the
business designed, segment the travellers, and measure goals and experience KPIs.

>>> import journeylab as jl
>>> log = jl.datasets.load_example()
>>> log.n_cases
6
"""

from __future__ import annotations

import sys as _sys
import types as _types

from ._core.version import __version__
from .exceptions import (
    DataQualityWarning,
    EmptyLogError,
    EngineResourceError,
    FileFormatError,
    InvalidParameterError,
    JourneyDefinitionError,
    JourneylabError,
    MissingValuesError,
    OutputError,
    SchemaError,
    TimestampError,
)

# Every other public name, by the module that defines it: loaded on first use, so that ``import journeylab``
# (and ``journeylab --help``) does not import pandas, DuckDB, scikit-learn and pm4py before they are needed.
_LAZY = {
    "readable": "._core.results",
    "datasets": ".datasets",
    "engine": ".engine",
    "filters": ".filters",
    "ABTest": ".abtest",
    "SmallSampleWarning": ".abtest",
    "ab_test": ".abtest",
    "Attribution": ".attribution",
    "AttributionComparison": ".attribution",
    "attribution": ".attribution",
    "compare_attribution": ".attribution",
    "conversion_paths": ".attribution",
    "ChannelMix": ".channels",
    "channel_mix": ".channels",
    "Conformance": ".conformance",
    "compare": ".conformance",
    "ContactPeaks": ".contact",
    "contact_peaks": ".contact",
    "Model": ".discovery",
    "Paths": ".discovery",
    "ProcessMap": ".discovery",
    "Variants": ".discovery",
    "discover": ".discovery",
    "discover_model": ".discovery",
    "paths": ".discovery",
    "variants": ".discovery",
    "JourneyVectorizer": ".features",
    "case_attributes": ".features",
    "Drivers": ".drivers",
    "drivers": ".drivers",
    "plot_drivers": ".plotting",
    "Funnel": ".funnel",
    "funnel": ".funnel",
    "GoalAttainment": ".goals",
    "goal_attainment": ".goals",
    "stitch": ".identity",
    "Condition": ".journey",
    "Criteria": ".journey",
    "Goal": ".journey",
    "Journey": ".journey",
    "Milestone": ".journey",
    "JourneyMap": ".journeymap",
    "journey_map": ".journeymap",
    "SurveyScore": ".kpi",
    "TouchpointScores": ".kpi",
    "ces": ".kpi",
    "csat": ".kpi",
    "nps": ".kpi",
    "survey_score": ".kpi",
    "touchpoint_scores": ".kpi",
    "EventLog": ".log",
    "from_pandas": ".log",
    "Milestones": ".milestones",
    "milestones": ".milestones",
    "PeakEnd": ".peakend",
    "peak_end": ".peakend",
    "from_ibis": ".readers",
    "read_csv": ".readers",
    "read_parquet": ".readers",
    "read_xes": ".readers",
    "scan_parquet": ".readers",
    "report": ".reporting",
    "Rule": ".rules",
    "RuleActions": ".rules",
    "evaluate_rules": ".rules",
    "predict": ".predictions",
    "Predictions": ".predictions",
    "PredictionEvaluation": ".predictions",
    "Segmentation": ".segments",
    "SegmentComparison": ".segments",
    "cluster_journeys": ".segments",
    "compare_segments": ".segments",
    "segment_by": ".segments",
    "Retention": ".retention",
    "retention": ".retention",
    "process_explorer": ".widgets.process",
    "happy_path_explorer": ".widgets.happy_path",
    "segment_explorer": ".widgets.segments",
}

#: Public functions named like the module that defines them: ``jl.funnel`` is the function, as
#: ``from journeylab import funnel`` is. Importing that module (``import journeylab.funnel``, or any
#: ``from journeylab.funnel import ...``) makes Python set the package attribute to the module; the
#: package keeps the function instead (the module stays in ``sys.modules``).
_MODULES = frozenset({"datasets", "engine", "filters"})  # public names that are modules
_SHADOWED = frozenset(n for n, m in _LAZY.items() if m == "." + n and n not in _MODULES)


def __getattr__(name):
    """Load a public name on first use (see ``_LAZY``)."""
    import importlib

    where = _LAZY.get(name)
    if where is None:  # a public submodule (jl.segments, jl.kpi, jl.plotting...), as with eager imports
        if not name.startswith("_"):
            try:
                importlib.import_module(f"{__name__}.{name}")
            except ModuleNotFoundError as err:
                if err.name != f"{__name__}.{name}":
                    raise
            else:
                return _sys.modules[__name__].__dict__[name]
        raise AttributeError(f"module 'journeylab' has no attribute {name!r}")

    module = importlib.import_module(where, __name__)
    value = module if name in _MODULES else getattr(module, name)
    setattr(_sys.modules[__name__], name, value)
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


class _Package(_types.ModuleType):
    """The package's module type: keeps the public function when a submodule of the same name is imported."""

    def __setattr__(self, name, value):
        if name in _SHADOWED and isinstance(value, _types.ModuleType):
            value = getattr(value, name)
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package


__all__ = [
    "EventLog",
    "from_pandas",
    "from_ibis",
    "scan_parquet",
    "read_csv",
    "read_parquet",
    "read_xes",
    "stitch",
    "report",
    "Journey",
    "Milestone",
    "Goal",
    "Condition",
    "Criteria",
    # discovery
    "discover",
    "variants",
    "paths",
    "discover_model",
    "ProcessMap",
    "Variants",
    "Paths",
    "Model",
    # happy path
    "compare",
    "Conformance",
    "funnel",
    "Funnel",
    "milestones",
    "Milestones",
    # explorers (ipywidgets, imported on first use)
    "process_explorer",
    "happy_path_explorer",
    "segment_explorer",
    # segments
    "segment_by",
    "cluster_journeys",
    "compare_segments",
    "Segmentation",
    "SegmentComparison",
    "JourneyVectorizer",
    "case_attributes",
    # goals
    "goal_attainment",
    "GoalAttainment",
    "ab_test",
    "ABTest",
    "SmallSampleWarning",
    # drivers
    "drivers",
    "Drivers",
    "plot_drivers",
    "evaluate_rules",
    "predict",
    "Predictions",
    "PredictionEvaluation",
    "Rule",
    "RuleActions",
    # experience KPIs
    "nps",
    "csat",
    "ces",
    "survey_score",
    "touchpoint_scores",
    "SurveyScore",
    "TouchpointScores",
    "peak_end",
    "PeakEnd",
    "contact_peaks",
    "ContactPeaks",
    "attribution",
    "compare_attribution",
    "conversion_paths",
    "Attribution",
    "AttributionComparison",
    "channel_mix",
    "ChannelMix",
    "journey_map",
    "JourneyMap",
    "datasets",
    "engine",
    "readable",
    "JourneylabError",
    "SchemaError",
    "InvalidParameterError",
    "EmptyLogError",
    "TimestampError",
    "MissingValuesError",
    "FileFormatError",
    "JourneyDefinitionError",
    "OutputError",
    "EngineResourceError",
    "DataQualityWarning",
    "__version__",
    "Retention",
    "retention",
]
