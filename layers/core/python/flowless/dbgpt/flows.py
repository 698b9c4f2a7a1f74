"""DB-GPT's flow API over the one flow store: a Langflow flow and a DB-GPT flow are the same record.

Field mapping (DB-GPT <- stored flow): uid <- id, name <- name, description <- description, editable <- not
locked, gmt_modified <- updated_at, gmt_created <- created_at, user_name <- the owner's username, flow_data <-
data; label, state, source, version, sys_code, variables, ... live in the flow's `dbgpt` fields.

flow_data: a DB-GPT AWEL graph is stored and answered as it came. A Langflow graph is answered as a DB-GPT view
of it (flowless.dbgpt.graphs.langflow_view) that DB-GPT's clients accept; an update that sends no flow_data, or
sends that view back, keeps the stored Langflow graph.

States: "deployed" is stored as "running", as DB-GPT does once a flow is registered; a graph that cannot run
(unsupported components or operators) is stored as "load_failed" with the reason in error_message. A flow made
in Langflow has no state of its own and shows as "running".
"""

from __future__ import annotations

import math
from typing import Any

from flowless.errors import InvalidFlowError, InvalidInputError, NotFoundError, PermissionDeniedError
from flowless.store.flows import Flow, FlowRepository
from flowless.wire.dbgpt import dbgpt_time
from flowless.wire.dbgpt_flows import FlowPanelBody, can_change_state

__all__ = ["create_flow", "delete_flow", "flow_panel", "get_flow", "list_flows", "update_flow"]


def _state_of(flow: Flow) -> str:
    return str((flow.dbgpt or {}).get("state") or "running")


def flow_panel(flow: Flow, username: str) -> dict[str, Any]:
    """A stored flow as DB-GPT's Flow object."""
    from flowless.dbgpt.graphs import flow_category, graph_format, langflow_view
    from flowless.dbgpt.triggers import dag_id_of, trigger_metadata

    extras = flow.dbgpt or {}
    kind = graph_format(flow.data)
    flow_data = flow.data if kind == "awel" else langflow_view(flow.data or {}) if kind == "langflow" else None
    return {
        "uid": flow.id, "label": extras.get("label") or flow.name, "name": flow.name,
        "flow_category": flow_category(flow.data), "flow_data": flow_data, "description": flow.description,
        "state": _state_of(flow), "error_message": extras.get("error_message"),
        "source": extras.get("source") or ("DBGPT-WEB" if flow.dbgpt else "LANGFLOW"),
        "source_url": extras.get("source_url"), "version": extras.get("version") or "0.1.1",
        "define_type": "json", "editable": not flow.locked, "user_name": username,
        "sys_code": extras.get("sys_code"),
        "dag_id": dag_id_of(flow),
        "gmt_created": dbgpt_time(flow.created_at or flow.updated_at), "gmt_modified": dbgpt_time(flow.updated_at),
        "metadata": trigger_metadata(flow), "variables": extras.get("variables"), "authors": extras.get("authors"),
    }


def _load_problem(data: dict[str, Any] | None) -> str | None:
    """Why a graph cannot run here, or None when it can (checked when a flow is deployed)."""
    from flowless.dbgpt.graphs import compile_awel, graph_format

    kind = graph_format(data)
    try:
        if kind == "awel":
            compile_awel(data or {})
        elif kind == "langflow":
            from flowless.components.registry import default_registry
            from flowless.engine.graph import parse_graph

            parse_graph(data or {}, default_registry(), flow_id="check", flow_name="check")
    except InvalidFlowError as exc:
        return exc.message
    return None


def _deployed_state(state: str, data: dict[str, Any] | None) -> tuple[str, str | None]:
    """The state to store for a requested one, and the error message that goes with it."""
    if state not in ("deployed", "running"):
        return state, None
    problem = _load_problem(data)
    return ("load_failed", problem) if problem else ("running", None)


def _keep_trigger_path(flow: Flow) -> None:
    """Keep the path a deployed AWEL flow answers at with it, so a custom trigger endpoint can be found."""
    from flowless.dbgpt.triggers import flow_trigger

    trigger = flow_trigger(flow)
    flow.dbgpt.pop("trigger_path", None)
    if trigger is not None:
        flow.dbgpt["trigger_path"] = trigger.path


