"""The engine on its own: parsing and validation, planning, tweaks, and the events of a run."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from flowless.components.registry import default_registry
from flowless.engine.context import RunContext, Services
from flowless.engine.graph import UnsupportedComponentError, parse_graph
from flowless.engine.outputs import select_outputs
from flowless.engine.plan import plan_run
from flowless.engine.run import RunRequest, prepare_graph, run_events
from flowless.engine.tweaks import apply_tweaks
from flowless.errors import InvalidFlowError, InvalidInputError
from tests.support import FIXTURES, edge, node

REGISTRY = default_registry()


def fixture(name: str) -> dict[str, Any]:
    return json.loads(next(FIXTURES.glob(f"langflow/**/{name}.json")).read_text())




def run(payload: dict[str, Any], request: RunRequest, *, services: Services | None = None):
    graph = parse_graph(payload, REGISTRY, flow_id="flow-1")
    session = prepare_graph(graph, request, stream=False)
    ctx = RunContext(flow_id="flow-1", session_id=session, services=services or Services())

    async def collect():
        return [e async for e in run_events(graph, registry=REGISTRY, ctx=ctx, request=request)]

    return graph, asyncio.run(collect()), ctx


# ---- parsing and validation ------------------------------------------------------------------------------

def test_fixtures_parse_and_notes_are_ignored():
    graph = parse_graph(fixture("Basic Prompting"), REGISTRY)
    assert sorted(v.type for v in graph.vertices.values()) == [
        "ChatInput", "ChatOutput", "LanguageModelComponent", "Prompt"]
    assert len(graph.edges) == 3


def test_unknown_component_is_named():
    with pytest.raises(UnsupportedComponentError, match=r"Agent .*Agent-"):
        parse_graph(fixture("Simple Agent"), REGISTRY)


@pytest.mark.parametrize("edges, message", [
    ([edge("ChatInput-a", "message", "ChatOutput-missing", "input_value")], "does not exist: ChatOutput-missing"),
    ([edge("ChatInput-a", "nope", "ChatOutput-b", "input_value")], "ChatInput-a has no output 'nope'"),
    ([{"source": "ChatInput-a", "target": "ChatOutput-b", "data": {}}], "has no handles"),
])
def test_bad_edges_are_named(edges, message):
    payload = {"nodes": [node("ChatInput-a"), node("ChatOutput-b")], "edges": edges}
    with pytest.raises(InvalidFlowError, match=message):
        parse_graph(payload, REGISTRY)


def test_cycles_are_refused_naming_a_node():
    payload = {"nodes": [node("CombineText-a"), node("CombineText-b")],
               "edges": [edge("CombineText-a", "combined_text", "CombineText-b", "text1"),
                         edge("CombineText-b", "combined_text", "CombineText-a", "text1")]}
    with pytest.raises(InvalidFlowError, match="cycle through node CombineText-"):
        parse_graph(payload, REGISTRY)


# ---- planning ----------------------------------------------------------------------------------------------

def test_layers_of_memory_chatbot_match_langflow():
    graph = parse_graph(fixture("MemoryChatbotNoLLM"), REGISTRY)
    layers = [[graph.vertices[v].type for v in layer] for layer in plan_run(graph).layers]
    assert [sorted(layer) for layer in layers] == [
        ["ChatInput", "Memory"], ["TypeConverterComponent"], ["Prompt"], ["ChatOutput"]]


def test_vertices_not_connected_to_the_chat_input_are_pruned():
    payload = {"nodes": [node("ChatInput-a"), node("ChatOutput-b"), node("TextInput-c"), node("TextOutput-d")],
               "edges": [edge("ChatInput-a", "message", "ChatOutput-b", "input_value"),
                         edge("TextInput-c", "text", "TextOutput-d", "input_value")]}
    graph = parse_graph(payload, REGISTRY)
    assert plan_run(graph).to_run == ["ChatInput-a", "ChatOutput-b"]


# ---- tweaks and inputs ---------------------------------------------------------------------------------------

def test_tweaks_by_id_by_display_name_and_global_and_never_code():
    payload = {"nodes": [node("TextInput-a", {"input_value": "1"}, display_name="Same"),
                         node("TextInput-b", {"input_value": "2"}, display_name="Same"),
                         node("CombineText-c", {"delimiter": " "})], "edges": []}
    graph = parse_graph(payload, REGISTRY)
    apply_tweaks(graph, {"TextInput-a": {"input_value": "by id", "code": "import os"},
                         "Same": {"input_value": "by name"}, "delimiter": "-"})
    assert graph.vertices["TextInput-a"].value("input_value") == "by id"
    assert graph.vertices["TextInput-b"].value("input_value") == "by name"  # the last with that name wins
    assert graph.vertices["CombineText-c"].value("delimiter") == "-"
    assert graph.vertices["TextInput-a"].value("code") == "raise SystemExit"


def test_file_tweak_sets_file_path():
    payload = {"nodes": [node("ChatInput-a")], "edges": []}
    payload["nodes"][0]["data"]["node"]["template"]["files"] = {"type": "file", "value": [], "file_path": ""}
    graph = parse_graph(payload, REGISTRY)
    apply_tweaks(graph, {"ChatInput-a": {"files": "flow/picture.png"}})
    assert graph.vertices["ChatInput-a"].value("files") == "flow/picture.png"


def test_session_id_overrides_template_and_tweak_values():
    payload = {"nodes": [node("ChatInput-a", {"session_id": "from-template"}), node("ChatOutput-b")],
               "edges": [edge("ChatInput-a", "message", "ChatOutput-b", "input_value")]}
    request = RunRequest(input_value="x", tweaks={"ChatInput-a": {"session_id": "from-tweak"}})
    _graph, events, _ = run(payload, request)
    sent = [e.data["message"].session_id for e in events if e.kind == "add_message"]
    assert sent == ["flow-1", "flow-1"]


def test_tweak_conflict_is_refused_for_text_input_too():
    payload = fixture("SimpleAPITest")
    graph = parse_graph(payload, REGISTRY)
    with pytest.raises(InvalidInputError, match="to the text input"):
        prepare_graph(graph, RunRequest(input_value="x", input_type="text",
                                        tweaks={"TextInput-eFiZp": {"input_value": "y"}}), stream=False)


# ---- running ---------------------------------------------------------------------------------------------------

def test_events_of_simple_api_test():
    graph, events, ctx = run(fixture("SimpleAPITest"), RunRequest(input_value="value1", session_id="chat-123"))
    kinds = [e.kind for e in events]
    assert kinds[0] == "vertices_sorted" and kinds[-1] == "end"
    messages = [e.data["message"] for e in events if e.kind == "add_message"]
    assert [(m.sender, m.text) for m in messages] == [("User", "value1"), ("Machine", "value1")]
    assert [m.sender_name for m in ctx.new_messages] == ["User", "AI"]
    result = events[-1].data["result"]
    chosen = select_outputs(graph, result)
    assert [v.id for v in chosen] == ["ChatOutput-J6aor"]


def test_if_else_runs_only_the_branch_taken():
    payload = {"nodes": [node("ChatInput-a"),
                         node("ConditionalRouter-r", {"operator": "contains", "match_text": "yes"}),
                         node("ChatOutput-yes", kind="ChatOutput"), node("ChatOutput-no", kind="ChatOutput")],
               "edges": [edge("ChatInput-a", "message", "ConditionalRouter-r", "input_text"),
                         edge("ConditionalRouter-r", "true_result", "ChatOutput-yes", "input_value"),
                         edge("ConditionalRouter-r", "false_result", "ChatOutput-no", "input_value")]}
    _graph, events, _ = run(payload, RunRequest(input_value="oh yes"))
    built = [v.id for v in events[-1].data["result"].vertices]
    assert "ChatOutput-yes" in built and "ChatOutput-no" not in built


def test_component_failure_is_an_error_event_naming_the_component():
    payload = {"nodes": [node("ChatInput-a"), node("Prompt-p", {"template": "{a"}, kind="Prompt"),
                         node("ChatOutput-b")],
               "edges": [edge("ChatInput-a", "message", "Prompt-p", "template"),
                         edge("Prompt-p", "prompt", "ChatOutput-b", "input_value")]}
    _, events, _ = run(payload, RunRequest(input_value="{broken"))
    assert events[-1].kind == "error"
    assert "Prompt" in events[-1].data["error"]


def two_models(second: str) -> dict[str, Any]:
    """Text Input -> two Language Models ("one" and `second`) side by side -> Combine Text -> Text Output."""
    fields = {"provider": "OpenAI", "api_key": "sk-x", "stream": False}
    return {"nodes": [node("TextInput-t", {"input_value": "q"}),
                      node("LanguageModelComponent-1", {**fields, "model_name": "one"}),
                      node("LanguageModelComponent-2", {**fields, "model_name": second}),
                      node("CombineText-c"), node("TextOutput-o")],
            "edges": [edge("TextInput-t", "text", "LanguageModelComponent-1", "input_value"),
                      edge("TextInput-t", "text", "LanguageModelComponent-2", "input_value"),
                      edge("LanguageModelComponent-1", "text_output", "CombineText-c", "text1"),
                      edge("LanguageModelComponent-2", "text_output", "CombineText-c", "text2"),
                      edge("CombineText-c", "combined_text", "TextOutput-o", "input_value")]}


def test_the_result_sums_the_usage_every_model_reported():
    class Model:
        def __init__(self, name: str, on_usage: Any) -> None:
            self.name, self.on_usage = name, on_usage

        async def complete(self, messages, **options):
            self.on_usage(10, len(self.name))
            return self.name

    def models(kind: str, **settings: Any) -> Model:
        return Model(settings["model"], settings["on_usage"])

    _, events, _ = run(two_models("three"), RunRequest(input_value="q", input_type="text"),
                       services=Services(models=models))
    usage = events[-1].data["result"].usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (20, 8, 28)


def test_vertices_of_a_layer_run_concurrently():
    """Two model calls in one layer overlap: each waits for the other to have started."""
    started: list[str] = []
    both = asyncio.Event()

    class Model:
        def __init__(self, name: str) -> None:
            self.name = name

        async def complete(self, messages, **options):
            started.append(self.name)
            if len(started) == 2:
                both.set()
            await asyncio.wait_for(both.wait(), timeout=2)
            return self.name

    def models(kind: str, **settings: Any) -> Model:
        return Model(settings["model"])

    _, events, _ = run(two_models("two"), RunRequest(input_value="q", input_type="text"),
                       services=Services(models=models))
    assert events[-1].kind == "end", events[-1].data
    output = next(v for v in events[-1].data["result"].vertices if v.id == "TextOutput-o")
    assert output.results["text"].text == "one two"
