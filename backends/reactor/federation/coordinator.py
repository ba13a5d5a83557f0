"""The RTI's process: starts the federates, keeps the program's stand-ins, routes, and coordinates.

All messages go through this process (centralized coordination): every federate has one connection,
to here, and the reactors placed here (the driver of a harness, say) talk to the RTI by direct calls.
One I/O thread reads the federates' frames and answers them; one re-entrant lock guards the RTI, the
routing and the scheduler of the local reactors, so a physical action scheduled from outside, a
report from a federate and a grant are always seen in one order. Writes never block: what a socket
does not take now waits in its connection until the I/O thread can write it.

Shutting down, normally or after a failure, always ends the same way: every federate process is
joined (killed if it does not end), every connection and the socket folder are removed, and every
shared-memory segment with the federation's prefix is unlinked. Both carry this process's pid
(``leftovers``), so that what a killed RTI process could not remove is found by whoever ran it.
"""

from __future__ import annotations

import os
import pickle
import secrets
import selectors
import shutil
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..assembly import compute_levels
from ..errors import AssemblyError, ReactorError
from ..ports import Port
from ..reactor import Reactor
from ..timeunits import Tag
from ..triggers import PhysicalAction
from . import codec, leftovers, shm
from . import protocol as P
from .errors import FederateDied, FederateReactionFailed, FederationError, RemoteError, summarize
from .federate import FederateScheduler
from .launch import FederateProcess, launch
from .options import Federation
from .rti import RTI
from .shm import Attachments, SegmentPool
from .structure import Plan, StandIn, add_reactions, make_plan, stand_in
from .wire import ConnectionLost, FrameSocket, server_handshake
from .wiring import make_scheduler

FLOOR_RECHECK_S = 0.001
"""How often grants held back only by the clock (a physical action's earliest tag) are re-checked."""


class LocalLink:
    """The link of the reactors in the RTI's process: direct calls under the coordinator's lock.

    While the caller drives a round (``Coordinator.driving``), its thread reads the federates'
    sockets itself when it waits, instead of being woken by the I/O thread: one thread hand-off
    less per round.
    """

    def __init__(self, coordinator: Coordinator):
        self.node = coordinator.local_node
        self._c = coordinator

    def send(self, records: list[tuple[Any, ...]]) -> None:
        with self._c.lock:
            self._c._dispatch(self.node, records)

    def flush(self) -> None:
        with self._c.lock:
            self._c._flush()

    def poll(self) -> list[tuple[Any, ...]]:
        with self._c.lock:
            return self._c._take_inbox()

    def token(self) -> int:
        return self._c._changes

    def poke(self) -> None:
        with self._c.lock:
            self._c._bump()

    def wait(self, timeout: float | None, token: int) -> list[tuple[Any, ...]]:
        """Sends what is pending, then waits for records for the local reactors (or any change
        since ``token``)."""
        c = self._c
        with c.lock:
            c._flush()
            if c._inbox or c._failure is not None or c._changes != token:
                return c._take_inbox()
            direct = c._driving and c._reader.acquire(blocking=False)
            if not direct:
                if not c._driving:
                    c._unpark()  # not driving a round (run, stop): the I/O thread reads
                c.condition.wait(timeout)
                return c._take_inbox()
            c._local_selecting = True
        try:
            c._poll_once(timeout)
        finally:
            with c.lock:
                c._local_selecting = False
            c._reader.release()
        with c.lock:
            return c._take_inbox()

    def idle(self) -> bool:
        return self._c.rti.idle()

    def physical_event(self, tag: Tag) -> None:
        """Not flushed here: the grant it may cause leaves with the tag's first message (the caller's
        thread is about to process that tag)."""
        with self._c.lock:
            self._c.rti.physical_event(self.node, tag)
            self._c._bump()


