"""The core components (prompt, processing, logic, memory, calculator, webhook, chat output), run through
the engine or built on their own with a vertex, parameters and a run context."""

from __future__ import annotations

import ast
import asyncio
import builtins
import json
from typing import Any

import pytest

from flowless.components.inputs_outputs import ChatOutput, Webhook
from flowless.components.logic import OPERATORS, ConditionalRouter
from flowless.components.memory import Memory
from flowless.components.processing import (
    CombineText,
    ParseData,
    ParserComponent,
    SplitText,
    TypeConverterComponent,
)
from flowless.components.prompts import Prompt
from flowless.components.registry import default_registry
from flowless.components.tools import CalculatorComponent
from flowless.engine.component import Component
from flowless.engine.context import RunContext, Services
from flowless.engine.graph import Vertex, parse_graph
from flowless.engine.run import ComponentBuildError, RunRequest, prepare_graph, run_events
from flowless.engine.types import Data, DataFrame, Message, Stop
from flowless.errors import InvalidFlowError
from tests.support import edge, node

REGISTRY = default_registry()


# ---- helpers ------------------------------------------------------------------------------------------




def run(nodes: list[dict[str, Any]], edges: list[dict[str, Any]], request: RunRequest, *,
        services: Services | None = None) -> tuple[dict[str, dict[str, Any]], RunContext]:
    """Run a graph; each built vertex's outputs by vertex id (the run's error is raised), and the context."""
    graph = parse_graph({"nodes": nodes, "edges": edges}, REGISTRY, flow_id="flow-1")
    session = prepare_graph(graph, request, stream=False)
    ctx = RunContext(flow_id="flow-1", session_id=session, services=services or Services())

    async def collect() -> list[Any]:
        return [e async for e in run_events(graph, registry=REGISTRY, ctx=ctx, request=request)]

    last = asyncio.run(collect())[-1]
    if last.kind == "error":
        raise last.data["exception"]
    return {v.id: v.results for v in last.data["result"].vertices}, ctx


def component(cls: type[Component], services: Services | None = None, **params: Any) -> Any:
    vertex = Vertex(id=f"{cls.kind}-x", type=cls.kind, display_name=cls.display_name, template={},
                    outputs=[o.name for o in cls.outputs])
    ctx = RunContext(flow_id="flow-1", session_id="session-1", services=services or Services())
    return cls(vertex=vertex, params=params, ctx=ctx)


def call(built: Component, output: str) -> Any:
    value = getattr(built, built.output_method(output))()
    return asyncio.run(value) if asyncio.iscoroutine(value) else value


def header_cells(table: str) -> list[str]:
    return [cell.strip() for cell in table.splitlines()[0].strip().strip("|").split("|")]


# ---- Prompt -------------------------------------------------------------------------------------------


def test_prompt_fills_variables_from_message_data_and_str_and_keeps_literal_braces():
    prompt = component(Prompt, template="Q: {question} | D: {doc} | S: {plain} | U: {unset} | {{literal}}",
                       question=Message(text="why?"), doc=Data(data={"text": "the doc", "page": 2}),
                       plain="raw text")
    assert call(prompt, "prompt").text == "Q: why? | D: the doc | S: raw text | U:  | {literal}"


def test_prompt_through_the_engine_takes_edges_and_field_values():
    nodes = [node("ChatInput-a"), node("Prompt-p", {"template": "Hello {name}, you said: {said}{missing}",
                                                    "name": "Ada"}),
             node("ChatOutput-b")]
    edges = [edge("ChatInput-a", "message", "Prompt-p", "said"),
             edge("Prompt-p", "prompt", "ChatOutput-b", "input_value")]
    results, _ = run(nodes, edges, RunRequest(input_value="hi there"))
    assert results["Prompt-p"]["prompt"].text == "Hello Ada, you said: hi there"
    assert results["ChatOutput-b"]["message"].text == "Hello Ada, you said: hi there"


# ---- Parser and Data to Message -----------------------------------------------------------------------


def test_parser_formats_each_dataframe_row_and_joins_with_sep():
    frame = DataFrame(rows=[{"name": "Ada", "age": 36}, {"name": "Bob", "age": None}])
    parser = component(ParserComponent, input_data=frame, pattern="{name} is {age}", sep=" | ")
    assert call(parser, "parsed_text").text == "Ada is 36 | Bob is "


