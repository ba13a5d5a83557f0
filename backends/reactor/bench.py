"""Micro-benchmarks of the runtime, and ``python -m backends.reactor.bench``.

Every benchmark times each round (one tag) on its own, after start-up and a warm-up, and returns
the distribution of those times (``Distribution``: median, p10, p90, p99 over the measured rounds),
never a slope between two whole runs: a slope keeps start-up noise (0.4 s of federate spawn against
0.3 ms tags) in both of its points and came out negative on a busy machine (DESIGN.md §6.12).

How a round is timed. The programs drive themselves, as a Lingua Franca program does: the first
reaction of each tag (the source's ``fire``, the driver's ``send``) reads ``time.perf_counter()``
and schedules the next tag with a logical action, and a round lasts from its reading to the next
tag's. So a round holds everything the runtime does per tag (the reactions, the barrier between
levels, the advance to the next tag, and across federates the grants and messages of both
directions) and nothing else: no assembly, federate spawn or shutdown, which come before the first
reading or after the last. The cost of the reading itself (a clock read and a list append, about
0.1 us) is in every round, the same on ``xronos`` (``backends.xronos.micro``, timed the same way).
Driving each round from outside with a physical action (``driven_round``) would add the caller's
hand-off to the runtime's per-tag cost, and xronos silently leaves fast mode when a program
declares a physical event, so the like-for-like comparison of the runtimes' own costs is the
self-driven program.

- ``chain_us_per_reaction``: a source firing once per tag and a chain of relays (per-reaction cost:
  the tag's time over the reactions of a tag);
- ``bank_round_us``: a driver broadcasting to a bank of N workers and gathering their replies by a
  multiport, one round per tag (per-round cost of the runtime itself); with ``federates``, the bank
  is spread over that many federate processes and the driver stays in the RTI's process;
- ``bank_tag_ms``: the same bank where each worker does numpy work that releases the GIL, to show
  what W worker threads buy.

Federation adds ``federated_tag_us`` (one tag across F federates with empty reactions: the
coordination cost of a tag) and ``driven_round`` (the harness's pattern: a physical action per
round, ``run_until_idle``, a broadcast of a payload that every worker copies, and the gather, each
round timed from outside, with start-up apart).

The harness's ``micro`` suite calls these functions; the module's ``__main__`` prints them.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable

import numpy as np

from .distribution import WARMUP_ROUNDS, Distribution, readings_for
from .environment import Environment
from .reactor import Reactor
from .timeunits import USEC


class _Source(Reactor):
    """Fires ``tags`` times, 1 us of logical time apart, driven by its own logical action; reads the
    clock first thing in every tag."""

    def __init__(self, tags: int):
        self.tags = tags
        self.count = 0
        self.stamps: list[float] = []
        self.out = self.output("out")
        self.again = self.logical_action("again")
        self.reaction(
            self.fire,
            triggers=[self.startup, self.again],
            effects=[self.out, self.again],
        )

    def fire(self) -> None:
        self.stamps.append(time.perf_counter())
        self.count += 1
        self.out.set(self.count)
        if self.count < self.tags:
            self.again.schedule(None, USEC)


class _Relay(Reactor):
    def __init__(self) -> None:
        self.inp = self.input("inp")
        self.out = self.output("out")
        self.reaction(self.relay, triggers=[self.inp], effects=[self.out])

    def relay(self) -> None:
        self.out.set(self.inp.value)


class _Driver(Reactor):
    """Broadcasts a value per round and gathers N replies in bank order, checking completeness;
    reads the clock first thing in every round."""

    def __init__(self, width: int, rounds: int, payload: object):
        self.rounds = rounds
        self.payload = payload
        self.count = 0
        self.gathered = 0
        self.stamps: list[float] = []
        self.out = self.output("out")
        self.replies = self.input("replies", width)
        self.again = self.logical_action("again")
        self.reaction(
            self.send,
            triggers=[self.startup, self.again],
            effects=[self.out, self.again],
        )
        self.reaction(self.gather, triggers=[self.replies])

    def send(self) -> None:
        self.stamps.append(time.perf_counter())
        self.count += 1
        self.out.set(self.payload)
        if self.count < self.rounds:
            self.again.schedule(None, USEC)

    def gather(self) -> None:
        values = self.replies.values()
        if len(values) != self.replies.width:
            raise RuntimeError("incomplete gather")
        self.gathered += 1


class _Worker(Reactor):
    """Replies with (bank index, value); with ``elements`` > 0, first runs a numpy kernel of its own."""

    def __init__(self, elements: int):
        self.work = numpy_work(elements) if elements else None
        self.inp = self.input("inp")
        self.out = self.output("out")
        self.reaction(self.reply, triggers=[self.inp], effects=[self.out])

    def reply(self) -> None:
        value = self.inp.value
        if self.work is not None:
            value = self.work(value)
        self.out.set((self.bank_index, value))


def _run(env: Environment) -> None:
    """Runs a self-driven program with the garbage collector paused (as ``timeit`` does), so that a
    collection set off by the benchmark's own small allocations does not land in its rounds."""
    env.assemble()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        env.run()
    finally:
        if gc_was_enabled:
            gc.enable()


