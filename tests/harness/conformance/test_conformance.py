"""The conformance kit (``pytest -p harness.conformance --backend ...``) passes every registered
backend, built-in or plugin, and fails backends that break the contract."""

from __future__ import annotations

import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import pytest

from backends.base import FREE_THREADED
from harness import interpreters, registry
from harness.conformance import backend_class
from tests.conftest import ROOT, cli_environment, tagged, tagged_processes
from tests.harness.broken_backends import LEAKED_SEGMENT_PREFIX

pytestmark = pytest.mark.slow
FT_PYTHON = interpreters.free_threaded_python()


def _kit(
    backend: str, *extra: str, tag: str = "", python: str = sys.executable
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [python, "-m", "pytest", "-p", "harness.conformance", "--backend", backend,
         "-q", "-p", "no:cacheprovider", "-rfs", *extra],
        cwd=ROOT, env=cli_environment(tag), capture_output=True, text=True, timeout=900,
    )  # fmt: skip


DIGEST_CHECK = "test_smoke_workloads_end_with_the_sequential_digest"
"""The one check that skips the points a backend does not run; every other check is a core check."""


def _report(path: Path) -> dict[str, list[tuple[str, str, str]]]:
    """Per backend (the ``backend`` property the kit gives every check), each check's outcome and,
    for a skip or a failure, its message, read from the kit's JUnit XML report."""
    results: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for case in ET.parse(path).getroot().iter("testcase"):
        backend = next((p.get("value") for p in case.iter("property") if p.get("name") == "backend"), None)
        assert backend is not None, f"{case.get('name')} carries no backend in the report"
        outcome, why = "passed", ""
        for tag in ("failure", "error", "skipped"):
            element = case.find(tag)
            if element is not None:
                outcome, why = ("skipped" if tag == "skipped" else "failed"), element.get("message", "")
                break
        results[backend].append((case.get("name", "").split("[")[0], outcome, why))
    return dict(results)


def _unchecked(
    report: dict[str, list[tuple[str, str, str]]], names: list[str], kit_gil: bool = True
) -> dict[str, str]:
    """The backends among ``names`` that the kit did not check as the contract asks, with why.

    A backend that runs ``call_all`` under the kit's interpreter must pass every core check. One
    whose checks were all skipped passes only for a stated reason that holds there: it runs under
    the free-threaded interpreter and the kit ran with the GIL (``kit_gil``), or it has no
    ``call_all`` (the checks that need it skip, and so do the smoke points it does not run).
    Anything else that skipped them all (its package missing, a broken ``availability``) was not
    checked, and says so.
    """
    unchecked = {}
    core = {check for outcomes in report.values() for check, _, _ in outcomes} - {DIGEST_CHECK}
    for name in names:
        outcomes = report.get(name)
        if not outcomes:
            unchecked[name] = "absent from the kit's report"
            continue
        cls = backend_class(name)
        skips = sorted({why for _, outcome, why in outcomes if outcome == "skipped"})
        if cls.interpreter == FREE_THREADED and kit_gil:
            stated = all("runs under free-threaded Python" in why for why in skips)
            if not stated or any(outcome != "skipped" for _, outcome, _ in outcomes):
                unchecked[name] = f"a free-threaded backend not skipped for its interpreter: {outcomes}"
        elif "call_all" in cls.operations:
            passed = {check for check, outcome, _ in outcomes if outcome == "passed"}
            if core - passed:
                unchecked[name] = f"core checks not passed: {sorted(core - passed)}; skipped: {skips}"
        elif not all("has no 'call_all' operation" in why or "does not run" in why for why in skips):
            unchecked[name] = f"skipped for a reason that is not stated: {skips}"
    return unchecked


def test_every_registered_backend_conforms(tmp_path: Path):
    assert {"pykka", "dask"} <= set(registry.BACKENDS)  # the plugins are installed (make)
    # only the vector env references lack call_all (their one operation is vector_env)
    assert {n for n, c in registry.BACKENDS.items() if "call_all" not in c.operations} == {
        n for n, c in registry.BACKENDS.items() if c.__module__ == "backends.vector_envs"
    }
    result = _kit("all", "--junitxml", str(tmp_path / "kit.xml"))
    assert result.returncode == 0, result.stdout[-4000:]
    report = _report(tmp_path / "kit.xml")
    assert set(report) == set(registry.BACKENDS)
    assert _unchecked(report, list(registry.BACKENDS)) == {}


@pytest.mark.skipif(not FT_PYTHON.exists(), reason="free-threaded interpreter not built (make freethreaded)")
def test_the_free_threaded_backends_conform_under_their_interpreter(tmp_path: Path):
    """The kit under the GIL build skips them (above); under 3.13t (``make test-freethreaded``) every
    core check must pass. Their smoke digests are compared with the GIL build's in
    test_freethreaded.py (atari and multi-agent have no free-threaded wheels, so not here)."""
    names = [name for name, cls in registry.BACKENDS.items() if cls.interpreter == FREE_THREADED]
    result = _kit(",".join(names), "-k", f"not {DIGEST_CHECK}", "--junitxml", str(tmp_path / "kit.xml"),
                  python=str(FT_PYTHON))  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:]
    report = _report(tmp_path / "kit.xml")
    assert names and sorted(report) == sorted(names)
    assert _unchecked(report, names, kit_gil=False) == {}


def test_a_backend_whose_checks_were_all_skipped_is_not_counted_as_checked(tmp_path: Path):
    """The kit passes a backend that says it cannot run here (it skips every check, exit 0); the
    report tells it apart from one that was checked."""
    backend = "tests.harness.broken_backends:SelfExcludingBackend"
    result = _kit(f"sequential,{backend}", "--junitxml", str(tmp_path / "kit.xml"))
    assert result.returncode == 0, result.stdout[-3000:]
    unchecked = _unchecked(_report(tmp_path / "kit.xml"), ["sequential", backend])
    assert list(unchecked) == [backend]
    assert "core checks not passed" in unchecked[backend] and "cannot run here" in unchecked[backend]


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
