"""Playground builds (Langflow's /api/v1/build routes) as queued jobs whose events any container can read.

POST .../build/{flow_id}/flow checks the request, records a QUEUED job and queues a run message:
    {"kind": "build", "job_id", "user_id", "flow_id"}
The executor claims the job once (`execute_build`), runs the engine and appends the build's event records to
the job as they happen, in small batches: readers see progress within a fraction of a second while a build
costs a few writes, not one per token. GET .../events pages through them (`read_events`, `wait_events`,
`follow_events`); `build_direct` runs a build inside the request for event_delivery=direct.

What is built: the stored graph, or the request's `data` instead of it. `stop_component_id` builds that
component and its ancestors only; `start_component_id` builds it, everything downstream of it and the
ancestors those need. Within that set the engine's usual rules apply (it starts from a Chat Input when there
is one). Model components stream tokens when the flow says so: a build applies no run-wide `stream` tweak.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from flowless.errors import FlowlessError, InvalidInputError, NotFoundError
from flowless.langflow.background import Outcome
from flowless.wire.langflow_build import BuildFlowRequest

__all__ = ["BUILD_KIND", "BuildEvents", "build_direct", "cancel_build", "execute_build",
           "fail_build_dead_letter", "follow_events", "limit_graph", "parse_build_request", "read_events",
           "start_build", "wait_events"]

logger = logging.getLogger("flowless")

BUILD_KIND = "build"
# A request (with a `data` override) past this is kept in S3, so the job item stays small.
_INLINE_REQUEST_LIMIT = 100_000
# Pending records are written once there are this many, or once the oldest has waited this long.
_FLUSH_EVENTS = 10
_FLUSH_SECONDS = 0.1
# How often a running build looks for a cancel while it has nothing to write.
_CANCEL_CHECK_SECONDS = 1.0


# ---- the request ------------------------------------------------------------------------------------

def parse_build_request(body: Mapping[str, Any] | None,
                        query: Mapping[str, str] | None = None) -> BuildFlowRequest:
    """The build body with the query's component ids applied; a malformed body is InvalidInputError."""
    from pydantic import ValidationError

    try:
        request = BuildFlowRequest.model_validate(dict(body or {}))
    except ValidationError as exc:
        raise InvalidInputError(f"Invalid build request: {exc.errors()[0].get('msg', 'bad value')}") from exc
    changes = {name: (query or {}).get(name) for name in ("start_component_id", "stop_component_id")}
    return request.model_copy(update={k: v for k, v in changes.items() if v})


def _find_flow(user_id: str, flow_id: str) -> Any:
    from flowless.store.flows import FlowRepository

    try:
        return FlowRepository().get_for_run(user_id=user_id, flow_id=flow_id)
    except NotFoundError:
        raise NotFoundError("Flow not found") from None


# ---- which vertices a build runs --------------------------------------------------------------------

def _closure(graph: Any, seeds: set[str], *, downstream: bool) -> set[str]:
    """`seeds` and every vertex reachable from them, following edges forwards or backwards."""
    found, todo = set(seeds), list(seeds)
    while todo:
        vertex_id = todo.pop()
        edges = graph.outgoing(vertex_id) if downstream else graph.incoming(vertex_id)
        for edge in edges:
            nxt = edge.target if downstream else edge.source
            if nxt not in found:
                found.add(nxt)
                todo.append(nxt)
    return found


