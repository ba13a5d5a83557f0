"""What a user reads: the progress bar and summary at 80 columns, ``list``, the report's tables, and
intervals named for what they are (issue: a hostile-user test, items 7e, 10, 11, 13, 15).
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from PIL import Image

from harness.cells.plan import build_plan
from harness.cli import main
from harness.results import read_rows
from tests.conftest import FAULT_HOOKS, ROOT, cli_environment, run_cli
from tests.harness.report_tables import section_table
from tests.harness.sample_rows import repeats, row, write_results

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _run_on_a_terminal(args: list[str], columns: int = 80, timeout: float = 120) -> str:
    """Runs the CLI with stdout and stderr on a pseudo-terminal of ``columns`` columns; returns what
    it showed, control sequences removed, each redrawn line (carriage return) as its own line."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = cli_environment("", {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")})
    process = subprocess.Popen(
        [sys.executable, "-m", "harness", *args], cwd=ROOT, env={**env, "TERM": "xterm"},
        stdin=subprocess.DEVNULL, stdout=follower, stderr=follower,
    )  # fmt: skip
    os.close(follower)
    shown = bytearray()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the process is done
                break
            if not chunk:
                break
            shown += chunk
        elif process.poll() is not None:
            break
    process.wait(timeout=10)
    os.close(leader)
    text = ANSI.sub("", shown.decode(errors="replace"))
    return "\n".join(part for line in text.replace("\r\n", "\n").split("\n") for part in line.split("\r"))


@pytest.mark.slow
def test_progress_and_summary_stay_readable_at_80_columns(tmp_path: Path):
    out = tmp_path / "narrow.csv"
    shown = _run_on_a_terminal(["run", "--suite", "gym", "--profile", "smoke", "--backends",
                                "sequential,reactor", "--repeats", "2", "--out", str(out)])  # fmt: skip
    bars = [line for line in shown.splitlines() if line.startswith("cells ")]
    assert bars, shown
    for bar in bars:
        assert len(bar) <= 80, bar
        assert re.match(r"cells\s+\d/4\s", bar), bar  # the count is never cut
        assert re.search(r"elapsed \d+:\d\d:\d\d, about (-:--:--|\d+:\d\d:\d\d) left", bar), (
            bar
        )  # nor the times
    assert "reactor: gym env_id=" in " ".join(bars)  # the running cell, its backend first
    assert bars[-1].rstrip().endswith("done"), bars[-1]  # the last frame no longer names a cell
    assert "env_id=CartPole-v1" in shown.replace("\n", "").replace("│", "").replace(" ", "")
    rest = "\n".join(line for line in shown.splitlines() if not line.startswith("cells "))
    assert "C..." not in rest and "C…" not in rest  # the summary wraps values, never cuts them
    assert {r["status"] for r in read_rows(out)} == {"ok"}


def test_list_counts_cells_and_estimates_their_duration(cli):
    listing = cli("list").stdout
    lines = listing.splitlines()
    assert "estimate of their duration from the reference runs" in lines[0]
    header = lines[1].split()
    assert header[:4] == ["suite", "smoke", "profile", "quick"]
    suites = {line.split()[0]: line for line in lines[2 : lines.index("")]}
    smoke = len(build_plan("smoke", None, None, None))
    assert re.search(rf"\b{smoke} cells, ~\d+ (s|min)\b", suites["smoke"]), suites["smoke"]  # smoke reference
    assert re.search(r"\d+ cells, ~\d+ min", suites["all"]), suites["all"]
    assert "collectives  collectives" not in listing  # a one-workload suite does not repeat its name
    assert "(1 points)" not in listing and "(1 point)" in listing
    backends = lines[lines.index("Backends:") + 1 :]
    columns = {line.index(" available") for line in backends if " available" in line}
    columns |= {line.index(" unavailable") for line in backends if " unavailable" in line}
    assert len(columns) == 1, backends  # one column for the state, whatever the name's length


