"""Banks, multiports, broadcast, gather order and pass-by-reference."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from backends.reactor import AssemblyError, Environment, Multiport, Reactor, WidthMismatchError


class Member(Reactor):
    """Records what it knew in ``__init__``; echoes its input tagged with its bank index."""

    def __init__(self, scale: int = 1):
        self.index_at_init = self.bank_index
        self.fqn_at_init = self.fqn
        self.scale = scale
        self.inp = self.input("inp")
        self.out = self.output("out")
        self.received: list = []
        self.reaction(self.on_inp, triggers=[self.inp], effects=[self.out])

    def on_inp(self) -> None:
        value = self.inp.value
        self.received.append(value)
        self.out.set((self.bank_index, value))


class Hub(Reactor):
    """Sends one value at startup and gathers a multiport of replies."""

    def __init__(self, width: int, payload: object = "hello"):
        self.payload = payload
        self.out = self.output("out")
        self.replies = self.input("replies", width)
        self.gathered: list = []
        self.reaction(self.send, triggers=[self.startup], effects=[self.out])
        self.reaction(self.gather, triggers=[self.replies])

    def send(self) -> None:
        self.out.set(self.payload)

    def gather(self) -> None:
        self.gathered.append(self.replies.values())


def test_bank_index_and_name_are_set_before_init_runs():
    env = Environment()
    bank = env.bank(Member, 5, "w", scale=2)
    single = env.create(Member, "solo")
    assert bank.name == "w"
    assert [m.index_at_init for m in bank] == [0, 1, 2, 3, 4]
    assert [m.fqn_at_init for m in bank] == ["w[0]", "w[1]", "w[2]", "w[3]", "w[4]"]
    assert bank[3].fqn == "w[3]"
    assert bank[3].inp.fqn == "w[3].inp"
    assert all(m.scale == 2 for m in bank)
    assert (single.index_at_init, single.fqn_at_init) == (None, "solo")


def test_bank_port_lists_members_in_bank_order_and_rejects_unknown_names():
    env = Environment()
    bank = env.bank(Member, 3, "w")
    assert bank.port("inp") == [bank[0].inp, bank[1].inp, bank[2].inp]
    with pytest.raises(AssemblyError, match=r"w\[0\] has no port 'nope'"):
        bank.port("nope")


def test_broadcast_one_output_to_a_whole_bank_delivers_the_same_object():
    payload = np.arange(1000.0)
    env = Environment(workers=2)
    hub = env.create(Hub, "hub", 4, payload)
    bank = env.bank(Member, 4, "w")
    env.connect(hub.out, bank.port("inp"), broadcast=True)
    env.connect(bank.port("out"), hub.replies)
    env.run()
    # values pass by reference: the very same array at every member, and back in the gather
    assert all(len(m.received) == 1 and m.received[0] is payload for m in bank)
    assert len(hub.gathered) == 1
    assert [i for i, _ in hub.gathered[0]] == [0, 1, 2, 3]
    assert all(value is payload for _, value in hub.gathered[0])


def test_one_output_to_a_bank_without_broadcast_is_a_width_mismatch():
    env = Environment()
    hub = env.create(Hub, "hub", 4)
    bank = env.bank(Member, 4, "w")
    with pytest.raises(WidthMismatchError) as info:
        env.connect(hub.out, bank.port("inp"))
    message = str(info.value)
    assert "hub.out" in message and "w[0].inp" in message and "w[3].inp" in message
    assert "broadcast=True" in message


def test_bank_outputs_to_a_narrower_multiport_is_a_width_mismatch():
    env = Environment()
    hub = env.create(Hub, "hub", 3)
    bank = env.bank(Member, 4, "w")
    with pytest.raises(WidthMismatchError, match=r"width 4 does not match width 3"):
        env.connect(bank.port("out"), hub.replies)


def test_broadcast_width_must_divide_evenly():
    class Two(Reactor):
        def __init__(self):
            self.outs = self.output("outs", 2)

    env = Environment()
    two = env.create(Two, "two")
    bank3 = env.bank(Member, 3, "three")
    with pytest.raises(WidthMismatchError, match=r"3 inputs are not a multiple of 2 outputs"):
        env.connect(two.outs, bank3.port("inp"), broadcast=True)


def test_broadcast_of_a_multiport_repeats_its_channels_across_the_bank():
    class Two(Reactor):
        def __init__(self):
            self.outs = self.output("outs", 2)
            self.reaction(self.send, triggers=[self.startup], effects=[self.outs])

        def send(self) -> None:
            self.outs[0].set("even")
            self.outs[1].set("odd")

    env = Environment()
    two = env.create(Two, "two")
    bank = env.bank(Member, 4, "w")
    env.connect(two.outs, bank.port("inp"), broadcast=True)
    env.run()
    assert [m.received for m in bank] == [["even"], ["odd"], ["even"], ["odd"]]


def test_multiports_declare_channels_and_connect_one_to_one():
    class Fan(Reactor):
        def __init__(self):
            self.outs = self.output("outs", 3)
            self.reaction(self.send, triggers=[self.startup], effects=[self.outs])

        def send(self) -> None:
            self.outs[0].set("a")
            self.outs[2].set("c")  # channel 1 stays absent

    class Collect(Reactor):
        def __init__(self):
            self.ins = self.input("ins", 3)
            self.present: list = []
            self.reaction(self.on_any, triggers=[self.ins])

        def on_any(self) -> None:
            self.present.append(self.ins.present())

    env = Environment()
    fan = env.create(Fan, "fan")
    collect = env.create(Collect, "collect")
    assert isinstance(fan.outs, Multiport) and fan.outs.width == 3
    assert [p.fqn for p in collect.ins] == ["collect.ins[0]", "collect.ins[1]", "collect.ins[2]"]
    env.connect(fan.outs, collect.ins)
    env.run()
    assert collect.present == [[(0, "a"), (2, "c")]]


class OutOfOrder(Reactor):
    """Member i waits until member i+1 has set its output, so the bank finishes in reverse order."""

    def __init__(self, done: list[threading.Event], order: list):
        self.done = done
        self.order = order
        self.inp = self.input("inp")
        self.out = self.output("out")
        self.reaction(self.on_inp, triggers=[self.inp], effects=[self.out])

    def on_inp(self) -> None:
        i = self.bank_index
        if i + 1 < len(self.done):
            assert self.done[i + 1].wait(5), "bank members did not run concurrently"
        self.out.set(f"result {i}")
        self.order.append(i)
        self.done[i].set()


@pytest.mark.timeout(30)
def test_gather_is_in_bank_order_regardless_of_which_member_set_first():
    width = 4
    done = [threading.Event() for _ in range(width)]
    order: list = []
    env = Environment(workers=width)
    hub = env.create(Hub, "hub", width)
    bank = env.bank(OutOfOrder, width, "w", done, order)
    env.connect(hub.out, bank.port("inp"), broadcast=True)
    env.connect(bank.port("out"), hub.replies)
    env.run()
    assert order == [3, 2, 1, 0]  # the members really did set their outputs last-index-first
    assert hub.gathered == [["result 0", "result 1", "result 2", "result 3"]]


def test_each_bank_member_receives_the_identical_object_from_a_per_member_sender():
    """Bank to bank, one to one: object identity survives a hop through two connections."""

    class Producer(Reactor):
        def __init__(self):
            self.out = self.output("out")
            self.sent: list = []
            self.reaction(self.send, triggers=[self.startup], effects=[self.out])

        def send(self) -> None:
            value = {"from": self.bank_index}
            self.sent.append(value)
            self.out.set(value)

    env = Environment(workers=3)
    producers = env.bank(Producer, 3, "p")
    consumers = env.bank(Member, 3, "c")
    env.connect(producers.port("out"), consumers.port("inp"))
    env.run()
    for producer, consumer in zip(producers, consumers, strict=True):
        assert consumer.received[0] is producer.sent[0]
