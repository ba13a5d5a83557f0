"""Runtime micro-benchmarks: what one reaction and one broadcast+gather round cost a reactor runtime.

These run inside the runtimes (no worker factories), on the backends that implement ``micro``: the
in-house ``reactor`` and ``xronos``. ``numpy-bank`` gives each of 16 workers about 1 ms of numpy work
that releases the GIL, to show what W worker threads buy; xronos runs on one thread, so it is measured
there only at W=1.
"""

from __future__ import annotations

from backends.base import Backend

from .base import Measurement, Params, Workload

GRIDS: dict[str, list[Params]] = {
    "smoke": [
        {"program": "chain", "size": 16, "workers": 1},
        {"program": "bank", "size": 4, "workers": 1},
    ],
    "quick": [
        {"program": "chain", "size": 64, "workers": 1},
        {"program": "bank", "size": 1, "workers": 1},
        {"program": "bank", "size": 2, "workers": 1},
        {"program": "bank", "size": 4, "workers": 1},
        {"program": "bank", "size": 16, "workers": 1},
        {"program": "numpy-bank", "size": 16, "workers": 1},
        {"program": "numpy-bank", "size": 16, "workers": 2},
    ],
}
GRIDS["paper"] = GRIDS["quick"]

SINGLE_THREADED = {"xronos", "xronos-ft"}
FEDERATED = {"reactor-fed"}
"""Backends whose bank spreads over processes: only bank rounds of at least one member per federate
(the bank of 2 over 2 federates is one tag's coordination cost); they have no chain or numpy bank."""


class Micro(Workload):
    name = "micro"
    suite = "micro"
    description = "reactor runtime cost: chain of relays (us/reaction), bank round, numpy bank with W threads"
    operations = frozenset({"micro"})
    metrics = (("us_per_reaction", "us"), ("round_ms", "ms"))

    def metrics_for(self, params: Params) -> tuple[tuple[str, str], ...]:
        return (self.metrics[0],) if params["program"] == "chain" else (self.metrics[1],)

    def grid(self, profile: str) -> list[Params]:
        return [dict(point) for point in GRIDS[profile]]

    def applies_to(self, params: Params, backend: str, profile: str) -> bool:
        if backend in SINGLE_THREADED:
            return params["workers"] == 1 and params["program"] != "numpy-bank"
        if backend in FEDERATED:
            return params["program"] == "bank" and int(params["size"]) >= 2
        return True

    def largest_group(self, params: Params) -> int:
        return 1 if params["program"] == "chain" else int(params["size"])

    def measure(self, backend: Backend, params: Params, profile: str) -> Measurement:
        program, size, workers = params["program"], int(params["size"]), int(params["workers"])
        microseconds = backend.micro(program, size, workers)
        m = Measurement(rounds=1)
        if program == "chain":
            m.add("us_per_reaction", microseconds, "us")
        else:
            m.add("round_ms", microseconds / 1000.0, "ms")
        return m
