"""POST /api/v1/run: Langflow's exports, imported through the flows API and run unchanged."""

from __future__ import annotations

import json

import pytest

from tests.stubs.openai_stub import Reply
from tests.support import FIXTURES, multipart, upload_flow


@pytest.fixture(autouse=True)
def auto_login(aws, monkeypatch):
    """Keyless calls act as the superuser here, as under `flowless dev`; isolation tests send keys."""
    from flowless.settings import get_settings

    monkeypatch.setenv("FLOWLESS_AUTO_LOGIN", "true")
    get_settings.cache_clear()


def _run(api, flow: str, body=None, *, account=None, headers=None, raw: bytes | None = None):
    if raw is not None:
        return api.post("run", f"/api/v1/run/{flow}", body=raw, account=account,
                        headers={"content-type": "application/json", **(headers or {})})
    return api.post("run", f"/api/v1/run/{flow}", json=body if body is not None else {}, account=account,
                    headers=headers)


def _answer(reply) -> str:
    return reply.json()["outputs"][0]["outputs"][0]["results"]["message"]["text"]


def _fixture_node(name: str, kind: str) -> dict:
    export = json.loads(next(FIXTURES.glob(f"langflow/**/{name}.json")).read_text())
    return next(n for n in export["data"]["nodes"] if n["data"].get("type") == kind)


# ---- deterministic flows: exactly Langflow's results ---------------------------------------------------------

def test_simple_api_test_answers_like_langflow(api):
    flow = upload_flow(api, "SimpleAPITest")
    reply = _run(api, flow["id"], {"input_value": "value1", "session_id": "chat-123"})
    assert reply.status_code == 200, reply.content
    body = reply.json()
    assert body["session_id"] == "chat-123"
    assert len(body["outputs"]) == 1
    run = body["outputs"][0]
    assert run["inputs"] == {"input_value": "value1"}
    assert len(run["outputs"]) == 1
    result = run["outputs"][0]
    assert result["component_id"] == "ChatOutput-J6aor"
    assert result["component_display_name"] == "Chat Output"
    message = result["results"]["message"]
    assert (message["text"], message["sender"], message["sender_name"]) == ("value1", "Machine", "AI")
    assert message["data"]["text"] == "value1" and message["session_id"] == "chat-123"
    assert message["timestamp"].endswith("+00:00") and message["data"]["timestamp"].endswith(" UTC")
    assert result["outputs"] == {"message": {"message": "value1", "type": "text"}}
    assert result["messages"] == [{"message": "value1", "sender": "Machine", "sender_name": "AI",
                                   "session_id": "chat-123", "stream_url": None,
                                   "component_id": "ChatOutput-J6aor", "files": [], "type": "text"}]
    assert result["timedelta"] is None and result["used_frozen_result"] is False


def test_debug_output_gives_every_vertex_in_node_order(api):
    flow = upload_flow(api, "SimpleAPITest")
    reply = _run(api, flow["id"], {"input_value": "value1", "input_type": "text", "output_type": "debug"})
    body = reply.json()
    results = body["outputs"][0]["outputs"]
    assert [r["component_id"] for r in results] == ["ChatInput-3OQi9", "TextInput-eFiZp", "ChatOutput-J6aor"]
    assert "message" in results[0]["results"]
    assert results[1]["results"]["text"]["text"] == "value1"
    assert body["session_id"] == flow["id"]


def test_output_type_matching_nothing_falls_back_to_every_output(api):
    flow = upload_flow(api, "SimpleAPITest")
    reply = _run(api, flow["id"], {"input_value": "hi", "output_type": "text"})
    assert [r["component_id"] for r in reply.json()["outputs"][0]["outputs"]] == ["ChatOutput-J6aor"]


def test_output_component_selects_by_id_or_display_name(api):
    flow = upload_flow(api, "SimpleAPITest")
    for wanted in ("TextInput-eFiZp", "Text Input"):
        reply = _run(api, flow["id"], {"input_value": "hi", "output_component": wanted})
        assert [r["component_id"] for r in reply.json()["outputs"][0]["outputs"]] == ["TextInput-eFiZp"]


def test_run_by_endpoint_name_and_tweaks_by_display_name(api):
    upload_flow(api, "SimpleAPITest", endpoint_name="echo-flow")
    reply = _run(api, "echo-flow", {"input_value": "hey", "tweaks": {"Text Input": {"input_value": "Bot"}}})
    assert reply.status_code == 200, reply.content
    message = reply.json()["outputs"][0]["outputs"][0]["results"]["message"]
    assert (message["text"], message["sender_name"]) == ("hey", "Bot")


