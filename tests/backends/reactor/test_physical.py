"""Physical actions scheduled from other threads: every event delivered, tags strictly increasing."""

from __future__ import annotations

import itertools
import threading

import pytest

from backends.reactor import Environment, PastScheduleError, Reactor, ReactorError, msec, sec
from backends.reactor import scheduler as scheduler_module


class Inbox(Reactor):
    """Records every physical event; optionally keeps logical time running far ahead (fast mode)."""

    def __init__(self, ahead_steps: int = 0, expect: int = 0):
        self.ahead_steps = ahead_steps
        self.expect = expect
        self.all_seen = threading.Event()
        self.n = 0
        self.pa = self.physical_action("pa")
        self.tick = self.logical_action("tick")
        self.seen: list = []
        self.tags: list = []
        self.started = threading.Event()
        self.reaction(self.on_startup, triggers=[self.startup], effects=[self.tick])
        self.reaction(self.on_tick, triggers=[self.tick], effects=[self.tick])
        self.reaction(self.on_pa, triggers=[self.pa])
        self.reaction(self.on_shutdown, triggers=[self.shutdown])

    def on_startup(self) -> None:
        self.tags.append(self.tag)
        if self.ahead_steps:
            self.tick.schedule(None, sec(1))
        self.started.set()

    def on_tick(self) -> None:
        self.tags.append(self.tag)
        self.n += 1
        if self.n < self.ahead_steps:
            self.tick.schedule(None, sec(1))

    def on_pa(self) -> None:
        self.tags.append(self.tag)
        self.seen.append((self.tag, self.pa.value))
        if len(self.seen) == self.expect:
            self.all_seen.set()

    def on_shutdown(self) -> None:
        self.tags.append(self.tag)


def run_with_pushers(env: Environment, inbox: Inbox, threads: int, per_thread: int) -> None:
    go = threading.Barrier(threads)

    def push(k: int) -> None:
        assert inbox.started.wait(10)
        go.wait(10)
        for i in range(per_thread):
            inbox.pa.schedule((k, i))

    pushers = [threading.Thread(target=push, args=(k,)) for k in range(threads)]

    def stop_when_done() -> None:
        for thread in pushers:
            thread.join()
        # request_stop ends at the current tag + 1 microstep and drops events not yet processed, so
        # wait (bounded) until the program has seen them all: a lost event fails the checks below
        inbox.all_seen.wait(20)
        env.request_stop()

    for thread in pushers:
        thread.start()
    stopper = threading.Thread(target=stop_when_done)
    stopper.start()
    env.run()
    stopper.join()


def check_all_delivered(inbox: Inbox, threads: int, per_thread: int) -> None:
    values = [value for _, value in inbox.seen]
    assert sorted(values) == [(k, i) for k in range(threads) for i in range(per_thread)]
    for k in range(threads):  # each thread's events arrive in the order it scheduled them
        assert [i for kk, i in values if kk == k] == list(range(per_thread))
    tags = inbox.tags
    assert all(a < b for a, b in itertools.pairwise(tags)), "tags must strictly increase"


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("fast", "workers"), [(True, 1), (False, 1), (True, 2)])
def test_concurrent_schedulers_all_delivered_in_increasing_tags(fast, workers):
    env = Environment(fast=fast, workers=workers)
    inbox = env.create(Inbox, "inbox", expect=400)
    run_with_pushers(env, inbox, threads=4, per_thread=100)
    check_all_delivered(inbox, 4, 100)


@pytest.mark.timeout(60)
def test_concurrent_schedulers_while_logical_time_runs_ahead_of_physical_time():
    """Fast mode with 1 s logical steps: physical events land at (now, m+1) and must neither collide
    with each other (a lost value) nor be given a tag behind the one being processed."""
    env = Environment(fast=True, keepalive=True)
    inbox = env.create(Inbox, "inbox", ahead_steps=3000, expect=900)
    run_with_pushers(env, inbox, threads=3, per_thread=300)
    check_all_delivered(inbox, 3, 300)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("call", ["schedule", "request_stop"])
def test_a_call_from_another_thread_as_a_tag_begins_never_lands_in_the_past(monkeypatch, call):
    """Deterministic version of a race: another thread schedules (or requests stop) after the scheduler
    has chosen the next tag but before it processes it; the result must come after that tag."""
    env = Environment(fast=True, timeout=sec(10))
    inbox = env.create(Inbox, "inbox", ahead_steps=3)
    original = scheduler_module.Scheduler._process

    def process(self, tag, events):
        if tag == (sec(2), 0):
            action = (lambda: inbox.pa.schedule("late")) if call == "schedule" else env.request_stop
            thread = threading.Thread(target=action)
            thread.start()
            thread.join()
        return original(self, tag, events)

    monkeypatch.setattr(scheduler_module.Scheduler, "_process", process)
    env.run()
    tags = inbox.tags
    assert all(a < b for a, b in itertools.pairwise(tags)), tags
    if call == "schedule":
        assert inbox.seen == [((sec(2), 1), "late")]
        assert tags[-1] == (sec(10), 0)
    else:
        assert tags == [(0, 0), (sec(1), 0), (sec(2), 0), (sec(2), 1)]  # shutdown right after (2 s, 0)


def test_events_scheduled_for_the_same_tag_pile_up_in_microsteps():
    env = Environment(fast=True)
    inbox = env.create(Inbox, "inbox", ahead_steps=1)
    env.start()
    assert env.tag == (sec(1), 0)  # logical time is now ahead of physical time
    for value in "abc":
        inbox.pa.schedule(value)
    env.run_until_idle()
    env.stop()
    assert inbox.seen == [((sec(1), 1), "a"), ((sec(1), 2), "b"), ((sec(1), 3), "c")]


def test_physical_min_delay_and_delay_are_added_to_physical_time():
    class Delayed(Reactor):
        def __init__(self):
            self.pa = self.physical_action("pa", min_delay=msec(30))
            self.seen: list = []
            self.reaction(self.on_pa, triggers=[self.pa])

        def on_pa(self) -> None:
            self.seen.append(self.logical_time)

    env = Environment(fast=False)
    delayed = env.create(Delayed, "delayed")
    env.start()
    before = env.physical_time()
    delayed.pa.schedule(None, msec(20))
    env.run_until_idle()
    after = env.physical_time()
    env.stop()
    assert len(delayed.seen) == 1
    assert delayed.seen[0] >= before + msec(50)
    assert after >= delayed.seen[0]  # non-fast: the tag was not processed before its time


def test_negative_delay_and_scheduling_when_not_running_are_errors():
    env = Environment()
    inbox = env.create(Inbox, "inbox")
    with pytest.raises(ReactorError, match=r"inbox\.pa scheduled while the program is not running"):
        inbox.pa.schedule(1)  # before assembly
    env.assemble()
    with pytest.raises(ReactorError, match="not running"):
        inbox.pa.schedule(1)  # assembled, not started
    env.start()
    with pytest.raises(PastScheduleError, match=r"inbox\.pa"):
        inbox.pa.schedule(1, -5)
    env.stop()
