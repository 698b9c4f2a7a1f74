"""Read File, URL and API Request: run through the engine against stored files (moto) and a local site."""

from __future__ import annotations

import asyncio
import copy
import json
import re
from typing import Any

import pytest

from flowless.components.data import APIRequest, File, URLComponent
from flowless.components.inputs_outputs import ChatOutput
from flowless.components.registry import default_registry
from flowless.engine.component import Component, Registry
from flowless.engine.context import RunContext, Services
from flowless.engine.graph import Vertex, parse_graph
from flowless.engine.run import RunRequest, prepare_graph, run_events
from flowless.engine.types import Data, DataFrame, Message

FOLDER = "6b1f0c2e-8d3a-4f5b-9c7d-0e1f2a3b4c5d"
REGISTRY = Registry.of([File, URLComponent, APIRequest, ChatOutput])


# ---- helpers ------------------------------------------------------------------------------------------


def _node(node_id: str, kind: str, template: dict[str, Any], outputs: list[str]) -> dict[str, Any]:
    return {"id": node_id, "data": {"id": node_id, "type": kind, "node": {
        "display_name": node_id, "template": template, "outputs": [{"name": o} for o in outputs]}}}


def _edge(source: str, output: str, target: str, field: str) -> dict[str, Any]:
    return {"source": source, "target": target,
            "data": {"sourceHandle": {"id": source, "name": output},
                     "targetHandle": {"id": target, "fieldName": field}}}


def _chat_output() -> dict[str, Any]:
    return _node("ChatOutput-1", "ChatOutput", {"input_value": {"type": "other", "value": ""}}, ["message"])


def _run(nodes: list[dict[str, Any]], edges: list[dict[str, Any]], services: Services,
         tweaks: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Run a graph through the engine; each vertex's outputs by vertex id, or the run's error raised."""
    graph = parse_graph({"nodes": nodes, "edges": edges}, REGISTRY, flow_id="flow-1")
    request = RunRequest(tweaks=tweaks)
    session_id = prepare_graph(graph, request, stream=False)
    ctx = RunContext(flow_id="flow-1", session_id=session_id, services=services)

    async def collect() -> list[Any]:
        return [event async for event in run_events(graph, registry=REGISTRY, ctx=ctx, request=request)]

    last = asyncio.run(collect())[-1]
    if last.kind == "error":
        raise last.data["exception"]
    return {v.id: v.results for v in last.data["result"].vertices}


def _component(cls: type[Component], services: Services, **params: Any) -> Any:
    vertex = Vertex(id=f"{cls.kind}-x", type=cls.kind, display_name=cls.display_name, template={},
                    outputs=[o.name for o in cls.outputs])
    ctx = RunContext(flow_id="flow-1", session_id="s", services=services)
    return cls(vertex=vertex, params=params, ctx=ctx)


def _call(component: Component, output: str) -> Any:
    return asyncio.run(getattr(component, component.output_method(output))())


def _request(services: Services | None = None, **params: Any) -> dict[str, Any]:
    """An API Request's answer (its Data's dict); loopback is allowed unless `services` says otherwise."""
    services = services or Services(allow_private_network=True)
    return _call(_component(APIRequest, services, **params), "data").data


class _Files:
    """An in-memory file reader, for tests that are not about storage."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.reads: list[str] = []

    def read(self, path: str) -> tuple[str, bytes]:
        from flowless.errors import NotFoundError

        self.reads.append(path)
        if path not in self.files:
            raise NotFoundError(f"File not found: {path.rpartition('/')[2]}")
        return path.rpartition("/")[2], self.files[path]


@pytest.fixture
def stored(aws):
    """A user's files in the real FileRepository (moto), and the reader a run gets for that user."""
    from flowless.store.files import FileRepository, UserFiles

    repo = FileRepository()

    def put(name: str, content: bytes, user_id: str = "user-1") -> str:
        path = f"{FOLDER}/{name}"
        repo.put(user_id=user_id, path=path, content=content)
        return path

    put.reader = lambda user_id="user-1": UserFiles(user_id, repo)  # type: ignore[attr-defined]
    return put