def create_flow(user_id: str, username: str, body: FlowPanelBody) -> dict[str, Any]:
    """Create a flow with the client's uid (DB-GPT's clients choose it) in the caller's default project."""
    from flowless.clock import new_id
    from flowless.langflow.flows import resolve_project

    extras = body.extras()
    extras["state"], extras["error_message"] = _deployed_state(body.state, body.flow_data)
    if extras["error_message"] is None:
        extras.pop("error_message")
    uid = body.uid or new_id()   # known before the write, since the trigger's default path holds it
    _keep_trigger_path(Flow(id=uid, user_id=user_id, name=body.name, data=body.flow_data, dbgpt=extras))
    values = {"name": body.name, "description": body.description, "data": body.flow_data,
              "locked": not body.editable, "dbgpt": extras, "folder_id": resolve_project(user_id, None)}
    flow = FlowRepository().create(user_id=user_id, values=values, flow_id=uid, unique_name=True)
    return flow_panel(flow, username)


def _get(user_id: str, uid: str) -> Flow:
    try:
        return FlowRepository().get(user_id=user_id, flow_id=uid)
    except NotFoundError:
        raise NotFoundError(f"Flow {uid} not found") from None


def get_flow(user_id: str, username: str, uid: str) -> dict[str, Any]:
    return flow_panel(_get(user_id, uid), username)


def update_flow(user_id: str, username: str, uid: str, body: FlowPanelBody) -> dict[str, Any]:
    """Update the flow in the path. A body uid, when sent, must be the same flow; the state must be one the
    current state may move to (DB-GPT's state machine)."""
    from flowless.dbgpt.graphs import is_langflow_view

    if body.uid and body.uid != uid:
        raise InvalidInputError(f"The body's uid {body.uid} is not the flow in the path, {uid}")
    current = _get(user_id, uid)
    if current.locked:
        raise PermissionDeniedError(f"Flow {uid} is not editable")
    if not can_change_state(_state_of(current), body.state):
        raise InvalidInputError(f"Flow {uid} state can't change from {_state_of(current)} to {body.state}")
    # No graph, or the view of the stored Langflow graph sent back: the stored graph stays.
    keep_data = body.flow_data is None or is_langflow_view(body.flow_data)
    data = current.data if keep_data else body.flow_data
    extras = {**(current.dbgpt or {}), **body.extras()}
    extras["state"], error = _deployed_state(body.state, data)
    extras.pop("error_message", None)
    if error:
        extras["error_message"] = error

    def apply(flow: Flow) -> None:
        flow.name, flow.description, flow.locked, flow.dbgpt = body.name, body.description, not body.editable, extras
        if not keep_data:
            flow.data = body.flow_data
        _keep_trigger_path(flow)

    return flow_panel(FlowRepository().update(user_id=user_id, flow_id=uid, changes=apply), username)


def delete_flow(user_id: str, username: str, uid: str) -> dict[str, Any]:
    """Delete the flow; answers it as it was."""
    flow = _get(user_id, uid)
    FlowRepository().delete(user_id=user_id, flow_id=uid)
    return flow_panel(flow, username)


def list_flows(user_id: str, username: str, *, page: int, page_size: int, name: str | None = None,
               uid: str | None = None, user_name: str | None = None, sys_code: str | None = None) -> dict[str, Any]:
    """DB-GPT's PaginationResult of the caller's flows, newest change first; filters are exact matches."""
    flows = FlowRepository().list_for(user_id)
    if user_name is not None and user_name != username:
        flows = []
    chosen = [f for f in flows
              if (name is None or f.name == name) and (uid is None or f.id == uid)
              and (sys_code is None or (f.dbgpt or {}).get("sys_code") == sys_code)]
    chosen.sort(key=lambda f: f.updated_at, reverse=True)
    start = (page - 1) * page_size
    return {"items": [flow_panel(f, username) for f in chosen[start:start + page_size]],
            "total_count": len(chosen), "total_pages": math.ceil(len(chosen) / page_size),
            "page": page, "page_size": page_size}
