import math

import numpy as np
import pytest

from harness.analysis import stats


def test_median_and_interval_of_one_sample_collapse():
    summary = stats.summarize([3.0])
    assert summary == stats.Summary(3.0, 3.0, 3.0, 1)


def test_interval_brackets_median_and_is_deterministic():
    values = [10.0, 11.0, 9.5, 10.2, 30.0, 10.1, 9.9]
    first = stats.summarize(values)
    assert first.low <= first.median <= first.high
    assert first.median == pytest.approx(10.1)
    assert stats.summarize(values) == first


def test_interval_narrows_with_more_agreeing_samples():
    wide = stats.bootstrap_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    narrow = stats.bootstrap_interval([2.9, 3.0, 3.1, 3.0, 2.95, 3.05, 3.0, 3.02])
    assert (narrow[1] - narrow[0]) < (wide[1] - wide[0])


def test_non_finite_values_are_dropped():
    assert stats.summarize([1.0, math.nan, 3.0]).n == 2


def test_ratio_interval():
    ratio = stats.ratio_interval([2.0, 2.1, 1.9], [1.0, 1.0, 1.0])
    assert ratio.median == pytest.approx(2.0)
    assert ratio.low <= 2.0 <= ratio.high


def test_ratio_interval_below_five_samples_is_the_range_of_pairwise_ratios():
    """CI gates at 3 repeats: the optimistic end pairs the subject's fastest sample with the
    reference's slowest, the pessimistic end the other way round; the point is the median ratio."""
    ratio = stats.ratio_interval([2.0, 7.0, 3.0], [5.0, 1.0, 4.0])
    assert (ratio.median, ratio.low, ratio.high, ratio.n) == (0.75, 2.0 / 5.0, 7.0 / 1.0, 3)
    assert ratio.interval == "range (min-max)"
    assert stats.ratio_interval([3.0, 6.0], [2.0, 4.0, 8.0]).n == 2  # the smaller side decides


def test_empty_input_is_an_error():
    with pytest.raises(ValueError):
        stats.median([])
    with pytest.raises(ValueError):
        stats.ratio_interval([], [1.0])


def _old_bootstrap_interval(values, confidence=0.95, seed=0):
    """The hand-written percentile bootstrap ``harness.analysis.stats`` had before it used scipy (a copy, kept
    here only as the reference the scipy intervals must reproduce)."""
    data = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    resamples = rng.choice(data, size=(stats.BOOTSTRAP_RESAMPLES, data.size), replace=True)
    medians = np.median(resamples, axis=1)
    alpha = (1.0 - confidence) / 2.0
    return float(np.quantile(medians, alpha)), float(np.quantile(medians, 1.0 - alpha))


def _old_ratio_interval(numerator, denominator, confidence=0.95, seed=0):
    a, b = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    rng = np.random.default_rng(seed)
    ra = np.median(rng.choice(a, size=(stats.BOOTSTRAP_RESAMPLES, a.size)), axis=1)
    rb = np.median(rng.choice(b, size=(stats.BOOTSTRAP_RESAMPLES, b.size)), axis=1)
    alpha = (1.0 - confidence) / 2.0
    return float(np.quantile(ra / rb, alpha)), float(np.quantile(ra / rb, 1.0 - alpha))


@pytest.mark.parametrize("n", [5, 6, 10, 33])
def test_scipy_bootstrap_intervals_match_the_old_hand_written_ones(n):
    """Same seed, same resamples, same percentile rule: the intervals agree to rounding (the committed
    report's numbers therefore do not change)."""
    rng = np.random.default_rng(n)
    a, b = rng.lognormal(size=n), rng.lognormal(size=n + 2)
    assert stats.bootstrap_interval(a) == pytest.approx(_old_bootstrap_interval(a), rel=1e-12)
    assert stats.bootstrap_interval(a, 0.9, seed=3) == pytest.approx(
        _old_bootstrap_interval(a, 0.9, seed=3), rel=1e-12
    )
    ratio = stats.ratio_interval(a, b)
    assert (ratio.low, ratio.high) == pytest.approx(_old_ratio_interval(a, b), rel=1e-12)
    assert stats.bootstrap_interval(a) == stats.bootstrap_interval(a)  # seeded: the same every time
