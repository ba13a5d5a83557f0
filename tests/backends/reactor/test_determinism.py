"""Determinism for every worker count, and a behavioural check that the pool really runs concurrently."""

from __future__ import annotations

import hashlib
import random
import threading
import time

import numpy as np
import pytest

from backends.reactor import Environment, ReactionFailed, Reactor, msec

WIDTH = 16
ROUNDS = 4
DIM = 24
_timing = random.Random()  # unseeded on purpose: it perturbs only timing, never results


def digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()[:16]


def jitter() -> None:
    """Sleeps a random fraction of a millisecond so that threads finish in a different order each run."""
    time.sleep(_timing.random() * 5e-4)


class Worker(Reactor):
    """Per round: a numpy step on the broadcast parameters, then a refinement one microstep later."""

    def __init__(self):
        self.rng = np.random.default_rng(1000 + self.bank_index)
        self.params = self.input("params")
        self.result = self.output("result")
        self.refine = self.logical_action("refine")
        self.trace: list = []
        self.reaction(self.on_params, triggers=[self.params], effects=[self.refine])
        self.reaction(self.on_refine, triggers=[self.refine], effects=[self.result])

    def on_params(self) -> None:
        params = self.params.value
        jitter()
        x = self.rng.normal(size=(DIM, DIM))
        hidden = np.tanh(x @ params)
        self.trace.append((self.tag, "params", digest(params), digest(hidden)))
        self.refine.schedule(hidden)

    def on_refine(self) -> None:
        hidden = self.refine.value
        jitter()
        out = (hidden * self.rng.uniform(size=hidden.shape)).sum(axis=0) / DIM
        self.trace.append((self.tag, "refine", digest(out)))
        self.result.set(out)


class Learner(Reactor):
    """Gathers the bank's results in bank order, combines them, broadcasts new parameters."""

    def __init__(self):
        self.rng = np.random.default_rng(7)
        self.results = self.input("results", WIDTH)
        self.params = self.output("params")
        self.rounds = 0
        self.trace: list = []
        self.reaction(self.init, triggers=[self.startup], effects=[self.params])
        self.reaction(self.learn, triggers=[self.results], effects=[self.params])

    def init(self) -> None:
        self.params.set(self.rng.normal(size=(DIM, DIM)) * 0.1)

    def learn(self) -> None:
        stacked = np.stack(self.results.values())  # (WIDTH, DIM), bank order
        weights = np.arange(1, WIDTH + 1)[:, None]  # order-sensitive: a permutation changes the result
        update = np.outer(stacked.mean(axis=0), (stacked * weights).sum(axis=0))
        params = np.tanh(update + self.rng.normal(size=(DIM, DIM)) * 0.01)
        self.rounds += 1
        self.trace.append((self.tag, digest(stacked), digest(params)))
        if self.rounds < ROUNDS:
            self.params.set(params)


def run_program(workers: int) -> tuple:
    env = Environment(workers=workers)
    learner = env.create(Learner, "learner")
    bank = env.bank(Worker, WIDTH, "worker")
    env.connect(learner.params, bank.port("params"), broadcast=True, delay=msec(1))
    env.connect(bank.port("result"), learner.results)
    env.run()
    traces = {member.fqn: member.trace for member in bank}
    traces[learner.fqn] = learner.trace
    return traces, env.reactions_executed, env.tags_processed


@pytest.mark.timeout(60)
def test_traces_are_identical_for_every_worker_count_and_run():
    reference, reactions, tags = run_program(1)
    assert len(reference["learner"]) == ROUNDS
    assert [entry[0] for entry in reference["learner"]] == [(msec(r), 1) for r in range(1, ROUNDS + 1)]
    assert all(len(reference[f"worker[{i}]"]) == 2 * ROUNDS for i in range(WIDTH))
    # the workers' RNGs differ, so their traces do too: equality below is not vacuous
    assert len({str(reference[f"worker[{i}]"]) for i in range(WIDTH)}) == WIDTH
    for workers in (1, 2, 4, 8):
        for _ in range(3):
            traces, executed, processed = run_program(workers)
            assert traces == reference, f"workers={workers}"
            assert (executed, processed) == (reactions, tags)


class Meet(Reactor):
    """Blocks on a shared barrier: passes only if the other member's reaction runs at the same time."""

    def __init__(self, barrier: threading.Barrier):
        self.barrier = barrier
        self.passed = False
        self.reaction(self.meet, triggers=[self.startup])

    def meet(self) -> None:
        self.barrier.wait()
        self.passed = True


@pytest.mark.timeout(60)
@pytest.mark.parametrize("width", [2, 4])
def test_reactions_of_one_level_run_concurrently_on_the_pool(width):
    env = Environment(workers=width)
    bank = env.bank(Meet, width, "meet", threading.Barrier(width, timeout=5))
    env.run()  # would raise (BrokenBarrierError after 5 s) if the reactions ran one after another
    assert all(member.passed for member in bank)


@pytest.mark.timeout(60)
def test_the_barrier_program_does_break_when_run_serially():
    """The control for the test above: with workers=1 the first reaction waits alone and times out."""
    env = Environment(workers=1)
    env.bank(Meet, 2, "meet", threading.Barrier(2, timeout=0.2))
    with pytest.raises(ReactionFailed) as info:
        env.run()
    assert isinstance(info.value.__cause__, threading.BrokenBarrierError)