# ---- registry -----------------------------------------------------------------------------------------


def test_the_default_registry_has_the_data_components():
    registry = default_registry()
    for kind in ("File", "URLComponent", "URL", "APIRequest"):
        assert registry.supports(kind)
    assert registry.output_names("File")[0] == "message"
    assert registry.output_names("URLComponent") == ("page_results", "raw_results")


# ---- Read File ----------------------------------------------------------------------------------------


def test_document_qa_file_node_reads_a_stored_file_given_by_tweak(stored, fixture_flow):
    export = fixture_flow("Document Q&A")
    file_node = copy.deepcopy(next(n for n in export["data"]["nodes"] if n["data"]["type"] == "File"))
    path = stored("2024-12-30_15-19-43_manual.md", b"# Manual\n\nPress the button.\n")
    edge = _edge(file_node["id"], "message", "ChatOutput-1", "input_value")
    results = _run([file_node, _chat_output()], [edge], Services(files=stored.reader()),
                   tweaks={file_node["id"]: {"path": [path]}})
    assert results["ChatOutput-1"]["message"].text == "# Manual\n\nPress the button.\n"
    assert results[file_node["id"]]["message"].text == "# Manual\n\nPress the button.\n"


def test_files_are_joined_with_the_separator_and_rows_keep_their_paths(stored):
    first, second = stored("a.txt", b"alpha"), stored("b.csv", b"x,y\n1,2")
    template = {"path": {"type": "file", "value": "", "file_path": [first, second], "list": True},
                "separator": {"type": "str", "value": "\n---\n"}}
    results = _run([_node("File-1", "File", template, ["message", "dataframe"])], [],
                   Services(files=stored.reader()))
    assert results["File-1"]["message"].text == "alpha\n---\nx,y\n1,2"


def test_dataframe_data_and_json_outputs():
    first, second = f"{FOLDER}/a.txt", f"{FOLDER}/b.json"
    files = _Files({first: b"alpha", second: b'{"k": 1}'})
    component = _component(File, Services(files=files), path=[first, second])
    frame = _call(component, "dataframe")
    assert isinstance(frame, DataFrame)
    assert frame.rows == [{"text": "alpha", "file_path": first}, {"text": '{"k": 1}', "file_path": second}]
    assert [d.data for d in _call(component, "data")] == frame.rows
    assert _call(component, "json").data == {"text": 'alpha\n\n{"k": 1}', "file_path": [first, second]}
    assert files.reads == [first, second]  # every output of one build reads the files once
    single = _component(File, Services(files=files), path=first)
    assert _call(single, "json").data == {"text": "alpha", "file_path": first}


def test_a_file_path_edge_gives_paths_as_data_or_message():
    first, second = f"{FOLDER}/one.txt", f"{FOLDER}/two.txt"
    files = _Files({first: b"one", second: b"two"})
    component = _component(File, Services(files=files), path=[first],
                           file_path=[Data(data={"file_path": first}), Message(text=second)])
    assert _call(component, "message").text == "one\n\ntwo"  # a path named twice is read once


def test_data_without_a_file_path_fails_unless_ignored():
    files = _Files({})
    with pytest.raises(ValueError, match="missing 'file_path'"):
        _call(_component(File, Services(files=files), file_path=[Data(data={"text": "x"})]), "message")
    with pytest.raises(ValueError, match="No files to process"):
        _call(_component(File, Services(files=files), file_path=[Data(data={"text": "x"})],
                         ignore_unspecified_files=True), "message")


def test_another_users_file_is_not_found(stored):
    path = stored("private.txt", b"secret", user_id="owner")
    component = _component(File, Services(files=stored.reader("intruder")), path=[path])
    with pytest.raises(ValueError, match=re.escape("File not found: private.txt")):
        _call(component, "message")


def test_a_malformed_path_is_refused():
    from flowless.store.files import FileRepository, UserFiles

    # The path is refused before any storage call, so a repository without S3 will do.
    reader = UserFiles("user-1", FileRepository(s3=object(), bucket="unused"))
    component = _component(File, Services(files=reader), path=[f"{FOLDER}/../../etc/passwd.txt"])
    with pytest.raises(ValueError, match="Invalid file path"):
        _call(component, "message")


