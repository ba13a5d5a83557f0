"""`compare` through the CLI: two real runs, one with the reactor slowed from outside the product
code, named as slower at both points while sequential shows no change; bad input is one line."""

import os
from pathlib import Path

import pytest

from harness.cli import main
from tests.conftest import FAULT_HOOKS, run_cli
from tests.harness.sample_rows import repeats, row, write_results

RUN = ("run", "--suite", "collectives", "--profile", "smoke", "--backends", "sequential,reactor",
       "--repeats", "3", "--quiet")  # fmt: skip
SLOWER_THAN = "200"
"""Percent: the 2 ms injected before each reactor call make its ~0.04 ms rounds about 100 times
slower; sequential's microsecond rounds, on a machine shared with other tests, can drift between
runs by a factor, so changes below 3x are not called (``--min-speed``) and do not fail."""


@pytest.mark.slow
def test_compare_names_the_slowed_backend_and_point_and_fails_above_the_limit(tmp_path: Path):
    before, after, other = tmp_path / "before.csv", tmp_path / "after.csv", tmp_path / "micro.csv"
    assert run_cli(*RUN, "--out", str(before)).returncode == 0
    slowed_env = {**os.environ, "HARNESS_FAULT_REACTOR_CALL_DELAY_S": "0.002"}
    slowed = run_cli(*RUN, "--out", str(after), env=slowed_env, pythonpath=[FAULT_HOOKS])
    assert slowed.returncode == 0, slowed.stderr[-2000:]
    judged = run_cli(
        "compare", str(before), str(after), "--min-speed", SLOWER_THAN, "--fail-above", SLOWER_THAN
    )
    assert judged.returncode == 1, judged.stdout + judged.stderr
    lines = judged.stdout.splitlines()
    for point in ("object_bytes=1024 variant=copy", "object_bytes=1048576 variant=read"):
        rows = lines[lines.index(f"collectives n_actors=2 {point}") + 2 :][:2]
        assert rows[0].split()[0] == "reactor" and "slower" in rows[0], rows
        assert rows[1].split()[0] == "sequential" and "no change at this noise" in rows[1], rows
    assert "2 slower, 0 faster, 2 no change at this noise" in judged.stdout
    assert judged.stdout.count("FAIL reactor at collectives[n_actors=2,") == 2
    assert "reactor slower" in judged.stdout and "sequential slower" not in judged.stdout
    assert max(len(line) for line in lines) <= 100
    unchanged = run_cli("compare", str(before), str(before), "--fail-above", SLOWER_THAN)
    assert unchanged.returncode == 0 and "0 slower, 0 faster, 4 no change" in unchanged.stdout

    micro = ("run", "--suite", "micro", "--profile", "smoke", "--backends", "reactor", "--repeats", "1")
    assert run_cli(*micro, "--quiet", "--out", str(other)).returncode == 0
    refused = run_cli("compare", str(before), str(other))
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and "no point in common" in refused.stderr


def test_a_csv_of_several_runs_needs_run_id(tmp_path: Path, capsys):
    both = write_results(tmp_path / "both.csv", [*repeats(3, run_id="a"), *repeats(3, run_id="b")])
    assert main(["compare", str(both), str(both)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds 2 runs (a, b)" in err and "--run-id" in err
    assert main(["compare", str(both), str(both), "--run-id", "a"]) == 0
    assert "0 slower, 0 faster, 2 no change at this noise" in capsys.readouterr().out
    assert main(["compare", str(both), str(both), "--run-id", "c"]) == 2
    assert "no such run" in capsys.readouterr().err


def test_different_work_at_a_point_is_refused_and_fails_the_gate(tmp_path: Path, capsys):
    before = write_results(tmp_path / "before.csv", repeats(3, work=10))
    after = write_results(tmp_path / "after.csv", repeats(3, run_id="r2", work=20))
    assert main(["compare", str(before), str(after)]) == 0
    out = " ".join(capsys.readouterr().out.split())  # the console wraps at 100 columns
    assert "refused collectives[" in out and "different work (before 10, after 20)" in out
    assert main(["compare", str(before), str(after), "--fail-above", "10"]) == 1


def test_a_cell_measured_again_counts_by_its_latest_attempt(tmp_path: Path, capsys):
    """As in run, report and check: the busy first attempt (50x slower) stays in the file but is not
    compared; pooled with the re-run it would make the reactor slower."""
    before = write_results(tmp_path / "before.csv", repeats(3))
    busy = [row(backend="reactor", repeat=r, value=50.0, run_id="r2") for r in range(3)]
    after = write_results(tmp_path / "after.csv", [*busy, *repeats(3, run_id="r2")])
    assert main(["compare", str(before), str(after)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "reactor round_ms 1.01 1.01 1 [0.98, 1.02]" in out  # medians and range of the re-run alone
