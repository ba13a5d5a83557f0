"""Shared fixtures: a way to run the CLI in a subprocess exactly as a user would."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[1]


TEST_TAG_VARIABLE = "HARNESS_TEST_TAG"
"""Set in the environment of every CLI run a test starts; every process the run starts (cells, Ray's
daemons and workers) inherits it, so a test can find exactly its own leftovers on a shared machine."""


def cli_environment(
    tag: str = "", env: dict[str, str] | None = None, pythonpath: Sequence[str | Path] = ()
) -> dict[str, str]:
    """The environment a test runs the CLI with: ``env`` (default: ours), the tag, and a PYTHONPATH of
    ``pythonpath`` (e.g. a folder holding a test's ``sitecustomize.py``) followed by the project root."""
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join([*map(str, pythonpath), str(ROOT)])
    env[TEST_TAG_VARIABLE] = tag
    return env


def run_cli(
    *args: str,
    cwd: Path | None = None,
    timeout: float = 300,
    tag: str = "",
    env: dict[str, str] | None = None,
    pythonpath: Sequence[str | Path] = (),
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        cwd=cwd or ROOT,
        env=cli_environment(tag, env, pythonpath),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


FAULT_HOOKS = Path(__file__).resolve().parent / "harness" / "fault_injection"
"""Put on a run's PYTHONPATH (``run_cli(..., pythonpath=[FAULT_HOOKS])``), its sitecustomize.py injects
the faults that ``HARNESS_FAULT_*`` variables ask for into every process of the run."""


def tagged(tag: str) -> list[psutil.Process]:
    """Live processes (zombies excluded) whose environment carries ``tag``: the run's own processes."""
    found = []
    for process in psutil.process_iter(["status"]):
        try:
            if process.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if process.environ().get(TEST_TAG_VARIABLE) == tag:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def tagged_processes(tag: str) -> list[str]:
    """Full command lines of ``tagged(tag)``, for assertions that show what was left behind.

    Never truncated: callers match on names inside them, and install paths differ in length between
    checkouts (a cut at 80 characters once hid `gcs_server` in a deeper clone).
    """
    found = []
    for process in tagged(tag):
        try:
            found.append(" ".join(process.cmdline()))
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


OTHER_UID = 65534
"""``nobody``: the local user as whom the access tests try to reach a cell's private cluster."""


def _as_other_user() -> None:
    """Runs in the child before it executes: drops root for ``OTHER_UID`` (groups first, uid last)."""
    os.setgroups([])
    os.setgid(OTHER_UID)
    os.setuid(OTHER_UID)


def run_as_other_user(code: str, stdin: str = "", timeout: float = 120) -> subprocess.CompletedProcess:
    """Runs ``code`` with this interpreter as ``OTHER_UID``, from /, with an environment of its own
    (none of the driver's variables, tokens or paths): what any other local user could run."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent", "TMPDIR": "/tmp"}
    return subprocess.run(
        [sys.executable, "-c", code],
        input=stdin,
        env=env,
        cwd="/",
        preexec_fn=_as_other_user,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def other_user_unavailable(*modules: str) -> str | None:
    """Why a test cannot act as another local user here (None: it can): it needs root, and
    ``OTHER_UID`` must be able to run this interpreter and import ``modules``."""
    if os.geteuid() != 0:
        return "needs root (to run a client as another user)"
    try:
        imported = run_as_other_user("import " + ", ".join(modules), timeout=120)
    except subprocess.TimeoutExpired:
        return f"uid {OTHER_UID} could not import {', '.join(modules)} within 120 s"
    if imported.returncode != 0:
        last = (imported.stderr.strip().splitlines() or ["no output"])[-1]
        return f"uid {OTHER_UID} cannot run this interpreter with {', '.join(modules)}: {last}"
    return None


def skip_unless_another_user_can_import(module: str) -> None:
    """Skips the calling test (or module, from a fixture) when ``module`` is not installed or another
    local user cannot run this interpreter with it (``other_user_unavailable``)."""
    reason = f"the {module!r} package is not installed"
    if importlib.util.find_spec(module) is not None:
        reason = other_user_unavailable(module)
    if reason:
        pytest.skip(reason)


class UidWorker:
    """The access tests' worker: says which user the cluster runs it as."""

    def uid(self, _: object) -> int:
        return os.getuid()


def make_uid_worker(index: int) -> UidWorker:
    return UidWorker()


@pytest.fixture(scope="session", autouse=True)
def interrupts_reach_the_processes_the_tests_start() -> None:
    """A non-interactive shell starts a background job with SIGINT ignored, and every process it starts
    inherits that (Python then installs no KeyboardInterrupt handler): run that way, the tests that
    interrupt a run as Ctrl-C does would see the signal ignored. Handled here, SIGINT reaches the
    processes the tests start with its usual disposition."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session", autouse=True)
def ray_sessions_in_a_folder_of_the_tests() -> Iterator[Path]:
    """Tests that start Ray in this process (a backend built without a cell's scratch folder) or with
    ``ray start`` would leave session folders in the shared /tmp/ray; here they go in a folder of the
    test session's own, removed at its end (short: Ray's socket paths must stay under 107 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="ray-tests-", dir="/tmp"))
    previous = os.environ.get("RAY_TMPDIR")
    os.environ["RAY_TMPDIR"] = str(folder)
    try:
        yield folder
    finally:
        if previous is None:
            os.environ.pop("RAY_TMPDIR", None)
        else:
            os.environ["RAY_TMPDIR"] = previous
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def cli():
    return run_cli
