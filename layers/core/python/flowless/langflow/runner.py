"""Running a stored flow for Langflow's API: find it, prepare it, run the engine, store its messages.

Every door (buffered /run now; streaming, webhooks and build jobs later) goes through `FlowRun`: it yields
the engine's events, and `response()` collects them into Langflow's RunResponse.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from flowless.engine.events import Event, RunResult
from flowless.engine.run import ComponentBuildError, RunRequest
from flowless.errors import FlowlessError, FlowRunError, NotFoundError, UpstreamError
from flowless.wire.langflow_run import SimplifiedAPIRequest, message_event_data, run_response

__all__ = ["FlowRun", "find_flow", "request_variables", "run_error"]

GLOBAL_VARIABLE_HEADER = "x-langflow-global-var-"


def request_variables(headers: Mapping[str, str]) -> dict[str, str]:
    """Per-request variables from X-LANGFLOW-GLOBAL-VAR-<NAME> headers (the name upper-cased, hyphens kept)."""
    found = {}
    for key, value in headers.items():
        if key.lower().startswith(GLOBAL_VARIABLE_HEADER) and len(key) > len(GLOBAL_VARIABLE_HEADER):
            found[key[len(GLOBAL_VARIABLE_HEADER):].upper()] = value
    return found


def find_flow(user_id: str, flow_id_or_name: str) -> Any:
    """The caller's flow by id (a UUID) or by endpoint name; Langflow's 404 otherwise."""
    from flowless.store.flows import FlowRepository

    repo = FlowRepository()
    try:
        flow_id = str(uuid.UUID(flow_id_or_name))
    except ValueError:
        flow_id = repo.flow_id_for_endpoint(user_id=user_id, endpoint_name=flow_id_or_name) or ""
    found = None
    if flow_id:
        try:
            found = repo.get_for_run(user_id=user_id, flow_id=flow_id)
        except NotFoundError:
            found = None
    if found is None:
        raise NotFoundError(f"Flow identifier {flow_id_or_name} not found")
    return found


def _detail(message: str) -> str:
    """Langflow's run-error detail: a JSON string with the message."""
    return json.dumps({"message": message, "traceback": None, "description": None, "code": None,
                       "suggestion": None})


def run_error(exc: BaseException) -> FlowlessError:
    """A failure inside a run, as the API reports it: the caller's or the flow's mistake is a 4xx, a provider
    that failed is a 502; anything else is a bug and is re-raised by the caller."""
    from flowless.providers.errors import ProviderError

    if isinstance(exc, FlowlessError):
        return exc
    cause = exc.cause if isinstance(exc, ComponentBuildError) else exc
    message = f"Error running graph: {exc}"
    if isinstance(cause, ProviderError):
        return UpstreamError(_detail(message))
    if isinstance(cause, FlowlessError):
        error = type(cause)(_detail(message))
        return error
    if isinstance(cause, (ValueError, KeyError, TypeError, LookupError)):
        return FlowRunError(_detail(message))
    raise exc


def _refuse_awel(flow: Any) -> None:
    """A DB-GPT AWEL graph runs only through DB-GPT's chat door, where the request names its model."""
    from flowless.dbgpt.graphs import graph_format

    if graph_format(flow.data) == "awel":
        from flowless.errors import InvalidFlowError

        raise InvalidFlowError(f"Flow {flow.id} is a DB-GPT AWEL flow: run it with POST /api/v2/chat/completions "
                               f"and chat_mode \"chat_flow\", chat_param \"{flow.id}\"")


class FlowRun:
    """One run of a stored flow for one caller. Bad requests and flows fail in the constructor (a 4xx before
    any output); the run itself happens in `events()`."""

    def __init__(self, *, user_id: str, flow: Any, request: SimplifiedAPIRequest,
                 variables: Mapping[str, str] | None = None, stream: bool = False,
                 registry: Any = None, store_messages: bool = True) -> None:
        from flowless.components.registry import default_registry
        from flowless.engine.graph import parse_graph
        from flowless.engine.run import prepare_graph

        self.user_id = user_id
        self.flow = flow
        self.request = RunRequest(
            input_value=request.input_value, input_type=request.input_type, output_type=request.output_type,
            output_component=request.output_component, tweaks=request.tweaks, session_id=request.session_id,
        )
        self.registry = registry or default_registry()
        # A graph made for one request (DB-GPT's chat_normal, the model API) has no flow to keep messages under.
        self.store_messages = store_messages
        _refuse_awel(flow)
        self.graph = parse_graph(flow.data or {}, self.registry, flow_id=flow.id, flow_name=flow.name)
        self.session_id = prepare_graph(self.graph, self.request, stream=stream)
        self.variables = dict(variables or {})
        self.stream = stream
        self.result: RunResult | None = None
        # Lets a caller widen what the flow's File components may read (the object that started an upload run).
        self.wrap_files: Callable[[Any], Any] | None = None

    def _context(self) -> Any:
        from flowless.engine.context import RunContext
        from flowless.langflow.services import run_services

        services = run_services(user_id=self.user_id, flow_id=self.flow.id, variables=self.variables)
        if self.wrap_files is not None:
            services.files = self.wrap_files(services.files)
        return RunContext(flow_id=self.flow.id, session_id=self.session_id, user_id=self.user_id,
                          flow_name=self.flow.name, stream=self.stream, services=services)

    async def events(self) -> AsyncIterator[Event]:
        """The engine's events; the run's chat messages are stored when it ends, however it ends."""
        from flowless.engine.run import run_events

        ctx = self._context()
        try:
            async for event in run_events(self.graph, registry=self.registry, ctx=ctx, request=self.request):
                if event.kind == "end":
                    self.result = event.data["result"]
                yield event
        finally:
            if ctx.new_messages and self.store_messages:
                from flowless.store.messages import MessageRepository

                MessageRepository().add_many(user_id=self.user_id, flow_id=self.flow.id,
                                             messages=[message_event_data(m) for m in ctx.new_messages])

    def run_response(self, result: RunResult) -> dict[str, Any]:
        """Langflow's RunResponse for a finished run: the outputs the request asked for."""
        from flowless.engine.outputs import select_outputs

        chosen = select_outputs(self.graph, result, output_type=self.request.output_type,
                                output_component=self.request.output_component)
        return run_response(self.session_id, self.request.input_value, chosen)

    async def finish(self) -> RunResult:
        """Run to the end and return the result, or raise the run's error."""
        async for event in self.events():
            if event.kind == "error":
                raise run_error(event.data.get("exception") or RuntimeError(event.data["error"]))
        assert self.result is not None
        return self.result

    async def response(self) -> dict[str, Any]:
        """Run to the end and answer Langflow's RunResponse, or raise the run's error."""
        return self.run_response(await self.finish())
