"""API keys. Only the SHA-256 of a key is stored; the key itself is shown once, when it is made.

SHA-256 (not a slow hash) is right here: keys are 32 random bytes, so there is nothing to brute-force,
and every request hashes one.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from flowless.clock import new_id, now_iso
from flowless.errors import NotFoundError
from flowless.store._dynamo import Table, error_code

__all__ = ["ApiKey", "ApiKeyRepository", "generate_api_key", "hash_api_key"]


def generate_api_key() -> str:
    """A new key in Langflow's format: "sk-" and 32 random bytes, URL-safe."""
    return f"sk-{secrets.token_urlsafe(32)}"


def hash_api_key(key: str) -> str:
    """The hex SHA-256 under which a key is stored and looked up."""
    return hashlib.sha256(key.encode()).hexdigest()


def _masked(key: str) -> str:
    # Langflow shows the first 8 characters and masks the rest.
    return key[:8] + "*" * max(len(key) - 8, 0)


@dataclass
class ApiKey:
    id: str
    user_id: str
    name: str | None
    masked: str
    created_at: str
    is_active: bool = True
    last_used_at: str | None = None
    total_uses: int = 0

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> ApiKey:
        return cls(
            id=item["id"],
            user_id=item["user_id"],
            name=item.get("name"),
            masked=item["masked"],
            created_at=item["created_at"],
            is_active=bool(item.get("is_active", True)),
            last_used_at=item.get("last_used_at"),
            total_uses=int(item.get("total_uses", 0)),
        )


class ApiKeyRepository:
    """Keys by hash (authentication) and by owner (listing, deleting)."""

    def __init__(self, table: Table | None = None) -> None:
        self.table = table or Table()

    def create(self, *, user_id: str, name: str | None, key: str | None = None) -> tuple[ApiKey, str]:
        """Store a key for `user_id` and return it with the clear key (shown once)."""
        clear = key or generate_api_key()
        record = ApiKey(id=new_id(), user_id=user_id, name=name, masked=_masked(clear), created_at=now_iso())
        self._write(record, hash_api_key(clear), only_if_new=False)
        return record, clear

    def register(self, *, user_id: str, key: str, name: str) -> bool:
        """Store a given key unless its hash is already known; True when it was added."""
        record = ApiKey(id=new_id(), user_id=user_id, name=name, masked=_masked(key), created_at=now_iso())
        try:
            self._write(record, hash_api_key(key), only_if_new=True)
        except Exception as exc:
            if error_code(exc) == "TransactionCanceledException":
                return False
            raise
        return True

    def _write(self, record: ApiKey, digest: str, *, only_if_new: bool) -> None:
        item = {
            "PK": f"APIKEY#{digest}",
            "SK": "APIKEY",
            "type": "api_key",
            "id": record.id,
            "user_id": record.user_id,
            "name": record.name,
            "masked": record.masked,
            "created_at": record.created_at,
            "is_active": True,
            "total_uses": 0,
        }
        index = {"PK": f"USER#{record.user_id}", "SK": f"APIKEY#{record.id}", "type": "api_key_ref",
                 "digest": digest}
        key_put: dict[str, Any] = {"Item": item}
        if only_if_new:
            key_put["ConditionExpression"] = "attribute_not_exists(PK)"
        self.table.transact([{"Put": key_put}, {"Put": {"Item": index}}])

    def find_by_key(self, key: str) -> ApiKey | None:
        item = self.table.get(f"APIKEY#{hash_api_key(key)}", "APIKEY")
        return ApiKey.from_item(item) if item else None

    def record_use(self, key: str) -> None:
        """Count one use of a key and stamp its time (Langflow's total_uses and last_used_at): one atomic
        UpdateItem, so concurrent requests never lose a count. A key deleted meanwhile is not recreated."""
        self.table.update({"PK": f"APIKEY#{hash_api_key(key)}", "SK": "APIKEY"},
                          "ADD total_uses :one SET last_used_at = :now", condition="attribute_exists(PK)",
                          values={":one": 1, ":now": now_iso()})

    def list_for(self, user_id: str) -> list[ApiKey]:
        keys = []
        for ref in self.table.query_prefix(f"USER#{user_id}", "APIKEY#"):
            item = self.table.get(f"APIKEY#{ref['digest']}", "APIKEY")
            if item:
                keys.append(ApiKey.from_item(item))
        return sorted(keys, key=lambda k: k.created_at)

    def delete(self, *, user_id: str, key_id: str) -> None:
        """Delete one of the user's keys; another user's key is NotFoundError."""
        ref = self.table.get(f"USER#{user_id}", f"APIKEY#{key_id}")
        if ref is None:
            raise NotFoundError("API Key not found")
        self.table.transact(
            [
                {"Delete": {"Key": {"PK": f"APIKEY#{ref['digest']}", "SK": "APIKEY"}}},
                {"Delete": {"Key": {"PK": f"USER#{user_id}", "SK": f"APIKEY#{key_id}"}}},
            ]
        )
