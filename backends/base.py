"""The backend interface every execution model implements (DESIGN.md §3).

A backend hosts a group of N workers. Each worker is built *inside* the backend's execution context
(a Ray actor process, a reactor, the driver's own loop) from a picklable factory the workload supplies,
so the worker owns its state. Everything a workload does is expressed as ``call_all``: every worker
runs one method of its own with the same argument, and the results come back in worker-index order.
Broadcast, gather and environment stepping are named forms of it, so that the harness can time them
separately and every backend is measured doing exactly the same calls. The training pipeline chains
groups (``start_pipeline``/``pipeline_round``), each backend in its own idiom: refs passed from actor
to actor on Ray, a reactor program with banks on the reactor runtime.
"""

from __future__ import annotations

import abc
import importlib.util
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:  # the runtime's library owns the type; importing it here would load the runtime
    from .reactor.distribution import Distribution

WorkerFactory = Callable[[int], Any]
"""Builds worker ``i``; must be picklable (a module-level function or a functools.partial of one)."""

FREE_THREADED = "free-threaded"
"""The name of free-threaded CPython as a ``Backend.interpreter``: the backends that need it say so, the
harness knows where it lives (``harness.interpreters``)."""

STEP = "step"
STEP_OBSERVED = "step_observed"
"""The two methods of an environment worker (``EnvironmentFactory``): ``step`` in timed rounds,
``step_observed`` (which also fingerprints every observation) where the cost does not count."""


@dataclass(frozen=True)
class EnvironmentFactory:
    """A worker factory for environment workloads that also names the environment it steps.

    Worker-group backends just call it (``factory(index)`` builds a worker whose ``step(k)`` returns
    ``(steps, reward_sum)`` and whose ``step_observed(k)`` returns ``(steps, reward_sum, fingerprint)``:
    ``steps`` is the env steps it did, counted as it did them, ``fingerprint`` chains
    ``observation_fingerprint`` over the observation after each step, the reset one
    where an episode ended); vectorized reference backends (Gymnasium's vector envs, ale-py's
    AtariVectorEnv) read ``env_id`` and ``seed`` and build the same environments their own way,
    answering both methods through ``step_environments``: env ``i`` is seeded once with ``seed + i``
    at construction (``seed_env``), its actions come from its action space seeded
    with ``seed + i``, and an episode's end resets it without a seed in the same step.
    """

    env_id: str
    seed: int
    build_worker: Callable[[int], Any]

    def __call__(self, index: int) -> Any:
        return self.build_worker(index)


# --- the environments: built, seeded and fingerprinted one way for workers and vector envs -------------
# Part of the interface because both sides of it use them: the environment workers a workload builds and
# the vectorized reference backends must build, seed and observe exactly the same environments (with the
# same seeds they must get the same rewards and see the same observations: the sampling workloads'
# result digest compares them).

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


def missing_package(module: str, requirement: str) -> str | None:
    """The unavailability reason of a backend whose optional package is absent, else None.

    Uses ``find_spec`` so that ``list`` can tell without importing heavy packages such as Ray.
    """
    if importlib.util.find_spec(module) is None:
        return f"the '{module}' package is not installed (pip install '{requirement}')"
    return None


def write_secret(path: str | os.PathLike[str], text: str) -> None:
    """Writes ``text`` (a cluster's key, token) to ``path``, readable and writable by this user only.

    The file is 0600 from the moment it exists, whatever the umask and whatever a file of that name
    had before: one created with the default mode and restricted afterwards could be opened in between.
    """
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        os.fchmod(descriptor, 0o600)
        file.write(text)


THREADS, PROCESSES, HOSTS = "threads", "processes", "hosts"
PLACEMENTS = (THREADS, PROCESSES, HOSTS)
"""Where a backend's workers run (``Backend.placement``)."""


PIPELINE_VARIANTS = ("sync", "pipelined")


@dataclass(frozen=True)
class PipelineSpec:
    """The training graph of DESIGN.md §3: rollouts -> replay -> learner -> weights back to rollouts.

    Every backend calls exactly these methods once per round. ``sync``, in this order:
    ``rollout(i).collect(weights)`` on every rollout worker (``weights`` is None in the first round:
    the workers start from the learner's initial weights), ``replay().store_and_sample(batches)``
    with the batches in worker order, then ``learner().update(minibatch) -> (weights, report)``.

    ``pipelined``: the learner's update of round r does not wait for round r's rollouts, so the two
    stages may run at the same time. In round r the rollouts collect with the weights of round r-1's
    update while the learner updates on the minibatch the replay sampled in round r-1 (``None`` in
    round 1); then the replay stores round r's batches and samples the minibatch of round r+1. The
    rollouts' weights are therefore one round older than in ``sync``.

    ``pipeline_round`` returns the learner's report; weights and minibatches stay inside the backend.
    """

    rollout: WorkerFactory
    n_rollouts: int
    replay: Callable[[], Any]
    learner: Callable[[], Any]
    variant: str = "sync"

    def __post_init__(self) -> None:
        if self.variant not in PIPELINE_VARIANTS:
            raise ValueError(f"pipeline variant {self.variant!r}; choose from {', '.join(PIPELINE_VARIANTS)}")

    @property
    def pipelined(self) -> bool:
        return self.variant == "pipelined"

    def stages(self) -> list[tuple[Callable[..., Any], int | None]]:
        """Every worker of the graph as (factory, index): the rollouts in order, then the replay and
        the learner (index None: built with no argument). Backends that host them alike (actors)
        build this list and hand the result to ``split``."""
        return [(self.rollout, i) for i in range(self.n_rollouts)] + [
            (self.replay, None),
            (self.learner, None),
        ]

    @staticmethod
    def split(hosts: list[Any]) -> tuple[list[Any], Any, Any]:
        """(rollouts, replay, learner) of what was built from ``stages()``, in that order."""
        return hosts[:-2], hosts[-2], hosts[-1]


