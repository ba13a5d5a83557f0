"""Starting federate processes: fresh interpreters, so that no parent state leaks into them.

``spawn`` and ``forkserver`` go through multiprocessing (the child shares the parent's resource
tracker, which also unlinks the shared memory of processes killed without cleaning up); ``command``
runs ``python -m backends.reactor.federation`` behind an optional prefix (``ip netns exec h1``, an
ssh command), which is also how a federate on another host is started.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from collections.abc import Sequence

from . import node


class FederateProcess:
    """A started federate: its pid, whether it runs, how it ended; ``kill`` and ``join``."""

    def __init__(self, index: int, process: multiprocessing.process.BaseProcess | subprocess.Popen):
        self.index = index
        self._process = process

    @property
    def pid(self) -> int:
        return self._process.pid

    def alive(self) -> bool:
        if isinstance(self._process, subprocess.Popen):
            return self._process.poll() is None
        return self._process.is_alive()

    @property
    def exit_code(self) -> int | None:
        if isinstance(self._process, subprocess.Popen):
            return self._process.poll()
        return self._process.exitcode

    def join(self, timeout: float) -> None:
        if isinstance(self._process, subprocess.Popen):
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        else:
            self._process.join(timeout)

    def kill(self) -> None:
        if self.alive():
            try:
                self._process.kill()
            except (ProcessLookupError, OSError):
                pass


def launch(
    index: int,
    address: str,
    token: bytes,
    prefix: str,
    method: str,
    command: Sequence[str] = (),
) -> FederateProcess:
    """Starts federate ``index``, which connects to the RTI at ``address``."""
    if method == "command":
        environment = dict(os.environ)
        environment[node.TOKEN_VARIABLE] = token.hex()
        environment["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        argv = [
            *command,
            sys.executable,
            "-m",
            "backends.reactor.federation",
            "--rti",
            address,
            "--federate",
            str(index),
            "--parent",
            str(os.getpid() if not command else 0),
            "--prefix",
            prefix,
        ]
        process = subprocess.Popen(argv, env=environment, stdin=subprocess.DEVNULL)
        return FederateProcess(index, process)
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload(["backends.reactor.federation.node"])
    child = context.Process(
        target=node.main,
        args=(address, token, index, os.getpid(), prefix),
        name=f"federate-{index}",
        daemon=True,
    )
    child.start()
    return FederateProcess(index, child)
