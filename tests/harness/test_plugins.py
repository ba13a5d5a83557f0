"""Backends and workloads come from installed distributions (entry points), built-ins included: a
plugin that fails to import is unavailable with its reason, never fatal; two with one name are a
one-line error naming both distributions. Distributions are made on the fly (a dist-info folder on
PYTHONPATH is all ``importlib.metadata`` needs)."""

from __future__ import annotations

from pathlib import Path

from harness import registry
from harness.plugins import BACKEND_GROUP, PROJECT
from harness.results import read_rows
from tests.conftest import run_cli


def _distribution(site: Path, name: str, entry_points: dict[str, str], modules: dict[str, str]) -> Path:
    """A minimal installed distribution in ``site``: its metadata, its entry points, its modules."""
    info = site / f"{name.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    lines = [f"[{BACKEND_GROUP}]", *(f"{key} = {value}" for key, value in entry_points.items())]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    for module, source in modules.items():
        (site / f"{module}.py").write_text(source)
    return site


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