def test_parser_formats_a_data_once_with_the_default_pattern():
    parser = component(ParserComponent, input_data=Data(data={"text": "hello", "other": 1}))
    assert call(parser, "parsed_text").text == "Text: hello"


def test_parser_default_separator_is_a_newline():
    frame = DataFrame(rows=[{"text": "a"}, {"text": "b"}])
    assert call(component(ParserComponent, input_data=frame), "parsed_text").text == "Text: a\nText: b"


def test_parser_missing_key_names_it_and_the_available_keys():
    parser = component(ParserComponent, input_data=Data(data={"text": "x", "title": "t"}), pattern="{missing}")
    with pytest.raises(InvalidFlowError, match=r"'missing'.*\['text', 'title'\]"):
        call(parser, "parsed_text")


def test_parser_missing_key_through_the_engine_names_the_component():
    nodes = [node("ChatInput-a"), node("TypeConverterComponent-t"),
             node("ParserComponent-p", {"pattern": "{nope}"}, display_name="My Parser"), node("ChatOutput-b")]
    edges = [edge("ChatInput-a", "message", "TypeConverterComponent-t", "input_data"),
             edge("TypeConverterComponent-t", "data_output", "ParserComponent-p", "input_data"),
             edge("ParserComponent-p", "parsed_text", "ChatOutput-b", "input_value")]
    with pytest.raises(ComponentBuildError, match=r"Error building Component My Parser: .*'nope'"):
        run(nodes, edges, RunRequest(input_value="x"))


def test_parser_stringify_mode():
    data = Data(data={"a": 1, "b": "two"})
    text = call(component(ParserComponent, input_data=data, mode="Stringify", pattern="{zzz}"), "parsed_text").text
    assert json.loads(text) == {"a": 1, "b": "two"}  # the pattern is not used
    frame = DataFrame(rows=[{"name": "Ada", "age": 36}])
    table = call(component(ParserComponent, input_data=frame, mode="Stringify"), "parsed_text").text
    assert "name" in header_cells(table) and "age" in header_cells(table)
    assert "Ada" in table.splitlines()[-1] and "36" in table.splitlines()[-1]


def test_parser_refuses_a_list_of_data():
    parser = component(ParserComponent, input_data=[Data(data={"text": "a"}), Data(data={"text": "b"})])
    with pytest.raises(InvalidFlowError, match="list of Data"):
        call(parser, "parsed_text")


def test_parse_data_formats_each_data_and_joins_with_sep():
    items = [Data(data={"text": "a", "n": 1}), Data(data={"text": "b", "n": 2})]
    parse = component(ParseData, data=items, template="{text}={n}", sep=", ")
    assert call(parse, "text").text == "a=1, b=2"
    assert call(component(ParseData, data=items), "text").text == "a\nb"  # defaults: "{text}" and "\n"
    assert call(component(ParseData, data=items[0], template="{n}"), "text").text == "1"  # a single Data


def test_parse_data_list_output_keeps_the_data_with_the_formatted_text():
    items = [Data(data={"text": "a", "n": 1}), Data(data={"text": "b", "n": 2})]
    listed = call(component(ParseData, data=items, template="{n}:{text}"), "data_list")
    assert [d.data for d in listed] == [{"text": "1:a", "n": 1}, {"text": "2:b", "n": 2}]
    assert [d.data for d in items] == [{"text": "a", "n": 1}, {"text": "b", "n": 2}]  # inputs untouched


def test_parse_data_missing_key_is_clear():
    with pytest.raises(InvalidFlowError, match="'title'"):
        call(component(ParseData, data=[Data(data={"text": "a"})], template="{title}"), "text")


# ---- Type Convert -------------------------------------------------------------------------------------


def test_type_convert_message_to_data_and_dataframe_carry_the_text():
    message = Message(text="hello", sender="User", sender_name="Ann")
    data = call(component(TypeConverterComponent, input_data=message), "data_output")
    assert isinstance(data, Data) and data.get_text() == "hello"
    frame = call(component(TypeConverterComponent, input_data=message), "dataframe_output")
    assert isinstance(frame, DataFrame) and [row["text"] for row in frame.rows] == ["hello"]


@pytest.mark.parametrize("output", ["data_output", "dataframe_output"])
def test_type_convert_message_keeps_only_its_text(output):
    value = call(component(TypeConverterComponent, input_data=Message(text="hello", sender="User")), output)
    rows = [value.data] if isinstance(value, Data) else value.rows
    assert rows == [{"text": "hello"}]


