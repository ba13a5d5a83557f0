import json

import pytest

from harness import registry
from harness.cells.plan import build_plan
from harness.errors import UsageError
from workloads.base import PROFILES


def test_every_suite_names_known_workloads():
    for suite, workloads in registry.SUITES.items():
        assert workloads, suite
        assert all(name in registry.WORKLOADS for name in workloads)
    assert {"all", "smoke", "collectives", "micro"} <= set(registry.SUITES)


def test_workload_params_fit_the_csv_contract():
    for workload in registry.WORKLOADS.values():
        for profile in PROFILES:
            grid = workload.grid(profile)
            assert grid, (workload.name, profile)
            for params in grid:
                assert set(params) <= {p.name for p in workload.parameters}, params


def test_backends_for_respects_operations():
    def runs(workload: str) -> set[str]:
        return set(registry.backends_for(registry.WORKLOADS[workload])) & BUILT_IN

    groups = {
        "sequential",
        "ray",
        "ray-compiled",
        "reactor",
        "reactor-fed",
        "xronos",
        "reactor-ft",
        "xronos-ft",
    }
    assert runs("collectives") == groups
    assert runs("training") == groups
    vectors = {"gym-sync-vector", "gym-async-vector", "ale-vector"}  # the suites pick theirs (applies_to)
    assert runs("gym") == groups | vectors
    assert runs("micro") == {"reactor", "reactor-fed", "xronos", "reactor-ft", "xronos-ft"}


BUILT_IN = {name for name, plugin in registry.ORIGINS.items() if plugin.distribution == "actor-reactor-bench"}


def test_extra_backends_run_headline_points_only_in_quick():
    quick = build_plan("all", "quick", ["ray", "ray-compiled", "xronos"], 1)
    extra = {(c.workload, c.params_json) for c in quick if c.backend in ("ray-compiled", "xronos")}
    assert {w for w, _ in extra} == set(registry.SUITES["all"])  # micro: xronos
    assert all(registry.WORKLOADS[w].is_headline(json.loads(p)) for w, p in extra)
    assert len({(c.workload, c.params_json) for c in quick if c.backend == "ray"}) > len(extra) // 2
    paper = build_plan("all", "paper", ["ray", "ray-compiled"], 1)
    by_backend = {
        b: {(c.workload, c.params_json) for c in paper if c.backend == b} for b in ("ray", "ray-compiled")
    }
    plain_ray = {
        (w, p) for w, p in by_backend["ray"] if "seeded-reset" not in p
    }  # the paper's Ray-only baseline
    assert plain_ray == by_backend["ray-compiled"]


@pytest.mark.parametrize(
    "text, message",
    [("nope", "unknown backend 'nope'"), ("ray,,reactor", "empty name"), ("ray,ray", "repeated")],
)
def test_parse_backends_rejects_bad_names(text, message):
    with pytest.raises(UsageError, match=message):
        registry.parse_backends(text)


def test_unknown_suite_and_profile():
    with pytest.raises(UsageError, match="unknown suite"):
        registry.check_suite("everything")
    with pytest.raises(UsageError, match="unknown profile"):
        registry.check_profile("fast")


def test_plan_interleaves_backends_and_rotates_them_per_repeat():
    cells = build_plan("collectives", "quick", ["sequential", "ray", "reactor"], repeats=3)
    first_point = cells[0].params_json
    orders = [[c.backend for c in cells if c.params_json == first_point and c.repeat == r] for r in range(3)]
    assert orders == [
        ["sequential", "ray", "reactor"],
        ["ray", "reactor", "sequential"],
        ["reactor", "sequential", "ray"],
    ]
    # repeats are the outer loop: every cell of repeat 0 comes before any of repeat 1
    repeats = [c.repeat for c in cells]
    assert repeats == sorted(repeats)


def test_plan_quick_grid_has_paper_figures_points():
    cells = build_plan("collectives", "quick", ["reactor"], repeats=1)
    points = {(c.params["n_actors"], c.params["object_bytes"], c.params["variant"]) for c in cells}
    for size in (1024, 102400, 1048576, 10485760, 104857600):
        assert (16, size, "copy") in points
    for size in (1024, 104857600):
        assert (16, size, "read") in points
    for actors in (1, 2, 4, 8, 16):
        assert (actors, 10485760, "copy") in points


def test_paper_profile_adds_the_large_objects():
    cells = build_plan("collectives", "paper", ["reactor"], repeats=1)
    sizes = {c.params["object_bytes"] for c in cells}
    assert {264_857_600, 488_576_000} <= sizes


def test_single_threaded_runtime_gets_no_multi_thread_cells():
    cells = build_plan("micro", "quick", None, repeats=1)
    for single in ("xronos", "xronos-ft"):
        mine = [c for c in cells if c.backend == single]
        assert mine and all(c.params["workers"] == 1 and c.params["program"] != "numpy-bank" for c in mine)
    for threaded in ("reactor", "reactor-ft"):
        assert any(c.params["workers"] == 2 for c in cells if c.backend == threaded)


def test_smoke_suite_uses_smoke_grid():
    cells = build_plan("smoke", None, None, repeats=1)
    assert {c.profile for c in cells} == {"smoke"}
    assert {c.workload for c in cells} == set(registry.SUITES["all"])


def test_smoke_suite_refuses_another_profile():
    """It used to run smoke sizes silently and name the file smoke-paper-...."""
    with pytest.raises(UsageError, match="--suite smoke runs the smoke sizes only; drop --profile paper"):
        build_plan("smoke", "paper", None, repeats=1)
