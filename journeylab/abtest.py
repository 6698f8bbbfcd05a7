"""A/B tests of journey versions on the journey's goal (or any activity).

:func:`ab_test` splits the people in a journey by the version they travelled (a column of
the log), measures each version's conversion under the goal counting rules of
:func:`~journeylab.goals.goal_attainment`, and compares every version with the control.
A winner is declared only when the difference is statistically significant.

On a log in DuckDB or Spark the goal counting runs as :func:`~journeylab.goals.goal_attainment`
does there, and each customer's version is found by arg-min aggregations in the engine: one row
per customer comes back (:func:`journeylab._kernels.entries.first_values`).

The statistics (what :func:`ab_test` computes)
----------------------------------------------
* **Conversion** of a version: customers credited with the goal (or, with
  ``metric="<activity>"``, reaching that activity under the same rules) / customers of the
  version who entered the journey. Each customer counts once.
* **Lift**: the difference of conversion rates, version minus control, in proportion
  points (``relative_lift`` = lift / control rate).
* **Confidence interval** of the lift: Newcombe's hybrid score interval (method 10,
  built from the two Wilson intervals) - it keeps its coverage for small counts and rates
  near 0 or 1, where the Wald interval does not. With more than two versions the level is
  Bonferroni-adjusted (``1 - alpha / m`` for ``m`` comparisons) so the intervals hold
  simultaneously.
* **p-value**: two-sided two-proportion z-test with the pooled proportion; Fisher's exact
  test when an expected cell count of the 2x2 table is below 5 (``test`` says which).
  With more than two versions each version is compared with the control and the p-values
  are adjusted with **Holm's** step-down method (``p_value_adj``).
* **Required sample size** per version for the observed effect: the standard normal
  approximation ``n = (z_{1-a/2} sqrt(2 p(1-p)) + z_{power} sqrt(p1(1-p1) + p2(1-p2)))^2 /
  (p1 - p2)^2`` with ``p`` the mean of the two rates, power 80% and ``a`` the
  (Bonferroni-adjusted) significance level.
* **Verdict**: a version *wins* only when it is significantly better than the control
  (adjusted p-value below ``alpha = 1 - confidence``); the best such version is the
  winner. The control wins when every other version is significantly worse. Otherwise the
  test is ``"inconclusive"``. Under 1,000 customers per version a
  :class:`SmallSampleWarning` says that the test is unreliable.

Examples
--------
>>> import numpy as np, pandas as pd, journeylab as jl
>>> from journeylab.journey import Journey
>>> rng = np.random.default_rng(0)
>>> rows = []
>>> for i in range(4000):
...     v = "AB"[i % 2]
...     rows.append((f"c{i}", "view", "2025-01-01", v))
...     if rng.random() < (0.30 if v == "A" else 0.40):
...         rows.append((f"c{i}", "purchase", "2025-01-02", v))
>>> df = pd.DataFrame(rows, columns=["who", "what", "when", "version"])
>>> log = jl.from_pandas(df, case="who", activity="what", timestamp="when")
>>> j = Journey.from_dict({"name": "buy", "milestones": [{"name": "view", "activities": ["view"]}],
...     "entry": ["view"], "goal": {"type": "purchase", "activity": "purchase"}})
>>> test = ab_test(log, j)
>>> test.verdict, test.winner
('B wins', 'B')
>>> bool(test.table.loc["B", "lift_low"] < 0.10 < test.table.loc["B", "lift_high"])
True
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._core.warn import warn
from ._core.formatting import cut, format_pvalue
from ._core.names import did_you_mean
from ._core.results import FrozenMap, Result
from ._core.stats import newcombe, normal_quantile, wilson, z_score
from ._core.validation import CONFIDENCE, JOURNEY, LOG, TEXT, Real, checked, log_column
from ._kernels.crediting import check_trigger, require_goal
from ._kernels.entries import TIMEOUT, first_values
from .exceptions import DataQualityWarning, InvalidParameterError
from .goals import goal_attainment
from .journey import Goal

__all__ = ["ab_test", "ABTest", "SmallSampleWarning", "MIN_CUSTOMERS"]

#: Below this many customers per version, a :class:`SmallSampleWarning` is issued.
MIN_CUSTOMERS = 1000


class SmallSampleWarning(DataQualityWarning):
    """An A/B test with fewer than 1,000 customers in a version: its verdict is unreliable."""


# --------------------------------------------------------------------------- statistics


def _p_value(k1: int, n1: int, k2: int, n2: int) -> tuple[float, str]:
    """Two-sided p-value: pooled two-proportion z-test, or Fisher's exact test for small expected counts."""
    from scipy import stats

    pooled = (k1 + k2) / (n1 + n2)
    expected = [n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled)]
    if min(expected) < 5:
        _, p = stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]], alternative="two-sided")
        return float(min(1.0, p)), "fisher"
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0, "z"
    z = (k1 / n1 - k2 / n2) / se
    return float(2 * stats.norm.sf(abs(z))), "z"


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values."""
    m = len(p)
    order = np.argsort(p, kind="stable")
    adj = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adj[i] = running
    return adj


def _required_n(p1: float, p2: float, alpha: float, power: float) -> float:
    """Customers per version to detect p1 vs p2 (two-sided, normal approximation)."""
    if p1 == p2 or any(map(math.isnan, (p1, p2))):
        return math.inf
    za, zb = normal_quantile(1 - alpha / 2), normal_quantile(power)
    pbar = (p1 + p2) / 2
    num = za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return math.ceil(num ** 2 / (p1 - p2) ** 2)


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True, eq=False)
class ABTest(Result):
    """An A/B test of journey versions (see :func:`ab_test` and the module docstring).

    Attributes
    ----------
    table : one row per version (control first): ``customers``, ``conversions``, ``rate``,
        ``rate_low`` / ``rate_high`` (Wilson interval), ``lift`` (rate - control rate),
        ``lift_low`` / ``lift_high`` (Newcombe interval, Bonferroni-adjusted level with more
        than two versions), ``relative_lift``, ``p_value``, ``p_value_adj`` (Holm), ``test``
        (``"z"`` or ``"fisher"``), ``significant``, ``required_n`` (customers per version
        needed to detect the observed lift with 80% power), ``verdict`` (``control``,
        ``better``, ``worse`` or ``inconclusive``).
    control : the control version.
    winner : the winning version, or None.
    verdict : ``"<version> wins"`` or ``"inconclusive"``.
    customers : per customer (index): ``version``, ``converted``.
    attainment : the :class:`~journeylab.goals.GoalAttainment` the conversions come from.
    metric_label : what was counted (e.g. ``"goal purchase"`` or ``"activity signup"``).
    params : the inputs (read-only).
    """

    table: pd.DataFrame
    control: str
    winner: str | None
    verdict: str
    customers: pd.DataFrame
    attainment: Any
    metric_label: str
    params: FrozenMap = field(default_factory=FrozenMap)

    @property
    def versions(self) -> tuple[str, ...]:
        """The versions, control first."""
        return tuple(self.table.index)

    @property
    def small(self) -> bool:
        """True when a version has fewer than 1,000 customers (the verdict is unreliable)."""
        return bool((self.table["customers"] < MIN_CUSTOMERS).any())

    @property
    def summary(self) -> pd.DataFrame:
        """The per-version table formatted for reading."""
        t = self.table
        lvl = self.params.get("confidence", 0.95)
        adj = " (Bonferroni)" if len(t) > 2 else ""

        def pp(v):
            return "-" if pd.isna(v) else f"{100 * v:+.2f} pp"

        out = pd.DataFrame({
            "customers": t["customers"].map("{:,}".format),
            "conversions": t["conversions"].map("{:,}".format),
            "rate": t["rate"].map(lambda v: "-" if pd.isna(v) else f"{v:.2%}"),
            "lift": t["lift"].map(pp),
            f"{lvl:.0%} CI{adj}": [("-" if pd.isna(a) else f"{pp(a)} .. {pp(b)}")
                                   for a, b in zip(t["lift_low"], t["lift_high"])],
            "p-value" + (" (Holm)" if len(t) > 2 else ""): t["p_value_adj"].map(format_pvalue),
            "test": t["test"].fillna("-"),
            "required n": t["required_n"].map(lambda v: "-" if pd.isna(v) else "inf" if math.isinf(v)
                                              else f"{int(v):,}"),
            "verdict": t["verdict"],
        }, index=t.index)
        return out

    def to_frame(self) -> pd.DataFrame:
        """The per-version table (``version`` as a column)."""
        return self.table.reset_index()

    def __repr__(self) -> str:
        parts = []
        for v, r in self.table.drop(index=self.control).iterrows():
            p = r["p_value_adj"]
            ptxt = "p<0.001" if p < 0.001 else f"p={p:.3f}"
            parts.append(f"{v} vs {self.control} {100 * r['lift']:+.2f} pp "
                         f"[{100 * r['lift_low']:+.2f}, {100 * r['lift_high']:+.2f}], {ptxt}")
        n = ", ".join(f"{v}: {c:,}" for v, c in self.table["customers"].items())
        return f"ABTest on {self.metric_label} ({n} customers): " + "; ".join(parts) + f" -> {self.verdict}"

    def _html_tables(self) -> list[tuple[str, pd.DataFrame]]:
        note = ("Small test: fewer than 1,000 customers in a version; the verdict is unreliable."
                if self.small else "")
        return [(note, self.summary)]

    def plot(self, ax=None, *, kind: str = "lift", **kw):
        """Plot the test (see :func:`~journeylab.plotting.plot_ab_test`).

        Parameters
        ----------
        ax : Axes, optional
            Where to draw (default: a new figure).
        kind : {"lift", "rates"}, default "lift"
            Each version's lift over the control with its confidence interval, or the conversion
            rate of each version with its Wilson interval.

        Returns
        -------
        Axes
        """
        from .plotting.goals import plot_ab_test

        return plot_ab_test(self, ax=ax, kind=kind, **kw)


# --------------------------------------------------------------------------- the analysis


@checked(log=LOG, journey=JOURNEY, version=TEXT, confidence=CONFIDENCE,
         power=Real(0.5, 1, high_open=True, example=0.8, what="a power between 0.5 and 1"), timeout=TIMEOUT)
def ab_test(log, journey, *, version: str = "version", metric: str = "goal", control: str = "A",
            confidence: float = 0.95, power: float = 0.8, exclusion=None, suppression=None, as_of=None,
            timeout=None) -> ABTest:
    """Compare journey versions on the goal (or an activity) and declare a winner only when significant.

    Parameters
    ----------
    log : EventLog
        The events, with a column naming the version each customer travelled.
    journey : Journey
        Its entry/exit criteria decide who is in the test, its goal what a conversion is
        (``metric="goal"``).
    version : str, default "version"
        The column holding the version. A customer's version is its value on their first
        event at or after their first entry (customers with several versions are warned
        about; customers with none are left out).
    metric : str or Goal, default "goal"
        ``"goal"`` (the journey's goal under the counting rules of
        :func:`~journeylab.goals.goal_attainment`), or an activity name: reaching that
        activity counts, under the same rules and attribution window.
    control : str, default "A"
        The control version.
    confidence : float, default 0.95
        Level of the intervals, between 0 and 1; ``alpha = 1 - confidence`` is the
        significance level.
    power : float, default 0.8
        Power for the required sample size, between 0.5 and 1.
    exclusion, suppression, as_of, timeout
        As in :func:`~journeylab.goals.goal_attainment`.

    Returns
    -------
    ABTest
        The per-version table, the verdict and the winner (see the module docstring for the
        statistics: Newcombe intervals, z-test or Fisher exact, Holm correction).

    Warns
    -----
    SmallSampleWarning : a version has fewer than 1,000 customers.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> from journeylab.journey import Journey
    >>> df = pd.DataFrame({"who": ["a", "b"], "what": ["view", "view"], "when": ["2025-01-01"] * 2,
    ...                    "version": ["A", "A"]})
    >>> log = jl.from_pandas(df, case="who", activity="what", timestamp="when")
    >>> j = Journey.from_dict({"name": "j", "milestones": [{"name": "v", "activities": ["view"]}],
    ...                        "goal": {"type": "custom", "activity": "view"}})
    >>> ab_test(log, j)
    Traceback (most recent call last):
    ...
    journeylab.exceptions.InvalidParameterError: the version column 'version' has one value only ('A'); ...
    """
    if metric == "goal":
        require_goal(journey)
    log_column(log, version, "version")

    # the metric
    if metric == "goal":
        test_journey = journey
        label = f"goal {journey.goal.activity}"
    elif isinstance(metric, (str, Goal)):
        goal = metric if isinstance(metric, Goal) else Goal(
            "custom", metric, window=journey.goal.window if journey.goal is not None else pd.Timedelta(days=3))
        test_journey = dataclasses.replace(journey, goal=goal)
        check_trigger(log, test_journey, what="metric")
        label = f"activity {goal.activity}"
    else:
        raise InvalidParameterError(f"metric={cut(metric)} must be 'goal' or an activity name of the log.")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # the journey's own warnings are the goal analysis's
        att = goal_attainment(log, test_journey, exclusion=exclusion, suppression=suppression, as_of=as_of,
                              timeout=timeout)
    c = att.customers[att.customers["entered"]]
    # the version of each customer: said once, here (the goal analysis's warnings are silenced above)
    ver, multi = first_values(log, version, c["entered_at"], as_of=att.as_of)
    if multi:
        warn(f"{multi:,} customers appear with several values of {cut(version)}; each is counted in the version "
                      "of their first event in the journey.", DataQualityWarning)
    missing = int(ver.isna().sum())
    cust = pd.DataFrame({"version": ver, "converted": c["credited"]}).dropna(subset=["version"])
    values = sorted(cust["version"].unique())
    if len(values) < 2:
        shown = f"one value only ({cut(values[0])})" if values else "no value for the people in the journey"
        raise InvalidParameterError(
            f"the version column {cut(version)} has {shown}; an A/B test needs at least two versions. Check "
            f"that {cut(version)} is the column with the version each customer travelled (or filter the log less).")
    if str(control) not in values:
        raise InvalidParameterError(f"control={cut(control)} is not a version in {cut(version)}. Versions: {cut(values, 400)}."
                                    f"{did_you_mean(str(control), values)}")
    control = str(control)
    order = [control] + [v for v in values if v != control]
    g = cust.groupby("version")["converted"]
    n = g.size().reindex(order)
    k = g.sum().reindex(order).astype(np.int64)
    m = len(order) - 1
    alpha = 1 - confidence
    z = z_score(confidence)
    ci_level = 1 - alpha / m
    rows = []
    for v in order:
        nv, kv = int(n[v]), int(k[v])
        lo, hi = wilson(kv, nv, z)
        row = {"customers": nv, "conversions": kv, "rate": kv / nv, "rate_low": lo, "rate_high": hi}
        if v == control:
            row.update(lift=0.0, lift_low=math.nan, lift_high=math.nan, relative_lift=0.0, p_value=math.nan,
                       test=None, required_n=math.nan)
        else:
            nc, kc = int(n[control]), int(k[control])
            a, b = newcombe(kv, nv, kc, nc, z_score(ci_level))
            p, test = _p_value(kv, nv, kc, nc)
            pc = kc / nc
            row.update(lift=kv / nv - pc, lift_low=a, lift_high=b,
                       relative_lift=(kv / nv - pc) / pc if pc > 0 else math.nan, p_value=p, test=test,
                       required_n=_required_n(kv / nv, pc, alpha / m, power))
        rows.append(row)
    table = pd.DataFrame(rows, index=pd.Index(order, name="version"))
    others = table.index[1:]
    table["p_value_adj"] = math.nan
    table.loc[others, "p_value_adj"] = _holm(table.loc[others, "p_value"].to_numpy(dtype=float))
    table["significant"] = False
    table.loc[others, "significant"] = table.loc[others, "p_value_adj"] < alpha
    verdicts = ["control"]
    for v in others:
        r = table.loc[v]
        verdicts.append("inconclusive" if not r["significant"] else "better" if r["lift"] > 0 else "worse")
    table["verdict"] = verdicts
    table = table[["customers", "conversions", "rate", "rate_low", "rate_high", "lift", "lift_low", "lift_high",
                   "relative_lift", "p_value", "p_value_adj", "test", "significant", "required_n", "verdict"]]
    better = table[table["verdict"] == "better"]
    if len(better):
        winner = str(better["rate"].idxmax())
    elif (table.loc[others, "verdict"] == "worse").all():
        winner = control
    else:
        winner = None
    verdict = f"{winner} wins" if winner is not None else "inconclusive"
    small = table[table["customers"] < MIN_CUSTOMERS]
    if len(small):
        warn(
            "small test: " + ", ".join(f"version {v!r} has {c:,} customers" for v, c in small["customers"].items())
            + f" (under {MIN_CUSTOMERS:,} per version); small tests are unreliable - treat the verdict as "
            "indicative and keep collecting data.", SmallSampleWarning)
    params = {"journey": journey.name, "version": version, "metric": metric if isinstance(metric, str) else label,
              "control": control, "confidence": confidence, "power": power, "exclusion": exclusion,
              "suppression": suppression, "as_of": att.as_of, "timeout": timeout,
              "no_version": missing, "several_versions": multi, "correction": "holm" if m > 1 else None}
    return ABTest(table=table, control=control, winner=winner, verdict=verdict, customers=cust, attainment=att,
                  metric_label=label, params=params)