def limit_graph(graph: Any, *, start_component_id: str | None = None,
                stop_component_id: str | None = None) -> Any:
    """The part of a parsed graph a build with these component ids runs (the graph itself without them).

    Every kept vertex keeps all its ancestors, so no kept vertex loses an input; edges into dropped vertices
    go, which is what stops the build there.
    """
    from flowless.engine.graph import Graph

    if not start_component_id and not stop_component_id:
        return graph
    for component_id in (start_component_id, stop_component_id):
        if component_id and component_id not in graph.vertices:
            raise InvalidInputError(f"Component {component_id} not found in the flow")
    keep = set(graph.vertices)
    if stop_component_id:
        keep &= _closure(graph, {stop_component_id}, downstream=False)
    if start_component_id:
        keep &= _closure(graph, _closure(graph, {start_component_id}, downstream=True), downstream=False)
    order = [v for v in graph.order if v in keep]
    return Graph(vertices={v: graph.vertices[v] for v in order},
                 edges=[e for e in graph.edges if e.source in keep and e.target in keep],
                 flow_id=graph.flow_id, flow_name=graph.flow_name, order=order)


class _Build:
    """One prepared build: the graph to run for a user, and the records its run produces."""

    def __init__(self, *, user_id: str, flow: Any, request: BuildFlowRequest) -> None:
        from flowless.components.registry import default_registry
        from flowless.engine.graph import parse_graph
        from flowless.engine.tweaks import apply_tweaks, inject_inputs, inject_session

        inputs = request.inputs
        self.user_id = user_id
        self.flow = replace(flow, data=request.data) if request.data is not None else flow
        self.registry = default_registry()
        graph = parse_graph(self.flow.data or {}, self.registry, flow_id=flow.id, flow_name=flow.name)
        if request.files:
            apply_tweaks(graph, {v.id: {"files": list(request.files)} for v in graph.vertices.values()
                                 if v.is_input and "files" in v.template})
        self.input_value = inputs.input_value if inputs else None
        inject_inputs(graph, input_value=self.input_value, input_type=inputs.type if inputs else "any")
        self.session_id = (inputs.session if inputs else None) or flow.id
        inject_session(graph, self.session_id)
        self.graph = limit_graph(graph, start_component_id=request.start_component_id,
                                 stop_component_id=request.stop_component_id)

    def error_record(self, reason: str, vertex_id: str | None = None) -> dict[str, Any]:
        from flowless.wire.langflow_build import error_record

        vertex = self.graph.vertices.get(vertex_id) if vertex_id else None
        return error_record(reason, component=vertex.display_name if vertex else None, component_id=vertex_id,
                            flow_id=self.flow.id, session_id=self.session_id)

    def _records_of(self, event: Any) -> list[dict[str, Any]]:
        from flowless.engine.run import ComponentBuildError
        from flowless.wire import langflow_build as wire

        data = event.data
        if event.kind == "vertices_sorted":
            return [wire.vertices_sorted_record(data["ids"], data["to_run"])]
        if event.kind == "add_message":
            return [wire.add_message_record(data["message"])]
        if event.kind == "token":
            return [wire.token_record(data["chunk"], data["id"])]
        if event.kind == "end_vertex":
            return [wire.end_vertex_record(data["vertex"])]
        if event.kind == "end":
            return [wire.end_record()]
        exc = data.get("exception")
        # The component's own words; the stack trace stays in the logs, it describes the server, not the flow.
        reason = str(exc.cause) if isinstance(exc, ComponentBuildError) else str(data.get("error"))
        logger.info("build failed", extra={"flow_id": self.flow.id, "vertex_id": data.get("vertex_id")},
                    exc_info=exc if isinstance(exc, BaseException) else None)
        records = []
        vertex_id = data.get("vertex_id")
        if vertex_id in self.graph.vertices:
            outputs = self.graph.vertices[vertex_id].outputs
            records.append(wire.failed_vertex_record(vertex_id, outputs[0] if outputs else None, reason))
        return [*records, self.error_record(reason, vertex_id)]

    async def records(self) -> AsyncGenerator[dict[str, Any], None]:
        """The build's records, the last `end` or `error`; its chat messages are stored however it ends."""
        from flowless.engine.context import RunContext
        from flowless.engine.run import RunRequest, run_events
        from flowless.langflow.services import run_services

        services = run_services(user_id=self.user_id, flow_id=self.flow.id)
        ctx = RunContext(flow_id=self.flow.id, session_id=self.session_id, user_id=self.user_id,
                         flow_name=self.flow.name, services=services)
        request = RunRequest(input_value=self.input_value, session_id=self.session_id)
        try:
            async for event in run_events(self.graph, registry=self.registry, ctx=ctx, request=request):
                for record in self._records_of(event):
                    yield record
        finally:
            if ctx.new_messages:
                from flowless.store.messages import MessageRepository
                from flowless.wire.langflow_run import message_event_data

                MessageRepository().add_many(user_id=self.user_id, flow_id=self.flow.id,
                                             messages=[message_event_data(m) for m in ctx.new_messages])


