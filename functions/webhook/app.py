"""Langflow's webhook (POST /api/v1/webhook/{flow_id_or_name}) and the task status of background runs.

The webhook records a task and queues the run; the executor function runs it. Unlike Langflow, the 202 answer
carries the task id, and GET /api/v1/task/{task_id} tells how the run went.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from mangum import Mangum

from flowless.errors import InvalidApiKeyError, InvalidInputError, NotFoundError, PermissionDeniedError
from flowless.http.app import create_app
from flowless.http.auth import CallerDep, api_key_from, caller_for_key
from flowless.http.routing import Router

router = Router(prefix="/api/v1", tags=["Webhook"])


def _owner(flow_id_or_name: str) -> tuple[str, str]:
    from flowless.store.flows import FlowRepository

    try:
        uuid.UUID(flow_id_or_name)
        by_endpoint = False
    except ValueError:
        by_endpoint = True
    found = FlowRepository().owner_of(flow_id_or_name, by_endpoint=by_endpoint)
    if found is None:
        raise NotFoundError(f"Flow identifier {flow_id_or_name} not found")
    return found


def _check_webhook_caller(request: Request, owner_id: str) -> None:
    """With FLOWLESS_WEBHOOK_AUTH_ENABLE, only the flow's owner (by API key) may call its webhook."""
    from flowless.settings import get_settings

    if not get_settings().webhook_auth_enable:
        return
    key = api_key_from(request)
    if key is None:
        raise PermissionDeniedError("API key required when webhook authentication is enabled")
    try:
        caller = caller_for_key(key)
    except InvalidApiKeyError as exc:
        raise PermissionDeniedError("Invalid API key") from exc
    if caller.user_id != owner_id:
        raise PermissionDeniedError("Access denied: You can only execute webhooks for flows you own")


@router.post("/webhook/{flow_id_or_name}", status_code=202, response_model=None)
async def webhook_run_flow(flow_id_or_name: str, request: Request) -> JSONResponse:
    """Start the flow in the background with the request body as its Webhook component's data."""
    from flowless.langflow.background import enqueue_run

    owner_id, flow_id = _owner(flow_id_or_name)
    _check_webhook_caller(request, owner_id)
    body = (await request.body()).decode("utf-8", errors="replace")
    if not body:
        raise InvalidInputError("Request body is empty. You should provide a JSON payload containing the flow ID.")
    task_id = enqueue_run(user_id=owner_id, flow_id=flow_id, source="webhook", body=body)
    return JSONResponse({"message": "Task started in the background", "status": "in progress", "task_id": task_id},
                        status_code=202)


@router.get("/task/{task_id}")
def get_task_status(task_id: uuid.UUID, caller: CallerDep) -> dict[str, Any]:
    """A background run's status (PENDING, STARTED, SUCCESS, FAILURE) and its RunResponse or error."""
    from flowless.store.tasks import FAILURE, TaskRepository

    task = TaskRepository().get(user_id=caller.user_id, task_id=str(task_id))
    return {"status": task.status, "result": task.error if task.status == FAILURE else task.result}


app = create_app(title="webhook", routers=[router])
handler = Mangum(app, lifespan="off")
