"""Lambda's event sources, run locally: SQS event source mappings and EventBridge rules on S3 uploads.

Each `Type: SQS` event of template.yaml becomes a poller that behaves like Lambda's event source mapping: it
long-polls the queue, hands the function a batch in Lambda's SQS event shape, deletes what succeeded
(honouring ReportBatchItemFailures) and leaves the rest on the queue, so the queue's own RedrivePolicy moves a
message that keeps failing to its dead-letter queue after maxReceiveCount receives.

Each `Type: EventBridgeRule` event on S3 "Object Created" becomes a watcher that lists the bucket and, for
every new object under the rule's key filter, invokes the function with the event S3 sends to EventBridge.
EventBridge invokes Lambda asynchronously, and Lambda retries a failed asynchronous invocation twice before
dropping the event; the watcher does the same.

The one deliberate difference from AWS: a failed message becomes visible again after `retry_delay_s` (1 s by
default) instead of after the queue's VisibilityTimeout (5400 s for the run queue), and asynchronous retries
wait `retry_delay_s`, then twice that, instead of one and two minutes. Otherwise a failure could not be watched
being retried and redriven during a local session.
"""

from __future__ import annotations

import base64
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from flowless.local.events import call_handler, lambda_context, load_function
from flowless.local.template import ObjectCreatedRule, QueueSource, Template

__all__ = [
    "DEFAULT_RETRY_DELAY_S",
    "FunctionLoader",
    "ObjectCreatedWatcher",
    "QueuePoller",
    "Workers",
    "failed_message_ids",
    "object_created_event",
    "sqs_event",
    "start_workers",
]

logger = logging.getLogger(__name__)

DEFAULT_RETRY_DELAY_S = 1.0
# Short long-polls: a stopping poller notices within about this long (moto may take a second more).
LONG_POLL_S = 1
# The account moto reports for every resource; deployed events carry the real one.
LOCAL_ACCOUNT = "123456789012"
# SQS hands out and accepts at most ten messages per call.
_SQS_MAX_PER_CALL = 10

Invoke = Callable[[dict[str, Any]], Any]


