"""The scheduler of one federate: the single-process tag loop plus coordination with the RTI.

It is the same ``Scheduler`` (same levels, buckets, pool and failure handling) with four additions:

- a tag is processed only once the RTI has granted it: a TAG up to some tag, or a PTAG for exactly
  that tag; next-event and latest-tag-complete reports go to the RTI as the federate advances;
- values for other processes leave through *outbound* channels: a root port whose value another
  federate reads carries a sink among its delayed inputs, so setting it stages the value, and the
  value is sent once its last writer's level has run (last write wins, as in one process);
- values from other processes arrive through *inbound* channels: into a slot that the local readers
  read (zero delay) or as events on the queue (delayed connections);
- under a PTAG (the members of a zero-delay cycle), before each level the federate waits for the
  status of every cycle input that the level reads, and it sends ABSENT for each cycle output that
  was not set once its last writer's level has run. Levels are the whole program's, computed once in
  the RTI's process, which is what makes this wait free of deadlocks.

The ``link`` is the federate's way to the RTI: a socket for a federate process, direct calls for
the reactors in the RTI's own process.
"""

from __future__ import annotations

import heapq
import sys
import threading
import time
from collections import deque
from typing import Any, Protocol

from ..errors import ReactorError
from ..ports import Port
from ..reactor import Reaction
from ..scheduler import Scheduler
from ..timeunits import Tag
from ..triggers import Trigger
from . import codec
from . import protocol as P
from .shm import Attachments, SegmentPool
from .tags import delay_offset, delayed, latest_before, next_microstep

NEVER: Tag = (-1, 0)


class FederationStopped(ReactorError):
    """The RTI stopped the federation because of a failure elsewhere; carries that failure."""

    def __init__(self, reason: BaseException | str):
        self.reason = reason
        super().__init__(str(reason))


class Link(Protocol):
    """A federate's connection to the RTI."""

    node: int

    def send(self, records: list[tuple[Any, ...]]) -> None: ...
    def flush(self) -> None: ...
    def poll(self) -> list[tuple[Any, ...]]: ...
    def token(self) -> int:
        """A count of changes: ``wait`` returns at once if it moved (no wake-up is ever lost)."""
        ...

    def wait(self, timeout: float | None, token: int) -> list[tuple[Any, ...]]: ...
    def poke(self) -> None:
        """Something this federate waits for changed in another thread (a physical action)."""
        ...

    def idle(self) -> bool: ...
    def physical_event(self, tag: Tag) -> None: ...


class Inbound(Port):
    """The slot that receives a zero-delay channel's value; the local readers read it like a port."""

    __slots__ = ()


class Outbound:
    """One channel to another process: where a root's value goes, and when it is final."""

    __slots__ = ("channel", "node", "offset", "delay", "final_level", "cycle")

    def __init__(self, channel: int, node: int, delay: int | None, final_level: int, cycle: bool):
        self.channel = channel
        self.node = node
        self.delay = delay
        self.offset = delay_offset(delay)
        self.final_level = final_level
        self.cycle = cycle

    def __repr__(self) -> str:
        return f"<Outbound {self.channel} -> node {self.node}>"


class InChannel:
    """One channel from another process: its slot (zero delay) or target ports (delayed)."""

    __slots__ = ("channel", "targets", "need_level", "cycle")

    def __init__(self, channel: int, targets: list[Any], need_level: int, cycle: bool):
        self.channel = channel
        self.targets = targets
        self.need_level = need_level
        self.cycle = cycle


