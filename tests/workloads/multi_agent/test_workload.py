"""Multi-agent workload: env adapters, one policy per agent, identical actions on every backend."""

from __future__ import annotations

import numpy as np
import pytest

from backends.base import BackendOptions
from backends.reactor_backend import ReactorBackend
from backends.sequential import SequentialBackend
from backends.xronos.backend import XronosBackend
from harness.registry import BACKENDS
from workloads.multi_agent.envs import make_multi_agent_env
from workloads.multi_agent.workload import MultiAgent


@pytest.mark.parametrize(("name", "n_agents"), [("simple_spread", 3), ("battle", 12), ("synthetic", 5)])
def test_env_gives_a_joint_observation_of_every_agent(name, n_agents):
    env = make_multi_agent_env(name, n_agents, seed=1)
    obs = env.reset()
    assert obs.shape == (n_agents, env.obs_dim) and obs.dtype == np.float32
    episode_over = False
    for _ in range(120):
        obs, reward, episode_over = env.step([0] * n_agents)
        assert obs.shape == (n_agents, env.obs_dim) and np.isfinite(reward)
        if episode_over:
            break
    assert episode_over  # every env ends its episodes (25, 100 and 50 steps at most)


def test_env_is_deterministic_for_a_seed():
    def trajectory() -> list[float]:
        env = make_multi_agent_env("battle", 4, seed=7)
        env.reset()
        return [env.step([s % 21] * 4)[1] for s in range(30)]

    assert trajectory() == trajectory()


@pytest.mark.parametrize(("name", "n_agents"), [("battle", 10), ("nonesuch", 4)])
def test_impossible_env_is_a_clear_error(name, n_agents):
    with pytest.raises(ValueError, match=r"battle has|unknown multi-agent env"):
        make_multi_agent_env(name, n_agents, seed=0)


def _measure(backend, params):
    workload = MultiAgent()
    workload.start(backend, params)
    try:
        return workload.measure(backend, params, "smoke")
    finally:
        backend.shutdown()


def test_every_backend_takes_the_same_actions_and_splits_the_step_time():
    params = {"env_id": "simple_spread", "n_agents": 4}
    reference = _measure(SequentialBackend(), params)
    others = [ReactorBackend(BackendOptions(threads=threads)) for threads in (1, 2)]
    for backend in [*others, XronosBackend(BackendOptions())]:
        measured = _measure(backend, params)
        assert measured.extra["result_digest"] == reference.extra["result_digest"]
        step = measured.metrics["step_ms"][0]
        parts = measured.metrics["comm_ms"][0] + measured.metrics["compute_ms"][0]
        assert parts == pytest.approx(step)
        assert measured.metrics["env_ms"][0] <= measured.metrics["compute_ms"][0]
    episodes = [at["episode"] for at, metric, _, _ in reference.series if metric == "cumulative_s"]
    assert episodes == [1, 2]  # 50 smoke steps of 25-step episodes, a checkpoint every episode
    totals = [v for _, metric, v, _ in reference.series if metric == "cumulative_s"]
    assert totals == sorted(totals)


def test_quick_profile_runs_ray_at_the_papers_agent_counts_only():
    workload, ray = MultiAgent(), BACKENDS["ray"]
    ray_counts = {
        (p["env_id"], p["n_agents"]) for p in workload.grid("quick") if workload.applies_to(p, ray, "quick")
    }
    assert ("simple_spread", 10) in ray_counts and ("simple_spread", 16) not in ray_counts
    assert all(workload.applies_to(p, ray, "paper") for p in workload.grid("paper"))
    # the rule is Ray's declared capability (a process per worker), not its name
    assert all(workload.applies_to(p, ReactorBackend, "quick") for p in workload.grid("quick"))