def test_a_measurement_that_is_not_finite_is_an_error_row(tmp_path: Path):
    out = tmp_path / "inf.csv"
    env = {**os.environ, "HARNESS_FAULT_NONFINITE_METRIC": "round_ms"}
    result = run_cli("run", "--suite", "collectives", "--profile", "smoke", "--backends", "sequential",
                     "--repeats", "1", "--out", str(out), "--quiet", env=env,
                     pythonpath=[FAULT_HOOKS])  # fmt: skip
    assert result.returncode == 1, result.stderr[-2000:]
    rows = read_rows(out)
    assert rows and {r["status"] for r in rows} == {"error"}
    assert {r["error"] for r in rows} == {"measured round_ms = inf, not a finite number"}
    assert {r["value"] for r in rows} == {""}
    assert "inf" not in out.read_text().replace("round_ms = inf", "")


def test_report_escapes_what_it_did_not_write(tmp_path: Path):
    hostile = {
        "param_env_id": "Cart|Pole<script>alert(1)</script>",
        "hostname": '<img src=x onerror="alert(1)">',
    }
    failing = row(backend="ray", status="error", value=None, error="boom | <b>bold</b>\nsecond line")
    rows = [{**r, **hostile} for r in repeats(2)] + [failing]
    out = tmp_path / "R.md"
    assert main(["report", str(write_results(tmp_path / "run.csv", rows)), "--out", str(out)]) == 0
    text = out.read_text()
    assert "<script>" not in text and "<img" not in text and "<b>" not in text
    assert "&lt;img src=x onerror=" in text and "boom \\| &lt;b&gt;bold&lt;/b&gt; second line" in text
    for table in re.split(r"\n\n", text):
        lines = [line for line in table.splitlines() if line.startswith("|")]
        if lines:  # every row of a table has as many cells as its header (an unescaped | adds one)
            widths = {len(re.split(r"(?<!\\)\|", line)) for line in lines}
            assert len(widths) == 1, lines


def test_report_says_what_its_brackets_are_and_what_they_rest_on(tmp_path: Path):
    two = tmp_path / "two.md"
    five = tmp_path / "five.md"
    assert main(["report", str(write_results(tmp_path / "2.csv", repeats(2))), "--out", str(two)]) == 0
    assert main(["report", str(write_results(tmp_path / "5.csv", repeats(5))), "--out", str(five)]) == 0
    two_text, five_text = two.read_text(), five.read_text()
    _, two_header, _ = section_table(two_text, "### Broadcast & gather vs object size")
    _, five_header, _ = section_table(five_text, "### Broadcast & gather vs object size")
    assert two_header[3] == "range (min-max)" and "95% bootstrap interval |" not in two_text
    assert "Each cell: 2 repeat(s), each of 20 measured round(s); intervals: the range (min-max)" in two_text
    assert five_header[3] == "95% bootstrap interval"
    assert "Each cell: 5 repeat(s), each of 20 measured round(s); intervals: the 95% bootstrap" in five_text
    for text in (two_text, five_text):  # one name per kind of interval: no other name anywhere
        assert "95% CI" not in text and "95% interval" not in text and "[range]" not in text


def test_figure_captions_name_their_error_bars(tmp_path: Path):
    rows = repeats(2, param_object_bytes=10485760)
    assert main(["plot", str(write_results(tmp_path / "run.csv", rows)), "--out", str(tmp_path / "f")]) == 0
    with Image.open(tmp_path / "f" / "bcast_gather_vs_actors.png") as image:
        caption = image.info["Description"]
    assert caption == "Markers: medians of 2 repeat(s) per point; error bars: range (min-max) of the repeats."


def test_the_docs_state_the_smoke_suites_measured_duration():
    """It said "under a minute" while a run took two; what it says now must be the committed run's."""
    readme = (ROOT / "workloads" / "README.md").read_text()
    claim = re.search(r"(\d+) cells in (\d+) s on 2 cores", readme)
    assert claim, "workloads/README.md no longer states the smoke suite's measured duration"
    rows = read_rows(next((ROOT / "results" / "reference" / "smoke").glob("*.csv")))
    walls = {(r["cell"], r["repeat"]): float(r["cell_wall_s"]) for r in rows}
    assert int(claim.group(1)) == len(walls) == len(build_plan("smoke", None, None, None))
    assert sum(walls.values()) == pytest.approx(int(claim.group(2)), rel=0.15)
