"""The one auth dependency: who is calling, from `x-api-key` (query or header) or `Authorization: Bearer`.

Langflow's rules: the query parameter wins over the header; with auto-login on, a keyless request acts
as the superuser, but a key that is sent is always checked, and each use is counted on the key (unless
FLOWLESS_DISABLE_TRACK_APIKEY_USAGE). A resolved key is trusted for a few seconds
by a warm container (FLOWLESS_API_KEY_CACHE_SECONDS) to spare a DynamoDB read per request.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from flowless.errors import InvalidApiKeyError, MissingApiKeyError, PermissionDeniedError
from flowless.http.beside import run_beside

__all__ = [
    "Caller",
    "CallerDep",
    "SuperuserDep",
    "api_key_from",
    "caller_for_key",
    "forget_cached_keys",
    "resolve_caller",
    "superuser_caller",
]


@dataclass(frozen=True)
class Caller:
    """The authenticated user a request acts as."""

    user_id: str
    username: str
    is_superuser: bool


_cache: dict[str, tuple[float, Caller]] = {}
_superuser: Caller | None = None
_bootstrapped = False
_lock = threading.Lock()


def forget_cached_keys() -> None:
    """Drop every cached key and the cached superuser (a key was deleted, or tests)."""
    global _superuser, _bootstrapped
    with _lock:
        _cache.clear()
        _superuser = None
        _bootstrapped = False


def api_key_from(request: Request) -> str | None:
    """The API key a request carries, if any: ?x-api-key=, then x-api-key, then a Bearer token."""
    key = request.query_params.get("x-api-key") or request.headers.get("x-api-key")
    if not key:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            key = token.strip()
    return key or None


def superuser_caller() -> Caller:
    """The configured superuser, created on first use, with the bootstrap key registered."""
    global _superuser, _bootstrapped
    if _superuser is not None and _bootstrapped:
        return _superuser
    from flowless.settings import get_settings
    from flowless.store.api_keys import ApiKeyRepository
    from flowless.store.users import UserRepository

    settings = get_settings()
    user = UserRepository().ensure_superuser(settings.superuser)
    caller = Caller(user_id=user.id, username=user.username, is_superuser=True)
    if settings.bootstrap_api_key is not None:
        ApiKeyRepository().register(user_id=user.id, key=settings.bootstrap_api_key.get_secret_value(),
                                    name="bootstrap")
    with _lock:
        _superuser, _bootstrapped = caller, True
    return caller


def caller_for_key(key: str) -> Caller:
    """The user an API key belongs to (cached briefly); InvalidApiKeyError when it is unknown or inactive."""
    from flowless.settings import get_settings
    from flowless.store.api_keys import ApiKeyRepository, hash_api_key
    from flowless.store.users import UserRepository

    settings = get_settings()
    digest = hash_api_key(key)
    now = time.monotonic()
    cached = _cache.get(digest)
    if cached and cached[0] > now:
        if not settings.disable_track_apikey_usage:
            run_beside(ApiKeyRepository().record_use, key)
        return cached[1]
    record = ApiKeyRepository().find_by_key(key)
    if record is None or not record.is_active:
        raise InvalidApiKeyError("Invalid or missing API key")
    user = UserRepository().get(record.user_id)
    if not user.is_active:
        raise InvalidApiKeyError("Invalid or missing API key")
    caller = Caller(user_id=user.id, username=user.username, is_superuser=user.is_superuser)
    if not settings.disable_track_apikey_usage:
        run_beside(ApiKeyRepository().record_use, key)
    ttl = settings.api_key_cache_seconds
    if ttl > 0:
        with _lock:
            _cache[digest] = (now + ttl, caller)
    return caller


def resolve_caller(request: Request) -> Caller:
    """FastAPI dependency: the caller of this request, or a 403 in Langflow's words."""
    from flowless.settings import get_settings

    settings = get_settings()
    if settings.bootstrap_api_key is not None and not _bootstrapped:
        superuser_caller()  # registers the bootstrap key before it is first looked up
    key = api_key_from(request)
    if key is not None:
        return caller_for_key(key)
    if settings.auto_login:
        return superuser_caller()
    raise MissingApiKeyError("An API key must be passed as query or header")


def require_superuser(caller: Annotated[Caller, Depends(resolve_caller)]) -> Caller:
    """FastAPI dependency: the caller, who must be a superuser."""
    if not caller.is_superuser:
        raise PermissionDeniedError("The user doesn't have enough privileges")
    return caller


CallerDep = Annotated[Caller, Depends(resolve_caller)]
SuperuserDep = Annotated[Caller, Depends(require_superuser)]
