"""Run messages SQS gave up on (maxReceiveCount reached): their tasks become FAILURE instead of staying open."""

from __future__ import annotations

import logging
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

logger = logging.getLogger("flowless")
# Every failed record is reported, even when all of them failed: SQS then retries exactly those.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> bool:
    import json

    from flowless.errors import InvalidInputError
    from flowless.langflow.background import fail_dead_letter, parse_message

    receive_count = int(record.attributes.approximate_receive_count or 0)
    try:
        body = json.loads(record.body)
    except json.JSONDecodeError:
        body = None
    if isinstance(body, dict) and body.get("kind") == "build":
        from flowless.langflow.build import fail_build_dead_letter

        return fail_build_dead_letter(body, receive_count=receive_count)
    try:
        message = parse_message(record.body)
    except InvalidInputError:
        logger.error("dead letter is not a run message", extra={"message_id": record.message_id})
        return False
    failed = fail_dead_letter(message, receive_count=receive_count)
    logger.warning("run abandoned", extra={"task_id": message["task_id"], "marked_failed": failed})
    return failed


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
