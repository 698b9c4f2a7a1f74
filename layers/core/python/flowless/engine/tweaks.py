"""Per-request changes to a parsed graph, with Langflow's rules: tweaks, input injection, session ids."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any

from flowless.engine.graph import Graph, Vertex
from flowless.errors import InvalidInputError

__all__ = ["apply_tweaks", "check_tweak_conflict", "inject_inputs", "inject_session"]


def check_tweak_conflict(tweaks: Mapping[str, Any] | None, *, input_value: str | None, input_type: str) -> None:
    """Refuse an input_value that a tweak of the same input would silently override (Langflow's 400)."""
    if input_value is None or not tweaks:
        return
    for kind, names in (("chat", ("ChatInput", "Chat Input")), ("text", ("TextInput", "Text Input"))):
        if input_type != kind:
            continue
        for key, value in tweaks.items():
            if any(n in key for n in names) and isinstance(value, Mapping) and "input_value" in value:
                raise InvalidInputError(
                    f"If you pass an input_value to the {kind} input, you cannot pass a tweak with the same name."
                )


def _set_field(vertex: Vertex, name: str, value: Any) -> None:
    spec = vertex.template.get(name)
    if spec is None or name == "code":  # unknown fields are ignored; code is never replaced
        return
    kind = spec.get("type")
    if kind == "file":
        if isinstance(value, Mapping):
            spec["file_path"] = value.get("file_path", value.get("value"))
        else:
            spec["file_path"] = value
        return
    if kind == "NestedDict" and isinstance(value, str):
        with contextlib.suppress(json.JSONDecodeError):
            value = json.loads(value)
    if isinstance(value, Mapping) and kind not in ("dict", "NestedDict"):
        spec.update(value)
    else:
        spec["value"] = value


def apply_tweaks(graph: Graph, tweaks: Mapping[str, Any] | None) -> None:
    """Apply tweaks by node id, else by display name (the last such node wins); scalars go to every node."""
    if not tweaks:
        return
    by_name: dict[str, Vertex] = {}
    for vertex_id in graph.order:
        vertex = graph.vertices[vertex_id]
        by_name[vertex.display_name] = vertex
    for key, value in tweaks.items():
        if isinstance(value, Mapping):
            vertex = graph.vertices.get(key) or by_name.get(key)
            if vertex is None:
                continue
            for name, field_value in value.items():
                _set_field(vertex, name, field_value)
        else:
            for vertex in graph.vertices.values():
                if key in vertex.template:
                    _set_field(vertex, key, value)


def _fed_by_edge(graph: Graph, vertex_id: str, field_name: str) -> bool:
    return any(e.field == field_name for e in graph.incoming(vertex_id))


def inject_inputs(graph: Graph, *, input_value: str | None, input_type: str) -> None:
    """Write input_value into the input vertices chosen by input_type (id contains it; all for "any")."""
    if input_value is None:
        return
    for vertex in graph.vertices.values():
        if not vertex.is_input:
            continue
        if input_type != "any" and input_type not in vertex.id.lower():
            continue
        if _fed_by_edge(graph, vertex.id, "input_value"):
            continue
        spec = vertex.template.setdefault("input_value", {"type": "str"})
        spec["value"] = input_value


def inject_session(graph: Graph, session_id: str) -> None:
    """Every vertex with a session_id field gets the run's session, unless an edge feeds it."""
    for vertex in graph.vertices.values():
        if "session_id" in vertex.template and not _fed_by_edge(graph, vertex.id, "session_id"):
            vertex.template["session_id"]["value"] = session_id