def _chain_stamps(length: int, tags: int) -> tuple[list[float], int]:
    """Runs the chain for ``tags`` tags; returns the source's clock readings and the reactions run."""
    env = Environment(workers=1)
    source = env.create(_Source, "source", tags)
    previous = source.out
    for i in range(length):
        relay = env.create(_Relay, f"relay{i}")
        env.connect(previous, relay.inp)
        previous = relay.out
    _run(env)
    return source.stamps, env.reactions_executed


def chain_us_per_reaction(length: int = 64, tags: int = 2000, warmup: int = WARMUP_ROUNDS) -> Distribution:
    """Per-reaction cost (us) of a source plus ``length`` relays: each of ``tags`` tags after
    ``warmup`` is timed on its own and divided by its ``length + 1`` reactions."""
    total = readings_for(tags, warmup)
    stamps, executed = _chain_stamps(length, total)
    expected = total * (length + 1)
    if executed != expected or len(stamps) != total:
        raise RuntimeError(
            f"chain ran {executed} reactions in {len(stamps)} tags, expected {expected} in {total}"
        )
    per_tag = Distribution.of_rounds(stamps, warmup)
    return per_tag.scaled(1e6 / (length + 1))


def _bank_stamps(
    width: int, rounds: int, workers: int, elements: int, federates: int | None = None
) -> list[float]:
    """Runs the bank for ``rounds`` rounds; returns the driver's clock readings, one per round,
    after checking that every round was gathered complete."""
    env = Environment(workers=workers, federates=federates)
    driver = env.create(_Driver, "driver", width, rounds, 0)
    bank = env.bank(_Worker, width, "worker", elements)
    env.connect(driver.out, bank.port("inp"), broadcast=True)
    env.connect(bank.port("out"), driver.replies)
    _run(env)
    if driver.gathered != rounds or len(driver.stamps) != rounds:
        raise RuntimeError(f"gathered {driver.gathered} of {rounds} rounds")
    return driver.stamps


def _bank_rounds(
    width: int, rounds: int, warmup: int, workers: int, elements: int, federates: int | None
) -> Distribution:
    """The distribution of ``rounds`` bank rounds after ``warmup``, in seconds."""
    stamps = _bank_stamps(width, readings_for(rounds, warmup), workers, elements, federates)
    return Distribution.of_rounds(stamps, warmup)


def bank_round_us(
    width: int,
    rounds: int = 2000,
    workers: int = 1,
    federates: int | None = None,
    warmup: int = WARMUP_ROUNDS,
) -> Distribution:
    """One broadcast + gather round over a bank of ``width`` (us), each of ``rounds`` rounds after
    ``warmup`` timed on its own."""
    return _bank_rounds(width, rounds, warmup, workers, 0, federates).scaled(1e6)


def federated_tag_us(
    federates: int = 2, rounds: int = 2000, workers: int = 1, warmup: int = WARMUP_ROUNDS
) -> Distribution:
    """The coordination cost of one tag across ``federates`` federate processes (us): a driver in
    the RTI's process sends to one empty reactor per federate and gathers its reply in the same tag
    (a zero-delay cycle, so every tag takes grants, messages and reports both ways). Compare with
    ``bank_round_us(federates)``, the same program in one process."""
    return bank_round_us(federates, rounds=rounds, workers=workers, federates=federates, warmup=warmup)


KERNEL_ELEMENTS = 131_072
"""1 MiB of float64 per array: two workers' buffers stay in cache, so the kernel is compute-bound."""


def numpy_work(elements: int = KERNEL_ELEMENTS, passes: int = 5) -> Callable[[object], object]:
    """A GIL-releasing numpy kernel, about 1 ms at the defaults on this machine.

    It works in place on a buffer of its own and stays in cache: allocating temporaries would measure
    glibc's per-thread arenas (a fresh 5 MB array is about 4x cheaper on a non-main thread), and
    streaming arrays larger than the cache would measure memory bandwidth, not the runtime.
    """
    data = np.linspace(0.0, 1.0, elements)
    buffer = np.empty_like(data)

    def work(_: object) -> float:
        for _ in range(passes):
            np.multiply(data, data, out=buffer)
            np.add(buffer, 1.0, out=buffer)
            np.sqrt(buffer, out=buffer)
        return float(buffer.sum())

    return work


