from __future__ import annotations

import asyncio
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from flowless.providers.bedrock import BedrockProvider
from flowless.providers.errors import ProviderError
from tests.stubs.bedrock_stub import BedrockStreamStub, converse_stream_events, encode_exception

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"


def converse_response(*texts: str) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": t} for t in texts]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 5, "outputTokens": 2, "totalTokens": 7},
        "metrics": {"latencyMs": 10},
    }


@pytest.fixture
def client() -> Any:
    return boto3.client("bedrock-runtime", region_name="us-east-1")


def collect(provider: BedrockProvider, messages: list[dict[str, Any]], **options: Any) -> list[str]:
    async def run() -> list[str]:
        return [chunk async for chunk in provider.stream(messages, **options)]

    return asyncio.run(run())


def test_converse_request_shape_and_answer(client: Any) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "First"},
        {"role": "user", "content": "Second"},
        {"role": "assistant", "content": "Answer"},
        {"role": "system", "content": "Mind the tone."},
        {"role": "user", "content": "Third"},
        {"role": "user", "content": ""},
    ]
    expected = {
        "modelId": MODEL,
        "system": [{"text": "Be brief."}, {"text": "Mind the tone."}],
        "messages": [
            {"role": "user", "content": [{"text": "First"}, {"text": "Second"}]},
            {"role": "assistant", "content": [{"text": "Answer"}]},
            {"role": "user", "content": [{"text": "Third"}]},
        ],
        "inferenceConfig": {"temperature": 0.3, "maxTokens": 100, "topP": 0.9},
    }
    provider = BedrockProvider(
        MODEL, region="us-east-1", temperature=0.3, max_tokens=100, top_p=0.9, client=client
    )
    with Stubber(client) as stubber:
        stubber.add_response("converse", converse_response("Hello", " there"), expected)
        assert asyncio.run(provider.complete(messages)) == "Hello there"
        stubber.assert_no_pending_responses()


def test_converse_reports_the_usage(client: Any) -> None:
    reports: list[tuple[int, int]] = []
    provider = BedrockProvider(MODEL, region="us-east-1", client=client,
                               on_usage=lambda prompt, completion: reports.append((prompt, completion)))
    with Stubber(client) as stubber:
        stubber.add_response("converse", converse_response("Hi"))
        asyncio.run(provider.complete([{"role": "user", "content": "Hello"}]))
    assert reports == [(5, 2)]


def test_options_override_and_unset_settings_are_left_out(client: Any) -> None:
    expected = {
        "modelId": MODEL,
        "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
        "inferenceConfig": {"temperature": 0.0, "stopSequences": ["END"]},
    }
    provider = BedrockProvider(MODEL, region="us-east-1", temperature=0.7, client=client)
    with Stubber(client) as stubber:
        stubber.add_response("converse", converse_response("ok"), expected)
        bare_request = {"modelId": MODEL, "messages": expected["messages"]}
        stubber.add_response("converse", converse_response("ok"), bare_request)
        hi = [{"role": "user", "content": "Hi"}]
        assert asyncio.run(provider.complete(hi, temperature=0.0, stop=["END"])) == "ok"
        bare = BedrockProvider(MODEL, region="us-east-1", client=client)
        assert asyncio.run(bare.complete(hi, json_mode=True)) == "ok"


def test_unknown_option_is_refused(client: Any) -> None:
    provider = BedrockProvider(MODEL, client=client)
    with pytest.raises(TypeError, match="seed"):
        asyncio.run(provider.complete([{"role": "user", "content": "Hi"}], seed=1))


def test_unknown_role_is_refused(client: Any) -> None:
    provider = BedrockProvider(MODEL, client=client)
    with pytest.raises(ValueError, match="tool"):
        asyncio.run(provider.complete([{"role": "tool", "content": "x"}]))


def test_client_error_becomes_provider_error(client: Any) -> None:
    provider = BedrockProvider(MODEL, client=client)
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "converse",
            service_error_code="ValidationException",
            service_message="The provided model identifier is invalid.",
            http_status_code=400,
        )
        with pytest.raises(ProviderError) as caught:
            asyncio.run(provider.complete([{"role": "user", "content": "Hi"}]))
    assert caught.value.status_code == 400
    assert caught.value.message == "ValidationException: The provided model identifier is invalid."
    assert not caught.value.retryable


# -- ConverseStream over the real event-stream wire format -----------------------------------------


@pytest.fixture
def bedrock_stub() -> Any:
    with BedrockStreamStub() as stub:
        yield stub


def stub_client(stub: BedrockStreamStub) -> Any:
    return boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=stub.url)


def test_stream_yields_text_deltas(bedrock_stub: BedrockStreamStub) -> None:
    bedrock_stub.enqueue(converse_stream_events(["Hel", "lo", " world"]))
    provider = BedrockProvider(MODEL, temperature=0.5, client=stub_client(bedrock_stub))
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    assert collect(provider, messages) == ["Hel", "lo", " world"]
    [request] = bedrock_stub.requests
    assert request.path == f"/model/{MODEL.replace(':', '%3A')}/converse-stream"
    assert request.json == {
        "system": [{"text": "Be brief."}],
        "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
        "inferenceConfig": {"temperature": 0.5},
    }
    assert request.headers["authorization"].startswith("AWS4-HMAC-SHA256")


def test_stream_reports_the_usage_of_its_metadata_event(bedrock_stub: BedrockStreamStub) -> None:
    bedrock_stub.enqueue(converse_stream_events(["Hel", "lo", " world"]))
    reports: list[tuple[int, int]] = []
    provider = BedrockProvider(MODEL, client=stub_client(bedrock_stub),
                               on_usage=lambda prompt, completion: reports.append((prompt, completion)))
    assert collect(provider, [{"role": "user", "content": "Hi"}]) == ["Hel", "lo", " world"]
    assert reports == [(3, 3)]


def test_error_event_inside_the_stream_becomes_provider_error(bedrock_stub: BedrockStreamStub) -> None:
    start_and_first_delta = converse_stream_events(["partial"])[:2]
    events = [*start_and_first_delta, encode_exception("throttlingException", "Too many tokens")]
    bedrock_stub.enqueue(events)
    provider = BedrockProvider(MODEL, client=stub_client(bedrock_stub))
    received: list[str] = []

    async def run() -> None:
        async for chunk in provider.stream([{"role": "user", "content": "Hi"}]):
            received.append(chunk)

    with pytest.raises(ProviderError, match="Too many tokens"):
        asyncio.run(run())
    assert received == ["partial"]


def test_stopping_early_closes_the_stream(bedrock_stub: BedrockStreamStub) -> None:
    provider = BedrockProvider(MODEL, client=stub_client(bedrock_stub))

    async def first() -> str:
        stream = provider.stream([{"role": "user", "content": "Hi"}])
        chunk = await anext(stream)
        await stream.aclose()
        return chunk

    assert asyncio.run(first()) == "Hel"
