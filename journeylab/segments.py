"""Customer segments: from rules, or discovered by clustering, with profiles, maps and tests.

A **segment** is a group of similar customers (DOMAIN.md). journeylab makes segments two
ways and returns the same :class:`~journeylab.segmentation.Segmentation` from both:

- :func:`segment_by` - named **rules** on case attributes and behaviour, e.g.
  ``{"app_first": "first_channel == 'app'", "high_value": "value_sum > 200"}``. The
  vocabulary of a rule is :func:`case_attributes` (see :mod:`journeylab.features`);
  conditions are read by journeylab's own safe parser (:mod:`journeylab.conditions`).
- :func:`cluster_journeys` - segments **discovered** from behaviour (:mod:`journeylab.clustering`).

:func:`attribute_segmentation` makes a segment of each value of an attribute (region, device).
On a log in DuckDB or Spark both read (b) per-case tables computed by the engine (:func:`case_attributes`;
the attribute on each case's first event: one group-by), never the event table.
A Segmentation tells who is in which segment (``labels``, ``membership``), describes each
segment (:meth:`~journeylab.segmentation.Segmentation.profile`: typical journey,
distinguishing activities and transitions, conversion, conformance, duration, channel mix,
survey KPIs), draws them and places the cases of another log
(:meth:`~journeylab.segmentation.Segmentation.predict`). :func:`compare_segments` tests the
differences between segments.

Examples
--------
>>> import journeylab as jl
>>> sample = jl.datasets.make_journeys(500, random_state=2)
>>> seg = segment_by(sample.log, {"app_first": "first_channel == 'app'", "big": "value_sum > 200"})
>>> seg.segments
('app_first', 'big', 'other')
>>> bool(seg.sizes.loc["app_first", "cases"] == (case_attributes(sample.log)["first_channel"] == "app").sum())
True
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._core.formatting import cut
from ._core.names import closest, did_you_mean
from ._core.validation import BOOL, JOURNEY, LOG, TEXT, Int, Optional, checked
from ._kernels.cases import first_event_values
from .clustering import cluster_journeys
from .conditions import Condition, parse_conditions
from .exceptions import InvalidParameterError, JourneyDefinitionError, SchemaError
from .features import JourneyVectorizer, case_attributes
from .segment_compare import SegmentComparison, compare_segments
from .segmentation import Segmentation

__all__ = ["segment_by", "attribute_segmentation", "cluster_journeys", "compare_segments", "Segmentation", "case_attributes",
           "JourneyVectorizer", "SegmentComparison"]


# --------------------------------------------------------------------------- rules


def _rule_conditions(name: str, rule) -> tuple[Condition, ...]:
    where = f"segment {name!r}"
    items = [rule] if isinstance(rule, (str, Condition)) else rule
    if isinstance(items, Mapping) or not hasattr(items, "__iter__"):
        raise InvalidParameterError(f"{where}: the rule must be text such as \"value_sum > 200\" (or a list of such "
                                    f"conditions), got {cut(rule)}.")
    out: list[Condition] = []
    for item in items:
        if isinstance(item, Condition):
            out.append(item)
            continue
        try:
            out.extend(parse_conditions(item, where=where))
        except JourneyDefinitionError as err:
            raise InvalidParameterError(str(err)) from None
    if not out:
        raise InvalidParameterError(f"{where}: the rule is empty; give a condition such as \"value_sum > 200\".")
    return tuple(out)


def _check_columns(name: str, conds, table: pd.DataFrame) -> None:
    cols = [str(c) for c in table.columns]
    for cond in conds:
        if cond.column in table.columns:
            continue
        hits = closest(cond.column, cols)
        near = f" Closest: {', '.join(repr(h) for h in hits)}." if hits else ""
        plain = [c for c in cols if not c.startswith(("count_", "share_", "reached_"))]
        groups = [f"{p}<{w}> ({sum(c.startswith(p) for c in cols)} columns)"
                  for p, w in (("count_", "activity"), ("share_", "channel"), ("reached_", "milestone"))
                  if any(c.startswith(p) for c in cols)]
        raise InvalidParameterError(
            f"segment {name!r}: rule '{cond}' names the column {cond.column!r}, which is not a case attribute.{near} "
            f"Available: {plain + groups}. Fix the name in the rule; jl.segments.case_attributes(log) shows every "
            f"column with its values.")


def _evaluate(name: str, conds, table: pd.DataFrame) -> np.ndarray:
    mask = np.ones(len(table), dtype=bool)
    for cond in conds:
        try:
            mask &= cond.matches(table).to_numpy()
        except JourneyDefinitionError as err:
            msg = str(err).replace("the events have", "the case attributes have")
            raise InvalidParameterError(f"segment {name!r}: {msg}") from None
    return mask


@checked(log=LOG, exclusive=BOOL, journey=Optional(JOURNEY), other=TEXT)
def segment_by(log, rules: Mapping, *, exclusive: bool = False, journey=None, attributes: pd.DataFrame | None = None,
               other: str = "other") -> Segmentation:
    """Segments from named rules on case attributes and behaviour.

    Parameters
    ----------
    log : EventLog
        The cases to segment.
    rules : mapping
        Segment name -> condition text (or a list of conditions, joined by ``and``), e.g.
        ``{"app_first": "first_channel == 'app'", "high_value": "value_sum > 200"}``. The
        columns are the case attributes of :func:`case_attributes` (``n_events``,
        ``duration_days``, ``first_channel``, ``value_sum``, ``count_<activity>``, the first
        value of every attribute of the log; with a journey also ``goal``, ``conforms``,
        ``conformance_cost``, ``milestones_reached``, ...). Operators:
        ``==, !=, >, >=, <, <=, in, not in``; no ``or``, nothing is evaluated as code.
    exclusive : bool, default False
        False: segments may overlap (a case is in every segment whose rule it meets); True: the
        first matching rule wins. In both cases, cases that meet no rule are in the segment named
        ``other`` (when there are any), so every case has a segment. ``labels`` always gives the
        first match.
    journey : Journey, optional
        Adds the journey columns to the vocabulary and the conversion and conformance figures to
        the profiles.
    attributes : DataFrame, optional
        Indexed by case id, with more per-case columns (e.g. from a CRM), joined to the vocabulary.
    other : str, default "other"
        Name of the segment of the cases that meet no rule.

    Returns
    -------
    Segmentation
        ``labels``, ``membership``, ``profile()``, ``plot()``, ``predict(other_log)``...

    Examples
    --------
    >>> import journeylab as jl
    >>> log = jl.datasets.load_example()
    >>> seg = segment_by(log, {"long": "n_events >= 9", "rejected": "count_reject_request > 0"}, exclusive=True)
    >>> seg.labels.to_dict()
    {'1': 'rejected', '2': 'other', '3': 'long', '4': 'rejected', '5': 'long', '6': 'other'}
    >>> segment_by(log, {"x": "n_event > 3"})
    Traceback (most recent call last):
    ...
    journeylab.exceptions.InvalidParameterError: segment 'x': rule 'n_event > 3' names the column 'n_event', which is not a case attribute. Closest: 'n_events'...
    """
    if not isinstance(rules, Mapping) or not rules:
        raise InvalidParameterError(f"rules must be a non-empty mapping of segment name -> condition, e.g. "
                                    f"{{'app_first': \"first_channel == 'app'\"}}; got {cut(rules)}.")
    for name in rules:
        if not isinstance(name, str) or not name.strip():
            raise InvalidParameterError(f"segment names must be non-empty text; got {cut(name)}.")
        if name == other:
            raise InvalidParameterError(f"segment name {name!r} is the name of the segment of the remaining cases; "
                                        f"rename the rule or pass other=... with another name.")
    model = _Rules({name: _rule_conditions(name, rule) for name, rule in rules.items()}, exclusive, journey, other,
                   attributes)
    placed = model.place(log)
    params = {"rules": {name: " and ".join(str(c) for c in conds) for name, conds in model.rules.items()},
              "exclusive": exclusive, "journey": None if journey is None else journey.name, "other": other}
    return Segmentation(placed["labels"], placed["membership"], "rules", log, case_table=placed["attributes"],
                        journey=journey, model=model, rules=model.rules, exclusive=exclusive, params=params,
                        extra=attributes)


def _attribute_table(log, journey, attributes) -> pd.DataFrame:
    table = case_attributes(log, journey=journey)
    if attributes is None:
        return table
    if not isinstance(attributes, pd.DataFrame):
        raise InvalidParameterError(f"attributes must be a DataFrame indexed by case id, got "
                                    f"{type(attributes).__name__}.")
    clash = [c for c in attributes.columns if c in table.columns]
    if clash:
        raise InvalidParameterError(f"attributes has column(s) {cut(clash)} that are already case attributes; "
                                    "rename them.")
    idx = attributes.index.astype(str)
    if idx.has_duplicates:
        raise InvalidParameterError("attributes has duplicate case ids in its index; give one row per case.")
    extra = attributes.copy()
    extra.index = idx
    return table.join(extra, how="left")


@dataclass(frozen=True, eq=False)
class _Rules:
    """Rule segments: the parsed rules and how they apply; ``place(log)`` evaluates them on a log's cases."""

    rules: dict
    exclusive: bool
    journey: object
    other: str
    extra: pd.DataFrame | None = None

    def place(self, log) -> dict:
        table = _attribute_table(log, self.journey, self.extra)
        for name, conds in self.rules.items():
            _check_columns(name, conds, table)
        n = len(table)
        names = list(self.rules)
        hits = np.column_stack([_evaluate(name, conds, table) for name, conds in self.rules.items()]) if names else \
            np.zeros((n, 0), dtype=bool)
        any_hit = hits.any(axis=1)
        first = np.where(any_hit, hits.argmax(axis=1), len(names))
        segments = names + ([self.other] if (~any_hit).any() else [])
        labels = pd.Series(pd.Categorical.from_codes(first, categories=segments), index=table.index, name="segment")
        if self.exclusive:
            member = np.zeros((n, len(segments)), dtype=bool)
            member[np.arange(n), first] = True
        else:
            member = np.column_stack([hits, ~any_hit]) if len(segments) > len(names) else hits
        return {"labels": labels, "membership": pd.DataFrame(member, index=table.index, columns=segments),
                "attributes": table}


