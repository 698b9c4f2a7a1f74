"""The local event workers: SQS event source mappings and S3 "Object Created" rules, on an embedded AWS.

A small template of its own (the shapes of template.yaml's run queue, its dead-letter queue and the files
bucket) and a recording stand-in function, so these tests do not depend on the real event-driven functions.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from flowless.local.workers import failed_message_ids

RECORDER = Path(__file__).with_name("fake_functions") / "recorder" / "app.py"
ROOT = Path(__file__).resolve().parents[3]

TEMPLATE = """\
Globals:
  Function:
    Timeout: 29
    Handler: app.handler
Resources:
  DeadLetters:
    Type: AWS::SQS::Queue
    Properties:
      MessageRetentionPeriod: 1209600
  Work:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 5400
      MessageRetentionPeriod: 345600
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt DeadLetters.Arn
        maxReceiveCount: 3
  Files:
    Type: AWS::S3::Bucket
  Consumer:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/consumer/
      Timeout: 900
      Events:
        Work:
          Type: SQS
          Properties:
            Queue: !GetAtt Work.Arn
            BatchSize: 10
            FunctionResponseTypes: [ReportBatchItemFailures]
  Uploads:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/uploads/
      Events:
        Upload:
          Type: EventBridgeRule
          Properties:
            Pattern:
              source: [aws.s3]
              detail-type: [Object Created]
              detail:
                bucket: {name: [!Ref Files]}
                object: {key: [{prefix: triggers/}]}
  Http:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/http/
      Events:
        Get:
          Type: Api
          Properties: {Path: /x, Method: get}
"""


class Local:
    """The test template's resources on the embedded AWS, its workers, and the recorded calls of each function."""

    def __init__(self, root: Path, resources: Any, *, retry_delay_s: float, concurrency: int) -> None:
        import boto3

        from flowless.local.template import load_template

        self.root = root
        self.template = load_template(root / "template.yaml")
        self.resources = resources
        self.retry_delay_s = retry_delay_s
        self.concurrency = concurrency
        self.workers: Any = None
        self.sqs = boto3.client("sqs")
        self.s3 = boto3.client("s3")
        names = resources.names
        self.queue_url, self.dlq_url, self.bucket = names["Work"], names["DeadLetters"], names["Files"]

    def start_workers(self) -> list[str]:
        from flowless.local.workers import start_workers

        self.workers = start_workers(self.template, self.resources.names, self.resources.arns,
                                     retry_delay_s=self.retry_delay_s, concurrency=self.concurrency,
                                     poll_interval_s=0.25)
        return self.workers.describe()

    def calls(self, function: str) -> list[dict[str, Any]]:
        path = self.root / "functions" / function / "calls.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    def send(self, *bodies: str) -> None:
        """Several messages in one SendMessageBatch: they become visible together."""
        self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=[
            {"Id": str(i), "MessageBody": body,
             "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "test"}}}
            for i, body in enumerate(bodies)])

    def queue_depth(self, url: str) -> int:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])

    def close(self) -> None:
        if self.workers is not None:
            assert self.workers.stop(timeout=5)
        self.sqs.close()
        self.s3.close()


def wait_for(condition: Callable[[], Any], timeout: float = 8.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout} s")


def at_least(n: int, read: Callable[[], list[Any]]) -> Callable[[], list[Any] | None]:
    """A wait_for condition: what `read` returns, once it has `n` items."""
    def check() -> list[Any] | None:
        items = read()
        return items if len(items) >= n else None
    return check


def bodies_by_event(calls: list[dict[str, Any]]) -> list[list[str]]:
    return [[record["body"] for record in call["event"]["Records"]] for call in calls]


def write_project(root: Path) -> Path:
    """The test template, with the recording function as both event-driven functions."""
    (root / "template.yaml").write_text(TEMPLATE)
    for function in ("consumer", "uploads"):
        (root / "functions" / function).mkdir(parents=True)
        shutil.copy(RECORDER, root / "functions" / function / "app.py")
    return root / "template.yaml"


@pytest.fixture(scope="module")
def aws_endpoint() -> Iterator[str]:
    """One embedded AWS for the module (each test makes resources of its own): starting one costs little,
    stopping one half a second."""
    from moto.server import ThreadedMotoServer

    from flowless.local.stack import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    yield endpoint
    # moto's state outlives the server; leave none behind for the next module's stack.
    httpx.post(f"{endpoint}/moto-api/reset")
    server.stop()


