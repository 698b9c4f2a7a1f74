"""Which built vertices a run answers with: Langflow's output_type / output_component rules."""

from __future__ import annotations

from flowless.engine.events import RunResult, VertexResult
from flowless.engine.graph import Graph

__all__ = ["final_text", "select_outputs"]


def _wanted_ids(graph: Graph, output_type: str, output_component: str) -> list[str]:
    if output_component:
        return [output_component]
    if output_type == "debug":
        return list(graph.order)
    return [v for v in graph.order if graph.vertices[v].is_output
            and (output_type == "any" or output_type in v.lower())]


def select_outputs(graph: Graph, result: RunResult, *, output_type: str = "chat",
                   output_component: str = "") -> list[VertexResult]:
    """The built vertices to report, in node order.

    A vertex is reported when its id or display name was asked for; when nothing was asked for (including
    an output_type that matches no vertex), every output vertex is reported, as Langflow does.
    """
    wanted = set(_wanted_ids(graph, output_type, output_component))
    chosen = []
    for vertex in result.vertices:
        if (not wanted and vertex.is_output) or vertex.id in wanted or vertex.display_name in wanted:
            chosen.append(vertex)
    return chosen


def final_text(result: RunResult) -> str:
    """The answer of a finished run as one text (what chat doors send): the last message an output component
    sent, else the text of an output component's result."""
    for vertex in reversed(result.vertices):
        if vertex.is_output and vertex.messages:
            return str(vertex.messages[-1].text)
    for vertex in reversed(result.vertices):
        if vertex.is_output:
            for value in vertex.results.values():
                text = getattr(value, "text", None)
                if isinstance(text, str):
                    return text
    return ""
