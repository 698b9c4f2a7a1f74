"""File metadata: Langflow's naming rules, and records scoped by owner (against moto)."""

from __future__ import annotations

import pytest

from flowless.errors import NotFoundError
from flowless.store.file_records import FileRecord, FileRecordRepository, split_name, unique_name


@pytest.mark.parametrize(("filename", "expected"), [
    ("report.txt", ("report", ".txt")), ("noextension", ("noextension", "")),
    ("../../x.txt", ("../../x", ".txt")), ("archive.tar.gz", ("archive.tar", ".gz")),
    (".hidden", (".hidden", "")), ("odd.ext with space", ("odd.ext with space", "")),
])
def test_split_name_keeps_only_a_plain_extension(filename, expected):
    assert split_name(filename) == expected


def test_unique_name_numbers_past_the_highest_seen():
    assert unique_name("doc", set()) == "doc"
    assert unique_name("doc", {"doc"}) == "doc (1)"
    assert unique_name("doc", {"doc", "doc (1)", "doc (7)"}) == "doc (8)"
    assert unique_name("doc", {"other"}) == "doc"


def test_records_are_scoped_by_owner(aws):
    repo = FileRecordRepository()
    repo.add(FileRecord(id="f1", user_id="alice", name="n", path="alice/f1.txt", size=1, content_type="text/plain"))
    assert repo.get(user_id="alice", file_id="f1").name == "n"
    with pytest.raises(NotFoundError):
        repo.get(user_id="bob", file_id="f1")
    with pytest.raises(NotFoundError):
        repo.rename(user_id="bob", file_id="f1", name="stolen")
    assert repo.list(user_id="bob") == []


def test_registering_a_presigned_upload_twice_registers_it_once(aws):
    from flowless.langflow.files import register_upload, start_upload
    from flowless.store.files import FileRepository

    user = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    form = start_upload(user_id=user, name="data.txt", content_type="text/plain")
    repository = FileRepository()
    repository.s3.put_object(Bucket=repository.bucket, Key=f"uploads/{user}/{form['id']}", Body=b"landed")
    record = register_upload(user_id=user, file_id=form["id"])
    assert record is not None and record.size == 6 and record.name == "data"
    assert register_upload(user_id=user, file_id=form["id"]) is None
    assert repository.get(user_id=user, path=record.path) == b"landed"
    assert FileRecordRepository().list(user_id=user) == [record]
