"""Pure statistics over lists of samples (one sample per repeat): medians and bootstrap intervals.

Kept free of I/O and of the CSV layout, in the spirit of rliable: callers pass plain sequences.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

BOOTSTRAP_RESAMPLES = 2000


@dataclass(frozen=True)
class Summary:
    median: float
    low: float
    high: float
    n: int


def median(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("median of no values")
    return float(np.median(np.asarray(values, dtype=float)))


def bootstrap_interval(
    values: Sequence[float], confidence: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the median; a single sample gives a zero-width interval."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        raise ValueError("interval of no values")
    if data.size == 1:
        return float(data[0]), float(data[0])
    rng = np.random.default_rng(seed)
    resamples = rng.choice(data, size=(BOOTSTRAP_RESAMPLES, data.size), replace=True)
    medians = np.median(resamples, axis=1)
    alpha = (1.0 - confidence) / 2.0
    return float(np.quantile(medians, alpha)), float(np.quantile(medians, 1.0 - alpha))


def summarize(values: Sequence[float], confidence: float = 0.95) -> Summary:
    finite = [v for v in values if math.isfinite(v)]
    low, high = bootstrap_interval(finite, confidence)
    return Summary(median(finite), low, high, len(finite))


def ratio_interval(
    numerator: Sequence[float], denominator: Sequence[float], confidence: float = 0.95, seed: int = 0
) -> Summary:
    """Median ratio of two backends' samples with a bootstrap interval (resampling both sides)."""
    a = np.asarray(numerator, dtype=float)
    b = np.asarray(denominator, dtype=float)
    if a.size == 0 or b.size == 0:
        raise ValueError("ratio of no values")
    point = float(np.median(a) / np.median(b))
    if a.size == 1 and b.size == 1:
        return Summary(point, point, point, 1)
    rng = np.random.default_rng(seed)
    ra = np.median(rng.choice(a, size=(BOOTSTRAP_RESAMPLES, a.size)), axis=1)
    rb = np.median(rng.choice(b, size=(BOOTSTRAP_RESAMPLES, b.size)), axis=1)
    ratios = ra / rb
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(ratios, alpha), np.quantile(ratios, 1.0 - alpha)
    return Summary(point, float(low), float(high), int(min(a.size, b.size)))
