"""Builds Gymnasium environments by id, including the ALE (Atari) ids whose ROMs ale-py ships.

Shared by the environment workers and the vectorized reference backends so that both build exactly
the same environments.
"""

from __future__ import annotations

from typing import Any


def make_env(env_id: str, **kwargs: Any) -> Any:
    """``gymnasium.make`` that first registers ale-py's environments for ``ALE/`` ids."""
    import gymnasium

    if env_id.startswith("ALE/"):
        import ale_py

        gymnasium.register_envs(ale_py)
    return gymnasium.make(env_id, **kwargs)
