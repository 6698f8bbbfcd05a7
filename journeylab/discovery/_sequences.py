"""Sequences of activities: the variants of a log (:func:`variants`) and the paths around an activity
(:func:`paths`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .._core.results import FrozenMap, Result
from .._core.validation import LOG, TEXT, Choice, Int, Optional, Share, activity_names, checked
from .._kernels.scans import SEP, anchor_paths, n_top_variants, variant_table
from ..exceptions import InvalidParameterError

__all__ = ["Variants", "Paths", "variants", "paths"]


@dataclass(frozen=True, eq=False, repr=False)
class Variants(Result):
    """The variants of a log: each distinct activity sequence with its cases.

    ``table`` columns: ``variant`` (tuple of activities), ``length``, ``count`` (cases),
    ``share`` (of all cases), ``cumulative_share``, ``duration_median`` (median case
    duration); most frequent first (ties by variant). ``n_cases`` and ``n_variants``
    describe the whole log; the table may hold only the top variants. ``params``: the
    arguments of :func:`variants` (read-only).
    """

    table: pd.DataFrame
    n_cases: int
    n_variants: int
    params: FrozenMap = field(default_factory=FrozenMap)

    def to_frame(self) -> pd.DataFrame:
        """The variant table (a copy), with a 1-based ``rank`` column."""
        out = self.table.copy()
        out.insert(0, "rank", range(1, len(out) + 1))
        return out

    @property
    def coverage(self) -> float:
        """Share of the cases that the variants in the table cover."""
        return float(self.table["count"].sum() / self.n_cases) if self.n_cases else 0.0

    @property
    def summary(self) -> pd.DataFrame:
        """Counts and coverage at a glance."""
        rows = [("variants shown", f"{len(self.table):,} of {self.n_variants:,}"),
                ("cases covered", f"{int(self.table['count'].sum()):,} of {self.n_cases:,} ({self.coverage:.1%})"),
                ("top variant share", f"{self.table['share'].iloc[0]:.1%}" if len(self.table) else "-"),
                ("single-case variants", f"{int((self.table['count'] == 1).sum()):,}")]
        return pd.DataFrame(rows, columns=["metric", "value"]).set_index("metric")

    def __len__(self) -> int:
        return len(self.table)

    def __repr__(self) -> str:
        what = "all" if len(self.table) == self.n_variants else f"top {len(self.table):,} of"
        return f"Variants: {what} {self.n_variants:,} variants, covering {self.coverage:.1%} of {self.n_cases:,} cases"

    def _html_tables(self):
        return [("variants", self.to_frame())]

    def plot(self, ax=None, **kwargs):
        """Trace explorer: one row per variant, coloured activity chips, share on the side.

        See :func:`journeylab.plotting.plot_variants`.
        """
        from ..plotting import plot_variants

        return plot_variants(self, ax=ax, **kwargs)


def _variant_table(log) -> pd.DataFrame:
    v = variant_table(log)
    n = int(v["count"].sum())
    out = pd.DataFrame({
        "variant": v["variant"],
        "length": v["variant"].map(len).astype("int64"),
        "count": v["count"].astype("int64"),
    })
    out["share"] = out["count"] / n
    out["cumulative_share"] = out["count"].cumsum() / n
    out["duration_median"] = v["duration_median"]
    return out


@checked(log=LOG, top=Optional(Int(minimum=1, example=10)), coverage=Optional(Share(allow_zero=False)))
def variants(log, *, top: int | None = None, coverage: float | None = None) -> Variants:
    """The variants of a log (distinct activity sequences), most frequent first.

    The counts equal ``pm4py.get_variants``.

    Parameters
    ----------
    log : EventLog
        The events (in memory, or lazy on DuckDB / Spark).
    top : int, optional
        Keep the ``top`` most frequent variants.
    coverage : float, optional
        A share in (0, 1]: keep the most frequent variants that together cover that share of
        cases. With both, the shorter selection wins.

    Returns
    -------
    Variants
        The variant table (``variant``, ``length``, ``count``, ``share``,
        ``cumulative_share``, ``duration_median``), with the numbers of cases and variants of
        the whole log.

    Examples
    --------
    >>> import journeylab as jl
    >>> v = variants(jl.datasets.load_example())
    >>> int(v.table["count"].sum())
    6
    >>> variants(jl.datasets.load_example(), coverage=0.5)
    Variants: top 3 of 6 variants, covering 50.0% of 6 cases
    """
    table = _variant_table(log)
    n = n_top_variants(table["count"], top=top, coverage=coverage)
    return Variants(table=table.iloc[:n].reset_index(drop=True), n_cases=int(table["count"].sum()),
                    n_variants=len(table), params={"top": top, "coverage": coverage})


@dataclass(frozen=True, eq=False, repr=False)
class Paths(Result):
    """The flows out of (or into) an anchor activity.

    ``table`` columns: ``path`` (tuple of activities in time order, the anchor first for
    ``direction="next"`` and last for ``"previous"``; it stops at :data:`END` /
    starts at :data:`START` when the case ends / starts within ``steps``), ``count``
    (occurrences of the anchor followed by that path), ``cases`` (distinct cases), ``share``
    (of all occurrences of the anchor). ``n_occurrences`` counts the anchor's events,
    ``n_paths`` the distinct paths (the table holds the ``top`` ones). ``params``: the
    arguments of :func:`paths` (read-only).
    """

    table: pd.DataFrame
    anchor: str
    direction: str
    steps: int
    n_occurrences: int
    n_paths: int
    params: FrozenMap = field(default_factory=FrozenMap)

    def to_frame(self) -> pd.DataFrame:
        """The path table (a copy)."""
        return self.table.copy()

    @property
    def coverage(self) -> float:
        """Share of the anchor's occurrences that the paths in the table cover."""
        return float(self.table["count"].sum() / self.n_occurrences) if self.n_occurrences else 0.0

    @property
    def summary(self) -> pd.DataFrame:
        """The anchor, the direction and how much of its occurrences the table covers."""
        rows = [("anchor", self.anchor), ("direction", self.direction), ("steps", str(self.steps)),
                ("occurrences", f"{self.n_occurrences:,}"),
                ("paths shown", f"{len(self.table):,} of {self.n_paths:,} ({self.coverage:.1%} of occurrences)")]
        return pd.DataFrame(rows, columns=["metric", "value"]).set_index("metric")

    def __repr__(self) -> str:
        way = "after" if self.direction == "next" else "before"
        return (f"Paths: top {len(self.table):,} of {self.n_paths:,} paths {way} {self.anchor!r} "
                f"({self.steps} steps), covering {self.coverage:.1%} of {self.n_occurrences:,} occurrences")

    def _html_tables(self):
        return [("paths", self.to_frame())]

    def plot(self, ax=None, **kwargs):
        """Sankey-style flow chart of the paths; see :func:`journeylab.plotting.plot_paths`."""
        from ..plotting import plot_paths

        return plot_paths(self, ax=ax, **kwargs)


