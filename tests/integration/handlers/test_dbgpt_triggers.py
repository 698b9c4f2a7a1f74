"""DB-GPT's AWEL HTTP triggers: a deployed AWEL chat flow publishes its trigger in `metadata` and answers at
/api/v1/awel/trigger/<endpoint> (the run function), against the OpenAI wire stub."""

from __future__ import annotations

import json

import pytest

from tests.integration.handlers.test_dbgpt_chat import sse
from tests.integration.handlers.test_dbgpt_flows import BODY, OUTPUT, PATH, awel_graph, awel_node, io, ok, panel
from tests.stubs.openai_stub import Reply
from tests.support import upload_flow

ROOT = "/api/v1/awel/trigger"


@pytest.fixture(autouse=True)
def models(aws, llm_stub, monkeypatch):
    from flowless.settings import get_settings

    monkeypatch.setenv("FLOWLESS_MODELS", json.dumps({"gpt-test": "openai:stub-model"}))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    get_settings.cache_clear()


@pytest.fixture
def owner(make_account):
    return make_account()


def chain(llm: str = "higher_order_streaming_llm_operator", leaf: str | None = "openai_streaming_output_operator",
          **trigger_parameters) -> dict:
    """The simple chat flow with a chosen LLM operator and leaf, and trigger parameters set in the editor."""
    trigger = awel_node("common_llm_http_trigger", "trigger", "input", outputs=[io("request_body", BODY)])
    trigger["data"]["parameters"] = [{"name": name, "label": name, "type_name": "str", "value": value}
                                     for name, value in trigger_parameters.items()]
    nodes = [trigger, awel_node(llm, "llm", "map", 400, inputs=[io("common_llm_request_body", BODY)],
                                outputs=[io("model_output", OUTPUT)])]
    if leaf:
        output_type = "dbgpt.core.awel.trigger.http_trigger.CommonLLMHttpResponseBody" \
            if leaf == "model_output_2_common_response_body_operator" else "builtins.str"
        nodes.append(awel_node(leaf, "output_parser", "transform_stream", 800,
                               inputs=[io("model_output", OUTPUT, True)], outputs=[io("model_output", output_type)]))
    return awel_graph(*nodes)


def deploy(api, owner, flow_data: dict | None = None, **fields) -> dict:
    return ok(api.post("awel_flows", PATH, json=panel(state="deployed", flow_data=flow_data or chain(), **fields),
                       account=owner))


def test_a_deployed_flow_publishes_its_trigger_as_db_gpt_does(api, owner):
    flow = deploy(api, owner, name="my_chat")
    assert flow["metadata"] == {
        "sse_output": True, "streaming_output": True, "tags": None,
        "triggers": [{"trigger_type": "http", "path": f"{ROOT}/example/flow_dag_my_chat_{flow['uid']}",
                      "methods": ["POST"], "trigger_mode": "chat"}]}
    assert ok(api.get("awel_flows", f"{PATH}/{flow['uid']}", account=owner))["metadata"] == flow["metadata"]
    stopped = ok(api.request("awel_flows", "PUT", f"{PATH}/{flow['uid']}", account=owner,
                             json=panel(uid=flow["uid"], name="my_chat", state="disabled", flow_data=chain())))
    assert stopped["state"] == "disabled" and stopped["metadata"] is None
    reply = api.post("run", flow["metadata"]["triggers"][0]["path"], json={"model": "gpt-test", "messages": "hi"},
                     account=owner)
    assert reply.status_code == 404


def test_flows_that_do_not_run_have_no_metadata(api, owner):
    assert ok(api.post("awel_flows", PATH, json=panel(), account=owner))["metadata"] is None   # not deployed
    unsupported = awel_graph(awel_node("common_llm_http_trigger", "trigger", "input"),
                             awel_node("llm_operator", "llm", "map", 400))
    assert deploy(api, owner, unsupported, name="other")["metadata"] is None                  # load_failed
    langflow = upload_flow(api, "SimpleAPITest", account=owner)
    assert ok(api.get("awel_flows", f"{PATH}/{langflow['id']}", account=owner))["metadata"] is None


