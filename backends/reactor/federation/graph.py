"""The federate graph: which federates feed which, with what least delay, and its zero-delay cycles.

Nodes are processes (the federates and, when it hosts reactors, the RTI's own process). A *group* is
a strongly connected component of the zero-delay edges: the members of a group of two or more form a
zero-delay cycle (acyclic at the reaction level, or assembly would have rejected it) and process each
tag together under provisional grants; every other node is a group of one and gets plain grants.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .tags import Offset, compose, delay_offset


@dataclass
class FederateGraph:
    nodes: int
    edges: list[tuple[int, int, int | None]]
    """(source node, destination node, connection delay) for every channel between processes."""
    group_of: list[int] = field(init=False)
    groups: list[list[int]] = field(init=False)
    upstream: list[list[tuple[int, Offset]]] = field(init=False)
    """Per group: (node outside it, least offset from that node to any member) over all paths; for a
    group of one, also the node itself when a (delayed) cycle leads back to it: what it sends next
    may come back, and a grant several tags ahead must not pass that."""
    downstream_groups: list[list[int]] = field(init=False)
    """Per node: the groups whose ``upstream`` lists it (to re-evaluate when the node changes)."""

    def __post_init__(self) -> None:
        self.groups = _zero_delay_components(self.nodes, self.edges)
        self.group_of = [0] * self.nodes
        for index, members in enumerate(self.groups):
            for node in members:
                self.group_of[node] = index
        least = _least_offsets(self.nodes, self.edges)
        self.upstream = []
        self.downstream_groups = [[] for _ in range(self.nodes)]
        for index, members in enumerate(self.groups):
            entries: list[tuple[int, Offset]] = []
            for node in range(self.nodes):
                if node in members:
                    if len(members) == 1 and least[node][node] is not None:
                        entries.append((node, least[node][node]))
                    continue
                offsets = [least[node][m] for m in members if least[node][m] is not None]
                if offsets:
                    entries.append((node, min(offsets)))
                    self.downstream_groups[node].append(index)
            self.upstream.append(entries)

    def is_cycle_group(self, group: int) -> bool:
        return len(self.groups[group]) > 1


def _zero_delay_components(nodes: int, edges: list[tuple[int, int, int | None]]) -> list[list[int]]:
    """Strongly connected components of the zero-delay edges (Tarjan's algorithm, iteratively)."""
    successors: list[list[int]] = [[] for _ in range(nodes)]
    for src, dst, delay in edges:
        if delay is None and src != dst:
            successors[src].append(dst)
    index_of: list[int | None] = [None] * nodes
    low = [0] * nodes
    on_stack = [False] * nodes
    stack: list[int] = []
    components: list[list[int]] = []
    counter = 0
    for root in range(nodes):
        if index_of[root] is not None:
            continue
        work = [(root, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index_of[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack[node] = True
            recurse = False
            for i in range(position, len(successors[node])):
                nxt = successors[node][i]
                if index_of[nxt] is None:
                    work.append((node, i + 1))
                    work.append((nxt, 0))
                    recurse = True
                    break
                if on_stack[nxt]:
                    low[node] = min(low[node], index_of[nxt])  # type: ignore[arg-type]
            if recurse:
                continue
            if low[node] == index_of[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack[member] = False
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return sorted(components)


def _least_offsets(nodes: int, edges: list[tuple[int, int, int | None]]) -> list[list[Offset | None]]:
    """least[a][b]: the least offset over all paths from a to b (None: no path). Bellman-Ford per
    source; offsets never decrease along a path, so it settles within ``nodes`` rounds."""
    direct: dict[tuple[int, int], Offset] = {}
    for src, dst, delay in edges:
        offset = delay_offset(delay)
        if (src, dst) not in direct or offset < direct[(src, dst)]:
            direct[(src, dst)] = offset
    least: list[list[Offset | None]] = []
    for source in range(nodes):
        best: list[Offset | None] = [None] * nodes
        for (src, dst), offset in direct.items():
            if src == source and (best[dst] is None or offset < best[dst]):
                best[dst] = offset
        for _ in range(nodes):
            changed = False
            for (src, dst), offset in direct.items():
                if best[src] is None:
                    continue
                candidate = compose(best[src], offset)  # type: ignore[arg-type]
                if best[dst] is None or candidate < best[dst]:
                    best[dst] = candidate
                    changed = True
            if not changed:
                break
        least.append(best)
    return least
