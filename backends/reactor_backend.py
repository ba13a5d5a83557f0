"""The ``reactor`` backend: the workers are a bank of reactors of the in-house runtime.

The program is the seed's shape: a driver reactor broadcasts ``(method, argument)`` to the bank,
``(driver.out)+ -> host.inp``, every host calls its worker, and the driver's second reaction gathers
the replies through the multiport ``replies[N]`` in bank order. Each operation is one logical tag,
injected through a physical action and processed on the caller's thread (``run_until_idle``), with
the bank's reactions spread over the runtime's worker threads.

The training pipeline is the seed's program itself, its rounds in logical time: a clock reactor's
timer fires once per round period (``ROUND_NS`` of logical time; the harness advances the program
one period per round with ``run_until``) and its output is broadcast to the ``go`` inputs of a bank
of rollouts, their batches reach the replay buffer through a multiport (bank order), the replay's
minibatch goes to the learner, and the learner's weights are broadcast back to the rollouts, whose
``receive_weights`` reaction is declared after ``collect``: in the same tag the rollouts collect with
the old weights and then take the new ones, so the graph has no zero-delay cycle and a round is one
tag; the learner's report is the clock's one reply.

The ``pipelined`` variant changes one connection and one trigger: ``replay.minibatch ->
learner.minibatch after 1 round`` (a delayed connection of one period), and the learner reacts to the
round's ``go`` like the rollouts, reading the delayed minibatch as a source. Its update then depends
on nothing of the current tag but ``go``: it sits at the rollouts' level, so the runtime's worker
threads run it beside the rollouts (in parallel where the GIL allows: on free-threaded Python).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .base import Backend, OperationNotSupported, PipelineSpec, WorkerFactory, WorkerFailed
from .reactor import Environment, ReactionFailed, Reactor, bench, msec
from .reactor.distribution import Distribution

HOST_NAME = re.compile(r"host\[(\d+)\]")
"""The name a worker's reactor has in the bank (``env.bank(_Host, n, "host")``): its index."""
ROUND_NS = msec(1)
"""One pipeline round per logical millisecond (any period would do: the program runs in fast mode)."""


class _Host(Reactor):
    """Owns one worker, built here so that it lives inside the reactor, like a Ray actor's state."""

    def __init__(self, factory: WorkerFactory):
        self.worker = factory(self.bank_index)
        self.inp = self.input("inp")
        self.out = self.output("out")
        self.reaction(self.call, triggers=[self.inp], effects=[self.out])

    def call(self) -> None:
        method, arg = self.inp.value
        self.out.set(getattr(self.worker, method)(arg))


class _Rollout(Reactor):
    def __init__(self, factory: WorkerFactory):
        self.worker = factory(self.bank_index)
        self.current_weights: Any = None
        self.go = self.input("go")
        self.weights = self.input("weights")
        self.batch = self.output("batch")
        self.reaction(self.collect, triggers=[self.go], effects=[self.batch])
        self.reaction(self.receive_weights, triggers=[self.weights])

    def collect(self) -> None:
        self.batch.set(self.worker.collect(self.current_weights))

    def receive_weights(self) -> None:
        self.current_weights = self.weights.value


class _Replay(Reactor):
    def __init__(self, factory: Callable[[], Any], width: int):
        self.worker = factory()
        self.batches = self.input("batches", width)
        self.minibatch = self.output("minibatch")
        self.reaction(self.sample, triggers=[self.batches], effects=[self.minibatch])

    def sample(self) -> None:
        self.minibatch.set(self.worker.store_and_sample(self.batches.values()))


class _Learner(Reactor):
    """Sync: triggered by the round's minibatch. Pipelined: triggered by the round's ``go``, with last
    round's minibatch (a delayed connection; absent in round 1) read as a source."""

    def __init__(self, factory: Callable[[], Any], pipelined: bool):
        self.worker = factory()
        self.go = self.input("go")
        self.minibatch = self.input("minibatch")
        self.weights = self.output("weights")
        self.report = self.output("report")
        effects = [self.weights, self.report]
        if pipelined:
            self.reaction(self.update, triggers=[self.go], sources=[self.minibatch], effects=effects)
        else:
            self.reaction(self.update, triggers=[self.minibatch], effects=effects)

    def update(self) -> None:
        weights, report = self.worker.update(self.minibatch.get(None))
        self.weights.set(weights)
        self.report.set(report)


