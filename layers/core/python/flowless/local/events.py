"""API Gateway REST (payload 1.0) proxy events, as `sam local start-api` and API Gateway build them."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["call_handler", "lambda_context", "load_function", "rest_proxy_event"]


def rest_proxy_event(
    method: str,
    path: str,
    *,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
    query: str | dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | str | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """A REST proxy event. Bodies are base64-encoded, as the deployed API (binary media type */*) sends them."""
    pairs: list[tuple[str, str]]
    if isinstance(query, str):
        pairs = parse_qsl(query, keep_blank_values=True)
    else:
        pairs = []
        for key, value in (query or {}).items():
            for item in value if isinstance(value, list) else [value]:
                pairs.append((key, str(item)))
    multi_query: dict[str, list[str]] = {}
    for key, value in pairs:
        multi_query.setdefault(key, []).append(value)
    header_map = dict(headers or {})
    raw = body.encode() if isinstance(body, str) else body
    request_id = str(uuid.uuid4())
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method.upper(),
        "headers": header_map,
        "multiValueHeaders": {k: [v] for k, v in header_map.items()},
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource or path,
            "httpMethod": method.upper(),
            "path": f"/Prod{path}",
            "stage": "Prod",
            "requestId": request_id,
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": source_ip, "userAgent": header_map.get("user-agent", "")},
            "accountId": "123456789012",
            "apiId": "local",
            "protocol": "HTTP/1.1",
        },
        "body": base64.b64encode(raw).decode() if raw else None,
        "isBase64Encoded": bool(raw),
    }


class _Context:
    """The part of Lambda's context object the handlers read."""

    def __init__(self, function_name: str, timeout_s: int = 29) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 1024
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


def lambda_context(function_name: str, timeout_s: int = 29) -> Any:
    return _Context(function_name, timeout_s)


def call_handler(handler: Callable[..., dict[str, Any]], event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Invoke a Mangum handler as one Lambda invocation, on an event loop of its own.

    Mangum runs the ASGI app on the calling thread's loop. Here each call gets a fresh loop, closed after it,
    so no loop outlives its caller and leaks its sockets (a worker thread has no loop at all).
    """
    import asyncio

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return handler(event, context)
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def load_function(path: Path, module_name: str) -> Any:
    """Import functions/<name>/app.py under `module_name`, as its Lambda runtime would import `app`.

    Mangum's constructor gives the importing thread an event loop; `call_handler` brings its own, so that
    one is closed here rather than left to leak.
    """
    import asyncio
    import importlib.util
    import sys
    import warnings

    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            leftover = asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:
            leftover = None
    if leftover is not None and not leftover.is_running():
        leftover.close()
        asyncio.set_event_loop(None)
    return module
