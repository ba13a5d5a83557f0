"""A federation's program structure: reports of remote reactors, their stand-ins, and the plan.

A reactor placed in a federate is built there, from its class and arguments, and the federate reports
its structure (ports, timers, actions, reactions with their declarations, contained reactors, the
connections made inside it). The RTI's process keeps a *stand-in* for it built from that report, so
the program in the RTI's process is complete: ``bank.port(...)``, widths and connections work as in
one process, and assembly checks and levels the whole program, including every reaction that runs
elsewhere. The plan then says, for each process, which of its ports exchange values with which
other process (channels), and at which levels.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from ..errors import AssemblyError
from ..ports import InputPort, Multiport, OutputPort, Port
from ..reactor import Bank, Reaction, Reactor
from ..triggers import LogicalAction, PhysicalAction, Shutdown, Startup, Timer, Trigger
from .graph import FederateGraph

# ----- what a federate reports about the reactors it built -----------------------------------------


@dataclass
class ReactorReport:
    name: str
    bank_index: int | None
    cls_name: str
    elements: list[tuple[str, str, tuple[Any, ...]]]
    attributes: dict[str, tuple[Any, ...]]
    reactions: list[tuple[str, list[str], list[str], list[str]]]
    children: list[ReactorReport]
    edges: list[tuple[str, str, int | None]] = field(default_factory=list)
    """Connections made inside this reactor: (destination fqn, source fqn, delay)."""


_KINDS: dict[type, str] = {
    InputPort: "input",
    OutputPort: "output",
    Timer: "timer",
    LogicalAction: "logical",
    PhysicalAction: "physical",
}


def describe(reactor: Reactor, *, top: bool = True) -> ReactorReport:
    """The structure of ``reactor`` and everything it contains (built in this process); the top
    report carries the connections made anywhere inside."""
    elements = []
    for element in reactor._elements:
        if isinstance(element, (Startup, Shutdown)):
            continue
        kind = _KINDS[type(element)]
        if kind == "physical":
            raise AssemblyError(
                f"{element.fqn}: a physical action must be in the RTI's process (it is scheduled from "
                "outside the program); keep its reactor there"
            )
        params: tuple[Any, ...] = ()
        if kind == "timer":
            params = (element.offset, element.period)
        elif kind == "logical":
            params = (element.min_delay,)
        elements.append((kind, element.name, params))
    positions = {id(child): i for i, child in enumerate(reactor._children)}
    attributes: dict[str, tuple[Any, ...]] = {}
    for attr, value in vars(reactor).items():
        if attr.startswith("_") or attr in ("startup", "shutdown", "parent", "env"):
            continue
        if isinstance(value, (Port, Trigger)) and value.reactor is reactor:
            attributes[attr] = ("element", value.name)
        elif isinstance(value, Multiport) and value and all(p.reactor is reactor for p in value):
            attributes[attr] = ("multiport", value.name, [p.name for p in value])
        elif isinstance(value, Reactor) and id(value) in positions:
            attributes[attr] = ("child", positions[id(value)])
        elif isinstance(value, Bank) and value and all(id(m) in positions for m in value):
            attributes[attr] = ("bank", value.name, [positions[id(m)] for m in value])
    reactions = [
        (
            r.name,
            [t.fqn for t in r.triggers],
            [s.fqn for s in r.sources],
            [e.fqn for e in r.effects],
        )
        for r in reactor._reactions
    ]
    edges = []
    if top:
        inside = {id(r) for r in reactor.descendants()}
        edges = [
            (port.fqn, port.driver.fqn, port.delay)
            for member in reactor.descendants()
            for port in member._elements
            if isinstance(port, Port) and port.driver is not None and id(port.driver.reactor) in inside
        ]
    return ReactorReport(
        reactor.name,
        reactor.bank_index,
        type(reactor).__qualname__,
        elements,
        attributes,
        reactions,
        [describe(child, top=False) for child in reactor._children],
        edges,
    )


# ----- stand-ins in the RTI's process --------------------------------------------------------------


class Placeholder:
    """The container of a reactor built in a federate: it lives in the RTI's process, so the federate
    knows only its name (which the contained reactor's ``fqn`` includes)."""

    def __init__(self, fqn: str):
        self._fqn = fqn
        self._running = None
        self.parent = None

    @property
    def fqn(self) -> str:
        return self._fqn


class StandIn(Reactor):
    """A reactor that runs in federate ``federate``: its ports and declarations, no state or code.

    Connect its ports as usual; reading its state here is an error, since that lives in its federate
    (send what you need through a port to a reactor in this process).
    """

    federate: int
    cls_name: str

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("_"):
            raise AttributeError(attr)
        raise AttributeError(
            f"{self.fqn} ({self.cls_name}) runs in federate {self.federate}: its attribute {attr!r} is not "
            "in this process; send what you need through a port"
        )

    def __repr__(self) -> str:
        return f"<{self.cls_name} {self.fqn} in federate {self.federate}>"


def _remote_body(reactor: StandIn, name: str) -> Any:
    def body() -> None:
        raise AssemblyError(f"reaction {reactor.fqn}.{name} runs in federate {reactor.federate}, not here")

    return body


def stand_in(report: ReactorReport, parent: Reactor | None, federate: int) -> StandIn:
    """Builds the stand-in of a reported reactor (and of what it contains), connected inside as
    reported; ``parent`` is the real container in this process, or None at the top level."""
    reactor = StandIn.__new__(StandIn)
    reactor._preinit(report.name, report.bank_index)
    reactor.parent = parent
    reactor.federate = federate
    reactor.cls_name = report.cls_name
    by_name: dict[str, Any] = {}
    for kind, name, params in report.elements:
        if kind == "input":
            element: Any = InputPort(reactor, name)
        elif kind == "output":
            element = OutputPort(reactor, name)
        elif kind == "timer":
            element = Timer(reactor, name, *params)
        else:
            element = LogicalAction(reactor, name, *params)
        by_name[name] = reactor._own(element)
    by_name["startup"], by_name["shutdown"] = reactor.startup, reactor.shutdown
    reactor._children = [stand_in(child, reactor, federate) for child in report.children]
    for attr, spec in report.attributes.items():
        if spec[0] == "element":
            value: Any = by_name[spec[1]]
        elif spec[0] == "multiport":
            value = Multiport(spec[1], [by_name[n] for n in spec[2]])
        elif spec[0] == "child":
            value = reactor._children[spec[1]]
        else:
            value = Bank(spec[1], [reactor._children[i] for i in spec[2]])
        object.__setattr__(reactor, attr, value)
    if report.edges:
        _connect_reported(reactor, report.edges)
    return reactor


def _connect_reported(reactor: Reactor, edges: list[tuple[str, str, int | None]]) -> None:
    ports = {p.fqn: p for r in reactor.descendants() for p in r._elements if isinstance(p, Port)}
    for dst, src, delay in edges:
        ports[dst].driver = ports[src]
        ports[dst].delay = delay
        ports[src].outgoing.append(ports[dst])


def add_reactions(reactor: StandIn, report: ReactorReport, elements: dict[str, Any]) -> None:
    """Declares the reported reactions on the stand-ins (once every element of the program exists:
    a reaction may name the ports of the reactors its reactor contains)."""
    for name, triggers, sources, effects in report.reactions:
        reaction = Reaction(
            reactor,
            name,
            _remote_body(reactor, name),
            [elements[f] for f in triggers],
            [elements[f] for f in sources],
            [elements[f] for f in effects],
        )
        reactor._reactions.append(reaction)
    for child, child_report in zip(reactor._children, report.children, strict=True):
        add_reactions(child, child_report, elements)  # type: ignore[arg-type]


# ----- the plan ---------------------------------------------------------------------------------------


@dataclass
class InboundSpec:
    channel: int
    source: int
    ports: list[str]
    """Zero delay: the entry ports that read the channel's slot. Delayed: the ports it feeds."""
    delay: int | None
    need_level: int
    cycle: bool = False


@dataclass
class OutboundSpec:
    channel: int
    root: str
    node: int
    delay: int | None
    final_level: int
    cycle: bool = False


@dataclass
class NodePlan:
    node: int
    levels: dict[str, list[int]]
    """Per reactor fqn, the level of each of its reactions, in declaration order."""
    n_levels: int
    edges: list[tuple[str, str, int | None]]
    """Connections between this node's reactors made outside them (the federate makes these)."""
    inbound: list[InboundSpec] = field(default_factory=list)
    outbound: list[OutboundSpec] = field(default_factory=list)


@dataclass
class Plan:
    nodes: int
    graph_edges: list[tuple[int, int, int | None]]
    node_plans: dict[int, NodePlan]
    channel_destinations: dict[int, int]
    graph: FederateGraph


def make_plan(
    reactors: list[Reactor], node_of: dict[int, int], nodes: int, n_levels: int, internal: set[int]
) -> Plan:
    """Channels, levels and local connections for every node.

    ``reactors``: the whole program (real and stand-ins), already levelled; ``node_of``: id(reactor)
    -> node; ``internal``: ids of ports whose connection a federate made itself while building.
    """

    def node(port: Any) -> int:
        return node_of[id(port.reactor)]

    ports = [e for r in reactors for e in r._elements if isinstance(e, Port)]
    readers: dict[int, list[Reaction]] = {}
    writers: dict[int, list[Reaction]] = {}
    for reactor in reactors:
        for reaction in reactor._reactions:
            for port in reaction.read_set:
                readers.setdefault(id(port), []).append(reaction)
            for effect in reaction.effects:
                writers.setdefault(id(effect), []).append(reaction)
    groups: dict[int, list[Port]] = {}
    roots: dict[int, Port] = {}
    for port in ports:
        root = port
        while root.driver is not None and root.delay is None:
            root = root.driver
        groups.setdefault(id(root), []).append(port)
        roots[id(root)] = root
    plans = {n: NodePlan(n, {}, n_levels, []) for n in range(nodes)}
    for reactor in reactors:
        plans[node_of[id(reactor)]].levels[reactor.fqn] = [r.level for r in reactor._reactions]
    for port in ports:
        driver = port.driver
        if driver is not None and id(port) not in internal and node(port) == node(driver):
            plans[node(port)].edges.append((port.fqn, driver.fqn, port.delay))
    channels: list[tuple[int, int, int | None]] = []
    destinations: dict[int, int] = {}
    for key, members in groups.items():
        root = roots[key]
        setters = writers.get(id(root), ())
        # the process that sets the root: its reactor's, or its container's ("sending inside")
        owner = node_of[id(setters[0].reactor)] if setters else node(root)
        final = max((r.level for r in setters), default=-1)
        needed: dict[int, dict[int, Port]] = {}
        levels_needed: dict[int, int] = {}
        for port in members:
            for reader in readers.get(id(port), ()):
                where = node_of[id(reader.reactor)]
                needed.setdefault(where, {})[id(port)] = port
                levels_needed[where] = min(levels_needed.get(where, sys.maxsize), reader.level)
        for port in needed.get(owner, {}).values():
            _check_local_chain(port, root, owner, node_of, writers)
        for dest in sorted(needed):
            if dest == owner:
                continue
            entries = list(needed[dest].values())
            channel = len(channels)
            channels.append((owner, dest, None))
            destinations[channel] = dest
            plans[owner].outbound.append(OutboundSpec(channel, root.fqn, dest, None, final))
            plans[dest].inbound.append(
                InboundSpec(channel, owner, [p.fqn for p in entries], None, levels_needed[dest])
            )
        delayed: dict[tuple[int, int], list[Port]] = {}
        for port in members:
            for nxt in port.outgoing:
                if nxt.delay is None:
                    continue
                dest = node(nxt)
                if dest == owner:
                    if node(port) != owner:
                        raise AssemblyError(
                            f"{nxt.fqn} reads {root.fqn} (same process) through ports of another "
                            f"process ({port.fqn}); place them together"
                        )
                    continue
                delayed.setdefault((dest, nxt.delay), []).append(nxt)
        for (dest, delay), targets in sorted(delayed.items()):
            channel = len(channels)
            channels.append((owner, dest, delay))
            destinations[channel] = dest
            plans[owner].outbound.append(OutboundSpec(channel, root.fqn, dest, delay, final))
            plans[dest].inbound.append(
                InboundSpec(channel, owner, [t.fqn for t in targets], delay, sys.maxsize)
            )
    graph = FederateGraph(nodes, channels)
    for plan in plans.values():
        for spec in plan.outbound:
            spec.cycle = spec.delay is None and _same_cycle(graph, plan.node, spec.node)
        for spec in plan.inbound:
            spec.cycle = spec.delay is None and _same_cycle(graph, spec.source, plan.node)
    return Plan(nodes, channels, plans, destinations, graph)


def _check_local_chain(
    port: Port, root: Port, owner: int, node_of: dict[int, int], writers: dict[int, list[Reaction]]
) -> None:
    """A reader in the root's own process must reach the root through ports that process has."""
    current = port
    while current is not root:
        if node_of[id(current.reactor)] != owner and id(current) not in writers:
            raise AssemblyError(
                f"{port.fqn} reads {root.fqn} (same process) through ports of another process "
                f"({current.fqn}); place them together or add a delay"
            )
        current = current.driver


def _same_cycle(graph: FederateGraph, a: int, b: int) -> bool:
    return a != b and graph.group_of[a] == graph.group_of[b] and graph.is_cycle_group(graph.group_of[a])
