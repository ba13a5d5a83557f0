"""Environment sampling rate: the paper's Gym and Atari figures (suites ``gym`` and ``atari``).

N workers each own one environment; a round steps every environment K times with random actions and
gathers (steps, reward) from each. K = 1 is the paper's synchronous setting, where communication
dominates; a larger K batches work per message. The env steps the workers report they did, per round,
are the cell's work, checked equal across backends. The result digest covers what varies with the
seeds and the worker order: the fingerprint of every observation each env saw in the warm-up rounds
(untimed: they call ``step_observed``) and the reward sums of the warm-up and the first measured
rounds, in worker order; every backend, the vector references included, must get the same one (same
seeds, same actions, same observations and rewards). Reward sums alone were a constant at smoke sizes
(CartPole pays 1 every step, Pong 0 for its first hundreds).
"""

from __future__ import annotations

import hashlib
import time
from typing import ClassVar

from backends.base import STEP, STEP_OBSERVED, Backend, WorkerFactory

from .base import Measurement, Objective, Parameter, Params, Workload, work_per_round
from .envs import env_factory

GYM_ENVS = ("CartPole-v1", "Blackjack-v1", "Pendulum-v1")
ATARI_ENVS = ("ALE/Pong-v5", "ALE/MsPacman-v5", "ALE/SpaceInvaders-v5")
N_ENVS = 15
ATARI_FRAMESKIP = 4
"""The v5 ALE envs repeat each action for 4 frames: frames/s = 4 x steps/s (DESIGN.md §6.9)."""

ENV_BYTES = 30 * 2**20
"""Memory of one environment worker (the env, its spaces, its module imports), besides the backend's
own per-worker overhead (``Backend.worker_memory_bytes``)."""
SEEDED_RESET_BACKENDS = ("ray",)
"""The paper's Ray Atari baseline reset with a seed on every step; we measure that on Ray only."""


class _Sampling(Workload):
    parameters = (
        Parameter("env_id", str, "the environment stepped"),
        Parameter("n_envs", int, "environments, one per worker"),
        Parameter("steps_per_round", int, "env steps each worker does per call (K)"),
        Parameter("variant", str, "plain, or a variant of the sampling loop"),
    )
    """Shared body of the Gym and Atari sampling workloads."""

    operations = frozenset({"call_all", "vector_env"})
    objectives = (Objective("steps_per_s", higher_is_better=True),)
    gated = True
    figure_module = "harness.figures.sampling"
    report_module = "harness.report.sampling"
    repeats: ClassVar[dict[str, int]] = {"smoke": 1, "quick": 2, "paper": 10}
    """Two quick repeats: a Ray cell of 15 actors costs about 13 s, and `all` must stay under 20 min."""
    env_ids: ClassVar[tuple[str, ...]]
    batched_steps: ClassVar[int]
    rounds: ClassVar[dict[str, tuple[int, int, int, float]]]
    """profile -> (warm-up rounds, minimum measured rounds, maximum measured rounds, minimum seconds)."""

    def grid(self, profile: str) -> list[Params]:
        env_ids = self.env_ids[:1] if profile == "smoke" else self.env_ids
        n_envs = 2 if profile == "smoke" else N_ENVS
        points = [{"env_id": e, "n_envs": n_envs, "steps_per_round": 1, "variant": "plain"} for e in env_ids]
        if profile != "smoke":
            # Batched rounds are not in the paper: the quick profile shows them for the first env only.
            batched = env_ids if profile == "paper" else env_ids[:1]
            points += [
                {"env_id": e, "n_envs": n_envs, "steps_per_round": self.batched_steps, "variant": "plain"}
                for e in batched
            ]
        return points + self.extra_points(env_ids, n_envs, profile)

    def extra_points(self, env_ids: tuple[str, ...], n_envs: int, profile: str) -> list[Params]:
        return []

    def applies_to(self, params: Params, backend: type[Backend], profile: str) -> bool:
        if params["variant"] == "seeded-reset":
            return backend.name in SEEDED_RESET_BACKENDS
        # a vector-env reference runs as the reference of its own family of environments only
        return backend.env_family in (None, self.suite)

    def is_headline(self, params: Params) -> bool:
        # K=1: the paper's comparison (the runtime's cost per step); the first env's larger K: where the
        # workers have parallel work, which is what threads without the GIL are for
        return params["env_id"] == self.env_ids[0] and params["variant"] == "plain"

    def n_workers(self, params: Params) -> int:
        return int(params["n_envs"])

    def factory(self, params: Params) -> WorkerFactory:
        return env_factory(params["env_id"], seeded_reset=params["variant"] == "seeded-reset")

    def peak_memory_bytes(self, params: Params, backend: type[Backend]) -> int:
        return int(params["n_envs"]) * (ENV_BYTES + backend.worker_memory_bytes)

    def measure(self, backend: Backend, params: Params, profile: str) -> Measurement:
        k, n = int(params["steps_per_round"]), int(params["n_envs"])
        warmup, min_rounds, max_rounds, min_seconds = self.rounds[profile]
        digest = hashlib.sha1()
        warmup_steps = timed_steps = 0
        for _ in range(warmup):
            results = _checked(backend.step_environments(k, STEP_OBSERVED), n, 3)
            _digest_round(digest, results)
            warmup_steps += sum(done for done, *_ in results)
        rounds = 0
        elapsed = 0.0
        while rounds < min_rounds or (elapsed < min_seconds and rounds < max_rounds):
            started = time.perf_counter()
            results = backend.step_environments(k, STEP)
            elapsed += time.perf_counter() - started
            timed_steps += sum(done for done, _ in _checked(results, n, 2))
            if rounds < min_rounds:
                _digest_round(digest, results)
            rounds += 1
        work = work_per_round(warmup_steps + timed_steps, warmup + rounds)
        m = Measurement(work=work, rounds=rounds, warmup=warmup)
        steps_per_s = timed_steps / elapsed
        m.add("steps_per_s", steps_per_s, "steps/s")
        m.add("round_ms", elapsed / rounds * 1e3, "ms")
        if self.suite == "atari":
            m.add("frames_per_s", steps_per_s * ATARI_FRAMESKIP, "frames/s")
        m.extra["result_digest"] = digest.hexdigest()[:16]
        return m


