"""Optimal alignments of milestone sequences with a sequential happy path, and their typed deviations:
one alignment per distinct sequence (:func:`align_batch`, vectorised over all the sequences at once),
for :func:`~journeylab.compare`.

The model is the happy path as a chain of transitions. A *synchronous move* matches a trace
milestone with the path milestone of the same name (cost 0); a *log move* is a trace milestone the
path does not explain (cost 1); a *model move* is a path milestone the trace lacks (cost 1). The
optimal cost is ``len(trace) + len(path) - 2 * LCS(trace, path)``, exactly pm4py's optimal alignment
cost with its standard costs divided by 10,000; ``fitness = 1 - cost / (len(trace) + len(path))``.
Among equally cheap alignments the one returned is fixed (a synchronous move whenever the labels
agree, else a model move if that keeps the alignment optimal, else a log move), and the deviations
are typed from it; the rules are in the docstring of :mod:`journeylab.conformance`.

Inputs and outputs are plain: code sequences (tuples of milestone indices) in, arrays out - the
per-variant table an engine's variant query feeds.

>>> a = align(["visit", "pay", "cart"], ["visit", "cart", "pay"])
>>> a.cost, round(a.fitness, 3), [(d.type, d.milestone) for d in a.deviations]
(2, 0.667, [('out_of_order', 'cart')])
>>> b = align_batch([(0, 2, 1), (0, 1, 2)], (0, 1, 2), 3)
>>> b.cost.tolist(), b.var.tolist(), [DEVIATION_TYPES[t] for t in b.type]
([2, 0], [0], ['out_of_order'])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from .._core.formatting import cut
from .._core.progress import progress as progress_bar
from .._core.validation import Texts, checked
from .._core.vocabulary import DEVIATION_TYPES
from ..exceptions import InvalidParameterError

__all__ = ["align", "Alignment", "Deviation", "align_tuple", "AlignmentBatch", "align_batch"]


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


@checked(trace=Texts(allow_empty=True, example="['visit', 'cart']"), path=Texts(example="['visit', 'cart', 'pay']"))
def align(trace: Sequence[str], path: Sequence[str]) -> Alignment:
    """Optimal alignment of a milestone ``trace`` with a sequential happy ``path``.

    Unit costs for log and model moves, 0 for synchronous moves; deviations are typed as
    described in the module docstring.

    Parameters
    ----------
    trace : list of str
        The milestones a case visited, in order (may be empty).
    path : list of str
        The happy path: milestone names, each once.

    Returns
    -------
    Alignment
        The moves, the cost, the fitness and the typed deviations.

    Examples
    --------
    >>> align(["a", "b", "a", "b", "c"], ["a", "b", "c"]).deviations
    (Deviation(type='repeated', milestone='a', position=2, cost=1), Deviation(type='repeated', milestone='b', position=3, cost=1))
    >>> align(["a"], ["a", "b", "c"]).cost
    2
    """
    if len(set(path)) != len(path):
        dup = sorted({x for x in path if path.count(x) > 1})
        raise InvalidParameterError(f"the happy path names {cut(dup)} more than once; each milestone appears once on "
                                    "it. Remove the repeats.")
    return align_tuple(trace, path)


@lru_cache(maxsize=100_000)
def align_tuple(trace: tuple[str, ...], path: tuple[str, ...]) -> Alignment:
    """The alignment of one milestone sequence (cached: an Alignment is immutable)."""
    if trace == path:
        return Alignment(trace, path, tuple(zip(trace, path)), 0, 1.0, ())
    moves = _moves(trace, path)
    cost = sum(1 for lab, mod in moves if lab is None or mod is None)
    total = len(trace) + len(path)
    return Alignment(trace, path, tuple(moves), cost, 1.0 - cost / total if total else 1.0,
                     tuple(_type_moves(moves, path)))


# --------------------------------------------------------------------------- many alignments at once

#: the deviation types as the codes of ``AlignmentBatch.type`` (positions in DEVIATION_TYPES)
_SKIPPED, _OUT_OF_ORDER, _REPEATED, _UNEXPECTED, _INCOMPLETE = (
    DEVIATION_TYPES.index(t) for t in ("skipped", "out_of_order", "repeated", "unexpected", "incomplete"))


@dataclass(frozen=True, eq=False)
class AlignmentBatch:
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

    def permute(self, order: np.ndarray) -> AlignmentBatch:
        """The same alignments with sequence ``order[k]`` renumbered k."""
        new = np.empty(len(order), dtype=np.int64)
        new[order] = np.arange(len(order))
        var = new[self.var]
        o = np.argsort(var, kind="stable")
        return AlignmentBatch(self.cost[order], self.fitness[order], var[o], self.type[o], self.milestone[o],
                              self.position[o], self.dcost[o])


def align_batch(traces: list[tuple[int, ...]], path: tuple[int, ...], n_codes: int,
                budget: int = 20_000_000, progress: bool = False) -> AlignmentBatch:
    """Vectorised :func:`align_tuple` over code sequences: the same alignments (same tie-breaking,
    same deviation types), computed for all sequences at once with numpy, in chunks of similar
    length so that the DP tables stay within ``budget`` cells.

    Parameters
    ----------
    traces : list of tuple of int
        The distinct milestone sequences, as milestone codes (``0 .. n_codes - 1``).
    path : tuple of int
        The happy path, as milestone codes (each once).
    n_codes : int
        The number of milestones.
    budget : int, default 20,000,000
        The most cells of the dynamic-programming tables held at once.
    progress : bool, default False
        Show a progress bar over the chunks (after two seconds).

    Returns
    -------
    AlignmentBatch

    Examples
    --------
    >>> b = align_batch([(0, 1), (1,)], (0, 1), 2)
    >>> b.cost.tolist(), b.fitness.tolist(), [DEVIATION_TYPES[t] for t in b.type], b.milestone.tolist()
    ([0, 1], [1.0, 0.6666666666666667], ['skipped'], [0])
    """
    lens = np.fromiter((len(t) for t in traces), dtype=np.int64, count=len(traces))
    order = np.argsort(lens, kind="stable")
    chunks, lo = [], 0
    m = len(path)
    while lo < len(order):
        hi, width = lo, 0
        while hi < len(order) and (hi - lo + 1) * (max(width, lens[order[hi]]) + 1) * (m + 1) <= budget or hi == lo:
            width = max(width, lens[order[hi]])
            hi += 1
        chunks.append((lo, hi))
        lo = hi
    parts = [(order[lo:hi], _align_chunk([traces[k] for k in order[lo:hi]], path, n_codes))
             for lo, hi in progress_bar(chunks, total=len(chunks), desc="aligning milestone sequences", enabled=progress)]
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
    return AlignmentBatch(cost, fitness, *(cat[k][o] for k in ("var", "type", "milestone", "position", "dcost")))


def _align_chunk(traces: list[tuple[int, ...]], path: tuple[int, ...], n_codes: int) -> AlignmentBatch:
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
    return AlignmentBatch(cost, fitness, dv.astype(np.int64), t, label[dv, dk], tpos[dv, dk],
                  np.where(t == _OUT_OF_ORDER, 2, 1).astype(np.int64))
