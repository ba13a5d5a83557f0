"""Micro-benchmarks of the xronos reactor runtime (PyPI package ``xronos``).

Two shapes are measured, both driven entirely inside xronos in fast mode
(logical time advances as fast as possible, no physical events):

* :func:`chain_us_per_reaction` -- a source followed by a chain of relays,
  giving the cost of one reaction (trigger, handler call, port set, and
  scheduling of the downstream reaction).
* :func:`bank_round_us` -- one broadcast + gather round between a driver and a
  bank of N workers, the reactor analogue of "send to N actors, await all".

Both time every tag on its own, exactly as the in-house runtime's
``backends.reactor.bench`` does, so that the two are compared like for like:
the first reaction of each tag (the source's tick, the driver's broadcast)
reads ``time.perf_counter()`` first thing, a tag lasts from its reading to
the next tag's, the first ``warmup`` tags are dropped, and the result is the
distribution of the rest (``backends.reactor.distribution``: median, p10,
p90, p99). Graph assembly and validation, the diagram export, startup and
shutdown come before the first reading or after the last, so they are never
inside a measured tag. The programs drive themselves with a programmable
timer: a physical event would silently turn fast mode off (below).

Notes on xronos 0.15 that shape this module:

* ``xronos.Environment`` always asks the C++ SDK to export the reactor graph
  to a diagram server over gRPC (``localhost:50051``) at the start of every
  ``execute()``; this costs about 1 ms and spawns gRPC threads. There is no
  public switch and no environment variable to turn it off, but the SDK
  environment takes ``render_reactor_graph``; :func:`_new_environment` swaps
  in an SDK environment created with ``render_reactor_graph=False``. It is
  outside the measured tags anyway; turning it off removes the threads and
  the noise they add.
* Declaring any ``PhysicalEvent`` silently disables fast mode, so none is used.
* Reactors are never freed, so every measurement leaks its program; the
  programs are small enough for that not to matter.
* ``execute()`` installs its own SIGINT handling; the Python handler in place
  before the call is put back afterwards.
* Reactions of one reactor are ordered by declaration order, so a reaction
  that gathers results caused by another reaction of the same reactor must be
  declared after it, or validation reports a dependency cycle.

Importing this module never requires xronos; the functions import it and
raise :class:`ImportError` with an explanation if it is missing.
"""

from __future__ import annotations

import datetime
import functools
import gc
import signal
import threading
import time
from collections.abc import Callable
from types import ModuleType, SimpleNamespace
from typing import Any

from backends.reactor.distribution import WARMUP_ROUNDS, Distribution, readings_for

__all__ = ["bank_round_us", "chain_us_per_reaction", "xronos_version"]

_INSTALL_HINT = (
    "The xronos backend needs the 'xronos' package (the Xronos reactor runtime, "
    "Python >= 3.10); install it with 'pip install xronos'."
)

#: Logical-time step between two tags. Any positive delay works in fast mode;
#: a delay (rather than a zero-delay microstep) keeps each round at its own
#: logical time, like a periodic timer would.
_TAG_STEP = datetime.timedelta(microseconds=1)


def _require_xronos() -> ModuleType:
    """Import xronos, or raise ImportError explaining how to get it.

    Imported lazily so that the benchmark harness can import every backend
    module and skip the ones whose runtime is missing.
    """
    try:
        import xronos
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(_INSTALL_HINT) from exc
    return xronos


def xronos_version() -> str:
    """Return the installed xronos version, for recording next to results.

    Raises:
        ImportError: If xronos is not installed.
    """
    _require_xronos()
    from importlib import metadata

    try:
        return metadata.version("xronos")
    except metadata.PackageNotFoundError as exc:  # pragma: no cover
        raise ImportError(_INSTALL_HINT) from exc