# ---- starting a build -------------------------------------------------------------------------------

def start_build(user_id: str, flow_id: str, body: Mapping[str, Any] | None,
                query: Mapping[str, str] | None = None) -> str:
    """Check the build request against the caller's flow, record a QUEUED job and queue it; the job id.

    A missing or foreign flow is NotFoundError("Flow not found"); a graph that cannot be built or an unknown
    component id is InvalidInputError, before anything is queued.
    """
    from flowless.clock import new_id
    from flowless.settings import get_settings
    from flowless.store.aws import client
    from flowless.store.jobs import FAILED, JobRepository

    request = parse_build_request(body, query)
    _Build(user_id=user_id, flow=_find_flow(user_id, flow_id), request=request)
    settings = get_settings()
    job_id = new_id()
    stored = request.model_dump(exclude_none=True)
    stored_json = json.dumps(stored)
    request_key = None
    if len(stored_json.encode()) > _INLINE_REQUEST_LIMIT:
        request_key = f"jobs/{job_id}/request.json"
        client("s3").put_object(Bucket=settings.bucket_name, Key=request_key, Body=stored_json.encode(),
                                ContentType="application/json")
    jobs = JobRepository()
    jobs.create(user_id=user_id, flow_id=flow_id, job_id=job_id, request=None if request_key else stored,
                request_key=request_key)
    message = {"kind": BUILD_KIND, "job_id": job_id, "user_id": user_id, "flow_id": flow_id}
    try:
        client("sqs").send_message(QueueUrl=settings.run_queue_url, MessageBody=json.dumps(message))
    except Exception:
        # The build will never run: say so on the job rather than leave readers waiting on it.
        jobs.set_status(user_id=user_id, job_id=job_id, status=FAILED)
        raise
    return job_id


async def build_direct(user_id: str, flow_id: str, body: Mapping[str, Any] | None,
                       query: Mapping[str, str] | None = None) -> AsyncIterator[dict[str, Any]]:
    """event_delivery=direct: build inside the request and yield the records, with no job and no queue.

    Request and flow errors raise before the first record, so the route can still answer 4xx.
    """
    request = parse_build_request(body, query)
    build = _Build(user_id=user_id, flow=_find_flow(user_id, flow_id), request=request)
    async for record in build.records():
        yield record


# ---- running a queued build -------------------------------------------------------------------------

