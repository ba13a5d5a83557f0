"""A small numpy Q-network (one hidden ReLU layer) with hand-written gradients and Adam.

Why numpy and by hand: the training pipeline must do a real update on every backend without torch, and
the determinism check needs bit-identical weights across backends, which a fixed sequence of float64
numpy operations gives. Everything here is a pure function of its arguments; parameters are a dict of
float64 arrays so they travel through any backend (pickle, Ray's object store, a reactor port).
"""

from __future__ import annotations

import functools
import hashlib
import math

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


def flatten(params: Params) -> tuple[np.ndarray, Params]:
    """One float64 vector holding every parameter, and a ``Params`` dict of views into it.

    An optimizer over one vector is a handful of numpy calls instead of a handful per array, which
    matters when a gradient step costs tens of microseconds of call overhead. The bytes are those of
    ``params`` in ``PARAM_NAMES`` order, so ``params_digest`` is the same for both forms.
    """
    flat = np.concatenate([params[name].ravel() for name in PARAM_NAMES])
    return flat, views(flat, {name: params[name].shape for name in PARAM_NAMES})


def views(flat: np.ndarray, shapes: dict[str, tuple[int, ...]]) -> Params:
    """``Params`` whose arrays are views into ``flat`` (laid out in ``PARAM_NAMES`` order)."""
    out, start = {}, 0
    for name in PARAM_NAMES:
        size = int(np.prod(shapes[name]))
        out[name] = flat[start : start + size].reshape(shapes[name])
        start += size
    return out


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


@functools.cache
def _rows(n: int) -> np.ndarray:
    """``arange(n)`` for fancy indexing, made once per size (read-only: shared by every call)."""
    rows = np.arange(n)
    rows.setflags(write=False)
    return rows


def double_dqn_grads(
    params: Params,
    target_params: Params,
    states: np.ndarray,
    actions: np.ndarray,
    rewards: np.ndarray,
    discounts: np.ndarray,
    delta: float,
    grads: Params,
) -> np.ndarray:
    """Writes the exact gradient of Double DQN's mean Huber loss into ``grads``; returns the TD errors.

    ``states`` holds the n observations s followed by the n next observations s' (2n rows: the
    online network evaluates both in one pass); ``discounts`` is ``gamma * (1 - terminated)``,
    where ``terminated`` is true only where the episode really ended: a time-limit truncation
    still bootstraps. Double DQN's target ``r + discount * Q_target(s', argmax_a Q(s', a))``, the
    online network choosing and the target network valuing the next action, is held fixed. Huber
    (``huber_loss``): quadratic for TD errors up to ``delta``, linear beyond, so each transition's
    pull is capped. ``grads`` (views into one flat vector, see ``flatten``) is overwritten, so a
    learner allocates it once. The loss itself is left to the caller (``huber_loss`` of the
    errors): a learner that takes many steps per round needs it once per round, not per step.
    """
    n = len(actions)
    w1, b1, w2, b2 = params["w1"], params["b1"], params["w2"], params["b2"]
    pre = states @ w1
    pre += b1
    hidden = np.maximum(pre, 0.0)
    q_both = hidden @ w2
    q_both += b2
    rows = _rows(n)
    best_next = q_both[n:].argmax(axis=1)
    next_value = q_values(target_params, states[n:])[rows, best_next]
    errors = q_both[rows, actions] - (rewards + discounts * next_value)
    d_q = np.zeros((n, w2.shape[1]))
    d_q[rows, actions] = np.minimum(np.maximum(errors, -delta), delta) / n  # np.clip, but cheaper
    d_hidden = d_q @ w2.T
    d_hidden *= pre[:n] > 0.0
    np.matmul(states[:n].T, d_hidden, out=grads["w1"])
    np.sum(d_hidden, axis=0, out=grads["b1"])
    np.matmul(hidden[:n].T, d_q, out=grads["w2"])
    np.sum(d_q, axis=0, out=grads["b2"])
    return errors


def huber_loss(errors: np.ndarray, delta: float) -> float:
    """Mean Huber loss of TD errors: ``e**2 / 2`` up to ``delta``, ``delta * (|e| - delta / 2)`` beyond."""
    magnitude = np.abs(errors)
    quadratic = np.minimum(magnitude, delta)
    return float(np.mean(0.5 * quadratic**2 + delta * (magnitude - quadratic)))


class FlatAdam:
    """Adam over one flat parameter vector, updated in place, with gradient-norm clipping.

    In place because the learner owns its vector: what it sends to the rollouts is a copy, so a
    rollout reading last round's weights never sees a half-written update (in the pipelined variant
    the rollouts run while the learner steps).
    """

    def __init__(self, size: int, lr: float, max_grad_norm: float, beta1: float = 0.9, beta2: float = 0.999):
        self.lr, self.max_grad_norm, self.beta1, self.beta2, self.eps = lr, max_grad_norm, beta1, beta2, 1e-8
        self.m = np.zeros(size)
        self.v = np.zeros(size)
        self.scratch = np.zeros(size)
        self.update = np.zeros(size)
        self.t = 0

    def step(self, flat: np.ndarray, grad: np.ndarray) -> None:
        """One update of ``flat`` from ``grad`` (scaled down in place if its norm is above the limit)."""
        norm = math.sqrt(float(grad @ grad))
        if norm > self.max_grad_norm:
            grad *= self.max_grad_norm / norm
        self.t += 1
        m, v, scratch = self.m, self.v, self.scratch
        m *= self.beta1
        np.multiply(grad, 1.0 - self.beta1, out=scratch)
        m += scratch
        v *= self.beta2
        np.multiply(grad, grad, out=scratch)
        scratch *= 1.0 - self.beta2
        v += scratch
        step_size = self.lr * math.sqrt(1.0 - self.beta2**self.t) / (1.0 - self.beta1**self.t)
        np.sqrt(v, out=scratch)
        scratch += self.eps
        update = self.update
        np.multiply(m, step_size, out=update)
        update /= scratch
        flat -= update


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
