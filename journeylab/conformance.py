"""Comparison with the happy path: optimal alignments of milestone sequences, and deviations.

:func:`compare` maps each case's events to the journey's milestones, aligns the
resulting milestone sequence optimally with the **happy path** (the journey's required
positive milestones, in order) and returns a :class:`Conformance` result: per case the
alignment cost, fitness, whether it conforms, the last milestone reached and the typed
deviations; per deviation type its frequency and its effect on journey duration and on
goal attainment.

From events to a milestone sequence
-----------------------------------
Each event is mapped to the first milestone (in definition order) whose activities and
conditions it matches (:meth:`Journey.milestone_of`); events that mark no milestone are
ignored. With ``collapse=True`` (the default) consecutive events of the same milestone
are one *visit* (five product views in a row are one visit to ``browse``), so the trace
of a case is its sequence of milestone visits. Cases with no milestone event are outside
the journey: they are counted (``Conformance.n_outside``) but not aligned.

Where it runs
-------------
In memory the events are read where they lie. On a log that lives in DuckDB or Spark the engine maps
each event of the journey's activities to its milestone (conditions compiled to SQL; a condition pandas
must read - a date or a duration written as text - makes it fetch the projection of the journey's
activities instead), collapses the runs and sends back (c) one narrow row of integers per milestone
visit and (b) one row per case in the journey (its id and latest goal event); the distinct sequences,
their alignments and every table are then computed from those, with results identical to memory.

The alignment
-------------
The model is the happy path as a sequential process (a Petri net that is a chain of
transitions). A *synchronous move* matches a trace milestone with the path milestone of
the same name (cost 0); a *log move* is a trace milestone the path does not explain
(cost 1); a *model move* is a path milestone the trace lacks (cost 1). The optimal cost
is therefore ``len(trace) + len(path) - 2 * LCS(trace, path)`` (LCS: longest common
subsequence) and is exactly pm4py's optimal alignment cost with its standard costs
divided by 10,000 (tested on every variant of generated logs and on random sequences).
``fitness = 1 - cost / (len(trace) + len(path))``, as pm4py defines it.

Among equally cheap alignments the one returned is fixed: walking the trace and the path
from the start, a synchronous move is taken whenever the labels agree; otherwise the path
milestone is passed over (model move) if that keeps the alignment optimal, else the trace
milestone is (log move). This matches each happy-path milestone at its earliest
occurrence that an optimal alignment allows, so a later occurrence reads as rework.

Deviation types
---------------
Derived from the alignment; each costs what its moves cost, so the deviation costs of a
case add up to its alignment cost:

``skipped`` (cost 1)
    a model move for a happy-path milestone that never occurs in the trace, while a later
    happy-path milestone is matched (the customer jumped over it).
``incomplete`` (cost 1 per missing milestone)
    a model move for a milestone that never occurs in the trace, with no synchronous move
    after it: the case ended before the final milestone.
``out_of_order`` (cost 2)
    a happy-path milestone whose occurrence could not be matched in place: its model move
    and the (first) log move of the same milestone, counted once.
``repeated`` (cost 1)
    a further occurrence (log move) of a happy-path milestone that is already matched or
    already counted out of order: rework or a loop.
``unexpected`` (cost 1)
    a log move of a milestone that is not on the happy path (optional or negative).

Examples
--------
>>> from journeylab.conformance import align
>>> a = align(["visit", "pay", "cart"], ["visit", "cart", "pay"])
>>> a.cost, round(a.fitness, 3)
(2, 0.667)
>>> [(d.type, d.milestone) for d in a.deviations]
[('out_of_order', 'cart')]

>>> import journeylab as jl
>>> from journeylab.journey import Journey
>>> log = jl.datasets.load_example()
>>> journey = Journey.from_dict({"name": "claim", "milestones": [
...     {"name": "register", "activities": ["register request"]},
...     {"name": "examine", "activities": ["examine casually", "examine thoroughly"]},
...     {"name": "check", "activities": ["check ticket"]},
...     {"name": "decide", "activities": ["decide"]},
...     {"name": "pay", "activities": ["pay compensation"]},
...     {"name": "reject", "activities": ["reject request"], "kind": "negative", "optional": True}]})
>>> result = compare(log, journey)
>>> result
Conformance: 6 cases vs happy path 'claim', 16.7% conform, mean cost 3.2, mean fitness 0.74
>>> result.cases.loc["6", ["cost", "conforms", "last_milestone"]].to_dict()
{'cost': 0, 'conforms': True, 'last_milestone': 'pay'}
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ._core.formatting import format_count, format_duration, format_number, format_share
from ._core.results import FrozenMap, Result
from ._core.stats import newcombe, z_score
from ._core.validation import BOOL, CONFIDENCE, JOURNEY, LOG, Optional, checked
from ._core.vocabulary import DEVIATION_LABELS, DEVIATION_TYPES, PATH_STATUSES
from ._kernels.alignment import AlignmentBatch, align_batch, align_tuple
from ._kernels.alignment import Alignment, Deviation, align  # noqa: F401 - public names of this module
from ._kernels.visits import milestone_visits, sequences, to_datetime
from .exceptions import InvalidParameterError

__all__ = ["compare", "Conformance", "align", "Alignment", "Deviation", "DEVIATION_TYPES"]

# --------------------------------------------------------------------------- statistics


def _welch(x: np.ndarray, y: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """Mean difference x - y with a Welch t confidence interval (NaN when undefined)."""
    def stats(v):
        return len(v), (float(np.mean(v)) if len(v) else math.nan), (float(np.var(v, ddof=1)) if len(v) > 1
                                                                    else math.nan)

    return _welch_stats(stats(np.asarray(x, dtype=float)), stats(np.asarray(y, dtype=float)), confidence)


def _welch_stats(a: tuple, b: tuple, confidence: float) -> tuple[float, float, float]:
    """Welch interval from (n, mean, variance) of each group: mean_a - mean_b, low, high."""
    from scipy.special import stdtrit

    (n1, m1, s1), (n2, m2, s2) = a, b
    if n1 == 0 or n2 == 0:
        return math.nan, math.nan, math.nan
    diff = m1 - m2
    if n1 < 2 or n2 < 2:
        return diff, math.nan, math.nan
    v1, v2 = s1 / n1, s2 / n2
    se = math.sqrt(v1 + v2)
    if se == 0:
        return diff, diff, diff
    dof = (v1 + v2) ** 2 / ((v1 ** 2 / (n1 - 1)) + (v2 ** 2 / (n2 - 1)))
    q = float(stdtrit(dof, 0.5 + confidence / 2))
    return diff, diff - q * se, diff + q * se


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True, eq=False)
class Conformance(Result):
    """How cases compare with the happy path (see :func:`compare`).

    Attributes
    ----------
    cases : DataFrame indexed by case: ``milestones`` (tuple, the trace of milestone
        visits), ``cost``, ``fitness``, ``conforms``, ``last_milestone`` (categorical, the
        milestone of its latest visit), ``deviations``
        (tuple of ``"type: milestone"``), ``n_deviations``, ``start`` / ``end`` (first and
        last milestone event), ``duration``, ``goal`` (goal event at or after the start;
        missing when the journey has no goal), ``variant`` (row of ``variants``).
    variants : one row per distinct milestone sequence, most frequent first: ``milestones``,
        ``count``, ``cost``, ``fitness``, ``deviations``; :meth:`alignment` gives the moves.
    deviations : long table, one row per deviation of a case: ``case``, ``type``,
        ``milestone``, ``position``, ``cost``.
    path : per happy-path milestone, cases that matched it ``in_order``, matched it and
        came back (``repeated``), reached it ``out_of_order``, ``skipped`` it or never got
        there (``incomplete``), with the shares (``share_*``) of all aligned cases.
    effects : per deviation type (index): ``cases`` with it, ``share`` of aligned cases,
        ``occurrences``, ``completed`` (of those, cases that reached the final milestone),
        ``duration_median`` (of those), ``duration_diff`` / ``_low`` / ``_high`` (difference
        of mean duration with conforming cases, completed cases only, and its interval),
        ``goal_rate``, ``goal_diff`` / ``_low`` / ``_high`` (difference of goal attainment
        rate with conforming cases, and its interval; NaN without a goal). See :func:`compare`.
    n_outside : cases with no milestone event (outside the journey, not aligned).
    params : the inputs (journey name, happy path, collapse, confidence; read-only).
    """

    journey: Any
    cases: pd.DataFrame
    variants: pd.DataFrame
    path: pd.DataFrame
    effects: pd.DataFrame
    n_outside: int
    params: FrozenMap = field(default_factory=FrozenMap)
    _batch: Any = field(default=None, repr=False)
    _names: tuple = field(default=(), repr=False)

    @cached_property
    def deviations(self) -> pd.DataFrame:
        """One row per deviation of each case: ``case``, ``type`` (categorical, in
        :data:`DEVIATION_TYPES` order), ``milestone``, ``position``, ``cost``; cases in order,
        deviations in alignment order (built on first access)."""
        return _deviation_rows(self.cases, self._batch, self._names)

    def alignment(self, variant: int) -> Alignment:
        """The optimal :class:`Alignment` (moves and deviations) of a row of :attr:`variants`.

        >>> import journeylab as jl
        >>> from journeylab.journey import Journey
        >>> j = Journey.from_dict({"name": "j", "milestones": [{"name": "reg", "activities": ["register request"]},
        ...     {"name": "pay", "activities": ["pay compensation"]}]})
        >>> compare(jl.datasets.load_example(), j).alignment(0).moves
        (('reg', 'reg'), (None, 'pay'))
        """
        if isinstance(variant, bool) or not isinstance(variant, (int, np.integer)) or \
                not 0 <= variant < len(self.variants):
            raise InvalidParameterError(f"variant={variant!r} is not a row of .variants; use 0 .. "
                                        f"{len(self.variants) - 1} (the most frequent sequence is 0).")
        return align_tuple(tuple(self.variants["milestones"].iloc[int(variant)]), self.happy_path)

    # ---- headline numbers
    @property
    def happy_path(self) -> tuple[str, ...]:
        """The happy path the cases were aligned with."""
        return tuple(self.path.index)

    @property
    def n_cases(self) -> int:
        """Aligned cases (cases with at least one milestone event)."""
        return len(self.cases)

    @property
    def conformance_rate(self) -> float:
        """Share of aligned cases whose trace is exactly the happy path."""
        return float(self.cases["conforms"].mean()) if len(self.cases) else math.nan

    @property
    def mean_fitness(self) -> float:
        """Mean alignment fitness over the aligned cases."""
        return float(self.cases["fitness"].mean()) if len(self.cases) else math.nan

    @property
    def mean_cost(self) -> float:
        """Mean alignment cost over the aligned cases."""
        return float(self.cases["cost"].mean()) if len(self.cases) else math.nan

    @property
    def summary(self) -> pd.DataFrame:
        """Headline figures (metric -> value) followed by the deviation frequencies and effects.

        The first rows are ``cases``, ``conforming``, ``conformance rate``, ``mean fitness``,
        ``mean cost``, ``outside the journey``, ``distinct milestone sequences``; then one row
        per deviation type ``<type>: cases`` with the share of cases that show it.
        """
        rows = [
            ("cases", format_count(self.n_cases)),
            ("conforming", format_count(self.cases["conforms"].sum())),
            ("conformance rate", format_share(self.conformance_rate)),
            ("mean fitness", format_number(self.mean_fitness, 3)),
            ("mean cost", format_number(self.mean_cost, 2)),
            ("outside the journey", format_count(self.n_outside)),
            ("distinct milestone sequences", format_count(len(self.variants))),
        ]
        for t, r in self.effects.iterrows():
            rows.append((f"{DEVIATION_LABELS[t]}: cases", f"{format_count(r['cases'])} ({format_share(r['share'])})"))
        return pd.DataFrame(rows, columns=["metric", "value"]).set_index("metric")

    def to_frame(self) -> pd.DataFrame:
        """The per-case table (a copy of :attr:`cases`)."""
        return self.cases.copy()

    def deviation_matrix(self) -> pd.DataFrame:
        """Share of aligned cases with each deviation type (rows) at each milestone (columns:
        the happy path, then other milestones that occur), plus ``any milestone``."""
        d = self.deviations
        cols = list(self.happy_path)
        cols += [m for m in dict.fromkeys(d["milestone"]) if m not in cols] if len(d) else []
        n = max(self.n_cases, 1)
        if len(d):
            per = d.drop_duplicates(["case", "type", "milestone"]).groupby(["type", "milestone"], observed=True).size()
            mat = per.unstack("milestone").reindex(index=list(DEVIATION_TYPES), columns=cols).fillna(0) / n
        else:
            mat = pd.DataFrame(0.0, index=list(DEVIATION_TYPES), columns=cols)
        mat["any milestone"] = self.effects["share"].reindex(list(DEVIATION_TYPES)).fillna(0).to_numpy()
        mat.index = pd.Index(list(DEVIATION_TYPES), name="type")
        mat.columns.name = "milestone"
        return mat

    def __repr__(self) -> str:
        if not len(self.cases):
            return f"Conformance: no case reaches a milestone of {self.journey.name!r}"
        return (f"Conformance: {format_count(self.n_cases)} cases vs happy path {self.journey.name!r}, "
                f"{format_share(self.conformance_rate)} conform, mean cost {format_number(self.mean_cost, 1)}, "
                f"mean fitness {format_number(self.mean_fitness, 2)}")

    def effects_table(self) -> pd.DataFrame:
        """:attr:`effects` formatted for reading (durations as text, shares as percentages)."""
        e = self.effects
        lvl = self.params.get("confidence", 0.95)

        def ci(lo, hi, fmt):
            return "-" if pd.isna(lo) else f"{fmt(lo)} .. {fmt(hi)}"

        def pp(v):
            return "-" if pd.isna(v) else format_number(100 * v, 1, signed=True) + " pp"

        out = pd.DataFrame({
            "deviation": [DEVIATION_LABELS[t] for t in e.index],
            "cases": e["cases"].map(format_count),
            "share": e["share"].map(format_share),
            "duration vs conforming (completed)": e["duration_diff"].map(format_duration),
            f"{lvl:.0%} CI (duration)": [ci(a, b, format_duration) for a, b in zip(e["duration_diff_low"],
                                                                                    e["duration_diff_high"])],
        })
        if "goal_diff" in e and e["goal_diff"].notna().any():
            out["goal vs conforming"] = e["goal_diff"].map(pp)
            out[f"{lvl:.0%} CI (goal)"] = [ci(a, b, pp) for a, b in zip(e["goal_diff_low"], e["goal_diff_high"])]
        return out.reset_index(drop=True)

    def _html_tables(self) -> list[tuple[str, pd.DataFrame]]:
        top = self.variants.head(10)
        shown = pd.DataFrame({"milestones": top["milestones"], "cases": top["count"], "cost": top["cost"],
                              "deviations": top["deviations"]})
        return [(f"Deviations and their effects (happy path: {' > '.join(self.happy_path)})", self.effects_table()),
                (f"Most frequent milestone sequences ({len(top):,} of {len(self.variants):,}: .variants has all)",
                 shown)]

    def _html_formats(self) -> dict:
        return {"milestones": lambda m: " > ".join(m) or "-", "deviations": lambda d: ", ".join(d) or "-"}

    def plot(self, ax=None, *, kind: str = "path", **kw):
        """``kind="path"``: the happy path as a swimlane with, at each milestone, the share of
        cases that follow it in order, repeat it, reach it out of order, skip it or never get
        there; ``"deviations"``: share of cases per deviation type and milestone;
        ``"effects"``: the effect of each deviation type on duration (``metric="duration"``)
        or goal attainment (``metric="goal"``) with its confidence interval. Returns the Axes.
        """
        from .plotting.conformance import plot_conformance

        return plot_conformance(self, ax=ax, kind=kind, **kw)


# --------------------------------------------------------------------------- compare


@checked(log=LOG, journey=JOURNEY, collapse=BOOL, confidence=CONFIDENCE, progress=Optional(BOOL))
def compare(log, journey, *, collapse: bool = True, confidence: float = 0.95, progress: bool | None = None
            ) -> Conformance:
    """Compare every case with the journey's happy path (optimal alignments, typed deviations).

    Parameters
    ----------
    log : EventLog
        The events (a case is one journey).
    journey : Journey
        Its happy path (required positive milestones, in order) is the model.
    collapse : bool, default True
        Consecutive events of the same milestone count as one visit. With False every milestone
        event is a trace step, so a second product view in a row is a ``repeated`` deviation.
    confidence : float, default 0.95
        Level of the confidence intervals of the effects.
    progress : bool, optional
        Show a progress bar over the distinct milestone sequences (default: when there are more
        than 200,000 of them).

    Returns
    -------
    Conformance
        See the class for the tables. The alignment runs once per distinct milestone
        sequence and is joined back to the cases, so its cost grows with the number of
        variants, not of events. Deviation types are defined in the module docstring.

    Notes
    -----
    Effects compare the cases that show a deviation type with the cases that conform.
    ``duration_diff``: among the cases that completed the journey (reached the final
    milestone of the happy path, so that durations are comparable), the difference of mean
    journey duration (first to last milestone event) between those with the deviation and
    the conforming ones, with a Welch t interval (not defined for ``incomplete``).
    ``goal_diff``: the difference of goal attainment rates (a goal event at or after the
    journey start; a simple rule - :mod:`journeylab.goals` applies the full counting rules)
    between all the cases with the deviation and the conforming ones, with Newcombe's hybrid
    score interval.

    Examples
    --------
    >>> import journeylab as jl
    >>> from journeylab.journey import Journey
    >>> j = Journey.from_dict({"name": "claim", "milestones": [
    ...     {"name": "register", "activities": ["register request"]},
    ...     {"name": "decide", "activities": ["decide"]},
    ...     {"name": "pay", "activities": ["pay compensation"]}]})
    >>> res = compare(jl.datasets.load_example(), j)
    >>> res.conformance_rate, sorted(res.deviations["type"].unique())
    (0.5, ['incomplete'])
    """
    path = journey.happy_path
    names = [m.name for m in journey.milestones]

    visits = milestone_visits(log, journey, collapse=collapse, goal=True)
    n_outside = visits.n_log_cases - len(visits.case_ids)

    # ---- one alignment per distinct milestone sequence (all at once), most frequent first
    vid, traces = sequences(visits, len(names))
    counts = np.bincount(vid, minlength=len(traces)) if len(traces) else np.zeros(0, dtype=np.int64)
    show = progress if progress is not None else len(traces) > 200_000
    path_codes = tuple(names.index(p) for p in path)
    batch = align_batch(traces, path_codes, len(names), progress=show)
    order = np.lexsort((np.arange(len(traces)), -counts)) if len(traces) else np.zeros(0, dtype=np.int64)
    remap = np.empty(len(order), dtype=np.int64)
    remap[order] = np.arange(len(order))
    batch = batch.permute(order)
    traces = [traces[k] for k in order]
    counts = counts[order]
    vid = remap[vid] if len(vid) else vid
    texts = [[f"{t}: {n}" for n in names] for t in DEVIATION_TYPES]
    n_dev = np.bincount(batch.var, minlength=len(traces)).astype(np.int64)
    bounds = np.r_[0, np.cumsum(n_dev)]
    dev_text = [texts[t][m] for t, m in zip(batch.type.tolist(), batch.milestone.tolist())]
    variants = pd.DataFrame({
        "milestones": _objects([tuple(names[c] for c in t) for t in traces]),
        "count": counts.astype(np.int64),
        "cost": batch.cost,
        "fitness": batch.fitness,
        "deviations": _objects([tuple(dev_text[bounds[k]:bounds[k + 1]]) for k in range(len(traces))]),
    })

    # ---- cases (in log order, i.e. sorted by case)
    last = visits.last
    start_us = visits.arrival[visits.first]
    end_us = visits.leave[last]
    cost = variants["cost"].to_numpy()[vid]
    reached = visits.goal_latest >= start_us if journey.goal is not None else None
    cases = pd.DataFrame({
        "milestones": variants["milestones"].to_numpy()[vid],
        "cost": cost,
        "fitness": variants["fitness"].to_numpy()[vid],
        "conforms": cost == 0,
        "last_milestone": pd.Categorical.from_codes(visits.code[last], categories=names),
        "deviations": variants["deviations"].to_numpy()[vid],
        "n_deviations": n_dev[vid],
        "start": to_datetime(start_us, visits.tz).array,
        "end": to_datetime(end_us, visits.tz).array,
        "duration": pd.to_timedelta(end_us - start_us, unit="us"),
        "goal": reached if reached is not None else pd.arrays.BooleanArray(
            np.zeros(len(vid), dtype=bool), np.ones(len(vid), dtype=bool)),
        "variant": vid.astype(np.int64),
    }, index=pd.Index(visits.case_ids, name="case", dtype=object))  # the log's order: sorted by case

    done_v = np.array([path_codes[-1] in t for t in traces], dtype=bool)
    path_table = _path_table(cases, batch, path_codes, path)
    effects = _effects(cases, batch, done_v, confidence, has_goal=reached is not None)
    params = {"journey": journey.name, "happy_path": path, "collapse": collapse, "confidence": confidence}
    return Conformance(journey, cases, variants, path_table, effects, int(n_outside), FrozenMap(params),
                       _batch=batch, _names=tuple(names))


def _objects(items: list) -> np.ndarray:
    """A 1-d object array holding ``items`` (tuples stay elements, not rows)."""
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out


def _deviation_rows(cases: pd.DataFrame, batch: AlignmentBatch, names: tuple) -> pd.DataFrame:
    """One row per deviation of each case, in case order then alignment order (vectorised)."""
    nv = len(batch.cost)
    nd = np.bincount(batch.var, minlength=nv).astype(np.int64)
    var = cases["variant"].to_numpy() if len(cases) else np.zeros(0, dtype=np.int64)
    rep = nd[var] if len(var) else np.zeros(0, dtype=np.int64)
    total = int(rep.sum())
    off = np.r_[0, np.cumsum(nd)[:-1]] if nv else np.zeros(0, dtype=np.int64)
    start = np.r_[0, np.cumsum(rep)[:-1]] if len(rep) else np.zeros(0, dtype=np.int64)
    idx = np.repeat(off[var] if len(var) else np.zeros(0, dtype=np.int64), rep) + (
        np.arange(total) - np.repeat(start, rep))
    return pd.DataFrame({
        "case": np.repeat(cases.index.to_numpy(dtype=object), rep),
        "type": pd.Categorical.from_codes(batch.type[idx], categories=list(DEVIATION_TYPES)),
        "milestone": np.asarray(names, dtype=object)[batch.milestone[idx]] if total else np.array([], dtype=object),
        "position": batch.position[idx],
        "cost": batch.dcost[idx],
    })


def _path_table(cases: pd.DataFrame, batch: AlignmentBatch, path_codes: tuple, path: tuple[str, ...]) -> pd.DataFrame:
    statuses = PATH_STATUSES
    nv = len(batch.cost)
    counts = np.bincount(cases["variant"].to_numpy(), minlength=nv) if len(cases) else np.zeros(nv, dtype=np.int64)
    # status of each happy-path milestone in each variant, by precedence (0 = in order)
    rank = np.array([3, 4, 1, 0, 2])  # per deviation type: skipped, out_of_order, repeated, unexpected, incomplete
    status_of_rank = np.array([0, 1, 4, 3, 2])  # rank -> column of `statuses`
    where = np.full(max(path_codes) + 1 if path_codes else 1, -1, dtype=np.int64)
    where[list(path_codes)] = np.arange(len(path_codes))
    on = (batch.milestone < len(where)) & (batch.type != DEVIATION_TYPES.index("unexpected"))
    k = where[np.minimum(batch.milestone, len(where) - 1)]
    on &= k >= 0
    best = np.zeros((nv, len(path_codes)), dtype=np.int64)
    np.maximum.at(best, (batch.var[on], k[on]), rank[batch.type[on]])
    status = status_of_rank[best]
    table = pd.DataFrame(index=pd.Index(path, name="milestone"))
    for j, s in enumerate(statuses):
        table[s] = ((status == j) * counts[:, None]).sum(axis=0).astype(np.int64)
    n = max(len(cases), 1)
    for s in statuses:
        table[f"share_{s}"] = table[s] / n
    return table


def _effects(cases: pd.DataFrame, batch: AlignmentBatch, done_v: np.ndarray, confidence: float, *,
             has_goal: bool) -> pd.DataFrame:
    """Per deviation type: frequency, and the difference with conforming cases in duration
    (completed cases) and goal attainment. Sums are taken per variant, then combined."""
    n = len(cases)
    nv = len(batch.cost)
    var = cases["variant"].to_numpy()
    flags = np.zeros((nv, len(DEVIATION_TYPES)), dtype=bool)
    occ = np.zeros((nv, len(DEVIATION_TYPES)), dtype=np.int64)
    flags[batch.var, batch.type] = True
    np.add.at(occ, (batch.var, batch.type), 1)
    conf_v = batch.cost == 0
    dur = cases["duration"].to_numpy().astype("timedelta64[us]").astype(np.int64) / 1e6
    n_v = np.bincount(var, minlength=nv).astype(np.int64)
    mean_v = np.bincount(var, weights=dur, minlength=nv) / np.maximum(n_v, 1)
    m2_v = np.bincount(var, weights=(dur - mean_v[var]) ** 2, minlength=nv)
    goal_v = np.bincount(var, weights=cases["goal"].to_numpy(dtype=float, na_value=0.0), minlength=nv) \
        if has_goal else None

    def pooled(sel):
        """(n, mean, variance) of the durations of the cases of the selected variants."""
        cnt = int(n_v[sel].sum())
        if cnt == 0:
            return 0, math.nan, math.nan
        mean = float((n_v[sel] * mean_v[sel]).sum() / cnt)
        m2 = float(m2_v[sel].sum() + (n_v[sel] * (mean_v[sel] - mean) ** 2).sum())
        return cnt, mean, (m2 / (cnt - 1) if cnt > 1 else math.nan)

    ref = pooled(conf_v)
    k_ref = int(round(goal_v[conf_v].sum())) if has_goal else 0
    rows = []
    for k, t in enumerate(DEVIATION_TYPES):
        sel = flags[:, k]
        cnt = int(n_v[sel].sum())
        row = {"type": t, "cases": cnt, "share": cnt / n if n else math.nan, "occurrences": int((n_v * occ[:, k]).sum())}
        grp = pooled(sel & done_v)
        row["completed"] = grp[0]
        row["duration_median"] = float(np.median(dur[(sel & done_v)[var]])) if grp[0] else math.nan
        row["duration_diff"], row["duration_diff_low"], row["duration_diff_high"] = _welch_stats(grp, ref, confidence)
        if has_goal:
            k1 = int(round(goal_v[sel].sum()))
            row["goal_rate"] = k1 / cnt if cnt else math.nan
            row["goal_diff"] = k1 / cnt - k_ref / ref[0] if cnt and ref[0] else math.nan
            row["goal_diff_low"], row["goal_diff_high"] = newcombe(k1, cnt, k_ref, ref[0], z_score(confidence))
        else:
            row.update(goal_rate=math.nan, goal_diff=math.nan, goal_diff_low=math.nan, goal_diff_high=math.nan)
        rows.append(row)
    out = pd.DataFrame(rows).set_index("type")
    for c in ("duration_median", "duration_diff", "duration_diff_low", "duration_diff_high"):
        out[c] = pd.to_timedelta(out[c].astype(float).round(6), unit="s")
    return out
