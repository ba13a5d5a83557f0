"""Reactors, their reactions, and banks of reactors.

A reactor owns ports, triggers and state; its reactions declare up front what triggers them, what
they read and what they may set, which is what lets the runtime compute precedence once at assembly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .errors import AssemblyError
from .ports import InputPort, Multiport, OutputPort, Port
from .triggers import LogicalAction, PhysicalAction, Shutdown, Startup, Timer, Trigger

UNKNOWN_COST = float("inf")
"""A reaction that has not run yet is assumed expensive, so its first level goes to the pool."""


class Reaction:
    """A reaction body with its declared triggers, sources and effects; runs at one level."""

    __slots__ = (
        "name",
        "reactor",
        "body",
        "cost",
        "triggers",
        "sources",
        "effects",
        "effect_set",
        "read_set",
        "index",
        "level",
        "_stamp",
        "_fired",
    )

    def __init__(
        self,
        reactor: Reactor,
        name: str,
        body: Callable[[], Any],
        triggers: list[Any],
        sources: list[InputPort],
        effects: list[Any],
    ):
        self.name = name
        self.reactor = reactor
        self.body = body
        self.triggers = triggers
        self.sources = sources
        self.effects = effects
        self.effect_set = frozenset(effects)
        self.read_set = frozenset(p for p in triggers + sources if isinstance(p, InputPort))
        self.index = -1
        self.level = -1
        self.cost = UNKNOWN_COST
        self._stamp = -1
        self._fired: list[OutputPort] = []

    @property
    def fqn(self) -> str:
        return f"{self.reactor.fqn}.{self.name}"

    def __repr__(self) -> str:
        return f"<Reaction {self.fqn} level={self.level}>"


def _flatten(items: Iterable[Any], what: str, owner: str) -> list[Any]:
    """Expands multiports and lists so declarations may name a multiport as one item."""
    flat: list[Any] = []
    for item in items:
        if isinstance(item, (list, tuple)):
            flat.extend(_flatten(item, what, owner))
        elif isinstance(item, (Port, Trigger)):
            flat.append(item)
        else:
            raise AssemblyError(f"{owner}: {what} must be ports, actions or timers, not {item!r}")
    return flat


class Reactor:
    """Base class of user reactors: declare ports, triggers and reactions in ``__init__``.

    Instances are normally created through ``Environment.create`` or ``Environment.bank``, which set
    ``name`` and ``bank_index`` before ``__init__`` runs so that ``__init__`` can use them.
    """

    name: str
    bank_index: int | None

    def __new__(cls, *args: Any, **kwargs: Any) -> Reactor:
        self = super().__new__(cls)
        self._preinit(cls.__name__.lower(), None)
        return self

    def _preinit(self, name: str, bank_index: int | None) -> None:
        self.name = name
        self.bank_index = bank_index
        self.env: Any = None
        self._running: Reaction | None = None
        self._reactions: list[Reaction] = []
        self._elements: list[Port | Trigger] = []
        self.startup = self._own(Startup(self, "startup"))
        self.shutdown = self._own(Shutdown(self, "shutdown"))

    def __init__(self) -> None:
        pass

    @property
    def fqn(self) -> str:
        if self.bank_index is None:
            return self.name
        return f"{self.name}[{self.bank_index}]"

    def _own(self, element: Any) -> Any:
        if self.env is not None:
            raise AssemblyError(f"{self.fqn}: cannot add {element.name!r} after assembly")
        self._elements.append(element)
        return element

    def input(self, name: str, width: int | None = None) -> InputPort | Multiport:
        """An input, or a multiport ``input[width]`` when ``width`` is given."""
        if width is None:
            return self._own(InputPort(self, name))
        return Multiport(name, [self._own(InputPort(self, f"{name}[{i}]")) for i in range(width)])

    def output(self, name: str, width: int | None = None) -> OutputPort | Multiport:
        """An output, or a multiport ``output[width]`` when ``width`` is given."""
        if width is None:
            return self._own(OutputPort(self, name))
        return Multiport(name, [self._own(OutputPort(self, f"{name}[{i}]")) for i in range(width)])

    def timer(self, name: str, offset: int = 0, period: int = 0) -> Timer:
        return self._own(Timer(self, name, offset, period))

    def logical_action(self, name: str, min_delay: int = 0) -> LogicalAction:
        return self._own(LogicalAction(self, name, min_delay))

    def physical_action(self, name: str, min_delay: int = 0) -> PhysicalAction:
        return self._own(PhysicalAction(self, name, min_delay))

    def reaction(
        self,
        body: Callable[[], Any],
        *,
        triggers: Iterable[Any],
        sources: Iterable[Any] = (),
        effects: Iterable[Any] = (),
        name: str | None = None,
    ) -> Reaction:
        """Declares a reaction; reactions of one reactor run in declaration order at a tag."""
        label = name or getattr(body, "__name__", f"reaction_{len(self._reactions)}")
        owner = f"{self.fqn}.{label}"
        flat_triggers = _flatten(triggers, "triggers", owner)
        if not flat_triggers:
            raise AssemblyError(f"{owner}: a reaction needs at least one trigger")
        flat_effects = _flatten(effects, "effects", owner)
        for effect in flat_effects:
            if not isinstance(effect, (OutputPort, LogicalAction)):
                raise AssemblyError(f"{owner}: effect {effect.fqn} is not an output or logical action")
            if effect.reactor is not self:
                raise AssemblyError(f"{owner}: effect {effect.fqn} belongs to another reactor")
        for element in flat_triggers:
            if element.reactor is not self:
                raise AssemblyError(f"{owner}: trigger {element.fqn} belongs to another reactor")
        if self.env is not None:
            raise AssemblyError(f"{owner}: cannot add a reaction after assembly")
        reaction = Reaction(
            self,
            label,
            body,
            flat_triggers,
            _flatten(sources, "sources", owner),
            flat_effects,
        )
        self._reactions.append(reaction)
        return reaction

    def request_stop(self) -> None:
        """Ends the program at the next microstep; shutdown reactions run there."""
        self.env.request_stop()

    @property
    def logical_time(self) -> int:
        """Current logical time in ns since start."""
        return self.env.tag[0]

    @property
    def tag(self) -> tuple[int, int]:
        return self.env.tag

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.fqn}>"


class Bank(list):
    """``new[N] Cls()``: N reactors of one class; each knows its ``bank_index``."""

    def __init__(self, name: str, members: list[Reactor]):
        super().__init__(members)
        self.name = name

    def port(self, name: str) -> list[Any]:
        """The port called ``name`` of every member, flattened in bank order (for connections)."""
        ports: list[Any] = []
        for member in self:
            element = getattr(member, name, None)
            if element is None:
                raise AssemblyError(f"bank {self.name}: {member.fqn} has no port {name!r}")
            ports.extend(element if isinstance(element, Multiport) else [element])
        return ports