# --------------------------------------------------------------------------- the value of an attribute


@checked(log=LOG, column=TEXT, journey=Optional(JOURNEY), max_segments=Int(minimum=2, example=12), other=TEXT)
def attribute_segmentation(log, column: str, *, journey=None, max_segments: int = 12,
                           other: str = "other") -> Segmentation:
    """Segments by the value of a case attribute (its value on the case's first event), e.g.
    region or device. The ``max_segments - 1`` most frequent values keep their own segment; the
    rest are pooled in ``other``; cases without a value are in ``"(missing)"``.

    Parameters
    ----------
    log : EventLog
        The cases to segment.
    column : str
        A column of the log other than the case, activity and timestamp.
    journey : Journey, optional
        Adds the conversion and conformance figures to the profiles.
    max_segments : int, default 12
        At most this many segments (values beyond are pooled).
    other : str, default "other"
        Name of the pooled segment.

    Returns
    -------
    Segmentation

    Examples
    --------
    >>> import journeylab as jl
    >>> seg = attribute_segmentation(jl.datasets.load_retail().log, "region")
    >>> sorted(seg.segments)[:2]
    ['central', 'east']
    >>> attribute_segmentation(jl.datasets.load_retail().log, "regoin")
    Traceback (most recent call last):
    ...
    journeylab.exceptions.SchemaError: 'regoin' is not a column of the log. Did you mean 'region'? ...
    """
    usable = [c for c in log.columns if c not in ("case", "activity", "timestamp")]
    if column not in usable:
        what = "is the case id" if column == "case" else "changes within a case" if column in log.columns else \
            f"is not a column of the log.{did_you_mean(column, usable)}"
        raise SchemaError(f"{column!r} {what} Segment by one of: {', '.join(map(str, usable)) or 'none'}.")
    table = case_attributes(log, journey=journey)
    values = _first_event_values(log, column)
    missing = "(missing)"
    while missing in set(values.dropna()):
        missing = f"({missing})"
    values = values.fillna(missing)
    counts = values.value_counts()
    keep = list(counts.index[: max_segments - 1]) if len(counts) > max_segments else list(counts.index)
    while other in keep or (other in set(values) and other not in keep):
        other = f"{other} (pooled)"
    model = _AttributeValues(column, journey, tuple(keep), other, missing)
    params = {"attribute": column, "journey": None if journey is None else journey.name,
              "max_segments": max_segments}
    return Segmentation(model.place(log, table)["labels"], None, f"attribute {column}", log, case_table=table,
                        journey=journey, model=model, params=params)


