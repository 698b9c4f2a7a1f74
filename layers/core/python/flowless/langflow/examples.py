"""Flowless's own example flows, in Langflow's flow format, using only components Flowless runs.

Written here from the format's rules (node ids "<Type>-<5 chars>", edges carrying their handles both as
dicts and as "œ"-quoted strings); no Langflow export is copied.
"""

from __future__ import annotations

import json
import uuid
from functools import lru_cache
from typing import Any

from flowless.wire.langflow import FlowRead

__all__ = ["basic_examples"]

_NAMESPACE = uuid.UUID("0f3b8a9e-3f7d-4a55-a7f2-6e1c9d2b4a10")


def _field(name: str, value: Any, *, kind: str = "str", input_types: list[str] | None = None,
           display_name: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"name": name, "value": value, "type": kind, "display_name": display_name or name.replace("_", " ").title(),
            "show": True, "advanced": False, "required": False, "list": False, "load_from_db": False,
            "input_types": input_types or [], **extra}


def _node(node_id: str, kind: str, display_name: str, fields: list[dict[str, Any]],
          outputs: list[tuple[str, str]], x: int) -> dict[str, Any]:
    return {
        "id": node_id, "type": "genericNode", "position": {"x": x, "y": 0},
        "data": {
            "id": node_id, "type": kind, "display_name": display_name,
            "node": {
                "display_name": display_name, "description": "", "base_classes": [t for _, t in outputs],
                "template": {"_type": "Component", **{f["name"]: f for f in fields}},
                "outputs": [{"name": n, "types": [t], "selected": t, "display_name": n.replace("_", " ").title()}
                            for n, t in outputs],
                "field_order": [f["name"] for f in fields],
            },
        },
    }


def _handle(value: dict[str, Any]) -> str:
    return json.dumps(value).replace('"', "œ")


def _edge(source: str, output: str, output_type: str, target: str, field: str,
          input_types: list[str]) -> dict[str, Any]:
    source_handle = {"dataType": source.split("-")[0], "id": source, "name": output, "output_types": [output_type]}
    target_handle = {"fieldName": field, "id": target, "inputTypes": input_types, "type": "str"}
    compact = lambda d: json.dumps(d, separators=(",", ":")).replace('"', "œ")  # noqa: E731
    return {
        "id": f"reactflow__edge-{source}{compact(source_handle)}-{target}{compact(target_handle)}",
        "source": source, "target": target,
        "sourceHandle": _handle(source_handle), "targetHandle": _handle(target_handle),
        "data": {"sourceHandle": source_handle, "targetHandle": target_handle},
    }


def _chat_input(node_id: str) -> dict[str, Any]:
    return _node(node_id, "ChatInput", "Chat Input", [
        _field("input_value", "", display_name="Input Text"),
        _field("sender", "User", options=["Machine", "User"]),
        _field("sender_name", "User"),
        _field("should_store_message", True, kind="bool"),
    ], [("message", "Message")], 0)


def _chat_output(node_id: str, x: int) -> dict[str, Any]:
    return _node(node_id, "ChatOutput", "Chat Output", [
        _field("input_value", "", input_types=["Data", "DataFrame", "Message"], display_name="Inputs"),
        _field("sender", "Machine", options=["Machine", "User"]),
        _field("sender_name", "AI"),
        _field("should_store_message", True, kind="bool"),
    ], [("message", "Message")], x)


def _echo() -> dict[str, Any]:
    nodes = [_chat_input("ChatInput-fl0w1"), _chat_output("ChatOutput-fl0w2", 400)]
    edges = [_edge("ChatInput-fl0w1", "message", "Message", "ChatOutput-fl0w2", "input_value",
                   ["Data", "DataFrame", "Message"])]
    return {"name": "Echo", "description": "Answers with the message it is sent: the smallest chat flow.",
            "tags": ["chatbots"], "data": {"nodes": nodes, "edges": edges, "viewport": {"x": 0, "y": 0, "zoom": 1}}}


def _basic_prompting() -> dict[str, Any]:
    prompt = _node("Prompt-fl0w3", "Prompt", "Prompt", [
        _field("template", "Answer the user as if you were a GenAI expert, enthusiastic about helping them.",
               kind="prompt", display_name="Template"),
    ], [("prompt", "Message")], 200)
    model = _node("LanguageModelComponent-fl0w4", "LanguageModelComponent", "Language Model", [
        _field("provider", "OpenAI", options=["OpenAI", "Anthropic", "Google"]),
        _field("model_name", "gpt-4o-mini", display_name="Model Name"),
        _field("api_key", "OPENAI_API_KEY", display_name="OpenAI API Key", password=True, load_from_db=True),
        _field("input_value", "", input_types=["Message"], display_name="Input"),
        _field("system_message", "", input_types=["Message"], display_name="System Message"),
        _field("stream", False, kind="bool"),
        _field("temperature", 0.1, kind="slider"),
    ], [("text_output", "Message")], 400)
    model["data"]["node"]["template"]["api_key"]["load_from_db"] = True
    nodes = [_chat_input("ChatInput-fl0w1"), prompt, model, _chat_output("ChatOutput-fl0w2", 600)]
    edges = [
        _edge("ChatInput-fl0w1", "message", "Message", "LanguageModelComponent-fl0w4", "input_value", ["Message"]),
        _edge("Prompt-fl0w3", "prompt", "Message", "LanguageModelComponent-fl0w4", "system_message", ["Message"]),
        _edge("LanguageModelComponent-fl0w4", "text_output", "Message", "ChatOutput-fl0w2", "input_value",
              ["Data", "DataFrame", "Message"]),
    ]
    return {"name": "Basic Prompting", "description": "A system prompt and a chat model, answering each message.",
            "tags": ["chatbots"], "data": {"nodes": nodes, "edges": edges, "viewport": {"x": 0, "y": 0, "zoom": 1}}}


@lru_cache(maxsize=1)
def _examples() -> tuple[FlowRead, ...]:
    made = []
    for build in (_echo, _basic_prompting):
        flow = build()
        made.append(FlowRead(id=str(uuid.uuid5(_NAMESPACE, flow["name"])), user_id=None, folder_id=None,
                             updated_at="2026-11-22T00:00:00+00:00", **flow))
    return tuple(made)


def basic_examples() -> list[FlowRead]:
    """The example flows, as FlowRead (no owner, no project)."""
    return list(_examples())
