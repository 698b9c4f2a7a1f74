"""Presigned uploads become files: an object created under uploads/{user_id}/{file_id} is registered.

EventBridge delivers the bucket's Object Created events (rule on the uploads/ prefix). The key holds only
ids we issued with the presigned form; the name and type the client asked for wait in a pending record.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3EventBridgeNotificationEvent

logger = logging.getLogger("flowless")
_UPLOAD_KEY = re.compile(r"^uploads/(?P<user_id>[^/]+)/(?P<file_id>[0-9a-f-]{36})$")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from flowless.langflow.files import register_upload

    notification = S3EventBridgeNotificationEvent(event)
    key = unquote_plus(notification.detail.object.key)
    matched = _UPLOAD_KEY.match(key)
    if matched is None:
        # Not a key we issued; retrying would not change that.
        logger.warning("upload ignored: not uploads/{user_id}/{file_id}", extra={"key": key})
        return {"status": "ignored"}
    record = register_upload(user_id=matched["user_id"], file_id=matched["file_id"])
    if record is None:
        logger.info("upload ignored: already registered or never started", extra={"key": key})
        return {"status": "ignored"}
    logger.info("upload registered", extra={"file_id": record.id, "size": record.size})
    return {"status": "registered", "file_id": record.id}
