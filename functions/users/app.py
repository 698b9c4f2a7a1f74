"""Users and API keys: /api/v1/users and /api/v1/api_key."""

from __future__ import annotations

from uuid import UUID

from mangum import Mangum

from flowless.http.app import create_app
from flowless.http.auth import CallerDep, SuperuserDep
from flowless.http.beside import settle_writes_beside
from flowless.http.routing import Router
from flowless.langflow import accounts
from flowless.wire.langflow import ApiKeyCreate, ApiKeysResponse, UnmaskedApiKeyRead, UserCreate, UserRead

users = Router(prefix="/api/v1/users", tags=["Users"])
api_keys = Router(prefix="/api/v1/api_key", tags=["APIKey"])


@users.post("/", status_code=201, response_model=UserRead)
def create_user(caller: SuperuserDep, body: UserCreate) -> UserRead:
    """Create a user (superusers only)."""
    return accounts.create_user(body)


@users.get("/whoami", response_model=UserRead)
def whoami(caller: CallerDep) -> UserRead:
    """The user the request acts as."""
    return accounts.read_user(caller.user_id)


@api_keys.get("/", response_model=ApiKeysResponse)
def list_api_keys(caller: CallerDep) -> ApiKeysResponse:
    """The caller's API keys, masked; the counts include this request's use of its key."""
    settle_writes_beside()
    return accounts.list_api_keys(caller.user_id)


@api_keys.post("/", response_model=UnmaskedApiKeyRead)
def create_api_key(caller: CallerDep, body: ApiKeyCreate) -> UnmaskedApiKeyRead:
    """Create an API key; the key is shown only in this answer."""
    return accounts.create_api_key(caller, body)


@api_keys.delete("/{api_key_id}")
def delete_api_key(caller: CallerDep, api_key_id: UUID) -> dict[str, str]:
    """Delete one of the caller's API keys."""
    accounts.delete_api_key(caller.user_id, str(api_key_id))
    return {"detail": "API Key deleted"}


app = create_app(title="users", routers=[users, api_keys])
handler = Mangum(app, lifespan="off")
