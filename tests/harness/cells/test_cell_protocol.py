"""The cell protocol (``harness.cells.protocol``): what the runner and a cell's process say to each other
survives the trip, a message of another protocol version is refused with a clear line on either side,
and a cell run through it records the rows it always did."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backends.base import Host
from harness import registry
from harness.cells import metadata, protocol, runner
from harness.cells.plan import build_plan
from harness.cells.protocol import PROTOCOL_VERSION, CellResult, CellSpec, ProtocolMismatch
from harness.cells.runner import RunSettings

ROOT = Path(__file__).resolve().parents[3]

SPEC = CellSpec(
    workload="collectives",
    params={"n_actors": 2, "object_bytes": 1024, "variant": "copy"},
    backend="sequential",
    profile="smoke",
    threads=2,
    processes=3,
    cluster_address="127.0.0.1:6379",
    scratch="/tmp/harness-cell-x",
    hosts=(Host("h0", "10.0.0.1", ("ip", "netns", "exec", "h0")), Host("h1", "10.0.0.2")),
    host_namespaces=("h0", "h1"),
)
RESULT = CellResult(
    status="ok",
    metadata={"python": "3.11.9", "gil_enabled": True},
    metrics={"round_ms": (1.5, "ms"), "broken": (math.inf, "ms")},
    series=[({"round": 3}, "episode_return", 12.0, "return")],
    startup_s=0.25,
    rounds=3,
    warmup=1,
    work="7/3",
    result_digest="b1b62c9d930a0683",
    cpu_util=0.5,
    other_cpu_pct=1.0,
    idle_cpu_util=0.1,
    threads=2,
    processes=3,
    cluster_address="127.0.0.1:6379",
    worker_nodes=2,
)


def test_a_spec_survives_the_trip():
    assert CellSpec.from_json(SPEC.to_json()) == SPEC


def test_a_result_survives_the_trip_a_non_finite_value_included():
    back = CellResult.from_json(RESULT.to_json())
    assert back == RESULT
    assert math.isinf(back.metrics["broken"][0])  # the runner must still see it to refuse it
    assert CellResult.from_json(CellResult("timeout", "killed").to_json()) == CellResult("timeout", "killed")


@pytest.mark.parametrize("message", [SPEC, RESULT])
@pytest.mark.parametrize("version", [PROTOCOL_VERSION + 1, None])
def test_a_message_of_another_version_is_refused_saying_so(message, version):
    data = json.loads(message.to_json())
    data[protocol.VERSION_KEY] = version
    if version is None:
        del data[protocol.VERSION_KEY]
    with pytest.raises(ProtocolMismatch) as refused:
        type(message).from_json(json.dumps(data))
    line = str(refused.value)
    assert "\n" not in line
    assert f"cell protocol version {version}, this harness version {PROTOCOL_VERSION}" in line
    assert "different copies of the harness" in line


def test_an_unknown_field_is_refused():
    data = {**json.loads(RESULT.to_json()), "new_field": 1}
    with pytest.raises(ProtocolMismatch, match="fields this harness does not know: new_field"):
        CellResult.from_json(json.dumps(data))


def test_the_cell_process_refuses_a_spec_of_another_version(tmp_path: Path):
    data = {**json.loads(SPEC.to_json()), protocol.VERSION_KEY: PROTOCOL_VERSION + 1}
    result = tmp_path / "outcome.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "harness.cells.cell", "--result", str(result)],
        input=json.dumps(data),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"harness.cells.cell: the cell spec speaks cell protocol version {PROTOCOL_VERSION + 1}, this"
        f" harness version {PROTOCOL_VERSION}: the parent and the cell process run different copies of"
        " the harness"
    ]
    assert not result.exists()


def test_the_runner_makes_a_result_of_another_version_an_error(tmp_path: Path):
    path = tmp_path / "outcome.json"
    path.write_text(json.dumps({**json.loads(RESULT.to_json()), protocol.VERSION_KEY: 0}))
    read = runner.read_result(path)
    assert read.status == "error" and "cell protocol version 0" in read.error
    assert read.metrics == {}  # nothing of what it said is believed


def _smoke_cell(workload: str, backend: str):
    return build_plan(workload, "smoke", [backend], 1)[0]


@pytest.mark.timeout(180)
def test_a_sequential_cell_records_its_rows_through_the_protocol():
    """One real cell in its own process: the rows carry what the cell measured and reported."""
    cell = _smoke_cell("gym", "sequential")  # CartPole, 2 envs: it reports a result digest too
    settings = RunSettings(run_id="test", timeout_s=120, threads=1, processes=1)
    outcome = runner.run_one(cell, settings)
    assert outcome.status == "ok", outcome.error
    rows = outcome.rows
    expected = {metric for metric, _ in registry.WORKLOADS["gym"].metrics_for(cell.params)}
    assert {r["metric"] for r in rows} - {"startup_s"} == expected
    assert all(r["status"] == "ok" and r["error"] == "" for r in rows)
    assert all(isinstance(r["value"], float) and math.isfinite(r["value"]) for r in rows)
    first = rows[0]
    assert all(r.keys() == first.keys() for r in rows)
    # what the cell process reported arrived (none of it is made up by the parent)
    for column in ("rounds", "warmup", "work", "result_digest", "threads", "cpu_util", "other_cpu_pct"):
        assert first[column] is not None, column
    assert first["rounds"] > 0 and first["threads"] == 1
    assert set(metadata.process_metadata()) <= first.keys()
    assert {f"param_{k}": v for k, v in cell.params.items()}.items() <= first.items()
    assert (first["workload"], first["backend"], first["cell"]) == ("gym", "sequential", cell.key)


@pytest.mark.timeout(180)
def test_a_parent_of_another_version_gets_an_error_row_from_the_cell(monkeypatch):
    """The parent speaks a version the cell process does not: the cell refuses the spec and the row
    says why, instead of a cell that misread its spec."""
    monkeypatch.setattr(protocol, "PROTOCOL_VERSION", PROTOCOL_VERSION + 1)
    cell = _smoke_cell("collectives", "sequential")
    outcome = runner.run_one(cell, RunSettings(run_id="test", timeout_s=120, threads=1, processes=1))
    assert outcome.status == "error"
    assert f"cell protocol version {PROTOCOL_VERSION + 1}, this harness version {PROTOCOL_VERSION}" in (
        outcome.error
    )
    assert outcome.rows and all(r["value"] is None for r in outcome.rows)
