"""DB-GPT's AWEL flow API (/api/v2/serve/awel/flows) over the same flows as Langflow's API."""

from __future__ import annotations

import itertools
import uuid

import pytest

from tests.support import upload_flow

PATH = "/api/v2/serve/awel/flows"
SEP = "___$$___"


def io(name: str, type_cls: str, is_list: bool = False) -> dict:
    return {"label": name, "name": name, "description": name, "is_list": is_list,
            "type_name": type_cls.rsplit(".", 1)[-1], "type_cls": type_cls}


BODY = "dbgpt.core.awel.trigger.http_trigger.CommonLLMHttpRequestBody"
OUTPUT = "dbgpt.core.interface.llm.ModelOutput"


def awel_node(name: str, category: str, operator_type: str, x: int = 0, inputs=(), outputs=()) -> dict:
    node_id = f"operator_{name}{SEP}{category}{SEP}v1_0"
    position = {"x": x, "y": 0, "zoom": 0}
    return {"id": node_id, "type": "customNode", "width": 320, "height": 300, "position": position,
            "position_absolute": position,
            "data": {"id": node_id, "flow_type": "operator", "name": name, "label": name, "description": name,
                     "category": category, "operator_type": operator_type, "version": "v1", "inputs": list(inputs),
                     "outputs": list(outputs), "parameters": []}}


def awel_graph(*nodes: dict) -> dict:
    edges = [{"id": f"{a['id']}|{b['id']}", "source": a["id"], "target": b["id"], "source_order": 0,
              "target_order": 0, "type": "buttonedge"} for a, b in itertools.pairwise(nodes)]
    return {"nodes": list(nodes), "edges": edges, "viewport": {"x": 0, "y": 0, "zoom": 1}}


def simple_chat_graph() -> dict:
    return awel_graph(
        awel_node("common_llm_http_trigger", "trigger", "input", outputs=[io("request_body", BODY)]),
        awel_node("higher_order_streaming_llm_operator", "llm", "map", 400,
                  inputs=[io("common_llm_request_body", BODY)], outputs=[io("streaming_model_output", OUTPUT)]),
        awel_node("openai_streaming_output_operator", "output_parser", "transform_stream", 800,
                  inputs=[io("model_output", OUTPUT, True)], outputs=[io("model_output", "builtins.str", True)]))


def panel(**fields) -> dict:
    body = {"uid": str(uuid.uuid4()), "label": "My Flow", "name": "my_flow", "description": "v1",
            "state": "initializing", "flow_data": simple_chat_graph()}
    body.update(fields)
    return body


def ok(reply) -> dict:
    assert reply.status_code == 200, reply.content
    body = reply.json()
    assert body["success"] is True and body["err_code"] is None and body["err_msg"] is None, body
    return body["data"]


def failed(reply, status: int, err_code: str) -> str:
    assert reply.status_code == status, reply.content
    body = reply.json()
    assert body["success"] is False and body["err_code"] == err_code and body["data"] is None, body
    return body["err_msg"]


@pytest.fixture
def owner(make_account):
    return make_account()


def test_create_keeps_the_client_uid_and_answers_the_flow_object(api, owner):
    sent = panel()
    flow = ok(api.post("awel_flows", PATH, json=sent, account=owner))
    assert flow["uid"] == sent["uid"] and flow["name"] == "my_flow" and flow["label"] == "My Flow"
    assert flow["flow_data"] == sent["flow_data"]          # a DB-GPT graph is kept as it came
    assert flow["state"] == "initializing" and flow["editable"] is True and flow["user_name"] == owner.username
    assert flow["flow_category"] == "chat_flow" and flow["source"] == "DBGPT-WEB" and flow["version"] == "0.1.1"
    assert flow["dag_id"] == f"flow_dag_my_flow_{sent['uid']}"
    assert len(flow["gmt_created"]) == 19 and flow["gmt_modified"] == flow["gmt_created"]
    assert ok(api.get("awel_flows", f"{PATH}/{sent['uid']}", account=owner)) == flow


def test_label_comes_from_the_name_as_in_db_gpt(api, owner):
    body = panel(flow_category="chat_flow", name="Hello World")
    del body["label"]
    flow = ok(api.post("awel_flows", PATH, json=body, account=owner))
    assert (flow["label"], flow["name"]) == ("Hello World", "chat_flow_Hello_World")


