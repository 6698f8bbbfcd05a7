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

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ._core.stats import newcombe, z_score
from ._util import format_timedelta as _fmt_td
from .exceptions import InvalidParameterError
from .milestones import _epoch_us, _milestone_visits, _require_journey, _to_datetime, _variants

__all__ = ["compare", "Conformance", "align", "Alignment", "Deviation", "DEVIATION_TYPES"]

#: The deviation types, in the order they are reported.
DEVIATION_TYPES = ("skipped", "out_of_order", "repeated", "unexpected", "incomplete")
#: How deviation types read in tables and plots.
DEVIATION_LABELS = {"skipped": "skipped", "out_of_order": "out of order", "repeated": "repeated",
                    "unexpected": "unexpected", "incomplete": "incomplete"}


# --------------------------------------------------------------------------- alignment


class Deviation(NamedTuple):
    """One typed deviation of an alignment.

    ``position`` is the index in the trace of the occurrence for log moves
    (``out_of_order``, ``repeated``, ``unexpected``), and the number of trace milestones
    before the gap for model moves (``skipped``, ``incomplete``).
    """

    type: str
    milestone: str
    position: int
    cost: int


@dataclass(frozen=True)
class Alignment:
    """An optimal alignment of a milestone trace with a sequential happy path.

    ``moves`` is a tuple of ``(log, model)`` pairs: both set for a synchronous move,
    ``model`` None for a log move, ``log`` None for a model move (pm4py writes ``'>>'``).

    >>> a = align(["a", "c"], ["a", "b", "c"])
    >>> a.moves
    (('a', 'a'), (None, 'b'), ('c', 'c'))
    >>> a.cost, a.fitness, a.deviations[0].type
    (1, 0.8, 'skipped')
    """

    trace: tuple[str, ...]
    path: tuple[str, ...]
    moves: tuple[tuple[str | None, str | None], ...]
    cost: int
    fitness: float
    deviations: tuple[Deviation, ...]

    @property
    def conforms(self) -> bool:
        """True when the trace is exactly the happy path (cost 0)."""
        return self.cost == 0

    def __repr__(self) -> str:
        devs = ", ".join(f"{d.type} {d.milestone}" for d in self.deviations) or "none"
        return f"Alignment: cost {self.cost}, fitness {self.fitness:.3f}, deviations: {devs}"


def _lcs_suffix(s: Sequence, p: Sequence) -> list[list[int]]:
    """L[i][j] = length of the longest common subsequence of s[i:] and p[j:]."""
    n, m = len(s), len(p)
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        row, below, si = table[i], table[i + 1], s[i]
        for j in range(m - 1, -1, -1):
            if si == p[j]:
                row[j] = below[j + 1] + 1
            else:
                a, b = below[j], row[j + 1]
                row[j] = a if a >= b else b  # noqa: FURB136 - a conditional is faster than max() here
    return table


def _moves(s: Sequence, p: Sequence) -> list[tuple]:
    """The fixed optimal alignment (see the module docstring) as (log, model) pairs."""
    table = _lcs_suffix(s, p)
    n, m = len(s), len(p)
    i = j = 0
    out = []
    while i < n or j < m:
        if i < n and j < m and s[i] == p[j]:
            out.append((s[i], p[j]))
            i += 1
            j += 1
        elif j < m and (i == n or table[i][j + 1] == table[i][j]):
            out.append((None, p[j]))
            j += 1
        else:
            out.append((s[i], None))
            i += 1
    return out


def _type_moves(moves: list[tuple], path: Sequence) -> list[Deviation]:
    on_path = set(path)
    matched = {lab for lab, mod in moves if lab is not None and mod is not None}
    log_labels = {lab for lab, mod in moves if mod is None}
    # index of the last synchronous move: model moves after it are 'incomplete'
    last_sync = max((k for k, (lab, mod) in enumerate(moves) if lab is not None and mod is not None), default=-1)
    devs: list[tuple[int, Deviation]] = []
    paired: set[str] = set()
    pos = 0  # trace position
    for k, (lab, mod) in enumerate(moves):
        if lab is None:  # model move
            if mod in log_labels:
                pass  # reported with its log move as out_of_order
            elif k > last_sync:
                devs.append((k, Deviation("incomplete", mod, pos, 1)))
            else:
                devs.append((k, Deviation("skipped", mod, pos, 1)))
            continue
        if mod is None:  # log move
            if lab not in on_path:
                devs.append((k, Deviation("unexpected", lab, pos, 1)))
            elif lab in matched or lab in paired:
                devs.append((k, Deviation("repeated", lab, pos, 1)))
            else:
                paired.add(lab)
                devs.append((k, Deviation("out_of_order", lab, pos, 2)))
        pos += 1
    return [d for _, d in devs]


