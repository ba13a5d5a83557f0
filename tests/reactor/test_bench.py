"""The micro-benchmarks run at tiny sizes, return positive numbers, and their checks catch mistakes."""

from __future__ import annotations

import pytest

from backends.reactor import AbsentValueError, ReactionFailed, bench


def test_chain_us_per_reaction_is_positive():
    assert bench.chain_us_per_reaction(length=4, tags=400) > 0


def test_chain_counts_its_reactions():
    seconds, executed = bench._chain_seconds(length=4, tags=40)
    assert seconds > 0
    assert executed == 40 * (4 + 1)


def test_chain_consistency_check_rejects_a_wrong_reaction_count(monkeypatch):
    real = bench._chain_seconds
    monkeypatch.setattr(bench, "_chain_seconds", lambda length, tags: (real(length, tags)[0], tags))
    with pytest.raises(RuntimeError, match=r"chain ran \d+ reactions, expected 1500"):
        bench.chain_us_per_reaction(length=4, tags=400)


@pytest.mark.parametrize("workers", [1, 2])
def test_bank_round_us_is_positive(workers):
    assert bench.bank_round_us(4, rounds=200, workers=workers) > 0


def test_bank_tag_ms_is_positive():
    assert bench.bank_tag_ms(width=4, rounds=8, workers=2, elements=4096) > 0


def test_bank_checks_that_every_round_was_gathered(monkeypatch):
    monkeypatch.setattr(bench._Driver, "gather", lambda self: None)
    with pytest.raises(RuntimeError, match=r"gathered 0 of 10 rounds"):
        bench._bank_seconds(width=3, rounds=10, workers=1, elements=0)


def test_a_worker_that_does_not_reply_fails_the_gather(monkeypatch):
    real_reply = bench._Worker.reply

    def reply(self):
        if self.bank_index != 1:
            real_reply(self)

    monkeypatch.setattr(bench._Worker, "reply", reply)
    with pytest.raises(ReactionFailed, match=r"'gather' of reactor 'driver'") as info:
        bench._bank_seconds(width=3, rounds=10, workers=1, elements=0)
    assert isinstance(info.value.__cause__, AbsentValueError)
    assert "driver.replies[1] is absent" in str(info.value.__cause__)


def test_numpy_work_is_deterministic():
    first = bench.numpy_work(elements=1024, passes=2)
    second = bench.numpy_work(elements=1024, passes=2)
    assert first(None) == second(None) > 0
