"""An in-house reactor runtime with Lingua Franca semantics (see README.md in this folder).

Reactors own ports, timers, actions and state (and may contain reactors); reactions declare
triggers, sources and effects; logical time advances in tags (time, microstep); precedence is
computed once as levels, and the reactions of one level may run on a pool of worker threads with a
barrier between levels. Results are identical for every worker count, and for every federation of
the same program over processes (``Environment(federates=F)``, see ``federation``). This package
imports nothing from the rest of the project (the standard library and numpy only).

Minimal example::

    from backends.reactor import Environment, Reactor, msec

    class Count(Reactor):
        def __init__(self):
            self.tick = self.timer("tick", offset=0, period=msec(10))
            self.out = self.output("out")
            self.n = 0
            self.reaction(self.on_tick, triggers=[self.tick], effects=[self.out])

        def on_tick(self):
            self.n += 1
            self.out.set(self.n)

    env = Environment(fast=True, timeout=msec(100))
    counter = env.create(Count, "counter")
    env.run()
"""

from .environment import Environment
from .errors import (
    AbsentValueError,
    AssemblyError,
    CycleError,
    MultipleDriversError,
    PastScheduleError,
    ReactionFailed,
    ReactorError,
    UndeclaredEffectError,
    UndeclaredSourceError,
    WidthMismatchError,
)
from .federation import FederateDied, FederateReactionFailed, Federation, FederationError, RemoteError
from .ports import InputPort, Multiport, OutputPort
from .reactor import Bank, Reaction, Reactor
from .timeunits import MSEC, NSEC, SEC, USEC, Tag, msec, nsec, sec, usec
from .triggers import LogicalAction, PhysicalAction, Shutdown, Startup, Timer

__all__ = [
    "MSEC",
    "NSEC",
    "SEC",
    "USEC",
    "AbsentValueError",
    "AssemblyError",
    "Bank",
    "CycleError",
    "Environment",
    "FederateDied",
    "FederateReactionFailed",
    "Federation",
    "FederationError",
    "InputPort",
    "LogicalAction",
    "MultipleDriversError",
    "Multiport",
    "OutputPort",
    "PastScheduleError",
    "PhysicalAction",
    "Reaction",
    "ReactionFailed",
    "Reactor",
    "ReactorError",
    "RemoteError",
    "Shutdown",
    "Startup",
    "Tag",
    "Timer",
    "UndeclaredEffectError",
    "UndeclaredSourceError",
    "WidthMismatchError",
    "msec",
    "nsec",
    "sec",
    "usec",
]
