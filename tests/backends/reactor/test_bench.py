"""The micro-benchmarks time each round on its own after start-up and warm-up, return the
distribution of exactly the rounds asked for, and their checks catch mistakes."""

from __future__ import annotations

import time

import pytest

from backends.reactor import AbsentValueError, Environment, ReactionFailed, bench
from backends.reactor.distribution import Distribution, readings_for, round_intervals

SLOW_S = 0.1
"""A deliberately slow round: far above any round of these tiny programs, even at 2x load."""


def assert_a_distribution_of(d: Distribution, rounds: int, warmup: int) -> None:
    assert d.count == rounds and d.warmup == warmup
    assert 0 < d.minimum <= d.p10 <= d.median <= d.p90 <= d.p99 <= d.maximum


def test_percentiles_are_measured_samples_by_nearest_rank():
    d = Distribution.of([float(v) for v in reversed(range(1, 101))], warmup=7)
    assert (d.p10, d.median, d.p90, d.p99, d.minimum, d.maximum) == (10.0, 50.0, 90.0, 99.0, 1.0, 100.0)
    assert (d.count, d.warmup) == (100, 7)
    assert Distribution.of([3.0]).p99 == Distribution.of([3.0]).p10 == 3.0
    assert d.scaled(2.0).median == 100.0 and d.scaled(2.0).count == 100
    with pytest.raises(ValueError, match="no samples"):
        Distribution.of([])


def test_rounds_go_from_one_reading_to_the_next_after_the_warm_up():
    stamps = [0.0, 5.0, 5.5, 6.5, 8.5]
    assert round_intervals(stamps, warmup=0) == [5.0, 0.5, 1.0, 2.0]
    assert round_intervals(stamps, warmup=2) == [1.0, 2.0]
    assert readings_for(rounds=2, warmup=2) == len(stamps)
    with pytest.raises(ValueError, match="no round after a warm-up of 4"):
        round_intervals(stamps, warmup=4)
    with pytest.raises(ValueError, match="rounds must be >= 1"):
        readings_for(rounds=0, warmup=1)


def test_chain_us_per_reaction_is_a_distribution_of_the_tags_asked_for():
    assert_a_distribution_of(bench.chain_us_per_reaction(length=4, tags=300, warmup=10), 300, 10)


def test_chain_counts_its_reactions_and_reads_the_clock_once_per_tag():
    stamps, executed = bench._chain_stamps(length=4, tags=40)
    assert len(stamps) == 40 and stamps == sorted(stamps)
    assert executed == 40 * (4 + 1)


def test_chain_consistency_check_rejects_a_wrong_reaction_count(monkeypatch):
    real = bench._chain_stamps
    monkeypatch.setattr(bench, "_chain_stamps", lambda length, tags: (real(length, tags)[0], tags))
    with pytest.raises(RuntimeError, match=r"chain ran 411 reactions in 411 tags, expected 2055 in 411"):
        bench.chain_us_per_reaction(length=4, tags=400, warmup=10)


@pytest.mark.parametrize("workers", [1, 2])
def test_bank_round_us_is_a_distribution_of_the_rounds_asked_for(workers):
    assert_a_distribution_of(bench.bank_round_us(4, rounds=200, workers=workers, warmup=20), 200, 20)


def test_slow_warm_up_rounds_do_not_move_the_distribution(monkeypatch):
    """The first 12 rounds sleep; with 8 measured rounds after them, counting them in would move the
    median (12 slow rounds of 20)."""
    real_reply = bench._Worker.reply
    replies = []

    def reply(self):
        replies.append(None)
        if len(replies) <= 12:
            time.sleep(SLOW_S)
        real_reply(self)

    monkeypatch.setattr(bench._Worker, "reply", reply)
    d = bench.bank_round_us(1, rounds=8, warmup=12)
    assert_a_distribution_of(d, 8, 12)
    assert d.median < SLOW_S * 1e6
    assert len(replies) == 12 + 8 + 1


def test_a_slow_start_up_is_outside_every_round(monkeypatch):
    """A start-up 0.2 s slower in one run (as spawning federates, which ``start`` does, can be) is in
    no measured round: a slope between two runs would come out negative here."""
    real_start = Environment.start
    calls = []

    def start(self, **kwargs):
        calls.append(None)
        if len(calls) == 1:
            time.sleep(2 * SLOW_S)
        real_start(self, **kwargs)

    monkeypatch.setattr(Environment, "start", start)
    d = bench.bank_round_us(2, rounds=200, warmup=10)
    assert_a_distribution_of(d, 200, 10)
    assert d.maximum < 2 * SLOW_S * 1e6  # a round holding the sleep would last at least this


def test_bank_tag_ms_is_a_distribution_of_the_tags_asked_for():
    assert_a_distribution_of(bench.bank_tag_ms(width=4, rounds=8, workers=2, elements=4096, warmup=2), 8, 2)


def test_federated_tag_us_is_a_distribution_of_the_rounds_asked_for():
    assert_a_distribution_of(bench.federated_tag_us(2, rounds=50, warmup=5), 50, 5)


def test_driven_round_is_a_distribution_of_the_rounds_asked_for():
    per_round, startup_s = bench.driven_round(1024, width=2, federates=None, rounds=10, warmup=3)
    assert_a_distribution_of(per_round, 10, 3)
    assert startup_s > 0


def test_bank_checks_that_every_round_was_gathered(monkeypatch):
    monkeypatch.setattr(bench._Driver, "gather", lambda self: None)
    with pytest.raises(RuntimeError, match=r"gathered 0 of 10 rounds"):
        bench._bank_stamps(width=3, rounds=10, workers=1, elements=0)


def test_a_worker_that_does_not_reply_fails_the_gather(monkeypatch):
    real_reply = bench._Worker.reply

    def reply(self):
        if self.bank_index != 1:
            real_reply(self)

    monkeypatch.setattr(bench._Worker, "reply", reply)
    with pytest.raises(ReactionFailed, match=r"'gather' of reactor 'driver'") as info:
        bench.bank_round_us(3, rounds=10, warmup=0)
    assert isinstance(info.value.__cause__, AbsentValueError)
    assert "driver.replies[1] is absent" in str(info.value.__cause__)


def test_numpy_work_is_deterministic():
    first = bench.numpy_work(elements=1024, passes=2)
    second = bench.numpy_work(elements=1024, passes=2)
    assert first(None) == second(None) > 0
