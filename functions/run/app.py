"""The doors an LLM answer streams through: Langflow's run and build API (and its component catalog at
/api/v1/all), DB-GPT's chat completions (/api/v2/chat/completions) and the OpenAI-compatible model API
(/api/v1/models, /api/v1/chat/completions), and the HTTP triggers of DB-GPT AWEL flows
(/api/v1/awel/trigger/...).

The engine, components and providers are imported only when a run needs them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from mangum import Mangum
from pydantic import ValidationError

from flowless.http.app import create_app
from flowless.http.auth import CallerDep
from flowless.http.routing import Router

router = Router(prefix="/api/v1", tags=["Base"])


def _json_payload(raw: bytes) -> Any:
    """A body's JSON; malformed JSON is a request validation error (each door's 4xx)."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body", exc.pos), "msg": "JSON decode error",
                                       "input": {}, "ctx": {"error": exc.msg}}]) from exc


def _parsed(model: Any, raw: bytes) -> Any:
    """A JSON body validated against `model`; mistakes become request validation errors."""
    try:
        return model.model_validate(_json_payload(raw or b"null"))
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from exc


def _json_object(raw: bytes) -> dict[str, Any] | None:
    """A JSON object body, or None when the body is empty."""
    if not raw.strip():
        return None
    payload = _json_payload(raw)
    if not isinstance(payload, dict):
        raise RequestValidationError([{"type": "dict_type", "loc": ("body",), "msg": "Input should be an object",
                                       "input": payload}])
    return payload


async def _run_body(request: Request) -> Any:
    """The SimplifiedAPIRequest body; an empty body is the default request, as in Langflow."""
    from flowless.wire.langflow_run import SimplifiedAPIRequest

    raw = await request.body()
    if not raw.strip():
        return SimplifiedAPIRequest()
    return _parsed(SimplifiedAPIRequest, raw)


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


