"""Background runs: webhook -> task + run queue -> executor (once) -> task status; uploads; dead letters."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest

from flowless.local.events import lambda_context
from tests.support import edge, node


@pytest.fixture(autouse=True)
def auto_login(aws, monkeypatch):
    from flowless.settings import get_settings

    monkeypatch.setenv("FLOWLESS_AUTO_LOGIN", "true")
    get_settings.cache_clear()




WEBHOOK_FLOW = {"nodes": [node("Webhook-hook", {"data": ""}, kind="Webhook"),
                          node("ChatOutput-out", {"session_id": ""}, kind="ChatOutput")],
                "edges": [edge("Webhook-hook", "output_data", "ChatOutput-out", "input_value")]}


def _create_flow(api, data: dict[str, Any], account=None, **extra: Any) -> dict[str, Any]:
    reply = api.post("flows", "/api/v1/flows/", json={"name": f"bg {uuid.uuid4().hex[:6]}", "data": data, **extra},
                     account=account)
    assert reply.status_code == 201, reply.content
    return reply.json()


def _queue(name: str) -> str:
    import os

    env = {"run": "FLOWLESS_RUN_QUEUE_URL"}
    if name in env:
        return os.environ[env[name]]
    sqs = boto3.client("sqs")
    return next(u for u in sqs.list_queues()["QueueUrls"] if "deadletter" in u.lower())


def _receive(queue_url: str, *, visibility: int = 0, count: int = 10) -> list[dict[str, Any]]:
    answer = boto3.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=count,
                                                 VisibilityTimeout=visibility, AttributeNames=["All"])
    return answer.get("Messages", [])


def _sqs_event(messages: list[dict[str, Any]], queue_arn: str = "arn:aws:sqs:us-east-1:123456789012:run") -> dict:
    """The event Lambda's SQS event source builds from received messages."""
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes", {"ApproximateReceiveCount": "1"}), "messageAttributes": {},
        "md5OfBody": m.get("MD5OfBody", ""), "eventSource": "aws:sqs", "eventSourceARN": queue_arn,
        "awsRegion": "us-east-1"} for m in messages]}


def _execute(messages: list[dict[str, Any]]) -> dict[str, Any]:
    from tests.support import load_function

    return load_function("executor").handler(_sqs_event(messages), lambda_context("executor", 900))


def _task(api, task_id: str, account=None) -> dict[str, Any]:
    reply = api.get("webhook", f"/api/v1/task/{task_id}", account=account)
    assert reply.status_code == 200, reply.content
    return reply.json()


def _webhook(api, flow: str, body: bytes | str, **kw: Any):
    return api.post("webhook", f"/api/v1/webhook/{flow}", body=body, **kw)


# ---- webhook to task ------------------------------------------------------------------------------------------

def test_webhook_queues_a_task_that_the_executor_runs(api):
    flow = _create_flow(api, WEBHOOK_FLOW, endpoint_name="orders")
    reply = _webhook(api, "orders", json.dumps({"order": 42}), headers={"content-type": "application/json"})
    assert reply.status_code == 202
    body = reply.json()
    assert body["message"] == "Task started in the background" and body["status"] == "in progress"
    assert _task(api, body["task_id"]) == {"status": "PENDING", "result": None}

    messages = _receive(_queue("run"))
    assert len(messages) == 1 and json.loads(messages[0]["Body"])["flow_id"] == flow["id"]
    assert _execute(messages) == {"batchItemFailures": []}
    task = _task(api, body["task_id"])
    assert task["status"] == "SUCCESS"
    text = task["result"]["outputs"][0]["outputs"][0]["results"]["message"]["text"]
    assert '"order": 42' in text


def test_a_non_json_body_reaches_the_flow_as_payload(api):
    flow = _create_flow(api, WEBHOOK_FLOW)
    task_id = _webhook(api, flow["id"], "Random Payload").json()["task_id"]
    _execute(_receive(_queue("run")))
    text = _task(api, task_id)["result"]["outputs"][0]["outputs"][0]["results"]["message"]["text"]
    assert '"payload": "Random Payload"' in text


def test_a_large_body_travels_through_s3(api):
    flow = _create_flow(api, WEBHOOK_FLOW)
    big = json.dumps({"blob": "x" * 300_000})
    task_id = _webhook(api, flow["id"], big).json()["task_id"]
    [message] = _receive(_queue("run"))
    parsed = json.loads(message["Body"])
    assert "body" not in parsed and parsed["body_key"].startswith("runs/")
    _execute([message])
    assert _task(api, task_id)["status"] == "SUCCESS"