def test_type_convert_data_to_message():
    data = Data(data={"text": "the text", "extra": 1})
    assert call(component(TypeConverterComponent, input_data=data), "message_output").text == "the text"


def test_type_convert_dataframe_to_message_is_a_markdown_table():
    frame = DataFrame(rows=[{"name": "Ada", "city": "London"}, {"name": "Bob", "city": "Paris"}])
    text = call(component(TypeConverterComponent, input_data=frame), "message_output").text
    lines = text.splitlines()
    assert len(lines) == 4  # header, rule, two rows
    assert {"name", "city"} <= set(header_cells(text))
    assert set(lines[1].replace("|", "").replace(":", "").strip()) == {"-"}
    assert "Ada" in lines[2] and "London" in lines[2] and "Bob" in lines[3] and "Paris" in lines[3]


@pytest.mark.parametrize("make", [
    lambda frame: call(component(TypeConverterComponent, input_data=frame), "message_output").text,
    lambda frame: call(component(ChatOutput, input_value=frame), "message").text,
], ids=["type_convert", "chat_output"])
def test_markdown_tables_have_no_index_column(make):
    text = make(DataFrame(rows=[{"name": "Ada"}, {"name": "Bob"}]))
    assert header_cells(text) == ["name"]


def test_type_convert_through_the_engine_uses_the_output_on_the_edge():
    nodes = [node("ChatInput-a"), node("TypeConverterComponent-t", {"output_type": "Data"}),
             node("ParserComponent-p", {"pattern": "got {text}"}), node("ChatOutput-b")]
    edges = [edge("ChatInput-a", "message", "TypeConverterComponent-t", "input_data"),
             edge("TypeConverterComponent-t", "data_output", "ParserComponent-p", "input_data"),
             edge("ParserComponent-p", "parsed_text", "ChatOutput-b", "input_value")]
    results, _ = run(nodes, edges, RunRequest(input_value="ping"))
    assert results["ChatOutput-b"]["message"].text == "got ping"


# ---- Combine Text and Split Text ----------------------------------------------------------------------


def test_combine_text_joins_with_the_delimiter():
    assert call(component(CombineText, text1="a", text2=Message(text="b")), "combined_text").text == "a b"
    assert call(component(CombineText, text1="a", text2="b", delimiter=" - "), "combined_text").text == "a - b"
    assert call(component(CombineText, text1="a", text2="b", delimiter=""), "combined_text").text == "ab"


def test_combine_text_through_the_engine():
    nodes = [node("ChatInput-a"), node("CombineText-c", {"text2": "world", "delimiter": ", "}),
             node("ChatOutput-b")]
    edges = [edge("ChatInput-a", "message", "CombineText-c", "text1"),
             edge("CombineText-c", "combined_text", "ChatOutput-b", "input_value")]
    results, _ = run(nodes, edges, RunRequest(input_value="hello"))
    assert results["ChatOutput-b"]["message"].text == "hello, world"


def _chunks(value: Any, **params: Any) -> list[str]:
    frame = call(component(SplitText, data_inputs=value, **params), "dataframe")
    assert isinstance(frame, DataFrame)
    return [row["text"] for row in frame.rows]


def test_split_text_merges_pieces_up_to_chunk_size_with_overlap():
    text = "aaaa bbbb cccc dddd"
    assert _chunks(text, separator=" ", chunk_size=9, chunk_overlap=4) == ["aaaa bbbb", "bbbb cccc", "cccc dddd"]
    assert _chunks(text, separator=" ", chunk_size=10, chunk_overlap=0) == ["aaaa bbbb", "cccc dddd"]
    assert _chunks(text, separator=" ", chunk_size=14, chunk_overlap=9) == ["aaaa bbbb cccc", "bbbb cccc dddd"]


def test_split_text_keeps_a_piece_longer_than_chunk_size_whole():
    assert _chunks("short muchlongerpiece x", separator=" ", chunk_size=5, chunk_overlap=0) == [
        "short", "muchlongerpiece", "x"]


def test_split_text_defaults_split_on_newlines_into_one_chunk():
    assert _chunks("line one\nline two\n\nline three") == ["line one\nline two\nline three"]


