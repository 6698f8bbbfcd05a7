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


@pytest.mark.parametrize("confidence", [0.95, 0.8])
def test_kaplan_meier_equals_lifelines(confidence):
    import warnings

    lifelines = pytest.importorskip("lifelines")
    from lifelines.utils import median_survival_times

    from journeylab._core.stats import kaplan_meier, survival_median

    rng = np.random.default_rng(7)
    for n in (1, 2, 7, 60, 400):
        dur = rng.integers(0, 40, size=n) * 3_600_000_000  # whole hours in microseconds: many ties, some zeros
        seen = rng.random(n) < 0.6
        km = kaplan_meier(dur, seen, confidence=confidence)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # lifelines' ApproximationWarning on the median
            kmf = lifelines.KaplanMeierFitter(alpha=1 - confidence).fit(dur / 3.6e9, seen)
            ref_median = kmf.median_survival_time_
            ref_ci = median_survival_times(kmf.confidence_interval_).iloc[0].to_numpy(dtype=float)
        assert km["time"].to_numpy() / 3.6e9 == pytest.approx(kmf.timeline, abs=1e-12)
        assert km["at_risk"].tolist() == kmf.event_table["at_risk"].tolist()
        assert km["events"].tolist() == kmf.event_table["observed"].tolist()
        assert km["survival"].to_numpy() == pytest.approx(kmf.survival_function_.iloc[:, 0].to_numpy(), abs=1e-12)
        band = kmf.confidence_interval_.to_numpy()
        assert km["low"].to_numpy() == pytest.approx(band[:, 0], abs=1e-9)
        assert km["high"].to_numpy() == pytest.approx(band[:, 1], abs=1e-9)
        median, low, high = (v / 3.6e9 for v in survival_median(km))
        for ours, ref in ((median, ref_median), (low, ref_ci[0]), (high, ref_ci[1])):
            assert (math.isnan(ours) and math.isinf(ref)) or ours == pytest.approx(ref)


def test_kaplan_meier_edges():
    from journeylab._core.stats import kaplan_meier, survival_median

    empty = kaplan_meier(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool))
    assert list(empty.columns) == ["time", "at_risk", "events", "survival", "low", "high"] and not len(empty)
    everyone = kaplan_meier([5, 5], [True, True])  # all at once: survival 0, the interval collapses to 0
    assert everyone["survival"].tolist() == [1.0, 0.0] and everyone["low"].tolist() == [1.0, 0.0]
    assert survival_median(everyone) == (5.0, 5.0, 5.0)
    censored = kaplan_meier([3, 4], [False, False])  # nobody had the event: survival stays 1
    assert censored["survival"].tolist() == [1.0, 1.0, 1.0] and censored["high"].tolist() == [1.0, 1.0, 1.0]
    assert all(math.isnan(v) for v in survival_median(censored))
