"""What a DB-GPT AWEL trigger call streams, per leaf operator, including keep-alives and failures mid-run."""

from __future__ import annotations

import json

import pytest

from flowless.engine.events import Event, RunResult
from flowless.wire.dbgpt_triggers import TriggerRequest, trigger_chunks, trigger_response
from tests.unit.wire.test_streams import _answer_vertex, _collect

TOKENS = (Event("token", {"chunk": "Hel", "id": "m"}), Event("token", {"chunk": "lo", "id": "m"}))
FAILURE = Event("error", {"error": "model down", "vertex_id": None})


def stream(leaf: str, *events: Event | None) -> list[str]:
    async def with_gaps():
        for event in events:
            yield event

    return _collect(trigger_chunks(with_gaps(), leaf=leaf, model="m"))


def test_openai_leaf_failure_is_an_error_object_then_done():
    chunks = stream("openai_streaming_output_operator", TOKENS[0], None, FAILURE)
    assert chunks[2] == "\n"                                   # a keep-alive: an empty line, not an SSE comment
    error = json.loads(chunks[3].removeprefix("data: "))
    assert error["error_code"] == 1 and error["text"] == "model down"
    assert chunks[-1] == "data: [DONE]\n\n"


def test_common_leaf_sends_the_answer_so_far_and_its_error_line():
    assert stream("common_streaming_output_operator", *TOKENS, FAILURE) == [
        "data:Hel\n\n", "data:Hello\n\n", "data:[ERROR](error_code: 1): model down"]


def test_an_llm_leaf_streams_model_outputs_per_line():
    lines = [json.loads(line) for line in stream("higher_order_streaming_llm_operator", *TOKENS)]
    assert [line["text"] for line in lines] == ["Hel", "Hello"] and {line["error_code"] for line in lines} == {0}


def test_an_answer_that_did_not_stream_is_sent_once():
    result = RunResult("s", "q", [_answer_vertex("whole")])
    chunks = stream("openai_streaming_output_operator", Event("end", {"result": result}))
    assert [json.loads(c.removeprefix("data: "))["choices"][0]["delta"] for c in chunks[:-1]] == [
        {"role": "assistant"}, {"content": "whole"}, {}]
    assert trigger_response("model_output_2_common_response_body_operator", result) == {
        "text": "whole", "error_code": 0, "metrics": None}


@pytest.mark.parametrize(("messages", "prompt"), [("hi", "hi"), (["first", "last"], "last"), ([], "")])
def test_the_prompt_is_the_string_or_the_last_message(messages, prompt):
    assert TriggerRequest(model="m", messages=messages).prompt() == prompt
