"""Bad input at DB-GPT's doors: a 4xx in DB-GPT's Result envelope (never a 5xx), and stored data untouched."""

from __future__ import annotations

import pytest

from tests.integration.handlers.test_dbgpt_flows import PATH as FLOWS
from tests.integration.handlers.test_dbgpt_flows import ok, panel

APPS = "/api/v2/serve/apps"
CHAT = "/api/v2/chat/completions"
GARBAGE = [b"{not json", b'{"name": ', b"\xff\xfe", b"", b"[]", b"5", b"null"]


@pytest.fixture
def stored(api, make_account):
    owner = make_account()
    flow = ok(api.post("awel_flows", FLOWS, json=panel(), account=owner))
    app = ok(api.post("apps", APPS, json={"app_name": "a", "app_describe": "d", "team_mode": "awel_layout",
                                          "team_context": {"uid": flow["uid"]}}, account=owner))
    return owner, flow, app


def _refused(reply) -> dict:
    assert 400 <= reply.status_code < 500, reply.content
    body = reply.json()
    assert body["success"] is False and body["data"] is None and body["err_msg"], body
    return body


def _unchanged(api, owner, flow, app):
    assert ok(api.get("awel_flows", f"{FLOWS}/{flow['uid']}", account=owner)) == flow
    assert ok(api.get("apps", f"{APPS}/{app['app_code']}", account=owner)) == app


@pytest.mark.parametrize("raw", GARBAGE)
def test_malformed_bodies_are_e0001(api, stored, raw):
    owner, flow, app = stored
    headers = {"content-type": "application/json"}
    for function, method, path in (("awel_flows", "POST", FLOWS), ("awel_flows", "PUT", f"{FLOWS}/{flow['uid']}"),
                                   ("apps", "POST", APPS), ("apps", "PUT", f"{APPS}/{app['app_code']}"),
                                   ("run", "POST", CHAT)):
        body = _refused(api.request(function, method, path, body=raw, headers=headers, account=owner))
        assert body["err_code"] == "E0001", (function, method, raw, body)
    _unchanged(api, owner, flow, app)


@pytest.mark.parametrize("changes", [
    {"name": 5}, {"label": ["x"]}, {"editable": "very"}, {"state": "gone"}, {"flow_data": "nodes"},
    {"flow_data": {"nodes": "x", "edges": []}}, {"variables": "x"}, {"authors": [{"a": 1}]}, {"name": ""},
])
def test_wrong_flow_fields_are_refused_and_change_nothing(api, stored, changes):
    owner, flow, app = stored
    body = _refused(api.request("awel_flows", "PUT", f"{FLOWS}/{flow['uid']}", json={**flow, **changes},
                                account=owner))
    assert body["err_code"] == "E0001"
    _unchanged(api, owner, flow, app)


@pytest.mark.parametrize("changes", [
    {"details": "x"}, {"team_mode": "solo"}, {"is_collected": "maybe"}, {"team_context": {"uid": "not-mine"}},
    {"details": [{"resources": "x"}]},
])
def test_wrong_app_fields_are_refused_and_change_nothing(api, stored, changes):
    owner, flow, app = stored
    _refused(api.request("apps", "PUT", f"{APPS}/{app['app_code']}", json={**app, **changes}, account=owner))
    _unchanged(api, owner, flow, app)


@pytest.mark.parametrize("body", [
    {"model": 5, "messages": "hi"}, {"model": "m", "messages": 5}, {"model": "m", "messages": "hi", "stream": "x"},
    {"model": "m", "messages": "hi", "chat_mode": 7}, {"model": "m", "messages": [{"role": "user"}], "n": "two"},
])
def test_wrong_chat_fields_are_e0001(api, stored, body):
    owner, *_ = stored
    assert _refused(api.post("run", CHAT, json=body, account=owner))["err_code"] == "E0001"


@pytest.mark.parametrize("raw", GARBAGE)
def test_model_api_malformed_bodies_are_40001(api, stored, raw):
    owner, *_ = stored
    reply = api.request("run", "POST", "/api/v1/chat/completions", body=raw,
                        headers={"content-type": "application/json"}, account=owner)
    assert reply.status_code == 400, reply.content
    assert reply.json()["object"] == "error" and reply.json()["code"] == 40001
