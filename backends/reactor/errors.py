"""Exception types of the reactor runtime.

Each mistake a program can make has its own type so that callers (and tests) can tell an assembly
error from a run-time one without parsing messages; every message names the elements involved.
"""

from __future__ import annotations


class ReactorError(Exception):
    """Base class of every error the runtime raises."""


class AssemblyError(ReactorError):
    """The program's structure is invalid; raised before any reaction runs."""


class CycleError(AssemblyError):
    """A zero-delay dependency cycle: no precedence order exists, so no level can be assigned."""


class MultipleDriversError(AssemblyError):
    """An input port would be driven by two outputs; LF semantics allow exactly one driver."""


class WidthMismatchError(AssemblyError):
    """A connection's two sides have different numbers of ports (banks, multiports)."""


class UndeclaredEffectError(ReactorError):
    """A reaction set a port or scheduled an action it did not declare as an effect."""


class UndeclaredSourceError(ReactorError):
    """A reaction read an input it did not declare as a trigger or a source."""


class AbsentValueError(ReactorError):
    """A reaction read a port or action that is absent at the current tag."""


class PastScheduleError(ReactorError):
    """An event was scheduled with a negative delay, i.e. into the logical past."""


class ReactionFailed(ReactorError):
    """A reaction raised; the program was stopped cleanly and this names where it happened.

    The original exception is chained as ``__cause__`` and kept in :attr:`original`.
    """

    def __init__(self, reactor: str, reaction: str, tag: tuple[int, int], original: BaseException):
        self.reactor = reactor
        self.reaction = reaction
        self.tag = tag
        self.original = original
        super().__init__(
            f"reaction {reaction!r} of reactor {reactor!r} raised at tag {tag}: "
            f"{type(original).__name__}: {original}"
        )
