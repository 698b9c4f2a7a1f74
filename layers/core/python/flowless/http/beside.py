"""Writes a request starts but need not wait for (counting an API key's use): they run on a worker thread
beside the request, and the app finishes them before the function returns, since a Lambda container is frozen
between invocations and a write left in flight would stall or be lost."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import ContextVar
from typing import Any

__all__ = ["FinishWritesBeside", "run_beside", "settle_writes_beside"]

logger = logging.getLogger("flowless")

_pending: ContextVar[list[Future[Any]] | None] = ContextVar("flowless_writes_beside", default=None)
_pool: ThreadPoolExecutor | None = None


def run_beside(write: Callable[..., Any], *args: Any) -> None:
    """Start `write(*args)` beside the current request; outside a request (CLI, tests) run it now."""
    global _pool
    pending = _pending.get()
    if pending is None:
        write(*args)
        return
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="flowless-beside")
    pending.append(_pool.submit(write, *args))


def settle_writes_beside() -> None:
    """Wait for the writes this request started so far, for a route that reads what they write (the API key
    list shows the use of the key listing it, as in Langflow). Failures are logged when the request ends."""
    for future in list(_pending.get() or []):
        with contextlib.suppress(Exception):
            future.result()


class FinishWritesBeside:
    """ASGI middleware: gives each request its list of writes, and waits for them once the app is done."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        pending: list[Future[Any]] = []
        token = _pending.set(pending)
        try:
            await self.app(scope, receive, send)
        finally:
            _pending.reset(token)
            for future in pending:
                try:
                    await asyncio.wrap_future(future)
                except Exception as exc:  # a usage count is not worth failing a request
                    logger.warning("write beside the request failed: %s", type(exc).__name__)
