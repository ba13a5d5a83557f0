"""Scaling the number of agents in multi-agent RL inference, and communication overhead vs episodes.

The paper's structure: one policy worker per agent (a small seeded numpy MLP each). Every step the
driver sends the joint observation to every agent worker, gathers their actions in agent order and
steps the environment it owns. Per step we time the whole step, the environment, and each agent's
own inference (measured inside the worker). ``compute_ms`` is the critical path -- the environment
plus the slowest agent, what an ideal parallel runtime with free messages would take -- and
``comm_ms`` is the rest: messaging, scheduling and any parallelism the backend could not use.
Cumulative totals are recorded every E episodes, which is the paper's "communication overhead vs
episodes" figure. The actions of a fixed prefix of steps are digested and compared across backends;
the agent steps are counted by the agents themselves (each counts its inferences, read after the
measured steps) and compared as the cell's work.
"""

from __future__ import annotations

import functools
import hashlib
import time
from typing import Any, ClassVar

import numpy as np

from backends.base import Backend, WorkerFactory
from workloads.base import Measurement, Objective, Parameter, Params, Workload, work_per_round
from workloads.multi_agent.envs import BATTLE_MAP_SIZES, make_multi_agent_env
from workloads.training import qnet

SEED = 2024
HIDDEN = 64
AGENT_COUNTS = {
    "simple_spread": {"smoke": (2,), "quick": (2, 4, 8, 10, 16), "paper": (2, 4, 8, 10, 16)},
    "battle": {"smoke": (4,), "quick": (4, 12, 24, 128), "paper": tuple(sorted(BATTLE_MAP_SIZES))},
    "synthetic": {"smoke": (4,), "quick": (4, 10, 64), "paper": (4, 10, 16, 64, 128)},
}
RAY_AGENT_COUNTS_QUICK = {"simple_spread": (4, 10), "battle": (4, 12), "synthetic": (4, 10)}
"""In the quick profile a backend with a process per worker (Ray) runs the paper's two agent counts
only (battle has no 10: 12), since each such cell costs 10-60 s of actor start-up on 2 cores and `all`
must stay within 20 minutes; the paper profile runs every count on every backend."""
AGENT_BYTES = 2 * 2**20
"""Memory of one agent's policy worker, besides the backend's per-worker overhead."""
STEPS = {"smoke": (5, 50, 1), "quick": (25, 250, 1), "paper": (250, 100_000, 400)}
"""(warm-up steps, measured steps, E: episodes between cumulative checkpoints) per profile. The paper
ran 100,000 steps."""
DIGEST_STEPS = 50


class AgentPolicy:
    """One agent's policy: greedy actions of a seeded MLP over the agent's own row of the joint obs."""

    def __init__(self, obs_dim: int, n_actions: int, index: int):
        self.index = index
        weights = qnet.init_params(obs_dim, n_actions, HIDDEN, SEED + index)
        self.params = {name: array.astype(np.float32) for name, array in weights.items()}
        self.acted = 0

    def act(self, joint_obs: np.ndarray) -> tuple[int, float]:
        """(action, seconds of inference) -- the time lets the harness split compute from communication."""
        started = time.perf_counter()
        action = int(np.argmax(qnet.q_values(self.params, joint_obs[self.index])))
        self.acted += 1
        return action, time.perf_counter() - started

    def agent_steps(self, _: object = None) -> int:
        """How many times this agent has acted: its share of the cell's work, counted where it is done."""
        return self.acted


def _policy(obs_dim: int, n_actions: int, index: int) -> AgentPolicy:
    return AgentPolicy(obs_dim, n_actions, index)


