"""Cycles, exception propagation and bad input: each mistake raises the runtime's own exception type."""

from __future__ import annotations

import threading
import time

import pytest

from backends.reactor import (
    AbsentValueError,
    AssemblyError,
    CycleError,
    Environment,
    MultipleDriversError,
    PastScheduleError,
    ReactionFailed,
    Reactor,
    ReactorError,
    UndeclaredEffectError,
    UndeclaredSourceError,
    WidthMismatchError,
    msec,
)


def worker_threads() -> set[threading.Thread]:
    """Live pool threads (compare with a snapshot: other tests' leftovers are not this test's)."""
    return {t for t in threading.enumerate() if t.name.startswith("reactor-worker-")}


class Relay(Reactor):
    """Forwards ``inp`` to ``out``; also kicks off a value at startup when ``start`` is given."""

    def __init__(self, start: object = None, limit: int = 5):
        self.start = start
        self.limit = limit
        self.inp = self.input("inp")
        self.out = self.output("out")
        self.seen: list = []
        self.reaction(self.kick, triggers=[self.startup], effects=[self.out])
        self.reaction(self.relay, triggers=[self.inp], effects=[self.out])

    def kick(self) -> None:
        if self.start is not None:
            self.out.set(self.start)

    def relay(self) -> None:
        value = self.inp.value
        self.seen.append((self.tag, value))
        if value < self.limit:
            self.out.set(value + 1)


# ----- cycles ----------------------------------------------------------------------------------------


def test_a_zero_delay_cycle_is_rejected_naming_the_reactions_on_it():
    env = Environment()
    a = env.create(Relay, "a", 0)
    b = env.create(Relay, "b")
    c = env.create(Relay, "c")
    env.connect(a.out, b.inp)
    env.connect(b.out, c.inp)
    env.connect(c.out, a.inp)
    with pytest.raises(CycleError) as info:
        env.run()
    message = str(info.value)
    assert message.startswith("zero-delay cycle: ")
    for name in ("a.relay", "b.relay", "c.relay"):
        assert name in message
    steps = message.removeprefix("zero-delay cycle: ").split(" -> ")
    assert steps[0] == steps[-1] and len(steps) == 4  # a closed path through the three reactions
    assert a.seen == []  # rejected at assembly: nothing ran


def test_a_cycle_through_declaration_order_inside_a_reactor_is_rejected():
    """r1 (reads inp) precedes r2 (writes out) in one reactor, and out feeds inp back with no delay."""

    class Loop(Reactor):
        def __init__(self):
            self.inp = self.input("inp")
            self.out = self.output("out")
            self.reaction(self.read, triggers=[self.inp], name="r1")
            self.reaction(self.write, triggers=[self.startup], effects=[self.out], name="r2")

        def read(self) -> None:
            pass

        def write(self) -> None:
            pass

    env = Environment()
    first = env.create(Loop, "first")
    second = env.create(Loop, "second")
    env.connect(first.out, second.inp)
    env.connect(second.out, first.inp)
    with pytest.raises(CycleError, match=r"first\.r1.*first\.r2|first\.r2.*first\.r1"):
        env.assemble()


def test_a_cycle_broken_by_a_delayed_connection_is_accepted():
    env = Environment(timeout=msec(100))
    a = env.create(Relay, "a", 0)
    b = env.create(Relay, "b")
    env.connect(a.out, b.inp)
    env.connect(b.out, a.inp, delay=msec(1))
    env.run()
    assert b.seen == [((0, 0), 0), ((msec(1), 0), 2), ((msec(2), 0), 4)]
    assert a.seen == [((msec(1), 0), 1), ((msec(2), 0), 3), ((msec(3), 0), 5)]


def test_a_cycle_broken_by_a_logical_action_is_accepted():
    class Ping(Reactor):
        def __init__(self):
            self.inp = self.input("inp")
            self.out = self.output("out")
            self.later = self.logical_action("later", min_delay=msec(1))
            self.seen: list = []
            # the sending reaction comes first, so declaration order adds no edge against the loop
            self.reaction(self.send, triggers=[self.startup, self.later], effects=[self.out])
            self.reaction(self.receive, triggers=[self.inp], effects=[self.later])

        def send(self) -> None:
            self.out.set(self.later.value if self.later.is_present else 0)

        def receive(self) -> None:
            self.seen.append((self.tag, self.inp.value))
            if self.inp.value < 6:
                self.later.schedule(self.inp.value)

    env = Environment()
    ping = env.create(Ping, "ping")
    pong = env.create(Relay, "pong")
    env.connect(ping.out, pong.inp)
    env.connect(pong.out, ping.inp)
    env.run()
    assert pong.seen == [((msec(k), 0), k) for k in range(6)]  # pong stops relaying at its limit, 5
    assert ping.seen == [((msec(k), 0), k + 1) for k in range(5)]


# ----- exceptions in reactions ---------------------------------------------------------------------


