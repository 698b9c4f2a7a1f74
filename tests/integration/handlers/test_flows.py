"""The flows function through its Lambda handler: Langflow's /api/v1/flows behaviour."""

from __future__ import annotations

import io
import json
import zipfile

from tests.support import multipart


def _flow(name="Flow", **extra):
    return {"name": name, "data": {"nodes": [], "edges": []}, **extra}


def test_sample_create_event_creates_the_seed_flow(invoke, load_event, make_account):
    owner = make_account()
    event = load_event("flows_create")
    event["headers"]["x-api-key"] = owner.key
    reply = invoke("flows", event)
    assert reply.status_code == 201
    body = reply.json()
    assert body["name"] == "string2" and body["endpoint_name"] == "string"
    assert body["user_id"] == owner.user_id and body["folder_id"]
    assert set(body) == {"name", "description", "icon", "icon_bg_color", "gradient", "data", "is_component",
                         "updated_at", "webhook", "endpoint_name", "tags", "locked", "mcp_enabled", "action_name",
                         "action_description", "access_type", "id", "user_id", "folder_id"}


def test_sample_get_event_for_a_missing_flow_is_404(invoke, load_event, make_account):
    event = load_event("flows_get")
    event["headers"]["x-api-key"] = make_account().key
    reply = invoke("flows", event)
    assert reply.status_code == 404 and reply.json() == {"detail": "Flow not found"}


def test_create_goes_to_the_default_project(api, make_account):
    owner = make_account()
    created = api.post("flows", "/api/v1/flows/", account=owner, json=_flow()).json()
    projects = api.get("projects", "/api/v1/projects/", account=owner).json()
    assert projects[0]["name"] == "Starter Project" and created["folder_id"] == projects[0]["id"]


def test_create_accepts_project_id_for_folder_id(api, make_account):
    owner = make_account()
    project = api.post("projects", "/api/v1/projects/", account=owner, json={"name": "P"}).json()
    created = api.post("flows", "/api/v1/flows/", account=owner, json=_flow(project_id=project["id"])).json()
    assert created["folder_id"] == project["id"]


def test_names_and_endpoints_are_suffixed(api, make_account):
    owner = make_account()
    first = api.post("flows", "/api/v1/flows/", account=owner, json=_flow(endpoint_name="ep")).json()
    second = api.post("flows", "/api/v1/flows", account=owner, json=_flow(endpoint_name="ep")).json()
    assert (first["name"], second["name"]) == ("Flow", "Flow (1)")
    assert (first["endpoint_name"], second["endpoint_name"]) == ("ep", "ep-1")


def test_invalid_fields_are_422_with_langflows_messages(api, make_account):
    owner = make_account()
    cases = [
        (_flow(endpoint_name="bad name!"),
         "Endpoint name must contain only letters, numbers, hyphens, and underscores"),
        ({"name": "x", "data": {"edges": []}}, "Flow must have nodes"),
        ({"name": "x", "data": {"nodes": []}}, "Flow must have edges"),
        (_flow(icon_bg_color="red"), "Icon background color must start with #"),
    ]
    for body, message in cases:
        reply = api.post("flows", "/api/v1/flows/", account=owner, json=body)
        assert reply.status_code == 422, body
        assert message in json.dumps(reply.json()["detail"])
    assert api.get("flows", "/api/v1/flows/", account=owner).json() == []


def test_list_all_is_an_array_and_paginated_is_a_page(api, make_account):
    owner = make_account()
    for i in range(3):
        api.post("flows", "/api/v1/flows/", account=owner, json=_flow(f"F{i}"))
    listed = api.get("flows", "/api/v1/flows/", account=owner, query={"get_all": "true"}).json()
    assert [f["name"] for f in listed] == ["F0", "F1", "F2"]
    page = api.get("flows", "/api/v1/flows/", account=owner,
                   query={"get_all": "false", "page": "2", "size": "2"}).json()
    assert page["total"] == 3 and page["page"] == 2 and page["size"] == 2 and page["pages"] == 2
    assert [f["name"] for f in page["items"]] == ["F2"]


