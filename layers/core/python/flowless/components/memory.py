"""Message History (Memory): read a session's stored chat messages, or store one."""

from __future__ import annotations

from flowless.engine.component import Component, Input, Output
from flowless.engine.types import DataFrame, Message, text_of

__all__ = ["Memory"]


class Memory(Component):
    kind = "Memory"
    display_name = "Message History"
    description = "Stores or retrieves stored chat messages from Langflow tables or an external memory."
    category = "helpers"
    icon = "message-square-more"
    inputs = (
        Input("mode", "Mode", value="Retrieve", options=("Retrieve", "Store")),
        Input("message", "Message", input_types=("Message",)),
        Input("sender_type", "Sender Type", value="Machine and User", options=("Machine", "User", "Machine and User")),
        Input("sender", "Sender", value="", advanced=True),
        Input("sender_name", "Sender Name", value="", advanced=True),
        Input("n_messages", "Number of Messages", type="int", value=100, advanced=True),
        Input("session_id", "Session ID", value="", advanced=True),
        Input("order", "Order", value="Ascending", options=("Ascending", "Descending"), advanced=True),
        Input("template", "Template", value="{sender_name}: {text}", advanced=True),
    )
    outputs = (
        Output("messages_text", "retrieve_messages_as_text", ("Message",), "Message"),
        Output("dataframe", "retrieve_messages_dataframe", ("DataFrame",), "Dataframe"),
    )

    def _session(self) -> str:
        return text_of(self.params.get("session_id")) or self.ctx.session_id

    async def _retrieve(self) -> list[Message]:
        if self.param("mode", "Retrieve") == "Store":
            await self._store()
        history = self.ctx.services.history
        if history is None:
            return []
        n = int(self.param("n_messages", 100) or 0)
        if n <= 0:
            return []
        messages = [m for m in history.history(session_id=self._session()) if not m.error]
        sender_type = self.param("sender_type", "Machine and User") or self.param("sender", "")
        if sender_type in ("Machine", "User"):
            messages = [m for m in messages if m.sender == sender_type]
        sender_name = text_of(self.params.get("sender_name"))
        if sender_name:
            messages = [m for m in messages if m.sender_name == sender_name]
        if self.param("order", "Ascending") == "Descending":
            messages = list(reversed(messages))
        # Langflow keeps the last n of the ordered list (so Descending keeps the oldest n).
        return messages[-n:]

    async def _store(self) -> None:
        value = self.params.get("message")
        if value is None:
            return
        message = value if isinstance(value, Message) else Message(text=text_of(value))
        stored = Message(text=message.text, sender=message.sender or self.param("sender") or "Machine",
                         sender_name=message.sender_name or text_of(self.params.get("sender_name")) or "AI",
                         session_id=self._session(), flow_id=self.ctx.flow_id)
        self.ctx.new_messages.append(stored)

    async def retrieve_messages_as_text(self) -> Message:
        template = text_of(self.param("template", "{sender_name}: {text}"))
        lines = []
        for m in await self._retrieve():
            row = {**m.fields(), "text": m.text, "sender_name": m.sender_name or ""}
            try:
                lines.append(template.format(**row))
            except KeyError:
                lines.append(f"{m.sender_name}: {m.text}")
        return Message(text="\n".join(lines), flow_id=self.ctx.flow_id, session_id=self._session())

    async def retrieve_messages_dataframe(self) -> DataFrame:
        rows = []
        for m in await self._retrieve():
            fields = m.fields()
            rows.append({k: fields[k] for k in ("text", "sender", "sender_name", "session_id", "timestamp", "id",
                                                "flow_id", "files", "error", "edit", "category")})
        return DataFrame(rows=rows)
