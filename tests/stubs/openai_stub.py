"""A stand-in for OpenAI's chat completions API (POST /v1/chat/completions), JSON and streamed.

    with OpenAIStub() as stub:
        provider = OpenAICompatibleProvider("gpt-4o-mini", api_key="sk-test", base_url=stub.base_url,
                                            allow_private=True)
        stub.enqueue(Reply.error(429, "Rate limit reached", retry_after="1"), Reply.text("Hi"))
        ...
        stub.requests[-1].json["messages"]

Each request takes the next scripted Reply; with none left, chat completions answer
"Echo: <last user message>" and other paths answer 404 in OpenAI's error format. Streamed requests
("stream": true) get what OpenAI sends: a role-only first chunk, one chunk per word, a chunk with
finish_reason, then `data: [DONE]`; with `stream_options: {"include_usage": true}` a chunk with no
choices and the usage comes last, as OpenAI sends it. Usage counts words: the prompt's and the answer's.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.stubs.server import RecordedRequest, StubServer, send_chunked, send_json

__all__ = ["OpenAIStub", "Reply", "chunk_event", "default_answer"]


@dataclass
class Reply:
    """One scripted answer; build it with the class methods."""

    status: int = 200
    text: str | None = None  # None: the default echo answer
    chunks: list[str] | None = None  # content deltas when streamed; None: the text word by word
    error: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    raw_stream: str | None = None
    drop: bool = False
    interval_s: float = 0.0  # pause before each streamed content chunk, like a model generating

    @classmethod
    def slow(cls, chunks: list[str], interval_s: float) -> Reply:
        return cls(text="".join(chunks), chunks=chunks, interval_s=interval_s)

    @classmethod
    def answer(cls, text: str, *, chunks: list[str] | None = None) -> Reply:
        return cls(text=text, chunks=chunks)

    @classmethod
    def failure(
        cls,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        retry_after: str | None = None,
    ) -> Reply:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        error = {"message": message, "type": type, "param": None, "code": code}
        return cls(status=status, error=error, headers=headers)

    @classmethod
    def event_stream(cls, body: str) -> Reply:
        """Exactly this text/event-stream body, whatever the request asked for."""
        return cls(raw_stream=body)

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Reply:
        return cls(status=status, headers={"Location": location})

    @classmethod
    def disconnect(cls) -> Reply:
        """Close the connection without answering."""
        return cls(drop=True)


def default_answer(body: Any) -> str:
    """The deterministic answer to a request without a scripted reply."""
    messages = body.get("messages", []) if isinstance(body, dict) else []
    last_user = next((m.get("content") for m in reversed(messages) if m.get("role") == "user"), "")
    return f"Echo: {last_user}"


def chunk_event(
    content: str | None = None,
    *,
    role: str | None = None,
    finish_reason: str | None = None,
    model: str = "stub-model",
) -> str:
    """One `data:` event of a streamed completion, with its blank line."""
    delta: dict[str, Any] = {}
    if role is not None:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    chunk = {
        "id": "chatcmpl-stub",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }
    return f"data: {json.dumps(chunk)}\n\n"


class OpenAIStub(StubServer):
    def __init__(self) -> None:
        super().__init__()
        self._replies: deque[Reply] = deque()
        self._replies_lock = threading.Lock()
        # perf_counter() when each streamed content chunk was handed to the socket, and streams the client cut.
        self.chunk_times: list[float] = []
        self.aborted_streams = 0

    @property
    def base_url(self) -> str:
        """What an OpenAI client takes as base URL (the API root, /v1)."""
        return f"{self.url}/v1"

    def enqueue(self, *replies: Reply) -> None:
        with self._replies_lock:
            self._replies.extend(replies)

    def _next_reply(self) -> Reply | None:
        with self._replies_lock:
            return self._replies.popleft() if self._replies else None

    def respond(self, request: RecordedRequest, http: BaseHTTPRequestHandler) -> None:
        reply = self._next_reply()
        body = _json_or_none(request.body)
        is_chat = request.path.rstrip("/").endswith("/chat/completions")
        if reply is None:
            if not is_chat:
                send_json(http, 404, _error_body(f"Unknown request URL: {request.method} {request.path}."))
                return
            reply = Reply()
        if reply.drop:
            return  # the handler closes the connection with nothing written
        if reply.raw_stream is not None:
            send_chunked(http, 200, [reply.raw_stream.encode()], {"Content-Type": "text/event-stream"})
        elif reply.error is not None:
            send_json(http, reply.status, {"error": reply.error}, reply.headers)
        elif 300 <= reply.status < 400:
            send_json(http, reply.status, {}, reply.headers)
        else:
            text = reply.text if reply.text is not None else default_answer(body)
            model = str((body or {}).get("model", "stub-model"))
            if isinstance(body, dict) and body.get("stream"):
                chunks = reply.chunks if reply.chunks is not None else re.findall(r"\S+\s*", text)
                headers = {"Content-Type": "text/event-stream", **reply.headers}
                try:
                    usage = _usage(body, text) if (body.get("stream_options") or {}).get("include_usage") else None
                    send_chunked(http, 200, self._paced(chunks, model, reply.interval_s, usage), headers)
                except (BrokenPipeError, ConnectionResetError):
                    self.aborted_streams += 1
            else:
                send_json(http, reply.status, _completion(text, model, body), reply.headers)


    def _paced(self, chunks: list[str], model: str, interval_s: float,
               usage: dict[str, int] | None) -> Iterator[bytes]:
        yield chunk_event("", role="assistant", model=model).encode()
        for chunk in chunks:
            if interval_s:
                time.sleep(interval_s)
            self.chunk_times.append(time.perf_counter())
            yield chunk_event(chunk, model=model).encode()
        yield chunk_event(finish_reason="stop", model=model).encode()
        if usage is not None:
            final = {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": int(time.time()),
                     "model": model, "choices": [], "usage": usage}
            yield f"data: {json.dumps(final)}\n\n".encode()
        yield b"data: [DONE]\n\n"


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _error_body(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}


def _usage(body: Any, text: str) -> dict[str, int]:
    prompt = " ".join(str(m.get("content", "")) for m in (body or {}).get("messages", []))
    prompt_tokens, completion_tokens = len(prompt.split()), len(text.split())
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens}


def _completion(text: str, model: str, body: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": _usage(body, text),
    }
