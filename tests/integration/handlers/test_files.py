"""Langflow's file APIs through the files function: v2 (per user) and v1 (per flow), as Langflow's own tests
use them."""

from __future__ import annotations

import io
import os
import re
import zipfile

from flowless.settings import get_settings
from tests.support import multipart, upload_flow

FN = "files"


def _upload(api, account, name: str, content: bytes, content_type: str = "text/plain"):
    body, headers = multipart("file", name, content, content_type)
    return api.post(FN, "/api/v2/files", body=body, headers=headers, account=account)


def test_v2_upload_download_is_byte_identical_and_keeps_the_content_type(api, make_account):
    alice = make_account()
    content = "héllo wörld\n".encode() + bytes(range(256))
    reply = _upload(api, alice, "test.bin", content, "application/x-custom")
    assert reply.status_code == 201, reply.content
    created = reply.json()
    assert set(created) == {"id", "name", "path", "size", "provider"}
    assert created["name"] == "test" and created["size"] == len(content) and created["provider"] is None
    assert created["path"] == f"{alice.user_id}/{created['id']}.bin"
    download = api.get(FN, f"/api/v2/files/{created['id']}", account=alice)
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["content-type"].startswith("application/x-custom")
    assert 'filename="test.bin"' in download.headers["content-disposition"]


