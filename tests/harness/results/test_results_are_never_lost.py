"""Results files are never lost, overwritten or mixed (issue: a hostile-user test, items 1-4 and 9).

Each test drives the CLI as a user would (``main`` in-process where nothing runs, a subprocess where
cells run) and fails on the harness before these fixes: a report written over its input CSV, a
resume that appended misaligned rows or mixed profiles, two runs measuring into one file.
"""

from __future__ import annotations

import csv
import fcntl
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from harness import registry
from harness.cli import main
from harness.results import columns_for, read_rows
from tests.conftest import FAULT_HOOKS, ROOT, cli_environment, run_cli, tagged_processes
from tests.harness.sample_rows import repeats, row, write_results


def _error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


# --- 1. report and plot never overwrite an input or a file they did not write ---------------------


def test_report_refuses_to_overwrite_its_input(tmp_path: Path, capsys):
    results = write_results(tmp_path / "RESULTS.csv", repeats(2))
    before = results.read_bytes()
    assert main(["report", str(results), "--out", str(results)]) == 2
    assert "is one of the input files" in _error(capsys)
    assert results.read_bytes() == before


def test_report_replaces_only_a_report_it_wrote(tmp_path: Path, capsys):
    results = write_results(tmp_path / "run.csv", repeats(2))
    notes = tmp_path / "NOTES.md"
    notes.write_text("# my notes\n")
    assert main(["report", str(results), "--out", str(notes)]) == 2
    assert "was not written by `python -m harness report`" in _error(capsys)
    assert notes.read_text() == "# my notes\n"
    report = tmp_path / "REPORT.md"
    assert main(["report", str(results), "--out", str(report)]) == 0
    assert main(["report", str(results), "--out", str(report)]) == 0  # its own earlier report
    assert report.read_text().startswith("# Measured vs paper")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left


def test_plot_replaces_only_figures_it_wrote(tmp_path: Path, capsys):
    results = write_results(tmp_path / "run.csv", repeats(2, param_object_bytes=10485760))
    figures = tmp_path / "figs"
    assert main(["plot", str(results), "--out", str(figures)]) == 0
    drawn = sorted(p.name for p in figures.iterdir())
    assert main(["plot", str(results), "--out", str(figures)]) == 0  # replaces its own figures
    foreign = figures / drawn[0]
    foreign.write_bytes(b"\x89PNG\r\n\x1a\nsomeone else's figure")
    others = {p.name: p.read_bytes() for p in figures.iterdir()}
    assert main(["plot", str(results), "--out", str(figures)]) == 2
    assert f"{foreign} exists and was not written by `python -m harness plot`" in _error(capsys)
    assert {p.name: p.read_bytes() for p in figures.iterdir()} == others  # nothing replaced at all


def test_plot_never_overwrites_an_input(tmp_path: Path, capsys):
    figures = tmp_path / "figs"
    figures.mkdir()
    odd_input = write_results(figures / "bcast_gather_vs_actors.png", repeats(2, param_object_bytes=10485760))
    before = odd_input.read_bytes()
    assert main(["plot", str(odd_input), "--out", str(figures)]) == 2
    assert "is one of the input files" in _error(capsys)
    assert odd_input.read_bytes() == before


# --- 2, 3. a resume continues exactly the run in its file --------------------------------------------


@pytest.fixture(scope="module")
def micro_run(tmp_path_factory) -> Path:
    """A finished run: the micro suite, smoke sizes, reactor and xronos, one repeat (4 cells)."""
    path = tmp_path_factory.mktemp("resume") / "micro.csv"
    result = run_cli("run", "--suite", "micro", "--profile", "smoke", "--backends", "reactor,xronos",
                     "--repeats", "1", "--out", str(path), "--quiet")  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return path


def _copy(source: Path, target: Path, transform=lambda header, rows: (header, rows)) -> Path:
    with source.open(newline="") as handle:
        header, *rows = list(csv.reader(handle))
    header, rows = transform(header, rows)
    with target.open("w", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])
    return target


def _drop_column(name: str):
    def transform(header, rows):
        index = header.index(name)
        return header[:index] + header[index + 1 :], [r[:index] + r[index + 1 :] for r in rows]

    return transform


