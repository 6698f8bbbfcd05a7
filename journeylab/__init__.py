"""journeylab: a Jupyter-centric workbench for customer-journey research.

Discover how customers really travel (process mining), compare it with the journey the
business designed, segment the travellers, and measure goals and experience KPIs.

>>> import journeylab as jl
>>> log = jl.datasets.load_example()
>>> log.n_cases
6
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from . import datasets, engine
from .exceptions import (
    DataQualityWarning,
    EmptyLogError,
    FileFormatError,
    InvalidParameterError,
    JourneyDefinitionError,
    JourneylabError,
    MissingValuesError,
    SchemaError,
    TimestampError,
)
from .identity import stitch
from .journey import Condition, Criteria, Goal, Journey, Milestone
from .log import EventLog, from_pandas
from .readers import from_ibis, read_csv, read_parquet, read_xes
from .reporting import report

try:
    __version__ = version("journeylab")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "EventLog",
    "from_pandas",
    "from_ibis",
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
    "datasets",
    "engine",
    "JourneylabError",
    "SchemaError",
    "InvalidParameterError",
    "EmptyLogError",
    "TimestampError",
    "MissingValuesError",
    "FileFormatError",
    "JourneyDefinitionError",
    "DataQualityWarning",
    "__version__",
]
