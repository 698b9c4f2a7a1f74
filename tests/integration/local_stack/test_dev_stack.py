"""The local stack end to end: HTTP through the gateway to the real handlers on the embedded AWS."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from flowless.cli import main as cli_main


@pytest.fixture
def api_key(http: httpx.Client, dev_stack, capsys: pytest.CaptureFixture[str]) -> str:
    """A key minted the way a user would: `flowless api-key create --dev` against the running stack."""
    import uuid

    code = cli_main(["api-key", "create", "--user", f"cli-{uuid.uuid4().hex[:6]}", "--create-user",
                     "--dev", "--aws-port", str(dev_stack.stack.aws_port)])
    assert code == 0
    key = capsys.readouterr().out.strip()
    assert key.startswith("sk-")
    return key


def test_meta_routes_answer_with_and_without_trailing_slash(http: httpx.Client) -> None:
    for path in ("/health", "/health/", "/api/v1/version", "/api/v1/version/"):
        reply = http.get(path)
        assert reply.status_code == 200, (path, reply.text)
    assert http.get("/health").json() == {"status": "ok"}


def test_unknown_route_and_wrong_method_are_404_in_langflow_shape(http: httpx.Client) -> None:
    for method, path in (("GET", "/api/v1/nothing-here"), ("PUT", "/api/v1/flows/"), ("GET", "/")):
        reply = http.request(method, path)
        assert reply.status_code == 404, (method, path)
        assert reply.json() == {"detail": "Not Found"}


def test_docs_serve_the_merged_openapi_of_every_function(http: httpx.Client) -> None:
    assert "swagger" in http.get("/docs").text.lower()
    paths = http.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/flows/", "/api/v1/projects/", "/api/v1/api_key/", "/health"):
        assert path in paths, path


def test_body_over_api_gateway_limit_is_413(http: httpx.Client, api_key: str) -> None:
    reply = http.post("/api/v1/flows/", content=b"x" * (11 * 1024 * 1024),
                      headers={"x-api-key": api_key, "content-type": "application/json"})
    assert reply.status_code == 413
    assert "10MB" in reply.json()["detail"]


def test_keys_are_required_when_auto_login_is_off(http: httpx.Client, api_key: str) -> None:
    assert http.get("/api/v1/flows/").json() == {"detail": "An API key must be passed as query or header"}
    assert http.get("/api/v1/flows/", headers={"x-api-key": "sk-wrong"}).status_code == 403
    assert http.get("/api/v1/flows/", params={"x-api-key": api_key}).status_code == 200
    assert http.get("/api/v1/users/whoami", headers={"Authorization": f"Bearer {api_key}"}).status_code == 200


def test_seed_walkthrough_flows_and_projects(http: httpx.Client, api_key: str) -> None:
    """The README's curl examples, in order: create, list, read, update, project, download, delete."""
    h = {"x-api-key": api_key}
    project = http.post("/api/v1/projects/", headers=h, json={"name": "Support", "description": "bots"})
    assert project.status_code == 201, project.text
    project_id = project.json()["id"]
    flow = http.post("/api/v1/flows/", headers=h, json={"name": "Echo", "data": {"nodes": [], "edges": []},
                                                         "project_id": project_id, "endpoint_name": "echo"})
    assert flow.status_code == 201, flow.text
    flow_id = flow.json()["id"]
    assert flow.json()["folder_id"] == project_id

    listed = http.get("/api/v1/flows/", headers=h, params={"get_all": "false", "project_id": project_id})
    assert listed.json()["total"] == 1
    renamed = http.patch(f"/api/v1/flows/{flow_id}", headers=h, json={"name": "Echo 2"})
    assert renamed.json()["name"] == "Echo 2"

    second = http.post("/api/v1/flows/", headers=h, json={"name": "Other", "data": {"nodes": [], "edges": []}})
    download = http.post("/api/v1/flows/download/", headers=h, json=[flow_id, second.json()["id"]])
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/x-zip-compressed"
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        assert sorted(archive.namelist()) == ["Echo 2.json", "Other.json"]

    exported = http.get(f"/api/v1/projects/download/{project_id}", headers=h)
    assert exported.status_code == 200
    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
        assert json.loads(archive.read("Echo 2.json"))["name"] == "Echo 2"

    assert http.delete(f"/api/v1/flows/{flow_id}", headers=h).status_code == 200
    assert http.get(f"/api/v1/flows/{flow_id}", headers=h).status_code == 404


def test_concurrent_requests_are_served_independently(http: httpx.Client, api_key: str, dev_stack) -> None:
    h = {"x-api-key": api_key}

    def create(i: int) -> int:
        with httpx.Client(base_url=dev_stack.base_url, timeout=30) as client:
            return client.post("/api/v1/flows/", headers=h,
                               json={"name": f"parallel {i}", "data": {"nodes": [], "edges": []}}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(create, range(16)))
    assert codes == [201] * 16
    names = {f["name"] for f in http.get("/api/v1/flows/", headers=h).json()}
    assert {f"parallel {i}" for i in range(16)} <= names


def _run_readme_block(name: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """One of README's bash blocks, run as written (every call must succeed: curl -f, set -e)."""
    if shutil.which("curl") is None:
        pytest.fail("curl is needed to run README's examples")
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    block = re.search(rf"<!-- example: {name} -->\n```bash\n(.*?)```", readme, re.S)
    assert block, f"README lost its {name} example"
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", block.group(1)], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr + done.stdout
    return done


def test_readme_curl_examples_run_against_the_local_stack(http: httpx.Client, api_key: str, dev_stack) -> None:
    """README's flows-and-projects block, run as written."""
    _run_readme_block("flows-and-projects", {"LANGFLOW_URL": dev_stack.base_url, "LANGFLOW_API_KEY": api_key})
    names = {f["name"] for f in http.get("/api/v1/flows/", headers={"x-api-key": api_key}).json()}
    # The batch's two flows stay; the uploaded one went with its project, the created one was deleted.
    assert {"string (1)", "string (2)"} <= names
    assert "Uploaded" not in names and "string" not in names


def test_readme_dbgpt_examples_run_against_the_local_stack(http: httpx.Client, api_key: str, dev_stack) -> None:
    """README's DB-GPT block, run as written: a flow, chat_flow, an app, chat_app, clean-up."""
    done = _run_readme_block("dbgpt", {"DBGPT_URL": dev_stack.base_url, "DBGPT_API_KEY": api_key})
    answers = [line for line in done.stdout.splitlines() if line.startswith("data: {")]
    assert any('"content":"Hello"' in line for line in answers), done.stdout
    assert done.stdout.count("data: [DONE]") == 2
    headers = {"authorization": f"Bearer {api_key}"}
    assert http.get("/api/v2/serve/awel/flows", headers=headers).json()["data"]["total_count"] == 0