def _new_environment(xronos: ModuleType, export_graph: bool = False) -> Any:
    """Create a fast-mode Environment, by default without the diagram export.

    ``xronos.Environment.__init__`` hard-codes ``render_reactor_graph=True``
    for the SDK environment it wraps, which makes every ``execute()`` send the
    reactor graph over gRPC to ``localhost:50051`` (about 1 ms, plus gRPC
    threads). Replacing the wrapped SDK environment before any reactor is
    created is the only way to skip that in 0.15. If a future release renames
    the private attribute or changes the SDK signature, the export is simply
    left on (it happens before the first measured tag anyway).
    """
    env = xronos.Environment(fast=True)
    if not export_graph:
        try:
            import xronos._cpp_sdk as sdk

            if hasattr(env, "_Environment__sdk_env"):
                env._Environment__sdk_env = sdk.Environment(True, render_reactor_graph=False)
        except (ImportError, TypeError):  # pragma: no cover - other versions
            pass
    return env


def _execute(env: Any) -> None:
    """Run ``env.execute()`` with the garbage collector paused.

    The collector is paused (as ``timeit`` does, and as the in-house runtime's
    benchmarks do) so a collection triggered by the handlers' small
    allocations does not land in the measured tags. The Python SIGINT handler
    in place before the call is restored afterwards, because the runtime
    installs its own handling during ``execute()``.
    """
    in_main = threading.current_thread() is threading.main_thread()
    sigint = signal.getsignal(signal.SIGINT) if in_main else None
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        env.execute()
    finally:
        if gc_was_enabled:
            gc.enable()
        if in_main and sigint is not None:
            signal.signal(signal.SIGINT, sigint)


