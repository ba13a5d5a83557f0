"""Input and output ports, and multiports (lists of ports of one name).

A zero-delay connection makes the input read the upstream output's slot directly (``_src``), so a
value passes by reference and setting an output costs the same for one reader or for a whole bank.
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
    """Common part of inputs and outputs: identity, value slot and presence stamp."""

    __slots__ = ("name", "reactor", "_value", "_stamp", "_clock")

    def __init__(self, reactor: Reactor, name: str):
        self.name = name
        self.reactor = reactor
        self._value: Any = None
        self._stamp = -1
        self._clock: Any = UNASSEMBLED

    @property
    def fqn(self) -> str:
        """Fully qualified name, used in every error message."""
        return f"{self.reactor.fqn}.{self.name}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.fqn}>"


class OutputPort(Port):
    """An output; only reactions of its reactor that declare it as an effect may set it."""

    __slots__ = ("downstream_inputs", "delayed_inputs", "_downstream_reactions")

    def __init__(self, reactor: Reactor, name: str):
        super().__init__(reactor, name)
        self.downstream_inputs: list[InputPort] = []
        self.delayed_inputs: list[tuple[InputPort, int]] = []
        self._downstream_reactions: tuple[Reaction, ...] = ()

    def set(self, value: Any) -> None:
        """Make the port present with ``value`` at the current tag (last write in a tag wins)."""
        reaction = self.reactor._running
        if reaction is None or self not in reaction.effect_set:
            raise UndeclaredEffectError(
                f"{_who(reaction, self.reactor)} set {self.fqn} without declaring it as an effect"
            )
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
        return self._stamp == self._clock.stamp

    @property
    def value(self) -> Any:
        """The value set earlier in this tag (an output may be read back by its own reactor)."""
        if self._stamp != self._clock.stamp:
            raise AbsentValueError(f"{self.fqn} is absent at tag {self._clock.tag}")
        return self._value


class InputPort(Port):
    """An input; reads go through ``_src``, the upstream output for a zero-delay connection."""

    __slots__ = ("_src", "driver", "delay", "triggered_reactions")

    def __init__(self, reactor: Reactor, name: str):
        super().__init__(reactor, name)
        self._src: Port = self
        self.driver: OutputPort | None = None
        self.delay: int | None = None
        self.triggered_reactions: list[Reaction] = []

    @property
    def is_present(self) -> bool:
        return self._src._stamp == self._clock.stamp

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

    def __repr__(self) -> str:
        return f"<Multiport {self.name}[{len(self)}]>"


def _who(reaction: Reaction | None, reactor: Reactor) -> str:
    """Names the offender in an error message: the running reaction, or code outside any reaction."""
    if reaction is None:
        return f"code outside any reaction of {reactor.fqn}"
    return f"reaction {reaction.fqn}"


def fire_delayed_input(port: InputPort, value: Any) -> None:
    """Deliver a delayed connection's value: the input holds its own slot for that tag."""
    port._value = value
    port._stamp = port._clock.stamp
    port._clock.enqueue_all(port.triggered_reactions)


InputPort._fire = fire_delayed_input  # type: ignore[attr-defined]
