"""Streaming benchmark: what Flowless adds between the model's chunks and the client, through the local stack.

    python benchmarks/streaming.py [--runs 20]

A local OpenAI-compatible stub streams 10 chunks 30 ms apart; the client streams the answer over a real socket
through each door: Basic Prompting from Langflow's /api/v1/run?stream=true and from DB-GPT's chat_flow, and a
configured model from the OpenAI-compatible /api/v1/chat/completions. Both run in this process, so their clocks
agree:
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
from collections.abc import Callable
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
    for key, value in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": "us-east-1", "FLOWLESS_API_KEY_CACHE_SECONDS": "300",
                       "OPENAI_API_KEY": "sk-bench",
                       "FLOWLESS_ALLOW_PRIVATE_NETWORK": "true",
                       "FLOWLESS_MODELS": json.dumps({"bench": "openai:gpt-4o-mini"})}.items():
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
            doors = _doors(flow_id)
            results: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in doors}
            for run in range(args.runs + 2):  # the first two warm up imports and connections
                for name, (path, body, is_token) in doors.items():
                    stub.chunk_times.clear()
                    stub.enqueue(Reply.slow([f" w{i}" for i in range(10)], interval_s=0.03))
                    arrivals = []
                    with client.stream("POST", path, json={**body, "session_id": f"s{run}"}) as reply:
                        for line in reply.iter_lines():
                            if is_token(line):
                                arrivals.append(time.perf_counter())
                    if run < 2:
                        continue
                    sent = stub.chunk_times[: len(arrivals)]
                    first, per_token = results[name]
                    first.append((arrivals[0] - sent[0]) * 1000)
                    per_token.append(statistics.median((a - s) * 1000 for a, s in zip(arrivals, sent, strict=True)))
            client.close()
        finally:
            server.should_exit = True
            thread.join(timeout=5)
            stack.stop_aws()
    print(f"runs {args.runs}, 10 chunks 30 ms apart per run; budget <= {BUDGET_MS:.0f} ms on the first token")
    print(f"{'door':<26}{'first p50 ms':>13}{'first p95 ms':>13}{'per-token p50 ms':>18}  verdict")
    for name, (first, per_token) in results.items():
        p50_first = statistics.median(first)
        p95_first = sorted(first)[int(0.95 * (len(first) - 1))]
        print(f"{name:<26}{p50_first:>13.2f}{p95_first:>13.2f}{statistics.median(per_token):>18.2f}"
              f"  {'OK' if p50_first <= BUDGET_MS else 'OVER'}")
    return 0


def _sse_content(line: str) -> bool:
    """An SSE data line carrying answer text (DB-GPT's and OpenAI's chunks)."""
    if not line.startswith("data: {"):
        return False
    choices = json.loads(line[len("data: "):]).get("choices") or [{}]
    return bool(choices[0].get("delta", {}).get("content"))


def _doors(flow_id: str) -> dict[str, tuple[str, dict, Callable[[str], bool]]]:
    """Each streaming door: (path, body, does this line carry a token?)."""
    return {
        "langflow /api/v1/run": (f"/api/v1/run/{flow_id}?stream=true", {"input_value": "go"},
                                 lambda line: bool(line.strip()) and json.loads(line)["event"] == "token"),
        "db-gpt chat_flow": ("/api/v2/chat/completions", {"model": "bench", "messages": "go", "stream": True,
                                                           "chat_mode": "chat_flow", "chat_param": flow_id},
                             _sse_content),
        "model api chat": ("/api/v1/chat/completions", {"model": "bench", "stream": True,
                                                        "messages": [{"role": "user", "content": "go"}]},
                           _sse_content),
    }


if __name__ == "__main__":
    sys.exit(main())
