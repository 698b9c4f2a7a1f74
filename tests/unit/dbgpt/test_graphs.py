"""Langflow and AWEL graphs: telling them apart, projecting Langflow for DB-GPT, compiling AWEL."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from flowless.components.inputs_outputs import ChatInput, ChatOutput
from flowless.dbgpt.graphs import (
    LANGFLOW_VIEW_MARKER,
    SUPPORTED_OPERATORS,
    compile_awel,
    flow_category,
    graph_format,
    is_langflow_view,
    langflow_view,
)
from flowless.engine.component import Component, Input, Output, Registry
from flowless.engine.context import RunContext
from flowless.engine.graph import parse_graph
from flowless.engine.run import RunRequest, prepare_graph, run_events
from flowless.engine.types import Message, text_of
from flowless.errors import InvalidFlowError
from tests.support import FIXTURES, edge, node

# DB-GPT's OperatorCategory values (dbgpt.core.awel.flow.base): a projected node must use one of them.
OPERATOR_CATEGORIES = ("trigger", "sender", "llm", "conversion", "output_parser", "common", "agent", "rag",
                       "experimental", "database", "type_converter", "example", "code")
SEP = "___$$___"
BODY = "dbgpt.core.awel.trigger.http_trigger.CommonLLMHttpRequestBody"
MODEL_OUTPUT = "dbgpt.core.interface.llm.ModelOutput"
PROMPT_CLS = "dbgpt.core.interface.operators.prompt_operator.CommonChatPromptTemplate"
CHAT_CHAIN = ("ChatInput", "FlowlessConversationModel", "ChatOutput")


def fixture(name: str) -> dict[str, Any]:
    return json.loads(next(FIXTURES.glob(f"langflow/**/{name}.json")).read_text())


# ---- AWEL graphs in DB-GPT's flow_data format, node ids and all --------------------------------------------

def io(name: str, type_cls: str, is_list: bool = False) -> dict[str, Any]:
    return {"label": name, "name": name, "description": name, "is_list": is_list,
            "type_name": type_cls.rsplit(".", 1)[-1], "type_cls": type_cls}


def op(name: str, category: str, operator_type: str, inputs: list[Any], outputs: list[Any], x: float = 0,
       index: int = 0) -> dict[str, Any]:
    node_id = f"operator_{name}{SEP}{category}{SEP}v1_{index}"
    position = {"x": x, "y": 0, "zoom": 0}
    return {"id": node_id, "type": "customNode", "width": 320, "height": 300,
            "position": position, "position_absolute": position,
            "data": {"id": node_id, "flow_type": "operator", "name": name, "label": name,
                     "description": name, "category": category, "operator_type": operator_type,
                     "version": "v1", "inputs": inputs, "outputs": outputs, "parameters": []}}


def prompt(**values: str) -> dict[str, Any]:
    node_id = f"resource_{PROMPT_CLS}_0"
    defaults = {"system_message": "You are a helpful AI Assistant.", "message_placeholder": "chat_history",
                "human_message": "{user_input}"}
    parameters = [{"label": name, "name": name, "type_name": "str", "type_cls": "builtins.str",
                   "category": "common", "optional": True, "default": default, "value": values.get(name)}
                  for name, default in defaults.items()]
    position = {"x": 0, "y": 400, "zoom": 0}
    return {"id": node_id, "type": "customNode", "width": 320, "height": 300,
            "position": position, "position_absolute": position,
            "data": {"id": node_id, "flow_type": "resource", "name": "common_chat_prompt_template",
                     "label": "Common Chat Prompt Template", "description": "", "category": "prompt",
                     "type_name": "CommonChatPromptTemplate", "type_cls": PROMPT_CLS,
                     "parameters": parameters}}


def link(source: dict[str, Any], target: dict[str, Any], target_order: int = 0) -> dict[str, Any]:
    src, dst = source["id"], target["id"]
    return {"id": f"{src}|{dst}", "source": src, "target": dst, "source_order": 0,
            "target_order": target_order,
            "source_handle": f"{src}|outputs|0", "target_handle": f"{dst}|inputs|{target_order}",
            "type": "buttonedge"}


def trigger(index: int = 0) -> dict[str, Any]:
    return op("common_llm_http_trigger", "trigger", "input", [], [io("request_body", BODY)], 0, index)


def llm(name: str = "higher_order_streaming_llm_operator") -> dict[str, Any]:
    llm_node = op(name, "llm", "map", [io("common_llm_request_body", BODY)],
                  [io("streaming_model_output", MODEL_OUTPUT, True)], 400)
    # The first parameter takes the prompt resource: an edge's target_order points at it.
    llm_node["data"]["parameters"] = [
        {"label": "Prompt Template", "name": "prompt_template", "type_name": "ChatPromptTemplate",
         "type_cls": "dbgpt.core.interface.prompt.ChatPromptTemplate", "category": "resource",
         "resource_type": "instance", "optional": True, "default": None, "value": None}]
    return llm_node


def openai_output() -> dict[str, Any]:
    return op("openai_streaming_output_operator", "output_parser", "transform_stream",
              [io("model_output", MODEL_OUTPUT, True)], [io("model_output", "builtins.str", True)], 800)


def awel(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> dict[str, Any]:
    return {"nodes": nodes, "edges": edges, "viewport": {"x": 0, "y": 0, "zoom": 1}}


def simple_chat() -> dict[str, Any]:
    """DB-GPT's bundled simple streaming chat flow: trigger -> streaming LLM -> OpenAI SSE output."""
    nodes = [trigger(), llm(), openai_output()]
    return awel(nodes, [link(nodes[0], nodes[1]), link(nodes[1], nodes[2])])


