"""The xronos backend: worker groups and the pipeline as xronos programs, driven one tag per operation."""

from __future__ import annotations

import functools
import subprocess
import sys
import textwrap

import psutil
import pytest

from backends.base import BackendOptions, WorkerFailed
from backends.sequential import SequentialBackend
from backends.xronos_backend import XronosBackend
from tests.harness.test_backends import Recorder

pytestmark = pytest.mark.skipif(XronosBackend.availability() is not None, reason="xronos not installed")


def _listening_ports() -> set[int]:
    me = psutil.Process()
    pids = {me.pid, *(child.pid for child in me.children(recursive=True))}
    return {c.laddr.port for c in psutil.net_connections("tcp") if c.status == "LISTEN" and c.pid in pids}


def test_call_all_gathers_in_worker_order_like_sequential():
    outcomes = []
    for backend in (SequentialBackend(), XronosBackend(BackendOptions())):
        backend.start(functools.partial(Recorder, "x"), 4)
        try:
            backend.broadcast(5)
            backend.broadcast(6)
            outcomes.append(backend.gather())
            if isinstance(backend, XronosBackend):
                assert 50051 not in _listening_ports()  # the graph export to localhost:50051 is off
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
        from backends.xronos_backend import XronosBackend
        from tests.harness.test_backends import Recorder
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
