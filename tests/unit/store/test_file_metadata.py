"""File metadata: Langflow's naming rules, and records scoped by owner (against moto)."""

from __future__ import annotations

import uuid

import pytest

from flowless.errors import ConflictError, NotFoundError
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


def _file(user_id: str, name: str, file_id: str | None = None) -> FileRecord:
    file_id = file_id or uuid.uuid4().hex
    return FileRecord(id=file_id, user_id=user_id, name=name, path=f"{user_id}/{file_id}.txt", size=1,
                      content_type="text/plain", extension=".txt")


def _claim_holder(repo: FileRecordRepository, user_id: str, name: str) -> str | None:
    claim = repo.table.get(f"USER#{user_id}", f"FILENAME#{name}")
    return claim["file_id"] if claim else None


def test_two_adds_racing_for_one_name_get_distinct_names(aws, monkeypatch):
    # GIVEN a second upload whose read of the taken names runs before the first upload writes
    repo, user = FileRecordRepository(), uuid.uuid4().hex
    first, second = _file(user, "x"), _file(user, "x")
    read_names = FileRecordRepository.names
    raced = False

    def names_read_before_the_racer_writes(self, *, user_id):
        nonlocal raced
        taken = read_names(self, user_id=user_id)
        if not raced:
            raced = True
            repo.add(first)  # the racer reads and writes in full between our read and our write
        return taken

    monkeypatch.setattr(FileRecordRepository, "names", names_read_before_the_racer_writes)
    # WHEN it is added
    added = FileRecordRepository().add(second)
    # THEN the one that wrote first keeps the name and the other gets the next one
    assert (first.name, added.name) == ("x", "x (1)")
    assert sorted(r.name for r in repo.list(user_id=user)) == ["x", "x (1)"]
    assert _claim_holder(repo, user, "x") == first.id
    assert _claim_holder(repo, user, "x (1)") == second.id


def test_a_claim_left_behind_by_another_file_counts_as_taken(aws):
    repo, user = FileRecordRepository(), uuid.uuid4().hex
    # A claim whose file is gone, and one whose file no longer has that name (its release failed).
    repo.table.put({"PK": f"USER#{user}", "SK": "FILENAME#x", "file_id": "gone"})
    renamed = repo.add(_file(user, "other"))
    repo.table.put({"PK": f"USER#{user}", "SK": "FILENAME#x (1)", "file_id": renamed.id})
    assert repo.add(_file(user, "x")).name == "x (2)"


def test_add_gives_up_with_a_conflict_error_when_every_name_it_tries_is_claimed(aws):
    repo, user = FileRecordRepository(), uuid.uuid4().hex
    for name in ["x"] + [f"x ({n})" for n in range(1, 20)]:
        repo.table.put({"PK": f"USER#{user}", "SK": f"FILENAME#{name}", "file_id": "gone"})
    with pytest.raises(ConflictError):
        repo.add(_file(user, "x"))
    assert repo.list(user_id=user) == []


def test_adding_a_file_id_twice_is_a_conflict_error(aws):
    repo, user = FileRecordRepository(), uuid.uuid4().hex
    repo.add(_file(user, "x", file_id="f1"))
    with pytest.raises(ConflictError):
        repo.add(_file(user, "y", file_id="f1"))
    assert [r.name for r in repo.list(user_id=user)] == ["x"]


def test_a_name_too_long_for_a_sort_key_is_claimed_by_its_digest(aws):
    repo, user = FileRecordRepository(), uuid.uuid4().hex
    long_name = "ü" * 1024
    names = [repo.add(_file(user, long_name)).name for _ in range(2)]
    assert names == [long_name, f"{long_name} (1)"]
    claims = list(repo.table.query_prefix(f"USER#{user}", "FILENAMEHASH#"))
    assert len(claims) == 2


def test_rename_moves_the_files_claim_to_the_new_name(aws):
    repo, user = FileRecordRepository(), uuid.uuid4().hex
    record = repo.add(_file(user, "x"))
    renamed = repo.rename(user_id=user, file_id=record.id, name="y")
    assert renamed.name == "y" and repo.get(user_id=user, file_id=record.id).name == "y"
    assert _claim_holder(repo, user, "x") is None and _claim_holder(repo, user, "y") == record.id
    assert repo.add(_file(user, "x")).name == "x"


def test_rename_to_a_taken_name_keeps_the_name_and_leaves_the_other_files_claim(aws):
    repo, user = FileRecordRepository(), uuid.uuid4().hex
    holder, mover = repo.add(_file(user, "x")), repo.add(_file(user, "y"))
    assert repo.rename(user_id=user, file_id=mover.id, name="x").name == "x"
    assert _claim_holder(repo, user, "x") == holder.id and _claim_holder(repo, user, "y") is None
    # Moving away from "x" again must not release the holder's claim either.
    repo.rename(user_id=user, file_id=mover.id, name="z")
    assert _claim_holder(repo, user, "x") == holder.id and _claim_holder(repo, user, "z") == mover.id


def test_rename_stands_when_moving_the_claim_fails(aws, monkeypatch):
    from botocore.exceptions import ClientError

    repo, user = FileRecordRepository(), uuid.uuid4().hex
    record = repo.add(_file(user, "x"))

    def throttled(**kwargs):
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                          "TransactWriteItems")

    monkeypatch.setattr(repo.table.client, "transact_write_items", throttled)
    monkeypatch.setattr(repo.table.client, "put_item", throttled)
    assert repo.rename(user_id=user, file_id=record.id, name="y").name == "y"
    assert repo.get(user_id=user, file_id=record.id).name == "y"
    assert _claim_holder(repo, user, "x") == record.id


def test_remove_releases_only_the_files_own_claim(aws):
    repo, user = FileRecordRepository(), uuid.uuid4().hex
    holder, twin = repo.add(_file(user, "x")), repo.add(_file(user, "y"))
    repo.rename(user_id=user, file_id=twin.id, name="x")
    repo.remove(user_id=user, file_id=twin.id)
    assert _claim_holder(repo, user, "x") == holder.id
    repo.remove(user_id=user, file_id=holder.id)
    assert _claim_holder(repo, user, "x") is None
    assert repo.add(_file(user, "x")).name == "x"


def test_presigned_uploads_racing_for_one_name_are_registered_under_distinct_names(aws, monkeypatch):
    from flowless.langflow.files import register_upload, start_upload
    from flowless.store.files import FileRepository

    user, repository = str(uuid.uuid4()), FileRepository()
    forms = [start_upload(user_id=user, name="data.txt", content_type="text/plain") for _ in range(2)]
    for form in forms:
        repository.s3.put_object(Bucket=repository.bucket, Key=f"uploads/{user}/{form['id']}", Body=b"landed")
    first = register_upload(user_id=user, file_id=forms[0]["id"])
    # The second registration read the names before the first one wrote.
    read_names = FileRecordRepository.names
    pending = [set()]
    monkeypatch.setattr(FileRecordRepository, "names",
                        lambda self, *, user_id: pending.pop() if pending else read_names(self, user_id=user_id))
    second = register_upload(user_id=user, file_id=forms[1]["id"])
    assert first is not None and second is not None
    assert (first.name, second.name) == ("data", "data (1)")
