"""The three kinds of worker of the training pipeline: rollout, replay buffer, learner.

Each stage times its own compute and passes the time downstream with its data, so the learner's
report carries the round's critical-path compute (slowest rollout + replay + learner) whatever
backend moved the data. The round's communication is then what the backend added on top.

Two learners share the rollouts and the replay: ``Learner`` (one Adam step of Q-learning per round,
the paper's per-round cost figure) and ``DoubleDQNLearner`` (many gradient steps per round, the
recipe of ``workloads.training.recipes`` that solves CartPole).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from backends.base import make_env
from workloads.training import qnet

STEPS_PER_ROUND = 100
HIDDEN = 64
EPSILON = 0.1
GAMMA = 0.9
LEARNING_RATE = 5e-3
TARGET_EVERY = 5
"""The target network follows the online one every 5 updates (DQN's fixed targets). With one update
per round, these settings take CartPole's mean episode return from about 10 to about 75 within 300
rounds of 16 workers (tests/workloads/training/test_q_learning.py checks that it learns)."""


@dataclass
class Batch:
    """Transitions with the episodes they completed: what a rollout collected in one round
    (STEPS_PER_ROUND of them), or the minibatch the replay sampled from all rollouts."""

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_obs: np.ndarray
    dones: np.ndarray
    episode_returns: list[float]
    compute_s: float
    """The rollout's own time; for a minibatch, the slowest rollout plus the replay: the critical path."""
    span: tuple[float, float] = (0.0, 0.0)
    """``time.perf_counter()`` when the rollout started and ended; for a minibatch, the first start and
    the last end over the round's rollouts: the rollout phase's wall time, overlap included. One
    monotonic clock serves every process of a machine (Linux), so this holds across Ray's workers."""
    env_steps: int = 0
    """For a minibatch: transitions the replay has stored since the start (the env steps behind it)."""


@dataclass
class RoundReport:
    """The learner's answer for one round: everything the harness records, no weights."""

    loss: float
    episode_returns: list[float] = field(default_factory=list)
    compute_s: float = 0.0
    rollout_s: float = 0.0
    """Wall time of the round's rollout phase (first rollout's start to last one's end)."""
    weights_digest: str = ""
    env_steps: int = 0
    """Env steps collected up to the minibatch this report trained on (its episodes are these), as
    the replay counted the transitions it stored."""
    grad_steps: int = 0
    """Gradient steps the learner has taken since the start, as it counted them."""
    learn_s: float = 0.0
    """The learner's own time for this update."""
    finite: bool = True
    """False once the weights or the loss are NaN or infinite: the run has diverged."""


def encode(obs: object) -> np.ndarray:
    """A flat float64 vector for any Gymnasium observation (Blackjack's is a tuple of ints)."""
    return np.asarray(obs, dtype=np.float64).ravel()


def env_shape(env_id: str) -> tuple[int, int]:
    """(observation size, number of actions) of a discrete-action environment."""
    env = make_env(env_id)
    obs, _ = env.reset(seed=0)
    shape = (len(encode(obs)), int(env.action_space.n))
    env.close()
    return shape


@dataclass(frozen=True)
class Epsilon:
    """Exploration rate over the run: linear from ``start`` to ``end`` over ``decay_env_steps`` env
    steps of the whole pipeline (all ``workers`` together), then ``end``; constant if they are equal.

    A worker's own step count times ``workers`` is the pipeline's, because every worker steps the
    same number of times per round; so each rollout's rate depends only on its own history.
    """

    start: float
    end: float
    decay_env_steps: int = 1
    workers: int = 1

    def at(self, worker_step: int) -> float:
        done = min(1.0, worker_step * self.workers / self.decay_env_steps)
        return self.start + (self.end - self.start) * done


class RolloutWorker:
    """Steps one environment with an epsilon-greedy policy from the latest weights it was sent."""

    def __init__(
        self,
        env_id: str,
        seed: int,
        index: int,
        steps: int = STEPS_PER_ROUND,
        epsilon: Epsilon | None = None,
        hidden: int = HIDDEN,
    ):
        self.env = make_env(env_id)
        obs, _ = self.env.reset(seed=seed + index)
        self.obs = encode(obs)
        self.n_actions = int(self.env.action_space.n)
        self.rng = np.random.default_rng([seed, index])
        self.params = qnet.init_params(len(self.obs), self.n_actions, hidden, seed)
        self.episode_return = 0.0
        self.steps, self.epsilon = steps, epsilon or Epsilon(EPSILON, EPSILON)
        self.worker_steps = 0

    def collect(self, weights: qnet.Params | None) -> Batch:
        """One round of experience; ``None`` keeps the current weights (round 0: the shared initial ones)."""
        started = time.perf_counter()
        if weights is not None:
            # Its own copy (3 KB): a zero-copy view would pin the transport's buffer (Ray's compiled
            # channels block the next write while a reader holds one) and every backend must do the same.
            self.params = {name: np.array(array) for name, array in weights.items()}
        dim, steps = len(self.obs), self.steps
        obs = np.empty((steps, dim))
        next_obs = np.empty((steps, dim))
        actions = np.empty(steps, dtype=np.int64)
        rewards = np.empty(steps)
        dones = np.empty(steps)
        returns: list[float] = []
        for t in range(steps):
            if self.rng.random() < self.epsilon.at(self.worker_steps + t):
                action = int(self.rng.integers(self.n_actions))
            else:
                action = int(np.argmax(qnet.q_values(self.params, self.obs)))
            observation, reward, terminated, truncated, _ = self.env.step(action)
            obs[t], actions[t], rewards[t], dones[t] = self.obs, action, reward, float(terminated)
            next_obs[t] = self.obs = encode(observation)
            self.episode_return += float(reward)
            if terminated or truncated:
                returns.append(self.episode_return)
                self.episode_return = 0.0
                self.obs = encode(self.env.reset()[0])
        self.worker_steps += steps
        finished = time.perf_counter()
        return Batch(obs, actions, rewards, next_obs, dones, returns, finished - started, (started, finished))


class ReplayBuffer:
    """A bounded ring of transitions; stores each round's batches in worker order, then samples.

    It samples ``n_minibatches`` minibatches per round, as one block of rows the learner cuts into
    minibatches, and none until ``learning_starts`` transitions are stored.
    """

    def __init__(
        self,
        obs_dim: int,
        capacity: int,
        minibatch: int,
        seed: int,
        n_minibatches: int = 1,
        learning_starts: int = 0,
    ):
        self.capacity, self.minibatch = capacity, minibatch
        self.n_minibatches, self.learning_starts = n_minibatches, learning_starts
        self.stored = 0
        self.obs = np.zeros((capacity, obs_dim))
        self.next_obs = np.zeros((capacity, obs_dim))
        self.actions = np.zeros(capacity, dtype=np.int64)
        self.rewards = np.zeros(capacity)
        self.dones = np.zeros(capacity)
        self.size = 0
        self.position = 0
        self.rng = np.random.default_rng(seed)

    def store_and_sample(self, batches: list[Batch]) -> Batch:
        started = time.perf_counter()
        for batch in batches:
            n = len(batch.actions)
            slots = (self.position + np.arange(n)) % self.capacity
            self.obs[slots], self.next_obs[slots] = batch.obs, batch.next_obs
            self.actions[slots], self.rewards[slots], self.dones[slots] = (
                batch.actions,
                batch.rewards,
                batch.dones,
            )
            self.position = (self.position + n) % self.capacity
            self.size = min(self.capacity, self.size + n)
            self.stored += n
        if self.size < self.learning_starts:
            picks = np.empty(0, dtype=np.int64)
        else:
            picks = self.rng.integers(0, self.size, self.minibatch * self.n_minibatches)
        returns = [r for batch in batches for r in batch.episode_returns]
        rollout_s = max(batch.compute_s for batch in batches)
        return Batch(
            self.obs[picks],
            self.actions[picks],
            self.rewards[picks],
            self.next_obs[picks],
            self.dones[picks],
            returns,
            rollout_s + time.perf_counter() - started,
            (min(batch.span[0] for batch in batches), max(batch.span[1] for batch in batches)),
            self.stored,
        )


class Learner:
    """One Adam step of Q-learning per round on the sampled minibatch; returns the new weights."""

    def __init__(self, obs_dim: int, n_actions: int, seed: int):
        self.params = qnet.init_params(obs_dim, n_actions, HIDDEN, seed)
        self.target = dict(self.params)
        self.optimizer = qnet.Adam(self.params, lr=LEARNING_RATE)
        self.updates = 0

    def update(self, minibatch: Batch) -> tuple[qnet.Params, RoundReport]:
        started = time.perf_counter()
        loss, grads = qnet.td_loss_and_grads(
            self.params,
            self.target,
            minibatch.obs,
            minibatch.actions,
            minibatch.rewards,
            minibatch.next_obs,
            minibatch.dones,
            GAMMA,
        )
        self.params = self.optimizer.step(self.params, grads)
        self.updates += 1
        if self.updates % TARGET_EVERY == 0:
            self.target = dict(self.params)
        report = RoundReport(
            loss=loss,
            episode_returns=minibatch.episode_returns,
            rollout_s=minibatch.span[1] - minibatch.span[0],
            weights_digest=qnet.params_digest(self.params),
            env_steps=minibatch.env_steps,
            grad_steps=self.updates,
        )
        report.compute_s = minibatch.compute_s + time.perf_counter() - started
        return self.params, report


class DoubleDQNLearner:
    """Double DQN with a Huber loss: ``grad_steps`` Adam steps per round on the replay's minibatches.

    Hand-written numpy (``workloads.training.qnet``), one flat parameter vector, a target network copied every
    ``target_every`` gradient steps. ``update(None)`` (the pipelined variant's first round, before any
    minibatch exists) takes no step and returns the initial weights. Every report carries a digest of
    the exact weights, so two backends that ran the same graph can be compared bit for bit.
    """

    def __init__(
        self,
        obs_dim: int,
        n_actions: int,
        seed: int,
        *,
        hidden: int,
        minibatch: int,
        lr: float,
        gamma: float,
        huber_delta: float,
        target_every: int,
        max_grad_norm: float,
    ):
        params = qnet.init_params(obs_dim, n_actions, hidden, seed)
        self.shapes = {name: params[name].shape for name in qnet.PARAM_NAMES}
        self.flat, self.params = qnet.flatten(params)
        self.target_flat = self.flat.copy()
        self.target = qnet.views(self.target_flat, self.shapes)
        self.grad_flat = np.zeros_like(self.flat)
        self.grads = qnet.views(self.grad_flat, self.shapes)
        self.optimizer = qnet.FlatAdam(self.flat.size, lr, max_grad_norm)
        self.minibatch, self.gamma, self.delta = minibatch, gamma, huber_delta
        self.target_every = target_every
        self.grad_steps = 0

    def update(self, minibatch: Batch | None) -> tuple[qnet.Params, RoundReport]:
        started = time.perf_counter()
        size = self.minibatch
        steps = 0 if minibatch is None else len(minibatch.actions) // size
        errors = []
        if steps:
            rows = steps * size
            # per round, not per step: each minibatch's s and s' as one block of 2 x size rows, and
            # gamma * (1 - terminated)
            shape = (steps, size, minibatch.obs.shape[1])
            states = np.concatenate(
                (minibatch.obs[:rows].reshape(shape), minibatch.next_obs[:rows].reshape(shape)), axis=1
            )
            discounts = self.gamma * (1.0 - minibatch.dones[:rows])
            for step in range(steps):
                cut = slice(step * size, (step + 1) * size)
                errors.append(
                    qnet.double_dqn_grads(
                        self.params,
                        self.target,
                        states[step],
                        minibatch.actions[cut],
                        minibatch.rewards[cut],
                        discounts[cut],
                        self.delta,
                        self.grads,
                    )
                )
                self.optimizer.step(self.flat, self.grad_flat)
                self.grad_steps += 1
                if self.grad_steps % self.target_every == 0:
                    self.target_flat[:] = self.flat
        published = self.flat.copy()  # the rollouts read this while the learner goes on in place
        loss = qnet.huber_loss(np.concatenate(errors), self.delta) if errors else math.nan
        report = RoundReport(
            loss=loss,
            episode_returns=minibatch.episode_returns if minibatch is not None else [],
            rollout_s=minibatch.span[1] - minibatch.span[0] if minibatch is not None else 0.0,
            weights_digest=qnet.params_digest(qnet.views(published, self.shapes)),
            env_steps=minibatch.env_steps if minibatch is not None else 0,
            grad_steps=self.grad_steps,
            finite=bool(np.isfinite(published).all()) and (not errors or math.isfinite(loss)),
        )
        report.learn_s = time.perf_counter() - started
        report.compute_s = (minibatch.compute_s if minibatch is not None else 0.0) + report.learn_s
        return qnet.views(published, self.shapes), report
