"""Hierarchy, as in LF: reactors containing reactors and banks, connections through their ports in both
directions, a container's reactions setting contained inputs ("sending inside") and reading contained
outputs, and the precedence and errors that go with them."""

from __future__ import annotations

import pytest

from backends.reactor import (
    AssemblyError,
    CycleError,
    Environment,
    MultipleDriversError,
    ReactionFailed,
    Reactor,
    UndeclaredEffectError,
    msec,
    sec,
)


class Printer(Reactor):
    """LF's SendingInside.Printer: checks that its input counts up by one each time."""

    def __init__(self):
        self.x = self.input("x")
        self.seen: list = []
        self.reaction(self.check, triggers=[self.x])

    def check(self) -> None:
        self.seen.append((self.tag, self.x.value))
        if self.x.value != len(self.seen):
            raise AssertionError(f"expected {len(self.seen)}, got {self.x.value}")


class SendingInside(Reactor):
    """LF's SendingInside: a timer reaction of the container sets the contained reactor's input."""

    def __init__(self):
        self.count = 0
        self.t = self.timer("t", offset=0, period=sec(1))
        self.p = self.create(Printer, "p")
        self.reaction(self.send, triggers=[self.t], effects=[self.p.x])

    def send(self) -> None:
        self.count += 1
        self.p.x.set(self.count)


def test_sending_inside_a_container_sets_a_contained_input():
    env = Environment(timeout=sec(3))
    main = env.create(SendingInside, "main")
    env.run()
    assert main.p.fqn == "main.p"
    assert main.p.seen == [((sec(k), 0), k + 1) for k in range(4)]


class Doubler(Reactor):
    def __init__(self):
        self.inp = self.input("inp")
        self.out = self.output("out")
        self.reaction(self.double, triggers=[self.inp], effects=[self.out])

    def double(self) -> None:
        self.out.set(2 * self.inp.value)


class Wrapper(Reactor):
    """Forwards its input inside (``inp -> inner.inp``) and the inner output out (``inner.out -> out``)."""

    def __init__(self):
        self.inp = self.input("inp")
        self.out = self.output("out")
        self.inner = self.create(Doubler, "inner")
        self.connect(self.inp, self.inner.inp)
        self.connect(self.inner.out, self.out)


class Counter(Reactor):
    def __init__(self, rounds: int = 3):
        self.rounds = rounds
        self.n = 0
        self.out = self.output("out")
        self.again = self.logical_action("again")
        self.reaction(self.send, triggers=[self.startup, self.again], effects=[self.out, self.again])

    def send(self) -> None:
        self.n += 1
        self.out.set(self.n)
        if self.n < self.rounds:
            self.again.schedule(None, msec(1))


class Sink(Reactor):
    def __init__(self):
        self.inp = self.input("inp")
        self.seen: list = []
        self.reaction(self.record, triggers=[self.inp])

    def record(self) -> None:
        self.seen.append((self.tag, self.inp.value))


def test_connections_through_a_container_in_both_directions_take_no_time():
    env = Environment()
    source = env.create(Counter, "source")
    wrapped = env.create(Wrapper, "wrapped")
    twice = env.create(Wrapper, "twice")  # wrappers chained at the top level: out -> inp -> inner
    sink = env.create(Sink, "sink")
    env.connect(source.out, wrapped.inp)
    env.connect(wrapped.out, twice.inp)
    env.connect(twice.out, sink.inp)
    env.run()
    assert sink.seen == [((msec(k), 0), 4 * (k + 1)) for k in range(3)]  # same tag as the source
    names = ["source", "wrapped", "wrapped.inner", "twice", "twice.inner", "sink"]
    assert [r.fqn for r in env.reactors] == names
    levels = [reactor._reactions[0].level for reactor in (wrapped.inner, twice.inner, sink)]
    assert levels == sorted(set(levels))  # each after the one it reads, through the containers


def test_a_delayed_connection_out_of_a_container_delays_the_forwarded_value():
    env = Environment()
    source = env.create(Counter, "source")
    wrapped = env.create(Wrapper, "wrapped")
    sink = env.create(Sink, "sink")
    env.connect(source.out, wrapped.inp)
    env.connect(wrapped.out, sink.inp, delay=msec(10))
    env.run()
    assert sink.seen == [((msec(10 + k), 0), 2 * (k + 1)) for k in range(3)]


