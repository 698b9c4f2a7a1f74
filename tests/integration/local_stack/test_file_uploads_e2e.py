"""Large files on the local stack: a presigned POST straight to S3, registered when the object lands."""

from __future__ import annotations

import time

import httpx
import pytest


def _wait_for_file(http: httpx.Client, file_id: str, headers: dict[str, str], timeout: float = 20) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = http.get(f"/api/v2/files/{file_id}", headers=headers)
        if reply.status_code != 404:
            return reply
        time.sleep(0.1)
    pytest.fail(f"file {file_id} was never registered")


def test_a_presigned_upload_lands_in_s3_and_becomes_a_file(http, workers, owner):
    content = bytes(range(256)) * 4096  # 1 MiB of every byte value
    started = http.post("/api/v2/files/uploads", json={"name": "big data.csv", "content_type": "text/csv"},
                        headers=owner)
    assert started.status_code == 201, started.text
    form = started.json()
    assert form["url"].startswith("http") and "/api/" not in form["url"]
    # The client talks to S3 directly, with the form's fields and no Flowless credentials.
    landed = httpx.post(form["url"], data=form["fields"], files={"file": ("big data.csv", content, "text/csv")})
    assert landed.status_code in (200, 204), landed.text
    download = _wait_for_file(http, form["id"], owner)
    assert download.status_code == 200 and download.content == content
    assert download.headers["content-type"].startswith("text/csv")
    listed = http.get("/api/v2/files", headers=owner).json()
    assert [(f["id"], f["name"], f["size"]) for f in listed] == [(form["id"], "big data", len(content))]
