"""`check`: same-run ratios gated on a baseline -- passes unchanged, fails a slowdown or a new error."""

import os
from pathlib import Path

import pytest

from harness.analysis.gate import measured_cases, read_baseline
from harness.cli import main
from harness.errors import UsageError
from harness.results import INTERRUPTED, ResultWriter
from tests.conftest import FAULT_HOOKS, run_cli
from tests.harness.sample_rows import EVERY_COLUMN


def _rows(reactor_scale: float = 1.0, jitter: float = 0.0, reactor_status: str = "ok"):
    for backend, scale in (("ray", 20.0), ("reactor", reactor_scale), ("sequential", 0.8)):
        for repeat in range(5):
            status = reactor_status if backend == "reactor" else "ok"
            wobble = 1 + jitter * ((-1) ** repeat) + 0.01 * repeat
            yield {
                "run_id": "r", "started_utc": "t", "suite": "collectives", "workload": "collectives",
                "backend": backend, "repeat": repeat, "metric": "round_ms",
                "value": scale * 3.0 * wobble if status == "ok" else None, "unit": "ms",
                "status": status, "error": "" if status == "ok" else "RayActorError: died",
                "param_n_actors": 16, "param_object_bytes": 1024, "param_variant": "copy",
            }  # fmt: skip


def _csv(path: Path, rows) -> Path:
    writer = ResultWriter(path, EVERY_COLUMN)
    writer.write(rows)
    writer.close()
    return path


@pytest.fixture
def baseline(tmp_path: Path, capsys) -> Path:
    path = tmp_path / "ci_ratios.csv"
    run = _csv(tmp_path / "base.csv", _rows())
    assert main(["check", str(run), "--baseline", str(path), "--update-baseline"]) == 0
    capsys.readouterr()
    return path


def _check(tmp_path: Path, baseline: Path, rows) -> int:
    """Judges ``rows`` as a run of their own (a results CSV is appended to, so each gets a new file)."""
    run = tmp_path / f"now-{len(list(tmp_path.glob('now-*.csv')))}.csv"
    return main(["check", str(_csv(run, rows)), "--baseline", str(baseline)])


def test_an_unchanged_run_passes_even_when_every_backend_drifts(tmp_path, baseline, capsys):
    drifted = [{**row, "value": row["value"] * 1.4} for row in _rows(jitter=0.05)]  # a slower machine
    assert _check(tmp_path, baseline, drifted) == 0
    assert "2 of 2 cases pass" in capsys.readouterr().out


def test_a_slowed_reactor_fails_the_gate(tmp_path, baseline, capsys):
    assert _check(tmp_path, baseline, _rows(reactor_scale=1.5)) == 1
    out = capsys.readouterr().out
    assert "FAIL collectives[n_actors=16,object_bytes=1024,variant=copy] reactor/ray" in out


def test_a_slowdown_within_the_tolerance_passes(tmp_path, baseline, capsys):
    assert _check(tmp_path, baseline, _rows(reactor_scale=1.15)) == 0


def test_a_case_that_passed_and_now_errors_fails(tmp_path, baseline, capsys):
    assert _check(tmp_path, baseline, _rows(reactor_status="error")) == 1
    assert "passed in the baseline, errors now" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("case,ratio\nx,1\n", "not a gate baseline"),
        ("case,ratio,low,high,tolerance,status\nx,a,,,b,ok\n", "numbers"),
    ],
)
def test_a_corrupt_baseline_is_a_usage_error(tmp_path, capsys, content, message):
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    assert _check(tmp_path, bad, _rows()) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_an_interrupted_cell_is_not_an_error_once_resumed(tmp_path, baseline, capsys):
    cut = {**next(iter(_rows())), "backend": "reactor", "value": None}
    cut.update(status="error", error=INTERRUPTED)  # the first, cut attempt of a cell run again after it
    assert _check(tmp_path, baseline, [cut, *_rows()]) == 0


@pytest.mark.slow
def test_a_deliberately_slowed_reactor_fails_the_gate_end_to_end(tmp_path: Path):
    """The real path CI takes: runs measured by the harness, then `check`. The slowdown (2 ms before
    every reactor reaction) comes from the test's fault hooks, never from product code."""
    run = ("run", "--suite", "collectives", "--profile", "smoke", "--backends", "sequential,reactor",
           "--repeats", "2", "--quiet")  # fmt: skip
    baseline = tmp_path / "ci_ratios.csv"
    assert run_cli(*run, "--out", str(tmp_path / "base.csv")).returncode == 0
    made = run_cli("check", str(tmp_path / "base.csv"), "--baseline", str(baseline), "--update-baseline")
    assert made.returncode == 0, made.stderr
    slowed_env = {**os.environ, "HARNESS_FAULT_REACTOR_CALL_DELAY_S": "0.002"}
    slowed = run_cli(*run, "--out", str(tmp_path / "slow.csv"), env=slowed_env, pythonpath=[FAULT_HOOKS])
    assert slowed.returncode == 0, slowed.stderr[-2000:]
    judged = run_cli("check", str(tmp_path / "slow.csv"), "--baseline", str(baseline))
    assert judged.returncode == 1, judged.stdout
    assert judged.stdout.count("FAIL collectives[") == 2 and "reactor/sequential" in judged.stdout