class Fragile(Reactor):
    """Member ``fail_index`` of the bank raises ValueError at startup; the others take a moment."""

    def __init__(self, fail_index: int, threads_seen: list):
        self.fail_index = fail_index
        self.threads_seen = threads_seen
        self.ran = False
        self.shutdowns = 0
        self.later = self.logical_action("later")
        self.late_runs = 0
        self.reaction(self.on_startup, triggers=[self.startup], effects=[self.later])
        self.reaction(self.on_later, triggers=[self.later])
        self.reaction(self.on_shutdown, triggers=[self.shutdown])

    def on_startup(self) -> None:
        self.threads_seen.extend(worker_threads())
        self.later.schedule(None, msec(1))
        if self.bank_index == self.fail_index:
            raise ValueError("boom")
        time.sleep(0.01)
        self.ran = True

    def on_later(self) -> None:
        self.late_runs += 1

    def on_shutdown(self) -> None:
        self.shutdowns += 1


@pytest.mark.timeout(30)
@pytest.mark.parametrize("workers", [1, 4])
def test_an_exception_stops_cleanly_and_is_reraised_naming_reactor_and_reaction(workers):
    threads_seen: list = []
    before = worker_threads()
    env = Environment(workers=workers)
    bank = env.bank(Fragile, 4, "w", 2, threads_seen)
    with pytest.raises(ReactionFailed) as info:
        env.run()
    error = info.value
    assert isinstance(error.__cause__, ValueError)
    assert error.original is error.__cause__
    assert str(error.__cause__) == "boom"
    assert (error.reactor, error.reaction, error.tag) == ("w[2]", "on_startup", (0, 0))
    assert "'w[2]'" in str(error) and "'on_startup'" in str(error) and "ValueError: boom" in str(error)
    assert [m.shutdowns for m in bank] == [1, 1, 1, 1]  # shutdown reactions ran, once each
    assert [m.late_runs for m in bank] == [0, 0, 0, 0]  # pending events were dropped
    if workers == 1:
        assert [m.ran for m in bank] == [True, True, False, False]  # inline: stops at the failure
    else:
        assert set(threads_seen) - before, "the pool's threads should have been running"
        assert [m.ran for m in bank] == [True, True, False, True]  # the level completes first
    assert worker_threads() <= before  # the pool's threads are gone


def test_an_exception_in_a_driven_program_also_stops_it():
    class Bad(Reactor):
        def __init__(self):
            self.pa = self.physical_action("pa")
            self.shutdowns = 0
            self.reaction(self.on_pa, triggers=[self.pa])
            self.reaction(self.on_shutdown, triggers=[self.shutdown])

        def on_pa(self) -> None:
            raise KeyError(self.pa.value)

        def on_shutdown(self) -> None:
            self.shutdowns += 1

    before = worker_threads()
    env = Environment(workers=2)
    bad = env.create(Bad, "bad")
    env.start()
    bad.pa.schedule("x")
    with pytest.raises(ReactionFailed, match=r"'on_pa' of reactor 'bad'.*KeyError"):
        env.run_until_idle()
    env.stop()
    assert bad.shutdowns == 1
    assert worker_threads() <= before


# ----- bad input -----------------------------------------------------------------------------------


def test_two_outputs_driving_one_input():
    env = Environment()
    a = env.create(Relay, "a")
    b = env.create(Relay, "b")
    c = env.create(Relay, "c")
    env.connect(a.out, c.inp)
    with pytest.raises(MultipleDriversError) as info:
        env.connect(b.out, c.inp)
    assert str(info.value) == "c.inp is already connected from a.out; cannot also connect b.out"


def test_bank_width_mismatch():
    class Gather(Reactor):
        def __init__(self):
            self.ins = self.input("ins", 5)

    env = Environment()
    bank = env.bank(Relay, 6, "rollout")
    gather = env.create(Gather, "gather")
    with pytest.raises(WidthMismatchError) as info:
        env.connect(bank.port("out"), gather.ins)
    message = str(info.value)
    assert "rollout[0].out" in message and "rollout[5].out" in message and "gather.ins[4]" in message


class Reader(Reactor):
    """Reactions that make each kind of run-time mistake, selected by ``mistake``."""

    def __init__(self, mistake: str):
        self.mistake = mistake
        self.inp = self.input("inp")
        self.out = self.output("out")
        self.act = self.logical_action("act")
        self.shutdowns = 0
        sources = [self.inp] if mistake == "absent" else []
        self.reaction(self.misbehave, triggers=[self.startup], sources=sources, name="misbehave")
        self.reaction(self.on_shutdown, triggers=[self.shutdown])

    def misbehave(self) -> None:
        if self.mistake in ("absent", "undeclared source"):
            self.inp.value  # noqa: B018
        elif self.mistake == "undeclared output":
            self.out.set(1)
        elif self.mistake == "undeclared action":
            self.act.schedule(1)

    def on_shutdown(self) -> None:
        self.shutdowns += 1


