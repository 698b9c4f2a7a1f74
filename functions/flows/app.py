"""Langflow's flows API: /api/v1/flows."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Body, File, Query, UploadFile
from fastapi.responses import JSONResponse, Response
from mangum import Mangum

from flowless.http.app import create_app
from flowless.http.auth import CallerDep
from flowless.http.routing import Router
from flowless.langflow import exports, flows
from flowless.langflow.examples import basic_examples
from flowless.wire.langflow import FlowCreate, FlowRead, FlowsBatch, FlowUpdate

router = Router(prefix="/api/v1/flows", tags=["Flows"])


@router.post("/", status_code=201, response_model=FlowRead)
def create_flow(caller: CallerDep, body: FlowCreate) -> FlowRead:
    """Create a flow."""
    return flows.create_flow(caller.user_id, body)


@router.get("/", response_model=None)
def read_flows(
    caller: CallerDep,
    remove_example_flows: bool = False,
    components_only: bool = False,
    get_all: bool = True,
    folder_id: UUID | None = None,
    project_id: UUID | None = None,
    header_flows: bool = False,
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Any:
    """Retrieve the caller's flows: all of them, or one project's a page at a time."""
    wanted = folder_id or project_id
    if get_all:
        found = flows.list_flows(caller.user_id, components_only=components_only,
                                 project_id=str(wanted) if wanted else None)
        if header_flows:
            return [flows.flow_header(f).model_dump() for f in found]
        return [flows.flow_read(f).model_dump() for f in found]
    project = flows.resolve_project(caller.user_id, str(wanted) if wanted else None)
    found = flows.list_flows(caller.user_id, components_only=components_only, project_id=project)
    return flows.page_of([flows.flow_read(f).model_dump() for f in found], page=page, size=size)


@router.delete("/")
def delete_flows(caller: CallerDep, flow_ids: Annotated[list[UUID], Body()]) -> dict[str, int]:
    """Delete several of the caller's flows; unknown ids are ignored."""
    from flowless.store.flows import FlowRepository

    return {"deleted": FlowRepository().delete_many(user_id=caller.user_id, flow_ids=[str(i) for i in flow_ids])}


@router.post("/batch/", status_code=201, response_model=list[FlowRead])
def create_flows(caller: CallerDep, body: FlowsBatch) -> list[FlowRead]:
    """Create several flows."""
    return flows.create_flows(caller.user_id, body.flows)


@router.post("/upload/", status_code=201, response_model=list[FlowRead])
async def upload_flows(
    caller: CallerDep,
    file: Annotated[UploadFile, File()],
    folder_id: UUID | None = None,
    project_id: UUID | None = None,
) -> list[FlowRead]:
    """Import a Langflow export: one flow, {"flows": [...]}, or a zip of flow files."""
    raw = await file.read()
    wanted = folder_id or project_id
    parsed = exports.flows_from_upload(raw, file.filename)
    return flows.create_flows(caller.user_id, parsed, project_id=str(wanted) if wanted else None)


@router.post("/download/", response_model=None)
def download_flows(caller: CallerDep, flow_ids: Annotated[list[UUID], Body()]) -> Response:
    """Download flows: one as JSON, several as a zip."""
    found = flows.flows_by_ids(caller.user_id, [str(i) for i in flow_ids])
    if len(found) == 1:
        return JSONResponse(exports.flow_export(found[0]))
    filename = f"{exports.timestamp_for_filename()}_langflow_flows.zip"
    return Response(exports.zip_flows(found), media_type="application/x-zip-compressed",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


@router.get("/basic_examples/", response_model=list[FlowRead])
def read_basic_examples() -> list[FlowRead]:
    """Example flows built from the components Flowless supports."""
    return basic_examples()


@router.get("/{flow_id}", response_model=FlowRead)
def read_flow(caller: CallerDep, flow_id: UUID) -> FlowRead:
    """Read one flow."""
    return flows.get_flow(caller.user_id, str(flow_id))


@router.patch("/{flow_id}", response_model=FlowRead)
def update_flow(caller: CallerDep, flow_id: UUID, body: FlowUpdate) -> FlowRead:
    """Update a flow."""
    return flows.update_flow(caller.user_id, str(flow_id), body)


@router.delete("/{flow_id}")
def delete_flow(caller: CallerDep, flow_id: UUID) -> dict[str, str]:
    """Delete a flow."""
    flows.delete_flow(caller.user_id, str(flow_id))
    return {"message": "Flow deleted successfully"}


app = create_app(title="flows", routers=[router])
handler = Mangum(app, lifespan="off")
