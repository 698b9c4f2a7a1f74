"""Langflow's run API: POST /api/v1/run/{flow_id_or_name}, and the component catalog at /api/v1/all.

This function is the one that streams (its routes are the ones an LLM answer flows through), so the engine,
components and providers are imported only when a run needs them.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from mangum import Mangum
from pydantic import ValidationError

from flowless.http.app import create_app
from flowless.http.auth import CallerDep
from flowless.http.routing import Router

router = Router(prefix="/api/v1", tags=["Base"])


async def _run_body(request: Request) -> Any:
    """The SimplifiedAPIRequest body; an empty body is the default request, as in Langflow."""
    from flowless.wire.langflow_run import SimplifiedAPIRequest

    raw = await request.body()
    if not raw.strip():
        return SimplifiedAPIRequest()
    try:
        payload = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body", exc.pos), "msg": "JSON decode error",
                                       "input": {}, "ctx": {"error": exc.msg}}]) from exc
    try:
        return SimplifiedAPIRequest.model_validate(payload)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from exc


@router.post("/run/{flow_id_or_name}", response_model=None,
             openapi_extra={"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}})
async def simplified_run_flow(flow_id_or_name: str, request: Request, caller: CallerDep,
                              stream: bool = False) -> Any:
    """Run a flow by id or endpoint name with Langflow's SimplifiedAPIRequest; answer its RunResponse, or with
    `stream=true` Langflow's event records (add_message, token, end | error) as they happen."""
    from flowless.langflow.runner import FlowRun, find_flow, request_variables

    body = await _run_body(request)
    flow = find_flow(caller.user_id, flow_id_or_name)
    # Everything a client can get wrong is checked here, before a stream starts and its status is fixed at 200.
    run = FlowRun(user_id=caller.user_id, flow=flow, request=body, variables=request_variables(request.headers),
                  stream=stream)
    if not stream:
        return await run.response()
    from fastapi.responses import StreamingResponse

    from flowless.settings import get_settings
    from flowless.wire.streams import langflow_records, with_keepalives

    events = with_keepalives(run.events(), every_s=get_settings().stream_keepalive_seconds)
    return StreamingResponse(langflow_records(events, run.run_response), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.get("/all")
def get_all(caller: CallerDep) -> dict[str, Any]:
    """Every component Flowless runs, in Langflow's catalog shape ({category: {name: node}})."""
    from flowless.components.registry import catalog

    return catalog()


app = create_app(title="run", routers=[router])
handler = Mangum(app, lifespan="off")
