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
    # interval runs from the 2nd to the 9th observation, each widened by half a unit (the
    # answers are whole numbers).
    est = stats.median_ci({v: 1 for v in range(1, 11)})
    assert (est.value, est.low, est.high) == (5.5, 1.5, 9.5)
    # Odd n, repeated values: 0, 0, 0, 100, 100 -> median 0; n = 5 is too few for any
    # order statistic to reach 95 %, so the interval is the whole range (clipped to the scale).
    est = stats.median_ci({0: 3, 100: 2}, scale=(0, 100))
    assert (est.value, est.low, est.high) == (0, 0, 100)
    # Identical answers: never a zero-width interval.
    tied = stats.median_ci({25: 12}, scale=(0, 100))
    assert (tied.value, tied.low, tied.high) == (25, 24.5, 25.5)
    extreme = stats.median_ci({0: 3, 100: 3})
    assert extreme.value == 50


def test_nps_and_its_standard_error_by_hand():
    # 5 promoters, 2 passives, 3 detractors: NPS = 100 (0.5 - 0.3) = 20;
    # SE = 100 sqrt((0.5 + 0.3 - 0.2^2) / 10) = 100 sqrt(0.076)
    est = stats.nps({10: 3, 9: 2, 8: 1, 7: 1, 6: 1, 0: 2})
    se = 100 * math.sqrt(0.076)
    assert est.value == pytest.approx(20)
    assert stats.nps_se({10: 3, 9: 2, 8: 1, 7: 1, 6: 1, 0: 2}) == pytest.approx(se)
    # The interval: +100 x 5, 0 x 2, -100 x 3, plus one pseudo-answer at -100 and one at +100.
    low, high = augmented_interval([100] * 5 + [0] * 2 + [-100] * 3, -100, 100)
    assert (est.low, est.high) == (pytest.approx(low), pytest.approx(high))
    everyone_promotes = stats.nps({10: 7})
    assert everyone_promotes.value == 100 and everyone_promotes.high == 100
    assert everyone_promotes.low < 60  # seven promoters do not prove an NPS of 100


Z = 1.959963984540054  # the standard normal's 97.5 % quantile (table)


def augmented_interval(answers: list[float], low: float, high: float) -> tuple[float, float]:
    """From scratch, over the raw answers: one pseudo-answer at each end of the scale, then
    centre +- z x standard error of the augmented sample, clipped, holding the mean."""
    augmented = answers + [low, high]
    size = len(augmented)
    centre = sum(augmented) / size
    variance = sum((a - centre) ** 2 for a in augmented) / (size - 1)
    half = Z * math.sqrt(variance / size)
    mean = sum(answers) / len(answers)
    return max(low, min(mean, centre - half)), min(high, max(mean, centre + half))


def test_bounded_mean_never_collapses_to_a_point():
    # Five staff all answer 4 on 1-5. By hand: augmented 4,4,4,4,4,1,5 -> centre 26/7 = 3.714;
    # squares 5 x 0.0816 + 7.367 + 1.653 = 9.429, variance 1.571, se sqrt(1.571/7) = 0.4738,
    # interval 3.714 +- 0.929 = [2.786, 4.643]: POMP 44.6 to 91.1, not 75 to 75.
    est = stats.bounded_mean({4: 5}, 1, 5)
    assert est.value == 4
    assert est.low == pytest.approx(2.786, abs=1e-3) and est.high == pytest.approx(4.643, abs=1e-3)
    assert (est.low, est.high) == tuple(pytest.approx(x) for x in augmented_interval([4] * 5, 1, 5))
    # One answer still gets an interval; a large sample gets the usual interval back.
    single = stats.bounded_mean({3: 1}, 1, 5)
    assert single.low < 3 < single.high
    big = {1: 200, 2: 300, 3: 500, 4: 700, 5: 300}
    plain = stats.mean_t(big)
    honest = stats.bounded_mean(big, 1, 5)
    assert honest.low == pytest.approx(plain.low, abs=0.01)
    assert honest.high == pytest.approx(plain.high, abs=0.01)


def test_bounded_mean_on_a_0_1_item_centres_on_the_rule_of_succession():
    # 0 of 10: centre (0 + 1) / 12; the low end is 0 (clipped), the high end well above it.
    est = stats.bounded_mean({0: 10}, 0, 1)
    low, high = augmented_interval([0] * 10, 0, 1)
    assert est.low == 0 and est.high == pytest.approx(high) and est.high > 2 / 12


def test_one_sided_p():
    # 30 >= 25 with se 2.5: z = 2, P(Z > 2) = 0.02275 (table).
    assert stats.one_sided_p(30, 25, ">=", 2.5) == pytest.approx(0.02275, abs=1e-5)
    assert stats.one_sided_p(20, 25, "<", 2.5) == pytest.approx(0.02275, abs=1e-5)
    assert stats.one_sided_p(25, 25, ">=", 1) == pytest.approx(0.5)


def test_holm_adjustment_by_hand():
    # sorted: .01 x 3 = .03; .03 x 2 = .06; .04 x 1 = .04 -> raised to .06 (monotone)
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    # sorted: .5 x 2 = 1.0; .9 x 1 = .9 -> raised to 1.0 (adjusted p-values never decrease)
    assert stats.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_two_sided_p():
    assert stats.two_sided_p(1.959964, 1.0) == pytest.approx(0.05, abs=1e-6)
    assert stats.two_sided_p(0, 1) == pytest.approx(1.0)
