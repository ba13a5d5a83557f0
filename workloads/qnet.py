"""A small numpy Q-network (one hidden ReLU layer) with hand-written gradients and Adam.

Why numpy and by hand: the training pipeline must do a real update on every backend without torch, and
the determinism check needs bit-identical weights across backends, which a fixed sequence of float64
numpy operations gives. Everything here is a pure function of its arguments; parameters are a dict of
float64 arrays so they travel through any backend (pickle, Ray's object store, a reactor port).
"""

from __future__ import annotations

import hashlib

import numpy as np

Params = dict[str, np.ndarray]
PARAM_NAMES = ("w1", "b1", "w2", "b2")


def init_params(obs_dim: int, n_actions: int, hidden: int, seed: int) -> Params:
    """He-initialised weights from a seeded generator: the same seed gives the same network anywhere."""
    rng = np.random.default_rng(seed)
    return {
        "w1": rng.normal(0.0, np.sqrt(2.0 / obs_dim), (obs_dim, hidden)),
        "b1": np.zeros(hidden),
        "w2": rng.normal(0.0, np.sqrt(1.0 / hidden), (hidden, n_actions)),
        "b2": np.zeros(n_actions),
    }


def q_values(params: Params, obs: np.ndarray) -> np.ndarray:
    """Q(s, .) for a batch of observations (rows) or a single one."""
    hidden = np.maximum(obs @ params["w1"] + params["b1"], 0.0)
    return hidden @ params["w2"] + params["b2"]


def td_loss_and_grads(
    params: Params,
    target_params: Params,
    obs: np.ndarray,
    actions: np.ndarray,
    rewards: np.ndarray,
    next_obs: np.ndarray,
    dones: np.ndarray,
    gamma: float,
) -> tuple[float, Params]:
    """Mean squared TD error of one-step Q-learning and its exact gradient w.r.t. ``params``.

    The target ``r + gamma * max_a Q_target(s', a) * (1 - done)`` is held fixed (no gradient through
    it), as in DQN.
    """
    n = len(actions)
    targets = rewards + gamma * (1.0 - dones) * q_values(target_params, next_obs).max(axis=1)
    pre = obs @ params["w1"] + params["b1"]
    hidden = np.maximum(pre, 0.0)
    q = hidden @ params["w2"] + params["b2"]
    rows = np.arange(n)
    error = q[rows, actions] - targets
    loss = float(np.mean(error**2))
    d_q = np.zeros_like(q)
    d_q[rows, actions] = 2.0 * error / n
    d_hidden = (d_q @ params["w2"].T) * (pre > 0.0)
    grads = {
        "w1": obs.T @ d_hidden,
        "b1": d_hidden.sum(axis=0),
        "w2": hidden.T @ d_q,
        "b2": d_q.sum(axis=0),
    }
    return loss, grads


class Adam:
    """Adam over a parameter dict; its state is plain arrays, so a learner stays deterministic."""

    def __init__(self, params: Params, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, 1e-8
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}
        self.t = 0

    def step(self, params: Params, grads: Params) -> Params:
        self.t += 1
        updated = {}
        for name in PARAM_NAMES:
            self.m[name] = self.beta1 * self.m[name] + (1.0 - self.beta1) * grads[name]
            self.v[name] = self.beta2 * self.v[name] + (1.0 - self.beta2) * grads[name] ** 2
            m_hat = self.m[name] / (1.0 - self.beta1**self.t)
            v_hat = self.v[name] / (1.0 - self.beta2**self.t)
            updated[name] = params[name] - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        return updated


def params_digest(params: Params) -> str:
    """A short hash of the exact bytes of every parameter: equal digests mean bit-identical weights."""
    digest = hashlib.sha1()
    for name in PARAM_NAMES:
        digest.update(np.ascontiguousarray(params[name]).tobytes())
    return digest.hexdigest()[:16]