@pytest.mark.parametrize("separator", ["/n", "\\n", "\n"])
def test_split_text_separator_fix_ups(separator):
    assert _chunks("one\ntwo\nthree", separator=separator, chunk_size=3, chunk_overlap=0) == ["one", "two", "three"]


def test_split_text_rows_carry_text_and_metadata():
    frame = call(component(SplitText, data_inputs=Data(data={"text": "x y", "source": "f.txt"}),
                           separator=" ", chunk_size=1, chunk_overlap=0), "dataframe")
    assert frame.rows == [{"text": "x", "source": "f.txt"}, {"text": "y", "source": "f.txt"}]
    table = DataFrame(rows=[{"text": "a b", "id": 1}, {"text": "c", "id": 2}])
    frame = call(component(SplitText, data_inputs=table, separator=" ", chunk_size=1, chunk_overlap=0), "dataframe")
    assert frame.rows == [{"text": "a", "id": 1}, {"text": "b", "id": 1}, {"text": "c", "id": 2}]
    assert _chunks(Message(text="m n"), separator=" ", chunk_size=1, chunk_overlap=0) == ["m", "n"]


# ---- If-Else ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, operator, match, expected", [
    ("hello", "equals", "hello", True), ("hello", "equals", "hell", False),
    ("hello", "not equals", "hell", True), ("hello", "not equals", "hello", False),
    ("oh yes please", "contains", "yes", True), ("oh no", "contains", "yes", False),
    ("hello world", "starts with", "hello", True), ("hello world", "starts with", "world", False),
    ("hello world", "ends with", "world", True), ("hello world", "ends with", "hello", False),
    ("order 1234", "regex", r"\d{4}", True), ("order 12", "regex", r"\d{4}", False),
    ("3", "less than", "10", True), ("10", "less than", "10", False),
    ("10", "less than or equal", "10", True), ("10.5", "less than or equal", "10", False),
    ("2.5", "greater than", "2", True), ("2", "greater than", "2", False),
    ("2", "greater than or equal", "2", True), ("1.9", "greater than or equal", "2", False),
])
def test_if_else_operators(text, operator, match, expected):
    router = component(ConditionalRouter, input_text=Message(text=text), operator=operator, match_text=match)
    taken, other = ("true_result", "false_result") if expected else ("false_result", "true_result")
    assert call(router, taken).text == text
    assert isinstance(call(router, other), Stop)


def test_if_else_every_operator_is_covered():
    assert set(OPERATORS) == {"equals", "not equals", "contains", "starts with", "ends with", "regex", "less than",
                              "less than or equal", "greater than", "greater than or equal"}


@pytest.mark.parametrize("text, operator, match", [
    ("Hello", "equals", "hello"), ("HELLO", "contains", "ell"), ("Hello", "starts with", "h"),
    ("hello", "ends with", "LO")])
def test_if_else_is_case_sensitive_by_default(text, operator, match):
    assert isinstance(call(component(ConditionalRouter, input_text=text, operator=operator, match_text=match),
                           "true_result"), Stop)
    insensitive = component(ConditionalRouter, input_text=text, operator=operator, match_text=match,
                            case_sensitive=False)
    assert call(insensitive, "true_result").text == text


def test_if_else_not_equals_respects_case():
    assert call(component(ConditionalRouter, input_text="Yes", operator="not equals", match_text="yes"),
                "true_result").text == "Yes"
    assert isinstance(call(component(ConditionalRouter, input_text="Yes", operator="not equals", match_text="yes",
                                     case_sensitive=False), "true_result"), Stop)


def test_if_else_case_sensitive_default_on_plain_equals():
    assert isinstance(call(component(ConditionalRouter, input_text="Yes", match_text="yes"), "true_result"), Stop)
    assert call(component(ConditionalRouter, input_text="Yes", match_text="yes", case_sensitive="false"),
                "true_result").text == "Yes"


@pytest.mark.parametrize("text, operator, match", [
    ("anything", "regex", "("), ("abc", "less than", "10"), ("5", "greater than", "ten"),
    ("", "less than or equal", "1"), ("nan?", "greater than or equal", "0")])
def test_if_else_invalid_regex_or_number_is_false(text, operator, match):
    router = component(ConditionalRouter, input_text=text, operator=operator, match_text=match)
    assert isinstance(call(router, "true_result"), Stop)
    assert call(router, "false_result").text == text