class Scatter(Reactor):
    """A contained bank fed through the container's input (broadcast) and gathered into its output,
    and a container reaction reading the bank's outputs directly."""

    WIDTH = 4

    def __init__(self):
        self.inp = self.input("inp")
        self.out = self.output("out", self.WIDTH)
        self.workers = self.bank(Doubler, self.WIDTH, "worker")
        self.sums: list = []
        self.connect(self.inp, self.workers.port("inp"), broadcast=True)
        self.connect(self.workers.port("out"), self.out)
        self.reaction(self.total, triggers=[self.workers.port("out")])

    def total(self) -> None:
        self.sums.append(sum(port.value for port in self.workers.port("out")))


class Gather(Reactor):
    def __init__(self, width: int):
        self.ins = self.input("ins", width)
        self.seen: list = []
        self.reaction(self.record, triggers=[self.ins])

    def record(self) -> None:
        self.seen.append(self.ins.values())


def test_a_contained_bank_with_broadcast_in_gather_out_and_a_container_reading_it():
    env = Environment()
    source = env.create(Counter, "source", 2)
    scatter = env.create(Scatter, "scatter")
    gather = env.create(Gather, "gather", Scatter.WIDTH)
    env.connect(source.out, scatter.inp)
    env.connect(scatter.out, gather.ins)
    env.run()
    assert [m.fqn for m in scatter.workers] == [f"scatter.worker[{i}]" for i in range(4)]
    assert gather.seen == [[2] * 4, [4] * 4]
    assert scatter.sums == [8, 16]


class Nested(Reactor):
    """Three levels: the names compose and a value crosses two container boundaries each way."""

    def __init__(self, depth: int):
        self.inp = self.input("inp")
        self.out = self.output("out")
        if depth == 0:
            self.reaction(self.leaf, triggers=[self.inp], effects=[self.out])
        else:
            self.child = self.create(Nested, "level", depth - 1)
            self.connect(self.inp, self.child.inp)
            self.connect(self.child.out, self.out)

    def leaf(self) -> None:
        self.out.set((self.fqn, self.inp.value))


def test_names_compose_through_three_levels():
    env = Environment()
    source = env.create(Counter, "source", 1)
    top = env.create(Nested, "top", 2)
    sink = env.create(Sink, "sink")
    env.connect(source.out, top.inp)
    env.connect(top.out, sink.inp)
    env.run()
    assert sink.seen == [((0, 0), ("top.level.level", 1))]


def test_a_zero_delay_cycle_through_a_container_is_rejected():
    env = Environment()
    a = env.create(Wrapper, "a")
    b = env.create(Wrapper, "b")
    env.connect(a.out, b.inp)
    env.connect(b.out, a.inp)
    with pytest.raises(CycleError, match=r"a\.inner\.double.*b\.inner\.double|b\.inner\.double.*a\.inner"):
        env.assemble()


def test_bad_hierarchical_connections_and_effects_name_the_container():
    class Outward(Reactor):
        def __init__(self):
            self.out = self.output("out")
            self.child = self.create(Doubler, "child")
            self.connect(self.out, self.child.inp)  # an own output cannot feed a child

    with pytest.raises(AssemblyError, match=r"outward: connection source outward\.out is not one of"):
        Environment().create(Outward, "outward")

    class Grandchild(Reactor):
        def __init__(self):
            self.mid = self.create(Wrapper, "mid")
            self.reaction(lambda: None, triggers=[self.startup], effects=[self.mid.inner.inp], name="deep")

    with pytest.raises(AssemblyError, match=r"grand\.deep: effect grand\.mid\.inner\.inp"):
        Environment().create(Grandchild, "grand")

    class Twice(Reactor):
        """Sets a child's input that a connection already drives."""

        def __init__(self):
            self.inp = self.input("inp")
            self.child = self.create(Doubler, "child")
            self.connect(self.inp, self.child.inp)
            self.reaction(lambda: None, triggers=[self.startup], effects=[self.child.inp], name="clash")

    env = Environment()
    env.create(Twice, "twice")
    with pytest.raises(MultipleDriversError, match=r"twice\.child\.inp is connected from twice\.inp"):
        env.assemble()


def test_setting_a_contained_input_without_declaring_it_is_an_error():
    class Sloppy(Reactor):
        def __init__(self):
            self.child = self.create(Printer, "child")
            self.reaction(self.send, triggers=[self.startup])

        def send(self) -> None:
            self.child.x.set(1)

    env = Environment()
    env.create(Sloppy, "sloppy")
    with pytest.raises(ReactionFailed) as info:
        env.run()
    assert isinstance(info.value.__cause__, UndeclaredEffectError)
    assert "reaction sloppy.send set sloppy.child.x without declaring it as an effect" in str(info.value)
