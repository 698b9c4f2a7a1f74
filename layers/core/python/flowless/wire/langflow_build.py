"""Langflow's build (playground) event records, made from engine events, and the bodies that carry them.

A record is {"event": name, "data": {...}}:
    vertices_sorted {"ids": [first layer], "to_run": [every vertex to run]}      always first
    add_message     a message dict, as /run's stream carries it
    token           {"chunk": str, "id": message id}
    end_vertex      {"build_data": VertexBuildResponse}                             one per built vertex
    error           an error message dict (text, sender, category "error", error: true, ...)
    end             {}                                                              last of a good build
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from flowless.clock import now_iso
from flowless.engine.events import VertexResult
from flowless.engine.types import Message
from flowless.wire.langflow_run import message_event_data, result_data

__all__ = ["BuildFlowRequest", "InputValueRequest", "add_message_record", "end_record", "end_vertex_record",
           "error_record", "failed_vertex_record", "format_duration", "ndjson_body", "polling_body",
           "token_record", "vertices_sorted_record"]


class InputValueRequest(BaseModel):
    """The `inputs` of a build: the playground's message and session."""

    model_config = ConfigDict(extra="ignore")

    input_value: str | None = None
    session: str | None = None
    type: Literal["chat", "text", "any"] = "any"


class BuildFlowRequest(BaseModel):
    """The body of POST /api/v1/build/{flow_id}/flow. `data` is a whole graph to build instead of the
    stored one; the component ids may also come as query parameters (which win, as in Langflow 1.6)."""

    model_config = ConfigDict(extra="ignore")

    inputs: InputValueRequest | None = None
    data: dict[str, Any] | None = None
    files: list[str] | None = None
    start_component_id: str | None = None
    stop_component_id: str | None = None


def vertices_sorted_record(ids: list[str], to_run: list[str]) -> dict[str, Any]:
    """The first record. Langflow's build sorts Chat Inputs into a layer of their own ahead of the rest,
    so when the first layer holds any, only they are reported as first."""
    chat_inputs = [v for v in ids if "ChatInput" in v]
    return {"event": "vertices_sorted", "data": {"ids": chat_inputs or list(ids), "to_run": list(to_run)}}


def add_message_record(message: Message) -> dict[str, Any]:
    return {"event": "add_message", "data": message_event_data(message)}


def token_record(chunk: str, message_id: str) -> dict[str, Any]:
    return {"event": "token", "data": {"chunk": chunk, "id": message_id}}


def end_record() -> dict[str, Any]:
    return {"event": "end", "data": {}}


def format_duration(seconds: float | None) -> str:
    """A build's duration as Langflow prints it: "15 ms", "2.5 seconds", "1 minute, 3 seconds"."""
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{round(seconds * 1000)} ms"
    if seconds < 60:
        value = round(seconds, 2)
        return f"{value} {'second' if value == 1 else 'seconds'}"
    minutes, rest = divmod(int(seconds), 60)
    minute_unit = "minute" if minutes == 1 else "minutes"
    return f"{minutes} {minute_unit}, {rest} {'second' if rest == 1 else 'seconds'}"


def _build_data(vertex_id: str, *, valid: bool, params: Any, data: dict[str, Any],
                next_ids: list[str], inactivated: list[str]) -> dict[str, Any]:
    return {
        "id": vertex_id,
        "inactivated_vertices": inactivated,
        "next_vertices_ids": next_ids,
        # Flowless has no grouped components, so every next vertex is its own top-level vertex.
        "top_level_vertices": list(next_ids),
        "valid": valid,
        "params": params,
        "data": data,
        "timestamp": now_iso(),
    }


def end_vertex_record(vertex: VertexResult) -> dict[str, Any]:
    """A built vertex, as Langflow's VertexBuildResponse; its result fields are those of /run's ResultData."""
    run_data = result_data(vertex)
    data = {
        "results": run_data["results"],
        "outputs": run_data["outputs"],
        "logs": run_data["logs"],
        # Langflow's build result repeats the artifacts under "message" (what the playground shows).
        "message": run_data["artifacts"],
        "artifacts": run_data["artifacts"],
        "timedelta": vertex.timedelta,
        "duration": format_duration(vertex.timedelta),
        "used_frozen_result": False,
    }
    params = "Built successfully ✨" if vertex.valid else (vertex.error or "")
    return {"event": "end_vertex", "data": {"build_data": _build_data(
        vertex.id, valid=vertex.valid, params=params, data=data, next_ids=list(vertex.next_vertices_ids),
        inactivated=list(vertex.inactivated_vertices))}}


def failed_vertex_record(vertex_id: str, output_name: str | None, error: str,
                         stack_trace: str = "") -> dict[str, Any]:
    """The end_vertex of a vertex whose build raised: not valid, its first output holding the error."""
    name = output_name or "error"
    outputs = {name: {"message": {"errorMessage": error, "stackTrace": stack_trace}, "type": "error"}}
    data = {"results": {}, "outputs": outputs, "logs": {name: []}, "message": {}, "artifacts": {},
            "timedelta": None, "duration": "", "used_frozen_result": False}
    return {"event": "end_vertex", "data": {"build_data": _build_data(
        vertex_id, valid=False, params=error, data=data, next_ids=[], inactivated=[])}}


def error_record(reason: str, *, component: str | None, component_id: str | None, flow_id: str | None,
                 session_id: str, traceback: str | None = None) -> dict[str, Any]:
    """Langflow's ErrorMessage: a chat message in red naming the component that failed."""
    sender = component or "Flow"
    message = Message(
        text=reason, sender=sender, sender_name=sender, session_id=session_id, flow_id=flow_id, error=True,
        category="error",
        properties={"text_color": "red", "background_color": "red", "icon": "error",
                    "source": {"id": component_id, "display_name": component, "source": component}},
        content_blocks=[{"title": "Error", "contents": [{
            "type": "error", "component": component, "field": None, "reason": reason, "solution": None,
            "traceback": traceback}]}],
    )
    return {"event": "error", "data": message_event_data(message)}


def ndjson_body(records: Iterable[dict[str, Any]]) -> str:
    """The streamed body (event_delivery=streaming or direct): each record's JSON followed by a blank line."""
    return "".join(json.dumps(record, default=str) + "\n\n" for record in records)


def polling_body(records: Iterable[dict[str, Any]]) -> str:
    """The body of one poll (event_delivery=polling): the records available now, one JSON per line."""
    return "\n".join(json.dumps(record, default=str) for record in records)
