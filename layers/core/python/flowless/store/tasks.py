"""Background run tasks: PENDING -> STARTED -> SUCCESS | FAILURE, with a lease so a run happens once.

SQS delivers at least once. An executor claims a task before running it: the claim succeeds for a PENDING task,
or for a STARTED one whose lease ran out (its executor crashed or timed out, and SQS redelivered the message).
A duplicate delivery while the first run is alive, or after the task ended, finds the claim refused and skips.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from flowless.clock import new_id, now_iso
from flowless.errors import NotFoundError
from flowless.store._dynamo import Table

__all__ = ["TERMINAL", "Task", "TaskRepository"]

PENDING, STARTED, SUCCESS, FAILURE = "PENDING", "STARTED", "SUCCESS", "FAILURE"
TERMINAL = (SUCCESS, FAILURE)
# Tasks are kept for 30 days, then DynamoDB's TTL removes them.
_TASK_DAYS = 30
# Results over this size (a DynamoDB item tops out at 400 KB) are cut to their error-free summary.
_RESULT_LIMIT = 300_000


@dataclass
class Task:
    id: str
    user_id: str
    flow_id: str
    source: str
    status: str
    result: Any = None
    error: str | None = None
    attempts: int = 0
    created_at: str = ""
    updated_at: str = ""

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Task:
        return cls(id=item["id"], user_id=item["user_id"], flow_id=item["flow_id"], source=item.get("source", ""),
                   status=item["status"], result=json.loads(item["result"]) if item.get("result") else None,
                   error=item.get("error"), attempts=int(item.get("attempts", 0)),
                   created_at=item.get("created_at", ""), updated_at=item.get("updated_at", ""))


def _key(user_id: str, task_id: str) -> dict[str, str]:
    return {"PK": f"USER#{user_id}", "SK": f"TASK#{task_id}"}


class TaskRepository:
    """A user's background tasks."""

    def __init__(self, table: Table | None = None) -> None:
        self.table = table or Table()

    def create(self, *, user_id: str, flow_id: str, source: str, task_id: str | None = None) -> Task:
        now = now_iso()
        task = Task(id=task_id or new_id(), user_id=user_id, flow_id=flow_id, source=source, status=PENDING,
                    created_at=now, updated_at=now)
        self.table.put({**_key(user_id, task.id), "type": "task", "id": task.id, "user_id": user_id,
                        "flow_id": flow_id, "source": source, "status": PENDING, "attempts": 0,
                        "created_at": now, "updated_at": now, "ttl": int(time.time()) + _TASK_DAYS * 86400},
                       condition="attribute_not_exists(PK)")
        return task

    def get(self, *, user_id: str, task_id: str) -> Task:
        item = self.table.get(f"USER#{user_id}", f"TASK#{task_id}")
        if item is None:
            raise NotFoundError(f"Task {task_id} not found")
        return Task.from_item(item)

    def claim(self, *, user_id: str, task_id: str, lease_seconds: float, claimer: str) -> bool:
        """Mark the task STARTED for this executor; False when it is not ours to run (see the module doc).

        `claimer` is the SQS message id: the same message delivered again means its earlier attempt failed or
        crashed (a success deletes it), so it may take the task over even while that attempt's lease lasts.
        """
        now = time.time()
        return self._update(
            user_id, task_id,
            "SET #s = :started, lease_until = :lease, claimed_by = :claimer, "
            "attempts = if_not_exists(attempts, :zero) + :one, updated_at = :now",
            "attribute_exists(PK) AND (#s = :pending OR "
            "(#s = :started AND (lease_until < :t OR claimed_by = :claimer)))",
            {":started": STARTED, ":pending": PENDING, ":lease": int(now + lease_seconds), ":t": int(now),
             ":claimer": claimer, ":zero": 0, ":one": 1, ":now": now_iso()},
        )

    def finish(self, *, user_id: str, task_id: str, result: Any = None, error: str | None = None) -> bool:
        """Record the end of a run this executor claimed: SUCCESS with its result, or FAILURE with its error."""
        values: dict[str, Any] = {":status": FAILURE if error is not None else SUCCESS, ":now": now_iso(),
                                  ":started": STARTED}
        expression = "SET #s = :status, updated_at = :now REMOVE lease_until"
        if error is not None:
            values[":error"] = error[:10_000]
            expression = "SET #s = :status, updated_at = :now, #e = :error REMOVE lease_until"
        else:
            body = json.dumps(result, default=str)
            if len(body) > _RESULT_LIMIT:
                body = json.dumps({"truncated": True, "size": len(body)})
            values[":result"] = body
            expression = "SET #s = :status, updated_at = :now, #r = :result REMOVE lease_until"
        return self._update(user_id, task_id, expression, "#s = :started", values)

    def fail_unfinished(self, *, user_id: str, task_id: str, error: str) -> bool:
        """FAILURE for a task that never finished (its message went to the dead-letter queue)."""
        return self._update(user_id, task_id, "SET #s = :failure, #e = :error, updated_at = :now REMOVE lease_until",
                            "#s IN (:pending, :started)",
                            {":failure": FAILURE, ":error": error, ":now": now_iso(), ":pending": PENDING,
                             ":started": STARTED})

    def _update(self, user_id: str, task_id: str, expression: str, condition: str, values: dict[str, Any]) -> bool:
        names = {"#s": "status"}
        names.update({alias: name for alias, name in (("#e", "error"), ("#r", "result")) if alias in expression})
        return self.table.update(_key(user_id, task_id), expression, condition=condition, names=names, values=values)