def bank_tag_ms(
    width: int = 16,
    rounds: int = 40,
    workers: int = 1,
    elements: int = KERNEL_ELEMENTS,
    warmup: int = 4,
) -> Distribution:
    """Wall time (ms) per tag of a bank whose workers each run ``numpy_work(elements)``, each of
    ``rounds`` tags after ``warmup`` timed on its own (a tag here is about 16 ms, so a few rounds of
    warm-up suffice)."""
    return _bank_rounds(width, rounds, warmup, workers, elements, None).scaled(1e3)


class Commander(Reactor):
    """Drives rounds from outside the program: each scheduled physical event is one round, whose
    value goes out to a bank and whose replies are gathered in bank order (the harness backend's
    driver, and this module's ``driven_round``)."""

    def __init__(self, width: int):
        self.results: list | None = None
        self.command = self.physical_action("command")
        self.out = self.output("out")
        self.replies = self.input("replies", width)
        self.reaction(self.send, triggers=[self.command], effects=[self.out])
        self.reaction(self.collect, triggers=[self.replies])

    def send(self) -> None:
        self.out.set(self.command.value)

    def collect(self) -> None:
        self.results = self.replies.values()


class _Copier(Reactor):
    """Copies the payload it receives (as the paper's workers did) and replies with its size."""

    def __init__(self) -> None:
        self.inp = self.input("inp")
        self.out = self.output("out")
        self.reaction(self.copy, triggers=[self.inp], effects=[self.out])

    def copy(self) -> None:
        self.out.set(np.array(self.inp.value, copy=True).nbytes)


def driven_round(
    payload_bytes: int = 1024,
    width: int = 16,
    federates: int | None = 2,
    rounds: int = 200,
    warmup: int = 20,
    workers: int = 1,
) -> tuple[Distribution, float]:
    """The harness's round, driven from outside: a physical action carries a ``payload_bytes``
    array, every one of ``width`` workers copies it, the driver gathers their replies. Returns the
    distribution of ms per round over ``rounds`` (after ``warmup``), each timed from the caller's
    schedule to the end of ``run_until_idle``, and the start-up in seconds (building the workers,
    processes included, and starting)."""
    started = time.perf_counter()
    env = Environment(workers=workers, federates=federates)
    try:
        driver = env.create(Commander, "driver", width)
        bank = env.bank(_Copier, width, "worker")
        env.connect(driver.out, bank.port("inp"), broadcast=True)
        env.connect(bank.port("out"), driver.replies)
        env.start()
        startup_s = time.perf_counter() - started
        payload = np.ones(max(1, payload_bytes // 8), dtype=np.float64)
        times = []
        for round_ in range(warmup + rounds):
            begin = time.perf_counter()
            driver.command.schedule(payload)
            env.run_until_idle()
            elapsed = time.perf_counter() - begin
            if driver.results != [payload.nbytes] * width:
                raise RuntimeError(f"round {round_} gathered {driver.results}")
            driver.results = None
            if round_ >= warmup:
                times.append(elapsed)
    finally:
        env.stop()
    return Distribution.of(times, warmup).scaled(1e3), startup_s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m backends.reactor.bench",
        description="Micro-benchmarks of the in-house reactor runtime, each round timed on its own "
        "after a warm-up (use `python -m harness run --suite micro` to compare with xronos in one run).",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--federated", action="store_true", help="also the federation's benchmarks")
    args = parser.parse_args(argv)
    for _ in range(args.repeats if args.federated else 0):
        print(f"tag over 2 federates:      {federated_tag_us(2).text('us')}")
        print(f"the same in one process:   {bank_round_us(2).text('us')}")
        for size in (1024, 10 << 20):
            for federates in (2, None):
                where = "F=2" if federates else "one process"
                per_round, startup_s = driven_round(
                    size, federates=federates, rounds=100 if size > 1 << 20 else 300
                )
                print(
                    f"16 workers, {size:>8} B copied, {where:<11}: {per_round.text('ms', 3)}"
                    f", start-up {startup_s:.2f} s"
                )
    for _ in range(args.repeats):
        print(f"chain(64)            {chain_us_per_reaction().text('us/reaction', 3)}")
        for width in (1, 4, 16):
            print(f"bank round N={width:<3}     {bank_round_us(width).text('us/round')}")
        one = bank_tag_ms(workers=1)
        two = bank_tag_ms(workers=2)
        print(f"numpy bank of 16 W=1 {one.text('ms/tag', 2)}")
        speedup = one.median / two.median
        print(f"numpy bank of 16 W=2 {two.text('ms/tag', 2)}  speed-up of the medians {speedup:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
