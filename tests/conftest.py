"""Shared fixtures: a clean environment per test, moto resources made from template.yaml, and factories
for API Gateway events and handler calls."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import load_function

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures"

_BASE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "FLOWLESS_API_KEY_CACHE_SECONDS": "0",
}


def _reset_process_state() -> None:
    from flowless.http.auth import forget_cached_keys
    from flowless.settings import get_settings
    from flowless.store.aws import reset_clients

    get_settings.cache_clear()
    reset_clients()
    forget_cached_keys()


@pytest.fixture(autouse=True)
def clean_environ() -> Iterator[None]:
    """Every test starts from the same environment, and leaves it as it found it."""
    saved = dict(os.environ)
    for key in list(os.environ):
        if key.startswith(("FLOWLESS_", "AWS_", "OPENAI_")):
            del os.environ[key]
    os.environ.update(_BASE_ENV)
    _reset_process_state()
    yield
    os.environ.clear()
    os.environ.update(saved)
    _reset_process_state()


@pytest.fixture
def template() -> Any:
    from flowless.local.template import load_template

    return load_template(ROOT / "template.yaml")


@pytest.fixture
def aws(template: Any) -> Iterator[dict[str, str]]:
    """moto in-process, with the template's table, bucket and queues; yields their FLOWLESS_* names."""
    from moto import mock_aws

    from flowless.local.resources import create_resources

    with mock_aws():
        env = create_resources(template, prefix=f"t{uuid.uuid4().hex[:8]}")
        os.environ.update(env)
        _reset_process_state()
        yield env


class Reply:
    """A handler's API Gateway response, decoded."""

    def __init__(self, raw: dict[str, Any]) -> None:
        import base64

        self.raw = raw
        self.status_code: int = raw["statusCode"]
        self.headers = {k.lower(): v for k, v in (raw.get("headers") or {}).items()}
        body = raw.get("body") or ""
        self.content: bytes = base64.b64decode(body) if raw.get("isBase64Encoded") else body.encode()

    def json(self) -> Any:
        return json.loads(self.content)


@pytest.fixture
def api_event() -> Callable[..., dict[str, Any]]:
    """Factory: api_event("GET", "/api/v1/flows/", json=..., headers=..., query=...)."""
    from flowless.local.events import rest_proxy_event

    def make(method: str, path: str, *, json_body: Any = None, body: bytes | str | None = None,
             headers: dict[str, str] | None = None, query: Any = None) -> dict[str, Any]:
        hdrs = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body)
            hdrs.setdefault("content-type", "application/json")
        return rest_proxy_event(method, path, headers=hdrs, body=body, query=query)

    return make


@pytest.fixture
def invoke(aws: dict[str, str]) -> Callable[[str, dict[str, Any]], Reply]:
    """Call functions/<name>/app.py's handler with an event, as Lambda would."""
    from flowless.local.events import call_handler, lambda_context

    def call(name: str, event: dict[str, Any]) -> Reply:
        module = load_function(name)
        return Reply(call_handler(module.handler, event, lambda_context(name)))

    return call


@pytest.fixture
def load_event() -> Callable[[str], dict[str, Any]]:
    """A sample event from events/ by name (without .json)."""

    def load(name: str) -> dict[str, Any]:
        return json.loads((ROOT / "events" / f"{name}.json").read_text())

    return load


class Account:
    """A user and one of their API keys, for tests that act as that user."""

    def __init__(self, user_id: str, username: str, key: str) -> None:
        self.user_id = user_id
        self.username = username
        self.key = key

    @property
    def headers(self) -> dict[str, str]:
        return {"x-api-key": self.key}


@pytest.fixture
def make_account(aws: dict[str, str]) -> Callable[..., Account]:
    """Factory: a new user (unique name) with a fresh API key."""
    from flowless.store.api_keys import ApiKeyRepository
    from flowless.store.users import UserRepository

    def make(*, superuser: bool = False, username: str | None = None) -> Account:
        name = username or f"user-{uuid.uuid4().hex[:8]}"
        user = UserRepository().create(username=name, password="secret-pass", is_superuser=superuser)
        _, key = ApiKeyRepository().create(user_id=user.id, name="test")
        return Account(user.id, name, key)

    return make


@pytest.fixture
def fixture_flow() -> Callable[[str], dict[str, Any]]:
    """A Langflow export from the shared fixtures, by file name without .json."""

    def load(name: str) -> dict[str, Any]:
        matches = list(FIXTURES.glob(f"langflow/**/{name}.json"))
        assert matches, f"no fixture named {name}"
        return json.loads(matches[0].read_text())

    return load


class HandlerClient:
    """Calls a function's Lambda handler with API Gateway events, like a tiny HTTP client."""

    def __init__(self, invoke: Callable[[str, dict[str, Any]], Reply], api_event: Callable[..., dict[str, Any]]):
        self._invoke = invoke
        self._event = api_event

    def request(self, function: str, method: str, path: str, *, account: Account | None = None,
                json: Any = None, body: bytes | str | None = None, headers: dict[str, str] | None = None,
                query: Any = None) -> Reply:
        hdrs = {**(account.headers if account else {}), **(headers or {})}
        return self._invoke(function, self._event(method, path, json_body=json, body=body, headers=hdrs, query=query))

    def get(self, function: str, path: str, **kw: Any) -> Reply:
        return self.request(function, "GET", path, **kw)

    def post(self, function: str, path: str, **kw: Any) -> Reply:
        return self.request(function, "POST", path, **kw)

    def patch(self, function: str, path: str, **kw: Any) -> Reply:
        return self.request(function, "PATCH", path, **kw)

    def delete(self, function: str, path: str, **kw: Any) -> Reply:
        return self.request(function, "DELETE", path, **kw)


@pytest.fixture
def api(invoke: Any, api_event: Any) -> HandlerClient:
    return HandlerClient(invoke, api_event)


@pytest.fixture
def llm_stub() -> Iterator[Any]:
    """A local OpenAI-compatible server that flows reach through OPENAI_BASE_URL (loopback allowed)."""
    from flowless.settings import get_settings
    from tests.stubs.openai_stub import OpenAIStub

    with OpenAIStub() as stub:
        os.environ["OPENAI_BASE_URL"] = stub.base_url
        os.environ["FLOWLESS_ALLOW_PRIVATE_NETWORK"] = "true"
        get_settings.cache_clear()
        yield stub

