"""Shared fixtures: a way to run the CLI in a subprocess exactly as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[1]


TEST_TAG_VARIABLE = "HARNESS_TEST_TAG"
"""Set in the environment of every CLI run a test starts; every process the run starts (cells, Ray's
daemons and workers) inherits it, so a test can find exactly its own leftovers on a shared machine."""


def run_cli(
    *args: str,
    cwd: Path | None = None,
    timeout: float = 300,
    tag: str = "",
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = str(ROOT)
    env[TEST_TAG_VARIABLE] = tag
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        cwd=cwd or ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def tagged_processes(tag: str) -> list[str]:
    """Full command lines of the live processes (zombies excluded) whose environment carries ``tag``.

    Never truncated: callers match on names inside them, and install paths differ in length between
    checkouts (a cut at 80 characters once hid `gcs_server` in a deeper clone).
    """
    found = []
    for process in psutil.process_iter(["status", "cmdline"]):
        try:
            if process.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if process.environ().get(TEST_TAG_VARIABLE) == tag:
                found.append(" ".join(process.info["cmdline"] or []))
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


@pytest.fixture
def cli():
    return run_cli
