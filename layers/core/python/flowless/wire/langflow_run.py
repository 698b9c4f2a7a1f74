"""Langflow's run wire format: the SimplifiedAPIRequest body and the RunResponse built from engine results."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from flowless.engine.events import VertexResult
from flowless.engine.types import Data, DataFrame, Message, ModelHandle, TokenStream, text_of

__all__ = ["SimplifiedAPIRequest", "message_event_data", "result_data", "run_response", "serialize_value"]


class SimplifiedAPIRequest(BaseModel):
    """The body of POST /api/v1/run/{flow}. Unknown fields are ignored, as Langflow ignores them."""

    model_config = ConfigDict(extra="ignore")

    input_value: str | None = None
    input_type: Literal["chat", "text", "any"] = "chat"
    output_type: Literal["chat", "text", "any", "debug"] = "chat"
    output_component: str = ""
    tweaks: dict[str, Any] | None = None
    session_id: str | None = None


def _iso(timestamp: str) -> str:
    """"2026-11-22 11:02:04 UTC" -> "2026-11-22T11:02:04+00:00", as Langflow prints a Message's timestamp."""
    try:
        parsed = datetime.strptime(timestamp, "%Y-%m-%d %H:%M:%S %Z").replace(tzinfo=UTC)
    except ValueError:
        return timestamp
    return parsed.isoformat()


def message_event_data(message: Message) -> dict[str, Any]:
    """A message as add_message events and the message store carry it."""
    return message.fields()


def _message(message: Message) -> dict[str, Any]:
    fields = message.fields()
    return {
        "text_key": "text", "data": fields, "default_value": "", "text": message.text, "sender": message.sender,
        "sender_name": message.sender_name, "files": list(message.files), "session_id": message.session_id,
        "timestamp": _iso(message.timestamp), "flow_id": message.flow_id, "error": message.error,
        "edit": message.edit, "properties": message.properties, "category": message.category,
        "content_blocks": message.content_blocks, "duration": message.duration,
    }


def serialize_value(value: Any) -> Any:
    """An engine value as Langflow serialises a component result."""
    if isinstance(value, Message):
        return _message(value)
    if isinstance(value, Data):
        return {"text_key": value.text_key, "data": value.data, "default_value": ""}
    if isinstance(value, DataFrame):
        return list(value.rows)
    if isinstance(value, TokenStream):
        return value.text
    if isinstance(value, ModelHandle):
        return {"provider": value.provider, "model_name": value.model_name}
    if isinstance(value, list):
        return [serialize_value(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool, dict)):
        return value
    return text_of(value)


def _output_log(value: Any) -> dict[str, Any]:
    """The `outputs.<name>` entry: the value for display and its kind."""
    if isinstance(value, Message):
        return {"message": value.text, "type": "text"}
    if isinstance(value, str):
        return {"message": value, "type": "text"}
    if isinstance(value, Data):
        return {"message": value.data, "type": "object"}
    if isinstance(value, DataFrame):
        return {"message": list(value.rows), "type": "array"}
    if isinstance(value, list):
        return {"message": [serialize_value(v) for v in value], "type": "array"}
    return {"message": serialize_value(value), "type": "unknown"}


def _artifacts(value: Any) -> dict[str, Any]:
    if isinstance(value, Message):
        return {"message": value.text, "sender": value.sender, "sender_name": value.sender_name,
                "files": list(value.files), "type": "object"}
    if isinstance(value, Data):
        return {"data": value.data, "type": "object"}
    return {}


def _chat_output_response(message: Message, component_id: str) -> dict[str, Any]:
    return {"message": message.text, "sender": message.sender, "sender_name": message.sender_name,
            "session_id": message.session_id, "stream_url": None, "component_id": component_id,
            "files": list(message.files), "type": "text"}


def result_data(vertex: VertexResult) -> dict[str, Any]:
    """One ResultData entry of a RunResponse."""
    first = next(iter(vertex.results.values()), None)
    return {
        "results": {name: serialize_value(value) for name, value in vertex.results.items()},
        "artifacts": _artifacts(first),
        "outputs": {name: _output_log(value) for name, value in vertex.results.items()},
        "logs": {name: [] for name in vertex.results},
        "messages": [_chat_output_response(m, vertex.id) for m in vertex.messages] if vertex.is_output else [],
        # Langflow leaves these empty on /run; clients read the results.
        "timedelta": None,
        "duration": None,
        "component_display_name": vertex.display_name,
        "component_id": vertex.id,
        "used_frozen_result": False,
    }


def run_response(session_id: str, input_value: str | None, vertices: list[VertexResult]) -> dict[str, Any]:
    """RunResponse: one RunOutputs entry, because one set of inputs was sent."""
    inputs = {"input_value": input_value} if input_value is not None else {}
    return {"session_id": session_id, "outputs": [{"inputs": inputs, "outputs": [result_data(v) for v in vertices]}]}
