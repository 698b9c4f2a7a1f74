"""Tell Langflow graphs from DB-GPT AWEL graphs, and translate between them where that is honest.

DB-GPT clients parse a flow's `flow_data` strictly as an AWEL graph, so a Langflow flow is shown to them as a
marked projection (`langflow_view`); an update that echoes it back is recognised (`is_langflow_view`) and must
not replace the real graph. `compile_awel` turns the one AWEL shape we run, DB-GPT's simple chat flow, into a
Langflow graph for the engine and names everything else it refuses. Plain data in and out: no storage, HTTP or
engine classes here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from flowless.errors import InvalidFlowError

__all__ = ["LANGFLOW_VIEW_MARKER", "SUPPORTED_OPERATORS", "SUPPORTED_RESOURCES", "AwelOutline", "awel_outline",
           "compile_awel", "flow_category", "graph_format", "is_langflow_view", "langflow_view"]

GraphFormat = Literal["empty", "awel", "langflow"]
FlowCategory = Literal["chat_flow", "chat_agent", "common"]
Nodes = Mapping[str, Mapping[str, Any]]
Links = list[tuple[str, str]]

# The `type_cls` prefix of every projected node; no DB-GPT class lives under this module path.
LANGFLOW_VIEW_MARKER = "flowless.langflow."

TRIGGER = "common_llm_http_trigger"
# Only the higher-order LLM operators take the trigger's request body as it is; DB-GPT's plain `llm_operator`
# and `streaming_llm_operator` expect a ModelRequest, built by operators we do not run.
LLM_OPERATORS = ("higher_order_llm_operator", "higher_order_streaming_llm_operator")
# These only reshape the model's text for the chat caller, which our chat endpoint does itself.
OUTPUT_OPERATORS = ("openai_streaming_output_operator", "common_streaming_output_operator",
                    "model_output_2_common_response_body_operator")
SUPPORTED_OPERATORS = (TRIGGER, *LLM_OPERATORS, *OUTPUT_OPERATORS)
PROMPT_RESOURCE = "common_chat_prompt_template"
SUPPORTED_RESOURCES = (PROMPT_RESOURCE,)

_CHAIN = f"{TRIGGER} -> one LLM operator -> at most one output operator"
# DB-GPT's own default when a common_chat_prompt_template leaves its system message unset.
_PROMPT_SYSTEM_DEFAULT = "You are a helpful AI Assistant."
# DB-GPT's history merge modes we honour; "token" needs the model's tokenizer.
_HISTORY_MODES = ("none", "window")
# The leaf output classes DB-GPT counts as a chat flow (`is_chat_flow_type`), by short name.
_CHAT_OUTPUT_TYPES = ("str", "CommonLLMHttpResponseBody", "ModelOutput")
_AGENT_TRIGGER = "agent_trigger"
_INPUT_ID, _MODEL_ID, _OUTPUT_ID = "ChatInput-awel", "FlowlessConversationModel-awel", "ChatOutput-awel"


def _graph(data: Any) -> Mapping[str, Any] | None:
    # A bare graph has nodes at the top; a flow or an export carries it under "data".
    if isinstance(data, Mapping) and isinstance(data.get("nodes"), list):
        return data
    inner = data.get("data") if isinstance(data, Mapping) else None
    return inner if isinstance(inner, Mapping) and isinstance(inner.get("nodes"), list) else None


def _nodes(graph: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [node for node in graph["nodes"] if isinstance(node, Mapping)]


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _node_id(node: Mapping[str, Any]) -> str:
    return str(node.get("id") or _mapping(node.get("data")).get("id") or "")


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _xy(raw: Any, default: tuple[float, float]) -> tuple[float, float]:
    x, y = _number(_mapping(raw).get("x")), _number(_mapping(raw).get("y"))
    return (x, y) if x is not None and y is not None else default


def graph_format(data: Any) -> GraphFormat:
    """Which product's graph `data` is (a graph, or a flow carrying one under "data").

    A Langflow projection is reported as "awel", which it is; ask `is_langflow_view` first.
    """
    graph = _graph(data)
    if graph is None or not _nodes(graph):
        return "empty"
    flow_types = {_mapping(node.get("data")).get("flow_type") for node in _nodes(graph)}
    return "awel" if flow_types & {"operator", "resource"} else "langflow"


def _view_node(node: Mapping[str, Any]) -> dict[str, Any]:
    node_id, data = _node_id(node), _mapping(node.get("data"))
    kind, spec, measured = str(data["type"]), _mapping(data.get("node")), _mapping(node.get("measured"))

    def size(name: str, default: int) -> int:
        sizes = [n for n in (_number(measured.get(name)), _number(node.get(name))) if n is not None and n > 0]
        return round(sizes[0]) if sizes else default

    x, y = _xy(node.get("position"), (0.0, 0.0))
    absolute = _xy(node.get("positionAbsolute"), (x, y))
    return {
        "id": node_id, "type": "customNode", "width": size("width", 320), "height": size("height", 300),
        "position": {"x": x, "y": y, "zoom": 0.0},
        "position_absolute": {"x": absolute[0], "y": absolute[1], "zoom": 0.0},
        "data": {
            "id": node_id, "flow_type": "operator", "name": kind,
            "label": str(spec.get("display_name") or kind), "description": str(spec.get("description") or ""),
            "category": "common", "category_label": "Common", "operator_type": "map", "version": "v1",
            "type_name": kind, "type_cls": LANGFLOW_VIEW_MARKER + kind,
            "inputs": [], "outputs": [], "parameters": [], "tags": {"source": "langflow"},
        },
    }


def langflow_view(data: Mapping[str, Any]) -> dict[str, Any]:
    """A DB-GPT `flow_data` showing a Langflow graph's shape: one operator per component, notes left out.

    Example:
        flow_panel["flow_data"] = langflow_view(flow.data)
    """
    graph = _graph(data) or {"nodes": []}
    nodes = [_view_node(n) for n in _nodes(graph) if _node_id(n) and n.get("type") != "noteNode"
             and _mapping(n.get("data")).get("type") not in (None, "", "note")]
    ids = {node["id"] for node in nodes}
    kept = [e for e in graph.get("edges") or [] if isinstance(e, Mapping)
            and e.get("source") in ids and e.get("target") in ids]
    edges = [{"id": str(e.get("id") or f"{e['source']}|{e['target']}"), "source": e["source"],
              "target": e["target"], "source_order": 0, "target_order": 0, "type": "buttonedge"}
             for e in kept]
    x, y = _xy(graph.get("viewport"), (0.0, 0.0))
    zoom = _number(_mapping(graph.get("viewport")).get("zoom")) or 1.0
    return {"nodes": nodes, "edges": edges, "viewport": {"x": x, "y": y, "zoom": zoom}}


def is_langflow_view(flow_data: Any) -> bool:
    """Whether `flow_data` is a projection made by `langflow_view`: every node carries the marker."""
    graph = _graph(flow_data)
    return graph is not None and bool(graph["nodes"]) and all(
        isinstance(node, Mapping)
        and str(_mapping(node.get("data")).get("type_cls") or "").startswith(LANGFLOW_VIEW_MARKER)
        for node in graph["nodes"])


def flow_category(data: Any) -> FlowCategory:
    """DB-GPT's `flow_category` of a graph of either product."""
    kind, graph = graph_format(data), _graph(data)
    if kind == "empty" or graph is None:
        return "common"
    if kind == "langflow":
        types = {_mapping(node.get("data")).get("type") for node in _nodes(graph)}
        return "chat_flow" if {"ChatInput", "ChatOutput"} <= types else "common"
    # DB-GPT's rule read off the metadata: one leaf operator, a chat-shaped first output, the trigger's kind.
    operators = {_node_id(node): _mapping(node.get("data")) for node in _nodes(graph)
                 if _mapping(node.get("data")).get("flow_type") == "operator"}
    edges = [e for e in graph.get("edges") or [] if isinstance(e, Mapping)]
    has_successor = {e.get("source") for e in edges if e.get("target") in operators}
    leaves = [node_id for node_id in operators if node_id not in has_successor]
    triggers = {d.get("name") for d in operators.values() if d.get("category") == "trigger"
                or d.get("name") == _AGENT_TRIGGER}
    outputs = operators[leaves[0]].get("outputs") if len(leaves) == 1 else None
    if not triggers or not isinstance(outputs, list) or not outputs or not isinstance(outputs[0], Mapping):
        return "common"
    if TRIGGER in triggers:
        type_name = str(outputs[0].get("type_cls") or "").rsplit(".", 1)[-1]
        return "chat_flow" if type_name in _CHAT_OUTPUT_TYPES else "common"
    return "chat_agent" if _AGENT_TRIGGER in triggers else "common"