def _first_event_values(log, column: str) -> pd.Series:
    """Per case (indexed by case id), the value of ``column`` on its first event, as text (missing: NA)."""
    return first_event_values(log, column).astype("string")


@dataclass(frozen=True, eq=False)
class _AttributeValues:
    """An attribute segmentation: the values that have a segment; ``place(log)`` reads them on a log's cases
    (a value without a segment goes to ``other``)."""

    column: str
    journey: object
    keep: tuple
    other: str
    missing: str

    def place(self, log, table: pd.DataFrame | None = None) -> dict:
        if self.column not in log.columns:
            raise SchemaError(f"{self.column!r} is not a column of this log; the segmentation was made by its "
                              "values, so the log must have it.")
        values = _first_event_values(log, self.column).fillna(self.missing)
        values = values.where(values.isin(self.keep), self.other)
        cats = list(self.keep) + ([self.other] if (~values.isin(self.keep)).any() else [])
        labels = pd.Series(pd.Categorical(values.to_numpy(dtype=object), categories=cats), index=values.index,
                           name="segment")
        return {"labels": labels, "attributes": table}


# --------------------------------------------------------------------------- moved


#: Public names this module no longer has, kept for one release: name -> (module, name there).
_MOVED = {"report_section": ("journeylab._report.segments", "report_section")}


def __getattr__(name):
    if name in _MOVED:
        from ._report import segments as _report_segments  # the report sits above the analyses: a deprecated alias

        warnings.warn(f"journeylab.segments.{name} is deprecated and goes in the next release; the report's "
                      f"sections are built by {_MOVED[name][0]}.", DeprecationWarning, stacklevel=2)
        return getattr(_report_segments, _MOVED[name][1])
    raise AttributeError(f"module 'journeylab.segments' has no attribute {name!r}")
