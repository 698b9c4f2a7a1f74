"""Bad input: a clear 4xx in Langflow's shape, never a 5xx, and stored data left untouched."""

from __future__ import annotations

import os

import pytest

from flowless.settings import get_settings


@pytest.fixture
def owner_with_flow(api, make_account):
    owner = make_account()
    flow = api.post("flows", "/api/v1/flows/", account=owner,
                    json={"name": "Keep", "data": {"nodes": [], "edges": []}}).json()
    return owner, flow


def _unchanged(api, owner, flow):
    assert api.get("flows", f"/api/v1/flows/{flow['id']}", account=owner).json() == flow


@pytest.mark.parametrize("body", [b"{not json", b'{"name": ', b"\xff\xfe", b""])
def test_malformed_json_is_422(api, owner_with_flow, body):
    owner, flow = owner_with_flow
    reply = api.patch("flows", f"/api/v1/flows/{flow['id']}", account=owner, body=body,
                      headers={"content-type": "application/json"})
    assert reply.status_code == 422 and "detail" in reply.json()
    _unchanged(api, owner, flow)


@pytest.mark.parametrize("body", [
    {"name": 5}, {"name": ["x"]}, {"data": "nodes"}, {"tags": "x"}, {"locked": "very"}, {"access_type": "OPEN"},
    {"name": ""},
])
def test_wrong_types_are_422_naming_the_field(api, owner_with_flow, body):
    owner, flow = owner_with_flow
    reply = api.patch("flows", f"/api/v1/flows/{flow['id']}", account=owner, json=body)
    assert reply.status_code == 422
    [field] = body
    assert any(field in err["loc"] for err in reply.json()["detail"])
    _unchanged(api, owner, flow)


@pytest.mark.parametrize("function,method,path", [
    ("flows", "GET", "/api/v1/flows/not-a-uuid"),
    ("flows", "PATCH", "/api/v1/flows/123"),
    ("flows", "DELETE", "/api/v1/flows/%2E%2E"),
    ("projects", "GET", "/api/v1/projects/zzz"),
    ("projects", "GET", "/api/v1/projects/download/zzz"),
    ("users", "DELETE", "/api/v1/api_key/xyz"),
])
def test_bad_uuids_are_422(api, owner_with_flow, function, method, path):
    owner, _flow = owner_with_flow
    reply = api.request(function, method, path, account=owner, json={})
    assert reply.status_code == 422, reply.content
    assert reply.json()["detail"][0]["type"] == "uuid_parsing"


@pytest.mark.parametrize("function,method,path", [
    ("flows", "GET", "/api/v1/flows/3fa85f64-5717-4562-b3fc-2c963f66afa6"),
    ("flows", "PATCH", "/api/v1/flows/3fa85f64-5717-4562-b3fc-2c963f66afa6"),
    ("flows", "DELETE", "/api/v1/flows/3fa85f64-5717-4562-b3fc-2c963f66afa6"),
    ("projects", "GET", "/api/v1/projects/3fa85f64-5717-4562-b3fc-2c963f66afa6"),
    ("projects", "PATCH", "/api/v1/projects/3fa85f64-5717-4562-b3fc-2c963f66afa6"),
    ("projects", "DELETE", "/api/v1/projects/3fa85f64-5717-4562-b3fc-2c963f66afa6"),
])
def test_unknown_ids_are_404_with_a_detail(api, owner_with_flow, function, method, path):
    owner, _ = owner_with_flow
    reply = api.request(function, method, path, account=owner, json={})
    assert reply.status_code == 404
    assert reply.json()["detail"] in ("Flow not found", "Project not found")


def test_oversized_body_is_413_and_stores_nothing(api, owner_with_flow):
    owner, _flow = owner_with_flow
    os.environ["FLOWLESS_MAX_FILE_SIZE_UPLOAD"] = "1"
    get_settings.cache_clear()
    big = b'{"name": "big", "description": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    reply = api.post("flows", "/api/v1/flows/", account=owner, body=big,
                     headers={"content-type": "application/json", "content-length": str(len(big))})
    assert reply.status_code == 413
    assert reply.json()["detail"].startswith("Content size limit exceeded. Maximum allowed is 1MB and got")
    assert [f["name"] for f in api.get("flows", "/api/v1/flows/", account=owner).json()] == ["Keep"]


def test_unknown_route_is_404_not_found(api, owner_with_flow):
    owner, _ = owner_with_flow
    reply = api.get("flows", "/api/v1/flows/3fa85f64-5717-4562-b3fc-2c963f66afa6/extra", account=owner)
    assert reply.status_code == 404 and reply.json() == {"detail": "Not Found"}


def test_bad_query_values_are_422(api, owner_with_flow):
    owner, _ = owner_with_flow
    for query in ({"page": "0", "get_all": "false"}, {"size": "1000", "get_all": "false"}, {"get_all": "maybe"},
                  {"project_id": "nope"}):
        reply = api.get("flows", "/api/v1/flows/", account=owner, query=query)
        assert reply.status_code == 422, query


def test_batch_with_one_bad_flow_creates_none(api, owner_with_flow):
    owner, _flow = owner_with_flow
    reply = api.post("flows", "/api/v1/flows/batch/", account=owner,
                     json={"flows": [{"name": "ok"}, {"name": "bad", "endpoint_name": "no spaces"}]})
    assert reply.status_code == 422
    assert [f["name"] for f in api.get("flows", "/api/v1/flows/", account=owner).json()] == ["Keep"]


def test_missing_upload_file_is_422(api, owner_with_flow):
    owner, _ = owner_with_flow
    reply = api.post("flows", "/api/v1/flows/upload/", account=owner, body=b"",
                     headers={"content-type": "multipart/form-data; boundary=x"})
    assert 400 <= reply.status_code < 500
