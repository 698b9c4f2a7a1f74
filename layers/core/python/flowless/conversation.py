"""A conversation with a configured model, as a graph of its own: what DB-GPT's chat_normal, a model-bound
app and the OpenAI-compatible model API run. Building a two-node graph (Conversation Model -> Chat Output)
keeps them on the one engine: the same events, streaming, keep-alives and error handling as any flow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["MODEL_NODE", "conversation_graph", "conversation_run"]

MODEL_NODE = "FlowlessConversationModel-answer"
OUTPUT_NODE = "ChatOutput-answer"


def _field(value: Any, kind: str = "str") -> dict[str, Any]:
    return {"type": kind, "value": value}


def conversation_graph(*, model: str, messages: list[dict[str, Any]] | None = None, system: str = "",
                       temperature: float | None = None, max_tokens: int | None = None) -> dict[str, Any]:
    """The graph answering `messages` (after an optional system prompt) with the configured `model`.
    A chat that starts from an input (a flow's or app's prompt) feeds the model's input_value instead."""
    model_template = {
        "messages": _field(list(messages or []), "other"), "model_name": _field(model),
        "system_message": _field(system), "temperature": _field(temperature, "float"),
        "max_tokens": _field(max_tokens, "int"), "input_value": _field(""), "stream": _field(False, "bool"),
    }
    output_template = {"input_value": _field(""), "should_store_message": _field(False, "bool")}
    return {
        "nodes": [
            {"id": MODEL_NODE, "type": "genericNode", "data": {
                "id": MODEL_NODE, "type": "FlowlessConversationModel",
                "node": {"display_name": model, "template": model_template}}},
            {"id": OUTPUT_NODE, "type": "genericNode", "data": {
                "id": OUTPUT_NODE, "type": "ChatOutput",
                "node": {"display_name": "Chat Output", "template": output_template}}},
        ],
        "edges": [{"source": MODEL_NODE, "target": OUTPUT_NODE, "data": {
            "sourceHandle": {"id": MODEL_NODE, "name": "text_output"},
            "targetHandle": {"id": OUTPUT_NODE, "fieldName": "input_value"}}}],
    }


def conversation_run(*, user_id: str, graph: dict[str, Any], name: str, stream: bool,
                     variables: Mapping[str, str] | None = None, input_value: str | None = None,
                     session_id: str | None = None, tweaks: Mapping[str, Any] | None = None) -> Any:
    """A FlowRun of a graph made for this request: nothing stored, the internal components available."""
    from flowless.clock import new_id
    from flowless.components.registry import chat_registry
    from flowless.langflow.runner import FlowRun
    from flowless.store.flows import Flow
    from flowless.wire.langflow_run import SimplifiedAPIRequest

    flow = Flow(id=new_id(), user_id=user_id, name=name, data=graph)
    request = SimplifiedAPIRequest(input_value=input_value, session_id=session_id, tweaks=dict(tweaks or {}),
                                   input_type="any", output_type="any")
    return FlowRun(user_id=user_id, flow=flow, request=request, variables=variables, stream=stream,
                   registry=chat_registry(), store_messages=False)
