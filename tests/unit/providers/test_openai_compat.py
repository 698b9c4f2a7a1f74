from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

import pytest

from flowless.netguard import BlockedAddressError
from flowless.providers.errors import ProviderConfigError, ProviderError
from flowless.providers.openai_compat import DEFAULT_BASE_URL, OpenAICompatibleProvider
from tests.stubs.openai_stub import OpenAIStub, Reply, chunk_event

MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hello there"},
]


def make(stub: OpenAIStub, **kwargs: Any) -> OpenAICompatibleProvider:
    options: dict[str, Any] = {
        "api_key": "sk-test",
        "base_url": stub.base_url,
        "allow_private": True,  # the stub listens on loopback
        "retry_base_delay": 0.001,
        "retry_max_delay": 0.01,
    }
    return OpenAICompatibleProvider("gpt-4o-mini", **{**options, **kwargs})


def collect(provider: OpenAICompatibleProvider, **options: Any) -> list[str]:
    async def run() -> list[str]:
        return [chunk async for chunk in provider.stream(MESSAGES, **options)]

    return asyncio.run(run())


def test_complete_returns_the_answer_and_sends_openais_request(openai_stub: OpenAIStub) -> None:
    provider = make(openai_stub, temperature=0.2, max_tokens=50)
    assert asyncio.run(provider.complete(MESSAGES)) == "Echo: Hello there"
    [request] = openai_stub.requests
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.json == {
        "model": "gpt-4o-mini",
        "messages": MESSAGES,
        "temperature": 0.2,
        "max_tokens": 50,
        "stream": False,
    }


def test_unset_settings_are_left_out_and_options_override_per_call(openai_stub: OpenAIStub) -> None:
    provider = make(openai_stub, temperature=0.2, extra={"seed": 7})
    asyncio.run(provider.complete(MESSAGES))
    asyncio.run(provider.complete(MESSAGES, temperature=0.9, json_mode=True))
    first, second = (r.json for r in openai_stub.requests)
    assert "max_tokens" not in first and first["seed"] == 7
    assert second["temperature"] == 0.9
    assert second["response_format"] == {"type": "json_object"}


def test_stream_yields_content_deltas(openai_stub: OpenAIStub) -> None:
    openai_stub.enqueue(Reply.answer("unused", chunks=["Hel", "lo", " world"]))
    assert collect(make(openai_stub)) == ["Hel", "lo", " world"]
    [request] = openai_stub.requests
    assert request.json["stream"] is True
    assert request.headers["accept"] == "text/event-stream"


def test_stream_default_answer_arrives_word_by_word(openai_stub: OpenAIStub) -> None:
    assert "".join(collect(make(openai_stub))) == "Echo: Hello there"


def test_stream_skips_keepalives_empty_deltas_and_usage_chunks(openai_stub: OpenAIStub) -> None:
    body = (
        ": keepalive\n\n"
        + chunk_event(role="assistant")  # role only, no content at all
        + chunk_event("")
        + ": ping\n\n"
        + "event: message\nid: 3\n"
        + chunk_event("A")
        + "data:" + chunk_event("B")[len("data: "):]  # no space after the colon is valid too
        + 'data: {"id": "x", "choices": [], "usage": {"total_tokens": 3}}\n\n'
        + chunk_event(finish_reason="stop")
        + "data: [DONE]\n\n"
        + chunk_event("after done is ignored")
    )
    openai_stub.enqueue(Reply.event_stream(body))
    assert collect(make(openai_stub)) == ["A", "B"]


def test_error_inside_a_stream_is_a_provider_error(openai_stub: OpenAIStub) -> None:
    openai_stub.enqueue(Reply.event_stream('data: {"error": {"message": "model overloaded"}}\n\n'))
    with pytest.raises(ProviderError, match="model overloaded"):
        collect(make(openai_stub, max_retries=0))


# -- usage ---------------------------------------------------------------------------------------


def metered(stub: OpenAIStub, **kwargs: Any) -> tuple[OpenAICompatibleProvider, list[tuple[int, int]]]:
    reports: list[tuple[int, int]] = []
    return make(stub, on_usage=lambda prompt, completion: reports.append((prompt, completion)), **kwargs), reports


