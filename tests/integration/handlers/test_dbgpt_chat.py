"""DB-GPT's POST /api/v2/chat/completions (chat_flow, chat_normal, chat_app) and the OpenAI-compatible model
API (/api/v1/models, /api/v1/chat/completions), through the run function against the OpenAI wire stub."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.integration.handlers.test_dbgpt_flows import PATH as FLOWS
from tests.integration.handlers.test_dbgpt_flows import ok, panel
from tests.stubs.openai_stub import Reply
from tests.support import upload_flow

CHAT = "/api/v2/chat/completions"


@pytest.fixture(autouse=True)
def models(aws, llm_stub, monkeypatch):
    """Two configured names for one model served by the stub."""
    from flowless.settings import get_settings

    monkeypatch.setenv("FLOWLESS_MODELS", json.dumps({"gpt-test": {"provider": "openai", "model": "stub-model"},
                                                      "alias": "openai:stub-model-2"}))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    get_settings.cache_clear()


@pytest.fixture
def owner(make_account):
    return make_account()


def chat(api, owner, **body):
    body.setdefault("model", "gpt-test")
    return api.post("run", CHAT, json=body, account=owner)


def sse(reply) -> list:
    """The `data:` payloads of an SSE body, JSON-decoded where they are JSON."""
    assert reply.status_code == 200, reply.content
    assert reply.headers["content-type"].startswith("text/event-stream")
    events = []
    for block in reply.content.decode().split("\n\n"):
        if block.startswith("data: "):
            data = block[len("data: "):]
            try:
                events.append(json.loads(data))
            except json.JSONDecodeError:
                events.append(data)
    return events


def deltas(events) -> str:
    return "".join(e["choices"][0]["delta"].get("content") or "" for e in events if isinstance(e, dict))


# ---- chat_flow -----------------------------------------------------------------------------------------------

def test_chat_flow_streams_a_langflow_flow_as_db_gpt_does(api, owner, llm_stub):
    flow = upload_flow(api, "Basic Prompting", account=owner)
    llm_stub.enqueue(Reply.answer("Hello there", chunks=["Hello", " there"]))
    events = sse(chat(api, owner, messages="hi", stream=True, chat_mode="chat_flow", chat_param=flow["id"],
                      conv_uid="conv-1"))
    assert events[0] == {"id": "conv-1", "model": "gpt-test",
                         "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]}
    assert events[1]["choices"][0]["delta"] == {"role": "assistant", "content": "Hello", "reasoning_content": None}
    assert deltas(events[1:-1]) == "Hello there" and {e["id"] for e in events[:-1]} == {"conv-1"}
    assert events[-1] == "[DONE]"
    assert llm_stub.requests[-1].json["messages"][-1] == {"role": "user", "content": "hi"}


def test_chat_flow_answers_whole_with_usage(api, owner):
    flow = upload_flow(api, "SimpleAPITest", account=owner)
    reply = chat(api, owner, messages="value1", chat_mode="chat_flow", chat_param=flow["id"])
    assert reply.status_code == 200, reply.content
    body = reply.json()
    assert body["object"] == "chat.completion" and body["model"] == "gpt-test"
    uuid.UUID(body["id"])                                       # a fresh conversation id
    assert body["choices"] == [{"index": 0, "message": {"role": "assistant", "content": "value1",
                                                        "reasoning_content": None}, "finish_reason": None}]
    assert body["usage"] == {"prompt_tokens": 0, "total_tokens": 0, "completion_tokens": 0}   # no model ran


def test_whole_answers_carry_the_usage_the_models_reported(api, owner, llm_stub):
    flow = upload_flow(api, "Basic Prompting", account=owner)
    llm_stub.enqueue(Reply.answer("one two three"), Reply.answer("four five"))
    by_flow = chat(api, owner, messages="hi", chat_mode="chat_flow", chat_param=flow["id"]).json()
    sent = " ".join(m["content"] for m in llm_stub.requests[-1].json["messages"])
    assert by_flow["usage"] == {"prompt_tokens": len(sent.split()), "completion_tokens": 3,
                                "total_tokens": len(sent.split()) + 3}
    normal = chat(api, owner, messages="say four five", chat_mode="chat_normal").json()
    assert normal["usage"] == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}


def test_chat_flow_input_is_the_last_user_message(api, owner):
    flow = upload_flow(api, "SimpleAPITest", account=owner)
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "first"},
                {"role": "assistant", "content": "ok"}, {"role": "user", "content": "second"}]
    reply = chat(api, owner, messages=messages, chat_mode="chat_flow", chat_param=flow["id"])
    assert reply.json()["choices"][0]["message"]["content"] == "second"


def test_chat_flow_remembers_the_conversation_by_conv_uid(api, owner):
    flow = upload_flow(api, "MemoryChatbotNoLLM", account=owner)
    chat(api, owner, messages="My name is Ada", chat_mode="chat_flow", chat_param=flow["id"], conv_uid="c")
    reply = chat(api, owner, messages="Who am I?", chat_mode="chat_flow", chat_param=flow["id"], conv_uid="c")
    assert "My name is Ada" in reply.json()["choices"][0]["message"]["content"]


def test_chat_flow_runs_a_supported_awel_flow_with_the_requested_model(api, owner, llm_stub):
    flow = ok(api.post("awel_flows", FLOWS, json=panel(state="deployed"), account=owner))
    llm_stub.enqueue(Reply.answer("AWEL is DB-GPT's workflow language", chunks=["AWEL is", " DB-GPT's",
                                                                                " workflow language"]))
    events = sse(chat(api, owner, model="alias", messages="Introduce AWEL", stream=True, chat_mode="chat_flow",
                      chat_param=flow["uid"]))
    assert deltas(events) == "AWEL is DB-GPT's workflow language"
    sent = llm_stub.requests[-1].json
    assert sent["model"] == "stub-model-2" and sent["messages"][-1] == {"role": "user", "content": "Introduce AWEL"}


def test_chat_flow_failures_are_db_gpts_error_response(api, owner):
    missing = str(uuid.uuid4())
    for stream in (False, True):
        reply = chat(api, owner, messages="hi", stream=stream, chat_mode="chat_flow", chat_param=missing)
        assert reply.status_code == 404
        assert reply.json() == {"object": "error", "message": f"Flow {missing} not found", "code": 1}
    undeployed = ok(api.post("awel_flows", FLOWS, json=panel(), account=owner))
    reply = chat(api, owner, messages="hi", chat_mode="chat_flow", chat_param=undeployed["uid"])
    assert reply.status_code == 400 and "not deployed" in reply.json()["message"]


def test_a_model_failing_mid_stream_is_reported_in_band(api, owner, llm_stub):
    flow = upload_flow(api, "Basic Prompting", account=owner)
    llm_stub.enqueue(Reply.failure(400, "context too long"))
    events = sse(chat(api, owner, messages="hi", stream=True, chat_mode="chat_flow", chat_param=flow["id"]))
    assert events[-1] == "[DONE]" and events[-2]["error_code"] == 1
    assert "context too long" in events[-2]["text"]


def test_another_users_flow_is_not_found(api, owner, make_account):
    flow = upload_flow(api, "SimpleAPITest", account=owner)
    reply = chat(api, make_account(), messages="hi", chat_mode="chat_flow", chat_param=flow["id"])
    assert reply.status_code == 404


# ---- chat_normal ---------------------------------------------------------------------------------------------

def test_chat_normal_streams_the_configured_model(api, owner, llm_stub):
    llm_stub.enqueue(Reply.answer("Hi!", chunks=["H", "i!"]))
    events = sse(chat(api, owner, messages="hello", stream=True))
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert deltas(chunks) == "Hi!" and chunks[0]["id"].startswith("chatcmpl-")
    assert all(set(c) == {"id", "model", "choices"} for c in chunks)
    sent = llm_stub.requests[-1]
    assert sent.json["model"] == "stub-model" and sent.json["messages"] == [{"role": "user", "content": "hello"}]
    assert sent.headers["authorization"] == "Bearer sk-env"


def test_chat_normal_answers_whole_and_sends_the_whole_conversation(api, owner, llm_stub):
    llm_stub.enqueue(Reply.answer("Paris"))
    messages = [{"role": "system", "content": "geography"}, {"role": "user", "content": "Capital of France?"}]
    reply = chat(api, owner, messages=messages, temperature=0.2, max_tokens=50)
    assert reply.status_code == 200, reply.content
    assert reply.json()["choices"][0]["message"]["content"] == "Paris"
    sent = llm_stub.requests[-1].json
    assert sent["messages"] == messages and sent["temperature"] == 0.2 and sent["max_tokens"] == 50


def test_chat_normal_mid_stream_failure_is_server_error_line(api, owner, llm_stub):
    llm_stub.enqueue(Reply.failure(400, "bad prompt"))
    events = sse(chat(api, owner, messages="hello", stream=True))
    assert events[-1] == "[DONE]" and events[-2].startswith("[SERVER_ERROR]") and "bad prompt" in events[-2]


def test_request_mistakes_are_result_envelopes(api, owner):
    cases = [
        ({"messages": "hi"}, "E0001", "body.model:Field required;"),
        ({"model": "gpt-test", "messages": ["a", "b"]}, "E0001", None),
        ({"model": "nope", "messages": "hi"}, "E0003", "Model 'nope' is not configured here; configured models: "
                                                       "alias, gpt-test"),
        ({"model": "gpt-test", "messages": "hi", "chat_mode": "chat_knowledge", "chat_param": "x"}, "E0003", None),
        ({"model": "gpt-test", "messages": "hi", "chat_mode": "chat_app"}, "E0003",
         "chat_param is required for chat_mode 'chat_app'"),
    ]
    for body, code, message in cases:
        reply = api.post("run", CHAT, json=body, account=owner)
        assert reply.status_code == 400, (body, reply.content)
        answer = reply.json()
        assert answer["success"] is False and answer["err_code"] == code and answer["data"] is None
        if message:
            assert answer["err_msg"] == message


def test_wrong_key_is_db_gpts_401(api):
    reply = api.post("run", CHAT, json={"model": "gpt-test", "messages": "hi"},
                     headers={"authorization": "Bearer sk-nope"})
    assert reply.status_code == 401 and reply.json()["err_code"] == "401"


# ---- chat_app ------------------------------------------------------------------------------------------------

def _app(api, owner, **body):
    return ok(api.post("apps", "/api/v2/serve/apps", json=body, account=owner))


def test_chat_app_bound_to_a_flow_streams_vis_snapshots(api, owner):
    flow = upload_flow(api, "SimpleAPITest", account=owner)
    app = _app(api, owner, app_name="Echo", app_describe="echo", team_mode="awel_layout",
               team_context={"uid": flow["id"]})
    events = sse(chat(api, owner, messages="ping", stream=True, chat_mode="chat_app", chat_param=app["app_code"],
                      conv_uid="c1"))
    assert events[-1] == "[DONE]"
    last = events[-2]
    assert last["id"] == "c1" and isinstance(last["created"], int)
    content = last["choices"][0]["delta"]["content"]
    assert content.startswith("```agent-messages\n") and content.endswith("\n```")
    shown = json.loads(content[len("```agent-messages\n"):-len("\n```")])
    assert shown == [{"sender": "Echo", "receiver": "Human", "model": "gpt-test", "markdown": "ping",
                      "resource": None}]


def test_chat_app_bound_to_a_model_and_prompt(api, owner, llm_stub):
    app = _app(api, owner, app_name="Poet", app_describe="writes", team_mode="single_agent",
               details=[{"agent_name": "poet", "llm_strategy": "priority", "llm_strategy_value": "alias",
                         "prompt_template": "Answer in verse."}])
    llm_stub.enqueue(Reply.answer("Roses are red"))
    events = sse(chat(api, owner, messages="a poem", stream=True, chat_mode="chat_app", chat_param=app["app_code"]))
    assert "Roses are red" in events[-2]["choices"][0]["delta"]["content"]
    sent = llm_stub.requests[-1].json
    assert sent["model"] == "stub-model-2"
    assert sent["messages"] == [{"role": "system", "content": "Answer in verse."},
                                {"role": "user", "content": "a poem"}]


def test_chat_app_is_stream_only(api, owner):
    reply = chat(api, owner, messages="hi", chat_mode="chat_app", chat_param=str(uuid.uuid4()))
    assert reply.status_code == 400 and "stream" in reply.json()["err_msg"]


# ---- the OpenAI-compatible model API -------------------------------------------------------------------------

def test_models_lists_the_configured_names(api, owner):
    reply = api.get("run", "/api/v1/models", account=owner)
    assert reply.status_code == 200
    body = reply.json()
    assert body["object"] == "list" and [m["id"] for m in body["data"]] == ["alias", "gpt-test"]
    assert all(m["object"] == "model" for m in body["data"])


def test_model_api_answers_whole_and_streamed(api, owner, llm_stub):
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
    llm_stub.enqueue(Reply.answer("whole"), Reply.answer("in parts", chunks=["in", " parts"]))
    whole = api.post("run", "/api/v1/chat/completions", json={"model": "gpt-test", "messages": messages},
                     account=owner).json()
    assert whole["object"] == "chat.completion" and whole["choices"][0]["message"]["content"] == "whole"
    assert whole["choices"][0]["finish_reason"] == "stop"
    assert whole["usage"] == {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3}   # the stub's count
    assert llm_stub.requests[-1].json["messages"] == messages
    events = sse(api.post("run", "/api/v1/chat/completions",
                          json={"model": "gpt-test", "messages": messages, "stream": True}, account=owner))
    assert events[-1] == "[DONE]" and deltas(events) == "in parts"
    assert events[-2]["choices"][0]["finish_reason"] == "stop"


def test_model_api_stream_ends_with_usage_when_asked(api, owner, llm_stub):
    body = {"model": "gpt-test", "messages": [{"role": "user", "content": "a b c"}], "stream": True,
            "stream_options": {"include_usage": True}}
    llm_stub.enqueue(Reply.answer("x y", chunks=["x", " y"]))
    events = sse(api.post("run", "/api/v1/chat/completions", json=body, account=owner))
    assert events[-1] == "[DONE]" and deltas(events[:-2]) == "x y"
    assert events[-3]["choices"][0]["finish_reason"] == "stop"
    assert events[-2]["choices"] == [] and events[-2]["id"] == events[0]["id"]
    assert events[-2]["usage"] == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    assert llm_stub.requests[-1].json["stream_options"] == {"include_usage": True}


def test_model_api_errors_are_its_own_shape(api, owner):
    cases = [({"model": "nope", "messages": [{"role": "user", "content": "x"}]}, 40301),
             ({"model": "gpt-test", "messages": [{"role": "user", "content": "x"}], "n": 2}, 40302),
             ({"model": "gpt-test", "messages": [{"role": "user", "content": "x"}], "temperature": 3}, 40302),
             ({"model": "gpt-test", "messages": []}, 40001),
             ({"messages": [{"role": "user", "content": "x"}]}, 40001)]
    for body, code in cases:
        reply = api.post("run", "/api/v1/chat/completions", json=body, account=owner)
        assert reply.status_code == 400, body
        answer = reply.json()
        assert answer["object"] == "error" and answer["code"] == code and answer["message"], answer
    reply = api.get("run", "/api/v1/models", headers={"authorization": "Bearer sk-nope"})
    assert reply.status_code == 401 and reply.json()["detail"]["error"]["code"] == "invalid_api_key"


def test_langflows_run_door_points_an_awel_flow_to_the_chat_door(api, owner):
    flow = ok(api.post("awel_flows", FLOWS, json=panel(state="deployed"), account=owner))
    reply = api.post("run", f"/api/v1/run/{flow['uid']}", json={"input_value": "hi"}, account=owner)
    assert reply.status_code == 422
    assert reply.json()["detail"].startswith(f"Flow {flow['uid']} is a DB-GPT AWEL flow: run it with POST "
                                             "/api/v2/chat/completions")


def test_chat_normal_with_a_bedrock_model_streams_converse_stream(api, owner, monkeypatch):
    from flowless.settings import get_settings
    from tests.stubs.bedrock_stub import BedrockStreamStub, converse_stream_events

    with BedrockStreamStub() as stub:
        monkeypatch.setenv("FLOWLESS_MODELS", json.dumps({"claude": {
            "provider": "bedrock", "model": "anthropic.claude-3-5-haiku-20241022-v1:0", "region": "us-east-1"}}))
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", stub.url)
        get_settings.cache_clear()
        stub.enqueue(converse_stream_events(["Bon", "jour"]))
        events = sse(chat(api, owner, model="claude", messages="hello", stream=True))
        assert deltas(events) == "Bonjour" and events[-1] == "[DONE]"
        [request] = stub.requests
        assert request.path.endswith("/converse-stream")
        assert request.json["messages"] == [{"role": "user", "content": [{"text": "hello"}]}]


def _awel_with_history(**llm_parameters) -> dict:
    from tests.integration.handlers.test_dbgpt_flows import simple_chat_graph

    graph = simple_chat_graph()
    graph["nodes"][1]["data"]["parameters"] = [{"name": k, "value": v} for k, v in llm_parameters.items()]
    return graph


def test_an_awel_flow_with_window_history_sees_the_conversations_earlier_rounds(api, owner, llm_stub):
    flow = ok(api.post("awel_flows", FLOWS, account=owner, json=panel(
        state="deployed", flow_data=_awel_with_history(history_merge_mode="window", keep_end_rounds=1))))
    for turn in ("one", "two", "three"):
        llm_stub.enqueue(Reply.answer(f"answer {turn}"))
        reply = chat(api, owner, messages=turn, chat_mode="chat_flow", chat_param=flow["uid"], conv_uid="c1")
        assert reply.status_code == 200, reply.content
    assert [m["content"] for m in llm_stub.requests[-1].json["messages"]] == [
        "two", "answer two", "three"]                                   # the last round kept, then the input
    assert [m["role"] for m in llm_stub.requests[-1].json["messages"]] == ["user", "assistant", "user"]


def test_an_awel_flow_answers_each_message_alone_by_default(api, owner, llm_stub):
    flow = ok(api.post("awel_flows", FLOWS, json=panel(state="deployed"), account=owner))
    for turn in ("one", "two"):
        chat(api, owner, messages=turn, chat_mode="chat_flow", chat_param=flow["uid"], conv_uid="c2")
    assert [m["content"] for m in llm_stub.requests[-1].json["messages"]] == ["two"]


def test_token_history_is_refused_when_deployed(api, owner):
    flow = ok(api.post("awel_flows", FLOWS, account=owner, json=panel(
        state="deployed", flow_data=_awel_with_history(history_merge_mode="token"))))
    assert flow["state"] == "load_failed" and "history_merge_mode 'token'" in flow["error_message"]


def test_window_history_keeps_the_first_and_last_rounds_asked_for(api, owner, llm_stub):
    flow = ok(api.post("awel_flows", FLOWS, account=owner, json=panel(state="deployed", flow_data=_awel_with_history(
        history_merge_mode="window", keep_start_rounds=1, keep_end_rounds=1))))
    for turn in ("one", "two", "three", "four"):
        llm_stub.enqueue(Reply.answer(f"re {turn}"))
        chat(api, owner, messages=turn, chat_mode="chat_flow", chat_param=flow["uid"], conv_uid="c3")
    assert [m["content"] for m in llm_stub.requests[-1].json["messages"]] == [
        "one", "re one", "three", "re three", "four"]
