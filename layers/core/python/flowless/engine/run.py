"""Run a prepared graph: layers in order, the vertices of a layer concurrently, events as they happen.

`run_events` is the one execution path. Every door (buffered run, stream, build jobs, webhooks, DB-GPT
chat) consumes the same events and adapts them.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from flowless.engine.component import Registry
from flowless.engine.context import RunContext
from flowless.engine.events import Event, RunResult, VertexResult
from flowless.engine.graph import Graph, Vertex
from flowless.engine.plan import plan_run
from flowless.engine.tweaks import apply_tweaks, check_tweak_conflict, inject_inputs, inject_session
from flowless.engine.types import Stop
from flowless.errors import InvalidFlowError

__all__ = ["ComponentBuildError", "RunRequest", "prepare_graph", "run_events"]


class ComponentBuildError(Exception):
    """A component failed while building; the message names it as Langflow does."""

    def __init__(self, vertex: Vertex, cause: BaseException) -> None:
        super().__init__(f"Error building Component {vertex.display_name}: {cause}")
        self.vertex = vertex
        self.cause = cause


@dataclass
class RunRequest:
    """Langflow's SimplifiedAPIRequest, as the engine needs it."""

    input_value: str | None = None
    input_type: str = "chat"
    output_type: str = "chat"
    output_component: str = ""
    tweaks: Mapping[str, Any] | None = None
    session_id: str | None = None


def prepare_graph(graph: Graph, request: RunRequest, *, stream: bool) -> str:
    """Apply the request to a freshly parsed graph; returns the run's session id."""
    check_tweak_conflict(request.tweaks, input_value=request.input_value, input_type=request.input_type)
    tweaks = dict(request.tweaks or {})
    tweaks.setdefault("stream", stream)  # Langflow's global tweak: models stream only on streamed runs
    apply_tweaks(graph, tweaks)
    inject_inputs(graph, input_value=request.input_value, input_type=request.input_type)
    session_id = request.session_id or graph.flow_id
    inject_session(graph, session_id)
    return session_id


def _params(vertex: Vertex, ctx: RunContext) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, spec in vertex.template.items():
        value = vertex.value(name)
        if spec.get("load_from_db") and isinstance(value, str) and value:
            # The field holds a variable's name (e.g. "OPENAI_API_KEY"), resolved per request.
            value = ctx.services.variables(value)
        params[name] = value
    return params


class _Runner:
    def __init__(self, graph: Graph, registry: Registry, ctx: RunContext) -> None:
        self.graph = graph
        self.registry = registry
        self.ctx = ctx
        self.values: dict[str, dict[str, Any]] = {}   # vertex id -> output name -> value
        self.built: dict[str, VertexResult] = {}
        self.inactive: set[str] = set()

    def _needed_outputs(self, vertex: Vertex, planned: set[str]) -> list[str]:
        wanted = {e.output for e in self.graph.outgoing(vertex.id) if e.target in planned}
        default = vertex.selected_output if vertex.selected_output in vertex.outputs else (
            vertex.outputs[0] if vertex.outputs else None)
        if default:
            wanted.add(default)
        return [o for o in vertex.outputs if o in wanted] + sorted(wanted - set(vertex.outputs))

    async def build(self, vertex_id: str, planned: set[str]) -> None:
        vertex = self.graph.vertices[vertex_id]
        params = _params(vertex, self.ctx)
        incoming = self.graph.incoming(vertex_id)
        fan_in: dict[str, int] = {}
        for edge in incoming:
            fan_in[edge.field] = fan_in.get(edge.field, 0) + 1
        edge_values: dict[str, list[Any]] = {}
        for edge in incoming:
            if edge.source in self.inactive:
                self.inactive.add(vertex_id)
                return
            value = self.values.get(edge.source, {}).get(edge.output)
            if isinstance(value, Stop):
                self.inactive.add(vertex_id)
                return
            edge_values.setdefault(edge.field, []).append(value)
        for name, values in edge_values.items():
            spec = vertex.template.get(name) or {}
            params[name] = values if (fan_in[name] > 1 or spec.get("list")) else values[0]
        component_cls = self.registry.get(vertex.type)
        component = component_cls(vertex=vertex, params=params, ctx=self.ctx)
        started = time.perf_counter()
        results: dict[str, Any] = {}
        try:
            for output in self._needed_outputs(vertex, planned):
                method = component_cls.output_method(output)
                if method is None:
                    raise MissingOutputError(
                        f"Component {vertex.display_name} ({vertex.id}) has no output {output!r}")
                value = getattr(component, method)()
                if inspect.isawaitable(value):
                    value = await value
                results[output] = value
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # Every failure names its component, whatever raised it.
            raise ComponentBuildError(vertex, exc) from exc
        self.values[vertex_id] = results
        stopped = [e.target for e in self.graph.outgoing(vertex_id) if isinstance(results.get(e.output), Stop)]
        result = VertexResult(
            id=vertex.id, type=vertex.type, display_name=vertex.display_name, is_input=vertex.is_input,
            is_output=vertex.is_output, results={k: v for k, v in results.items() if not isinstance(v, Stop)},
            messages=list(component.sent_messages), timedelta=time.perf_counter() - started,
            next_vertices_ids=[e.target for e in self.graph.outgoing(vertex_id) if e.target not in stopped],
            inactivated_vertices=stopped,
        )
        self.built[vertex_id] = result
        await self.ctx.send(Event("end_vertex", {"vertex": result}))


class MissingOutputError(InvalidFlowError):
    """A flow asks a component for an output it does not have."""


async def run_events(graph: Graph, *, registry: Registry, ctx: RunContext, request: RunRequest) -> AsyncIterator[Event]:
    """Run a prepared graph and yield its events; the last is `end` or `error`.

    Closing the generator early (a client went away) cancels the vertices still running.
    """
    queue: asyncio.Queue[Event | None] = asyncio.Queue()

    async def emit(event: Event) -> None:
        await queue.put(event)

    ctx.emit = emit
    ctx.graph = graph
    runner = _Runner(graph, registry, ctx)
    plan = plan_run(graph)
    planned = set(plan.to_run)

    async def drive() -> None:
        try:
            await emit(Event("vertices_sorted", {"ids": list(plan.layers[0]) if plan.layers else [],
                                                 "to_run": plan.to_run}))
            for layer in plan.layers:
                async with asyncio.TaskGroup() as group:
                    for vertex_id in layer:
                        group.create_task(runner.build(vertex_id, planned))
            ordered = [runner.built[v] for v in graph.order if v in runner.built]
            await emit(Event("end", {"result": RunResult(ctx.session_id, request.input_value, ordered,
                                                               ctx.usage)}))
        except BaseExceptionGroup as group_error:
            first = group_error.exceptions[0]
            while isinstance(first, BaseExceptionGroup):
                first = first.exceptions[0]
            await _report(first)
        except Exception as exc:  # reported as the run's error event
            await _report(exc)
        finally:
            await queue.put(None)

    async def _report(exc: BaseException) -> None:
        if isinstance(exc, asyncio.CancelledError):
            raise exc
        vertex_id = exc.vertex.id if isinstance(exc, ComponentBuildError) else None
        await emit(Event("error", {"error": str(exc), "vertex_id": vertex_id, "exception": exc}))

    task = asyncio.create_task(drive())
    try:
        while True:
            event = await queue.get()
            if event is None:
                break
            yield event
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
