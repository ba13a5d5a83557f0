"""Who measured what, where: versions and machine facts recorded with every row (DESIGN.md §5).

Collected inside each cell's process, because a cell may run under another interpreter; the git
commit comes from the parent, which knows the working tree.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import socket
import subprocess
import sys
from pathlib import Path

from harness import __version__

PACKAGES = {
    "numpy_version": "numpy",
    "ray_version": "ray",
    "gymnasium_version": "gymnasium",
    "ale_py_version": "ale-py",
    "xronos_version": "xronos",
}

MALLOC_TUNING = {"MALLOC_MMAP_THRESHOLD_": "268435456", "MALLOC_TRIM_THRESHOLD_": "536870912"}
"""Set for every cell of every backend: glibc otherwise serves a fresh multi-MB array ~4x cheaper on
a worker thread (own arena) than on the main thread, which would reward threads for the allocator."""


def _package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return ""


def gil_enabled() -> bool:
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


@functools.cache
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def process_metadata() -> dict[str, str]:
    """Facts about this interpreter and machine."""
    data = {
        "harness_version": __version__,
        "python_version": platform.python_version(),
        "gil_enabled": str(gil_enabled()).lower(),
        "cpu_model": cpu_model(),
        "cpu_count": str(os.cpu_count() or 0),
        "hostname": socket.gethostname(),
        "malloc_tuning": ",".join(f"{k}={v}" for k, v in MALLOC_TUNING.items()),
    }
    data.update({column: _package_version(pkg) for column, pkg in PACKAGES.items()})
    return data


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=True
    ).stdout.strip()


@functools.cache
def git_commit(root: Path) -> str:
    """Short commit of the tree the harness runs from, with ``+dirty`` when it has changes."""
    try:
        commit = _git(root, "rev-parse", "--short=12", "HEAD")
        dirty = _git(root, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return ""
    return commit + ("+dirty" if dirty else "")
