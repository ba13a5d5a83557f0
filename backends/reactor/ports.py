"""Input and output ports, and multiports (lists of ports of one name).

A connection only records its edge (``driver`` and ``delay`` on the destination, ``outgoing`` on the
source); assembly resolves every port to the *root* whose slot holds the value (``_src``): the port a
reaction sets, a port fed by a delayed connection, or a port fed from another federate. A zero-delay
chain through a hierarchy (``child.out -> self.out -> sibling.inp``) therefore costs nothing at run
time: every reader reads the root's slot directly, by reference, for one reader or a whole bank.
Presence is a per-tag stamp rather than a flag, so nothing has to be cleared between tags.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import AbsentValueError, ReactorError, UndeclaredEffectError, UndeclaredSourceError

if TYPE_CHECKING:
    from .reactor import Reaction, Reactor


class _Unassembled:
    """Clock stand-in before assembly: its stamp matches no port, so everything reads as absent."""

    stamp = -2
    tag = (0, 0)

    def push_physical(self, trigger: Any, value: Any, delay: int) -> None:
        raise ReactorError(f"{trigger.fqn} scheduled while the program is not running")


UNASSEMBLED = _Unassembled()


class Port:
    """Common part of inputs and outputs: identity, edges, value slot and presence stamp.

    ``set`` lives here because both kinds may be effects: an output of its own reactor's reactions,
    an input of its container's reactions (LF's "sending inside").
    """

    __slots__ = (
        "name",
        "reactor",
        "_value",
        "_stamp",
        "_clock",
        "_src",
        "driver",
        "delay",
        "outgoing",
        "triggered_reactions",
        "delayed_inputs",
        "_downstream_reactions",
    )

    def __init__(self, reactor: Reactor, name: str):
        self.name = name
        self.reactor = reactor
        self._value: Any = None
        self._stamp = -1
        self._clock: Any = UNASSEMBLED
        self._src: Any = self
        self.driver: Port | None = None
        """The port this one is connected from (one at most: LF allows a single driver)."""
        self.delay: int | None = None
        """The delay of the connection from ``driver`` (None: zero-delay, read in the same tag)."""
        self.outgoing: list[Port] = []
        """Ports connected from this one, in connection order."""
        self.triggered_reactions: list[Reaction] = []
        self.delayed_inputs: list[tuple[Any, Any]] = []
        """Filled at assembly on roots: (port fed by a delayed connection, delay)."""
        self._downstream_reactions: tuple[Reaction, ...] = ()
        """Filled at assembly on roots: reactions triggered by any port reading this slot."""

    @property
    def fqn(self) -> str:
        """Fully qualified name, used in every error message."""
        return f"{self.reactor.fqn}.{self.name}"

    def _write(self, reaction: Reaction, value: Any) -> None:
        """Stores a value set by ``reaction`` (last write in a tag wins); OutputPort.set inlines it."""
        self._value = value
        stamp = self._clock.stamp
        if self._stamp != stamp:
            self._stamp = stamp
            reaction._fired.append(self)
        elif self.delayed_inputs and self not in reaction._fired:
            # A second reaction wrote it at this tag: its delayed readers must get this last value too.
            reaction._fired.append(self)

    @property
    def is_present(self) -> bool:
        return self._src._stamp == self._clock.stamp

    def _fire(self, value: Any) -> None:
        """Delivers a value from outside the tag's reactions (a delayed connection, another federate):
        the port is a root and holds its own slot for that tag."""
        self._value = value
        self._stamp = self._clock.stamp
        self._clock.enqueue_all(self._downstream_reactions)
        if self.delayed_inputs:  # forwarded on through a further delayed connection
            self._clock._push_delayed(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.fqn}>"


class OutputPort(Port):
    """An output; set by its reactor's reactions, or forwarded from a contained reactor's output."""

    __slots__ = ()

    def set(self, value: Any) -> None:
        """Make the port present with ``value`` at the current tag (last write in a tag wins)."""
        reaction = self.reactor._running
        if reaction is None or self not in reaction.effect_set:
            raise UndeclaredEffectError(
                f"{_who(reaction, self.reactor)} set {self.fqn} without declaring it as an effect"
            )
        # Port._write, inlined: every round of every program sets outputs
        self._value = value
        stamp = self._clock.stamp
        if self._stamp != stamp:
            self._stamp = stamp
            reaction._fired.append(self)
        elif self.delayed_inputs and self not in reaction._fired:
            reaction._fired.append(self)

    @property
    def value(self) -> Any:
        """The value at this tag: read back by its own reactor, or read by its container's reactions."""
        if self.reactor._running is None and self.reactor.parent is not None:
            reaction = self.reactor.parent._running
            if reaction is not None and self not in reaction.read_set:
                raise UndeclaredSourceError(
                    f"{_who(reaction, self.reactor.parent)} read {self.fqn} without declaring it as a "
                    "trigger or source"
                )
        src = self._src
        if src._stamp != self._clock.stamp:
            raise AbsentValueError(f"{self.fqn} is absent at tag {self._clock.tag}")
        return src._value