def test_a_baseline_from_several_runs_gives_a_noisy_case_the_room_it_showed(tmp_path, capsys):
    steady = _csv(tmp_path / "a.csv", _rows())
    slower = _csv(tmp_path / "b.csv", _rows(reactor_scale=1.5))  # the same code on a busier machine
    path = tmp_path / "ci_ratios.csv"
    assert main(["check", str(steady), str(slower), "--baseline", str(path), "--update-baseline"]) == 0
    assert "from 2 run(s)" in capsys.readouterr().out
    rows = {row["case"].split()[-1]: row for row in read_baseline(path).values()}
    assert float(rows["reactor/ray"]["tolerance"]) > 0.25  # its ratio moved between the runs
    assert float(rows["reactor/sequential"]["tolerance"]) > 0.25
    assert _check(tmp_path, path, _rows(reactor_scale=1.5)) == 0  # what calibration saw passes
    assert _check(tmp_path, path, _rows(reactor_scale=2.5)) == 1  # a real slowdown still fails


def test_judging_several_runs_at_once_is_a_usage_error(tmp_path, baseline, capsys):
    run = _csv(tmp_path / "a.csv", _rows())
    assert main(["check", str(run), str(run), "--baseline", str(baseline)]) == 2
    assert "several only with --update-baseline" in capsys.readouterr().err


# A baseline case the run did not measure fails the gate (a gate that passes without measuring would
# let any regression through): the backend absent from the run, or unavailable or skipped in it.


def _without_ray(rows):
    return [row for row in rows if row["backend"] != "ray"]


def _ray_unavailable(rows):
    return [
        {**row, "status": "unavailable", "value": None, "error": "the 'ray' package is not installed"}
        if row["backend"] == "ray"
        else row
        for row in rows
    ]


@pytest.mark.parametrize("strip", [_without_ray, _ray_unavailable], ids=["absent", "unavailable"])
def test_a_baseline_case_the_run_did_not_measure_fails(tmp_path, baseline, capsys, strip):
    assert _check(tmp_path, baseline, strip(list(_rows()))) == 1
    out = capsys.readouterr().out
    assert "FAIL collectives[n_actors=16,object_bytes=1024,variant=copy] reactor/ray: passed in the" in out
    assert "not measured now" in out
    assert "1 of 1 measured cases pass; 1 of the baseline's 2 cases were not measured" in out


def test_allow_missing_lists_what_was_not_measured_and_passes(tmp_path, baseline, capsys):
    run = _csv(tmp_path / "now.csv", _ray_unavailable(list(_rows())))
    assert main(["check", str(run), "--baseline", str(baseline), "--allow-missing"]) == 0
    out = capsys.readouterr().out
    assert "skip collectives[n_actors=16,object_bytes=1024,variant=copy] reactor/ray" in out
    assert "unavailable: the 'ray' package is not installed" in out
    assert "(allowed by --allow-missing)" in out


def test_check_names_its_intervals_by_what_they_are(tmp_path, baseline, capsys):
    three = [row for row in _rows() if int(row["repeat"]) < 3]
    assert _check(tmp_path, baseline, three) == 0
    assert "[range (min-max) " in capsys.readouterr().out  # 3 repeats: the range of the ratios
    assert _check(tmp_path, baseline, _rows()) == 0
    assert "[95% bootstrap interval " in capsys.readouterr().out  # 5 repeats


def test_a_zero_time_is_an_error_of_its_case_not_a_crash(tmp_path, baseline, capsys):
    zero = [{**row, "value": 0.0} if row["backend"] == "ray" else row for row in _rows()]
    assert _check(tmp_path, baseline, zero) == 1
    assert "errors now (ray measured round_ms = 0.0)" in capsys.readouterr().out


# A ratio is formed within one run: two runs drift apart, one run's backends drift together.


def _in_run(run_id: str, rows) -> list[dict]:
    return [{**row, "run_id": run_id} for row in rows]