def test_complete_reports_the_usage_of_the_answer(openai_stub: OpenAIStub) -> None:
    provider, reports = metered(openai_stub)
    asyncio.run(provider.complete(MESSAGES))
    assert reports == [(4, 3)]   # the stub counts words: "Be brief. Hello there" and "Echo: Hello there"
    assert "stream_options" not in openai_stub.requests[0].json


def test_stream_asks_for_usage_and_reports_it_once_at_the_end(openai_stub: OpenAIStub) -> None:
    provider, reports = metered(openai_stub)
    assert "".join(collect(provider)) == "Echo: Hello there"
    assert openai_stub.requests[0].json["stream_options"] == {"include_usage": True}
    assert reports == [(4, 3)]


def test_stream_usage_sent_on_every_chunk_counts_once(openai_stub: OpenAIStub) -> None:
    # Some servers send a running total with every chunk; only the last is the answer's.
    def running(content: str, prompt: int, completion: int) -> str:
        usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
        return chunk_event(content)[:-3] + f', "usage": {json.dumps(usage)}}}\n\n'

    openai_stub.enqueue(Reply.event_stream(running("A", 4, 1) + running("B", 4, 2) + "data: [DONE]\n\n"))
    provider, reports = metered(openai_stub)
    assert collect(provider) == ["A", "B"]
    assert reports == [(4, 2)]


def test_a_server_refusing_stream_options_is_asked_again_without_them(openai_stub: OpenAIStub) -> None:
    openai_stub.enqueue(Reply.failure(400, "Unrecognized request argument supplied: stream_options"))
    provider, reports = metered(openai_stub, max_retries=0)
    assert "".join(collect(provider)) == "Echo: Hello there"
    first, second = (r.json for r in openai_stub.requests)
    assert "stream_options" in first and "stream_options" not in second
    assert reports == []   # that server reports no usage in streams


def test_without_a_usage_listener_streams_do_not_ask_for_usage(openai_stub: OpenAIStub) -> None:
    collect(make(openai_stub))
    assert "stream_options" not in openai_stub.requests[0].json


def test_an_extra_stream_options_setting_is_kept(openai_stub: OpenAIStub) -> None:
    provider, _ = metered(openai_stub, extra={"stream_options": {"include_usage": False}})
    collect(provider)
    assert openai_stub.requests[0].json["stream_options"] == {"include_usage": False}


# -- resolution of base URL and key --------------------------------------------------------------


def test_base_url_argument_wins_over_environment(
    openai_stub: OpenAIStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "https://elsewhere.invalid/v1")
    provider = make(openai_stub, base_url=openai_stub.base_url + "/")
    assert provider.base_url == openai_stub.base_url
    assert asyncio.run(provider.complete(MESSAGES)) == "Echo: Hello there"


