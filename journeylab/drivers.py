"""Drivers: what distinguishes the cases that reach an outcome from those that drop.

:func:`drivers` builds a candidate per thing a case can do or have - an activity, a directly-follows
transition, a channel, an attribute value, a deviation type at a milestone - and tests each against
the outcome (the journey's goal, its completion, a milestone, or a boolean case column): support,
outcome rate with and without, an odds ratio with its confidence interval, a p-value and the
Benjamini-Hochberg adjusted p-value; with ``adjust=True`` a penalised logistic regression on all the
candidates together gives adjusted odds ratios with bootstrap intervals and flags the candidates whose
effect vanishes once the others are held constant (*confounded*).

The statistics (per candidate, on the 2x2 table with ``a`` / ``b`` successes / failures among the cases
with the candidate and ``c`` / ``d`` among those without)
------------------------------------------------------------------------------------------------------
- ``odds_ratio``: ``((a + 1) / (b + 1)) / ((c + 1) / (d + 1))``, the +1-smoothed odds ratio of PostHog's
  correlation analysis (finite when a cell is empty);
- ``or_low`` / ``or_high``: Woolf's log interval on the same smoothed table,
  ``exp(log OR +- z * sqrt(1/(a+1) + 1/(b+1) + 1/(c+1) + 1/(d+1)))``;
- ``p_value``: on the raw table, Fisher's exact test (two-sided) when an expected count is below 5
  (Cochran's rule: the rare candidates, where chi-square's approximation is poor), else Pearson's
  chi-square test (1 df, no continuity correction; vectorised - an exact test on tables of thousands of
  cases costs tens of milliseconds each); ``test`` says which;
  ``p_adjusted``: Benjamini-Hochberg over every tested candidate; ``significant``: ``p_adjusted < 1 -
  confidence``.
- Minimum support: a candidate is tested when at least ``min_support`` cases have it *and* at least as
  many lack it (otherwise there is no rate to compare); by default ``min(25, 2 % of the cases)``, PostHog's
  rule (at least 1).
- A warning when successes and failures are skewed beyond 10:1 (the odds ratios of rare outcomes are
  unstable).
- Adjusted (``adjust=True``): scikit-learn's ``LogisticRegression`` (L2 penalty, ``C=1``) on the
  indicators of the tested candidates (the :data:`MAX_ADJUSTED` most significant), ``adjusted_or`` =
  exp(coefficient); the interval is the percentile interval of ``n_boot`` bootstrap refits (cases drawn
  with replacement, as multinomial weights). ``confounded``: significant unadjusted, but the adjusted
  interval covers 1 *and* the adjusted log odds ratio is at most half the unadjusted one - the effect
  vanishes when the other candidates are held constant. Candidates that carry the same information
  (an activity and the only transition into it) share one effect, so both can shrink.

``at=<milestone>``: only what happened before the case first reached that milestone counts (the events
before its first event of the milestone's activities; a case that never reached it keeps all its
events), so nothing after the outcome leaks into the candidates. Candidates that *are* the outcome or
are defined from it (the goal's activity, the outcome milestone's activities, the transitions into or
out of them, the deviations at that milestone, ``incomplete`` deviations - ending before the final
milestone - for a journey outcome, the outcome column's values) are refused: they are listed in
``Drivers.excluded`` with the reason.

Customers across cases (``unit="customer"``, the default on a log with a customer role such as
``log.sessions()``): the goal is credited once per customer (the unique-profile rule of
:func:`~journeylab.goal_attainment`), so the rows are customers: a customer has a candidate when any of
their cases has it; with ``at`` their cases are taken in order of start, each cut where it reached the
milestone, and the cases after the first one that reached it are left out - only what the customer did
before first reaching the milestone counts. ``"conversion"``, a milestone or a boolean column are
reached when any of the customer's cases reaches it.

Where it runs
-------------
The candidates come from :mod:`journeylab._kernels.indicators` (variants, per-case facts, and with
``at`` one engine group-by by case) and the outcome from the goal, milestone and per-case kernels: on a
DuckDB or Spark log only per-case and per-variant tables come back; the statistics run on them.

Examples
--------
>>> import journeylab as jl
>>> s = jl.datasets.make_journeys(400, random_state=2)
>>> d = jl.drivers(s.log, s.journey, outcome="goal", at="checkout", adjust=False)
>>> d.outcome, d.n_cases == 400, bool(d.table["odds_ratio"].gt(0).all())
('goal', True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._core.formatting import cut, format_count, format_share
from ._core.progress import progress as progress_bar
from ._core.results import FrozenMap, Result
from ._core.stats import z_score
from ._core.validation import BOOL, CONFIDENCE, JOURNEY, LOG, RNG, Int, Optional, Texts, checked
from ._core.warn import warn
from ._kernels.cases import case_customers, case_facts, case_starts, milestones_reached
from ._kernels.crediting import require_goal
from ._kernels.indicators import KINDS, candidate_matrix
from .exceptions import InvalidParameterError, JourneyDefinitionError
from .goals import goal_attainment
from .segment_compare import benjamini_hochberg

__all__ = ["drivers", "Drivers", "KINDS", "MAX_ADJUSTED"]

#: The most candidates in the adjusting regression (the most significant ones).
MAX_ADJUSTED = 60
#: Skew beyond which a warning says the odds ratios are unstable (successes:failures or the reverse).
SKEW = 10.0

_COLUMNS = ["candidate", "kind", "support", "share", "rate_with", "rate_without", "odds_ratio", "or_low",
            "or_high", "p_value", "test", "p_adjusted", "significant", "adjusted_or", "adjusted_low",
            "adjusted_high", "confounded"]


@dataclass(frozen=True, eq=False)
class Drivers(Result):
    """What distinguishes the cases that reach the outcome (see :func:`drivers`).

    ``table``: one row per tested candidate, ranked (most significant first, then the largest effect):
    ``candidate`` (its label), ``kind``, ``support`` (cases with it), ``share`` (of the cases),
    ``rate_with`` / ``rate_without`` (outcome rate among the cases with / without it), ``odds_ratio``
    (+1 smoothed) with ``or_low`` / ``or_high``, ``p_value`` (``test``: "fisher" or "chi2"), ``p_adjusted``
    (Benjamini-Hochberg),
    ``significant``, ``adjusted_or`` with ``adjusted_low`` / ``adjusted_high`` (NaN without adjustment or
    beyond :data:`MAX_ADJUSTED`) and ``confounded``. ``excluded``: the candidates refused because they are
    the outcome or defined from it (``candidate``, ``kind``, ``why``).
    """

    table: pd.DataFrame
    excluded: pd.DataFrame
    outcome: str
    n_cases: int
    n_success: int
    min_support: int
    n_below_support: int
    confidence: float
    #: whom the rows count: "case", or "customer" (all the cases of a customer together)
    unit: str = "case"
    params: FrozenMap = field(default_factory=FrozenMap)

    @property
    def rate(self) -> float:
        """The outcome rate of the cases (customers when :attr:`unit` is "customer")."""
        return self.n_success / self.n_cases if self.n_cases else math.nan

    def top(self, n: int = 10, *, direction: str = "both") -> pd.DataFrame:
        """The ``n`` highest-ranked candidates that raise (``"positive"``), lower (``"negative"``) or move the
        outcome either way (``"both"``): a slice of :attr:`table`."""
        t = self.table
        if direction == "positive":
            t = t[t["odds_ratio"] > 1]
        elif direction == "negative":
            t = t[t["odds_ratio"] < 1]
        elif direction != "both":
            raise InvalidParameterError(f"direction={cut(direction)} is not allowed; use 'positive', 'negative' "
                                        "or 'both'.")
        return t.head(n).copy()

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    @property
    def summary(self) -> pd.DataFrame:
        cols = ["candidate", "kind", "support", "rate_with", "rate_without", "odds_ratio", "or_low", "or_high",
                "p_adjusted", "adjusted_or", "confounded"]
        return self.table[cols].head(10).reset_index(drop=True)

    def __repr__(self) -> str:
        t = self.table
        adj = f", {int(t['confounded'].sum())} confounded" if self.params.get("adjust") else ""
        return (f"Drivers of {self.outcome!r}: {format_count(self.n_cases)} {self.unit}s, {format_share(self.rate)} "
                f"reach it; "
                f"{len(t)} candidates tested, {int(t['significant'].sum())} significant at "
                f"{1 - self.confidence:.0%} (Benjamini-Hochberg){adj}")

    def _html_tables(self) -> list[tuple[str, pd.DataFrame]]:
        out = [("Top candidates (odds ratio +1 smoothed; adjusted: penalised logistic regression)", self.summary)]
        if len(self.excluded):
            out.append(("Refused: the outcome or defined from it", self.excluded))
        return out

    def _html_formats(self) -> dict:
        return {"odds_ratio": "number", "or_low": "number", "or_high": "number", "adjusted_or": "number",
                "rate_with": "share", "rate_without": "share"}

    def plot(self, ax=None, *, n: int = 8, **kw):
        """A ranked forest plot: the top ``n`` candidates that raise and the top ``n`` that lower the outcome,
        odds ratios with their intervals on a log axis (see :func:`~journeylab.plotting.plot_drivers`).

        Parameters
        ----------
        ax : Axes, optional
            Where to draw (default: a new figure).
        n : int, default 8
            Candidates per direction.
        **kw
            ``adjusted`` (also draw the adjusted odds ratios, default: when computed), ``figsize``.

        Returns
        -------
        Axes
        """
        from .plotting.drivers import plot_drivers

        return plot_drivers(self, ax=ax, n=n, **kw)


# --------------------------------------------------------------------------- statistics


def odds_table(a, b, c, d, confidence: float = 0.95) -> pd.DataFrame:
    """The +1-smoothed odds ratio and its Woolf interval, and the p-value, per 2x2 table.

    ``a`` / ``b``: successes / failures with the candidate; ``c`` / ``d``: without (arrays of counts). The
    p-value is Fisher's exact test (two-sided) when an expected count is below 5 (Cochran's rule), else
    Pearson's chi-square test (1 degree of freedom, no continuity correction), computed for all tables at
    once: exact where the approximation fails, and fast on large logs where it holds (an exact test on
    tables of thousands of cases costs tens of milliseconds each).

    >>> odds_table([10], [5], [20], [40]).round(3).to_dict("list")["odds_ratio"]  # (11 / 6) / (21 / 41)
    [3.579]
    """
    from scipy.stats import chi2, fisher_exact

    a, b, c, d = (np.asarray(x, dtype=np.int64) for x in (a, b, c, d))
    odds = ((a + 1) / (b + 1)) / ((c + 1) / (d + 1))
    se = np.sqrt(1 / (a + 1) + 1 / (b + 1) + 1 / (c + 1) + 1 / (d + 1))
    z = z_score(confidence)
    n = (a + b + c + d).astype(float)
    r1, r2, c1, c2 = (a + b).astype(float), (c + d).astype(float), (a + c).astype(float), (b + d).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected_min = np.minimum(np.minimum(r1 * c1, r1 * c2), np.minimum(r2 * c1, r2 * c2)) / n
        small = ~(expected_min >= 5)
        stat = n * (a.astype(float) * d - b.astype(float) * c) ** 2 / (r1 * r2 * c1 * c2)
        p = chi2.sf(stat, 1)
    for k in np.flatnonzero(small):
        p[k] = fisher_exact([[a[k], b[k]], [c[k], d[k]]])[1]
    return pd.DataFrame({"odds_ratio": odds, "or_low": np.exp(np.log(odds) - z * se),
                         "or_high": np.exp(np.log(odds) + z * se), "p_value": np.asarray(p, dtype=float),
                         "test": np.where(small, "fisher", "chi2")})


def _adjusted(X: np.ndarray, y: np.ndarray, confidence: float, n_boot: int, rng, show) -> tuple:
    """(adjusted odds ratios, low, high) of a penalised logistic regression, bootstrap percentile bounds.

    The cases are grouped by their (indicators, outcome) pattern, each pattern weighted by its count (the
    same fit, fewer rows); a bootstrap sample is a multinomial draw of the cases, so a pattern's weight is
    the number of its cases drawn.
    """
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # small dense problems: BLAS threads only contend (measured 5x slower)
        return _fits(X, y, confidence, n_boot, rng, show, LogisticRegression)


def _fits(X, y, confidence, n_boot, rng, show, LogisticRegression):
    rows, inverse = np.unique(np.column_stack([X, y]).astype(np.int8), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    Xu, yu = rows[:, :-1].astype(float), rows[:, -1].astype(int)
    counts = np.bincount(inverse, minlength=len(rows)).astype(float)

    def fit(weights):
        keep = weights > 0
        if yu[keep].min() == yu[keep].max():
            return None
        model = LogisticRegression(C=1.0, solver="newton-cholesky", max_iter=200)
        model.fit(Xu[keep], yu[keep], sample_weight=weights[keep])
        return model.coef_[0]

    coef = fit(counts)
    n = len(y)
    boots = []
    for _ in progress_bar(range(n_boot), total=n_boot, desc="bootstrap refits", enabled=show):
        drawn = np.bincount(inverse[rng.integers(0, n, n)], minlength=len(rows)).astype(float)
        b = fit(drawn)
        if b is not None:
            boots.append(b)
    if not boots:
        return np.exp(coef), np.full(len(coef), np.nan), np.full(len(coef), np.nan)
    q = (1 - confidence) / 2
    lo, hi = np.quantile(np.array(boots), [q, 1 - q], axis=0)
    return np.exp(coef), np.exp(lo), np.exp(hi)


# --------------------------------------------------------------------------- the outcome


def _milestone(journey, name: str):
    return next((m for m in journey.milestones if m.name == name), None)


def _unit(log, outcome, unit) -> str:
    """Whom the drivers compare: the customer when the log follows customers across cases, else the case."""
    if unit is None:
        return "customer" if log.has_role("customer") else "case"
    if unit not in ("case", "customer"):
        raise InvalidParameterError(f"unit={cut(unit)} is not allowed; use 'customer' or 'case'.")
    if unit == "customer" and not log.has_role("customer"):
        raise InvalidParameterError("unit='customer' needs a log that follows customers across cases (a "
                                    "'customer' column, e.g. from log.sessions()); this log has one case per "
                                    "customer: leave unit out.")
    if unit == "case" and outcome == "goal" and log.has_role("customer"):
        raise InvalidParameterError("unit='case' with outcome='goal': the goal is credited once per customer "
                                    "(unique profiles), not per case; use unit='customer' (the default), or "
                                    "outcome='conversion' or a milestone to compare cases.")
    return unit


def _outcome(log, journey, outcome, unit):
    """(y: boolean Series over the units that count - cases or customers -, the milestone the outcome is,
    the goal activity, the outcome column)."""
    if not isinstance(outcome, str) or not outcome:
        raise InvalidParameterError(f"outcome={cut(outcome)} must be 'goal', 'conversion', a milestone name or "
                                    "a boolean case column, e.g. outcome='goal'.")
    if outcome in ("goal", "conversion") or (journey is not None and _milestone(journey, outcome)):
        if journey is None:
            raise InvalidParameterError(f"outcome={outcome!r} needs a journey: pass drivers(log, journey, "
                                        f"outcome={outcome!r}), or a boolean case column as the outcome.")
        if outcome == "goal":
            require_goal(journey)
            cust = goal_attainment(log, journey).customers
            inside = ~cust["reason"].isin(["never_entered", "excluded"])
            y = cust.loc[inside, "credited"].astype(bool)
            y.index = y.index.astype(str)
            goal_ms = next((m.name for m in journey.milestones if journey.goal.activity in m.activities), None)
            return y, goal_ms, journey.goal.activity, None
        reached = milestones_reached(log, journey)
        name = journey.happy_path[-1] if outcome == "conversion" else outcome
        if unit == "customer":  # reached in any of the customer's cases; inside: any milestone in any case
            reached = reached.groupby(case_customers(log).reindex(reached.index).to_numpy()).any()
        inside = reached.any(axis=1)
        return reached.loc[inside, name].astype(bool), name, None, None
    if outcome not in log.attributes:
        from ._core.names import did_you_mean

        names = ["goal", "conversion"] + ([m.name for m in journey.milestones] if journey is not None else [])
        raise InvalidParameterError(f"outcome={cut(outcome)} is neither 'goal', 'conversion', a milestone of the "
                                    f"journey nor a column of the log; use one of {cut(names, 120)} or a boolean "
                                    f"case column.{did_you_mean(outcome, names + list(log.attributes))}")
    facts = case_facts(log, attributes=True)
    values = facts[f"__at_{list(facts.attrs['attributes']).index(outcome)}"]
    seen = set(pd.unique(values.dropna()).tolist())
    if not seen <= {True, False, 0, 1}:
        raise InvalidParameterError(f"outcome={outcome!r} is not a boolean column: its values include "
                                    f"{cut(sorted(map(str, seen - {True, False, 0, 1}))[:5])}. Give a column of "
                                    "True/False per case, e.g. derive one with log.assign(...).")
    y = values.dropna().astype(bool)
    y.index = y.index.astype(str)
    if unit == "customer":  # True when any of the customer's cases has it
        y = y.groupby(case_customers(log).reindex(y.index).to_numpy()).any()
    return y, None, None, outcome


def _per_customer(log, ind):
    """(customers, their candidate matrix): a customer has a candidate when one of their cases has it. With
    ``at`` (``ind.reached``) the cases are taken in order of their start (ties by case id), each cut where
    it reached the milestone; the cases after the first one that reached it are left out, so only what
    happened before the customer first reached the milestone counts."""
    who = case_customers(log).reindex(ind.cases).to_numpy()
    codes, customers = pd.factorize(who, sort=True)
    n = len(codes)
    keep = np.ones(n, dtype=bool)
    if ind.reached is not None and n:
        start = case_starts(log).reindex(ind.cases).to_numpy(dtype=np.int64)
        order = np.lexsort((np.arange(n), start, codes))
        r = ind.reached[order].astype(np.int64)
        before = np.cumsum(r) - r  # cases that reached it before this one (all customers so far)
        g = codes[order]
        first = np.r_[True, g[1:] != g[:-1]]
        keep[order] = before == np.maximum.accumulate(np.where(first, before, 0))
    idx = np.flatnonzero(keep)
    idx = idx[np.argsort(codes[idx], kind="stable")]
    g = codes[idx]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]]) if len(g) else np.zeros(0, dtype=np.int64)
    if ind.matrix.shape[1] and len(starts):
        matrix = np.logical_or.reduceat(ind.matrix[idx], starts, axis=0)
    else:
        matrix = np.zeros((len(starts), ind.matrix.shape[1]), dtype=bool)
    return pd.Index(customers[g[starts]].astype(str), name="customer"), matrix


def _refused(keys, journey, milestone, goal_activity, column) -> list:
    """Per candidate: why it is refused (the outcome or defined from it), or None."""
    acts = set()
    if goal_activity is not None:
        acts.add(goal_activity)
    m = _milestone(journey, milestone) if milestone is not None and journey is not None else None
    if m is not None:
        acts |= set(m.activities)
    out = []
    for kind, what in keys:
        why = None
        if kind == "activities" and what in acts:
            why = "is the outcome's own event"
        elif kind == "transitions" and set(what) & acts:
            why = "goes into or out of the outcome's event"
        elif kind == "deviations" and milestone is not None and what[1] == milestone:
            why = "a deviation at the outcome milestone is defined from reaching it"
        elif kind == "deviations" and journey is not None and column is None and what[0] == "incomplete":
            why = "'incomplete' (ending before the final milestone) is defined from how far the case got"
        elif kind == "attributes" and column is not None and what[0] == column:
            why = "is the outcome column"
        out.append(why)
    return out


# --------------------------------------------------------------------------- the analysis


@checked(log=LOG, journey=Optional(JOURNEY), candidates=Texts(example="['activities', 'channels']"),
         min_support=Optional(Int(1)), confidence=CONFIDENCE, adjust=BOOL, n_boot=Int(0, 10_000, example=100),
         random_state=RNG, progress=Optional(BOOL))
def drivers(log, journey=None, *, outcome: str = "goal", candidates=KINDS, at: str | None = None,
            unit: str | None = None, min_support: int | None = None, confidence: float = 0.95, adjust: bool = True, n_boot: int = 100,
            random_state=None, progress: bool | None = None) -> Drivers:
    """What distinguishes the cases that reach an outcome from those that drop.

    Every candidate - an activity done, a directly-follows transition made, a channel used, an attribute
    value, a deviation type at a milestone - gets its support, the outcome rate with and without it, the
    +1-smoothed odds ratio with Woolf's interval, a p-value (Fisher's exact test, or chi-square on large
    cells) and the Benjamini-Hochberg
    adjusted one; ``adjust=True`` adds adjusted odds ratios from a penalised logistic regression on all
    candidates together, with bootstrap intervals, and flags the confounded ones. The module docstring
    (:mod:`journeylab.drivers`) gives every formula and rule.

    Parameters
    ----------
    log : EventLog
        The events (a DataFrame is refused: wrap it with ``jl.from_pandas``); one case per customer, or a
        log that follows customers across cases (a ``customer`` column, e.g. from ``log.sessions()``).
    journey : Journey, optional
        Needed for the outcomes ``"goal"``, ``"conversion"`` and a milestone, for ``at`` and for the
        deviations (without a journey they are left out).
    outcome : str, default "goal"
        ``"goal"``: the journey's goal credited under its counting rules (:func:`~journeylab.goal_attainment`;
        the cases that entered the journey count); ``"conversion"``: the final happy-path milestone reached;
        a milestone name: that milestone reached (for both, the cases with a milestone event count); or a
        boolean case column (its first non-missing value per case; cases without one are left out).
    candidates : str or list of str, default all
        Kinds among ``"activities"``, ``"transitions"``, ``"channels"``, ``"attributes"`` (text, bool or
        whole-number columns with 2 to 20 values) and ``"deviations"``.
    at : str, optional
        A milestone of the journey (defined by activities): only the events before the case (the
        customer) first reached it count.
    unit : {"customer", "case"}, optional
        Whom the rows compare. Default: the customer when the log has a customer role, else the case.
        ``"customer"``: all the cases of a customer together - a customer has a candidate when one of
        their cases has it, and reaches ``"conversion"``, a milestone or a boolean column when one of
        their cases does; ``"goal"`` is credited per customer under the counting rules (unique profiles),
        so it is always compared per customer. ``"case"`` on a customer log compares the sessions.
    min_support : int, optional
        The fewest cases with (and without) a candidate for it to be tested; default ``min(25, 2 %)`` of
        the cases, at least 1.
    confidence : float, default 0.95
        Level of the intervals; ``significant`` is ``p_adjusted < 1 - confidence``.
    adjust : bool, default True
        Fit the adjusting regression and its bootstrap.
    n_boot : int, default 100
        Bootstrap refits of the regression (0: no intervals).
    random_state : int or Generator, optional
        Seed of the bootstrap.
    progress : bool, optional
        Show a progress bar over the refits (default: when there are over 20,000 cases).

    Returns
    -------
    Drivers
        ``table`` (one row per tested candidate, ranked), ``excluded``, the outcome and its counts,
        ``unit``.

    Examples
    --------
    >>> import journeylab as jl
    >>> s = jl.datasets.make_journeys(300, random_state=1)
    >>> d = jl.drivers(s.log, s.journey, outcome="checkout", at="checkout", candidates="activities",
    ...                adjust=False)
    >>> d.table.columns[:4].tolist()
    ['candidate', 'kind', 'support', 'share']
    >>> jl.drivers(s.log, s.journey, outcome="payment")
    Traceback (most recent call last):
    ...
    journeylab.exceptions.InvalidParameterError: outcome='payment' is neither 'goal', 'conversion', a milestone ...
    """
    unknown = [k for k in candidates if k not in KINDS]
    if unknown:
        raise InvalidParameterError(f"candidates={cut(list(candidates))} names unknown kinds {cut(unknown)}; use "
                                    f"some of {list(KINDS)}.")
    kinds = tuple(k for k in candidates if k != "deviations" or journey is not None)
    if at is not None:
        if journey is None:
            raise InvalidParameterError(f"at={cut(at)} is a milestone, so it needs a journey: pass drivers(log, "
                                        "journey, at=...).")
        m = _milestone(journey, at)
        if m is None:
            from ._core.names import did_you_mean

            names = [x.name for x in journey.milestones]
            raise InvalidParameterError(f"at={cut(at)} is not a milestone of journey {cut(journey.name)}; it has "
                                        f"{cut(names, 120)}.{did_you_mean(at, names)}")
        if m.conditions or not m.activities:
            raise JourneyDefinitionError(f"at={at!r}: milestone {at!r} is defined by conditions, so where it is "
                                         "first reached cannot be read from the activities; use a milestone "
                                         "defined by activities only.")
    if "deviations" in kinds and any(x.conditions or not x.activities for x in journey.milestones):
        raise JourneyDefinitionError("the deviation candidates need milestones defined by activities only; leave "
                                     "them out with candidates=['activities', 'transitions', 'channels', "
                                     "'attributes'].")
    unit = _unit(log, outcome, unit)
    y_all, milestone, goal_activity, column = _outcome(log, journey, outcome, unit)
    ind = candidate_matrix(log, journey, kinds, at=at)
    units, X = (ind.cases, ind.matrix) if unit == "case" else _per_customer(log, ind)
    rows = units.get_indexer(y_all.index)
    y = y_all.to_numpy(dtype=bool)[rows >= 0]
    X = X[rows[rows >= 0]]
    n, s = len(y), int(y.sum())
    if n == 0 or s in (0, n):
        raise InvalidParameterError(f"outcome={outcome!r} is {'missing' if n == 0 else ('reached' if s else 'missed')} "
                                    f"by all {n} {unit}s: nothing can distinguish them. Pick another outcome or log.")
    if max(s, n - s) > SKEW * min(s, n - s):
        warn(f"drivers: the outcome is skewed ({s:,} reach it, {n - s:,} do not; beyond 10:1): odds ratios of "
             "rare cells are unstable, read the intervals.")
    why = _refused(ind.keys, journey, milestone, goal_activity, column)
    refused = [j for j, w in enumerate(why) if w is not None]
    excluded = pd.DataFrame({"candidate": [ind.labels[j] for j in refused],
                             "kind": [ind.keys[j][0] for j in refused], "why": [why[j] for j in refused]})
    thr = int(min_support) if min_support is not None else max(1, min(25, math.ceil(0.02 * n)))
    a = X[y].sum(axis=0)
    b = X[~y].sum(axis=0)
    support = a + b
    ok = np.array([w is None for w in why], dtype=bool) & (support >= thr) & (n - support >= thr)
    n_below = int(((support < thr) | (n - support < thr))[[w is None for w in why]].sum()) if len(why) else 0
    idx = np.flatnonzero(ok)
    stats = odds_table(a[idx], b[idx], s - a[idx], (n - s) - b[idx], confidence)
    table = pd.DataFrame({
        "candidate": [ind.labels[j] for j in idx], "kind": [ind.keys[j][0] for j in idx],
        "support": support[idx].astype(np.int64), "share": support[idx] / n,
        "rate_with": a[idx] / support[idx], "rate_without": (s - a[idx]) / (n - support[idx])})
    table = pd.concat([table, stats], axis=1)
    table["p_adjusted"] = benjamini_hochberg(table["p_value"].to_numpy())
    table["significant"] = table["p_adjusted"] < 1 - confidence
    for col in ("adjusted_or", "adjusted_low", "adjusted_high"):
        table[col] = np.nan
    table["confounded"] = False
    order = np.lexsort((table["candidate"].to_numpy(dtype=str), -np.abs(np.log(table["odds_ratio"].to_numpy())),
                        table["p_value"].to_numpy()))
    table = table.iloc[order].reset_index(drop=True)
    if adjust and len(table):
        k = min(len(table), MAX_ADJUSTED)
        cols = idx[order[:k]]
        show = progress if progress is not None else n > 20_000
        adj, lo, hi = _adjusted(X[:, cols].astype(float), y, confidence, n_boot, random_state, show)
        table.loc[: k - 1, "adjusted_or"], table.loc[: k - 1, "adjusted_low"] = adj, lo
        table.loc[: k - 1, "adjusted_high"] = hi
        un = np.log(table["odds_ratio"].to_numpy())
        ad = np.log(table["adjusted_or"].to_numpy())
        covers = (table["adjusted_low"] <= 1) & (table["adjusted_high"] >= 1)
        with np.errstate(invalid="ignore"):
            shrunk = (np.abs(ad) <= 0.5 * np.abs(un)) | (np.sign(ad) != np.sign(un))
        table["confounded"] = (table["significant"] & covers & shrunk).to_numpy(dtype=bool)
    params = {"journey": journey.name if journey is not None else None, "outcome": outcome, "candidates": kinds,
              "at": at, "unit": unit, "min_support": thr, "confidence": confidence, "adjust": adjust, "n_boot": n_boot}
    return Drivers(table=table[_COLUMNS], excluded=excluded, outcome=outcome, n_cases=n, n_success=s,
                   min_support=thr, n_below_support=n_below, confidence=confidence, unit=unit, params=params)
