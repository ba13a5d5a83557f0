"""Logical time: microsteps, action delays, min_delay, delayed connections, timers, timeout, fast mode."""

from __future__ import annotations

import time

import pytest

from backends.reactor import Environment, Reactor, msec, sec


class Repeater(Reactor):
    """Schedules its action ``count`` times with the given delays; records the tags it fired at."""

    def __init__(self, delays: list[int], min_delay: int = 0):
        self.delays = list(delays)
        self.act = self.logical_action("act", min_delay=min_delay)
        self.seen: list = []
        self.reaction(self.kick, triggers=[self.startup], effects=[self.act])
        self.reaction(self.on_act, triggers=[self.act], effects=[self.act])

    def kick(self) -> None:
        self.act.schedule(0, self.delays[0])

    def on_act(self) -> None:
        n = self.act.value
        self.seen.append((self.tag, n))
        if n + 1 < len(self.delays):
            self.act.schedule(n + 1, self.delays[n + 1])


def run_repeater(delays: list[int], min_delay: int = 0) -> list:
    env = Environment()
    reactor = env.create(Repeater, "rep", delays, min_delay=min_delay)
    env.run()
    return reactor.seen


def test_logical_action_with_zero_delay_fires_at_the_next_microstep():
    assert run_repeater([0, 0, 0]) == [((0, 1), 0), ((0, 2), 1), ((0, 3), 2)]


def test_logical_action_with_delay_fires_at_t_plus_d_microstep_zero():
    d = msec(3)
    assert run_repeater([d, d, d]) == [((d, 0), 0), ((2 * d, 0), 1), ((3 * d, 0), 2)]


def test_a_delay_after_microsteps_resets_the_microstep():
    d = msec(2)
    assert run_repeater([0, 0, d, 0]) == [((0, 1), 0), ((0, 2), 1), ((d, 0), 2), ((d, 1), 3)]


def test_min_delay_adds_to_the_schedule_delay():
    m = msec(5)
    # with a min_delay, a zero extra delay is a real delay, not a microstep
    assert run_repeater([0, msec(2), 0], min_delay=m) == [
        ((m, 0), 0),
        ((2 * m + msec(2), 0), 1),
        ((3 * m + msec(2), 0), 2),
    ]


class Emitter(Reactor):
    """Sets ``out`` at startup, then again after each delay in ``steps`` (0: next microstep)."""

    def __init__(self, steps: list[int]):
        self.steps = list(steps)
        self.out = self.output("out")
        self.next = self.logical_action("next")
        self.count = 0
        self.reaction(self.emit, triggers=[self.startup, self.next], effects=[self.out, self.next])

    def emit(self) -> None:
        self.out.set(f"v{self.count}@{self.tag}")
        if self.count < len(self.steps):
            self.next.schedule(None, self.steps[self.count])
        self.count += 1


class Recorder(Reactor):
    def __init__(self):
        self.inp = self.input("inp")
        self.seen: list = []
        self.reaction(self.record, triggers=[self.inp])

    def record(self) -> None:
        self.seen.append((self.tag, self.inp.value))


def test_connections_without_delay_same_tag_with_delay_zero_next_microstep():
    env = Environment()
    emitter = env.create(Emitter, "emitter", [0, msec(2)])  # emits at (0,0), (0,1), (2ms,0)
    direct = env.create(Recorder, "direct")
    micro = env.create(Recorder, "micro")
    env.connect(emitter.out, direct.inp)
    env.connect(emitter.out, micro.inp, delay=0)
    env.run()
    assert direct.seen == [((0, 0), "v0@(0, 0)"), ((0, 1), "v1@(0, 1)"), ((msec(2), 0), "v2@(2000000, 0)")]
    assert micro.seen == [((0, 1), "v0@(0, 0)"), ((0, 2), "v1@(0, 1)"), ((msec(2), 1), "v2@(2000000, 0)")]


def test_delayed_connection_delivers_at_t_plus_d():
    env = Environment()
    emitter = env.create(Emitter, "emitter", [msec(2)])  # emits at (0,0), (2ms,0)
    late = env.create(Recorder, "late")
    env.connect(emitter.out, late.inp, delay=msec(3))
    env.run()
    assert late.seen == [((msec(3), 0), "v0@(0, 0)"), ((msec(5), 0), "v1@(2000000, 0)")]


class TwoWriters(Reactor):
    def __init__(self):
        self.out = self.output("out")
        self.reaction(self.a, triggers=[self.startup], effects=[self.out])
        self.reaction(self.b, triggers=[self.startup], effects=[self.out])

    def a(self) -> None:
        self.out.set("first")

    def b(self) -> None:
        self.out.set("second")


