"""Models inside a run: streamed answers become add_message + token events, from OpenAI and from Bedrock."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from flowless.components.registry import default_registry
from flowless.engine.context import RunContext, Services
from flowless.engine.graph import parse_graph
from flowless.engine.run import RunRequest, prepare_graph, run_events
from tests.stubs.bedrock_stub import BedrockStreamStub, converse_stream_events
from tests.stubs.openai_stub import OpenAIStub, Reply
from tests.support import FIXTURES

REGISTRY = default_registry()


def _run_streamed(payload: dict[str, Any], request: RunRequest) -> tuple[list[Any], RunContext]:
    graph = parse_graph(payload, REGISTRY, flow_id="flow-1")
    session = prepare_graph(graph, request, stream=True)
    ctx = RunContext(flow_id="flow-1", session_id=session, stream=True,
                     services=Services(variables=lambda name: None, allow_private_network=True))

    async def collect() -> list[Any]:
        return [e async for e in run_events(graph, registry=REGISTRY, ctx=ctx, request=request)]

    return asyncio.run(collect()), ctx


def test_streamed_openai_answer_reaches_chat_output_as_tokens(monkeypatch):
    export = json.loads((FIXTURES / "langflow" / "Basic Prompting.json").read_text())
    with OpenAIStub() as stub:
        monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        stub.enqueue(Reply.answer("Hello there friend", chunks=["Hello", " there", " friend"]))
        events, ctx = _run_streamed(export, RunRequest(input_value="hi"))
        assert stub.requests[-1].json["stream"] is True
    kinds = [e.kind for e in events]
    assert kinds[-1] == "end", events[-1].data
    messages = [e.data["message"] for e in events if e.kind == "add_message"]
    assert [m.sender for m in messages] == ["User", "Machine"]
    assert messages[1].text == ""  # announced before its tokens, as Langflow does
    tokens = [e.data for e in events if e.kind == "token"]
    assert [t["chunk"] for t in tokens] == ["Hello", " there", " friend"]
    assert {t["id"] for t in tokens} == {messages[1].id}
    assert kinds.index("token") > kinds.index("add_message")
    # The stored message holds the whole answer.
    assert ctx.new_messages[-1].text == "Hello there friend"


def _bedrock_flow() -> dict[str, Any]:
    def node(node_id: str, kind: str, fields: dict[str, Any]) -> dict[str, Any]:
        template = {k: {"type": "str", "value": v} for k, v in fields.items()}
        return {"id": node_id, "data": {"id": node_id, "type": kind, "node": {"template": template}}}

    def edge(source: str, output: str, target: str, field: str) -> dict[str, Any]:
        return {"source": source, "target": target,
                "data": {"sourceHandle": {"name": output}, "targetHandle": {"fieldName": field}}}

    return {"nodes": [node("ChatInput-a", "ChatInput", {"session_id": ""}),
                      node("AmazonBedrockConverseModel-b", "AmazonBedrockConverseModel",
                           {"model_id": "anthropic.claude-3-haiku-20240307-v1:0", "region_name": "us-east-1",
                            "system_message": "Be brief.", "stream": False}),
                      node("ChatOutput-c", "ChatOutput", {"session_id": ""})],
            "edges": [edge("ChatInput-a", "message", "AmazonBedrockConverseModel-b", "input_value"),
                      edge("AmazonBedrockConverseModel-b", "text_output", "ChatOutput-c", "input_value")]}


@pytest.fixture
def aws_credentials(monkeypatch):
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)


def test_bedrock_component_streams_through_converse_stream(monkeypatch, aws_credentials):
    with BedrockStreamStub() as stub:
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", stub.url)
        stub.enqueue(converse_stream_events(["Hi", " from", " Bedrock"]))
        events, ctx = _run_streamed(_bedrock_flow(), RunRequest(input_value="hello"))
        request = stub.requests[-1]
    assert events[-1].kind == "end", events[-1].data
    assert [e.data["chunk"] for e in events if e.kind == "token"] == ["Hi", " from", " Bedrock"]
    assert request.json["system"] == [{"text": "Be brief."}]
    assert request.json["messages"] == [{"role": "user", "content": [{"text": "hello"}]}]
    assert request.json["inferenceConfig"]["maxTokens"] == 4096
    assert ctx.new_messages[-1].text == "Hi from Bedrock"
