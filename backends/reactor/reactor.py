"""Reactors, their reactions, banks of reactors, and containment.

A reactor owns ports, triggers and state; its reactions declare up front what triggers them, what
they read and what they may set, which is what lets the runtime compute precedence once at assembly.
A reactor may contain reactors (``self.create``/``self.bank`` in ``__init__``) and connect its own
ports to theirs (``self.connect``), as LF's hierarchy does; its reactions may read the outputs of the
reactors it contains and set their inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from .errors import AssemblyError
from .ports import InputPort, Multiport, OutputPort, Port
from .triggers import LogicalAction, PhysicalAction, Shutdown, Startup, Timer, Trigger

R = TypeVar("R", bound="Reactor")

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
        self.read_set = frozenset(p for p in triggers + sources if isinstance(p, Port))
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
    parent: Reactor | None

    def __new__(cls, *args: Any, **kwargs: Any) -> Reactor:
        self = super().__new__(cls)
        self._preinit(cls.__name__.lower(), None)
        return self

    def _preinit(self, name: str, bank_index: int | None) -> None:
        self.name = name
        self.bank_index = bank_index
        self.parent = None
        self._builder: Any = None
        """The Environment building the program (it decides where a contained reactor runs), if any."""
        self._children: list[Reactor] = []
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
        own = self.name if self.bank_index is None else f"{self.name}[{self.bank_index}]"
        return own if self.parent is None else f"{self.parent.fqn}.{own}"

    # ----- containment -------------------------------------------------------------------------------

    def create(self, cls: type[R], name: str, *args: Any, **kwargs: Any) -> R:
        """A contained reactor ``name`` (LF ``name = new Cls()`` inside this reactor)."""
        self._require_unassembled(f"create {name!r}")
        if self._builder is not None:
            child = self._builder._build(cls, name, None, self, args, kwargs)
        else:
            child = construct(cls, name, None, self, None, args, kwargs)
        self._children.append(child)
        return child

    def bank(self, cls: type[R], width: int, name: str, *args: Any, **kwargs: Any) -> Bank:
        """A contained bank (LF ``name = new[width] Cls()`` inside this reactor)."""
        self._require_unassembled(f"create bank {name!r}")
        if width < 1:
            raise AssemblyError(f"bank {self.fqn}.{name}: width must be >= 1, got {width}")
        if self._builder is not None:
            members = self._builder._build_bank(cls, width, name, self, args, kwargs)
        else:
            members = [construct(cls, name, i, self, None, args, kwargs) for i in range(width)]
        self._children.extend(members)
        return Bank(name, members)

    def connect(self, src: Any, dst: Any, *, delay: int | None = None, broadcast: bool = False) -> None:
        """Connects ports inside this reactor: its inputs or its children's outputs to its outputs or
        its children's inputs (``Environment.connect`` explains ``delay`` and ``broadcast``)."""
        from .assembly import connect_ports  # assembly imports this module

        self._require_unassembled("connect ports")
        connect_ports(src, dst, delay, broadcast, container=self)

    def descendants(self) -> list[Reactor]:
        """This reactor and every reactor it contains, depth first, in creation order."""
        found = [self]
        for child in self._children:
            found.extend(child.descendants())
        return found

    def _require_unassembled(self, what: str) -> None:
        if self.env is not None:
            raise AssemblyError(f"{self.fqn}: cannot {what} after assembly")

    def _owns_or_contains(self, element: Any, kind: type) -> bool:
        """True for this reactor's own element, or a ``kind`` port of a reactor it contains directly."""
        owner = element.reactor
        return owner is self or (isinstance(element, kind) and owner.parent is self)

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
            if isinstance(effect, InputPort) and effect.reactor.parent is self:
                continue  # an input of a contained reactor: "sending inside"
            if not isinstance(effect, (OutputPort, LogicalAction)):
                raise AssemblyError(f"{owner}: effect {effect.fqn} is not an output or logical action")
            if effect.reactor is not self:
                raise AssemblyError(f"{owner}: effect {effect.fqn} belongs to another reactor")
        flat_sources = _flatten(sources, "sources", owner)
        for what, elements in (("trigger", flat_triggers), ("source", flat_sources)):
            for element in elements:
                if not self._owns_or_contains(element, OutputPort):
                    raise AssemblyError(f"{owner}: {what} {element.fqn} belongs to another reactor")
        if self.env is not None:
            raise AssemblyError(f"{owner}: cannot add a reaction after assembly")
        reaction = Reaction(self, label, body, flat_triggers, flat_sources, flat_effects)
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


def construct(
    cls: type[R],
    name: str,
    bank_index: int | None,
    parent: Reactor | None,
    builder: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> R:
    """Instantiates ``cls`` with its identity set *before* ``__init__`` runs, so ``__init__`` can use
    ``name``, ``bank_index`` and ``fqn`` (a bank member seeds its RNG with its index, say)."""
    reactor = cls.__new__(cls)
    reactor.name = name
    reactor.bank_index = bank_index
    reactor.parent = parent
    reactor._builder = builder
    reactor.__init__(*args, **kwargs)
    return reactor
