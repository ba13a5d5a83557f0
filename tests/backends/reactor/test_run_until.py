"""Driving a program in logical time: ``run_until(t)`` processes the tags up to t and returns."""

from __future__ import annotations

import pytest

from backends.reactor import Environment, Federation, Reactor, msec

PERIOD = msec(1)


class Source(Reactor):
    """Emits its round number on every tick of a periodic timer."""

    def __init__(self) -> None:
        self.tick = self.timer("tick", offset=PERIOD, period=PERIOD)
        self.out = self.output("out")
        self.rounds = 0
        self.reaction(self.emit, triggers=[self.tick], effects=[self.out])

    def emit(self) -> None:
        self.rounds += 1
        self.out.set(self.rounds)


class Sink(Reactor):
    """Triggered by the current round's value; reads the delayed one (last round's) as a source."""

    def __init__(self) -> None:
        self.now = self.input("now")
        self.before = self.input("before")
        self.seen: list[tuple[tuple[int, int], int, int | None]] = []
        self.stopped = False
        self.reaction(self.take, triggers=[self.now], sources=[self.before])
        self.reaction(self.on_shutdown, triggers=[self.shutdown])

    def take(self) -> None:
        self.seen.append((self.tag, self.now.value, self.before.get(None)))

    def on_shutdown(self) -> None:
        self.stopped = True


def _program(workers: int) -> tuple[Environment, Source, Sink]:
    env = Environment(workers=workers)
    source = env.create(Source, "source")
    sink = env.create(Sink, "sink")
    env.connect(source.out, sink.now)
    env.connect(source.out, sink.before, delay=PERIOD)
    return env, source, sink


@pytest.mark.parametrize("workers", [1, 2])
def test_each_call_runs_one_period_and_a_delayed_connection_reaches_the_next_one(workers):
    env, source, sink = _program(workers)
    env.start(process_startup=False)
    env.run_until(0)
    assert source.rounds == 0 and env.tag == (0, 0)
    for round_number in range(1, 5):
        env.run_until(round_number * PERIOD)
        assert source.rounds == round_number  # returned although the timer's next event is pending
        assert sink.seen[-1] == ((round_number * PERIOD, 0), round_number, round_number - 1 or None)
    env.stop()
    assert sink.stopped and len(sink.seen) == 4


def test_a_horizon_between_tags_processes_nothing_more():
    env, source, _ = _program(1)
    env.start(process_startup=False)
    env.run_until(PERIOD)
    env.run_until(PERIOD + PERIOD // 2)
    assert source.rounds == 1
    env.run_until(3 * PERIOD)
    assert source.rounds == 3
    env.stop()


class ReportingSink(Reactor):
    """The sink of a federated program: it sends what it saw back to this process."""

    def __init__(self) -> None:
        self.now = self.input("now")
        self.before = self.input("before")
        self.record = self.output("record")
        self.reaction(self.take, triggers=[self.now], sources=[self.before], effects=[self.record])

    def take(self) -> None:
        self.record.set((self.tag, self.now.value, self.before.get(None)))


class Collector(Reactor):
    def __init__(self) -> None:
        self.record = self.input("record")
        self.seen: list = []
        self.reaction(self.keep, triggers=[self.record])

    def keep(self) -> None:
        self.seen.append(self.record.value)


@pytest.mark.parametrize("workers", [1, 2])
def test_run_until_drives_a_federated_program_round_by_round(workers):
    """The timer's reactor stays in this process, the sink runs in a federate: the same rounds and
    the same delayed values as in one process."""
    env = Environment(workers=workers, federates=Federation(1, placement={"sink": 0}))
    source = env.create(Source, "source")
    sink = env.create(ReportingSink, "sink")
    collector = env.create(Collector, "collector")
    env.connect(source.out, sink.now)
    env.connect(source.out, sink.before, delay=PERIOD)
    env.connect(sink.record, collector.record)
    env.start(process_startup=False)
    try:
        env.run_until(0)
        for round_number in range(1, 5):
            env.run_until(round_number * PERIOD)
            assert source.rounds == round_number
            assert collector.seen[-1] == ((round_number * PERIOD, 0), round_number, round_number - 1 or None)
    finally:
        env.stop()
    assert len(collector.seen) == 4
