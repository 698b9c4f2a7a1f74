"""Parse and validate a Langflow flow graph (the `data` of a flow, or a whole export).

A graph is nodes (components; notes are ignored) and edges from one node's named output to another
node's template field. Validation happens before anything runs, and each error names the node.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from flowless.errors import InvalidFlowError

__all__ = ["Edge", "Graph", "UnsupportedComponentError", "Vertex", "parse_graph"]

INPUT_TYPES = ("ChatInput", "Webhook", "TextInput")
OUTPUT_TYPES = ("ChatOutput", "DataOutput", "TextOutput")


class UnsupportedComponentError(InvalidFlowError):
    """A node's component type has no native implementation here."""


class KnowsComponents(Protocol):
    def supports(self, kind: str) -> bool: ...

    def output_names(self, kind: str) -> tuple[str, ...]: ...


@dataclass
class Vertex:
    """One component node: its id, type, template fields and declared outputs."""

    id: str
    type: str
    display_name: str
    template: dict[str, dict[str, Any]]
    outputs: list[str]
    selected_output: str | None = None
    is_input: bool = False
    is_output: bool = False
    frozen: bool = False

    def value(self, name: str, default: Any = None) -> Any:
        """A template field's value (`file_path` for file fields that carry one)."""
        spec = self.template.get(name)
        if not isinstance(spec, dict):
            return default
        if spec.get("type") == "file" and spec.get("file_path"):
            return spec["file_path"]
        return spec.get("value", default)


@dataclass(frozen=True)
class Edge:
    source: str
    output: str
    target: str
    field: str


@dataclass
class Graph:
    """The validated graph, nodes in flow order."""

    vertices: dict[str, Vertex]
    edges: list[Edge]
    flow_id: str = ""
    flow_name: str = ""
    order: list[str] = field(default_factory=list)

    _by_target: dict[str, list[Edge]] | None = field(default=None, repr=False, compare=False)
    _by_source: dict[str, list[Edge]] | None = field(default=None, repr=False, compare=False)

    def _index(self) -> None:
        # Edges by end, built once: the runner asks for every vertex's edges, so a scan each time is quadratic.
        self._by_target, self._by_source = {}, {}
        for edge in self.edges:
            self._by_target.setdefault(edge.target, []).append(edge)
            self._by_source.setdefault(edge.source, []).append(edge)

    def incoming(self, vertex_id: str) -> list[Edge]:
        if self._by_target is None:
            self._index()
        assert self._by_target is not None
        return self._by_target.get(vertex_id, [])

    def outgoing(self, vertex_id: str) -> list[Edge]:
        if self._by_source is None:
            self._index()
        assert self._by_source is not None
        return self._by_source.get(vertex_id, [])