@functools.cache
def _reactor_classes() -> SimpleNamespace:
    """Define the reactor classes once, after xronos has been imported.

    They cannot live at module level because importing this module must work
    without xronos. Every class takes a ``count`` flag: when true the handlers
    also count invocations and record values (used by the sanity checks);
    when false they do only the work the benchmark describes. The source and
    the driver read the clock first thing in every tag either way (``stamps``).
    """
    xronos = _require_xronos()
    from xronos import experimental as xe

    class Source(xronos.Reactor):  # type: ignore[misc, valid-type]
        """Emits 0, 1, ..., tags-1 on ``out``, one value per tag.

        The next tag is requested by rescheduling its own programmable timer,
        so the number of tags is exact and the program ends by itself when no
        events remain (no shutdown request or timeout needed).
        """

        out = xronos.OutputPortDeclaration[int]()
        tick = xronos.ProgrammableTimerDeclaration[int]()

        def __init__(self, tags: int, count: bool) -> None:
            super().__init__()
            self.tags = tags
            self.count = count
            self.fired = 0
            self.stamps: list[float] = []

        @xronos.reaction
        def on_startup(self, ctx: Any) -> Callable[[], None]:
            ctx.add_trigger(self.startup)
            first = ctx.add_effect(self.tick)
            return lambda: first.schedule(0)

        @xronos.reaction
        def on_tick(self, ctx: Any) -> Callable[[], None]:
            trig = ctx.add_trigger(self.tick)
            again = ctx.add_effect(self.tick)
            out = ctx.add_effect(self.out)
            last = self.tags - 1
            step = _TAG_STEP

            if self.count:

                def counted() -> None:
                    self.stamps.append(time.perf_counter())
                    i = trig.get()
                    self.fired += 1
                    out.set(i)
                    if i < last:
                        again.schedule(i + 1, step)

                return counted

            def handler() -> None:
                self.stamps.append(time.perf_counter())
                i = trig.get()
                out.set(i)
                if i < last:
                    again.schedule(i + 1, step)

            return handler

    class Relay(xronos.Reactor):  # type: ignore[misc, valid-type]
        """Copies its input value to its output, one reaction per tag."""

        inp = xronos.InputPortDeclaration[int]()
        out = xronos.OutputPortDeclaration[int]()

        def __init__(self, count: bool) -> None:
            super().__init__()
            self.count = count
            self.fired = 0
            self.last: int | None = None

        @xronos.reaction
        def relay(self, ctx: Any) -> Callable[[], None]:
            inp = ctx.add_trigger(self.inp)
            out = ctx.add_effect(self.out)

            if self.count:

                def counted() -> None:
                    v = inp.get()
                    self.fired += 1
                    self.last = v
                    out.set(v)

                return counted

            def handler() -> None:
                out.set(inp.get())

            return handler

    class Driver(xronos.Reactor):  # type: ignore[misc, valid-type]
        """Broadcasts one value per round and gathers the N worker replies.

        The N reply inputs are created dynamically (``xronos.experimental``)
        because the declarative API needs the number of ports at class
        definition time. ``broadcast`` must be declared before ``gather``:
        reactions of a reactor run in declaration order, and the reverse order
        is rejected as a dependency cycle.
        """

        out = xronos.OutputPortDeclaration[int]()
        tick = xronos.ProgrammableTimerDeclaration[int]()

        def __init__(self, n: int, rounds: int, count: bool) -> None:
            super().__init__()
            self.n = n
            self.rounds = rounds
            self.count = count
            self.ins = [xe.InputPort[tuple[int, int]](f"in{i}", self) for i in range(n)]
            self.broadcasts = 0
            self.gathers = 0
            self.stamps: list[float] = []

        @xronos.reaction
        def on_startup(self, ctx: Any) -> Callable[[], None]:
            ctx.add_trigger(self.startup)
            first = ctx.add_effect(self.tick)
            return lambda: first.schedule(0)

        @xronos.reaction
        def broadcast(self, ctx: Any) -> Callable[[], None]:
            trig = ctx.add_trigger(self.tick)
            again = ctx.add_effect(self.tick)
            out = ctx.add_effect(self.out)
            last = self.rounds - 1
            step = _TAG_STEP

            if self.count:

                def counted() -> None:
                    self.stamps.append(time.perf_counter())
                    r = trig.get()
                    self.broadcasts += 1
                    out.set(r)
                    if r < last:
                        again.schedule(r + 1, step)

                return counted

            def handler() -> None:
                self.stamps.append(time.perf_counter())
                r = trig.get()
                out.set(r)
                if r < last:
                    again.schedule(r + 1, step)

            return handler

        @xronos.reaction
        def gather(self, ctx: Any) -> Callable[[], None]:
            trigs = [ctx.add_trigger(p) for p in self.ins]
            n = self.n

            def collect() -> list[Any]:
                values: list[Any] = [None] * n
                for t in trigs:
                    if t.is_present():
                        idx, v = t.get()
                        values[idx] = v
                if None in values:
                    raise RuntimeError(f"incomplete gather {values!r}")
                return values

            if self.count:

                def counted() -> None:
                    values = collect()
                    expected = [self.gathers] * n  # round r broadcasts r
                    if values != expected:
                        raise RuntimeError(f"gathered {values!r}, want {expected!r}")
                    self.gathers += 1

                return counted

            # Same work as collect(), inlined to keep the timed path free of an
            # extra Python call.
            def handler() -> None:
                values: list[Any] = [None] * n
                for t in trigs:
                    if t.is_present():
                        idx, v = t.get()
                        values[idx] = v
                if None in values:
                    raise RuntimeError(f"incomplete gather {values!r}")

            return handler

    class Worker(xronos.Reactor):  # type: ignore[misc, valid-type]
        """Replies ``(index, value)`` to every broadcast value."""

        inp = xronos.InputPortDeclaration[int]()
        out = xronos.OutputPortDeclaration[tuple[int, int]]()

        def __init__(self, index: int, count: bool) -> None:
            super().__init__()
            self.index = index
            self.count = count
            self.fired = 0

        @xronos.reaction
        def work(self, ctx: Any) -> Callable[[], None]:
            inp = ctx.add_trigger(self.inp)
            out = ctx.add_effect(self.out)
            index = self.index

            if self.count:

                def counted() -> None:
                    self.fired += 1
                    out.set((index, inp.get()))

                return counted

            def handler() -> None:
                out.set((index, inp.get()))

            return handler

    return SimpleNamespace(Source=Source, Relay=Relay, Driver=Driver, Worker=Worker)


