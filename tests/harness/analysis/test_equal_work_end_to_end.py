"""``run`` exits 1 naming the point where two backends did unequal work or got different results, and
the conformance kit fails a backend that does either (DESIGN.md §6.3, §8).

The differences are injected from outside the product code (``fault_injection/sitecustomize.py``):
in the ``reactor`` cells only, the workers do one unit of work more than asked (an env step, an agent
step, a rollout step), or the results come back in reverse worker order (the same work, other
results). ``sequential`` runs the same points untouched.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from harness import registry
from harness.results import read_rows
from tests.conftest import FAULT_HOOKS, ROOT, cli_environment, run_cli, tagged_processes

pytestmark = pytest.mark.slow

SUITES = ("gym", "atari", "multi-agent", "training")
"""``training`` holds the training and training-return workloads."""


def _run(tmp_path: Path, suite: str, fault: str) -> tuple[subprocess.CompletedProcess, list[dict[str, str]]]:
    out = tmp_path / f"{suite}.csv"
    tag = uuid.uuid4().hex
    env = {**os.environ, f"HARNESS_FAULT_REACTOR_{fault}": "1"}
    result = run_cli(
        "run", "--suite", suite, "--profile", "smoke", "--backends", "sequential,reactor", "--out", str(out),
        "--quiet", tag=tag, env=env, pythonpath=[FAULT_HOOKS],
    )  # fmt: skip
    assert tagged_processes(tag) == []
    return result, read_rows(out)


def _points(suite: str) -> list[str]:
    """The names ``run`` gives the suite's smoke points (``workload[name=value,...]``)."""
    names = []
    for workload in registry.SUITES[suite]:
        for params in registry.WORKLOADS[workload].grid("smoke"):
            shown = ",".join(f"{k}={v}" for k, v in sorted(params.items()))
            names.append(f"{workload}[{shown}]")
    return names


def _errors(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error: ")]


@pytest.mark.parametrize("suite", SUITES)
def test_run_exits_1_naming_each_point_where_a_backend_did_more_work(tmp_path, suite):
    result, rows = _run(tmp_path, suite, "EXTRA_WORK")
    assert {r["status"] for r in rows} == {"ok"}  # every cell ran: only the comparison fails them
    assert result.returncode == 1, result.stderr[-2000:]
    errors = _errors(result)
    for point in _points(suite):  # one line per cell, not one per point of its curves
        assert len([e for e in errors if e.startswith(f"error: unequal work at {point}: ")]) == 1, errors
    if suite == "gym":  # what it names: each backend with what it did
        assert (
            "error: unequal work at gym[env_id=CartPole-v1,n_envs=2,steps_per_round=1,variant=plain]: "
            "reactor=['4'], sequential=['2']"
        ) in errors


@pytest.mark.parametrize("suite", SUITES)
def test_run_exits_1_naming_each_point_where_a_backend_got_other_results(tmp_path, suite):
    result, rows = _run(tmp_path, suite, "REVERSED")
    assert {r["status"] for r in rows} == {"ok"}
    assert result.returncode == 1, result.stderr[-2000:]
    errors = _errors(result)
    for point in _points(suite):
        assert len([e for e in errors if e.startswith(f"error: different results at {point}: ")]) == 1, errors
        if not point.startswith("training-return["):  # there the game changed, and when it was won
            assert not [e for e in errors if e.startswith(f"error: unequal work at {point}")], errors


def _kit(backend: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "harness.conformance", "--backend", backend, "-q",
         "-p", "no:cacheprovider", "-rfs", "-k", "sequential_digest"],
        cwd=ROOT, env=cli_environment(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip


@pytest.mark.parametrize("broken", ["ReversedEnvironmentsBackend", "ExtraStepBackend"])
def test_the_kit_fails_a_backend_whose_environments_give_other_results_or_work(broken):
    result = _kit(f"tests.harness.broken_backends:{broken}")
    assert result.returncode == 1, result.stdout[-3000:]
    failed = {line.split("[", 1)[1].split("-", 1)[1].split("{")[0] for line in result.stdout.splitlines()
              if line.startswith("FAILED")}  # fmt: skip
    assert failed == {"gym", "atari"}, result.stdout[-3000:]  # the points where it steps environments
