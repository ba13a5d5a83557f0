"""The tag loop: event queue ordered by tag, level buckets, stop and shutdown, failure handling.

This is the runtime's hot path. Reactions ready at a tag sit in one bucket per level; the loop walks
the levels from the lowest non-empty to the highest, so nothing is ever sorted. With one worker the
bodies run inline on the caller's thread; with more, a level of several reactions goes to the pool.
"""

from __future__ import annotations

import heapq
import itertools
import sys
import threading
import time
from typing import Any

from .errors import ReactionFailed, ReactorError
from .modes import LevelModes
from .pool import LevelFailure, WorkerPool
from .reactor import Reaction
from .timeunits import Tag
from .triggers import Shutdown, Startup, Timer, Trigger

PARALLEL_THRESHOLD_S = 50e-6
"""A level whose reactions took less than this in total (at their last run) runs inline: waking
another thread and meeting at the barrier costs about as much, so the pool could only lose time."""


class Scheduler:
    """Runs an assembled program; ports and triggers use it as their clock (``stamp``, ``tag``)."""

    def __init__(
        self,
        reactions: list[Reaction],
        n_levels: int,
        triggers: list[Trigger],
        *,
        workers: int,
        fast: bool,
        timeout: int | None,
        keepalive: bool,
    ):
        self.stamp = 0
        self.tag: Tag = (0, 0)
        self.reactions_executed = 0
        self.tags_processed = 0
        self._reactions = reactions
        self._buckets: list[list[Reaction]] = [[] for _ in range(n_levels)]
        self._lo = n_levels
        self._hi = -1
        self._queue: list[tuple[int, int, int, Any, Any]] = []
        self._seq = itertools.count()
        self._pending: set[tuple[Any, int, int]] = set()
        """(action, time, microstep) of every action event on the queue: a second event of one
        action at one tag moves to the next free microstep instead of replacing the first."""
        self._lock = threading.Lock()
        self._wakeup = threading.Condition(self._lock)
        self._fast = fast
        self._keepalive = keepalive
        self._stop_tag: Tag | None = None if timeout is None else (timeout, 0)
        self._start_ns: int | None = None
        self._finished = False
        self._pool = WorkerPool(workers) if workers > 1 else None
        self._modes = LevelModes(n_levels)
        self._spent: list[Any] = []
        self._hook_level = sys.maxsize
        """The level at which ``_level_hook`` runs next (federates: send final outputs, wait for
        inputs from other processes); never reached in a single process."""
        self._startups = [t for t in triggers if isinstance(t, Startup)]
        self._shutdowns = [t for t in triggers if isinstance(t, Shutdown)]
        self._timers = [t for t in triggers if isinstance(t, Timer)]

    # ----- used by ports and triggers -------------------------------------------------------------

    def enqueue_all(self, reactions: list[Reaction]) -> None:
        stamp = self.stamp
        buckets = self._buckets
        for reaction in reactions:
            if reaction._stamp != stamp:
                reaction._stamp = stamp
                level = reaction.level
                buckets[level].append(reaction)
                if level < self._lo:
                    self._lo = level
                if level > self._hi:
                    self._hi = level

    def push_event(self, tag: Tag, trigger: Any, value: Any) -> None:
        with self._lock:
            heapq.heappush(self._queue, (tag[0], tag[1], next(self._seq), trigger, value))

    def push_action(self, tag: Tag, trigger: Any, value: Any) -> None:
        """An action event: if the action already has one at ``tag``, this one takes the next free
        microstep (LF's default policy for actions without a minimum spacing: none is lost)."""
        with self._lock:
            self._push_action(tag, trigger, value)

    def _push_action(self, tag: Tag, trigger: Any, value: Any) -> Tag:
        pending = self._pending
        time_, microstep = tag
        while (trigger, time_, microstep) in pending:
            microstep += 1
        pending.add((trigger, time_, microstep))
        heapq.heappush(self._queue, (time_, microstep, next(self._seq), trigger, value))
        return (time_, microstep)

    def push_physical(self, trigger: Any, value: Any, delay: int) -> Tag:
        """Puts a physical event on the queue at its wall-clock tag; returns that tag."""
        with self._lock:
            if self._start_ns is None or self._finished:
                raise ReactorError(f"{trigger.fqn} scheduled while the program is not running")
            when = time.monotonic_ns() - self._start_ns + delay
            now, microstep = self.tag
            tag = self._push_action((when, 0) if when > now else (now, microstep + 1), trigger, value)
            self._wakeup.notify()
            return tag

    def request_stop(self) -> None:
        """Stop at the next microstep (or sooner, if a timeout comes first); thread-safe."""
        with self._lock:
            candidate = (self.tag[0], self.tag[1] + 1)
            if self._stop_tag is None or candidate < self._stop_tag:
                self._stop_tag = candidate
            self._wakeup.notify()

    def physical_time(self) -> int:
        """Nanoseconds of wall-clock time since the program started."""
        return 0 if self._start_ns is None else time.monotonic_ns() - self._start_ns

    @property
    def finished(self) -> bool:
        return self._finished

    # ----- driving ---------------------------------------------------------------------------------

    def begin(self) -> None:
        """Puts the startup tag's events on the queue and starts the clock."""
        if self._start_ns is not None:
            raise ReactorError("the program was already started")
        self._start_ns = time.monotonic_ns()
        for trigger in self._startups:
            self.push_event((0, 0), trigger, None)
        for timer in self._timers:
            self.push_event((timer.offset, 0), timer, None)

    def run(self, *, until_idle: bool, horizon: int | None = None) -> None:
        """Processes tags until the program ends, or (``until_idle``) until no event is pending, or
        (``horizon``) until the next tag lies after logical time ``horizon``."""
        while not self._finished:
            step = self._next_tag(until_idle, horizon)
            if step is None:
                return
            self._process(*step)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def _next_tag(self, until_idle: bool, horizon: int | None) -> tuple[Tag, list[tuple[Any, Any]]] | None:
        with self._lock:
            queue = self._queue
            while True:
                stop = self._stop_tag
                head = (queue[0][0], queue[0][1]) if queue else None
                if head is None and not until_idle and not self._keepalive:
                    # Starvation: no event left and none can come, so the program ends at the next
                    # microstep, with a timeout or without one (waiting for it would change nothing).
                    starved = (self.tag[0], self.tag[1] + 1)
                    if stop is None or starved < stop:
                        self._stop_tag = stop = starved
                if stop is not None and (head is None or head > stop):
                    target = stop
                elif head is not None:
                    target = head
                elif until_idle:
                    return None
                else:
                    self._wakeup.wait()  # keepalive: wait for a physical action or a stop request
                    continue
                if horizon is not None and target[0] > horizon:
                    return None
                if not self._fast:
                    remaining = target[0] - (time.monotonic_ns() - self._start_ns)
                    if remaining > 0:
                        self._wakeup.wait(remaining / 1e9)
                        continue
                events: list[tuple[Any, Any]] = []
                pending = self._pending
                while queue and (queue[0][0], queue[0][1]) == target:
                    item = heapq.heappop(queue)
                    events.append((item[3], item[4]))
                    if pending:
                        pending.discard((item[3], item[0], item[1]))
                # Set under the lock: a request_stop or physical action from another thread must see
                # this tag as current, or it could be given a tag in the logical past.
                self.tag = target
                return target, events

    def _process(self, tag: Tag, events: list[tuple[Any, Any]]) -> None:
        self.tag = tag
        self.stamp += 1
        self.tags_processed += 1
        spent = self._spent
        try:
            for trigger, value in events:
                trigger._fire(value)
                spent.append(trigger)
            events.clear()  # the caller's list would keep the tag's values alive past the tag
            if tag == self._stop_tag:
                self._finished = True
                for trigger in self._shutdowns:
                    trigger._fire(None)
            self._run_levels()
        except BaseException as error:
            self._fail(error)
        finally:
            self._release(spent)

    @staticmethod
    def _release(spent: list[Any]) -> None:
        """Drops the tag's values: they are absent from now on, and holding them would keep, say, the
        previous round's arrays alive while the next round allocates new ones."""
        for element in spent:
            element._value = None
        spent.clear()

    def _run_levels(self) -> None:
        buckets = self._buckets
        pool = self._pool
        modes = self._modes
        stamp = self.stamp
        spent = self._spent
        level = self._lo
        try:
            while level <= self._hi:
                if level >= self._hook_level:
                    self._level_hook(level)
                bucket = buckets[level]
                if bucket:
                    self.reactions_executed += len(bucket)
                    # With a pool, a level of several reactions is timed: its cost decides whether it
                    # is worth the pool at all, and then which mode has been faster for it.
                    if pool is None:
                        timed = False
                    else:
                        timed = len(bucket) > 1
                        candidate = timed and _worth_parallel(bucket)
                        if candidate and modes.parallel(level):
                            started = time.perf_counter()
                            pool.run(bucket)
                            for reaction in bucket:
                                if reaction._fired:
                                    self._propagate(reaction, stamp)
                            modes.record(level, True, (time.perf_counter() - started) / len(bucket))
                            bucket.clear()
                            level += 1
                            continue
                        if timed:
                            started = time.perf_counter()
                    # The inline path, the hot path of every program: kept in this loop because a
                    # method call per level costs a chain of one-reaction levels about 20%.
                    for reaction in bucket:
                        reactor = reaction.reactor
                        reactor._running = reaction
                        try:
                            reaction.body()
                        except BaseException as error:
                            reactor._running = None
                            raise LevelFailure(reaction, error) from error
                        reactor._running = None
                        fired = reaction._fired
                        if fired:
                            for port in fired:
                                for succ in port._downstream_reactions:
                                    if succ._stamp != stamp:
                                        succ._stamp = stamp
                                        buckets[succ.level].append(succ)
                                        if succ.level > self._hi:
                                            self._hi = succ.level
                                if port.delayed_inputs:
                                    self._push_delayed(port)
                            spent.extend(fired)
                            fired.clear()
                    if timed:
                        share = (time.perf_counter() - started) / len(bucket)
                        for reaction in bucket:
                            reaction.cost = share
                        if candidate:
                            modes.record(level, False, share)
                    bucket.clear()
                level += 1
        finally:
            self._lo = len(buckets)
            self._hi = -1

    def _level_hook(self, level: int) -> None:
        """Runs before ``level`` once it reaches ``_hook_level`` (see FederateScheduler)."""

    def _propagate(self, reaction: Reaction, stamp: int) -> None:
        buckets = self._buckets
        for port in reaction._fired:
            for succ in port._downstream_reactions:
                if succ._stamp != stamp:
                    succ._stamp = stamp
                    buckets[succ.level].append(succ)
                    if succ.level > self._hi:
                        self._hi = succ.level
            if port.delayed_inputs:
                self._push_delayed(port)
        self._spent.extend(reaction._fired)
        reaction._fired.clear()

    def _push_delayed(self, port: Any) -> None:
        now, microstep = self.tag
        for inp, delay in port.delayed_inputs:
            tag = (now, microstep + 1) if delay == 0 else (now + delay, 0)
            self.push_event(tag, inp, port._value)

    def _fail(self, error: BaseException) -> None:
        """Stops cleanly: drops pending work, runs shutdown reactions once, re-raises with names."""
        failed_at = self.tag
        for bucket in self._buckets:
            for reaction in bucket:
                reaction._fired.clear()
            bucket.clear()
        for reaction in self._reactions:
            reaction._fired.clear()
            reaction.reactor._running = None
        if isinstance(error, LevelFailure):
            reaction = error.reaction
            original = error.error
        else:
            reaction, original = None, error
        if not self._finished:
            self._finished = True
            self._queue.clear()
            self.tag = (self.tag[0], self.tag[1] + 1)
            self.stamp += 1
            try:
                for trigger in self._shutdowns:
                    trigger._fire(None)
                self._run_levels()
            except LevelFailure as during_shutdown:  # reported alongside the first error
                original.add_note(
                    f"shutdown reaction {during_shutdown.reaction.fqn} also failed: {during_shutdown.error!r}"
                )
        self.close()
        if reaction is None or not isinstance(original, Exception):
            raise original
        raise ReactionFailed(reaction.reactor.fqn, reaction.name, failed_at, original) from original


def _worth_parallel(bucket: list[Reaction]) -> bool:
    total = 0.0
    for reaction in bucket:
        total += reaction.cost
    return total >= PARALLEL_THRESHOLD_S
