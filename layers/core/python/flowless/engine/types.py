"""The values that travel along edges, as Langflow names them: Message, Data, DataFrame, and streams.

Langflow's own classes carry much more; these keep what flows and the wire formats read.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["Data", "DataFrame", "Message", "ModelHandle", "Stop", "TokenStream", "TokenUsage", "text_of",
           "utc_timestamp"]


def utc_timestamp() -> str:
    """Langflow's message timestamp: "YYYY-MM-DD HH:MM:SS UTC"."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass
class Message:
    """A chat message (Langflow's Message): text plus who sent it and where it belongs."""

    text: str = ""
    sender: str | None = None
    sender_name: str | None = None
    session_id: str = ""
    flow_id: str | None = None
    files: list[str] = field(default_factory=list)
    timestamp: str = field(default_factory=utc_timestamp)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    error: bool = False
    edit: bool = False
    properties: dict[str, Any] = field(default_factory=dict)
    category: str = "message"
    content_blocks: list[Any] = field(default_factory=list)
    duration: int | None = None

    def fields(self) -> dict[str, Any]:
        """The stored/streamed fields, in Langflow's order."""
        return {
            "timestamp": self.timestamp, "sender": self.sender, "sender_name": self.sender_name,
            "session_id": self.session_id, "text": self.text, "files": list(self.files), "error": self.error,
            "edit": self.edit, "properties": self.properties, "category": self.category,
            "content_blocks": self.content_blocks, "id": self.id, "flow_id": self.flow_id,
            "duration": self.duration,
        }


@dataclass
class Data:
    """A dict with a text key (Langflow's Data)."""

    data: dict[str, Any] = field(default_factory=dict)
    text_key: str = "text"

    def get_text(self) -> str:
        value = self.data.get(self.text_key)
        return value if isinstance(value, str) else ""


@dataclass
class DataFrame:
    """Rows of dicts (Langflow's DataFrame, without pandas)."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def columns(self) -> list[str]:
        seen: dict[str, None] = {}
        for row in self.rows:
            for key in row:
                seen.setdefault(key, None)
        return list(seen)


@dataclass
class ModelHandle:
    """A configured chat model passed along an edge (Langflow's LanguageModel output)."""

    provider: str
    model_name: str
    settings: dict[str, Any] = field(default_factory=dict)


class TokenStream:
    """A model answer still arriving: an async iterator of text chunks, read once by its consumer."""

    def __init__(self, chunks: AsyncIterator[str], *, source: dict[str, Any] | None = None) -> None:
        self._chunks = chunks
        self.source = source or {}
        self.text = ""

    async def __aiter__(self) -> AsyncIterator[str]:
        async for chunk in self._chunks:
            self.text += chunk
            yield chunk


@dataclass
class TokenUsage:
    """Tokens the models of a run used, as their providers reported them (a provider that reports nothing
    adds nothing, so a run without models, or with silent ones, shows zeros)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, prompt_tokens: int, completion_tokens: int) -> None:
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens

    def as_openai(self) -> dict[str, int]:
        """OpenAI's (and DB-GPT's) usage object."""
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "total_tokens": self.total_tokens}


class Stop:
    """The value of a branch not taken (If-Else): vertices fed by it do not run."""

    _instance: Stop | None = None

    def __new__(cls) -> Stop:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "Stop()"


def text_of(value: Any) -> str:
    """The text of any edge value, as Langflow components read their text inputs."""
    if value is None or isinstance(value, Stop):
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, Message):
        return value.text
    if isinstance(value, Data):
        return value.get_text() or json.dumps(value.data, ensure_ascii=False, default=str)
    if isinstance(value, DataFrame):
        return "\n".join(str(row.get("text", json.dumps(row, default=str))) for row in value.rows)
    if isinstance(value, list):
        return "\n".join(text_of(v) for v in value)
    if isinstance(value, (int, float, bool)):
        return str(value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)
