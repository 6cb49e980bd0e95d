"""Statistics on histograms: every item is discrete, so a {value: count} histogram is all a
mean, median, share, NPS or variance needs. Intervals are two-sided at the model's confidence.

No interval has zero width on a finite sample: shares use Wilson's score interval, means on a
bounded scale add one pseudo-observation at each end of the scale (a weak prior), medians widen by half the answer scale's unit (answers are whole numbers)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import stats as sp

from shared.intervals import wilson_bounds


@dataclass(frozen=True)
class Estimate:
    value: float | None
    low: float | None
    high: float | None
    n: int

    @property
    def se(self) -> float | None:
        """Standard error implied by the interval (half-width / z): what comparisons use."""
        if self.low is None or self.high is None:
            return None
        return (self.high - self.low) / (2 * z_value(0.95))

    def as_dict(self, digits: int = 1) -> dict:
        def r(x):
            return None if x is None else round(x, digits)
        return {"value": r(self.value), "interval": [r(self.low), r(self.high)]
                if self.low is not None else None, "n": self.n}


EMPTY = Estimate(None, None, None, 0)


# Quantiles are cached: a report asks for the same few thousands of times, and scipy's ppf
# costs about 0.2 ms a call.
@lru_cache(maxsize=64)
def z_value(confidence: float) -> float:
    return float(sp.norm.ppf(0.5 + confidence / 2))


@lru_cache(maxsize=8192)
def t_quantile(confidence: float, df: float) -> float:
    return float(sp.t.ppf(0.5 + confidence / 2, df))


@lru_cache(maxsize=8192)
def median_rank(confidence: float, n: int) -> int:
    """l: the largest rank with P(Binomial(n, 1/2) < l) <= (1 - confidence) / 2 (0 if none)."""
    return int(sp.binom.ppf((1 - confidence) / 2, n, 0.5))


def wilson(successes: float, n: int, confidence: float = 0.95, scale: float = 100.0) -> Estimate:
    """Wilson score interval for a proportion, reported on 0-scale."""
    if n <= 0:
        return EMPTY
    low, high = wilson_bounds(successes, n, z_value(confidence))
    p = min(1.0, max(0.0, successes / n))
    return Estimate(p * scale, low * scale, high * scale, n)


def histogram_arrays(histogram: dict) -> tuple[np.ndarray, np.ndarray]:
    values = np.array(sorted(histogram), dtype=float)
    counts = np.array([histogram[v] for v in sorted(histogram)], dtype=float)
    return values, counts


def mean_t(histogram: dict, confidence: float = 0.95, low: float | None = None,
           high: float | None = None) -> Estimate:
    """Mean with a t-interval (sample standard deviation, n - 1 degrees of freedom), clipped to
    the scale's range when given. One observation: the mean and no interval."""
    n = sum(histogram.values())
    if n == 0:
        return EMPTY
    mean = sum(v * c for v, c in histogram.items()) / n
    if n == 1:
        return Estimate(mean, None, None, 1)
    variance = sum(c * (v - mean) ** 2 for v, c in histogram.items()) / (n - 1)
    half = t_quantile(confidence, n - 1) * math.sqrt(variance / n)
    lo, hi = mean - half, mean + half
    if low is not None:
        lo = max(low, lo)
    if high is not None:
        hi = min(high, hi)
    return Estimate(mean, lo, hi, n)


def bounded_mean(histogram: dict, low: float, high: float,
                 confidence: float = 0.95) -> Estimate:
    """Mean of answers on [low, high] with an interval that stays honest for small samples.

    One pseudo-observation is added at each end of the scale (for a 0/1 item the centre is
    Laplace's rule of succession, (x + 1) / (n + 2)); the interval is centre +- z x the
    standard error of the augmented sample (n + 2 observations, variance over n + 1), clipped
    to the scale and widened to hold the sample mean. Five identical answers therefore get a
    wide interval, never a point; for large n it is the usual interval for a mean."""
    n = total = squares = 0
    for v, c in histogram.items():
        n += c
        total += v * c
        squares += v * v * c
    if n == 0:
        return EMPTY
    mean = total / n
    size = n + 2
    centre = (total + low + high) / size
    # sum of squared deviations from the centre, over the answers and the two pseudo-answers
    spread = max(0.0, squares + low * low + high * high - size * centre * centre) / (size - 1)
    half = z_value(confidence) * math.sqrt(spread / size)
    lo = max(low, min(mean, centre - half))
    hi = min(high, max(mean, centre + half))
    return Estimate(mean, lo, hi, n)


