"""Small statistics shared by the analyses: the normal quantile, Wilson's score interval of a
proportion and Newcombe's hybrid score interval of a difference of proportions (A/B tests,
conformance effects, segment comparisons, survey scores), the adjusted-Wald interval of an NPS and
the Student-t interval of a mean (survey scores), and the Kaplan-Meier estimate of a survival curve
with its median (time to the next milestone, time to the goal).

>>> lo, hi = wilson(8, 10, z_score(0.95))
>>> round(float(lo), 3), round(float(hi), 3)
(0.49, 0.943)
>>> lo, hi = newcombe(56, 70, 48, 80, z_score(0.95))  # Newcombe (1998), example (a): 0.0524 .. 0.3339
>>> round(float(lo), 4), round(float(hi), 4)
(0.0524, 0.3339)
>>> km = kaplan_meier([1, 2, 2, 4], [True, True, False, True])
>>> km["time"].tolist(), km["at_risk"].tolist(), km["survival"].round(3).tolist()
([0, 1, 2, 4], [4, 4, 3, 1], [1.0, 0.75, 0.5, 0.0])
>>> survival_median(km)[0]
2.0
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pandas as pd

__all__ = ["normal_quantile", "z_score", "wilson", "newcombe", "nps_interval", "t_interval", "kaplan_meier",
           "survival_median"]


def normal_quantile(q: float) -> float:
    """The standard normal quantile of ``q`` (e.g. 0.975 -> 1.96)."""
    return NormalDist().inv_cdf(q)


def z_score(confidence: float) -> float:
    """The two-sided critical value of a ``confidence`` level (0.95 -> 1.96)."""
    return normal_quantile(0.5 + confidence / 2)


def wilson(k, n, z: float):
    """Wilson's score interval of ``k`` successes out of ``n`` (shares in 0..1); NaN where n is 0.

    Scalars or arrays in, the same out.
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo, hi = np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)
    return (float(lo), float(hi)) if lo.ndim == 0 else (lo, hi)


def newcombe(k1, n1, k2, n2, z: float) -> tuple[float, float]:
    """Newcombe's hybrid score interval (method 10) of ``k1/n1 - k2/n2``; NaN when a group is empty."""
    if n1 == 0 or n2 == 0:
        return float("nan"), float("nan")
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1, z)
    l2, u2 = wilson(k2, n2, z)
    d = p1 - p2
    return d - ((p1 - l1) ** 2 + (u2 - p2) ** 2) ** 0.5, d + ((u1 - p1) ** 2 + (p2 - l2) ** 2) ** 0.5


def nps_interval(n, promoters, detractors, confidence: float):
    """The adjusted-Wald interval of a Net Promoter Score, in points (Rocks 2016); arrays in, arrays out.

    3/4 is added to the promoter and detractor counts and 3 to n; the half-width is
    ``z * sqrt((p + d - (p - d)^2) / n')``; the bounds are clipped to [-100, 100].

    >>> lo, hi = nps_interval(5, 3, 1, 0.95)
    >>> round(float(lo), 1), round(float(hi), 1)
    (-29.8, 79.8)
    """
    n = np.asarray(n, dtype=float)
    z = z_score(confidence)
    na = n + 3.0
    p = (np.asarray(promoters, float) + 0.75) / na
    d = (np.asarray(detractors, float) + 0.75) / na
    centre = p - d
    half = z * np.sqrt(np.maximum(p + d - centre**2, 0.0) / na)
    lo = np.clip(centre - half, -1, 1) * 100
    hi = np.clip(centre + half, -1, 1) * 100
    return lo, hi


def t_interval(mean, sd, n, confidence: float):
    """Student-t interval of a mean (arrays in, arrays out); NaN bounds where n < 2.

    >>> lo, hi = t_interval(3.0, 1.0, 4, 0.95)
    >>> round(float(lo), 3), round(float(hi), 3)
    (1.409, 4.591)
    """
    from scipy import stats  # scipy.stats takes a while to import; only the survey scores need it

    mean = np.asarray(mean, float)
    n = np.asarray(n, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        tq = stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1))
        half = np.where(n >= 2, tq * np.asarray(sd, float) / np.sqrt(n), np.nan)
    return mean - half, mean + half


