"""Micro-benchmark programs of the runtime, and ``python -m backends.reactor.bench``.

Three programs, each timed with the slope method (two runs of different length, the difference
divided by the extra work) so that assembly, startup and shutdown cancel out:

- ``chain_us_per_reaction``: a source firing once per tag and a chain of relays (per-reaction cost);
- ``bank_round_us``: a driver broadcasting to a bank of N workers and gathering their replies by a
  multiport, one round per tag (per-round cost of the runtime itself); with ``federates``, the bank
  is spread over that many federate processes and the driver stays in the RTI's process;
- ``bank_tag_ms``: the same bank where each worker does numpy work that releases the GIL, to show
  what W worker threads buy.

Federation adds ``federated_tag_us`` (one tag across F federates with empty reactions: the
coordination cost of a tag) and ``driven_round`` (the harness's pattern: a physical action per
round, ``run_until_idle``, a broadcast of a payload that every worker copies, and the gather; the
median per round, with start-up apart).

The harness's ``micro`` suite calls these functions; the module's ``__main__`` prints them.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable

import numpy as np

from .environment import Environment
from .reactor import Reactor
from .timeunits import USEC


class _Source(Reactor):
    """Fires ``tags`` times, 1 us of logical time apart, driven by its own logical action."""

    def __init__(self, tags: int):
        self.tags = tags
        self.count = 0
        self.out = self.output("out")
        self.again = self.logical_action("again")
        self.reaction(
            self.fire,
            triggers=[self.startup, self.again],
            effects=[self.out, self.again],
        )

    def fire(self) -> None:
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
    """Broadcasts a value per round and gathers N replies in bank order, checking completeness."""

    def __init__(self, width: int, rounds: int, payload: object):
        self.rounds = rounds
        self.payload = payload
        self.count = 0
        self.gathered = 0
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


def _timed_run(env: Environment) -> float:
    env.assemble()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        env.run()
        return time.perf_counter() - start
    finally:
        if gc_was_enabled:
            gc.enable()


def _chain_seconds(length: int, tags: int) -> tuple[float, int]:
    env = Environment(workers=1)
    source = env.create(_Source, "source", tags)
    previous = source.out
    for i in range(length):
        relay = env.create(_Relay, f"relay{i}")
        env.connect(previous, relay.inp)
        previous = relay.out
    seconds = _timed_run(env)
    return seconds, env.reactions_executed


def chain_us_per_reaction(length: int = 64, tags: int = 2000) -> float:
    """Per-reaction cost (us) of a source plus ``length`` relays, by the slope between two runs."""
    short_s, short_n = _chain_seconds(length, tags // 4)
    long_s, long_n = _chain_seconds(length, tags)
    expected = (tags - tags // 4) * (length + 1)
    if long_n - short_n != expected:
        raise RuntimeError(f"chain ran {long_n - short_n} reactions, expected {expected}")
    return (long_s - short_s) / expected * 1e6


def _bank_seconds(
    width: int, rounds: int, workers: int, elements: int, federates: int | None = None
) -> tuple[float, int]:
    env = Environment(workers=workers, federates=federates)
    driver = env.create(_Driver, "driver", width, rounds, 0)
    bank = env.bank(_Worker, width, "worker", elements)
    env.connect(driver.out, bank.port("inp"), broadcast=True)
    env.connect(bank.port("out"), driver.replies)
    seconds = _timed_run(env)
    if driver.gathered != rounds:
        raise RuntimeError(f"gathered {driver.gathered} of {rounds} rounds")
    return seconds, env.reactions_executed


def bank_round_us(width: int, rounds: int = 2000, workers: int = 1, federates: int | None = None) -> float:
    """One broadcast + gather round over a bank of ``width`` (us), by the slope between two runs."""
    short_s, _ = _bank_seconds(width, rounds // 4, workers, 0, federates)
    long_s, _ = _bank_seconds(width, rounds, workers, 0, federates)
    return (long_s - short_s) / (rounds - rounds // 4) * 1e6


def federated_tag_us(federates: int = 2, rounds: int = 2000, workers: int = 1) -> float:
    """The coordination cost of one tag across ``federates`` federate processes (us): a driver in
    the RTI's process sends to one empty reactor per federate and gathers its reply in the same tag
    (a zero-delay cycle, so every tag takes grants, messages and reports both ways). Compare with
    ``bank_round_us(federates)``, the same program in one process."""
    return bank_round_us(federates, rounds=rounds, workers=workers, federates=federates)


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
    width: int = 16, rounds: int = 40, workers: int = 1, elements: int = KERNEL_ELEMENTS
) -> float:
    """Wall time (ms) per tag of a bank whose workers each run ``numpy_work(elements)``."""
    short_s, _ = _bank_seconds(width, max(1, rounds // 4), workers, elements)
    long_s, _ = _bank_seconds(width, rounds, workers, elements)
    return (long_s - short_s) / (rounds - max(1, rounds // 4)) * 1e3


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
) -> dict[str, float]:
    """The harness's round, driven from outside: a physical action carries a ``payload_bytes``
    array, every one of ``width`` workers copies it, the driver gathers their replies; returns the
    median and 90th percentile ms per round over ``rounds`` (after ``warmup``) and ``startup_s``
    (building the workers, processes included, and starting)."""
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
    times.sort()
    return {
        "median_ms": times[len(times) // 2] * 1e3,
        "p90_ms": times[int(len(times) * 0.9)] * 1e3,
        "startup_s": startup_s,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m backends.reactor.bench",
        description="Micro-benchmarks of the in-house reactor runtime (use `python -m harness run "
        "--suite micro` to compare with xronos in one run).",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--federated", action="store_true", help="also the federation's benchmarks")
    args = parser.parse_args(argv)
    for _ in range(args.repeats if args.federated else 0):
        one = bank_round_us(2)
        two = federated_tag_us(2)
        print(f"tag over 2 federates {two:8.1f} us/tag  (the same program in one process: {one:.1f} us)")
        for size in (1024, 10 << 20):
            fed = driven_round(size, federates=2, rounds=100 if size > 1 << 20 else 300)
            local = driven_round(size, federates=None, rounds=100 if size > 1 << 20 else 300)
            print(
                f"16 workers, {size:>8} B copied: F=2 {fed['median_ms']:7.3f} ms/round "
                f"(start-up {fed['startup_s']:.2f} s), one process {local['median_ms']:7.3f} ms/round"
            )
    for _ in range(args.repeats):
        print(f"chain(64)            {chain_us_per_reaction():8.3f} us/reaction")
        for width in (1, 4, 16):
            print(f"bank round N={width:<3}     {bank_round_us(width):8.3f} us/round")
        one = bank_tag_ms(workers=1)
        two = bank_tag_ms(workers=2)
        print(f"numpy bank of 16    W=1 {one:7.3f} ms/tag  W=2 {two:7.3f} ms/tag  speed-up {one / two:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