def test_deployed_supported_awel_flow_runs_and_unsupported_one_is_load_failed(api, owner):
    good = ok(api.post("awel_flows", PATH, json=panel(state="deployed"), account=owner))
    assert good["state"] == "running" and good["error_message"] is None
    graph = awel_graph(awel_node("common_llm_http_trigger", "trigger", "input"),
                       awel_node("knowledge_operator", "rag", "map", 400))
    bad = ok(api.post("awel_flows", PATH, json=panel(name="rag", state="deployed", flow_data=graph), account=owner))
    assert bad["state"] == "load_failed" and "knowledge_operator" in bad["error_message"]
    assert bad["flow_data"] == graph


def test_a_flow_made_here_runs_through_langflow_run(api, owner, fixture_flow):
    export = fixture_flow("SimpleAPITest")
    flow = ok(api.post("awel_flows", PATH, json=panel(flow_data=export["data"], state="developing"),
                       account=owner))
    reply = api.post("run", f"/api/v1/run/{flow['uid']}", json={"input_value": "hi"}, account=owner)
    assert reply.status_code == 200, reply.content
    assert reply.json()["outputs"][0]["outputs"][0]["results"]["message"]["text"] == "hi"
    # ...and Langflow's API sees the same record, with the graph as it was sent.
    langflow_view = api.get("flows", f"/api/v1/flows/{flow['uid']}", account=owner).json()
    assert langflow_view["name"] == "my_flow" and langflow_view["data"] == export["data"]


def test_a_langflow_flow_is_listed_with_its_id_and_a_db_gpt_shaped_view(api, owner):
    created = upload_flow(api, "SimpleAPITest", account=owner)
    page = ok(api.get("awel_flows", PATH, account=owner))
    assert page["total_count"] == 1 and page["page"] == 1 and page["page_size"] == 20
    flow = page["items"][0]
    assert flow["uid"] == created["id"] and flow["name"] == created["name"] and flow["state"] == "running"
    assert flow["source"] == "LANGFLOW" and flow["flow_category"] == "chat_flow"
    view = flow["flow_data"]
    assert {n["id"] for n in view["nodes"]} == {n["id"] for n in created["data"]["nodes"]}
    assert all(n["data"]["flow_type"] == "operator" for n in view["nodes"])


def test_update_without_or_with_the_view_keeps_the_stored_langflow_graph(api, owner):
    created = upload_flow(api, "SimpleAPITest", account=owner)
    flow = ok(api.get("awel_flows", f"{PATH}/{created['id']}", account=owner))
    for flow_data in (None, flow["flow_data"]):
        sent = {**flow, "flow_data": flow_data, "description": "changed"}
        updated = ok(api.request("awel_flows", "PUT", f"{PATH}/{created['id']}", json=sent, account=owner))
        assert updated["description"] == "changed"
        stored = api.get("flows", f"/api/v1/flows/{created['id']}", account=owner).json()
        assert stored["data"] == created["data"] and stored["description"] == "changed"


def test_update_follows_the_state_machine_and_the_path_uid(api, owner):
    flow = ok(api.post("awel_flows", PATH, json=panel(state="deployed"), account=owner))
    uid = flow["uid"]
    updated = ok(api.request("awel_flows", "PUT", f"{PATH}/{uid}",
                             json={**flow, "description": "v2", "state": "deployed"}, account=owner))
    assert updated["description"] == "v2" and updated["state"] == "running"
    message = failed(api.request("awel_flows", "PUT", f"{PATH}/{uid}", json={**flow, "state": "initializing"},
                                 account=owner), 400, "E0003")
    assert message == f"Flow {uid} state can't change from running to initializing"
    other = str(uuid.uuid4())
    message = failed(api.request("awel_flows", "PUT", f"{PATH}/{uid}", json={**flow, "uid": other},
                                 account=owner), 400, "E0003")
    assert other in message and uid in message
    assert ok(api.get("awel_flows", f"{PATH}/{uid}", account=owner))["description"] == "v2"


def test_a_flow_that_is_not_editable_refuses_updates(api, owner):
    flow = ok(api.post("awel_flows", PATH, json=panel(editable=False), account=owner))
    message = failed(api.request("awel_flows", "PUT", f"{PATH}/{flow['uid']}", json=flow, account=owner),
                     403, "403")
    assert message == f"Flow {flow['uid']} is not editable"


def test_bad_bodies_get_e0001_and_store_nothing(api, owner):
    for body, where in (({"label": "x"}, "body.name"), (panel(state="DEPLOYED"), "body.state"),
                        (panel(uid="not-a-uuid"), "body.uid"), (panel(flow_data={"nodes": 3}), "body.flow_data")):
        message = failed(api.post("awel_flows", PATH, json=body, account=owner), 400, "E0001")
        assert message.startswith(where) and message.endswith(";")
    assert ok(api.get("awel_flows", PATH, account=owner))["total_count"] == 0


