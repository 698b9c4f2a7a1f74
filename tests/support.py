"""Helpers that test modules import (fixtures live in conftest.py)."""

from __future__ import annotations

import uuid


def multipart(field: str, filename: str, content: bytes, content_type: str = "application/json") -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body with one file, and its content-type header."""
    boundary = uuid.uuid4().hex
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, {"content-type": f"multipart/form-data; boundary={boundary}"}
