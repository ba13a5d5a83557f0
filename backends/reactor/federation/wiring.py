"""Builds the scheduler of one process of a federation from its reactors and its plan."""

from __future__ import annotations

import sys
from typing import Any

from ..assembly import bind
from ..ports import Port
from ..reactor import Reaction, Reactor
from ..triggers import Trigger
from .federate import FederateScheduler, Inbound, InChannel, Link, Outbound
from .shm import Attachments, SegmentPool
from .structure import NodePlan


def make_scheduler(
    reactors: list[Reactor],
    plan: NodePlan,
    *,
    link: Link,
    workers: int,
    fast: bool,
    timeout: int | None,
    pool: SegmentPool | None,
    attachments: Attachments | None,
    threshold: int,
    connect_plan_edges: bool,
    lock: Any = None,
    condition: Any = None,
) -> FederateScheduler:
    """Levels from the plan, local wiring with the plan's channels, and the scheduler itself.

    ``connect_plan_edges``: a federate makes the connections between its reactors that were made
    outside them (in the RTI's process those exist already).
    """
    ports = {p.fqn: p for r in reactors for p in r._elements if isinstance(p, Port)}
    # Ports of reactors elsewhere that local reactions read or set (a container reading a contained
    # reactor's output, or setting its input, when that reactor runs in a federate).
    foreign = {
        p.fqn: p
        for r in reactors
        for reaction in r._reactions
        for p in (*reaction.read_set, *reaction.effects)
        if isinstance(p, Port) and p.fqn not in ports
    }
    ports.update(foreign)
    for port in foreign.values():
        port.delayed_inputs = []
        port._downstream_reactions = ()
        port._src = port
    if connect_plan_edges:
        for dst, src, delay in plan.edges:
            ports[dst].driver = ports[src]
            ports[dst].delay = delay
            ports[src].outgoing.append(ports[dst])
    reactions: list[Reaction] = []
    for reactor in reactors:
        for reaction, level in zip(reactor._reactions, plan.levels[reactor.fqn], strict=True):
            reaction.level = level
            reaction.index = len(reactions)
            reactions.append(reaction)
    entries: dict[Port, Inbound] = {}
    inbound: list[InChannel] = []
    for spec in plan.inbound:
        targets = [ports[fqn] for fqn in spec.ports]
        if spec.delay is None:
            slot = Inbound(targets[0].reactor, f"<channel {spec.channel} from node {spec.source}>")
            for port in targets:
                entries[port] = slot
            inbound.append(InChannel(spec.channel, [slot], spec.need_level, spec.cycle))
        else:
            inbound.append(InChannel(spec.channel, targets, sys.maxsize, False))
    roots = bind(reactors, reactions, entries=entries)
    for port in foreign.values():
        port._src = entries.get(port, port)
    outbound: list[Outbound] = []
    for spec in plan.outbound:
        sink = Outbound(spec.channel, spec.node, spec.delay, spec.final_level, spec.cycle)
        ports[spec.root].delayed_inputs.append((sink, spec.delay))
        outbound.append(sink)
    triggers = [e for r in reactors for e in r._elements if isinstance(e, Trigger)]
    scheduler = FederateScheduler(
        reactions,
        plan.n_levels,
        triggers,
        workers=workers,
        fast=fast,
        timeout=timeout,
        link=link,
        inbound=inbound,
        outbound=outbound,
        pool=pool,
        attachments=attachments,
        threshold=threshold,
        lock=lock,
        condition=condition,
    )
    for reactor in reactors:
        for element in reactor._elements:
            element._clock = scheduler
    for port in [*roots, *foreign.values()]:
        port._clock = scheduler
    return scheduler
