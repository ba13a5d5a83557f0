"""End-to-end runs of the CLI in a subprocess, as a user (and CI) runs it."""

from __future__ import annotations

import csv
import dataclasses
import os
import uuid
from pathlib import Path

import pytest

from backends.sequential import SequentialBackend
from harness import interpreters
from harness.cells.leftover_watch import Watch
from harness.registry import BACKENDS, SUITES, WORKLOADS
from harness.results import BASE_COLUMNS, METADATA_COLUMNS, columns_for, read_rows
from tests.conftest import tagged, tagged_processes
from workloads.training import q_learning as training

pytestmark = pytest.mark.slow


def test_smoke_suite_end_to_end(cli, tmp_path: Path):
    out = tmp_path / "smoke.csv"
    tag = uuid.uuid4().hex
    # the free-threaded backends as on a machine without `make freethreaded` (test_freethreaded runs them)
    no_ft = {**os.environ, interpreters.FREE_THREADED_VARIABLE: str(tmp_path / "no-ft" / "python")}
    with Watch(lambda: [p.pid for p in tagged(tag)]) as watch:
        # 91 cells: about 4.5 minutes on 2 cores alone, over 5 with another `make test` beside it
        result = cli("run", "--suite", "smoke", "--out", str(out), tag=tag, env=no_ft, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]
    with out.open(newline="") as handle:
        header = next(csv.reader(handle))
    declared = columns_for(p for name in SUITES["smoke"] for p in WORKLOADS[name].parameters)
    for column in BASE_COLUMNS + declared + METADATA_COLUMNS:
        assert column in header
    all_rows = read_rows(out)
    assert {r["backend"] for r in all_rows} == {
        b for b, cls in BACKENDS.items() if not cls.paper_profile_only
    }
    ft = [r for r in all_rows if BACKENDS[r["backend"]].interpreter is not None]
    assert ft and all(r["status"] == "unavailable" and "make freethreaded" in r["error"] for r in ft)
    rows = [r for r in all_rows if BACKENDS[r["backend"]].interpreter is None]
    assert {r["status"] for r in rows} == {"ok"}
    groups = ("sequential", "reactor", "reactor-fed", "ray", "ray-compiled", "xronos", "pykka", "dask")
    references = {"gym": {"gym-sync-vector"}, "atari": {"ale-vector"}}
    expected_work = {"gym": "2", "atari": "2", "multi-agent": "2", "training": "env_steps=200 grad_steps=1"}
    for workload, work in expected_work.items():
        digests = {r["backend"]: r["result_digest"] for r in rows if r["workload"] == workload}
        # every backend, the vector references included, saw the same observations and rewards (or
        # took the same actions, or ended with the same weights): one digest, and not a constant --
        # the same point with the workers in the other order gives another
        assert set(digests) == set(groups) | references.get(workload, set()), digests
        assert len(set(digests.values())) == 1, digests
        assert digests["sequential"] not in ("", _reversed_digest(workload)), digests
        # what the workers counted: 2 envs x 1 step, 2 agents x 1 step, 2 rollouts x 100 steps and
        # one gradient step per round
        assert {r["work"] for r in rows if r["workload"] == workload} == {work}
    training = [r for r in rows if r["workload"] == "training"]
    curve = {(r["backend"], r["param_round"]) for r in training if r["metric"] == "loss"}
    assert curve == {(b, str(n)) for b in groups for n in range(1, 5)}
    for variant in ("sync", "pipelined"):  # training that learns: the same run on every backend
        learned = [r for r in rows if r["workload"] == "training-return" and r["param_variant"] == variant]
        arrivals = {
            (r["backend"], r["result_digest"], r["value"])
            for r in learned
            if r["metric"] == "rounds_to_return"
        }
        assert {b for b, _, _ in arrivals} == set(groups) and len({(d, v) for _, d, v in arrivals}) == 1
        steps = {(r["metric"], r["value"]) for r in learned if r["metric"].endswith("_steps_to_return")}
        assert len(steps) == 2, steps  # one value each on every backend, and the work says so:
        done = dict(steps)
        work = f"env_steps={int(float(done['env_steps_to_return']))} "
        assert {r["work"] for r in learned} == {
            f"{work}grad_steps={int(float(done['grad_steps_to_return']))}"
        }
    polling = {r["idle_cpu_util"] != "" for r in rows if r["backend"] == "ray-compiled"}
    assert polling == {True} and {r["idle_cpu_util"] for r in rows if r["backend"] == "ray"} == {""}
    assert {r["param_episode"] for r in rows if r["metric"] == "cumulative_s"} == {"1", "2"}
    assert len({r["run_id"] for r in rows}) == 1
    collective = [r for r in rows if r["workload"] == "collectives"]
    for cell in {r["param_object_bytes"] for r in collective}:
        works = {r["backend"]: r["work"] for r in collective if r["param_object_bytes"] == cell}
        assert len(set(works.values())) == 1 and int(next(iter(works.values()))) > 0, works
    metrics = {(r["backend"], r["metric"]) for r in collective}
    for backend in ("sequential", "ray", "ray-compiled", "reactor"):
        for metric in ("broadcast_ms", "gather_ms", "round_ms", "startup_s"):
            assert (backend, metric) in metrics
    for row in rows:
        assert float(row["value"]) > 0
        assert row["python_version"] and row["cpu_count"] and row["git_commit"] is not None
    assert tagged_processes(tag) == []
    assert watch.left() == []  # what the run's processes held in /dev/shm (ray-compiled's semaphores too)