class InputPort(Port):
    """An input; reads go through ``_src``, the root slot of its zero-delay connection chain."""

    __slots__ = ()

    @property
    def value(self) -> Any:
        """The value at the current tag; raises if absent or not declared by the reading reaction."""
        reaction = self.reactor._running
        if reaction is None or self not in reaction.read_set:
            raise UndeclaredSourceError(
                f"{_who(reaction, self.reactor)} read {self.fqn} without declaring it as a trigger or source"
            )
        src = self._src
        if src._stamp != self._clock.stamp:
            raise AbsentValueError(f"{self.fqn} is absent at tag {self._clock.tag}")
        return src._value

    def get(self, default: Any = None) -> Any:
        """The value if present, else ``default`` (for reactions with several optional triggers)."""
        return self.value if self.is_present else default

    def set(self, value: Any) -> None:
        """Set by a reaction of the container that declared this input as an effect (LF's
        "sending inside"); the input is then the root of its chain."""
        owner = self.reactor.parent or self.reactor
        reaction = owner._running
        if reaction is None or self not in reaction.effect_set:
            raise UndeclaredEffectError(
                f"{_who(reaction, owner)} set {self.fqn} without declaring it as an effect"
            )
        self._write(reaction, value)


class Multiport(list):
    """``input[N]``/``output[N]``: a list of ports of one name, indexed by channel."""

    def __init__(self, name: str, ports: list[Port]):
        super().__init__(ports)
        self.name = name
        self._checked_readers: set[int] = set()

    @property
    def width(self) -> int:
        return len(self)

    def values(self) -> list[Any]:
        """Values of all channels in channel order (each must be present).

        The gather of every round goes through here, so the reading reaction's declarations are
        checked once per reaction rather than once per channel and tag.
        """
        if not self:
            return []
        reaction = self[0].reactor._running
        if reaction is None or id(reaction) not in self._checked_readers:
            for port in self:
                _ = port.value  # raises the undeclared or absent error naming the port
            self._checked_readers.add(id(reaction))
        stamp = self[0]._clock.stamp
        values = []
        for port in self:
            source = port._src
            if source._stamp != stamp:
                raise AbsentValueError(f"{port.fqn} is absent at tag {port._clock.tag}")
            values.append(source._value)
        return values

    def present(self) -> list[tuple[int, Any]]:
        """(channel, value) of the channels present at this tag, in channel order."""
        return [(i, port.value) for i, port in enumerate(self) if port.is_present]

    def set(self, values: list[Any]) -> None:
        """Sets every channel, in channel order (a container feeding a contained bank, for instance)."""
        if len(values) != len(self):
            raise ReactorError(f"{self!r}: {len(values)} values for {len(self)} channels")
        for port, value in zip(self, values, strict=True):
            port.set(value)

    def __repr__(self) -> str:
        return f"<Multiport {self.name}[{len(self)}]>"


def _who(reaction: Reaction | None, reactor: Reactor) -> str:
    """Names the offender in an error message: the running reaction, or code outside any reaction."""
    if reaction is None:
        return f"code outside any reaction of {reactor.fqn}"
    return f"reaction {reaction.fqn}"