@pytest.fixture
def make_stack(tmp_path: Path, aws_endpoint: str) -> Iterator[Callable[..., Local]]:
    """Create the test template's resources; `workers=True` (default) also starts its workers."""
    from flowless.local.resources import create_stack_resources
    from flowless.local.template import load_template

    os.environ["AWS_ENDPOINT_URL"] = aws_endpoint
    template = load_template(write_project(tmp_path))
    started: list[Local] = []

    def make(*, retry_delay_s: float = 0.0, concurrency: int = 1, workers: bool = True) -> Local:
        resources = create_stack_resources(template, prefix=f"w{uuid.uuid4().hex[:8]}")
        local = Local(tmp_path, resources, retry_delay_s=retry_delay_s, concurrency=concurrency)
        started.append(local)
        if workers:
            local.start_workers()
        return local

    yield make
    for local in started:
        local.close()


# ---- template and response rules -------------------------------------------------------------------------
def test_template_event_sources_are_found(tmp_path: Path) -> None:
    from flowless.local.template import load_template

    (tmp_path / "template.yaml").write_text(TEMPLATE)
    template = load_template(tmp_path / "template.yaml")
    [source] = template.queue_sources()
    assert (source.function, source.queue, source.batch_size, source.report_failures, source.timeout_s) == (
        "Consumer", "Work", 10, True, 900)
    [rule] = template.object_created_rules()
    assert (rule.function, rule.bucket, rule.list_prefix, rule.timeout_s) == ("Uploads", "Files", "triggers/", 29)
    assert rule.matches("triggers/a.json") and not rule.matches("other/triggers/a.json")
    # The project's own template parses too, whether or not its event-driven functions exist yet.
    real = load_template(ROOT / "template.yaml")
    assert isinstance(real.queue_sources(), list) and isinstance(real.object_created_rules(), list)


@pytest.mark.parametrize(("response", "expected"), [
    (None, set()),
    ({}, set()),
    ({"batchItemFailures": []}, set()),
    ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
    ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, {"a", "b"}),   # an id not in the batch
    ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"a", "b"}),
    ({"batchItemFailures": [{"id": "a"}]}, {"a", "b"}),                # a bad key name
    ({"batchItemFailures": "a"}, {"a", "b"}),
    ("not an object", {"a", "b"}),
])
def test_batch_item_failure_responses_follow_lambda_rules(response: Any, expected: set[str]) -> None:
    assert failed_message_ids(response, ["a", "b"], report_failures=True) == expected


def test_without_report_batch_item_failures_the_response_is_ignored() -> None:
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "a"}]}, ["a"], report_failures=False) == set()


