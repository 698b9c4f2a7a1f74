"""Engine and run benchmark: in-process engine time, AWS calls per run, and HTTP latency through `flowless dev`.

    python benchmarks/engine.py [--quick]

1. Engine only (parse, prepare, run) for SimpleAPITest and for synthetic chains of 10, 100 and 1000 components.
2. AWS calls made by one buffered POST /api/v1/run (after the first, so the API key is cached, as in a warm
   container), counted with a botocore event hook on every client.
3. SimpleAPITest over HTTP through the local stack (embedded AWS, gateway, real handler; messages stored),
   with 1 and 4 concurrent clients.
Budgets: engine <= 1 ms p50 (SimpleAPITest) and <= 100 ms (1000 components); <= 3 AWS calls per run;
<= 10 ms p50 over HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "core" / "python"))
FIXTURE = ROOT.parent / "shared" / "fixtures" / "langflow" / "no-llm" / "SimpleAPITest.json"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _node(node_id: str, kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    template = {k: {"type": "str", "value": v} for k, v in fields.items()}
    return {"id": node_id, "data": {"id": node_id, "type": kind, "node": {"template": template}}}


def _edge(source: str, output: str, target: str, field: str) -> dict[str, Any]:
    return {"source": source, "target": target,
            "data": {"sourceHandle": {"name": output}, "targetHandle": {"fieldName": field}}}


def chain(length: int) -> dict[str, Any]:
    """Text Input -> Combine Text x length -> Text Output: one layer per component."""
    nodes = [_node("TextInput-start", "TextInput", {"input_value": "x"})]
    edges = []
    previous, output = "TextInput-start", "text"
    for i in range(length):
        node_id = f"CombineText-{i}"
        nodes.append(_node(node_id, "CombineText", {"text2": "y", "delimiter": ""}))
        edges.append(_edge(previous, output, node_id, "text1"))
        previous, output = node_id, "combined_text"
    nodes.append(_node("TextOutput-end", "TextOutput", {}))
    edges.append(_edge(previous, output, "TextOutput-end", "input_value"))
    return {"nodes": nodes, "edges": edges}


def engine_times(payload: dict[str, Any], runs: int, **request: Any) -> list[float]:
    from flowless.components.registry import default_registry
    from flowless.engine.context import RunContext
    from flowless.engine.graph import parse_graph
    from flowless.engine.run import RunRequest, prepare_graph, run_events

    registry = default_registry()

    async def once() -> None:
        graph = parse_graph(payload, registry, flow_id="bench")
        req = RunRequest(**request)
        session = prepare_graph(graph, req, stream=False)
        ctx = RunContext(flow_id="bench", session_id=session)
        async for event in run_events(graph, registry=registry, ctx=ctx, request=req):
            if event.kind == "error":
                raise RuntimeError(event.data["error"])

    async def measure() -> list[float]:
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            await once()
            samples.append(time.perf_counter() - started)
        return samples

    asyncio.run(measure())  # warm-up: imports, registry
    return asyncio.run(measure())


def _env_for_moto() -> None:
    for key, value in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": "us-east-1", "FLOWLESS_API_KEY_CACHE_SECONDS": "300"}.items():
        os.environ[key] = value
    os.environ.pop("AWS_ENDPOINT_URL", None)


def aws_calls_per_run() -> tuple[int, list[str]]:
    """Calls one warm buffered run makes, in-process against moto."""
    from moto import mock_aws

    from flowless.local.events import call_handler, lambda_context, load_function, rest_proxy_event
    from flowless.local.resources import create_resources
    from flowless.local.template import load_template
    from flowless.settings import get_settings
    from flowless.store import aws
    from flowless.store.api_keys import ApiKeyRepository
    from flowless.store.users import UserRepository

    _env_for_moto()
    with mock_aws():
        os.environ.update(create_resources(load_template(ROOT / "template.yaml"), prefix="bench"))
        get_settings.cache_clear()
        aws.reset_clients()
        user = UserRepository().create(username="bench", password=None)
        _, key = ApiKeyRepository().create(user_id=user.id, name="bench")
        flows = load_function(ROOT / "functions" / "flows" / "app.py", "bench_flows")
        run = load_function(ROOT / "functions" / "run" / "app.py", "bench_run")
        headers = {"x-api-key": key, "content-type": "application/json"}
        export = json.loads(FIXTURE.read_text())
        created = call_handler(flows.handler, rest_proxy_event(
            "POST", "/api/v1/flows/", headers=headers, body=json.dumps({"name": "bench", "data": export["data"]})),
            lambda_context("flows"))
        flow_id = json.loads(created["body"])["id"]
        event = rest_proxy_event("POST", f"/api/v1/run/{flow_id}", headers=headers,
                                 body=json.dumps({"input_value": "hi", "session_id": "s"}))
        call_handler(run.handler, event, lambda_context("run"))  # warm: key cached, clients made
        calls: list[str] = []
        for service in ("dynamodb", "s3", "sqs"):
            aws.client(service).meta.events.register("before-call.*.*",
                                                     lambda event_name, **_: calls.append(event_name))
        answer = call_handler(run.handler, event, lambda_context("run"))
        assert answer["statusCode"] == 200, answer["body"]
        return len(calls), [c.split(".", 1)[1] for c in calls]


def http_latency(requests_per_client: int, clients: int, base_url: str, flow_id: str,
                 key: str) -> tuple[list[float], float]:
    import httpx

    def worker(_: int) -> list[float]:
        samples = []
        with httpx.Client(base_url=base_url, headers={"x-api-key": key}) as client:
            for i in range(requests_per_client):
                started = time.perf_counter()
                reply = client.post(f"/api/v1/run/{flow_id}", json={"input_value": f"hi {i}", "session_id": "bench"})
                samples.append(time.perf_counter() - started)
                if reply.status_code != 200:
                    raise RuntimeError(reply.text)
        return samples

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(worker, range(clients)))
    elapsed = time.perf_counter() - started
    samples = [s for r in results for s in r]
    return samples, len(samples) / elapsed


def over_http(quick: bool) -> list[tuple[str, list[float], float]]:
    import logging

    import httpx

    from flowless.local.stack import LocalStack, free_port, serve_in_thread
    from flowless.store.api_keys import ApiKeyRepository
    from flowless.store.users import UserRepository

    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    _env_for_moto()
    stack = LocalStack(ROOT / "template.yaml", auto_login=False)
    stack.start_aws()
    port = free_port()
    server, thread = serve_in_thread(stack.gateway(), "127.0.0.1", port)
    base = f"http://127.0.0.1:{port}"
    try:
        user = UserRepository().create(username="bench-http", password=None)
        _, key = ApiKeyRepository().create(user_id=user.id, name="bench")
        export = json.loads(FIXTURE.read_text())
        flow = httpx.post(f"{base}/api/v1/flows/", headers={"x-api-key": key},
                          json={"name": "bench", "data": export["data"]}).json()
        http_latency(20, 1, base, flow["id"], key)  # warm-up
        n = 50 if quick else 200
        rows = []
        for clients in (1, 4):
            samples, throughput = http_latency(n // clients, clients, base, flow["id"], key)
            rows.append((f"HTTP, {clients} client{'s' if clients > 1 else ''}", samples, throughput))
        return rows
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        stack.stop_aws()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples")
    args = parser.parse_args()
    runs = 50 if args.quick else 300

    print("Engine, in process (parse + prepare + run)")
    print(f"{'flow':<24}{'p50 ms':>10}{'p95 ms':>10}{'budget':>12}")
    export = json.loads(FIXTURE.read_text())
    cases = [("SimpleAPITest", export, runs, 1.0, {"input_value": "value1"})]
    for length, budget in ((10, None), (100, None), (1000, 100.0)):
        cases.append((f"chain of {length}", chain(length), max(5, runs // (length // 10 or 1)), budget,
                      {"input_value": "x", "input_type": "text"}))
    for name, payload, n, budget, request in cases:
        samples = engine_times(payload, n, **request)
        p50, p95 = percentile(samples, 0.5) * 1000, percentile(samples, 0.95) * 1000
        verdict = "" if budget is None else (f"<= {budget:g} {'OK' if p50 <= budget else 'OVER'}")
        print(f"{name:<24}{p50:>10.3f}{p95:>10.3f}{verdict:>12}")

    count, names = aws_calls_per_run()
    print(f"\nAWS calls in one warm buffered /api/v1/run: {count} ({', '.join(names)}); budget <= 3 "
          f"{'OK' if count <= 3 else 'OVER'}")

    print("\nSimpleAPITest over HTTP through the local stack (messages stored)")
    print(f"{'clients':<24}{'p50 ms':>10}{'p95 ms':>10}{'req/s':>10}")
    for name, samples, throughput in over_http(args.quick):
        print(f"{name:<24}{percentile(samples, 0.5) * 1000:>10.2f}{percentile(samples, 0.95) * 1000:>10.2f}"
              f"{throughput:>10.1f}")
    print("budget: p50 <= 10 ms with one client")

    started = time.perf_counter()
    import subprocess

    subprocess.run([sys.executable, "-m", "flowless.cli", "run", str(FIXTURE), "--input", "hi"],
                   env={**os.environ, "PYTHONPATH": str(ROOT / "layers" / "core" / "python")},
                   check=True, capture_output=True)
    print(f"\n`flowless run` SimpleAPITest, whole process: {time.perf_counter() - started:.3f} s (budget <= 1 s)")
    return 0


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main())
