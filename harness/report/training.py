"""The training sections: synchronized parallel Q-learning's round time, and training that learns
(time to the target return, time per round)."""

from __future__ import annotations

from harness.analysis.paper import round_ms as paper_round_ms
from workloads.base import Workload

from .tables import Section, paper_value

SECTIONS = [
    Section(
        "Synchronized parallel Q-learning (Blackjack-v1, {workers} rollouts): round_ms",
        "training",
        "round_ms",
        "minibatch",
        {"env_id": "Blackjack-v1"},
        "The paper's time to 500 rounds (start-up included) is shown per round.",
        paper_value("parallel_training", "minibatch", paper_round_ms),
        {"workers": "16"},
    ),
    Section(
        "Synchronized parallel Q-learning (CartPole-v1, {workers} rollouts): round_ms",
        "training",
        "round_ms",
        "minibatch",
        {"env_id": "CartPole-v1"},
        "Not in the paper.",
    ),
    Section(
        "Training that learns: wall time to a mean return of 475 (CartPole-v1, seed 0): time_to_return_s",
        "training-return",
        "time_to_return_s",
        "variant",
        {"env_id": "CartPole-v1", "seed": "0", "target": "475.0"},
        "Double DQN, {workers} rollouts x 16 steps and 64 gradient steps per round; start-up excluded. Not in"
        " the paper. Within a variant every backend runs the same rounds (same weights digest).",
    ),
    Section(
        "Training that learns: time per round (CartPole-v1, seed 0, to 475): round_ms",
        "training-return",
        "round_ms",
        "variant",
        {"env_id": "CartPole-v1", "seed": "0", "target": "475.0"},
        "The framework's cost per round, free of how many rounds a variant needs.",
    ),
]


def sections(workload: Workload) -> list[Section]:
    return [section for section in SECTIONS if section.workload == workload.name]