def test_v2_list_rename_and_delete(api, make_account):
    alice = make_account()
    ids = [_upload(api, alice, f"f{i}.txt", b"x").json()["id"] for i in range(3)]
    listed = api.get(FN, "/api/v2/files", account=alice).json()
    assert len(listed) == 3
    assert {"id", "user_id", "name", "path", "size", "provider", "created_at", "updated_at"} <= set(listed[0])
    renamed = api.request(FN, "PUT", f"/api/v2/files/{ids[0]}", account=alice, query={"name": "potato.txt"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "potato.txt"
    assert renamed.json()["path"] == listed[0]["path"]
    deleted = api.delete(FN, f"/api/v2/files/{ids[1]}", account=alice)
    assert deleted.json() == {"detail": "File f1 deleted successfully"}
    assert len(api.get(FN, "/api/v2/files/", account=alice).json()) == 2
    assert api.get(FN, f"/api/v2/files/{ids[1]}", account=alice).status_code == 404
    assert api.delete(FN, "/api/v2/files", account=alice).json() == {"message": "All files deleted successfully"}
    assert api.get(FN, "/api/v2/files", account=alice).json() == []


def test_v2_duplicate_names_are_numbered(api, make_account):
    alice = make_account()
    names = [_upload(api, alice, n, b"x").json()["name"]
             for n in ("duplicate.txt", "duplicate.txt", "duplicate.txt", "noextension", "noextension",
                       "document.txt", "document.pdf")]
    assert names == ["duplicate", "duplicate (1)", "duplicate (2)", "noextension", "noextension (1)",
                     "document", "document (1)"]


def _names_stale_once(monkeypatch, stale: set[str]) -> None:
    """The next read of a user's file names answers `stale`, as if it ran before another upload's write."""
    from flowless.store.file_records import FileRecordRepository

    read_names = FileRecordRepository.names
    pending = [stale]

    def names(self, *, user_id):
        return pending.pop() if pending else read_names(self, user_id=user_id)

    monkeypatch.setattr(FileRecordRepository, "names", names)


def test_v2_uploads_racing_for_one_name_get_distinct_names(api, make_account, monkeypatch):
    # GIVEN a second upload of "x.txt" that read the taken names before the first upload wrote its record
    alice = make_account()
    first = _upload(api, alice, "x.txt", b"first").json()
    _names_stale_once(monkeypatch, set())
    # WHEN it is stored
    second = _upload(api, alice, "x.txt", b"second")
    # THEN it still gets the next name
    assert second.status_code == 201, second.content
    assert (first["name"], second.json()["name"]) == ("x", "x (1)")
    listed = api.get(FN, "/api/v2/files", account=alice).json()
    assert sorted(f["name"] for f in listed) == ["x", "x (1)"]


def test_v2_a_renamed_or_deleted_files_name_is_free_again(api, make_account):
    alice = make_account()
    renamed = _upload(api, alice, "a.txt", b"a").json()
    api.request(FN, "PUT", f"/api/v2/files/{renamed['id']}", account=alice, query={"name": "b"})
    assert _upload(api, alice, "a.txt", b"a").json()["name"] == "a"
    deleted = _upload(api, alice, "c.txt", b"c").json()
    api.delete(FN, f"/api/v2/files/{deleted['id']}", account=alice)
    assert _upload(api, alice, "c.txt", b"c").json()["name"] == "c"


def test_v2_hostile_names_are_metadata_and_served_back_as_given(api, make_account):
    alice = make_account()
    for name in ("../../x.txt", "/etc/passwd", "résumé 📄.md", "n" * 600 + ".txt"):
        reply = _upload(api, alice, name, name.encode())
        assert reply.status_code == 201, reply.content
        created = reply.json()
        assert created["name"] == name.rpartition(".")[0] or created["name"] == name
        assert re.fullmatch(rf"{alice.user_id}/{created['id']}(\.\w+)?", created["path"])
        assert api.get(FN, f"/api/v2/files/{created['id']}", account=alice).content == name.encode()


def test_v2_files_are_isolated_between_users(api, make_account):
    alice, bob = make_account(), make_account()
    file_id = _upload(api, alice, "secret.txt", b"alice").json()["id"]
    assert api.get(FN, "/api/v2/files", account=bob).json() == []
    assert api.get(FN, f"/api/v2/files/{file_id}", account=bob).status_code == 404
    assert api.delete(FN, f"/api/v2/files/{file_id}", account=bob).status_code == 404
    assert api.request(FN, "PUT", f"/api/v2/files/{file_id}", account=bob, query={"name": "x"}).status_code == 404
    assert api.request(FN, "DELETE", "/api/v2/files/batch/", account=bob, json=[file_id]).status_code == 404
    assert api.get(FN, f"/api/v2/files/{file_id}", account=alice).content == b"alice"


def test_v2_batch_download_and_delete(api, make_account):
    alice = make_account()
    ids = [_upload(api, alice, f"b{i}.txt", f"body {i}".encode()).json()["id"] for i in range(2)]
    archive = api.post(FN, "/api/v2/files/batch/", account=alice, json=ids)
    assert archive.status_code == 200
    with zipfile.ZipFile(io.BytesIO(archive.content)) as zipped:
        assert sorted(zipped.namelist()) == ["b0.txt", "b1.txt"]
        assert zipped.read("b1.txt") == b"body 1"
    reply = api.request(FN, "DELETE", "/api/v2/files/batch/", account=alice, json=ids)
    assert reply.json() == {"message": "2 files deleted successfully"}
    assert api.get(FN, "/api/v2/files", account=alice).json() == []


def test_upload_over_the_limit_is_413_in_langflow_words(api, make_account):
    alice = make_account()
    os.environ["FLOWLESS_MAX_FILE_SIZE_UPLOAD"] = "1"
    get_settings.cache_clear()
    body, headers = multipart("file", "large_file.txt", b"x" * (1024 * 1024 + 1024), "text/plain")
    reply = api.post(FN, "/api/v2/files", body=body, account=alice,
                     headers={**headers, "content-length": str(len(body))})
    assert reply.status_code == 413
    assert reply.json()["detail"].startswith("Content size limit exceeded. Maximum allowed is 1MB and got 1.00")
    # Without a Content-Length the file itself is measured.
    reply = api.post(FN, "/api/v2/files", body=body, headers=headers, account=alice)
    assert reply.status_code == 413
    assert api.get(FN, "/api/v2/files", account=alice).json() == []


def test_v1_upload_list_download_delete(api, make_account):
    alice = make_account()
    flow = upload_flow(api, "Document Q&A", account=alice)
    body, headers = multipart("file", "test.txt", b"v1 content", "text/plain")
    reply = api.post(FN, f"/api/v1/files/upload/{flow['id']}", body=body, headers=headers, account=alice)
    assert reply.status_code == 201, reply.content
    assert reply.json()["flowId"] == flow["id"]
    path = reply.json()["file_path"]
    assert re.fullmatch(rf"{flow['id']}/\d{{4}}-\d{{2}}-\d{{2}}_\d{{2}}-\d{{2}}-\d{{2}}_test\.txt", path)
    stored = path.rpartition("/")[2]
    assert api.get(FN, f"/api/v1/files/list/{flow['id']}", account=alice).json() == {"files": [stored]}
    download = api.get(FN, f"/api/v1/files/download/{flow['id']}/{stored}", account=alice)
    assert download.status_code == 200 and download.content == b"v1 content"
    deleted = api.delete(FN, f"/api/v1/files/delete/{flow['id']}/{stored}", account=alice)
    assert deleted.json() == {"message": f"File {stored} deleted successfully"}
    assert api.get(FN, f"/api/v1/files/list/{flow['id']}", account=alice).json() == {"files": []}


def test_v1_needs_the_callers_own_flow(api, make_account):
    alice, bob = make_account(), make_account()
    flow = upload_flow(api, "Document Q&A", account=alice)
    body, headers = multipart("file", "x.txt", b"x", "text/plain")
    reply = api.post(FN, f"/api/v1/files/upload/{flow['id']}", body=body, headers=headers, account=bob)
    assert reply.status_code == 404 and reply.json() == {"detail": "Flow not found"}
    assert api.get(FN, f"/api/v1/files/list/{flow['id']}", account=bob).status_code == 404


def test_v1_hostile_name_stays_one_segment(api, make_account):
    alice = make_account()
    flow = upload_flow(api, "Document Q&A", account=alice)
    body, headers = multipart("file", "../../x.txt", b"x", "text/plain")
    path = api.post(FN, f"/api/v1/files/upload/{flow['id']}", body=body, headers=headers,
                    account=alice).json()["file_path"]
    folder, _, stored = path.partition("/")
    assert folder == flow["id"] and "/" not in stored and ".." not in stored


def _run(api, flow_id, payload, account=None):
    return api.post("run", f"/api/v1/run/{flow_id}", json=payload, account=account)


def test_document_qa_reads_a_v2_file_by_path_and_by_id(api, llm_stub, make_account, monkeypatch):
    from tests.stubs.openai_stub import Reply

    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    alice = make_account()
    flow = upload_flow(api, "Document Q&A", account=alice)
    created = _upload(api, alice, "report.md", b"Revenue grew 12% in Q3.").json()
    for reference in (created["path"], created["id"]):
        llm_stub.enqueue(Reply.answer("12%"))
        reply = _run(api, flow["id"], {"input_value": "How much did revenue grow?",
                                       "tweaks": {"File-b2gOG": {"path": [reference]}}}, account=alice)
        assert reply.status_code == 200, reply.content
        assert "Revenue grew 12% in Q3." in llm_stub.requests[-1].json["messages"][0]["content"]


def test_document_qa_reads_a_v1_file(api, llm_stub, make_account, monkeypatch):
    from tests.stubs.openai_stub import Reply

    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    alice = make_account()
    flow = upload_flow(api, "Document Q&A", account=alice)
    body, headers = multipart("file", "notes.csv", b"quarter,growth\nQ3,12%\n", "text/csv")
    path = api.post(FN, f"/api/v1/files/upload/{flow['id']}", body=body, headers=headers,
                    account=alice).json()["file_path"]
    llm_stub.enqueue(Reply.answer("12%"))
    reply = _run(api, flow["id"], {"input_value": "?", "tweaks": {"File-b2gOG": {"path": [path]}}}, account=alice)
    assert reply.status_code == 200, reply.content
    assert "Q3,12%" in llm_stub.requests[-1].json["messages"][0]["content"]


def test_document_qa_reads_an_uploaded_pdf(api, llm_stub, make_account, monkeypatch):
    from tests.stubs.openai_stub import Reply
    from tests.support import make_pdf

    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    alice = make_account()
    flow = upload_flow(api, "Document Q&A", account=alice)
    created = _upload(api, alice, "annual report.pdf", make_pdf("Net income was 5 million")).json()
    llm_stub.enqueue(Reply.answer("5 million"))
    reply = _run(api, flow["id"], {"input_value": "Net income?", "tweaks": {"File-b2gOG": {"path": [created["id"]]}}},
                 account=alice)
    assert reply.status_code == 200, reply.content
    assert "Net income was 5 million" in llm_stub.requests[-1].json["messages"][0]["content"]
