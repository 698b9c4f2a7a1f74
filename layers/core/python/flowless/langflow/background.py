"""Background runs: a webhook call or an upload becomes a task and a run message; an executor runs it once.

The run message (JSON on the run queue):
    {"task_id", "user_id", "flow_id", "source": "webhook" | "upload",
     "body": str | absent, "body_key": S3 key | absent,      # webhook payload, inline or in S3 when large
     "object_key": str | absent}                               # the uploaded object that started the run
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from flowless.clock import new_id
from flowless.errors import FlowlessError, InvalidInputError, NotFoundError

__all__ = ["INLINE_BODY_LIMIT", "Outcome", "enqueue_run", "execute_message", "fail_dead_letter", "parse_message",
           "webhook_tweaks"]

logger = logging.getLogger("flowless")

# SQS takes messages up to 1 MB; bodies past this go to S3 and the message carries their key.
INLINE_BODY_LIMIT = 200_000


def webhook_tweaks(flow_data: dict[str, Any] | None, body: str) -> dict[str, Any]:
    """Langflow's webhook tweak: the raw body as `data` of every node whose id contains "Webhook"."""
    nodes = (flow_data or {}).get("nodes") or []
    return {n["id"]: {"data": body} for n in nodes if isinstance(n, dict) and "Webhook" in str(n.get("id", ""))}


def enqueue_run(*, user_id: str, flow_id: str, source: str, body: str | None = None,
                object_key: str | None = None) -> str:
    """Record a PENDING task and queue its run; returns the task id."""
    from flowless.settings import get_settings
    from flowless.store.aws import client
    from flowless.store.tasks import TaskRepository

    settings = get_settings()
    task_id = new_id()
    message: dict[str, Any] = {"task_id": task_id, "user_id": user_id, "flow_id": flow_id, "source": source}
    if object_key is not None:
        message["object_key"] = object_key
    if body is not None and len(body.encode()) > INLINE_BODY_LIMIT:
        key = f"runs/{user_id}/{task_id}/body"
        client("s3").put_object(Bucket=settings.bucket_name, Key=key, Body=body.encode())
        message["body_key"] = key
    elif body is not None:
        message["body"] = body
    tasks = TaskRepository()
    tasks.create(user_id=user_id, flow_id=flow_id, source=source, task_id=task_id)
    try:
        client("sqs").send_message(QueueUrl=settings.run_queue_url, MessageBody=json.dumps(message))
    except Exception:
        # The run will never happen: say so on the task rather than leave it PENDING.
        tasks.fail_unfinished(user_id=user_id, task_id=task_id, error="The run could not be queued")
        raise
    return task_id


@dataclass
class Outcome:
    """What the executor did with one message: "ran", "failed" (flow error, not retried) or "skipped"."""

    status: str
    detail: str = ""


def _body(message: dict[str, Any]) -> str:
    if "body_key" in message:
        from flowless.settings import get_settings
        from flowless.store.aws import client

        answer = client("s3").get_object(Bucket=get_settings().bucket_name, Key=message["body_key"])
        return str(answer["Body"].read().decode("utf-8", errors="replace"))
    return str(message.get("body") or "")


class _TriggerFiles:
    """The uploaded object that started a run, readable by its key, besides the owner's stored files."""

    def __init__(self, object_key: str, fallback: Any) -> None:
        self.object_key = object_key
        self.fallback = fallback

    def read(self, path: str) -> tuple[str, bytes]:
        if path != self.object_key:
            return self.fallback.read(path)
        from flowless.settings import get_settings
        from flowless.store.aws import client

        answer = client("s3").get_object(Bucket=get_settings().bucket_name, Key=self.object_key)
        return path.rsplit("/", 1)[-1], answer["Body"].read()


def _file_tweaks(flow_data: dict[str, Any] | None, object_key: str) -> dict[str, Any]:
    nodes = (flow_data or {}).get("nodes") or []
    return {n["id"]: {"path": [object_key]} for n in nodes
            if isinstance(n, dict) and (n.get("data") or {}).get("type") == "File"}


def execute_message(message: dict[str, Any], *, claimer: str, lease_seconds: float) -> Outcome:
    """Run one queued message's flow unless another delivery already did (or is doing) it.

    A flow's own failure is recorded on the task and not retried; anything else raises, so SQS retries.
    """
    from flowless.langflow.runner import FlowRun
    from flowless.store.flows import FlowRepository
    from flowless.store.tasks import TaskRepository
    from flowless.wire.langflow_run import SimplifiedAPIRequest

    tasks = TaskRepository()
    user_id, task_id, flow_id = message["user_id"], message["task_id"], message["flow_id"]
    if not tasks.claim(user_id=user_id, task_id=task_id, lease_seconds=lease_seconds, claimer=claimer):
        return Outcome("skipped", "the task is finished or another delivery is running it")
    try:
        flow = FlowRepository().get_for_run(user_id=user_id, flow_id=flow_id)
    except NotFoundError:
        tasks.finish(user_id=user_id, task_id=task_id, error=f"Flow identifier {flow_id} not found")
        return Outcome("failed", "flow not found")
    object_key = message.get("object_key")
    if object_key:
        request = SimplifiedAPIRequest(input_value=object_key, tweaks=_file_tweaks(flow.data, object_key) or None)
    else:
        request = SimplifiedAPIRequest(input_value="", tweaks=webhook_tweaks(flow.data, _body(message)) or None)
    try:
        run = FlowRun(user_id=user_id, flow=flow, request=request)
        if object_key:
            run.wrap_files = lambda stored: _TriggerFiles(object_key, stored)
        result = asyncio.run(run.response())
    except FlowlessError as exc:
        tasks.finish(user_id=user_id, task_id=task_id, error=_error_text(exc))
        return Outcome("failed", _error_text(exc))
    tasks.finish(user_id=user_id, task_id=task_id, result=result)
    return Outcome("ran")


def _error_text(exc: FlowlessError) -> str:
    """The run error's message (Langflow's detail may be a JSON string holding it)."""
    try:
        parsed = json.loads(exc.message)
    except (TypeError, ValueError):
        return exc.message
    return str(parsed.get("message", exc.message)) if isinstance(parsed, dict) else exc.message


def fail_dead_letter(message: dict[str, Any], *, receive_count: int) -> bool:
    """A run message SQS gave up on: its task becomes FAILURE unless it already ended."""
    from flowless.store.tasks import TaskRepository

    try:
        user_id, task_id = message["user_id"], message["task_id"]
    except (KeyError, TypeError) as exc:
        raise InvalidInputError("not a run message") from exc
    error = f"The run did not complete after {receive_count} attempts and was abandoned"
    return TaskRepository().fail_unfinished(user_id=user_id, task_id=task_id, error=error)


def parse_message(body: str) -> dict[str, Any]:
    """A run message from the queue; a body that is not one is a client of the queue's mistake."""
    try:
        message = json.loads(body)
    except json.JSONDecodeError as exc:
        raise InvalidInputError("run message is not JSON") from exc
    if not isinstance(message, dict) or not all(isinstance(message.get(k), str) for k in
                                                 ("task_id", "user_id", "flow_id")):
        raise InvalidInputError("run message lacks task_id, user_id or flow_id")
    return message