@pytest.mark.parametrize(
    ("mistake", "error_type", "message"),
    [
        ("absent", AbsentValueError, r"^reader\.inp is absent at tag \(0, 0\)$"),
        (
            "undeclared source",
            UndeclaredSourceError,
            r"^reaction reader\.misbehave read reader\.inp without declaring it as a trigger or source$",
        ),
        (
            "undeclared output",
            UndeclaredEffectError,
            r"^reaction reader\.misbehave set reader\.out without declaring it as an effect$",
        ),
        (
            "undeclared action",
            UndeclaredEffectError,
            r"^reaction reader\.misbehave scheduled reader\.act without declaring it as an effect$",
        ),
    ],
)
def test_run_time_mistakes_in_reactions(mistake, error_type, message):
    env = Environment()
    reader = env.create(Reader, "reader", mistake)
    with pytest.raises(ReactionFailed) as info:
        env.run()
    assert isinstance(info.value.__cause__, error_type)
    assert info.value.__cause__.__class__ is error_type
    with pytest.raises(error_type, match=message):
        raise info.value.__cause__
    assert (info.value.reactor, info.value.reaction) == ("reader", "misbehave")
    assert reader.shutdowns == 1


def test_mistakes_outside_any_reaction_raise_directly():
    env = Environment()
    reader = env.create(Reader, "reader", "none")
    env.run()
    with pytest.raises(UndeclaredSourceError, match=r"code outside any reaction of reader read reader\.inp"):
        reader.inp.value  # noqa: B018
    with pytest.raises(UndeclaredEffectError, match=r"code outside any reaction of reader set reader\.out"):
        reader.out.set(1)
    with pytest.raises(UndeclaredEffectError, match=r"outside any reaction of reader scheduled reader\.act"):
        reader.act.schedule(1)


def test_scheduling_with_a_negative_delay():
    class Past(Reactor):
        def __init__(self):
            self.act = self.logical_action("act")
            self.reaction(self.go_back, triggers=[self.startup], effects=[self.act])

        def go_back(self) -> None:
            self.act.schedule(None, -1)

    env = Environment()
    env.create(Past, "past")
    with pytest.raises(ReactionFailed) as info:
        env.run()
    assert isinstance(info.value.__cause__, PastScheduleError)
    assert "past.go_back scheduled past.act with delay -1 ns" in str(info.value.__cause__)


def test_negative_offsets_periods_min_delays_and_connection_delays():
    class Broken(Reactor):
        def __init__(self, what: str):
            if what == "timer":
                self.timer("t", offset=-1)
            elif what == "period":
                self.timer("t", period=-1)
            elif what == "logical":
                self.logical_action("a", min_delay=-1)
            else:
                self.physical_action("p", min_delay=-1)

    for what, name in [("timer", "t"), ("period", "t"), ("logical", "a"), ("physical", "p")]:
        with pytest.raises(PastScheduleError, match=rf"broken\.{name}"):
            Environment().create(Broken, "broken", what)
    env = Environment()
    a = env.create(Relay, "a")
    b = env.create(Relay, "b")
    with pytest.raises(AssemblyError, match=r"a\.out -> b\.inp: delay must be >= 0"):
        env.connect(a.out, b.inp, delay=-5)


def test_duplicate_reactor_names():
    env = Environment()
    env.create(Relay, "x")
    with pytest.raises(AssemblyError, match=r"two reactors are named 'x'"):
        env.create(Relay, "x")
    env.bank(Relay, 3, "w")
    with pytest.raises(AssemblyError, match=r"two reactors are named 'w\[1\]'"):
        env.create(Relay, "w[1]")
    with pytest.raises(AssemblyError, match=r"two reactors are named 'w\[0\]'"):
        env.bank(Relay, 2, "w")


def test_bad_settings_and_declarations():
    with pytest.raises(ReactorError, match="workers must be >= 1, got 0"):
        Environment(workers=0)
    with pytest.raises(ReactorError, match="timeout must be >= 0"):
        Environment(timeout=-1)
    with pytest.raises(AssemblyError, match="width must be >= 1"):
        Environment().bank(Relay, 0, "empty")

    class NoTrigger(Reactor):
        def __init__(self):
            self.reaction(lambda: None, triggers=[], name="idle")

    with pytest.raises(AssemblyError, match=r"notrigger\.idle: a reaction needs at least one trigger"):
        Environment().create(NoTrigger, "notrigger")

    class ForeignEffect(Reactor):
        def __init__(self, other: Reactor):
            self.reaction(lambda: None, triggers=[self.startup], effects=[other.out], name="steal")

    env = Environment()
    victim = env.create(Relay, "victim")
    with pytest.raises(AssemblyError, match=r"thief\.steal: effect victim\.out belongs to another reactor"):
        env.create(ForeignEffect, "thief", victim)
    with pytest.raises(AssemblyError, match=r"connection source victim\.inp is not an output"):
        env.connect(victim.inp, victim.inp)


def test_every_error_type_is_a_reactor_error():
    for error_type in (
        AssemblyError,
        CycleError,
        MultipleDriversError,
        WidthMismatchError,
        UndeclaredEffectError,
        UndeclaredSourceError,
        AbsentValueError,
        PastScheduleError,
        ReactionFailed,
    ):
        assert issubclass(error_type, ReactorError)
    assert issubclass(CycleError, AssemblyError)