# ---- SQS ---------------------------------------------------------------------------------------------------
def test_messages_sent_together_arrive_in_one_lambda_shaped_event(make_stack: Callable[..., Local]) -> None:
    local = make_stack()
    local.send("one", "two", "three")
    [call] = wait_for(lambda: local.calls("consumer"))
    records = call["event"]["Records"]
    assert sorted(r["body"] for r in records) == ["one", "three", "two"]
    arn = local.resources.arns["Work"]
    for record in records:
        assert record["eventSource"] == "aws:sqs"
        assert record["eventSourceARN"] == arn
        assert record["awsRegion"] == "us-east-1"
        assert record["messageId"] and record["receiptHandle"] and len(record["md5OfBody"]) == 32
        assert {"ApproximateReceiveCount", "SentTimestamp", "SenderId",
                "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
        assert record["attributes"]["ApproximateReceiveCount"] == "1"
        assert record["messageAttributes"]["kind"]["stringValue"] == "test"
        assert record["messageAttributes"]["kind"]["dataType"] == "String"
    # The function's own Timeout reaches the context.
    assert call["function"] == "Consumer" and call["remaining_ms"] > 800_000
    wait_for(lambda: local.queue_depth(local.queue_url) == 0)


def test_partial_failure_retries_only_the_failed_record_until_the_dlq(make_stack: Callable[..., Local]) -> None:
    local = make_stack(retry_delay_s=1)
    local.send("ok-1", "fail-1", "ok-2")
    # maxReceiveCount is 3: three deliveries, then the queue's redrive policy moves the message.
    dead = wait_for(lambda: local.sqs.receive_message(QueueUrl=local.dlq_url, WaitTimeSeconds=1).get("Messages"),
                    timeout=12)
    assert [m["Body"] for m in dead] == ["fail-1"]
    calls = local.calls("consumer")
    assert bodies_by_event(calls)[0] == ["ok-1", "fail-1", "ok-2"]
    assert bodies_by_event(calls)[1:] == [["fail-1"], ["fail-1"]]
    counts = [c["event"]["Records"][0]["attributes"]["ApproximateReceiveCount"] for c in calls[1:]]
    assert counts == ["2", "3"]
    # The local retry delay, not the queue's 5400 s visibility timeout, spaces the retries.
    assert all(later["at"] - earlier["at"] >= 0.9 for earlier, later in itertools.pairwise(calls))
    assert local.queue_depth(local.queue_url) == 0


@pytest.mark.parametrize("bad", ["crash", "invalid"])
def test_a_raising_or_malformed_handler_gets_the_whole_batch_again(make_stack: Callable[..., Local],
                                                                   bad: str) -> None:
    local = make_stack()
    local.send("fine", bad)
    calls = wait_for(at_least(2, lambda: local.calls("consumer")))
    first, second = bodies_by_event(calls)[:2]
    assert sorted(first) == sorted(second) == sorted(["fine", bad])
    assert {r["attributes"]["ApproximateReceiveCount"] for r in calls[1]["event"]["Records"]} == {"2"}


def test_a_slow_handler_blocks_neither_other_batches_nor_other_workers(make_stack: Callable[..., Local]) -> None:
    local = make_stack(concurrency=2)
    local.send("slow")
    wait_for(lambda: local.calls("consumer"))
    started = time.monotonic()
    local.send("quick")
    local.s3.put_object(Bucket=local.bucket, Key="triggers/during.json", Body=b"{}")
    wait_for(lambda: ["quick"] in bodies_by_event(local.calls("consumer")))
    wait_for(lambda: local.calls("uploads"))
    # The slow batch takes 1.5 s; both were handled while it ran.
    assert time.monotonic() - started < 1.3


# ---- S3 "Object Created" -------------------------------------------------------------------------------------
def test_an_upload_under_the_prefix_delivers_one_eventbridge_event(make_stack: Callable[..., Local]) -> None:
    local = make_stack(workers=False)
    local.s3.put_object(Bucket=local.bucket, Key="triggers/before.json", Body=b"old")
    local.start_workers()
    local.s3.put_object(Bucket=local.bucket, Key="other/x.json", Body=b"no")
    local.s3.put_object(Bucket=local.bucket, Key="triggers-not/x.json", Body=b"no")
    local.s3.put_object(Bucket=local.bucket, Key="triggers/run.json", Body=b'{"a": 1}')
    [call] = wait_for(lambda: local.calls("uploads"))
    time.sleep(0.6)  # two more listings: still exactly one delivery
    assert len(local.calls("uploads")) == 1
    event = call["event"]
    assert {k: event[k] for k in ("version", "detail-type", "source", "account", "region", "resources")} == {
        "version": "0", "detail-type": "Object Created", "source": "aws.s3", "account": "123456789012",
        "region": "us-east-1", "resources": [f"arn:aws:s3:::{local.bucket}"]}
    assert uuid.UUID(event["id"]) and event["time"].endswith("Z")
    detail = event["detail"]
    head = local.s3.head_object(Bucket=local.bucket, Key="triggers/run.json")
    assert detail["bucket"] == {"name": local.bucket}
    assert detail["object"]["key"] == "triggers/run.json"
    assert detail["object"]["size"] == 8
    assert detail["object"]["etag"] == head["ETag"].strip('"')
    assert detail["object"]["sequencer"]
    assert detail["reason"] == "PutObject" and detail["version"] == "0"
    assert {"request-id", "requester", "source-ip-address"} <= set(detail)
    assert call["function"] == "Uploads"


def test_a_failing_trigger_is_retried_twice_then_dropped(make_stack: Callable[..., Local]) -> None:
    local = make_stack(retry_delay_s=0.2)
    local.s3.put_object(Bucket=local.bucket, Key="triggers/fail.json", Body=b"{}")
    wait_for(at_least(3, lambda: local.calls("uploads")))
    time.sleep(0.5)
    calls = local.calls("uploads")
    assert len(calls) == 3
    assert len({c["event"]["id"] for c in calls}) == 1   # the same event each time
    gaps = [later["at"] - earlier["at"] for earlier, later in itertools.pairwise(calls)]
    assert gaps[0] >= 0.2 and gaps[1] >= 0.4             # backoff doubles


# ---- lifecycle -----------------------------------------------------------------------------------------------
def test_the_local_stack_starts_describes_and_stops_its_workers(tmp_path: Path) -> None:
    import boto3

    from flowless.local.stack import LocalStack

    stack = LocalStack(write_project(tmp_path), resource_prefix=f"w{uuid.uuid4().hex[:8]}")
    stack.start_aws()
    try:
        lines = stack.start_workers()
        assert lines == ["Consumer <- Work (SQS, batch 10, 2 concurrent)",
                         "Uploads <- Files (S3 Object Created, triggers/)"]
        sqs = boto3.client("sqs")
        try:
            sqs.send_message(QueueUrl=stack._resources.names["Work"], MessageBody="through the stack")
            calls = tmp_path / "functions" / "consumer" / "calls.jsonl"
            wait_for(calls.exists)
            started = time.monotonic()
            stack.stop_workers()
            assert time.monotonic() - started < 3.0
            sqs.send_message(QueueUrl=stack._resources.names["Work"], MessageBody="after stop")
            time.sleep(0.2)
            assert len(calls.read_text().splitlines()) == 1
        finally:
            sqs.close()
    finally:
        stack.stop_aws()
