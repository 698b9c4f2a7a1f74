"""Streaming runs over a real socket through the local stack: tokens arrive as the model produces them."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest

from tests.stubs.openai_stub import Reply
from tests.support import FIXTURES


@pytest.fixture
def key(owner) -> str:
    return owner["x-api-key"]


def _flow(http: httpx.Client, key: str, name: str) -> str:
    export = json.loads(next(FIXTURES.glob(f"langflow/**/{name}.json")).read_text())
    reply = http.post("/api/v1/flows/", headers={"x-api-key": key},
                      json={"name": export["name"], "data": export["data"]})
    assert reply.status_code == 201, reply.text
    return reply.json()["id"]


def _records(lines: list[str]) -> list[dict]:
    return [json.loads(line) for line in lines if line.strip()]


def test_tokens_arrive_as_the_provider_sends_them(http, key, llm_stub, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    flow_id = _flow(http, key, "Basic Prompting")
    llm_stub.enqueue(Reply.slow(["One", " two", " three", " four", " five"], interval_s=0.2))
    arrivals: list[tuple[float, dict]] = []
    with http.stream("POST", f"/api/v1/run/{flow_id}?stream=true", headers={"x-api-key": key},
                     json={"input_value": "count", "session_id": "s1"}) as reply:
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/event-stream")
        for line in reply.iter_lines():
            if line.strip():
                arrivals.append((time.perf_counter(), json.loads(line)))
    events = [r["event"] for _, r in arrivals]
    assert events[:2] == ["add_message", "add_message"] and events[-1] == "end"
    assert events.count("token") == 5
    user, machine = arrivals[0][1]["data"], arrivals[1][1]["data"]
    assert (user["sender"], user["text"]) == ("User", "count")
    assert (machine["sender"], machine["text"]) == ("Machine", "")
    tokens = [(t, r) for t, r in arrivals if r["event"] == "token"]
    assert [r["data"]["chunk"] for _, r in tokens] == ["One", " two", " three", " four", " five"]
    assert all(r["data"]["id"] == machine["id"] for _, r in tokens)
    # The first token was read long before the last was even produced.
    assert tokens[-1][0] - tokens[0][0] > 0.6
    assert tokens[0][0] < llm_stub.chunk_times[-1]
    end = arrivals[-1][1]["data"]["result"]
    assert end["session_id"] == "s1"
    assert end["outputs"][0]["outputs"][0]["results"]["message"]["text"] == "One two three four five"


def test_stream_of_a_flow_without_a_model_matches_the_buffered_answer(http, key):
    flow_id = _flow(http, key, "SimpleAPITest")
    with http.stream("POST", f"/api/v1/run/{flow_id}?stream=true", headers={"x-api-key": key},
                     json={"input_value": "value1", "session_id": "chat-123"}) as reply:
        records = _records(list(reply.iter_lines()))
    assert [r["event"] for r in records] == ["add_message", "add_message", "end"]
    assert [r["data"]["sender"] for r in records[:2]] == ["User", "Machine"]
    buffered = http.post(f"/api/v1/run/{flow_id}", headers={"x-api-key": key},
                         json={"input_value": "value1", "session_id": "chat-123"}).json()
    streamed = records[-1]["data"]["result"]
    assert streamed["outputs"][0]["outputs"][0]["component_id"] == buffered["outputs"][0]["outputs"][0]["component_id"]
    assert streamed["outputs"][0]["outputs"][0]["results"]["message"]["text"] == "value1"


def test_errors_before_the_stream_are_plain_http_errors(http, key):
    flow_id = _flow(http, key, "SimpleAPITest")
    conflict = http.post(f"/api/v1/run/{flow_id}?stream=true", headers={"x-api-key": key},
                         json={"input_value": "x", "tweaks": {"Chat Input": {"input_value": "y"}}})
    assert conflict.status_code == 400
    assert http.post(f"/api/v1/run/{uuid.uuid4()}?stream=true", headers={"x-api-key": key}, json={}).status_code == 404
    assert http.post(f"/api/v1/run/{flow_id}?stream=true", json={}).status_code == 403


def test_an_error_during_the_run_ends_the_stream_with_an_error_record(http, key, llm_stub, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    flow_id = _flow(http, key, "Basic Prompting")
    llm_stub.enqueue(Reply.failure(400, "model overloaded"))
    with http.stream("POST", f"/api/v1/run/{flow_id}?stream=true", headers={"x-api-key": key},
                     json={"input_value": "hi"}) as reply:
        assert reply.status_code == 200
        records = _records(list(reply.iter_lines()))
    assert records[-1]["event"] == "error"
    assert "model overloaded" in records[-1]["data"]["error"]
    assert "end" not in [r["event"] for r in records]


def test_a_client_that_disconnects_stops_the_run_and_the_provider_request(http, key, llm_stub, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    flow_id = _flow(http, key, "Basic Prompting")
    llm_stub.enqueue(Reply.slow([f" t{i}" for i in range(30)], interval_s=0.1))
    with http.stream("POST", f"/api/v1/run/{flow_id}?stream=true", headers={"x-api-key": key},
                     json={"input_value": "go"}) as reply:
        for line in reply.iter_lines():
            if line.strip() and json.loads(line)["event"] == "token":
                break  # leave after the first token
    deadline = time.monotonic() + 5
    while llm_stub.aborted_streams == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert llm_stub.aborted_streams == 1
    assert len(llm_stub.chunk_times) < 30


def test_keepalives_flow_during_a_silent_model(http, key, llm_stub, monkeypatch):
    from flowless.settings import get_settings

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("FLOWLESS_STREAM_KEEPALIVE_SECONDS", "0.1")
    get_settings.cache_clear()
    flow_id = _flow(http, key, "Basic Prompting")
    llm_stub.enqueue(Reply.slow(["late"], interval_s=0.6))
    with http.stream("POST", f"/api/v1/run/{flow_id}?stream=true", headers={"x-api-key": key},
                     json={"input_value": "wait"}) as reply:
        raw = b"".join(reply.iter_raw())
    lines = raw.decode().split("\n")
    records = _records(lines)
    assert records[-1]["event"] == "end"
    # Beyond the blank line after each record, bare newlines were sent while the model was silent.
    assert raw.count(b"\n") > 2 * len(records) + 2


def test_model_keys_come_from_parameter_store_as_deployed(http, key, llm_stub, monkeypatch):
    """The stack applies the functions' own settings from template.yaml, so flows read variables from the
    embedded Parameter Store, as the deployed functions do."""
    import boto3
    from aws_lambda_powertools.utilities import parameters

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    boto3.client("ssm").put_parameter(Name="/flowless/variables/OPENAI_API_KEY", Value="sk-from-ssm",
                                      Type="SecureString", Overwrite=True)
    parameters.clear_caches()
    flow_id = _flow(http, key, "Basic Prompting")
    reply = http.post(f"/api/v1/run/{flow_id}", headers={"x-api-key": key}, json={"input_value": "hi"})
    assert reply.status_code == 200, reply.text
    assert llm_stub.requests[-1].headers["authorization"] == "Bearer sk-from-ssm"
