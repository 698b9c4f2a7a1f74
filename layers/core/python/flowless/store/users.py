"""Users: profiles, unique usernames, password hashes, and the superuser the deployment starts with."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from flowless.clock import new_id, now_iso
from flowless.errors import DuplicateError, NotFoundError
from flowless.store._dynamo import Table, cancellation_codes, error_code

__all__ = ["User", "UserRepository", "hash_password", "verify_password"]

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    """A salted scrypt hash of a password, as "scrypt$salt$hash" (hex)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches a hash made by `hash_password` (constant-time compare)."""
    try:
        _, salt, digest = stored.split("$")
    except ValueError:
        return False
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), **_SCRYPT)
    return hmac.compare_digest(candidate.hex(), digest)


@dataclass
class User:
    id: str
    username: str
    is_superuser: bool = False
    is_active: bool = True
    password_hash: str = ""
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    last_login_at: str | None = None

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> User:
        return cls(
            id=item["id"],
            username=item["username"],
            is_superuser=bool(item.get("is_superuser", False)),
            is_active=bool(item.get("is_active", True)),
            password_hash=item.get("password_hash", ""),
            created_at=item["created_at"],
            updated_at=item.get("updated_at", item["created_at"]),
            last_login_at=item.get("last_login_at"),
        )


class UserRepository:
    """Users by id and by username."""

    def __init__(self, table: Table | None = None) -> None:
        self.table = table or Table()

    def create(self, *, username: str, password: str | None, is_superuser: bool = False) -> User:
        """Create a user; a taken username raises DuplicateError."""
        user = User(
            id=new_id(),
            username=username,
            is_superuser=is_superuser,
            password_hash=hash_password(password) if password else "",
        )
        item = {
            "PK": f"USER#{user.id}",
            "SK": "PROFILE",
            "GSI1PK": "USERS",
            "GSI1SK": f"{user.created_at}#{user.id}",
            "type": "user",
            "id": user.id,
            "username": user.username,
            "is_superuser": user.is_superuser,
            "is_active": user.is_active,
            "password_hash": user.password_hash,
            "created_at": user.created_at,
            "updated_at": user.updated_at,
        }
        claim = {"PK": f"USERNAME#{username}", "SK": "USERNAME", "user_id": user.id}
        try:
            self.table.transact(
                [
                    {"Put": {"Item": claim, "ConditionExpression": "attribute_not_exists(PK)"}},
                    {"Put": {"Item": item, "ConditionExpression": "attribute_not_exists(PK)"}},
                ]
            )
        except Exception as exc:
            if error_code(exc) == "TransactionCanceledException" and "ConditionalCheckFailed" in (
                cancellation_codes(exc)[:1]
            ):
                raise DuplicateError("This username is unavailable.") from exc
            raise
        return user

    def get(self, user_id: str) -> User:
        item = self.table.get(f"USER#{user_id}", "PROFILE")
        if item is None:
            raise NotFoundError("User not found")
        return User.from_item(item)

    def find_by_username(self, username: str) -> User | None:
        claim = self.table.get(f"USERNAME#{username}", "USERNAME")
        if claim is None:
            return None
        item = self.table.get(f"USER#{claim['user_id']}", "PROFILE")
        return User.from_item(item) if item else None

    def ensure_superuser(self, username: str) -> User:
        """The superuser named `username`, created on first use (two racing containers agree)."""
        found = self.find_by_username(username)
        if found is not None:
            return found
        try:
            return self.create(username=username, password=None, is_superuser=True)
        except DuplicateError:
            found = self.find_by_username(username)
            if found is None:  # pragma: no cover - the claim exists but its profile was deleted
                raise
            return found

    def list(self) -> list[User]:
        return [User.from_item(item) for item in self.table.query_index("USERS")]
