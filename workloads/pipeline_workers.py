"""The three kinds of worker of the training pipeline: rollout, replay buffer, learner.

Each stage times its own compute and passes the time downstream with its data, so the learner's
report carries the round's critical-path compute (slowest rollout + replay + learner) whatever
backend moved the data. The round's communication is then what the backend added on top.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from backends.gym_envs import make_env

from . import qnet

STEPS_PER_ROUND = 100
HIDDEN = 64
EPSILON = 0.1
GAMMA = 0.9
LEARNING_RATE = 5e-3
TARGET_EVERY = 5
"""The target network follows the online one every 5 updates (DQN's fixed targets). With one update
per round, these settings take CartPole's mean episode return from about 10 to about 75 within 300
rounds of 16 workers (tests/workloads/test_training.py checks that it learns)."""


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


@dataclass
class RoundReport:
    """The learner's answer for one round: everything the harness records, no weights."""

    loss: float
    episode_returns: list[float] = field(default_factory=list)
    compute_s: float = 0.0
    rollout_s: float = 0.0
    """Wall time of the round's rollout phase (first rollout's start to last one's end)."""
    weights_digest: str = ""


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


class RolloutWorker:
    """Steps one environment with an epsilon-greedy policy from the latest weights it was sent."""

    def __init__(self, env_id: str, seed: int, index: int):
        self.env = make_env(env_id)
        obs, _ = self.env.reset(seed=seed + index)
        self.obs = encode(obs)
        self.n_actions = int(self.env.action_space.n)
        self.rng = np.random.default_rng([seed, index])
        self.params = qnet.init_params(len(self.obs), self.n_actions, HIDDEN, seed)
        self.episode_return = 0.0

    def collect(self, weights: qnet.Params | None) -> Batch:
        """One round of experience; ``None`` keeps the current weights (round 0: the shared initial ones)."""
        started = time.perf_counter()
        if weights is not None:
            # Its own copy (3 KB): a zero-copy view would pin the transport's buffer (Ray's compiled
            # channels block the next write while a reader holds one) and every backend must do the same.
            self.params = {name: np.array(array) for name, array in weights.items()}
        dim = len(self.obs)
        obs = np.empty((STEPS_PER_ROUND, dim))
        next_obs = np.empty((STEPS_PER_ROUND, dim))
        actions = np.empty(STEPS_PER_ROUND, dtype=np.int64)
        rewards = np.empty(STEPS_PER_ROUND)
        dones = np.empty(STEPS_PER_ROUND)
        returns: list[float] = []
        for t in range(STEPS_PER_ROUND):
            if self.rng.random() < EPSILON:
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
        finished = time.perf_counter()
        return Batch(obs, actions, rewards, next_obs, dones, returns, finished - started, (started, finished))


class ReplayBuffer:
    """A bounded ring of transitions; stores each round's batches in worker order, then samples."""

    def __init__(self, obs_dim: int, capacity: int, minibatch: int, seed: int):
        self.capacity, self.minibatch = capacity, minibatch
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
        picks = self.rng.integers(0, self.size, self.minibatch)
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
        )
        report.compute_s = minibatch.compute_s + time.perf_counter() - started
        return self.params, report