@router.post("/build/{flow_id}/flow", response_model=None,
             openapi_extra={"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}})
async def build_flow(flow_id: uuid.UUID, request: Request, caller: CallerDep,
                     event_delivery: str = "polling") -> Any:
    """Start a playground build job ({"job_id"}), or with event_delivery=direct stream its events now."""
    from flowless.langflow.build import build_direct, start_build

    raw = await request.body()
    body = _json_object(raw)
    query = dict(request.query_params)
    if event_delivery == "direct":
        from fastapi.responses import StreamingResponse

        from flowless.wire.langflow_build import ndjson_body

        records = build_direct(caller.user_id, str(flow_id), body, query)
        first = await anext(records)  # request and flow errors surface here, before the status is sent

        async def body_stream() -> AsyncIterator[str]:
            yield ndjson_body([first])
            async for record in records:
                yield ndjson_body([record])

        return StreamingResponse(body_stream(), media_type="application/x-ndjson")
    return {"job_id": start_build(caller.user_id, str(flow_id), body, query)}


@router.get("/build/{job_id}/events", response_model=None)
def get_build_events(job_id: uuid.UUID, caller: CallerDep, event_delivery: str | None = None,
                     stream: bool | None = None, after_seq: int = 0) -> Any:
    """A build job's events: streamed as they are stored (the default), or those stored so far (polling)."""
    from fastapi.responses import Response, StreamingResponse

    from flowless.langflow.build import follow_events, wait_events
    from flowless.wire.langflow_build import ndjson_body, polling_body

    polling = event_delivery == "polling" or (event_delivery is None and stream is False)
    if polling:
        found = wait_events(caller.user_id, str(job_id), after_seq)
        return Response(polling_body(found.records), media_type="application/x-ndjson")
    records = follow_events(caller.user_id, str(job_id), after_seq)  # an unknown job raises here: a 404
    return StreamingResponse((ndjson_body([r]) for r in records), media_type="application/x-ndjson")


@router.post("/build/{job_id}/cancel")
def cancel_build(job_id: uuid.UUID, caller: CallerDep) -> dict[str, Any]:
    """Cancel a build job that has not ended."""
    from flowless.langflow.build import cancel_build as cancel

    if cancel(caller.user_id, str(job_id)):
        return {"success": True, "message": "Flow build cancelled successfully"}
    return {"success": False, "message": "Failed to cancel flow build"}


@router.get("/all")
def get_all(caller: CallerDep) -> dict[str, Any]:
    """Every component Flowless runs, in Langflow's catalog shape ({category: {name: node}})."""
    from flowless.components.registry import catalog

    return catalog()


def _stream(body: AsyncIterator[str]) -> Any:
    from fastapi.responses import StreamingResponse

    return StreamingResponse(body, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


dbgpt_router = Router(prefix="/api/v2", tags=["DB-GPT"])


@dbgpt_router.post("/chat/completions", response_model=None,
                   openapi_extra={"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}})
async def dbgpt_chat_completions(request: Request, caller: CallerDep) -> Any:
    """DB-GPT's chat: chat_normal (a configured model), chat_flow (a flow by uid) or chat_app (an app by
    app_code), streamed as DB-GPT's SSE chunks or answered whole as a ChatCompletionResponse."""
    from fastapi.responses import JSONResponse

    from flowless.dbgpt.chat import plan_chat
    from flowless.engine.outputs import final_text
    from flowless.errors import FlowlessError
    from flowless.http.errors import status_for
    from flowless.langflow.runner import request_variables
    from flowless.wire.dbgpt_chat import ChatCompletionRequest, chat_response

    body = _parsed(ChatCompletionRequest, await request.body())
    try:
        plan = plan_chat(caller.user_id, body, request_variables(request.headers))
        if not body.stream:
            result = await plan.run.finish()
            return chat_response(plan.conv_uid, plan.model, final_text(result).replace("\ufffd", ""),
                                 result.usage.as_openai())
    except FlowlessError as exc:
        if body.chat_mode != "chat_flow":
            raise
        # DB-GPT answers a chat_flow failure with its ErrorResponse rather than the Result envelope.
        return JSONResponse({"object": "error", "message": exc.message, "code": 1}, status_code=status_for(exc))
    from flowless.settings import get_settings
    from flowless.wire.dbgpt_chat import app_chunks, flow_chunks, normal_chunks
    from flowless.wire.streams import with_keepalives

    events = with_keepalives(plan.run.events(), every_s=get_settings().stream_keepalive_seconds)
    if plan.mode == "chat_flow":
        return _stream(flow_chunks(events, conv_uid=plan.conv_uid, model=plan.model))
    if plan.mode == "chat_app":
        return _stream(app_chunks(events, conv_uid=plan.conv_uid, model=plan.model, app_name=plan.app_name))
    return _stream(normal_chunks(events, model=plan.model))


model_router = Router(prefix="/api/v1", tags=["Model API"])


@model_router.get("/models")
def list_models(caller: CallerDep) -> dict[str, Any]:
    """The configured models (FLOWLESS_MODELS), as OpenAI lists models."""
    from flowless.model_api import list_models as listing

    return listing()


@model_router.post("/chat/completions", response_model=None,
                   openapi_extra={"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}})
async def model_chat_completions(request: Request, caller: CallerDep) -> Any:
    """OpenAI's chat completions with a configured model: a chat.completion, or chunks with stream=true."""
    from flowless.engine.outputs import final_text
    from flowless.langflow.runner import request_variables
    from flowless.model_api import ModelChatRequest, chat_completion, plan_model_chat

    body = _parsed(ModelChatRequest, await request.body())
    run = plan_model_chat(caller.user_id, body, request_variables(request.headers))
    if not body.stream:
        result = await run.finish()
        return chat_completion(body.model, final_text(result), result.usage.as_openai())
    from flowless.settings import get_settings
    from flowless.wire.streams import openai_chunks, with_keepalives

    events = with_keepalives(run.events(), every_s=get_settings().stream_keepalive_seconds)
    return _stream(openai_chunks(events, model=body.model, include_usage=body.include_usage()))


trigger_router = Router(prefix="/api/v1/awel/trigger", tags=["AWEL triggers"])


_TRIGGER_BODY = {"requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}}


# A trigger's methods are the flow's own choice, so every method DB-GPT allows is routed here and checked below.
@trigger_router.get("/{endpoint:path}", response_model=None, operation_id="awel_trigger_get")
@trigger_router.delete("/{endpoint:path}", response_model=None, operation_id="awel_trigger_delete")
@trigger_router.post("/{endpoint:path}", response_model=None, operation_id="awel_trigger_post",
                     openapi_extra=_TRIGGER_BODY)
@trigger_router.put("/{endpoint:path}", response_model=None, operation_id="awel_trigger_put",
                    openapi_extra=_TRIGGER_BODY)
async def awel_trigger(endpoint: str, request: Request, caller: CallerDep) -> Any:
    """A deployed AWEL chat flow of the caller, at the path its trigger publishes in the flow's metadata: a
    CommonLLMHttpRequestBody in (JSON, or query parameters for GET and DELETE), the leaf operator's answer out."""
    from fastapi import HTTPException

    from flowless.dbgpt.chat import flow_chat_run
    from flowless.dbgpt.triggers import TRIGGER_ROOT, find_trigger
    from flowless.langflow.runner import request_variables
    from flowless.wire.dbgpt_chat import ChatCompletionRequest
    from flowless.wire.dbgpt_triggers import TriggerRequest, trigger_chunks, trigger_response

    flow, trigger = find_trigger(caller.user_id, f"{TRIGGER_ROOT}/{endpoint}")
    if request.method not in trigger.methods:
        raise HTTPException(405, f"This trigger answers {', '.join(trigger.methods)}, not {request.method}")
    if request.method in ("GET", "DELETE"):
        try:
            body = TriggerRequest.model_validate(dict(request.query_params))
        except ValidationError as exc:
            raise RequestValidationError([{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]) from exc
    else:
        body = _parsed(TriggerRequest, await request.body())
    chat = ChatCompletionRequest(model=body.model, messages=body.prompt(), stream=body.stream,
                                 temperature=body.temperature, max_new_tokens=body.max_new_tokens,
                                 chat_mode="chat_flow", chat_param=flow.id, conv_uid=body.conv_uid)
    run = flow_chat_run(caller.user_id, flow, chat, request_variables(request.headers),
                        body.conv_uid or str(uuid.uuid4()))
    if not body.stream:
        return trigger_response(trigger.leaf, await run.finish())
    from flowless.settings import get_settings
    from flowless.wire.streams import with_keepalives

    events = with_keepalives(run.events(), every_s=get_settings().stream_keepalive_seconds)
    return _stream(trigger_chunks(events, leaf=trigger.leaf, model=body.model))


app = create_app(title="run", routers=[router, dbgpt_router, model_router, trigger_router])
handler = Mangum(app, lifespan="off")
