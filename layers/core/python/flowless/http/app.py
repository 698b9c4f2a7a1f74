"""The app factory every function uses: one FastAPI app holding only that function's routers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi import APIRouter, FastAPI

from flowless.http.beside import FinishWritesBeside
from flowless.http.errors import install_error_handlers

__all__ = ["create_app"]

VERSION = "1.6.4"

Scope = dict[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[dict[str, Any]]], Callable[[dict[str, Any]], Awaitable[None]]],
                   Awaitable[None]]


class BodyLimit:
    """Answer 413 in Langflow's words when a request body is over FLOWLESS_MAX_FILE_SIZE_UPLOAD MB."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from flowless.settings import get_settings

        limit_mb = get_settings().max_file_size_upload
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit_mb * 1024 * 1024:
            from flowless.langflow.limits import size_limit_message

            await _send_json(send, 413, {"detail": size_limit_message(limit_mb=limit_mb, got_bytes=int(length))})
            return
        await self.app(scope, receive, send)


async def _send_json(send: Any, status: int, body: dict[str, Any]) -> None:
    import json

    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


def create_app(*, title: str, routers: Iterable[APIRouter]) -> FastAPI:
    """A FastAPI app for one function: its routers, both error shapes, no docs of its own.

    Example:
        app = create_app(title="flows", routers=[router])
        handler = Mangum(app, lifespan="off")
    """
    app = FastAPI(title=f"Flowless {title}", version=VERSION, redirect_slashes=False,
                  docs_url=None, redoc_url=None, openapi_url=None)
    for router in routers:
        app.include_router(router)
    install_error_handlers(app)
    app.add_middleware(BodyLimit)
    # Outermost: writes started beside a request (key usage counts) are finished before the function returns.
    app.add_middleware(FinishWritesBeside)
    return app
