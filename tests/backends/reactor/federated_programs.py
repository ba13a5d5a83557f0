"""Programs the federation tests run in one process and federated (module level, so that federate
processes can import their classes), each returning what it observed for comparison."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import numpy as np

from backends.reactor import Environment, Federation, Reactor, msec

WIDTH = 6
ROUNDS = 5
DIM = 8


def digest(*arrays: Any) -> str:
    h = hashlib.sha256()
    for array in arrays:
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()[:16]


class Driver(Reactor):
    """Starts a round every millisecond; records the learner's reports and, at shutdown, each
    rollout's summary (in bank order)."""

    def __init__(self, width: int):
        self.tick = self.timer("tick", offset=0, period=msec(1))
        self.go = self.output("go")
        self.reports = self.input("reports")
        self.summaries = self.input("summaries", width)
        self.trace: list = []
        self.reaction(self.start_round, triggers=[self.tick], effects=[self.go])
        self.reaction(self.record, triggers=[self.reports])
        self.reaction(self.collect, triggers=[self.summaries])

    def start_round(self) -> None:
        self.go.set(self.tag[0] // msec(1))

    def record(self) -> None:
        self.trace.append((self.tag, self.reports.value))

    def collect(self) -> None:
        self.trace.append((self.tag, "summaries", self.summaries.values()))


class Rollout(Reactor):
    """Collects with its current weights (``collect``), refines a microstep later through a logical
    action scheduled twice, and takes new weights in the same tag after collecting: the zero-delay
    cycle rollout -> replay -> learner -> rollout is acyclic at the reaction level."""

    def __init__(self, pid_log: bool = False):
        self.rng = np.random.default_rng(100 + self.bank_index)
        self.weights_now = np.zeros((DIM, 2))
        self.go = self.input("go")
        self.weights = self.input("weights")
        self.batch = self.output("batch")
        self.summary = self.output("summary")
        self.refine = self.logical_action("refine")
        self.log: list = []
        self.pid_log = pid_log
        self.reaction(self.collect, triggers=[self.go], effects=[self.refine])
        self.reaction(self.on_refine, triggers=[self.refine], effects=[self.batch])
        self.reaction(self.receive_weights, triggers=[self.weights])
        self.reaction(self.report, triggers=[self.shutdown], effects=[self.summary])

    def collect(self) -> None:
        obs = self.rng.normal(size=(4, DIM))
        self.refine.schedule(("first", obs))
        self.refine.schedule(("second", obs @ self.weights_now))  # the next microstep, not lost

    def on_refine(self) -> None:
        kind, data = self.refine.value
        self.log.append((self.tag, kind, digest(data)))
        if kind == "second":
            self.batch.set((self.bank_index, data + self.rng.uniform(size=data.shape)))

    def receive_weights(self) -> None:
        self.weights_now = self.weights.value
        self.log.append((self.tag, "weights", digest(self.weights_now)))

    def report(self) -> None:
        value = (self.bank_index, hashlib.sha256(repr(self.log).encode()).hexdigest()[:16], len(self.log))
        if self.pid_log:
            value = (*value, os.getpid())
        self.summary.set(value)


class Replay(Reactor):
    def __init__(self, width: int):
        self.rng = np.random.default_rng(7)
        self.batches = self.input("batches", width)
        self.minibatch = self.output("minibatch")
        self.reaction(self.sample, triggers=[self.batches], effects=[self.minibatch])

    def sample(self) -> None:
        batches = self.batches.values()
        assert [b[0] for b in batches] == list(range(len(batches))), "gather out of bank order"
        stacked = np.concatenate([b[1] for b in batches])
        self.minibatch.set(stacked[self.rng.choice(len(stacked), size=8)])


class Learner(Reactor):
    def __init__(self):
        self.w = np.zeros((2, 2))
        self.minibatch = self.input("minibatch")
        self.weights = self.output("weights")
        self.report = self.output("report")
        self.reaction(self.update, triggers=[self.minibatch], effects=[self.weights, self.report])

    def update(self) -> None:
        batch = self.minibatch.value
        self.w = np.tanh(self.w + batch.T @ batch / 10)
        self.weights.set(np.tile(self.w, (DIM // 2, 1)))
        self.report.set(digest(self.w))


def pipeline(workers: int = 1, federates: Any = None, placement: Any = None, rounds: int = ROUNDS) -> list:
    """The training pipeline's shape with a zero-delay cycle through the federates."""
    if federates is not None and placement is not None:
        federates = Federation(federates, placement=placement)
    env = Environment(workers=workers, timeout=msec(rounds - 1), federates=federates)
    driver = env.create(Driver, "driver", WIDTH)
    rollouts = env.bank(Rollout, WIDTH, "rollout")
    replay = env.create(Replay, "replay", WIDTH)
    learner = env.create(Learner, "learner")
    env.connect(driver.go, rollouts.port("go"), broadcast=True)
    env.connect(rollouts.port("batch"), replay.batches)
    env.connect(replay.minibatch, learner.minibatch)
    env.connect(learner.weights, rollouts.port("weights"), broadcast=True)
    env.connect(learner.report, driver.reports)
    env.connect(rollouts.port("summary"), driver.summaries)
    env.run()
    return driver.trace


class Params(Reactor):
    """The delayed-broadcast program of test_determinism: parameters out one millisecond later."""

    def __init__(self, width: int, rounds: int):
        self.rng = np.random.default_rng(7)
        self.rounds = rounds
        self.results = self.input("results", width)
        self.params = self.output("params")
        self.trace: list = []
        self.reaction(self.init, triggers=[self.startup], effects=[self.params])
        self.reaction(self.learn, triggers=[self.results], effects=[self.params])

    def init(self) -> None:
        self.params.set(self.rng.normal(size=(DIM, DIM)) * 0.1)

    def learn(self) -> None:
        stacked = np.stack(self.results.values())
        weights = np.arange(1, len(stacked) + 1)[:, None]
        params = np.tanh(np.outer(stacked.mean(axis=0), (stacked * weights).sum(axis=0)))
        self.trace.append((self.tag, digest(stacked), digest(params)))
        if len(self.trace) < self.rounds:
            self.params.set(params)


class Mapper(Reactor):
    def __init__(self):
        self.rng = np.random.default_rng(1000 + self.bank_index)
        self.params = self.input("params")
        self.result = self.output("result")
        self.reaction(self.compute, triggers=[self.params], effects=[self.result])

    def compute(self) -> None:
        x = self.rng.normal(size=(DIM, DIM))
        self.result.set(np.tanh(x @ self.params.value).sum(axis=0))


def delayed_broadcast(workers: int = 1, federates: Any = None, rounds: int = 4) -> list:
    """No zero-delay cycle: the parameters go out through a delayed connection (plain grants)."""
    env = Environment(workers=workers, federates=federates)
    params = env.create(Params, "params", 8, rounds)
    bank = env.bank(Mapper, 8, "mapper")
    env.connect(params.params, bank.port("params"), broadcast=True, delay=msec(1))
    env.connect(bank.port("result"), params.results)
    env.run()
    return params.trace


# ----- the harness's driver pattern: one logical tag per operation, driven from outside ------------


class Commander(Reactor):
    """The reactor backend's driver: a physical action carries each command; replies in bank order."""

    def __init__(self, width: int):
        self.results: list | None = None
        self.command = self.physical_action("command")
        self.out = self.output("out")
        self.replies = self.input("replies", width)
        self.shutdowns = 0
        self.reaction(self.send, triggers=[self.command], effects=[self.out])
        self.reaction(self.collect, triggers=[self.replies])
        self.reaction(self.on_shutdown, triggers=[self.shutdown])

    def send(self) -> None:
        self.out.set(self.command.value)

    def collect(self) -> None:
        self.results = self.replies.values()

    def on_shutdown(self) -> None:
        self.shutdowns += 1


class Worker:
    """A worker as the harness builds them: from a picklable factory, inside its federate."""

    def __init__(self, index: int, fail_on: str | None = None):
        self.index = index
        self.pid = os.getpid()
        self.fail_on = fail_on
        self.state = np.random.default_rng(index).normal(size=4)

    def step(self, k: int) -> tuple[int, float]:
        self.state = np.tanh(self.state + k)
        return self.index, float(self.state.sum())

    def where(self, _: Any) -> int:
        return self.pid

    def copy(self, payload: np.ndarray) -> tuple[int, int, bool]:
        mine = payload.copy()
        return self.index, int(mine[-1]), bool(payload.flags.writeable)

    def boom(self, _: Any) -> None:
        if self.fail_on == "boom" and self.index == 3:
            raise ValueError(f"worker {self.index} exploded")

    def die(self, _: Any) -> None:
        if self.index == 3:
            os.kill(os.getpid(), 9)


def make_worker(index: int, fail_on: str | None = None) -> Worker:
    return Worker(index, fail_on)


def fragile_worker(index: int) -> Worker:
    if index == 1:
        raise ValueError(f"worker {index} cannot start")
    return Worker(index)


class Host(Reactor):
    """Owns one worker, built here (in its federate) from the factory."""

    def __init__(self, factory: Any, *args: Any):
        self.worker = factory(self.bank_index, *args)
        self.inp = self.input("inp")
        self.out = self.output("out")
        self.reaction(self.call, triggers=[self.inp], effects=[self.out])

    def call(self) -> None:
        method, arg = self.inp.value
        self.out.set(getattr(self.worker, method)(arg))


def driven(width: int, workers: int = 1, federates: Any = None, *args: Any) -> tuple[Environment, Commander]:
    """Starts the driver-pattern program; the caller runs rounds with ``round_``."""
    env = Environment(workers=workers, fast=True, federates=federates)
    driver = env.create(Commander, "driver", width)
    hosts = env.bank(Host, width, "host", make_worker, *args)
    env.connect(driver.out, hosts.port("inp"), broadcast=True)
    env.connect(hosts.port("out"), driver.replies)
    env.start()
    return env, driver


def round_(env: Environment, driver: Commander, method: str, arg: Any = None) -> list:
    driver.command.schedule((method, arg))
    env.run_until_idle()
    results, driver.results = driver.results, None
    return results


# ----- stop, starvation and timers across federates ------------------------------------------------


class Clock(Reactor):
    def __init__(self):
        self.tick = self.timer("tick", offset=0, period=msec(1))
        self.out = self.output("out")
        self.reaction(self.on_tick, triggers=[self.tick], effects=[self.out])

    def on_tick(self) -> None:
        self.out.set(None)


class Ticker(Reactor):
    """Counts its ticks (its own timer, or a clock's output when ``clocked``); member ``stopper``
    requests a stop at its tick ``stop_at``."""

    def __init__(self, stopper: int = -1, stop_at: int = 3, clocked: bool = False):
        self.stopper = stopper
        self.stop_at = stop_at
        self.ticks = 0
        self.tick = self.input("tick") if clocked else self.timer("tick", offset=0, period=msec(1))
        self.out = self.output("out")
        self.log = self.output("log")
        self.reaction(self.on_tick, triggers=[self.tick], effects=[self.out])
        self.reaction(self.on_shutdown, triggers=[self.shutdown], effects=[self.log])

    def on_tick(self) -> None:
        self.ticks += 1
        self.out.set(self.ticks)
        if self.bank_index == self.stopper and self.ticks == self.stop_at:
            self.request_stop()

    def on_shutdown(self) -> None:
        self.log.set((self.bank_index, self.ticks, self.tag))


class Tally(Reactor):
    def __init__(self, width: int):
        self.ins = self.input("ins", width)
        self.logs = self.input("logs", width)
        self.seen: list = []
        self.final: list = []
        self.reaction(self.record, triggers=[self.ins])
        self.reaction(self.record_final, triggers=[self.logs])

    def record(self) -> None:
        self.seen.append((self.tag, [v for _, v in self.ins.present()]))

    def record_final(self) -> None:
        self.final = (self.tag, self.logs.values())


def tickers(
    width: int, federates: Any = None, stopper: int = -1, timeout: int | None = None, clocked: bool = False
) -> Tally:
    """Free-running tickers (their own timers), or ``clocked`` by a clock in the RTI's process (then
    they form a zero-delay cycle with the tally there and process each tag together)."""
    env = Environment(federates=federates, timeout=timeout)
    bank = env.bank(Ticker, width, "ticker", stopper, clocked=clocked)
    tally = env.create(Tally, "tally", width)
    if clocked:
        clock = env.create(Clock, "clock")
        env.connect(clock.out, bank.port("tick"), broadcast=True)
    env.connect(bank.port("out"), tally.ins)
    env.connect(bank.port("log"), tally.logs)
    env.run()
    return tally


class Chain(Reactor):
    """A logical-action chain of ``steps`` events 1 ms apart, then nothing: the program starves."""

    def __init__(self, steps: int):
        self.steps = steps
        self.n = 0
        self.act = self.logical_action("act")
        self.out = self.output("out")
        self.reaction(self.kick, triggers=[self.startup], effects=[self.act])
        self.reaction(self.step, triggers=[self.act], effects=[self.act, self.out])

    def kick(self) -> None:
        self.act.schedule(None, msec(1))

    def step(self) -> None:
        self.n += 1
        self.out.set(self.n)
        if self.n < self.steps:
            self.act.schedule(None, msec(1))


class Last(Reactor):
    def __init__(self):
        self.inp = self.input("inp")
        self.seen: list = []
        self.ended: list = []
        self.reaction(self.record, triggers=[self.inp])
        self.reaction(self.on_shutdown, triggers=[self.shutdown])

    def record(self) -> None:
        self.seen.append((self.tag, self.inp.value))

    def on_shutdown(self) -> None:
        self.ended.append(self.tag)


def starving(federates: Any = None, timeout: int | None = None, fast: bool = True) -> Last:
    env = Environment(federates=federates, timeout=timeout, fast=fast)
    chain = env.bank(Chain, 1, "chain", 3)
    last = env.create(Last, "last")
    env.connect(chain.port("out"), last.inp)
    env.run()
    return last
