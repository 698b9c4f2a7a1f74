"""Amazon Bedrock chat models through the Converse API, which speaks one shape for every model family.

boto3 is blocking, so each call runs in a worker thread; a stream is read one event per hop to a
thread, which keeps the event loop free for the rest of the run while the model writes.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from flowless.providers.converse_messages import to_converse
from flowless.providers.errors import ProviderError
from flowless.providers.retry import is_retryable_status

__all__ = ["BedrockProvider"]

_NAME = "Amazon Bedrock"

# Long answers take minutes to finish; botocore's default 60 s read timeout would cut them off
# (the stream's timeout is between events, so it is rarely reached there).
_READ_TIMEOUT = 300
_CONNECT_TIMEOUT = 10

# Option name -> inferenceConfig field.
_INFERENCE_OPTIONS = {
    "temperature": "temperature",
    "max_tokens": "maxTokens",
    "top_p": "topP",
    "stop": "stopSequences",
}


class BedrockProvider:
    """A Bedrock model by id (or inference profile id).

    `options` of complete() and stream() override temperature, max_tokens and top_p, and may give
    `stop` sequences. `json_mode` is accepted and has no effect: Converse has no JSON switch, so the
    prompt itself must ask for JSON. Any other option is an error.

    `on_usage(input_tokens, output_tokens)` is called once per answer with the usage Bedrock reports.
    """

    def __init__(
        self,
        model_id: str,
        *,
        region: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        top_p: float | None = None,
        client: Any = None,
        on_usage: Callable[[int, int], None] | None = None,
    ) -> None:
        self.model_id = model_id
        self.region = region
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.top_p = top_p
        self._client = client
        self._client_lock = threading.Lock()
        self.on_usage = on_usage

    def __repr__(self) -> str:
        return f"BedrockProvider(model_id={self.model_id!r}, region={self.region!r})"

    async def complete(self, messages: list[dict[str, Any]], **options: Any) -> str:
        request = self._request(messages, options)
        response = await asyncio.to_thread(self._call, "converse", request)
        blocks = response.get("output", {}).get("message", {}).get("content", [])
        self._report_usage(response.get("usage"))
        # Reasoning models add reasoningContent blocks; the answer is the text blocks.
        return "".join(block["text"] for block in blocks if "text" in block)

    async def stream(self, messages: list[dict[str, Any]], **options: Any) -> AsyncIterator[str]:
        request = self._request(messages, options)
        response = await asyncio.to_thread(self._call, "converse_stream", request)
        events = response["stream"]
        iterator = iter(events)
        try:
            while True:
                event = await asyncio.to_thread(_next_event, iterator)
                if event is None:
                    return
                text = event.get("contentBlockDelta", {}).get("delta", {}).get("text")
                if text:
                    yield text
                elif "metadata" in event:   # the last event: usage and latency
                    self._report_usage(event["metadata"].get("usage"))
        finally:
            events.close()  # a consumer that stops early must not leave the connection open

    def _report_usage(self, usage: Any) -> None:
        if self.on_usage is not None and isinstance(usage, dict):
            self.on_usage(int(usage.get("inputTokens") or 0), int(usage.get("outputTokens") or 0))

    # -- request and client ----------------------------------------------------------------------

    def _request(self, messages: list[dict[str, Any]], options: dict[str, Any]) -> dict[str, Any]:
        options = dict(options)
        options.pop("json_mode", None)
        unknown = options.keys() - _INFERENCE_OPTIONS.keys()
        if unknown:
            known = sorted(_INFERENCE_OPTIONS)
            raise TypeError(f"Bedrock models take no option {sorted(unknown)}; known: {known}")
        defaults = {"temperature": self.temperature, "max_tokens": self.max_tokens, "top_p": self.top_p}
        settings = {**defaults, **options}
        inference = {_INFERENCE_OPTIONS[k]: v for k, v in settings.items() if v is not None}
        system, turns = to_converse(messages)
        request: dict[str, Any] = {"modelId": self.model_id, "messages": turns}
        if system:
            request["system"] = system
        if inference:
            request["inferenceConfig"] = inference
        return request

    def _get_client(self) -> Any:
        # Concurrent vertices may call at once; they share one client (boto3 clients are thread-safe).
        with self._client_lock:
            if self._client is None:
                import boto3
                from botocore.config import Config

                config = Config(
                    connect_timeout=_CONNECT_TIMEOUT,
                    read_timeout=_READ_TIMEOUT,
                    retries={"mode": "standard", "max_attempts": 3},
                )
                self._client = boto3.client("bedrock-runtime", region_name=self.region, config=config)
            return self._client

    def _call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        client = self._get_client()
        try:
            return getattr(client, operation)(**request)
        except (ClientError, BotoCoreError) as exc:
            raise _provider_error(exc) from exc


def _next_event(iterator: Iterator[dict[str, Any]]) -> dict[str, Any] | None:
    # StopIteration cannot cross into a coroutine, so the end of the stream comes back as None.
    try:
        return next(iterator, None)
    except (ClientError, BotoCoreError) as exc:
        # Errors inside a stream (throttling, model errors) arrive as exception events.
        raise _provider_error(exc) from exc


def _provider_error(exc: ClientError | BotoCoreError) -> ProviderError:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = error.get("Code", "")
        message = error.get("Message") or str(exc)
        return ProviderError(
            _NAME,
            f"{code}: {message}" if code else message,
            status_code=status,
            retryable=status is not None and is_retryable_status(status),
        )
    return ProviderError(_NAME, str(exc))
