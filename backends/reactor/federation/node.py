"""A federate process: connects to the RTI, builds its reactors, runs them, and ends with its parent.

Started as a fresh interpreter (multiprocessing's spawn or forkserver, or ``python -m
backends.reactor.federation``), so nothing of the parent's state leaks in: reactors are built here
from their classes and picklable arguments (a worker factory, say). On Linux the kernel kills it
when the process that started it dies (``PR_SET_PDEATHSIG``), and a watchdog thread checks the same
every half second elsewhere (or if the starting thread, not the process, ended).
"""

from __future__ import annotations

import ctypes
import os
import pickle
import signal
import socket
import sys
import threading
import time
import traceback
from typing import Any

from ..errors import ReactionFailed, ReactorError
from ..reactor import Reactor, construct
from ..timeunits import Tag
from . import leftovers, shm
from . import protocol as P
from .federate import FederateScheduler, FederationStopped
from .shm import Attachments, SegmentPool
from .structure import NodePlan, Placeholder, describe
from .wire import ConnectionLost, FrameSocket, client_handshake
from .wiring import make_scheduler

TOKEN_VARIABLE = "REACTOR_FEDERATION_TOKEN"
PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int, prefix: str | None = None) -> None:
    """Ends this process when ``parent_pid`` (the RTI's process) is gone.

    Started by spawn or a command, the RTI's process is this process's parent; started by a
    forkserver, the parent is the server (which ends with the RTI's process), so the watchdog then
    checks the RTI's process by its pid.
    """
    if parent_pid <= 0:
        return
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    direct = os.getppid() == parent_pid
    if not direct and not leftovers.alive(parent_pid):
        os._exit(3)  # it died before prctl took effect

    def gone() -> bool:
        return os.getppid() != parent_pid if direct else not leftovers.alive(parent_pid)

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if gone():
                if prefix is not None:
                    shm.sweep(prefix)  # the whole federation is gone: leave nothing behind
                os._exit(3)

    threading.Thread(target=watch, name="federate-watchdog", daemon=True).start()


