"""The conformance kit (``pytest -p harness.conformance --backend ...``) passes every registered
backend, built-in or plugin, and fails backends that break the contract."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from harness import registry
from tests.conftest import ROOT, cli_environment, tagged, tagged_processes
from tests.harness.broken_backends import LEAKED_SEGMENT_PREFIX

pytestmark = pytest.mark.slow


def _kit(backend: str, *extra: str, tag: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "harness.conformance", "--backend", backend,
         "-q", "-p", "no:cacheprovider", "-rfs", *extra],
        cwd=ROOT, env=cli_environment(tag), capture_output=True, text=True, timeout=900,
    )  # fmt: skip


def test_every_registered_backend_conforms():
    assert {"pykka", "dask"} <= set(registry.BACKENDS)  # the plugins are installed (make)
    result = _kit("all")
    assert result.returncode == 0, result.stdout[-4000:]
    for name in registry.BACKENDS:  # each one was checked (or skipped with its reason)
        assert f"[{name}]" in result.stdout or name in result.stdout, name
    assert " passed" in result.stdout.splitlines()[-1]


def test_the_kit_fails_a_backend_that_answers_in_arrival_order():
    result = _kit("tests.harness.broken_backends:ArrivalOrderBackend")
    assert result.returncode == 1
    failed = {
        line.split("::")[1].split("[")[0] for line in result.stdout.splitlines() if line.startswith("FAILED")
    }
    # the order check always; other checks whose results show the order only when threads happened
    # to finish out of order (the array checksums, the workloads' digests), nothing else
    assert "test_results_come_in_worker_order_not_arrival_order" in failed, result.stdout[-3000:]
    assert failed <= {
        "test_results_come_in_worker_order_not_arrival_order",
        "test_an_array_argument_arrives_intact_and_unchanged",
        "test_smoke_workloads_end_with_the_sequential_digest",
    }, result.stdout[-3000:]


def _release_checks(backend: str, tag: str = "") -> tuple[subprocess.CompletedProcess, set[str], list[str]]:
    """The kit's release checks that start a broken backend: the kit's result, the checks that
    failed, and what carried the run's tag once the kit had ended (then killed, whatever the kit did).
    The failed-start check passes for each of them: that start fails before the helper starts."""
    tag = tag or uuid.uuid4().hex
    try:
        result = _kit(backend, "-k", "releases_everything", tag=tag)
        left = tagged_processes(tag)
    finally:
        for process in tagged(tag):  # what the broken backend left behind
            process.kill()
    failed = {line.split("::")[1] for line in result.stdout.splitlines() if line.startswith("FAILED")}
    return result, {name.split("[")[0].split(" ")[0] for name in failed}, left


RELEASE_CHECKS = {
    "test_shutdown_releases_everything",
    "test_shutdown_releases_everything_after_a_worker_exception",
}


def test_the_kit_fails_a_backend_that_leaks_a_process():
    result, failed, left = _release_checks("tests.harness.broken_backends:LeakyBackend")
    assert result.returncode == 1 and failed == RELEASE_CHECKS, result.stdout[-3000:]
    assert "'processes'" in result.stdout and "time.sleep(600)" in result.stdout
    assert left == [], left  # the kit killed what it found


def test_the_kit_fails_a_backend_that_leaves_a_detached_process():
    """Its helper (``sh -c 'sleep 777 &'``) is no descendant of the kit's process; it carries the
    kit's marker all the same, so the kit finds it, fails the backend and kills it."""
    result, failed, left = _release_checks("tests.harness.broken_backends:DetachingBackend")
    assert result.returncode == 1 and failed == RELEASE_CHECKS, result.stdout[-3000:]
    assert "'processes'" in result.stdout and "sleep 777" in result.stdout
    assert left == [], left  # the helpers of the checks and of the kit's warm-up included


NEIGHBOUR = """
import sys, threading
from multiprocessing import shared_memory
made, stop = [], threading.Event()
def make():
    while not stop.wait(0.05):
        made.append(shared_memory.SharedMemory(create=True, size=4096))
threading.Thread(target=make, daemon=True).start()
sys.stdin.read()
stop.set()
for segment in made:
    segment.close()
    segment.unlink()
"""


def test_the_kit_does_not_count_what_other_software_makes_meanwhile():
    """A program beside the kit makes a shared-memory segment every 50 ms while the kit checks a
    backend that releases everything: the kit's leftover checks must pass."""
    neighbour = subprocess.Popen([sys.executable, "-c", NEIGHBOUR], stdin=subprocess.PIPE, text=True)
    try:
        result = _kit("reactor-fed", "-k", "releases_everything")
    finally:
        neighbour.stdin.close()
        neighbour.wait(30)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "3 passed" in result.stdout.splitlines()[-1], result.stdout[-3000:]


def test_the_kit_fails_a_backend_that_leaks_shared_memory():
    """Judged by what the kit's own processes held, so a segment of other software is never counted,
    and this one, which only the backend made, always is."""
    tag = uuid.uuid4().hex
    try:
        result, failed, _ = _release_checks("tests.harness.broken_backends:SegmentLeakingBackend", tag)
    finally:  # what the broken backend leaked (the kit only reports it)
        leaked = sorted(Path("/dev/shm").glob(f"{LEAKED_SEGMENT_PREFIX}{tag}-*"))
        for path in leaked:
            path.unlink()
    assert result.returncode == 1 and failed == RELEASE_CHECKS, result.stdout[-3000:]
    assert "'held files'" in result.stdout and f"/dev/shm/{LEAKED_SEGMENT_PREFIX}{tag}-" in result.stdout
    assert len(leaked) == 3  # the warm-up cycle's and the two release checks that start it