def test_list_filters_components_and_headers(api, make_account):
    owner = make_account()
    api.post("flows", "/api/v1/flows/", account=owner, json=_flow("Flow"))
    api.post("flows", "/api/v1/flows/", account=owner, json=_flow("Comp", is_component=True))
    only = api.get("flows", "/api/v1/flows/", account=owner, query={"components_only": "true"}).json()
    assert [f["name"] for f in only] == ["Comp"]
    headers = api.get("flows", "/api/v1/flows/", account=owner, query={"header_flows": "true"}).json()
    assert {h["name"]: h["data"] for h in headers}["Flow"] is None
    assert "updated_at" not in headers[0]


def test_list_by_project(api, make_account):
    owner = make_account()
    project = api.post("projects", "/api/v1/projects/", account=owner, json={"name": "P"}).json()
    api.post("flows", "/api/v1/flows/", account=owner, json=_flow("In", folder_id=project["id"]))
    api.post("flows", "/api/v1/flows/", account=owner, json=_flow("Out"))
    listed = api.get("flows", "/api/v1/flows/", account=owner, query={"project_id": project["id"]}).json()
    assert [f["name"] for f in listed] == ["In"]


def test_patch_updates_and_clears_endpoint_name(api, make_account):
    owner = make_account()
    flow = api.post("flows", "/api/v1/flows/", account=owner, json=_flow(endpoint_name="ep")).json()
    reply = api.patch("flows", f"/api/v1/flows/{flow['id']}", account=owner,
                      json={"description": "new", "locked": True})
    body = reply.json()
    assert reply.status_code == 200 and body["description"] == "new" and body["locked"] is True
    assert body["endpoint_name"] is None  # absent endpoint_name clears it, as Langflow does
    assert body["updated_at"] >= flow["updated_at"]


def test_patch_recomputes_webhook_from_node_ids(api, make_account):
    owner = make_account()
    flow = api.post("flows", "/api/v1/flows/", account=owner, json=_flow()).json()
    data = {"nodes": [{"id": "Webhook-abcde", "data": {"type": "Webhook"}}], "edges": []}
    body = api.patch("flows", f"/api/v1/flows/{flow['id']}", account=owner, json={"data": data}).json()
    assert body["webhook"] is True


def test_patch_to_a_taken_name_is_400(api, make_account):
    owner = make_account()
    api.post("flows", "/api/v1/flows/", account=owner, json=_flow("A"))
    b = api.post("flows", "/api/v1/flows/", account=owner, json=_flow("B")).json()
    reply = api.patch("flows", f"/api/v1/flows/{b['id']}", account=owner, json={"name": "A"})
    assert reply.status_code == 400 and reply.json() == {"detail": "Name must be unique"}


def test_delete_one_and_many(api, make_account):
    owner = make_account()
    ids = [api.post("flows", "/api/v1/flows/", account=owner, json=_flow(f"F{i}")).json()["id"] for i in range(3)]
    reply = api.delete("flows", f"/api/v1/flows/{ids[0]}", account=owner)
    assert reply.json() == {"message": "Flow deleted successfully"}
    assert api.get("flows", f"/api/v1/flows/{ids[0]}", account=owner).status_code == 404
    reply = api.delete("flows", "/api/v1/flows/", account=owner,
                       json=[ids[1], ids[2], "3fa85f64-5717-4562-b3fc-2c963f66afa6"])
    assert reply.json() == {"deleted": 2}


def test_batch_creates_every_flow(api, make_account):
    owner = make_account()
    reply = api.post("flows", "/api/v1/flows/batch/", account=owner, json={"flows": [_flow("A"), _flow("B")]})
    assert reply.status_code == 201 and [f["name"] for f in reply.json()] == ["A", "B"]


