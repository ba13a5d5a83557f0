"""Environment workers: one Gymnasium (or ALE) environment each, built inside the backend's worker.

Seeded once at construction (DESIGN.md §6.5: a seeded ALE reset reloads the ROM, about 100 ms, so it
never happens inside a measured loop), random actions from the env's own seeded action space, and an
unseeded reset at the end of every episode, on every backend. ``seeded_reset`` reproduces the paper's
Ray Atari baseline, which reset with a seed on every step, to measure what that cost.
"""

from __future__ import annotations

import functools

from backends.base import EnvironmentFactory
from backends.gym_envs import make_env

SEED = 2024


class EnvWorker:
    """Owns one environment; ``step(k)`` returns (env steps taken, reward collected)."""

    def __init__(self, env_id: str, seed: int, seeded_reset: bool, index: int):
        self.env = make_env(env_id)
        self.seed = seed + index
        self.env.reset(seed=self.seed)
        self.env.action_space.seed(self.seed)
        self.seeded_reset = seeded_reset
        self.episodes = 0

    def step(self, steps: int) -> tuple[int, float]:
        env = self.env
        sample = env.action_space.sample
        total = 0.0
        for _ in range(steps):
            _, reward, terminated, truncated, _ = env.step(sample())
            total += float(reward)
            if self.seeded_reset:
                env.reset(seed=self.seed)
            elif terminated or truncated:
                env.reset()
                self.episodes += 1
        return steps, total


def _build(env_id: str, seed: int, seeded_reset: bool, index: int) -> EnvWorker:
    return EnvWorker(env_id, seed, seeded_reset, index)


def env_factory(env_id: str, seeded_reset: bool = False, seed: int = SEED) -> EnvironmentFactory:
    return EnvironmentFactory(env_id, seed, functools.partial(_build, env_id, seed, seeded_reset))
