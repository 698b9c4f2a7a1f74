"""DB-GPT's POST /api/v2/chat/completions: which run a request starts, checked before any output is sent.

chat_mode decides what answers:
- chat_normal (or none): the configured model named by `model`, over the request's messages;
- chat_flow: the caller's flow whose uid is chat_param. A Langflow graph runs as /api/v1/run runs it, with the
  prompt as its chat input and conv_uid as its session (so memory components see earlier turns); a DB-GPT
  AWEL graph runs when its operators are supported (flowless.dbgpt.graphs), with `model` as its LLM;
- chat_app: the caller's app whose app_code is chat_param: its flow, or its model and system prompt.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flowless.dbgpt import RUNNABLE_STATES
from flowless.errors import FlowRunError, InvalidFlowError, InvalidInputError, NotFoundError
from flowless.wire.dbgpt_chat import ChatCompletionRequest

__all__ = ["ChatPlan", "flow_chat_run", "plan_chat"]

SUPPORTED_MODES = ("chat_normal", "chat_flow", "chat_app")


@dataclass
class ChatPlan:
    """A checked chat request: the run to start and how to write its answer."""

    mode: str
    run: Any            # a FlowRun
    conv_uid: str
    model: str
    app_name: str = ""


def plan_chat(user_id: str, body: ChatCompletionRequest, variables: Mapping[str, str]) -> ChatPlan:
    """The run a chat request asks for; every client mistake raises here, before a stream starts."""
    mode = body.chat_mode or "chat_normal"
    if mode not in SUPPORTED_MODES:
        raise InvalidInputError(f"chat_mode {mode!r} is not supported here; use {', '.join(SUPPORTED_MODES)}")
    if mode != "chat_normal" and not body.chat_param:
        raise InvalidInputError(f"chat_param is required for chat_mode {mode!r}")
    conv_uid = body.conv_uid or str(uuid.uuid4())
    if mode == "chat_flow":
        return ChatPlan(mode, _flow_run(user_id, str(body.chat_param), body, variables, conv_uid), conv_uid,
                        body.model)
    if mode == "chat_app":
        return _app_plan(user_id, body, variables, conv_uid)
    from flowless.model_catalog import find_model

    find_model(body.model)
    messages = body.messages if isinstance(body.messages, list) else [{"role": "user", "content": body.messages}]
    return ChatPlan(mode, _model_run(user_id, body, variables, conv_uid, messages=messages), conv_uid, body.model)


def _model_run(user_id: str, body: ChatCompletionRequest, variables: Mapping[str, str], conv_uid: str, *,
               messages: list[dict[str, Any]], model: str | None = None, system: str = "") -> Any:
    from flowless.conversation import conversation_graph, conversation_run

    graph = conversation_graph(model=model or body.model, messages=messages, system=system,
                               temperature=body.temperature, max_tokens=body.token_limit())
    return conversation_run(user_id=user_id, graph=graph, name=model or body.model, stream=body.stream,
                            variables=variables, session_id=conv_uid)


def _runnable_flow(user_id: str, flow_id: str) -> Any:
    from flowless.store.flows import FlowRepository

    try:
        flow = FlowRepository().get_for_run(user_id=user_id, flow_id=flow_id)
    except NotFoundError:
        raise NotFoundError(f"Flow {flow_id} not found") from None
    state = (flow.dbgpt or {}).get("state", "running")
    if state not in RUNNABLE_STATES:
        raise FlowRunError(f"Flow {flow_id} is not deployed (its state is {state}); update it with state "
                           "\"deployed\" to run it")
    return flow


def _flow_run(user_id: str, flow_id: str, body: ChatCompletionRequest, variables: Mapping[str, str],
              conv_uid: str) -> Any:
    return flow_chat_run(user_id, _runnable_flow(user_id, flow_id), body, variables, conv_uid)


def flow_chat_run(user_id: str, flow: Any, body: ChatCompletionRequest, variables: Mapping[str, str],
                  conv_uid: str) -> Any:
    """The run of a deployed flow answering `body.prompt()`, in the conversation `conv_uid`."""
    from flowless.dbgpt.graphs import compile_awel, graph_format
    from flowless.langflow.runner import FlowRun
    from flowless.wire.langflow_run import SimplifiedAPIRequest

    kind = graph_format(flow.data)
    if kind == "empty":
        raise InvalidFlowError(f"Flow {flow.id} has no graph to run")
    request = SimplifiedAPIRequest(input_value=body.prompt(), session_id=conv_uid)
    if kind == "langflow":
        return FlowRun(user_id=user_id, flow=flow, request=request, variables=variables, stream=body.stream)
    from flowless.components.registry import chat_registry
    from flowless.model_catalog import find_model

    compiled = copy.copy(flow)
    compiled.data = compile_awel(flow.data)
    find_model(body.model)
    # The AWEL LLM operator answers with the model the request names, as in DB-GPT.
    request.tweaks = {node["id"]: {"model_name": body.model} for node in compiled.data["nodes"]
                      if node.get("data", {}).get("type") == "FlowlessConversationModel"}
    return FlowRun(user_id=user_id, flow=compiled, request=request, variables=variables, stream=body.stream,
                   registry=chat_registry())


def _app_plan(user_id: str, body: ChatCompletionRequest, variables: Mapping[str, str], conv_uid: str) -> ChatPlan:
    from flowless.dbgpt.apps import resolve_app

    if not body.stream:
        raise InvalidInputError("chat_app answers only streamed requests: send \"stream\": true")
    binding = resolve_app(user_id, str(body.chat_param))
    app_name = binding.app.app_name or binding.app.app_code
    if binding.kind == "flow":
        run = _flow_run(user_id, str(binding.flow_id), body, variables, conv_uid)
        return ChatPlan("chat_app", run, conv_uid, body.model, app_name)
    from flowless.model_catalog import find_model

    model = next((name for name in binding.model_names if name), body.model)
    find_model(model)
    run = _model_run(user_id, body, variables, conv_uid, messages=[{"role": "user", "content": body.prompt()}],
                     model=model, system=binding.system_prompt)
    return ChatPlan("chat_app", run, conv_uid, model, app_name)