def test_uids_and_names_are_unique(api, owner, make_account):
    sent = panel()
    ok(api.post("awel_flows", PATH, json=sent, account=owner))
    assert "already exists" in failed(api.post("awel_flows", PATH, json={**sent, "name": "other"}, account=owner),
                                      400, "E0003")
    # Another user cannot take the uid either: flow ids are global.
    failed(api.post("awel_flows", PATH, json={**sent, "name": "other"}, account=make_account()), 400, "E0003")
    assert "already exists" in failed(api.post("awel_flows", PATH, json=panel(), account=owner), 400, "E0003")


def test_delete_answers_the_deleted_flow_then_404(api, owner):
    flow = ok(api.post("awel_flows", PATH, json=panel(), account=owner))
    deleted = ok(api.delete("awel_flows", f"{PATH}/{flow['uid']}", account=owner))
    assert deleted["uid"] == flow["uid"]
    assert failed(api.get("awel_flows", f"{PATH}/{flow['uid']}", account=owner), 404, "404") == \
        f"Flow {flow['uid']} not found"
    assert api.get("flows", f"/api/v1/flows/{flow['uid']}", account=owner).status_code == 404
    # The uid is free again.
    ok(api.post("awel_flows", PATH, json=panel(uid=flow["uid"]), account=owner))


def test_list_pages_and_filters(api, owner):
    uids = [ok(api.post("awel_flows", PATH, json=panel(name=f"f{i}", sys_code="a" if i % 2 else "b"),
                        account=owner))["uid"] for i in range(5)]
    page = ok(api.get("awel_flows", PATH, query={"page": "2", "page_size": "2"}, account=owner))
    assert (page["total_count"], page["total_pages"], page["page"], page["page_size"]) == (5, 3, 2, 2)
    assert [f["uid"] for f in page["items"]] == [uids[2], uids[1]]          # newest change first
    assert [f["uid"] for f in ok(api.get("awel_flows", PATH, query={"name": "f3"}, account=owner))["items"]] \
        == [uids[3]]
    assert ok(api.get("awel_flows", PATH, query={"sys_code": "a"}, account=owner))["total_count"] == 2
    assert ok(api.get("awel_flows", PATH, query={"user_name": "someone-else"}, account=owner))["total_count"] == 0


def test_another_users_flow_is_not_found(api, owner, make_account):
    flow = ok(api.post("awel_flows", PATH, json=panel(), account=owner))
    stranger = make_account()
    for method in ("GET", "DELETE"):
        failed(api.request("awel_flows", method, f"{PATH}/{flow['uid']}", account=stranger), 404, "404")
    failed(api.request("awel_flows", "PUT", f"{PATH}/{flow['uid']}", json=flow, account=stranger), 404, "404")
    assert ok(api.get("awel_flows", PATH, account=stranger))["total_count"] == 0
    assert ok(api.get("awel_flows", f"{PATH}/{flow['uid']}", account=owner))["description"] == "v1"


def test_keys_are_checked_with_db_gpts_401(api, owner):
    message = failed(api.get("awel_flows", PATH, headers={"authorization": "Bearer sk-wrong"}), 401, "401")
    assert "invalid_api_key" in message
    ok(api.get("awel_flows", PATH, headers={"authorization": f"Bearer {owner.key}"}))


def test_the_v1_mount_is_the_same_api_over_the_same_flows(api, owner, make_account):
    v1 = "/api/v1/serve/awel/flows"
    flow = ok(api.post("awel_flows", v1, json=panel(), account=owner))
    assert ok(api.get("awel_flows", f"{PATH}/{flow['uid']}", account=owner))["uid"] == flow["uid"]
    assert [f["uid"] for f in ok(api.get("awel_flows", v1, account=owner))["items"]] == [flow["uid"]]
    updated = ok(api.request("awel_flows", "PUT", f"{v1}/{flow['uid']}", account=owner,
                             json=panel(uid=flow["uid"], description="v2")))
    assert updated["description"] == "v2"
    # Errors keep DB-GPT's envelope on this mount too, and other users' flows stay out of reach.
    assert failed(api.get("awel_flows", f"{v1}/{flow['uid']}", account=make_account()), 404, "404")
    assert failed(api.post("awel_flows", v1, json={"name": ""}, account=owner), 400, "E0001")
    ok(api.delete("awel_flows", f"{v1}/{flow['uid']}", account=owner))
    assert ok(api.get("awel_flows", PATH, account=owner))["items"] == []
