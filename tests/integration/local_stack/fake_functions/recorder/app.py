"""A stand-in function for the event workers' tests: records every event it gets in calls.jsonl beside itself.

SQS batches: records whose body contains "fail" are reported as batch item failures, a body containing
"crash" makes the whole invocation raise, "slow" makes it take 1.5 s, and "invalid" makes it return
something that is not a batch response. S3 events: a key containing "fail" makes the invocation raise.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

CALLS = Path(__file__).with_name("calls.jsonl")
_lock = threading.Lock()


def _record(entry: dict[str, Any]) -> None:
    with _lock, CALLS.open("a") as out:
        out.write(json.dumps(entry) + "\n")


def handler(event: dict[str, Any], context: Any) -> Any:
    _record({"at": time.time(), "event": event, "remaining_ms": context.get_remaining_time_in_millis(),
             "function": context.function_name})
    if "detail-type" in event:
        if "fail" in event["detail"]["object"]["key"]:
            raise RuntimeError("trigger failed")
        return None
    bodies = [record["body"] for record in event["Records"]]
    if any("crash" in body for body in bodies):
        raise RuntimeError("batch crashed")
    if any("slow" in body for body in bodies):
        time.sleep(1.5)
    if any("invalid" in body for body in bodies):
        return "not a batch response"
    return {"batchItemFailures": [{"itemIdentifier": record["messageId"]}
                                  for record in event["Records"] if "fail" in record["body"]]}