def _if_else_graph(**router: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    nodes = [node("ChatInput-a"), node("ConditionalRouter-r", {"operator": "contains", "match_text": "yes", **router}),
             node("ChatOutput-yes", kind="ChatOutput"), node("ChatOutput-no", kind="ChatOutput")]
    edges = [edge("ChatInput-a", "message", "ConditionalRouter-r", "input_text"),
             edge("ConditionalRouter-r", "true_result", "ChatOutput-yes", "input_value"),
             edge("ConditionalRouter-r", "false_result", "ChatOutput-no", "input_value")]
    return nodes, edges


def test_if_else_case_messages_are_the_answer_and_the_other_branch_does_not_run():
    nodes, edges = _if_else_graph(true_case_message="Affirmative", false_case_message="Negative")
    results, ctx = run(nodes, edges, RunRequest(input_value="oh yes"))
    assert results["ChatOutput-yes"]["message"].text == "Affirmative"
    assert "ChatOutput-no" not in results
    assert [m.text for m in ctx.new_messages] == ["oh yes", "Affirmative"]
    results, ctx = run(nodes, edges, RunRequest(input_value="nope"))
    assert results["ChatOutput-no"]["message"].text == "Negative"
    assert "ChatOutput-yes" not in results
    assert [m.text for m in ctx.new_messages] == ["nope", "Negative"]


def test_if_else_without_case_messages_passes_the_input_on():
    nodes, edges = _if_else_graph()
    results, _ = run(nodes, edges, RunRequest(input_value="nope"))
    assert results["ChatOutput-no"]["message"].text == "nope"
    assert "ChatOutput-yes" not in results


# ---- Calculator ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("expression, result", [
    ("2+3", "5"), ("10 - 2.25", "7.75"), ("6*7", "42"), ("7/2", "3.5"), ("1/3", "0.333333"),
    ("2**10", "1024"), ("2 * (3 + 4)", "14"), ("(1.5 + 0.5) ** 3", "8"), ("-3 + 1", "-2"),
    ("4*4*(33/22)+12-20", "16"), ("0.1 + 0.2", "0.3"),
])
def test_calculator_arithmetic(expression, result):
    assert call(component(CalculatorComponent, expression=expression), "result").data == {"result": result}


@pytest.mark.parametrize("expression", ["1/0", "5 / (2 - 2)", "1.5 / 0.0"])
def test_calculator_division_by_zero(expression):
    data = call(component(CalculatorComponent, expression=expression), "result").data
    assert data == {"error": "Error: Division by zero", "input": expression}


@pytest.fixture
def no_code_runs(monkeypatch):
    """Records any evaluation or compilation of code beyond parsing a syntax tree, while the test runs."""
    real = {"eval": builtins.eval, "exec": builtins.exec, "compile": builtins.compile}
    ran: list[str] = []

    def watch(name: str):
        def spy(*args: Any, **kwargs: Any) -> Any:
            flags = args[3] if len(args) > 3 else kwargs.get("flags", 0)
            if name != "compile" or not flags & ast.PyCF_ONLY_AST:
                ran.append(name)
            return real[name](*args, **kwargs)
        return spy

    for name in real:
        monkeypatch.setattr(builtins, name, watch(name))
    return ran


@pytest.mark.parametrize("expression", [
    "x", "x + 1", "abs(-1)", "pow(2, 3)", "__import__('os').system('echo hacked')",
    "open('/etc/passwd').read()", "().__class__.__bases__[0].__subclasses__()", "(1).real", "2 .__class__",
    "[1, 2]", "(1, 2)", "{1: 2}", "'a' * 3", "lambda: 1", "1 if 1 else 2", "True + 1", "1 < 2", "not 1",
    "1 and 2", "a := 1", "f'{1}'", "1; 2", "import os", "", "2 ** 100000",
])
def test_calculator_refuses_anything_but_arithmetic(expression, no_code_runs):
    no_code_runs.clear()
    data = call(component(CalculatorComponent, expression=expression), "result").data
    assert set(data) == {"error", "input"}
    assert data["error"].startswith("Invalid expression")
    assert data["input"] == expression
    assert no_code_runs == []


def test_calculator_refuses_without_touching_the_file_system(no_code_runs, tmp_path):
    target = tmp_path / "created"
    no_code_runs.clear()
    for expression in (f"open({str(target)!r}, 'w')", f"__import__('pathlib').Path({str(target)!r}).touch()"):
        data = call(component(CalculatorComponent, expression=expression), "result").data
        assert "error" in data and "result" not in data
    assert not target.exists()
    assert no_code_runs == []


