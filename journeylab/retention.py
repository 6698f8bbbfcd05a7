"""Do they come back? Cohort retention: the cohort matrix, retention curves with intervals, and a tested
difference between segments or A/B versions.

Definitions (as in Amplitude's and Mixpanel's retention charts on strict calendar periods):

- A customer's **cohort event** is their first event matching ``cohort`` (their first event of all with
  ``cohort="first_event"``); the **cohort period** is the calendar period it falls in. Periods are calendar
  days (``"D"``), ISO weeks starting on Monday 00:00 (``"W"``) or calendar months (``"M"``), in the time
  zone of the log's timestamps (UTC for naive ones).
- A **return** is an event matching ``returning`` (any event by default) strictly after the cohort event.
  **Period k** since the cohort is the k-th calendar period after the cohort period; **period 0** is the
  cohort period itself (a return later in the same period).
- ``mode="on"`` ("return on", Amplitude's N-day retention, Mixpanel's "on"): the customers with a return
  in period k. ``mode="unbounded"`` ("return on or after", Amplitude's unbounded retention): the customers
  with a return in period k or any later period up to the end of the log - never increasing with k.
- A cell (cohort period c, period k) is **observable** when the whole period c + k lies before the log's
  last timestamp (its end - the start of the next period - is at or before it). Other cells are
  right-censored: missing (NaN), not zero. The cohort size counts every customer of the cohort.
- The **curve** at period k pools the cohorts whose cell k is observable (the weighted average of
  Amplitude): retained customers over the customers of those cohorts, with Wilson's score interval.
- The **comparison** (``by=``: a column, e.g. a segment or the A/B version; each customer's group is its
  value on the cohort event) is a log-rank test of the time to the first return, in periods, censored at
  the customer's last observable period: one test over all periods and groups, using every cohort for as
  long as it is observed, without the multiplicity of one test per period (chi-squared with groups - 1
  degrees of freedom; the numbers of lifelines' ``multivariate_logrank_test``).

Where it runs: the counts per cell come from :mod:`journeylab._kernels.returns` (in the engine for a
DuckDB or Spark log: only per-cell counts come back); the matrix, curves and test are computed from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._core.formatting import cut, format_pvalue, format_share
from ._core.names import did_you_mean
from ._core.results import FrozenMap, Result
from ._core.stats import wilson, z_score
from ._core.validation import CONFIDENCE, LOG, Choice, Int, Optional, TEXT, checked, log_column
from ._kernels.events import MAX_GROUPS
from ._kernels.returns import PERIODS, period_starts, return_cells
from .conditions import Condition, OPERATORS
from .exceptions import InvalidParameterError
from .journey import Criteria

__all__ = ["Retention", "retention", "logrank_test"]


# --------------------------------------------------------------------------- the log-rank test


def logrank_test(durations, observed, groups) -> tuple[float, int, float, pd.DataFrame]:
    """The log-rank test of equal hazards in two or more groups (right-censored durations).

    At each distinct event time the events are split among the groups in proportion to those at risk
    (hypergeometric variance with ties); the statistic ``(O - E)' V^-1 (O - E)`` over all groups but one
    is chi-squared with ``groups - 1`` degrees of freedom (lifelines' ``multivariate_logrank_test``).

    Parameters
    ----------
    durations : array-like of numbers
        Time to the event, or to censoring.
    observed : array-like of bool
        True where the event happened.
    groups : array-like
        The group of each subject (two or more distinct values).

    Returns
    -------
    tuple
        ``(statistic, degrees of freedom, p_value, table)``; the table has per group ``subjects``,
        ``observed`` and ``expected`` events.

    Examples
    --------
    >>> stat, df, p, table = logrank_test([1, 2, 3, 4, 5, 6], [1, 1, 1, 1, 0, 1], list("aaabbb"))
    >>> df, round(stat, 3), table["observed"].tolist()  # by hand: (3 - 1.15)^2 / 0.6775
    (1, 5.052, [3, 2])
    """
    from scipy.special import chdtrc  # the chi-squared tail (scipy.stats takes seconds to import)

    dur = np.asarray(durations, dtype=float)
    obs = np.asarray(observed, dtype=bool)
    labels, g = np.unique(np.asarray(groups, dtype=object).astype(str), return_inverse=True)
    G = len(labels)
    times = np.unique(dur[obs])
    # at risk (duration >= t) and events at t, per group and time
    n = np.stack([(dur[g == j][None, :] >= times[:, None]).sum(axis=1) for j in range(G)], axis=1).astype(float)
    d = np.stack([((dur[(g == j) & obs][None, :]) == times[:, None]).sum(axis=1) for j in range(G)], axis=1)
    d = d.astype(float)
    nt, dt = n.sum(axis=1), d.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(nt[:, None] > 0, n / nt[:, None], 0.0)
        e = (dt[:, None] * share).sum(axis=0)
        w = np.where(nt > 1, dt * (nt - dt) / (nt - 1), 0.0)
    V = np.einsum("t,ti,tj->ij", w, share, share) * -1
    V[np.diag_indices(G)] += (w[:, None] * share).sum(axis=0)
    u = d.sum(axis=0) - e
    try:
        stat = float(u[:-1] @ np.linalg.solve(V[:-1, :-1], u[:-1])) if G > 1 else float("nan")
    except np.linalg.LinAlgError:
        stat = float("nan")
    df = G - 1
    p = float(chdtrc(df, stat)) if np.isfinite(stat) and df > 0 else float("nan")
    table = pd.DataFrame({"group": labels, "subjects": np.bincount(g, minlength=G),
                          "observed": d.sum(axis=0).astype(np.int64), "expected": e})
    return stat, df, p, table


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True, eq=False)
class Retention(Result):
    """Cohort retention (:func:`retention`): the cohort matrix, the curves and the comparison of groups.

    Attributes
    ----------
    counts : DataFrame
        Retained customers per cohort (index: the start of the cohort period) and period since the
        cohort (columns 0, 1, ...), all groups together; NaN where the cell is not observable.
    sizes : Series
        Customers per cohort (0 for a period in which nobody started).
    table : DataFrame
        The long table per group (see :meth:`to_frame`).
    curves : DataFrame
        Per group (``"all"`` without ``by``) and period: ``customers`` (of the cohorts observable at that
        period), ``retained``, ``share``, ``low``, ``high`` (Wilson interval).
    test : DataFrame or None
        Per group: ``subjects``, ``observed`` and ``expected`` first returns of the log-rank test.
    statistic, p_value : float
        The log-rank chi-squared and its p-value (NaN without ``by`` or with fewer than two groups).
    """

    counts: pd.DataFrame
    sizes: pd.Series
    table: pd.DataFrame
    curves: pd.DataFrame
    test: pd.DataFrame | None = None
    statistic: float = float("nan")
    p_value: float = float("nan")
    params: FrozenMap = field(default_factory=FrozenMap)

    @property
    def shares(self) -> pd.DataFrame:
        """``counts`` over the cohort sizes (NaN where not observable, or for an empty cohort)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.counts.div(self.sizes.where(self.sizes > 0), axis=0)

    @property
    def observable(self) -> pd.DataFrame:
        """True where a cell of the matrix is observable (the whole period before the log's last timestamp)."""
        return self.counts.notna()

    def to_frame(self) -> pd.DataFrame:
        """One row per group (when ``by``), cohort and period: ``cohort`` (period start), ``period``,
        ``cohort_size``, ``retained`` (NaN when not observable), ``share``, ``observable``."""
        return self.table.copy()

    @property
    def summary(self) -> pd.DataFrame:
        """The retention curves (share retained per period since the cohort, with their intervals)."""
        return self.curves.copy()

    def __repr__(self) -> str:
        p = self.params
        word = PERIODS[p["period"]]
        n = int(self.sizes.sum())
        out = (f"Retention ({p['mode']}, by {word}): {n:,} {p['unit']}s in {int((self.sizes > 0).sum())} "
               f"{word}ly cohorts" if word != "day" else
               f"Retention ({p['mode']}, by day): {n:,} {p['unit']}s in {int((self.sizes > 0).sum())} daily cohorts")
        c = self.curves[(self.curves["period"] == 1)]
        if len(c) and not p["by"]:
            r = c.iloc[0]
            if pd.notna(r["share"]):
                out += f"; {word} 1: {format_share(r['share'])} ({format_share(r['low'])}-{format_share(r['high'])})"
        if self.test is not None:
            out += f"; log-rank by {p['by']}: p = {format_pvalue(self.p_value)}"
        return out

    def _html_tables(self):
        shown = self.shares.copy()
        shown.insert(0, "customers", self.sizes)
        shown.index = [f"{t:%Y-%m-%d}" for t in shown.index]
        curves = self.curves if self.params["by"] else self.curves.drop(columns="group")
        out = [("retention curve", curves.head(60)), ("cohort matrix (share retained; - : not yet observable)",
                                                      shown.reset_index(names="cohort").tail(30))]
        if self.test is not None:
            out.append((f"log-rank test: chi2 = {self.statistic:.2f}, p = {format_pvalue(self.p_value)}", self.test))
        return out

    def _html_formats(self):
        return {**{k: "share" for k in self.counts.columns}, "low": "share", "high": "share", "expected": "number"}

    def plot(self, ax=None, *, kind: str = "both", **kw):
        """The cohort matrix as a heatmap (censored cells masked) and the curves with their bands."""
        from .plotting.retention import plot_retention

        return plot_retention(self, ax=ax, kind=kind, **kw)


# --------------------------------------------------------------------------- the parameters


def _criteria(log, value, name: str):
    """``cohort`` / ``returning`` as a Criteria (None: any event)."""
    if value is None or (name == "cohort" and isinstance(value, str) and value == "first_event"):
        return None
    if isinstance(value, Criteria):
        crit = value
    elif isinstance(value, Condition):
        crit = Criteria(conditions=(value,))
    elif isinstance(value, str) and value not in log.activities and any(op in value for op in OPERATORS
                                                                         if op not in ("in", "not in")):
        crit = Criteria(conditions=value)
    elif isinstance(value, str) or (isinstance(value, (list, tuple)) and value
                                    and all(isinstance(v, str) for v in value)):
        names = (value,) if isinstance(value, str) else tuple(value)
        for v in names:
            if v not in log.activities:
                first = "'first_event', " if name == "cohort" else "None (any event), "
                raise InvalidParameterError(
                    f"{name}={cut(v)} is not an activity of the log.{did_you_mean(v, log.activities)} Give "
                    f"{first}an activity name, a list of them, a condition such as \"channel == 'web'\" or a "
                    f"Criteria.")
        crit = Criteria(names)
    else:
        raise InvalidParameterError(
            f"{name}={cut(value)} is not understood; give an activity name, a list of activity names, a condition "
            "text such as \"amount > 50\", a Criteria"
            + (", or 'first_event'." if name == "cohort" else ", or None (any event)."))
    missing = [c.column for c in crit.conditions if c.column not in log.columns]
    if missing:
        raise InvalidParameterError(f"{name}: the condition reads {cut(missing[0])}, which is not a column of the "
                                    f"log.{did_you_mean(missing[0], log.columns)} Columns: {cut(list(log.columns), 300)}.")
    return crit


# --------------------------------------------------------------------------- from cells to tables


def _frames(cells, group, K: int, mode: str):
    """(counts, sizes) of one group: counts per cohort x period (NaN where not observable)."""
    last, on = cells.last, cells.on
    if group is not _ALL:
        last, on = last[last["group"].map(lambda g: g == group)], on[on["group"].map(lambda g: g == group)]
    sizes = last.groupby("cohort")["n"].sum()
    if mode == "on":
        m = on.pivot_table(index="cohort", columns="k", values="n", aggfunc="sum")
    else:
        ret = last[last["last"] >= 0].pivot_table(index="cohort", columns="last", values="n", aggfunc="sum")
        # returned in k or later - later includes the periods beyond the last observable one (K): a return
        # seen in a period that is not over yet still says the customer was retained at every k before it
        top = max(K, int(ret.columns.max()) if len(ret.columns) else K)
        ret = ret.reindex(columns=range(top + 1)).fillna(0)
        m = ret.iloc[:, ::-1].cumsum(axis=1).iloc[:, ::-1].iloc[:, :K + 1]
    return m, sizes


class _AllGroups:
    def __repr__(self) -> str:
        return "all"


_ALL = _AllGroups()


def _matrix(m, sizes, cohorts, kmax, K: int) -> tuple[pd.DataFrame, pd.Series]:
    m = m.reindex(index=cohorts, columns=range(K + 1)).fillna(0).astype(float)
    sizes = sizes.reindex(cohorts).fillna(0).astype(np.int64)
    ks = np.arange(K + 1)[None, :]
    m = m.where(ks <= kmax[:, None])
    return m, sizes


@checked(log=LOG, period=Choice(*PERIODS), unit=Choice("customer", "case"), max_periods=Int(minimum=1, maximum=1000,
         example=12), mode=Choice("unbounded", "on"), by=Optional(TEXT), confidence=CONFIDENCE)
def retention(log, *, cohort="first_event", returning=None, period: str = "W", unit: str = "customer",
              max_periods: int = 12, mode: str = "unbounded", by: str | None = None,
              confidence: float = 0.95) -> Retention:
    """Cohort retention: of the customers who started in a period, how many came back in each later period.

    See the module :mod:`journeylab.retention` for the exact rules (they are Amplitude's and Mixpanel's on
    calendar periods): the cohort event is a customer's first event matching ``cohort``; a return is a
    ``returning`` event strictly after it; period 0 is the cohort period; weeks start on Monday (ISO) and
    all periods are calendar periods in the time zone of the log; cells whose whole period does not lie
    before the log's last timestamp are missing (NaN), not zero.

    Parameters
    ----------
    log : EventLog
        The events (in memory, DuckDB or Spark).
    cohort : str, list of str, Criteria or Condition, default "first_event"
        What puts a customer in a cohort: ``"first_event"`` (their first event of all), an activity, a list
        of activities, a condition text (e.g. ``"channel == 'store'"``) or a :class:`~journeylab.Criteria`.
    returning : str, list of str, Criteria, Condition or None, default None
        What counts as coming back (None: any event), in the same forms.
    period : {"W", "D", "M"}, default "W"
        ISO weeks (Monday), calendar days or calendar months.
    unit : {"customer", "case"}, default "customer"
        Who is followed: the customer (the case when the log has no customer column) or the case.
    max_periods : int, default 12
        The last period since the cohort shown.
    mode : {"unbounded", "on"}, default "unbounded"
        Returned in period k or later ("unbounded"), or in period k ("on").
    by : str, optional
        A column (a segment, the A/B version...) to compare; a customer's group is its value on their
        cohort event (customers without a value are in the matrix but in no group). The curves are given
        per group and the groups are compared with a log-rank test of the time to the first return.
    confidence : float, default 0.95
        Level of the Wilson intervals of the curves.

    Returns
    -------
    Retention
        ``counts``, ``shares`` and ``sizes`` (the cohort matrix), ``curves``, ``test`` / ``p_value`` (with
        ``by``), ``to_frame()``, ``plot()``.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> df = pd.DataFrame({"case": ["a", "a", "b", "b", "c"], "activity": ["visit"] * 5,
    ...     "t": pd.to_datetime(["2025-01-06", "2025-01-14", "2025-01-07", "2025-01-08", "2025-01-20"])})
    >>> log = jl.from_pandas(df, case="case", activity="activity", timestamp="t")
    >>> r = jl.retention(log, period="W", mode="on")
    >>> r.sizes.tolist(), r.counts.loc["2025-01-06"].tolist()
    ([2, 0, 1], [1.0, 1.0])
    >>> jl.retention(log, period="Y")
    Traceback (most recent call last):
    ...
    journeylab.exceptions.InvalidParameterError: period='Y' is not allowed; use one of ['D', 'W', 'M'].
    """
    cohort_c = _criteria(log, cohort, "cohort")
    return_c = _criteria(log, returning, "returning")
    if by is not None:
        by = log_column(log, by, "by")
        if by in ("case", "activity", "timestamp", "customer"):
            raise InvalidParameterError(f"by={cut(by)} is a key column; give an attribute such as a segment or the "
                                        "A/B version column (e.g. by='version').")
    cells = return_cells(log, unit=unit, cohort=cohort_c, returning=return_c, by=by, period=period,
                         max_periods=max_periods)
    if not len(cells.last):
        raise InvalidParameterError(f"cohort={cut(cohort)} matches no event of the log, so no cohort can be "
                                    "formed; check the activity or the condition.")
    starts = cells.starts
    t_last = log.time_span[1]
    # the period holding the last timestamp (compared as UTC nanoseconds: Timestamp.value is always ns)
    J = int(np.searchsorted(starts.as_unit("ns").asi8, pd.Timestamp(t_last).value, side="right")) - 1
    first_c, last_c = int(cells.last["cohort"].min()), int(cells.last["cohort"].max())
    cohorts = np.arange(first_c, last_c + 1)
    kmax = J - 1 - cohorts  # the last observable period of each cohort
    K = int(max(0, min(max_periods, kmax.max())))
    groups = [_ALL]
    if by:
        labels = [g for g in pd.unique(cells.last["group"]) if g is not None and not pd.isna(g)]
        if len(labels) > MAX_GROUPS:
            raise InvalidParameterError(f"by={cut(by)} has {len(labels):,} distinct values; at most {MAX_GROUPS} "
                                        "groups can be compared. Choose a segment or version column.")
        if not labels:
            raise InvalidParameterError(f"by={cut(by)} has no value on any customer's cohort event, so there is no "
                                        "group to compare; choose a column that is filled on those events.")
        groups = sorted(labels, key=str)
    z = z_score(confidence)
    rows, curves = [], []
    counts = sizes = None
    for grp in ([_ALL] + groups if by else groups):
        m, s = _frames(cells, grp, K, mode)
        m, s = _matrix(m, s, cohorts, kmax, K)
        if grp is _ALL:
            counts, sizes = m, s
            if by:
                continue
        obs = m.notna().to_numpy()
        n_k = (obs * s.to_numpy()[:, None]).sum(axis=0)
        r_k = np.nansum(m.to_numpy(), axis=0)
        lo, hi = wilson(r_k, n_k, z)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(n_k > 0, r_k / n_k, np.nan)
        curves.append(pd.DataFrame({"group": str(grp) if grp is not _ALL else "all", "period": np.arange(K + 1),
                                    "customers": n_k.astype(np.int64), "retained": r_k.astype(np.int64),
                                    "share": share, "low": np.where(n_k > 0, lo, np.nan),
                                    "high": np.where(n_k > 0, hi, np.nan)}))
        long = m.stack(future_stack=True).rename("retained").reset_index()
        long.columns = ["cohort", "period", "retained"]
        long["cohort_size"] = s.reindex(long["cohort"]).to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            long["share"] = long["retained"] / long["cohort_size"].where(long["cohort_size"] > 0)
        long["observable"] = long["retained"].notna()
        if by:
            long.insert(0, "group", grp)
        rows.append(long)
    index = pd.DatetimeIndex(starts[cohorts], name="cohort")
    counts.index = index
    sizes.index = index
    counts.columns.name = "period"
    table = pd.concat(rows, ignore_index=True)
    table["cohort"] = index[table["cohort"].to_numpy() - first_c]
    table = table[[*(["group"] if by else []), "cohort", "period", "cohort_size", "retained", "share", "observable"]]
    test, stat, p = None, float("nan"), float("nan")
    if by and len(groups) >= 2:
        stat, _, p, test = _compare(cells, kmax, first_c, max_periods)
    params = dict(cohort=cohort if isinstance(cohort, str) else str(cohort_c), returning=returning if
                  (returning is None or isinstance(returning, str)) else str(return_c), period=period, unit=unit,
                  max_periods=max_periods, mode=mode, by=by, confidence=confidence,
                  time_zone=str(starts.tz or "UTC"), last_timestamp=t_last)
    return Retention(counts=counts, sizes=sizes, table=table, curves=pd.concat(curves, ignore_index=True),
                     test=test, statistic=stat, p_value=p, params=params)


def _compare(cells, kmax, first_c: int, max_periods: int):
    """The log-rank test of the time to the first return between the groups (customers with a group whose
    cohort period is observable; censored at their last observable period, at most ``max_periods``)."""
    f = cells.first[cells.first["group"].map(lambda g: g is not None and not pd.isna(g))]
    follow = np.minimum(kmax[f["cohort"].to_numpy() - first_c], max_periods)
    keep = follow >= 0
    f, follow = f[keep], follow[keep]
    k = f["first"].to_numpy()
    event = (k >= 0) & (k <= follow)
    dur = np.where(event, k, follow)
    n = f["n"].to_numpy()
    stat, df, p, table = logrank_test(np.repeat(dur, n), np.repeat(event, n), np.repeat(f["group"].astype(str).to_numpy(), n))
    return stat, df, p, table