# ---- a registry that knows the conversation model without its provider -------------------------------------

class EchoConversationModel(Component):
    """Answers "<system message>|<user text>|<model name>" so a test sees what the compiled graph wired in."""

    kind = "FlowlessConversationModel"
    inputs = (Input("input_value", input_types=("Message",)), Input("system_message"), Input("model_name"),
              Input("stream", type="bool", value=False))
    outputs = (Output("text_output", "text_response", ("Message",)),)

    async def text_response(self) -> Message:
        parts = (self.param("system_message", ""), text_of(self.param("input_value")),
                 self.param("model_name", ""))
        return Message(text="|".join(str(part) for part in parts))


REGISTRY = Registry.of([ChatInput, ChatOutput, EchoConversationModel])


def run_compiled(flow_data: dict[str, Any], text: str) -> list[Message]:
    graph = parse_graph(compile_awel(flow_data), REGISTRY, flow_id="flow-awel", flow_name="awel")
    request = RunRequest(input_value=text, session_id="session-awel")
    ctx = RunContext(flow_id="flow-awel", session_id=prepare_graph(graph, request, stream=False))

    async def collect() -> list[Any]:
        return [e async for e in run_events(graph, registry=REGISTRY, ctx=ctx, request=request)]

    events = asyncio.run(collect())
    assert events[-1].kind == "end", events[-1].data
    return [e.data["message"] for e in events if e.kind == "add_message"]


# ---- graph_format ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("data, expected", [
    (None, "empty"), ({}, "empty"), ({"nodes": [], "edges": []}, "empty"), ({"data": {"nodes": []}}, "empty"),
    ("not a graph", "empty"),
    ({"nodes": [node("ChatInput-a")], "edges": []}, "langflow"),
    (simple_chat(), "awel"),
])
def test_graph_format_of_each_kind_of_graph(data, expected):
    assert graph_format(data) == expected


def test_graph_format_reads_a_real_langflow_export_whole_or_its_data():
    export = fixture("Basic Prompting")
    assert graph_format(export) == graph_format(export["data"]) == "langflow"


# ---- langflow_view -----------------------------------------------------------------------------------------

