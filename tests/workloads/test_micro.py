"""The ``micro`` suite records each cell's per-round distribution (median and p10/p90/p99) the same
way for ``reactor``, ``reactor-fed`` and ``xronos``, and the figure draws the medians only."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

from backends.base import Backend
from backends.reactor.distribution import Distribution
from harness.analysis.aggregate import summarize_rows
from harness.figures.micro import _draw_micro
from harness.results import read_rows
from tests.conftest import run_cli
from workloads.micro import Micro


class _Fixed(Backend):
    """Returns one known distribution (microseconds), to check what the workload records of it."""

    name = "fixed"

    def __init__(self, distribution: Distribution):
        self.distribution = distribution
        self.asked: list[tuple[str, int, int]] = []

    def start(self, factory, n_workers):  # pragma: no cover - micro builds no workers
        raise AssertionError("micro builds no workers")

    def call_all(self, method, arg=None):  # pragma: no cover
        raise AssertionError("micro makes no calls")

    def micro(self, program: str, size: int, workers: int) -> Distribution:
        self.asked.append((program, size, workers))
        return self.distribution

    def shutdown(self) -> None:
        pass


SAMPLE = Distribution(
    median=40.0, p10=30.0, p90=60.0, p99=90.0, minimum=20.0, maximum=500.0, count=2000, warmup=100
)


def test_a_bank_cell_records_the_median_and_percentiles_in_ms():
    backend = _Fixed(SAMPLE)
    m = Micro().measure(backend, {"program": "bank", "size": 4, "workers": 2}, "smoke")
    assert backend.asked == [("bank", 4, 2)]
    assert m.metrics == {
        "round_ms": (0.04, "ms"),
        "round_ms_p10": (0.03, "ms"),
        "round_ms_p90": (0.06, "ms"),
        "round_ms_p99": (0.09, "ms"),
    }
    assert (m.rounds, m.warmup) == (2000, 100)


def test_a_chain_cell_records_microseconds_per_reaction():
    m = Micro().measure(_Fixed(SAMPLE), {"program": "chain", "size": 16, "workers": 1}, "smoke")
    assert m.metrics == {
        "us_per_reaction": (40.0, "us"),
        "us_per_reaction_p10": (30.0, "us"),
        "us_per_reaction_p90": (60.0, "us"),
        "us_per_reaction_p99": (90.0, "us"),
    }


def test_a_failed_cell_names_every_metric_of_its_distribution():
    assert [m for m, _ in Micro().metrics_for({"program": "numpy-bank", "size": 16, "workers": 1})] == [
        "round_ms", "round_ms_p10", "round_ms_p90", "round_ms_p99"
    ]  # fmt: skip


@pytest.fixture(scope="module")
def micro_rows(tmp_path_factory) -> list[dict[str, str]]:
    out = tmp_path_factory.mktemp("micro") / "micro.csv"
    backends = "reactor,reactor-fed,xronos"
    result = run_cli("run", "--suite", "micro", "--profile", "smoke", "--backends", backends,
                     "--repeats", "1", "--out", str(out), "--quiet")  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return read_rows(out)


def test_every_backend_records_an_ordered_positive_distribution_of_the_rounds_it_timed(micro_rows):
    cells: dict[tuple[str, str], dict[str, dict[str, str]]] = {}
    for row in micro_rows:
        assert row["status"] == "ok", row["error"]
        cells.setdefault((row["backend"], row["param_program"]), {})[row["metric"]] = row
    assert set(cells) == {
        ("reactor", "chain"), ("reactor", "bank"), ("reactor-fed", "bank"),
        ("xronos", "chain"), ("xronos", "bank"),
    }  # fmt: skip
    for (_, program), metrics in cells.items():
        name = "us_per_reaction" if program == "chain" else "round_ms"
        assert set(metrics) == {name, f"{name}_p10", f"{name}_p90", f"{name}_p99"}
        p10, median, p90, p99 = (
            float(metrics[m]["value"]) for m in (f"{name}_p10", name, f"{name}_p90", f"{name}_p99")
        )
        assert 0 < p10 <= median <= p90 <= p99
        assert {(r["rounds"], r["warmup"]) for r in metrics.values()} == {("2000", "100")}


def test_the_figure_draws_each_cell_median_in_a_panel_per_program_titled_with_its_sizes(micro_rows):
    summaries = summarize_rows(micro_rows)
    sizes = {r["param_program"]: (r["param_size"], r["param_workers"]) for r in micro_rows}
    figure, axes = plt.subplots(1, len(sizes))
    try:
        assert _draw_micro(list(axes), summaries, [])
        for ax, program in zip(axes, sorted(sizes), strict=True):
            size, workers = sizes[program]  # the run's own sizes, whatever the profile
            assert ax.get_title().startswith(f"{program} (N={size}, W={workers})"), ax.get_title()
        assert sum(len(ax.containers) for ax in axes) == 5  # one median with its interval per cell
    finally:
        plt.close(figure)
