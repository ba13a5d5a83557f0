"""Startup, shutdown, request_stop (from a reaction and from another thread), keepalive, driven mode."""

from __future__ import annotations

import threading
import time

import pytest

from backends.reactor import AssemblyError, Environment, Reactor, ReactorError, msec, sec


def worker_threads() -> set[threading.Thread]:
    """Live pool threads (compare with a snapshot: other tests' leftovers are not this test's)."""
    return {t for t in threading.enumerate() if t.name.startswith("reactor-worker-")}


class Life(Reactor):
    """Records startup/shutdown tags; a chain of logical actions ``steps`` long, ``delay`` apart."""

    def __init__(self, steps: int = 0, delay: int = msec(1), stop_at: int | None = None):
        self.steps = steps
        self.delay = delay
        self.stop_at = stop_at
        self.events: list = []
        self.act = self.logical_action("act")
        self.soon = self.logical_action("soon")
        self.reaction(self.on_startup, triggers=[self.startup], effects=[self.act])
        self.reaction(self.on_act, triggers=[self.act], effects=[self.act, self.soon])
        self.reaction(self.on_soon, triggers=[self.soon])
        self.reaction(self.on_shutdown, triggers=[self.shutdown])

    def on_startup(self) -> None:
        self.events.append(("startup", self.tag))
        if self.steps:
            self.act.schedule(1, self.delay)

    def on_act(self) -> None:
        n = self.act.value
        self.events.append(("act", self.tag))
        if n == self.stop_at:
            self.request_stop()
            self.soon.schedule()  # lands on the stop tag: still processed
            self.act.schedule(n + 1, self.delay)  # past the stop tag: dropped
        elif n < self.steps:
            self.act.schedule(n + 1, self.delay)

    def on_soon(self) -> None:
        self.events.append(("soon", self.tag))

    def on_shutdown(self) -> None:
        self.events.append(("shutdown", self.tag))


def test_startup_at_zero_and_shutdown_once_when_events_run_out():
    env = Environment()
    bank = env.bank(Life, 2, "life", steps=2)
    env.run()
    for member in bank:
        assert member.events == [
            ("startup", (0, 0)),
            ("act", (msec(1), 0)),
            ("act", (msec(2), 0)),
            ("shutdown", (msec(2), 1)),  # no more events: the program ends at the next microstep
        ]


@pytest.mark.parametrize("fast", [True, False])
def test_a_program_with_a_timeout_that_runs_out_of_events_ends_at_the_next_microstep(fast):
    """Starvation ends a program the same way with a timeout as without one: waiting for the timeout
    (in real time, without fast mode) could change nothing, since no event can come."""
    env = Environment(fast=fast, timeout=sec(5))
    life = env.create(Life, "life", steps=2)
    start = time.perf_counter()
    env.run()
    assert life.events[-1] == ("shutdown", (msec(2), 1))
    assert env.tag == (msec(2), 1)
    assert time.perf_counter() - start < 1.0


def test_request_stop_from_a_reaction_ends_at_the_next_microstep_and_drops_later_events():
    env = Environment(timeout=msec(100))
    life = env.create(Life, "life", steps=10, stop_at=3)
    env.run()
    assert life.events == [
        ("startup", (0, 0)),
        ("act", (msec(1), 0)),
        ("act", (msec(2), 0)),
        ("act", (msec(3), 0)),
        ("soon", (msec(3), 1)),
        ("shutdown", (msec(3), 1)),
    ]
    assert env.tag == (msec(3), 1)


def test_a_program_runs_only_once():
    env = Environment()
    env.create(Life, "life")
    env.run()
    with pytest.raises(ReactorError, match="already started"):
        env.run()


def test_nothing_can_be_added_or_connected_after_assembly():
    env = Environment()
    life = env.create(Life, "life")
    other = env.create(Life, "other")
    env.assemble()
    with pytest.raises(AssemblyError):
        env.create(Life, "late")
    with pytest.raises(AssemblyError):
        env.connect(life.act, other.act)
    with pytest.raises(AssemblyError, match="after assembly"):
        life.output("late")


