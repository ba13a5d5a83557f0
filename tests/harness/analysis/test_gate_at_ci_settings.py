"""The gate exactly as CI runs it: the committed baseline, the cases `make gate` measures, 3 repeats.

At 3 repeats a ratio's interval is the range of the ratios of any two samples (``stats.ratio_interval``)
and gym and atari are gated as rates, inverted into times; the other gate tests use 5 repeats and
``round_ms``. Here rows like a CI run's (every gated cell of the CI plan, made by the runner's own
row builder) are judged by ``check`` against ``results/baseline/ci_ratios.csv``: an unchanged run
passes, one whose reactor is 1.5x slower (2x for the training round) fails every case.

The synthetic repeats are quiet: each reference backend has a repeat 15% slower than its median
and the reactor one 40% slower (a hiccup that only the pessimistic end sees), so each range's
optimistic end sits 13% below its median ratio. Only 2 of the 48 case-runs of the three calibration
runs behind the baseline were as quiet (the others sat 13-80% below, and there the gate, which judges
that optimistic end, lets most 1.5x slowdowns through: tests/README.md, "CI and the performance gate").
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness import registry
from harness.analysis import gate
from harness.cells.plan import build_plan
from harness.cells.runner import RunSettings
from harness.cli import main
from harness.results.point import params_of, point_name
from tests.harness.sample_rows import cell_rows, write_results

ROOT = Path(__file__).resolve().parents[3]
BASELINE = ROOT / "results" / "baseline" / "ci_ratios.csv"
PLAN = [
    cell
    for cell in build_plan(gate.CI_SUITE, "smoke", list(gate.CI_BACKENDS), gate.CI_REPEATS)
    if cell.workload in gate.gated_objectives()
]
SPREAD = {"reactor": (1.0, 1.4, 1.0), "sequential": (1.15, 1.0, 0.95), "ray": (0.95, 1.15, 1.0)}
"""Each backend's time in repeats 0, 1, 2 relative to its median."""
NOISE = max(max(spread) for name, spread in SPREAD.items() if name != "reactor")
"""How far below its median ratio the optimistic end of a quiet run's range sits (a factor of 1.15)."""
SLOWDOWN = {"training": 2.0}
"""The slowdown each workload's cases must catch; 1.5x where not named."""
REACTOR_TIME_MS = 10.0


def _slowdown(case: str) -> float:
    return SLOWDOWN.get(case.split("[", 1)[0], 1.5)


def _ci_run(tmp_path: Path, slowdown: dict[str, float] | None = None) -> Path:
    """A CSV of the gated cells of a CI run whose same-run ratios are the baseline's, with the reactor
    ``slowdown[workload]`` times slower. Gym and atari record a rate (env steps/s), as they do."""
    baseline = gate.read_baseline(BASELINE)
    settings = RunSettings(run_id="ci", timeout_s=60, threads=2, backends=",".join(gate.CI_BACKENDS))
    rows = []
    for cell in PLAN:
        objective = gate.gated_objectives()[cell.workload]
        metric, is_rate = objective.metric, objective.higher_is_better
        point = point_name(cell.workload, params_of({f"param_{k}": v for k, v in cell.params.items()}))
        if cell.backend == "reactor":
            median = REACTOR_TIME_MS * (slowdown or {}).get(cell.workload, 1.0)
        else:
            median = REACTOR_TIME_MS / float(baseline[f"{point} reactor/{cell.backend}"]["ratio"])
        time_ms = median * SPREAD[cell.backend][cell.repeat]
        value = 2.0 * 1000.0 / time_ms if is_rate else time_ms  # 2 env steps per round
        others = {name: 1.0 for name, _ in registry.WORKLOADS[cell.workload].metrics_for(cell.params)}
        rows += cell_rows(cell, settings, {**others, metric: value})
    out = tmp_path / f"ci-{len(list(tmp_path.glob('ci-*.csv')))}.csv"
    return write_results(out, rows)


def _ci_cases() -> set[str]:
    """The cases a CI run makes, from the plan and the gate's own pairs: per gated point, each pair
    whose two backends the plan runs there."""
    cases = set()
    for workload, params_json in {(c.workload, c.params_json) for c in PLAN}:
        backends = {c.backend for c in PLAN if (c.workload, c.params_json) == (workload, params_json)}
        params = params_of({f"param_{k}": v for k, v in json.loads(params_json).items()})
        for subject, reference in gate.PAIRS:
            if {subject, reference} <= backends:
                cases.add(f"{point_name(workload, params)} {subject}/{reference}")
    return cases


def _check(path: Path, capsys) -> tuple[int, str]:
    code = main(["check", str(path), "--baseline", str(BASELINE)])
    return code, capsys.readouterr().out


def test_the_baseline_gates_exactly_what_ci_measures():
    baseline = gate.read_baseline(BASELINE)
    assert gate.CI_REPEATS == 3  # the path these tests pin: ranges, not bootstrap intervals
    assert set(baseline) == _ci_cases() != set()
    assert {row["status"] for row in baseline.values()} == {"ok"}  # an error case would gate nothing
    assert {c.workload for c in PLAN} == set(gate.gated_objectives())  # every gated workload is in CI's run


def test_make_gate_baseline_calibrates_at_ci_settings():
    """The baseline is made as CI runs: the same cases and repeats as `make gate`."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^gate-baseline: .*\n(?:\t.*\n)+", makefile, re.M).group(0)
    assert "$(GATE_CASES) --repeats 3 " in recipe and "--update-baseline" in recipe


def test_baseline_tolerances_leave_room_to_see_the_slowdowns():
    """A slowdown fails a case only if it lifts the optimistic end of the run's range over the limit,
    ratio x (1 + tolerance); in a quiet run that end sits ``NOISE`` below the median, so the bound is
    tolerance < slowdown / NOISE - 1: 0.30 for 1.5x, 0.74 for 2x. A remade baseline can give more
    (a case gets twice the largest excess of an optimistic end over its ratio seen while calibrating),
    and would then let the slowdown through even in a quiet run: this fails first."""
    for case, row in gate.read_baseline(BASELINE).items():
        bound = _slowdown(case) / NOISE - 1.0
        assert 0.0 <= float(row["tolerance"]) < bound, (case, row["tolerance"], round(bound, 3))


def test_an_unchanged_ci_run_passes(tmp_path: Path, capsys):
    code, out = _check(_ci_run(tmp_path), capsys)
    assert code == 0, out
    cases = len(_ci_cases())
    assert f"{cases} of {cases} cases pass" in out
    judged = [line for line in out.splitlines() if line.startswith("ok  ")]
    assert len(judged) == cases and all(" [range " in line and " of 3 repeats]" in line for line in judged)


@pytest.mark.parametrize("workload", sorted(gate.gated_objectives()))
def test_a_slower_reactor_fails_each_of_its_cases(tmp_path: Path, capsys, workload: str):
    """Only ``workload``'s reactor cells are slower: its cases fail, every other case passes."""
    factor = SLOWDOWN.get(workload, 1.5)
    code, out = _check(_ci_run(tmp_path, {workload: factor}), capsys)
    assert code == 1, out
    for case in _ci_cases():
        mine = case.startswith(f"{workload}[")
        assert (f"FAIL {case}: " in out) == mine and (f"ok   {case}: " in out) != mine, (case, out)
