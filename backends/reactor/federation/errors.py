"""Errors of federated execution: each names the federate and the reactors involved."""

from __future__ import annotations

import signal

from ..errors import ReactionFailed, ReactorError
from ..timeunits import Tag


class FederationError(ReactorError):
    """The federation could not start, or stopped because a federate failed."""


class FederateReactionFailed(ReactionFailed):
    """A reaction raised in federate ``federate``; the federation was stopped cleanly.

    ``__cause__`` is the original exception when it could cross processes, else a ``RemoteError``
    holding its type, message and traceback.
    """

    def __init__(self, federate: int, reactor: str, reaction: str, tag: Tag, original: BaseException):
        self.federate = federate
        self.reactor = reactor
        self.reaction = reaction
        self.tag = tag
        self.original = original
        ReactorError.__init__(
            self,
            f"reaction {reaction!r} of reactor {reactor!r} in federate {federate} raised at tag {tag}: "
            f"{type(original).__name__ if not isinstance(original, RemoteError) else original.type_name}: "
            f"{original}",
        )


class RemoteError(Exception):
    """An exception raised in a federate that could not be sent as itself (it did not pickle)."""

    def __init__(self, type_name: str, message: str, traceback: str):
        super().__init__(f"{type_name}: {message}")
        self.type_name = type_name
        self.remote_traceback = traceback

    def __str__(self) -> str:
        return self.args[0].split(": ", 1)[1] if ": " in self.args[0] else self.args[0]


class FederateDied(FederationError):
    """A federate process ended without finishing (killed, crashed, or lost its connection)."""

    def __init__(self, federate: int, reactors: list[str], exit_code: int | None, tag: Tag | None):
        self.federate = federate
        self.reactors = reactors
        self.exit_code = exit_code
        how = describe_exit(exit_code)
        where = f" after tag {tag}" if tag is not None else ""
        super().__init__(
            f"federate {federate} (reactors {summarize(reactors)}) died{where}: {how}; "
            "the federation was stopped"
        )


def describe_exit(code: int | None) -> str:
    if code is None:
        return "its connection to the RTI was lost"
    if code < 0:
        try:
            return f"killed by signal {-code} ({signal.Signals(-code).name})"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def summarize(names: list[str], limit: int = 6) -> str:
    """``a, b, c`` or, for long lists, the first few and a count."""
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[: limit - 1]) + f", ... ({len(names)} in all)"