def test_upload_one_export_and_a_flows_document(api, make_account, fixture_flow):
    owner = make_account()
    export = fixture_flow("SimpleAPITest")
    body, headers = multipart("file", "SimpleAPITest.json", json.dumps(export).encode())
    reply = api.post("flows", "/api/v1/flows/upload/", account=owner, body=body, headers=headers)
    assert reply.status_code == 201, reply.content
    [created] = reply.json()
    assert created["name"] == export["name"] and created["data"]["nodes"] == export["data"]["nodes"]
    assert created["id"] != export.get("id")  # an export's own id is ignored
    body, headers = multipart("file", "many.json", json.dumps({"flows": [export, export]}).encode())
    names = [f["name"] for f in api.post("flows", "/api/v1/flows/upload/", account=owner, body=body,
                                         headers=headers).json()]
    assert names == [f"{export['name']} (1)", f"{export['name']} (2)"]


def test_upload_into_a_project_and_a_zip(api, make_account, fixture_flow):
    owner = make_account()
    project = api.post("projects", "/api/v1/projects/", account=owner, json={"name": "P"}).json()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.json", json.dumps(fixture_flow("SimpleAPITest")))
        archive.writestr("b.json", json.dumps(fixture_flow("MemoryChatbotNoLLM")))
    body, headers = multipart("file", "flows.zip", buffer.getvalue(), "application/zip")
    reply = api.post("flows", "/api/v1/flows/upload/", account=owner, body=body, headers=headers,
                     query={"project_id": project["id"]})
    assert reply.status_code == 201
    assert {f["folder_id"] for f in reply.json()} == {project["id"]} and len(reply.json()) == 2


def test_upload_of_a_broken_file_is_400_and_stores_nothing(api, make_account):
    owner = make_account()
    for content in (b"{not json", b"[1, 2]", json.dumps({"flows": []}).encode()):
        body, headers = multipart("file", "x.json", content)
        reply = api.post("flows", "/api/v1/flows/upload/", account=owner, body=body, headers=headers)
        assert reply.status_code == 400, content
        assert isinstance(reply.json()["detail"], str)
    assert api.get("flows", "/api/v1/flows/", account=owner).json() == []


def test_download_one_is_json_and_several_a_zip(api, make_account):
    owner = make_account()
    secret = {"nodes": [{"id": "OpenAIModel-abcde", "data": {"type": "OpenAIModel", "node": {"template": {
        "api_key": {"password": True, "value": "sk-secret-value", "load_from_db": False}}}}}], "edges": []}
    a = api.post("flows", "/api/v1/flows/", account=owner, json={"name": "A", "data": secret}).json()
    b = api.post("flows", "/api/v1/flows/", account=owner, json=_flow("B")).json()
    one = api.post("flows", "/api/v1/flows/download/", account=owner, json=[a["id"]])
    assert one.status_code == 200 and one.json()["name"] == "A"
    assert "sk-secret-value" not in one.content.decode()
    several = api.post("flows", "/api/v1/flows/download/", account=owner, json=[a["id"], b["id"]])
    assert several.headers["content-type"] == "application/x-zip-compressed"
    assert "_langflow_flows.zip" in several.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(several.content)) as archive:
        assert sorted(archive.namelist()) == ["A.json", "B.json"]
    missing = api.post("flows", "/api/v1/flows/download/", account=owner,
                       json=["3fa85f64-5717-4562-b3fc-2c963f66afa6"])
    assert missing.status_code == 404 and missing.json() == {"detail": "No flows found."}


def test_basic_examples_are_flows_in_langflow_format(api):
    reply = api.get("flows", "/api/v1/flows/basic_examples/")
    examples = reply.json()
    assert reply.status_code == 200 and len(examples) >= 2
    for example in examples:
        types = {n["data"]["type"] for n in example["data"]["nodes"]}
        assert "ChatInput" in types and "ChatOutput" in types
        for edge in example["data"]["edges"]:
            assert edge["data"]["sourceHandle"]["id"] == edge["source"]
            assert "œ" in edge["sourceHandle"]