def test_calculator_refuses_huge_results_cleanly():
    data = call(component(CalculatorComponent, expression="(10**100)**1000"), "result").data
    assert "error" in data and "result" not in data


# ---- Webhook ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw, expected", [
    ('{"name": "Ada", "n": [1, 2]}', {"name": "Ada", "n": [1, 2]}),
    ("{not json", {"payload": "{not json"}),
    ("", {}),
    (None, {}),
])
def test_webhook_body(raw, expected):
    data = call(component(Webhook, data=raw), "output_data")
    assert isinstance(data, Data) and data.data == expected


def test_webhook_through_the_engine_feeds_its_data_downstream():
    nodes = [node("Webhook-w", {"data": '{"text": "from hook"}'}), node("ParserComponent-p", {"pattern": "{text}!"}),
             node("ChatOutput-b")]
    edges = [edge("Webhook-w", "output_data", "ParserComponent-p", "input_data"),
             edge("ParserComponent-p", "parsed_text", "ChatOutput-b", "input_value")]
    results, _ = run(nodes, edges, RunRequest())
    assert results["Webhook-w"]["output_data"].data == {"text": "from hook"}
    assert results["ChatOutput-b"]["message"].text == "from hook!"


# ---- Message History ----------------------------------------------------------------------------------


class _History:
    """Stored messages of one test, in timestamp order, behind the engine's history protocol."""

    def __init__(self, messages: list[Message]) -> None:
        self.messages = messages
        self.asked: list[str] = []

    def history(self, *, session_id: str, limit: int = 10_000) -> list[Message]:
        self.asked.append(session_id)
        return [m for m in self.messages if m.session_id == session_id][:limit]


def _stored(text: str, sender: str, name: str, *, error: bool = False, session: str = "session-1") -> Message:
    return Message(text=text, sender=sender, sender_name=name, session_id=session, error=error)


@pytest.fixture
def history() -> _History:
    return _History([
        _stored("u1", "User", "Ann"), _stored("a1", "Machine", "AI"), _stored("u2", "User", "Bob"),
        _stored("boom", "Machine", "AI", error=True), _stored("a2", "Machine", "AI"),
        _stored("elsewhere", "User", "Ann", session="other"),
    ])


def _memory_text(history: _History, **params: Any) -> str:
    return call(component(Memory, Services(history=history), **params), "messages_text").text


def test_memory_default_reads_the_session_without_errors(history):
    assert _memory_text(history) == "Ann: u1\nAI: a1\nBob: u2\nAI: a2"
    assert history.asked == ["session-1"]


@pytest.mark.parametrize("params, expected", [
    ({"sender_type": "User"}, "Ann: u1\nBob: u2"),
    ({"sender_type": "Machine"}, "AI: a1\nAI: a2"),
    ({"sender_type": "Machine and User"}, "Ann: u1\nAI: a1\nBob: u2\nAI: a2"),
    ({"sender_name": "Bob"}, "Bob: u2"),
    ({"sender_type": "User", "sender_name": "AI"}, ""),
])
def test_memory_filters_by_sender(history, params, expected):
    assert _memory_text(history, **params) == expected


def test_memory_keeps_the_last_n_messages(history):
    assert _memory_text(history, n_messages=2) == "Bob: u2\nAI: a2"
    assert _memory_text(history, n_messages=0) == ""


def test_memory_descending_keeps_the_oldest_n(history):
    assert _memory_text(history, order="Descending") == "AI: a2\nBob: u2\nAI: a1\nAnn: u1"
    assert _memory_text(history, order="Descending", n_messages=2) == "AI: a1\nAnn: u1"


def test_memory_template_and_session(history):
    assert _memory_text(history, template="[{sender}] {sender_name} said {text}", sender_type="User") == (
        "[User] Ann said u1\n[User] Bob said u2")
    assert _memory_text(history, session_id="other", template="{session_id}/{text}") == "other/elsewhere"


def test_memory_dataframe_output(history):
    frame = call(component(Memory, Services(history=history), sender_type="Machine"), "dataframe")
    assert [(r["text"], r["sender"], r["sender_name"], r["session_id"]) for r in frame.rows] == [
        ("a1", "Machine", "AI", "session-1"), ("a2", "Machine", "AI", "session-1")]


