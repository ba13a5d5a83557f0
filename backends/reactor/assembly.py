"""Assembly: connections, precedence and levels, computed once before the first tag.

Levels follow reactor-cpp: peel the precedence graph (Kahn's algorithm) and give each reaction one more
than the highest level of its predecessors, so that a whole level can run concurrently and the
scheduler never sorts a ready queue.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .errors import AssemblyError, CycleError, MultipleDriversError, WidthMismatchError
from .ports import InputPort, OutputPort
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


def connect_ports(src: Any, dst: Any, delay: int | None, broadcast: bool) -> None:
    """Wires outputs to inputs; ``broadcast`` repeats the sources across the destinations."""
    outputs = flatten_ports(src, "sources")
    inputs = flatten_ports(dst, "destinations")
    for port in outputs:
        if not isinstance(port, OutputPort):
            raise AssemblyError(f"connection source {port.fqn} is not an output")
    for port in inputs:
        if not isinstance(port, InputPort):
            raise AssemblyError(f"connection destination {port.fqn} is not an input")
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
        if delay is None:
            inp._src = out
            out.downstream_inputs.append(inp)
        else:
            out.delayed_inputs.append((inp, delay))


def _describe(ports: list[Any]) -> str:
    if len(ports) == 1:
        return ports[0].fqn
    return f"[{ports[0].fqn} .. {ports[-1].fqn}]"


def assemble(reactors: Iterable[Reactor]) -> tuple[list[Reaction], int]:
    """Indexes reactions, wires triggers, assigns levels; returns (reactions, number of levels)."""
    reactions: list[Reaction] = []
    for reactor in reactors:
        for reaction in reactor._reactions:
            reaction.index = len(reactions)
            reactions.append(reaction)
    for reaction in reactions:
        for trigger in reaction.triggers:
            trigger.triggered_reactions.append(reaction)
    successors = _precedence(reactions)
    levels = _levels(reactions, successors)
    for reactor in reactors:
        for element in reactor._elements:
            if isinstance(element, OutputPort):
                element._downstream_reactions = _downstream_reactions(element)
    return reactions, levels


def _downstream_reactions(out: OutputPort) -> tuple[Reaction, ...]:
    """Reactions triggered through zero-delay connections, deduplicated, in reaction order."""
    seen: dict[int, Reaction] = {}
    for inp in out.downstream_inputs:
        for reaction in inp.triggered_reactions:
            seen.setdefault(reaction.index, reaction)
    return tuple(seen[i] for i in sorted(seen))


def _precedence(reactions: list[Reaction]) -> list[list[Reaction]]:
    """Edges: declaration order inside a reactor, and effect port -> reactions reading its readers."""
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
            if isinstance(effect, OutputPort):
                for inp in effect.downstream_inputs:
                    successors[reaction.index].extend(readers.get(id(inp), ()))
    return successors


def _levels(reactions: list[Reaction], successors: list[list[Reaction]]) -> int:
    indegree = [0] * len(reactions)
    for succ in successors:
        for reaction in succ:
            indegree[reaction.index] += 1
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
