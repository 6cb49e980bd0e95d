"""Interval arithmetic that more than one service prints: pure math, no scipy, no Flask."""

from __future__ import annotations

import math


def wilson_bounds(successes: float, n: float, z: float) -> tuple[float, float]:
    """Wilson score interval of a proportion, as shares from 0 to 1. successes may be a
    weighted (non-whole) count; n > 0."""
    p = min(1.0, max(0.0, successes / n))  # weighted counts carry rounding error
    denominator = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # At p = 0 or 1 the bound is exactly 0 or 1; computing it leaves a rounding error.
    low = 0.0 if successes <= 0 else max(0.0, center - half)
    high = 1.0 if successes >= n else min(1.0, center + half)
    return low, high
