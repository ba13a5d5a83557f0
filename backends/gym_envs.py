"""Builds, seeds and fingerprints Gymnasium environments by id, including the ALE (Atari) ids whose
ROMs ale-py ships.

Shared by the environment workers and the vectorized reference backends so that both build, seed and
observe exactly the same environments: with the same seeds they must get the same rewards and see
the same observations (the sampling workloads' result digest compares them).
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

ALE_PREFIX = "ALE/"
ALE_SEED_LIMIT = 2**31
"""ale-py's vector env takes one seed per emulator as a C++ ``int`` and ignores a negative one (the
emulator then keeps a seed drawn from the clock), so an ALE seed must be 0 <= seed < 2**31."""


def make_env(env_id: str, **kwargs: Any) -> Any:
    """``gymnasium.make`` that first registers ale-py's environments for ``ALE/`` ids."""
    import gymnasium

    if env_id.startswith(ALE_PREFIX):
        import ale_py

        gymnasium.register_envs(ale_py)
    return gymnasium.make(env_id, **kwargs)


def ale_seed(seed: int) -> int:
    """``seed`` as an ALE emulator's random seed; ValueError when ale-py's vector env could not take
    it (it would silently seed that emulator from the clock)."""
    if not 0 <= seed < ALE_SEED_LIMIT:
        raise ValueError(f"an ALE environment's seed must be 0 <= seed < 2**31, not {seed}")
    return int(seed)


def seed_env(env: Any, seed: int) -> Any:
    """Seeds ``env`` and resets it (a seeded reset: an ALE env reloads its ROM); returns the first
    observation.

    Gymnasium's ``reset(seed=seed)``, except that an ALE env's emulator gets ``seed`` itself as its
    random seed (the one behind sticky actions). Why: ale-py's AtariVectorEnv, the Atari reference
    backend, seeds its emulators only that way (its ``reset(seed=s)`` hands ``s`` to the emulator as
    is), while Gymnasium's AtariEnv derives another 32-bit seed from ``s`` (``SeedSequence(s)``),
    about half of which the vector env cannot express: seeded through ``reset(seed=...)`` the workers
    and the vector env played different games (Pong rewards over 2 x 300 steps differed).
    """
    if not env.spec.id.startswith(ALE_PREFIX):
        return env.reset(seed=seed)[0]
    atari = env.unwrapped
    atari.seed_game(seed)  # the env's own generator, as reset(seed=seed) seeds it
    atari.ale.setInt("random_seed", ale_seed(seed))  # the emulator's: the seed itself, as the vector env
    atari.load_game()  # the seed takes effect when the ROM loads, as in AtariEnv.reset(seed=...)
    return env.reset()[0]


def observation_fingerprint(observation: Any, previous: int = 0) -> int:
    """A CRC-32 of an observation's bytes, chained onto ``previous`` (a fingerprint of the ones before).

    Used only outside timed rounds (a 210x160x3 Atari frame costs about 30 us, a quarter of a step).
    A tuple observation (Blackjack's) is its parts in order; a worker's own observation and the one a
    vector env returns for the same env have the same bytes (the vector env only stacks them).
    """
    if isinstance(observation, tuple):
        for part in observation:
            previous = observation_fingerprint(part, previous)
        return previous
    return zlib.crc32(np.ascontiguousarray(observation), previous)
