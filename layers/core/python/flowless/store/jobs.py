"""Build jobs (Langflow's playground builds) and the events they produce, shared by every container.

Langflow keeps its build queue in process memory, so a second worker answers 404 for a job it did not start.
Here the job and its events live in the table: the executor that claimed the job appends events, and any
container reads them back in order.

    USER#{user_id} | JOB#{job_id}        the job: flow_id, status, request, lease_until + claimed_by
    JOB#{job_id}   | EVT#{seq:08d}       one event (JSON in `body`, or in S3 under `body_key` when large)

Status: QUEUED -> RUNNING -> DONE | FAILED, or CANCELLED from QUEUED or RUNNING. A terminal status is never
replaced, so a run that ends after a cancel cannot turn the job back into DONE.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flowless.clock import new_id, now_iso
from flowless.errors import NotFoundError
from flowless.store._dynamo import Table, _from_wire, _to_wire
from flowless.store.aws import BucketAccess

__all__ = ["CANCELLED", "DONE", "FAILED", "QUEUED", "RUNNING", "TERMINAL", "Job", "JobRepository"]

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "QUEUED", "RUNNING", "DONE", "FAILED", "CANCELLED"
TERMINAL = (DONE, FAILED, CANCELLED)
# A playground build is looked at while it runs; a day later nobody reads it, and TTL removes it.
_JOB_SECONDS = 86_400
# BatchWriteItem takes at most 25 writes.
_BATCH = 25
# An item tops out at 400 KB; an event past this (a vertex with a large result) goes to S3 instead.
_INLINE_EVENT_LIMIT = 300_000


@dataclass
class Job:
    id: str
    user_id: str
    flow_id: str
    status: str
    request: dict[str, Any] | None = None
    request_key: str | None = None
    created_at: str = ""
    updated_at: str = ""

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Job:
        return cls(id=item["id"], user_id=item["user_id"], flow_id=item["flow_id"], status=item["status"],
                   request=json.loads(item["request"]) if item.get("request") else None,
                   request_key=item.get("request_key"), created_at=item.get("created_at", ""),
                   updated_at=item.get("updated_at", ""))


def _key(user_id: str, job_id: str) -> dict[str, str]:
    return {"PK": f"USER#{user_id}", "SK": f"JOB#{job_id}"}


def _events_pk(job_id: str) -> str:
    return f"JOB#{job_id}"


def _event_sk(seq: int) -> str:
    # Zero-padded so the string order of sort keys is the numeric order of events.
    return f"EVT#{seq:08d}"


class JobRepository(BucketAccess):
    """A user's build jobs and their event logs."""

    def __init__(self, table: Table | None = None, s3: Any = None, bucket: str | None = None) -> None:
        super().__init__(s3, bucket)
        self.table = table or Table()


    # ---- the job ---------------------------------------------------------------------------------

    def create(self, *, user_id: str, flow_id: str, request: dict[str, Any] | None = None,
               request_key: str | None = None, job_id: str | None = None) -> Job:
        """A QUEUED job. `request` is kept inline (keep it small); a large one is stored by the caller
        and named by `request_key`."""
        now = now_iso()
        job = Job(id=job_id or new_id(), user_id=user_id, flow_id=flow_id, status=QUEUED, request=request,
                  request_key=request_key, created_at=now, updated_at=now)
        self.table.put({**_key(user_id, job.id), "type": "job", "id": job.id, "user_id": user_id,
                        "flow_id": flow_id, "status": QUEUED,
                        "request": json.dumps(request) if request is not None else None,
                        "request_key": request_key, "created_at": now, "updated_at": now,
                        "ttl": int(time.time()) + _JOB_SECONDS},
                       condition="attribute_not_exists(PK)")
        return job

    def get(self, *, user_id: str, job_id: str) -> Job:
        """The user's job; another user's job is not found, as a missing one is."""
        item = self.table.get(f"USER#{user_id}", f"JOB#{job_id}")
        if item is None:
            raise NotFoundError("Job not found")
        return Job.from_item(item)

    def status(self, *, user_id: str, job_id: str) -> str | None:
        """Only the status (a small read, done between event flushes); None for an unknown job."""
        item = self.table.get(f"USER#{user_id}", f"JOB#{job_id}", projection="status")
        return str(item["status"]) if item else None

    def claim(self, *, user_id: str, job_id: str, lease_seconds: float, claimer: str) -> bool:
        """Mark the job RUNNING for this executor; False when it is not ours to run.

        The same rule as background tasks: a QUEUED job, or a RUNNING one whose lease ran out or that this
        same queue message (`claimer`, redelivered after its attempt failed) holds. A cancelled or finished
        job is never claimed.
        """
        now = time.time()
        return self.table.update(
            _key(user_id, job_id),
            "SET #s = :running, lease_until = :lease, claimed_by = :claimer, updated_at = :now",
            condition="attribute_exists(PK) AND (#s = :queued OR (#s = :running AND "
                      "(lease_until < :t OR claimed_by = :claimer)))",
            names={"#s": "status"},
            values={":running": RUNNING, ":queued": QUEUED, ":lease": int(now + lease_seconds),
                    ":t": int(now), ":claimer": claimer, ":now": now_iso()},
        )

    def set_status(self, *, user_id: str, job_id: str, status: str) -> bool:
        """Move an unfinished job to `status`; False when the job already ended (a cancel wins over DONE)."""
        return self.table.update(
            _key(user_id, job_id), "SET #s = :status, updated_at = :now REMOVE lease_until",
            condition="attribute_exists(PK) AND #s IN (:queued, :running)",
            names={"#s": "status"},
            values={":status": status, ":now": now_iso(), ":queued": QUEUED, ":running": RUNNING},
        )

    def cancel(self, *, user_id: str, job_id: str) -> bool:
        """CANCELLED unless the job already ended; NotFoundError for a job that is not the user's."""
        if self.set_status(user_id=user_id, job_id=job_id, status=CANCELLED):
            return True
        self.get(user_id=user_id, job_id=job_id)  # tells "not found" apart from "already ended"
        return False

    # ---- its events ------------------------------------------------------------------------------

    def last_seq(self, job_id: str) -> int:
        """The highest stored sequence number, 0 when there is none (a new writer continues after it)."""
        for item in self.table.query_prefix(_events_pk(job_id), "EVT#", projection="seq", forward=False,
                                            limit=1):
            return int(item["seq"])
        return 0

    def append(self, job_id: str, events: Iterable[dict[str, Any]], *, first_seq: int) -> int:
        """Store events numbered from `first_seq`; returns the next free number.

        Only the executor that claimed the job writes, so it numbers events itself and no write needs a
        condition: a batch of puts is the cheapest way to make them visible.
        """
        expires = int(time.time()) + _JOB_SECONDS
        puts: list[dict[str, Any]] = []
        seq = first_seq
        for event in events:
            item: dict[str, Any] = {"PK": _events_pk(job_id), "SK": _event_sk(seq), "seq": seq,
                                    "ttl": expires}
            body = json.dumps(event, ensure_ascii=False, default=str)
            if len(body.encode()) > _INLINE_EVENT_LIMIT:
                key = f"jobs/{job_id}/events/{seq:08d}.json"
                self.s3.put_object(Bucket=self.bucket, Key=key, Body=body.encode(),
                                   ContentType="application/json")
                item["body_key"] = key
            else:
                item["body"] = body
            puts.append({"PutRequest": {"Item": item}})
            seq += 1
        for start in range(0, len(puts), _BATCH):
            self.table.batch_write(puts[start:start + _BATCH])
        return seq

    def events_after(self, job_id: str, after_seq: int = 0,
                     limit: int = 100) -> list[tuple[int, dict[str, Any]]]:
        """Up to `limit` events numbered above `after_seq`, oldest first, as (seq, event)."""
        found: list[tuple[int, dict[str, Any]]] = []
        # Table.query_prefix knows only begins_with; a reader resumes after the last event it saw, a range.
        request: dict[str, Any] = {
            "TableName": self.table.name,
            "KeyConditionExpression": "PK = :pk AND SK BETWEEN :lo AND :hi",
            "ExpressionAttributeValues": _to_wire({":pk": _events_pk(job_id), ":lo": _event_sk(after_seq + 1),
                                                   ":hi": "EVT#~"}),  # "~" sorts after every digit
            "ConsistentRead": True,
        }
        while len(found) < limit:
            request["Limit"] = limit - len(found)
            page = self.table.client.query(**request)
            for raw in page.get("Items", []):
                item = _from_wire(raw)
                found.append((int(item["seq"]), self._event_body(item)))
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found

    def _event_body(self, item: dict[str, Any]) -> dict[str, Any]:
        if "body_key" in item:
            body = self.s3.get_object(Bucket=self.bucket, Key=item["body_key"])["Body"].read()
            return dict(json.loads(body))
        return dict(json.loads(item["body"]))