def _swap_columns(a: str, b: str):
    def transform(header, rows):
        i, j = header.index(a), header.index(b)
        swap = lambda r: [r[j] if k == i else r[i] if k == j else v for k, v in enumerate(r)]  # noqa: E731
        return swap(header), [swap(r) for r in rows]

    return transform


@pytest.mark.parametrize(
    "transform, message",
    [
        (_drop_column("malloc_tuning"), "lacks column 'malloc_tuning'"),
        (_swap_columns("cpu_model", "hostname"), "columns are in another order (column"),
    ],
    ids=["fewer columns", "reordered columns"],
)
def test_resume_of_a_file_of_another_version_is_refused_before_anything_runs(
    micro_run: Path, tmp_path: Path, capsys, transform, message
):
    old = _copy(micro_run, tmp_path / "old.csv", transform)
    before = old.read_bytes()
    assert main(["run", "--resume", str(old)]) == 2
    err = _error(capsys)
    assert "written by another version of the harness" in err and message in err
    assert old.read_bytes() == before


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--suite", "micro", "--profile", "quick"], "profile 'quick' is not the run's 'smoke'"),
        (["--suite", "gym"], "suite 'gym' is not the run's 'micro'"),
        (["--backends", "reactor,reactor-ft"], "backends reactor,reactor-ft are not the run's"),
        (["--threads", "7"], "--threads 7 is not the run's"),
    ],
    ids=["other profile", "other suite", "other backends", "other threads"],
)
def test_resume_with_other_settings_is_refused(micro_run: Path, tmp_path: Path, capsys, extra, message):
    copy = _copy(micro_run, tmp_path / "copy.csv")
    before = copy.read_bytes()
    assert main(["run", "--resume", str(copy), *extra]) == 2
    err = _error(capsys)
    assert "holds a run of suite 'micro', profile 'smoke', backends reactor,xronos" in err
    assert message in err
    assert copy.read_bytes() == before


@pytest.mark.slow
def test_resume_may_narrow_the_run_or_add_repeats(micro_run: Path, tmp_path: Path):
    copy = _copy(micro_run, tmp_path / "copy.csv")
    before = copy.read_bytes()
    for narrowing in ([], ["--backends", "reactor"], ["--suite", "micro", "--profile", "smoke"]):
        same = run_cli("run", "--resume", str(copy), "--quiet", *narrowing)
        assert same.returncode == 0 and ": 0 cells ->" in same.stderr, same.stderr[-2000:]
    more = run_cli("run", "--resume", str(copy), "--backends", "reactor", "--repeats", "2", "--quiet")
    assert more.returncode == 0 and ": 2 cells ->" in more.stderr, more.stderr[-2000:]
    rows = read_rows(copy)
    assert copy.read_bytes().startswith(before)  # appended, nothing rewritten
    assert {r["run_id"] for r in rows} == {read_rows(micro_run)[0]["run_id"]}
    assert {(r["backend"], r["repeat"]) for r in rows} == {
        ("reactor", "0"), ("xronos", "0"), ("reactor", "1")
    }  # fmt: skip


