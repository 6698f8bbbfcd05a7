"""The shared interval kernels (journeylab._core.stats) against published values and scipy."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from scipy import stats

from journeylab._core import stats as _stats
from journeylab._core.stats import newcombe, normal_quantile, wilson, z_score


def test_quantiles_equal_scipy():
    assert z_score(0.95) == pytest.approx(stats.norm.ppf(0.975), rel=1e-12)
    assert normal_quantile(0.8) == pytest.approx(stats.norm.ppf(0.8), rel=1e-12)


def test_wilson_scalar_and_vector_agree_and_empty_is_nan():
    z = z_score(0.95)
    lo, hi = wilson(np.array([0, 8, 10, 3]), np.array([10, 10, 10, 0]), z)
    for i, (k, n) in enumerate([(0, 10), (8, 10), (10, 10)]):
        assert (lo[i], hi[i]) == pytest.approx(wilson(k, n, z))
    assert lo[0] == pytest.approx(0.0, abs=1e-12) and hi[2] == pytest.approx(1.0)
    assert (lo[:3] >= 0).all() and (hi[:3] <= 1).all()  # bounded to [0, 1]
    assert math.isnan(lo[3]) and math.isnan(hi[3])
    # Wilson (1927) / Newcombe (1998) table I: 81/263 -> 0.2553 .. 0.3662
    assert wilson(81, 263, z) == pytest.approx((0.2553, 0.3662), abs=1e-4)


def test_newcombe_published_and_empty_groups():
    assert newcombe(56, 70, 48, 80, z_score(0.95)) == pytest.approx((0.0524, 0.3339), abs=1e-4)
    assert all(math.isnan(v) for v in newcombe(0, 0, 3, 10, 1.96))


def test_doctests():
    res = doctest.testmod(_stats)
    assert res.attempted > 0 and res.failed == 0