class Listener(Reactor):
    """Reacts to a physical action; with none scheduled the program waits (keepalive)."""

    def __init__(self):
        self.pa = self.physical_action("pa")
        self.seen: list = []
        self.stopped: list = []
        self.started = threading.Event()
        self.reaction(self.on_startup, triggers=[self.startup])
        self.reaction(self.on_pa, triggers=[self.pa])
        self.reaction(self.on_shutdown, triggers=[self.shutdown])

    def on_startup(self) -> None:
        self.started.set()

    def on_pa(self) -> None:
        self.seen.append((self.tag, self.pa.value))

    def on_shutdown(self) -> None:
        self.stopped.append(self.tag)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("fast", [True, False])
def test_request_stop_from_another_thread_ends_a_program_waiting_on_physical_actions(fast):
    env = Environment(fast=fast)
    listener = env.create(Listener, "listener")

    def poke_then_stop() -> None:
        assert listener.started.wait(10)
        listener.pa.schedule("ping")
        time.sleep(0.05)
        env.request_stop()

    thread = threading.Thread(target=poke_then_stop)
    thread.start()
    start = time.perf_counter()
    env.run()  # keepalive is on because a physical action exists; only request_stop ends it
    elapsed = time.perf_counter() - start
    thread.join()
    assert [value for _, value in listener.seen] == ["ping"]
    assert len(listener.stopped) == 1
    assert listener.stopped[0] > listener.seen[0][0]
    assert 0.04 <= elapsed < 10


def test_keepalive_false_ends_even_with_physical_actions():
    env = Environment(keepalive=False)
    listener = env.create(Listener, "listener")
    env.run()
    assert listener.stopped == [(0, 1)]


def test_request_stop_before_start_is_an_error():
    env = Environment()
    env.create(Listener, "listener")
    with pytest.raises(ReactorError, match="before the program was started"):
        env.request_stop()


class Echo(Reactor):
    def __init__(self):
        self.inp = self.input("inp")
        self.out = self.output("out")
        self.reaction(self.on_inp, triggers=[self.inp], effects=[self.out])

    def on_inp(self) -> None:
        self.out.set(self.inp.value * 10 + self.bank_index)


class Host(Reactor):
    """Driven by the caller: each physical event is one round broadcast to the bank and gathered."""

    def __init__(self, width: int):
        self.request = self.physical_action("request")
        self.out = self.output("out")
        self.replies = self.input("replies", width)
        self.rounds: list = []
        self.startups = 0
        self.shutdowns = 0
        self.reaction(self.on_startup, triggers=[self.startup])
        self.reaction(self.on_request, triggers=[self.request], effects=[self.out])
        self.reaction(self.on_replies, triggers=[self.replies])
        self.reaction(self.on_shutdown, triggers=[self.shutdown])

    def on_startup(self) -> None:
        self.startups += 1

    def on_request(self) -> None:
        self.out.set(self.request.value)

    def on_replies(self) -> None:
        self.rounds.append(self.replies.values())

    def on_shutdown(self) -> None:
        self.shutdowns += 1


@pytest.mark.timeout(30)
@pytest.mark.parametrize("workers", [1, 2])
def test_driven_mode_processes_one_round_per_run_until_idle(workers):
    before = worker_threads()
    env = Environment(workers=workers, fast=False)
    host = env.create(Host, "host", 3)
    bank = env.bank(Echo, 3, "echo")
    env.connect(host.out, bank.port("inp"), broadcast=True)
    env.connect(bank.port("out"), host.replies)
    env.start()
    assert len(worker_threads() - before) == workers - 1
    assert host.startups == 1 and host.rounds == []
    for round_ in range(1, 4):
        host.request.schedule(round_)
        env.run_until_idle()
        assert host.rounds[-1] == [round_ * 10, round_ * 10 + 1, round_ * 10 + 2]
    assert len(host.rounds) == 3
    env.stop()
    assert host.shutdowns == 1
    env.stop()  # idempotent
    assert host.shutdowns == 1
    assert worker_threads() <= before
    with pytest.raises(ReactorError, match="not running"):
        host.request.schedule(99)


def test_stop_without_start_does_nothing():
    env = Environment()
    host = env.create(Host, "host", 1)
    env.stop()
    assert host.startups == host.shutdowns == 0