def error_line(error: BaseException) -> str:
    """``Type: first line of the message``: how an error is named in one line (a CSV cell, a message)."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


class WorkerFailed(Exception):
    """A worker's method raised, or its process died: the one error a backend raises for it, naming
    the worker by index, whatever the framework's own exception looked like (a Ray task error, a
    reaction failure), so that a user, the harness and the conformance kit can tell who failed."""

    def __init__(self, index: int, error: BaseException | str):
        self.index = index
        super().__init__(f"worker {index}: {error if isinstance(error, str) else error_line(error)}")


class ClusterAddressError(Exception):
    """An address of an existing cluster that cannot be used (malformed, nothing answers, not the
    framework's protocol): the harness reports it in one line before any cell runs."""


class BackendUnavailable(Exception):
    """The backend cannot run here (a missing optional package); the reason is shown to the user."""


class OperationNotSupported(Exception):
    """The workload asked for an operation this backend does not implement."""


@dataclass(frozen=True)
class Host:
    """A machine a multi-host cell may use (DESIGN.md §10): on this machine a network namespace.

    ``address`` is the IPv4 address the host's services listen on and others reach it by;
    ``command`` is the prefix that runs a program there (``ip netns exec NAME``; an ssh command
    elsewhere). Host 0 is where the cell's driver runs; workers go on hosts 1..H-1.
    """

    name: str
    address: str
    command: tuple[str, ...] = ()


def worker_host(index: int, hosts: tuple[Host, ...]) -> Host:
    """The host worker ``index`` runs on: round-robin over hosts 1..H-1 (host 0 keeps the driver),
    so that every multi-host backend places the same worker on the same host."""
    if len(hosts) < 2:
        raise ValueError("a multi-host placement needs at least two hosts")
    return hosts[1 + index % (len(hosts) - 1)]


@dataclass
class BackendOptions:
    """Settings shared by all backends; each backend uses the ones that apply to it."""

    threads: int = field(default_factory=lambda: os.cpu_count() or 1)
    processes: int = field(default_factory=lambda: os.cpu_count() or 1)
    """Processes a backend that spreads its workers over processes of its own uses (``reactor-fed``)."""
    cluster_address: str | None = None
    """An existing cluster to run on (the backend's ``cluster_option``), else None: a private one."""
    scratch_dir: str | None = None
    """A private folder of the cell, removed with it: where a framework keeps its temporary files
    (Ray's session folders) instead of a shared, world-writable one that nobody removes."""
    hosts: tuple[Host, ...] = ()
    """The test hosts of a multi-host cell (empty: everything on this machine, as usual). A backend
    with ``multi_host`` starts its own cluster on them: its services on host 0, where this process
    runs, and worker ``i`` on ``worker_host(i, hosts)``."""


class Backend(abc.ABC):
    """A group of workers and the operations a workload may time.

    Life cycle: ``start`` (timed by the harness as ``startup_s``), any number of operations, then
    ``shutdown``, which must release processes, threads and shared memory even after an error.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    operations: ClassVar[frozenset[str]] = frozenset({"call_all"})
    headline_only_in_quick: ClassVar[bool] = False
    """A costly extra backend: in the quick profile it runs each workload's headline points only
    (``Workload.is_headline``), so that `all` stays within 20 minutes; every point in ``paper``."""
    polls_when_idle: ClassVar[bool] = False
    """Its workers burn CPU while waiting (Compiled Graphs' channel polling): the harness then also
    measures ``idle_cpu_util`` over an idle window after the measured rounds."""
    cluster_option: ClassVar[str | None] = None
    """The ``run`` option that points this backend at an existing cluster (``"ray-address"`` becomes
    ``--ray-address``), or None; backends may share one. The address reaches the backend as
    ``BackendOptions.cluster_address``."""
    cluster_variable: ClassVar[str | None] = None
    """The environment variable the option defaults to (``RAY_ADDRESS``), as the framework's own."""
    multi_host: ClassVar[bool] = False
    """It can start its cluster on ``BackendOptions.hosts`` (test hosts), placing worker ``i`` on
    ``worker_host(i, hosts)``; only such backends run the ``cluster`` suite."""
    interpreter: ClassVar[str | None] = None
    """None: cells run under the harness's own interpreter. Otherwise the name of another one the
    harness starts the cell with (``FREE_THREADED``); ``availability`` is then asked in that process."""
    placement: ClassVar[str] = THREADS
    """Where its workers run (``PLACEMENTS``): ``threads`` of the driver's process (shared memory, no
    serialization), ``processes`` of this machine (every argument and result crosses a process
    boundary, so a payload is copied), or ``hosts`` (other machines). Workloads read it instead of
    a backend's name: a memory estimate counts copies for every backend in processes alike."""
    federated: ClassVar[bool] = False
    """Its runtime spreads one group of workers over federates (processes of its own) coordinated by
    a run-time infrastructure: a group must have at least one member per federate to mean anything."""
    single_threaded: ClassVar[bool] = False
    """Its runtime executes on one thread whatever ``--threads`` says: points that vary the runtime's
    worker threads do not apply to it."""
    process_per_worker: ClassVar[bool] = False
    """Every worker is a process started for the cell (an actor process): starting N workers costs
    seconds each on a small machine, so a workload may thin its quick grid for such a backend."""
    paper_profile_only: ClassVar[bool] = False
    """Too slow to start for the quick profile's time budget: measured in the ``paper`` profile only."""
    worker_memory_bytes: ClassVar[int] = 0
    """Memory each worker costs beyond the workload's own state (the interpreter of an actor process);
    0 for workers that share the driver's process. Federates and other processes a backend starts
    per cell rather than per worker are counted by ``own_processes_bytes`` instead."""
    env_family: ClassVar[str | None] = None
    """For a vector-environment reference backend, the family of environments it steps (``gym``,
    ``atari``: the sampling workload's suite it is the reference of); None for a general backend."""
    plot_style: ClassVar[tuple[str, str] | None] = None
    """(matplotlib color, marker) of its series in the figures; None: one picked from a palette by its
    name, the same in every figure and every run."""

    def __init__(self, options: BackendOptions | None = None):
        self.options = options or BackendOptions()
        self.n_workers = 0

    @classmethod
    def availability(cls) -> str | None:
        """None when the backend can run here, else a one-line reason (never raises)."""
        return None

    @classmethod
    def check_cluster(cls, address: str, origin: str) -> list[str]:
        """Checks a ``cluster_option`` address before any cell runs; raises ``ClusterAddressError``
        (its message starting with ``origin``) when it cannot be used, returns warnings otherwise.
        Only called when a backend of this cluster option is about to run."""
        return []

    @classmethod
    def own_processes_bytes(cls, options: BackendOptions, group: int) -> int:
        """Memory of the processes it starts of its own for a group of ``group`` workers (reactor-fed's
        federates), which no workload's estimate counts: the harness adds it to the workload's
        estimate before it starts a cell, so that a cell that would not fit is skipped."""
        return 0

    @abc.abstractmethod
    def start(self, factory: WorkerFactory, n_workers: int) -> None:
        """Creates the workers, each from ``factory(index)`` inside the execution context."""

    @abc.abstractmethod
    def call_all(self, method: str, arg: Any = None) -> list[Any]:
        """Every worker runs ``worker.<method>(arg)``; returns the results in worker-index order.

        A worker that raises (or dies) makes it raise one ``WorkerFailed`` naming that worker."""

    def broadcast(self, payload: Any, method: str = "receive") -> None:
        """Every worker receives ``payload``; returns once all have it."""
        self.call_all(method, payload)

    def gather(self, method: str = "result") -> list[Any]:
        """One result per worker, in worker-index order (never arrival order)."""
        return self.call_all(method, None)

    def step_environments(self, steps: int, method: str = STEP) -> list[Any]:
        """Every worker steps its own environment(s) ``steps`` times and returns a summary."""
        return self.call_all(method, steps)

    def start_pipeline(self, spec: PipelineSpec) -> None:
        """Creates the rollout group, the replay buffer and the learner (timed as start-up)."""
        raise OperationNotSupported(f"{self.name} does not run the training pipeline")

    def pipeline_round(self) -> Any:
        """One round of the pipeline (``PipelineSpec.variant``); returns the learner's report."""
        raise OperationNotSupported(f"{self.name} does not run the training pipeline")

    def micro(self, program: str, size: int, workers: int) -> Distribution:
        """Runtime micro-benchmark (reactor runtimes only), in microseconds per reaction (``chain``)
        or per round: the distribution over rounds timed one by one after start-up and warm-up
        (``backends.reactor.distribution``); see workloads.micro."""
        raise OperationNotSupported(f"{self.name} has no runtime micro-benchmarks")

    def coordination_messages(self) -> int | None:
        """How many coordination messages the backend's own runtime has sent so far (the RTI's tag
        grants, for federated reactors), or None when it cannot count them; read before and after
        the measured rounds to give ``round_trips_per_round``."""
        return None

    @abc.abstractmethod
    def shutdown(self) -> None:
        """Releases everything; safe to call twice and after a failed ``start``."""

    def describe(self) -> dict[str, Any]:
        """Versions and settings recorded with every row."""
        return {"threads": 1}
