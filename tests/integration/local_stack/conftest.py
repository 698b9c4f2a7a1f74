"""The local stack of `flowless dev`, started once per module: moto server, resources, gateway on uvicorn."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[3]


class DevStack:
    def __init__(self, stack: Any, server: Any, base_url: str) -> None:
        self.stack = stack
        self.server = server
        self.base_url = base_url


@pytest.fixture(scope="module")
def dev_stack() -> Iterator[DevStack]:
    from flowless.local.stack import LocalStack, free_port, serve_in_thread

    saved = dict(os.environ)
    # Start from the same clean environment the per-test fixture gives (no real credentials, no endpoints).
    for key in list(os.environ):
        if key.startswith(("FLOWLESS_", "AWS_", "OPENAI_")):
            del os.environ[key]
    stack = LocalStack(ROOT / "template.yaml", auto_login=False)
    stack.start_aws()
    port = free_port()
    server, thread = serve_in_thread(stack.gateway(), "127.0.0.1", port)
    try:
        yield DevStack(stack, server, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        stack.stop_aws()
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def http(dev_stack: DevStack) -> Iterator[httpx.Client]:
    """An HTTP client for the gateway, with the stack's environment applied for this test."""
    from flowless.http.auth import forget_cached_keys
    from flowless.settings import get_settings
    from flowless.store.aws import reset_clients

    os.environ.update(dev_stack.stack.environment)
    get_settings.cache_clear()
    reset_clients()
    forget_cached_keys()
    with httpx.Client(base_url=dev_stack.base_url, timeout=30) as client:
        yield client


@pytest.fixture
def workers(dev_stack: DevStack, http: httpx.Client) -> Iterator[None]:
    """The stack's event workers (run queue, dead letters, bucket events) for one test."""
    dev_stack.stack.start_workers()
    yield
    dev_stack.stack.stop_workers()


@pytest.fixture
def owner(http: httpx.Client) -> dict[str, str]:
    """Headers carrying the API key of a new user."""
    import uuid

    from flowless.store.api_keys import ApiKeyRepository
    from flowless.store.users import UserRepository

    user = UserRepository().create(username=f"user-{uuid.uuid4().hex[:6]}", password=None)
    _, key = ApiKeyRepository().create(user_id=user.id, name="local stack")
    return {"x-api-key": key}