# ---- functions -----------------------------------------------------------------------------------------
class FunctionLoader:
    """Each function's app.py, imported on its first event (as Lambda's cold start would) and then reused."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._handlers: dict[str, Callable[..., Any]] = {}
        self._lock = threading.Lock()

    def handler(self, code_uri: str) -> Callable[..., Any]:
        folder = Path(code_uri.rstrip("/"))
        with self._lock:
            if folder.name not in self._handlers:
                module = load_function(self.root / folder / "app.py", f"flowless_function_{folder.name}")
                self._handlers[folder.name] = module.handler
            return self._handlers[folder.name]

    def invoker(self, function: str, code_uri: str, timeout_s: int) -> Invoke:
        """One synchronous Lambda invocation per call: a fresh context, the handler on its own event loop."""

        def invoke(event: dict[str, Any]) -> Any:
            return call_handler(self.handler(code_uri), event, lambda_context(function, timeout_s))

        return invoke


# ---- SQS -----------------------------------------------------------------------------------------------
def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """ReceiveMessage results -> the event Lambda's SQS event source mapping passes the function."""
    region = queue_arn.split(":")[3]
    return {"Records": [{
        "messageId": m["MessageId"],
        "receiptHandle": m["ReceiptHandle"],
        "body": m.get("Body", ""),
        "attributes": dict(m.get("Attributes") or {}),
        "messageAttributes": {name: _message_attribute(value)
                              for name, value in (m.get("MessageAttributes") or {}).items()},
        "md5OfBody": m.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    } for m in messages]}


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """boto3's MessageAttributeValue -> Lambda's camelCase form, binary values base64-encoded as JSON needs."""
    shaped: dict[str, Any] = {}
    if "StringValue" in value:
        shaped["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        shaped["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    shaped["stringListValues"] = list(value.get("StringListValues") or [])
    shaped["binaryListValues"] = [base64.b64encode(v).decode() for v in value.get("BinaryListValues") or []]
    shaped["dataType"] = value.get("DataType", "String")
    return shaped


def failed_message_ids(response: Any, message_ids: list[str], report_failures: bool) -> set[str]:
    """The records of a batch that go back to the queue, given what a handler that did not raise returned.

    Lambda's rules: without ReportBatchItemFailures the return value is ignored and the batch succeeded. With
    it, a null or empty response or batchItemFailures list is a complete success, listed ids fail, and a
    malformed response (not an object, a missing or unknown itemIdentifier) fails the whole batch.
    """
    everything = set(message_ids)
    if not report_failures or response is None:
        return set()
    if not isinstance(response, dict):
        return everything
    failures = response.get("batchItemFailures")
    if not failures:
        return set() if failures is None or failures == [] else everything
    if not isinstance(failures, list):
        return everything
    failed: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in everything:
            return everything
        failed.add(identifier)
    return failed


class QueuePoller:
    """Lambda's SQS event source mapping for one function and queue, on `concurrency` threads."""

    kind = "SQS"

    def __init__(self, source: QueueSource, *, queue_url: str, queue_arn: str, invoke: Invoke, client: Any,
                 stop: threading.Event, receive_lock: threading.Lock, retry_delay_s: float,
                 concurrency: int = 1) -> None:
        self.source = source
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self._invoke = invoke
        self._sqs = client
        self._stop = stop
        # moto hands the same message to two receives that overlap; pollers of one queue take turns receiving.
        self._receive_lock = receive_lock
        self._retry_visibility = max(0, math.ceil(retry_delay_s))
        self.concurrency = max(1, concurrency)
        self._threads: list[threading.Thread] = []

    def describe(self) -> str:
        extra = f", {self.concurrency} concurrent" if self.concurrency > 1 else ""
        return f"{self.source.function} <- {self.source.queue} (SQS, batch {self.source.batch_size}{extra})"

    def start(self) -> None:
        for number in range(self.concurrency):
            thread = threading.Thread(target=self._run, name=f"sqs-{self.source.function}-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def join(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self._threads)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                messages = self._receive()
                if messages:
                    self._process(messages)
            except Exception:
                # The endpoint went away or refused a call: keep polling, as the managed poller would.
                logger.exception("polling %s for %s failed", self.source.queue, self.source.function)
                self._stop.wait(1.0)

    def _receive_some(self, count: int, wait_s: int) -> list[dict[str, Any]]:
        with self._receive_lock:
            reply = self._sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=count, WaitTimeSeconds=wait_s,
                AttributeNames=["All"], MessageAttributeNames=["All"])
        return list(reply.get("Messages") or [])

    def _receive(self) -> list[dict[str, Any]]:
        """One batch: what the first long-poll brings, topped up until full or the batching window closes."""
        wanted = self.source.batch_size
        messages = self._receive_some(min(_SQS_MAX_PER_CALL, wanted), LONG_POLL_S)
        deadline = time.monotonic() + self.source.batching_window_s
        while messages and len(messages) < wanted and not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            more = self._receive_some(min(_SQS_MAX_PER_CALL, wanted - len(messages)), 0)
            messages.extend(more)
            if not more:
                self._stop.wait(min(0.2, remaining))
        return messages

    def _process(self, messages: list[dict[str, Any]]) -> None:
        ids = [m["MessageId"] for m in messages]
        try:
            response = self._invoke(sqs_event(messages, self.queue_arn))
        except Exception:
            logger.exception("%s failed on a batch of %d from %s; the whole batch will be retried",
                             self.source.function, len(messages), self.source.queue)
            failed = set(ids)
        else:
            failed = failed_message_ids(response, ids, self.source.report_failures)
            if failed:
                logger.warning("%s reported %d of %d messages from %s as failed; they will be retried",
                               self.source.function, len(failed), len(messages), self.source.queue)
        self._delete([m for m in messages if m["MessageId"] not in failed])
        self._release([m for m in messages if m["MessageId"] in failed])

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        for chunk in _chunks(messages):
            self._sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)])

    def _release(self, messages: list[dict[str, Any]]) -> None:
        """Failed messages come back after the local retry delay rather than the queue's visibility timeout."""
        for chunk in _chunks(messages):
            self._sqs.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": self._retry_visibility}
                for i, m in enumerate(chunk)])


