"""Playground builds: start -> job + run message -> executor (once) -> event records any reader can page."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import boto3
import pytest

from flowless.errors import InvalidInputError, NotFoundError
from flowless.langflow.build import (
    build_direct,
    cancel_build,
    execute_build,
    follow_events,
    read_events,
    start_build,
    wait_events,
)
from flowless.store.jobs import JobRepository
from tests.support import upload_flow

MEMORY_VERTICES = {"Prompt-VSSGR", "ChatInput-vsgM1", "ChatOutput-NAw0P", "Memory-8X8Cq",
                   "TypeConverterComponent-koSIz"}
BUILD_DATA_KEYS = {"id", "inactivated_vertices", "next_vertices_ids", "top_level_vertices", "valid", "params",
                   "data", "timestamp"}
RESULT_KEYS = {"results", "outputs", "logs", "message", "artifacts", "timedelta", "duration",
               "used_frozen_result"}


@pytest.fixture(autouse=True)
def auto_login(aws, monkeypatch):
    from flowless.settings import get_settings

    monkeypatch.setenv("FLOWLESS_AUTO_LOGIN", "true")
    get_settings.cache_clear()


def _receive() -> list[dict[str, Any]]:
    """The queued run messages, taken off the queue (as Lambda does once a batch is handled)."""
    sqs, url = boto3.client("sqs"), os.environ["FLOWLESS_RUN_QUEUE_URL"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return messages


def _start(flow: dict[str, Any], body: dict[str, Any] | None = None, query: dict[str, str] | None = None,
           user_id: str | None = None) -> tuple[str, dict[str, Any], str]:
    """Start a build and take its run message off the queue: (job id, message, SQS message id)."""
    job_id = start_build(user_id or flow["user_id"], flow["id"], body, query)
    [received] = _receive()
    return job_id, json.loads(received["Body"]), received["MessageId"]


def _build(flow: dict[str, Any], body: dict[str, Any] | None = None, **kw: Any) -> tuple[str, list[dict]]:
    job_id, message, message_id = _start(flow, body, **kw)
    assert execute_build(message, claimer=message_id, lease_seconds=60).status == "ran"
    found = read_events(flow["user_id"], job_id)
    assert found.finished and found.status == "DONE"
    return job_id, found.records


def _built(records: list[dict[str, Any]]) -> list[str]:
    return [r["data"]["build_data"]["id"] for r in records if r["event"] == "end_vertex"]


def test_simple_api_test_builds_with_langflow_events(api):
    flow = upload_flow(api, "SimpleAPITest")
    job_id, message, message_id = _start(flow, {"inputs": {"input_value": "value1", "session": "s-build"}})
    assert message == {"kind": "build", "job_id": job_id, "user_id": flow["user_id"], "flow_id": flow["id"]}
    assert read_events(flow["user_id"], job_id).status == "QUEUED"
    assert execute_build(message, claimer=message_id, lease_seconds=60).status == "ran"

    records = read_events(flow["user_id"], job_id).records
    first, last = records[0], records[-1]
    assert first == {"event": "vertices_sorted",
                     "data": {"ids": ["ChatInput-3OQi9"],
                              "to_run": ["ChatInput-3OQi9", "TextInput-eFiZp", "ChatOutput-J6aor"]}}
    assert last == {"event": "end", "data": {}}
    assert sorted(_built(records)) == ["ChatInput-3OQi9", "ChatOutput-J6aor", "TextInput-eFiZp"]
    for record in records:
        if record["event"] == "end_vertex":
            build_data = record["data"]["build_data"]
            assert set(build_data) == BUILD_DATA_KEYS and set(build_data["data"]) == RESULT_KEYS
            assert build_data["valid"] is True and build_data["data"]["duration"].endswith(("ms", "seconds"))
    output = next(r["data"]["build_data"] for r in records
                  if r["event"] == "end_vertex" and r["data"]["build_data"]["id"] == "ChatOutput-J6aor")
    assert output["data"]["results"]["message"]["text"] == "value1"
    assert output["data"]["outputs"]["message"] == {"message": "value1", "type": "text"}
    chat_input = next(r["data"]["build_data"] for r in records
                      if r["event"] == "end_vertex" and r["data"]["build_data"]["id"] == "ChatInput-3OQi9")
    assert chat_input["next_vertices_ids"] == ["ChatOutput-J6aor"]
    messages = [r["data"] for r in records if r["event"] == "add_message"]
    assert [(m["sender"], m["text"], m["session_id"]) for m in messages] == [
        ("User", "value1", "s-build"), ("Machine", "value1", "s-build")]


def test_memory_chatbot_builds_every_vertex_and_stores_its_messages(api):
    from flowless.store.messages import MessageRepository

    flow = upload_flow(api, "MemoryChatbotNoLLM")
    _, records = _build(flow, {"inputs": {"input_value": "hello there"}})
    assert records[0]["event"] == "vertices_sorted"
    assert records[0]["data"]["ids"] == ["ChatInput-vsgM1"]
    assert set(records[0]["data"]["to_run"]) == MEMORY_VERTICES
    assert sorted(_built(records)) == sorted(MEMORY_VERTICES)
    assert records[-1] == {"event": "end", "data": {}}
    output = next(r["data"]["build_data"] for r in records
                  if r["event"] == "end_vertex" and r["data"]["build_data"]["id"] == "ChatOutput-NAw0P")
    assert output["data"]["results"]["message"]["text"] == "\n\nUser: hello there\nAI: "
    # The session defaults to the flow id, as on /run; the next build remembers this one.
    stored = MessageRepository().history(user_id=flow["user_id"], flow_id=flow["id"], session_id=flow["id"])
    assert [m.text for m in stored][:1] == ["hello there"]


def test_stop_component_id_builds_that_component_and_its_ancestors_only(api):
    flow = upload_flow(api, "MemoryChatbotNoLLM")
    _, records = _build(flow, {"inputs": {"input_value": "hi"}}, query={"stop_component_id": "Prompt-VSSGR"})
    assert set(records[0]["data"]["to_run"]) == MEMORY_VERTICES - {"ChatOutput-NAw0P"}
    assert sorted(_built(records)) == sorted(MEMORY_VERTICES - {"ChatOutput-NAw0P"})
    assert records[-1]["event"] == "end"


def test_start_component_id_builds_downstream_and_what_it_needs(api):
    flow = upload_flow(api, "MemoryChatbotNoLLM")
    # From the body this time; the converter's downstream needs the Chat Input, its upstream the Memory.
    _, records = _build(flow, {"start_component_id": "TypeConverterComponent-koSIz"})
    assert sorted(_built(records)) == sorted(MEMORY_VERTICES)
    with pytest.raises(InvalidInputError, match="not found in the flow"):
        start_build(flow["user_id"], flow["id"], {}, {"stop_component_id": "Nope-123"})
    assert _receive() == []


def test_a_data_override_is_built_instead_of_the_stored_graph(api, fixture_flow):
    flow = upload_flow(api, "MemoryChatbotNoLLM")
    other = fixture_flow("SimpleAPITest")["data"]
    _, records = _build(flow, {"inputs": {"input_value": "x"}, "data": other})
    assert sorted(_built(records)) == ["ChatInput-3OQi9", "ChatOutput-J6aor", "TextInput-eFiZp"]
    # A large override travels through S3, and the job item stays small.
    big = {**other, "viewport": {"padding": "x" * 150_000}}
    job_id, records = _build(flow, {"inputs": {"input_value": "x"}, "data": big})
    assert len(_built(records)) == 3
    job = JobRepository().get(user_id=flow["user_id"], job_id=job_id)
    assert job.request is None and job.request_key == f"jobs/{job_id}/request.json"


def test_a_duplicate_delivery_runs_once(api):
    flow = upload_flow(api, "SimpleAPITest")
    job_id, message, message_id = _start(flow, {"inputs": {"input_value": "once"}})
    assert execute_build(message, claimer=message_id, lease_seconds=60).status == "ran"
    count = len(read_events(flow["user_id"], job_id).events)
    assert execute_build(message, claimer="another-copy", lease_seconds=60).status == "skipped"
    assert execute_build(message, claimer=message_id, lease_seconds=60).status == "skipped"  # already DONE
    assert len(read_events(flow["user_id"], job_id).events) == count


def test_a_cancel_before_execution_skips_the_build(api):
    flow = upload_flow(api, "SimpleAPITest")
    job_id, message, message_id = _start(flow)
    assert cancel_build(flow["user_id"], job_id) is True
    assert execute_build(message, claimer=message_id, lease_seconds=60).status == "skipped"
    found = read_events(flow["user_id"], job_id)
    assert (found.status, found.events, found.finished) == ("CANCELLED", [], True)
    assert cancel_build(flow["user_id"], job_id) is False  # already ended


def test_unknown_and_foreign_jobs_and_flows_are_not_found(api, make_account):
    alice, bob = make_account(), make_account()
    flow = upload_flow(api, "SimpleAPITest", account=alice)
    with pytest.raises(NotFoundError, match="Flow not found"):
        start_build(bob.user_id, flow["id"], {}, {})
    job_id, _, _ = _start(flow, user_id=alice.user_id)
    for call in (read_events, cancel_build, follow_events):
        with pytest.raises(NotFoundError, match="Job not found"):
            call(bob.user_id, job_id)
        with pytest.raises(NotFoundError, match="Job not found"):
            call(alice.user_id, "8b1ee0b5-0b6e-4f87-9d39-9c2b4c1a2a11")


def test_a_failing_component_ends_the_job_failed_with_an_error_record(api, llm_stub):
    flow = upload_flow(api, "Basic Prompting")  # no OPENAI_API_KEY anywhere: the model cannot build
    job_id, message, message_id = _start(flow, {"inputs": {"input_value": "hello"}})
    assert execute_build(message, claimer=message_id, lease_seconds=60).status == "failed"
    found = read_events(flow["user_id"], job_id)
    assert found.status == "FAILED" and found.finished
    failed, error = found.records[-2:]
    assert failed["event"] == "end_vertex" and failed["data"]["build_data"]["valid"] is False
    [output] = failed["data"]["build_data"]["data"]["outputs"].values()
    assert output["type"] == "error" and "OPENAI_API_KEY" in output["message"]["errorMessage"]
    assert error["event"] == "error" and error["data"]["error"] is True
    assert error["data"]["category"] == "error" and "OPENAI_API_KEY" in error["data"]["text"]
    assert error["data"]["sender"] == "Language Model"
    assert llm_stub.requests == []


def test_readers_page_poll_and_follow(api):
    from flowless.wire.langflow_build import ndjson_body, polling_body

    flow = upload_flow(api, "SimpleAPITest")
    job_id, message, message_id = _start(flow, {"inputs": {"input_value": "p"}})
    queued = wait_events(flow["user_id"], job_id, timeout=0.05, interval=0.01)
    assert (queued.events, queued.finished) == ([], False)
    execute_build(message, claimer=message_id, lease_seconds=60)
    first = read_events(flow["user_id"], job_id, limit=2)
    assert [seq for seq, _ in first.events] == [1, 2] and not first.finished
    rest = read_events(flow["user_id"], job_id, first.last_seq)
    assert rest.finished and rest.records[-1]["event"] == "end"
    followed = list(follow_events(flow["user_id"], job_id, timeout=5))
    assert followed == first.records + rest.records
    body = ndjson_body(followed)
    assert body.endswith("\n\n") and [json.loads(line) for line in body.split("\n\n") if line] == followed
    assert [json.loads(line) for line in polling_body(followed).split("\n")] == followed


def test_direct_delivery_builds_in_the_request(api):
    import asyncio

    flow = upload_flow(api, "SimpleAPITest")

    async def collect() -> list[dict[str, Any]]:
        return [r async for r in build_direct(flow["user_id"], flow["id"], {"inputs": {"input_value": "d"}})]

    records = asyncio.run(collect())
    assert records[0]["event"] == "vertices_sorted" and records[-1] == {"event": "end", "data": {}}
    assert len(_built(records)) == 3 and _receive() == []


def test_a_running_build_writes_progress_and_stops_when_cancelled(aws, monkeypatch):
    import asyncio
    import time

    from flowless.langflow import build

    monkeypatch.setattr(build, "_CANCEL_CHECK_SECONDS", 0.05)
    jobs = JobRepository()
    job = jobs.create(user_id="u1", flow_id="f1")
    assert jobs.claim(user_id="u1", job_id=job.id, lease_seconds=60, claimer="m1")
    closed = []

    async def slow_build():
        try:
            yield {"event": "vertices_sorted", "data": {"ids": [], "to_run": []}}
            await asyncio.sleep(30)  # a component that takes its time
            yield {"event": "end", "data": {}}
        finally:
            closed.append(True)

    async def cancel_soon():
        await asyncio.sleep(0.2)
        # The first record was written on time, while the build was still quiet.
        assert [r["event"] for _, r in jobs.events_after(job.id)] == ["vertices_sorted"]
        assert cancel_build("u1", job.id)

    async def both() -> str:
        pumped = asyncio.ensure_future(build._pump(slow_build(), build._EventLog(jobs, user_id="u1",
                                                                                  job_id=job.id)))
        await cancel_soon()
        return await pumped

    started = time.monotonic()
    assert asyncio.run(both()) == "cancelled"
    assert time.monotonic() - started < 5 and closed == [True]
    assert read_events("u1", job.id).status == "CANCELLED"


# ---- the routes, through the run function's handler ---------------------------------------------------------

def _route_records(body: bytes) -> list[dict]:
    return [json.loads(line) for line in body.decode().split("\n") if line.strip()]


def test_build_routes_start_run_and_replay_a_job(api):
    from flowless.local.events import lambda_context
    from tests.support import load_function

    flow = upload_flow(api, "SimpleAPITest")
    started = api.post("run", f"/api/v1/build/{flow['id']}/flow", json={"inputs": {"input_value": "hey"}})
    assert started.status_code == 200, started.content
    job_id = started.json()["job_id"]
    import boto3

    messages = boto3.client("sqs").receive_message(QueueUrl=os.environ["FLOWLESS_RUN_QUEUE_URL"],
                                                   MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                          "attributes": m["Attributes"], "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
                          "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:1:q",
                          "awsRegion": "us-east-1"} for m in messages]}
    assert load_function("executor").handler(event, lambda_context("executor", 900)) == {"batchItemFailures": []}

    streamed = api.get("run", f"/api/v1/build/{job_id}/events")
    assert streamed.status_code == 200 and streamed.headers["content-type"].startswith("application/x-ndjson")
    records = _route_records(streamed.content)
    assert records[0]["event"] == "vertices_sorted" and records[-1]["event"] == "end"
    built = [r["data"]["build_data"]["id"] for r in records if r["event"] == "end_vertex"]
    assert set(built) == {"ChatInput-3OQi9", "TextInput-eFiZp", "ChatOutput-J6aor"}
    polled = api.get("run", f"/api/v1/build/{job_id}/events", query={"event_delivery": "polling"})
    assert [r["event"] for r in _route_records(polled.content)] == [r["event"] for r in records]
    finished = api.post("run", f"/api/v1/build/{job_id}/cancel")
    assert finished.json() == {"success": False, "message": "Failed to cancel flow build"}


def test_build_route_errors(api, make_account):
    flow = upload_flow(api, "SimpleAPITest")
    missing = api.get("run", f"/api/v1/build/{uuid.uuid4()}/events")
    assert missing.status_code == 404 and "Job not found" in missing.json()["detail"]
    assert api.post("run", f"/api/v1/build/{uuid.uuid4()}/flow", json={}).status_code == 404
    assert api.post("run", f"/api/v1/build/{uuid.uuid4()}/cancel").status_code == 404
    job_id = api.post("run", f"/api/v1/build/{flow['id']}/flow", json={}).json()["job_id"]
    other = make_account()
    assert api.get("run", f"/api/v1/build/{job_id}/events", account=other).status_code == 404
    cancelled = api.post("run", f"/api/v1/build/{job_id}/cancel")
    assert cancelled.json() == {"success": True, "message": "Flow build cancelled successfully"}


def test_direct_delivery_streams_the_build_in_the_response(api):
    flow = upload_flow(api, "SimpleAPITest")
    reply = api.post("run", f"/api/v1/build/{flow['id']}/flow", json={"inputs": {"input_value": "now"}},
                     query={"event_delivery": "direct"})
    assert reply.status_code == 200, reply.content
    records = _route_records(reply.content)
    assert records[0]["event"] == "vertices_sorted" and records[-1]["event"] == "end"
