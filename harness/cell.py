"""Runs one cell in this (fresh) process: ``python -m harness.cell --result FILE < spec.json``.

The parent (``harness.runner``) starts one such process per cell so that no state, memory or
framework process leaks from one measurement into the next (DESIGN.md §6.7). Start-up is timed on
its own (``startup_s``); the workload's measured window is wrapped in a CPU window; the backend is
shut down whatever happens; the outcome goes to a JSON file the parent reads.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from backends.base import BackendOptions, BackendUnavailable, Host, OperationNotSupported, error_line
from workloads.base import MeasurementFailed

from . import metadata, registry, semaphores
from .cpu_window import CpuWindow
from .reaper import ParentGuard
from .wire_window import WireWindow

IDLE_WINDOW_S = 0.5
"""How long a polling backend is watched doing nothing, to record what waiting costs it."""


def one_line(error: BaseException) -> str:
    """``Type: first line of the message``, short enough for a CSV cell."""
    return error_line(error)[:300]


def run_cell(spec: dict[str, Any]) -> dict[str, Any]:
    outcome: dict[str, Any] = {"status": "ok", "error": "", "metadata": metadata.process_metadata()}
    workload = registry.WORKLOADS[spec["workload"]]
    backend_cls = registry.BACKENDS[spec["backend"]]
    reason = backend_cls.availability()
    if reason:
        return {**outcome, "status": "unavailable", "error": reason}
    options = BackendOptions(
        threads=spec["threads"],
        processes=spec.get("processes") or 1,
        cluster_address=spec.get("cluster_address"),
        scratch_dir=spec.get("scratch"),
        hosts=tuple(Host(h["name"], h["address"], tuple(h["command"])) for h in spec.get("hosts", ())),
    )
    backend = backend_cls(options)
    params = spec["params"]
    try:
        started = time.perf_counter()
        if workload.start(backend, params):
            outcome["startup_s"] = time.perf_counter() - started
        wire = WireWindow(spec.get("host_namespaces", []), backend if backend_cls.multi_host else None)
        with CpuWindow() as window, wire:
            measurement = workload.measure(backend, params, spec["profile"])
        wire.add_metrics(measurement, workload, params, backend_cls.multi_host)
        if backend.polls_when_idle:
            with CpuWindow() as idle:
                time.sleep(IDLE_WINDOW_S)
            outcome["idle_cpu_util"] = idle.cpu_util
        settings = backend.describe()
        outcome.update(
            metrics=measurement.metrics,
            work=measurement.work,
            rounds=measurement.rounds,
            warmup=measurement.warmup,
            cpu_util=window.cpu_util,
            other_cpu_pct=window.other_cpu_pct,
            **{key: settings.get(key) for key in ("threads", "processes", "cluster_address", "worker_nodes")},
            result_digest=measurement.extra.get("result_digest"),
            series=measurement.series,
        )
    except BackendUnavailable as error:
        outcome.update(status="unavailable", error=one_line(error))
    except ModuleNotFoundError as error:
        # e.g. ale-py or pygame-ce, which have no free-threaded wheels: the point cannot run here
        where = f"Python {platform.python_version()}{'' if metadata.gil_enabled() else ' (free-threaded)'}"
        outcome.update(status="unavailable", error=f"{one_line(error)} under {where}")
    except OperationNotSupported as error:
        outcome.update(status="skipped", error=one_line(error))
    except MeasurementFailed as error:  # e.g. a training that missed its target: keep its curve
        failed = error.measurement
        outcome.update(status="error", error=one_line(error), series=failed.series, rounds=failed.rounds)
    except Exception as error:
        traceback.print_exc(file=sys.stderr)
        outcome.update(status="error", error=one_line(error))
    finally:
        # collected again at the end: an extension imported during the cell may have turned the GIL on
        outcome["metadata"] = metadata.process_metadata()
        try:
            backend.shutdown()
        except Exception as error:
            traceback.print_exc(file=sys.stderr)
            if outcome["status"] == "ok":
                outcome.update(status="error", error=f"shutdown failed: {one_line(error)}")
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.cell", description=__doc__)
    parser.add_argument("--result", required=True, type=Path, help="where to write the outcome")
    args = parser.parse_args()
    guard = ParentGuard(args.result.parent)  # the result file lies in the cell's scratch folder
    semaphores.name_after_this_process()  # so that the harness can remove them if it kills this cell
    try:
        spec = json.loads(sys.stdin.read())
        outcome = run_cell(spec)
        args.result.write_text(json.dumps(outcome))
    finally:
        guard.exit_if_orphaned()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
