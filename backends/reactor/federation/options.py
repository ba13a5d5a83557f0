"""How a program is federated: how many federate processes, what runs where, and the transport."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ReactorError
from .codec import DEFAULT_THRESHOLD

Placement = Mapping[str, Any] | Callable[[str, int | None], int | None]


@dataclass(frozen=True)
class Federation:
    """Settings of a federated program (``Environment(federates=Federation(...))``).

    ``federates``: the number of federate processes. ``placement``: where each *unit* runs (a
    top-level reactor, or a child of a top-level reactor that stays in the RTI's process). A mapping
    from a unit's name (``"replay"``, ``"main.learner"``; a bank's name, or one member's,
    ``"rollout[3]"``) to a federate index, to None (the RTI's process), or, for a bank, to a list with
    one entry per member; or a function ``(name, bank_index) -> federate or None``. Units it does not
    name follow the default: bank members round-robin over the federates (member i in federate
    i % federates), everything else in the RTI's process (where the caller can read its state and
    schedule its physical actions).

    ``transport``: ``"unix"`` (a Unix socket; large arrays through shared memory) or ``"tcp"`` (the RTI
    listens on ``host:port``, port 0 picks one; values travel inline, as between hosts).
    ``shared_memory`` overrides that choice; ``threshold`` is the size from which an array's buffer
    leaves the pickle stream. ``start_method``: ``"spawn"`` (default) or ``"forkserver"`` start fresh
    interpreters through multiprocessing; ``"command"`` runs ``command + [python, -m,
    backends.reactor.federation, ...]`` (``command`` may be a prefix such as ``ip netns exec h1``);
    ``commands``, one prefix per federate, puts each federate on a host of its own.
    ``connect_timeout_s`` bounds start-up: federates connecting and building their reactors.
    """

    federates: int
    placement: Placement | None = None
    transport: str = "unix"
    host: str = "127.0.0.1"
    port: int = 0
    shared_memory: bool | None = None
    threshold: int = DEFAULT_THRESHOLD
    start_method: str = "spawn"
    command: Sequence[str] = ()
    commands: Sequence[Sequence[str]] = ()
    connect_timeout_s: float = 60.0

    def __post_init__(self) -> None:
        if self.federates < 1:
            raise ReactorError(f"federates must be >= 1, got {self.federates}")
        if self.transport not in ("unix", "tcp"):
            raise ReactorError(f"transport must be 'unix' or 'tcp', not {self.transport!r}")
        if self.start_method not in ("spawn", "forkserver", "command"):
            raise ReactorError(
                f"start_method must be spawn, forkserver or command, not {self.start_method!r}"
            )

        if self.commands and len(self.commands) != self.federates:
            raise ReactorError(f"commands: {len(self.commands)} prefixes for {self.federates} federates")
        if self.commands and self.start_method != "command":
            raise ReactorError("commands (one prefix per federate) need start_method='command'")

    def command_of(self, index: int) -> Sequence[str]:
        """The prefix that starts federate ``index`` (``command`` unless ``commands`` names one)."""
        return self.commands[index] if self.commands else self.command

    @property
    def uses_shared_memory(self) -> bool:
        return self.transport == "unix" if self.shared_memory is None else self.shared_memory

    def place(self, name: str, bank_index: int | None) -> int | None:
        """The federate of unit ``name`` (member ``bank_index`` of a bank), or None for the RTI's."""
        placement = self.placement
        if callable(placement):
            chosen = placement(name, bank_index)
        else:
            chosen = _DEFAULT
            if placement is not None:
                member = f"{name}[{bank_index}]" if bank_index is not None else None
                if member is not None and member in placement:
                    chosen = placement[member]
                elif name in placement:
                    chosen = placement[name]
                    if bank_index is not None and isinstance(chosen, (list, tuple)):
                        chosen = chosen[bank_index]
            if chosen is _DEFAULT:
                chosen = None if bank_index is None else bank_index % self.federates
        if chosen is not None and not (isinstance(chosen, int) and 0 <= chosen < self.federates):
            where = name if bank_index is None else f"{name}[{bank_index}]"
            raise ReactorError(
                f"placement of {where}: {chosen!r} is not a federate in 0..{self.federates - 1}"
            )
        return chosen


_DEFAULT = object()


def as_federation(value: int | Federation | None) -> Federation | None:
    if value is None or isinstance(value, Federation):
        return value
    return Federation(value)