def _run_chain(
    length: int, tags: int, count: bool = False, export_graph: bool = False
) -> tuple[list[float], int]:
    """Build and execute one chain program; return (the source's clock readings, reactions counted).

    The count is 0 unless ``count`` is true; then it is the number of handler
    invocations of the per-tag reactions (source tick + relays), which must be
    ``tags * (length + 1)``. The source's startup reaction (one per run, before
    the first reading) is not included.
    """
    xronos = _require_xronos()
    cls = _reactor_classes()
    env = _new_environment(xronos, export_graph)
    src = env.create_reactor("src", cls.Source, tags, count)
    prev = src.out
    relays = []
    for k in range(length):
        relay = env.create_reactor(f"relay{k}", cls.Relay, count)
        env.connect(prev, relay.inp)
        prev = relay.out
        relays.append(relay)
    _execute(env)
    if len(src.stamps) != tags:
        raise RuntimeError(f"chain: {len(src.stamps)} of {tags} tags ran")
    if not count:
        return src.stamps, 0
    if relays and relays[-1].last != tags - 1:
        raise RuntimeError("chain: last relay did not see the last value")
    return src.stamps, src.fired + sum(r.fired for r in relays)


def _run_bank(
    n_workers: int, rounds: int, count: bool = False, export_graph: bool = False
) -> tuple[list[float], int]:
    """Build and execute one bank program; return (the driver's clock readings, reactions counted).

    Every round's gather checks that it is complete (it raises otherwise, and
    so does this function when fewer rounds ran than asked). With ``count`` the
    second value is the number of per-round reactions run (driver broadcast +
    N workers + driver gather), which must be ``rounds * (n_workers + 2)``.
    """
    xronos = _require_xronos()
    cls = _reactor_classes()
    env = _new_environment(xronos, export_graph)
    driver = env.create_reactor("driver", cls.Driver, n_workers, rounds, count)
    workers = []
    for i in range(n_workers):
        worker = env.create_reactor(f"worker{i}", cls.Worker, i, count)
        env.connect(driver.out, worker.inp)  # one output feeds N inputs
        env.connect(worker.out, driver.ins[i])
        workers.append(worker)
    _execute(env)
    if len(driver.stamps) != rounds:
        raise RuntimeError(f"bank: {len(driver.stamps)} of {rounds} rounds ran")
    if not count:
        return driver.stamps, 0
    if driver.gathers != rounds:
        raise RuntimeError(f"bank: {driver.gathers} of {rounds} rounds gathered")
    return driver.stamps, driver.broadcasts + driver.gathers + sum(w.fired for w in workers)


def chain_us_per_reaction(length: int = 64, tags: int = 2000, warmup: int = WARMUP_ROUNDS) -> Distribution:
    """Per-reaction cost of a chain of relays, in microseconds, as a distribution over tags.

    A source reactor fires once per tag (a self-rescheduling programmable
    timer in fast mode) and sets its output; ``length`` relay reactors are
    connected output->input in a chain and each copies its input to its
    output. Each of ``tags`` tags after ``warmup`` is timed on its own (see the
    module's docstring) and divided by ``length + 1``, the number of reactions
    per tag including the source's.

    Raises:
        ImportError: If xronos is not installed.
        ValueError: If ``length < 0``, ``tags < 1`` or ``warmup < 0``.
    """
    _require_xronos()
    if length < 0:
        raise ValueError(f"length must be >= 0, got {length}")
    stamps, _ = _run_chain(length, readings_for(tags, warmup))
    return Distribution.of_rounds(stamps, warmup).scaled(1e6 / (length + 1))


def bank_round_us(n_workers: int, rounds: int = 2000, warmup: int = WARMUP_ROUNDS) -> Distribution:
    """Cost of one broadcast + gather round over N worker reactors, in microseconds, as a
    distribution over rounds.

    Per tag, the driver's first reaction sets one output connected to the
    input of each of the N workers (broadcast); each worker sets its output
    to ``(index, value)``; the driver's second reaction, triggered by all N
    worker outputs through N inputs, collects the values in worker-index
    order and checks the round is complete. The driver starts the next round
    itself by rescheduling a programmable timer (no physical events, fast
    mode). Each of ``rounds`` rounds after ``warmup`` is timed on its own.

    Raises:
        ImportError: If xronos is not installed.
        ValueError: If ``n_workers < 1``, ``rounds < 1`` or ``warmup < 0``.
    """
    _require_xronos()
    if n_workers < 1:
        raise ValueError(f"n_workers must be >= 1, got {n_workers}")
    stamps, _ = _run_bank(n_workers, readings_for(rounds, warmup))
    return Distribution.of_rounds(stamps, warmup).scaled(1e6)
