"""Webhook benchmark: N webhook calls through the local stack, until every task has ended.

    python benchmarks/webhooks.py [--calls 500] [--clients 8]

Everything stays on loopback: the embedded AWS, the gateway, the run queue and the executor fed by the local SQS
poller. It checks that every task reaches SUCCESS or FAILURE, that none is lost, and that no flow ran twice
(one stored chat message per call), then prints the accept throughput and the time to drain.
Budget: 500 calls done within 60 s.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "core" / "python"))

FLOW = {
    "nodes": [
        {"id": "Webhook-bench", "data": {"id": "Webhook-bench", "type": "Webhook",
                                         "node": {"template": {"data": {"type": "str", "value": ""}}}}},
        {"id": "ChatOutput-bench", "data": {"id": "ChatOutput-bench", "type": "ChatOutput",
                                            "node": {"template": {"session_id": {"type": "str", "value": ""}}}}},
    ],
    "edges": [{"source": "Webhook-bench", "target": "ChatOutput-bench",
               "data": {"sourceHandle": {"name": "output_data"}, "targetHandle": {"fieldName": "input_value"}}}],
}
BUDGET_S = 60.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    import httpx

    from flowless.local.stack import LocalStack, free_port, serve_in_thread
    from flowless.store.api_keys import ApiKeyRepository
    from flowless.store.messages import MessageRepository
    from flowless.store.tasks import TERMINAL, TaskRepository
    from flowless.store.users import UserRepository

    logging.basicConfig(level=logging.ERROR)
    for key, value in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": "us-east-1", "FLOWLESS_API_KEY_CACHE_SECONDS": "300"}.items():
        os.environ[key] = value
    os.environ.pop("AWS_ENDPOINT_URL", None)
    stack = LocalStack(ROOT / "template.yaml", auto_login=False)
    stack.start_aws()
    workers = stack.start_workers()
    port = free_port()
    server, thread = serve_in_thread(stack.gateway(), "127.0.0.1", port)
    base = f"http://127.0.0.1:{port}"
    try:
        user = UserRepository().create(username="bench", password=None)
        _, key = ApiKeyRepository().create(user_id=user.id, name="bench")
        flow = httpx.post(f"{base}/api/v1/flows/", headers={"x-api-key": key},
                          json={"name": "webhook bench", "data": FLOW}).json()
        print(f"{args.calls} webhook calls, {args.clients} clients; workers: {'; '.join(workers)}")

        def call(i: int) -> str:
            with httpx.Client(base_url=base, timeout=30) as client:
                reply = client.post(f"/api/v1/webhook/{flow['id']}", content=json.dumps({"i": i}))
            if reply.status_code != 202:
                raise RuntimeError(f"call {i}: {reply.status_code} {reply.text}")
            return str(reply.json()["task_id"])

        started = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            task_ids = list(pool.map(call, range(args.calls)))
        accepted = time.perf_counter() - started

        tasks = TaskRepository()
        pending = set(task_ids)
        statuses: dict[str, str] = {}
        while pending and time.perf_counter() - started < BUDGET_S * 2:
            for task_id in list(pending):
                task = tasks.get(user_id=user.id, task_id=task_id)
                if task.status in TERMINAL:
                    statuses[task_id] = task.status
                    pending.discard(task_id)
            if pending:
                time.sleep(0.2)
        drained = time.perf_counter() - started

        stored = MessageRepository().history(user_id=user.id, flow_id=flow["id"], session_id=flow["id"])
        ran_twice = len(stored) - sum(1 for s in statuses.values() if s == "SUCCESS")
        successes = sum(1 for s in statuses.values() if s == "SUCCESS")
        print(f"accepted   {args.calls} calls in {accepted:.2f} s ({args.calls / accepted:.0f} calls/s)")
        print(f"drained    {len(statuses)} tasks ended in {drained:.2f} s ({len(statuses) / drained:.0f} tasks/s); "
              f"SUCCESS {successes}, FAILURE {len(statuses) - successes}")
        print(f"lost       {len(pending)} (tasks not ended)")
        print(f"ran twice  {max(ran_twice, 0)} (stored messages {len(stored)} for {successes} successful runs)")
        ok = not pending and ran_twice == 0 and drained <= BUDGET_S
        print(f"budget     all done within {BUDGET_S:.0f} s: {'OK' if ok else 'OVER'}")
        return 0
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        stack.stop_aws()


if __name__ == "__main__":
    sys.exit(main())
