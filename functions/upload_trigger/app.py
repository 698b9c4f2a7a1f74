"""Uploads start flows: an object created under triggers/{flow_id}/ runs that flow as a background task.

EventBridge delivers the bucket's Object Created events (rule on the triggers/ prefix). The run is queued like a
webhook's; the object is readable by the flow's File components and its key is the run's input_value.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3EventBridgeNotificationEvent

logger = logging.getLogger("flowless")
_TRIGGER_KEY = re.compile(r"^triggers/(?P<flow_id>[0-9a-fA-F-]{36})/[^\x00]+$")


def _object_key(bucket: str, key: str) -> str:
    """The object's real key. S3's own notifications URL-encode keys; whether an EventBridge event does is not
    something to bet a run on, so the key as sent is tried first and its decoded form only if that is absent."""
    decoded = unquote_plus(key)
    if decoded == key:
        return key
    from flowless.store.aws import client

    try:
        client("s3").head_object(Bucket=bucket, Key=key)
    except Exception:  # absent (or unreadable) as sent: it was encoded
        return decoded
    return key


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from flowless.langflow.background import enqueue_run
    from flowless.store.flows import FlowRepository

    notification = S3EventBridgeNotificationEvent(event)
    # The key as the event carries it (the data class would decode it unconditionally).
    key = _object_key(notification.detail.bucket.name, notification["detail"]["object"]["key"])
    matched = _TRIGGER_KEY.match(key)
    if matched is None:
        # Not ours to run; retrying would not change that.
        logger.warning("upload ignored: not under triggers/{flow_id}/", extra={"key": key})
        return {"status": "ignored"}
    found = FlowRepository().owner_of(matched["flow_id"].lower(), by_endpoint=False)
    if found is None:
        logger.warning("upload ignored: no such flow", extra={"key": key})
        return {"status": "ignored"}
    user_id, flow_id = found
    task_id = enqueue_run(user_id=user_id, flow_id=flow_id, source="upload", object_key=key)
    logger.info("upload queued a run", extra={"key": key, "task_id": task_id})
    return {"status": "queued", "task_id": task_id}
