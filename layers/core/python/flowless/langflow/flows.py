"""Flow operations behind /api/v1/flows: create with Langflow's naming rules, list, update, delete."""

from __future__ import annotations

import math
from typing import Any

from flowless.errors import NotFoundError
from flowless.settings import get_settings
from flowless.store.flows import Flow, FlowRepository
from flowless.store.projects import ProjectRepository
from flowless.wire.langflow import FlowCreate, FlowHeader, FlowRead, FlowUpdate

__all__ = [
    "create_flow",
    "create_flows",
    "flow_read",
    "list_flows",
    "page_of",
    "resolve_project",
    "update_flow",
]


def flow_read(flow: Flow) -> FlowRead:
    """The wire form of a stored flow."""
    return FlowRead(
        name=flow.name, description=flow.description, icon=flow.icon, icon_bg_color=flow.icon_bg_color,
        gradient=flow.gradient, data=flow.data, is_component=flow.is_component, updated_at=flow.updated_at,
        webhook=flow.webhook, endpoint_name=flow.endpoint_name, tags=flow.tags, locked=flow.locked,
        mcp_enabled=flow.mcp_enabled, action_name=flow.action_name,
        action_description=flow.action_description, access_type=flow.access_type,  # type: ignore[arg-type]
        id=flow.id, user_id=flow.user_id, folder_id=flow.folder_id,
    )


def flow_header(flow: Flow) -> FlowHeader:
    return FlowHeader(
        id=flow.id, name=flow.name, folder_id=flow.folder_id, is_component=flow.is_component,
        endpoint_name=flow.endpoint_name, description=flow.description,
        data=flow.data if flow.is_component else None, access_type=flow.access_type,  # type: ignore[arg-type]
        tags=flow.tags, mcp_enabled=flow.mcp_enabled, action_name=flow.action_name,
        action_description=flow.action_description,
    )


def resolve_project(user_id: str, project_id: str | None) -> str:
    """The id of the caller's project `project_id`, or of their default project when None."""
    projects = ProjectRepository()
    if project_id is None:
        return projects.ensure_default(user_id=user_id, name=get_settings().default_folder_name).id
    return projects.get(user_id=user_id, project_id=project_id).id


def create_flow(user_id: str, body: FlowCreate, *, project_id: str | None = None) -> FlowRead:
    """Create one flow in the given (or the body's, or the default) project."""
    values = body.flow_values()
    values["folder_id"] = resolve_project(user_id, project_id or values.get("folder_id"))
    return flow_read(FlowRepository().create(user_id=user_id, values=values))


def create_flows(user_id: str, bodies: list[FlowCreate], *, project_id: str | None = None) -> list[FlowRead]:
    """Create several flows; every project they name is checked before the first is written."""
    targets = [resolve_project(user_id, project_id or body.folder_id) for body in bodies]
    repo = FlowRepository()
    created = []
    for body, target in zip(bodies, targets, strict=False):
        values = {**body.flow_values(), "folder_id": target}
        created.append(flow_read(repo.create(user_id=user_id, values=values)))
    return created


def list_flows(
    user_id: str, *, components_only: bool = False, project_id: str | None = None,
    header_only: bool = False,
) -> list[Flow]:
    """The caller's flows, optionally only components or only one project's, newest change last."""
    flows = FlowRepository().list_for(user_id, with_data=True)
    if components_only:
        flows = [f for f in flows if f.is_component]
    if project_id is not None:
        flows = [f for f in flows if f.folder_id == project_id]
    return sorted(flows, key=lambda f: f.updated_at or "")


def page_of(items: list[Any], *, page: int, size: int) -> dict[str, Any]:
    """fastapi-pagination's Page shape: {items, total, page, size, pages}."""
    total = len(items)
    start = (page - 1) * size
    return {"items": items[start:start + size], "total": total, "page": page, "size": size,
            "pages": math.ceil(total / size) if size else 0}


def update_flow(user_id: str, flow_id: str, body: FlowUpdate) -> FlowRead:
    """Apply a PATCH with optimistic locking; moving to a project needs the project to be the caller's."""
    changes = body.changes()
    if "folder_id" in changes:
        changes["folder_id"] = resolve_project(user_id, changes["folder_id"])
    repo = FlowRepository()
    repo.get(user_id=user_id, flow_id=flow_id)  # 404 before any other check, as Langflow
    return flow_read(repo.update(user_id=user_id, flow_id=flow_id, changes=changes))


def get_flow(user_id: str, flow_id: str) -> FlowRead:
    return flow_read(FlowRepository().get(user_id=user_id, flow_id=flow_id))


def delete_flow(user_id: str, flow_id: str) -> None:
    FlowRepository().delete(user_id=user_id, flow_id=flow_id)


def flows_by_ids(user_id: str, flow_ids: list[str]) -> list[Flow]:
    """Those of `flow_ids` that are the caller's, in the order given; none at all is NotFoundError."""
    repo = FlowRepository()
    found = []
    for flow_id in flow_ids:
        try:
            found.append(repo.get(user_id=user_id, flow_id=flow_id))
        except NotFoundError:
            continue
    if not found:
        raise NotFoundError("No flows found.")
    return found