def _chunks(items: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [items[i:i + _SQS_MAX_PER_CALL] for i in range(0, len(items), _SQS_MAX_PER_CALL)]


# ---- S3 -> EventBridge ---------------------------------------------------------------------------------
def object_created_event(bucket: str, obj: dict[str, Any], *, region: str,
                         account: str = LOCAL_ACCOUNT) -> dict[str, Any]:
    """A ListObjectsV2 entry -> the "Object Created" event S3 sends to EventBridge for it."""
    etag = str(obj.get("ETag", "")).strip('"')
    modified = obj["LastModified"].astimezone(UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": account,
        "time": modified.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            # A hex string that grows with time, as S3's sequencer does for one key.
            "object": {"key": obj["Key"], "size": int(obj.get("Size", 0)), "etag": etag,
                       "sequencer": f"{time.time_ns():018X}"},
            "request-id": uuid.uuid4().hex[:16].upper(),
            "requester": account,
            "source-ip-address": "127.0.0.1",
            # Multipart uploads are the objects whose ETag ends in -<parts>.
            "reason": "CompleteMultipartUpload" if "-" in etag else "PutObject",
        },
    }


@dataclass
class _Delivery:
    event: dict[str, Any]
    attempt: int = 0
    due: float = 0.0


class ObjectCreatedWatcher:
    """An EventBridge rule on a bucket's "Object Created" events, approximated by listing the bucket."""

    kind = "S3"

    def __init__(self, rule: ObjectCreatedRule, *, bucket_name: str, invoke: Invoke, client: Any,
                 stop: threading.Event, retry_delay_s: float, poll_interval_s: float, region: str) -> None:
        self.rule = rule
        self.bucket_name = bucket_name
        self._invoke = invoke
        self._s3 = client
        self._stop = stop
        self._retry_delay_s = retry_delay_s
        self._poll_interval_s = poll_interval_s
        self._region = region
        self._seen: set[tuple[str, str, str]] = set()
        self._pending: list[_Delivery] = []
        self._thread: threading.Thread | None = None

    def describe(self) -> str:
        where = self.rule.list_prefix or "any key"
        return f"{self.rule.function} <- {self.rule.bucket} (S3 Object Created, {where})"

    def prime(self) -> None:
        """Objects already in the bucket were created before the rule existed: they are never delivered."""
        self._seen = {self._identity(obj) for obj in self._list()}

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"s3-{self.rule.function}", daemon=True)
        self._thread.start()

    def join(self, timeout: float) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
        return self._thread is None or not self._thread.is_alive()

    @staticmethod
    def _identity(obj: dict[str, Any]) -> tuple[str, str, str]:
        # Every upload is an event, even of the same bytes under the same key: the time tells them apart.
        return obj["Key"], str(obj.get("ETag", "")), str(obj.get("LastModified", ""))

    def _list(self) -> list[dict[str, Any]]:
        found = []
        for page in self._s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket_name, Prefix=self.rule.list_prefix):
            found.extend(obj for obj in page.get("Contents") or [] if self.rule.matches(obj["Key"]))
        return found

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._scan()
                self._deliver_due()
            except Exception:
                logger.exception("watching bucket %s for %s failed", self.bucket_name, self.rule.function)
            self._stop.wait(self._poll_interval_s)

    def _scan(self) -> None:
        for obj in sorted(self._list(), key=lambda o: o["LastModified"]):
            identity = self._identity(obj)
            if identity not in self._seen:
                self._seen.add(identity)
                event = object_created_event(self.bucket_name, obj, region=self._region)
                self._pending.append(_Delivery(event, due=time.monotonic()))

    def _deliver_due(self) -> None:
        for delivery in list(self._pending):
            if self._stop.is_set():
                return
            if delivery.due > time.monotonic():
                continue
            self._pending.remove(delivery)
            key = delivery.event["detail"]["object"]["key"]
            try:
                self._invoke(delivery.event)
            except Exception:
                if delivery.attempt < self.rule.max_retries:
                    delay = self._retry_delay_s * 2 ** delivery.attempt
                    logger.warning("%s failed on %s; retrying in %.1f s", self.rule.function, key, delay,
                                   exc_info=True)
                    # The same event again, as Lambda retries an asynchronous invocation.
                    self._pending.append(_Delivery(delivery.event, delivery.attempt + 1, time.monotonic() + delay))
                else:
                    logger.error("%s failed on %s %d times; the event is dropped", self.rule.function, key,
                                 delivery.attempt + 1, exc_info=True)


