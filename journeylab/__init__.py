"""journeylab: a Jupyter-centric workbench for customer-journey research.

Discover how customers really travel (process mining), compare it with the journey the
business designed, segment the travellers, and measure goals and experience KPIs.

>>> import journeylab as jl
>>> log = jl.datasets.load_example()
>>> log.n_cases
6
"""

from __future__ import annotations

from ._core.results import readable
from ._core.version import __version__
from . import datasets, engine, filters  # noqa: F401  (jl.filters: the exploration filters, also EventLog methods)
from .abtest import ABTest, SmallSampleWarning, ab_test
from .attribution import Attribution, AttributionComparison, attribution, compare_attribution, conversion_paths
from .channels import ChannelMix, channel_mix
from .conformance import Conformance, compare
from .contact import ContactPeaks, contact_peaks
from .discovery import Model, Paths, ProcessMap, Variants, discover, discover_model, paths, variants
from .exceptions import (
    DataQualityWarning,
    EmptyLogError,
    FileFormatError,
    InvalidParameterError,
    JourneyDefinitionError,
    JourneylabError,
    MissingValuesError,
    OutputError,
    SchemaError,
    TimestampError,
)
from .features import JourneyVectorizer, case_attributes
from .funnel import Funnel, funnel
from .goals import GoalAttainment, goal_attainment
from .identity import stitch
from .journey import Condition, Criteria, Goal, Journey, Milestone
from .journeymap import JourneyMap, journey_map
from .kpi import SurveyScore, TouchpointScores, ces, csat, nps, survey_score, touchpoint_scores
from .log import EventLog, from_pandas
from .milestones import Milestones, milestones
from .peakend import PeakEnd, peak_end
from .readers import from_ibis, read_csv, read_parquet, read_xes, scan_parquet
from .reporting import report
from .rules import Rule, RuleActions, evaluate_rules
from .segments import Segmentation, SegmentComparison, cluster_journeys, compare_segments, segment_by

_EXPLORERS = {
    "process_explorer": "journeylab.widgets.process",
    "happy_path_explorer": "journeylab.widgets.happy_path",
    "segment_explorer": "journeylab.widgets.segments",
}


def __getattr__(name):
    """The explorers import ipywidgets, so they are loaded on first use."""
    if name in _EXPLORERS:
        import importlib

        return getattr(importlib.import_module(_EXPLORERS[name]), name)
    raise AttributeError(f"module 'journeylab' has no attribute {name!r}")



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
    "evaluate_rules",
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
    "DataQualityWarning",
    "__version__",
]
