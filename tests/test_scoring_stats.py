"""Statistics against values computed by hand or taken from published tables."""

from __future__ import annotations

import math

import pytest

from scoring_service.scoring import stats


def test_wilson_matches_the_published_interval_for_5_of_10():
    est = stats.wilson(5, 10)
    assert est.value == pytest.approx(50.0)
    assert est.low == pytest.approx(23.66, abs=0.01)
    assert est.high == pytest.approx(76.34, abs=0.01)


def test_wilson_at_zero_and_all():
    none_of_ten = stats.wilson(0, 10)
    assert none_of_ten.low == 0 and none_of_ten.high == pytest.approx(27.75, abs=0.01)
    all_of_ten = stats.wilson(10, 10)
    assert all_of_ten.high == 100 and all_of_ten.low == pytest.approx(72.25, abs=0.01)
    assert stats.wilson(0, 0) == stats.EMPTY


def test_mean_t_interval_by_hand():
    # values 1, 1, 5, 5: mean 3, s = sqrt(16/3), se = s / 2, t(0.975, 3) = 3.182446 (table)
    est = stats.mean_t({1: 2, 5: 2})
    half = 3.182446305 * math.sqrt(16 / 3) / 2
    assert est.value == 3 and est.n == 4
    assert est.low == pytest.approx(3 - half) and est.high == pytest.approx(3 + half)
    clipped = stats.mean_t({1: 2, 5: 2}, low=1, high=5)
    assert (clipped.low, clipped.high) == (1, 5)


def test_mean_t_edge_cases():
    identical = stats.mean_t({4: 10})
    assert (identical.value, identical.low, identical.high) == (4, 4, 4)
    single = stats.mean_t({3: 1})
    assert (single.value, single.low, single.high, single.n) == (3, None, None, 1)
    assert stats.mean_t({}) == stats.EMPTY


def test_median_interval_by_order_statistics():
    # 1..10 once each: median 5.5. P(Bin(10, .5) <= 1) = 11/1024 <= .025 < 56/1024, so the
    # interval runs from the 2nd to the 9th observation.
    est = stats.median_ci({v: 1 for v in range(1, 11)})
    assert (est.value, est.low, est.high) == (5.5, 2, 9)
    # Odd n, repeated values: 0, 0, 0, 100, 100 -> median 0; n = 5 is too few for any
    # order statistic to reach 95 %, so the interval is the whole range.
    est = stats.median_ci({0: 3, 100: 2})
    assert (est.value, est.low, est.high) == (0, 0, 100)
    extreme = stats.median_ci({0: 3, 100: 3})
    assert extreme.value == 50


def test_nps_and_its_standard_error_by_hand():
    # 5 promoters, 2 passives, 3 detractors: NPS = 100 (0.5 - 0.3) = 20;
    # SE = 100 sqrt((0.5 + 0.3 - 0.2^2) / 10) = 100 sqrt(0.076)
    est = stats.nps({10: 3, 9: 2, 8: 1, 7: 1, 6: 1, 0: 2})
    se = 100 * math.sqrt(0.076)
    assert est.value == pytest.approx(20)
    assert stats.nps_se({10: 3, 9: 2, 8: 1, 7: 1, 6: 1, 0: 2}) == pytest.approx(se)
    assert est.low == pytest.approx(20 - 1.959964 * se, abs=1e-4)
    everyone_promotes = stats.nps({10: 7})
    assert (everyone_promotes.value, everyone_promotes.low, everyone_promotes.high) == (100,
                                                                                       100, 100)


def test_holm_adjustment_by_hand():
    # sorted: .01 x 3 = .03; .03 x 2 = .06; .04 x 1 = .04 -> raised to .06 (monotone)
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    # sorted: .5 x 2 = 1.0; .9 x 1 = .9 -> raised to 1.0 (adjusted p-values never decrease)
    assert stats.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_two_sided_p():
    assert stats.two_sided_p(1.959964, 1.0) == pytest.approx(0.05, abs=1e-6)
    assert stats.two_sided_p(0, 1) == pytest.approx(1.0)
