"""Names the user can type: backends, workloads, suites, profiles, and what runs on what."""

from __future__ import annotations

from backends.base import Backend
from backends.freethreaded import ReactorFtBackend, XronosFtBackend
from backends.ray_backend import RayBackend
from backends.ray_compiled import RayCompiledBackend
from backends.reactor_backend import ReactorBackend
from backends.sequential import SequentialBackend
from backends.vector_envs import AleVector, GymAsyncVector, GymSyncVector
from backends.xronos_backend import XronosBackend
from workloads.base import PROFILES, Workload
from workloads.collectives import Collectives
from workloads.micro import Micro
from workloads.multi_agent import MultiAgent
from workloads.sampling import AtariSampling, GymSampling
from workloads.training import Training
from workloads.training_return import TrainingReturn

from . import interpreters
from .errors import UsageError

BACKENDS: dict[str, type[Backend]] = {
    cls.name: cls
    for cls in (
        SequentialBackend,
        RayBackend,
        RayCompiledBackend,
        ReactorBackend,
        XronosBackend,
        ReactorFtBackend,
        XronosFtBackend,
        GymSyncVector,
        GymAsyncVector,
        AleVector,
    )
}

WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Collectives(),
        Micro(),
        GymSampling(),
        AtariSampling(),
        MultiAgent(),
        Training(),
        TrainingReturn(),
    )
}

SUITES: dict[str, list[str]] = {
    "collectives": ["collectives"],
    "micro": ["micro"],
    "gym": ["gym"],
    "atari": ["atari"],
    "multi-agent": ["multi-agent"],
    "training": ["training", "training-return"],
    "training-return": ["training-return"],
}
SUITES["all"] = ["collectives", "micro", "gym", "atari", "multi-agent", "training", "training-return"]
SUITES["smoke"] = list(SUITES["all"])
"""``smoke`` runs every workload of ``all`` at its smoke-profile sizes, in seconds."""


def availability(backend: str) -> str | None:
    """None if the backend can run here, else why not (a missing optional package or interpreter).

    A backend with an interpreter of its own is asked the rest inside it, when its cell starts.
    """
    cls = BACKENDS[backend]
    if cls.interpreter is not None:
        return interpreters.missing(cls.interpreter)
    return cls.availability()


def backends_for(workload: Workload) -> list[str]:
    """Backends that implement one of the workload's operations, in registry order."""
    return [name for name, cls in BACKENDS.items() if workload.operations & cls.operations]


def parse_backends(text: str | None) -> list[str] | None:
    """``a,b`` -> [a, b], rejecting unknown or repeated names; None means every backend."""
    if text is None:
        return None
    names = [part.strip() for part in text.split(",")]
    if not all(names):
        raise UsageError(f"--backends: empty name in {text!r}")
    unknown = [n for n in names if n not in BACKENDS]
    if unknown:
        raise UsageError(f"unknown backend {unknown[0]!r}; choose from {', '.join(BACKENDS)}")
    if len(set(names)) != len(names):
        raise UsageError(f"--backends: a name is repeated in {text!r}")
    return names


def check_suite(name: str) -> None:
    if name not in SUITES:
        raise UsageError(f"unknown suite {name!r}; choose from {', '.join(SUITES)}")


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
