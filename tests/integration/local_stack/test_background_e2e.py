"""Background runs end to end on the local stack: webhook and upload -> run queue -> executor -> task."""

from __future__ import annotations

import os
import time

import boto3
import httpx
import pytest

FLOW = {
    "nodes": [
        {"id": "Webhook-e2e", "data": {"id": "Webhook-e2e", "type": "Webhook",
                                       "node": {"template": {"data": {"type": "str", "value": ""}}}}},
        {"id": "File-e2e", "data": {"id": "File-e2e", "type": "File",
                                    "node": {"template": {"path": {"type": "file", "value": []}}}}},
        {"id": "ChatOutput-e2e", "data": {"id": "ChatOutput-e2e", "type": "ChatOutput", "node": {"template": {}}}},
    ],
    "edges": [{"source": "Webhook-e2e", "target": "ChatOutput-e2e",
               "data": {"sourceHandle": {"name": "output_data"}, "targetHandle": {"fieldName": "input_value"}}}],
}
FILE_FLOW = {
    "nodes": [FLOW["nodes"][1], FLOW["nodes"][2]],
    "edges": [{"source": "File-e2e", "target": "ChatOutput-e2e",
               "data": {"sourceHandle": {"name": "message"}, "targetHandle": {"fieldName": "input_value"}}}],
}




def _wait_for_end(http: httpx.Client, task_id: str, headers: dict[str, str], timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = http.get(f"/api/v1/task/{task_id}", headers=headers).json()
        if task["status"] in ("SUCCESS", "FAILURE"):
            return task
        time.sleep(0.1)
    pytest.fail(f"task {task_id} did not end: {task}")


def test_webhook_runs_the_flow_in_the_background(http, workers, owner):
    flow = http.post("/api/v1/flows/", headers=owner, json={"name": "hook e2e", "data": FLOW}).json()
    accepted = http.post(f"/api/v1/webhook/{flow['id']}", content=b'{"event": "signup"}')
    assert accepted.status_code == 202, accepted.text
    task = _wait_for_end(http, accepted.json()["task_id"], owner)
    assert task["status"] == "SUCCESS"
    assert '"event": "signup"' in task["result"]["outputs"][0]["outputs"][0]["results"]["message"]["text"]


def test_an_upload_runs_its_flow(http, workers, owner):
    flow = http.post("/api/v1/flows/", headers=owner, json={"name": "upload e2e", "data": FILE_FLOW}).json()
    key = f"triggers/{flow['id']}/note.txt"
    boto3.client("s3").put_object(Bucket=os.environ["FLOWLESS_BUCKET_NAME"], Key=key, Body=b"uploaded text")
    deadline = time.monotonic() + 20
    from flowless.store.tasks import TaskRepository

    user_id = http.get("/api/v1/users/whoami", headers=owner).json()["id"]
    while time.monotonic() < deadline:
        items = list(TaskRepository().table.query_prefix(f"USER#{user_id}", "TASK#"))
        if items and items[0]["status"] in ("SUCCESS", "FAILURE"):
            break
        time.sleep(0.1)
    assert items, "the upload started no task"
    task = _wait_for_end(http, items[0]["id"], owner)
    assert task["status"] == "SUCCESS", task
    assert task["result"]["outputs"][0]["outputs"][0]["results"]["message"]["text"] == "uploaded text"
