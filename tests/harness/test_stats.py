import math

import pytest

from harness import stats


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
    assert ratio.interval == "range"
    assert stats.ratio_interval([3.0, 6.0], [2.0, 4.0, 8.0]).n == 2  # the smaller side decides


def test_empty_input_is_an_error():
    with pytest.raises(ValueError):
        stats.median([])
    with pytest.raises(ValueError):
        stats.ratio_interval([], [1.0])
