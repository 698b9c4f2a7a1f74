"""DB-GPT's AWEL flow API, /api/v2/serve/awel/flows, over the same flows as Langflow's API. DB-GPT mounts the
same API under /api/v1/serve/awel as well, and so does this function.

Every answer is DB-GPT's Result envelope; failures are written by the app's error handlers.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from mangum import Mangum

from flowless.http.app import create_app
from flowless.http.auth import CallerDep
from flowless.http.routing import Router
from flowless.wire.dbgpt import result
from flowless.wire.dbgpt_flows import FlowPanelBody

router = Router(prefix="/api/v2/serve/awel", tags=["DB-GPT AWEL flows"])


@router.post("/flows")
def create_flow(caller: CallerDep, body: FlowPanelBody) -> dict[str, Any]:
    """Create a flow; the client's uid is kept."""
    from flowless.dbgpt import flows

    return result(flows.create_flow(caller.user_id, caller.username, body))


@router.put("/flows/{uid}")
def update_flow(uid: str, caller: CallerDep, body: FlowPanelBody) -> dict[str, Any]:
    """Update the flow in the path (a uid in the body must be the same)."""
    from flowless.dbgpt import flows

    return result(flows.update_flow(caller.user_id, caller.username, uid, body))


@router.get("/flows/{uid}")
def get_flow(uid: str, caller: CallerDep) -> dict[str, Any]:
    from flowless.dbgpt import flows

    return result(flows.get_flow(caller.user_id, caller.username, uid))


@router.delete("/flows/{uid}")
def delete_flow(uid: str, caller: CallerDep) -> dict[str, Any]:
    """Delete a flow; answers the deleted flow."""
    from flowless.dbgpt import flows

    return result(flows.delete_flow(caller.user_id, caller.username, uid))


@router.get("/flows")
def list_flows(
    caller: CallerDep,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 20,
    name: str | None = None,
    uid: str | None = None,
    user_name: str | None = None,
    sys_code: str | None = None,
) -> dict[str, Any]:
    """The caller's flows a page at a time, newest change first (filters are exact matches)."""
    from flowless.dbgpt import flows

    return result(flows.list_flows(caller.user_id, caller.username, page=page, page_size=page_size, name=name,
                                   uid=uid, user_name=user_name, sys_code=sys_code))


v1_router = Router(prefix="/api/v1/serve/awel", tags=["DB-GPT AWEL flows"])
for route in list(router.routes):
    if getattr(route, "include_in_schema", False):   # the slash twins are added again by add_api_route
        v1_router.add_api_route(route.path.removeprefix(router.prefix), route.endpoint, methods=list(route.methods))

app = create_app(title="awel_flows", routers=[router, v1_router])
handler = Mangum(app, lifespan="off")
