"""Training recipes that learn: the hyperparameters of a Double DQN that solves its environment.

A recipe is everything the seed's dataflow needs to train a policy to a target return, and nothing
about how a backend runs it. Its stages are built from ``workloads.training.pipeline_workers`` by the
factories below, which are module-level functions of the recipe (picklable: Ray builds each stage
inside its actor). Every stage depends only on the recipe (seed included), its worker index and the
data it is sent, so every backend and every execution order gives the same weights.

How the CartPole-v1 recipe was chosen (numpy, 16 rollouts, one process, 8 seeds each; the numbers
are in README.md): the issue's starting point (Huber delta 1, Adam 1e-3, epsilon to 0.05, target
copied every 128 gradient steps) reached 475 on 3 of 6 seeds: its Q-values ran away (mean Q in the
thousands; CartPole's true values are below 100) because a delta of 1 caps each transition's pull at
1, so the 5% of terminal transitions, whose targets are 1, could not hold the bootstrapped ones down.
A delta of 10 (errors up to 10 count quadratically) solved 8 of 8, lr 2e-3 and a final epsilon of
0.01 (fewer random pushes that end a long episode early) made it faster and kept the pipelined
variant at 8 of 8. Copying the target every 64 or 256 gradient steps, or Polyak averaging, did worse.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from workloads.base import BadOption
from workloads.training import pipeline_workers as pw


@dataclass(frozen=True)
class Recipe:
    """One training run: environment, dataflow sizes, learner and exploration settings, target."""

    env_id: str = "CartPole-v1"
    workers: int = 16
    steps_per_round: int = 16
    """K: env steps each rollout worker takes per round."""
    grad_steps: int = 64
    """G: gradient steps the learner takes per round (once learning has started)."""
    minibatch: int = 64
    target_every: int = 128
    """Gradient steps between copies of the online network into the target network."""
    lr: float = 2e-3
    gamma: float = 0.99
    huber_delta: float = 10.0
    max_grad_norm: float = 10.0
    hidden: int = 64
    replay_capacity: int = 50_000
    learning_starts: int = 1_000
    """Transitions stored before the learner takes its first gradient step."""
    epsilon_start: float = 1.0
    epsilon_end: float = 0.01
    epsilon_decay_env_steps: int = 10_000
    seed: int = 0
    target: float = 475.0
    """The mean return of the last ``window`` finished episodes that counts as solved."""
    window: int = 20
    max_env_steps: int = 300_000
    """The budget: the env steps a run may do; one that has not reached ``target`` within them failed."""

    @property
    def env_steps_per_round(self) -> int:
        return self.workers * self.steps_per_round

    @property
    def max_rounds(self) -> int:
        """The whole rounds that fit in the budget: a round that would take the run past it is not
        run (0 when a single round is larger than the budget), so a run never does more env steps
        than ``max_env_steps``."""
        return self.max_env_steps // self.env_steps_per_round


SOLVED = {"CartPole-v1": Recipe()}
"""Environments with a recipe that solves them, and that recipe."""

OPTIONS: dict[str, tuple[type, float, float]] = {
    "env_id": (str, 0, 0),
    "workers": (int, 1, 256),
    "seed": (int, 0, 2**31 - 1),
    "target": (float, 1.0, 1e6),
    "steps_per_round": (int, 1, 10_000),
    "grad_steps": (int, 1, 10_000),
    "minibatch": (int, 1, 100_000),
    "target_every": (int, 1, 10_000_000),
    "lr": (float, 1e-8, 1.0),
    "max_env_steps": (int, 1, 100_000_000),
}
"""Recipe fields a user may set (``harness run --set NAME=VALUE``): (type, lowest, highest)."""


def parse_option(name: str, text: Any) -> Any:
    """A user's option value, converted and range-checked; BadOption (one line) otherwise."""
    if name not in OPTIONS:
        raise BadOption(f"unknown training option {name!r}; choose from {', '.join(OPTIONS)}")
    kind, low, high = OPTIONS[name]
    if kind is str:
        value = str(text)
        if name == "env_id" and value not in SOLVED:
            raise BadOption(f"no training recipe for env {value!r}; choose from {', '.join(SOLVED)}")
        return value
    try:
        value = kind(text)
    except (TypeError, ValueError):
        raise BadOption(f"{name}={text!r} is not {'a whole number' if kind is int else 'a number'}") from None
    if isinstance(text, float) and kind is int and value != text:
        raise BadOption(f"{name}={text!r} is not a whole number")
    if not (low <= value <= high) or (kind is float and not math.isfinite(value)):
        raise BadOption(f"{name}={text} is out of range [{low:g}, {high:g}]")
    return value


def recipe_for(params: dict[str, Any], **overrides: Any) -> Recipe:
    """The recipe of a cell: its environment's recipe with the cell's options (and ``overrides``)."""
    fields = {name: parse_option(name, params[name]) for name in OPTIONS if name in params}
    fields.update(overrides)
    env_id = fields.get("env_id", "CartPole-v1")
    if env_id not in SOLVED:
        raise BadOption(f"no training recipe for env {env_id!r}; choose from {', '.join(SOLVED)}")
    return dataclasses.replace(SOLVED[env_id], **fields)


def rollout(recipe: Recipe, index: int) -> pw.RolloutWorker:
    epsilon = pw.Epsilon(
        recipe.epsilon_start, recipe.epsilon_end, recipe.epsilon_decay_env_steps, recipe.workers
    )
    return pw.RolloutWorker(recipe.env_id, recipe.seed, index, recipe.steps_per_round, epsilon, recipe.hidden)


def replay(recipe: Recipe) -> pw.ReplayBuffer:
    obs_dim, _ = pw.env_shape(recipe.env_id)
    return pw.ReplayBuffer(
        obs_dim,
        recipe.replay_capacity,
        recipe.minibatch,
        recipe.seed,
        n_minibatches=recipe.grad_steps,
        learning_starts=recipe.learning_starts,
    )


def learner(recipe: Recipe) -> pw.DoubleDQNLearner:
    obs_dim, n_actions = pw.env_shape(recipe.env_id)
    return pw.DoubleDQNLearner(
        obs_dim,
        n_actions,
        recipe.seed,
        hidden=recipe.hidden,
        minibatch=recipe.minibatch,
        lr=recipe.lr,
        gamma=recipe.gamma,
        huber_delta=recipe.huber_delta,
        target_every=recipe.target_every,
        max_grad_norm=recipe.max_grad_norm,
    )
