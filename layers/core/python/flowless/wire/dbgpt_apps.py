"""DB-GPT's App API on the wire: the GptsApp body of POST/PUT /api/v2/serve/apps, and the App it answers.

What we answer must pass dbgpt-client's strict `AppModel`: `is_collected` a "true"/"false" string, both
timestamps present and ISO, every resource's type, name and value a string, `team_context` a string or an
object. The server's extras (hot_value, owner_name, ...) are added as DB-GPT writes them; the client ignores
them. This module knows nothing of storage: it renders anything shaped like a stored app (`AppRecord`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "TEAM_MODES",
    "AppCreate",
    "AppDetailIn",
    "AppRecord",
    "AppResourceIn",
    "AppUpdate",
    "app_data",
    "app_page",
]

TeamMode = Literal["auto_plan", "awel_layout", "single_agent", "native_app"]
TEAM_MODES: tuple[str, ...] = ("auto_plan", "awel_layout", "single_agent", "native_app")


def _as_text(value: Any) -> str:
    """Any JSON value as the string the client's models need: objects and lists as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _as_flag(value: Any) -> Any:
    # DB-GPT's own model turns a JSON boolean into its "true"/"false" string.
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


class AppResourceIn(BaseModel):
    """A resource of an agent node: a knowledge space, a database, a plugin, ..."""

    model_config = ConfigDict(extra="ignore")

    type: str = ""
    name: str = ""
    value: str = ""
    is_dynamic: bool = False

    @field_validator("type", "name", "value", mode="before")
    @classmethod
    def _text(cls, value: Any) -> str:
        return _as_text(value)


class AppDetailIn(BaseModel):
    """One agent node of the app (DB-GPT's GptsAppDetail); its timestamps are the server's."""

    model_config = ConfigDict(extra="ignore")

    app_code: str | None = None
    app_name: str | None = None
    agent_name: str | None = None
    node_id: str | None = None
    resources: list[AppResourceIn] | None = None
    prompt_template: str | None = None
    llm_strategy: str | None = None
    llm_strategy_value: str | None = None

    @field_validator("llm_strategy_value", mode="before")
    @classmethod
    def _models(cls, value: Any) -> Any:
        # The web UI keeps the models as a JSON list string; a plain list is taken as the same thing.
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return ",".join(value)
        return value


class AppCreate(BaseModel):
    """The body of POST /api/v2/serve/apps (DB-GPT's GptsApp); unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    # A code must work as one path segment of /api/v2/serve/apps/{app_id}.
    app_code: str | None = Field(default=None, max_length=255, pattern=r"^[A-Za-z0-9_.\-]*$")
    app_name: str = Field(min_length=1, max_length=255)
    app_describe: str | None = None
    team_mode: TeamMode | None = None
    language: str | None = None
    team_context: str | dict[str, Any] | None = None
    user_code: str | None = None
    sys_code: str | None = None
    icon: str | None = None
    is_collected: Literal["true", "false"] | None = None
    published: Literal["true", "false"] | None = None
    details: list[AppDetailIn] | None = None

    @field_validator("is_collected", "published", mode="before")
    @classmethod
    def _flags(cls, value: Any) -> Any:
        return _as_flag(value)


class AppUpdate(AppCreate):
    """The body of PUT /api/v2/serve/apps/{app_id}: the whole GptsApp again; the path names the app."""


class AppRecord(Protocol):
    """What `app_data` reads of a stored app."""

    @property
    def app_code(self) -> str: ...
    @property
    def app_name(self) -> str | None: ...
    @property
    def app_describe(self) -> str | None: ...
    @property
    def team_mode(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def team_context(self) -> str | dict[str, Any] | None: ...
    @property
    def user_code(self) -> str | None: ...
    @property
    def sys_code(self) -> str | None: ...
    @property
    def icon(self) -> str | None: ...
    @property
    def is_collected(self) -> str: ...
    @property
    def published(self) -> str: ...
    @property
    def details(self) -> Sequence[Mapping[str, Any]]: ...
    @property
    def created_at(self) -> str: ...
    @property
    def updated_at(self) -> str: ...


def _resource_data(resource: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": _as_text(resource.get("type")),
        "name": _as_text(resource.get("name")),
        "value": _as_text(resource.get("value")),
        "is_dynamic": bool(resource.get("is_dynamic", False)),
    }


def _detail_data(detail: Mapping[str, Any], app: AppRecord) -> dict[str, Any]:
    return {
        "app_code": app.app_code,
        "app_name": app.app_name,
        "agent_name": detail.get("agent_name"),
        "node_id": detail.get("node_id"),
        "resources": [_resource_data(r) for r in detail.get("resources") or []],
        "prompt_template": detail.get("prompt_template"),
        "llm_strategy": detail.get("llm_strategy"),
        "llm_strategy_value": detail.get("llm_strategy_value"),
        "created_at": detail.get("created_at") or app.created_at,
        "updated_at": detail.get("updated_at") or app.updated_at,
    }


def app_data(app: AppRecord, *, owner_name: str | None) -> dict[str, Any]:
    """A stored app as DB-GPT's App (GptsApp with its server extras).

    Example:
        result(app_data(app, owner_name=caller.username))
    """
    return {
        "app_code": app.app_code,
        "app_name": app.app_name,
        "app_describe": app.app_describe,
        "team_mode": app.team_mode,
        "language": app.language or "en",
        "team_context": app.team_context,
        "user_code": app.user_code,
        "sys_code": app.sys_code,
        "is_collected": app.is_collected if app.is_collected in ("true", "false") else "false",
        "icon": app.icon,
        "created_at": app.created_at,
        "updated_at": app.updated_at,
        "details": [_detail_data(d, app) for d in app.details],
        "published": app.published,
        "user_name": app.user_code or owner_name,
        "user_icon": None,
        "hot_value": 0,
        "param_need": [],
        "owner_name": owner_name,
        "owner_avatar_url": None,
        "recommend_questions": [],
        "admins": [],
        "keep_start_rounds": 0,
        "keep_end_rounds": 0,
    }


def app_page(
    apps: Sequence[AppRecord], *, total_count: int, page: int, page_size: int, owner_name: str | None
) -> dict[str, Any]:
    """One page of apps as DB-GPT's GptsAppResponse."""
    return {
        "total_count": total_count,
        "total_page": math.ceil(total_count / page_size) if page_size else 0,
        "current_page": page,
        "app_list": [app_data(a, owner_name=owner_name) for a in apps],
    }
