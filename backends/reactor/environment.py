"""The user-facing program: create reactors and banks, connect them, then run or drive it.

Two ways to execute. ``run()`` is Lingua Franca's: start, process tags until stop, timeout or no more
events, run shutdown reactions. ``start()`` / ``run_until_idle()`` / ``stop()`` let a host program
(such as a benchmark harness) inject events through physical actions and process the resulting tags
on its own thread, one round at a time.
"""

from __future__ import annotations

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

    ``workers``: threads that run reactions of one level concurrently (1 runs inline on the caller).
    ``fast``: logical time does not wait for wall-clock time. ``timeout``: logical end time in ns.
    ``keepalive``: wait for physical actions when the event queue is empty (default: when any exist).
    """

    def __init__(
        self,
        *,
        workers: int = 1,
        fast: bool = True,
        timeout: int | None = None,
        keepalive: bool | None = None,
    ):
        if workers < 1:
            raise ReactorError(f"workers must be >= 1, got {workers}")
        if timeout is not None and timeout < 0:
            raise ReactorError(f"timeout must be >= 0 ns, got {timeout}")
        self.workers = workers
        self.fast = fast
        self.timeout = timeout
        self.keepalive = keepalive
        self.reactors: list[Reactor] = []
        self.levels = 0
        self._names: set[str] = set()
        self._scheduler: Scheduler | None = None

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
        """Builds one reactor (and, through its ``__init__``, the reactors it contains)."""
        return construct(cls, name, bank_index, parent, self, args, kwargs)

    def _build_bank(
        self,
        cls: type[R],
        width: int,
        name: str,
        parent: Reactor | None,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> list[R]:
        return [self._build(cls, name, i, parent, args, kwargs) for i in range(width)]

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
        if self._scheduler is not None:
            raise AssemblyError(f"cannot {what} after the program was assembled")

    # ----- assembly and execution -----------------------------------------------------------------

    def assemble(self) -> None:
        """Computes levels and wires everything; idempotent, implied by run() and start()."""
        if self._scheduler is not None:
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
        for reactor in self.reactors:
            reactor.env = self
        for element in elements:
            element._clock = scheduler
        self._scheduler = scheduler

    def run(self) -> None:
        """Executes the whole program on the calling thread and returns when it has ended."""
        self.start(process_startup=False)
        scheduler = self._scheduler
        try:
            scheduler.run(until_idle=False)
        finally:
            scheduler.close()

    def start(self, *, process_startup: bool = True) -> None:
        """Assembles, starts the clock and (by default) processes every tag that is already due."""
        self.assemble()
        self._scheduler.begin()
        if process_startup:
            self._scheduler.run(until_idle=True)

    def run_until_idle(self) -> None:
        """Processes tags until no event is pending (for a host that drives rounds)."""
        self._scheduler.run(until_idle=True)

    def stop(self) -> None:
        """Ends a driven program: processes the stop tag with shutdown reactions; idempotent."""
        scheduler = self._scheduler
        if scheduler is None:
            return
        try:
            if not scheduler.finished and scheduler._start_ns is not None:
                scheduler.request_stop()
                scheduler.run(until_idle=False)
        finally:
            scheduler.close()

    def request_stop(self) -> None:
        """Thread-safe request to stop at the next microstep."""
        if self._scheduler is None:
            raise ReactorError("request_stop() before the program was started")
        self._scheduler.request_stop()

    # ----- clocks and counters ---------------------------------------------------------------------

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
