"""Training that learns: the recipe reaches its target, identically on every backend and order; the
pipelined graph really overlaps its stages; failures (NaN, missed target) are error rows; bad options
are one line and exit 2."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backends.base import BackendOptions, PipelineSpec
from backends.reactor_backend import ReactorBackend
from backends.sequential import SequentialBackend
from backends.xronos.backend import XronosBackend
from harness.cells.cell import run_cell
from harness.cells.plan import Cell
from harness.cells.protocol import CellResult, CellSpec
from harness.cells.runner import RunSettings, _outcome
from harness.cli import main
from harness.results import read_rows
from workloads.training import pipeline_workers as pw
from workloads.training import qnet, recipes
from workloads.training.to_return import BUDGET_ENV_STEPS, POINTS, TargetNotReached, TrainingReturn

SMOKE = POINTS["smoke"][0]
WORKLOAD = TrainingReturn()


def _train(backend: Any, variant: str, **options: Any) -> Any:
    params = {**SMOKE, "variant": variant, **options}
    WORKLOAD.start(backend, params)
    try:
        return WORKLOAD.measure(backend, params, "smoke")
    finally:
        backend.shutdown()


@pytest.mark.parametrize("variant", ["sync", "pipelined"])
def test_the_smoke_recipe_reaches_its_target_and_reports_every_metric(variant):
    m = _train(SequentialBackend(), variant)
    metrics = {name: value for name, (value, _) in m.metrics.items()}
    assert set(metrics) == {name for name, _ in WORKLOAD.metrics}
    assert metrics["time_to_return_s"] > 0 and metrics["rounds_to_return"] == m.rounds
    assert metrics["env_steps_to_return"] <= m.rounds * SMOKE["workers"] * 16
    assert metrics["grad_steps_to_return"] > 0
    returns = [(at, value) for at, metric, value, _ in m.series if metric == "episode_return"]
    assert returns[-1][1] >= SMOKE["target"] > returns[0][1]  # it learned: the curve rose to the target
    assert returns[-1][0]["round"] == m.rounds
    elapsed = [value for _, metric, value, _ in m.series if metric == "elapsed_s"]
    assert elapsed == sorted(elapsed) and elapsed[-1] == pytest.approx(metrics["time_to_return_s"])


def test_every_backend_and_thread_count_trains_the_same_weights_within_a_variant():
    runs = {}
    for variant in ("sync", "pipelined"):
        backends = [SequentialBackend()] + [ReactorBackend(BackendOptions(threads=t)) for t in (1, 2)]
        backends.append(XronosBackend(BackendOptions()))
        for backend in backends:
            m = _train(backend, variant)
            runs[(variant, backend.name, backend.options.threads)] = (
                m.extra["result_digest"],
                m.metrics["rounds_to_return"][0],
                [value for _, metric, value, _ in m.series if metric == "episode_return"],
            )
    for variant in ("sync", "pipelined"):
        outcomes = [outcome for key, outcome in runs.items() if key[0] == variant]
        assert len(outcomes) == 4 and all(outcome == outcomes[0] for outcome in outcomes), variant
    sync = next(v for k, v in runs.items() if k[0] == "sync")
    pipelined = next(v for k, v in runs.items() if k[0] == "pipelined")
    assert sync[0] != pipelined[0]  # two different graphs, two different (deterministic) runs


class _SpyRollout:
    def __init__(self, index: int):
        self.index = index

    def collect(self, weights: Any) -> tuple[int, Any]:
        return self.index, weights


class _SpyReplay:
    def store_and_sample(self, batches: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
        return batches


class _CountingLearner:
    def __init__(self) -> None:
        self.updates = 0

    def update(self, minibatch: Any) -> tuple[int, tuple[int, Any]]:
        self.updates += 1
        return self.updates, (self.updates, minibatch)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("backend_cls", [SequentialBackend, ReactorBackend, XronosBackend])
def test_pipelined_round_r_trains_on_round_r_minus_1_while_rollouts_use_older_weights(backend_cls, threads):
    backend = backend_cls(BackendOptions(threads=threads))
    backend.start_pipeline(PipelineSpec(_SpyRollout, 3, _SpyReplay, _CountingLearner, "pipelined"))
    try:
        reports = [backend.pipeline_round() for _ in range(4)]
    finally:
        backend.shutdown()
    # round 1's update has no minibatch yet; round r's trains on round r-1's batches, which were
    # collected with the weights of update r-2 (None: the initial ones)
    assert reports == [(1, None), (2, [(i, None) for i in range(3)]), (3, [(i, 1) for i in range(3)]),
                       (4, [(i, 2) for i in range(3)])]  # fmt: skip


def _levels(backend: ReactorBackend) -> dict[str, int]:
    return {
        f"{reactor.fqn}.{reaction.name}": reaction.level
        for reactor in backend._env.reactors
        for reaction in reactor._reactions
    }


def test_the_pipelined_update_sits_at_the_rollouts_level_and_the_sync_one_after_the_replay():
    levels = {}
    for variant in ("sync", "pipelined"):
        backend = ReactorBackend(BackendOptions(threads=2))
        backend.start_pipeline(PipelineSpec(_SpyRollout, 2, _SpyReplay, _CountingLearner, variant))
        levels[variant] = _levels(backend)
        backend.shutdown()
    sync, pipelined = levels["sync"], levels["pipelined"]
    assert pipelined["learner.update"] == pipelined["rollout[0].collect"] == pipelined["rollout[1].collect"]
    assert sync["learner.update"] > sync["replay.sample"] > sync["rollout[0].collect"]


class _SleepyRollout(_SpyRollout):
    def collect(self, weights: Any) -> tuple[int, Any]:
        time.sleep(0.03)  # releases the GIL, like numpy kernels or free-threaded Python
        return super().collect(weights)


class _SleepyLearner(_CountingLearner):
    def update(self, minibatch: Any) -> tuple[int, tuple[int, Any]]:
        time.sleep(0.06)
        return super().update(minibatch)


def _fastest_round_s(variant: str) -> float:
    backend = ReactorBackend(BackendOptions(threads=2))
    backend.start_pipeline(PipelineSpec(_SleepyRollout, 2, _SpyReplay, _SleepyLearner, variant))
    times = []
    try:
        for _ in range(8):
            started = time.perf_counter()
            backend.pipeline_round()
            times.append(time.perf_counter() - started)
    finally:
        backend.shutdown()
    return min(times)


def test_two_reactor_threads_overlap_the_pipelined_update_with_the_rollouts():
    sync, pipelined = _fastest_round_s("sync"), _fastest_round_s("pipelined")
    assert sync >= 0.085  # 30 ms of rollouts (two, side by side) then 60 ms of update
    assert pipelined < 0.8 * sync  # the update beside the rollouts: about 60 ms


def test_double_dqn_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    params = qnet.init_params(4, 2, 8, seed=1)
    target = qnet.init_params(4, 2, 8, seed=2)
    flat, views = qnet.flatten(params)
    shapes = {name: views[name].shape for name in qnet.PARAM_NAMES}
    n = 16
    states = rng.normal(size=(2 * n, 4))
    batch = (rng.integers(0, 2, n), 3 * rng.normal(size=n), 0.99 * (rng.random(n) > 0.3))
    for delta in (1.0, 10.0):  # errors beyond delta (the linear part) and within it (quadratic)
        grad = np.zeros_like(flat)
        qnet.double_dqn_grads(views, target, states, *batch, delta, qnet.views(grad, shapes))
        for i in range(0, flat.size, 7):
            shifted = flat.copy()
            shifted[i] += 1e-6
            up = _loss(shifted, shapes, target, states, batch, delta)
            shifted[i] -= 2e-6
            down = _loss(shifted, shapes, target, states, batch, delta)
            assert grad[i] == pytest.approx((up - down) / 2e-6, rel=1e-4, abs=1e-8)


def _loss(flat: np.ndarray, shapes: dict, target: qnet.Params, states: np.ndarray, batch: tuple,
          delta: float) -> float:  # fmt: skip
    scratch = qnet.views(np.zeros_like(flat), shapes)
    errors = qnet.double_dqn_grads(qnet.views(flat, shapes), target, states, *batch, delta, scratch)
    return qnet.huber_loss(errors, delta)


def test_huber_loss_is_quadratic_within_delta_and_linear_beyond():
    assert qnet.huber_loss(np.array([1.0, -2.0]), 10.0) == pytest.approx((0.5 + 2.0) / 2)
    assert qnet.huber_loss(np.array([30.0]), 10.0) == pytest.approx(10.0 * (30.0 - 5.0))


def _learner(**overrides: Any) -> pw.DoubleDQNLearner:
    return recipes.learner(recipes.recipe_for({**SMOKE, **overrides}))


def _minibatch(rewards: np.ndarray) -> pw.Batch:
    n = len(rewards)
    rng = np.random.default_rng(1)
    return pw.Batch(rng.normal(size=(n, 4)), rng.integers(0, 2, n), rewards, rng.normal(size=(n, 4)),
                    np.zeros(n), [], 0.0, env_steps=n)  # fmt: skip


def test_the_learner_takes_one_step_per_minibatch_and_none_before_data():
    learner = _learner()
    initial = qnet.params_digest(learner.params)
    weights, report = learner.update(None)
    assert report.grad_steps == 0 and qnet.params_digest(weights) == initial and report.finite
    weights, report = learner.update(_minibatch(np.ones(3 * 64)))
    assert report.grad_steps == 3 and qnet.params_digest(weights) != initial and np.isfinite(report.loss)


def test_non_finite_weights_are_reported_not_hidden():
    _, report = _learner().update(_minibatch(np.full(64, np.nan)))
    assert not report.finite


def _cell_spec(**options: Any) -> CellSpec:
    params = {**SMOKE, "variant": "sync", **options}
    return CellSpec(workload=WORKLOAD.name, params=params, backend="sequential", profile="smoke", threads=1)


def _rows(spec: CellSpec, outcome: CellResult) -> list[dict[str, Any]]:
    cell = Cell("training", spec.workload, "{}", spec.backend, 0, "smoke")
    return _outcome(cell, RunSettings("test", 60, 1), outcome, 0.0).rows


def test_nan_weights_stop_the_cell_as_an_error_naming_the_round(monkeypatch):
    original = pw.DoubleDQNLearner.update

    def poisoned(self: pw.DoubleDQNLearner, minibatch: Any) -> Any:
        if self.grad_steps > 0:  # the round after learning started
            self.flat[0] = np.nan
        return original(self, minibatch)

    monkeypatch.setattr(pw.DoubleDQNLearner, "update", poisoned)
    spec = _cell_spec()
    outcome = run_cell(spec)
    assert outcome.status == "error"
    first_learning_round = -(-1000 // (SMOKE["workers"] * 16))  # learning starts at 1,000 transitions
    assert f"diverged at round {first_learning_round + 1}" in outcome.error
    rows = _rows(spec, outcome)
    assert {r["status"] for r in rows} == {"error"}
    assert any(r["metric"] == "episode_return" and r["value"] is not None for r in rows)  # the curve


def test_a_missed_target_is_an_error_row_and_keeps_its_curve(tmp_path: Path):
    out = tmp_path / "missed.csv"
    args = ["run", "--suite", "training-return", "--profile", "smoke", "--backends", "sequential",
            "--set", "variant=sync", "--set", "max_env_steps=1500", "--out", str(out), "--quiet"]  # fmt: skip
    assert main(args) == 1
    rows = read_rows(out)
    assert {r["status"] for r in rows} == {"error"}
    summary = [r for r in rows if r["metric"] == "time_to_return_s"]
    assert len(summary) == 1 and summary[0]["value"] == ""
    # 23 rounds of 64 env steps fit in 1500; a 24th would take the run to 1536
    expected = (
        "did not reach a mean return of 50 over the last 20 episodes within 1500 env steps "
        "(1472 env steps done in 23 rounds; best "
    )
    assert expected in summary[0]["error"]
    curve = [r for r in rows if r["metric"] == "episode_return"]
    assert curve and all(float(r["value"]) < 50 for r in curve) and curve[-1]["param_env_steps"]
    assert max(int(r["param_round"]) for r in rows if r["param_round"]) == 23


@pytest.mark.parametrize(
    "options, round_text",
    [
        (
            {"steps_per_round": 10_000},
            f"within {BUDGET_ENV_STEPS['smoke']} env steps: a round takes 40000 (4 rollouts x 10000 steps)",
        ),
        ({"max_env_steps": 1}, "within 1 env steps: a round takes 64 (4 rollouts x 16 steps)"),
    ],
)
def test_a_round_larger_than_the_budget_is_not_run(options: dict[str, int], round_text: str):
    with pytest.raises(TargetNotReached) as info:
        _train(SequentialBackend(), "sync", **options)
    assert f"{round_text}, so none was run (0 env steps done)" in str(info.value)
    assert info.value.measurement.rounds == 0 and not info.value.measurement.series


def test_through_the_cli_a_round_larger_than_the_budget_gives_no_ok_row(tmp_path: Path):
    """Before: an ok row with env_steps_to_return=40000, twice the smoke budget, from one round."""
    out = tmp_path / "over.csv"
    args = ["run", "--suite", "training-return", "--profile", "smoke", "--backends", "sequential",
            "--set", "variant=sync", "--set", "steps_per_round=10000",
            "--out", str(out), "--quiet"]  # fmt: skip
    assert main(args) == 1
    rows = read_rows(out)
    assert rows and {r["status"] for r in rows} == {"error"}
    assert all(r["value"] == "" for r in rows if r["metric"] == "env_steps_to_return")
    assert all("so none was run (0 env steps done)" in r["error"] for r in rows)


def test_options_reach_the_cells_and_equal_points_run_once():
    from harness.cells.plan import build_plan

    cells = build_plan("training-return", "paper", ["sequential"], 1, {"seed": "7", "target": "195"})
    params = [c.params for c in cells]
    assert len(params) == 2 and {p["variant"] for p in params} == {"sync", "pipelined"}
    assert all(p["seed"] == 7 and p["target"] == 195.0 for p in params)  # paper's four seeds: now one


@pytest.mark.parametrize(
    "option, message",
    [
        (["--set", "env_id=Pong-v5"], "no training recipe for env 'Pong-v5'; choose from CartPole-v1"),
        (["--set", "target=-1"], "target=-1 is out of range"),
        (["--set", "grad_steps=many"], "grad_steps='many' is not a whole number"),
        (["--set", "lr=5"], "lr=5 is out of range"),
        (["--set", "variant=async"], "variant 'async'; choose from sync, pipelined"),
        (["--set", "nosuch=1"], "--set nosuch: no workload of suite 'training-return' takes it"),
        (["--set", "target"], "'target' is not NAME=VALUE"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(capsys, tmp_path: Path, option: list[str], message: str):
    out = tmp_path / "never.csv"
    assert main(["run", "--suite", "training-return", *option, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()


def test_a_suite_without_options_rejects_set(capsys):
    assert main(["run", "--suite", "gym", "--set", "target=5"]) == 2
    assert "its workloads take no options" in capsys.readouterr().err
