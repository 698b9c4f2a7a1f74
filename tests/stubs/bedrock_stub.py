"""A stand-in for Bedrock's ConverseStream (POST /model/{modelId}/converse-stream).

It answers in AWS's binary event-stream framing (application/vnd.amazon.eventstream), so a real
botocore client pointed at it (endpoint_url=stub.url) parses the wire protocol as it would Bedrock's:

    message  = prelude, headers, payload, message CRC
    prelude  = total length (uint32), headers length (uint32), prelude CRC (CRC32 of those 8 bytes)
    header   = name length (uint8), name, value type (uint8; 7 = string), value length (uint16), value
    all integers big-endian; the message CRC covers everything before it.

    with BedrockStreamStub() as stub:
        stub.enqueue(converse_stream_events(["Hel", "lo"]))
        client = boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=stub.url)
"""

from __future__ import annotations

import json
import struct
import threading
import zlib
from collections import deque
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.stubs.server import RecordedRequest, StubServer, send_chunked, send_json

__all__ = [
    "BedrockStreamStub",
    "converse_stream_events",
    "encode_event",
    "encode_exception",
    "encode_message",
]

_STRING = 7


def _header(name: str, value: str) -> bytes:
    name_bytes, value_bytes = name.encode(), value.encode()
    value_prefix = struct.pack(">BH", _STRING, len(value_bytes))
    return struct.pack(">B", len(name_bytes)) + name_bytes + value_prefix + value_bytes


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    header_bytes = b"".join(_header(name, value) for name, value in headers.items())
    total = 12 + len(header_bytes) + len(payload) + 4
    prelude = struct.pack(">II", total, len(header_bytes))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + header_bytes + payload
    return message + struct.pack(">I", zlib.crc32(message))


def encode_event(event_type: str, payload: dict[str, Any]) -> bytes:
    headers = {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"}
    return encode_message(headers, json.dumps(payload).encode())


def encode_exception(exception_type: str, message: str) -> bytes:
    """An error inside the stream, as Bedrock sends throttling or model errors after the 200."""
    headers = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return encode_message(headers, json.dumps({"message": message}).encode())


def converse_stream_events(texts: list[str], *, stop_reason: str = "end_turn") -> list[bytes]:
    """The events of one answer: messageStart, a delta per text, block and message stop, metadata."""
    events = [encode_event("messageStart", {"role": "assistant"})]
    events += [
        encode_event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": text}}) for text in texts
    ]
    events += [
        encode_event("contentBlockStop", {"contentBlockIndex": 0}),
        encode_event("messageStop", {"stopReason": stop_reason}),
        encode_event(
            "metadata",
            {
                "usage": {"inputTokens": 3, "outputTokens": len(texts), "totalTokens": 3 + len(texts)},
                "metrics": {"latencyMs": 5},
            },
        ),
    ]
    return events


class BedrockStreamStub(StubServer):
    """Each request takes the next scripted list of encoded events (default: the answer "Hello")."""

    def __init__(self) -> None:
        super().__init__()
        self._scripts: deque[list[bytes]] = deque()
        self._lock = threading.Lock()

    def enqueue(self, *scripts: list[bytes]) -> None:
        with self._lock:
            self._scripts.extend(scripts)

    def respond(self, request: RecordedRequest, http: BaseHTTPRequestHandler) -> None:
        if not request.path.endswith("/converse-stream"):
            headers = {"x-amzn-ErrorType": "UnknownOperationException"}
            send_json(http, 404, {"message": f"no route for {request.path}"}, headers)
            return
        with self._lock:
            events = self._scripts.popleft() if self._scripts else converse_stream_events(["Hel", "lo"])
        send_chunked(http, 200, events, {"Content-Type": "application/vnd.amazon.eventstream"})