def connect(address: str, timeout: float) -> socket.socket:
    kind, _, where = address.partition(":")
    deadline = time.monotonic() + timeout
    while True:
        try:
            if kind == "unix":
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.connect(where)
            else:
                host, _, port = where.rpartition(":")
                sock = socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)
            return sock
        except (ConnectionRefusedError, FileNotFoundError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class RemoteLink:
    """The federate's side of its connection: records batch until ``flush``."""

    def __init__(self, frames: FrameSocket, node: int):
        self.node = node
        self._frames = frames
        self._records: list[tuple[Any, ...]] = []
        self.early: list[tuple[Any, ...]] = []
        """Records read along with START (in the same read), for the scheduler's first poll."""

    def send(self, records: list[tuple[Any, ...]]) -> None:
        self._records.extend(records)

    def flush(self) -> None:
        if self._records:
            records, self._records = self._records, []
            self._frames.send(records)

    def poll(self) -> list[tuple[Any, ...]]:
        records = [record for frame in self._frames.read() for record in frame]
        if self.early:
            records, self.early = self.early + records, []
        return records

    def token(self) -> int:
        return 0  # only this federate's main thread waits here, and nothing else wakes it

    def poke(self) -> None:
        pass

    def wait(self, timeout: float | None, token: int = 0) -> list[tuple[Any, ...]]:
        self.flush()
        if self.early:
            return self.poll()
        if self._frames.wait_readable(timeout):
            return self.poll()
        return []

    def idle(self) -> bool:
        return False

    def physical_event(self, tag: Tag) -> None:
        raise ReactorError("physical actions run in the RTI's process only")


class FederateEnvironment:
    """What a reactor sees as ``self.env`` in a federate: its tag, the clock, and request_stop."""

    def __init__(self, index: int, scheduler: FederateScheduler):
        self.federate = index
        self._scheduler = scheduler

    @property
    def tag(self) -> Tag:
        return self._scheduler.tag

    def physical_time(self) -> int:
        return self._scheduler.physical_time()

    def request_stop(self) -> None:
        self._scheduler.request_stop()

    @property
    def reactions_executed(self) -> int:
        return self._scheduler.reactions_executed

    @property
    def tags_processed(self) -> int:
        return self._scheduler.tags_processed


class Federate:
    """One federate: answers the RTI's setup requests, then runs its scheduler to the end."""

    def __init__(self, frames: FrameSocket, index: int):
        self.frames = frames
        self.index = index
        self.reactors: list[Reactor] = []
        self.scheduler: FederateScheduler | None = None
        self.pool: SegmentPool | None = None
        self.attachments: Attachments | None = None
        self.prefix: str | None = None

    def serve(self) -> None:
        try:
            while True:
                records = self._next_records()
                for position, record in enumerate(records):
                    if record[0] == P.BUILD:
                        self.frames.send([(P.BUILT, *self._build(record[1]))])
                    elif record[0] == P.PLAN:
                        self._wire(record[1], record[2])
                        self.frames.send([(P.READY,)])
                    elif record[0] == P.START:
                        self.link.early = records[position + 1 :]
                        self._run(record[1])
                        self._await_exit()
                        return
                    elif record[0] in (P.EXIT, P.ABORT):
                        return
        finally:
            self._cleanup()

    def _next_records(self) -> list[tuple[Any, ...]]:
        while True:
            records = [r for frame in self.frames.read() for r in frame]
            if records:
                return records
            self.frames.wait_readable(None)

    def _build(self, requests: list[tuple[Any, ...]]) -> tuple[Any, Any]:
        reports = []
        for cls, name, indices, parent_fqn, args, kwargs in requests:
            for index in indices:
                parent = Placeholder(parent_fqn) if parent_fqn is not None else None
                where = f"{parent_fqn + '.' if parent_fqn else ''}{name}" + (
                    f"[{index}]" if index is not None else ""
                )
                try:
                    reactor = construct(cls, name, index, parent, None, args, kwargs)  # type: ignore[arg-type]
                    report = describe(reactor)
                except BaseException as error:  # reported to the RTI, which raises it in the caller
                    return None, _failure(where, None, None, error)
                self.reactors.extend(reactor.descendants())
                reports.append(report)
        return reports, None

    def _wire(self, plan: NodePlan, settings: dict[str, Any]) -> None:
        self.prefix = settings["prefix"]
        if settings["shared_memory"]:
            self.pool = SegmentPool(settings["prefix"], plan.node)
            self.attachments = Attachments()
        self.link = RemoteLink(self.frames, plan.node)
        self.scheduler = make_scheduler(
            self.reactors,
            plan,
            link=self.link,
            workers=settings["workers"],
            fast=settings["fast"],
            timeout=settings["timeout"],
            pool=self.pool,
            attachments=self.attachments,
            threshold=settings["threshold"],
            connect_plan_edges=True,
        )
        env = FederateEnvironment(self.index, self.scheduler)
        for reactor in self.reactors:
            reactor.env = env

    def _run(self, start_wall_ns: int) -> None:
        scheduler = self.scheduler
        scheduler.begin()
        scheduler._start_ns = time.monotonic_ns() - (time.time_ns() - start_wall_ns)
        try:
            scheduler.run(until_idle=False)
        except ReactionFailed as failed:
            self._flush_quietly()
            self.frames.send(
                [(P.FAILED, _failure(failed.reactor, failed.reaction, failed.tag, failed.original))]
            )
            return
        except FederationStopped:
            self._flush_quietly()  # another federate failed; shutdown reactions ran; say BYE
        except ConnectionLost:
            raise
        except BaseException as error:
            self.frames.send([(P.FAILED, _failure(f"federate {self.index}", None, scheduler.tag, error))])
            return
        finally:
            scheduler.close()
        self.frames.send([(P.BYE, self._stats())])

    def _flush_quietly(self) -> None:
        try:
            self.link.flush()
        except (OSError, EOFError):
            pass

    def _stats(self) -> dict[str, Any]:
        scheduler = self.scheduler
        return {
            "reactions": scheduler.reactions_executed,
            "tags": scheduler.tags_processed,
            "messages": scheduler.messages_sent,
            "frames_sent": self.frames.frames_sent,
            "bytes_sent": self.frames.bytes_sent,
            "segments": self.pool.segments if self.pool else 0,
            "shm_bytes": self.pool.bytes_written if self.pool else 0,
        }

    def _await_exit(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for frame in self.frames.read():
                if any(record[0] == P.EXIT for record in frame):
                    return
            self.frames.wait_readable(1.0)

    def _cleanup(self) -> None:
        if self.pool is not None:
            self.pool.close()
        if self.attachments is not None:
            self.attachments.close()
        self.frames.close()


def _failure(reactor: str, reaction: str | None, tag: Tag | None, error: BaseException) -> dict[str, Any]:
    """What the RTI needs to raise one error naming where it happened (the exception itself when it
    pickles, else its type, message and traceback)."""
    try:
        pickled: bytes | None = pickle.dumps(error)
        pickle.loads(pickled)
    except Exception:
        pickled = None
    return {
        "reactor": reactor,
        "reaction": reaction,
        "tag": tag,
        "type": type(error).__name__,
        "message": str(error),
        "traceback": "".join(traceback.format_exception(error)),
        "pickled": pickled,
    }


def main(address: str, token: bytes, index: int, parent_pid: int, prefix: str | None = None) -> None:
    """The entry point of a federate process."""
    die_with_parent(parent_pid, prefix)
    if os.environ.get("RFED_DEBUG"):
        import faulthandler

        faulthandler.dump_traceback_later(float(os.environ["RFED_DEBUG"]), exit=True)
    try:
        sock = connect(address, timeout=60)
        client_handshake(sock, token, index, timeout=60)
    except (OSError, EOFError) as error:
        print(f"federate {index}: cannot reach the RTI at {address}: {error}", file=sys.stderr)
        os._exit(2)
    federate = Federate(FrameSocket(sock), index)
    try:
        federate.serve()
    except ConnectionLost:
        os._exit(4)  # the RTI is gone: nobody to report to


def command_main(argv: list[str] | None = None) -> int:
    """``python -m backends.reactor.federation --rti ADDRESS --federate N [--parent PID]``; the
    token comes from the environment (``REACTOR_FEDERATION_TOKEN``, hex), never the command line."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m backends.reactor.federation")
    parser.add_argument("--rti", required=True, help="unix:PATH or tcp:HOST:PORT")
    parser.add_argument("--federate", type=int, required=True)
    parser.add_argument("--parent", type=int, default=0, help="end when this process ends (0: never)")
    parser.add_argument("--prefix", default=None)
    args = parser.parse_args(argv)
    token = bytes.fromhex(os.environ.pop(TOKEN_VARIABLE, ""))
    main(args.rti, token, args.federate, args.parent, args.prefix)
    return 0
