"""The real clients DB-GPT users have, unchanged, against `flowless dev`: dbgpt-client 0.8.2 (in its own
virtualenv, since it pins libraries of its own) and the openai SDK (in-process).

Each client validates our answers with its own models, so a passing step means the client accepted them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.support import FIXTURES

ROOT = Path(__file__).resolve().parents[3]
SCENARIO = Path(__file__).parent / "clients" / "dbgpt_client_scenario.py"
CLIENT_VENV = ROOT / ".cache" / "dbgpt-client-0.8.2"
# The client's documented install (its beautifulsoup4 dependency is missing from its metadata).
CLIENT_REQUIREMENTS = ("dbgpt-client==0.8.2", "beautifulsoup4")


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


@pytest.fixture(scope="session")
def dbgpt_client_python() -> Path:
    """A Python 3.11 virtualenv with dbgpt-client, made once and kept under .cache/."""
    python = _venv_python(CLIENT_VENV)
    marker = CLIENT_VENV / ".installed"
    if not marker.exists():
        env = {**os.environ, "AIOHTTP_NO_EXTENSIONS": "1"}   # lets aiohttp 3.8 build where no wheel exists
        subprocess.run(["uv", "venv", "--quiet", "--clear", "--python", "3.11", str(CLIENT_VENV)], check=True, env=env)
        subprocess.run(["uv", "pip", "install", "--quiet", "--python", str(python), *CLIENT_REQUIREMENTS],
                       check=True, env=env)
        marker.write_text(" ".join(CLIENT_REQUIREMENTS))
    return python


@pytest.fixture
def served(dev_stack, http: httpx.Client, owner: dict[str, str], monkeypatch) -> Iterator[dict[str, str]]:
    """The stack with a configured model on the OpenAI stub, a Langflow flow and an app of the caller."""
    from flowless.settings import get_settings
    from tests.stubs.openai_stub import OpenAIStub

    with OpenAIStub() as stub:
        monkeypatch.setenv("FLOWLESS_MODELS", json.dumps({"gpt-test": "openai:stub-model"}))
        monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-stub")
        monkeypatch.setenv("FLOWLESS_ALLOW_PRIVATE_NETWORK", "true")
        get_settings.cache_clear()
        export = (FIXTURES / "langflow" / "no-llm" / "SimpleAPITest.json").read_text()
        flow = http.post("/api/v1/flows/upload/", headers=owner,
                         files={"file": ("SimpleAPITest.json", export, "application/json")}).json()[0]
        app = http.post("/api/v2/serve/apps", headers=owner, json={
            "app_name": "Echo app", "app_describe": "answers with the flow", "team_mode": "awel_layout",
            "language": "en", "team_context": {"uid": flow["id"]}}).json()["data"]
        yield {"base_url": dev_stack.base_url, "key": owner["x-api-key"], "flow_id": flow["id"],
               "app_code": app["app_code"]}


def test_dbgpt_client_flows_apps_and_chat(served, dbgpt_client_python: Path, http: httpx.Client,
                                          tmp_path: Path) -> None:
    report = tmp_path / "steps.jsonl"
    run = subprocess.run([str(dbgpt_client_python), str(SCENARIO), served["base_url"], served["key"],
                          served["flow_id"], served["app_code"], str(report)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    steps = {line["step"]: line for line in map(json.loads, report.read_text().splitlines())}

    assert steps["create_flow"]["uid"] == steps["create_flow"]["sent_uid"] and steps["create_flow"]["nodes"] == 3
    assert steps["create_flow"]["state"] == "running"
    assert steps["update_flow"] == {"step": "update_flow", "description": "v2", "state": "running"}
    assert steps["get_flow"]["description"] == "v2" and steps["get_flow"]["category"] == "chat_flow"
    assert steps["list_flow"]["uids"] == [steps["create_flow"]["uid"]]
    assert steps["chat_stream_awel"]["text"] == "Echo: Introduce AWEL"
    # The stub counts words: "Introduce AWEL" in, "Echo: Introduce AWEL" out.
    assert steps["chat_awel"] == {"step": "chat_awel", "text": "Echo: Introduce AWEL", "usage": 5}
    # The client parsed the flow's metadata as its DAGMetadata (and keeps what that model knows of a trigger).
    metadata = steps["run_flow_cmd"]["metadata"]
    assert metadata["sse_output"] is metadata["streaming_output"] is True
    assert [t["trigger_type"] for t in metadata["triggers"]] == ["http"]
    assert steps["run_flow_cmd"]["text"] == "Echo: Run by trigger"

    flow_id = served["flow_id"]
    stored = http.get(f"/api/v1/flows/{flow_id}", headers={"x-api-key": served["key"]}).json()
    assert steps["langflow_flow"]["listed"] == [flow_id]
    assert steps["langflow_flow"]["nodes"] == len(stored["data"]["nodes"])        # the DB-GPT view of the graph
    assert steps["langflow_update"]["description"] == "described by DB-GPT"
    # The update sent the view back; the Langflow graph is what stays stored.
    assert stored["description"] == "described by DB-GPT"
    assert all(node["data"].get("node") for node in stored["data"]["nodes"])
    assert steps["chat_stream_langflow"]["text"] == "ping"
    assert steps["chat_langflow"]["text"] == "pong"

    assert steps["get_app"]["app_code"] == served["app_code"] and steps["get_app"]["app_name"] == "Echo app"
    assert served["app_code"] in steps["list_app"]["app_codes"]
    assert "hello app" in steps["chat_stream_app"]["text"]

    assert steps["chat_normal"]["text"] == "Echo: hello model"
    assert steps["chat_stream_normal"]["text"] == "Echo: hello model"
    assert steps["delete_flow"]["remaining"] == []


def test_openai_sdk_against_the_model_api(served) -> None:
    client = openai.OpenAI(base_url=f"{served['base_url']}/api/v1", api_key=served["key"])
    try:
        assert [m.id for m in client.models.list()] == ["gpt-test"]
        completion = client.chat.completions.create(
            model="gpt-test", messages=[{"role": "system", "content": "be kind"}, {"role": "user", "content": "hi"}])
        assert completion.choices[0].message.content == "Echo: hi"
        assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (3, 2)   # the stub's count
        stream = client.chat.completions.create(model="gpt-test", stream=True, stream_options={"include_usage": True},
                                                messages=[{"role": "user", "content": "stream me"}])
        chunks = list(stream)
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Echo: stream me"
        assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == 5
        with pytest.raises(openai.BadRequestError) as refused:
            client.chat.completions.create(model="unknown", messages=[{"role": "user", "content": "hi"}])
        assert "not configured" in str(refused.value)
    finally:
        client.close()


def test_openai_sdk_against_db_gpts_chat_with_extra_body(served) -> None:
    """DB-GPT's docs call chat_flow through the OpenAI SDK with base_url .../api/v2 and extra_body."""
    client = openai.OpenAI(base_url=f"{served['base_url']}/api/v2", api_key=served["key"])
    try:
        stream = client.chat.completions.create(
            model="gpt-test", stream=True, messages=[{"role": "user", "content": "via the SDK"}],
            extra_body={"chat_mode": "chat_flow", "chat_param": served["flow_id"]})
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "via the SDK"
    finally:
        client.close()
