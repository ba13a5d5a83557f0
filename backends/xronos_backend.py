"""The ``xronos`` backend: the reactor runtime of Lingua Franca's authors (PyPI ``xronos``).

So far it runs the runtime micro-benchmarks (``micro`` suite) through ``backends.xronos_micro``;
worker groups (broadcast/gather, environments) on xronos are not implemented yet, and the harness
never plans such cells for it. It is single-threaded (xronos 0.15 runs every reaction on the thread
that calls ``execute()``).
"""

from __future__ import annotations

from typing import Any

from . import xronos_micro
from .base import Backend, OperationNotSupported, WorkerFactory, missing_package


class XronosBackend(Backend):
    name = "xronos"
    description = "xronos 0.15 reactor runtime (C++ core, single-threaded); micro suite only so far"
    operations = frozenset({"micro"})

    @classmethod
    def availability(cls) -> str | None:
        return missing_package("xronos", "xronos==0.15.*")

    def start(self, factory: WorkerFactory, n_workers: int) -> None:
        raise OperationNotSupported("xronos runs only the micro suite so far")

    def call_all(self, method: str, arg: Any = None) -> list[Any]:
        raise OperationNotSupported("xronos runs only the micro suite so far")

    def micro(self, program: str, size: int, workers: int) -> float:
        if workers != 1:
            raise OperationNotSupported("xronos is single-threaded")
        if program == "chain":
            return xronos_micro.chain_us_per_reaction(length=size)
        if program == "bank":
            return xronos_micro.bank_round_us(size)
        raise OperationNotSupported(f"xronos has no micro program {program!r}")

    def shutdown(self) -> None:
        pass

    def describe(self) -> dict[str, Any]:
        return {"threads": 1, "runtime": f"xronos {xronos_micro.xronos_version()} (fast mode)"}