def sample_sd(histogram: dict) -> float | None:
    n = sum(histogram.values())
    if n < 2:
        return None
    mean = sum(v * c for v, c in histogram.items()) / n
    return math.sqrt(sum(c * (v - mean) ** 2 for v, c in histogram.items()) / (n - 1))


def _value_at_rank(values: np.ndarray, cumulative: np.ndarray, rank: int) -> float:
    """The rank-th smallest observation (1-based) of a histogram."""
    return float(values[int(np.searchsorted(cumulative, rank))])


def median_ci(histogram: dict, confidence: float = 0.95, unit: float = 1.0,
              scale: tuple[float, float] | None = None) -> Estimate:
    """Median (mean of the two middle observations when n is even) with the distribution-free
    interval between order statistics: ranks l and n - l + 1, l the largest with
    P(Binomial(n, 1/2) < l) <= (1 - confidence) / 2, widened by half the answers' unit (a
    whole-number answer v stands for [v - unit/2, v + unit/2]; without this, tied answers give
    a zero-width interval) and clipped to the scale when given."""
    values, counts = histogram_arrays(histogram)
    total = float(counts.sum())  # weighted histograms (n_eff) need not sum to a whole number
    n = int(total)
    if n == 0:
        return EMPTY
    cumulative = np.cumsum(counts)
    middle = (_value_at_rank(values, cumulative, (n + 1) // 2) +
              _value_at_rank(values, cumulative, n // 2 + 1)) / 2
    l = median_rank(confidence, n)
    if l >= 1:
        low = _value_at_rank(values, cumulative, l)
        high = _value_at_rank(values, cumulative, n - l + 1)
    else:  # too few observations for any order statistic to reach the confidence
        low, high = float(values[0]), float(values[-1])
    low, high = low - unit / 2, high + unit / 2
    if scale is not None:
        low, high = max(scale[0], low), min(scale[1], high)
    return Estimate(middle, low, high, n if total == n else total)


def nps(histogram: dict, confidence: float = 0.95) -> Estimate:
    """Net promoter score on -100..100: the mean of +100 (promoters, 9-10), 0 (passives) and
    -100 (detractors), with bounded_mean's interval (pseudo-answers at -100 and +100), so
    seven promoters out of seven do not give 100-100. nps_se is the textbook standard error."""
    recoded = {100: sum(c for v, c in histogram.items() if v >= 9),
               0: sum(c for v, c in histogram.items() if 7 <= v <= 8),
               -100: sum(c for v, c in histogram.items() if v <= 6)}
    return bounded_mean({v: c for v, c in recoded.items() if c}, -100, 100, confidence)


def nps_se(histogram: dict) -> float:
    n = sum(histogram.values())
    p = sum(c for v, c in histogram.items() if v >= 9) / n
    d = sum(c for v, c in histogram.items() if v <= 6) / n
    return 100 * math.sqrt(max(0.0, p + d - (p - d) ** 2) / n)


def holm(p_values: list[float]) -> list[float]:
    """Holm-adjusted p-values, in the input order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def one_sided_p(value: float, threshold: float, op: str, se: float) -> float:
    """p-value of "value op threshold does NOT hold" (a normal test): small p means the
    condition holds with confidence 1 - p."""
    if se <= 0:
        se = 1e-9
    distance = value - threshold if op in (">", ">=") else threshold - value
    return 0.5 * math.erfc(distance / se / math.sqrt(2))


@lru_cache(maxsize=4096)
def _chi2_sf(statistic: float, df: int) -> float:
    return float(sp.chi2.sf(statistic, df))


def sd_above_p(samples: list[tuple[int, float]], threshold: float) -> float:
    """p-value of "no item's standard deviation exceeds threshold" from several items' (n, s):
    the smallest one-sided chi-square p ((n - 1) s^2 / threshold^2 on n - 1 degrees of freedom),
    Bonferroni-multiplied by the number of items."""
    ps = [_chi2_sf(round((n - 1) * sd * sd / (threshold * threshold), 9), n - 1)
          for n, sd in samples if n >= 2]
    return min(1.0, len(ps) * min(ps)) if ps else 1.0


def two_sided_p(difference: float, se: float) -> float:
    if se <= 0:
        return 0.0 if difference != 0 else 1.0
    return math.erfc(abs(difference) / se / math.sqrt(2))
