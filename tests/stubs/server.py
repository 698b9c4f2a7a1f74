"""The part every stub shares: a threaded HTTP server on a free port of 127.0.0.1 that records requests.

A stub subclasses StubServer and implements `respond(request, http)`, writing its answer with the
helpers below. Each response closes its connection, so no handler thread outlives the test.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

__all__ = ["RecordedRequest", "StubServer", "send_body", "send_chunked", "send_json"]


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes = b""

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class _Handled:
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class StubServer:
    """Start with `with Stub() as stub:` (or start()/stop()); `stub.url` is its http://127.0.0.1:port."""

    def __init__(self) -> None:
        self._handled = _Handled()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = RecordedRequest(
                    method=self.command,
                    path=self.path,
                    headers={name.lower(): value for name, value in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                with stub._handled.lock:
                    stub._handled.requests.append(request)
                self.close_connection = True
                stub.respond(request, self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # serve_forever notices shutdown() only between polls; a short poll keeps teardown quick.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first."""
        with self._handled.lock:
            return list(self._handled.requests)

    def respond(self, request: RecordedRequest, http: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def send_body(http: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]) -> None:
    http.send_response(status)
    for name, value in headers.items():
        http.send_header(name, value)
    http.send_header("Content-Length", str(len(body)))
    http.send_header("Connection", "close")
    http.end_headers()
    http.wfile.write(body)


def send_json(
    http: BaseHTTPRequestHandler, status: int, payload: Any, headers: dict[str, str] | None = None
) -> None:
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    send_body(http, status, json.dumps(payload).encode(), all_headers)


def send_chunked(
    http: BaseHTTPRequestHandler, status: int, parts: Iterable[bytes], headers: dict[str, str]
) -> None:
    """A body sent piece by piece (chunked transfer encoding), flushed as it goes, like a live stream."""
    http.send_response(status)
    for name, value in headers.items():
        http.send_header(name, value)
    http.send_header("Transfer-Encoding", "chunked")
    http.send_header("Connection", "close")
    http.end_headers()
    for part in parts:
        if part:
            http.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            http.wfile.flush()
    http.wfile.write(b"0\r\n\r\n")
    http.wfile.flush()