def _reversed_digest(workload_name: str) -> str:
    """The digest of the workload's smoke point on ``sequential`` with its workers built in reverse
    order: what a backend that returned results in the wrong order would record."""
    workload = WORKLOADS[workload_name]
    (params,) = workload.grid("smoke")
    backend = SequentialBackend()
    try:
        if workload_name == "training":
            spec = training.pipeline_spec(params["env_id"], int(params["workers"]), int(params["minibatch"]))
            n = spec.n_rollouts
            backend.start_pipeline(dataclasses.replace(spec, rollout=lambda i: spec.rollout(n - 1 - i)))
        else:
            factory, n = workload.factory(params), workload.n_workers(params)
            backend.start(lambda i: factory(n - 1 - i), n)
        return workload.measure(backend, params, "smoke").extra["result_digest"]
    finally:
        backend.shutdown()


def test_resume_runs_only_missing_cells(cli, tmp_path: Path):
    out = tmp_path / "run.csv"
    first = cli(
        "run", "--suite", "smoke", "--backends", "sequential,reactor", "--repeats", "2", "--out", str(out)
    )
    assert first.returncode == 0, first.stderr[-2000:]
    lines = out.read_text().splitlines()
    complete = read_rows(out)
    assert {r["run_repeats"] for r in complete} == {"2"}
    kept_cells = {(r["cell"], r["repeat"]) for r in complete}
    # drop the second repeat's rows, as if the run had been killed before it started: the resume
    # must take the run's 2 repeats from the file (the smoke profile's own is 1) and run them all
    cut = {(r["cell"], r["repeat"]) for r in complete if r["repeat"] == "1"}
    survivors = [
        line for line, row in zip(lines[1:], complete, strict=True) if (row["cell"], row["repeat"]) not in cut
    ]
    out.write_text("\n".join([lines[0], *survivors]) + "\n")
    second = cli("run", "--resume", str(out))
    assert second.returncode == 0, second.stderr[-2000:]
    assert f": {len(cut)} cells ->" in second.stderr, second.stderr[-2000:]
    resumed = read_rows(out)
    assert {(r["cell"], r["repeat"]) for r in resumed} == kept_cells
    assert len(resumed) == len(complete)
    assert len({r["run_id"] for r in resumed}) == 1


def test_timeout_is_recorded_and_ray_is_cleaned_up(cli, tmp_path: Path):
    out = tmp_path / "timeout.csv"
    tag = uuid.uuid4().hex
    result = cli("run", "--suite", "collectives", "--profile", "smoke", "--backends", "ray", "--repeats", "1",
                 "--timeout", "1", "--out", str(out), tag=tag)  # fmt: skip
    assert result.returncode == 1
    rows = read_rows(out)
    assert rows and {r["status"] for r in rows} == {"timeout"}
    assert all("no result within 1 s" in r["error"] for r in rows)
    assert tagged_processes(tag) == []


def test_list_shows_backends_and_grids(cli):
    result = cli("list")
    assert result.returncode == 0
    for word in ("collectives", "micro", "sequential", "ray", "reactor", "xronos", "n_actors=16"):
        assert word in result.stdout
