"""Runs one cell in this (fresh) process: ``python -m harness.cells.cell --result FILE < spec.json``.

The parent (``harness.cells.runner``) starts one such process per cell so that no state, memory or
framework process leaks from one measurement into the next (DESIGN.md §6.7). Start-up is timed on
its own (``startup_s``); the workload's measured window is wrapped in a CPU window; the backend is
shut down whatever happens; the outcome goes to a JSON file the parent reads. What the two say to
each other (``CellSpec`` in, ``CellResult`` out) is ``harness.cells.protocol``'s.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import traceback
from pathlib import Path

from backends.base import BackendOptions, BackendUnavailable, OperationNotSupported, error_line
from harness import registry
from workloads.base import MeasurementFailed

from . import metadata, semaphores
from .cpu_window import CpuWindow
from .protocol import CellResult, CellSpec, ProtocolMismatch
from .reaper import ParentGuard
from .wire_window import WireWindow

IDLE_WINDOW_S = 0.5
"""How long a polling backend is watched doing nothing, to record what waiting costs it."""


def one_line(error: BaseException) -> str:
    """``Type: first line of the message``, short enough for a CSV cell."""
    return error_line(error)[:300]


def run_cell(spec: CellSpec) -> CellResult:
    result = CellResult(status="ok", metadata=metadata.process_metadata())
    workload = registry.WORKLOADS[spec.workload]
    backend_cls = registry.BACKENDS[spec.backend]
    reason = backend_cls.availability()
    if reason:
        result.status, result.error = "unavailable", reason
        return result
    options = BackendOptions(
        threads=spec.threads,
        processes=spec.processes or 1,
        cluster_address=spec.cluster_address,
        scratch_dir=spec.scratch,
        hosts=spec.hosts,
    )
    backend = backend_cls(options)
    params = spec.params
    try:
        started = time.perf_counter()
        if workload.start(backend, params):
            result.startup_s = time.perf_counter() - started
        wire = WireWindow(list(spec.host_namespaces), backend if backend_cls.multi_host else None)
        with CpuWindow() as window, wire:
            measurement = workload.measure(backend, params, spec.profile)
        wire.add_metrics(measurement, workload, params, backend_cls.multi_host)
        if backend.polls_when_idle:
            with CpuWindow() as idle:
                time.sleep(IDLE_WINDOW_S)
            result.idle_cpu_util = idle.cpu_util
        settings = backend.describe()
        result.metrics = measurement.metrics
        result.work = measurement.work
        result.rounds = measurement.rounds
        result.warmup = measurement.warmup
        result.cpu_util = window.cpu_util
        result.other_cpu_pct = window.other_cpu_pct
        result.threads = settings.get("threads")
        result.processes = settings.get("processes")
        result.cluster_address = settings.get("cluster_address")
        result.worker_nodes = settings.get("worker_nodes")
        result.result_digest = measurement.extra.get("result_digest")
        result.series = measurement.series
    except BackendUnavailable as error:
        result.status, result.error = "unavailable", one_line(error)
    except ModuleNotFoundError as error:
        # e.g. ale-py or pygame-ce, which have no free-threaded wheels: the point cannot run here
        where = f"Python {platform.python_version()}{'' if metadata.gil_enabled() else ' (free-threaded)'}"
        result.status, result.error = "unavailable", f"{one_line(error)} under {where}"
    except OperationNotSupported as error:
        result.status, result.error = "skipped", one_line(error)
    except MeasurementFailed as error:  # e.g. a training that missed its target: keep its curve
        failed = error.measurement
        result.status, result.error = "error", one_line(error)
        result.series, result.rounds = failed.series, failed.rounds
    except Exception as error:
        traceback.print_exc(file=sys.stderr)
        result.status, result.error = "error", one_line(error)
    finally:
        # collected again at the end: an extension imported during the cell may have turned the GIL on
        result.metadata = metadata.process_metadata()
        try:
            backend.shutdown()
        except Exception as error:
            traceback.print_exc(file=sys.stderr)
            if result.status == "ok":
                result.status, result.error = "error", f"shutdown failed: {one_line(error)}"
    return result


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.cells.cell", description=__doc__)
    parser.add_argument("--result", required=True, type=Path, help="where to write the outcome")
    args = parser.parse_args()
    guard = ParentGuard(args.result.parent)  # the result file lies in the cell's scratch folder
    semaphores.name_after_this_process()  # so that the harness can remove them if it kills this cell
    try:
        try:
            spec = CellSpec.from_json(sys.stdin.read())
        except ProtocolMismatch as error:  # the parent finds no result and reports this line
            print(f"harness.cells.cell: {error}", file=sys.stderr)
            return 2
        args.result.write_text(run_cell(spec).to_json())
    finally:
        guard.exit_if_orphaned()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
