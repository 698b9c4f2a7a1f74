"""The executor: runs queued flows (webhook calls, uploads) from the run queue, each at most once.

SQS event source with partial batch responses: a record whose run raised unexpectedly is reported failed and
redelivered (after maxReceiveCount it goes to the dead-letter queue); a flow's own error ends its task as FAILURE.
"""

from __future__ import annotations

import logging
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

logger = logging.getLogger("flowless")
# Every failed record is reported, even when all of them failed: SQS then retries exactly those.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
# The invocation's remaining time bounds a run's lease on its task (set per invocation).
_lease_seconds = 900.0


def record_handler(record: SQSRecord) -> str:
    import json

    from flowless.errors import InvalidInputError
    from flowless.langflow.background import execute_message, parse_message

    try:
        body = json.loads(record.body)
    except json.JSONDecodeError:
        body = None
    if isinstance(body, dict) and body.get("kind") == "build":
        from flowless.langflow.build import execute_build

        # A playground build job: its events go to the job, not a task.
        return execute_build(body, claimer=record.message_id, lease_seconds=_lease_seconds).status
    try:
        message = parse_message(record.body)
    except InvalidInputError as exc:
        # A message that is not a run will never become one: drop it rather than retry it.
        logger.error("dropped an invalid run message", extra={"message_id": record.message_id, "reason": str(exc)})
        return "dropped"
    outcome = execute_message(message, claimer=record.message_id, lease_seconds=_lease_seconds)
    logger.info("run message handled", extra={"task_id": message["task_id"], "outcome": outcome.status})
    return outcome.status


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _lease_seconds
    _lease_seconds = max(context.get_remaining_time_in_millis() / 1000.0, 1.0)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
