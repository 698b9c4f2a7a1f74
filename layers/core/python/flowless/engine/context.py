"""What a run gives its components: identity, options and services, all behind small protocols."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from flowless.engine.events import Event
from flowless.engine.types import Message, TokenUsage

__all__ = ["FileReader", "HttpFetcher", "MessageHistory", "ModelProvider", "RunContext", "Services"]


class MessageHistory(Protocol):
    """Stored chat messages of the run's flow (read side; new messages are written by the caller)."""

    def history(self, *, session_id: str, limit: int = 10_000) -> list[Message]: ...


class FileReader(Protocol):
    """Files a flow may read (stored by Flowless), by the path a flow or tweak names."""

    def read(self, path: str) -> tuple[str, bytes]: ...  # (file name, content)


class HttpFetcher(Protocol):
    """Outbound HTTP for URL and API Request components, with the SSRF guard applied."""

    async def request(self, method: str, url: str, **kwargs: Any) -> Any: ...


class ModelProvider(Protocol):
    """A chat model: one answer, or an async iterator of chunks."""

    async def complete(self, messages: list[dict[str, Any]], **options: Any) -> str: ...

    def stream(self, messages: list[dict[str, Any]], **options: Any) -> Any: ...


@dataclass
class Services:
    """The outside world as the engine sees it; every member may be absent in a test."""

    history: MessageHistory | None = None
    variables: Callable[[str], str | None] = lambda name: None
    files: FileReader | None = None
    http: HttpFetcher | None = None
    # Called with a model's settings plus `on_usage(prompt_tokens, completion_tokens)`, for the provider to report.
    models: Callable[..., ModelProvider] | None = None
    # Outbound requests of a flow may reach loopback/private addresses only when the deployment allows it.
    allow_private_network: bool = False


@dataclass
class RunContext:
    """One run: who, which flow and session, whether LLMs stream, and where events go."""

    flow_id: str
    session_id: str
    user_id: str = ""
    flow_name: str = ""
    stream: bool = False
    services: Services = field(default_factory=Services)
    emit: Callable[[Event], Awaitable[None]] | None = None
    new_messages: list[Message] = field(default_factory=list)
    graph: Any = None  # the Graph being run, for components that look at their neighbours
    usage: TokenUsage = field(default_factory=TokenUsage)  # what the run's models report, summed

    async def send(self, event: Event) -> None:
        if self.emit is not None:
            await self.emit(event)

    async def record_message(self, message: Message) -> None:
        """Keep a chat message for storage after the run, and announce it."""
        self.new_messages.append(message)
        # A snapshot: a streamed answer keeps growing after it is announced.
        await self.send(Event("add_message", {"message": copy.copy(message)}))
