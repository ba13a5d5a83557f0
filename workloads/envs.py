"""Environment workers: one Gymnasium (or ALE) environment each, built inside the backend's worker.

Seeded once at construction (DESIGN.md §6.5: a seeded ALE reset reloads the ROM, about 100 ms, so it
never happens inside a measured loop), random actions from the env's own seeded action space, and an
unseeded reset at the end of every episode, on every backend. ``seeded_reset`` reproduces the paper's
Ray Atari baseline, which reset with a seed on every step, to measure what that cost.
"""

from __future__ import annotations

import functools
from typing import Any

from backends.base import EnvironmentFactory, make_env, observation_fingerprint, seed_env

SEED = 2024


class EnvWorker:
    """Owns one environment. ``step(k)`` returns (env steps done, reward collected), the steps counted
    as they are done; ``step_observed(k)`` adds a fingerprint of every observation it saw."""

    def __init__(self, env_id: str, seed: int, seeded_reset: bool, index: int):
        self.env = make_env(env_id)
        self.seed = seed + index
        seed_env(self.env, self.seed)
        self.env.action_space.seed(self.seed)
        self.seeded_reset = seeded_reset
        self.episodes = 0

    def step(self, steps: int) -> tuple[int, float]:
        done, total, _ = self._run(steps, observe=False)
        return done, total

    def step_observed(self, steps: int) -> tuple[int, float, int]:
        return self._run(steps, observe=True)

    def _run(self, steps: int, observe: bool) -> tuple[int, float, int]:
        """One loop for both methods, so that the warm-up rounds (observed) warm the timed ones' code."""
        env = self.env
        sample = env.action_space.sample
        total = 0.0
        seen = done = 0
        obs: Any
        for done in range(1, steps + 1):  # noqa: B007 -- read after the loop: the steps it did
            obs, reward, terminated, truncated, _ = env.step(sample())
            total += float(reward)
            if self.seeded_reset:
                obs = seed_env(env, self.seed)
            elif terminated or truncated:
                obs, _ = env.reset()
                self.episodes += 1
            if observe:
                seen = observation_fingerprint(obs, seen)
        return done, total, seen


def _build(env_id: str, seed: int, seeded_reset: bool, index: int) -> EnvWorker:
    return EnvWorker(env_id, seed, seeded_reset, index)


def env_factory(env_id: str, seeded_reset: bool = False, seed: int = SEED) -> EnvironmentFactory:
    return EnvironmentFactory(env_id, seed, functools.partial(_build, env_id, seed, seeded_reset))
