"""The noise summary: other processes' CPU over a run's cells, busy cells flagged, re-runs counted
by their latest attempt without any row being dropped from the file."""

from __future__ import annotations

from pathlib import Path

from harness.analysis.noise import BUSY_ABOVE_PCT, latest_attempts, noise
from harness.results import read_rows
from tests.harness.sample_rows import row, write_results


def _rows(tmp_path: Path, rows: list[dict]) -> list[dict[str, str]]:
    return read_rows(write_results(tmp_path / "run.csv", rows))


def test_median_max_and_the_busy_cells(tmp_path: Path):
    rows = _rows(
        tmp_path,
        [
            row(backend="ray", repeat=0, other_cpu_pct=5.0),
            row(backend="ray", repeat=0, metric="startup_s", other_cpu_pct=5.0),
            row(backend="ray", repeat=1, other_cpu_pct=0.0),
            row(backend="reactor", repeat=0, other_cpu_pct=60.0),
            row(backend="reactor", repeat=1, other_cpu_pct=""),  # not recorded: not counted
        ],
    )
    found = noise(rows)
    assert (found.median, found.max, found.cells) == (5.0, 60.0, 3)
    assert [(c.backend, c.repeat, c.other_cpu_pct) for c in found.busy] == [("reactor", 0, 60.0)]
    assert f"more than {BUSY_ABOVE_PCT:g}%" in found.busy_line()
    assert "busy: reactor: collectives" in found.lines()[2] and "#1 (60%)" in found.lines()[2]
    assert noise(rows, threshold=70.0).busy == ()


def test_a_rerun_replaces_the_busy_attempt_and_keeps_its_rows(tmp_path: Path):
    busy = [
        row(repeat=0, value=9.0, other_cpu_pct=80.0),
        row(repeat=0, metric="startup_s", other_cpu_pct=80.0),
    ]
    quiet = [
        row(repeat=0, value=1.0, other_cpu_pct=2.0),
        row(repeat=0, metric="startup_s", other_cpu_pct=2.0),
    ]
    rows = _rows(tmp_path, [*busy, row(backend="ray", other_cpu_pct=1.0), *quiet])
    assert len(rows) == 5  # every attempt stays in the file
    latest = latest_attempts(rows)
    assert [(r["backend"], r["value"]) for r in latest if r["metric"] == "round_ms"] == [
        ("ray", "1.5"),
        ("reactor", "1.0"),
    ]
    assert noise(rows).busy == ()
    # a re-run that directly follows the busy attempt is still a new attempt
    back_to_back = read_rows(write_results(tmp_path / "b.csv", [*busy, *busy]))
    assert len(latest_attempts(back_to_back)) == 2
    assert [c.other_cpu_pct for c in noise(back_to_back).busy] == [80.0]
