"""DB-GPT's AWEL HTTP triggers: a deployed AWEL chat flow answers at /api/v1/awel/trigger/<endpoint>, where
DB-GPT mounts its `common_llm_http_trigger`, and its Flow object publishes that path in `metadata.triggers`
(what dbgpt-client's `run_flow_cmd` and the `dbgpt run flow cmd` CLI call).

The endpoint is the trigger's `endpoint` parameter (default "/example/{dag_id}") with `{dag_id}` filled in, so
the default path ends with the flow's uid and is found with one read. A custom endpoint is found through the
path kept with the flow when it was saved (`trigger_path`), and checked against the stored graph.

Unlike DB-GPT, the routes need an API key, and each caller reaches only their own flows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flowless.dbgpt import RUNNABLE_STATES
from flowless.errors import NotFoundError

__all__ = ["TRIGGER_ROOT", "Trigger", "dag_id_of", "find_trigger", "flow_trigger", "trigger_metadata"]

TRIGGER_ROOT = "/api/v1/awel/trigger"
_DAG_ID = "{dag_id}"
_DEFAULT_ENDPOINT = "/example/" + _DAG_ID
_DEFAULT_METHODS = ("POST",)
# Leaves whose operator streams (DB-GPT's `streaming_operator`), and those writing SSE (`output_format`).
_STREAMING_LEAVES = ("higher_order_streaming_llm_operator", "openai_streaming_output_operator",
                     "common_streaming_output_operator")
_SSE_LEAVES = ("openai_streaming_output_operator", "common_streaming_output_operator")
_UID_AT_END = re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/?$")


@dataclass(frozen=True)
class Trigger:
    """Where a flow answers and what its leaf operator writes."""

    path: str
    methods: tuple[str, ...]
    leaf: str

    @property
    def streaming(self) -> bool:
        return self.leaf in _STREAMING_LEAVES

    @property
    def sse(self) -> bool:
        return self.leaf in _SSE_LEAVES

    def metadata(self) -> dict[str, Any]:
        """DB-GPT's DAG metadata for the flow."""
        return {"sse_output": self.sse, "streaming_output": self.streaming, "tags": None, "triggers": [
            {"trigger_type": "http", "path": self.path, "methods": list(self.methods), "trigger_mode": "chat"}]}


def dag_id_of(flow: Any) -> str:
    """DB-GPT's DAG id: the one the client sent, else flow_dag_<name>_<uid>."""
    return (flow.dbgpt or {}).get("dag_id") or f"flow_dag_{flow.name.replace(' ', '_')}_{flow.id}"


def _methods(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) and value.strip():
        return tuple(part.strip().upper() for part in value.split(",") if part.strip())
    if isinstance(value, list) and value:
        return tuple(str(part).upper() for part in value)
    return _DEFAULT_METHODS


def _path(endpoint: Any, dag_id: str) -> str:
    endpoint = str(endpoint or _DEFAULT_ENDPOINT).replace(_DAG_ID, dag_id).strip("/")
    return f"{TRIGGER_ROOT}/{endpoint}" if endpoint else TRIGGER_ROOT


def flow_trigger(flow: Any) -> Trigger | None:
    """The trigger of a deployed AWEL flow that runs here; None for anything else."""
    from flowless.dbgpt.graphs import awel_outline, graph_format
    from flowless.errors import InvalidFlowError

    if not flow.dbgpt or flow.dbgpt.get("state") not in RUNNABLE_STATES or graph_format(flow.data) != "awel":
        return None
    try:
        outline = awel_outline(flow.data)
    except InvalidFlowError:
        return None
    parameters = outline.trigger_parameters
    return Trigger(_path(parameters.get("endpoint"), dag_id_of(flow)), _methods(parameters.get("methods")),
                   outline.leaf)


def trigger_metadata(flow: Any) -> dict[str, Any] | None:
    """The `metadata` of DB-GPT's Flow object: set once the flow is deployed and runs, else null."""
    trigger = flow_trigger(flow)
    return trigger.metadata() if trigger else None


def find_trigger(user_id: str, path: str) -> tuple[Any, Trigger]:
    """The caller's flow answering at `path` (a full /api/v1/awel/trigger/... path), with its trigger."""
    from flowless.store.flows import FlowRepository

    path = path.rstrip("/")
    repository = FlowRepository()

    def candidates() -> Iterator[str]:
        found = _UID_AT_END.search(path)
        if found:
            yield found.group(1)
        # A custom endpoint: the flows whose saved trigger path is this one (ids and small fields only).
        yield from (flow.id for flow in repository.list_for(user_id, with_data=False)
                    if (flow.dbgpt or {}).get("trigger_path") == path)

    for flow_id in dict.fromkeys(candidates()):
        try:
            flow = repository.get(user_id=user_id, flow_id=flow_id)
        except NotFoundError:
            continue
        trigger = flow_trigger(flow)
        if trigger is not None and trigger.path == path:
            return flow, trigger
    raise NotFoundError(f"No deployed AWEL flow of yours answers at {path}")
