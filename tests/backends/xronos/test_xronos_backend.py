"""The xronos backend: worker groups and the pipeline as xronos programs, driven one tag per operation."""

from __future__ import annotations

import errno
import functools
import select
import socket
import subprocess
import sys
import textwrap
import threading
import time

import psutil
import pytest

from backends.base import BackendOptions, WorkerFailed
from backends.sequential import SequentialBackend
from backends.xronos import micro as xronos_micro
from backends.xronos.backend import XronosBackend
from tests.backends.test_backends import Recorder

pytestmark = pytest.mark.skipif(XronosBackend.availability() is not None, reason="xronos not installed")


EXPORT_PORT = 50051
"""Where xronos 0.15 sends the reactor graph on every ``execute()`` unless switched off
(``backends/xronos/micro.py``, ``_new_environment``): a gRPC client of ``localhost:50051``."""
EXPORT_GRACE_S = 0.5
"""How long the listener keeps watching after the backend shut down. The export is made before the
program's first tag (``execute()`` waits for it), so a connection is long in by then."""


class _ExportListener:
    """A listener where the graph export would connect (``localhost`` is 127.0.0.1 or ::1, tried in
    turn), recording each connection that this test's process made.

    The export is a client, so looking for a listener on 50051 can never see it; only a server there
    can. A connection from another process (other software on the machine) is not this test's to
    judge and is not recorded; a port already taken skips the test, since the connection would go to
    whoever holds it.
    """

    def __init__(self) -> None:
        self.ours: list[tuple[str, int]] = []
        self._sockets: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> _ExportListener:
        for family, address in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            try:
                listener = socket.socket(family, socket.SOCK_STREAM)
            except OSError:  # no IPv6 here: localhost is 127.0.0.1 only
                continue
            self._sockets.append(listener)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                listener.bind((address, EXPORT_PORT))
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    self._close()
                    pytest.skip(f"{address} port {EXPORT_PORT} is in use by other software")
                self._sockets.remove(listener)
                listener.close()  # an address this machine does not have
                continue
            listener.listen(16)
        assert self._sockets, "no loopback address to listen on"
        self._thread.start()
        return self

    def _accept(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select(self._sockets, [], [], 0.05)
            for listener in ready:
                connection, peer = listener.accept()
                try:
                    mine = {tuple(c.laddr[:2]) for c in psutil.Process().net_connections("tcp")}
                    if tuple(peer[:2]) in mine:
                        self.ours.append(tuple(peer[:2]))
                finally:
                    connection.close()

    def _close(self) -> None:
        for listener in self._sockets:
            listener.close()

    def __exit__(self, *exc: object) -> None:
        time.sleep(EXPORT_GRACE_S)
        self._stop.set()
        self._thread.join()
        self._close()


def test_the_xronos_backend_never_exports_its_graph():
    """A few rounds of the backend: no connection reaches the export's port."""
    with _ExportListener() as listener:
        backend = XronosBackend(BackendOptions())
        backend.start(functools.partial(Recorder, "x"), 2)
        try:
            for payload in range(3):
                backend.broadcast(payload)
            assert backend.gather() == [("x", i, [0, 1, 2]) for i in range(2)]
        finally:
            backend.shutdown()
    assert listener.ours == []


def test_the_export_listener_sees_the_export_when_it_is_on():
    """The control: with the export asked for, the listener records the connection; without this the
    test above would pass as well if xronos sent its graph anywhere else."""
    with _ExportListener() as listener:
        xronos_micro._run_bank(2, 3, export_graph=True)
    assert listener.ours


def test_call_all_gathers_in_worker_order_like_sequential():
    outcomes = []
    for backend in (SequentialBackend(), XronosBackend(BackendOptions())):
        backend.start(functools.partial(Recorder, "x"), 4)
        try:
            backend.broadcast(5)
            backend.broadcast(6)
            outcomes.append(backend.gather())
        finally:
            backend.shutdown()
    assert outcomes[0] == outcomes[1] == [("x", i, [5, 6]) for i in range(4)]


def test_a_failing_worker_raises_and_the_program_goes_on():
    backend = XronosBackend(BackendOptions())
    backend.start(functools.partial(Recorder, "x"), 2)
    try:
        with pytest.raises(WorkerFailed, match="worker 0: ValueError: worker 0 exploded") as failure:
            backend.call_all("boom")
        assert failure.value.index == 0 and isinstance(failure.value.__cause__, ValueError)
        backend.broadcast(1)
        assert backend.gather() == [("x", 0, [1]), ("x", 1, [1])]
    finally:
        backend.shutdown()
    assert not any(t.name == "xronos-execute" for t in __import__("threading").enumerate())


def test_ctrl_c_still_reaches_the_harness_after_xronos_started():
    """xronos's execute() installs its own SIGINT handling; the cell must still get KeyboardInterrupt."""
    script = textwrap.dedent(
        """
        import functools, os, signal, time
        from backends.base import BackendOptions, WorkerFailed
        from backends.xronos.backend import XronosBackend
        from tests.backends.test_backends import Recorder
        backend = XronosBackend(BackendOptions())
        backend.start(functools.partial(Recorder, "x"), 2)
        backend.broadcast(1)
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(2)
            print("no interrupt")
        except KeyboardInterrupt:
            print("interrupted")
        finally:
            backend.shutdown()
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "interrupted", (done.returncode, done.stderr[-1000:])
