"""The results package's contract: versions, columns from the plan, refusals, reading old files, and
the typed DataFrame. Small files of its own; the committed reference run only read."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from harness.cells import plan
from harness import report
from harness.analysis.aggregate import summarize_rows
from harness.analysis.checks import mismatches
from harness.cli import main
from harness.errors import UsageError
from harness.registry import WORKLOAD_GROUP
from harness.results import ResultWriter, columns_for, load, read_rows, schema
from tests.conftest import run_cli
from tests.harness.distributions import distribution
from workloads.base import SERIES_PARAMS, Parameter

ROOT = Path(__file__).resolve().parents[3]
V1_FILE = Path(__file__).parent / "data" / "results-v1.csv"
"""Ten rows cut from a version-1 file (the reference run before version 2): samples, curve points
of rounds and of episodes, and a failed cell."""
REFERENCE = ROOT / "results" / "reference" / "all-quick.csv"
FOO = Parameter("foo", int, "a parameter no built-in workload has")


def _row(**fields) -> dict:
    base = {
        "run_id": "r1",
        "started_utc": "2026-01-01T00:00:00Z",
        "suite": "plugin",
        "workload": "plugin",
        "backend": "sequential",
        "repeat": 0,
        "metric": "round_ms",
        "value": 1.0,
        "unit": "ms",
        "status": "ok",
        "error": "",
    }
    return {**base, **fields}


def _write(path: Path, columns: list[str], rows: list[dict]) -> Path:
    writer = ResultWriter(path, columns)
    writer.write(rows)
    writer.close()
    return path


def test_every_schema_version_has_its_line_in_the_history():
    """A version bump without a line saying what changed fails here."""
    history = re.findall(r"^- (\d+): ", schema.__doc__ or "", flags=re.MULTILINE)
    assert [int(v) for v in history] == list(range(1, schema.SCHEMA_VERSION + 1))
    assert schema.SCHEMA_VERSION == 2


def test_a_plugin_parameter_gives_two_points_with_their_parameters(tmp_path: Path):
    """The issue's reproduction: two rows at foo=1 and foo=2 (values 1 and 100) are two points, through
    the writer, the reader and the summarizer (before: one point with no parameters, median 50.5)."""
    path = _write(
        tmp_path / "run.csv",
        columns_for([FOO]),
        [_row(param_foo=1, value=1.0), _row(param_foo=2, value=100.0)],
    )
    points = {s.params: (s.summary.median, s.summary.n) for s in summarize_rows(read_rows(path))}
    assert points == {(("foo", "1"),): (1.0, 1), (("foo", "2"),): (100.0, 1)}
    frame = load([path], parameters=[FOO])
    assert str(frame["param_foo"].dtype) == "Int64" and frame["param_foo"].tolist() == [1, 2]


def test_param_columns_come_from_the_planned_workloads_declarations():
    cells = plan.build_plan("collectives", "smoke", ["sequential"], 1)
    params = [c for c in columns_for(plan.parameters(cells)) if c.startswith("param_")]
    assert params == ["param_n_actors", "param_object_bytes", "param_variant"] + [
        f"param_{name}" for name in SERIES_PARAMS
    ]
    assert "param_foo" in columns_for([FOO])
    header = columns_for([FOO])
    assert header[0] == "schema_version" and "row_kind" in header and len(header) == len(set(header))


def test_one_name_declared_with_two_types_is_refused():
    with pytest.raises(ValueError, match="'foo' is declared as int and as str"):
        columns_for([FOO, Parameter("foo", str)])


def test_a_row_key_without_a_column_is_refused_in_one_line_and_nothing_is_written(tmp_path: Path):
    path = tmp_path / "run.csv"
    writer = ResultWriter(path, columns_for([FOO]))
    header = path.read_bytes()
    with pytest.raises(UsageError) as refused:
        writer.write([_row(param_foo=1), _row(param_bar=2)])  # the cell's rows: all or none
    writer.close()
    message = str(refused.value)
    assert "'param_bar'" in message and "\n" not in message
    assert path.read_bytes() == header


def test_appending_to_a_file_that_lacks_a_needed_column_is_refused(tmp_path: Path):
    path = _write(tmp_path / "run.csv", columns_for([]), [_row()])
    before = path.read_bytes()
    with pytest.raises(UsageError) as refused:
        ResultWriter(path, columns_for([FOO]), new=False)
    assert "no column 'param_foo'" in str(refused.value) and "\n" not in str(refused.value)
    assert path.read_bytes() == before
    again = ResultWriter(path, columns_for([]), new=False)  # the lock was released with the refusal
    again.write([_row(repeat=1)])
    again.close()
    assert [r["repeat"] for r in read_rows(path)] == ["0", "1"]


def test_the_writer_says_which_rows_are_curve_points(tmp_path: Path):
    path = _write(
        tmp_path / "run.csv",
        columns_for([FOO]),
        [_row(param_foo=1), _row(param_foo=1, param_round=0, metric="return"), _row(param_episode=3)],
    )
    rows = read_rows(path)
    assert [(r["schema_version"], r["row_kind"]) for r in rows] == [
        ("2", "sample"),
        ("2", "curve"),
        ("2", "curve"),
    ]


def test_a_version_1_file_is_read_with_its_row_kinds_derived():
    rows = read_rows(V1_FILE)
    assert len(rows) == 10 and {r["schema_version"] for r in rows} == {"1"}
    for row in rows:
        on_curve = any(row[f"param_{name}"] for name in SERIES_PARAMS)
        assert row["row_kind"] == ("curve" if on_curve else "sample")
    assert [r["row_kind"] for r in rows].count("curve") == 5
    samples, curves = load([V1_FILE]), load([V1_FILE], curves=True)
    assert (len(samples), len(curves)) == (5, 5)
    assert curves["param_episode"].notna().sum() == 2 and samples["param_round"].isna().all()


def test_a_file_of_a_newer_schema_is_refused(tmp_path: Path):
    path = _write(tmp_path / "run.csv", columns_for([]), [_row(schema_version=schema.SCHEMA_VERSION + 1)])
    with pytest.raises(UsageError, match="schema version '3' is not one this harness reads"):
        read_rows(path)


def test_load_types_the_reference_run_and_keeps_curves_apart():
    rows = read_rows(REFERENCE)
    samples, curves = load([REFERENCE]), load([REFERENCE], curves=True)
    assert len(samples) + len(curves) == len(rows) and len(curves) > len(samples) > 0
    assert (samples["row_kind"] == "sample").all() and (curves["row_kind"] == "curve").all()
    for frame in (samples, curves):
        for column in ("param_n_actors", "param_object_bytes", "param_round", "param_workers", "repeat"):
            assert str(frame[column].dtype) == "Int64", column
        assert frame["value"].dtype == "float64" and str(frame["param_env_id"].dtype) == "string"
    assert curves[[f"param_{name}" for name in SERIES_PARAMS]].notna().any(axis=1).all()
    assert samples[[f"param_{name}" for name in SERIES_PARAMS]].isna().all(axis=None)
    ok = [float(r["value"]) for r in rows if r["row_kind"] == "sample" and r["status"] == "ok"]
    assert samples.loc[samples["status"] == "ok", "value"].tolist() == ok
    actors = {int(r["param_n_actors"]) for r in rows if r["param_n_actors"]}
    assert set(samples["param_n_actors"].dropna()) == actors
    assert pd.api.types.is_integer_dtype(samples["param_n_actors"])


def test_load_refuses_a_value_that_is_not_of_its_declared_type(tmp_path: Path):
    path = _write(tmp_path / "run.csv", columns_for([FOO]), [_row(param_foo="many")])
    with pytest.raises(UsageError, match="'param_foo' does not hold int values"):
        load([path], parameters=[FOO])


def test_a_plugin_parameter_keeps_its_points_apart_in_every_consumer_of_rows(tmp_path: Path):
    """The equal-work check, the report's outcome count and problem table, and the summaries all see
    foo=1 and foo=2 as two points (before, the writer dropped the column: one point whose backends
    did unequal work, and one cell where there were two)."""
    rows = [
        _row(backend=backend, param_foo=foo, work=10 * foo, cell=f"plugin[foo={foo}]@{backend}")
        for backend in ("sequential", "reactor")
        for foo in (1, 2)
    ]
    rows.append(_row(param_foo=3, status="error", error="boom", value=None, cell="plugin[foo=3]@sequential"))
    rows.append(_row(param_foo=1, param_round=4, metric="return", cell="plugin[foo=1]@sequential"))
    written = read_rows(_write(tmp_path / "run.csv", columns_for([FOO]), rows))
    assert mismatches(written) == []
    outcomes = report.final_outcomes(written)
    assert len(outcomes) == 5  # four ok cells and the failed one; the curve point is no cell
    assert "| plugin | foo=3 | sequential | error |" in (report.problem_table(outcomes) or "")
    summaries = summarize_rows(written)
    assert {(s.backend, s.params) for s in summaries if not s.on_curve} == {
        (b, (("foo", f),)) for b in ("sequential", "reactor") for f in ("1", "2")
    }
    assert [s.params for s in summaries if s.on_curve] == [(("foo", "1"), ("round", "4"))]


def test_resuming_a_version_1_file_is_refused_in_one_line(tmp_path: Path, capsys):
    old = tmp_path / "old.csv"
    old.write_bytes(V1_FILE.read_bytes())
    assert main(["run", "--resume", str(old)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "its schema version is 1, this one writes 2" in err
    assert old.read_bytes() == V1_FILE.read_bytes()


PLUGIN_WORKLOAD = """
from workloads.base import SERIES_PARAMETERS, Measurement, Parameter, Workload


