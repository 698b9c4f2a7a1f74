"""An ASGI stand-in for API Gateway: template.yaml's Api events routed to the real function handlers.

Buffered routes get what API Gateway gives a Lambda proxy integration: a REST proxy event, handled by the
function's Mangum `handler` in a worker thread (Mangum runs its own event loop), and the returned dict turned
back into an HTTP response. Routes marked `ResponseTransferMode: RESPONSE_STREAM` are served by the function's
ASGI `app` directly, as Lambda Web Adapter runs it. Unknown routes and oversized bodies are answered the way the
deployed API's gateway responses answer them.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowless.local.events import call_handler, lambda_context, load_function, rest_proxy_event
from flowless.local.template import ApiRoute, Template

__all__ = ["API_GATEWAY_MAX_BODY", "Gateway"]

# API Gateway refuses payloads over 10 MB before any function sees them.
API_GATEWAY_MAX_BODY = 10 * 1024 * 1024

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class _CompiledRoute:
    route: ApiRoute
    pattern: re.Pattern[str]
    function_name: str  # the functions/<name>/ directory


def _compile(path: str) -> re.Pattern[str]:
    """API Gateway path template -> regex: {name} is one segment, {name+} the rest of the path."""
    parts = []
    for piece in re.split(r"(\{[^}]+\})", path.rstrip("/") or "/"):
        if piece.startswith("{") and piece.endswith("+}"):
            parts.append(f"(?P<{piece[1:-2]}>.+)")
        elif piece.startswith("{"):
            parts.append(f"(?P<{piece[1:-1]}>[^/]+)")
        else:
            parts.append(re.escape(piece))
    return re.compile("^" + "".join(parts) + "$")


def _specificity(route: ApiRoute) -> tuple[int, int]:
    """API Gateway prefers literal segments over parameters: sort routes with fewer parameters first."""
    return (route.path.count("{"), -len(route.path))


class Gateway:
    """The local API: match method and path against template.yaml, invoke the owning function."""

    def __init__(self, template: Template) -> None:
        self.template = template
        self._routes = [
            _CompiledRoute(route, _compile(route.path), Path(route.code_uri.rstrip("/")).name)
            for route in sorted(template.api_routes(), key=_specificity)
        ]
        self._modules: dict[str, Any] = {}
        self._lock = threading.Lock()

    # ---- functions ---------------------------------------------------------------------------------
    def function_module(self, name: str) -> Any:
        """functions/<name>/app.py, imported once, under a name of its own (every function has an app.py)."""
        with self._lock:
            if name not in self._modules:
                path = self.template.root / "functions" / name / "app.py"
                self._modules[name] = load_function(path, f"flowless_function_{name}")
            return self._modules[name]

    def function_names(self) -> list[str]:
        return sorted({r.function_name for r in self._routes})

    def match(self, method: str, path: str) -> tuple[_CompiledRoute, dict[str, str]] | None:
        # API Gateway treats /x and /x/ as the same resource.
        wanted = path.rstrip("/") or "/"
        for compiled in self._routes:
            if compiled.route.method not in (method, "ANY"):
                continue
            found = compiled.pattern.match(wanted)
            if found:
                return compiled, found.groupdict()
        return None

    # ---- ASGI --------------------------------------------------------------------------------------
    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        if method == "GET" and path in ("/docs", "/docs/"):
            await _reply(send, 200, _DOCS_PAGE.encode(), "text/html; charset=utf-8")
            return
        if method == "GET" and path == "/openapi.json":
            await _reply(send, 200, json.dumps(self.openapi()).encode(), "application/json")
            return
        matched = self.match(method, path)
        if matched is None:
            await _reply(send, 404, b'{"detail": "Not Found"}', "application/json")
            return
        compiled, params = matched
        if compiled.route.streaming:
            module = self.function_module(compiled.function_name)
            await module.app(_with_request_context(scope, compiled, params), receive, send)
            return
        body = await _read_body(receive, API_GATEWAY_MAX_BODY)
        if body is None:
            await _reply(send, 413, json.dumps(
                {"detail": "Content size limit exceeded. Maximum allowed is 10MB."}).encode(), "application/json")
            return
        await self._invoke_buffered(compiled, params, scope, body, send)

    async def _invoke_buffered(self, compiled: _CompiledRoute, params: dict[str, str], scope: dict[str, Any],
                               body: bytes, send: Send) -> None:
        import anyio.to_thread

        headers: dict[str, str] = {}
        for key, value in scope.get("headers") or []:
            name = key.decode("latin-1")
            # API Gateway joins repeated headers into multiValueHeaders; the last one wins in `headers`.
            headers[name] = value.decode("latin-1")
        client = scope.get("client") or ("127.0.0.1", 0)
        event = rest_proxy_event(
            scope["method"], scope["path"], resource=compiled.route.path, path_parameters=params or None,
            query=scope.get("query_string", b"").decode("latin-1"), headers=headers, body=body or None,
            source_ip=client[0],
        )
        module = self.function_module(compiled.function_name)
        context = lambda_context(compiled.route.function)
        result = await anyio.to_thread.run_sync(call_handler, module.handler, event, context)
        await _send_proxy_result(send, result)

    # ---- docs --------------------------------------------------------------------------------------
    def openapi(self) -> dict[str, Any]:
        """One OpenAPI document: every function's app schema, merged."""
        merged: dict[str, Any] = {"openapi": "3.1.0", "info": {"title": "Flowless", "version": "local"},
                                  "paths": {}, "components": {"schemas": {}}}
        for name in self.function_names():
            doc = self.function_module(name).app.openapi()
            for path, ops in doc.get("paths", {}).items():
                merged["paths"].setdefault(path, {}).update(ops)
            merged["components"]["schemas"].update(doc.get("components", {}).get("schemas", {}))
        return merged


def _with_request_context(scope: dict[str, Any], compiled: _CompiledRoute, params: dict[str, str]) -> dict[str, Any]:
    """The request as Lambda Web Adapter hands it to the app: API Gateway's request context (identity, ids,
    path parameters) in the `x-amzn-request-context` JSON header."""
    client = scope.get("client") or ("127.0.0.1", 0)
    event = rest_proxy_event(scope["method"], scope["path"], resource=compiled.route.path,
                             path_parameters=params or None, source_ip=client[0])
    headers = [(k, v) for k, v in scope.get("headers") or [] if k.lower() != b"x-amzn-request-context"]
    headers.append((b"x-amzn-request-context", json.dumps(event["requestContext"]).encode()))
    return {**scope, "headers": headers}


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None as soon as it passes `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _reply(send: Send, status: int, body: bytes, content_type: str) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _send_proxy_result(send: Send, result: dict[str, Any]) -> None:
    """A Lambda proxy integration result -> HTTP response, as API Gateway maps it."""
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
    pairs: list[tuple[bytes, bytes]] = []
    multi = result.get("multiValueHeaders") or {}
    for key, values in multi.items():
        pairs.extend((key.lower().encode(), str(v).encode()) for v in values)
    for key, value in (result.get("headers") or {}).items():
        if key not in multi:
            pairs.append((key.lower().encode(), str(value).encode()))
    pairs = [p for p in pairs if p[0] != b"content-length"] + [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": int(result.get("statusCode", 502)), "headers": pairs})
    await send({"type": "http.response.body", "body": body})


# Swagger UI from its CDN, reading the merged schema above.
_DOCS_PAGE = """<!doctype html>
<html><head><title>Flowless API</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui"});</script>
</body></html>
"""