def test_undecodable_bytes_are_replaced_and_a_bom_dropped():
    files = _Files({f"{FOLDER}/x.txt": b"\xef\xbb\xbfcaf\xe9 ok"})
    component = _component(File, Services(files=files), path=f"{FOLDER}/x.txt")
    assert _call(component, "message").text == "caf\ufffd ok"


def test_unsupported_types_fail_clearly_without_being_read():
    files = _Files({f"{FOLDER}/photo.png": b"\x89PNG"})
    component = _component(File, Services(files=files), path=[f"{FOLDER}/photo.png"])
    with pytest.raises(ValueError, match=r"Unsupported file type: 'photo.png'.*Supported types: txt, md"):
        _call(component, "message")
    assert files.reads == []


def test_pdf_and_word_files_are_read():
    from tests.support import make_docx, make_pdf

    files = _Files({f"{FOLDER}/a.pdf": make_pdf("From the PDF"), f"{FOLDER}/b.docx": make_docx("From Word")})
    component = _component(File, Services(files=files), path=[f"{FOLDER}/a.pdf", f"{FOLDER}/b.docx"])
    assert _call(component, "message").text == "From the PDF\n\nFrom Word"


def test_silent_errors_skip_files_that_cannot_be_read():
    files = _Files({f"{FOLDER}/ok.txt": b"fine"})
    component = _component(File, Services(files=files), silent_errors=True,
                           path=[f"{FOLDER}/photo.png", f"{FOLDER}/gone.txt", f"{FOLDER}/ok.txt"])
    assert _call(component, "message").text == "fine"


def test_no_path_and_no_file_service_are_clear_errors():
    with pytest.raises(ValueError, match="No files to process"):
        _call(_component(File, Services(files=_Files({})), path=[]), "message")
    with pytest.raises(ValueError, match="Files are not available in this run"):
        _call(_component(File, Services(), path=[f"{FOLDER}/a.txt"]), "message")


def test_an_engine_error_names_the_component():
    template = {"path": {"type": "file", "value": "", "file_path": [], "list": True}}
    with pytest.raises(Exception, match="Error building Component File-1: No files to process") as excinfo:
        _run([_node("File-1", "File", template, ["message"])], [], Services(files=_Files({})))
    assert isinstance(excinfo.value.cause, ValueError)


# ---- URL ----------------------------------------------------------------------------------------------

LOCAL = Services(allow_private_network=True)


def test_blog_writer_url_node_fetches_a_page_with_its_headers(site, fixture_flow):
    export = fixture_flow("Blog Writer")
    url_node = copy.deepcopy(next(n for n in export["data"]["nodes"] if n["data"]["type"] == "URLComponent"))
    edge = _edge(url_node["id"], "raw_results", "ChatOutput-1", "input_value")
    results = _run([url_node, _chat_output()], [edge], LOCAL,
                   tweaks={url_node["id"]: {"urls": [site.url("/index.html")]}})
    frame = results[url_node["id"]]["page_results"]
    assert frame.rows == [{
        "text": "Welcome\nFirst paragraph with a line break.\nAbout Post Mail Elsewhere Logo",
        "url": site.url("/index.html"), "title": "Home page", "description": "The home of the test site",
        "content_type": "text/html", "language": "en",
    }]
    assert results["ChatOutput-1"]["message"].text == frame.rows[0]["text"]
    assert [s["user_agent"] for s in site.seen] == ["langflow"]  # the fixture's header table


def test_depth_two_follows_same_site_links_once(site):
    component = _component(URLComponent, LOCAL, urls=[site.url("/index.html")], max_depth=2)
    urls = [row["url"] for row in _call(component, "page_results").rows]
    # The image is skipped (not text), the other origin and mailto: are not followed, the fragment is dropped.
    assert urls == [site.url("/index.html"), site.url("/about.html"), site.url("/blog/post.html")]
    assert _call(component, "raw_results").text.count("\n\n") == 2
    assert len(site.seen) == 4  # both outputs come from one crawl: index, about, post, logo


