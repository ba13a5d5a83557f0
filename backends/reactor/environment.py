"""The user-facing program: create reactors and banks, connect them, then run or drive it.

Two ways to execute. ``run()`` is Lingua Franca's: start, process tags until stop, timeout or no more
events, run shutdown reactions. ``start()`` / ``run_until_idle()`` / ``stop()`` let a host program
(such as a benchmark harness) inject events through physical actions and process the resulting tags
on its own thread, one round at a time; ``run_until(t)`` lets it advance logical time instead, one
period of a timer at a time.

The same program runs federated with ``federates=F`` (or a ``Federation``): its units (top-level
reactors, or the children of a top-level reactor) are placed in F federate processes, bank members
round-robin by default, and the RTI runs in this process next to the reactors that stay here. The
API does not change: ``run``, the driven mode and physical actions scheduled from outside work as in
one process, with the same results.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from .assembly import assemble, connect_ports
from .errors import AssemblyError, ReactorError
from .ports import Port
from .reactor import Bank, Reactor, construct
from .scheduler import Scheduler
from .timeunits import Tag
from .triggers import PhysicalAction, Trigger

R = TypeVar("R", bound=Reactor)


class Environment:
    """A reactor program and its execution settings.

    ``workers``: threads that run reactions of one level concurrently (1 runs inline on the caller);
    in a federation, in every process. ``fast``: logical time does not wait for wall-clock time.
    ``timeout``: logical end time in ns. ``keepalive``: wait for physical actions when the event queue
    is empty (default: when any exist). ``federates``: run federated over that many processes (an int
    or a ``Federation`` with placement and transport; None: one process).
    """

    def __init__(
        self,
        *,
        workers: int = 1,
        fast: bool = True,
        timeout: int | None = None,
        keepalive: bool | None = None,
        federates: Any = None,
    ):
        from .federation.options import as_federation

        if workers < 1:
            raise ReactorError(f"workers must be >= 1, got {workers}")
        if timeout is not None and timeout < 0:
            raise ReactorError(f"timeout must be >= 0 ns, got {timeout}")
        self.workers = workers
        self.fast = fast
        self.timeout = timeout
        self.keepalive = keepalive
        self.federation_options = as_federation(federates)
        self.reactors: list[Reactor] = []
        self.levels = 0
        self._names: set[str] = set()
        self._scheduler: Scheduler | None = None
        self._assembled = False
        self._started = False
        self._coordinator: Any = None

    # ----- building --------------------------------------------------------------------------------

    def create(self, cls: type[R], name: str, *args: Any, **kwargs: Any) -> R:
        """Instantiates ``cls`` named ``name`` (set before ``__init__`` runs) and adds it."""
        self._require_building("add a reactor")
        return self.add(self._build(cls, name, None, None, args, kwargs))

    def bank(self, cls: type[R], width: int, name: str, *args: Any, **kwargs: Any) -> Bank:
        """``new[width] cls(...)``: members named ``name[i]``, each with ``bank_index`` = i."""
        self._require_building("add a reactor")
        if width < 1:
            raise AssemblyError(f"bank {name}: width must be >= 1, got {width}")
        members = self._build_bank(cls, width, name, None, args, kwargs)
        return Bank(name, [self.add(member) for member in members])

    def _build(
        self,
        cls: type[R],
        name: str,
        bank_index: int | None,
        parent: Reactor | None,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> R:
        """Builds one reactor here (and, through its ``__init__``, what it contains), or in the
        federate the placement gives it, returning its stand-in."""
        federate = self._placement(name, bank_index, parent)
        if federate is None:
            return construct(cls, name, bank_index, parent, self, args, kwargs)
        return self._remote(cls, name, {federate: [bank_index]}, parent, args, kwargs)[bank_index]

    def _build_bank(
        self,
        cls: type[R],
        width: int,
        name: str,
        parent: Reactor | None,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> list[R]:
        places = [self._placement(name, i, parent) for i in range(width)]
        remote: dict[int, list[int | None]] = {}
        for index, federate in enumerate(places):
            if federate is not None:
                remote.setdefault(federate, []).append(index)
        built = self._remote(cls, name, remote, parent, args, kwargs) if remote else {}
        return [
            built[i] if places[i] is not None else construct(cls, name, i, parent, self, args, kwargs)
            for i in range(width)
        ]

    def _placement(self, name: str, bank_index: int | None, parent: Reactor | None) -> int | None:
        """Units are top-level reactors and the children of a top-level reactor kept here."""
        options = self.federation_options
        if options is None:
            return None
        from .federation.structure import StandIn

        if parent is not None and (parent.parent is not None or isinstance(parent, StandIn)):
            return None
        return options.place(name if parent is None else f"{parent.fqn}.{name}", bank_index)

    def _remote(
        self, cls: type, name: str, members: dict[int, list[int | None]], parent: Any, args: Any, kwargs: Any
    ) -> dict:
        if self._coordinator is None:
            from .federation.coordinator import Coordinator

            self._coordinator = Coordinator(
                self.federation_options, workers=self.workers, fast=self.fast, timeout=self.timeout
            )
            weakref.finalize(self, self._coordinator.close)
        return self._coordinator.build(cls, name, members, parent, args, kwargs)

    def add(self, reactor: R) -> R:
        """Adds a top-level reactor built elsewhere, with every reactor it contains."""
        self._require_building("add a reactor")
        tree = reactor.descendants()
        for member in tree:
            if member.fqn in self._names:
                raise AssemblyError(f"two reactors are named {member.fqn!r}")
        for member in tree:
            self._names.add(member.fqn)
            self.reactors.append(member)
        return reactor

    def connect(self, src: Any, dst: Any, *, delay: int | None = None, broadcast: bool = False) -> None:
        """Connects outputs to inputs one-to-one (ports, multiports, ``bank.port(name)`` lists).

        ``delay`` (ns) makes a delayed connection; ``broadcast`` sends each output to every input of
        a wider destination, as ``(out)+ -> bank.in`` does in Lingua Franca.
        """
        self._require_building("connect ports")
        connect_ports(src, dst, delay, broadcast)

    def _require_building(self, what: str) -> None:
        if self._assembled:
            raise AssemblyError(f"cannot {what} after the program was assembled")

    # ----- assembly and execution -----------------------------------------------------------------

    def assemble(self) -> None:
        """Computes levels and wires everything; idempotent, implied by run() and start()."""
        if self._assembled:
            return
        for reactor in self.reactors:
            reactor.env = self
        if self._coordinator is not None:
            self._scheduler = self._coordinator.prepare(self.reactors, self.keepalive)
            self._assembled = True
            return
        reactions, self.levels = assemble(self.reactors)
        elements: list[Port | Trigger] = [e for r in self.reactors for e in r._elements]
        keepalive = self.keepalive
        if keepalive is None:
            keepalive = any(isinstance(e, PhysicalAction) for e in elements)
        scheduler = Scheduler(
            reactions,
            self.levels,
            [e for e in elements if isinstance(e, Trigger)],
            workers=self.workers,
            fast=self.fast,
            timeout=self.timeout,
            keepalive=keepalive,
        )
        for element in elements:
            element._clock = scheduler
        self._scheduler = scheduler
        self._assembled = True

    def run(self) -> None:
        """Executes the whole program on the calling thread and returns when it has ended."""
        self.start(process_startup=False)
        scheduler = self._scheduler
        coordinator = self._coordinator

        def to_the_end() -> None:
            if coordinator is not None:
                coordinator.set_starvation(True)
            if scheduler is not None:
                scheduler.run(until_idle=False)
            else:
                coordinator.wait_done()

        self._end_with(to_the_end)

    def _end_with(self, to_the_end: Callable[[], None]) -> None:
        """Runs ``to_the_end`` and then releases the scheduler and the federation, whether it
        returned or raised (a failure is passed on to the federation before it is released)."""
        failed: BaseException | None = None
        try:
            to_the_end()
        except BaseException as error:
            failed = error
            raise
        finally:
            if self._scheduler is not None:
                self._scheduler.close()
            if self._coordinator is not None:
                if failed is not None:
                    self._coordinator.abort(failed)
                self._coordinator.finish()

    def start(self, *, process_startup: bool = True) -> None:
        """Assembles, starts the clock and (by default) processes every tag that is already due."""
        self.assemble()
        if self._started:
            raise ReactorError("the program was already started")
        self._started = True
        if self._coordinator is not None:
            self._coordinator.start()
        else:
            self._scheduler.begin()
        if process_startup:
            self.run_until_idle()

    def run_until_idle(self) -> None:
        """Processes tags until no event is pending (for a host that drives rounds); in a
        federation, until nothing is pending in any federate either."""
        if self._scheduler is None:
            self._coordinator.wait_idle()
        elif self._coordinator is None:
            self._scheduler.run(until_idle=True)
        else:
            self._coordinator.set_horizon(None)
            with self._coordinator.driving():
                self._scheduler.run(until_idle=True)

    def run_until(self, time: int) -> None:
        """Processes every tag at logical time <= ``time`` (ns), then returns; later events stay queued.

        For a host that advances logical time itself, e.g. one round per period of a timer, so that
        a delayed connection of one period carries a value into the next round. Unlike
        ``run_until_idle`` it returns while periodic timers still have events pending (start such a
        program with ``start(process_startup=False)``, then ``run_until(0)`` for the startup tag).
        In a federation the timer's reactor must stay in this process (it is where the rounds are
        set), and no federate goes past ``time`` either: a federate that went ahead into the next
        round would make a later ``stop`` agree on that round's tag, so the number of rounds a
        program runs would depend on timing.
        """
        if self._scheduler is None:
            raise ReactorError(
                "run_until needs a reactor in this process (the one whose timer sets the rounds)"
            )
        if self._coordinator is None:
            self._scheduler.run(until_idle=True, horizon=time)
        else:
            self._coordinator.set_horizon(time)
            with self._coordinator.driving():
                self._scheduler.run(until_idle=True, horizon=time)

    def stop(self) -> None:
        """Ends a driven program: processes the stop tag with shutdown reactions; idempotent."""
        scheduler = self._scheduler
        coordinator = self._coordinator
        if coordinator is None and scheduler is None:
            return

        def to_the_end() -> None:
            if self._started and (scheduler is None or not scheduler.finished):
                if scheduler is not None:
                    scheduler.request_stop()
                    scheduler.run(until_idle=False)
                else:
                    coordinator.request_stop()
                    coordinator.wait_done()

        self._end_with(to_the_end)

    def close(self) -> None:
        """Releases a federation's processes and shared memory at once (also when never run)."""
        if self._coordinator is not None:
            self._coordinator.close()

    def __enter__(self) -> Environment:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def request_stop(self) -> None:
        """Thread-safe request to stop at the next microstep."""
        if not self._started:
            raise ReactorError("request_stop() before the program was started")
        if self._scheduler is not None:
            self._scheduler.request_stop()
        else:
            self._coordinator.request_stop()

    # ----- clocks and counters ---------------------------------------------------------------------

    @property
    def federation(self) -> Any:
        """The federation's coordinator (None in one process): members, start-up times, stats."""
        return self._coordinator

    @property
    def tag(self) -> Tag:
        return (0, 0) if self._scheduler is None else self._scheduler.tag

    def physical_time(self) -> int:
        return 0 if self._scheduler is None else self._scheduler.physical_time()

    @property
    def reactions_executed(self) -> int:
        return 0 if self._scheduler is None else self._scheduler.reactions_executed

    @property
    def tags_processed(self) -> int:
        return 0 if self._scheduler is None else self._scheduler.tags_processed
