"""Chat Input, Chat Output, Text Input, Text Output and Webhook: where a run starts and ends."""

from __future__ import annotations

import json
from typing import Any

from flowless.components._text import to_chat_text
from flowless.engine.component import Component, Input, Output
from flowless.engine.types import Data, Message, TokenStream, text_of

__all__ = ["ChatInput", "ChatOutput", "TextInput", "TextOutput", "Webhook"]


def _properties(source: dict[str, Any] | None = None, icon: str = "") -> dict[str, Any]:
    return {"text_color": "", "background_color": "", "edited": False,
            "source": source or {"id": None, "display_name": None, "source": None}, "icon": icon,
            "allow_markdown": False, "positive_feedback": None, "state": "complete", "targets": []}


def _truthy(value: Any, default: bool = True) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def _files(value: Any) -> list[str]:
    if not value:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


class ChatInput(Component):
    kind = "ChatInput"
    display_name = "Chat Input"
    description = "Get chat inputs from the Playground."
    category = "input_output"
    icon = "MessagesSquare"
    inputs = (
        Input("input_value", "Input Text", value=""),
        Input("should_store_message", "Store Messages", type="bool", value=True, advanced=True),
        Input("sender", "Sender Type", value="User", options=("Machine", "User"), advanced=True),
        Input("sender_name", "Sender Name", value="User", advanced=True),
        Input("session_id", "Session ID", value="", advanced=True),
        Input("files", "Files", type="file", value=[], is_list=True, advanced=True),
    )
    outputs = (Output("message", "message_response", ("Message",), "Chat Message"),)

    async def message_response(self) -> Message:
        message = Message(
            text=text_of(self.param("input_value", "")), sender=self.param("sender") or "User",
            sender_name=self.param("sender_name") or "User", session_id=self.param("session_id") or self.ctx.session_id,
            flow_id=self.ctx.flow_id, files=_files(self.params.get("files")),
            properties=_properties({"id": self.vertex.id, "display_name": self.vertex.display_name,
                                    "source": self.vertex.display_name}, "MessagesSquare"),
        )
        if message.session_id and _truthy(self.params.get("should_store_message")):
            await self.ctx.record_message(message)
            self.sent_messages.append(message)
        return message


class ChatOutput(Component):
    kind = "ChatOutput"
    display_name = "Chat Output"
    description = "Display a chat message in the Playground."
    category = "input_output"
    icon = "MessagesSquare"
    inputs = (
        Input("input_value", "Inputs", type="other", value="", input_types=("Data", "DataFrame", "Message"),
              required=True),
        Input("should_store_message", "Store Messages", type="bool", value=True, advanced=True),
        Input("sender", "Sender Type", value="Machine", options=("Machine", "User"), advanced=True),
        Input("sender_name", "Sender Name", value="AI", advanced=True),
        Input("session_id", "Session ID", value="", advanced=True),
        Input("data_template", "Data Template", value="{text}", advanced=True),
        Input("clean_data", "Basic Clean Data", type="bool", value=True, advanced=True),
    )
    outputs = (Output("message", "message_response", ("Message",), "Output Message"),)

    def _source(self) -> dict[str, Any]:
        """The component whose answer this is (properties.source of the message)."""
        graph = self.ctx.graph
        for edge in graph.incoming(self.vertex.id) if graph is not None else []:
            if edge.field == "input_value":
                name = graph.vertices[edge.source].display_name
                return {"id": edge.source, "display_name": name, "source": name}
        return {"id": None, "display_name": None, "source": None}

    async def message_response(self) -> Message:
        value = self.params.get("input_value")
        stream = value if isinstance(value, TokenStream) else None
        source = self._source()
        if stream is not None and stream.source.get("source"):
            source = {**source, "source": stream.source["source"]}
        message = Message(
            text="" if stream is not None else to_chat_text(value, clean=_truthy(self.params.get("clean_data"))),
            sender=self.param("sender") or "Machine", sender_name=text_of(self.param("sender_name")) or "AI",
            session_id=self.param("session_id") or self.ctx.session_id, flow_id=self.ctx.flow_id,
            properties=_properties(source, "MessagesSquare"),
        )
        store = bool(message.session_id) and _truthy(self.params.get("should_store_message"))
        if stream is not None:
            from flowless.engine.events import Event

            if store:
                await self.ctx.record_message(message)
            else:
                await self.ctx.send(Event("add_message", {"message": message}))
            async for chunk in stream:
                message.text += chunk
                await self.ctx.send(Event("token", {"chunk": chunk, "id": message.id}))
        elif store:
            await self.ctx.record_message(message)
        self.sent_messages.append(message)
        return message


class TextInput(Component):
    kind = "TextInput"
    display_name = "Text Input"
    description = "Get user text inputs."
    category = "input_output"
    icon = "type"
    inputs = (Input("input_value", "Text", value=""),)
    outputs = (Output("text", "text_response", ("Message",), "Output Text"),)

    def text_response(self) -> Message:
        return Message(text=text_of(self.param("input_value", "")), flow_id=self.ctx.flow_id,
                       session_id=self.ctx.session_id)


class TextOutput(Component):
    kind = "TextOutput"
    display_name = "Text Output"
    description = "Sends text output via API."
    category = "input_output"
    icon = "type"
    inputs = (Input("input_value", "Inputs", value="", input_types=("Message",)),)
    outputs = (Output("text", "text_response", ("Message",), "Output Text"),)

    def text_response(self) -> Message:
        value = self.params.get("input_value")
        if isinstance(value, TokenStream):
            raise ValueError("Streaming is not supported by Text Output. Try using a Chat Output instead.")
        return Message(text=text_of(value), flow_id=self.ctx.flow_id, session_id=self.ctx.session_id)


class Webhook(Component):
    kind = "Webhook"
    display_name = "Webhook"
    description = "Defines a webhook to trigger the flow."
    category = "data"
    icon = "webhook"
    inputs = (Input("data", "Payload", value="", advanced=True),)
    outputs = (Output("output_data", "build_data", ("Data",), "Data"),)

    def build_data(self) -> Data:
        raw = self.params.get("data") or ""
        if not isinstance(raw, str):
            return Data(data=raw if isinstance(raw, dict) else {"payload": raw})
        if not raw.strip():
            return Data(data={})
        try:
            body = json.loads(raw)
        except json.JSONDecodeError:
            return Data(data={"payload": raw})
        return Data(data=body if isinstance(body, dict) else {"payload": body})