class FederateScheduler(Scheduler):
    """Runs the reactors of one process of a federation (see the module's docstring)."""

    def __init__(
        self,
        reactions: list[Reaction],
        n_levels: int,
        triggers: list[Trigger],
        *,
        workers: int,
        fast: bool,
        timeout: int | None,
        link: Link,
        inbound: list[InChannel],
        outbound: list[Outbound],
        pool: SegmentPool | None,
        attachments: Attachments | None,
        threshold: int,
        lock: Any = None,
        condition: Any = None,
    ):
        super().__init__(
            reactions, n_levels, triggers, workers=workers, fast=fast, timeout=timeout, keepalive=True
        )
        # Re-entrant: what arrives while the lock is held may put events on the queue (push_event).
        self._lock = lock if lock is not None else threading.RLock()
        self._wakeup = condition if condition is not None else threading.Condition(self._lock)
        self._link = link
        self._granted: Tag = NEVER
        self._ptag: Tag | None = None
        self._last: Tag = NEVER
        self._processing = False
        self._received = 0
        self._reported: Any = None
        self._stop_limit: Tag | None = None
        self._in = {c.channel: c for c in inbound}
        self._cycle_in = sorted((c for c in inbound if c.cycle), key=lambda c: c.need_level)
        self._cycle_out = [o for o in outbound if o.cycle]
        self._known: dict[Tag, set[int]] = {}
        self._unknown: deque[InChannel] = deque()
        """This tag's cycle inputs by need level; those known since are dropped from the front."""
        self._unknown_ids: set[int] = set()
        self._cycle_member = bool(self._cycle_in or self._cycle_out)
        self._staged: dict[Outbound, Any] = {}
        self._resolved: set[Outbound] = set()
        self._segments = pool
        self._attachments = attachments
        self._threshold = threshold
        self.messages_sent = 0

    # ----- choosing the next tag -------------------------------------------------------------------

    def _next_tag(
        self, until_idle: bool, horizon: int | None = None
    ) -> tuple[Tag, list[tuple[Any, Any]]] | None:
        arrived = self._link.poll()
        while True:
            wait = self._choose(until_idle, arrived, horizon)
            if type(wait) is tuple:
                return wait
            if wait is None:
                return None
            arrived = self._wait(*wait)  # outside the lock: a physical action may come meanwhile

    def _choose(self, until_idle: bool, arrived: list[tuple[Any, ...]], horizon: int | None = None) -> Any:
        """The next tag and its events if it may be processed now; None at the end (or, with a
        ``horizon``, when the next tag lies after that logical time); otherwise a list
        ``[timeout, token]`` for waiting (decided under the lock, with the token that makes the wait
        return at once if anything changes before it starts)."""
        with self._lock:
            self._absorb(arrived)
            if self._finished:
                return None
            queue = self._queue
            head = (queue[0][0], queue[0][1]) if queue else None
            target = head
            stop = self._stop_tag
            if stop is not None and (target is None or stop < target):
                target = stop
            ptag = self._ptag
            if ptag is not None and ptag > self._last and (target is None or ptag < target):
                target = ptag  # a joint tag of this federate's cycle, with or without own events
            self._report(None, head)
            if target is None:
                if until_idle and self._link.idle():
                    return None
                return [None, self._link.token()]
            if horizon is not None and target[0] > horizon:
                return None
            limit = self._stop_limit
            granted = target <= self._granted or target == ptag
            if not granted or (limit is not None and target > limit):
                return [None, self._link.token()]
            if not self._fast:
                remaining = target[0] - (time.monotonic_ns() - self._start_ns)
                if remaining > 0:
                    return [remaining / 1e9, self._link.token()]
            events: list[tuple[Any, Any]] = []
            pending = self._pending
            while queue and (queue[0][0], queue[0][1]) == target:
                item = heapq.heappop(queue)
                events.append((item[3], item[4]))
                if pending:
                    pending.discard((item[3], item[0], item[1]))
            self.tag = target
            if not self._cycle_member:
                self._link.flush()  # downstream federates see this federate's progress now
            return target, events

    def _wait(self, timeout: float | None, token: int) -> list[tuple[Any, ...]]:
        """Sends what is pending and waits for what comes next (the caller absorbs it)."""
        self._link.flush()
        return self._link.wait(timeout, token)

    def _report(self, ltc: Tag | None, net: Tag | None) -> None:
        """Tells the RTI the next event (with the tag just completed, if any), once per change."""
        key = (net, self._received)
        if ltc is None and key == self._reported:
            return
        self._reported = key
        self._link.send([(P.REPORT, ltc, net, self._received)])

    # ----- processing a tag ------------------------------------------------------------------------

    def _process(self, tag: Tag, events: list[tuple[Any, Any]]) -> None:
        self._begin(tag)
        super()._process(tag, events)
        self._end(tag)

    def _begin(self, tag: Tag) -> None:
        self._processing = True
        known = self._known.pop(tag, ())
        unknown = deque(c for c in self._cycle_in if c.channel not in known and c.need_level < sys.maxsize)
        self._unknown = unknown
        self._unknown_ids = {c.channel for c in unknown}
        self._resolved = set()
        hook = sys.maxsize
        if unknown:
            hook = unknown[0].need_level
            self._lo = min(self._lo, hook)
            self._hi = max(self._hi, unknown[-1].need_level)
        for sink in self._cycle_out:
            hook = min(hook, sink.final_level + 1)
        self._hook_level = hook

    def _level_hook(self, level: int) -> None:
        """Before ``level``: send what became final, then wait for the cycle inputs it reads."""
        sent = self._send_final(level)
        unknown = self._unknown
        ids = self._unknown_ids
        while unknown and unknown[0].channel not in ids:
            unknown.popleft()
        if unknown and unknown[0].need_level <= level:
            while unknown and unknown[0].need_level <= level:
                records = self._wait(None, self._link.token())
                with self._lock:
                    self._absorb(records)
                while unknown and unknown[0].channel not in ids:
                    unknown.popleft()
        else:
            if sent:
                self._link.flush()  # others may be waiting for these while this level runs
        hook = unknown[0].need_level if unknown else sys.maxsize
        for sink in self._staged:
            hook = min(hook, sink.final_level + 1)
        for sink in self._cycle_out:
            if sink not in self._resolved:
                hook = min(hook, sink.final_level + 1)
        self._hook_level = hook

    def _send_final(self, level: int) -> bool:
        """Queues staged values whose last writer has run, and ABSENT for cycle outputs not set;
        True if anything was queued (the caller flushes, or waits, which flushes)."""
        records: list[tuple[Any, ...]] = []
        now = self.tag
        ready = [sink for sink in self._staged if sink.final_level < level]
        if ready:
            # One payload per set of receiving processes: every value they read, pickled together
            # (and each large buffer written to shared memory once, however many read it).
            by_value: dict[int, list[Outbound]] = {}
            values: dict[int, Any] = {}
            for sink in ready:
                value = self._staged.pop(sink)
                by_value.setdefault(id(value), []).append(sink)
                values[id(value)] = value
            by_readers: dict[frozenset[int], list[int]] = {}
            for key, sinks in by_value.items():
                by_readers.setdefault(frozenset(sink.node for sink in sinks), []).append(key)
            for readers, keys in by_readers.items():
                payload = codec.encode(
                    [values[k] for k in keys], len(readers), self._segments, self._threshold
                )
                entries = tuple(
                    (sink.channel, delayed(now, sink.offset), position)
                    for position, key in enumerate(keys)
                    for sink in by_value[key]
                )
                records.append((P.MSG, entries, payload))
            self._resolved.update(ready)
            self.messages_sent += len(ready)
        absent = [
            sink.channel
            for sink in self._cycle_out
            if sink.final_level < level and sink not in self._resolved and sink not in self._staged
        ]
        if absent:
            records.append((P.ABSENT, tuple(absent), now))
            self._resolved.update(s for s in self._cycle_out if s.final_level < level)
        if records:
            self._link.send(records)
            return True
        return False

    def _push_delayed(self, port: Any) -> None:
        now, microstep = self.tag
        value = port._value
        for target, delay in port.delayed_inputs:
            if type(target) is Outbound:
                self._staged[target] = value  # last write wins; sent when final
                if target.final_level + 1 < self._hook_level:
                    self._hook_level = target.final_level + 1
            else:
                tag = (now, microstep + 1) if delay == 0 else (now + delay, 0)
                self.push_event(tag, target, value)

    def _end(self, tag: Tag) -> None:
        self._send_final(sys.maxsize)
        self._processing = False
        self._last = tag
        self._hook_level = sys.maxsize
        self._ptag = None if self._ptag == tag else self._ptag
        if self._attachments is not None:
            released = self._attachments.sweep()
            if released:
                self._link.send([(P.RELEASE, owner, names) for owner, names in released.items()])
        with self._lock:
            queue = self._queue
            head = (queue[0][0], queue[0][1]) if queue else None
            self._report(tag, head)
        # not flushed yet: the report goes out with the next tag's first message or before waiting

    # ----- what arrives from the RTI ---------------------------------------------------------------

    def _absorb(self, records: list[tuple[Any, ...]]) -> None:
        if not records:
            return
        for record in records:
            code = record[0]
            if code == P.MSG:
                values = codec.decode(record[2], self._attachments)
                for channel, tag, position in record[1]:
                    self._deliver(channel, tag, values[position])
            elif code == P.ABSENT:
                self._mark_known(record[1], record[2])
            elif code == P.TAG:
                if record[1] > self._granted:
                    self._granted = record[1]
            elif code == P.PTAG:
                self._ptag = record[1]
            elif code == P.STOP_REQUEST:
                self._answer_stop(record[1])
            elif code == P.STOP_GRANTED:
                self._stop_tag = record[1]
                self._stop_limit = None
                # what upstream federates do at the stop tag was not known when a grant reaching past
                # it was given: the stop tag needs a grant of its own (the RTI clamps likewise)
                self._granted = min(self._granted, latest_before(record[1]))
            elif code == P.RELEASE:
                if self._segments is not None:
                    self._segments.release(record[1])
            elif code == P.ABORT:
                raise FederationStopped(record[1])
            else:
                raise ReactorError(f"unexpected record {code} during execution")

    def _deliver(self, channel: int, tag: Tag, value: Any) -> None:
        self._received += 1
        inbound = self._in[channel]
        if self._processing and tag == self.tag:
            for target in inbound.targets:
                target._fire(value)
                self._spent.append(target)
        elif tag > self._last and (not self._processing or tag > self.tag):
            for target in inbound.targets:
                self.push_event(tag, target, value)
        else:
            raise ReactorError(f"a message for channel {channel} arrived for tag {tag}, already past")
        if inbound.cycle:
            self._mark_known((channel,), tag)

    def _mark_known(self, channels: tuple[int, ...], tag: Tag) -> None:
        if self._processing and tag == self.tag:
            self._unknown_ids.difference_update(channels)
        else:
            self._known.setdefault(tag, set()).update(channels)

    def _answer_stop(self, proposed: Tag) -> None:
        """Proposes ``proposed`` or, if this federate is already past it, its next microstep; it will
        not go beyond its proposal until the stop tag is granted."""
        current = self.tag if self._processing else self._last
        proposal = max(proposed, next_microstep(current))
        self._stop_limit = proposal
        self._link.send([(P.STOP_REPLY, proposal)])
        self._link.flush()

    # ----- stop, physical actions, failure ---------------------------------------------------------

    def request_stop(self) -> None:
        """Asks the RTI to stop at the next microstep; the stop tag is the one all agree on."""
        with self._lock:
            current = self.tag if self._processing or self._last == NEVER else self._last
            proposal = next_microstep(current)
            if self._stop_tag is not None and self._stop_tag <= proposal:
                return
            if self._stop_limit is None or proposal < self._stop_limit:
                self._stop_limit = proposal
            self._link.send([(P.STOP_REQUEST, proposal)])
            self._link.flush()
            self._link.poke()

    def push_physical(self, trigger: Any, value: Any, delay: int) -> Tag:
        with self._lock:
            tag = super().push_physical(trigger, value, delay)
            self._link.physical_event(tag)
            return tag

    def physical_floor(self) -> Tag:
        """The earliest tag a physical action could get now (what bounds nodes downstream)."""
        if self._start_ns is None:
            return (0, 0)
        now = time.monotonic_ns() - self._start_ns
        after = next_microstep(self.tag if self._processing else self._last)
        return max((now, 0), after)

    def run(self, *, until_idle: bool, horizon: int | None = None) -> None:
        """As the single-process loop; a failure elsewhere in the federation stops this federate
        cleanly too (its shutdown reactions run) and is raised here as that failure."""
        try:
            super().run(until_idle=until_idle, horizon=horizon)
            self._link.flush()  # the last tag's report and messages (shutdown reactions' outputs)
        except FederationStopped as stopped:
            if not self._finished:
                try:
                    self._fail(stopped)
                except FederationStopped:
                    pass
            reason = stopped.reason
            if isinstance(reason, BaseException):
                raise reason from reason.__cause__  # the failure itself, with its own cause
            raise

    def _fail(self, error: BaseException) -> None:
        self._hook_level = sys.maxsize
        self._unknown = deque()
        self._staged.clear()
        self._processing = False
        super()._fail(error)