def test_the_trigger_streams_openai_chunks_then_done(api, owner, llm_stub):
    flow = deploy(api, owner)
    llm_stub.enqueue(Reply.answer("Hello there", chunks=["Hello", " there"]))
    path = flow["metadata"]["triggers"][0]["path"]
    events = sse(api.post("run", path, json={"model": "gpt-test", "messages": "hi", "stream": True}, account=owner))
    assert events[0]["choices"] == [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]
    assert "".join(e["choices"][0]["delta"].get("content") or "" for e in events[1:-1]) == "Hello there"
    assert events[-2]["choices"][0]["finish_reason"] == "stop" and events[-1] == "[DONE]"
    assert {e["model"] for e in events[:-1]} == {"gpt-test"}
    assert llm_stub.requests[-1].json["messages"][-1] == {"role": "user", "content": "hi"}


def test_the_whole_answer_is_the_leafs_result(api, owner, llm_stub):
    as_body = deploy(api, owner, chain("higher_order_llm_operator", "model_output_2_common_response_body_operator"),
                     name="as_body")
    llm_stub.enqueue(Reply.answer("one two"))
    reply = api.post("run", as_body["metadata"]["triggers"][0]["path"],
                     json={"model": "gpt-test", "messages": ["earlier", "now"]}, account=owner)
    assert reply.status_code == 200, reply.content
    assert reply.json() == {"text": "one two", "error_code": 0, "metrics": None}
    assert llm_stub.requests[-1].json["messages"][-1]["content"] == "now"        # the last of a list
    assert as_body["metadata"]["streaming_output"] is False and as_body["metadata"]["sse_output"] is False

    bare = deploy(api, owner, chain("higher_order_llm_operator", None), name="bare")
    llm_stub.enqueue(Reply.answer("three"))
    output = api.post("run", bare["metadata"]["triggers"][0]["path"], json={"model": "gpt-test", "messages": "q"},
                      account=owner).json()
    assert output["text"] == "three" and output["error_code"] == 0 and output["finish_reason"] == "stop"
    assert output["usage"]["completion_tokens"] == 1


def test_common_streaming_output_sends_the_answer_so_far(api, owner, llm_stub):
    flow = deploy(api, owner, chain(leaf="common_streaming_output_operator"))
    llm_stub.enqueue(Reply.answer("a b", chunks=["a", " b"]))
    reply = api.post("run", flow["metadata"]["triggers"][0]["path"],
                     json={"model": "gpt-test", "messages": "q", "stream": True}, account=owner)
    assert reply.status_code == 200 and reply.content.decode() == "data:a\n\ndata:a b\n\n"


def test_a_custom_endpoint_and_methods_are_honoured(api, owner, llm_stub):
    flow = deploy(api, owner, chain("higher_order_llm_operator", "model_output_2_common_response_body_operator",
                                    endpoint="/team/answer", methods="PUT"))
    assert flow["metadata"]["triggers"][0]["path"] == f"{ROOT}/team/answer"
    assert flow["metadata"]["triggers"][0]["methods"] == ["PUT"]
    llm_stub.enqueue(Reply.answer("custom"))
    reply = api.request("run", "PUT", f"{ROOT}/team/answer", json={"model": "gpt-test", "messages": "q"},
                        account=owner)
    assert reply.status_code == 200 and reply.json()["text"] == "custom"
    wrong = api.post("run", f"{ROOT}/team/answer", json={"model": "gpt-test", "messages": "q"}, account=owner)
    assert wrong.status_code == 405 and "PUT" in wrong.json()["detail"]


def test_triggers_reach_only_the_callers_flows(api, owner, make_account, llm_stub):
    flow = deploy(api, owner)
    path = flow["metadata"]["triggers"][0]["path"]
    stranger = make_account()
    reply = api.post("run", path, json={"model": "gpt-test", "messages": "hi"}, account=stranger)
    assert reply.status_code == 404 and "No deployed AWEL flow" in reply.json()["detail"]
    assert api.post("run", path, json={"model": "gpt-test", "messages": "hi"}).status_code in (401, 403)
    assert llm_stub.requests == []


def test_bad_trigger_calls_are_4xx_and_run_nothing(api, owner, llm_stub):
    flow = deploy(api, owner)
    path = flow["metadata"]["triggers"][0]["path"]
    cases = [({"messages": "no model"}, 422), ({"model": "gpt-test"}, 422),
             ({"model": "not-configured", "messages": "hi"}, 400)]
    for body, status in cases:
        reply = api.post("run", path, json=body, account=owner)
        assert reply.status_code == status, (body, reply.content)
        assert reply.json()["detail"]
    assert api.post("run", f"{ROOT}/example/nothing-here", json={"model": "gpt-test", "messages": "x"},
                    account=owner).status_code == 404
    assert llm_stub.requests == []