def _graph_data(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    # An export or a FlowRead carries the graph under "data"; a bare graph has nodes/edges at the top.
    if "nodes" in payload:
        return payload
    data = payload.get("data")
    if isinstance(data, Mapping) and "nodes" in data:
        return data
    raise InvalidFlowError("Flow has no graph: expected data.nodes and data.edges")


def _vertex(node: Mapping[str, Any]) -> Vertex | None:
    data = node.get("data")
    if not isinstance(data, Mapping):
        raise InvalidFlowError(f"Node {node.get('id', '?')} has no data")
    kind = data.get("type")
    if node.get("type") == "noteNode" or not kind or kind == "note":
        return None
    node_id = str(node.get("id") or data.get("id") or "")
    if not node_id:
        raise InvalidFlowError(f"A {kind} node has no id")
    spec = data.get("node") or {}
    # Field dicts are copied: tweaks and inputs change them per run, never the flow they came from.
    template = {k: dict(v) for k, v in (spec.get("template") or {}).items() if isinstance(v, dict)}
    outputs = [str(o.get("name")) for o in spec.get("outputs") or [] if isinstance(o, Mapping) and o.get("name")]
    prefix = node_id.split("-")[0]
    return Vertex(
        id=node_id, type=str(kind), display_name=str(spec.get("display_name") or data.get("display_name") or kind),
        template=template, outputs=outputs, selected_output=data.get("selected_output"),
        is_input=bool(spec.get("is_input")) or prefix in INPUT_TYPES or kind in INPUT_TYPES,
        is_output=bool(spec.get("is_output")) or prefix in OUTPUT_TYPES or kind in OUTPUT_TYPES,
        frozen=bool(spec.get("frozen")),
    )


def _edge(raw: Mapping[str, Any], vertices: Mapping[str, Vertex]) -> Edge:
    data = raw.get("data") or {}
    source_handle, target_handle = data.get("sourceHandle"), data.get("targetHandle")
    source, target = str(raw.get("source", "")), str(raw.get("target", ""))
    if not isinstance(source_handle, Mapping) or not isinstance(target_handle, Mapping):
        raise InvalidFlowError(f"Edge from {source or '?'} to {target or '?'} has no handles (a pre-1.0 flow?)")
    for end in (source, target):
        if end not in vertices:
            raise InvalidFlowError(f"Edge {source} -> {target} refers to a node that does not exist: {end}")
    output = source_handle.get("name")
    field_name = target_handle.get("fieldName") or target_handle.get("name")
    if not output:
        raise InvalidFlowError(f"Edge {source} -> {target} does not name the output of {source}")
    if not field_name:
        raise InvalidFlowError(f"Edge {source} -> {target} does not name the input of {target}")
    return Edge(source=source, output=str(output), target=target, field=str(field_name))


def parse_graph(payload: Mapping[str, Any], registry: KnowsComponents, *, flow_id: str = "",
                flow_name: str = "") -> Graph:
    """Parse and validate a flow graph against the components the registry supports.

    Example:
        graph = parse_graph(export, default_registry(), flow_id=flow.id)
    """
    data = _graph_data(payload)
    nodes, raw_edges = data.get("nodes"), data.get("edges")
    if not isinstance(nodes, list) or not isinstance(raw_edges, list):
        raise InvalidFlowError("Flow data.nodes and data.edges must be lists")
    vertices: dict[str, Vertex] = {}
    for node in nodes:
        if not isinstance(node, Mapping):
            raise InvalidFlowError("Every node must be a JSON object")
        vertex = _vertex(node)
        if vertex is None:
            continue
        if vertex.id in vertices:
            raise InvalidFlowError(f"Two nodes share the id {vertex.id}")
        if not registry.supports(vertex.type):
            raise UnsupportedComponentError(
                f"Unsupported component type: {vertex.type} (node {vertex.id}, \"{vertex.display_name}\")"
            )
        if not vertex.outputs:
            vertex.outputs = list(registry.output_names(vertex.type))
        vertices[vertex.id] = vertex
    edges = []
    for raw in raw_edges:
        if not isinstance(raw, Mapping):
            raise InvalidFlowError("Every edge must be a JSON object")
        edge = _edge(raw, vertices)
        source = vertices[edge.source]
        if edge.output not in source.outputs and edge.output not in registry.output_names(source.type):
            raise InvalidFlowError(f"Edge {edge.source} -> {edge.target}: {edge.source} has no output {edge.output!r}")
        edges.append(edge)
    graph = Graph(vertices=vertices, edges=edges, flow_id=flow_id, flow_name=flow_name, order=list(vertices))
    _check_acyclic(graph)
    return graph


def _check_acyclic(graph: Graph) -> None:
    """Raise naming a node on a cycle (loop components are not supported)."""
    state: dict[str, int] = {}
    successors: dict[str, list[str]] = {v: [] for v in graph.vertices}
    for edge in graph.edges:
        successors[edge.source].append(edge.target)
    for start in graph.order:
        if state.get(start):
            continue
        stack = [(start, iter(successors[start]))]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                raise InvalidFlowError(f"The flow has a cycle through node {child}; loops are not supported")
            elif not state.get(child):
                state[child] = 1
                stack.append((child, iter(successors[child])))