def test_depth_three_reaches_pages_two_links_away(site):
    component = _component(URLComponent, LOCAL, urls=[site.url("/index.html")], max_depth=3)
    urls = [row["url"] for row in _call(component, "page_results").rows]
    assert urls[-1] == site.url("/deep.html") and len(urls) == len(set(urls)) == 4


def test_prevent_outside_off_follows_other_origins(site):
    component = _component(URLComponent, LOCAL, urls=[site.url("/index.html")], max_depth=2,
                           prevent_outside=False)
    urls = [row["url"] for row in _call(component, "page_results").rows]
    assert f"http://localhost:{site.port}/elsewhere.html" in urls


def test_a_crawl_stops_at_the_page_cap(site, monkeypatch):
    from flowless.components import data

    monkeypatch.setattr(data, "MAX_CRAWL_PAGES", 2)
    component = _component(URLComponent, LOCAL, urls=[site.url("/index.html")], max_depth=3)
    assert len(_call(component, "page_results").rows) == 2
    assert len(site.seen) == 2


def test_an_oversized_response_is_refused(site, monkeypatch):
    from flowless.components import data

    monkeypatch.setattr(data, "MAX_RESPONSE_BYTES", 10)
    with pytest.raises(ValueError, match="larger than"):
        _request(url_input=site.url("/data.json"))


def test_html_format_keeps_the_markup_and_json_pages_stay_as_text(site):
    html = _call(_component(URLComponent, LOCAL, urls=[site.url("/index.html")], format="HTML"),
                 "page_results")
    assert html.rows[0]["text"].startswith("<!doctype html>") and html.rows[0]["title"] == "Home page"
    data = _call(_component(URLComponent, LOCAL, urls=site.url("/data.json")), "page_results")
    assert data.rows[0]["text"] == '{"hello": "world", "n": 1}'
    assert data.rows[0]["content_type"] == "application/json"


def test_a_url_without_a_scheme_gets_https():
    component = _component(URLComponent, Services(), urls=["169.254.169.254/latest"])
    with pytest.raises(ValueError, match=r"https://169\.254\.169\.254/latest refused"):
        _call(component, "page_results")


def test_loopback_is_refused_unless_private_networks_are_allowed(site):
    component = _component(URLComponent, Services(), urls=[site.url("/index.html")])
    refused = r"Could not fetch any URL: Request to http://127\.0\.0\.1:\d+/index\.html refused: .*loopback"
    with pytest.raises(ValueError, match=refused):
        _call(component, "page_results")
    assert site.seen == []


def test_a_redirect_to_the_metadata_service_is_refused_even_on_a_private_network(site):
    component = _component(URLComponent, LOCAL, urls=[site.url("/to-metadata")])
    with pytest.raises(ValueError, match=r"/to-metadata refused: .*169\.254\.169\.254.*cloud metadata"):
        _call(component, "page_results")


def test_failures_are_skipped_when_another_url_works(site):
    component = _component(URLComponent, LOCAL, urls=[site.url("/to-metadata"), site.url("/plain.txt")])
    assert [r["text"] for r in _call(component, "page_results").rows] == ["just text"]


def test_without_continue_on_failure_the_first_failure_fails_the_run(site):
    component = _component(URLComponent, LOCAL, urls=[site.url("/to-metadata"), site.url("/plain.txt")],
                           continue_on_failure=False)
    with pytest.raises(ValueError, match="refused"):
        _call(component, "page_results")


def test_check_response_status_treats_404_as_a_failure(site):
    kept = _call(_component(URLComponent, LOCAL, urls=[site.url("/missing")]), "page_results")
    assert kept.rows[0]["text"] == '{"detail": "Not found"}'
    checked = _component(URLComponent, LOCAL, urls=[site.url("/missing")], check_response_status=True)
    with pytest.raises(ValueError, match="HTTP status 404"):
        _call(checked, "page_results")


def test_several_urls_in_one_text_and_no_urls(site):
    component = _component(URLComponent, LOCAL, urls=f"{site.url('/plain.txt')}, {site.url('/data.json')}")
    assert len(_call(component, "page_results").rows) == 2
    with pytest.raises(ValueError, match="No URLs provided"):
        _call(_component(URLComponent, LOCAL, urls=[]), "page_results")


