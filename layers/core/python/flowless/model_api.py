"""The OpenAI-compatible model API (DB-GPT's model API server): GET /api/v1/models lists the configured
models and POST /api/v1/chat/completions answers a conversation with one of them, as OpenAI's API does, so the
`openai` SDK works unchanged. Runs go through the engine like every other door (flowless.conversation).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from flowless.errors import InvalidParameterError

__all__ = ["ModelChatRequest", "chat_completion", "list_models", "plan_model_chat"]


class ModelChatRequest(BaseModel):
    """OpenAI's chat completion request, as far as it means something here; other fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    model: str
    messages: list[dict[str, Any]] = Field(min_length=1)
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    n: int | None = 1
    stream: bool = False
    stop: str | list[str] | None = None
    user: str | None = None
    stream_options: dict[str, Any] | None = None

    def check(self) -> None:
        """DB-GPT's range checks (code 40302 on the wire)."""
        limit = self.token_limit()
        if limit is not None and limit <= 0:
            raise InvalidParameterError(f"{limit} is less than the minimum of 1 - 'max_tokens'")
        if self.n is not None and self.n != 1:
            raise InvalidParameterError("Only n = 1 is supported")
        if self.temperature is not None and not 0 <= self.temperature <= 2:
            raise InvalidParameterError(f"{self.temperature} is outside [0, 2] - 'temperature'")
        if self.top_p is not None and not 0 <= self.top_p <= 1:
            raise InvalidParameterError(f"{self.top_p} is outside [0, 1] - 'top_p'")
        for message in self.messages:
            if not isinstance(message.get("role"), str):
                raise InvalidParameterError("Every message needs a role")

    def include_usage(self) -> bool:
        """Whether a streamed answer ends with a usage chunk, as OpenAI's stream_options asks."""
        return bool(self.stream and (self.stream_options or {}).get("include_usage"))

    def token_limit(self) -> int | None:
        return self.max_completion_tokens if self.max_completion_tokens is not None else self.max_tokens


def list_models() -> dict[str, Any]:
    """OpenAI's model list of the configured models, sorted by name."""
    from flowless.model_catalog import configured_models

    created = int(time.time())
    return {"object": "list", "data": [
        {"id": name, "object": "model", "created": created, "owned_by": model.provider, "root": name,
         "parent": None, "permission": []}
        for name, model in configured_models().items()]}


def plan_model_chat(user_id: str, body: ModelChatRequest, variables: Mapping[str, str]) -> Any:
    """The run answering a model API request; an unknown model or bad parameter raises before it starts."""
    from flowless.conversation import conversation_graph, conversation_run
    from flowless.model_catalog import find_model

    body.check()
    find_model(body.model)
    graph = conversation_graph(model=body.model, messages=body.messages, temperature=body.temperature,
                               max_tokens=body.token_limit())
    return conversation_run(user_id=user_id, graph=graph, name=body.model, stream=body.stream,
                            variables=variables)


def chat_completion(model: str, text: str, usage: dict[str, int]) -> dict[str, Any]:
    """OpenAI's chat.completion for a whole answer, with the tokens the model reported."""
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion", "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": usage,
    }
