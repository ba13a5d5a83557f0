from pathlib import Path

from harness.cli import main
from harness.results import ResultWriter
from tests.harness.sample_rows import EVERY_COLUMN


def _rows():
    for backend, scale in (("ray", 20.0), ("reactor", 1.0), ("sequential", 0.8)):
        for size in (1024, 1048576, 10485760):
            for repeat in range(3):
                yield {
                    "run_id": "r",
                    "started_utc": "t",
                    "suite": "collectives",
                    "workload": "collectives",
                    "backend": backend,
                    "repeat": repeat,
                    "metric": "round_ms",
                    "value": scale * (1 + size / 1e6) * (1 + 0.01 * repeat),
                    "unit": "ms",
                    "status": "ok",
                    "error": "",
                    "param_n_actors": 16,
                    "param_object_bytes": size,
                    "param_variant": "copy",
                }


def test_plot_writes_figures_with_data_only(tmp_path: Path, capsys):
    csv_path = tmp_path / "run.csv"
    writer = ResultWriter(csv_path, EVERY_COLUMN)
    writer.write(list(_rows()))
    writer.close()
    out = tmp_path / "figs"
    assert main(["plot", str(csv_path), "--out", str(out)]) == 0
    written = sorted(p.name for p in out.iterdir())
    assert written == [
        "bcast_gather_vs_actors.png",
        "bcast_gather_vs_size.png",
    ]  # no micro rows, no micro figure
    assert (out / "bcast_gather_vs_size.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matching_rows_is_a_usage_error(tmp_path: Path, capsys):
    csv_path = tmp_path / "empty.csv"
    ResultWriter(csv_path, EVERY_COLUMN).close()
    assert main(["plot", str(csv_path), "--out", str(tmp_path / "figs")]) == 2
    assert "no ok rows" in capsys.readouterr().err