def test_webhook_errors(api):
    flow = _create_flow(api, WEBHOOK_FLOW)
    empty = _webhook(api, flow["id"], b"")
    assert empty.status_code == 400
    assert empty.json() == {
        "detail": "Request body is empty. You should provide a JSON payload containing the flow ID.",
    }
    missing = _webhook(api, "no-such-flow", "{}")
    assert missing.status_code == 404 and missing.json() == {"detail": "Flow identifier no-such-flow not found"}
    assert api.get("webhook", f"/api/v1/task/{uuid.uuid4()}").status_code == 404
    assert api.get("webhook", "/api/v1/task/not-a-uuid").status_code == 422


def test_webhook_auth_when_enabled(api, make_account, monkeypatch):
    from flowless.settings import get_settings

    owner, other = make_account(), make_account()
    flow = _create_flow(api, WEBHOOK_FLOW, account=owner)
    assert _webhook(api, flow["id"], "{}").status_code == 202  # off: runs as the owner without a key
    monkeypatch.setenv("FLOWLESS_WEBHOOK_AUTH_ENABLE", "true")
    get_settings.cache_clear()
    cases = [({}, "API key required when webhook authentication is enabled"),
             ({"x-api-key": "sk-unknown"}, "Invalid API key"),
             (other.headers, "Access denied: You can only execute webhooks for flows you own")]
    for headers, detail in cases:
        reply = _webhook(api, flow["id"], "{}", headers=headers)
        assert (reply.status_code, reply.json()) == (403, {"detail": detail})
    accepted = _webhook(api, flow["id"], "{}", headers=owner.headers)
    assert accepted.status_code == 202
    # The task is the owner's: another user cannot read it.
    task_id = accepted.json()["task_id"]
    assert api.get("webhook", f"/api/v1/task/{task_id}", account=other).status_code == 404
    assert api.get("webhook", f"/api/v1/task/{task_id}", account=owner).status_code == 200


# ---- at most once, retries, dead letters ---------------------------------------------------------------------

def _stored_messages(flow_id: str) -> int:
    from flowless.http.auth import superuser_caller
    from flowless.store.messages import MessageRepository

    return len(MessageRepository().history(user_id=superuser_caller().user_id, flow_id=flow_id, session_id=flow_id))


def test_a_duplicate_delivery_runs_once(api):
    flow = _create_flow(api, WEBHOOK_FLOW)
    task_id = _webhook(api, flow["id"], "{}").json()["task_id"]
    [message] = _receive(_queue("run"))
    duplicate = {**message, "MessageId": str(uuid.uuid4())}  # SQS delivered a second copy
    assert _execute([message]) == {"batchItemFailures": []}
    assert _execute([duplicate]) == {"batchItemFailures": []}
    assert _execute([message]) == {"batchItemFailures": []}  # and the first copy again, after it succeeded
    assert _task(api, task_id)["status"] == "SUCCESS"
    assert _stored_messages(flow["id"]) == 1


def test_a_flow_error_fails_the_task_without_retry(api):
    data = {"nodes": [node("Webhook-hook", kind="Webhook"), node("Agent-x", kind="Agent")], "edges": []}
    flow = _create_flow(api, data)
    task_id = _webhook(api, flow["id"], "{}").json()["task_id"]
    assert _execute(_receive(_queue("run"))) == {"batchItemFailures": []}
    task = _task(api, task_id)
    assert task["status"] == "FAILURE" and "Unsupported component type: Agent" in task["result"]


def _crashing_flow(api) -> dict[str, Any]:
    """A flow whose stored body vanished: reading it fails unexpectedly, as a crash would."""
    import os

    big = {**WEBHOOK_FLOW, "padding": "x" * 400_000}  # past the inline limit: the body lives in S3
    flow = _create_flow(api, big)
    s3 = boto3.client("s3")
    bucket = os.environ["FLOWLESS_BUCKET_NAME"]
    for version in s3.list_object_versions(Bucket=bucket, Prefix="flows/").get("Versions", []):
        s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
    return flow


def test_partial_batch_failure_redelivers_only_the_failed_record(api):
    good = _create_flow(api, WEBHOOK_FLOW)
    bad = _crashing_flow(api)
    good_task = _webhook(api, good["id"], "{}").json()["task_id"]
    bad_task = _webhook(api, bad["id"], "{}").json()["task_id"]
    messages = _receive(_queue("run"), visibility=30)
    assert len(messages) == 2
    bad_message = next(m for m in messages if json.loads(m["Body"])["task_id"] == bad_task)
    assert _execute(messages) == {"batchItemFailures": [{"itemIdentifier": bad_message["MessageId"]}]}
    assert _task(api, good_task)["status"] == "SUCCESS"
    assert _task(api, bad_task)["status"] == "STARTED"


