"""The whole local stack in one process: moto as the embedded AWS, the template's resources, the gateway,
and workers that feed the event-driven functions (SQS event sources, S3 upload rules).

`flowless dev` runs it in the foreground; the integration tests start it in a background thread.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowless.local.template import Template, load_template

__all__ = ["RESOURCE_PREFIX", "LocalStack", "find_template", "free_port", "serve_in_thread", "wait_for_port"]

# Local resource names are predictable, so `flowless api-key create --dev` finds the running stack's table.
RESOURCE_PREFIX = "flowless-local"

# What `flowless dev` needs to look like a deployed stack to boto3 and to the functions.
_DEV_DEFAULTS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def find_template(start: Path | None = None) -> Path:
    """template.yaml in the current directory or a parent (so `flowless dev` works from any subfolder)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "template.yaml"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("template.yaml not found in this directory or its parents")


@dataclass
class LocalStack:
    """moto server + resources from template.yaml + environment; then a gateway and event workers."""

    template_path: Path
    host: str = "127.0.0.1"
    aws_port: int = 0
    auto_login: bool = True
    environment: dict[str, str] = field(default_factory=dict)
    # How soon a failed SQS message or S3 event is retried locally (AWS waits the queue's visibility timeout).
    retry_delay_s: float = 1.0
    # Batches one SQS event source may have in flight at once.
    worker_concurrency: int = 2
    resource_prefix: str = RESOURCE_PREFIX
    _moto: Any = None
    _resources: Any = None
    _workers: Any = None

    @property
    def template(self) -> Template:
        return load_template(self.template_path)

    @property
    def aws_endpoint(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    def start_aws(self) -> dict[str, str]:
        """Start the embedded AWS, create the resources, and export the environment the functions read."""
        import logging

        from moto.server import ThreadedMotoServer

        # The embedded AWS would log every call the functions make; keep the console for the API's own log.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.aws_port = self.aws_port or free_port(self.host)
        self._moto = ThreadedMotoServer(ip_address=self.host, port=self.aws_port, verbose=False)
        self._moto.start()
        env = {**_DEV_DEFAULTS, "AWS_ENDPOINT_URL": self.aws_endpoint,
               "FLOWLESS_AUTO_LOGIN": "true" if self.auto_login else "false"}
        for key, value in env.items():
            # Explicit settings of the caller (say, real credentials' absence or a chosen region) stay.
            if key in ("AWS_ENDPOINT_URL", "FLOWLESS_AUTO_LOGIN") or key not in os.environ:
                os.environ[key] = value
        from flowless.local.resources import create_stack_resources

        self._resources = create_stack_resources(self.template, prefix=self.resource_prefix)
        os.environ.update(self._resources.environment)
        for key, value in self.template.function_settings().items():
            os.environ.setdefault(key, value)   # what the shell sets (FLOWLESS_MODELS, say) wins
        self.environment = {k: os.environ[k] for k in os.environ
                            if k.startswith(("FLOWLESS_", "AWS_", "POWERTOOLS_"))}
        _forget_process_state()
        return self.environment

    def start_workers(self) -> list[str]:
        """Run the template's SQS and S3-triggered functions against the embedded AWS (after `start_aws`).

        Returns one line per worker, e.g. "ExecutorFunction <- RunQueue (SQS, batch 10)".
        """
        from flowless.local.workers import start_workers

        if self._resources is None:
            raise RuntimeError("start_aws() first: the workers need the created queues and buckets")
        self.stop_workers()
        self._workers = start_workers(self.template, self._resources.names, self._resources.arns,
                                      retry_delay_s=self.retry_delay_s, concurrency=self.worker_concurrency)
        return list(self._workers.describe())

    def stop_workers(self, timeout: float = 10.0) -> None:
        if self._workers is not None:
            self._workers.stop(timeout)
            self._workers = None

    def stop_aws(self) -> None:
        # Workers first: a poller talking to a stopped endpoint would only log connection errors.
        self.stop_workers()
        if self._moto is not None:
            # moto keeps its state per process, not per server: forget it, or the next stack started in this
            # process (the next test module) would find this one's table and fail to create its own.
            import urllib.request

            reset = urllib.request.Request(f"{self.aws_endpoint}/moto-api/reset", method="POST")
            with urllib.request.urlopen(reset, timeout=5):  # our own local endpoint
                pass
            self._moto.stop()
            self._moto = None

    def gateway(self) -> Any:
        from flowless.local.gateway import Gateway

        return Gateway(self.template)


def _forget_process_state() -> None:
    """Settings and clients are cached per process; the environment just changed under them."""
    from flowless.settings import get_settings
    from flowless.store.aws import reset_clients

    get_settings.cache_clear()
    reset_clients()


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout:.0f} s")


def serve_in_thread(app: Any, host: str, port: int) -> tuple[Any, threading.Thread]:
    """uvicorn in a daemon thread (tests and benchmarks); returns the server, whose should_exit stops it."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name="flowless-gateway", daemon=True)
    thread.start()
    wait_for_port(host, port)
    return server, thread
