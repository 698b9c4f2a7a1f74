"""Streaming benchmark: what Flowless adds between the model's chunks and the client, through the local stack.

    python benchmarks/streaming.py [--runs 20]

A local OpenAI-compatible stub streams 10 chunks 30 ms apart; the client streams Basic Prompting from
/api/v1/run?stream=true over a real socket. Both run in this process, so their clocks agree:
  first-token overhead = client's arrival of the first token - stub's send of the first chunk
  per-token overhead   = median over tokens of (client's arrival - stub's send)
Budget: <= 20 ms added to the first token.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "core" / "python"))
sys.path.insert(0, str(ROOT))
FIXTURE = ROOT.parent / "shared" / "fixtures" / "langflow" / "Basic Prompting.json"
BUDGET_MS = 20.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    import httpx

    from flowless.local.stack import LocalStack, free_port, serve_in_thread
    from flowless.store.api_keys import ApiKeyRepository
    from flowless.store.users import UserRepository
    from tests.stubs.openai_stub import OpenAIStub, Reply

    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    for key, value in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
                       "FLOWLESS_API_KEY_CACHE_SECONDS": "300", "OPENAI_API_KEY": "sk-bench",
                       "FLOWLESS_ALLOW_PRIVATE_NETWORK": "true"}.items():
        os.environ[key] = value
    os.environ.pop("AWS_ENDPOINT_URL", None)
    with OpenAIStub() as stub:
        os.environ["OPENAI_BASE_URL"] = stub.base_url
        stack = LocalStack(ROOT / "template.yaml", auto_login=False)
        stack.start_aws()
        port = free_port()
        server, thread = serve_in_thread(stack.gateway(), "127.0.0.1", port)
        try:
            user = UserRepository().create(username="bench", password=None)
            _, key = ApiKeyRepository().create(user_id=user.id, name="bench")
            export = json.loads(FIXTURE.read_text())
            client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"x-api-key": key}, timeout=30)
            flow_id = client.post("/api/v1/flows/", json={"name": "stream bench", "data": export["data"]}).json()["id"]
            first, per_token = [], []
            for run in range(args.runs + 2):  # the first two warm up imports and connections
                stub.chunk_times.clear()
                stub.enqueue(Reply.slow([f" w{i}" for i in range(10)], interval_s=0.03))
                arrivals = []
                with client.stream("POST", f"/api/v1/run/{flow_id}?stream=true",
                                   json={"input_value": "go", "session_id": f"s{run}"}) as reply:
                    for line in reply.iter_lines():
                        if line.strip() and json.loads(line)["event"] == "token":
                            arrivals.append(time.perf_counter())
                if run < 2:
                    continue
                sent = stub.chunk_times[: len(arrivals)]
                first.append((arrivals[0] - sent[0]) * 1000)
                per_token.append(statistics.median((a - s) * 1000 for a, s in zip(arrivals, sent, strict=True)))
            client.close()
        finally:
            server.should_exit = True
            thread.join(timeout=5)
            stack.stop_aws()
    p50_first = statistics.median(first)
    print(f"runs {args.runs}, 10 chunks 30 ms apart per run")
    print(f"first-token overhead  p50 {p50_first:.2f} ms  p95 {sorted(first)[int(0.95 * (len(first) - 1))]:.2f} ms"
          f"  (budget <= {BUDGET_MS:.0f} ms: {'OK' if p50_first <= BUDGET_MS else 'OVER'})")
    print(f"per-token overhead    p50 {statistics.median(per_token):.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
