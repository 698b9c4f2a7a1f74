"""Two users: every record is scoped to its owner; another user's flow or project is a 404 on every route."""

from __future__ import annotations

import io
import zipfile


def _setup(api, make_account):
    alice, bob = make_account(), make_account()
    project = api.post("projects", "/api/v1/projects/", account=alice, json={"name": "Alice's"}).json()
    flow = api.post("flows", "/api/v1/flows/", account=alice,
                    json={"name": "Private", "endpoint_name": "private", "folder_id": project["id"],
                          "data": {"nodes": [], "edges": []}}).json()
    return alice, bob, project, flow


def test_another_users_flow_is_404_on_every_flow_route(api, make_account):
    alice, bob, _project, flow = _setup(api, make_account)
    path = f"/api/v1/flows/{flow['id']}"
    assert api.get("flows", path, account=bob).status_code == 404
    assert api.patch("flows", path, account=bob, json={"name": "mine now"}).status_code == 404
    assert api.delete("flows", path, account=bob).status_code == 404
    assert api.delete("flows", "/api/v1/flows/", account=bob, json=[flow["id"]]).json() == {"deleted": 0}
    assert api.post("flows", "/api/v1/flows/download/", account=bob, json=[flow["id"]]).status_code == 404
    assert api.get("flows", "/api/v1/flows/", account=bob).json() == []
    # Alice still has it, unchanged.
    assert api.get("flows", path, account=alice).json()["name"] == "Private"


def test_another_users_project_is_404_on_every_project_route(api, make_account):
    alice, bob, project, flow = _setup(api, make_account)
    path = f"/api/v1/projects/{project['id']}"
    assert api.get("projects", path, account=bob).status_code == 404
    assert api.get("projects", path, account=bob, query={"page": "1", "size": "5"}).status_code == 404
    assert api.patch("projects", path, account=bob, json={"name": "x"}).status_code == 404
    assert api.delete("projects", path, account=bob).status_code == 404
    assert api.get("projects", f"/api/v1/projects/download/{project['id']}", account=bob).status_code == 404
    assert project["id"] not in [p["id"] for p in api.get("projects", "/api/v1/projects/", account=bob).json()]
    assert api.get("projects", path, account=alice).json()["flows"][0]["id"] == flow["id"]


def test_flows_cannot_be_moved_into_or_out_of_another_users_project(api, make_account):
    alice, bob, project, flow = _setup(api, make_account)
    bobs = api.post("flows", "/api/v1/flows/", account=bob, json={"name": "Bob's"}).json()
    assert api.patch("flows", f"/api/v1/flows/{bobs['id']}", account=bob,
                     json={"folder_id": project["id"]}).status_code == 404
    assert api.post("flows", "/api/v1/flows/", account=bob,
                    json={"name": "x", "folder_id": project["id"]}).status_code == 404
    stolen = api.post("projects", "/api/v1/projects/", account=bob, json={"name": "B", "flows_list": [flow["id"]]})
    assert stolen.status_code == 201
    assert api.get("flows", f"/api/v1/flows/{flow['id']}", account=alice).json()["folder_id"] == project["id"]


def test_names_and_endpoint_names_are_per_user(api, make_account):
    _alice, bob, _project, _flow = _setup(api, make_account)
    bobs = api.post("flows", "/api/v1/flows/", account=bob, json={"name": "Private", "endpoint_name": "private"}).json()
    assert (bobs["name"], bobs["endpoint_name"]) == ("Private", "private")


def test_api_keys_are_scoped(api, make_account):
    alice, bob, _project, _flow = _setup(api, make_account)
    alices_key_id = api.get("users", "/api/v1/api_key/", account=alice).json()["api_keys"][0]["id"]
    assert api.delete("users", f"/api/v1/api_key/{alices_key_id}", account=bob).status_code == 400
    assert api.get("users", "/api/v1/users/whoami", account=alice).status_code == 200
    assert all(k["user_id"] == bob.user_id
               for k in api.get("users", "/api/v1/api_key/", account=bob).json()["api_keys"])


def test_project_download_contains_only_the_owners_flows(api, make_account):
    alice, _bob, project, _flow = _setup(api, make_account)
    reply = api.get("projects", f"/api/v1/projects/download/{project['id']}", account=alice)
    with zipfile.ZipFile(io.BytesIO(reply.content)) as archive:
        assert archive.namelist() == ["Private.json"]
