"""The end-of-run summary on stdout (a compact pivot within 100 columns, plain numbers, ratios to the
reference backend) and the live bar's time left, estimated from reference cell times."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.cells.estimate import ReferenceTimes
from harness.cells.plan import build_plan
from harness.cli.progress import TimeLeft, clock
from harness.cli.summary import WIDTH, plain
from harness.results import read_rows
from tests.conftest import run_cli


@pytest.mark.parametrize(
    "value, text",
    [(21890.4, "21,890"), (2189000.0, "2,189,000"), (412.51, "412.5"), (3.4219, "3.42"), (0.03123, "0.0312"),
     (0.000012345, "0.0000123"), (0.0, "0.00")],
)  # fmt: skip
def test_numbers_are_plain(value, text):
    assert plain(value) == text


def test_time_left_follows_the_reference_scaled_by_this_runs_speed():
    cells = build_plan("collectives", "smoke", ["sequential", "reactor"], 1, {})
    rows = [{"run_id": "ref", "cell": c.key, "repeat": "0", "cell_wall_s": "2.0", "profile": c.profile,
             "workload": c.workload, "backend": c.backend} for c in cells]  # fmt: skip
    left = TimeLeft(cells, ReferenceTimes(rows))
    assert left.seconds() == pytest.approx(2.0 * len(cells))  # before any cell: the reference
    left.finished(cells[0], 4.0)  # this machine runs at half the reference's speed
    assert left.seconds() == pytest.approx(4.0 * (len(cells) - 1))
    unknown = TimeLeft(cells, ReferenceTimes([]))
    assert unknown.seconds() is None and clock(unknown.seconds()) == "-:--:--"
    unknown.finished(cells[0], 3.0)  # no reference: this run's mean
    assert unknown.seconds() == pytest.approx(3.0 * (len(cells) - 1))
    assert clock(3725.2) == "1:02:05"


@pytest.mark.slow
def test_a_smoke_run_of_collectives_on_four_backends_fits_100_columns(tmp_path: Path):
    out = tmp_path / "four.csv"
    backends = "ray,reactor,sequential,pykka"
    result = run_cli("run", "--suite", "collectives", "--profile", "smoke", "--backends", backends,
                     "--repeats", "1", "--out", str(out), timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines and all(len(line) <= WIDTH for line in lines), result.stdout
    points = {tuple(sorted((k, r[k]) for k in r if k.startswith("param_") and r[k])) for r in read_rows(out)}
    # one line per point: the backends are columns, each non-reference value with its ratio to ray
    value_lines = [line for line in lines if line.count("x)") == 3]
    assert len(value_lines) == len(points), result.stdout
    header = next(line for line in lines if line.split() == ["ray", "reactor", "sequential", "pykka"])
    assert header and "(x) = / ray" in result.stdout
    assert not re.search(r"\d[eE][+-]\d", result.stdout)  # no e-notation
    assert "round_ms" in result.stdout and "broadcast_ms" not in result.stdout  # the headline metric only
    assert "results:" in result.stderr and "results:" not in result.stdout  # diagnostics on stderr
