from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.results import INTERRUPTED, ResultWriter, finished_cells, read_rows
from tests.harness.sample_rows import EVERY_COLUMN as COLUMNS


def _row(cell: str, repeat: int, status: str = "ok", error: str = "", value: float | None = 1.5) -> dict:
    return {
        "run_id": "r1",
        "started_utc": "2026-01-01T00:00:00Z",
        "suite": "smoke",
        "workload": "collectives",
        "backend": "sequential",
        "repeat": repeat,
        "metric": "round_ms",
        "value": value,
        "unit": "ms",
        "status": status,
        "error": error,
        "cell": cell,
        "profile": "quick",
        "param_n_actors": 2,
    }


def test_rows_are_on_disk_as_soon_as_written(tmp_path: Path):
    path = tmp_path / "run.csv"
    writer = ResultWriter(path, COLUMNS)
    writer.write([_row("a", 0)])
    rows = read_rows(path)  # read while the writer is still open: nothing is buffered
    assert len(rows) == 1 and rows[0]["value"] == "1.5" and rows[0]["param_n_actors"] == "2"
    writer.close()


def test_append_keeps_one_header(tmp_path: Path):
    path = tmp_path / "run.csv"
    for repeat in range(3):
        writer = ResultWriter(path, COLUMNS, new=repeat == 0)
        writer.write([_row("a", repeat)])
        writer.close()
    lines = path.read_text().splitlines()
    assert lines[0].split(",") == COLUMNS
    assert len(lines) == 4
    assert [r["repeat"] for r in read_rows(path)] == ["0", "1", "2"]


def test_finished_cells_excludes_interrupted(tmp_path: Path):
    rows = [
        _row("a", 0),
        _row("a", 1, status="error", error="ValueError: boom", value=None),
        _row("b", 0, status="error", error=INTERRUPTED, value=None),
        _row("c", 0, status="timeout", error="no result", value=None),
    ]
    assert finished_cells(rows) == {("a", 0, "quick"), ("a", 1, "quick"), ("c", 0, "quick")}


@pytest.mark.parametrize(
    "content, message",
    [
        ("hello,world\n1,2\n", "not a results CSV"),
        (",".join(COLUMNS) + "\nr1,x\n", "wrong number of fields"),
        (",".join(COLUMNS) + "\n" + ",".join(["x"] * len(COLUMNS)) + "\n", "unknown status"),
    ],
)
def test_corrupt_files_are_usage_errors(tmp_path: Path, content: str, message: str):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(UsageError, match=message):
        read_rows(path)


def test_non_numeric_ok_value_is_rejected(tmp_path: Path):
    path = tmp_path / "run.csv"
    writer = ResultWriter(path, COLUMNS)
    writer.write([_row("a", 0, value="fast")])  # type: ignore[arg-type]
    writer.close()
    with pytest.raises(UsageError, match="not a number"):
        read_rows(path)


def test_missing_binary_and_directory_inputs(tmp_path: Path):
    with pytest.raises(UsageError, match="no such file"):
        read_rows(tmp_path / "absent.csv")
    with pytest.raises(UsageError, match="directory"):
        read_rows(tmp_path)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(UsageError):
        read_rows(binary)
