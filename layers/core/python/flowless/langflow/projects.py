"""Project operations behind /api/v1/projects: the default project, membership moves, zip in and out."""

from __future__ import annotations

from typing import Any

from flowless.errors import NotFoundError
from flowless.langflow.flows import create_flows, flow_read, page_of
from flowless.settings import get_settings
from flowless.store.flows import Flow, FlowRepository
from flowless.store.projects import Project, ProjectRepository
from flowless.wire.langflow import FlowCreate, FlowRead, FolderCreate, FolderRead, FolderReadWithFlows, FolderUpdate

__all__ = [
    "create_project",
    "delete_project",
    "list_projects",
    "project_flows",
    "read_project",
    "read_project_page",
    "update_project",
    "upload_project",
]


def folder_read(project: Project) -> FolderRead:
    return FolderRead(name=project.name, description=project.description, auth_settings=project.auth_settings,
                      id=project.id, parent_id=project.parent_id)


def list_projects(user_id: str) -> list[FolderRead]:
    """The caller's projects, the default one first."""
    repo = ProjectRepository()
    default = repo.ensure_default(user_id=user_id, name=get_settings().default_folder_name)
    others = sorted((p for p in repo.list_for(user_id) if p.id != default.id), key=lambda p: p.created_at)
    return [folder_read(p) for p in [default, *others]]


def _move_flows(user_id: str, flow_ids: list[str], project_id: str) -> None:
    repo = FlowRepository()
    for flow_id in flow_ids:
        try:
            repo.update(user_id=user_id, flow_id=flow_id, changes={"folder_id": project_id})
        except NotFoundError:
            continue  # only the caller's own flows move; others are ignored


def create_project(user_id: str, body: FolderCreate) -> FolderRead:
    """Create a project and move the listed flows and components into it."""
    project = ProjectRepository().create(user_id=user_id, name=body.name, description=body.description,
                                         auth_settings=body.auth_settings)
    _move_flows(user_id, [*(body.components_list or []), *(body.flows_list or [])], project.id)
    return folder_read(project)


def project_flows(user_id: str, project_id: str) -> list[Flow]:
    return [f for f in FlowRepository().list_for(user_id) if f.folder_id == project_id]


def read_project(user_id: str, project_id: str) -> FolderReadWithFlows:
    project = ProjectRepository().get(user_id=user_id, project_id=project_id)
    flows = sorted(project_flows(user_id, project_id), key=lambda f: f.updated_at or "")
    return FolderReadWithFlows(**folder_read(project).model_dump(), flows=[flow_read(f) for f in flows])


def read_project_page(
    user_id: str, project_id: str, *, page: int, size: int, is_component: bool, is_flow: bool, search: str,
) -> dict[str, Any]:
    """Langflow's paginated project view: newest change first, filtered by kind and name."""
    project = ProjectRepository().get(user_id=user_id, project_id=project_id)
    flows = project_flows(user_id, project_id)
    if is_component and not is_flow:
        flows = [f for f in flows if f.is_component]
    elif is_flow and not is_component:
        flows = [f for f in flows if not f.is_component]
    if search:
        flows = [f for f in flows if search.lower() in f.name.lower()]
    flows.sort(key=lambda f: f.updated_at or "", reverse=True)
    return {"folder": folder_read(project).model_dump(),
            "flows": page_of([flow_read(f).model_dump() for f in flows], page=page, size=size)}


def update_project(user_id: str, project_id: str, body: FolderUpdate) -> FolderRead:
    """Rename or re-describe; as in Langflow, the body's flow lists never change membership."""
    project = ProjectRepository().update(user_id=user_id, project_id=project_id, name=body.name,
                                         description=body.description, parent_id=body.parent_id,
                                         auth_settings=body.auth_settings)
    return folder_read(project)


def delete_project(user_id: str, project_id: str) -> None:
    """Delete a project and the caller's flows in it."""
    repo = ProjectRepository()
    repo.get(user_id=user_id, project_id=project_id)
    FlowRepository().delete_many(user_id=user_id, flow_ids=[f.id for f in project_flows(user_id, project_id)])
    repo.delete(user_id=user_id, project_id=project_id)


def upload_project(user_id: str, name: str | None, description: str | None, flows: list[FlowCreate]) -> list[FlowRead]:
    """Create a project (name made unique) holding the uploaded flows."""
    project = ProjectRepository().create(user_id=user_id, name=name or "New Project", description=description)
    return create_flows(user_id, flows, project_id=project.id)
