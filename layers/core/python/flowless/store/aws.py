"""Lazily created boto3 clients, one per container and service.

boto3 honours AWS_ENDPOINT_URL, which is how `flowless dev` and the tests point every client at moto.
Clients are made on first use, never at import, so importing a function's module stays cheap.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["BucketAccess", "client", "reset_clients"]

_clients: dict[str, Any] = {}
_lock = threading.Lock()


def client(service: str) -> Any:
    """The shared boto3 client for `service` ("dynamodb", "s3", "sqs", ...)."""
    found = _clients.get(service)
    if found is not None:
        return found
    with _lock:
        if service not in _clients:
            import boto3

            _clients[service] = boto3.session.Session().client(service)
        return _clients[service]


def reset_clients() -> None:
    """Forget every client, so the next use builds one from the current environment (tests)."""
    with _lock:
        _clients.clear()


class BucketAccess:
    """The files bucket and an S3 client made on first use, for repositories that keep objects."""

    def __init__(self, s3: Any = None, bucket: str | None = None) -> None:
        self._s3 = s3
        self._bucket = bucket

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            self._s3 = client("s3")
        return self._s3

    @property
    def bucket(self) -> str:
        if self._bucket is None:
            from flowless.settings import get_settings

            self._bucket = get_settings().bucket_name
        return self._bucket