def test_smoke_suite_with_another_profile_is_refused(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--suite", "smoke", "--profile", "paper"]) == 2
    assert "--suite smoke runs the smoke sizes only; drop --profile paper" in _error(capsys)
    assert list(tmp_path.iterdir()) == []


# --- 4. one run per results file ---------------------------------------------------------------------


def test_a_locked_results_file_is_refused_at_once(micro_run: Path, tmp_path: Path, capsys):
    copy = _copy(micro_run, tmp_path / "copy.csv")
    before = copy.read_bytes()
    with copy.open("a") as holder:
        fcntl.flock(holder.fileno(), fcntl.LOCK_EX)  # what a running harness holds
        started = time.monotonic()
        assert main(["run", "--resume", str(copy)]) == 2
        assert time.monotonic() - started < 5
    assert "is in use by another run" in _error(capsys)
    assert copy.read_bytes() == before


@pytest.mark.slow
def test_two_runs_on_one_file_measure_each_cell_once(tmp_path: Path):
    out = tmp_path / "shared.csv"
    tag = uuid.uuid4().hex
    args = ["run", "--suite", "gym", "--profile", "smoke", "--backends", "sequential,reactor",
            "--repeats", "1", "--quiet"]  # fmt: skip
    slow = {**os.environ, "HARNESS_FAULT_REACTOR_CALL_DELAY_S": "0.05"}  # the first run lasts seconds
    first = subprocess.Popen(
        [sys.executable, "-m", "harness", *args, "--out", str(out)],
        cwd=ROOT,
        env=cli_environment(tag, slow, [FAULT_HOOKS]),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (out.exists() and out.stat().st_size > 0) and time.monotonic() < deadline:
            time.sleep(0.05)
        second = run_cli(*args, "--resume", str(out), tag=tag, timeout=60)
        assert first.poll() is None, "the first run ended before the second started"
    finally:
        _, first_err = first.communicate(timeout=120)
    assert second.returncode == 2 and "is in use by another run" in second.stderr, second.stderr
    assert first.returncode == 0, first_err[-2000:]
    rows = read_rows(out)
    cells = [(r["cell"], r["repeat"]) for r in rows if r["metric"] == "round_ms"]
    assert len(cells) == len(set(cells)) == 2  # sequential and reactor, once each
    assert len({r["run_id"] for r in rows}) == 1
    assert tagged_processes(tag) == []


# --- 9. files as users have them ---------------------------------------------------------------------


def test_a_results_file_saved_with_a_byte_order_mark_is_read(tmp_path: Path, capsys):
    plain = write_results(tmp_path / "plain.csv", repeats(2))
    spreadsheet = tmp_path / "from-a-spreadsheet.csv"
    spreadsheet.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    assert main(["report", str(spreadsheet), "--out", str(tmp_path / "R.md")]) == 0
    assert read_rows(spreadsheet) == read_rows(plain)


@pytest.mark.parametrize("command", ["report", "plot"])
def test_an_empty_out_path_is_refused_by_both_reading_commands(tmp_path: Path, capsys, command, monkeypatch):
    results = write_results(tmp_path / "run.csv", repeats(2))
    monkeypatch.chdir(tmp_path)
    assert main([command, str(results), "--out", ""]) == 2
    assert "an empty path names no file or folder" in _error(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.csv"]


@pytest.mark.parametrize("command", [["run", "--suite", "micro", "--backends", "reactor"], ["report"]])
def test_out_to_a_device_says_what_is_wrong(tmp_path: Path, capsys, command):
    if command[0] == "report":
        command = [*command, str(write_results(tmp_path / "run.csv", repeats(2)))]
    assert main([*command, "--out", "/dev/null"]) == 2
    assert "/dev/null is not a regular file" in _error(capsys)


def test_report_counts_a_resumed_cell_by_its_final_outcome(tmp_path: Path, capsys):
    cut = row(backend="reactor", status="error", error="interrupted", value=None)  # Ctrl-C, then --resume
    results = write_results(tmp_path / "resumed.csv", [cut, *repeats(2)])
    report = tmp_path / "R.md"
    assert main(["report", str(results), "--out", str(report)]) == 0
    assert "Cells by final outcome: ok 4." in report.read_text()


def test_resume_with_other_workload_options_is_refused(tmp_path: Path, capsys):
    """``--set`` changes the cells' parameters: a run with target=50 is not one with target=60."""
    recorded = {"suite": "training-return", "profile": "smoke", "run_backends": "sequential",
                "run_threads": 2, "run_processes": 2, "run_options": "target=50"}  # fmt: skip
    columns = columns_for(registry.WORKLOADS["training-return"].parameters)  # as its run writes them
    own = {k: v for k, v in row(**recorded, workload="training-return").items() if not k.startswith("param_")}
    results = write_results(tmp_path / "run.csv", [own], columns)
    before = results.read_bytes()
    assert main(["run", "--resume", str(results), "--set", "target=60"]) == 2
    err = _error(capsys)
    assert "options target=50" in err and "--set target=60 is not the run's" in err
    assert results.read_bytes() == before
