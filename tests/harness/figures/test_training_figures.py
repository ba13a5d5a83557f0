"""The training-return figure and report tables: one curve per variant only when the digests agree."""

from __future__ import annotations

import matplotlib.pyplot as plt

from harness.analysis.aggregate import CellSummary
from harness.analysis.stats import summarize
from harness.figures import error_bar_caption
from harness.figures.training import FIGURES, _draw
from harness.registry import WORKLOADS
from harness.report import sections_of
from tests.harness.report_tables import backends_in_order, section_table

POINT = {"env_id": "CartPole-v1", "seed": "0", "target": "475.0", "workers": "16"}


def _cell(backend: str, variant: str, metric: str, value: float, digest: str = "", **at: str) -> CellSummary:
    params = tuple(sorted({**POINT, "variant": variant, **at}.items()))
    digests = frozenset({digest}) if digest else frozenset()
    return CellSummary("training-return", params, backend, metric, "s", summarize([value]), digests=digests)


def _summaries(pipelined_digests: dict[str, str]) -> list[CellSummary]:
    cells = []
    for variant, digests in (("sync", {"sequential": "a", "reactor": "a"}), ("pipelined", pipelined_digests)):
        for backend, digest in digests.items():
            speed = 1.0 if backend == "sequential" else 1.05
            cells.append(_cell(backend, variant, "time_to_return_s", 3.0 * speed, digest))
            cells.append(_cell(backend, variant, "round_ms", 6.0 * speed, digest))
            for number in (10, 20, 30):
                at = {"round": str(number), "env_steps": str(number * 256)}
                cells.append(_cell(backend, variant, "episode_return", 10.0 * number, digest, **at))
                cells.append(_cell(backend, variant, "elapsed_s", 0.01 * number * speed, digest, **at))
    return cells


def _labels(pipelined_digests: dict[str, str]) -> list[list[str]]:
    (figure,) = [f for f in FIGURES if f.name == "training_time_to_return"]
    fig, axes = plt.subplots(1, figure.panels)
    try:
        assert _draw(list(axes), _summaries(pipelined_digests), [])
        return [ax.get_legend_handles_labels()[1] for ax in axes]
    finally:
        plt.close(fig)


def test_one_curve_per_variant_when_every_backend_has_the_same_weights():
    curves, wall, bars = _labels({"sequential": "b", "reactor": "b"})
    assert "sync: identical on 2 backends (same weights digest)" in curves
    assert "pipelined: identical on 2 backends (same weights digest)" in curves
    assert sorted(wall) == ["reactor pipelined", "reactor sync", "sequential pipelined", "sequential sync"]
    assert bars == ["sync", "pipelined"]


def test_backends_that_disagree_are_drawn_apart_and_said_to_differ():
    curves, _, _ = _labels({"sequential": "b", "reactor": "c"})
    assert "sync: identical on 2 backends (same weights digest)" in curves
    assert "pipelined reactor (weights differ between backends)" in curves
    assert "pipelined sequential (weights differ between backends)" in curves


def test_nothing_is_drawn_without_training_return_cells():
    fig, axes = plt.subplots(1, 3)
    try:
        assert not _draw(list(axes), [], [])
    finally:
        plt.close(fig)


def test_the_report_tables_time_to_return_and_round_time_by_variant():
    summaries = _summaries({"sequential": "b", "reactor": "b"})
    tables = [s.render(summaries, []) for s in sections_of(WORKLOADS["training-return"])]
    assert len(tables) == 2 and all(tables)
    time_table = tables[0]
    _, header, rows = section_table(time_table, "###")
    assert header == ["variant", "backend", "median", "range (min-max)", "/ sequential"]  # no ray here
    assert backends_in_order(rows, "pipelined") == ["sequential", "reactor"]  # a time: fastest first
    assert rows[("pipelined", "reactor")]["median"] == "3.15"
    assert rows[("pipelined", "reactor")]["range (min-max)"] == "[3.15, 3.15]"
    assert (
        rows[("pipelined", "sequential")]["median"] == "3"
        and rows[("pipelined", "reactor")]["/ sequential"] == "1.05"
    )


def test_the_time_to_return_panel_names_its_bars_as_the_caption_does():
    """Its y label said "95% CI" over bars that were the range (min-max) of the repeats."""
    (figure,) = [f for f in FIGURES if f.name == "training_time_to_return"]
    summaries = _summaries({"sequential": "b", "reactor": "b"})  # one repeat per cell
    fig, axes = plt.subplots(1, figure.panels)
    try:
        assert _draw(list(axes), summaries, [])
        assert axes[2].get_ylabel() == "time to return (s; median, range (min-max))"
    finally:
        plt.close(fig)
    assert error_bar_caption(summaries, "training-return").endswith(
        "error bars: range (min-max) of the repeats."
    )
    five = [CellSummary("training-return", (("variant", "sync"),), "reactor", "round_ms", "ms",
                        summarize([1.0, 1.1, 1.2, 1.3, 1.4]))]  # fmt: skip
    assert error_bar_caption(five, "training-return").endswith(
        "error bars: 95% bootstrap interval of the median."
    )
