"""Chat messages of a flow's sessions: written in one batch after a run, read back by Message History."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flowless.store._dynamo import Table

__all__ = ["MessageRepository", "StoredMessage"]

# BatchWriteItem takes at most 25 writes; unprocessed ones are retried a few times with backoff.
_BATCH = 25
_RETRIES = 5


def _partition(user_id: str, flow_id: str) -> str:
    return f"USER#{user_id}#MSGS#{flow_id}"


def _session_prefix(session_id: str) -> str:
    # Percent-encoding keeps "#" out of the session part, so one session's prefix never matches another's.
    return f"MSG#{quote(session_id, safe='')}#"


@dataclass
class StoredMessage:
    """A message as stored: Langflow's message fields plus its owner and flow."""

    fields: dict[str, Any]

    @property
    def text(self) -> str:
        return str(self.fields.get("text") or "")


class MessageRepository:
    """Messages by owner, flow and session, in the order they were written."""

    def __init__(self, table: Table | None = None) -> None:
        self.table = table or Table()

    def add_many(self, *, user_id: str, flow_id: str, messages: Iterable[Mapping[str, Any]]) -> int:
        """Store messages (Langflow message dicts with session_id and id) in as few calls as possible."""
        base = time.time_ns()
        puts = []
        for offset, message in enumerate(messages):
            session_id = str(message.get("session_id") or "")
            if not session_id:
                continue
            # Nanoseconds plus the position keep messages of one run in the order the run made them.
            sort_key = f"{base + offset:020d}#{message['id']}"
            # The message itself is kept as JSON: its properties may hold floats and nulls DynamoDB maps refuse.
            item = {"PK": _partition(user_id, flow_id), "SK": _session_prefix(session_id) + sort_key,
                    "type": "message", "user_id": user_id, "flow_id": flow_id, "session_id": session_id,
                    "body": json.dumps({**dict(message), "flow_id": flow_id}, default=str)}
            puts.append({"PutRequest": {"Item": item}})
        for start in range(0, len(puts), _BATCH):
            self.table.batch_write(puts[start:start + _BATCH], retries=_RETRIES)
        return len(puts)

    def history(self, *, user_id: str, flow_id: str, session_id: str, limit: int = 10_000) -> list[StoredMessage]:
        """A session's messages, oldest first (at most `limit`, the newest ones)."""
        items = list(self.table.query_prefix(_partition(user_id, flow_id), _session_prefix(session_id),
                                             forward=False, limit=limit))
        items.reverse()
        return [StoredMessage(_public(item)) for item in items]

    def delete_flow(self, *, user_id: str, flow_id: str) -> int:
        """Delete every message of a flow, in every session."""
        keys = [{"DeleteRequest": {"Key": {"PK": item["PK"], "SK": item["SK"]}}}
                for item in self.table.query_prefix(_partition(user_id, flow_id), "MSG#", projection="PK,SK")]
        for start in range(0, len(keys), _BATCH):
            self.table.batch_write(keys[start:start + _BATCH], retries=_RETRIES)
        return len(keys)


def _public(item: Mapping[str, Any]) -> dict[str, Any]:
    return dict(json.loads(item["body"]))
