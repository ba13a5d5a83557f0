"""``plot`` and ``report`` never replace a committed result: without ``--out`` they write beside their
input CSV, and without a CSV they read the user's newest run, never the committed reference run."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.cli import main
from harness.results import ResultWriter
from tests.conftest import ROOT
from tests.harness.figures.test_plot import _rows
from tests.harness.sample_rows import EVERY_COLUMN


def _small_csv(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = ResultWriter(path, EVERY_COLUMN)
    writer.write(list(_rows()))
    writer.close()
    return path


def _git_status() -> str:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("the project is not a git checkout here")
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_plot_and_report_of_a_csv_write_beside_it_and_leave_the_checkout_clean(cli, tmp_path: Path):
    csv = _small_csv(tmp_path / "X.csv")
    before = _git_status()
    plotted = cli("plot", str(csv), cwd=ROOT, timeout=240)
    reported = cli("report", str(csv), cwd=ROOT, timeout=240)
    assert plotted.returncode == 0, plotted.stderr[-2000:]
    assert reported.returncode == 0, reported.stderr[-2000:]
    assert _git_status() == before
    figures = tmp_path / "X-plots"
    assert sorted(p.name for p in figures.iterdir()) == [
        "bcast_gather_vs_actors.png",
        "bcast_gather_vs_size.png",
    ]
    assert sorted(plotted.stdout.split()) == [str(figures / name) for name in sorted(os.listdir(figures))]
    report = tmp_path / "X-REPORT.md"
    assert "Broadcast & gather vs object size" in report.read_text()
    assert reported.stdout.split() == [str(report)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["X-REPORT.md", "X-plots", "X.csv"]


def test_without_a_csv_the_newest_run_outside_the_committed_folders_is_read(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    older, newest = _small_csv(Path("results/older.csv")), _small_csv(Path("results/mine/newest.csv"))
    committed = [_small_csv(Path(f"results/{folder}/x.csv")) for folder in ("reference", "baseline", "paper")]
    for age, path in enumerate([*committed, newest, older]):
        os.utime(path, (1_000_000_000 - age * 100, 1_000_000_000 - age * 100))
    assert main(["report"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "reading the newest run: results/mine/newest.csv\n"
    assert captured.out == "results/mine/newest-REPORT.md\n"
    assert Path("results/mine/newest-REPORT.md").is_file()
    assert not any(Path("results").glob("*REPORT.md")) and not Path("plots").exists()


def test_several_csvs_must_name_their_output(tmp_path, capsys):
    one, two = _small_csv(tmp_path / "a.csv"), _small_csv(tmp_path / "b.csv")
    for command in ("plot", "report"):
        assert main([command, str(one), str(two)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "2 CSVs: name the output with --out" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.csv"]