class Coordinator:
    """One federation, seen from the RTI's process."""

    def __init__(self, options: Federation, *, workers: int, fast: bool, timeout: int | None):
        self.options = options
        self.size = options.federates
        self.local_node = options.federates
        self.workers = workers
        self.fast = fast
        self.timeout = timeout
        self.lock = threading.RLock()
        self.condition = threading.Condition(self.lock)
        """What a waiting local scheduler (and ``wait_idle``/``wait_done``) waits on."""
        self._parking = threading.Condition(self.lock)
        """What the parked I/O thread waits on: woken only to resume or stop, never per round."""
        self.prefix = leftovers.new_prefix()
        self._token = secrets.token_bytes(32)
        self._folder: str | None = None
        self._listener: socket.socket | None = None
        self.address = ""
        self.processes: dict[int, FederateProcess] = {}
        self._conns: dict[int, FrameSocket] = {}
        self._outgoing: dict[int, list[tuple[Any, ...]]] = {}
        self._inbox: deque[tuple[Any, ...]] = deque()
        self._failure: BaseException | None = None
        self._failure_delivered = False
        self._done: dict[int, Any] = {}
        self._lost: set[int] = set()
        self._members: dict[int, list[str]] = {n: [] for n in range(self.size)}
        self._internal: set[int] = set()
        self._destinations: dict[int, int] = {}
        self.rti: RTI = None  # type: ignore[assignment]
        self.local: FederateScheduler | None = None
        self.pool = SegmentPool(self.prefix, self.local_node) if self.shared_memory else None
        self.attachments = Attachments() if self.shared_memory else None
        self._thread: threading.Thread | None = None
        self._selector: selectors.BaseSelector | None = None
        self._watched: dict[int, int] = {}
        self._reader = threading.Lock()
        """Held by the one thread that selects on and reads the federates' sockets."""
        self._driving = False
        self._parked = False
        """The I/O thread sleeps: a caller drove a round, and nothing has needed it since."""
        self._local_selecting = False
        self._changes = 0
        """Bumped (under the lock) by anything a waiting local scheduler must see."""
        self._wake_read, self._wake_write = os.pipe()
        self._stopping = False
        self._closed = False
        self.startup_s: dict[int, float] = {}
        self.stats: dict[int, Any] = {}
        self.plan: Plan | None = None

    @property
    def shared_memory(self) -> bool:
        return self.options.uses_shared_memory and shm.available()

    # ----- start-up ----------------------------------------------------------------------------------

    def _ensure_started(self) -> None:
        if self.processes or self._closed:
            if self._closed:
                raise FederationError("the federation was closed")
            return
        started = time.perf_counter()
        try:
            self._listen()
            for index in range(self.size):
                self.processes[index] = launch(
                    index,
                    self.address,
                    self._token,
                    self.prefix,
                    self.options.start_method,
                    self.options.command_of(index),
                )
            self._accept(started)
        except BaseException:
            self.close()
            raise

    def _listen(self) -> None:
        if self.options.transport == "unix":
            self._folder = leftovers.new_socket_folder()
            path = os.path.join(self._folder, "rti.sock")
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(path)
            self.address = f"unix:{path}"
        else:
            family = socket.AF_INET6 if ":" in self.options.host else socket.AF_INET
            listener = socket.socket(family, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self.options.host, self.options.port))
            host, port = listener.getsockname()[:2]
            self.address = f"tcp:{host}:{port}" if family == socket.AF_INET else f"tcp:[{host}]:{port}"
        listener.listen(self.size + 4)
        listener.settimeout(0.2)
        self._listener = listener

    def _accept(self, started: float) -> None:
        deadline = time.monotonic() + self.options.connect_timeout_s
        while len(self._conns) < self.size:
            for index, process in self.processes.items():
                if index not in self._conns and not process.alive():
                    raise self._died(index, "before connecting")
            if time.monotonic() > deadline:
                missing = sorted(set(range(self.size)) - set(self._conns))
                raise FederationError(
                    f"federates {missing} did not connect within {self.options.connect_timeout_s} s"
                )
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            try:
                index = server_handshake(sock, self._token, timeout=5.0)
            except (OSError, EOFError):
                sock.close()  # not one of ours
                continue
            if index in self._conns or not 0 <= index < self.size:
                sock.close()
                continue
            self._conns[index] = FrameSocket(sock)
            self._outgoing[index] = []
            self.startup_s[index] = time.perf_counter() - started

    def _request(self, records_by_node: dict[int, list[tuple[Any, ...]]], answer: int) -> dict[int, Any]:
        """Sends setup requests and waits for each federate's ``answer`` record (before run time)."""
        deadline = time.monotonic() + self.options.connect_timeout_s
        for index, records in records_by_node.items():
            self._conns[index].send(records, deadline)
        replies: dict[int, Any] = {}
        waiting = set(records_by_node)
        while waiting:
            for index in list(waiting):
                try:
                    frames = self._conns[index].read()
                except ConnectionLost:
                    raise self._died(index, "while starting") from None
                for frame in frames:
                    for record in frame:
                        if record[0] == answer:
                            replies[index] = record
                            waiting.discard(index)
            if not waiting:
                break
            if time.monotonic() > deadline:
                raise FederationError(
                    f"federates {sorted(waiting)} did not answer within the start-up timeout"
                )
            selector = selectors.DefaultSelector()
            for index in waiting:
                selector.register(self._conns[index].sock, selectors.EVENT_READ)
            selector.select(0.2)
            selector.close()
            for index in waiting:
                if not self.processes[index].alive():
                    raise self._died(index, "while starting")
        return replies

    def build(
        self,
        cls: type,
        name: str,
        members: dict[int, list[int | None]],
        parent: Reactor | None,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> dict[int | None, StandIn]:
        """Builds reactors in their federates and returns their stand-ins, by bank index."""
        parent_fqn = parent.fqn if parent is not None else None
        try:
            pickle.dumps((cls, name, parent_fqn, args, kwargs))
        except Exception as error:
            what = f"{parent_fqn + '.' if parent_fqn else ''}{name}"
            if self.processes:
                self.close()
            raise AssemblyError(
                f"{what}: to run in a federate, its class ({cls.__qualname__}) must be importable and its "
                f"arguments picklable: {type(error).__name__}: {error}"
            ) from error
        self._ensure_started()
        records = {
            federate: [(P.BUILD, [(cls, name, indices, parent_fqn, args, kwargs)])]
            for federate, indices in members.items()
        }
        try:
            replies = self._request(records, P.BUILT)
        except BaseException:
            self.close()
            raise
        built: dict[int | None, StandIn] = {}
        for federate, indices in members.items():
            _, reports, failure = replies[federate]
            if failure is not None:
                self.close()
                raise ReactorError(
                    f"building {failure['reactor']} in federate {federate} failed: "
                    f"{failure['type']}: {failure['message']}\n{failure['traceback']}"
                )
            for index, report in zip(indices, reports, strict=True):
                reactor = stand_in(report, parent, federate)
                tree = reactor.descendants()
                elements = {e.fqn: e for r in tree for e in r._elements}
                add_reactions(reactor, report, elements)
                for member in tree:
                    for element in member._elements:
                        if isinstance(element, Port) and element.driver is not None:
                            self._internal.add(id(element))
                    self._members[federate].append(member.fqn)
                built[index] = reactor
        return built

    def prepare(self, reactors: list[Reactor], keepalive: bool | None) -> FederateScheduler | None:
        """Checks and levels the whole program, sends every federate its plan, wires the local part."""
        try:
            _, n_levels = compute_levels(reactors)
            node_of = {id(r): (r.federate if isinstance(r, StandIn) else self.local_node) for r in reactors}
            local = [r for r in reactors if not isinstance(r, StandIn)]
            physical = any(isinstance(e, PhysicalAction) for r in local for e in r._elements)
            plan = make_plan(reactors, node_of, self.size + 1, n_levels, self._internal)
            self.plan = plan
            self._destinations = plan.channel_destinations
            settings = {
                "workers": self.workers,
                "fast": self.fast,
                "timeout": self.timeout,
                "threshold": self.options.threshold,
                "prefix": self.prefix,
                "shared_memory": self.shared_memory,
            }
            if self._conns:
                self._request({n: [(P.PLAN, plan.node_plans[n], settings)] for n in self._conns}, P.READY)
            if local:
                self.local = make_scheduler(
                    local,
                    plan.node_plans[self.local_node],
                    link=LocalLink(self),
                    workers=self.workers,
                    fast=self.fast,
                    timeout=self.timeout,
                    pool=self.pool,
                    attachments=self.attachments,
                    threshold=self.options.threshold,
                    connect_plan_edges=False,
                    lock=self.lock,
                    condition=self.condition,
                )
            self.rti = RTI(
                plan.graph,
                self._route,
                stop_tag=None if self.timeout is None else (self.timeout, 0),
                keepalive=physical if keepalive is None else keepalive,
                physical_floor=self._physical_floor,
                physical_nodes=frozenset({self.local_node}) if physical else frozenset(),
            )
            return self.local
        except BaseException:
            self.close()
            raise

    def start(self) -> None:
        """Starts logical time everywhere at once and the I/O thread."""
        wall = time.time_ns()
        monotonic = time.monotonic_ns()
        with self.lock:
            if self.local is not None:
                self.local.begin()
                self.local._start_ns = monotonic
            else:
                self.rti.node_gone(self.local_node)
            for conn in self._conns.values():
                conn.send([(P.START, wall)])
        selector = selectors.DefaultSelector()
        selector.register(self._wake_read, selectors.EVENT_READ, None)
        for node, conn in self._conns.items():
            selector.register(conn.sock, selectors.EVENT_READ, node)
            self._watched[node] = selectors.EVENT_READ
        self._selector = selector
        self._thread = threading.Thread(target=self._serve, name="reactor-rti", daemon=True)
        self._thread.start()

    def set_horizon(self, time: int | None) -> None:
        """Bounds every node's grants by logical time ``time`` (None: unbounded); see the RTI's."""
        with self.lock:
            if self.rti.horizon != time:
                self.rti.set_horizon(time)
                self._flush()

    def set_starvation(self, allowed: bool) -> None:
        with self.lock:
            self.rti.allow_starvation = allowed
            self.rti.evaluate_all()
            self._flush()

    # ----- routing (lock held) -----------------------------------------------------------------------

    def _route(self, node: int, record: tuple[Any, ...]) -> None:
        if node == self.local_node:
            self._inbox.append(record)
        elif node not in self._done and node not in self._lost:
            self._outgoing[node].append(record)

    def _dispatch(self, source: int, records: list[tuple[Any, ...]]) -> None:
        with self.rti.batch():  # one evaluation of grants per frame
            self._dispatch_records(source, records)

    def _dispatch_records(self, source: int, records: list[tuple[Any, ...]]) -> None:
        rti = self.rti
        for record in records:
            code = record[0]
            if code == P.MSG:
                entries = record[1]
                destinations = self._destinations
                first = destinations[entries[0][0]]
                if all(destinations[e[0]] == first for e in entries):
                    by_node = {first: entries}
                else:
                    by_node = {}
                    for entry in entries:
                        by_node.setdefault(destinations[entry[0]], []).append(entry)
                for node, mine in by_node.items():
                    if node == self.local_node:
                        self._route(node, (P.MSG, mine, record[2]))
                    else:
                        self._route(node, (P.MSG, tuple(mine), codec.forwardable(record[2])))
                    for entry in mine:
                        rti.message(node, entry[1])
            elif code == P.REPORT:
                rti.report(source, record[1], record[2], record[3])
            elif code == P.ABSENT:
                by_node: dict[int, list[int]] = {}
                for channel in record[1]:
                    by_node.setdefault(self._destinations[channel], []).append(channel)
                for node, channels in by_node.items():
                    self._route(node, (P.ABSENT, tuple(channels), record[2]))
            elif code == P.STOP_REQUEST:
                rti.request_stop(source, record[1])
            elif code == P.STOP_REPLY:
                rti.stop_reply(source, record[1])
            elif code == P.RELEASE:
                if record[1] == self.local_node:
                    if self.pool is not None:
                        self.pool.release(record[2])
                else:
                    self._route(record[1], (P.RELEASE, record[2]))
            elif code == P.FAILED:
                self._done[source] = {"failed": True}
                rti.node_gone(source)
                self._fail(self._reaction_failed(source, record[1]))
            elif code == P.BYE:
                self._done[source] = record[1]
                self.stats[source] = record[1]
                rti.node_gone(source)
            else:
                raise FederationError(f"unexpected record {code} from node {source}")

    def _flush(self) -> None:
        """Writes what is queued for each federate (one frame each); what the socket does not take
        now, the I/O thread writes when it can."""
        blocked = False
        for node, records in self._outgoing.items():
            if records:
                self._outgoing[node] = []
                conn = self._conns[node]
                conn.queue(records)
                try:
                    if not conn.write():
                        blocked = True
                except ConnectionLost:
                    pass  # the reader side sees it too and reports the federate
        if self._inbox or self._failure is not None:
            self._bump()
        if blocked and threading.current_thread() is not self._thread:
            os.write(self._wake_write, b"w")

    def _bump(self) -> None:
        """Wakes a waiting local scheduler, whether it waits on the condition or in select."""
        self._changes += 1
        self.condition.notify_all()
        if self._local_selecting:
            os.write(self._wake_write, b"b")

    def _take_inbox(self) -> list[tuple[Any, ...]]:
        records = list(self._inbox)
        self._inbox.clear()
        if self._failure is not None and not self._failure_delivered:
            self._failure_delivered = True
            records.append((P.ABORT, self._failure))
        return records

    def _physical_floor(self, node: int) -> Tag:
        return self.local.physical_floor() if self.local is not None else (0, 0)

    # ----- failures ----------------------------------------------------------------------------------

    def _fail(self, error: BaseException) -> None:
        """Stops the federation: the first failure is the one the caller gets."""
        if self._failure is not None:
            return
        self._failure = error
        for node in self._conns:
            self._route(node, (P.ABORT, str(error)))
        self._flush()
        self._bump()

    def _reaction_failed(self, source: int, info: dict[str, Any]) -> BaseException:
        original: BaseException | None = None
        if info["pickled"] is not None:
            try:
                original = pickle.loads(info["pickled"])
            except Exception:
                original = None
        if original is None:
            original = RemoteError(info["type"], info["message"], info["traceback"])
        if info["reaction"] is None:
            error = FederationError(
                f"building or running {info['reactor']} in federate {source} failed: "
                f"{info['type']}: {info['message']}"
            )
            error.__cause__ = original
            return error
        failed = FederateReactionFailed(source, info["reactor"], info["reaction"], info["tag"], original)
        failed.__cause__ = original
        return failed

    def _died(self, index: int, when: str) -> FederateDied:
        process = self.processes.get(index)
        code = None
        if process is not None:
            process.join(0.5)
            code = process.exit_code
        ltc = None
        if self.rti is not None:
            ltc = self.rti.latest_complete_of(index)
        return FederateDied(index, self._members.get(index, []) or [f"(none built {when})"], code, ltc)

    def _connection_lost(self, node: int) -> None:
        self._lost.add(node)
        if node in self._done:
            return
        self._fail(self._died(node, "while running"))
        self.rti.node_gone(node)

    # ----- the I/O thread ----------------------------------------------------------------------------

    @contextmanager
    def driving(self) -> Iterator[None]:
        """The caller's thread drives a round (``run_until_idle``): it reads the sockets itself
        when it waits, and the I/O thread sleeps until something else needs it (a wait outside a
        round: ``run``, ``stop``), so back-to-back rounds never wake it. Between rounds nothing is
        pending anywhere (``run_until_idle`` returns only then); a federate that dies meanwhile is
        noticed at the next round."""
        with self.lock:
            self._driving = True
            self._parked = True
            if self._reader.locked():
                os.write(self._wake_write, b"d")  # the I/O thread is in select: let it park
        try:
            yield
        finally:
            with self.lock:
                self._driving = False

    def _unpark(self) -> None:
        """Wakes the I/O thread (lock held): something waits for the federates' frames."""
        if self._parked:
            self._parked = False
            self._parking.notify_all()

    def _poll_once(self, timeout: float | None) -> None:
        """Waits for the federates' sockets (the caller holds the reader lock), then handles what
        arrived and writes what waits: the one step of both the I/O thread and a driving caller."""
        selector = self._selector
        with self.lock:
            for node, conn in self._conns.items():
                if node in self._lost or node not in self._watched:
                    continue
                mask = selectors.EVENT_READ | (selectors.EVENT_WRITE if conn.pending else 0)
                if mask != self._watched[node]:
                    selector.modify(conn.sock, mask, node)
                    self._watched[node] = mask
            floor = self.rti.physical_waiting()
        if floor and (timeout is None or timeout > FLOOR_RECHECK_S):
            timeout = FLOOR_RECHECK_S
        events = selector.select(timeout)
        arrived: list[tuple[int, list[list[tuple[Any, ...]]]]] = []
        lost: list[int] = []
        for key, mask in events:
            node = key.data
            if node is None:
                os.read(self._wake_read, 4096)
                continue
            if mask & selectors.EVENT_READ:
                try:
                    arrived.append((node, self._conns[node].read()))
                except (ConnectionLost, OSError):
                    lost.append(node)
        with self.lock:
            for node, frames in arrived:
                for records in frames:
                    self._dispatch(node, records)
            for node in lost:
                selector.unregister(self._conns[node].sock)
                self._watched.pop(node, None)
                self._connection_lost(node)
            for node, conn in self._conns.items():
                if conn.pending and node not in self._lost:
                    try:
                        conn.write()
                    except ConnectionLost:
                        pass
            if floor:
                self.rti.evaluate_all()
            self._flush()

    def _serve(self) -> None:
        """The I/O thread: reads and answers the federates whenever no caller drives a round."""
        try:
            while not self._stopping:
                with self.lock:
                    if self._parked and not self._stopping:
                        self._bump()  # a caller that found the sockets busy: they are free now
                        while self._parked and not self._stopping:
                            self._parking.wait()
                if self._stopping:
                    break
                with self._reader:
                    self._poll_once(None)
        except BaseException as error:  # an internal error: stop the federation rather than hang
            with self.lock:
                self._fail(FederationError(f"the RTI's I/O thread failed: {type(error).__name__}: {error}"))

    # ----- the end -----------------------------------------------------------------------------------

    def wait_idle(self) -> None:
        """Without local reactors: waits until nothing is pending anywhere (driven mode)."""
        with self.lock:
            self._unpark()
            while not self.rti.idle() and self._failure is None:
                self.condition.wait(0.5)
            self._raise_failure()

    def wait_done(self) -> None:
        """Without local reactors: waits until every federate has processed the stop tag."""
        with self.lock:
            self._unpark()
            while self._failure is None and len(self._done) + len(self._lost) < self.size:
                self.condition.wait(0.5)
            self._raise_failure()

    def request_stop(self) -> None:
        with self.lock:
            latest = self.rti.latest_complete() or (0, 0)
            self.rti.request_stop(self.local_node, (latest[0], latest[1] + 1))
            self._flush()

    def _raise_failure(self) -> None:
        if self._failure is not None and not self._failure_delivered:
            self._failure_delivered = True
            raise self._failure

    def abort(self, error: BaseException) -> None:
        with self.lock:
            self._unpark()
            self._fail(error)

    def finish(self, grace_s: float = 10.0) -> None:
        """Waits for every federate's goodbye, tells them to exit, and releases everything."""
        if self._closed:
            return
        deadline = time.monotonic() + grace_s
        with self.lock:
            self._unpark()
            while len(self._done) + len(self._lost) < len(self._conns) and time.monotonic() < deadline:
                if self._thread is None or not self._thread.is_alive():
                    break
                self.condition.wait(0.2)
            for node in self._conns:
                if node not in self._lost:
                    self._outgoing[node].append((P.EXIT,))
                    self._done.setdefault(node, None)
            pending = [(n, r) for n, r in self._outgoing.items() if r]
            for node, records in pending:
                self._outgoing[node] = []
                try:
                    self._conns[node].queue(records)
                except Exception:
                    pass
        self._stop_thread()
        for conn in self._conns.values():
            try:
                conn.drain(time.monotonic() + 1.0)
            except (OSError, TimeoutError, EOFError):
                pass
        self.close()

    def _stop_thread(self) -> None:
        with self.lock:
            self._parked = False
            self._stopping = True
            self.condition.notify_all()
            self._parking.notify_all()
        try:
            os.write(self._wake_write, b"x")
        except OSError:
            pass
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)

    def close(self) -> None:
        """Releases everything now: processes (killed if still running), sockets, shared memory."""
        if self._closed:
            return
        self._closed = True
        self._stop_thread()
        for node, conn in self._conns.items():  # a federate still waiting for orders ends at once
            if node not in self._lost:
                try:
                    conn.queue([(P.EXIT,)])
                    conn.write()
                except (OSError, EOFError):
                    pass
        deadline = time.monotonic() + 2.0
        for process in self.processes.values():
            process.join(max(0.0, deadline - time.monotonic()))
        for process in self.processes.values():
            if process.alive():
                process.kill()
                process.join(2.0)
        if self._selector is not None:
            self._selector.close()
        for conn in self._conns.values():
            conn.close()
        if self._listener is not None:
            self._listener.close()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
        if self.pool is not None:
            self.pool.close()
        if self.attachments is not None:
            self.attachments.close()
        shm.sweep(self.prefix)
        for fd in (self._wake_read, self._wake_write):
            try:
                os.close(fd)
            except OSError:
                pass

    @property
    def members(self) -> dict[int, list[str]]:
        """The reactors built in each federate, by fqn."""
        return {n: list(m) for n, m in self._members.items()}

    def describe(self) -> str:
        return ", ".join(f"federate {n}: {summarize(m)}" for n, m in self._members.items())
