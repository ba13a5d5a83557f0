"""Runtime micro-benchmarks: what one reaction and one broadcast+gather round cost a reactor runtime.

These run inside the runtimes (no worker factories), on the backends that implement ``micro``: the
in-house ``reactor`` (and ``reactor-fed``) and ``xronos``. ``numpy-bank`` gives each of 16 workers
about 1 ms of numpy work that releases the GIL, to show what W worker threads buy; xronos runs on one
thread, so it is measured there only at W=1.

Every backend times each tag of its self-driven program on its own, after start-up and a warm-up,
the same way (``backends.reactor.bench``, ``backends.xronos.micro``), and returns the distribution
over the measured tags: a cell records its median under the plain name (``us_per_reaction``,
``round_ms``), which the figure and the repeats' intervals use, and its 10th, 90th and 99th
percentiles under ``_p10``, ``_p90``, ``_p99`` (DESIGN.md §6.12), so that a tail shows as a tail
instead of moving one number.
"""

from __future__ import annotations

from backends.base import Backend

from .base import Measurement, Objective, Parameter, Params, Workload

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

PERCENTILES = ("p10", "p90", "p99")
"""Recorded beside each cell's median, as ``<metric>_<percentile>`` in the median's unit."""


def distribution_metrics(metric: str, unit: str) -> tuple[tuple[str, str], ...]:
    """The (metric, unit) pairs of one distribution: the median under ``metric``, then its percentiles."""
    return ((metric, unit), *((f"{metric}_{p}", unit) for p in PERCENTILES))


PER_REACTION = ("us_per_reaction", "us", 1.0)
PER_ROUND = ("round_ms", "ms", 1e-3)
"""(median metric, unit, factor from the microseconds ``Backend.micro`` returns): a chain reports
microseconds per reaction; a bank, milliseconds per round (one tag)."""
MEDIAN_METRICS = (PER_REACTION[0], PER_ROUND[0])
"""The metrics that hold a cell's median (the figure draws these; the percentiles are beside them)."""


def _median_metric(program: str) -> tuple[str, str, float]:
    return PER_REACTION if program == "chain" else PER_ROUND


class Micro(Workload):
    parameters = (
        Parameter("program", str, "the reactor program measured"),
        Parameter("size", int, "the program's size (reactions, tags or members)"),
        Parameter("workers", int, "the runtime's worker threads"),
    )
    name = "micro"
    objectives = (Objective(PER_REACTION[0]), Objective(PER_ROUND[0]))
    figure_module = "harness.figures.micro"
    report_module = "harness.report.micro"
    report_order = 15
    suite = "micro"
    description = "reactor runtime cost: chain of relays (us/reaction), bank round, numpy bank with W threads"
    operations = frozenset({"micro"})
    metrics = (*distribution_metrics(*PER_REACTION[:2]), *distribution_metrics(*PER_ROUND[:2]))

    def metrics_for(self, params: Params) -> tuple[tuple[str, str], ...]:
        metric, unit, _ = _median_metric(params["program"])
        return distribution_metrics(metric, unit)

    def grid(self, profile: str) -> list[Params]:
        return [dict(point) for point in GRIDS[profile]]

    def applies_to(self, params: Params, backend: type[Backend], profile: str) -> bool:
        if backend.single_threaded:  # one thread: W > 1 and the GIL-releasing numpy bank say nothing
            return params["workers"] == 1 and params["program"] != "numpy-bank"
        if backend.federated:
            # a bank spread over processes: only bank rounds of at least one member per federate (the
            # bank of 2 over 2 federates is one tag's coordination cost); no chain or numpy bank
            return params["program"] == "bank" and int(params["size"]) >= 2
        return True

    def largest_group(self, params: Params) -> int:
        return 1 if params["program"] == "chain" else int(params["size"])

    def measure(self, backend: Backend, params: Params, profile: str) -> Measurement:
        program, size, workers = params["program"], int(params["size"]), int(params["workers"])
        metric, unit, factor = _median_metric(program)
        values = backend.micro(program, size, workers).scaled(factor)
        m = Measurement(rounds=values.count, warmup=values.warmup)
        m.add(metric, values.median, unit)
        for percentile in PERCENTILES:
            m.add(f"{metric}_{percentile}", getattr(values, percentile), unit)
        return m