def test_base_url_from_environment_then_default(
    openai_stub: OpenAIStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", openai_stub.base_url)
    provider = make(openai_stub, base_url=None)
    assert asyncio.run(provider.complete(MESSAGES)) == "Echo: Hello there"
    monkeypatch.delenv("OPENAI_BASE_URL")
    assert make(openai_stub, base_url=None).base_url == DEFAULT_BASE_URL == "https://api.openai.com/v1"


def test_api_key_argument_wins_over_environment(
    openai_stub: OpenAIStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    asyncio.run(make(openai_stub, api_key="sk-argument").complete(MESSAGES))
    asyncio.run(make(openai_stub, api_key=None).complete(MESSAGES))
    sent = [r.headers["authorization"] for r in openai_stub.requests]
    assert sent == ["Bearer sk-argument", "Bearer sk-from-env"]


def test_missing_api_key_is_a_config_error(openai_stub: OpenAIStub) -> None:
    with pytest.raises(ProviderConfigError, match="OPENAI_API_KEY"):
        make(openai_stub, api_key=None)
    with pytest.raises(ValueError):
        make(openai_stub, api_key="")
    assert openai_stub.requests == []


def test_repr_hides_the_key(openai_stub: OpenAIStub) -> None:
    assert "sk-test" not in repr(make(openai_stub))


# -- retries ----------------------------------------------------------------------------------


def test_rate_limit_is_retried_after_retry_after(openai_stub: OpenAIStub) -> None:
    openai_stub.enqueue(Reply.failure(429, "Rate limit reached", type="requests", retry_after="1"))
    # Retry-After asks for 1 s; the cap (0.2 s) still applies, and is well above the jittered backoff.
    provider = make(openai_stub, retry_base_delay=0.001, retry_max_delay=0.2)
    started = time.monotonic()
    assert asyncio.run(provider.complete(MESSAGES)) == "Echo: Hello there"
    assert time.monotonic() - started >= 0.2
    assert len(openai_stub.requests) == 2


def test_server_errors_are_retried(openai_stub: OpenAIStub) -> None:
    openai_stub.enqueue(
        Reply.failure(500, "boom", type="server_error"), Reply.failure(503, "busy", type="server_error")
    )
    assert asyncio.run(make(openai_stub).complete(MESSAGES)) == "Echo: Hello there"
    assert len(openai_stub.requests) == 3


def test_dropped_connection_is_retried(openai_stub: OpenAIStub) -> None:
    openai_stub.enqueue(Reply.disconnect())
    assert asyncio.run(make(openai_stub).complete(MESSAGES)) == "Echo: Hello there"
    assert len(openai_stub.requests) == 2


def test_retries_run_out(openai_stub: OpenAIStub) -> None:
    openai_stub.enqueue(*[Reply.failure(500, "still down", type="server_error")] * 3)
    with pytest.raises(ProviderError) as caught:
        asyncio.run(make(openai_stub, max_retries=2).complete(MESSAGES))
    assert caught.value.status_code == 500 and caught.value.message == "still down"
    assert len(openai_stub.requests) == 3


def test_client_error_is_not_retried_and_carries_the_providers_message(openai_stub: OpenAIStub) -> None:
    openai_stub.enqueue(Reply.failure(400, "The model `nope` does not exist", code="model_not_found"))
    with pytest.raises(ProviderError) as caught:
        asyncio.run(make(openai_stub).complete(MESSAGES))
    assert caught.value.status_code == 400
    assert caught.value.message == "The model `nope` does not exist"
    assert "HTTP 400" in str(caught.value)
    assert len(openai_stub.requests) == 1


def test_error_never_carries_the_api_key(openai_stub: OpenAIStub) -> None:
    rejected = "Incorrect API key provided: sk-secret-123."
    openai_stub.enqueue(Reply.failure(401, rejected, code="invalid_api_key"))
    with pytest.raises(ProviderError) as caught:
        asyncio.run(make(openai_stub, api_key="sk-secret-123").complete(MESSAGES))
    assert "sk-secret-123" not in str(caught.value)


def test_stream_is_retried_when_failing_before_the_first_chunk(openai_stub: OpenAIStub) -> None:
    openai_stub.enqueue(Reply.failure(502, "bad gateway", type="server_error"), Reply.disconnect())
    assert "".join(collect(make(openai_stub))) == "Echo: Hello there"
    assert len(openai_stub.requests) == 3


def test_stream_is_not_retried_after_text_went_out(openai_stub: OpenAIStub) -> None:
    # The stream ends with a broken chunk after the first text.
    openai_stub.enqueue(Reply.event_stream(chunk_event("partial") + "data: {not json\n\n"))
    received: list[str] = []

    async def run() -> None:
        async for chunk in make(openai_stub).stream(MESSAGES):
            received.append(chunk)

    with pytest.raises(ProviderError, match="invalid JSON"):
        asyncio.run(run())
    assert received == ["partial"]
    assert len(openai_stub.requests) == 1


def test_stream_client_error_is_not_retried(openai_stub: OpenAIStub) -> None:
    openai_stub.enqueue(Reply.failure(404, "no such model"))
    with pytest.raises(ProviderError, match="no such model"):
        collect(make(openai_stub))
    assert len(openai_stub.requests) == 1


# -- the SSRF guard ---------------------------------------------------------------------------


def test_metadata_base_url_is_refused_before_connecting() -> None:
    provider = OpenAICompatibleProvider(
        "gpt-4o-mini", api_key="sk-test", base_url="http://169.254.169.254/v1", allow_private=True, timeout=1
    )
    with pytest.raises(BlockedAddressError, match=re.escape("169.254.169.254")):
        asyncio.run(provider.complete(MESSAGES))
    with pytest.raises(BlockedAddressError):
        collect(provider)


def test_loopback_is_refused_unless_private_networks_are_allowed(openai_stub: OpenAIStub) -> None:
    provider = make(openai_stub, allow_private=False)
    with pytest.raises(BlockedAddressError, match="loopback"):
        asyncio.run(provider.complete(MESSAGES))
    assert openai_stub.requests == []
