"""Synchronized parallel Q-learning: the paper's training figure and the seed's dataflow graph.

N rollout workers each collect 100 steps per round with the current weights, a bounded replay buffer
(5000 transitions) stores them in worker order and samples a minibatch with a seeded generator, the
learner does one Adam step of Q-learning and its weights go back to the rollouts. Every backend runs
exactly this graph (``Backend.start_pipeline``), so with the same seed every backend must end with
bit-identical weights: their digest is the cell's ``result_digest``, compared across backends, and
the env steps the replay stored and the gradient steps the learner took, per round, are its work.
``rollout_ms`` is the wall time of the rollout phase alone (first rollout's start to the last one's
end), the part that parallel workers, or threads without the GIL, can shorten.
"""

from __future__ import annotations

import functools
import math
import time
from typing import ClassVar

from backends.base import Backend, PipelineSpec
from workloads.base import Measurement, Objective, Parameter, Params, Workload, work_of, work_per_round
from workloads.training import pipeline_workers as pw

SEED = 2024
ENVS = ("Blackjack-v1", "CartPole-v1")
MINIBATCHES = (500, 1000, 2000)
N_ROLLOUTS = 16
"""The paper's 16 rollout actors."""
REPLAY_CAPACITY = 5000
ROUNDS = {"smoke": (1, 3), "quick": (5, 20), "paper": (5, 500)}
STAGE_BYTES = 20 * 2**20
"""Memory of one stage of the training graph (a rollout worker with its env, the replay, the learner),
besides the backend's per-worker overhead (``Backend.worker_memory_bytes``)."""
"""(warm-up rounds, measured rounds) per profile; the paper timed 500 rounds. Five warm-up rounds on
every backend: the reactor runtime tries each execution mode twice per level before it settles
(backends/reactor/modes.py), which over 500 rounds is noise but over 20 would be a tenth of them."""


def _rollout(env_id: str, index: int) -> pw.RolloutWorker:
    return pw.RolloutWorker(env_id, SEED, index)


def _replay(env_id: str, minibatch: int) -> pw.ReplayBuffer:
    obs_dim, _ = pw.env_shape(env_id)
    return pw.ReplayBuffer(obs_dim, REPLAY_CAPACITY, minibatch, SEED)


def _learner(env_id: str) -> pw.Learner:
    obs_dim, n_actions = pw.env_shape(env_id)
    return pw.Learner(obs_dim, n_actions, SEED)


def pipeline_spec(env_id: str, n_rollouts: int, minibatch: int) -> PipelineSpec:
    """The graph of one cell; picklable, since Ray builds each stage inside its actor."""
    return PipelineSpec(
        rollout=functools.partial(_rollout, env_id),
        n_rollouts=n_rollouts,
        replay=functools.partial(_replay, env_id, minibatch),
        learner=functools.partial(_learner, env_id),
    )


class Training(Workload):
    parameters = (
        Parameter("env_id", str, "the environment the rollouts step"),
        Parameter("workers", int, "rollout workers"),
        Parameter("minibatch", int, "the learner's minibatch size"),
        Parameter("round", int, "the round a loss or return point was taken after"),
    )
    name = "training"
    objectives = (Objective("round_ms"),)
    gated = True
    figure_module = "harness.figures.training"
    report_module = "harness.report.training"
    report_order = 40
    suite = "training"
    description = "rollouts -> replay -> learner -> weights back (16 rollouts, 100 steps each per round)"
    operations = frozenset({"pipeline"})
    repeats: ClassVar[dict[str, int]] = {"smoke": 1, "quick": 2, "paper": 5}
    metrics = (
        ("time_to_rounds_s", "s"),
        ("round_ms", "ms"),
        ("comm_ms", "ms"),
        ("compute_ms", "ms"),
        ("rollout_ms", "ms"),
        ("final_loss", "1"),
    )

    def grid(self, profile: str) -> list[Params]:
        if profile == "smoke":
            return [{"env_id": "CartPole-v1", "workers": 2, "minibatch": 64}]
        points = [{"env_id": "Blackjack-v1", "workers": N_ROLLOUTS, "minibatch": b} for b in MINIBATCHES]
        if profile != "paper":  # quick: CartPole is the training-return workload's, where it learns
            return points
        cartpole = [{"env_id": "CartPole-v1", "workers": N_ROLLOUTS, "minibatch": b} for b in MINIBATCHES]
        return points + cartpole

    def is_headline(self, params: Params) -> bool:
        return params["env_id"] == "Blackjack-v1" and int(params["minibatch"]) == MINIBATCHES[0]

    def n_workers(self, params: Params) -> int:
        return int(params["workers"])

    def start(self, backend: Backend, params: Params) -> bool:
        spec = pipeline_spec(params["env_id"], int(params["workers"]), int(params["minibatch"]))
        backend.start_pipeline(spec)
        return True

    def peak_memory_bytes(self, params: Params, backend: type[Backend]) -> int:
        # every rollout worker, the replay and the learner: their state and the backend's overhead
        return (int(params["workers"]) + 2) * (STAGE_BYTES + backend.worker_memory_bytes)

    def measure(self, backend: Backend, params: Params, profile: str) -> Measurement:
        warmup, rounds = ROUNDS[profile]
        reports = [backend.pipeline_round() for _ in range(warmup)]
        elapsed = compute = rollout = 0.0
        for _ in range(rounds):
            started = time.perf_counter()
            report = backend.pipeline_round()
            elapsed += time.perf_counter() - started
            compute += report.compute_s
            rollout += report.rollout_s
            reports.append(report)
        done = reports[-1]  # what the replay stored and the learner did over all warmup + rounds rounds
        m = Measurement(
            work=work_of(
                env_steps=work_per_round(done.env_steps, warmup + rounds),
                grad_steps=work_per_round(done.grad_steps, warmup + rounds),
            ),
            rounds=rounds,
            warmup=warmup,
        )
        m.add("time_to_rounds_s", elapsed, "s")
        m.add("round_ms", elapsed / rounds * 1e3, "ms")
        m.add("compute_ms", compute / rounds * 1e3, "ms")
        m.add("comm_ms", (elapsed - compute) / rounds * 1e3, "ms")
        m.add("rollout_ms", rollout / rounds * 1e3, "ms")
        m.add("final_loss", reports[-1].loss, "1")
        for number, report in enumerate(reports, start=1):
            m.add_point({"round": number}, "loss", report.loss, "1")
            if report.episode_returns:
                mean_return = math.fsum(report.episode_returns) / len(report.episode_returns)
                m.add_point({"round": number}, "episode_return", mean_return, "1")
        m.extra["result_digest"] = reports[-1].weights_digest
        return m
