"""Finds backends and workloads in installed distributions, through entry points (as pytest and asv
find their plugins): this project registers its built-ins in its own ``pyproject.toml`` exactly as a
third-party distribution registers a plugin, so one mechanism serves both.

A plugin that fails to import is kept, with its one-line reason, instead of ending the harness (asv's
rule): ``list`` shows it and ``run`` records its cells as ``unavailable``. That includes a module that
calls ``sys.exit()`` on import (``SystemExit`` is no ``Exception``): uncaught, it would end every
command with its status before any work, and a gate that exits 0 without measuring passes anything.
Only Ctrl-C (``KeyboardInterrupt``) goes through. Two distributions that
register the same name are a usage error naming both, since nothing could tell which one a user meant.
"""

from __future__ import annotations

import importlib.metadata as metadata
from dataclasses import dataclass
from typing import Any

from backends.base import error_line

from .errors import UsageError

BACKEND_GROUP = "actor_reactor_bench.backends"
WORKLOAD_GROUP = "actor_reactor_bench.workloads"
PROJECT = "actor-reactor-bench"
"""This project's own distribution: its entry points come first, in the order its pyproject lists them."""


@dataclass(frozen=True)
class Plugin:
    """One registered name: the object it loaded, or why it could not be loaded, and where it came from."""

    name: str
    distribution: str
    version: str
    target: str
    """``module:attribute`` as the entry point names it."""
    loaded: Any = None
    error: str = ""

    @property
    def origin(self) -> str:
        return f"{self.distribution} {self.version}".strip()


def _normalized(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def discover(group: str, kind: str) -> list[Plugin]:
    """Every entry point of ``group``, loaded; the project's own first, then by distribution name.

    The same distribution found twice on the path (an editable install beside a source checkout)
    counts once; two distributions registering one name are a UsageError.
    """
    found: dict[str, Plugin] = {}
    points = sorted(
        ((ep, ep.dist) for ep in metadata.entry_points(group=group)),
        key=lambda pair: (pair[1] is None or _normalized(pair[1].name) != PROJECT, _dist_name(pair[1])),
    )
    for point, dist in points:
        distribution, version = _dist_name(dist), dist.version if dist is not None else ""
        if point.name in found:
            if _normalized(found[point.name].distribution) == _normalized(distribution):
                continue
            raise UsageError(
                f"{kind} name {point.name!r} is registered by two distributions: "
                f"{found[point.name].distribution} and {distribution}; uninstall one of them"
            )
        found[point.name] = _load(point, distribution, version)
    return list(found.values())


def _dist_name(dist: metadata.Distribution | None) -> str:
    return dist.name if dist is not None else "(unknown distribution)"


def _load(point: metadata.EntryPoint, distribution: str, version: str) -> Plugin:
    try:
        loaded = point.load()
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # a broken plugin of any kind (sys.exit included): recorded, never fatal
        reason = f"failed to load: {error_line(error)}"[:300]
        return Plugin(point.name, distribution, version, point.value, error=reason)
    return Plugin(point.name, distribution, version, point.value, loaded=loaded)
