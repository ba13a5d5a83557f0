"""The RTI's coordination logic (centralized coordination, as in Lingua Franca), free of any I/O.

Each process that runs reactors is a node. Nodes report their latest tag complete (LTC) and next
event tag (NET); the RTI grants tag advances:

- a node in a group of one gets a TAG up to the latest tag before the earliest tag at which anything
  upstream could still reach it (its EIMT): every input it will get by then has arrived, since a
  message always precedes the report that lets the RTI grant past it on the same ordered stream;
- the members of a zero-delay cycle (a group of several, see graph.py) process each tag *together*
  under a PTAG once nothing outside the group can reach them at or before that tag. Inside the tag,
  a member waits, level by level, for the status of its inputs from the other members (a message or
  an ABSENT, which every member sends for each of its cycle outputs once it is final); as the program
  is acyclic at the reaction level and every process runs the same global levels, this never
  deadlocks. Members without events still process the tag, so every cycle input gets resolved.

Messages in flight count as next events of their destination until the destination acknowledges
them (the ``received`` count of its reports), so a stale report never hides one. Stop requests are
agreed as LF does: the RTI asks every node, takes the largest proposal, and grants it to all. Without
keepalive, a federation whose nodes have all run out of events stops at the next microstep after
the latest tag any node completed, as the single-process runtime does.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..timeunits import Tag
from . import protocol as P
from .graph import FederateGraph
from .tags import FOREVER, MAX_MICROSTEP, delayed, latest_before, next_microstep

Send = Callable[[int, tuple[Any, ...]], None]


class _Node:
    __slots__ = ("net", "ltc", "granted", "inflight", "acked", "finished", "physical", "sent_in")

    def __init__(self, physical: bool):
        self.net: Tag | None = (0, 0)  # before its first report, a node may have events at the start
        self.ltc: Tag | None = None
        self.granted: Tag | None = None
        self.inflight: deque[Tag] = deque()
        self.acked = 0
        self.sent_in = 0
        self.finished = False
        self.physical = physical


class RTI:
    """Grants, stop agreement and idleness of one federation; ``send(node, record)`` delivers."""

    def __init__(
        self,
        graph: FederateGraph,
        send: Send,
        *,
        stop_tag: Tag | None,
        keepalive: bool,
        physical_floor: Callable[[int], Tag] | None = None,
        physical_nodes: frozenset[int] = frozenset(),
    ):
        self.graph = graph
        self._send = send
        self.stop_tag = stop_tag
        self.keepalive = keepalive
        self.allow_starvation = False
        self._floor = physical_floor
        self._nodes = [_Node(n in physical_nodes) for n in range(graph.nodes)]
        self._current: list[Tag | None] = [None] * len(graph.groups)
        self._proposal: Tag | None = None
        self._awaiting: set[int] = set()
        self._floor_blocked = [False] * len(graph.groups)
        self._dirty: set[int] = set()
        self._batching = 0
        self.grants_sent = 0
        self.horizon: int | None = None

    # ----- what nodes tell the RTI ----------------------------------------------------------------

    def report(self, node: int, ltc: Tag | None, net: Tag | None, received: int) -> None:
        state = self._nodes[node]
        if ltc is not None and (state.ltc is None or ltc > state.ltc):
            state.ltc = ltc
        state.net = net
        while state.acked < received and state.inflight:
            state.inflight.popleft()
            state.acked += 1
        if self.stop_tag is not None and ltc == self.stop_tag:
            state.finished = True
        self._touch(node)
        self._settle()

    def message(self, destination: int, tag: Tag) -> None:
        """A message for ``destination`` at ``tag`` is on its way (called before it is delivered)."""
        state = self._nodes[destination]
        state.inflight.append(tag)
        state.sent_in += 1
        self._dirty.add(self.graph.group_of[destination])  # it can only hold the others back
        self._settle()

    def request_stop(self, node: int, tag: Tag) -> None:
        if self.stop_tag is not None and self.stop_tag <= tag:
            self._send(node, (P.STOP_GRANTED, self.stop_tag))
            return
        if self._proposal is not None:
            self._proposal = max(self._proposal, tag)
            self._awaiting.discard(node)
        else:
            self._proposal = tag
            self._awaiting = {n for n in range(self.graph.nodes) if n != node}
            for other in self._awaiting:
                self._send(other, (P.STOP_REQUEST, tag))
        self._conclude_stop()
        self._settle()

    def stop_reply(self, node: int, tag: Tag) -> None:
        if self._proposal is None:
            return
        self._proposal = max(self._proposal, tag)
        self._awaiting.discard(node)
        self._conclude_stop()
        self._settle()

    def physical_event(self, node: int, tag: Tag) -> None:
        """A physical action of ``node`` at ``tag`` (called under the lock its scheduler shares)."""
        state = self._nodes[node]
        if state.net is None or tag < state.net:
            state.net = tag
        self._touch(node)
        self._settle()

    def node_gone(self, node: int) -> None:
        """A node ended (after its stop tag): it takes no further part in stop agreement."""
        self._nodes[node].finished = True
        self._touch(node)
        if self._proposal is not None:
            self._awaiting.discard(node)
            self._conclude_stop()
        self._settle()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Evaluates grants once, after everything one frame of records changes."""
        self._batching += 1
        try:
            yield
        finally:
            self._batching -= 1
            self._settle()

    # ----- what the RTI's process asks -------------------------------------------------------------

    def idle(self) -> bool:
        """Nothing pending anywhere: no node has an event or a message in flight, no tag is being
        processed and no stop is being agreed (an agreed stop tag is not an event)."""
        if self._proposal is not None or any(t is not None for t in self._current):
            return False
        return all(self._events(n) is None for n in range(self.graph.nodes))

    def latest_complete(self) -> Tag | None:
        done = [s.ltc for s in self._nodes if s.ltc is not None]
        return max(done) if done else None

    def latest_complete_of(self, node: int) -> Tag | None:
        return self._nodes[node].ltc

    def physical_waiting(self) -> bool:
        """Some group waits only for the clock: the earliest tag a physical action could get."""
        return any(self._floor_blocked)

    def set_horizon(self, time: int | None) -> None:
        """No node may go past logical time ``time`` (None: no bound): what a host that drives
        rounds with ``run_until`` asks of the whole federation, so that a stop after a round is agreed
        at the same tag as in one process, not at a later one a federate had gone ahead to."""
        self.horizon = time
        self.evaluate_all()

    def evaluate_all(self) -> None:
        self._dirty.update(range(len(self.graph.groups)))
        self._settle()

    # ----- grants ----------------------------------------------------------------------------------

    def _events(self, node: int) -> Tag | None:
        """The earliest event ``node`` has: its reported next event or a message in flight to it."""
        state = self._nodes[node]
        if state.finished:
            return None
        best = state.net
        if state.inflight:
            first = min(state.inflight)
            if best is None or first < best:
                best = first
        return best

    def _next_tag(self, node: int) -> Tag | None:
        """The next tag ``node`` must process: its earliest event, or the stop tag it has not
        processed yet (every node processes the stop tag, for its shutdown reactions)."""
        best = self._events(node)
        stop = self.stop_tag
        if stop is not None and not self._nodes[node].finished and (best is None or best > stop):
            best = stop
        return best

    def _effective(self, node: int) -> Tag | None:
        """The earliest tag at which ``node`` may still send: its next tag, the tag its group is
        processing, and for a node with physical actions the earliest tag one could get now."""
        best = self._next_tag(node)
        state = self._nodes[node]
        if state.finished:
            return None
        current = self._current[self.graph.group_of[node]]
        if (
            current is not None
            and (state.ltc is None or state.ltc < current)
            and (best is None or current < best)
        ):
            best = current
        if state.physical and self._floor is not None:
            bound = self._floor(node)
            if self.stop_tag is not None and bound > self.stop_tag:
                bound = self.stop_tag
            if best is None or bound < best:
                best = bound
        return best

    def _touch(self, node: int) -> None:
        """``node`` changed: its group and the groups it feeds need evaluating."""
        self._dirty.add(self.graph.group_of[node])
        self._dirty.update(self.graph.downstream_groups[node])

    def _settle(self) -> None:
        """Evaluates the groups that may have changed, and those a change reaches, to a fixpoint."""
        if self._batching:
            return
        dirty = self._dirty
        while dirty:
            while dirty:
                group = min(dirty)
                dirty.discard(group)
                if self._evaluate_group(group):
                    for member in self.graph.groups[group]:
                        dirty.update(self.graph.downstream_groups[member])
            self._maybe_starve()  # a starvation stop marks every group again

    def _evaluate_group(self, group: int) -> bool:
        """Grants what ``group`` may process now; True if that changed anything."""
        members = self.graph.groups[group]
        current = self._current[group]
        changed = False
        if current is not None:
            for member in members:
                ltc = self._nodes[member].ltc
                if not self._nodes[member].finished and (ltc is None or ltc < current):
                    return False  # the joint tag is still being processed
            self._current[group] = current = None
            changed = True
        nxt: Tag | None = None
        for member in members:
            tag = self._next_tag(member)
            if tag is not None and (nxt is None or tag < nxt):
                nxt = tag
        if nxt is None:
            return changed
        horizon = self.horizon
        if horizon is not None and nxt[0] > horizon:
            return changed  # the host has not let logical time pass its horizon yet
        if len(members) > 1 and self._proposal is not None and nxt > self._proposal:
            return changed  # a stop is being agreed: a joint tag past it might never be processed
        earliest = FOREVER
        by_floor = False
        for upstream, offset in self.graph.upstream[group]:
            tag = self._effective(upstream)
            if tag is not None:
                arrival = delayed(tag, offset)
                if arrival < earliest:
                    earliest = arrival
                    by_floor = self._nodes[upstream].physical and self._next_tag(upstream) != tag
        self._floor_blocked[group] = by_floor and earliest <= nxt
        if earliest <= nxt:
            return changed
        if len(members) == 1:
            state = self._nodes[members[0]]
            grant = latest_before(earliest)
            if horizon is not None and grant > (horizon, MAX_MICROSTEP):
                grant = (horizon, MAX_MICROSTEP)
            if state.granted is None or grant > state.granted:
                state.granted = grant
                self.grants_sent += 1
                self._send(members[0], (P.TAG, grant))
            return changed
        self._current[group] = nxt
        for member in members:
            if not self._nodes[member].finished:
                self.grants_sent += 1
                self._send(member, (P.PTAG, nxt))
        return True

    # ----- stop ------------------------------------------------------------------------------------

    def _conclude_stop(self) -> None:
        self._awaiting = {n for n in self._awaiting if not self._nodes[n].finished}
        if self._proposal is None or self._awaiting:
            return
        final = self._proposal
        for state in self._nodes:
            # a node that already ended (at the timeout, say) cannot go back: its stop tag is its
            # proposal, and the common stop tag is the largest proposal
            if state.finished and state.ltc is not None and state.ltc > final:
                final = state.ltc
        if self.stop_tag is not None and self.stop_tag < final:
            final = self.stop_tag
        self._proposal = None
        self._grant_stop(final)

    def _grant_stop(self, tag: Tag) -> None:
        """Every node must process ``tag``, for its shutdown reactions, even one whose next event was
        later: a grant that reached past it no longer holds (nodes clamp it on STOP_GRANTED too)."""
        self.stop_tag = tag
        before = latest_before(tag)
        for group, current in enumerate(self._current):
            if current is not None and current > tag:
                # granted before the stop was agreed, but every member proposed an earlier stop, so
                # none of them processed it: the stop tag comes first
                self._current[group] = None
        for node in range(self.graph.nodes):
            state = self._nodes[node]
            if state.granted is not None and state.granted > before:
                state.granted = before
            if not state.finished:
                self._send(node, (P.STOP_GRANTED, tag))
        self._dirty.update(range(len(self.graph.groups)))

    def _maybe_starve(self) -> None:
        """Without keepalive, a federation with no event left anywhere ends at the next microstep
        after the latest tag completed (unless an agreed stop tag comes first)."""
        if not self.allow_starvation or self.keepalive or self._proposal is not None:
            return
        if all(s.finished for s in self._nodes) or not self.idle():
            return
        starved = next_microstep(self.latest_complete() or (0, 0))
        if self.stop_tag is not None and self.stop_tag <= starved:
            return
        self._grant_stop(starved)
