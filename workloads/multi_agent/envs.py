"""Multi-agent environments behind one small interface: a joint observation array in, joint actions out.

The driver owns the environment; the agents' policies live in the backend's workers. ``reset`` and
``step`` return the joint observation as one ``(n_agents, obs_dim)`` float32 array (a dead agent's
row is zeros), which is exactly what the driver sends to every agent each step.

- ``simple_spread``: PettingZoo MPE's cooperative navigation (package ``mpe2``), N agents, 25-step
  episodes; its cost grows as N^2 (about 4.5 ms per step at N = 16 here).
- ``battle``: MAgent2's battle_v4, two teams on a grid sized (``map_size``) to give N agents; a C++
  engine at about 2 us per agent-step, so it stresses the runtime rather than the env.
- ``synthetic``: a control with a fixed, deterministic numpy cost per agent and 50-step episodes.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

ENV_NAMES = ("simple_spread", "battle", "synthetic")
BATTLE_MAP_SIZES = {4: 12, 6: 15, 12: 18, 24: 20, 40: 25, 60: 30, 128: 40, 162: 45}
"""battle_v4 places agents by map size: these sizes give exactly these agent counts."""
BATTLE_MAX_CYCLES = 100
SPREAD_MAX_CYCLES = 25
SYNTHETIC_OBS = 16
SYNTHETIC_EPISODE = 50
SYNTHETIC_REPEATS = 8
"""Matrix-vector products per agent per step: about 20 us of driver work per agent."""


class ParallelEnvAdapter:
    """A PettingZoo parallel env with a fixed agent order (``possible_agents``)."""

    def __init__(self, env: Any, seed: int):
        self.env = env
        self.agents = list(env.possible_agents)
        self.n_agents = len(self.agents)
        self.obs_dim = int(np.prod(env.observation_space(self.agents[0]).shape))
        self.n_actions = int(env.action_space(self.agents[0]).n)
        self._seed: int | None = seed

    def reset(self) -> np.ndarray:
        seed, self._seed = self._seed, None  # seeded once; later episodes continue the env's RNG
        observations, _ = self.env.reset(seed=seed)
        return self._joint(observations)

    def _joint(self, observations: dict[str, Any]) -> np.ndarray:
        joint = np.zeros((self.n_agents, self.obs_dim), dtype=np.float32)
        for row, agent in enumerate(self.agents):
            if agent in observations:
                joint[row] = np.asarray(observations[agent], dtype=np.float32).ravel()
        return joint

    def step(self, actions: list[int]) -> tuple[np.ndarray, float, bool]:
        """Applies the live agents' actions; returns (joint obs, reward sum, episode over)."""
        live = set(self.env.agents)
        chosen = {agent: actions[row] for row, agent in enumerate(self.agents) if agent in live}
        observations, rewards, terminated, truncated, _ = self.env.step(chosen)
        over = not self.env.agents or all(terminated.get(a) or truncated.get(a) for a in chosen)
        reward = float(sum(rewards.values()))
        if over:
            return self.reset(), reward, True
        return self._joint(observations), reward, False


class SyntheticEnv:
    """N agents, each a 16-dimensional state updated by fixed matrix products: a known cost per agent."""

    def __init__(self, n_agents: int, seed: int):
        rng = np.random.default_rng(seed)
        self.n_agents, self.obs_dim, self.n_actions = n_agents, SYNTHETIC_OBS, 5
        self.dynamics = (rng.normal(0.0, 1.0, (SYNTHETIC_OBS, SYNTHETIC_OBS)) / 4.0).astype(np.float32)
        self.action_effect = rng.normal(0.0, 1.0, (5, SYNTHETIC_OBS)).astype(np.float32)
        self.start = rng.normal(0.0, 1.0, (n_agents, SYNTHETIC_OBS)).astype(np.float32)
        self.state = self.start.copy()
        self.t = 0

    def reset(self) -> np.ndarray:
        self.state = self.start.copy()
        self.t = 0
        return self.state.copy()

    def step(self, actions: list[int]) -> tuple[np.ndarray, float, bool]:
        for agent, action in enumerate(actions):
            x = self.state[agent] + self.action_effect[action]
            for _ in range(SYNTHETIC_REPEATS):
                x = np.tanh(self.dynamics @ x)
            self.state[agent] = x
        self.t += 1
        reward = -float(np.abs(self.state).sum())
        if self.t >= SYNTHETIC_EPISODE:
            return self.reset(), reward, True
        return self.state.copy(), reward, False


def make_multi_agent_env(name: str, n_agents: int, seed: int) -> ParallelEnvAdapter | SyntheticEnv:
    """The named environment with exactly ``n_agents`` agents (ValueError when it cannot have them)."""
    if name == "simple_spread":
        from mpe2 import simple_spread_v3

        env = simple_spread_v3.parallel_env(
            N=n_agents, max_cycles=SPREAD_MAX_CYCLES, continuous_actions=False
        )
        return ParallelEnvAdapter(env, seed)
    if name == "battle":
        if n_agents not in BATTLE_MAP_SIZES:
            raise ValueError(f"battle has {sorted(BATTLE_MAP_SIZES)} agents, not {n_agents}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from magent2.environments import battle_v4

            env = battle_v4.parallel_env(map_size=BATTLE_MAP_SIZES[n_agents], max_cycles=BATTLE_MAX_CYCLES)
        adapter = ParallelEnvAdapter(env, seed)
        if adapter.n_agents != n_agents:
            raise ValueError(f"battle map {BATTLE_MAP_SIZES[n_agents]} gave {adapter.n_agents} agents")
        return adapter
    if name == "synthetic":
        return SyntheticEnv(n_agents, seed)
    raise ValueError(f"unknown multi-agent env {name!r}; choose from {', '.join(ENV_NAMES)}")