def test_a_poison_message_ends_in_the_dead_letter_queue_and_fails_its_task(api):
    from tests.support import load_function

    flow = _crashing_flow(api)
    task_id = _webhook(api, flow["id"], "{}").json()["task_id"]
    run_queue = _queue("run")
    attempts = 0
    while messages := _receive(run_queue):  # maxReceiveCount is 3: the 4th receive moves it to the DLQ
        attempts += 1
        assert _execute(messages)["batchItemFailures"], "the crash must be reported"
    assert attempts == 3
    dead = _receive(_queue("dead"))
    assert len(dead) == 1 and json.loads(dead[0]["Body"])["task_id"] == task_id
    reply = load_function("dead_letters").handler(_sqs_event(dead), lambda_context("dead_letters"))
    assert reply == {"batchItemFailures": []}
    task = _task(api, task_id)
    assert task["status"] == "FAILURE" and "did not complete after" in task["result"]


# ---- uploads ------------------------------------------------------------------------------------------------

FILE_FLOW = {"nodes": [node("File-doc", {"path": ""}, kind="File"), node("ChatOutput-out", kind="ChatOutput")],
             "edges": [edge("File-doc", "message", "ChatOutput-out", "input_value")]}


def _upload_event(bucket: str, key: str) -> dict[str, Any]:
    from tests.support import ROOT

    event = json.loads((ROOT / "events" / "upload_trigger.json").read_text())
    event["detail"]["bucket"]["name"] = bucket
    event["detail"]["object"]["key"] = key
    return event


def test_an_upload_under_triggers_runs_its_flow(api):
    import os

    from tests.support import load_function

    flow = _create_flow(api, FILE_FLOW)
    bucket = os.environ["FLOWLESS_BUCKET_NAME"]
    key = f"triggers/{flow['id']}/invoice.txt"
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=b"Invoice total: 99 EUR")
    answer = load_function("upload_trigger").handler(_upload_event(bucket, key), lambda_context("upload_trigger"))
    assert answer["status"] == "queued"
    assert _execute(_receive(_queue("run"))) == {"batchItemFailures": []}
    task = _task(api, answer["task_id"])
    assert task["status"] == "SUCCESS", task
    output = task["result"]["outputs"][0]
    assert output["inputs"] == {"input_value": key}
    assert output["outputs"][0]["results"]["message"]["text"] == "Invoice total: 99 EUR"


@pytest.mark.parametrize("key", ["triggers/not-a-flow/x.txt", f"triggers/{uuid.uuid4()}/x.txt", "other/x.txt"])
def test_uploads_for_no_known_flow_are_dropped(api, key):
    import os

    from tests.support import load_function

    answer = load_function("upload_trigger").handler(_upload_event(os.environ["FLOWLESS_BUCKET_NAME"], key),
                                                     lambda_context("upload_trigger"))
    assert answer == {"status": "ignored"}
    assert _receive(_queue("run")) == []


def test_sample_events_drive_the_webhook_and_the_executor(api, invoke, load_event):
    """events/webhook.json and events/run_queue_message.json, as `sam local invoke -e` would send them."""
    _create_flow(api, WEBHOOK_FLOW, endpoint_name="orders")
    accepted = invoke("webhook", load_event("webhook"))
    assert accepted.status_code == 202
    # The sample message names a task that does not exist here: it is skipped, not retried.
    from tests.support import load_function

    answer = load_function("executor").handler(load_event("run_queue_message"), lambda_context("executor", 900))
    assert answer == {"batchItemFailures": []}
    assert _execute(_receive(_queue("run"))) == {"batchItemFailures": []}
    assert _task(api, accepted.json()["task_id"])["status"] == "SUCCESS"


# (moto mishandles "%" in keys on HeadObject, so the names here avoid it.)
@pytest.mark.parametrize("name, sent", [("a+b c&d.txt", "a%2Bb+c%26d.txt"), ("a+b c&d.txt", "a+b c&d.txt")])
def test_upload_keys_work_encoded_or_not(api, name, sent):
    import os

    from tests.support import load_function

    flow = _create_flow(api, FILE_FLOW)
    bucket = os.environ["FLOWLESS_BUCKET_NAME"]
    key = f"triggers/{flow['id']}/{name}"
    boto3.client("s3").put_object(Bucket=bucket, Key=key, Body=b"odd name")
    event = _upload_event(bucket, f"triggers/{flow['id']}/{sent}")
    answer = load_function("upload_trigger").handler(event, lambda_context("upload_trigger"))
    _execute(_receive(_queue("run")))
    task = _task(api, answer["task_id"])
    assert task["status"] == "SUCCESS", task
    assert task["result"]["outputs"][0]["inputs"] == {"input_value": key}