class _EventLog:
    """The job's events as one executor writes them: numbered, batched, and checked for a cancel."""

    def __init__(self, jobs: Any, *, user_id: str, job_id: str) -> None:
        self.jobs, self.user_id, self.job_id = jobs, user_id, job_id
        # A retried attempt continues after what an earlier one wrote; sequence numbers never repeat.
        self.next_seq = jobs.last_seq(job_id) + 1
        self.pending: list[dict[str, Any]] = []
        self.oldest = 0.0
        self.checked = time.monotonic()

    def add(self, record: dict[str, Any]) -> None:
        if not self.pending:
            self.oldest = time.monotonic()
        self.pending.append(record)

    def due(self) -> bool:
        return len(self.pending) >= _FLUSH_EVENTS or (
            bool(self.pending) and time.monotonic() - self.oldest >= _FLUSH_SECONDS)

    def wait_seconds(self) -> float:
        """How long the build may wait for its next record before a flush or a cancel check is due."""
        deadline = self.checked + _CANCEL_CHECK_SECONDS
        if self.pending:
            deadline = min(deadline, self.oldest + _FLUSH_SECONDS)
        return max(0.0, deadline - time.monotonic())

    def flush(self) -> bool:
        """Write what is pending; False once the job was cancelled (the build should stop)."""
        from flowless.store.jobs import CANCELLED

        if self.pending:
            self.next_seq = self.jobs.append(self.job_id, self.pending, first_seq=self.next_seq)
            self.pending = []
        if time.monotonic() - self.checked < _CANCEL_CHECK_SECONDS:
            return True
        self.checked = time.monotonic()
        return self.jobs.status(user_id=self.user_id, job_id=self.job_id) != CANCELLED


async def _pump(records: AsyncGenerator[dict[str, Any], None], log: _EventLog) -> str:
    """Move a build's records into its event log; the last record's event name, or "cancelled".

    The next record is awaited as a task, so pending records are written on time even while a slow
    component keeps the build quiet.
    """
    last = ""
    waiting: asyncio.Future[dict[str, Any]] | None = None
    try:
        while True:
            if waiting is None:
                waiting = asyncio.ensure_future(records.__anext__())
            done, _ = await asyncio.wait({waiting}, timeout=log.wait_seconds())
            if done:
                future, waiting = waiting, None
                try:
                    record = future.result()
                except StopAsyncIteration:
                    break
                log.add(record)
                last = str(record.get("event", ""))
                if not log.due():
                    continue
            if not log.flush():
                return "cancelled"
    finally:
        if waiting is not None and not waiting.done():
            # Cancelling the pending step closes the build, which cancels the vertices still running.
            waiting.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await waiting
        await records.aclose()
    log.checked = 0.0  # the last flush always looks for a cancel that came in meanwhile
    return last if log.flush() else "cancelled"


def _load_request(job: Any) -> BuildFlowRequest:
    if job.request_key:
        from flowless.settings import get_settings
        from flowless.store.aws import client

        body = client("s3").get_object(Bucket=get_settings().bucket_name, Key=job.request_key)["Body"].read()
        return BuildFlowRequest.model_validate(json.loads(body))
    return BuildFlowRequest.model_validate(job.request or {})


def execute_build(message: Mapping[str, Any], *, claimer: str, lease_seconds: float) -> Outcome:
    """Run one queued build unless another delivery already did (or is doing) it, or it was cancelled.

    The build's own failure (a flow that cannot run, a component that raises) ends the job FAILED with an
    error record and is not retried; anything else raises, so SQS redelivers the message.
    """
    from flowless.store.jobs import DONE, FAILED, JobRepository

    jobs = JobRepository()
    user_id, job_id = str(message["user_id"]), str(message["job_id"])
    if not jobs.claim(user_id=user_id, job_id=job_id, lease_seconds=lease_seconds, claimer=claimer):
        return Outcome("skipped", "the job is finished, cancelled, or another delivery is running it")
    log = _EventLog(jobs, user_id=user_id, job_id=job_id)
    job = jobs.get(user_id=user_id, job_id=job_id)
    try:
        build = _Build(user_id=user_id, flow=_find_flow(user_id, job.flow_id), request=_load_request(job))
    except FlowlessError as exc:
        from flowless.wire.langflow_build import error_record

        log.add(error_record(exc.message, component=None, component_id=None, flow_id=job.flow_id,
                             session_id=job.flow_id))
        log.flush()
        jobs.set_status(user_id=user_id, job_id=job_id, status=FAILED)
        return Outcome("failed", exc.message)
    last = asyncio.run(_pump(build.records(), log))
    if last == "cancelled":
        return Outcome("cancelled")
    status = DONE if last == "end" else FAILED
    if not jobs.set_status(user_id=user_id, job_id=job_id, status=status):
        return Outcome("cancelled")
    return Outcome("ran" if status == DONE else "failed")


