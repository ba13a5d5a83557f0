"""Backends and workloads come from installed distributions (entry points), built-ins included: a
plugin that fails to import is unavailable with its reason, never fatal; two with one name are a
one-line error naming both distributions. Distributions are made on the fly (a dist-info folder on
PYTHONPATH is all ``importlib.metadata`` needs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import registry
from harness.plugins import BACKEND_GROUP, PROJECT
from harness.results import read_rows
from tests.conftest import run_cli
from tests.harness.distributions import distribution


def _distribution(site: Path, name: str, entry_points: dict[str, str], modules: dict[str, str]) -> Path:
    return distribution(site, name, {BACKEND_GROUP: entry_points}, modules)


def test_builtins_are_registered_the_way_plugins_are():
    origins = {name: plugin.distribution for name, plugin in registry.ORIGINS.items()}
    assert origins["sequential"] == origins["reactor"] == origins["collectives"] == PROJECT
    assert origins["pykka"] == "actor-reactor-bench-pykka" and origins["dask"] == "actor-reactor-bench-dask"


def test_a_plugin_that_fails_to_import_is_unavailable_not_fatal(tmp_path: Path):
    site = _distribution(
        tmp_path / "site", "bench-broken", {"broken": "bench_broken_backend:Backend"},
        {"bench_broken_backend": "import framework_that_is_not_installed\n"},
    )  # fmt: skip
    listing = run_cli("list", pythonpath=[site], timeout=120)
    assert listing.returncode == 0, listing.stderr
    line = next(line for line in listing.stdout.splitlines() if line.split()[:1] == ["broken"])
    assert "unavailable" in line and "bench-broken 0.1" in line
    assert "ModuleNotFoundError: No module named 'framework_that_is_not_installed'" in listing.stdout
    out = tmp_path / "run.csv"
    result = run_cli("run", "--suite", "collectives", "--profile", "smoke", "--backends", "broken,sequential",
                     "--repeats", "1", "--out", str(out), "--quiet",
                     pythonpath=[site], timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    rows = read_rows(out)
    broken = [row for row in rows if row["backend"] == "broken"]
    assert broken and {row["status"] for row in broken} == {"unavailable"}
    assert {row["error"] for row in broken} == {
        "failed to load: ModuleNotFoundError: No module named 'framework_that_is_not_installed'"
    }
    assert {row["status"] for row in rows if row["backend"] == "sequential"} == {"ok"}


def test_two_distributions_with_one_backend_name_are_one_line_naming_both(tmp_path: Path):
    site = _distribution(
        tmp_path / "site", "other-pykka", {"pykka": "other_pykka:Backend"}, {"other_pykka": ""}
    )
    for argv in (["list"], ["run", "--suite", "smoke"]):
        result = run_cli(*argv, pythonpath=[site], timeout=120)
        assert result.returncode == 2
        assert result.stderr == (
            "error: backend name 'pykka' is registered by two distributions: actor-reactor-bench-pykka and "
            "other-pykka; uninstall one of them\n"
        )


@pytest.mark.parametrize(
    ("exit_call", "reason"), [("sys.exit()", "SystemExit"), ('sys.exit("text")', "SystemExit: text")]
)
def test_a_plugin_that_exits_on_import_is_unavailable_and_the_gate_still_measures(
    tmp_path: Path, exit_call: str, reason: str
):
    """``sys.exit`` is no Exception: uncaught, it ended every command with its status (0 for
    ``sys.exit()``) before any work, so that ``make gate`` passed without measuring."""
    site = _distribution(
        tmp_path / "site", "bench-exits", {"exits": "bench_exits_backend:Backend"},
        {"bench_exits_backend": f"import sys\n{exit_call}\n"},
    )  # fmt: skip
    listing = run_cli("list", pythonpath=[site], timeout=120)
    assert listing.returncode == 0, listing.stderr
    assert f"why: failed to load: {reason}\n" in listing.stdout
    out = tmp_path / "run.csv"
    result = run_cli("run", "--suite", "collectives", "--profile", "smoke", "--backends",
                     "exits,sequential,reactor", "--repeats", "1", "--out", str(out), "--quiet",
                     pythonpath=[site], timeout=240)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    rows = read_rows(out)
    assert {row["error"] for row in rows if row["backend"] == "exits"} == {f"failed to load: {reason}"}
    assert {row["status"] for row in rows if row["backend"] != "exits"} == {"ok"}
    baseline = tmp_path / "ci_ratios.csv"
    made = run_cli("check", str(out), "--baseline", str(baseline), "--update-baseline", pythonpath=[site])
    assert made.returncode == 0 and "2 cases from 1 run(s)" in made.stdout, made.stdout + made.stderr
    judged = run_cli("check", str(out), "--baseline", str(baseline), pythonpath=[site])
    assert judged.returncode == 0 and "2 of 2 cases pass" in judged.stdout, judged.stdout + judged.stderr


def test_the_gate_fails_when_it_judged_nothing(tmp_path: Path):
    """A run whose only backend could not load measured nothing: `check` must not pass it."""
    site = _distribution(
        tmp_path / "site", "bench-exits", {"exits": "bench_exits_backend:Backend"},
        {"bench_exits_backend": "import sys\nsys.exit()\n"},
    )  # fmt: skip
    out = tmp_path / "run.csv"
    result = run_cli("run", "--suite", "collectives", "--profile", "smoke", "--backends", "exits",
                     "--repeats", "1", "--out", str(out), "--quiet",
                     pythonpath=[site], timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert {row["status"] for row in read_rows(out)} == {"unavailable"}
    judged = run_cli("check", str(out), "--baseline", "results/baseline/ci_ratios.csv", pythonpath=[site])
    assert judged.returncode != 0
    assert (
        judged.stderr
        == f"error: {out} (run {read_rows(out)[0]['run_id']}) holds no pair of backends to compare\n"
    )
