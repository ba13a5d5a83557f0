"""Names the user can type: backends, workloads, suites, profiles, and what runs on what.

Backends and workloads come from entry points (``harness.plugins``): the built-ins and any installed
plugin alike. They are loaded on first use (``BACKENDS``, ``WORKLOADS``, ``SUITES``, ``ORIGINS`` are
module attributes computed then), so that a conflict between two plugins is reported by the command
line as one line, not as a traceback at import. Suites come from the workloads: each names its own
suite (and may join others, ``Workload.also_in``); ``all`` and ``smoke`` hold every workload.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from backends.base import Backend, BackendUnavailable
from workloads.base import PROFILES, Workload

from . import interpreters
from .errors import UsageError
from .plugins import BACKEND_GROUP, WORKLOAD_GROUP, Plugin, discover

PLACEHOLDER_OPERATIONS = frozenset({"call_all", "pipeline"})
"""What a backend that failed to load is planned for: the worker-group operations most backends
offer, so that ``run`` records its cells as unavailable (with the reason) instead of dropping them."""


@dataclass(frozen=True)
class _Registry:
    backends: dict[str, type[Backend]]
    workloads: dict[str, Workload]
    suites: dict[str, list[str]]
    origins: dict[str, Plugin]
    """backend or workload name -> where it came from (and why it failed to load, if it did)."""
    broken_workloads: dict[str, Plugin]


@functools.cache
def _registry() -> _Registry:
    backends: dict[str, type[Backend]] = {}
    origins: dict[str, Plugin] = {}
    for plugin in discover(BACKEND_GROUP, "backend"):
        loaded = plugin.loaded
        valid = isinstance(loaded, type) and issubclass(loaded, Backend) and loaded.name == plugin.name
        if plugin.error or not valid:
            why = plugin.error or f"{plugin.target} is not a Backend subclass named {plugin.name!r}"
            plugin = Plugin(plugin.name, plugin.distribution, plugin.version, plugin.target, error=why)
            loaded = _unloadable_backend(plugin)
        backends[plugin.name] = loaded
        origins[plugin.name] = plugin
    workloads: dict[str, Workload] = {}
    broken: dict[str, Plugin] = {}
    for plugin in discover(WORKLOAD_GROUP, "workload"):
        loaded = plugin.loaded
        valid = isinstance(loaded, type) and issubclass(loaded, Workload) and loaded.name == plugin.name
        if plugin.error or not valid:
            why = plugin.error or f"{plugin.target} is not a Workload subclass named {plugin.name!r}"
            broken[plugin.name] = Plugin(
                plugin.name, plugin.distribution, plugin.version, plugin.target, error=why
            )
            continue
        workloads[plugin.name] = loaded()
        origins.setdefault(plugin.name, plugin)
    return _Registry(backends, workloads, _suites(workloads), origins, broken)


def _suites(workloads: dict[str, Workload]) -> dict[str, list[str]]:
    suites: dict[str, list[str]] = {}
    for name, workload in workloads.items():
        for suite in (workload.suite, *workload.also_in):
            suites.setdefault(suite, []).append(name)
    suites["all"] = [name for name, workload in workloads.items() if workload.in_all]
    suites["smoke"] = list(suites["all"])  # every workload of `all` at its smoke-profile sizes, in seconds
    return suites


def _unloadable_backend(plugin: Plugin) -> type[Backend]:
    """A stand-in for a backend that failed to load: always unavailable, with the reason."""

    def refuse(self: Backend, *args: Any, **kwargs: Any) -> Any:
        raise BackendUnavailable(plugin.error)

    namespace = {
        "name": plugin.name,
        "description": f"(from {plugin.origin}; could not be loaded)",
        "operations": PLACEHOLDER_OPERATIONS,
        "availability": classmethod(lambda cls: plugin.error),
        "start": refuse,
        "call_all": refuse,
        "shutdown": lambda self: None,
    }
    return type(f"Unloadable_{plugin.name}", (Backend,), namespace)


def __getattr__(name: str) -> Any:
    """``BACKENDS``, ``WORKLOADS``, ``SUITES``, ``ORIGINS``: the registry, loaded on first use."""
    attributes = {"BACKENDS": "backends", "WORKLOADS": "workloads", "SUITES": "suites", "ORIGINS": "origins",
                  "BROKEN_WORKLOADS": "broken_workloads"}  # fmt: skip
    if name in attributes:
        return getattr(_registry(), attributes[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def availability(backend: str) -> str | None:
    """None if the backend can run here, else why not (a missing optional package or interpreter).

    A backend with an interpreter of its own is asked the rest inside it, when its cell starts.
    """
    cls = _registry().backends[backend]
    if cls.interpreter is not None:
        return interpreters.missing(cls.interpreter)
    return cls.availability()


def backends_for(workload: Workload) -> list[str]:
    """Backends that implement one of the workload's operations, in registry order (on test hosts:
    those that can start a cluster there, and the workload's floor)."""
    return [
        name
        for name, cls in _registry().backends.items()
        if workload.operations & cls.operations
        and (not workload.on_test_hosts or cls.multi_host or name in workload.floor_backends)
    ]


def parse_backends(text: str | None) -> list[str] | None:
    """``a,b`` -> [a, b], rejecting unknown or repeated names; None means every backend."""
    if text is None:
        return None
    names = [part.strip() for part in text.split(",")]
    if not all(names):
        raise UsageError(f"--backends: empty name in {text!r}")
    backends = _registry().backends
    unknown = [n for n in names if n not in backends]
    if unknown:
        raise UsageError(f"unknown backend {unknown[0]!r}; choose from {', '.join(backends)}")
    if len(set(names)) != len(names):
        raise UsageError(f"--backends: a name is repeated in {text!r}")
    return names


def check_suite(name: str) -> None:
    suites = _registry().suites
    if name not in suites:
        raise UsageError(f"unknown suite {name!r}; choose from {', '.join(suites)}")


def check_profile(name: str) -> None:
    if name not in PROFILES:
        raise UsageError(f"unknown profile {name!r}; choose from {', '.join(PROFILES)}")


def profile_for(suite: str, profile: str | None) -> str:
    """The profile whose sizes a suite runs: ``smoke`` always runs smoke sizes, so asking it for
    another profile is refused rather than silently ignored; None means the default, ``quick``."""
    if profile is not None:
        check_profile(profile)
    if suite == "smoke":
        if profile not in (None, "smoke"):
            raise UsageError(f"--suite smoke runs the smoke sizes only; drop --profile {profile}")
        return "smoke"
    return profile or "quick"