def align(trace: Sequence[str], path: Sequence[str]) -> Alignment:
    """Optimal alignment of a milestone ``trace`` with a sequential happy ``path``.

    Unit costs for log and model moves, 0 for synchronous moves; deviations are typed as
    described in the module docstring. Milestone names on the path must be unique.

    >>> align(["a", "b", "a", "b", "c"], ["a", "b", "c"]).deviations
    (Deviation(type='repeated', milestone='a', position=2, cost=1), Deviation(type='repeated', milestone='b', position=3, cost=1))
    >>> align(["a"], ["a", "b", "c"]).cost
    2
    """
    trace, path = tuple(trace), tuple(path)
    if len(set(path)) != len(path):
        dup = sorted({x for x in path if path.count(x) > 1})
        raise InvalidParameterError(f"the happy path names {dup} more than once; each milestone appears once on it.")
    return _align_tuple(trace, path)


# --------------------------------------------------------------------------- many alignments at once

_TYPE_CODE = {t: k for k, t in enumerate(DEVIATION_TYPES)}
_SKIPPED, _OUT_OF_ORDER, _REPEATED, _UNEXPECTED, _INCOMPLETE = range(5)


@dataclass(frozen=True, eq=False)
class _Batch:
    """Alignments of many code sequences against one path, as arrays: ``cost`` and ``fitness``
    per sequence; the deviations flat, in sequence then alignment order (``var``, ``type``
    (index in DEVIATION_TYPES), ``milestone`` (code), ``position``, ``dcost``)."""

    cost: np.ndarray
    fitness: np.ndarray
    var: np.ndarray
    type: np.ndarray
    milestone: np.ndarray
    position: np.ndarray
    dcost: np.ndarray

    def permute(self, order: np.ndarray) -> _Batch:
        """The same alignments with sequence ``order[k]`` renumbered k."""
        new = np.empty(len(order), dtype=np.int64)
        new[order] = np.arange(len(order))
        var = new[self.var]
        o = np.argsort(var, kind="stable")
        return _Batch(self.cost[order], self.fitness[order], var[o], self.type[o], self.milestone[o],
                      self.position[o], self.dcost[o])


def _align_batch(traces: list[tuple[int, ...]], path: tuple[int, ...], n_codes: int,
                 budget: int = 20_000_000, progress: bool = False) -> _Batch:
    """Vectorised :func:`_align_tuple` over code sequences: the same alignments (same tie-breaking,
    same deviation types), computed for all sequences at once with numpy, in chunks of similar
    length so that the DP tables stay within ``budget`` cells."""
    lens = np.fromiter((len(t) for t in traces), dtype=np.int64, count=len(traces))
    order = np.argsort(lens, kind="stable")
    parts, lo = [], 0
    m = len(path)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(traces), desc="aligning milestone sequences", unit="seq")
    while lo < len(order):
        hi, width = lo, 0
        while hi < len(order) and (hi - lo + 1) * (max(width, lens[order[hi]]) + 1) * (m + 1) <= budget or hi == lo:
            width = max(width, lens[order[hi]])
            hi += 1
        parts.append((order[lo:hi], _align_chunk([traces[k] for k in order[lo:hi]], path, n_codes)))
        if bar is not None:
            bar.update(hi - lo)
        lo = hi
    if bar is not None:
        bar.close()
    n = len(traces)
    cost, fitness = np.zeros(n, dtype=np.int64), np.ones(n, dtype=float)
    flat = {k: [] for k in ("var", "type", "milestone", "position", "dcost")}
    for idx, b in parts:
        cost[idx], fitness[idx] = b.cost, b.fitness
        flat["var"].append(idx[b.var])
        for k in ("type", "milestone", "position", "dcost"):
            flat[k].append(getattr(b, k))
    cat = {k: (np.concatenate(v) if v else np.zeros(0, dtype=np.int64)) for k, v in flat.items()}
    o = np.argsort(cat["var"], kind="stable")
    return _Batch(cost, fitness, *(cat[k][o] for k in ("var", "type", "milestone", "position", "dcost")))