@dataclass(frozen=True)
class AwelOutline:
    """A DB-GPT simple chat flow we run: its operator names from the trigger to the leaf, the trigger's and the
    LLM operator's parameters (name -> value, else default) and the system message of its prompt ("" without
    one)."""

    operators: tuple[str, ...]
    trigger_parameters: Mapping[str, Any]
    system_message: str
    llm_parameters: Mapping[str, Any] = field(default_factory=dict)

    @property
    def leaf(self) -> str:
        return self.operators[-1]


def awel_outline(flow_data: Mapping[str, Any]) -> AwelOutline:
    """Read a DB-GPT simple chat flow; InvalidFlowError names whatever else it meets."""
    graph = _graph(flow_data)
    if graph is None or not _nodes(graph):
        raise InvalidFlowError("The AWEL flow has no nodes")
    nodes = _awel_nodes(graph)
    links = _links(graph, nodes)
    chain = _operator_chain(nodes, links)
    llm_parameters = _parameters(nodes[chain[1]])
    mode = llm_parameters.get("history_merge_mode") or "none"
    if mode not in _HISTORY_MODES:
        raise InvalidFlowError(f"The LLM operator's history_merge_mode {mode!r} is not supported here; use "
                               f"{' or '.join(_HISTORY_MODES)}")
    return AwelOutline(tuple(str(nodes[node_id]["name"]) for node_id in chain), _parameters(nodes[chain[0]]),
                       _system_message(nodes, links, llm=chain[1]), llm_parameters)