def test_last_write_in_a_tag_wins_for_direct_and_delayed_readers_alike():
    env = Environment()
    writer = env.create(TwoWriters, "writer")
    direct = env.create(Recorder, "direct")
    delayed = env.create(Recorder, "delayed")
    env.connect(writer.out, direct.inp)
    env.connect(writer.out, delayed.inp, delay=msec(1))
    env.run()
    assert direct.seen == [((0, 0), "second")]
    assert delayed.seen == [((msec(1), 0), "second")]


class Twice(Reactor):
    """Schedules its action twice from one reaction, for one tag (``delay``)."""

    def __init__(self, delay: int):
        self.delay = delay
        self.act = self.logical_action("act")
        self.seen: list = []
        self.reaction(self.kick, triggers=[self.startup], effects=[self.act])
        self.reaction(self.on_act, triggers=[self.act])

    def kick(self) -> None:
        self.act.schedule("a", self.delay)
        self.act.schedule("b", self.delay)

    def on_act(self) -> None:
        self.seen.append((self.tag, self.act.value))


@pytest.mark.parametrize(
    ("delay", "expected"),
    [
        (msec(1), [((msec(1), 0), "a"), ((msec(1), 1), "b")]),
        (0, [((0, 1), "a"), ((0, 2), "b")]),
    ],
)
def test_two_events_of_one_logical_action_at_one_tag_keep_both_the_second_a_microstep_later(delay, expected):
    """LF's default policy (reactor-c, as LF's own tests observe it): neither value is lost."""
    env = Environment()
    twice = env.create(Twice, "twice", delay)
    env.run()
    assert twice.seen == expected


class Ticker(Reactor):
    def __init__(self, offset: int, period: int):
        self.tick = self.timer("tick", offset=offset, period=period)
        self.ticks: list = []
        self.stops: list = []
        self.reaction(self.on_tick, triggers=[self.tick])
        self.reaction(self.on_shutdown, triggers=[self.shutdown])

    def on_tick(self) -> None:
        self.ticks.append(self.tag)

    def on_shutdown(self) -> None:
        self.stops.append(self.tag)


@pytest.mark.parametrize(
    ("offset", "period", "timeout", "expected_ms", "last"),
    [
        (msec(5), msec(10), msec(100), [5, 15, 25, 35, 45, 55, 65, 75, 85, 95], (msec(100), 0)),
        # fires at the timeout too
        (0, msec(10), msec(100), [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100], (msec(100), 0)),
        # period 0: once; then the program starves and ends at the next microstep, not at the timeout
        (msec(30), 0, msec(100), [30], (msec(30), 1)),
        (msec(150), msec(10), msec(100), [], (msec(100), 0)),  # offset beyond the timeout: never
    ],
)
def test_timer_offset_period_and_fire_count_under_timeout(offset, period, timeout, expected_ms, last):
    env = Environment(timeout=timeout)
    ticker = env.create(Ticker, "ticker", offset, period)
    env.run()
    assert ticker.ticks == [(msec(t), 0) for t in expected_ms]
    # timeout semantics: with events pending the last tag is (timeout, 0), shutdown runs exactly there
    assert ticker.stops == [last]
    assert env.tag == last


def test_events_after_the_timeout_are_dropped():
    d = msec(4)
    env = Environment(timeout=msec(10))
    rep = env.create(Repeater, "rep", [d] * 5)
    env.run()
    assert rep.seen == [((d, 0), 0), ((2 * d, 0), 1)]  # 12 ms is past the timeout


def test_non_fast_mode_follows_the_wall_clock():
    env = Environment(fast=False, timeout=msec(100))
    ticker = env.create(Ticker, "ticker", 0, msec(20))
    lag: list = []

    class Clock(Reactor):
        def __init__(self):
            self.tick = self.timer("tick", offset=0, period=msec(20))
            self.reaction(self.on_tick, triggers=[self.tick])

        def on_tick(self) -> None:
            lag.append(self.env.physical_time() - self.logical_time)

    env.create(Clock, "clock")
    start = time.perf_counter()
    env.run()
    elapsed = time.perf_counter() - start
    assert len(ticker.ticks) == 6
    assert elapsed >= 0.09  # loose: 100 ms of logical time took about as much wall time
    assert all(x >= 0 for x in lag)  # a tag is never processed before its physical time


def test_fast_mode_runs_far_ahead_of_the_wall_clock():
    env = Environment(fast=True, timeout=sec(1000))
    ticker = env.create(Ticker, "ticker", 0, sec(1))
    start = time.perf_counter()
    env.run()
    elapsed = time.perf_counter() - start
    assert len(ticker.ticks) == 1001
    assert elapsed < 5.0  # 1000 s of logical time