class Scale(Workload):
    name = "scale"
    suite = "scale"
    in_all = False
    description = "a plugin workload whose parameter no built-in has"
    metrics = (("round_ms", "ms"),)
    parameters = (Parameter("foo", int, "how much"), *SERIES_PARAMETERS)
    repeats = {"smoke": 1, "quick": 1, "paper": 1}
    undeclared = ""

    def grid(self, profile):
        return [{"foo": 1}, {"foo": 2}]

    def measure(self, backend, params, profile):
        measurement = Measurement(work=params["foo"], rounds=1)
        measurement.add("round_ms", 1.0 if params["foo"] == 1 else 100.0, "ms")
        measurement.add_point({"round": 0, **({self.undeclared: 1} if self.undeclared else {})},
                              "loss", 0.5, "")
        return measurement


class Leaky(Scale):
    name = "leaky"
    suite = "leaky"
    undeclared = "bar"
"""


def _plugin(site: Path) -> Path:
    workloads = {"scale": "bench_scale:Scale", "leaky": "bench_scale:Leaky"}
    return distribution(site, "bench-scale", {WORKLOAD_GROUP: workloads}, {"bench_scale": PLUGIN_WORKLOAD})


@pytest.mark.slow
def test_a_plugin_workload_with_its_own_parameter_runs_end_to_end(tmp_path: Path):
    """Its parameter gets a column and its points stay apart in the CSV; a row with a key it did not
    declare stops the run with one line (exit 2) and writes nothing of that cell."""
    site = _plugin(tmp_path / "site")
    out = tmp_path / "scale.csv"
    common = ["--profile", "smoke", "--backends", "sequential", "--quiet"]
    result = run_cli("run", "--suite", "scale", *common, "--out", str(out), pythonpath=[site], timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = read_rows(out)
    assert {(r["param_foo"], r["metric"], r["row_kind"]) for r in rows} >= {
        ("1", "round_ms", "sample"),
        ("2", "round_ms", "sample"),
        ("1", "loss", "curve"),
    }
    medians = {s.params: s.summary.median for s in summarize_rows(rows) if s.metric == "round_ms"}
    assert medians == {(("foo", "1"),): 1.0, (("foo", "2"),): 100.0}
    leaky = tmp_path / "leaky.csv"
    refused = run_cli("run", "--suite", "leaky", *common, "--out", str(leaky), pythonpath=[site], timeout=240)
    assert refused.returncode == 2 and refused.stderr.count("\n") <= 2, refused.stderr
    assert "'param_bar', a column the results file does not have" in refused.stderr.splitlines()[-1]
    assert read_rows(leaky) == []
