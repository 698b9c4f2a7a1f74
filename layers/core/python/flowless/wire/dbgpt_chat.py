"""DB-GPT's chat completions on the wire: the request body, the non-streamed answer, and the SSE chunks of
each chat mode, written from the engine's events.

The three streams differ as DB-GPT's do, and the dbgpt-client parses each of them:
- chat_flow: a role-only chunk, then content deltas; `id` is the conversation id; compact JSON.
- chat_normal: content deltas only; `id` is a fresh "chatcmpl-..." per answer.
- chat_app: each chunk's content is the whole conversation so far as DB-GPT's `agent-messages` vis block
  (a snapshot, not a delta), with `created`.
Every stream ends with `data: [DONE]`. A keep-alive is an SSE comment, which clients skip.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from pydantic import BaseModel, ConfigDict

from flowless.engine.events import Event
from flowless.engine.outputs import final_text
from flowless.wire.dbgpt import model_output

__all__ = [
    "ChatCompletionRequest",
    "app_chunks",
    "chat_response",
    "flow_chunks",
    "normal_chunks",
]

# A chat_app snapshot repeats the whole answer, so it is sent at most this often while tokens arrive.
_APP_SNAPSHOT_EVERY_S = 0.05


class ChatCompletionRequest(BaseModel):
    """Body of POST /api/v2/chat/completions (DB-GPT's APIChatCompletionRequest); unknown fields ignored."""

    model_config = ConfigDict(extra="ignore")

    model: str
    messages: str | list[dict[str, Any]]
    temperature: float | None = 0.7
    top_p: float | None = 1.0
    top_k: int | None = -1
    n: int | None = 1
    max_tokens: int | None = None
    max_new_tokens: int | None = None
    stop: str | list[str] | None = None
    stream: bool = False
    user: str | None = None
    repetition_penalty: float | None = 1.0
    frequency_penalty: float | None = 0.0
    presence_penalty: float | None = 0.0
    chat_mode: str | None = "chat_normal"
    chat_param: str | None = None
    conv_uid: str | None = None
    span_id: str | None = None
    user_name: str | None = None
    sys_code: str | None = None
    incremental: bool = True
    enable_vis: bool = True

    def prompt(self) -> str:
        """The text a flow or app is asked: the string itself, or the last user message of a list (the last
        message when none is the user's). DB-GPT takes the first message instead, which with the OpenAI SDK is
        usually the system prompt; earlier turns reach a flow through its memory of `conv_uid`."""
        if isinstance(self.messages, str):
            return self.messages
        chosen = next((m for m in reversed(self.messages) if m.get("role") == "user"), None)
        if chosen is None and self.messages:
            chosen = self.messages[-1]
        return _content_text((chosen or {}).get("content"))

    def token_limit(self) -> int | None:
        return self.max_tokens if self.max_tokens is not None else self.max_new_tokens


def _content_text(content: Any) -> str:
    """An OpenAI message's content as text: a string, or the text parts of a content list."""
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return "" if content is None else str(content)


def chat_response(completion_id: str, model: str, text: str, usage: dict[str, int]) -> dict[str, Any]:
    """DB-GPT's ChatCompletionResponse for a whole answer, with the tokens the run's models reported."""
    return {
        "id": completion_id, "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "reasoning_content": None},
                     "finish_reason": None}],
        "usage": usage,
    }


def _sse(body: Any, *, compact: bool) -> str:
    separators = (",", ":") if compact else (", ", ": ")
    return f"data: {json.dumps(body, ensure_ascii=False, separators=separators)}\n\n"


_DONE = "data: [DONE]\n\n"
_KEEPALIVE = ": keep-alive\n\n"


async def _texts(events: AsyncIterator[Event | None]) -> AsyncIterator[tuple[str, str]]:
    """("token", chunk) per streamed token, ("text", whole answer) once at the end when nothing streamed,
    ("keepalive", "") for a silent interval, ("error", message) when the run fails."""
    streamed = False
    async for event in events:
        if event is None:
            yield "keepalive", ""
        elif event.kind == "token":
            streamed = True
            yield "token", str(event.data["chunk"])
        elif event.kind == "end":
            if not streamed:
                yield "text", final_text(event.data["result"])
        elif event.kind == "error":
            yield "error", str(event.data["error"])
            return


async def flow_chunks(events: AsyncIterator[Event | None], *, conv_uid: str, model: str) -> AsyncIterator[str]:
    """chat_flow's stream. A failure mid-run is DB-GPT's in-band error event, then [DONE]."""
    def delta(content: str) -> dict[str, Any]:
        return {"id": conv_uid, "model": model, "choices": [
            {"index": 0, "delta": {"role": "assistant", "content": content, "reasoning_content": None}}]}

    yield _sse({"id": conv_uid, "model": model,
                "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]}, compact=True)
    async for kind, text in _texts(events):
        if kind == "keepalive":
            yield _KEEPALIVE
        elif kind == "error":
            yield _sse(model_output(text, error_code=1, incremental=True), compact=True)
            break
        elif text:
            yield _sse(delta(text), compact=True)
    yield _DONE


async def normal_chunks(events: AsyncIterator[Event | None], *, model: str) -> AsyncIterator[str]:
    """chat_normal's stream. A failure mid-run is DB-GPT's `[SERVER_ERROR]` line, then [DONE]."""
    completion_id = f"chatcmpl-{uuid.uuid1()}"
    async for kind, text in _texts(events):
        if kind == "keepalive":
            yield _KEEPALIVE
        elif kind == "error":
            yield f"data: [SERVER_ERROR]{text}\n\n"
            break
        elif text:
            yield _sse({"id": completion_id, "model": model, "choices": [
                {"index": 0, "delta": {"role": "assistant", "content": text, "reasoning_content": None}}]},
                compact=False)
    yield _DONE


def _vis_messages(sender: str, model: str, markdown: str) -> str:
    """DB-GPT's `agent-messages` vis block: a fenced JSON list of the messages shown."""
    body = json.dumps([{"sender": sender, "receiver": "Human", "model": model, "markdown": markdown,
                        "resource": None}], ensure_ascii=False)
    return f"```agent-messages\n{body}\n```"


async def app_chunks(events: AsyncIterator[Event | None], *, conv_uid: str, model: str,
                     app_name: str) -> AsyncIterator[str]:
    """chat_app's stream: snapshots of the answer so far (throttled), the last one always whole."""
    created = int(time.time())

    def snapshot(answer: str) -> str:
        return _sse({"id": conv_uid, "created": created, "model": model, "choices": [
            {"index": 0, "delta": {"role": "assistant", "content": _vis_messages(app_name, model, answer)}}]},
            compact=True)

    answer, sent, last_sent = "", "", 0.0
    async for kind, text in _texts(events):
        if kind == "keepalive":
            yield _KEEPALIVE
            continue
        if kind == "error":
            answer = f"{answer}\n\n**Error:** {text}" if answer else f"**Error:** {text}"
            break
        answer += text
        now = time.monotonic()
        if now - last_sent >= _APP_SNAPSHOT_EVERY_S:
            yield snapshot(answer)
            sent, last_sent = answer, now
    if answer != sent or not sent:
        yield snapshot(answer)
    yield _DONE
