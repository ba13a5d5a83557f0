"""The per-level choice between the worker pool and the caller's thread (backends/reactor/modes.py)."""

from backends.reactor.modes import LevelModes


def _settle(modes: LevelModes, parallel_s: list[float], inline_s: list[float]) -> None:
    for seconds in parallel_s:
        assert modes.parallel(0)
        modes.record(0, True, seconds)
    for seconds in inline_s:
        assert not modes.parallel(0)
        modes.record(0, False, seconds)


def test_a_cold_first_parallel_run_does_not_condemn_the_pool():
    """The first run pays one-time costs: it seeds the time, the second replaces it."""
    modes = LevelModes(1)
    _settle(modes, parallel_s=[10.0, 1.0], inline_s=[2.0, 2.0])
    assert [modes.parallel(0) for _ in range(5)] == [True] * 5


def test_a_level_the_pool_slows_down_runs_inline_and_is_retried_rarely():
    modes = LevelModes(1)
    _settle(modes, parallel_s=[5.0, 5.0], inline_s=[1.0, 1.0])  # a GIL-bound level: 5x slower on the pool
    choices = [modes.parallel(0) for _ in range(200)]
    assert choices.count(True) == 0  # clearly slower: not re-tried within a thousand runs


def test_a_close_call_is_retried_after_eight_runs():
    modes = LevelModes(1)
    _settle(modes, parallel_s=[1.1, 1.1], inline_s=[1.0, 1.0])
    choices = [modes.parallel(0) for _ in range(8)]
    assert choices == [False] * 7 + [True]
