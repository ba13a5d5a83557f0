"""The CPU window counts what our own process tree used, processes that ended inside it included, so
that ``other_cpu_pct`` is other programs' load and not ours."""

from __future__ import annotations

import subprocess
import sys

from harness.cells.cpu_window import CpuWindow

BURN_S = 0.5
BURN = f"import time\nwhile time.process_time() < {BURN_S}:\n    pass\n"
"""A child that uses exactly this much CPU time, however long a busy machine makes it take."""


def test_a_child_that_ended_inside_the_window_counts_as_ours():
    with CpuWindow() as window:
        subprocess.run([sys.executable, "-c", BURN], check=True)
    assert window.cpu_s >= BURN_S  # before: only live processes counted, so the child's time was lost
    assert window.cpu_util > 0


def test_a_grandchild_reaped_by_its_parent_counts_too():
    nested = f"import subprocess, sys\nsubprocess.run([sys.executable, '-c', {BURN!r}], check=True)\n"
    with CpuWindow() as window:
        subprocess.run([sys.executable, "-c", nested], check=True)
    assert window.cpu_s >= BURN_S


def test_time_from_before_the_window_is_not_counted():
    subprocess.run([sys.executable, "-c", BURN], check=True)  # reaped before the window opens
    with CpuWindow() as window:
        pass
    assert window.cpu_s < BURN_S
