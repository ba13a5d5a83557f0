"""Ordering within a tag: declaration order inside a reactor, precedence (levels) across reactors."""

from __future__ import annotations

import time

import pytest

from backends.reactor import Environment, Reactor, msec


class ThreeReactions(Reactor):
    """Three reactions sharing triggers; each sleeps so that overlapping runs would be noticed."""

    def __init__(self, log: list, nap: float = 0.0):
        self.log = log
        self.nap = nap
        self.busy = False
        self.overlaps = 0
        self.again = self.logical_action("again")
        self.reaction(self.first, triggers=[self.startup, self.again], effects=[self.again])
        self.reaction(self.second, triggers=[self.startup])
        self.reaction(self.third, triggers=[self.again, self.startup])

    def _enter(self, label: str) -> None:
        if self.busy:
            self.overlaps += 1
        self.busy = True
        time.sleep(self.nap)
        self.log.append((self.tag, self.fqn, label))
        self.busy = False

    def first(self) -> None:
        self._enter("first")
        if self.tag == (0, 0):
            self.again.schedule()

    def second(self) -> None:
        self._enter("second")

    def third(self) -> None:
        self._enter("third")


def test_reactions_of_one_reactor_run_in_declaration_order():
    log: list = []
    env = Environment()
    env.create(ThreeReactions, "r", log)
    env.run()
    assert log == [
        ((0, 0), "r", "first"),
        ((0, 0), "r", "second"),
        ((0, 0), "r", "third"),
        ((0, 1), "r", "first"),
        ((0, 1), "r", "third"),
    ]


def test_declaration_order_holds_per_reactor_on_a_pool_and_siblings_never_overlap():
    log: list = []
    env = Environment(workers=4)
    bank = env.bank(ThreeReactions, 4, "r", log, nap=0.003)
    env.run()
    for member in bank:
        mine = [(tag, label) for tag, fqn, label in log if fqn == member.fqn]
        assert mine == [
            ((0, 0), "first"),
            ((0, 0), "second"),
            ((0, 0), "third"),
            ((0, 1), "first"),
            ((0, 1), "third"),
        ]
        assert member.overlaps == 0
    # every reaction of tag (0, 0) precedes every reaction of tag (0, 1)
    tags = [tag for tag, _, _ in log]
    assert tags == sorted(tags)


class Source(Reactor):
    def __init__(self, log: list, values: list):
        self.log = log
        self.values = list(values)
        self.out = self.output("out")
        self.next = self.logical_action("next")
        self.send = self.reaction(
            self.on_send, triggers=[self.startup, self.next], effects=[self.out, self.next]
        )

    def on_send(self) -> None:
        value = self.values.pop(0)
        self.log.append((self.tag, self.fqn, value))
        self.out.set(value)
        if self.values:
            self.next.schedule(None, msec(1))


class Relay(Reactor):
    def __init__(self, log: list, suffix: str = "", nap: float = 0.0):
        self.log = log
        self.suffix = suffix
        self.nap = nap
        self.inp = self.input("inp")
        self.out = self.output("out")
        self.relay = self.reaction(self.on_inp, triggers=[self.inp], effects=[self.out])

    def on_inp(self) -> None:
        time.sleep(self.nap)
        value = self.inp.value + self.suffix
        self.log.append((self.tag, self.fqn, value))
        self.out.set(value)


class Sink(Reactor):
    def __init__(self, log: list):
        self.log = log
        self.left = self.input("left")
        self.right = self.input("right")
        self.join = self.reaction(self.on_inputs, triggers=[self.left, self.right])

    def on_inputs(self) -> None:
        self.log.append((self.tag, self.fqn, (self.left.get(), self.right.get())))


@pytest.mark.parametrize("workers", [1, 4])
def test_upstream_runs_before_downstream_regardless_of_creation_order(workers):
    log: list = []
    env = Environment(workers=workers)
    # created downstream-first: the order must come from precedence, not from creation
    last = env.create(Relay, "last", log, "c")
    middle = env.create(Relay, "middle", log, "b")
    first = env.create(Relay, "first", log, "a")
    source = env.create(Source, "source", log, ["x", "y"])
    env.connect(source.out, first.inp)
    env.connect(first.out, middle.inp)
    env.connect(middle.out, last.inp)
    env.run()
    assert log == [
        ((0, 0), "source", "x"),
        ((0, 0), "first", "xa"),
        ((0, 0), "middle", "xab"),
        ((0, 0), "last", "xabc"),
        ((msec(1), 0), "source", "y"),
        ((msec(1), 0), "first", "ya"),
        ((msec(1), 0), "middle", "yab"),
        ((msec(1), 0), "last", "yabc"),
    ]
    assert [source.send.level, first.relay.level, middle.relay.level, last.relay.level] == [0, 1, 2, 3]
    assert env.levels == 4


@pytest.mark.parametrize("workers", [1, 4])
def test_diamond_join_runs_once_per_tag_after_both_branches(workers):
    log: list = []
    env = Environment(workers=workers)
    sink = env.create(Sink, "sink", log)
    # the slow branch would finish last if the join did not wait for its level
    left = env.create(Relay, "left", log, "L", nap=0.02)
    right = env.create(Relay, "right", log, "R")
    top = env.create(Source, "top", log, ["p", "q", "r"])
    env.connect(top.out, left.inp)
    env.connect(top.out, right.inp)
    env.connect(left.out, sink.left)
    env.connect(right.out, sink.right)
    env.run()
    assert [top.send.level, left.relay.level, right.relay.level, sink.join.level] == [0, 1, 1, 2]
    for step, value in enumerate("pqr"):
        at_tag = [entry for entry in log if entry[0] == (msec(step), 0)]
        assert at_tag[0] == ((msec(step), 0), "top", value)
        assert {entry[1] for entry in at_tag[1:3]} == {"left", "right"}
        assert at_tag[3] == ((msec(step), 0), "sink", (value + "L", value + "R"))
        assert len(at_tag) == 4


class Peek(Reactor):
    """Reads an input as a *source* (not a trigger): it must still run after the input's writer."""

    def __init__(self):
        self.inp = self.input("inp")
        self.seen: list = []
        self.reaction(self.on_startup, triggers=[self.startup], sources=[self.inp])

    def on_startup(self) -> None:
        self.seen.append(self.inp.get("absent"))


def test_a_reaction_reading_a_port_as_source_runs_after_its_writer():
    log: list = []
    env = Environment()
    peek = env.create(Peek, "peek")
    source = env.create(Source, "source", log, ["v"])
    env.connect(source.out, peek.inp)
    env.run()
    assert peek.seen == ["v"]
