"""The CI gate's cases as pytest-benchmark tests: ``pytest -m perf --benchmark-json=gate.json``.

One test per gated parameter point of the smoke suite. Each benchmark round is one repeat of that
point on every CI backend, each cell in its own process through the harness's runner (the same path
as ``harness run``), so the fixture's own timing is the wall time of a repeat, start-up included. What
is gated is what ``harness check`` gates: the same-run time ratios with their bootstrap intervals,
judged against ``results/baseline/ci_ratios.csv``; they ride along as ``extra_info``.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from harness.analysis import gate
from harness.cells.plan import build_plan
from harness.cells.runner import RunSettings, run_one

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "results" / "baseline" / "ci_ratios.csv"
PLAN = build_plan(gate.CI_SUITE, "smoke", list(gate.CI_BACKENDS), gate.CI_REPEATS)
POINTS = sorted({(c.workload, c.params_json) for c in PLAN if c.workload in gate.gated_objectives()})


@pytest.mark.perf
@pytest.mark.parametrize("workload, params_json", POINTS, ids=[f"{w}{p}" for w, p in POINTS])
def test_gate_case(benchmark, workload: str, params_json: str):
    cells = [c for c in PLAN if (c.workload, c.params_json) == (workload, params_json)]
    repeats = [list(group) for _, group in itertools.groupby(cells, key=lambda c: c.repeat)]
    settings = RunSettings(run_id="perf", timeout_s=300, threads=2)
    rows: list[dict] = []
    pending = iter(repeats)

    def one_repeat() -> None:
        for cell in next(pending):
            rows.extend(run_one(cell, settings).rows)

    benchmark.pedantic(one_repeat, rounds=len(repeats), iterations=1)
    cases = gate.measured_cases(rows)
    assert cases, f"no backend pair measured at {workload} {params_json}"
    benchmark.extra_info.update(
        {
            name: {"ratio": c.ratio.median, "low": c.ratio.low, "high": c.ratio.high} if c.ratio else c.status
            for name, c in cases.items()
        }
    )
    here = {name.rsplit(" ", 1)[0] for name in cases}  # this test measures one point of the baseline
    baseline = {k: v for k, v in gate.read_baseline(BASELINE).items() if k.rsplit(" ", 1)[0] in here}
    verdicts = gate.judge(cases, baseline)
    assert verdicts, "the baseline has no case at this point"
    failed = [f"{v.case}: {v.detail}" for v in verdicts if not v.passed]
    assert not failed, "\n".join(failed)


def test_make_gate_runs_the_cases_gate_py_names():
    """`make gate` (what CI runs) and these tests must gate the same cases, at the same repeats."""
    makefile = (ROOT / "Makefile").read_text()
    cases = re.search(r"^GATE_CASES := (.*)$", makefile, re.M).group(1)
    assert cases == f"--suite {gate.CI_SUITE} --backends {','.join(gate.CI_BACKENDS)}"
    recipe = re.search(r"^gate: .*\n\t(.*)\n\t(.*)$", makefile, re.M)
    assert f"--repeats {gate.CI_REPEATS} " in recipe.group(1)
    assert f"--baseline {BASELINE.relative_to(ROOT)}" in recipe.group(2)