def kaplan_meier(durations, observed, *, confidence: float = 0.95) -> pd.DataFrame:
    """The Kaplan-Meier estimate of a survival curve from right-censored durations, with its interval.

    The one estimator of the package (lifelines' ``KaplanMeierFitter`` computes the same numbers;
    the tests compare them): everyone is at risk from time 0; at each distinct duration ``t``
    the survival falls by the share of those still at risk whose event happens at ``t``. The
    interval is the exponential Greenwood interval (on ``log(-log S)``), as in lifelines.

    Parameters
    ----------
    durations : array-like of non-negative numbers
        Time from entering to the event, or to the end of observation for a censored subject
        (any unit; e.g. int64 microseconds). The times of the result are in the same unit.
    observed : array-like of bool
        True where the event happened at ``durations``, False where the subject is censored.
    confidence : float, default 0.95
        Level of the pointwise interval, strictly between 0 and 1.

    Returns
    -------
    DataFrame
        One row per distinct time (0 first, even when no duration is 0): ``time``, ``at_risk``
        (subjects whose duration is at least ``time``), ``events`` (events at ``time``),
        ``survival`` (share still without the event after ``time``), ``low`` and ``high`` (its
        interval). Empty (with these columns) when there is no subject.

    Examples
    --------
    >>> km = kaplan_meier([3, 5, 5, 8], [True, False, True, False], confidence=0.9)
    >>> km["survival"].round(3).tolist(), km["at_risk"].tolist()
    ([1.0, 0.75, 0.5, 0.5], [4, 4, 3, 1])
    >>> bool((km["low"] <= km["survival"]).all() and (km["survival"] <= km["high"]).all())
    True
    """
    dur = np.asarray(durations)
    event = np.asarray(observed, dtype=bool)
    if dur.shape != event.shape or dur.ndim != 1:
        raise ValueError("durations and observed must be 1-d and of the same length")  # a programming error
    if not len(dur):
        return pd.DataFrame({"time": dur[:0], "at_risk": np.zeros(0, dtype=np.int64),
                             "events": np.zeros(0, dtype=np.int64), "survival": np.zeros(0), "low": np.zeros(0),
                             "high": np.zeros(0)})
    times = np.unique(np.r_[dur.dtype.type(0), dur])
    at_risk = len(dur) - np.searchsorted(np.sort(dur), times, side="left")
    deaths = np.bincount(np.searchsorted(times, dur[event]), minlength=len(times))
    n, d = at_risk.astype(float), deaths.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_s = np.cumsum(np.log(n - d) - np.log(n))  # the product of (1 - d/n), summed as logarithms
        greenwood = np.cumsum(np.where(n > d, d / (n * (n - d)), 0.0))
        surv = np.exp(log_s)
        z = z_score(confidence)
        v = np.log(surv)
        low = np.exp(-np.exp(np.log(-v) - z * np.sqrt(greenwood) / v))
        high = np.exp(-np.exp(np.log(-v) + z * np.sqrt(greenwood) / v))
    low, high = np.nan_to_num(low, nan=1.0), np.nan_to_num(high, nan=1.0)  # where the survival is 1
    return pd.DataFrame({"time": times, "at_risk": at_risk.astype(np.int64), "events": deaths.astype(np.int64),
                         "survival": surv, "low": low, "high": high})


def survival_median(table: pd.DataFrame) -> tuple[float, float, float]:
    """The median of a :func:`kaplan_meier` curve and its interval: the first time the survival (its
    lower bound, its upper bound) is at or below one half; NaN where it never falls that low.

    As in lifelines, the survival is compared with one half as computed (a product of shares taken
    as a sum of logarithms), so a curve that falls to one half exactly may read a hair above it.

    Parameters
    ----------
    table : DataFrame
        A result of :func:`kaplan_meier`.

    Returns
    -------
    tuple of float
        ``(median, low, high)``, in the unit of ``table["time"]``.

    Examples
    --------
    >>> survival_median(kaplan_meier([1, 2, 3, 4, 5], [True] * 5))
    (3.0, 1.0, 5.0)
    >>> survival_median(kaplan_meier([1, 9, 9], [True, False, False]))
    (nan, 1.0, nan)
    """
    times = table["time"].to_numpy()

    def first_half(curve: np.ndarray) -> float:
        below = np.flatnonzero(curve <= 0.5)
        return float(times[below[0]]) if len(below) else math.nan

    return tuple(first_half(table[c].to_numpy(dtype=float)) for c in ("survival", "low", "high"))
