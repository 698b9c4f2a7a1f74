"""The projects function through its Lambda handler: Langflow's /api/v1/projects behaviour."""

from __future__ import annotations

import io
import json
import zipfile

from tests.support import multipart


def _flow(api, owner, name, **extra):
    return api.post("flows", "/api/v1/flows/", account=owner,
                    json={"name": name, "data": {"nodes": [], "edges": []}, **extra}).json()


def test_sample_events_list_and_create(invoke, load_event, make_account):
    owner = make_account()
    created_event = load_event("projects_create")
    created_event["headers"]["x-api-key"] = owner.key
    created = invoke("projects", created_event)
    assert created.status_code == 201
    assert set(created.json()) == {"name", "description", "auth_settings", "id", "parent_id"}
    listed_event = load_event("projects_list")
    listed_event["headers"]["x-api-key"] = owner.key
    names = [p["name"] for p in invoke("projects", listed_event).json()]
    assert names == ["Starter Project", "new_project_name"]


def test_create_moves_the_listed_flows(api, make_account):
    owner = make_account()
    flow = _flow(api, owner, "F")
    project = api.post("projects", "/api/v1/projects/", account=owner,
                       json={"name": "P", "flows_list": [flow["id"]], "components_list": []}).json()
    assert api.get("flows", f"/api/v1/flows/{flow['id']}", account=owner).json()["folder_id"] == project["id"]


def test_project_names_are_suffixed(api, make_account):
    owner = make_account()
    names = [api.post("projects", "/api/v1/projects/", account=owner, json={"name": "P"}).json()["name"]
             for _ in range(2)]
    assert names == ["P", "P (1)"]


def test_read_with_and_without_pagination(api, make_account):
    owner = make_account()
    project = api.post("projects", "/api/v1/projects/", account=owner, json={"name": "P"}).json()
    for name in ("alpha", "beta", "gamma"):
        _flow(api, owner, name, folder_id=project["id"])
    _flow(api, owner, "comp", folder_id=project["id"], is_component=True)
    whole = api.get("projects", f"/api/v1/projects/{project['id']}", account=owner).json()
    assert whole["id"] == project["id"] and len(whole["flows"]) == 4
    paged = api.get("projects", f"/api/v1/projects/{project['id']}", account=owner,
                    query={"page": "1", "size": "2", "is_flow": "true"}).json()
    assert paged["folder"]["id"] == project["id"]
    assert paged["flows"]["total"] == 3 and len(paged["flows"]["items"]) == 2
    assert [f["name"] for f in paged["flows"]["items"]] == ["gamma", "beta"]  # newest change first
    searched = api.get("projects", f"/api/v1/projects/{project['id']}", account=owner,
                       query={"page": "1", "size": "10", "search": "ph"}).json()
    assert [f["name"] for f in searched["flows"]["items"]] == ["alpha"]
    only_page = api.get("projects", f"/api/v1/projects/{project['id']}", account=owner, query={"page": "1"}).json()
    assert "flows" in only_page and isinstance(only_page["flows"], list)


def test_patch_renames_but_never_changes_membership(api, make_account):
    owner = make_account()
    project = api.post("projects", "/api/v1/projects/", account=owner, json={"name": "P"}).json()
    flow = _flow(api, owner, "F", folder_id=project["id"])
    reply = api.patch("projects", f"/api/v1/projects/{project['id']}", account=owner,
                      json={"name": "Renamed", "description": "d", "flows": [], "components": []})
    assert reply.status_code == 200 and reply.json()["name"] == "Renamed"
    assert api.get("flows", f"/api/v1/flows/{flow['id']}", account=owner).json()["folder_id"] == project["id"]


def test_delete_is_204_and_deletes_its_flows(api, make_account):
    owner = make_account()
    project = api.post("projects", "/api/v1/projects/", account=owner, json={"name": "P"}).json()
    flow = _flow(api, owner, "F", folder_id=project["id"])
    kept = _flow(api, owner, "Kept")
    reply = api.delete("projects", f"/api/v1/projects/{project['id']}", account=owner)
    assert reply.status_code == 204 and reply.content == b""
    assert api.get("flows", f"/api/v1/flows/{flow['id']}", account=owner).status_code == 404
    assert api.get("flows", f"/api/v1/flows/{kept['id']}", account=owner).status_code == 200
    assert api.get("projects", f"/api/v1/projects/{project['id']}", account=owner).status_code == 404


def test_download_is_a_zip_and_upload_recreates_it(api, make_account):
    owner = make_account()
    project = api.post("projects", "/api/v1/projects/", account=owner, json={"name": "Mine"}).json()
    _flow(api, owner, "A", folder_id=project["id"])
    _flow(api, owner, "B", folder_id=project["id"])
    reply = api.get("projects", f"/api/v1/projects/download/{project['id']}", account=owner)
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/x-zip-compressed"
    assert "_Mine_flows.zip" in reply.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(reply.content)) as archive:
        assert sorted(archive.namelist()) == ["A.json", "B.json"]
    body, headers = multipart("file", "Mine.zip", reply.content, "application/zip")
    uploaded = api.post("projects", "/api/v1/projects/upload/", account=owner, body=body, headers=headers)
    assert uploaded.status_code == 201 and sorted(f["name"] for f in uploaded.json()) == ["A (1)", "B (1)"]
    names = [p["name"] for p in api.get("projects", "/api/v1/projects/", account=owner).json()]
    assert "Mine (1)" in names


def test_upload_of_langflows_project_json(api, make_account):
    owner = make_account()
    doc = {"folder_name": "Imported", "folder_description": "from json",
           "flows": [{"name": "X", "data": {"nodes": [], "edges": []}}]}
    body, headers = multipart("file", "project.json", json.dumps(doc).encode())
    reply = api.post("projects", "/api/v1/projects/upload/", account=owner, body=body, headers=headers)
    assert reply.status_code == 201
    projects = {p["name"]: p for p in api.get("projects", "/api/v1/projects/", account=owner).json()}
    assert projects["Imported"]["description"] == "from json"
    assert reply.json()[0]["folder_id"] == projects["Imported"]["id"]


def test_download_of_an_empty_or_missing_project_is_404(api, make_account):
    owner = make_account()
    project = api.post("projects", "/api/v1/projects/", account=owner, json={"name": "Empty"}).json()
    reply = api.get("projects", f"/api/v1/projects/download/{project['id']}", account=owner)
    assert reply.status_code == 404 and reply.json() == {"detail": "No flows found in project"}
    reply = api.get("projects", "/api/v1/projects/download/3fa85f64-5717-4562-b3fc-2c963f66afa6", account=owner)
    assert reply.status_code == 404 and reply.json() == {"detail": "Project not found"}