@checked(log=LOG, anchor=TEXT, direction=Choice("next", "previous"), steps=Int(minimum=1, example=3),
         top=Optional(Int(minimum=1, example=10)))
def paths(log, *, anchor: str, direction: str = "next", steps: int = 3, top: int | None = 10) -> Paths:
    """The most frequent paths out of (``direction="next"``) or into (``"previous"``) an activity.

    Every occurrence of ``anchor`` counts once, with the ``steps`` activities that follow
    (or precede) it in its case.

    Parameters
    ----------
    log : EventLog
        The events (in memory, or lazy on DuckDB / Spark).
    anchor : str
        An activity of the log.
    direction : {"next", "previous"}, default "next"
        The steps after the anchor, or before it.
    steps : int, default 3
        How many activities after (before) the anchor, at most 20.
    top : int or None, default 10
        Keep the ``top`` most frequent paths (None: all).

    Returns
    -------
    Paths
        The path table (``path``, ``count``, ``cases``, ``share``), most frequent first, with the
        number of occurrences of the anchor and of distinct paths.

    Examples
    --------
    >>> import journeylab as jl
    >>> p = paths(jl.datasets.load_example(), anchor="decide", steps=1)
    >>> p.table[["path", "count"]].values.tolist()[0]
    [('decide', 'pay compensation'), 3]
    """
    activity_names(log, anchor, "anchor")
    if steps > 20:
        raise InvalidParameterError(f"steps={steps} is too many to read; use at most 20 (3 to 5 reads best).")
    table = anchor_paths(log, anchor, direction=direction, steps=steps)
    n_occ = int(table["count"].sum())
    table["share"] = table["count"] / n_occ
    table["_key"] = table["path"].map(SEP.join)
    table = table.sort_values(["count", "_key"], ascending=[False, True], ignore_index=True).drop(columns="_key")
    n_paths = len(table)
    if top is not None:
        table = table.iloc[:top].reset_index(drop=True)
    return Paths(table=table, anchor=anchor, direction=direction, steps=steps, n_occurrences=n_occ,
                 n_paths=n_paths, params={"anchor": anchor, "direction": direction, "steps": steps, "top": top})