class _RoundClock(Reactor):
    """Starts a round every ``ROUND_NS`` of logical time and takes the learner's report."""

    def __init__(self) -> None:
        self.report: Any = None
        self.tick = self.timer("tick", offset=ROUND_NS, period=ROUND_NS)
        self.go = self.output("go")
        self.reports = self.input("reports")
        self.reaction(self.start_round, triggers=[self.tick], effects=[self.go])
        self.reaction(self.take_report, triggers=[self.reports])

    def start_round(self) -> None:
        self.go.set(True)

    def take_report(self) -> None:
        self.report = self.reports.value


class ReactorBackend(Backend):
    name = "reactor"
    description = "in-house reactor runtime: a bank of reactors, one logical tag per operation"
    plot_style = ("tab:red", "D")
    operations = frozenset({"call_all", "micro", "pipeline"})

    def _environment(self) -> Environment:
        """The program every operation runs in: one process here, federated in ``reactor-fed``."""
        return Environment(workers=self.threads, fast=True)

    def start(self, factory: WorkerFactory, n_workers: int) -> None:
        self.n_workers = n_workers
        self._env = self._environment()
        self._driver = self._env.create(bench.Commander, "driver", n_workers)
        hosts = self._env.bank(_Host, n_workers, "host", factory)
        self._env.connect(self._driver.out, hosts.port("inp"), broadcast=True)
        self._env.connect(hosts.port("out"), self._driver.replies)
        self._env.start()

    @property
    def threads(self) -> int:
        return max(1, self.options.threads)

    def call_all(self, method: str, arg: Any = None) -> list[Any]:
        return self._round((method, arg), method)

    def _round(self, command: Any, what: str) -> list[Any]:
        """One tag: the driver broadcasts ``command`` and gathers the replies in worker order."""
        driver = self._driver
        driver.command.schedule(command)
        try:
            self._env.run_until_idle()
        except ReactionFailed as error:
            host = HOST_NAME.fullmatch(error.reactor)
            if host is None:
                raise
            raise WorkerFailed(int(host.group(1)), error) from error
        results, driver.results = driver.results, None
        if results is None:
            raise RuntimeError(f"reactor round for {what!r} ended without gathering replies")
        return results

    def start_pipeline(self, spec: PipelineSpec) -> None:
        self.n_workers = spec.n_rollouts
        env = self._env = self._environment()
        self._clock = env.create(_RoundClock, "clock")
        # Created before the rollouts: a level's reactions are handed to the worker threads in
        # creation order, so the pipelined learner (the longest reaction) starts first.
        learner = env.create(_Learner, "learner", spec.learner, spec.pipelined)
        rollouts = env.bank(_Rollout, spec.n_rollouts, "rollout", spec.rollout)
        replay = env.create(_Replay, "replay", spec.replay, spec.n_rollouts)
        env.connect(self._clock.go, rollouts.port("go"), broadcast=True)
        env.connect(rollouts.port("batch"), replay.batches)
        if spec.pipelined:
            env.connect(self._clock.go, learner.go)
            env.connect(replay.minibatch, learner.minibatch, delay=ROUND_NS)
        else:
            env.connect(replay.minibatch, learner.minibatch)
        env.connect(learner.weights, rollouts.port("weights"), broadcast=True)
        env.connect(learner.report, self._clock.reports)
        env.start(process_startup=False)
        env.run_until(0)
        self._rounds = 0

    def pipeline_round(self) -> Any:
        """Advances logical time by one round: the tag of round r is at r * ROUND_NS."""
        self._rounds += 1
        clock = self._clock
        self._env.run_until(self._rounds * ROUND_NS)
        report, clock.report = clock.report, None
        if report is None:
            raise RuntimeError(f"reactor pipeline round {self._rounds} ended without the learner's report")
        return report

    def micro(self, program: str, size: int, workers: int) -> Distribution:
        if program == "chain":
            return bench.chain_us_per_reaction(length=size)
        if program == "bank":
            return bench.bank_round_us(size, workers=workers)
        if program == "numpy-bank":
            return bench.bank_tag_ms(width=size, workers=workers).scaled(1000.0)
        raise OperationNotSupported(f"unknown micro program {program!r}")

    def shutdown(self) -> None:
        env = getattr(self, "_env", None)
        if env is not None:
            self._env = None
            env.stop()

    def describe(self) -> dict[str, Any]:
        return {"threads": self.threads, "runtime": "in-house reactor (fast mode)"}