def test_memory_store_mode_appends_the_message_to_the_run(history):
    memory = component(Memory, Services(history=history), mode="Store",
                       message=Message(text="remember me", sender="User", sender_name="Ann"))
    call(memory, "messages_text")
    assert [(m.text, m.sender, m.sender_name, m.session_id, m.flow_id) for m in memory.ctx.new_messages] == [
        ("remember me", "User", "Ann", "session-1", "flow-1")]
    plain = component(Memory, Services(history=history), mode="Store", message="plain text")
    call(plain, "messages_text")
    assert [(m.text, m.sender, m.sender_name) for m in plain.ctx.new_messages] == [("plain text", "Machine", "AI")]


def test_memory_retrieve_mode_stores_nothing(history):
    memory = component(Memory, Services(history=history), message=Message(text="not stored"))
    call(memory, "messages_text")
    assert memory.ctx.new_messages == []


def test_memory_through_the_engine_reads_the_run_session():
    stored = _History([_stored("earlier", "User", "Ann", session="chat-9")])
    nodes = [node("ChatInput-a"), node("Memory-m"), node("Prompt-p", {"template": "{history}\n--\n{question}"}),
             node("ChatOutput-b")]
    edges = [edge("Memory-m", "messages_text", "Prompt-p", "history"),
             edge("ChatInput-a", "message", "Prompt-p", "question"),
             edge("Prompt-p", "prompt", "ChatOutput-b", "input_value")]
    results, _ = run(nodes, edges, RunRequest(input_value="now", session_id="chat-9"),
                     services=Services(history=stored))
    assert results["ChatOutput-b"]["message"].text == "Ann: earlier\n--\nnow"
    assert stored.asked == ["chat-9"]


# ---- Chat Output --------------------------------------------------------------------------------------


def _chat(value: Any, **params: Any) -> tuple[Message, RunContext]:
    output = component(ChatOutput, input_value=value, **params)
    return call(output, "message"), output.ctx


def test_chat_output_cleans_plain_strings():
    message, _ = _chat("first\n   \nsecond\n\n\n\nthird\t\n \t\nlast")
    assert message.text == "first\nsecond\n\nthird\t\nlast"
    raw = "first\n   \nsecond\n\n\n\nthird"
    assert _chat(raw, clean_data=False)[0].text == raw


def test_chat_output_keeps_message_text_unchanged():
    text = "a\n   \n\n\n\nb"
    assert _chat(Message(text=text))[0].text == text


def test_chat_output_renders_data_as_a_json_block():
    text = _chat(Data(data={"name": "Ada", "tags": ["x"], "n": 1}))[0].text
    assert text.startswith("```json\n") and text.endswith("\n```")
    body = text.removeprefix("```json\n").removesuffix("\n```")
    assert json.loads(body) == {"name": "Ada", "tags": ["x"], "n": 1}
    assert "\n" in body  # pretty-printed


def test_chat_output_renders_a_dataframe_as_a_markdown_table_dropping_empty_rows():
    frame = DataFrame(rows=[{"name": "Ada", "city": "London"}, {"name": None, "city": ""},
                            {"name": "Bob", "city": "Paris"}])
    text = _chat(frame)[0].text
    lines = text.splitlines()
    assert {"name", "city"} <= set(header_cells(text))
    assert len(lines) == 4 and "Ada" in lines[2] and "Bob" in lines[3]
    assert len(_chat(frame, clean_data=False)[0].text.splitlines()) == 5


def test_chat_output_records_its_message_unless_told_not_to():
    message, ctx = _chat("hello")
    assert ctx.new_messages == [message]
    assert (message.sender, message.sender_name, message.session_id, message.flow_id) == (
        "Machine", "AI", "session-1", "flow-1")
    message, ctx = _chat("hello", should_store_message=False)
    assert message.text == "hello" and ctx.new_messages == []


def test_chat_output_not_storing_through_the_engine():
    nodes = [node("ChatInput-a"), node("ChatOutput-b", {"should_store_message": False})]
    edges = [edge("ChatInput-a", "message", "ChatOutput-b", "input_value")]
    results, ctx = run(nodes, edges, RunRequest(input_value="hi"))
    assert results["ChatOutput-b"]["message"].text == "hi"
    assert [(m.sender, m.text) for m in ctx.new_messages] == [("User", "hi")]
