"""Non-port triggers: startup, shutdown, timers, logical actions and physical actions.

Every trigger keeps the reactions it triggers and a presence stamp like a port. Timers and actions put
events on the scheduler's queue; the scheduler calls ``_fire`` when their tag comes up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import AbsentValueError, PastScheduleError, UndeclaredEffectError
from .ports import UNASSEMBLED, _who

if TYPE_CHECKING:
    from .reactor import Reaction, Reactor


class Trigger:
    """Identity, triggered reactions, and a value that is present only at the tag it fired."""

    __slots__ = ("name", "reactor", "triggered_reactions", "_value", "_stamp", "_clock")

    def __init__(self, reactor: Reactor, name: str):
        self.name = name
        self.reactor = reactor
        self.triggered_reactions: list[Reaction] = []
        self._value: Any = None
        self._stamp = -1
        self._clock: Any = UNASSEMBLED

    @property
    def fqn(self) -> str:
        return f"{self.reactor.fqn}.{self.name}"

    @property
    def is_present(self) -> bool:
        return self._stamp == self._clock.stamp

    @property
    def value(self) -> Any:
        if self._stamp != self._clock.stamp:
            raise AbsentValueError(f"{self.fqn} is absent at tag {self._clock.tag}")
        return self._value

    def _fire(self, value: Any) -> None:
        self._value = value
        self._stamp = self._clock.stamp
        self._clock.enqueue_all(self.triggered_reactions)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.fqn}>"


class Startup(Trigger):
    """Present at the first tag (0, 0)."""

    __slots__ = ()


class Shutdown(Trigger):
    """Present at the last tag: after request_stop, at the timeout, when events run out, or on error."""

    __slots__ = ()


class Timer(Trigger):
    """Fires at ``offset`` and then every ``period`` ns (period 0: once)."""

    __slots__ = ("offset", "period")

    def __init__(self, reactor: Reactor, name: str, offset: int, period: int):
        if offset < 0 or period < 0:
            raise PastScheduleError(f"timer {reactor.fqn}.{name}: offset and period must be >= 0")
        super().__init__(reactor, name)
        self.offset = offset
        self.period = period

    def _fire(self, value: Any) -> None:
        super()._fire(value)
        if self.period:
            clock = self._clock
            clock.push_event((clock.tag[0] + self.period, 0), self, None)


class _Action(Trigger):
    """An action: a trigger with a minimum delay added to every schedule."""

    __slots__ = ("min_delay",)

    def __init__(self, reactor: Reactor, name: str, min_delay: int = 0):
        if min_delay < 0:
            raise PastScheduleError(f"action {reactor.fqn}.{name}: min_delay must be >= 0")
        super().__init__(reactor, name)
        self.min_delay = min_delay


class LogicalAction(_Action):
    """Scheduled by its reactor's reactions; fires ``min_delay + delay`` later in logical time.

    A total delay of zero means the next microstep of the current tag. Two schedules for one tag
    keep both events: the later one moves to the next free microstep (LF's default policy).
    """

    __slots__ = ()

    def schedule(self, value: Any = None, delay: int = 0) -> None:
        reaction = self.reactor._running
        if reaction is None or self not in reaction.effect_set:
            raise UndeclaredEffectError(
                f"{_who(reaction, self.reactor)} scheduled {self.fqn} without declaring it as an effect"
            )
        if delay < 0:
            raise PastScheduleError(
                f"{reaction.fqn} scheduled {self.fqn} with delay {delay} ns, into the past"
            )
        clock = self._clock
        total = self.min_delay + delay
        time, microstep = clock.tag
        tag = (time, microstep + 1) if total == 0 else (time + total, 0)
        clock.push_action(tag, self, value)


class PhysicalAction(_Action):
    """Scheduled from any thread; its tag comes from the physical clock, never the logical past."""

    __slots__ = ()

    def schedule(self, value: Any = None, delay: int = 0) -> None:
        """Thread-safe; wakes the scheduler if it is waiting for events."""
        if delay < 0:
            raise PastScheduleError(f"{self.fqn} scheduled with delay {delay} ns, into the past")
        self._clock.push_physical(self, value, self.min_delay + delay)