def test_a_pair_across_two_runs_is_never_a_case(tmp_path, baseline, capsys):
    """Reactor rows of one run, ray and sequential rows of another, in one CSV: no ratio between them."""
    mixed = _in_run("run-a", (r for r in _rows() if r["backend"] == "reactor"))
    mixed += _in_run("run-b", (r for r in _rows() if r["backend"] != "reactor"))
    assert _check(tmp_path, baseline, mixed) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds 2 runs (run-a, run-b)" in err and "--run-id" in err
    run = tmp_path / "now-0.csv"
    assert main(["check", str(run), "--baseline", str(baseline), "--run-id", "run-a"]) == 2
    assert "(run run-a) holds no pair of backends to compare" in capsys.readouterr().err


def test_run_id_picks_the_run_to_judge(tmp_path, baseline, capsys):
    run = _csv(tmp_path / "two.csv", _in_run("steady", _rows()) + _in_run("slow", _rows(reactor_scale=2.5)))
    assert main(["check", str(run), "--baseline", str(baseline), "--run-id", "steady"]) == 0
    assert "2 of 2 cases pass" in capsys.readouterr().out
    assert main(["check", str(run), "--baseline", str(baseline), "--run-id", "slow"]) == 1
    assert "0 of 2 cases pass" in capsys.readouterr().out
    assert main(["check", str(run), "--baseline", str(baseline), "--run-id", "nope"]) == 2
    assert capsys.readouterr().err == f"error: --run-id nope: no such run in {run}\n"


def test_calibration_takes_each_run_of_a_csv_apart(tmp_path, capsys):
    """The same two runs as in two CSVs, here in one: two runs, and the room the noisy case showed."""
    both = _csv(tmp_path / "both.csv", _in_run("a", _rows()) + _in_run("b", _rows(reactor_scale=1.5)))
    path = tmp_path / "ci_ratios.csv"
    assert main(["check", str(both), "--baseline", str(path), "--update-baseline"]) == 0
    assert "from 2 run(s)" in capsys.readouterr().out
    rows = {row["case"].split()[-1]: row for row in read_baseline(path).values()}
    assert float(rows["reactor/ray"]["tolerance"]) > 0.25
    mixed = _in_run("a", (r for r in _rows() if r["backend"] == "reactor"))
    mixed += _in_run("b", (r for r in _rows() if r["backend"] != "reactor"))
    mixed_csv = _csv(tmp_path / "mixed.csv", mixed)
    assert main(["check", str(mixed_csv), "--baseline", str(path), "--update-baseline"]) == 2
    assert "(run a) holds no pair of backends to compare" in capsys.readouterr().err


def test_measured_cases_refuses_rows_of_several_runs():
    with pytest.raises(UsageError, match="rows of 2 runs"):
        measured_cases(_in_run("a", _rows()) + _in_run("b", _rows()))


# Equal work (DESIGN.md §6.3): a pair whose backends did unequal work or got different results is no
# case; the gate fails it with the reason.


def _with(rows, column: str, values: dict[str, str]) -> list[dict]:
    """``rows`` where each backend in ``values`` records that value of ``column``, the others ``"100"``."""
    return [{**row, column: values.get(row["backend"], "100")} for row in rows]


@pytest.mark.parametrize(
    ("column", "what"), [("work", "unequal work"), ("result_digest", "different results")]
)
def test_a_pair_with_unequal_work_or_results_fails_the_gate(tmp_path, capsys, column, what):
    path = tmp_path / "ci_ratios.csv"
    equal = _csv(tmp_path / "base.csv", _with(_rows(), column, {}))
    assert main(["check", str(equal), "--baseline", str(path), "--update-baseline"]) == 0
    assert _check(tmp_path, path, _with(_rows(), column, {})) == 0
    capsys.readouterr()
    assert _check(tmp_path, path, _with(_rows(), column, {"reactor": "50"})) == 1
    out = capsys.readouterr().out
    for pair in ("reactor/ray", "reactor/sequential"):
        assert (
            f"FAIL collectives[n_actors=16,object_bytes=1024,variant=copy] {pair}: passed in the baseline, "
            f"not comparable now ({what} at collectives[n_actors=16,object_bytes=1024,variant=copy]: "
            "ray=['100'], reactor=['50'], sequential=['100'])"
        ) in out
    assert "0 of 2 cases pass" in out


def test_only_the_pairs_a_mismatch_splits_fail(tmp_path, capsys):
    path = tmp_path / "ci_ratios.csv"
    assert main(["check", str(_csv(tmp_path / "b.csv", _with(_rows(), "work", {}))), "--baseline",
                 str(path), "--update-baseline"]) == 0  # fmt: skip
    assert _check(tmp_path, path, _with(_rows(), "work", {"sequential": "50"})) == 1
    out = capsys.readouterr().out
    assert "ok   collectives[n_actors=16,object_bytes=1024,variant=copy] reactor/ray" in out
    assert "FAIL collectives[n_actors=16,object_bytes=1024,variant=copy] reactor/sequential" in out
