"""OpenAI's chat completions API, as spoken by OpenAI and by compatible servers (vLLM, Ollama, LiteLLM...)."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from typing import Any

import httpx

from flowless.netguard import guarded_async_client
from flowless.providers.errors import ProviderConfigError, ProviderError
from flowless.providers.retry import RetryPolicy, is_retryable_status, parse_retry_after
from flowless.providers.sse import iter_sse_data

__all__ = ["DEFAULT_BASE_URL", "OpenAICompatibleProvider"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"

# A server that does not accept the connection within this is down; waiting for the full read
# timeout would only burn the function's time.
_CONNECT_TIMEOUT = 10.0

# Error bodies can be whole HTML pages when a proxy answers; the start says enough.
_MAX_ERROR_TEXT = 500


class OpenAICompatibleProvider:
    """A chat model behind POST {base_url}/chat/completions.

    `options` of complete() and stream() are request fields that override the constructor's for one
    call (temperature, max_tokens, response_format, seed, ...); None values are left out, and
    `json_mode=True` is short for response_format {"type": "json_object"}. `extra` holds fields sent
    with every call. model, messages and stream are always this provider's own.

    `on_usage(prompt_tokens, completion_tokens)` is called once per answer with the usage the server
    reports; streamed requests then ask for it with `stream_options` (unless `extra` sets its own).
    """

    def __init__(
        self,
        model: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        timeout: float = 60.0,
        max_retries: int = 3,
        allow_private: bool = False,
        extra: dict[str, Any] | None = None,
        retry_base_delay: float = 0.5,
        retry_max_delay: float = 20.0,
        on_usage: Callable[[int, int], None] | None = None,
    ) -> None:
        self.model = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        key = api_key or os.environ.get("OPENAI_API_KEY")
        if not key:
            raise ProviderConfigError(
                f"No API key for model {model!r}: set the model component's API key or OPENAI_API_KEY"
            )
        self._api_key = key
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.allow_private = allow_private
        self.extra = dict(extra or {})
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, _CONNECT_TIMEOUT))
        self.retry = RetryPolicy(max_retries, retry_base_delay, retry_max_delay)
        self.name = f"OpenAI-compatible API at {httpx.URL(self.base_url).host or self.base_url}"
        self.on_usage = on_usage

    def __repr__(self) -> str:  # without the key, which must not reach logs
        return f"OpenAICompatibleProvider(model={self.model!r}, base_url={self.base_url!r})"

    async def complete(self, messages: list[dict[str, Any]], **options: Any) -> str:
        body = self._body(messages, options, stream=False)
        async with self._client() as client:
            data = await self.retry.run(lambda: self._post(client, body))
        text = self._answer_text(data)
        self._report_usage(data.get("usage"))
        return text

    async def stream(self, messages: list[dict[str, Any]], **options: Any) -> AsyncIterator[str]:
        body = self._body(messages, options, stream=True)
        async with self._client() as client:
            attempt = 0
            while True:
                started = False
                try:
                    async with aclosing(self._stream_once(client, body)) as chunks:
                        async for text in chunks:
                            started = True
                            yield text
                    return
                except ProviderError as error:
                    if not started and _refuses_stream_options(error, body):
                        # A server that does not know OpenAI's usage option: ask again without it.
                        body.pop("stream_options")
                        continue
                    # Once text went out, a retry would repeat it: only a failure before that is retried.
                    if started or not self.retry.should_retry(error, attempt):
                        raise
                    await self.retry.wait(attempt, error)
                attempt += 1

    # -- one request ---------------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        # One client per call: a Lambda handler may run each invocation in a new event loop, and a
        # client's connections belong to the loop that opened them.
        return guarded_async_client(
            self.allow_private,
            timeout=self.timeout,
            headers={"Authorization": f"Bearer {self._api_key}"},
        )

    @property
    def _url(self) -> str:
        return f"{self.base_url}/chat/completions"

    def _body(
        self, messages: list[dict[str, Any]], options: dict[str, Any], *, stream: bool
    ) -> dict[str, Any]:
        fields = {"temperature": self.temperature, "max_tokens": self.max_tokens, **self.extra, **options}
        json_mode = fields.pop("json_mode", False)
        body = {key: value for key, value in fields.items() if value is not None}
        if json_mode and "response_format" not in body:
            body["response_format"] = {"type": "json_object"}
        body.update(model=self.model, messages=messages, stream=stream)
        if stream and self.on_usage is not None:
            body.setdefault("stream_options", {"include_usage": True})
        return body

    async def _post(self, client: httpx.AsyncClient, body: dict[str, Any]) -> Any:
        try:
            response = await client.post(self._url, json=body)
        except httpx.TransportError as exc:
            raise self._connection_error(exc) from exc
        if not response.is_success:
            raise self._http_error(response)
        try:
            return response.json()
        except ValueError as exc:
            status = response.status_code
            raise ProviderError(self.name, "the response is not JSON", status_code=status) from exc

    async def _stream_once(self, client: httpx.AsyncClient, body: dict[str, Any]) -> AsyncIterator[str]:
        request = client.build_request("POST", self._url, json=body, headers={"Accept": "text/event-stream"})
        try:
            response = await client.send(request, stream=True)
        except httpx.TransportError as exc:
            raise self._connection_error(exc) from exc
        try:
            if not response.is_success:
                await response.aread()
                raise self._http_error(response)
            # Usage in a stream is a running total (some servers send it on every chunk): the last one counts.
            usage = None
            async for data in iter_sse_data(response.aiter_lines()):
                if data == "[DONE]":
                    break
                chunk = self._chunk(data)
                usage = chunk.get("usage") or usage
                text = _delta_text(chunk)
                if text:
                    yield text
            self._report_usage(usage)
        except httpx.TransportError as exc:
            raise self._connection_error(exc) from exc
        finally:
            await response.aclose()

    # -- reading answers and errors --------------------------------------------------------------

    def _answer_text(self, data: Any) -> str:
        choices = data.get("choices") if isinstance(data, dict) else None
        if not choices:
            error = data.get("error") if isinstance(data, dict) else None
            raise ProviderError(self.name, self._redact(_error_text(error) or "the response has no choices"))
        content = (choices[0].get("message") or {}).get("content")
        return content if isinstance(content, str) else ""

    def _chunk(self, data: str) -> dict[str, Any]:
        try:
            chunk = json.loads(data)
        except ValueError as exc:
            raise ProviderError(self.name, f"the stream sent invalid JSON: {data[:_MAX_ERROR_TEXT]}") from exc
        if not isinstance(chunk, dict):
            return {}
        if chunk.get("error"):
            raise ProviderError(self.name, self._redact(_error_text(chunk["error"])))
        return chunk

    def _report_usage(self, usage: Any) -> None:
        if self.on_usage is None or not isinstance(usage, dict):
            return
        prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
        if isinstance(prompt, int) and isinstance(completion, int):
            self.on_usage(prompt, completion)

    def _http_error(self, response: httpx.Response) -> ProviderError:
        try:
            payload = response.json()
        except ValueError:
            payload = None
        message = _error_text(payload.get("error") if isinstance(payload, dict) else None)
        if not message:
            message = response.text.strip()[:_MAX_ERROR_TEXT] or response.reason_phrase
        return ProviderError(
            self.name,
            self._redact(message),
            status_code=response.status_code,
            retryable=is_retryable_status(response.status_code),
            retry_after=parse_retry_after(response.headers),
        )

    def _connection_error(self, exc: httpx.TransportError) -> ProviderError:
        # A read timeout has already waited the whole timeout; waiting that long again and again
        # would outlast the function. Failures to connect or dropped connections are retried.
        retryable = not isinstance(exc, httpx.ReadTimeout)
        return ProviderError(self.name, f"{type(exc).__name__}: {exc}", retryable=retryable)

    def _redact(self, message: str) -> str:
        # Some servers quote the key they rejected; it must not travel on in an error.
        return message.replace(self._api_key, "[redacted]")


def _delta_text(chunk: dict[str, Any]) -> str:
    # Chunks without choices (a final usage report) or without content (the role-only first delta, the
    # finish_reason chunk) carry no text.
    choices = chunk.get("choices") or []
    delta = (choices[0].get("delta") or {}) if choices else {}
    content = delta.get("content")
    return content if isinstance(content, str) else ""


def _refuses_stream_options(error: ProviderError, body: dict[str, Any]) -> bool:
    return (error.status_code in (400, 422) and body.get("stream_options") == {"include_usage": True}
            and "stream_options" in error.message)


def _error_text(error: Any) -> str:
    """The message of OpenAI's {"error": {"message": ...}}, or of the plain string some servers send."""
    if isinstance(error, dict):
        return str(error.get("message") or "")
    if isinstance(error, str):
        return error
    return ""
