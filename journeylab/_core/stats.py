"""Small statistics shared by the modules that report proportions with intervals (A/B tests,
conformance effects, segment comparisons, survey scores): the normal quantile, Wilson's score
interval of a proportion and Newcombe's hybrid score interval of a difference of proportions.

>>> lo, hi = wilson(8, 10, z_score(0.95))
>>> round(float(lo), 3), round(float(hi), 3)
(0.49, 0.943)
>>> lo, hi = newcombe(56, 70, 48, 80, z_score(0.95))  # Newcombe (1998), example (a): 0.0524 .. 0.3339
>>> round(float(lo), 4), round(float(hi), 4)
(0.0524, 0.3339)
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

__all__ = ["normal_quantile", "z_score", "wilson", "newcombe", "nps_interval", "t_interval"]


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