def _align_chunk(traces: list[tuple[int, ...]], path: tuple[int, ...], n_codes: int) -> _Batch:
    V, m = len(traces), len(path)
    lens = np.fromiter((len(t) for t in traces), dtype=np.int64, count=V)
    width = int(lens.max()) if V else 0
    S = np.full((V, width + 1), -1, dtype=np.int64)  # -1 pads: never equal to a path code
    rows = np.repeat(np.arange(V), lens)
    cols = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)
    S[rows, cols] = np.fromiter((c for t in traces for c in t), dtype=np.int64, count=int(lens.sum()))
    P = np.asarray(path, dtype=np.int64)
    # L[:, i, j] = LCS(trace[i:], path[j:])  (zero beyond either end)
    L = np.zeros((V, width + 1, m + 1), dtype=np.int32)
    for i in range(width - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            L[:, i, j] = np.where(S[:, i] == P[j], L[:, i + 1, j + 1] + 1, np.maximum(L[:, i + 1, j], L[:, i, j + 1]))
    # the walk of _moves, for every sequence at once: 1 sync, 2 model move, 3 log move
    steps = width + m
    kind = np.zeros((V, steps), dtype=np.int8)
    label = np.full((V, steps), -1, dtype=np.int64)
    tpos = np.zeros((V, steps), dtype=np.int64)
    ar = np.arange(V)
    i = np.zeros(V, dtype=np.int64)
    j = np.zeros(V, dtype=np.int64)
    for k in range(steps):
        can_i, can_j = i < lens, j < m
        si = S[ar, np.minimum(i, width)]
        pj = P[np.minimum(j, m - 1)] if m else np.full(V, -2)
        sync = can_i & can_j & (si == pj)
        keep_opt = L[ar, i, np.minimum(j + 1, m)] == L[ar, i, j]
        model = ~sync & can_j & (~can_i | keep_opt)
        logm = ~sync & ~model & can_i
        kind[:, k] = np.where(sync, 1, np.where(model, 2, np.where(logm, 3, 0)))
        label[:, k] = np.where(model, pj, si)
        tpos[:, k] = i
        i = i + (sync | logm)
        j = j + (sync | model)
    cost = ((kind == 2) | (kind == 3)).sum(axis=1).astype(np.int64)
    total = lens + m
    fitness = np.where(total > 0, 1.0 - cost / np.maximum(total, 1), 1.0)
    # deviation types, in alignment order (the rules of _type_moves)
    on_path = np.zeros(n_codes + 1, dtype=bool)
    on_path[P] = True
    lab = np.where(label >= 0, label, n_codes)  # -1 -> a spare column
    matched = np.zeros((V, n_codes + 1), dtype=bool)
    logged = np.zeros((V, n_codes + 1), dtype=bool)
    sv, sk = np.nonzero(kind == 1)
    matched[sv, lab[sv, sk]] = True
    lv, lk = np.nonzero(kind == 3)
    logged[lv, lab[lv, lk]] = True
    step_no = np.broadcast_to(np.arange(steps), (V, steps))
    last_sync = np.where(kind == 1, step_no, -1).max(axis=1) if steps else np.full(V, -1)
    paired = np.zeros((V, n_codes + 1), dtype=bool)
    dtype = np.full((V, steps), -1, dtype=np.int64)
    for k in range(steps):
        c = lab[:, k]
        is_model, is_log = kind[:, k] == 2, kind[:, k] == 3
        out_model = np.where(logged[ar, c], -1, np.where(k > last_sync, _INCOMPLETE, _SKIPPED))
        first_ooo = is_log & on_path[c] & ~matched[ar, c] & ~paired[ar, c]
        out_log = np.where(~on_path[c], _UNEXPECTED, np.where(first_ooo, _OUT_OF_ORDER, _REPEATED))
        dtype[:, k] = np.where(is_model, out_model, np.where(is_log, out_log, -1))
        paired[ar[first_ooo], c[first_ooo]] = True
    dv, dk = np.nonzero(dtype >= 0)
    t = dtype[dv, dk]
    return _Batch(cost, fitness, dv.astype(np.int64), t, label[dv, dk], tpos[dv, dk],
                  np.where(t == _OUT_OF_ORDER, 2, 1).astype(np.int64))


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
class Conformance:
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
    params : the inputs (journey name, collapse, confidence).
    """

    journey: Any
    cases: pd.DataFrame
    variants: pd.DataFrame
    path: pd.DataFrame
    effects: pd.DataFrame
    n_outside: int
    params: dict = field(default_factory=dict)
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
        return _align_tuple(tuple(self.variants["milestones"].iloc[int(variant)]), self.happy_path)

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
            ("cases", f"{self.n_cases:,}"),
            ("conforming", f"{int(self.cases['conforms'].sum()):,}"),
            ("conformance rate", f"{self.conformance_rate:.1%}"),
            ("mean fitness", f"{self.mean_fitness:.3f}"),
            ("mean cost", f"{self.mean_cost:.2f}"),
            ("outside the journey", f"{self.n_outside:,}"),
            ("distinct milestone sequences", f"{len(self.variants):,}"),
        ]
        for t, r in self.effects.iterrows():
            rows.append((f"{DEVIATION_LABELS[t]}: cases", f"{int(r['cases']):,} ({r['share']:.1%})"))
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
        return (f"Conformance: {self.n_cases:,} cases vs happy path {self.journey.name!r}, "
                f"{self.conformance_rate:.1%} conform, mean cost {self.mean_cost:.1f}, "
                f"mean fitness {self.mean_fitness:.2f}")

    def effects_table(self) -> pd.DataFrame:
        """:attr:`effects` formatted for reading (durations as text, shares as percentages)."""
        e = self.effects
        lvl = self.params.get("confidence", 0.95)

        def ci(lo, hi, fmt):
            return "-" if pd.isna(lo) else f"{fmt(lo)} .. {fmt(hi)}"

        out = pd.DataFrame({
            "deviation": [DEVIATION_LABELS[t] for t in e.index],
            "cases": e["cases"].map("{:,}".format),
            "share": e["share"].map("{:.1%}".format),
            "duration vs conforming (completed)": e["duration_diff"].map(_fmt_td),
            f"{lvl:.0%} CI (duration)": [ci(a, b, _fmt_td) for a, b in zip(e["duration_diff_low"],
                                                                             e["duration_diff_high"])],
        })
        if "goal_diff" in e and e["goal_diff"].notna().any():
            def pp(v):
                return f"{100 * v:+.1f} pp"

            out["goal vs conforming"] = e["goal_diff"].map(lambda v: "-" if pd.isna(v) else pp(v))
            out[f"{lvl:.0%} CI (goal)"] = [ci(a, b, pp) for a, b in zip(e["goal_diff_low"], e["goal_diff_high"])]
        return out.reset_index(drop=True)

    def _repr_html_(self) -> str:
        e = html.escape
        top = self.variants.head(10)
        var = pd.DataFrame({
            "milestones": [" > ".join(m) or "-" for m in top["milestones"]],
            "cases": top["count"].map("{:,}".format),
            "cost": top["cost"],
            "deviations": [", ".join(d) or "-" for d in top["deviations"]],
        })
        more = f"<p>... {len(self.variants) - 10:,} more milestone sequences</p>" if len(self.variants) > 10 else ""
        return (f"<div><p><b>{e(repr(self))}</b><br>happy path: {e(' > '.join(self.happy_path))}</p>"
                + self.effects_table().to_html(index=False, escape=True)
                + "<p>Most frequent milestone sequences</p>" + var.to_html(index=False, escape=True) + more
                + "</div>")

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


def compare(log, journey, *, collapse: bool = True, confidence: float = 0.95, progress: bool | None = None
            ) -> Conformance:
    """Compare every case with the journey's happy path (optimal alignments, typed deviations).

    Parameters
    ----------
    log : EventLog.
    journey : Journey; its happy path (required positive milestones, in order) is the model.
    collapse : consecutive events of the same milestone count as one visit (default True).
        With False every milestone event is a trace step, so a second product view in a
        row is a ``repeated`` deviation.
    confidence : level of the confidence intervals of the effects (default 0.95).
    progress : show a progress bar over the distinct milestone sequences (default: when
        there are more than 200,000 of them).

    Returns
    -------
    Conformance
        See the class for the tables. The alignment runs once per distinct milestone
        sequence and is joined back to the cases, so its cost grows with the number of
        variants, not of events. Deviation types are defined in the module docstring.

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
    from .log import EventLog

    if not isinstance(log, EventLog):
        raise InvalidParameterError(f"log must be a journeylab EventLog, got {type(log).__name__}; build one with "
                                    "jl.from_pandas(df, case=..., activity=..., timestamp=...).")
    if not isinstance(collapse, (bool, np.bool_)):
        raise InvalidParameterError(f"collapse={collapse!r} must be True or False.")
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 < confidence < 1:
        raise InvalidParameterError(f"confidence={confidence!r} must be a number between 0 and 1, e.g. 0.95.")
    _require_journey(journey)
    path = journey.happy_path
    names = [m.name for m in journey.milestones]

    visits = _milestone_visits(log, journey, collapse=bool(collapse))
    n_outside = visits.n_log_cases - len(visits.case_ids)

    # ---- one alignment per distinct milestone sequence (all at once), most frequent first
    vid, traces = _variants(visits, len(names))
    counts = np.bincount(vid, minlength=len(traces)) if len(traces) else np.zeros(0, dtype=np.int64)
    show = progress if progress is not None else len(traces) > 200_000
    path_codes = tuple(names.index(p) for p in path)
    batch = _align_batch(traces, path_codes, len(names), progress=show)
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
    reached = _goal_reached(log, journey, visits, start_us)
    cases = pd.DataFrame({
        "milestones": variants["milestones"].to_numpy()[vid],
        "cost": cost,
        "fitness": variants["fitness"].to_numpy()[vid],
        "conforms": cost == 0,
        "last_milestone": pd.Categorical.from_codes(visits.code[last], categories=names),
        "deviations": variants["deviations"].to_numpy()[vid],
        "n_deviations": n_dev[vid],
        "start": _to_datetime(start_us, visits.tz).array,
        "end": _to_datetime(end_us, visits.tz).array,
        "duration": pd.to_timedelta(end_us - start_us, unit="us"),
        "goal": reached if reached is not None else pd.arrays.BooleanArray(
            np.zeros(len(vid), dtype=bool), np.ones(len(vid), dtype=bool)),
        "variant": vid.astype(np.int64),
    }, index=pd.Index(visits.case_ids, name="case", dtype=object))  # the log's order: sorted by case

    done_v = np.array([path_codes[-1] in t for t in traces], dtype=bool)
    path_table = _path_table(cases, batch, path_codes, path)
    effects = _effects(cases, batch, done_v, float(confidence), has_goal=reached is not None)
    params = {"journey": journey.name, "happy_path": path, "collapse": bool(collapse),
              "confidence": float(confidence)}
    return Conformance(journey, cases, variants, path_table, effects, int(n_outside), params,
                       _batch=batch, _names=tuple(names))


def _objects(items: list) -> np.ndarray:
    """A 1-d object array holding ``items`` (tuples stay elements, not rows)."""
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out


def _goal_reached(log, journey, visits, start_us: np.ndarray) -> np.ndarray | None:
    """Per case: a goal event at or after its journey start (None when the journey has no goal)."""
    if journey.goal is None:
        return None
    case_ids = visits.case_ids
    out = np.zeros(len(case_ids), dtype=bool)
    rows = visits.goal_rows
    if rows is None or not len(rows) or not len(case_ids):
        return out
    df = log._frame()
    if journey.goal.conditions:
        rows = rows[journey.goal.matches(df.iloc[rows]).to_numpy(dtype=bool)]
    if not len(rows):
        return out
    idx = pd.Index(case_ids).get_indexer(df["case"].take(rows))
    t = _epoch_us(df["timestamp"].take(rows))
    latest = np.full(len(case_ids), np.iinfo(np.int64).min, dtype=np.int64)
    ok = idx >= 0
    np.maximum.at(latest, idx[ok], t[ok])
    return latest >= start_us


@lru_cache(maxsize=100_000)
def _align_tuple(trace: tuple[str, ...], path: tuple[str, ...]) -> Alignment:
    """The alignment of one milestone sequence (cached: an Alignment is immutable)."""
    if trace == path:
        return Alignment(trace, path, tuple(zip(trace, path)), 0, 1.0, ())
    moves = _moves(trace, path)
    cost = sum(1 for lab, mod in moves if lab is None or mod is None)
    total = len(trace) + len(path)
    return Alignment(trace, path, tuple(moves), cost, 1.0 - cost / total if total else 1.0,
                     tuple(_type_moves(moves, path)))


def _deviation_rows(cases: pd.DataFrame, batch: _Batch, names: tuple) -> pd.DataFrame:
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


def _path_table(cases: pd.DataFrame, batch: _Batch, path_codes: tuple, path: tuple[str, ...]) -> pd.DataFrame:
    statuses = ("in_order", "repeated", "out_of_order", "skipped", "incomplete")
    nv = len(batch.cost)
    counts = np.bincount(cases["variant"].to_numpy(), minlength=nv) if len(cases) else np.zeros(nv, dtype=np.int64)
    # status of each happy-path milestone in each variant, by precedence (0 = in order)
    rank = np.array([3, 4, 1, 0, 2])  # per deviation type: skipped, out_of_order, repeated, unexpected, incomplete
    status_of_rank = np.array([0, 1, 4, 3, 2])  # rank -> column of `statuses`
    where = np.full(max(path_codes) + 1 if path_codes else 1, -1, dtype=np.int64)
    where[list(path_codes)] = np.arange(len(path_codes))
    on = (batch.milestone < len(where)) & (batch.type != _UNEXPECTED)
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


def _effects(cases: pd.DataFrame, batch: _Batch, done_v: np.ndarray, confidence: float, *,
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
