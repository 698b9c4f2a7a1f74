"""Which vertices a run builds, and in which layers: start component, pruning, Kahn layering."""

from __future__ import annotations

from dataclasses import dataclass

from flowless.engine.graph import Graph

__all__ = ["Plan", "plan_run"]


@dataclass
class Plan:
    layers: list[list[str]]

    @property
    def to_run(self) -> list[str]:
        return [v for layer in self.layers for v in layer]


def _start_vertex(graph: Graph) -> str | None:
    # Langflow starts from a Webhook if there is one, else from a Chat Input.
    inputs = [v for v in graph.order if graph.vertices[v].is_input]
    for marker in ("webhook", "chat"):
        for vertex_id in inputs:
            if marker in vertex_id.lower():
                return vertex_id
    return None


def _kept(graph: Graph, start: str | None) -> set[str]:
    """Everything reachable from the start vertex plus every ancestor of those; all without a start."""
    if start is None:
        return set(graph.vertices)
    successors: dict[str, list[str]] = {v: [] for v in graph.vertices}
    predecessors: dict[str, list[str]] = {v: [] for v in graph.vertices}
    for edge in graph.edges:
        successors[edge.source].append(edge.target)
        predecessors[edge.target].append(edge.source)
    reach, todo = {start}, [start]
    while todo:
        for nxt in successors[todo.pop()]:
            if nxt not in reach:
                reach.add(nxt)
                todo.append(nxt)
    kept, todo = set(reach), list(reach)
    while todo:
        for prev in predecessors[todo.pop()]:
            if prev not in kept:
                kept.add(prev)
                todo.append(prev)
    return kept


def plan_run(graph: Graph) -> Plan:
    """Layers of vertex ids, each layer runnable once the previous ones are built (node order inside)."""
    kept = _kept(graph, _start_vertex(graph))
    indegree = {v: 0 for v in graph.order if v in kept}
    for edge in graph.edges:
        if edge.source in kept and edge.target in kept:
            indegree[edge.target] += 1
    layers: list[list[str]] = []
    order = {v: i for i, v in enumerate(graph.order)}
    ready = [v for v in indegree if indegree[v] == 0]
    while ready:
        layers.append(ready)
        nxt: list[str] = []
        for vertex_id in ready:
            for edge in graph.outgoing(vertex_id):
                if edge.target in indegree:
                    indegree[edge.target] -= 1
                    if indegree[edge.target] == 0:
                        nxt.append(edge.target)
        ready = sorted(set(nxt), key=order.__getitem__)
    return Plan(layers=layers)
