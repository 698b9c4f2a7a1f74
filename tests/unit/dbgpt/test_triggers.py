"""Where a deployed AWEL flow's trigger answers, as DB-GPT mounts it."""

from __future__ import annotations

import pytest

from flowless.dbgpt.triggers import TRIGGER_ROOT, flow_trigger
from flowless.store.flows import Flow
from tests.integration.handlers.test_dbgpt_flows import simple_chat_graph

UID = "0b6f1d38-5d1c-4a47-9a51-1e5f3c3f0a11"


def flow(state: str = "running", dag_id: str | None = None, **trigger_parameters) -> Flow:
    graph = simple_chat_graph()
    graph["nodes"][0]["data"]["parameters"] = [{"name": k, "value": v} for k, v in trigger_parameters.items()]
    extras = {"state": state, **({"dag_id": dag_id} if dag_id else {})}
    return Flow(id=UID, user_id="u", name="my chat", data=graph, dbgpt=extras)


def test_the_default_endpoint_holds_the_dag_id():
    trigger = flow_trigger(flow())
    assert trigger.path == f"{TRIGGER_ROOT}/example/flow_dag_my_chat_{UID}"
    assert trigger.methods == ("POST",) and trigger.streaming and trigger.sse


@pytest.mark.parametrize(("endpoint", "methods", "path", "expected"), [
    ("/team/{dag_id}/chat", "PUT", f"{TRIGGER_ROOT}/team/mine/chat", ("PUT",)),
    ("plain", "post, put", f"{TRIGGER_ROOT}/plain", ("POST", "PUT")),
    ("/slashes/", ["get"], f"{TRIGGER_ROOT}/slashes", ("GET",)),
])
def test_parameters_set_the_path_and_methods(endpoint, methods, path, expected):
    trigger = flow_trigger(flow(dag_id="mine", endpoint=endpoint, methods=methods))
    assert (trigger.path, trigger.methods) == (path, expected)


def test_flows_not_running_or_not_awel_have_no_trigger():
    assert flow_trigger(flow(state="disabled")) is None
    assert flow_trigger(Flow(id=UID, user_id="u", name="x", data={"nodes": [], "edges": []}, dbgpt=None)) is None
