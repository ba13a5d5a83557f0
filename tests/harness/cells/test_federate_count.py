"""``--processes`` of reactor-fed: never more federates than the bank has members, and every one of
them counted by the memory guard (``--processes 16`` on a 2-worker point once started 16 federate
interpreters, 14 of them idle, and the guard counted none)."""

from __future__ import annotations

import functools

import psutil
import pytest

from backends.base import BackendOptions
from backends.reactor_fed import FEDERATE_BYTES, ReactorFedBackend
from harness.cells import runner
from harness.cells.cell_memory import cell_memory_bytes
from harness.cells.plan import build_plan
from harness.registry import BACKENDS, WORKLOADS
from workloads.collectives import make_worker

pytestmark = pytest.mark.timeout(120)


def _cell(suite: str, backend: str, **point: object):
    """The smoke cell of ``suite`` on ``backend`` whose parameters include ``point``."""
    for cell in build_plan(suite, "smoke", [backend], 1):
        if all(cell.params.get(k) == v for k, v in point.items()):
            return cell
    raise AssertionError(f"no smoke cell of {suite} on {backend} at {point}")


def test_a_bank_of_two_gets_two_federates_whatever_processes_says():
    backend = ReactorFedBackend(BackendOptions(threads=1, processes=16))
    try:
        backend.start(functools.partial(make_worker, "copy"), 2)
        federation = backend._env.federation
        assert len(federation.processes) == 2
        assert sum(p.alive() for p in federation.processes.values()) == 2
        assert backend.describe()["processes"] == 2  # what the row records
        assert len(backend.gather()) == 2
    finally:
        backend.shutdown()


def test_fewer_processes_than_members_are_kept():
    assert ReactorFedBackend.federates(BackendOptions(processes=3), 16) == 3
    assert ReactorFedBackend.federates(BackendOptions(processes=16), 4) == 4


def test_the_memory_estimate_counts_the_federates_that_will_start():
    collectives = _cell("collectives", "reactor-fed", n_actors=2)
    workload = WORKLOADS["collectives"].peak_memory_bytes(collectives.params, BACKENDS["reactor-fed"])
    assert cell_memory_bytes(collectives, processes=1, threads=1) == workload + FEDERATE_BYTES
    assert cell_memory_bytes(collectives, processes=16, threads=1) == workload + 2 * FEDERATE_BYTES
    bank = _cell("micro", "reactor-fed", program="bank")
    assert cell_memory_bytes(bank, processes=16, threads=1) == bank.params["size"] * FEDERATE_BYTES
    sequential = _cell("collectives", "sequential", n_actors=2)
    on_threads = WORKLOADS["collectives"].peak_memory_bytes(sequential.params, BACKENDS["sequential"])
    assert cell_memory_bytes(sequential, processes=16, threads=1) == on_threads  # no processes of its own
    assert on_threads < workload  # in processes a payload is copied: reactor-fed is costed like Ray


def test_a_cell_whose_federates_would_not_fit_is_skipped(monkeypatch):
    """Room for the workload and one federate, while the cell needs two: skipped before it starts."""
    cell = _cell("collectives", "reactor-fed", n_actors=2)
    needed = (
        WORKLOADS["collectives"].peak_memory_bytes(cell.params, BACKENDS["reactor-fed"]) + 2 * FEDERATE_BYTES
    )
    available = needed - FEDERATE_BYTES
    real = psutil.virtual_memory
    monkeypatch.setattr(runner.psutil, "virtual_memory", lambda: real()._replace(available=available))
    settings = runner.RunSettings(run_id="test", timeout_s=60, threads=1, processes=16)

    outcome = runner.run_one(cell, settings)

    assert outcome.status == "skipped", outcome.error
    assert outcome.error == f"needs about {needed / 2**30:.1f} GiB, {available / 2**30:.1f} GiB available"
