"""The apps function through its Lambda handler: DB-GPT's /api/v2/serve/apps, scoped to each caller."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import pytest
from pydantic import BaseModel

BASE = "/api/v2/serve/apps"


# The constraints dbgpt-client's AppModel puts on what it parses (strict strings, non-null datetimes).
class _ClientResource(BaseModel):
    type: str
    name: str
    value: str
    is_dynamic: bool = False


class _ClientDetail(BaseModel):
    app_code: str | None = None
    app_name: str | None = None
    agent_name: str | None = None
    node_id: str | None = None
    resources: list[_ClientResource] | None = None
    prompt_template: str | None = None
    llm_strategy: str | None = None
    llm_strategy_value: str | None = None
    created_at: datetime
    updated_at: datetime


class _ClientApp(BaseModel):
    app_code: str | None = None
    app_name: str | None = None
    app_describe: str | None = None
    team_mode: str | None = None
    language: str | None = "en"
    team_context: str | dict[str, Any] | None = None
    user_code: str | None = None
    sys_code: str | None = None
    is_collected: str | None = None
    icon: str | None = None
    created_at: datetime
    updated_at: datetime
    details: list[_ClientDetail] = []


def _ok(reply: Any) -> Any:
    """The data of a successful Result envelope."""
    assert reply.status_code == 200, reply.content
    body = reply.json()
    assert set(body) == {"success", "err_code", "err_msg", "data"}
    assert (body["success"], body["err_code"], body["err_msg"]) == (True, None, None)
    return body["data"]


def _failure(err_code: str, err_msg: str) -> dict[str, Any]:
    return {"success": False, "err_code": err_code, "err_msg": err_msg, "data": None}


def _model_app(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "app_name": "Helper",
        "app_describe": "answers briefly",
        "language": "en",
        "details": [{
            "agent_name": "Assistant",
            "node_id": "agent_0",
            "resources": [
                {"type": "knowledge", "name": "docs", "value": {"space": "docs", "top_k": 3}},
                {"type": "plugin", "name": "count", "value": 3, "is_dynamic": True},
            ],
            "prompt_template": "You are terse.",
            "llm_strategy": "priority",
            "llm_strategy_value": "gpt-4o, gpt-4o-mini",
        }],
        "param_need": [{"type": "model", "value": None}],  # a server-side field: ignored
    }
    body.update(changes)
    return body


def _flow(owner: Any, name: str = "f") -> Any:
    from flowless.store.flows import FlowRepository

    values = {"name": name, "data": {"nodes": [], "edges": []}}
    return FlowRepository().create(user_id=owner.user_id, values=values)


def _create(api: Any, owner: Any, body: dict[str, Any]) -> dict[str, Any]:
    data = _ok(api.post("apps", BASE, account=owner, json=body))
    _ClientApp.model_validate(data)
    return data


def _put(api: Any, owner: Any, app_code: str, body: dict[str, Any]) -> Any:
    return api.request("apps", "PUT", f"{BASE}/{app_code}", account=owner, json=body)


def _total(api: Any, owner: Any) -> int:
    return _ok(api.get("apps", BASE, account=owner))["total_count"]


def test_create_bound_to_a_model_and_prompt(api, make_account):
    owner = make_account()
    data = _create(api, owner, _model_app())
    assert str(uuid.UUID(data["app_code"])) == data["app_code"]
    assert data["team_mode"] == "single_agent" and data["team_context"] is None
    assert (data["app_name"], data["app_describe"], data["language"]) == ("Helper", "answers briefly", "en")
    assert data["is_collected"] == "false" and data["published"] == "false"
    assert data["user_code"] == owner.username and data["owner_name"] == owner.username
    assert {k: data[k] for k in ("hot_value", "param_need", "recommend_questions", "admins",
                                 "keep_start_rounds", "keep_end_rounds")} == {
        "hot_value": 0, "param_need": [], "recommend_questions": [], "admins": [],
        "keep_start_rounds": 0, "keep_end_rounds": 0}
    (detail,) = data["details"]
    assert detail["app_code"] == data["app_code"] and detail["app_name"] == "Helper"
    assert detail["prompt_template"] == "You are terse."
    assert detail["llm_strategy_value"] == "gpt-4o, gpt-4o-mini"
    assert detail["resources"] == [
        {"type": "knowledge", "name": "docs", "value": '{"space":"docs","top_k":3}', "is_dynamic": False},
        {"type": "plugin", "name": "count", "value": "3", "is_dynamic": True},
    ]
    assert datetime.fromisoformat(data["created_at"]) == datetime.fromisoformat(data["updated_at"])


def test_create_bound_to_the_callers_flow(api, make_account):
    owner = make_account()
    flow = _flow(owner, "my flow")
    data = _create(api, owner, {"app_name": "Flow app", "team_context": {"uid": flow.id}})
    assert data["team_mode"] == "awel_layout"
    assert data["team_context"] == {"uid": flow.id, "dag_id": f"flow_dag_my_flow_{flow.id}",
                                    "name": "my flow",
                                    "label": "my flow", "flow_category": "chat_flow"}
    assert data["details"] == []


def test_awel_layout_takes_the_flow_uid_as_a_string(api, make_account):
    owner = make_account()
    flow = _flow(owner)
    data = _create(api, owner, {"app_name": "A", "team_mode": "awel_layout", "team_context": flow.id})
    assert data["team_context"]["uid"] == flow.id
    as_json_text = _create(api, owner, {"app_name": "B", "team_context": json.dumps({"uid": flow.id})})
    assert as_json_text["team_mode"] == "awel_layout" and as_json_text["team_context"]["uid"] == flow.id


def test_binding_to_another_users_flow_is_404_and_stores_nothing(api, make_account):
    owner, other = make_account(), make_account()
    flow = _flow(other)
    reply = api.post("apps", BASE, account=owner, json={"app_name": "A", "team_context": {"uid": flow.id}})
    assert reply.status_code == 404
    assert reply.json() == _failure("404", f"Flow {flow.id} not found")
    assert _total(api, owner) == 0


def test_awel_layout_without_a_flow_is_400(api, make_account):
    owner = make_account()
    reply = api.post("apps", BASE, account=owner, json={"app_name": "A", "team_mode": "awel_layout"})
    assert reply.status_code == 400
    assert reply.json() == _failure(
        "E0003", "An awel_layout app needs team_context naming one of your flows by its uid")


def test_get_returns_the_app_and_null_when_missing(api, make_account):
    owner = make_account()
    created = _create(api, owner, _model_app())
    # DB-GPT's clients send a Bearer token.
    reply = api.get("apps", f"{BASE}/{created['app_code']}", headers={"Authorization": f"Bearer {owner.key}"})
    assert _ok(reply) == created
    assert _ok(api.get("apps", f"{BASE}/{uuid.uuid4()}", account=owner)) is None


def test_list_pages_newest_change_first(api, make_account):
    owner = make_account()
    codes = [_create(api, owner, _model_app(app_name=f"app {i}"))["app_code"] for i in range(3)]
    first = _ok(api.get("apps", BASE, account=owner, query={"page": "1", "page_size": "2"}))
    assert (first["total_count"], first["total_page"], first["current_page"]) == (3, 2, 1)
    assert [a["app_code"] for a in first["app_list"]] == [codes[2], codes[1]]
    second = _ok(api.get("apps", BASE, account=owner, query={"page": "2", "page_size": "2"}))
    assert (second["total_count"], second["total_page"], second["current_page"]) == (3, 2, 2)
    assert [a["app_code"] for a in second["app_list"]] == [codes[0]]
    for app in first["app_list"] + second["app_list"]:
        _ClientApp.model_validate(app)
    # An update moves an app to the front; the DB-GPT filters are accepted.
    _ok(_put(api, owner, codes[0], _model_app(app_name="renamed")))
    listed = _ok(api.get("apps", BASE, account=owner,
                         query={"user_name": "someone", "sys_code": "x", "is_collected": "false"}))
    assert [a["app_code"] for a in listed["app_list"]] == [codes[0], codes[2], codes[1]]
    assert _ok(api.get("apps", BASE, account=owner, query={"is_collected": "true"}))["app_list"] == []


def test_list_defaults_to_twenty_a_page(api, make_account):
    owner = make_account()
    data = _ok(api.get("apps", BASE, account=owner))
    assert data == {"total_count": 0, "total_page": 0, "current_page": 1, "app_list": []}


def test_update_replaces_the_app(api, make_account):
    owner = make_account()
    created = _create(api, owner, _model_app(icon="i.png", is_collected=True))
    body = _model_app(app_name="Renamed", app_code=created["app_code"], details=[
        {"agent_name": "Assistant", "prompt_template": "Be kind.", "llm_strategy_value": '["claude"]'}])
    updated = _ok(_put(api, owner, created["app_code"], body))
    _ClientApp.model_validate(updated)
    assert updated["app_code"] == created["app_code"] and updated["app_name"] == "Renamed"
    assert updated["icon"] is None  # a PUT carries the whole app
    assert updated["is_collected"] == "true"  # bookkeeping fields keep their value unless sent
    assert updated["created_at"] == created["created_at"]
    assert datetime.fromisoformat(updated["updated_at"]) > datetime.fromisoformat(created["updated_at"])
    assert [(d["prompt_template"], d["llm_strategy_value"], d["resources"]) for d in updated["details"]] == [
        ("Be kind.", '["claude"]', [])]
    assert _ok(api.get("apps", f"{BASE}/{created['app_code']}", account=owner)) == updated


def test_update_can_rebind_to_a_flow(api, make_account):
    owner = make_account()
    created = _create(api, owner, _model_app())
    flow = _flow(owner)
    body = {"app_name": "Now a flow", "team_context": {"uid": flow.id}}
    updated = _ok(_put(api, owner, created["app_code"], body))
    assert updated["team_mode"] == "awel_layout" and updated["team_context"]["uid"] == flow.id


def test_update_with_a_different_app_code_is_400(api, make_account):
    owner = make_account()
    created = _create(api, owner, _model_app())
    reply = _put(api, owner, created["app_code"], _model_app(app_code="other", app_name="X"))
    assert reply.status_code == 400
    assert reply.json() == _failure(
        "E0003", f"app_code other does not match the app {created['app_code']} in the path")
    assert _ok(api.get("apps", f"{BASE}/{created['app_code']}", account=owner))["app_name"] == "Helper"


def test_delete_answers_an_empty_list(api, make_account):
    owner = make_account()
    created = _create(api, owner, _model_app())
    assert _ok(api.delete("apps", f"{BASE}/{created['app_code']}", account=owner,
                          query={"user_code": "u", "sys_code": "s"})) == []
    assert _ok(api.get("apps", f"{BASE}/{created['app_code']}", account=owner)) is None
    again = api.delete("apps", f"{BASE}/{created['app_code']}", account=owner)
    assert again.status_code == 404
    assert again.json() == _failure("404", f"App {created['app_code']} not found")


def test_another_user_cannot_see_update_or_delete(api, make_account):
    owner, other = make_account(), make_account()
    created = _create(api, owner, _model_app())
    path = f"{BASE}/{created['app_code']}"
    assert _ok(api.get("apps", path, account=other)) is None
    assert _ok(api.get("apps", BASE, account=other))["app_list"] == []
    missing = _failure("404", f"App {created['app_code']} not found")
    updated = _put(api, other, created["app_code"], _model_app(app_name="Stolen"))
    assert updated.status_code == 404 and updated.json() == missing
    deleted = api.delete("apps", path, account=other)
    assert deleted.status_code == 404 and deleted.json() == missing
    assert _ok(api.get("apps", path, account=owner)) == created


@pytest.mark.parametrize(("body", "message"), [
    (_model_app(details="not a list"), "body.details:Input should be a valid list;"),
    ({"app_describe": "no name"}, "body.app_name:Field required;"),
    (_model_app(team_mode="manager"),
     "body.team_mode:Input should be 'auto_plan', 'awel_layout', 'single_agent' or 'native_app';"),
    (_model_app(is_collected="yes"), "body.is_collected:Input should be 'true' or 'false';"),
])
def test_bad_body_is_400_e0001_and_stores_nothing(api, make_account, body, message):
    owner = make_account()
    reply = api.post("apps", BASE, account=owner, json=body)
    assert reply.status_code == 400
    assert reply.json() == _failure("E0001", message)
    assert _total(api, owner) == 0


def test_unreadable_model_list_is_400(api, make_account):
    owner = make_account()
    body = _model_app(details=[{"llm_strategy_value": '["gpt-4o"'}])
    reply = api.post("apps", BASE, account=owner, json=body)
    assert reply.status_code == 400
    assert reply.json() == _failure("E0003", "details[0].llm_strategy_value is not a valid JSON list")
    assert _total(api, owner) == 0


def test_client_chosen_app_code_is_kept_when_free(api, make_account):
    owner = make_account()
    code = str(uuid.uuid4())
    assert _create(api, owner, _model_app(app_code=code))["app_code"] == code
    taken = api.post("apps", BASE, account=owner, json=_model_app(app_code=code))
    assert taken.status_code == 400
    assert taken.json() == _failure("E0003", f"App {code} already exists")
    assert _total(api, owner) == 1


def test_resolve_app_for_a_model_binding(api, make_account):
    from flowless.dbgpt.apps import AppBinding, resolve_app

    owner = make_account()
    created = _create(api, owner, _model_app())
    binding = resolve_app(owner.user_id, created["app_code"])
    assert isinstance(binding, AppBinding)
    assert (binding.kind, binding.flow_id, binding.model_names, binding.system_prompt) == (
        "model", None, ["gpt-4o", "gpt-4o-mini"], "You are terse.")
    assert binding.app.app_code == created["app_code"]
    listed = _create(api, owner, _model_app(details=[{"llm_strategy_value": '["a", "b", "a"]'}]))
    assert resolve_app(owner.user_id, listed["app_code"]).model_names == ["a", "b"]
    bare = _create(api, owner, {"app_name": "No model"})
    assert (resolve_app(owner.user_id, bare["app_code"]).model_names,
            resolve_app(owner.user_id, bare["app_code"]).system_prompt) == ([], "")


def test_resolve_app_for_a_flow_binding(api, make_account):
    from flowless.dbgpt.apps import resolve_app
    from flowless.errors import NotFoundError

    owner, other = make_account(), make_account()
    flow = _flow(owner)
    created = _create(api, owner, {"app_name": "Flow app", "team_context": {"uid": flow.id}})
    binding = resolve_app(owner.user_id, created["app_code"])
    assert (binding.kind, binding.flow_id, binding.model_names, binding.system_prompt) == (
        "flow", flow.id, [], "")
    with pytest.raises(NotFoundError):
        resolve_app(other.user_id, created["app_code"])


def test_repository_update_retries_a_lost_race_and_refuses_a_stale_version(aws):
    from flowless.errors import ConflictError
    from flowless.store.apps import App, AppRepository

    repo = AppRepository()
    app = repo.create(user_id="u1", values={"app_name": "A", "team_context": {"uid": "f", "score": 0.5}})
    assert (app.version, repo.get(user_id="u1", app_code=app.app_code).team_context) == (
        1, {"uid": "f", "score": 0.5})
    calls = []

    def rename(target: App) -> None:
        calls.append(target.version)
        if len(calls) == 1:  # another writer gets in between this read and this write
            repo.update(user_id="u1", app_code=app.app_code, changes={"app_describe": "theirs"})
        target.app_name = "mine"

    updated = repo.update(user_id="u1", app_code=app.app_code, changes=rename)
    assert calls == [1, 2]
    assert (updated.app_name, updated.app_describe, updated.version) == ("mine", "theirs", 3)
    with pytest.raises(ConflictError):
        repo.update(user_id="u1", app_code=app.app_code, changes={"icon": "x"}, expected_version=1)
