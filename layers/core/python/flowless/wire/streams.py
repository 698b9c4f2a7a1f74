"""Streaming doors over the engine's events: Langflow's stream records and OpenAI-style SSE chunks.

Both take the run's event iterator and give the bytes to send. `with_keepalives` wraps either so a silent run
(a model thinking for minutes) still sends something before API Gateway's 5-minute idle timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

from flowless.engine.events import Event, RunResult
from flowless.engine.outputs import final_text
from flowless.wire.langflow_run import message_event_data

__all__ = ["langflow_records", "openai_chunks", "with_keepalives"]

_DONE = object()


async def with_keepalives(events: AsyncIterator[Event], *, every_s: float) -> AsyncIterator[Event | None]:
    """The events, with None whenever `every_s` passes without one. Closing this closes the run."""
    queue: asyncio.Queue[Any] = asyncio.Queue()

    async def pump() -> None:
        try:
            async for event in events:
                await queue.put(event)
        finally:
            await queue.put(_DONE)

    task = asyncio.create_task(pump())
    try:
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), every_s)
            except TimeoutError:
                yield None
                continue
            if item is _DONE:
                break
            yield item
        await task  # surfaces an exception of the run itself
    finally:
        if not task.done():
            # The client went away: cancelling the pump closes the run, which cancels the provider's request.
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _record(event: str, data: Any) -> bytes:
    return (json.dumps({"event": event, "data": data}, default=str) + "\n\n").encode()


async def langflow_records(events: AsyncIterator[Event | None],
                           response: Callable[[RunResult], dict[str, Any]]) -> AsyncIterator[bytes]:
    """Langflow's /run?stream=true body: {"event", "data"} JSON records separated by blank lines.

    add_message and token as they happen, then end with the full RunResponse, or error (and nothing after).
    A keep-alive is a bare newline, which clients skip as an empty line.
    """
    async for event in events:
        if event is None:
            yield b"\n"
        elif event.kind == "add_message":
            yield _record("add_message", message_event_data(event.data["message"]))
        elif event.kind == "token":
            yield _record("token", {"chunk": event.data["chunk"], "id": event.data["id"]})
        elif event.kind == "end":
            yield _record("end", {"result": response(event.data["result"])})
        elif event.kind == "error":
            yield _record("error", {"error": str(event.data["error"])})
            return


def _chunk(completion_id: str, model: str, created: int, delta: dict[str, Any],
           finish_reason: str | None = None) -> str:
    body = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


async def openai_chunks(events: AsyncIterator[Event | None], *, model: str,
                        include_usage: bool = False) -> AsyncIterator[str]:
    """OpenAI's chat.completion.chunk SSE from a run: a role chunk, a content chunk per token (or the whole
    answer once, when nothing streamed), a finish chunk, then `data: [DONE]`. Keep-alives are SSE comments.
    With `include_usage` (the request's stream_options), a last chunk with no choices carries the run's usage."""
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    yield _chunk(completion_id, model, created, {"role": "assistant", "content": ""})
    streamed = False
    async for event in events:
        if event is None:
            yield ": keep-alive\n\n"
        elif event.kind == "token":
            streamed = True
            yield _chunk(completion_id, model, created, {"content": event.data["chunk"]})
        elif event.kind == "end":
            if not streamed:
                yield _chunk(completion_id, model, created, {"content": final_text(event.data["result"])})
            yield _chunk(completion_id, model, created, {}, "stop")
            if include_usage:
                usage = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
                         "choices": [], "usage": event.data["result"].usage.as_openai()}
                yield f"data: {json.dumps(usage)}\n\n"
        elif event.kind == "error":
            error = {"error": {"message": str(event.data["error"]), "type": "flow_error", "code": None}}
            yield f"data: {json.dumps(error)}\n\n"
            break
    yield "data: [DONE]\n\n"
