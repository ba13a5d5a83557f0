"""The results CSV as DESIGN.md §5 states it, checked on the rows of a real run.

The design's lists are written out here, word for word, instead of being taken from the writer's
constants: a test that compared the writer's columns with the writer's columns could not fail when
a column the design requires went missing. The run measures real cells of the smoke collectives
suite: ok on ``sequential``, failing on ``reactor`` (a fault hook raises in its first call), and
``unavailable`` on ``reactor-ft`` (no free-threaded interpreter), so that every kind of row is seen.
"""

from __future__ import annotations

import csv
import importlib.metadata
import os
import platform
import re
import socket
import subprocess

import numpy
import pytest

from harness import interpreters, registry
from tests.conftest import FAULT_HOOKS, ROOT, run_cli

pytestmark = pytest.mark.slow  # the CLI end to end

REQUIRED = ["run_id", "started_utc", "suite", "workload", "backend", "repeat", "metric", "value", "unit",
            "status", "error"]  # fmt: skip
PARAMS = ["param_n_actors", "param_object_bytes", "param_variant", "param_round", "param_episode",
          "param_env_steps"]  # fmt: skip
"""One column per parameter the run's workloads declare: collectives' own and the curves'."""
METADATA = ["harness_version", "git_commit", "python_version", "gil_enabled", "numpy_version", "ray_version",
            "gymnasium_version", "ale_py_version", "xronos_version", "cpu_model", "cpu_count",
            "hostname"]  # fmt: skip
STATUSES = {"ok", "error", "timeout", "unavailable", "skipped"}
METRICS = {"broadcast_ms", "gather_ms", "round_ms", "startup_s", "steps_per_s", "frames_per_s",
           "agent_steps_per_s", "step_ms", "time_to_rounds_s", "comm_ms", "compute_ms",
           "us_per_reaction"}  # fmt: skip
PACKAGES = {"ray_version": "ray", "gymnasium_version": "gymnasium", "ale_py_version": "ale-py",
            "xronos_version": "xronos"}  # fmt: skip
"""Metadata columns that name an optional package's version: blank where it is not installed."""
ROUND_OPERATIONS = {"round_ms", "broadcast_ms", "gather_ms", "startup_s"}
"""What a collectives cell measures (DESIGN §6.11: a round, and broadcast and gather on their own)."""


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[list[str], list[dict[str, str]]]:
    """(header, rows) of the real run, read with the csv module alone."""
    out = tmp_path_factory.mktemp("contract") / "run.csv"
    no_ft = tmp_path_factory.mktemp("no-ft") / "python"
    env = {
        **os.environ,
        "HARNESS_FAULT_REACTOR_FAIL_AT": "1",
        interpreters.FREE_THREADED_VARIABLE: str(no_ft),
    }
    result = run_cli("run", "--suite", "collectives", "--profile", "smoke", "--backends",
                     "sequential,reactor,reactor-ft", "--repeats", "1", "--out", str(out), "--quiet",
                     env=env, pythonpath=[FAULT_HOOKS], timeout=240)  # fmt: skip
    assert result.returncode == 1, result.stderr[-2000:]  # the reactor cells failed
    with out.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
        handle.seek(0)
        return header, list(csv.DictReader(handle))


def test_the_design_columns_are_all_there(run):
    header, _ = run
    assert len(header) == len(set(header))
    missing = [column for column in REQUIRED + PARAMS + METADATA if column not in header]
    assert missing == []
    assert sorted(c for c in header if c.startswith("param_")) == sorted(PARAMS)  # no other workload's


def test_every_row_says_what_was_measured_where(run):
    _, rows = run
    assert len({row["run_id"] for row in rows}) == 1 and rows[0]["run_id"]
    for row in rows:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["started_utc"]), row["started_utc"]
        assert (row["suite"], row["workload"], row["repeat"]) == ("collectives", "collectives", "0")
        assert row["status"] in STATUSES
        assert row["metric"] in METRICS
        assert row["unit"] == row["metric"].rsplit("_", 1)[1]  # round_ms in ms, startup_s in s
    assert {row["status"] for row in rows} == {"ok", "error", "unavailable"}
    samples = [(row["backend"], row["param_object_bytes"], row["repeat"], row["metric"]) for row in rows]
    assert len(samples) == len(set(samples))  # one row per measured sample


def test_status_value_and_error_agree(run):
    _, rows = run
    for row in rows:
        if row["status"] == "ok":
            assert row["error"] == "" and float(row["value"]) > 0, row
        else:
            assert row["value"] == "" and row["error"].strip() and "\n" not in row["error"], row
    by_backend = {row["backend"]: row["status"] for row in rows}
    assert by_backend == {"sequential": "ok", "reactor": "error", "reactor-ft": "unavailable"}
    failed = {row["error"] for row in rows if row["backend"] == "reactor"}
    assert all("injected fault in reactor call" in error for error in failed), failed


def test_each_cell_measures_a_round_and_its_operations(run):
    _, rows = run
    for backend in ("sequential", "reactor", "reactor-ft"):
        for size in ("1024", "1048576"):
            metrics = {
                r["metric"] for r in rows if r["backend"] == backend and r["param_object_bytes"] == size
            }
            assert ROUND_OPERATIONS - {"startup_s"} <= metrics <= ROUND_OPERATIONS, (backend, size)
    assert {r["metric"] for r in rows if r["status"] == "ok"} == ROUND_OPERATIONS


def test_parameters_have_their_columns_and_nothing_else_is_set(run):
    """One ``param_<name>`` column per parameter the workload declares, blank where it is not used."""
    header, rows = run
    declared = [
        {f"param_{name}": str(value) for name, value in point.items()}
        for point in registry.WORKLOADS["collectives"].grid("smoke")
    ]
    for row in rows:
        used = {column: row[column] for column in header if column.startswith("param_") and row[column]}
        assert used in declared, used
    assert len({r["param_object_bytes"] for r in rows}) == len(declared)


def test_metadata_names_this_machine_and_these_versions(run):
    _, rows = run
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    expected = {
        "python_version": platform.python_version(),
        "gil_enabled": "true",
        "numpy_version": numpy.__version__,
        "cpu_count": str(os.cpu_count()),
        "hostname": socket.gethostname(),
    }
    for column, package in PACKAGES.items():
        try:
            expected[column] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            expected[column] = ""
    for row in rows:
        assert {column: row[column] for column in expected} == expected
        assert row["harness_version"] and row["cpu_model"], row
        assert commit.startswith(row["git_commit"].removesuffix("+dirty")) and row["git_commit"], row