def fail_build_dead_letter(message: Mapping[str, Any], *, receive_count: int) -> bool:
    """A build message SQS gave up on: its job becomes FAILED with an error record, unless it had ended."""
    from flowless.store.jobs import FAILED, JobRepository
    from flowless.wire.langflow_build import error_record

    try:
        user_id, job_id, flow_id = str(message["user_id"]), str(message["job_id"]), str(message["flow_id"])
    except (KeyError, TypeError) as exc:
        raise InvalidInputError("not a build message") from exc
    jobs = JobRepository()
    if not jobs.set_status(user_id=user_id, job_id=job_id, status=FAILED):
        return False
    reason = f"The build did not complete after {receive_count} attempts and was abandoned"
    jobs.append(job_id, [error_record(reason, component=None, component_id=None, flow_id=flow_id,
                                      session_id=flow_id)], first_seq=jobs.last_seq(job_id) + 1)
    return True


# ---- reading and cancelling -------------------------------------------------------------------------

@dataclass
class BuildEvents:
    """One read of a job's events: what came after the reader's last sequence number."""

    status: str
    events: list[tuple[int, dict[str, Any]]]
    finished: bool          # nothing will follow the last event returned
    last_seq: int           # pass it back as `after_seq` to continue

    @property
    def records(self) -> list[dict[str, Any]]:
        return [record for _, record in self.events]


def read_events(user_id: str, job_id: str, after_seq: int = 0, *, limit: int = 100) -> BuildEvents:
    """The user's job's events numbered above `after_seq`; NotFoundError("Job not found") otherwise."""
    from flowless.store.jobs import TERMINAL, JobRepository

    jobs = JobRepository()
    # The status is read before the events: if the job had ended by then, every event was already written.
    status = jobs.get(user_id=user_id, job_id=job_id).status
    events = jobs.events_after(job_id, after_seq, limit)
    ended = bool(events) and events[-1][1].get("event") in ("end", "error")
    finished = ended or (status in TERMINAL and len(events) < limit)
    return BuildEvents(status=status, events=events, finished=finished,
                       last_seq=events[-1][0] if events else after_seq)


def wait_events(user_id: str, job_id: str, after_seq: int = 0, *, timeout: float = 10.0,
                interval: float = 0.2) -> BuildEvents:
    """event_delivery=polling: like `read_events`, but waits (up to `timeout`) until there is at least one
    event or the job has ended."""
    deadline = time.monotonic() + timeout
    while True:
        found = read_events(user_id, job_id, after_seq)
        if found.events or found.finished or time.monotonic() >= deadline:
            return found
        time.sleep(interval)


def follow_events(user_id: str, job_id: str, after_seq: int = 0, *, timeout: float = 840.0,
                  interval: float = 0.2) -> Iterator[dict[str, Any]]:
    """event_delivery=streaming: every record from `after_seq` on until the job ends (or `timeout` passes,
    which a Lambda's own limit calls for). The job is read at the call, so an unknown one raises before
    any output."""
    first = read_events(user_id, job_id, after_seq)
    deadline = time.monotonic() + timeout

    def records() -> Iterator[dict[str, Any]]:
        found = first
        while True:
            yield from found.records
            if found.finished or time.monotonic() >= deadline:
                return
            if not found.events:
                time.sleep(interval)
            found = read_events(user_id, job_id, found.last_seq)

    return records()


def cancel_build(user_id: str, job_id: str) -> bool:
    """Cancel the user's job: True when it was queued or running, False when it had already ended.

    A queued job is then skipped by the executor; a running one stops within about a second.
    """
    from flowless.store.jobs import JobRepository

    return JobRepository().cancel(user_id=user_id, job_id=job_id)
