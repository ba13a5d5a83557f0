"""Assembly: connections, precedence and levels, computed once before the first tag.

Levels follow reactor-cpp: peel the precedence graph (Kahn's algorithm) and give each reaction one more
than the highest level of its predecessors, so that a whole level can run concurrently and the
scheduler never sorts a ready queue.

Assembly has two halves. ``compute_levels`` only reads the program's structure (it also serves a
federation, where the process that runs the RTI checks and levels the whole program, including
reactors that run elsewhere). ``bind`` wires the reactors one process executes: every port to the
root slot it reads, every root to the reactions its value triggers and the delayed connections it
feeds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .errors import AssemblyError, CycleError, MultipleDriversError, WidthMismatchError
from .ports import InputPort, OutputPort, Port
from .reactor import Reaction, Reactor


def flatten_ports(side: Any, what: str) -> list[Any]:
    """A port, a multiport, a bank's port list, or nested lists of them, as one flat list."""
    if isinstance(side, (list, tuple)):
        flat: list[Any] = []
        for item in side:
            flat.extend(flatten_ports(item, what))
        return flat
    if isinstance(side, (InputPort, OutputPort)):
        return [side]
    raise AssemblyError(f"connection {what} must be ports or lists of ports, not {side!r}")


def connect_ports(
    src: Any, dst: Any, delay: int | None, broadcast: bool, container: Reactor | None = None
) -> None:
    """Records the edges of a connection; ``broadcast`` repeats the sources across the destinations.

    At the top level (``container`` None) outputs connect to inputs. Inside a reactor, sources are its
    inputs or its children's outputs and destinations its outputs or its children's inputs.
    """
    outputs = flatten_ports(src, "sources")
    inputs = flatten_ports(dst, "destinations")
    for port in outputs:
        _check_side(port, container, source=True)
    for port in inputs:
        _check_side(port, container, source=False)
    if not outputs or not inputs:
        raise WidthMismatchError("connection with an empty side")
    names = f"{_describe(outputs)} -> {_describe(inputs)}"
    if broadcast:
        if len(inputs) % len(outputs):
            raise WidthMismatchError(
                f"broadcast {names}: {len(inputs)} inputs are not a multiple of {len(outputs)} outputs"
            )
        outputs = outputs * (len(inputs) // len(outputs))
    elif len(outputs) != len(inputs):
        raise WidthMismatchError(
            f"{names}: width {len(outputs)} does not match width {len(inputs)} "
            "(use broadcast=True to send one output to many inputs)"
        )
    if delay is not None and delay < 0:
        raise AssemblyError(f"{names}: delay must be >= 0, got {delay}")
    for out, inp in zip(outputs, inputs, strict=True):
        if inp.driver is not None:
            raise MultipleDriversError(
                f"{inp.fqn} is already connected from {inp.driver.fqn}; cannot also connect {out.fqn}"
            )
        inp.driver = out
        inp.delay = delay
        out.outgoing.append(inp)


def _check_side(port: Port, container: Reactor | None, *, source: bool) -> None:
    if container is None:
        if source and not isinstance(port, OutputPort):
            raise AssemblyError(f"connection source {port.fqn} is not an output")
        if not source and not isinstance(port, InputPort):
            raise AssemblyError(f"connection destination {port.fqn} is not an input")
        return
    own, inner = (InputPort, OutputPort) if source else (OutputPort, InputPort)
    if (port.reactor is container and isinstance(port, own)) or (
        port.reactor.parent is container and isinstance(port, inner)
    ):
        return
    side, allowed = (
        ("source", "its inputs or its children's outputs")
        if source
        else (
            "destination",
            "its outputs or its children's inputs",
        )
    )
    raise AssemblyError(f"{container.fqn}: connection {side} {port.fqn} is not one of {allowed}")


def _describe(ports: list[Any]) -> str:
    if len(ports) == 1:
        return ports[0].fqn
    return f"[{ports[0].fqn} .. {ports[-1].fqn}]"


def assemble(reactors: list[Reactor]) -> tuple[list[Reaction], int]:
    """Levels and wires a whole program run by one process; returns (reactions, number of levels)."""
    reactions, levels = compute_levels(reactors)
    bind(reactors, reactions)
    return reactions, levels


# ----- structure: precedence and levels ------------------------------------------------------------


def compute_levels(reactors: Iterable[Reactor]) -> tuple[list[Reaction], int]:
    """Indexes reactions and assigns levels (``index``, ``level``); raises on bad structure.

    Reads only declarations and connection edges, never the bodies, so it works on the stand-ins a
    federation keeps for reactors that run in other processes.
    """
    reactions: list[Reaction] = []
    for reactor in reactors:
        for reaction in reactor._reactions:
            reaction.index = len(reactions)
            reactions.append(reaction)
    _check_drivers(reactions)
    successors = _precedence(reactions)
    levels = _levels(reactions, successors)
    return reactions, levels


def _check_drivers(reactions: list[Reaction]) -> None:
    """A port has one driver: a connection or the reactions that set it, never both."""
    for reaction in reactions:
        for effect in reaction.effects:
            if isinstance(effect, Port) and effect.driver is not None:
                raise MultipleDriversError(
                    f"{effect.fqn} is connected from {effect.driver.fqn} and also set by {reaction.fqn}"
                )


def zero_delay_closure(port: Port, keep: Callable[[Port], bool] | None = None) -> list[Port]:
    """``port`` and every port reading its slot through zero-delay connections, in connection order."""
    found = [port]
    position = 0
    while position < len(found):
        for nxt in found[position].outgoing:
            if nxt.delay is None and (keep is None or keep(nxt)):
                found.append(nxt)
        position += 1
    return found


def _precedence(reactions: list[Reaction]) -> list[list[Reaction]]:
    """Edges: declaration order inside a reactor, and each effect port -> reactions reading its slot."""
    successors: list[list[Reaction]] = [[] for _ in reactions]
    readers: dict[int, list[Reaction]] = {}
    for reaction in reactions:
        for port in reaction.read_set:
            readers.setdefault(id(port), []).append(reaction)
    for reaction in reactions:
        siblings = reaction.reactor._reactions
        position = siblings.index(reaction)
        if position + 1 < len(siblings):
            successors[reaction.index].append(siblings[position + 1])
        for effect in reaction.effects:
            if isinstance(effect, Port):
                for port in zero_delay_closure(effect):
                    for reader in readers.get(id(port), ()):
                        if reader is not reaction:
                            successors[reaction.index].append(reader)
    return successors


def _levels(reactions: list[Reaction], successors: list[list[Reaction]]) -> int:
    indegree = [0] * len(reactions)
    for succ in successors:
        for reaction in succ:
            indegree[reaction.index] += 1
    for reaction in reactions:
        reaction.level = -1
    frontier = [r for r in reactions if indegree[r.index] == 0]
    for reaction in frontier:
        reaction.level = 0
    done = 0
    while frontier:
        following: list[Reaction] = []
        for reaction in frontier:
            done += 1
            for succ in successors[reaction.index]:
                succ.level = max(succ.level, reaction.level + 1)
                indegree[succ.index] -= 1
                if indegree[succ.index] == 0:
                    following.append(succ)
        frontier = following
    if done < len(reactions):
        cycle = _find_cycle([r for r in reactions if indegree[r.index] > 0], successors)
        raise CycleError("zero-delay cycle: " + " -> ".join(r.fqn for r in cycle))
    return 1 + max((r.level for r in reactions), default=-1)


def _find_cycle(stuck: list[Reaction], successors: list[list[Reaction]]) -> list[Reaction]:
    """Names one cycle among the reactions Kahn's algorithm could not place.

    Every unplaced reaction has an unplaced predecessor, so walking predecessors must revisit one.
    """
    stuck_ids = {r.index for r in stuck}
    predecessors: dict[int, Reaction] = {}
    for reaction in stuck:
        for succ in successors[reaction.index]:
            if succ.index in stuck_ids:
                predecessors.setdefault(succ.index, reaction)
    path: list[Reaction] = []
    position: dict[int, int] = {}
    current = stuck[0]
    while current.index not in position:
        position[current.index] = len(path)
        path.append(current)
        current = predecessors[current.index]
    cycle = path[position[current.index] :]
    cycle.reverse()
    return [*cycle, cycle[0]]


# ----- execution wiring ----------------------------------------------------------------------------


def bind(
    reactors: list[Reactor],
    reactions: list[Reaction],
    *,
    entries: Mapping[Port, Any] | None = None,
) -> list[Any]:
    """Wires ``reactors`` for execution by one process; returns the roots it wired.

    ``entries`` (federations only) maps ports whose driver runs in another process to the local slot
    that receives their value; connections to ports outside ``reactors`` are left to the caller.
    """
    entries = entries or {}
    local_ports: set[int] = set()
    ports: list[Port] = []
    for reactor in reactors:
        for element in reactor._elements:
            element.triggered_reactions = []
            if isinstance(element, Port):
                local_ports.add(id(element))
                ports.append(element)
    for reaction in reactions:
        for trigger in reaction.triggers:
            trigger.triggered_reactions.append(reaction)

    def keep(port: Port) -> bool:
        return id(port) in local_ports and port not in entries

    roots: list[Any] = []
    for port in ports:
        port._src = _root(port, entries)
        if port._src is port:
            roots.append(port)
    slots = list(dict.fromkeys(entries.values()))
    for root in [*roots, *slots]:
        starts = [p for p, slot in entries.items() if slot is root] if root in slots else [root]
        closure: list[Port] = []
        for start in starts:
            closure.extend(zero_delay_closure(start, keep))
        root._downstream_reactions = _triggered_in_order(closure)
        root.delayed_inputs = [
            (nxt, nxt.delay)
            for port in closure
            for nxt in port.outgoing
            if nxt.delay is not None and id(nxt) in local_ports
        ]
    return [*roots, *slots]


def _root(port: Port, entries: Mapping[Port, Any]) -> Any:
    """The slot ``port`` reads: follow zero-delay drivers up to a port set by reactions, one fed by a
    delayed connection, or the entry of a value from another process."""
    current = port
    while True:
        slot = entries.get(current)
        if slot is not None:
            return slot
        if current.driver is None or current.delay is not None:
            return current
        current = current.driver


def _triggered_in_order(closure: list[Port]) -> tuple[Reaction, ...]:
    """Reactions triggered by any port of the closure, deduplicated, in reaction order."""
    seen: dict[int, Reaction] = {}
    for port in closure:
        for reaction in port.triggered_reactions:
            seen.setdefault(reaction.index, reaction)
    return tuple(seen[i] for i in sorted(seen))
