"""Writes started beside a request: run on a worker thread, finished before the app returns, never failing it."""

from __future__ import annotations

import threading

from fastapi.testclient import TestClient

from flowless.http.app import create_app
from flowless.http.beside import run_beside
from flowless.http.routing import Router


def test_writes_beside_finish_before_the_app_returns_and_never_fail_it() -> None:
    done: list[str] = []
    release = threading.Event()

    def slow_write(name: str) -> None:
        release.wait(5)
        done.append(name)

    def broken_write() -> None:
        raise RuntimeError("throttled")

    router = Router()

    @router.get("/ping")
    def ping() -> dict[str, str]:
        run_beside(slow_write, "counted")
        run_beside(broken_write)
        assert done == []          # not run inline
        release.set()
        return {"ok": "yes"}

    with TestClient(create_app(title="test", routers=[router])) as client:
        reply = client.get("/ping")
    assert reply.status_code == 200 and reply.json() == {"ok": "yes"}
    assert done == ["counted"]


def test_outside_a_request_the_write_runs_at_once() -> None:
    done: list[int] = []
    run_beside(done.append, 1)
    assert done == [1]
