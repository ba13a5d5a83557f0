"""Pure statistics over lists of samples (one sample per repeat): medians and bootstrap intervals.

Kept free of I/O and of the CSV layout, in the spirit of rliable: callers pass plain sequences.
The intervals are ``scipy.stats.bootstrap``'s percentile intervals, seeded so that they are the same
every time the same samples are summarized.

Below ``MIN_SAMPLES_FOR_CI`` samples a "95% bootstrap interval" of the median is only the range of
the samples (with 2 or 3 samples the resampled medians' 2.5% and 97.5% quantiles are the smallest
and largest sample), so such a summary *is* the range (min-max) and says so (``Summary.interval``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

BOOTSTRAP_RESAMPLES = 2000
MIN_SAMPLES_FOR_CI = 5
RANGE = "range (min-max)"
CONFIDENCE_INTERVAL = "95% bootstrap interval"
"""The two names of ``[low, high]``, used as they are by the report, the figures, ``check`` and
``compare``: one name per kind of interval everywhere, so that a reader never wonders whether a "CI"
in one place and an "interval" in another are different things."""


@dataclass(frozen=True)
class Summary:
    median: float
    low: float
    high: float
    n: int

    @property
    def interval(self) -> str:
        """What ``[low, high]`` is: a 95% bootstrap interval or, below 5 samples, the range (min-max)."""
        return interval_name(self.n)

    def interval_text(self, digits: int = 4) -> str:
        """``[low, high]`` with its name, e.g. ``range (min-max) 1.2-1.4``."""
        return f"{self.interval} {self.low:.{digits}g}-{self.high:.{digits}g}"


def interval_name(n: int) -> str:
    return CONFIDENCE_INTERVAL if n >= MIN_SAMPLES_FOR_CI else RANGE


def intervals_label(counts: Iterable[int]) -> str:
    """The name of the intervals of summaries of ``counts`` samples each: one name where they are all
    of one kind, else both with the rule that picks one (a table or figure mixing the two)."""
    names = {interval_name(n) for n in counts}
    if len(names) == 1:
        return names.pop()
    return f"{CONFIDENCE_INTERVAL} from {MIN_SAMPLES_FOR_CI} repeats on, else {RANGE}"


def median(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("median of no values")
    return float(np.median(np.asarray(values, dtype=float)))


def bootstrap_interval(
    values: Sequence[float], confidence: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the median; a single sample gives a zero-width interval.

    Seeded, so that a report regenerated from the same CSV shows the same intervals."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        raise ValueError("interval of no values")
    if data.size == 1:
        return float(data[0]), float(data[0])
    return _percentile_bootstrap((data,), _median_statistic, confidence, seed)


def _median_statistic(sample: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.median(sample, axis=axis)


def _median_ratio_statistic(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.median(a, axis=axis) / np.median(b, axis=axis)


def _percentile_bootstrap(
    samples: tuple[np.ndarray, ...], statistic: Callable[..., np.ndarray], confidence: float, seed: int
) -> tuple[float, float]:
    """``scipy.stats.bootstrap``'s percentile interval of ``statistic`` over independently resampled
    ``samples``, ``BOOTSTRAP_RESAMPLES`` times from a generator seeded with ``seed``.

    scipy.stats is imported here, on first use: importing it takes about a second, which every
    command (and ``run``'s start, which a second run's lock check races) would pay otherwise."""
    import scipy.stats

    result = scipy.stats.bootstrap(
        samples,
        statistic,
        n_resamples=BOOTSTRAP_RESAMPLES,
        confidence_level=confidence,
        method="percentile",
        vectorized=True,
        paired=False,
        rng=np.random.default_rng(seed),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def summarize(values: Sequence[float], confidence: float = 0.95) -> Summary:
    """Median with a bootstrap interval, or with the range of the samples below 5 of them."""
    finite = [v for v in values if math.isfinite(v)]
    if len(finite) < MIN_SAMPLES_FOR_CI:
        return Summary(median(finite), min(finite), max(finite), len(finite))
    low, high = bootstrap_interval(finite, confidence)
    return Summary(median(finite), low, high, len(finite))


def ratio_interval(
    numerator: Sequence[float], denominator: Sequence[float], confidence: float = 0.95, seed: int = 0
) -> Summary:
    """Median ratio of two backends' samples with a bootstrap interval (resampling both sides).

    With fewer than 5 samples on a side the interval is the range of the ratios of any two samples,
    ``[min(a)/max(b), max(a)/min(b)]`` (what the bootstrap gives there too), named ``range``."""
    a = np.asarray(numerator, dtype=float)
    b = np.asarray(denominator, dtype=float)
    if a.size == 0 or b.size == 0:
        raise ValueError("ratio of no values")
    point = float(np.median(a) / np.median(b))
    n = int(min(a.size, b.size))
    if n < MIN_SAMPLES_FOR_CI:
        return Summary(point, float(a.min() / b.max()), float(a.max() / b.min()), n)
    low, high = _percentile_bootstrap((a, b), _median_ratio_statistic, confidence, seed)
    return Summary(point, low, high, n)
