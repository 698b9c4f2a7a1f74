"""A small local web site for the URL and API Request components: pages with links, JSON, errors and a
redirect to the cloud metadata address. It listens on 127.0.0.1 only; no test reaches the internet."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

PAGES = {
    "/index.html": """<!doctype html><html lang="en"><head><title> Home page </title>
<meta name="description" content="The home of the test site">
<style>body { color: red }</style><script>var hidden = "script text";</script></head>
<body><h1>Welcome</h1><p>First   paragraph
with a line break.</p><noscript>no script text</noscript>
<a href="/about.html">About</a> <a href="blog/post.html#top">Post</a> <a href="mailto:a@b.c">Mail</a>
<a href="{other}/elsewhere.html">Elsewhere</a> <a href="/logo.png">Logo</a></body></html>""",
    "/about.html": """<html><head><title>About</title></head><body><p>About us.</p>
<a href="/deep.html">Deeper</a> <a href="/index.html">Home</a></body></html>""",
    "/blog/post.html": "<html><head><title>Post</title></head><body><p>A blog post.</p></body></html>",
    "/deep.html": "<html><head><title>Deep</title></head><body><p>Three clicks away.</p></body></html>",
    "/elsewhere.html": "<html><head><title>Elsewhere</title></head><body><p>Elsewhere.</p></body></html>",
}


class _Handler(BaseHTTPRequestHandler):
    server: _Site

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, content_type: str,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _answer(self, method: str) -> None:
        parts = urlsplit(self.path)
        self.server.seen.append({"method": method, "path": parts.path,
                                 "user_agent": self.headers.get("User-Agent")})
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if parts.path in PAGES:
            html = PAGES[parts.path].replace("{other}", self.server.other_origin)
            self._send(200, html.encode(), "text/html; charset=utf-8", {"Content-Language": "en"})
        elif parts.path == "/data.json":
            self._send(200, json.dumps({"hello": "world", "n": 1}).encode(), "application/json")
        elif parts.path == "/list.json":
            self._send(200, b"[1, 2, 3]", "application/json")
        elif parts.path == "/plain.txt":
            self._send(200, b"just text", "text/plain; charset=utf-8")
        elif parts.path == "/logo.png":
            self._send(200, b"\x89PNG\r\n\x1a\n", "image/png")
        elif parts.path == "/missing":
            self._send(404, json.dumps({"detail": "Not found"}).encode(), "application/json")
        elif parts.path == "/to-metadata":
            self._send(302, b"", "text/plain", {"Location": "http://169.254.169.254/latest/meta-data"})
        elif parts.path == "/to-data":
            self._send(302, b"", "text/plain", {"Location": "/data.json"})
        elif parts.path == "/echo":
            echoed = {"method": method, "query": parse_qs(parts.query), "body": body.decode(),
                      "content_type": self.headers.get("Content-Type"),
                      "x_token": self.headers.get("X-Token")}
            self._send(200, json.dumps(echoed).encode(), "application/json", {"X-Echo": "yes"})
        else:
            self._send(404, b"no such page", "text/plain")

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def do_PUT(self) -> None:
        self._answer("PUT")

    def do_DELETE(self) -> None:
        self._answer("DELETE")


class _Site(ThreadingHTTPServer):
    daemon_threads = True
    seen: list[dict[str, Any]]
    other_origin: str


class Site:
    """The running site: `url("/index.html")`, and the requests it has seen."""

    def __init__(self, server: _Site) -> None:
        self._server = server
        self.port = server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    @property
    def seen(self) -> list[dict[str, Any]]:
        return self._server.seen


@pytest.fixture(scope="session")
def _server() -> Iterator[_Site]:
    server = _Site(("127.0.0.1", 0), _Handler)
    # The same server under another host name: a different origin for the crawler.
    server.other_origin = f"http://localhost:{server.server_address[1]}"
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def site(_server: _Site) -> Site:
    _server.seen.clear()
    return Site(_server)