def test_tweak_conflicting_with_input_value_is_400(api):
    flow = upload_flow(api, "SimpleAPITest")
    reply = _run(api, flow["id"], {"input_value": "value1", "input_type": "chat",
                                   "tweaks": {"Chat Input": {"input_value": "x"}}})
    assert reply.status_code == 400
    assert reply.json() == {
        "detail": "If you pass an input_value to the chat input, you cannot pass a tweak with the same name."}


def test_empty_body_runs_with_defaults(api):
    flow = upload_flow(api, "SimpleAPITest")
    reply = _run(api, flow["id"], raw=b"")
    assert reply.status_code == 200
    assert reply.json()["outputs"][0]["inputs"] == {}


def test_memory_chatbot_without_llm_gives_langflow_text_and_remembers(api):
    flow = upload_flow(api, "MemoryChatbotNoLLM")
    first = _run(api, flow["id"], {"input_value": "hello there"})
    assert _answer(first) == "\n\nUser: hello there\nAI: "
    second = _run(api, flow["id"], {"input_value": "again"})
    text = _answer(second)
    # The stored turn of the first run (user, then machine) is the context of the second, as a table.
    assert text.startswith("| text | sender | sender_name |")
    assert "| hello there | User | User |" in text and "| Machine | AI |" in text
    assert text.endswith("\n\nUser: again\nAI: ")
    other_session = _run(api, flow["id"], {"input_value": "new", "session_id": "fresh"})
    assert _answer(other_session) == "\n\nUser: new\nAI: "


def test_messages_are_stored_per_flow_and_session_and_deleted_with_the_flow(api):
    from flowless.http.auth import superuser_caller
    from flowless.store.messages import MessageRepository

    flow = upload_flow(api, "SimpleAPITest")
    _run(api, flow["id"], {"input_value": "one", "session_id": "s1"})
    user_id = superuser_caller().user_id
    stored = MessageRepository().history(user_id=user_id, flow_id=flow["id"], session_id="s1")
    assert [(m.fields["sender"], m.text) for m in stored] == [("User", "one"), ("Machine", "one")]
    assert api.delete("flows", f"/api/v1/flows/{flow['id']}").status_code == 200
    assert MessageRepository().history(user_id=user_id, flow_id=flow["id"], session_id="s1") == []


# ---- errors ----------------------------------------------------------------------------------------------

def test_unknown_flow_is_404_by_id_and_by_name(api):
    for ident in ("8b1ee0b5-0b6e-4f87-9d39-9c2b4c1a2a11", "no-such-endpoint"):
        reply = _run(api, ident, {"input_value": "x"})
        assert reply.status_code == 404
        assert reply.json() == {"detail": f"Flow identifier {ident} not found"}


def test_another_users_flow_is_404(api, make_account):
    alice, bob = make_account(), make_account()
    flow = upload_flow(api, "SimpleAPITest", account=alice)
    assert _run(api, flow["id"], {"input_value": "x"}, account=bob).status_code == 404
    assert _run(api, flow["id"], {"input_value": "x"}, account=alice).status_code == 200


@pytest.mark.parametrize("raw", [b"{not json", b'{"tweaks": 5}', b'{"input_type": "voice"}', b"[1, 2]"])
def test_bad_bodies_are_422(api, raw):
    flow = upload_flow(api, "SimpleAPITest")
    reply = _run(api, flow["id"], raw=raw)
    assert reply.status_code == 422
    assert isinstance(reply.json()["detail"], list)


def test_unsupported_component_is_422_naming_it(api):
    flow = upload_flow(api, "Simple Agent")
    reply = _run(api, flow["id"], {"input_value": "2+2?"})
    assert reply.status_code == 422
    assert "Unsupported component type: Agent" in reply.json()["detail"]


def test_embedded_code_is_never_executed(api):
    flow = upload_flow(api, "SimpleAPITest")
    poisoned = json.loads(json.dumps(flow["data"]))
    for node in poisoned["nodes"]:
        node["data"]["node"]["template"]["code"]["value"] = "raise SystemExit('ran user code')"
    api.patch("flows", f"/api/v1/flows/{flow['id']}", json={"data": poisoned})
    reply = _run(api, flow["id"], {"input_value": "safe", "tweaks": {"code": "import os"}})
    assert reply.status_code == 200 and _answer(reply) == "safe"


def test_catalog_lists_supported_components(api):
    reply = api.get("run", "/api/v1/all")
    assert reply.status_code == 200
    names = {name for category in reply.json().values() for name in category}
    assert {"ChatInput", "ChatOutput", "Prompt Template", "LanguageModelComponent", "Memory"} <= names


# ---- flows with a model, against the OpenAI-compatible stub ---------------------------------------------------