def compile_awel(flow_data: Mapping[str, Any]) -> dict[str, Any]:
    """The Langflow graph that runs a DB-GPT simple chat flow; InvalidFlowError names whatever else it meets.

    Example:
        graph = parse_graph(compile_awel(flow.flow_data), registry, flow_id=flow.uid)
    """
    outline = awel_outline(flow_data)
    history = {"history_mode": outline.llm_parameters.get("history_merge_mode") or "none",
               "keep_start_rounds": outline.llm_parameters.get("keep_start_rounds"),
               "keep_end_rounds": outline.llm_parameters.get("keep_end_rounds")}
    return _chat_graph(outline.system_message, history)


def _parameters(data: Mapping[str, Any]) -> dict[str, Any]:
    """A node's parameters by name: the value set in the editor, else the parameter's default."""
    values = {}
    for parameter in data.get("parameters") or []:
        if isinstance(parameter, Mapping) and parameter.get("name"):
            value = parameter.get("value")
            values[str(parameter["name"])] = parameter.get("default") if value is None else value
    return values


def _awel_nodes(graph: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    nodes: dict[str, Mapping[str, Any]] = {}
    unsupported = set()
    for node in graph["nodes"]:
        if not isinstance(node, Mapping):
            raise InvalidFlowError("Every node must be a JSON object")
        node_id, data = _node_id(node), _mapping(node.get("data"))
        name, flow_type = str(data.get("name") or "(unnamed)"), data.get("flow_type")
        if flow_type not in ("operator", "resource"):
            raise InvalidFlowError(f"Node {node_id or '?'} is not an AWEL operator or resource (flow_type)")
        if not node_id:
            raise InvalidFlowError(f"A {name} node has no id")
        if node_id in nodes:
            raise InvalidFlowError(f"Two nodes share the id {node_id}")
        if flow_type == "operator" and name not in SUPPORTED_OPERATORS:
            unsupported.add(name)
        elif flow_type == "resource" and name not in SUPPORTED_RESOURCES:
            unsupported.add(f"{name} (resource)")
        nodes[node_id] = data
    if unsupported:
        raise InvalidFlowError(
            f"This AWEL flow uses operators Flowless does not run: {', '.join(sorted(unsupported))}. "
            f"Supported: {', '.join(SUPPORTED_OPERATORS)}, and the {PROMPT_RESOURCE} resource.")
    return nodes


def _links(graph: Mapping[str, Any], nodes: Nodes) -> Links:
    edges = graph.get("edges")
    if not isinstance(edges, list) or not all(isinstance(edge, Mapping) for edge in edges):
        raise InvalidFlowError("AWEL flow_data.edges must be a list of JSON objects")
    links = []
    for edge in edges:
        source, target = str(edge.get("source") or ""), str(edge.get("target") or "")
        missing = [end or "?" for end in (source, target) if end not in nodes]
        if missing:
            raise InvalidFlowError(f"Edge {source or '?'} -> {target or '?'}: there is no node {missing[0]}")
        if nodes[target]["flow_type"] == "resource":
            raise InvalidFlowError(f"Edge {source} -> {target} points into a resource, which takes no input")
        links.append((source, target))
    return links


def _operator_chain(nodes: Nodes, links: Links) -> list[str]:
    operators = [node_id for node_id, data in nodes.items() if data["flow_type"] == "operator"]
    triggers = [node_id for node_id in operators if nodes[node_id].get("name") == TRIGGER]
    if len(triggers) != 1:
        raise InvalidFlowError(f"An AWEL chat flow needs exactly one {TRIGGER}; this one has {len(triggers)}")
    next_of: dict[str, str] = {}
    for source, target in links:
        if nodes[source]["flow_type"] != "operator":
            continue
        if source in next_of:
            raise InvalidFlowError(f"The flow branches after node {source}; only one chain {_CHAIN} runs")
        if target in next_of.values() or target == triggers[0]:
            raise InvalidFlowError(f"Node {target} has more than one input; only one chain {_CHAIN} runs")
        next_of[source] = target
    # Each node has at most one input and one output and the trigger has none, so this walk cannot loop.
    chain = [triggers[0]]
    while chain[-1] in next_of:
        chain.append(next_of[chain[-1]])
    stray = [node_id for node_id in operators if node_id not in chain]
    if stray:
        raise InvalidFlowError(f"Node {stray[0]} is not on the chain from the trigger ({_CHAIN})")
    names = [str(nodes[node_id].get("name")) for node_id in chain]
    if len(names) not in (2, 3) or names[1] not in LLM_OPERATORS or set(names[2:]) - set(OUTPUT_OPERATORS):
        raise InvalidFlowError(f"Expected {_CHAIN}, got {' -> '.join(names)}")
    return chain


def _system_message(nodes: Nodes, links: Links, *, llm: str) -> str:
    prompts = list(dict.fromkeys(source for source, _ in links if nodes[source]["flow_type"] == "resource"))
    for source, target in links:
        if source in prompts and target != llm:
            raise InvalidFlowError(f"Resource {source} feeds {target}; only the LLM operator takes a prompt")
    if len(prompts) > 1:
        raise InvalidFlowError(f"The LLM operator {llm} is given {len(prompts)} prompts; it takes one")
    if not prompts:
        return ""
    parameters = _parameters(nodes[prompts[0]])
    # The conversation model sends the user's text as it is, so only the default human template is honest.
    if parameters.get("human_message") not in (None, "", "{user_input}"):
        raise InvalidFlowError(f"Prompt {prompts[0]}: only the human message {{user_input}} is supported")
    system = parameters.get("system_message")
    return _PROMPT_SYSTEM_DEFAULT if system is None else str(system)


def _field(value: Any, kind: str = "str", input_types: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": kind, "value": value, "input_types": list(input_types), "show": True}


def _chat_graph(system_message: str, history: Mapping[str, Any]) -> dict[str, Any]:
    """ChatInput -> FlowlessConversationModel -> ChatOutput, as a Langflow export spells nodes and edges."""
    def node(node_id: str, name: str, template: dict[str, Any], output: str, x: float) -> dict[str, Any]:
        outputs = [{"name": output, "types": ["Message"]}]
        spec = {"display_name": name, "template": template, "outputs": outputs}
        return {"id": node_id, "type": "genericNode", "position": {"x": x, "y": 0.0},
                "data": {"id": node_id, "type": node_id.split("-")[0], "node": spec}}

    def edge(source: str, output: str, target: str) -> dict[str, Any]:
        source_handle = {"dataType": source.split("-")[0], "id": source, "name": output,
                         "output_types": ["Message"]}
        target_handle = {"fieldName": "input_value", "id": target, "inputTypes": ["Message"], "type": "str"}
        return {"id": f"{source}|{output}|{target}", "source": source, "target": target,
                "data": {"sourceHandle": source_handle, "targetHandle": target_handle}}

    model = {
        "input_value": _field("", input_types=("Message",)),
        "system_message": _field(system_message),
        "model_name": _field(""),  # empty: the model the chat request names, as DB-GPT's LLM operators do
        "stream": _field(False, "bool"),
        "history_mode": _field(history["history_mode"]),
        "keep_start_rounds": _field(history["keep_start_rounds"], "int"),
        "keep_end_rounds": _field(history["keep_end_rounds"], "int"),
    }
    chat_output = {"input_value": _field("", "other", ("Data", "DataFrame", "Message"))}
    return {
        "nodes": [node(_INPUT_ID, "Chat Input", {"input_value": _field("")}, "message", 0.0),
                  node(_MODEL_ID, "Conversation Model", model, "text_output", 400.0),
                  node(_OUTPUT_ID, "Chat Output", chat_output, "message", 800.0)],
        "edges": [edge(_INPUT_ID, "message", _MODEL_ID), edge(_MODEL_ID, "text_output", _OUTPUT_ID)],
    }
