"""Reference backends for environment sampling: what a practitioner would use instead of workers.

``gym-sync-vector`` and ``gym-async-vector`` are Gymnasium's SyncVectorEnv (one process, a loop) and
AsyncVectorEnv (one process per env, pipes and shared memory); ``ale-vector`` is ale-py's
AtariVectorEnv, which steps the emulators on C++ threads and is the practical Atari limit of a
machine. They build the same environments as the workers (``EnvironmentFactory``: env ``i`` seeded
once with ``seed + i`` as ``backends.base.seed_env`` seeds a worker's, actions from its own action
space seeded with ``seed + i``, an episode's end resets it in the same step without a seed) and return
the same per-env summaries (steps counted as they are done, reward sum, and for ``step_observed`` the
fingerprint of every observation), so that with the same seeds their result digest is the workers'.
"""

from __future__ import annotations

import copy
import functools
import os
import re
from typing import Any, ClassVar

import numpy as np

from .base import (
    PROCESSES,
    STEP,
    STEP_OBSERVED,
    Backend,
    BackendUnavailable,
    EnvironmentFactory,
    OperationNotSupported,
    WorkerFactory,
    ale_seed,
    make_env,
    missing_package,
    observation_fingerprint,
)


class _VectorBackend(Backend):
    """Steps ``n`` environments as one vector env; has no general-purpose workers."""

    operations = frozenset({"vector_env"})
    requires: ClassVar[tuple[str, str]] = ("gymnasium", "gymnasium>=1.1")

    @classmethod
    def availability(cls) -> str | None:
        return missing_package(*cls.requires)

    def start(self, factory: WorkerFactory, n_workers: int) -> None:
        if not isinstance(factory, EnvironmentFactory):
            raise OperationNotSupported(f"{self.name} only steps environments")
        self.n_workers = n_workers
        self._env = self._build(factory, n_workers)
        seeds = [factory.seed + i for i in range(n_workers)]
        self._env.reset(seed=self._seed_argument(seeds))
        self._spaces = []
        for seed in seeds:
            space = copy.deepcopy(self._env.single_action_space)
            space.seed(seed)
            self._spaces.append(space)

    def _build(self, factory: EnvironmentFactory, n: int) -> Any:
        raise NotImplementedError

    def _seed_argument(self, seeds: list[int]) -> Any:
        return seeds

    def call_all(self, method: str, arg: Any = None) -> list[Any]:
        raise OperationNotSupported(f"{self.name} only steps environments")

    def step_environments(self, steps: int, method: str = STEP) -> list[Any]:
        if method not in (STEP, STEP_OBSERVED):
            raise OperationNotSupported(f"{self.name} steps environments only ({STEP}, {STEP_OBSERVED})")
        observe = method == STEP_OBSERVED
        if observe:  # never in a timed round; gymnasium is optional, so imported where it is used
            from gymnasium.vector.utils import iterate
        env, spaces = self._env, self._spaces
        totals = np.zeros(self.n_workers)
        seen = [0] * self.n_workers
        done = 0
        for done in range(1, steps + 1):  # noqa: B007 -- read after the loop: the steps each env did
            actions = np.array([space.sample() for space in spaces])
            observations, rewards, _, _, _ = env.step(actions)
            totals += rewards
            if observe:
                for i, observation in enumerate(iterate(env.observation_space, observations)):
                    seen[i] = observation_fingerprint(observation, seen[i])
        if observe:
            return [(done, float(total), seen[i]) for i, total in enumerate(totals)]
        return [(done, float(total)) for total in totals]

    def shutdown(self) -> None:
        env = getattr(self, "_env", None)
        if env is not None:
            self._env = None
            env.close()


class GymSyncVector(_VectorBackend):
    name = "gym-sync-vector"
    plot_style = ("tab:olive", "P")
    env_family = "gym"
    description = "Gymnasium SyncVectorEnv: all envs stepped in a loop in the driver (reference)"

    def _build(self, factory: EnvironmentFactory, n: int) -> Any:
        import gymnasium

        fns = [functools.partial(make_env, factory.env_id) for _ in range(n)]
        return gymnasium.vector.SyncVectorEnv(fns, autoreset_mode=gymnasium.vector.AutoresetMode.SAME_STEP)


class GymAsyncVector(_VectorBackend):
    name = "gym-async-vector"
    plot_style = ("tab:brown", "X")
    env_family = "gym"
    placement = PROCESSES
    process_per_worker = True
    paper_profile_only = True
    """A process per env: about 5k steps/s here and slow to start; SyncVectorEnv is the quick
    profile's Gym reference, to keep the quick `all` under 20 minutes."""
    description = "Gymnasium AsyncVectorEnv: one process per env, shared-memory observations (reference)"

    def _build(self, factory: EnvironmentFactory, n: int) -> Any:
        import gymnasium

        fns = [functools.partial(make_env, factory.env_id) for _ in range(n)]
        return gymnasium.vector.AsyncVectorEnv(
            fns, autoreset_mode=gymnasium.vector.AutoresetMode.SAME_STEP, context="spawn"
        )

    def describe(self) -> dict[str, Any]:
        return {"threads": 1, "processes": self.n_workers}


def ale_game(env_id: str) -> str:
    """``ALE/MsPacman-v5`` -> ``ms_pacman`` (AtariVectorEnv's ROM name)."""
    match = re.fullmatch(r"ALE/([A-Za-z0-9]+)-v5", env_id)
    if match is None:
        raise BackendUnavailable(f"ale-vector runs ALE v5 ids only, not {env_id!r}")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", match.group(1)).lower()


class AleVector(_VectorBackend):
    name = "ale-vector"
    plot_style = ("tab:purple", "*")
    env_family = "atari"
    description = "ale-py AtariVectorEnv: emulators stepped on C++ threads, raw 210x160x3 frames (reference)"
    requires = ("ale_py", "ale-py==0.12.*")

    def _build(self, factory: EnvironmentFactory, n: int) -> Any:
        from ale_py.vector_env import AtariVectorEnv

        self._threads = self.options.threads or os.cpu_count() or 1
        # The settings of gymnasium.make("ALE/...-v5"): frameskip 4, sticky actions 0.25, raw RGB
        # frames, no preprocessing, reset without no-ops or FIRE, unclipped rewards.
        return AtariVectorEnv(
            game=ale_game(factory.env_id),
            num_envs=n,
            num_threads=self._threads,
            repeat_action_probability=0.25,
            img_height=210,
            img_width=160,
            grayscale=False,
            stack_num=1,
            frameskip=4,
            maxpool=False,
            noop_max=0,
            episodic_life=False,
            reward_clipping=False,
            use_fire_reset=False,
            autoreset_mode="SameStep",
        )

    def _seed_argument(self, seeds: list[int]) -> Any:
        # one seed per env, each handed to its emulator as is (seed_env seeds a worker's alike); a list
        # is rejected
        return np.asarray([ale_seed(seed) for seed in seeds], dtype=np.int64)

    def describe(self) -> dict[str, Any]:
        return {"threads": getattr(self, "_threads", None)}