def test_basic_prompting_sends_langflow_system_prompt_and_input(api, llm_stub):
    flow = upload_flow(api, "Basic Prompting")
    llm_stub.enqueue(Reply.answer("Ahoy!"))
    reply = _run(api, flow["id"], {"input_value": "hello"},
                 headers={"X-LANGFLOW-GLOBAL-VAR-OPENAI_API_KEY": "sk-from-header"})
    assert reply.status_code == 200, reply.content
    assert _answer(reply) == "Ahoy!"
    sent = llm_stub.requests[-1]
    prompt = _fixture_node("Basic Prompting", "Prompt")["data"]["node"]["template"]["template"]["value"]
    assert sent.json["messages"] == [{"role": "system", "content": prompt}, {"role": "user", "content": "hello"}]
    assert sent.json["model"] == "gpt-4o-mini" and sent.json["temperature"] == 0.1
    assert sent.headers["authorization"] == "Bearer sk-from-header"
    source = reply.json()["outputs"][0]["outputs"][0]["results"]["message"]["properties"]["source"]
    assert source["id"].startswith("LanguageModelComponent-")


def test_legacy_openai_component_runs(api, llm_stub, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    path = next(FIXTURES.glob("langflow/legacy-1.4/Basic Prompting.json"))
    body, headers = multipart("file", "legacy.json", path.read_bytes())
    created = api.post("flows", "/api/v1/flows/upload/", body=body, headers=headers).json()[0]
    llm_stub.enqueue(Reply.answer("legacy ok"))
    reply = _run(api, created["id"], {"input_value": "hi"})
    assert reply.status_code == 200, reply.content
    assert _answer(reply) == "legacy ok"
    sent = llm_stub.requests[-1]
    assert sent.json["model"] == "gpt-4.1-mini" and sent.json["seed"] == 1
    assert sent.headers["authorization"] == "Bearer sk-env"


def test_memory_chatbot_sends_history_as_langflow_would(api, llm_stub, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    flow = upload_flow(api, "Memory Chatbot")
    llm_stub.enqueue(Reply.answer("Nice to meet you, Ada."), Reply.answer("You are Ada."))
    _run(api, flow["id"], {"input_value": "My name is Ada", "session_id": "s"})
    reply = _run(api, flow["id"], {"input_value": "What is my name?", "session_id": "s"})
    assert _answer(reply) == "You are Ada."
    first, second = llm_stub.requests[-2].json["messages"], llm_stub.requests[-1].json["messages"]
    assert "User: My name is Ada" not in first[0]["content"]
    assert "User: My name is Ada\nAI: Nice to meet you, Ada." in second[0]["content"]
    assert second[-1] == {"role": "user", "content": "What is my name?"}


def test_missing_api_key_is_a_clear_400(api, llm_stub):
    flow = upload_flow(api, "Basic Prompting")
    reply = _run(api, flow["id"], {"input_value": "hello"})
    assert reply.status_code == 400
    detail = json.loads(reply.json()["detail"])
    assert "Error building Component Language Model" in detail["message"]
    assert "OPENAI_API_KEY" in detail["message"]
    assert llm_stub.requests == []


def test_provider_failure_is_502_with_its_message(api, llm_stub, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value")
    flow = upload_flow(api, "Basic Prompting")
    llm_stub.enqueue(Reply.failure(401, "Incorrect API key provided"))
    reply = _run(api, flow["id"], {"input_value": "hello"})
    assert reply.status_code == 502
    assert "Incorrect API key provided" in reply.json()["detail"]
    assert "sk-secret-value" not in reply.content.decode()


def test_financial_report_parser_structured_output(api, llm_stub, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    flow = upload_flow(api, "Financial Report Parser")
    llm_stub.enqueue(Reply.answer(json.dumps(
        {"objects": [{"EBITDA": "900", "NET_INCOME": "500", "GROSS_PROFIT": "1200"}]})))
    reply = _run(api, flow["id"], {"input_value": "EBITDA 900, net income 500, gross profit 1200"})
    assert reply.status_code == 200, reply.content
    text = _answer(reply)
    assert "900" in text and "500" in text and "1200" in text
    sent = llm_stub.requests[-1].json
    assert sent["response_format"]["type"] == "json_schema"
    assert set(sent["response_format"]["json_schema"]["schema"]["properties"]["objects"]["items"]["properties"]) == {
        "EBITDA", "NET_INCOME", "GROSS_PROFIT"}


def test_sample_event_runs_a_flow_by_endpoint_name(api, invoke, load_event):
    """events/run_flow.json (also for `sam local invoke RunFunction -e`) runs the flow named echo-flow."""
    upload_flow(api, "SimpleAPITest", endpoint_name="echo-flow")
    reply = invoke("run", load_event("run_flow"))
    assert reply.status_code == 200, reply.content
    assert _answer(reply) == "Tell me about something interesting!"
    assert reply.json()["session_id"] == "chat-123"


def test_document_qa_reads_a_stored_file_given_by_tweak(api, llm_stub, monkeypatch):
    from flowless.http.auth import superuser_caller
    from flowless.store.files import FileRepository

    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    flow = upload_flow(api, "Document Q&A")
    path = f"{flow['id']}/report.txt"
    FileRepository().put(user_id=superuser_caller().user_id, path=path, content=b"Revenue grew 12% in Q3.")
    llm_stub.enqueue(Reply.answer("12%"))
    reply = _run(api, flow["id"], {"input_value": "How much did revenue grow?",
                                   "tweaks": {"File-b2gOG": {"path": [path]}}})
    assert reply.status_code == 200, reply.content
    assert _answer(reply) == "12%"
    system = llm_stub.requests[-1].json["messages"][0]["content"]
    assert "Revenue grew 12% in Q3." in system and system.startswith("Answer user's questions based on")


def test_document_qa_cannot_read_another_users_file(api, llm_stub, make_account, monkeypatch):
    from flowless.store.files import FileRepository

    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    alice, mallory = make_account(), make_account()
    flow = upload_flow(api, "Document Q&A", account=mallory)
    path = f"{flow['id']}/secret.txt"
    FileRepository().put(user_id=alice.user_id, path=path, content=b"alice's secret")
    reply = _run(api, flow["id"], {"input_value": "?", "tweaks": {"File-b2gOG": {"path": [path]}}},
                 account=mallory)
    assert reply.status_code == 400
    assert "File not found" in reply.json()["detail"]
    assert llm_stub.requests == []


@pytest.fixture
def web_page():
    """A local web page for URL components: its address."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<html><head><title>Guide</title></head><body><p>Flows are graphs.</p></body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/guide"
    server.shutdown()
    server.server_close()


def test_blog_writer_fetches_its_references_and_writes(api, llm_stub, web_page, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    flow = upload_flow(api, "Blog Writer")
    llm_stub.enqueue(Reply.answer("A blog post."))
    reply = _run(api, flow["id"], {"input_value": "Write about flows", "input_type": "text",
                                   "tweaks": {"URLComponent-DFXG5": {"urls": [web_page]}}})
    assert reply.status_code == 200, reply.content
    assert _answer(reply) == "A blog post."
    prompt = llm_stub.requests[-1].json["messages"][-1]["content"]
    assert "Text: " in prompt and "Flows are graphs." in prompt and "Write about flows" in prompt


def test_flow_requests_to_metadata_addresses_are_refused(api, llm_stub, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    flow = upload_flow(api, "Blog Writer")
    reply = _run(api, flow["id"], {"input_value": "x", "input_type": "text",
                                   "tweaks": {"URLComponent-DFXG5": {"urls": ["http://169.254.169.254/latest/meta-data/"]}}})
    assert reply.status_code == 400
    assert "169.254.169.254" in reply.json()["detail"]
    assert llm_stub.requests == []


def test_every_fixture_imports_and_runs_or_names_what_is_unsupported(api, llm_stub, web_page, monkeypatch):
    """The whole fixture set through upload and run: 200 against the stub, or a 4xx naming what is unsupported.
    Flows that read a file or a web page get a stored file and a local page by tweak, as a user would."""
    from flowless.http.auth import superuser_caller
    from flowless.store.files import FileRepository

    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    outcomes = {}
    for path in sorted(FIXTURES.glob("langflow/**/*.json")):
        body, headers = multipart("file", path.name, path.read_bytes())
        created = api.post("flows", "/api/v1/flows/upload/", body=body, headers=headers)
        assert created.status_code == 201, (path.name, created.content)
        flow_id = created.json()[0]["id"]
        request: dict = {"input_value": "hello"}
        if "Financial" in path.name:
            llm_stub.enqueue(Reply.answer(json.dumps({"objects": [{"EBITDA": "1", "NET_INCOME": "2",
                                                                   "GROSS_PROFIT": "3"}]})))
        if "Document" in path.name:
            stored = f"{flow_id}/doc.txt"
            FileRepository().put(user_id=superuser_caller().user_id, path=stored, content=b"A document.")
            request["tweaks"] = {"File-b2gOG": {"path": [stored]}}
        if "Blog" in path.name:
            request.update(input_type="text", tweaks={"URLComponent-DFXG5": {"urls": [web_page]}})
        reply = _run(api, flow_id, request)
        outcomes[str(path.relative_to(FIXTURES))] = reply.status_code
        if reply.status_code != 200:
            assert reply.status_code == 422 and "Unsupported component type" in reply.json()["detail"], reply.content
    assert outcomes == {name: (422 if "Simple Agent" in name else 200) for name in outcomes}
    assert len(outcomes) == 9