# ---- API Request --------------------------------------------------------------------------------------


def test_get_returns_the_json_body(site):
    assert _request(url_input=site.url("/data.json")) == {"hello": "world", "n": 1}


def test_non_object_json_and_text_are_wrapped_in_result(site):
    assert _request(url_input=site.url("/list.json")) == {"result": [1, 2, 3]}
    assert _request(url_input=site.url("/plain.txt")) == {"result": "just text"}
    assert _request(url_input=site.url("/logo.png")) == {"result": "<binary content: 8 bytes of image/png>"}


def test_post_sends_the_body_table_query_params_and_headers(site):
    component = _component(
        APIRequest, LOCAL, url_input=Message(text=site.url("/echo?a=1")), method="POST",
        query_params=Data(data={"b": 2}), body=[{"key": "name", "value": "x"}, {"key": "n", "value": "3"}],
        headers=[{"key": "X-Token", "value": "secret"}], include_httpx_metadata=True,
    )
    result = _call(component, "data").data
    assert result["method"] == "POST" and result["query"] == {"a": ["1"], "b": ["2"]}
    assert json.loads(result["body"]) == {"name": "x", "n": 3}
    assert result["content_type"] == "application/json" and result["x_token"] == "secret"
    assert result["source"] == site.url("/echo?a=1&b=2") and result["status_code"] == 200
    assert result["response_headers"]["x-echo"] == "yes"
    assert "secret" not in json.dumps({k: v for k, v in result.items() if k != "x_token"})


def test_body_as_a_json_string_or_dict_and_ignored_on_get(site):
    posted = _request(url_input=site.url("/echo"), method="PUT", body='{"a": [1]}')
    assert json.loads(posted["body"]) == {"a": [1]}
    got = _request(url_input=site.url("/echo"), body={"a": 1})
    assert got["body"] == "" and got["method"] == "GET"


def test_an_error_status_still_returns_the_body(site):
    component = _component(APIRequest, LOCAL, url_input=site.url("/missing"), include_httpx_metadata=True)
    assert _call(component, "data").data["detail"] == "Not found"
    assert _call(component, "data").data["status_code"] == 404


def test_redirects_are_followed_and_checked(site):
    assert _request(url_input=site.url("/to-data"))["hello"] == "world"
    with pytest.raises(ValueError, match=r"refused: .*169\.254\.169\.254"):
        _request(url_input=site.url("/to-metadata"))
    not_followed = _request(url_input=site.url("/to-metadata"), follow_redirects=False,
                            include_httpx_metadata=True)
    assert not_followed["status_code"] == 302


def test_loopback_is_refused_when_private_networks_are_not_allowed(site):
    with pytest.raises(ValueError, match=r"http://127\.0\.0\.1:\d+/data\.json refused: .*loopback"):
        _request(Services(), url_input=site.url("/data.json"))
    assert site.seen == []


def test_a_connection_failure_is_returned_as_data(site):
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = _request(url_input=f"http://127.0.0.1:{port}/")
    assert result["status_code"] == 500 and result["source"] == f"http://127.0.0.1:{port}/"
    assert result["error"]


@pytest.mark.parametrize(("params", "message"), [
    ({"mode": "cURL", "curl_input": "curl http://x"}, "cURL mode is not supported; use URL mode"),
    ({"url_input": "http://x", "save_to_file": True}, "Saving the response to a file is not supported"),
    ({"url_input": ""}, "No URL provided"),
])
def test_unsupported_options_fail_clearly(params, message):
    with pytest.raises(ValueError, match=message):
        _request(Services(), **params)


def test_api_request_runs_in_a_graph(site):
    template = {"url_input": {"type": "str", "value": site.url("/data.json")},
                "method": {"type": "str", "value": "GET"}, "headers": {"type": "table", "value": []}}
    results = _run([_node("APIRequest-1", "APIRequest", template, ["data"])], [], LOCAL)
    assert results["APIRequest-1"]["data"].data == {"hello": "world", "n": 1}