class MultiAgent(Workload):
    parameters = (
        Parameter("env_id", str, "the multi-agent environment"),
        Parameter("n_agents", int, "agents, one worker each"),
        Parameter("episode", int, "the episode count a cumulative-time point was taken at"),
    )
    name = "multi-agent"
    objectives = (Objective("step_ms"), Objective("agent_steps_per_s", higher_is_better=True))
    gated = True
    figure_module = "harness.figures.multi_agent"
    report_module = "harness.report.multi_agent"
    report_order = 30
    suite = "multi-agent"
    description = "one policy worker per agent; joint observation to all, actions gathered, env stepped"
    repeats: ClassVar[dict[str, int]] = {"smoke": 1, "quick": 2, "paper": 5}
    metrics = (
        ("agent_steps_per_s", "agent-steps/s"),
        ("step_ms", "ms"),
        ("comm_ms", "ms"),
        ("compute_ms", "ms"),
        ("env_ms", "ms"),
    )

    def grid(self, profile: str) -> list[Params]:
        envs = list(AGENT_COUNTS)[:1] if profile == "smoke" else list(AGENT_COUNTS)
        return [{"env_id": env, "n_agents": n} for env in envs for n in AGENT_COUNTS[env][profile]]

    def applies_to(self, params: Params, backend: type[Backend], profile: str) -> bool:
        if backend.process_per_worker and profile == "quick":
            return int(params["n_agents"]) in RAY_AGENT_COUNTS_QUICK[params["env_id"]]
        return True

    def is_headline(self, params: Params) -> bool:
        # the paper's claim (10 agents), and the synthetic control, which needs no pygame-ce: the only
        # multi-agent point a free-threaded interpreter can run
        return params["env_id"] in ("simple_spread", "synthetic") and int(params["n_agents"]) == 10

    def n_workers(self, params: Params) -> int:
        return int(params["n_agents"])

    def factory(self, params: Params) -> WorkerFactory:
        env = make_multi_agent_env(params["env_id"], int(params["n_agents"]), SEED)
        return functools.partial(_policy, env.obs_dim, env.n_actions)

    def peak_memory_bytes(self, params: Params, backend: type[Backend]) -> int:
        return int(params["n_agents"]) * (AGENT_BYTES + backend.worker_memory_bytes)

    def measure(self, backend: Backend, params: Params, profile: str) -> Measurement:
        n = int(params["n_agents"])
        warmup, steps, every = STEPS[profile]
        env = make_multi_agent_env(params["env_id"], n, SEED)
        digest = hashlib.sha1()
        obs = env.reset()
        for _ in range(warmup):
            obs, _, _ = env.step(_actions(backend.call_all("act", obs), n, digest))
        warmup_agent_steps = sum(backend.call_all("agent_steps"))  # untimed, as the count at the end
        # The env keeps its episode going; checkpoints count episodes that end inside the window.
        total = env_s = compute_s = 0.0
        episodes = 0
        m = Measurement(rounds=steps, warmup=warmup)
        for step in range(steps):
            started = time.perf_counter()
            replies = backend.call_all("act", obs)
            gathered = time.perf_counter()
            obs, _, over = env.step(_actions(replies, n, digest if step < DIGEST_STEPS else None))
            stepped = time.perf_counter()
            total += stepped - started
            env_s += stepped - gathered
            compute_s += (stepped - gathered) + max(seconds for _, seconds in replies)
            if over:
                episodes += 1
                if episodes % every == 0:
                    at = {"episode": episodes}
                    m.add_point(at, "cumulative_s", total, "s")
                    m.add_point(at, "cumulative_comm_s", total - compute_s, "s")
                    m.add_point(at, "cumulative_compute_s", compute_s, "s")
        agent_steps = sum(backend.call_all("agent_steps"))
        m.work = work_per_round(agent_steps, warmup + steps)
        m.add("agent_steps_per_s", (agent_steps - warmup_agent_steps) / total, "agent-steps/s")
        m.add("step_ms", total / steps * 1e3, "ms")
        m.add("comm_ms", (total - compute_s) / steps * 1e3, "ms")
        m.add("compute_ms", compute_s / steps * 1e3, "ms")
        m.add("env_ms", env_s / steps * 1e3, "ms")
        m.extra["result_digest"] = digest.hexdigest()[:16]
        return m


def _actions(replies: list[tuple[int, float]], n: int, digest: Any) -> list[int]:
    if len(replies) != n:
        raise RuntimeError(f"expected {n} actions, got {len(replies)}")
    actions = [action for action, _ in replies]
    if digest is not None:
        digest.update(bytes(actions))
    return actions