def test_langflow_view_of_an_export_has_one_marked_operator_per_component():
    graph = fixture("Basic Prompting")["data"]
    components = [n for n in graph["nodes"] if n["type"] == "genericNode"]
    view = langflow_view(graph)
    assert [n["id"] for n in view["nodes"]] == [n["id"] for n in components]  # the notes are left out
    for projected, original in zip(view["nodes"], components, strict=True):
        assert isinstance(projected["width"], int) and isinstance(projected["height"], int)
        data = projected["data"]
        assert data["flow_type"] == "operator" and data["category"] in OPERATOR_CATEGORIES
        assert data["name"] == data["type_name"] == original["data"]["type"]
        assert data["type_cls"] == LANGFLOW_VIEW_MARKER + original["data"]["type"]
        assert data["label"] == original["data"]["node"]["display_name"]
        assert (data["inputs"], data["outputs"], data["parameters"]) == ([], [], [])
    assert len(view["edges"]) == len(graph["edges"]) == 3
    ids = {n["id"] for n in view["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids and e["source_order"] == e["target_order"] == 0
               for e in view["edges"])
    assert view["viewport"] == graph["viewport"]


def test_langflow_view_rounds_measured_sizes_and_falls_back_for_missing_ones():
    measured = {**node("ChatInput-a"), "measured": {"width": 319.6, "height": 233.4},
                "position": {"x": 10, "y": 20}, "positionAbsolute": {"x": 11.5, "y": 21.5}}
    bare = node("ChatOutput-b")
    view = langflow_view({"nodes": [measured, bare], "edges": []})
    first, second = view["nodes"]
    assert (first["width"], first["height"]) == (320, 233)
    assert first["position"] == {"x": 10, "y": 20, "zoom": 0} and first["position_absolute"]["x"] == 11.5
    assert (second["width"], second["height"]) == (320, 300)
    assert second["position"] == second["position_absolute"] == {"x": 0, "y": 0, "zoom": 0}
    assert view["viewport"] == {"x": 0, "y": 0, "zoom": 1}


def test_langflow_view_keeps_only_edges_between_projected_nodes():
    graph = {"nodes": [node("ChatInput-a"), node("ChatOutput-b")],
             "edges": [edge("ChatInput-a", "message", "ChatOutput-b", "input_value"),
                       edge("ChatInput-a", "message", "ChatOutput-gone", "input_value")]}
    kept = [(e["source"], e["target"]) for e in langflow_view(graph)["edges"]]
    assert kept == [("ChatInput-a", "ChatOutput-b")]


# ---- is_langflow_view --------------------------------------------------------------------------------------

def test_is_langflow_view_recognises_only_its_own_projection():
    view = langflow_view(fixture("Memory Chatbot"))
    assert is_langflow_view(view)
    assert not is_langflow_view(simple_chat())
    mixed = {**view, "nodes": [*view["nodes"], trigger()]}
    assert not is_langflow_view(mixed)
    assert not is_langflow_view(None) and not is_langflow_view({"nodes": [], "edges": []})


# ---- flow_category -----------------------------------------------------------------------------------------

def test_flow_category_of_langflow_graphs_needs_chat_input_and_output():
    assert flow_category(fixture("Basic Prompting")) == "chat_flow"
    assert flow_category(fixture("Blog Writer")) == "common"  # TextInput -> ... -> ChatOutput


def test_flow_category_of_awel_graphs_follows_dbgpt():
    assert flow_category(simple_chat()) == "chat_flow"
    assert flow_category({"nodes": [], "edges": []}) == "common"

    nodes = [trigger(), llm()]
    assert flow_category(awel(nodes, [link(nodes[0], nodes[1])])) == "chat_flow"  # a ModelOutput leaf

    dict_leaf = op("request_body_to_dict_operator", "common", "map", [io("b", BODY)],
                   [io("d", "builtins.dict")])
    nodes = [trigger(), dict_leaf]
    assert flow_category(awel(nodes, [link(nodes[0], nodes[1])])) == "common"

    nodes = [trigger(), llm(), openai_output()]
    two_leaves = awel(nodes, [link(nodes[0], nodes[1]), link(nodes[0], nodes[2])])
    assert flow_category(two_leaves) == "common"

    no_trigger = awel([llm()], [])
    assert flow_category(no_trigger) == "common"

    agent = op("agent_trigger", "agent", "input", [], [io("x", "dbgpt.agent.AgentContext")])
    agent_leaf = op("agent_operator", "agent", "map", [io("x", "dbgpt.agent.AgentContext")],
                    [io("y", "dbgpt.agent.AgentGenerateContext")], 400)
    assert flow_category(awel([agent, agent_leaf], [link(agent, agent_leaf)])) == "chat_agent"


# ---- compile_awel ------------------------------------------------------------------------------------------

def test_compiled_simple_chat_flow_parses_as_input_model_output():
    compiled = compile_awel(simple_chat())
    graph = parse_graph(compiled, REGISTRY, flow_id="flow-awel", flow_name="awel")
    assert [v.type for v in graph.vertices.values()] == list(CHAT_CHAIN)
    assert [(e.source, e.output, e.target, e.field) for e in graph.edges] == [
        ("ChatInput-awel", "message", "FlowlessConversationModel-awel", "input_value"),
        ("FlowlessConversationModel-awel", "text_output", "ChatOutput-awel", "input_value"),
    ]
    model = graph.vertices["FlowlessConversationModel-awel"]
    assert model.value("system_message") == model.value("model_name") == ""
    assert model.value("stream") is False
    assert model.template["input_value"]["input_types"] == ["Message"]
    assert graph.vertices["ChatInput-awel"].is_input and graph.vertices["ChatOutput-awel"].is_output


def test_compiled_flow_answers_through_the_conversation_model():
    messages = run_compiled(simple_chat(), "hello")
    assert [(m.sender, m.text) for m in messages] == [("User", "hello"), ("Machine", "|hello|")]


@pytest.mark.parametrize("name", ["higher_order_llm_operator", "higher_order_streaming_llm_operator"])
def test_trigger_and_llm_operator_alone_compile(name):
    nodes = [trigger(), llm(name)]
    compiled = compile_awel(awel(nodes, [link(nodes[0], nodes[1])]))
    assert [n["data"]["type"] for n in compiled["nodes"]] == list(CHAT_CHAIN)


def test_prompt_resource_becomes_the_system_message():
    flow = simple_chat()
    resource = prompt(system_message="Answer in French.")
    flow["nodes"].append(resource)
    flow["edges"].append(link(resource, flow["nodes"][1]))
    assert run_compiled(flow, "hi")[-1].text == "Answer in French.|hi|"

    unset = prompt()  # DB-GPT falls back to the parameter's default
    flow["nodes"][-1], flow["edges"][-1] = unset, link(unset, flow["nodes"][1])
    model = compile_awel(flow)["nodes"][1]["data"]["node"]["template"]
    assert model["system_message"]["value"] == "You are a helpful AI Assistant."


def test_prompt_with_its_own_human_message_is_refused():
    flow = simple_chat()
    resource = prompt(human_message="Translate: {user_input}")
    flow["nodes"].append(resource)
    flow["edges"].append(link(resource, flow["nodes"][1]))
    with pytest.raises(InvalidFlowError, match=r"only the human message \{user_input\}"):
        compile_awel(flow)


def test_unsupported_operators_and_resources_are_all_named():
    knowledge = op("knowledge_operator", "rag", "map", [io("q", "builtins.str")], [io("c", "builtins.str")])
    client = {**prompt(), "id": "resource_dbgpt.model.proxy.OpenAILLMClient_0"}
    client["data"] = {**client["data"], "id": client["id"], "name": "openai_llm_client",
                      "category": "llm_client"}
    flow = simple_chat()
    flow["nodes"] += [knowledge, client]
    with pytest.raises(InvalidFlowError) as caught:
        compile_awel(flow)
    message = str(caught.value)
    assert "does not run: knowledge_operator, openai_llm_client (resource)." in message
    assert f"Supported: {', '.join(SUPPORTED_OPERATORS)}" in message


def test_plain_llm_operator_is_unsupported_because_it_needs_a_model_request():
    nodes = [trigger(), llm("llm_operator")]
    with pytest.raises(InvalidFlowError, match="does not run: llm_operator"):
        compile_awel(awel(nodes, [link(nodes[0], nodes[1])]))


def _two_triggers() -> dict[str, Any]:
    nodes = [trigger(0), trigger(1), llm()]
    return awel(nodes, [link(nodes[0], nodes[2]), link(nodes[1], nodes[2])])


def _branching() -> dict[str, Any]:
    nodes = [trigger(), llm(), openai_output()]
    return awel(nodes, [link(nodes[0], nodes[1]), link(nodes[0], nodes[2])])


def _joining() -> dict[str, Any]:
    first, second = llm(), llm("higher_order_llm_operator")
    nodes = [trigger(), first, second, openai_output()]
    return awel(nodes, [link(nodes[0], first), link(first, nodes[3]), link(second, nodes[3])])


def _stray() -> dict[str, Any]:
    nodes = [trigger(), llm(), openai_output()]
    return awel(nodes, [link(nodes[0], nodes[1])])


def _out_of_order() -> dict[str, Any]:
    nodes = [trigger(), openai_output(), llm()]
    return awel(nodes, [link(nodes[0], nodes[1]), link(nodes[1], nodes[2])])


def _missing_end() -> dict[str, Any]:
    flow = simple_chat()
    flow["edges"][1]["target"] = "operator_nowhere_0"
    return flow


def _into_resource() -> dict[str, Any]:
    flow = simple_chat()
    resource = prompt()
    flow["nodes"].append(resource)
    flow["edges"].append(link(flow["nodes"][1], resource))
    return flow


@pytest.mark.parametrize("flow, message", [
    (_two_triggers(), "exactly one common_llm_http_trigger; this one has 2"),
    (awel([llm()], []), "exactly one common_llm_http_trigger; this one has 0"),
    (_branching(), "branches after node operator_common_llm_http_trigger"),
    (_joining(), "operator_openai_streaming_output_operator.* has more than one input"),
    (_stray(), "operator_openai_streaming_output_operator.* is not on the chain"),
    (_out_of_order(), "got common_llm_http_trigger -> openai_streaming_output_operator -> higher_order"),
    (_missing_end(), "there is no node operator_nowhere_0"),
    (_into_resource(), "points into a resource"),
    ({"nodes": [], "edges": []}, "has no nodes"),
    (fixture("Basic Prompting"), "is not an AWEL operator or resource"),
])
def test_malformed_awel_flows_are_refused_with_the_reason(flow, message):
    with pytest.raises(InvalidFlowError, match=message):
        compile_awel(flow)