def _checked(results: list[tuple], n: int, size: int) -> list[tuple]:
    """The round's summaries, one per env of ``size`` fields each; how many steps each did is not
    judged here: it is the work that the equal-work check compares across backends."""
    if len(results) != n or any(len(result) != size for result in results):
        raise RuntimeError(f"expected {n} summaries of {size} fields, got {results!r:.200}")
    return results


def _digest_round(digest: hashlib._Hash, results: list[tuple]) -> None:
    """A round's reward sums (and fingerprints, where observed), in worker order."""
    digest.update(repr([(round(reward, 9), *rest) for _, reward, *rest in results]).encode())


class GymSampling(_Sampling):
    name = "gym"
    suite = "gym"
    report_order = 20
    description = "15 Gym envs (one per worker), K random steps per round; steps/s"
    metrics = (("steps_per_s", "steps/s"), ("round_ms", "ms"))
    env_ids = GYM_ENVS
    batched_steps = 100
    rounds: ClassVar[dict[str, tuple[int, int, int, float]]] = {
        "smoke": (2, 5, 5, 0.0),
        "quick": (3, 3, 20_000, 0.3),
        "paper": (100, 10_000, 10_000, 0.0),
    }


class AtariSampling(_Sampling):
    name = "atari"
    suite = "atari"
    report_order = 21
    description = "15 Atari envs (ALE v5, bundled ROMs), K random steps per round; steps/s and frames/s"
    metrics = (("steps_per_s", "steps/s"), ("round_ms", "ms"), ("frames_per_s", "frames/s"))
    env_ids = ATARI_ENVS
    batched_steps = 10
    rounds: ClassVar[dict[str, tuple[int, int, int, float]]] = {
        "smoke": (1, 3, 3, 0.0),
        "quick": (2, 3, 2_000, 0.3),
        "paper": (10, 1_000, 1_000, 0.0),
    }

    def is_headline(self, params: Params) -> bool:
        # K=1 only: ale-py has no free-threaded wheel, so a larger K would buy no comparison (time)
        return super().is_headline(params) and params["steps_per_round"] == 1

    def extra_points(self, env_ids: tuple[str, ...], n_envs: int, profile: str) -> list[Params]:
        if profile == "smoke":
            return []
        seeded = env_ids if profile == "paper" else env_ids[:1]  # Pong only in quick (time)
        return [
            {"env_id": e, "n_envs": n_envs, "steps_per_round": 1, "variant": "seeded-reset"} for e in seeded
        ]
