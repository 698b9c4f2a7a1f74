"""Users and API keys as Langflow's /users and /api_key routes expose them."""

from __future__ import annotations

from flowless.errors import ApiKeyNotFoundError, InvalidInputError, NotFoundError, PermissionDeniedError
from flowless.http.auth import Caller, forget_cached_keys
from flowless.store.api_keys import ApiKeyRepository
from flowless.store.users import User, UserRepository
from flowless.wire.langflow import (
    ApiKeyCreate,
    ApiKeyRead,
    ApiKeysResponse,
    UnmaskedApiKeyRead,
    UserCreate,
    UserRead,
)

__all__ = ["create_api_key", "create_user", "delete_api_key", "list_api_keys", "read_user"]


def _user_read(user: User) -> UserRead:
    return UserRead(id=user.id, username=user.username, is_active=user.is_active, is_superuser=user.is_superuser,
                    create_at=user.created_at, updated_at=user.updated_at, last_login_at=user.last_login_at)


def create_user(body: UserCreate) -> UserRead:
    """Create a user with a default project, as Langflow does on sign-up."""
    from flowless.settings import get_settings
    from flowless.store.projects import ProjectRepository

    user = UserRepository().create(username=body.username, password=body.password)
    ProjectRepository().ensure_default(user_id=user.id, name=get_settings().default_folder_name)
    return _user_read(user)


def read_user(user_id: str) -> UserRead:
    return _user_read(UserRepository().get(user_id))


def list_api_keys(user_id: str) -> ApiKeysResponse:
    keys = ApiKeyRepository().list_for(user_id)
    return ApiKeysResponse(total_count=len(keys), user_id=user_id, api_keys=[
        ApiKeyRead(name=k.name, last_used_at=k.last_used_at, total_uses=k.total_uses, is_active=k.is_active,
                   id=k.id, api_key=k.masked, user_id=k.user_id, created_at=k.created_at) for k in keys
    ])


def create_api_key(caller: Caller, body: ApiKeyCreate) -> UnmaskedApiKeyRead:
    """A new key for the caller, or, for a superuser naming `user_id`, for that user."""
    owner = caller.user_id
    if body.user_id and body.user_id != caller.user_id:
        if not caller.is_superuser:
            raise PermissionDeniedError("The user doesn't have enough privileges")
        try:
            owner = UserRepository().get(body.user_id).id
        except NotFoundError as exc:
            raise InvalidInputError(f"User {body.user_id} not found") from exc
    record, clear = ApiKeyRepository().create(user_id=owner, name=body.name)
    return UnmaskedApiKeyRead(name=record.name, id=record.id, api_key=clear, user_id=record.user_id)


def delete_api_key(user_id: str, key_id: str) -> None:
    try:
        ApiKeyRepository().delete(user_id=user_id, key_id=key_id)
    except NotFoundError as exc:
        raise ApiKeyNotFoundError("API Key not found") from exc
    forget_cached_keys()
