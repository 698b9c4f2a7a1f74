"""Langflow's projects API (formerly folders): /api/v1/projects."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

from fastapi import File, Query, UploadFile
from fastapi.responses import Response
from mangum import Mangum

from flowless.errors import NotFoundError
from flowless.http.app import create_app
from flowless.http.auth import CallerDep
from flowless.http.routing import Router
from flowless.langflow import exports, projects
from flowless.wire.langflow import FlowRead, FolderCreate, FolderRead, FolderUpdate

router = Router(prefix="/api/v1/projects", tags=["Projects"])


@router.get("/", response_model=list[FolderRead])
def list_projects(caller: CallerDep) -> list[FolderRead]:
    """The caller's projects, the default one first."""
    return projects.list_projects(caller.user_id)


@router.post("/", status_code=201, response_model=FolderRead)
def create_project(caller: CallerDep, body: FolderCreate) -> FolderRead:
    """Create a project, moving the listed flows into it."""
    return projects.create_project(caller.user_id, body)


@router.get("/download/{project_id}", response_model=None)
def download_project(caller: CallerDep, project_id: UUID) -> Response:
    """Download a project's flows as a zip."""
    found = projects.read_project(caller.user_id, str(project_id))
    flows = projects.project_flows(caller.user_id, str(project_id))
    if not flows:
        raise NotFoundError("No flows found in project")
    filename = quote(f"{exports.timestamp_for_filename()}_{found.name}_flows.zip")
    return Response(exports.zip_flows(flows), media_type="application/x-zip-compressed",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"})


@router.post("/upload/", status_code=201, response_model=list[FlowRead])
async def upload_project(caller: CallerDep, file: Annotated[UploadFile, File()]) -> list[FlowRead]:
    """Import a project: Langflow's project JSON or a zip of flow files."""
    raw = await file.read()
    name, description, flows = exports.project_from_upload(raw, file.filename)
    return projects.upload_project(caller.user_id, name, description, flows)


@router.get("/{project_id}", response_model=None)
def read_project(
    caller: CallerDep,
    project_id: UUID,
    page: Annotated[int | None, Query(ge=1)] = None,
    size: Annotated[int | None, Query(ge=1, le=100)] = None,
    is_component: bool = False,
    is_flow: bool = False,
    search: str = "",
) -> Any:
    """A project with its flows; with page and size, the flows a page at a time."""
    if page is not None and size is not None:
        return projects.read_project_page(caller.user_id, str(project_id), page=page, size=size,
                                          is_component=is_component, is_flow=is_flow, search=search)
    return projects.read_project(caller.user_id, str(project_id)).model_dump()


@router.patch("/{project_id}", response_model=FolderRead)
def update_project(caller: CallerDep, project_id: UUID, body: FolderUpdate) -> FolderRead:
    """Rename or re-describe a project."""
    return projects.update_project(caller.user_id, str(project_id), body)


@router.delete("/{project_id}", status_code=204)
def delete_project(caller: CallerDep, project_id: UUID) -> Response:
    """Delete a project and its flows."""
    projects.delete_project(caller.user_id, str(project_id))
    return Response(status_code=204)


app = create_app(title="projects", routers=[router])
handler = Mangum(app, lifespan="off")
