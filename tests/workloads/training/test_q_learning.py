"""The training pipeline: real gradients, a bounded replay, the round's dataflow, bit-identical weights."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from backends.base import BackendOptions, PipelineSpec
from backends.ray.backend import RayBackend
from backends.reactor_backend import ReactorBackend
from backends.sequential import SequentialBackend
from backends.xronos.backend import XronosBackend
from workloads.training import pipeline_workers as pw
from workloads.training import qnet
from workloads.training.q_learning import pipeline_spec


def _batch(rng: np.random.Generator, n: int = 32, obs_dim: int = 4) -> tuple[np.ndarray, ...]:
    return (
        rng.normal(size=(n, obs_dim)),
        rng.integers(0, 2, n),
        rng.normal(size=n),
        rng.normal(size=(n, obs_dim)),
        (rng.random(n) < 0.2).astype(float),
    )


def test_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    params = qnet.init_params(4, 2, 8, seed=1)
    target = qnet.init_params(4, 2, 8, seed=2)
    batch = _batch(rng)
    _, grads = qnet.td_loss_and_grads(params, target, *batch, gamma=0.9)
    for name in qnet.PARAM_NAMES:
        for index in [(0,) * params[name].ndim, tuple(s - 1 for s in params[name].shape)]:
            shifted = {k: v.copy() for k, v in params.items()}
            shifted[name][index] += 1e-6
            up, _ = qnet.td_loss_and_grads(shifted, target, *batch, gamma=0.9)
            shifted[name][index] -= 2e-6
            down, _ = qnet.td_loss_and_grads(shifted, target, *batch, gamma=0.9)
            assert grads[name][index] == pytest.approx((up - down) / 2e-6, rel=1e-4, abs=1e-8)


def test_adam_steps_reduce_the_loss_on_a_fixed_batch():
    rng = np.random.default_rng(3)
    params = qnet.init_params(4, 2, 16, seed=4)
    target = dict(params)
    batch = _batch(rng)
    optimizer = qnet.Adam(params, lr=1e-2)
    first, _ = qnet.td_loss_and_grads(params, target, *batch, gamma=0.9)
    for _ in range(50):
        _, grads = qnet.td_loss_and_grads(params, target, *batch, gamma=0.9)
        params = optimizer.step(params, grads)
    last, _ = qnet.td_loss_and_grads(params, target, *batch, gamma=0.9)
    assert last < 0.5 * first


def test_replay_is_bounded_and_keeps_the_newest_transitions():
    replay = pw.ReplayBuffer(obs_dim=1, capacity=5, minibatch=4, seed=0)

    def batch(start: int) -> pw.Batch:
        values = np.arange(start, start + 3, dtype=float)
        return pw.Batch(values[:, None], np.zeros(3, int), values, values[:, None], np.zeros(3), [], 0.0)

    replay.store_and_sample([batch(0), batch(3)])
    minibatch = replay.store_and_sample([batch(6)])
    assert replay.size == 5
    assert sorted(replay.rewards) == [4.0, 5.0, 6.0, 7.0, 8.0]  # the oldest four were overwritten
    assert set(minibatch.rewards) <= {4.0, 5.0, 6.0, 7.0, 8.0} and len(minibatch.rewards) == 4


class _SpyRollout:
    """Records which weights it was given; returns its index so the order of batches is visible."""

    def __init__(self, index: int):
        self.index = index
        self.seen: list[Any] = []

    def collect(self, weights: Any) -> tuple[int, Any]:
        self.seen.append(weights)
        return self.index, weights


class _SpyReplay:
    def store_and_sample(self, batches: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
        return batches


class _CountingLearner:
    def __init__(self) -> None:
        self.round = 0

    def update(self, batches: list[tuple[int, Any]]) -> tuple[int, list[tuple[int, Any]]]:
        self.round += 1
        return self.round, batches


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("backend_cls", [SequentialBackend, ReactorBackend, XronosBackend])
def test_round_r_collects_with_the_weights_of_round_r_minus_1(backend_cls, threads):
    backend = backend_cls(BackendOptions(threads=threads))
    backend.start_pipeline(PipelineSpec(_SpyRollout, 3, _SpyReplay, _CountingLearner))
    try:
        reports = [backend.pipeline_round() for _ in range(4)]
    finally:
        backend.shutdown()
    expected_weights = [None, 1, 2, 3]
    for round_index, report in enumerate(reports):
        assert report == [(i, expected_weights[round_index]) for i in range(3)]


def _final_digest(backend: Any, rounds: int) -> str:
    backend.start_pipeline(pipeline_spec("CartPole-v1", 3, 64))
    try:
        return [backend.pipeline_round() for _ in range(rounds)][-1].weights_digest
    finally:
        backend.shutdown()


def test_reactor_weights_are_bit_identical_to_sequential_for_any_worker_count():
    expected = _final_digest(SequentialBackend(), rounds=6)
    for threads in (1, 2, 4):
        assert _final_digest(ReactorBackend(BackendOptions(threads=threads)), rounds=6) == expected
    assert _final_digest(XronosBackend(BackendOptions()), rounds=6) == expected


@pytest.mark.slow
def test_ray_pipeline_gives_the_same_weights():
    expected = _final_digest(SequentialBackend(), rounds=4)
    assert _final_digest(RayBackend(BackendOptions()), rounds=4) == expected


@pytest.mark.slow
def test_q_learning_learns_cartpole():
    backend = SequentialBackend()
    backend.start_pipeline(pipeline_spec("CartPole-v1", 16, 500))
    reports = [backend.pipeline_round() for _ in range(300)]

    def mean_return(chunk: list[pw.RoundReport]) -> float:
        returns = [r for report in chunk for r in report.episode_returns]
        return sum(returns) / len(returns)

    assert mean_return(reports[-50:]) > 3 * mean_return(reports[:50])
    assert np.mean([r.loss for r in reports[-50:]]) < np.mean([r.loss for r in reports[:50]])
