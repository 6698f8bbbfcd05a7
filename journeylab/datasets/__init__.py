"""Bundled data and the journey simulator.

- :func:`make_journeys` simulates the event log of an omnichannel retailer with known
  answers: behavioural segments, a designed journey and the deviations real customers make,
  an A/B test with a planted lift, campaigns, surveys, incidents and several identifiers per
  customer. It returns a :class:`JourneySample` with ``.log``, ``.journey`` and ``.truth``.
- :func:`load_retail` returns the bundled sample made by it (20,000 customers), the one the
  notebooks and the analyses' reference tests use; ``datasets/README.md`` documents it.
- :func:`load_example` / :func:`example_path`: the textbook running example of process mining.

Examples
--------
>>> import journeylab as jl
>>> sample = jl.datasets.make_journeys(1000, random_state=0)
>>> sample.log.n_cases
1000
>>> sorted(sample.truth.customers["segment"].unique())
['deal_seeker', 'researcher', 'store_loyal', 'support_heavy']
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .._core.validation import BOOL, Optional, checked
from ._example import example_path, load_example
from ._params import ACTIVITIES, CHANNELS, MILESTONES, SEGMENT_NAMES, SimulationParams, resolve
from ._truth import JourneySample, JourneyTruth
from ._write import write_parts

__all__ = [
    "example_path",
    "load_example",
    "load_default_log",
    "make_journeys",
    "write_journeys",
    "load_retail",
    "retail_files",
    "RETAIL_SETTINGS",
    "JourneySample",
    "JourneyTruth",
    "SimulationParams",
    "ACTIVITIES",
    "CHANNELS",
    "MILESTONES",
    "SEGMENTS",
]

#: The behavioural segments of the simulator.
SEGMENTS = SEGMENT_NAMES
#: How the bundled retail sample is made (datasets/make_retail.py uses exactly this).
RETAIL_SETTINGS = {"n_customers": 20_000, "random_state": 20250101}
RETAIL_NAME = "retail"


def _simulate_frame(n_customers: int, *, progress: bool | None = None, **params):
    """Simulate, returning ``(events DataFrame, journey dict, JourneyTruth)``: :func:`make_journeys`
    without the EventLog, with its parameters and defaults (its signature is the one list of them)."""
    import inspect

    from ._simulate import generate

    defaults = {k: p.default for k, p in inspect.signature(make_journeys).parameters.items()
                if p.kind is p.KEYWORD_ONLY and k != "progress"}
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise TypeError(f"_simulate_frame() got unknown parameters {unknown}")
    return generate(resolve(n_customers, **{**defaults, **params}), progress=progress)


@checked(progress=Optional(BOOL))
def make_journeys(
    n_customers: int,
    *,
    start="2025-01-01",
    days: int = 180,
    random_state: int | None = None,
    segment_weights: dict[str, float] | None = None,
    abandonment: dict[str, float] | None = None,
    p_skip: float = 0.08,
    p_out_of_order: float = 0.05,
    p_loop: float = 0.10,
    p_support: float = 0.12,
    p_stall: float = 0.10,
    reentry: float = 1.0,
    p_in_progress: float = 0.05,
    ab_lift: float = 0.05,
    p_excluded: float = 0.03,
    p_suppressed: float = 0.04,
    p_late_purchase: float = 0.15,
    incidents="default",
    p_panel: float = 0.25,
    peak_weight: float = 0.4,
    end_weight: float = 0.4,
    friction_effect: float = 1.0,
    attribute_strength: float = 0.5,
    p_new_cookie: float = 0.1,
    p_phone: float = 0.7,
    progress: bool | None = None,
) -> JourneySample:
    """Simulate the customer journeys of an omnichannel retailer, with known answers.

    Customers of four behavioural segments travel through a designed purchase journey
    (explore > cart > checkout > purchase > receive) on web, app, store, e-mail, SMS and the
    call centre, with the deviations real customers make. Every planted structure has a
    parameter, and ``.truth`` records what was planted for each customer and session, so
    that tests can check what an analysis recovers. Generation is vectorised numpy; the same
    ``random_state`` gives the same data on every machine (with the same numpy version).

    Parameters
    ----------
    n_customers : number of customers (>= 1).
    start, days : the observation window (UTC); events after ``start + days`` are not in the
        log, so some customers are still in progress.
    random_state : seed (int >= 0) or None for fresh randomness.
    segment_weights : share of each segment, e.g. ``{"deal_seeker": 1, "store_loyal": 1}``
        (segments not named are dropped). Defaults: deal_seeker .30, store_loyal .25,
        support_heavy .20, researcher .25.
    abandonment : probability that a session ends at each milestone, given it reached it:
        ``{"explore": .40, "cart": .35, "checkout": .20, "purchase": .03}`` (version A).
    p_skip, p_out_of_order : per session reaching checkout, the probability of skipping cart
        or checkout, or of swapping two adjacent milestones (exclusive; sum <= 1).
    p_loop : per session where cart or checkout follows another milestone, the probability of
        going back one step and redoing it (rework); scaled per segment.
    p_support : per session, the probability of a detour to support (help page, chat, call);
        scaled per segment (support_heavy x3.5).
    p_stall : probability of waiting longer than ``stall_after`` (cart 2d, checkout 1d) after
        cart / checkout before going on.
    reentry : mean number of extra journey sessions per customer (scaled per segment).
    p_in_progress : share of customers whose last session is still running when the data ends.
    ab_lift : true lift of version B over A in the goal rate (absolute, e.g. 0.05 = +5
        points); version B sends an SMS reminder after an abandoned cart that brings back
        just enough abandoners.
    p_excluded : share of customers in the exclusion segment (``employee``): never enter.
    p_suppressed : share of entered customers who unsubscribe (suppression segment).
    p_late_purchase : share of the customers whose journey ended at cart/checkout without a
        purchase who buy in store 0.5-6 days later (inside or outside the 3-day window).
    incidents : ``"default"`` (a payment outage and a delivery delay), None, or a list of
        dicts ``{name, kind ("payment_outage" | "delivery_delay"), start, end, p_affected,
        p_contact}``.
    p_panel : share of customers in the survey panel (CSAT/CES at touchpoints, NPS at the end
        of each session).
    peak_weight, end_weight : how the overall rating (NPS) weighs the worst touchpoint and
        the last one; the mean of the touchpoints gets the rest.
    friction_effect : how strongly friction lowers survey answers (0 = not at all).
    attribute_strength : how much customer attributes depend on the segment (0 = not at
        all, 1 = fully segment-specific distributions).
    p_new_cookie : probability that a web/app session uses a fresh cookie (harder stitching).
    p_phone : share of customers with a known phone number (SMS, caller id).
    progress : show a tqdm progress bar (default: from 200,000 customers).

    Returns
    -------
    JourneySample with ``log`` (EventLog; case = ``customer_id``, value = ``amount``),
    ``journey`` (Journey) and ``truth`` (JourneyTruth).

    Raises
    ------
    InvalidParameterError : a parameter out of range (negative count, probability outside
        [0, 1], a date that cannot be read, an unknown segment or milestone...).

    Examples
    --------
    >>> import journeylab as jl
    >>> s = jl.datasets.make_journeys(2000, random_state=7, ab_lift=0.1)
    >>> s.journey.happy_path
    ('explore', 'cart', 'checkout', 'purchase', 'receive')
    >>> s.truth.effects["ab_lift"]
    0.1
    >>> s.truth.customers.columns[:4].tolist()
    ['segment', 'version', 'excluded', 'entered']
    >>> jl.datasets.make_journeys(-5)
    Traceback (most recent call last):
    ...
    journeylab.exceptions.InvalidParameterError: n_customers=-5 is out of range; it must be between 1 and 50,000,000.
    """
    params = {k: v for k, v in locals().items() if k not in ("n_customers", "progress")}
    frame, journey, truth = _simulate_frame(n_customers, progress=progress, **params)
    return _sample(frame, journey, truth)


def write_journeys(path, n_customers: int, *, chunk: int = 100_000, random_state: int | None = None,
                   overwrite: bool = False, progress: bool | None = None, **options) -> Path:
    """Simulate ``n_customers`` customers and write their events as Parquet part files, chunk by chunk.

    Each chunk of ``chunk`` customers is one :func:`make_journeys` call with the same
    ``options`` and its own seed, written to ``<path>/part-00000.parquet``,
    ``part-00001.parquet``... and freed before the next: peak memory is that of one chunk
    (about 1.5 GB for 100,000 customers), whatever ``n_customers`` is. The events have the
    columns of ``make_journeys(...).log.to_pandas()`` (``case`` = customer, ``session_id``,
    ``value``...); the journey definition is written to ``<path>/_journey.yaml`` (the leading
    underscore keeps Spark and pyarrow, which read every other file of a folder, off it). Read the log
    back lazily with :func:`journeylab.scan_parquet` (e.g. ``case="session_id",
    customer="case"`` for journey sessions).

    How it relates to :func:`make_journeys`: the same distributions (every chunk is a
    simulation of its own customers with the same parameters), but not the same rows as one
    call of ``n_customers`` (each chunk draws from its own seed) - except with a single chunk
    (``chunk >= n_customers``), whose rows are exactly ``make_journeys(n_customers,
    random_state=random_state, **options).log.to_pandas()``. Customer ids are numbered across
    chunks (``C`` and the number, with as many digits as ``n_customers`` needs, at least 6), so
    customers and session ids are unique over the folder; the cookie, e-mail,
    phone and loyalty ids of chunk ``k > 0`` end in ``-k``. The same ``random_state`` and
    ``chunk`` give the same files.

    Parameters
    ----------
    path : str or Path
        The folder to write (created; it must be empty unless ``overwrite=True``, which
        deletes the part files and ``_journey.yaml`` already there).
    n_customers : int
        Customers in all (>= 1).
    chunk : int
        Customers per part file (>= 1; default 100,000: about 1.4M events).
    random_state : int, optional
        Seed (int >= 0); None for fresh randomness.
    overwrite : bool
        Replace the part files of an earlier run in ``path``.
    progress : bool, optional
        A progress bar over the chunks (None: when there are several).
    **options
        Any other parameter of :func:`make_journeys` (``days``, ``ab_lift``, ``p_support``...).

    Returns
    -------
    pathlib.Path
        The folder.

    Examples
    --------
    >>> import journeylab as jl, tempfile
    >>> folder = jl.datasets.write_journeys(tempfile.mkdtemp() + "/log", 300, chunk=100, random_state=7)
    >>> sorted(p.name for p in folder.iterdir())
    ['_journey.yaml', 'part-00000.parquet', 'part-00001.parquet', 'part-00002.parquet']
    >>> log = jl.scan_parquet(folder, case="case", activity="activity", timestamp="timestamp")
    >>> log.n_cases
    300
    """
    return write_parts(make_journeys, path, n_customers, chunk=chunk, random_state=random_state,
                       overwrite=overwrite, progress=progress, **options)


def _sample(frame: pd.DataFrame, journey_dict: dict, truth: JourneyTruth) -> JourneySample:
    from ..journey import Journey
    from ..log import from_pandas

    log = from_pandas(frame, case="customer_id", activity="activity", timestamp="timestamp", channel="channel",
                      value="amount")
    return JourneySample(log=log, journey=Journey.from_dict(journey_dict), truth=truth)


def retail_files() -> dict[str, Path]:
    """Paths of the files of the bundled retail sample (package data, or ``datasets/`` in a checkout).

    Returns
    -------
    dict of str to pathlib.Path
        ``events`` (Parquet), ``customers`` and ``sessions`` (the truth per customer and per session,
        Parquet), ``params`` (JSON) and ``journey`` (YAML); ``datasets/README.md`` documents them.

    Examples
    --------
    >>> import journeylab as jl
    >>> sorted(jl.datasets.retail_files())
    ['customers', 'events', 'journey', 'params', 'sessions']
    """
    from ._bundle import file_names
    from ._files import data_path

    return {part: data_path(name) for part, name in file_names(RETAIL_NAME).items()}


@checked(frame=BOOL)
def load_retail(*, frame: bool = False):
    """The bundled retail sample: 20,000 simulated customers of an omnichannel retailer.

    Made by ``make_journeys(20_000, random_state=20250101)`` (``datasets/make_retail.py``
    regenerates it exactly); ``datasets/README.md`` documents its columns, phases, segments
    and planted stories.

    Parameters
    ----------
    frame : bool, default False
        Return the events DataFrame (original column names) instead of a :class:`JourneySample`.

    Returns
    -------
    JourneySample or pandas.DataFrame
        ``.log`` (EventLog; case = ``customer_id``, value = ``amount``), ``.journey`` (Journey) and
        ``.truth`` (JourneyTruth); with ``frame=True`` the events.

    Examples
    --------
    >>> import journeylab as jl
    >>> retail = jl.datasets.load_retail()
    >>> retail.log.n_cases
    20000
    >>> retail.journey.name
    'omnichannel purchase'
    >>> round(retail.truth.effects["ab_lift"], 2)
    0.05
    """
    from ..journey import Journey
    from ._bundle import read_parquet_frame, read_truth
    from ._simulate import normalize_frame

    paths = retail_files()
    events = normalize_frame(read_parquet_frame(paths["events"]))
    if frame:
        return events
    truth = read_truth(paths)
    journey = Journey.from_yaml(paths["journey"])
    return _sample(events, journey.to_dict(), truth)


def load_default_log():
    """The log that ``make report``, the command line and the quickstart use: the bundled retail sample.

    Returns
    -------
    EventLog
        ``load_retail().log``: 20,000 simulated customers (case = ``customer_id``).

    Examples
    --------
    >>> import journeylab as jl
    >>> jl.datasets.load_default_log().n_cases > 0
    True
    """
    return load_retail().log
