"""Langflow's request and response models for flows, projects, users and API keys (1.6 shapes)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "ApiKeyCreate",
    "ApiKeyRead",
    "ApiKeysResponse",
    "FlowCreate",
    "FlowHeader",
    "FlowRead",
    "FlowUpdate",
    "FlowsBatch",
    "FolderCreate",
    "FolderRead",
    "FolderReadWithFlows",
    "FolderUpdate",
    "UnmaskedApiKeyRead",
    "UserCreate",
    "UserRead",
]

_ENDPOINT_NAME = re.compile(r"^[a-zA-Z0-9_-]+$")

AccessType = Literal["PRIVATE", "PUBLIC"]


def _check_data(value: Any) -> Any:
    # Langflow accepts an empty or missing graph, but a non-empty one needs both lists.
    if value:
        if "nodes" not in value:
            raise ValueError("Flow must have nodes")
        if "edges" not in value:
            raise ValueError("Flow must have edges")
    return value


def _check_endpoint_name(value: str | None) -> str | None:
    if value and not _ENDPOINT_NAME.match(value):
        raise ValueError("Endpoint name must contain only letters, numbers, hyphens, and underscores")
    return value


def _check_icon_bg_color(value: str | None) -> str | None:
    if value is not None:
        if not value.startswith("#"):
            raise ValueError("Icon background color must start with #")
        if len(value) != 7:
            raise ValueError("Icon background color must be 7 characters long")
    return value


class _FlowFields(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    description: str | None = None
    icon: str | None = None
    icon_bg_color: str | None = None
    gradient: str | None = None
    data: dict[str, Any] | None = None
    endpoint_name: str | None = None
    tags: list[str] | None = None
    locked: bool | None = None
    mcp_enabled: bool | None = None
    action_name: str | None = None
    action_description: str | None = None
    access_type: AccessType | None = None
    fs_path: str | None = None
    # Langflow's code says folder_id; its docs say project_id. Both are accepted.
    folder_id: str | None = Field(default=None, validation_alias=AliasChoices("folder_id", "project_id"))

    @field_validator("data")
    @classmethod
    def _valid_data(cls, value: Any) -> Any:
        return _check_data(value)

    @field_validator("endpoint_name")
    @classmethod
    def _valid_endpoint_name(cls, value: str | None) -> str | None:
        return _check_endpoint_name(value)

    @field_validator("icon_bg_color")
    @classmethod
    def _valid_icon_bg_color(cls, value: str | None) -> str | None:
        return _check_icon_bg_color(value)


class FlowCreate(_FlowFields):
    """Body of POST /api/v1/flows/ (and each flow of a batch or an upload)."""

    name: str = Field(min_length=1)
    is_component: bool | None = False
    webhook: bool | None = False
    # Accepted for compatibility and ignored: a flow always belongs to its caller.
    user_id: str | None = None
    updated_at: str | None = None

    def flow_values(self) -> dict[str, Any]:
        """The fields to store, without the ones Flowless decides itself."""
        values = self.model_dump(exclude={"user_id", "updated_at"}, exclude_none=True)
        values.setdefault("tags", [])
        return values


class FlowUpdate(_FlowFields):
    """Body of PATCH /api/v1/flows/{id}: every field optional."""

    name: str | None = Field(default=None, min_length=1)

    def changes(self) -> dict[str, Any]:
        """Set fields that are not null; endpoint_name null, empty or absent clears it, as in Langflow."""
        values = self.model_dump(exclude_unset=True, exclude_none=True)
        values["endpoint_name"] = self.endpoint_name or None
        return values


class FlowsBatch(BaseModel):
    """Body of POST /api/v1/flows/batch/."""

    flows: list[FlowCreate]


class FlowRead(BaseModel):
    """A flow as Langflow returns it."""

    name: str
    description: str | None = None
    icon: str | None = None
    icon_bg_color: str | None = None
    gradient: str | None = None
    data: dict[str, Any] | None = None
    is_component: bool | None = False
    updated_at: str | None = None
    webhook: bool | None = False
    endpoint_name: str | None = None
    tags: list[str] | None = None
    locked: bool | None = False
    mcp_enabled: bool | None = False
    action_name: str | None = None
    action_description: str | None = None
    access_type: AccessType = "PRIVATE"
    id: str
    user_id: str | None = None
    folder_id: str | None = None


class FlowHeader(BaseModel):
    """A flow's header, as GET /api/v1/flows/?header_flows=true returns it."""

    id: str
    name: str
    folder_id: str | None = None
    is_component: bool | None = None
    endpoint_name: str | None = None
    description: str | None = None
    data: dict[str, Any] | None = None
    access_type: AccessType | None = None
    tags: list[str] | None = None
    mcp_enabled: bool | None = None
    action_name: str | None = None
    action_description: str | None = None


class FolderCreate(BaseModel):
    """Body of POST /api/v1/projects/."""

    name: str = Field(min_length=1)
    description: str | None = None
    auth_settings: dict[str, Any] | None = None
    components_list: list[str] | None = None
    flows_list: list[str] | None = None


class FolderUpdate(BaseModel):
    """Body of PATCH /api/v1/projects/{id}. Membership lists are accepted but, as in Langflow, unused."""

    name: str | None = Field(default=None, min_length=1)
    description: str | None = None
    parent_id: str | None = None
    components: list[str] = []
    flows: list[str] = []
    auth_settings: dict[str, Any] | None = None


class FolderRead(BaseModel):
    """A project as Langflow returns it."""

    name: str
    description: str | None = None
    auth_settings: dict[str, Any] | None = None
    id: str
    parent_id: str | None = None


class FolderReadWithFlows(FolderRead):
    flows: list[FlowRead] = []


class UserCreate(BaseModel):
    """Body of POST /api/v1/users/."""

    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1)
    optins: dict[str, Any] | None = None


class UserRead(BaseModel):
    id: str
    username: str
    profile_image: str | None = None
    store_api_key: str | None = None
    is_active: bool
    is_superuser: bool
    create_at: str
    updated_at: str
    last_login_at: str | None = None
    optins: dict[str, Any] | None = None


class ApiKeyCreate(BaseModel):
    """Body of POST /api/v1/api_key/; a superuser may name another user."""

    name: str | None = None
    created_at: str | None = None
    user_id: str | None = None


class ApiKeyRead(BaseModel):
    name: str | None = None
    last_used_at: str | None = None
    total_uses: int = 0
    is_active: bool = True
    id: str
    api_key: str
    user_id: str
    created_at: str | None = None


class UnmaskedApiKeyRead(BaseModel):
    name: str | None = None
    last_used_at: str | None = None
    total_uses: int = 0
    is_active: bool = True
    id: str
    api_key: str
    user_id: str


class ApiKeysResponse(BaseModel):
    total_count: int
    user_id: str
    api_keys: list[ApiKeyRead]
