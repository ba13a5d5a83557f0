"""The ``xronos`` backend: the reactor runtime of Lingua Franca's authors (PyPI ``xronos``).

Workers are xronos reactors, an operation is one logical tag, replies are gathered through ports in
worker order, as on the in-house ``reactor`` backend (``backends.xronos.program`` builds and drives
the programs; ``backends.xronos.micro`` has the runtime micro-benchmarks). xronos 0.15 runs every
reaction on the one thread that runs ``execute()``: it is single-threaded, reported as such.
"""

from __future__ import annotations

from typing import Any

from backends.base import Backend, OperationNotSupported, PipelineSpec, WorkerFactory, missing_package
from backends.reactor.distribution import Distribution
from backends.xronos import micro as xronos_micro


class XronosBackend(Backend):
    name = "xronos"
    description = "xronos 0.15 reactor runtime (C++ core, single-threaded): reactors, one tag per operation"
    plot_style = ("tab:green", "^")
    single_threaded = True
    operations = frozenset({"call_all", "micro", "pipeline"})
    headline_only_in_quick = True

    @classmethod
    def availability(cls) -> str | None:
        return missing_package("xronos", "xronos==0.15.*")

    def _program(self) -> Any:
        from backends.xronos.program import DrivenProgram

        self._driven = DrivenProgram()
        return self._driven

    def start(self, factory: WorkerFactory, n_workers: int) -> None:
        self.n_workers = n_workers
        program = self._program()
        program.worker_group(factory, n_workers)
        program.start()

    def call_all(self, method: str, arg: Any = None) -> list[Any]:
        return self._driven.round((method, arg))

    def start_pipeline(self, spec: PipelineSpec) -> None:
        self.n_workers = spec.n_rollouts
        program = self._program()
        program.pipeline(spec)
        program.start()

    def pipeline_round(self) -> Any:
        return self._driven.round(True, workers=False)[0]

    def micro(self, program: str, size: int, workers: int) -> Distribution:
        if workers != 1:
            raise OperationNotSupported("xronos is single-threaded")
        if program == "chain":
            return xronos_micro.chain_us_per_reaction(length=size)
        if program == "bank":
            return xronos_micro.bank_round_us(size)
        raise OperationNotSupported(f"xronos has no micro program {program!r}")

    def shutdown(self) -> None:
        driven = getattr(self, "_driven", None)
        if driven is not None:
            self._driven = None
            driven.stop()

    def describe(self) -> dict[str, Any]:
        return {
            "threads": 1,
            "runtime": f"xronos {xronos_micro.xronos_version()} (fast mode, single-threaded)",
        }
