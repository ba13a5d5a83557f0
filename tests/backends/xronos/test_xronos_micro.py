"""xronos's micro-benchmarks time each tag on its own, as the in-house runtime's do, and return the
distribution of exactly the rounds asked for."""

from __future__ import annotations

import pytest

pytest.importorskip("xronos")

from backends.xronos import micro as xronos_micro


def test_bank_round_us_is_a_distribution_of_the_rounds_asked_for():
    d = xronos_micro.bank_round_us(3, rounds=150, warmup=10)
    assert (d.count, d.warmup) == (150, 10)
    assert 0 < d.minimum <= d.p10 <= d.median <= d.p90 <= d.p99 <= d.maximum


def test_chain_us_per_reaction_is_a_distribution_of_the_tags_asked_for():
    d = xronos_micro.chain_us_per_reaction(length=4, tags=150, warmup=10)
    assert (d.count, d.warmup) == (150, 10)
    assert 0 < d.minimum <= d.p10 <= d.median <= d.p90 <= d.p99 <= d.maximum


def test_the_programs_read_the_clock_once_per_tag_and_run_every_reaction():
    stamps, reactions = xronos_micro._run_bank(3, 20, count=True)
    assert len(stamps) == 20 and stamps == sorted(stamps)
    assert reactions == 20 * (3 + 2)
    stamps, reactions = xronos_micro._run_chain(3, 20, count=True)
    assert len(stamps) == 20 and reactions == 20 * (3 + 1)


def test_a_warm_up_that_leaves_no_round_is_refused():
    with pytest.raises(ValueError, match="rounds must be >= 1"):
        xronos_micro.bank_round_us(2, rounds=0)
