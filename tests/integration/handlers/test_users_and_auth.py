"""Users, API keys and the auth dependency through the functions' handlers."""

from __future__ import annotations

import os

from flowless.settings import get_settings


def _env(**values: str) -> None:
    os.environ.update(values)
    get_settings.cache_clear()


def test_missing_key_is_403_when_auto_login_is_off(api, aws):
    reply = api.get("flows", "/api/v1/flows/")
    assert reply.status_code == 403
    assert reply.json() == {"detail": "An API key must be passed as query or header"}


def test_unknown_key_is_403_even_with_auto_login(api, aws):
    _env(FLOWLESS_AUTO_LOGIN="true")
    reply = api.get("flows", "/api/v1/flows/", headers={"x-api-key": "sk-unknown"})
    assert reply.status_code == 403 and reply.json() == {"detail": "Invalid or missing API key"}


def test_auto_login_acts_as_the_superuser(api, aws):
    _env(FLOWLESS_AUTO_LOGIN="true")
    me = api.get("users", "/api/v1/users/whoami").json()
    assert me["username"] == "langflow" and me["is_superuser"] is True


def test_sample_whoami_event(invoke, load_event, make_account):
    owner = make_account()
    event = load_event("users_whoami")
    event["headers"]["x-api-key"] = owner.key
    me = invoke("users", event).json()
    assert me["id"] == owner.user_id and me["username"] == owner.username and me["is_superuser"] is False


def test_key_in_query_header_or_bearer(api, make_account):
    owner = make_account()
    for kwargs in ({"query": {"x-api-key": owner.key}}, {"headers": {"x-api-key": owner.key}},
                   {"headers": {"authorization": f"Bearer {owner.key}"}}):
        assert api.get("users", "/api/v1/users/whoami", **kwargs).json()["id"] == owner.user_id


def test_query_key_wins_over_header_key(api, make_account):
    a, b = make_account(), make_account()
    me = api.get("users", "/api/v1/users/whoami", query={"x-api-key": a.key}, headers={"x-api-key": b.key}).json()
    assert me["id"] == a.user_id


def test_bootstrap_key_is_registered_as_a_superuser_key(api, aws):
    _env(FLOWLESS_BOOTSTRAP_API_KEY="sk-bootstrap-0123456789")
    me = api.get("users", "/api/v1/users/whoami", headers={"x-api-key": "sk-bootstrap-0123456789"})
    assert me.status_code == 200 and me.json()["is_superuser"] is True


def test_superuser_creates_users_and_others_may_not(api, make_account):
    admin, plain = make_account(superuser=True), make_account()
    reply = api.post("users", "/api/v1/users/", account=admin, json={"username": "new-user", "password": "pw"})
    assert reply.status_code == 201 and reply.json()["username"] == "new-user"
    assert b"password" not in reply.content and b"scrypt" not in reply.content
    again = api.post("users", "/api/v1/users/", account=admin, json={"username": "new-user", "password": "pw"})
    assert again.status_code == 400
    denied = api.post("users", "/api/v1/users/", account=plain, json={"username": "x", "password": "pw"})
    assert denied.status_code == 403 and denied.json() == {"detail": "The user doesn't have enough privileges"}


def test_api_key_lifecycle(api, make_account):
    owner = make_account()
    created = api.post("users", "/api/v1/api_key/", account=owner, json={"name": "ci"})
    assert created.status_code == 200
    key = created.json()
    assert key["api_key"].startswith("sk-") and key["user_id"] == owner.user_id
    listed = api.get("users", "/api/v1/api_key/", account=owner).json()
    assert listed["total_count"] == 2 and listed["user_id"] == owner.user_id
    shown = {k["id"]: k["api_key"] for k in listed["api_keys"]}
    assert shown[key["id"]] == key["api_key"][:8] + "*" * (len(key["api_key"]) - 8)
    assert api.get("users", "/api/v1/users/whoami", headers={"x-api-key": key["api_key"]}).status_code == 200
    deleted = api.delete("users", f"/api/v1/api_key/{key['id']}", account=owner)
    assert deleted.json() == {"detail": "API Key deleted"}
    assert api.get("users", "/api/v1/users/whoami", headers={"x-api-key": key["api_key"]}).status_code == 403
    again = api.delete("users", f"/api/v1/api_key/{key['id']}", account=owner)
    assert again.status_code == 400 and again.json() == {"detail": "API Key not found"}


def test_superuser_mints_a_key_for_another_user(api, make_account):
    admin, other = make_account(superuser=True), make_account()
    key = api.post("users", "/api/v1/api_key/", account=admin, json={"name": "for-other", "user_id": other.user_id})
    assert key.json()["user_id"] == other.user_id
    assert api.get("users", "/api/v1/users/whoami", headers={"x-api-key": key.json()["api_key"]}).json()["id"] == \
        other.user_id
    denied = api.post("users", "/api/v1/api_key/", account=other, json={"name": "x", "user_id": admin.user_id})
    assert denied.status_code == 403


def test_meta_routes(api, aws):
    assert api.get("meta", "/health").json() == {"status": "ok"}
    assert api.get("meta", "/health_check").json() == {"status": "ok", "chat": "ok", "db": "ok"}
    assert api.get("meta", "/api/v1/version").json()["package"] == "Langflow"
    config = api.get("meta", "/api/v1/config").json()
    for key in ("feature_flags", "serialization_max_items_length", "serialization_max_text_length",
                "frontend_timeout", "auto_saving", "auto_saving_interval", "health_check_max_retries",
                "max_file_size_upload", "webhook_polling_interval", "public_flow_cleanup_interval",
                "public_flow_expiration", "event_delivery", "webhook_auth_enable", "voice_mode_available",
                "default_folder_name", "hide_getting_started_progress"):
        assert key in config


def test_the_key_list_includes_its_own_use_even_when_the_count_is_slow(api, make_account):
    """The count is written beside the request; the listing waits for it, so it shows this use (as Langflow,
    which counts before the handler runs)."""
    import time

    from flowless.store.aws import client

    owner = make_account()
    api.get("flows", "/api/v1/flows/", account=owner)                 # first use

    def slow(**kwargs) -> None:                                        # a botocore hook: the count takes 0.3 s
        time.sleep(0.3)

    client("dynamodb").meta.events.register("before-call.dynamodb.UpdateItem", slow)
    try:
        listed = api.get("users", "/api/v1/api_key/", account=owner).json()["api_keys"]
    finally:
        client("dynamodb").meta.events.unregister("before-call.dynamodb.UpdateItem", slow)
    assert next(k for k in listed if k["name"] == "test")["total_uses"] == 2


def test_each_use_of_a_key_is_counted_as_in_langflow(api, make_account, monkeypatch):
    owner = make_account()

    def the_key() -> dict:
        listed = api.get("users", "/api/v1/api_key/", account=owner).json()["api_keys"]
        return next(k for k in listed if k["name"] == "test")

    before = the_key()                                   # this call is the first use
    assert before["total_uses"] == 1 and before["last_used_at"]
    for _ in range(3):
        assert api.get("flows", "/api/v1/flows/", account=owner).status_code == 200
    after = the_key()
    assert after["total_uses"] == 5 and after["last_used_at"] >= before["last_used_at"]

    from flowless.settings import get_settings

    monkeypatch.setenv("FLOWLESS_DISABLE_TRACK_APIKEY_USAGE", "true")
    get_settings.cache_clear()
    api.get("flows", "/api/v1/flows/", account=owner)
    assert the_key()["total_uses"] == 5