# ---- all of them -----------------------------------------------------------------------------------------
Worker = QueuePoller | ObjectCreatedWatcher


class Workers:
    """The running pollers and watchers of one template; `stop` ends them all."""

    def __init__(self, workers: list[Worker], stop: threading.Event, clients: list[Any]) -> None:
        self.workers = workers
        self._stop = stop
        self._clients = clients

    def describe(self) -> list[str]:
        return [w.describe() for w in self.workers]

    def stop(self, timeout: float = 10.0) -> bool:
        """Signal every thread and wait for them; a handler still running after `timeout` is left behind."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        stopped = all([w.join(max(0.0, deadline - time.monotonic())) for w in self.workers])
        if stopped:
            for client in self._clients:
                client.close()
        else:
            logger.warning("some event handlers were still running after %.0f s", timeout)
        return stopped


def start_workers(template: Template, names: dict[str, str], arns: dict[str, str], *,
                  retry_delay_s: float = DEFAULT_RETRY_DELAY_S, concurrency: int = 2,
                  poll_interval_s: float = 0.4, session: Any = None) -> Workers:
    """Start a poller for every SQS event and a watcher for every S3 Object Created rule of the template.

    `names` maps logical ids to queue URLs and bucket names, `arns` queue logical ids to ARNs (as
    resources.create_stack_resources returns them). `concurrency` is how many batches one event source may
    have in flight, capped by the event's ScalingConfig.MaximumConcurrency.
    """
    import boto3

    session = session or boto3.session.Session()
    sqs, s3 = session.client("sqs"), session.client("s3")
    loader = FunctionLoader(template.root)
    stop = threading.Event()
    receive_locks: dict[str, threading.Lock] = {}
    workers: list[Worker] = []
    for source in template.queue_sources():
        if source.queue not in names or source.queue not in arns:
            logger.warning("%s reads queue %s, which the template does not define", source.function, source.queue)
            continue
        workers.append(QueuePoller(
            source, queue_url=names[source.queue], queue_arn=arns[source.queue],
            invoke=loader.invoker(source.function, source.code_uri, source.timeout_s), client=sqs, stop=stop,
            receive_lock=receive_locks.setdefault(source.queue, threading.Lock()), retry_delay_s=retry_delay_s,
            concurrency=min(concurrency, source.max_concurrency or concurrency),
        ))
    for rule in template.object_created_rules():
        watcher = ObjectCreatedWatcher(
            rule, bucket_name=names.get(rule.bucket, rule.bucket),
            invoke=loader.invoker(rule.function, rule.code_uri, rule.timeout_s), client=s3, stop=stop,
            retry_delay_s=retry_delay_s, poll_interval_s=poll_interval_s, region=s3.meta.region_name,
        )
        watcher.prime()
        workers.append(watcher)
    for worker in workers:
        worker.start()
    return Workers(workers, stop, [sqs, s3])
